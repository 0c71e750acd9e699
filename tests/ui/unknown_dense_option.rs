staticnet::network! {
    struct Net(4 -> 2) {
        Dense<4, foo = 1>, Relu, Dense<2>,
    }
}

fn main() {
    let n: Net = Net::seeded(1);
    let _ = n.predict(&[0.0; 4]);
}
