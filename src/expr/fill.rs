//! Missing values: `fill_nan(v)` and `fill_null(v)` replace NaN or nulls by a value or an
//! expression; `fill_nan_with(Fill)` and `fill_null_with(Fill)` by a statistic of the column
//! (mean, median, min, max), zero, or the nearest valid neighbour ([`Fill`]).
//!
//! NaN and null are different things (Arrow validity vs a float value): each fill touches one
//! of them only. Fills from a statistic or a neighbour need the whole column; `fill_nan`,
//! `fill_null` and `Fill::Zero` run morsel by morsel. The optimizer's aggregate hoisting rewrites
//! `fill_nan_with(Fill::Mean)` and friends over Float64 into `fill_nan(x.nan_mean())` so the
//! statistic is computed once, in one pass. Kernel: `exec::kernels::fill`.

use arrow::datatypes::{DataType, Schema};

use super::function::{first_input, required_input, second_input, FunctionFamily, FunctionKind};
use super::types::{arith_input, arith_type, float_type, numeric_input, supertype, typed};
use super::Expr;
use crate::error::{Error, Result};

/// How `fill_nan_with` / `fill_null_with` choose the replacement value.
///
/// Statistics (`Mean`, `Median`, `Min`, `Max`) are computed over the column's *valid* values:
/// those that are neither null nor NaN. `Forward` carries the last valid value down, `Backward`
/// the next valid value up; where there is none, the gap stays as it was. A column with no
/// valid value is returned unchanged by the statistics too.
///
/// Unlike Polars, `fill_null_with(Fill::Forward)` never carries a NaN forward (NaN is not a
/// valid value here), and `Mean`/`Median` on an integer column give Float64 instead of
/// truncating to an integer.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [Some(1.0), Some(f64::NAN), None, Some(5.0)])?;
/// let out = df.lazy()
///     .with_columns([
///         col("x").fill_nan_with(Fill::Mean).alias("mean"),
///         col("x").fill_null_with(Fill::Forward).alias("ffill"),
///     ])
///     .collect()?;
/// assert_eq!(out.column_f64("mean")?, vec![Some(1.0), Some(3.0), None, Some(5.0)]);
/// let ffill = out.column_f64("ffill")?;
/// assert!(ffill[1].unwrap().is_nan()); // NaN is left alone by fill_null
/// assert_eq!(ffill[2], Some(1.0));     // the last valid value, skipping the NaN
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fill {
    /// The mean of the valid values.
    Mean,
    /// The median of the valid values (NumPy's: mean of the two middle values when even).
    Median,
    /// The smallest valid value.
    Min,
    /// The largest valid value.
    Max,
    /// Zero.
    Zero,
    /// The last valid value before the gap.
    Forward,
    /// The next valid value after the gap.
    Backward,
}

impl Fill {
    /// The variant's name as written in Rust (`Mean`, ...), for plan text.
    pub fn name(self) -> &'static str {
        match self {
            Fill::Mean => "Mean",
            Fill::Median => "Median",
            Fill::Min => "Min",
            Fill::Max => "Max",
            Fill::Zero => "Zero",
            Fill::Forward => "Forward",
            Fill::Backward => "Backward",
        }
    }

    /// True for the fills that need the whole column (a statistic or a neighbour).
    pub fn needs_whole_column(self) -> bool {
        self != Fill::Zero
    }
}

/// The fill functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum FillFunction {
    /// Replace NaN by `args[1]`.
    Nan,
    /// Replace null by `args[1]`.
    Null,
    /// Replace NaN by a statistic of the column or a neighbour (nulls untouched).
    NanWith(Fill),
    /// Replace null by a statistic of the column or a neighbour (NaN untouched).
    NullWith(Fill),
}

impl FunctionFamily for FillFunction {
    fn name(&self) -> &'static str {
        match self {
            FillFunction::Nan => "fill_nan",
            FillFunction::Null => "fill_null",
            FillFunction::NanWith(_) => "fill_nan_with",
            FillFunction::NullWith(_) => "fill_null_with",
        }
    }

    fn kind(&self) -> FunctionKind {
        match self {
            FillFunction::Nan | FillFunction::Null => FunctionKind::Elementwise,
            FillFunction::NanWith(f) | FillFunction::NullWith(f) => {
                if f.needs_whole_column() {
                    FunctionKind::WholeColumn
                } else {
                    FunctionKind::Elementwise
                }
            }
        }
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let name = self.name();
        match self {
            FillFunction::Nan => {
                let t = arith_input(e, name, first_input(name, args)?, schema)?;
                let v = arith_input(e, name, second_input(name, args)?, schema)?;
                Ok(arith_type(&t, &v))
            }
            FillFunction::Null => {
                let first = first_input(name, args)?;
                let t = first.data_type(schema)?;
                let value = second_input(name, args)?;
                let v = value.data_type(schema)?;
                supertype(&t, &v).ok_or_else(|| {
                    Error::Type(format!(
                        "fill_null value {} does not fit {}",
                        typed(value, &v),
                        typed(first, &t)
                    ))
                })
            }
            FillFunction::NanWith(_) => {
                // Integers hold no NaN: they pass through with their type.
                let t = numeric_input(e, name, required_input(e, name, args)?, schema)?;
                Ok(if t == DataType::Null {
                    DataType::Float64
                } else {
                    t
                })
            }
            FillFunction::NullWith(fill) => {
                let first = required_input(e, name, args)?;
                let t = match fill {
                    Fill::Forward | Fill::Backward => first.data_type(schema)?,
                    Fill::Mean | Fill::Median | Fill::Min | Fill::Max | Fill::Zero => {
                        numeric_input(e, name, first, schema)?
                    }
                };
                Ok(match fill {
                    Fill::Mean | Fill::Median => float_type(&t),
                    Fill::Min | Fill::Max | Fill::Zero | Fill::Forward | Fill::Backward => t,
                })
            }
        }
    }

    fn params(&self) -> Vec<String> {
        match self {
            FillFunction::Nan | FillFunction::Null => vec![],
            FillFunction::NanWith(f) | FillFunction::NullWith(f) => {
                vec![format!("Fill::{}", f.name())]
            }
        }
    }
}

impl Expr {
    /// Replace NaN by a value or expression (nulls untouched).
    pub fn fill_nan(self, value: impl Into<Expr>) -> Expr {
        Expr::call(FillFunction::Nan, vec![self, value.into()])
    }

    /// Replace null by a value or expression (NaN untouched).
    pub fn fill_null(self, value: impl Into<Expr>) -> Expr {
        Expr::call(FillFunction::Null, vec![self, value.into()])
    }

    /// Replace NaN using a [`Fill`] strategy (nulls untouched).
    pub fn fill_nan_with(self, fill: Fill) -> Expr {
        Expr::call(FillFunction::NanWith(fill), vec![self])
    }

    /// Replace nulls using a [`Fill`] strategy (NaN untouched).
    pub fn fill_null_with(self, fill: Fill) -> Expr {
        Expr::call(FillFunction::NullWith(fill), vec![self])
    }
}
