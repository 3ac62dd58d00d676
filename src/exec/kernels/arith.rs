//! Arithmetic: `+ - * / %` and negation, with broadcasting of scalars.

use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::BinaryOp;

/// `l op r` computed in `out` (the type resolution's result).
pub fn binary(_op: BinaryOp, _l: Value, _r: Value, _out: &DataType) -> Result<Value> {
    Err(Error::Internal("arith".into()))
}

/// `-v`.
pub fn negate(_v: Value, _out: &DataType) -> Result<Value> {
    Err(Error::Internal("negate".into()))
}
