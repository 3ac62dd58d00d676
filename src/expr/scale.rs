//! Scalers: `min_max_scale()` (and onto a range, `min_max_scale_range(lo, hi)`),
//! `min_max_scale_with(min, max)` with given statistics, and `standardize()`.
//!
//! Statistics skip NaN and nulls (`nan_min`, `nan_max`, `nan_mean`, `nan_std` with ddof 0, as
//! scikit-learn's scalers); NaN stays NaN, null stays null, a constant column scales to the
//! bottom of the range (0.0). `min_max_scale` and `standardize` need the whole column for their
//! statistics; the optimizer's aggregate hoisting rewrites `x.min_max_scale()` into the
//! elementwise `x.min_max_scale_with(x.nan_min(), x.nan_max())` so one pass computes the
//! statistics of every scaled column. Kernel: `exec::kernels::scale`.

use arrow::datatypes::{DataType, Schema};

use super::function::{expr_list, required_input, FunctionFamily, FunctionKind};
use super::types::{float_type, numeric_input};
use super::{Expr, Scalar};
use crate::error::{Error, Result};

/// The scalers (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum ScaleFunction {
    /// `(x - nan_min) / (nan_max - nan_min)` mapped onto `[lo, hi]`; a constant column gives `lo`.
    MinMax {
        /// The lower end of the output range.
        lo: f64,
        /// The upper end of the output range.
        hi: f64,
    },
    /// `min_max_scale` with its statistics given: `args` are `[x, min, max]` (scalars, such
    /// as hoisted aggregates), so it runs elementwise. The optimizer's aggregate hoisting
    /// rewrites `x.min_max_scale()` into `x.min_max_scale_with(x.nan_min(), x.nan_max())`.
    MinMaxWith {
        /// The lower end of the output range.
        lo: f64,
        /// The upper end of the output range.
        hi: f64,
    },
    /// `(x - nan_mean) / nan_std(ddof 0)`; a constant column gives 0.
    Standardize,
    /// `standardize` with its statistics given: `args` are `[x, mean, std, min, max]`
    /// (scalars, such as hoisted aggregates; `min == max` marks a constant column, which a
    /// rounded `std` cannot), so it runs elementwise. The optimizer's aggregate hoisting
    /// rewrites `x.standardize()` into it.
    StandardizeWith,
}

impl FunctionFamily for ScaleFunction {
    fn name(&self) -> &'static str {
        match self {
            ScaleFunction::MinMax { .. } => "min_max_scale",
            ScaleFunction::MinMaxWith { .. } => "min_max_scale_with",
            ScaleFunction::Standardize => "standardize",
            ScaleFunction::StandardizeWith => "standardize_with",
        }
    }

    fn kind(&self) -> FunctionKind {
        match self {
            ScaleFunction::MinMax { .. } | ScaleFunction::Standardize => FunctionKind::WholeColumn,
            ScaleFunction::MinMaxWith { .. } | ScaleFunction::StandardizeWith => {
                FunctionKind::Elementwise
            }
        }
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let name = self.name();
        let t = numeric_input(e, name, required_input(e, name, args)?, schema)?;
        match self {
            ScaleFunction::MinMax { .. } | ScaleFunction::Standardize => {}
            ScaleFunction::MinMaxWith { .. } => {
                if args.len() != 3 || !args[1..].iter().all(Expr::is_scalar) {
                    return Err(Error::Plan(format!(
                        "min_max_scale_with() takes a column and two scalars (min, max) in {e}"
                    )));
                }
                for a in &args[1..] {
                    numeric_input(e, name, a, schema)?;
                }
            }
            ScaleFunction::StandardizeWith => {
                if args.len() != 5 || !args[1..].iter().all(Expr::is_scalar) {
                    return Err(Error::Plan(format!(
                        "standardize_with() takes a column and four scalars (mean, std, min, \
                         max) in {e}"
                    )));
                }
                for a in &args[1..] {
                    numeric_input(e, name, a, schema)?;
                }
            }
        }
        Ok(float_type(&t))
    }

    fn call_text(&self, args: &[Expr]) -> String {
        let first = &args[0];
        let range = |lo: f64, hi: f64| {
            (lo != 0.0 || hi != 1.0)
                .then(|| format!("{}, {}", Scalar::Float64(lo), Scalar::Float64(hi)))
        };
        match self {
            ScaleFunction::MinMax { lo, hi } => match range(*lo, *hi) {
                None => format!("{first}.min_max_scale()"),
                Some(r) => format!("{first}.min_max_scale_range({r})"),
            },
            ScaleFunction::MinMaxWith { lo, hi } => {
                let stats = expr_list(&args[1..]);
                match range(*lo, *hi) {
                    None => format!("{first}.min_max_scale_with({stats})"),
                    Some(r) => format!("{first}.min_max_scale_range_with({r}, {stats})"),
                }
            }
            ScaleFunction::Standardize => format!("{first}.standardize()"),
            ScaleFunction::StandardizeWith => {
                format!("{first}.standardize_with({})", expr_list(&args[1..]))
            }
        }
    }
}

impl Expr {
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
        Expr::call(ScaleFunction::MinMax { lo, hi }, vec![self])
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
        Expr::call(
            ScaleFunction::MinMaxWith { lo, hi },
            vec![self, min.into(), max.into()],
        )
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
        Expr::call(ScaleFunction::Standardize, vec![self])
    }

    /// Standardization with given statistics (scalars: literals or aggregates), elementwise:
    /// `(x - mean) / std`; NaN stays NaN, `min == max` (finite) gives 0 and a null `mean` (no
    /// valid value) leaves the column as it is, as `standardize`, which the optimizer rewrites
    /// into this with the column's own `nan_mean()`, `nan_std(0)`, `nan_min()`, `nan_max()`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, 2.0, 3.0])?;
    /// let out = df.lazy().select([col("x").standardize_with(2.0, 0.5, 1.0, 3.0)]).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(-2.0), Some(0.0), Some(2.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn standardize_with(
        self,
        mean: impl Into<Expr>,
        std: impl Into<Expr>,
        min: impl Into<Expr>,
        max: impl Into<Expr>,
    ) -> Expr {
        Expr::call(
            ScaleFunction::StandardizeWith,
            vec![self, mean.into(), std.into(), min.into(), max.into()],
        )
    }
}
