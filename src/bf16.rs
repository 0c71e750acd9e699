//! Inference with bf16 weights: half the bytes of `f32`, for networks whose
//! weights are read from a slower cache than the arithmetic needs.
//!
//! [`Bf16Network`] is built from a trained `f32` [`Network`] and does one
//! thing: [`Bf16Network::infer`]. Its weights are rounded to bf16 (the top
//! 16 bits of an `f32`: the same exponent range, 8 significant bits); its
//! biases stay `f32`. At batch 1, a layer of W2's size (784×128, 401 KB
//! in `f32`) is bound by how fast the second-level cache delivers its
//! weights, so halving them nearly halves the time.
//!
//! # What it computes
//!
//! Each dense layer rounds its input to bf16 as well, multiplies exactly
//! (bf16 × bf16 fits in an `f32`) and adds in `f32`, in the order
//! [`kernels::bf16_dense`](crate::kernels::bf16_dense) documents; the
//! activations run in `f32` as in the `f32` network (the `#[fast_math]`
//! approximations in a `#[fast_math]` network). On a CPU with AVX-512 BF16
//! the instruction `vdpbf16ps` computes exactly those sums; elsewhere `f32`
//! code computes the same bits. Rounding is to nearest, ties to even (as
//! PyTorch's `tensor.to(torch.bfloat16)`), except that values below
//! `f32`'s normal range (|x| < 2⁻¹²⁶) become zero, which the instruction
//! would do anyway.
//!
//! # Accuracy
//!
//! Each weight and input moves by at most 2⁻⁸ of itself (half a unit in
//! the last of bf16's 8 significant bits), so each product by at most
//! 2⁻⁷ + 2⁻¹⁶ of itself. How far the outputs move
//! depends on the network; [`Bf16Network::unpack_into`] gives the rounded
//! weights back as an `f32` network to measure it with. The `digits`
//! example prints it for its trained classifier, and the README records
//! what W2 measured.
//!
//! ```
//! use staticnet::bf16::Bf16Network;
//! use staticnet::network;
//!
//! network! {
//!     struct Mnist(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }
//! }
//!
//! let net = Mnist::boxed_seeded(7);
//! let small = Bf16Network::boxed_from_network(&net);
//! let x = [[0.5f32; 784]];
//! let (mut y, mut y16) = ([[0.0; 10]], [[0.0; 10]]);
//! net.infer(&x, &mut y);
//! small.infer(&x, &mut y16);
//! for (a, b) in y[0].iter().zip(y16[0].iter()) {
//!     assert!((a - b).abs() < 0.02, "{a} against {b}");
//! }
//! ```

use crate::architecture::{dense_layers, Architecture, Layer};
use crate::zeroable::zeroed;
use crate::{Network, Zeroable};
use core::fmt;
use core::mem::MaybeUninit;
use generic_array::GenericArray;

/// `x` rounded to bf16 (returned as its 16 bits): to nearest, ties to even;
/// `±0` for `|x| < 2⁻¹²⁶` (subnormal `f32`s); a NaN stays a NaN (quiet);
/// values past bf16's largest finite one (about 3.39·10³⁸) become `±∞`.
#[inline(always)]
pub const fn round(x: f32) -> u16 {
    let bits = x.to_bits();
    let exponent = bits & 0x7f80_0000;
    let rounded = if exponent == 0x7f80_0000 && bits & 0x007f_ffff != 0 {
        // NaN: keep the sign and payload's top bits, set the quiet bit.
        (bits >> 16) | 0x0040
    } else if exponent == 0 {
        // Zero or subnormal: signed zero.
        (bits >> 16) & 0x8000
    } else {
        // Adding just under half a unit, plus one if the kept part is odd,
        // carries exactly when rounding to nearest-even goes up (into the
        // exponent, and up to infinity, where it must).
        (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
    };
    rounded as u16
}

/// The `f32` a bf16 value stands for (exact).
#[inline(always)]
pub const fn widen(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

/// `lo` and `hi` rounded to bf16, in the low and high half of one word.
#[inline(always)]
pub(crate) const fn pair(lo: f32, hi: f32) -> u32 {
    round(lo) as u32 | (round(hi) as u32) << 16
}

/// The value in the low half of a pair.
#[inline(always)]
pub(crate) const fn widen_low(w: u32) -> f32 {
    f32::from_bits(w << 16)
}

/// The value in the high half of a pair.
#[inline(always)]
pub(crate) const fn widen_high(w: u32) -> f32 {
    f32::from_bits(w & 0xffff_0000)
}

/// A network of architecture `A` with bf16 weights and `f32` biases, for
/// inference (see the [module](self)).
///
/// # Layout
///
/// One buffer of `A::Bf16Len` 32-bit words. Each dense layer in turn
/// takes `⌈in/2⌉·out` words of weights, then `out` words of biases (their
/// `f32` bits) if it has them. Weight word `p·out + o` holds PyTorch's
/// `weight[o][2p]` in its low half and `weight[o][2p + 1]` (zero past the
/// last input) in its high half: each load brings two inputs' weights for
/// sixteen outputs, the operand shape of `vdpbf16ps`.
// Aligned to a cache line, like `Network`.
#[repr(C, align(64))]
pub struct Bf16Network<A: Architecture> {
    words: GenericArray<u32, A::Bf16Len>,
}

impl<A: Architecture> Bf16Network<A> {
    /// All weights and biases zero, usable in `const` and `static` items.
    pub const ZERO: Self = Self { words: zeroed() };

    /// `net` with its weights rounded to bf16, built by value. A `const
    /// fn`: with weights baked in at compile time, the rounding can happen
    /// at compile time too, and only the packed words end up in the image
    /// (half the bytes of the `f32` weights, for flash):
    ///
    /// ```
    /// use staticnet::bf16::Bf16Network;
    /// use staticnet::{network, Network};
    ///
    /// network! { struct Tiny(2 -> 1) { Dense<16>, Tanh, Dense<1> } }
    ///
    /// // `Tiny::BAKED` from `network_with_weights!` in practice.
    /// const TRAINED: Tiny = Network::ZERO;
    /// static SMALL: Bf16Network<TinyArch> = Bf16Network::from_network(&TRAINED);
    /// assert_eq!(SMALL.predict(&[0.5, -0.5]), [0.0]);
    /// ```
    pub const fn from_network(net: &Network<A, f32>) -> Self {
        let mut packed = Self::ZERO;
        packed.pack(net);
        packed
    }

    /// [`Bf16Network::from_network`], built in `slot` without passing
    /// through the stack.
    pub fn from_network_in<'s>(
        slot: &'s mut MaybeUninit<Self>,
        net: &Network<A, f32>,
    ) -> &'s mut Self {
        let packed = crate::zeroable::zero_in_place(slot);
        packed.pack(net);
        packed
    }

    /// [`Bf16Network::from_network`], built directly on the heap.
    #[cfg(feature = "std")]
    pub fn boxed_from_network(net: &Network<A, f32>) -> std::boxed::Box<Self> {
        let mut packed: std::boxed::Box<Self> = crate::zeroable::boxed_zeroed();
        packed.pack(net);
        packed
    }

    /// Writes the rounded weights and the biases of `net` over this one's.
    // Loops by index over `A::LAYERS`: iterators are not available in a
    // `const fn`.
    pub const fn pack(&mut self, net: &Network<A, f32>) {
        let params = net.param_array().as_slice();
        let words = self.words.as_mut_slice();
        let mut at = 0;
        let mut layer = 0;
        while layer < A::LAYERS.len() {
            if let Layer::Dense(d) = &A::LAYERS[layer] {
                let (inputs, outputs) = (d.inputs, d.outputs);
                let mut p = 0;
                while p < inputs.div_ceil(2) {
                    let mut o = 0;
                    while o < outputs {
                        let lo = params[d.weight_index(o, 2 * p)];
                        let hi = if 2 * p + 1 < inputs {
                            params[d.weight_index(o, 2 * p + 1)]
                        } else {
                            0.0
                        };
                        words[at + p * outputs + o] = pair(lo, hi);
                        o += 1;
                    }
                    p += 1;
                }
                if let Some(b) = d.bias_offset {
                    let biases = at + d.bf16_pair_words();
                    let mut o = 0;
                    while o < outputs {
                        words[biases + o] = params[b + o].to_bits();
                        o += 1;
                    }
                }
                at += d.bf16_words();
            }
            layer += 1;
        }
    }

    /// Writes the weights (widened back to `f32`, exactly) and the biases
    /// over `net`'s parameters: the `f32` network this one approximates,
    /// for measuring the rounding or saving what is deployed.
    pub fn unpack_into(&self, net: &mut Network<A, f32>) {
        let params = net.params_mut();
        let mut at = 0;
        for d in dense_layers::<A>() {
            let (inputs, outputs) = (d.inputs, d.outputs);
            let (weights, biases) =
                self.words[at..at + d.bf16_words()].split_at(d.bf16_pair_words());
            for (p, row) in weights.chunks_exact(outputs).enumerate() {
                for (o, &word) in row.iter().enumerate() {
                    params[d.weight_index(o, 2 * p)] = widen_low(word);
                    if 2 * p + 1 < inputs {
                        params[d.weight_index(o, 2 * p + 1)] = widen_high(word);
                    }
                }
            }
            if let Some(b) = d.bias_offset {
                for (v, word) in params[b..b + outputs].iter_mut().zip(biases) {
                    *v = f32::from_bits(*word);
                }
            }
            at += d.bf16_words();
        }
    }

    /// [`Bf16Network::unpack_into`] a new network, built on the heap.
    #[cfg(feature = "std")]
    pub fn boxed_to_network(&self) -> std::boxed::Box<Network<A, f32>> {
        let mut net = Network::boxed_zeroed();
        self.unpack_into(&mut net);
        net
    }

    /// The packed words (see [Layout](Bf16Network#layout)).
    pub fn words(&self) -> &[u32] {
        &self.words
    }

    /// Runs the network on a batch. Allocation-free; scratch on the stack.
    #[inline]
    pub fn infer<const B: usize>(
        &self,
        input: &[A::Input<f32>; B],
        output: &mut [A::Output<f32>; B],
    ) {
        let words = self.words.as_slice();
        crate::simd::dispatch!(
            A::infer_bf16::<B, { crate::simd::BASELINE_FMA }>,
            crate::simd::featured::infer_bf16_avx512::<A, B>,
            crate::simd::featured::infer_bf16_avx2::<A, B>;
            words, input, output
        )
    }

    /// Runs one row and returns its output.
    #[inline]
    pub fn predict(&self, input: &A::Input<f32>) -> A::Output<f32> {
        let mut out = [zeroed::<A::Output<f32>>(); 1];
        self.infer(core::array::from_ref(input), &mut out);
        out[0]
    }
}

impl<A: Architecture> Clone for Bf16Network<A> {
    fn clone(&self) -> Self {
        Self {
            words: self.words.clone(),
        }
    }
}

impl<A: Architecture> PartialEq for Bf16Network<A> {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
    }
}

impl<A: Architecture> fmt::Debug for Bf16Network<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bf16Network")
            .field("architecture", &A::NAME)
            .field("words", &self.words.len())
            .finish()
    }
}

// SAFETY: a single `GenericArray` of `u32`, for which all-zero bytes are
// a valid value; the alignment padding carries no value.
unsafe impl<A: Architecture> Zeroable for Bf16Network<A> {}

/// The packed layout's views, for the generated code.
#[doc(hidden)]
pub mod view {
    /// `⌈in/2⌉` rows of `OUT` weight pairs at `offset`.
    #[inline(always)]
    pub fn pairs<const PAIRS: usize, const OUT: usize>(
        words: &[u32],
        offset: usize,
    ) -> &[[u32; OUT]; PAIRS] {
        let (rows, _) = words[offset..offset + PAIRS * OUT].as_chunks::<OUT>();
        match rows.try_into() {
            Ok(m) => m,
            // PAIRS·OUT words always split into exactly PAIRS rows.
            Err(_) => unreachable!(),
        }
    }

    /// `OUT` biases (their bits) at `offset`.
    #[inline(always)]
    pub fn biases<const OUT: usize>(words: &[u32], offset: usize) -> &[u32; OUT] {
        match words[offset..offset + OUT].try_into() {
            Ok(b) => b,
            Err(_) => unreachable!(),
        }
    }
}
