//! The workloads on candle (candle-core + candle-nn, CPU device).

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Module, Result, Tensor, Var};
use candle_nn::{AdamW, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use std::hint::black_box;

/// in -> h1 act -> h2 act -> out.
pub struct Mlp {
    l1: Linear,
    l2: Linear,
    l3: Linear,
    tanh: bool,
}

impl Mlp {
    /// Plain (non-variable) weights for inference, uniform in
    /// +-1/sqrt(fan_in) like `nn.Linear`.
    fn inference(sizes: [usize; 4], tanh: bool, dev: &Device) -> Result<Self> {
        let dense = |i: usize, o: usize| -> Result<Linear> {
            let k = 1.0 / (i as f32).sqrt();
            let w = Tensor::rand(-k, k, (o, i), dev)?;
            let b = Tensor::rand(-k, k, o, dev)?;
            Ok(Linear::new(w, Some(b)))
        };
        Ok(Self {
            l1: dense(sizes[0], sizes[1])?,
            l2: dense(sizes[1], sizes[2])?,
            l3: dense(sizes[2], sizes[3])?,
            tanh,
        })
    }

    /// Trainable weights registered in `vb`'s variable map.
    fn trainable(sizes: [usize; 4], tanh: bool, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            l1: candle_nn::linear(sizes[0], sizes[1], vb.pp("l1"))?,
            l2: candle_nn::linear(sizes[1], sizes[2], vb.pp("l2"))?,
            l3: candle_nn::linear(sizes[2], sizes[3], vb.pp("l3"))?,
            tanh,
        })
    }

    fn act(&self, x: &Tensor) -> Result<Tensor> {
        if self.tanh {
            x.tanh()
        } else {
            x.relu()
        }
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.act(&self.l1.forward(x)?)?;
        let h = self.act(&self.l2.forward(&h)?)?;
        self.l3.forward(&h)
    }
}

fn infer(sizes: [usize; 4], tanh: bool, x: &[f32], batch: usize) -> impl FnMut() {
    let dev = Device::Cpu;
    let net = Mlp::inference(sizes, tanh, &dev).unwrap();
    let x = Tensor::from_slice(x, (batch, sizes[0]), &dev).unwrap();
    move || {
        black_box(net.forward(black_box(&x)).unwrap());
    }
}

pub fn w1(x: &[f32]) -> impl FnMut() {
    infer([2, 16, 16, 1], true, x, 1)
}

pub fn mnist_infer(x: &[f32], batch: usize) -> impl FnMut() {
    infer([784, 128, 64, 10], false, x, batch)
}

/// Adam is AdamW without weight decay (candle-nn has no separate Adam).
fn adam(vars: Vec<Var>) -> AdamW {
    AdamW::new(
        vars,
        ParamsAdamW {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        },
    )
    .unwrap()
}

fn classify(sizes: [usize; 4], x: &[f32], y: &[usize]) -> impl FnMut() {
    let dev = Device::Cpu;
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F32, &dev);
    let net = Mlp::trainable(sizes, false, vb).unwrap();
    let mut opt = adam(vars.all_vars());
    let x = Tensor::from_slice(x, (y.len(), sizes[0]), &dev).unwrap();
    let y: Vec<u32> = y.iter().map(|&c| c as u32).collect();
    let y = Tensor::from_vec(y, x.dim(0).unwrap(), &dev).unwrap();
    move || {
        let logits = net.forward(black_box(&x)).unwrap();
        let loss = candle_nn::loss::cross_entropy(&logits, &y).unwrap();
        // backward (fresh gradients every step, dropped afterwards) + update
        opt.backward_step(&loss).unwrap();
    }
}

pub fn w4(x: &[f32], y: &[usize]) -> impl FnMut() {
    classify([784, 128, 64, 10], x, y)
}

pub fn w5(x: &[f32], y: &[usize]) -> impl FnMut() {
    classify([256, 512, 512, 10], x, y)
}

/// SGD with momentum as in PyTorch (dampening 0, no Nesterov); candle-nn's
/// own SGD has no momentum, so a candle user writes this.
pub struct SgdMomentum {
    params: Vec<(Var, Var)>,
    lr: f64,
    momentum: f64,
}

impl Optimizer for SgdMomentum {
    /// (learning rate, momentum)
    type Config = (f64, f64);

    fn new(vars: Vec<Var>, (lr, momentum): (f64, f64)) -> Result<Self> {
        let params = vars
            .into_iter()
            .map(|v| {
                let buf = Var::zeros(v.shape(), v.dtype(), v.device())?;
                Ok((v, buf))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            params,
            lr,
            momentum,
        })
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        for (p, buf) in &self.params {
            if let Some(g) = grads.get(p) {
                let next = ((buf.as_tensor() * self.momentum)? + g)?;
                p.set(&(p.as_tensor() - (&next * self.lr)?)?)?;
                buf.set(&next)?;
            }
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
}

pub fn w6(x: &[f32], y: &[f32]) -> impl FnMut() {
    let dev = Device::Cpu;
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F32, &dev);
    let net = Mlp::trainable([8, 32, 32, 4], true, vb).unwrap();
    let mut opt = SgdMomentum::new(vars.all_vars(), (0.01, 0.9)).unwrap();
    let xs: Vec<_> = x
        .chunks(8)
        .map(|r| Tensor::from_slice(r, (1, 8), &dev).unwrap())
        .collect();
    let ys: Vec<_> = y
        .chunks(4)
        .map(|r| Tensor::from_slice(r, (1, 4), &dev).unwrap())
        .collect();
    let mut k = 0;
    move || {
        k = (k + 1) % xs.len();
        let out = net.forward(black_box(&xs[k])).unwrap();
        let loss = candle_nn::loss::mse(&out, &ys[k]).unwrap();
        opt.backward_step(&loss).unwrap();
    }
}
