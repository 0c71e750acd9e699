//! Stochastic gradient descent with momentum, dampening, Nesterov momentum
//! and weight decay: `torch.optim.SGD`.

use super::Optimizer;
use crate::{CacheAligned, Error, Scalar};
use generic_array::{ArrayLength, GenericArray};

/// Hyperparameters of [`Sgd`]; the defaults are `torch.optim.SGD`'s.
///
/// PyTorch's update, with `g` the gradient, `b` the momentum buffer, `γ`
/// the learning rate, `μ` momentum, `τ` dampening and `λ` weight decay:
///
/// ```text
/// g ← g + λθ
/// if μ ≠ 0:  b ← g on the first step, else b ← μb + (1 − τ)g
///            g ← g + μb  (Nesterov)   or   g ← b
/// θ ← θ − γg
/// ```
///
/// The lecture writes momentum as `v ← βv − α∇f, x ← x + v`. With a
/// constant learning rate and no dampening this is the same trajectory
/// (`v = −γb`, β = μ, α = γ); when the learning rate changes between steps
/// the two differ (PyTorch's buffer does not carry the old learning rate),
/// and PyTorch's form is the one implemented. Plain gradient descent is
/// `μ = 0` with the full data set's gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate γ (PyTorch's default 1e-3).
    pub lr: f64,
    /// Momentum factor μ (default 0).
    pub momentum: f64,
    /// Dampening τ for momentum (default 0).
    pub dampening: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default off; needs μ > 0 and τ = 0).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdConfig {
    fn validate(&self) -> Result<(), Error> {
        let bad = |field: &'static str, expected: &'static str, value: f64| {
            Err(Error::InvalidConfig {
                optimizer: "SGD",
                field,
                expected,
                value,
            })
        };
        if !(self.lr >= 0.0 && self.lr.is_finite()) {
            return bad("lr", "a finite number >= 0", self.lr);
        }
        if !(self.momentum >= 0.0 && self.momentum.is_finite()) {
            return bad("momentum", "a finite number >= 0", self.momentum);
        }
        if !self.dampening.is_finite() {
            return bad("dampening", "a finite number", self.dampening);
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("weight_decay", "a finite number >= 0", self.weight_decay);
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return bad(
                "nesterov",
                "momentum > 0 and dampening = 0 (as PyTorch requires)",
                self.momentum,
            );
        }
        Ok(())
    }
}

/// SGD state: the config, the momentum buffer and the step count.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd<T: Scalar, N: ArrayLength> {
    /// Hyperparameters.
    pub config: SgdConfig,
    /// Updates applied so far.
    pub step: u64,
    /// Momentum buffer `b` (unused when momentum is 0).
    pub momentum_buffer: CacheAligned<GenericArray<T, N>>,
}

impl<T: Scalar, N: ArrayLength> Sgd<T, N> {
    /// A fresh optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a negative or non-finite hyperparameter,
    /// or Nesterov without momentum or with dampening.
    pub fn new(config: SgdConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            step: 0,
            momentum_buffer: crate::zeroable::zeroed(),
        })
    }

    /// [`Sgd::new`], with the state allocated directly on the heap.
    ///
    /// # Errors
    ///
    /// As [`Sgd::new`].
    #[cfg(feature = "std")]
    pub fn boxed(config: SgdConfig) -> Result<std::boxed::Box<Self>, Error> {
        config.validate()?;
        let mut s = crate::zeroable::boxed_zeroed::<Self>();
        s.config = config;
        Ok(s)
    }
}

/// The scalars of one SGD step.
struct SgdStep<T> {
    lr: T,
    wd: T,
    mu: T,
    one_minus_damp: T,
}

impl<T: Scalar> SgdStep<T> {
    /// PyTorch's update with the switches fixed at compile time.
    #[inline(always)]
    fn run<const WD: bool, const MOMENTUM: bool, const NESTEROV: bool, const FIRST: bool>(
        &self,
        params: &mut [T],
        grads: &[T],
        bufs: &mut [T],
    ) {
        for ((p, g), b) in params.iter_mut().zip(grads).zip(bufs) {
            let mut d = *g;
            if WD {
                d += self.wd * *p;
            }
            if MOMENTUM {
                *b = if FIRST {
                    d
                } else {
                    self.mu * *b + self.one_minus_damp * d
                };
                d = if NESTEROV { d + self.mu * *b } else { *b };
            }
            *p -= self.lr * d;
        }
    }
}

// SAFETY: every field is zero-valid: f64 and bool in the config, u64, and a
// GenericArray of scalars.
unsafe impl<T: Scalar, N: ArrayLength> crate::Zeroable for Sgd<T, N> {}

impl<T: Scalar, N: ArrayLength> Optimizer<T, N> for Sgd<T, N> {
    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn steps(&self) -> u64 {
        self.step
    }

    #[inline(always)]
    fn update(&mut self, params: &mut GenericArray<T, N>, grads: &GenericArray<T, N>, lr: f64) {
        let c = &self.config;
        let k = SgdStep {
            lr: T::from_f64(lr),
            wd: T::from_f64(c.weight_decay),
            mu: T::from_f64(c.momentum),
            one_minus_damp: T::from_f64(1.0 - c.dampening),
        };
        let (p, g, b) = (
            params.as_mut_slice(),
            grads.as_slice(),
            self.momentum_buffer.as_mut_slice(),
        );
        // One loop per combination of switches, each without branches
        // inside, so that every one vectorises.
        match (
            c.weight_decay != 0.0,
            c.momentum != 0.0,
            c.nesterov,
            self.step == 0,
        ) {
            (wd, false, _, _) => {
                if wd {
                    k.run::<true, false, false, false>(p, g, b)
                } else {
                    k.run::<false, false, false, false>(p, g, b)
                }
            }
            (false, true, false, false) => k.run::<false, true, false, false>(p, g, b),
            (false, true, false, true) => k.run::<false, true, false, true>(p, g, b),
            (false, true, true, false) => k.run::<false, true, true, false>(p, g, b),
            (false, true, true, true) => k.run::<false, true, true, true>(p, g, b),
            (true, true, false, false) => k.run::<true, true, false, false>(p, g, b),
            (true, true, false, true) => k.run::<true, true, false, true>(p, g, b),
            (true, true, true, false) => k.run::<true, true, true, false>(p, g, b),
            (true, true, true, true) => k.run::<true, true, true, true>(p, g, b),
        }
        self.step += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generic_array::typenum::U2;

    #[test]
    fn momentum_trajectory_by_hand() {
        let mut opt = Sgd::<f64, U2>::new(SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..SgdConfig::default()
        })
        .unwrap();
        let mut p = GenericArray::<f64, U2>::from_array([1.0, -2.0]);
        let g = GenericArray::<f64, U2>::from_array([0.5, 1.0]);
        opt.update(&mut p, &g, 0.1);
        // b = g; θ = θ − 0.1·g
        assert_eq!(p.as_slice(), &[1.0 - 0.05, -2.0 - 0.1]);
        opt.update(&mut p, &g, 0.1);
        // b = 0.9·g + g = 1.9·g
        assert!((p[0] - (0.95 - 0.1 * 0.95)).abs() < 1e-15);
        assert!((p[1] - (-2.1 - 0.1 * 1.9)).abs() < 1e-15);
        assert_eq!(opt.steps(), 2);
    }

    #[test]
    fn nesterov_needs_momentum() {
        let err = Sgd::<f32, U2>::new(SgdConfig {
            nesterov: true,
            ..SgdConfig::default()
        })
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidConfig {
                field: "nesterov",
                ..
            }
        ));
    }
}
