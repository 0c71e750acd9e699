//! Optimizers: state structs sized by the parameter count, following
//! `torch.optim` exactly by default.
//!
//! Each optimizer is a plain-data state struct generic over the scalar `T`
//! and the parameter count `N` (a type-level number; for a network `A` it
//! is `A::ParamLen`), with a `Default` config whose docs cite PyTorch. Its
//! state is public plain data: cloning it (or saving its fields) and
//! restoring it continues a run bit-identically.
//!
//! Every step goes through [`Optimizer::step`], which refuses a step whose
//! gradients are not all finite: the parameters and the optimizer state are
//! then exactly as they were, and the error names the step and the first
//! offending parameter.
//!
//! Plain gradient descent (GD) is [`Sgd`] with the gradient of the loss over
//! the whole data set; stochastic gradient descent is the same update with
//! the gradient of a mini-batch.
//!
//! | optimizer | PyTorch | state besides the step count |
//! | --- | --- | --- |
//! | [`Sgd`] | `torch.optim.SGD` | momentum buffer |
//! | [`Adagrad`] | `torch.optim.Adagrad` | sum of squared gradients |
//! | [`RmsProp`] | `torch.optim.RMSprop` | average of squares, average of gradients (centered), momentum buffer |
//! | [`Adam`] | `torch.optim.Adam` | [`AdamMoments`] |
//! | [`AdamW`] | `torch.optim.AdamW` | [`AdamMoments`] |
//!
//! Where PyTorch computes a coefficient in Python (bias corrections, the
//! decayed learning rate) it is computed here in `f64` too and rounded to
//! `T` once, and the per-parameter arithmetic is done in `T` in PyTorch's
//! order, so an `f32` run follows PyTorch's `f32` run, not an `f64` one.

mod adagrad;
mod adam;
mod adamw;
mod known_divisor;
mod rmsprop;
mod sgd;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamMoments};
pub use adamw::{AdamW, AdamWConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::architecture::Architecture;
use crate::{Error, Network, Scalar};
use generic_array::{ArrayLength, GenericArray};

/// An optimizer over `N` parameters of type `T`.
pub trait Optimizer<T: Scalar, N: ArrayLength>: Sized {
    /// The configured learning rate (before any schedule).
    fn lr(&self) -> f64;

    /// How many updates have been applied.
    fn steps(&self) -> u64;

    /// Applies one update with learning rate `lr`. Callers go through
    /// [`Optimizer::step`] or [`Optimizer::step_with_lr`], which check the
    /// gradients first.
    fn update(&mut self, params: &mut GenericArray<T, N>, grads: &GenericArray<T, N>, lr: f64);

    /// [`Optimizer::update`] as the step runs it: inside a function compiled
    /// with fused multiply-add instructions when `FMA` (see
    /// [`crate::simd`]), where an optimizer may use them for results it
    /// proves identical (Adam's division by its bias correction). The
    /// default is [`Optimizer::update`].
    #[doc(hidden)]
    #[inline(always)]
    fn update_in_pass<const FMA: bool>(
        &mut self,
        params: &mut GenericArray<T, N>,
        grads: &GenericArray<T, N>,
        lr: f64,
    ) {
        self.update(params, grads, lr);
    }

    /// One step at the configured learning rate.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteGradient`] if any gradient is NaN or infinite;
    /// nothing is changed then.
    #[inline]
    fn step<A: Architecture<ParamLen = N>>(
        &mut self,
        net: &mut Network<A, T>,
        grads: &Network<A, T>,
    ) -> Result<(), Error> {
        let lr = self.lr();
        self.step_with_lr(net, grads, lr)
    }

    /// One step at learning rate `lr` (for example from a
    /// [`Schedule`](crate::schedule::Schedule)).
    ///
    /// # Errors
    ///
    /// As [`Optimizer::step`].
    #[inline]
    fn step_with_lr<A: Architecture<ParamLen = N>>(
        &mut self,
        net: &mut Network<A, T>,
        grads: &Network<A, T>,
        lr: f64,
    ) -> Result<(), Error> {
        let (params, grads) = (net.param_array_mut(), grads.param_array());
        crate::simd::dispatch!(
            checked_update::<T, N, Self, { crate::simd::BASELINE_FMA }>,
            crate::simd::featured::optimizer_step_avx512,
            crate::simd::featured::optimizer_step_avx2;
            self, params, grads, lr
        )
    }
}

/// The finiteness check and the update, inlined into whichever
/// instruction-set variant runs them (`FMA`: one compiled with fused
/// multiply-add instructions).
#[inline(always)]
pub(crate) fn checked_update<T: Scalar, N: ArrayLength, O: Optimizer<T, N>, const FMA: bool>(
    opt: &mut O,
    params: &mut GenericArray<T, N>,
    grads: &GenericArray<T, N>,
    lr: f64,
) -> Result<(), Error> {
    check_finite(grads.as_slice(), opt.steps() + 1)?;
    opt.update_in_pass::<FMA>(params, grads, lr);
    Ok(())
}

/// `Err(NonFiniteGradient)` naming the first non-finite gradient.
#[inline(always)]
pub(crate) fn check_finite<T: Scalar>(grads: &[T], step: u64) -> Result<(), Error> {
    // g·0 is 0 for every finite g and NaN otherwise, so a sum of them is
    // finite exactly when every gradient is (a sum of zeros cannot
    // overflow). Independent sums keep the loop vectorised (one running
    // sum would be a chain of dependent additions); 64 of them are four
    // AVX-512 vectors of f32, enough to hide the latency of an addition.
    const LANES: usize = 64;
    let mut acc = [T::ZERO; LANES];
    let (chunks, rest) = grads.as_chunks::<LANES>();
    for chunk in chunks {
        for (a, g) in acc.iter_mut().zip(chunk) {
            *a += *g * T::ZERO;
        }
    }
    for (a, g) in acc.iter_mut().zip(rest) {
        *a += *g * T::ZERO;
    }
    // Each lane is tested, and the tests combined with `&`: a Boolean
    // reduction LLVM may reorder and keep in vectors. Adding the lanes up
    // instead was a chain of 63 dependent scalar additions (a quarter of
    // an SGD step on a network of 1476 parameters), and even pairwise it
    // compiled to two-lane operations.
    if acc.iter().fold(true, |ok, a| ok & a.is_finite()) {
        return Ok(());
    }
    match grads.iter().position(|g| !g.is_finite()) {
        Some(index) => Err(Error::NonFiniteGradient {
            step,
            index,
            value: grads[index].to_f64(),
        }),
        None => Ok(()),
    }
}

/// `Err(InvalidConfig)` for `optimizer`'s `field` unless `ok`.
#[inline]
pub(crate) fn require(
    ok: bool,
    optimizer: &'static str,
    field: &'static str,
    expected: &'static str,
    value: f64,
) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            optimizer,
            field,
            expected,
            value,
        })
    }
}

/// `x >= 0` and finite (NaN fails).
#[inline]
pub(crate) fn non_negative(x: f64) -> bool {
    x >= 0.0 && x.is_finite()
}

/// PyTorch's `lerp(start, end, w)`, the running average `start + w(end −
/// start)`. Like PyTorch it switches to `end − (end − start)(1 − w)` for
/// `|w| ≥ 0.5`, which is exact at `w = 1`; matching the formula keeps the
/// moving averages of Adam and centered RMSprop on PyTorch's rounding.
#[inline(always)]
pub(crate) fn lerp<T: Scalar>(start: T, end: T, w: T) -> T {
    if w.abs() < T::from_f64(0.5) {
        start + w * (end - start)
    } else {
        end - (end - start) * (T::ONE - w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_is_exact_at_both_ends_and_halfway_between() {
        assert_eq!(lerp(2.0f64, 6.0, 0.0), 2.0);
        assert_eq!(lerp(2.0f64, 6.0, 1.0), 6.0);
        assert_eq!(lerp(2.0f32, 6.0, 0.25), 3.0);
        assert_eq!(lerp(2.0f32, 6.0, 0.75), 5.0);
    }

    #[test]
    fn require_reports_the_field() {
        assert_eq!(require(true, "X", "lr", "> 0", 1.0), Ok(()));
        assert_eq!(
            require(false, "X", "lr", "> 0", -1.0),
            Err(Error::InvalidConfig {
                optimizer: "X",
                field: "lr",
                expected: "> 0",
                value: -1.0
            })
        );
        assert!(non_negative(0.0) && !non_negative(-1e-300) && !non_negative(f64::NAN));
        assert!(!non_negative(f64::INFINITY));
    }

    #[test]
    fn check_finite_names_the_first_bad_gradient() {
        assert_eq!(check_finite(&[1.0f32, -2.0, 3e38], 4), Ok(()));
        let err = check_finite(&[1.0f64, f64::NAN, f64::INFINITY], 7).unwrap_err();
        match err {
            Error::NonFiniteGradient { step, index, value } => {
                assert_eq!((step, index), (7, 1));
                assert!(value.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(check_finite(&[f32::NEG_INFINITY], 1).is_err());
        // Past the first chunk of lanes, and in the remainder.
        let mut long = [0.5f32; 37];
        assert_eq!(check_finite(&long, 1), Ok(()));
        long[20] = f32::INFINITY;
        assert!(matches!(
            check_finite(&long, 1),
            Err(Error::NonFiniteGradient { index: 20, .. })
        ));
        long[20] = 0.0;
        long[36] = f32::NAN;
        assert!(matches!(
            check_finite(&long, 1),
            Err(Error::NonFiniteGradient { index: 36, .. })
        ));
    }
}
