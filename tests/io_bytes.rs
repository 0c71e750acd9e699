//! The byte format: parameters and checkpoints round-trip bit for bit, a
//! file for another network, scalar type or optimizer is refused with an
//! error naming what differs, every refusal leaves the network and the
//! optimizer untouched, and a run resumed from a checkpoint continues
//! exactly as if it had never stopped.

use staticnet::io::bytes::{self, CheckpointState, Content, FormatError, ShapeField};
use staticnet::loss::Mse;
use staticnet::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, RmsProp, RmsPropConfig, Sgd,
    SgdConfig,
};
use staticnet::schedule::{ExponentialLr, Schedule};
use staticnet::train::{train_step, StepBuffers, StepOptions};
use staticnet::{Architecture, Error};
use std::fmt::Debug;

staticnet::network! {
    /// The network every test saves.
    pub struct Net(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        Dense<2>,
    }
    /// Same widths and parameter count, another activation.
    pub struct NetRelu(3 -> 2) {
        Dense<8>, Relu,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        Dense<2>,
    }
    /// Same widths and parameter count, another activation argument.
    pub struct NetLeaky(3 -> 2) {
        Dense<8>, LeakyRelu(0.01),
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        Dense<2>,
    }
    /// Same widths, another parameter count.
    pub struct Narrow(3 -> 2) { Dense<4>, Tanh, Dense<2> }
    /// Another input width.
    pub struct WideIn(4 -> 2) { Dense<8>, Tanh, Dense<2> }
    /// Another output width.
    pub struct WideOut(3 -> 3) { Dense<8>, Tanh, Dense<3> }
}

type P = <NetArch as Architecture>::ParamLen;
const BATCH: usize = 4;

fn bits<T: Copy + Into<f64>>(values: &[T]) -> Vec<u64> {
    values.iter().map(|&v| v.into().to_bits()).collect()
}

fn saved<A: Architecture>(net: &staticnet::Network<A, f32>) -> Vec<u8> {
    let mut buf = vec![0u8; bytes::params_len::<A, f32>()];
    assert_eq!(bytes::save(net, &mut buf), Ok(buf.len()));
    buf
}

/// FNV-1a 64 over everything but the last 8 bytes, written into them: a
/// file changed on purpose, with a valid checksum.
fn reseal(buf: &mut [u8]) {
    let end = buf.len() - 8;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in &buf[..end] {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    buf[end..].copy_from_slice(&h.to_le_bytes());
}

#[test]
fn parameters_round_trip_bit_for_bit_in_both_scalar_types() {
    let net: Net = Net::seeded(1);
    let mut restored: Net = Net::zeroed();
    bytes::load(&mut restored, &saved(&net)).unwrap();
    assert_eq!(bits(restored.params()), bits(net.params()));

    let wide: Net<f64> = Net::seeded(2);
    let mut buf = vec![0u8; bytes::params_len::<NetArch, f64>()];
    bytes::save(&wide, &mut buf).unwrap();
    let mut restored: Net<f64> = Net::zeroed();
    bytes::load(&mut restored, &buf).unwrap();
    assert_eq!(bits(restored.params()), bits(wide.params()));
}

/// Loads `file` into a seeded `A` and checks the error and that the
/// network kept every value.
fn refused<A: Architecture>(file: &[u8], expected: FormatError) {
    let mut net = staticnet::Network::<A, f32>::seeded(9);
    let before = net.clone();
    assert_eq!(bytes::load(&mut net, file), Err(expected));
    assert_eq!(bits(net.params()), bits(before.params()));
}

#[test]
fn a_file_for_another_shape_names_what_differs() {
    let file = saved(&Net::<f32>::seeded(1));
    let params = Net::<f32>::PARAMS as u64;
    let shape = |field, found, expected| FormatError::Shape {
        field,
        found,
        expected,
    };
    refused::<WideInArch>(&file, shape(ShapeField::InputWidth, 3, 4));
    refused::<WideOutArch>(&file, shape(ShapeField::OutputWidth, 2, 3));
    refused::<NarrowArch>(
        &file,
        shape(ShapeField::ParamCount, params, Narrow::<f32>::PARAMS as u64),
    );
    // Same widths and parameter count: only the layer hash tells them apart.
    assert_eq!(NetRelu::<f32>::PARAMS as u64, params);
    let hash = staticnet::io::layers_hash::<NetArch>();
    for other in [
        staticnet::io::layers_hash::<NetReluArch>(),
        staticnet::io::layers_hash::<NetLeakyArch>(),
    ] {
        assert_ne!(other, hash);
    }
    refused::<NetReluArch>(
        &file,
        shape(
            ShapeField::Layers,
            hash,
            staticnet::io::layers_hash::<NetReluArch>(),
        ),
    );
    refused::<NetLeakyArch>(
        &file,
        shape(
            ShapeField::Layers,
            hash,
            staticnet::io::layers_hash::<NetLeakyArch>(),
        ),
    );
}

#[test]
fn a_file_of_another_scalar_type_is_refused() {
    let wide: Net<f64> = Net::seeded(2);
    let mut buf = vec![0u8; bytes::params_len::<NetArch, f64>()];
    bytes::save(&wide, &mut buf).unwrap();
    refused::<NetArch>(
        &buf,
        FormatError::Scalar {
            found: "f64",
            expected: "f32",
        },
    );
}

#[test]
fn damaged_files_are_refused() {
    let file = saved(&Net::<f32>::seeded(1));
    let len = file.len();

    refused::<NetArch>(
        &file[..len - 1],
        FormatError::Truncated {
            needed: len,
            available: len - 1,
        },
    );
    let mut longer = file.clone();
    longer.push(0);
    refused::<NetArch>(
        &longer,
        FormatError::TrailingBytes {
            expected: len,
            available: len + 1,
        },
    );

    let mut flipped = file.clone();
    flipped[100] ^= 0x10;
    let err = {
        let mut net: Net = Net::zeroed();
        bytes::load(&mut net, &flipped).unwrap_err()
    };
    assert!(matches!(err, FormatError::Checksum { .. }), "{err}");

    let mut foreign = file.clone();
    foreign[..4].copy_from_slice(b"PK\x03\x04");
    refused::<NetArch>(
        &foreign,
        FormatError::NotStaticnet {
            found: *b"PK\x03\x04",
        },
    );

    let mut newer = file.clone();
    newer[4] = 2;
    refused::<NetArch>(
        &newer,
        FormatError::UnsupportedVersion {
            found: 2,
            supported: 1,
        },
    );

    let mut odd_scalar = file.clone();
    odd_scalar[7] = 2;
    refused::<NetArch>(&odd_scalar, FormatError::UnknownScalar { code: 2 });

    // A file claiming more parameters than exist is truncated, not read
    // out of bounds; one claiming an impossible count cannot overflow.
    for count in [u64::from(u32::MAX), u64::MAX] {
        let mut huge = file.clone();
        huge[16..24].copy_from_slice(&count.to_le_bytes());
        let mut net: Net = Net::zeroed();
        let err = bytes::load(&mut net, &huge).unwrap_err();
        assert!(matches!(err, FormatError::Truncated { .. }), "{err}");
    }
}

#[test]
fn errors_read_well() {
    let file = saved(&Net::<f32>::seeded(1));
    let mut net: NetRelu = NetRelu::zeroed();
    let message = bytes::load(&mut net, &file).unwrap_err().to_string();
    assert!(message.contains("other layers or activations"), "{message}");
    let mut net: WideIn = WideIn::zeroed();
    let message = bytes::load(&mut net, &file).unwrap_err().to_string();
    assert_eq!(
        message,
        "file is for another network shape: input width is 3 in the file, 4 in the network"
    );
}

/// A fixed stream of batches: inputs in [-1, 1], smooth targets.
fn batch(step: usize) -> ([[f32; 3]; BATCH], [[f32; 2]; BATCH]) {
    let mut x = [[0.0f32; 3]; BATCH];
    let mut y = [[0.0f32; 2]; BATCH];
    for (r, (xr, yr)) in x.iter_mut().zip(&mut y).enumerate() {
        for (c, v) in xr.iter_mut().enumerate() {
            *v = (((step * 7 + r * 3 + c * 5) % 17) as f32 / 8.0) - 1.0;
        }
        yr[0] = (xr[0] * xr[1]).sin();
        yr[1] = xr[2] - 0.5 * xr[0];
    }
    (x, y)
}

/// One training step at the decayed learning rate of the optimizer's own
/// step count, so a lost step count would change the learning rate too.
fn step<O: CheckpointState<f32, P>>(
    net: &mut Net,
    opt: &mut O,
    bufs: &mut StepBuffers<NetArch, f32, BATCH>,
    i: usize,
) {
    let (x, y) = batch(i);
    let schedule = ExponentialLr::new(0.95).unwrap();
    let options = StepOptions {
        lr: schedule.lr(opt.lr(), opt.steps()),
        clip: None,
    };
    train_step(net, opt, &Mse::default(), bufs, &x, &y, BATCH, &options).unwrap();
}

/// Trains 2n steps straight, and n steps, a checkpoint, a restore into a
/// differently seeded network and a differently configured optimizer, then
/// n more; both must end bit-identical.
fn resume_matches_an_uninterrupted_run<O>(make: impl Fn() -> O, stranger: O)
where
    O: CheckpointState<f32, P> + PartialEq + Debug,
{
    const N: usize = 12;
    let mut bufs = StepBuffers::<NetArch, f32, BATCH>::new();

    let mut straight_net: Net = Net::seeded(5);
    let mut straight_opt = make();
    for i in 0..2 * N {
        step(&mut straight_net, &mut straight_opt, &mut bufs, i);
    }

    let mut checkpoint = vec![0u8; bytes::checkpoint_len::<NetArch, f32, O>()];
    {
        let mut net: Net = Net::seeded(5);
        let mut opt = make();
        for i in 0..N {
            step(&mut net, &mut opt, &mut bufs, i);
        }
        let written = bytes::save_checkpoint(&net, &opt, &mut checkpoint).unwrap();
        assert_eq!(written, checkpoint.len());
    }

    let mut net: Net = Net::seeded(77);
    let mut opt = stranger;
    assert_ne!(opt, straight_opt);
    bytes::load_checkpoint(&mut net, &mut opt, &checkpoint).unwrap();
    assert_eq!(opt.steps(), N as u64);
    for i in N..2 * N {
        step(&mut net, &mut opt, &mut bufs, i);
    }
    assert_eq!(bits(net.params()), bits(straight_net.params()));
    assert_eq!(opt, straight_opt);
}

#[test]
fn resumed_runs_continue_bit_identically_for_every_optimizer() {
    let sgd = SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-3,
        ..SgdConfig::default()
    };
    resume_matches_an_uninterrupted_run(
        || Sgd::new(sgd).unwrap(),
        Sgd::new(SgdConfig::default()).unwrap(),
    );
    let adagrad = AdagradConfig {
        lr: 0.05,
        lr_decay: 0.01,
        initial_accumulator_value: 0.1,
        ..AdagradConfig::default()
    };
    resume_matches_an_uninterrupted_run(
        || Adagrad::new(adagrad).unwrap(),
        Adagrad::new(AdagradConfig::default()).unwrap(),
    );
    let rmsprop = RmsPropConfig {
        lr: 0.01,
        momentum: 0.5,
        centered: true,
        ..RmsPropConfig::default()
    };
    resume_matches_an_uninterrupted_run(
        || RmsProp::new(rmsprop).unwrap(),
        RmsProp::new(RmsPropConfig::default()).unwrap(),
    );
    let adam = AdamConfig {
        lr: 0.01,
        amsgrad: true,
        weight_decay: 1e-3,
        ..AdamConfig::default()
    };
    resume_matches_an_uninterrupted_run(
        || Adam::new(adam).unwrap(),
        Adam::new(AdamConfig::default()).unwrap(),
    );
    let adamw = AdamWConfig {
        lr: 0.01,
        betas: (0.8, 0.99),
        ..AdamWConfig::default()
    };
    resume_matches_an_uninterrupted_run(
        || AdamW::new(adamw).unwrap(),
        AdamW::new(AdamWConfig::default()).unwrap(),
    );
}

/// A checkpoint of Net after a few Adam steps.
fn adam_checkpoint() -> (Net, Adam<f32, P>, Vec<u8>) {
    let mut net: Net = Net::seeded(3);
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    let mut bufs = StepBuffers::<NetArch, f32, BATCH>::new();
    for i in 0..3 {
        step(&mut net, &mut opt, &mut bufs, i);
    }
    let mut buf = vec![0u8; bytes::checkpoint_len::<NetArch, f32, Adam<f32, P>>()];
    bytes::save_checkpoint(&net, &opt, &mut buf).unwrap();
    (net, opt, buf)
}

/// Restores `file` into a seeded net and `opt`, checks the error and that
/// neither changed.
fn checkpoint_refused<O>(file: &[u8], mut opt: O, expected: FormatError)
where
    O: CheckpointState<f32, P> + PartialEq + Debug + Clone,
{
    let mut net: Net = Net::seeded(9);
    let (net_before, opt_before) = (net.clone(), opt.clone());
    assert_eq!(
        bytes::load_checkpoint(&mut net, &mut opt, file),
        Err(expected)
    );
    assert_eq!(bits(net.params()), bits(net_before.params()));
    assert_eq!(opt, opt_before);
}

#[test]
fn checkpoints_of_another_optimizer_or_content_are_refused() {
    let (net, _, file) = adam_checkpoint();
    let fresh_adam = || Adam::<f32, P>::new(AdamConfig::default()).unwrap();
    checkpoint_refused(
        &file,
        AdamW::<f32, P>::new(AdamWConfig::default()).unwrap(),
        FormatError::Optimizer {
            found: *b"Adam\0\0\0\0",
            expected: "AdamW",
        },
    );
    checkpoint_refused(
        &file,
        Sgd::<f32, P>::new(SgdConfig::default()).unwrap(),
        FormatError::Optimizer {
            found: *b"Adam\0\0\0\0",
            expected: "SGD",
        },
    );
    // A parameter file is not a checkpoint, nor the reverse.
    checkpoint_refused(
        &saved(&net),
        fresh_adam(),
        FormatError::WrongContent {
            found: Content::Parameters,
            expected: Content::Checkpoint,
        },
    );
    refused::<NetArch>(
        &file,
        FormatError::WrongContent {
            found: Content::Checkpoint,
            expected: Content::Parameters,
        },
    );
    // Truncated inside the optimizer section.
    checkpoint_refused(
        &file[..50],
        fresh_adam(),
        FormatError::Truncated {
            needed: 56,
            available: 50,
        },
    );
}

#[test]
fn a_checkpoint_with_an_invalid_setting_is_refused() {
    let (net, mut opt, _) = adam_checkpoint();
    opt.config.betas.1 = 1.5;
    let mut file = vec![0u8; bytes::checkpoint_len::<NetArch, f32, Adam<f32, P>>()];
    bytes::save_checkpoint(&net, &opt, &mut file).unwrap();
    let fresh = Adam::<f32, P>::new(AdamConfig::default()).unwrap();
    let expected = FormatError::Config(Error::InvalidConfig {
        optimizer: "Adam",
        field: "betas.1",
        expected: "a number in [0, 1)",
        value: 1.5,
    });
    checkpoint_refused(&file, fresh.clone(), expected);

    // The amsgrad flag is the sixth hyperparameter, at 32 + 24 + 5·8.
    let (_, _, mut file) = adam_checkpoint();
    file[96..104].copy_from_slice(&0.5f64.to_le_bytes());
    reseal(&mut file);
    let expected = FormatError::Config(Error::InvalidConfig {
        optimizer: "Adam",
        field: "amsgrad",
        expected: "0 or 1 (a flag)",
        value: 0.5,
    });
    checkpoint_refused(&file, fresh, expected);
}

#[test]
fn a_checkpoint_restores_everything() {
    let (net, opt, file) = adam_checkpoint();
    let mut restored_net: Net = Net::zeroed();
    let mut restored = Adam::<f32, P>::new(AdamConfig {
        lr: 0.5,
        amsgrad: true,
        ..AdamConfig::default()
    })
    .unwrap();
    bytes::load_checkpoint(&mut restored_net, &mut restored, &file).unwrap();
    assert_eq!(restored, opt);
    assert_eq!(restored.step, 3);
    assert_eq!(bits(restored_net.params()), bits(net.params()));
    assert_eq!(file.len(), 32 + 24 + 6 * 8 + 4 * Net::<f32>::PARAMS * 4 + 8);
}

#[test]
fn a_short_output_buffer_is_left_alone() {
    let (net, opt, _) = adam_checkpoint();
    let mut small = vec![0xaau8; 64];
    let needed = bytes::checkpoint_len::<NetArch, f32, Adam<f32, P>>();
    assert_eq!(
        bytes::save_checkpoint(&net, &opt, &mut small),
        Err(FormatError::BufferTooSmall {
            needed,
            available: 64
        })
    );
    assert!(small.iter().all(|&b| b == 0xaa));
    // A longer buffer is fine: the length written is returned.
    let mut big = vec![0u8; needed + 10];
    assert_eq!(bytes::save_checkpoint(&net, &opt, &mut big), Ok(needed));
}
