//! Concatenation of column pieces into one contiguous array, in parallel, and the column
//! buffer it shares with the pipeline's slot writer.
//!
//! A pipeline hands back its output as 64K-row pieces; `collect()` joins them into one array
//! per column. Arrow's `concat` does that on one thread, so on a 10M-row column it was the
//! single largest step of an elementwise query (half of `min_max_scale`'s time). Here the
//! output buffer is allocated once and every piece copies its values' bytes into its own slot
//! of it on the rayon pool. Fixed-width columns (any primitive type but booleans, which are
//! bit-packed) take this path; other types and small outputs use Arrow's `concat`.
//!
//! [`ColumnBuffer`] is that output buffer: uninitialized, handed out as disjoint slots, and
//! turned into an array once every slot is written. The pipeline uses it too, to write pieces
//! straight into their final place when morsel heights are known ahead (`exec::pipeline`'s
//! slots).

use std::mem::MaybeUninit;

use arrow::array::{make_array, Array, ArrayData, ArrayRef};
use arrow::buffer::{Buffer, NullBuffer};
use arrow::datatypes::DataType;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Below this many rows the copy is too small to be worth spreading over threads.
const PARALLEL_ROWS: usize = 1 << 18;

/// Bytes per value of a type whose values are one plain buffer (booleans are bit-packed).
pub(crate) fn fixed_width(dt: &DataType) -> Option<usize> {
    match dt {
        DataType::Boolean => None,
        _ if dt.is_primitive() => dt.primitive_width(),
        _ => None,
    }
}

/// An uninitialized column of `rows` values of `width` bytes, filled through disjoint slots.
///
/// Backed by 16-byte words from plain `malloc`, not by Arrow's 64-byte-aligned
/// `MutableBuffer`: glibc serves an over-aligned request with `memalign`, which leaves small
/// free gaps around the block. A worker's small allocation parked in such a gap kept the
/// freed column from being reused by the next query's identical request, so a process
/// running the same scan repeatedly grew its heap by a column per query (peak RSS 180 MB to
/// over 1 GB over 20 scans of two 76 MB columns, with page faults on every new block).
pub(crate) struct ColumnBuffer {
    buf: Vec<i128>,
    rows: usize,
    width: usize,
}

impl ColumnBuffer {
    pub(crate) fn new(rows: usize, width: usize) -> Self {
        let words = (rows * width).div_ceil(16);
        let mut buf: Vec<i128> = Vec::with_capacity(words);
        // The last word's bytes past the column are never written by a slot; they are set
        // here so that every word is initialized when `finish` takes them all.
        if let Some(last) = buf.spare_capacity_mut().get_mut(words.wrapping_sub(1)) {
            last.write(0);
        }
        Self { buf, rows, width }
    }

    /// The buffer cut into consecutive slots of `rows` rows each, in order.
    pub(crate) fn slots(
        &mut self,
        rows: impl IntoIterator<Item = usize>,
    ) -> Vec<&mut [MaybeUninit<u8>]> {
        let len = self.rows * self.width;
        // SAFETY: the buffer's capacity is at least `len` bytes (`len.div_ceil(16)` words,
        // allocated in `new`); viewing them as `MaybeUninit<u8>` makes no claim that they are
        // initialized, and the slice borrows `self` mutably, so nothing else touches the
        // buffer while it lives.
        let mut rest: &mut [MaybeUninit<u8>] = unsafe {
            std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast::<MaybeUninit<u8>>(), len)
        };
        let mut out = vec![];
        for r in rows {
            let mid = (r * self.width).min(rest.len());
            let (slot, tail) = std::mem::take(&mut rest).split_at_mut(mid);
            out.push(slot);
            rest = tail;
        }
        out
    }

    /// The written bytes as one buffer.
    ///
    /// # Safety
    /// As for [`finish`](Self::finish): every byte of the first `rows * width` written.
    pub(crate) unsafe fn into_buffer(mut self) -> Buffer {
        let len = self.rows * self.width;
        // SAFETY: as in `finish`.
        unsafe { self.buf.set_len(len.div_ceil(16)) };
        Buffer::from_vec(self.buf).slice_with_length(0, len)
    }

    /// The finished column of type `dt`.
    ///
    /// # Safety
    /// Every byte of the first `rows * width` must have been written through [`slots`]
    /// (slots that tile the buffer, each filled in full).
    ///
    /// [`slots`]: Self::slots
    pub(crate) unsafe fn finish(
        mut self,
        dt: &DataType,
        nulls: Option<NullBuffer>,
    ) -> Result<ArrayRef> {
        let len = self.rows * self.width;
        // SAFETY: the caller guarantees the first `len` bytes were written, and `new` wrote
        // the rest of the last word, so all `len.div_ceil(16)` words (within the capacity)
        // are initialized.
        unsafe { self.buf.set_len(len.div_ceil(16)) };
        let data = ArrayData::builder(dt.clone())
            .len(self.rows)
            .add_buffer(Buffer::from_vec(self.buf).slice_with_length(0, len))
            .nulls(nulls)
            .build()?;
        Ok(make_array(data))
    }
}

/// Copy the values of `array`, of a fixed-width type `width` bytes wide, into `slot`, which
/// must be exactly their size.
pub(crate) fn write_values(
    slot: &mut [MaybeUninit<u8>],
    array: &dyn Array,
    width: usize,
) -> Result<()> {
    let data = array.to_data();
    let values = data
        .buffers()
        .first()
        .ok_or_else(|| Error::Internal("fixed-width column without a value buffer".into()))?;
    let bytes = values
        .as_slice()
        .get(data.offset() * width..(data.offset() + data.len()) * width)
        .ok_or_else(|| Error::Internal("column shorter than its length".into()))?;
    if bytes.len() != slot.len() {
        return Err(Error::Internal(format!(
            "a slot of {} bytes for {} bytes of values",
            slot.len(),
            bytes.len()
        )));
    }
    // SAFETY: `slot` and `bytes` have the same length (checked above) and cannot overlap
    // (`slot` is borrowed mutably, `bytes` shared). (`write_copy_of_slice` says the same
    // without `unsafe`, but needs Rust 1.93; the crate supports 1.89.)
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), slot.as_mut_ptr().cast::<u8>(), bytes.len())
    };
    Ok(())
}

/// A row position [`gather_values`] writes as a null (a join's "no row on this side").
pub(crate) const NO_ROW: u32 = u32::MAX;

/// Copy the values of `array`, of a fixed-width type `width` bytes wide, at rows `idx` into
/// `slot` (exactly `idx.len()` values): a gather straight into a column's final buffer,
/// without an intermediate array. Rows [`NO_ROW`] are written as zeros and are null. Returns
/// the gathered values' validity (`None`: all valid).
pub(crate) fn gather_values(
    slot: &mut [MaybeUninit<u8>],
    array: &dyn Array,
    width: usize,
    idx: &[u32],
) -> Result<Option<NullBuffer>> {
    if slot.len() != idx.len() * width {
        return Err(Error::Internal(format!(
            "a slot of {} bytes for {} values of {width} bytes",
            slot.len(),
            idx.len()
        )));
    }
    let data = array.to_data();
    let values = data
        .buffers()
        .first()
        .and_then(|b| {
            b.as_slice()
                .get(data.offset() * width..(data.offset() + data.len()) * width)
        })
        .ok_or_else(|| Error::Internal("fixed-width column shorter than its length".into()))?;
    match width {
        1 => gather_n::<1>(slot, values, idx)?,
        2 => gather_n::<2>(slot, values, idx)?,
        4 => gather_n::<4>(slot, values, idx)?,
        8 => gather_n::<8>(slot, values, idx)?,
        16 => gather_n::<16>(slot, values, idx)?,
        32 => gather_n::<32>(slot, values, idx)?,
        _ => {
            return Err(Error::Internal(format!(
                "no gather for values of {width} bytes"
            )))
        }
    }
    let nulls = array.logical_nulls();
    if nulls.is_none() && !idx.contains(&NO_ROW) {
        return Ok(None);
    }
    let valid = arrow::buffer::BooleanBuffer::collect_bool(idx.len(), |k| {
        let i = idx[k];
        i != NO_ROW && nulls.as_ref().is_none_or(|n| n.is_valid(i as usize))
    });
    Ok(Some(NullBuffer::new(valid)))
}

/// [`gather_values`] for values of `W` bytes (a constant, so each copy is one load and one
/// store).
fn gather_n<const W: usize>(
    slot: &mut [MaybeUninit<u8>],
    values: &[u8],
    idx: &[u32],
) -> Result<()> {
    for (d, &i) in slot.chunks_exact_mut(W).zip(idx) {
        let v: [u8; W] = if i == NO_ROW {
            [0; W]
        } else {
            let at = i as usize * W;
            values
                .get(at..at + W)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| Error::Internal(format!("row {i} past a column's end")))?
        };
        for (d, b) in d.iter_mut().zip(v) {
            d.write(b);
        }
    }
    Ok(())
}

/// The validity of consecutive pieces of `rows` rows each (`None` for an all-valid piece), or
/// `None` when every value is valid.
pub(crate) fn join_nulls(
    pieces: impl Iterator<Item = (usize, Option<NullBuffer>)> + Clone,
    total: usize,
) -> Option<NullBuffer> {
    if pieces.clone().all(|(_, n)| n.is_none()) {
        return None;
    }
    let mut bits = arrow::array::BooleanBufferBuilder::new(total);
    for (rows, nulls) in pieces {
        match nulls {
            Some(n) => bits.append_buffer(n.inner()),
            None => bits.append_n(rows, true),
        }
    }
    Some(NullBuffer::new(bits.finish()))
}

/// `parts` (all of the same type) as one array.
pub(crate) fn concat(parts: &[&dyn Array]) -> Result<ArrayRef> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if parts.len() < 2 || total < PARALLEL_ROWS {
        return Ok(arrow::compute::concat(parts)?);
    }
    let dt = parts[0].data_type();
    if !parts.iter().all(|p| p.data_type() == dt) {
        // A type mismatch goes to Arrow, which reports it.
        return Ok(arrow::compute::concat(parts)?);
    }
    if *dt == DataType::Utf8 {
        return concat_strings(parts, total);
    }
    let width = match fixed_width(dt) {
        Some(w) => w,
        None => return Ok(arrow::compute::concat(parts)?),
    };
    let mut out = ColumnBuffer::new(total, width);
    out.slots(parts.iter().map(|p| p.len()))
        .into_par_iter()
        .zip(parts.par_iter())
        .try_for_each(|(slot, a)| write_values(slot, *a, width))?;
    let nulls = join_nulls(parts.iter().map(|p| (p.len(), p.logical_nulls())), total);
    // SAFETY: the slots have the parts' lengths, which sum to `total`, so they tile the
    // buffer, and `write_values` filled each one in full (it fails unless sizes match).
    unsafe { out.finish(dt, nulls) }
}

/// One `Utf8` column gathered from `parts` in order, each a string array and the rows it
/// gives (`None`: all, in order; [`NO_ROW`]: a null), written straight into the final offsets
/// and bytes, every part on its own thread: no array per part copied again at the end.
/// `reserve` is told the bytes of the column before they are allocated.
pub(crate) fn gather_strings(
    parts: &[(&arrow::array::StringArray, Option<&[u32]>)],
    reserve: &dyn Fn(usize) -> Result<()>,
) -> Result<ArrayRef> {
    let rows_of =
        |(a, idx): &(&arrow::array::StringArray, Option<&[u32]>)| idx.map_or(a.len(), <[u32]>::len);
    let heights: Vec<usize> = parts.iter().map(rows_of).collect();
    let total: usize = heights.iter().sum();
    // Each part's bytes: the lengths of the strings it gives.
    let sizes: Vec<usize> = parts
        .par_iter()
        .map(|(a, idx)| {
            let o = a.value_offsets();
            match idx {
                None => (o[a.len()] - o[0]) as usize,
                Some(idx) => idx
                    .iter()
                    .filter(|&&i| i != NO_ROW)
                    .map(|&i| (o[i as usize + 1] - o[i as usize]) as usize)
                    .sum(),
            }
        })
        .collect();
    let bytes: usize = sizes.iter().sum();
    let end = i32::try_from(bytes)
        .map_err(|_| Error::Internal(format!("{bytes} bytes of strings overflow a Utf8 column")))?;
    let mut starts = Vec::with_capacity(parts.len());
    let mut at = 0usize;
    for s in &sizes {
        starts.push(at);
        at += s;
    }
    reserve(bytes + 4 * (total + 1))?;
    let mut offsets = ColumnBuffer::new(total + 1, 4);
    let mut values = ColumnBuffer::new(bytes, 1);
    let mut offset_slots = offsets.slots(heights.iter().copied().chain([1]));
    let end_slot = offset_slots
        .pop()
        .ok_or_else(|| Error::Internal("no offsets slot".into()))?;
    let value_slots = values.slots(sizes.iter().copied());
    let nulls = offset_slots
        .into_par_iter()
        .zip(value_slots.into_par_iter())
        .zip(parts.par_iter().zip(&starts))
        .map(|((o_slot, v_slot), ((a, idx), start))| {
            let (o, data) = (a.value_offsets(), a.value_data());
            let mut next = *start;
            let mut put = 0usize;
            let mut one = |d: &mut [MaybeUninit<u8>], i: u32, v_slot: &mut [MaybeUninit<u8>]| {
                for (d, b) in d.iter_mut().zip((next as i32).to_le_bytes()) {
                    d.write(b);
                }
                if i != NO_ROW {
                    let (s, e) = (o[i as usize] as usize, o[i as usize + 1] as usize);
                    for (d, &b) in v_slot[put..put + e - s].iter_mut().zip(&data[s..e]) {
                        d.write(b);
                    }
                    put += e - s;
                    next += e - s;
                }
            };
            match idx {
                None => {
                    for (d, i) in o_slot.chunks_exact_mut(4).zip(0..a.len() as u32) {
                        one(d, i, v_slot);
                    }
                }
                Some(idx) => {
                    for (d, &i) in o_slot.chunks_exact_mut(4).zip(idx.iter()) {
                        one(d, i, v_slot);
                    }
                }
            }
            let src = a.logical_nulls();
            Ok(match idx {
                None => src,
                Some(idx) if src.is_none() && !idx.contains(&NO_ROW) => None,
                Some(idx) => Some(NullBuffer::new(arrow::buffer::BooleanBuffer::collect_bool(
                    idx.len(),
                    |k| {
                        let i = idx[k];
                        i != NO_ROW && src.as_ref().is_none_or(|n| n.is_valid(i as usize))
                    },
                ))),
            })
        })
        .collect::<Result<Vec<Option<NullBuffer>>>>()?;
    for (d, b) in end_slot.iter_mut().zip(end.to_le_bytes()) {
        d.write(b);
    }
    let nulls = join_nulls(heights.iter().copied().zip(nulls), total);
    // SAFETY: the offset slots have the parts' output rows plus one for the end offset, the
    // value slots the bytes of the strings each part gives (`sizes`, summed the way they are
    // copied): both tile their buffers, and every row wrote its offset and its bytes above.
    let (offsets, values) = unsafe { (offsets.into_buffer(), values.into_buffer()) };
    utf8_array(total, offsets, values, nulls)
}

/// `parts`, all `Utf8`, as one array: the offsets rebased and the string bytes copied into
/// their final place, every part on its own thread (Arrow's `concat` copies them on one, the
/// largest single step of collecting a join output with a string column).
fn concat_strings(parts: &[&dyn Array], total: usize) -> Result<ArrayRef> {
    let strings: Vec<&arrow::array::StringArray> = parts
        .iter()
        .map(|p| {
            p.as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .ok_or_else(|| Error::Internal("a Utf8 column that is no StringArray".into()))
        })
        .collect::<Result<_>>()?;
    // Each part's string bytes: from its first offset to its last.
    let spans: Vec<(usize, usize)> = strings
        .iter()
        .map(|a| {
            let o = a.value_offsets();
            (o[0] as usize, o[o.len() - 1] as usize)
        })
        .collect();
    let bytes: usize = spans.iter().map(|(a, b)| b - a).sum();
    if i32::try_from(bytes).is_err() {
        // Arrow reports the overflow.
        return Ok(arrow::compute::concat(parts)?);
    }
    let mut starts = Vec::with_capacity(parts.len());
    let mut at = 0usize;
    for (a, b) in &spans {
        starts.push(at);
        at += b - a;
    }
    // One offset per row, then the end offset, written by the last slot.
    let mut offsets = ColumnBuffer::new(total + 1, 4);
    let mut values = ColumnBuffer::new(bytes, 1);
    let heights = strings.iter().map(|a| a.len());
    let mut offset_slots = offsets.slots(heights.chain([1]));
    let end_slot = offset_slots
        .pop()
        .ok_or_else(|| Error::Internal("no offsets slot".into()))?;
    let value_slots = values.slots(spans.iter().map(|(a, b)| b - a));
    offset_slots
        .into_par_iter()
        .zip(value_slots.into_par_iter())
        .zip(strings.par_iter().zip(spans.par_iter().zip(&starts)))
        .for_each(|((o_slot, v_slot), (a, ((first, last), start)))| {
            let base = *start as i64 - *first as i64;
            for (d, &o) in o_slot.chunks_exact_mut(4).zip(a.value_offsets()) {
                let v = ((o as i64 + base) as i32).to_le_bytes();
                for (d, b) in d.iter_mut().zip(v) {
                    d.write(b);
                }
            }
            for (d, &b) in v_slot.iter_mut().zip(&a.value_data()[*first..*last]) {
                d.write(b);
            }
        });
    for (d, b) in end_slot.iter_mut().zip((bytes as i32).to_le_bytes()) {
        d.write(b);
    }
    let nulls = join_nulls(parts.iter().map(|p| (p.len(), p.logical_nulls())), total);
    // SAFETY: the offset slots have the parts' lengths plus one for the end offset, the
    // value slots the parts' byte spans: both tile their buffers, and every slot was written
    // in full above (a part of `len` rows has `len + 1` offsets, more than its slot's `len`;
    // the byte span copied has the slot's length).
    let (offsets, values) = unsafe { (offsets.into_buffer(), values.into_buffer()) };
    utf8_array(total, offsets, values, nulls)
}

/// A `Utf8` array of `total` rows from its finished offsets and string bytes.
fn utf8_array(
    total: usize,
    offsets: Buffer,
    values: Buffer,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let data = ArrayData::builder(DataType::Utf8)
        .len(total)
        .add_buffer(offsets)
        .add_buffer(values)
        .nulls(nulls)
        .build()?;
    Ok(make_array(data))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow::array::AsArray;
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

    /// `idx` as `take` indices, `NO_ROW` as a null (a row of nulls).
    fn missing_as_null(idx: &[u32]) -> arrow::array::UInt32Array {
        idx.iter().map(|&i| (i != NO_ROW).then_some(i)).collect()
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
        // Strings, with nulls, empty strings and parts that are slices of a larger array.
        let strings: StringArray = (0..n)
            .map(|i| (i % 5 != 2).then(|| "x".repeat(i % 4)))
            .collect();
        check(Arc::new(strings.slice(3, n - 10)), 65_000);
    }

    #[test]
    fn a_slot_must_match_the_values_it_receives() {
        let mut buf = ColumnBuffer::new(4, 8);
        let mut slots = buf.slots([3, 1]);
        let a = Int64Array::from(vec![1, 2]);
        assert!(write_values(slots[0], &a, 8).is_err());
        assert!(write_values(slots[1], &a.slice(0, 1), 8).is_ok());
        assert!(write_values(slots[0], &Int64Array::from(vec![7, 8, 9]), 8).is_ok());
        drop(slots);
        // SAFETY: the two slots tile the 4 rows and both were written in full above.
        let out = unsafe { buf.finish(&DataType::Int64, None) }.unwrap();
        assert_eq!(
            out.as_primitive::<arrow::datatypes::Int64Type>().values(),
            &[7, 8, 9, 1]
        );
    }

    #[test]
    fn gathered_values_equal_arrow_take_with_nulls_and_missing_rows() {
        let a = Int64Array::from(vec![Some(1), None, Some(3), Some(4), None]).slice(1, 4);
        let idx = vec![3, NO_ROW, 0, 1, 1, 2];
        let mut buf = ColumnBuffer::new(idx.len(), 8);
        let mut slots = buf.slots([idx.len()]);
        let nulls = gather_values(slots[0], &a, 8, &idx).expect("gather");
        drop(slots);
        // SAFETY: the one slot covers every row and was written in full above.
        let got = unsafe { buf.finish(&DataType::Int64, nulls) }.expect("finish");
        let want = arrow::compute::take(&a, &missing_as_null(&idx), None).expect("take");
        assert_eq!(got.to_data(), want.to_data());
        // All valid and every row present: no validity at all.
        let f = Float64Array::from(vec![0.5, f64::NAN]);
        let mut buf = ColumnBuffer::new(3, 8);
        let mut slots = buf.slots([3]);
        assert!(gather_values(slots[0], &f, 8, &[1, 0, 1])
            .expect("gather")
            .is_none());
        // A row past the end is an error, not a read out of bounds.
        assert!(gather_values(slots[0], &f, 8, &[0, 2, 0]).is_err());
        assert!(gather_values(slots[0], &f, 8, &[0]).is_err());
    }

    #[test]
    fn gathered_strings_equal_arrow_take_and_concat() {
        let a: StringArray = (0..50)
            .map(|i| (i % 7 != 3).then(|| "ab".repeat(i % 5)))
            .collect();
        let (head, tail) = (a.slice(0, 20), a.slice(20, 30));
        let (head, tail) = (
            head.as_any().downcast_ref::<StringArray>().unwrap(),
            tail.as_any().downcast_ref::<StringArray>().unwrap(),
        );
        let idx: Vec<u32> = vec![29, NO_ROW, 0, 3, 3, 4, 28];
        let parts = [(head, None), (tail, Some(&idx[..])), (head, Some(&[][..]))];
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let got = gather_strings(&parts, &|b| {
            asked.fetch_add(b, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .expect("gather");
        let taken = arrow::compute::take(tail, &missing_as_null(&idx), None).expect("take");
        let want = arrow::compute::concat(&[head as &dyn Array, taken.as_ref()]).expect("concat");
        assert_eq!(got.to_data(), want.to_data());
        assert!(asked.into_inner() > 0);
        // No rows at all, and parts without nulls, give no validity.
        let plain = StringArray::from(vec!["x", "yz"]);
        let got = gather_strings(&[(&plain, Some(&[1, 1, 0][..]))], &|_| Ok(())).expect("gather");
        assert!(got.nulls().is_none());
        assert_eq!(got.as_string::<i32>().value(1), "yz");
    }

    #[test]
    fn other_types_and_small_inputs_use_arrow() {
        check(Arc::new(StringArray::from(vec!["a", "b", "c", "d"])), 3);
        check(Arc::new(Float64Array::from(vec![1.0, f64::NAN, 3.0])), 2);
    }
}
