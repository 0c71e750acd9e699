staticnet::network! {
    #[fast_math(always)]
    struct Net(4 -> 2) {
        Dense<8>, Relu, Dense<2>,
    }
}

fn main() {
    let n: Net = Net::seeded(1);
    let _ = n.predict(&[0.0; 4]);
}
