//! Learning-rate schedules against PyTorch: the closed forms of
//! `staticnet::schedule` against the rates `torch.optim.lr_scheduler`
//! produced step by step (`tests/golden/schedules.txt`, from
//! `scripts/golden_schedules.py`), at every step from 0 to 50.

mod golden;

use golden::{max_rel_dev, Golden};
use staticnet::schedule::{
    CosineAnnealingLr, ExponentialLr, LinearLr, Schedule, Sequential, StepLr,
};

/// PyTorch computes each rate from the previous one, so its rounding errors
/// add up over the steps (one or two ulps per step, ~1e-14 after 50); a
/// closed form that differed in substance (an off-by-one step, a missed
/// restart at a milestone) would be off by percent.
const TOL: f64 = 1e-10;

const BASE_LR: f64 = 0.1;

/// The cases of `scripts/golden_schedules.py` (`CASES`), built from our
/// types with the same parameters.
fn cases() -> Vec<(&'static str, Box<dyn Schedule>)> {
    let linear = |start, end, n| LinearLr::new(start, end, n).unwrap();
    let cosine = |t_max, eta_min| CosineAnnealingLr::new(t_max, eta_min).unwrap();
    let exponential = |gamma| ExponentialLr::new(gamma).unwrap();
    let step = |size, gamma| StepLr::new(size, gamma).unwrap();
    vec![
        ("step_lr/default_gamma", Box::new(step(10, 0.1))),
        ("step_lr/half_every_7", Box::new(step(7, 0.5))),
        ("exponential_lr/gamma_0.95", Box::new(exponential(0.95))),
        (
            "cosine_annealing_lr/t20_eta_min",
            Box::new(cosine(20, 1e-3)),
        ),
        ("cosine_annealing_lr/t50", Box::new(cosine(50, 0.0))),
        ("cosine_annealing_lr/t7", Box::new(cosine(7, 0.0))),
        ("linear_lr/default", Box::new(LinearLr::default())),
        ("linear_lr/decay", Box::new(linear(1.0, 0.05, 30))),
        (
            "sequential/warmup_cosine",
            Box::new(Sequential::warmup(linear(0.1, 1.0, 5), cosine(45, 1e-4))),
        ),
        (
            "sequential/warmup_step",
            Box::new(Sequential::warmup(LinearLr::default(), step(10, 0.5))),
        ),
        (
            "sequential/warmup_exponential",
            Box::new(Sequential::new(linear(0.25, 1.0, 5), 8, exponential(0.9))),
        ),
        (
            "sequential/three_phases",
            Box::new(Sequential::new(
                linear(1.0 / 3.0, 1.0, 3),
                3,
                Sequential::new(exponential(0.9), 12, cosine(20, 0.0)),
            )),
        ),
    ]
}

#[test]
fn schedules_match_pytorch() {
    let g = Golden::load("schedules.txt");
    let mut failures = Vec::new();
    for (name, schedule) in cases() {
        let expected = g.get(name);
        assert_eq!(expected.len(), 51, "{name}: steps 0 to 50");
        let ours: Vec<f64> = (0..expected.len() as u64)
            .map(|t| schedule.lr(BASE_LR, t))
            .collect();
        // Pure relative deviation: exact zeros (the cosine's minimum) must
        // be exact zeros here too.
        let dev = max_rel_dev(&ours, expected, 0.0);
        eprintln!("{name:<34} max relative deviation {dev:.3e}");
        if dev.is_nan() || dev > TOL {
            failures.push(format!(
                "{name}: {dev:e} > {TOL:e}\n  ours  {ours:?}\n  torch {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "schedules off PyTorch's:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_golden_schedule_is_checked() {
    let g = Golden::load("schedules.txt");
    let mut in_file: Vec<&str> = g.keys_with_prefix("").collect();
    in_file.sort_unstable();
    let cases = cases();
    let mut here: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    here.sort_unstable();
    assert_eq!(in_file, here);
}
