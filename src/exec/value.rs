//! `Value`: what evaluating an expression gives, either a column or a scalar that broadcasts;
//! and the broadcast of a `Scalar` to an array of a given type (the conversions themselves
//! live with `Scalar` in the expression layer, below the frames that display values).

use arrow::array::{new_null_array, Array, ArrayRef};
use arrow::datatypes::DataType;

use crate::error::Result;
pub(crate) use crate::expr::array_to_scalar;
use crate::expr::{scalar_array, Scalar};

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
    if s.is_null() {
        return Ok(new_null_array(dt, len));
    }
    let a = scalar_array(s, len)?;
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
