//! Drawing a [`Figure`] with plotters, as SVG (text) or PNG (rasterised into an RGB buffer, then
//! encoded by `png`).
//!
//! Text is laid out and rasterised with an embedded DejaVu Sans through plotters' `ab_glyph`
//! support, so pictures look the same everywhere and no system font library is needed. That
//! support keeps fonts in a process-wide table; the font is registered once under a family name
//! of its own (`DejaVu Sans, sans-serif`, which SVG output also carries as its CSS font list),
//! so it does not replace any font a host program registered.

use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use super::figure::{Figure, Layer, Mark, Rgb, Scale, Shape};
use super::thin::{thin_line, thin_points};
use super::ticks::ticks;
use crate::error::{Error, Result};

/// The family name the embedded font is registered under, and the SVG font list.
const FONT: &str = "DejaVu Sans, sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
const TITLE_SIZE: f64 = 20.0;
const LABEL_SIZE: f64 = 12.0;
const DESC_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 12.0;
/// Blank space around the chart, in pixels.
const MARGIN: u32 = 14;

fn font_ready() -> Result<()> {
    static READY: OnceLock<bool> = OnceLock::new();
    let ok = *READY.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Internal("the embedded font did not load".into()))
    }
}

fn draw_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("drawing the plot failed: {e}"))
}

/// The figure as an SVG document of `size` pixels.
pub fn svg(figure: &Figure, size: (u32, u32)) -> Result<String> {
    font_ready()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(figure, &root, false).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    Ok(out)
}

/// The figure as PNG bytes of `size` pixels.
pub fn png(figure: &Figure, size: (u32, u32)) -> Result<Vec<u8>> {
    font_ready()?;
    let (w, h) = size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(figure, &root, true).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(draw_error)?;
    writer.write_image_data(&rgb).map_err(draw_error)?;
    writer.finish().map_err(draw_error)?;
    Ok(out)
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn text_style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

/// The widest of the tick labels, in pixels.
fn widest<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ticks: &[(f64, String)],
    style: &TextStyle,
) -> std::result::Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut m = 0;
    for (_, s) in ticks {
        m = m.max(root.estimate_text_size(s, style)?.0);
    }
    Ok(m)
}

/// `text` cut with an ellipsis to at most `room` pixels wide.
fn fit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    room: u32,
) -> std::result::Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    if root.estimate_text_size(text, style)?.0 <= room {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let cut: String = chars[..n].iter().collect::<String>() + "…";
        if root.estimate_text_size(&cut, style)?.0 <= room {
            return Ok(cut);
        }
    }
    Ok("…".into())
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draw `figure` on `root`; `raster` for a bitmap (see `Mark::Line` in `draw_layer`).
fn draw<DB: DrawingBackend>(
    figure: &Figure,
    root: &DrawingArea<DB, Shift>,
    raster: bool,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    let ((x0, x1), (y0, y1)) = figure.ranges();
    let y_ticks = ticks(&figure.y.scale, y0, y1, (h as usize / 60).clamp(2, 10));
    let label = text_style(LABEL_SIZE);
    let y_area = widest(root, &y_ticks, &label)? + 38;
    let plot_w = w.saturating_sub(y_area + 2 * MARGIN).max(1);
    // Categories are all named when their names fit side by side; otherwise the names run
    // downwards (one every 16 pixels at most) and are shortened to fit the label area.
    let (mut x_ticks, rotate) = match &figure.x.scale {
        Scale::Categories(names) => {
            let all = ticks(&figure.x.scale, x0, x1, names.len());
            let mut total = 0;
            for (_, s) in &all {
                total += root.estimate_text_size(s, &label)?.0 + 10;
            }
            if total <= plot_w {
                (all, false)
            } else {
                let n = (plot_w / 16).max(2) as usize;
                (ticks(&figure.x.scale, x0, x1, n), true)
            }
        }
        scale => (ticks(scale, x0, x1, (w as usize / 110).clamp(2, 12)), false),
    };
    let x_area = if rotate {
        let room = (h / 3).saturating_sub(40).max(30);
        for t in &mut x_ticks {
            t.1 = fit(root, &t.1, &label, room)?;
        }
        widest(root, &x_ticks, &label)? + 40
    } else {
        48
    };

    let mut builder = ChartBuilder::on(root);
    builder
        .margin(MARGIN)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    if !figure.title.is_empty() {
        builder.caption(&figure.title, text_style(TITLE_SIZE));
    }
    let keys = |t: &[(f64, String)]| t.iter().map(|t| t.0).collect();
    let mut chart = builder.build_cartesian_2d(
        Ticked {
            lo: x0,
            hi: x1,
            keys: keys(&x_ticks),
        },
        Ticked {
            lo: y0,
            hi: y1,
            keys: keys(&y_ticks),
        },
    )?;

    let name_of = |t: &[(f64, String)], v: f64| {
        t.iter()
            .find(|(p, _)| *p == v)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    };
    // Rotated names are drawn below (plotters centres a rotated label on its tick, half of
    // it above the axis), so the mesh gets empty ones.
    let fx = |v: &f64| {
        if rotate {
            String::new()
        } else {
            name_of(&x_ticks, *v)
        }
    };
    let fy = |v: &f64| name_of(&y_ticks, *v);
    chart
        .configure_mesh()
        .x_desc(figure.x.label.as_str())
        .y_desc(figure.y.label.as_str())
        .x_label_style(label.clone())
        .y_label_style(label.clone())
        .axis_desc_style(text_style(DESC_SIZE))
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .bold_line_style(RGBColor(0, 0, 0).mix(0.08))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(0, 0, 0).mix(0.6))
        .draw()?;
    if rotate {
        let style = label
            .clone()
            .transform(FontTransform::Rotate90)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (v, name) in &x_ticks {
            let (px, py) = chart.backend_coord(&(*v, y0));
            root.draw_text(name, &style, (px, py + 8))?;
        }
    }

    let mut legend = false;
    for layer in &figure.layers {
        legend |= layer.label.is_some();
        draw_layer(&mut chart, layer, raster)?;
    }
    if legend {
        chart
            .configure_series_labels()
            .position(legend_corner(figure, (x0, x1), (y0, y1)))
            .label_font(text_style(LEGEND_SIZE))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0, 0, 0).mix(0.3))
            .draw()?;
    }
    Ok(())
}

/// A linear `f64` axis whose ticks are exactly `keys` (computed by `ticks`), with no minor
/// grid. plotters' own float axis picks its ticks itself, and its key-point wrapper loses the
/// value formatting the mesh needs.
struct Ticked {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        // `as` saturates, so a far-off value lands outside the plot, not on it.
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

fn draw_layer<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    layer: &Layer,
    raster: bool,
) -> DrawResult<DB> {
    let c = color(layer.color);
    let dims = chart.plotting_area().dim_in_pixel();
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let (xr, yr) = ((xr.start, xr.end), (yr.start, yr.end));
    let finite = |xs: &[f64], ys: &[f64]| -> Vec<(f64, f64)> {
        xs.iter()
            .zip(ys)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| (*x, *y))
            .collect()
    };
    match &layer.mark {
        Mark::Points {
            xs,
            ys,
            radius,
            shape,
        } => {
            let r = *radius as i32;
            let pts = thin_points(finite(xs, ys), xr, yr, dims);
            match shape {
                Shape::Circle => {
                    chart.draw_series(
                        pts.into_iter()
                            .map(|p| Circle::new(p, r, c.mix(0.75).filled())),
                    )?;
                }
                Shape::Cross => {
                    let style = ShapeStyle::from(&c).stroke_width(3);
                    chart.draw_series(pts.into_iter().map(|p| Cross::new(p, r, style)))?;
                }
            }
        }
        Mark::Line {
            xs,
            ys,
            width,
            markers,
        } => {
            // A missing value ends one run of the line and the next finite value starts another.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (x, y) in xs.iter().zip(ys) {
                if x.is_finite() && y.is_finite() {
                    if let Some(run) = runs.last_mut() {
                        run.push((*x, *y));
                    }
                } else if runs.last().is_some_and(|r| !r.is_empty()) {
                    runs.push(Vec::new());
                }
            }
            let runs: Vec<Vec<(f64, f64)>> = runs
                .into_iter()
                .map(|run| thin_line(run, xr, dims.0))
                .collect();
            if raster && *width > 1 {
                // plotters fills a wide polyline as one polygon, which a jagged line turns into
                // spikes and holes; hairlines shifted pixel by pixel give the width instead.
                let ux = (xr.1 - xr.0) / f64::from(dims.0.max(1));
                let uy = (yr.1 - yr.0) / f64::from(dims.1.max(1));
                let style = ShapeStyle::from(&c).stroke_width(1);
                for k in 0..*width {
                    let k = f64::from(k);
                    for (dx, dy) in [(k * ux, 0.0), (0.0, k * uy)] {
                        chart.draw_series(runs.iter().map(|run| {
                            PathElement::new(
                                run.iter()
                                    .map(|(x, y)| (x + dx, y + dy))
                                    .collect::<Vec<_>>(),
                                style,
                            )
                        }))?;
                    }
                }
            } else {
                let style = ShapeStyle::from(&c).stroke_width(*width);
                chart.draw_series(runs.into_iter().map(|run| PathElement::new(run, style)))?;
            }
            if *markers {
                let pts = finite(xs, ys);
                chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))?;
            }
        }
        Mark::Bars {
            lo,
            hi,
            heights,
            opacity,
        } => {
            let fill = c.mix(*opacity).filled();
            let rects: Vec<[(f64, f64); 2]> = lo
                .iter()
                .zip(hi)
                .zip(heights)
                .filter(|((l, h), v)| l.is_finite() && h.is_finite() && v.is_finite())
                .map(|((l, h), v)| [(*l, 0.0), (*h, *v)])
                .collect();
            chart.draw_series(rects.iter().map(|r| Rectangle::new(*r, fill)))?;
            // A hairline edge keeps neighbouring bars apart.
            let edge = ShapeStyle::from(&WHITE).stroke_width(1);
            chart.draw_series(rects.iter().map(|r| Rectangle::new(*r, edge)))?;
        }
    }
    if let Some(label) = &layer.label {
        let glyph = match &layer.mark {
            Mark::Points { shape, .. } => Glyph::Point(*shape),
            Mark::Line { width, .. } => Glyph::Line(*width),
            Mark::Bars { opacity, .. } => Glyph::Bar(*opacity),
        };
        // An empty series carries the legend entry, drawn with the layer's mark.
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(label.as_str())
            .legend(move |(x, y)| legend_glyph::<DB>(glyph, c, x, y));
    }
    Ok(())
}

/// What a legend entry shows.
#[derive(Clone, Copy)]
enum Glyph {
    Point(Shape),
    Line(u32),
    Bar(f64),
}

fn legend_glyph<DB: DrawingBackend>(
    glyph: Glyph,
    c: RGBColor,
    x: i32,
    y: i32,
) -> DynElement<'static, DB, (i32, i32)> {
    match glyph {
        Glyph::Point(Shape::Circle) => Circle::new((x + 8, y), 4, c.filled()).into_dyn(),
        Glyph::Point(Shape::Cross) => {
            Cross::new((x + 8, y), 5, ShapeStyle::from(&c).stroke_width(3)).into_dyn()
        }
        Glyph::Line(width) => PathElement::new(
            vec![(x, y), (x + 18, y)],
            ShapeStyle::from(&c).stroke_width(width),
        )
        .into_dyn(),
        Glyph::Bar(opacity) => {
            Rectangle::new([(x + 2, y - 5), (x + 16, y + 5)], c.mix(opacity).filled()).into_dyn()
        }
    }
}

/// Where the legend hides the least data: the corners, then the middle of either side (upper
/// right on ties), judged by [`Figure::occupancy`] of a box 35% of the plot on a side.
fn legend_corner(
    figure: &Figure,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    let (wx, wy) = ((x1 - x0) * 0.35, (y1 - y0) * 0.35);
    let (left, right) = ((x0, x0 + wx), (x1 - wx, x1));
    let (low, mid, high) = (
        (y0, y0 + wy),
        (y0 + (y1 - y0 - wy) / 2.0, y1 - (y1 - y0 - wy) / 2.0),
        (y1 - wy, y1),
    );
    let candidates = [
        (SeriesLabelPosition::UpperRight, right, high),
        (SeriesLabelPosition::UpperLeft, left, high),
        (SeriesLabelPosition::LowerRight, right, low),
        (SeriesLabelPosition::LowerLeft, left, low),
        (SeriesLabelPosition::MiddleRight, right, mid),
        (SeriesLabelPosition::MiddleLeft, left, mid),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, xs, ys) in candidates {
        let n = figure.occupancy(xs, ys);
        if n < best.0 {
            best = (n, pos);
        }
    }
    best.1
}
