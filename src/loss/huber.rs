//! Huber loss.

use super::{elementwise, invalid, Loss, Reduction};
use crate::{Error, Scalar};

/// Huber loss, PyTorch's `nn.HuberLoss`: with `d = ŷ − y`,
///
/// ```text
/// ℓ(d) = ½ d²             if |d| < δ
///        δ (|d| − ½ δ)    otherwise
/// ```
///
/// quadratic near the target and linear (so robust to outliers) beyond
/// `δ`; `'mean'` averages over all `rows · W` elements. Gradient: `d`
/// clamped to `[−δ, δ]`, times the reduction's scale. The two pieces meet
/// with equal value and slope at `|d| = δ`.
///
/// `nn.SmoothL1Loss` with `beta = δ` is this loss divided by `δ`.
///
/// `delta` must be positive (PyTorch's condition too); a call with any
/// other `delta` returns [`Error::InvalidConfig`] and leaves `grad`
/// untouched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear (PyTorch's default 1).
    pub delta: f64,
    /// Mean (default) or sum.
    pub reduction: Reduction,
}

impl Default for Huber {
    fn default() -> Self {
        Self {
            delta: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl Huber {
    /// Checks that `delta > 0` (which also rejects NaN).
    fn validate(&self) -> Result<(), Error> {
        if self.delta > 0.0 {
            Ok(())
        } else {
            Err(invalid("HuberLoss", "delta", "a number > 0", self.delta))
        }
    }
}

impl<T: Scalar> Loss<T> for Huber {
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
        self.validate()?;
        let delta = T::from_f64(self.delta);
        let half = T::from_f64(0.5);
        elementwise(
            self.reduction,
            pred,
            target,
            rows,
            grad,
            |p, y| {
                let a = (p - y).abs();
                if a < delta {
                    half * a * a
                } else {
                    delta * (a - half * delta)
                }
            },
            // PyTorch's comparisons: at exactly ±δ both pieces give ±δ.
            |p, y| {
                let d = p - y;
                if d < -delta {
                    -delta
                } else if d > delta {
                    delta
                } else {
                    d
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_pieces_and_the_boundary_by_hand() {
        // d = 0.5 (quadratic), −3 (linear), 1 (= δ, where the pieces meet), 0
        let pred = [[0.5f64, -3.0], [1.0, 0.0]];
        let target = [[0.0f64; 2]; 2];
        let mut g = [[0.0; 2]; 2];
        let sum = Huber {
            reduction: Reduction::Sum,
            ..Huber::default()
        };
        let v = sum.value_and_grad(&pred, &target, &mut g).unwrap();
        assert_eq!(v, 0.125 + 2.5 + 0.5);
        assert_eq!(g, [[0.5, -1.0], [1.0, 0.0]]);
        let mean = Huber::default()
            .value_and_grad(&pred, &target, &mut g)
            .unwrap();
        assert_eq!(mean, (0.125 + 2.5 + 0.5) / 4.0, "mean over rows · W");
        assert_eq!(g, [[0.125, -0.25], [0.25, 0.0]]);
    }

    #[test]
    fn delta_moves_the_boundary() {
        let huber = Huber {
            delta: 2.0,
            reduction: Reduction::Sum,
        };
        // d = 3: 2·(3 − 1) = 4, slope 2; d = −1.5: ½·2.25, slope −1.5
        let pred = [[3.0f32, 0.5]];
        let target = [[0.0f32, 2.0]];
        let mut g = [[0.0; 2]];
        let v = huber.value_and_grad(&pred, &target, &mut g).unwrap();
        assert_eq!(v, 4.0 + 1.125);
        assert_eq!(g, [[2.0, -1.5]]);
    }

    #[test]
    fn delta_must_be_positive() {
        let pred = [[1.0f64]];
        let mut g = [[7.0; 1]];
        for delta in [0.0, -1.0, f64::NAN] {
            let err = Huber {
                delta,
                ..Huber::default()
            }
            .value_and_grad(&pred, &pred, &mut g)
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidConfig {
                        optimizer: "HuberLoss",
                        field: "delta",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert_eq!(g, [[7.0]], "untouched on error");
        }
    }

    #[test]
    fn partial_batches_ignore_padding_rows() {
        let pred = [[2.0f64], [0.5], [1e6]];
        let target = [[0.0], [0.0], [0.0]];
        let mut g = [[9.0; 1]; 3];
        let v = Huber::default()
            .value_and_grad_rows(&pred, &target, 2, Some(&mut g))
            .unwrap();
        assert_eq!(v, (1.5 + 0.125) / 2.0);
        assert_eq!(g, [[0.5], [0.25], [0.0]]);
        assert_eq!(
            Huber::default().value_and_grad_rows(&pred, &target, 4, Some(&mut g)),
            Err(Error::RowsOutOfRange { rows: 4, batch: 3 })
        );
        assert_eq!(g, [[0.5], [0.25], [0.0]], "untouched on error");
    }

    #[test]
    fn large_magnitudes_stay_finite() {
        let pred = [[1000.0f32, -1000.0]];
        let target = [[-1000.0f32, 50.0]];
        let mut g = [[0.0; 2]];
        let v = Huber {
            reduction: Reduction::Sum,
            ..Huber::default()
        }
        .value_and_grad(&pred, &target, &mut g)
        .unwrap();
        assert_eq!(v, 1999.5 + 1049.5);
        assert_eq!(g, [[1.0, -1.0]]);
    }
}
