//! The stand-in architecture a declaration with compile errors expands to,
//! so that code using the network type-checks while the real error shows.
//! It is never run: the crate it appears in does not compile.

use crate::architecture::{Architecture, Layer};
use crate::Scalar;

/// A stand-in with the declared widths and no parameters.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Fallback<const I: usize, const O: usize> {}

impl<const I: usize, const O: usize> Architecture for Fallback<I, O> {
    const NAME: &'static str = "<network with errors>";
    const INPUT: usize = I;
    const OUTPUT: usize = O;
    const PARAMS: usize = 0;
    const LAYERS: &'static [Layer] = &[];
    const STATIC_KERNELS: bool = true;

    type ParamLen = typenum::U0;
    type Bf16Len = typenum::U0;
    type Input<T: Scalar> = [T; I];
    type Output<T: Scalar> = [T; O];
    type Activations<T: Scalar, const B: usize> = [[T; O]; B];
    type Gradients<T: Scalar, const B: usize> = ();
    type Layers<'a, T: Scalar> = ();
    type LayersMut<'a, T: Scalar> = ();

    fn forward<'t, T: Scalar, const B: usize, const FMA: bool>(
        _params: &[T],
        _input: &[[T; I]; B],
        acts: &'t mut [[T; O]; B],
    ) -> &'t [[T; O]; B] {
        acts
    }

    fn output<T: Scalar, const B: usize>(acts: &[[T; O]; B]) -> &[[T; O]; B] {
        acts
    }

    fn backward<T: Scalar, const B: usize, const ACCUMULATE: bool, const FMA: bool>(
        _params: &[T],
        _acts: &[[T; O]; B],
        _scratch: &mut (),
        _grad_output: &[[T; O]; B],
        _grads: &mut [T],
        _grad_input: Option<&mut [[T; I]; B]>,
    ) {
    }

    fn infer<T: Scalar, const B: usize, const FMA: bool>(
        _params: &[T],
        _input: &[[T; I]; B],
        _output: &mut [[T; O]; B],
    ) {
    }

    fn infer_bf16<const B: usize, const FMA: bool>(
        _packed: &[u32],
        _input: &[[f32; I]; B],
        _output: &mut [[f32; O]; B],
    ) {
    }

    fn layers<T: Scalar>(_params: &[T]) {}

    fn layers_mut<T: Scalar>(_params: &mut [T]) {}
}
