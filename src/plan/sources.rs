//! Where lazy queries start: a frame in memory ([`DataFrame::lazy`]), a file
//! ([`scan_csv`], [`scan_parquet`], [`scan_ipc`]: a `Scan` node over a [`ScanSource`],
//! nothing read until the query runs), or a generated frame (`range`, `zeros`, `ones`,
//! `full`). They live in the plan layer because each builds a logical plan; the readers they
//! name are in `io`, below.
//!
//! Generated sources (NumPy seed question 6): `range`, `zeros`, `ones`, `full`, each a
//! `LazyFrame` over a frame built in memory.
//!
//! Like NumPy's `np.arange`, `np.zeros`, `np.ones` and `np.full`, they are built when called
//! (8 bytes per value; `zeros` asks the allocator for zeroed memory, which costs nothing until
//! touched). Column types follow NumPy: `range` gives Int64, `zeros`/`ones` Float64, `full`
//! the value's type (`7` gives Int64, `7.0` Float64, `true` Boolean). A repeated column name
//! is an error when the query is planned, as anywhere else.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array};
use arrow::datatypes::{Field, Schema};

use super::{LazyFrame, LogicalPlan};
use crate::expr::{col, scalar_array, Scalar};
use crate::frame::DataFrame;
use crate::io::{CsvOptions, FileFormat, ScanSource};

impl DataFrame {
    /// Start a lazy query over this frame.
    pub fn lazy(self) -> LazyFrame {
        LazyFrame::from_dataframe(self)
    }
}

/// A lazy frame over the file at `path`; nothing is read until the query needs its schema.
fn scan(path: impl AsRef<Path>, format: FileFormat) -> LazyFrame {
    LazyFrame::from_plan(LogicalPlan::Scan {
        source: Arc::new(ScanSource::new(path.as_ref(), format)),
        projection: None,
        predicate: None,
        limit: None,
    })
}

/// Scan a CSV file with default options (header row, comma, schema inferred from the first
/// 1000 rows). Errors (missing file, bad rows) surface at `schema()` or `collect()`.
pub fn scan_csv(path: impl AsRef<Path>) -> LazyFrame {
    scan(path, FileFormat::Csv(CsvOptions::default()))
}

/// Scan a CSV file with options.
///
/// ```no_run
/// use fusedframe::prelude::*;
/// let lf = scan_csv_with("datasets/stocks.csv", CsvOptions::new().date_format("date", "%b %d %Y"));
/// ```
pub fn scan_csv_with(path: impl AsRef<Path>, options: CsvOptions) -> LazyFrame {
    scan(path, FileFormat::Csv(options))
}

/// Scan a Parquet file; row groups are decoded in parallel.
pub fn scan_parquet(path: impl AsRef<Path>) -> LazyFrame {
    scan(path, FileFormat::Parquet)
}

/// Scan an Arrow IPC file (Feather v2) or stream (`.arrows`, `pyarrow.ipc.new_stream`),
/// memory-mapped; the format is told by the file's first bytes.
pub fn scan_ipc(path: impl AsRef<Path>) -> LazyFrame {
    scan(path, FileFormat::Ipc)
}

/// One Int64 column named `"range"` holding `start, start + 1, .., end - 1` (empty when
/// `end <= start`), like Python's `range` and NumPy's `arange`. Rename it with
/// `.rename(["range"], ["i"])` or compute from it with `col("range")`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = range(2, 5).collect()?;
/// assert_eq!(df.column_f64("range")?, vec![Some(2.0), Some(3.0), Some(4.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn range(start: i64, end: i64) -> LazyFrame {
    let a: ArrayRef = Arc::new(Int64Array::from_iter_values(start..end.max(start)));
    frame_of(a.len(), vec!["range".to_string()], vec![a])
}

/// `n` rows of `0.0` (Float64) in each named column: NumPy's `np.zeros((n, k))`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = zeros(3, ["a", "b"]).collect()?;
/// assert_eq!(df.shape(), (3, 2));
/// assert_eq!(df.column_f64("b")?, vec![Some(0.0); 3]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn zeros<I, S>(n: usize, cols: I) -> LazyFrame
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let names: Vec<String> = cols.into_iter().map(Into::into).collect();
    // `vec![0.0; n]` is a zeroed allocation; Arrow takes the vector without copying.
    let arrays = names
        .iter()
        .map(|_| Arc::new(Float64Array::from(vec![0.0; n])) as ArrayRef)
        .collect();
    frame_of(n, names, arrays)
}

/// `n` rows of `1.0` (Float64) in each named column: NumPy's `np.ones((n, k))`.
pub fn ones<I, S>(n: usize, cols: I) -> LazyFrame
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    full(n, cols, 1.0)
}

/// `n` rows of `value` in each named column: NumPy's `np.full((n, k), value)`; the column type
/// is the value's (a null value gives an all-null column of type Null).
///
/// ```
/// use fusedframe::prelude::*;
/// let df = full(2, ["k"], 7).collect()?;
/// assert_eq!(df.schema().field(0).data_type(), &DataType::Int64);
/// assert_eq!(df.column_f64("k")?, vec![Some(7.0), Some(7.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn full<I, S>(n: usize, cols: I, value: impl Into<Scalar>) -> LazyFrame
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let value = value.into();
    let names: Vec<String> = cols.into_iter().map(Into::into).collect();
    let arrays = names
        .iter()
        .map(|_| scalar_array(&value, n))
        .collect::<crate::error::Result<Vec<_>>>();
    match arrays {
        Ok(arrays) => frame_of(n, names, arrays),
        // Every scalar type has an array form; keep the signature infallible all the same.
        Err(_) => frame_of(n, vec![], vec![]),
    }
}

/// A lazy frame over these columns. Repeated names cannot form a frame: they become a
/// `select` that reports the duplicate when the query is planned.
fn frame_of(height: usize, names: Vec<String>, arrays: Vec<ArrayRef>) -> LazyFrame {
    if names.is_empty() {
        return DataFrame::with_height(height).lazy();
    }
    let mut unique: Vec<(String, ArrayRef)> = vec![];
    for (n, a) in names.iter().zip(arrays) {
        if !unique.iter().any(|(u, _)| u == n) {
            unique.push((n.clone(), a));
        }
    }
    let fields: Vec<Field> = unique
        .iter()
        .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
        .collect();
    let cols: Vec<ArrayRef> = unique.into_iter().map(|(_, a)| a).collect();
    let df = match DataFrame::from_arrays(Arc::new(Schema::new(fields)), cols) {
        Ok(df) => df,
        Err(_) => DataFrame::empty(Arc::new(Schema::empty())),
    };
    let lf = df.lazy();
    if names.len() == lf_width(&lf) {
        lf
    } else {
        lf.select(names.iter().map(col))
    }
}

fn lf_width(lf: &LazyFrame) -> usize {
    lf.schema().map_or(0, |s| s.fields().len())
}
