//! Adam: bias-corrected moving averages of the gradient and its square,
//! `torch.optim.Adam`. The moment update here is shared with
//! [`AdamW`](super::AdamW), which differs only in how weight decay enters.

use super::known_divisor::KnownDivisor;
use super::{lerp, non_negative, require, Optimizer};
use crate::{CacheAligned, Error, Scalar};
use generic_array::{ArrayLength, GenericArray};

/// Hyperparameters of [`Adam`]; the defaults are `torch.optim.Adam`'s.
///
/// PyTorch's update at step `t` (counting from 1), with `m` and `v` the
/// first and second moment estimates (starting at 0), `γ` the learning
/// rate and `λ` weight decay:
///
/// ```text
/// g ← g + λθ
/// m ← β₁m + (1 − β₁)g
/// v ← β₂v + (1 − β₂)g²
/// with amsgrad:  v_max ← max(v_max, v), and v_max is used for v below
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// that is `θ ← θ − γ m̂ / (√v̂ + ε)` with the bias-corrected `m̂ = m/(1 − β₁ᵗ)`
/// and `v̂ = v/(1 − β₂ᵗ)`; ε is added after the root. AMSGrad keeps the
/// running maximum of `v` itself (not of `v̂`).
///
/// The lecture's Adam has no bias correction and ε under the root:
/// `θ ← θ − α m / √(v + ε)`. The two never take exactly the same steps:
/// the bias corrections tend to 1 only as `t` grows (after a few times
/// `1/(1 − β₂)` = 1000 steps for the default β₂), and in the first steps
/// they matter a lot (PyTorch's first step moves each parameter by about
/// γ; the lecture's by `(1 − β₁)/√(1 − β₂)` ≈ 3.2 times α).
///
/// Weight decay here is the L2 penalty added to the gradient, so it passes
/// through the moment estimates; [`AdamW`](super::AdamW) decouples it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the two moment estimates (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// ε added to the root of `v̂`, outside it (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// Use the running maximum of `v` (AMSGrad; default off).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

/// The hyperparameters of one Adam-family step, whichever config they came
/// from.
#[derive(Clone, Copy, Debug)]
pub(super) struct AdamHyper {
    pub name: &'static str,
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    /// AdamW: shrink θ by `γλθ` before the step instead of adding `λθ` to
    /// the gradient.
    pub decoupled: bool,
}

impl AdamHyper {
    /// The checks `torch.optim.Adam` makes, with finiteness added.
    pub fn validate(&self) -> Result<(), Error> {
        const EXPECTED: &str = "a finite number >= 0";
        let beta = |b: f64| (0.0..1.0).contains(&b);
        require(non_negative(self.lr), self.name, "lr", EXPECTED, self.lr)?;
        require(
            beta(self.betas.0),
            self.name,
            "betas.0",
            "a number in [0, 1)",
            self.betas.0,
        )?;
        require(
            beta(self.betas.1),
            self.name,
            "betas.1",
            "a number in [0, 1)",
            self.betas.1,
        )?;
        require(non_negative(self.eps), self.name, "eps", EXPECTED, self.eps)?;
        require(
            non_negative(self.weight_decay),
            self.name,
            "weight_decay",
            EXPECTED,
            self.weight_decay,
        )
    }
}

impl AdamConfig {
    pub(super) fn hyper(&self) -> AdamHyper {
        AdamHyper {
            name: "Adam",
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
            decoupled: false,
        }
    }
}

/// The moment estimates of [`Adam`] and [`AdamW`](super::AdamW), named as in
/// PyTorch's optimizer state.
///
/// The AMSGrad buffer is part of the state whether or not `amsgrad` is on
/// (so the state's size is fixed by its type): without AMSGrad it costs
/// `N` unused scalars.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamMoments<T: Scalar, N: ArrayLength> {
    /// First moment `m`, the moving average of gradients.
    pub exp_avg: CacheAligned<GenericArray<T, N>>,
    /// Second moment `v`, the moving average of squared gradients.
    pub exp_avg_sq: CacheAligned<GenericArray<T, N>>,
    /// Running maximum of `v` (AMSGrad only; stays zero otherwise).
    pub max_exp_avg_sq: CacheAligned<GenericArray<T, N>>,
}

// SAFETY: three GenericArrays of scalars, each zero-valid.
unsafe impl<T: Scalar, N: ArrayLength> crate::Zeroable for AdamMoments<T, N> {}

impl<T: Scalar, N: ArrayLength> AdamMoments<T, N> {
    /// All moments zero, as at the start.
    pub const ZERO: Self = crate::zeroable::zeroed();

    /// Step number `t` (counting from 1) at learning rate `lr`: updates the
    /// moments and the parameters. The coefficients are computed in `f64`
    /// as PyTorch computes them in Python, then rounded to `T` once.
    /// With `FUSED` (in a pass compiled with fused multiply-add
    /// instructions), the division by `√(1 − β₂ᵗ)` is done by multiply-adds
    /// that round exactly as the division does ([`KnownDivisor`]): the same
    /// bits, sooner.
    #[inline(always)]
    pub(super) fn update<const FUSED: bool>(
        &mut self,
        h: &AdamHyper,
        t: u64,
        lr: f64,
        params: &mut GenericArray<T, N>,
        grads: &GenericArray<T, N>,
    ) {
        let (beta1, beta2) = h.betas;
        let t = t as f64;
        let bias_correction1 = 1.0 - libm::pow(beta1, t);
        let bias_correction2_sqrt = libm::sqrt(1.0 - libm::pow(beta2, t));
        let neg_step_size = T::from_f64(-(lr / bias_correction1));
        let bc2_sqrt = KnownDivisor::new(T::from_f64(bias_correction2_sqrt));
        let one_minus_beta1 = T::from_f64(1.0 - beta1);
        let one_minus_beta2 = T::from_f64(1.0 - beta2);
        let beta2 = T::from_f64(beta2);
        let eps = T::from_f64(h.eps);
        let wd = T::from_f64(h.weight_decay);
        let shrink = T::from_f64(1.0 - lr * h.weight_decay);
        let k = AdamStep {
            neg_step_size,
            bc2_sqrt,
            one_minus_beta1,
            one_minus_beta2,
            beta2,
            eps,
            wd,
            shrink,
        };
        let decay = h.weight_decay != 0.0;
        // One loop per combination of switches, each without branches
        // inside, so that every one vectorises.
        match (decay, h.decoupled, h.amsgrad) {
            (false, _, false) => k.run::<false, false, false, FUSED, N>(self, params, grads),
            (false, _, true) => k.run::<false, false, true, FUSED, N>(self, params, grads),
            (true, false, false) => k.run::<true, false, false, FUSED, N>(self, params, grads),
            (true, false, true) => k.run::<true, false, true, FUSED, N>(self, params, grads),
            (true, true, false) => k.run::<true, true, false, FUSED, N>(self, params, grads),
            (true, true, true) => k.run::<true, true, true, FUSED, N>(self, params, grads),
        }
    }
}

/// The scalars of one Adam step.
struct AdamStep<T> {
    neg_step_size: T,
    bc2_sqrt: KnownDivisor<T>,
    one_minus_beta1: T,
    one_minus_beta2: T,
    beta2: T,
    eps: T,
    wd: T,
    shrink: T,
}

impl<T: Scalar> AdamStep<T> {
    /// PyTorch's update with the switches fixed at compile time.
    #[inline(always)]
    fn run<
        const DECAY: bool,
        const DECOUPLED: bool,
        const AMSGRAD: bool,
        const FUSED: bool,
        N: ArrayLength,
    >(
        &self,
        state: &mut AdamMoments<T, N>,
        params: &mut GenericArray<T, N>,
        grads: &GenericArray<T, N>,
    ) {
        let moments = state
            .exp_avg
            .iter_mut()
            .zip(state.exp_avg_sq.iter_mut())
            .zip(state.max_exp_avg_sq.iter_mut());
        for ((p, g), ((m, v), v_max)) in params.iter_mut().zip(grads.iter()).zip(moments) {
            let mut g = *g;
            if DECAY {
                if DECOUPLED {
                    *p *= self.shrink;
                } else {
                    g += self.wd * *p;
                }
            }
            *m = lerp(*m, g, self.one_minus_beta1);
            *v = *v * self.beta2 + self.one_minus_beta2 * g * g;
            let second = if AMSGRAD {
                *v_max = v_max.max(*v);
                *v_max
            } else {
                *v
            };
            let denom = self.bc2_sqrt.divide::<FUSED>(second.sqrt()) + self.eps;
            *p += self.neg_step_size * *m / denom;
        }
    }
}

/// Adam state: the config, the moment estimates and the step count.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<T: Scalar, N: ArrayLength> {
    /// Hyperparameters.
    pub config: AdamConfig,
    /// Updates applied so far (`t` of the last update).
    pub step: u64,
    /// Moment estimates.
    pub moments: AdamMoments<T, N>,
}

impl<T: Scalar, N: ArrayLength> Adam<T, N> {
    /// A fresh optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a negative or non-finite hyperparameter
    /// or a β outside `[0, 1)`.
    pub fn new(config: AdamConfig) -> Result<Self, Error> {
        config.hyper().validate()?;
        Ok(Self {
            config,
            step: 0,
            moments: AdamMoments::ZERO,
        })
    }

    /// [`Adam::new`], with the state allocated directly on the heap.
    ///
    /// # Errors
    ///
    /// As [`Adam::new`].
    #[cfg(feature = "std")]
    pub fn boxed(config: AdamConfig) -> Result<std::boxed::Box<Self>, Error> {
        config.hyper().validate()?;
        let mut s = crate::zeroable::boxed_zeroed::<Self>();
        s.config = config;
        Ok(s)
    }
}

// SAFETY: every field is zero-valid: f64s and a bool in the config, u64,
// and the zero-valid moments.
unsafe impl<T: Scalar, N: ArrayLength> crate::Zeroable for Adam<T, N> {}

impl<T: Scalar, N: ArrayLength> Optimizer<T, N> for Adam<T, N> {
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
    use generic_array::typenum::U1;

    fn one(x: f64) -> GenericArray<f64, U1> {
        GenericArray::from_array([x])
    }

    #[test]
    fn trajectory_by_hand() {
        let config = AdamConfig {
            lr: 0.1,
            betas: (0.5, 0.75),
            eps: 0.0,
            ..AdamConfig::default()
        };
        let mut opt = Adam::<f64, U1>::new(config).unwrap();
        let mut p = one(1.0);
        // t = 1: m = 0.5·2 = 1, v = 0.25·4 = 1; m̂ = 2, v̂ = 4;
        // θ = 1 − 0.1·2/2 (the first step moves by γ·sign(g)).
        opt.update(&mut p, &one(2.0), 0.1);
        assert_eq!(p[0], 0.9);
        assert_eq!(
            (opt.moments.exp_avg[0], opt.moments.exp_avg_sq[0]),
            (1.0, 1.0)
        );
        // t = 2, g = −4: m = 0.5·1 + 0.5·(−4) = −1.5, v = 0.75·1 + 0.25·16
        // = 4.75; bias corrections 1 − 0.5² = 0.75 and 1 − 0.75² = 0.4375.
        opt.update(&mut p, &one(-4.0), 0.1);
        let expected = 0.9 - (0.1 / 0.75) * -1.5 / (4.75f64.sqrt() / 0.4375f64.sqrt());
        assert!((p[0] - expected).abs() < 1e-15, "{} vs {expected}", p[0]);
        assert_eq!(opt.moments.exp_avg_sq[0], 4.75);
    }

    #[test]
    fn amsgrad_keeps_the_largest_second_moment() {
        let config = AdamConfig {
            lr: 0.1,
            betas: (0.0, 0.5),
            eps: 0.0,
            amsgrad: true,
            ..AdamConfig::default()
        };
        let mut opt = Adam::<f64, U1>::new(config).unwrap();
        let mut p = one(0.0);
        opt.update(&mut p, &one(4.0), 0.1);
        // v = 8, then v = 4 + 0.5 = 4.5: the maximum stays 8 (of v, not v̂:
        // v̂ would be 16 then 6).
        opt.update(&mut p, &one(1.0), 0.1);
        assert_eq!(opt.moments.exp_avg_sq[0], 4.5);
        assert_eq!(opt.moments.max_exp_avg_sq[0], 8.0);
        // Second step: m̂ = 1, √v_max / √(1 − 0.25) = √8/√0.75.
        let expected = -0.1 - 0.1 * 1.0 / (8f64.sqrt() / 0.75f64.sqrt());
        assert!((p[0] - expected).abs() < 1e-15);
    }

    #[test]
    fn weight_decay_goes_through_the_moments() {
        let config = AdamConfig {
            lr: 0.1,
            betas: (0.0, 0.0),
            eps: 0.0,
            weight_decay: 1.0,
            ..AdamConfig::default()
        };
        let mut opt = Adam::<f64, U1>::new(config).unwrap();
        let mut p = one(2.0);
        // With β = 0 Adam is sign descent on g + λθ = −1 + 2 = 1.
        opt.update(&mut p, &one(-1.0), 0.1);
        assert_eq!(p[0], 1.9);
        assert_eq!(opt.moments.exp_avg[0], 1.0);
    }

    /// The fused division by the bias correction takes the same steps as
    /// the division, bit for bit, over a thousand steps of gradients
    /// spread over many magnitudes (zeros included), in every variant.
    #[test]
    fn fused_update_takes_the_same_steps() {
        use generic_array::typenum::U64;
        fn run<T: Scalar>(config: AdamConfig) {
            let mut s = 3u64;
            let mut next = move || {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s >> 11
            };
            let init = GenericArray::<T, U64>::from_array::<64>(core::array::from_fn(|i| {
                T::from_f64(i as f64 / 64.0 - 0.5)
            }));
            let (mut a, mut b) = (init, init);
            let mut plain = Adam::<T, U64>::new(config).unwrap();
            let mut fused = Adam::<T, U64>::new(config).unwrap();
            for t in 0..1000 {
                let g = GenericArray::<T, U64>::from_array::<64>(core::array::from_fn(|_| {
                    let r = next();
                    if r % 16 == 0 {
                        T::ZERO
                    } else {
                        let magnitude = (r % 61) as i32 - 40;
                        let sign = if r & 64 == 0 { 1.0 } else { -1.0 };
                        T::from_f64(sign * (1.0 + (r >> 20) as f64 / 2e9) * 2f64.powi(magnitude))
                    }
                }));
                plain.update_in_pass::<false>(&mut a, &g, config.lr);
                fused.update_in_pass::<true>(&mut b, &g, config.lr);
                for (x, y) in a.iter().zip(b.iter()) {
                    assert!(x.to_f64().to_bits() == y.to_f64().to_bits(), "step {t}");
                }
            }
            assert!(plain.moments == fused.moments);
        }
        for amsgrad in [false, true] {
            for weight_decay in [0.0, 1e-2] {
                let config = AdamConfig {
                    amsgrad,
                    weight_decay,
                    ..AdamConfig::default()
                };
                run::<f32>(config);
                run::<f64>(config);
            }
        }
    }

    #[test]
    fn betas_must_be_below_one() {
        for betas in [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (0.9, f64::NAN)] {
            let err = Adam::<f32, U1>::new(AdamConfig {
                betas,
                ..AdamConfig::default()
            })
            .unwrap_err();
            assert!(matches!(
                err,
                Error::InvalidConfig {
                    optimizer: "Adam",
                    ..
                }
            ));
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn boxed_starts_like_new() {
        let config = AdamConfig {
            amsgrad: true,
            ..AdamConfig::default()
        };
        let boxed = Adam::<f32, U1>::boxed(config).unwrap();
        assert_eq!(*boxed, Adam::new(config).unwrap());
        assert_eq!(boxed.moments, AdamMoments::ZERO);
    }
}
