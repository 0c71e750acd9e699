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

/// The same activations computed with the vectorised approximations of
/// [`crate::fastmath`] in `f32` (maximum errors there; about 5e-7 relative)
/// and exactly in `f64`. A network declared `#[fast_math]` uses these.
///
/// Exact is the default: the approximations are within a few ulps, but a
/// finite-difference gradient check at 1e-6 would see them.
pub mod fast {
    use super::Activation;
    use crate::Scalar;

    /// [`super::Sigmoid`], approximated. `FMA` (in each of these types):
    /// with fused multiply-adds in the approximation's polynomials, for
    /// code that runs with FMA instructions (see
    /// [`crate::fastmath::fused`]).
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct Sigmoid<const FMA: bool = false>;

    impl<T: Scalar, const FMA: bool> Activation<T> for Sigmoid<FMA> {
        #[inline(always)]
        fn apply(self, x: T) -> T {
            // e^(−x) saturates instead of overflowing, so no branch is needed.
            T::ONE / (T::ONE + (-x).fast_exp::<FMA>())
        }
        #[inline(always)]
        fn derivative(self, _x: T, y: T) -> T {
            y * (T::ONE - y)
        }
    }

    /// [`super::Tanh`], approximated.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct Tanh<const FMA: bool = false>;

    impl<T: Scalar, const FMA: bool> Activation<T> for Tanh<FMA> {
        #[inline(always)]
        fn apply(self, x: T) -> T {
            x.fast_tanh::<FMA>()
        }
        #[inline(always)]
        fn derivative(self, _x: T, y: T) -> T {
            T::ONE - y * y
        }
    }

    /// [`super::Elu`], approximated.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Elu<T, const FMA: bool = false> {
        /// As in [`super::Elu`].
        pub alpha: T,
    }

    impl<T: Scalar, const FMA: bool> Activation<T> for Elu<T, FMA> {
        #[inline(always)]
        fn apply(self, x: T) -> T {
            let neg = self.alpha * x.min(T::ZERO).fast_exp_m1::<FMA>();
            if x > T::ZERO {
                x
            } else {
                neg
            }
        }
        #[inline(always)]
        fn derivative(self, x: T, _y: T) -> T {
            let neg = self.alpha * x.min(T::ZERO).fast_exp::<FMA>();
            if x > T::ZERO {
                T::ONE
            } else {
                neg
            }
        }
    }

    /// [`super::Softplus`], approximated.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Softplus<T, const FMA: bool = false> {
        /// As in [`super::Softplus`].
        pub beta: T,
        /// As in [`super::Softplus`].
        pub threshold: T,
    }

    impl<T: Scalar, const FMA: bool> Activation<T> for Softplus<T, FMA> {
        #[inline(always)]
        fn apply(self, x: T) -> T {
            let bx = self.beta * x;
            // ln(1 + e^z) = max(z, 0) + ln(1 + e^(−|z|)): no overflow, and
            // both branches are computed so the loop stays branch-free.
            let e = (-bx.abs()).fast_exp::<FMA>();
            let smooth = (bx.max(T::ZERO) + e.fast_ln_1p::<FMA>()) / self.beta;
            if bx > self.threshold {
                x
            } else {
                smooth
            }
        }
        #[inline(always)]
        fn derivative(self, x: T, _y: T) -> T {
            let bx = self.beta * x;
            let s = Sigmoid::<FMA>.apply(bx);
            if bx > self.threshold {
                T::ONE
            } else {
                s
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::{self as exact, Activation};
        use super::*;

        /// Largest deviation of `fast` from the exact `f32` activation over
        /// a grid, relative to max(|exact|, 1e-30) for values and to
        /// max(|exact|, 1) for derivatives. (Against the exact `f32` form,
        /// not `f64`: both round βx the same way, and that rounding, not the
        /// approximation, dominates softplus for very negative inputs.)
        fn compare<F: Activation<f32>, E: Activation<f32>>(fast: F, exact: E, name: &str) {
            let mut worst_v = 0.0f64;
            let mut worst_d = 0.0f64;
            for i in 0..=200_000 {
                let x = -30.0 + 60.0 * i as f64 / 200_000.0;
                let xf = x as f32;
                let ye = exact.apply(xf);
                let yf = fast.apply(xf);
                let (ye64, yf64) = (ye as f64, yf as f64);
                worst_v = worst_v.max((yf64 - ye64).abs() / ye64.abs().max(1e-30));
                let de = exact.derivative(xf, ye) as f64;
                let df = fast.derivative(xf, yf) as f64;
                worst_d = worst_d.max((df - de).abs() / de.abs().max(1.0));
            }
            assert!(worst_v < 1e-6, "{name}: value error {worst_v:e}");
            assert!(worst_d < 2e-6, "{name}: derivative error {worst_d:e}");
        }

        /// Both variants: rounded steps, and fused multiply-adds.
        fn check_all<const FMA: bool>() {
            compare(Sigmoid::<FMA>, exact::Sigmoid, "sigmoid");
            compare(Tanh::<FMA>, exact::Tanh, "tanh");
            let elu = Elu::<f32, FMA> { alpha: 1.5 };
            compare(elu, exact::Elu { alpha: 1.5f32 }, "elu");
            for (beta, threshold) in [(1.0, 20.0), (2.5, 10.0)] {
                compare(
                    Softplus::<f32, FMA> { beta, threshold },
                    exact::Softplus { beta, threshold },
                    &format!("softplus({beta}, {threshold})"),
                );
            }
        }

        #[test]
        fn fast_activations_stay_within_their_documented_error() {
            check_all::<false>();
            check_all::<true>();
        }

        #[test]
        fn f64_fast_activations_are_exact() {
            for &x in &[-40.0f64, -2.5, -1e-9, 0.0, 0.3, 7.0, 45.0] {
                assert_eq!(Tanh::<true>.apply(x), exact::Tanh.apply(x));
                assert_eq!(
                    Elu::<f64> { alpha: 1.0 }.apply(x),
                    exact::Elu { alpha: 1.0 }.apply(x)
                );
            }
        }

        fn stay_finite<const FMA: bool>() {
            for &x in &[-1000.0f32, -88.0, 88.0, 1000.0] {
                assert!(Sigmoid::<FMA>.apply(x).is_finite());
                assert!(Tanh::<FMA>.apply(x).is_finite());
                let sp = Softplus::<f32, FMA> {
                    beta: 1.0,
                    threshold: 20.0,
                };
                assert!(sp.apply(x).is_finite() && sp.apply(x) >= 0.0);
                assert!(Elu::<f32, FMA> { alpha: 1.0 }.apply(x).is_finite());
            }
        }

        #[test]
        fn extreme_inputs_stay_finite() {
            stay_finite::<false>();
            stay_finite::<true>();
        }
    }
}

/// Applies `f` to a batch: `y[b][j] = f(x[b][j])`.
// Always inlined: the generated passes run inside functions compiled
// with AVX2/AVX-512 enabled (see `crate::simd`); a call left out of line
// would run with the build's baseline features instead.
#[inline(always)]
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
#[inline(always)]
pub fn forward_in_place<T: Scalar, A: Activation<T>, const W: usize, const B: usize>(
    f: A,
    x: &mut [[T; W]; B],
) {
    for v in x.as_flattened_mut() {
        *v = f.apply(*v);
    }
}

/// Vector-Jacobian product in place: `g[b][j] ← g[b][j] · f'(x[b][j])`.
#[inline(always)]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Points away from every kink (0 for all piecewise activations, and the
    /// Softplus threshold for β = 1.5, threshold = 3 at x = 2).
    const GRID: [f64; 12] = [
        -30.0, -7.5, -2.0, -0.7, -0.1, -1e-3, 1e-3, 0.1, 0.7, 1.9, 7.5, 30.0,
    ];

    fn check_derivative<A: Activation<f64>>(f: A, name: &str) {
        for &x in &GRID {
            let h = 1e-6 * x.abs().max(1e-3);
            let numeric = (f.apply(x + h) - f.apply(x - h)) / (2.0 * h);
            let analytic = f.derivative(x, f.apply(x));
            let err = (numeric - analytic).abs() / analytic.abs().max(1.0);
            assert!(
                err < 1e-6,
                "{name}'({x}): analytic {analytic}, numeric {numeric}"
            );
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        check_derivative(Identity, "Identity");
        check_derivative(BinaryStep, "BinaryStep");
        check_derivative(Sigmoid, "Sigmoid");
        check_derivative(Tanh, "Tanh");
        check_derivative(Relu, "Relu");
        check_derivative(LeakyRelu { slope: 0.2 }, "LeakyRelu");
        check_derivative(LeakyRelu { slope: -0.5 }, "LeakyRelu(-0.5)");
        check_derivative(Elu { alpha: 1.3 }, "Elu");
        check_derivative(Softplus::default(), "Softplus");
        check_derivative(
            Softplus {
                beta: 1.5,
                threshold: 3.0,
            },
            "Softplus(1.5, 3)",
        );
    }

    #[test]
    fn derivatives_at_kinks_follow_pytorch() {
        assert_eq!(Activation::<f64>::derivative(Relu, 0.0, 0.0), 0.0);
        assert_eq!(LeakyRelu { slope: 0.01 }.derivative(0.0, 0.0), 0.01);
        assert_eq!(Elu { alpha: 2.0 }.derivative(0.0, 0.0), 2.0);
        assert_eq!(Activation::<f64>::derivative(BinaryStep, 0.0, 0.0), 0.0);
        assert_eq!(Activation::<f64>::apply(BinaryStep, 0.0), 0.0);
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        for &x in &[-1000.0f32, -88.0, 88.0, 1000.0] {
            let s = Sigmoid.apply(x);
            assert!(
                s.is_finite() && (0.0..=1.0).contains(&s),
                "sigmoid({x}) = {s}"
            );
            assert!(Tanh.apply(x).is_finite());
            let sp = Softplus::default().apply(x);
            assert!(sp.is_finite() && sp >= 0.0, "softplus({x}) = {sp}");
            assert!(Elu::default().apply(x).is_finite());
            let d = Softplus::default().derivative(x, sp);
            assert!(d.is_finite());
        }
        assert_eq!(Sigmoid.apply(-1000.0f64), 0.0);
        assert_eq!(Sigmoid.apply(1000.0f64), 1.0);
    }

    #[test]
    fn softplus_follows_pytorch_threshold() {
        let f = Softplus {
            beta: 2.0,
            threshold: 10.0,
        };
        // βx = 12 > 10: the identity.
        assert_eq!(f.apply(6.0f64), 6.0);
        // βx = 8 ≤ 10: ln(1 + e^8) / 2.
        let expected = (1.0 + 8.0f64.exp()).ln() / 2.0;
        assert!((f.apply(4.0f64) - expected).abs() < 1e-14);
        // Far below: no underflow to a negative or NaN.
        assert!(f.apply(-400.0f64) >= 0.0);
    }

    #[test]
    fn batch_helpers_agree_with_scalar_calls() {
        let x = [[-1.5f64, 0.25, 3.0], [0.0, -0.1, 9.0]];
        let mut y = [[0.0; 3]; 2];
        forward(Tanh, &x, &mut y);
        let mut z = x;
        forward_in_place(Tanh, &mut z);
        assert_eq!(y, z);
        let mut g = [[1.0; 3]; 2];
        backward_in_place(Tanh, &x, &y, &mut g);
        for b in 0..2 {
            for j in 0..3 {
                assert_eq!(y[b][j], x[b][j].tanh());
                assert_eq!(g[b][j], 1.0 - y[b][j] * y[b][j]);
            }
        }
    }
}
