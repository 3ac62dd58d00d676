//! Kernels of the fill family (`expr::fill`).
//!
//! `fill_nan(v)` / `fill_null(v)` replace NaN or nulls by a value or an expression, elementwise
//! (per morsel). `fill_nan_with` / `fill_null_with` replace them by a statistic of the column's
//! valid values (neither null nor NaN), zero, or the nearest valid value before/after the gap.
//!
//! Statistics come from the parallel, order-merged kernels in [`super::scale`] (the median from
//! the `nan_median` aggregate); the replacement pass and forward/backward fills run over fixed
//! chunks in parallel, with the carry between chunks resolved by a short serial scan over
//! per-chunk summaries, so the result never depends on the thread count.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::{DataType, Int64Type};
use rayon::prelude::*;

use super::chunked::{cast_to, f64_out, to_f64, zeroed_f64, CHUNK};
use super::math::float_map;
use super::predicate::float_test;
use super::scale::{nan_mean, nan_range};
use super::{broadcast, first_array, first_of, scalar_in_scalar_out, Kernel};
use crate::error::{Error, Result};
use crate::exec::aggregate::aggregate_array as aggregate;
use crate::exec::value::{scalar_to_array, Value};
use crate::expr::{AggFunc, Fill, FillFunction, FunctionFamily, Scalar};

impl Kernel for FillFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        let name = self.name();
        match self {
            FillFunction::Nan | FillFunction::Null => scalar_in_scalar_out(args, |mut args| {
                let a = first_array(&mut args, name)?;
                let value = args
                    .pop()
                    .ok_or_else(|| Error::Internal(format!("{name} without value")))?;
                if *self == FillFunction::Nan {
                    fill_nan(&a, value, out)
                } else {
                    fill_null(&a, value, out)
                }
            }),
            FillFunction::NanWith(f) => broadcast(name, self.kind(), args, |a| {
                fill_nan_with(first_of(a, name)?, *f, out)
            }),
            FillFunction::NullWith(f) => broadcast(name, self.kind(), args, |a| {
                fill_null_with(first_of(a, name)?, *f, out)
            }),
        }
    }
}

/// Replace NaN by `value` (a scalar or an array of the same length); nulls untouched.
fn fill_nan(a: &ArrayRef, value: Value, out: &DataType) -> Result<ArrayRef> {
    if !out.is_floating() {
        return cast_to(a, out);
    }
    match value {
        Value::Scalar(s) => match s.as_f64() {
            // Replacing NaN by NaN keeps the input as it is (bit for bit, as `fill_nan_with`
            // does for a column without a valid value).
            Some(fill) if fill.is_nan() => cast_to(a, out),
            Some(fill) => float_map(a, out, move |x| if x.is_nan() { fill } else { x }),
            // Filling NaN with null turns NaN into missing values.
            None => {
                let a = cast_to(a, out)?;
                let mask = float_test(&a, false, f64::is_nan)?;
                let null = scalar_to_array(&s, out, 1)?;
                Ok(zip(
                    mask.as_boolean(),
                    &arrow::array::Scalar::new(null),
                    &a,
                )?)
            }
        },
        Value::Array(v) => {
            let a = cast_to(a, out)?;
            let v = cast_to(&v, out)?;
            let mask = float_test(&a, false, f64::is_nan)?;
            let mask = arrow::compute::prep_null_mask_filter(mask.as_boolean());
            Ok(zip(&mask, &v, &a)?)
        }
    }
}

/// Replace nulls by `value` (a scalar or an array of the same length); NaN untouched.
fn fill_null(a: &ArrayRef, value: Value, out: &DataType) -> Result<ArrayRef> {
    let a = cast_to(a, out)?;
    if a.null_count() == 0 {
        return Ok(a);
    }
    let mask = arrow::compute::is_null(&a)?;
    match value {
        Value::Scalar(s) => {
            let fill = scalar_to_array(&s, out, 1)?;
            Ok(zip(&mask, &arrow::array::Scalar::new(fill), &a)?)
        }
        Value::Array(v) => Ok(zip(&mask, &cast_to(&v, out)?, &a)?),
    }
}

/// The statistic a fill uses, over valid values; `None` when there is none.
fn statistic(a: &ArrayRef, fill: Fill) -> Result<Option<f64>> {
    Ok(match fill {
        Fill::Zero => Some(0.0),
        Fill::Mean => nan_mean(a)?,
        Fill::Min => nan_range(a)?.map(|r| r.0),
        Fill::Max => nan_range(a)?.map(|r| r.1),
        Fill::Median => {
            // nan_median skips NaN and nulls; an input without valid values gives NaN.
            let f: ArrayRef = Arc::new(to_f64(a)?);
            aggregate(&AggFunc::NanMedian, std::slice::from_ref(&f))?
                .as_f64()
                .filter(|m| !m.is_nan())
        }
        Fill::Forward | Fill::Backward => None,
    })
}

/// Replace NaN (nulls untouched). Integer columns have no NaN and are only converted.
pub fn fill_nan_with(a: &ArrayRef, fill: Fill, out: &DataType) -> Result<ArrayRef> {
    if !a.data_type().is_floating() {
        return cast_to(a, out);
    }
    let f = to_f64(a)?;
    let v = f.values();
    let nulls = f.nulls().cloned();
    let values = match fill {
        Fill::Forward | Fill::Backward => {
            let source = |i: usize| !v[i].is_nan() && nulls.as_ref().is_none_or(|n| n.is_valid(i));
            carry(v, fill == Fill::Forward, source, |i| v[i].is_nan()).0
        }
        _ => match statistic(a, fill)? {
            None => return cast_to(a, out),
            Some(s) => replace(v, |x, _| x.is_nan(), s),
        },
    };
    f64_out(values, nulls, out)
}

/// Replace nulls (NaN untouched).
pub fn fill_null_with(a: &ArrayRef, fill: Fill, out: &DataType) -> Result<ArrayRef> {
    let Some(nulls) = a.nulls().filter(|n| n.null_count() > 0).cloned() else {
        return cast_to(a, out);
    };
    let float = a.data_type().is_floating() || (out.is_floating() && a.data_type().is_integer());
    if !float {
        return fill_null_exact(a, &nulls, fill, out);
    }
    let f = to_f64(a)?;
    let v = f.values();
    let (values, validity) = match fill {
        Fill::Forward | Fill::Backward => {
            let source = |i: usize| nulls.is_valid(i) && !v[i].is_nan();
            let (vals, filled) = carry(v, fill == Fill::Forward, source, |i| nulls.is_null(i));
            let valid = BooleanBuffer::collect_bool(v.len(), |i| nulls.is_valid(i) || filled(i));
            (vals, Some(NullBuffer::new(valid)))
        }
        _ => match statistic(a, fill)? {
            None => return cast_to(a, out),
            Some(s) => (replace(v, |_, i| nulls.is_null(i), s), None),
        },
    };
    f64_out(values, validity, out)
}

/// Integer, boolean, string, temporal columns: fills that keep the type exactly (min/max and
/// zero through Int64, forward/backward by gathering rows).
fn fill_null_exact(
    a: &ArrayRef,
    nulls: &NullBuffer,
    fill: Fill,
    out: &DataType,
) -> Result<ArrayRef> {
    let fill_value = |s: Scalar| -> Result<ArrayRef> {
        let a = cast_to(a, out)?;
        let mask = arrow::compute::is_null(&a)?;
        let s = scalar_to_array(&s, out, 1)?;
        Ok(zip(&mask, &arrow::array::Scalar::new(s), &a)?)
    };
    match fill {
        Fill::Zero => fill_value(Scalar::Int64(0)),
        Fill::Min | Fill::Max => {
            let i = cast_to(a, &DataType::Int64)?;
            let p = i.as_primitive::<Int64Type>();
            let m = if fill == Fill::Min {
                arrow::compute::min(p)
            } else {
                arrow::compute::max(p)
            };
            match m {
                Some(m) => fill_value(Scalar::Int64(m)),
                None => cast_to(a, out),
            }
        }
        Fill::Forward | Fill::Backward => {
            let n = a.len();
            let mut idx: Vec<Option<u64>> = vec![None; n];
            let mut last = None;
            let order: Box<dyn Iterator<Item = usize>> = if fill == Fill::Forward {
                Box::new(0..n)
            } else {
                Box::new((0..n).rev())
            };
            for i in order {
                if nulls.is_valid(i) {
                    last = Some(i as u64);
                }
                idx[i] = last;
            }
            let idx = UInt64Array::from(idx);
            cast_to(&arrow::compute::take(a.as_ref(), &idx, None)?, out)
        }
        // Mean and median of integers are Float64 and take the float path.
        Fill::Mean | Fill::Median => cast_to(a, out),
    }
}

/// `v` with `value` wherever `gap(x, i)`, in parallel fixed chunks.
fn replace(v: &[f64], gap: impl Fn(f64, usize) -> bool + Sync + Send, value: f64) -> Vec<f64> {
    let pick = |(i, &x): (usize, &f64)| if gap(x, i) { value } else { x };
    if v.len() <= CHUNK {
        return v.iter().enumerate().map(pick).collect();
    }
    // Indexed: rayon writes the output in place, without zeroing it first.
    v.par_iter()
        .enumerate()
        .with_min_len(CHUNK)
        .map(pick)
        .collect()
}

/// Forward (or backward) fill: each `gap` row takes the last (next) `source` value. Returns the
/// values and a predicate telling which gap rows found a value.
fn carry<'a>(
    v: &'a [f64],
    forward: bool,
    source: impl Fn(usize) -> bool + Sync + Send,
    gap: impl Fn(usize) -> bool + Sync + Send,
) -> (Vec<f64>, impl Fn(usize) -> bool + 'a) {
    let n = v.len();
    let chunks = n.div_ceil(CHUNK);
    // Each chunk's first and last source row, then the value carried into each chunk.
    let edges: Vec<Option<(usize, usize)>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let (s, e) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let first = (s..e).find(|&i| source(i))?;
            let last = (first..e).rev().find(|&i| source(i)).unwrap_or(first);
            Some((first, last))
        })
        .collect();
    // The row a chunk hands on: its last source (first, backward).
    let edge: Vec<Option<usize>> = edges
        .iter()
        .map(|e| e.map(|(f, l)| if forward { l } else { f }))
        .collect();
    let mut carry_in: Vec<Option<f64>> = vec![None; chunks];
    let mut cur = None;
    let order: Vec<usize> = if forward {
        (0..chunks).collect()
    } else {
        (0..chunks).rev().collect()
    };
    for c in order {
        carry_in[c] = cur;
        if let Some(i) = edge[c] {
            cur = Some(v[i]);
        }
    }
    // The first source overall (the last one, backward): gaps past it get filled.
    let first_source = if forward {
        edges.iter().flatten().next().map(|e| e.0)
    } else {
        edges.iter().rev().flatten().next().map(|e| e.1)
    };
    let mut out = zeroed_f64(n);
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dst)| {
        let base = c * CHUNK;
        let mut cur = carry_in[c];
        let mut step = |k: usize, d: &mut f64| {
            let i = base + k;
            let x = v[i];
            if source(i) {
                cur = Some(x);
                *d = x;
            } else if gap(i) {
                *d = cur.unwrap_or(x);
            } else {
                *d = x;
            }
        };
        if forward {
            dst.iter_mut().enumerate().for_each(|(k, d)| step(k, d));
        } else {
            dst.iter_mut()
                .enumerate()
                .rev()
                .for_each(|(k, d)| step(k, d));
        }
    });
    // A gap is filled exactly when a source lies before it (after it, backward).
    let filled = move |i: usize| match first_source {
        None => false,
        Some(s) if forward => i > s,
        Some(s) => i < s,
    };
    (out, filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray};

    fn vals(a: &ArrayRef) -> Vec<Option<f64>> {
        to_f64(a).unwrap().iter().collect()
    }

    #[test]
    fn forward_and_backward_cross_chunk_boundaries() {
        let n = 2 * CHUNK + 5;
        let v: Vec<Option<f64>> = (0..n)
            .map(|i| match i {
                3 => Some(7.0),
                6 => Some(8.0),
                i if i == CHUNK + 1 => Some(f64::NAN),
                i if i == n - 2 => Some(9.0),
                _ => None,
            })
            .collect();
        let a: ArrayRef = Arc::new(Float64Array::from(v));
        let f = vals(&fill_null_with(&a, Fill::Forward, &DataType::Float64).unwrap());
        assert_eq!(&f[..5], &[None, None, None, Some(7.0), Some(7.0)]);
        assert!(f[CHUNK + 1].unwrap().is_nan());
        assert_eq!((f[5], f[7]), (Some(7.0), Some(8.0)));
        assert_eq!(f[2 * CHUNK], Some(8.0));
        assert_eq!(f[n - 1], Some(9.0));
        let b = vals(&fill_null_with(&a, Fill::Backward, &DataType::Float64).unwrap());
        assert_eq!(b[0], Some(7.0));
        assert_eq!((b[4], b[7]), (Some(8.0), Some(9.0)));
        assert_eq!(b[n - 1], None);
    }

    #[test]
    fn fill_nan_and_fill_null_are_separate() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), None, Some(2.0)]));
        let zero = || Value::Scalar(Scalar::Float64(0.0));
        let r = FillFunction::Nan
            .invoke(vec![Value::Array(a.clone()), zero()], 3, &DataType::Float64)
            .unwrap()
            .into_array(3)
            .unwrap();
        assert_eq!(vals(&r), vec![Some(0.0), None, Some(2.0)]);
        let nine = Value::Scalar(Scalar::Float64(9.0));
        let r = FillFunction::Null
            .invoke(vec![Value::Array(a), nine], 3, &DataType::Float64)
            .unwrap()
            .into_array(3)
            .unwrap();
        let v = vals(&r);
        assert!(v[0].unwrap().is_nan());
        assert_eq!(&v[1..], &[Some(9.0), Some(2.0)]);
    }

    #[test]
    fn integer_and_string_fills_keep_their_type() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None, Some(-2), None]));
        let r = fill_null_with(&a, Fill::Min, &DataType::Int64).unwrap();
        let r = r.as_primitive::<Int64Type>();
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            vec![Some(5), Some(-2), Some(-2), Some(-2)]
        );
        let s: ArrayRef = Arc::new(StringArray::from(vec![None, Some("a"), None, Some("b")]));
        let r = fill_null_with(&s, Fill::Forward, &DataType::Utf8).unwrap();
        let r: Vec<_> = r.as_string::<i32>().iter().collect();
        assert_eq!(r, vec![None, Some("a"), Some("a"), Some("b")]);
    }
}
