//! The workloads on burn (ndarray backend, autodiff for training).

use burn::module::Module;
use burn::nn::loss::{CrossEntropyLossConfig, MseLoss, Reduction};
use burn::nn::{Linear, LinearConfig};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::hint::black_box;

/// The CPU device of the ndarray backend (deprecated in burn 0.22 in
/// favour of the flex backend, but still shipped).
#[allow(deprecated)]
fn ndarray() -> Device {
    Device::ndarray()
}

/// in -> h1 relu -> h2 relu -> out.
#[derive(Module, Debug)]
pub struct ReluMlp {
    l1: Linear,
    l2: Linear,
    l3: Linear,
}

impl ReluMlp {
    fn new(sizes: [usize; 4], dev: &Device) -> Self {
        Self {
            l1: LinearConfig::new(sizes[0], sizes[1]).init(dev),
            l2: LinearConfig::new(sizes[1], sizes[2]).init(dev),
            l3: LinearConfig::new(sizes[2], sizes[3]).init(dev),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = relu(self.l1.forward(x));
        let h = relu(self.l2.forward(h));
        self.l3.forward(h)
    }
}

/// in -> h1 tanh -> h2 tanh -> out.
#[derive(Module, Debug)]
pub struct TanhMlp {
    l1: Linear,
    l2: Linear,
    l3: Linear,
}

impl TanhMlp {
    fn new(sizes: [usize; 4], dev: &Device) -> Self {
        Self {
            l1: LinearConfig::new(sizes[0], sizes[1]).init(dev),
            l2: LinearConfig::new(sizes[1], sizes[2]).init(dev),
            l3: LinearConfig::new(sizes[2], sizes[3]).init(dev),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = tanh(self.l1.forward(x));
        let h = tanh(self.l2.forward(h));
        self.l3.forward(h)
    }
}

fn matrix(x: &[f32], cols: usize, dev: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(x.to_vec(), [x.len() / cols, cols]), dev)
}

pub fn w1(x: &[f32]) -> impl FnMut() {
    let dev = ndarray();
    let net = TanhMlp::new([2, 16, 16, 1], &dev);
    let x = matrix(x, 2, &dev);
    move || {
        black_box(net.forward(black_box(&x).clone()));
    }
}

pub fn mnist_infer(x: &[f32]) -> impl FnMut() {
    let dev = ndarray();
    let net = ReluMlp::new([784, 128, 64, 10], &dev);
    let x = matrix(x, 784, &dev);
    move || {
        black_box(net.forward(black_box(&x).clone()));
    }
}

fn classify(sizes: [usize; 4], x: &[f32], y: &[usize]) -> impl FnMut() {
    let dev = ndarray().autodiff();
    let mut net = Some(ReluMlp::new(sizes, &dev));
    let mut opt = AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init();
    let loss_fn = CrossEntropyLossConfig::new().init(&dev);
    let x = matrix(x, sizes[0], &dev);
    let y: Vec<i64> = y.iter().map(|&c| c as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(y.clone(), [y.len()]), &dev);
    move || {
        let model = net.take().unwrap();
        let logits = model.forward(black_box(&x).clone());
        let loss = loss_fn.forward(logits, y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        net = Some(opt.step(1e-3, model, grads));
    }
}

pub fn w4(x: &[f32], y: &[usize]) -> impl FnMut() {
    classify([784, 128, 64, 10], x, y)
}

pub fn w5(x: &[f32], y: &[usize]) -> impl FnMut() {
    classify([256, 512, 512, 10], x, y)
}

pub fn w6(x: &[f32], y: &[f32]) -> impl FnMut() {
    let dev = ndarray().autodiff();
    let mut net = Some(TanhMlp::new([8, 32, 32, 4], &dev));
    let mut opt = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(0.9)
                .with_dampening(0.0)
                .with_nesterov(false),
        ))
        .init();
    let xs: Vec<_> = x.chunks(8).map(|r| matrix(r, 8, &dev)).collect();
    let ys: Vec<_> = y.chunks(4).map(|r| matrix(r, 4, &dev)).collect();
    let mut k = 0;
    move || {
        k = (k + 1) % xs.len();
        let model = net.take().unwrap();
        let out = model.forward(black_box(&xs[k]).clone());
        let loss = MseLoss::new().forward(out, ys[k].clone(), Reduction::Mean);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        net = Some(opt.step(0.01, model, grads));
    }
}
