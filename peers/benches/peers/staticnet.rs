//! The workloads on staticnet.

use staticnet::loss::{CrossEntropy, Mse};
use staticnet::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use staticnet::train::{train_step, StepBuffers, StepOptions};
use staticnet::{network, Architecture, Network};
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

/// The W2 net with its weights rounded to bf16 (inference only).
pub fn mnist_infer_bf16<const B: usize>(x: &[[f32; 784]; B]) -> impl FnMut() {
    let net = Mnist::boxed_seeded(2);
    let small = staticnet::bf16::Bf16Network::boxed_from_network(&net);
    let x: Box<[[f32; 784]; B]> = Box::new(*x);
    let mut y: Box<[[f32; 10]; B]> = Box::new([[0.0f32; 10]; B]);
    move || small.infer(black_box(&x), black_box(&mut y))
}

pub fn w4(x: &[[f32; 784]; 32], y: &[usize; 32]) -> impl FnMut() {
    adam_step::<MnistArch, 784, 32>(3, x, y)
}

pub fn w5(x: &[[f32; 256]; 256], y: &[usize; 256]) -> impl FnMut() {
    adam_step::<W5Arch, 256, 256>(5, x, y)
}

/// A cross-entropy training step with Adam (PyTorch's defaults) on a
/// 10-class network, everything on the heap.
fn adam_step<A, const IN: usize, const B: usize>(
    seed: u64,
    x: &[[f32; IN]; B],
    y: &[usize; B],
) -> impl FnMut()
where
    A: Architecture<Input<f32> = [f32; IN], Output<f32> = [f32; 10]>,
{
    let mut net = Network::<A, f32>::boxed_seeded(seed);
    let mut adam = Adam::boxed(AdamConfig::default()).unwrap();
    let mut bufs = StepBuffers::<A, f32, B>::boxed();
    let x: Box<[[f32; IN]; B]> = Box::new(*x);
    let y: Box<[usize; B]> = Box::new(*y);
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
                B,
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

pub fn w6(x: &[[f32; 8]], y: &[[f32; 4]]) -> impl FnMut() {
    w6_on::<W6Arch>(x, y)
}

pub fn w6_fast(x: &[[f32; 8]], y: &[[f32; 4]]) -> impl FnMut() {
    w6_on::<W6FastArch>(x, y)
}

/// The W6 step on either declaration of the W6 shape, one sample after
/// another.
fn w6_on<A>(x: &[[f32; 8]], y: &[[f32; 4]]) -> impl FnMut()
where
    A: Architecture<Input<f32> = [f32; 8], Output<f32> = [f32; 4]>,
{
    let mut net = Network::<A, f32>::seeded(4);
    let mut opt = Sgd::new(sgd6()).unwrap();
    let mut bufs = StepBuffers::<A, f32, 1>::new();
    let (x, y) = (x.to_vec(), y.to_vec());
    let mut k = 0;
    move || {
        k = (k + 1) % x.len();
        black_box(
            train_step(
                &mut net,
                &mut opt,
                &Mse::default(),
                &mut bufs,
                black_box(core::array::from_ref(&x[k])),
                core::array::from_ref(&y[k]),
                1,
                &OPTS6,
            )
            .unwrap(),
        );
    }
}
