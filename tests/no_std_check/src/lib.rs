//! Proof that staticnet is `no_std` and needs no allocator.
//!
//! This crate depends on staticnet with `default-features = false`, declares
//! a network with residual blocks and most activations, and runs inference,
//! a forward and a backward pass on it in [`staticnet_no_std_check`], and
//! inference with bf16 weights; it also runs W1 with weights baked in at
//! compile time from a safetensors file (the `baked` module). The
//! binary in `main.rs` links it into an executable with no `std`, no `alloc`
//! and no global allocator, defines the only `#[panic_handler]`, and exits
//! with the function's result; scripts/check_no_std.sh builds and runs it.
//!
//! What makes the build fail (each was tried by adding it here):
//!
//! - `extern crate std;`, or staticnet with its `std` feature on: error
//!   E0152, "found duplicate lang item `panic_impl`". std brings its own
//!   panic handler and `main.rs` defines one, so any path by which std gets
//!   linked in is caught.
//! - `extern crate alloc;`, with or without a use such as `alloc::vec![1]`:
//!   "no global memory allocator found but one is required". Linking
//!   `alloc` into an executable requires a `#[global_allocator]`, and there
//!   is none; the same error would appear if staticnet or one of its
//!   dependencies linked `alloc` (say, for matrixmultiply's packing buffer).
#![no_std]

use staticnet::{Error, Scalar};

mod baked;

staticnet::network! {
    /// A small controller that exercises every kind of step the macro
    /// generates: dense layers with and without bias, residual blocks
    /// (one nested) and most activations.
    pub struct Controller(6 -> 2) {
        Dense<16>, Tanh,
        Residual { Dense<16>, Relu, Dense<16, bias = false> },
        LeakyRelu(0.01),
        Residual {
            Dense<16>, Elu(1.0),
            Residual { Dense<16>, Sigmoid, Dense<16> },
        },
        Softplus(beta = 1.0, threshold = 20.0),
        Dense<8>, Identity,
        Dense<2>,
    }
}

/// Rows per batch in the checks.
pub const BATCH: usize = 4;

/// The check that failed; its value is the process exit code (plus 100 for
/// the `f64` run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Failure {
    /// `backward` on a fresh tape did not return `Error::EmptyTape`.
    EmptyTapeAccepted = 1,
    /// The forward pass produced a NaN or an infinity.
    OutputNotFinite = 2,
    /// `infer` disagreed with `forward`.
    InferDiffers = 3,
    /// `predict` disagreed with `forward`.
    PredictDiffers = 4,
    /// `backward_with_input_grad` returned an error after a forward pass.
    BackwardFailed = 5,
    /// Some parameter gradient was not finite, or all were zero.
    BadParamGrads = 6,
    /// Some input gradient was not finite, or all were zero.
    BadInputGrads = 7,
    /// A zero network in a `static` did not output zeros.
    StaticNotZero = 8,
    /// A parameter gradient disagreed with a central finite difference.
    GradientWrong = 9,
    /// The baked-in W1 did not give PyTorch's outputs.
    BakedDiffers = 10,
    /// bf16 inference was not finite, or strayed from `f32` inference by
    /// more than its rounding explains.
    Bf16Differs = 11,
}

/// A zero network placed in a `static`, as firmware would.
static SPARE: Controller = Controller::ZERO;

/// Runs every check in `f32` and `f64`; returns 0, or the first failure's
/// code (plus 100 for `f64`).
#[no_mangle]
pub extern "C" fn staticnet_no_std_check() -> i32 {
    if let Err(f) = run::<f32>() {
        return f as i32;
    }
    if let Err(f) = run::<f64>() {
        return 100 + f as i32;
    }
    if let Err(f) = gradients_match_finite_differences() {
        return 100 + f as i32;
    }
    if let Err(f) = baked::check() {
        return f as i32;
    }
    if let Err(f) = bf16_inference() {
        return f as i32;
    }
    0
}

/// The controller with bf16 weights, built in place and run with the
/// compile-time target features: close to the `f32` network.
fn bf16_inference() -> Result<(), Failure> {
    let net: Controller = Controller::seeded(7);
    let mut slot = core::mem::MaybeUninit::uninit();
    let small = staticnet::bf16::Bf16Network::from_network_in(&mut slot, &net);
    let input = pattern::<f32, 6, BATCH>(5);
    let (mut exact, mut rounded) = ([[0.0f32; 2]; BATCH], [[0.0f32; 2]; BATCH]);
    net.infer(&input, &mut exact);
    small.infer(&input, &mut rounded);
    for (e, r) in exact.as_flattened().iter().zip(rounded.as_flattened()) {
        // Written so that a NaN fails too.
        let close = (e - r).abs() <= 0.05 * (1.0 + e.abs());
        if !close {
            return Err(Failure::Bf16Differs);
        }
    }
    if rounded == exact {
        // Rounding every weight to 8 bits must show somewhere.
        return Err(Failure::Bf16Differs);
    }
    Ok(())
}

/// A fixed, varied pattern in [-1, 1].
fn pattern<T: Scalar, const W: usize, const B: usize>(salt: usize) -> [[T; W]; B] {
    let mut rows = [[T::ZERO; W]; B];
    for (i, v) in rows.as_flattened_mut().iter_mut().enumerate() {
        *v = T::from_f64(((i * 37 + salt * 11) % 23) as f64 / 11.0 - 1.0);
    }
    rows
}

fn all_finite<T: Scalar>(values: &[T]) -> bool {
    values.iter().all(|v| v.is_finite())
}

fn any_nonzero<T: Scalar>(values: &[T]) -> bool {
    values.iter().any(|&v| v != T::ZERO)
}

fn run<T: Scalar>() -> Result<(), Failure> {
    let net: Controller<T> = Controller::seeded(7);
    let mut grads: Controller<T> = Controller::zeroed();
    let mut tape: ControllerTape<T, BATCH> = ControllerTape::new();
    let input = pattern::<T, 6, BATCH>(1);
    let grad_output = pattern::<T, 2, BATCH>(2);

    let refused = net.backward(&mut tape, &grad_output, &mut grads);
    if refused
        != Err(Error::EmptyTape {
            network: "Controller",
        })
    {
        return Err(Failure::EmptyTapeAccepted);
    }

    let output = *net.forward(&input, &mut tape);
    if !all_finite(output.as_flattened()) {
        return Err(Failure::OutputNotFinite);
    }
    // Without std every product is in the static regime, so the three
    // paths run the same arithmetic and agree exactly.
    let mut inferred = [[T::ZERO; 2]; BATCH];
    net.infer(&input, &mut inferred);
    if inferred != output {
        return Err(Failure::InferDiffers);
    }
    if net.predict(&input[0]) != output[0] {
        return Err(Failure::PredictDiffers);
    }

    let mut grad_input = [[T::ZERO; 6]; BATCH];
    if net
        .backward_with_input_grad(&mut tape, &grad_output, &mut grads, &mut grad_input)
        .is_err()
    {
        return Err(Failure::BackwardFailed);
    }
    if !all_finite(grads.params()) || !any_nonzero(grads.params()) {
        return Err(Failure::BadParamGrads);
    }
    if !all_finite(grad_input.as_flattened()) || !any_nonzero(grad_input.as_flattened()) {
        return Err(Failure::BadInputGrads);
    }

    if SPARE.predict(&[1.0; 6]) != [0.0; 2] {
        return Err(Failure::StaticNotZero);
    }
    Ok(())
}

/// `Σ grad_output · output`, whose gradient is what `backward` computes
/// when given `grad_output`.
fn weighted_output(
    net: &Controller<f64>,
    input: &[[f64; 6]; BATCH],
    weights: &[[f64; 2]; BATCH],
) -> f64 {
    let mut out = [[0.0; 2]; BATCH];
    net.infer(input, &mut out);
    out.as_flattened()
        .iter()
        .zip(weights.as_flattened())
        .map(|(y, w)| y * w)
        .sum()
}

/// Checks the backward pass, not just that it runs: a spread of parameter
/// gradients against central differences, in `f64`.
fn gradients_match_finite_differences() -> Result<(), Failure> {
    let mut net: Controller<f64> = Controller::seeded(11);
    let mut grads: Controller<f64> = Controller::zeroed();
    let mut tape: ControllerTape<f64, BATCH> = ControllerTape::new();
    let input = pattern::<f64, 6, BATCH>(3);
    let grad_output = pattern::<f64, 2, BATCH>(4);
    net.forward(&input, &mut tape);
    if net.backward(&mut tape, &grad_output, &mut grads).is_err() {
        return Err(Failure::BackwardFailed);
    }

    // Truncation error is O(h²) ≈ 1e-10 and rounding ≈ 1e-16 / h ≈ 1e-11,
    // far below the tolerance; a wrong rule is off by far more.
    let h = 1e-5;
    for i in (0..Controller::<f64>::PARAMS).step_by(97) {
        let original = net.params()[i];
        net.params_mut()[i] = original + h;
        let up = weighted_output(&net, &input, &grad_output);
        net.params_mut()[i] = original - h;
        let down = weighted_output(&net, &input, &grad_output);
        net.params_mut()[i] = original;
        let numeric = (up - down) / (2.0 * h);
        let analytic = grads.params()[i];
        if (numeric - analytic).abs() > 1e-6 * analytic.abs().max(1.0) {
            return Err(Failure::GradientWrong);
        }
    }
    Ok(())
}
