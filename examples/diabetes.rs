//! Diabetes: regression with mean squared error and with mean absolute
//! error (L1), side by side.
//!
//! The data are the 442 patients that scikit-learn ships (committed in
//! `data/`, see `data/README.md`): ten baseline measurements and a measure
//! of disease progression a year later. A fixed fifth of the patients is
//! held out for testing. The same small network, from the same initial
//! weights, is trained twice, once per loss, on standardised features and
//! a standardised target; both are then judged on the test set in the
//! target's original units, by R² and by the mean absolute error.
//!
//! MSE is minimised by the conditional mean, L1 by the conditional
//! median, and on the training data each net wins at its own loss: the
//! MSE net has the higher R² (a squared-error score), the L1 net the lower
//! absolute error. On unseen patients the two come out close; both end
//! near an ordinary least-squares line, which is hard to beat on this
//! small, noisy data set, and which the example prints for reference.
//!
//! Run: `cargo run --release --example diabetes`

mod support;

use staticnet::loss::{Loss, Mae, Mse};
use staticnet::network;
use staticnet::optim::{Adam, AdamConfig};
use staticnet::schedule::CosineAnnealingLr;
use staticnet::train::{FitOptions, Trainer};
use std::error::Error;
use support::{Chart, Output, Series, YScale};

network! {
    /// 10 measurements -> 16 tanh -> 1 (the standardised progression).
    pub struct DiabetesMlp(10 -> 1) {
        Dense<16>, Tanh,
        Dense<1>,
    }
}

/// Measurements per patient.
pub const FEATURES: usize = 10;
/// Rows per training step.
pub const BATCH: usize = 32;
/// Share of the patients held out for testing.
pub const TEST_FRACTION: f64 = 0.2;
/// Seed of the train/test split.
pub const SPLIT_SEED: u64 = 2024;

/// What a training run does.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Passes over the training patients.
    pub epochs: usize,
    /// Adam's initial learning rate; a cosine takes it to 0 by the end.
    pub lr: f64,
    /// Seed of the initial weights and of the per-epoch shuffle.
    pub seed: u64,
}

impl Default for Config {
    /// The configuration behind the numbers in the README.
    fn default() -> Self {
        Config {
            epochs: 50,
            lr: 3e-3,
            seed: 7,
        }
    }
}

/// Standardised training and test data, and the target's scale.
pub struct Split {
    /// Training features, standardised with the training set's statistics.
    pub train_x: Vec<[f32; FEATURES]>,
    /// Training targets, standardised.
    pub train_y: Vec<[f32; 1]>,
    /// Test features, standardised with the training set's statistics.
    pub test_x: Vec<[f32; FEATURES]>,
    /// Test targets in original units.
    pub test_y: Vec<f64>,
    /// Mean of the training targets.
    pub y_mean: f64,
    /// Standard deviation of the training targets.
    pub y_std: f64,
}

impl Split {
    /// A standardised network output in the target's original units.
    pub fn unscale(&self, z: f32) -> f64 {
        self.y_mean + self.y_std * f64::from(z)
    }
}

/// Loads `data/diabetes.csv.gz`, holds out a seeded [`TEST_FRACTION`] of
/// the patients, and standardises every feature and the target with the
/// training set's mean and standard deviation (the test set is never
/// looked at for that).
pub fn load() -> Result<Split, Box<dyn Error>> {
    let table = support::read_data("diabetes.csv.gz")?;
    if table.header.len() != FEATURES + 1 {
        return Err(format!("diabetes: {} columns, want 11", table.header.len()).into());
    }
    let mut order: Vec<usize> = (0..table.rows.len()).collect();
    shuffle(&mut order, SPLIT_SEED);
    let tests = (order.len() as f64 * TEST_FRACTION).round() as usize;
    let (test_rows, train_rows) = order.split_at(tests);

    let column =
        |rows: &[usize], j: usize| -> Vec<f64> { rows.iter().map(|&i| table.rows[i][j]).collect() };
    let stats: Vec<(f64, f64)> = (0..=FEATURES)
        .map(|j| mean_std(&column(train_rows, j)))
        .collect();
    let features = |rows: &[usize]| -> Vec<[f32; FEATURES]> {
        rows.iter()
            .map(|&i| {
                core::array::from_fn(|j| {
                    let (m, s) = stats[j];
                    ((table.rows[i][j] - m) / s) as f32
                })
            })
            .collect()
    };
    let (y_mean, y_std) = stats[FEATURES];
    Ok(Split {
        train_x: features(train_rows),
        train_y: column(train_rows, FEATURES)
            .iter()
            .map(|y| [((y - y_mean) / y_std) as f32])
            .collect(),
        test_x: features(test_rows),
        test_y: column(test_rows, FEATURES),
        y_mean,
        y_std,
    })
}

/// Mean and (population) standard deviation.
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Fisher-Yates from a seed, with an index drawn by multiply-shift.
fn shuffle(items: &mut [usize], seed: u64) {
    use rand_core::Rng as _;
    let mut rng = staticnet::init::SplitMix64::new(seed);
    for i in (1..items.len()).rev() {
        let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
        items.swap(i, j);
    }
}

/// Test-set quality in the target's original units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Coefficient of determination: 1 − SS_res / SS_tot, with SS_tot about
    /// the test set's own mean (so predicting that mean scores 0).
    pub r2: f64,
    /// Mean absolute error.
    pub mae: f64,
}

/// R² and MAE of `predictions` against `targets`.
pub fn score(predictions: &[f64], targets: &[f64]) -> Score {
    let n = targets.len() as f64;
    let mean = targets.iter().sum::<f64>() / n;
    let (mut ss_res, mut ss_tot, mut abs) = (0.0, 0.0, 0.0);
    for (p, y) in predictions.iter().zip(targets) {
        ss_res += (y - p) * (y - p);
        ss_tot += (y - mean) * (y - mean);
        abs += (y - p).abs();
    }
    Score {
        r2: 1.0 - ss_res / ss_tot,
        mae: abs / n,
    }
}

/// One epoch of a run.
#[derive(Clone, Copy, Debug)]
pub struct Epoch {
    /// The run's own loss on the training set (standardised units).
    pub train_loss: f64,
    /// The run's own loss on the test set (standardised units).
    pub test_loss: f64,
    /// Test R² and MAE in original units after the epoch.
    pub test: Score,
}

/// What one run produced.
pub struct Outcome {
    /// The trained network.
    pub net: DiabetesMlp,
    /// Per epoch.
    pub history: Vec<Epoch>,
    /// Test R² and MAE after the last epoch.
    pub test: Score,
    /// Training-set R² and MAE after the last epoch (original units).
    pub train: Score,
}

/// Trains a fresh network with `loss` and scores it on the test set after
/// every epoch.
pub fn run<L>(config: &Config, split: &Split, loss: L) -> Result<Outcome, Box<dyn Error>>
where
    L: Loss<f32, Target<1> = [f32; 1]>,
{
    let mut net = DiabetesMlp::seeded(config.seed);
    let adam = Adam::new(AdamConfig {
        lr: config.lr,
        ..AdamConfig::default()
    })?;
    let steps = config.epochs * split.train_x.len().div_ceil(BATCH);
    let schedule = CosineAnnealingLr::new(steps as u64, 0.0)?;
    let mut trainer = Trainer::<_, _, _, _, _, BATCH>::new(
        adam,
        loss,
        schedule,
        FitOptions {
            epochs: 1,
            ..FitOptions::default()
        },
    );
    // The test targets, standardised, for the trainer's test loss.
    let test_z: Vec<[f32; 1]> = split
        .test_y
        .iter()
        .map(|y| [((y - split.y_mean) / split.y_std) as f32])
        .collect();
    let mut history = Vec::with_capacity(config.epochs);
    for epoch in 0..config.epochs {
        // One epoch per call, so each can be scored in original units; the
        // schedule follows the optimizer's step count, which carries on,
        // and each epoch gets its own shuffle.
        trainer.options.seed = config.seed.wrapping_add(epoch as u64);
        let stats = trainer.fit(
            &mut net,
            &split.train_x,
            &split.train_y,
            Some((&split.test_x, &test_z)),
        )?[0];
        history.push(Epoch {
            train_loss: stats.train_loss,
            test_loss: stats.val_loss.unwrap_or(f64::NAN),
            test: score(&predict(&net, split), &split.test_y),
        });
    }
    let test = score(&predict(&net, split), &split.test_y);
    let train = score(
        &predict_rows(&net, split, &split.train_x),
        &train_targets(split),
    );
    Ok(Outcome {
        net,
        history,
        test,
        train,
    })
}

/// The network's test-set predictions in original units.
pub fn predict(net: &DiabetesMlp, split: &Split) -> Vec<f64> {
    predict_rows(net, split, &split.test_x)
}

/// The network's predictions for `rows`, in original units.
fn predict_rows(net: &DiabetesMlp, split: &Split, rows: &[[f32; FEATURES]]) -> Vec<f64> {
    rows.iter()
        .map(|x| split.unscale(net.predict(x)[0]))
        .collect()
}

/// Scores on the test and on the training set, in original units.
#[derive(Clone, Copy, Debug)]
pub struct Fit {
    /// On the held-out patients.
    pub test: Score,
    /// On the patients it was fitted to.
    pub train: Score,
}

/// Features plus a constant column: the design-matrix row of a linear
/// model with an intercept.
pub fn with_one(x: &[f32; FEATURES]) -> [f64; FEATURES + 1] {
    core::array::from_fn(|j| if j < FEATURES { f64::from(x[j]) } else { 1.0 })
}

/// Ordinary least squares on the training set (standardised units): the
/// weights `w` of [`with_one`]`(x) · w` minimising the squared error.
pub fn least_squares(split: &Split) -> [f64; FEATURES + 1] {
    // Normal equations (XᵀX) w = Xᵀy, solved by Gauss-Jordan elimination
    // with partial pivoting (11 unknowns).
    const K: usize = FEATURES + 1;
    let mut a = [[0.0f64; K + 1]; K];
    for (x, y) in split.train_x.iter().zip(&split.train_y) {
        let row = with_one(x);
        for i in 0..K {
            for j in 0..K {
                a[i][j] += row[i] * row[j];
            }
            a[i][K] += row[i] * f64::from(y[0]);
        }
    }
    for c in 0..K {
        let pivot = (c..K)
            .max_by(|&p, &q| a[p][c].abs().total_cmp(&a[q][c].abs()))
            .unwrap_or(c);
        a.swap(c, pivot);
        for r in 0..K {
            if r != c {
                let f = a[r][c] / a[c][c];
                let pivot_row = a[c];
                for (v, p) in a[r].iter_mut().zip(pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    core::array::from_fn(|i| a[i][K] / a[i][i])
}

/// The least-squares line of [`least_squares`], scored: the classic
/// reference for this data set.
pub fn linear_baseline(split: &Split) -> Fit {
    let w = least_squares(split);
    let predict = |rows: &[[f32; FEATURES]]| -> Vec<f64> {
        rows.iter()
            .map(|x| {
                let z: f64 = with_one(x).iter().zip(&w).map(|(v, w)| v * w).sum();
                split.y_mean + split.y_std * z
            })
            .collect()
    };
    Fit {
        test: score(&predict(&split.test_x), &split.test_y),
        train: score(&predict(&split.train_x), &train_targets(split)),
    }
}

/// Always predicting the training set's mean (R² 0 on the training set,
/// about 0 on the test set).
pub fn mean_baseline(split: &Split) -> Fit {
    let train_y = train_targets(split);
    Fit {
        test: score(&vec![split.y_mean; split.test_y.len()], &split.test_y),
        train: score(&vec![split.y_mean; train_y.len()], &train_y),
    }
}

/// The training targets in original units.
fn train_targets(split: &Split) -> Vec<f64> {
    split.train_y.iter().map(|z| split.unscale(z[0])).collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let config = Config::default();
    let split = load()?;
    println!(
        "diabetes: {} training and {} test patients, 10 standardised features",
        split.train_x.len(),
        split.test_x.len()
    );
    println!(
        "net: 10 -> 16 tanh -> 1 ({} parameters, f32), batch {BATCH}, Adam lr {} with cosine \
         decay, {} epochs, seed {}\n",
        DiabetesMlp::<f32>::PARAMS,
        config.lr,
        config.epochs,
        config.seed
    );
    let start = std::time::Instant::now();
    let mse = run(&config, &split, Mse::default())?;
    let mae = run(&config, &split, Mae::default())?;
    let seconds = start.elapsed().as_secs_f64();

    let every = (config.epochs / 10).max(1);
    println!("        trained with MSE          trained with MAE");
    println!("epoch   test R^2   test MAE       test R^2   test MAE");
    for (i, (a, b)) in mse.history.iter().zip(&mae.history).enumerate() {
        if (i + 1) % every == 0 || i == 0 {
            println!(
                "{:>5}   {:>8.3}   {:>8.2}       {:>8.3}   {:>8.2}",
                i + 1,
                a.test.r2,
                a.test.mae,
                b.test.r2,
                b.test.mae
            );
        }
    }
    let (mean, linear) = (mean_baseline(&split), linear_baseline(&split));
    println!("\noriginal units (progression, about 25..346):");
    println!("                          test R^2  test MAE   train R^2  train MAE");
    for (name, test, train) in [
        ("net trained with MSE", mse.test, mse.train),
        ("net trained with MAE", mae.test, mae.train),
        ("linear least squares", linear.test, linear.train),
        ("training mean", mean.test, mean.train),
    ] {
        println!(
            "  {name:<22} {:>8.3}  {:>8.2}   {:>9.3}  {:>9.2}",
            test.r2, test.mae, train.r2, train.mae
        );
    }
    println!("(both runs: {seconds:.2} s)");

    write_outputs(&mse, &mae)?;
    Ok(())
}

/// The CSV file and the plot.
fn write_outputs(mse: &Outcome, mae: &Outcome) -> Result<(), Box<dyn Error>> {
    let out = Output::new("diabetes");
    let rows: Vec<Vec<f64>> = mse
        .history
        .iter()
        .zip(&mae.history)
        .enumerate()
        .map(|(i, (a, b))| {
            vec![
                (i + 1) as f64,
                a.train_loss,
                a.test_loss,
                a.test.r2,
                a.test.mae,
                b.train_loss,
                b.test_loss,
                b.test.r2,
                b.test.mae,
            ]
        })
        .collect();
    out.csv(
        "history.csv",
        &[
            "epoch",
            "mse_train_mse",
            "mse_test_mse",
            "mse_test_r2",
            "mse_test_mae",
            "mae_train_mae",
            "mae_test_mae_standardised",
            "mae_test_r2",
            "mae_test_mae",
        ],
        &rows,
    );
    let curve = |o: &Outcome, f: &dyn Fn(&Epoch) -> f64| -> Vec<(f64, f64)> {
        o.history
            .iter()
            .enumerate()
            .map(|(i, e)| ((i + 1) as f64, f(e)))
            .collect()
    };
    support::line_panels(
        &out,
        "learning_curves.svg",
        &[
            (
                Chart {
                    title: "Each run's own loss (standardised)",
                    x: "epoch",
                    y: "loss",
                    scale: YScale::Linear,
                },
                vec![
                    Series::new("MSE: train", curve(mse, &|e| e.train_loss)),
                    Series::new("MSE: test", curve(mse, &|e| e.test_loss)),
                    Series::new("MAE: train", curve(mae, &|e| e.train_loss)),
                    Series::new("MAE: test", curve(mae, &|e| e.test_loss)),
                ],
            ),
            (
                Chart {
                    title: "Test MAE (original units)",
                    x: "epoch",
                    y: "MAE",
                    scale: YScale::Linear,
                },
                vec![
                    Series::new("trained with MSE", curve(mse, &|e| e.test.mae)),
                    Series::new("trained with MAE", curve(mae, &|e| e.test.mae)),
                ],
            ),
            (
                Chart {
                    title: "Test R^2",
                    x: "epoch",
                    y: "R^2",
                    scale: YScale::Linear,
                },
                vec![
                    Series::new("trained with MSE", curve(mse, &|e| e.test.r2)),
                    Series::new("trained with MAE", curve(mae, &|e| e.test.r2)),
                ],
            ),
        ],
    );
    out.finish();
    Ok(())
}
