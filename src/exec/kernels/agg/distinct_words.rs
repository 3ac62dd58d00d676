//! `n_unique` of values of at most 8 bytes (integers, floats, dates, booleans: most of what
//! `n_unique` counts), each value as a word (`groups::words`: NaNs one word, `-0.0` as `0.0`).
//!
//! A group's values are in one of two places, never both:
//! - aside, unhashed, already distinct and counted: a group whose rows came as one short run
//!   (consecutive rows of one group, sorted and deduplicated on the spot), or a group a merge
//!   brought whole from a sealed partial (kept as a reference to that partial's listing, which
//!   is shared, so the merge reads no values);
//! - the set of `(group, value)` pairs, hashed: a group met again once it had values.
//!
//! Input ordered by the key (TPC-H's lineitem by order: each order's few suppliers in
//! consecutive rows, each order in one or two morsels) thus never hashes a value, and merging
//! the partials reads only each group's count; scattered input hashes as before. A group's
//! values aside move into the set (`settle`) only when more come to it. A null is a flag.
//!
//! Sealing lists a partial's values by group (`Listing`, shared through an `Arc`) and turns
//! its own groups aside into references to that listing; groups in the set stay there (the
//! first partial of a merge in sequence keeps folding into its set).

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use hashbrown::hash_table::{Entry, HashTable};

use super::{counts_array, downcast, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator};
use crate::error::Result;
use crate::exec::groups::{hash_word, words, KeyKind};

/// The longest run of one group's rows kept aside: sorted on the spot, a short run costs
/// less than hashing its rows; a longer one (or a group with few groups and many rows, as a
/// scalar `n_unique`) goes to the set.
const RUN_ASIDE: usize = 32;

/// The hash of the pair (group `g`, value word `v`).
#[inline(always)]
fn pair_hash(g: u32, v: u64) -> u64 {
    hash_word(hash_word(v) ^ u64::from(g))
}

/// Where a group's values are kept aside.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Aside {
    /// Nowhere: the group's values (if any) are in the set.
    #[default]
    None,
    /// `own[start..end]`.
    Own { start: usize, end: usize },
    /// Group `group` of `sources[source]`.
    Listed { source: u32, group: u32 },
}

/// A sealed partial's distinct values, group after group: group `g`'s are
/// `values[offsets[g]..offsets[g + 1]]`.
#[derive(Debug, Default)]
struct Listing {
    offsets: Vec<usize>,
    values: Vec<u64>,
}

impl Listing {
    fn of(&self, g: usize) -> &[u64] {
        match self.offsets.get(g + 1) {
            Some(&b) => &self.values[self.offsets[g]..b],
            None => &[],
        }
    }

    fn bytes(&self) -> usize {
        vec_bytes(&self.offsets) + vec_bytes(&self.values)
    }
}

/// `n_unique` of values of at most 8 bytes (see the module docs).
pub(super) struct NUniqueWords {
    kind: KeyKind,
    /// The (group, value) pairs of the groups not aside.
    set: HashTable<(u32, u64)>,
    /// Whether each group has seen a null.
    nulls: Vec<bool>,
    /// Distinct values (null included) of each group.
    counts: Vec<u64>,
    aside: Vec<Aside>,
    own: Vec<u64>,
    /// Listings groups aside refer to (the last one pushed is compared, so a merge of one
    /// partial adds it once).
    sources: Vec<Arc<Listing>>,
    /// Values aside in other partials' listings (for `size`: a listing is shared by the
    /// partitions of a merge, each counts the values it refers to).
    listed: usize,
    /// When sealed: this partial's values by group (`None` until sealed).
    sealed: Option<Arc<Listing>>,
    words: Vec<u64>,
    run: Vec<u64>,
    settling: Vec<u64>,
}

impl NUniqueWords {
    pub(super) fn new(kind: KeyKind) -> Self {
        Self {
            kind,
            set: HashTable::new(),
            nulls: vec![],
            counts: vec![],
            aside: vec![],
            own: vec![],
            sources: vec![],
            listed: 0,
            sealed: None,
            words: vec![],
            run: vec![],
            settling: vec![],
        }
    }

    /// The values group `g` holds (nulls apart).
    fn held(&self, g: usize) -> u64 {
        self.counts[g] - u64::from(self.nulls[g])
    }

    /// The values of group `g` kept aside (empty when none).
    fn aside_values(&self, g: usize) -> &[u64] {
        match self.aside[g] {
            Aside::None => &[],
            Aside::Own { start, end } => &self.own[start..end],
            Aside::Listed { source, group } => self.sources[source as usize].of(group as usize),
        }
    }

    /// Group `g`'s values kept aside, moved into the set (distinct and counted already).
    fn settle(&mut self, g: usize) {
        if self.aside[g] == Aside::None {
            return;
        }
        let mut values = std::mem::take(&mut self.settling);
        values.clear();
        values.extend_from_slice(self.aside_values(g));
        if let Aside::Listed { source, .. } = self.aside[g] {
            if !self.is_own(source) {
                self.listed -= values.len();
            }
        }
        self.aside[g] = Aside::None;
        let k = g as u32;
        self.set.reserve(values.len(), |&(a, b)| pair_hash(a, b));
        for &v in &values {
            self.set
                .insert_unique(pair_hash(k, v), (k, v), |&(a, b)| pair_hash(a, b));
        }
        self.settling = values;
    }

    /// Whether `sources[source]` is this partial's own listing (counted in full by `size`).
    fn is_own(&self, source: u32) -> bool {
        match (&self.sealed, self.sources.get(source as usize)) {
            (Some(own), Some(l)) => Arc::ptr_eq(own, l),
            _ => false,
        }
    }

    /// Add value `v` to group `g` (whose values are in the set), counting it when new.
    #[inline(always)]
    fn insert(&mut self, g: u32, v: u64) {
        let h = pair_hash(g, v);
        if let Entry::Vacant(e) =
            self.set
                .entry(h, |&(a, b)| a == g && b == v, |&(a, b)| pair_hash(a, b))
        {
            e.insert((g, v));
            self.counts[g as usize] += 1;
        }
    }

    /// Count a null in group `g` (once).
    fn insert_null(&mut self, g: usize) {
        if !self.nulls[g] {
            self.nulls[g] = true;
            self.counts[g] += 1;
        }
    }

    /// Make room for `n` groups.
    fn grow_to(&mut self, n: usize) {
        grow(&mut self.counts, n, 0);
        grow(&mut self.nulls, n, false);
        grow(&mut self.aside, n, Aside::None);
    }

    /// Where each group's values start in `own` and where the last ends, when `own` lists
    /// every value group after group: nothing in the set or in listings, and the groups
    /// aside in group order (input ordered by the key).
    fn own_in_order(&self) -> Option<Vec<usize>> {
        if !self.set.is_empty() || !self.sources.is_empty() {
            return None;
        }
        let mut offsets = vec![0usize; self.counts.len() + 1];
        let mut next = 0usize;
        for (g, a) in self.aside.iter().enumerate() {
            match *a {
                Aside::Own { start, end } if start == next => next = end,
                Aside::None => {}
                _ => return None,
            }
            offsets[g + 1] = next;
        }
        (next == self.own.len()).then_some(offsets)
    }

    /// The values of every group, group after group.
    fn listing(&self) -> Listing {
        if let Some(offsets) = self.own_in_order() {
            return Listing {
                offsets,
                values: self.own.clone(),
            };
        }
        let n = self.counts.len();
        let mut offsets = vec![0usize; n + 1];
        for g in 0..n {
            offsets[g + 1] = self.aside_values(g).len();
        }
        for &(g, _) in self.set.iter() {
            offsets[g as usize + 1] += 1;
        }
        for g in 0..n {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut values = vec![0u64; offsets[n]];
        for g in 0..n {
            let vs = self.aside_values(g);
            values[next[g]..next[g] + vs.len()].copy_from_slice(vs);
            next[g] += vs.len();
        }
        for &(g, v) in self.set.iter() {
            let k = &mut next[g as usize];
            values[*k] = v;
            *k += 1;
        }
        Listing { offsets, values }
    }
}

impl GroupsAccumulator for NUniqueWords {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "n_unique")?;
        self.grow_to(n_groups);
        let mut w = std::mem::take(&mut self.words);
        let mut run = std::mem::take(&mut self.run);
        words(values, self.kind, &mut w);
        let nulls = values.logical_nulls().filter(|n| n.null_count() > 0);
        let is_null = |r: usize| nulls.as_ref().is_some_and(|n| n.is_null(r));
        let group = |r: usize| match groups {
            Groups::One => 0,
            Groups::Ids(ids) => ids[r],
        };
        let n = w.len();
        let mut r = 0;
        while r < n {
            let g = group(r);
            let mut e = r + 1;
            while e < n && group(e) == g {
                e += 1;
            }
            let gi = g as usize;
            if e - r <= RUN_ASIDE && self.held(gi) == 0 {
                // A short run of a group with no values yet: its distinct values, aside.
                run.clear();
                for (k, &v) in (r..e).zip(&w[r..e]) {
                    if is_null(k) {
                        self.insert_null(gi);
                    } else {
                        run.push(v);
                    }
                }
                if !run.is_empty() {
                    run.sort_unstable();
                    run.dedup();
                    let start = self.own.len();
                    self.own.extend_from_slice(&run);
                    self.aside[gi] = Aside::Own {
                        start,
                        end: self.own.len(),
                    };
                    self.counts[gi] += run.len() as u64;
                }
            } else {
                self.settle(gi);
                for (k, &v) in (r..e).zip(&w[r..e]) {
                    if is_null(k) {
                        self.insert_null(gi);
                    } else {
                        self.insert(g, v);
                    }
                }
            }
            r = e;
        }
        self.words = w;
        self.run = run;
        Ok(())
    }

    fn seal(&mut self) -> Result<()> {
        let listing = Arc::new(match self.own_in_order() {
            Some(offsets) => Listing {
                offsets,
                values: std::mem::take(&mut self.own),
            },
            None => self.listing(),
        });
        // Groups aside now refer to the listing (their own values and older listings can
        // go; `size` counts the listing whole); groups in the set stay there, for merges
        // into this partial.
        for (g, a) in self.aside.iter_mut().enumerate() {
            if *a != Aside::None {
                *a = Aside::Listed {
                    source: 0,
                    group: g as u32,
                };
            }
        }
        self.listed = 0;
        self.own = vec![];
        self.sources = vec![listing.clone()];
        self.sealed = Some(listing);
        self.words = vec![];
        self.run = vec![];
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
        self.grow_to(n_groups);
        if from.is_empty() {
            return Ok(());
        }
        // An unsealed partial (never in a grouping, which seals them all) is listed here.
        let listing = match &o.sealed {
            Some(l) => l.clone(),
            None => Arc::new(o.listing()),
        };
        let source = match self.sources.last() {
            Some(l) if Arc::ptr_eq(l, &listing) => self.sources.len() - 1,
            _ => {
                self.sources.push(listing.clone());
                self.sources.len() - 1
            }
        };
        for (s, t, _) in pairs(from, to, usize::MAX) {
            let n = o.counts.get(s).map_or(0, |&c| c - u64::from(o.nulls[s]));
            if n > 0 && self.held(t) == 0 {
                // The group takes the partial's values as they are: a reference, unread.
                self.aside[t] = Aside::Listed {
                    source: source as u32,
                    group: s as u32,
                };
                self.counts[t] += n;
                self.listed += n as usize;
            } else if n > 0 {
                self.settle(t);
                for &v in listing.of(s) {
                    self.insert(t as u32, v);
                }
            }
            if o.nulls.get(s).copied().unwrap_or(false) {
                self.insert_null(t);
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
        self.set.capacity() * (std::mem::size_of::<(u32, u64)>() + 1)
            + vec_bytes(&self.nulls)
            + vec_bytes(&self.counts)
            + vec_bytes(&self.aside)
            + vec_bytes(&self.own)
            + self.listed * std::mem::size_of::<u64>()
            + self.sealed.as_ref().map_or(0, |l| l.bytes())
            + vec_bytes(&self.words)
            + vec_bytes(&self.run)
            + vec_bytes(&self.settling)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use arrow::array::Float64Array;
    use arrow::datatypes::DataType;

    use super::*;
    use crate::exec::groups::key_kind;

    /// Rows in runs of one group (lengths 1 to 70, so some are longer than `RUN_ASIDE`), most
    /// runs a new group, some a group seen before; values with repeats, NaNs, both zeros and
    /// nulls.
    fn rows(n: usize) -> (Vec<u32>, Vec<Option<f64>>) {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut groups, mut values) = (vec![], vec![]);
        let mut seen = 0u32;
        while groups.len() < n {
            let len = 1 + (next() % 70) as usize;
            let g = if seen > 0 && next() % 5 == 0 {
                (next() % u64::from(seen)) as u32
            } else {
                seen += 1;
                seen - 1
            };
            for _ in 0..len.min(n - groups.len()) {
                groups.push(g);
                values.push(match next() % 23 {
                    0 => None,
                    1 => Some(f64::NAN),
                    2 => Some(-0.0),
                    3 => Some(0.0),
                    k => Some((k % 9) as f64),
                });
            }
        }
        (groups, values)
    }

    /// The distinct values of each group, by a set (null one value, NaN one, -0.0 as 0.0).
    fn oracle(groups: &[u32], values: &[Option<f64>]) -> HashMap<u32, usize> {
        let mut sets: HashMap<u32, HashSet<Option<u64>>> = HashMap::new();
        for (g, v) in groups.iter().zip(values) {
            let w = v.map(|x| {
                if x.is_nan() {
                    u64::MAX
                } else if x == 0.0 {
                    0
                } else {
                    x.to_bits()
                }
            });
            sets.entry(*g).or_default().insert(w);
        }
        sets.into_iter().map(|(g, s)| (g, s.len())).collect()
    }

    /// One partial over `groups`/`values`, updated in pieces of `piece` rows, with its
    /// groups (global ids) in local order.
    fn partial(groups: &[u32], values: &[Option<f64>], piece: usize) -> (NUniqueWords, Vec<u32>) {
        let kind = key_kind(&DataType::Float64).unwrap();
        let mut acc = NUniqueWords::new(kind);
        let mut local: Vec<u32> = vec![];
        let mut map: HashMap<u32, u32> = HashMap::new();
        let lids: Vec<u32> = groups
            .iter()
            .map(|g| {
                *map.entry(*g).or_insert_with(|| {
                    local.push(*g);
                    local.len() as u32 - 1
                })
            })
            .collect();
        let mut start = 0;
        while start < lids.len() {
            let end = (start + piece).min(lids.len());
            let a: ArrayRef = Arc::new(Float64Array::from(values[start..end].to_vec()));
            let seen = lids[..end].iter().max().map_or(0, |m| *m as usize + 1);
            acc.update(&[a], Groups::Ids(&lids[start..end]), seen)
                .unwrap();
            start = end;
        }
        (acc, local)
    }

    /// Fold `part` (groups `local`, global ids) into `target`, whose groups are `order`.
    fn fold(target: &mut NUniqueWords, order: &mut Vec<u32>, part: &NUniqueWords, local: &[u32]) {
        let (from, to) = super::super::tests::merge_targets(order, local);
        target.merge(part, &from, &to, order.len()).unwrap();
    }

    fn check(acc: &mut NUniqueWords, order: &[u32], want: &HashMap<u32, usize>, what: &str) {
        let out = acc.evaluate(order.len()).unwrap();
        let out = out
            .as_any()
            .downcast_ref::<arrow::array::UInt64Array>()
            .unwrap();
        assert_eq!(order.len(), want.len(), "{what}");
        for (k, g) in order.iter().enumerate() {
            assert_eq!(out.value(k) as usize, want[g], "{what}: group {g}");
        }
    }

    /// Partials of runs (short, long, revisited), updated in pieces, sealed and merged in
    /// sequence into the first, into a fresh state (a partition of a merge), and unsealed:
    /// every way counts each group's distinct values.
    #[test]
    fn runs_aside_and_hashed_count_the_same_distinct_values() {
        let n = 6000;
        let (groups, values) = rows(n);
        let want = oracle(&groups, &values);
        for cuts in [
            vec![0, n],
            vec![0, 1000, 2500, n],
            vec![0, 17, 3001, 3002, n],
        ] {
            for piece in [1, 29, 500] {
                let mut parts: Vec<(NUniqueWords, Vec<u32>)> = cuts
                    .windows(2)
                    .map(|w| partial(&groups[w[0]..w[1]], &values[w[0]..w[1]], piece))
                    .collect();
                let what = format!("cuts {cuts:?}, pieces of {piece}");
                // Unsealed into a fresh state.
                let kind = key_kind(&DataType::Float64).unwrap();
                let mut fresh = NUniqueWords::new(kind);
                let mut order = vec![];
                for (p, local) in &parts {
                    fold(&mut fresh, &mut order, p, local);
                }
                check(&mut fresh, &order, &want, &format!("{what}, unsealed"));
                for (p, _) in &mut parts {
                    p.seal().unwrap();
                }
                // Sealed into a fresh state.
                let mut fresh = NUniqueWords::new(kind);
                let mut order = vec![];
                for (p, local) in &parts {
                    fold(&mut fresh, &mut order, p, local);
                }
                check(&mut fresh, &order, &want, &format!("{what}, fresh"));
                // In sequence into the first.
                let (mut first, mut order) = parts.remove(0);
                for (p, local) in &parts {
                    fold(&mut first, &mut order, p, local);
                }
                check(&mut first, &order, &want, &format!("{what}, in sequence"));
                // Updated again after the merges (a group met again, and a new one).
                let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(1234.5), None]));
                let g0 = 0u32;
                let gn = order.len() as u32;
                first
                    .update(&[a], Groups::Ids(&[g0, gn]), order.len() + 1)
                    .unwrap();
                let out = first.evaluate(order.len() + 1).unwrap();
                let out = out
                    .as_any()
                    .downcast_ref::<arrow::array::UInt64Array>()
                    .unwrap();
                assert_eq!(out.value(0) as usize, want[&order[0]] + 1, "{what}");
                assert_eq!(out.value(order.len()), 1, "{what}");
            }
        }
    }
}
