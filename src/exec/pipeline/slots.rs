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

use std::sync::Mutex;

use std::mem::MaybeUninit;

use arrow::array::{Array, ArrayRef};
use arrow::buffer::NullBuffer;
use arrow::datatypes::SchemaRef;

use super::{Carry, Running};
use crate::error::{Error, Result};
use crate::frame::{fixed_width, join_nulls, write_values, ColumnBuffer, DataFrame};
use crate::memory::{array_bytes, Reservation};
use crate::physical::StreamOp;

/// One morsel's slot in every buffered column (`None` for columns not buffered).
type Slots<'b> = Vec<Option<&'b mut [MaybeUninit<u8>]>>;

/// A morsel's progress through its slots: what its pieces kept, and the rows written.
struct Filled<'b> {
    i: usize,
    dests: Slots<'b>,
    kept: Vec<(usize, Vec<Kept>)>,
    row: usize,
}

/// What a piece keeps of a column after its values went to the destination.
enum Kept {
    Nulls(Option<NullBuffer>),
    Array(ArrayRef),
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

impl Running<'_> {
    /// For each output column, the source column it is an unchanged copy of, if any.
    fn passthrough(&self) -> Vec<Option<usize>> {
        let mut schema = self.source.schema();
        let mut map: Vec<Option<usize>> = (0..schema.fields().len()).map(Some).collect();
        for (op, out) in self.ops {
            map = match op {
                StreamOp::Select(exprs) => exprs
                    .iter()
                    .map(|e| plain_column(e, &schema).and_then(|j| map.get(j).copied().flatten()))
                    .collect(),
                StreamOp::WithColumns(exprs) => {
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
                // Windows append their columns and pass the others through.
                StreamOp::Window { exprs, .. } => map
                    .iter()
                    .copied()
                    .chain(exprs.iter().map(|_| None))
                    .collect(),
                // Filters and joins change rows; slots are not used with them.
                StreamOp::Filter(_) | StreamOp::FilterKeep(..) | StreamOp::Probe(_) => {
                    vec![None; out.fields().len()]
                }
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
    pub(crate) fn known_heights(&self) -> Option<Vec<usize>> {
        if self.ops.iter().any(|(op, _)| op.changes_rows()) {
            return None;
        }
        (0..self.num_morsels())
            .map(|i| self.morsel_rows(i))
            .collect()
    }

    /// Run every morsel and write its pieces straight into the output columns.
    pub(super) fn collect_into_slots(
        &self,
        schema: SchemaRef,
        heights: &[usize],
        memory: &Reservation,
    ) -> Result<DataFrame> {
        let total: usize = heights.iter().sum();
        // Columns shared with an in-memory input, whatever their type.
        let shared: Vec<Option<ArrayRef>> = match self.source.frame() {
            Some(df) => self
                .passthrough()
                .into_iter()
                .map(|j| j.map(|j| df.columns()[j].clone()))
                .collect(),
            None => vec![None; schema.fields().len()],
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
        // The fixed-width columns are allocated now; the others grow piece by piece.
        memory.try_grow(widths.iter().flatten().map(|w| w * total).sum())?;
        let mut buffers: Vec<Option<ColumnBuffer>> = widths
            .iter()
            .map(|w| w.map(|w| ColumnBuffer::new(total, w)))
            .collect();
        // Each morsel's slot of every buffered column, morsel by morsel.
        let n = heights.len();
        let mut slots: Vec<Slots> = (0..n).map(|_| Vec::with_capacity(widths.len())).collect();
        for b in buffers.iter_mut() {
            match b {
                Some(b) => {
                    for (i, slot) in b.slots(heights.iter().copied()).into_iter().enumerate() {
                        slots[i].push(Some(slot));
                    }
                }
                None => slots.iter_mut().for_each(|m| m.push(None)),
            }
        }
        // Each morsel takes its slots when it starts (they are disjoint `&mut` borrows).
        let slots: Vec<Mutex<Option<Slots>>> =
            slots.into_iter().map(|s| Mutex::new(Some(s))).collect();
        let take = |i: usize| -> Result<Slots> {
            slots[i]
                .lock()
                .map_err(|_| Error::Internal("slot lock poisoned".into()))?
                .take()
                .ok_or_else(|| Error::Internal(format!("morsel {i} ran twice")))
        };
        let parts = self.run_morsels(
            0..n,
            &mut Carry::default(),
            false,
            &|i| {
                Ok(Filled {
                    i,
                    dests: take(i)?,
                    kept: vec![],
                    row: 0,
                })
            },
            &|m, piece, _| {
                let h = piece.height();
                if m.row + h > heights[m.i] || piece.width() != m.dests.len() {
                    return Err(Error::Internal(format!(
                        "morsel {} produced more rows than its known {}",
                        m.i, heights[m.i]
                    )));
                }
                let row = m.row;
                let kept_bytes: usize = piece
                    .columns()
                    .iter()
                    .zip(widths.iter().zip(&shared))
                    .map(|(c, (w, s))| match (w, s) {
                        (None, None) => array_bytes(c),
                        _ => 0,
                    })
                    .sum();
                memory.try_grow(kept_bytes)?;
                let cols = piece
                    .columns()
                    .iter()
                    .zip(m.dests.iter_mut().zip(widths.iter().zip(&shared)))
                    .map(|(c, (d, (w, s)))| match (d, w, s) {
                        (_, _, Some(_)) => Ok(Kept::Nulls(None)),
                        (Some(d), Some(w), None) => {
                            write_values(&mut d[row * w..(row + h) * w], c.as_ref(), *w)?;
                            Ok(Kept::Nulls(c.logical_nulls()))
                        }
                        _ => Ok(Kept::Array(c.clone())),
                    })
                    .collect::<Result<Vec<_>>>()?;
                m.kept.push((h, cols));
                m.row += h;
                Ok(())
            },
        )?;
        for m in &parts {
            if m.row != heights[m.i] {
                return Err(Error::Internal(format!(
                    "morsel {} produced {} rows, not its known {}",
                    m.i, m.row, heights[m.i]
                )));
            }
        }
        let parts: Vec<Vec<(usize, Vec<Kept>)>> = parts.into_iter().map(|m| m.kept).collect();
        let pieces: Vec<(usize, Vec<Kept>)> = parts.into_iter().flatten().collect();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for (c, (field, buffer)) in schema.fields().iter().zip(buffers).enumerate() {
            if let Some(a) = &shared[c] {
                columns.push(a.clone());
                continue;
            }
            let column = match buffer {
                Some(buffer) => {
                    let nulls = join_nulls(
                        pieces.iter().map(|(h, cols)| (*h, kept_nulls(&cols[c]))),
                        total,
                    );
                    // SAFETY: the morsels' slots tile the buffer (their heights sum to
                    // `total`), and every morsel wrote exactly `heights[i]` rows into its slot
                    // (checked above), each piece's rows in full (`write_values` fails
                    // otherwise).
                    unsafe { buffer.finish(field.data_type(), nulls)? }
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

/// What a piece left of a column: the validity of the values it wrote to a slot.
fn kept_nulls(k: &Kept) -> Option<NullBuffer> {
    match k {
        Kept::Nulls(n) => n.clone(),
        Kept::Array(a) => a.logical_nulls(),
    }
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
