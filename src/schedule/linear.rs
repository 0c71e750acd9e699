//! Linear change of the rate's factor, the usual warmup:
//! `torch.optim.lr_scheduler.LinearLR`.

use super::{positive_steps, Schedule};
use crate::optim::require;
use crate::Error;

/// Scales the base rate by a factor that moves linearly from
/// `start_factor` to `end_factor` over `total_iters` steps and then stays:
/// `γ₀ · (start + (end − start) · min(t, total_iters) / total_iters)`.
///
/// With the defaults (1/3 → 1 over 5 steps) this is PyTorch's linear
/// warmup; follow it with a decay in a [`Sequential`](super::Sequential).
/// PyTorch computes each rate from the previous one; that recursion
/// telescopes to this closed form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearLr {
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
}

impl Default for LinearLr {
    /// PyTorch's defaults: from 1/3 to 1 over 5 steps.
    fn default() -> Self {
        Self {
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
        }
    }
}

impl LinearLr {
    /// From `start_factor` to `end_factor` over `total_iters` steps.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] unless `0 < start_factor <= 1` and
    /// `0 <= end_factor <= 1` (PyTorch's ranges) and `total_iters >= 1`.
    pub fn new(start_factor: f64, end_factor: f64, total_iters: u64) -> Result<Self, Error> {
        const NAME: &str = "LinearLR";
        require(
            start_factor > 0.0 && start_factor <= 1.0,
            NAME,
            "start_factor",
            "a number in (0, 1]",
            start_factor,
        )?;
        require(
            (0.0..=1.0).contains(&end_factor),
            NAME,
            "end_factor",
            "a number in [0, 1]",
            end_factor,
        )?;
        positive_steps(NAME, "total_iters", total_iters)?;
        Ok(Self {
            start_factor,
            end_factor,
            total_iters,
        })
    }

    /// The factor at step 0.
    pub fn start_factor(&self) -> f64 {
        self.start_factor
    }

    /// The factor from `total_iters` on.
    pub fn end_factor(&self) -> f64 {
        self.end_factor
    }

    /// Steps from the start factor to the end factor.
    pub fn total_iters(&self) -> u64 {
        self.total_iters
    }
}

impl Schedule for LinearLr {
    fn lr(&self, base_lr: f64, t: u64) -> f64 {
        let done = t.min(self.total_iters) as f64;
        let span = self.end_factor - self.start_factor;
        base_lr * (self.start_factor + span * done / self.total_iters as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_then_holds() {
        let s = LinearLr::new(0.25, 1.0, 3).unwrap();
        let rates: [f64; 6] = core::array::from_fn(|t| s.lr(4.0, t as u64));
        assert_eq!(rates, [1.0, 2.0, 3.0, 4.0, 4.0, 4.0]);
        let d = LinearLr::default();
        assert_eq!(
            (d.start_factor(), d.end_factor(), d.total_iters()),
            (1.0 / 3.0, 1.0, 5)
        );
    }

    #[test]
    fn pytorch_ranges_are_enforced() {
        assert!(LinearLr::new(0.0, 1.0, 5).is_err());
        assert!(LinearLr::new(1.5, 1.0, 5).is_err());
        assert!(LinearLr::new(0.5, -0.1, 5).is_err());
        assert!(LinearLr::new(0.5, 1.0, 0).is_err());
        assert!(LinearLr::new(1.0, 0.0, 5).is_ok());
    }
}
