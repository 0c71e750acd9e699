//! The sums of a bf16 layer (see [`bf16_dense`](crate::kernels::bf16_dense))
//! with AVX2 and FMA, for CPUs without AVX-512 BF16.
//!
//! Each 256-bit load brings eight weight pairs; a shift and a mask widen
//! their low and high halves to `f32`, and two fused multiply-adds add the
//! products, high half first. The products are exact, so fusing changes
//! nothing: these are the bits of `vdpbf16ps` and of the portable sums.
//!
//! Portable code kept all of a row's sums live at once, which for a
//! 128-wide layer is every one of the 16 vector registers AVX2 has, and
//! spilled. Here the outputs are summed in tiles of at most
//! [`accumulators`] vectors of sums (over the rows of the block and the
//! layer's partial sums), which leaves registers for the inputs and the
//! widened weights.

use crate::kernels::bf16_dense::{
    for_each_pair, halve_pairwise, partial_sums, streamed, MAX_PARTIAL_SUMS, PREFETCH_PAIRS_AHEAD,
};
use crate::kernels::static_dense::prefetch_span;
use core::arch::x86_64::{
    __m256, __m256i, _mm256_add_ps, _mm256_and_si256, _mm256_broadcast_ss, _mm256_castsi256_ps,
    _mm256_cmpgt_epi32, _mm256_fmadd_ps, _mm256_loadu_si256, _mm256_maskload_epi32,
    _mm256_maskstore_ps, _mm256_set1_epi32, _mm256_setr_epi32, _mm256_setzero_ps,
    _mm256_slli_epi32, _mm256_storeu_ps,
};

/// Outputs per vector.
const LANES: usize = 8;

/// Vectors of sums live at once for a block of `rows` rows: of the 16
/// registers, each row's two broadcast inputs take two, and the weights
/// and their two widened halves three more.
const fn accumulators(rows: usize) -> usize {
    16 - 3 - 2 * rows
}

/// The widest tile, in vectors: all the accumulators of one row.
const MAX_TILE: usize = accumulators(1);

/// `s[r] = Σ` over the pairs of `xp[r]` and the rows of `w`, in the order
/// of [`bf16_dense`](crate::kernels::bf16_dense) (written, not added to).
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn sums<const OUT: usize, const PAIRS: usize, const R: usize>(
    xp: &[[u32; PAIRS]; R],
    w: &[[u32; OUT]; PAIRS],
    s: &mut [[f32; OUT]; R],
) {
    let k = partial_sums(OUT);
    if R > 1 && R * k > accumulators(R) {
        // Not even one vector of outputs for every row at once: one row
        // at a time.
        for (x, sr) in xp.iter().zip(s.iter_mut()) {
            sums::<OUT, PAIRS, 1>(core::array::from_ref(x), w, core::array::from_mut(sr));
        }
        return;
    }
    // The inputs widened back to `f32` (exactly), once for every tile.
    let xw: [[[f32; 2]; PAIRS]; R] = core::array::from_fn(|r| {
        core::array::from_fn(|p| {
            let word = xp[r][p];
            [
                f32::from_bits(word << 16),
                f32::from_bits(word & 0xffff_0000),
            ]
        })
    });
    // Tiles of equal width (the last one may be narrower), as wide as the
    // registers allow. All of these are constants of the shape.
    let vectors = OUT.div_ceil(LANES);
    let widest = (accumulators(R) / (R * k)).max(1);
    let width = vectors.div_ceil(vectors.div_ceil(widest));
    let mut first = 0;
    while first < vectors {
        let v = width.min(vectors - first).min(MAX_TILE);
        let t = first * LANES;
        // Whether every vector of the tile is whole (else its last one is
        // masked).
        let whole = t + v * LANES <= OUT;
        macro_rules! tile {
            ($v:literal) => {
                if whole {
                    tile::<OUT, PAIRS, R, $v, true>(&xw, w, s, t)
                } else {
                    tile::<OUT, PAIRS, R, $v, false>(&xw, w, s, t)
                }
            };
        }
        match v {
            1 => tile!(1),
            2 => tile!(2),
            3 => tile!(3),
            4 => tile!(4),
            5 => tile!(5),
            6 => tile!(6),
            7 => tile!(7),
            8 => tile!(8),
            9 => tile!(9),
            10 => tile!(10),
            _ => tile!(11),
        }
        first += v;
    }
}

/// The mask of the vector of outputs starting at `first`: all bits set in
/// the lanes that are outputs (the form `vpmaskmovd` reads).
#[target_feature(enable = "avx2")]
#[inline]
fn lanes_mask(outputs: usize, first: usize) -> __m256i {
    let n = outputs.saturating_sub(first).min(LANES);
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lanes)
}

/// [`sums`] for the `V` vectors of outputs starting at output `t`; with
/// `WHOLE`, all of them are whole vectors, else the last one is partial
/// (and masked).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tile<const OUT: usize, const PAIRS: usize, const R: usize, const V: usize, const WHOLE: bool>(
    xw: &[[[f32; 2]; PAIRS]; R],
    w: &[[u32; OUT]; PAIRS],
    s: &mut [[f32; OUT]; R],
    t: usize,
) {
    let last = lanes_mask(OUT, t + (V - 1) * LANES);
    let high = _mm256_set1_epi32(0xffff_0000u32 as i32);
    let k = partial_sums(OUT);
    let stream = streamed(PAIRS, OUT);
    // Sum `j` of vector `v` of row `r` is `acc[r][j][v]`; the first `k`
    // sums are used, pair `p` going into sum `p mod k`.
    let mut acc = [[[_mm256_setzero_ps(); V]; MAX_PARTIAL_SUMS]; R];
    // Pair row `p` into sum `j`.
    for_each_pair(PAIRS, k, |p, j| {
        if stream {
            prefetch_span(w, p + PREFETCH_PAIRS_AHEAD, t, V * LANES);
        }
        let x: [(__m256, __m256); R] = core::array::from_fn(|r| {
            let [x0, x1] = &xw[r][p];
            (_mm256_broadcast_ss(x0), _mm256_broadcast_ss(x1))
        });
        for v in 0..V {
            let at = w[p].as_ptr().wrapping_add(t + v * LANES);
            let wv = if WHOLE || v + 1 < V {
                // SAFETY: a whole vector: `t + 8v + 8 <= OUT`, so the 8
                // words are inside the row.
                unsafe { _mm256_loadu_si256(at.cast()) }
            } else {
                // SAFETY: only the lanes set in the mask are read, and
                // those are outputs `< OUT` of the row; masked-off
                // lanes are never accessed.
                unsafe { _mm256_maskload_epi32(at.cast(), last) }
            };
            let lo = _mm256_castsi256_ps(_mm256_slli_epi32::<16>(wv));
            let hi = _mm256_castsi256_ps(_mm256_and_si256(wv, high));
            for (a, &(x0, x1)) in acc.iter_mut().zip(x.iter()) {
                // Exact products: fused, the same bits as rounded twice.
                let with_high = _mm256_fmadd_ps(x1, hi, a[j][v]);
                a[j][v] = _mm256_fmadd_ps(x0, lo, with_high);
            }
        }
    });
    for (sr, a) in s.iter_mut().zip(acc.iter_mut()) {
        halve_pairwise(a, k, |l, h| _mm256_add_ps(l, h));
        for (v, av) in a[0].iter().enumerate() {
            let at = sr.as_mut_ptr().wrapping_add(t + v * LANES);
            if WHOLE || v + 1 < V {
                // SAFETY: a whole vector, inside the row of sums.
                unsafe { _mm256_storeu_ps(at, *av) };
            } else {
                // SAFETY: only the lanes set in the mask are written, and
                // those are outputs `< OUT` of the row.
                unsafe { _mm256_maskstore_ps(at, last, *av) };
            }
        }
    }
}
