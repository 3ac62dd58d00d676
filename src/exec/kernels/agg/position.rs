//! Aggregates of positions: `arg_min`/`arg_max` (the index of the first extreme within the
//! group, or of the group's first NaN, as NumPy's `argmin`) and `first`/`last` (the value of
//! the group's first or last row, null included, of any type).
//!
//! An index counts every row of its group, nulls included, from the group's first row: a
//! state remembers how many rows its group had, and a merge shifts the later partial's
//! indices by it.
//!
//! `first`/`last` remember, per group, which piece and row holds the value, keeping the
//! pieces' arrays alive; a sealed partial (or one holding many pieces) gathers its chosen
//! values into one array of one value per group, which later merges point into.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, UInt64Array};
use arrow::datatypes::DataType;

use super::{
    downcast, for_each_valid, group_of, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator,
};
use crate::error::Result;
use crate::expr::AggFunc;

/// No index yet.
const NONE: u64 = u64::MAX;

pub(super) struct ArgAcc {
    min: bool,
    best: Vec<f64>,
    /// Index of the best value, `NONE` while the group has had no number.
    best_at: Vec<u64>,
    /// Index of the first NaN, `NONE` if none.
    nan_at: Vec<u64>,
    /// Rows of the group seen so far.
    rows: Vec<u64>,
}

impl ArgAcc {
    pub(super) fn new(func: &AggFunc) -> Self {
        Self {
            min: matches!(func, AggFunc::ArgMin),
            best: vec![],
            best_at: vec![],
            nan_at: vec![],
            rows: vec![],
        }
    }

    fn grow(&mut self, n: usize) {
        grow(&mut self.best, n, 0.0);
        grow(&mut self.best_at, n, NONE);
        grow(&mut self.nan_at, n, NONE);
        grow(&mut self.rows, n, 0);
    }

    /// Offer value `v` at index `idx` to group `g` (indices come in increasing order).
    #[inline(always)]
    fn offer(&mut self, g: usize, v: f64, idx: u64) {
        if v.is_nan() {
            if self.nan_at[g] == NONE {
                self.nan_at[g] = idx;
            }
            return;
        }
        let better = self.best_at[g] == NONE
            || if self.min {
                v < self.best[g]
            } else {
                v > self.best[g]
            };
        if better {
            self.best[g] = v;
            self.best_at[g] = idx;
        }
    }
}

impl GroupsAccumulator for ArgAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "arg_min")?;
        self.grow(n_groups);
        match groups {
            Groups::One => {
                let base = self.rows[0];
                for_each_valid(values, |k, v| self.offer(0, v, base + k as u64))?;
                self.rows[0] += values.len() as u64;
            }
            Groups::Ids(ids) => {
                // Each row's index within its group, before the row counts are moved on.
                let mut at = Vec::with_capacity(ids.len());
                for g in ids {
                    let r = &mut self.rows[*g as usize];
                    at.push(*r);
                    *r += 1;
                }
                for_each_valid(values, |k, v| self.offer(ids[k] as usize, v, at[k]))?;
            }
        }
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
        let old = self.rows.len();
        self.grow(n_groups);
        for (s, t, new) in pairs(from, to, old) {
            if new {
                self.best[t] = o.best[s];
                self.best_at[t] = o.best_at[s];
                self.nan_at[t] = o.nan_at[s];
                self.rows[t] = o.rows[s];
                continue;
            }
            let base = self.rows[t];
            if self.nan_at[t] == NONE && o.nan_at[s] != NONE {
                self.nan_at[t] = o.nan_at[s] + base;
            }
            if o.best_at[s] != NONE {
                self.offer(t, o.best[s], o.best_at[s] + base);
            }
            self.rows[t] += o.rows[s];
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.grow(n_groups);
        let v = (0..n_groups).map(|g| match (self.nan_at[g], self.best_at[g]) {
            (NONE, NONE) => None,
            (NONE, k) | (k, _) => Some(k),
        });
        Ok(Arc::new(UInt64Array::from_iter(v)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.best)
            + vec_bytes(&self.best_at)
            + vec_bytes(&self.nan_at)
            + vec_bytes(&self.rows)
    }
}

/// Pieces kept alive before a `last` gathers its chosen values into one array.
const MAX_PIECES: usize = 16;

pub(super) struct EdgeAcc {
    first: bool,
    dtype: DataType,
    /// The arrays the chosen values are in.
    arrays: Vec<ArrayRef>,
    /// Per group: (array, row) of its value, `None` while it has had no row.
    chosen: Vec<Option<(u32, u32)>>,
}

impl EdgeAcc {
    pub(super) fn new(func: &AggFunc, t: &DataType) -> Self {
        Self {
            first: matches!(func, AggFunc::First),
            dtype: t.clone(),
            arrays: vec![],
            chosen: vec![],
        }
    }

    /// The chosen values of the first `n` groups as one array (null where none).
    fn gather(&self, n: usize) -> Result<ArrayRef> {
        let nulls = new_null_array(&self.dtype, 1);
        let mut arrays: Vec<&dyn Array> = self.arrays.iter().map(|a| a.as_ref()).collect();
        arrays.push(nulls.as_ref());
        let none = (self.arrays.len(), 0);
        let idx: Vec<(usize, usize)> = (0..n)
            .map(|g| match self.chosen.get(g).copied().flatten() {
                Some((a, r)) => (a as usize, r as usize),
                None => none,
            })
            .collect();
        Ok(arrow::compute::interleave(&arrays, &idx)?)
    }

    /// Replace the kept pieces by one array of the chosen values.
    fn compact(&mut self) -> Result<()> {
        let n = self.chosen.len();
        let one = self.gather(n)?;
        self.arrays = vec![one];
        for (g, c) in self.chosen.iter_mut().enumerate() {
            if c.is_some() {
                *c = Some((0, g as u32));
            }
        }
        Ok(())
    }
}

impl GroupsAccumulator for EdgeAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "first")?;
        grow(&mut self.chosen, n_groups, None);
        let k = self.arrays.len() as u32;
        let mut used = false;
        let rows: Box<dyn Iterator<Item = usize>> = match (groups, self.first) {
            // One group: only the piece's first or last row can be chosen.
            (Groups::One, true) => Box::new((0..values.len()).take(1)),
            (Groups::One, false) => Box::new(values.len().checked_sub(1).into_iter()),
            (Groups::Ids(_), _) => Box::new(0..values.len()),
        };
        for r in rows {
            let c = &mut self.chosen[group_of(groups, r)];
            if !self.first || c.is_none() {
                *c = Some((k, r as u32));
                used = true;
            }
        }
        if used {
            self.arrays.push(values.clone());
            if self.arrays.len() > MAX_PIECES {
                self.compact()?;
            }
        }
        Ok(())
    }

    fn seal(&mut self) -> Result<()> {
        if self.arrays.len() > 1 {
            self.compact()?;
        }
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
        let old = self.chosen.len();
        grow(&mut self.chosen, n_groups, None);
        // The other's arrays join ours (only those a merged group takes).
        let mut taken = vec![None; o.arrays.len()];
        for (s, t, _) in pairs(from, to, old) {
            let Some((a, r)) = o.chosen[s] else { continue };
            if self.first && self.chosen[t].is_some() {
                continue;
            }
            let slot = taken[a as usize].get_or_insert_with(|| {
                self.arrays.push(o.arrays[a as usize].clone());
                self.arrays.len() as u32 - 1
            });
            self.chosen[t] = Some((*slot, r));
        }
        if self.arrays.len() > MAX_PIECES {
            self.compact()?;
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.gather(n_groups)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.chosen)
            + self
                .arrays
                .iter()
                .map(|a| a.get_array_memory_size())
                .sum::<usize>()
    }
}
