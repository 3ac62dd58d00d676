//! A picture laid out in data coordinates, before any backend draws it: a title, two axes and
//! layers of marks (points, lines, bars), each with a colour and an optional legend label.
//! Frames' plots and models' plots both build one; `render` draws it as SVG or PNG.
//!
//! All coordinates are `f64`: dates are days since 1970-01-01, datetimes seconds since the
//! epoch, categories their index; the axis [`Scale`] turns tick positions back into labels.

/// An RGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The ten colours of matplotlib's default cycle ("tab10"), the ones data-science users know.
pub const PALETTE: [Rgb; 10] = [
    Rgb(0x1f, 0x77, 0xb4),
    Rgb(0xff, 0x7f, 0x0e),
    Rgb(0x2c, 0xa0, 0x2c),
    Rgb(0xd6, 0x27, 0x28),
    Rgb(0x94, 0x67, 0xbd),
    Rgb(0x8c, 0x56, 0x4b),
    Rgb(0xe3, 0x77, 0xc2),
    Rgb(0x7f, 0x7f, 0x7f),
    Rgb(0xbc, 0xbd, 0x22),
    Rgb(0x17, 0xbe, 0xcf),
];

/// The `i`th colour of the cycle.
pub fn palette(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// Viridis at `t` in [0, 1] (interpolated between five of its stops): a colour scale that
/// stays readable in grey and for colour-blind readers.
pub fn viridis(t: f64) -> Rgb {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// How axis positions read as labels.
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    /// Plain numbers.
    Linear,
    /// Fractions shown as percentages.
    Percent,
    /// Days since 1970-01-01.
    Date,
    /// Seconds since the epoch; `utc` when the column had a time zone (shown in UTC).
    DateTime { utc: bool },
    /// Names at positions 0, 1, 2, ...
    Categories(Vec<String>),
}

/// One axis: its label, scale and whether its range must include zero (bars start there).
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub include_zero: bool,
}

impl Axis {
    /// A linear axis named `label`.
    pub fn linear(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            scale: Scale::Linear,
            include_zero: false,
        }
    }
}

/// The shape of a point mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Circle,
    /// A bold `x`, for cluster centres.
    Cross,
}

/// What a layer draws.
#[derive(Clone, Debug)]
pub enum Mark {
    /// A point at each (x, y); non-finite pairs are skipped.
    Points {
        xs: Vec<f64>,
        ys: Vec<f64>,
        radius: u32,
        shape: Shape,
    },
    /// A polyline through the points in order; a non-finite value breaks it.
    Line {
        xs: Vec<f64>,
        ys: Vec<f64>,
        width: u32,
        /// Also mark each vertex (short lines such as a cumulative-variance curve).
        markers: bool,
    },
    /// Bars from 0 to `heights[i]` spanning `lo[i]..hi[i]` on the x axis.
    Bars {
        lo: Vec<f64>,
        hi: Vec<f64>,
        heights: Vec<f64>,
        /// Fill opacity (below 1 when histograms overlap).
        opacity: f64,
    },
}

/// Marks of one colour, with a legend entry when `label` is set.
#[derive(Clone, Debug)]
pub struct Layer {
    pub label: Option<String>,
    pub color: Rgb,
    pub mark: Mark,
}

/// A whole picture in data coordinates.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Empty for no title.
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub layers: Vec<Layer>,
}

impl Figure {
    /// Every (x, y) corner or point the layers occupy, for ranges and legend placement.
    pub fn extents(&self) -> (Vec<f64>, Vec<f64>) {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for layer in &self.layers {
            match &layer.mark {
                Mark::Points { xs: px, ys: py, .. } | Mark::Line { xs: px, ys: py, .. } => {
                    for (x, y) in px.iter().zip(py) {
                        if x.is_finite() && y.is_finite() {
                            xs.push(*x);
                            ys.push(*y);
                        }
                    }
                }
                Mark::Bars {
                    lo, hi, heights, ..
                } => {
                    for ((l, h), v) in lo.iter().zip(hi).zip(heights) {
                        if l.is_finite() && h.is_finite() && v.is_finite() {
                            xs.extend([*l, *h]);
                            ys.extend([0.0, *v]);
                        }
                    }
                }
            }
        }
        (xs, ys)
    }

    /// How much data lies in the box `x` by `y`: one per point or line vertex inside, ten per
    /// bar reaching into it (a bar of no height is invisible and counts nothing).
    pub fn occupancy(&self, (xa, xb): (f64, f64), (ya, yb): (f64, f64)) -> usize {
        let inside = |x: f64, y: f64| x >= xa && x <= xb && y >= ya && y <= yb;
        let mut n = 0;
        for layer in &self.layers {
            match &layer.mark {
                Mark::Points { xs, ys, .. } | Mark::Line { xs, ys, .. } => {
                    n += xs.iter().zip(ys).filter(|(x, y)| inside(**x, **y)).count();
                }
                Mark::Bars {
                    lo, hi, heights, ..
                } => {
                    for ((l, h), v) in lo.iter().zip(hi).zip(heights) {
                        let (bottom, top) = if *v < 0.0 { (*v, 0.0) } else { (0.0, *v) };
                        if *v != 0.0 && *l <= xb && *h >= xa && bottom <= yb && top >= ya {
                            n += 10;
                        }
                    }
                }
            }
        }
        n
    }

    /// The (x, y) data ranges the axes show: the data's extent with 4% padding (none at a zero
    /// that bars stand on), categories from -0.5 to n - 0.5, and a unit range around a single
    /// value or when there is no data.
    pub fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let (xs, ys) = self.extents();
        (range_of(&self.x, &xs), range_of(&self.y, &ys))
    }
}

fn range_of(axis: &Axis, values: &[f64]) -> (f64, f64) {
    if let Scale::Categories(names) = &axis.scale {
        return (-0.5, names.len().max(1) as f64 - 0.5);
    }
    let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if axis.include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if lo == hi {
        let half = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
        return (lo - half, hi + half);
    }
    let pad = (hi - lo) * 0.04;
    let lo = if axis.include_zero && lo == 0.0 {
        0.0
    } else {
        lo - pad
    };
    let hi = if axis.include_zero && hi == 0.0 {
        0.0
    } else {
        hi + pad
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(mark: Mark, include_zero: bool) -> Figure {
        let mut y = Axis::linear("y");
        y.include_zero = include_zero;
        Figure {
            title: String::new(),
            x: Axis::linear("x"),
            y,
            layers: vec![Layer {
                label: None,
                color: palette(0),
                mark,
            }],
        }
    }

    /// Bars over 0..1 and 1..2 of these heights, on a y axis from zero.
    fn two_bars(a: f64, b: f64) -> Figure {
        figure(
            Mark::Bars {
                lo: vec![0.0, 1.0],
                hi: vec![1.0, 2.0],
                heights: vec![a, b],
                opacity: 1.0,
            },
            true,
        )
    }

    #[test]
    fn ranges_pad_the_data_and_keep_bars_on_zero() {
        let f = figure(
            Mark::Points {
                xs: vec![0.0, 10.0, f64::NAN],
                ys: vec![5.0, 15.0, 1e9],
                radius: 3,
                shape: Shape::Circle,
            },
            false,
        );
        let ((x0, x1), (y0, y1)) = f.ranges();
        assert!((x0 + 0.4).abs() < 1e-12 && (x1 - 10.4).abs() < 1e-12);
        assert!((y0 - 4.6).abs() < 1e-12 && (y1 - 15.4).abs() < 1e-12);
        let (_, (y0, y1)) = two_bars(3.0, 5.0).ranges();
        assert_eq!(y0, 0.0);
        assert!((y1 - 5.2).abs() < 1e-12);
    }

    #[test]
    fn empty_and_constant_data_get_a_visible_range() {
        let f = figure(
            Mark::Line {
                xs: vec![],
                ys: vec![],
                width: 2,
                markers: false,
            },
            false,
        );
        assert_eq!(f.ranges(), ((0.0, 1.0), (0.0, 1.0)));
        let f = figure(
            Mark::Points {
                xs: vec![2.0, 2.0],
                ys: vec![0.0, 0.0],
                radius: 3,
                shape: Shape::Circle,
            },
            false,
        );
        assert_eq!(f.ranges(), ((1.9, 2.1), (-0.5, 0.5)));
    }

    #[test]
    fn occupancy_counts_points_and_visible_bars() {
        let f = two_bars(0.0, 5.0);
        assert_eq!(f.occupancy((0.0, 0.9), (0.0, 1.0)), 0);
        assert_eq!(f.occupancy((1.5, 3.0), (4.0, 6.0)), 10);
        assert_eq!(f.occupancy((1.5, 3.0), (6.0, 7.0)), 0);
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), Rgb(68, 1, 84));
        assert_eq!(viridis(1.0), Rgb(253, 231, 37));
        assert_eq!(viridis(f64::NAN), Rgb(68, 1, 84));
    }
}
