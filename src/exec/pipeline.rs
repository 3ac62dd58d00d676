//! Running a pipeline: its source opened (`source.rs`: a file's morsels, a frame, pieces kept
//! by an earlier pass, a merge), every morsel decoded in pieces sized by bytes
//! ([`piece_rows`]) and each piece taken through the streaming operators while it is in
//! cache. The consumers here collect the output in morsel order or pull a slice of it;
//! aggregates and sinks drive the same morsel loop (`run_morsels`) from `exec::aggregate` and
//! `exec::sink`.

mod probed;
mod slots;
mod source;
mod windows;

pub(crate) use crate::memory::{piece_rows, PIECE_BYTES};
pub(crate) use source::{apply, Builds, Kept, Opened, SequentialSource, Through};

use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::BooleanArray;
use arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::Context;
use crate::error::Result;
use crate::frame::DataFrame;
use crate::memory::{frame_bytes, Reservation};
use crate::physical::StreamOp;

/// A pipeline ready to run: its opened source, its operators and the run's context (bound
/// parameters, progress).
pub(crate) struct Running<'a> {
    pub(crate) source: Opened,
    ops: &'a [(StreamOp, SchemaRef)],
    ctx: &'a Context,
    /// Morsels done so far, for the progress callback.
    done: AtomicUsize,
    /// Rows per piece (see [`piece_rows`]).
    pub(crate) piece_rows: usize,
    /// The source's schema: the first operator's expressions were typed with it.
    source_schema: SchemaRef,
}

/// A consumer's per-piece step: its state for the morsel, the piece, and the final filter's
/// mask when it asked for one.
pub(crate) type Consume<'c, P> =
    &'c (dyn Fn(&mut P, DataFrame, Option<BooleanArray>) -> Result<()> + Sync);

/// What a pipeline's window operators carry from one morsel to the next: for each `WINDOW`
/// operator, in order, the last rows of its input seen so far (`None` before the first).
#[derive(Default)]
pub(crate) struct Carry {
    tails: Vec<Option<DataFrame>>,
}

impl<'a> Running<'a> {
    pub(crate) fn new(source: Opened, ops: &'a [(StreamOp, SchemaRef)], ctx: &'a Context) -> Self {
        let source_schema = source.schema();
        let piece_rows = piece_rows(
            std::iter::once(source_schema.as_ref()).chain(ops.iter().map(|(_, s)| s.as_ref())),
        );
        Self {
            source,
            ops,
            ctx,
            done: AtomicUsize::new(0),
            piece_rows,
            source_schema,
        }
    }

    /// How many morsels the source has.
    pub(crate) fn num_morsels(&self) -> usize {
        self.source.num_morsels(self.piece_rows)
    }

    /// Rows of morsel `i` as the source gives them, when known before decoding.
    fn morsel_rows(&self, i: usize) -> Option<usize> {
        self.source.morsel_rows(i, self.piece_rows)
    }

    /// Morsel `i` of the source as pieces, handed to `f` in order.
    fn for_each_piece(&self, i: usize, f: &mut dyn FnMut(DataFrame) -> Result<()>) -> Result<()> {
        self.source.for_each_piece(i, self.piece_rows, f)
    }

    /// Whether a `WINDOW` operator makes morsels depend on the ones before them.
    pub(crate) fn has_windows(&self) -> bool {
        self.ops
            .iter()
            .any(|(op, _)| matches!(op, StreamOp::Window { .. }))
    }

    /// Run morsels `range` through the operators, in parallel, and hand each one's output
    /// pieces in order to `consume` (with `masked`, a final filter is left to the consumer:
    /// it gets the unfiltered piece and the mask), starting from `start(i)`; the per-morsel
    /// results come back in morsel order. `carry` holds the window operators' state from the
    /// morsels before `range` (ranges must come in row order when there are windows).
    pub(crate) fn run_morsels<P: Send>(
        &self,
        range: std::ops::Range<usize>,
        carry: &mut Carry,
        masked: bool,
        start: &(dyn Fn(usize) -> Result<P> + Sync),
        consume: Consume<P>,
    ) -> Result<Vec<P>> {
        if self.has_windows() {
            return windows::run_staged(self, range, carry, masked, start, consume);
        }
        if self.source.is_sequential() && range.len() > self.wave() {
            // A pool's width at a time, so a sequential source buffers at most one wave.
            let mut out = Vec::with_capacity(range.len());
            let mut next = range.start;
            while next < range.end {
                let end = (next + self.wave()).min(range.end);
                out.extend(self.run_morsels(next..end, carry, masked, start, consume)?);
                next = end;
            }
            return Ok(out);
        }
        // Each piece goes through the operators and the consumer while it is in cache.
        range
            .into_par_iter()
            .map(|i| {
                let mut p = start(i)?;
                self.for_each_piece(i, &mut |piece| {
                    self.deliver(self.ops, piece, masked, &mut |df, mask| {
                        consume(&mut p, df, mask)
                    })
                })?;
                self.report();
                Ok(p)
            })
            .collect()
    }

    /// Morsels per wave, for drivers that hold a bounded number at once: the pool's width.
    pub(crate) fn wave(&self) -> usize {
        rayon::current_num_threads().max(1)
    }

    /// Morsels `from..` as consecutive ranges of `width` (at least one morsel each): the waves
    /// a driver runs one after another through [`Running::run_morsels`], holding one wave's
    /// output at a time.
    pub(crate) fn waves(
        &self,
        from: usize,
        width: usize,
    ) -> impl Iterator<Item = std::ops::Range<usize>> {
        let (n, width) = (self.num_morsels(), width.max(1));
        (from..n).step_by(width).map(move |s| s..(s + width).min(n))
    }

    /// The parameters bound so far in this run.
    pub(crate) fn params(&self) -> &'a super::Params {
        &self.ctx.params
    }

    /// An empty reservation from the run's memory budget for `operator`.
    pub(crate) fn reserve(&self, operator: &str) -> crate::memory::Reservation {
        self.ctx.reserve(operator)
    }

    /// Whether every morsel can be run again from the start (a re-readable source, no
    /// windows): an operator that gives up holding its state can then start over.
    pub(crate) fn can_run_again(&self) -> bool {
        self.source.rereadable() && !self.has_windows()
    }

    /// The run's spill directory.
    pub(crate) fn spill_dir(&self) -> &super::spill::SpillDir {
        &self.ctx.spill
    }

    /// The opened source, once the pipeline is done with it (to read it again).
    pub(crate) fn into_source(self) -> Opened {
        self.source
    }

    /// The schema of the pipeline's output.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.ops
            .last()
            .map_or_else(|| self.source.schema(), |(_, s)| s.clone())
    }

    /// Apply `ops` (a prefix of the pipeline's operators, or all of them) to one piece.
    fn apply(&self, ops: &[(StreamOp, SchemaRef)], df: DataFrame) -> Result<DataFrame> {
        apply(
            &self.source_schema,
            ops,
            df,
            &self.ctx.params,
            &self.ctx.builds,
        )
    }

    /// Apply `ops` to a piece and hand the result to `f`. With `masked`, a final filter is
    /// left to `f`: it gets the piece as it was before that filter (only the columns it keeps)
    /// and the filter's mask, for consumers that read the selected rows in place.
    fn deliver(
        &self,
        ops: &[(StreamOp, SchemaRef)],
        piece: DataFrame,
        masked: bool,
        f: &mut dyn FnMut(DataFrame, Option<BooleanArray>) -> Result<()>,
    ) -> Result<()> {
        if masked {
            if let Some(((last @ (StreamOp::Filter(_) | StreamOp::FilterKeep(..)), schema), rest)) =
                ops.split_last()
            {
                let (kept, mask) =
                    source::filter_input(last, schema, &self.apply(rest, piece)?, self.params())?;
                return f(kept, Some(mask));
            }
        }
        f(self.apply(ops, piece)?, None)
    }

    /// Tell the run's progress callback that another morsel is done.
    fn report(&self) {
        let d = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.ctx.report_progress(d, self.num_morsels());
    }

    /// Morsels `range` in order, as pieces, each reserved from `memory` when given.
    pub(crate) fn pieces(
        &self,
        range: std::ops::Range<usize>,
        carry: &mut Carry,
        memory: Option<&Reservation>,
    ) -> Result<Vec<DataFrame>> {
        let parts = self.run_morsels(range, carry, false, &|_| Ok(vec![]), &|out, piece, _| {
            if let Some(m) = memory {
                m.try_grow(frame_bytes(&piece))?;
            }
            out.push(piece);
            Ok(())
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Run every morsel and concatenate the results in morsel order, reserving the output
    /// from `memory` before it is allocated (the caller holds the reservation as long as it
    /// holds the frame).
    pub(crate) fn collect(self, memory: &Reservation) -> Result<DataFrame> {
        let schema = self.schema();
        if let (Some(df), true) = (self.source.frame(), self.ops.is_empty()) {
            if let Opened::HeldFrame(_, held) = &self.source {
                // The frame's bytes move to the caller's reservation.
                memory.try_grow(held.free())?;
            }
            return Ok(df.clone());
        }
        if let Some((spec, built)) = self.gathered_probe() {
            return self.collect_probed(&spec, &built, memory);
        }
        if !schema.fields().is_empty() {
            if let Some(heights) = self.known_heights() {
                // One morsel of one piece is returned as it is (zero-copy for an IPC batch);
                // anything else is copied once, into its final place.
                if heights.len() > 1 || heights.first().is_some_and(|h| *h > self.piece_rows) {
                    return self.collect_into_slots(schema, &heights, memory);
                }
            }
        }
        let pieces = self.pieces(0..self.num_morsels(), &mut Carry::default(), Some(memory))?;
        concat_or_empty(&schema, &pieces, pieces.iter().map(DataFrame::height).sum())
    }

    /// Rows `offset..offset+len` (negative offset counts from the end), pulling only as many
    /// morsels as needed, a pool's width at a time; what it keeps is reserved from `memory`.
    pub(crate) fn slice(self, offset: i64, len: usize, memory: &Reservation) -> Result<DataFrame> {
        let schema = self.schema();
        let n = self.num_morsels();
        let wave = self.wave();
        let mut got: Vec<DataFrame> = vec![];
        let mut rows = 0usize;
        let mut carry = Carry::default();
        // Windows need the rows before: a tail is then found going forward, keeping the last
        // rows only.
        if offset < 0 && !self.has_windows() {
            let back = offset.unsigned_abs() as usize;
            let mut next = n;
            while next > 0 && rows < back {
                let start = next.saturating_sub(wave);
                let mut wave_parts = self.pieces(start..next, &mut carry, Some(memory))?;
                rows += wave_parts.iter().map(DataFrame::height).sum::<usize>();
                wave_parts.append(&mut got);
                got = wave_parts;
                next = start;
            }
            let all = concat_or_empty(&schema, &got, rows)?;
            let start = all.height().saturating_sub(back);
            return Ok(all.slice(start, len));
        }
        let back = (offset < 0).then(|| offset.unsigned_abs() as usize);
        let need = match back {
            Some(_) => usize::MAX,
            None => offset as usize + len,
        };
        let mut next = 0;
        while next < n && rows < need {
            let end = (next + wave).min(n);
            for p in self.pieces(next..end, &mut carry, Some(memory))? {
                rows += p.height();
                got.push(p);
            }
            if let Some(back) = back {
                // Keep only what the tail can still need.
                let mut keep = 0;
                let mut from = got.len();
                while from > 0 && keep < back {
                    from -= 1;
                    keep += got[from].height();
                }
                for p in got.drain(..from) {
                    memory.shrink(frame_bytes(&p));
                }
                rows = keep;
            }
            next = end;
        }
        let all = concat_or_empty(&schema, &got, rows)?;
        match back {
            Some(back) => Ok(all.slice(all.height().saturating_sub(back), len)),
            None => Ok(all.slice(offset as usize, len)),
        }
    }
}

fn concat_or_empty(schema: &SchemaRef, parts: &[DataFrame], rows: usize) -> Result<DataFrame> {
    if schema.fields().is_empty() {
        return Ok(DataFrame::with_height(rows));
    }
    if parts.is_empty() {
        return Ok(DataFrame::empty(schema.clone()));
    }
    DataFrame::vstack(schema.clone(), parts)
}
