//! Dense layers over bf16 weights, for [`Bf16Network`](crate::bf16::Bf16Network)
//! inference.
//!
//! # What is computed
//!
//! A layer of `IN` inputs keeps its weights as `PAIRS = ⌈IN/2⌉` rows of
//! `OUT` 32-bit words: word `o` of row `p` holds `W[2p][o]` in its low half
//! and `W[2p + 1][o]` in its high half, both as bf16 (a missing last input
//! is a zero weight). Each input row is rounded to bf16 the same way
//! ([`crate::bf16::round`]) and paired likewise. Every output is then
//! summed in `K = `[`partial_sums`]`(OUT)` independent sums, each started
//! from `+0.0`, pair `p` going into sum `p mod K`:
//!
//! ```text
//! s[p mod K] = (s[p mod K] + x[2p+1]·W[2p+1][o]) + x[2p]·W[2p][o]
//! ```
//!
//! then the sums are added pairwise (`s[j] + s[j + K/2]`, then `K/4`, …)
//! and `y[o] = bias[o] + s[0]` (`f32` bias; `y[o] = s[0]` without one),
//! with every product exact (two 8-bit significands make at most 16 bits,
//! which `f32` holds) and every addition rounded to `f32`. Each line of
//! the formula is what AVX-512 BF16's `vdpbf16ps` computes, high half
//! first, so the instruction does the work where the CPU has it (and
//! `vcvtne2ps2bf16` rounds the inputs, which matches [`crate::bf16::round`]
//! on every one of the 2³² `f32` values). Elsewhere the same sums
//! are plain `f32` code, where a fused multiply-add and a multiplication
//! followed by an addition give the same bits (the product being exact):
//! every instruction-set level computes the same result.
//!
//! The one exception is below `f32`'s normal range: `vdpbf16ps` flushes a
//! sum (and takes a bf16 input) smaller than 2⁻¹²⁶ in magnitude to zero,
//! and a product that small is inexact in `f32`. Rounding to bf16 already
//! flushes such inputs and weights to zero, so only sums and products
//! passing through that range (|v| < 1.2·10⁻³⁸) can differ, by less than
//! 2⁻¹²⁶ each.
//!
//! Weights are half the bytes of `f32`: a layer streamed from the
//! second-level cache at batch 1 (W2's first layer) runs at up to twice
//! the speed.

use super::static_dense::RowSink;
use crate::bf16::{pair, widen_high, widen_low};
use crate::Scalar;

/// Weight rows (pairs of inputs) of a matrix larger than this are
/// prefetched: it is streamed from the second-level cache.
const PREFETCH_ABOVE_BYTES: usize = 64 * 1024;

/// Whether a matrix of `pairs` rows of `outputs` words is streamed (see
/// [`PREFETCH_ABOVE_BYTES`]); every kernel then prefetches
/// [`PREFETCH_PAIRS_AHEAD`] rows ahead.
pub(crate) const fn streamed(pairs: usize, outputs: usize) -> bool {
    pairs * outputs * 4 > PREFETCH_ABOVE_BYTES
}

/// Pair rows of a streamed matrix prefetched before its inputs are
/// rounded, so that the first loads do not wait. Measured on W2 (bf16,
/// 512-byte rows): 1.99 µs without, 1.970 µs with 8 rows, 1.984 with 16,
/// 2.005 with 32.
const WARM_UP_PAIRS: usize = 8;

/// How many pair rows ahead of the one being summed are prefetched.
/// Measured on W2 with `vdpbf16ps` (512-byte rows): 2.012 µs with 1 row,
/// 2.000 with 2, 2.020 with 3, 2.041 with 8.
pub(crate) const PREFETCH_PAIRS_AHEAD: usize = 2;

/// The number of independent sums each output of a layer with `outputs`
/// outputs is summed in (see the module): enough that about eight vectors
/// of sums are in flight per row (sixteen outputs to a 512-bit vector), so
/// that a narrow layer's sums are not one chain of dependent additions.
/// A power of two; it depends on the shape alone.
pub const fn partial_sums(outputs: usize) -> usize {
    let vectors = outputs.div_ceil(16);
    if vectors >= 5 {
        1
    } else if vectors >= 3 {
        2
    } else if vectors == 2 {
        4
    } else {
        MAX_PARTIAL_SUMS
    }
}

/// The most partial sums an output is split into.
pub const MAX_PARTIAL_SUMS: usize = 8;

/// Calls `add(p, p mod k)` for every pair row `p` in order: whole groups of
/// `k` pairs with the sum index a constant of the unrolled inner loop (so
/// that each sum stays in a register), then the rest. Every kernel's loop.
#[inline(always)]
pub(crate) fn for_each_pair(pairs: usize, k: usize, mut add: impl FnMut(usize, usize)) {
    let mut p = 0;
    while p + k <= pairs {
        for j in 0..k {
            add(p + j, j);
        }
        p += k;
    }
    for j in 0..pairs - p {
        add(p + j, j);
    }
}

/// Adds the first `k` partial sums pairwise into `sums[0]`: `s[j] + s[j +
/// k/2]`, then `k/4`, …, for each of the `N` values (or vectors) of a sum.
#[inline(always)]
pub(crate) fn halve_pairwise<V: Copy, const N: usize>(
    sums: &mut [[V; N]; MAX_PARTIAL_SUMS],
    k: usize,
    add: impl Fn(V, V) -> V,
) {
    let mut width = k / 2;
    while width > 0 {
        let (lo, hi) = sums.split_at_mut(width);
        for (l, h) in lo.iter_mut().zip(hi.iter()) {
            for (l, h) in l.iter_mut().zip(h.iter()) {
                *l = add(*l, *h);
            }
        }
        width /= 2;
    }
}

/// `y[b] = x[b]·W + bias` over bf16 weights `w` and `f32` biases (given
/// as their bits, as [`Bf16Network`](crate::bf16::Bf16Network) stores
/// them; see the module), with the activation `out` applies.
///
/// `PAIRS` must be `⌈IN/2⌉` (checked at compile time). `FMA` says the pass
/// runs where fused multiply-add instructions exist; it changes the speed
/// of the portable sums, never their result.
#[inline(always)]
pub fn forward_into<
    const IN: usize,
    const OUT: usize,
    const PAIRS: usize,
    const B: usize,
    const FMA: bool,
>(
    x: &[[f32; IN]; B],
    w: &[[u32; OUT]; PAIRS],
    bias: Option<&[u32; OUT]>,
    mut out: impl RowSink<f32, OUT, B>,
) {
    const { assert!(PAIRS == IN.div_ceil(2), "PAIRS must be ⌈IN/2⌉") };
    if streamed(PAIRS, OUT) {
        // The stream's first rows, while the inputs are rounded.
        for p in 0..WARM_UP_PAIRS {
            super::static_dense::prefetch_row(w, p);
        }
    }
    let dot = DotProduct::detect();
    let (blocks, rest) = x.as_chunks::<2>();
    // Scratch for two rows only where there are two (B is a constant).
    if !blocks.is_empty() {
        let mut xp = [[0u32; PAIRS]; 2];
        let mut s = [[0.0; OUT]; 2];
        for (n, xb) in blocks.iter().enumerate() {
            dot.pairs(&xb[0], &mut xp[0]);
            dot.pairs(&xb[1], &mut xp[1]);
            dot.sums::<OUT, PAIRS, 2, FMA>(&xp, w, &mut s);
            for (r, sr) in s.iter().enumerate() {
                out.put(2 * n + r, &add_bias(bias, sr));
            }
        }
    }
    if let [xr] = rest {
        let mut xp = [[0u32; PAIRS]; 1];
        let mut s = [[0.0; OUT]; 1];
        dot.pairs(xr, &mut xp[0]);
        dot.sums::<OUT, PAIRS, 1, FMA>(&xp, w, &mut s);
        out.put(B - 1, &add_bias(bias, &s[0]));
    }
}

/// `bias + s` (the bias given as its `f32` bits), or `s` without a bias.
#[inline(always)]
fn add_bias<const OUT: usize>(bias: Option<&[u32; OUT]>, s: &[f32; OUT]) -> [f32; OUT] {
    match bias {
        Some(b) => core::array::from_fn(|o| f32::from_bits(b[o]) + s[o]),
        None => *s,
    }
}

/// `xp` = the input row `x` rounded to bf16 and paired like the weights.
#[inline(always)]
pub(crate) fn portable_pairs<const IN: usize, const PAIRS: usize>(
    x: &[f32; IN],
    xp: &mut [u32; PAIRS],
) {
    let (two, last) = x.as_chunks::<2>();
    for (p, v) in xp.iter_mut().zip(two.iter()) {
        *p = pair(v[0], v[1]);
    }
    if let [odd] = last {
        xp[PAIRS - 1] = pair(*odd, 0.0);
    }
}

/// How the sums are computed on this CPU.
#[derive(Clone, Copy)]
enum DotProduct {
    /// `f32` code (vectorised for the level the pass runs at).
    Portable,
    /// AVX-512 BF16's `vdpbf16ps`.
    #[cfg(target_arch = "x86_64")]
    Avx512Bf16,
    /// AVX2 and FMA, in tiles of outputs.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl DotProduct {
    /// The instruction where the CPU has it and [`crate::simd`] runs
    /// AVX-512, else the AVX2 tiles where it runs AVX2 or AVX-512
    /// (detected with `std`, or compiled in without it).
    #[inline(always)]
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::simd::{bf16_dot_product, level, Level};
            if bf16_dot_product() {
                return Self::Avx512Bf16;
            }
            if cfg!(all(target_feature = "avx2", target_feature = "fma")) || level() >= Level::Avx2
            {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    /// `xp` = the input row `x` rounded to bf16 and paired like the
    /// weights.
    #[inline(always)]
    fn pairs<const IN: usize, const PAIRS: usize>(self, x: &[f32; IN], xp: &mut [u32; PAIRS]) {
        match self {
            Self::Portable => portable_pairs(x, xp),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `sums`.
            Self::Avx512Bf16 => unsafe { super::x86::bf16::pairs(x, xp) },
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => portable_pairs(x, xp),
        }
    }

    /// `s[r] = Σ` over the pairs of row `r` (see the module), for `R`
    /// rows sharing each load of `w`.
    #[inline(always)]
    fn sums<const OUT: usize, const PAIRS: usize, const R: usize, const FMA: bool>(
        self,
        xp: &[[u32; PAIRS]; R],
        w: &[[u32; OUT]; PAIRS],
        s: &mut [[f32; OUT]; R],
    ) {
        match self {
            Self::Portable => portable_sums::<OUT, PAIRS, R, FMA>(xp, w, s),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `detect` chose this only where the CPU has AVX-512F
            // and AVX-512 BF16.
            Self::Avx512Bf16 => unsafe { super::x86::bf16::sums::<OUT, PAIRS, R>(xp, w, s) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `detect` chose this only where the CPU has AVX2 and
            // FMA.
            Self::Avx2 => unsafe { super::x86::bf16_avx2::sums::<OUT, PAIRS, R>(xp, w, s) },
        }
    }
}

/// The sums in `f32` code, in the order of the module's formula (written
/// over `s`).
#[inline(always)]
pub(crate) fn portable_sums<
    const OUT: usize,
    const PAIRS: usize,
    const R: usize,
    const FMA: bool,
>(
    xp: &[[u32; PAIRS]; R],
    w: &[[u32; OUT]; PAIRS],
    s: &mut [[f32; OUT]; R],
) {
    let k = partial_sums(OUT);
    let stream = streamed(PAIRS, OUT);
    // Sum `j` of row `r` is `acc[r][j]`; only the first `k` are used.
    let mut acc = [[[0.0f32; OUT]; MAX_PARTIAL_SUMS]; R];
    // Adds pair row `p` into sum `j`.
    let add_pair = |p: usize, j: usize| {
        if stream {
            super::static_dense::prefetch_row(w, p + PREFETCH_PAIRS_AHEAD);
        }
        for (a, xr) in acc.iter_mut().zip(xp.iter()) {
            let (x0, x1) = (widen_low(xr[p]), widen_high(xr[p]));
            for (sum, wv) in a[j].iter_mut().zip(w[p].iter()) {
                // Exact products: fused or not, the same bits.
                let hi = x1.mul_add_if::<FMA>(widen_high(*wv), *sum);
                *sum = x0.mul_add_if::<FMA>(widen_low(*wv), hi);
            }
        }
    };
    for_each_pair(PAIRS, k, add_pair);
    for (a, sr) in acc.iter_mut().zip(s.iter_mut()) {
        halve_pairwise(a, k, |l, h| l + h);
        *sr = a[0];
    }
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::kernels::x86;

    /// Words of random bf16 pairs, with now and then a zero, a negative
    /// zero or a large value (never a subnormal or a NaN).
    fn words<const N: usize>(seed: &mut u64) -> [u32; N] {
        core::array::from_fn(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            let half = |b: u64| -> u32 {
                match b % 16 {
                    0 => 0,
                    1 => 0x8000,
                    2 => 0x4f00 | (b >> 8) as u32 & 0x807f,
                    _ => (0x3c00 + ((b >> 8) as u32 & 0x03ff)) | ((b >> 20) as u32 & 0x8000),
                }
            };
            half(*seed) | half(*seed >> 32) << 16
        })
    }

    /// Every hand-written kernel against the portable sums, bit for bit,
    /// at one shape: every tile width and partial mask, one and two rows.
    fn shape<const OUT: usize, const PAIRS: usize>(seed: u64) {
        let mut seed = seed | 1;
        let w: [[u32; OUT]; PAIRS] = core::array::from_fn(|_| words(&mut seed));
        let xp: [[u32; PAIRS]; 2] = core::array::from_fn(|_| words(&mut seed));
        let mut want = [[0.0; OUT]; 2];
        portable_sums::<OUT, PAIRS, 2, false>(&xp, &w, &mut want);
        let one = core::array::from_ref(&xp[1]);
        let mut want_one = [[0.0; OUT]; 1];
        portable_sums::<OUT, PAIRS, 1, false>(one, &w, &mut want_one);
        assert_eq!(
            want_one[0], want[1],
            "a row's sums do not depend on the block"
        );
        let bits = |s: &[[f32; OUT]]| s.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();

        // A kernel's two-row and one-row sums against the portable ones.
        let check = |name: &str,
                     two: &dyn Fn(&mut [[f32; OUT]; 2]),
                     one_row: &dyn Fn(&mut [[f32; OUT]; 1])| {
            let (mut got, mut got_one) = ([[f32::NAN; OUT]; 2], [[f32::NAN; OUT]; 1]);
            two(&mut got);
            one_row(&mut got_one);
            assert_eq!(
                bits(&got),
                bits(&want),
                "{name}, {OUT} outputs, {PAIRS} pairs"
            );
            assert_eq!(bits(&got_one), bits(&want_one), "{name}, one row");
        };
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            check(
                "AVX2",
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                &|s| unsafe { x86::bf16_avx2::sums::<OUT, PAIRS, 2>(&xp, &w, s) },
                // SAFETY: as above.
                &|s| unsafe { x86::bf16_avx2::sums::<OUT, PAIRS, 1>(one, &w, s) },
            );
        }
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bf16") {
            check(
                "vdpbf16ps",
                // SAFETY: the CPU has AVX-512F and AVX-512 BF16 (checked
                // above).
                &|s| unsafe { x86::bf16::sums::<OUT, PAIRS, 2>(&xp, &w, s) },
                // SAFETY: as above.
                &|s| unsafe { x86::bf16::sums::<OUT, PAIRS, 1>(one, &w, s) },
            );
        }
    }

    #[test]
    fn hand_written_sums_match_the_portable_ones_bit_for_bit() {
        shape::<1, 3>(1);
        shape::<7, 1>(2);
        shape::<8, 9>(3);
        shape::<9, 8>(4);
        shape::<16, 17>(5);
        shape::<17, 5>(6);
        shape::<33, 4>(7);
        shape::<64, 3>(8);
        shape::<80, 2>(13);
        shape::<88, 3>(14);
        shape::<100, 7>(9);
        shape::<128, 2>(10);
        shape::<200, 3>(11);
        shape::<300, 2>(12);
    }

    /// Whole rows through `pairs` and the kernels chosen on this CPU,
    /// against the portable rounding: every input length's tail.
    fn rounding<const IN: usize, const PAIRS: usize>() {
        let x: [f32; IN] = core::array::from_fn(|i| (i as f32 * 0.37).sin() * 3.0);
        let mut want = [0u32; PAIRS];
        portable_pairs(&x, &mut want);
        let mut got = [u32::MAX; PAIRS];
        DotProduct::detect().pairs(&x, &mut got);
        assert_eq!(got, want, "{IN} inputs");
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bf16") {
            let mut hw = [u32::MAX; PAIRS];
            // SAFETY: the CPU has AVX-512F and AVX-512 BF16 (checked above).
            unsafe { x86::bf16::pairs(&x, &mut hw) };
            assert_eq!(hw, want, "vcvtne2ps2bf16, {IN} inputs");
        }
    }

    #[test]
    fn inputs_round_the_same_on_every_path() {
        rounding::<1, 1>();
        rounding::<2, 1>();
        rounding::<31, 16>();
        rounding::<32, 16>();
        rounding::<33, 17>();
        rounding::<63, 32>();
        rounding::<784, 392>();
    }
}
