//! Parameter initialisation schemes, from any `rand_core` RNG.
//!
//! Fans are those of the dense layer being initialised (`fan_in` = its input
//! width, `fan_out` = its output width). Draws happen layer by layer in
//! declaration order, weights in PyTorch's `[out][in]` order, then biases,
//! so a given seed always yields the same network on every platform.

use crate::architecture::DenseLayout;
use crate::Scalar;
use rand_core::Rng;

/// How to draw initial weights and biases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weights and biases both
    /// `U(−1/√fan_in, 1/√fan_in)`.
    #[default]
    PyTorchDefault,
    /// Xavier/Glorot uniform: `U(±√(6/(fan_in + fan_out)))`, zero biases.
    XavierUniform,
    /// Xavier/Glorot normal: `N(0, 2/(fan_in + fan_out))`, zero biases.
    XavierNormal,
    /// He/Kaiming uniform for ReLU (gain √2): `U(±√(6/fan_in))`, zero biases.
    KaimingUniform,
    /// He/Kaiming normal for ReLU: `N(0, 2/fan_in)`, zero biases.
    KaimingNormal,
    /// LeCun uniform: `U(±√(3/fan_in))`, zero biases.
    LeCunUniform,
    /// LeCun normal (for SELU-style nets): `N(0, 1/fan_in)`, zero biases.
    LeCunNormal,
}

enum Dist {
    Uniform(f64),
    Normal(f64),
}

impl Init {
    fn weight_dist(self, fan_in: usize, fan_out: usize) -> Dist {
        let fi = fan_in as f64;
        let fo = fan_out as f64;
        match self {
            Init::PyTorchDefault => Dist::Uniform(1.0 / libm::sqrt(fi)),
            Init::XavierUniform => Dist::Uniform(libm::sqrt(6.0 / (fi + fo))),
            Init::XavierNormal => Dist::Normal(libm::sqrt(2.0 / (fi + fo))),
            Init::KaimingUniform => Dist::Uniform(libm::sqrt(6.0 / fi)),
            Init::KaimingNormal => Dist::Normal(libm::sqrt(2.0 / fi)),
            Init::LeCunUniform => Dist::Uniform(libm::sqrt(3.0 / fi)),
            Init::LeCunNormal => Dist::Normal(libm::sqrt(1.0 / fi)),
        }
    }

    fn bias_dist(self, fan_in: usize) -> Option<Dist> {
        match self {
            Init::PyTorchDefault => Some(Dist::Uniform(1.0 / libm::sqrt(fan_in as f64))),
            _ => None,
        }
    }
}

/// A uniform draw in `[0, 1)` with 53 random bits.
#[inline]
pub(crate) fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn sample<R: Rng + ?Sized>(dist: &Dist, rng: &mut R) -> f64 {
    match *dist {
        Dist::Uniform(a) => (2.0 * unit_f64(rng) - 1.0) * a,
        Dist::Normal(std) => {
            // Box-Muller; 1 − u lies in (0, 1], so the logarithm is finite.
            let u1 = 1.0 - unit_f64(rng);
            let u2 = unit_f64(rng);
            std * libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
        }
    }
}

/// Initialises one dense layer inside a parameter buffer.
pub(crate) fn init_dense<T: Scalar, R: Rng + ?Sized>(
    params: &mut [T],
    layer: &DenseLayout,
    scheme: Init,
    rng: &mut R,
) {
    let wd = scheme.weight_dist(layer.inputs, layer.outputs);
    for o in 0..layer.outputs {
        for i in 0..layer.inputs {
            params[layer.weight_index(o, i)] = T::from_f64(sample(&wd, rng));
        }
    }
    if let Some(off) = layer.bias_offset {
        let bias = &mut params[off..off + layer.outputs];
        match scheme.bias_dist(layer.inputs) {
            Some(bd) => bias
                .iter_mut()
                .for_each(|b| *b = T::from_f64(sample(&bd, rng))),
            None => bias.iter_mut().for_each(|b| *b = T::ZERO),
        }
    }
}

/// SplitMix64: a tiny, fast, well-mixed generator for seeding.
///
/// Used by the `seeded` constructors so that a network can be made
/// reproducibly from a single `u64` without choosing an RNG crate. For
/// anything statistical beyond initialisation, bring a real generator.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl rand_core::TryRng for SplitMix64 {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (Vigna's reference).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn uniform_bounds_hold() {
        let layer = DenseLayout {
            inputs: 16,
            outputs: 8,
            weight_offset: 0,
            bias_offset: Some(128),
        };
        let mut p = [0.0f64; 136];
        init_dense(
            &mut p,
            &layer,
            Init::PyTorchDefault,
            &mut SplitMix64::new(7),
        );
        let bound = 0.25;
        assert!(p.iter().all(|v| v.abs() <= bound));
        assert!(p.iter().any(|v| v.abs() > 0.2), "draws should spread out");
        init_dense(
            &mut p,
            &layer,
            Init::KaimingUniform,
            &mut SplitMix64::new(7),
        );
        let bound = (6.0f64 / 16.0).sqrt();
        assert!(p[..128].iter().all(|v| v.abs() <= bound));
        assert!(p[128..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn normal_has_the_right_spread() {
        let layer = DenseLayout {
            inputs: 200,
            outputs: 100,
            weight_offset: 0,
            bias_offset: None,
        };
        let mut p = vec![0.0f64; 20_000];
        init_dense(&mut p, &layer, Init::KaimingNormal, &mut SplitMix64::new(3));
        let var = p.iter().map(|v| v * v).sum::<f64>() / p.len() as f64;
        let expected = 2.0 / 200.0;
        assert!(
            (var / expected - 1.0).abs() < 0.05,
            "variance {var} vs {expected}"
        );
    }
}
