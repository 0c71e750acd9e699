//! AVX-512 code for the one `f32` loop that portable code could not get
//! vectorised well: the input gradient's dot products.
//!
//! `dx[i] = Σ_o dy[o]·W[i][o]` reads row `i` of `W` (stored `[in][out]`)
//! contiguously, so each value is a dot product ending in a horizontal sum.
//! Written portably, LLVM compiled that sum, for every row, into chains of
//! two-lane operations; three portable formulations of a sum over several
//! rows at once compiled into gathers or spilled to the stack. Here sixteen
//! rows are summed into sixteen vectors of partial sums, which are then
//! added in a transposed tree: each level halves every row's partial sums
//! and packs two vectors into one, until one vector holds the sixteen
//! rows' sums in order. That is 15 pairs of two-source permutes and 15
//! additions for 16 rows, instead of a narrowing chain per row.
//!
//! The sums are the ones [`static_dense`](super::static_dense)'s portable
//! dot product computes, in the same order (sixteen partial sums, lane `l`
//! taking the outputs `o ≡ l mod 16` in order, then halved pairwise), so
//! every instruction-set level gives the same bits.

use core::arch::x86_64::{
    __m512, __m512i, _mm512_add_ps, _mm512_loadu_ps, _mm512_loadu_si512, _mm512_maskz_loadu_ps,
    _mm512_mul_ps, _mm512_permutex2var_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};

/// `f32` lanes of a vector.
const LANES: usize = 16;

/// `dx[i] = Σ_o dy[o]·w[i][o]` for the rows `i` of `w` in whole groups of
/// [`LANES`]; returns how many rows it wrote (the rest are the caller's).
///
/// The products of each row are summed into sixteen partial sums (lane
/// `l` takes outputs `l, l + 16, …` in order, starting from zero); the
/// partial sums are then halved pairwise (`s[l] + s[l + 8]`, then `+ 4`,
/// `+ 2`, `+ 1`).
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) fn input_grad_rows<const OUT: usize>(
    w: &[[f32; OUT]],
    dy: &[f32; OUT],
    dx: &mut [f32],
) -> usize {
    let (groups, _) = w.as_chunks::<LANES>();
    let (out, _) = dx.as_chunks_mut::<LANES>();
    for (rows, d) in groups.iter().zip(out.iter_mut()) {
        let sums = core::array::from_fn(|r| partial_sums(&rows[r], dy));
        let total = transposed_sum(&sums);
        // SAFETY: `d` is 16 consecutive `f32`, the width of the store.
        unsafe { _mm512_storeu_ps(d.as_mut_ptr(), total) };
    }
    groups.len() * LANES
}

/// The sixteen partial sums of `Σ_o a[o]·b[o]`.
#[target_feature(enable = "avx512f")]
#[inline]
fn partial_sums<const N: usize>(a: &[f32; N], b: &[f32; N]) -> __m512 {
    let mut acc = _mm512_setzero_ps();
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    for (ca, cb) in ac.iter().zip(bc.iter()) {
        // SAFETY: each chunk is 16 consecutive `f32`, the width of the load.
        let (x, y) = unsafe { (_mm512_loadu_ps(ca.as_ptr()), _mm512_loadu_ps(cb.as_ptr())) };
        acc = _mm512_add_ps(acc, _mm512_mul_ps(x, y));
    }
    if !ar.is_empty() {
        // The lanes past the remainder load zeros and add `+0.0`, which
        // leaves every sum as it is: a sum started from `+0.0` is never
        // `-0.0` (`+0.0 + -0.0` is `+0.0`), the one value `+0.0` changes.
        let mask = (1u16 << ar.len()) - 1;
        // SAFETY: the masked loads touch only the first `ar.len()` lanes,
        // which are the remainders' elements.
        let (x, y) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, ar.as_ptr()),
                _mm512_maskz_loadu_ps(mask, br.as_ptr()),
            )
        };
        acc = _mm512_add_ps(acc, _mm512_mul_ps(x, y));
    }
    acc
}

/// Lane `r` of the result is the pairwise sum of `v[r]`'s lanes.
#[target_feature(enable = "avx512f")]
#[inline]
fn transposed_sum(v: &[__m512; LANES]) -> __m512 {
    let f8 = |a, b| fold::<8>(a, b);
    let u: [__m512; 8] = core::array::from_fn(|j| f8(v[j], v[j + 8]));
    let t: [__m512; 4] = core::array::from_fn(|j| fold::<4>(u[j], u[j + 4]));
    let p: [__m512; 2] = core::array::from_fn(|j| fold::<2>(t[j], t[j + 2]));
    fold::<1>(p[0], p[1])
}

/// One level of the tree: `a` and `b` hold one segment of `2S` partial
/// sums per row; each segment is halved (lane `m` plus lane `m + S`), with
/// `a`'s half in the low `S` lanes of the segment's place in the result and
/// `b`'s in the high ones. Pairing vector `j` with vector `j + 16/(2S)` at
/// each level leaves row `r`'s total in lane `r` at the end.
#[target_feature(enable = "avx512f")]
#[inline]
fn fold<const S: usize>(a: __m512, b: __m512) -> __m512 {
    let (lo, hi) = (fold_index(S, 0), fold_index(S, S));
    // SAFETY: each index table is 16 `i32`, the width of the load.
    let (lo, hi): (__m512i, __m512i) = unsafe {
        (
            _mm512_loadu_si512(lo.as_ptr().cast()),
            _mm512_loadu_si512(hi.as_ptr().cast()),
        )
    };
    _mm512_add_ps(
        _mm512_permutex2var_ps(a, lo, b),
        _mm512_permutex2var_ps(a, hi, b),
    )
}

/// Which lane of `a` (0-15) or `b` (16-31) lane `l` of one operand of
/// [`fold`]'s sum takes: the first (`shift = 0`) or second (`shift = S`)
/// half of its segment.
const fn fold_index(s: usize, shift: usize) -> [i32; LANES] {
    let mut idx = [0i32; LANES];
    let mut l = 0;
    while l < LANES {
        let (base, m) = (l - l % (2 * s), l % (2 * s));
        idx[l] = if m < s {
            (base + m + shift) as i32
        } else {
            (LANES + base + m - s + shift) as i32
        };
        l += 1;
    }
    idx
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::kernels::static_dense;

    fn fill<const R: usize, const C: usize>(seed: u64) -> [[f32; C]; R] {
        let mut s = seed;
        core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // A quarter of the values are zeros of either sign, as a
                // ReLU's gradients are.
                match (s >> 60) & 7 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5,
                }
            })
        })
    }

    fn check<const IN: usize, const OUT: usize>(seed: u64) {
        let w = fill::<IN, OUT>(seed);
        let mut dy = fill::<1, OUT>(seed + 1);
        let mut portable = [[f32::NAN; IN]; 1];
        static_dense::portable_input_grad(&w, &dy, &mut portable);
        let mut fast = [f32::NAN; IN];
        // SAFETY: only run where the CPU has AVX-512F (checked above).
        let done = unsafe { input_grad_rows(&w, &dy[0], &mut fast) };
        assert_eq!(done, IN / LANES * LANES);
        for i in 0..done {
            assert_eq!(
                fast[i].to_bits(),
                portable[0][i].to_bits(),
                "{IN}x{OUT} row {i}: {} vs {}",
                fast[i],
                portable[0][i]
            );
        }
        assert!(
            fast[done..].iter().all(|v| v.is_nan()),
            "rows past the groups untouched"
        );
        // Gradients all zeros of either sign: the sums' signs match too.
        dy[0] = dy[0].map(|v| if v.to_bits() & 1 == 0 { 0.0 } else { -0.0 });
        static_dense::portable_input_grad(&w, &dy, &mut portable);
        // SAFETY: as above.
        unsafe { input_grad_rows(&w, &dy[0], &mut fast) };
        for i in 0..done {
            assert_eq!(
                fast[i].to_bits(),
                portable[0][i].to_bits(),
                "zeros, row {i}"
            );
        }
    }

    /// Bit for bit what the portable dot products give, for outputs below,
    /// at and past a vector's width and with a remainder, and for row
    /// counts with and without rows left over.
    #[test]
    fn sums_match_the_portable_kernel_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx512f") {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        check::<16, 1>(1);
        check::<16, 4>(2);
        check::<32, 15>(3);
        check::<16, 16>(4);
        check::<48, 17>(5);
        check::<32, 32>(6);
        check::<17, 37>(7);
        check::<35, 64>(8);
        check::<15, 8>(9);
        check::<64, 128>(10);
    }

    #[test]
    fn the_tree_pairs_each_rows_sums_in_order() {
        assert_eq!(
            fold_index(8, 0),
            [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
        );
        assert_eq!(
            fold_index(8, 8),
            [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]
        );
        assert_eq!(
            fold_index(1, 0),
            [0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30]
        );
        assert_eq!(
            fold_index(1, 1),
            [1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31]
        );
    }
}
