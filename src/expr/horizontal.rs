//! Row-wise functions over a list of inputs: `sum_horizontal`, `mean_horizontal`,
//! `min_horizontal`, `max_horizontal` (NumPy's `x.sum(axis=1)` and friends, Polars'
//! semantics).
//!
//! Selectors among the inputs expand in place (`sum_horizontal([all_numeric()])` is one
//! expression over every numeric column). Integers stay Int64 except through the mean; any
//! float makes Float64 (Float32 with Float32 stays Float32). They are elementwise: the
//! pipeline runs them morsel by morsel. Kernel: `exec::kernels::horizontal`.

use arrow::datatypes::{DataType, Schema};

use super::function::{expr_list, required_input, FunctionFamily, FunctionKind};
use super::types::{arith_type, float_type, numeric_input};
use super::Expr;
use crate::error::Result;

/// The row-wise functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum HorizontalFunction {
    /// Row-wise sum of the args (nulls count as 0; NaN propagates).
    Sum,
    /// Row-wise mean of the args (nulls skipped; NaN propagates).
    Mean,
    /// Row-wise minimum of the args (nulls and NaN skipped).
    Min,
    /// Row-wise maximum of the args (nulls and NaN skipped).
    Max,
}

impl FunctionFamily for HorizontalFunction {
    fn name(&self) -> &'static str {
        match self {
            HorizontalFunction::Sum => "sum_horizontal",
            HorizontalFunction::Mean => "mean_horizontal",
            HorizontalFunction::Min => "min_horizontal",
            HorizontalFunction::Max => "max_horizontal",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::Elementwise
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let t = row_wise_type(e, self.name(), args, schema)?;
        Ok(match self {
            HorizontalFunction::Mean => float_type(&t),
            HorizontalFunction::Sum | HorizontalFunction::Min | HorizontalFunction::Max => t,
        })
    }

    fn call_text(&self, args: &[Expr]) -> String {
        format!("{}([{}])", self.name(), expr_list(args))
    }

    fn expands_selector_args(&self) -> bool {
        true
    }
}

/// The type arithmetic over a row of numeric `args` computes in (at least one input).
pub(crate) fn row_wise_type(
    e: &Expr,
    name: &str,
    args: &[Expr],
    schema: &Schema,
) -> Result<DataType> {
    required_input(e, name, args)?;
    let mut acc: Option<DataType> = None;
    for a in args {
        let t = numeric_input(e, name, a, schema)?;
        acc = Some(match acc {
            None => arith_type(&t, &t),
            Some(p) => arith_type(&p, &t),
        });
    }
    Ok(acc.unwrap_or(DataType::Float64))
}

fn many<E: Into<Expr>>(func: HorizontalFunction, exprs: impl IntoIterator<Item = E>) -> Expr {
    Expr::call(func, exprs.into_iter().map(Into::into).collect())
}

/// Row-wise sum, following Polars: nulls count as 0 (a row of nulls sums to 0), NaN and
/// `inf - inf` give NaN. Integers sum to Int64, anything with a float to Float64. Selectors
/// inside expand in place: `sum_horizontal([all_numeric()])`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("a" => [Some(1.0), None, Some(f64::NAN)], "b" => [Some(2.0), Some(3.0), Some(1.0)])?;
/// let out = df.lazy().select([
///     sum_horizontal([col("a"), col("b")]).alias("sum"),
///     mean_horizontal([col("a"), col("b")]).alias("mean"),
///     min_horizontal([cols(["a", "b"])]).alias("min"),
/// ]).collect()?;
/// let s = out.column_f64("sum")?;
/// assert_eq!(&s[..2], &[Some(3.0), Some(3.0)]);
/// assert!(s[2].unwrap().is_nan());
/// assert_eq!(out.column_f64("mean")?[1], Some(3.0));
/// assert_eq!(out.column_f64("min")?, vec![Some(1.0), Some(3.0), Some(1.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn sum_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(HorizontalFunction::Sum, exprs)
}

/// Row-wise mean over the non-null inputs (a row of nulls gives null); NaN propagates
/// (Polars' semantics). Always Float64 (Float32 when every input is Float32).
pub fn mean_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(HorizontalFunction::Mean, exprs)
}

/// Row-wise minimum, skipping nulls and NaN (Polars' semantics): a row of nulls gives null, a
/// row with only NaN (and nulls) gives NaN. Integers stay Int64.
pub fn min_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(HorizontalFunction::Min, exprs)
}

/// Row-wise maximum, skipping nulls and NaN, as [`min_horizontal`].
pub fn max_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(HorizontalFunction::Max, exprs)
}
