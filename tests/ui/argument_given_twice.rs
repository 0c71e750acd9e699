staticnet::network! {
    struct Net(4 -> 2) {
        Dense<8>, Softplus(beta = 2.0, beta = 3.0), Dense<2>,
    }
}

fn main() {
    let n: Net = Net::seeded(1);
    let _ = n.predict(&[0.0; 4]);
}
