//! Contours of a function of two variables sampled on a grid, by marching
//! squares: the level lines, and the filled regions between levels as a
//! few polygons (small SVG files, where one rectangle per grid cell would
//! take megabytes).

use std::collections::HashMap;

/// `f` sampled at `(nx + 1) × (ny + 1)` grid points over a rectangle.
pub struct Grid {
    /// The x range.
    pub x: (f64, f64),
    /// The y range.
    pub y: (f64, f64),
    /// Cells along x.
    pub nx: usize,
    /// Cells along y.
    pub ny: usize,
    /// `values[j * (nx + 1) + i] = f(x_i, y_j)`.
    pub values: Vec<f64>,
}

impl Grid {
    /// Samples `f` on an `nx × ny`-cell grid.
    pub fn sample(
        x: (f64, f64),
        y: (f64, f64),
        nx: usize,
        ny: usize,
        f: &dyn Fn(f64, f64) -> f64,
    ) -> Grid {
        let mut values = Vec::with_capacity((nx + 1) * (ny + 1));
        for j in 0..=ny {
            for i in 0..=nx {
                values.push(f(
                    lerp(x, i as f64 / nx as f64),
                    lerp(y, j as f64 / ny as f64),
                ));
            }
        }
        Grid {
            x,
            y,
            nx,
            ny,
            values,
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.values[j * (self.nx + 1) + i]
    }
}

fn lerp((a, b): (f64, f64), t: f64) -> f64 {
    a + (b - a) * t
}

/// The grid marching squares runs over: the samples, optionally ringed by
/// one row of points below every level that sit on the border itself, so
/// that every level line closes into a loop around its region.
struct Field<'a> {
    grid: &'a Grid,
    padded: bool,
}

/// Stands for "below every level" (finite, so interpolation stays finite).
const BELOW: f64 = -1e300;

impl Field<'_> {
    fn pad(&self) -> usize {
        usize::from(self.padded)
    }

    /// Points along x and y.
    fn size(&self) -> (usize, usize) {
        let p = 2 * self.pad();
        (self.grid.nx + 1 + p, self.grid.ny + 1 + p)
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        let (w, h) = self.size();
        let p = self.pad();
        if self.padded && (i == 0 || j == 0 || i == w - 1 || j == h - 1) {
            BELOW
        } else {
            self.grid.at(i - p, j - p)
        }
    }

    /// Grid index coordinates to the plane; the ring maps onto the border.
    fn position(&self, (u, v): (f64, f64)) -> (f64, f64) {
        let p = self.pad() as f64;
        let (nx, ny) = (self.grid.nx as f64, self.grid.ny as f64);
        (
            lerp(self.grid.x, ((u - p) / nx).clamp(0.0, 1.0)),
            lerp(self.grid.y, ((v - p) / ny).clamp(0.0, 1.0)),
        )
    }

    /// Where `f = level` crosses `edge`, in grid index coordinates.
    fn crossing(&self, edge: Edge, level: f64) -> (f64, f64) {
        let (i, j, di, dj) = match edge {
            Edge::Horizontal(i, j) => (i, j, 1, 0),
            Edge::Vertical(i, j) => (i, j, 0, 1),
        };
        let (a, b) = (self.at(i, j), self.at(i + di, j + dj));
        let t = if a == b {
            0.5
        } else {
            ((level - a) / (b - a)).clamp(0.0, 1.0)
        };
        (i as f64 + t * di as f64, j as f64 + t * dj as f64)
    }
}

/// A grid edge: the horizontal one from point `(i, j)` to `(i + 1, j)`, or
/// the vertical one from `(i, j)` to `(i, j + 1)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Horizontal(usize, usize),
    Vertical(usize, usize),
}

/// Marching squares: the pieces of `f = level` in each cell, each directed
/// so that the side where `f ≥ level` lies on its left.
fn segments(field: &Field<'_>, level: f64) -> Vec<(Edge, Edge)> {
    let (w, h) = field.size();
    let mut out = Vec::new();
    for j in 0..h - 1 {
        for i in 0..w - 1 {
            // Corners counterclockwise from bottom left; edge k runs from
            // corner k to corner k + 1.
            let values = [
                field.at(i, j),
                field.at(i + 1, j),
                field.at(i + 1, j + 1),
                field.at(i, j + 1),
            ];
            let above = values.map(|v| v >= level);
            let edges = [
                Edge::Horizontal(i, j),
                Edge::Vertical(i + 1, j),
                Edge::Horizontal(i, j + 1),
                Edge::Vertical(i, j),
            ];
            // Walking around the cell counterclockwise, a line enters where
            // the walk goes from below to above and leaves where it goes from
            // above to below; with the above side on the left, each piece
            // runs from a leaving edge to an entering one.
            let leaving = |k: usize| above[k] && !above[(k + 1) % 4];
            let crossed = (0..4).filter(|&k| above[k] != above[(k + 1) % 4]).count();
            match crossed {
                2 => {
                    let from = (0..4).find(|&k| leaving(k)).expect("one edge leaves");
                    let to = (0..4).find(|&k| !leaving(k) && above[k] != above[(k + 1) % 4]);
                    out.push((edges[from], edges[to.expect("one edge enters")]));
                }
                4 => {
                    // A saddle cell: the mean of the corners decides which two
                    // opposite corners the lines cut off. Corner k sits between
                    // edges k − 1 and k.
                    let centre = values.iter().sum::<f64>() / 4.0 >= level;
                    for k in (0..4).filter(|&k| above[k] != centre) {
                        let (before, after) = ((k + 3) % 4, k);
                        if leaving(before) {
                            out.push((edges[before], edges[after]));
                        } else {
                            out.push((edges[after], edges[before]));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Joins directed pieces into chains of crossed edges: open chains (from a
/// crossing nothing leads into) first, then closed loops (whose last edge
/// repeats the first).
fn chains(segments: &[(Edge, Edge)]) -> Vec<Vec<Edge>> {
    let from: HashMap<Edge, usize> = segments
        .iter()
        .enumerate()
        .map(|(s, &(a, _))| (a, s))
        .collect();
    let ends: std::collections::HashSet<Edge> = segments.iter().map(|&(_, b)| b).collect();
    let mut used = vec![false; segments.len()];
    let open = segments
        .iter()
        .enumerate()
        .filter(|(_, (a, _))| !ends.contains(a));
    let starts: Vec<usize> = open.map(|(s, _)| s).chain(0..segments.len()).collect();
    let mut out = Vec::new();
    for first in starts {
        if used[first] {
            continue;
        }
        let mut chain = vec![segments[first].0];
        let mut seg = first;
        loop {
            used[seg] = true;
            let end = segments[seg].1;
            chain.push(end);
            match from.get(&end) {
                Some(&next) if !used[next] => seg = next,
                _ => break,
            }
        }
        out.push(chain);
    }
    out
}

/// The level line `f = level` as polylines.
pub fn level_lines(grid: &Grid, level: f64) -> Vec<Vec<(f64, f64)>> {
    let field = Field {
        grid,
        padded: false,
    };
    chains(&segments(&field, level))
        .into_iter()
        .map(|c| {
            c.into_iter()
                .map(|e| field.position(field.crossing(e, level)))
                .collect()
        })
        .collect()
}

/// A closed outline and the band of the values just inside it.
pub struct Region {
    /// How many of the levels lie at or below the values inside.
    pub band: usize,
    /// The outline, closed.
    pub outline: Vec<(f64, f64)>,
}

/// The regions between `levels` (ascending) as closed outlines, largest
/// first. Filling the plot with band 0 and then every outline in order
/// with its band's colour draws the filled contours: outlines never cross,
/// so each point ends up with the colour of the smallest one around it.
pub fn regions(grid: &Grid, levels: &[f64]) -> Vec<Region> {
    let field = Field { grid, padded: true };
    let mut out: Vec<(f64, Region)> = Vec::new();
    for (k, &level) in levels.iter().enumerate() {
        for chain in chains(&segments(&field, level)) {
            let points: Vec<(f64, f64)> = chain.iter().map(|&e| field.crossing(e, level)).collect();
            // Shoelace, in grid coordinates (where no cell is degenerate).
            let area: f64 = points
                .iter()
                .zip(points.iter().cycle().skip(1))
                .map(|(a, b)| a.0 * b.1 - b.0 * a.1)
                .sum::<f64>()
                / 2.0;
            // Counterclockwise: the above side, on the left, is inside.
            let band = if area > 0.0 { k + 1 } else { k };
            let outline = points.into_iter().map(|p| field.position(p)).collect();
            out.push((area.abs(), Region { band, outline }));
        }
    }
    // Largest first. Equal areas only come from loops that both run all
    // along the border, around everything above their levels: the higher
    // level's must go on top, and the loops were pushed by ascending level,
    // which the stable sort keeps.
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.into_iter().map(|(_, r)| r).collect()
}
