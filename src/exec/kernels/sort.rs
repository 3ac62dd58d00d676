//! Sorting: the stable multi-key argsort behind `LazyFrame::sort`/`sort_by` and the
//! `arg_sort`, `sort`, `top_k` and `bottom_k` expressions.
//!
//! Order: ascending by default; NaN after every number (NaN is the largest value, so it comes
//! first when descending, as in Polars); `-0.0` equals `0.0`; nulls last unless
//! `nulls_last(false)`; equal keys keep their input order (always, even with
//! `stable(false)`: a stable result is also a valid unstable one).
//!
//! Several keys are sorted least significant first, each pass a stable sort of the current
//! order, so the last pass (the first key) wins and earlier passes break its ties. Numeric,
//! boolean and temporal keys go through the parallel radix sort in [`super::argsort`]; other
//! types (strings) compare rows with Arrow's comparator in rayon's stable parallel merge sort.

use arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int64Type, UInt64Type};
use rayon::prelude::*;

use super::argsort::{argsort_keys, f64_key, i64_key, Pair};
use crate::error::{Error, Result};
use crate::expr::SortOptions;

/// Row order that sorts `keys` (compared left to right) under `options` (one per key), as
/// `UInt64` (the executor uses [`arg_sort_u32`]; tests check the orders here).
#[cfg(test)]
pub fn arg_sort(keys: &[ArrayRef], options: &[SortOptions]) -> Result<UInt64Array> {
    if keys.len() != options.len() {
        return Err(Error::Internal(format!(
            "arg_sort got {} keys but {} options",
            keys.len(),
            options.len()
        )));
    }
    let n = keys.first().map_or(0, |k| k.len());
    if keys.iter().any(|k| k.len() != n) {
        return Err(Error::Compute(
            "sort keys have different lengths".to_string(),
        ));
    }
    let order = arg_sort_u32(keys, options)?;
    Ok(to_u64_array(&order))
}

/// Row numbers as a UInt64 array (converted in parallel: it is a full pass over the rows).
pub fn to_u64_array(rows: &[u32]) -> UInt64Array {
    let v: Vec<u64> = rows
        .par_iter()
        .with_min_len(1 << 16)
        .map(|&r| u64::from(r))
        .collect();
    UInt64Array::from(v)
}

/// [`arg_sort`] as `u32` row numbers (what the kernels pass around).
pub fn arg_sort_u32(keys: &[ArrayRef], options: &[SortOptions]) -> Result<Vec<u32>> {
    let n = keys.first().map_or(0, |k| k.len());
    if n > u32::MAX as usize {
        return Err(Error::Compute(format!(
            "cannot sort {n} rows: at most {} rows are supported",
            u32::MAX
        )));
    }
    let mut order: Option<Vec<u32>> = None;
    for (k, o) in keys.iter().zip(options).rev() {
        order = Some(sort_stage(k, o, order.as_deref(), n)?);
    }
    Ok(order.unwrap_or_default())
}

/// How one key column becomes radix keys.
enum Encoded {
    F64(ArrayRef),
    F32(ArrayRef),
    I64(ArrayRef),
    U64(ArrayRef),
    /// Not a radix type: compare rows.
    Other,
}

fn encode(a: &ArrayRef) -> Encoded {
    match a.data_type() {
        DataType::Float64 => Encoded::F64(a.clone()),
        DataType::Float32 => Encoded::F32(a.clone()),
        DataType::Float16 => match arrow::compute::cast(a, &DataType::Float64) {
            Ok(c) => Encoded::F64(c),
            Err(_) => Encoded::Other,
        },
        DataType::UInt64 => Encoded::U64(a.clone()),
        DataType::Int64 => Encoded::I64(a.clone()),
        dt if dt.is_integer()
            || dt.is_temporal()
            || matches!(dt, DataType::Boolean | DataType::Null) =>
        {
            // Smaller integers, booleans, dates and times are integers underneath; a type the
            // cast does not cover falls back to comparing rows.
            let to_int = if dt.is_temporal() {
                arrow::compute::cast(a, &DataType::Int64).or_else(|_| {
                    arrow::compute::cast(a, &DataType::Int32)
                        .and_then(|c| arrow::compute::cast(&c, &DataType::Int64))
                })
            } else {
                arrow::compute::cast(a, &DataType::Int64)
            };
            match to_int {
                Ok(c) => Encoded::I64(c),
                Err(_) => Encoded::Other,
            }
        }
        _ => Encoded::Other,
    }
}

/// Stable sort of `rows` (all rows `0..n` when `None`) by one key.
fn sort_stage(key: &ArrayRef, o: &SortOptions, rows: Option<&[u32]>, n: usize) -> Result<Vec<u32>> {
    let flip = if o.descending { u64::MAX } else { 0 };
    let enc = encode(key);
    if matches!(enc, Encoded::Other) {
        return compare_sort(key, o, rows, n);
    }
    // Split off the nulls (in their current order); they go first or last as a block.
    let (valid, nulls): (Option<Vec<u32>>, Vec<u32>) = match key.nulls() {
        Some(nb) if nb.null_count() > 0 => {
            let all: Vec<u32> = rows.map_or_else(|| (0..n as u32).collect(), <[u32]>::to_vec);
            let (v, nl): (Vec<u32>, Vec<u32>) =
                all.into_iter().partition(|r| nb.is_valid(*r as usize));
            (Some(v), nl)
        }
        _ => (rows.map(<[u32]>::to_vec), vec![]),
    };
    let valid_ref = valid.as_deref();
    let sorted = match &enc {
        Encoded::F64(a) => {
            let v = a.as_primitive::<Float64Type>().values();
            argsort_keys(|i| f64_key(v[i]) ^ flip, valid_ref, n)
        }
        Encoded::F32(a) => {
            let v = a.as_primitive::<Float32Type>().values();
            argsort_keys(|i| f64_key(f64::from(v[i])) ^ flip, valid_ref, n)
        }
        Encoded::I64(a) => {
            let v = a.as_primitive::<Int64Type>().values();
            argsort_keys(|i| i64_key(v[i]) ^ flip, valid_ref, n)
        }
        Encoded::U64(a) => {
            let v = a.as_primitive::<UInt64Type>().values();
            argsort_keys(|i| v[i] ^ flip, valid_ref, n)
        }
        Encoded::Other => unreachable_other()?,
    };
    Ok(place_nulls(sorted, nulls, o.nulls_last))
}

fn unreachable_other() -> Result<Vec<u32>> {
    Err(Error::Internal(
        "non-radix key reached the radix path".into(),
    ))
}

fn place_nulls(mut sorted: Vec<u32>, mut nulls: Vec<u32>, nulls_last: bool) -> Vec<u32> {
    if nulls.is_empty() {
        sorted
    } else if nulls_last {
        sorted.append(&mut nulls);
        sorted
    } else {
        nulls.append(&mut sorted);
        nulls
    }
}

/// Stable comparison sort for key types without a radix form (strings, binary, nested).
fn compare_sort(
    key: &ArrayRef,
    o: &SortOptions,
    rows: Option<&[u32]>,
    n: usize,
) -> Result<Vec<u32>> {
    let opts = arrow::compute::SortOptions {
        descending: o.descending,
        nulls_first: !o.nulls_last,
    };
    let cmp = arrow::array::make_comparator(key.as_ref(), key.as_ref(), opts).map_err(|e| {
        Error::Type(format!(
            "cannot sort values of type {}: {e}",
            key.data_type()
        ))
    })?;
    let mut order: Vec<u32> = rows.map_or_else(|| (0..n as u32).collect(), <[u32]>::to_vec);
    // `par_sort_by` is a stable merge sort.
    order.par_sort_by(|a, b| cmp(*a as usize, *b as usize));
    Ok(order)
}

/// Rows of the `k` largest (`largest`) or smallest values, in that order: the same rows as
/// sorting (descending for largest, nulls last) and keeping the first `k`, found with a
/// selection instead of a full sort when the key is numeric.
pub fn top_k_rows(key: &ArrayRef, k: usize, largest: bool) -> Result<Vec<u32>> {
    let n = key.len();
    let o = SortOptions::default().descending(largest);
    let k = k.min(n);
    if k == 0 {
        return Ok(vec![]);
    }
    if n > u32::MAX as usize {
        return Err(Error::Compute(format!(
            "cannot sort {n} rows: at most {} rows are supported",
            u32::MAX
        )));
    }
    let enc = encode(key);
    // A selection pays off when k is small against n; otherwise sort everything.
    if matches!(enc, Encoded::Other) || k * 8 > n {
        let mut rows = arg_sort_u32(std::slice::from_ref(key), &[o])?;
        rows.truncate(k);
        return Ok(rows);
    }
    let flip = if largest { u64::MAX } else { 0 };
    let nb = key.nulls().filter(|nb| nb.null_count() > 0);
    let valid = |r: usize| nb.is_none_or(|nb| nb.is_valid(r));
    let keyf: Box<dyn Fn(usize) -> u64 + Sync> = match enc {
        Encoded::F64(a) => {
            Box::new(move |i| f64_key(a.as_primitive::<Float64Type>().value(i)) ^ flip)
        }
        Encoded::F32(a) => {
            Box::new(move |i| f64_key(f64::from(a.as_primitive::<Float32Type>().value(i))) ^ flip)
        }
        Encoded::I64(a) => {
            Box::new(move |i| i64_key(a.as_primitive::<Int64Type>().value(i)) ^ flip)
        }
        Encoded::U64(a) => Box::new(move |i| a.as_primitive::<UInt64Type>().value(i) ^ flip),
        Encoded::Other => return unreachable_other(),
    };
    let mut pairs: Vec<Pair> = (0..n)
        .filter(|r| valid(*r))
        .map(|r| Pair {
            key: keyf(r),
            row: r as u32,
        })
        .collect();
    let nulls: Vec<u32> = (0..n).filter(|r| !valid(*r)).map(|r| r as u32).collect();
    if pairs.len() > k {
        // Ties broken by row number give exactly the stable sort's first k.
        pairs.select_nth_unstable_by_key(k - 1, |p| (p.key, p.row));
        pairs.truncate(k);
    }
    pairs.sort_unstable_by_key(|p| (p.key, p.row));
    let mut rows: Vec<u32> = pairs.into_iter().map(|p| p.row).collect();
    rows.extend(nulls.into_iter().take(k - rows.len()));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, StringArray};
    use std::sync::Arc;

    fn order(a: ArrayRef, o: SortOptions) -> Vec<u64> {
        arg_sort(&[a], &[o]).unwrap().values().to_vec()
    }

    #[test]
    fn nan_after_numbers_nulls_last_stable() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(2.0),
            None,
            Some(f64::NAN),
            Some(1.0),
            Some(2.0),
        ]));
        assert_eq!(
            order(a.clone(), SortOptions::default()),
            vec![3, 0, 4, 2, 1]
        );
        assert_eq!(
            order(a, SortOptions::default().descending(true).nulls_last(false)),
            vec![1, 2, 0, 4, 3]
        );
    }

    #[test]
    fn negative_nan_and_negative_zero() {
        // 0.0/0.0 computed at run time is a NaN with the sign bit set on x86.
        let neg_nan = f64::from_bits(f64::NAN.to_bits() | (1 << 63));
        let a: ArrayRef = Arc::new(Float64Array::from(vec![neg_nan, 0.0, -0.0, -1.0, f64::NAN]));
        assert_eq!(order(a, SortOptions::default()), vec![3, 1, 2, 0, 4]);
    }

    #[test]
    fn multi_key() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["b", "a", "b", "a"]));
        let b: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 0.5, 1.0]));
        let idx = arg_sort(
            &[a, b],
            &[
                SortOptions::default(),
                SortOptions::default().descending(true),
            ],
        )
        .unwrap();
        assert_eq!(idx.values().to_vec(), vec![1, 3, 0, 2]);
    }

    #[test]
    fn multi_key_with_nulls_in_second_key() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![1, 0, 1, 0, 1]));
        let b: ArrayRef = Arc::new(Float64Array::from(vec![
            None,
            Some(3.0),
            Some(1.0),
            None,
            Some(0.5),
        ]));
        let o = SortOptions::default();
        let idx = arg_sort(&[a.clone(), b.clone()], &[o.clone(), o.clone()]).unwrap();
        assert_eq!(idx.values().to_vec(), vec![1, 3, 4, 2, 0]);
        let idx = arg_sort(&[a, b], &[o.clone(), o.nulls_last(false)]).unwrap();
        assert_eq!(idx.values().to_vec(), vec![3, 1, 0, 4, 2]);
    }

    #[test]
    fn top_k_matches_sort_then_head() {
        let v: Vec<Option<f64>> = (0..1000)
            .map(|i| match i % 97 {
                0 => None,
                1 => Some(f64::NAN),
                _ => Some(((i * 37) % 101) as f64),
            })
            .collect();
        let a: ArrayRef = Arc::new(Float64Array::from(v));
        for largest in [true, false] {
            let full = order(a.clone(), SortOptions::default().descending(largest));
            for k in [0, 1, 5, 50, 200, 1000, 2000] {
                let got = top_k_rows(&a, k, largest).unwrap();
                let want: Vec<u32> = full.iter().take(k).map(|r| *r as u32).collect();
                assert_eq!(got, want, "k={k} largest={largest}");
            }
        }
    }
}
