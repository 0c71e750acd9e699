//! The workloads on dfdx (0.13, Cpu device).

use dfdx::optim::{Adam, AdamConfig, Momentum, Sgd, SgdConfig};
use dfdx::prelude::*;
use std::hint::black_box;

type TanhSmall = (Linear<2, 16>, Tanh, Linear<16, 16>, Tanh, Linear<16, 1>);
type Mnist = (
    Linear<784, 128>,
    ReLU,
    Linear<128, 64>,
    ReLU,
    Linear<64, 10>,
);
type Wide = (
    Linear<256, 512>,
    ReLU,
    Linear<512, 512>,
    ReLU,
    Linear<512, 10>,
);
type TanhW6 = (Linear<8, 32>, Tanh, Linear<32, 32>, Tanh, Linear<32, 4>);

pub fn w1(x: &[f32]) -> impl FnMut() {
    let dev = Cpu::seed_from_u64(1);
    let net = dev.build_module::<TanhSmall, f32>();
    let x = dev.tensor_from_vec(x.to_vec(), (Const::<1>, Const::<2>));
    move || {
        black_box(net.forward(black_box(&x).clone()));
    }
}

pub fn mnist_infer<const B: usize>(x: &[f32]) -> impl FnMut() {
    let dev = Cpu::seed_from_u64(2);
    let net = dev.build_module::<Mnist, f32>();
    let x = dev.tensor_from_vec(x.to_vec(), (Const::<B>, Const::<784>));
    move || {
        black_box(net.forward(black_box(&x).clone()));
    }
}

/// One-hot targets: dfdx's cross-entropy takes class probabilities.
fn one_hot(y: &[usize], classes: usize) -> Vec<f32> {
    let mut v = vec![0.0; y.len() * classes];
    for (i, &c) in y.iter().enumerate() {
        v[i * classes + c] = 1.0;
    }
    v
}

pub fn w4(x: &[f32], y: &[usize]) -> impl FnMut() {
    let dev = Cpu::seed_from_u64(3);
    let mut net = dev.build_module::<Mnist, f32>();
    let mut grads = Some(net.alloc_grads());
    let mut opt = Adam::new(&net, AdamConfig::default());
    let x = dev.tensor_from_vec(x.to_vec(), (Const::<32>, Const::<784>));
    let y = dev.tensor_from_vec(one_hot(y, 10), (Const::<32>, Const::<10>));
    move || {
        let logits = net.forward_mut(black_box(&x).trace(grads.take().unwrap()));
        let loss = cross_entropy_with_logits_loss(logits, y.clone());
        let mut g = loss.backward();
        opt.update(&mut net, &g).unwrap();
        net.zero_grads(&mut g);
        grads = Some(g);
    }
}

pub fn w5(x: &[f32], y: &[usize]) -> impl FnMut() {
    let dev = Cpu::seed_from_u64(5);
    let mut net = dev.build_module::<Wide, f32>();
    let mut grads = Some(net.alloc_grads());
    let mut opt = Adam::new(&net, AdamConfig::default());
    let x = dev.tensor_from_vec(x.to_vec(), (Const::<256>, Const::<256>));
    let y = dev.tensor_from_vec(one_hot(y, 10), (Const::<256>, Const::<10>));
    move || {
        let logits = net.forward_mut(black_box(&x).trace(grads.take().unwrap()));
        let loss = cross_entropy_with_logits_loss(logits, y.clone());
        let mut g = loss.backward();
        opt.update(&mut net, &g).unwrap();
        net.zero_grads(&mut g);
        grads = Some(g);
    }
}

pub fn w6(x: &[f32], y: &[f32]) -> impl FnMut() {
    let dev = Cpu::seed_from_u64(4);
    let mut net = dev.build_module::<TanhW6, f32>();
    let mut grads = Some(net.alloc_grads());
    let mut opt = Sgd::new(
        &net,
        SgdConfig {
            lr: 0.01,
            momentum: Some(Momentum::Classic(0.9)),
            weight_decay: None,
        },
    );
    let xs: Vec<_> = x
        .chunks(8)
        .map(|r| dev.tensor_from_vec(r.to_vec(), (Const::<1>, Const::<8>)))
        .collect();
    let ys: Vec<_> = y
        .chunks(4)
        .map(|r| dev.tensor_from_vec(r.to_vec(), (Const::<1>, Const::<4>)))
        .collect();
    let mut k = 0;
    move || {
        k = (k + 1) % xs.len();
        let out = net.forward_mut(black_box(&xs[k]).trace(grads.take().unwrap()));
        let loss = mse_loss(out, ys[k].clone());
        let mut g = loss.backward();
        opt.update(&mut net, &g).unwrap();
        net.zero_grads(&mut g);
        grads = Some(g);
    }
}
