//! What the examples share: an output folder, CSV files and SVG charts.
//!
//! Each example writes its plots and the numbers behind them into
//! `target/example-output/<example>/` and names the folder when it
//! finishes. Charts are SVG (plotters' SVG backend needs no fonts).

#![allow(dead_code)]

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;
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
    draw_lines_in(&root, chart, series)?;
    root.present()?;
    Ok(())
}

/// Draws one line chart into `area` (a whole file or one panel of it).
fn draw_lines_in(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &Chart<'_>,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let ((x0, x1), (y0, y1)) = bounds(series, chart.scale);
    let mut builder = ChartBuilder::on(area);
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
                .y_label_formatter(&|v: &f64| tick_label(*v))
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
    Ok(())
}

/// A tick value with at most four significant digits and no float noise
/// (a log axis asks for 0.30000000000000004).
fn tick_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor();
    if !(-4.0..6.0).contains(&magnitude) {
        return format!("{v:.1e}");
    }
    let decimals = (3.0 - magnitude).max(0.0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Draws several line charts side by side in one SVG file (each panel
/// 560 x 450), for quantities that need their own axes, like a loss and an
/// accuracy.
pub fn line_panels(out: &Output, file: &str, panels: &[(Chart<'_>, Vec<Series>)]) {
    let path = out.path(file);
    draw_panels(&path, panels).unwrap_or_else(|e| panic!("cannot draw {}: {e}", path.display()));
}

fn draw_panels(
    path: &Path,
    panels: &[(Chart<'_>, Vec<Series>)],
) -> Result<(), Box<dyn std::error::Error>> {
    let width = 560 * panels.len().max(1) as u32;
    let root = SVGBackend::new(path, (width, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, (chart, series)) in areas.iter().zip(panels) {
        draw_lines_in(area, chart, series)?;
    }
    root.present()?;
    Ok(())
}

/// Draws a confusion matrix: `counts[true][predicted]`, one cell per pair,
/// shaded by the fraction of its true class and labelled with the count.
pub fn confusion_chart(
    out: &Output,
    file: &str,
    title: &str,
    labels: &[&str],
    counts: &[Vec<usize>],
) {
    let path = out.path(file);
    draw_confusion(&path, title, labels, counts)
        .unwrap_or_else(|e| panic!("cannot draw {}: {e}", path.display()));
}

fn draw_confusion(
    path: &Path,
    title: &str,
    labels: &[&str],
    counts: &[Vec<usize>],
) -> Result<(), Box<dyn std::error::Error>> {
    let n = counts.len() as u32;
    let root = SVGBackend::new(path, (620, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    // Segmented axes put each label at the centre of its cell. Row 0 (the
    // first true class) is drawn at the top, so y counts down.
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())?;
    let name = |v: &SegmentValue<u32>, flip: bool| match *v {
        SegmentValue::CenterOf(i) if i < n => {
            let i = if flip { n - 1 - i } else { i };
            labels
                .get(i as usize)
                .map_or(String::new(), |s| s.to_string())
        }
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n as usize)
        .y_labels(n as usize)
        .x_label_formatter(&|v| name(v, false))
        .y_label_formatter(&|v| name(v, true))
        .x_desc("predicted")
        .y_desc("true")
        .label_style(("sans-serif", 15))
        .draw()?;
    for (t, row) in counts.iter().enumerate() {
        let total = row.iter().sum::<usize>().max(1) as f64;
        let y = n - 1 - t as u32;
        for (p, &count) in row.iter().enumerate() {
            let x = p as u32;
            // White for none, deep blue for the whole class; any nonzero
            // count gets at least a visible tint.
            let share = count as f64 / total;
            let depth = if count == 0 { 0.0 } else { 0.12 + 0.88 * share };
            let shade = |full: u8| (255.0 - depth * (255.0 - f64::from(full))) as u8;
            let fill = RGBColor(shade(8), shade(48), shade(107));
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ],
                fill.filled(),
            )))?;
            let ink = if depth > 0.5 { WHITE } else { BLACK };
            let style = TextStyle::from(("sans-serif", 15).into_font())
                .color(&ink)
                .pos(text_anchor::Pos::new(
                    text_anchor::HPos::Center,
                    text_anchor::VPos::Center,
                ));
            chart.draw_series(std::iter::once(Text::new(
                count.to_string(),
                (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                style,
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

/// A numeric table: the column names and one row of numbers per line.
pub struct Table {
    /// Column names from the header line.
    pub header: Vec<String>,
    /// The rows, each as long as the header.
    pub rows: Vec<Vec<f64>>,
}

/// Reads a gzip-compressed CSV file of numbers with a header line from the
/// repository's `data/` folder (see `data/README.md`).
pub fn read_data(file: &str) -> Result<Table, Box<dyn std::error::Error>> {
    use std::io::Read as _;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file);
    let compressed =
        fs::File::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot decompress {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| format!("{} is empty", path.display()))?
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let row = line
            .split(',')
            .map(str::parse::<f64>)
            .collect::<Result<Vec<f64>, _>>()
            .map_err(|e| format!("{} line {}: {e}", path.display(), i + 2))?;
        if row.len() != header.len() {
            return Err(format!(
                "{} line {}: {} values for {} columns",
                path.display(),
                i + 2,
                row.len(),
                header.len()
            )
            .into());
        }
        rows.push(row);
    }
    Ok(Table { header, rows })
}

/// Level lines and filled contour regions of a sampled function.
pub mod contour;
/// Multi-panel figures: line charts and contour plots with paths.
pub mod figure;
