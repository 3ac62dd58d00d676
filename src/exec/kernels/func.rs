//! Elementwise functions: NaN/null tests, math, clip, round, fills.

use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::Function;

/// Apply `func` to its evaluated arguments; `out` is the resolved output type.
pub fn apply(_func: &Function, _args: Vec<Value>, _out: &DataType) -> Result<Value> {
    Err(Error::Internal("func".into()))
}
