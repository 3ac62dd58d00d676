//! The `FIT` operator: a model's fit over its input. A model with a one-pass fit
//! ([`ModelFit::stream`]: covariance PCA, least squares) is driven over the input's morsels
//! as they stream, never materializing the input: each morsel folds its pieces into its own
//! state and the states merge in morsel order, a few pool widths of morsels at a time (so at
//! most that many states are alive, reserved from the budget), giving the same bits for any
//! thread count and memory budget.
//!
//! A model whose fit makes many passes (k-means, randomized PCA) gets its input materialized
//! while it fits the budget: a pipeline over a file or a frame hands the fit its output pieces
//! as they come (a mapped IPC file's batches, a frame's slices, a Parquet scan's decoded
//! pieces), never copied into one frame, which the model reads in place (`ml::segments`); past that, when the input is a re-readable pipeline (a file or a
//! frame through streaming operators), it reads the input again on every pass, in fixed
//! chunks of rows (`rescan.rs`); any other streamable input (a pipeline over a sort or with
//! windows, a sort's, an arg_sort's or a join's output) is spilled once to a file of such
//! chunks in the run's temporary directory and read from there (`spilled.rs`). Either way the
//! fit holds only its per-row and thin results. An input of another kind (an aggregate's
//! output, a group-by's) over the budget, or a model that needs its input in memory after all
//! (the full PCA solver), stops with the `FIT` error.
//!
//! A model that fits on a row-major copy of its input (narrow k-means) gets it without the
//! columns: a file's scan writes each morsel's pieces straight into their rows of that matrix
//! ([`ModelFit::row_major_features`]), which is all the fit holds of its input.
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
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use arrow::array::{Array, ArrayRef, Float32Array, Float64Array};
use arrow::datatypes::DataType;

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
        if let Some(fitted) = rows_streamed(input, model, ctx, &name)? {
            return fitted;
        }
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
        Streamed::Kept(pieces) => match model.fit(&input.schema(), pieces, &held) {
            Err(e) if is_over(&e, &name) => {
                drop(held);
                over_budget(input, model, ctx, &name, e)
            }
            fitted => fitted,
        },
        Streamed::NeedsInput => {
            drop(held);
            in_memory(input, model, ctx, &name)
        }
    }
}

/// A model that takes its input as one row-major matrix ([`ModelFit::row_major_features`])
/// gets it written piece by piece as a file's scan streams, each morsel into its own rows
/// (the morsels' heights are known before decoding), never held as columns. `None` (nothing
/// fitted, the pipeline closed again) where that does not apply: another source, unknown
/// heights, features other than Float64 and Float32, a null among them (the in-memory fit then
/// reads the input again and reports it), or a matrix over the budget.
fn rows_streamed(
    input: &PhysicalNode,
    model: &dyn ModelFit,
    ctx: &mut Context,
    name: &str,
) -> Result<Option<Result<Box<dyn Any + Send>>>> {
    let (Some(features), PhysicalNode::Pipeline(p)) = (model.row_major_features(), input) else {
        return Ok(None);
    };
    if !matches!(p.source, Source::Scan { .. }) {
        return Ok(None);
    }
    let source = open_pipeline(p, ctx)?;
    let running = Running::new(source, &p.ops, ctx);
    let held = ctx.reserve(name);
    let x = write_rows(&running, features, &held);
    drop(running);
    close_pipeline(p, ctx);
    let Some(x) = x? else {
        return Ok(None);
    };
    Ok(Some(match model.fit_row_major(x, &held) {
        Err(e) if is_over(&e, name) => {
            drop(held);
            over_budget(input, model, ctx, name, e)
        }
        fitted => fitted,
    }))
}

/// The features of every row of `running`'s output, row-major, reserved from `held`; `None`
/// when they cannot be written so (see [`rows_streamed`]).
fn write_rows(
    running: &Running,
    features: &[String],
    held: &Reservation,
) -> Result<Option<Vec<f64>>> {
    let schema = running.schema();
    let mut cols = Vec::with_capacity(features.len());
    for f in features {
        match schema.index_of(f) {
            Ok(j)
                if matches!(
                    schema.field(j).data_type(),
                    DataType::Float64 | DataType::Float32
                ) =>
            {
                cols.push(j)
            }
            _ => return Ok(None),
        }
    }
    let Some(heights) = running.known_heights() else {
        return Ok(None);
    };
    let (n, d) = (heights.iter().sum::<usize>(), cols.len());
    if n == 0 || d == 0 || held.try_grow(n * d * std::mem::size_of::<f64>()).is_err() {
        return Ok(None);
    }
    let mut x: Vec<f64> = Vec::with_capacity(n * d);
    // Each morsel's rows, taken by the morsel when it starts.
    let mut rest = &mut x.spare_capacity_mut()[..n * d];
    let mut slots = Vec::with_capacity(heights.len());
    for h in &heights {
        let (mine, others) = std::mem::take(&mut rest).split_at_mut(h * d);
        slots.push(Mutex::new(Some(mine)));
        rest = others;
    }
    let clean = AtomicBool::new(true);
    let parts = running.run_morsels(
        0..heights.len(),
        &mut Carry::default(),
        false,
        &|i| {
            let slot = slots[i]
                .lock()
                .map_err(|_| Error::Internal("row slot lock poisoned".into()))?
                .take()
                .ok_or_else(|| Error::Internal(format!("morsel {i} ran twice")))?;
            Ok((slot, 0usize))
        },
        &|(slot, row), piece, _| {
            let h = piece.height();
            if !clean.load(Ordering::Relaxed) || *row + h > slot.len() / d {
                clean.store(false, Ordering::Relaxed);
                return Ok(());
            }
            let columns: Vec<&ArrayRef> = cols.iter().map(|&j| &piece.columns()[j]).collect();
            if columns.iter().any(|c| c.null_count() > 0) {
                clean.store(false, Ordering::Relaxed);
                return Ok(());
            }
            let mut typed = Vec::with_capacity(d);
            for c in &columns {
                if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
                    typed.push(Feature::F64(a.values()));
                } else if let Some(a) = c.as_any().downcast_ref::<Float32Array>() {
                    typed.push(Feature::F32(a.values()));
                } else {
                    clean.store(false, Ordering::Relaxed);
                    return Ok(());
                }
            }
            write_piece(&typed, &mut slot[*row * d..(*row + h) * d]);
            *row += h;
            Ok(())
        },
    )?;
    let complete = parts
        .iter()
        .zip(&heights)
        .all(|((slot, row), h)| *row == *h && slot.len() == h * d);
    if !complete || !clean.load(Ordering::Relaxed) {
        held.shrink(n * d * std::mem::size_of::<f64>());
        return Ok(None);
    }
    drop((parts, slots));
    // SAFETY: the slots tile `0..n * d` (split in morsel order by the known heights), and every
    // morsel wrote all `h * d` values of its slot: `row == h` means its pieces covered rows
    // `0..h`, each piece writing every feature `f < d` of each of its rows.
    unsafe { x.set_len(n * d) };
    Ok(Some(x))
}

/// A feature column of a piece, in its own type.
enum Feature<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

/// Write a piece's features into its rows of the row-major `out`, a tile of rows at a time
/// (every feature of a tile while its rows are in L1: column by column over the whole piece
/// would sweep its rows once per feature).
fn write_piece(features: &[Feature], out: &mut [MaybeUninit<f64>]) {
    const TILE: usize = 256;
    let d = features.len();
    let rows = out.len() / d.max(1);
    for t0 in (0..rows).step_by(TILE) {
        let t1 = (t0 + TILE).min(rows);
        let tile = &mut out[t0 * d..t1 * d];
        for (f, feature) in features.iter().enumerate() {
            let dst = tile[f..].iter_mut().step_by(d);
            match feature {
                Feature::F64(v) => dst.zip(&v[t0..t1]).for_each(|(o, &v)| {
                    o.write(v);
                }),
                Feature::F32(v) => dst.zip(&v[t0..t1]).for_each(|(o, &v)| {
                    o.write(f64::from(v));
                }),
            }
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
    match input_pieces(input, ctx, name) {
        Ok((pieces, held)) => match model.fit(&input.schema(), pieces, &held) {
            Err(e) if is_over(&e, name) => {
                drop(held);
                over_budget(input, model, ctx, name, e)
            }
            fitted => fitted,
        },
        Err(e) => over_budget(input, model, ctx, name, e),
    }
}

/// The input's rows as pieces in order, reserved from the returned reservation: a pipeline
/// over a file or a frame gives its output pieces as they are (zero-copy for a mapped IPC
/// batch or a frame's slices: the fit reads them in place); any other input is materialized
/// into one frame.
fn input_pieces(
    input: &PhysicalNode,
    ctx: &mut Context,
    name: &str,
) -> Result<(Vec<DataFrame>, Reservation)> {
    match input {
        PhysicalNode::Pipeline(p) if matches!(p.source, Source::Scan { .. } | Source::Frame(_)) => {
            let held = ctx.reserve(name);
            // A frame's own slices are no new memory (as collecting it shares it).
            let own_slices = matches!(p.source, Source::Frame(_)) && p.ops.is_empty();
            let source = open_pipeline(p, ctx)?;
            let running = Running::new(source, &p.ops, ctx);
            let all = 0..running.num_morsels();
            let memory = (!own_slices).then_some(&held);
            let pieces = running.pieces(all, &mut Carry::default(), memory);
            drop(running);
            close_pipeline(p, ctx);
            Ok((pieces?, held))
        }
        other => {
            let (df, held) = materialize(other, ctx, name)?;
            Ok((vec![df], held))
        }
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
