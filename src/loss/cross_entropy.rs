//! Softmax cross-entropy on logits: with class indices as targets
//! ([`CrossEntropy`]) or with probabilities ([`SoftCrossEntropy`]).

use super::{check_rows, invalid, scale, zero_rows, Loss, Reduction};
use crate::{Error, Scalar};

/// Softmax cross-entropy with class-index targets, PyTorch's
/// `nn.CrossEntropyLoss` given a class index per row (without `weight` or
/// `ignore_index`).
///
/// For a row of logits `z` over `C = W` classes and its class `k`, with
/// `ln p_j = z_j − ln Σᵢ e^(zᵢ)` (log-softmax):
///
/// ```text
/// ℓ = −ln p_k                                   (label_smoothing ε = 0)
/// ℓ = (1 − ε)(−ln p_k) + ε · (1/C) Σⱼ (−ln p_j)  (ε > 0)
/// ```
///
/// `'mean'` divides by the number of rows (not by `rows · W`). Gradient:
/// `p − q` times the reduction's scale, where `q = (1 − ε)·onehot(k) + ε/C`
/// is the smoothed target.
///
/// The textbook form computes the softmax `p` first and then `−ln p_k`; in
/// floating point `e^(z)` overflows for `z ≳ 89` (`f32`) or `710` (`f64`)
/// and `p_k` underflows to 0, giving `ln 0`. Here the log-sum-exp is taken
/// after subtracting the row's maximum, so logits of any finite magnitude
/// give a finite loss and gradient: logits `[1000, −1000]` give `0` for
/// class 0 and `2000` for class 1.
///
/// A class index `≥ W` in one of the first `rows` rows is an
/// [`Error::ClassOutOfRange`] naming the row; `label_smoothing` must lie in
/// `[0, 1]` (as in PyTorch), otherwise [`Error::InvalidConfig`]. On either
/// error `grad` is left untouched. The targets of padding rows are not
/// read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropy {
    /// Mean over rows (default) or sum.
    pub reduction: Reduction,
    /// PyTorch's `label_smoothing` ε (default 0): the share of the target
    /// spread evenly over all classes.
    pub label_smoothing: f64,
}

/// Softmax cross-entropy with probability targets, PyTorch's
/// `nn.CrossEntropyLoss` given a target of the same shape as the logits
/// (class probabilities, for example one-hot or soft labels).
///
/// For a row of logits `z`, its target `y` and `C = W` classes, with `q =
/// (1 − ε)·y + ε/C` (`q = y` without label smoothing):
///
/// ```text
/// ℓ = −Σⱼ q_j ln p_j,   ln p_j = z_j − ln Σᵢ e^(zᵢ)
/// ```
///
/// `'mean'` divides by the number of rows, as for [`CrossEntropy`].
/// Gradient: `p·Σⱼq_j − q` times the reduction's scale, which is the
/// familiar `p − q` when the target sums to 1 (PyTorch does not require
/// it to, and neither does this). A one-hot `y` gives exactly
/// [`CrossEntropy`] on that class.
///
/// Stable for logits of any finite magnitude, as [`CrossEntropy`] is.
/// `label_smoothing` outside `[0, 1]` is an [`Error::InvalidConfig`] and
/// leaves `grad` untouched.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SoftCrossEntropy {
    /// Mean over rows (default) or sum.
    pub reduction: Reduction,
    /// PyTorch's `label_smoothing` ε (default 0).
    pub label_smoothing: f64,
}

/// Checks `0 ≤ ε ≤ 1` (which also rejects NaN).
fn check_label_smoothing(epsilon: f64) -> Result<(), Error> {
    if (0.0..=1.0).contains(&epsilon) {
        Ok(())
    } else {
        Err(invalid(
            "CrossEntropyLoss",
            "label_smoothing",
            "a number in [0, 1]",
            epsilon,
        ))
    }
}

/// The index of the first largest value (0 for an empty row; NaN never
/// counts as largest unless it comes first).
fn argmax<T: Scalar, const W: usize>(row: &[T; W]) -> usize {
    let mut top = 0;
    for (j, v) in row.iter().enumerate() {
        if *v > row[top] {
            top = j;
        }
    }
    top
}

/// The log-sum-exp of one row of logits, taken stably: with `m = max z`,
/// `ln Σ e^(z_j) = m + ln(1 + Σ_{j≠argmax} e^(z_j − m))`, where every
/// exponent is ≤ 0 and the largest term (exactly 1) is kept out of the sum
/// so that `ln_1p` keeps the digits of a small remainder.
struct LogSumExp<T> {
    /// The row's maximum `m`.
    max: T,
    /// `Σ e^(z_j − m)`, at least 1.
    sum: T,
    /// `ln Σ e^(z_j − m)`, so `ln p_j = (z_j − m) − ln_sum`.
    ln_sum: T,
}

impl<T: Scalar> LogSumExp<T> {
    fn of<const W: usize>(z: &[T; W]) -> Self {
        const { assert!(W > 0, "cross-entropy needs at least one class") };
        let top = argmax(z);
        let max = z[top];
        let mut rest = T::ZERO;
        for (j, v) in z.iter().enumerate() {
            if j != top {
                rest += (*v - max).exp();
            }
        }
        Self {
            max,
            sum: T::ONE + rest,
            ln_sum: rest.ln_1p(),
        }
    }

    /// `−ln p_j` for the logit `z_j` of this row.
    #[inline]
    fn nll(&self, z_j: T) -> T {
        self.ln_sum - (z_j - self.max)
    }

    /// The softmax `p_j` for the logit `z_j` of this row.
    #[inline]
    fn prob(&self, z_j: T) -> T {
        (z_j - self.max).exp() / self.sum
    }
}

impl<T: Scalar> Loss<T> for CrossEntropy {
    type Target<const W: usize> = usize;

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The largest logit (the first of equal ones, like `torch.argmax`) is
    /// at the target class.
    fn is_correct<const W: usize>(&self, pred: &[T; W], target: &usize) -> Option<bool> {
        Some(argmax(pred) == *target)
    }

    fn value_and_grad_rows<const W: usize, const B: usize>(
        &self,
        pred: &[[T; W]; B],
        target: &[usize; B],
        rows: usize,
        mut grad: Option<&mut [[T; W]; B]>,
    ) -> Result<T, Error> {
        check_rows::<B>(rows)?;
        check_label_smoothing(self.label_smoothing)?;
        // Every target is checked before any gradient is written.
        if let Some((row, &class)) = target[..rows].iter().enumerate().find(|(_, c)| **c >= W) {
            return Err(Error::ClassOutOfRange {
                row,
                class,
                classes: W,
            });
        }
        let s: T = scale(self.reduction, rows);
        let smoothing = self.label_smoothing != 0.0;
        let epsilon = T::from_f64(self.label_smoothing);
        let keep = T::ONE - epsilon;
        let spread = epsilon / T::from_f64(W as f64);
        let mut total = T::ZERO;
        for (b, (z, &k)) in pred[..rows].iter().zip(&target[..rows]).enumerate() {
            let lse = LogSumExp::of(z);
            total += if smoothing {
                let mut uniform = T::ZERO;
                for z_j in z {
                    uniform += lse.nll(*z_j);
                }
                keep * lse.nll(z[k]) + spread * uniform
            } else {
                lse.nll(z[k])
            };
            if let Some(grad) = grad.as_deref_mut() {
                for (j, (g, z_j)) in grad[b].iter_mut().zip(z).enumerate() {
                    let q = if j == k { keep + spread } else { spread };
                    *g = s * (lse.prob(*z_j) - q);
                }
            }
        }
        if let Some(grad) = grad {
            zero_rows(&mut grad[rows..]);
        }
        Ok(total * s)
    }
}

impl<T: Scalar> Loss<T> for SoftCrossEntropy {
    type Target<const W: usize> = [T; W];

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The largest logit is where the target is largest (the first of
    /// equal ones on both sides).
    fn is_correct<const W: usize>(&self, pred: &[T; W], target: &[T; W]) -> Option<bool> {
        Some(argmax(pred) == argmax(target))
    }

    fn value_and_grad_rows<const W: usize, const B: usize>(
        &self,
        pred: &[[T; W]; B],
        target: &[[T; W]; B],
        rows: usize,
        mut grad: Option<&mut [[T; W]; B]>,
    ) -> Result<T, Error> {
        check_rows::<B>(rows)?;
        check_label_smoothing(self.label_smoothing)?;
        let s: T = scale(self.reduction, rows);
        // With ε = 0 these make q = 1·y + 0 = y exactly.
        let epsilon = T::from_f64(self.label_smoothing);
        let keep = T::ONE - epsilon;
        let spread = epsilon / T::from_f64(W as f64);
        let mut total = T::ZERO;
        for (b, (z, y)) in pred[..rows].iter().zip(&target[..rows]).enumerate() {
            let lse = LogSumExp::of(z);
            let mut mass = T::ZERO;
            for (z_j, y_j) in z.iter().zip(y) {
                let q = keep * *y_j + spread;
                total += q * lse.nll(*z_j);
                mass += q;
            }
            if let Some(grad) = grad.as_deref_mut() {
                for ((g, z_j), y_j) in grad[b].iter_mut().zip(z).zip(y) {
                    let q = keep * *y_j + spread;
                    *g = s * (lse.prob(*z_j) * mass - q);
                }
            }
        }
        if let Some(grad) = grad {
            zero_rows(&mut grad[rows..]);
        }
        Ok(total * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 2e-16 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    fn assert_rows_close<const W: usize>(actual: &[[f64; W]], expected: &[[f64; W]]) {
        for (a, e) in actual.iter().flatten().zip(expected.iter().flatten()) {
            assert_close(*a, *e);
        }
    }

    /// Logits whose softmax is `[1/4, 3/4]`.
    fn quarter_three_quarters() -> [f64; 2] {
        [0.0, 3.0f64.ln()]
    }

    #[test]
    fn class_indices_by_hand() {
        let z = quarter_three_quarters();
        let pred = [z, z];
        let target = [1, 0];
        let mut g = [[9.0; 2]; 2];
        let mean = CrossEntropy::default()
            .value_and_grad(&pred, &target, &mut g)
            .unwrap();
        // −ln(3/4) and −ln(1/4), averaged over the 2 rows (not 4 elements)
        assert_close(mean, ((4.0f64 / 3.0).ln() + 4.0f64.ln()) / 2.0);
        assert_rows_close(&g, &[[0.125, -0.125], [-0.375, 0.375]]);
        let sum = CrossEntropy {
            reduction: Reduction::Sum,
            ..CrossEntropy::default()
        };
        let v = sum.value_and_grad(&pred, &target, &mut g).unwrap();
        assert_close(v, (4.0f64 / 3.0).ln() + 4.0f64.ln());
        assert_rows_close(&g, &[[0.25, -0.25], [-0.75, 0.75]]);
    }

    #[test]
    fn logits_of_magnitude_1000() {
        fn check<T: Scalar>() {
            let k = T::from_f64(1000.0);
            let pred = [[k, -k], [k, -k], [-k, -k]];
            let mut g = [[T::ZERO; 2]; 3];
            let sum = CrossEntropy {
                reduction: Reduction::Sum,
                ..CrossEntropy::default()
            };
            let mut one = [[T::ONE; 2]];
            let right = sum.value_and_grad(&[[k, -k]], &[0], &mut one);
            assert_eq!(right, Ok(T::ZERO), "{}", T::NAME);
            assert_eq!(one, [[T::ZERO; 2]], "{}", T::NAME);
            let wrong = sum.value_and_grad(&[[k, -k]], &[1], &mut one);
            assert_eq!(wrong, Ok(T::from_f64(2000.0)), "{}", T::NAME);
            assert_eq!(one, [[T::ONE, -T::ONE]], "{}", T::NAME);
            let v = sum.value_and_grad(&pred, &[0, 1, 1], &mut g).unwrap();
            // a tie of two logits at −1000 adds ln 2
            let expected = 2000.0 + core::f64::consts::LN_2;
            assert!(
                (v.to_f64() - expected).abs() <= expected * f64::from(f32::EPSILON),
                "{} {v}",
                T::NAME
            );
            let (o, h) = (T::ONE, T::from_f64(0.5));
            assert_eq!(g, [[T::ZERO, T::ZERO], [o, -o], [h, -h]], "{}", T::NAME);
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn class_out_of_range_names_the_row_and_leaves_grad() {
        let pred = [[0.0f64; 3]; 3];
        let mut g = [[7.0; 3]; 3];
        let err = CrossEntropy::default()
            .value_and_grad(&pred, &[2, 3, 0], &mut g)
            .unwrap_err();
        assert_eq!(
            err,
            Error::ClassOutOfRange {
                row: 1,
                class: 3,
                classes: 3
            }
        );
        assert_eq!(g, [[7.0; 3]; 3], "untouched on error");
    }

    #[test]
    fn partial_batches_ignore_padding_rows_and_their_targets() {
        let z = quarter_three_quarters();
        let pred = [z, [1e6, -1e6]];
        let mut g = [[9.0; 2]; 2];
        // the padding row's class 99 is never read
        let v = CrossEntropy::default()
            .value_and_grad_rows(&pred, &[1, 99], 1, Some(&mut g))
            .unwrap();
        assert_close(v, (4.0f64 / 3.0).ln());
        assert_rows_close(&g, &[[0.25, -0.25], [0.0, 0.0]]);
        assert_eq!(g[1], [0.0, 0.0]);
        assert_eq!(
            CrossEntropy::default().value_and_grad_rows(&pred, &[1, 0], 3, Some(&mut g)),
            Err(Error::RowsOutOfRange { rows: 3, batch: 2 })
        );
    }

    #[test]
    fn label_smoothing_follows_pytorch() {
        // ε = 0.5 over 2 classes: q = [0.25, 0.75] for class 1, which is
        // exactly the softmax, so the gradient vanishes and the loss is
        // the entropy of [1/4, 3/4].
        let z = quarter_three_quarters();
        let smooth = CrossEntropy {
            reduction: Reduction::Sum,
            label_smoothing: 0.5,
        };
        let mut g = [[9.0; 2]];
        let v = smooth.value_and_grad(&[z], &[1], &mut g).unwrap();
        assert_close(v, 0.25 * 4.0f64.ln() + 0.75 * (4.0f64 / 3.0).ln());
        assert_rows_close(&g, &[[0.0, 0.0]]);
        // ε = 1 ignores the class: the mean of −ln p_j.
        let uniform = CrossEntropy {
            label_smoothing: 1.0,
            ..smooth
        };
        let v = uniform.value_and_grad(&[z], &[0], &mut g).unwrap();
        assert_close(v, 0.5 * (4.0f64.ln() + (4.0f64 / 3.0).ln()));
        assert_rows_close(&g, &[[-0.25, 0.25]]);
        for epsilon in [-0.1, 1.5, f64::NAN] {
            let bad = CrossEntropy {
                label_smoothing: epsilon,
                ..smooth
            };
            let err = bad.value_and_grad(&[z], &[0], &mut g).unwrap_err();
            assert!(matches!(
                err,
                Error::InvalidConfig {
                    field: "label_smoothing",
                    ..
                }
            ));
            let bad = SoftCrossEntropy {
                label_smoothing: epsilon,
                ..SoftCrossEntropy::default()
            };
            let err = bad.value_and_grad(&[z], &[[1.0, 0.0]], &mut g).unwrap_err();
            assert!(matches!(
                err,
                Error::InvalidConfig {
                    field: "label_smoothing",
                    ..
                }
            ));
            assert_rows_close(&g, &[[-0.25, 0.25]]);
        }
    }

    #[test]
    fn soft_targets_by_hand() {
        let z = quarter_three_quarters();
        let mut g = [[9.0; 2]; 2];
        let mean = SoftCrossEntropy::default()
            .value_and_grad(&[z, z], &[[0.5, 0.5], [2.0, 0.0]], &mut g)
            .unwrap();
        // row 0: ½ ln 4 + ½ ln(4/3); row 1 (mass 2): 2 ln 4
        let rows = 0.5 * 4.0f64.ln() + 0.5 * (4.0f64 / 3.0).ln() + 2.0 * 4.0f64.ln();
        assert_close(mean, rows / 2.0);
        // p·Σq − q, halved by the mean over 2 rows
        assert_rows_close(&g, &[[-0.125, 0.125], [-0.75, 0.75]]);
    }

    #[test]
    fn one_hot_targets_match_class_indices() {
        let pred = [[0.3f64, -1.2, 2.5, 0.0], [4.0, 4.0, -3.0, 1.0], [0.0; 4]];
        let classes = [2, 1, 3];
        let mut one_hot = [[0.0f64; 4]; 3];
        for (row, &k) in one_hot.iter_mut().zip(&classes) {
            row[k] = 1.0;
        }
        for reduction in [Reduction::Mean, Reduction::Sum] {
            for label_smoothing in [0.0, 0.1] {
                let (mut g_idx, mut g_soft) = ([[0.0; 4]; 3], [[0.0; 4]; 3]);
                let by_index = CrossEntropy {
                    reduction,
                    label_smoothing,
                }
                .value_and_grad(&pred, &classes, &mut g_idx)
                .unwrap();
                let by_prob = SoftCrossEntropy {
                    reduction,
                    label_smoothing,
                }
                .value_and_grad(&pred, &one_hot, &mut g_soft)
                .unwrap();
                assert_close(by_prob, by_index);
                assert_rows_close(&g_soft, &g_idx);
            }
        }
    }

    #[test]
    fn soft_targets_with_logits_of_magnitude_1000() {
        fn check<T: Scalar>() {
            let k = T::from_f64(1000.0);
            let h = T::from_f64(0.5);
            let mut g = [[T::ZERO; 2]];
            let v = SoftCrossEntropy::default()
                .value_and_grad(&[[k, -k]], &[[h, h]], &mut g)
                .unwrap();
            // ½·0 + ½·2000
            assert_eq!(v, k, "{}", T::NAME);
            assert_eq!(g, [[h, -h]], "{}", T::NAME);
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn correct_means_the_first_largest_logit() {
        let ce = CrossEntropy::default();
        let z = [0.5f32, 2.0, 2.0, -1.0];
        assert_eq!(Loss::<f32>::is_correct(&ce, &z, &1), Some(true));
        assert_eq!(
            Loss::<f32>::is_correct(&ce, &z, &2),
            Some(false),
            "ties go to the first"
        );
        let soft = SoftCrossEntropy::default();
        assert_eq!(soft.is_correct(&z, &[0.1, 0.6, 0.2, 0.1]), Some(true));
        assert_eq!(soft.is_correct(&z, &[0.1, 0.2, 0.6, 0.1]), Some(false));
    }
}
