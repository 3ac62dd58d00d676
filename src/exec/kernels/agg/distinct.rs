//! `n_unique`: the number of distinct values of each group, null counting as one value (as
//! Polars), every NaN as one value and `-0.0` as `0.0` (the group keys' equality).
//!
//! The accumulator keeps the set of (group, value) pairs, counting for each group the pairs
//! that were new. A sealed partial lists its values by group; merging adds each merged
//! group's values to the target group's.
//!
//! Two shapes of the same state:
//! - [`NUniqueWords`] (`distinct_words.rs`) for values of at most 8 bytes (integers, floats,
//!   dates, booleans: most of what `n_unique` counts): pairs of words, and short runs of a
//!   group's rows kept aside without hashing.
//! - [`NUniqueAcc`] for everything else (strings, decimals): pairs interned in a group
//!   table keyed on both, row-encoded.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::datatypes::DataType;

use super::distinct_words::NUniqueWords;
use super::{counts_array, downcast, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator};
use crate::error::Result;
use crate::exec::groups::{key_kind, GroupTable, KeyKind, KeySpec, Scratch};

/// A new `n_unique` state for values of type `t`: the word set when the values fit in 8
/// bytes, the byte-encoded table otherwise.
pub(super) fn n_unique(t: &DataType) -> Result<Box<dyn GroupsAccumulator>> {
    match key_kind(t)? {
        kind @ KeyKind::Fixed { width, .. } if width <= 8 => Ok(Box::new(NUniqueWords::new(kind))),
        _ => Ok(Box::new(NUniqueAcc::new(t)?)),
    }
}

/// `n_unique` of any other type: (group, value) pairs interned in a row-encoded group table.
pub(super) struct NUniqueAcc {
    table: GroupTable,
    /// The group of each pair (in the table's id order).
    pair_group: Vec<u32>,
    counts: Vec<u64>,
    /// When sealed: the pairs of each group, `by_group[offsets[g]..offsets[g + 1]]`.
    offsets: Vec<usize>,
    by_group: Vec<u32>,
    scratch: Scratch,
    ids: Vec<u32>,
}

impl NUniqueAcc {
    pub(super) fn new(t: &DataType) -> Result<Self> {
        let spec = KeySpec::rows(vec![DataType::UInt32, t.clone()])?;
        Ok(Self {
            table: GroupTable::new(Arc::new(spec)),
            pair_group: vec![],
            counts: vec![],
            offsets: vec![],
            by_group: vec![],
            scratch: Scratch::default(),
            ids: vec![],
        })
    }

    /// Count the pairs the table just gained (`before` pairs existed) for their groups.
    fn count_new(&mut self, before: usize, group: impl Fn(usize) -> u32) {
        for p in before..self.table.len() {
            let g = group(p);
            self.pair_group.push(g);
            self.counts[g as usize] += 1;
        }
    }
}

impl GroupsAccumulator for NUniqueAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "n_unique")?;
        grow(&mut self.counts, n_groups, 0);
        let gids: ArrayRef = Arc::new(match groups {
            Groups::One => UInt32Array::from(vec![0u32; values.len()]),
            Groups::Ids(ids) => UInt32Array::from(ids.to_vec()),
        });
        let spec = self.table.spec().clone();
        let keys = vec![gids.clone(), spec.prepare(1, values)?];
        let before = self.table.len();
        let mut ids = std::mem::take(&mut self.ids);
        self.table.intern(&keys, &mut ids, &mut self.scratch)?;
        // Each new pair first appears at some row; its group is that row's.
        let mut first_rows = vec![];
        let mut next = before as u32;
        for (r, id) in ids.iter().enumerate() {
            if *id == next {
                first_rows.push(r);
                next += 1;
            }
        }
        self.ids = ids;
        let g = match groups {
            Groups::One => vec![0; first_rows.len()],
            Groups::Ids(ids) => first_rows.iter().map(|&r| ids[r]).collect::<Vec<u32>>(),
        };
        self.count_new(before, |p| g[p - before]);
        Ok(())
    }

    fn seal(&mut self) -> Result<()> {
        let n = self.counts.len();
        let mut offsets = vec![0usize; n + 1];
        for g in &self.pair_group {
            offsets[*g as usize + 1] += 1;
        }
        for g in 0..n {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut by_group = vec![0u32; self.pair_group.len()];
        for (p, g) in self.pair_group.iter().enumerate() {
            let k = &mut next[*g as usize];
            by_group[*k] = p as u32;
            *k += 1;
        }
        self.offsets = offsets;
        self.by_group = by_group;
        Ok(())
    }

    fn merge(
        &mut self,
        other: &dyn GroupsAccumulator,
        from: &[u32],
        to: &[u32],
        n_groups: usize,
    ) -> Result<()> {
        let o = downcast::<Self>(other)?;
        grow(&mut self.counts, n_groups, 0);
        let mut key = vec![];
        for (s, t, _) in pairs(from, to, usize::MAX) {
            let (a, b) = match o.offsets.get(s + 1) {
                Some(&b) => (o.offsets[s], b),
                None => (0, 0),
            };
            for &p in &o.by_group[a..b] {
                // The pair's bytes with the target group in place of the source's (the group
                // column is encoded first: a validity byte and four bytes).
                key.clear();
                key.extend_from_slice(o.table.key_bytes(p));
                key[1..5].copy_from_slice(&(t as u32).to_le_bytes());
                let (_, new) = self.table.insert_row(&key);
                if new {
                    self.pair_group.push(t as u32);
                    self.counts[t] += 1;
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        Ok(counts_array(&mut self.counts, n_groups))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        self.table.size()
            + vec_bytes(&self.pair_group)
            + vec_bytes(&self.counts)
            + vec_bytes(&self.offsets)
            + vec_bytes(&self.by_group)
            + vec_bytes(&self.ids)
    }
}
