//! Choosing the instruction set once, and running the generated code with
//! it.
//!
//! The generated forward, backward and inference code is plain Rust over
//! compile-time-sized arrays, which LLVM vectorises for whatever target
//! features the *calling function* has. A build without `-C target-cpu`
//! flags only has SSE2 on x86-64, so with `std` the library detects the
//! CPU once and runs each pass inside a function compiled with AVX2+FMA or
//! AVX-512 enabled, into which the whole pass is inlined. The choice is a
//! single relaxed atomic load and a branch per call, not a function pointer
//! (which would stop the kernels from being inlined).
//!
//! Without `std` there is no run-time detection: the passes use the
//! target features the crate is compiled with (`-C target-feature` or
//! `-C target-cpu`).
//!
//! Two families of kernels are written with intrinsics instead: the input
//! gradient's dot products in `f32` (which LLVM vectorised poorly), and the
//! bf16 layers ([`crate::kernels::bf16_dense`], where the instruction set
//! decides how pairs of bf16 values are widened and summed). Each asks
//! [`level`] once per call which version to run and sums in its portable
//! code's order, so the level still does not change any result.
//!
//! The one exception is opt-in: a `#[fast_math]` network adds products
//! (and evaluates its approximations' polynomials) by fused multiply-adds
//! where [`fused_multiply_add`] says the instructions exist (the AVX2 and
//! AVX-512 levels), and by a multiplication and an addition at the baseline
//! level, so its results there differ in the last bits.
//!
//! AVX-512 code uses 512-bit vectors: LLVM would otherwise prefer 256-bit
//! ones on this class of CPU, which measured about 20% slower on the
//! batch-1 workloads.

/// An instruction-set level the passes can run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Whatever the build's target features give (SSE2 on a default
    /// x86-64 build).
    Baseline,
    /// AVX2 and FMA.
    Avx2,
    /// AVX-512 (F, VL, BW, DQ) with AVX2 and FMA.
    Avx512,
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod detect {
    use super::Level;
    use core::sync::atomic::{AtomicU8, Ordering};

    /// 0: not detected yet; otherwise `1 + Level as u8`.
    static LEVEL: AtomicU8 = AtomicU8::new(0);
    /// The most the user allows (`1 + Level as u8`; 0: no limit).
    static LIMIT: AtomicU8 = AtomicU8::new(0);

    fn encode(l: Level) -> u8 {
        1 + l as u8
    }

    fn decode(v: u8) -> Level {
        match v {
            3 => Level::Avx512,
            2 => Level::Avx2,
            _ => Level::Baseline,
        }
    }

    /// What this CPU supports.
    pub fn supported() -> Level {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
        {
            Level::Avx512
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            Level::Avx2
        } else {
            Level::Baseline
        }
    }

    #[inline]
    pub fn level() -> Level {
        let v = LEVEL.load(Ordering::Relaxed);
        if v != 0 {
            return decode(v);
        }
        let mut l = supported();
        let limit = LIMIT.load(Ordering::Relaxed);
        if limit != 0 {
            l = l.min(decode(limit));
        }
        LEVEL.store(encode(l), Ordering::Relaxed);
        l
    }

    pub fn limit(max: Level) -> Level {
        LIMIT.store(encode(max), Ordering::Relaxed);
        let l = supported().min(max);
        LEVEL.store(encode(l), Ordering::Relaxed);
        l
    }
}

/// The level the passes run at: detected once (with `std` on x86-64),
/// else [`Level::Baseline`] (the build's own target features).
#[inline]
pub fn level() -> Level {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        detect::level()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        Level::Baseline
    }
}

/// Whether the passes of a `#[fast_math]` network round each
/// multiply-add once ([`Scalar::mul_add`](crate::Scalar::mul_add)): with
/// `std`, where the passes run with FMA instructions (the [`Level::Avx2`]
/// and [`Level::Avx512`] levels, or a build whose own target features
/// include FMA). Without `std` never, since core has no fused multiply-add
/// that compiles to the instruction: a software one would be slower than
/// rounding twice.
#[inline]
pub fn fused_multiply_add() -> bool {
    BASELINE_FMA || (cfg!(feature = "std") && level() >= Level::Avx2)
}

/// Whether bf16 layers ([`crate::bf16`]) sum with AVX-512 BF16's
/// `vdpbf16ps`: where the passes run at [`Level::Avx512`] on a CPU that
/// has it (with `std`), or where the build's own target features include
/// AVX-512F and AVX-512 BF16. Elsewhere they sum in `f32` code, to the
/// same bits (see [`crate::kernels::bf16_dense`]).
#[inline]
pub fn bf16_dot_product() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512bf16"
        )) {
            return true;
        }
        #[cfg(feature = "std")]
        if level() == Level::Avx512 {
            return std::is_x86_feature_detected!("avx512bf16");
        }
    }
    false
}

/// Whether the baseline level (the build's own target features) fuses:
/// with `std` in a build whose target features include FMA.
pub(crate) const BASELINE_FMA: bool = cfg!(all(feature = "std", target_feature = "fma"));

/// Caps the level at `max` for the whole process (for example to compare
/// code paths, or to rule out a CPU-specific problem) and returns the level
/// now in use. Results do not depend on the level: every level computes
/// the same operations in the same order (for a `#[fast_math]` network,
/// every level on the same side of [`fused_multiply_add`]).
pub fn limit_level(max: Level) -> Level {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        detect::limit(max)
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = max;
        Level::Baseline
    }
}

/// Calls `$base`, `$avx512` or `$avx2` (functions taking the same
/// arguments: the generated pass, and its wrappers in [`featured`]) with
/// `$args`, whichever the detected level says.
macro_rules! dispatch {
    ($base:expr, $avx512:expr, $avx2:expr; $($args:expr),* $(,)?) => {{
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            match $crate::simd::level() {
                // SAFETY: `level()` reports Avx512 only when the CPU has
                // every feature the AVX-512 wrappers enable.
                $crate::simd::Level::Avx512 => unsafe { $avx512($($args),*) },
                // SAFETY: likewise for AVX2 and FMA.
                $crate::simd::Level::Avx2 => unsafe { $avx2($($args),*) },
                $crate::simd::Level::Baseline => $base($($args),*),
            }
        }
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        {
            $base($($args),*)
        }
    }};
}
pub(crate) use dispatch;

/// The generated passes (and the optimizer step) compiled with extra target
/// features. Each is the
/// generated function, inlined (`#[inline(always)]`) into a function that
/// enables the features, so every kernel inside is compiled for them.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod featured {
    use crate::architecture::Architecture;
    use crate::optim::Optimizer;
    use crate::{Error, Scalar};
    use generic_array::{ArrayLength, GenericArray};

    macro_rules! featured {
        ($features:literal, $forward:ident, $backward:ident, $infer:ident, $infer_bf16:ident, $step:ident) => {
            #[target_feature(enable = $features)]
            pub(crate) fn $step<T: Scalar, N: ArrayLength, O: Optimizer<T, N>>(
                opt: &mut O,
                params: &mut GenericArray<T, N>,
                grads: &GenericArray<T, N>,
                lr: f64,
            ) -> Result<(), Error> {
                crate::optim::checked_update::<T, N, O, true>(opt, params, grads, lr)
            }

            #[target_feature(enable = $features)]
            pub(crate) fn $forward<'t, A: Architecture, T: Scalar, const B: usize>(
                params: &[T],
                input: &[A::Input<T>; B],
                acts: &'t mut A::Activations<T, B>,
            ) -> &'t [A::Output<T>; B] {
                A::forward::<T, B, true>(params, input, acts)
            }

            #[target_feature(enable = $features)]
            pub(crate) fn $backward<
                A: Architecture,
                T: Scalar,
                const B: usize,
                const ACCUMULATE: bool,
            >(
                params: &[T],
                acts: &A::Activations<T, B>,
                scratch: &mut A::Gradients<T, B>,
                grad_output: &[A::Output<T>; B],
                grads: &mut [T],
                grad_input: Option<&mut [A::Input<T>; B]>,
            ) {
                A::backward::<T, B, ACCUMULATE, true>(
                    params,
                    acts,
                    scratch,
                    grad_output,
                    grads,
                    grad_input,
                )
            }

            #[target_feature(enable = $features)]
            pub(crate) fn $infer_bf16<A: Architecture, const B: usize>(
                packed: &[u32],
                input: &[A::Input<f32>; B],
                output: &mut [A::Output<f32>; B],
            ) {
                A::infer_bf16::<B, true>(packed, input, output)
            }

            #[target_feature(enable = $features)]
            pub(crate) fn $infer<A: Architecture, T: Scalar, const B: usize>(
                params: &[T],
                input: &[A::Input<T>; B],
                output: &mut [A::Output<T>; B],
            ) {
                A::infer::<T, B, true>(params, input, output)
            }
        };
    }

    featured!(
        "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma",
        forward_avx512,
        backward_avx512,
        infer_avx512,
        infer_bf16_avx512,
        optimizer_step_avx512
    );
    featured!(
        "avx2,fma",
        forward_avx2,
        backward_avx2,
        infer_avx2,
        infer_bf16_avx2,
        optimizer_step_avx2
    );
}
