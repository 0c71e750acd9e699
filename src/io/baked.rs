//! Weights compiled into the program: a network as constant data, ready
//! in a `static` with no loader and no allocator.

use crate::architecture::Architecture;
use crate::{Network, Scalar};
use core::mem::ManuallyDrop;

/// An architecture whose trained weights were compiled in by
/// [`network_with_weights!`](crate::network_with_weights).
///
/// Implemented by the macro for `f32` and `f64`; use it through
/// [`Network::BAKED`].
pub trait BakedWeights<T: Scalar>: Architecture {
    /// The network with the compiled-in weights.
    const NETWORK: Network<Self, T>;
}

impl<A: BakedWeights<T>, T: Scalar> Network<A, T> {
    /// The weights compiled in by
    /// [`network_with_weights!`](crate::network_with_weights), as a
    /// constant: `static NET: W1 = W1::BAKED;` puts a ready network in
    /// read-only memory (flash, on a microcontroller).
    pub const BAKED: Self = A::NETWORK;
}

// A declaration with errors expands to this stand-in; giving it weights
// keeps uses of `Name::BAKED` from adding errors to the real one.
impl<const I: usize, const O: usize, T: Scalar> BakedWeights<T>
    for crate::fallback::Fallback<I, O>
{
    const NETWORK: Network<Self, T> = Network::ZERO;
}

/// Reinterprets an array as a network: both are `PARAMS` scalars back to
/// back.
#[repr(C)]
union ArrayToNetwork<A: Architecture, T: Scalar, const N: usize> {
    array: ManuallyDrop<[T; N]>,
    network: ManuallyDrop<Network<A, T>>,
}

impl<A: Architecture, T: Scalar> Network<A, T> {
    /// The network with these parameters, in storage order (see
    /// [`Architecture::LAYERS`]); usable in `const` and `static` items.
    ///
    /// # Panics
    ///
    /// If `N` is not [`Architecture::PARAMS`]; in a `const` or `static`,
    /// that is a compile error.
    pub const fn from_array<const N: usize>(params: [T; N]) -> Self {
        assert!(
            N == A::PARAMS,
            "Network::from_array: the array's length is not the network's parameter count"
        );
        let cast = ArrayToNetwork::<A, T, N> {
            array: ManuallyDrop::new(params),
        };
        // SAFETY: `Network` is `repr(C)` with one field at offset 0, a
        // `GenericArray<T, A::ParamLen>`, which generic-array documents to
        // have the layout of `[T; A::PARAMS]`; with `N == A::PARAMS` (just
        // asserted) both fields start with the same `N` scalars, and every
        // bit pattern of them is a valid `Network`. What follows them in a
        // `Network` is padding up to its 64-byte alignment, which needs no
        // value. Scalars have no drop glue, so nothing is dropped twice or
        // leaked.
        unsafe { ManuallyDrop::into_inner(cast.network) }
    }
}

/// Declares a network, as [`network!`](crate::network), with trained
/// weights read from a safetensors file at compile time.
///
/// ```
/// staticnet::network_with_weights! {
///     /// W1 as trained in PyTorch by scripts/export_torch.py.
///     #[weights = "../../tests/fixtures/w1.safetensors"]
///     pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
/// }
///
/// // Constant data: in a firmware image this lives in flash.
/// static NET: W1 = W1::BAKED;
///
/// let y = NET.predict(&[0.5, -0.25]);
/// assert!(y[0].is_finite());
/// ```
///
/// - `#[weights = "path"]` names the file, relative to the source file
///   that contains the declaration (as [`include_bytes!`] does). The crate
///   is rebuilt when the file changes.
/// - The file's tensors must be named as `save` in the `safetensors`
///   module names them by default (PyTorch's `nn.Sequential`: `"0.weight"`,
///   `"0.bias"`, `"2.weight"`, …; see that module for residual blocks).
///   `F32`, `F64`, `F16` and `BF16` tensors are read.
/// - A missing tensor, a tensor of the wrong shape or dtype, or a tensor
///   no layer uses is a compile error naming the tensor (at the layer it
///   belongs to, where there is one).
/// - Besides everything [`network!`](crate::network) generates, the
///   architecture implements [`BakedWeights`] for `f32` and `f64`, so
///   `Name::BAKED` is the network with the file's weights (an `f64` file
///   is rounded to nearest for `f32`).
#[macro_export]
macro_rules! network_with_weights {
    ($($declarations:tt)*) => {
        $crate::io::__network_with_weights_impl! { $crate; $($declarations)* }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::network! {
        struct Tiny(2 -> 1) { Dense<2>, Relu, Dense<1, bias = false> }
    }

    const FROM_ARRAY: Tiny = Network::from_array([1.0, 2.0, 3.0, 4.0, 0.5, -0.5, 10.0, 20.0]);

    #[test]
    fn from_array_takes_storage_order() {
        assert_eq!(
            FROM_ARRAY.params(),
            &[1.0, 2.0, 3.0, 4.0, 0.5, -0.5, 10.0, 20.0]
        );
        // weight[out][in] is stored at in * outputs + out.
        assert_eq!(FROM_ARRAY.layers().dense0.weight(1, 0), 2.0);
        assert_eq!(FROM_ARRAY.layers().dense1.weight(0, 1), 20.0);
    }

    #[test]
    #[should_panic(expected = "parameter count")]
    fn from_array_refuses_a_wrong_length() {
        let _ = Tiny::<f32>::from_array([0.0; 7]);
    }
}
