//! Kernels of the horizontal family (`expr::horizontal`): row-wise `sum_horizontal`,
//! `mean_horizontal`, `min_horizontal`, `max_horizontal` over several columns.
//!
//! They are elementwise, so the pipeline calls them per morsel (in parallel across morsels);
//! the loops here run column by column over whole `values()` slices so they vectorize.
//! Semantics follow Polars: sums treat null as 0, means skip nulls, min/max skip nulls and
//! NaN; a row of nulls gives 0 for the sum and null otherwise.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use arrow::buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Int64Type};

use super::chunked::{cast_to, f64_out, to_f64, zeroed_f64};
use super::{broadcast, Kernel};
use crate::error::Result;
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, HorizontalFunction};

impl Kernel for HorizontalFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        broadcast(self.name(), self.kind(), args, |a| horizontal(self, a, out))
    }
}

/// Validity of row `i` of `a`.
fn valid(a: &dyn Array, i: usize) -> bool {
    a.nulls().is_none_or(|n| n.is_valid(i))
}

/// Rows where at least one input is non-null.
fn any_valid(args: &[ArrayRef], n: usize) -> Option<NullBuffer> {
    if args.iter().any(|a| a.null_count() == 0) {
        return None;
    }
    let mut bits = BooleanBuffer::new_unset(n);
    for a in args {
        if let Some(nb) = a.nulls() {
            bits = &bits | nb.inner();
        }
    }
    Some(NullBuffer::new(bits))
}

/// `sum/mean/min/max_horizontal` over equally long inputs; `out` is Int64 or a float type.
pub fn horizontal(
    func: &HorizontalFunction,
    args: &[ArrayRef],
    out: &DataType,
) -> Result<ArrayRef> {
    let n = args.first().map_or(0, |a| a.len());
    if out.is_integer() {
        return int_horizontal(func, args, n);
    }
    let cols = args
        .iter()
        .map(to_f64)
        .collect::<Result<Vec<Float64Array>>>()?;
    let mut acc = zeroed_f64(n);
    match func {
        HorizontalFunction::Sum | HorizontalFunction::Mean => {
            let mut count = vec![0u32; n];
            for c in &cols {
                let v = c.values();
                match c.nulls() {
                    None => {
                        acc.iter_mut().zip(v.iter()).for_each(|(a, x)| *a += x);
                        count.iter_mut().for_each(|k| *k += 1);
                    }
                    Some(nb) => {
                        for i in 0..n {
                            let ok = nb.is_valid(i);
                            acc[i] += if ok { v[i] } else { 0.0 };
                            count[i] += u32::from(ok);
                        }
                    }
                }
            }
            if *func == HorizontalFunction::Sum {
                return f64_out(acc, None, out);
            }
            for (a, k) in acc.iter_mut().zip(&count) {
                *a /= f64::from(*k);
            }
            let nulls = NullBuffer::new(BooleanBuffer::collect_bool(n, |i| count[i] > 0));
            f64_out(acc, Some(nulls), out)
        }
        HorizontalFunction::Min | HorizontalFunction::Max => {
            let max = *func == HorizontalFunction::Max;
            acc.fill(f64::NAN);
            for c in &cols {
                let v = c.values();
                for i in 0..n {
                    let x = v[i];
                    // NaN never replaces a number; a number replaces NaN (the start value).
                    let better = if max { x > acc[i] } else { x < acc[i] };
                    if valid(c, i) && (better || acc[i].is_nan()) && !x.is_nan() {
                        acc[i] = x;
                    }
                }
            }
            f64_out(acc, any_valid(args, n), out)
        }
    }
}

fn int_horizontal(func: &HorizontalFunction, args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let cols = args
        .iter()
        .map(|a| cast_to(a, &DataType::Int64))
        .collect::<Result<Vec<_>>>()?;
    let mut acc = vec![0i64; n];
    match func {
        HorizontalFunction::Sum => {
            for c in &cols {
                let v = c.as_primitive::<Int64Type>().values();
                for i in 0..n {
                    if valid(c.as_ref(), i) {
                        acc[i] = acc[i].wrapping_add(v[i]);
                    }
                }
            }
            Ok(Arc::new(Int64Array::new(ScalarBuffer::from(acc), None)))
        }
        // A mean is never an integer (its output type is a float).
        HorizontalFunction::Min | HorizontalFunction::Max | HorizontalFunction::Mean => {
            let max = *func == HorizontalFunction::Max;
            let mut seen = vec![false; n];
            for c in &cols {
                let v = c.as_primitive::<Int64Type>().values();
                for i in 0..n {
                    if valid(c.as_ref(), i) {
                        let x = v[i];
                        if !seen[i] || (max && x > acc[i]) || (!max && x < acc[i]) {
                            acc[i] = x;
                        }
                        seen[i] = true;
                    }
                }
            }
            let nulls = NullBuffer::from(seen);
            Ok(Arc::new(Int64Array::new(
                ScalarBuffer::from(acc),
                Some(nulls).filter(|n| n.null_count() > 0),
            )))
        }
    }
}
