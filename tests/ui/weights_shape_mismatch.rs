// W1's file, with the second hidden layer declared 8 wide instead of 16.
staticnet::network_with_weights! {
    #[weights = "../fixtures/w1.safetensors"]
    struct W1(2 -> 1) {
        Dense<16>, Tanh, Dense<8>, Tanh, Dense<1>,
    }
}

static NET: W1 = W1::BAKED;

fn main() {
    let _ = NET.predict(&[0.0, 1.0]);
}
