//! A row group's column chunks decoded in page ranges side by side, so a scan of one or two
//! columns of a file with one large row group uses every thread of the run's pool.
//!
//! Each projected column's data pages are located once (the chunk's offset index when the
//! file has one, else its page headers, read one after another without their bodies) and
//! grouped into ranges of whole pages holding about [`RANGE_BYTES`] of decoded values. A
//! range is decoded by a decoder started at its first page header (`Piece::fork`), with the
//! dictionary the chunk's first page holds, read once and shared. The decoded rows are cut on
//! the same grid of `batch` rows from the row group's start as a sequential decode cuts its
//! pieces, and a piece that spans two ranges is put together from its two parts; pieces are
//! handed on in row order. So the pieces (boundaries, values, validity) are the ones a
//! sequential decode gives, for any thread count and piece size. A range must end exactly
//! where the next one begins (its last page used up at the next range's first header): a file
//! whose page locations disagree with its pages is an error, never other rows.
//!
//! The thread that consumes the pieces decodes ranges too: it takes the next range it needs
//! when no other thread has started it, and otherwise helps with a later one. At most as many
//! ranges as the pool has threads are decoded ahead of the one being consumed, so memory stays
//! a few ranges whatever the row group's size; that much is reserved from the run's budget
//! first (`Split::held_bytes`), and without room the row group is decoded piece by piece.
//! Ranges are kept small (about 1 MiB) because what is decoded ahead is memory touched
//! afresh: with 2 MiB ranges and twice as many ahead, a one-column sum of 10M rows took
//! 3,000 more page faults and 60% more CPU time than a sequential decode.
//!
//! Whether to split is fixed before decoding, from the footer and the page locations: a pool
//! with more threads than the scan has columns and row groups, and a column with pages enough
//! for two ranges. Otherwise the chunk is decoded piece by piece as before (the arrow-reader
//! path for other columns is not split: see `parquet_columns`).

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use arrow::array::{Array, ArrayRef};
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::page_index::index_reader::decode_offset_index;

use super::chunk::Pages;
use super::{as_type, slice_piece, value_width, Reader};
use crate::error::{Error, Result};

/// Decoded bytes a range of pages aims at: pages are usually 1 MiB or 20,000 rows, so a
/// range is one to a few pages, and its start-up (a decoder, a shared dictionary, one piece
/// put together from two parts) is small beside decoding it.
pub(super) const RANGE_BYTES: usize = 1 << 20;

/// Whether the current thread may split the chunks of a row group with `columns` decoded
/// columns, in a scan of `row_groups` row groups: it is a worker of a pool with more threads
/// than there are columns (each already a task of its own) and row groups (each a morsel).
pub(super) fn worth_splitting(columns: usize, row_groups: usize) -> bool {
    let threads = rayon::current_num_threads();
    rayon::current_thread_index().is_some() && threads > columns && threads > row_groups
}

/// One page range of one column: from the page header at `at`, rows `start..end` of the row
/// group; the next range of the column starts at `next_at`.
#[derive(Debug)]
struct Range {
    column: usize,
    at: u64,
    start: usize,
    end: usize,
    next_at: Option<u64>,
    /// Bytes its decoded rows take (values and validity).
    bytes: usize,
}

/// A row group's columns as page ranges, in row order (then column order).
pub(super) struct Split {
    ranges: Vec<Range>,
    rows: usize,
    batch: usize,
}

impl Split {
    /// The ranges of the leading `rows` rows of the chunks `chunks` (one per reader, in
    /// order), each of about `range_bytes` decoded, or `None` when no column has pages enough for two ranges. Reads each chunk's
    /// dictionary into its reader (an error there is the scan's: a sequential decode would
    /// meet it first thing too).
    pub(super) fn plan<'c>(
        file: &File,
        file_len: u64,
        chunks: impl Iterator<Item = &'c ColumnChunkMetaData>,
        readers: &mut [Reader<'_>],
        (rows, batch, range_bytes): (usize, usize, usize),
        fail: &(dyn Fn(&str, &dyn std::fmt::Display) -> Error + Sync),
    ) -> Result<Option<Split>> {
        let mut ranges = Vec::new();
        let mut split = false;
        for (column, (chunk, (name, reader, ty))) in chunks.zip(readers.iter_mut()).enumerate() {
            let first = reader.load_dictionary().map_err(|m| fail(name, &m))?;
            let pages = page_starts(file, file_len, chunk, first);
            let cuts =
                pages.map_or_else(Vec::new, |p| cut(&p, rows, range_bytes / value_width(ty)));
            split |= cuts.len() > 1;
            // A column without page locations (or with one range) is one range from the
            // first page after its dictionary.
            let cuts = if cuts.is_empty() {
                vec![(first, 0)]
            } else {
                cuts
            };
            for (k, &(at, start)) in cuts.iter().enumerate() {
                let next = cuts.get(k + 1);
                let end = next.map_or(rows, |n| n.1);
                ranges.push(Range {
                    column,
                    at,
                    start,
                    end,
                    next_at: next.map(|n| n.0),
                    bytes: (end - start).saturating_mul(value_width(ty)) + (end - start) / 8,
                });
            }
        }
        if !split || rows == 0 {
            return Ok(None);
        }
        ranges.sort_by_key(|r| (r.start, r.column));
        let batch = batch.max(1);
        Ok(Some(Split {
            ranges,
            rows,
            batch,
        }))
    }

    /// Ranges decoded ahead of the consumer on the current pool, at most.
    fn ahead() -> usize {
        rayon::current_num_threads()
    }

    /// What [`read`](Self::read) holds at most: the ranges decoded ahead, the one being
    /// consumed, and a range's worth per column waiting to be put together into pieces.
    pub(super) fn held_bytes(&self) -> usize {
        let largest = self.ranges.iter().map(|r| r.bytes).max().unwrap_or(0);
        let columns = self.ranges.iter().map(|r| r.column + 1).max().unwrap_or(0);
        largest.saturating_mul(Self::ahead() + 1 + columns)
    }

    /// Decode the ranges on the pool and hand the pieces to `f` in row order.
    pub(super) fn read(
        self,
        readers: &[Reader<'_>],
        fail: &(dyn Fn(&str, &dyn std::fmt::Display) -> Error + Sync),
        f: &mut dyn FnMut(Vec<ArrayRef>) -> Result<()>,
    ) -> Result<()> {
        #[cfg(test)]
        SPLITS.with(|n| n.set(n.get() + 1));
        let decode = |k: usize| self.decode(k, readers, fail);
        let slots = Slots::new(self.ranges.len());
        let ahead = Self::ahead();
        rayon::in_place_scope(|s| {
            // However the consumer leaves (done, an error, a panic), ranges not yet started
            // are dropped.
            let _stop = Stop(&slots.stop);
            let (slots, decode) = (&slots, &decode);
            let mut spawned = 0;
            let mut queues: Vec<VecDeque<(usize, ArrayRef)>> = vec![VecDeque::new(); readers.len()];
            let mut taken = 0;
            for piece_start in (0..self.rows).step_by(self.batch) {
                let piece_end = (piece_start + self.batch).min(self.rows);
                while let Some(range) = self.ranges.get(taken).filter(|r| r.start < piece_end) {
                    while spawned < self.ranges.len().min(taken + 1 + ahead) {
                        let k = spawned;
                        s.spawn(move |_| slots.run(k, decode));
                        spawned += 1;
                    }
                    let parts = slots.take(taken, spawned, decode)?;
                    let mut at = range.start;
                    for a in parts {
                        let len = a.len();
                        queues[range.column].push_back((at, a));
                        at += len;
                    }
                    taken += 1;
                }
                let mut piece = Vec::with_capacity(queues.len());
                for q in &mut queues {
                    let mut parts = Vec::with_capacity(1);
                    while q.front().is_some_and(|(at, _)| *at < piece_end) {
                        parts.extend(q.pop_front().map(|(_, a)| a));
                    }
                    piece.push(join(parts, piece_end - piece_start)?);
                }
                f(piece)?;
            }
            Ok(())
        })
    }

    /// Range `k`'s rows, cut on the piece grid.
    fn decode(
        &self,
        k: usize,
        readers: &[Reader<'_>],
        fail: &(dyn Fn(&str, &dyn std::fmt::Display) -> Error + Sync),
    ) -> Result<Vec<ArrayRef>> {
        let range = self
            .ranges
            .get(k)
            .ok_or_else(|| Error::Internal(format!("no page range {k}")))?;
        let (name, first, ty) = readers
            .get(range.column)
            .ok_or_else(|| Error::Internal(format!("no column {}", range.column)))?;
        let mut column = first.fork(range.at, range.start);
        let mut parts = Vec::new();
        let mut row = range.start;
        while row < range.end {
            let stop = ((row / self.batch + 1) * self.batch).min(range.end);
            let a = column.piece(stop - row).map_err(|m| fail(name, &m))?;
            parts.push(as_type(a, ty).map_err(|e| fail(name, &e))?);
            row = stop;
        }
        if let Some(next) = range.next_at {
            if !column.ends_before(next) {
                let m = format!(
                    "the page holding row {} does not end at byte {next}, where its page \
                     locations put the next page",
                    range.end.saturating_sub(1)
                );
                return Err(fail(name, &m));
            }
        }
        Ok(parts)
    }
}

#[cfg(test)]
thread_local! {
    /// Row groups this thread decoded in page ranges (for tests: that a split happened).
    pub(super) static SPLITS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A piece's column from its parts (one, or two when the piece spans ranges), as a
/// sequential decode gives it: one buffer, a validity bitmap only if a row is null.
fn join(mut parts: Vec<ArrayRef>, rows: usize) -> Result<ArrayRef> {
    let len: usize = parts.iter().map(|a| a.len()).sum();
    if len != rows {
        return Err(Error::Internal(format!(
            "page ranges gave {len} rows for a piece of {rows}"
        )));
    }
    if parts.len() == 1 {
        if let Some(a) = parts.pop() {
            return Ok(a);
        }
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    let a = arrow::compute::concat(&refs)?;
    Ok(slice_piece(&a, 0, a.len())?)
}

/// Where each data page of `chunk` starts (the byte its range would be read from) and its
/// first row; the first page is read from `first` (after the dictionary page). From the
/// offset index when the chunk has a sound one, else from the page headers; `None` when the
/// headers do not read (the sequential decode then reports it) or a dictionary page follows a
/// data page.
fn page_starts(
    file: &File,
    file_len: u64,
    chunk: &ColumnChunkMetaData,
    first: u64,
) -> Option<Vec<(u64, usize)>> {
    offset_index(file, chunk, first).or_else(|| page_headers(file, file_len, chunk, first))
}

fn offset_index(file: &File, chunk: &ColumnChunkMetaData, first: u64) -> Option<Vec<(u64, usize)>> {
    let range = chunk.offset_index_range()?;
    // An offset index is 3 small integers per page; a larger one is damaged.
    let len = usize::try_from(range.end.checked_sub(range.start)?).ok()?;
    if len > 64 << 20 {
        return None;
    }
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, range.start).ok()?;
    let index = decode_offset_index(&bytes).ok()?;
    let (_, end) = chunk.byte_range();
    let mut out: Vec<(u64, usize)> = Vec::with_capacity(index.page_locations().len());
    for (k, p) in index.page_locations().iter().enumerate() {
        let (at, row) = (
            u64::try_from(p.offset).ok()?,
            usize::try_from(p.first_row_index).ok()?,
        );
        let at = if k == 0 { first } else { at };
        let sound = match out.last() {
            None => row == 0,
            Some(&(a, r)) => at > a && row > r,
        };
        if !sound || at < first || at >= end {
            return None;
        }
        out.push((at, row));
    }
    Some(out)
}

fn page_headers(
    file: &File,
    file_len: u64,
    chunk: &ColumnChunkMetaData,
    first: u64,
) -> Option<Vec<(u64, usize)>> {
    let mut pages = Pages::new(file, file_len, chunk).ok()?;
    pages.next = first;
    let (mut out, mut row, mut from) = (Vec::new(), 0usize, first);
    while pages.next < pages.end {
        let (h, body) = pages.header().ok()?;
        let size = u64::try_from(h.ints.count(3).ok()?).ok()?;
        let stop = body.checked_add(size).filter(|&s| s <= pages.end)?;
        match (h.ints.int(1).ok()?, &h.sub) {
            // Data pages, V1 and V2: a flat column has a level per row.
            (0, Some((5, d))) | (3, Some((8, d))) => {
                out.push((from, row));
                row = row.checked_add(d.count(1).ok()?)?;
                from = stop;
            }
            // An index page is read through by the range of the page after it.
            (1, _) => {}
            _ => return None,
        }
        pages.next = stop;
    }
    Some(out)
}

/// Where the ranges of a column begin: (page start, first row), at page starts, each range
/// holding at least `per` rows (the last may hold less), within the leading `rows` rows.
fn cut(pages: &[(u64, usize)], rows: usize, per: usize) -> Vec<(u64, usize)> {
    let per = per.max(1);
    let mut out: Vec<(u64, usize)> = Vec::new();
    for &(at, row) in pages.iter().take_while(|p| p.1 < rows) {
        if out.last().is_none_or(|&(_, start)| row - start >= per) {
            out.push((at, row));
        }
    }
    // A short last range goes with the one before.
    if out.len() > 1 && out.last().is_some_and(|&(_, start)| rows - start < per / 2) {
        out.pop();
    }
    out
}

/// The ranges' results, claimed by whichever thread starts them first.
struct Slots {
    claimed: Vec<AtomicBool>,
    done: Mutex<Vec<Option<Result<Vec<ArrayRef>>>>>,
    ready: Condvar,
    stop: AtomicBool,
}

/// Sets the flag when dropped: ranges not started by then are not decoded.
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Fills a claimed range's slot with an error if its decode panics, so the consumer waiting
/// for it wakes up (the panic itself goes on to the scope's caller).
struct Claim<'a> {
    slots: &'a Slots,
    k: usize,
    filled: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.filled {
            let e = Error::Internal("decoding a page range panicked".into());
            self.slots.fill(self.k, Err(e));
        }
    }
}

impl Slots {
    fn new(n: usize) -> Self {
        Self {
            claimed: (0..n).map(|_| AtomicBool::new(false)).collect(),
            done: Mutex::new((0..n).map(|_| None).collect()),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
        }
    }

    fn claim(&self, k: usize) -> bool {
        self.claimed
            .get(k)
            .is_some_and(|c| !c.load(Ordering::Relaxed) && !c.swap(true, Ordering::AcqRel))
    }

    fn fill(&self, k: usize, r: Result<Vec<ArrayRef>>) {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = done.get_mut(k) {
            *slot = Some(r);
        }
        self.ready.notify_all();
    }

    /// A pool thread's task: range `k`, unless the consumer stopped or someone started it.
    fn run(&self, k: usize, decode: &(dyn Fn(usize) -> Result<Vec<ArrayRef>> + Sync)) {
        if self.stop.load(Ordering::Relaxed) || !self.claim(k) {
            return;
        }
        let mut claim = Claim {
            slots: self,
            k,
            filled: false,
        };
        let r = decode(k);
        claim.filled = true;
        self.fill(k, r);
    }

    /// Range `k`'s parts, for the consumer: decoded here if no thread has started it; while
    /// another thread decodes it, help with a later range (below `upto`), then wait.
    fn take(
        &self,
        k: usize,
        upto: usize,
        decode: &(dyn Fn(usize) -> Result<Vec<ArrayRef>> + Sync),
    ) -> Result<Vec<ArrayRef>> {
        loop {
            if self.claim(k) {
                return decode(k);
            }
            let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = done.get_mut(k).and_then(Option::take) {
                return r;
            }
            drop(done);
            if let Some(j) = (k + 1..upto).find(|&j| self.claim(j)) {
                let r = decode(j);
                self.fill(j, r);
                continue;
            }
            let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                let slot = done
                    .get_mut(k)
                    .ok_or_else(|| Error::Internal(format!("no page range {k}")))?;
                if let Some(r) = slot.take() {
                    return r;
                }
                done = self
                    .ready
                    .wait(done)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}
