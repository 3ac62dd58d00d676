//! Comparisons with NumPy's NaN semantics: every comparison with NaN is false except `!=`.
//!
//! Arrow's own comparison kernels order floats totally (NaN greater than everything, equal to
//! itself), which would make `filter(x > 0)` keep NaN rows; numbers therefore go through a plain
//! IEEE comparison loop here (which also vectorizes well), other types through Arrow.
//!
//! Both sides are first brought to one comparable form (`comparable`): numbers to the
//! promoted type, decimals to a common scale (exact), dates and times to ticks of a common
//! unit (a date is its midnight; zoned timestamps compare as instants); strings compare as
//! views when either side is a view.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, PrimitiveArray, Scalar as ArrowScalar};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::compute::kernels::cmp as acmp;
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int64Type,
};

use super::temporal::ticks;
use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::expr::types::comparison_type;
use crate::expr::BinaryOp;

/// `l op r` as a boolean value.
pub fn compare(op: BinaryOp, l: Value, r: Value) -> Result<Value> {
    if let Some(out) = decimal_against_float(op, &l, &r) {
        return Ok(Value::Array(Arc::new(out)));
    }
    let (lt, rt) = (l.data_type(), r.data_type());
    let both_scalar = matches!((&l, &r), (Value::Scalar(_), Value::Scalar(_)));
    let common = comparison_type(&lt, &rt)
        .ok_or_else(|| Error::Type(format!("cannot compare {lt} with {rt}")))?;
    // A view column (Parquet strings) against a plain string (a literal) compares as views:
    // the literal becomes one view, where the column cast to `Utf8` copied every string (a
    // quarter of TPC-H's Q19). The order of bytes is the same in both forms.
    let common = match common {
        DataType::Utf8 if lt == DataType::Utf8View || rt == DataType::Utf8View => {
            DataType::Utf8View
        }
        c => c,
    };
    let (la, ls) = comparable(l, &common)?;
    let (ra, rs) = comparable(r, &common)?;
    let out: BooleanArray = match la.data_type() {
        DataType::Float64 => prim::<Float64Type>(op, &la, ls, &ra, rs),
        DataType::Float32 => prim::<Float32Type>(op, &la, ls, &ra, rs),
        DataType::Int64 => prim::<Int64Type>(op, &la, ls, &ra, rs),
        DataType::Date32 => prim::<Date32Type>(op, &la, ls, &ra, rs),
        DataType::Decimal128(..) => prim::<Decimal128Type>(op, &la, ls, &ra, rs),
        _ => {
            let a: &dyn arrow::array::Datum = &la;
            let b: &dyn arrow::array::Datum = &ra;
            let sa;
            let sb;
            let a = if ls {
                sa = ArrowScalar::new(la.clone());
                &sa as &dyn arrow::array::Datum
            } else {
                a
            };
            let b = if rs {
                sb = ArrowScalar::new(ra.clone());
                &sb as &dyn arrow::array::Datum
            } else {
                b
            };
            match op {
                BinaryOp::Gt => acmp::gt(a, b),
                BinaryOp::GtEq => acmp::gt_eq(a, b),
                BinaryOp::Lt => acmp::lt(a, b),
                BinaryOp::LtEq => acmp::lt_eq(a, b),
                BinaryOp::Eq => acmp::eq(a, b),
                BinaryOp::NotEq => acmp::neq(a, b),
                other => return Err(Error::Internal(format!("{other} is not a comparison"))),
            }?
        }
    };
    if both_scalar {
        Ok(Value::Scalar(array_to_scalar(&out, 0)?))
    } else {
        Ok(Value::Array(Arc::new(out)))
    }
}

/// A decimal column against a float literal (`l_discount >= 0.05`), answered on the unscaled
/// integers, without the column's `Float64` copy, and the same as comparing that copy: the
/// conversion `cast` does for values below 2^53 in magnitude, `v as f64 / 10^scale`, never
/// decreases as `v` grows, so `float(v) > x` (or `>=`) holds exactly from some `v` up, found by
/// a binary search that evaluates the conversion itself; `<`, `<=`, `==` and `!=` follow from
/// the two thresholds. `None` when that does not apply (other shapes, scales beyond the
/// conversion's fast path, a value, even under a null, of 2^53 or more).
fn decimal_against_float(op: BinaryOp, l: &Value, r: &Value) -> Option<BooleanArray> {
    let (a, x, op) = match (l, r) {
        (Value::Array(a), Value::Scalar(crate::expr::Scalar::Float64(x))) => (a, *x, op),
        (Value::Scalar(crate::expr::Scalar::Float64(x)), Value::Array(a)) => (a, *x, mirrored(op)?),
        _ => return None,
    };
    let DataType::Decimal128(_, scale) = a.data_type() else {
        return None;
    };
    if !(0..=22).contains(scale) {
        return None;
    }
    const EXACT: i128 = 1 << 53;
    let d = a.as_primitive::<Decimal128Type>();
    let v = d.values();
    if v.iter().any(|&v| !(-EXACT < v && v < EXACT)) {
        return None;
    }
    let p = 10f64.powi(i32::from(*scale));
    let float = |v: i128| (v as i64) as f64 / p;
    // The least `v` in range where `test` holds (`EXACT` when none does), `test` monotone.
    let least = |test: &dyn Fn(f64) -> bool| -> i128 {
        let (mut lo, mut hi) = (-EXACT + 1, EXACT);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if test(float(mid)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    let (ge, gt) = (least(&|f| f >= x), least(&|f| f > x));
    let n = v.len();
    let values = if x.is_nan() {
        // Every comparison with NaN is false but `!=`.
        BooleanBuffer::collect_bool(n, |_| op == BinaryOp::NotEq)
    } else {
        match op {
            BinaryOp::GtEq => BooleanBuffer::collect_bool(n, |i| v[i] >= ge),
            BinaryOp::Gt => BooleanBuffer::collect_bool(n, |i| v[i] >= gt),
            BinaryOp::Lt => BooleanBuffer::collect_bool(n, |i| v[i] < ge),
            BinaryOp::LtEq => BooleanBuffer::collect_bool(n, |i| v[i] < gt),
            BinaryOp::Eq => BooleanBuffer::collect_bool(n, |i| ge <= v[i] && v[i] < gt),
            BinaryOp::NotEq => BooleanBuffer::collect_bool(n, |i| !(ge <= v[i] && v[i] < gt)),
            _ => return None,
        }
    };
    Some(BooleanArray::new(values, d.nulls().cloned()))
}

/// The operator that gives the same answer with the operands swapped.
fn mirrored(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Eq | BinaryOp::NotEq => op,
        _ => return None,
    })
}

/// `v` in the form values of the comparison type `common` are compared in (see
/// `types::comparison_type`), and whether it is a broadcast scalar: dates stay Date32 when
/// both sides are dates, other dates, timestamps and durations become Int64 ticks of the
/// common unit, decimals are rescaled to the common scale (an error if one no longer fits),
/// anything else is cast. `is_in` converts its values the same way.
pub(crate) fn comparable(v: Value, common: &DataType) -> Result<(ArrayRef, bool)> {
    let (a, scalar) = match v {
        Value::Array(a) => (a, false),
        Value::Scalar(s) => (scalar_to_array(&s, &s.data_type(), 1)?, true),
    };
    let a: ArrayRef = match common {
        DataType::Date32 if *a.data_type() == DataType::Date32 => a,
        DataType::Date32 => Arc::new(ticks(&a, None)?),
        DataType::Timestamp(u, _) | DataType::Duration(u) => Arc::new(ticks(&a, Some(*u))?),
        _ if a.data_type() == common => a,
        // Decimals of the common scale compare as they are, whatever their precision.
        DataType::Decimal128(_, s) if matches!(a.data_type(), DataType::Decimal128(_, t) if t == s) => {
            a
        }
        DataType::Decimal128(..) => {
            let opts = arrow::compute::CastOptions {
                safe: false,
                ..Default::default()
            };
            crate::exec::kernels::cast::cast_with_options(&a, common, &opts)?
        }
        _ => crate::exec::kernels::cast::cast(&a, common)?,
    };
    Ok((a, scalar))
}

fn prim<T: ArrowPrimitiveType>(
    op: BinaryOp,
    l: &ArrayRef,
    l_scalar: bool,
    r: &ArrayRef,
    r_scalar: bool,
) -> BooleanArray
where
    T::Native: PartialOrd,
{
    let la: &PrimitiveArray<T> = l.as_primitive::<T>();
    let ra: &PrimitiveArray<T> = r.as_primitive::<T>();
    let len = if l_scalar && !r_scalar {
        ra.len()
    } else {
        la.len()
    };
    let (lv, rv) = (la.values(), ra.values());
    // A null scalar makes every result null.
    let scalar_null = (l_scalar && la.is_null(0)) || (r_scalar && ra.is_null(0));
    // One instantiation per operator: a function pointer here kept the comparison from being
    // inlined (a call per value, a fifth of `filter(z > 0)` on the seed table).
    let shape = (lv.as_ref(), l_scalar, rv.as_ref(), r_scalar, len);
    let values = match op {
        BinaryOp::Gt => bits(shape, |a, b| a > b),
        BinaryOp::GtEq => bits(shape, |a, b| a >= b),
        BinaryOp::Lt => bits(shape, |a, b| a < b),
        BinaryOp::LtEq => bits(shape, |a, b| a <= b),
        BinaryOp::Eq => bits(shape, |a, b| a == b),
        _ => bits(shape, |a, b| a != b),
    };
    let nulls = if scalar_null {
        Some(NullBuffer::new_null(len))
    } else {
        NullBuffer::union(
            if l_scalar { None } else { la.nulls() },
            if r_scalar { None } else { ra.nulls() },
        )
    };
    BooleanArray::new(values, nulls)
}

/// `f(l[i], r[i])` for every row, a scalar side repeating its one value.
#[inline(always)]
fn bits<N: Copy>(
    (lv, l_scalar, rv, r_scalar, len): (&[N], bool, &[N], bool, usize),
    f: impl Fn(N, N) -> bool,
) -> BooleanBuffer {
    // Tried: packing fixed 64-row chunks by hand. On the baseline x86-64 target LLVM turned
    // it into SSE2 shifts and ors, slower than `collect_bool` (6.6% against 5.5% of a
    // filtered aggregate over Parquet).
    match (l_scalar, r_scalar) {
        (true, false) => {
            let s = lv[0];
            let rv = &rv[..len];
            BooleanBuffer::collect_bool(len, |i| f(s, rv[i]))
        }
        (false, true) => {
            let s = rv[0];
            let lv = &lv[..len];
            BooleanBuffer::collect_bool(len, |i| f(lv[i], s))
        }
        _ => {
            let (lv, rv) = (&lv[..len], &rv[..len]);
            BooleanBuffer::collect_bool(len, |i| f(lv[i], rv[i]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scalar;
    use arrow::array::Float64Array;

    /// Every comparison operator.
    const COMPARISONS: [BinaryOp; 6] = [
        BinaryOp::Eq,
        BinaryOp::NotEq,
        BinaryOp::Lt,
        BinaryOp::LtEq,
        BinaryOp::Gt,
        BinaryOp::GtEq,
    ];

    fn run(op: BinaryOp, vals: Vec<Option<f64>>, s: f64) -> Vec<Option<bool>> {
        let a: ArrayRef = Arc::new(Float64Array::from(vals));
        let out = compare(op, Value::Array(a), Value::Scalar(Scalar::Float64(s)))
            .unwrap()
            .into_array(0)
            .unwrap();
        out.as_boolean().iter().collect()
    }

    #[test]
    fn nan_compares_false_except_neq() {
        let v = vec![Some(1.0), Some(f64::NAN), None, Some(-1.0)];
        assert_eq!(
            run(BinaryOp::Gt, v.clone(), 0.0),
            vec![Some(true), Some(false), None, Some(false)]
        );
        assert_eq!(
            run(BinaryOp::NotEq, v.clone(), 1.0),
            vec![Some(false), Some(true), None, Some(true)]
        );
        assert_eq!(
            run(BinaryOp::Eq, v, f64::NAN),
            vec![Some(false), Some(false), None, Some(false)]
        );
    }

    #[test]
    fn int_column_against_float_literal() {
        let a: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![1, 2, 3]));
        let out = compare(
            BinaryOp::GtEq,
            Value::Array(a),
            Value::Scalar(Scalar::Float64(2.5)),
        )
        .unwrap()
        .into_array(3)
        .unwrap();
        assert_eq!(
            out.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(false), Some(false), Some(true)]
        );
    }

    #[test]
    fn strings_compare_with_arrow() {
        let a: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["a", "b"]));
        let out = compare(
            BinaryOp::Eq,
            Value::Array(a),
            Value::Scalar(Scalar::Utf8("b".into())),
        )
        .unwrap()
        .into_array(2)
        .unwrap();
        assert_eq!(
            out.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(false), Some(true)]
        );
    }

    #[test]
    fn decimals_against_float_literals_answer_as_their_float_copies_do() {
        let ops = COMPARISONS;
        let floats = [
            0.05,
            0.07,
            24.0,
            -1.5,
            0.0,
            -0.0,
            1e-300,
            0.1 + 0.2,
            1e20,
            -9.007_199_254_74e13,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut values: Vec<Option<i128>> = (-1200..1200).map(|v| Some(v as i128)).collect();
        values.extend([
            None,
            Some((1 << 53) - 1),
            Some(-(1 << 53) + 1),
            Some(9_000_000_000_000_000),
        ]);
        for scale in [0i8, 1, 2, 4, 22] {
            let a: ArrayRef = Arc::new(
                arrow::array::Decimal128Array::from(values.clone())
                    .with_precision_and_scale(38, scale)
                    .unwrap(),
            );
            let copy = crate::exec::kernels::cast::cast(&a, &DataType::Float64).unwrap();
            for x in floats {
                for op in ops {
                    let s = Value::Scalar(Scalar::Float64(x));
                    let want = compare(op, Value::Array(copy.clone()), s.clone()).unwrap();
                    let got = decimal_against_float(op, &Value::Array(a.clone()), &s).unwrap();
                    let want: Vec<Option<bool>> =
                        want.into_array(0).unwrap().as_boolean().iter().collect();
                    assert_eq!(got.iter().collect::<Vec<_>>(), want, "{op:?} {x} {scale}");
                    // The literal on the left.
                    let want = compare(op, s.clone(), Value::Array(copy.clone())).unwrap();
                    let got = compare(op, s, Value::Array(a.clone())).unwrap();
                    assert_eq!(
                        got.into_array(0).unwrap().as_boolean(),
                        want.into_array(0).unwrap().as_boolean(),
                        "{op:?} {x} {scale} mirrored"
                    );
                }
            }
        }
        // A value of 2^53 or more (even under a null) leaves it to the float copy.
        let big: ArrayRef = Arc::new(
            arrow::array::Decimal128Array::from(vec![Some(1i128 << 53), Some(1)])
                .with_precision_and_scale(38, 2)
                .unwrap(),
        );
        let s = Value::Scalar(Scalar::Float64(0.5));
        assert!(decimal_against_float(BinaryOp::Gt, &Value::Array(big), &s).is_none());
    }

    #[test]
    fn view_columns_compare_with_plain_strings_without_changing_answers() {
        let words = vec![
            Some("MAIL"),
            None,
            Some("DELIVER IN PERSON"),
            Some(""),
            Some("DELIVER IN PERSOM"),
            Some("AIR REG"),
        ];
        let views: ArrayRef = Arc::new(arrow::array::StringViewArray::from(words.clone()));
        let plain: ArrayRef = Arc::new(arrow::array::StringArray::from(words));
        let ops = COMPARISONS;
        let answer = |op, l: Value, r: Value| -> Vec<Option<bool>> {
            let out = compare(op, l, r).unwrap().into_array(6).unwrap();
            out.as_boolean().iter().collect()
        };
        for lit in ["DELIVER IN PERSON", "MAIL", "", "AIR"] {
            let s = || Value::Scalar(Scalar::Utf8(lit.into()));
            for op in ops {
                let want = answer(op, Value::Array(plain.clone()), s());
                assert_eq!(answer(op, Value::Array(views.clone()), s()), want);
                let want = answer(op, s(), Value::Array(plain.clone()));
                assert_eq!(answer(op, s(), Value::Array(views.clone())), want);
            }
        }
        for op in ops {
            let want = answer(op, Value::Array(plain.clone()), Value::Array(plain.clone()));
            let got = answer(op, Value::Array(views.clone()), Value::Array(plain.clone()));
            assert_eq!(got, want);
        }
        // A null string literal makes every row null.
        let null = Value::Scalar(Scalar::Null);
        assert!(answer(BinaryOp::Eq, Value::Array(views), null)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn packed_words_match_row_by_row_for_every_shape_and_length() {
        let ops = [
            (BinaryOp::Gt, (|a, b| a > b) as fn(f64, f64) -> bool),
            (BinaryOp::GtEq, |a, b| a >= b),
            (BinaryOp::Lt, |a, b| a < b),
            (BinaryOp::LtEq, |a, b| a <= b),
            (BinaryOp::Eq, |a, b| a == b),
            (BinaryOp::NotEq, |a, b| a != b),
        ];
        for len in [0usize, 1, 63, 64, 65, 130, 200] {
            let l: Vec<f64> = (0..len).map(|i| ((i * 37) % 11) as f64).collect();
            let r: Vec<f64> = (0..len).map(|i| ((i * 13) % 7) as f64).collect();
            let la: ArrayRef = Arc::new(Float64Array::from(l.clone()));
            let ra: ArrayRef = Arc::new(Float64Array::from(r.clone()));
            for (op, f) in ops {
                let got = |lv: Value, rv: Value| -> Vec<bool> {
                    let out = compare(op, lv, rv).unwrap().into_array(len).unwrap();
                    out.as_boolean().values().iter().collect()
                };
                let s = Value::Scalar(Scalar::Float64(5.0));
                let want: Vec<bool> = l.iter().zip(&r).map(|(a, b)| f(*a, *b)).collect();
                assert_eq!(
                    got(Value::Array(la.clone()), Value::Array(ra.clone())),
                    want
                );
                let want: Vec<bool> = l.iter().map(|a| f(*a, 5.0)).collect();
                assert_eq!(got(Value::Array(la.clone()), s.clone()), want);
                let want: Vec<bool> = r.iter().map(|b| f(5.0, *b)).collect();
                assert_eq!(got(s, Value::Array(ra.clone())), want);
            }
        }
    }
}
