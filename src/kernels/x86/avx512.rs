//! The input gradient's dot products, sixteen rows at a time in 512-bit
//! vectors: sixteen vectors of partial sums (one per row) are halved in a
//! transposed tree of two-source permutes (`vpermt2ps`) until one vector
//! holds the sixteen rows' sums in order: 15 pairs of permutes and 15
//! additions for 16 rows. Rows of 1, 2, 4 or 8 outputs are packed several
//! to a vector instead ([`narrow_rows`]). See [`super`] for why and for
//! the order of the sums. At batch 1 the same loops also write the weight
//! gradient's rows, interleaved with the sums
//! ([`weight_and_input_grad_rows`]).

use core::arch::x86_64::{
    __m512, __m512i, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_loadu_si512,
    _mm512_mask_storeu_ps, _mm512_maskz_compress_ps, _mm512_maskz_loadu_ps, _mm512_mul_ps,
    _mm512_permute_ps, _mm512_permutex2var_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_shuffle_f32x4, _mm512_storeu_ps,
};

/// `f32` lanes of a vector, and rows summed together.
pub(super) const LANES: usize = 16;

/// `dx[i] = Σ_o dy[o]·w[i][o]` for the rows `i` of `w` in whole groups of
/// [`LANES`]; returns how many rows it wrote (the rest are the caller's).
///
/// The products of each row are summed into sixteen partial sums (lane
/// `l` takes outputs `l, l + 16, …` in order, starting from zero); the
/// partial sums are then halved pairwise (`s[l] + s[l + 8]`, then `+ 4`,
/// `+ 2`, `+ 1`). With `FMA`, each product is added to its partial sum by
/// a fused multiply-add (AVX-512F's own `vfmadd`).
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) fn input_grad_rows<const OUT: usize, const FMA: bool>(
    w: &[[f32; OUT]],
    dy: &[f32; OUT],
    dx: &mut [f32],
) -> usize {
    if matches!(OUT, 1 | 2 | 4 | 8) {
        return narrow_rows::<OUT, false, false>(w, dy, dx, None);
    }
    let (groups, _) = w.as_chunks::<LANES>();
    let (out, _) = dx.as_chunks_mut::<LANES>();
    for (rows, d) in groups.iter().zip(out.iter_mut()) {
        let sums = core::array::from_fn(|r| partial_sums::<OUT, FMA>(&rows[r], dy));
        let total = transposed_sum(&sums);
        // SAFETY: `d` is 16 consecutive `f32`, the width of the store.
        unsafe { _mm512_storeu_ps(d.as_mut_ptr(), total) };
    }
    groups.len() * LANES
}

/// [`input_grad_rows`] for one row of the batch, also writing the same
/// rows of the weight gradient: `dw[i] = x[i]·dy`, or with `ACCUMULATE`
/// `dw[i] += x[i]·dy` (by a fused multiply-add with `FMA`), as
/// [`static_dense::weight_grad`](super::super::static_dense::weight_grad)
/// computes them at batch 1.
///
/// Why together: the weight gradient is all stores, one 512-bit store per
/// sixteen values, and this core's store unit takes two cycles for each.
/// Run in a loop of its own, its stores fill the store queue and hold up
/// the input gradient behind them. Interleaved row by row, the input
/// gradient's products and sums run while the stores drain: on a 32×32
/// layer, 55 against 71 ns for the two loops one after the other
/// (measured in a stand-alone version of both).
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) fn weight_and_input_grad_rows<
    const OUT: usize,
    const ACCUMULATE: bool,
    const FMA: bool,
>(
    w: &[[f32; OUT]],
    dy: &[f32; OUT],
    x: &[f32],
    dw: &mut [[f32; OUT]],
    dx: &mut [f32],
) -> usize {
    if matches!(OUT, 1 | 2 | 4 | 8) {
        return narrow_rows::<OUT, ACCUMULATE, FMA>(w, dy, dx, Some((x, dw)));
    }
    let (groups, _) = w.as_chunks::<LANES>();
    let (xs, _) = x.as_chunks::<LANES>();
    let (dws, _) = dw.as_chunks_mut::<LANES>();
    let (out, _) = dx.as_chunks_mut::<LANES>();
    let mut done = 0;
    for (((rows, xg), dwg), d) in groups.iter().zip(xs).zip(dws).zip(out.iter_mut()) {
        // A loop, not `array::from_fn`: LLVM left that closure, with the
        // stores in it, out of line (the W6 backward pass took 265 instead
        // of 175 ns).
        let mut sums = [_mm512_setzero_ps(); LANES];
        for (((s, row), xi), dwr) in sums.iter_mut().zip(rows).zip(xg).zip(dwg.iter_mut()) {
            weight_grad_row::<OUT, ACCUMULATE, FMA>(*xi, dy, dwr);
            *s = partial_sums::<OUT, FMA>(row, dy);
        }
        let total = transposed_sum(&sums);
        // SAFETY: `d` is 16 consecutive `f32`, the width of the store.
        unsafe { _mm512_storeu_ps(d.as_mut_ptr(), total) };
        done += LANES;
    }
    done
}

/// One row of the weight gradient at batch 1: `dw = xi·dy`, or with
/// `ACCUMULATE` `dw += xi·dy` (fused with `FMA`).
#[target_feature(enable = "avx512f")]
#[inline]
fn weight_grad_row<const OUT: usize, const ACCUMULATE: bool, const FMA: bool>(
    xi: f32,
    dy: &[f32; OUT],
    dw: &mut [f32; OUT],
) {
    let xv = _mm512_set1_ps(xi);
    let (gc, gr) = dy.as_chunks::<LANES>();
    let (dc, dr) = dw.as_chunks_mut::<LANES>();
    for (g, d) in gc.iter().zip(dc.iter_mut()) {
        // SAFETY: each chunk is 16 consecutive `f32`, the width of the
        // loads and the store.
        unsafe {
            let v = weight_grad_vector::<ACCUMULATE, FMA>(xv, _mm512_loadu_ps(g.as_ptr()), || {
                _mm512_loadu_ps(d.as_ptr())
            });
            _mm512_storeu_ps(d.as_mut_ptr(), v);
        }
    }
    if !gr.is_empty() {
        let mask = (1u16 << gr.len()) - 1;
        // SAFETY: the masked loads and store touch only the first
        // `gr.len()` lanes, the remainders' elements (`dr` is as long as
        // `gr`).
        unsafe {
            let g = _mm512_maskz_loadu_ps(mask, gr.as_ptr());
            let v = weight_grad_vector::<ACCUMULATE, FMA>(xv, g, || {
                _mm512_maskz_loadu_ps(mask, dr.as_ptr())
            });
            _mm512_mask_storeu_ps(dr.as_mut_ptr(), mask, v);
        }
    }
}

/// `x·g`, or with `ACCUMULATE` `x·g + d()` (fused with `FMA`): what
/// [`static_dense::weight_grad`](super::super::static_dense::weight_grad)
/// writes, lane by lane. `d` (the values already there) is read only when
/// accumulating.
#[target_feature(enable = "avx512f")]
#[inline]
fn weight_grad_vector<const ACCUMULATE: bool, const FMA: bool>(
    x: __m512,
    g: __m512,
    d: impl FnOnce() -> __m512,
) -> __m512 {
    if !ACCUMULATE {
        _mm512_mul_ps(x, g)
    } else if FMA {
        _mm512_fmadd_ps(x, g, d())
    } else {
        _mm512_add_ps(_mm512_mul_ps(x, g), d())
    }
}

/// [`input_grad_rows`] for rows of 1, 2, 4 or 8 outputs, packed `16/OUT`
/// rows to a vector instead of one: each row's products sit in `OUT`
/// adjacent lanes, where the portable order is `+0.0 + p` for each
/// product (partial sums past `OUT` stay `+0.0`, and adding them changes
/// nothing: a sum started from `+0.0` is never `-0.0`), then halved within
/// the row (`s[l] + s[l + OUT/2]`, …, `+ 1`). The halving runs in every
/// row of the vector at once by exchanging lane `l` with `l ^ step`, which
/// leaves row `g`'s total in lane `g·OUT`. On a 32×4 layer this is about
/// three times faster than a vector (and a tree) per row.
///
/// Fused or not, the sums are the same: each lane adds one product to
/// `+0.0`, and a fused multiply-add rounds `p + 0.0` exactly as the
/// product's own rounding followed by the exact addition of `+0.0` does.
///
/// With `weight_grad` (the layer's input row `x` and `dw`), also writes the
/// same rows of the weight gradient, one vector for each vector of `W`
/// (see [`weight_and_input_grad_rows`]): lane `l` of a vector holds row
/// `r = l / OUT` of it, output `l mod OUT`, so `x[r]` is spread over
/// those lanes (`vpermps`) and multiplied by the same repeated `dy` as the
/// products. A 32×4 layer's weight gradient then takes 8 stores instead of
/// 32 of a row each. `ACCUMULATE` and `FMA` apply to it alone.
#[target_feature(enable = "avx512f")]
#[inline]
fn narrow_rows<const OUT: usize, const ACCUMULATE: bool, const FMA: bool>(
    w: &[[f32; OUT]],
    dy: &[f32; OUT],
    dx: &mut [f32],
    mut weight_grad: Option<(&[f32], &mut [[f32; OUT]])>,
) -> usize {
    let (groups, _) = w.as_chunks::<LANES>();
    let (out, _) = dx.as_chunks_mut::<LANES>();
    let pattern: [f32; LANES] = core::array::from_fn(|l| dy[l % OUT]);
    // SAFETY: `pattern` is 16 `f32`, the width of the load.
    let dyv = unsafe { _mm512_loadu_ps(pattern.as_ptr()) };
    // Lane `g·OUT` of each vector: the rows' totals.
    let firsts = (0..LANES).step_by(OUT).fold(0u16, |m, l| m | 1 << l);
    let per_vector = LANES / OUT;
    let store = if per_vector == LANES {
        u16::MAX
    } else {
        (1u16 << per_vector) - 1
    };
    for (group, (rows, d)) in groups.iter().zip(out.iter_mut()).enumerate() {
        // The group's 16 rows are 16·OUT consecutive values: OUT vectors.
        let flat = rows.as_flattened();
        let chunks = flat.chunks_exact(LANES).zip(d.chunks_exact_mut(per_vector));
        for (c, (v, d)) in chunks.enumerate() {
            // SAFETY: each chunk is 16 consecutive `f32`, the width of the
            // load.
            let wv = unsafe { _mm512_loadu_ps(v.as_ptr()) };
            if let Some((x, dw)) = weight_grad.as_mut() {
                let first = group * LANES + c * per_vector;
                weight_grad_lanes::<OUT, ACCUMULATE, FMA>(x, dw, first, dyv);
            }
            let products = _mm512_mul_ps(wv, dyv);
            let mut sums = _mm512_add_ps(_mm512_setzero_ps(), products);
            if OUT >= 8 {
                // Lanes l and l ^ 4: the 128-bit blocks swapped in pairs.
                sums = _mm512_add_ps(sums, _mm512_shuffle_f32x4::<0b10_11_00_01>(sums, sums));
            }
            if OUT >= 4 {
                // Lanes l and l ^ 2.
                sums = _mm512_add_ps(sums, _mm512_permute_ps::<0b01_00_11_10>(sums));
            }
            if OUT >= 2 {
                // Lanes l and l ^ 1.
                sums = _mm512_add_ps(sums, _mm512_permute_ps::<0b10_11_00_01>(sums));
            }
            let totals = _mm512_maskz_compress_ps(firsts, sums);
            // SAFETY: `d` is `16/OUT` consecutive `f32`, and the mask
            // writes exactly that many lanes.
            unsafe { _mm512_mask_storeu_ps(d.as_mut_ptr(), store, totals) };
        }
    }
    groups.len() * LANES
}

/// The 16 values of the weight gradient from row `first` of `dw` (rows of
/// `OUT` values, `OUT` dividing 16): lane `l` is
/// `x[first + l / OUT]·dy[l mod OUT]`, with `dyv` holding `dy` repeated.
#[target_feature(enable = "avx512f")]
#[inline]
fn weight_grad_lanes<const OUT: usize, const ACCUMULATE: bool, const FMA: bool>(
    x: &[f32],
    dw: &mut [[f32; OUT]],
    first: usize,
    dyv: __m512,
) {
    let per_vector = LANES / OUT;
    let (Some(xs), Some(dst)) = (
        x.get(first..first + per_vector),
        dw.get_mut(first..first + per_vector),
    ) else {
        return;
    };
    let spread: [f32; LANES] = core::array::from_fn(|l| xs[l / OUT]);
    let dst = dst.as_flattened_mut();
    // SAFETY: `spread` is 16 `f32`, and `dst` is `per_vector` rows of
    // `OUT`: 16 consecutive `f32`, the width of the loads and the store.
    unsafe {
        let xv = _mm512_loadu_ps(spread.as_ptr());
        let v = weight_grad_vector::<ACCUMULATE, FMA>(xv, dyv, || _mm512_loadu_ps(dst.as_ptr()));
        _mm512_storeu_ps(dst.as_mut_ptr(), v);
    }
}

/// The sixteen partial sums of `Σ_o a[o]·b[o]` (fused with `FMA`).
#[target_feature(enable = "avx512f")]
#[inline]
fn partial_sums<const N: usize, const FMA: bool>(a: &[f32; N], b: &[f32; N]) -> __m512 {
    let add_product = |acc, x, y| {
        if FMA {
            _mm512_fmadd_ps(x, y, acc)
        } else {
            _mm512_add_ps(acc, _mm512_mul_ps(x, y))
        }
    };
    let mut acc = _mm512_setzero_ps();
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    for (ca, cb) in ac.iter().zip(bc.iter()) {
        // SAFETY: each chunk is 16 consecutive `f32`, the width of the load.
        let (x, y) = unsafe { (_mm512_loadu_ps(ca.as_ptr()), _mm512_loadu_ps(cb.as_ptr())) };
        acc = add_product(acc, x, y);
    }
    if !ar.is_empty() {
        // Lanes past the remainder add `+0.0` (see the module above).
        let mask = (1u16 << ar.len()) - 1;
        // SAFETY: the masked loads touch only the first `ar.len()` lanes,
        // which are the remainders' elements.
        let (x, y) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, ar.as_ptr()),
                _mm512_maskz_loadu_ps(mask, br.as_ptr()),
            )
        };
        acc = add_product(acc, x, y);
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

#[cfg(test)]
mod tests {
    use super::*;

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
