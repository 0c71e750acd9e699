//! Criterion benches of the DESIGN.md workloads W1-W6: inference (W1-W3)
//! and full training steps (W4-W6: forward, loss and gradient, backward,
//! optimizer update, gradient reset).
//!
//! Each group runs the default kernel selection beside the same shape
//! declared `#[static_kernels]`, so the two regimes are compared in one run.
//!
//! A third group, `flops`, runs W5 beside matrixmultiply's sgemm on
//! 2048×2048 matrices in the same build and reports both in FLOP/s.
//!
//! Run: `cargo bench --bench workloads`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use staticnet::bf16::Bf16Network;
use staticnet::loss::{CrossEntropy, Mse};
use staticnet::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use staticnet::train::{train_step, StepBuffers, StepOptions};
use staticnet::{network, Architecture};
use std::hint::black_box;

network! {
    /// W1: 2 -> 16 tanh -> 16 tanh -> 1, exact tanh.
    struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// W1 with the vectorised tanh approximation.
    #[fast_math]
    struct W1Fast(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// W2/W3/W4: 784 -> 128 relu -> 64 relu -> 10.
    struct Mnist(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }

    /// The W2 net, never using matrixmultiply.
    #[static_kernels]
    struct MnistStatic(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }

    /// W5: 256 -> 512 relu -> 512 relu -> 10.
    struct W5(256 -> 10) { Dense<512>, Relu, Dense<512>, Relu, Dense<10> }

    /// W6: 8 -> 32 tanh -> 32 tanh -> 4.
    struct W6(8 -> 4) { Dense<32>, Tanh, Dense<32>, Tanh, Dense<4> }

    /// W6 with the vectorised tanh approximation.
    #[fast_math]
    struct W6Fast(8 -> 4) { Dense<32>, Tanh, Dense<32>, Tanh, Dense<4> }
}

/// W6 steps through this many fixed samples in turn. On a single sample
/// the network soon fits it exactly: its gradients become zero and its
/// momentum decays to the smallest subnormal number, where it stays (0.9
/// of it rounds back to it). No real training is in that state, and how
/// fast a CPU computes with subnormals is not what W6 measures.
const W6_SAMPLES: usize = 64;

/// Deterministic inputs in [-1, 1).
fn inputs<const N: usize, const B: usize>(seed: u64) -> Box<[[f32; N]; B]> {
    let mut state = seed;
    let mut x = Box::new([[0.0f32; N]; B]);
    for v in x.as_flattened_mut() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *v = ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
    }
    x
}

fn inference(c: &mut Criterion) {
    let mut g = c.benchmark_group("inference");

    let w1 = W1::seeded(1);
    let x1 = inputs::<2, 1>(11);
    let mut y1 = [[0.0f32; 1]; 1];
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("W1/exact", 1), |b| {
        b.iter(|| w1.infer(black_box(&x1), black_box(&mut y1)))
    });
    let w1f = {
        let mut n = W1Fast::zeroed();
        n.params_mut().copy_from_slice(w1.params());
        n
    };
    g.bench_function(BenchmarkId::new("W1/fast", 1), |b| {
        b.iter(|| w1f.infer(black_box(&x1), black_box(&mut y1)))
    });

    let net = Mnist::boxed_seeded(2);
    let net_static = {
        let mut n = MnistStatic::boxed_zeroed();
        n.params_mut().copy_from_slice(net.params());
        n
    };
    let x2 = inputs::<784, 1>(12);
    let mut y2 = [[0.0f32; 10]; 1];
    g.bench_function(BenchmarkId::new("W2", 1), |b| {
        b.iter(|| net.infer(black_box(&x2), black_box(&mut y2)))
    });
    // The stretch: the same net with bf16 weights.
    let net_bf16 = Bf16Network::boxed_from_network(&net);
    g.bench_function(BenchmarkId::new("W2/bf16", 1), |b| {
        b.iter(|| net_bf16.infer(black_box(&x2), black_box(&mut y2)))
    });

    let x3 = inputs::<784, 64>(13);
    let mut y3 = Box::new([[0.0f32; 10]; 64]);
    g.throughput(Throughput::Elements(64));
    g.bench_function(BenchmarkId::new("W3/default", 64), |b| {
        b.iter(|| net.infer(black_box(&x3), black_box(&mut y3)))
    });
    g.bench_function(BenchmarkId::new("W3/static", 64), |b| {
        b.iter(|| net_static.infer(black_box(&x3), black_box(&mut y3)))
    });
    g.bench_function(BenchmarkId::new("W3/bf16", 64), |b| {
        b.iter(|| net_bf16.infer(black_box(&x3), black_box(&mut y3)))
    });
    g.finish();
}

/// Class labels in 0..10 for the classification workloads.
fn labels<const B: usize>(seed: u64) -> Box<[usize; B]> {
    let x = inputs::<1, B>(seed);
    Box::new(core::array::from_fn(|i| {
        ((x[i][0] + 1.0) * 5.0) as usize % 10
    }))
}

/// One full training step (forward, loss and gradient, backward, update,
/// gradient reset) per iteration, through `train_step`.
fn training_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("training_step");

    // W4: the W2 net, batch 32, softmax cross-entropy, Adam.
    let mut net = Mnist::boxed_seeded(3);
    let mut adam = Adam::boxed(AdamConfig::default()).unwrap();
    let mut bufs = StepBuffers::<MnistArch, f32, 32>::boxed();
    let x = inputs::<784, 32>(14);
    let y = labels::<32>(15);
    let opts = StepOptions {
        lr: 1e-3,
        clip: None,
    };
    g.throughput(Throughput::Elements(32));
    g.bench_function(BenchmarkId::new("W4", 32), |b| {
        b.iter(|| {
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
            .unwrap()
        })
    });

    // W5: 256 -> 512 -> 512 -> 10, batch 256, cross-entropy, Adam.
    let mut w5 = W5Step::new();
    g.throughput(Throughput::Elements(256));
    g.bench_function(BenchmarkId::new("W5", 256), |b| b.iter(|| w5.run()));

    // W6: 8 -> 32 tanh -> 32 tanh -> 4, batch 1, MSE, SGD with momentum 0.9,
    // one sample after another of W6_SAMPLES (see there).
    let sgd = SgdConfig {
        lr: 0.01,
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let x6 = inputs::<8, W6_SAMPLES>(16);
    let y6 = inputs::<4, W6_SAMPLES>(17);
    let opts6 = StepOptions {
        lr: 0.01,
        clip: None,
    };
    g.throughput(Throughput::Elements(1));
    let mut w6 = W6::seeded(4);
    let mut opt6 = Sgd::new(sgd).unwrap();
    let mut bufs6 = StepBuffers::<W6Arch, f32, 1>::new();
    g.bench_function(BenchmarkId::new("W6/exact", 1), |b| {
        let mut k = 0;
        b.iter(|| {
            k = (k + 1) % W6_SAMPLES;
            train_step(
                &mut w6,
                &mut opt6,
                &Mse::default(),
                &mut bufs6,
                black_box(core::array::from_ref(&x6[k])),
                core::array::from_ref(&y6[k]),
                1,
                &opts6,
            )
            .unwrap()
        })
    });
    let mut w6f = W6Fast::seeded(4);
    let mut opt6f = Sgd::new(sgd).unwrap();
    let mut bufs6f = StepBuffers::<W6FastArch, f32, 1>::new();
    g.bench_function(BenchmarkId::new("W6/fast", 1), |b| {
        let mut k = 0;
        b.iter(|| {
            k = (k + 1) % W6_SAMPLES;
            train_step(
                &mut w6f,
                &mut opt6f,
                &Mse::default(),
                &mut bufs6f,
                black_box(core::array::from_ref(&x6[k])),
                core::array::from_ref(&y6[k]),
                1,
                &opts6,
            )
            .unwrap()
        })
    });
    g.finish();
}

/// The W5 training step (batch 256, cross-entropy, Adam) and all it owns.
struct W5Step {
    net: Box<W5>,
    adam: Box<Adam<f32, <W5Arch as Architecture>::ParamLen>>,
    bufs: Box<StepBuffers<W5Arch, f32, 256>>,
    x: Box<[[f32; 256]; 256]>,
    y: Box<[usize; 256]>,
}

impl W5Step {
    fn new() -> Self {
        Self {
            net: W5::boxed_seeded(5),
            adam: Adam::boxed(AdamConfig::default()).unwrap(),
            bufs: StepBuffers::boxed(),
            x: inputs::<256, 256>(18),
            y: labels::<256>(19),
        }
    }

    fn run(&mut self) -> f32 {
        let opts = StepOptions {
            lr: 1e-3,
            clip: None,
        };
        train_step(
            &mut self.net,
            &mut *self.adam,
            &CrossEntropy::default(),
            &mut self.bufs,
            black_box(&self.x),
            &self.y,
            256,
            &opts,
        )
        .unwrap()
    }
}

/// Multiply-adds of one W5 training step: forward `x·W` for each layer,
/// the weight gradients `xᵀ·dy` for each, the input gradients `dy·Wᵀ` for
/// all but the first (the input needs none).
fn w5_multiply_adds() -> u64 {
    let layers: [(u64, u64); 3] = [(256, 512), (512, 512), (512, 10)];
    let per_row: u64 = layers.iter().map(|(i, o)| i * o).sum();
    let first = layers[0].0 * layers[0].1;
    256 * (3 * per_row - first)
}

/// W5 against matrixmultiply's sgemm on large squares, both in
/// floating-point operations per second: criterion's "elem/s" in this
/// group are FLOP/s. The target: W5 at 85% of the sgemm rate or more.
fn flop_rates(c: &mut Criterion) {
    let mut g = c.benchmark_group("flops");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(6));

    let mut w5 = W5Step::new();
    g.throughput(Throughput::Elements(2 * w5_multiply_adds()));
    g.bench_function("W5", |b| b.iter(|| w5.run()));

    const N: usize = 2048;
    let matrix = |seed: usize| -> Vec<f32> {
        (0..N * N)
            .map(|i| ((i * 7919 + seed) % 1999) as f32 / 1999.0 - 0.5)
            .collect()
    };
    let (a, bm) = (matrix(1), matrix(2));
    let mut cm = vec![0.0f32; N * N];
    g.throughput(Throughput::Elements(2 * (N as u64).pow(3)));
    g.bench_function("sgemm_2048", |b| {
        b.iter(|| {
            // SAFETY: a, bm and cm are N×N row-major (strides N, 1), each a
            // Vec of exactly N·N elements; cm is a unique borrow.
            unsafe {
                matrixmultiply::sgemm(
                    N,
                    N,
                    N,
                    1.0,
                    a.as_ptr(),
                    N as isize,
                    1,
                    bm.as_ptr(),
                    N as isize,
                    1,
                    0.0,
                    cm.as_mut_ptr(),
                    N as isize,
                    1,
                );
            }
            black_box(&cm);
        })
    });
    g.finish();
}

criterion_group!(benches, inference, training_step, flop_rates);
criterion_main!(benches);
