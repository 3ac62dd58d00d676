//! Aggregates: [`AggFunc`], the builder methods that make them (`sum`, `mean`, `std(ddof)`,
//! the NaN-skipping `nan_*` family, ...), their type rule and their plan text.
//!
//! An aggregate reduces its input to one value, which broadcasts when combined with columns.
//! Plain aggregates follow NumPy (NaN propagates); the `nan_*` family skips NaN; all skip
//! nulls. The kernels are the executor's aggregate engine (`exec::kernels::agg`).
//!
//! Decimals: `sum` stays an exact decimal (precision 38, the input's scale; an overflow is an
//! error), `min`/`max`/`first`/`last` keep the decimal type, and the statistics that are not
//! sums of values (mean, median, std, var, quantile) are Float64, as Polars gives them.

use arrow::datatypes::DataType;

use super::types::{is_arith, is_decimal, is_duration, is_string, is_temporal, DECIMAL_PRECISION};
use super::Expr;
use crate::error::{Error, Result};
use crate::frame::display::{dtype_name, format_float};

/// Aggregates. Plain ones follow NumPy (NaN propagates); the `Nan*` family skips NaN; all skip
/// nulls. `ddof` is explicit for `Std`/`Var` (NumPy's default is 0).
#[derive(Clone, Debug, PartialEq)]
pub enum AggFunc {
    Sum,
    Mean,
    Median,
    Min,
    Max,
    Std(u8),
    Var(u8),
    /// Non-null values.
    Count,
    NullCount,
    /// Linear interpolation between closest ranks (NumPy's default method).
    Quantile(f64),
    /// Index of the first minimum (the first NaN if any, as NumPy).
    ArgMin,
    /// Index of the first maximum (the first NaN if any, as NumPy).
    ArgMax,
    NanSum,
    NanMean,
    NanMedian,
    NanMin,
    NanMax,
    NanStd(u8),
    NanVar(u8),
    First,
    Last,
}

impl AggFunc {
    /// The builder-method name, used in plan text and by the script interpreter.
    pub fn name(&self) -> &'static str {
        match self {
            AggFunc::Sum => "sum",
            AggFunc::Mean => "mean",
            AggFunc::Median => "median",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Std(_) => "std",
            AggFunc::Var(_) => "var",
            AggFunc::Count => "count",
            AggFunc::NullCount => "null_count",
            AggFunc::Quantile(_) => "quantile",
            AggFunc::ArgMin => "arg_min",
            AggFunc::ArgMax => "arg_max",
            AggFunc::NanSum => "nan_sum",
            AggFunc::NanMean => "nan_mean",
            AggFunc::NanMedian => "nan_median",
            AggFunc::NanMin => "nan_min",
            AggFunc::NanMax => "nan_max",
            AggFunc::NanStd(_) => "nan_std",
            AggFunc::NanVar(_) => "nan_var",
            AggFunc::First => "first",
            AggFunc::Last => "last",
        }
    }

    /// True when NaN values are skipped rather than propagated.
    pub fn skips_nan(&self) -> bool {
        matches!(
            self,
            AggFunc::NanSum
                | AggFunc::NanMean
                | AggFunc::NanMedian
                | AggFunc::NanMin
                | AggFunc::NanMax
                | AggFunc::NanStd(_)
                | AggFunc::NanVar(_)
        )
    }

    /// True when the aggregate can be computed from per-morsel partial states merged in order
    /// (so it streams); `Median`/`Quantile` need all values.
    pub fn is_streamable(&self) -> bool {
        !matches!(
            self,
            AggFunc::Median | AggFunc::NanMedian | AggFunc::Quantile(_)
        )
    }

    /// The plan text of this aggregate over `expr`: `col("x").std(1)`.
    pub(crate) fn call_text(&self, expr: &Expr) -> String {
        let arg = match self {
            AggFunc::Std(d) | AggFunc::Var(d) | AggFunc::NanStd(d) | AggFunc::NanVar(d) => {
                d.to_string()
            }
            AggFunc::Quantile(q) => format_float(*q),
            AggFunc::Sum
            | AggFunc::Mean
            | AggFunc::Median
            | AggFunc::Min
            | AggFunc::Max
            | AggFunc::Count
            | AggFunc::NullCount
            | AggFunc::ArgMin
            | AggFunc::ArgMax
            | AggFunc::NanSum
            | AggFunc::NanMean
            | AggFunc::NanMedian
            | AggFunc::NanMin
            | AggFunc::NanMax
            | AggFunc::First
            | AggFunc::Last => String::new(),
        };
        format!("{expr}.{}({arg})", self.name())
    }
}

impl Expr {
    fn agg(self, func: AggFunc) -> Expr {
        Expr::Agg {
            func,
            expr: Box::new(self),
        }
    }

    /// Sum (NaN propagates; integers sum to Int64).
    pub fn sum(self) -> Expr {
        self.agg(AggFunc::Sum)
    }
    /// Arithmetic mean (NaN propagates).
    pub fn mean(self) -> Expr {
        self.agg(AggFunc::Mean)
    }
    /// Median (NaN propagates).
    pub fn median(self) -> Expr {
        self.agg(AggFunc::Median)
    }
    /// Minimum (NaN propagates).
    pub fn min(self) -> Expr {
        self.agg(AggFunc::Min)
    }
    /// Maximum (NaN propagates).
    pub fn max(self) -> Expr {
        self.agg(AggFunc::Max)
    }
    /// Standard deviation with `ddof` delta degrees of freedom (NumPy's default is 0).
    pub fn std(self, ddof: u8) -> Expr {
        self.agg(AggFunc::Std(ddof))
    }
    /// Variance with `ddof` delta degrees of freedom.
    pub fn var(self, ddof: u8) -> Expr {
        self.agg(AggFunc::Var(ddof))
    }
    /// Number of non-null values.
    pub fn count(self) -> Expr {
        self.agg(AggFunc::Count)
    }
    /// Number of nulls.
    pub fn null_count(self) -> Expr {
        self.agg(AggFunc::NullCount)
    }
    /// The `q` quantile (0..=1), linear interpolation as NumPy's default.
    pub fn quantile(self, q: f64) -> Expr {
        self.agg(AggFunc::Quantile(q))
    }
    /// Index of the first minimum.
    pub fn arg_min(self) -> Expr {
        self.agg(AggFunc::ArgMin)
    }
    /// Index of the first maximum.
    pub fn arg_max(self) -> Expr {
        self.agg(AggFunc::ArgMax)
    }
    /// Sum skipping NaN.
    pub fn nan_sum(self) -> Expr {
        self.agg(AggFunc::NanSum)
    }
    /// Mean skipping NaN.
    pub fn nan_mean(self) -> Expr {
        self.agg(AggFunc::NanMean)
    }
    /// Median skipping NaN.
    pub fn nan_median(self) -> Expr {
        self.agg(AggFunc::NanMedian)
    }
    /// Minimum skipping NaN.
    pub fn nan_min(self) -> Expr {
        self.agg(AggFunc::NanMin)
    }
    /// Maximum skipping NaN.
    pub fn nan_max(self) -> Expr {
        self.agg(AggFunc::NanMax)
    }
    /// Standard deviation skipping NaN.
    pub fn nan_std(self, ddof: u8) -> Expr {
        self.agg(AggFunc::NanStd(ddof))
    }
    /// Variance skipping NaN.
    pub fn nan_var(self, ddof: u8) -> Expr {
        self.agg(AggFunc::NanVar(ddof))
    }
    /// First value.
    pub fn first(self) -> Expr {
        self.agg(AggFunc::First)
    }
    /// Last value.
    pub fn last(self) -> Expr {
        self.agg(AggFunc::Last)
    }
}

impl AggFunc {
    /// The output type of the aggregate `e` over an input of type `t`.
    pub(crate) fn return_type(&self, e: &Expr, t: &DataType) -> Result<DataType> {
        let numeric = || {
            if is_arith(t) || is_decimal(t) {
                Ok(())
            } else {
                Err(Error::Type(format!(
                    "{}() needs a numeric input, got {} in {e}",
                    self.name(),
                    dtype_name(t)
                )))
            }
        };
        match self {
            AggFunc::Count | AggFunc::NullCount => Ok(DataType::UInt64),
            AggFunc::First | AggFunc::Last => Ok(t.clone()),
            AggFunc::Min | AggFunc::Max | AggFunc::NanMin | AggFunc::NanMax => {
                if is_arith(t) || is_string(t) || is_temporal(t) || is_decimal(t) || is_duration(t)
                {
                    Ok(if *t == DataType::Boolean || *t == DataType::Null {
                        DataType::Int64
                    } else {
                        t.clone()
                    })
                } else {
                    Err(Error::Type(format!(
                        "{}() is not defined for {} in {e}",
                        self.name(),
                        dtype_name(t)
                    )))
                }
            }
            AggFunc::ArgMin | AggFunc::ArgMax => {
                numeric()?;
                Ok(DataType::UInt64)
            }
            AggFunc::Sum | AggFunc::NanSum => {
                numeric()?;
                Ok(if let DataType::Decimal128(_, s) = t {
                    // Exact, with room for the sum's digits (as Polars).
                    DataType::Decimal128(DECIMAL_PRECISION, *s)
                } else if t.is_floating() {
                    DataType::Float64
                } else {
                    DataType::Int64
                })
            }
            AggFunc::Mean
            | AggFunc::Median
            | AggFunc::Std(_)
            | AggFunc::Var(_)
            | AggFunc::Quantile(_)
            | AggFunc::NanMean
            | AggFunc::NanMedian
            | AggFunc::NanStd(_)
            | AggFunc::NanVar(_) => {
                numeric()?;
                if let AggFunc::Quantile(q) = self {
                    if !(0.0..=1.0).contains(q) {
                        return Err(Error::Plan(format!(
                            "quantile must be between 0 and 1, got {q} in {e}"
                        )));
                    }
                }
                Ok(DataType::Float64)
            }
        }
    }
}
