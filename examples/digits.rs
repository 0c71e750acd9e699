//! Handwritten digits: an MLP learns to read 8x8 images of the digits 0-9.
//!
//! The data are the 1797 images that scikit-learn ships (committed in
//! `data/`, see `data/README.md`). A fixed, stratified fifth of them is
//! held out as the test set; the network never trains on it. Training uses
//! softmax cross-entropy, Adam, and a learning rate that warms up linearly
//! and then decays along a cosine, through `staticnet::train::Trainer`,
//! which evaluates the test set after every epoch.
//!
//! Run: `cargo run --release --example digits`
//!
//! It prints the history and the test accuracy, then the test accuracy
//! with the weights rounded to bf16 for deployment, and writes the learning
//! curves, the confusion matrix and the CSV files behind them into
//! `target/example-output/digits/`. With `-- --docs` it also refreshes the
//! README's copies, `docs/images/digits_learning_curves.svg` and
//! `docs/images/digits_confusion.svg`.

// Public so that the schedules example, which includes this file as a
// module, can use it too.
pub mod support;

use staticnet::bf16::Bf16Network;
use staticnet::loss::CrossEntropy;
use staticnet::network;
use staticnet::optim::{Adam, AdamConfig};
use staticnet::schedule::{CosineAnnealingLr, LinearLr, Schedule, Sequential};
use staticnet::train::{EpochStats, FitOptions, Trainer};
use std::error::Error;
use std::time::Instant;
use support::{Chart, Output, Series, YScale};

network! {
    /// 64 pixels -> 128 ReLU -> 64 ReLU -> 10 class scores (logits).
    pub struct DigitsMlp(64 -> 10) {
        Dense<128>, Relu,
        Dense<64>, Relu,
        Dense<10>,
    }
}

/// Pixels per image.
pub const PIXELS: usize = 64;
/// The digits 0-9.
pub const CLASSES: usize = 10;
/// Rows per training step.
pub const BATCH: usize = 32;
/// Share of each class held out for testing.
pub const TEST_FRACTION: f64 = 0.2;
/// Seed of the train/test split; fixed so every run tests on the same
/// images, whatever the training seed.
pub const SPLIT_SEED: u64 = 2024;

/// What a training run does.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Passes over the training images.
    pub epochs: usize,
    /// Adam's peak learning rate, reached at the end of the warmup.
    pub lr: f64,
    /// Epochs of linear warmup from `lr / 10` to `lr`; the cosine decay to
    /// zero takes the remaining epochs.
    pub warmup_epochs: usize,
    /// Seed of the initial weights and of the per-epoch shuffle.
    pub seed: u64,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for Config {
    /// The configuration behind the numbers in the README.
    fn default() -> Self {
        Config {
            epochs: 30,
            lr: 1e-2,
            warmup_epochs: 3,
            seed: 7,
            progress: false,
        }
    }
}

/// The images (pixels scaled to `[0, 1]`) and their labels, split into a
/// training and a test set.
pub struct Split {
    /// Training images.
    pub train_x: Vec<[f32; PIXELS]>,
    /// Training labels.
    pub train_y: Vec<usize>,
    /// Test images.
    pub test_x: Vec<[f32; PIXELS]>,
    /// Test labels.
    pub test_y: Vec<usize>,
}

/// Loads `data/digits.csv.gz` and splits it: from each class, a seeded
/// shuffle puts [`TEST_FRACTION`] of its images (rounded) in the test set.
/// Stratifying keeps every digit equally represented in both sets.
pub fn load() -> Result<Split, Box<dyn Error>> {
    let table = support::read_data("digits.csv.gz")?;
    if table.header.len() != PIXELS + 1 {
        return Err(format!("digits: {} columns, want 65", table.header.len()).into());
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); CLASSES];
    for (i, row) in table.rows.iter().enumerate() {
        let label = row[PIXELS];
        if !(0.0..CLASSES as f64).contains(&label) || label.fract() != 0.0 {
            return Err(format!("digits row {i}: label {label}").into());
        }
        by_class[label as usize].push(i);
    }
    let mut rng = staticnet::init::SplitMix64::new(SPLIT_SEED);
    let mut split = Split {
        train_x: Vec::new(),
        train_y: Vec::new(),
        test_x: Vec::new(),
        test_y: Vec::new(),
    };
    for (class, rows) in by_class.iter_mut().enumerate() {
        shuffle(rows, &mut rng);
        let tests = (rows.len() as f64 * TEST_FRACTION).round() as usize;
        for (k, &i) in rows.iter().enumerate() {
            // Pixel counts are 0..16; dividing by 16 puts them in [0, 1].
            let x: [f32; PIXELS] = core::array::from_fn(|j| table.rows[i][j] as f32 / 16.0);
            let (xs, ys) = if k < tests {
                (&mut split.test_x, &mut split.test_y)
            } else {
                (&mut split.train_x, &mut split.train_y)
            };
            xs.push(x);
            ys.push(class);
        }
    }
    Ok(split)
}

/// Fisher-Yates with an index drawn by multiply-shift (uniform enough for a
/// data split).
fn shuffle(items: &mut [usize], rng: &mut staticnet::init::SplitMix64) {
    use rand_core::Rng as _;
    for i in (1..items.len()).rev() {
        let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
        items.swap(i, j);
    }
}

/// Optimizer steps per epoch: every batch, the last one partial.
pub fn steps_per_epoch(split: &Split) -> u64 {
    split.train_x.len().div_ceil(BATCH) as u64
}

/// The default schedule: linear warmup from `lr / 10` over
/// `warmup_epochs`, then a cosine from `lr` to 0 over the other epochs.
pub fn warmup_cosine(
    config: &Config,
    split: &Split,
) -> Result<Sequential<LinearLr, CosineAnnealingLr>, staticnet::Error> {
    let per_epoch = steps_per_epoch(split);
    let warmup = (config.warmup_epochs as u64 * per_epoch).max(1);
    let total = config.epochs as u64 * per_epoch;
    let decay = total.saturating_sub(warmup).max(1);
    Ok(Sequential::warmup(
        LinearLr::new(0.1, 1.0, warmup)?,
        CosineAnnealingLr::new(decay, 0.0)?,
    ))
}

/// What a training run produced.
pub struct Outcome {
    /// The trained network.
    pub net: Box<DigitsMlp>,
    /// Loss and accuracy per epoch, on the training and the test set.
    pub history: Vec<EpochStats>,
    /// `confusion[true][predicted]` on the test set.
    pub confusion: [[usize; CLASSES]; CLASSES],
    /// Fraction of test images classified correctly.
    pub test_accuracy: f64,
    /// Wall-clock seconds of the whole `fit` (training and the per-epoch
    /// test evaluation).
    pub seconds: f64,
}

/// Trains with the default warmup-then-cosine schedule.
pub fn run(config: &Config, split: &Split) -> Result<Outcome, Box<dyn Error>> {
    let schedule = warmup_cosine(config, split)?;
    train_with(config, split, schedule)
}

/// Trains a fresh network with `schedule` (over optimizer steps) and tests
/// it.
pub fn train_with<S: Schedule>(
    config: &Config,
    split: &Split,
    schedule: S,
) -> Result<Outcome, Box<dyn Error>> {
    let mut net: Box<DigitsMlp> = DigitsMlp::boxed_seeded(config.seed);
    let adam = Adam::new(AdamConfig {
        lr: config.lr,
        ..AdamConfig::default()
    })?;
    let options = FitOptions {
        epochs: config.epochs,
        seed: config.seed,
        progress: config.progress,
        ..FitOptions::default()
    };
    let mut trainer =
        Trainer::<_, _, _, _, _, BATCH>::new(adam, CrossEntropy::default(), schedule, options);
    let start = Instant::now();
    let history = trainer.fit(
        &mut net,
        &split.train_x,
        &split.train_y,
        Some((&split.test_x, &split.test_y)),
    )?;
    let seconds = start.elapsed().as_secs_f64();

    let mut confusion = [[0; CLASSES]; CLASSES];
    for (x, &y) in split.test_x.iter().zip(&split.test_y) {
        confusion[y][argmax(&net.predict(x))] += 1;
    }
    let correct: usize = (0..CLASSES).map(|k| confusion[k][k]).sum();
    Ok(Outcome {
        net,
        history,
        confusion,
        test_accuracy: correct as f64 / split.test_y.len() as f64,
        seconds,
    })
}

/// The trained network deployed with bf16 weights, on the test set.
pub struct Bf16Outcome {
    /// Test images the bf16 network classifies correctly.
    pub correct: usize,
    /// Test images whose predicted class differs from the `f32` network's.
    pub changed: usize,
    /// The largest change of any logit.
    pub max_logit_change: f32,
}

/// Rounds the trained weights to bf16 and tests the result against the
/// `f32` network.
pub fn deploy_bf16(net: &DigitsMlp, split: &Split) -> Bf16Outcome {
    let small = Bf16Network::boxed_from_network(net);
    let mut outcome = Bf16Outcome {
        correct: 0,
        changed: 0,
        max_logit_change: 0.0,
    };
    for (x, &y) in split.test_x.iter().zip(&split.test_y) {
        let (exact, rounded) = (net.predict(x), small.predict(x));
        for (a, b) in exact.iter().zip(&rounded) {
            outcome.max_logit_change = outcome.max_logit_change.max((a - b).abs());
        }
        outcome.correct += usize::from(argmax(&rounded) == y);
        outcome.changed += usize::from(argmax(&rounded) != argmax(&exact));
    }
    outcome
}

/// The index of the largest score (the first, on a tie).
pub fn argmax(scores: &[f32]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = i;
        }
    }
    best
}

/// A percentage with two decimals, or a dash when there is none.
fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.2}%", 100.0 * v))
}

fn main() -> Result<(), Box<dyn Error>> {
    let config = Config::default();
    let split = load()?;
    println!(
        "digits: {} training and {} test images (8x8, pixels / 16), 10 classes",
        split.train_x.len(),
        split.test_x.len()
    );
    println!(
        "net: 64 -> 128 relu -> 64 relu -> 10 ({} parameters, f32), batch {BATCH}",
        DigitsMlp::<f32>::PARAMS
    );
    println!(
        "Adam lr {}, {} warmup epochs then cosine to 0, {} epochs, seed {}\n",
        config.lr, config.warmup_epochs, config.epochs, config.seed
    );
    let outcome = run(&config, &split)?;

    println!("epoch  train loss  train acc  test loss  test acc  lr");
    for e in &outcome.history {
        println!(
            "{:>5}  {:>10.4}  {:>9}  {:>9.4}  {:>8}  {:.2e}",
            e.epoch,
            e.train_loss,
            percent(e.train_accuracy),
            e.val_loss.unwrap_or(f64::NAN),
            percent(e.val_accuracy),
            e.lr
        );
    }
    let correct: usize = (0..CLASSES).map(|k| outcome.confusion[k][k]).sum();
    println!(
        "\ntest accuracy {:.2}% ({correct}/{}) after {} epochs; training took {:.2} s",
        100.0 * outcome.test_accuracy,
        split.test_y.len(),
        config.epochs,
        outcome.seconds
    );
    println!("\nconfusion matrix (rows: true digit, columns: predicted)");
    println!(
        "     {}",
        (0..CLASSES).map(|k| format!("{k:>4}")).collect::<String>()
    );
    for (k, row) in outcome.confusion.iter().enumerate() {
        let cells: String = row.iter().map(|c| format!("{c:>4}")).collect();
        println!("  {k}: {cells}");
    }

    let small = deploy_bf16(&outcome.net, &split);
    println!(
        "\nwith bf16 weights (half the bytes, for inference): test accuracy {:.2}% ({}/{}); \
         {} of {} predictions changed, largest logit change {:.4}",
        100.0 * small.correct as f64 / split.test_y.len() as f64,
        small.correct,
        split.test_y.len(),
        small.changed,
        split.test_y.len(),
        small.max_logit_change
    );

    let out = write_outputs(&outcome)?;
    if std::env::args().any(|a| a == "--docs") {
        refresh_docs(&out)?;
    }
    out.finish();
    Ok(())
}

/// Copies the two plots to `docs/images/`, where the README shows them.
fn refresh_docs(out: &Output) -> Result<(), Box<dyn Error>> {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
    std::fs::create_dir_all(&docs)?;
    for (from, to) in [
        ("learning_curves.svg", "digits_learning_curves.svg"),
        ("confusion.svg", "digits_confusion.svg"),
    ] {
        std::fs::copy(out.path(from), docs.join(to))?;
        println!("refreshed docs/images/{to}");
    }
    Ok(())
}

/// The CSV files and the two plots.
fn write_outputs(outcome: &Outcome) -> Result<Output, Box<dyn Error>> {
    let out = Output::new("digits");
    let nan = f64::NAN;
    let rows: Vec<Vec<f64>> = outcome
        .history
        .iter()
        .map(|e| {
            vec![
                e.epoch as f64,
                e.train_loss,
                e.train_accuracy.unwrap_or(nan),
                e.val_loss.unwrap_or(nan),
                e.val_accuracy.unwrap_or(nan),
                e.lr,
                e.seconds,
            ]
        })
        .collect();
    out.csv(
        "history.csv",
        &[
            "epoch",
            "train_loss",
            "train_accuracy",
            "test_loss",
            "test_accuracy",
            "lr",
            "seconds",
        ],
        &rows,
    );
    let header: Vec<String> = std::iter::once("true".to_string())
        .chain((0..CLASSES).map(|k| format!("predicted_{k}")))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<f64>> = outcome
        .confusion
        .iter()
        .enumerate()
        .map(|(k, row)| {
            std::iter::once(k as f64)
                .chain(row.iter().map(|&c| c as f64))
                .collect()
        })
        .collect();
    out.csv("confusion.csv", &header, &rows);

    let curve = |f: &dyn Fn(&EpochStats) -> Option<f64>| -> Vec<(f64, f64)> {
        outcome
            .history
            .iter()
            .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
            .collect()
    };
    support::line_panels(
        &out,
        "learning_curves.svg",
        &[
            (
                Chart {
                    title: "Digits: cross-entropy loss",
                    x: "epoch",
                    y: "loss",
                    scale: YScale::Log,
                },
                vec![
                    Series::new("train", curve(&|e| Some(e.train_loss))),
                    Series::new("test", curve(&|e| e.val_loss)),
                ],
            ),
            (
                Chart {
                    title: "Digits: accuracy",
                    x: "epoch",
                    y: "accuracy",
                    scale: YScale::Linear,
                },
                vec![
                    Series::new("train", curve(&|e| e.train_accuracy)),
                    Series::new("test", curve(&|e| e.val_accuracy)),
                ],
            ),
        ],
    );
    let labels: Vec<String> = (0..CLASSES).map(|k| k.to_string()).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let confusion: Vec<Vec<usize>> = outcome.confusion.iter().map(|r| r.to_vec()).collect();
    support::confusion_chart(
        &out,
        "confusion.svg",
        &format!(
            "Digits: test confusion matrix ({:.2}% correct)",
            100.0 * outcome.test_accuracy
        ),
        &labels,
        &confusion,
    );
    Ok(out)
}
