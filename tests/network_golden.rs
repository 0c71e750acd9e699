//! A fixed MLP (with a residual block) against PyTorch: the output, every
//! loss with both reductions, and the gradient of every parameter and of
//! the input. Golden values: scripts/golden_network.py.
//!
//! Deviations are measured relative to the largest magnitude in each
//! tensor (`max |a − e| / max |e|`), so that gradients which happen to be
//! near zero are held to the tensor's scale rather than to their own.

mod golden;

use golden::Golden;
use staticnet::loss::{
    BceWithLogits, CrossEntropy, Huber, Loss, Mse, Reduction, SoftCrossEntropy, L1,
};
use staticnet::{network, DenseMut, Scalar};

network! {
    /// The net of scripts/golden_network.py.
    struct Fixed(4 -> 3) {
        Dense<6>, Tanh,
        Dense<5>, Softplus,
        Residual { Dense<5>, Elu },
        Dense<3>,
    }
}

const BATCH: usize = 5;

fn tensor_dev(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let dev = actual
        .iter()
        .zip(expected)
        .fold(0.0f64, |m, (a, e)| m.max((a - e).abs()));
    if dev == 0.0 {
        0.0
    } else {
        dev / scale
    }
}

fn set_dense<T: Scalar, const I: usize, const O: usize>(
    d: &mut DenseMut<'_, T, I, O>,
    w: &[f64],
    b: &[f64],
) {
    for o in 0..O {
        for i in 0..I {
            d.set_weight(o, i, T::from_f64(w[o * I + i]));
        }
    }
    let bias = d.bias_mut().expect("every layer has a bias");
    for (v, x) in bias.iter_mut().zip(b) {
        *v = T::from_f64(*x);
    }
}

fn load<T: Scalar>(g: &Golden) -> Fixed<T> {
    let mut net = Fixed::<T>::zeroed();
    let mut l = net.layers_mut();
    set_dense(&mut l.dense0, g.get("dense0/weight"), g.get("dense0/bias"));
    set_dense(&mut l.dense1, g.get("dense1/weight"), g.get("dense1/bias"));
    set_dense(&mut l.dense2, g.get("dense2/weight"), g.get("dense2/bias"));
    set_dense(&mut l.dense3, g.get("dense3/weight"), g.get("dense3/bias"));
    net
}

fn rows<T: Scalar, const W: usize>(flat: &[f64]) -> [[T; W]; BATCH] {
    let mut r = [[T::ZERO; W]; BATCH];
    for (v, x) in r.as_flattened_mut().iter_mut().zip(flat) {
        *v = T::from_f64(*x);
    }
    r
}

/// Gradients of every dense layer in PyTorch's layout, flattened.
fn weight_grads<T: Scalar>(grads: &Fixed<T>) -> Vec<(String, Vec<f64>)> {
    fn dense<T: Scalar, const I: usize, const O: usize>(
        i: usize,
        d: staticnet::DenseRef<'_, T, I, O>,
        out: &mut Vec<(String, Vec<f64>)>,
    ) {
        let w = d.weight_matrix();
        out.push((
            format!("dense{i}/weight_grad"),
            w.as_flattened().iter().map(|v| v.to_f64()).collect(),
        ));
        out.push((
            format!("dense{i}/bias_grad"),
            d.bias().unwrap().iter().map(|v| v.to_f64()).collect(),
        ));
    }
    let l = grads.layers();
    let mut out = Vec::new();
    dense(0, l.dense0, &mut out);
    dense(1, l.dense1, &mut out);
    dense(2, l.dense2, &mut out);
    dense(3, l.dense3, &mut out);
    out
}

/// Runs one loss through the network and compares everything; returns the
/// largest deviation.
fn check_loss<T: Scalar, L: Loss<T>>(
    g: &Golden,
    net: &Fixed<T>,
    key: &str,
    loss: L,
    target: &[L::Target<3>; BATCH],
    tol: f64,
) -> f64 {
    let mut tape = FixedTape::<T, BATCH>::new();
    let x: [[T; 4]; BATCH] = rows(g.get("input"));
    let out = *net.forward(&x, &mut tape);
    let mut grad_out = [[T::ZERO; 3]; BATCH];
    let value = loss.value_and_grad(&out, target, &mut grad_out).unwrap();
    let mut grads = Fixed::<T>::zeroed();
    let mut grad_in = [[T::ZERO; 4]; BATCH];
    net.backward_with_input_grad(&mut tape, &grad_out, &mut grads, &mut grad_in)
        .unwrap();

    let mut worst = tensor_dev(&[value.to_f64()], &[g.scalar(&format!("{key}/loss"))]);
    let gi: Vec<f64> = grad_in.as_flattened().iter().map(|v| v.to_f64()).collect();
    worst = worst.max(tensor_dev(&gi, g.get(&format!("{key}/input_grad"))));
    for (name, actual) in weight_grads(&grads) {
        let d = tensor_dev(&actual, g.get(&format!("{key}/{name}")));
        assert!(d <= tol, "{key}/{name}: deviation {d:e}");
        worst = worst.max(d);
    }
    assert!(worst <= tol, "{key}: deviation {worst:e}");
    eprintln!("max dev {key}: {worst:.2e}");
    worst
}

fn check_all<T: Scalar>(tag: &str, tol: f64) {
    let g = Golden::load("network.txt");
    let net = load::<T>(&g);

    let mut y = [[T::ZERO; 3]; BATCH];
    net.infer(&rows(g.get("input")), &mut y);
    let out: Vec<f64> = y.as_flattened().iter().map(|v| v.to_f64()).collect();
    let d = tensor_dev(&out, g.get(&format!("{tag}/output")));
    assert!(d <= tol, "{tag}/output: deviation {d:e}");
    eprintln!("max dev {tag}/output: {d:.2e}");

    for (red, rname) in [(Reduction::Mean, "mean"), (Reduction::Sum, "sum")] {
        let k = |loss: &str| format!("{tag}/{loss}/{rname}");
        let t = |loss: &str| rows::<T, 3>(g.get(&format!("{}/target", k(loss))));
        check_loss(&g, &net, &k("mse"), Mse { reduction: red }, &t("mse"), tol);
        check_loss(&g, &net, &k("l1"), L1 { reduction: red }, &t("l1"), tol);
        let huber = Huber {
            delta: 0.5,
            reduction: red,
        };
        check_loss(&g, &net, &k("huber"), huber, &t("huber"), tol);
        check_loss(
            &g,
            &net,
            &k("bce"),
            BceWithLogits { reduction: red },
            &t("bce"),
            tol,
        );
        let classes: [usize; BATCH] =
            core::array::from_fn(|i| g.get(&format!("{}/target", k("ce_index")))[i] as usize);
        let ce = CrossEntropy {
            reduction: red,
            ..CrossEntropy::default()
        };
        check_loss(&g, &net, &k("ce_index"), ce, &classes, tol);
        let soft = SoftCrossEntropy {
            reduction: red,
            ..SoftCrossEntropy::default()
        };
        check_loss(&g, &net, &k("ce_probs"), soft, &t("ce_probs"), tol);
    }
}

#[test]
fn f64_network_matches_pytorch() {
    check_all::<f64>("f64", 1e-12);
}

#[test]
fn f32_network_matches_pytorch() {
    check_all::<f32>("f32", 1e-5);
}
