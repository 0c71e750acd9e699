//! Cosine annealing: `torch.optim.lr_scheduler.CosineAnnealingLR`.

use super::{positive_steps, Schedule};
use crate::optim::{non_negative, require};
use crate::Error;
use core::f64::consts::PI;

/// Half a cosine from the base rate down to `eta_min` over `t_max` steps:
/// `η_min + ½(γ₀ − η_min)(1 + cos(π t / t_max))`.
///
/// As in PyTorch there are no restarts, and the formula is not clamped:
/// past `t_max` the rate climbs back up along the cosine, reaching `γ₀`
/// again at `2·t_max` (period `2·t_max`). Schedule exactly `t_max` steps,
/// or follow it with another schedule in a [`Sequential`](super::Sequential),
/// to stay at the bottom. PyTorch computes each rate from the previous one;
/// that recursion telescopes to this closed form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Anneal over `t_max` steps down to `eta_min` (PyTorch's default 0).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if `t_max` is 0 or `eta_min` is negative or
    /// not finite.
    pub fn new(t_max: u64, eta_min: f64) -> Result<Self, Error> {
        positive_steps("CosineAnnealingLR", "t_max", t_max)?;
        require(
            non_negative(eta_min),
            "CosineAnnealingLR",
            "eta_min",
            "a finite number >= 0",
            eta_min,
        )?;
        Ok(Self { t_max, eta_min })
    }

    /// Steps from the base rate to the minimum.
    pub fn t_max(&self) -> u64 {
        self.t_max
    }

    /// The rate at `t_max`.
    pub fn eta_min(&self) -> f64 {
        self.eta_min
    }
}

impl Schedule for CosineAnnealingLr {
    fn lr(&self, base_lr: f64, t: u64) -> f64 {
        let cos = libm::cos(PI * t as f64 / self.t_max as f64);
        self.eta_min + (base_lr - self.eta_min) * (1.0 + cos) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_base_to_minimum_and_back() {
        let s = CosineAnnealingLr::new(4, 0.1).unwrap();
        assert_eq!(s.lr(1.0, 0), 1.0);
        assert!((s.lr(1.0, 2) - 0.55).abs() < 1e-15);
        assert_eq!(s.lr(1.0, 4), 0.1);
        assert!((s.lr(1.0, 6) - 0.55).abs() < 1e-15);
        assert_eq!(s.lr(1.0, 8), 1.0);
        assert!(CosineAnnealingLr::new(0, 0.0).is_err());
        assert!(CosineAnnealingLr::new(10, -1.0).is_err());
    }
}
