//! The HOISTED operator: statistics of its input (the optimizer's aggregate hoisting, such as
//! the `nan_min` and `nan_max` a `min_max_scale` reads) bound as parameters before the
//! operators above run, with the input passed on to them unchanged.
//!
//! The statistics stream through the aggregate engine in one pass over the input pipeline.
//! The operators above then need the input again, which is either kept from that pass or read
//! a second time:
//!
//! - over a Parquet or Arrow IPC scan, it is read again (decoding costs less than holding a
//!   file's worth of columns, and memory stays bounded by a few morsels whatever the size);
//! - over anything else (a CSV scan, a frame in memory, another breaker's output) its pieces
//!   are kept while the memory budget allows, and read again (a CSV parsed twice, operators
//!   recomputed over memory) when it does not;
//! - an input that cannot be read twice (the merge of a spilled sort) or whose pipeline has
//!   windows (they carry rows from one morsel to the next) is kept, or the query stops with a
//!   memory error naming `HOISTED`.
//!
//! Kept or read again, the operators above get the same pieces (the first pass's cut), so the
//! results are the same either way, to the bit.

use super::aggregate::AggregateSet;
use super::pipeline::{Kept, Opened, Running, Through};
use super::{of_declared_type, scalars_over, Context};
use crate::error::Result;
use crate::expr::lookup::NameIndex;
use crate::expr::Expr;
use crate::io::FileFormat;
use crate::physical::{PhysicalNode, Source, StreamOp};

/// Compute `params` over `input`, bind them, and open the input for the operators above.
pub(super) fn open(
    input: &PhysicalNode,
    params: &[(String, Expr)],
    ctx: &mut Context,
) -> Result<Opened> {
    let streamable = params
        .iter()
        .all(|(_, e)| matches!(e, Expr::Agg { expr, .. } if expr.is_elementwise()));
    let PhysicalNode::Pipeline(p) = input else {
        return whole(input, params, ctx);
    };
    if !streamable {
        return whole(input, params, ctx);
    }
    let schema = p.schema();
    let windows = p
        .ops
        .iter()
        .any(|(op, _)| matches!(op, StreamOp::Window { .. }));
    let source = super::open_pipeline(p, ctx)?;
    let rereadable = source.rereadable() && !windows;
    let exprs: Vec<Expr> = params.iter().map(|(_, e)| e.clone()).collect();
    let set = AggregateSet::new(&exprs, &schema)?;
    let memory = ctx.reserve("HOISTED");
    let running = Running::new(source, &p.ops, ctx);
    let piece_rows = running.piece_rows;
    let (values, kept) = if rereadable && cheap_to_reread(input) {
        (set.run(&running)?, None)
    } else {
        set.run_keeping(&running, &memory, !rereadable)?
    };
    let source = running.into_source();
    // Typed through a name index: 10,000 statistics over a 10,000-column input would
    // otherwise scan the schema for each.
    let names = NameIndex::new(&schema);
    for ((name, e), value) in params.iter().zip(values) {
        let value = of_declared_type(value, &names.data_type(e)?)?;
        ctx.params.bind(name.clone(), value);
    }
    Ok(match kept {
        Some(morsels) => Opened::Pieces(Box::new(Kept {
            morsels,
            schema,
            memory: Some(memory),
        })),
        None => Opened::Through(Box::new(Through {
            source,
            ops: p.ops.clone(),
            params: ctx.params.clone(),
            builds: ctx.builds.clone(),
            piece_rows,
            schema,
        })),
    })
}

/// Statistics that need the whole input (not plain aggregates of elementwise expressions),
/// or an input that is not a pipeline: the input is materialized, as the operators above
/// then read it.
fn whole(input: &PhysicalNode, params: &[(String, Expr)], ctx: &mut Context) -> Result<Opened> {
    let (df, memory) = super::materialize(input, ctx, "HOISTED")?;
    let values = scalars_over(&df, params, ctx)?;
    let names = NameIndex::new(df.schema());
    for ((name, e), value) in params.iter().zip(values) {
        let value = of_declared_type(value, &names.data_type(e)?)?;
        ctx.params.bind(name.clone(), value);
    }
    Ok(Opened::HeldFrame(df, memory))
}

/// Whether the input is a Parquet or IPC scan (through other hoisted statistics over one),
/// which decodes again faster than it is worth holding.
fn cheap_to_reread(node: &PhysicalNode) -> bool {
    let PhysicalNode::Pipeline(p) = node else {
        return false;
    };
    match &p.source {
        Source::Scan { source, .. } => {
            matches!(source.format(), FileFormat::Parquet | FileFormat::Ipc)
        }
        Source::Node(n) => match n.as_ref() {
            PhysicalNode::Hoisted { input, .. } => cheap_to_reread(input),
            _ => false,
        },
        Source::Frame(_) => false,
    }
}
