//! Arithmetic: `+ - * / %` and negation, with broadcasting of scalars.
//!
//! Operands are cast to the type the type rules chose (Int64, Float32 or Float64) and handed to
//! Arrow's vectorized kernels. Integer `+ - *` wrap on overflow (as NumPy); `/` is always true
//! division (the type rules make it a float); `%` truncates toward zero like Rust and Arrow, and
//! an integer `% 0` is an error.
//!
//! Decimals are exact: `+ - *` with decimals and integers fail on overflow (a result beyond 38
//! digits), never wrap; dates, timestamps and durations go to `temporal::binary`. Arrow's checked
//! decimal kernels test every value (a software `i128` multiply with an overflow check, then a
//! second pass comparing each result with 10^38): TPC-H's Q1 spent a third of its time there.
//! So a bound comes first (`decimal::exact`): from the largest magnitude on each side, when no
//! result can reach 10^38 the values are combined without checks, in `i64` when every operand
//! and result fits one (one machine multiply), else in `i128`. Only when the bound allows an
//! overflow do Arrow's checked kernels run, and they give the error.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Scalar as ArrowScalar};
use arrow::compute::kernels::numeric;
use arrow::datatypes::{DataType, Decimal128Type};

use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::expr::types::DECIMAL_PRECISION;
use crate::expr::BinaryOp;

mod decimal;

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
        Value::Array(a) => Operand::Array(crate::exec::kernels::cast::cast(&a, dt)?),
        Value::Scalar(s) => Operand::Scalar(ArrowScalar::new(scalar_to_array(&s, dt, 1)?)),
    })
}

/// `l op r` computed in `out` (the type resolution's result).
pub fn binary(op: BinaryOp, l: Value, r: Value, out: &DataType) -> Result<Value> {
    match out {
        DataType::Decimal128(_, scale) => return decimal_binary(op, l, r, *scale),
        DataType::Duration(_) | DataType::Timestamp(..) => {
            return super::temporal::binary(op, l, r, out)
        }
        _ => {}
    }
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

/// `l op r` for `+ - *` resolved to a decimal of scale `scale`: integers join as decimals of
/// scale 0, Arrow's checked decimal kernels rescale (`+ -`) or add scales (`*`), and a result
/// beyond 38 digits is an error naming the operation, never a wrapped value.
fn decimal_binary(op: BinaryOp, l: Value, r: Value, scale: i8) -> Result<Value> {
    if let Some(v) = decimal::exact(op, &l, &r, scale)? {
        return Ok(v);
    }
    decimal_checked(op, l, r, scale)
}

/// `decimal_binary` through Arrow's checked kernels: every value tested for overflow.
fn decimal_checked(op: BinaryOp, l: Value, r: Value, scale: i8) -> Result<Value> {
    let both_scalar = matches!((&l, &r), (Value::Scalar(_), Value::Scalar(_)));
    let exact = arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    let side = |v: Value| -> Result<Operand> {
        let (a, scalar) = match v {
            Value::Array(a) => (a, false),
            Value::Scalar(s) => (scalar_to_array(&s, &s.data_type(), 1)?, true),
        };
        let a = match a.data_type() {
            DataType::Decimal128(..) => a,
            _ => crate::exec::kernels::cast::cast_with_options(
                &a,
                &DataType::Decimal128(DECIMAL_PRECISION, 0),
                &exact,
            )?,
        };
        Ok(if scalar {
            Operand::Scalar(ArrowScalar::new(a))
        } else {
            Operand::Array(a)
        })
    };
    let (lo, ro) = (side(l)?, side(r)?);
    let (a, b) = (lo.datum(), ro.datum());
    let overflow = |e: arrow::error::ArrowError| {
        Error::Compute(format!(
            "decimal overflow in `{}`: the exact result does not fit in 38 digits ({e})",
            op.symbol()
        ))
    };
    let res = match op {
        BinaryOp::Add => numeric::add(a, b),
        BinaryOp::Sub => numeric::sub(a, b),
        BinaryOp::Mul => numeric::mul(a, b),
        other => {
            return Err(Error::Internal(format!(
                "`{}` does not give a decimal",
                other.symbol()
            )))
        }
    }
    .map_err(overflow)?;
    let res = res.as_primitive::<Decimal128Type>();
    if res.scale() != scale {
        return Err(Error::Internal(format!(
            "decimal `{}` gave scale {} where {scale} was planned",
            op.symbol(),
            res.scale()
        )));
    }
    res.validate_decimal_precision(DECIMAL_PRECISION)
        .map_err(overflow)?;
    let res: ArrayRef = Arc::new(
        res.clone()
            .with_precision_and_scale(DECIMAL_PRECISION, scale)?,
    );
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
                crate::exec::kernels::cast::cast(&a, out)?
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
