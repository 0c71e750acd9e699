//! Checkpoints through serde (JSON here): a run resumed from one continues
//! bit-identically, and a checkpoint for something else is refused with
//! nothing changed.
#![cfg(feature = "serde")]

use staticnet::io::bytes::{FormatError, ShapeField};
use staticnet::io::serde::Checkpoint;
use staticnet::loss::Mse;
use staticnet::network;
use staticnet::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use staticnet::train::{train_step, StepBuffers, StepOptions};

network! {
    /// The net being trained.
    struct Net(3 -> 2) { Dense<8>, Tanh, Residual { Dense<8>, Elu }, Dense<2> }
    /// Another shape.
    struct Other(3 -> 2) { Dense<9>, Tanh, Dense<2> }
}

type NetAdam = Adam<f32, <NetArch as staticnet::Architecture>::ParamLen>;

fn adam(lr: f64) -> NetAdam {
    Adam::new(AdamConfig {
        lr,
        amsgrad: true,
        ..AdamConfig::default()
    })
    .unwrap()
}

fn steps(net: &mut Net, opt: &mut NetAdam, from: usize, to: usize) {
    let mut bufs = StepBuffers::<NetArch, f32, 4>::new();
    for s in from..to {
        let x: [[f32; 3]; 4] = core::array::from_fn(|b| {
            core::array::from_fn(|i| ((s + b * 3 + i) % 7) as f32 / 3.5 - 1.0)
        });
        let y: [[f32; 2]; 4] = core::array::from_fn(|b| [((s + b) % 3) as f32 - 1.0, 0.5]);
        let opts = StepOptions {
            lr: 0.01,
            clip: None,
        };
        train_step(net, opt, &Mse::default(), &mut bufs, &x, &y, 4, &opts).unwrap();
    }
}

#[test]
fn a_run_resumed_from_json_continues_bit_identically() {
    let mut straight: Net = Net::seeded(4);
    let mut straight_opt = adam(0.01);
    steps(&mut straight, &mut straight_opt, 0, 12);

    let mut first: Net = Net::seeded(4);
    let mut first_opt = adam(0.01);
    steps(&mut first, &mut first_opt, 0, 6);
    let json = serde_json::to_string(&Checkpoint::capture(&first, &first_opt)).unwrap();

    // Restore into a differently seeded net and a differently configured
    // optimizer: the checkpoint brings everything back.
    let mut resumed: Net = Net::seeded(99);
    let mut resumed_opt = adam(0.5);
    let checkpoint: Checkpoint = serde_json::from_str(&json).unwrap();
    checkpoint.restore(&mut resumed, &mut resumed_opt).unwrap();
    assert_eq!(resumed_opt, first_opt);
    steps(&mut resumed, &mut resumed_opt, 6, 12);

    let bits = |n: &Net| n.params().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed), bits(&straight));
    assert_eq!(resumed_opt, straight_opt);
}

#[test]
fn a_checkpoint_for_something_else_is_refused_and_changes_nothing() {
    let net: Net = Net::seeded(1);
    let opt = adam(0.01);
    let checkpoint = Checkpoint::capture(&net, &opt);

    let mut other: Other = Other::seeded(2);
    let mut other_opt = Adam::new(AdamConfig::default()).unwrap();
    let before = other.clone();
    let err = checkpoint.restore(&mut other, &mut other_opt).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Shape {
                field: ShapeField::ParamCount,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(other == before);

    let mut target: Net = Net::seeded(3);
    let target_before = target.clone();
    let mut sgd = Sgd::new(SgdConfig::default()).unwrap();
    let err = checkpoint.restore(&mut target, &mut sgd).unwrap_err();
    assert!(matches!(err, FormatError::Optimizer { .. }), "{err:?}");
    assert!(target == target_before);

    let mut wrong_scalar = checkpoint.clone();
    wrong_scalar.scalar = "f64".into();
    let mut target_opt = adam(0.01);
    let err = wrong_scalar
        .restore(&mut target, &mut target_opt)
        .unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Scalar {
                found: "f64",
                expected: "f32"
            }
        ),
        "{err:?}"
    );

    let mut short_buffer = checkpoint.clone();
    short_buffer.buffers[1].pop();
    assert!(short_buffer.restore(&mut target, &mut target_opt).is_err());
    assert!(target == target_before);
    assert_eq!(target_opt, adam(0.01));
}
