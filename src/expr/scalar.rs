//! [`Scalar`], a single typed value, and its conversions to and from Arrow arrays.
//!
//! It sits in the expression layer because literals are scalars; the frame layer above shows
//! cells through [`array_to_scalar`], and the executor broadcasts scalars with
//! [`scalar_array`] (casting in `exec::value` when a value meets a column of another type).

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array,
    DurationMicrosecondArray, DurationMillisecondArray, DurationNanosecondArray,
    DurationSecondArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, TimeUnit};

use crate::error::{Error, Result};

/// A single typed value.
///
/// Equality is structural: floats compare by their bits, so a NaN literal equals itself (an
/// expression holding `lit(f64::NAN)` must equal its own clone for the optimizer to recognise
/// it) and `0.0` differs from `-0.0`.
#[derive(Clone, Debug)]
pub enum Scalar {
    /// Untyped null (takes the type of what it is combined with).
    Null,
    /// A boolean.
    Boolean(bool),
    /// A signed 64-bit integer.
    Int64(i64),
    /// An unsigned 64-bit integer.
    UInt64(u64),
    /// A 64-bit float (NaN is a value, not a null).
    Float64(f64),
    /// A string.
    Utf8(String),
    /// Days since 1970-01-01 (`date("1994-01-01")`).
    Date32(i32),
    /// A timestamp in the given unit since the epoch (`datetime("2020-01-01T00:00:00")`). With
    /// a time zone it is an instant (the value counts from 1970-01-01 UTC); without one it is
    /// a wall-clock time.
    Timestamp(i64, TimeUnit, Option<Arc<str>>),
    /// A length of time in the given unit (what subtracting dates gives).
    Duration(i64, TimeUnit),
    /// An exact decimal: the unscaled value, the precision and the scale (the value is
    /// `v / 10^scale`), as Arrow's `Decimal128(precision, scale)` holds it.
    Decimal128(i128, u8, i8),
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        use Scalar::*;
        match (self, other) {
            (Null, Null) => true,
            (Boolean(a), Boolean(b)) => a == b,
            (Int64(a), Int64(b)) => a == b,
            (UInt64(a), UInt64(b)) => a == b,
            (Float64(a), Float64(b)) => a.to_bits() == b.to_bits(),
            (Utf8(a), Utf8(b)) => a == b,
            (Date32(a), Date32(b)) => a == b,
            (Timestamp(a, u, z), Timestamp(b, v, y)) => a == b && u == v && z == y,
            (Duration(a, u), Duration(b, v)) => a == b && u == v,
            (Decimal128(a, p, s), Decimal128(b, q, t)) => a == b && p == q && s == t,
            _ => false,
        }
    }
}

impl Scalar {
    /// The Arrow type of this value.
    pub fn data_type(&self) -> DataType {
        match self {
            Scalar::Null => DataType::Null,
            Scalar::Boolean(_) => DataType::Boolean,
            Scalar::Int64(_) => DataType::Int64,
            Scalar::UInt64(_) => DataType::UInt64,
            Scalar::Float64(_) => DataType::Float64,
            Scalar::Utf8(_) => DataType::Utf8,
            Scalar::Date32(_) => DataType::Date32,
            Scalar::Timestamp(_, u, tz) => DataType::Timestamp(*u, tz.clone()),
            Scalar::Duration(_, u) => DataType::Duration(*u),
            Scalar::Decimal128(_, p, s) => DataType::Decimal128(*p, *s),
        }
    }

    /// The value as `f64` when numeric (or boolean), else `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Boolean(b) => Some(f64::from(u8::from(*b))),
            Scalar::Int64(v) => Some(*v as f64),
            Scalar::UInt64(v) => Some(*v as f64),
            Scalar::Float64(v) => Some(*v),
            Scalar::Decimal128(v, _, s) => Some(super::types::decimal_to_f64(*v, *s)),
            _ => None,
        }
    }

    /// True for [`Scalar::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

/// Repeat `s` `len` times as an array of its own type ([`Scalar::data_type`]; a null gives a
/// `Null` array). The executor's `scalar_to_array` casts it to another type when asked.
pub fn scalar_array(s: &Scalar, len: usize) -> Result<ArrayRef> {
    let a: ArrayRef = match s {
        Scalar::Null => new_null_array(&DataType::Null, len),
        Scalar::Boolean(v) => Arc::new(BooleanArray::from(vec![*v; len])),
        Scalar::Int64(v) => Arc::new(Int64Array::from_value(*v, len)),
        Scalar::UInt64(v) => Arc::new(UInt64Array::from_value(*v, len)),
        Scalar::Float64(v) => Arc::new(Float64Array::from_value(*v, len)),
        Scalar::Utf8(v) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, len))),
        Scalar::Date32(v) => Arc::new(Date32Array::from_value(*v, len)),
        Scalar::Timestamp(v, u, tz) => {
            let tz = tz.clone();
            match u {
                TimeUnit::Second => {
                    Arc::new(TimestampSecondArray::from_value(*v, len).with_timezone_opt(tz))
                }
                TimeUnit::Millisecond => {
                    Arc::new(TimestampMillisecondArray::from_value(*v, len).with_timezone_opt(tz))
                }
                TimeUnit::Microsecond => {
                    Arc::new(TimestampMicrosecondArray::from_value(*v, len).with_timezone_opt(tz))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(TimestampNanosecondArray::from_value(*v, len).with_timezone_opt(tz))
                }
            }
        }
        Scalar::Duration(v, u) => match u {
            TimeUnit::Second => Arc::new(DurationSecondArray::from_value(*v, len)),
            TimeUnit::Millisecond => Arc::new(DurationMillisecondArray::from_value(*v, len)),
            TimeUnit::Microsecond => Arc::new(DurationMicrosecondArray::from_value(*v, len)),
            TimeUnit::Nanosecond => Arc::new(DurationNanosecondArray::from_value(*v, len)),
        },
        Scalar::Decimal128(v, p, s) => {
            Arc::new(Decimal128Array::from_value(*v, len).with_precision_and_scale(*p, *s)?)
        }
    };
    Ok(a)
}

/// The value at `row` of `a` as a `Scalar` (null gives `Scalar::Null`).
pub fn array_to_scalar(a: &dyn Array, row: usize) -> Result<Scalar> {
    use arrow::array::AsArray;
    use arrow::datatypes as t;
    if a.is_null(row) {
        return Ok(Scalar::Null);
    }
    Ok(match a.data_type() {
        DataType::Boolean => Scalar::Boolean(a.as_boolean().value(row)),
        DataType::Int8 => Scalar::Int64(a.as_primitive::<t::Int8Type>().value(row) as i64),
        DataType::Int16 => Scalar::Int64(a.as_primitive::<t::Int16Type>().value(row) as i64),
        DataType::Int32 => Scalar::Int64(a.as_primitive::<t::Int32Type>().value(row) as i64),
        DataType::Int64 => Scalar::Int64(a.as_primitive::<t::Int64Type>().value(row)),
        DataType::UInt8 => Scalar::Int64(a.as_primitive::<t::UInt8Type>().value(row) as i64),
        DataType::UInt16 => Scalar::Int64(a.as_primitive::<t::UInt16Type>().value(row) as i64),
        DataType::UInt32 => Scalar::Int64(a.as_primitive::<t::UInt32Type>().value(row) as i64),
        DataType::UInt64 => Scalar::UInt64(a.as_primitive::<t::UInt64Type>().value(row)),
        DataType::Float32 => Scalar::Float64(a.as_primitive::<t::Float32Type>().value(row) as f64),
        DataType::Float64 => Scalar::Float64(a.as_primitive::<t::Float64Type>().value(row)),
        DataType::Utf8 => Scalar::Utf8(a.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Scalar::Utf8(a.as_string::<i64>().value(row).to_string()),
        DataType::Date32 => Scalar::Date32(a.as_primitive::<t::Date32Type>().value(row)),
        DataType::Timestamp(u, tz) => {
            let v = match u {
                TimeUnit::Second => a.as_primitive::<t::TimestampSecondType>().value(row),
                TimeUnit::Millisecond => a.as_primitive::<t::TimestampMillisecondType>().value(row),
                TimeUnit::Microsecond => a.as_primitive::<t::TimestampMicrosecondType>().value(row),
                TimeUnit::Nanosecond => a.as_primitive::<t::TimestampNanosecondType>().value(row),
            };
            Scalar::Timestamp(v, *u, tz.clone())
        }
        DataType::Duration(u) => {
            let v = match u {
                TimeUnit::Second => a.as_primitive::<t::DurationSecondType>().value(row),
                TimeUnit::Millisecond => a.as_primitive::<t::DurationMillisecondType>().value(row),
                TimeUnit::Microsecond => a.as_primitive::<t::DurationMicrosecondType>().value(row),
                TimeUnit::Nanosecond => a.as_primitive::<t::DurationNanosecondType>().value(row),
            };
            Scalar::Duration(v, *u)
        }
        DataType::Decimal128(p, s) => {
            Scalar::Decimal128(a.as_primitive::<t::Decimal128Type>().value(row), *p, *s)
        }
        DataType::Date64 => {
            let ms = a.as_primitive::<t::Date64Type>().value(row);
            Scalar::Date32(ms.div_euclid(86_400_000) as i32)
        }
        other => {
            return Err(Error::Compute(format!(
                "no scalar form for values of type {other}"
            )))
        }
    })
}
