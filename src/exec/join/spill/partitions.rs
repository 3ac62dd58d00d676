//! Joining a grace hash join's partitions, one at a time: a partition's build rows become a
//! table (split again by the next hash bits when they do not fit), its probe rows stream
//! through it a chunk at a time, and its output is written as runs for the merge.
//!
//! Beside the table, a partition holds one probe chunk (its batches reserved as they are
//! read, and the copy that puts them together) and one part of the output: the output rows
//! a chunk gives are built a part at a time, each part reserved before it is built (its rows
//! times the bytes per row of the two sides) and released once it is written to its run.

use std::cell::Cell;
use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::datatypes::SchemaRef;

use super::super::keys::KeyEncoder;
use super::super::output::{assemble, row_bytes, NONE};
use super::super::{encode, in_order_of_build, matched_pairs, BuiltSide};
use super::{batch_bytes, cut, semi, FAN, OPERATOR};
use crate::error::{Error, Result};
use crate::exec::eval::filter_frame;
use crate::exec::sort::batch_rows_of;
use crate::exec::spill::{PartitionFiles, SpillFile, SpillReader, SpillWriter};
use crate::exec::{Context, Params, MORSEL_ROWS};
use crate::frame::DataFrame;
use crate::memory::{frame_bytes, Reservation};
use crate::physical::{JoinSpec, Side};
use crate::plan::JoinType;

/// The most bytes of probe rows joined at once (fewer runs when the table is on the order
/// side); a small budget takes smaller chunks.
const CHUNK_BYTES: usize = 4 << 20;

/// Joins partitions and collects their output runs.
pub(super) struct Joiner<'a> {
    /// The join over sides with positions (see `positioned`).
    spec: &'a JoinSpec,
    params: &'a Params,
    ctx: &'a Context,
    encoder: &'a KeyEncoder,
    /// No rows of each side (for a partition one side has none of).
    empty_build: DataFrame,
    empty_probe: DataFrame,
    runs: Vec<Arc<SpillFile>>,
    /// Bytes per batch of a run (a merge holds one of each run it reads).
    batch: usize,
    /// The bytes of the largest batch written to a run so far (a batch has at least 64
    /// rows, see `batch_rows_of`, so wide rows make it larger than `batch`).
    largest: Cell<usize>,
    /// The probe chunk and the output part being held.
    memory: Reservation,
}

impl<'a> Joiner<'a> {
    /// A joiner of partitions of sides with these schemas (positions included).
    pub(super) fn new(
        spec: &'a JoinSpec,
        ctx: &'a Context,
        encoder: &'a KeyEncoder,
        build: &SchemaRef,
        probe: &SchemaRef,
    ) -> Self {
        Self {
            spec,
            params: &ctx.params,
            ctx,
            encoder,
            empty_build: DataFrame::empty(build.clone()),
            empty_probe: DataFrame::empty(probe.clone()),
            runs: vec![],
            batch: batch_bytes(ctx.memory.limit()),
            largest: Cell::new(0),
            memory: ctx.reserve(OPERATOR),
        }
    }

    /// The output runs, and the bytes of a batch of theirs at most (what the merge holds of
    /// each run it reads).
    pub(super) fn finish(self) -> (Vec<Arc<SpillFile>>, usize) {
        (self.runs, self.batch.max(self.largest.get()))
    }

    /// Join one partition's build and probe rows (`None`: none) of `level`, splitting it
    /// when its build rows do not fit.
    pub(super) fn join_partition(
        &mut self,
        build: Option<Arc<SpillFile>>,
        probe: Option<Arc<SpillFile>>,
        level: u32,
    ) -> Result<()> {
        if build.is_none() && probe.is_none() {
            return Ok(());
        }
        let built = match self.load(build.as_ref()) {
            Ok(b) => b,
            Err(Error::MemoryLimit { .. }) if FAN.deeper(level) && build.is_some() => {
                let b = self.split(build, self.spec.build, level + 1)?;
                let p = self.split(probe, self.spec.build.other(), level + 1)?;
                for (b, p) in b.into_iter().zip(p) {
                    self.join_partition(b, p, level + 1)?;
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.probe(&built, probe)
    }

    /// A partition's build rows and their table, reserved from the budget.
    fn load(&self, file: Option<&Arc<SpillFile>>) -> Result<BuiltSide> {
        let memory = self.ctx.reserve(OPERATOR);
        let df = match file {
            None => self.empty_build.clone(),
            Some(f) => {
                let mut reader = f.reader()?;
                let mut batches = vec![];
                while let Some(b) = reader.next_frame()? {
                    memory.try_grow(frame_bytes(&b))?;
                    batches.push(b);
                }
                // Room for the copy made of them.
                memory.try_grow(memory.size())?;
                let df = DataFrame::vstack(self.empty_build.schema().clone(), &batches)?;
                drop(batches);
                memory.free();
                df
            }
        };
        BuiltSide::new(self.spec, df, self.params, memory)
    }

    /// A partition file of `side` cut again by the partitions of `level`.
    fn split(
        &self,
        file: Option<Arc<SpillFile>>,
        side: Side,
        level: u32,
    ) -> Result<Vec<Option<Arc<SpillFile>>>> {
        let mut files = PartitionFiles::new(&self.ctx.spill, "join", FAN.parts());
        if let Some(file) = file {
            let mut reader = file.reader()?;
            while let Some(df) = reader.next_frame()? {
                for (q, part) in cut(df, self.spec.keys(side), self.encoder, self.params, level)? {
                    files.write(q, &part)?;
                }
            }
        }
        files.finish_each()
    }

    /// Stream a partition's probe rows through its table, writing the output runs.
    fn probe(&mut self, built: &BuiltSide, probe: Option<Arc<SpillFile>>) -> Result<()> {
        let spec = self.spec;
        let (encoder, table) = built.table()?;
        let probe_keys = spec.keys(spec.build.other());
        let on_order = spec.build == spec.order_side();
        let full = spec.how == JoinType::Full;
        let want = spec.how == JoinType::Semi;
        let mut matched = vec![false; built.height()];
        // With the table on T, the partition's output is one run (its probe rows come in O
        // order); on O, each chunk's.
        let mut run: Option<SpillWriter> = None;
        let mut chunks = Chunks::new(probe, (4 * self.batch).min(CHUNK_BYTES))?;
        while let Some((chunk, held)) = chunks.next(&self.memory)? {
            let n = chunk.height();
            let keys = encode(encoder, probe_keys, &chunk, false, self.params)?;
            if semi(spec) && !on_order {
                // The chunk's rows that match (semi) or do not (anti): at most the chunk.
                let mask: BooleanArray = (0..n)
                    .map(|i| Some(table.matches(&keys, i).is_empty() != want))
                    .collect();
                self.emit_filtered(&mut run, &chunk, &mask)?;
                self.memory.shrink(held);
                continue;
            }
            // Probe rows without a match are kept when the output keeps them: with the table
            // on T, for left, right and full joins; on O, for full joins.
            let keep = if on_order {
                full
            } else {
                matches!(spec.how, JoinType::Left | JoinType::Right | JoinType::Full)
            };
            let (p, b) = matched_pairs(table, &keys, 0..n, keep);
            drop(keys);
            for &r in &b {
                if r != NONE {
                    matched[r as usize] = true;
                }
            }
            if !on_order {
                // O rows in order, each with its matches (or none).
                self.emit(&mut run, (&chunk, &p), (&built.df, &b))?;
            } else if !semi(spec) {
                let pairs = [(p, b)];
                let (mut o, mut t) = in_order_of_build(&pairs, built.height(), false);
                let [(p, b)] = pairs;
                for (&i, &r) in p.iter().zip(&b) {
                    if r == NONE {
                        o.push(NONE);
                        t.push(i);
                    }
                }
                drop((p, b));
                let mut own = None;
                self.emit(&mut own, (&built.df, &o), (&chunk, &t))?;
                self.finish_run(own)?;
            }
            drop(chunk);
            self.memory.shrink(held);
        }
        let unmatched: Vec<u32> = (0..built.height() as u32)
            .filter(|r| !matched[*r as usize])
            .collect();
        if !on_order && full {
            // The T rows nothing matched, after every O row.
            let o = vec![NONE; unmatched.len()];
            self.emit(&mut run, (&self.empty_probe, &o), (&built.df, &unmatched))?;
        } else if on_order && semi(spec) {
            let mask: BooleanArray = matched.iter().map(|m| Some(*m == want)).collect();
            self.emit_filtered(&mut run, &built.df, &mask)?;
        } else if on_order && spec.how != JoinType::Inner {
            // Left, right and full joins keep the O rows nothing matched.
            let t = vec![NONE; unmatched.len()];
            self.emit(&mut run, (&built.df, &unmatched), (&self.empty_probe, &t))?;
        }
        self.finish_run(run)
    }

    /// Build the output rows `(o[i], t[i])`, of the order side's frame `o_df` and the other
    /// side's `t_df` (`NONE`: no row), and append them to `run`, a part at a time: each part
    /// reserved before it is built and released once it is written.
    fn emit(
        &self,
        run: &mut Option<SpillWriter>,
        (o_df, o): (&DataFrame, &[u32]),
        (t_df, t): (&DataFrame, &[u32]),
    ) -> Result<()> {
        let row = row_bytes(o_df) + row_bytes(t_df);
        let part = (4 * self.batch / row.max(1)).max(1);
        let mut at = 0;
        while at < t.len() {
            let end = (at + part).min(t.len());
            let bytes = (end - at) * row;
            self.memory.try_grow(bytes)?;
            let out = assemble(
                self.spec,
                o_df,
                Some(o[at..end].to_vec()),
                t_df,
                t[at..end].to_vec(),
            )?;
            self.write(run, &out)?;
            drop(out);
            self.memory.shrink(bytes);
            at = end;
        }
        Ok(())
    }

    /// Append the rows of `df` that `mask` selects to `run` (semi and anti joins), reserved
    /// while they are built and written.
    fn emit_filtered(
        &self,
        run: &mut Option<SpillWriter>,
        df: &DataFrame,
        mask: &BooleanArray,
    ) -> Result<()> {
        let bytes = mask.true_count() * row_bytes(df);
        self.memory.try_grow(bytes)?;
        let out = filter_frame(df, mask)?;
        self.write(run, &out)?;
        drop(out);
        self.memory.shrink(bytes);
        Ok(())
    }

    /// Append `df` to the run `run` (started now if need be).
    fn write(&self, run: &mut Option<SpillWriter>, df: &DataFrame) -> Result<()> {
        if df.height() == 0 {
            return Ok(());
        }
        let w = match run {
            Some(w) => w,
            slot @ None => slot.insert(SpillWriter::new(&self.ctx.spill, "join-run", df.schema())?),
        };
        let rows = batch_rows_of(df.schema(), self.batch);
        let mut at = 0;
        while at < df.height() {
            let n = rows.min(df.height() - at);
            let b = df.slice(at, n);
            self.largest.set(self.largest.get().max(frame_bytes(&b)));
            w.write(&b)?;
            at += n;
        }
        Ok(())
    }

    /// Add a finished run to the output.
    fn finish_run(&mut self, run: Option<SpillWriter>) -> Result<()> {
        if let Some(w) = run {
            self.runs.push(Arc::new(w.finish()?));
        }
        Ok(())
    }
}

/// A partition's probe rows, read a chunk of batches at a time.
struct Chunks {
    reader: Option<SpillReader>,
    /// Bytes a chunk aims at (it takes at least one batch).
    bytes: usize,
}

impl Chunks {
    fn new(file: Option<Arc<SpillFile>>, bytes: usize) -> Result<Self> {
        Ok(Self {
            reader: file.map(|f| f.reader()).transpose()?,
            bytes,
        })
    }

    /// The next chunk (batches up to the chunk's bytes or a morsel's rows, concatenated),
    /// with the bytes reserved for it in `memory` (its batches as they are read, and their
    /// copy), for the caller to release when it is done with the chunk.
    fn next(&mut self, memory: &Reservation) -> Result<Option<(DataFrame, usize)>> {
        let Some(reader) = &mut self.reader else {
            return Ok(None);
        };
        let mut batches = vec![];
        let (mut bytes, mut rows) = (0, 0);
        while bytes < self.bytes && rows < MORSEL_ROWS {
            let Some(b) = reader.next_frame()? else {
                self.reader = None;
                break;
            };
            let size = frame_bytes(&b);
            memory.try_grow(size)?;
            bytes += size;
            rows += b.height();
            batches.push(b);
        }
        match batches.len() {
            0 => Ok(None),
            1 => Ok(batches.pop().map(|b| (b, bytes))),
            _ => {
                // The copy that puts them together, while they are still held.
                memory.try_grow(bytes)?;
                let df = DataFrame::vstack(batches[0].schema().clone(), &batches)?;
                drop(batches);
                memory.shrink(bytes);
                Ok(Some((df, bytes)))
            }
        }
    }
}
