//! Strategies for the property tests: named bounded ranges, and cases whose
//! lengths follow the drawn batch size. Everything random is drawn here, so
//! a failing case shrinks and replays; test bodies draw nothing.

use super::BATCHES;
use core::ops::Range;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use staticnet::architecture::{dense_layers, Architecture};
use staticnet::{Init, Network};

/// Network inputs, about the range of normalised data.
pub const PROPTEST_INPUT: Range<f64> = -2.0..2.0;
/// The upstream gradient `r` of the loss `L = Σ r ⊙ output`.
pub const PROPTEST_UPSTREAM: Range<f64> = -1.0..1.0;
/// Biases drawn explicitly, since most schemes leave them zero and a zero
/// bias would hide a bias that is read from the wrong place.
pub const PROPTEST_BIAS: Range<f64> = -0.5..0.5;

/// A configuration running `cases` cases, which keeps shrunk failures in
/// `<test file>.proptest-regressions` beside the test file, to be committed
/// and replayed first on every later run. (Proptest's default looks for a
/// `lib.rs` next to the source, which integration tests do not have.)
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Every initialisation scheme.
pub const INITS: [Init; 7] = [
    Init::PyTorchDefault,
    Init::XavierUniform,
    Init::XavierNormal,
    Init::KaimingUniform,
    Init::KaimingNormal,
    Init::LeCunUniform,
    Init::LeCunNormal,
];

/// How to make a network's parameters: `Network::init` with a scheme and a
/// seeded generator, then, optionally, explicit biases.
#[derive(Clone, Debug)]
pub struct Weights {
    pub init: Init,
    pub seed: u64,
    /// One value per bias of the network, in layer order.
    pub biases: Option<Vec<f64>>,
}

impl Weights {
    /// The `f64` network these weights describe, on the heap.
    pub fn build<A: Architecture>(&self) -> Box<Network<A, f64>> {
        let mut net = Network::<A, f64>::boxed_zeroed();
        net.init(self.init, &mut Xoshiro256PlusPlus::seed_from_u64(self.seed));
        if let Some(biases) = &self.biases {
            let mut values = biases.iter();
            for layer in dense_layers::<A>() {
                if let Some(offset) = layer.bias_offset {
                    for b in &mut net.params_mut()[offset..offset + layer.outputs] {
                        *b = *values.next().expect("one drawn value per bias");
                    }
                }
            }
        }
        net
    }
}

/// Number of bias parameters of `A`.
pub fn bias_count<A: Architecture>() -> usize {
    dense_layers::<A>()
        .filter(|layer| layer.bias_offset.is_some())
        .map(|layer| layer.outputs)
        .sum()
}

/// Parameters for a network with `biases` bias parameters.
///
/// The strategies take widths and counts as values rather than the
/// architecture as a type parameter, so that one copy of their code serves
/// every network of the pool.
pub fn weights(biases: usize) -> impl Strategy<Value = Weights> {
    (
        select(INITS.to_vec()),
        any::<u64>(),
        proptest::option::of(vec(PROPTEST_BIAS, biases)),
    )
        .prop_map(|(init, seed, biases)| Weights { init, seed, biases })
}

/// One run of a network: parameters, a batch of inputs, and the upstream
/// gradient of each output.
#[derive(Clone, Debug)]
pub struct Case {
    pub weights: Weights,
    pub batch: usize,
    /// `batch` rows of `A::INPUT` values, back to back.
    pub input: Vec<f64>,
    /// `batch` rows of `A::OUTPUT` values, back to back.
    pub upstream: Vec<f64>,
}

/// A [`Case`] for `A` at one of the batch sizes `with_batch` instantiates
/// ([`BATCHES`]), the lengths of its vectors following the batch size.
pub fn case<A: Architecture>() -> impl Strategy<Value = Case> {
    case_for(A::INPUT, A::OUTPUT, bias_count::<A>(), select(&BATCHES[..]))
}

/// A [`Case`] for `A` at exactly `batch` rows.
pub fn case_at<A: Architecture>(batch: usize) -> impl Strategy<Value = Case> {
    case_for(A::INPUT, A::OUTPUT, bias_count::<A>(), Just(batch))
}

fn case_for(
    inputs: usize,
    outputs: usize,
    biases: usize,
    batches: impl Strategy<Value = usize>,
) -> impl Strategy<Value = Case> {
    (weights(biases), batches)
        .prop_flat_map(move |(weights, batch)| {
            (
                Just(weights),
                Just(batch),
                vec(PROPTEST_INPUT, batch * inputs),
                vec(PROPTEST_UPSTREAM, batch * outputs),
            )
        })
        .prop_map(|(weights, batch, input, upstream)| Case {
            weights,
            batch,
            input,
            upstream,
        })
}
