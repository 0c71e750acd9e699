//! Exploding gradients, and gradient clipping taming them.
//!
//! A 12-layer ReLU network starts with every weight 1.5 times larger than
//! He (Kaiming) initialisation would draw it. Each layer then amplifies its
//! input by about 1.5: the output starts about 1.5^12 ≈ 130 times too
//! large, and the loss and the gradient's norm several thousand times
//! larger than with He initialisation (the example prints both). Trained
//! with SGD with momentum, the first update is enormous: the weights
//! overshoot, the next loss overflows and [`train_step`] refuses the step.
//! The same network trained the same way with global-norm clipping
//! (`Clip::Norm`, PyTorch's `clip_grad_norm_`) takes steps of bounded size
//! and trains. A third run, plain He initialisation without clipping,
//! shows where training would have started.
//!
//! Run: `cargo run --release --example exploding_gradients`

mod support;

use plotters::prelude::SeriesLabelPosition;
use rand_core::Rng;
use staticnet::clip::{grad_norm, Norm};
use staticnet::init::SplitMix64;
use staticnet::loss::{Loss, Mse};
use staticnet::optim::{Sgd, SgdConfig};
use staticnet::train::{train_step, Clip, StepBuffers, StepOptions};
use staticnet::{network, Error, Init};
use support::figure::{figure, Cell, Line, Panel};
use support::{Output, YScale, COLORS};

network! {
    /// 12 dense layers: 8 inputs, 11 hidden layers of 32 ReLU units, 1 output.
    pub struct Deep(8 -> 1) {
        Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu,
        Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu,
        Dense<32>, Relu, Dense<32>, Relu, Dense<32>, Relu,
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
    /// Mini-batch SGD steps.
    pub steps: usize,
    /// Learning rate.
    pub lr: f64,
    /// Momentum.
    pub momentum: f64,
    /// Factor applied to every weight after He initialisation.
    pub init_scale: f64,
    /// The clipped run's largest gradient norm.
    pub max_norm: f64,
    /// Seed of the data and the initialisation.
    pub seed: u64,
    /// A run counts as diverged once its loss exceeds this multiple of
    /// its first loss (if the step is not refused before).
    pub explode_factor: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            steps: 1500,
            lr: 0.01,
            momentum: 0.9,
            init_scale: 1.5,
            max_norm: 1.0,
            seed: 7,
            explode_factor: 1e6,
        }
    }
}

/// The three runs: too large without clipping, too large with clipping,
/// and for reference plain He initialisation without clipping.
pub struct Experiment {
    /// Too large, not clipped.
    pub unclipped: RunLog,
    /// Too large, clipped.
    pub clipped: RunLog,
    /// He initialisation, not clipped.
    pub reference: RunLog,
}

/// Runs the three trainings of `config`.
pub fn experiment(config: &Config) -> Experiment {
    Experiment {
        unclipped: run(config, config.init_scale, None),
        clipped: run(config, config.init_scale, Some(config.max_norm)),
        reference: run(config, 1.0, None),
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every step was taken.
    Finished,
    /// `train_step` refused step `step` (its loss or gradients were not
    /// finite); the error says which.
    Refused {
        /// The refused step, from 1.
        step: usize,
        /// The library's error.
        error: Error,
    },
    /// The loss passed `explode_factor` times its first value at `step`.
    Exploded {
        /// The step, from 1.
        step: usize,
    },
}

/// What one run recorded, step by step.
pub struct RunLog {
    /// The factor the initial weights were scaled by.
    pub init_scale: f64,
    /// The clipping limit, if any.
    pub max_norm: Option<f64>,
    /// The loss growth counted as divergence.
    pub explode_factor: f64,
    /// Mini-batch loss of each step taken (before its update).
    pub losses: Vec<f64>,
    /// Global L2 norm of each step's gradient, before any clipping.
    pub grad_norms: Vec<f64>,
    /// How it ended.
    pub outcome: Outcome,
}

impl RunLog {
    /// The step at which it diverged, if it did.
    pub fn diverged_at(&self) -> Option<usize> {
        match self.outcome {
            Outcome::Finished => None,
            Outcome::Refused { step, .. } | Outcome::Exploded { step } => Some(step),
        }
    }

    /// The last finite loss recorded.
    pub fn last_finite_loss(&self) -> Option<f64> {
        self.losses.iter().rev().copied().find(|l| l.is_finite())
    }

    /// Mean loss over the last `n` steps taken.
    pub fn final_loss(&self, n: usize) -> f64 {
        let tail = &self.losses[self.losses.len().saturating_sub(n)..];
        tail.iter().sum::<f64>() / tail.len() as f64
    }
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

/// He-uniform initialisation with every weight then multiplied by `scale`.
pub fn scaled_init(seed: u64, scale: f64) -> Box<Deep> {
    let mut net = Deep::<f32>::boxed_zeroed();
    net.init(Init::KaimingUniform, &mut SplitMix64::new(seed));
    // He init zeroes the biases; scaling every parameter scales the weights.
    net.params_mut().iter_mut().for_each(|p| *p *= scale as f32);
    net
}

/// Trains the network from He initialisation scaled by `init_scale`,
/// clipping the global gradient norm to `max_norm` if given.
pub fn run(config: &Config, init_scale: f64, max_norm: Option<f64>) -> RunLog {
    let (inputs, targets) = dataset(config.seed);
    let mut net = scaled_init(config.seed, init_scale);
    let mut opt = Sgd::<f32, _>::boxed(SgdConfig {
        lr: config.lr,
        momentum: config.momentum,
        ..SgdConfig::default()
    })
    .expect("valid SGD hyperparameters");
    let mut bufs = StepBuffers::<DeepArch, f32, BATCH>::boxed();
    let options = StepOptions {
        lr: config.lr,
        clip: max_norm.map(|max_norm| Clip::Norm {
            max_norm,
            norm: Norm::L2,
        }),
    };
    let mut log = RunLog {
        init_scale,
        max_norm,
        explode_factor: config.explode_factor,
        losses: Vec::with_capacity(config.steps),
        grad_norms: Vec::with_capacity(config.steps),
        outcome: Outcome::Finished,
    };
    let mut x = [[0.0f32; 8]; BATCH];
    let mut y = [[0.0f32; 1]; BATCH];
    for step in 1..=config.steps {
        // Consecutive batches walk through the data in order.
        for (k, (xi, yi)) in x.iter_mut().zip(&mut y).enumerate() {
            let row = ((step - 1) * BATCH + k) % ROWS;
            *xi = inputs[row];
            *yi = targets[row];
        }
        // The gradient's norm before clipping. `train_step` clips and then
        // resets its gradients, so a forward and backward pass of our own on
        // the same batch measures what it is about to clip.
        let norm = {
            let out = net.forward(&x, &mut bufs.tape);
            Mse::default()
                .value_and_grad(out, &y, &mut bufs.grad_output)
                .expect("the batch is full");
            net.backward(&mut bufs.tape, &bufs.grad_output, &mut bufs.grads)
                .expect("the tape was just filled");
            let n = grad_norm(bufs.grads.params(), Norm::L2);
            bufs.grads.fill_zero();
            n
        };
        match train_step(
            &mut net,
            opt.as_mut(),
            &Mse::default(),
            &mut bufs,
            &x,
            &y,
            BATCH,
            &options,
        ) {
            Ok(loss) => {
                log.losses.push(f64::from(loss));
                log.grad_norms.push(norm);
                if log.losses[0] * config.explode_factor < f64::from(loss) {
                    log.outcome = Outcome::Exploded { step };
                    break;
                }
            }
            Err(error) => {
                log.outcome = Outcome::Refused { step, error };
                break;
            }
        }
    }
    log
}

fn describe(log: &RunLog) -> String {
    match &log.outcome {
        Outcome::Finished => format!(
            "finished: mean loss over the last 100 steps {:.4}",
            log.final_loss(100)
        ),
        // The error names the step and why it was refused.
        Outcome::Refused { error, .. } => format!(
            "diverged, train_step said \"{error}\"; last finite loss {:.3e}",
            log.last_finite_loss().unwrap_or(f64::NAN)
        ),
        Outcome::Exploded { step } => format!(
            "diverged: loss {:.3e} at step {step}, more than {:e} times the first",
            log.losses.last().copied().unwrap_or(f64::NAN),
            log.explode_factor
        ),
    }
}

fn plots(out: &Output, runs: &[&RunLog]) {
    let name = |log: &RunLog| {
        let init = if log.init_scale == 1.0 {
            "He init".to_string()
        } else {
            format!("He init x{}", log.init_scale)
        };
        let clip = match log.max_norm {
            Some(m) => format!("clipped to norm {m}"),
            None => "no clipping".to_string(),
        };
        match log.diverged_at() {
            Some(step) => format!("{init}, {clip}: diverged at step {step}"),
            None => format!("{init}, {clip}"),
        }
    };
    // A fixed colour per kind of run; the diverged one is drawn last, with
    // dots, so its few points stay visible over the others.
    let color = |log: &RunLog| match (log.max_norm, log.init_scale == 1.0) {
        (Some(_), _) => COLORS[0],
        (None, true) => COLORS[2],
        (None, false) => COLORS[3],
    };
    let mut order: Vec<&RunLog> = runs.to_vec();
    order.sort_by_key(|log| log.diverged_at().is_some());
    let series = |values: &dyn Fn(&RunLog) -> &Vec<f64>| -> Vec<Line> {
        order
            .iter()
            .map(|log| {
                let points = values(log)
                    .iter()
                    .enumerate()
                    .map(|(t, &v)| ((t + 1) as f64, v))
                    .collect();
                let line = Line::new(name(log), points, color(log));
                if log.diverged_at().is_some() {
                    line.with_markers()
                } else {
                    line
                }
            })
            .collect()
    };
    let mut norm_lines = series(&|l| &l.grad_norms);
    if let Some(m) = runs.iter().find_map(|l| l.max_norm) {
        let steps = runs.iter().map(|l| l.grad_norms.len()).max().unwrap_or(1) as f64;
        norm_lines
            .push(Line::new("clipping limit", vec![(1.0, m), (steps, m)], COLORS[7]).dashed());
    }
    let loss = Panel {
        title: "training loss (mini-batch MSE)",
        x: "step",
        y: "loss",
        x_scale: YScale::Log,
        y_scale: YScale::Log,
        legend: SeriesLabelPosition::UpperRight,
        lines: series(&|l| &l.losses),
    };
    let norms = Panel {
        title: "gradient norm before clipping",
        x: "step",
        y: "global L2 norm",
        x_scale: YScale::Log,
        y_scale: YScale::Log,
        legend: SeriesLabelPosition::UpperRight,
        lines: norm_lines,
    };
    figure(
        out,
        "exploding_gradients.svg",
        2,
        (620, 460),
        &[Cell::Lines(loss), Cell::Lines(norms)],
    );
    for log in runs {
        let rows: Vec<Vec<f64>> = log
            .losses
            .iter()
            .zip(&log.grad_norms)
            .enumerate()
            .map(|(t, (l, n))| vec![(t + 1) as f64, *l, *n])
            .collect();
        let file = match (log.max_norm, log.init_scale == 1.0) {
            (Some(_), _) => "clipped.csv",
            (None, false) => "unclipped.csv",
            (None, true) => "reference.csv",
        };
        out.csv(file, &["step", "loss", "grad_norm_before_clipping"], &rows);
    }
}

fn main() {
    let config = Config::default();
    let Experiment {
        unclipped,
        clipped,
        reference,
    } = experiment(&config);
    println!(
        "A 12-layer ReLU net ({} parameters), He-initialised, then every weight x{}.",
        Deep::<f32>::PARAMS,
        config.init_scale
    );
    println!(
        "SGD lr {}, momentum {}, batches of {BATCH}, {} steps; MSE on a smooth target.",
        config.lr, config.momentum, config.steps
    );
    println!(
        "At the start: loss {:.3e}, gradient norm {:.3e} (He init alone: loss {:.3}, norm {:.3}).",
        unclipped.losses[0], unclipped.grad_norms[0], reference.losses[0], reference.grad_norms[0]
    );
    let rows = [
        (format!("x{}, no clipping", config.init_scale), &unclipped),
        (
            format!("x{}, clip norm to {}", config.init_scale, config.max_norm),
            &clipped,
        ),
        ("He init, no clipping".to_string(), &reference),
    ];
    for (label, log) in rows {
        println!("  {label:<22} {}", describe(log));
    }
    let out = Output::new("exploding_gradients");
    plots(&out, &[&unclipped, &clipped, &reference]);
    out.finish();
}
