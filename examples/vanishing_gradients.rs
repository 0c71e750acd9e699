//! Vanishing gradients, layer by layer: how large the gradient of each
//! dense layer's weights is in 12-layer networks, at initialisation and
//! after training.
//!
//! - sigmoid: its derivative is at most 1/4, so every layer shrinks the
//!   gradient flowing back; the first layers barely learn.
//! - tanh: derivative up to 1, centred at 0: much less shrinkage.
//! - ReLU: derivative 0 or 1, but with `nn.Linear`'s default weights (too
//!   small for ReLU) each layer still shrinks the gradient; He
//!   initialisation, made for ReLU, keeps its size steady instead.
//! - ReLU with residual blocks `y = x + f(x)`: the identity path carries the
//!   gradient back unchanged, whatever `f` does.
//!
//! All five start from PyTorch's `nn.Linear` initialisation except the one
//! marked "He init" (Kaiming, scaled for ReLU), so that the curves differ
//! only by what is named.
//!
//! Each gradient is the mean over the whole training set (mini-batch
//! gradients accumulated by `backward`), and each layer's number is the
//! L2 (Frobenius) norm of its weight gradient, found in the gradient buffer
//! through the layer's `DenseLayout`.
//!
//! Run: `cargo run --release --example vanishing_gradients`
//! (with `-- --docs` it also refreshes `docs/images/vanishing_gradients.svg`).

mod support;

use plotters::prelude::SeriesLabelPosition;
use rand_core::Rng;
use staticnet::architecture::{Architecture, Layer};
use staticnet::init::SplitMix64;
use staticnet::loss::{Loss, Mse};
use staticnet::optim::{Adam, AdamConfig};
use staticnet::schedule::Constant;
use staticnet::train::{FitOptions, Trainer};
use staticnet::{network, Init, Network, Tape};
use support::figure::{figure, publish_if_asked, Cell, Line, Panel};
use support::{Output, YScale, COLORS};

network! {
    /// 12 dense layers, sigmoid between them.
    pub struct SigmoidNet(8 -> 1) {
        Dense<32>, Sigmoid, Dense<32>, Sigmoid, Dense<32>, Sigmoid, Dense<32>, Sigmoid,
        Dense<32>, Sigmoid, Dense<32>, Sigmoid, Dense<32>, Sigmoid, Dense<32>, Sigmoid,
        Dense<32>, Sigmoid, Dense<32>, Sigmoid, Dense<32>, Sigmoid,
        Dense<1>,
    }

    /// 12 dense layers, tanh between them.
    pub struct TanhNet(8 -> 1) {
        Dense<32>, Tanh, Dense<32>, Tanh, Dense<32>, Tanh, Dense<32>, Tanh,
        Dense<32>, Tanh, Dense<32>, Tanh, Dense<32>, Tanh, Dense<32>, Tanh,
        Dense<32>, Tanh, Dense<32>, Tanh, Dense<32>, Tanh,
        Dense<1>,
    }

    /// 12 dense layers, ReLU between them.
    pub struct ReluNet(8 -> 1) {
        Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu,
        Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu,
        Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu,
        Dense<1>,
    }

    /// 12 dense layers: one in, five residual blocks of two, one out.
    pub struct ResidualNet(8 -> 1) {
        Dense<32>, Relu,
        Residual { Dense<32>, Relu, Dense<32> },
        Residual { Dense<32>, Relu, Dense<32> },
        Residual { Dense<32>, Relu, Dense<32> },
        Residual { Dense<32>, Relu, Dense<32> },
        Residual { Dense<32>, Relu, Dense<32> },
        Dense<1>,
    }
}

/// Rows per mini-batch.
pub const BATCH: usize = 32;
/// Rows of the training set.
pub const ROWS: usize = 512;

/// The experiment's settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Passes over the training set (each of `ROWS / BATCH` Adam steps).
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the data and the initialisations.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            epochs: 60,
            lr: 1e-3,
            seed: 3,
        }
    }
}

/// One network's measurements.
pub struct Study {
    /// Which network.
    pub name: &'static str,
    /// Its initialisation.
    pub init: Init,
    /// Weight-gradient norm of each dense layer, first to last, at
    /// initialisation.
    pub at_init: Vec<f64>,
    /// The same after training.
    pub trained: Vec<f64>,
    /// Training-set loss at initialisation and after training.
    pub loss: (f64, f64),
}

/// A fixed regression task: 8 inputs in [−1, 1], a smooth target of a few
/// of them.
pub fn dataset(seed: u64) -> (Vec<[f32; 8]>, Vec<[f32; 1]>) {
    let mut rng = SplitMix64::new(seed);
    let mut uniform = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    let inputs: Vec<[f32; 8]> = (0..ROWS)
        .map(|_| std::array::from_fn(|_| uniform() as f32))
        .collect();
    let targets = inputs
        .iter()
        .map(|x| {
            let x = x.map(f64::from);
            [((2.0 * x[0] + x[1]).sin() + 0.5 * (x[2] * x[3]).cos() + 0.3 * x[4] * x[5]) as f32]
        })
        .collect();
    (inputs, targets)
}

/// The mean gradient over the whole data set and its loss: `backward`
/// accumulates, so the batches' gradients simply add up in `grads`.
fn full_gradient<A>(
    net: &Network<A, f32>,
    inputs: &[[f32; 8]],
    targets: &[[f32; 1]],
    grads: &mut Network<A, f32>,
) -> f64
where
    A: Architecture<Input<f32> = [f32; 8], Output<f32> = [f32; 1]>,
{
    let mut tape = Tape::<A, f32, BATCH>::boxed();
    let mut grad_out = [[0.0f32; 1]; BATCH];
    let batches = inputs.len() / BATCH;
    grads.fill_zero();
    let mut loss = 0.0;
    for (x, y) in inputs.chunks_exact(BATCH).zip(targets.chunks_exact(BATCH)) {
        let x: &[[f32; 8]; BATCH] = x.try_into().expect("a whole batch");
        let y: &[[f32; 1]; BATCH] = y.try_into().expect("a whole batch");
        let out = net.forward(x, &mut tape);
        loss += f64::from(
            Mse::default()
                .value_and_grad(out, y, &mut grad_out)
                .expect("rows fit the batch"),
        );
        // Each batch's loss is a mean over its rows; scaling by the number
        // of batches makes the sum the mean over the data set.
        grad_out.iter_mut().for_each(|g| g[0] /= batches as f32);
        net.backward(&mut tape, &grad_out, grads)
            .expect("the tape was just filled");
    }
    loss / batches as f64
}

/// The L2 norm of each dense layer's weight gradient, first to last.
pub fn layer_norms<A: Architecture>(grads: &Network<A, f32>) -> Vec<f64> {
    A::LAYERS
        .iter()
        .filter_map(|layer| match layer {
            Layer::Dense(d) => {
                let weights =
                    &grads.params()[d.weight_offset..d.weight_offset + d.inputs * d.outputs];
                Some(
                    weights
                        .iter()
                        .map(|g| f64::from(*g).powi(2))
                        .sum::<f64>()
                        .sqrt(),
                )
            }
            _ => None,
        })
        .collect()
}

/// Measures `A` initialised with `init`, trains it with Adam, measures
/// again.
pub fn study<A>(name: &'static str, init: Init, config: &Config) -> Study
where
    A: Architecture<Input<f32> = [f32; 8], Output<f32> = [f32; 1]>,
{
    let (inputs, targets) = dataset(config.seed);
    let mut net = Network::<A, f32>::boxed_zeroed();
    net.init(init, &mut SplitMix64::new(config.seed));
    let mut grads = Network::<A, f32>::boxed_zeroed();
    let loss_before = full_gradient(&net, &inputs, &targets, &mut grads);
    let at_init = layer_norms(&grads);

    let adam = Adam::new(AdamConfig {
        lr: config.lr,
        ..AdamConfig::default()
    })
    .expect("valid Adam hyperparameters");
    let options = FitOptions {
        epochs: config.epochs,
        seed: config.seed,
        ..FitOptions::default()
    };
    let mut trainer =
        Trainer::<A, f32, _, _, _, BATCH>::new(adam, Mse::default(), Constant, options);
    trainer
        .fit(&mut net, &inputs, &targets, None)
        .expect("training stays finite");
    let loss_after = full_gradient(&net, &inputs, &targets, &mut grads);
    Study {
        name,
        init,
        at_init,
        trained: layer_norms(&grads),
        loss: (loss_before, loss_after),
    }
}

/// The four networks with PyTorch's `nn.Linear` initialisation, so that
/// only the activation and the skip connections differ, and the plain ReLU
/// network once more with He initialisation, made for ReLU.
pub fn run(config: &Config) -> Vec<Study> {
    vec![
        study::<SigmoidNetArch>("sigmoid", Init::PyTorchDefault, config),
        study::<TanhNetArch>("tanh", Init::PyTorchDefault, config),
        study::<ReluNetArch>("ReLU", Init::PyTorchDefault, config),
        study::<ReluNetArch>("ReLU, He init", Init::KaimingUniform, config),
        study::<ResidualNetArch>("ReLU + residual", Init::PyTorchDefault, config),
    ]
}

fn plots(out: &Output, studies: &[Study]) {
    let mut lines = Vec::new();
    for (i, s) in studies.iter().enumerate() {
        let points = |v: &[f64]| {
            v.iter()
                .enumerate()
                .map(|(l, &n)| ((l + 1) as f64, n))
                .collect()
        };
        lines.push(
            Line::new(format!("{} at init", s.name), points(&s.at_init), COLORS[i])
                .dashed()
                .with_markers(),
        );
        lines.push(
            Line::new(format!("{} trained", s.name), points(&s.trained), COLORS[i]).with_markers(),
        );
    }
    let panel = Panel {
        title: "weight-gradient norm per layer (dashed: at init, solid: trained)",
        x: "dense layer (1 = nearest the input)",
        y: "||dL/dW||",
        x_scale: YScale::Linear,
        y_scale: YScale::Log,
        legend: SeriesLabelPosition::LowerRight,
        lines,
    };
    let path = figure(
        out,
        "vanishing_gradients.svg",
        1,
        (900, 560),
        &[Cell::Lines(panel)],
    );
    publish_if_asked(&path, "vanishing_gradients.svg");
    let layers = studies.first().map_or(0, |s| s.at_init.len());
    let rows: Vec<Vec<f64>> = (0..layers)
        .map(|l| {
            let mut row = vec![(l + 1) as f64];
            for s in studies {
                row.push(s.at_init[l]);
                row.push(s.trained[l]);
            }
            row
        })
        .collect();
    let header: Vec<String> = std::iter::once("layer".to_string())
        .chain(studies.iter().flat_map(|s| {
            let key = s
                .name
                .replace([' ', ','], "_")
                .replace("__", "_")
                .replace('+', "plus");
            [format!("{key}_init"), format!("{key}_trained")]
        }))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out.csv("layer_gradient_norms.csv", &header, &rows);
}

fn main() {
    let config = Config::default();
    let studies = run(&config);
    println!(
        "Weight-gradient norm of each of 12 dense layers (8 -> 32 x 11 -> 1), mean gradient over {ROWS} rows;"
    );
    println!(
        "trained with Adam lr {}, batches of {BATCH}, {} epochs.\n",
        config.lr, config.epochs
    );
    println!(
        "  {:<16} {:<15} {:>12} {:>12} {:>12} {:>12} {:>17}",
        "network", "init", "layer 1", "layer 12", "layer 1", "layer 12", "loss"
    );
    println!(
        "  {:<16} {:<15} {:>25} {:>25}",
        "", "", "at init", "trained"
    );
    for s in &studies {
        println!(
            "  {:<16} {:<15} {:>12.3e} {:>12.3e} {:>12.3e} {:>12.3e} {:>8.4} -> {:.4}",
            s.name,
            format!("{:?}", s.init),
            s.at_init[0],
            s.at_init[s.at_init.len() - 1],
            s.trained[0],
            s.trained[s.trained.len() - 1],
            s.loss.0,
            s.loss.1
        );
    }
    let first = |name: &str| {
        studies
            .iter()
            .find(|s| s.name == name)
            .map_or(f64::NAN, |s| s.at_init[0])
    };
    let ratio = first("ReLU + residual") / first("sigmoid");
    println!("\nfirst-layer gradient at init, residual ReLU / sigmoid: {ratio:.2e}");
    let out = Output::new("vanishing_gradients");
    plots(&out, &studies);
    out.finish();
}
