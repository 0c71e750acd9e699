//! Learning-rate schedules as pure functions of the step number, matching
//! `torch.optim.lr_scheduler`.
//!
//! A schedule maps the optimizer's base learning rate and the number of
//! scheduler steps taken so far, `t` (PyTorch's `last_epoch`, starting at
//! 0 for the first optimizer step), to the learning rate to use. Being pure,
//! a schedule has no state to save: a resumed run just keeps counting.
//!
//! | schedule | PyTorch | rate at step `t` |
//! | --- | --- | --- |
//! | [`Constant`] | no scheduler | `γ₀` |
//! | [`StepLr`] | `StepLR` | `γ₀ · gamma^⌊t / step_size⌋` |
//! | [`ExponentialLr`] | `ExponentialLR` | `γ₀ · gammaᵗ` |
//! | [`CosineAnnealingLr`] | `CosineAnnealingLR` | `η_min + ½(γ₀ − η_min)(1 + cos(πt / t_max))` |
//! | [`LinearLr`] | `LinearLR` | `γ₀ · (start + (end − start) · min(t, n) / n)` |
//! | [`Sequential`] | `SequentialLR` | `first(t)` before the milestone `m`, then `then(t − m)` |
//!
//! PyTorch's schedulers (except at a `SequentialLR` milestone) compute each
//! rate from the previous one. The closed forms here give the same rates up
//! to rounding (checked against PyTorch over 50 steps), and unlike the
//! recursion they do not depend on having visited every earlier step.
//!
//! ```
//! use staticnet::schedule::{CosineAnnealingLr, LinearLr, Schedule, Sequential};
//!
//! // Five warmup steps from 0.1·γ₀, then a cosine over the next 45.
//! let warmup = LinearLr::new(0.1, 1.0, 5)?;
//! let schedule = Sequential::warmup(warmup, CosineAnnealingLr::new(45, 0.0)?);
//! assert!((schedule.lr(0.1, 0) - 0.01).abs() < 1e-15);
//! assert_eq!(schedule.lr(0.1, 5), 0.1);
//! assert!(schedule.lr(0.1, 50) < 1e-15);
//! # Ok::<(), staticnet::Error>(())
//! ```

mod cosine;
mod exponential;
mod linear;
mod sequential;
mod step;

pub use cosine::CosineAnnealingLr;
pub use exponential::ExponentialLr;
pub use linear::LinearLr;
pub use sequential::Sequential;
pub use step::StepLr;

use crate::optim::require;
use crate::Error;

/// A learning-rate schedule.
pub trait Schedule {
    /// The learning rate at step `t` for base learning rate `base_lr`.
    fn lr(&self, base_lr: f64, t: u64) -> f64;
}

/// The base learning rate, always (PyTorch: no scheduler).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Constant;

impl Schedule for Constant {
    fn lr(&self, base_lr: f64, _t: u64) -> f64 {
        base_lr
    }
}

impl<S: Schedule + ?Sized> Schedule for &S {
    fn lr(&self, base_lr: f64, t: u64) -> f64 {
        (**self).lr(base_lr, t)
    }
}

/// `Err(InvalidConfig)` unless a step count is at least 1 (it divides).
fn positive_steps(schedule: &'static str, field: &'static str, n: u64) -> Result<(), Error> {
    require(n >= 1, schedule, field, "at least 1", n as f64)
}
