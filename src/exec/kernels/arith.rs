//! Arithmetic: `+ - * / %` and negation, with broadcasting of scalars.
//!
//! Operands are cast to the type the type rules chose (Int64, Float32 or Float64) and handed to
//! Arrow's vectorized kernels. Integer `+ - *` wrap on overflow (as NumPy); `/` is always true
//! division (the type rules make it a float); `%` truncates toward zero like Rust and Arrow, and
//! an integer `% 0` is an error.

use arrow::array::{Array, ArrayRef, Scalar as ArrowScalar};
use arrow::compute::kernels::numeric;
use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::expr::BinaryOp;

enum Operand {
    Array(ArrayRef),
    Scalar(ArrowScalar<ArrayRef>),
}

impl Operand {
    fn datum(&self) -> &dyn arrow::array::Datum {
        match self {
            Operand::Array(a) => a,
            Operand::Scalar(s) => s,
        }
    }
}

fn operand(v: Value, dt: &DataType) -> Result<Operand> {
    Ok(match v {
        Value::Array(a) if a.data_type() == dt => Operand::Array(a),
        Value::Array(a) => Operand::Array(arrow::compute::cast(&a, dt)?),
        Value::Scalar(s) => Operand::Scalar(ArrowScalar::new(scalar_to_array(&s, dt, 1)?)),
    })
}

/// `l op r` computed in `out` (the type resolution's result).
pub fn binary(op: BinaryOp, l: Value, r: Value, out: &DataType) -> Result<Value> {
    let both_scalar = matches!((&l, &r), (Value::Scalar(_), Value::Scalar(_)));
    let lo = operand(l, out)?;
    let ro = operand(r, out)?;
    let (a, b) = (lo.datum(), ro.datum());
    let res = match op {
        BinaryOp::Add => numeric::add_wrapping(a, b),
        BinaryOp::Sub => numeric::sub_wrapping(a, b),
        BinaryOp::Mul => numeric::mul_wrapping(a, b),
        BinaryOp::Div => numeric::div(a, b),
        BinaryOp::Rem => numeric::rem(a, b),
        other => {
            return Err(Error::Internal(format!(
                "{other} is not an arithmetic operator"
            )))
        }
    }
    .map_err(|e| match e {
        arrow::error::ArrowError::DivideByZero => {
            Error::Compute(format!("integer division by zero in `{}`", op.symbol()))
        }
        other => Error::from(other),
    })?;
    if both_scalar {
        Ok(Value::Scalar(array_to_scalar(res.as_ref(), 0)?))
    } else {
        Ok(Value::Array(res))
    }
}

/// `-v`.
pub fn negate(v: Value, out: &DataType) -> Result<Value> {
    match v {
        Value::Scalar(s) => {
            let a = scalar_to_array(&s, out, 1)?;
            let n = numeric::neg_wrapping(&a)?;
            Ok(Value::Scalar(array_to_scalar(n.as_ref(), 0)?))
        }
        Value::Array(a) => {
            let a = if a.data_type() == out {
                a
            } else {
                arrow::compute::cast(&a, out)?
            };
            Ok(Value::Array(numeric::neg_wrapping(&a)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scalar;
    use arrow::array::{Float64Array, Int64Array};
    use std::sync::Arc;

    #[test]
    fn int_plus_float_scalar_broadcasts() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let v = binary(
            BinaryOp::Add,
            Value::Array(a),
            Value::Scalar(Scalar::Float64(0.5)),
            &DataType::Float64,
        )
        .unwrap()
        .into_array(3)
        .unwrap();
        let v = v.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            vec![Some(1.5), None, Some(3.5)]
        );
    }

    #[test]
    fn integer_modulo_by_zero_is_an_error() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let e = binary(
            BinaryOp::Rem,
            Value::Array(a),
            Value::Scalar(Scalar::Int64(0)),
            &DataType::Int64,
        )
        .unwrap_err();
        assert!(e.to_string().contains("division by zero"), "{e}");
    }

    #[test]
    fn scalar_op_scalar_stays_scalar() {
        let v = binary(
            BinaryOp::Div,
            Value::Scalar(Scalar::Int64(1)),
            Value::Scalar(Scalar::Int64(4)),
            &DataType::Float64,
        )
        .unwrap();
        assert!(matches!(v, Value::Scalar(Scalar::Float64(x)) if x == 0.25));
    }
}
