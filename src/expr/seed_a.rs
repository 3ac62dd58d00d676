//! Builders for the NumPy seed questions on missing values, scaling, windows and row/column
//! functions (issue 4, part A): [`Fill`], [`RollingOptions`], the closure wrappers
//! [`RowUdf`] / [`ColumnUdf`], the `Expr` methods (`fill_nan_with`, `min_max_scale`,
//! `standardize`, `rolling_*`, `map_columns`) and the free functions (`sum_horizontal`,
//! `mean_horizontal`, `min_horizontal`, `max_horizontal`, `map_rows`).
//!
//! Type rules, plan text and selector expansion for these functions live in
//! [`seed_a_types`](super::seed_a_types); kernels in `exec::kernels::{fill, scale, rolling,
//! horizontal, describe}`.

use std::fmt;
use std::sync::Arc;

use arrow::array::Float64Array;

use super::{Expr, Function, FunctionKind};
use crate::error::Result;

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

/// Which statistic a rolling window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RollingKind {
    Sum,
    Mean,
    Min,
    Max,
    /// Standard deviation with `RollingOptions::ddof` (default 1, as Polars and pandas).
    Std,
    /// Variance with `RollingOptions::ddof` (default 1, as Polars and pandas).
    Var,
    Median,
}

impl RollingKind {
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

impl Function {
    /// True for the functions of issue 4 part A (their kernels live outside `func.rs`).
    pub fn is_seed_a(&self) -> bool {
        self.seed_a_kind().is_some()
    }

    /// The kind of a part-A function, `None` for other functions.
    pub(crate) fn seed_a_kind(&self) -> Option<FunctionKind> {
        use FunctionKind::*;
        Some(match self {
            Function::FillNanWith(f) | Function::FillNullWith(f) => {
                if f.needs_whole_column() {
                    WholeColumn
                } else {
                    Elementwise
                }
            }
            Function::MinMaxScale { .. }
            | Function::Standardize
            | Function::Rolling { .. }
            | Function::MapColumns(_)
            | Function::DescribeStats
            | Function::Stack => WholeColumn,
            Function::SumHorizontal
            | Function::MeanHorizontal
            | Function::MinHorizontal
            | Function::MaxHorizontal
            | Function::MapRows(_)
            | Function::MinMaxScaleWith { .. } => Elementwise,
            _ => return None,
        })
    }

    /// True for functions whose args are a list of inputs in which a selector (`cols`,
    /// `all_numeric`) expands in place rather than into one expression per column.
    pub fn expands_selector_args(&self) -> bool {
        matches!(
            self,
            Function::SumHorizontal
                | Function::MeanHorizontal
                | Function::MinHorizontal
                | Function::MaxHorizontal
                | Function::MapRows(_)
        )
    }
}

fn many<E: Into<Expr>>(func: Function, exprs: impl IntoIterator<Item = E>) -> Expr {
    Expr::Function {
        func,
        args: exprs.into_iter().map(Into::into).collect(),
    }
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
    many(Function::SumHorizontal, exprs)
}

/// Row-wise mean over the non-null inputs (a row of nulls gives null); NaN propagates
/// (Polars' semantics). Always Float64 (Float32 when every input is Float32).
pub fn mean_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(Function::MeanHorizontal, exprs)
}

/// Row-wise minimum, skipping nulls and NaN (Polars' semantics): a row of nulls gives null, a
/// row with only NaN (and nulls) gives NaN. Integers stay Int64.
pub fn min_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(Function::MinHorizontal, exprs)
}

/// Row-wise maximum, skipping nulls and NaN, as [`min_horizontal`].
pub fn max_horizontal<E: Into<Expr>>(exprs: impl IntoIterator<Item = E>) -> Expr {
    many(Function::MaxHorizontal, exprs)
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
    many(Function::MapRows(f.into()), exprs)
}

impl Expr {
    fn seed_a(self, func: Function) -> Expr {
        Expr::Function {
            func,
            args: vec![self],
        }
    }

    /// Replace NaN using a [`Fill`] strategy (nulls untouched).
    pub fn fill_nan_with(self, fill: Fill) -> Expr {
        self.seed_a(Function::FillNanWith(fill))
    }

    /// Replace nulls using a [`Fill`] strategy (NaN untouched).
    pub fn fill_null_with(self, fill: Fill) -> Expr {
        self.seed_a(Function::FillNullWith(fill))
    }

    /// Min-max scaling to `[0, 1]`: `(x - nan_min) / (nan_max - nan_min)`.
    ///
    /// NaN stays NaN, null stays null, a constant column scales to 0.0 (scikit-learn's
    /// convention), a column without valid values stays NaN. Applies to each column of a
    /// selector and keeps its name: `cols(["a", "b"]).min_max_scale()`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [1.0, 3.0, f64::NAN, 5.0], "c" => [2.0, 2.0, 2.0, 2.0])?;
    /// let out = df.lazy().with_columns([cols(["a", "c"]).min_max_scale()]).collect()?;
    /// let a = out.column_f64("a")?;
    /// assert_eq!((a[0], a[1], a[3]), (Some(0.0), Some(0.5), Some(1.0)));
    /// assert!(a[2].unwrap().is_nan());
    /// assert_eq!(out.column_f64("c")?, vec![Some(0.0); 4]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn min_max_scale(self) -> Expr {
        self.min_max_scale_range(0.0, 1.0)
    }

    /// Min-max scaling to `[lo, hi]`: `lo + (x - nan_min) / (nan_max - nan_min) * (hi - lo)`;
    /// a constant column gives `lo` (scikit-learn's `MinMaxScaler(feature_range=(lo, hi))`).
    pub fn min_max_scale_range(self, lo: f64, hi: f64) -> Expr {
        self.seed_a(Function::MinMaxScale { lo, hi })
    }

    /// Min-max scaling with given statistics (scalars: literals or aggregates), elementwise:
    /// `(x - min) / (max - min)`, NaN stays NaN, `min == max` gives 0 (as `min_max_scale`,
    /// which is this with `nan_min()` and `nan_max()` of the column itself).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, 3.0, f64::NAN])?;
    /// let out = df.lazy().select([col("x").min_max_scale_with(1.0, 5.0)]).collect()?;
    /// assert_eq!(out.column_f64("x")?[..2], [Some(0.0), Some(0.5)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn min_max_scale_with(self, min: impl Into<Expr>, max: impl Into<Expr>) -> Expr {
        self.min_max_scale_range_with(0.0, 1.0, min, max)
    }

    /// [`min_max_scale_with`](Self::min_max_scale_with) onto `[lo, hi]`.
    pub fn min_max_scale_range_with(
        self,
        lo: f64,
        hi: f64,
        min: impl Into<Expr>,
        max: impl Into<Expr>,
    ) -> Expr {
        Expr::Function {
            func: Function::MinMaxScaleWith { lo, hi },
            args: vec![self, min.into(), max.into()],
        }
    }

    /// Standardization: `(x - nan_mean) / nan_std(ddof 0)`, as scikit-learn's `StandardScaler`.
    /// NaN stays NaN, null stays null, a constant column gives 0.0.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, 2.0, 3.0])?;
    /// let out = df.lazy().select([col("x").standardize()]).collect()?;
    /// let z = out.column_f64("x")?;
    /// assert!((z[0].unwrap() + 1.224744871391589).abs() < 1e-15 && z[1] == Some(0.0));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn standardize(self) -> Expr {
        self.seed_a(Function::Standardize)
    }

    /// A rolling window of `kind` with `options` (the general form of `rolling_mean` etc.).
    pub fn rolling(self, kind: RollingKind, options: RollingOptions) -> Expr {
        self.seed_a(Function::Rolling { kind, options })
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
        self.seed_a(Function::MapColumns(f.into()))
    }
}

/// Plan text for a rolling function: `rolling_mean(20)` with default options, else the
/// `_with` form spelling out the options.
pub(crate) fn rolling_call(kind: RollingKind, o: &RollingOptions) -> String {
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
        let parts: Vec<String> = w
            .iter()
            .map(|v| crate::expr::Scalar::Float64(*v).to_string())
            .collect();
        s.push_str(&format!(".weights([{}])", parts.join(", ")));
    }
    if o.ddof != 1 {
        s.push_str(&format!(".ddof({})", o.ddof));
    }
    format!("{}_with({s})", kind.method_name())
}
