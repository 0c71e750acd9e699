//! The static regime: loops over compile-time-sized arrays.
//!
//! With every trip count a constant, LLVM unrolls and vectorises these loops
//! for the exact shape (at the instruction-set level chosen by
//! [`crate::simd`]); they never allocate.
//!
//! Three shapes of loop do the work:
//!
//! - forward: `y = x·W + b` as axpys over the outputs (`y += x[i]·W[i]`),
//!   blocked over [`ROWS`] rows of the batch so each row of `W` is loaded
//!   once per block rather than once per row;
//! - weight gradient: `dW += xᵀ·dy`, the same axpys blocked the same way;
//! - input gradient: `dx = dy·Wᵀ`, dot products over the outputs, summed
//!   in [`LANES`] independent partial sums so they vectorise (one running
//!   sum would be a chain of dependent additions that LLVM must not
//!   reorder).

use crate::Scalar;

/// Rows of the batch processed together.
pub const ROWS: usize = 4;

/// Partial sums of a dot product.
pub const LANES: usize = 16;

/// `y[b] = x[b]·W + bias` with `W` stored `[in][out]`.
#[inline(always)]
pub fn forward<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    bias: Option<&[T; OUT]>,
    y: &mut [[T; OUT]; B],
) {
    let init = match bias {
        Some(b) => *b,
        None => [T::ZERO; OUT],
    };
    let (xs, x_rest) = x.as_chunks::<ROWS>();
    let (ys, y_rest) = y.as_chunks_mut::<ROWS>();
    for (xb, yb) in xs.iter().zip(ys.iter_mut()) {
        forward_block::<T, IN, OUT, ROWS>(xb, w, &init, yb);
    }
    for (xr, yr) in x_rest.iter().zip(y_rest.iter_mut()) {
        forward_block::<T, IN, OUT, 1>(
            core::array::from_ref(xr),
            w,
            &init,
            core::array::from_mut(yr),
        );
    }
}

/// `R` rows at once: every row's outputs accumulate from the same `W[i]`.
#[inline(always)]
fn forward_block<T: Scalar, const IN: usize, const OUT: usize, const R: usize>(
    x: &[[T; IN]; R],
    w: &[[T; OUT]; IN],
    init: &[T; OUT],
    y: &mut [[T; OUT]; R],
) {
    let mut acc = [*init; R];
    for (i, wr) in w.iter().enumerate() {
        for (a, xr) in acc.iter_mut().zip(x.iter()) {
            let xi = xr[i];
            for (av, wv) in a.iter_mut().zip(wr.iter()) {
                *av += xi * *wv;
            }
        }
    }
    *y = acc;
}

/// `db += Σ_b dy[b]`
#[inline(always)]
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
///
/// Rows are added to each `dw[i]` in batch order (one block of [`ROWS`]
/// at a time), so the sums are the same at every instruction-set level.
#[inline(always)]
pub fn weight_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    x: &[[T; IN]; B],
    dy: &[[T; OUT]; B],
    dw: &mut [[T; OUT]; IN],
) {
    let (xs, x_rest) = x.as_chunks::<ROWS>();
    let (gs, g_rest) = dy.as_chunks::<ROWS>();
    for (xb, gb) in xs.iter().zip(gs.iter()) {
        weight_grad_block::<T, IN, OUT, ROWS>(xb, gb, dw);
    }
    for (xr, gr) in x_rest.iter().zip(g_rest.iter()) {
        weight_grad_block::<T, IN, OUT, 1>(
            core::array::from_ref(xr),
            core::array::from_ref(gr),
            dw,
        );
    }
}

#[inline(always)]
fn weight_grad_block<T: Scalar, const IN: usize, const OUT: usize, const R: usize>(
    x: &[[T; IN]; R],
    dy: &[[T; OUT]; R],
    dw: &mut [[T; OUT]; IN],
) {
    for (i, dwr) in dw.iter_mut().enumerate() {
        for (xr, gr) in x.iter().zip(dy.iter()) {
            let xi = xr[i];
            for (d, g) in dwr.iter_mut().zip(gr.iter()) {
                *d += xi * *g;
            }
        }
    }
}

/// `dx = dy·Wᵀ`, i.e. `dx[b][i] = Σ_o dy[b][o]·W[i][o]` (overwrites `dx`).
#[inline(always)]
pub fn input_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dx: &mut [[T; IN]; B],
) {
    for (gr, dxr) in dy.iter().zip(dx.iter_mut()) {
        for (d, wr) in dxr.iter_mut().zip(w.iter()) {
            *d = dot(gr, wr);
        }
    }
}

/// `Σ a[o]·b[o]` in [`LANES`] partial sums, added pairwise at the end.
#[inline(always)]
fn dot<T: Scalar, const N: usize>(a: &[T; N], b: &[T; N]) -> T {
    let mut acc = [T::ZERO; LANES];
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    for (ca, cb) in ac.iter().zip(bc.iter()) {
        for ((s, x), y) in acc.iter_mut().zip(ca).zip(cb) {
            *s += *x * *y;
        }
    }
    for ((s, x), y) in acc.iter_mut().zip(ar).zip(br) {
        *s += *x * *y;
    }
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain triple loops: the definition.
    fn naive_forward<const IN: usize, const OUT: usize, const B: usize>(
        x: &[[f64; IN]; B],
        w: &[[f64; OUT]; IN],
        bias: &[f64; OUT],
    ) -> [[f64; OUT]; B] {
        let mut y = [[0.0; OUT]; B];
        for b in 0..B {
            for o in 0..OUT {
                y[b][o] = bias[o] + (0..IN).map(|i| x[b][i] * w[i][o]).sum::<f64>();
            }
        }
        y
    }

    fn fill<const R: usize, const C: usize>(seed: u64) -> [[f64; C]; R] {
        let mut s = seed;
        core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
        })
    }

    fn close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-13 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// Odd sizes: a partial row block (B = 7), outputs not a multiple of
    /// the vector width, a dot product with a remainder after the lanes.
    #[test]
    fn blocked_kernels_match_the_definition() {
        let x = fill::<7, 19>(1);
        let w = fill::<19, 37>(2);
        let bias = fill::<1, 37>(3)[0];
        let dy = fill::<7, 37>(4);
        let mut y = [[0.0; 37]; 7];
        forward(&x, &w, Some(&bias), &mut y);
        close(
            y.as_flattened(),
            naive_forward(&x, &w, &bias).as_flattened(),
        );

        let mut dw = fill::<19, 37>(5);
        let start = dw;
        weight_grad(&x, &dy, &mut dw);
        for i in 0..19 {
            for o in 0..37 {
                let want = start[i][o] + (0..7).map(|b| x[b][i] * dy[b][o]).sum::<f64>();
                close(&[dw[i][o]], &[want]);
            }
        }

        let mut dx = [[9.0; 19]; 7];
        input_grad(&w, &dy, &mut dx);
        for b in 0..7 {
            for i in 0..19 {
                let want = (0..37).map(|o| dy[b][o] * w[i][o]).sum::<f64>();
                close(&[dx[b][i]], &[want]);
            }
        }
    }
}
