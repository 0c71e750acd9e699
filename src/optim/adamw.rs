//! AdamW: Adam with decoupled weight decay, `torch.optim.AdamW`.

use super::adam::{AdamHyper, AdamMoments};
use super::Optimizer;
use crate::{Error, Scalar};
use generic_array::{ArrayLength, GenericArray};

/// Hyperparameters of [`AdamW`]; the defaults are `torch.optim.AdamW`'s
/// (those of [`AdamConfig`](super::AdamConfig) except weight decay 0.01).
///
/// PyTorch's update at step `t` first shrinks the parameters, then takes
/// the Adam step on the raw gradient:
///
/// ```text
/// θ ← θ − γλθ
/// m ← β₁m + (1 − β₁)g
/// v ← β₂v + (1 − β₂)g²
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// (with `amsgrad`, the running maximum of `v` replaces `v` in the last
/// line, as in [`Adam`](super::Adam)). Adam's L2 penalty instead adds `λθ`
/// to `g`, where the division by `√v̂` rescales it per parameter; here every
/// parameter decays by the same factor `1 − γλ`, which uses the current
/// learning rate (so a schedule scales the decay too). With `λ = 0` AdamW
/// and Adam are the same. The lecture's Adam has neither form of decay; see
/// [`AdamConfig`](super::AdamConfig) for how its formula relates to
/// PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the two moment estimates (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// ε added to the root of `v̂`, outside it (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay λ (default 0.01).
    pub weight_decay: f64,
    /// Use the running maximum of `v` (AMSGrad; default off).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
        }
    }
}

impl AdamWConfig {
    fn hyper(&self) -> AdamHyper {
        AdamHyper {
            name: "AdamW",
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
            decoupled: true,
        }
    }
}

/// AdamW state: the config, the moment estimates and the step count.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW<T: Scalar, N: ArrayLength> {
    /// Hyperparameters.
    pub config: AdamWConfig,
    /// Updates applied so far (`t` of the last update).
    pub step: u64,
    /// Moment estimates.
    pub moments: AdamMoments<T, N>,
}

impl<T: Scalar, N: ArrayLength> AdamW<T, N> {
    /// A fresh optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a negative or non-finite hyperparameter
    /// or a β outside `[0, 1)`.
    pub fn new(config: AdamWConfig) -> Result<Self, Error> {
        config.hyper().validate()?;
        Ok(Self {
            config,
            step: 0,
            moments: AdamMoments::ZERO,
        })
    }

    /// [`AdamW::new`], with the state allocated directly on the heap.
    ///
    /// # Errors
    ///
    /// As [`AdamW::new`].
    #[cfg(feature = "std")]
    pub fn boxed(config: AdamWConfig) -> Result<std::boxed::Box<Self>, Error> {
        config.hyper().validate()?;
        let mut s = crate::zeroable::boxed_zeroed::<Self>();
        s.config = config;
        Ok(s)
    }
}

// SAFETY: every field is zero-valid: f64s and a bool in the config, u64,
// and the zero-valid moments.
unsafe impl<T: Scalar, N: ArrayLength> crate::Zeroable for AdamW<T, N> {}

impl<T: Scalar, N: ArrayLength> Optimizer<T, N> for AdamW<T, N> {
    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn steps(&self) -> u64 {
        self.step
    }

    #[inline(always)]
    fn update(&mut self, params: &mut GenericArray<T, N>, grads: &GenericArray<T, N>, lr: f64) {
        self.update_in_pass::<false>(params, grads, lr);
    }

    #[inline(always)]
    fn update_in_pass<const FMA: bool>(
        &mut self,
        params: &mut GenericArray<T, N>,
        grads: &GenericArray<T, N>,
        lr: f64,
    ) {
        self.step += 1;
        let hyper = self.config.hyper();
        self.moments
            .update::<FMA>(&hyper, self.step, lr, params, grads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, AdamConfig};
    use generic_array::typenum::U2;

    fn arr(a: [f64; 2]) -> GenericArray<f64, U2> {
        GenericArray::from_array(a)
    }

    #[test]
    fn decay_shrinks_the_parameter_before_the_adam_step() {
        let config = AdamWConfig {
            lr: 0.1,
            betas: (0.0, 0.0),
            eps: 0.0,
            weight_decay: 0.5,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::<f64, U2>::new(config).unwrap();
        let mut p = arr([2.0, -4.0]);
        // θ·(1 − 0.1·0.5) = [1.9, −3.8]; then, β = 0, a sign step of 0.1 on
        // the raw gradient (the decay does not enter the moments).
        opt.update(&mut p, &arr([-3.0, 0.5]), 0.1);
        assert_eq!(p.as_slice(), &[1.9 + 0.1, -3.8 - 0.1]);
        assert_eq!(opt.moments.exp_avg.as_slice(), &[-3.0, 0.5]);
        // The decay follows the learning rate of the step: at 0.2 the factor
        // is 1 − 0.2·0.5 = 0.9.
        let before = p;
        opt.update(&mut p, &arr([1.0, 1.0]), 0.2);
        assert!((p[0] - (before[0] * 0.9 - 0.2)).abs() < 1e-15);
        assert!((p[1] - (before[1] * 0.9 - 0.2)).abs() < 1e-15);
    }

    #[test]
    fn without_decay_it_is_adam() {
        let mut adamw = AdamW::<f64, U2>::new(AdamWConfig {
            weight_decay: 0.0,
            amsgrad: true,
            ..AdamWConfig::default()
        })
        .unwrap();
        let mut adam = Adam::<f64, U2>::new(AdamConfig {
            amsgrad: true,
            ..AdamConfig::default()
        })
        .unwrap();
        let (mut p, mut q) = (arr([0.5, -0.25]), arr([0.5, -0.25]));
        for g in [[1.0, -2.0], [0.25, 3.0], [-1.5, 0.5]] {
            adamw.update(&mut p, &arr(g), 1e-3);
            adam.update(&mut q, &arr(g), 1e-3);
        }
        assert_eq!(p, q);
        assert_eq!(adamw.moments, adam.moments);
    }

    #[test]
    fn defaults_and_validation() {
        assert_eq!(AdamWConfig::default().weight_decay, 0.01);
        let err = AdamW::<f32, U2>::new(AdamWConfig {
            weight_decay: -0.01,
            ..AdamWConfig::default()
        })
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidConfig {
                optimizer: "AdamW",
                field: "weight_decay",
                ..
            }
        ));
    }

    #[cfg(feature = "std")]
    #[test]
    fn boxed_starts_like_new() {
        let boxed = AdamW::<f32, U2>::boxed(AdamWConfig::default()).unwrap();
        assert_eq!(*boxed, AdamW::new(AdamWConfig::default()).unwrap());
    }
}
