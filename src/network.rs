//! [`Network`]: a declared network's parameters, and what can be done with
//! them.

use crate::architecture::{dense_layers, Architecture};
use crate::init::{init_dense, Init, SplitMix64};
use crate::tape::Tape;
use crate::zeroable::{zero_in_place, zeroed};
use crate::{Error, Scalar};
use core::mem::MaybeUninit;
use generic_array::GenericArray;
use rand_core::Rng;

/// The parameters of a network of architecture `A` over scalar `T`: one
/// contiguous buffer of [`Architecture::PARAMS`] scalars.
///
/// The `network!` macro names this type for you (`pub type Mlp<T = f32> =
/// Network<MlpArch, T>`). A `Network` is also the gradient buffer for
/// itself: [`Network::backward`] accumulates into another value of the same
/// type.
///
/// # Creating one
///
/// | need | constructor |
/// | --- | --- |
/// | small net, on the stack | [`Network::seeded`], [`Network::zeroed`] |
/// | large net, on the heap (`std`) | [`Network::boxed_seeded`], [`Network::boxed_zeroed`] |
/// | in memory you own | [`Network::zero_in`] |
/// | in a `static` | [`Network::ZERO`] |
///
/// # Example
///
/// ```
/// use staticnet::{network, Init};
/// use staticnet::init::SplitMix64;
///
/// network! {
///     /// 256 -> 512 -> 512 -> 10: 1.6 MB of f32 parameters.
///     pub struct Big(256 -> 10) { Dense<512>, Relu, Dense<512>, Relu, Dense<10> }
/// }
///
/// // Built on the heap directly: the stack never holds the parameters.
/// // (`Big` alone means `Big<f32>` in a type; in an expression, name the
/// // type somewhere, as here, or write `Big::<f32>::boxed_zeroed()`.)
/// let mut net: Box<Big> = Big::boxed_zeroed();
/// net.init(Init::KaimingUniform, &mut SplitMix64::new(1));
/// assert_eq!(Big::<f32>::PARAMS, 256 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
///
/// // One flat buffer; each dense layer's weights then its biases.
/// let first = net.layers().dense0;
/// assert_eq!(first.bias().unwrap(), &[0.0; 512]); // Kaiming zeroes biases
/// assert_eq!(net.params()[..3], [first.weight(0, 0), first.weight(1, 0), first.weight(2, 0)]);
/// ```
// Aligned to a cache line: see `CacheAligned`.
#[repr(C, align(64))]
pub struct Network<A: Architecture, T: Scalar = f32> {
    params: GenericArray<T, A::ParamLen>,
}

impl<A: Architecture, T: Scalar> Network<A, T> {
    /// The network with every parameter zero, usable in `const` and
    /// `static` items (for firmware).
    pub const ZERO: Self = Self { params: zeroed() };

    /// Input width.
    pub const INPUT: usize = A::INPUT;
    /// Output width.
    pub const OUTPUT: usize = A::OUTPUT;
    /// Number of scalar parameters.
    pub const PARAMS: usize = A::PARAMS;

    /// All parameters zero, built by value (on the stack for a local).
    #[inline]
    pub fn zeroed() -> Self {
        Self::ZERO
    }

    /// Zeroes `slot` in place and returns the network living there; the
    /// value never passes through the stack.
    #[inline]
    pub fn zero_in(slot: &mut MaybeUninit<Self>) -> &mut Self {
        zero_in_place(slot)
    }

    /// All parameters zero, allocated directly on the heap.
    #[cfg(feature = "std")]
    #[inline]
    pub fn boxed_zeroed() -> std::boxed::Box<Self> {
        crate::zeroable::boxed_zeroed()
    }

    /// Initialised with PyTorch's `nn.Linear` default from a `u64` seed.
    pub fn seeded(seed: u64) -> Self {
        let mut net = Self::zeroed();
        net.init(Init::PyTorchDefault, &mut SplitMix64::new(seed));
        net
    }

    /// [`Network::seeded`], built directly on the heap.
    #[cfg(feature = "std")]
    pub fn boxed_seeded(seed: u64) -> std::boxed::Box<Self> {
        let mut net = Self::boxed_zeroed();
        net.init(Init::PyTorchDefault, &mut SplitMix64::new(seed));
        net
    }

    /// Redraws every parameter with `scheme` from `rng`.
    pub fn init<R: Rng + ?Sized>(&mut self, scheme: Init, rng: &mut R) {
        let params = self.params.as_mut_slice();
        for layer in dense_layers::<A>() {
            init_dense(params, layer, scheme, rng);
        }
    }

    /// Sets every parameter to zero (for example to reset a gradient).
    #[inline]
    pub fn fill_zero(&mut self) {
        self.params.iter_mut().for_each(|p| *p = T::ZERO);
    }

    /// Copies every parameter from `other` without moving it through the
    /// stack.
    #[inline]
    pub fn copy_from(&mut self, other: &Self) {
        self.params.copy_from_slice(&other.params);
    }

    /// The parameter buffer, in storage order (see
    /// [`Architecture::LAYERS`] for where each layer sits).
    #[inline]
    pub fn params(&self) -> &[T] {
        self.params.as_slice()
    }

    /// The parameter buffer, mutable.
    #[inline]
    pub fn params_mut(&mut self) -> &mut [T] {
        self.params.as_mut_slice()
    }

    /// The parameter buffer as a fixed-size array type (usable in
    /// constants, for example to pack baked weights at compile time).
    #[inline]
    pub const fn param_array(&self) -> &GenericArray<T, A::ParamLen> {
        &self.params
    }

    /// The parameter buffer as a fixed-size array type, mutable.
    #[inline]
    pub fn param_array_mut(&mut self) -> &mut GenericArray<T, A::ParamLen> {
        &mut self.params
    }

    /// Typed views of each dense layer, speaking PyTorch's `[out][in]`.
    #[inline]
    pub fn layers(&self) -> A::Layers<'_, T> {
        A::layers(self.params.as_slice())
    }

    /// Typed mutable views of each dense layer.
    #[inline]
    pub fn layers_mut(&mut self) -> A::LayersMut<'_, T> {
        A::layers_mut(self.params.as_mut_slice())
    }

    /// Runs a batch of `B` rows and records what backward needs in `tape`.
    ///
    /// Returns the output, which also stays readable as
    /// [`Tape::output`].
    #[inline]
    pub fn forward<'t, const B: usize>(
        &self,
        input: &[A::Input<T>; B],
        tape: &'t mut Tape<A, T, B>,
    ) -> &'t [A::Output<T>; B] {
        tape.filled = true;
        let params = self.params.as_slice();
        let acts = &mut tape.activations;
        crate::simd::dispatch!(
            A::forward::<T, B, { crate::simd::BASELINE_FMA }>,
            crate::simd::featured::forward_avx512::<A, T, B>,
            crate::simd::featured::forward_avx2::<A, T, B>;
            params, input, acts
        )
    }

    /// Back-propagates `grad_output` (∂loss/∂output for each row) through
    /// the batch last recorded in `tape`, adding each parameter's gradient
    /// into `grads`.
    ///
    /// Gradients accumulate, as in PyTorch: reset them with
    /// [`Network::fill_zero`] between steps.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyTape`] if no forward pass has been recorded in `tape`;
    /// `grads` is then untouched.
    #[inline]
    pub fn backward<const B: usize>(
        &self,
        tape: &mut Tape<A, T, B>,
        grad_output: &[A::Output<T>; B],
        grads: &mut Self,
    ) -> Result<(), Error> {
        self.backward_impl::<B, true>(tape, grad_output, grads, None)
    }

    /// [`Network::backward`], writing the gradients over what `grads`
    /// holds instead of adding to it.
    ///
    /// Afterwards `grads` holds exactly this batch's gradients, so it needs
    /// no [`Network::fill_zero`] first; the weights' gradients are written
    /// without being read. This is what
    /// [`train_step`](crate::train::train_step) uses; accumulate with
    /// [`Network::backward`] to sum gradients over several batches.
    ///
    /// # Errors
    ///
    /// As [`Network::backward`].
    #[inline]
    pub fn backward_overwrite<const B: usize>(
        &self,
        tape: &mut Tape<A, T, B>,
        grad_output: &[A::Output<T>; B],
        grads: &mut Self,
    ) -> Result<(), Error> {
        self.backward_impl::<B, false>(tape, grad_output, grads, None)
    }

    /// [`Network::backward`], also writing ∂loss/∂input into `grad_input`.
    ///
    /// # Errors
    ///
    /// As [`Network::backward`]; `grad_input` is then untouched too.
    #[inline]
    pub fn backward_with_input_grad<const B: usize>(
        &self,
        tape: &mut Tape<A, T, B>,
        grad_output: &[A::Output<T>; B],
        grads: &mut Self,
        grad_input: &mut [A::Input<T>; B],
    ) -> Result<(), Error> {
        self.backward_impl::<B, true>(tape, grad_output, grads, Some(grad_input))
    }

    #[inline]
    fn backward_impl<const B: usize, const ACCUMULATE: bool>(
        &self,
        tape: &mut Tape<A, T, B>,
        grad_output: &[A::Output<T>; B],
        grads: &mut Self,
        grad_input: Option<&mut [A::Input<T>; B]>,
    ) -> Result<(), Error> {
        if !tape.filled {
            return Err(Error::EmptyTape { network: A::NAME });
        }
        let params = self.params.as_slice();
        let (acts, scratch) = (&tape.activations, &mut tape.scratch);
        let grads = grads.params.as_mut_slice();
        crate::simd::dispatch!(
            A::backward::<T, B, ACCUMULATE, { crate::simd::BASELINE_FMA }>,
            crate::simd::featured::backward_avx512::<A, T, B, ACCUMULATE>,
            crate::simd::featured::backward_avx2::<A, T, B, ACCUMULATE>;
            params, acts, scratch, grad_output, grads, grad_input
        );
        Ok(())
    }

    /// Runs a batch without a tape. Intermediate values live on the stack
    /// (a few rows of the widest layer per row of the batch).
    #[inline]
    pub fn infer<const B: usize>(&self, input: &[A::Input<T>; B], output: &mut [A::Output<T>; B]) {
        let params = self.params.as_slice();
        crate::simd::dispatch!(
            A::infer::<T, B, { crate::simd::BASELINE_FMA }>,
            crate::simd::featured::infer_avx512::<A, T, B>,
            crate::simd::featured::infer_avx2::<A, T, B>;
            params, input, output
        )
    }

    /// Runs one row without a tape and returns its output.
    #[inline]
    pub fn predict(&self, input: &A::Input<T>) -> A::Output<T> {
        let mut out = [zeroed::<A::Output<T>>(); 1];
        self.infer(core::array::from_ref(input), &mut out);
        out[0]
    }
}

impl<A: Architecture, T: Scalar> Clone for Network<A, T> {
    fn clone(&self) -> Self {
        Self {
            params: self.params.clone(),
        }
    }
}

impl<A: Architecture, T: Scalar> PartialEq for Network<A, T> {
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
    }
}

impl<A: Architecture, T: Scalar> core::fmt::Debug for Network<A, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct(A::NAME)
            .field("input", &A::INPUT)
            .field("output", &A::OUTPUT)
            .field("params", &A::PARAMS)
            .field("scalar", &T::NAME)
            .finish()
    }
}
