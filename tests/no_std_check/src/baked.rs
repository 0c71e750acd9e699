//! Weights baked in at compile time: W1 as trained in PyTorch, held in a
//! `static` (read-only memory; flash on a microcontroller), run with no
//! loader and no allocator.
//!
//! [`w1_infer`] is the inference function whose code, data and stack
//! scripts/footprint.sh measures.

use crate::Failure;

staticnet::network_with_weights! {
    /// W1 of the benchmarks: 2 -> 16 tanh -> 16 tanh -> 1, with the
    /// weights scripts/export_torch.py trained.
    #[weights = "../../fixtures/w1.safetensors"]
    pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
}

/// The trained network, as constant data.
#[no_mangle]
pub static W1_WEIGHTS: W1 = W1::BAKED;

/// The same weights rounded to bf16 while compiling: only the packed words
/// (half the bytes) are in the image.
pub static W1_BF16: staticnet::bf16::Bf16Network<W1Arch> =
    staticnet::bf16::Bf16Network::from_network(&W1::BAKED);

/// One inference of the baked W1.
#[no_mangle]
#[inline(never)]
pub extern "C" fn w1_infer(x0: f32, x1: f32) -> f32 {
    W1_WEIGHTS.predict(&[x0, x1])[0]
}

/// Rows of (x0, x1, PyTorch's output) as little-endian `f32`, written by
/// scripts/export_torch.py.
static PYTORCH_ROWS: &[u8] = include_bytes!("../../fixtures/w1_io.f32");

fn f32_at(bytes: &[u8], i: usize) -> f32 {
    let b = &bytes[4 * i..4 * i + 4];
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// The baked net gives PyTorch's outputs (within 1e-6) on every row, and
/// its bf16 copy nearly so.
pub fn check() -> Result<(), Failure> {
    let rows = PYTORCH_ROWS.len() / 12;
    if rows == 0 {
        return Err(Failure::BakedDiffers);
    }
    for r in 0..rows {
        let (x0, x1, y) = (
            f32_at(PYTORCH_ROWS, 3 * r),
            f32_at(PYTORCH_ROWS, 3 * r + 1),
            f32_at(PYTORCH_ROWS, 3 * r + 2),
        );
        // `black_box` keeps the call: a constant-folded inference would
        // prove nothing about the function the footprint script measures.
        let out = w1_infer(core::hint::black_box(x0), x1);
        // Written so that a NaN output fails too.
        let close = (out - y).abs() <= 1e-6;
        if !close {
            return Err(Failure::BakedDiffers);
        }
        // bf16: within its rounding (inputs and weights to 8 bits).
        let small = W1_BF16.predict(&[core::hint::black_box(x0), x1])[0];
        let close = (small - y).abs() <= 2e-2;
        if !close {
            return Err(Failure::Bf16Differs);
        }
    }
    Ok(())
}
