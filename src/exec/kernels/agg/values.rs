//! `median`, `nan_median` and `quantile(q)`: they need every value, so the accumulator keeps
//! them all, in one flat vector beside the group of each (no vector per group), and selects
//! each group's result at the end (NumPy's median and linear quantile, `stats::median`,
//! `stats::quantile`). A sealed partial has its values arranged by group, so a merge copies
//! each merged group's values as one slice.
//!
//! NaN is never stored: a plain median or quantile of a group that held one is NaN (marked by
//! a flag), the `nan_*` form skips it. A group without values gives NaN.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array};

use super::super::stats::{median, quantile};
use super::{downcast, for_each_valid, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator};
use crate::error::Result;
use crate::expr::AggFunc;

pub(super) struct ValuesAcc {
    skip_nan: bool,
    q: Option<f64>,
    /// Grouped (else one group, whose values need no group ids).
    grouped: bool,
    values: Vec<f64>,
    /// The group of each value (grouped and not sealed).
    groups: Vec<u32>,
    /// When sealed: group `g`'s values are `values[offsets[g]..offsets[g + 1]]`.
    offsets: Option<Vec<usize>>,
    nan: Vec<bool>,
}

impl ValuesAcc {
    pub(super) fn new(func: &AggFunc) -> Self {
        Self {
            skip_nan: func.skips_nan(),
            q: match func {
                AggFunc::Quantile(q) => Some(*q),
                _ => None,
            },
            grouped: false,
            values: vec![],
            groups: vec![],
            offsets: None,
            nan: vec![],
        }
    }

    /// Arrange the values by group (a counting sort, stable).
    fn bucket(&mut self, n_groups: usize) {
        if self.offsets.is_some() || !self.grouped {
            return;
        }
        let mut offsets = crate::exec::written_vec(n_groups + 1, 0usize);
        for g in &self.groups {
            offsets[*g as usize + 1] += 1;
        }
        for g in 0..n_groups {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut sorted = vec![0.0; self.values.len()];
        for (v, g) in self.values.iter().zip(&self.groups) {
            let k = &mut next[*g as usize];
            sorted[*k] = *v;
            *k += 1;
        }
        self.values = sorted;
        self.groups = vec![];
        self.offsets = Some(offsets);
    }

    /// Group `g`'s values of a sealed accumulator.
    fn group_values(&self, g: usize) -> &[f64] {
        match &self.offsets {
            Some(o) if g + 1 < o.len() => &self.values[o[g]..o[g + 1]],
            Some(_) => &[],
            None => &self.values,
        }
    }

    fn result(&self, v: &mut [f64], nan: bool) -> f64 {
        if nan || v.is_empty() {
            f64::NAN
        } else {
            match self.q {
                None => median(v),
                Some(q) => quantile(v, q),
            }
        }
    }
}

impl GroupsAccumulator for ValuesAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "median")?;
        grow(&mut self.nan, n_groups, false);
        let sk = self.skip_nan;
        match groups {
            Groups::One => {
                // Once a NaN makes a plain median/quantile NaN, the values are not needed.
                if self.nan[0] {
                    return Ok(());
                }
                let mut saw_nan = false;
                let v = &mut self.values;
                for_each_valid(values, |_, x| {
                    if x.is_nan() {
                        saw_nan = true;
                    } else {
                        v.push(x);
                    }
                })?;
                if !sk && saw_nan {
                    self.nan[0] = true;
                    self.values = vec![];
                }
            }
            Groups::Ids(ids) => {
                self.grouped = true;
                let (v, gs, nan) = (&mut self.values, &mut self.groups, &mut self.nan);
                for_each_valid(values, |r, x| {
                    let g = ids[r];
                    if x.is_nan() {
                        nan[g as usize] |= !sk;
                    } else {
                        v.push(x);
                        gs.push(g);
                    }
                })?;
            }
        }
        Ok(())
    }

    fn seal(&mut self) -> Result<()> {
        let n = self.nan.len();
        self.bucket(n);
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
        let old = self.nan.len();
        grow(&mut self.nan, n_groups, false);
        if from.is_empty() {
            return Ok(());
        }
        if !(self.grouped || o.grouped) {
            self.nan[0] |= o.nan[0];
            if self.nan[0] {
                // Only set for plain median/quantile, whose result is then NaN.
                self.values = vec![];
            } else {
                self.values.extend_from_slice(&o.values);
            }
            return Ok(());
        }
        self.grouped = true;
        if self.offsets.is_some() {
            // Merging into a sealed partial (the first of a run): back to a flat layout.
            let offsets = self.offsets.take().unwrap_or_default();
            self.groups = (0..offsets.len().saturating_sub(1))
                .flat_map(|g| std::iter::repeat_n(g as u32, offsets[g + 1] - offsets[g]))
                .collect();
        }
        for (s, t, new) in pairs(from, to, old) {
            self.nan[t] = if new {
                o.nan[s]
            } else {
                self.nan[t] | o.nan[s]
            };
            let vals = o.group_values(s);
            self.values.extend_from_slice(vals);
            self.groups
                .extend(std::iter::repeat_n(t as u32, vals.len()));
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        grow(&mut self.nan, n_groups, false);
        if !self.grouped {
            let mut v = std::mem::take(&mut self.values);
            let r = self.result(&mut v, self.nan[0]);
            let out = vec![r; n_groups.min(1)];
            return Ok(Arc::new(Float64Array::from(out)));
        }
        self.bucket(n_groups);
        let offsets = self.offsets.take().unwrap_or_default();
        let mut values = std::mem::take(&mut self.values);
        let out: Vec<f64> = (0..n_groups)
            .map(|g| {
                let (a, b) = match offsets.get(g + 1) {
                    Some(&b) => (offsets[g], b),
                    None => (0, 0),
                };
                self.result(&mut values[a..b], self.nan[g])
            })
            .collect();
        Ok(Arc::new(Float64Array::from(out)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.values)
            + vec_bytes(&self.groups)
            + vec_bytes(&self.nan)
            + self.offsets.as_ref().map_or(0, vec_bytes)
    }
}
