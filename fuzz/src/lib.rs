//! The networks the fuzz targets load into. `Mixed` is the net of
//! tests/fixtures/mixed*.safetensors (and of scripts/export_torch.py), so
//! the seeds reach every check of the loaders, down to the data.

use staticnet::Architecture;

staticnet::network! {
    /// Residual blocks (one nested), a layer without bias, most activations.
    pub struct Mixed(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        LeakyRelu(0.1),
        Residual { Dense<8>, Elu(1.0), Residual { Dense<8>, Sigmoid, Dense<8> } },
        Softplus(beta = 2.0, threshold = 10.0),
        Dense<4, bias = false>, Identity,
        Dense<2>,
    }
}

/// The parameter count of `Mixed` as a type, for optimizer state.
pub type MixedLen = <MixedArch as Architecture>::ParamLen;

/// `data` with its last 8 bytes replaced by the byte format's checksum
/// (FNV-1a 64 of everything before them). The checksum stops almost every
/// mutation at the first check; resealing lets the fuzzer reach the checks
/// after it (shape, optimizer, hyperparameters) with inputs it made up.
pub fn resealed(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    if out.len() >= 8 {
        let end = out.len() - 8;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in &out[..end] {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        out[end..].copy_from_slice(&h.to_le_bytes());
    }
    out
}
