//! The static regime: loops over compile-time-sized arrays.
//!
//! With every trip count a constant, LLVM unrolls and vectorises these loops
//! for the exact shape; they never allocate.

use crate::Scalar;

/// `y[b] = x[b]·W + bias` with `W` stored `[in][out]`.
///
/// Each output row is built as a sum of axpys `y += x[i]·W[i]`, so the whole
/// output row stays in registers for narrow layers.
#[inline]
pub fn forward<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    bias: Option<&[T; OUT]>,
    y: &mut [[T; OUT]; B],
) {
    for (xr, yr) in x.iter().zip(y.iter_mut()) {
        let mut acc = match bias {
            Some(b) => *b,
            None => [T::ZERO; OUT],
        };
        for (xi, wr) in xr.iter().zip(w.iter()) {
            let xi = *xi;
            for (a, wv) in acc.iter_mut().zip(wr.iter()) {
                *a += xi * *wv;
            }
        }
        *yr = acc;
    }
}

/// `db += Σ_b dy[b]`
#[inline]
pub fn bias_grad<T: Scalar, const OUT: usize, const B: usize>(
    dy: &[[T; OUT]; B],
    db: &mut [T; OUT],
) {
    for row in dy {
        for (d, g) in db.iter_mut().zip(row.iter()) {
            *d += *g;
        }
    }
}

/// `dw += xᵀ·dy`, i.e. `dw[i] += Σ_b x[b][i]·dy[b]`.
#[inline]
pub fn weight_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    x: &[[T; IN]; B],
    dy: &[[T; OUT]; B],
    dw: &mut [[T; OUT]; IN],
) {
    for (xr, gr) in x.iter().zip(dy.iter()) {
        for (xi, dwr) in xr.iter().zip(dw.iter_mut()) {
            let xi = *xi;
            for (d, g) in dwr.iter_mut().zip(gr.iter()) {
                *d += xi * *g;
            }
        }
    }
}

/// `dx = dy·Wᵀ`, i.e. `dx[b][i] = Σ_o dy[b][o]·W[i][o]` (overwrites `dx`).
#[inline]
pub fn input_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dx: &mut [[T; IN]; B],
) {
    for (gr, dxr) in dy.iter().zip(dx.iter_mut()) {
        for (d, wr) in dxr.iter_mut().zip(w.iter()) {
            let mut s = T::ZERO;
            for (g, wv) in gr.iter().zip(wr.iter()) {
                s += *g * *wv;
            }
            *d = s;
        }
    }
}
