//! Loss functions: the value and its gradient with respect to the network's
//! output, for a batch.
//!
//! Every loss implements [`Loss`]. Its gradient is what
//! [`Network::backward`](crate::Network::backward) takes as `grad_output`.
//! All of them follow PyTorch's definitions (`torch.nn.MSELoss`, …) with
//! `reduction='mean'` by default; see each type.
//!
//! # Partial batches
//!
//! Batches have a compile-time size `B`. A data set rarely divides into
//! whole batches, so every loss can be evaluated over the first `rows` rows
//! only ([`Loss::value_and_grad_rows`]): the mean divides by the rows
//! actually used, and the gradient of the unused rows is zero, so the
//! padding rows contribute nothing to any parameter's gradient.

mod bce;
mod cross_entropy;
mod huber;
mod mae;
mod mse;

pub use bce::BceWithLogits;
pub use cross_entropy::{CrossEntropy, SoftCrossEntropy};
pub use huber::Huber;
pub use mae::{Mae, L1};
pub use mse::Mse;

use crate::{Error, Scalar};

/// How per-element losses are combined into one number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The average (PyTorch's default `'mean'`). What is averaged over is
    /// stated by each loss: elements for MSE/L1/Huber/BCE, rows for
    /// cross-entropy.
    #[default]
    Mean,
    /// The sum (`'sum'`).
    Sum,
}

/// A loss function over a batch of `B` output rows of width `W`.
pub trait Loss<T: Scalar> {
    /// What one output row is compared with: `[T; W]` for regression
    /// losses, a class index for cross-entropy on indices.
    type Target<const W: usize>: Copy;

    /// The loss over the first `rows` rows of the batch, and when `grad` is
    /// given, ∂loss/∂pred written into it (zero for rows ≥ `rows`).
    ///
    /// # Errors
    ///
    /// [`Error::RowsOutOfRange`] unless `1 ≤ rows ≤ B`;
    /// [`Error::InvalidConfig`] if a hyperparameter (Huber's `delta`,
    /// `label_smoothing`) is outside its domain; or an error naming a target
    /// the loss cannot use (such as a class index out of range). On error,
    /// `grad` is left untouched.
    fn value_and_grad_rows<const W: usize, const B: usize>(
        &self,
        pred: &[[T; W]; B],
        target: &[Self::Target<W>; B],
        rows: usize,
        grad: Option<&mut [[T; W]; B]>,
    ) -> Result<T, Error>;

    /// The reduction this loss applies (trainers combine batch losses
    /// accordingly).
    fn reduction(&self) -> Reduction;

    /// Whether `pred` counts as a correct prediction of `target`, for
    /// losses where that has a meaning (classification); `None` otherwise.
    /// Trainers report the fraction correct as accuracy.
    #[inline]
    fn is_correct<const W: usize>(&self, pred: &[T; W], target: &Self::Target<W>) -> Option<bool> {
        let _ = (pred, target);
        None
    }

    /// The loss over the whole batch.
    ///
    /// # Errors
    ///
    /// As [`Loss::value_and_grad_rows`].
    #[inline]
    fn value<const W: usize, const B: usize>(
        &self,
        pred: &[[T; W]; B],
        target: &[Self::Target<W>; B],
    ) -> Result<T, Error> {
        self.value_and_grad_rows(pred, target, B, None)
    }

    /// The loss over the whole batch and its gradient.
    ///
    /// # Errors
    ///
    /// As [`Loss::value_and_grad_rows`].
    #[inline]
    fn value_and_grad<const W: usize, const B: usize>(
        &self,
        pred: &[[T; W]; B],
        target: &[Self::Target<W>; B],
        grad: &mut [[T; W]; B],
    ) -> Result<T, Error> {
        self.value_and_grad_rows(pred, target, B, Some(grad))
    }
}

/// Checks `1 ≤ rows ≤ B`.
#[inline]
pub(crate) fn check_rows<const B: usize>(rows: usize) -> Result<(), Error> {
    // Zero rows would make a mean 0/0; no batch is empty.
    if rows == 0 || rows > B {
        Err(Error::RowsOutOfRange { rows, batch: B })
    } else {
        Ok(())
    }
}

/// The divisor of a mean over `count` items, or 1 for a sum.
#[inline]
pub(crate) fn scale<T: Scalar>(reduction: Reduction, count: usize) -> T {
    match reduction {
        Reduction::Mean => T::ONE / T::from_f64(count as f64),
        Reduction::Sum => T::ONE,
    }
}

/// What the element-wise losses (MSE, L1, Huber, BCE) share: the sum of
/// `value(ŷ, y)` over every element of the first `rows` rows times the
/// reduction's scale (a mean divides by `rows · W`), and when `grad` is
/// given, `scale · derivative(ŷ, y)` written into it, with zero for the
/// padding rows.
///
/// `value` and `derivative` are each loss's `f` and `f′` side by side.
#[inline]
pub(crate) fn elementwise<T: Scalar, const W: usize, const B: usize>(
    reduction: Reduction,
    pred: &[[T; W]; B],
    target: &[[T; W]; B],
    rows: usize,
    grad: Option<&mut [[T; W]; B]>,
    value: impl Fn(T, T) -> T,
    derivative: impl Fn(T, T) -> T,
) -> Result<T, Error> {
    check_rows::<B>(rows)?;
    let s: T = scale(reduction, rows * W);
    let mut total = T::ZERO;
    for (p, t) in pred[..rows].iter().zip(&target[..rows]) {
        for (pv, tv) in p.iter().zip(t) {
            total += value(*pv, *tv);
        }
    }
    if let Some(grad) = grad {
        let (used, padding) = grad.split_at_mut(rows);
        for ((g, p), t) in used.iter_mut().zip(pred).zip(target) {
            for ((gv, pv), tv) in g.iter_mut().zip(p).zip(t) {
                *gv = s * derivative(*pv, *tv);
            }
        }
        zero_rows(padding);
    }
    Ok(total * s)
}

/// Zeroes the gradient of the padding rows.
#[inline]
pub(crate) fn zero_rows<T: Scalar, const W: usize>(padding: &mut [[T; W]]) {
    for g in padding {
        *g = [T::ZERO; W];
    }
}

/// The error for a loss hyperparameter outside its domain.
pub(crate) fn invalid(
    loss: &'static str,
    field: &'static str,
    expected: &'static str,
    value: f64,
) -> Error {
    Error::InvalidConfig {
        optimizer: loss,
        field,
        expected,
        value,
    }
}
