//! Concatenation of column pieces into one contiguous array, in parallel.
//!
//! A pipeline hands back its output as 64K-row pieces; `collect()` joins them into one array
//! per column. Arrow's `concat` does that on one thread, so on a 10M-row column it was the
//! single largest step of an elementwise query (half of `min_max_scale`'s time). Here the
//! output buffer is allocated once and every piece copies itself into its own slot of it on
//! the rayon pool. Fixed-width primitive columns take this path; other types (strings,
//! booleans, nested) and small outputs use Arrow's `concat`.

use std::mem::MaybeUninit;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use rayon::prelude::*;

use crate::error::Result;

/// Below this many rows the copy is too small to be worth spreading over threads.
const PARALLEL_ROWS: usize = 1 << 18;

/// `parts` (all of the same type) as one array.
pub(crate) fn concat(parts: &[&dyn Array]) -> Result<ArrayRef> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if parts.len() < 2 || total < PARALLEL_ROWS {
        return Ok(arrow::compute::concat(parts)?);
    }
    use arrow::datatypes::TimeUnit;
    let dt = parts[0].data_type();
    if parts.iter().any(|p| p.data_type() != dt) {
        // Arrow reports the mismatch as an error.
        return Ok(arrow::compute::concat(parts)?);
    }
    Ok(match dt {
        DataType::Float64 => primitive::<Float64Type>(parts, total),
        DataType::Float32 => primitive::<Float32Type>(parts, total),
        DataType::Int64 => primitive::<Int64Type>(parts, total),
        DataType::Int32 => primitive::<Int32Type>(parts, total),
        DataType::Int16 => primitive::<Int16Type>(parts, total),
        DataType::Int8 => primitive::<Int8Type>(parts, total),
        DataType::UInt64 => primitive::<UInt64Type>(parts, total),
        DataType::UInt32 => primitive::<UInt32Type>(parts, total),
        DataType::UInt16 => primitive::<UInt16Type>(parts, total),
        DataType::UInt8 => primitive::<UInt8Type>(parts, total),
        DataType::Date32 => primitive::<Date32Type>(parts, total),
        DataType::Timestamp(TimeUnit::Second, _) => primitive::<TimestampSecondType>(parts, total),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            primitive::<TimestampMillisecondType>(parts, total)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            primitive::<TimestampMicrosecondType>(parts, total)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            primitive::<TimestampNanosecondType>(parts, total)
        }
        _ => arrow::compute::concat(parts)?,
    })
}

fn primitive<T: ArrowPrimitiveType>(parts: &[&dyn Array], total: usize) -> ArrayRef {
    let arrays: Vec<&PrimitiveArray<T>> = parts.iter().map(|p| p.as_primitive::<T>()).collect();
    let mut out: Vec<T::Native> = Vec::with_capacity(total);
    {
        // One disjoint slot of the spare capacity per piece, in order.
        let mut slots: Vec<&mut [MaybeUninit<T::Native>]> = Vec::with_capacity(arrays.len());
        let mut rest = &mut out.spare_capacity_mut()[..total];
        for a in &arrays {
            let (slot, tail) = rest.split_at_mut(a.len());
            slots.push(slot);
            rest = tail;
        }
        slots
            .into_par_iter()
            .zip(arrays.par_iter())
            .for_each(|(slot, a)| {
                for (d, s) in slot.iter_mut().zip(a.values().iter()) {
                    d.write(*s);
                }
            });
    }
    // SAFETY: the slots cover `0..total` exactly (their lengths are the pieces' lengths, which
    // sum to `total`), and each was written in full by the loop above (a slot and its piece's
    // values have the same length).
    unsafe { out.set_len(total) };
    let nulls = if arrays.iter().any(|a| a.null_count() > 0) {
        let mut bits = arrow::array::BooleanBufferBuilder::new(total);
        for a in &arrays {
            match a.nulls() {
                Some(n) => bits.append_buffer(n.inner()),
                None => bits.append_n(a.len(), true),
            }
        }
        Some(NullBuffer::new(bits.finish()))
    } else {
        None
    };
    Arc::new(
        PrimitiveArray::<T>::new(ScalarBuffer::from(out), nulls)
            .with_data_type(parts[0].data_type().clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};

    fn pieces<A: Array + Clone + 'static>(whole: &A, cut: usize) -> Vec<ArrayRef> {
        (0..whole.len())
            .step_by(cut)
            .map(|s| whole.slice(s, cut.min(whole.len() - s)))
            .collect()
    }

    fn check(whole: ArrayRef, cut: usize) {
        let parts = pieces(&whole, cut);
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        let got = concat(&refs).expect("concat");
        assert_eq!(got.to_data(), whole.to_data());
    }

    #[test]
    fn parallel_copy_equals_the_input_with_nulls_and_odd_piece_sizes() {
        let n = PARALLEL_ROWS * 3 + 17;
        let f: Float64Array = (0..n)
            .map(|i| (i % 7 != 3).then_some(i as f64 * 0.5))
            .collect();
        check(Arc::new(f), 65_536);
        check(Arc::new(Int64Array::from_iter_values(0..n as i64)), 100_003);
        let ts = TimestampMicrosecondArray::from_iter_values(0..n as i64).with_timezone("UTC");
        check(Arc::new(ts), 70_000);
    }

    #[test]
    fn other_types_and_small_inputs_use_arrow() {
        check(Arc::new(StringArray::from(vec!["a", "b", "c", "d"])), 3);
        check(Arc::new(Float64Array::from(vec![1.0, f64::NAN, 3.0])), 2);
    }
}
