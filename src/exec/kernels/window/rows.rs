//! Kernels of `shift`, `diff`, the cumulative functions and `rank` (`expr::window::rows` has
//! their semantics).
//!
//! Cumulative functions are one sequential pass (a running value cannot start a chunk without
//! the chunks before it, and splitting the pass would change the bits of float sums compared
//! with NumPy's and Polars' sequential `cumsum`). `rank` sorts with the engine's stable sort and
//! walks the runs of equal values.

use std::sync::Arc;

use arrow::array::{
    downcast_primitive_array, Array, ArrayRef, AsArray, Float64Array, PrimitiveArray, UInt32Array,
};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Decimal128Type, Float32Type, Float64Type, Int64Type,
};

use super::super::argsort::f64_key;
use super::super::arith;
use super::super::sort::arg_sort_u32;
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::types::DECIMAL_PRECISION;
use crate::expr::{BinaryOp, RankMethod, RankOptions, SortOptions};

/// `a` moved down `n` rows (up when negative), nulls filling in.
pub(super) fn shift(a: &ArrayRef, n: i64) -> Result<ArrayRef> {
    Ok(arrow::compute::shift(a.as_ref(), n)?)
}

/// `a - a.shift(n)` in the planned type `out` (the arithmetic kernels' rules).
pub(super) fn diff(a: &ArrayRef, n: i64, out: &DataType) -> Result<ArrayRef> {
    let before = shift(a, n)?;
    let d = arith::binary(
        BinaryOp::Sub,
        Value::Array(a.clone()),
        Value::Array(before),
        out,
    )?;
    d.into_array(a.len())
}

/// A running fold over the valid values of `a` (cast to `out` first): `step(acc, x)` gives
/// the next running value or an error; null rows stay null and leave it unchanged.
fn running<T: ArrowPrimitiveType>(
    a: &ArrayRef,
    out: &DataType,
    mut step: impl FnMut(Option<T::Native>, T::Native) -> Result<T::Native>,
) -> Result<ArrayRef> {
    let opts = arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    let c = crate::exec::kernels::cast::cast_with_options(a, out, &opts)?;
    let p = c.as_primitive::<T>();
    let mut acc: Option<T::Native> = None;
    let mut values = Vec::with_capacity(p.len());
    for i in 0..p.len() {
        if p.is_valid(i) {
            acc = Some(step(acc, p.value(i))?);
        }
        values.push(acc.unwrap_or_default());
    }
    let r = PrimitiveArray::<T>::new(values.into(), p.nulls().cloned()).with_data_type(out.clone());
    Ok(Arc::new(r))
}

/// Running sum (`product == false`) or product of `a` as `out`.
pub(super) fn cum_sum_prod(a: &ArrayRef, product: bool, out: &DataType) -> Result<ArrayRef> {
    let overflow = |what: &str| {
        Error::Compute(format!(
            "{} overflow: the running {} does not fit in {what}",
            if product { "cum_prod" } else { "cum_sum" },
            if product { "product" } else { "sum" },
        ))
    };
    match out {
        DataType::Int64 => running::<Int64Type>(a, out, |acc, x| {
            Ok(match acc {
                None => x,
                Some(s) if product => s.wrapping_mul(x),
                Some(s) => s.wrapping_add(x),
            })
        }),
        DataType::Float64 => running::<Float64Type>(a, out, |acc, x| {
            Ok(match acc {
                None => x,
                Some(s) if product => s * x,
                Some(s) => s + x,
            })
        }),
        DataType::Float32 => running::<Float32Type>(a, out, |acc, x| {
            Ok(match acc {
                None => x,
                Some(s) if product => s * x,
                Some(s) => s + x,
            })
        }),
        DataType::Decimal128(..) => {
            let limit = 10i128.pow(u32::from(DECIMAL_PRECISION));
            running::<Decimal128Type>(a, out, |acc, x| {
                let s = acc.unwrap_or(0).checked_add(x);
                s.filter(|v| v.unsigned_abs() < limit.unsigned_abs())
                    .ok_or_else(|| overflow("38 decimal digits"))
            })
        }
        DataType::Duration(_) => {
            let raw = super::super::temporal::ticks(a, duration_unit(out))?;
            let raw: ArrayRef = Arc::new(raw);
            let sums = running::<Int64Type>(&raw, &DataType::Int64, |acc, x| {
                acc.unwrap_or(0)
                    .checked_add(x)
                    .ok_or_else(|| overflow("a 64-bit duration"))
            })?;
            super::super::temporal::retype(sums.as_ref(), out)
        }
        other => Err(Error::Internal(format!("cumulative sum giving {other}"))),
    }
}

fn duration_unit(dt: &DataType) -> Option<arrow::datatypes::TimeUnit> {
    match dt {
        DataType::Duration(u) => Some(*u),
        _ => None,
    }
}

/// Running minimum or maximum, in the input's own type; NaN, once seen, stays.
pub(super) fn cum_extreme(a: &ArrayRef, max: bool) -> Result<ArrayRef> {
    fn nan<N: PartialOrd>(x: N) -> bool {
        x.partial_cmp(&x).is_none()
    }
    fn run<T: ArrowPrimitiveType>(p: &PrimitiveArray<T>, max: bool) -> ArrayRef {
        let mut acc: Option<T::Native> = None;
        let mut values = Vec::with_capacity(p.len());
        for i in 0..p.len() {
            if p.is_valid(i) {
                let x = p.value(i);
                acc = Some(match acc {
                    None => x,
                    // A NaN (the only value unordered with itself) stays once seen.
                    Some(s) if nan(s) => s,
                    Some(_) if nan(x) => x,
                    Some(s) if (max && x > s) || (!max && x < s) => x,
                    Some(s) => s,
                });
            }
            values.push(acc.unwrap_or_default());
        }
        Arc::new(
            PrimitiveArray::<T>::new(values.into(), p.nulls().cloned())
                .with_data_type(p.data_type().clone()),
        )
    }
    let a = a.as_ref();
    Ok(downcast_primitive_array!(
        a => run(a, max),
        DataType::Null => arrow::array::new_null_array(&DataType::Null, a.len()),
        other => return Err(Error::Internal(format!("cum_min/cum_max of {other}")))
    ))
}

/// Non-null values so far, this row included.
pub(super) fn cum_count(a: &ArrayRef) -> ArrayRef {
    let mut n = 0u32;
    let counts: Vec<u32> = (0..a.len())
        .map(|i| {
            n += u32::from(a.is_valid(i));
            n
        })
        .collect();
    Arc::new(UInt32Array::from(counts))
}

/// 1-based ranks of `a` (see `RankOptions`); nulls stay null.
pub(super) fn rank(a: &ArrayRef, o: &RankOptions) -> Result<ArrayRef> {
    let n = a.len();
    let order = arg_sort_u32(
        std::slice::from_ref(a),
        &[SortOptions::default().descending(o.descending)],
    )?;
    let valid = n - a.null_count();
    let order = &order[..valid];
    let same = ties(a)?;
    let mut ranks = vec![0f64; n];
    let mut dense = 0usize;
    let mut start = 0usize;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && same(order[end - 1] as usize, order[end] as usize) {
            end += 1;
        }
        dense += 1;
        for (k, &row) in order[start..end].iter().enumerate() {
            ranks[row as usize] = match o.method {
                RankMethod::Average => (start + end + 1) as f64 / 2.0,
                RankMethod::Min => (start + 1) as f64,
                RankMethod::Max => end as f64,
                RankMethod::Dense => dense as f64,
                RankMethod::Ordinal => (start + k + 1) as f64,
            };
        }
        start = end;
    }
    let nulls = a.nulls().cloned();
    Ok(if o.method == RankMethod::Average {
        Arc::new(Float64Array::new(ranks.into(), nulls))
    } else {
        let r: Vec<u32> = ranks.iter().map(|v| *v as u32).collect();
        Arc::new(UInt32Array::new(r.into(), nulls))
    })
}

/// Whether rows `i` and `j` hold equal values as the sort orders them: floats by their sort
/// key (NaN equals NaN, `-0.0` equals `0.0`), other types by Arrow's comparator.
fn ties(a: &ArrayRef) -> Result<Box<dyn Fn(usize, usize) -> bool + '_>> {
    match a.data_type() {
        DataType::Float64 | DataType::Float32 | DataType::Float16 => {
            let f = crate::exec::kernels::cast::cast(a, &DataType::Float64)?;
            let v = f.as_primitive::<Float64Type>().values().clone();
            Ok(Box::new(move |i, j| f64_key(v[i]) == f64_key(v[j])))
        }
        _ => {
            let cmp = arrow::array::make_comparator(a.as_ref(), a.as_ref(), Default::default())?;
            Ok(Box::new(move |i, j| cmp(i, j).is_eq()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn f64s(a: &ArrayRef) -> Vec<Option<f64>> {
        crate::exec::kernels::cast::cast(a, &DataType::Float64)
            .unwrap()
            .as_primitive::<Float64Type>()
            .iter()
            .collect()
    }

    #[test]
    fn ranks_match_polars_for_every_method() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(3.0),
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(1.0),
            Some(2.0),
        ]));
        // Polars 2.1: pl.Series([3.0, 1.0, None, nan, 1.0, 2.0]).rank(method, descending).
        let cases = [
            (RankMethod::Average, false, [4.0, 1.5, 5.0, 1.5, 3.0]),
            (RankMethod::Min, false, [4.0, 1.0, 5.0, 1.0, 3.0]),
            (RankMethod::Max, false, [4.0, 2.0, 5.0, 2.0, 3.0]),
            (RankMethod::Dense, false, [3.0, 1.0, 4.0, 1.0, 2.0]),
            (RankMethod::Ordinal, false, [4.0, 1.0, 5.0, 2.0, 3.0]),
            (RankMethod::Average, true, [2.0, 4.5, 1.0, 4.5, 3.0]),
            (RankMethod::Ordinal, true, [2.0, 4.0, 1.0, 5.0, 3.0]),
            (RankMethod::Dense, true, [2.0, 4.0, 1.0, 4.0, 3.0]),
        ];
        for (method, descending, want) in cases {
            let o = RankOptions::new().method(method).descending(descending);
            let got = f64s(&rank(&a, &o).unwrap());
            let want = vec![
                Some(want[0]),
                Some(want[1]),
                None,
                Some(want[2]),
                Some(want[3]),
                Some(want[4]),
            ];
            assert_eq!(got, want, "{method:?} {descending}");
        }
    }

    #[test]
    fn cumulative_functions_skip_nulls_and_propagate_nan() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(2.0),
            None,
            Some(f64::NAN),
            Some(3.0),
        ]));
        let s = f64s(&cum_sum_prod(&a, false, &DataType::Float64).unwrap());
        assert_eq!(s[0], Some(2.0));
        assert_eq!(s[1], None);
        assert!(s[2].unwrap().is_nan() && s[3].unwrap().is_nan());
        let m = f64s(&cum_extreme(&a, true).unwrap());
        assert_eq!(m[1], None);
        assert!(m[3].unwrap().is_nan());
        let i: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(0), Some(3)]));
        assert_eq!(
            f64s(&cum_extreme(&i, true).unwrap()),
            vec![Some(1.0), None, Some(1.0), Some(3.0)]
        );
        let c = cum_count(&i);
        assert_eq!(f64s(&c), vec![Some(1.0), Some(1.0), Some(2.0), Some(3.0)]);
    }

    #[test]
    fn decimal_running_sums_are_exact_and_overflow_is_an_error() {
        let d: ArrayRef = Arc::new(
            arrow::array::Decimal128Array::from(vec![
                Some(10i128.pow(37) * 6),
                Some(10i128.pow(37) * 5),
            ])
            .with_precision_and_scale(38, 0)
            .unwrap(),
        );
        let err = cum_sum_prod(&d, false, &DataType::Decimal128(38, 0)).unwrap_err();
        assert!(err.to_string().contains("cum_sum overflow"), "{err}");
    }
}
