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
//!
//! At batch 1 the last two run interleaved where a vector kernel can
//! ([`weight_and_input_grad`]).
//!
//! Where the results go is a parameter ([`RowSink`] for the forward rows,
//! [`GradSink`] for the input gradient), so the activation next to a layer
//! is applied in the same pass.

use crate::activation::{Activation, Identity};
use crate::Scalar;

/// Rows of the batch processed together: two rows of a 128-wide layer
/// keep 16 vectors of sums in registers; four (32 vectors) spilled and ran
/// the W3 workload 1.7 times slower.
pub const ROWS: usize = 2;

/// Partial sums of a dot product.
pub const LANES: usize = 16;

/// `y[b] = x[b]·W + bias` with `W` stored `[in][out]`.
///
/// Each row's outputs are summed in [`partial_sums`] independent sums over
/// the inputs (input `i` goes to sum `i mod K`, and sum 0 starts from the
/// bias), which are then added pairwise. With few outputs one running sum
/// per output would be a chain of dependent additions, one per input;
/// split, the chains run side by side. Rows are computed [`ROWS`] at a
/// time so each row of `W` is loaded once per block. How a row is summed
/// depends only on the layer's shape, never on the batch or the row's
/// place in it.
#[inline(always)]
pub fn forward<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    bias: Option<&[T; OUT]>,
    y: &mut [[T; OUT]; B],
) {
    forward_into::<T, IN, OUT, B, false>(x, w, bias, Activated { f: Identity, y });
}

/// Where the forward pass puts each row of a dense layer's result
/// `v = x·W + b`, while the row is still in registers: the bias and the
/// activation that follows the layer are applied in the same pass as the
/// product, not in passes of their own over the batch.
pub trait RowSink<T: Scalar, const OUT: usize, const B: usize> {
    /// Row `row` of the batch has the value `v`.
    fn put(&mut self, row: usize, v: &[T; OUT]);
    /// Where a kernel that writes the whole product at once (matrixmultiply)
    /// puts it.
    fn batch(&mut self) -> &mut [[T; OUT]; B];
    /// The whole product is in [`RowSink::batch`]: applies what follows it.
    fn finish_batch(&mut self);
}

/// `y = f(v)`: a layer feeding an activation at inference, or a plain layer
/// (`f` the [`Identity`]).
pub struct Activated<'a, F, T, const OUT: usize, const B: usize> {
    /// The activation.
    pub f: F,
    /// Where the activated rows go.
    pub y: &'a mut [[T; OUT]; B],
}

impl<F: Activation<T>, T: Scalar, const OUT: usize, const B: usize> RowSink<T, OUT, B>
    for Activated<'_, F, T, OUT, B>
{
    #[inline(always)]
    fn put(&mut self, row: usize, v: &[T; OUT]) {
        for (y, v) in self.y[row].iter_mut().zip(v.iter()) {
            *y = self.f.apply(*v);
        }
    }
    #[inline(always)]
    fn batch(&mut self) -> &mut [[T; OUT]; B] {
        self.y
    }
    #[inline(always)]
    fn finish_batch(&mut self) {
        crate::activation::forward_in_place(self.f, self.y);
    }
}

/// `pre = v` and `post = f(v)`: the forward pass of training, which keeps
/// both for the derivative.
pub struct Recorded<'a, F, T, const OUT: usize, const B: usize> {
    /// The activation.
    pub f: F,
    /// The layer's output, the activation's input.
    pub pre: &'a mut [[T; OUT]; B],
    /// The activation's output.
    pub post: &'a mut [[T; OUT]; B],
}

impl<F: Activation<T>, T: Scalar, const OUT: usize, const B: usize> RowSink<T, OUT, B>
    for Recorded<'_, F, T, OUT, B>
{
    #[inline(always)]
    fn put(&mut self, row: usize, v: &[T; OUT]) {
        self.pre[row] = *v;
        for (y, v) in self.post[row].iter_mut().zip(v.iter()) {
            *y = self.f.apply(*v);
        }
    }
    #[inline(always)]
    fn batch(&mut self) -> &mut [[T; OUT]; B] {
        self.pre
    }
    #[inline(always)]
    fn finish_batch(&mut self) {
        crate::activation::forward(self.f, self.pre, self.post);
    }
}

/// [`forward`], handing each row to `out` (see [`RowSink`]); with `FMA`,
/// every product is added to its sum by a fused multiply-add (the same
/// order of sums, one rounding fewer per product).
#[inline(always)]
pub fn forward_into<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const FMA: bool,
>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    bias: Option<&[T; OUT]>,
    mut out: impl RowSink<T, OUT, B>,
) {
    let init = match bias {
        Some(b) => *b,
        None => [T::ZERO; OUT],
    };
    let (xs, x_rest) = x.as_chunks::<ROWS>();
    for (n, xb) in xs.iter().enumerate() {
        forward_block::<T, IN, OUT, ROWS, B, FMA>(xb, w, &init, n * ROWS, &mut out);
    }
    for (n, xr) in x_rest.iter().enumerate() {
        let row = xs.len() * ROWS + n;
        let xr = core::array::from_ref(xr);
        forward_block::<T, IN, OUT, 1, B, FMA>(xr, w, &init, row, &mut out);
    }
}

/// Partial sums of a narrow layer's rows (see [`partial_sums`]).
pub const NARROW_PARTIAL_SUMS: usize = 4;

/// How many independent sums each output of a row is split into:
/// [`NARROW_PARTIAL_SUMS`] when a row's outputs fit in two 64-byte vectors
/// (32 `f32`, 16 `f64`) and there are that many inputs, so that eight
/// vectors of sums are in flight (an addition's latency times the additions
/// issued per cycle); one for wider layers, whose outputs already make that
/// many.
pub const fn partial_sums<T>(inputs: usize, outputs: usize) -> usize {
    if outputs * core::mem::size_of::<T>() <= 128 && inputs >= NARROW_PARTIAL_SUMS {
        NARROW_PARTIAL_SUMS
    } else {
        1
    }
}

/// `R` rows at once, every row's outputs summed in [`partial_sums`]
/// partial sums (input `i` into sum `i mod K`, sum 0 starting from the
/// bias), which are then added pairwise.
///
/// The number of sums is a constant of the shape, not a type parameter:
/// one instantiation serves both classes of layer (every instantiation is
/// compiled for every layer, batch size and instruction set of every
/// network), and loops bounded by it kept LLVM vectorising over the
/// outputs, where arrays sized by it made it gather across the sums.
#[inline(always)]
fn forward_block<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const B: usize,
    const FMA: bool,
>(
    x: &[[T; IN]; R],
    w: &[[T; OUT]; IN],
    init: &[T; OUT],
    first_row: usize,
    out: &mut impl RowSink<T, OUT, B>,
) {
    let k = partial_sums::<T>(IN, OUT);
    // Sum `p` of row `r` is `acc[r][p]`; only the first `k` are used.
    // Sum 0 starts from the bias, which costs no step on the chain a
    // batch-1 network waits on (adding it at the end was one more).
    let mut acc = [[[T::ZERO; OUT]; NARROW_PARTIAL_SUMS]; R];
    for a in acc.iter_mut() {
        a[0] = *init;
    }
    let mut i = 0;
    let stream = IN * OUT * core::mem::size_of::<T>() > PREFETCH_ABOVE_BYTES;
    while i + k <= IN {
        if stream {
            prefetch_row(w, i + PREFETCH_ROWS_AHEAD);
        }
        for (a, xr) in acc.iter_mut().zip(x.iter()) {
            for (p, ap) in a.iter_mut().take(k).enumerate() {
                let xi = xr[i + p];
                for (av, wv) in ap.iter_mut().zip(w[i + p].iter()) {
                    *av = xi.mul_add_if::<FMA>(*wv, *av);
                }
            }
        }
        i += k;
    }
    for (a, xr) in acc.iter_mut().zip(x.iter()) {
        for (p, ap) in a.iter_mut().take(IN - i).enumerate() {
            let xi = xr[i + p];
            for (av, wv) in ap.iter_mut().zip(w[i + p].iter()) {
                *av = xi.mul_add_if::<FMA>(*wv, *av);
            }
        }
    }
    for (r, a) in acc.iter_mut().enumerate() {
        let mut width = k / 2;
        while width > 0 {
            for p in 0..width {
                let (lo, hi) = a.split_at_mut(width);
                for (l, h) in lo[p].iter_mut().zip(hi[p].iter()) {
                    *l += *h;
                }
            }
            width /= 2;
        }
        // A copy: a reference into `acc` would keep it in memory.
        let v = a[0];
        out.put(first_row + r, &v);
    }
}

/// Weight matrices larger than this are streamed from the second-level
/// cache (they do not fit in the first), and their rows are prefetched.
const PREFETCH_ABOVE_BYTES: usize = 64 * 1024;

/// How many rows of `W` ahead of the one being summed are prefetched.
/// Measured on W2 (784×128 `f32` weights at batch 1, 401 KB from the
/// second-level cache): 4.06 µs without prefetching; 3.85-3.91 µs with 2
/// to 12 rows ahead; 4.29 µs with 24 and 6.15 µs with 40, where prefetched
/// lines are evicted before they are used.
const PREFETCH_ROWS_AHEAD: usize = 8;

/// Asks for row `row` of `w` to be brought into the first-level cache.
/// Past the last row it asks for whatever follows the matrix, which is
/// harmless: a prefetch has no effect beyond the cache.
#[inline(always)]
pub(crate) fn prefetch_row<T, const OUT: usize, const IN: usize>(w: &[[T; OUT]; IN], row: usize) {
    prefetch_span(w, row, 0, OUT);
}

/// Asks for elements `first .. first + len` of row `row` of `w` to be
/// brought into the first-level cache (a tile of a row; see
/// [`prefetch_row`] for rows past the end).
#[inline(always)]
pub(crate) fn prefetch_span<T, const OUT: usize, const IN: usize>(
    w: &[[T; OUT]; IN],
    row: usize,
    first: usize,
    len: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = w
            .as_ptr()
            .wrapping_add(row)
            .cast::<T>()
            .wrapping_add(first)
            .cast::<i8>();
        let mut offset = 0;
        while offset < len * core::mem::size_of::<T>() {
            // SAFETY: a prefetch never faults and never changes memory,
            // whatever the address (`wrapping_add` keeps computing it
            // defined past the end of the matrix).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (w, row, first, len);
}

/// `db += Σ_b dy[b]` when `ACCUMULATE`, else `db = Σ_b dy[b]`.
#[inline(always)]
pub fn bias_grad<T: Scalar, const OUT: usize, const B: usize, const ACCUMULATE: bool>(
    dy: &[[T; OUT]; B],
    db: &mut [T; OUT],
) {
    let (first, rest) = match dy.split_first() {
        Some(split) => split,
        None => {
            if !ACCUMULATE {
                *db = [T::ZERO; OUT];
            }
            return;
        }
    };
    for (d, g) in db.iter_mut().zip(first.iter()) {
        *d = if ACCUMULATE { *d + *g } else { *g };
    }
    for row in rest {
        for (d, g) in db.iter_mut().zip(row.iter()) {
            *d += *g;
        }
    }
}

/// `dw += xᵀ·dy`, i.e. `dw[i] += Σ_b x[b][i]·dy[b]` when `ACCUMULATE`;
/// else `dw = xᵀ·dy`, without reading `dw`. With `FMA`, each product is
/// added by a fused multiply-add (a first row that overwrites is still a
/// plain product).
///
/// Rows are added to each `dw[i]` in batch order (one block of [`ROWS`]
/// at a time), so the sums are the same at every instruction-set level.
/// Overwriting starts each sum from the first row's product, which equals
/// adding it to zero.
#[inline(always)]
pub fn weight_grad<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const ACCUMULATE: bool,
    const FMA: bool,
>(
    x: &[[T; IN]; B],
    dy: &[[T; OUT]; B],
    dw: &mut [[T; OUT]; IN],
) {
    if B == 0 {
        if !ACCUMULATE {
            *dw = [[T::ZERO; OUT]; IN];
        }
        return;
    }
    let (xs, x_rest) = x.as_chunks::<ROWS>();
    let (gs, g_rest) = dy.as_chunks::<ROWS>();
    let mut overwrite = !ACCUMULATE;
    for (xb, gb) in xs.iter().zip(gs.iter()) {
        weight_grad_block::<T, IN, OUT, ROWS, FMA>(xb, gb, dw, overwrite);
        overwrite = false;
    }
    for (xr, gr) in x_rest.iter().zip(g_rest.iter()) {
        let (xr, gr) = (core::array::from_ref(xr), core::array::from_ref(gr));
        weight_grad_block::<T, IN, OUT, 1, FMA>(xr, gr, dw, overwrite);
        overwrite = false;
    }
}

/// `R` rows of `dw += xᵀ·dy`; with `overwrite`, the first row's products
/// replace `dw` instead. (A flag rather than a const parameter: each
/// instantiation is compiled for every layer of every network.)
#[inline(always)]
fn weight_grad_block<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const FMA: bool,
>(
    x: &[[T; IN]; R],
    dy: &[[T; OUT]; R],
    dw: &mut [[T; OUT]; IN],
    overwrite: bool,
) {
    for (i, dwr) in dw.iter_mut().enumerate() {
        for (r, (xr, gr)) in x.iter().zip(dy.iter()).enumerate() {
            weight_grad_row::<T, OUT, FMA>(xr[i], gr, dwr, overwrite && r == 0);
        }
        one_row_at_a_time();
    }
}

/// One batch row's share of one row of the weight gradient:
/// `dw = xi·dy` when `overwrite`, else `dw += xi·dy` (fused with `FMA`).
#[inline(always)]
fn weight_grad_row<T: Scalar, const OUT: usize, const FMA: bool>(
    xi: T,
    dy: &[T; OUT],
    dw: &mut [T; OUT],
    overwrite: bool,
) {
    if overwrite {
        for (d, g) in dw.iter_mut().zip(dy.iter()) {
            *d = xi * *g;
        }
    } else {
        for (d, g) in dw.iter_mut().zip(dy.iter()) {
            *d = xi.mul_add_if::<FMA>(*g, *d);
        }
    }
}

/// [`weight_grad`] followed by [`input_grad_into`], with the same results;
/// at batch 1, where an AVX2 or AVX-512 kernel can, the two run
/// interleaved row by row of `W`, so that the weight gradient's stores
/// drain while the input gradient is summed (in a loop of their own they
/// held the sums up behind them).
#[inline(always)]
pub fn weight_and_input_grad<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const ACCUMULATE: bool,
    const FMA: bool,
>(
    x: &[[T; IN]; B],
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dw: &mut [[T; OUT]; IN],
    mut out: impl GradSink<T, IN, B>,
) {
    let wide = WideInputGrad::for_scalar::<T>();
    if let (1, true, Some(x), Some(gr)) = (B, wide.interleaves(), x.first(), dy.first()) {
        let dx = out.row(0);
        let done = wide.rows_with_weight_grad::<T, IN, OUT, ACCUMULATE, FMA>(w, gr, x, dw, dx);
        let (dx, w) = (rest_mut(dx, done), rest(w, done));
        let (dw, x) = (rest_mut(dw, done), rest(x, done));
        for ((d, wr), (dwr, xi)) in dx.iter_mut().zip(w).zip(dw.iter_mut().zip(x)) {
            weight_grad_row::<T, OUT, FMA>(*xi, gr, dwr, !ACCUMULATE);
            *d = dot::<T, OUT, FMA>(gr, wr);
            one_row_at_a_time();
        }
        out.finish(0);
        return;
    }
    weight_grad::<T, IN, OUT, B, ACCUMULATE, FMA>(x, dy, dw);
    input_grad_into::<T, IN, OUT, B, FMA>(w, dy, out);
}

/// `dx = dy·Wᵀ`, i.e. `dx[b][i] = Σ_o dy[b][o]·W[i][o]` (overwrites `dx`).
#[inline(always)]
pub fn input_grad<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dx: &mut [[T; IN]; B],
) {
    input_grad_into::<T, IN, OUT, B, false>(w, dy, Plain(dx));
}

/// Where the input gradient goes: each row is summed into
/// [`GradSink::row`], then [`GradSink::finish`] is called on it while it is
/// still in the first-level cache.
pub trait GradSink<T: Scalar, const IN: usize, const B: usize> {
    /// The row of the batch the gradient of row `row` is summed into.
    fn row(&mut self, row: usize) -> &mut [T; IN];
    /// Row `row` is complete.
    fn finish(&mut self, row: usize);
    /// Where a kernel that writes the whole gradient at once
    /// (matrixmultiply) puts it.
    fn batch(&mut self) -> &mut [[T; IN]; B];
    /// The whole gradient is in [`GradSink::batch`]: applies what follows.
    fn finish_batch(&mut self);
}

/// `dx = g`: the gradient of the layer's input as it is.
pub struct Plain<'a, T, const IN: usize, const B: usize>(pub &'a mut [[T; IN]; B]);

impl<T: Scalar, const IN: usize, const B: usize> GradSink<T, IN, B> for Plain<'_, T, IN, B> {
    #[inline(always)]
    fn row(&mut self, row: usize) -> &mut [T; IN] {
        &mut self.0[row]
    }
    #[inline(always)]
    fn finish(&mut self, _row: usize) {}
    #[inline(always)]
    fn batch(&mut self) -> &mut [[T; IN]; B] {
        self.0
    }
    #[inline(always)]
    fn finish_batch(&mut self) {}
}

/// `dx = g ⊙ f'(pre, post)`: the layer's input is the output
/// `post = f(pre)` of an activation, and the gradient is carried through
/// it row by row as the rows are completed, instead of in a pass of its own
/// over the batch. (Multiplying each sum as it is produced measured slower
/// at batch 1: one scalar derivative per sum instead of vectors over a row.)
pub struct ThroughActivation<'a, F, T, const IN: usize, const B: usize> {
    /// The activation.
    pub f: F,
    /// The activation's input.
    pub pre: &'a [[T; IN]; B],
    /// The activation's output (this layer's input).
    pub post: &'a [[T; IN]; B],
    /// The gradient with respect to `pre`.
    pub dx: &'a mut [[T; IN]; B],
}

impl<F: Activation<T>, T: Scalar, const IN: usize, const B: usize> GradSink<T, IN, B>
    for ThroughActivation<'_, F, T, IN, B>
{
    #[inline(always)]
    fn batch(&mut self) -> &mut [[T; IN]; B] {
        self.dx
    }
    #[inline(always)]
    fn finish_batch(&mut self) {
        crate::activation::backward_in_place(self.f, self.pre, self.post, self.dx);
    }
    #[inline(always)]
    fn row(&mut self, row: usize) -> &mut [T; IN] {
        &mut self.dx[row]
    }
    #[inline(always)]
    fn finish(&mut self, row: usize) {
        let (pre, post) = (&self.pre[row], &self.post[row]);
        for ((g, x), y) in self.dx[row].iter_mut().zip(pre.iter()).zip(post.iter()) {
            *g *= self.f.derivative(*x, *y);
        }
    }
}

/// [`input_grad`], handing the rows to `out` (see [`GradSink`]); with
/// `FMA`, each product is added to its partial sum by a fused multiply-add
/// (the same sums in the same order, one rounding fewer per product).
#[inline(always)]
pub fn input_grad_into<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const FMA: bool,
>(
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    mut out: impl GradSink<T, IN, B>,
) {
    let wide = WideInputGrad::for_scalar::<T>();
    for (row, gr) in dy.iter().enumerate() {
        let dx = out.row(row);
        let done = wide.rows::<T, IN, OUT, FMA>(w, gr, dx);
        for (d, wr) in rest_mut(dx, done).iter_mut().zip(rest(w, done)) {
            *d = dot::<T, OUT, FMA>(gr, wr);
            one_row_at_a_time();
        }
        out.finish(row);
    }
}

/// The input gradient by [`dot`] alone, never by the vector kernels (which
/// are tested against it).
#[cfg(test)]
pub(crate) fn portable_input_grad<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const B: usize,
    const FMA: bool,
>(
    w: &[[T; OUT]; IN],
    dy: &[[T; OUT]; B],
    dx: &mut [[T; IN]; B],
) {
    for (gr, dxr) in dy.iter().zip(dx.iter_mut()) {
        for (d, wr) in dxr.iter_mut().zip(w.iter()) {
            *d = dot::<T, OUT, FMA>(gr, wr);
        }
    }
}

/// Which hand-written kernel sums the input gradient's first rows, if any
/// (see [`super::x86`]).
#[derive(Clone, Copy)]
enum WideInputGrad {
    /// [`dot`] alone.
    None,
    /// Sixteen rows at a time in 512-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// Eight rows at a time in 256-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl WideInputGrad {
    /// The kernel for `T` on this CPU: for `f32`, the widest whose
    /// instructions the library uses (detected with `std`, or compiled in
    /// without it). Both kernels can fuse their multiply-adds: AVX-512F
    /// has the instruction, and the AVX2 kernel is chosen only with FMA
    /// beside it (as [`Level::Avx2`](crate::simd::Level::Avx2) means).
    #[inline(always)]
    fn for_scalar<T: Scalar>() -> Self {
        #[cfg(target_arch = "x86_64")]
        if T::as_f32s(&[]).is_some() {
            use crate::simd::{level, Level};
            if cfg!(target_feature = "avx512f") || level() == Level::Avx512 {
                return Self::Avx512;
            }
            if cfg!(all(target_feature = "avx2", target_feature = "fma")) || level() == Level::Avx2
            {
                return Self::Avx2;
            }
        }
        Self::None
    }

    /// Whether [`WideInputGrad::rows_with_weight_grad`] writes any rows.
    #[inline(always)]
    fn interleaves(self) -> bool {
        !matches!(self, Self::None)
    }

    /// [`WideInputGrad::rows`], also writing the same rows of the weight
    /// gradient at batch 1 (`x` is the layer's one input row); returns
    /// how many rows it wrote of each.
    #[inline(always)]
    fn rows_with_weight_grad<
        T: Scalar,
        const IN: usize,
        const OUT: usize,
        const ACCUMULATE: bool,
        const FMA: bool,
    >(
        self,
        w: &[[T; OUT]; IN],
        dy: &[T; OUT],
        x: &[T; IN],
        dw: &mut [[T; OUT]; IN],
        dx: &mut [T; IN],
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        if let (Some(w), Some(dy), Some(x), Some(dw), Some(dx)) = (
            T::as_f32s(w.as_flattened()),
            T::as_f32s(dy).and_then(|d| d.first_chunk::<OUT>()),
            T::as_f32s(x),
            T::as_f32s_mut(dw.as_flattened_mut()),
            T::as_f32s_mut(dx),
        ) {
            let (w, dw) = (w.as_chunks::<OUT>().0, dw.as_chunks_mut::<OUT>().0);
            use super::x86::{avx2, avx512};
            match self {
                // SAFETY: as in `rows`: `for_scalar` chose AVX-512 only
                // where the crate is compiled with AVX-512F or the CPU
                // reported it.
                Self::Avx512 => unsafe {
                    return avx512::weight_and_input_grad_rows::<OUT, ACCUMULATE, FMA>(
                        w, dy, x, dw, dx,
                    );
                },
                // SAFETY: as in `rows`: AVX2 only with FMA, compiled in or
                // reported by the CPU.
                Self::Avx2 => unsafe {
                    return avx2::weight_and_input_grad_rows::<OUT, ACCUMULATE, FMA>(
                        w, dy, x, dw, dx,
                    );
                },
                Self::None => {}
            }
        }
        let _ = (self, w, dy, x, dw, dx);
        0
    }

    /// Writes the first rows of one row's input gradient, in whole groups
    /// of the kernel's width; returns how many.
    #[inline(always)]
    fn rows<T: Scalar, const IN: usize, const OUT: usize, const FMA: bool>(
        self,
        w: &[[T; OUT]; IN],
        dy: &[T; OUT],
        dx: &mut [T; IN],
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        if let (Some(w), Some(dy), Some(dx)) = (
            T::as_f32s(w.as_flattened()),
            T::as_f32s(dy).and_then(|d| d.first_chunk::<OUT>()),
            T::as_f32s_mut(dx),
        ) {
            let w = w.as_chunks::<OUT>().0;
            match self {
                Self::Avx512 => {
                    // SAFETY: `for_scalar` chose AVX-512: the crate is
                    // compiled with AVX-512F, or `simd::level()` reported
                    // AVX-512, which it does only on a CPU with AVX-512F
                    // (whose instructions include the fused multiply-add).
                    return unsafe { super::x86::avx512::input_grad_rows::<OUT, FMA>(w, dy, dx) };
                }
                Self::Avx2 => {
                    // SAFETY: `for_scalar` chose AVX2: the crate is compiled
                    // with AVX2 and FMA, or `simd::level()` reported AVX2,
                    // which it does only on a CPU with both.
                    return unsafe { super::x86::avx2::input_grad_rows::<OUT, FMA>(w, dy, dx) };
                }
                Self::None => {}
            }
        }
        let _ = (self, w, dy, dx);
        0
    }
}

/// `v[done..]` (empty past the end). Not `iter().skip(done)`: LLVM called
/// `Zip::nth` out of line for that, once per row of the batch.
#[inline(always)]
fn rest<T>(v: &[T], done: usize) -> &[T] {
    v.get(done..).unwrap_or_default()
}

/// `v[done..]` (empty past the end), as [`rest`].
#[inline(always)]
fn rest_mut<T>(v: &mut [T], done: usize) -> &mut [T] {
    v.get_mut(done..).unwrap_or_default()
}

/// Keeps LLVM from vectorising the enclosing loop across rows.
///
/// Compiled for AVX2 or AVX-512, LLVM's generic cost model rates gathers and
/// scatters as cheap and vectorises a loop over the rows of `W` (each row a
/// short, fully unrolled loop over the outputs) across rows, with one
/// gather or scatter per weight: that made the backward pass of a
/// 8-32-32-4 network 3.5 times slower than the same code compiled for SSE2.
/// A compiler fence is not an instruction, but no loop containing one is
/// vectorised, so each row stays one run of vector operations over the
/// outputs.
#[inline(always)]
fn one_row_at_a_time() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// `Σ a[o]·b[o]` in [`LANES`] partial sums, added pairwise at the end;
/// with `FMA`, each product is added to its partial sum by a fused
/// multiply-add.
#[inline(always)]
fn dot<T: Scalar, const N: usize, const FMA: bool>(a: &[T; N], b: &[T; N]) -> T {
    let mut acc = [T::ZERO; LANES];
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    for (ca, cb) in ac.iter().zip(bc.iter()) {
        for ((s, x), y) in acc.iter_mut().zip(ca).zip(cb) {
            *s = x.mul_add_if::<FMA>(*y, *s);
        }
    }
    for ((s, x), y) in acc.iter_mut().zip(ar).zip(br) {
        *s = x.mul_add_if::<FMA>(*y, *s);
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
    /// Each row through `forward` alone.
    fn row_by_row<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
        x: &[[T; IN]; B],
        w: &[[T; OUT]; IN],
        bias: &[T; OUT],
    ) -> [[T; OUT]; B] {
        core::array::from_fn(|b| {
            let mut y = [[T::ZERO; OUT]; 1];
            forward(core::array::from_ref(&x[b]), w, Some(bias), &mut y);
            y[0]
        })
    }

    fn to_f32<const R: usize, const C: usize>(a: &[[f64; C]; R]) -> [[f32; C]; R] {
        a.map(|r| r.map(|v| v as f32))
    }

    /// Every way a row can be computed (partial sums, row blocks, tiles of
    /// rows and outputs, the remainders of each) gives the row the same
    /// value, whatever the batch: how a row is summed depends on the shape
    /// alone. Each shape below takes another path.
    #[test]
    fn a_row_gets_the_same_bits_in_any_batch() {
        fn check<const IN: usize, const OUT: usize, const B: usize>(seed: u64) {
            let x = fill::<B, IN>(seed);
            let w = fill::<IN, OUT>(seed + 1);
            let bias = fill::<1, OUT>(seed + 2)[0];
            let mut y = [[0.0; OUT]; B];
            forward(&x, &w, Some(&bias), &mut y);
            assert_eq!(y, row_by_row(&x, &w, &bias), "f64 {IN}->{OUT} batch {B}");
            close(
                y.as_flattened(),
                naive_forward(&x, &w, &bias).as_flattened(),
            );

            let (x, w, bias) = (to_f32(&x), to_f32(&w), to_f32(&[bias])[0]);
            let mut y = [[0.0f32; OUT]; B];
            forward(&x, &w, Some(&bias), &mut y);
            assert_eq!(y, row_by_row(&x, &w, &bias), "f32 {IN}->{OUT} batch {B}");
        }
        // Few outputs: 4 partial sums, inputs left over after the groups
        // of 4, blocks of 2 rows and a remaining row.
        check::<19, 5, 7>(10);
        // Fewer inputs than partial sums: one running sum.
        check::<2, 16, 3>(15);
        // 4 partial sums in f32, one in f64.
        check::<13, 32, 5>(20);
        // Wide: one running sum per output.
        check::<11, 133, 9>(30);
        check::<7, 256, 16>(40);
        // Weights past the prefetching threshold in both scalars (77 KB
        // in f32), prefetching past the matrix's end on the last rows.
        const { assert!(300 * 64 * 4 > PREFETCH_ABOVE_BYTES) };
        check::<300, 64, 3>(50);
    }

    #[test]
    fn partial_sums_follow_the_width() {
        assert_eq!(partial_sums::<f32>(16, 16), 4);
        assert_eq!(partial_sums::<f32>(8, 32), 4);
        assert_eq!(partial_sums::<f32>(8, 33), 1);
        assert_eq!(partial_sums::<f32>(3, 16), 1);
        assert_eq!(partial_sums::<f64>(16, 16), 4);
        assert_eq!(partial_sums::<f64>(16, 17), 1);
        assert_eq!(partial_sums::<f32>(784, 128), 1);
    }

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
        weight_grad::<_, 19, 37, 7, true, false>(&x, &dy, &mut dw);
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

    /// The fused passes compute exactly what the separate ones do: the
    /// layer, then the activation over its output; the input gradient, then
    /// the activation's derivative over it. Bit for bit, in both scalars,
    /// for an activation using the input (ELU) and one using the output
    /// (tanh), with row blocks and a remaining row.
    #[test]
    fn fused_passes_match_the_separate_ones_bit_for_bit() {
        use crate::activation::{self, Elu, Tanh};

        fn check<T: Scalar, F: Activation<T>, const IN: usize, const OUT: usize, const B: usize>(
            f: F,
            x: &[[T; IN]; B],
            w: &[[T; OUT]; IN],
            bias: &[T; OUT],
            w2: &[[T; IN]; OUT],
            dy: &[[T; IN]; B],
            name: &str,
        ) {
            let nan = T::from_f64(f64::NAN);
            // Separate: y = x·W + b, then f(y).
            let mut pre = [[T::ZERO; OUT]; B];
            forward(x, w, Some(bias), &mut pre);
            let mut post = [[T::ZERO; OUT]; B];
            activation::forward(f, &pre, &mut post);

            let (mut fused_pre, mut fused_post) = ([[nan; OUT]; B], [[nan; OUT]; B]);
            forward_into::<T, IN, OUT, B, false>(
                x,
                w,
                Some(bias),
                Recorded {
                    f,
                    pre: &mut fused_pre,
                    post: &mut fused_post,
                },
            );
            assert!(fused_pre == pre && fused_post == post, "{name}: recorded");
            let mut inferred = [[nan; OUT]; B];
            forward_into::<T, IN, OUT, B, false>(
                x,
                w,
                Some(bias),
                Activated {
                    f,
                    y: &mut inferred,
                },
            );
            assert!(inferred == post, "{name}: inference");

            // A layer `OUT -> IN` above reads `post`; its input gradient
            // is carried back through f.
            let mut separate = [[T::ZERO; OUT]; B];
            input_grad(w2, dy, &mut separate);
            activation::backward_in_place(f, &pre, &post, &mut separate);
            let mut fused = [[nan; OUT]; B];
            input_grad_into::<_, _, _, _, false>(
                w2,
                dy,
                ThroughActivation {
                    f,
                    pre: &pre,
                    post: &post,
                    dx: &mut fused,
                },
            );
            assert!(fused == separate, "{name}: input gradient through f");
            // The derivative was applied: without it the gradient differs.
            let mut plain = [[T::ZERO; OUT]; B];
            input_grad(w2, dy, &mut plain);
            assert!(plain != separate, "{name}: derivative not applied");
        }

        let x = fill::<5, 13>(50);
        let w = fill::<13, 24>(51);
        let bias = fill::<1, 24>(52)[0];
        let w2 = fill::<24, 13>(53);
        let dy = fill::<5, 13>(54);
        check(Tanh, &x, &w, &bias, &w2, &dy, "f64 tanh");
        check(Elu { alpha: 1.5 }, &x, &w, &bias, &w2, &dy, "f64 elu");
        let (x, w, bias) = (to_f32(&x), to_f32(&w), to_f32(&[bias])[0]);
        let (w2, dy) = (to_f32(&w2), to_f32(&dy));
        check(Tanh, &x, &w, &bias, &w2, &dy, "f32 tanh");
        check(Elu { alpha: 1.5f32 }, &x, &w, &bias, &w2, &dy, "f32 elu");
    }

    /// The partial sums added pairwise, as the kernels do (`s[l] +
    /// s[l + n/2]`, then `+ n/4`, ...): their total.
    fn halved_pairwise<T: Scalar>(sums: &mut [T]) -> T {
        let mut width = sums.len() / 2;
        while width > 0 {
            for l in 0..width {
                sums[l] += sums[l + width];
            }
            width /= 2;
        }
        sums[0]
    }

    /// `forward_into` with `FMA`: the documented order of sums (input `i`
    /// into partial sum `i mod K`, sum 0 starting from the bias, the sums
    /// added pairwise), each product added by one fused multiply-add. A
    /// reference written from that description must match bit for bit, in
    /// both scalars, and must differ from rounding each product first.
    #[test]
    fn fused_multiply_adds_keep_the_order_and_round_once() {
        fn reference<T: Scalar, const IN: usize, const OUT: usize>(
            x: &[T; IN],
            w: &[[T; OUT]; IN],
            bias: &[T; OUT],
        ) -> [T; OUT] {
            let k = partial_sums::<T>(IN, OUT);
            core::array::from_fn(|o| {
                let mut sums = [T::ZERO; NARROW_PARTIAL_SUMS];
                sums[0] = bias[o];
                for i in 0..IN {
                    sums[i % k] = x[i].mul_add(w[i][o], sums[i % k]);
                }
                halved_pairwise(&mut sums[..k])
            })
        }
        fn check<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
            x: &[[T; IN]; B],
            w: &[[T; OUT]; IN],
            bias: &[T; OUT],
        ) -> bool {
            let mut fused = [[T::ZERO; OUT]; B];
            let out = Activated {
                f: Identity,
                y: &mut fused,
            };
            forward_into::<T, IN, OUT, B, true>(x, w, Some(bias), out);
            for (b, row) in fused.iter().enumerate() {
                assert!(*row == reference(&x[b], w, bias), "{IN}->{OUT} row {b}");
            }
            let mut rounded = [[T::ZERO; OUT]; B];
            forward(x, w, Some(bias), &mut rounded);
            fused != rounded
        }
        let x = fill::<5, 19>(60);
        let w = fill::<19, 7>(61);
        let bias = fill::<1, 7>(62)[0];
        let (xw, ww, bw) = (
            fill::<3, 40>(63),
            fill::<40, 150>(64),
            fill::<1, 150>(65)[0],
        );
        let mut differs = check(&x, &w, &bias);
        differs |= check(&xw, &ww, &bw);
        assert!(differs, "f64: fusing changed no rounding");
        let mut differs = check(&to_f32(&x), &to_f32(&w), &to_f32(&[bias])[0]);
        differs |= check(&to_f32(&xw), &to_f32(&ww), &to_f32(&[bw])[0]);
        assert!(differs, "f32: fusing changed no rounding");
    }

    /// `weight_grad` with `FMA`: each row's product added to `dw` by one
    /// fused multiply-add, in batch order; an overwriting first row is a
    /// plain product.
    #[test]
    fn weight_gradient_fuses_in_batch_order() {
        let x = to_f32(&fill::<5, 9>(70));
        let dy = to_f32(&fill::<5, 21>(71));
        let start = to_f32(&fill::<9, 21>(72));
        for accumulate in [true, false] {
            let mut dw = start;
            if accumulate {
                weight_grad::<f32, 9, 21, 5, true, true>(&x, &dy, &mut dw);
            } else {
                weight_grad::<f32, 9, 21, 5, false, true>(&x, &dy, &mut dw);
            }
            for i in 0..9 {
                for o in 0..21 {
                    let mut want = if accumulate {
                        x[0][i].mul_add(dy[0][o], start[i][o])
                    } else {
                        x[0][i] * dy[0][o]
                    };
                    for b in 1..5 {
                        want = x[b][i].mul_add(dy[b][o], want);
                    }
                    assert_eq!(dw[i][o].to_bits(), want.to_bits(), "dw[{i}][{o}]");
                }
            }
        }
    }

    /// `weight_and_input_grad` at batch 1 (run interleaved where this CPU
    /// has a kernel for it) writes what `weight_grad` and the portable
    /// input gradient write, bit for bit: overwriting and accumulating,
    /// fused and not, for the widths packed several rows to a vector and
    /// those summed a row to a vector, with rows left over after the
    /// kernel's groups of 16. The input gradient goes through an activation
    /// as in a network's backward pass, so a row left unfinished fails.
    #[test]
    fn interleaved_gradients_match_the_separate_passes() {
        use crate::activation::{self, Tanh};
        fn check<const IN: usize, const OUT: usize, const ACC: bool, const FMA: bool>(seed: u64) {
            let x = to_f32(&fill::<1, IN>(seed));
            let pre = to_f32(&fill::<1, IN>(seed + 1));
            let w = to_f32(&fill::<IN, OUT>(seed + 2));
            let dy = to_f32(&fill::<1, OUT>(seed + 3));
            let start = to_f32(&fill::<IN, OUT>(seed + 4));
            let (mut dw_want, mut dx_want) = (start, [[f32::NAN; IN]; 1]);
            weight_grad::<f32, IN, OUT, 1, ACC, FMA>(&x, &dy, &mut dw_want);
            portable_input_grad::<f32, IN, OUT, 1, FMA>(&w, &dy, &mut dx_want);
            activation::backward_in_place(Tanh, &pre, &x, &mut dx_want);
            let (mut dw, mut dx) = (start, [[f32::NAN; IN]; 1]);
            let sink = ThroughActivation {
                f: Tanh,
                pre: &pre,
                post: &x,
                dx: &mut dx,
            };
            weight_and_input_grad::<f32, IN, OUT, 1, ACC, FMA>(&x, &w, &dy, &mut dw, sink);
            let shape = format!("{IN}x{OUT} (accumulate: {ACC}, fused: {FMA})");
            for (i, (got, want)) in dw.iter().zip(&dw_want).enumerate() {
                let (got, want) = (got.map(f32::to_bits), want.map(f32::to_bits));
                assert_eq!(got, want, "{shape}: dw[{i}]");
            }
            let (got, want) = (dx[0].map(f32::to_bits), dx_want[0].map(f32::to_bits));
            assert_eq!(got, want, "{shape}: dx");
        }
        fn shapes<const ACC: bool, const FMA: bool>() {
            check::<32, 32, ACC, FMA>(80);
            check::<35, 20, ACC, FMA>(81);
            check::<16, 37, ACC, FMA>(82);
            check::<7, 16, ACC, FMA>(83);
            check::<32, 4, ACC, FMA>(84);
            check::<50, 1, ACC, FMA>(85);
            check::<33, 2, ACC, FMA>(86);
            check::<48, 8, ACC, FMA>(87);
        }
        shapes::<false, false>();
        shapes::<false, true>();
        shapes::<true, false>();
        shapes::<true, true>();
    }

    /// `input_grad_into` with `FMA`: the same sixteen partial sums in the
    /// same order, each product added by one fused multiply-add, then
    /// halved pairwise; rounded differently from the unfused sums. In
    /// `f32` the rows run through this CPU's vector kernel where it has one.
    #[test]
    fn input_gradient_fuses_in_the_same_order() {
        fn reference<T: Scalar, const OUT: usize>(dy: &[T; OUT], w: &[T; OUT]) -> T {
            let mut sums = [T::ZERO; LANES];
            for o in 0..OUT {
                sums[o % LANES] = dy[o].mul_add(w[o], sums[o % LANES]);
            }
            halved_pairwise(&mut sums)
        }
        fn check<T: Scalar, const IN: usize, const OUT: usize, const B: usize>(
            w: &[[T; OUT]; IN],
            dy: &[[T; OUT]; B],
        ) -> bool {
            let mut fused = [[T::ZERO; IN]; B];
            input_grad_into::<T, IN, OUT, B, true>(w, dy, Plain(&mut fused));
            for b in 0..B {
                for i in 0..IN {
                    let want = reference(&dy[b], &w[i]);
                    assert!(fused[b][i] == want, "{IN}x{OUT} dx[{b}][{i}]");
                }
            }
            let mut rounded = [[T::ZERO; IN]; B];
            input_grad(w, dy, &mut rounded);
            fused != rounded
        }
        let (w, dy) = (fill::<37, 45>(80), fill::<3, 45>(81));
        let (ww, dyw) = (fill::<32, 130>(82), fill::<2, 130>(83));
        assert!(
            check(&w, &dy) | check(&ww, &dyw),
            "f64: fusing changed nothing"
        );
        let fused_f32 = check(&to_f32(&w), &to_f32(&dy));
        assert!(
            fused_f32 | check(&to_f32(&ww), &to_f32(&dyw)),
            "f32: fusing changed nothing"
        );
    }
}
