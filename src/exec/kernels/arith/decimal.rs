//! Decimal `+ - *` without per-value checks, when a bound shows no result can overflow.
//!
//! Each operand is read as unscaled `i128` values at its own scale (an integer is a decimal of
//! scale 0). The result scale follows Polars' rules, which the type resolution already chose:
//! `+ -` bring both sides to the larger scale, `*` adds the scales. The bound is the largest
//! magnitude on each side (null slots included, so a garbage value there only costs the fast
//! path) times the rescaling factor, combined as the operation combines values; when it stays
//! below 10^38 every exact result fits the 38 digits of the result type, so nothing can wrap
//! and no value needs testing. Otherwise `exact` answers `None` and the caller runs Arrow's
//! checked kernels, which report the overflow (or compute the rows whose operands are not
//! null when only null slots were large).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Decimal128Type, Int64Type};

use crate::error::Result;
use crate::exec::value::{array_to_scalar, Value};
use crate::expr::types::DECIMAL_PRECISION;
use crate::expr::{BinaryOp, Scalar};

/// 10^38: the smallest magnitude a 38-digit decimal cannot hold.
const LIMIT: u128 = 10u128.pow(DECIMAL_PRECISION as u32);

/// One operand as unscaled values at its own scale.
struct Unscaled {
    values: ScalarBuffer<i128>,
    nulls: Option<NullBuffer>,
    scale: i8,
    /// A broadcast scalar (one value for every row).
    scalar: bool,
}

impl Unscaled {
    /// `v` as unscaled values when it is a decimal or an integer that converts losslessly;
    /// `None` for anything else (a null scalar, `UInt64`), which the checked path handles.
    fn of(v: &Value) -> Result<Option<Unscaled>> {
        let one = |x: i128, scale: i8| Unscaled {
            values: vec![x].into(),
            nulls: None,
            scale,
            scalar: true,
        };
        let a = match v {
            Value::Scalar(Scalar::Decimal128(x, _, s)) => return Ok(Some(one(*x, *s))),
            Value::Scalar(Scalar::Int64(x)) => return Ok(Some(one(i128::from(*x), 0))),
            Value::Scalar(_) => return Ok(None),
            Value::Array(a) => a,
        };
        Ok(Some(match a.data_type() {
            DataType::Decimal128(_, s) => {
                let d = a.as_primitive::<Decimal128Type>();
                Unscaled {
                    values: d.values().clone(),
                    nulls: d.nulls().cloned(),
                    scale: *s,
                    scalar: false,
                }
            }
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => {
                let ints: ArrayRef = arrow::compute::cast(a, &DataType::Int64)?;
                let ints = ints.as_primitive::<Int64Type>();
                Unscaled {
                    values: ints.values().iter().map(|&x| i128::from(x)).collect(),
                    nulls: ints.nulls().cloned(),
                    scale: 0,
                    scalar: false,
                }
            }
            _ => return Ok(None),
        }))
    }

    /// At least the largest magnitude among the values (null slots included), at most twice
    /// it: one more than the bitwise or of `x ^ (x >> 127)`, which is `|x|` for `x >= 0` and
    /// `|x| - 1` below. An or of lanes vectorizes where a 128-bit maximum did not (a third of
    /// the fast path's time), and twice the maximum still rules out every overflow it must.
    fn bound(&self) -> u128 {
        let or = self
            .values
            .iter()
            .fold(0u128, |m, &x| m | (x ^ (x >> 127)) as u128);
        // The or is below 2^127, so adding one cannot wrap.
        or + 1
    }
}

/// `l op r` for `+ - *` at result scale `scale`, or `None` when the fast path does not apply or
/// cannot rule out an overflow (the caller then runs the checked kernels).
pub(super) fn exact(op: BinaryOp, l: &Value, r: &Value, scale: i8) -> Result<Option<Value>> {
    let (Some(a), Some(b)) = (Unscaled::of(l)?, Unscaled::of(r)?) else {
        return Ok(None);
    };
    let len = match (a.scalar, b.scalar) {
        (true, false) => b.values.len(),
        (false, true) | (true, true) => a.values.len(),
        (false, false) if a.values.len() == b.values.len() => a.values.len(),
        (false, false) => return Ok(None),
    };
    // Rescaling factors of the two sides and the result scale.
    let pow10 = |d: i8| u32::try_from(d).ok().and_then(|d| 10u128.checked_pow(d));
    let (fa, fb, out_scale) = match op {
        BinaryOp::Add | BinaryOp::Sub => {
            let s = a.scale.max(b.scale);
            match (pow10(s - a.scale), pow10(s - b.scale)) {
                (Some(fa), Some(fb)) => (fa, fb, s),
                _ => return Ok(None),
            }
        }
        BinaryOp::Mul => match a.scale.checked_add(b.scale) {
            Some(s) => (1, 1, s),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    if out_scale != scale {
        return Ok(None);
    }
    let (Some(ba), Some(bb)) = (a.bound().checked_mul(fa), b.bound().checked_mul(fb)) else {
        return Ok(None);
    };
    let bound = match op {
        BinaryOp::Mul => ba.checked_mul(bb),
        _ => ba.checked_add(bb),
    };
    if bound.is_none_or(|x| x >= LIMIT) {
        return Ok(None);
    }
    // Every operand, rescaled, and every result is below 10^38 < 2^127: nothing wraps below.
    let narrow = [ba, bb, bound.unwrap_or(u128::MAX)]
        .iter()
        .all(|&x| x <= i64::MAX as u128);
    let (fa, fb) = (fa as i128, fb as i128);
    let sides = (&a, &b, len);
    let values: Vec<i128> = match (op, narrow) {
        // `i64` operands: each product is one machine multiply, exact since it fits.
        (BinaryOp::Mul, true) => zip(sides, |x, y| i128::from((x as i64) * (y as i64))),
        (BinaryOp::Mul, false) => zip(sides, |x, y| x.wrapping_mul(y)),
        (BinaryOp::Add, true) if fa == 1 && fb == 1 => {
            zip(sides, |x, y| i128::from((x as i64) + (y as i64)))
        }
        (BinaryOp::Sub, true) if fa == 1 && fb == 1 => {
            zip(sides, |x, y| i128::from((x as i64) - (y as i64)))
        }
        (BinaryOp::Add, true) => {
            let (fa, fb) = (fa as i64, fb as i64);
            zip(sides, |x, y| i128::from((x as i64) * fa + (y as i64) * fb))
        }
        (BinaryOp::Sub, true) => {
            let (fa, fb) = (fa as i64, fb as i64);
            zip(sides, |x, y| i128::from((x as i64) * fa - (y as i64) * fb))
        }
        (BinaryOp::Add, false) => zip(sides, |x, y| {
            x.wrapping_mul(fa).wrapping_add(y.wrapping_mul(fb))
        }),
        _ => zip(sides, |x, y| {
            x.wrapping_mul(fa).wrapping_sub(y.wrapping_mul(fb))
        }),
    };
    let nulls = NullBuffer::union(
        if a.scalar { None } else { a.nulls.as_ref() },
        if b.scalar { None } else { b.nulls.as_ref() },
    );
    let out: ArrayRef = Arc::new(
        Decimal128Array::new(values.into(), nulls)
            .with_precision_and_scale(DECIMAL_PRECISION, scale)?,
    );
    Ok(Some(if a.scalar && b.scalar {
        Value::Scalar(array_to_scalar(out.as_ref(), 0)?)
    } else {
        Value::Array(out)
    }))
}

/// `f(a[i], b[i])` for every row, a scalar side repeating its one value.
#[inline(always)]
fn zip((a, b, len): (&Unscaled, &Unscaled, usize), f: impl Fn(i128, i128) -> i128) -> Vec<i128> {
    let (av, bv) = (a.values.as_ref(), b.values.as_ref());
    match (a.scalar, b.scalar) {
        (true, false) => {
            let x = av[0];
            bv[..len].iter().map(|&y| f(x, y)).collect()
        }
        (false, true) => {
            let y = bv[0];
            av[..len].iter().map(|&x| f(x, y)).collect()
        }
        _ => av[..len]
            .iter()
            .zip(&bv[..len])
            .map(|(&x, &y)| f(x, y))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decimal_binary, decimal_checked};
    use super::*;
    use arrow::array::Int32Array;

    fn dec(values: Vec<Option<i128>>, p: u8, s: i8) -> Value {
        Value::Array(Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(p, s)
                .unwrap(),
        ))
    }

    /// Values and nulls of a decimal result, null slots as `None` whatever they hold.
    fn rows(v: Value) -> (DataType, Vec<Option<i128>>) {
        let a = v.into_array(1).unwrap();
        let d = a.as_primitive::<Decimal128Type>();
        (a.data_type().clone(), d.iter().collect())
    }

    /// A deterministic spread of magnitudes up to `max`, signs, zeros and nulls.
    fn spread(n: usize, max: i128, seed: u64) -> Vec<Option<i128>> {
        let mut x = seed | 1;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let m = (x as i128).rem_euclid(max + 1) >> (i % 9);
                (i % 11 != 3).then_some(if i % 2 == 0 { m } else { -m })
            })
            .collect()
    }

    const OPS: [BinaryOp; 3] = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul];

    fn out_scale(op: BinaryOp, a: i8, b: i8) -> i8 {
        if op == BinaryOp::Mul {
            a + b
        } else {
            a.max(b)
        }
    }

    /// The fast path applies and agrees with Arrow's checked kernels, value for value.
    fn agrees(op: BinaryOp, l: Value, r: Value, scale: i8) {
        let fast = exact(op, &l, &r, scale)
            .unwrap()
            .expect("the fast path applies");
        let checked = decimal_checked(op, l, r, scale).unwrap();
        assert_eq!(rows(fast), rows(checked), "{op:?}");
    }

    #[test]
    fn narrow_and_wide_values_agree_with_the_checked_kernels() {
        // Prices and rates as TPC-H stores them (i64 path), then values past 2^63 (i128 path).
        for (max, seed) in [
            (10_000_000i128, 7u64),
            (10i128.pow(17), 11),
            (10i128.pow(18), 5),
        ] {
            let l = spread(300, max, seed);
            let r = spread(300, max, seed * 31);
            for op in OPS {
                for (sl, sr) in [(2i8, 2i8), (2, 4), (4, 0)] {
                    let s = out_scale(op, sl, sr);
                    agrees(op, dec(l.clone(), 38, sl), dec(r.clone(), 15, sr), s);
                    // Broadcast scalars on either side: `1 - l_discount`, `price * 3`.
                    let one = Value::Scalar(Scalar::Int64(1));
                    agrees(
                        op,
                        one.clone(),
                        dec(r.clone(), 15, sr),
                        out_scale(op, 0, sr),
                    );
                    agrees(op, dec(l.clone(), 38, sl), one, out_scale(op, sl, 0));
                    let d = Value::Scalar(Scalar::Decimal128(-1234, 10, 3));
                    agrees(op, dec(l.clone(), 38, sl), d, out_scale(op, sl, 3));
                }
            }
        }
        // Wide values whose sum still fits the i128 path: 10^37 + 10^37 < 10^38.
        let big = vec![Some(10i128.pow(37)), Some(-(10i128.pow(37))), None];
        agrees(BinaryOp::Add, dec(big.clone(), 38, 0), dec(big, 38, 0), 0);
    }

    #[test]
    fn the_bound_covers_every_magnitude() {
        for (values, at_least) in [
            (vec![0i128], 0u128),
            (vec![5, -8, 3], 8),
            (vec![-1], 1),
            (vec![i128::MIN + 1, 7], i128::MAX as u128),
            (vec![i64::MIN as i128], 1u128 << 63),
            (vec![-(10i128.pow(37)), 10i128.pow(36)], 10u128.pow(37)),
        ] {
            let u = Unscaled {
                values: values.clone().into(),
                nulls: None,
                scale: 0,
                scalar: false,
            };
            let b = u.bound();
            assert!(b >= at_least && b <= 2 * at_least.max(1), "{values:?}: {b}");
        }
    }

    #[test]
    fn integer_columns_join_as_scale_zero() {
        let ints = Value::Array(Arc::new(Int32Array::from(vec![Some(3), None, Some(-7)])));
        let d = dec(vec![Some(150), Some(2), None], 15, 2);
        for op in OPS {
            agrees(op, ints.clone(), d.clone(), out_scale(op, 0, 2));
        }
        let (_, v) = rows(exact(BinaryOp::Mul, &ints, &d, 2).unwrap().unwrap());
        assert_eq!(v, vec![Some(450), None, None]);
    }

    #[test]
    fn scalar_with_scalar_stays_scalar() {
        let v = exact(
            BinaryOp::Sub,
            &Value::Scalar(Scalar::Int64(1)),
            &Value::Scalar(Scalar::Decimal128(5, 15, 2)),
            2,
        )
        .unwrap()
        .unwrap();
        assert!(
            matches!(v, Value::Scalar(Scalar::Decimal128(95, _, 2))),
            "{v:?}"
        );
    }

    #[test]
    fn a_possible_overflow_goes_to_the_checked_kernels_and_fails() {
        let near = 10i128.pow(37) * 6;
        let l = dec(vec![Some(near), Some(1)], 38, 0);
        assert!(exact(BinaryOp::Add, &l, &l, 0).unwrap().is_none());
        let e = decimal_binary(BinaryOp::Add, l.clone(), l.clone(), 0).unwrap_err();
        assert!(e.to_string().contains("decimal overflow"), "{e}");
        // A product past 38 digits, and one past i128 itself.
        let m = dec(vec![Some(10i128.pow(20)), None], 38, 0);
        assert!(exact(BinaryOp::Mul, &m, &m, 0).unwrap().is_none());
        assert!(decimal_binary(BinaryOp::Mul, m.clone(), m, 0).is_err());
        let huge = dec(vec![Some(i128::MAX / 3)], 38, 0);
        assert!(decimal_binary(BinaryOp::Mul, huge.clone(), huge, 0).is_err());
        // Rescaling alone can overflow: 10^37 at scale 0 brought to scale 2.
        let a = dec(vec![Some(10i128.pow(37))], 38, 0);
        let b = dec(vec![Some(1)], 38, 2);
        assert!(exact(BinaryOp::Sub, &a, &b, 2).unwrap().is_none());
        assert!(decimal_binary(BinaryOp::Sub, a, b, 2).is_err());
    }

    #[test]
    fn a_large_value_under_a_null_only_costs_the_fast_path() {
        // The null slot's value would overflow; the checked path skips it and answers.
        let raw = Decimal128Array::new(
            vec![7i128, 10i128.pow(37) * 9].into(),
            Some(NullBuffer::from(vec![true, false])),
        )
        .with_precision_and_scale(38, 0)
        .unwrap();
        let l = Value::Array(Arc::new(raw));
        let r = Value::Scalar(Scalar::Int64(5));
        assert!(exact(BinaryOp::Mul, &l, &r, 0).unwrap().is_none());
        let (_, v) = rows(decimal_binary(BinaryOp::Mul, l, r, 0).unwrap());
        assert_eq!(v, vec![Some(35), None]);
    }

    #[test]
    fn null_scalars_and_other_types_are_left_to_the_checked_path() {
        let d = dec(vec![Some(1)], 15, 2);
        let null = Value::Scalar(Scalar::Null);
        assert!(exact(BinaryOp::Add, &d, &null, 2).unwrap().is_none());
        let u = Value::Scalar(Scalar::UInt64(u64::MAX));
        assert!(exact(BinaryOp::Add, &d, &u, 2).unwrap().is_none());
        // A planned scale the rules do not give is not guessed at.
        assert!(exact(BinaryOp::Mul, &d, &d, 2).unwrap().is_none());
    }
}
