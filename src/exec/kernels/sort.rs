//! Sorting: a stable multi-key argsort.
//!
//! Order: ascending by default; NaN after every number (NaN is the largest value, so it comes
//! first when descending, as in Polars); nulls last unless `nulls_last(false)`; equal keys keep
//! their input order. A single numeric key takes a fast path on `(is_nan, value)` keys; other
//! cases compare rows with Arrow's lexicographic comparator. Both sort in parallel (rayon's
//! stable merge sort).

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use arrow::compute::{LexicographicalComparator, SortColumn};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use rayon::prelude::*;

use crate::error::Result;
use crate::expr::SortOptions;

/// Row order that sorts `keys` (compared left to right) under `options` (one per key).
pub fn arg_sort(keys: &[ArrayRef], options: &[SortOptions]) -> Result<UInt64Array> {
    let n = keys.first().map_or(0, |k| k.len());
    if keys.len() == 1 {
        let k = &keys[0];
        let o = &options[0];
        if k.data_type().is_floating() {
            let a = arrow::compute::cast(k, &DataType::Float64)?;
            let p = a.as_primitive::<Float64Type>();
            return Ok(single_key(p.values(), p.nulls(), o, |a, b| {
                // NaN is the largest value.
                match (a.is_nan(), b.is_nan()) {
                    (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                    (x, y) => x.cmp(&y),
                }
            }));
        }
        if k.data_type().is_integer() {
            let a = arrow::compute::cast(k, &DataType::Int64)?;
            let p = a.as_primitive::<Int64Type>();
            return Ok(single_key(p.values(), p.nulls(), o, |a: &i64, b: &i64| {
                a.cmp(b)
            }));
        }
    }
    let columns: Vec<SortColumn> = keys
        .iter()
        .zip(options)
        .map(|(k, o)| SortColumn {
            values: k.clone(),
            options: Some(arrow::compute::SortOptions {
                descending: o.descending,
                nulls_first: !o.nulls_last,
            }),
        })
        .collect();
    let cmp = LexicographicalComparator::try_new(&columns)?;
    let mut idx: Vec<u32> = (0..n as u32).collect();
    idx.par_sort_by(|a, b| cmp.compare(*a as usize, *b as usize));
    Ok(UInt64Array::from_iter_values(
        idx.into_iter().map(u64::from),
    ))
}

fn single_key<T: Copy + Send + Sync>(
    values: &[T],
    nulls: Option<&arrow::buffer::NullBuffer>,
    o: &SortOptions,
    cmp: impl Fn(&T, &T) -> Ordering + Sync,
) -> UInt64Array {
    let (mut valid, null_rows): (Vec<(T, u32)>, Vec<u32>) = match nulls {
        None => (
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, i as u32))
                .collect(),
            vec![],
        ),
        Some(nb) => {
            let mut v = Vec::with_capacity(values.len() - nb.null_count());
            let mut nl = Vec::with_capacity(nb.null_count());
            for (i, x) in values.iter().enumerate() {
                if nb.is_valid(i) {
                    v.push((*x, i as u32));
                } else {
                    nl.push(i as u32);
                }
            }
            (v, nl)
        }
    };
    if o.descending {
        valid.par_sort_by(|a, b| cmp(&b.0, &a.0));
    } else {
        valid.par_sort_by(|a, b| cmp(&a.0, &b.0));
    }
    let sorted = valid.into_iter().map(|(_, i)| u64::from(i));
    let nulls = null_rows.into_iter().map(u64::from);
    if o.nulls_last {
        UInt64Array::from_iter_values(sorted.chain(nulls))
    } else {
        UInt64Array::from_iter_values(nulls.chain(sorted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn nan_after_numbers_nulls_last_stable() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(2.0),
            None,
            Some(f64::NAN),
            Some(1.0),
            Some(2.0),
        ]));
        let idx = arg_sort(std::slice::from_ref(&a), &[SortOptions::default()]).unwrap();
        assert_eq!(idx.values().to_vec(), vec![3, 0, 4, 2, 1]);
        let idx = arg_sort(
            &[a],
            &[SortOptions::default().descending(true).nulls_last(false)],
        )
        .unwrap();
        assert_eq!(idx.values().to_vec(), vec![1, 2, 0, 4, 3]);
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
}
