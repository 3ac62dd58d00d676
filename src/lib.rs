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
pub use exec::tune_allocator;

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
    pub use crate::plan::{full, ones, range, zeros};
    pub use crate::plan::{scan_csv, scan_csv_with, scan_ipc, scan_parquet};
    pub use crate::io::{IpcCompression, IpcWriteOptions, ParquetCompression, ParquetWriteOptions};
    pub use crate::ml::prelude::*;
    pub use crate::plan::{concat, ExecOptions, JoinType, LazyFrame, LazyGroupBy};
    #[cfg(feature = "plot")]
    pub use crate::plot::Plot;
    pub use arrow::datatypes::DataType;
}
