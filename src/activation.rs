//! Activation functions, each with its derivative beside it.
//!
//! Every activation is a small `Copy` type implementing [`Activation`]:
//! `apply` is the function and `derivative` its derivative, written next to
//! each other so the rules are easy to audit. The derivative receives both
//! the activation's input `x` and its output `y = f(x)` (the tape holds
//! both), and uses whichever is more accurate.
//!
//! Conventions follow PyTorch's autograd where a derivative is not defined:
//! ReLU'(0) = 0, LeakyReLU'(0) = slope, ELU'(0) = α, and the binary step's
//! derivative is 0 everywhere.

use crate::Scalar;

/// An element-wise activation function and its derivative.
pub trait Activation<T: Scalar>: Copy {
    /// `f(x)`
    fn apply(self, x: T) -> T;
    /// `f'(x)`, given the input `x` and the output `y = f(x)`.
    fn derivative(self, x: T, y: T) -> T;
}

/// The identity, `f(x) = x` (the lecture's "linear" activation).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Identity;

impl<T: Scalar> Activation<T> for Identity {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        x
    }
    #[inline(always)]
    fn derivative(self, _x: T, _y: T) -> T {
        T::ONE
    }
}

/// The binary (Heaviside) step: 1 for `x > 0`, else 0.
///
/// Its derivative is 0 wherever it is defined, so no gradient flows through
/// it; it is here to show why gradient descent needs differentiable units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryStep;

impl<T: Scalar> Activation<T> for BinaryStep {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        if x > T::ZERO {
            T::ONE
        } else {
            T::ZERO
        }
    }
    #[inline(always)]
    fn derivative(self, _x: T, _y: T) -> T {
        T::ZERO
    }
}

/// The logistic sigmoid, `σ(x) = 1 / (1 + e^(−x))`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

impl<T: Scalar> Activation<T> for Sigmoid {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        // Both branches only ever exponentiate a non-positive number, so
        // neither overflows.
        if x >= T::ZERO {
            T::ONE / (T::ONE + (-x).exp())
        } else {
            let e = x.exp();
            e / (T::ONE + e)
        }
    }
    #[inline(always)]
    fn derivative(self, _x: T, y: T) -> T {
        y * (T::ONE - y)
    }
}

/// The hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

impl<T: Scalar> Activation<T> for Tanh {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        x.tanh()
    }
    #[inline(always)]
    fn derivative(self, _x: T, y: T) -> T {
        T::ONE - y * y
    }
}

/// The rectified linear unit, `max(0, x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Relu;

impl<T: Scalar> Activation<T> for Relu {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        if x > T::ZERO {
            x
        } else {
            T::ZERO
        }
    }
    #[inline(always)]
    fn derivative(self, x: T, _y: T) -> T {
        if x > T::ZERO {
            T::ONE
        } else {
            T::ZERO
        }
    }
}

/// Leaky ReLU, `max(0, x) + slope · min(0, x)` (PyTorch's default slope is
/// 0.01).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu<T> {
    /// The slope for negative inputs.
    pub slope: T,
}

impl<T: Scalar> Activation<T> for LeakyRelu<T> {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        if x > T::ZERO {
            x
        } else {
            self.slope * x
        }
    }
    #[inline(always)]
    fn derivative(self, x: T, _y: T) -> T {
        if x > T::ZERO {
            T::ONE
        } else {
            self.slope
        }
    }
}

/// The exponential linear unit, `x` for `x > 0`, else `α(eˣ − 1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu<T> {
    /// The value the function approaches as `x → −∞` is `−α`.
    pub alpha: T,
}

impl<T: Scalar> Activation<T> for Elu<T> {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        if x > T::ZERO {
            x
        } else {
            self.alpha * x.exp_m1()
        }
    }
    #[inline(always)]
    fn derivative(self, x: T, _y: T) -> T {
        if x > T::ZERO {
            T::ONE
        } else {
            // α·eˣ from the input: recovering it from y + α would cancel
            // badly for very negative x.
            self.alpha * x.exp()
        }
    }
}

/// Softplus in PyTorch's form: `ln(1 + e^(βx)) / β`, and `x` itself where
/// `βx > threshold` (defaults β = 1, threshold = 20).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus<T> {
    /// The sharpness β (> 0).
    pub beta: T,
    /// Above `βx > threshold` the function is the identity.
    pub threshold: T,
}

impl<T: Scalar> Activation<T> for Softplus<T> {
    #[inline(always)]
    fn apply(self, x: T) -> T {
        let bx = self.beta * x;
        if bx > self.threshold {
            x
        } else if bx > T::ZERO {
            // ln(1 + e^z) = z + ln(1 + e^(−z)): never overflows.
            (bx + (-bx).exp().ln_1p()) / self.beta
        } else {
            bx.exp().ln_1p() / self.beta
        }
    }
    #[inline(always)]
    fn derivative(self, x: T, _y: T) -> T {
        let bx = self.beta * x;
        if bx > self.threshold {
            T::ONE
        } else {
            Sigmoid.apply(bx)
        }
    }
}

impl<T: Scalar> Default for LeakyRelu<T> {
    fn default() -> Self {
        Self {
            slope: T::from_f64(0.01),
        }
    }
}

impl<T: Scalar> Default for Elu<T> {
    fn default() -> Self {
        Self { alpha: T::ONE }
    }
}

impl<T: Scalar> Default for Softplus<T> {
    fn default() -> Self {
        Self {
            beta: T::ONE,
            threshold: T::from_f64(20.0),
        }
    }
}

/// Applies `f` to a batch: `y[b][j] = f(x[b][j])`.
#[inline]
pub fn forward<T: Scalar, A: Activation<T>, const W: usize, const B: usize>(
    f: A,
    x: &[[T; W]; B],
    y: &mut [[T; W]; B],
) {
    for (xr, yr) in x.iter().zip(y.iter_mut()) {
        for (xv, yv) in xr.iter().zip(yr.iter_mut()) {
            *yv = f.apply(*xv);
        }
    }
}

/// Applies `f` in place.
#[inline]
pub fn forward_in_place<T: Scalar, A: Activation<T>, const W: usize, const B: usize>(
    f: A,
    x: &mut [[T; W]; B],
) {
    for v in x.as_flattened_mut() {
        *v = f.apply(*v);
    }
}

/// Vector-Jacobian product in place: `g[b][j] ← g[b][j] · f'(x[b][j])`.
#[inline]
pub fn backward_in_place<T: Scalar, A: Activation<T>, const W: usize, const B: usize>(
    f: A,
    x: &[[T; W]; B],
    y: &[[T; W]; B],
    g: &mut [[T; W]; B],
) {
    let x = x.as_flattened();
    let y = y.as_flattened();
    for ((gv, xv), yv) in g.as_flattened_mut().iter_mut().zip(x).zip(y) {
        *gv *= f.derivative(*xv, *yv);
    }
}
