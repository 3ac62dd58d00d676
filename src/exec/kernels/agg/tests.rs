//! The accumulators against NumPy's semantics (one group) and against themselves one group at
//! a time (grouped): every aggregate over random groups, nulls and NaN, updated in pieces and
//! merged through group-id maps, equals the same aggregate over each group's rows alone.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray, UInt32Array};
use arrow::datatypes::DataType;

use super::*;
use crate::exec::aggregate::aggregate_array;
use crate::exec::value::array_to_scalar;
use crate::exec::MORSEL_ROWS;
use crate::expr::{col, Scalar};

fn aggregate(f: &AggFunc, a: &ArrayRef) -> Result<Scalar> {
    aggregate_array(f, std::slice::from_ref(a))
}

fn agg(f: AggFunc, v: Vec<Option<f64>>) -> Scalar {
    let a: ArrayRef = Arc::new(Float64Array::from(v));
    aggregate(&f, &a).unwrap()
}

fn f(s: Scalar) -> f64 {
    s.as_f64().unwrap()
}

/// A one-group accumulator with its group in place.
pub(super) fn one(func: &AggFunc, t: &DataType) -> Box<dyn GroupsAccumulator> {
    let mut a = new_accumulator(func, std::slice::from_ref(t)).unwrap();
    let empty = new_accumulator(func, std::slice::from_ref(t)).unwrap();
    a.merge(empty.as_ref(), &[], &[], 1).unwrap();
    a
}

pub(super) fn result(mut a: Box<dyn GroupsAccumulator>) -> Scalar {
    array_to_scalar(a.evaluate(1).unwrap().as_ref(), 0).unwrap()
}

#[test]
fn numpy_std_default_ddof() {
    let v = (1..=5).map(|x| Some(x as f64)).collect::<Vec<_>>();
    assert_eq!(f(agg(AggFunc::Std(0), v.clone())), std::f64::consts::SQRT_2);
    assert_eq!(f(agg(AggFunc::Var(1), v)), 2.5);
}

#[test]
fn nan_propagates_but_nan_family_skips() {
    let v = vec![Some(1.0), Some(f64::NAN), None, Some(3.0)];
    assert!(f(agg(AggFunc::Mean, v.clone())).is_nan());
    assert!(f(agg(AggFunc::Max, v.clone())).is_nan());
    assert!(f(agg(AggFunc::Median, v.clone())).is_nan());
    assert_eq!(f(agg(AggFunc::NanMean, v.clone())), 2.0);
    assert_eq!(f(agg(AggFunc::NanMax, v.clone())), 3.0);
    assert_eq!(f(agg(AggFunc::NanSum, v.clone())), 4.0);
    assert_eq!(agg(AggFunc::Count, v.clone()), Scalar::UInt64(3));
    assert_eq!(agg(AggFunc::NullCount, v.clone()), Scalar::UInt64(1));
    assert_eq!(agg(AggFunc::Len, v.clone()), Scalar::UInt64(4));
    assert_eq!(agg(AggFunc::NUnique, v.clone()), Scalar::UInt64(4));
    assert_eq!(agg(AggFunc::ArgMax, v), Scalar::UInt64(1));
}

#[test]
fn a_nan_in_any_piece_makes_the_median_nan() {
    let piece = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
    for func in [AggFunc::Median, AggFunc::NanMedian, AggFunc::Quantile(0.5)] {
        let t = DataType::Float64;
        let mut s = one(&func, &t);
        s.update(&[piece(vec![1.0, 2.0])], Groups::One, 1).unwrap();
        let mut b = one(&func, &t);
        b.update(&[piece(vec![f64::NAN, 9.0])], Groups::One, 1)
            .unwrap();
        b.update(&[piece(vec![4.0])], Groups::One, 1).unwrap();
        s.merge(b.as_ref(), &[0], &[0], 1).unwrap();
        let mut c = one(&func, &t);
        c.update(&[piece(vec![3.0])], Groups::One, 1).unwrap();
        s.merge(c.as_ref(), &[0], &[0], 1).unwrap();
        let m = f(result(s));
        if func == AggFunc::NanMedian {
            assert_eq!(m, 3.0);
        } else {
            assert!(m.is_nan(), "{func:?}");
        }
    }
}

#[test]
fn median_and_quantile_match_numpy() {
    let v = vec![Some(3.0), Some(1.0), Some(4.0), Some(1.5)];
    assert_eq!(f(agg(AggFunc::Median, v.clone())), 2.25);
    // np.quantile([3, 1, 4, 1.5], 0.3) == 1.45
    assert!((f(agg(AggFunc::Quantile(0.3), v)) - 1.45).abs() < 1e-15);
}

#[test]
fn chunked_merge_equals_single_pass_for_ints_and_argmin() {
    let n = 3 * MORSEL_ROWS + 17;
    let a: ArrayRef = Arc::new(Int64Array::from_iter_values(
        (0..n as i64).map(|x| (x * 7919) % 1000 - 500),
    ));
    let s = aggregate(&AggFunc::Sum, &a).unwrap();
    let expect: i64 = (0..n as i64).map(|x| (x * 7919) % 1000 - 500).sum();
    assert_eq!(s, Scalar::Int64(expect));
    let am = aggregate(&AggFunc::ArgMin, &a).unwrap();
    assert_eq!(am, Scalar::UInt64(0)); // -500 first appears at row 0
}

#[test]
fn variance_over_many_pieces_is_accurate() {
    let n = 5 * MORSEL_ROWS;
    let vals: Vec<f64> = (0..n).map(|i| 1e9 + (i % 10) as f64).collect();
    let a: ArrayRef = Arc::new(Float64Array::from(vals));
    let v = f(aggregate(&AggFunc::Var(0), &a).unwrap());
    assert!((v - 8.25).abs() < 1e-6, "{v}");
}

#[test]
fn corr_is_pearsons_over_rows_where_both_are_valid() {
    let x: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(1.0),
        Some(2.0),
        None,
        Some(3.0),
        Some(4.0),
    ]));
    let y: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(2.0),
        Some(4.0),
        Some(100.0),
        Some(7.0),
        None,
    ]));
    let func = AggFunc::Corr(Box::new(col("b")));
    let r = f(aggregate_array(&func, &[x.clone(), y]).unwrap());
    // np.corrcoef([1, 2, 3], [2, 4, 7])[0, 1]
    assert!((r - 0.9933992677987828).abs() < 1e-15, "{r}");
    let c: ArrayRef = Arc::new(Float64Array::from(vec![5.0; 5]));
    assert!(f(aggregate_array(&func, &[x, c]).unwrap()).is_nan());
}

#[test]
fn strings_and_dates_have_minima_maxima_and_distinct_counts() {
    let s: ArrayRef = Arc::new(StringArray::from(vec![
        Some("pear"),
        None,
        Some("apple"),
        Some("zoo"),
        Some("apple"),
    ]));
    assert_eq!(
        aggregate(&AggFunc::Min, &s).unwrap(),
        Scalar::Utf8("apple".into())
    );
    assert_eq!(
        aggregate(&AggFunc::Max, &s).unwrap(),
        Scalar::Utf8("zoo".into())
    );
    assert_eq!(aggregate(&AggFunc::NUnique, &s).unwrap(), Scalar::UInt64(4));
    assert_eq!(
        aggregate(&AggFunc::First, &s).unwrap(),
        Scalar::Utf8("pear".into())
    );
    let d: ArrayRef = Arc::new(arrow::array::Date32Array::from(vec![
        Some(10),
        None,
        Some(3),
    ]));
    assert_eq!(aggregate(&AggFunc::Min, &d).unwrap(), Scalar::Date32(3));
    assert_eq!(aggregate(&AggFunc::Last, &d).unwrap(), Scalar::Date32(3));
}

/// Pseudo-random values with NaN and nulls, and a group per row.
fn data(n: usize, groups: u32, seed: u64) -> (ArrayRef, ArrayRef, Vec<u32>) {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    };
    let mut ids = vec![];
    let mut fv = vec![];
    let mut iv = vec![];
    for _ in 0..n {
        ids.push((next() % groups as u64) as u32);
        let r = next();
        fv.push(match r % 23 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some((r % 1000) as f64 / 8.0 - 60.0),
        });
        iv.push((r % 17 != 0).then_some((r % 50) as i64 - 25));
    }
    (
        Arc::new(Float64Array::from(fv)),
        Arc::new(Int64Array::from(iv)),
        ids,
    )
}

fn funcs() -> Vec<AggFunc> {
    vec![
        AggFunc::Sum,
        AggFunc::NanSum,
        AggFunc::Mean,
        AggFunc::NanMean,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::NanMin,
        AggFunc::NanMax,
        AggFunc::Std(1),
        AggFunc::Var(0),
        AggFunc::NanStd(0),
        AggFunc::NanVar(1),
        AggFunc::Count,
        AggFunc::NullCount,
        AggFunc::Len,
        AggFunc::NUnique,
        AggFunc::Median,
        AggFunc::NanMedian,
        AggFunc::Quantile(0.3),
        AggFunc::ArgMin,
        AggFunc::ArgMax,
        AggFunc::First,
        AggFunc::Last,
    ]
}

/// `a` and `b` equal, floats within a relative 1e-12 (grouped sums add row by row, the scalar
/// path piece by piece), NaN equal to NaN.
fn close(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Float64(x), Scalar::Float64(y)) => {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

/// Every aggregate, grouped over pieces of two partials merged through shuffled group ids,
/// equals the one-group aggregate of each group's rows.
#[test]
fn grouped_accumulators_equal_each_group_alone() {
    let n = 3000;
    let groups = 37u32;
    for (values, name) in {
        let (fv, iv, _) = data(n, groups, 7);
        [(fv, "f64"), (iv, "i64")]
    } {
        let (_, _, ids) = data(n, groups, 7);
        for func in funcs() {
            if name == "i64" && func.skips_nan() {
                continue;
            }
            let t = values.data_type().clone();
            // Two partials: rows [0, split) and [split, n), each with local ids in order of
            // first appearance, updated in pieces.
            let split = 1234;
            let mut partials = vec![];
            for (lo, hi) in [(0, split), (split, n)] {
                let mut local: Vec<u32> = vec![];
                let mut map = vec![u32::MAX; groups as usize];
                let lids: Vec<u32> = ids[lo..hi]
                    .iter()
                    .map(|g| {
                        if map[*g as usize] == u32::MAX {
                            map[*g as usize] = local.len() as u32;
                            local.push(*g);
                        }
                        map[*g as usize]
                    })
                    .collect();
                let mut acc = new_accumulator(&func, std::slice::from_ref(&t)).unwrap();
                let mut start = 0;
                while start < lids.len() {
                    let len = 100.min(lids.len() - start);
                    let v = values.slice(lo + start, len);
                    let seen = lids[..start + len]
                        .iter()
                        .max()
                        .map_or(0, |m| *m as usize + 1);
                    acc.update(&[v], Groups::Ids(&lids[start..start + len]), seen)
                        .unwrap();
                    start += len;
                }
                acc.seal().unwrap();
                partials.push((acc, local));
            }
            // Merge the second into the first, by global group.
            let (mut total, mut order) = {
                let (acc, local) = partials.remove(0);
                (acc, local)
            };
            let (second, local2) = partials.remove(0);
            let (from, to) = merge_targets(&mut order, &local2);
            total
                .merge(second.as_ref(), &from, &to, order.len())
                .unwrap();
            let out = total.evaluate(order.len()).unwrap();
            for (k, g) in order.iter().enumerate() {
                let rows: Vec<u32> = (0..n as u32).filter(|r| ids[*r as usize] == *g).collect();
                let sub =
                    arrow::compute::take(values.as_ref(), &UInt32Array::from(rows), None).unwrap();
                let want = aggregate(&func, &sub).unwrap();
                let got = array_to_scalar(out.as_ref(), k).unwrap();
                let got = match (&got, &want) {
                    (Scalar::Int64(i), Scalar::Float64(_)) => Scalar::Float64(*i as f64),
                    _ => got,
                };
                assert!(
                    close(&got, &want),
                    "{name} {func:?} group {g}: grouped {got:?}, alone {want:?}"
                );
            }
        }
    }
}

/// A partial's groups (`local`: their global ids, in the partial's order) as a merge's `from`
/// and `to`: each global id's position in `order`, appended to it at first sight.
pub(super) fn merge_targets(order: &mut Vec<u32>, local: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let from = (0..local.len() as u32).collect();
    let to = local
        .iter()
        .map(|g| match order.iter().position(|x| x == g) {
            Some(p) => p as u32,
            None => {
                order.push(*g);
                order.len() as u32 - 1
            }
        })
        .collect();
    (from, to)
}
