//! Figures of several panels in one SVG: line charts (solid or dashed
//! lines, markers, linear or logarithmic axes) and contour plots of a
//! function of two variables with paths drawn over them.

use super::contour::{level_lines, regions, Grid};
use super::{Output, YScale};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// A tick label: plain decimals without trailing zeros, powers of ten
/// (`1e-6`) for very small or large magnitudes.
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{v:.0e}");
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// The points of a line worth drawing: each one at least two pixels
/// (`to_pixel`) from the last one kept and not on the straight line
/// between its neighbours, and the last one. Long converged tails, finely
/// sampled curves and straight runs then cost a few points, not thousands.
fn thin(
    points: impl Iterator<Item = (f64, f64)>,
    to_pixel: impl Fn(&(f64, f64)) -> (i32, i32),
) -> Vec<(f64, f64)> {
    let mut kept: Vec<((f64, f64), (i32, i32))> = Vec::new();
    let mut skipped = None;
    for p in points {
        let px = to_pixel(&p);
        let far = kept
            .last()
            .is_none_or(|&(_, (x, y))| (px.0 - x).abs() + (px.1 - y).abs() >= 2);
        if !far {
            skipped = Some((p, px));
            continue;
        }
        // The last point kept is redundant if it lies on the segment from
        // the one before it to this one.
        if let [.., (_, a), (_, b)] = kept[..] {
            let cross = (b.0 - a.0) * (px.1 - a.1) - (b.1 - a.1) * (px.0 - a.0);
            let between = (b.0 - a.0) * (px.0 - b.0) + (b.1 - a.1) * (px.1 - b.1) >= 0;
            if cross == 0 && between {
                kept.pop();
            }
        }
        kept.push((p, px));
        skipped = None;
    }
    kept.extend(skipped);
    kept.into_iter().map(|(p, _)| p).collect()
}

/// A legend's sample of a line: a stroke, or two dashes. (A macro, as the
/// element's type names the chart's backend.)
macro_rules! legend_mark {
    ($x:expr, $y:expr, $color:expr, $dashed:expr) => {{
        let style = $color.stroke_width(2);
        let gap = if $dashed { 12 } else { 8 };
        EmptyElement::at(($x, $y))
            + PathElement::new(vec![(0, 0), (8, 0)], style)
            + PathElement::new(vec![(gap, 0), (20, 0)], style)
    }};
}

/// One line of a panel.
pub struct Line {
    /// Legend text; an empty name adds no legend entry.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Colour (for example from [`super::COLORS`]).
    pub color: RGBColor,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// A dot at every point.
    pub markers: bool,
}

impl Line {
    /// A solid line without markers.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Line {
        Line {
            name: name.into(),
            points,
            color,
            dashed: false,
            markers: false,
        }
    }

    /// The same line, dashed.
    pub fn dashed(self) -> Line {
        Line {
            dashed: true,
            ..self
        }
    }

    /// The same line, with a dot at every point.
    pub fn with_markers(self) -> Line {
        Line {
            markers: true,
            ..self
        }
    }
}

/// A line chart.
pub struct Panel<'a> {
    /// Title above the panel.
    pub title: &'a str,
    /// x-axis label.
    pub x: &'a str,
    /// y-axis label.
    pub y: &'a str,
    /// Linear or logarithmic x.
    pub x_scale: YScale,
    /// Linear or logarithmic y (non-positive values are dropped).
    pub y_scale: YScale,
    /// Where the legend goes.
    pub legend: SeriesLabelPosition,
    /// The lines.
    pub lines: Vec<Line>,
}

/// A contour plot of `f` over a rectangle: filled bands between `levels`,
/// the level lines, and `paths` drawn over them.
pub struct Surface<'a> {
    /// Title above the panel.
    pub title: &'a str,
    /// The x range shown.
    pub x: (f64, f64),
    /// The y range shown.
    pub y: (f64, f64),
    /// The function.
    pub f: &'a dyn Fn(f64, f64) -> f64,
    /// Contour levels, ascending.
    pub levels: Vec<f64>,
    /// Paths over the surface, drawn until they leave the rectangle, with a
    /// ring where each starts and a dot where it ends.
    pub paths: Vec<Line>,
    /// Points marked with a cross (a minimum, a saddle point).
    pub marks: Vec<(f64, f64)>,
    /// Where the legend of the named paths goes.
    pub legend: SeriesLabelPosition,
}

/// One panel of a figure.
pub enum Cell<'a> {
    /// A line chart.
    Lines(Panel<'a>),
    /// A contour plot with paths.
    Surface(Surface<'a>),
}

/// Draws `cells` row by row, `columns` to a row, each `cell_size` pixels,
/// into one SVG file of the output folder; returns its path.
pub fn figure(
    out: &Output,
    file: &str,
    columns: usize,
    cell_size: (u32, u32),
    cells: &[Cell<'_>],
) -> std::path::PathBuf {
    let path = out.path(file);
    draw_figure(&path, columns, cell_size, cells)
        .unwrap_or_else(|e| panic!("cannot draw {}: {e}", path.display()));
    path
}

fn draw_figure(path: &Path, columns: usize, (w, h): (u32, u32), cells: &[Cell<'_>]) -> DrawResult {
    let columns = columns.max(1);
    let rows = cells.len().div_ceil(columns);
    let size = (w * columns as u32, h * rows as u32);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    for (cell, area) in cells.iter().zip(root.split_evenly((rows, columns))) {
        match cell {
            Cell::Lines(panel) => draw_panel(&area, panel)?,
            Cell::Surface(surface) => draw_surface(&area, surface)?,
        }
    }
    root.present()?;
    Ok(())
}

/// With `--docs` on the command line, copies the figure at `path` to
/// `docs/images/<name>`, where the README shows it.
pub fn publish_if_asked(path: &Path, name: &str) {
    if !std::env::args().any(|a| a == "--docs") {
        return;
    }
    let docs = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("images");
    std::fs::create_dir_all(&docs)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", docs.display()));
    let to = docs.join(name);
    std::fs::copy(path, &to).unwrap_or_else(|e| panic!("cannot write {}: {e}", to.display()));
    println!("updated {}", to.display());
}

/// The range covering every drawable value, padded (multiplicatively on a
/// log scale).
fn range(values: impl Iterator<Item = f64>, scale: YScale) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for v in values.filter(|v| v.is_finite() && (scale == YScale::Linear || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.1, 1.0);
    }
    match scale {
        YScale::Linear => {
            let pad = if hi > lo {
                (hi - lo) * 0.04
            } else {
                lo.abs().max(1.0) * 0.5
            };
            (lo - pad, hi + pad)
        }
        YScale::Log => {
            let pad = if hi > lo { (hi / lo).powf(0.03) } else { 2.0 };
            (lo / pad, hi * pad)
        }
    }
}

fn drawable(p: &(f64, f64), x: YScale, y: YScale) -> bool {
    let ok = |v: f64, s: YScale| v.is_finite() && (s == YScale::Linear || v > 0.0);
    ok(p.0, x) && ok(p.1, y)
}

fn draw_panel(area: &Area<'_>, panel: &Panel<'_>) -> DrawResult {
    let points = || panel.lines.iter().flat_map(|l| l.points.iter());
    let (x0, x1) = range(points().map(|p| p.0), panel.x_scale);
    let (y0, y1) = range(points().map(|p| p.1), panel.y_scale);
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(panel.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    // Each pair of scales is a different coordinate type.
    macro_rules! draw {
        ($xr:expr, $yr:expr) => {{
            let mut ctx = builder.build_cartesian_2d($xr, $yr)?;
            ctx.configure_mesh()
                .x_desc(panel.x)
                .y_desc(panel.y)
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                // Light lines between labels crowd a log axis into a grey band.
                .light_line_style(TRANSPARENT)
                .draw()?;
            for line in &panel.lines {
                let drawn = line
                    .points
                    .iter()
                    .filter(|p| drawable(p, panel.x_scale, panel.y_scale));
                let pts = thin(drawn.copied(), |p| ctx.backend_coord(p));
                let style = line.color.stroke_width(2);
                let anno = if line.dashed {
                    ctx.draw_series(DashedLineSeries::new(pts.clone(), 7, 5, style))?
                } else {
                    ctx.draw_series(LineSeries::new(pts.clone(), style))?
                };
                if !line.name.is_empty() {
                    let (color, dashed) = (line.color, line.dashed);
                    anno.label(line.name.as_str())
                        .legend(move |(x, y)| legend_mark!(x, y, color, dashed));
                }
                if line.markers {
                    let all = line
                        .points
                        .iter()
                        .filter(|p| drawable(p, panel.x_scale, panel.y_scale));
                    ctx.draw_series(all.map(|&p| Circle::new(p, 3, line.color.filled())))?;
                }
            }
            if panel.lines.iter().any(|l| !l.name.is_empty()) {
                ctx.configure_series_labels()
                    .position(panel.legend.clone())
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()?;
            }
        }};
    }
    match (panel.x_scale, panel.y_scale) {
        (YScale::Linear, YScale::Linear) => draw!(x0..x1, y0..y1),
        (YScale::Log, YScale::Linear) => draw!((x0..x1).log_scale(), y0..y1),
        (YScale::Linear, YScale::Log) => draw!(x0..x1, (y0..y1).log_scale()),
        (YScale::Log, YScale::Log) => draw!((x0..x1).log_scale(), (y0..y1).log_scale()),
    }
    Ok(())
}

/// Light colours from dark blue (band 0) to yellow, so paths stay visible.
fn band_color(band: usize, bands: usize) -> RGBColor {
    // A few stops of a viridis-like map, mixed halfway with white.
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = band as f64 / bands.max(1) as f64 * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let u = t - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |p: f64, q: f64| (((p + (q - p) * u) + 255.0) / 2.0).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Cells of the grid behind a contour plot: fine enough for smooth
/// bands, coarse enough to keep the SVG small.
const GRID: (usize, usize) = (120, 100);

fn draw_surface(area: &Area<'_>, s: &Surface<'_>) -> DrawResult {
    let mut ctx = ChartBuilder::on(area)
        .caption(s.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(s.x.0..s.x.1, s.y.0..s.y.1)?;
    ctx.configure_mesh()
        .disable_mesh()
        .x_desc("x")
        .y_desc("y")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    let grid = Grid::sample(s.x, s.y, GRID.0, GRID.1, s.f);
    let colors = s.levels.len();
    ctx.draw_series(std::iter::once(Rectangle::new(
        [(s.x.0, s.y.0), (s.x.1, s.y.1)],
        band_color(0, colors).filled(),
    )))?;
    for region in regions(&grid, &s.levels) {
        let outline = thin(region.outline.into_iter(), |p| ctx.backend_coord(p));
        let fill = band_color(region.band, colors).filled();
        ctx.draw_series(std::iter::once(Polygon::new(outline, fill)))?;
    }
    let contour = RGBColor(90, 90, 90).mix(0.6).stroke_width(1);
    for &level in &s.levels {
        for line in level_lines(&grid, level) {
            let line = thin(line.into_iter(), |p| ctx.backend_coord(p));
            ctx.draw_series(std::iter::once(PathElement::new(line, contour)))?;
        }
    }
    let inside = |p: &(f64, f64)| p.0 >= s.x.0 && p.0 <= s.x.1 && p.1 >= s.y.0 && p.1 <= s.y.1;
    let mut ends = Vec::new();
    for path in &s.paths {
        // Up to where it leaves the plot.
        let shown = path.points.iter().copied().take_while(inside);
        let kept = thin(shown, |p| ctx.backend_coord(p));
        let style = path.color.stroke_width(2);
        let anno = ctx.draw_series(std::iter::once(PathElement::new(kept.clone(), style)))?;
        if !path.name.is_empty() {
            let color = path.color;
            anno.label(path.name.as_str())
                .legend(move |(x, y)| legend_mark!(x, y, color, false));
        }
        if let Some(&start) = kept.first() {
            ctx.draw_series(std::iter::once(Circle::new(
                start,
                5,
                BLACK.stroke_width(2),
            )))?;
        }
        ends.extend(kept.last().map(|&end| (end, path.color)));
    }
    // The ends go over every path, so none hides another's.
    ctx.draw_series(ends.iter().map(|&(end, color)| {
        EmptyElement::at(end)
            + Circle::new((0, 0), 5, color.filled())
            + Circle::new((0, 0), 5, WHITE.stroke_width(1))
    }))?;
    ctx.draw_series(
        s.marks
            .iter()
            .map(|&p| Cross::new(p, 6, BLACK.stroke_width(2))),
    )?;
    if s.paths.iter().any(|p| !p.name.is_empty()) {
        ctx.configure_series_labels()
            .position(s.legend.clone())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}
