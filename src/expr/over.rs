//! Window expressions over groups: `expr.over([keys])` evaluates `expr` within each group of
//! rows that share the keys' values and puts the result back on the group's rows, in the
//! input's row order. An aggregate gives one value per group, broadcast to its rows
//! (`col("x").mean().over([col("g")])`); a whole-column function runs on each group's rows
//! alone (`col("close").rolling_mean(20).over([col("symbol")])`, and every other window
//! function: `over` is generic over them); an elementwise expression is the same with or
//! without `over`. Groups are formed as `group_by` forms them: null keys are one group, NaN
//! keys one group.
//!
//! `over` is an `Expr` node, not a function: it wraps any expression, aggregates included, and
//! the optimizer must see through it as a boundary (aggregate hoisting leaves the aggregates
//! inside alone: hoisting `x.mean()` out of `x.mean().over([g])` would take the mean of all
//! rows). The executor's half is `exec::groups::window`.

use arrow::datatypes::{DataType, Schema};

use super::dtype_name;
use super::types::typed;
use super::Expr;
use crate::error::{Error, Result};

impl Expr {
    /// This expression within each group of rows with equal `partition_by` values, the result
    /// put back on the group's rows (Polars' `over`): aggregates broadcast to their group,
    /// window functions (`rolling_*`, ...) run on each group alone.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("g" => ["a", "b", "a", "b"], "x" => [1.0, 10.0, 3.0, 20.0])?;
    /// let out = df.lazy()
    ///     .with_columns([
    ///         col("x").mean().over([col("g")]).alias("m"),
    ///         col("x").rolling_sum(2).over([col("g")]).alias("r"),
    ///     ])
    ///     .collect()?;
    /// assert_eq!(out.column_f64("m")?, vec![Some(2.0), Some(15.0), Some(2.0), Some(15.0)]);
    /// assert_eq!(out.column_f64("r")?, vec![None, None, Some(4.0), Some(30.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn over<E: Into<Expr>>(self, partition_by: impl IntoIterator<Item = E>) -> Expr {
        Expr::Over {
            expr: Box::new(self),
            partition_by: partition_by.into_iter().map(Into::into).collect(),
        }
    }
}

/// The keys of `e` (an `over`) must be at least one, of types rows can be grouped by.
pub(crate) fn check_partition(e: &Expr, keys: &[Expr], schema: &Schema) -> Result<()> {
    if keys.is_empty() {
        return Err(Error::Plan(format!("{e}: over() needs at least one key")));
    }
    for k in keys {
        check_key_type(k, &k.data_type(schema)?)?;
    }
    Ok(())
}

/// A key (or distinct-value input) `e` of type `t` must be groupable: numbers, booleans,
/// strings, dates, timestamps, decimals.
pub(crate) fn check_key_type(e: &Expr, t: &DataType) -> Result<()> {
    let ok = t.is_primitive()
        || matches!(
            t,
            DataType::Null
                | DataType::Boolean
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
        )
        || matches!(t, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8));
    if ok {
        Ok(())
    } else {
        Err(Error::Type(format!(
            "cannot group by {}: values of type {} have no equality here",
            typed(e, t),
            dtype_name(t)
        )))
    }
}
