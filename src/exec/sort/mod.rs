//! The SORT operator: a stable sort by key expressions, in memory while the input fits the
//! memory budget, else an external merge sort.
//!
//! The input pipeline streams in waves of morsels, in row order; each piece is buffered with
//! its keys, reserving twice its bytes from the budget (the piece, and room for sorting it:
//! the keys, the order and the sorted copy). When the next wave would not fit, the buffer is
//! sorted (the same stable kernel as the in-memory sort) and written to a spill file as a
//! sorted run, in batches small enough that a merge can hold one of every run
//! ([`spill_batch_bytes`]). If the whole input fits, it is sorted in memory and never written.
//!
//! Runs cover consecutive stretches of the input, so merging them with ties going to the
//! earlier run keeps the sort stable: the output is exactly the in-memory sort's, row for row.
//! Keys are compared in Arrow's row format after floats are mapped to the radix kernel's
//! order-preserving integers (NaN after every number, `-0.0` equal to `0.0`), so the merge
//! orders rows exactly as the kernel does. When there are more runs than the budget lets the
//! merge hold at once, consecutive runs are merged into longer ones first.
//!
//! The output is cut into pieces of [`piece_rows`] of the input schema, the same cut in
//! memory and from a merge, so operators above see the same pieces either way; the merge makes
//! them in order as the pipeline above asks for them (a [`SequentialSource`]). Keys that need
//! whole columns, and inputs that are another breaker's frame, are sorted in memory (a frame
//! too large for that spills as one run).
//!
//! The ordering expressions that stream (see `physical::ordering`) live here too: `arg_sort`
//! of an elementwise key is this sorter over (row number, key) pairs (`argsort.rs`), and
//! `top_k`/`bottom_k` need no sort at all, only a bounded selection per morsel (`topk.rs`).

mod argsort;
mod merge;
mod topk;

pub(crate) use self::argsort::open as arg_sort;
pub(crate) use self::merge::{KeyRows, Merge};
pub(crate) use self::topk::top_k;

use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, AsArray, UInt64Array};
use arrow::compute::kernels::arity::unary;
use arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Schema, SchemaRef};
use rayon::prelude::*;

use self::merge::Merger;
use super::eval::{evaluate, evaluate_array};
use super::kernels::argsort::{argsort_keys, f64_key};
use super::kernels::sort::arg_sort_u32;
use super::pipeline::{piece_rows, Carry, Kept, Opened, Running};
use super::spill::{SpillDir, SpillFile, SpillWriter};
use super::{Context, Params};
use crate::error::{Error, Result};
use crate::expr::{col, Expr, SortOptions};
use crate::frame::DataFrame;
use crate::memory::{array_bytes, frame_bytes, Reservation};
use crate::physical::{PhysicalNode, StreamOp};

/// Sort `input` by `by`: its sorted pieces, or the merge of its spilled runs.
pub(super) fn open(
    input: &PhysicalNode,
    by: &[Expr],
    options: &[SortOptions],
    ctx: &mut Context,
) -> Result<Opened> {
    let schema = input.schema();
    if !by.iter().all(Expr::is_elementwise) {
        return sort_frame(input, by, options, ctx);
    }
    let (source, ops) = stream_input(input, ctx)?;
    let running = Running::new(source, ops, ctx);
    let sorter = Sorter::new(
        by,
        options,
        schema.clone(),
        schema,
        ctx,
        ctx.reserve("SORT"),
    );
    stream(
        running,
        sorter,
        &|piece, params| Buffered::new(piece, by, params),
        Ok,
    )
}

/// `input` opened to stream: a pipeline's source and operators; another breaker's output (a
/// join's, a group-by's, a sort's merge) is read as pieces the same way, its frame held by
/// its own operator meanwhile.
fn stream_input<'p>(
    input: &'p PhysicalNode,
    ctx: &mut Context,
) -> Result<(Opened, &'p [(StreamOp, SchemaRef)])> {
    Ok(match input {
        PhysicalNode::Pipeline(p) => (super::open_pipeline(p, ctx)?, &p.ops[..]),
        other => (super::open_node(other, ctx)?, &[][..]),
    })
}

/// Buffer the pieces of `running` in waves, spilling sorted runs when the next wave would
/// not fit, then sort what is left. `piece` turns each piece into what is buffered, in
/// parallel; `buffer` finishes that in row order (where row numbers are counted).
fn stream<T: Send>(
    running: Running,
    mut sorter: Sorter,
    piece: &(dyn Fn(DataFrame, &Params) -> Result<T> + Sync),
    mut buffer: impl FnMut(T) -> Result<Buffered>,
) -> Result<Opened> {
    let mut carry = Carry::default();
    let mut last_wave = 0;
    for wave in running.waves(0, running.wave()) {
        // Room for the coming wave, judged by the last one.
        sorter.make_room(last_wave)?;
        let parts = running.run_morsels(
            wave,
            &mut carry,
            false,
            &|_| Ok(vec![]),
            &|out: &mut Vec<T>, p, _| {
                out.push(piece(p, running.params())?);
                Ok(())
            },
        )?;
        last_wave = 0;
        for t in parts.into_iter().flatten() {
            let b = buffer(t)?;
            last_wave += b.bytes;
            sorter.push(b)?;
        }
    }
    // The input's own holdings (a breaker's frame) go before the merge needs the budget.
    drop(running);
    sorter.finish()
}

/// Sort by keys that need whole columns (a rank, seeded random numbers, a scaled column):
/// the input is materialized and its keys evaluated once, then the keys ride along as extra
/// columns (so spilled runs carry them to the merge) and the frame goes through the sorter
/// in pieces, like a streamed input: a frame that fits the budget but whose sort does not
/// spills sorted runs and merges them, with the same output as in memory.
fn sort_frame(
    input: &PhysicalNode,
    by: &[Expr],
    options: &[SortOptions],
    ctx: &mut Context,
) -> Result<Opened> {
    let schema = input.schema();
    let (df, held) = super::materialize(input, ctx, "SORT")?;
    let keys = by
        .iter()
        .map(|e| evaluate_array(e, &df, true, &ctx.params))
        .collect::<Result<Vec<_>>>()?;
    held.try_grow(keys.iter().map(array_bytes).sum())?;
    let width = df.width();
    let mut fields = schema.fields().to_vec();
    let mut columns = df.columns().to_vec();
    let mut hidden = Vec::with_capacity(keys.len());
    for (i, k) in keys.into_iter().enumerate() {
        // A name no user column has: a NUL cannot come from a file header or a script.
        let name = format!("\0sort_key_{i}");
        fields.push(Arc::new(Field::new(&name, k.data_type().clone(), true)));
        columns.push(k);
        hidden.push(col(name));
    }
    let wide = DataFrame::from_arrays(Arc::new(Schema::new(fields)), columns)?;
    drop(df);
    let mut sorter = Sorter::new(
        &hidden,
        options,
        wide.schema().clone(),
        schema,
        ctx,
        ctx.reserve("SORT"),
    );
    let rows = piece_rows([wide.schema().as_ref()]);
    let mut at = 0;
    while at < wide.height() {
        let piece = wide.slice(at, rows);
        let keys = piece.columns()[width..].to_vec();
        sorter.push(Buffered::with_keys(piece, keys))?;
        at += rows;
    }
    // What was not spilled is now the buffer's (slices of the frame, reserved by the
    // sorter).
    drop(wide);
    drop(held);
    sorter.finish()
}

/// A piece of the input with its evaluated keys.
struct Buffered {
    piece: DataFrame,
    keys: Vec<ArrayRef>,
    /// The bytes of both.
    bytes: usize,
}

impl Buffered {
    fn new(piece: DataFrame, by: &[Expr], params: &Params) -> Result<Self> {
        let keys = by
            .iter()
            .map(|e| evaluate(e, &piece, params)?.into_array(piece.height()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::with_keys(piece, keys))
    }

    /// A key that is one of the piece's own columns (a sort by a column, ARG_SORT's key riding
    /// beside the row numbers) shares its buffers, so only the other keys add bytes: counting
    /// it twice would spill at half the budget.
    fn with_keys(piece: DataFrame, keys: Vec<ArrayRef>) -> Self {
        let own = |k: &ArrayRef| {
            piece
                .columns()
                .iter()
                .any(|c| std::ptr::addr_eq(Arc::as_ptr(c), Arc::as_ptr(k)))
        };
        let extra: usize = keys.iter().filter(|k| !own(k)).map(array_bytes).sum();
        let bytes = frame_bytes(&piece) + extra;
        Self { piece, keys, bytes }
    }
}

/// Bytes a sort reserves per buffered row beyond the row itself: its place in the order and
/// the radix sort's pairs.
const ORDER_BYTES: usize = 24;

/// Bytes per spill batch: a merge holds one batch of every run it merges, so smaller budgets
/// get smaller batches (64 KiB to 4 MiB: a 1/64 of the budget).
fn spill_batch_bytes(limit: usize) -> usize {
    (limit / 64).clamp(64 << 10, 4 << 20)
}

struct Sorter<'a> {
    by: &'a [Expr],
    options: &'a [SortOptions],
    /// The schema of buffered pieces and runs.
    schema: SchemaRef,
    /// The output's schema: the first columns of `schema` (the rest are keys riding along).
    out: SchemaRef,
    ctx: &'a Context,
    memory: Reservation,
    buffer: Vec<Buffered>,
    runs: Vec<Arc<SpillFile>>,
    /// The output is the rows' numbers, counted over every row pushed (ARG_SORT), and the
    /// buffered pieces hold the key alone: sorted in memory, the numbers are the sort's order
    /// itself, with nothing to gather; a spilled run gets them made from its order then (see
    /// [`Sorter::spill`]), so the buffer never holds a column of them.
    row_numbers: bool,
    /// Rows already written to runs: the number of the buffer's first row (ARG_SORT).
    spilled_rows: u64,
}

impl<'a> Sorter<'a> {
    fn new(
        by: &'a [Expr],
        options: &'a [SortOptions],
        schema: SchemaRef,
        out: SchemaRef,
        ctx: &'a Context,
        memory: Reservation,
    ) -> Self {
        Self {
            by,
            options,
            schema,
            out,
            ctx,
            memory,
            buffer: vec![],
            runs: vec![],
            row_numbers: false,
            spilled_rows: 0,
        }
    }

    /// The output is the numbers of the rows pushed, and pieces hold only the key (see
    /// `row_numbers`).
    fn of_row_numbers(mut self) -> Self {
        self.row_numbers = true;
        self
    }

    /// Twice `bytes` plus the order of `rows` rows: a buffered piece and room to sort it.
    fn cost(b: &Buffered) -> usize {
        2 * b.bytes + ORDER_BYTES * b.piece.height()
    }

    /// Spill the buffer now if `coming` more bytes would not fit beside it.
    fn make_room(&mut self, coming: usize) -> Result<()> {
        if coming == 0 || self.buffer.is_empty() {
            return Ok(());
        }
        match self.memory.try_grow(2 * coming) {
            Ok(()) => {
                self.memory.shrink(2 * coming);
                Ok(())
            }
            Err(_) => self.spill(),
        }
    }

    /// Buffer a piece, spilling the buffer first when the piece does not fit beside it.
    fn push(&mut self, b: Buffered) -> Result<()> {
        let cost = Self::cost(&b);
        if self.memory.try_grow(cost).is_err() {
            if !self.buffer.is_empty() {
                self.spill()?;
            }
            if self.memory.try_grow(cost).is_err() {
                // A piece larger than the budget on its own: it is here already, so sort and
                // spill it by itself.
                self.buffer.push(b);
                return self.spill();
            }
        }
        self.buffer.push(b);
        Ok(())
    }

    /// Sort the buffer into a run on disk and empty it.
    fn spill(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let order = sorted_order(&self.buffer, self.options)?;
        // ARG_SORT's runs carry the row numbers its buffer does not.
        let numbers = if self.row_numbers { 8 } else { 0 };
        let limit = self.memory.pool().limit();
        let rows = batch_rows(&self.buffer, numbers, spill_batch_bytes(limit));
        let mut w = SpillWriter::new(&self.ctx.spill, "sort-run", &self.schema)?;
        // Where each piece's rows are numbered from (ARG_SORT's pieces hold only the key).
        let mut starts = Vec::with_capacity(self.buffer.len());
        let mut next = self.spilled_rows;
        for b in &self.buffer {
            starts.push(next);
            next += b.piece.height() as u64;
        }
        let run = |c: &[(usize, usize)]| {
            if !self.row_numbers {
                return gather(&self.buffer, c, &self.schema);
            }
            let numbers =
                UInt64Array::from_iter_values(c.iter().map(|&(p, r)| starts[p] + r as u64));
            let key = gather_column(&self.buffer, c, 0)?;
            DataFrame::from_arrays(self.schema.clone(), vec![Arc::new(numbers), key])
        };
        // A pool's width of batches at a time: made in parallel, written in order.
        for wave in order.chunks(rows * rayon::current_num_threads().max(1)) {
            let batches = wave.par_chunks(rows).map(run).collect::<Result<Vec<_>>>()?;
            for b in &batches {
                w.write(b)?;
            }
        }
        self.spilled_rows = next;
        self.runs.push(Arc::new(w.finish()?));
        self.buffer.clear();
        self.memory.free();
        Ok(())
    }

    /// The sorted output: pieces in memory, or the merge of the runs.
    fn finish(mut self) -> Result<Opened> {
        let rows = piece_rows([self.out.as_ref()]);
        if self.runs.is_empty() {
            // The reservation already covers the sorted copy.
            let pieces = if self.row_numbers {
                let order = key_order(&self.buffer, self.options)?;
                order
                    .par_chunks(rows)
                    .map(|c| {
                        let numbers =
                            UInt64Array::from_iter_values(c.iter().map(|&r| u64::from(r)));
                        Ok(vec![DataFrame::from_arrays(
                            self.out.clone(),
                            vec![Arc::new(numbers)],
                        )?])
                    })
                    .collect::<Result<Vec<_>>>()?
            } else {
                let order = sorted_order(&self.buffer, self.options)?;
                order
                    .par_chunks(rows)
                    .map(|c| Ok(vec![gather(&self.buffer, c, &self.out)?]))
                    .collect::<Result<Vec<_>>>()?
            };
            self.buffer.clear();
            let bytes = pieces.iter().flatten().map(frame_bytes).sum();
            self.memory.try_resize(bytes)?;
            return Ok(Opened::Pieces(Box::new(Kept {
                morsels: pieces,
                schema: self.out,
                memory: Some(self.memory),
            })));
        }
        self.spill()?;
        let keys = Arc::new(KeyRows::new(
            self.by,
            self.options,
            &self.schema,
            &self.ctx.params,
        )?);
        let merge = merge_runs(
            std::mem::take(&mut self.runs),
            keys,
            (self.schema.clone(), self.out.clone()),
            (rows, spill_batch_bytes(self.memory.pool().limit())),
            self.memory,
            &self.ctx.spill,
        )?;
        Ok(Opened::Sequential(Arc::new(merge)))
    }
}

/// Sorted `runs` (in input order: ties go to the earlier run; written in batches of about
/// `batch` bytes, with columns `schema`) merged by `keys` into a source of pieces of `rows` rows
/// with the first columns, `out`, reserving from `memory`. When there are more runs than the
/// budget lets the merge hold a batch of at once, consecutive runs are merged into longer ones
/// first (written to `spill`, all columns kept).
pub(crate) fn merge_runs(
    mut runs: Vec<Arc<SpillFile>>,
    keys: Arc<KeyRows>,
    (schema, out): (SchemaRef, SchemaRef),
    (rows, batch): (usize, usize),
    memory: Reservation,
    spill: &SpillDir,
) -> Result<Merge> {
    // Each run being merged holds a batch, and the output as much again.
    let fan_in = (memory.pool().available() / (3 * batch)).clamp(2, 256);
    while runs.len() > fan_in {
        let mut longer = Vec::with_capacity(runs.len().div_ceil(fan_in));
        for group in runs.chunks(fan_in) {
            if group.len() == 1 {
                longer.push(group[0].clone());
                continue;
            }
            let mut merger = Merger::new(group.to_vec(), keys.clone(), &memory)?;
            let mut w = SpillWriter::new(spill, "sort-merged", &schema)?;
            while let Some(b) = merger.next(batch_rows_of(&schema, batch), &memory)? {
                w.write(&b)?;
            }
            drop(merger);
            longer.push(Arc::new(w.finish()?));
        }
        runs = longer;
    }
    Merge::new(runs, keys, out, rows, memory)
}

/// The buffer's rows in sorted order, as positions in the buffer counted from 0.
fn key_order(buffer: &[Buffered], options: &[SortOptions]) -> Result<Vec<u32>> {
    if buffer.is_empty() {
        return Ok(vec![]);
    }
    if let Some(order) = float_order_in_place(buffer, options) {
        return Ok(order);
    }
    let keys = (0..options.len())
        .map(|k| {
            let parts: Vec<&dyn arrow::array::Array> =
                buffer.iter().map(|b| b.keys[k].as_ref()).collect();
            Ok(arrow::compute::concat(&parts)?)
        })
        .collect::<Result<Vec<_>>>()?;
    arg_sort_u32(&keys, options)
}

/// [`key_order`] for one Float64 key without nulls in pieces of one power-of-two length (the
/// last may be shorter), as a streamed input's morsels are: the kernel's radix sort of the
/// same keys in the same row order (so the same order), reading each key from its piece in
/// place instead of from a concatenated copy of the whole column (a tenth of an in-memory
/// `arg_sort`'s time). `None` when the buffer is not of that shape.
fn float_order_in_place(buffer: &[Buffered], options: &[SortOptions]) -> Option<Vec<u32>> {
    let [o] = options else {
        return None;
    };
    let parts = buffer
        .iter()
        .map(|b| {
            let k = b.keys.first()?;
            (k.data_type() == &DataType::Float64 && k.null_count() == 0)
                .then(|| k.as_primitive::<Float64Type>().values().as_ref())
        })
        .collect::<Option<Vec<&[f64]>>>()?;
    let (last, full) = parts.split_last()?;
    // One piece alone can have any length: read it as the first of pieces of the next power.
    let len = full
        .first()
        .map_or(last.len().next_power_of_two(), |p| p.len());
    if !len.is_power_of_two() || full.iter().any(|p| p.len() != len) || last.len() > len {
        return None;
    }
    let n = full.len() * len + last.len();
    if n > u32::MAX as usize {
        return None; // the kernel reports it
    }
    let (shift, mask) = (len.trailing_zeros(), len - 1);
    // As the kernel orders a float key: its order-preserving integer, every bit flipped for
    // descending (equal keys keep their order either way).
    let flip = if o.descending { u64::MAX } else { 0 };
    Some(argsort_keys(
        |i| f64_key(parts[i >> shift][i & mask]) ^ flip,
        None,
        n,
    ))
}

/// The buffer's rows in sorted order, as (piece, row) positions.
fn sorted_order(buffer: &[Buffered], options: &[SortOptions]) -> Result<Vec<(usize, usize)>> {
    let order = key_order(buffer, options)?;
    let mut starts = Vec::with_capacity(buffer.len());
    let mut at = 0usize;
    for b in buffer {
        starts.push(at);
        at += b.piece.height();
    }
    Ok(order
        .par_iter()
        .with_min_len(1 << 14)
        .map(|&r| {
            let r = r as usize;
            let p = starts.partition_point(|&s| s <= r) - 1;
            (p, r - starts[p])
        })
        .collect())
}

/// Rows of `buffer` at `positions`, as a frame of `schema`.
fn gather(
    buffer: &[Buffered],
    positions: &[(usize, usize)],
    schema: &SchemaRef,
) -> Result<DataFrame> {
    if schema.fields().is_empty() {
        return Ok(DataFrame::with_height(positions.len()));
    }
    let cols = (0..schema.fields().len())
        .map(|c| gather_column(buffer, positions, c))
        .collect::<Result<Vec<_>>>()?;
    DataFrame::from_arrays(schema.clone(), cols)
}

/// Column `c` of the buffer's pieces at `positions`.
fn gather_column(buffer: &[Buffered], positions: &[(usize, usize)], c: usize) -> Result<ArrayRef> {
    let parts: Vec<&dyn arrow::array::Array> = buffer
        .iter()
        .map(|b| b.piece.columns()[c].as_ref())
        .collect();
    Ok(arrow::compute::interleave(&parts, positions)?)
}

/// Rows per spill batch of about `bytes`, from the buffer's bytes per row and `extra_per_row`
/// bytes a run adds to each.
fn batch_rows(buffer: &[Buffered], extra_per_row: usize, bytes: usize) -> usize {
    let rows: usize = buffer.iter().map(|b| b.piece.height()).sum();
    let size: usize = buffer.iter().map(|b| frame_bytes(&b.piece)).sum();
    (bytes / (size / rows.max(1) + extra_per_row).max(1)).max(64)
}

/// Rows per batch of about `bytes` for rows of `schema` (estimated from its types).
pub(crate) fn batch_rows_of(schema: &SchemaRef, bytes: usize) -> usize {
    let pieces = piece_rows([schema.as_ref()]);
    let per_row = super::pipeline::PIECE_BYTES / pieces.max(1);
    (bytes / per_row.max(1)).max(64)
}

/// `a` with floats replaced by the radix kernel's order-preserving `u64` keys (NaN last,
/// `-0.0 == 0.0`), so Arrow's row format orders them as the in-memory sort does.
fn comparable(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(match a.data_type() {
        DataType::Float64 => Arc::new(unary::<_, _, arrow::datatypes::UInt64Type>(
            a.as_primitive::<Float64Type>(),
            f64_key,
        )) as ArrayRef,
        DataType::Float32 => Arc::new(unary::<_, _, arrow::datatypes::UInt64Type>(
            a.as_primitive::<Float32Type>(),
            |v| f64_key(f64::from(v)),
        )),
        DataType::Float16 => comparable(&arrow::compute::cast(a, &DataType::Float64)?)?,
        DataType::Null => new_null_array(&DataType::UInt64, a.len()),
        _ => a.clone(),
    })
}

/// An internal error for a merge that ran out of rows it promised.
fn lost_rows() -> Error {
    Error::Internal("a sort's merge ended before its runs' rows".into())
}

#[cfg(test)]
mod tests;
