//! Malformed input: every single-bit flip of a valid file (all of them),
//! and random truncations, multi-bit flips and garbage (by property), are
//! errors, never panics, and never partial updates (the network and
//! optimizer keep every value). For safetensors, whose data carries no
//! checksum, a flip in the tensor data must instead load and change
//! exactly the one parameter it hit.

use proptest::prelude::*;
use staticnet::io::bytes;
use staticnet::optim::{Adam, AdamConfig, Optimizer};
use staticnet::Architecture;

staticnet::network! {
    /// Residual blocks (one nested), a layer without bias, most
    /// activations: the net of tests/fixtures/mixed*.safetensors.
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

type Opt = Adam<f32, <MixedArch as Architecture>::ParamLen>;

fn params_file() -> Vec<u8> {
    let net: Mixed = Mixed::seeded(7);
    let mut buf = vec![0u8; bytes::params_len::<MixedArch, f32>()];
    bytes::save(&net, &mut buf).unwrap();
    buf
}

fn checkpoint_file() -> Vec<u8> {
    let mut net: Mixed = Mixed::seeded(7);
    let mut opt: Opt = Adam::new(AdamConfig::default()).unwrap();
    let grads: Mixed = Mixed::seeded(8);
    for _ in 0..2 {
        opt.step(&mut net, &grads).unwrap();
    }
    let mut buf = vec![0u8; bytes::checkpoint_len::<MixedArch, f32, Opt>()];
    bytes::save_checkpoint(&net, &opt, &mut buf).unwrap();
    buf
}

/// Loads `data` into a seeded network; it must fail and change nothing.
fn params_refused(data: &[u8]) -> Result<(), TestCaseError> {
    let mut net: Mixed = Mixed::seeded(1);
    let before = net.clone();
    prop_assert!(bytes::load(&mut net, data).is_err());
    prop_assert!(net == before);
    Ok(())
}

/// Restores `data` into a seeded network and a fresh optimizer; it must
/// fail and change neither.
fn checkpoint_refused(data: &[u8]) -> Result<(), TestCaseError> {
    let mut net: Mixed = Mixed::seeded(1);
    let mut opt: Opt = Adam::new(AdamConfig::default()).unwrap();
    let (net_before, opt_before) = (net.clone(), opt.clone());
    prop_assert!(bytes::load_checkpoint(&mut net, &mut opt, data).is_err());
    prop_assert!(net == net_before);
    prop_assert!(opt == opt_before);
    Ok(())
}

fn flipped(file: &[u8], bit: usize) -> Vec<u8> {
    let mut data = file.to_vec();
    data[bit / 8] ^= 1 << (bit % 8);
    data
}

proptest! {
    #[test]
    fn every_truncated_parameter_file_is_refused(cut in 0usize..1744) {
        let file = params_file();
        prop_assume!(cut < file.len());
        params_refused(&file[..cut])?;
    }

    #[test]
    fn random_bit_flips_in_a_parameter_file_are_refused(bits in prop::collection::vec(any::<prop::sample::Index>(), 1..16)) {
        let mut file = params_file();
        for bit in bits {
            file = flipped(&file, bit.index(file.len() * 8));
        }
        prop_assume!(file != params_file());
        params_refused(&file)?;
    }

    #[test]
    fn every_truncated_checkpoint_is_refused(cut in 0usize..6928) {
        let file = checkpoint_file();
        prop_assume!(cut < file.len());
        checkpoint_refused(&file[..cut])?;
    }

    #[test]
    fn random_bit_flips_in_a_checkpoint_are_refused(bits in prop::collection::vec(any::<prop::sample::Index>(), 1..16)) {
        let mut file = checkpoint_file();
        for bit in bits {
            file = flipped(&file, bit.index(file.len() * 8));
        }
        prop_assume!(file != checkpoint_file());
        checkpoint_refused(&file)?;
    }

    #[test]
    fn garbage_is_refused(data in prop::collection::vec(any::<u8>(), 0..256), magic in any::<bool>()) {
        // With the magic and version in front, the reader gets past its
        // first checks and into the lengths.
        let mut data = data;
        if magic {
            data.splice(0..0, *b"SNET\x01\x00\x01\x04");
        }
        params_refused(&data)?;
        checkpoint_refused(&data)?;
    }
}

/// Every file that differs from `file` in one bit must be refused.
fn every_single_bit_flip(file: &[u8], refused: fn(&[u8]) -> Result<(), TestCaseError>) {
    for bit in 0..file.len() * 8 {
        if let Err(e) = refused(&flipped(file, bit)) {
            panic!("bit {bit}: {e}");
        }
    }
}

#[test]
fn every_single_bit_flip_of_a_parameter_file_is_refused() {
    every_single_bit_flip(&params_file(), params_refused);
}

#[test]
fn every_single_bit_flip_of_a_checkpoint_is_refused() {
    every_single_bit_flip(&checkpoint_file(), checkpoint_refused);
}

#[test]
fn the_property_files_have_the_sizes_the_strategies_assume() {
    assert_eq!(params_file().len(), 1744);
    assert_eq!(checkpoint_file().len(), 6928);
}

#[cfg(feature = "safetensors")]
mod safetensors_files {
    use super::*;
    use staticnet::io::safetensors::{self, LoadOptions};

    fn fixture() -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/mixed.safetensors",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// Where the tensor data starts.
    fn data_start(file: &[u8]) -> usize {
        8 + u64::from_le_bytes(file[..8].try_into().unwrap()) as usize
    }

    fn refused(data: &[u8], strict: bool) -> Result<(), TestCaseError> {
        let mut net: Mixed = Mixed::seeded(1);
        let before = net.clone();
        let options = LoadOptions {
            names: None,
            strict,
        };
        prop_assert!(safetensors::load_with(&mut net, data, &options).is_err());
        prop_assert!(net == before);
        Ok(())
    }

    proptest! {
        #[test]
        fn every_truncated_file_is_refused(cut in 0usize..2712) {
            let file = fixture();
            prop_assume!(cut < file.len());
            refused(&file[..cut], true)?;
            refused(&file[..cut], false)?;
        }

        #[test]
        fn garbage_is_refused(data in prop::collection::vec(any::<u8>(), 0..256), json in any::<bool>()) {
            // With a plausible length and the start of a header in front,
            // the reader gets into the JSON.
            let mut data = data;
            if json {
                let len = data.len() as u64 + 2;
                let mut head = len.to_le_bytes().to_vec();
                head.extend_from_slice(b"{\"");
                data.splice(0..0, head);
            }
            refused(&data, false)?;
        }
    }

    #[test]
    fn every_single_bit_flip_in_the_header_is_refused() {
        let file = fixture();
        for bit in 0..data_start(&file) * 8 {
            if let Err(e) = refused(&flipped(&file, bit), true) {
                panic!("bit {bit}: {e}");
            }
        }
    }

    #[test]
    fn every_single_bit_flip_in_the_data_changes_exactly_one_parameter() {
        let file = fixture();
        let mut reference: Mixed = Mixed::zeroed();
        safetensors::load(&mut reference, &file).unwrap();
        for bit in data_start(&file) * 8..file.len() * 8 {
            let mut net: Mixed = Mixed::zeroed();
            safetensors::load(&mut net, &flipped(&file, bit)).unwrap();
            let changed = net
                .params()
                .iter()
                .zip(reference.params())
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(changed, 1, "bit {bit}");
        }
    }

    #[test]
    fn the_fixture_has_the_size_the_strategies_assume() {
        assert_eq!(fixture().len(), 2712);
    }
}
