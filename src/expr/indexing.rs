//! Picking values by position or mask: `gather`/`take` (NumPy's `x[idx]`), `filter`
//! (`x[mask]`), and the input-less `row_index()`.
//!
//! Index rules (NumPy's and Polars'): any integer type; a negative index counts from the end;
//! a null index gives a null; an index outside the column is an error naming it. `gather`
//! gives one row per index and `filter` one per true mask value (null counts as false), so use
//! them in `select`; to reorder or subset whole rows use `LazyFrame::gather` and
//! `LazyFrame::filter`. `row_index()` numbers the rows of the frame it is evaluated in. All
//! need the whole column. Kernel: `exec::kernels::indexing`.

use arrow::datatypes::{DataType, Schema};

use super::dtype_name;
use super::function::{first_input, second_input, FunctionFamily, FunctionKind};
use super::Expr;
use crate::error::{Error, Result};

/// The indexing functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum IndexingFunction {
    /// Values at the positions `args[1]` gives (negative counts from the end, null gives null).
    Gather,
    /// Values where the boolean `args[1]` is true (null counts as false); changes the length.
    Filter,
    /// No input: `0, 1, .., len - 1` (UInt64) over the frame it is evaluated in.
    RowIndex,
}

impl FunctionFamily for IndexingFunction {
    fn name(&self) -> &'static str {
        match self {
            IndexingFunction::Gather => "gather",
            IndexingFunction::Filter => "filter",
            IndexingFunction::RowIndex => "row_index",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::WholeColumn
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let (wanted, fits): (&str, fn(&DataType) -> bool) = match self {
            IndexingFunction::RowIndex => return Ok(DataType::UInt64),
            IndexingFunction::Gather => ("integer indices", DataType::is_integer),
            IndexingFunction::Filter => ("a boolean mask", |t| *t == DataType::Boolean),
        };
        let t = first_input(self.name(), args)?.data_type(schema)?;
        let arg = second_input(self.name(), args)?;
        let a = arg.data_type(schema)?;
        if fits(&a) || a == DataType::Null {
            Ok(t)
        } else {
            Err(Error::Type(format!(
                "{} needs {wanted}, got {arg} ({}) in {e}",
                self.name(),
                dtype_name(&a)
            )))
        }
    }
}

/// `0, 1, .., n - 1` (UInt64) over the frame it is evaluated in, like Polars'
/// `int_range(len())`; unnamed (`"literal"`) until aliased.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [5.0, 6.0, 7.0])?;
/// let out = df.lazy().with_columns([row_index().alias("i")]).collect()?;
/// assert_eq!(out.column_f64("i")?, vec![Some(0.0), Some(1.0), Some(2.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn row_index() -> Expr {
    Expr::call(IndexingFunction::RowIndex, vec![])
}

impl Expr {
    /// The values at the positions `indices` gives (any integer type): NumPy's `x[idx]`.
    ///
    /// A negative index counts from the end (`-1` is the last value), a null index gives a
    /// null, an index out of range is an error naming it. One output row per index; a scalar
    /// index gives a scalar (which broadcasts).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [10.0, 20.0, 30.0], "i" => [2, 0, -1])?;
    /// let out = df.lazy().select([col("x").gather(col("i"))]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(30.0), Some(10.0), Some(30.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn gather(self, indices: impl Into<Expr>) -> Expr {
        Expr::call(IndexingFunction::Gather, vec![self, indices.into()])
    }

    /// Same as [`Expr::gather`] (NumPy's `take`).
    pub fn take(self, indices: impl Into<Expr>) -> Expr {
        self.gather(indices)
    }

    /// The values where the boolean `mask` is true (null counts as false): NumPy's `x[mask]`.
    /// The output is shorter than the frame: use it in `select` (see the `Function` docs); to drop
    /// whole rows use `LazyFrame::filter`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, -2.0, 3.0])?;
    /// let out = df.lazy().select([col("x").filter(col("x").gt(0.0)).sum()]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn filter(self, mask: impl Into<Expr>) -> Expr {
        Expr::call(IndexingFunction::Filter, vec![self, mask.into()])
    }
}
