//! bf16 inference: the rounding, the packed layout, the documented sums
//! (bit for bit against a reference interpreter written from the
//! documentation), and the accuracy against the `f32` network.

use staticnet::activation::{self, Activation};
use staticnet::architecture::{ActivationKind, Layer};
use staticnet::bf16::{round, widen, Bf16Network};
use staticnet::kernels::bf16_dense::partial_sums;
use staticnet::{network, Architecture, Network};
use std::mem::MaybeUninit;

network! {
    /// Odd widths (an unpaired last input), a layer without bias, a
    /// residual block and several activations.
    struct Odd(9 -> 5) {
        Dense<33>, Tanh,
        Residual { Dense<33>, Elu(0.7), Dense<33, bias = false> },
        Softplus, Dense<17>, Sigmoid, Dense<7>, LeakyRelu(0.05),
        Dense<5>,
    }

    /// The W2 shape: its first layer is streamed (prefetched) and its
    /// input does not fill whole vectors of 32.
    struct Mnist(784 -> 10) { Dense<128>, Relu, Dense<64>, Relu, Dense<10> }

    /// A wide output layer, summed in tiles of 128 outputs.
    struct WideOut(40 -> 300) { Dense<300> }
}

/// Deterministic values in [-scale, scale).
fn fill(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Round to nearest bf16, ties to even, by looking at the two neighbours
/// in `f64` (independent of the bit trick in `round`).
fn reference_round(x: f32) -> u16 {
    if x.is_nan() {
        return ((x.to_bits() >> 16) as u16) | 0x0040;
    }
    if x.to_bits() & 0x7f80_0000 == 0 {
        return ((x.to_bits() >> 16) & 0x8000) as u16;
    }
    let down = (x.to_bits() >> 16) as u16;
    let up = down + 1;
    // Past the largest finite bf16, the next value up counts as 2¹²⁸ (IEEE
    // rounds to infinity from halfway there).
    let beyond = |b: u16| {
        let v = widen(b) as f64;
        if v.is_infinite() {
            2f64.powi(128).copysign(v)
        } else {
            v
        }
    };
    let (d, u) = (beyond(down), beyond(up));
    let (to_down, to_up) = ((x as f64 - d).abs(), (u - x as f64).abs());
    if to_down < to_up || (to_down == to_up && down.is_multiple_of(2)) {
        down
    } else {
        up
    }
}

#[test]
fn rounding_is_to_nearest_even_with_the_documented_edges() {
    assert_eq!(round(1.0), 0x3f80);
    assert_eq!(round(-2.5), 0xc020);
    // Halfway between 0x3f80 and 0x3f81: to the even one.
    assert_eq!(round(f32::from_bits(0x3f80_8000)), 0x3f80);
    assert_eq!(round(f32::from_bits(0x3f81_8000)), 0x3f82);
    assert_eq!(round(f32::from_bits(0x3f80_8001)), 0x3f81);
    assert_eq!(round(f32::from_bits(0x3f80_7fff)), 0x3f80);
    // Past bf16's largest finite value: infinity.
    assert_eq!(round(f32::MAX), 0x7f80);
    assert_eq!(round(f32::from_bits(0x7f7f_7fff)), 0x7f7f);
    assert_eq!(round(f32::NEG_INFINITY), 0xff80);
    // NaNs stay NaNs, quiet, even one whose payload is in the low bits only.
    assert!(widen(round(f32::from_bits(0x7f80_0001))).is_nan());
    assert_eq!(round(f32::from_bits(0x7f80_0001)), 0x7fc0);
    assert_eq!(round(f32::NAN) & 0x7fc0, 0x7fc0);
    // Subnormals become zeros of their sign; the smallest normal stays.
    assert_eq!(round(f32::from_bits(0x0000_0001)), 0x0000);
    assert_eq!(round(-f32::from_bits(0x007f_ffff)), 0x8000);
    assert_eq!(round(-0.0), 0x8000);
    assert_eq!(round(f32::MIN_POSITIVE), 0x0080);
    assert_eq!(widen(0x0080), f32::MIN_POSITIVE);
}

#[test]
fn rounding_matches_the_nearest_neighbour_over_a_wide_sample() {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..2_000_000u32 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Random bit patterns, and every pattern near the rounding point.
        let bits = if i % 2 == 0 {
            s as u32
        } else {
            (s as u32 & 0xffff_0000) | (0x7ff0 + (i >> 1) % 0x20)
        };
        let x = f32::from_bits(bits);
        assert_eq!(round(x), reference_round(x), "{bits:#010x}");
        if !x.is_nan() && x.abs() >= f32::MIN_POSITIVE && widen(round(x)).is_finite() {
            // Half a unit in the last of 8 significant bits: 2⁻⁸ of a
            // value at least the power of two below it.
            let err = (widen(round(x)) as f64 - x as f64).abs();
            assert!(err <= x.abs() as f64 * 2f64.powi(-8), "{x}");
        }
    }
}

#[test]
fn partial_sums_follow_the_documented_widths() {
    // About eight vectors of sixteen outputs in flight per row.
    assert_eq!(partial_sums(1), 8);
    assert_eq!(partial_sums(10), 8);
    assert_eq!(partial_sums(16), 8);
    assert_eq!(partial_sums(17), 4);
    assert_eq!(partial_sums(33), 2);
    assert_eq!(partial_sums(64), 2);
    assert_eq!(partial_sums(65), 1);
    assert_eq!(partial_sums(128), 1);
    assert_eq!(partial_sums(300), 1);
}

/// A dense layer as the documentation of `kernels::bf16_dense` states it,
/// one value at a time.
fn reference_dense(
    x: &[f32],
    w: impl Fn(usize, usize) -> f32,
    bias: Option<&[f32]>,
    outputs: usize,
) -> Vec<f32> {
    let inputs = x.len();
    let xr: Vec<f32> = x.iter().map(|v| widen(round(*v))).collect();
    let wr = |o: usize, i: usize| widen(round(w(o, i)));
    let k = partial_sums(outputs);
    (0..outputs)
        .map(|o| {
            let mut s = vec![0.0f32; k];
            for p in 0..inputs.div_ceil(2) {
                let j = p % k;
                let hi = if 2 * p + 1 < inputs {
                    xr[2 * p + 1] * wr(o, 2 * p + 1)
                } else {
                    0.0
                };
                s[j] += hi;
                s[j] += xr[2 * p] * wr(o, 2 * p);
            }
            let mut width = k / 2;
            while width > 0 {
                for j in 0..width {
                    s[j] += s[j + width];
                }
                width /= 2;
            }
            match bias {
                Some(b) => b[o] + s[0],
                None => s[0],
            }
        })
        .collect()
}

fn reference_activation(kind: ActivationKind, v: f32) -> f32 {
    match kind {
        ActivationKind::Identity => v,
        ActivationKind::BinaryStep => activation::BinaryStep.apply(v),
        ActivationKind::Sigmoid => activation::Sigmoid.apply(v),
        ActivationKind::Tanh => activation::Tanh.apply(v),
        ActivationKind::Relu => activation::Relu.apply(v),
        ActivationKind::Softplus { beta, threshold } => activation::Softplus {
            beta: beta as f32,
            threshold: threshold as f32,
        }
        .apply(v),
        ActivationKind::LeakyRelu { slope } => activation::LeakyRelu {
            slope: slope as f32,
        }
        .apply(v),
        ActivationKind::Elu { alpha } => activation::Elu {
            alpha: alpha as f32,
        }
        .apply(v),
    }
}

/// Runs `A::LAYERS` over one row with bf16 dense layers.
fn reference_row<A: Architecture>(net: &Network<A, f32>, x: &[f32]) -> Vec<f32> {
    let params = net.params();
    let mut v = x.to_vec();
    let mut skips = Vec::new();
    for layer in A::LAYERS {
        match layer {
            Layer::Dense(d) => {
                let w = |o: usize, i: usize| params[d.weight_index(o, i)];
                let bias = d.bias_offset.map(|b| &params[b..b + d.outputs]);
                v = reference_dense(&v, w, bias, d.outputs);
            }
            Layer::Activation(kind) => v
                .iter_mut()
                .for_each(|e| *e = reference_activation(*kind, *e)),
            Layer::ResidualBegin { .. } => skips.push(v.clone()),
            Layer::ResidualEnd => {
                let skip = skips.pop().unwrap();
                v.iter_mut().zip(skip).for_each(|(a, b)| *a += b);
            }
        }
    }
    v
}

/// `Bf16Network::infer` at batch `B` against the reference, bit for bit.
fn check_against_reference<
    A: Architecture<Input<f32> = [f32; I], Output<f32> = [f32; O]>,
    const I: usize,
    const O: usize,
    const B: usize,
>(
    net: &Network<A, f32>,
    seed: u64,
) {
    let packed = Bf16Network::boxed_from_network(net);
    let flat = fill(seed, I * B, 1.5);
    let x: Box<[[f32; I]; B]> = Box::new(core::array::from_fn(|b| {
        core::array::from_fn(|i| flat[b * I + i])
    }));
    let mut y = Box::new([[f32::NAN; O]; B]);
    packed.infer(&x, &mut y);
    for (b, (xr, yr)) in x.iter().zip(y.iter()).enumerate() {
        let want = reference_row(net, xr);
        for (o, (got, want)) in yr.iter().zip(&want).enumerate() {
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{} batch {B} row {b} output {o}: {got} against {want}",
                A::NAME
            );
        }
        // A row's result does not depend on the batch around it.
        assert_eq!(packed.predict(xr), *yr, "{} row {b} alone", A::NAME);
    }
}

#[test]
fn inference_computes_the_documented_sums_bit_for_bit() {
    let odd = Odd::seeded(5);
    check_against_reference::<OddArch, 9, 5, 1>(&odd, 1);
    check_against_reference::<OddArch, 9, 5, 2>(&odd, 2);
    check_against_reference::<OddArch, 9, 5, 5>(&odd, 3);
    let mnist = Mnist::boxed_seeded(6);
    check_against_reference::<MnistArch, 784, 10, 1>(&mnist, 4);
    check_against_reference::<MnistArch, 784, 10, 3>(&mnist, 5);
    let wide = WideOut::boxed_seeded(7);
    check_against_reference::<WideOutArch, 40, 300, 1>(&wide, 6);
    check_against_reference::<WideOutArch, 40, 300, 4>(&wide, 7);
}

#[test]
fn the_layout_keeps_biases_exact_and_rounds_every_weight() {
    let net = Odd::seeded(11);
    let packed = Bf16Network::from_network(&net);
    let mut back = Odd::zeroed();
    packed.unpack_into(&mut back);
    for layer in OddArch::LAYERS {
        let Layer::Dense(d) = layer else { continue };
        for o in 0..d.outputs {
            for i in 0..d.inputs {
                let at = d.weight_index(o, i);
                assert_eq!(
                    back.params()[at],
                    widen(round(net.params()[at])),
                    "weight {at}"
                );
            }
        }
        if let Some(b) = d.bias_offset {
            assert_eq!(
                back.params()[b..b + d.outputs],
                net.params()[b..b + d.outputs]
            );
        }
    }
    // Every word is used: the first layer's pairs then its biases, in order.
    let d0 = match OddArch::LAYERS[0] {
        Layer::Dense(d) => d,
        _ => unreachable!(),
    };
    let w = |o: usize, i: usize| round(net.params()[d0.weight_index(o, i)]) as u32;
    assert_eq!(packed.words()[0], w(0, 0) | w(0, 1) << 16);
    assert_eq!(packed.words()[1], w(1, 0) | w(1, 1) << 16);
    // 9 inputs: the fifth pair holds input 8 and a zero.
    assert_eq!(packed.words()[4 * 33], w(0, 8));
    let bias0 = net.params()[d0.bias_offset.unwrap()];
    assert_eq!(packed.words()[5 * 33], bias0.to_bits());
    let layers: usize = OddArch::LAYERS
        .iter()
        .map(|l| match l {
            Layer::Dense(d) => {
                d.inputs.div_ceil(2) * d.outputs + d.bias_offset.map_or(0, |_| d.outputs)
            }
            _ => 0,
        })
        .sum();
    assert_eq!(packed.words().len(), layers);
    let by_helper: usize = OddArch::LAYERS
        .iter()
        .map(|l| match l {
            Layer::Dense(d) => d.bf16_words(),
            _ => 0,
        })
        .sum();
    assert_eq!(by_helper, layers);

    // Packing the unpacked network changes nothing: rounding is idempotent.
    assert_eq!(Bf16Network::from_network(&back), packed);
}

#[test]
fn every_constructor_packs_the_same_words() {
    let net = Odd::seeded(12);
    let by_value = Bf16Network::from_network(&net);
    let boxed = Bf16Network::boxed_from_network(&net);
    let mut slot = MaybeUninit::uninit();
    let in_place = Bf16Network::from_network_in(&mut slot, &net);
    assert_eq!(*boxed, by_value);
    assert_eq!(*in_place, by_value);
    let mut repacked = Bf16Network::<OddArch>::ZERO;
    assert!(repacked.words().iter().all(|w| *w == 0));
    repacked.pack(&net);
    assert_eq!(repacked, by_value);
    assert_eq!(by_value.clone(), by_value);
    assert_eq!(
        format!("{by_value:?}"),
        format!(
            "Bf16Network {{ architecture: \"Odd\", words: {} }}",
            by_value.words().len()
        )
    );
    assert_eq!(
        by_value.words().as_ptr() as usize % 64,
        0,
        "cache-line aligned"
    );
}

/// One layer: `|y_bf16 - y_f32| ≤ (2⁻⁷ + 2⁻¹⁶)·Σ|x·w| + the two sums'
/// rounding`, since each rounded input and weight moves by at most 2⁻⁸
/// of itself.
#[test]
fn one_layer_stays_within_the_rounding_bound() {
    network! { struct Layer784(784 -> 128) { Dense<128> } }
    let net = Layer784::boxed_seeded(21);
    let packed = Bf16Network::boxed_from_network(&net);
    let d = match Layer784Arch::LAYERS[0] {
        Layer::Dense(d) => d,
        _ => unreachable!(),
    };
    for seed in 0..20 {
        let flat = fill(100 + seed, 784, 1.0);
        let x: [f32; 784] = core::array::from_fn(|i| flat[i]);
        let (y, y16) = (net.predict(&x), packed.predict(&x));
        for o in 0..128 {
            let magnitude: f64 = (0..784)
                .map(|i| (x[i] as f64 * net.params()[d.weight_index(o, i)] as f64).abs())
                .sum();
            let sums = 2.0 * 784.0 * 2f64.powi(-24) * magnitude;
            let bound = (2f64.powi(-7) + 2f64.powi(-16)) * magnitude + sums;
            let err = (y16[o] as f64 - y[o] as f64).abs();
            assert!(err <= bound, "output {o}: {err} > {bound}");
        }
    }
}

/// The whole W2 network, on inputs shaped like pixels: outputs within 1%
/// of the largest logit, and the same class for nearly every input.
#[test]
fn the_w2_network_keeps_its_answers() {
    let net = Mnist::boxed_seeded(31);
    let packed = Bf16Network::boxed_from_network(&net);
    let (mut worst, mut agree) = (0.0f32, 0);
    for seed in 0..200 {
        let flat = fill(1000 + seed, 784, 1.0);
        let x: [f32; 784] = core::array::from_fn(|i| flat[i].max(0.0));
        let (y, y16) = (net.predict(&x), packed.predict(&x));
        let scale = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (a, b) in y.iter().zip(&y16) {
            worst = worst.max((a - b).abs() / scale);
        }
        let argmax = |v: &[f32; 10]| (0..10).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        agree += usize::from(argmax(&y) == argmax(&y16));
    }
    eprintln!("W2 bf16: worst error {worst:e} of the largest logit, {agree}/200 same class");
    assert!(worst < 0.01, "{worst}");
    assert!(agree >= 196, "{agree}/200");
    assert!(worst > 0.0, "bf16 must change something");
}
