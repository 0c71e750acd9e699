//! Step decay: `torch.optim.lr_scheduler.StepLR`.

use super::{positive_steps, Schedule};
use crate::optim::{non_negative, require};
use crate::Error;

/// Multiplies the rate by `gamma` every `step_size` steps:
/// `γ₀ · gamma^⌊t / step_size⌋`.
///
/// PyTorch multiplies the previous rate by `gamma` at every nonzero
/// multiple of `step_size`; this is the same product in closed form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    step_size: u64,
    gamma: f64,
}

impl StepLr {
    /// Decay by `gamma` every `step_size` steps (PyTorch's default `gamma`
    /// is 0.1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if `step_size` is 0 or `gamma` is negative
    /// or not finite.
    pub fn new(step_size: u64, gamma: f64) -> Result<Self, Error> {
        positive_steps("StepLR", "step_size", step_size)?;
        require(
            non_negative(gamma),
            "StepLR",
            "gamma",
            "a finite number >= 0",
            gamma,
        )?;
        Ok(Self { step_size, gamma })
    }

    /// Steps between decays.
    pub fn step_size(&self) -> u64 {
        self.step_size
    }

    /// Decay factor.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

impl Schedule for StepLr {
    fn lr(&self, base_lr: f64, t: u64) -> f64 {
        base_lr * libm::pow(self.gamma, (t / self.step_size) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_at_multiples_of_the_step_size() {
        let s = StepLr::new(3, 0.5).unwrap();
        let rates: [f64; 8] = core::array::from_fn(|t| s.lr(2.0, t as u64));
        assert_eq!(rates, [2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.5, 0.5]);
    }

    #[test]
    fn zero_step_size_is_refused() {
        assert!(matches!(
            StepLr::new(0, 0.1),
            Err(Error::InvalidConfig {
                field: "step_size",
                ..
            })
        ));
        assert!(StepLr::new(1, -0.1).is_err());
    }
}
