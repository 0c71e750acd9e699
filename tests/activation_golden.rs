//! Every activation and its derivative against PyTorch on a grid that
//! includes the kinks (0) and extreme inputs (±50, ±1000).
//! Golden values: scripts/golden_activations.py.
//!
//! Tolerances: values within a few ulps (relative). Derivatives of
//! saturating functions are computed, here as in PyTorch, from the output
//! (`1 − y²`, `y(1 − y)`), which cancels near saturation: a one-ulp
//! difference between two correct `tanh` implementations becomes an
//! absolute difference of about one ulp of 1 in the derivative. So
//! derivatives are compared within a few ulps relative *plus* four machine
//! epsilons absolute.

mod golden;

use golden::{max_rel_dev, Golden};
use staticnet::activation::{
    Activation, BinaryStep, Elu, Identity, LeakyRelu, Relu, Sigmoid, Softplus, Tanh,
};
use staticnet::Scalar;

/// Applies `f` to the golden grid and checks value and derivative; returns
/// the largest relative deviation seen.
fn check<T: Scalar, A: Activation<T>>(
    g: &Golden,
    name: &str,
    tag: &str,
    f: A,
    tol: f64,
    floor: f64,
) -> f64 {
    let abs_tol = 4.0 * T::EPSILON.to_f64();
    let grid: Vec<T> = g
        .get(&format!("grid/{tag}"))
        .iter()
        .map(|&v| T::from_f64(v))
        .collect();
    let values: Vec<f64> = grid.iter().map(|&x| f.apply(x).to_f64()).collect();
    let grads: Vec<f64> = grid
        .iter()
        .map(|&x| f.derivative(x, f.apply(x)).to_f64())
        .collect();
    let want_v = g.get(&format!("{name}/{tag}/value"));
    let want_g = g.get(&format!("{name}/{tag}/grad"));
    let dv = max_rel_dev(&values, want_v, floor);
    let dg = max_rel_dev(&grads, want_g, floor);
    for (i, (a, e)) in values.iter().zip(want_v).enumerate() {
        assert!(
            a == e || (a - e).abs() <= tol * e.abs().max(floor),
            "{name}/{tag}: f({}) = {a}, PyTorch {e}",
            grid[i]
        );
    }
    for (i, (a, e)) in grads.iter().zip(want_g).enumerate() {
        assert!(
            a == e || (a - e).abs() <= tol * e.abs() + abs_tol,
            "{name}/{tag}: f'({}) = {a}, PyTorch {e}",
            grid[i]
        );
    }
    let dg_abs = grads
        .iter()
        .zip(want_g)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "max dev {name}/{tag}: value {dv:.2e} rel, derivative {dg:.2e} rel / {dg_abs:.2e} abs"
    );
    dv.max(dg)
}

fn check_all<T: Scalar>(tag: &str, tol: f64, floor: f64) {
    let g = Golden::load("activations.txt");
    let s = T::from_f64;
    check::<T, _>(&g, "identity", tag, Identity, tol, floor);
    check::<T, _>(&g, "binary_step", tag, BinaryStep, tol, floor);
    check::<T, _>(&g, "sigmoid", tag, Sigmoid, tol, floor);
    check::<T, _>(&g, "tanh", tag, Tanh, tol, floor);
    check::<T, _>(&g, "relu", tag, Relu, tol, floor);
    check::<T, _>(
        &g,
        "leaky_relu_0.01",
        tag,
        LeakyRelu { slope: s(0.01) },
        tol,
        floor,
    );
    check::<T, _>(
        &g,
        "leaky_relu_0.2",
        tag,
        LeakyRelu { slope: s(0.2) },
        tol,
        floor,
    );
    check::<T, _>(&g, "elu_1", tag, Elu { alpha: s(1.0) }, tol, floor);
    check::<T, _>(&g, "elu_0.5", tag, Elu { alpha: s(0.5) }, tol, floor);
    let sp = |beta, threshold| Softplus {
        beta: s(beta),
        threshold: s(threshold),
    };
    check::<T, _>(&g, "softplus_1_20", tag, sp(1.0, 20.0), tol, floor);
    check::<T, _>(&g, "softplus_2_10", tag, sp(2.0, 10.0), tol, floor);
}

#[test]
fn f64_activations_match_pytorch() {
    // A few ulps: libm and PyTorch may round the last bit differently.
    check_all::<f64>("f64", 1e-14, 1e-300);
}

#[test]
fn f32_activations_match_pytorch() {
    // f32 carries 24 bits (6e-8 relative per ulp); allow a few ulps.
    check_all::<f32>("f32", 1e-6, 1e-38);
}
