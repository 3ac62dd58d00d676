//! Kernels of the temporal family (`expr::temporal`): date parts, truncation and duration
//! totals, in [`parts`]; plus what the other kernels need of dates and times: [`ticks`] (any
//! temporal column as Int64 ticks of one unit, the form comparisons, `is_in`, differences and
//! windows by time compute in), [`retype`] and the arithmetic of dates, timestamps and
//! durations ([`binary`]).
//!
//! Ticks of a zoned timestamp count UTC instants; parts and truncation convert each value to
//! its zone's local time first (`calendar::Zone`), so a fixed offset costs an add per row and a
//! named zone a lookup of its offset.

mod parts;

use arrow::array::{make_array, Array, ArrayRef, AsArray, Int64Array, PrimitiveArray};
use arrow::compute::kernels::numeric;
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Date64Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};

use super::{first_array, scalar_in_scalar_out, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::expr::temporal::calendar::ticks_per_day;
use crate::expr::{BinaryOp, FunctionFamily, TemporalFunction};

impl Kernel for TemporalFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        if let TemporalFunction::InvalidLiteral { .. } = self {
            return Err(Error::Internal(format!(
                "the invalid literal {}(..) reached execution",
                self.name()
            )));
        }
        scalar_in_scalar_out(args, |mut args| {
            let a = first_array(&mut args, self.name())?;
            parts::apply(self, &a, out)
        })
    }
}

/// The values of `a` as raw Int64 (dates as days, Date64 as milliseconds, timestamps and
/// durations as their ticks), keeping the nulls.
fn raw_i64(a: &ArrayRef) -> Result<Int64Array> {
    fn widen<T: ArrowPrimitiveType>(a: &ArrayRef) -> Int64Array
    where
        T::Native: Into<i64>,
    {
        a.as_primitive::<T>().unary(|v| v.into())
    }
    Ok(match a.data_type() {
        DataType::Date32 => widen::<Date32Type>(a),
        DataType::Date64 => widen::<Date64Type>(a),
        DataType::Int64 => a.as_primitive::<Int64Type>().clone(),
        DataType::Timestamp(TimeUnit::Second, _) => widen::<TimestampSecondType>(a),
        DataType::Timestamp(TimeUnit::Millisecond, _) => widen::<TimestampMillisecondType>(a),
        DataType::Timestamp(TimeUnit::Microsecond, _) => widen::<TimestampMicrosecondType>(a),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => widen::<TimestampNanosecondType>(a),
        DataType::Duration(TimeUnit::Second) => widen::<DurationSecondType>(a),
        DataType::Duration(TimeUnit::Millisecond) => widen::<DurationMillisecondType>(a),
        DataType::Duration(TimeUnit::Microsecond) => widen::<DurationMicrosecondType>(a),
        DataType::Duration(TimeUnit::Nanosecond) => widen::<DurationNanosecondType>(a),
        DataType::Null => Int64Array::new_null(a.len()),
        other => {
            return Err(Error::Internal(format!(
                "{other} is not a date, timestamp or duration"
            )))
        }
    })
}

/// Ticks per day of a temporal type's raw values (dates count days: 1).
fn raw_per_day(dt: &DataType) -> i64 {
    match dt {
        DataType::Date32 => 1,
        DataType::Date64 => 86_400_000,
        DataType::Timestamp(u, _) | DataType::Duration(u) => ticks_per_day(*u),
        _ => 1,
    }
}

/// `a` (a date, timestamp or duration) as Int64 ticks of `unit`, or days when `unit` is
/// `None`; a value that does not fit an `i64` at the finer unit is an error.
pub(crate) fn ticks(a: &ArrayRef, unit: Option<TimeUnit>) -> Result<Int64Array> {
    let raw = raw_i64(a)?;
    let from = raw_per_day(a.data_type());
    let to = unit.map_or(1, ticks_per_day);
    if to == from {
        Ok(raw)
    } else if to > from {
        let k = to / from;
        raw.try_unary(|v| {
            v.checked_mul(k).ok_or_else(|| {
                arrow::error::ArrowError::ComputeError(format!(
                    "{v} ({}) is out of range at {unit:?} precision",
                    a.data_type()
                ))
            })
        })
        .map_err(|e| Error::Compute(e.to_string()))
    } else {
        let k = from / to;
        Ok(raw.unary(|v| v.div_euclid(k)))
    }
}

/// The same buffers under another (same-width) type: Int64 ticks as a timestamp or duration.
pub(crate) fn retype(a: &dyn Array, dt: &DataType) -> Result<ArrayRef> {
    let data = a.to_data().into_builder().data_type(dt.clone()).build()?;
    Ok(make_array(data))
}

/// `l op r` where the type rules resolved `out` to a duration or timestamp: both sides in
/// ticks of `out`'s unit, then checked integer arithmetic.
pub(crate) fn binary(op: BinaryOp, l: Value, r: Value, out: &DataType) -> Result<Value> {
    let unit = match out {
        DataType::Duration(u) | DataType::Timestamp(u, _) => *u,
        other => {
            return Err(Error::Internal(format!(
                "temporal arithmetic giving {other}"
            )))
        }
    };
    let both_scalar = matches!((&l, &r), (Value::Scalar(_), Value::Scalar(_)));
    let side = |v: Value| -> Result<(Int64Array, bool)> {
        Ok(match v {
            Value::Array(a) => (ticks(&a, Some(unit))?, false),
            Value::Scalar(s) => {
                let a = scalar_to_array(&s, &s.data_type(), 1)?;
                (ticks(&a, Some(unit))?, true)
            }
        })
    };
    let (la, ls) = side(l)?;
    let (ra, rs) = side(r)?;
    let datum = |a: Int64Array, s: bool| -> Box<dyn arrow::array::Datum> {
        if s {
            Box::new(arrow::array::Scalar::new(a))
        } else {
            Box::new(a)
        }
    };
    let (a, b) = (datum(la, ls), datum(ra, rs));
    let res = match op {
        BinaryOp::Add => numeric::add(a.as_ref(), b.as_ref()),
        BinaryOp::Sub => numeric::sub(a.as_ref(), b.as_ref()),
        other => {
            return Err(Error::Internal(format!(
                "`{}` on dates and times",
                other.symbol()
            )))
        }
    }
    .map_err(|e| Error::Compute(format!("date arithmetic `{}`: {e}", op.symbol())))?;
    let res = retype(res.as_ref(), out)?;
    if both_scalar {
        Ok(Value::Scalar(array_to_scalar(res.as_ref(), 0)?))
    } else {
        Ok(Value::Array(res))
    }
}

/// Int64 values (with `nulls`) as an array of the Int64-backed temporal type `dt`.
pub(crate) fn i64_as(
    values: Vec<i64>,
    nulls: Option<arrow::buffer::NullBuffer>,
    dt: &DataType,
) -> Result<ArrayRef> {
    let a = PrimitiveArray::<Int64Type>::new(values.into(), nulls);
    retype(&a, dt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scalar;
    use arrow::array::{Date32Array, TimestampMillisecondArray};
    use std::sync::Arc;

    #[test]
    fn ticks_convert_units_and_check_overflow() {
        let d: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), None, Some(-1)]));
        let t = ticks(&d, Some(TimeUnit::Millisecond)).unwrap();
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            vec![Some(86_400_000), None, Some(-86_400_000)]
        );
        let ms: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![-1, 86_400_001]));
        assert_eq!(
            ticks(&ms, None).unwrap().values().to_vec(),
            vec![-1, 1] // floor, not truncation
        );
        let big: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![i64::MAX / 10]));
        let err = ticks(&big, Some(TimeUnit::Nanosecond)).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn date_minus_date_is_milliseconds() {
        let d: ArrayRef = Arc::new(Date32Array::from(vec![Some(3), None]));
        let out = binary(
            BinaryOp::Sub,
            Value::Array(d),
            Value::Scalar(Scalar::Date32(1)),
            &DataType::Duration(TimeUnit::Millisecond),
        )
        .unwrap()
        .into_array(2)
        .unwrap();
        assert_eq!(out.data_type(), &DataType::Duration(TimeUnit::Millisecond));
        let v = ticks(&out, Some(TimeUnit::Millisecond)).unwrap();
        assert_eq!(v.iter().collect::<Vec<_>>(), vec![Some(172_800_000), None]);
    }
}
