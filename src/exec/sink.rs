//! Sinks: a query's output written to a file as its morsels complete, in row order, without
//! collecting it (`sink_parquet`, `sink_ipc`, `sink_csv`, the CLI's `--output`).
//!
//! A sink is a consumer of the plan's last pipeline, like the aggregate engine: it runs the
//! morsels a wave at a time (one per worker), each piece going through the operators and
//! being prepared for the file on the worker that made it (CSV text is formatted there), and
//! hands the wave's pieces in row order to the file writer (`io::sink`) while the next wave
//! runs. At most two waves are in flight, so memory stays a few morsels per worker whatever
//! the output's size. A plan ending in a breaker (a sort's merge, an aggregate) feeds the sink
//! through the pipeline that reads the breaker's output.
//!
//! The writer's own buffers (a Parquet row group's encoded pages) are reserved from the
//! memory budget as `SINK`; when the budget is short, the row group ends early instead. Any
//! error (in any morsel, or writing) drops the writer, which removes its temporary file.

use std::path::Path;

use super::pipeline::{Carry, Running};
use super::{open_node, open_pipeline, pool, Context};
use crate::error::{Error, Result};
use crate::io::sink::{create, encode, Encoded, FileSink, SinkFormat};
use crate::physical::{PhysicalNode, PhysicalPlan};
use crate::plan::ExecOptions;

/// Run `plan` and write its output to `path`; returns the rows written.
pub(crate) fn execute_sink(
    plan: &PhysicalPlan,
    options: &ExecOptions,
    path: &Path,
    format: &SinkFormat,
) -> Result<u64> {
    let pool = pool::thread_pool(options.threads)?;
    let mut ctx = Context::new(options)?;
    pool.install(|| {
        let (source, ops) = match &plan.root {
            PhysicalNode::Pipeline(p) => (open_pipeline(p, &mut ctx)?, &p.ops[..]),
            PhysicalNode::Fit { .. } => {
                return Err(Error::Plan(
                    "a model is not a table: fit it, then write its table".into(),
                ))
            }
            other => (open_node(other, &mut ctx)?, &[][..]),
        };
        let running = Running::new(source, ops, &ctx);
        let mut file = create(path, format, &running.schema())?;
        let rows = write_in_order(&running, format, file.as_mut(), options)?;
        file.finish()?;
        Ok(rows)
    })
}

/// Run every morsel of `running` and write its pieces in row order, one wave computing while
/// the one before is written.
fn write_in_order(
    running: &Running,
    format: &SinkFormat,
    file: &mut dyn FileSink,
    options: &ExecOptions,
) -> Result<u64> {
    let n = running.num_morsels();
    let wave = running.wave();
    let memory = running.reserve("SINK");
    let mut carry = Carry::default();
    let mut pending: Option<Vec<Vec<Encoded>>> = None;
    let mut written = 0u64;
    let mut next = 0;
    loop {
        let range = next..(next + wave).min(n);
        if range.is_empty() && pending.is_none() {
            break;
        }
        let carry = &mut carry;
        let (computed, wrote) = rayon::join(
            || -> Result<Option<Vec<Vec<Encoded>>>> {
                if range.is_empty() {
                    return Ok(None);
                }
                let parts = running.run_morsels(
                    range.clone(),
                    carry,
                    false,
                    &|_| Ok(vec![]),
                    &|out: &mut Vec<Encoded>, piece, _| {
                        out.push(encode(format, piece)?);
                        Ok(())
                    },
                )?;
                Ok(Some(parts))
            },
            || -> Result<()> {
                for piece in pending.take().into_iter().flatten().flatten() {
                    let rows = piece.rows() as u64;
                    file.write(piece)?;
                    if memory.try_resize(file.buffered()).is_err() {
                        // Short of memory: the open row group ends here.
                        file.flush()?;
                        memory.free();
                    }
                    written += rows;
                    if let Some(cb) = &options.rows_written {
                        cb(written);
                    }
                }
                Ok(())
            },
        );
        wrote?;
        pending = computed?;
        next = range.end;
    }
    Ok(written)
}
