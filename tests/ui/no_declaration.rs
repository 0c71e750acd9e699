staticnet::network! {}

fn main() {}
