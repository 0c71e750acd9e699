//! The element-wise sums of a residual block, `y = x + f(x)`.

use crate::Scalar;

/// `y = a + b`
#[inline(always)]
pub fn add_into<T: Scalar, const W: usize, const B: usize>(
    a: &[[T; W]; B],
    b: &[[T; W]; B],
    y: &mut [[T; W]; B],
) {
    let (a, b) = (a.as_flattened(), b.as_flattened());
    for ((y, a), b) in y.as_flattened_mut().iter_mut().zip(a).zip(b) {
        *y = *a + *b;
    }
}

/// `y += a`
#[inline(always)]
pub fn add_in_place<T: Scalar, const W: usize, const B: usize>(
    y: &mut [[T; W]; B],
    a: &[[T; W]; B],
) {
    for (y, a) in y.as_flattened_mut().iter_mut().zip(a.as_flattened()) {
        *y += *a;
    }
}
