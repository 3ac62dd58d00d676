//! Aggregates: [`AggFunc`], the builder methods that make them (`sum`, `mean`, `std(ddof)`,
//! the NaN-skipping `nan_*` family, `n_unique`, ...) and the free functions `len()` and
//! `corr(a, b)`, their type rule and their plan text.
//!
//! An aggregate reduces its input to one value, which broadcasts when combined with columns;
//! in `group_by(..).agg(..)` and `over(..)` it gives one value per group. Plain aggregates
//! follow NumPy (NaN propagates); the `nan_*` family skips NaN; all skip nulls. The kernels
//! are the executor's columnar accumulators (`exec::kernels::agg`).
//!
//! Decimals: `sum` stays an exact decimal (precision 38, the input's scale; an overflow is an
//! error), `min`/`max`/`first`/`last` keep the decimal type, and the statistics that are not
//! sums of values (mean, median, std, var, quantile, corr) are Float64, as Polars gives them.

use arrow::datatypes::{DataType, Schema};

use super::types::{is_arith, is_decimal, is_duration, is_string, is_temporal, DECIMAL_PRECISION};
use super::{dtype_name, format_float};
use super::{Expr, Scalar};
use crate::error::{Error, Result};

/// Aggregates. Plain ones follow NumPy (NaN propagates); the `Nan*` family skips NaN; all skip
/// nulls. `ddof` is explicit for `Std`/`Var` (NumPy's default is 0).
#[derive(Clone, Debug, PartialEq)]
pub enum AggFunc {
    /// The sum (0 over no values, as NumPy; NaN if any value is NaN).
    Sum,
    /// The arithmetic mean.
    Mean,
    /// The middle value (the mean of the two middle ones for an even count).
    Median,
    /// The smallest value (NaN if any value is NaN, as NumPy's `min`).
    Min,
    /// The largest value (NaN if any value is NaN, as NumPy's `max`).
    Max,
    /// The standard deviation with `ddof` delta degrees of freedom.
    Std(u8),
    /// The variance with `ddof` delta degrees of freedom.
    Var(u8),
    /// Non-null values.
    Count,
    /// Null values.
    NullCount,
    /// Linear interpolation between closest ranks (NumPy's default method).
    Quantile(f64),
    /// Index of the first minimum (the first NaN if any, as NumPy).
    ArgMin,
    /// Index of the first maximum (the first NaN if any, as NumPy).
    ArgMax,
    /// The sum of the non-NaN values (`np.nansum`).
    NanSum,
    /// The mean of the non-NaN values (`np.nanmean`).
    NanMean,
    /// The median of the non-NaN values (`np.nanmedian`).
    NanMedian,
    /// The smallest non-NaN value (`np.nanmin`).
    NanMin,
    /// The largest non-NaN value (`np.nanmax`).
    NanMax,
    /// The standard deviation of the non-NaN values with `ddof` (`np.nanstd`).
    NanStd(u8),
    /// The variance of the non-NaN values with `ddof` (`np.nanvar`).
    NanVar(u8),
    /// The first value (null if the first row is null).
    First,
    /// The last value (null if the last row is null).
    Last,
    /// Distinct values (null counts as one, as every NaN does).
    NUnique,
    /// Rows, nulls included (`len()` alone counts the rows of the frame or group).
    Len,
    /// Pearson's correlation with another input, over the rows where both are valid.
    Corr(Box<Expr>),
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
            AggFunc::NUnique => "n_unique",
            AggFunc::Len => "len",
            AggFunc::Corr(_) => "corr",
        }
    }

    /// The second input of a two-input aggregate (`corr`).
    pub(crate) fn other_input(&self) -> Option<&Expr> {
        match self {
            AggFunc::Corr(b) => Some(b),
            _ => None,
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

    /// The plan text of this aggregate over `expr`: `col("x").std(1)`, `len()`,
    /// `corr(col("a"), col("b"))`.
    pub(crate) fn call_text(&self, expr: &Expr) -> String {
        match self {
            AggFunc::Len if is_rows(expr) => return "len()".into(),
            AggFunc::Corr(b) => return format!("corr({expr}, {b})"),
            _ => {}
        }
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
            | AggFunc::Last
            | AggFunc::NUnique
            | AggFunc::Len
            | AggFunc::Corr(_) => String::new(),
        };
        format!("{expr}.{}({arg})", self.name())
    }
}

/// The input of `len()`: no column, only the rows.
fn is_rows(e: &Expr) -> bool {
    matches!(e, Expr::Literal(Scalar::Null))
}

/// The number of rows: of the frame in `select`, of each group in `group_by(..).agg(..)`
/// and `over(..)` (Polars' `pl.len()`), named `"len"`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("g" => ["a", "b", "a"], "x" => [1.0, 2.0, 3.0])?;
/// let out = df.lazy().group_by([col("g")]).agg([len(), col("x").sum()]).collect()?;
/// assert_eq!(out.column_f64("len")?, vec![Some(2.0), Some(1.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn len() -> Expr {
    Expr::Literal(Scalar::Null).agg(AggFunc::Len)
}

/// Pearson's correlation of `a` and `b` over the rows where both are valid; NaN when fewer
/// than two rows remain, an input is constant, or an input holds NaN (as NumPy's `corrcoef`).
/// Named after `a`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("a" => [1.0, 2.0, 3.0], "b" => [2.0, 4.0, 7.0])?;
/// let out = df.lazy().select([corr(col("a"), col("b")).alias("r")]).collect()?;
/// assert!((out.column_f64("r")?[0].unwrap() - 0.9933992677987828).abs() < 1e-15);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn corr(a: impl Into<Expr>, b: impl Into<Expr>) -> Expr {
    a.into().agg(AggFunc::Corr(Box::new(b.into())))
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
    /// Number of distinct values; null counts as one value, and so does NaN.
    pub fn n_unique(self) -> Expr {
        self.agg(AggFunc::NUnique)
    }
    /// Number of rows, nulls included (see also the free function [`len()`]).
    pub fn len(self) -> Expr {
        self.agg(AggFunc::Len)
    }
}

impl AggFunc {
    /// The output type of the aggregate `e` over an input of type `t` (and its other inputs
    /// against `schema`).
    pub(crate) fn return_type(&self, e: &Expr, t: &DataType, schema: &Schema) -> Result<DataType> {
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
            AggFunc::Count | AggFunc::NullCount | AggFunc::Len => Ok(DataType::UInt64),
            AggFunc::NUnique => {
                crate::expr::over::check_key_type(e, t)?;
                Ok(DataType::UInt64)
            }
            AggFunc::Corr(b) => {
                numeric()?;
                let tb = b.data_type(schema)?;
                if !is_arith(&tb) {
                    return Err(Error::Type(format!(
                        "corr() needs numeric inputs, got {} in {e}",
                        dtype_name(&tb)
                    )));
                }
                Ok(DataType::Float64)
            }
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
