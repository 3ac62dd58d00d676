//! Picking rows by position, shared by everything that gathers: the `indexing` functions
//! (`gather`, `filter`), the sorts of `ordering` and the samples of `random` (gathers by
//! computed positions), and `LazyFrame::gather`, whose index checks are [`resolve_indices`].
//!
//! Index rules (NumPy's and Polars'): any integer type; a negative index counts from the end;
//! a null index gives a null; anything else outside the column is an `Error::Compute` naming
//! the index, its position and the column length.

use arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use arrow::datatypes::{DataType, Int64Type, UInt64Type};

use crate::error::{Error, Result};
use crate::exec::value::{scalar_to_array, Value};

/// Check `indices` against a column of `len` rows and turn them into UInt64 positions
/// (negative ones counted from the end, nulls kept). `what` names the indices in errors.
pub fn resolve_indices(
    indices: &ArrayRef,
    len: usize,
    what: &dyn std::fmt::Display,
) -> Result<UInt64Array> {
    let out_of_range = |pos: usize, i: String| {
        Error::Compute(format!(
            "gather index {i} (at position {pos} of {what}) is out of range for {len} rows"
        ))
    };
    let nulls = indices.nulls().cloned();
    let mut out = Vec::with_capacity(indices.len());
    if *indices.data_type() == DataType::UInt64 {
        let v = indices.as_primitive::<UInt64Type>();
        for (pos, &i) in v.values().iter().enumerate() {
            let valid = nulls.as_ref().is_none_or(|n| n.is_valid(pos));
            if valid && i >= len as u64 {
                return Err(out_of_range(pos, i.to_string()));
            }
            out.push(if valid { i } else { 0 });
        }
    } else {
        if !indices.data_type().is_integer() && *indices.data_type() != DataType::Null {
            return Err(Error::Type(format!(
                "gather needs integer indices, got {what} ({})",
                indices.data_type()
            )));
        }
        let cast = arrow::compute::cast(indices, &DataType::Int64)?;
        let v = cast.as_primitive::<Int64Type>();
        let h = len as i64;
        for (pos, &i) in v.values().iter().enumerate() {
            let valid = nulls.as_ref().is_none_or(|n| n.is_valid(pos));
            if !valid {
                out.push(0);
                continue;
            }
            let j = if i < 0 { i + h } else { i };
            if !(0..h).contains(&j) {
                return Err(out_of_range(pos, i.to_string()));
            }
            out.push(j as u64);
        }
    }
    Ok(UInt64Array::new(out.into(), nulls))
}

pub(crate) fn take(values: &ArrayRef, rows: impl IntoIterator<Item = u64>) -> Result<ArrayRef> {
    let idx = UInt64Array::from_iter_values(rows);
    Ok(arrow::compute::take(values.as_ref(), &idx, None)?)
}

pub(crate) fn take_u32(values: &ArrayRef, rows: Vec<u32>) -> Result<ArrayRef> {
    take(values, rows.into_iter().map(u64::from))
}

/// The first argument of `name` as a column: a scalar input acts as a one-row column.
pub(crate) fn input_column(args: &mut Vec<Value>, name: &str) -> Result<ArrayRef> {
    if args.is_empty() {
        return Err(Error::Internal(format!("{name} without input")));
    }
    Ok(match args.remove(0) {
        Value::Array(a) => a,
        Value::Scalar(s) => scalar_to_array(&s, &s.data_type(), 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use std::sync::Arc;

    #[test]
    fn indices_negative_null_and_out_of_range() {
        let idx: ArrayRef = Arc::new(Int32Array::from(vec![Some(0), Some(-1), None, Some(-3)]));
        let r = resolve_indices(&idx, 3, &"i").unwrap();
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            vec![Some(0), Some(2), None, Some(0)]
        );
        let bad: ArrayRef = Arc::new(Int32Array::from(vec![1, 3]));
        let msg = resolve_indices(&bad, 3, &"col(\"i\")")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("index 3") && msg.contains("position 1"),
            "{msg}"
        );
        let bad: ArrayRef = Arc::new(Int32Array::from(vec![-4]));
        assert!(resolve_indices(&bad, 3, &"i").is_err());
        let big: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX]));
        assert!(resolve_indices(&big, 3, &"i").is_err());
    }
}
