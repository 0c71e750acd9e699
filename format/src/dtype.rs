//! safetensors element types, and the floating-point ones as numbers.

/// An element type of a safetensors tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `BOOL`
    Bool,
    /// `U8`
    U8,
    /// `I8`
    I8,
    /// `F8_E5M2`
    F8E5M2,
    /// `F8_E4M3`
    F8E4M3,
    /// `I16`
    I16,
    /// `U16`
    U16,
    /// `F16`: IEEE 754 half precision.
    F16,
    /// `BF16`: bfloat16, the upper half of an `f32`.
    BF16,
    /// `I32`
    I32,
    /// `U32`
    U32,
    /// `F32`
    F32,
    /// `I64`
    I64,
    /// `U64`
    U64,
    /// `F64`
    F64,
}

const NAMES: [(Dtype, &str, usize); 15] = [
    (Dtype::Bool, "BOOL", 1),
    (Dtype::U8, "U8", 1),
    (Dtype::I8, "I8", 1),
    (Dtype::F8E5M2, "F8_E5M2", 1),
    (Dtype::F8E4M3, "F8_E4M3", 1),
    (Dtype::I16, "I16", 2),
    (Dtype::U16, "U16", 2),
    (Dtype::F16, "F16", 2),
    (Dtype::BF16, "BF16", 2),
    (Dtype::I32, "I32", 4),
    (Dtype::U32, "U32", 4),
    (Dtype::F32, "F32", 4),
    (Dtype::I64, "I64", 8),
    (Dtype::U64, "U64", 8),
    (Dtype::F64, "F64", 8),
];

impl Dtype {
    /// The dtype spelled `name` in a header.
    pub fn from_name(name: &str) -> Option<Dtype> {
        NAMES
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(d, _, _)| *d)
    }

    /// The name written in a header.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(d, _, _)| *d == self)
            .map_or("?", |e| e.1)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        NAMES.iter().find(|(d, _, _)| *d == self).map_or(1, |e| e.2)
    }

    /// Whether a network's parameters can be read from it: `F32`, `F64`,
    /// `F16` or `BF16`.
    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64)
    }
}

/// The `f32` equal to the half-precision number with bits `h`.
///
/// Every half is exactly an `f32`: normal numbers move their exponent
/// from bias 15 to bias 127 and their 10 fraction bits to the top of the
/// 23; subnormals (`m · 2⁻²⁴`) are computed as that product, which is
/// exact; infinities and NaNs keep their fraction bits as the payload.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let fraction = u32::from(h & 0x3ff);
    let bits = match exponent {
        0 => {
            // 2⁻²⁴ is 0x3380_0000; `fraction` < 2¹⁰ is exact in an f32.
            let magnitude = fraction as f32 * f32::from_bits(0x3380_0000);
            sign | magnitude.to_bits()
        }
        0x1f => sign | 0x7f80_0000 | (fraction << 13),
        _ => sign | ((exponent + 127 - 15) << 23) | (fraction << 13),
    };
    f32::from_bits(bits)
}

/// The `f32` whose upper 16 bits are the bfloat16 `b`.
pub fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// Element `i` of little-endian `data` of float type `dtype`, as an `f64`
/// (exactly: every `F16`, `BF16` and `F32` value is an `f64`).
///
/// `None` if `dtype` is not a float type.
pub fn float_at(dtype: Dtype, data: &[u8], i: usize) -> Option<f64> {
    let size = dtype.size();
    let b = &data[i * size..(i + 1) * size];
    let value = match dtype {
        Dtype::F16 => f64::from(f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
        Dtype::BF16 => f64::from(bf16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
        Dtype::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        Dtype::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        _ => return None,
    };
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (d, name, size) in NAMES {
            assert_eq!(Dtype::from_name(name), Some(d));
            assert_eq!((d.name(), d.size()), (name, size));
        }
        assert_eq!(Dtype::from_name("f32"), None);
    }

    /// The value of a half by its definition, computed in `f64` without
    /// touching the bit layout of `f32`.
    fn half_by_definition(h: u16) -> f64 {
        let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
        let exponent = i32::from((h >> 10) & 0x1f);
        let fraction = f64::from(h & 0x3ff);
        match exponent {
            0 => sign * fraction * 2f64.powi(-24),
            31 if fraction == 0.0 => sign * f64::INFINITY,
            31 => f64::NAN,
            e => sign * (1024.0 + fraction) * 2f64.powi(e - 25),
        }
    }

    #[test]
    fn every_half_converts_to_its_value() {
        for h in 0..=u16::MAX {
            let got = f16_to_f32(h);
            let want = half_by_definition(h);
            if want.is_nan() {
                assert!(got.is_nan(), "{h:#06x}");
                assert_eq!(got.to_bits() & 0x1fff, 0, "{h:#06x}: payload moved");
            } else {
                assert_eq!(f64::from(got), want, "{h:#06x}");
                assert_eq!(got.is_sign_negative(), h >> 15 == 1, "{h:#06x}");
            }
        }
    }

    #[test]
    fn well_known_halves() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }

    #[test]
    fn bfloat16_is_the_upper_half() {
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc049), -3.140_625);
        assert_eq!(bf16_to_f32(0x7f80), f32::INFINITY);
        assert_eq!(bf16_to_f32(0x0001).to_bits(), 0x0001_0000);
    }

    #[test]
    fn float_at_reads_little_endian_elements() {
        let data = [0x00, 0x3c, 0x00, 0xc0];
        assert_eq!(float_at(Dtype::F16, &data, 1), Some(-2.0));
        assert_eq!(float_at(Dtype::BF16, &[0x80, 0x3f], 0), Some(1.0));
        assert_eq!(float_at(Dtype::F32, &1.5f32.to_le_bytes(), 0), Some(1.5));
        assert_eq!(float_at(Dtype::F64, &0.1f64.to_le_bytes(), 0), Some(0.1));
        assert_eq!(float_at(Dtype::I32, &[0; 4], 0), None);
    }
}
