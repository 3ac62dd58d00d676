//! Kernels of the predicate family (`expr::predicate`): NaN, null and infinity tests.
//!
//! NaN and infinity tests keep the input's nulls (a null stays null, as in NumPy's masked
//! arrays and Polars); integers are never NaN or infinite. Null tests never give null.
//! `is_in` compares in the comparison type of the input and its values, as `eq` does.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type, Int64Type};

use super::cmp::comparable;
use super::{first_array, scalar_in_scalar_out, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::types::comparison_type;
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
                PredicateFunction::IsIn => is_in(&a, args),
            }
        })
    }
}

/// `a` is one of `values` (one-row arrays or scalars), compared in the comparison type of all
/// of them (`cmp::comparable`); floats match by value with NaN matching NaN, nulls match
/// nothing.
fn is_in(a: &ArrayRef, values: Vec<Value>) -> Result<ArrayRef> {
    let mut common = a.data_type().clone();
    for v in &values {
        common = comparison_type(&common, &v.data_type()).ok_or_else(|| {
            Error::Type(format!(
                "is_in(): {} values cannot be compared with {}",
                a.data_type(),
                v.data_type()
            ))
        })?;
    }
    let (col, _) = comparable(Value::Array(a.clone()), &common)?;
    let mut list = Vec::with_capacity(values.len());
    for v in values {
        let (arr, _) = comparable(v, &common)?;
        if arr.is_valid(0) {
            list.push(arr.slice(0, 1));
        }
    }
    let nulls = col.nulls().cloned();
    let n = col.len();
    let bits = match col.data_type() {
        DataType::Float64 | DataType::Float32 => {
            let key = |x: f64| {
                if x.is_nan() {
                    u64::MAX
                } else {
                    (x + 0.0).to_bits()
                }
            };
            let f = |a: &ArrayRef| -> Result<Vec<f64>> {
                Ok(crate::exec::kernels::cast::cast(a, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .values()
                    .to_vec())
            };
            let set: Vec<u64> = list
                .iter()
                .map(|v| f(v).map(|x| key(x[0])))
                .collect::<Result<_>>()?;
            let v = f(&col)?;
            member_bits(n, &set, |i| key(v[i]))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let strings = |a: &ArrayRef| -> Result<ArrayRef> {
                Ok(crate::exec::kernels::cast::cast(a, &DataType::Utf8)?)
            };
            let owned: Vec<String> = list
                .iter()
                .map(|v| strings(v).map(|s| s.as_string::<i32>().value(0).to_string()))
                .collect::<Result<_>>()?;
            let set: Vec<&str> = owned.iter().map(String::as_str).collect();
            let c = strings(&col)?;
            let c = c.as_string::<i32>();
            member_bits(n, &set, |i| c.value(i))
        }
        DataType::Boolean => {
            let set: Vec<bool> = list.iter().map(|v| v.as_boolean().value(0)).collect();
            let c = col.as_boolean();
            member_bits(n, &set, |i| c.value(i))
        }
        DataType::Decimal128(..) => {
            let set: Vec<i128> = list
                .iter()
                .map(|v| v.as_primitive::<Decimal128Type>().value(0))
                .collect();
            let c = col.as_primitive::<Decimal128Type>().values();
            member_bits(n, &set, |i| c[i])
        }
        _ => {
            let ints = |a: &ArrayRef| -> Result<ArrayRef> {
                Ok(crate::exec::kernels::cast::cast(a, &DataType::Int64)?)
            };
            let set: Vec<i64> = list
                .iter()
                .map(|v| ints(v).map(|x| x.as_primitive::<Int64Type>().value(0)))
                .collect::<Result<_>>()?;
            let c = ints(&col)?;
            let c = c.as_primitive::<Int64Type>().values();
            member_bits(n, &set, |i| c[i])
        }
    };
    Ok(Arc::new(BooleanArray::new(bits, nulls)))
}

/// Whether `key(i)` is in `set`, for every row: a scan of a short list, a hash set otherwise.
fn member_bits<K: Eq + std::hash::Hash + Copy>(
    n: usize,
    set: &[K],
    key: impl Fn(usize) -> K,
) -> BooleanBuffer {
    if set.len() <= 8 {
        BooleanBuffer::collect_bool(n, |i| {
            let k = key(i);
            set.contains(&k)
        })
    } else {
        let h: std::collections::HashSet<K> = set.iter().copied().collect();
        BooleanBuffer::collect_bool(n, |i| h.contains(&key(i)))
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
