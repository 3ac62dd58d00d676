//! Sinks: a query's output written to a file as its morsels complete, in row order, without
//! collecting it (`sink_parquet`, `sink_ipc`, `sink_csv`, the CLI's `--output`).
//!
//! A sink is a consumer of the plan's last pipeline, like the aggregate engine: it runs the
//! morsels a wave at a time (one per worker), each piece going through the operators and
//! being prepared for the file on the worker that made it (CSV text is formatted there).
//! Pieces go to the file writer (`io::sink`) in row order as they come: the lowest unwritten
//! morsel's pieces are written at once by whichever worker holds the writer, and only the
//! pieces of the morsels after it wait, so at most a wave's later morsels are held, whatever
//! the output's size (a 10,000-column morsel of 1,000 rows is 40 MB). Nothing blocks: a worker
//! that finds the writer busy leaves its piece queued for the holder, who looks again before
//! letting go. A pipeline with window operators (each morsel carries the rows before it)
//! runs its waves in order instead, writing one wave while the next is computed. A plan
//! ending in a breaker (a sort's merge, an aggregate) feeds the sink through the pipeline
//! that reads the breaker's output.
//!
//! The writer's own buffers (a Parquet row group's encoded pages) are reserved from the
//! memory budget as `SINK`; when the budget is short, the row group ends early instead. Any
//! error (in any morsel, or writing) drops the writer, which removes its temporary file.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;

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
        let rows = if running.has_windows() {
            write_in_order(&running, format, file.as_mut(), options)?
        } else {
            write_as_they_come(&running, format, file.as_mut(), options)?
        };
        file.finish()?;
        Ok(rows)
    })
}

/// Run every morsel of `running` and write its pieces in row order, one wave computing while
/// the one before is written (for pipelines with windows, whose waves run in order).
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

/// The pieces waiting for the writer: those of morsel `next` are written as they come, the
/// later morsels' wait in their queues.
#[derive(Default)]
struct Waiting {
    next: usize,
    /// Per morsel from `next` on: its pieces not yet written, and whether it is complete.
    queues: BTreeMap<usize, (VecDeque<Encoded>, bool)>,
}

impl Waiting {
    /// The next piece that may be written, moving `next` past complete morsels.
    fn pop(&mut self) -> Option<Encoded> {
        loop {
            let (queue, complete) = self.queues.get_mut(&self.next)?;
            if let Some(piece) = queue.pop_front() {
                return Some(piece);
            }
            if !*complete {
                return None;
            }
            self.queues.remove(&self.next);
            self.next += 1;
        }
    }

    /// Whether a piece may be written now (or `next` can move on).
    fn writable(&self) -> bool {
        self.queues
            .get(&self.next)
            .is_some_and(|(q, complete)| !q.is_empty() || *complete)
    }
}

/// The file and what has been written to it.
struct Writer<'f> {
    file: &'f mut dyn FileSink,
    written: u64,
    memory: crate::memory::Reservation,
}

/// Run every morsel of `running`, a wave at a time, writing each piece as soon as every piece
/// before it is written (see the module docs).
fn write_as_they_come(
    running: &Running,
    format: &SinkFormat,
    file: &mut dyn FileSink,
    options: &ExecOptions,
) -> Result<u64> {
    let n = running.num_morsels();
    let waiting = Mutex::new(Waiting::default());
    let writer = Mutex::new(Writer {
        file,
        written: 0,
        memory: running.reserve("SINK"),
    });
    let mut start = 0;
    while start < n {
        let end = (start + running.wave()).min(n);
        (start..end)
            .into_par_iter()
            .try_for_each(|i| -> Result<()> {
                running.run_morsels(
                    i..i + 1,
                    &mut Carry::default(),
                    false,
                    &|_| Ok(()),
                    &|_, piece, _| {
                        let piece = encode(format, piece)?;
                        lock(&waiting)?
                            .queues
                            .entry(i)
                            .or_default()
                            .0
                            .push_back(piece);
                        drain(&waiting, &writer, options)
                    },
                )?;
                lock(&waiting)?.queues.entry(i).or_default().1 = true;
                drain(&waiting, &writer, options)
            })?;
        start = end;
    }
    // Every morsel is complete, so whoever held the writer last wrote every piece.
    let writer = writer
        .into_inner()
        .map_err(|_| Error::Internal("sink writer poisoned".into()))?;
    if lock(&waiting)?.next != n {
        return Err(Error::Internal("sink pieces left unwritten".into()));
    }
    Ok(writer.written)
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| Error::Internal("sink state poisoned".into()))
}

/// Write every piece that may be written now, if the writer is free; its holder looks again
/// after letting it go, so a piece queued meanwhile by a worker that found it busy is not
/// left behind.
fn drain(waiting: &Mutex<Waiting>, writer: &Mutex<Writer>, options: &ExecOptions) -> Result<()> {
    loop {
        let mut w = match writer.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::WouldBlock) => return Ok(()),
            Err(std::sync::TryLockError::Poisoned(_)) => {
                return Err(Error::Internal("sink writer poisoned".into()))
            }
        };
        loop {
            let Some(piece) = lock(waiting)?.pop() else {
                break;
            };
            let rows = piece.rows() as u64;
            w.file.write(piece)?;
            let buffered = w.file.buffered();
            if w.memory.try_resize(buffered).is_err() {
                // Short of memory: the open row group ends here.
                w.file.flush()?;
                w.memory.free();
            }
            w.written += rows;
            if let Some(cb) = &options.rows_written {
                cb(w.written);
            }
        }
        drop(w);
        if !lock(waiting)?.writable() {
            return Ok(());
        }
    }
}
