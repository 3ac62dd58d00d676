//! Rust closures as expressions: `map_rows` over each row of several inputs (NumPy's
//! `apply_along_axis(f, 1, ..)`) and `map_columns` over a whole column (`axis=0`), with the
//! named wrappers [`RowUdf`] and [`ColumnUdf`] that plan text shows.
//!
//! Closures exist only in Rust: query scripts cannot hold them. Both compute in Float64
//! (integers converted). `map_rows` is elementwise (run per morsel, in parallel, so the closure
//! is `Send + Sync`) and its inputs expand selectors in place, as the horizontal functions' do;
//! `map_columns` gets the whole column. Kernel: `exec::kernels::udf`.

use std::fmt;
use std::sync::Arc;

use arrow::array::Float64Array;
use arrow::datatypes::{DataType, Schema};

use super::function::{expr_list, required_input, FunctionFamily, FunctionKind};
use super::horizontal::row_wise_type;
use super::types::numeric_input;
use super::Expr;
use crate::error::Result;

type RowFn = dyn Fn(&[f64]) -> f64 + Send + Sync;
type ColumnFn = dyn Fn(&Float64Array) -> Result<Float64Array> + Send + Sync;

/// A named Rust closure over one row (`&[f64]`, one value per input) giving one `f64`.
/// Two `RowUdf`s are equal when they share the same closure (pointer equality).
#[derive(Clone)]
pub struct RowUdf {
    name: String,
    f: Arc<RowFn>,
}

impl RowUdf {
    /// Name a closure so plan text shows it.
    pub fn new(name: impl Into<String>, f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static) -> Self {
        Self {
            name: name.into(),
            f: Arc::new(f),
        }
    }
    /// The name plan text shows.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Run the closure on one row.
    pub fn call(&self, row: &[f64]) -> f64 {
        (self.f)(row)
    }
}

impl<F: Fn(&[f64]) -> f64 + Send + Sync + 'static> From<F> for RowUdf {
    fn from(f: F) -> Self {
        RowUdf::new("<closure>", f)
    }
}

impl PartialEq for RowUdf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }
}

impl fmt::Debug for RowUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RowUdf({})", self.name)
    }
}

/// A named Rust closure from a whole column (as `Float64Array`, integers converted) to a
/// column of the same length. Equal when they share the same closure (pointer equality).
#[derive(Clone)]
pub struct ColumnUdf {
    name: String,
    f: Arc<ColumnFn>,
}

impl ColumnUdf {
    /// Name a closure so plan text shows it.
    pub fn new(
        name: impl Into<String>,
        f: impl Fn(&Float64Array) -> Result<Float64Array> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            f: Arc::new(f),
        }
    }
    /// The name plan text shows.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Run the closure on a column.
    pub fn call(&self, column: &Float64Array) -> Result<Float64Array> {
        (self.f)(column)
    }
}

impl<F: Fn(&Float64Array) -> Result<Float64Array> + Send + Sync + 'static> From<F> for ColumnUdf {
    fn from(f: F) -> Self {
        ColumnUdf::new("<closure>", f)
    }
}

impl PartialEq for ColumnUdf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }
}

impl fmt::Debug for ColumnUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ColumnUdf({})", self.name)
    }
}

/// The closure functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum UdfFunction {
    /// A Rust closure over each row of the args.
    MapRows(RowUdf),
    /// A Rust closure over the whole column.
    MapColumns(ColumnUdf),
}

impl FunctionFamily for UdfFunction {
    fn name(&self) -> &'static str {
        match self {
            UdfFunction::MapRows(_) => "map_rows",
            UdfFunction::MapColumns(_) => "map_columns",
        }
    }

    fn kind(&self) -> FunctionKind {
        match self {
            UdfFunction::MapRows(_) => FunctionKind::Elementwise,
            UdfFunction::MapColumns(_) => FunctionKind::WholeColumn,
        }
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        match self {
            UdfFunction::MapRows(_) => {
                row_wise_type(e, self.name(), args, schema)?;
            }
            UdfFunction::MapColumns(_) => {
                numeric_input(
                    e,
                    self.name(),
                    required_input(e, self.name(), args)?,
                    schema,
                )?;
            }
        }
        Ok(DataType::Float64)
    }

    fn call_text(&self, args: &[Expr]) -> String {
        match self {
            UdfFunction::MapRows(u) => format!("map_rows([{}], {})", expr_list(args), u.name()),
            UdfFunction::MapColumns(u) => format!("{}.map_columns({})", args[0], u.name()),
        }
    }

    fn expands_selector_args(&self) -> bool {
        match self {
            UdfFunction::MapRows(_) => true,
            UdfFunction::MapColumns(_) => false,
        }
    }
}

/// Apply a Rust closure to each row of `exprs` (NumPy's `apply_along_axis(f, 1, ..)`).
///
/// The closure sees one `f64` per input (integers converted) and returns an `f64`; a row with
/// a null input gives null without calling it (NaN is passed through). It runs morsel by
/// morsel, in parallel, so it must be `Send + Sync`. Pass a closure, or a
/// [`RowUdf::new("name", closure)`](RowUdf::new) to name it in plan text. Rust only: query
/// scripts cannot hold closures.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("a" => [3.0, 1.0], "b" => [4.0, 1.0])?;
/// let out = df.lazy()
///     .select([map_rows([col("a"), col("b")], |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>().sqrt())
///         .alias("norm")])
///     .collect()?;
/// assert_eq!(out.column_f64("norm")?, vec![Some(5.0), Some(2f64.sqrt())]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn map_rows<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>, f: impl Into<RowUdf>) -> Expr {
    Expr::call(
        UdfFunction::MapRows(f.into()),
        exprs.into_iter().map(Into::into).collect(),
    )
}

impl Expr {
    /// Apply a Rust closure to the whole column (NumPy's `apply_along_axis(f, 0, ..)`), once
    /// per column of a selector. The closure gets the column as a `Float64Array` (integers
    /// converted) and must return one of the same length (else a compute error naming it);
    /// the result is Float64. Pass a closure or a [`ColumnUdf::new("name", closure)`](ColumnUdf::new).
    /// Rust only: query scripts cannot hold closures.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// use arrow::array::Float64Array;
    /// let df = df!("a" => [1.0, 2.0, 3.0], "b" => [10, 20, 30])?;
    /// let cumsum = |a: &Float64Array| -> fusedframe::Result<Float64Array> {
    ///     let mut acc = 0.0;
    ///     Ok(a.iter().map(|v| v.map(|v| { acc += v; acc })).collect())
    /// };
    /// let out = df.lazy().with_columns([cols(["a", "b"]).map_columns(cumsum)]).collect()?;
    /// assert_eq!(out.column_f64("b")?, vec![Some(10.0), Some(30.0), Some(60.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn map_columns(self, f: impl Into<ColumnUdf>) -> Expr {
        Expr::call(UdfFunction::MapColumns(f.into()), vec![self])
    }
}
