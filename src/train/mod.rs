//! Training: one step as a function, and (with `std`) a loop over a data
//! set.
//!
//! A training step is: forward, loss and its gradient, backward, optional
//! clipping, the optimizer update, and the gradient reset. [`train_step`]
//! does exactly that on buffers you own, without allocating, and refuses a
//! step whose loss or gradients are not finite: the parameters and the
//! optimizer state are then bit-identical to before, and the error says
//! which and at which step.

mod step;

#[cfg(feature = "std")]
mod fit;

pub use step::{train_step, Clip, StepBuffers, StepOptions};

#[cfg(feature = "std")]
pub use fit::{EpochStats, FitOptions, Trainer};
