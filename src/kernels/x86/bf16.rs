//! The sums of a bf16 layer (see [`bf16_dense`](crate::kernels::bf16_dense))
//! with AVX-512 BF16's `vdpbf16ps`: one instruction adds sixteen outputs'
//! two products of an input pair, high half first, each addition rounded,
//! which is the order the portable sums follow.
//!
//! Up to [`TILE_VECTORS`] vectors of outputs are summed at a time, for
//! every row of the block: two rows of a 128-wide layer keep 16 of the 32
//! vector registers as sums, and each 64-byte load of weights serves both.
//! A narrower layer keeps as many vectors busy with its partial sums.
//!
//! Inputs are rounded by `vcvtne2ps2bf16`, 32 at a time; it rounds as
//! [`crate::bf16::round`] does, for every `f32` (checked over all 2³²).

use crate::kernels::bf16_dense::{
    for_each_pair, halve_pairwise, partial_sums, streamed, MAX_PARTIAL_SUMS, PREFETCH_PAIRS_AHEAD,
};
use crate::kernels::static_dense::prefetch_span;
use core::arch::x86_64::{
    __m512bh, __m512i, _mm512_add_ps, _mm512_cvtne2ps_pbh, _mm512_dpbf16_ps, _mm512_loadu_ps,
    _mm512_loadu_si512, _mm512_mask_storeu_ps, _mm512_maskz_loadu_epi32, _mm512_maskz_loadu_ps,
    _mm512_set1_epi32, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_storeu_si512,
};

/// Outputs per vector.
const LANES: usize = 16;

/// Vectors of sums per row kept in registers.
const TILE_VECTORS: usize = 8;

/// `xp` = the input row `x` rounded to bf16 and paired like the weights:
/// the bf16 values in order, two to a word.
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
pub(crate) fn pairs<const IN: usize, const PAIRS: usize>(x: &[f32; IN], xp: &mut [u32; PAIRS]) {
    let (chunks, rest) = x.as_chunks::<32>();
    // 32 inputs make 16 words; the tail's words follow the whole chunks'
    // (not `xp`'s own remainder: 31 inputs make 16 words).
    let (whole, out_rest) = xp.split_at_mut(chunks.len() * LANES);
    let (out, _) = whole.as_chunks_mut::<LANES>();
    for (c, o) in chunks.iter().zip(out.iter_mut()) {
        // SAFETY: `c` is 32 `f32` and `o` 16 words: the two loads and
        // the store stay inside them.
        unsafe {
            let (lo, hi) = (
                _mm512_loadu_ps(c.as_ptr()),
                _mm512_loadu_ps(c.as_ptr().add(16)),
            );
            let v = _mm512_cvtne2ps_pbh(hi, lo);
            _mm512_storeu_si512(
                o.as_mut_ptr().cast(),
                core::mem::transmute::<__m512bh, __m512i>(v),
            );
        }
    }
    if !rest.is_empty() {
        // The last inputs, with zeros for the missing ones (rounded to a
        // zero pair, as `round(0.0)` is).
        let lo_mask = lanes_mask(rest.len(), 0);
        let hi_mask = lanes_mask(rest.len(), LANES);
        // SAFETY: only the lanes in the masks are read, which are inputs of
        // `rest`.
        let (lo, hi) = unsafe {
            (
                _mm512_maskz_loadu_ps(lo_mask, rest.as_ptr()),
                _mm512_maskz_loadu_ps(hi_mask, rest.as_ptr().wrapping_add(LANES)),
            )
        };
        let v = _mm512_cvtne2ps_pbh(hi, lo);
        let mut words = [0u32; LANES];
        // SAFETY: `words` is 16 words, the width of the store.
        unsafe {
            _mm512_storeu_si512(
                words.as_mut_ptr().cast(),
                core::mem::transmute::<__m512bh, __m512i>(v),
            )
        };
        out_rest.copy_from_slice(&words[..out_rest.len()]);
    }
}

/// `s[r] = Σ` over the pairs of `xp[r]` and the rows of `w`, in the order
/// of [`bf16_dense`](crate::kernels::bf16_dense) (dot products started from
/// `+0.0`; the sums are written, not added to).
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
pub(crate) fn sums<const OUT: usize, const PAIRS: usize, const R: usize>(
    xp: &[[u32; PAIRS]; R],
    w: &[[u32; OUT]; PAIRS],
    s: &mut [[f32; OUT]; R],
) {
    let mut t = 0;
    while t < OUT {
        let vectors = (OUT - t).div_ceil(LANES).min(TILE_VECTORS);
        match vectors {
            1 => tile::<OUT, PAIRS, R, 1>(xp, w, s, t),
            2 => tile::<OUT, PAIRS, R, 2>(xp, w, s, t),
            3 => tile::<OUT, PAIRS, R, 3>(xp, w, s, t),
            4 => tile::<OUT, PAIRS, R, 4>(xp, w, s, t),
            5 => tile::<OUT, PAIRS, R, 5>(xp, w, s, t),
            6 => tile::<OUT, PAIRS, R, 6>(xp, w, s, t),
            7 => tile::<OUT, PAIRS, R, 7>(xp, w, s, t),
            _ => tile::<OUT, PAIRS, R, TILE_VECTORS>(xp, w, s, t),
        }
        t += vectors * LANES;
    }
}

/// Which lanes of the vector of outputs starting at `first` are outputs.
const fn lanes_mask(outputs: usize, first: usize) -> u16 {
    let n = outputs.saturating_sub(first);
    if n >= LANES {
        u16::MAX
    } else {
        (1u16 << n) - 1
    }
}

/// [`sums`] for the `V` vectors of outputs starting at `t`.
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
fn tile<const OUT: usize, const PAIRS: usize, const R: usize, const V: usize>(
    xp: &[[u32; PAIRS]; R],
    w: &[[u32; OUT]; PAIRS],
    s: &mut [[f32; OUT]; R],
    t: usize,
) {
    let masks: [u16; V] = core::array::from_fn(|v| lanes_mask(OUT, t + v * LANES));
    let k = partial_sums(OUT);
    let stream = streamed(PAIRS, OUT);
    // Sum `j` of vector `v` of row `r` is `acc[r][j][v]`; the first `k`
    // sums are used, pair `p` going into sum `p mod k`.
    let mut acc = [[[_mm512_setzero_ps(); V]; MAX_PARTIAL_SUMS]; R];
    // Pair row `p` into sum `j`.
    for_each_pair(PAIRS, k, |p, j| {
        if stream {
            prefetch_span(w, p + PREFETCH_PAIRS_AHEAD, t, V * LANES);
        }
        let x: [__m512bh; R] =
            core::array::from_fn(|r| bf16_pairs(_mm512_set1_epi32(xp[r][p] as i32)));
        for (v, &mask) in masks.iter().enumerate() {
            let at = w[p].as_ptr().wrapping_add(t + v * LANES);
            let wv = if mask == u16::MAX {
                // SAFETY: the mask is full, so `t + 16v + 16 <= OUT`:
                // the 16 words are inside the row.
                unsafe { _mm512_loadu_si512(at.cast()) }
            } else {
                // SAFETY: only the lanes set in the mask are read, and
                // those are outputs `< OUT` of the row; masked-off
                // lanes are never accessed.
                unsafe { _mm512_maskz_loadu_epi32(mask, at.cast()) }
            };
            let wv = bf16_pairs(wv);
            for (a, xv) in acc.iter_mut().zip(x.iter()) {
                a[j][v] = _mm512_dpbf16_ps(a[j][v], *xv, wv);
            }
        }
    });
    for (sr, a) in s.iter_mut().zip(acc.iter_mut()) {
        halve_pairwise(a, k, |l, h| _mm512_add_ps(l, h));
        for (v, (&mask, av)) in masks.iter().zip(a[0].iter()).enumerate() {
            let at = sr.as_mut_ptr().wrapping_add(t + v * LANES);
            if mask == u16::MAX {
                // SAFETY: the mask is full, so `t + 16v + 16 <= OUT`: the
                // 16 sums are inside the row.
                unsafe { _mm512_storeu_ps(at, *av) };
            } else {
                // SAFETY: only the lanes set in the mask are written, and
                // those are outputs `< OUT` of the row.
                unsafe { _mm512_mask_storeu_ps(at, mask, *av) };
            }
        }
    }
}

/// The 32 bf16 halves of sixteen 32-bit words.
#[inline(always)]
fn bf16_pairs(v: __m512i) -> __m512bh {
    // SAFETY: both are 64 bytes of plain bits, valid for any value.
    unsafe { core::mem::transmute::<__m512i, __m512bh>(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_cover_exactly_the_outputs() {
        assert_eq!(lanes_mask(10, 0), 0b11_1111_1111);
        assert_eq!(lanes_mask(32, 16), u16::MAX);
        assert_eq!(lanes_mask(33, 32), 1);
        assert_eq!(lanes_mask(16, 16), 0);
    }
}
