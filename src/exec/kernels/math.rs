//! Kernels of the math family (`expr::math`): `abs`, `sqrt`, `exp`, `ln`, `floor`, `ceil`,
//! `pow`, `clip`, `round`, elementwise over one array (per morsel), keeping its nulls.
//!
//! Floats compute in their own width (Float32 stays Float32); integer `abs` wraps at
//! `i64::MIN` as NumPy does; `floor`, `ceil` and `round` of integers are the integers.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, PrimitiveArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int64Type};

use super::chunked::cast_to;
use super::{first_array, scalar_in_scalar_out, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, MathFunction};

impl Kernel for MathFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        scalar_in_scalar_out(args, |mut args| {
            let a = first_array(&mut args, self.name())?;
            self.on_array(a, args, out)
        })
    }
}

impl MathFunction {
    fn on_array(&self, a: ArrayRef, mut args: Vec<Value>, out: &DataType) -> Result<ArrayRef> {
        match self {
            MathFunction::Abs => {
                if out.is_floating() {
                    float_map(&a, out, f64::abs)
                } else {
                    let a = cast_to(&a, &DataType::Int64)?;
                    Ok(Arc::new(
                        a.as_primitive::<Int64Type>()
                            .unary::<_, Int64Type>(i64::wrapping_abs),
                    ))
                }
            }
            MathFunction::Floor | MathFunction::Ceil | MathFunction::Round(_)
                if !out.is_floating() =>
            {
                cast_to(&a, out)
            }
            MathFunction::Floor => float_map(&a, out, f64::floor),
            MathFunction::Ceil => float_map(&a, out, f64::ceil),
            MathFunction::Round(d) => {
                let d = *d;
                if d == 0 {
                    float_map(&a, out, f64::round)
                } else {
                    let scale = 10f64.powi(d);
                    float_map(&a, out, move |v| (v * scale).round() / scale)
                }
            }
            MathFunction::Sqrt => float_map(&a, out, f64::sqrt),
            MathFunction::Exp => float_map(&a, out, f64::exp),
            MathFunction::Ln => float_map(&a, out, f64::ln),
            MathFunction::Clip { min, max } => {
                let lo = min.unwrap_or(f64::NEG_INFINITY);
                let hi = max.unwrap_or(f64::INFINITY);
                // Comparisons with NaN are false, so NaN passes through unchanged.
                float_map(&a, out, move |v| {
                    if v < lo {
                        lo
                    } else if v > hi {
                        hi
                    } else {
                        v
                    }
                })
            }
            MathFunction::Pow => {
                let e = args
                    .pop()
                    .ok_or_else(|| Error::Internal("pow without exponent".into()))?;
                pow(&a, e, out)
            }
        }
    }
}

fn pow(a: &ArrayRef, exponent: Value, out: &DataType) -> Result<ArrayRef> {
    match exponent {
        Value::Scalar(s) => {
            let p = s.as_f64().unwrap_or(f64::NAN);
            if p == 2.0 {
                float_map(a, out, |v| v * v)
            } else if p.fract() == 0.0 && p.abs() < i32::MAX as f64 {
                let p = p as i32;
                float_map(a, out, move |v| v.powi(p))
            } else {
                float_map(a, out, move |v| v.powf(p))
            }
        }
        Value::Array(e) => {
            let a = cast_to(a, &DataType::Float64)?;
            let e = cast_to(&e, &DataType::Float64)?;
            let r: PrimitiveArray<Float64Type> = arrow::compute::binary(
                a.as_primitive::<Float64Type>(),
                e.as_primitive::<Float64Type>(),
                f64::powf,
            )?;
            Ok(Arc::new(r))
        }
    }
}

/// Run `f` on every value of a float array (Float32 or Float64), keeping nulls.
pub(crate) fn float_map(a: &ArrayRef, out: &DataType, f: impl Fn(f64) -> f64) -> Result<ArrayRef> {
    let a = cast_to(a, out)?;
    Ok(match out {
        DataType::Float32 => Arc::new(
            a.as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|v| f(v as f64) as f32),
        ),
        _ => Arc::new(a.as_primitive::<Float64Type>().unary::<_, Float64Type>(f)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scalar;
    use arrow::array::Float64Array;

    fn f64s(a: &ArrayRef) -> Vec<Option<f64>> {
        a.as_primitive::<Float64Type>().iter().collect()
    }

    #[test]
    fn clip_keeps_nan_and_null() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(-5.0),
            Some(f64::NAN),
            None,
            Some(5.0),
        ]));
        let clip = MathFunction::Clip {
            min: Some(-1.0),
            max: Some(1.0),
        };
        let r = clip
            .invoke(vec![Value::Array(a)], 4, &DataType::Float64)
            .unwrap()
            .into_array(4)
            .unwrap();
        let v = f64s(&r);
        assert_eq!(v[0], Some(-1.0));
        assert!(v[1].unwrap().is_nan());
        assert_eq!(v[2], None);
        assert_eq!(v[3], Some(1.0));
    }

    #[test]
    fn scalar_in_scalar_out() {
        let r = MathFunction::Sqrt
            .invoke(
                vec![Value::Scalar(Scalar::Float64(16.0))],
                1,
                &DataType::Float64,
            )
            .unwrap();
        assert!(matches!(r, Value::Scalar(Scalar::Float64(v)) if v == 4.0));
    }
}
