//! Hand-written x86-64 code for two jobs:
//!
//! - the bf16 layers' sums: by AVX-512 BF16's `vdpbf16ps`, an instruction
//!   portable code cannot name ([`bf16`]), or with AVX2 in tiles that fit
//!   its sixteen registers ([`bf16_avx2`]); both documented there and in
//!   [`bf16_dense`](super::bf16_dense);
//! - the one `f32` loop that portable code could not get vectorised well:
//!   the input gradient's dot products, below; with AVX-512 at batch 1,
//!   interleaved with the weight gradient's rows, whose stores otherwise
//!   hold the sums up (see [`avx512::weight_and_input_grad_rows`]).
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

    /// A kernel under test, for any row width.
    trait Kernel {
        /// Rows per group.
        const GROUP: usize;
        /// Runs the kernel (on a CPU the caller checked), fused with `FMA`.
        fn rows<const OUT: usize, const FMA: bool>(
            w: &[[f32; OUT]],
            dy: &[f32; OUT],
            dx: &mut [f32],
        ) -> usize;
    }

    /// A test holding `$module::input_grad_rows` (groups of
    /// `$module::$group` rows) to the portable sums bit for bit, fused and
    /// not, on a CPU with every `$feature` (skipped elsewhere).
    macro_rules! bit_for_bit {
        ($test:ident, $module:ident, $group:ident, $($feature:tt),+) => {
            #[test]
            fn $test() {
                struct Under;
                impl Kernel for Under {
                    const GROUP: usize = super::$module::$group;
                    fn rows<const OUT: usize, const FMA: bool>(
                        w: &[[f32; OUT]],
                        dy: &[f32; OUT],
                        dx: &mut [f32],
                    ) -> usize {
                        $(assert!(std::is_x86_feature_detected!($feature));)+
                        // SAFETY: the CPU has the kernel's features (asserted
                        // above).
                        unsafe { super::$module::input_grad_rows::<OUT, FMA>(w, dy, dx) }
                    }
                }
                $(if !std::is_x86_feature_detected!($feature) {
                    eprintln!("skipped: this CPU has no {}", $feature);
                    return;
                })+
                check_against_portable::<Under>();
            }
        };
    }

    bit_for_bit!(
        avx512_sums_match_the_portable_ones,
        avx512,
        LANES,
        "avx512f"
    );
    bit_for_bit!(
        avx2_sums_match_the_portable_ones,
        avx2,
        GROUP,
        "avx2",
        "fma"
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

    /// A kernel that also writes the weight gradient's rows.
    trait Interleaved {
        /// Rows per group.
        const GROUP: usize;
        /// Runs the kernel (on a CPU the caller checked).
        fn rows<const OUT: usize, const ACC: bool, const FMA: bool>(
            w: &[[f32; OUT]],
            dy: &[f32; OUT],
            x: &[f32],
            dw: &mut [[f32; OUT]],
            dx: &mut [f32],
        ) -> usize;
    }

    /// A test holding `$module::weight_and_input_grad_rows` to the portable
    /// passes (skipped on a CPU without every `$feature`).
    macro_rules! interleaved {
        ($test:ident, $module:ident, $group:ident, $($feature:tt),+) => {
            #[test]
            fn $test() {
                struct Under;
                impl Interleaved for Under {
                    const GROUP: usize = super::$module::$group;
                    fn rows<const OUT: usize, const ACC: bool, const FMA: bool>(
                        w: &[[f32; OUT]],
                        dy: &[f32; OUT],
                        x: &[f32],
                        dw: &mut [[f32; OUT]],
                        dx: &mut [f32],
                    ) -> usize {
                        $(assert!(std::is_x86_feature_detected!($feature));)+
                        // SAFETY: the CPU has the kernel's features (asserted
                        // above).
                        unsafe {
                            super::$module::weight_and_input_grad_rows::<OUT, ACC, FMA>(
                                w, dy, x, dw, dx,
                            )
                        }
                    }
                }
                $(if !std::is_x86_feature_detected!($feature) {
                    eprintln!("skipped: this CPU has no {}", $feature);
                    return;
                })+
                interleaved_shapes::<Under, false, false>();
                interleaved_shapes::<Under, false, true>();
                interleaved_shapes::<Under, true, false>();
                interleaved_shapes::<Under, true, true>();
            }
        };
    }

    interleaved!(
        avx512_interleaved_rows_match_the_portable_passes,
        avx512,
        LANES,
        "avx512f"
    );
    interleaved!(
        avx2_interleaved_rows_match_the_portable_passes,
        avx2,
        GROUP,
        "avx2",
        "fma"
    );

    fn interleaved_shapes<K: Interleaved, const ACC: bool, const FMA: bool>() {
        interleaved::<K, 35, 20, ACC, FMA>(1);
        interleaved::<K, 33, 2, ACC, FMA>(2);
        interleaved::<K, 16, 4, ACC, FMA>(3);
        interleaved::<K, 15, 32, ACC, FMA>(4);
        interleaved::<K, 24, 8, ACC, FMA>(5);
        interleaved::<K, 17, 1, ACC, FMA>(6);
        interleaved::<K, 32, 13, ACC, FMA>(7);
    }

    /// The kernel writes whole groups of rows of both gradients, with the
    /// portable values, and nothing past them.
    fn interleaved<
        K: Interleaved,
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
        let done = K::rows::<OUT, ACC, FMA>(&w, &dy[0], &x[0], &mut dw, &mut dx);
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
