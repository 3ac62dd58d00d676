//! A join side's input gathered whole (for the build side's table, or the side an ordering
//! join holds) without ever running it twice.
//!
//! A side that can spill is read a wave of morsels at a time, each wave reserved from the
//! budget as `HASH_JOIN` once it is read. When a wave does not fit, nothing is thrown away:
//! [`Collected::Over`] hands over the pieces read so far, morsel by morsel, with the pipeline
//! still open at the next morsel (and its window state), and the grace hash join
//! (`join::spill`) partitions first the held pieces, then the rest of the stream, numbering
//! each row by its position exactly as one run from the start would. A side that fits, but
//! whose table then does not, is partitioned from the frame in memory the same way.
//!
//! Two inputs skip the waves: a frame in memory with no operators over it (held as it is),
//! and a pipeline whose output columns are all fixed-width and whose morsel heights are known
//! before it runs. The latter is collected straight into its final columns (`Running::collect`),
//! once the budget is seen to hold them; if it does not, the stream is handed over before a
//! single morsel is read.

use arrow::datatypes::SchemaRef;

use crate::error::Result;
use crate::exec::pipeline::{Carry, Opened, Running};
use crate::exec::Context;
use crate::frame::{fixed_width, DataFrame};
use crate::memory::{frame_bytes, Reservation};
use crate::physical::StreamOp;

/// A join side's input, gathered.
pub(crate) enum Collected<'a> {
    /// Every row, as one frame, its bytes reserved.
    Whole(DataFrame, Reservation),
    /// The budget ran out: what was read so far, and the rest of the stream.
    Over(Rest<'a>),
}

/// A side's input that did not fit: the pieces of its first morsels, as read, and the pipeline
/// still open at the next one.
pub(crate) struct Rest<'a> {
    pub(super) running: Running<'a>,
    /// Pieces of morsels `0..next`, morsel by morsel.
    pub(super) held: Vec<Vec<DataFrame>>,
    /// The first morsel not read yet.
    pub(super) next: usize,
    /// The window operators' state after morsel `next - 1`.
    pub(super) carry: Carry,
    /// What `held` takes of the budget (as much as fitted).
    pub(super) memory: Reservation,
}

impl<'a> Rest<'a> {
    /// The whole stream of `source` through `ops`, none of it read yet.
    pub(crate) fn unread(
        source: Opened,
        ops: &'a [(StreamOp, SchemaRef)],
        ctx: &'a Context,
        memory: Reservation,
    ) -> Self {
        Self {
            running: Running::new(source, ops, ctx),
            held: vec![],
            next: 0,
            carry: Carry::default(),
            memory,
        }
    }

    /// The rows of `df`, a side already in memory, as a stream (slices of it), its bytes
    /// kept reserved in `memory` until it is partitioned.
    pub(crate) fn frame(df: DataFrame, ctx: &'a Context, memory: Reservation) -> Result<Self> {
        memory.try_resize(frame_bytes(&df))?;
        Ok(Self::unread(Opened::Frame(df), &[], ctx, memory))
    }
}

/// Gather `source` through `ops` into one frame, reserving it in `memory`. With `spills`, a
/// wave that does not fit hands the stream over ([`Collected::Over`]); without, the memory
/// error ends the query, as for any operator that holds data.
pub(crate) fn collect<'a>(
    source: Opened,
    ops: &'a [(StreamOp, SchemaRef)],
    ctx: &'a Context,
    memory: Reservation,
    spills: bool,
) -> Result<Collected<'a>> {
    if let (Some(df), true) = (source.frame(), ops.is_empty()) {
        let df = df.clone();
        let bytes = match &source {
            // The breaker that made the frame reserved it: the join holds it now.
            Opened::HeldFrame(_, held) => held.free(),
            _ => frame_bytes(&df),
        };
        return match memory.try_grow(bytes) {
            Ok(()) => Ok(Collected::Whole(df, memory)),
            Err(_) if spills => Ok(Collected::Over(Rest::unread(source, ops, ctx, memory))),
            Err(e) => Err(e),
        };
    }
    let running = Running::new(source, ops, ctx);
    if !spills {
        let df = running.collect(&memory)?;
        return Ok(Collected::Whole(df, memory));
    }
    if let Some(bytes) = slot_bytes(&running) {
        // Checked before anything is read: the collection reserves exactly this up front.
        if memory.try_grow(bytes).is_err() {
            return Ok(Collected::Over(Rest::unread(
                running.into_source(),
                ops,
                ctx,
                memory,
            )));
        }
        memory.shrink(bytes);
        let df = running.collect(&memory)?;
        return Ok(Collected::Whole(df, memory));
    }
    in_waves(running, memory)
}

/// The bytes `Running::collect` reserves before it reads anything, when that is all it
/// reserves: every output column fixed-width, the morsels' heights known, more than a piece.
fn slot_bytes(running: &Running) -> Option<usize> {
    let schema = running.schema();
    let widths: Option<Vec<usize>> = schema
        .fields()
        .iter()
        .map(|f| fixed_width(f.data_type()))
        .collect();
    let widths = widths.filter(|w| !w.is_empty())?;
    let heights = running.known_heights()?;
    if heights.len() < 2 && heights.first().is_none_or(|h| *h <= running.piece_rows) {
        return None;
    }
    let rows: usize = heights.iter().sum();
    Some(widths.iter().sum::<usize>() * rows)
}

/// Gather the stream a wave at a time, each wave reserved once it is read.
fn in_waves(running: Running, memory: Reservation) -> Result<Collected> {
    let schema = running.schema();
    let mut held: Vec<Vec<DataFrame>> = Vec::with_capacity(running.num_morsels());
    let mut carry = Carry::default();
    let mut next = 0;
    for wave in running.waves(0, running.wave()) {
        next = wave.end;
        let parts = running.run_morsels(
            wave,
            &mut carry,
            false,
            &|_| Ok(vec![]),
            &|out: &mut Vec<DataFrame>, piece, _| {
                out.push(piece);
                Ok(())
            },
        )?;
        let bytes: usize = parts.iter().flatten().map(frame_bytes).sum();
        held.extend(parts);
        if memory.try_grow(bytes).is_err() {
            return Ok(Collected::Over(Rest {
                running,
                held,
                next,
                carry,
                memory,
            }));
        }
    }
    let pieces: Vec<DataFrame> = held.iter().flatten().cloned().collect();
    let rows: usize = pieces.iter().map(DataFrame::height).sum();
    if schema.fields().is_empty() {
        return Ok(Collected::Whole(DataFrame::with_height(rows), memory));
    }
    if pieces.is_empty() {
        return Ok(Collected::Whole(DataFrame::empty(schema), memory));
    }
    // The copy into one frame, while the pieces are still held.
    let bytes = memory.size();
    if pieces.len() > 1 && memory.try_grow(bytes).is_err() {
        return Ok(Collected::Over(Rest {
            running,
            held,
            next,
            carry,
            memory,
        }));
    }
    let df = DataFrame::vstack(schema, &pieces)?;
    drop(pieces);
    drop(held);
    memory.try_resize(bytes)?;
    Ok(Collected::Whole(df, memory))
}
