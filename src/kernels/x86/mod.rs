//! Hand-written x86-64 code for two jobs:
//!
//! - the bf16 layers' sums: by AVX-512 BF16's `vdpbf16ps`, an instruction
//!   portable code cannot name ([`bf16`]), or with AVX2 in tiles that fit
//!   its sixteen registers ([`bf16_avx2`]); both documented there and in
//!   [`bf16_dense`](super::bf16_dense);
//! - the one `f32` loop that portable code could not get vectorised well:
//!   the input gradient's dot products, below; at batch 1 (with AVX2 as
//!   with AVX-512), interleaved with the weight gradient's rows, whose
//!   stores otherwise hold the sums up (see
//!   [`avx512::weight_and_input_grad_rows`]).
//!
//! `dx[i] = Σ_o dy[o]·W[i][o]` reads row `i` of `W` (stored `[in][out]`)
//! contiguously, so each value is a dot product ending in a horizontal sum.
//! Written portably, LLVM compiled that sum, for every row, into chains of
//! two-lane operations; three portable formulations of a sum over several
//! rows at once compiled into gathers or spilled to the stack. Here a group
//! of rows (16 with AVX-512, 8 with AVX2) is summed into one vector of
//! partial sums per row, and the vectors are added in a transposed tree:
//! each level halves every row's partial sums and packs two vectors into
//! one, until one vector holds the group's sums in row order.
//!
//! The sums are the ones [`static_dense`](super::static_dense)'s portable
//! dot product computes, in the same order: sixteen partial sums starting
//! from `+0.0`, lane `l` taking the outputs `o ≡ l mod 16` in order, then
//! halved pairwise (`s[l] + s[l + 8]`, then `+ 4`, `+ 2`, `+ 1`), each
//! product added by a fused multiply-add where the pass fuses (`FMA`, as a
//! `#[fast_math]` network's passes do) and rounded first elsewhere. Every
//! instruction-set level therefore gives the same bits. Lanes past a row's
//! last output load zeros and add `+0.0`, which leaves every sum as it is:
//! a sum started from `+0.0` is never `-0.0` (`+0.0 + -0.0` is `+0.0`), the
//! one value adding `+0.0` would change.
//!
//! The kernels are `#[target_feature]` functions, called only where
//! [`crate::simd`] reported the level (or the crate is compiled with the
//! features: AVX-512F, or AVX2 with FMA, the pair the AVX2 level stands
//! for); each is tested bit for bit against the portable sums, fused and
//! not.

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod bf16;
pub(crate) mod bf16_avx2;

#[cfg(all(test, feature = "std"))]
mod tests {
    use crate::kernels::static_dense;

    /// The kernels of one instruction set under test, for any row width.
    trait Kernel {
        /// Rows per group.
        const GROUP: usize;
        /// Whether this CPU has every feature the kernels need.
        fn available() -> bool;
        /// Runs `input_grad_rows` (on a CPU the caller checked), fused with
        /// `FMA`.
        fn rows<const OUT: usize, const FMA: bool>(
            w: &[[f32; OUT]],
            dy: &[f32; OUT],
            dx: &mut [f32],
        ) -> usize;
        /// Runs `weight_and_input_grad_rows` (on a CPU the caller checked).
        fn interleaved<const OUT: usize, const ACC: bool, const FMA: bool>(
            w: &[[f32; OUT]],
            dy: &[f32; OUT],
            x: &[f32],
            dw: &mut [[f32; OUT]],
            dx: &mut [f32],
        ) -> usize;
    }

    /// `$module`'s kernels (groups of `$module::$group` rows) as `$under`,
    /// and two tests holding them to the portable passes bit for bit on a
    /// CPU with every `$feature` (skipped elsewhere): `$sums` the input
    /// gradient's sums, fused and not; `$interleaved` the batch-1 pass that
    /// also writes the weight gradient, overwriting and accumulating,
    /// fused and not.
    macro_rules! kernel_tests {
        (
            $under:ident, $module:ident, $group:ident, [$($feature:tt),+],
            $sums:ident, $interleaved:ident
        ) => {
            struct $under;
            impl Kernel for $under {
                const GROUP: usize = super::$module::$group;
                fn available() -> bool {
                    true $(&& std::is_x86_feature_detected!($feature))+
                }
                fn rows<const OUT: usize, const FMA: bool>(
                    w: &[[f32; OUT]],
                    dy: &[f32; OUT],
                    dx: &mut [f32],
                ) -> usize {
                    assert!(Self::available());
                    // SAFETY: the CPU has the kernel's features (asserted
                    // above).
                    unsafe { super::$module::input_grad_rows::<OUT, FMA>(w, dy, dx) }
                }
                fn interleaved<const OUT: usize, const ACC: bool, const FMA: bool>(
                    w: &[[f32; OUT]],
                    dy: &[f32; OUT],
                    x: &[f32],
                    dw: &mut [[f32; OUT]],
                    dx: &mut [f32],
                ) -> usize {
                    assert!(Self::available());
                    // SAFETY: the CPU has the kernel's features (asserted
                    // above).
                    unsafe {
                        super::$module::weight_and_input_grad_rows::<OUT, ACC, FMA>(
                            w, dy, x, dw, dx,
                        )
                    }
                }
            }

            #[test]
            fn $sums() {
                if !$under::available() {
                    eprintln!("skipped: this CPU lacks one of {:?}", [$($feature),+]);
                    return;
                }
                check_against_portable::<$under>();
            }

            #[test]
            fn $interleaved() {
                if !$under::available() {
                    eprintln!("skipped: this CPU lacks one of {:?}", [$($feature),+]);
                    return;
                }
                interleaved_shapes::<$under, false, false>();
                interleaved_shapes::<$under, false, true>();
                interleaved_shapes::<$under, true, false>();
                interleaved_shapes::<$under, true, true>();
            }
        };
    }

    kernel_tests!(
        Avx512,
        avx512,
        LANES,
        ["avx512f"],
        avx512_sums_match_the_portable_ones,
        avx512_interleaved_rows_match_the_portable_passes
    );
    kernel_tests!(
        Avx2,
        avx2,
        GROUP,
        ["avx2", "fma"],
        avx2_sums_match_the_portable_ones,
        avx2_interleaved_rows_match_the_portable_passes
    );

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

    fn check<K: Kernel, const IN: usize, const OUT: usize, const FMA: bool>(seed: u64) {
        let w = fill::<IN, OUT>(seed);
        let mut dy = fill::<1, OUT>(seed + 1);
        let mut portable = [[f32::NAN; IN]; 1];
        static_dense::portable_input_grad::<_, _, _, _, FMA>(&w, &dy, &mut portable);
        let mut fast = [f32::NAN; IN];
        let done = K::rows::<OUT, FMA>(&w, &dy[0], &mut fast);
        assert_eq!(done, IN / K::GROUP * K::GROUP, "{IN}x{OUT}: rows written");
        for i in 0..done {
            assert_eq!(
                fast[i].to_bits(),
                portable[0][i].to_bits(),
                "{IN}x{OUT} (fused: {FMA}) row {i}: {} vs {}",
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
        static_dense::portable_input_grad::<_, _, _, _, FMA>(&w, &dy, &mut portable);
        K::rows::<OUT, FMA>(&w, &dy[0], &mut fast);
        for i in 0..done {
            assert_eq!(
                fast[i].to_bits(),
                portable[0][i].to_bits(),
                "zeros, row {i}"
            );
        }
    }

    /// Bit for bit what the portable dot products give, for row widths
    /// below, at and past a vector's width and with a remainder, and for
    /// row counts with and without rows left over; fused and not.
    fn check_against_portable<K: Kernel>() {
        check_widths::<K, false>();
        check_widths::<K, true>();
    }

    fn check_widths<K: Kernel, const FMA: bool>() {
        check::<K, 16, 1, FMA>(1);
        check::<K, 16, 4, FMA>(2);
        check::<K, 32, 15, FMA>(3);
        check::<K, 16, 16, FMA>(4);
        check::<K, 48, 17, FMA>(5);
        check::<K, 32, 32, FMA>(6);
        check::<K, 17, 37, FMA>(7);
        check::<K, 35, 64, FMA>(8);
        check::<K, 15, 8, FMA>(9);
        check::<K, 64, 128, FMA>(10);
        check::<K, 24, 9, FMA>(11);
        check::<K, 7, 20, FMA>(12);
        // The widths packed several rows to a vector (AVX-512).
        check::<K, 33, 2, FMA>(13);
        check::<K, 32, 4, FMA>(14);
        check::<K, 48, 8, FMA>(15);
        check::<K, 50, 1, FMA>(16);
    }

    fn interleaved_shapes<K: Kernel, const ACC: bool, const FMA: bool>() {
        check_interleaved::<K, 35, 20, ACC, FMA>(1);
        check_interleaved::<K, 33, 2, ACC, FMA>(2);
        check_interleaved::<K, 16, 4, ACC, FMA>(3);
        check_interleaved::<K, 15, 32, ACC, FMA>(4);
        check_interleaved::<K, 24, 8, ACC, FMA>(5);
        check_interleaved::<K, 17, 1, ACC, FMA>(6);
        check_interleaved::<K, 32, 13, ACC, FMA>(7);
    }

    /// The kernel writes whole groups of rows of both gradients, with the
    /// portable values, and nothing past them.
    fn check_interleaved<
        K: Kernel,
        const IN: usize,
        const OUT: usize,
        const ACC: bool,
        const FMA: bool,
    >(
        seed: u64,
    ) {
        let w = fill::<IN, OUT>(seed);
        let (x, dy) = (fill::<1, IN>(seed + 1), fill::<1, OUT>(seed + 2));
        let start = fill::<IN, OUT>(seed + 3);
        let mut want_dx = [[f32::NAN; IN]; 1];
        static_dense::portable_input_grad::<_, _, _, _, FMA>(&w, &dy, &mut want_dx);
        let mut want_dw = start;
        static_dense::weight_grad::<f32, IN, OUT, 1, ACC, FMA>(&x, &dy, &mut want_dw);
        let (mut dx, mut dw) = ([f32::NAN; IN], start);
        let done = K::interleaved::<OUT, ACC, FMA>(&w, &dy[0], &x[0], &mut dw, &mut dx);
        let shape = format!("{IN}x{OUT} (accumulate: {ACC}, fused: {FMA})");
        assert_eq!(done, IN / K::GROUP * K::GROUP, "{shape}: rows written");
        for i in 0..IN {
            let written = i < done;
            assert_eq!(dx[i].is_nan(), !written, "{shape}: dx[{i}] written");
            let want = if written { want_dx[0][i] } else { f32::NAN };
            assert_eq!(dx[i].to_bits(), want.to_bits(), "{shape}: dx[{i}]");
            let want = if written { want_dw[i] } else { start[i] };
            let (got, want) = (dw[i].map(f32::to_bits), want.map(f32::to_bits));
            assert_eq!(got, want, "{shape}: dw[{i}]");
        }
    }

    /// The fused and unfused sums differ on the shapes above (so matching
    /// the fused ones bit for bit shows a kernel fuses): a row of 128
    /// products rounds differently in some of 64 rows.
    #[test]
    fn fusing_changes_some_sums() {
        let w = fill::<64, 128>(10);
        let dy = fill::<1, 128>(11);
        let (mut fused, mut unfused) = ([[0.0f32; 64]; 1], [[0.0f32; 64]; 1]);
        static_dense::portable_input_grad::<_, _, _, _, true>(&w, &dy, &mut fused);
        static_dense::portable_input_grad::<_, _, _, _, false>(&w, &dy, &mut unfused);
        let differing = (0..64)
            .filter(|&i| fused[0][i].to_bits() != unfused[0][i].to_bits())
            .count();
        assert!(differing > 0, "no row's sum changed by fusing");
    }
}
