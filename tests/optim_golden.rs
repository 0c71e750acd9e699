//! Optimizer trajectories against PyTorch: every configuration of
//! `scripts/golden_optim.py` replayed through our optimizers from the same
//! start on the same ten gradients (read from `tests/golden/optim.txt`),
//! parameters compared after every step, in `f64` and `f32`. Also: a state
//! cloned (or rebuilt from its public fields) mid-run continues exactly as
//! the uninterrupted run.

mod golden;

use generic_array::typenum::U6;
use generic_array::GenericArray;
use golden::{max_rel_dev, Golden};
use staticnet::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
use staticnet::Scalar;

/// Six parameters, as in the golden file.
type Params<T> = GenericArray<T, U6>;

const STEPS: usize = 10;

/// `f64`: each update rounds a handful of times (~1e-16 relative), and the
/// two sides may round differently (`libm` against the C library for the
/// bias corrections' powers, fused multiply-adds in PyTorch's kernels); ten
/// steps stay orders of magnitude below 1e-10, while a wrong formula,
/// default or order of decay moves the parameters by far more.
const F64_TOL: f64 = 1e-10;

/// `f32`: the same arithmetic at 2⁻²⁴ ≈ 6e-8 per rounding, over ten steps.
const F32_TOL: f64 = 1e-5;

/// One optimizer configuration of the golden file.
#[derive(Clone, Copy, Debug)]
enum Config {
    Sgd(SgdConfig),
    Adagrad(AdagradConfig),
    RmsProp(RmsPropConfig),
    Adam(AdamConfig),
    AdamW(AdamWConfig),
}

/// The configurations, named as in `scripts/golden_optim.py` (`CONFIGS`),
/// with the same hyperparameters.
fn cases() -> Vec<(&'static str, Config)> {
    let sgd = SgdConfig::default();
    let adagrad = AdagradConfig::default();
    let rmsprop = RmsPropConfig::default();
    let adam = AdamConfig::default();
    let adamw = AdamWConfig::default();
    vec![
        ("sgd/plain", Config::Sgd(SgdConfig { lr: 0.1, ..sgd })),
        (
            "sgd/momentum",
            Config::Sgd(SgdConfig {
                lr: 0.05,
                momentum: 0.9,
                ..sgd
            }),
        ),
        (
            "sgd/dampening",
            Config::Sgd(SgdConfig {
                lr: 0.05,
                momentum: 0.9,
                dampening: 0.3,
                ..sgd
            }),
        ),
        (
            "sgd/nesterov",
            Config::Sgd(SgdConfig {
                lr: 0.05,
                momentum: 0.9,
                nesterov: true,
                ..sgd
            }),
        ),
        (
            "sgd/weight_decay",
            Config::Sgd(SgdConfig {
                lr: 0.1,
                weight_decay: 0.05,
                ..sgd
            }),
        ),
        (
            "sgd/nesterov_weight_decay",
            Config::Sgd(SgdConfig {
                lr: 0.05,
                momentum: 0.8,
                nesterov: true,
                weight_decay: 0.01,
                ..sgd
            }),
        ),
        (
            "sgd/momentum_lr_varies",
            Config::Sgd(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                ..sgd
            }),
        ),
        ("adagrad/default", Config::Adagrad(adagrad)),
        (
            "adagrad/lr_decay",
            Config::Adagrad(AdagradConfig {
                lr: 0.1,
                lr_decay: 0.05,
                ..adagrad
            }),
        ),
        (
            "adagrad/initial_accumulator_value",
            Config::Adagrad(AdagradConfig {
                lr: 0.1,
                initial_accumulator_value: 0.5,
                ..adagrad
            }),
        ),
        (
            "adagrad/weight_decay",
            Config::Adagrad(AdagradConfig {
                lr: 0.1,
                weight_decay: 0.1,
                ..adagrad
            }),
        ),
        ("rmsprop/default", Config::RmsProp(rmsprop)),
        (
            "rmsprop/momentum",
            Config::RmsProp(RmsPropConfig {
                lr: 0.01,
                momentum: 0.9,
                ..rmsprop
            }),
        ),
        (
            "rmsprop/centered",
            Config::RmsProp(RmsPropConfig {
                lr: 0.01,
                centered: true,
                ..rmsprop
            }),
        ),
        (
            "rmsprop/centered_momentum",
            Config::RmsProp(RmsPropConfig {
                lr: 0.01,
                centered: true,
                momentum: 0.5,
                ..rmsprop
            }),
        ),
        (
            "rmsprop/weight_decay",
            Config::RmsProp(RmsPropConfig {
                lr: 0.01,
                alpha: 0.9,
                weight_decay: 0.1,
                ..rmsprop
            }),
        ),
        ("adam/default", Config::Adam(adam)),
        (
            "adam/amsgrad",
            Config::Adam(AdamConfig {
                lr: 0.01,
                amsgrad: true,
                ..adam
            }),
        ),
        (
            "adam/weight_decay",
            Config::Adam(AdamConfig {
                lr: 0.01,
                betas: (0.8, 0.99),
                weight_decay: 0.1,
                ..adam
            }),
        ),
        ("adamw/default", Config::AdamW(adamw)),
        (
            "adamw/amsgrad",
            Config::AdamW(AdamWConfig {
                lr: 0.01,
                amsgrad: true,
                weight_decay: 0.05,
                ..adamw
            }),
        ),
        (
            "adamw/lr_varies",
            Config::AdamW(AdamWConfig {
                lr: 0.1,
                weight_decay: 0.1,
                ..adamw
            }),
        ),
    ]
}

fn load() -> Golden {
    Golden::load("optim.txt")
}

fn params<T: Scalar>(values: &[f64]) -> Params<T> {
    assert_eq!(values.len(), 6, "the golden vectors have six entries");
    Params::<T>::from_iter(values.iter().map(|&v| T::from_f64(v)))
}

fn to_f64<T: Scalar>(p: &Params<T>) -> Vec<f64> {
    p.iter().map(|v| v.to_f64()).collect()
}

/// The learning rate of each step: the recorded per-step rates for the
/// cases that have them, else the configured rate.
fn rates(g: &Golden, name: &str, configured: f64) -> Vec<f64> {
    let key = format!("{name}/lr");
    if g.keys_with_prefix(&key).any(|k| k == key) {
        g.get(&key).to_vec()
    } else {
        vec![configured; STEPS]
    }
}

/// Replays one configuration; returns the largest relative deviation from
/// PyTorch's parameters over all steps.
fn replay<T: Scalar, O: Optimizer<T, U6>>(g: &Golden, name: &str, mut opt: O) -> f64 {
    let dtype = T::NAME;
    let mut p = params::<T>(g.get(&format!("init/{dtype}")));
    let lrs = rates(g, name, opt.lr());
    assert_eq!(lrs.len(), STEPS);
    let mut worst = 0.0f64;
    for (k, &lr) in (1..=STEPS).zip(&lrs) {
        let grad = params::<T>(g.get(&format!("grads/{dtype}/step{k}")));
        opt.update(&mut p, &grad, lr);
        let expected = g.get(&format!("{name}/{dtype}/step{k}"));
        worst = worst.max(max_rel_dev(&to_f64(&p), expected, 0.0));
    }
    assert_eq!(opt.steps(), STEPS as u64);
    worst
}

fn run<T: Scalar>(g: &Golden, name: &str, config: Config) -> f64 {
    match config {
        Config::Sgd(c) => replay::<T, _>(g, name, Sgd::<T, U6>::new(c).unwrap()),
        Config::Adagrad(c) => replay::<T, _>(g, name, Adagrad::<T, U6>::new(c).unwrap()),
        Config::RmsProp(c) => replay::<T, _>(g, name, RmsProp::<T, U6>::new(c).unwrap()),
        Config::Adam(c) => replay::<T, _>(g, name, Adam::<T, U6>::new(c).unwrap()),
        Config::AdamW(c) => replay::<T, _>(g, name, AdamW::<T, U6>::new(c).unwrap()),
    }
}

/// Checks every case whose name starts with `family/`, in both dtypes.
fn check_family(family: &str) {
    let g = load();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, config) in cases() {
        if !name.starts_with(&format!("{family}/")) {
            continue;
        }
        for (dtype, dev, tol) in [
            ("f64", run::<f64>(&g, name, config), F64_TOL),
            ("f32", run::<f32>(&g, name, config), F32_TOL),
        ] {
            eprintln!("{name:<36} {dtype}: max relative deviation {dev:.3e}");
            if dev.is_nan() || dev > tol {
                failures.push(format!("{name} {dtype}: {dev:e} > {tol:e}"));
            }
        }
        checked += 1;
    }
    assert!(checked > 0, "no golden cases for {family}");
    assert!(
        failures.is_empty(),
        "trajectories off PyTorch's:\n{}",
        failures.join("\n")
    );
}

#[test]
fn sgd_matches_pytorch() {
    check_family("sgd");
}

#[test]
fn adagrad_matches_pytorch() {
    check_family("adagrad");
}

#[test]
fn rmsprop_matches_pytorch() {
    check_family("rmsprop");
}

#[test]
fn adam_matches_pytorch() {
    check_family("adam");
}

#[test]
fn adamw_matches_pytorch() {
    check_family("adamw");
}

#[test]
fn every_golden_trajectory_is_checked() {
    let g = load();
    let mut in_file: Vec<&str> = g
        .keys_with_prefix("")
        .filter_map(|k| k.strip_suffix("/f64/step1"))
        .filter(|name| *name != "grads")
        .collect();
    in_file.sort_unstable();
    let mut here: Vec<&str> = cases().iter().map(|(n, _)| *n).collect();
    here.sort_unstable();
    assert_eq!(in_file, here);
}

/// Ten golden gradients in `f64`.
fn gradients(g: &Golden) -> Vec<Params<f64>> {
    (1..=STEPS)
        .map(|k| params::<f64>(g.get(&format!("grads/f64/step{k}"))))
        .collect()
}

/// Runs `opt` over all gradients straight, and again with the state cloned
/// after `split` steps (the original then thrown off course); both must end
/// bit-identical, state included.
fn clone_resumes<O: Optimizer<f64, U6> + Clone + PartialEq + core::fmt::Debug>(
    g: &Golden,
    opt: O,
    split: usize,
) {
    let grads = gradients(g);
    let start = params::<f64>(g.get("init/f64"));
    let lr = opt.lr();

    let mut straight = opt.clone();
    let mut p = start;
    for grad in &grads {
        straight.update(&mut p, grad, lr);
    }

    let mut first = opt;
    let mut q = start;
    for grad in &grads[..split] {
        first.update(&mut q, grad, lr);
    }
    let mut resumed = first.clone();
    let saved_params = q;
    // The original goes on elsewhere; the clone must not notice.
    first.update(&mut q, &grads[0], lr * 3.0);
    let mut q = saved_params;
    for grad in &grads[split..] {
        resumed.update(&mut q, grad, lr);
    }
    assert_eq!(p, q, "parameters after resuming");
    assert_eq!(straight, resumed, "optimizer state after resuming");
}

#[test]
fn cloned_state_resumes_bit_identically() {
    let g = load();
    for (name, config) in cases() {
        match config {
            Config::Sgd(c) => clone_resumes(&g, Sgd::<f64, U6>::new(c).unwrap(), 4),
            Config::Adagrad(c) => clone_resumes(&g, Adagrad::<f64, U6>::new(c).unwrap(), 5),
            Config::RmsProp(c) => clone_resumes(&g, RmsProp::<f64, U6>::new(c).unwrap(), 6),
            Config::Adam(c) => clone_resumes(&g, Adam::<f64, U6>::new(c).unwrap(), 3),
            Config::AdamW(c) => clone_resumes(&g, AdamW::<f64, U6>::new(c).unwrap(), 7),
        }
        eprintln!("{name}: resumed bit-identically");
    }
}

#[test]
fn state_rebuilt_from_public_fields_resumes_bit_identically() {
    let g = load();
    let grads = gradients(&g);
    let config = AdamConfig {
        lr: 0.01,
        amsgrad: true,
        ..AdamConfig::default()
    };
    let mut straight = Adam::<f64, U6>::new(config).unwrap();
    let mut p = params::<f64>(g.get("init/f64"));
    for grad in &grads {
        straight.update(&mut p, grad, 0.01);
    }

    // What a checkpoint would hold after five steps: the parameters, the
    // step count and the three buffers (the optimizer itself is gone).
    let (mut q, step, m, v, v_max) = {
        let mut saved = Adam::<f64, U6>::new(config).unwrap();
        let mut q = params::<f64>(g.get("init/f64"));
        for grad in &grads[..5] {
            saved.update(&mut q, grad, 0.01);
        }
        let moments = &saved.moments;
        (
            q,
            saved.step,
            moments.exp_avg.to_vec(),
            moments.exp_avg_sq.to_vec(),
            moments.max_exp_avg_sq.to_vec(),
        )
    };
    let mut restored = Adam::<f64, U6>::new(config).unwrap();
    restored.step = step;
    *restored.moments.exp_avg = params(&m);
    *restored.moments.exp_avg_sq = params(&v);
    *restored.moments.max_exp_avg_sq = params(&v_max);
    for grad in &grads[5..] {
        restored.update(&mut q, grad, 0.01);
    }
    assert_eq!(p, q);
    assert_eq!(straight, restored);
}
