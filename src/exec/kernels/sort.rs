//! Sorting: stable multi-key argsort.

use arrow::array::{ArrayRef, UInt64Array};

use crate::error::{Error, Result};
use crate::expr::SortOptions;

/// Row order that sorts `keys` (compared left to right) under `options` (one per key).
pub fn arg_sort(_keys: &[ArrayRef], _options: &[SortOptions]) -> Result<UInt64Array> {
    Err(Error::Internal("sort".into()))
}
