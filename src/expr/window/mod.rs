//! Sliding windows: `rolling_sum`, `rolling_mean`, `rolling_min`, `rolling_max`,
//! `rolling_std`, `rolling_var`, `rolling_median`, each with a `_with(RollingOptions)` form
//! (minimum periods, centring, weights, ddof) and the general `rolling(kind, options)`.
//!
//! The output has the input's length; see [`RollingOptions`] for the window of each row and
//! how nulls and NaN count. Windows need the whole column (the executor materializes it and
//! the kernel splits it into fixed chunks that re-read the rows before them, so results never
//! depend on the thread count). Windows by time (`rolling_mean_by(col("ts"), "7d")`) and the
//! per-row functions that read the rows before (`shift`, `diff`, `cum_sum`, `cum_prod`,
//! `cum_min`, `cum_max`, `cum_count`, `rank`) are in [`rows`]. Kernel:
//! `exec::kernels::window`.

mod rows;

pub use rows::{RankMethod, RankOptions};

use arrow::datatypes::{DataType, Schema};

use super::function::{method_call, required_input, FunctionFamily, FunctionKind};
use super::types::{float_type, numeric_input};
use super::{Expr, Scalar};
use crate::error::{Error, Result};

/// Which statistic a rolling window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RollingKind {
    /// The sum of the window's values.
    Sum,
    /// The mean of the window's values.
    Mean,
    /// The smallest value in the window.
    Min,
    /// The largest value in the window.
    Max,
    /// Standard deviation with `RollingOptions::ddof` (default 1, as Polars and pandas).
    Std,
    /// Variance with `RollingOptions::ddof` (default 1, as Polars and pandas).
    Var,
    /// The median of the window's values.
    Median,
}

impl RollingKind {
    /// The `Expr` method computing this statistic over a window by time (`rolling_mean_by`).
    pub fn by_method_name(self) -> &'static str {
        match self {
            RollingKind::Sum => "rolling_sum_by",
            RollingKind::Mean => "rolling_mean_by",
            RollingKind::Min => "rolling_min_by",
            RollingKind::Max => "rolling_max_by",
            RollingKind::Std => "rolling_std_by",
            RollingKind::Var => "rolling_var_by",
            RollingKind::Median => "rolling_median_by",
        }
    }

    /// The `Expr` method computing this window with default options (`rolling_mean`, ...).
    pub fn method_name(self) -> &'static str {
        match self {
            RollingKind::Sum => "rolling_sum",
            RollingKind::Mean => "rolling_mean",
            RollingKind::Min => "rolling_min",
            RollingKind::Max => "rolling_max",
            RollingKind::Std => "rolling_std",
            RollingKind::Var => "rolling_var",
            RollingKind::Median => "rolling_median",
        }
    }

    /// True when `RollingOptions::weights` apply (sum, mean, var, std).
    pub fn supports_weights(self) -> bool {
        matches!(
            self,
            RollingKind::Sum | RollingKind::Mean | RollingKind::Var | RollingKind::Std
        )
    }
}

/// Options of a rolling window: `RollingOptions::new(20).min_periods(1).center(true)`.
///
/// The window of row `i` is rows `i-w+1 ..= i` (the row and the `w-1` before it); with
/// `center(true)` it is shifted forward by `(w-1)/2` rows, as in pandas and Polars (`w = 4`
/// covers `i-2 ..= i+1`). Rows outside the column are simply absent. Nulls are skipped and do
/// not count towards `min_periods` (default: the window length); a window with fewer valid
/// values gives null. NaN counts as a value, and a window holding one gives NaN.
///
/// `weights` (one per window position, oldest first) make sum/mean/var/std weighted: the sum
/// is `Σ wᵢxᵢ`, the mean `Σ wᵢxᵢ / Σ wᵢ` and the variance `Σ wᵢ(xᵢ-m)² / Σ wᵢ` over the valid
/// positions (Polars' definitions; `ddof` does not apply to weighted windows). Weighted
/// min/max/median are rejected when the plan is built.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [1.0, 2.0, 3.0, 4.0])?;
/// let out = df.lazy()
///     .with_columns([
///         col("x").rolling_mean(2).alias("m2"),
///         col("x").rolling_sum_with(RollingOptions::new(3).min_periods(1).center(true)).alias("c"),
///     ])
///     .collect()?;
/// assert_eq!(out.column_f64("m2")?, vec![None, Some(1.5), Some(2.5), Some(3.5)]);
/// assert_eq!(out.column_f64("c")?, vec![Some(3.0), Some(6.0), Some(9.0), Some(7.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RollingOptions {
    /// Window length in rows (at least 1).
    pub window: usize,
    /// Valid values needed for a non-null result; `None` means `window`.
    pub min_periods: Option<usize>,
    /// Centre the window on the row instead of ending it there.
    pub center: bool,
    /// One weight per window position (oldest first).
    pub weights: Option<Vec<f64>>,
    /// Delta degrees of freedom of `rolling_std`/`rolling_var` (default 1).
    pub ddof: u8,
}

impl RollingOptions {
    /// A trailing window of `window` rows needing `window` valid values, ddof 1.
    pub fn new(window: usize) -> Self {
        Self {
            window,
            min_periods: None,
            center: false,
            weights: None,
            ddof: 1,
        }
    }
    /// Valid values needed for a non-null result.
    pub fn min_periods(mut self, n: usize) -> Self {
        self.min_periods = Some(n);
        self
    }
    /// Centre the window on the row.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }
    /// One weight per window position, oldest first.
    pub fn weights(mut self, weights: impl IntoIterator<Item = f64>) -> Self {
        self.weights = Some(weights.into_iter().collect());
        self
    }
    /// Delta degrees of freedom for std/var.
    pub fn ddof(mut self, ddof: u8) -> Self {
        self.ddof = ddof;
        self
    }
    /// The effective `min_periods`.
    pub fn min_periods_or_window(&self) -> usize {
        self.min_periods.unwrap_or(self.window)
    }
    /// The window's first and last row relative to the output row: `[-w+1+shift, shift]`.
    pub fn shift(&self) -> usize {
        if self.center {
            (self.window.max(1) - 1) / 2
        } else {
            0
        }
    }
    fn is_default_for(&self, window: usize) -> bool {
        *self == RollingOptions::new(window)
    }
}

/// The window functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum WindowFunction {
    /// A sliding-window statistic (same length as the input).
    Rolling {
        /// The statistic.
        kind: RollingKind,
        /// Window size, minimum periods, centring and ddof.
        options: RollingOptions,
    },
    /// A rolling statistic over the rows whose `by` value (the second argument) lies in
    /// `(t - window, t]` (see [`Expr::rolling_by`]).
    RollingBy {
        /// The statistic.
        kind: RollingKind,
        /// The window's length as a duration string (`"7d"`, `"2h"`).
        window: String,
        /// Fewer valid values than this in a window give null.
        min_periods: usize,
    },
    /// Values moved down `n` rows (up when negative); the rows left empty are null.
    Shift(i64),
    /// `x - x.shift(n)`.
    Diff(i64),
    /// The running sum.
    CumSum,
    /// The running product.
    CumProd,
    /// The running minimum.
    CumMin,
    /// The running maximum.
    CumMax,
    /// Non-null values so far, this row included (UInt32).
    CumCount,
    /// The rank of each value (average, min, max, dense or ordinal; see [`RankOptions`]).
    Rank(RankOptions),
}

impl WindowFunction {
    /// How many rows before a row its value depends on, when it depends on none after it: a
    /// pipeline then computes the function morsel by morsel, carrying that many rows of its
    /// input from one piece to the next (`None`: the function looks ahead, as a centred
    /// window does, and needs the whole column).
    pub fn lookback(&self) -> Option<usize> {
        match self {
            WindowFunction::Rolling { options, .. } => {
                (options.shift() == 0).then(|| options.window.max(1) - 1)
            }
            // Looking back `n` rows; a negative `n` looks ahead.
            WindowFunction::Shift(n) | WindowFunction::Diff(n) => usize::try_from(*n).ok(),
            // Running values depend on every row before; windows by time on a number of rows
            // only the data knows; ranks on the whole column.
            WindowFunction::RollingBy { .. }
            | WindowFunction::CumSum
            | WindowFunction::CumProd
            | WindowFunction::CumMin
            | WindowFunction::CumMax
            | WindowFunction::CumCount
            | WindowFunction::Rank(_) => None,
        }
    }
}

impl FunctionFamily for WindowFunction {
    fn name(&self) -> &'static str {
        match self {
            WindowFunction::Rolling { kind, .. } => kind.method_name(),
            WindowFunction::RollingBy {
                kind, min_periods, ..
            } => {
                if *min_periods == 1 {
                    kind.by_method_name()
                } else {
                    "rolling_by"
                }
            }
            WindowFunction::Shift(_) => "shift",
            WindowFunction::Diff(_) => "diff",
            WindowFunction::CumSum => "cum_sum",
            WindowFunction::CumProd => "cum_prod",
            WindowFunction::CumMin => "cum_min",
            WindowFunction::CumMax => "cum_max",
            WindowFunction::CumCount => "cum_count",
            WindowFunction::Rank(_) => "rank",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::WholeColumn
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let input = required_input(e, self.name(), args)?;
        match self {
            WindowFunction::Rolling { kind, options } => {
                let t = numeric_input(e, self.name(), input, schema)?;
                check_rolling(e, *kind, options)?;
                Ok(float_type(&t))
            }
            WindowFunction::RollingBy {
                window,
                min_periods,
                ..
            } => {
                let t = numeric_input(e, self.name(), input, schema)?;
                rows::check_rolling_by(e, args, window, *min_periods, schema)?;
                Ok(float_type(&t))
            }
            _ => rows::return_type(self, e, input, schema),
        }
    }

    fn params(&self) -> Vec<String> {
        match self {
            WindowFunction::Shift(n) | WindowFunction::Diff(n) => vec![n.to_string()],
            WindowFunction::Rank(o) => vec![o.to_string()],
            _ => vec![],
        }
    }

    fn call_text(&self, args: &[Expr]) -> String {
        match self {
            WindowFunction::Rolling { kind, options } => {
                format!("{}.{}", args[0], rolling_call(*kind, options))
            }
            WindowFunction::RollingBy {
                kind,
                window,
                min_periods,
            } => {
                let by = args.get(1).map(ToString::to_string).unwrap_or_default();
                if *min_periods == 1 {
                    format!("{}.{}({by}, {window:?})", args[0], self.name())
                } else {
                    format!(
                        "{}.rolling_by(RollingKind::{kind:?}, {by}, {window:?}, {min_periods})",
                        args[0]
                    )
                }
            }
            _ => method_call(self.name(), args, &self.params()),
        }
    }
}

fn check_rolling(e: &Expr, kind: RollingKind, o: &RollingOptions) -> Result<()> {
    let bad = |m: String| Err(Error::Plan(format!("{m} in {e}")));
    if o.window == 0 {
        return bad("a rolling window needs at least 1 row".into());
    }
    let mp = o.min_periods_or_window();
    if mp == 0 || mp > o.window {
        return bad(format!(
            "min_periods must be between 1 and the window ({}), got {mp}",
            o.window
        ));
    }
    if let Some(w) = &o.weights {
        if !kind.supports_weights() {
            return bad(format!(
                "{} does not take weights (only sum, mean, var and std do)",
                kind.method_name()
            ));
        }
        if w.len() != o.window {
            return bad(format!(
                "{} weights for a window of {} rows; give one weight per row",
                w.len(),
                o.window
            ));
        }
        if w.iter().any(|v| !v.is_finite()) {
            return bad("rolling weights must be finite".into());
        }
    }
    Ok(())
}

impl Expr {
    /// A rolling window of `kind` with `options` (the general form of `rolling_mean` etc.).
    pub fn rolling(self, kind: RollingKind, options: RollingOptions) -> Expr {
        Expr::call(WindowFunction::Rolling { kind, options }, vec![self])
    }

    /// Rolling sum over `window` rows (see [`RollingOptions`] for the window semantics).
    /// Running sums are Neumaier-compensated.
    pub fn rolling_sum(self, window: usize) -> Expr {
        self.rolling(RollingKind::Sum, RollingOptions::new(window))
    }
    /// Rolling mean over `window` rows.
    pub fn rolling_mean(self, window: usize) -> Expr {
        self.rolling(RollingKind::Mean, RollingOptions::new(window))
    }
    /// Rolling minimum over `window` rows.
    pub fn rolling_min(self, window: usize) -> Expr {
        self.rolling(RollingKind::Min, RollingOptions::new(window))
    }
    /// Rolling maximum over `window` rows.
    pub fn rolling_max(self, window: usize) -> Expr {
        self.rolling(RollingKind::Max, RollingOptions::new(window))
    }
    /// Rolling standard deviation over `window` rows, ddof 1 (Polars' and pandas' default;
    /// set another with `rolling_std_with(RollingOptions::new(w).ddof(0))`). A window with
    /// no more valid values than ddof gives null, one holding ±inf gives NaN.
    pub fn rolling_std(self, window: usize) -> Expr {
        self.rolling(RollingKind::Std, RollingOptions::new(window))
    }
    /// Rolling variance over `window` rows, ddof 1 (see [`Expr::rolling_std`]).
    pub fn rolling_var(self, window: usize) -> Expr {
        self.rolling(RollingKind::Var, RollingOptions::new(window))
    }
    /// Rolling median over `window` rows (mean of the two middle values when even).
    pub fn rolling_median(self, window: usize) -> Expr {
        self.rolling(RollingKind::Median, RollingOptions::new(window))
    }
    /// Rolling sum with options.
    pub fn rolling_sum_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Sum, options)
    }
    /// Rolling mean with options.
    pub fn rolling_mean_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Mean, options)
    }
    /// Rolling minimum with options.
    pub fn rolling_min_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Min, options)
    }
    /// Rolling maximum with options.
    pub fn rolling_max_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Max, options)
    }
    /// Rolling standard deviation with options (`ddof` from the options).
    pub fn rolling_std_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Std, options)
    }
    /// Rolling variance with options (`ddof` from the options).
    pub fn rolling_var_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Var, options)
    }
    /// Rolling median with options.
    pub fn rolling_median_with(self, options: RollingOptions) -> Expr {
        self.rolling(RollingKind::Median, options)
    }
}

/// Plan text for a rolling function: `rolling_mean(20)` with default options, else the
/// `_with` form spelling out the options.
fn rolling_call(kind: RollingKind, o: &RollingOptions) -> String {
    if o.is_default_for(o.window) {
        return format!("{}({})", kind.method_name(), o.window);
    }
    let mut s = format!("RollingOptions::new({})", o.window);
    if let Some(m) = o.min_periods {
        s.push_str(&format!(".min_periods({m})"));
    }
    if o.center {
        s.push_str(".center(true)");
    }
    if let Some(w) = &o.weights {
        let parts: Vec<String> = w.iter().map(|v| Scalar::Float64(*v).to_string()).collect();
        s.push_str(&format!(".weights([{}])", parts.join(", ")));
    }
    if o.ddof != 1 {
        s.push_str(&format!(".ddof({})", o.ddof));
    }
    format!("{}_with({s})", kind.method_name())
}
