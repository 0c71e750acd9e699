//! The examples' key claims, on shortened runs.

#[path = "../examples/xor.rs"]
#[allow(dead_code)]
mod xor;

#[test]
fn xor_is_learned_by_gradient_descent() {
    let (net, history) = xor::train(7, 600, 2.0);
    assert!(history[0] > 0.2, "starts near chance: {}", history[0]);
    let last = *history.last().unwrap();
    assert!(last < 0.01, "mse after 600 steps: {last}");
    for (x, t) in xor::INPUTS.iter().zip(&xor::TARGETS) {
        let y = net.predict(x)[0];
        assert!((y - t[0]).abs() < 0.2, "{x:?} -> {y}, want {}", t[0]);
    }
}
