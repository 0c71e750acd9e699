//! What the examples share: an output folder, CSV files and SVG charts.
//!
//! Each example writes its plots and the numbers behind them into
//! `target/example-output/<example>/` and names the folder when it
//! finishes. Charts are SVG (plotters' SVG backend needs no fonts).

#![allow(dead_code)]

use plotters::prelude::*;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The folder an example writes into.
pub struct Output {
    dir: PathBuf,
}

impl Output {
    /// Creates (or reuses) `target/example-output/<name>/`.
    pub fn new(name: &str) -> Output {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("example-output")
            .join(name);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Output { dir }
    }

    /// The path of a file in the folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Writes a CSV file: a header line, then one line per row.
    pub fn csv(&self, file: &str, header: &[&str], rows: &[Vec<f64>]) {
        let mut text = header.join(",");
        text.push('\n');
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                write!(text, "{v}").expect("writing to a String cannot fail");
            }
            text.push('\n');
        }
        let path = self.path(file);
        fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Prints where everything went.
    pub fn finish(&self) {
        println!("\nplots and CSV files: {}", self.dir.display());
    }
}

/// One named line of a chart.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from a name and points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }
}

/// How the y axis is scaled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum YScale {
    /// Linear.
    Linear,
    /// Logarithmic (non-positive values are dropped from the plot).
    Log,
}

/// Axis titles and scale of a line chart.
pub struct Chart<'a> {
    /// Chart title.
    pub title: &'a str,
    /// x-axis label.
    pub x: &'a str,
    /// y-axis label.
    pub y: &'a str,
    /// Linear or logarithmic y.
    pub scale: YScale,
}

/// A palette that stays readable for up to ten lines.
pub const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws `series` as lines into an SVG file of the output folder.
pub fn line_chart(out: &Output, file: &str, chart: &Chart<'_>, series: &[Series]) {
    let path = out.path(file);
    draw_lines(&path, chart, series)
        .unwrap_or_else(|e| panic!("cannot draw {}: {e}", path.display()));
}

fn bounds(series: &[Series], scale: YScale) -> ((f64, f64), (f64, f64)) {
    let keep = |y: f64| y.is_finite() && (scale == YScale::Linear || y > 0.0);
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && keep(p.1));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return ((0.0, 1.0), (0.1, 1.0));
    }
    if x0 == x1 {
        x1 = x0 + 1.0;
    }
    if y0 == y1 {
        y1 = y0 + y0.abs().max(1e-12);
    }
    ((x0, x1), (y0, y1))
}

fn draw_lines(
    path: &Path,
    chart: &Chart<'_>,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let ((x0, x1), (y0, y1)) = bounds(series, chart.scale);
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    macro_rules! finish {
        ($ctx:expr) => {{
            let mut ctx = $ctx;
            ctx.configure_mesh()
                .x_desc(chart.x)
                .y_desc(chart.y)
                .draw()?;
            for (i, s) in series.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                let pts = s.points.iter().copied().filter(|p| {
                    p.0.is_finite()
                        && p.1.is_finite()
                        && (chart.scale == YScale::Linear || p.1 > 0.0)
                });
                ctx.draw_series(LineSeries::new(pts, color.stroke_width(2)))?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
            }
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }};
    }
    match chart.scale {
        YScale::Linear => {
            let pad = (y1 - y0) * 0.05;
            finish!(builder.build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))?)
        }
        YScale::Log => {
            finish!(builder.build_cartesian_2d(x0..x1, (y0 * 0.8..y1 * 1.25).log_scale())?)
        }
    }
    root.present()?;
    Ok(())
}
