//! The input gradient's dot products, eight rows at a time in 256-bit
//! vectors. Each row's sixteen partial sums are two vectors (lanes 0-7 and
//! 8-15); adding them is the tree's first level. The eight rows' vectors
//! are then halved in a transposed tree: 128-bit halves exchanged between
//! pairs of vectors (`vperm2f128`), then pairs of lanes (`vshufps`), then
//! single lanes (`vshufps`, leaving the rows in the order 0 2 1 3 within
//! each half, put right by one `vpermilps`). Rows of 1, 2, 4 or 8 outputs
//! are packed several to a vector instead ([`narrow_rows`]). See [`super`]
//! for why and for the order of the sums.

use core::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_maskload_ps, _mm256_mul_ps,
    _mm256_permute2f128_ps, _mm256_permute_ps, _mm256_set_epi32, _mm256_setzero_ps,
    _mm256_shuffle_ps, _mm256_storeu_ps,
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
        return narrow_rows(w, dy, dx);
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

/// [`input_grad_rows`] for rows of 1, 2, 4 or 8 outputs, packed `8/OUT`
/// rows to a vector, as the AVX-512 kernel's `narrow_rows` does: `+0.0 +
/// p` for each product, then halved within the row by exchanging lane `l`
/// with `l ^ step` (the partial sums past `OUT` are `+0.0` and change
/// nothing). Row `g`'s total ends in lane `g·OUT`. The same whether the
/// sums are fused or not (see the AVX-512 kernel's `narrow_rows`).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn narrow_rows<const OUT: usize>(w: &[[f32; OUT]], dy: &[f32; OUT], dx: &mut [f32]) -> usize {
    let (groups, _) = w.as_chunks::<GROUP>();
    let (out, _) = dx.as_chunks_mut::<GROUP>();
    let pattern: [f32; GROUP] = core::array::from_fn(|l| dy[l % OUT]);
    // SAFETY: `pattern` is 8 `f32`, the width of the load.
    let dyv = unsafe { _mm256_loadu_ps(pattern.as_ptr()) };
    let per_vector = GROUP / OUT;
    for (rows, d) in groups.iter().zip(out.iter_mut()) {
        // The group's 8 rows are 8·OUT consecutive values: OUT vectors.
        let flat = rows.as_flattened();
        for (v, d) in flat.chunks_exact(GROUP).zip(d.chunks_exact_mut(per_vector)) {
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
