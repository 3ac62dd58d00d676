//! Constructors (`col`, `cols`, `all_numeric`, `lit`, `when`) and the builder methods on `Expr`
//! that are not functions of a family: comparisons, logic, `alias`, `cast`. Function builders
//! live in their family's module (`fill`, `window`, ...), aggregates in `aggregate`. Method
//! names are the contract shared with query scripts: a script calls exactly these.

use arrow::datatypes::DataType;

use super::{BinaryOp, Expr, Scalar};

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
}
