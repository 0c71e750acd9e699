//! XOR, the classic problem a single layer cannot solve, learned by a
//! two-layer network with plain full-batch gradient descent.
//!
//! The whole training step is written out here: forward, the gradient of
//! the mean squared error, backward, and the update `θ ← θ − η·∇θ`. (The
//! library's optimizers do the last step for you; here it is one line.)
//!
//! Run: `cargo run --release --example xor`

use staticnet::network;

network! {
    /// 2 inputs, 8 tanh hidden units, 1 sigmoid output.
    pub struct Xor(2 -> 1) {
        Dense<8>, Tanh,
        Dense<1>, Sigmoid,
    }
}

/// The four XOR cases and their targets.
pub const INPUTS: [[f64; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// `a XOR b`.
pub const TARGETS: [[f64; 1]; 4] = [[0.0], [1.0], [1.0], [0.0]];

/// Trains from `seed` for `steps` full-batch steps with learning rate `lr`;
/// returns the network and the mean squared error after each step.
pub fn train(seed: u64, steps: usize, lr: f64) -> (Xor<f64>, Vec<f64>) {
    let mut net = Xor::<f64>::seeded(seed);
    let mut grads = Xor::<f64>::zeroed();
    let mut tape = XorTape::<f64, 4>::new();
    let mut history = Vec::with_capacity(steps);
    for _ in 0..steps {
        let out = net.forward(&INPUTS, &mut tape);
        // MSE = mean((y − t)²); its gradient w.r.t. y is 2(y − t)/N.
        let mut loss = 0.0;
        let mut grad_out = [[0.0; 1]; 4];
        for ((y, t), g) in out.iter().zip(&TARGETS).zip(&mut grad_out) {
            let e = y[0] - t[0];
            loss += e * e / 4.0;
            g[0] = 2.0 * e / 4.0;
        }
        grads.fill_zero();
        net.backward(&mut tape, &grad_out, &mut grads)
            .expect("the tape was just filled by forward");
        for (p, g) in net.params_mut().iter_mut().zip(grads.params()) {
            *p -= lr * g;
        }
        history.push(loss);
    }
    (net, history)
}

fn main() {
    let steps = 2000;
    let (net, history) = train(7, steps, 2.0);
    println!(
        "XOR with a 2-8-1 net ({} parameters), full-batch gradient descent, lr 2.0",
        Xor::<f64>::PARAMS
    );
    for step in [0, 10, 100, 500, 1000, steps - 1] {
        println!("  step {:>5}: mse {:.6}", step + 1, history[step]);
    }
    println!("predictions:");
    for (x, t) in INPUTS.iter().zip(&TARGETS) {
        let y = net.predict(x)[0];
        println!("  {} XOR {} = {:.4}  (target {})", x[0], x[1], y, t[0]);
    }
}
