//! Predicates on values: `is_nan`, `is_not_nan`, `is_null`, `is_not_null`, `is_infinite`,
//! `is_finite` (NumPy's `isnan`/`isinf`/`isfinite` and Polars' null tests), the membership test
//! `is_in([..])` and the range test `is_between(lo, hi)`.
//!
//! All are elementwise and give Boolean. NaN tests keep nulls null (as NumPy and Polars), null
//! tests never give null. Integers are never NaN or infinite. `is_in` takes literal values of
//! any type the input compares with (numbers, strings, dates, datetimes, decimals, booleans),
//! compared as `eq` compares them, except that NaN is in a list holding NaN (as Polars); a
//! null input gives null and a null in the list matches nothing. `is_between` is
//! `ge(lo) & le(hi)` (both ends included, as Polars' default), written out so that predicate
//! pushdown sees the comparisons. Kernel: `exec::kernels::predicate`.

use arrow::datatypes::{DataType, Schema};

use super::function::{expr_list, first_input, method_call, FunctionFamily, FunctionKind};
use super::types::{arith_input, comparison_type, typed};
use super::Expr;
use crate::error::{Error, Result};

/// The predicate functions (see the module docs).
// The variants are named as the builder methods are (`is_nan` is `IsNan`).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Debug, PartialEq)]
pub enum PredicateFunction {
    /// True where the value is NaN (null stays null).
    IsNan,
    /// True where the value is not NaN (null stays null).
    IsNotNan,
    /// True where the value is null.
    IsNull,
    /// True where the value is not null.
    IsNotNull,
    /// True where the value is +inf or -inf.
    IsInfinite,
    /// True where the value is neither infinite nor NaN.
    IsFinite,
    /// Membership in the literal values given as the arguments after the input.
    IsIn,
}

impl FunctionFamily for PredicateFunction {
    fn name(&self) -> &'static str {
        match self {
            PredicateFunction::IsNan => "is_nan",
            PredicateFunction::IsNotNan => "is_not_nan",
            PredicateFunction::IsNull => "is_null",
            PredicateFunction::IsNotNull => "is_not_null",
            PredicateFunction::IsInfinite => "is_infinite",
            PredicateFunction::IsFinite => "is_finite",
            PredicateFunction::IsIn => "is_in",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::Elementwise
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let first = first_input(self.name(), args)?;
        match self {
            PredicateFunction::IsNull | PredicateFunction::IsNotNull => {
                first.data_type(schema)?;
            }
            PredicateFunction::IsNan
            | PredicateFunction::IsNotNan
            | PredicateFunction::IsInfinite
            | PredicateFunction::IsFinite => {
                arith_input(e, self.name(), first, schema)?;
            }
            PredicateFunction::IsIn => {
                let t = first.data_type(schema)?;
                for v in &args[1..] {
                    let vt = v.data_type(schema)?;
                    if !matches!(v, Expr::Literal(_)) {
                        return Err(Error::Plan(format!(
                            "is_in() takes literal values, got {v} in {e}"
                        )));
                    }
                    if comparison_type(&t, &vt).is_none() {
                        return Err(Error::Type(format!(
                            "is_in(): {} cannot be compared with {} in {e}",
                            typed(first, &t),
                            typed(v, &vt)
                        )));
                    }
                }
            }
        }
        Ok(DataType::Boolean)
    }

    fn call_text(&self, args: &[Expr]) -> String {
        match self {
            PredicateFunction::IsIn => {
                format!("{}.is_in([{}])", args[0], expr_list(&args[1..]))
            }
            _ => method_call(self.name(), args, &self.params()),
        }
    }
}

impl Expr {
    fn predicate(self, func: PredicateFunction) -> Expr {
        Expr::call(func, vec![self])
    }

    /// True where the value is NaN (null stays null).
    pub fn is_nan(self) -> Expr {
        self.predicate(PredicateFunction::IsNan)
    }
    /// True where the value is not NaN (null stays null).
    pub fn is_not_nan(self) -> Expr {
        self.predicate(PredicateFunction::IsNotNan)
    }
    /// True where the value is null (never null itself).
    pub fn is_null(self) -> Expr {
        self.predicate(PredicateFunction::IsNull)
    }
    /// True where the value is not null.
    pub fn is_not_null(self) -> Expr {
        self.predicate(PredicateFunction::IsNotNull)
    }
    /// True where the value is +inf or -inf.
    pub fn is_infinite(self) -> Expr {
        self.predicate(PredicateFunction::IsInfinite)
    }
    /// True where the value is neither NaN nor infinite.
    pub fn is_finite(self) -> Expr {
        self.predicate(PredicateFunction::IsFinite)
    }
    /// True where the value is one of `values` (literals of a type the input compares with).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("mode" => ["MAIL", "AIR", "SHIP"])?;
    /// let out = df.lazy().filter(col("mode").is_in(["MAIL", "SHIP"])).collect()?;
    /// assert_eq!(out.height(), 2);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn is_in<E: Into<Expr>>(self, values: impl IntoIterator<Item = E>) -> Expr {
        let mut args = vec![self];
        args.extend(values.into_iter().map(Into::into));
        Expr::call(PredicateFunction::IsIn, args)
    }
    /// True where `lower <= value <= upper` (both ends included), as `ge(lower) & le(upper)`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let e = col("d").is_between(date("1994-01-01"), date("1994-12-31"));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "(col(\"d\").ge(date(\"1994-01-01\")) & col(\"d\").le(date(\"1994-12-31\")))"
    /// );
    /// ```
    pub fn is_between(self, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Expr {
        self.clone().ge(lower) & self.le(upper)
    }
}
