//! Division by a divisor fixed for a whole update, by fused multiply-adds.
//!
//! Adam divides every parameter's `√v` by the same `√(1 − β₂ᵗ)`. A
//! division is the slowest arithmetic a vector unit does, and with the
//! square root and the second division of the update it decides how fast
//! the update runs (the divider is one unit, shared by all three). With
//! `r = RN(1/d)` computed once, the quotient can be had from multiply-adds,
//! rounded exactly as the division rounds it:
//!
//! ```text
//! q₀ = RN(x·r)
//! q₁ = RN(q₀ + RN(x − d·q₀)·r)
//! q  = RN(q₁ + RN(x − d·q₁)·r)      = RN(x/d)
//! ```
//!
//! Why `q` is the correctly rounded quotient:
//!
//! - `r` is within half an ulp of `1/d`, a relative error below `2⁻ᵖ`
//!   (`p` = 24 for `f32`, 53 for `f64`), so `x·r` is within about one ulp of
//!   `x/d` and `q₀` within two.
//! - The residual `x − d·q₀` is then a few ulps of `q₀` times `d`; times
//!   `r` it corrects `q₀` to within a tiny fraction of an ulp of `x/d`
//!   (the errors left are products of two relative errors), so `q₁`, its
//!   rounding, is faithful: within one ulp of `x/d`.
//! - Markstein's theorem (1990): if `q₁` is faithful and `r` approximates
//!   `1/d` with relative error below `2⁻ᵖ`, then `x − d·q₁` is exactly
//!   representable (so one fused multiply-add computes it without error)
//!   and `RN(q₁ + (x − d·q₁)·r) = RN(x/d)`, provided nothing underflows or
//!   overflows.
//!
//! The last condition holds where it is used ([`KnownDivisor::divide`]
//! states the range). Checked outside the tests as well: the two-step form
//! gave the division's bits for every `f32` from 2⁻⁷⁵ to 4·√max, for 702
//! divisors (Adam's first 400 with the default β₂, and random ones down to
//! 2⁻²⁶·⁵). One step from `q₀` was never wrong either, in 2.6 billion
//! quotients, but only the two-step form is proved for every input.

use crate::Scalar;

/// A divisor `d` and `RN(1/d)`, for [`KnownDivisor::divide`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct KnownDivisor<T> {
    d: T,
    r: T,
}

impl<T: Scalar> KnownDivisor<T> {
    /// `d` must be finite and positive.
    #[inline(always)]
    pub fn new(d: T) -> Self {
        Self { d, r: T::ONE / d }
    }

    /// `x / d`. With `FUSED`, by the multiply-adds of the module above
    /// (to be used only where they are single instructions); the same
    /// bits as the division for `x` = 0, ±∞, NaN, and for every `x` with
    /// `|x| ≥ 2⁻⁷⁵` when `2⁻²⁷ ≤ d ≤ 1` (`f32`; for `f64`, `|x| ≥ 2⁻⁵³⁸`):
    /// there the quotient is normal and no residual underflows. Adam's
    /// `x = √v` is 0 or at least the root of the smallest subnormal
    /// (`2⁻⁷⁴·⁵`, `2⁻⁵³⁷`), and its `d = √(1 − β₂ᵗ)` at least
    /// `√(1 − β₂) ≥ 2⁻²⁶·⁵` for any `β₂ < 1` in `f64`.
    #[inline(always)]
    pub fn divide<const FUSED: bool>(&self, x: T) -> T {
        if !FUSED {
            return x / self.d;
        }
        let q0 = x * self.r;
        let q1 = (-q0).mul_add(self.d, x).mul_add(self.r, q0);
        let q = (-q1).mul_add(self.d, x).mul_add(self.r, q1);
        // ±∞ and NaN: the residual of an infinite quotient is NaN, while
        // the division gives the infinity (or the NaN) `x·r` already is.
        if q0.is_finite() {
            q
        } else {
            q0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(s: &mut u64) -> u64 {
        *s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *s >> 11
    }

    /// The divisors Adam uses with the default β₂ in its first steps and
    /// later, and random ones in the range `divide` states.
    fn divisors(seed: u64) -> Vec<f64> {
        let mut ds: Vec<f64> = (1..=40)
            .chain([100, 1000, 10_000])
            .map(|t| (1.0 - 0.999f64.powi(t)).sqrt())
            .collect();
        ds.push(2f64.powf(-26.5));
        ds.push(1.0);
        let mut s = seed;
        for _ in 0..20 {
            let u = next(&mut s) as f64 / (1u64 << 53) as f64;
            ds.push(2f64.powf(-26.5 * u));
        }
        ds
    }

    #[test]
    fn fused_quotients_are_the_divisions_f32() {
        let mut s = 7;
        for d in divisors(1) {
            let k = KnownDivisor::new(d as f32);
            let check = |x: f32| {
                let (want, got) = (x / k.d, k.divide::<true>(x));
                assert_eq!(got.to_bits(), want.to_bits(), "{x:e} / {:e}", k.d);
            };
            // Random bit patterns of every allowed magnitude, the edges of
            // the range, and the special values.
            for _ in 0..20_000 {
                let bits = next(&mut s) as u32 & 0x7fff_ffff;
                let x = f32::from_bits(bits);
                if x >= 2f32.powi(-75) && x <= f32::MAX.sqrt() * 4.0 {
                    check(x);
                }
            }
            for x in [
                0.0,
                (f32::MIN_POSITIVE * f32::EPSILON).sqrt(),
                2f32.powi(-75),
                1.0,
                f32::MAX.sqrt(),
                f32::INFINITY,
            ] {
                check(x);
            }
            assert!(k.divide::<true>(f32::NAN).is_nan());
        }
    }

    #[test]
    fn fused_quotients_are_the_divisions_f64() {
        let mut s = 11;
        for d in divisors(2) {
            let k = KnownDivisor::new(d);
            let check = |x: f64| {
                let (want, got) = (x / k.d, k.divide::<true>(x));
                assert_eq!(got.to_bits(), want.to_bits(), "{x:e} / {:e}", k.d);
            };
            for _ in 0..20_000 {
                let x = f64::from_bits(next(&mut s) << 11 >> 1);
                if x >= 2f64.powi(-538) && x <= f64::MAX.sqrt() * 4.0 {
                    check(x);
                }
            }
            for x in [
                0.0,
                (f64::MIN_POSITIVE * f64::EPSILON).sqrt(),
                2f64.powi(-538),
                1.0,
                f64::MAX.sqrt(),
                f64::INFINITY,
            ] {
                check(x);
            }
            assert!(k.divide::<true>(f64::NAN).is_nan());
        }
    }

    /// Quotients close to halfway between two floats are where a single
    /// correction could round the wrong way: `x = d·(m + ½ ulp)` for
    /// mantissas `m` near the ends of a binade, and their neighbours.
    #[test]
    fn near_halfway_quotients_round_as_the_division() {
        for d in divisors(3) {
            let k = KnownDivisor::new(d as f32);
            for m in (0..2000u32).chain((1 << 23) - 2000..1 << 23) {
                let q = f32::from_bits(0x3f80_0000 | m) as f64;
                // Halfway between `q` (in [1, 2)) and the next float.
                let half = q + f64::from(f32::EPSILON) / 2.0;
                let x0 = (half * f64::from(k.d)) as f32;
                for x in [
                    x0,
                    f32::from_bits(x0.to_bits() - 1),
                    f32::from_bits(x0.to_bits() + 1),
                ] {
                    assert_eq!(
                        k.divide::<true>(x).to_bits(),
                        (x / k.d).to_bits(),
                        "{x:e} / {:e}",
                        k.d
                    );
                }
            }
        }
    }

    /// Without `FUSED`, the division itself.
    #[test]
    fn unfused_division_is_the_plain_one() {
        let k = KnownDivisor::new(0.3f32);
        assert_eq!(k.divide::<false>(1.0).to_bits(), (1.0f32 / 0.3).to_bits());
    }
}
