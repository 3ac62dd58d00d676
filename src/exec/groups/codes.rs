//! Multi-column keys looked up by their columns' codes: a front table for
//! [`Layout::Rows`](super::keys::Layout) that spares most rows their row encoding.
//!
//! Encoding every row of several key columns into bytes, hashing those bytes and comparing
//! them against the arena cost most of a grouping by two string columns (db-benchmark's q2,
//! TPC-H Q1): a `memmove` per string, a hash over 20-odd bytes and a slot load per row. Key
//! columns usually repeat their values, though. So each column is first interned on its own
//! into a small table of its distinct values (one word or string per row: its code), and the
//! row's tuple of codes, packed into one `u128`, is looked up in a front table that gives the
//! group id. Only a tuple not seen before is row-encoded and goes through the main table, which
//! stays the one source of ids, hashes and key bytes: ids, hashes and merges are exactly those
//! of the encoded path, only reached faster.
//!
//! Codes are local to one table, so they never leave it. When most rows of a piece are new
//! tuples (keys that rarely repeat, db-benchmark's q10) the codes only add work, and the table
//! drops them.

use arrow::array::ArrayRef;
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::keys::{fold_mul, hash_bytes, KeyKind, KeySpec, Layout, RowEncoder, K1, K2};
use super::table::{GroupTable, Scratch};
use crate::error::Result;
use crate::exec::kernels::agg::vec_bytes;
use std::sync::Arc;

/// The most key columns whose codes pack into one `u128` (32 bits each).
const MAX_COLUMNS: usize = 4;

/// Pieces at least this long whose rows are mostly new tuples turn the codes off.
const MIN_JUDGED_ROWS: usize = 4096;

/// See the module docs.
pub(crate) struct Codes {
    /// One table per key column, of its values alone (`Word` or `Str` layout).
    columns: Vec<GroupTable>,
    /// Packed code tuple -> group id in the main table.
    front: HashTable<(u128, u32)>,
    /// Each column's codes for the rows of the current piece.
    column_ids: Vec<Vec<u32>>,
}

impl Codes {
    /// Codes for keys of `spec`, when every column is one word or a string and they are few
    /// enough to pack; `None` otherwise.
    pub(crate) fn new(spec: &KeySpec) -> Option<Self> {
        let n = spec.types.len();
        if spec.layout != Layout::Rows || !(2..=MAX_COLUMNS).contains(&n) {
            return None;
        }
        let mut columns = Vec::with_capacity(n);
        for (t, kind) in spec.types.iter().zip(&spec.kinds) {
            if let KeyKind::Fixed { width, .. } = kind {
                if *width > 8 {
                    return None;
                }
            }
            let one = KeySpec::new(vec![t.clone()]).ok()?;
            if one.layout == Layout::Rows {
                return None;
            }
            columns.push(GroupTable::new(Arc::new(one)));
        }
        Some(Self {
            columns,
            front: HashTable::new(),
            column_ids: vec![vec![]; n],
        })
    }

    /// The bytes the codes hold, for the memory budget.
    pub(crate) fn size(&self) -> usize {
        self.columns.iter().map(GroupTable::size).sum::<usize>()
            + self.front.capacity() * (std::mem::size_of::<(u128, u32)>() + 1)
            + self.column_ids.iter().map(vec_bytes).sum::<usize>()
    }

    /// The group id in `table` of every row of a piece (`keys` prepared for its spec), into
    /// `ids`, as [`GroupTable::intern`] gives them; `false` when most rows were new tuples and
    /// the codes are not worth keeping.
    pub(crate) fn intern(
        &mut self,
        table: &mut GroupTable,
        keys: &[ArrayRef],
        ids: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) -> Result<bool> {
        let n = keys.first().map_or(0, |k| k.len());
        for (c, column) in self.columns.iter_mut().enumerate() {
            column.intern(&keys[c..c + 1], &mut self.column_ids[c], scratch)?;
        }
        let mut encoder = None;
        let mut new = 0;
        for r in 0..n {
            let mut tuple = 0u128;
            for (c, codes) in self.column_ids.iter().enumerate() {
                tuple |= u128::from(codes[r]) << (32 * c);
            }
            match self
                .front
                .entry(hash_tuple(tuple), |e| e.0 == tuple, |e| hash_tuple(e.0))
            {
                Entry::Occupied(e) => ids.push(e.get().1),
                Entry::Vacant(e) => {
                    // A tuple new to the front table: its group through its row's encoding
                    // (it may be a group an earlier merge put in the main table). Only such
                    // rows are encoded: a piece's first rows in a new table are most of its
                    // tuples, a later piece's a handful.
                    let rows = match &mut encoder {
                        Some(e) => e,
                        None => encoder.insert(RowEncoder::new(keys, &table.spec().kinds)?),
                    };
                    scratch.buf.clear();
                    rows.encode(r, &mut scratch.buf);
                    let key = &scratch.buf[..];
                    let id = table.bytes_id(key, hash_bytes(key)).0;
                    e.insert((tuple, id));
                    ids.push(id);
                    new += 1;
                }
            }
        }
        Ok(n < MIN_JUDGED_ROWS || new * 2 <= n)
    }
}

/// The front table's hash of a packed code tuple (local to one table, never stored).
#[inline(always)]
fn hash_tuple(t: u128) -> u64 {
    fold_mul((t as u64) ^ K1, ((t >> 64) as u64) ^ K2)
}
