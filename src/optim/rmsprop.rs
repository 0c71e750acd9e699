//! RMSProp: steps scaled by the root of a moving average of squared
//! gradients, plain or centered, with optional momentum,
//! `torch.optim.RMSprop`.

use super::{lerp, non_negative, require, Optimizer};
use crate::{CacheAligned, Error, Scalar};
use generic_array::{ArrayLength, GenericArray};

/// Hyperparameters of [`RmsProp`]; the defaults are `torch.optim.RMSprop`'s.
///
/// PyTorch's update, with `v` the average of squares, `a` the average of
/// gradients, `b` the momentum buffer (all starting at 0), `γ` the learning
/// rate, `α` the smoothing constant, `μ` momentum and `λ` weight decay:
///
/// ```text
/// g ← g + λθ
/// v ← αv + (1 − α)g²
/// if centered:  a ← αa + (1 − α)g,  d = √(v − a²) + ε
/// else:         d = √v + ε
/// if μ > 0:     b ← μb + g/d,  θ ← θ − γb
/// else:         θ ← θ − γ g/d
/// ```
///
/// The lecture writes `v ← βv + (1 − β)g², θ ← θ − α g / √(v + ε)`: plain
/// RMSProp without momentum, with ε under the root. The two agree exactly
/// when ε = 0 (β = α here, α = γ); otherwise they differ only while `v` is
/// not much larger than ε (lecture) or `√v` than ε (PyTorch), that is for
/// gradients near zero. Centered RMSProp divides by an estimate of the
/// gradient's standard deviation instead of its root mean square.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate γ (default 0.01).
    pub lr: f64,
    /// Smoothing constant α of the moving averages (default 0.99).
    pub alpha: f64,
    /// ε added to the root, outside it (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor μ (default 0).
    pub momentum: f64,
    /// Divide by the centered second moment `v − a²` (default off).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropConfig {
    fn validate(&self) -> Result<(), Error> {
        const NAME: &str = "RMSprop";
        const EXPECTED: &str = "a finite number >= 0";
        require(non_negative(self.lr), NAME, "lr", EXPECTED, self.lr)?;
        // PyTorch only asks for α >= 0; above 1 the weight 1 − α of new
        // squares is negative and the average of squares can turn negative
        // (then its root is NaN), so that is refused here.
        require(
            (0.0..=1.0).contains(&self.alpha),
            NAME,
            "alpha",
            "a number in [0, 1]",
            self.alpha,
        )?;
        require(non_negative(self.eps), NAME, "eps", EXPECTED, self.eps)?;
        require(
            non_negative(self.weight_decay),
            NAME,
            "weight_decay",
            EXPECTED,
            self.weight_decay,
        )?;
        require(
            non_negative(self.momentum),
            NAME,
            "momentum",
            EXPECTED,
            self.momentum,
        )
    }
}

/// RMSProp state: the config, the moving averages, the momentum buffer and
/// the step count.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp<T: Scalar, N: ArrayLength> {
    /// Hyperparameters.
    pub config: RmsPropConfig,
    /// Updates applied so far.
    pub step: u64,
    /// Moving average of squared gradients `v` (PyTorch's `square_avg`).
    pub square_avg: CacheAligned<GenericArray<T, N>>,
    /// Moving average of gradients `a` (`grad_avg`; used when centered).
    pub grad_avg: CacheAligned<GenericArray<T, N>>,
    /// Momentum buffer `b` (used when momentum > 0).
    pub momentum_buffer: CacheAligned<GenericArray<T, N>>,
}

impl<T: Scalar, N: ArrayLength> RmsProp<T, N> {
    /// A fresh optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a negative or non-finite hyperparameter,
    /// or α outside `[0, 1]`.
    pub fn new(config: RmsPropConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            step: 0,
            square_avg: crate::zeroable::zeroed(),
            grad_avg: crate::zeroable::zeroed(),
            momentum_buffer: crate::zeroable::zeroed(),
        })
    }

    /// [`RmsProp::new`], with the state allocated directly on the heap.
    ///
    /// # Errors
    ///
    /// As [`RmsProp::new`].
    #[cfg(feature = "std")]
    pub fn boxed(config: RmsPropConfig) -> Result<std::boxed::Box<Self>, Error> {
        config.validate()?;
        let mut s = crate::zeroable::boxed_zeroed::<Self>();
        s.config = config;
        Ok(s)
    }
}

// SAFETY: every field is zero-valid: f64 and bool in the config, u64, and
// GenericArrays of scalars.
unsafe impl<T: Scalar, N: ArrayLength> crate::Zeroable for RmsProp<T, N> {}

impl<T: Scalar, N: ArrayLength> Optimizer<T, N> for RmsProp<T, N> {
    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn steps(&self) -> u64 {
        self.step
    }

    #[inline(always)]
    fn update(&mut self, params: &mut GenericArray<T, N>, grads: &GenericArray<T, N>, lr: f64) {
        let c = &self.config;
        let neg_lr = T::from_f64(-lr);
        let wd = T::from_f64(c.weight_decay);
        let alpha = T::from_f64(c.alpha);
        let one_minus_alpha = T::from_f64(1.0 - c.alpha);
        let eps = T::from_f64(c.eps);
        let mu = T::from_f64(c.momentum);
        let state = self
            .square_avg
            .iter_mut()
            .zip(self.grad_avg.iter_mut())
            .zip(self.momentum_buffer.iter_mut());
        for ((p, g), ((v, a), b)) in params.iter_mut().zip(grads.iter()).zip(state) {
            let mut g = *g;
            if c.weight_decay != 0.0 {
                g += wd * *p;
            }
            *v = *v * alpha + one_minus_alpha * g * g;
            let root = if c.centered {
                *a = lerp(*a, g, one_minus_alpha);
                (*v - *a * *a).sqrt()
            } else {
                v.sqrt()
            };
            let d = root + eps;
            if c.momentum > 0.0 {
                *b = *b * mu + g / d;
                *p += neg_lr * *b;
            } else {
                *p += neg_lr * g / d;
            }
        }
        self.step += 1;
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
    fn plain_trajectory_by_hand() {
        let config = RmsPropConfig {
            lr: 0.1,
            alpha: 0.5,
            eps: 0.0,
            ..RmsPropConfig::default()
        };
        let mut opt = RmsProp::<f64, U1>::new(config).unwrap();
        let mut p = one(1.0);
        // v = 0.5·0 + 0.5·4 = 2; θ = 1 − 0.1·2/√2.
        opt.update(&mut p, &one(2.0), 0.1);
        let p1 = 1.0 - 0.1 * 2.0 / 2f64.sqrt();
        assert_eq!(p[0], p1);
        // v = 0.5·2 + 0.5·16 = 9; θ = p1 + 0.1·4/3.
        opt.update(&mut p, &one(-4.0), 0.1);
        assert!((p[0] - (p1 + 0.1 * 4.0 / 3.0)).abs() < 1e-15);
        assert_eq!(opt.square_avg[0], 9.0);
    }

    #[test]
    fn centered_momentum_trajectory_by_hand() {
        let config = RmsPropConfig {
            lr: 0.1,
            alpha: 0.5,
            eps: 0.0,
            momentum: 0.5,
            centered: true,
            ..RmsPropConfig::default()
        };
        let mut opt = RmsProp::<f64, U1>::new(config).unwrap();
        let mut p = one(1.0);
        // v = 2, a = 1, d = √(2 − 1) = 1; b = g/d = 2; θ = 1 − 0.1·2.
        opt.update(&mut p, &one(2.0), 0.1);
        assert_eq!(p[0], 0.8);
        assert_eq!((opt.grad_avg[0], opt.momentum_buffer[0]), (1.0, 2.0));
        // v = 1 + 8 = 9, a = 0.5 − 2 = −1.5, d = √(9 − 2.25) = √6.75;
        // b = 0.5·2 − 4/√6.75; θ = 0.8 − 0.1·b.
        opt.update(&mut p, &one(-4.0), 0.1);
        let b = 1.0 - 4.0 / 6.75f64.sqrt();
        assert!((opt.momentum_buffer[0] - b).abs() < 1e-15);
        assert!((p[0] - (0.8 - 0.1 * b)).abs() < 1e-15);
    }

    #[test]
    fn weight_decay_and_eps_enter_as_pytorch_has_them() {
        let config = RmsPropConfig {
            lr: 0.1,
            alpha: 0.0,
            eps: 1.0,
            weight_decay: 1.0,
            ..RmsPropConfig::default()
        };
        let mut opt = RmsProp::<f64, U1>::new(config).unwrap();
        let mut p = one(2.0);
        // g = 1 + 2 = 3; v = 9; θ = 2 − 0.1·3/(3 + 1).
        opt.update(&mut p, &one(1.0), 0.1);
        assert_eq!(p[0], 2.0 - 0.1 * 3.0 / 4.0);
    }

    #[test]
    fn alpha_outside_the_unit_interval_is_refused() {
        for alpha in [-0.1, 1.5, f64::NAN] {
            let err = RmsProp::<f32, U1>::new(RmsPropConfig {
                alpha,
                ..RmsPropConfig::default()
            })
            .unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { field: "alpha", .. }));
        }
        let err = RmsProp::<f32, U1>::new(RmsPropConfig {
            momentum: -0.5,
            ..RmsPropConfig::default()
        })
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidConfig {
                field: "momentum",
                ..
            }
        ));
    }

    #[cfg(feature = "std")]
    #[test]
    fn boxed_starts_like_new() {
        let config = RmsPropConfig {
            centered: true,
            momentum: 0.9,
            ..RmsPropConfig::default()
        };
        let boxed = RmsProp::<f64, U1>::boxed(config).unwrap();
        assert_eq!(*boxed, RmsProp::new(config).unwrap());
        assert!(RmsProp::<f64, U1>::boxed(RmsPropConfig {
            lr: f64::NAN,
            ..config
        })
        .is_err());
    }
}
