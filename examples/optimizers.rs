//! Seven optimizers on two non-convex surfaces, drawn over their contour
//! plots: plain gradient descent, stochastic gradient descent (the exact
//! gradient plus seeded Gaussian noise, standing in for a mini-batch's),
//! momentum, Nesterov momentum, Adagrad, RMSProp and Adam.
//!
//! - Rosenbrock's banana `(1 − x)² + 100(y − x²)²`: a curved valley whose
//!   floor falls gently to the minimum at (1, 1) while its walls are a
//!   hundred times steeper.
//! - A saddle `x² − y² + y⁴/4`: the start lies almost on the ridge line
//!   `y = 0` leading to the saddle point at the origin; the minima are at
//!   (0, ±√2). Plain gradient descent crawls along the ridge; noise,
//!   momentum and per-coordinate scaling get away from it sooner.
//!
//! The optimizers are the library's own (`torch.optim` semantics), run on a
//! two-parameter state (`N = U2`) through [`Optimizer::update`]: no network
//! is involved. The same hyperparameters are printed and shown in the
//! figure's legends.
//!
//! Run: `cargo run --release --example optimizers`
//! (with `-- --docs` it also refreshes `docs/images/optimizer_trajectories.svg`).

mod support;

use generic_array::typenum::U2;
use generic_array::GenericArray;
use plotters::prelude::SeriesLabelPosition;
use rand_core::Rng;
use staticnet::init::SplitMix64;
use staticnet::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use support::figure::{figure, publish_if_asked, Cell, Line, Panel, Surface};
use support::{Output, YScale, COLORS};

/// A surface to descend.
pub struct Problem {
    /// Short name.
    pub name: &'static str,
    /// The function, as a formula.
    pub formula: &'static str,
    /// The function.
    pub f: fn([f64; 2]) -> f64,
    /// Its gradient.
    pub grad: fn([f64; 2]) -> [f64; 2],
    /// Where every optimizer starts.
    pub start: [f64; 2],
    /// Its minima; distances are measured to the nearest.
    pub minima: &'static [[f64; 2]],
    /// The seven optimizers, tuned by hand for this surface so that each
    /// is stable and gets somewhere in the steps given.
    pub methods: Vec<Method>,
    /// Updates per optimizer.
    pub steps: usize,
    /// The plotted rectangle, x then y.
    pub window: ((f64, f64), (f64, f64)),
    /// Contour levels, ascending.
    pub levels: Vec<f64>,
    /// Whether the loss is plotted on a log scale (it must stay positive).
    pub log_loss: bool,
}

/// Rosenbrock's function `(1 − x)² + 100(y − x²)²`, from (−1.5, 2).
pub fn rosenbrock(steps: usize) -> Problem {
    Problem {
        name: "Rosenbrock",
        formula: "(1 - x)^2 + 100 (y - x^2)^2",
        f: |[x, y]| (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
        grad: |[x, y]| {
            [
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x),
            ]
        },
        start: [-1.5, 2.0],
        minima: &[[1.0, 1.0]],
        // The valley's walls curve at up to ~1900 on this path: plain GD
        // needs lr < 2/1900; momentum 0.9 allows 1.9 times more, Nesterov's
        // 0.7 times as much (at lr 1e-3 it zigzags wildly at the start).
        methods: seven([(1e-3, 10.0), (5e-4, 0.9)], [0.5, 0.01, 0.05]),
        steps,
        window: ((-2.0, 2.0), (-1.0, 3.0)),
        // Log-spaced: the valley floor is where everything interesting is.
        levels: (0..14).map(|k| 0.05 * 2f64.powi(k)).collect(),
        log_loss: true,
    }
}

/// A saddle `x² − y² + y⁴/4`, from just off its ridge line.
pub fn saddle(steps: usize) -> Problem {
    Problem {
        name: "saddle",
        formula: "x^2 - y^2 + y^4/4",
        f: |[x, y]| x * x - y * y + y.powi(4) / 4.0,
        grad: |[x, y]| [2.0 * x, y.powi(3) - 2.0 * y],
        start: [1.8, 1e-3],
        minima: &[
            [0.0, std::f64::consts::SQRT_2],
            [0.0, -std::f64::consts::SQRT_2],
        ],
        methods: seven([(0.02, 1.0), (0.01, 0.9)], [0.3, 0.01, 0.03]),
        steps,
        window: ((-2.0, 2.0), (-2.2, 2.2)),
        levels: (0..16).map(|k| -0.9 + 0.4 * k as f64).collect(),
        log_loss: false,
    }
}

/// Updates per optimizer on Rosenbrock's function.
pub const ROSENBROCK_STEPS: usize = 2000;
/// Updates per optimizer on the saddle.
pub const SADDLE_STEPS: usize = 300;

/// Which optimizer, with its hyperparameters.
#[derive(Clone, Copy, Debug)]
pub enum Method {
    /// Gradient descent on the exact gradient (`Sgd` without momentum).
    Gd(SgdConfig),
    /// `Sgd` on the gradient plus Gaussian noise of standard deviation
    /// `noise` per coordinate.
    NoisySgd(SgdConfig, f64),
    /// `Sgd` with momentum (Nesterov's when its config says so).
    Momentum(SgdConfig),
    /// Adagrad.
    Adagrad(AdagradConfig),
    /// RMSProp.
    RmsProp(RmsPropConfig),
    /// Adam.
    Adam(AdamConfig),
}

impl Method {
    /// The optimizer's name.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Gd(_) => "GD",
            Method::NoisySgd(..) => "SGD",
            Method::Momentum(c) if c.nesterov => "Nesterov",
            Method::Momentum(_) => "momentum",
            Method::Adagrad(_) => "Adagrad",
            Method::RmsProp(_) => "RMSProp",
            Method::Adam(_) => "Adam",
        }
    }

    /// The learning rate and what shapes each method (every other
    /// hyperparameter is PyTorch's default).
    pub fn hyperparameters(&self) -> String {
        match self {
            Method::Gd(c) => format!("lr {}", c.lr),
            Method::NoisySgd(c, noise) => format!("lr {}, noise sd {noise}", c.lr),
            Method::Momentum(c) => format!("lr {}, momentum {}", c.lr, c.momentum),
            Method::Adagrad(c) => format!("lr {}", c.lr),
            Method::RmsProp(c) => format!("lr {}, alpha {}", c.lr, c.alpha),
            Method::Adam(c) => format!("lr {}, betas ({}, {})", c.lr, c.betas.0, c.betas.1),
        }
    }
}

/// GD, SGD, momentum, Nesterov, Adagrad, RMSProp and Adam with PyTorch's
/// defaults but for: `(lr, noise)` of GD and SGD, `(lr, momentum)` of both
/// momentum methods, and the learning rates of the adaptive three.
fn seven(sgd: [(f64, f64); 2], adaptive: [f64; 3]) -> Vec<Method> {
    let [(lr, noise), (momentum_lr, momentum)] = sgd;
    let [adagrad, rmsprop, adam] = adaptive;
    let sgd = |lr: f64, momentum: f64, nesterov: bool| SgdConfig {
        lr,
        momentum,
        nesterov,
        ..SgdConfig::default()
    };
    vec![
        Method::Gd(sgd(lr, 0.0, false)),
        Method::NoisySgd(sgd(lr, 0.0, false), noise),
        Method::Momentum(sgd(momentum_lr, momentum, false)),
        Method::Momentum(sgd(momentum_lr, momentum, true)),
        Method::Adagrad(AdagradConfig {
            lr: adagrad,
            ..AdagradConfig::default()
        }),
        Method::RmsProp(RmsPropConfig {
            lr: rmsprop,
            ..RmsPropConfig::default()
        }),
        Method::Adam(AdamConfig {
            lr: adam,
            ..AdamConfig::default()
        }),
    ]
}

/// One optimizer's path.
pub struct Trajectory {
    /// Which optimizer.
    pub method: Method,
    /// The iterates, from the start; ends early if they stop being finite.
    pub points: Vec<[f64; 2]>,
    /// The function at each iterate.
    pub losses: Vec<f64>,
}

impl Trajectory {
    /// The last iterate.
    pub fn end(&self) -> [f64; 2] {
        *self.points.last().expect("a trajectory holds its start")
    }

    /// Distance from the last iterate to the nearest of `minima`.
    pub fn distance_to(&self, minima: &[[f64; 2]]) -> f64 {
        let [x, y] = self.end();
        minima
            .iter()
            .map(|m| ((x - m[0]).powi(2) + (y - m[1]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether every step stayed finite.
    pub fn finished(&self, steps: usize) -> bool {
        self.points.len() == steps + 1
    }
}

/// Runs `opt` from `problem.start`, adding Gaussian noise of standard
/// deviation `noise` to each gradient coordinate (seeded by `seed`).
fn descend<O: Optimizer<f64, U2>>(
    problem: &Problem,
    mut opt: O,
    noise: f64,
    seed: u64,
) -> (Vec<[f64; 2]>, Vec<f64>) {
    let mut rng = SplitMix64::new(seed);
    let mut params = GenericArray::<f64, U2>::from_array(problem.start);
    let mut points = vec![problem.start];
    for _ in 0..problem.steps {
        let p: [f64; 2] = params.into_array();
        let g = (problem.grad)(p).map(|gi| gi + noise * gaussian(&mut rng));
        let grads = GenericArray::<f64, U2>::from_array(g);
        let lr = opt.lr();
        opt.update(&mut params, &grads, lr);
        let next: [f64; 2] = params.into_array();
        if !next.iter().all(|v| v.is_finite()) {
            break;
        }
        points.push(next);
    }
    let losses = points.iter().map(|&p| (problem.f)(p)).collect();
    (points, losses)
}

/// A standard normal draw (Box-Muller).
fn gaussian(rng: &mut SplitMix64) -> f64 {
    let unit = |r: &mut SplitMix64| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let u1 = 1.0 - unit(rng); // in (0, 1]: the logarithm is finite
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Runs every method of `problem`.
pub fn run(problem: &Problem) -> Vec<Trajectory> {
    const SEED: u64 = 2024;
    problem
        .methods
        .iter()
        .map(|&method| {
            let built = "hyperparameters are valid";
            let (points, losses) = match method {
                Method::Gd(c) | Method::Momentum(c) => {
                    descend(problem, Sgd::new(c).expect(built), 0.0, SEED)
                }
                Method::NoisySgd(c, noise) => {
                    descend(problem, Sgd::new(c).expect(built), noise, SEED)
                }
                Method::Adagrad(c) => descend(problem, Adagrad::new(c).expect(built), 0.0, SEED),
                Method::RmsProp(c) => descend(problem, RmsProp::new(c).expect(built), 0.0, SEED),
                Method::Adam(c) => descend(problem, Adam::new(c).expect(built), 0.0, SEED),
            };
            Trajectory {
                method,
                points,
                losses,
            }
        })
        .collect()
}

/// The contour plot with every path, and the loss against step.
fn cells<'a>(
    problem: &'a Problem,
    runs: &[Trajectory],
    f: &'a dyn Fn(f64, f64) -> f64,
) -> [Cell<'a>; 2] {
    let color = |i: usize| COLORS[i % COLORS.len()];
    let paths = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Line::new(
                "",
                r.points.iter().map(|p| (p[0], p[1])).collect(),
                color(i),
            )
        })
        .collect();
    let surface = Surface {
        title: problem.formula,
        x: problem.window.0,
        y: problem.window.1,
        f,
        levels: problem.levels.clone(),
        paths,
        marks: problem.minima.iter().map(|m| (m[0], m[1])).collect(),
        legend: SeriesLabelPosition::UpperLeft,
    };
    let lines = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = format!("{} ({})", r.method.name(), r.method.hyperparameters());
            let points = r
                .losses
                .iter()
                .enumerate()
                .map(|(t, &l)| (t as f64, l))
                .collect();
            Line::new(name, points, color(i))
        })
        .collect();
    let loss = Panel {
        title: "loss against step",
        x: "step",
        y: "f(x, y)",
        x_scale: YScale::Linear,
        y_scale: if problem.log_loss {
            YScale::Log
        } else {
            YScale::Linear
        },
        // Where the curves are not: below them on a log scale, beside
        // their fast early drop on a linear one.
        legend: if problem.log_loss {
            SeriesLabelPosition::LowerLeft
        } else {
            SeriesLabelPosition::UpperRight
        },
        lines,
    };
    [Cell::Surface(surface), Cell::Lines(loss)]
}

fn report(problem: &Problem, runs: &[Trajectory]) {
    println!(
        "\n{}: f = {}, from ({}, {}), {} steps; minimum at {}",
        problem.name,
        problem.formula,
        problem.start[0],
        problem.start[1],
        problem.steps,
        problem
            .minima
            .iter()
            .map(|m| format!("({:.3}, {:.3})", m[0], m[1]))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    println!(
        "  {:<9} {:<30} {:>12} {:>12} {:>22}",
        "optimizer", "hyperparameters", "final f", "to minimum", "end point"
    );
    for r in runs {
        let [x, y] = r.end();
        let note = if r.finished(problem.steps) {
            ""
        } else {
            "  (left the finite numbers)"
        };
        println!(
            "  {:<9} {:<30} {:>12.3e} {:>12.4} {:>22}{note}",
            r.method.name(),
            r.method.hyperparameters(),
            r.losses.last().copied().unwrap_or(f64::NAN),
            r.distance_to(problem.minima),
            format!("({x:.4}, {y:.4})"),
        );
    }
}

fn csv(out: &Output, file: &str, runs: &[Trajectory]) {
    let rows: Vec<Vec<f64>> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.points
                .iter()
                .zip(&r.losses)
                .enumerate()
                .map(move |(t, (p, l))| vec![i as f64, t as f64, p[0], p[1], *l])
        })
        .collect();
    out.csv(file, &["optimizer", "step", "x", "y", "f"], &rows);
}

fn main() {
    let out = Output::new("optimizers");
    let problems = [rosenbrock(ROSENBROCK_STEPS), saddle(SADDLE_STEPS)];
    let runs: Vec<Vec<Trajectory>> = problems.iter().map(run).collect();
    let fs: Vec<Box<dyn Fn(f64, f64) -> f64>> = problems
        .iter()
        .map(|p| {
            let f = p.f;
            Box::new(move |x, y| f([x, y])) as Box<dyn Fn(f64, f64) -> f64>
        })
        .collect();
    println!("Seven optimizers on two surfaces (x = the 2 parameters, f = the loss).");
    println!("optimizers in order: {}", {
        let names: Vec<_> = problems[0].methods.iter().map(|m| m.name()).collect();
        names.join(", ")
    });
    for (problem, r) in problems.iter().zip(&runs) {
        report(problem, r);
    }
    let mut all = Vec::new();
    for ((problem, r), f) in problems.iter().zip(&runs).zip(&fs) {
        all.extend(cells(problem, r, f.as_ref()));
        csv(&out, &format!("{}.csv", problem.name.to_lowercase()), r);
    }
    let path = figure(&out, "optimizer_trajectories.svg", 2, (620, 520), &all);
    println!("\nthe CSV files list optimizer (0-6 in the order above), step, x, y, f");
    publish_if_asked(&path, "optimizer_trajectories.svg");
    out.finish();
}
