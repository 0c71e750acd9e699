//! Dense-layer kernels and the choice between the two regimes.
//!
//! A dense layer computes `Y = X·W + b` for a batch `X` of `B` rows. Weights
//! are stored `[in][out]` (the transpose of PyTorch's `[out][in]`): at batch 1
//! this turns the product into axpys over the outputs, which keep the
//! outputs in registers and ran 3-6x faster than dot products over
//! `[out][in]` rows on the development machine.
//!
//! Two regimes compute the same thing:
//!
//! - [`static_dense`]: plain loops over compile-time-sized arrays. No
//!   allocation, always available, the only regime without `std`.
//! - [`gemm_dense`] (feature `std`): matrixmultiply's `sgemm`/`dgemm`, with
//!   strides doing every transpose. It allocates a packing buffer on each
//!   call, so it is used only for products large enough to pay for it, as
//!   decided from the shape alone: [`uses_gemm_forward`] for the forward
//!   product, [`uses_gemm`] for the backward ones.
//!
//! A layer followed by an activation runs in one pass with it: in the
//! static regime the activation is applied to each row as the row's sums
//! leave the registers ([`dense_forward`] with a
//! [`RowSink`]), and the next layer's input gradient
//! is multiplied by the activation's derivative row by row as it is summed
//! ([`dense_backward`] with a [`GradSink`]),
//! instead of in separate passes over the batch. matrixmultiply writes whole
//! matrices, so there the activation stays a pass of its own. Both give the
//! same bits as the separate passes.

pub mod bf16_dense;
pub mod static_dense;

#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(feature = "std")]
pub mod gemm_dense;

use crate::Scalar;
use static_dense::{GradSink, RowSink};

/// Smallest batch that the matrixmultiply regime is used for.
pub const GEMM_MIN_BATCH: usize = 8;

/// Smallest number of multiply-adds (`batch · in · out`) in one product that
/// the matrixmultiply regime is used for.
pub const GEMM_MIN_MACS: usize = 1 << 15;

/// Whether the backward products of a dense layer of this shape run on
/// matrixmultiply.
///
/// `allow` is `false` for networks declared with `#[static_kernels]`; without
/// the `std` feature the answer is always `false`. Every argument is known at
/// compile time, so the branch on the result is folded away.
#[inline(always)]
pub const fn uses_gemm(batch: usize, inputs: usize, outputs: usize, allow: bool) -> bool {
    allow
        && cfg!(feature = "std")
        && batch >= GEMM_MIN_BATCH
        && batch * inputs * outputs >= GEMM_MIN_MACS
}

/// Whether the forward product (and inference) of a dense layer of this
/// shape runs on matrixmultiply: where [`uses_gemm`] says so and the layer
/// has more than [`STATIC_FORWARD_MAX_OUTPUTS`] outputs. Up to that width
/// the static kernel keeps two rows' sums in registers and matched or beat
/// matrixmultiply without allocating (W3, a 784×128 layer at batch 64:
/// 150 µs against 162 µs); wider layers stream their weights once per two
/// rows and lose to it.
#[inline(always)]
pub const fn uses_gemm_forward<T>(
    batch: usize,
    inputs: usize,
    outputs: usize,
    allow: bool,
) -> bool {
    uses_gemm(batch, inputs, outputs, allow)
        && outputs * core::mem::size_of::<T>() > STATIC_FORWARD_MAX_OUTPUTS * 4
}

/// The widest `f32` layer (half as wide in `f64`) whose forward product
/// stays static at any batch.
pub const STATIC_FORWARD_MAX_OUTPUTS: usize = 128;

/// Forward pass of a dense layer, `v[b] = x[b]·W + bias`, and the
/// activation after it, if any: `out` decides where `v` goes
/// ([`static_dense::Activated`] with the layer's activation, or the
/// [`Identity`](crate::activation::Identity) for a plain layer, or
/// [`static_dense::Recorded`] to keep both `v` and its activation for
/// backward).
///
/// `w` is stored `[in][out]`. `GEMM` allows the matrixmultiply regime (see
/// [`uses_gemm_forward`]). In the static regime the activation is applied
/// to each row as its sums leave the registers; matrixmultiply writes the
/// whole product first, and the activation is a pass of its own. With
/// `FMA` the static regime adds each product by a fused multiply-add
/// ([`Scalar::mul_add`]): the generated code of a `#[fast_math]` network
/// sets it where the pass runs with FMA instructions (see
/// [`crate::simd::fused_multiply_add`]); elsewhere it would be a slow
/// software routine.
// Always inlined: the generated passes run inside functions compiled
// with AVX2/AVX-512 enabled (see `crate::simd`); a call left out of line
// would run with the build's baseline features instead.
#[inline(always)]
pub fn dense_forward<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const GEMM: bool,
    const FMA: bool,
>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    bias: Option<&[T; OUT]>,
    out: impl RowSink<T, OUT, B>,
) {
    #[cfg(feature = "std")]
    if uses_gemm_forward::<T>(B, IN, OUT, GEMM) {
        let mut out = out;
        gemm_dense::forward(x, w, bias, out.batch());
        out.finish_batch();
        return;
    }
    static_dense::forward_into::<T, IN, OUT, B, FMA>(x, w, bias, out);
}

/// Backward pass of a dense layer.
///
/// Given `dy = ∂L/∂y`: `dw += xᵀ·dy` and `db += Σ_b dy[b]` when
/// `ACCUMULATE` (PyTorch's accumulating gradients), `dw = xᵀ·dy` and
/// `db = Σ_b dy[b]` otherwise (nothing read, so the buffer needs no reset);
/// and when `dx` is given, the input gradient `dy·Wᵀ` (always overwritten):
/// as it is ([`static_dense::Plain`]), or carried through the activation
/// whose output `x` is ([`static_dense::ThroughActivation`]: in the static
/// regime each row is multiplied by the derivative as soon as it is summed;
/// on matrixmultiply in a pass of its own). `FMA` as in
/// [`dense_forward`], for the weight and input gradients' sums.
#[inline(always)]
pub fn dense_backward<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const GEMM: bool,
    const ACCUMULATE: bool,
    const FMA: bool,
>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dw: &mut [[T; OUT]; IN],
    db: Option<&mut [T; OUT]>,
    dx: Option<impl GradSink<T, IN, B>>,
) {
    if let Some(db) = db {
        static_dense::bias_grad::<T, OUT, B, ACCUMULATE>(dy, db);
    }
    #[cfg(feature = "std")]
    if uses_gemm(B, IN, OUT, GEMM) {
        gemm_dense::weight_grad::<T, IN, OUT, B, ACCUMULATE>(x, dy, dw);
        if let Some(mut dx) = dx {
            gemm_dense::input_grad(w, dy, dx.batch());
            dx.finish_batch();
        }
        return;
    }
    match dx {
        Some(dx) => {
            static_dense::weight_and_input_grad::<T, IN, OUT, B, ACCUMULATE, FMA>(x, w, dy, dw, dx)
        }
        None => static_dense::weight_grad::<T, IN, OUT, B, ACCUMULATE, FMA>(x, dy, dw),
    }
}
