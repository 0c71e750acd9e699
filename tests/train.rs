//! The training step and the trainer: refusal of non-finite steps,
//! partial batches, determinism, and that training actually learns.

use staticnet::loss::{Loss, Mse};
use staticnet::optim::{Optimizer, Sgd, SgdConfig};
use staticnet::schedule::Constant;
use staticnet::train::{train_step, FitOptions, StepBuffers, StepOptions, Trainer};
use staticnet::{network, Error};

network! {
    /// A small regression net.
    struct Reg(3 -> 2) { Dense<8>, Tanh, Dense<2> }
}

type RegSgd = Sgd<f64, <RegArch as staticnet::Architecture>::ParamLen>;

fn momentum_sgd() -> RegSgd {
    Sgd::new(SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        ..SgdConfig::default()
    })
    .unwrap()
}

fn step_options() -> StepOptions {
    StepOptions {
        lr: 0.05,
        clip: None,
    }
}

#[test]
fn a_non_finite_loss_is_refused_and_nothing_changes() {
    let mut net: Reg<f64> = Reg::seeded(1);
    let mut opt = momentum_sgd();
    let mut bufs = StepBuffers::<RegArch, f64, 2>::new();
    let x = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]];
    let y = [[1.0, 0.0], [0.0, 1.0]];
    // A few good steps first, so the momentum buffer is not trivially zero.
    for _ in 0..3 {
        train_step(
            &mut net,
            &mut opt,
            &Mse::default(),
            &mut bufs,
            &x,
            &y,
            2,
            &step_options(),
        )
        .unwrap();
    }
    let (net_before, opt_before) = (net.clone(), opt.clone());
    let grads_before = bufs.grads.clone();
    assert!(
        grads_before.params().iter().any(|&g| g != 0.0),
        "the last good step's gradients are kept in the buffer"
    );

    let bad_y = [[f64::NAN, 0.0], [0.0, 1.0]];
    let err = train_step(
        &mut net,
        &mut opt,
        &Mse::default(),
        &mut bufs,
        &x,
        &bad_y,
        2,
        &step_options(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteLoss { step: 4, .. }),
        "{err:?}"
    );
    assert!(net == net_before, "parameters changed by a refused step");
    assert_eq!(opt, opt_before, "optimizer state changed by a refused step");
    assert!(
        bufs.grads == grads_before,
        "a step refused at the loss must not touch the gradients"
    );
    assert!(err.to_string().contains("step 4 refused"), "{err}");

    // The run goes on normally afterwards.
    train_step(
        &mut net,
        &mut opt,
        &Mse::default(),
        &mut bufs,
        &x,
        &y,
        2,
        &step_options(),
    )
    .unwrap();
    assert_eq!(opt.steps(), 4);
}

#[test]
fn a_non_finite_gradient_is_refused_and_nothing_changes() {
    let mut net: Reg<f64> = Reg::seeded(2);
    let mut opt = momentum_sgd();
    let mut grads: Reg<f64> = Reg::seeded(3);
    opt.step(&mut net, &grads).unwrap();
    let (net_before, opt_before) = (net.clone(), opt.clone());
    grads.params_mut()[17] = f64::INFINITY;
    let err = opt.step(&mut net, &grads).unwrap_err();
    assert_eq!(
        err,
        Error::NonFiniteGradient {
            step: 2,
            index: 17,
            value: f64::INFINITY
        }
    );
    assert!(net == net_before);
    assert_eq!(opt, opt_before);
}

#[test]
fn padding_rows_of_a_partial_batch_change_nothing() {
    let x2 = [[0.3, -0.2, 0.9], [-0.5, 0.1, 0.4]];
    let y2 = [[0.5, -1.0], [1.5, 0.25]];
    // The same two rows padded to a batch of 4 with unrelated values.
    let x4 = [x2[0], x2[1], [9.0, -7.0, 3.0], [1.0, 1.0, 1.0]];
    let y4 = [y2[0], y2[1], [100.0, -100.0], [3.0, 3.0]];

    let mut net_a: Reg<f64> = Reg::seeded(5);
    let mut net_b = net_a.clone();
    let (mut opt_a, mut opt_b) = (momentum_sgd(), momentum_sgd());
    let mut bufs2 = StepBuffers::<RegArch, f64, 2>::new();
    let mut bufs4 = StepBuffers::<RegArch, f64, 4>::new();
    for _ in 0..5 {
        let la = train_step(
            &mut net_a,
            &mut opt_a,
            &Mse::default(),
            &mut bufs2,
            &x2,
            &y2,
            2,
            &step_options(),
        )
        .unwrap();
        let lb = train_step(
            &mut net_b,
            &mut opt_b,
            &Mse::default(),
            &mut bufs4,
            &x4,
            &y4,
            2,
            &step_options(),
        )
        .unwrap();
        assert_eq!(la, lb);
    }
    assert!(net_a == net_b, "padded rows leaked into the update");
}

fn regression_data() -> (Vec<[f64; 3]>, Vec<[f64; 2]>) {
    // 37 samples: not a multiple of the batch size.
    let xs: Vec<[f64; 3]> = (0..37)
        .map(|i| {
            let t = i as f64 / 37.0;
            [t, (3.0 * t).sin(), 1.0 - t * t]
        })
        .collect();
    let ys = xs
        .iter()
        .map(|x| [x[0] - 0.5 * x[1], x[1] * x[2]])
        .collect();
    (xs, ys)
}

#[test]
fn the_trainer_learns_and_counts_every_sample() {
    let (xs, ys) = regression_data();
    let mut net: Reg<f64> = Reg::seeded(11);
    let options = FitOptions {
        epochs: 300,
        seed: 3,
        ..FitOptions::default()
    };
    let mut trainer =
        Trainer::<_, _, _, _, _, 8>::new(momentum_sgd(), Mse::default(), Constant, options);
    let before = trainer.evaluate(&net, &xs, &ys).unwrap().loss;
    let history = trainer.fit(&mut net, &xs, &ys, Some((&xs, &ys))).unwrap();
    assert_eq!(history.len(), 300);
    // ceil(37 / 8) = 5 steps per epoch: the partial batch is not dropped.
    assert_eq!(trainer.optimizer.steps(), 300 * 5);
    let after = history.last().unwrap().val_loss.unwrap();
    assert!(after < before / 20.0, "loss {before} -> {after}");
    assert_eq!(trainer.evaluate(&net, &xs, &ys).unwrap().loss, after);
    // Direct check of the evaluation against the loss on all rows at once.
    let mut out = [[0.0; 2]; 37];
    let x37: [[f64; 3]; 37] = xs.clone().try_into().unwrap();
    let y37: [[f64; 2]; 37] = ys.clone().try_into().unwrap();
    net.infer(&x37, &mut out);
    let direct = Mse::default().value(&out, &y37).unwrap();
    assert!(
        (direct - after).abs() <= 1e-12 * direct,
        "{direct} vs {after}"
    );
    assert!(history.iter().all(|e| e.train_accuracy.is_none()));
}

#[test]
fn fitting_is_deterministic_by_seed() {
    let (xs, ys) = regression_data();
    let run = |seed| {
        let mut net: Reg<f64> = Reg::seeded(11);
        let options = FitOptions {
            epochs: 5,
            seed,
            ..FitOptions::default()
        };
        let mut t =
            Trainer::<_, _, _, _, _, 4>::new(momentum_sgd(), Mse::default(), Constant, options);
        t.fit(&mut net, &xs, &ys, None).unwrap();
        net
    };
    assert!(run(1) == run(1));
    assert!(run(1) != run(2), "the seed should change the batch order");
}

#[test]
fn mismatched_data_is_rejected_before_anything_changes() {
    let (xs, ys) = regression_data();
    let mut net: Reg<f64> = Reg::seeded(11);
    let before = net.clone();
    let mut t = Trainer::<_, _, _, _, _, 4>::new(
        momentum_sgd(),
        Mse::default(),
        Constant,
        FitOptions::default(),
    );
    let err = t.fit(&mut net, &xs[..10], &ys[..9], None).unwrap_err();
    assert_eq!(
        err,
        Error::DatasetShape {
            inputs: 10,
            targets: 9
        }
    );
    assert!(net == before);
    assert_eq!(t.optimizer.steps(), 0);
    let err = t.fit(&mut net, &xs[..0], &ys[..0], None).unwrap_err();
    assert_eq!(
        err,
        Error::DatasetShape {
            inputs: 0,
            targets: 0
        }
    );
}

#[test]
fn an_invalid_clip_limit_is_refused_before_anything_changes() {
    use staticnet::train::Clip;
    let mut net: Reg<f64> = Reg::seeded(1);
    let before = net.clone();
    let mut opt = momentum_sgd();
    let mut bufs = StepBuffers::<RegArch, f64, 1>::new();
    let options = StepOptions {
        lr: 0.1,
        clip: Some(Clip::Value(-1.0)),
    };
    let err = train_step(
        &mut net,
        &mut opt,
        &Mse::default(),
        &mut bufs,
        &[[0.0; 3]],
        &[[1.0, 1.0]],
        1,
        &options,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "clip_value",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(net == before);
    assert!(!bufs.tape.is_filled());
}
