//! Every loss's gradient against central finite differences of its value,
//! in `f64`, for random widths (1–12), batches (1–6), partial batches
//! (`rows ≤ B`), both reductions and each loss's hyperparameters, with
//! inputs kept where the loss is smooth.

use core::ops::{Range, RangeInclusive};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use staticnet::loss::{
    BceWithLogits, CrossEntropy, Huber, Loss, Mse, Reduction, SoftCrossEntropy, L1,
};

/// Output widths (classes for cross-entropy).
const PROPTEST_WIDTH: RangeInclusive<usize> = 1..=12;
/// Batch sizes; [`by_batch`] instantiates each.
const PROPTEST_BATCH: RangeInclusive<usize> = 1..=6;
/// Regression predictions and targets.
const PROPTEST_VALUE: Range<f64> = -10.0..10.0;
/// Logits: wide enough that softmax and sigmoid saturate in places.
const PROPTEST_LOGIT: Range<f64> = -20.0..20.0;
/// Target probabilities (soft cross-entropy's rows need not sum to 1).
const PROPTEST_PROBABILITY: RangeInclusive<f64> = 0.0..=1.0;
/// `|ŷ − y|` for L1, kept away from the kink at 0 by much more than
/// [`STEP`].
const L1_GAP: Range<f64> = 0.01..5.0;
/// Huber's δ.
const PROPTEST_DELTA: Range<f64> = 0.1..3.0;
/// `|ŷ − y| / δ` for Huber before it is moved off the kink at 1 (see
/// [`HUBER_CLEARANCE`]).
const HUBER_RATIO: Range<f64> = 0.0..3.0;
/// How far (relative to δ) `|ŷ − y|` stays from δ, where Huber's second
/// derivative jumps: at least 1e-3, ten times [`STEP`].
const HUBER_CLEARANCE: f64 = 0.01;
/// Label smoothing, half of the time 0 (PyTorch's default).
const PROPTEST_LABEL_SMOOTHING: RangeInclusive<f64> = 0.0..=1.0;

/// The finite-difference step.
///
/// MSE, L1 and Huber are piecewise polynomials of degree ≤ 2, so central
/// differences are exact for them up to rounding, which is about
/// `ε·|ℓ| / STEP` ≤ 2e-16 · 3e4 / 1e-4 ≈ 6e-8 at the largest sum drawn
/// (72 squared errors of up to 400). For BCE and cross-entropy the
/// truncation error `STEP²/6 · |ℓ'''|` is below 1e-9 (their third
/// derivatives are bounded by 1 per row) and the rounding error below 1e-8
/// (losses up to 40 per element).
const STEP: f64 = 1e-4;

/// Agreement: `|analytic − numeric| ≤ 1e-7 · max(1, |analytic|, |numeric|)`,
/// above the errors bounded at [`STEP`], while a wrong factor or a missing
/// term in a gradient is off by far more.
const TOL: f64 = 1e-7;

/// Cases per loss; each costs at most 2·72 evaluations of a 72-element
/// loss, so 256 of them run in milliseconds.
const CASES: u32 = 256;

/// One drawn case: a batch of `batch` rows of `width`, of which the loss
/// sees the first `rows`.
#[derive(Clone, Debug)]
struct Case {
    width: usize,
    batch: usize,
    rows: usize,
    reduction: Reduction,
    /// `batch · width` predictions, row after row.
    pred: Vec<f64>,
    /// `batch · width` target values, or `batch` class indices.
    target: Vec<f64>,
    /// Huber's δ or the label smoothing, if the loss has one.
    parameter: f64,
}

/// `(width, batch, rows, reduction)` with `1 ≤ rows ≤ batch`.
fn shape() -> impl Strategy<Value = (usize, usize, usize, Reduction)> {
    (PROPTEST_WIDTH, PROPTEST_BATCH).prop_flat_map(|(w, b)| {
        let reduction = prop_oneof![Just(Reduction::Mean), Just(Reduction::Sum)];
        (Just(w), Just(b), 1..=b, reduction)
    })
}

/// A case whose predictions, targets and parameter come from `inputs`,
/// given `(width, batch)`.
fn case<S, F>(inputs: F) -> impl Strategy<Value = Case>
where
    S: Strategy<Value = (Vec<f64>, Vec<f64>, f64)>,
    F: Fn(usize, usize) -> S,
{
    shape().prop_flat_map(move |(width, batch, rows, reduction)| {
        inputs(width, batch).prop_map(move |(pred, target, parameter)| Case {
            width,
            batch,
            rows,
            reduction,
            pred,
            target,
            parameter,
        })
    })
}

fn mse_case() -> impl Strategy<Value = Case> {
    case(|w, b| {
        let n = w * b;
        (vec(PROPTEST_VALUE, n), vec(PROPTEST_VALUE, n), Just(0.0))
    })
}

/// Predictions at a distance [`L1_GAP`] above or below the target.
fn l1_case() -> impl Strategy<Value = Case> {
    case(|w, b| {
        let n = w * b;
        let gaps = vec((L1_GAP, any::<bool>()), n);
        (vec(PROPTEST_VALUE, n), gaps).prop_map(|(target, gaps)| {
            let pred = target
                .iter()
                .zip(&gaps)
                .map(|(y, &(gap, up))| if up { y + gap } else { y - gap })
                .collect();
            (pred, target, 0.0)
        })
    })
}

/// Predictions at `r·δ` from the target, with `r` from [`HUBER_RATIO`]
/// moved off 1: `[0, 1)` shrinks to `[0, 1 − c)` and `[1, 3)` shifts to
/// `[1 + c, 3 + c)`.
fn huber_case() -> impl Strategy<Value = Case> {
    case(|w, b| {
        let n = w * b;
        let offsets = vec((HUBER_RATIO, any::<bool>()), n);
        (vec(PROPTEST_VALUE, n), offsets, PROPTEST_DELTA).prop_map(|(target, offsets, delta)| {
            let pred = target
                .iter()
                .zip(&offsets)
                .map(|(y, &(r, up))| {
                    let r = if r < 1.0 {
                        r * (1.0 - HUBER_CLEARANCE)
                    } else {
                        r + HUBER_CLEARANCE
                    };
                    if up {
                        y + r * delta
                    } else {
                        y - r * delta
                    }
                })
                .collect();
            (pred, target, delta)
        })
    })
}

fn bce_case() -> impl Strategy<Value = Case> {
    case(|w, b| {
        let n = w * b;
        (
            vec(PROPTEST_LOGIT, n),
            vec(PROPTEST_PROBABILITY, n),
            Just(0.0),
        )
    })
}

fn label_smoothing() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), PROPTEST_LABEL_SMOOTHING]
}

fn cross_entropy_case() -> impl Strategy<Value = Case> {
    case(|w, b| {
        let classes = vec((0..w).prop_map(|k| k as f64), b);
        (vec(PROPTEST_LOGIT, w * b), classes, label_smoothing())
    })
}

fn soft_cross_entropy_case() -> impl Strategy<Value = Case> {
    case(|w, b| {
        let n = w * b;
        (
            vec(PROPTEST_LOGIT, n),
            vec(PROPTEST_PROBABILITY, n),
            label_smoothing(),
        )
    })
}

/// A loss that can be built from a [`Case`].
trait CaseLoss: Loss<f64> + Sized {
    /// Whether the target of a row is one class index (else `W` values).
    const CLASS_INDEX: bool = false;

    /// The loss with the case's reduction and parameter.
    fn new(case: &Case) -> Self;

    /// One row's target from the case's values.
    fn target<const W: usize>(values: &[f64]) -> Self::Target<W>;
}

fn dense<const W: usize>(values: &[f64]) -> [f64; W] {
    values.try_into().expect("a target row of width W")
}

macro_rules! dense_loss {
    ($ty:ident, |$case:ident| $build:expr) => {
        impl CaseLoss for $ty {
            fn new($case: &Case) -> Self {
                $build
            }
            fn target<const W: usize>(values: &[f64]) -> [f64; W] {
                dense(values)
            }
        }
    };
}

dense_loss!(Mse, |c| Mse {
    reduction: c.reduction
});
dense_loss!(L1, |c| L1 {
    reduction: c.reduction
});
dense_loss!(Huber, |c| Huber {
    delta: c.parameter,
    reduction: c.reduction,
});
dense_loss!(BceWithLogits, |c| BceWithLogits {
    reduction: c.reduction
});
dense_loss!(SoftCrossEntropy, |c| SoftCrossEntropy {
    reduction: c.reduction,
    label_smoothing: c.parameter,
});

impl CaseLoss for CrossEntropy {
    const CLASS_INDEX: bool = true;
    fn new(case: &Case) -> Self {
        CrossEntropy {
            reduction: case.reduction,
            label_smoothing: case.parameter,
        }
    }
    fn target<const W: usize>(values: &[f64]) -> usize {
        values[0] as usize
    }
}

/// Checks every element of `∂ℓ/∂ŷ` against `(ℓ(ŷ + h) − ℓ(ŷ − h)) / 2h`,
/// and that the padding rows' gradient is exactly zero.
fn gradcheck<L: CaseLoss, const B: usize, const W: usize>(
    case: &Case,
) -> Result<(), TestCaseError> {
    let loss = L::new(case);
    let pred: [[f64; W]; B] = core::array::from_fn(|b| dense(&case.pred[b * W..][..W]));
    let per_row = if L::CLASS_INDEX { 1 } else { W };
    let target: [L::Target<W>; B] =
        core::array::from_fn(|b| L::target::<W>(&case.target[b * per_row..][..per_row]));
    let value_at = |p: &[[f64; W]; B]| loss.value_and_grad_rows(p, &target, case.rows, None);

    let mut grad = [[f64::NAN; W]; B];
    let value = loss
        .value_and_grad_rows(&pred, &target, case.rows, Some(&mut grad))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(value.is_finite(), "loss {value}");
    prop_assert_eq!(
        Ok(value),
        value_at(&pred),
        "the value does not depend on grad"
    );

    for b in 0..B {
        for j in 0..W {
            let x = pred[b][j];
            let (mut up, mut down) = (pred, pred);
            up[b][j] = x + STEP;
            down[b][j] = x - STEP;
            // The step actually taken, after rounding x ± STEP.
            let step = up[b][j] - down[b][j];
            let numeric = (value_at(&up).unwrap() - value_at(&down).unwrap()) / step;
            let analytic = grad[b][j];
            let allowed = TOL * analytic.abs().max(numeric.abs()).max(1.0);
            prop_assert!(
                (analytic - numeric).abs() <= allowed,
                "∂ℓ/∂ŷ[{b}][{j}] = {analytic:e}, finite differences {numeric:e}"
            );
            if b >= case.rows {
                prop_assert_eq!(analytic, 0.0, "padding row {}", b);
            }
        }
    }
    Ok(())
}

/// Runs [`gradcheck`] with `W = case.width` for a fixed `B`.
fn by_width<L: CaseLoss, const B: usize>(case: &Case) -> Result<(), TestCaseError> {
    macro_rules! widths {
        ($($w:literal)*) => {
            match case.width {
                $($w => gradcheck::<L, B, $w>(case),)*
                w => panic!("width {w} is outside {PROPTEST_WIDTH:?}"),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// Runs [`gradcheck`] at the case's batch size and width.
fn by_batch<L: CaseLoss>(case: &Case) -> Result<(), TestCaseError> {
    match case.batch {
        1 => by_width::<L, 1>(case),
        2 => by_width::<L, 2>(case),
        3 => by_width::<L, 3>(case),
        4 => by_width::<L, 4>(case),
        5 => by_width::<L, 5>(case),
        6 => by_width::<L, 6>(case),
        b => panic!("batch {b} is outside {PROPTEST_BATCH:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn mse_gradient_matches_finite_differences(case in mse_case()) {
        by_batch::<Mse>(&case)?;
    }

    #[test]
    fn l1_gradient_matches_finite_differences(case in l1_case()) {
        by_batch::<L1>(&case)?;
    }

    #[test]
    fn huber_gradient_matches_finite_differences(case in huber_case()) {
        by_batch::<Huber>(&case)?;
    }

    #[test]
    fn bce_with_logits_gradient_matches_finite_differences(case in bce_case()) {
        by_batch::<BceWithLogits>(&case)?;
    }

    #[test]
    fn cross_entropy_gradient_matches_finite_differences(case in cross_entropy_case()) {
        by_batch::<CrossEntropy>(&case)?;
    }

    #[test]
    fn soft_cross_entropy_gradient_matches_finite_differences(case in soft_cross_entropy_case()) {
        by_batch::<SoftCrossEntropy>(&case)?;
    }
}
