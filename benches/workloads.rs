//! Criterion benches of the DESIGN.md workloads that need only the network
//! itself: inference W1-W3 and the forward+backward part of the training
//! steps W4 and W6 (the optimizer update is benchmarked with the
//! optimizers).
//!
//! Each group runs the default kernel selection beside the same shape
//! declared `#[static_kernels]`, so the two regimes are compared in one run.
//!
//! Run: `cargo bench --bench workloads`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use staticnet::network;
use std::hint::black_box;

network! {
    /// W1: 2 -> 16 tanh -> 16 tanh -> 1.
    struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }

    /// W2/W3/W4: 784 -> 128 relu -> 64 relu -> 10.
    struct Mnist(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }

    /// The W2 net, never using matrixmultiply.
    #[static_kernels]
    struct MnistStatic(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }

    /// W6: 8 -> 32 tanh -> 32 tanh -> 4.
    struct W6(8 -> 4) { Dense<32>, Tanh, Dense<32>, Tanh, Dense<4> }
}

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
    g.bench_function(BenchmarkId::new("W1", 1), |b| {
        b.iter(|| w1.infer(black_box(&x1), black_box(&mut y1)))
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

    let x3 = inputs::<784, 64>(13);
    let mut y3 = Box::new([[0.0f32; 10]; 64]);
    g.throughput(Throughput::Elements(64));
    g.bench_function(BenchmarkId::new("W3/default", 64), |b| {
        b.iter(|| net.infer(black_box(&x3), black_box(&mut y3)))
    });
    g.bench_function(BenchmarkId::new("W3/static", 64), |b| {
        b.iter(|| net_static.infer(black_box(&x3), black_box(&mut y3)))
    });
    g.finish();
}

fn forward_backward(c: &mut Criterion) {
    let mut g = c.benchmark_group("forward_backward");

    let net = Mnist::boxed_seeded(3);
    let mut grads = Mnist::boxed_zeroed();
    let mut tape = MnistTape::<f32, 32>::boxed();
    let x = inputs::<784, 32>(14);
    let dy = inputs::<10, 32>(15);
    g.throughput(Throughput::Elements(32));
    g.bench_function(BenchmarkId::new("W4", 32), |b| {
        b.iter(|| {
            net.forward(black_box(&x), &mut tape);
            net.backward(&mut tape, black_box(&dy), &mut grads).unwrap();
        })
    });

    let w6 = W6::seeded(4);
    let mut w6_grads = W6::zeroed();
    let mut w6_tape = W6Tape::<f32, 1>::new();
    let x6 = inputs::<8, 1>(16);
    let dy6 = inputs::<4, 1>(17);
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("W6", 1), |b| {
        b.iter(|| {
            w6.forward(black_box(&x6), &mut w6_tape);
            w6.backward(&mut w6_tape, black_box(&dy6), &mut w6_grads)
                .unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, inference, forward_backward);
criterion_main!(benches);
