//! From a collected frame to a [`Figure`]: columns become axis positions (numbers, dates as
//! days, datetimes as seconds), `color_by` becomes groups or a colour scale, histograms are
//! counted (NumPy's binning), and titles and axis labels come from the column names.

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::figure::{palette, viridis, Axis, Figure, Layer, Mark, Scale, Shape};
use crate::error::{Error, Result};
use crate::frame::display::format_float;
use crate::frame::DataFrame;

/// Numbers with at most this many distinct values colour as categories; more get a scale.
const MAX_NUMERIC_CATEGORIES: usize = 10;
/// Line plots and histograms draw one series per group; past this it is unreadable.
const MAX_GROUPS: usize = 50;
/// Colour bands a continuous colour scale is drawn with.
const SCALE_BANDS: usize = 32;

/// What a frame's plot draws.
#[derive(Clone, Debug)]
pub enum Kind {
    Scatter { x: String, y: String },
    Line { x: String, ys: Vec<String> },
    Hist { column: String, bins: usize },
    Bar { label: String, value: String },
}

impl Kind {
    /// The columns it reads, in order.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Kind::Scatter { x, y } => vec![x, y],
            Kind::Line { x, ys } => std::iter::once(x.as_str())
                .chain(ys.iter().map(String::as_str))
                .collect(),
            Kind::Hist { column, .. } => vec![column],
            Kind::Bar { label, value } => vec![label, value],
        }
    }

    /// In words, for `text/plain` and the default title.
    pub fn describe(&self) -> String {
        match self {
            Kind::Scatter { x, y } => format!("scatter of {y} against {x}"),
            Kind::Line { x, ys } => format!("line of {} over {x}", ys.join(", ")),
            Kind::Hist { column, bins } => format!("histogram of {column} in {bins} bins"),
            Kind::Bar { label, value } => format!("bars of {value} by {label}"),
        }
    }
}

/// Lay out `kind` over `df` (which holds the plotted columns).
pub fn figure(df: &DataFrame, kind: &Kind, color_by: Option<&str>) -> Result<Figure> {
    match kind {
        Kind::Scatter { x, y } => scatter(df, x, y, color_by, true),
        Kind::Line { x, ys } => line(df, x, ys, color_by),
        Kind::Hist { column, bins } => hist(df, column, *bins, color_by),
        Kind::Bar { label, value } => {
            if let Some(c) = color_by {
                return Err(Error::Plan(format!(
                    "color_by(\"{c}\") does not apply to a bar chart (one bar per row); \
                     use it with scatter, line or hist"
                )));
            }
            bar(df, label, value)
        }
    }
}

/// A column as axis positions: `NaN` where null.
pub struct Positions {
    pub values: Vec<f64>,
    pub scale: Scale,
}

/// Read `name` as positions on an axis; `role` says what needs it, for the error.
pub fn positions(df: &DataFrame, name: &str, role: &str) -> Result<Positions> {
    let a = df.column(name)?;
    let (values, scale) = match a.data_type() {
        DataType::Date32 => (int_values(a, 1.0)?, Scale::Date),
        DataType::Date64 => (int_values(a, 86_400_000.0)?, Scale::Date),
        DataType::Timestamp(unit, tz) => {
            let per_second = match unit {
                TimeUnit::Second => 1.0,
                TimeUnit::Millisecond => 1e3,
                TimeUnit::Microsecond => 1e6,
                TimeUnit::Nanosecond => 1e9,
            };
            (
                int_values(a, per_second)?,
                Scale::DateTime { utc: tz.is_some() },
            )
        }
        t if t.is_numeric() || *t == DataType::Boolean => (float_values(a)?, Scale::Linear),
        t => {
            return Err(Error::Type(format!(
                "column \"{name}\" is {}; {role} needs numbers, dates or datetimes",
                crate::frame::display::dtype_name(t)
            )))
        }
    };
    Ok(Positions { values, scale })
}

fn float_values(a: &ArrayRef) -> Result<Vec<f64>> {
    let f = arrow::compute::cast(a, &DataType::Float64)?;
    let f = f
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| Error::Internal("cast to Float64 gave another type".into()))?;
    Ok(f.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// Integer-backed dates and times divided by `per_unit` (to days or seconds).
fn int_values(a: &ArrayRef, per_unit: f64) -> Result<Vec<f64>> {
    let i = arrow::compute::cast(a, &DataType::Int64)?;
    let i = i
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| Error::Internal("cast to Int64 gave another type".into()))?;
    Ok(i.iter()
        .map(|v| v.map_or(f64::NAN, |v| v as f64 / per_unit))
        .collect())
}

/// A cell as a legend or bar label: text without quotes, `null` for null.
pub fn label_text(a: &ArrayRef, row: usize, formatter: &ArrayFormatter) -> String {
    if a.is_null(row) {
        return "null".into();
    }
    match a.data_type() {
        DataType::Float64 | DataType::Float32 => match float_at(a, row) {
            Some(v) => format_float(v),
            None => formatter.value(row).to_string(),
        },
        _ => formatter.value(row).to_string(),
    }
}

fn float_at(a: &ArrayRef, row: usize) -> Option<f64> {
    let s = arrow::compute::cast(&a.slice(row, 1), &DataType::Float64).ok()?;
    s.as_any()
        .downcast_ref::<Float64Array>()
        .map(|f| f.value(0))
}

/// How `color_by` colours rows.
enum Colors {
    /// One group per distinct value: its name, and the group of every row.
    Groups {
        names: Vec<String>,
        of_row: Vec<usize>,
    },
    /// A continuous scale over numbers (NaN where null).
    Scale { values: Vec<f64> },
}

/// Group rows by `name`'s values: numbers in ascending order (NaN, then null, last), anything
/// else in order of first appearance. Numbers with many distinct values get a colour scale
/// when `allow_scale`.
fn colors(df: &DataFrame, name: &str, allow_scale: bool) -> Result<Colors> {
    let a = df.column(name)?;
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(a.as_ref(), &options)?;
    if a.data_type().is_numeric() {
        let values = float_values(a)?;
        let mut distinct: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if allow_scale && distinct.len() > MAX_NUMERIC_CATEGORIES {
            return Ok(Colors::Scale { values });
        }
        // Names come from a row holding each value, so integers print as integers.
        let has_nan = (0..a.len()).any(|r| a.is_valid(r) && values[r].is_nan());
        let nan_slot = distinct.len();
        let null_slot = nan_slot + usize::from(has_nan);
        let mut names = vec![String::new(); distinct.len()];
        if has_nan {
            names.push("NaN".into());
        }
        if a.null_count() > 0 {
            names.push("null".into());
        }
        let mut of_row = Vec::with_capacity(values.len());
        for (row, v) in values.iter().enumerate() {
            let slot = if a.is_null(row) {
                null_slot
            } else if v.is_nan() {
                nan_slot
            } else {
                let i = distinct.partition_point(|d| d < v);
                if names[i].is_empty() {
                    names[i] = label_text(a, row, &formatter);
                }
                i
            };
            of_row.push(slot);
        }
        return Ok(Colors::Groups { names, of_row });
    }
    let mut names: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut of_row = Vec::with_capacity(a.len());
    for row in 0..a.len() {
        let text = label_text(a, row, &formatter);
        let g = *index.entry(text.clone()).or_insert_with(|| {
            names.push(text);
            names.len() - 1
        });
        of_row.push(g);
    }
    Ok(Colors::Groups { names, of_row })
}

/// Groups for a plot that draws one series per group, or an error when there are too many.
fn groups(df: &DataFrame, name: &str, what: &str) -> Result<(Vec<String>, Vec<usize>)> {
    match colors(df, name, false)? {
        Colors::Groups { names, of_row } if names.len() <= MAX_GROUPS => Ok((names, of_row)),
        Colors::Groups { names, .. } => Err(Error::Plan(format!(
            "color_by(\"{name}\") has {} distinct values; {what} draws one series per value, \
             at most {MAX_GROUPS}",
            names.len()
        ))),
        Colors::Scale { .. } => Err(Error::Internal("a scale where groups were asked".into())),
    }
}

fn axis(label: &str, scale: Scale) -> Axis {
    Axis {
        label: label.into(),
        scale,
        include_zero: false,
    }
}

fn point_radius(n: usize) -> u32 {
    match n {
        0..=300 => 4,
        301..=3000 => 3,
        _ => 2,
    }
}

/// A scatter plot; `allow_scale` lets a numeric `color_by` with many values use a colour scale
/// (a model's cluster labels always colour as groups).
pub fn scatter(
    df: &DataFrame,
    x: &str,
    y: &str,
    color_by: Option<&str>,
    allow_scale: bool,
) -> Result<Figure> {
    let px = positions(df, x, "a scatter plot's x axis")?;
    let py = positions(df, y, "a scatter plot's y axis")?;
    let radius = point_radius(df.height());
    let points = |rows: &mut dyn Iterator<Item = usize>| {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for r in rows {
            xs.push(px.values[r]);
            ys.push(py.values[r]);
        }
        Mark::Points {
            xs,
            ys,
            radius,
            shape: Shape::Circle,
        }
    };
    let mut title = format!("{y} against {x}");
    let layers = match color_by {
        None => vec![Layer {
            label: None,
            color: palette(0),
            mark: points(&mut (0..df.height())),
        }],
        Some(c) => {
            title.push_str(&format!(" by {c}"));
            match colors(df, c, allow_scale)? {
                Colors::Groups { names, of_row } => names
                    .iter()
                    .enumerate()
                    .map(|(g, n)| Layer {
                        label: Some(format!("{c} = {n}")),
                        color: palette(g),
                        mark: points(&mut (0..df.height()).filter(|r| of_row[*r] == g)),
                    })
                    .collect(),
                Colors::Scale { values } => {
                    scale_layers(c, &values, &mut |rows| points(&mut rows.iter().copied()))
                }
            }
        }
    };
    Ok(Figure {
        title,
        x: axis(x, px.scale),
        y: axis(y, py.scale),
        layers,
    })
}

/// Points coloured along viridis in bands, plus five legend-only entries naming the scale.
fn scale_layers(
    name: &str,
    values: &[f64],
    points: &mut dyn FnMut(&[usize]) -> Mark,
) -> Vec<Layer> {
    let lo = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut bands: Vec<Vec<usize>> = vec![Vec::new(); SCALE_BANDS];
    let mut missing = Vec::new();
    for (r, v) in values.iter().enumerate() {
        if v.is_finite() {
            let b = (((v - lo) / span) * SCALE_BANDS as f64) as usize;
            bands[b.min(SCALE_BANDS - 1)].push(r);
        } else {
            missing.push(r);
        }
    }
    let mut layers: Vec<Layer> = bands
        .iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(b, rows)| Layer {
            label: None,
            color: viridis((b as f64 + 0.5) / SCALE_BANDS as f64),
            mark: points(rows),
        })
        .collect();
    if !missing.is_empty() {
        layers.push(Layer {
            label: Some(format!("{name} = null/NaN")),
            color: super::figure::Rgb(0xbb, 0xbb, 0xbb),
            mark: points(&missing),
        });
    }
    if lo.is_finite() {
        for i in 0..5 {
            let t = i as f64 / 4.0;
            layers.push(Layer {
                label: Some(format!("{name} = {}", format_float(lo + t * (hi - lo)))),
                color: viridis(t),
                mark: points(&[]),
            });
        }
    }
    layers
}

fn line(df: &DataFrame, x: &str, ys: &[String], color_by: Option<&str>) -> Result<Figure> {
    if ys.is_empty() {
        return Err(Error::Plan(format!(
            "a line plot over \"{x}\" needs at least one y column"
        )));
    }
    let px = positions(df, x, "a line plot's x axis")?;
    let mut series = Vec::with_capacity(ys.len());
    let mut y_scale = Scale::Linear;
    for y in ys {
        let p = positions(df, y, "a line plot's y axis")?;
        y_scale = p.scale.clone();
        series.push((y, p.values));
    }
    let (names, of_row) = match color_by {
        Some(c) => groups(df, c, "a line plot")?,
        None => (vec![String::new()], vec![0; df.height()]),
    };
    let mut layers = Vec::new();
    for (g, group) in names.iter().enumerate() {
        for (y, values) in &series {
            let (mut xs, mut vs) = (Vec::new(), Vec::new());
            for r in (0..df.height()).filter(|r| of_row[*r] == g) {
                // A row without an x has no place on the line; a missing y breaks it.
                if px.values[r].is_nan() {
                    continue;
                }
                xs.push(px.values[r]);
                vs.push(values[r]);
            }
            let label = match color_by {
                Some(c) if series.len() == 1 => Some(format!("{c} = {group}")),
                Some(c) => Some(format!("{y} ({c} = {group})")),
                None if series.len() > 1 => Some(y.to_string()),
                None => None,
            };
            // A dense line reads better thin (it is mostly vertical strokes).
            let width = if xs.len() > 400 { 1 } else { 2 };
            layers.push(Layer {
                label,
                color: palette(layers.len()),
                mark: Mark::Line {
                    xs,
                    ys: vs,
                    width,
                    markers: false,
                },
            });
        }
    }
    let joined = ys.join(", ");
    let mut title = format!("{joined} over {x}");
    if let Some(c) = color_by {
        title.push_str(&format!(" by {c}"));
    }
    let y_label = if ys.len() <= 3 {
        joined
    } else {
        "value".into()
    };
    Ok(Figure {
        title,
        x: axis(x, px.scale),
        y: axis(&y_label, y_scale),
        layers,
    })
}

/// `bins + 1` edges from `lo` to `hi` as `numpy.linspace` computes them (`i * step + lo`, the
/// last one exactly `hi`), so values on an edge land in the bin NumPy puts them in.
fn bin_edges(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let step = (hi - lo) / bins as f64;
    (0..=bins)
        .map(|i| if i == bins { hi } else { i as f64 * step + lo })
        .collect()
}

/// NumPy's `histogram` with `bins` equal bins over [min, max] (a unit range around a constant):
/// a value's bin is computed from its offset, then corrected against the edges, and the maximum
/// falls in the last bin.
pub fn bin_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<u64> {
    let edges = bin_edges(lo, hi, bins);
    let norm = bins as f64 / (hi - lo);
    let mut counts = vec![0u64; bins];
    for &v in values {
        if v < lo || v > hi || !v.is_finite() {
            continue;
        }
        let mut i = (((v - lo) * norm) as usize).min(bins - 1);
        if v < edges[i] {
            i = i.saturating_sub(1);
        } else if i + 1 < bins && v >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1;
    }
    counts
}

fn hist(df: &DataFrame, column: &str, bins: usize, color_by: Option<&str>) -> Result<Figure> {
    if bins == 0 {
        return Err(Error::Plan(format!(
            "a histogram of \"{column}\" needs at least one bin"
        )));
    }
    let p = positions(df, column, "a histogram")?;
    let finite: Vec<f64> = p.values.iter().copied().filter(|v| v.is_finite()).collect();
    let mut lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if finite.is_empty() {
        (lo, hi) = (0.0, 1.0);
    } else if lo == hi {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let edges = bin_edges(lo, hi, bins);
    let lows = edges[..bins].to_vec();
    let highs = edges[1..].to_vec();
    let bars = |values: &[f64], opacity: f64| Mark::Bars {
        lo: lows.clone(),
        hi: highs.clone(),
        heights: bin_counts(values, lo, hi, bins)
            .into_iter()
            .map(|c| c as f64)
            .collect(),
        opacity,
    };
    let mut title = format!("Histogram of {column}");
    let layers = match color_by {
        None => vec![Layer {
            label: None,
            color: palette(0),
            mark: bars(&finite, 1.0),
        }],
        Some(c) => {
            title.push_str(&format!(" by {c}"));
            let (names, of_row) = groups(df, c, "a histogram")?;
            names
                .iter()
                .enumerate()
                .map(|(g, n)| {
                    let values: Vec<f64> = (0..df.height())
                        .filter(|r| of_row[*r] == g)
                        .map(|r| p.values[r])
                        .collect();
                    Layer {
                        label: Some(format!("{c} = {n}")),
                        color: palette(g),
                        mark: bars(&values, 0.55),
                    }
                })
                .collect()
        }
    };
    let mut y = Axis::linear("count");
    y.include_zero = true;
    Ok(Figure {
        title,
        x: axis(column, p.scale),
        y,
        layers,
    })
}

fn bar(df: &DataFrame, label: &str, value: &str) -> Result<Figure> {
    let labels = df.column(label)?;
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(labels.as_ref(), &options)?;
    let names: Vec<String> = (0..df.height())
        .map(|r| label_text(labels, r, &formatter))
        .collect();
    let v = positions(df, value, "a bar chart's heights")?;
    if v.scale != Scale::Linear {
        return Err(Error::Type(format!(
            "column \"{value}\" holds dates or times; a bar chart's heights need numbers"
        )));
    }
    let n = names.len();
    let mut y = Axis::linear(value);
    y.include_zero = true;
    Ok(Figure {
        title: format!("{value} by {label}"),
        x: axis(label, Scale::Categories(names)),
        y,
        layers: vec![Layer {
            label: None,
            color: palette(0),
            mark: Mark::Bars {
                lo: (0..n).map(|i| i as f64 - 0.4).collect(),
                hi: (0..n).map(|i| i as f64 + 0.4).collect(),
                heights: v.values,
                opacity: 1.0,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df;

    #[test]
    fn histogram_counts_match_numpy() {
        // Expected counts from numpy.histogram(values, bins) (NumPy 2).
        let lo_hi = |v: &[f64]| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            (lo, v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        };
        let cases: Vec<(Vec<f64>, usize, Vec<u64>)> = vec![
            // [0, 0.1, 0.2, 0.3, 0.7, 1.0], bins=5
            (vec![0.0, 0.1, 0.2, 0.3, 0.7, 1.0], 5, vec![2, 2, 0, 1, 1]),
            // np.arange(10) * 0.1, bins=3: 0.30000000000000004 is past the edge 0.3
            (
                (0..10).map(|i| f64::from(i) * 0.1).collect(),
                3,
                vec![3, 3, 4],
            ),
            // (np.arange(1, 30) * 0.1) ** 1.7, bins=7
            (
                (1..30).map(|i| (f64::from(i) * 0.1).powf(1.7)).collect(),
                7,
                vec![9, 4, 4, 3, 3, 3, 3],
            ),
            // [0.1 * i for i in range(100)], bins=9: edge corrections both ways
            (
                (0..100).map(|i| 0.1 * f64::from(i)).collect(),
                9,
                vec![11, 11, 11, 11, 11, 11, 12, 10, 12],
            ),
        ];
        for (v, bins, want) in cases {
            let (lo, hi) = lo_hi(&v);
            assert_eq!(bin_counts(&v, lo, hi, bins), want, "{v:?}");
        }
    }

    #[test]
    fn histogram_skips_missing_values_and_handles_a_constant() {
        let df = df!("x" => [Some(2.0), None, Some(f64::NAN), Some(2.0)]).expect("frame");
        let f = hist(&df, "x", 4, None).expect("figure");
        let Mark::Bars {
            heights, lo, hi, ..
        } = &f.layers[0].mark
        else {
            panic!("bars")
        };
        assert_eq!(heights.iter().sum::<f64>(), 2.0);
        assert_eq!((lo[0], hi[3]), (1.5, 2.5));
        assert!(matches!(
            hist(&df, "x", 0, None),
            Err(Error::Plan(m)) if m.contains("at least one bin")
        ));
    }

    #[test]
    fn integer_groups_are_numeric_and_ordered() {
        let df = df!("c" => [Some(10), Some(2), None, Some(2)]).expect("frame");
        let Colors::Groups { names, of_row } = colors(&df, "c", true).expect("groups") else {
            panic!("groups")
        };
        assert_eq!(names, vec!["2", "10", "null"]);
        assert_eq!(of_row, vec![1, 0, 2, 0]);
        let df = df!("s" => ["b", "a", "b"]).expect("frame");
        let Colors::Groups { names, of_row } = colors(&df, "s", true).expect("groups") else {
            panic!("groups")
        };
        assert_eq!(names, vec!["b", "a"]);
        assert_eq!(of_row, vec![0, 1, 0]);
        let df = df!("f" => (0..20).map(f64::from).collect::<Vec<f64>>()).expect("frame");
        assert!(matches!(colors(&df, "f", true), Ok(Colors::Scale { .. })));
    }

    #[test]
    fn text_columns_are_not_positions() {
        let df = df!("s" => ["a"], "x" => [1.0]).expect("frame");
        let e = scatter(&df, "s", "x", None, true).expect_err("an error");
        assert!(
            e.to_string()
                .contains("column \"s\" is str; a scatter plot's x axis needs numbers"),
            "{e}"
        );
    }
}
