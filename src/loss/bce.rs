//! Binary cross-entropy on logits.

use super::{elementwise, Loss, Reduction};
use crate::{Error, Scalar};

/// Binary cross-entropy with logits, PyTorch's `nn.BCEWithLogitsLoss`
/// (without `weight` or `pos_weight`): for a logit `z` and a target
/// probability `y ∈ [0, 1]`,
///
/// ```text
/// ℓ(z, y) = max(z, 0) − z·y + ln(1 + e^(−|z|))
/// ```
///
/// and `'mean'` averages over all `rows · W` elements (each output is an
/// independent yes/no). Gradient: `σ(z) − y` times the reduction's scale.
///
/// This is the textbook `−[y ln σ(z) + (1 − y) ln(1 − σ(z))]` written in
/// `z`: the textbook form, evaluated through `σ(z)`, gives `ln 0 = −∞` once
/// `σ` rounds to 0 or 1 (at `|z| ≈ 17` in `f32`), while this one stays
/// exact for any finite logit (`z = ±1000` included). The linear part is
/// computed as `(1 − y)·z` for `z ≥ 0` and `−z·y` otherwise, which avoids
/// the cancellation of `z − z·y` when `y` is close to 1, and `σ` as
/// `1 / (1 + e^(−z))` or `e^z / (1 + e^z)` so that `e` is only raised to
/// non-positive powers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BceWithLogits {
    /// Mean (default) or sum.
    pub reduction: Reduction,
}

impl<T: Scalar> Loss<T> for BceWithLogits {
    type Target<const W: usize> = [T; W];

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// Every output is right on its side of ½: `σ(z) > ½` (that is, `z > 0`)
    /// exactly where `y > ½` (exact-match accuracy when `W > 1`).
    fn is_correct<const W: usize>(&self, pred: &[T; W], target: &[T; W]) -> Option<bool> {
        let half = T::from_f64(0.5);
        Some(
            pred.iter()
                .zip(target)
                .all(|(z, y)| (*z > T::ZERO) == (*y > half)),
        )
    }

    fn value_and_grad_rows<const W: usize, const B: usize>(
        &self,
        pred: &[[T; W]; B],
        target: &[[T; W]; B],
        rows: usize,
        grad: Option<&mut [[T; W]; B]>,
    ) -> Result<T, Error> {
        elementwise(
            self.reduction,
            pred,
            target,
            rows,
            grad,
            |z, y| {
                let linear = if z >= T::ZERO {
                    (T::ONE - y) * z
                } else {
                    -z * y
                };
                linear + (-z.abs()).exp().ln_1p()
            },
            |z, y| sigmoid(z) - y,
        )
    }
}

/// `σ(z) = 1 / (1 + e^(−z))` without overflow for any `z`.
#[inline]
fn sigmoid<T: Scalar>(z: T) -> T {
    let e = (-z.abs()).exp();
    if z >= T::ZERO {
        T::ONE / (T::ONE + e)
    } else {
        e / (T::ONE + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Mse;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-15 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    #[test]
    fn values_and_gradients_by_hand() {
        // σ(ln 3) = 3/4 and σ(−ln 3) = 1/4, so the losses are ln(4/3)
        let ln3 = 3.0f64.ln();
        let pred = [[0.0, ln3], [-ln3, 0.0]];
        let target = [[0.5, 1.0], [0.0, 0.5]];
        let mut g = [[9.0; 2]; 2];
        let sum = BceWithLogits {
            reduction: Reduction::Sum,
        };
        let v = sum.value_and_grad(&pred, &target, &mut g).unwrap();
        assert_close(v, 2.0 * 2.0f64.ln() + 2.0 * (4.0f64 / 3.0).ln());
        let expected = [[0.0, -0.25], [0.25, 0.0]];
        for (row, want) in g.iter().zip(&expected) {
            for (a, e) in row.iter().zip(want) {
                assert_close(*a, *e);
            }
        }
        let mean = BceWithLogits::default()
            .value_and_grad(&pred, &target, &mut g)
            .unwrap();
        assert_close(mean, v / 4.0);
        for (row, want) in g.iter().zip(&expected) {
            for (a, e) in row.iter().zip(want) {
                assert_close(*a, *e / 4.0);
            }
        }
    }

    #[test]
    fn logits_of_magnitude_1000_are_exact() {
        fn check<T: Scalar>() {
            let k = T::from_f64(1000.0);
            let pred = [[k, -k, k, -k]];
            let target = [[T::ONE, T::ZERO, T::ZERO, T::ONE]];
            let mut g = [[T::ZERO; 4]];
            let sum = BceWithLogits {
                reduction: Reduction::Sum,
            };
            let v = sum.value_and_grad(&pred, &target, &mut g).unwrap();
            // right and confident: 0; wrong and confident: |z|
            assert_eq!(v, T::from_f64(2000.0), "{}", T::NAME);
            assert_eq!(g, [[T::ZERO, T::ZERO, T::ONE, -T::ONE]], "{}", T::NAME);
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn no_cancellation_for_targets_near_one() {
        // z − z·y would lose 4 of f32's 7 digits here; (1 − y)·z loses none.
        let (z, y) = (1000.0f32, 0.999f32);
        let v = BceWithLogits::default().value(&[[z]], &[[y]]).unwrap();
        let exact = (1.0 - f64::from(y)) * f64::from(z);
        assert!(
            ((f64::from(v) - exact) / exact).abs() < 1e-6,
            "{v} vs {exact}"
        );
    }

    #[test]
    fn partial_batches_ignore_padding_rows() {
        let pred = [[0.0f64, 0.0], [0.0, 0.0], [1e6, -1e6]];
        let target = [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        let mut g = [[9.0; 2]; 3];
        let v = BceWithLogits::default()
            .value_and_grad_rows(&pred, &target, 2, Some(&mut g))
            .unwrap();
        assert_close(v, 2.0f64.ln());
        assert_eq!(g, [[0.125, -0.125], [-0.125, 0.125], [0.0, 0.0]]);
        assert_eq!(
            BceWithLogits::default().value_and_grad_rows(&pred, &target, 4, Some(&mut g)),
            Err(Error::RowsOutOfRange { rows: 4, batch: 3 })
        );
        assert_eq!(
            g,
            [[0.125, -0.125], [-0.125, 0.125], [0.0, 0.0]],
            "untouched on error"
        );
    }

    #[test]
    fn correct_means_every_output_on_the_right_side_of_one_half() {
        let bce = BceWithLogits::default();
        assert_eq!(bce.is_correct(&[2.0f64, -0.5], &[1.0, 0.0]), Some(true));
        assert_eq!(bce.is_correct(&[2.0f64, 0.5], &[1.0, 0.0]), Some(false));
        assert_eq!(
            bce.is_correct(&[0.0f64], &[1.0]),
            Some(false),
            "σ(0) = ½ is no"
        );
        assert_eq!(Mse::default().is_correct(&[0.0f64], &[0.0]), None);
    }
}
