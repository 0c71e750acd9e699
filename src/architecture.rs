//! What the `network!` macro implements for each declared network.
//!
//! A declared network is described by a zero-sized marker type implementing
//! [`Architecture`]: its widths, its parameter layout ([`Architecture::LAYERS`])
//! and the generated forward and backward code. Users work with
//! [`Network`](crate::Network) and [`Tape`](crate::Tape), which are generic over
//! the architecture; generic code (optimizers, losses, loaders) takes
//! `Network<A, T>` for any `A: Architecture`.

use crate::{Scalar, Zeroable};
use generic_array::ArrayLength;

/// An activation as declared, with its arguments (see [`crate::activation`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActivationKind {
    /// `x`
    Identity,
    /// 1 for `x > 0`, else 0.
    BinaryStep,
    /// `1 / (1 + e^(−x))`
    Sigmoid,
    /// `tanh(x)`
    Tanh,
    /// `max(0, x)`
    Relu,
    /// `ln(1 + e^(βx)) / β`, the identity where `βx > threshold`.
    Softplus {
        /// β
        beta: f64,
        /// The linear threshold on `βx`.
        threshold: f64,
    },
    /// `max(0, x) + slope · min(0, x)`
    LeakyRelu {
        /// The negative slope.
        slope: f64,
    },
    /// `x` for `x > 0`, else `α(eˣ − 1)`.
    Elu {
        /// α
        alpha: f64,
    },
}

/// Where a dense layer's parameters sit in the network's parameter buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenseLayout {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Offset of the weight matrix. It is stored `[in][out]`: PyTorch's
    /// `weight[o][i]` is at `weight_offset + i * outputs + o`
    /// (see [`DenseLayout::weight_index`]).
    pub weight_offset: usize,
    /// Offset of the `outputs` biases, if the layer has them.
    pub bias_offset: Option<usize>,
}

impl DenseLayout {
    /// Index into the parameter buffer of PyTorch's `weight[out][in]`.
    #[inline]
    pub const fn weight_index(&self, out: usize, inp: usize) -> usize {
        self.weight_offset + inp * self.outputs + out
    }

    /// Number of parameters of the layer.
    #[inline]
    pub const fn len(&self) -> usize {
        self.inputs * self.outputs
            + if self.bias_offset.is_some() {
                self.outputs
            } else {
                0
            }
    }

    /// `true` for a layer without parameters (never produced by the macro).
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Words of weight pairs this layer takes in a
    /// [`Bf16Network`](crate::bf16::Bf16Network): `⌈in/2⌉·out`.
    #[inline]
    pub const fn bf16_pair_words(&self) -> usize {
        self.inputs.div_ceil(2) * self.outputs
    }

    /// All words this layer takes in a
    /// [`Bf16Network`](crate::bf16::Bf16Network): its weight pairs, then
    /// one word per bias. (The `network!` macro sizes `Bf16Len` and places
    /// each layer by the same rule.)
    #[inline]
    pub const fn bf16_words(&self) -> usize {
        self.bf16_pair_words()
            + if self.bias_offset.is_some() {
                self.outputs
            } else {
                0
            }
    }
}

/// One step of a network, in declaration order.
///
/// A residual block appears as `ResidualBegin`, its body, then `ResidualEnd`;
/// blocks nest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layer {
    /// A dense (fully connected) layer.
    Dense(DenseLayout),
    /// An element-wise activation.
    Activation(ActivationKind),
    /// Start of a residual block `y = x + f(x)` of the given width.
    ResidualBegin {
        /// The width the block keeps.
        width: usize,
    },
    /// End of the innermost open residual block.
    ResidualEnd,
}

/// A row of a batch: `[T; N]`, with its width known to generic code.
pub trait Row<T: Scalar>: Copy + Zeroable + AsRef<[T]> + AsMut<[T]> + 'static {
    /// The width `N`.
    const WIDTH: usize;
}

impl<T: Scalar + Zeroable, const N: usize> Row<T> for [T; N] {
    const WIDTH: usize = N;
}

/// A network shape and its generated code. Implemented by the `network!`
/// macro; there is no need to implement it by hand.
pub trait Architecture: Sized + 'static {
    /// The declared name.
    const NAME: &'static str;
    /// Input width.
    const INPUT: usize;
    /// Output width.
    const OUTPUT: usize;
    /// Number of scalar parameters.
    const PARAMS: usize;
    /// Every step of the network in order, with the parameter layout.
    const LAYERS: &'static [Layer];
    /// Whether the network was declared `#[static_kernels]`, keeping every
    /// product in the allocation-free static regime.
    const STATIC_KERNELS: bool;
    /// Whether the network was declared `#[fast_math]`, using the
    /// vectorised approximations of [`crate::fastmath`] for its `f32`
    /// sigmoid, tanh, softplus and ELU activations, and fused multiply-adds
    /// in the static kernels and in those approximations where the passes
    /// run with FMA (see [`crate::simd::fused_multiply_add`]).
    const FAST_MATH: bool = false;

    /// `PARAMS` as a type-level number, for buffers sized like the
    /// parameters in generic code (`GenericArray<T, A::ParamLen>`).
    type ParamLen: ArrayLength;
    /// The number of 32-bit words of the packed bf16 layout as a
    /// type-level number (see [`crate::bf16::Bf16Network`]).
    type Bf16Len: ArrayLength;
    /// One input row, `[T; INPUT]`.
    type Input<T: Scalar>: Row<T>;
    /// One output row, `[T; OUTPUT]`.
    type Output<T: Scalar>: Row<T>;
    /// What the forward pass records for a batch of `B` rows.
    type Activations<T: Scalar, const B: usize>: Zeroable;
    /// Scratch space for the gradients flowing backward through a batch.
    type Gradients<T: Scalar, const B: usize>: Zeroable;
    /// Typed read-only views of each dense layer's parameters.
    type Layers<'a, T: Scalar>;
    /// Typed mutable views of each dense layer's parameters.
    type LayersMut<'a, T: Scalar>;

    /// Runs the network on a batch, recording every intermediate value.
    ///
    /// `FMA` (in all three passes) says that the pass runs where fused
    /// multiply-add instructions are enabled; a `#[fast_math]` network then
    /// adds its products with them (see
    /// [`crate::simd::fused_multiply_add`]), any other ignores it. It is a
    /// constant so that code which could not use the instructions is
    /// never compiled.
    fn forward<'t, T: Scalar, const B: usize, const FMA: bool>(
        params: &[T],
        input: &[Self::Input<T>; B],
        acts: &'t mut Self::Activations<T, B>,
    ) -> &'t [Self::Output<T>; B];

    /// The output recorded by the last [`Architecture::forward`].
    fn output<T: Scalar, const B: usize>(acts: &Self::Activations<T, B>) -> &[Self::Output<T>; B];

    /// Back-propagates `grad_output` into `grads` (a buffer laid out like
    /// `params`): added to what it holds when `ACCUMULATE`, written over it
    /// otherwise. When asked, also writes the input gradient.
    fn backward<T: Scalar, const B: usize, const ACCUMULATE: bool, const FMA: bool>(
        params: &[T],
        acts: &Self::Activations<T, B>,
        scratch: &mut Self::Gradients<T, B>,
        grad_output: &[Self::Output<T>; B],
        grads: &mut [T],
        grad_input: Option<&mut [Self::Input<T>; B]>,
    );

    /// Runs the network without recording anything (scratch on the stack).
    fn infer<T: Scalar, const B: usize, const FMA: bool>(
        params: &[T],
        input: &[Self::Input<T>; B],
        output: &mut [Self::Output<T>; B],
    );

    /// Runs the network with bf16 weights on a batch: `packed` is laid out
    /// as [`crate::bf16::Bf16Network`] documents. `FMA` as in
    /// [`Architecture::forward`]; the bf16 sums give the same bits either
    /// way.
    fn infer_bf16<const B: usize, const FMA: bool>(
        packed: &[u32],
        input: &[Self::Input<f32>; B],
        output: &mut [Self::Output<f32>; B],
    );

    /// Typed views of the parameters.
    fn layers<T: Scalar>(params: &[T]) -> Self::Layers<'_, T>;
    /// Typed mutable views of the parameters.
    fn layers_mut<T: Scalar>(params: &mut [T]) -> Self::LayersMut<'_, T>;
}

/// The dense layers of `A`, in order.
pub fn dense_layers<A: Architecture>() -> impl Iterator<Item = &'static DenseLayout> {
    A::LAYERS.iter().filter_map(|l| match l {
        Layer::Dense(d) => Some(d),
        _ => None,
    })
}
