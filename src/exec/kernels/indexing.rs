//! Kernels of the indexing family (`expr::indexing`): `gather` (values at positions, through
//! the index checks of [`super::gather`]), `filter` (values where a mask is true) and
//! `row_index()`, which numbers the rows of the frame it is evaluated over.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, UInt64Array};
use arrow::datatypes::DataType;

use super::gather::{input_column, resolve_indices};
use super::Kernel;
use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, Value};
use crate::expr::{FunctionFamily, IndexingFunction, Scalar};

impl Kernel for IndexingFunction {
    fn invoke(&self, args: Vec<Value>, rows: usize, _out: &DataType) -> Result<Value> {
        match self {
            IndexingFunction::RowIndex => Ok(Value::Array(Arc::new(
                UInt64Array::from_iter_values(0..rows as u64),
            ))),
            IndexingFunction::Gather => {
                let (values, indices) = column_and_argument(args, self.name())?;
                gather(values, indices)
            }
            IndexingFunction::Filter => {
                let (values, mask) = column_and_argument(args, self.name())?;
                filter(values, mask).map(Value::Array)
            }
        }
    }
}

/// The input column and the one argument of `name`.
fn column_and_argument(mut args: Vec<Value>, name: &str) -> Result<(ArrayRef, Value)> {
    let values = input_column(&mut args, name)?;
    let arg = args
        .pop()
        .ok_or_else(|| Error::Internal(format!("{name} without its argument")))?;
    Ok((values, arg))
}

/// `values[indices]`; a scalar index gives a scalar.
fn gather(values: ArrayRef, indices: Value) -> Result<Value> {
    match indices {
        Value::Scalar(s) => gather_one(&values, &s),
        Value::Array(idx) => {
            let idx = resolve_indices(&idx, values.len(), &"the indices")?;
            Ok(Value::Array(arrow::compute::take(
                values.as_ref(),
                &idx,
                None,
            )?))
        }
    }
}

/// `values[mask]`, null counting as false; a scalar mask keeps all or nothing.
fn filter(values: ArrayRef, mask: Value) -> Result<ArrayRef> {
    let n = values.len();
    Ok(match mask {
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
    })
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
    use arrow::array::Float64Array;

    #[test]
    fn filter_and_gather_scalars() {
        let v: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
        let r = IndexingFunction::Gather
            .invoke(
                vec![Value::Array(v.clone()), Value::Scalar(Scalar::Int64(-1))],
                3,
                &DataType::Float64,
            )
            .unwrap();
        assert!(matches!(r, Value::Scalar(Scalar::Float64(x)) if x == 3.0));
        let r = IndexingFunction::Filter
            .invoke(
                vec![Value::Array(v), Value::Scalar(Scalar::Boolean(false))],
                3,
                &DataType::Float64,
            )
            .unwrap();
        assert!(matches!(r, Value::Array(a) if a.is_empty()));
    }

    #[test]
    fn row_index_numbers_the_frame() {
        let r = IndexingFunction::RowIndex
            .invoke(vec![], 3, &DataType::UInt64)
            .unwrap()
            .into_array(3)
            .unwrap();
        assert_eq!(r.as_ref(), &UInt64Array::from(vec![0, 1, 2]) as &dyn Array);
    }
}
