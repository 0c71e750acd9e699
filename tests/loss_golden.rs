//! Every loss, its value and its gradient, against PyTorch in `f64` and
//! `f32`, on the inputs recorded in tests/golden/losses.txt (written by
//! scripts/golden_losses.py): random batches, ties, zeros, logits of
//! magnitude 50 and 1000, Huber's boundary, label smoothing and partial
//! batches, each with the mean and the sum.

mod golden;

use golden::Golden;
use staticnet::loss::{
    BceWithLogits, CrossEntropy, Huber, Loss, Mse, Reduction, SoftCrossEntropy, L1,
};
use staticnet::Scalar;
use std::marker::PhantomData;

/// `f64` agreement: `|a − e| ≤ 1e-12 · max(|e|, unit)`, where `unit` is the
/// reduction's scale (see [`unit`]).
///
/// Both sides round a handful of operations per element (~1e-16 each) and
/// sum in different orders; the measured worst is printed by each test and
/// is orders of magnitude below this, while a wrong formula, branch or
/// divisor misses by far more than 1e-12.
const F64_TOL: f64 = 1e-12;

/// `f32` agreement against PyTorch's `float32` run on the same rounded
/// inputs: `|a − e| ≤ 1e-5 · max(|e|, unit)`. One `f32` rounding is up to
/// 6e-8 relative; the two sides use different `exp`/`log` implementations
/// and summation orders over up to 16 terms, which stays within a few
/// dozen ulps (about 2e-6), and 1e-5 leaves room for that.
const F32_TOL: f64 = 1e-5;

/// The size of one element's (or, for cross-entropy, one row's)
/// contribution after the reduction: `1 / count` for the mean, `1` for the
/// sum. Gradients are this times a per-element derivative and values this
/// times a sum of per-element losses, so an absolute error far below it is
/// rounding, not a different result. It is the floor of the relative
/// deviation: where the exact result is 0 or tiny, the two sides may round
/// differently to 0 or to a tiny number (PyTorch's `float64` gives
/// `BCE(−50, 0) = 0`, whose exact value is 1.9e-22).
fn unit(reduction: Reduction, count: usize) -> f64 {
    match reduction {
        Reduction::Mean => 1.0 / count as f64,
        Reduction::Sum => 1.0,
    }
}

/// A loss that can be built from a golden case.
trait GoldenLoss<T: Scalar>: Loss<T> + Sized {
    /// The loss's name in the golden file.
    const NAME: &'static str;
    /// Whether the target of a row is one class index (else `W` values).
    const CLASS_INDEX: bool = false;
    /// Whether `'mean'` divides by the rows (else by rows · W).
    const MEAN_OVER_ROWS: bool = false;

    /// The loss with the case's hyperparameters and `reduction`.
    fn configure(g: &Golden, case: &str, reduction: Reduction) -> Self;

    /// One row's target from its values in the file.
    fn target<const W: usize>(values: &[f64]) -> Self::Target<W>;
}

/// The value of `key` if the file has it.
fn optional(g: &Golden, key: &str) -> Option<f64> {
    g.keys_with_prefix(key)
        .any(|k| k == key)
        .then(|| g.scalar(key))
}

fn dense<T: Scalar, const W: usize>(values: &[f64]) -> [T; W] {
    assert_eq!(values.len(), W, "target row of the wrong width");
    core::array::from_fn(|j| T::from_f64(values[j]))
}

macro_rules! dense_loss {
    ($ty:ident, $name:literal, |$g:ident, $case:ident, $reduction:ident| $build:expr) => {
        impl<T: Scalar> GoldenLoss<T> for $ty {
            const NAME: &'static str = $name;
            fn configure($g: &Golden, $case: &str, $reduction: Reduction) -> Self {
                $build
            }
            fn target<const W: usize>(values: &[f64]) -> [T; W] {
                dense(values)
            }
        }
    };
}

dense_loss!(Mse, "mse", |_g, _case, reduction| Mse { reduction });
dense_loss!(L1, "l1", |_g, _case, reduction| L1 { reduction });
dense_loss!(Huber, "huber", |g, case, reduction| Huber {
    delta: g.scalar(&format!("{case}/delta")),
    reduction,
});
dense_loss!(BceWithLogits, "bce_with_logits", |_g, _case, reduction| {
    BceWithLogits { reduction }
});

impl<T: Scalar> GoldenLoss<T> for SoftCrossEntropy {
    const NAME: &'static str = "soft_cross_entropy";
    const MEAN_OVER_ROWS: bool = true;
    fn configure(g: &Golden, case: &str, reduction: Reduction) -> Self {
        SoftCrossEntropy {
            reduction,
            label_smoothing: optional(g, &format!("{case}/label_smoothing")).unwrap_or(0.0),
        }
    }
    fn target<const W: usize>(values: &[f64]) -> [T; W] {
        dense(values)
    }
}

impl<T: Scalar> GoldenLoss<T> for CrossEntropy {
    const NAME: &'static str = "cross_entropy";
    const CLASS_INDEX: bool = true;
    const MEAN_OVER_ROWS: bool = true;
    fn configure(g: &Golden, case: &str, reduction: Reduction) -> Self {
        CrossEntropy {
            reduction,
            label_smoothing: optional(g, &format!("{case}/label_smoothing")).unwrap_or(0.0),
        }
    }
    fn target<const W: usize>(values: &[f64]) -> usize {
        assert_eq!(values.len(), 1, "a class index per row");
        values[0] as usize
    }
}

/// One evaluation of a loss on a golden case's inputs, at the case's
/// compile-time shape.
struct Evaluate<'a, T, L> {
    loss: L,
    pred: &'a [f64],
    target: &'a [f64],
    rows: usize,
    scalar: PhantomData<T>,
}

impl<T: Scalar, L: GoldenLoss<T>> Evaluate<'_, T, L> {
    /// The loss and its gradient (rows after row) at batch `B`, width `W`.
    fn run<const B: usize, const W: usize>(self) -> (f64, Vec<f64>) {
        assert_eq!(self.pred.len(), B * W, "pred of the wrong size");
        let pred: [[T; W]; B] = core::array::from_fn(|b| dense(&self.pred[b * W..][..W]));
        let per_row = if L::CLASS_INDEX { 1 } else { W };
        assert_eq!(self.target.len(), B * per_row, "target of the wrong size");
        let target: [L::Target<W>; B] =
            core::array::from_fn(|b| L::target::<W>(&self.target[b * per_row..][..per_row]));
        // NaN, so that an entry the loss forgets to write cannot pass.
        let mut grad = [[T::from_f64(f64::NAN); W]; B];
        let value = self
            .loss
            .value_and_grad_rows(&pred, &target, self.rows, Some(&mut grad))
            .expect("golden inputs are valid");
        let grad = grad.iter().flatten().map(|g| g.to_f64()).collect();
        (value.to_f64(), grad)
    }

    /// [`Evaluate::run`] at a shape known at run time; the golden file
    /// uses only these.
    fn run_at(self, batch: usize, width: usize) -> (f64, Vec<f64>) {
        match (batch, width) {
            (4, 4) => self.run::<4, 4>(),
            (2, 4) => self.run::<2, 4>(),
            (2, 2) => self.run::<2, 2>(),
            (5, 1) => self.run::<5, 1>(),
            _ => panic!("no golden shape {batch} x {width} here: add it to run_at"),
        }
    }
}

/// The deviation of `actual` from `expected` relative to `max(|e|, floor)`
/// (0 when equal, NaN stays NaN so that it fails every comparison).
fn deviation(actual: f64, expected: f64, floor: f64) -> f64 {
    if actual == expected {
        0.0
    } else {
        (actual - expected).abs() / expected.abs().max(floor)
    }
}

/// Checks every case of `L` in dtype `T` against the file and returns the
/// largest deviation seen.
fn check<T: Scalar, L: GoldenLoss<T>>(g: &Golden, tol: f64) -> f64 {
    let prefix = format!("{}/", L::NAME);
    let cases: Vec<&str> = g
        .keys_with_prefix(&prefix)
        .filter_map(|k| k.strip_suffix("/shape"))
        .collect();
    assert!(cases.len() >= 3, "{}: too few cases in the file", L::NAME);
    let mut worst = 0.0f64;
    for case in cases {
        let shape = g.get(&format!("{case}/shape"));
        let [batch, width, rows] = [0, 1, 2].map(|i| shape[i] as usize);
        let count = if L::MEAN_OVER_ROWS {
            rows
        } else {
            rows * width
        };
        for (reduction, name) in [(Reduction::Mean, "mean"), (Reduction::Sum, "sum")] {
            let run = Evaluate::<T, L> {
                loss: L::configure(g, case, reduction),
                pred: g.get(&format!("{case}/pred")),
                target: g.get(&format!("{case}/target")),
                rows,
                scalar: PhantomData,
            };
            let (value, grad) = run.run_at(batch, width);
            let key = format!("{case}/{}/{name}", T::NAME);
            let floor = unit(reduction, count);
            let want = g.scalar(&format!("{key}/value"));
            let dev = deviation(value, want, floor);
            assert!(
                dev <= tol,
                "{key}/value: {value:e}, PyTorch {want:e} (deviation {dev:e})"
            );
            worst = worst.max(dev);
            let want = g.get(&format!("{key}/grad"));
            assert_eq!(grad.len(), want.len(), "{key}/grad: length");
            for (i, (a, e)) in grad.iter().zip(want).enumerate() {
                let dev = deviation(*a, *e, floor);
                assert!(
                    dev <= tol,
                    "{key}/grad[{i}] (row {}, column {}): {a:e}, PyTorch {e:e} (deviation {dev:e})",
                    i / width,
                    i % width
                );
                worst = worst.max(dev);
            }
            for (i, a) in grad.iter().enumerate().skip(rows * width) {
                assert_eq!(*a, 0.0, "{key}/grad[{i}]: a padding row's gradient");
            }
        }
    }
    worst
}

/// Checks `L` in both dtypes and prints the largest deviations.
fn check_both<L: GoldenLoss<f64> + GoldenLoss<f32>>() {
    let g = Golden::load("losses.txt");
    let name = <L as GoldenLoss<f64>>::NAME;
    let d64 = check::<f64, L>(&g, F64_TOL);
    eprintln!("max rel dev {name}/f64 = {d64:.1e}");
    let d32 = check::<f32, L>(&g, F32_TOL);
    eprintln!("max rel dev {name}/f32 = {d32:.1e}");
}

#[test]
fn mse_matches_pytorch() {
    check_both::<Mse>();
}

#[test]
fn l1_matches_pytorch() {
    check_both::<L1>();
}

#[test]
fn huber_matches_pytorch() {
    check_both::<Huber>();
}

#[test]
fn bce_with_logits_matches_pytorch() {
    check_both::<BceWithLogits>();
}

#[test]
fn cross_entropy_matches_pytorch() {
    check_both::<CrossEntropy>();
}

#[test]
fn soft_cross_entropy_matches_pytorch() {
    check_both::<SoftCrossEntropy>();
}

#[test]
fn every_loss_in_the_file_is_checked() {
    let g = Golden::load("losses.txt");
    let mut names: Vec<&str> = g
        .keys_with_prefix("")
        .map(|k| k.split('/').next().unwrap())
        .collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    let checked = [
        <Mse as GoldenLoss<f64>>::NAME,
        <L1 as GoldenLoss<f64>>::NAME,
        <Huber as GoldenLoss<f64>>::NAME,
        <BceWithLogits as GoldenLoss<f64>>::NAME,
        <CrossEntropy as GoldenLoss<f64>>::NAME,
        <SoftCrossEntropy as GoldenLoss<f64>>::NAME,
    ];
    let mut checked = checked.to_vec();
    checked.sort_unstable();
    assert_eq!(names, checked);
}
