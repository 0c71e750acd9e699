//! The lecture examples' key claims, on shortened runs where a full one
//! would be slow: universal approximation, optimizer trajectories,
//! exploding and vanishing gradients. Also the contour geometry their
//! figures are drawn with.

// Each example is its own program with its own `mod support;`; compiling
// several of them (and the contour code, checked below) into this test
// loads that file more than once, which is intended.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/universal_approximation.rs"]
#[allow(dead_code)]
mod universal_approximation;

#[path = "../examples/optimizers.rs"]
#[allow(dead_code)]
mod optimizers;

#[path = "../examples/exploding_gradients.rs"]
#[allow(dead_code)]
mod exploding_gradients;

#[path = "../examples/vanishing_gradients.rs"]
#[allow(dead_code)]
mod vanishing_gradients;

// Unused parts are allowed inside (`#![allow(dead_code)]`).
#[path = "../examples/support/mod.rs"]
mod support;

mod universal {
    use super::universal_approximation::{curve_fit, plane_fit, Config};

    /// The full run's training, one start per network instead of three.
    fn short() -> Config {
        Config {
            restarts: 1,
            eval_points: 501,
            plane_eval_points: 61,
            ..Config::default()
        }
    }

    #[test]
    fn more_sigmoid_units_fit_a_curve_more_closely() {
        let config = short();
        let errors: Vec<(usize, f64)> = [1, 4, 16, 64]
            .iter()
            .map(|&n| (n, curve_fit(n, &config).max_error))
            .collect();
        let e = |n: usize| errors.iter().find(|p| p.0 == n).unwrap().1;
        // One unit is a single step: it cannot follow the wave at all, and
        // neither can four (which of the two misses by more varies with the
        // start, so it is not asserted).
        assert!(e(1) > 0.5 && e(4) > 0.2, "{errors:?}");
        // From there every fourfold increase cuts the error, and 64 units
        // fit 20 times more closely than one.
        assert!(e(16) < e(4) && e(64) < e(16), "{errors:?}");
        assert!(e(64) < e(1) / 20.0, "{errors:?}");
    }

    #[test]
    fn more_sigmoid_units_fit_a_surface_more_closely() {
        let config = short();
        let errors: Vec<(usize, f64)> = [1, 8, 64]
            .iter()
            .map(|&n| (n, plane_fit(n, &config).max_error))
            .collect();
        let e = |n: usize| errors.iter().find(|p| p.0 == n).unwrap().1;
        assert!(e(8) < e(1) && e(64) < e(8), "{errors:?}");
        assert!(e(64) < e(1) / 10.0, "{errors:?}");
    }
}

mod optimizer_paths {
    use super::optimizers::{rosenbrock, run, saddle, ROSENBROCK_STEPS, SADDLE_STEPS};

    #[test]
    fn every_optimizer_descends_rosenbrock_and_the_fast_ones_arrive() {
        // The full run: 2000 two-parameter steps per optimizer take no time.
        let problem = rosenbrock(ROSENBROCK_STEPS);
        let runs = run(&problem);
        assert_eq!(runs.len(), 7);
        let start = (problem.f)(problem.start);
        for r in &runs {
            let name = r.method.name();
            assert!(r.finished(problem.steps), "{name} left the finite numbers");
            let end = *r.losses.last().unwrap();
            assert!(end < start / 20.0, "{name}: f went from {start} to {end}");
        }
        let distance = |name: &str| {
            let r = runs.iter().find(|r| r.method.name() == name).unwrap();
            r.distance_to(problem.minima)
        };
        // Momentum (both kinds) and Adam reach the minimum at (1, 1); plain
        // gradient descent is still crawling along the valley floor.
        for name in ["momentum", "Nesterov", "Adam"] {
            assert!(distance(name) < 0.05, "{name}: {}", distance(name));
        }
        assert!(distance("GD") > 0.3, "GD: {}", distance("GD"));
    }

    #[test]
    fn every_optimizer_leaves_the_saddle_and_plain_gd_is_the_slowest() {
        let problem = saddle(SADDLE_STEPS);
        let runs = run(&problem);
        // Steps until f < −0.5, well below the saddle point's 0.
        let escape = |losses: &[f64]| losses.iter().position(|&f| f < -0.5);
        let gd = escape(&runs[0].losses).expect("GD escapes eventually");
        for r in &runs {
            let name = r.method.name();
            let end = *r.losses.last().unwrap();
            assert!(end < -0.9, "{name} ends at f = {end}, minimum -1");
            let steps = escape(&r.losses).unwrap();
            if name != "GD" {
                assert!(steps < gd, "{name} needed {steps} steps, GD {gd}");
            }
        }
    }
}

mod exploding {
    use super::exploding_gradients::{experiment, Config, Outcome};
    use staticnet::Error;

    #[test]
    fn clipping_keeps_training_finite_where_the_unclipped_run_diverges() {
        let config = Config {
            steps: 300,
            ..Config::default()
        };
        let runs = experiment(&config);

        // Without clipping the first update is so large that the next loss
        // overflows, and train_step refuses it.
        let unclipped = &runs.unclipped;
        let step = unclipped.diverged_at().expect("the unclipped run diverges");
        assert!(step <= 5, "diverged only at step {step}");
        match &unclipped.outcome {
            Outcome::Refused { error, .. } => assert!(
                matches!(
                    error,
                    Error::NonFiniteLoss { .. } | Error::NonFiniteGradient { .. }
                ),
                "{error:?}"
            ),
            Outcome::Exploded { .. } => {}
            Outcome::Finished => unreachable!(),
        }
        let first = unclipped.losses[0];
        assert!(first > 1e3, "the too-large init starts at loss {first}");
        assert!(unclipped.last_finite_loss().is_some());

        // With clipping: every step taken, every loss finite, and the loss
        // falls by orders of magnitude from the same start.
        let clipped = &runs.clipped;
        assert_eq!(clipped.outcome, Outcome::Finished);
        assert_eq!(clipped.losses.len(), config.steps);
        assert!(clipped.losses.iter().all(|l| l.is_finite()));
        assert_eq!(clipped.losses[0], first, "same network, same first batch");
        let late = clipped.final_loss(50);
        assert!(late < first / 1e3, "clipped run: {first} -> {late}");
        // The raw gradients really were far above the limit at the start.
        assert!(clipped.grad_norms[0] > 1e3 * config.max_norm);

        // He initialisation alone needs no clipping.
        assert_eq!(runs.reference.outcome, Outcome::Finished);
    }
}

mod vanishing {
    use super::vanishing_gradients::{run, Config};

    #[test]
    fn residual_blocks_keep_the_first_layers_gradient_where_sigmoid_loses_it() {
        let config = Config {
            epochs: 4,
            ..Config::default()
        };
        let studies = run(&config);
        let get = |name: &str| studies.iter().find(|s| s.name == name).unwrap();
        let (sigmoid, residual) = (get("sigmoid"), get("ReLU + residual"));
        for s in &studies {
            assert_eq!(s.at_init.len(), 12, "{}: one norm per dense layer", s.name);
            assert!(s
                .at_init
                .iter()
                .chain(&s.trained)
                .all(|n| n.is_finite() && *n > 0.0));
        }
        let (sig_first, res_first) = (sigmoid.at_init[0], residual.at_init[0]);
        assert!(
            res_first > 100.0 * sig_first,
            "first layer at init: residual {res_first:e}, sigmoid {sig_first:e}"
        );
        // Through eleven sigmoids the gradient shrinks by orders of
        // magnitude from the last layer to the first; through the residual
        // net it does not.
        assert!(
            sigmoid.at_init[0] < sigmoid.at_init[11] / 1e4,
            "{:?}",
            sigmoid.at_init
        );
        assert!(
            residual.at_init[0] > residual.at_init[11] / 10.0,
            "{:?}",
            residual.at_init
        );
        // He initialisation keeps the plain ReLU net's first layer far above
        // the default-initialised one's.
        assert!(get("ReLU, He init").at_init[0] > 100.0 * get("ReLU").at_init[0]);
    }
}

mod contours {
    use super::support::contour::{level_lines, regions, Grid};

    fn bowl(x: f64, y: f64) -> f64 {
        x * x + y * y
    }

    fn saddle(x: f64, y: f64) -> f64 {
        x * x - y * y + y.powi(4) / 4.0
    }

    #[test]
    fn a_level_line_of_a_bowl_is_a_closed_circle() {
        let grid = Grid::sample((-1.0, 1.0), (-1.0, 1.0), 40, 40, &bowl);
        let lines = level_lines(&grid, 0.25);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert!(line.len() > 20);
        assert_eq!(line.first(), line.last(), "closed");
        for &(x, y) in line {
            let r = (x * x + y * y).sqrt();
            assert!((r - 0.5).abs() < 0.01, "({x}, {y}) at radius {r}");
        }
        // A level that leaves the window gives open lines ending on its edge.
        for line in level_lines(&grid, 1.5) {
            assert_ne!(line.first(), line.last());
            let on_edge = |(x, y): (f64, f64)| x.abs() == 1.0 || y.abs() == 1.0;
            assert!(on_edge(line[0]) && on_edge(*line.last().unwrap()));
        }
    }

    /// Whether `p` is inside the closed `outline` (even-odd ray casting).
    fn inside(p: (f64, f64), outline: &[(f64, f64)]) -> bool {
        let mut inside = false;
        for w in outline.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if (y0 > p.1) != (y1 > p.1) && p.0 < x0 + (p.1 - y0) / (y1 - y0) * (x1 - x0) {
                inside = !inside;
            }
        }
        inside
    }

    /// Painting the regions in order gives every point away from a level
    /// line the band its value lies in.
    fn check_painting(f: &dyn Fn(f64, f64) -> f64, window: f64, levels: &[f64]) {
        let grid = Grid::sample((-window, window), (-window, window), 60, 60, f);
        let regions = regions(&grid, levels);
        let mut checked = 0;
        for j in 0..25 {
            for i in 0..25 {
                let p = (
                    -window + 2.0 * window * (i as f64 + 0.5) / 25.0,
                    -window + 2.0 * window * (j as f64 + 0.5) / 25.0,
                );
                let v = f(p.0, p.1);
                if levels.iter().any(|l| (v - l).abs() < 0.05) {
                    continue;
                }
                let painted = regions
                    .iter()
                    .rev()
                    .find(|r| inside(p, &r.outline))
                    .map_or(0, |r| r.band);
                let want = levels.iter().filter(|&&l| l <= v).count();
                assert_eq!(painted, want, "at {p:?}, f = {v}");
                checked += 1;
            }
        }
        assert!(checked > 300);
    }

    #[test]
    fn filled_regions_paint_each_point_with_its_band() {
        // Closed loops around a minimum, and loops along the whole border.
        check_painting(&bowl, 1.0, &[0.1, 0.25, 0.5, 0.8, 1.2]);
        // Two minima, a saddle between, levels crossing the border.
        check_painting(&saddle, 2.0, &[-0.8, -0.4, 0.0, 0.5, 1.5, 3.0]);
    }
}
