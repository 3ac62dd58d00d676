//! Kernels of the predicate family (`expr::predicate`): NaN, null and infinity tests.
//!
//! NaN and infinity tests keep the input's nulls (a null stays null, as in NumPy's masked
//! arrays and Polars); integers are never NaN or infinite. Null tests never give null.
//! `is_in` compares in the comparison type of the input and its values, as `eq` does.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringViewArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type, Int64Type};

use super::cmp::comparable;
use super::{first_array, scalar_in_scalar_out, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::types::{comparison_type, is_string};
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
    // Strings are matched in the column's own form (`Utf8View` from Parquet): casting the
    // column to the common `Utf8` copied every string (a third of TPC-H's Q12).
    let col = if is_string(&common) && is_string(a.data_type()) {
        a.clone()
    } else {
        comparable(Value::Array(a.clone()), &common)?.0
    };
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
            match col.data_type() {
                DataType::Utf8View => view_member_bits(col.as_string_view(), &set),
                DataType::LargeUtf8 => {
                    let c = col.as_string::<i64>();
                    member_bits(n, &set, |i| c.value(i))
                }
                _ => {
                    let c = strings(&col)?;
                    let c = c.as_string::<i32>();
                    member_bits(n, &set, |i| c.value(i))
                }
            }
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

/// Whether each string of a view column is in `set`, mostly without reading string bytes: a
/// string of at most 12 bytes lives whole in its 16-byte view (length, then the bytes), so it
/// matches when its view equals the view of a set member; a
/// longer one is compared byte by byte only when its length and 4-byte prefix (the view's low
/// half) match one.
fn view_member_bits(c: &StringViewArray, set: &[&str]) -> BooleanBuffer {
    let head = |s: &[u8]| -> u128 {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&(s.len() as u32).to_le_bytes());
        let n = s.len().min(12);
        b[4..4 + n].copy_from_slice(&s[..n]);
        u128::from_le_bytes(b)
    };
    let short: Vec<u128> = set
        .iter()
        .filter(|s| s.len() <= 12)
        .map(|s| head(s.as_bytes()))
        .collect();
    let long: Vec<(u64, &str)> = set
        .iter()
        .filter(|s| s.len() > 12)
        .map(|s| (head(s.as_bytes()) as u64, *s))
        .collect();
    let views = c.views();
    BooleanBuffer::collect_bool(views.len(), |i| {
        let v = views[i];
        let len = v as u32;
        if len <= 12 {
            // Bytes past an inline string are zero (Arrow's format; its own `eq` on views
            // relies on it too), so the whole view is the string.
            short.contains(&v)
        } else {
            long.iter().any(|&(k, s)| k == v as u64 && c.value(i) == s)
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scalar;
    use arrow::array::StringArray;

    fn member(a: ArrayRef, set: &[&str]) -> Vec<Option<bool>> {
        let values = set
            .iter()
            .map(|s| Value::Scalar(Scalar::Utf8(s.to_string())))
            .collect();
        is_in(&a, values).unwrap().as_boolean().iter().collect()
    }

    #[test]
    fn view_columns_match_as_plain_strings_do() {
        let words = vec![
            Some("MAIL"),
            None,
            Some("SHIP"),
            Some(""),
            Some("SM CASE"),
            Some("exactly12byt"),
            Some("exactly12bys"),
            Some("DELIVER IN PERSON"),
            Some("DELIVER IN PERSOM"),
            Some("DELIVERY"),
            Some("MAILS"),
            Some("1-URGENT"),
        ];
        let views: ArrayRef = Arc::new(StringViewArray::from(words.clone()));
        let plain: ArrayRef = Arc::new(StringArray::from(words));
        let sets: [&[&str]; 5] = [
            &["MAIL", "SHIP"],
            &["", "exactly12byt", "DELIVER IN PERSON"],
            &[
                "SM CASE", "SM BOX", "SM PACK", "SM PKG", "1-URGENT", "2-HIGH",
            ],
            &["DELIVER IN PERSOM", "DELIVER IN PERSONS", "MAI"],
            // Past the short list: the hash set.
            &[
                "a",
                "b",
                "c",
                "d",
                "e",
                "f",
                "g",
                "h",
                "i",
                "MAILS",
                "exactly12bys",
            ],
        ];
        for set in sets {
            let want = member(plain.clone(), set);
            assert_eq!(member(views.clone(), set), want, "{set:?}");
            assert!(want[1].is_none());
        }
        // Strings past 12 bytes in the views' data buffers, and a sliced column.
        assert_eq!(
            member(views.slice(7, 3), &["DELIVER IN PERSON"]),
            vec![Some(true), Some(false), Some(false)]
        );
    }
}
