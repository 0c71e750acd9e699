//! The input gradient's dot products, eight rows at a time in 256-bit
//! vectors. Each row's sixteen partial sums are two vectors (lanes 0-7 and
//! 8-15); adding them is the tree's first level. The eight rows' vectors
//! are then halved in a transposed tree: 128-bit halves exchanged between
//! pairs of vectors (`vperm2f128`), then pairs of lanes (`vshufps`), then
//! single lanes (`vshufps`, leaving the rows in the order 0 2 1 3 within
//! each half, put right by one `vpermilps`). Rows of 1, 2, 4 or 8 outputs
//! are packed several to a vector instead ([`narrow_rows`]). See [`super`]
//! for why and for the order of the sums. At batch 1 the same loops also
//! write the weight gradient's rows, interleaved with the sums, as the
//! AVX-512 kernel does ([`weight_and_input_grad_rows`]).

use core::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_maskload_ps,
    _mm256_maskstore_ps, _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_permute_ps, _mm256_set1_ps,
    _mm256_set_epi32, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
};

/// Rows summed together, and `f32` lanes of a vector.
pub(super) const GROUP: usize = 8;

/// The portable kernel's partial sums per row: two vectors.
const PARTIAL_SUMS: usize = 16;

/// `dx[i] = Σ_o dy[o]·w[i][o]` for the rows `i` of `w` in whole groups of
/// [`GROUP`]; returns how many rows it wrote (the rest are the caller's).
/// With `FMA`, each product is added to its partial sum by a fused
/// multiply-add. (The kernel is compiled for AVX2 with FMA, the pair
/// [`Level::Avx2`](crate::simd::Level::Avx2) stands for, whether it fuses
/// or not.)
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn input_grad_rows<const OUT: usize, const FMA: bool>(
    w: &[[f32; OUT]],
    dy: &[f32; OUT],
    dx: &mut [f32],
) -> usize {
    if matches!(OUT, 1 | 2 | 4 | 8) {
        return narrow_rows::<OUT, false, false>(w, dy, dx, None);
    }
    let (groups, _) = w.as_chunks::<GROUP>();
    let (out, _) = dx.as_chunks_mut::<GROUP>();
    for (rows, d) in groups.iter().zip(out.iter_mut()) {
        let halves: [__m256; GROUP] = core::array::from_fn(|r| {
            let (lo, hi) = partial_sums::<OUT, FMA>(&rows[r], dy);
            _mm256_add_ps(lo, hi)
        });
        let total = transposed_sum(&halves);
        // SAFETY: `d` is 8 consecutive `f32`, the width of the store.
        unsafe { _mm256_storeu_ps(d.as_mut_ptr(), total) };
    }
    groups.len() * GROUP
}

/// [`input_grad_rows`] for one row of the batch, also writing the same
/// rows of the weight gradient: `dw[i] = x[i]·dy`, or with `ACCUMULATE`
/// `dw[i] += x[i]·dy` (by a fused multiply-add with `FMA`). Interleaved
/// for the reason the AVX-512 kernel's `weight_and_input_grad_rows` gives.
#[target_feature(enable = "avx2,fma")]
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
    let (groups, _) = w.as_chunks::<GROUP>();
    let (xs, _) = x.as_chunks::<GROUP>();
    let (dws, _) = dw.as_chunks_mut::<GROUP>();
    let (out, _) = dx.as_chunks_mut::<GROUP>();
    let mut done = 0;
    for (((rows, xg), dwg), d) in groups.iter().zip(xs).zip(dws).zip(out.iter_mut()) {
        // A loop, not `array::from_fn`, as in the AVX-512 kernel.
        let mut halves = [_mm256_setzero_ps(); GROUP];
        for (((h, row), xi), dwr) in halves.iter_mut().zip(rows).zip(xg).zip(dwg.iter_mut()) {
            weight_grad_row::<OUT, ACCUMULATE, FMA>(*xi, dy, dwr);
            let (lo, hi) = partial_sums::<OUT, FMA>(row, dy);
            *h = _mm256_add_ps(lo, hi);
        }
        let total = transposed_sum(&halves);
        // SAFETY: `d` is 8 consecutive `f32`, the width of the store.
        unsafe { _mm256_storeu_ps(d.as_mut_ptr(), total) };
        done += GROUP;
    }
    done
}

/// One row of the weight gradient at batch 1: `dw = xi·dy`, or with
/// `ACCUMULATE` `dw += xi·dy` (fused with `FMA`).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn weight_grad_row<const OUT: usize, const ACCUMULATE: bool, const FMA: bool>(
    xi: f32,
    dy: &[f32; OUT],
    dw: &mut [f32; OUT],
) {
    let xv = _mm256_set1_ps(xi);
    let (gc, gr) = dy.as_chunks::<GROUP>();
    let (dc, dr) = dw.as_chunks_mut::<GROUP>();
    for (g, d) in gc.iter().zip(dc.iter_mut()) {
        // SAFETY: each chunk is 8 consecutive `f32`, the width of the
        // loads and the store.
        unsafe {
            let v = weight_grad_vector::<ACCUMULATE, FMA>(xv, _mm256_loadu_ps(g.as_ptr()), || {
                _mm256_loadu_ps(d.as_ptr())
            });
            _mm256_storeu_ps(d.as_mut_ptr(), v);
        }
    }
    if !gr.is_empty() {
        // SAFETY: the masked loads and store touch only the lanes whose
        // mask is set, the first `gr.len()`: the remainders' elements
        // (`dr` is as long as `gr`).
        unsafe {
            let m = lane_mask(gr.len());
            let g = _mm256_maskload_ps(gr.as_ptr(), m);
            let v =
                weight_grad_vector::<ACCUMULATE, FMA>(xv, g, || _mm256_maskload_ps(dr.as_ptr(), m));
            _mm256_maskstore_ps(dr.as_mut_ptr(), m, v);
        }
    }
}

/// `x·g`, or with `ACCUMULATE` `x·g + d()` (fused with `FMA`), lane by
/// lane; `d` is read only when accumulating.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn weight_grad_vector<const ACCUMULATE: bool, const FMA: bool>(
    x: __m256,
    g: __m256,
    d: impl FnOnce() -> __m256,
) -> __m256 {
    if !ACCUMULATE {
        _mm256_mul_ps(x, g)
    } else if FMA {
        _mm256_fmadd_ps(x, g, d())
    } else {
        _mm256_add_ps(_mm256_mul_ps(x, g), d())
    }
}

/// [`input_grad_rows`] for rows of 1, 2, 4 or 8 outputs, packed `8/OUT`
/// rows to a vector, as the AVX-512 kernel's `narrow_rows` does: `+0.0 +
/// p` for each product, then halved within the row by exchanging lane `l`
/// with `l ^ step` (the partial sums past `OUT` are `+0.0` and change
/// nothing). Row `g`'s total ends in lane `g·OUT`. The same whether the
/// sums are fused or not (see the AVX-512 kernel's `narrow_rows`).
///
/// With `weight_grad`, also writes the same rows of the weight gradient,
/// one vector for each vector of `W` (`x[r]` spread over row `r`'s lanes),
/// as the AVX-512 kernel's `narrow_rows` does.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn narrow_rows<const OUT: usize, const ACCUMULATE: bool, const FMA: bool>(
    w: &[[f32; OUT]],
    dy: &[f32; OUT],
    dx: &mut [f32],
    mut weight_grad: Option<(&[f32], &mut [[f32; OUT]])>,
) -> usize {
    let (groups, _) = w.as_chunks::<GROUP>();
    let (out, _) = dx.as_chunks_mut::<GROUP>();
    let pattern: [f32; GROUP] = core::array::from_fn(|l| dy[l % OUT]);
    // SAFETY: `pattern` is 8 `f32`, the width of the load.
    let dyv = unsafe { _mm256_loadu_ps(pattern.as_ptr()) };
    let per_vector = GROUP / OUT;
    for (group, (rows, d)) in groups.iter().zip(out.iter_mut()).enumerate() {
        // The group's 8 rows are 8·OUT consecutive values: OUT vectors.
        let flat = rows.as_flattened();
        let chunks = flat.chunks_exact(GROUP).zip(d.chunks_exact_mut(per_vector));
        for (c, (v, d)) in chunks.enumerate() {
            if let Some((x, dw)) = weight_grad.as_mut() {
                let first = group * GROUP + c * per_vector;
                weight_grad_lanes::<OUT, ACCUMULATE, FMA>(x, dw, first, dyv);
            }
            // SAFETY: each chunk is 8 consecutive `f32`, the width of the
            // load.
            let products = _mm256_mul_ps(unsafe { _mm256_loadu_ps(v.as_ptr()) }, dyv);
            let mut sums = _mm256_add_ps(_mm256_setzero_ps(), products);
            if OUT >= 8 {
                // Lanes l and l ^ 4: the 128-bit halves swapped.
                sums = _mm256_add_ps(sums, _mm256_permute2f128_ps::<0x01>(sums, sums));
            }
            if OUT >= 4 {
                // Lanes l and l ^ 2.
                sums = _mm256_add_ps(sums, _mm256_permute_ps::<0b01_00_11_10>(sums));
            }
            if OUT >= 2 {
                // Lanes l and l ^ 1.
                sums = _mm256_add_ps(sums, _mm256_permute_ps::<0b10_11_00_01>(sums));
            }
            let mut lanes = [0.0f32; GROUP];
            // SAFETY: `lanes` is 8 `f32`, the width of the store.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sums) };
            for (g, total) in d.iter_mut().enumerate() {
                *total = lanes[g * OUT];
            }
        }
    }
    groups.len() * GROUP
}

/// The 8 values of the weight gradient from row `first` of `dw` (rows of
/// `OUT` values, `OUT` dividing 8): lane `l` is
/// `x[first + l / OUT]·dy[l mod OUT]`, with `dyv` holding `dy` repeated.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn weight_grad_lanes<const OUT: usize, const ACCUMULATE: bool, const FMA: bool>(
    x: &[f32],
    dw: &mut [[f32; OUT]],
    first: usize,
    dyv: __m256,
) {
    let per_vector = GROUP / OUT;
    let (Some(xs), Some(dst)) = (
        x.get(first..first + per_vector),
        dw.get_mut(first..first + per_vector),
    ) else {
        return;
    };
    let spread: [f32; GROUP] = core::array::from_fn(|l| xs[l / OUT]);
    let dst = dst.as_flattened_mut();
    // SAFETY: `spread` is 8 `f32`, and `dst` is `per_vector` rows of `OUT`:
    // 8 consecutive `f32`, the width of the loads and the store.
    unsafe {
        let xv = _mm256_loadu_ps(spread.as_ptr());
        let v = weight_grad_vector::<ACCUMULATE, FMA>(xv, dyv, || _mm256_loadu_ps(dst.as_ptr()));
        _mm256_storeu_ps(dst.as_mut_ptr(), v);
    }
}

/// The sixteen partial sums of `Σ_o a[o]·b[o]`, lanes 0-7 and 8-15
/// (fused with `FMA`).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn partial_sums<const N: usize, const FMA: bool>(a: &[f32; N], b: &[f32; N]) -> (__m256, __m256) {
    let add_product = |acc, x, y| {
        if FMA {
            _mm256_fmadd_ps(x, y, acc)
        } else {
            _mm256_add_ps(acc, _mm256_mul_ps(x, y))
        }
    };
    let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (ac, ar) = a.as_chunks::<PARTIAL_SUMS>();
    let (bc, br) = b.as_chunks::<PARTIAL_SUMS>();
    for (ca, cb) in ac.iter().zip(bc.iter()) {
        // SAFETY: each chunk is 16 consecutive `f32`: two loads of 8.
        let (x0, y0, x1, y1) = unsafe {
            (
                _mm256_loadu_ps(ca.as_ptr()),
                _mm256_loadu_ps(cb.as_ptr()),
                _mm256_loadu_ps(ca.as_ptr().add(GROUP)),
                _mm256_loadu_ps(cb.as_ptr().add(GROUP)),
            )
        };
        lo = add_product(lo, x0, y0);
        hi = add_product(hi, x1, y1);
    }
    // Lanes past the remainder add `+0.0` (see the module above).
    let n = ar.len();
    if n > 0 {
        // SAFETY: the masked loads read only the lanes whose mask is set,
        // the first `min(n, 8)` elements of the remainder.
        let (x, y) = unsafe {
            let m = lane_mask(n);
            (
                _mm256_maskload_ps(ar.as_ptr(), m),
                _mm256_maskload_ps(br.as_ptr(), m),
            )
        };
        lo = add_product(lo, x, y);
    }
    if n > GROUP {
        // SAFETY: as above, for the `n - 8` elements after the first 8.
        let (x, y) = unsafe {
            let m = lane_mask(n - GROUP);
            (
                _mm256_maskload_ps(ar.as_ptr().add(GROUP), m),
                _mm256_maskload_ps(br.as_ptr().add(GROUP), m),
            )
        };
        hi = add_product(hi, x, y);
    }
    (lo, hi)
}

/// A load mask selecting the first `min(n, 8)` lanes (sign bit set).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn lane_mask(n: usize) -> core::arch::x86_64::__m256i {
    let on = |l: usize| if l < n { -1 } else { 0 };
    _mm256_set_epi32(on(7), on(6), on(5), on(4), on(3), on(2), on(1), on(0))
}

/// Lane `r` of the result is the pairwise sum of `v[r]`'s lanes
/// (`s[l] + s[l + 4]`, then `+ 2`, then `+ 1`).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn transposed_sum(v: &[__m256; GROUP]) -> __m256 {
    // Lanes 0-3: row j halved; lanes 4-7: row j + 4 halved.
    let u: [__m256; 4] = core::array::from_fn(|j| {
        let (a, b) = (v[j], v[j + 4]);
        _mm256_add_ps(
            _mm256_permute2f128_ps::<0x20>(a, b),
            _mm256_permute2f128_ps::<0x31>(a, b),
        )
    });
    // Lane pairs 0-1, 2-3, 4-5, 6-7: rows j, j + 2, j + 4, j + 6.
    let t: [__m256; 2] = core::array::from_fn(|j| {
        let (a, b) = (u[j], u[j + 2]);
        _mm256_add_ps(
            _mm256_shuffle_ps::<0b01_00_01_00>(a, b),
            _mm256_shuffle_ps::<0b11_10_11_10>(a, b),
        )
    });
    // Lanes: rows 0 2 1 3 | 4 6 5 7.
    let (a, b) = (t[0], t[1]);
    let s = _mm256_add_ps(
        _mm256_shuffle_ps::<0b10_00_10_00>(a, b),
        _mm256_shuffle_ps::<0b11_01_11_01>(a, b),
    );
    _mm256_permute_ps::<0b11_01_10_00>(s)
}
