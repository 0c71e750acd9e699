//! Mean squared error.

use super::{elementwise, Loss, Reduction};
use crate::{Error, Scalar};

/// Mean squared error, PyTorch's `nn.MSELoss`:
/// `ℓ = reduce((ŷ − y)²)`, with `'mean'` averaging over all `rows · W`
/// elements. Gradient: `2(ŷ − y)` times the reduction's scale.
///
/// Textbooks often halve the square (`½(ŷ − y)²`, gradient `ŷ − y`);
/// PyTorch does not, and neither does this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mse {
    /// Mean (default) or sum.
    pub reduction: Reduction,
}

impl<T: Scalar> Loss<T> for Mse {
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
        let two = T::ONE + T::ONE;
        elementwise(
            self.reduction,
            pred,
            target,
            rows,
            grad,
            |p, y| (p - y) * (p - y),
            |p, y| two * (p - y),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sum_over_elements() {
        let pred = [[1.0f64, 2.0], [3.0, 5.0]];
        let target = [[0.0, 2.0], [1.0, 1.0]];
        // squared errors 1, 0, 4, 16
        assert_eq!(Mse::default().value(&pred, &target).unwrap(), 21.0 / 4.0);
        let sum = Mse {
            reduction: Reduction::Sum,
        };
        let mut g = [[0.0; 2]; 2];
        assert_eq!(sum.value_and_grad(&pred, &target, &mut g).unwrap(), 21.0);
        assert_eq!(g, [[2.0, 0.0], [4.0, 8.0]]);
    }

    #[test]
    fn partial_batches_ignore_padding_rows() {
        let pred = [[1.0f64], [3.0], [100.0]];
        let target = [[0.0], [1.0], [0.0]];
        let mut g = [[9.0; 1]; 3];
        let v = Mse::default()
            .value_and_grad_rows(&pred, &target, 2, Some(&mut g))
            .unwrap();
        assert_eq!(v, (1.0 + 4.0) / 2.0);
        assert_eq!(g, [[1.0], [2.0], [0.0]]);
        assert_eq!(
            Mse::default().value_and_grad_rows(&pred, &target, 4, Some(&mut g)),
            Err(Error::RowsOutOfRange { rows: 4, batch: 3 })
        );
        assert_eq!(g, [[1.0], [2.0], [0.0]], "untouched on error");
    }
}
