//! Running a pipeline: its source opened (a file's morsels, or a frame cut into 64K-row
//! morsels), every morsel decoded in pieces of at most [`MORSEL_ROWS`] rows and each piece
//! taken through the streaming operators while it is in cache. The consumers here collect the
//! output in morsel order or pull a slice of it; aggregates drive the same morsel loop from
//! `exec::aggregate`.

mod slots;
mod windows;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::eval::{evaluate, evaluate_array, evaluate_mask, filter_frame};
use super::{Context, MORSEL_ROWS};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::io::MorselSource;
use crate::physical::StreamOp;

/// A pipeline's source, opened.
pub(crate) enum Opened {
    /// A file's morsels, decoded on demand.
    Morsels(Arc<dyn MorselSource>),
    /// A frame in memory, cut into fixed 64K-row morsels (zero-copy slices).
    Frame(DataFrame),
}

impl Opened {
    fn schema(&self) -> SchemaRef {
        match self {
            Opened::Morsels(m) => m.schema(),
            Opened::Frame(df) => df.schema().clone(),
        }
    }

    pub(crate) fn num_morsels(&self) -> usize {
        match self {
            Opened::Morsels(m) => m.num_morsels(),
            Opened::Frame(df) => df.height().div_ceil(MORSEL_ROWS),
        }
    }

    /// Rows of morsel `i`, when known before decoding it.
    fn morsel_rows(&self, i: usize) -> Option<usize> {
        match self {
            Opened::Morsels(m) => m.morsel_rows(i),
            Opened::Frame(df) => Some(MORSEL_ROWS.min(df.height().saturating_sub(i * MORSEL_ROWS))),
        }
    }

    /// Morsel `i` as pieces of at most `MORSEL_ROWS` rows, handed to `f` in order.
    fn for_each_piece(&self, i: usize, f: &mut dyn FnMut(DataFrame) -> Result<()>) -> Result<()> {
        match self {
            Opened::Morsels(m) => m.for_each_piece(i, MORSEL_ROWS, f),
            // Frame morsels are one piece already.
            Opened::Frame(df) => f(df.slice(i * MORSEL_ROWS, MORSEL_ROWS)),
        }
    }
}

/// A pipeline ready to run: its opened source, its operators and the run's context (bound
/// parameters, progress).
pub(crate) struct Running<'a> {
    pub(crate) source: Opened,
    ops: &'a [(StreamOp, SchemaRef)],
    ctx: &'a Context,
    /// Morsels done so far, for the progress callback.
    done: AtomicUsize,
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
        Self {
            source,
            ops,
            ctx,
            done: AtomicUsize::new(0),
        }
    }

    /// Whether a `WINDOW` operator makes morsels depend on the ones before them.
    fn has_windows(&self) -> bool {
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
        // Each piece goes through the operators and the consumer while it is in cache.
        range
            .into_par_iter()
            .map(|i| {
                let mut p = start(i)?;
                self.source.for_each_piece(i, &mut |piece| {
                    self.deliver(self.ops, piece, masked, &mut |df, mask| {
                        consume(&mut p, df, mask)
                    })
                })?;
                self.report();
                Ok(p)
            })
            .collect()
    }

    /// The parameters bound so far in this run.
    pub(crate) fn params(&self) -> &'a super::Params {
        &self.ctx.params
    }

    /// An empty reservation from the run's memory budget for `operator`.
    #[allow(dead_code)]
    pub(crate) fn reserve(&self, operator: &str) -> super::memory::Reservation {
        self.ctx.reserve(operator)
    }

    /// The schema of the pipeline's output.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.ops
            .last()
            .map_or_else(|| self.source.schema(), |(_, s)| s.clone())
    }

    /// Apply `ops` (a prefix of the pipeline's operators, or all of them) to one piece.
    fn apply(&self, ops: &[(StreamOp, SchemaRef)], mut df: DataFrame) -> Result<DataFrame> {
        let params = &self.ctx.params;
        for (op, schema) in ops {
            df = match op {
                StreamOp::Filter(_) | StreamOp::FilterKeep(..) => {
                    let (kept, mask) = self.filter_input(op, schema, &df)?;
                    filter_frame(&kept, &mask)?
                }
                StreamOp::Select(exprs) => {
                    let cols = exprs
                        .iter()
                        .zip(schema.fields())
                        .map(|(e, f)| {
                            evaluate(e, &df, params)?.into_array_of(f.data_type(), df.height())
                        })
                        .collect::<Result<Vec<_>>>()?;
                    if cols.is_empty() {
                        DataFrame::with_height(df.height())
                    } else {
                        DataFrame::from_arrays(schema.clone(), cols)?
                    }
                }
                StreamOp::WithColumns(exprs) => {
                    let mut cols = df.columns().to_vec();
                    for e in exprs {
                        let a = evaluate_array(e, &df, false, params)?;
                        let i = schema.index_of(&e.output_name())?;
                        if i < cols.len() {
                            cols[i] = a;
                        } else {
                            cols.push(a);
                        }
                    }
                    super::frame_of_types(schema, cols)?
                }
                StreamOp::Probe(spec) => {
                    let built = self.ctx.build(spec.id)?;
                    super::join::probe_morsel(spec, built, &df, params)?
                }
                StreamOp::Window { .. } => {
                    return Err(Error::Internal(
                        "a window operator runs only in the staged driver".into(),
                    ))
                }
            };
        }
        Ok(df)
    }

    /// What filter `op` (of output `schema`) selects from: `df` reduced to the columns the
    /// filter keeps, not yet filtered, and the mask over it.
    fn filter_input(
        &self,
        op: &StreamOp,
        schema: &SchemaRef,
        df: &DataFrame,
    ) -> Result<(DataFrame, BooleanArray)> {
        let params = &self.ctx.params;
        match op {
            StreamOp::Filter(pred) => Ok((df.clone(), evaluate_mask(pred, df, false, params)?)),
            StreamOp::FilterKeep(pred, keep) => {
                let mask = evaluate_mask(pred, df, false, params)?;
                if keep.is_empty() {
                    return Ok((DataFrame::with_height(df.height()), mask));
                }
                let cols = keep.iter().map(|&k| df.columns()[k].clone()).collect();
                Ok((DataFrame::from_arrays(schema.clone(), cols)?, mask))
            }
            _ => Err(Error::Internal(format!("{op:?} is not a filter"))),
        }
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
                let (kept, mask) = self.filter_input(last, schema, &self.apply(rest, piece)?)?;
                return f(kept, Some(mask));
            }
        }
        f(self.apply(ops, piece)?, None)
    }

    /// Tell the run's progress callback that another morsel is done.
    fn report(&self) {
        let d = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.ctx.report_progress(d, self.source.num_morsels());
    }

    /// Morsels `range` in order, as pieces.
    fn pieces(&self, range: std::ops::Range<usize>, carry: &mut Carry) -> Result<Vec<DataFrame>> {
        let parts = self.run_morsels(range, carry, false, &|_| Ok(vec![]), &|out, piece, _| {
            out.push(piece);
            Ok(())
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Run every morsel and concatenate the results in morsel order.
    pub(crate) fn collect(self) -> Result<DataFrame> {
        let schema = self.schema();
        if let (Opened::Frame(df), true) = (&self.source, self.ops.is_empty()) {
            return Ok(df.clone());
        }
        if !schema.fields().is_empty() {
            if let Some(heights) = self.known_heights() {
                // One morsel of one piece is returned as it is (zero-copy for an IPC batch);
                // anything else is copied once, into its final place.
                if heights.len() > 1 || heights.first().is_some_and(|h| *h > MORSEL_ROWS) {
                    return self.collect_into_slots(schema, &heights);
                }
            }
        }
        let pieces = self.pieces(0..self.source.num_morsels(), &mut Carry::default())?;
        concat_or_empty(&schema, &pieces, pieces.iter().map(DataFrame::height).sum())
    }

    /// Rows `offset..offset+len` (negative offset counts from the end), pulling only as many
    /// morsels as needed, a pool's width at a time.
    pub(crate) fn slice(self, offset: i64, len: usize) -> Result<DataFrame> {
        let schema = self.schema();
        let n = self.source.num_morsels();
        let wave = rayon::current_num_threads().max(1);
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
                let mut wave_parts = self.pieces(start..next, &mut carry)?;
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
            for p in self.pieces(next..end, &mut carry)? {
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
                got.drain(..from);
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
