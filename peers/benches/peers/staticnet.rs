//! The workloads on staticnet.

use staticnet::loss::{CrossEntropy, Mse};
use staticnet::network;
use staticnet::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use staticnet::train::{train_step, StepBuffers, StepOptions};
use std::hint::black_box;

network! {
    /// W1: 2 -> 16 tanh -> 16 tanh -> 1, exact tanh.
    pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// W1 with the vectorised tanh approximation.
    #[fast_math]
    pub struct W1Fast(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// W2/W3/W4: 784 -> 128 relu -> 64 relu -> 10.
    pub struct Mnist(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }

    /// W5: 256 -> 512 relu -> 512 relu -> 10.
    pub struct W5(256 -> 10) { Dense<512>, Relu, Dense<512>, Relu, Dense<10> }

    /// W6: 8 -> 32 tanh -> 32 tanh -> 4.
    pub struct W6(8 -> 4) { Dense<32>, Tanh, Dense<32>, Tanh, Dense<4> }

    /// W6 with the vectorised tanh approximation.
    #[fast_math]
    pub struct W6Fast(8 -> 4) { Dense<32>, Tanh, Dense<32>, Tanh, Dense<4> }
}

pub fn w1(x: &[[f32; 2]; 1]) -> impl FnMut() {
    let net = W1::seeded(1);
    let x = *x;
    let mut y = [[0.0f32; 1]; 1];
    move || net.infer(black_box(&x), black_box(&mut y))
}

pub fn w1_fast(x: &[[f32; 2]; 1]) -> impl FnMut() {
    let net = W1Fast::seeded(1);
    let x = *x;
    let mut y = [[0.0f32; 1]; 1];
    move || net.infer(black_box(&x), black_box(&mut y))
}

pub fn mnist_infer<const B: usize>(x: &[[f32; 784]; B]) -> impl FnMut() {
    let net = Mnist::boxed_seeded(2);
    let x: Box<[[f32; 784]; B]> = Box::new(*x);
    let mut y: Box<[[f32; 10]; B]> = Box::new([[0.0f32; 10]; B]);
    move || net.infer(black_box(&x), black_box(&mut y))
}

pub fn w4(x: &[[f32; 784]; 32], y: &[usize; 32]) -> impl FnMut() {
    let mut net = Mnist::boxed_seeded(3);
    let mut adam = Adam::boxed(AdamConfig::default()).unwrap();
    let mut bufs = StepBuffers::<MnistArch, f32, 32>::boxed();
    let x: Box<[[f32; 784]; 32]> = Box::new(*x);
    let y = *y;
    let opts = StepOptions {
        lr: 1e-3,
        clip: None,
    };
    move || {
        black_box(
            train_step(
                &mut net,
                &mut *adam,
                &CrossEntropy::default(),
                &mut bufs,
                black_box(&x),
                &y,
                32,
                &opts,
            )
            .unwrap(),
        );
    }
}

pub fn w5(x: &[[f32; 256]; 256], y: &[usize; 256]) -> impl FnMut() {
    let mut net = W5::boxed_seeded(5);
    let mut adam = Adam::boxed(AdamConfig::default()).unwrap();
    let mut bufs = StepBuffers::<W5Arch, f32, 256>::boxed();
    let x: Box<[[f32; 256]; 256]> = Box::new(*x);
    let y: Box<[usize; 256]> = Box::new(*y);
    let opts = StepOptions {
        lr: 1e-3,
        clip: None,
    };
    move || {
        black_box(
            train_step(
                &mut net,
                &mut *adam,
                &CrossEntropy::default(),
                &mut bufs,
                black_box(&x),
                &y,
                256,
                &opts,
            )
            .unwrap(),
        );
    }
}

fn sgd6() -> SgdConfig {
    SgdConfig {
        lr: 0.01,
        momentum: 0.9,
        ..SgdConfig::default()
    }
}

const OPTS6: StepOptions = StepOptions {
    lr: 0.01,
    clip: None,
};

pub fn w6(x: &[[f32; 8]; 1], y: &[[f32; 4]; 1]) -> impl FnMut() {
    let mut net = W6::seeded(4);
    let mut opt = Sgd::new(sgd6()).unwrap();
    let mut bufs = StepBuffers::<W6Arch, f32, 1>::new();
    let (x, y) = (*x, *y);
    move || {
        black_box(
            train_step(
                &mut net,
                &mut opt,
                &Mse::default(),
                &mut bufs,
                black_box(&x),
                &y,
                1,
                &OPTS6,
            )
            .unwrap(),
        );
    }
}

pub fn w6_fast(x: &[[f32; 8]; 1], y: &[[f32; 4]; 1]) -> impl FnMut() {
    let mut net = W6Fast::seeded(4);
    let mut opt = Sgd::new(sgd6()).unwrap();
    let mut bufs = StepBuffers::<W6FastArch, f32, 1>::new();
    let (x, y) = (*x, *y);
    move || {
        black_box(
            train_step(
                &mut net,
                &mut opt,
                &Mse::default(),
                &mut bufs,
                black_box(&x),
                &y,
                1,
                &OPTS6,
            )
            .unwrap(),
        );
    }
}
