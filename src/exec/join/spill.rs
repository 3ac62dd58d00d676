//! Hash joins beyond the memory budget (a grace hash join): both sides partitioned by key
//! hash to spill files, joined one partition at a time (`partitions.rs`), and the output put
//! back in exactly the in-memory join's order.
//!
//! When the build side, its table, the side an ordering join holds or that join's output
//! does not fit (`Error::MemoryLimit` naming `HASH_JOIN`), the join goes on through spill
//! files, reading each input once (`collect.rs`): what was read of a side before the budget
//! ran out (or the side whole, when it was in memory) and then the rest of its stream are
//! cut, each row with its position (`morsel << 32 | row in the morsel`), into one of 32
//! spill files by bits of its key's hash (the hash the table uses, over keys encoded in the
//! join's common key types, so equal keys land together whatever their input types; rows
//! with a null key never match and are spread by their position instead). The build side
//! goes first, then the probe side, the same way. Each partition's build rows are then a
//! table of their own (reserved from the budget as in memory), and its probe rows stream
//! through it a chunk at a time. A partition whose build rows still do not fit is split
//! again into 32 by the next hash bits, both sides (the levels [`Fan`] allows); past that
//! (one key holding more build rows than the budget) the join stops with
//! `Error::MemoryLimit` naming `HASH_JOIN`. A partition is never split when its probe rows
//! are many: they are only streamed.
//!
//! Everything the join holds on the way is reserved from the budget as `HASH_JOIN`: a
//! partition's table, the probe chunk being joined (its batches as they are read) and each
//! part of the output before it is built (released once it is written out). Spill files are
//! written in batches of a small share of the budget, so a chunk never needs more than a
//! batch. The k-way merge holds a batch of each run it reads: it is told the largest batch
//! a run really holds, so its fan-in fits the budget.
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

mod partitions;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};

use self::partitions::Joiner;
use super::collect::Rest;
use super::encode;
use super::keys::{hash_word, KeyEncoder};
use crate::error::{Error, Result};
use crate::exec::pipeline::{piece_rows, Opened, SequentialSource};
use crate::exec::sort::{merge_runs, KeyRows, Merge};
use crate::exec::spill::{Fan, PartitionFiles, SpillFile};
use crate::exec::{frame_of_types, Context, Params};
use crate::expr::{col, Expr, SortOptions};
use crate::frame::DataFrame;
use crate::memory::frame_bytes;
use crate::physical::{JoinSpec, Side, StreamOp};
use crate::plan::{JoinColumn, JoinType};

/// The operator's name in memory errors.
pub(super) const OPERATOR: &str = "HASH_JOIN";
/// Each level partitions by this many bits of the key hash (32 files).
const FAN: Fan = Fan { bits: 5 };
/// The row-position column a spilled side carries after its own columns.
const ROW: &str = "\u{1}join_row";
/// The output's row-position columns in the runs: the order side's, the other side's.
const O_ROW: &str = "\u{1}join_o_row";
const T_ROW: &str = "\u{1}join_t_row";

/// Bytes per batch of a spill file (a partition's rows, an output run) for a budget of
/// `limit` bytes: small enough that a probe chunk, an output part and the merge's batch of
/// every run fit beside a partition's table.
fn batch_bytes(limit: usize) -> usize {
    (limit / 64).clamp(1 << 10, 4 << 20)
}

/// Whether a join of `spec` can run through spill files: a keyed join with row-by-row keys.
pub(crate) fn spillable(spec: &JoinSpec) -> bool {
    spec.how != JoinType::Cross
        && spec
            .left_on
            .iter()
            .chain(&spec.right_on)
            .all(Expr::is_elementwise)
}

/// Whether a failed join of `spec` can go on through spill files: the join's own memory
/// error, and a join that can spill.
pub(crate) fn can_spill(e: &Error, spec: &JoinSpec) -> bool {
    matches!(e, Error::MemoryLimit { operator, .. } if operator == OPERATOR) && spillable(spec)
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

/// One side of a join cut into partitions by key hash, each row with its position.
pub(crate) struct Partitioned {
    /// The side's schema with the position column after its own.
    schema: SchemaRef,
    /// The files by partition (`None`: no rows).
    files: Vec<Option<Arc<SpillFile>>>,
}

/// Cut `rest`, side `side` of the join, into partitions: the rows it holds, then the rest of
/// its stream (read once, a wave of morsels at a time).
pub(crate) fn partition_side(spec: &JoinSpec, side: Side, rest: Rest) -> Result<Partitioned> {
    let encoder = KeyEncoder::new(&spec.layout.key_types)?;
    partition(rest, spec.keys(side), &encoder)
}

/// The join of the probe side (the opened `probe` source through `probe_ops`) with the build
/// side's partitions, through spill files: the output in order, as a source.
pub(crate) fn join_stream(
    spec: &JoinSpec,
    build: Partitioned,
    probe: Opened,
    probe_ops: &[(StreamOp, SchemaRef)],
    ctx: &Context,
) -> Result<Opened> {
    let rest = Rest::unread(probe, probe_ops, ctx, ctx.reserve(OPERATOR));
    join_rest(spec, build, rest, ctx)
}

/// The join of the probe side (what is held of it and the rest of its stream) with the build
/// side's partitions, through spill files: the output in order, as a source.
pub(crate) fn join_rest(
    spec: &JoinSpec,
    build: Partitioned,
    probe: Rest,
    ctx: &Context,
) -> Result<Opened> {
    let probe = partition_side(spec, spec.build.other(), probe)?;
    join_partitions(spec, build, probe, ctx)
}

/// The join of the node `build` (the join's `spec.build` side) and the probe side (its opened
/// `probe` source through `probe_ops`) through spill files, however small the sides.
#[cfg(test)]
pub(crate) fn join_forced(
    spec: &JoinSpec,
    build: &crate::physical::PhysicalNode,
    probe: Opened,
    probe_ops: &[(StreamOp, SchemaRef)],
    ctx: &mut Context,
) -> Result<Opened> {
    let (source, ops, pipeline) = super::driver::open_input(build, ctx)?;
    let parts = {
        let ctx: &Context = ctx;
        let rest = Rest::unread(source, ops, ctx, ctx.reserve(OPERATOR));
        partition_side(spec, spec.build, rest)?
    };
    if let Some(p) = pipeline {
        crate::exec::close_pipeline(p, ctx);
    }
    join_stream(spec, parts, probe, probe_ops, ctx)
}

/// The join of both sides' partitions: the output in order, as a source.
fn join_partitions(
    spec: &JoinSpec,
    build: Partitioned,
    probe: Partitioned,
    ctx: &Context,
) -> Result<Opened> {
    let encoder = KeyEncoder::new(&spec.layout.key_types)?;
    let (left, right) = match spec.build {
        Side::Left => (&build.schema, &probe.schema),
        Side::Right => (&probe.schema, &build.schema),
    };
    // The output's schema is the plan's.
    let out_schema = spec.layout.schema.clone();
    let spec = positioned(spec, left.fields().len() - 1, right.fields().len() - 1);
    let mut joiner = Joiner::new(&spec, ctx, &encoder, &build.schema, &probe.schema);
    for (b, p) in build.files.into_iter().zip(probe.files) {
        joiner.join_partition(b, p, 0)?;
    }
    let (runs, batch) = joiner.finish();
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
        (rows, batch),
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

/// Cut `rest` into partitions by its rows' keys (`keys`, encoded by `encoder`), each row with
/// its position: first the morsels it holds, then the rest of its stream a wave of morsels
/// at a time, so every file holds its rows in input order. The files by partition.
fn partition(rest: Rest, keys: &[Expr], encoder: &KeyEncoder) -> Result<Partitioned> {
    let Rest {
        running,
        held,
        next,
        mut carry,
        memory,
    } = rest;
    let params = running.params();
    let schema = with_row(&running.schema());
    let batch = batch_bytes(memory.pool().limit());
    let mut files = PartitionFiles::new(running.spill_dir(), "join", FAN.parts());
    let mut write = |out: Vec<(usize, DataFrame)>| -> Result<()> {
        for (q, df) in out {
            for b in batches(&df, batch) {
                files.write(q, &b)?;
            }
        }
        Ok(())
    };
    // What was read before the budget ran out, morsel by morsel, let go as it is written.
    for (i, pieces) in held.into_iter().enumerate() {
        let mut seen = 0;
        for piece in pieces {
            let bytes = frame_bytes(&piece);
            write(with_positions(
                i as u64, &mut seen, piece, keys, encoder, params,
            )?)?;
            memory.shrink(bytes);
        }
    }
    drop(memory);
    for wave in running.waves(next, running.wave()) {
        let cuts = running.run_morsels(
            wave,
            &mut carry,
            false,
            &|i| Ok((i as u64, 0u64, vec![])),
            &|(morsel, seen, out), piece, _| {
                out.extend(with_positions(*morsel, seen, piece, keys, encoder, params)?);
                Ok(())
            },
        )?;
        for (_, _, out) in cuts {
            write(out)?;
        }
    }
    Ok(Partitioned {
        schema,
        files: files.finish_each()?,
    })
}

/// `piece`, the next rows of morsel `morsel` after the `seen` before them, with their
/// positions, by their partition at the first level.
fn with_positions(
    morsel: u64,
    seen: &mut u64,
    piece: DataFrame,
    keys: &[Expr],
    encoder: &KeyEncoder,
    params: &Params,
) -> Result<Vec<(usize, DataFrame)>> {
    let h = piece.height();
    if h == 0 {
        return Ok(vec![]);
    }
    let base = (morsel << 32) + *seen;
    *seen += h as u64;
    let mut cols = piece.columns().to_vec();
    cols.push(Arc::new(UInt64Array::from_iter_values(
        (0..h as u64).map(|r| base + r),
    )));
    let df = DataFrame::from_arrays(with_row(piece.schema()), cols)?;
    cut(df, keys, encoder, params, 0)
}

/// `df` in slices of about `bytes` bytes (at least a row each), for spill files whose
/// batches are read back one at a time.
fn batches(df: &DataFrame, bytes: usize) -> Vec<DataFrame> {
    let (h, size) = (df.height(), frame_bytes(df));
    if size <= bytes || h <= 1 {
        return vec![df.clone()];
    }
    let rows = (bytes * h / size).max(1);
    (0..h)
        .step_by(rows)
        .map(|at| df.slice(at, rows.min(h - at)))
        .collect()
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
