//! Collecting a pipeline whose morsel heights are known before it runs (no filter changes
//! them): every fixed-width output column is allocated once at its final size, and each piece
//! copies its values into its own slot as soon as it is computed, while they are still in
//! cache. Without this, all pieces were kept until the end and then concatenated: a second
//! full read and write of every output column (a third of a 10M-row `min_max_scale`).
//!
//! Columns without a fixed width (strings, booleans) keep their pieces and are concatenated
//! as before. Over a frame in memory, a column that every operator passes through unchanged
//! (`with_columns` leaves it alone, `select` names it) is not copied at all: the output shares
//! the input's array, as Polars does.

use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{make_array, Array, ArrayData, ArrayRef};
use arrow::buffer::{Buffer, MutableBuffer, NullBuffer};
use arrow::datatypes::{DataType, SchemaRef};
use rayon::prelude::*;

use super::Pipeline;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// A column's destination buffer, shared by the threads that fill disjoint slots of it.
#[derive(Clone, Copy)]
struct Dest {
    ptr: *mut u8,
    width: usize,
}

// SAFETY: a `Dest` is only written through `write_slot`, at byte ranges that the morsel
// offsets make disjoint between threads; the buffer outlives the parallel section.
unsafe impl Send for Dest {}
// SAFETY: as above: no two threads write the same bytes, and nothing reads them until every
// thread has finished.
unsafe impl Sync for Dest {}

/// What a piece keeps of a column after its values went to the destination.
enum Kept {
    Nulls(Option<NullBuffer>),
    Array(ArrayRef),
}

/// Fixed-width types whose values are one plain buffer (booleans are bit-packed).
fn fixed_width(dt: &DataType) -> Option<usize> {
    match dt {
        DataType::Boolean => None,
        _ if dt.is_primitive() => dt.primitive_width(),
        _ => None,
    }
}

/// The column a plain reference (`col("a")`, possibly renamed) points at, by position.
fn plain_column(e: &crate::expr::Expr, input: &SchemaRef) -> Option<usize> {
    use crate::expr::Expr;
    match e {
        Expr::Column(name) => input.index_of(name).ok(),
        Expr::Alias(inner, _) => plain_column(inner, input),
        _ => None,
    }
}

impl Pipeline {
    /// For each output column, the source column it is an unchanged copy of, if any.
    fn passthrough(&self) -> Vec<Option<usize>> {
        use super::Op;
        let mut schema = self.source.schema();
        let mut map: Vec<Option<usize>> = (0..schema.fields().len()).map(Some).collect();
        for (op, out) in &self.ops {
            map = match op {
                Op::Select(exprs) => exprs
                    .iter()
                    .map(|e| plain_column(e, &schema).and_then(|j| map.get(j).copied().flatten()))
                    .collect(),
                Op::WithColumns(exprs) => {
                    let mut next: Vec<Option<usize>> = out
                        .fields()
                        .iter()
                        .map(|f| schema.index_of(f.name()).ok().and_then(|j| map[j]))
                        .collect();
                    for e in exprs {
                        if let Ok(i) = out.index_of(&e.output_name()) {
                            next[i] = plain_column(e, &schema)
                                .and_then(|j| map.get(j).copied().flatten());
                        }
                    }
                    next
                }
                // Filters change rows; slots are not used with them.
                Op::Filter(_) | Op::FilterKeep(..) => vec![None; out.fields().len()],
            };
            schema = out.clone();
        }
        // Only a type-preserving reference shares the array.
        let source = self.source.schema();
        map.iter()
            .zip(schema.fields())
            .map(|(m, f)| m.filter(|&j| source.field(j).data_type() == f.data_type()))
            .collect()
    }

    /// Rows of every morsel after the operators, when no operator changes them and the source
    /// knows them before decoding.
    pub(super) fn known_heights(&self) -> Option<Vec<usize>> {
        use super::Op;
        if self
            .ops
            .iter()
            .any(|(op, _)| matches!(op, Op::Filter(_) | Op::FilterKeep(..)))
        {
            return None;
        }
        (0..self.source.num_morsels())
            .map(|i| self.source.morsel_rows(i))
            .collect()
    }

    /// Run every morsel and write its pieces straight into the output columns.
    pub(super) fn collect_into_slots(
        &self,
        schema: SchemaRef,
        heights: &[usize],
    ) -> Result<DataFrame> {
        let total: usize = heights.iter().sum();
        let mut starts = Vec::with_capacity(heights.len());
        let mut at = 0;
        for h in heights {
            starts.push(at);
            at += h;
        }
        // Columns shared with an in-memory input, whatever their type.
        let shared: Vec<Option<ArrayRef>> = match &self.source {
            super::Source::Frame(df) => self
                .passthrough()
                .into_iter()
                .map(|j| j.map(|j| df.columns()[j].clone()))
                .collect(),
            super::Source::Morsels(_) => vec![None; schema.fields().len()],
        };
        let widths: Vec<Option<usize>> = schema
            .fields()
            .iter()
            .zip(&shared)
            .map(|(f, s)| {
                if s.is_some() {
                    None
                } else {
                    fixed_width(f.data_type())
                }
            })
            .collect();
        let mut buffers: Vec<Option<MutableBuffer>> = widths
            .iter()
            .map(|w| w.map(|w| MutableBuffer::with_capacity(total * w)))
            .collect();
        let dests: Vec<Option<Dest>> = buffers
            .iter_mut()
            .zip(&widths)
            .map(|(b, w)| match (b, w) {
                (Some(b), Some(w)) => Some(Dest {
                    ptr: b.as_mut_ptr(),
                    width: *w,
                }),
                _ => None,
            })
            .collect();
        let n = heights.len();
        let done = AtomicUsize::new(0);
        let parts: Vec<Vec<(usize, Vec<Kept>)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut kept = vec![];
                let mut row = 0usize;
                self.for_each_output(i, &mut |piece| {
                    let h = piece.height();
                    if row + h > heights[i] || piece.width() != dests.len() {
                        return Err(Error::Internal(format!(
                            "morsel {i} produced more rows than its known {}",
                            heights[i]
                        )));
                    }
                    let cols = piece
                        .columns()
                        .iter()
                        .zip(dests.iter().zip(&shared))
                        .map(|(c, (d, s))| match (d, s) {
                            (_, Some(_)) => Ok(Kept::Nulls(None)),
                            (Some(d), None) => {
                                write_slot(*d, starts[i] + row, c)?;
                                Ok(Kept::Nulls(c.logical_nulls()))
                            }
                            (None, None) => Ok(Kept::Array(c.clone())),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    kept.push((h, cols));
                    row += h;
                    Ok(())
                })?;
                if row != heights[i] {
                    return Err(Error::Internal(format!(
                        "morsel {i} produced {row} rows, not its known {}",
                        heights[i]
                    )));
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                crate::exec::pool::report_progress(d, n);
                Ok(kept)
            })
            .collect::<Result<_>>()?;
        let pieces: Vec<(usize, Vec<Kept>)> = parts.into_iter().flatten().collect();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for (c, (field, buffer)) in schema.fields().iter().zip(buffers).enumerate() {
            if let Some(a) = &shared[c] {
                columns.push(a.clone());
                continue;
            }
            let column = match buffer {
                Some(mut buffer) => {
                    let width = widths[c].unwrap_or(0);
                    // SAFETY: every morsel wrote exactly `heights[i]` rows (checked above)
                    // into its slot `starts[i]..starts[i] + heights[i]`; the slots tile
                    // `0..total`, so all `total * width` bytes are initialized.
                    unsafe { buffer.set_len(total * width) };
                    let nulls = join_nulls(&pieces, c, total);
                    let data = ArrayData::builder(field.data_type().clone())
                        .len(total)
                        .add_buffer(Buffer::from(buffer))
                        .nulls(nulls)
                        .build()?;
                    make_array(data)
                }
                None => {
                    let arrays: Vec<&dyn Array> = pieces
                        .iter()
                        .filter_map(|(_, cols)| match &cols[c] {
                            Kept::Array(a) => Some(a.as_ref()),
                            Kept::Nulls(_) => None,
                        })
                        .collect();
                    if arrays.is_empty() {
                        arrow::array::new_empty_array(field.data_type())
                    } else {
                        crate::frame::concat_arrays(&arrays)?
                    }
                }
            };
            columns.push(column);
        }
        DataFrame::from_arrays(schema, columns)
    }
}

/// Copy `array`'s values into rows `row..row + array.len()` of `dest`.
fn write_slot(dest: Dest, row: usize, array: &ArrayRef) -> Result<()> {
    let data = array.to_data();
    let values = data
        .buffers()
        .first()
        .ok_or_else(|| Error::Internal("fixed-width column without a value buffer".into()))?;
    let w = dest.width;
    let bytes = values
        .as_slice()
        .get(data.offset() * w..(data.offset() + data.len()) * w)
        .ok_or_else(|| Error::Internal("column shorter than its length".into()))?;
    // SAFETY: the caller checked that `row + len` stays within the morsel's slot, which lies
    // inside the buffer's capacity (`total * w` bytes); slots of different pieces and morsels
    // are disjoint, and `bytes` is a separate, live allocation.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), dest.ptr.add(row * w), bytes.len());
    }
    Ok(())
}

/// The validity of column `c` over all pieces, or `None` when every value is valid.
fn join_nulls(pieces: &[(usize, Vec<Kept>)], c: usize, total: usize) -> Option<NullBuffer> {
    let nulls = |cols: &Vec<Kept>| match &cols[c] {
        Kept::Nulls(n) => n.clone(),
        Kept::Array(a) => a.logical_nulls(),
    };
    if pieces.iter().all(|(_, cols)| nulls(cols).is_none()) {
        return None;
    }
    let mut bits = arrow::array::BooleanBufferBuilder::new(total);
    for (h, cols) in pieces {
        match nulls(cols) {
            Some(n) => bits.append_buffer(n.inner()),
            None => bits.append_n(*h, true),
        }
    }
    Some(NullBuffer::new(bits.finish()))
}

#[cfg(test)]
mod tests {
    use crate::expr::col;
    use crate::frame::{Column, DataFrame};
    use crate::plan::ExecOptions;

    #[test]
    fn slots_give_the_same_frame_as_concatenation() {
        let n = 200_003usize;
        let df = DataFrame::new(vec![
            Column::new(
                "x",
                (0..n)
                    .map(|i| (i % 11 != 5).then_some(i as f64 * 0.25))
                    .collect::<Vec<_>>(),
            ),
            Column::new("k", (0..n as i64).collect::<Vec<_>>()),
            Column::new(
                "s",
                (0..n).map(|i| format!("r{}", i % 5)).collect::<Vec<_>>(),
            ),
        ])
        .expect("frame");
        let lf = df
            .clone()
            .lazy()
            .with_columns([(col("x") * 2.0).alias("x2"), col("k").gt(7).alias("big")]);
        for threads in [1, 2, 3] {
            let got = lf
                .clone()
                .collect_with(&ExecOptions::new().threads(threads))
                .expect("collect");
            assert_eq!(got.height(), n);
            let x = got.column_f64("x").expect("x");
            let x2 = got.column_f64("x2").expect("x2");
            for i in [0, 5, 65_535, 65_536, 131_077, n - 1] {
                assert_eq!(x2[i], x[i].map(|v| v * 2.0), "row {i}");
            }
            // The untouched columns come back value for value.
            let original = df.clone().lazy().collect().expect("plain");
            for name in ["x", "k", "s"] {
                assert_eq!(
                    got.column(name).expect(name).to_data(),
                    original.column(name).expect(name).to_data(),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn untouched_columns_of_a_frame_are_shared_not_copied() {
        let n = 150_000usize;
        let df = DataFrame::new(vec![
            Column::new("x", (0..n).map(|i| i as f64).collect::<Vec<_>>()),
            Column::new("k", (0..n as i64).collect::<Vec<_>>()),
        ])
        .expect("frame");
        let values_ptr = |a: &arrow::array::ArrayRef| a.to_data().buffers()[0].as_ptr();
        let x_in = values_ptr(df.column("x").expect("x"));
        let k_in = values_ptr(df.column("k").expect("k"));
        let out = df
            .clone()
            .lazy()
            .with_columns([(col("x") + 1.0).alias("x1"), (col("k") * 2).alias("k")])
            .select([col("x").alias("renamed"), col("x1"), col("k")])
            .collect()
            .expect("collect");
        assert_eq!(values_ptr(out.column("renamed").expect("renamed")), x_in);
        // Computed and overwritten columns are new arrays with the right values.
        assert_ne!(values_ptr(out.column("k").expect("k")), k_in);
        assert_eq!(out.column_f64("x1").expect("x1")[n - 1], Some(n as f64));
        let k = out.column("k").expect("k");
        let k = k
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("i64");
        assert_eq!(k.value(n - 1), 2 * (n as i64 - 1));
    }
}
