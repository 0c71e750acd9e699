//! The generated backward pass against central finite differences of the
//! generated forward pass, in `f64`, for every network of the pool
//! (`support::nets`), at every batch size from 1 to 8.
//!
//! The loss is `L = Σ r ⊙ output` for a drawn `r`, so `grad_output = r` and
//! every parameter's and every input's gradient is `∂L/∂θ`.

mod support;

use core::marker::PhantomData;
use core::mem::MaybeUninit;
use proptest::prelude::*;
use staticnet::architecture::{dense_layers, Architecture};
use staticnet::{Error, Network, Tape};
use support::cases::{case, config, Case};
use support::{calls, flat, reference, rows, with_batch, zeroed, Tolerance, WithBatch, BATCHES};

/// The finite-difference step `h`: `∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h`.
///
/// Its truncation error is `h²/6 · L'''` (~1e-13 here) and its rounding
/// error about `ε · Σ|r ⊙ output| / h` (~2e-10 per unit of that sum), both
/// far below the tolerance.
const STEP: f64 = 1e-6;

/// Cases with an activation input closer than this to a kink (ReLU, leaky
/// ReLU, ELU and the binary step at 0, Softplus at `threshold / β`) are
/// rejected: a difference across a kink measures neither side's slope.
/// Moving one parameter by `h` moves an activation input by `h` times its
/// sensitivity, which stays far below 1000 for these nets.
const KINK_MARGIN: f64 = 1e3 * STEP;

/// Relative agreement required of every gradient.
const GRAD_RTOL: f64 = 1e-6;

/// The absolute floor, for gradients near zero, per unit of
/// `max(1, Σ|r ⊙ output|)`: that sum sets the finite difference's rounding
/// noise (about 2e-10 per unit, see [`STEP`]), and the floor is 50 times
/// that noise. So, with `S = Σ|r ⊙ output|`, the criterion is
/// `|analytic − numeric| ≤ max(1e-8 · max(1, S), 1e-6 · max(|analytic|, |numeric|))`.
const NOISE_FLOOR: f64 = 1e-8;

/// Cases per network. A case costs two forward passes per parameter and
/// input; the largest net of the pool (7008 parameters) takes a few tenths
/// of a second at batch 8.
const CASES: u32 = 32;

/// `f64` tolerance of the accumulation check: the same gradient added
/// twice, in a different order of roundings than doubling it.
const ACCUMULATE_TOL: Tolerance = Tolerance {
    rel: 1e-12,
    abs: 1e-12,
};

/// `L = Σ r ⊙ output` for the network's forward pass on `x`.
fn loss<A: Architecture, const B: usize>(
    net: &Network<A, f64>,
    x: &[A::Input<f64>; B],
    r: &[f64],
    tape: &mut Tape<A, f64, B>,
) -> f64 {
    let y = calls::forward(net, x, tape);
    flat(y).iter().zip(r).map(|(y, r)| y * r).sum()
}

/// `(L(θ + h) − L(θ − h)) / ((θ + h) − (θ − h))`, dividing by the step as
/// actually taken in floating point; `loss_at(v)` evaluates `L` with the
/// variable set to `v`.
fn central_difference(at: f64, mut loss_at: impl FnMut(f64) -> f64) -> f64 {
    let (up, down) = (at + STEP, at - STEP);
    (loss_at(up) - loss_at(down)) / (up - down)
}

/// Where parameter `p` sits, in PyTorch's terms, for failure messages.
fn describe_param<A: Architecture>(p: usize) -> String {
    for (k, d) in dense_layers::<A>().enumerate() {
        let weights = d.weight_offset..d.weight_offset + d.inputs * d.outputs;
        if weights.contains(&p) {
            let at = p - d.weight_offset;
            return format!("dense{k}.weight[{}][{}]", at % d.outputs, at / d.outputs);
        }
        if let Some(b) = d.bias_offset.filter(|b| (*b..b + d.outputs).contains(&p)) {
            return format!("dense{k}.bias[{}]", p - b);
        }
    }
    format!("parameter {p}, in no layer")
}

fn mismatch(what: String, analytic: f64, numeric: f64, tol: Tolerance) -> TestCaseError {
    TestCaseError::fail(format!(
        "∂L/∂{what}: backward gives {analytic:e}, finite difference {numeric:e} \
         (difference {:e}, {tol:?})",
        (analytic - numeric).abs()
    ))
}

/// Every parameter gradient and the input gradient against finite
/// differences.
struct MatchesFiniteDifferences<'a, A> {
    case: &'a Case,
    arch: PhantomData<A>,
}

impl<A: Architecture> WithBatch for MatchesFiniteDifferences<'_, A> {
    type Output = Result<(), TestCaseError>;

    fn run<const B: usize>(self) -> Self::Output {
        let case = self.case;
        let net = case.weights.build::<A>();
        let clearance = reference::clearance(
            A::LAYERS,
            net.params(),
            A::INPUT,
            &case.input,
            reference::kink,
        );
        prop_assume!(
            clearance > KINK_MARGIN,
            "an activation input is near a kink"
        );

        let x: [A::Input<f64>; B] = rows(&case.input);
        let r: [A::Output<f64>; B] = rows(&case.upstream);
        let mut tape = Tape::<A, f64, B>::boxed();
        let y = flat(calls::forward(&net, &x, &mut tape));
        let noise_scale: f64 = y
            .iter()
            .zip(&case.upstream)
            .map(|(y, r)| (y * r).abs())
            .sum();
        let tol = Tolerance {
            rel: GRAD_RTOL,
            abs: NOISE_FLOOR * noise_scale.max(1.0),
        };

        let mut grads = Network::<A, f64>::boxed_zeroed();
        let mut grad_input: [A::Input<f64>; B] = zeroed();
        calls::backward_with_input_grad(&net, &mut tape, &r, &mut grads, &mut grad_input)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;

        let mut probe = Network::<A, f64>::boxed_zeroed();
        probe.copy_from(&net);
        for p in 0..A::PARAMS {
            let at = net.params()[p];
            let numeric = central_difference(at, |v| {
                probe.params_mut()[p] = v;
                loss(&probe, &x, &case.upstream, &mut tape)
            });
            probe.params_mut()[p] = at;
            let analytic = grads.params()[p];
            if !tol.allows(analytic, numeric) {
                return Err(mismatch(describe_param::<A>(p), analytic, numeric, tol));
            }
        }

        let mut probe_x = x;
        for b in 0..B {
            for i in 0..A::INPUT {
                let at = x[b].as_ref()[i];
                let numeric = central_difference(at, |v| {
                    probe_x[b].as_mut()[i] = v;
                    loss(&net, &probe_x, &case.upstream, &mut tape)
                });
                probe_x[b].as_mut()[i] = at;
                let analytic = grad_input[b].as_ref()[i];
                if !tol.allows(analytic, numeric) {
                    return Err(mismatch(format!("input[{b}][{i}]"), analytic, numeric, tol));
                }
            }
        }
        Ok(())
    }
}

/// Gradients accumulate into whatever the buffer holds (or overwrite it,
/// with `backward_overwrite`), and the input gradient is overwritten, not
/// accumulated.
struct Accumulates<'a, A> {
    case: &'a Case,
    arch: PhantomData<A>,
}

impl<A: Architecture> WithBatch for Accumulates<'_, A> {
    type Output = Result<(), TestCaseError>;

    fn run<const B: usize>(self) -> Self::Output {
        let case = self.case;
        let net = case.weights.build::<A>();
        let x: [A::Input<f64>; B] = rows(&case.input);
        let r: [A::Output<f64>; B] = rows(&case.upstream);
        let mut tape = Tape::<A, f64, B>::boxed();
        calls::forward(&net, &x, &mut tape);
        let fail = |e: Error| TestCaseError::fail(e.to_string());

        // One call from zero, asking for the input gradient too.
        let mut once = Network::<A, f64>::boxed_zeroed();
        let mut once_input: [A::Input<f64>; B] = zeroed();
        calls::backward_with_input_grad(&net, &mut tape, &r, &mut once, &mut once_input)
            .map_err(fail)?;

        // Without the input gradient (generated code that skips it), the
        // parameter gradients are the same.
        let mut without_input = Network::<A, f64>::boxed_zeroed();
        calls::backward(&net, &mut tape, &r, &mut without_input).map_err(fail)?;
        support::check_close(
            "gradient without input gradient",
            without_input.params(),
            once.params(),
            ACCUMULATE_TOL,
        )?;

        // Two calls onto a buffer that is not zero (the parameters
        // themselves), with an input gradient that poisons any read of it.
        let mut twice = Network::<A, f64>::boxed_zeroed();
        twice.copy_from(&net);
        let mut twice_input: [A::Input<f64>; B] = rows(&vec![f64::NAN; B * A::INPUT]);
        for _ in 0..2 {
            calls::backward_with_input_grad(&net, &mut tape, &r, &mut twice, &mut twice_input)
                .map_err(fail)?;
        }
        let expected: Vec<f64> = net
            .params()
            .iter()
            .zip(once.params())
            .map(|(start, g)| start + 2.0 * g)
            .collect();
        support::check_close(
            "start + 2 · gradient",
            twice.params(),
            &expected,
            ACCUMULATE_TOL,
        )?;
        prop_assert_eq!(
            flat(&twice_input),
            flat(&once_input),
            "the input gradient must be overwritten on each call"
        );

        // Overwriting a buffer of NaN (any read of it would show) gives
        // exactly the gradient accumulated from zero, twice in a row.
        let mut fresh = Network::<A, f64>::boxed_zeroed();
        fresh.params_mut().fill(f64::NAN);
        for _ in 0..2 {
            calls::backward_overwrite(&net, &mut tape, &r, &mut fresh).map_err(fail)?;
            prop_assert!(
                fresh.params() == without_input.params(),
                "backward_overwrite differs from backward onto zeros"
            );
        }
        Ok(())
    }
}

/// `backward` on a tape no forward pass has filled fails with
/// `Error::EmptyTape` and writes nothing, for every way to make a tape.
struct EmptyTapeIsAnError<A>(PhantomData<A>);

impl<A: Architecture> WithBatch for EmptyTapeIsAnError<A> {
    type Output = ();

    fn run<const B: usize>(self) {
        let net = Network::<A, f64>::boxed_seeded(7);
        let mut grads = Network::<A, f64>::boxed_seeded(8);
        let grads_before = grads.params().to_vec();
        let r: [A::Output<f64>; B] = rows(&vec![1.0; B * A::OUTPUT]);
        let input_before = vec![0.5; B * A::INPUT];
        let mut grad_input: [A::Input<f64>; B] = rows(&input_before);
        let expected = Err(Error::EmptyTape { network: A::NAME });

        let mut from_const = Tape::EMPTY;
        let mut slot = MaybeUninit::uninit();
        let mut tapes: [(&str, &mut Tape<A, f64, B>); 5] = [
            ("new", &mut Tape::new()),
            ("default", &mut Tape::default()),
            ("EMPTY", &mut from_const),
            ("boxed", &mut Tape::boxed()),
            ("new_in", Tape::new_in(&mut slot)),
        ];
        for (how, tape) in &mut tapes {
            assert!(!tape.is_filled(), "Tape::{how} is filled");
            assert_eq!(
                calls::backward(&net, tape, &r, &mut grads),
                expected,
                "Tape::{how}"
            );
            assert_eq!(
                calls::backward_with_input_grad(&net, tape, &r, &mut grads, &mut grad_input),
                expected,
                "Tape::{how}"
            );
            assert_eq!(grads.params(), grads_before, "Tape::{how}: grads written");
            assert_eq!(
                flat(&grad_input),
                input_before,
                "Tape::{how}: grad_input written"
            );
        }
    }
}

macro_rules! gradcheck_tests {
    ($name:ident, $arch:ty, $layers:literal) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config(CASES))]

                #[test]
                fn matches_finite_differences(case in case::<$arch>()) {
                    let check = MatchesFiniteDifferences::<$arch> {
                        case: &case,
                        arch: PhantomData,
                    };
                    with_batch(case.batch, check)?;
                }

                #[test]
                fn accumulates(case in case::<$arch>()) {
                    let check = Accumulates::<$arch> {
                        case: &case,
                        arch: PhantomData,
                    };
                    with_batch(case.batch, check)?;
                }
            }

            #[test]
            fn empty_tape_is_an_error() {
                for batch in BATCHES {
                    with_batch(batch, EmptyTapeIsAnError::<$arch>(PhantomData));
                }
            }
        }
    };
}

support::nets::for_each_net!(gradcheck_tests);
