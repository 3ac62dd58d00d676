//! # fusedframe
//!
//! A lazy, dataframe-style query engine on Apache Arrow. Columns load from CSV, Parquet and
//! Arrow IPC; a query is a lazy expression graph ([`LazyFrame`](plan::LazyFrame) holding
//! [`Expr`](expr::Expr)s); an optimizer prunes and pushes it down; execution runs morsel by
//! morsel on rayon with results bit-identical for any thread count.
//!
//! ```
//! use fusedframe::prelude::*;
//! let df = df!("x" => [1.0, f64::NAN, 3.0, -1.0], "g" => [1, 2, 3, 4])?;
//! let out = df.lazy()
//!     .filter(col("x").gt(0.0))
//!     .select([col("x").sum().alias("total"), col("g").max()])
//!     .collect()?;
//! assert_eq!(out.column_f64("total")?, vec![Some(4.0)]);
//! # Ok::<(), fusedframe::Error>(())
//! ```
//!
//! ## Layers
//!
//! The top-level modules form layers, lowest first; each refers only to those below it, so
//! there is no import cycle and a layer can be read and tested knowing only what is under it
//! (`tests/layering.rs` checks this; test code may reach anywhere):
//!
//! 1. [`error`]: the one error type. Needs nothing.
//! 2. [`expr`]: the expression language and the values it holds ([`Scalar`](expr::Scalar),
//!    the calendar, type and float names). Pure description: no tables.
//! 3. [`frame`]: [`DataFrame`](frame::DataFrame), shown through the value formatting of `expr`.
//! 4. [`memory`]: the memory budget and the piece sizes that everything holding data uses.
//! 5. [`io`]: file readers and writers of frames (a scan's predicate is an `Expr`).
//! 6. [`plan`]: logical plans and the [`LazyFrame`](plan::LazyFrame) builder with the sources
//!    a query starts from (`scan_*`, `range`, `DataFrame::lazy`). Describes queries; runs
//!    nothing.
//! 7. `physical`: the lowering of a logical plan into pipelines and breakers.
//! 8. [`exec`]: the executor of physical plans.
//! 9. `optimizer`: logical rewrites. Above the executor because constant folding evaluates
//!    with its kernels, so a folded value is exactly what evaluation would give.
//! 10. `lazy`: `explain*`, `collect*` and `sink_*` on `LazyFrame` (optimize, lower, run). The
//!     type is `plan`'s; these `impl` blocks sit here so `plan` needs nothing above it.
//! 11. [`ml`]: models, fitted as plan nodes the executor runs.
//! 12. [`plot`]: pictures of frames and models.
//! 13. `script`: the query-script interpreter, which registers every user-facing type.
//!
//! New code goes in the lowest layer that has what it needs. When a lower layer needs an
//! item from a higher one, move the item down (a re-export at its old path keeps that path
//! working); when a type needs a method that uses a higher layer, write that `impl` block in
//! the higher module.

#![warn(missing_docs)]

pub mod error;
pub mod exec;
pub mod expr;
pub mod frame;
pub mod io;
mod lazy;
pub mod memory;
pub mod ml;
pub(crate) mod optimizer;
pub(crate) mod physical;
pub mod plan;
pub mod plot;
#[cfg(feature = "script")]
pub mod script;

pub use error::{Error, Result};
pub use exec::{tune_allocator, ColumnAllocator};

/// Everything a query needs: `use fusedframe::prelude::*;`.
pub mod prelude {
    pub use crate::df;
    pub use crate::error::{Error, Result};
    pub use crate::expr::{all_numeric, col, cols, corr, len, lit, when, Expr, SortOptions};
    pub use crate::expr::{date, datetime, DtNamespace, StrNamespace};
    pub use crate::expr::{
        map_rows, max_horizontal, mean_horizontal, min_horizontal, sum_horizontal, ColumnUdf, Fill,
        RankMethod, RankOptions, RollingKind, RollingOptions, RowUdf,
    };
    pub use crate::expr::{rand_int, rand_normal, rand_uniform, row_index};
    pub use crate::frame::{Column, DataFrame};
    pub use crate::io::CsvOptions;
    pub use crate::io::{IpcCompression, IpcWriteOptions, ParquetCompression, ParquetWriteOptions};
    pub use crate::ml::prelude::*;
    pub use crate::plan::{concat, ExecOptions, JoinType, LazyFrame, LazyGroupBy};
    pub use crate::plan::{full, ones, range, zeros};
    pub use crate::plan::{scan_csv, scan_csv_with, scan_ipc, scan_parquet};
    #[cfg(feature = "plot")]
    pub use crate::plot::Plot;
    pub use arrow::datatypes::DataType;
}
