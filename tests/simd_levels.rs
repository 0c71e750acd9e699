//! Every instruction-set level computes bit-identical results (a
//! `#[fast_math]` network: wherever the levels agree on fusing
//! multiply-adds; bf16 inference: whether or not the CPU's bf16
//! dot-product instruction is used), and each level's code path really
//! runs (this is the test that exercises the `unsafe` dispatch into the
//! AVX2 and AVX-512 variants).
//!
//! One test in its own binary: the level is process-wide.

use staticnet::loss::{CrossEntropy, Mse};
use staticnet::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use staticnet::simd::{fused_multiply_add, level, limit_level, Level};
use staticnet::train::{train_step, StepBuffers, StepOptions};
use staticnet::{network, Architecture};

network! {
    /// Exercises every activation and a residual block.
    struct Mixed(9 -> 5) {
        Dense<33>, Tanh,
        Residual { Dense<33>, Elu(0.7), Dense<33, bias = false> },
        Softplus, Dense<17>, Sigmoid, Dense<17>, LeakyRelu(0.05),
        Dense<5>,
    }

    /// The same with the approximations.
    #[fast_math]
    struct MixedFast(9 -> 5) {
        Dense<33>, Tanh,
        Residual { Dense<33>, Elu(0.7), Dense<33, bias = false> },
        Softplus, Dense<17>, Sigmoid, Dense<17>, LeakyRelu(0.05),
        Dense<5>,
    }

    /// Large enough at batch 16 for the matrixmultiply regime.
    struct Wide(64 -> 10) { Dense<96>, Relu, Dense<10> }

    /// W2's shape, for bf16 inference (a streamed first layer).
    struct Pixels(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }
}

/// bf16 inference of a seeded network at batch 1 and 3, as bits.
fn run_bf16<
    A: Architecture<Input<f32> = [f32; I], Output<f32> = [f32; O]>,
    const I: usize,
    const O: usize,
>() -> Vec<u32> {
    let net = staticnet::Network::<A, f32>::boxed_seeded(8);
    let packed = staticnet::bf16::Bf16Network::boxed_from_network(&net);
    let x: Box<[[f32; I]; 3]> = Box::new(core::array::from_fn(|b| {
        core::array::from_fn(|i| ((b * 7 + i * 5) % 17) as f32 / 8.5 - 1.0)
    }));
    let mut y = [[0.0f32; O]; 3];
    packed.infer(&x, &mut y);
    let one = packed.predict(&x[2]);
    y.as_flattened()
        .iter()
        .chain(one.iter())
        .map(|v| v.to_bits())
        .collect()
}

/// Everything a few training steps produce, as bits.
fn run<
    A: Architecture<Input<f32> = [f32; I], Output<f32> = [f32; O]>,
    const I: usize,
    const O: usize,
>() -> Vec<u32> {
    let mut net = staticnet::Network::<A, f32>::seeded(3);
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    })
    .unwrap();
    let mut bufs = StepBuffers::<A, f32, 7>::new();
    let x: [[f32; I]; 7] = core::array::from_fn(|b| {
        core::array::from_fn(|i| ((b * 5 + i * 3) % 13) as f32 / 6.5 - 1.0)
    });
    let y: [[f32; O]; 7] =
        core::array::from_fn(|b| core::array::from_fn(|o| ((b + o) % 3) as f32 - 1.0));
    let opts = StepOptions {
        lr: 0.05,
        clip: None,
    };
    let mut bits = Vec::new();
    for _ in 0..4 {
        let loss = train_step(
            &mut net,
            &mut sgd,
            &Mse::default(),
            &mut bufs,
            &x,
            &y,
            7,
            &opts,
        )
        .unwrap();
        bits.push(loss.to_bits());
    }
    let mut out = [[0.0f32; O]; 7];
    net.infer(&x, &mut out);
    bits.extend(out.as_flattened().iter().map(|v| v.to_bits()));
    bits.extend(net.params().iter().map(|v| v.to_bits()));
    bits
}

fn run_wide() -> Vec<u32> {
    let mut net: Wide = Wide::seeded(9);
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut bufs = StepBuffers::<WideArch, f32, 16>::new();
    let x: [[f32; 64]; 16] =
        core::array::from_fn(|b| core::array::from_fn(|i| ((b * 7 + i) % 11) as f32 / 5.5 - 1.0));
    let y: [usize; 16] = core::array::from_fn(|b| b % 10);
    let opts = StepOptions {
        lr: 1e-2,
        clip: None,
    };
    let mut bits = Vec::new();
    for _ in 0..3 {
        let loss = train_step(
            &mut net,
            &mut adam,
            &CrossEntropy::default(),
            &mut bufs,
            &x,
            &y,
            16,
            &opts,
        )
        .unwrap();
        bits.push(loss.to_bits());
    }
    bits.extend(net.params().iter().map(|v| v.to_bits()));
    bits
}

#[test]
fn every_level_gives_bit_identical_results() {
    let top = level();
    let mut levels = vec![Level::Baseline];
    if top >= Level::Avx2 {
        levels.push(Level::Avx2);
    }
    if top >= Level::Avx512 {
        levels.push(Level::Avx512);
    }
    eprintln!("levels available here: {levels:?}");
    let mut results = Vec::new();
    for &l in &levels {
        assert_eq!(limit_level(l), l, "could not select {l:?}");
        assert_eq!(level(), l);
        results.push((
            l,
            run::<MixedArch, 9, 5>(),
            run::<MixedFastArch, 9, 5>(),
            run_wide(),
            fused_multiply_add(),
            (
                run_bf16::<MixedArch, 9, 5>(),
                run_bf16::<PixelsArch, 784, 10>(),
            ),
            staticnet::simd::bf16_dot_product(),
        ));
    }
    let (l0, mixed, fast, wide, fused0, bf16, _) = &results[0];
    // The bf16 sums by `vdpbf16ps` (where the CPU has it) and by `f32`
    // code at every other level: the same bits.
    eprintln!(
        "bf16 dot-product instruction used at: {:?}",
        results
            .iter()
            .filter(|r| r.6)
            .map(|r| r.0)
            .collect::<Vec<_>>()
    );
    for (l, .., b, _) in &results[1..] {
        assert_eq!(b, bf16, "bf16 inference differs between {l0:?} and {l:?}");
    }
    for (l, m, f, w, fused, ..) in &results[1..] {
        assert_eq!(
            m, mixed,
            "exact activations differ between {l0:?} and {l:?}"
        );
        assert_eq!(
            w, wide,
            "matrixmultiply regime differs between {l0:?} and {l:?}"
        );
        // `#[fast_math]` adds products by fused multiply-adds at the
        // levels with FMA: the same bits wherever both levels fuse or both
        // do not, values within rounding of each other otherwise.
        if fused == fused0 {
            assert_eq!(f, fast, "fast activations differ between {l0:?} and {l:?}");
        } else {
            assert_ne!(f, fast, "{l:?} should fuse multiply-adds, {l0:?} not");
            assert_close(f, fast, &format!("fast_math at {l0:?} and {l:?}"));
        }
    }
    assert_ne!(mixed, fast, "fast_math should change some low bits");
}

/// Every value within a few `f32` roundings of the other (measured: at
/// most 3.5e-8 apart after four training steps).
fn assert_close(a: &[u32], b: &[u32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (f32::from_bits(*x), f32::from_bits(*y));
        let tol = 1e-6 * (1.0 + x.abs().max(y.abs()));
        assert!((x - y).abs() <= tol, "{what}: value {i}: {x} vs {y}");
    }
}
