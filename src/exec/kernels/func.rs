//! Elementwise functions: NaN/null tests, math, clip, round, fills.
//!
//! Scalars in, scalar out: when every argument is a scalar the function runs on one-row arrays
//! and the result is turned back into a scalar, so the kernels below only handle arrays.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, PrimitiveArray};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int64Type};

use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::expr::Function;

/// Apply `func` to its evaluated arguments; `out` is the resolved output type.
pub fn apply(func: &Function, args: Vec<Value>, out: &DataType) -> Result<Value> {
    // Issue 4 part A: missing values, scaling, windows (kernels in their own files).
    if func.is_seed_a() {
        return super::seed_a::apply(func, args, out);
    }
    // Issue 4 part B: sorting, indexing, random. These change the length or order, so they
    // skip the scalar-in-scalar-out path below. (The input-less random and row-index functions
    // are evaluated with the frame's height in `eval` and never get here.)
    if func.is_seed_b() {
        return super::gather::apply(func, args, out);
    }
    if args.iter().all(|a| matches!(a, Value::Scalar(_))) {
        let arrays = args
            .into_iter()
            .map(|a| a.into_array(1))
            .collect::<Result<Vec<_>>>()?;
        let res = apply_arrays(func, arrays.into_iter().map(Value::Array).collect(), out)?;
        return Ok(Value::Scalar(array_to_scalar(res.as_ref(), 0)?));
    }
    apply_arrays(func, args, out).map(Value::Array)
}

fn first_array(args: &mut Vec<Value>, func: &Function) -> Result<ArrayRef> {
    if args.is_empty() {
        return Err(Error::Internal(format!("{} without input", func.name())));
    }
    match args.remove(0) {
        Value::Array(a) => Ok(a),
        Value::Scalar(_) => Err(Error::Internal(format!(
            "{}: a scalar input with array arguments is not supported",
            func.name()
        ))),
    }
}

fn cast_to(a: &ArrayRef, dt: &DataType) -> Result<ArrayRef> {
    if a.data_type() == dt {
        Ok(a.clone())
    } else {
        Ok(arrow::compute::cast(a, dt)?)
    }
}

/// Run `f` on every value of a float array (Float32 or Float64), keeping nulls.
fn float_map(a: &ArrayRef, out: &DataType, f: impl Fn(f64) -> f64) -> Result<ArrayRef> {
    let a = cast_to(a, out)?;
    Ok(match out {
        DataType::Float32 => Arc::new(
            a.as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|v| f(v as f64) as f32),
        ),
        _ => Arc::new(a.as_primitive::<Float64Type>().unary::<_, Float64Type>(f)),
    })
}

/// A boolean array from a per-value float test; integers give `int_answer` everywhere.
fn float_test(a: &ArrayRef, int_answer: bool, f: impl Fn(f64) -> bool) -> Result<ArrayRef> {
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

fn apply_arrays(func: &Function, mut args: Vec<Value>, out: &DataType) -> Result<ArrayRef> {
    let a = first_array(&mut args, func)?;
    match func {
        Function::IsNan => float_test(&a, false, f64::is_nan),
        Function::IsNotNan => float_test(&a, true, |v| !v.is_nan()),
        Function::IsInfinite => float_test(&a, false, f64::is_infinite),
        Function::IsFinite => float_test(&a, true, f64::is_finite),
        Function::IsNull => Ok(Arc::new(arrow::compute::is_null(&a)?)),
        Function::IsNotNull => Ok(Arc::new(arrow::compute::is_not_null(&a)?)),
        Function::Abs => {
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
        Function::Floor | Function::Ceil | Function::Round(_) if !out.is_floating() => {
            cast_to(&a, out)
        }
        Function::Floor => float_map(&a, out, f64::floor),
        Function::Ceil => float_map(&a, out, f64::ceil),
        Function::Round(d) => {
            let d = *d;
            if d == 0 {
                float_map(&a, out, f64::round)
            } else {
                let scale = 10f64.powi(d);
                float_map(&a, out, move |v| (v * scale).round() / scale)
            }
        }
        Function::Sqrt => float_map(&a, out, f64::sqrt),
        Function::Exp => float_map(&a, out, f64::exp),
        Function::Ln => float_map(&a, out, f64::ln),
        Function::Clip { min, max } => {
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
        Function::Pow => {
            let e = args
                .pop()
                .ok_or_else(|| Error::Internal("pow without exponent".into()))?;
            match e {
                Value::Scalar(s) => {
                    let p = s.as_f64().unwrap_or(f64::NAN);
                    if p == 2.0 {
                        float_map(&a, out, |v| v * v)
                    } else if p.fract() == 0.0 && p.abs() < i32::MAX as f64 {
                        let p = p as i32;
                        float_map(&a, out, move |v| v.powi(p))
                    } else {
                        float_map(&a, out, move |v| v.powf(p))
                    }
                }
                Value::Array(e) => {
                    let a = cast_to(&a, &DataType::Float64)?;
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
        Function::FillNan => {
            let v = args
                .pop()
                .ok_or_else(|| Error::Internal("fill_nan without value".into()))?;
            if !out.is_floating() {
                return cast_to(&a, out);
            }
            match v {
                Value::Scalar(s) => {
                    let fill = s.as_f64();
                    match fill {
                        // Replacing NaN by NaN keeps the input as it is (bit for bit, as
                        // `fill_nan_with` does for a column without a valid value).
                        Some(fill) if fill.is_nan() => cast_to(&a, out),
                        Some(fill) => {
                            float_map(&a, out, move |x| if x.is_nan() { fill } else { x })
                        }
                        // Filling NaN with null turns NaN into missing values.
                        None => {
                            let a = cast_to(&a, out)?;
                            let mask = float_test(&a, false, f64::is_nan)?;
                            let null = scalar_to_array(&s, out, 1)?;
                            Ok(zip(
                                mask.as_boolean(),
                                &arrow::array::Scalar::new(null),
                                &a,
                            )?)
                        }
                    }
                }
                Value::Array(v) => {
                    let a = cast_to(&a, out)?;
                    let v = cast_to(&v, out)?;
                    let mask = float_test(&a, false, f64::is_nan)?;
                    let mask = arrow::compute::prep_null_mask_filter(mask.as_boolean());
                    Ok(zip(&mask, &v, &a)?)
                }
            }
        }
        Function::FillNull => {
            let v = args
                .pop()
                .ok_or_else(|| Error::Internal("fill_null without value".into()))?;
            let a = cast_to(&a, out)?;
            if a.null_count() == 0 {
                return Ok(a);
            }
            let mask = arrow::compute::is_null(&a)?;
            match v {
                Value::Scalar(s) => {
                    let fill = scalar_to_array(&s, out, 1)?;
                    Ok(zip(&mask, &arrow::array::Scalar::new(fill), &a)?)
                }
                Value::Array(v) => Ok(zip(&mask, &cast_to(&v, out)?, &a)?),
            }
        }
        // Issue 4 parts A and B: dispatched in `apply` before reaching here; the input-less
        // ones are evaluated with the frame's height in `eval`.
        _ => Err(Error::Internal(format!(
            "{} reached the elementwise kernels",
            func.name()
        ))),
    }
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
        let r = apply(
            &Function::Clip {
                min: Some(-1.0),
                max: Some(1.0),
            },
            vec![Value::Array(a)],
            &DataType::Float64,
        )
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
    fn fill_nan_and_fill_null_are_separate() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), None, Some(2.0)]));
        let r = apply(
            &Function::FillNan,
            vec![Value::Array(a.clone()), Value::Scalar(Scalar::Float64(0.0))],
            &DataType::Float64,
        )
        .unwrap()
        .into_array(3)
        .unwrap();
        assert_eq!(f64s(&r), vec![Some(0.0), None, Some(2.0)]);
        let r = apply(
            &Function::FillNull,
            vec![Value::Array(a), Value::Scalar(Scalar::Float64(9.0))],
            &DataType::Float64,
        )
        .unwrap()
        .into_array(3)
        .unwrap();
        let v = f64s(&r);
        assert!(v[0].unwrap().is_nan());
        assert_eq!(&v[1..], &[Some(9.0), Some(2.0)]);
    }

    #[test]
    fn scalar_in_scalar_out() {
        let r = apply(
            &Function::Sqrt,
            vec![Value::Scalar(Scalar::Float64(16.0))],
            &DataType::Float64,
        )
        .unwrap();
        assert!(matches!(r, Value::Scalar(Scalar::Float64(v)) if v == 4.0));
    }
}
