//! A naive reference: plain `f64` loops over `Architecture::LAYERS` and the
//! parameter buffer, sharing nothing with the generated code or the kernels.
//!
//! Weights are read through [`DenseLayout::weight_index`] (PyTorch's
//! `weight[out][in]`), biases from `bias_offset`, and every activation is
//! written out again from its textbook formula with `std`'s math, not the
//! library's `libm` calls.

use staticnet::architecture::{ActivationKind, DenseLayout, Layer};

/// `f(x)` for one activation, PyTorch's definitions.
pub fn activate(kind: ActivationKind, x: f64) -> f64 {
    match kind {
        ActivationKind::Identity => x,
        ActivationKind::BinaryStep => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        ActivationKind::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        ActivationKind::Tanh => x.tanh(),
        ActivationKind::Relu => x.max(0.0),
        ActivationKind::Softplus { beta, threshold } => {
            if beta * x > threshold {
                x
            } else {
                (beta * x).exp().ln_1p() / beta
            }
        }
        ActivationKind::LeakyRelu { slope } => {
            if x > 0.0 {
                x
            } else {
                slope * x
            }
        }
        ActivationKind::Elu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * x.exp_m1()
            }
        }
    }
}

/// Where an activation's derivative jumps (a kink, or a jump of the function
/// itself), if anywhere. Central finite differences are wrong across such a
/// point, and rounding decides which side a value near it falls on.
pub fn kink(kind: ActivationKind) -> Option<f64> {
    match kind {
        ActivationKind::Identity | ActivationKind::Sigmoid | ActivationKind::Tanh => None,
        ActivationKind::BinaryStep
        | ActivationKind::Relu
        | ActivationKind::LeakyRelu { .. }
        | ActivationKind::Elu { .. } => Some(0.0),
        // PyTorch switches to the identity above `βx > threshold`, a small
        // jump of ln(1 + e^(−threshold)) / β.
        ActivationKind::Softplus { beta, threshold } => Some(threshold / beta),
    }
}

/// Where the activation itself jumps, if anywhere: there the output of two
/// computations can differ by the jump, not by rounding.
pub fn jump(kind: ActivationKind) -> Option<f64> {
    match kind {
        ActivationKind::BinaryStep => Some(0.0),
        ActivationKind::Softplus { beta, threshold } => Some(threshold / beta),
        _ => None,
    }
}

/// `y = W·x + b` for one row, reading PyTorch's `weight[o][i]` through the
/// layout.
pub fn dense(layout: &DenseLayout, params: &[f64], x: &[f64]) -> Vec<f64> {
    assert_eq!(x.len(), layout.inputs, "dense layer fed the wrong width");
    (0..layout.outputs)
        .map(|o| {
            let bias = layout.bias_offset.map_or(0.0, |b| params[b + o]);
            let sum: f64 = (0..layout.inputs)
                .map(|i| params[layout.weight_index(o, i)] * x[i])
                .sum();
            sum + bias
        })
        .collect()
}

/// Runs one row through `layers`, calling `seen(kind, x)` with the input of
/// every activation it applies.
pub fn forward_row(
    layers: &[Layer],
    params: &[f64],
    input: &[f64],
    seen: &mut dyn FnMut(ActivationKind, f64),
) -> Vec<f64> {
    forward_row_bounded(layers, params, input, 0.0, false, &mut |kind, x, _| {
        seen(kind, x)
    })
    .0
}

/// Runs a batch (rows of `inputs` values, back to back) and returns the
/// outputs back to back.
pub fn forward(layers: &[Layer], params: &[f64], inputs: usize, batch: &[f64]) -> Vec<f64> {
    batch
        .chunks(inputs)
        .flat_map(|row| forward_row(layers, params, row, &mut |_, _| {}))
        .collect()
}

/// The smallest distance of any activation input of the batch from the
/// point that `at` marks for its activation (see [`kink`] and [`jump`]).
pub fn clearance(
    layers: &[Layer],
    params: &[f64],
    inputs: usize,
    batch: &[f64],
    at: fn(ActivationKind) -> Option<f64>,
) -> f64 {
    let mut nearest = f64::INFINITY;
    for row in batch.chunks(inputs) {
        forward_row(layers, params, row, &mut |kind, x| {
            if let Some(point) = at(kind) {
                nearest = nearest.min((x - point).abs());
            }
        });
    }
    nearest
}

/// The outputs of a batch with, for each, a bound on the error of any
/// computation of the same network in floating point of unit roundoff `u`
/// (2⁻²⁴ for `f32`) from the same parameters and inputs, in any summation
/// order; `None` when rounding could move an activation input across a
/// jump of its activation, where no such bound exists.
///
/// The bound is the classic first-order running error analysis (Higham,
/// *Accuracy and Stability of Numerical Algorithms*, ch. 3), carried layer
/// by layer next to the values:
///
/// - dense: `γ(n+1)·(|b| + Σ|w|·|x|) + Σ|w|·e(x)`, with `γ(k) = k·u/(1 − k·u)`,
///   which holds for every order of the sum (and with fused multiply-adds);
/// - activation: `L·e(x) + c·u·(|f(x)| + L·|x|)`, with `L` its Lipschitz
///   constant: the propagated error, `c` ulps for evaluating `f`, and
///   the rounding of its argument (`βx`, `αeˣ`) carried through `f`. `c`
///   is 4 for the library's `libm` forms, and 16 for the `#[fast_math]`
///   approximations of sigmoid, tanh, softplus and ELU (`fast_math`), whose
///   documented errors are up to 5e-7 (about 8 ulps of `f32`) for one
///   function and softplus composes two;
/// - residual sum: `e(skip) + e(body) + u·|y|`.
///
/// Second-order terms (products of two errors) are left out; they are
/// `u²`-small.
pub fn forward_bounded(
    layers: &[Layer],
    params: &[f64],
    inputs: usize,
    batch: &[f64],
    u: f64,
    fast_math: bool,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let (mut values, mut bounds) = (Vec::new(), Vec::new());
    let mut clear = true;
    for row in batch.chunks(inputs) {
        let (v, e) = forward_row_bounded(layers, params, row, u, fast_math, &mut |kind, x, e| {
            if let Some(point) = jump(kind) {
                // Room for the error of this input and of the comparison
                // itself (`βx > threshold` rounds `βx`), four times over.
                clear &= (x - point).abs() > 4.0 * (e + u * x.abs());
            }
        });
        values.extend(v);
        bounds.extend(e);
    }
    clear.then_some((values, bounds))
}

/// The largest slope of an activation away from its jumps.
fn lipschitz(kind: ActivationKind) -> f64 {
    match kind {
        ActivationKind::Identity
        | ActivationKind::Tanh
        | ActivationKind::Relu
        | ActivationKind::Softplus { .. } => 1.0,
        ActivationKind::Sigmoid => 0.25,
        ActivationKind::BinaryStep => 0.0,
        ActivationKind::LeakyRelu { slope } => slope.abs().max(1.0),
        ActivationKind::Elu { alpha } => alpha.abs().max(1.0),
    }
}

/// `Σ_i |W[o][i]|·x[i]` for each output `o` (for non-negative `x`).
fn abs_weighted_sum(layout: &DenseLayout, params: &[f64], x: &[f64]) -> Vec<f64> {
    (0..layout.outputs)
        .map(|o| {
            (0..layout.inputs)
                .map(|i| params[layout.weight_index(o, i)].abs() * x[i])
                .sum()
        })
        .collect()
}

/// `k·u / (1 − k·u)`: the relative error bound of a sum of `k` terms in
/// floating point of unit roundoff `u`, in any order.
pub fn gamma(k: usize, u: f64) -> f64 {
    let ku = k as f64 * u;
    ku / (1.0 - ku)
}

/// Ulps of error in evaluating an activation (see [`forward_bounded`]).
fn evaluation_ulps(kind: ActivationKind, fast_math: bool) -> f64 {
    let approximated = matches!(
        kind,
        ActivationKind::Sigmoid
            | ActivationKind::Tanh
            | ActivationKind::Softplus { .. }
            | ActivationKind::Elu { .. }
    );
    if fast_math && approximated {
        16.0
    } else {
        4.0
    }
}

/// One row through `layers`, with the error bound of [`forward_bounded`]
/// for unit roundoff `u` next to every value; `seen(kind, x, e)` gets each
/// activation input with its bound.
fn forward_row_bounded(
    layers: &[Layer],
    params: &[f64],
    input: &[f64],
    u: f64,
    fast_math: bool,
    seen: &mut dyn FnMut(ActivationKind, f64, f64),
) -> (Vec<f64>, Vec<f64>) {
    let mut value = input.to_vec();
    let mut error = vec![0.0; input.len()];
    // The inputs of the residual blocks still open, innermost last.
    let mut skips: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for layer in layers {
        match layer {
            Layer::Dense(layout) => {
                let abs_value: Vec<f64> = value.iter().map(|v| v.abs()).collect();
                let terms = abs_weighted_sum(layout, params, &abs_value);
                let propagated = abs_weighted_sum(layout, params, &error);
                let g = gamma(layout.inputs + 1, u);
                error = (0..layout.outputs)
                    .map(|o| {
                        let bias = layout.bias_offset.map_or(0.0, |b| params[b + o].abs());
                        g * (bias + terms[o]) + propagated[o]
                    })
                    .collect();
                value = dense(layout, params, &value);
            }
            Layer::Activation(kind) => {
                let l = lipschitz(*kind);
                let c = evaluation_ulps(*kind, fast_math);
                for (v, e) in value.iter_mut().zip(&mut error) {
                    seen(*kind, *v, *e);
                    let y = activate(*kind, *v);
                    *e = l * *e + c * u * (y.abs() + l * v.abs());
                    *v = y;
                }
            }
            Layer::ResidualBegin { width } => {
                assert_eq!(value.len(), *width, "residual block of the wrong width");
                skips.push((value.clone(), error.clone()));
            }
            Layer::ResidualEnd => {
                let (skip, skip_error) = skips.pop().expect("ResidualEnd without ResidualBegin");
                assert_eq!(skip.len(), value.len(), "residual body changed the width");
                for (i, (v, e)) in value.iter_mut().zip(&mut error).enumerate() {
                    *v += skip[i];
                    *e += skip_error[i] + u * v.abs();
                }
            }
        }
    }
    assert!(skips.is_empty(), "unclosed residual block");
    (value, error)
}

/// `y[b] = x[b]·W + bias` for a matrix stored `[in][out]` (the kernels'
/// layout), all row-major and flat.
pub fn matmul_bias(
    x: &[f64],
    w: &[f64],
    bias: Option<&[f64]>,
    inputs: usize,
    outputs: usize,
) -> Vec<f64> {
    let mut y = Vec::new();
    for row in x.chunks(inputs) {
        for o in 0..outputs {
            let sum: f64 = (0..inputs).map(|i| row[i] * w[i * outputs + o]).sum();
            y.push(sum + bias.map_or(0.0, |b| b[o]));
        }
    }
    y
}

/// `dw[i][o] = Σ_b x[b][i]·dy[b][o]`, flat `[in][out]`.
pub fn weight_grad(x: &[f64], dy: &[f64], inputs: usize, outputs: usize) -> Vec<f64> {
    let mut dw = vec![0.0; inputs * outputs];
    for (xr, gr) in x.chunks(inputs).zip(dy.chunks(outputs)) {
        for i in 0..inputs {
            for o in 0..outputs {
                dw[i * outputs + o] += xr[i] * gr[o];
            }
        }
    }
    dw
}

/// `dx[b][i] = Σ_o dy[b][o]·w[i][o]` for `w` stored `[in][out]`.
pub fn input_grad(w: &[f64], dy: &[f64], inputs: usize, outputs: usize) -> Vec<f64> {
    let mut dx = Vec::new();
    for gr in dy.chunks(outputs) {
        for i in 0..inputs {
            dx.push((0..outputs).map(|o| gr[o] * w[i * outputs + o]).sum());
        }
    }
    dx
}
