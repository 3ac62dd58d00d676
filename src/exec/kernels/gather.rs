//! Kernels that pick rows: `gather`/`take`, `filter` (boolean masks), and everything that is a
//! gather by computed positions: `arg_sort`, `sort`, `top_k`, `bottom_k`, `shuffle`,
//! `sample_n`, `sample_frac`. Also the index checks shared with `LazyFrame::gather`.
//!
//! Index rules (NumPy's and Polars'): any integer type; a negative index counts from the end;
//! a null index gives a null; anything else outside the column is an `Error::Compute` naming
//! the index, its position and the column length.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, UInt64Array};
use arrow::datatypes::{DataType, Int64Type, UInt64Type};

use super::random;
use super::sort::{arg_sort_u32, top_k_rows};
use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, Value};
use crate::expr::{Function, Scalar};

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

fn take(values: &ArrayRef, rows: impl IntoIterator<Item = u64>) -> Result<ArrayRef> {
    let idx = UInt64Array::from_iter_values(rows);
    Ok(arrow::compute::take(values.as_ref(), &idx, None)?)
}

fn take_u32(values: &ArrayRef, rows: Vec<u32>) -> Result<ArrayRef> {
    take(values, rows.into_iter().map(u64::from))
}

/// Run one of the sorting / indexing functions on its evaluated arguments.
pub fn apply(func: &Function, mut args: Vec<Value>, _out: &DataType) -> Result<Value> {
    if args.is_empty() {
        return Err(Error::Internal(format!("{} without input", func.name())));
    }
    let first = args.remove(0);
    let values = match first {
        Value::Array(a) => a,
        // A scalar input acts as a one-row column.
        Value::Scalar(s) => {
            let dt = s.data_type();
            crate::exec::value::scalar_to_array(&s, &dt, 1)?
        }
    };
    let n = values.len();
    let mut arg = || {
        args.pop()
            .ok_or_else(|| Error::Internal(format!("{} without its argument", func.name())))
    };
    let out = match func {
        Function::ArgSort(o) => {
            let order = arg_sort_u32(std::slice::from_ref(&values), std::slice::from_ref(o))?;
            Arc::new(super::sort::to_u64_array(&order)) as ArrayRef
        }
        Function::Sort(o) => {
            let order = arg_sort_u32(std::slice::from_ref(&values), std::slice::from_ref(o))?;
            take_u32(&values, order)?
        }
        Function::TopK(k) => take_u32(&values, top_k_rows(&values, *k, true)?)?,
        Function::BottomK(k) => take_u32(&values, top_k_rows(&values, *k, false)?)?,
        Function::Shuffle { seed } => take(&values, random::permutation(n, *seed))?,
        Function::SampleN {
            n: k,
            seed,
            replace,
        } => take(&values, random::sample(n, *k, *replace, *seed)?)?,
        Function::SampleFrac {
            frac,
            seed,
            replace,
        } => {
            // Truncate, as Polars does.
            let k = (*frac * n as f64) as usize;
            take(&values, random::sample(n, k, *replace, *seed)?)?
        }
        Function::Gather => match arg()? {
            Value::Scalar(s) => return gather_one(&values, &s),
            Value::Array(idx) => {
                let idx = resolve_indices(&idx, n, &"the indices")?;
                arrow::compute::take(values.as_ref(), &idx, None)?
            }
        },
        Function::Filter => match arg()? {
            Value::Scalar(Scalar::Boolean(true)) => values,
            Value::Scalar(_) => values.slice(0, 0),
            Value::Array(mask) => {
                let mask = mask
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .ok_or_else(|| Error::Type("filter mask is not boolean".into()))?;
                if mask.len() != n {
                    return Err(Error::Compute(format!(
                        "filter mask has {} rows but the values have {n}",
                        mask.len()
                    )));
                }
                let mask = if mask.null_count() > 0 {
                    arrow::compute::prep_null_mask_filter(mask)
                } else {
                    mask.clone()
                };
                arrow::compute::filter(values.as_ref(), &mask)?
            }
        },
        other => {
            return Err(Error::Internal(format!(
                "{} is not a sorting or indexing function",
                other.name()
            )))
        }
    };
    Ok(Value::Array(out))
}

/// `values[i]` for a scalar index, as a scalar (so it broadcasts).
fn gather_one(values: &ArrayRef, index: &Scalar) -> Result<Value> {
    let n = values.len() as i64;
    let i = match index {
        Scalar::Null => return Ok(Value::Scalar(Scalar::Null)),
        Scalar::Int64(i) => *i,
        Scalar::UInt64(i) => i64::try_from(*i).unwrap_or(i64::MAX),
        other => {
            return Err(Error::Type(format!(
                "gather needs an integer index, got {other}"
            )))
        }
    };
    let j = if i < 0 { i + n } else { i };
    if !(0..n).contains(&j) {
        return Err(Error::Compute(format!(
            "gather index {index} is out of range for {n} rows"
        )));
    }
    Ok(Value::Scalar(array_to_scalar(values.as_ref(), j as usize)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array};

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

    #[test]
    fn filter_and_gather_scalars() {
        let v: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
        let r = apply(
            &Function::Gather,
            vec![Value::Array(v.clone()), Value::Scalar(Scalar::Int64(-1))],
            &DataType::Float64,
        )
        .unwrap();
        assert!(matches!(r, Value::Scalar(Scalar::Float64(x)) if x == 3.0));
        let r = apply(
            &Function::Filter,
            vec![Value::Array(v), Value::Scalar(Scalar::Boolean(false))],
            &DataType::Float64,
        )
        .unwrap();
        assert!(matches!(r, Value::Array(a) if a.is_empty()));
    }
}
