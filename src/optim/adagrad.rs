//! Adagrad: per-parameter steps scaled by the root of the summed squared
//! gradients, `torch.optim.Adagrad`.

use super::{non_negative, require, Optimizer};
use crate::{CacheAligned, Error, Scalar};
use generic_array::{ArrayLength, GenericArray};

/// Hyperparameters of [`Adagrad`]; the defaults are `torch.optim.Adagrad`'s.
///
/// PyTorch's update at step `t` (counting from 1), with `s` the running sum
/// of squared gradients, `γ` the learning rate, `η` the learning-rate decay
/// and `λ` weight decay:
///
/// ```text
/// γ̃ = γ / (1 + (t − 1)η)
/// g ← g + λθ
/// s ← s + g²                 (s starts at initial_accumulator_value)
/// θ ← θ − γ̃ g / (√s + ε)
/// ```
///
/// The lecture writes `s ← s + g², θ ← θ − α g / √(s + ε)`, with ε under
/// the root. The two agree exactly when ε = 0; otherwise they differ only
/// while `s` is not much larger than ε (lecture) or `√s` than ε (PyTorch),
/// that is for parameters whose gradients have so far been (nearly) zero.
/// The lecture's form is PyTorch's with `eps = 0` and
/// `initial_accumulator_value` set to the lecture's ε (then `s` is
/// `ε + Σg²` from the start), up to the order of the additions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate γ (default 0.01).
    pub lr: f64,
    /// Learning-rate decay η (default 0): step `t` uses `γ / (1 + (t − 1)η)`.
    pub lr_decay: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// Starting value of every sum of squares (default 0).
    pub initial_accumulator_value: f64,
    /// ε added to the root of the sum, outside it (default 1e-10).
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

impl AdagradConfig {
    fn validate(&self) -> Result<(), Error> {
        const NAME: &str = "Adagrad";
        const EXPECTED: &str = "a finite number >= 0";
        require(non_negative(self.lr), NAME, "lr", EXPECTED, self.lr)?;
        require(
            non_negative(self.lr_decay),
            NAME,
            "lr_decay",
            EXPECTED,
            self.lr_decay,
        )?;
        require(
            non_negative(self.weight_decay),
            NAME,
            "weight_decay",
            EXPECTED,
            self.weight_decay,
        )?;
        require(
            non_negative(self.initial_accumulator_value),
            NAME,
            "initial_accumulator_value",
            EXPECTED,
            self.initial_accumulator_value,
        )?;
        require(non_negative(self.eps), NAME, "eps", EXPECTED, self.eps)
    }
}

/// Adagrad state: the config, the sums of squared gradients and the step
/// count.
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad<T: Scalar, N: ArrayLength> {
    /// Hyperparameters.
    pub config: AdagradConfig,
    /// Updates applied so far.
    pub step: u64,
    /// Sum of squared gradients `s` per parameter (PyTorch's `sum`).
    pub sum: CacheAligned<GenericArray<T, N>>,
}

impl<T: Scalar, N: ArrayLength> Adagrad<T, N> {
    /// A fresh optimizer, every sum at `initial_accumulator_value`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a negative or non-finite hyperparameter.
    pub fn new(config: AdagradConfig) -> Result<Self, Error> {
        config.validate()?;
        let mut s = Self {
            config,
            step: 0,
            sum: crate::zeroable::zeroed(),
        };
        s.sum.fill(T::from_f64(config.initial_accumulator_value));
        Ok(s)
    }

    /// [`Adagrad::new`], with the state allocated directly on the heap.
    ///
    /// # Errors
    ///
    /// As [`Adagrad::new`].
    #[cfg(feature = "std")]
    pub fn boxed(config: AdagradConfig) -> Result<std::boxed::Box<Self>, Error> {
        config.validate()?;
        let mut s = crate::zeroable::boxed_zeroed::<Self>();
        s.config = config;
        s.sum.fill(T::from_f64(config.initial_accumulator_value));
        Ok(s)
    }
}

// SAFETY: every field is zero-valid: the config's f64s, u64, and a
// GenericArray of scalars.
unsafe impl<T: Scalar, N: ArrayLength> crate::Zeroable for Adagrad<T, N> {}

impl<T: Scalar, N: ArrayLength> Optimizer<T, N> for Adagrad<T, N> {
    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn steps(&self) -> u64 {
        self.step
    }

    #[inline(always)]
    fn update(&mut self, params: &mut GenericArray<T, N>, grads: &GenericArray<T, N>, lr: f64) {
        let c = &self.config;
        self.step += 1;
        // Like PyTorch, the decayed rate is computed once per step in f64.
        let decayed_lr = lr / (1.0 + (self.step - 1) as f64 * c.lr_decay);
        let neg_lr = T::from_f64(-decayed_lr);
        let wd = T::from_f64(c.weight_decay);
        let eps = T::from_f64(c.eps);
        for ((p, g), s) in params.iter_mut().zip(grads.iter()).zip(self.sum.iter_mut()) {
            let mut g = *g;
            if c.weight_decay != 0.0 {
                g += wd * *p;
            }
            *s += g * g;
            let std = s.sqrt() + eps;
            *p += neg_lr * g / std;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generic_array::typenum::U2;

    fn arr(a: [f64; 2]) -> GenericArray<f64, U2> {
        GenericArray::from_array(a)
    }

    #[test]
    fn trajectory_by_hand() {
        let config = AdagradConfig {
            lr: 0.5,
            lr_decay: 1.0,
            initial_accumulator_value: 1.0,
            ..AdagradConfig::default()
        };
        let mut opt = Adagrad::<f64, U2>::new(config).unwrap();
        let eps = 1e-10;
        let mut p = arr([1.0, -1.0]);
        // Step 1: rate 0.5; s = 1 + 9 = 10 and 1 + 0 = 1.
        opt.update(&mut p, &arr([3.0, 0.0]), 0.5);
        let p1 = [1.0 - 0.5 * 3.0 / (10f64.sqrt() + eps), -1.0];
        assert_eq!(p.as_slice(), &p1);
        assert_eq!(opt.sum.as_slice(), &[10.0, 1.0]);
        // Step 2: rate 0.5 / (1 + 1·1) = 0.25; s = 10 + 1 = 11 and 1 + 4 = 5.
        opt.update(&mut p, &arr([-1.0, 2.0]), 0.5);
        let p2 = [
            p1[0] + 0.25 * 1.0 / (11f64.sqrt() + eps),
            p1[1] - 0.25 * 2.0 / (5f64.sqrt() + eps),
        ];
        assert!((p[0] - p2[0]).abs() < 1e-15 && (p[1] - p2[1]).abs() < 1e-15);
        assert_eq!(opt.steps(), 2);
    }

    #[test]
    fn weight_decay_is_added_to_the_gradient_before_squaring() {
        let config = AdagradConfig {
            lr: 0.1,
            weight_decay: 0.5,
            eps: 0.0,
            ..AdagradConfig::default()
        };
        let mut opt = Adagrad::<f64, U2>::new(config).unwrap();
        let mut p = arr([2.0, -4.0]);
        // g + λθ = [1 + 1, 0 − 2] = [2, −2]; s = g²; step = γ·g/|g| = ±0.1.
        opt.update(&mut p, &arr([1.0, 0.0]), 0.1);
        assert_eq!(p.as_slice(), &[1.9, -3.9]);
        assert_eq!(opt.sum.as_slice(), &[4.0, 4.0]);
    }

    #[test]
    fn a_zero_first_gradient_leaves_the_parameter_alone() {
        let mut opt = Adagrad::<f32, U2>::new(AdagradConfig::default()).unwrap();
        let mut p = GenericArray::<f32, U2>::from_array([1.0, 2.0]);
        opt.update(&mut p, &GenericArray::from_array([0.0, 0.0]), 0.01);
        // 0 / (√0 + ε) = 0: ε keeps the division finite.
        assert_eq!(p.as_slice(), &[1.0, 2.0]);
    }

    #[test]
    fn config_is_validated() {
        for bad in [
            AdagradConfig {
                lr: -0.1,
                ..AdagradConfig::default()
            },
            AdagradConfig {
                lr_decay: f64::NAN,
                ..AdagradConfig::default()
            },
            AdagradConfig {
                initial_accumulator_value: -1.0,
                ..AdagradConfig::default()
            },
            AdagradConfig {
                eps: f64::INFINITY,
                ..AdagradConfig::default()
            },
        ] {
            assert!(matches!(
                Adagrad::<f32, U2>::new(bad),
                Err(Error::InvalidConfig {
                    optimizer: "Adagrad",
                    ..
                })
            ));
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn boxed_starts_like_new() {
        let config = AdagradConfig {
            initial_accumulator_value: 0.25,
            ..AdagradConfig::default()
        };
        let boxed = Adagrad::<f64, U2>::boxed(config).unwrap();
        assert_eq!(*boxed, Adagrad::new(config).unwrap());
        assert_eq!(boxed.sum.as_slice(), &[0.25, 0.25]);
    }
}
