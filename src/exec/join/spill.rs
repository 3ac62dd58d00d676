//! Hash joins beyond the memory budget (a grace hash join): both sides partitioned by key
//! hash to spill files, joined one partition at a time, and the output put back in exactly
//! the in-memory join's order.
//!
//! When the build side or its table does not fit (`Error::MemoryLimit` naming `HASH_JOIN`,
//! or its input's collection), the join starts over: the build side's input is run again a
//! wave of morsels at a time and each row, with its position (`morsel << 32 | row in the
//! morsel`), is written to one of 32 spill files by bits of its key's hash (the hash the
//! table uses, over keys encoded in the join's common key types, so equal keys land
//! together whatever their input types; rows with a null key never match and are spread by
//! their position instead). The probe side follows, the same way. Each partition's build
//! rows are then a table of their own (reserved from the budget as in memory), and its probe
//! rows stream through it a chunk at a time. A partition whose build rows still do not fit
//! is split again into 32 by the next hash bits, both sides (the levels [`Fan`] allows);
//! past that (one key holding more build rows than the budget) the join stops with
//! `Error::MemoryLimit` naming `HASH_JOIN`. A partition is never split when its probe rows
//! are many: they are only streamed.
//!
//! Every output row carries the positions of the rows it joins, the order side's (O) and
//! the other's (T), and the documented order (see the module above) is exactly the order of
//! `(O position, T position)` with a missing row last: O rows in order, each with its
//! matches in T order, an unmatched O row once, and the unmatched T rows of a full join
//! after everything, in T order. Partitions write their output as runs sorted that way
//! (with the table on T a partition's probe rows come in O order, so a partition is one
//! run; with the table on O each probe chunk's pairs are put in O order by the counting
//! sort of the in-memory path, a run each), and the external sort's k-way merge puts the
//! runs together as the join's output source, pieces made in order as the pipeline above
//! asks. Semi and anti joins keep the O rows (matched or not), ordered by O position.
//!
//! A cross join, and keys that need whole columns (not one row at a time), do not spill:
//! they keep the typed error. So does a streaming join whose probe pipeline has a window
//! operator before the probe.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};

use super::keys::{hash_word, KeyEncoder};
use super::output::{assemble, NONE};
use super::{encode, in_order_of_build, matched_pairs, BuiltSide};
use crate::error::{Error, Result};
use crate::exec::eval::filter_frame;
use crate::exec::memory::frame_bytes;
use crate::exec::pipeline::{piece_rows, Carry, Opened, Running, SequentialSource};
use crate::exec::sort::{batch_rows_of, merge_runs, KeyRows, Merge};
use crate::exec::spill::{Fan, PartitionFiles, SpillFile, SpillWriter};
use crate::exec::{frame_of_types, Context, Params, MORSEL_ROWS};
use crate::expr::{col, Expr, SortOptions};
use crate::frame::DataFrame;
use crate::physical::{JoinSpec, PhysicalNode, Side, StreamOp};
use crate::plan::{JoinColumn, JoinType};

/// The operator's name in memory errors.
const OPERATOR: &str = "HASH_JOIN";
/// Each level partitions by this many bits of the key hash (32 files).
const FAN: Fan = Fan { bits: 5 };
/// The row-position column a spilled side carries after its own columns.
const ROW: &str = "\u{1}join_row";
/// The output's row-position columns in the runs: the order side's, the other side's.
const O_ROW: &str = "\u{1}join_o_row";
const T_ROW: &str = "\u{1}join_t_row";
/// Bytes of probe rows joined at once (fewer runs when the table is on the order side).
const CHUNK_BYTES: usize = 4 << 20;

/// Bytes per batch of an output run for a budget of `limit` bytes: small enough that the
/// merge can hold a batch of many runs at once.
fn run_batch_bytes(limit: usize) -> usize {
    (limit / 64).clamp(1 << 10, 4 << 20)
}

/// Whether a failed join of `spec` can run again through spill files: a memory error of the
/// join or of collecting its build side, a keyed join with row-by-row keys.
pub(crate) fn can_spill(e: &Error, spec: &JoinSpec) -> bool {
    let memory = matches!(e, Error::MemoryLimit { operator, .. }
        if operator == OPERATOR || operator == "COLLECT");
    memory
        && spec.how != JoinType::Cross
        && spec
            .left_on
            .iter()
            .chain(&spec.right_on)
            .all(Expr::is_elementwise)
}

/// Where a streaming join's probe is among its pipeline's `ops`, when it can spill there (no
/// window operator before it: the operators up to the probe run in a pipeline of their own).
pub(crate) fn probe_at(ops: &[(StreamOp, SchemaRef)], spec: &JoinSpec) -> Option<usize> {
    let k = ops
        .iter()
        .position(|(op, _)| matches!(op, StreamOp::Probe(s) if s.id == spec.id))?;
    let windows = ops[..k]
        .iter()
        .any(|(op, _)| matches!(op, StreamOp::Window { .. }));
    (!windows).then_some(k)
}

/// The join of the node `build` (the join's `spec.build` side) and the probe side (its opened
/// `probe` source through `probe_ops`) through spill files: the output in order, as a source.
pub(crate) fn join(
    spec: &JoinSpec,
    build: &PhysicalNode,
    probe: Opened,
    probe_ops: &[(StreamOp, SchemaRef)],
    ctx: &mut Context,
) -> Result<Opened> {
    let encoder = KeyEncoder::new(&spec.layout.key_types)?;
    // The build side first, its pipeline's own builds let go when it is done.
    let (source, ops, pipeline) = match build {
        PhysicalNode::Pipeline(p) => (crate::exec::open_pipeline(p, ctx)?, &p.ops[..], Some(p)),
        other => (crate::exec::open_node(other, ctx)?, &[][..], None),
    };
    let running = Running::new(source, ops, ctx);
    let build_schema = with_row(&running.schema());
    let build_files = partition(&running, spec.keys(spec.build), &encoder)?;
    drop(running);
    if let Some(p) = pipeline {
        crate::exec::close_pipeline(p, ctx);
    }
    let running = Running::new(probe, probe_ops, ctx);
    let probe_schema = with_row(&running.schema());
    let probe_files = partition(&running, spec.keys(spec.build.other()), &encoder)?;
    drop(running);

    let (left, right) = match spec.build {
        Side::Left => (&build_schema, &probe_schema),
        Side::Right => (&probe_schema, &build_schema),
    };
    // The output's schema is the plan's.
    let out_schema = spec.layout.schema.clone();
    let spec = positioned(spec, left.fields().len() - 1, right.fields().len() - 1);
    let ctx: &Context = ctx;
    let mut joiner = Joiner {
        spec: &spec,
        params: &ctx.params,
        ctx,
        encoder: &encoder,
        empty_build: DataFrame::empty(build_schema.clone()),
        empty_probe: DataFrame::empty(probe_schema.clone()),
        runs: vec![],
        batch: run_batch_bytes(ctx.memory.limit()),
    };
    for (b, p) in build_files.into_iter().zip(probe_files) {
        joiner.join_partition(b, p, 0)?;
    }
    let runs = std::mem::take(&mut joiner.runs);
    let joiner_batch = joiner.batch;
    let (run_schema, by) = if semi(&spec) {
        let o = match spec.order_side() {
            Side::Left => left,
            Side::Right => right,
        };
        (o.clone(), vec![col(ROW)])
    } else {
        (spec.layout.schema.clone(), vec![col(O_ROW), col(T_ROW)])
    };
    let options = vec![SortOptions::default(); by.len()];
    let keys = Arc::new(KeyRows::new(&by, &options, &run_schema, &ctx.params)?);
    let rows = piece_rows([out_schema.as_ref()]);
    let merge = merge_runs(
        runs,
        keys,
        (run_schema.clone(), run_schema),
        (rows, joiner_batch),
        ctx.reserve(OPERATOR),
        &ctx.spill,
    )?;
    Ok(Opened::Sequential(Arc::new(Trimmed {
        merge,
        schema: out_schema,
    })))
}

/// True for the joins whose output is the order side's rows alone.
fn semi(spec: &JoinSpec) -> bool {
    matches!(spec.how, JoinType::Semi | JoinType::Anti)
}

/// `schema` with the row-position column after its own.
fn with_row(schema: &SchemaRef) -> SchemaRef {
    let mut fields = schema.fields().to_vec();
    fields.push(Arc::new(Field::new(ROW, DataType::UInt64, false)));
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `spec` over sides that carry their row positions (after their `left` and `right`
/// columns): its output carries them too, the order side's then the other's (semi and
/// anti joins output the order side's rows, positions and all, as they are).
fn positioned(spec: &JoinSpec, left: usize, right: usize) -> JoinSpec {
    let mut layout = spec.layout.clone();
    if !semi(spec) {
        let (o, t) = match spec.order_side() {
            Side::Left => (JoinColumn::Left(left), JoinColumn::Right(right)),
            Side::Right => (JoinColumn::Right(right), JoinColumn::Left(left)),
        };
        layout.columns.extend([o, t]);
        let mut fields = layout.schema.fields().to_vec();
        fields.push(Arc::new(Field::new(O_ROW, DataType::UInt64, true)));
        fields.push(Arc::new(Field::new(T_ROW, DataType::UInt64, true)));
        layout.schema = Arc::new(Schema::new_with_metadata(
            fields,
            layout.schema.metadata().clone(),
        ));
    }
    JoinSpec {
        id: spec.id,
        how: spec.how,
        left_on: spec.left_on.clone(),
        right_on: spec.right_on.clone(),
        layout,
        build: spec.build,
    }
}

/// Run `running` a wave of morsels at a time, writing each row with its position to the
/// partition of its key (`keys`, encoded by `encoder`), in morsel order: the files by
/// partition.
fn partition(
    running: &Running,
    keys: &[Expr],
    encoder: &KeyEncoder,
) -> Result<Vec<Option<Arc<SpillFile>>>> {
    let params = running.params();
    let mut files = PartitionFiles::new(running.spill_dir(), "join", FAN.parts());
    let (n, wave) = (running.num_morsels(), running.wave());
    let mut carry = Carry::default();
    let mut next = 0;
    while next < n {
        let end = (next + wave).min(n);
        let cuts = running.run_morsels(
            next..end,
            &mut carry,
            false,
            &|i| Ok((i as u64, 0u64, vec![])),
            &|(morsel, seen, out), piece, _| {
                let h = piece.height();
                if h == 0 {
                    return Ok(());
                }
                let base = (*morsel << 32) + *seen;
                *seen += h as u64;
                let mut cols = piece.columns().to_vec();
                cols.push(Arc::new(UInt64Array::from_iter_values(
                    (0..h as u64).map(|r| base + r),
                )));
                let df = DataFrame::from_arrays(with_row(piece.schema()), cols)?;
                out.extend(cut(df, keys, encoder, params, 0)?);
                Ok(())
            },
        )?;
        for (_, _, out) in cuts {
            for (q, df) in out {
                files.write(q, &df)?;
            }
        }
        next = end;
    }
    files.finish_each()
}

/// The rows of `df` (a side's rows with their positions) by their partition at `level`.
fn cut(
    df: DataFrame,
    keys: &[Expr],
    encoder: &KeyEncoder,
    params: &Params,
    level: u32,
) -> Result<Vec<(usize, DataFrame)>> {
    let k = encode(encoder, keys, &df, false, params)?;
    let pos = positions(&df);
    let hashes: Vec<u64> = (0..df.height())
        .map(|i| {
            if k.is_valid(i) {
                k.hashes[i]
            } else {
                hash_word(pos[i])
            }
        })
        .collect();
    FAN.cut(df, &hashes, level)
}

/// The row positions of a side's spilled rows.
fn positions(df: &DataFrame) -> &[u64] {
    let c = &df.columns()[df.width() - 1];
    c.as_primitive::<UInt64Type>().values()
}

/// Joins partitions and collects their output runs.
struct Joiner<'a> {
    /// The join over sides with positions (see [`positioned`]).
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
}

impl Joiner<'_> {
    /// Join one partition's build and probe rows (`None`: none) of `level`, splitting it
    /// when its build rows do not fit.
    fn join_partition(
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
        let mut matched = vec![false; built.height()];
        // With the table on T, the partition's output is one run (its probe rows come in O
        // order); on O, each chunk's.
        let mut run: Option<SpillWriter> = None;
        let mut chunks = Chunks::new(probe)?;
        while let Some(chunk) = chunks.next()? {
            let n = chunk.height();
            if !on_order && !full {
                let out = super::probe_morsel(spec, built, &chunk, self.params)?;
                self.write(&mut run, &out)?;
                continue;
            }
            let keys = encode(encoder, probe_keys, &chunk, true, self.params)?;
            let (p, b) = matched_pairs(table, &keys, 0..n, full);
            for &r in &b {
                if r != NONE {
                    matched[r as usize] = true;
                }
            }
            if !on_order {
                // A full join with the table on T: O rows in order, matched or not.
                let out = assemble(spec, &chunk, Some(p), &built.df, b)?;
                self.write(&mut run, &out)?;
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
                let out = assemble(spec, &built.df, Some(o), &chunk, t)?;
                let mut own = None;
                self.write(&mut own, &out)?;
                self.finish(own)?;
            }
        }
        let unmatched: Vec<u32> = (0..built.height() as u32)
            .filter(|r| !matched[*r as usize])
            .collect();
        if !on_order && full {
            // The T rows nothing matched, after every O row.
            let o = vec![NONE; unmatched.len()];
            let out = assemble(spec, &self.empty_probe, Some(o), &built.df, unmatched)?;
            self.write(&mut run, &out)?;
        } else if on_order && semi(spec) {
            let want = spec.how == JoinType::Semi;
            let mask: BooleanArray = matched.iter().map(|m| Some(*m == want)).collect();
            self.write(&mut run, &filter_frame(&built.df, &mask)?)?;
        } else if on_order && spec.how != JoinType::Inner {
            // Left, right and full joins keep the O rows nothing matched.
            let t = vec![NONE; unmatched.len()];
            let out = assemble(spec, &built.df, Some(unmatched), &self.empty_probe, t)?;
            self.write(&mut run, &out)?;
        }
        self.finish(run)
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
            w.write(&df.slice(at, n))?;
            at += n;
        }
        Ok(())
    }

    /// Add a finished run to the output.
    fn finish(&mut self, run: Option<SpillWriter>) -> Result<()> {
        if let Some(w) = run {
            self.runs.push(Arc::new(w.finish()?));
        }
        Ok(())
    }
}

/// A partition's probe rows, read a chunk of batches at a time.
struct Chunks {
    reader: Option<crate::exec::spill::SpillReader>,
}

impl Chunks {
    fn new(file: Option<Arc<SpillFile>>) -> Result<Self> {
        Ok(Self {
            reader: file.map(|f| f.reader()).transpose()?,
        })
    }

    /// The next chunk (batches up to [`CHUNK_BYTES`] or a morsel's rows, concatenated).
    fn next(&mut self) -> Result<Option<DataFrame>> {
        let Some(reader) = &mut self.reader else {
            return Ok(None);
        };
        let mut batches = vec![];
        let (mut bytes, mut rows) = (0, 0);
        while bytes < CHUNK_BYTES && rows < MORSEL_ROWS {
            let Some(b) = reader.next_frame()? else {
                self.reader = None;
                break;
            };
            bytes += frame_bytes(&b);
            rows += b.height();
            batches.push(b);
        }
        match batches.len() {
            0 => Ok(None),
            1 => Ok(batches.pop()),
            _ => Ok(Some(DataFrame::vstack(
                batches[0].schema().clone(),
                &batches,
            )?)),
        }
    }
}

/// The merged runs without their position columns.
struct Trimmed {
    merge: Merge,
    schema: SchemaRef,
}

impl SequentialSource for Trimmed {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.merge.num_morsels()
    }

    fn morsel_rows(&self, i: usize) -> usize {
        self.merge.morsel_rows(i)
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let df = self.merge.morsel(i)?;
        let width = self.schema.fields().len();
        if width == 0 {
            return Ok(DataFrame::with_height(df.height()));
        }
        let cols: Vec<ArrayRef> = df.columns()[..width].to_vec();
        frame_of_types(&self.schema, cols)
    }
}
