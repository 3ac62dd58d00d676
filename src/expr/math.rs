//! Elementwise arithmetic functions: `abs`, `sqrt`, `exp`, `ln`, `floor`, `ceil`, `pow`,
//! `clip` (and `clip_min`/`clip_max`), `round`.
//!
//! Integers stay Int64 through `abs`, `floor`, `ceil` and `round`; `sqrt`, `exp`, `ln` and
//! `clip` give floats (Float32 stays Float32), `pow` always Float64. NaN propagates as in
//! NumPy (`sqrt` of a negative is NaN; `clip` leaves NaN alone). Kernel: `exec::kernels::math`.

use arrow::datatypes::{DataType, Schema};

use super::format_float;
use super::function::{first_input, second_input, FunctionFamily, FunctionKind};
use super::types::{arith_input, arith_type, float_type};
use super::Expr;
use crate::error::Result;

/// The arithmetic functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum MathFunction {
    /// The absolute value.
    Abs,
    /// The square root (NaN for negative values).
    Sqrt,
    /// `e` to the power of the value.
    Exp,
    /// The natural logarithm.
    Ln,
    /// Rounded down.
    Floor,
    /// Rounded up.
    Ceil,
    /// `args[1]` is the exponent.
    Pow,
    /// Bound values to `[min, max]`; NaN stays NaN.
    Clip {
        /// The lower bound, if any.
        min: Option<f64>,
        /// The upper bound, if any.
        max: Option<f64>,
    },
    /// Round half away from zero to this many decimals (NumPy rounds half to even; we follow
    /// Polars here and document it).
    Round(i32),
}

impl FunctionFamily for MathFunction {
    fn name(&self) -> &'static str {
        match self {
            MathFunction::Abs => "abs",
            MathFunction::Sqrt => "sqrt",
            MathFunction::Exp => "exp",
            MathFunction::Ln => "ln",
            MathFunction::Floor => "floor",
            MathFunction::Ceil => "ceil",
            MathFunction::Pow => "pow",
            MathFunction::Clip { .. } => "clip",
            MathFunction::Round(_) => "round",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::Elementwise
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let name = self.name();
        let t = arith_input(e, name, first_input(name, args)?, schema)?;
        Ok(match self {
            MathFunction::Abs
            | MathFunction::Floor
            | MathFunction::Ceil
            | MathFunction::Round(_) => arith_type(&t, &t),
            MathFunction::Sqrt
            | MathFunction::Exp
            | MathFunction::Ln
            | MathFunction::Clip { .. } => float_type(&t),
            MathFunction::Pow => {
                arith_input(e, name, second_input(name, args)?, schema)?;
                DataType::Float64
            }
        })
    }

    fn params(&self) -> Vec<String> {
        match self {
            MathFunction::Clip { min, max } => match (min, max) {
                (Some(a), Some(b)) => vec![format_float(*a), format_float(*b)],
                (Some(a), None) => vec![format!("min={}", format_float(*a))],
                (None, Some(b)) => vec![format!("max={}", format_float(*b))],
                (None, None) => vec![],
            },
            MathFunction::Round(d) => vec![d.to_string()],
            MathFunction::Abs
            | MathFunction::Sqrt
            | MathFunction::Exp
            | MathFunction::Ln
            | MathFunction::Floor
            | MathFunction::Ceil
            | MathFunction::Pow => vec![],
        }
    }
}

impl Expr {
    fn math(self, func: MathFunction) -> Expr {
        Expr::call(func, vec![self])
    }

    /// Absolute value.
    pub fn abs(self) -> Expr {
        self.math(MathFunction::Abs)
    }
    /// Square root (NaN for negatives, as NumPy).
    pub fn sqrt(self) -> Expr {
        self.math(MathFunction::Sqrt)
    }
    /// e^x.
    pub fn exp(self) -> Expr {
        self.math(MathFunction::Exp)
    }
    /// Natural logarithm.
    pub fn ln(self) -> Expr {
        self.math(MathFunction::Ln)
    }
    /// Round down.
    pub fn floor(self) -> Expr {
        self.math(MathFunction::Floor)
    }
    /// Round up.
    pub fn ceil(self) -> Expr {
        self.math(MathFunction::Ceil)
    }
    /// `self` to the power `exponent` (always Float64).
    pub fn pow(self, exponent: impl Into<Expr>) -> Expr {
        Expr::call(MathFunction::Pow, vec![self, exponent.into()])
    }
    /// Bound values to `[min, max]`.
    pub fn clip(self, min: f64, max: f64) -> Expr {
        self.math(MathFunction::Clip {
            min: Some(min),
            max: Some(max),
        })
    }
    /// Bound values from below.
    pub fn clip_min(self, min: f64) -> Expr {
        self.math(MathFunction::Clip {
            min: Some(min),
            max: None,
        })
    }
    /// Bound values from above.
    pub fn clip_max(self, max: f64) -> Expr {
        self.math(MathFunction::Clip {
            min: None,
            max: Some(max),
        })
    }
    /// Round to `decimals` places (half away from zero).
    pub fn round(self, decimals: i32) -> Expr {
        self.math(MathFunction::Round(decimals))
    }
}
