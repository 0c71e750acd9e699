//! [`Tape`]: what a forward pass records for the backward pass.

use crate::architecture::Architecture;
use crate::zeroable::{zero_in_place, zeroed};
use crate::Scalar;
use core::mem::MaybeUninit;

/// The activation cache of a network `A` for a compile-time batch of `B`
/// rows, plus the scratch space its backward pass needs.
///
/// It holds every intermediate value of the batch and nothing that depends
/// on the parameters, so one tape serves any number of steps. A tape can be
/// large (`B` rows of every layer), so it has the same in-place and heap
/// constructors as [`Network`](crate::Network).
///
/// # Example
///
/// ```
/// staticnet::network! {
///     struct Tiny(3 -> 2) { Dense<4>, Tanh, Dense<2> }
/// }
///
/// let net: Tiny = Tiny::seeded(5);
/// let mut tape = TinyTape::<f32, 2>::new();    // batch of 2
/// let mut grads = Tiny::zeroed();
/// assert!(!tape.is_filled());
/// assert!(net.backward(&mut tape, &[[1.0; 2]; 2], &mut grads).is_err());
///
/// let y = *net.forward(&[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], &mut tape);
/// assert_eq!(tape.output(), &y);
/// net.backward(&mut tape, &[[1.0; 2]; 2], &mut grads).unwrap();
/// ```
pub struct Tape<A: Architecture, T: Scalar = f32, const B: usize = 1> {
    pub(crate) activations: A::Activations<T, B>,
    pub(crate) scratch: A::Gradients<T, B>,
    pub(crate) filled: bool,
}

impl<A: Architecture, T: Scalar, const B: usize> Tape<A, T, B> {
    /// An empty tape, usable in `const` and `static` items.
    pub const EMPTY: Self = Self {
        activations: zeroed(),
        scratch: zeroed(),
        filled: false,
    };

    /// An empty tape, built by value.
    #[inline]
    pub fn new() -> Self {
        Self::EMPTY
    }

    /// Makes an empty tape in `slot` without passing it through the stack.
    #[inline]
    pub fn new_in(slot: &mut MaybeUninit<Self>) -> &mut Self {
        // All-zero is an empty tape: zeroed buffers and `filled == false`.
        zero_in_place(slot)
    }

    /// An empty tape allocated directly on the heap.
    #[cfg(feature = "std")]
    #[inline]
    pub fn boxed() -> std::boxed::Box<Self> {
        crate::zeroable::boxed_zeroed()
    }

    /// The output of the last forward pass (zeros before the first).
    #[inline]
    pub fn output(&self) -> &[A::Output<T>; B] {
        A::output(&self.activations)
    }

    /// Whether a forward pass has been recorded.
    #[inline]
    pub fn is_filled(&self) -> bool {
        self.filled
    }
}

impl<A: Architecture, T: Scalar, const B: usize> Default for Tape<A, T, B> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every field is `Zeroable` (the architecture's buffers by their
// trait bounds, and `bool`), and all-zero is the empty tape.
unsafe impl<A: Architecture, T: Scalar, const B: usize> crate::Zeroable for Tape<A, T, B> {}
// SAFETY: a network is a `GenericArray` of scalars, `Zeroable` element-wise.
unsafe impl<A: Architecture, T: Scalar> crate::Zeroable for crate::Network<A, T> {}
