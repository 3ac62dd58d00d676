//! Pictures and notebook display.
//!
//! **Display in evcxr notebooks** (always built): [`DataFrame`](crate::frame::DataFrame),
//! [`LazyFrame`](crate::plan::LazyFrame), [`KMeansModel`](crate::ml::KMeansModel),
//! [`PcaModel`](crate::ml::PcaModel) and [`LinearModel`](crate::ml::LinearModel) have an
//! `evcxr_display` method, so the last expression of a cell shows as an HTML table (a frame in
//! the style of Polars, a lazy frame's optimized plan and output schema without running it, a
//! model's summary), with a `text/plain` fallback; `to_html()` gives the same HTML. Everything
//! from the data is escaped.
//!
//! **Plots** (the default `plot` feature; pure Rust, no system library): `df.plot()` (or
//! `lf.plot()`, which reads only the plotted columns) starts a [`Plot`]:
//!
//! ```
//! use fusedframe::prelude::*;
//! let df = df!(
//!     "x" => [0.5, 1.5, 2.0, 3.5],
//!     "y" => [1.0, 2.0, 1.5, 3.0],
//!     "cluster" => [0, 0, 1, 1],
//!     "label" => ["a", "b", "c", "d"]
//! )?;
//! df.plot().scatter("x", "y").color_by("cluster").to_svg()?;
//! df.plot().line("x", ["y"]).to_svg()?;
//! df.plot().hist("x", 3).to_png()?;
//! df.plot().bar("label", "y").title("y by label").to_svg()?;
//! # Ok::<(), fusedframe::Error>(())
//! ```
//!
//! A plot shows as inline SVG in evcxr and saves as SVG or PNG
//! ([`Plot::save`]`("fig.svg" | "fig.png")`); a query script that ends with a plot writes it
//! with `fusedframe run SCRIPT --output fig.svg` (or `.png`). Models draw their obvious
//! pictures: `kmeans_model.plot(data)` (clusters on the first two principal components) and
//! `pca_model.plot()` (explained variance per component).
//!
//! # Layout
//!
//! - `html`, `evcxr`: HTML tables and the evcxr display protocol.
//! - `chart`: the [`Plot`] value users hold; `build`: frame columns to a `figure` (marks in
//!   data coordinates); `ticks`: axis ticks and labels (numbers, calendar dates, categories);
//!   `render`: plotters drawing to SVG and PNG with the embedded DejaVu Sans (`fonts/`);
//!   `thin`: fewer marks for long lines and dense scatters, same pixels; `models`: the
//!   models' pictures. (The plot vocabulary of query scripts is `script::plot`, above this
//!   module.)

mod evcxr;
mod html;

#[cfg(feature = "plot")]
mod build;
#[cfg(feature = "plot")]
mod chart;
#[cfg(feature = "plot")]
mod figure;
#[cfg(feature = "plot")]
mod models;
#[cfg(feature = "plot")]
mod render;
#[cfg(feature = "plot")]
mod thin;
#[cfg(feature = "plot")]
mod ticks;

#[cfg(all(test, feature = "plot"))]
mod tests;

pub use evcxr::payload as evcxr_payload;
pub use html::escape as escape_html;

#[cfg(feature = "plot")]
pub use chart::{ImageFormat, Plot, PlotBuilder, DEFAULT_SIZE};
