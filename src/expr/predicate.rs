//! Predicates on values: `is_nan`, `is_not_nan`, `is_null`, `is_not_null`, `is_infinite`,
//! `is_finite` (NumPy's `isnan`/`isinf`/`isfinite` and Polars' null tests). Membership tests
//! such as `is_in` and range tests such as `is_between` belong here too.
//!
//! All are elementwise and give Boolean. NaN tests keep nulls null (as NumPy and Polars), null
//! tests never give null. Integers are never NaN or infinite. Kernel: `exec::kernels::predicate`.

use arrow::datatypes::{DataType, Schema};

use super::function::{first_input, FunctionFamily, FunctionKind};
use super::types::arith_input;
use super::Expr;
use crate::error::Result;

/// The predicate functions (see the module docs).
// The variants are named as the builder methods are (`is_nan` is `IsNan`).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Debug, PartialEq)]
pub enum PredicateFunction {
    IsNan,
    IsNotNan,
    IsNull,
    IsNotNull,
    IsInfinite,
    IsFinite,
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
        }
        Ok(DataType::Boolean)
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
}
