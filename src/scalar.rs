//! The floating-point types a network can be built over.
//!
//! [`Scalar`] is implemented for `f32` and `f64` only, and is sealed: the
//! library relies on facts that hold for exactly these two types (an
//! all-zero bit pattern is `0.0`, they are `Copy` and have no drop glue),
//! which lets large parameter buffers and tapes be created directly on the
//! heap or in a caller's memory without first building them on the stack.
//!
//! All transcendental functions go through `libm`, so a `no_std` build and a
//! `std` build compute bit-identical results.

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar: `f32` or `f64`.
///
/// # Guarantees relied upon by the library
///
/// For every implementor, the all-zero bit pattern is a valid value equal to
/// `0.0`; the trait is sealed so that no other type can break this.
pub trait Scalar:
    sealed::Sealed
    + crate::Zeroable
    + Copy
    + Default
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// `0.0`
    const ZERO: Self;
    /// `1.0`
    const ONE: Self;
    /// Machine epsilon of the type.
    const EPSILON: Self;
    /// A short name (`"f32"` or `"f64"`) for messages and file headers.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(value: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;

    /// `e^self`
    fn exp(self) -> Self;
    /// `e^self - 1`, accurate near zero.
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `self·a + b` rounded once (a fused multiply-add), the same bits
    /// with or without `std`. Fast only where the instructions run with
    /// FMA (see [`crate::simd::fused_multiply_add`]); elsewhere a software
    /// routine.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `self·a + b`: with `FMA` rounded once ([`Scalar::mul_add`]), else the
    /// product is rounded first. A constant of each instantiation, so the
    /// loops around it have no branch.
    #[inline(always)]
    fn mul_add_if<const FMA: bool>(self, a: Self, b: Self) -> Self {
        if FMA {
            self.mul_add(a, b)
        } else {
            self * a + b
        }
    }
    /// Absolute value.
    fn abs(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// `true` unless the value is NaN or infinite.
    fn is_finite(self) -> bool;
    /// The larger of two values (NaN-ignoring, like `f32::max`).
    fn max(self, other: Self) -> Self;
    /// The smaller of two values (NaN-ignoring, like `f32::min`).
    fn min(self, other: Self) -> Self;

    /// `tanh` by [`crate::fastmath::tanh`] for `f32` (with `FMA`, by
    /// [`crate::fastmath::fused::tanh`]); exact for `f64`.
    fn fast_tanh<const FMA: bool>(self) -> Self;
    /// `eˣ` by [`crate::fastmath::exp`] for `f32` (`FMA`: the fused one);
    /// exact for `f64`.
    fn fast_exp<const FMA: bool>(self) -> Self;
    /// `eˣ − 1` by [`crate::fastmath::exp_m1`] for `f32` (`FMA`: the fused
    /// one); exact for `f64`.
    fn fast_exp_m1<const FMA: bool>(self) -> Self;
    /// `ln(1 + x)`, `x ≥ 0`, by [`crate::fastmath::ln_1p`] for `f32`
    /// (`FMA`: the fused one); exact for `f64`.
    fn fast_ln_1p<const FMA: bool>(self) -> Self;

    /// The values as `f32`, when `Self` is `f32` (for kernels written for
    /// `f32` alone).
    #[doc(hidden)]
    fn as_f32s(values: &[Self]) -> Option<&[f32]>;

    /// The values as `f32`, when `Self` is `f32`.
    #[doc(hidden)]
    fn as_f32s_mut(values: &mut [Self]) -> Option<&mut [f32]>;

    /// `C ← α·A·B + β·C` on general strided matrices with matrixmultiply.
    ///
    /// `A` is `m × k`, `B` is `k × n`, `C` is `m × n`; `rs*`/`cs*` are row and
    /// column strides in elements. With `β = 0`, `C` is never read.
    ///
    /// # Safety
    ///
    /// Every index `i·rs + j·cs` within each matrix's shape must lie inside
    /// the allocation its pointer points into; `c` must not alias `a` or `b`.
    #[cfg(feature = "std")]
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! impl_scalar {
    ($t:ty, $name:literal, $gemm:path, $exp:path, $expm1:path, $log:path, $log1p:path,
     $tanh:path, $sqrt:path, $fma:path, $fabs:path, $cos:path,
     fast: $ftanh:path, $fexp:path, $fexpm1:path, $flog1p:path,
     fused: $utanh:path, $uexp:path, $uexpm1:path, $ulog1p:path,
     f32s: $f32s:path) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = <$t>::EPSILON;
            const NAME: &'static str = $name;

            #[inline(always)]
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                $expm1(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $log(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                $log1p(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                // With std, the compiler's own square root: one instruction
                // that vectorises. libm's is correctly rounded too (IEEE
                // requires it of both), so results are the same, but its
                // scalar intrinsic would stop loops from vectorising.
                #[cfg(feature = "std")]
                {
                    <$t>::sqrt(self)
                }
                #[cfg(not(feature = "std"))]
                {
                    $sqrt(self)
                }
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                // With std, the compiler's intrinsic: one instruction where
                // FMA is enabled, and it vectorises. Both round once, so the
                // results are the same.
                #[cfg(feature = "std")]
                {
                    <$t>::mul_add(self, a, b)
                }
                #[cfg(not(feature = "std"))]
                {
                    $fma(self, a, b)
                }
            }
            #[inline(always)]
            fn abs(self) -> Self {
                // Clearing the sign bit: exact, in core, and vectorisable.
                let _ = $fabs;
                <$t>::from_bits(self.to_bits() & !(1 << (core::mem::size_of::<$t>() * 8 - 1)))
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $cos(self)
            }
            #[inline(always)]
            fn fast_tanh<const FMA: bool>(self) -> Self {
                if FMA {
                    $utanh(self)
                } else {
                    $ftanh(self)
                }
            }
            #[inline(always)]
            fn fast_exp<const FMA: bool>(self) -> Self {
                if FMA {
                    $uexp(self)
                } else {
                    $fexp(self)
                }
            }
            #[inline(always)]
            fn fast_exp_m1<const FMA: bool>(self) -> Self {
                if FMA {
                    $uexpm1(self)
                } else {
                    $fexpm1(self)
                }
            }
            #[inline(always)]
            fn fast_ln_1p<const FMA: bool>(self) -> Self {
                if FMA {
                    $ulog1p(self)
                } else {
                    $flog1p(self)
                }
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }

            #[inline(always)]
            fn as_f32s(values: &[Self]) -> Option<&[f32]> {
                $f32s(values)
            }

            #[inline(always)]
            fn as_f32s_mut(values: &mut [Self]) -> Option<&mut [f32]> {
                $f32s(values)
            }

            #[cfg(feature = "std")]
            #[inline]
            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: the caller upholds matrixmultiply's contract, which
                // is exactly this function's documented contract.
                unsafe { $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

impl_scalar!(
    f32,
    "f32",
    matrixmultiply::sgemm,
    libm::expf,
    libm::expm1f,
    libm::logf,
    libm::log1pf,
    libm::tanhf,
    libm::sqrtf,
    libm::fmaf,
    libm::fabsf,
    libm::cosf,
    fast: crate::fastmath::tanh,
    crate::fastmath::exp,
    crate::fastmath::exp_m1,
    crate::fastmath::ln_1p,
    fused: crate::fastmath::fused::tanh,
    crate::fastmath::fused::exp,
    crate::fastmath::fused::exp_m1,
    crate::fastmath::fused::ln_1p,
    f32s: Some
);
impl_scalar!(
    f64,
    "f64",
    matrixmultiply::dgemm,
    libm::exp,
    libm::expm1,
    libm::log,
    libm::log1p,
    libm::tanh,
    libm::sqrt,
    libm::fma,
    libm::fabs,
    libm::cos,
    // f64 users chose precision: the exact functions.
    fast: libm::tanh,
    libm::exp,
    libm::expm1,
    libm::log1p,
    fused: libm::tanh,
    libm::exp,
    libm::expm1,
    libm::log1p,
    f32s: not_f32
);

/// `None`: the values are not `f32`.
#[inline(always)]
fn not_f32<S, F>(_: S) -> Option<F> {
    None
}
