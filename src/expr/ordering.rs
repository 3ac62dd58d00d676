//! Sorting expressions: `arg_sort`, `sort`, `top_k`, `bottom_k`, and [`SortOptions`], which
//! `LazyFrame::sort`/`sort_by` share.
//!
//! Sorting is stable, ascending by default, NaN after every number, nulls last by default
//! (NumPy's `argsort(kind="stable")` and Polars' `sort`); indices are UInt64. Every sort needs
//! the whole column, and the result never depends on morsel boundaries. In general the
//! executor materializes the input and sorts it once (kernel: `exec::kernels::ordering`); a
//! `select` of `top_k`/`bottom_k` calls, or of one `arg_sort` or `sort`, over elementwise
//! inputs streams instead, within the memory budget and with the same result (a bounded
//! selection per morsel, an external sort: see `physical::ordering`). `top_k`/`bottom_k` give
//! at most `k` rows (use them in `select`). Ranking (`rank`) belongs here too.

use arrow::datatypes::{DataType, Schema};

use super::dtype_name;
use super::function::{first_input, FunctionFamily, FunctionKind};
use super::types::is_numeric;
use super::Expr;
use crate::error::{Error, Result};

/// How `sort`, `sort_by` and `arg_sort` order values.
///
/// Sorting is always stable (equal keys keep their input order), NaN sorts after every number
/// (before nulls when `nulls_last`), and nulls go last by default.
#[derive(Clone, Debug, PartialEq)]
pub struct SortOptions {
    /// Largest first.
    pub descending: bool,
    /// Nulls after all values (default `true`).
    pub nulls_last: bool,
    /// Keep the input order of equal keys (default `true`; `false` allows a faster unstable sort).
    pub stable: bool,
}

impl Default for SortOptions {
    fn default() -> Self {
        Self {
            descending: false,
            nulls_last: true,
            stable: true,
        }
    }
}

impl SortOptions {
    /// Default options: ascending, stable, nulls last.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set descending order.
    pub fn descending(mut self, descending: bool) -> Self {
        self.descending = descending;
        self
    }
    /// Set where nulls go.
    pub fn nulls_last(mut self, nulls_last: bool) -> Self {
        self.nulls_last = nulls_last;
        self
    }
    /// Set whether equal keys keep their order.
    pub fn stable(mut self, stable: bool) -> Self {
        self.stable = stable;
        self
    }
}

/// Plan text for sort options, in the builder spelling a script can paste back.
pub fn sort_options_text(o: &SortOptions) -> String {
    let mut s = "SortOptions::new()".to_string();
    if o.descending {
        s.push_str(".descending(true)");
    }
    if !o.nulls_last {
        s.push_str(".nulls_last(false)");
    }
    if !o.stable {
        s.push_str(".stable(false)");
    }
    s
}

/// The sorting functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum OrderingFunction {
    /// Row order that sorts the input (UInt64 indices).
    ArgSort(SortOptions),
    /// The input's values in sorted order.
    Sort(SortOptions),
    /// The `k` largest values, largest first (NaN counts as largest, nulls only if needed).
    TopK(usize),
    /// The `k` smallest values, smallest first.
    BottomK(usize),
}

impl FunctionFamily for OrderingFunction {
    fn name(&self) -> &'static str {
        match self {
            OrderingFunction::ArgSort(_) => "arg_sort",
            OrderingFunction::Sort(_) => "sort",
            OrderingFunction::TopK(_) => "top_k",
            OrderingFunction::BottomK(_) => "bottom_k",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::WholeColumn
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let t = first_input(self.name(), args)?.data_type(schema)?;
        match self {
            OrderingFunction::ArgSort(_) => Ok(DataType::UInt64),
            OrderingFunction::Sort(_) => Ok(t),
            OrderingFunction::TopK(_) | OrderingFunction::BottomK(_) => {
                if is_numeric(&t) || sortable(&t) {
                    Ok(t)
                } else {
                    Err(Error::Type(format!(
                        "{}() cannot order values of type {} in {e}",
                        self.name(),
                        dtype_name(&t)
                    )))
                }
            }
        }
    }

    fn params(&self) -> Vec<String> {
        match self {
            OrderingFunction::ArgSort(o) | OrderingFunction::Sort(o) => vec![sort_options_text(o)],
            OrderingFunction::TopK(k) | OrderingFunction::BottomK(k) => vec![k.to_string()],
        }
    }
}

/// Non-numeric types that have an order.
fn sortable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || t.is_temporal()
}

impl Expr {
    /// Row positions (UInt64) that sort this column: NumPy's `argsort(kind="stable")`.
    ///
    /// Stable; ascending unless `descending`; NaN after every number (so first when
    /// descending, as in Polars); nulls last unless `nulls_last(false)`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [3.0, f64::NAN, 1.0, 2.0])?;
    /// let out = df.lazy().select([col("x").arg_sort(SortOptions::default())]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(2.0), Some(3.0), Some(0.0), Some(1.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn arg_sort(self, options: SortOptions) -> Expr {
        Expr::call(OrderingFunction::ArgSort(options), vec![self])
    }

    /// The values in sorted order (same rules as [`Expr::arg_sort`]).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [Some(3), None, Some(1)])?;
    /// let out = df.lazy().select([col("x").sort(SortOptions::new().descending(true))]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(3.0), Some(1.0), None]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn sort(self, options: SortOptions) -> Expr {
        Expr::call(OrderingFunction::Sort(options), vec![self])
    }

    /// The `k` largest values, largest first (fewer if the column is shorter). NaN counts as
    /// the largest value; nulls appear only when there are fewer than `k` non-null values.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1, 5, 3, 4])?;
    /// let out = df.lazy().select([col("x").top_k(2)]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(5.0), Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn top_k(self, k: usize) -> Expr {
        Expr::call(OrderingFunction::TopK(k), vec![self])
    }

    /// The `k` smallest values, smallest first (NaN after numbers, nulls last).
    pub fn bottom_k(self, k: usize) -> Expr {
        Expr::call(OrderingFunction::BottomK(k), vec![self])
    }
}
