staticnet::network_with_weights! {
    struct W1(2 -> 1) {
        Dense<16>, Tanh, Dense<16>, Tanh, Dense<1>,
    }
}

static NET: W1 = W1::BAKED;

fn main() {
    let _ = NET.predict(&[0.0, 1.0]);
}
