//! One training step on caller-owned buffers.

use crate::architecture::Architecture;
use crate::clip::{clip_grad_norm, clip_grad_value, Norm};
use crate::loss::Loss;
use crate::optim::Optimizer;
use crate::zeroable::{zero_in_place, zeroed};
use crate::{Error, Network, Scalar, Tape};
use core::mem::MaybeUninit;

/// Gradient clipping applied between backward and the update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Rescale all gradients so their norm is at most `max_norm`
    /// (`clip_grad_norm_`).
    Norm {
        /// The largest norm allowed.
        max_norm: f64,
        /// Which norm.
        norm: Norm,
    },
    /// Clamp every gradient to `[−v, v]` (`clip_grad_value_`).
    Value(f64),
}

impl Clip {
    /// Checks that the limit is a finite number ≥ 0.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the field otherwise.
    pub fn validate(&self) -> Result<(), Error> {
        let (field, value) = match *self {
            Clip::Norm { max_norm, .. } => ("max_norm", max_norm),
            Clip::Value(v) => ("clip_value", v),
        };
        if value >= 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidConfig {
                optimizer: "gradient clipping",
                field,
                expected: "a finite number >= 0",
                value,
            })
        }
    }
}

/// Options of a training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOptions {
    /// Learning rate for this step.
    pub lr: f64,
    /// Clipping, if any.
    pub clip: Option<Clip>,
}

/// Everything a step needs besides the network and the optimizer: the
/// gradient buffer, the tape and the loss gradient for a batch of `B`.
pub struct StepBuffers<A: Architecture, T: Scalar, const B: usize> {
    /// Parameter gradients: after a step, that step's gradients (clipped,
    /// if clipping was asked for). Each step writes them afresh, so they
    /// never need resetting.
    pub grads: Network<A, T>,
    /// The activation tape.
    pub tape: Tape<A, T, B>,
    /// ∂loss/∂output for the batch.
    pub grad_output: [A::Output<T>; B],
}

impl<A: Architecture, T: Scalar, const B: usize> StepBuffers<A, T, B> {
    /// Zeroed buffers, built by value (small networks).
    pub fn new() -> Self {
        zeroed()
    }

    /// Zeroed buffers built in `slot`, never on the stack.
    pub fn new_in(slot: &mut MaybeUninit<Self>) -> &mut Self {
        zero_in_place(slot)
    }

    /// Zeroed buffers on the heap.
    #[cfg(feature = "std")]
    pub fn boxed() -> std::boxed::Box<Self> {
        crate::zeroable::boxed_zeroed()
    }
}

impl<A: Architecture, T: Scalar, const B: usize> Default for StepBuffers<A, T, B> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: the fields are a network, a tape and an array of rows, all
// `Zeroable`; all-zero gradients and an empty tape are the fresh state.
unsafe impl<A: Architecture, T: Scalar, const B: usize> crate::Zeroable for StepBuffers<A, T, B> {}

/// One training step on the first `rows` rows of a batch; returns the loss.
///
/// Forward, loss and gradient, backward, clipping, update. The backward
/// pass writes the gradients over the previous step's
/// ([`Network::backward_overwrite`]), which is PyTorch's forward, backward,
/// step and `zero_grad` without a separate pass to reset the buffer.
/// Allocation-free whenever the network's kernels are (see
/// [`kernels`](crate::kernels)).
///
/// # Errors
///
/// - [`Error::NonFiniteLoss`] or [`Error::NonFiniteGradient`]: the step is
///   refused; `net` and `opt` are exactly as before. After a refused
///   gradient, `bufs.grads` holds the offending gradients for inspection.
/// - Errors of the loss (a class index out of range, `rows` not in
///   `1..=B`) or an invalid clipping limit, with nothing changed.
// Each argument is a separate borrow the caller owns (network, optimizer,
// buffers, data); bundling them would only move the list into a struct.
#[allow(clippy::too_many_arguments)]
pub fn train_step<A, T, L, O, const IN: usize, const OUT: usize, const B: usize>(
    net: &mut Network<A, T>,
    opt: &mut O,
    loss: &L,
    bufs: &mut StepBuffers<A, T, B>,
    input: &[[T; IN]; B],
    target: &[L::Target<OUT>; B],
    rows: usize,
    options: &StepOptions,
) -> Result<T, Error>
where
    A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
    T: Scalar,
    L: Loss<T>,
    O: Optimizer<T, A::ParamLen>,
{
    if let Some(clip) = &options.clip {
        clip.validate()?;
    }
    let out = net.forward(input, &mut bufs.tape);
    let value = loss.value_and_grad_rows(out, target, rows, Some(&mut bufs.grad_output))?;
    if !value.is_finite() {
        return Err(Error::NonFiniteLoss {
            step: opt.steps() + 1,
            value: value.to_f64(),
        });
    }
    net.backward_overwrite(&mut bufs.tape, &bufs.grad_output, &mut bufs.grads)?;
    match options.clip {
        Some(Clip::Norm { max_norm, norm }) => {
            clip_grad_norm(bufs.grads.params_mut(), max_norm, norm);
        }
        Some(Clip::Value(v)) => clip_grad_value(bufs.grads.params_mut(), v),
        None => {}
    }
    opt.step_with_lr(net, &bufs.grads, options.lr)?;
    Ok(value)
}
