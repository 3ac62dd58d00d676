//! The function and aggregate catalogue: what each `Function` and `AggFunc` is called in plan
//! text, whether it can run morsel by morsel, and (in `types`) what type it returns.
//!
//! New operations are added here as a variant, a builder method in `builders`, a type rule in
//! `types` and a kernel in `exec`.

use super::seed_a::{ColumnUdf, Fill, RollingKind, RollingOptions, RowUdf};

/// How a function relates input rows to output rows, which decides where it may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// Row i of the output depends only on row i of the inputs: runs morsel by morsel.
    Elementwise,
    /// Same length as the input but needs the whole column (windows, sorts, fills from a
    /// statistic): the executor materializes the input first.
    WholeColumn,
}

/// Elementwise and whole-column functions. Extra inputs (a fill value, an exponent) are the
/// `args` after the first of [`Expr::Function`](super::Expr::Function).
#[derive(Clone, Debug, PartialEq)]
pub enum Function {
    IsNan,
    IsNotNan,
    IsNull,
    IsNotNull,
    IsInfinite,
    IsFinite,
    Abs,
    Sqrt,
    Exp,
    Ln,
    Floor,
    Ceil,
    /// `args[1]` is the exponent.
    Pow,
    /// Bound values to `[min, max]`; NaN stays NaN.
    Clip {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Round half away from zero to this many decimals (NumPy rounds half to even; we follow
    /// Polars here and document it).
    Round(i32),
    /// Replace NaN by `args[1]`.
    FillNan,
    /// Replace null by `args[1]`.
    FillNull,
    // Issue 4 part A: missing values, scaling, windows
    /// Replace NaN by a statistic of the column or a neighbour (nulls untouched).
    FillNanWith(Fill),
    /// Replace null by a statistic of the column or a neighbour (NaN untouched).
    FillNullWith(Fill),
    /// `(x - nan_min) / (nan_max - nan_min)` mapped onto `[lo, hi]`; a constant column gives `lo`.
    MinMaxScale {
        lo: f64,
        hi: f64,
    },
    /// `min_max_scale` with its statistics given: `args` are `[x, min, max]` (scalars, such
    /// as hoisted aggregates), so it runs elementwise. The optimizer's aggregate hoisting
    /// rewrites `x.min_max_scale()` into `x.min_max_scale_with(x.nan_min(), x.nan_max())`.
    MinMaxScaleWith {
        lo: f64,
        hi: f64,
    },
    /// `(x - nan_mean) / nan_std(ddof 0)`; a constant column gives 0.
    Standardize,
    /// A sliding-window statistic (same length as the input).
    Rolling {
        kind: RollingKind,
        options: RollingOptions,
    },
    /// Row-wise sum of the args (nulls count as 0; NaN propagates).
    SumHorizontal,
    /// Row-wise mean of the args (nulls skipped; NaN propagates).
    MeanHorizontal,
    /// Row-wise minimum of the args (nulls and NaN skipped).
    MinHorizontal,
    /// Row-wise maximum of the args (nulls and NaN skipped).
    MaxHorizontal,
    /// A Rust closure over each row of the args.
    MapRows(RowUdf),
    /// A Rust closure over the whole column.
    MapColumns(ColumnUdf),
    /// `describe()`'s nine statistics of one column (nine rows, not the input's length).
    DescribeStats,
    /// The values of scalar args stacked into one column, one row each (`describe()`'s labels).
    Stack,
    // Issue 4 part B: sorting, indexing, random
    /// Row order that sorts the input (UInt64 indices).
    ArgSort(super::SortOptions),
    /// The input's values in sorted order.
    Sort(super::SortOptions),
    /// Values at the positions `args[1]` gives (negative counts from the end, null gives null).
    Gather,
    /// Values where the boolean `args[1]` is true (null counts as false); changes the length.
    Filter,
    /// The `k` largest values, largest first (NaN counts as largest, nulls only if needed).
    TopK(usize),
    /// The `k` smallest values, smallest first.
    BottomK(usize),
    /// The input's values in a random order (NumPy's `permutation`).
    Shuffle {
        seed: u64,
    },
    /// `n` random values (without replacement: no row twice).
    SampleN {
        n: usize,
        seed: u64,
        replace: bool,
    },
    /// `floor(frac * len)` random values.
    SampleFrac {
        frac: f64,
        seed: u64,
        replace: bool,
    },
    /// No input: `0, 1, .., len - 1` (UInt64) over the frame it is evaluated in.
    RowIndex,
    /// No input: uniform Float64 values in `[low, high)`, one per row.
    RandUniform {
        low: f64,
        high: f64,
        seed: u64,
    },
    /// No input: normal Float64 values, one per row.
    RandNormal {
        mean: f64,
        std: f64,
        seed: u64,
    },
    /// No input: uniform Int64 values in `[low, high)`, one per row.
    RandInt {
        low: i64,
        high: i64,
        seed: u64,
    },
}

impl Function {
    /// Where the function may run.
    pub fn kind(&self) -> FunctionKind {
        // Issue 4 part A: missing values, scaling, windows
        if let Some(kind) = self.seed_a_kind() {
            return kind;
        }
        if self.is_seed_b() {
            // Issue 4 part B: sorting, indexing, random. Random values depend on the row's
            // position in the whole frame, so they too need the materialized input.
            return FunctionKind::WholeColumn;
        }
        FunctionKind::Elementwise
    }

    /// Issue 4 part B's functions (sorting, indexing, random), evaluated by
    /// `exec::kernels::seed_b` and typed by `expr::seed_b`; the one list of them.
    pub fn is_seed_b(&self) -> bool {
        matches!(
            self,
            Function::ArgSort(_)
                | Function::Sort(_)
                | Function::Gather
                | Function::Filter
                | Function::TopK(_)
                | Function::BottomK(_)
                | Function::Shuffle { .. }
                | Function::SampleN { .. }
                | Function::SampleFrac { .. }
                | Function::RowIndex
                | Function::RandUniform { .. }
                | Function::RandNormal { .. }
                | Function::RandInt { .. }
        )
    }

    /// The builder-method name, used in plan text and by the script interpreter.
    pub fn name(&self) -> &'static str {
        match self {
            Function::IsNan => "is_nan",
            Function::IsNotNan => "is_not_nan",
            Function::IsNull => "is_null",
            Function::IsNotNull => "is_not_null",
            Function::IsInfinite => "is_infinite",
            Function::IsFinite => "is_finite",
            Function::Abs => "abs",
            Function::Sqrt => "sqrt",
            Function::Exp => "exp",
            Function::Ln => "ln",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Pow => "pow",
            Function::Clip { .. } => "clip",
            Function::Round(_) => "round",
            Function::FillNan => "fill_nan",
            Function::FillNull => "fill_null",
            // Issue 4 part A: missing values, scaling, windows
            Function::FillNanWith(_) => "fill_nan_with",
            Function::FillNullWith(_) => "fill_null_with",
            Function::MinMaxScale { .. } => "min_max_scale",
            Function::MinMaxScaleWith { .. } => "min_max_scale_with",
            Function::Standardize => "standardize",
            Function::Rolling { kind, .. } => kind.method_name(),
            Function::SumHorizontal => "sum_horizontal",
            Function::MeanHorizontal => "mean_horizontal",
            Function::MinHorizontal => "min_horizontal",
            Function::MaxHorizontal => "max_horizontal",
            Function::MapRows(_) => "map_rows",
            Function::MapColumns(_) => "map_columns",
            Function::DescribeStats => "describe_stats",
            Function::Stack => "stack",
            // Issue 4 part B: sorting, indexing, random
            Function::ArgSort(_) => "arg_sort",
            Function::Sort(_) => "sort",
            Function::Gather => "gather",
            Function::Filter => "filter",
            Function::TopK(_) => "top_k",
            Function::BottomK(_) => "bottom_k",
            Function::Shuffle { .. } => "shuffle",
            Function::SampleN { .. } => "sample_n",
            Function::SampleFrac { .. } => "sample_frac",
            Function::RowIndex => "row_index",
            Function::RandUniform { .. } => "rand_uniform",
            Function::RandNormal { .. } => "rand_normal",
            Function::RandInt { .. } => "rand_int",
        }
    }
}

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
}
