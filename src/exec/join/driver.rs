//! How a join gets its sides, and when it goes on through spill files instead of in memory.
//!
//! [`build`] reads the build side's input once (`collect.rs`) into the join's table. When the
//! input, or the table over it, does not fit the budget, the rows already read (or the frame
//! in memory) and the rest of the stream are partitioned to spill files ([`Build::Spilled`]);
//! the streaming probe's pipeline then partitions its own source the same way
//! (`spill::join_stream`, from `exec::open_pipeline`).
//!
//! [`open_ordered`] runs a join whose output cannot stream from its probe side (the table on
//! the order side, or a full join): the table, then the probe side held whole, then the
//! output built (reserved before it is), each side read once. Whichever of the three does not
//! fit, the join goes on through spill files from where it is: the table's frame and the
//! probe side's rows in memory (or what was read of them and the rest of their stream) are
//! partitioned, and nothing is run again.

use arrow::datatypes::SchemaRef;

use super::collect::{collect, Collected, Rest};
use super::spill::{self, Partitioned, OPERATOR};
use super::BuiltSide;
use crate::error::Result;
use crate::exec::pipeline::Opened;
use crate::exec::{close_pipeline, open_node, open_pipeline, run, Context};
use crate::physical::{JoinSpec, PhysicalNode, Pipeline, StreamOp};

/// A join's build side, ready for the probe.
pub(crate) enum Build {
    /// In memory: its hash table (boxed: it is far larger than the other variant).
    Table(Box<BuiltSide>),
    /// Over the budget: its rows partitioned to spill files.
    Spilled(Partitioned),
}

/// `input` opened: its source, the operators over it, and its pipeline (to close when done).
pub(super) type OpenInput<'p> = (Opened, &'p [(StreamOp, SchemaRef)], Option<&'p Pipeline>);

/// Open `input`, a join side: a pipeline's source (its own joins built first), or the
/// output of another breaker.
pub(super) fn open_input<'p>(input: &'p PhysicalNode, ctx: &mut Context) -> Result<OpenInput<'p>> {
    Ok(match input {
        PhysicalNode::Pipeline(p) => (open_pipeline(p, ctx)?, &p.ops[..], Some(p)),
        other => (open_node(other, ctx)?, &[][..], None),
    })
}

/// Run `input`, the build side of the join `spec`, into its hash table, reading it once.
/// With `spills` (and a join that can spill), a build side or table that does not fit is
/// partitioned to spill files instead; otherwise the memory error names `HASH_JOIN` (or the
/// collection of the input).
pub(crate) fn build(
    spec: &JoinSpec,
    input: &PhysicalNode,
    spills: bool,
    ctx: &mut Context,
) -> Result<Build> {
    if !(spills && spill::spillable(spec)) {
        let df = run(input, ctx)?;
        let built = BuiltSide::new(spec, df, &ctx.params, ctx.reserve(OPERATOR))?;
        return Ok(Build::Table(Box::new(built)));
    }
    let (source, ops, pipeline) = open_input(input, ctx)?;
    let built = table_or_partitions(spec, source, ops, ctx);
    if let Some(p) = pipeline {
        close_pipeline(p, ctx);
    }
    built
}

/// The build side's table over `source` through `ops`, or its partitions when either does
/// not fit.
fn table_or_partitions(
    spec: &JoinSpec,
    source: Opened,
    ops: &[(StreamOp, SchemaRef)],
    ctx: &Context,
) -> Result<Build> {
    let rest = match collect(source, ops, ctx, ctx.reserve(OPERATOR), true)? {
        Collected::Whole(df, memory) => {
            // The table reserves the frame again, with the rest.
            memory.free();
            match BuiltSide::new(spec, df.clone(), &ctx.params, memory) {
                Ok(built) => return Ok(Build::Table(Box::new(built))),
                Err(e) if spill::can_spill(&e, spec) => {
                    Rest::frame(df, ctx, ctx.reserve(OPERATOR))?
                }
                Err(e) => return Err(e),
            }
        }
        Collected::Over(rest) => rest,
    };
    Ok(Build::Spilled(spill::partition_side(
        spec, spec.build, rest,
    )?))
}

/// A join whose output cannot stream from its probe side: in memory, or through spill files
/// when the table, the probe side or the output does not fit; its output then made in order
/// as it is read.
pub(crate) fn open_ordered(
    build_input: &PhysicalNode,
    probe: &Pipeline,
    spec: &JoinSpec,
    ctx: &mut Context,
) -> Result<Opened> {
    let spills = spill::spillable(spec);
    let built = build(spec, build_input, spills, ctx)?;
    let source = open_pipeline(probe, ctx)?;
    let out = ordered(spec, built, source, &probe.ops, spills, ctx);
    close_pipeline(probe, ctx);
    out
}

/// [`open_ordered`] once the build side is ready and the probe side's source is open.
fn ordered(
    spec: &JoinSpec,
    built: Build,
    source: Opened,
    ops: &[(StreamOp, SchemaRef)],
    spills: bool,
    ctx: &Context,
) -> Result<Opened> {
    let table = match built {
        Build::Spilled(parts) => return spill::join_stream(spec, parts, source, ops, ctx),
        Build::Table(table) => *table,
    };
    let (probe_df, held) = match collect(source, ops, ctx, ctx.reserve(OPERATOR), spills)? {
        Collected::Whole(df, held) => (df, held),
        Collected::Over(rest) => {
            // The probe side does not fit beside the table: both go to spill files, the
            // table's rows from memory and the probe side's from where its stream is.
            let parts = spill_frame(spec, table, ctx)?;
            return spill::join_rest(spec, parts, rest, ctx);
        }
    };
    let out = ctx.reserve(OPERATOR);
    match super::join_frames(spec, &table, &probe_df, &ctx.params, &out) {
        Ok(df) => Ok(Opened::HeldFrame(df, out)),
        Err(e) if spills && spill::can_spill(&e, spec) => {
            // The output does not fit: the join goes on from both sides in memory.
            drop(out);
            let parts = spill_frame(spec, table, ctx)?;
            let rest = Rest::frame(probe_df, ctx, held)?;
            spill::join_rest(spec, parts, rest, ctx)
        }
        Err(e) => Err(e),
    }
}

/// The build side's partitions, cut from the frame of its table (the table let go first).
fn spill_frame(spec: &JoinSpec, table: BuiltSide, ctx: &Context) -> Result<Partitioned> {
    let rest = Rest::frame(table.into_frame(), ctx, ctx.reserve(OPERATOR))?;
    spill::partition_side(spec, spec.build, rest)
}
