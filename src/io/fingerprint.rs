//! A network's shape as a number, and the checksum of the byte format.
//!
//! Both are 64-bit FNV-1a. FNV-1a maps each byte into the state with an
//! XOR and a multiplication by an odd number, both bijections, so two
//! inputs of the same length that differ in a single byte always hash
//! differently: every one-bit flip of a file is caught, and wider damage
//! slips through with probability about 2⁻⁶⁴.

use crate::architecture::{ActivationKind, Architecture, Layer};

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running 64-bit FNV-1a hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    pub(crate) const fn new() -> Self {
        Self(OFFSET_BASIS)
    }

    pub(crate) fn bytes(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(PRIME);
        }
        self
    }

    fn u64(self, v: u64) -> Self {
        self.bytes(&v.to_le_bytes())
    }

    fn usize(self, v: usize) -> Self {
        self.u64(v as u64)
    }

    fn f64(self, v: f64) -> Self {
        self.u64(v.to_bits())
    }

    pub(crate) const fn finish(self) -> u64 {
        self.0
    }
}

/// A hash of `A::LAYERS`: every layer in order with its widths and
/// parameter offsets, and every activation with its arguments.
///
/// Two networks share it exactly when their declarations describe the same
/// computation on the same parameter layout (barring a 2⁻⁶⁴ collision). The
/// byte format records it, so parameters saved from one network are not
/// read into a network with other layers or activations, even one with the
/// same parameter count.
pub fn layers_hash<A: Architecture>() -> u64 {
    let mut h = Fnv1a::new();
    for layer in A::LAYERS {
        h = match *layer {
            Layer::Dense(d) => {
                let bias = match d.bias_offset {
                    Some(offset) => offset as u64,
                    None => u64::MAX,
                };
                h.bytes(&[1])
                    .usize(d.inputs)
                    .usize(d.outputs)
                    .usize(d.weight_offset)
                    .u64(bias)
            }
            Layer::Activation(act) => activation(h.bytes(&[2]), act),
            Layer::ResidualBegin { width } => h.bytes(&[3]).usize(width),
            Layer::ResidualEnd => h.bytes(&[4]),
        };
    }
    h.finish()
}

fn activation(h: Fnv1a, act: ActivationKind) -> Fnv1a {
    match act {
        ActivationKind::Identity => h.bytes(&[0]),
        ActivationKind::BinaryStep => h.bytes(&[1]),
        ActivationKind::Sigmoid => h.bytes(&[2]),
        ActivationKind::Tanh => h.bytes(&[3]),
        ActivationKind::Relu => h.bytes(&[4]),
        ActivationKind::Softplus { beta, threshold } => h.bytes(&[5]).f64(beta).f64(threshold),
        ActivationKind::LeakyRelu { slope } => h.bytes(&[6]).f64(slope),
        ActivationKind::Elu { alpha } => h.bytes(&[7]).f64(alpha),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference test suite.
        assert_eq!(Fnv1a::new().finish(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv1a::new().bytes(b"a").finish(), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            Fnv1a::new().bytes(b"foobar").finish(),
            0x8594_4171_f739_67e8
        );
    }

    #[test]
    fn every_single_bit_flip_changes_the_hash() {
        let data: [u8; 16] = *b"0123456789abcdef";
        let base = Fnv1a::new().bytes(&data).finish();
        for i in 0..data.len() * 8 {
            let mut flipped = data;
            flipped[i / 8] ^= 1 << (i % 8);
            assert_ne!(Fnv1a::new().bytes(&flipped).finish(), base, "bit {i}");
        }
    }
}
