//! Learning-rate schedules: how the rate moves over a run, and what that
//! does to the digits network.
//!
//! Five schedules over the same number of optimizer steps, from the same
//! base rate: constant, step decay, exponential decay, cosine decay, and a
//! linear warmup followed by a cosine (the digits example's). The digits
//! network of `examples/digits.rs` is trained with each, from the same
//! initial weights and the same shuffles, so the schedule is the only
//! difference. One run can be lucky, so each schedule is run from a few
//! seeds and the table and plots show the spread and the mean.
//!
//! Run: `cargo run --release --example schedules`

// The digits example's network, data and training run, shared (its
// `main` is unused here); its `support` module serves this example too.
#[path = "digits.rs"]
#[allow(dead_code)]
pub mod digits;

use digits::support::{self, Chart, Output, Series, YScale};
use staticnet::schedule::{Constant, CosineAnnealingLr, ExponentialLr, Schedule, StepLr};
use staticnet::train::EpochStats;
use std::error::Error;

/// What the comparison does.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The training run of every schedule; its `lr` is the base rate of
    /// all of them, its `warmup_epochs` used by the warmup only, and its
    /// `seed` the first of `seeds` consecutive seeds.
    pub digits: digits::Config,
    /// Runs per schedule.
    pub seeds: u64,
}

impl Default for Config {
    /// The configuration behind the numbers in the README.
    fn default() -> Self {
        Config {
            digits: digits::Config {
                epochs: 15,
                warmup_epochs: 2,
                ..digits::Config::default()
            },
            seeds: 5,
        }
    }
}

/// One schedule's runs.
pub struct Run {
    /// The schedule, as printed.
    pub name: &'static str,
    /// The learning rate at every optimizer step.
    pub lrs: Vec<f64>,
    /// One trained network and its history per seed.
    pub outcomes: Vec<digits::Outcome>,
}

impl Run {
    /// Final test accuracies, one per seed.
    pub fn accuracies(&self) -> Vec<f64> {
        self.outcomes.iter().map(|o| o.test_accuracy).collect()
    }

    /// The mean over seeds of `f` at each epoch.
    pub fn mean_curve(&self, f: &dyn Fn(&EpochStats) -> Option<f64>) -> Vec<(f64, f64)> {
        let epochs = self.outcomes.first().map_or(0, |o| o.history.len());
        (0..epochs)
            .filter_map(|e| {
                let values: Option<Vec<f64>> =
                    self.outcomes.iter().map(|o| f(&o.history[e])).collect();
                let values = values?;
                Some(((e + 1) as f64, mean(&values)))
            })
            .collect()
    }
}

/// The average.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Trains the digits net with every schedule, `config.seeds` times each.
pub fn run(config: &Config, split: &digits::Split) -> Result<Vec<Run>, Box<dyn Error>> {
    let c = &config.digits;
    let steps = c.epochs as u64 * digits::steps_per_epoch(split);
    // The two decays end at 1% of the base rate: step decay by 10x after a
    // third and after two thirds of the run, the exponential smoothly.
    let third = steps.div_ceil(3).max(1);
    let gamma = 0.01f64.powf(1.0 / steps as f64);
    Ok(vec![
        one(config, split, "constant", Constant, steps)?,
        one(config, split, "step", StepLr::new(third, 0.1)?, steps)?,
        one(
            config,
            split,
            "exponential",
            ExponentialLr::new(gamma)?,
            steps,
        )?,
        one(
            config,
            split,
            "cosine",
            CosineAnnealingLr::new(steps, 0.0)?,
            steps,
        )?,
        one(
            config,
            split,
            "warmup + cosine",
            digits::warmup_cosine(c, split)?,
            steps,
        )?,
    ])
}

fn one<S: Schedule + Copy>(
    config: &Config,
    split: &digits::Split,
    name: &'static str,
    schedule: S,
    steps: u64,
) -> Result<Run, Box<dyn Error>> {
    let base = config.digits;
    let lrs = (0..steps).map(|t| schedule.lr(base.lr, t)).collect();
    let mut outcomes = Vec::new();
    for k in 0..config.seeds {
        let c = digits::Config {
            seed: base.seed + k,
            ..base
        };
        outcomes.push(digits::train_with(&c, split, schedule)?);
    }
    Ok(Run {
        name,
        lrs,
        outcomes,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let config = Config::default();
    let c = config.digits;
    let split = digits::load()?;
    println!(
        "digits net (64 -> 128 relu -> 64 relu -> 10), Adam with base lr {}, {} epochs of {} \
         steps; each schedule from seeds {}..={}\n",
        c.lr,
        c.epochs,
        digits::steps_per_epoch(&split),
        c.seed,
        c.seed + config.seeds - 1
    );
    let start = std::time::Instant::now();
    let runs = run(&config, &split)?;
    let seconds = start.elapsed().as_secs_f64();

    println!(
        "{:<16} {:>9}  {:>22}  {:>9}  {:>10}",
        "schedule", "final lr", "test acc: mean (range)", "test loss", "train loss"
    );
    for r in &runs {
        let acc = r.accuracies();
        let (lo, hi) = acc
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        let last = |f: &dyn Fn(&EpochStats) -> Option<f64>| {
            r.mean_curve(f).last().map_or(f64::NAN, |p| p.1)
        };
        println!(
            "{:<16} {:>9.2e}  {:>6.2}% ({:.2}-{:.2}%)  {:>9.4}  {:>10.4}",
            r.name,
            r.lrs.last().copied().unwrap_or(f64::NAN),
            100.0 * mean(&acc),
            100.0 * lo,
            100.0 * hi,
            last(&|e| e.val_loss),
            last(&|e| Some(e.train_loss)),
        );
    }
    println!(
        "(losses: means over the seeds after the last epoch; {} runs in {seconds:.1} s)",
        runs.len() as u64 * config.seeds
    );
    write_outputs(&runs, digits::steps_per_epoch(&split));
    Ok(())
}

/// The CSV files and the plots.
fn write_outputs(runs: &[Run], steps_per_epoch: u64) {
    let out = Output::new("schedules");
    let names: Vec<&str> = runs.iter().map(|r| r.name).collect();

    let mut header = vec!["step"];
    header.extend(&names);
    let steps = runs.first().map_or(0, |r| r.lrs.len());
    let rows: Vec<Vec<f64>> = (0..steps)
        .map(|t| {
            std::iter::once(t as f64)
                .chain(runs.iter().map(|r| r.lrs[t]))
                .collect()
        })
        .collect();
    out.csv("learning_rates.csv", &header, &rows);

    // Every run's history, one row per schedule, seed and epoch; the
    // schedule is a column number so the file stays numeric.
    let mut rows = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        for (k, o) in r.outcomes.iter().enumerate() {
            for e in &o.history {
                rows.push(vec![
                    i as f64,
                    k as f64,
                    e.epoch as f64,
                    e.train_loss,
                    e.val_loss.unwrap_or(f64::NAN),
                    e.val_accuracy.unwrap_or(f64::NAN),
                    e.lr,
                ]);
            }
        }
    }
    let schedule_column = format!(
        "schedule ({})",
        names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{i}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    out.csv(
        "history.csv",
        &[
            &schedule_column,
            "seed_index",
            "epoch",
            "train_loss",
            "test_loss",
            "test_accuracy",
            "lr",
        ],
        &rows,
    );

    // Learning rates against the (fractional) epoch, to line up with the
    // training curves.
    let per_epoch = steps_per_epoch as f64;
    let lr_series: Vec<Series> = runs
        .iter()
        .map(|r| {
            let pts = r
                .lrs
                .iter()
                .enumerate()
                .map(|(t, &lr)| (t as f64 / per_epoch, lr))
                .collect();
            Series::new(r.name, pts)
        })
        .collect();
    support::line_chart(
        &out,
        "learning_rates.svg",
        &Chart {
            title: "Learning rate over the run",
            x: "epoch",
            y: "learning rate",
            scale: YScale::Linear,
        },
        &lr_series,
    );
    let per_run = |f: &dyn Fn(&EpochStats) -> Option<f64>| -> Vec<Series> {
        runs.iter()
            .map(|r| Series::new(r.name, r.mean_curve(f)))
            .collect()
    };
    support::line_panels(
        &out,
        "comparison.svg",
        &[
            (
                Chart {
                    title: "Training loss (mean over seeds)",
                    x: "epoch",
                    y: "cross-entropy",
                    scale: YScale::Log,
                },
                per_run(&|e| Some(e.train_loss)),
            ),
            (
                Chart {
                    title: "Test loss (mean over seeds)",
                    x: "epoch",
                    y: "cross-entropy",
                    scale: YScale::Log,
                },
                per_run(&|e| e.val_loss),
            ),
            (
                Chart {
                    title: "Test accuracy (mean over seeds)",
                    x: "epoch",
                    y: "accuracy",
                    scale: YScale::Linear,
                },
                per_run(&|e| e.val_accuracy),
            ),
        ],
    );
    out.finish();
}
