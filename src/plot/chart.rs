//! The user-facing plot values: [`PlotBuilder`] (what `df.plot()` returns) and [`Plot`], a
//! description of a picture that is drawn when it is shown, saved or written by the CLI.
//!
//! A plot holds its data as a lazy query (a frame's plot is a scan of that frame), so a plot of
//! a file reads only the plotted columns, and errors such as an unknown column surface when it
//! is drawn, with the engine's message.

use std::path::Path;

use super::build::{self, Kind};
use super::figure::Figure;
use super::render;
use crate::error::{Error, Result};
use crate::expr::col;
use crate::frame::DataFrame;
use crate::plan::{ExecOptions, LazyFrame};

/// Default picture size in pixels (SVG user units), a landscape that fits a notebook cell.
pub const DEFAULT_SIZE: (u32, u32) = (800, 500);

/// The kinds of plot of a frame's columns: `df.plot().scatter("x", "y")` and friends.
#[derive(Clone, Debug)]
pub struct PlotBuilder {
    data: LazyFrame,
}

/// A picture: scatter, line, histogram or bar chart of a frame's columns, or a model's plot.
///
/// Titles and axis labels come from the column names unless set; date and datetime columns
/// give a calendar axis. Show it in an evcxr notebook (it displays as SVG), or write it:
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [1.0, 2.0, 3.0, 4.0], "y" => [1.0, 4.0, 9.0, 16.0], "g" => [0, 0, 1, 1])?;
/// let svg = df.plot().scatter("x", "y").color_by("g").to_svg()?;
/// assert!(svg.starts_with("<svg") && svg.contains("y against x"));
/// let png = df.plot().line("x", ["y"]).title("growth").to_png()?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Plot {
    source: Source,
    color_by: Option<String>,
    title: Option<String>,
    x_label: Option<String>,
    y_label: Option<String>,
    size: (u32, u32),
}

#[derive(Clone, Debug)]
enum Source {
    /// Columns of a query, drawn as `kind`.
    Frame { data: LazyFrame, kind: Kind },
    /// A picture built already (a model's plot), with the table it shows.
    Figure {
        figure: Box<Figure>,
        data: DataFrame,
    },
}

/// The picture formats [`Plot::save`] writes, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics (`.svg`).
    Svg,
    /// A PNG bitmap (`.png`).
    Png,
}

impl ImageFormat {
    /// The format for a path's extension (`.svg`, `.png`), if it is a picture.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(ImageFormat::Svg),
            "png" => Some(ImageFormat::Png),
            _ => None,
        }
    }
}

impl DataFrame {
    /// Plot this frame's columns: `df.plot().scatter("x", "y")`, `.line("date", ["close"])`,
    /// `.hist("x", 20)`, `.bar("label", "value")`. The frame is shared, not copied.
    pub fn plot(&self) -> PlotBuilder {
        self.clone().lazy().plot()
    }
}

impl LazyFrame {
    /// Plot this query's columns; it runs when the plot is drawn, reading only the plotted
    /// columns.
    pub fn plot(self) -> PlotBuilder {
        PlotBuilder { data: self }
    }
}

impl PlotBuilder {
    fn kind(self, kind: Kind) -> Plot {
        Plot::new(Source::Frame {
            data: self.data,
            kind,
        })
    }

    /// Points at (`x`, `y`) for every row where both are numbers (nulls and NaN are left
    /// out). Numeric, date or datetime columns.
    pub fn scatter(self, x: impl Into<String>, y: impl Into<String>) -> Plot {
        self.kind(Kind::Scatter {
            x: x.into(),
            y: y.into(),
        })
    }

    /// One line per column of `ys` against `x`, in row order; a null or NaN value breaks the
    /// line. `x` is typically a date: `.line("date", ["close", "close_ma20"])`.
    pub fn line<S: Into<String>>(
        self,
        x: impl Into<String>,
        ys: impl IntoIterator<Item = S>,
    ) -> Plot {
        self.kind(Kind::Line {
            x: x.into(),
            ys: ys.into_iter().map(Into::into).collect(),
        })
    }

    /// A histogram of `column` in `bins` equal-width bins from its minimum to its maximum, as
    /// `numpy.histogram` counts them (the last bin includes the maximum); nulls, NaN and
    /// infinities are left out.
    pub fn hist(self, column: impl Into<String>, bins: usize) -> Plot {
        self.kind(Kind::Hist {
            column: column.into(),
            bins,
        })
    }

    /// One bar per row: its height from `value` (numeric), its name from `label` (any type).
    pub fn bar(self, label: impl Into<String>, value: impl Into<String>) -> Plot {
        self.kind(Kind::Bar {
            label: label.into(),
            value: value.into(),
        })
    }
}

impl Plot {
    fn new(source: Source) -> Self {
        Self {
            source,
            color_by: None,
            title: None,
            x_label: None,
            y_label: None,
            size: DEFAULT_SIZE,
        }
    }

    /// A plot of a picture built already, with the table it shows (models' plots).
    pub(crate) fn from_figure(figure: Figure, data: DataFrame) -> Self {
        Self::new(Source::Figure {
            figure: Box::new(figure),
            data,
        })
    }

    /// Colour by the values of `column`: one colour and legend entry per value (up to ten
    /// distinct numbers, or any text), or a colour scale for numbers with more distinct values.
    /// Scatter plots colour points; line plots draw a line per value; histograms overlay one
    /// histogram per value. Bar charts and models' plots do not take it.
    pub fn color_by(mut self, column: impl Into<String>) -> Self {
        self.color_by = Some(column.into());
        self
    }

    /// Set the title (`""` for none). The default names the columns.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Set the x axis label. The default is the column name.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = Some(label.into());
        self
    }

    /// Set the y axis label. The default is the column name (or `count` for a histogram).
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = Some(label.into());
        self
    }

    /// Set the size in pixels (default 800 x 500; 64 to 8192 a side, checked when drawn).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// The query that gives the plotted columns (for a model's plot, a scan of its points).
    pub fn query(&self) -> LazyFrame {
        match &self.source {
            Source::Frame { data, kind } => {
                let mut names: Vec<&str> = kind.columns();
                if let Some(c) = &self.color_by {
                    names.push(c);
                }
                let mut unique: Vec<&str> = Vec::with_capacity(names.len());
                for n in names {
                    if !unique.contains(&n) {
                        unique.push(n);
                    }
                }
                data.clone().select(unique.into_iter().map(col))
            }
            Source::Figure { data, .. } => data.clone().lazy(),
        }
    }

    /// What the plot shows, in words (its `text/plain` form in notebooks).
    pub fn describe(&self) -> String {
        let what = match &self.source {
            Source::Frame { kind, .. } => {
                let mut s = kind.describe();
                if let Some(c) = &self.color_by {
                    s.push_str(&format!(", coloured by {c}"));
                }
                s
            }
            Source::Figure { figure, .. } => figure.title.clone(),
        };
        let title = match &self.title {
            Some(t) if !t.is_empty() => format!(" titled \"{t}\""),
            _ => String::new(),
        };
        format!("Plot: {what}{title} ({}x{} px)", self.size.0, self.size.1)
    }

    /// Run the query (if any) and lay out the picture.
    pub(crate) fn figure_with(&self, options: &ExecOptions) -> Result<Figure> {
        let (w, h) = self.size;
        if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
            return Err(Error::Plan(format!(
                "plot size {w}x{h} is out of range: use 64 to 8192 pixels a side"
            )));
        }
        let mut figure = match &self.source {
            Source::Frame { kind, .. } => {
                let df = self.query().collect_with(options)?;
                build::figure(&df, kind, self.color_by.as_deref())?
            }
            Source::Figure { figure, .. } => {
                if let Some(c) = &self.color_by {
                    return Err(Error::Plan(format!(
                        "color_by(\"{c}\") applies to plots of a frame's columns, not to a \
                         model's plot, which has its colours already"
                    )));
                }
                (**figure).clone()
            }
        };
        if let Some(t) = &self.title {
            figure.title = t.clone();
        }
        if let Some(l) = &self.x_label {
            figure.x.label = l.clone();
        }
        if let Some(l) = &self.y_label {
            figure.y.label = l.clone();
        }
        Ok(figure)
    }

    /// The picture as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        self.to_svg_with(&ExecOptions::default())
    }

    /// [`Plot::to_svg`] running the query with `options`.
    pub fn to_svg_with(&self, options: &ExecOptions) -> Result<String> {
        render::svg(&self.figure_with(options)?, self.size)
    }

    /// The picture as PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        self.to_png_with(&ExecOptions::default())
    }

    /// [`Plot::to_png`] running the query with `options`.
    pub fn to_png_with(&self, options: &ExecOptions) -> Result<Vec<u8>> {
        render::png(&self.figure_with(options)?, self.size)
    }

    /// Write the picture to `path`, as SVG or PNG by its extension. The file is written
    /// whole or not at all (a temporary file renamed on success).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_with(path, &ExecOptions::default())
    }

    /// [`Plot::save`] running the query with `options`.
    pub fn save_with(&self, path: impl AsRef<Path>, options: &ExecOptions) -> Result<()> {
        let path = path.as_ref();
        let format = ImageFormat::from_path(path).ok_or_else(|| {
            Error::Plan(format!(
                "cannot tell the picture format of {}: use .svg or .png",
                path.display()
            ))
        })?;
        // Drawn before the file is created, so a failing plot leaves nothing behind.
        let bytes = match format {
            ImageFormat::Svg => self.to_svg_with(options)?.into_bytes(),
            ImageFormat::Png => self.to_png_with(options)?,
        };
        crate::io::write_atomic(path, |w| {
            std::io::Write::write_all(w, &bytes).map_err(|e| Error::io(path, e))
        })
    }

    /// Show the plot in an evcxr notebook as inline SVG (or the error that drawing it met),
    /// with its description as the `text/plain` fallback.
    pub fn evcxr_display(&self) {
        super::evcxr::emit_payload(&self.display_payload());
    }

    /// What [`Plot::evcxr_display`] prints.
    pub(crate) fn display_payload(&self) -> String {
        match self.to_svg() {
            Ok(svg) => {
                super::evcxr::payload(&[("image/svg+xml", &svg), ("text/plain", &self.describe())])
            }
            Err(e) => super::evcxr::payload(&[
                ("text/html", &super::html::error_html(&e.to_string())),
                ("text/plain", &format!("plot error: {e}")),
            ]),
        }
    }
}
