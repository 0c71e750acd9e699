//! Types whose all-zero bit pattern is a valid value.
//!
//! Parameter buffers and tapes can be hundreds of kilobytes or megabytes.
//! Building them by value would pass them through the stack (twice, in debug
//! builds), so they are instead zeroed directly where they will live: in a
//! fresh heap allocation, or in memory the caller provides. [`Zeroable`]
//! marks the types for which that is sound.

use generic_array::{ArrayLength, GenericArray};

/// A type for which all-zero bytes are a valid value.
///
/// # Safety
///
/// Implementors guarantee that `core::mem::zeroed::<Self>()` is a valid,
/// fully initialised value. The library implements it for `f32`, `f64`,
/// `u32`, `u64`, `bool`, `()`, arrays and generic arrays of `Zeroable`
/// types, and pairs of `Zeroable` types (padding bytes need no particular
/// value).
pub unsafe trait Zeroable: Sized {}

// SAFETY: 0.0 is all-zero bits in IEEE 754.
unsafe impl Zeroable for f32 {}
// SAFETY: as above.
unsafe impl Zeroable for f64 {}
// SAFETY: zero is a valid integer.
unsafe impl Zeroable for u64 {}
// SAFETY: all-zero bytes are the integer 0.
unsafe impl Zeroable for u32 {}
// SAFETY: `false` is the zero byte.
unsafe impl Zeroable for bool {}
// SAFETY: a zero-sized type has no bytes to be invalid.
unsafe impl Zeroable for () {}
// SAFETY: an array is its elements back to back, each valid when zeroed.
unsafe impl<A: Zeroable, const N: usize> Zeroable for [A; N] {}
// SAFETY: a GenericArray is laid out as an array of its elements.
unsafe impl<A: Zeroable, N: ArrayLength> Zeroable for GenericArray<A, N> {}
// SAFETY: a tuple's fields are each valid when zeroed; padding is free.
unsafe impl<A: Zeroable, B: Zeroable> Zeroable for (A, B) {}

/// Zeroes `slot` in place and returns it initialised.
#[inline]
pub(crate) fn zero_in_place<Z: Zeroable>(slot: &mut core::mem::MaybeUninit<Z>) -> &mut Z {
    // SAFETY: writing zero bytes over the whole slot is always allowed; the
    // `Zeroable` bound guarantees the result is a valid `Z`, so the
    // reference we return points to an initialised value.
    unsafe {
        slot.as_mut_ptr().write_bytes(0, 1);
        slot.assume_init_mut()
    }
}

/// A zero-filled `Z` allocated directly on the heap, never on the stack.
#[cfg(feature = "std")]
#[inline]
pub(crate) fn boxed_zeroed<Z: Zeroable>() -> std::boxed::Box<Z> {
    let uninit = std::boxed::Box::<Z>::new_zeroed();
    // SAFETY: `new_zeroed` returned all-zero memory of the right size and
    // alignment, which `Zeroable` guarantees is a valid `Z`.
    unsafe { uninit.assume_init() }
}

/// The all-zero value of `Z`, usable in `const` and `static` items.
#[inline]
pub(crate) const fn zeroed<Z: Zeroable>() -> Z {
    // SAFETY: `Zeroable` guarantees all-zero bytes are a valid `Z`.
    unsafe { core::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::MaybeUninit;

    #[test]
    fn zero_in_place_gives_zeros() {
        let mut slot = MaybeUninit::<([[f32; 3]; 2], (bool, f64))>::uninit();
        let v = zero_in_place(&mut slot);
        assert_eq!(v.0, [[0.0; 3]; 2]);
        assert!(!v.1 .0);
        assert_eq!(v.1 .1, 0.0);
    }

    #[test]
    fn const_zeroed_is_zero() {
        const Z: [f64; 4] = zeroed();
        assert_eq!(Z, [0.0; 4]);
    }

    #[cfg(feature = "std")]
    #[test]
    fn boxed_zeroed_handles_large_values() {
        // 4 MiB: would not fit in a default 2 MiB test-thread stack.
        let b = boxed_zeroed::<[f32; 1 << 20]>();
        assert!(b.iter().all(|&x| x == 0.0));
    }
}
