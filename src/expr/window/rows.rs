//! Window functions that read the rows before each row: `shift`, `diff`, the cumulative
//! `cum_sum`, `cum_prod`, `cum_min`, `cum_max`, `cum_count`, `rank`, and rolling statistics
//! over windows by time (`rolling_mean_by(col("ts"), "7d")`). Whole-column functions, Polars'
//! names; `expr.over([..])` partitions them.
//!
//! - `shift(n)`: row `i` gets row `i - n` (`n < 0` looks ahead); rows with no source are null.
//!   Any type.
//! - `diff(n)`: `x - x.shift(n)`: integers give Int64, floats keep their type, dates and
//!   timestamps give durations, decimals stay exact.
//! - Cumulative functions skip nulls (a null row stays null and the running value carries
//!   over it). `cum_sum`/`cum_prod` give Int64 for integers and keep float and decimal types
//!   (plain sequential sums, the same bits as NumPy's and Polars' `cumsum`); NaN propagates to
//!   every later row. `cum_min`/`cum_max` keep the type; NaN propagates too, as NumPy's
//!   `minimum.accumulate` and this engine's `min()` (Polars skips it). `cum_count` counts the
//!   non-null values so far (UInt32, never null).
//! - `rank(RankOptions)`: 1-based ranks in ascending order (or descending); ties by
//!   [`RankMethod`] (average by default, as Polars: Float64; the others UInt32). NaN ranks
//!   above every number, nulls stay null.
//! - `rolling_*_by(by, window)`: the statistic of the rows whose `by` (a date or datetime
//!   column, sorted ascending, else an error) lies in `(t - window, t]` where `t` is the row's
//!   own `by` (Polars' default `closed="right"`, so rows sharing a time share a window);
//!   `window` as Polars writes durations (`"7d"`, `"2h"`, `"1mo"`: calendar months step by
//!   the calendar, in local time for zoned columns). At least `min_periods` (default 1) valid
//!   values, else null; rows whose `by` is null are null and in no window. Nulls and NaN in
//!   the values count as in `rolling_*`.

use std::fmt;

use arrow::datatypes::{DataType, Schema};

use super::super::function::FunctionFamily;
use super::super::temporal::calendar::{Span, Zone};
use super::super::types::DECIMAL_PRECISION;
use super::super::types::{arith_type, is_decimal, is_duration, is_string, is_temporal, typed};
use super::{RollingKind, WindowFunction};
use crate::error::{Error, Result};
use crate::expr::Expr;

/// How `rank` breaks ties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RankMethod {
    /// The mean of the ranks the tied values span (Float64).
    #[default]
    Average,
    /// The lowest rank of the tie.
    Min,
    /// The highest rank of the tie.
    Max,
    /// Ties share a rank and the next value gets the next rank (no gaps).
    Dense,
    /// Every value its own rank, ties in order of appearance.
    Ordinal,
}

/// Options of `rank`: `RankOptions::new().method(RankMethod::Dense).descending(true)`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [3.0, 1.0, 3.0, 2.0])?;
/// let out = df.lazy()
///     .select([
///         col("x").rank(RankOptions::default()).alias("avg"),
///         col("x").rank(RankOptions::new().method(RankMethod::Dense).descending(true)).alias("d"),
///     ])
///     .collect()?;
/// assert_eq!(out.column_f64("avg")?, vec![Some(3.5), Some(1.0), Some(3.5), Some(2.0)]);
/// assert_eq!(out.column_f64("d")?, vec![Some(1.0), Some(3.0), Some(1.0), Some(2.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RankOptions {
    /// How ties are ranked.
    pub method: RankMethod,
    /// Whether the largest value ranks first.
    pub descending: bool,
}

impl RankOptions {
    /// Average ranks, ascending (Polars' default).
    pub fn new() -> Self {
        Self::default()
    }
    /// How ties are ranked.
    pub fn method(mut self, method: RankMethod) -> Self {
        self.method = method;
        self
    }
    /// Rank the largest value 1.
    pub fn descending(mut self, descending: bool) -> Self {
        self.descending = descending;
        self
    }
}

/// Plan text: `RankOptions::new().method(RankMethod::Dense)`.
impl fmt::Display for RankOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RankOptions::new()")?;
        if self.method != RankMethod::Average {
            write!(f, ".method(RankMethod::{:?})", self.method)?;
        }
        if self.descending {
            write!(f, ".descending(true)")?;
        }
        Ok(())
    }
}

/// Output types of the per-row functions (see the module docs).
pub(super) fn return_type(
    func: &WindowFunction,
    e: &Expr,
    input: &Expr,
    schema: &Schema,
) -> Result<DataType> {
    let t = input.data_type(schema)?;
    let wrong = |needs: &str| {
        Err(Error::Type(format!(
            "{}() needs {needs}, got {} in {e}",
            func.name(),
            typed(input, &t)
        )))
    };
    let int = t.is_integer() || t == DataType::Boolean;
    match func {
        WindowFunction::Shift(_) => Ok(t),
        WindowFunction::CumCount => Ok(DataType::UInt32),
        WindowFunction::Diff(_) => Ok(match &t {
            DataType::Date32 | DataType::Date64 => {
                DataType::Duration(arrow::datatypes::TimeUnit::Millisecond)
            }
            DataType::Timestamp(u, _) | DataType::Duration(u) => DataType::Duration(*u),
            DataType::Decimal128(_, s) => DataType::Decimal128(DECIMAL_PRECISION, *s),
            t if t.is_integer() || t.is_floating() || *t == DataType::Null => arith_type(t, t),
            _ => return wrong("a number, date, datetime, duration or decimal"),
        }),
        WindowFunction::CumSum => Ok(match &t {
            DataType::Decimal128(_, s) => DataType::Decimal128(DECIMAL_PRECISION, *s),
            DataType::Duration(_) => t.clone(),
            t if int || t.is_floating() || *t == DataType::Null => arith_type(t, t),
            _ => return wrong("a number, duration or decimal"),
        }),
        WindowFunction::CumProd if int || t.is_floating() || t == DataType::Null => {
            Ok(arith_type(&t, &t))
        }
        WindowFunction::CumProd => wrong("a number"),
        WindowFunction::CumMin | WindowFunction::CumMax => {
            if t.is_integer()
                || t.is_floating()
                || is_temporal(&t)
                || is_duration(&t)
                || is_decimal(&t)
                || t == DataType::Null
            {
                Ok(t)
            } else {
                wrong("a number, date, datetime, duration or decimal")
            }
        }
        WindowFunction::Rank(o) => {
            let sortable = t.is_integer()
                || t.is_floating()
                || is_temporal(&t)
                || is_duration(&t)
                || is_decimal(&t)
                || is_string(&t)
                || matches!(t, DataType::Boolean | DataType::Null);
            if !sortable {
                return wrong("values that sort");
            }
            Ok(if o.method == RankMethod::Average {
                DataType::Float64
            } else {
                DataType::UInt32
            })
        }
        WindowFunction::Rolling { .. } | WindowFunction::RollingBy { .. } => Err(Error::Internal(
            "rolling windows have their own type rule".into(),
        )),
    }
}

/// The checks of a window by time: a `by` that is a date or datetime with a known zone, a
/// duration that parses and that the `by` column's unit can express, and `min_periods >= 1`.
pub(super) fn check_rolling_by(
    e: &Expr,
    args: &[Expr],
    window: &str,
    min_periods: usize,
    schema: &Schema,
) -> Result<()> {
    let by = args
        .get(1)
        .ok_or_else(|| Error::Internal(format!("{e} without its `by` column")))?;
    let t = by.data_type(schema)?;
    let span = Span::parse(window).map_err(|m| Error::Plan(format!("{m} in {e}")))?;
    match &t {
        DataType::Date32 | DataType::Date64 => {}
        DataType::Timestamp(unit, tz) => {
            if let Some(z) = tz {
                Zone::parse(z).map_err(|m| Error::Plan(format!("{m} of {by} in {e}")))?;
            }
            if span.fixed_ticks(*unit).is_none() {
                return Err(Error::Plan(format!(
                    "window {window:?} is finer than the {unit:?} ticks of {by} in {e}"
                )));
            }
        }
        _ => {
            return Err(Error::Type(format!(
                "the `by` of a window by time must be a date or datetime, got {} in {e}",
                typed(by, &t)
            )))
        }
    }
    if min_periods == 0 {
        return Err(Error::Plan(format!(
            "min_periods must be at least 1 in {e}"
        )));
    }
    Ok(())
}

impl Expr {
    fn per_row(self, func: WindowFunction) -> Expr {
        Expr::call(func, vec![self])
    }

    /// Values moved down `n` rows (up when `n` is negative); the rows left empty are null.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("close" => [10.0, 11.0, 12.1])?;
    /// let out = df.lazy()
    ///     .select([(col("close") / col("close").shift(1) - 1.0).alias("return")])
    ///     .collect()?;
    /// assert_eq!(out.column_f64("return")?[1], Some(0.10000000000000009));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn shift(self, n: i64) -> Expr {
        self.per_row(WindowFunction::Shift(n))
    }
    /// `x - x.shift(n)`: Int64 for integers, durations for dates, exact for decimals.
    pub fn diff(self, n: i64) -> Expr {
        self.per_row(WindowFunction::Diff(n))
    }
    /// Running sum (nulls skipped and kept null, NaN propagates).
    pub fn cum_sum(self) -> Expr {
        self.per_row(WindowFunction::CumSum)
    }
    /// Running product (nulls skipped and kept null, NaN propagates).
    pub fn cum_prod(self) -> Expr {
        self.per_row(WindowFunction::CumProd)
    }
    /// Running minimum (nulls skipped and kept null, NaN propagates).
    pub fn cum_min(self) -> Expr {
        self.per_row(WindowFunction::CumMin)
    }
    /// Running maximum (nulls skipped and kept null, NaN propagates).
    pub fn cum_max(self) -> Expr {
        self.per_row(WindowFunction::CumMax)
    }
    /// Number of non-null values so far, this row included (UInt32).
    pub fn cum_count(self) -> Expr {
        self.per_row(WindowFunction::CumCount)
    }
    /// Rank of each value (see [`RankOptions`]); nulls stay null.
    pub fn rank(self, options: RankOptions) -> Expr {
        self.per_row(WindowFunction::Rank(options))
    }

    /// A rolling `kind` over the rows whose `by` lies in `(t - window, t]`, `t` being the
    /// row's own `by`; at least `min_periods` valid values, else null. `by` must be sorted
    /// ascending (see the `window` module docs for the details).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, 2.0, 4.0])?;
    /// let out = df.lazy()
    ///     .with_columns([col("x").cast(DataType::Int32).cast(DataType::Date32).alias("d")])
    ///     .select([col("x").rolling_sum_by(col("d"), "2d").alias("s")])
    ///     .collect()?;
    /// assert_eq!(out.column_f64("s")?, vec![Some(1.0), Some(3.0), Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn rolling_by(self, kind: RollingKind, by: Expr, window: &str, min_periods: usize) -> Expr {
        Expr::call(
            WindowFunction::RollingBy {
                kind,
                window: window.to_string(),
                min_periods,
            },
            vec![self, by],
        )
    }
    /// Sum over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_sum_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Sum, by, window, 1)
    }
    /// Mean over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_mean_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Mean, by, window, 1)
    }
    /// Minimum over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_min_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Min, by, window, 1)
    }
    /// Maximum over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_max_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Max, by, window, 1)
    }
    /// Standard deviation (ddof 1) over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_std_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Std, by, window, 1)
    }
    /// Variance (ddof 1) over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_var_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Var, by, window, 1)
    }
    /// Median over the rows whose `by` lies in `(t - window, t]`.
    pub fn rolling_median_by(self, by: Expr, window: &str) -> Expr {
        self.rolling_by(RollingKind::Median, by, window, 1)
    }
}
