//! Constructors (`col`, `cols`, `all_numeric`, `lit`, `when`) and the builder methods on `Expr`.
//! Method names are the contract shared with query scripts: a script calls exactly these.

use arrow::datatypes::DataType;

use super::{AggFunc, BinaryOp, Expr, Function, Scalar};

/// A column by name.
///
/// ```
/// use fusedframe::prelude::*;
/// let e = col("x").gt(0.0);
/// assert_eq!(e.to_string(), "col(\"x\").gt(0.0)");
/// ```
pub fn col(name: impl Into<String>) -> Expr {
    Expr::Column(name.into())
}

/// Several columns; methods called on it apply to each (`cols(["a", "b"]).abs()`).
pub fn cols<I, S>(names: I) -> Expr
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Expr::Columns(names.into_iter().map(Into::into).collect())
}

/// Every numeric column of the input.
pub fn all_numeric() -> Expr {
    Expr::AllNumeric
}

/// A literal value.
pub fn lit(value: impl Into<Scalar>) -> Expr {
    Expr::Literal(value.into())
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident as $c:ty),*) => {$(
        impl From<$t> for Scalar {
            fn from(v: $t) -> Self { Scalar::$v(v as $c) }
        }
        impl From<$t> for Expr {
            fn from(v: $t) -> Self { Expr::Literal(Scalar::$v(v as $c)) }
        }
    )*};
}
scalar_from!(i32 => Int64 as i64, i64 => Int64 as i64, u32 => Int64 as i64, usize => UInt64 as u64,
    u64 => UInt64 as u64, f64 => Float64 as f64, f32 => Float64 as f64);

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Boolean(v)
    }
}
impl From<bool> for Expr {
    fn from(v: bool) -> Self {
        Expr::Literal(Scalar::Boolean(v))
    }
}
impl From<&str> for Scalar {
    fn from(v: &str) -> Self {
        Scalar::Utf8(v.to_string())
    }
}
impl From<String> for Scalar {
    fn from(v: String) -> Self {
        Scalar::Utf8(v)
    }
}
/// A string becomes a string literal (not a column): `col("symbol").eq("AAPL")`.
impl From<&str> for Expr {
    fn from(v: &str) -> Self {
        Expr::Literal(Scalar::Utf8(v.to_string()))
    }
}
impl From<String> for Expr {
    fn from(v: String) -> Self {
        Expr::Literal(Scalar::Utf8(v))
    }
}
impl<T: Into<Scalar>> From<Option<T>> for Scalar {
    fn from(v: Option<T>) -> Self {
        v.map_or(Scalar::Null, Into::into)
    }
}

/// Start a conditional: `when(cond).then(a).otherwise(b)`; chain more with `.when(..)`.
///
/// ```
/// use fusedframe::prelude::*;
/// let e = when(col("x").gt(0)).then(lit(1)).otherwise(lit(-1));
/// assert!(e.to_string().starts_with("when("));
/// ```
pub fn when(cond: impl Into<Expr>) -> When {
    When {
        branches: vec![],
        cond: cond.into(),
    }
}

/// A `when` waiting for its `then`.
#[derive(Clone, Debug)]
pub struct When {
    branches: Vec<(Expr, Expr)>,
    cond: Expr,
}

/// A `when(..).then(..)`, waiting for `otherwise` or another `when`.
/// Without `otherwise`, unmatched rows are null.
#[derive(Clone, Debug)]
pub struct Then {
    branches: Vec<(Expr, Expr)>,
}

impl When {
    /// The value where the condition holds.
    pub fn then(mut self, value: impl Into<Expr>) -> Then {
        self.branches.push((self.cond, value.into()));
        Then {
            branches: self.branches,
        }
    }
}

impl Then {
    /// Another condition, tried when the earlier ones are false.
    pub fn when(self, cond: impl Into<Expr>) -> When {
        When {
            branches: self.branches,
            cond: cond.into(),
        }
    }

    /// The value where no condition holds.
    pub fn otherwise(self, value: impl Into<Expr>) -> Expr {
        self.branches
            .into_iter()
            .rev()
            .fold(value.into(), |acc, (cond, then)| Expr::When {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(acc),
            })
    }
}

impl From<Then> for Expr {
    fn from(t: Then) -> Self {
        t.otherwise(Expr::Literal(Scalar::Null))
    }
}

// `eq` and `not` are the Rust API's names (shared with scripts); `==` and `!` cannot return an
// `Expr` through `PartialEq`, so the trait-shaped names are deliberate.
#[allow(clippy::should_implement_trait)]
impl Expr {
    fn binary(self, op: BinaryOp, other: impl Into<Expr>) -> Expr {
        Expr::Binary {
            left: Box::new(self),
            op,
            right: Box::new(other.into()),
        }
    }

    fn func(self, func: Function) -> Expr {
        Expr::Function {
            func,
            args: vec![self],
        }
    }

    fn func2(self, func: Function, arg: impl Into<Expr>) -> Expr {
        Expr::Function {
            func,
            args: vec![self, arg.into()],
        }
    }

    fn agg(self, func: AggFunc) -> Expr {
        Expr::Agg {
            func,
            expr: Box::new(self),
        }
    }

    /// `self > other` (NaN compares false, as in NumPy).
    pub fn gt(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Gt, other)
    }
    /// `self >= other`.
    pub fn ge(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::GtEq, other)
    }
    /// `self < other`.
    pub fn lt(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Lt, other)
    }
    /// `self <= other`.
    pub fn le(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::LtEq, other)
    }
    /// `self == other`.
    pub fn eq(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Eq, other)
    }
    /// `self != other`.
    pub fn neq(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::NotEq, other)
    }
    /// Logical and (Kleene: `false & null = false`), same as `&`.
    pub fn and(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::And, other)
    }
    /// Logical or (Kleene: `true | null = true`), same as `|`.
    pub fn or(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Or, other)
    }
    /// Logical not, same as `!`.
    pub fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }

    /// Name the output column.
    pub fn alias(self, name: impl Into<String>) -> Expr {
        Expr::Alias(Box::new(self), name.into())
    }
    /// Convert to another Arrow type.
    pub fn cast(self, to: DataType) -> Expr {
        Expr::Cast(Box::new(self), to)
    }

    /// True where the value is NaN (null stays null).
    pub fn is_nan(self) -> Expr {
        self.func(Function::IsNan)
    }
    /// True where the value is not NaN (null stays null).
    pub fn is_not_nan(self) -> Expr {
        self.func(Function::IsNotNan)
    }
    /// True where the value is null (never null itself).
    pub fn is_null(self) -> Expr {
        self.func(Function::IsNull)
    }
    /// True where the value is not null.
    pub fn is_not_null(self) -> Expr {
        self.func(Function::IsNotNull)
    }
    /// True where the value is +inf or -inf.
    pub fn is_infinite(self) -> Expr {
        self.func(Function::IsInfinite)
    }
    /// True where the value is neither NaN nor infinite.
    pub fn is_finite(self) -> Expr {
        self.func(Function::IsFinite)
    }
    /// Absolute value.
    pub fn abs(self) -> Expr {
        self.func(Function::Abs)
    }
    /// Square root (NaN for negatives, as NumPy).
    pub fn sqrt(self) -> Expr {
        self.func(Function::Sqrt)
    }
    /// e^x.
    pub fn exp(self) -> Expr {
        self.func(Function::Exp)
    }
    /// Natural logarithm.
    pub fn ln(self) -> Expr {
        self.func(Function::Ln)
    }
    /// Round down.
    pub fn floor(self) -> Expr {
        self.func(Function::Floor)
    }
    /// Round up.
    pub fn ceil(self) -> Expr {
        self.func(Function::Ceil)
    }
    /// `self` to the power `exponent` (always Float64).
    pub fn pow(self, exponent: impl Into<Expr>) -> Expr {
        self.func2(Function::Pow, exponent)
    }
    /// Bound values to `[min, max]`.
    pub fn clip(self, min: f64, max: f64) -> Expr {
        self.func(Function::Clip {
            min: Some(min),
            max: Some(max),
        })
    }
    /// Bound values from below.
    pub fn clip_min(self, min: f64) -> Expr {
        self.func(Function::Clip {
            min: Some(min),
            max: None,
        })
    }
    /// Bound values from above.
    pub fn clip_max(self, max: f64) -> Expr {
        self.func(Function::Clip {
            min: None,
            max: Some(max),
        })
    }
    /// Round to `decimals` places (half away from zero).
    pub fn round(self, decimals: i32) -> Expr {
        self.func(Function::Round(decimals))
    }
    /// Replace NaN by a value or expression (nulls untouched).
    pub fn fill_nan(self, value: impl Into<Expr>) -> Expr {
        self.func2(Function::FillNan, value)
    }
    /// Replace null by a value or expression (NaN untouched).
    pub fn fill_null(self, value: impl Into<Expr>) -> Expr {
        self.func2(Function::FillNull, value)
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
