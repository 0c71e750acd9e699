//! Exponential decay: `torch.optim.lr_scheduler.ExponentialLR`.

use super::Schedule;
use crate::optim::{non_negative, require};
use crate::Error;

/// Multiplies the rate by `gamma` every step: `γ₀ · gammaᵗ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    gamma: f64,
}

impl ExponentialLr {
    /// Decay by `gamma` per step.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if `gamma` is negative or not finite.
    pub fn new(gamma: f64) -> Result<Self, Error> {
        require(
            non_negative(gamma),
            "ExponentialLR",
            "gamma",
            "a finite number >= 0",
            gamma,
        )?;
        Ok(Self { gamma })
    }

    /// Decay factor per step.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

impl Schedule for ExponentialLr {
    fn lr(&self, base_lr: f64, t: u64) -> f64 {
        base_lr * libm::pow(self.gamma, t as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplies_by_gamma_each_step() {
        let s = ExponentialLr::new(0.5).unwrap();
        assert_eq!([s.lr(8.0, 0), s.lr(8.0, 1), s.lr(8.0, 3)], [8.0, 4.0, 1.0]);
        assert!(ExponentialLr::new(f64::NAN).is_err());
    }
}
