//! Gradient clipping against PyTorch: `clip_grad_norm` and
//! `clip_grad_value` on the gradients of `tests/golden/clip.txt` (from
//! `scripts/golden_optim.py`), which PyTorch clipped as a weight and a bias
//! tensor together, in `f64` and `f32`.

mod golden;

use golden::{max_rel_dev, Golden};
use staticnet::clip::{clip_grad_norm, clip_grad_value, Norm};
use staticnet::Scalar;

/// `f64`: a norm and one scaling, a few roundings each; the sums are
/// ordered differently (PyTorch takes the norm of the per-tensor norms).
const F64_TOL: f64 = 1e-10;

/// `f32`: PyTorch computes the norm and the factor in `f32`, we in `f64`
/// and round the factor once: a few ulps of 6e-8.
const F32_TOL: f64 = 1e-5;

/// What a case does, named as in the golden file.
#[derive(Clone, Copy, Debug)]
enum Clip {
    Norm(Norm),
    Value,
}

const CASES: &[(&str, Clip)] = &[
    ("l2/clipped", Clip::Norm(Norm::L2)),
    ("l2/unclipped", Clip::Norm(Norm::L2)),
    ("l2/just_above", Clip::Norm(Norm::L2)),
    ("inf/clipped", Clip::Norm(Norm::Inf)),
    ("inf/unclipped", Clip::Norm(Norm::Inf)),
    ("inf/just_above", Clip::Norm(Norm::Inf)),
    ("value/clipped", Clip::Value),
    ("value/unclipped", Clip::Value),
];

/// The largest deviation over all cases in dtype `T`, asserting each
/// within `tol`.
fn check<T: Scalar>(g: &Golden, tol: f64) {
    let dtype = T::NAME;
    let input: Vec<T> = g
        .get(&format!("input/{dtype}"))
        .iter()
        .map(|&v| T::from_f64(v))
        .collect();
    let mut failures = Vec::new();
    for &(case, clip) in CASES {
        let mut grads = input.clone();
        let mut dev = 0.0f64;
        let limit = g.scalar(&format!("{case}/{dtype}/limit"));
        match clip {
            Clip::Norm(norm) => {
                let total = clip_grad_norm(&mut grads, limit, norm);
                let expected = g.scalar(&format!("{case}/{dtype}/total"));
                dev = dev.max(max_rel_dev(&[total], &[expected], 0.0));
            }
            Clip::Value => clip_grad_value(&mut grads, limit),
        }
        let ours: Vec<f64> = grads.iter().map(|v| v.to_f64()).collect();
        let expected = g.get(&format!("{case}/{dtype}/grads"));
        if matches!(clip, Clip::Value) {
            // Clamping only copies values: no rounding to differ in.
            assert_eq!(ours, expected, "{case} {dtype}: clamping is exact");
        }
        dev = dev.max(max_rel_dev(&ours, expected, 0.0));
        eprintln!("{case:<16} {dtype}: max relative deviation {dev:.3e}");
        if dev.is_nan() || dev > tol {
            failures.push(format!("{case} {dtype}: {dev:e} > {tol:e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "clipping off PyTorch's:\n{}",
        failures.join("\n")
    );
}

#[test]
fn clipping_matches_pytorch_f64() {
    check::<f64>(&Golden::load("clip.txt"), F64_TOL);
}

#[test]
fn clipping_matches_pytorch_f32() {
    check::<f32>(&Golden::load("clip.txt"), F32_TOL);
}

#[test]
fn the_cases_clip_where_they_say() {
    let g = Golden::load("clip.txt");
    let input = g.get("input/f64");
    for &(case, _) in CASES {
        let after = g.get(&format!("{case}/f64/grads"));
        let changed = after != input;
        assert_eq!(changed, !case.ends_with("/unclipped"), "{case}");
    }
    let mut in_file: Vec<&str> = g
        .keys_with_prefix("")
        .filter_map(|k| k.strip_suffix("/f64/grads"))
        .collect();
    in_file.sort_unstable();
    let mut here: Vec<&str> = CASES.iter().map(|(n, _)| *n).collect();
    here.sort_unstable();
    assert_eq!(in_file, here);
}
