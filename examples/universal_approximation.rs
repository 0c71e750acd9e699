//! The universal approximation theorem, measured: one hidden layer of N
//! sigmoid units fits a continuous function as closely as wanted, given
//! enough units. For N = 1, 2, 4, …, 64 a network `x -> N sigmoids -> y`
//! is trained on a function of one variable on [0, 1] and on one of two
//! variables on [0, 1]², and its maximum error over a fine grid (finer
//! than the training points) is reported: it falls as N grows.
//!
//! Each unit starts as the theorem's building block, a steep sigmoid
//! "step" placed somewhere in the domain; Adam (full batch, cosine-decayed
//! learning rate) then fits the whole network. Gradient descent finds a
//! good network, not always the best one with N units, so each N is
//! trained from three starts and the one with the lowest training loss is
//! kept.
//!
//! Run: `cargo run --release --example universal_approximation`
//! (with `-- --docs` it also refreshes `docs/images/universal_approximation.svg`).

mod support;

use plotters::prelude::{SeriesLabelPosition, BLACK};
use rand_core::Rng;
use staticnet::architecture::Layer;
use staticnet::init::SplitMix64;
use staticnet::loss::Mse;
use staticnet::optim::{Adam, AdamConfig};
use staticnet::schedule::CosineAnnealingLr;
use staticnet::train::{FitOptions, Trainer};
use staticnet::{network, Architecture, Init, Network};
use std::f64::consts::PI;
use support::figure::{figure, publish_if_asked, Cell, Line, Panel, Surface};
use support::{Output, YScale, COLORS};

network! {
    /// 1 -> 1 sigmoid unit -> 1.
    pub struct Curve1(1 -> 1) { Dense<1>, Sigmoid, Dense<1> }
    /// 1 -> 2 sigmoid units -> 1.
    pub struct Curve2(1 -> 1) { Dense<2>, Sigmoid, Dense<1> }
    /// 1 -> 4 sigmoid units -> 1.
    pub struct Curve4(1 -> 1) { Dense<4>, Sigmoid, Dense<1> }
    /// 1 -> 8 sigmoid units -> 1.
    pub struct Curve8(1 -> 1) { Dense<8>, Sigmoid, Dense<1> }
    /// 1 -> 16 sigmoid units -> 1.
    pub struct Curve16(1 -> 1) { Dense<16>, Sigmoid, Dense<1> }
    /// 1 -> 32 sigmoid units -> 1.
    pub struct Curve32(1 -> 1) { Dense<32>, Sigmoid, Dense<1> }
    /// 1 -> 64 sigmoid units -> 1.
    pub struct Curve64(1 -> 1) { Dense<64>, Sigmoid, Dense<1> }

    /// 2 -> 1 sigmoid unit -> 1.
    pub struct Plane1(2 -> 1) { Dense<1>, Sigmoid, Dense<1> }
    /// 2 -> 2 sigmoid units -> 1.
    pub struct Plane2(2 -> 1) { Dense<2>, Sigmoid, Dense<1> }
    /// 2 -> 4 sigmoid units -> 1.
    pub struct Plane4(2 -> 1) { Dense<4>, Sigmoid, Dense<1> }
    /// 2 -> 8 sigmoid units -> 1.
    pub struct Plane8(2 -> 1) { Dense<8>, Sigmoid, Dense<1> }
    /// 2 -> 16 sigmoid units -> 1.
    pub struct Plane16(2 -> 1) { Dense<16>, Sigmoid, Dense<1> }
    /// 2 -> 32 sigmoid units -> 1.
    pub struct Plane32(2 -> 1) { Dense<32>, Sigmoid, Dense<1> }
    /// 2 -> 64 sigmoid units -> 1.
    pub struct Plane64(2 -> 1) { Dense<64>, Sigmoid, Dense<1> }
}

/// Every hidden width declared above.
pub const UNITS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// The function of one variable: a wave with a four times faster ripple,
/// on a slope.
pub fn curve(x: f64) -> f64 {
    (2.0 * PI * x).sin() + 0.3 * (8.0 * PI * x).sin() + 0.5 * x
}

/// The function of two variables: a bump and a dip on a tilted wave.
pub fn plane(x: f64, y: f64) -> f64 {
    let bump = |cx: f64, cy: f64| (-((x - cx).powi(2) + (y - cy).powi(2)) / 0.03).exp();
    (PI * x).sin() * (2.0 * PI * y).cos() * 0.5 + bump(0.3, 0.7) - bump(0.7, 0.3) + 0.5 * x * y
}

/// Training points of the curve (evenly spaced on [0, 1]).
pub const CURVE_POINTS: usize = 64;
/// Training points per axis of the plane's grid on [0, 1]².
pub const PLANE_SIDE: usize = 16;
/// Training points of the plane.
pub const PLANE_POINTS: usize = PLANE_SIDE * PLANE_SIDE;

/// How long and how fast to train.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Full-batch Adam steps per network.
    pub steps: usize,
    /// Adam's peak learning rate (cosine-decayed to 0 over the steps).
    pub lr: f64,
    /// Seed of the first start; restart `k` uses `seed + k`.
    pub seed: u64,
    /// Starts per network; the one with the lowest training loss is kept
    /// (gradient descent finds a good network, not always the best one).
    pub restarts: usize,
    /// Points of the grid on [0, 1] the curve's maximum error is taken over.
    pub eval_points: usize,
    /// Points per axis of the grid on [0, 1]² the plane's maximum error is
    /// taken over.
    pub plane_eval_points: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            steps: 4000,
            lr: 0.03,
            seed: 2,
            restarts: 3,
            eval_points: 1001,
            plane_eval_points: 201,
        }
    }
}

/// One trained network's result.
pub struct Fit {
    /// Hidden units.
    pub units: usize,
    /// Maximum |network − target| over the evaluation grid.
    pub max_error: f64,
    /// Mean squared error over the training points at the end.
    pub train_mse: f64,
    /// The network's output along the evaluation grid (for the curve), or
    /// over a coarse grid (for the plane, row by row).
    pub samples: Vec<f64>,
}

/// Starts every hidden unit as a steep sigmoid step across a random line
/// through a random point of the domain: the building block of the
/// theorem's proof. The output layer keeps PyTorch's default.
fn init_steps<A: Architecture>(net: &mut Network<A, f32>, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    net.init(Init::PyTorchDefault, &mut rng);
    let Some(Layer::Dense(hidden)) = A::LAYERS.first() else {
        unreachable!("every network here starts with a dense layer");
    };
    let bias = hidden.bias_offset.expect("the hidden layer has biases");
    let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let params = net.params_mut();
    for o in 0..hidden.outputs {
        // A direction, a steepness between 5 and 30, a point it passes.
        let angle = 2.0 * PI * unit();
        let steepness = 5.0 + 25.0 * unit();
        let mut offset = 0.0;
        for i in 0..hidden.inputs {
            let direction = if hidden.inputs == 1 {
                if unit() < 0.5 {
                    1.0
                } else {
                    -1.0
                }
            } else if i == 0 {
                angle.cos()
            } else {
                angle.sin()
            };
            let w = steepness * direction;
            params[hidden.weight_index(o, i)] = w as f32;
            offset += w * unit();
        }
        params[bias + o] = -offset as f32;
    }
}

/// Trains a fresh `A` on `(inputs, targets)` with full-batch Adam.
fn train<A, const IN: usize, const B: usize>(
    inputs: &[[f32; IN]; B],
    targets: &[[f32; 1]; B],
    config: &Config,
) -> (Network<A, f32>, f64)
where
    A: Architecture<Input<f32> = [f32; IN], Output<f32> = [f32; 1]>,
{
    let mut best: Option<(Network<A, f32>, f64)> = None;
    for restart in 0..config.restarts.max(1) {
        let seed = config.seed + restart as u64;
        let (net, mse) = train_once::<A, IN, B>(inputs, targets, config, seed);
        if best.as_ref().is_none_or(|(_, b)| mse < *b) {
            best = Some((net, mse));
        }
    }
    best.expect("at least one start")
}

/// One training run from `seed`; returns the network and its final
/// training MSE.
fn train_once<A, const IN: usize, const B: usize>(
    inputs: &[[f32; IN]; B],
    targets: &[[f32; 1]; B],
    config: &Config,
    seed: u64,
) -> (Network<A, f32>, f64)
where
    A: Architecture<Input<f32> = [f32; IN], Output<f32> = [f32; 1]>,
{
    let mut net = Network::<A, f32>::zeroed();
    init_steps(&mut net, seed);
    let adam = Adam::new(AdamConfig {
        lr: config.lr,
        ..AdamConfig::default()
    })
    .expect("valid Adam hyperparameters");
    let schedule = CosineAnnealingLr::new(config.steps as u64, 0.0).expect("at least one step");
    let options = FitOptions {
        epochs: config.steps,
        shuffle: false,
        ..FitOptions::default()
    };
    let mut trainer = Trainer::<A, f32, _, _, _, B>::new(adam, Mse::default(), schedule, options);
    trainer
        .fit(&mut net, inputs, targets, None)
        .expect("a smooth target keeps every step finite");
    let mse = trainer
        .evaluate(&net, inputs, targets)
        .expect("the data set has the network's shape")
        .loss;
    (net, mse)
}

fn curve_data() -> ([[f32; 1]; CURVE_POINTS], [[f32; 1]; CURVE_POINTS]) {
    let x: [[f32; 1]; CURVE_POINTS] =
        std::array::from_fn(|i| [(i as f64 / (CURVE_POINTS - 1) as f64) as f32]);
    let y = x.map(|[x]| [curve(x as f64) as f32]);
    (x, y)
}

fn plane_data() -> ([[f32; 2]; PLANE_POINTS], [[f32; 1]; PLANE_POINTS]) {
    let last = (PLANE_SIDE - 1) as f32;
    let x: [[f32; 2]; PLANE_POINTS] = std::array::from_fn(|k| {
        [
            (k % PLANE_SIDE) as f32 / last,
            (k / PLANE_SIDE) as f32 / last,
        ]
    });
    let y = x.map(|[a, b]| [plane(a as f64, b as f64) as f32]);
    (x, y)
}

fn fit_curve<A>(units: usize, config: &Config) -> Fit
where
    A: Architecture<Input<f32> = [f32; 1], Output<f32> = [f32; 1]>,
{
    let (x, y) = curve_data();
    let (net, train_mse) = train::<A, 1, CURVE_POINTS>(&x, &y, config);
    let n = config.eval_points;
    let grid = (0..n).map(|i| i as f64 / (n - 1) as f64);
    let samples: Vec<f64> = grid
        .clone()
        .map(|x| net.predict(&[x as f32])[0] as f64)
        .collect();
    let max_error = grid
        .zip(&samples)
        .map(|(x, s)| (s - curve(x)).abs())
        .fold(0.0, f64::max);
    Fit {
        units,
        max_error,
        train_mse,
        samples,
    }
}

/// Points per axis of the coarse grid kept for drawing a fitted plane.
pub const PLANE_SAMPLES: usize = 41;

fn fit_plane<A>(units: usize, config: &Config) -> Fit
where
    A: Architecture<Input<f32> = [f32; 2], Output<f32> = [f32; 1]>,
{
    let (x, y) = plane_data();
    let (net, train_mse) = train::<A, 2, PLANE_POINTS>(&x, &y, config);
    let n = config.plane_eval_points;
    let mut max_error: f64 = 0.0;
    for j in 0..n {
        for i in 0..n {
            let p = [i as f64 / (n - 1) as f64, j as f64 / (n - 1) as f64];
            max_error = max_error
                .max((net.predict(&p.map(|v| v as f32))[0] as f64 - plane(p[0], p[1])).abs());
        }
    }
    let m = PLANE_SAMPLES;
    let samples = (0..m * m)
        .map(|k| {
            net.predict(&[
                (k % m) as f32 / (m - 1) as f32,
                (k / m) as f32 / (m - 1) as f32,
            ])[0] as f64
        })
        .collect();
    Fit {
        units,
        max_error,
        train_mse,
        samples,
    }
}

/// Trains the curve network with `units` hidden units (one of [`UNITS`]).
pub fn curve_fit(units: usize, config: &Config) -> Fit {
    match units {
        1 => fit_curve::<Curve1Arch>(units, config),
        2 => fit_curve::<Curve2Arch>(units, config),
        4 => fit_curve::<Curve4Arch>(units, config),
        8 => fit_curve::<Curve8Arch>(units, config),
        16 => fit_curve::<Curve16Arch>(units, config),
        32 => fit_curve::<Curve32Arch>(units, config),
        64 => fit_curve::<Curve64Arch>(units, config),
        _ => panic!("no network with {units} hidden units is declared; see UNITS"),
    }
}

/// Trains the plane network with `units` hidden units (one of [`UNITS`]).
pub fn plane_fit(units: usize, config: &Config) -> Fit {
    match units {
        1 => fit_plane::<Plane1Arch>(units, config),
        2 => fit_plane::<Plane2Arch>(units, config),
        4 => fit_plane::<Plane4Arch>(units, config),
        8 => fit_plane::<Plane8Arch>(units, config),
        16 => fit_plane::<Plane16Arch>(units, config),
        32 => fit_plane::<Plane32Arch>(units, config),
        64 => fit_plane::<Plane64Arch>(units, config),
        _ => panic!("no network with {units} hidden units is declared; see UNITS"),
    }
}

/// Trains the given widths (each one of [`UNITS`]) on both functions.
pub fn run(units: &[usize], config: &Config) -> (Vec<Fit>, Vec<Fit>) {
    let curves = units.iter().map(|&n| curve_fit(n, config)).collect();
    let planes = units.iter().map(|&n| plane_fit(n, config)).collect();
    (curves, planes)
}

/// Maximum error against N, and the curve with four of its fits.
fn curve_figure(out: &Output, config: &Config, curves: &[Fit], planes: &[Fit]) {
    let errors = |fits: &[Fit]| fits.iter().map(|f| (f.units as f64, f.max_error)).collect();
    let error_panel = Panel {
        title: "maximum error against hidden units",
        x: "hidden sigmoid units N",
        y: "max |network - target|",
        x_scale: YScale::Log,
        y_scale: YScale::Log,
        legend: SeriesLabelPosition::LowerLeft,
        lines: vec![
            Line::new("f(x) on [0, 1]", errors(curves), COLORS[0]).with_markers(),
            Line::new("f(x, y) on [0, 1]^2", errors(planes), COLORS[1]).with_markers(),
        ],
    };
    let n = config.eval_points;
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let mut lines = vec![Line::new(
        "target",
        xs.iter().map(|&x| (x, curve(x))).collect(),
        BLACK,
    )];
    for (k, fit) in curves
        .iter()
        .enumerate()
        .filter(|(_, f)| [1, 4, 16, 64].contains(&f.units))
    {
        let points = xs
            .iter()
            .copied()
            .zip(fit.samples.iter().copied())
            .collect();
        lines.push(
            Line::new(
                format!("N = {}", fit.units),
                points,
                COLORS[(k + 2) % COLORS.len()],
            )
            .dashed(),
        );
    }
    let fits_panel = Panel {
        title: "fits of f(x) = sin 2pi x + 0.3 sin 8pi x + x/2",
        x: "x",
        y: "y",
        x_scale: YScale::Linear,
        y_scale: YScale::Linear,
        legend: SeriesLabelPosition::UpperRight,
        lines,
    };
    let path = figure(
        out,
        "curve.svg",
        2,
        (620, 460),
        &[Cell::Lines(error_panel), Cell::Lines(fits_panel)],
    );
    publish_if_asked(&path, "universal_approximation.svg");
}

/// The plane and two fits of it, on the same contour levels.
fn plane_figure(out: &Output, planes: &[Fit]) {
    let levels: Vec<f64> = (0..14).map(|k| -0.95 + 0.15 * k as f64).collect();
    let m = PLANE_SAMPLES;
    let lookup = |fit: &Fit| {
        let samples = fit.samples.clone();
        move |x: f64, y: f64| {
            // Bilinear interpolation of the kept samples.
            let (u, v) = (x * (m - 1) as f64, y * (m - 1) as f64);
            let (i, j) = ((u as usize).min(m - 2), (v as usize).min(m - 2));
            let (s, t) = (u - i as f64, v - j as f64);
            let at = |i: usize, j: usize| samples[j * m + i];
            (1.0 - t) * ((1.0 - s) * at(i, j) + s * at(i + 1, j))
                + t * ((1.0 - s) * at(i, j + 1) + s * at(i + 1, j + 1))
        }
    };
    let shown: Vec<&Fit> = planes
        .iter()
        .filter(|f| f.units == 4 || f.units == 64)
        .collect();
    let fs: Vec<Box<dyn Fn(f64, f64) -> f64>> = shown
        .iter()
        .map(|f| Box::new(lookup(f)) as Box<dyn Fn(f64, f64) -> f64>)
        .collect();
    let titles: Vec<String> = shown
        .iter()
        .map(|f| format!("N = {} (max error {:.3})", f.units, f.max_error))
        .collect();
    let mut cells = vec![Cell::Surface(Surface {
        title: "target f(x, y)",
        x: (0.0, 1.0),
        y: (0.0, 1.0),
        f: &plane,
        levels: levels.clone(),
        paths: Vec::new(),
        marks: Vec::new(),
        legend: SeriesLabelPosition::UpperLeft,
    })];
    for (f, title) in fs.iter().zip(&titles) {
        cells.push(Cell::Surface(Surface {
            title,
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            f: f.as_ref(),
            levels: levels.clone(),
            paths: Vec::new(),
            marks: Vec::new(),
            legend: SeriesLabelPosition::UpperLeft,
        }));
    }
    figure(out, "plane.svg", 3, (420, 400), &cells);
}

/// The errors per N, and the curve's fits, as CSV.
fn tables(out: &Output, config: &Config, curves: &[Fit], planes: &[Fit]) {
    let n = config.eval_points;
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let table = |fits: &[Fit], file: &str| {
        let rows: Vec<Vec<f64>> = fits
            .iter()
            .map(|f| vec![f.units as f64, f.max_error, f.train_mse])
            .collect();
        out.csv(file, &["units", "max_error", "train_mse"], &rows);
    };
    table(curves, "curve_errors.csv");
    table(planes, "plane_errors.csv");
    let mut rows = Vec::new();
    for (i, x) in xs.iter().enumerate() {
        let mut row = vec![*x, curve(*x)];
        row.extend(curves.iter().map(|f| f.samples[i]));
        rows.push(row);
    }
    let header: Vec<String> = ["x".to_string(), "target".to_string()]
        .into_iter()
        .chain(curves.iter().map(|f| format!("n{}", f.units)))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out.csv("curve_fits.csv", &header, &rows);
}

fn main() {
    let config = Config::default();
    let start = std::time::Instant::now();
    let (curves, planes) = run(&UNITS, &config);
    println!("One hidden layer of N sigmoid units, trained with full-batch Adam");
    println!(
        "(lr {} cosine-decayed over {} steps, MSE, best of {} starts by training loss);",
        config.lr, config.steps, config.restarts
    );
    println!(
        "maximum error over {} points of [0,1] and {}^2 of [0,1]^2 ({} and {} training points).",
        config.eval_points, config.plane_eval_points, CURVE_POINTS, PLANE_POINTS
    );
    println!(
        "\n  {:>4}  {:>22}  {:>22}",
        "N", "f(x) on [0,1]", "f(x,y) on [0,1]^2"
    );
    println!(
        "  {:>4}  {:>10} {:>11}  {:>10} {:>11}",
        "", "max error", "train mse", "max error", "train mse"
    );
    for (c, p) in curves.iter().zip(&planes) {
        println!(
            "  {:>4}  {:>10.4} {:>11.2e}  {:>10.4} {:>11.2e}",
            c.units, c.max_error, c.train_mse, p.max_error, p.train_mse
        );
    }
    println!(
        "\ntrained {} networks in {:.1} s",
        2 * UNITS.len(),
        start.elapsed().as_secs_f64()
    );
    let out = Output::new("universal_approximation");
    curve_figure(&out, &config, &curves, &planes);
    plane_figure(&out, &planes);
    tables(&out, &config, &curves, &planes);
    out.finish();
}
