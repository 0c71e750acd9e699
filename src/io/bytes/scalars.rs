//! Scalars to and from little-endian bytes, bit for bit.
//!
//! [`Scalar`] is sealed to `f32` and `f64`. Going through `to_f64` and
//! `from_f64` would be exact for every number but could quiet a signalling
//! NaN, so each value is instead matched to its concrete type (a `TypeId`
//! comparison the compiler folds away) and its own bytes are copied.

use crate::Scalar;
use core::any::Any;

/// Writes `values` into `out` as little-endian scalars of their own width.
/// `out` must hold `values.len() * size_of::<T>()` bytes.
pub(crate) fn write_le<T: Scalar>(values: &[T], out: &mut [u8]) {
    let size = core::mem::size_of::<T>();
    debug_assert_eq!(out.len(), core::mem::size_of_val(values));
    for (v, chunk) in values.iter().zip(out.chunks_exact_mut(size)) {
        let v: &dyn Any = v;
        if let Some(x) = v.downcast_ref::<f32>() {
            chunk.copy_from_slice(&x.to_le_bytes());
        } else if let Some(x) = v.downcast_ref::<f64>() {
            chunk.copy_from_slice(&x.to_le_bytes());
        }
    }
}

/// Reads little-endian scalars of `T`'s width from `bytes` into `values`.
/// `bytes` must hold `values.len() * size_of::<T>()` bytes.
pub(crate) fn read_le<T: Scalar>(bytes: &[u8], values: &mut [T]) {
    let size = core::mem::size_of::<T>();
    debug_assert_eq!(bytes.len(), core::mem::size_of_val(values));
    for (v, chunk) in values.iter_mut().zip(bytes.chunks_exact(size)) {
        let v: &mut dyn Any = v;
        if let Some(x) = v.downcast_mut::<f32>() {
            *x = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        } else if let Some(x) = v.downcast_mut::<f64>() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *x = f64::from_le_bytes(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_bit_pattern_class() {
        // A signalling NaN (quiet bit clear) survives too.
        let values = [
            0.0f32,
            -0.0,
            1.5,
            f32::MIN_POSITIVE / 2.0,
            f32::INFINITY,
            f32::from_bits(0x7f80_0001),
        ];
        let mut bytes = [0u8; 24];
        write_le(&values, &mut bytes);
        assert_eq!(&bytes[8..12], &1.5f32.to_le_bytes());
        let mut back = [0.0f32; 6];
        read_le(&bytes, &mut back);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));

        let wide = [core::f64::consts::PI, f64::from_bits(0x7ff0_0000_0000_0001)];
        let mut bytes = [0u8; 16];
        write_le(&wide, &mut bytes);
        assert_eq!(&bytes[..8], &core::f64::consts::PI.to_le_bytes());
        let mut back = [0.0f64; 2];
        read_le(&bytes, &mut back);
        assert_eq!(back[1].to_bits(), wide[1].to_bits());
    }
}
