//! Sorting, indexing and random expressions (NumPy seed questions 12, 18 and 19): the builder
//! methods `arg_sort`, `sort`, `gather`/`take`, `filter`, `top_k`, `bottom_k`, `shuffle`,
//! `sample_n`, `sample_frac`; the input-less constructors `row_index`, `rand_uniform`,
//! `rand_normal`, `rand_int`; and their type rules and plan-text parameters.
//!
//! All of these are whole-column functions: the executor materializes their input and runs
//! them once over the whole column, so the result never depends on morsel boundaries.
//!
//! Length rules: `arg_sort`, `sort`, `shuffle` and the random constructors keep the frame's
//! length (they fit `with_columns`). `gather` gives one row per index, `filter` one per true
//! mask value, `top_k`/`bottom_k` at most `k` rows and `sample_*` the sample's size: use them
//! in `select`, where every output must have the same length (or be a scalar, which
//! broadcasts); in `with_columns` a length other than the frame's is an error naming the
//! expression. To reorder or subset whole rows, use the `LazyFrame` methods (`sort`,
//! `gather`, `filter`, `sample_n`, `shuffle`).

use arrow::datatypes::{DataType, Schema};

use super::types::is_numeric;
use super::{Expr, Function, Scalar, SortOptions};
use crate::error::{Error, Result};
use crate::frame::display::dtype_name;

fn unary(e: Expr, func: Function) -> Expr {
    Expr::Function {
        func,
        args: vec![e],
    }
}

fn nullary(func: Function) -> Expr {
    Expr::Function { func, args: vec![] }
}

/// `0, 1, .., n - 1` (UInt64) over the frame it is evaluated in, like Polars'
/// `int_range(len())`; unnamed (`"literal"`) until aliased.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [5.0, 6.0, 7.0])?;
/// let out = df.lazy().with_columns([row_index().alias("i")]).collect()?;
/// assert_eq!(out.column_f64("i")?, vec![Some(0.0), Some(1.0), Some(2.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn row_index() -> Expr {
    nullary(Function::RowIndex)
}

/// Uniform Float64 values in `[low, high)`, one per row of the frame it is evaluated in.
///
/// The same seed gives the same values for any thread count, and exactly NumPy's
/// `np.random.default_rng(seed).uniform(low, high, n)`. Unnamed (`"literal"`) until aliased.
///
/// ```
/// use fusedframe::prelude::*;
/// let out = zeros(3, ["x"]).with_columns([rand_uniform(0.0, 1.0, 42).alias("u")]).collect()?;
/// // np.random.default_rng(42).random(3)
/// assert_eq!(out.column_f64("u")?[0], Some(0.7739560485559633));
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn rand_uniform(low: impl Into<f64>, high: impl Into<f64>, seed: u64) -> Expr {
    nullary(Function::RandUniform {
        low: low.into(),
        high: high.into(),
        seed,
    })
}

/// Normal Float64 values with this mean and standard deviation, one per row (Box-Muller on
/// NumPy's PCG64 stream: reproducible for any thread count, but not NumPy's ziggurat values).
///
/// ```
/// use fusedframe::prelude::*;
/// let out = zeros(1000, ["x"]).select([rand_normal(10.0, 2.0, 7).mean().alias("m")]).collect()?;
/// assert!((out.column_f64("m")?[0].unwrap() - 10.0).abs() < 0.3);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn rand_normal(mean: impl Into<f64>, std: impl Into<f64>, seed: u64) -> Expr {
    nullary(Function::RandNormal {
        mean: mean.into(),
        std: std.into(),
        seed,
    })
}

/// Uniform Int64 values in `[low, high)`, one per row: NumPy's
/// `np.random.default_rng(seed).integers(low, high, n)`.
///
/// ```
/// use fusedframe::prelude::*;
/// let out = zeros(5, ["x"]).select([rand_int(0, 10, 1).alias("k")]).collect()?;
/// assert!(out.column_f64("k")?.iter().all(|v| (0.0..10.0).contains(&v.unwrap())));
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn rand_int(low: i64, high: i64, seed: u64) -> Expr {
    nullary(Function::RandInt { low, high, seed })
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
        unary(self, Function::ArgSort(options))
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
        unary(self, Function::Sort(options))
    }

    /// The values at the positions `indices` gives (any integer type): NumPy's `x[idx]`.
    ///
    /// A negative index counts from the end (`-1` is the last value), a null index gives a
    /// null, an index out of range is an error naming it. One output row per index; a scalar
    /// index gives a scalar (which broadcasts).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [10.0, 20.0, 30.0], "i" => [2, 0, -1])?;
    /// let out = df.lazy().select([col("x").gather(col("i"))]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(30.0), Some(10.0), Some(30.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn gather(self, indices: impl Into<Expr>) -> Expr {
        Expr::Function {
            func: Function::Gather,
            args: vec![self, indices.into()],
        }
    }

    /// Same as [`Expr::gather`] (NumPy's `take`).
    pub fn take(self, indices: impl Into<Expr>) -> Expr {
        self.gather(indices)
    }

    /// The values where the boolean `mask` is true (null counts as false): NumPy's `x[mask]`.
    /// The output is shorter than the frame: use it in `select` (see the module docs); to drop
    /// whole rows use `LazyFrame::filter`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, -2.0, 3.0])?;
    /// let out = df.lazy().select([col("x").filter(col("x").gt(0.0)).sum()]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn filter(self, mask: impl Into<Expr>) -> Expr {
        Expr::Function {
            func: Function::Filter,
            args: vec![self, mask.into()],
        }
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
        unary(self, Function::TopK(k))
    }

    /// The `k` smallest values, smallest first (NaN after numbers, nulls last).
    pub fn bottom_k(self, k: usize) -> Expr {
        unary(self, Function::BottomK(k))
    }

    /// The values in a random order: NumPy's `x[default_rng(seed).permutation(len)]`.
    pub fn shuffle(self, seed: u64) -> Expr {
        unary(self, Function::Shuffle { seed })
    }

    /// `n` random values. Without replacement they are `x[p[len - n:]]` for NumPy's
    /// `p = default_rng(seed).permutation(len)` (an error if `n > len`); with replacement
    /// `x[default_rng(seed).integers(0, len, n)]`.
    pub fn sample_n(self, n: usize, seed: u64, replace: bool) -> Expr {
        unary(self, Function::SampleN { n, seed, replace })
    }

    /// `floor(frac * len)` random values (Polars truncates the same way), as [`Expr::sample_n`].
    pub fn sample_frac(self, frac: f64, seed: u64, replace: bool) -> Expr {
        unary(
            self,
            Function::SampleFrac {
                frac,
                seed,
                replace,
            },
        )
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

/// The parameters of this module's functions as plan text (after any expression arguments).
pub(super) fn params(func: &Function) -> Vec<String> {
    let f = |v: f64| Scalar::Float64(v).to_string();
    match func {
        Function::ArgSort(o) | Function::Sort(o) => vec![sort_options_text(o)],
        Function::TopK(k) | Function::BottomK(k) => vec![k.to_string()],
        Function::Shuffle { seed } => vec![seed.to_string()],
        Function::SampleN { n, seed, replace } => {
            vec![n.to_string(), seed.to_string(), replace.to_string()]
        }
        Function::SampleFrac {
            frac,
            seed,
            replace,
        } => vec![f(*frac), seed.to_string(), replace.to_string()],
        Function::RandUniform { low, high, seed } => vec![f(*low), f(*high), seed.to_string()],
        Function::RandNormal { mean, std, seed } => vec![f(*mean), f(*std), seed.to_string()],
        Function::RandInt { low, high, seed } => {
            vec![low.to_string(), high.to_string(), seed.to_string()]
        }
        _ => vec![],
    }
}

fn plan_err(msg: String) -> Error {
    Error::Plan(msg)
}

/// Output types of this module's functions; also called for any function without input.
pub(super) fn function_type(
    e: &Expr,
    func: &Function,
    args: &[Expr],
    schema: &Schema,
) -> Result<DataType> {
    let finite = |name: &str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err(plan_err(format!("{name} must be finite, got {v} in {e}")))
        }
    };
    match func {
        Function::RowIndex => return Ok(DataType::UInt64),
        Function::RandUniform { low, high, .. } => {
            finite("low", *low)?;
            finite("high", *high)?;
            return Ok(DataType::Float64);
        }
        Function::RandNormal { mean, std, .. } => {
            finite("mean", *mean)?;
            finite("std", *std)?;
            if *std < 0.0 {
                return Err(plan_err(format!("std must be >= 0, got {std} in {e}")));
            }
            return Ok(DataType::Float64);
        }
        Function::RandInt { low, high, .. } => {
            if low >= high {
                return Err(plan_err(format!(
                    "rand_int needs low < high, got {low} and {high} in {e}"
                )));
            }
            return Ok(DataType::Int64);
        }
        _ => {}
    }
    let first = args
        .first()
        .ok_or_else(|| Error::Internal(format!("{} without input", func.name())))?;
    let t = first.data_type(schema)?;
    let second = || -> Result<DataType> {
        args.get(1)
            .ok_or_else(|| Error::Internal(format!("{} without its argument", func.name())))?
            .data_type(schema)
    };
    match func {
        Function::ArgSort(_) => Ok(DataType::UInt64),
        Function::Gather => {
            let i = second()?;
            if i.is_integer() || i == DataType::Null {
                Ok(t)
            } else {
                Err(Error::Type(format!(
                    "gather needs integer indices, got {} ({}) in {e}",
                    args[1],
                    dtype_name(&i)
                )))
            }
        }
        Function::Filter => {
            let m = second()?;
            if matches!(m, DataType::Boolean | DataType::Null) {
                Ok(t)
            } else {
                Err(Error::Type(format!(
                    "filter needs a boolean mask, got {} ({}) in {e}",
                    args[1],
                    dtype_name(&m)
                )))
            }
        }
        Function::TopK(_) | Function::BottomK(_) if !(is_numeric(&t) || sortable(&t)) => {
            Err(Error::Type(format!(
                "{}() cannot order values of type {} in {e}",
                func.name(),
                dtype_name(&t)
            )))
        }
        Function::SampleFrac { frac, replace, .. } => {
            if !frac.is_finite() || *frac < 0.0 {
                return Err(plan_err(format!(
                    "sample_frac needs a fraction >= 0, got {frac} in {e}"
                )));
            }
            if *frac > 1.0 && !replace {
                return Err(plan_err(format!(
                    "sample_frac({frac}) without replacement would need more rows than there are; use replace=true"
                )));
            }
            Ok(t)
        }
        _ => Ok(t),
    }
}

fn sortable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || t.is_temporal()
}
