//! `Value`: what evaluating an expression gives, either a column or a scalar that broadcasts;
//! and conversions between `Scalar` and Arrow arrays.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array,
    DurationMicrosecondArray, DurationMillisecondArray, DurationNanosecondArray,
    DurationSecondArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, TimeUnit};

use crate::error::{Error, Result};
use crate::expr::Scalar;

/// An evaluated expression: a column, or one value broadcast to any length.
#[derive(Clone, Debug)]
pub enum Value {
    /// A column, one value per row.
    Array(ArrayRef),
    /// One value, for any number of rows.
    Scalar(Scalar),
}

impl Value {
    /// The value as an array of `len` rows (a scalar is repeated).
    pub fn into_array(self, len: usize) -> Result<ArrayRef> {
        match self {
            Value::Array(a) => Ok(a),
            Value::Scalar(s) => {
                let dt = s.data_type();
                scalar_to_array(&s, &dt, len)
            }
        }
    }

    /// The value as an array of `len` rows of type `dt`.
    pub fn into_array_of(self, dt: &DataType, len: usize) -> Result<ArrayRef> {
        match self {
            Value::Array(a) if a.data_type() == dt => Ok(a),
            Value::Array(a) => Ok(crate::exec::kernels::cast::cast(&a, dt)?),
            Value::Scalar(s) => scalar_to_array(&s, dt, len),
        }
    }

    /// The Arrow type of the value.
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Array(a) => a.data_type().clone(),
            Value::Scalar(s) => s.data_type(),
        }
    }
}

/// Repeat `s` `len` times as an array of type `dt` (casting when the types differ).
pub fn scalar_to_array(s: &Scalar, dt: &DataType, len: usize) -> Result<ArrayRef> {
    let a: ArrayRef = match s {
        Scalar::Null => return Ok(new_null_array(dt, len)),
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
    if a.data_type() == dt || *dt == DataType::Null {
        Ok(a)
    } else if matches!(dt, DataType::Decimal128(..)) {
        // A value a decimal cannot hold (too many digits) is an error, not a null.
        let opts = arrow::compute::CastOptions {
            safe: false,
            ..Default::default()
        };
        Ok(crate::exec::kernels::cast::cast_with_options(
            &a, dt, &opts,
        )?)
    } else {
        Ok(crate::exec::kernels::cast::cast(&a, dt)?)
    }
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
