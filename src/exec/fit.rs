//! The `FIT` operator: a model's fit over its input. A model with a one-pass fit
//! ([`ModelFit::stream`]: covariance PCA, least squares) is driven over the input's morsels
//! as they stream, never materializing the input: each morsel folds its pieces into its own
//! state and the states merge in morsel order, a few pool widths of morsels at a time (so at
//! most that many states are alive, reserved from the budget), giving the same bits for any
//! thread count and memory budget.
//!
//! A model whose fit makes many passes (k-means, randomized PCA) gets its input materialized
//! while it fits the budget; past that, when the input is a re-readable pipeline (a file or a
//! frame through streaming operators), it reads the input again on every pass, in fixed
//! chunks of rows (`rescan.rs`); any other streamable input (a pipeline over a sort or with
//! windows, a sort's, an arg_sort's or a join's output) is spilled once to a file of such
//! chunks in the run's temporary directory and read from there (`spilled.rs`). Either way the
//! fit holds only its per-row and thin results. An input of another kind (an aggregate's
//! output, a group-by's) over the budget, or a model that needs its input in memory after all
//! (the full PCA solver), stops with the `FIT` error.
//!
//! A fit reserves what it holds beside its input (k-means' labels and k-means++'s distances,
//! randomized PCA's sketches, a mini-batch fit's samples) under the `FIT` operator's name,
//! from the same reservation as its materialized input: when the input fits but that does not,
//! the fit gives up the input and takes the chunk-by-chunk path above, when it has one.
//!
//! A streaming fit may find at the end that it needs the input after all (PCA's `auto`
//! solver picks by the row count): it keeps the first rows, up to [`ModelFit::keep_rows`],
//! while they fit the budget, and fits them in memory; past that, the input is materialized
//! again, or read chunk by chunk as above.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};

use super::pipeline::{Carry, Running};
use super::rescan::Rescan;
use super::spilled::SpilledChunks;
use super::{close_pipeline, materialize, open_node, open_pipeline, streams_output, Context};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::memory::{frame_bytes, Reservation};
use crate::physical::{FitState, ModelFit, PhysicalNode, Pipeline, Source, StreamOp};

/// Morsels per wave, in pool widths: enough to keep every worker busy between merges.
const WAVE_WIDTHS: usize = 4;

/// Fit `model` on the rows of `input`, streaming them when the model can.
pub(super) fn fit(
    input: &PhysicalNode,
    model: &dyn ModelFit,
    ctx: &mut Context,
) -> Result<Box<dyn Any + Send>> {
    let name = format!("FIT ({})", model.text());
    if model.stream().is_none() {
        return in_memory(input, model, ctx, &name);
    }
    let (source, ops, pipeline) = match input {
        PhysicalNode::Pipeline(p) => (open_pipeline(p, ctx)?, &p.ops[..], Some(p)),
        other => (open_node(other, ctx)?, &[][..], None),
    };
    let held = ctx.reserve(name.as_str());
    let running = Running::new(source, ops, ctx);
    let streamed = stream(&running, model, &held);
    drop(running);
    if let Some(p) = pipeline {
        close_pipeline(p, ctx);
    }
    let streamed = match streamed {
        Ok(s) => s,
        // The states themselves do not fit (a wide covariance): a fit by passes may.
        Err(e) => {
            drop(held);
            return over_budget(input, model, ctx, &name, e);
        }
    };
    match streamed {
        Streamed::Model(m) => Ok(m),
        Streamed::Kept(pieces) => {
            let schema = input.schema();
            let df = if pieces.is_empty() {
                DataFrame::empty(schema)
            } else {
                DataFrame::vstack(schema, &pieces)?
            };
            match model.fit(&df, &held) {
                Err(e) if is_over(&e, &name) => {
                    drop((df, pieces, held));
                    over_budget(input, model, ctx, &name, e)
                }
                fitted => fitted,
            }
        }
        Streamed::NeedsInput => {
            drop(held);
            in_memory(input, model, ctx, &name)
        }
    }
}

/// Whether `e` is the fit's own memory error (`name`: its operator name).
fn is_over(e: &Error, name: &str) -> bool {
    matches!(e, Error::MemoryLimit { operator, .. } if operator == name)
}

/// Fit `model` on its input materialized; when the input, or what the fit holds beside it
/// (reserved under the same name), is over the budget, as [`over_budget`] says.
fn in_memory(
    input: &PhysicalNode,
    model: &dyn ModelFit,
    ctx: &mut Context,
    name: &str,
) -> Result<Box<dyn Any + Send>> {
    match materialize(input, ctx, name) {
        Ok((df, held)) => match model.fit(&df, &held) {
            Err(e) if is_over(&e, name) => {
                drop((df, held));
                over_budget(input, model, ctx, name, e)
            }
            fitted => fitted,
        },
        Err(e) => over_budget(input, model, ctx, name, e),
    }
}

/// The pipeline a fit can read again pass after pass (a file or a frame, through streaming
/// operators without windows), when the model has such a fit.
fn rereadable<'p>(input: &'p PhysicalNode, model: &dyn ModelFit) -> Option<&'p Pipeline> {
    model.rescan_chunk_rows()?;
    match input {
        PhysicalNode::Pipeline(p)
            if matches!(p.source, Source::Scan { .. } | Source::Frame(_))
                && !p
                    .ops
                    .iter()
                    .any(|(op, _)| matches!(op, StreamOp::Window { .. })) =>
        {
            Some(p)
        }
        _ => None,
    }
}

/// After the input did not fit the budget (`e`, `FIT`'s memory error): a model that can fit
/// chunk by chunk reads a re-readable input again on every pass (see `rescan.rs`), or any
/// other streamable input spilled once to a file (see `spilled.rs`); otherwise, or when the
/// model finds it needs its input in memory after all, `e` stands.
fn over_budget(
    input: &PhysicalNode,
    model: &dyn ModelFit,
    ctx: &mut Context,
    name: &str,
    e: Error,
) -> Result<Box<dyn Any + Send>> {
    let rows = match model.rescan_chunk_rows() {
        Some(rows) if is_over(&e, name) => rows,
        _ => return Err(e),
    };
    let budget = ctx.reserve(name);
    let fitted = if let Some(p) = rereadable(input, model) {
        // A failed attempt may have left its join builds behind.
        close_pipeline(p, ctx);
        let source = open_pipeline(p, ctx)?;
        let running = Running::new(source, &p.ops, ctx);
        let out =
            Rescan::new(&running, rows).and_then(|chunks| model.fit_rescanning(&chunks, &budget));
        drop(running);
        close_pipeline(p, ctx);
        out?
    } else {
        let (source, ops, pipeline) = match input {
            PhysicalNode::Pipeline(p) => {
                close_pipeline(p, ctx);
                (open_pipeline(p, ctx)?, &p.ops[..], Some(p))
            }
            node if streams_output(node) => (open_node(input, ctx)?, &[][..], None),
            _ => return Err(e),
        };
        let running = Running::new(source, ops, ctx);
        let spilled = SpilledChunks::write(&running, &ctx.spill, rows);
        drop(running);
        if let Some(p) = pipeline {
            close_pipeline(p, ctx);
        }
        model.fit_rescanning(&spilled?, &budget)?
    };
    fitted.ok_or(e)
}

/// What a streaming pass ends with.
enum Streamed {
    Model(Box<dyn Any + Send>),
    /// The fit needs its input, and these pieces are all of it.
    Kept(Vec<DataFrame>),
    /// The fit needs its input, which was not kept.
    NeedsInput,
}

/// One morsel's state and the pieces it kept (`None` once it stopped keeping).
type MorselFit = (Box<dyn FitState>, Option<Vec<DataFrame>>);

/// One pass of `model`'s streaming fit over `running`'s morsels; `held` reserves the states
/// and the kept pieces.
fn stream(running: &Running, model: &dyn ModelFit, held: &Reservation) -> Result<Streamed> {
    let new_state = || {
        model
            .stream()
            .ok_or_else(|| Error::Internal("a streaming fit stopped streaming".into()))
    };
    let keep_rows = model.keep_rows();
    let keeping = AtomicBool::new(keep_rows > 0);
    let n = running.num_morsels();
    let wave = running.wave() * WAVE_WIDTHS;
    let mut total = new_state()?;
    held.try_grow(total.bytes() * (wave.min(n) + 1))?;
    let mut kept: Option<(Vec<DataFrame>, usize)> = (keep_rows > 0).then(|| (vec![], 0));
    let mut carry = Carry::default();
    for morsels in running.waves(0, wave) {
        let start = |_| Ok((new_state()?, keeping.load(Ordering::Relaxed).then(Vec::new)));
        let parts = running.run_morsels(
            morsels,
            &mut carry,
            false,
            &start,
            &|(state, pieces): &mut MorselFit, piece, _| {
                state.update(&piece)?;
                if let Some(p) = pieces {
                    let rows = p.iter().map(DataFrame::height).sum::<usize>() + piece.height();
                    if rows <= keep_rows && held.try_grow(frame_bytes(&piece)).is_ok() {
                        p.push(piece);
                    } else {
                        held.shrink(p.iter().map(frame_bytes).sum());
                        *pieces = None;
                        keeping.store(false, Ordering::Relaxed);
                    }
                }
                Ok(())
            },
        )?;
        for (state, pieces) in parts {
            total.merge(state)?;
            kept = match (kept, pieces) {
                (Some((mut all, rows)), Some(p)) => {
                    let more: usize = p.iter().map(DataFrame::height).sum();
                    all.extend(p);
                    Some((all, rows + more))
                }
                (all, p) => {
                    let bytes = |v: &Vec<DataFrame>| v.iter().map(frame_bytes).sum::<usize>();
                    held.shrink(all.map_or(0, |(v, _)| bytes(&v)) + p.as_ref().map_or(0, bytes));
                    keeping.store(false, Ordering::Relaxed);
                    None
                }
            };
        }
    }
    Ok(match total.finish()? {
        Some(m) => Streamed::Model(m),
        None => match kept {
            Some((pieces, rows)) if rows <= keep_rows => Streamed::Kept(pieces),
            _ => Streamed::NeedsInput,
        },
    })
}
