staticnet::network! {
    /// A small classifier.
    pub struct Mlp(64 -> 10) {
        Dense<128>, Relu,
        Dense<64>, LeakyRelu(0.01),
        Residual { Dense<64>, Tanh, Dense<64> },
        Relu,
        Dense<10>,
    }
}

#[test]
fn smoke() {
    let net: Mlp = Mlp::seeded(42);
    let mut grads: Mlp = Mlp::zeroed();
    let mut tape: MlpTape<f32, 4> = MlpTape::new();
    let input = [[0.5f32; 64]; 4];
    let output = *net.forward(&input, &mut tape);
    let grad_output = [[0.1f32; 10]; 4];
    net.backward(&mut tape, &grad_output, &mut grads).unwrap();
    let mut again = [[0.0f32; 10]; 4];
    net.infer(&input, &mut again);
    assert_eq!(again, output);
    println!("{:?}", output[0]);
}
