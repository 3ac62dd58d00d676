//! Comparisons with NumPy's NaN semantics (NaN compares false, except `!=`).

use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::BinaryOp;

/// `l op r` as a boolean value.
pub fn compare(_op: BinaryOp, _l: Value, _r: Value) -> Result<Value> {
    Err(Error::Internal("cmp".into()))
}
