//! Helpers shared by the whole-column kernels: the fixed chunks they parallelize over, and
//! conversion to and from the Float64 buffers most of them compute in.
//!
//! Whole-column kernels get the full materialized column and parallelize themselves over fixed
//! chunks of [`CHUNK`] rows (boundaries depend on the length only, never on the thread count,
//! so results are bit-identical for any pool size).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float32Array, Float64Array};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use rayon::prelude::*;

use crate::error::Result;
use crate::exec::MORSEL_ROWS;

/// Rows per parallel chunk of the whole-column kernels.
pub const CHUNK: usize = MORSEL_ROWS;

/// The column as Float64 (integers and Float32 converted; a no-op for Float64).
pub fn to_f64(a: &ArrayRef) -> Result<Float64Array> {
    let a = if *a.data_type() == DataType::Float64 {
        a.clone()
    } else {
        crate::exec::kernels::cast::cast(a, &DataType::Float64)?
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
        Ok(crate::exec::kernels::cast::cast(&a, out)?)
    }
}

/// Cast to `out` unless already of that type.
pub fn cast_to(a: &ArrayRef, out: &DataType) -> Result<ArrayRef> {
    if a.data_type() == out {
        Ok(a.clone())
    } else {
        Ok(crate::exec::kernels::cast::cast(a, out)?)
    }
}

/// `f` over every value of `a`, computed in f64 and returned as `out`. A Float32 column
/// whose result is Float32 is mapped straight from f32 to f32 (each value widened, `f`
/// applied, rounded back): the same bits as widening the column to Float64, mapping and
/// casting back, without the two whole-column Float64 copies. That is most of an f32 column's
/// scaling cost: on a 10,000-column float32 matrix, the two copies were two allocations and two
/// passes per column and piece. Validity is the input's; null slots go through `f` too (their
/// values are never read).
pub fn map_values(
    a: &ArrayRef,
    out: &DataType,
    f: impl Fn(f64) -> f64 + Sync + Send,
) -> Result<ArrayRef> {
    if let (DataType::Float32, DataType::Float32) = (a.data_type(), out) {
        let a = a.as_primitive::<Float32Type>();
        let v = a.values();
        let g = |&x: &f32| f(f64::from(x)) as f32;
        let values: Vec<f32> = if v.len() <= CHUNK {
            v.iter().map(g).collect()
        } else {
            v.par_iter().with_min_len(CHUNK).map(g).collect()
        };
        let nulls = a.nulls().filter(|n| n.null_count() > 0).cloned();
        return Ok(Arc::new(Float32Array::new(
            ScalarBuffer::from(values),
            nulls,
        )));
    }
    let x = to_f64(a)?;
    f64_out(par_map(&x, f), x.nulls().cloned(), out)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The f32-to-f32 map gives the bits of widening, mapping in f64 and casting back, with
    /// the input's validity, on a short column and on one longer than a chunk.
    #[test]
    fn a_float32_map_equals_the_float64_round_trip() {
        for len in [7, CHUNK * 2 + 5] {
            let values: Vec<Option<f32>> = (0..len)
                .map(|i| match i % 11 {
                    3 => None,
                    5 => Some(f32::NAN),
                    _ => Some((i as f32) * 0.37 - 1000.5),
                })
                .collect();
            let a: ArrayRef = Arc::new(Float32Array::from(values));
            let f = |x: f64| (x - 0.1) / 3.3;
            let direct = map_values(&a, &DataType::Float32, f).unwrap();
            let wide = to_f64(&a).unwrap();
            let round_trip =
                f64_out(par_map(&wide, f), wide.nulls().cloned(), &DataType::Float32).unwrap();
            let (d, r) = (
                direct.as_primitive::<Float32Type>(),
                round_trip.as_primitive::<Float32Type>(),
            );
            assert_eq!(d.nulls(), r.nulls());
            assert_eq!(d.null_count(), (0..len).filter(|i| i % 11 == 3).count());
            for i in 0..len {
                if d.is_valid(i) {
                    assert_eq!(d.value(i).to_bits(), r.value(i).to_bits(), "row {i}");
                }
            }
        }
    }
}
