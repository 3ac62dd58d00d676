//! Dispatch and shared helpers for the issue-4 part-A kernels (fills, scalers, rolling
//! windows, horizontal and closure functions, describe).
//!
//! Whole-column kernels get the full materialized column and parallelize themselves over fixed
//! chunks of [`CHUNK`] rows (boundaries depend on the length only, never on the thread
//! count, so results are bit-identical for any pool size). Elementwise ones (horizontal
//! functions, `map_rows`, `Fill::Zero`) are called per morsel by the pipeline.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Float64Type};
use rayon::prelude::*;

use super::{describe, fill, horizontal, rolling, scale};
use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::exec::MORSEL_ROWS;
use crate::expr::{Function, FunctionKind};

/// Rows per parallel chunk of the whole-column kernels.
pub const CHUNK: usize = MORSEL_ROWS;

/// Apply a part-A function to its evaluated arguments; `out` is the resolved output type.
pub fn apply(func: &Function, args: Vec<Value>, out: &DataType) -> Result<Value> {
    if let Function::Stack = func {
        return stack(args, out);
    }
    if let Function::MinMaxScaleWith { lo, hi } = func {
        return min_max_scale_with(args, *lo, *hi, out);
    }
    let all_scalar = args.iter().all(|a| matches!(a, Value::Scalar(_)));
    let len = args
        .iter()
        .find_map(|a| match a {
            Value::Array(a) => Some(a.len()),
            Value::Scalar(_) => None,
        })
        .unwrap_or(1);
    // Scalars broadcast; an all-scalar call runs on one row and gives a scalar back.
    let arrays = args
        .into_iter()
        .map(|a| a.into_array(len))
        .collect::<Result<Vec<_>>>()?;
    let res = apply_arrays(func, &arrays, out)?;
    if res.len() != len && func.kind() == FunctionKind::Elementwise {
        return Err(Error::Internal(format!(
            "{} gave {} rows for {len}",
            func.name(),
            res.len()
        )));
    }
    if all_scalar && res.len() == 1 {
        return Ok(Value::Scalar(array_to_scalar(res.as_ref(), 0)?));
    }
    Ok(Value::Array(res))
}

fn apply_arrays(func: &Function, args: &[ArrayRef], out: &DataType) -> Result<ArrayRef> {
    let first = args
        .first()
        .ok_or_else(|| Error::Internal(format!("{} without input", func.name())))?;
    match func {
        Function::FillNanWith(f) => fill::fill_nan_with(first, *f, out),
        Function::FillNullWith(f) => fill::fill_null_with(first, *f, out),
        Function::MinMaxScale { lo, hi } => scale::min_max_scale(first, *lo, *hi, out),
        Function::Standardize => scale::standardize(first, out),
        Function::Rolling { kind, options } => rolling::rolling(first, *kind, options, out),
        Function::SumHorizontal
        | Function::MeanHorizontal
        | Function::MinHorizontal
        | Function::MaxHorizontal => horizontal::horizontal(func, args, out),
        Function::MapRows(udf) => horizontal::map_rows(udf, args),
        Function::MapColumns(udf) => {
            let a = to_f64(first)?;
            let r = udf.call(&a)?;
            if r.len() != a.len() {
                return Err(Error::Compute(format!(
                    "map_columns closure {} returned {} rows for a column of {}",
                    udf.name(),
                    r.len(),
                    a.len()
                )));
            }
            Ok(Arc::new(r))
        }
        Function::DescribeStats => describe::describe_stats(first),
        other => Err(Error::Internal(format!(
            "{} is not an issue-4 part-A function",
            other.name()
        ))),
    }
}

/// `min_max_scale_with(x, min, max)`: the statistics stay scalars (no broadcast).
fn min_max_scale_with(args: Vec<Value>, lo: f64, hi: f64, out: &DataType) -> Result<Value> {
    let [x, mn, mx]: [Value; 3] = args
        .try_into()
        .map_err(|_| Error::Internal("min_max_scale_with takes three inputs".into()))?;
    let stat = |v: Value| -> Result<Option<f64>> {
        match v {
            Value::Scalar(s) => Ok(s.as_f64()),
            Value::Array(_) => Err(Error::Compute(
                "min_max_scale_with needs scalar min and max".into(),
            )),
        }
    };
    let range = match (stat(mn)?, stat(mx)?) {
        (Some(a), Some(b)) if !a.is_nan() && !b.is_nan() => Some((a, b)),
        _ => None,
    };
    match x {
        Value::Array(a) => Ok(Value::Array(scale::min_max_scale_with(
            &a, range, lo, hi, out,
        )?)),
        Value::Scalar(s) => {
            let a = scalar_to_array(&s, &s.data_type(), 1)?;
            let r = scale::min_max_scale_with(&a, range, lo, hi, out)?;
            Ok(Value::Scalar(array_to_scalar(r.as_ref(), 0)?))
        }
    }
}

/// `stack([a, b, ..])`: scalar inputs as the rows of one column.
fn stack(args: Vec<Value>, out: &DataType) -> Result<Value> {
    let parts = args
        .into_iter()
        .map(|a| match a {
            Value::Scalar(s) => scalar_to_array(&s, out, 1),
            Value::Array(a) => Ok(arrow::compute::cast(&a, out)?),
        })
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(Value::Array(arrow::compute::concat(&refs)?))
}

/// The column as Float64 (integers and Float32 converted; a no-op for Float64).
pub fn to_f64(a: &ArrayRef) -> Result<Float64Array> {
    let a = if *a.data_type() == DataType::Float64 {
        a.clone()
    } else {
        arrow::compute::cast(a, &DataType::Float64)?
    };
    Ok(a.as_primitive::<Float64Type>().clone())
}

/// Wrap computed values and validity as an array of type `out` (Float64 computed, cast back
/// to Float32 where the input was).
pub fn f64_out(values: Vec<f64>, nulls: Option<NullBuffer>, out: &DataType) -> Result<ArrayRef> {
    let nulls = nulls.filter(|n| n.null_count() > 0);
    let a: ArrayRef = Arc::new(Float64Array::new(ScalarBuffer::from(values), nulls));
    if *out == DataType::Float64 {
        Ok(a)
    } else {
        Ok(arrow::compute::cast(&a, out)?)
    }
}

/// Cast to `out` unless already of that type.
pub fn cast_to(a: &ArrayRef, out: &DataType) -> Result<ArrayRef> {
    if a.data_type() == out {
        Ok(a.clone())
    } else {
        Ok(arrow::compute::cast(a, out)?)
    }
}

/// `f` over each fixed chunk of `a`, in parallel and in order, with null slots replaced by NaN
/// (so NaN-skipping statistics skip both). Each call gets the chunk's values.
pub fn par_chunks_nan_masked<T: Send>(
    a: &Float64Array,
    f: impl Fn(&[f64]) -> T + Sync + Send,
) -> Vec<T> {
    let v = a.values();
    let n = v.len();
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (s, e) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            match a.nulls() {
                Some(nb) if nb.slice(s, e - s).null_count() > 0 => {
                    let tmp: Vec<f64> = (s..e)
                        .map(|i| if nb.is_valid(i) { v[i] } else { f64::NAN })
                        .collect();
                    f(&tmp)
                }
                _ => f(&v[s..e]),
            }
        })
        .collect()
}

/// Outputs at least this large ask for transparent huge pages.
const HUGE_PAGE_BYTES: usize = 1 << 21;

/// A zeroed `Vec<f64>` of `n` values for a kernel to overwrite.
///
/// Large outputs come straight from `mmap` and every 4 KiB page costs a page fault on first
/// write: on a 10M-row column that is 20 000 faults, more time than the kernel itself. Asking
/// the kernel for transparent huge pages on the untouched allocation (a hint only: nothing
/// changes if it declines) cuts that 512-fold. The memory is zeroed either way (calloc).
pub fn zeroed_f64(n: usize) -> Vec<f64> {
    let v = vec![0.0f64; n];
    #[cfg(target_os = "linux")]
    if n * 8 >= 2 * HUGE_PAGE_BYTES {
        let start = v.as_ptr() as usize;
        let end = start + n * 8;
        // Whole 2 MiB pages inside the allocation only.
        let lo = start.next_multiple_of(HUGE_PAGE_BYTES);
        let hi = end / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
        if hi > lo {
            // SAFETY: madvise only advises on pages inside our own live allocation; it never
            // changes their contents (MADV_HUGEPAGE), and a failure is harmless.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
            }
        }
    }
    v
}

/// Map every value through `f` in parallel fixed chunks, keeping the validity of `a`.
///
/// The output is written in place by rayon's indexed collect, never zeroed first: on reused
/// memory a zeroing pass was an eighth of `min_max_scale`'s time.
pub fn par_map(a: &Float64Array, f: impl Fn(f64) -> f64 + Sync + Send) -> Vec<f64> {
    let v = a.values();
    if v.len() <= CHUNK {
        return v.iter().map(|&x| f(x)).collect();
    }
    v.par_iter().with_min_len(CHUNK).map(|&x| f(x)).collect()
}
