//! Typed views of a dense layer's parameters inside the parameter buffer.
//!
//! Storage keeps weights `[in][out]` for the kernels; these views speak
//! PyTorch's `weight[out][in]` order, so indices and whole-matrix copies
//! read the same as `nn.Linear.weight`.

use crate::Scalar;

/// `&params[offset .. offset + R·C]` as a `R × C` matrix.
///
/// Panics if the range is out of bounds; the generated code only passes
/// constant ranges that the macro checked, so the check is folded away.
#[doc(hidden)]
#[inline(always)]
pub fn matrix<T: Scalar, const R: usize, const C: usize>(
    params: &[T],
    offset: usize,
) -> &[[T; C]; R] {
    let flat = &params[offset..offset + R * C];
    let (rows, _) = flat.as_chunks::<C>();
    match rows.try_into() {
        Ok(m) => m,
        // R·C elements always split into exactly R rows of C.
        Err(_) => unreachable!(),
    }
}

/// Mutable form of [`matrix`].
#[doc(hidden)]
#[inline(always)]
pub fn matrix_mut<T: Scalar, const R: usize, const C: usize>(
    params: &mut [T],
    offset: usize,
) -> &mut [[T; C]; R] {
    let flat = &mut params[offset..offset + R * C];
    let (rows, _) = flat.as_chunks_mut::<C>();
    match rows.try_into() {
        Ok(m) => m,
        Err(_) => unreachable!(),
    }
}

/// `&params[offset .. offset + N]` as an array.
#[doc(hidden)]
#[inline(always)]
pub fn vector<T: Scalar, const N: usize>(params: &[T], offset: usize) -> &[T; N] {
    match params[offset..offset + N].try_into() {
        Ok(v) => v,
        Err(_) => unreachable!(),
    }
}

/// Splits a dense layer's weight and bias off the front of `params`.
///
/// Returns the views and the rest of the buffer, so the generated code can
/// hand out every layer's views at once without overlapping borrows.
#[doc(hidden)]
#[inline(always)]
#[allow(clippy::type_complexity)]
pub fn split_dense_mut<T: Scalar, const IN: usize, const OUT: usize>(
    params: &mut [T],
    bias: bool,
) -> (&mut [[T; OUT]; IN], Option<&mut [T; OUT]>, &mut [T]) {
    let (w, rest) = params.split_at_mut(IN * OUT);
    let w = matrix_mut::<T, IN, OUT>(w, 0);
    if bias {
        let (b, rest) = rest.split_at_mut(OUT);
        let b: &mut [T; OUT] = match b.try_into() {
            Ok(b) => b,
            Err(_) => unreachable!(),
        };
        (w, Some(b), rest)
    } else {
        (w, None, rest)
    }
}

/// Read-only view of a dense layer `IN -> OUT`.
#[derive(Clone, Copy, Debug)]
pub struct DenseRef<'a, T: Scalar, const IN: usize, const OUT: usize> {
    weight: &'a [[T; OUT]; IN],
    bias: Option<&'a [T; OUT]>,
}

/// Mutable view of a dense layer `IN -> OUT`.
#[derive(Debug)]
pub struct DenseMut<'a, T: Scalar, const IN: usize, const OUT: usize> {
    weight: &'a mut [[T; OUT]; IN],
    bias: Option<&'a mut [T; OUT]>,
}

impl<'a, T: Scalar, const IN: usize, const OUT: usize> DenseRef<'a, T, IN, OUT> {
    #[doc(hidden)]
    #[inline(always)]
    pub fn new(params: &'a [T], offset: usize, bias: bool) -> Self {
        Self {
            weight: matrix(params, offset),
            bias: if bias {
                Some(vector(params, offset + IN * OUT))
            } else {
                None
            },
        }
    }

    /// PyTorch's `weight[out][inp]`.
    #[inline]
    pub fn weight(&self, out: usize, inp: usize) -> T {
        self.weight[inp][out]
    }

    /// The whole weight matrix in PyTorch's `[out][in]` order.
    pub fn weight_matrix(&self) -> [[T; IN]; OUT] {
        let mut m = [[T::ZERO; IN]; OUT];
        for (i, row) in self.weight.iter().enumerate() {
            for (o, v) in row.iter().enumerate() {
                m[o][i] = *v;
            }
        }
        m
    }

    /// The weights as stored: `[in][out]`, the transpose of PyTorch's.
    #[inline]
    pub fn weight_storage(&self) -> &'a [[T; OUT]; IN] {
        self.weight
    }

    /// The biases, or `None` for a layer declared without them.
    #[inline]
    pub fn bias(&self) -> Option<&'a [T; OUT]> {
        self.bias
    }
}

impl<'a, T: Scalar, const IN: usize, const OUT: usize> DenseMut<'a, T, IN, OUT> {
    #[doc(hidden)]
    #[inline(always)]
    pub fn from_parts(weight: &'a mut [[T; OUT]; IN], bias: Option<&'a mut [T; OUT]>) -> Self {
        Self { weight, bias }
    }

    /// A read-only view of the same layer.
    #[inline]
    pub fn as_ref(&self) -> DenseRef<'_, T, IN, OUT> {
        DenseRef {
            weight: self.weight,
            bias: self.bias.as_deref(),
        }
    }

    /// PyTorch's `weight[out][inp]`.
    #[inline]
    pub fn weight(&self, out: usize, inp: usize) -> T {
        self.weight[inp][out]
    }

    /// Sets PyTorch's `weight[out][inp]`.
    #[inline]
    pub fn set_weight(&mut self, out: usize, inp: usize, value: T) {
        self.weight[inp][out] = value;
    }

    /// Copies a whole weight matrix given in PyTorch's `[out][in]` order.
    pub fn set_weight_matrix(&mut self, weight: &[[T; IN]; OUT]) {
        for (o, row) in weight.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                self.weight[i][o] = *v;
            }
        }
    }

    /// The weights as stored: `[in][out]`, the transpose of PyTorch's.
    #[inline]
    pub fn weight_storage_mut(&mut self) -> &mut [[T; OUT]; IN] {
        self.weight
    }

    /// The biases, or `None` for a layer declared without them.
    #[inline]
    pub fn bias_mut(&mut self) -> Option<&mut [T; OUT]> {
        self.bias.as_deref_mut()
    }
}
