//! Kernels of the predicate family (`expr::predicate`): NaN, null and infinity tests.
//!
//! NaN and infinity tests keep the input's nulls (a null stays null, as in NumPy's masked
//! arrays and Polars); integers are never NaN or infinite. Null tests never give null.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Float32Type, Float64Type};

use super::{first_array, scalar_in_scalar_out, Kernel};
use crate::error::Result;
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, PredicateFunction};

impl Kernel for PredicateFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, _out: &DataType) -> Result<Value> {
        scalar_in_scalar_out(args, |mut args| {
            let a = first_array(&mut args, self.name())?;
            match self {
                PredicateFunction::IsNan => float_test(&a, false, f64::is_nan),
                PredicateFunction::IsNotNan => float_test(&a, true, |v| !v.is_nan()),
                PredicateFunction::IsInfinite => float_test(&a, false, f64::is_infinite),
                PredicateFunction::IsFinite => float_test(&a, true, f64::is_finite),
                PredicateFunction::IsNull => Ok(Arc::new(arrow::compute::is_null(&a)?)),
                PredicateFunction::IsNotNull => Ok(Arc::new(arrow::compute::is_not_null(&a)?)),
            }
        })
    }
}

/// A boolean array from a per-value float test; integers give `int_answer` everywhere.
pub(crate) fn float_test(
    a: &ArrayRef,
    int_answer: bool,
    f: impl Fn(f64) -> bool,
) -> Result<ArrayRef> {
    let nulls = a.nulls().cloned();
    let values = match a.data_type() {
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>().values();
            BooleanBuffer::collect_bool(v.len(), |i| f(v[i]))
        }
        DataType::Float32 => {
            let v = a.as_primitive::<Float32Type>().values();
            BooleanBuffer::collect_bool(v.len(), |i| f(v[i] as f64))
        }
        _ => BooleanBuffer::collect_bool(a.len(), |_| int_answer),
    };
    Ok(Arc::new(BooleanArray::new(values, nulls)))
}
