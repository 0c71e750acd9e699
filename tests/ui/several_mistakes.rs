const HIDDEN: usize = 8;

staticnet::network! {
    /// Every mistake below is reported in one compile.
    #[static_kernels(always)]
    struct Net(4 -> 2) {
        Dense<8>, Relu(0.5),
        Residual { Dense<16>, Tahn },
        Dense<HIDDEN, bias = no>,
        Softplus(beta = -1.0),
        Dense<3>,
    }
}

fn main() {
    let n: Net = Net::seeded(1);
    let _ = n.predict(&[0.0; 4]);
}
