//! The network's entry points, compiled once per network, scalar and batch
//! size.
//!
//! The generated passes are `#[inline]`, so every call site would get a copy
//! of a whole forward or backward pass, and the tests call them from several
//! places for dozens of networks at eight batch sizes. Calling through these
//! wrappers keeps one copy of each, which keeps the test binaries' build
//! time in check. They only pass their arguments on.

use staticnet::{Architecture, Error, Network, Scalar, Tape};

/// [`Network::forward`].
#[inline(never)]
pub fn forward<'t, A: Architecture, T: Scalar, const B: usize>(
    net: &Network<A, T>,
    input: &[A::Input<T>; B],
    tape: &'t mut Tape<A, T, B>,
) -> &'t [A::Output<T>; B] {
    net.forward(input, tape)
}

/// [`Network::infer`].
#[inline(never)]
pub fn infer<A: Architecture, T: Scalar, const B: usize>(
    net: &Network<A, T>,
    input: &[A::Input<T>; B],
    output: &mut [A::Output<T>; B],
) {
    net.infer(input, output)
}

/// [`Network::predict`].
#[inline(never)]
pub fn predict<A: Architecture, T: Scalar>(
    net: &Network<A, T>,
    input: &A::Input<T>,
) -> A::Output<T> {
    net.predict(input)
}

/// [`Network::backward`].
#[inline(never)]
pub fn backward<A: Architecture, T: Scalar, const B: usize>(
    net: &Network<A, T>,
    tape: &mut Tape<A, T, B>,
    grad_output: &[A::Output<T>; B],
    grads: &mut Network<A, T>,
) -> Result<(), Error> {
    net.backward(tape, grad_output, grads)
}

/// [`Network::backward_overwrite`].
#[inline(never)]
pub fn backward_overwrite<A: Architecture, T: Scalar, const B: usize>(
    net: &Network<A, T>,
    tape: &mut Tape<A, T, B>,
    grad_output: &[A::Output<T>; B],
    grads: &mut Network<A, T>,
) -> Result<(), Error> {
    net.backward_overwrite(tape, grad_output, grads)
}

/// [`Network::backward_with_input_grad`].
#[inline(never)]
pub fn backward_with_input_grad<A: Architecture, T: Scalar, const B: usize>(
    net: &Network<A, T>,
    tape: &mut Tape<A, T, B>,
    grad_output: &[A::Output<T>; B],
    grads: &mut Network<A, T>,
    grad_input: &mut [A::Input<T>; B],
) -> Result<(), Error> {
    net.backward_with_input_grad(tape, grad_output, grads, grad_input)
}
