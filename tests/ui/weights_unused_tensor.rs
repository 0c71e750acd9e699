// W1's file has three dense layers; this declaration has two.
staticnet::network_with_weights! {
    #[weights = "../fixtures/w1.safetensors"]
    struct Short(2 -> 16) {
        Dense<16>, Tanh, Dense<16>,
    }
}

static NET: Short = Short::BAKED;

fn main() {
    let _ = NET.predict(&[0.0, 1.0]);
}
