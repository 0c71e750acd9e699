//! Mean absolute error (L1).

use super::{elementwise, Loss, Reduction};
use crate::{Error, Scalar};

/// Mean absolute error, PyTorch's `nn.L1Loss`: `ℓ = reduce(|ŷ − y|)`, with
/// `'mean'` averaging over all `rows · W` elements.
///
/// Gradient: `sign(ŷ − y)` times the reduction's scale, and `0` where
/// `ŷ = y` exactly (where `|·|` has no derivative; PyTorch picks the same
/// subgradient).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1 {
    /// Mean (default) or sum.
    pub reduction: Reduction,
}

/// The mean absolute error under its other name: the same type as [`L1`].
pub type Mae = L1;

impl<T: Scalar> Loss<T> for L1 {
    type Target<const W: usize> = [T; W];

    fn reduction(&self) -> Reduction {
        self.reduction
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
            |p, y| (p - y).abs(),
            |p, y| sign(p - y),
        )
    }
}

/// `−1`, `0` or `1` by the sign of `d` (NaN stays NaN, like PyTorch's
/// `sgn`).
#[inline]
fn sign<T: Scalar>(d: T) -> T {
    if d > T::ZERO {
        T::ONE
    } else if d < T::ZERO {
        -T::ONE
    } else {
        // 0 for ±0; a NaN difference passes through as NaN.
        d + d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sum_over_elements() {
        let pred = [[1.0f64, 2.0], [3.0, -5.0]];
        let target = [[0.0, 2.0], [1.0, -1.0]];
        // absolute errors 1, 0, 2, 4
        let mut g = [[0.0; 2]; 2];
        let mean = Mae::default()
            .value_and_grad(&pred, &target, &mut g)
            .unwrap();
        assert_eq!(mean, 7.0 / 4.0);
        assert_eq!(
            g,
            [[0.25, 0.0], [0.25, -0.25]],
            "sign / (rows · W), 0 at a tie"
        );
        let sum = L1 {
            reduction: Reduction::Sum,
        };
        assert_eq!(sum.value_and_grad(&pred, &target, &mut g).unwrap(), 7.0);
        assert_eq!(g, [[1.0, 0.0], [1.0, -1.0]]);
    }

    #[test]
    fn ties_have_zero_gradient_even_at_signed_zero() {
        let pred = [[0.0f32, -0.0, 3.5]];
        let target = [[-0.0f32, 0.0, 3.5]];
        let mut g = [[9.0; 3]];
        let v = L1::default()
            .value_and_grad(&pred, &target, &mut g)
            .unwrap();
        assert_eq!(v, 0.0);
        assert_eq!(g, [[0.0; 3]]);
    }

    #[test]
    fn partial_batches_ignore_padding_rows() {
        let pred = [[1.0f64, 1.0], [-3.0, 0.0], [100.0, 7.0]];
        let target = [[0.0, 2.0], [1.0, 0.0], [0.0, 0.0]];
        let mut g = [[9.0; 2]; 3];
        let v = L1::default()
            .value_and_grad_rows(&pred, &target, 2, Some(&mut g))
            .unwrap();
        assert_eq!(v, (1.0 + 1.0 + 4.0 + 0.0) / 4.0, "mean over rows · W = 4");
        assert_eq!(g, [[0.25, -0.25], [-0.25, 0.0], [0.0, 0.0]]);
        assert_eq!(
            L1::default().value_and_grad_rows(&pred, &target, 4, Some(&mut g)),
            Err(Error::RowsOutOfRange { rows: 4, batch: 3 })
        );
        assert_eq!(
            g,
            [[0.25, -0.25], [-0.25, 0.0], [0.0, 0.0]],
            "untouched on error"
        );
    }

    #[test]
    fn large_magnitudes_stay_finite() {
        let pred = [[1000.0f32, -1000.0]];
        let target = [[-1000.0f32, 1000.0]];
        let mut g = [[0.0; 2]];
        let v = L1::default()
            .value_and_grad(&pred, &target, &mut g)
            .unwrap();
        assert_eq!(v, 2000.0);
        assert_eq!(g, [[0.5, -0.5]]);
    }
}
