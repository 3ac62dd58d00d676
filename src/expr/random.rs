//! Seeded random values, permutations and samples: the input-less `rand_uniform`,
//! `rand_normal`, `rand_int`, and the methods `shuffle`, `sample_n`, `sample_frac`.
//!
//! The generator is NumPy's `default_rng(seed)` (PCG64 seeded by its `SeedSequence`): the same
//! seed gives NumPy's values, and the same values for any thread count, because each value is
//! numbered by its row in the whole frame (so these need the whole column). Samples change the
//! length: use them in `select`, or `LazyFrame::sample_n`/`shuffle` for whole rows. Kernel:
//! `exec::kernels::random`.

use arrow::datatypes::{DataType, Schema};

use super::function::{first_input, FunctionFamily, FunctionKind};
use super::{Expr, Scalar};
use crate::error::{Error, Result};

/// The random functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum RandomFunction {
    /// The input's values in a random order (NumPy's `permutation`).
    Shuffle {
        /// The seed of the random stream (same seed, same order).
        seed: u64,
    },
    /// `n` random values (without replacement: no row twice).
    SampleN {
        /// How many values.
        n: usize,
        /// The seed of the random stream.
        seed: u64,
        /// Whether a row may be drawn more than once.
        replace: bool,
    },
    /// `floor(frac * len)` random values.
    SampleFrac {
        /// The fraction of the input's length to draw.
        frac: f64,
        /// The seed of the random stream.
        seed: u64,
        /// Whether a row may be drawn more than once.
        replace: bool,
    },
    /// No input: uniform Float64 values in `[low, high)`, one per row.
    RandUniform {
        /// The lower bound (included).
        low: f64,
        /// The upper bound (excluded).
        high: f64,
        /// The seed of the random stream.
        seed: u64,
    },
    /// No input: normal Float64 values, one per row.
    RandNormal {
        /// The distribution's mean.
        mean: f64,
        /// Its standard deviation.
        std: f64,
        /// The seed of the random stream.
        seed: u64,
    },
    /// No input: uniform Int64 values in `[low, high)`, one per row.
    RandInt {
        /// The lower bound (included).
        low: i64,
        /// The upper bound (excluded).
        high: i64,
        /// The seed of the random stream.
        seed: u64,
    },
}

impl FunctionFamily for RandomFunction {
    fn name(&self) -> &'static str {
        match self {
            RandomFunction::Shuffle { .. } => "shuffle",
            RandomFunction::SampleN { .. } => "sample_n",
            RandomFunction::SampleFrac { .. } => "sample_frac",
            RandomFunction::RandUniform { .. } => "rand_uniform",
            RandomFunction::RandNormal { .. } => "rand_normal",
            RandomFunction::RandInt { .. } => "rand_int",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::WholeColumn
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(Error::Plan(format!(
                    "{name} must be finite, got {v} in {e}"
                )))
            }
        };
        match self {
            RandomFunction::RandUniform { low, high, .. } => {
                finite("low", *low)?;
                finite("high", *high)?;
                Ok(DataType::Float64)
            }
            RandomFunction::RandNormal { mean, std, .. } => {
                finite("mean", *mean)?;
                finite("std", *std)?;
                if *std < 0.0 {
                    return Err(Error::Plan(format!("std must be >= 0, got {std} in {e}")));
                }
                Ok(DataType::Float64)
            }
            RandomFunction::RandInt { low, high, .. } => {
                if low >= high {
                    return Err(Error::Plan(format!(
                        "rand_int needs low < high, got {low} and {high} in {e}"
                    )));
                }
                Ok(DataType::Int64)
            }
            RandomFunction::Shuffle { .. } | RandomFunction::SampleN { .. } => {
                first_input(self.name(), args)?.data_type(schema)
            }
            RandomFunction::SampleFrac { frac, replace, .. } => {
                let t = first_input(self.name(), args)?.data_type(schema)?;
                if !frac.is_finite() || *frac < 0.0 {
                    return Err(Error::Plan(format!(
                        "sample_frac needs a fraction >= 0, got {frac} in {e}"
                    )));
                }
                if *frac > 1.0 && !replace {
                    return Err(Error::Plan(format!(
                        "sample_frac({frac}) without replacement would need more rows than there are; use replace=true"
                    )));
                }
                Ok(t)
            }
        }
    }

    fn params(&self) -> Vec<String> {
        let f = |v: f64| Scalar::Float64(v).to_string();
        match self {
            RandomFunction::Shuffle { seed } => vec![seed.to_string()],
            RandomFunction::SampleN { n, seed, replace } => {
                vec![n.to_string(), seed.to_string(), replace.to_string()]
            }
            RandomFunction::SampleFrac {
                frac,
                seed,
                replace,
            } => vec![f(*frac), seed.to_string(), replace.to_string()],
            RandomFunction::RandUniform { low, high, seed } => {
                vec![f(*low), f(*high), seed.to_string()]
            }
            RandomFunction::RandNormal { mean, std, seed } => {
                vec![f(*mean), f(*std), seed.to_string()]
            }
            RandomFunction::RandInt { low, high, seed } => {
                vec![low.to_string(), high.to_string(), seed.to_string()]
            }
        }
    }
}

fn nullary(func: RandomFunction) -> Expr {
    Expr::call(func, vec![])
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
    nullary(RandomFunction::RandUniform {
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
    nullary(RandomFunction::RandNormal {
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
    nullary(RandomFunction::RandInt { low, high, seed })
}

impl Expr {
    /// The values in a random order: NumPy's `x[default_rng(seed).permutation(len)]`.
    pub fn shuffle(self, seed: u64) -> Expr {
        Expr::call(RandomFunction::Shuffle { seed }, vec![self])
    }

    /// `n` random values. Without replacement they are `x[p[len - n:]]` for NumPy's
    /// `p = default_rng(seed).permutation(len)` (an error if `n > len`); with replacement
    /// `x[default_rng(seed).integers(0, len, n)]`.
    pub fn sample_n(self, n: usize, seed: u64, replace: bool) -> Expr {
        Expr::call(RandomFunction::SampleN { n, seed, replace }, vec![self])
    }

    /// `floor(frac * len)` random values (Polars truncates the same way), as [`Expr::sample_n`].
    pub fn sample_frac(self, frac: f64, seed: u64, replace: bool) -> Expr {
        Expr::call(
            RandomFunction::SampleFrac {
                frac,
                seed,
                replace,
            },
            vec![self],
        )
    }
}
