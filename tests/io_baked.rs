//! Weights baked in at compile time by `network_with_weights!`: the
//! constants hold exactly the file's weights (PyTorch's outputs for W1,
//! the runtime loader's values for every dtype), in `static`s and `const`s.

staticnet::network_with_weights! {
    /// W1 as trained in PyTorch.
    #[weights = "fixtures/w1.safetensors"]
    pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// Residual blocks, a layer without bias, most activations: the
    /// sequential names reach into `body` modules.
    #[weights = "fixtures/mixed.safetensors"]
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

staticnet::network_with_weights! {
    /// The same net from the F64, F16 and BF16 files.
    #[weights = "fixtures/mixed_f64.safetensors"]
    pub struct MixedF64(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        LeakyRelu(0.1),
        Residual { Dense<8>, Elu(1.0), Residual { Dense<8>, Sigmoid, Dense<8> } },
        Softplus(beta = 2.0, threshold = 10.0),
        Dense<4, bias = false>, Identity,
        Dense<2>,
    }
    #[weights = "fixtures/mixed_f16.safetensors"]
    pub struct MixedF16(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        LeakyRelu(0.1),
        Residual { Dense<8>, Elu(1.0), Residual { Dense<8>, Sigmoid, Dense<8> } },
        Softplus(beta = 2.0, threshold = 10.0),
        Dense<4, bias = false>, Identity,
        Dense<2>,
    }
    #[weights = "fixtures/mixed_bf16.safetensors"]
    pub struct MixedBf16(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        LeakyRelu(0.1),
        Residual { Dense<8>, Elu(1.0), Residual { Dense<8>, Sigmoid, Dense<8> } },
        Softplus(beta = 2.0, threshold = 10.0),
        Dense<4, bias = false>, Identity,
        Dense<2>,
    }
}

/// In read-only memory, as firmware would hold it.
static W1_NET: W1 = W1::BAKED;
/// The same weights widened to `f64`, as a constant.
const MIXED_WIDE: Mixed<f64> = Mixed::BAKED;

fn bits32(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn baked_w1_gives_pytorchs_outputs() {
    // Rows of little-endian f32 (x0, x1, y) written by scripts/export_torch.py.
    let rows = include_bytes!("fixtures/w1_io.f32");
    let values: Vec<f32> = rows
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values.len(), 8 * 3);
    for row in values.chunks_exact(3) {
        let y = W1_NET.predict(&[row[0], row[1]])[0];
        assert!((y - row[2]).abs() <= 1e-6, "{y} vs PyTorch's {}", row[2]);
    }
}

#[test]
fn f64_constants_widen_the_f32_file_exactly() {
    let narrow: Mixed = Mixed::BAKED;
    let widened: Vec<f64> = narrow.params().iter().map(|&v| f64::from(v)).collect();
    assert_eq!(MIXED_WIDE.params(), &widened[..]);
    assert!(narrow.params().iter().any(|&v| v != 0.0));
}

#[test]
fn an_f64_file_rounds_to_the_f32_file_pytorch_wrote() {
    let from_f64: MixedF64 = MixedF64::BAKED;
    let from_f32: Mixed = Mixed::BAKED;
    assert_eq!(bits32(from_f64.params()), bits32(from_f32.params()));
}

#[test]
fn half_precision_files_are_rounded_values_of_the_same_weights() {
    let full: Mixed = Mixed::BAKED;
    let f16: MixedF16 = MixedF16::BAKED;
    let bf16: MixedBf16 = MixedBf16::BAKED;
    for half in [f16.params(), bf16.params()] {
        assert_ne!(bits32(half), bits32(full.params()));
        // Within a half type's relative precision (2⁻⁸ for bfloat16).
        for (h, f) in half.iter().zip(full.params()) {
            assert!((h - f).abs() <= f.abs() / 256.0, "{h} vs {f}");
        }
    }
}

/// The baked `f32` weights packed to bf16 at compile time, in a `static`.
static MIXED_PACKED: staticnet::bf16::Bf16Network<MixedArch> =
    staticnet::bf16::Bf16Network::from_network(&Mixed::BAKED);

#[test]
fn bf16_packing_at_compile_time_rounds_as_pytorch_does() {
    // The same words as packing at run time.
    let full: Mixed = Mixed::BAKED;
    assert_eq!(
        MIXED_PACKED,
        staticnet::bf16::Bf16Network::from_network(&full)
    );
    // PyTorch wrote the bf16 file from the same weights
    // (`tensor.to(torch.bfloat16)`): every packed weight is its value.
    let mut unpacked: Mixed = Mixed::ZERO;
    MIXED_PACKED.unpack_into(&mut unpacked);
    let torch: MixedBf16 = MixedBf16::BAKED;
    let mut weights = 0;
    for layer in <MixedArch as staticnet::Architecture>::LAYERS {
        let staticnet::Layer::Dense(d) = layer else {
            continue;
        };
        for o in 0..d.outputs {
            for i in 0..d.inputs {
                let at = d.weight_index(o, i);
                assert_eq!(
                    unpacked.params()[at].to_bits(),
                    torch.params()[at].to_bits(),
                    "weight {at}: {} rounded",
                    full.params()[at]
                );
                weights += 1;
            }
        }
        // Biases stay f32.
        if let Some(b) = d.bias_offset {
            assert_eq!(
                unpacked.params()[b..b + d.outputs],
                full.params()[b..b + d.outputs]
            );
        }
    }
    assert!(weights > 200);
}

/// The generated constants name nothing of the caller's scope: the crate
/// under another name, next to items shadowing `core` and the prelude,
/// with unsafe code forbidden.
#[forbid(unsafe_code)]
#[allow(dead_code, non_camel_case_types, clippy::all)]
mod hygiene {
    extern crate staticnet as sn;

    mod core {}
    mod staticnet {}
    struct Option;
    struct Network;
    struct f32;
    struct f64;
    trait BakedWeights {}

    sn::network_with_weights! {
        #[weights = "fixtures/w1.safetensors"]
        pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
    }

    pub static NET: W1 = W1::BAKED;
}

#[test]
fn hygienic_declarations_bake_the_same_weights() {
    assert_eq!(hygiene::NET.params(), W1_NET.params());
}

#[cfg(feature = "safetensors")]
mod against_the_runtime_loader {
    use super::*;
    use staticnet::io::safetensors;
    use staticnet::Network;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn loaded<A: staticnet::Architecture, T: staticnet::Scalar>(file: &str) -> Network<A, T> {
        let mut net = Network::<A, T>::seeded(1);
        safetensors::load(&mut net, &fixture(file)).unwrap();
        net
    }

    #[test]
    fn every_file_and_scalar_type_bakes_what_the_loader_loads() {
        assert_eq!(W1::<f32>::BAKED, loaded::<W1Arch, f32>("w1.safetensors"));
        assert_eq!(W1::<f64>::BAKED, loaded::<W1Arch, f64>("w1.safetensors"));
        assert_eq!(
            Mixed::<f32>::BAKED,
            loaded::<MixedArch, f32>("mixed.safetensors")
        );
        assert_eq!(MIXED_WIDE, loaded::<MixedArch, f64>("mixed.safetensors"));
        for scalar_f32 in [
            MixedF64::<f32>::BAKED == loaded::<MixedF64Arch, f32>("mixed_f64.safetensors"),
            MixedF16::<f32>::BAKED == loaded::<MixedF16Arch, f32>("mixed_f16.safetensors"),
            MixedBf16::<f32>::BAKED == loaded::<MixedBf16Arch, f32>("mixed_bf16.safetensors"),
        ] {
            assert!(scalar_f32);
        }
        assert_eq!(
            MixedF64::<f64>::BAKED,
            loaded::<MixedF64Arch, f64>("mixed_f64.safetensors")
        );
        assert_eq!(
            MixedF16::<f64>::BAKED,
            loaded::<MixedF16Arch, f64>("mixed_f16.safetensors")
        );
    }
}
