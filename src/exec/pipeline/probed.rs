//! Collecting a pipeline whose last operator is a join's streaming probe (inner, left or
//! right), its output columns gathered straight into their final buffers.
//!
//! The probe's output height is known only once a morsel is probed, so the usual collection
//! kept every morsel's output piece (a fresh copy of the matched rows of both sides) and then
//! concatenated them: a second full copy of the join's output, and twice its memory at the
//! end. On db-benchmark's j1 (9M output rows) that concatenation and the page faults of both
//! copies were over half the time. Here each morsel keeps only its input piece (as the
//! operators before the probe left it) and its matched row positions; once every morsel is
//! probed the heights are known, each fixed-width output column is allocated once at its
//! final size, and every morsel gathers its values from its piece (or the build side) into
//! its own slot, in parallel; `Utf8` columns likewise (their offsets and bytes sized first).
//! Other columns (booleans, nested types) are picked per morsel as the probe picks them and
//! concatenated as before.
//!
//! The output is the probe's, value for value: the same rows in the same order (positions
//! come from the same `matched_pairs`), the same validity (a missing build row is null).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, SchemaRef};
use rayon::prelude::*;

use super::{Carry, Running};
use crate::error::{Error, Result};
use crate::exec::join::{pairs_give_output, pick, probe_pairs, BuiltSide};
use crate::frame::{
    fixed_width, gather_strings, gather_values, join_nulls, write_values, ColumnBuffer, DataFrame,
};
use crate::memory::{array_bytes, frame_bytes, Reservation};
use crate::physical::{JoinSpec, Side, StreamOp};
use crate::plan::JoinColumn;

/// A probed piece: the columns of the probe's input rows (each let go once the output has
/// taken what it needs of it), and the positions of its output rows in them (`None`: every
/// row once, in order) and in the build side.
struct Probed {
    cols: Vec<Option<ArrayRef>>,
    o: Option<Vec<u32>>,
    t: Vec<u32>,
}

impl Probed {
    fn bytes(&self) -> usize {
        let cols: usize = self.cols.iter().flatten().map(array_bytes).sum();
        cols + 4 * (self.o.as_ref().map_or(0, Vec::len) + self.t.len())
    }
}

/// Where an output column comes from: the probed pieces' column or the build side's.
#[derive(Clone, Copy)]
enum From {
    Piece(usize),
    Built(usize),
}

impl Running<'_> {
    /// The streaming probe ending this pipeline and its build side, when its output can be
    /// gathered from positions ([`collect_probed`](Self::collect_probed)).
    pub(super) fn gathered_probe(&self) -> Option<(Arc<JoinSpec>, Arc<BuiltSide>)> {
        if self.has_windows() {
            return None;
        }
        let (StreamOp::Probe(spec), _) = self.ops.last()? else {
            return None;
        };
        let built = self
            .ctx
            .builds
            .iter()
            .find(|(id, _)| *id == spec.id)
            .map(|(_, b)| b.clone())?;
        // Any other spilled join in the pipeline made its source: leave that to `apply`.
        let other_spilled = self.ops.iter().any(|(op, _)| {
            matches!(op, StreamOp::Probe(s) if self.ctx.builds.iter().any(|(id, b)| *id == s.id && b.is_spilled()))
        });
        (pairs_give_output(spec, &built) && !other_spilled).then(|| (spec.clone(), built))
    }

    /// Run every morsel up to the probe, probe it into positions, then gather the output
    /// columns into their final buffers; everything held is reserved from `memory` first.
    pub(super) fn collect_probed(
        mut self,
        spec: &JoinSpec,
        built: &BuiltSide,
        memory: &Reservation,
    ) -> Result<DataFrame> {
        let schema = self.schema();
        let base = memory.size();
        self.ops = &self.ops[..self.ops.len() - 1];
        let params = self.params();
        let parts = self.run_morsels(
            0..self.num_morsels(),
            &mut Carry::default(),
            false,
            &|_| Ok(vec![]),
            &|out: &mut Vec<Probed>, piece, _| {
                let (o, t) = probe_pairs(spec, built, &piece, params)?;
                let cols = piece.columns().iter().cloned().map(Some).collect();
                let p = Probed { cols, o, t };
                memory.try_grow(p.bytes())?;
                out.push(p);
                Ok(())
            },
        )?;
        let mut probed: Vec<Probed> = parts.into_iter().flatten().collect();
        let out = gather(spec, built, &schema, &mut probed, memory)?;
        drop(probed);
        memory.try_resize(base + frame_bytes(&out))?;
        Ok(out)
    }
}

/// The join's output columns (`schema`, in the layout's order) from the probed pieces.
fn gather(
    spec: &JoinSpec,
    built: &BuiltSide,
    schema: &SchemaRef,
    probed: &mut [Probed],
    memory: &Reservation,
) -> Result<DataFrame> {
    let heights: Vec<usize> = probed.iter().map(|p| p.t.len()).collect();
    let total: usize = heights.iter().sum();
    if schema.fields().is_empty() {
        return Ok(DataFrame::with_height(total));
    }
    let froms = spec
        .layout
        .columns
        .iter()
        .map(|c| match (c, spec.order_side()) {
            (JoinColumn::Left(i), Side::Left) | (JoinColumn::Right(i), Side::Right) => {
                Ok(From::Piece(*i))
            }
            (JoinColumn::Left(j), Side::Right) | (JoinColumn::Right(j), Side::Left) => {
                Ok(From::Built(*j))
            }
            (JoinColumn::Coalesced { .. }, _) => Err(Error::Internal(
                "a coalesced join key in a streaming probe".into(),
            )),
        })
        .collect::<Result<Vec<From>>>()?;
    let source_type = |from: &From| match *from {
        From::Piece(i) => probed
            .first()
            .and_then(|p| p.cols.get(i)?.as_ref())
            .map(|c| c.data_type().clone()),
        From::Built(j) => built
            .frame()
            .columns()
            .get(j)
            .map(|c| c.data_type().clone()),
    };
    let types: Vec<Option<arrow::datatypes::DataType>> = froms.iter().map(source_type).collect();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(froms.len());
    for (c, (&from, field)) in froms.iter().zip(schema.fields()).enumerate() {
        let width =
            fixed_width(field.data_type()).filter(|_| types[c].as_ref() == Some(field.data_type()));
        let column = match width {
            Some(w) if !probed.is_empty() => {
                memory.try_grow(w * total)?;
                gather_fixed(built, probed, from, field.data_type(), w, &heights, total)?
            }
            _ if *field.data_type() == DataType::Utf8
                && types[c].as_ref() == Some(field.data_type()) =>
            {
                gather_utf8(built, probed, from, memory)?
            }
            _ => picked(built, probed, from, field.data_type(), memory)?,
        };
        columns.push(column);
        // A probe-side column no later output column reads is let go (and its reservation
        // with it): the output's columns take its place one by one.
        if let From::Piece(i) = from {
            if !froms[c + 1..]
                .iter()
                .any(|f| matches!(f, From::Piece(j) if *j == i))
            {
                let freed: usize = probed
                    .iter_mut()
                    .filter_map(|p| p.cols.get_mut(i)?.take())
                    .map(|a| array_bytes(&a))
                    .sum();
                memory.shrink(freed);
            }
        }
    }
    crate::exec::frame_of_types(schema, columns)
}

/// One column of column `from`, of fixed width `w`: allocated once, each piece's values
/// written into its slot in parallel.
fn gather_fixed(
    built: &BuiltSide,
    probed: &[Probed],
    from: From,
    dt: &arrow::datatypes::DataType,
    w: usize,
    heights: &[usize],
    total: usize,
) -> Result<ArrayRef> {
    let mut buffer = ColumnBuffer::new(total, w);
    let nulls = buffer
        .slots(heights.iter().copied())
        .into_par_iter()
        .zip(probed.par_iter())
        .map(|(slot, p)| {
            let (c, idx) = source(built, p, from)?;
            match idx {
                Some(idx) => gather_values(slot, c.as_ref(), w, idx),
                None => {
                    write_values(slot, c.as_ref(), w)?;
                    Ok(c.logical_nulls())
                }
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let nulls = join_nulls(heights.iter().copied().zip(nulls), total);
    // SAFETY: the slots have the pieces' output heights, which sum to `total`, so they tile
    // the buffer, and each was written in full (`gather_values` and `write_values` fail
    // unless the slot is exactly their values' size).
    unsafe { buffer.finish(dt, nulls) }
}

/// One `Utf8` column of column `from`, gathered into its final offsets and bytes.
fn gather_utf8(
    built: &BuiltSide,
    probed: &[Probed],
    from: From,
    memory: &Reservation,
) -> Result<ArrayRef> {
    let parts = probed
        .iter()
        .map(|p| {
            let (c, idx) = source(built, p, from)?;
            let s = c
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .ok_or_else(|| Error::Internal("a Utf8 column that is no StringArray".into()))?;
            Ok((s, idx))
        })
        .collect::<Result<Vec<_>>>()?;
    if parts.is_empty() {
        return Ok(arrow::array::new_empty_array(&DataType::Utf8));
    }
    gather_strings(&parts, &|bytes| memory.try_grow(bytes))
}

/// One column of column `from` picked piece by piece as the probe picks it, then
/// concatenated (types without a fixed width).
fn picked(
    built: &BuiltSide,
    probed: &[Probed],
    from: From,
    dt: &arrow::datatypes::DataType,
    memory: &Reservation,
) -> Result<ArrayRef> {
    let pieces = probed
        .par_iter()
        .map(|p| {
            let (c, idx) = source(built, p, from)?;
            let a = pick(c, idx, matches!(from, From::Piece(_)))?;
            memory.try_grow(array_bytes(&a))?;
            Ok(a)
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    if pieces.is_empty() {
        return Ok(arrow::array::new_empty_array(dt));
    }
    let refs: Vec<&dyn Array> = pieces.iter().map(|a| a.as_ref()).collect();
    crate::frame::concat_arrays(&refs)
}

/// The column `from` reads in piece `p` and the positions it reads at (`None`: all, in
/// order).
fn source<'p>(
    built: &'p BuiltSide,
    p: &'p Probed,
    from: From,
) -> Result<(&'p ArrayRef, Option<&'p [u32]>)> {
    let missing = || Error::Internal("a join output column past its side's columns".into());
    Ok(match from {
        From::Piece(i) => (
            p.cols.get(i).and_then(Option::as_ref).ok_or_else(missing)?,
            p.o.as_deref(),
        ),
        From::Built(j) => (
            built.frame().columns().get(j).ok_or_else(missing)?,
            Some(&p.t[..]),
        ),
    })
}
