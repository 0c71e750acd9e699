//! The matrixmultiply regime: `sgemm`/`dgemm` with strides doing every
//! transpose, so nothing is copied.
//!
//! All matrices here are row-major arrays of arrays, whose layout Rust
//! guarantees to be contiguous: `[[T; N]; M]` has element `(r, c)` at offset
//! `r·N + c`. Each call below states the shapes and strides it passes.

use crate::Scalar;

/// `y = x·W + bias` (batch `B`, `W` stored `[in][out]`).
#[inline]
pub fn forward<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    bias: Option<&[T; OUT]>,
    y: &mut [[T; OUT]; B],
) {
    let beta = match bias {
        Some(b) => {
            for row in y.iter_mut() {
                *row = *b;
            }
            T::ONE
        }
        None => T::ZERO,
    };
    // SAFETY: x is B×IN (strides IN, 1), w is IN×OUT (strides OUT, 1), y is
    // B×OUT (strides OUT, 1); each is one contiguous array of exactly that
    // many elements, and y is a unique borrow, so it aliases neither input.
    unsafe {
        T::gemm(
            B,
            IN,
            OUT,
            T::ONE,
            x.as_ptr().cast(),
            IN as isize,
            1,
            w.as_ptr().cast(),
            OUT as isize,
            1,
            beta,
            y.as_mut_ptr().cast(),
            OUT as isize,
            1,
        );
    }
}

/// `dw += xᵀ·dy` when `ACCUMULATE`, else `dw = xᵀ·dy`.
#[inline]
pub fn weight_grad<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const ACCUMULATE: bool,
>(
    x: &[[T; IN]; B],
    dy: &[[T; OUT]; B],
    dw: &mut [[T; OUT]; IN],
) {
    let beta = if ACCUMULATE { T::ONE } else { T::ZERO };
    // SAFETY: xᵀ is IN×B read from x with strides (1, IN): element (i, b) is
    // x[b][i] at offset b·IN + i < B·IN. dy is B×OUT (strides OUT, 1); dw is
    // IN×OUT (strides OUT, 1) and a unique borrow; with β = 0 it is only
    // written.
    unsafe {
        T::gemm(
            IN,
            B,
            OUT,
            T::ONE,
            x.as_ptr().cast(),
            1,
            IN as isize,
            dy.as_ptr().cast(),
            OUT as isize,
            1,
            beta,
            dw.as_mut_ptr().cast(),
            OUT as isize,
            1,
        );
    }
}

/// `dx = dy·Wᵀ` (overwrites `dx`).
#[inline]
pub fn input_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dx: &mut [[T; IN]; B],
) {
    // SAFETY: dy is B×OUT (strides OUT, 1). Wᵀ is OUT×IN read from w with
    // strides (1, OUT): element (o, i) is w[i][o] at offset i·OUT + o <
    // IN·OUT. dx is B×IN (strides IN, 1), a unique borrow, and with β = 0 it
    // is only written.
    unsafe {
        T::gemm(
            B,
            OUT,
            IN,
            T::ONE,
            dy.as_ptr().cast(),
            OUT as isize,
            1,
            w.as_ptr().cast(),
            1,
            OUT as isize,
            T::ZERO,
            dx.as_mut_ptr().cast(),
            IN as isize,
            1,
        );
    }
}
