//! The build side's hash table: distinct keys, each with the build rows holding it in
//! ascending order, split into partitions by the top bits of the key's hash.
//!
//! A partition is an open-addressing table (linear probing) of 16-byte slots, one per
//! distinct key: the key itself (or, for row-encoded keys, its hash), and its rows, either the
//! one row holding it (most build sides have unique keys) or a slice of one array, ascending
//! because rows are inserted in order. Probing a key is one hash, a few slot reads (usually
//! one cache line) and, for row-encoded keys, one key comparison, and gives the matches in
//! build-row order, which is what the documented output order needs. Rows with a null key are
//! in no slot.
//!
//! Integer-like keys whose values span a range not much wider than the build side (ids
//! numbered from 1, db-benchmark's and TPC-H's keys) need no hashing at all: a direct table
//! holds, per value of the range, where its rows are (as a slot does), and a probe is one
//! subtraction, one comparison and one read. For a small build side (db-benchmark's j1 joins
//! 10M rows against 10) the per-row cost of the hash probe was most of the join's own time.
//!
//! A large build side is split into up to [`MAX_PARTITIONS`] partitions built in parallel,
//! each small enough to stay mostly in cache while it is built. The memory a build needs is
//! reserved from the run's budget before it is allocated (the transient arrays of building,
//! then the table that stays). Partitions are independent: they are also the unit a later
//! spilling build could write out one at a time.

use rayon::prelude::*;

use super::keys::{KeyValues, Keys};
use crate::error::{Error, Result};
use crate::exec::written_vec;
use crate::memory::Reservation;

/// Build rows per partition a large build side aims at.
const PARTITION_ROWS: usize = 1 << 18;
/// The most partitions a table is split into.
pub(crate) const MAX_PARTITIONS: usize = 64;
/// Rows per chunk when rows are handed out to partitions in parallel.
const CHUNK_ROWS: usize = 1 << 16;

/// A hash table over the keys of the build side.
pub(crate) struct JoinTable {
    keys: Keys,
    /// Partition of a hash: its top `bits` bits.
    bits: u32,
    parts: Vec<Partition>,
    /// Set for word keys within a narrow range: then `parts` is empty.
    direct: Option<Direct>,
    /// For word keys within a range a little wider: the values present.
    present: Option<Present>,
}

/// One bit per value of `min..min + bits.len() * 64`, set for the values the build side holds.
struct Present {
    min: u64,
    bits: Vec<u64>,
}

impl Present {
    /// Whether the word key `v` may match: false only when no build row holds it.
    #[inline]
    fn may_hold(&self, v: u64) -> bool {
        let k = v.wrapping_sub(self.min);
        self.bits
            .get((k >> 6) as usize)
            .is_some_and(|w| w & (1 << (k & 63)) != 0)
    }
}

/// The build rows of every word key value in `min..min + spans.len()`.
struct Direct {
    min: u64,
    /// Per value (`value - min`): `[at, n]` as in a [`Slot`] (`n == 0`: no row).
    spans: Vec<[u32; 2]>,
    /// The rows of values held by several rows, grouped by value, ascending within a value.
    rows: Vec<u32>,
}

/// A direct table is used when the key range is at most this many values per build row
/// (plus [`DIRECT_SLACK`]): its 8-byte spans then take about what a hash table's slots do
/// (16 bytes each, 1.5 to 3 per row).
const DIRECT_PER_ROW: usize = 4;
/// A hashed table of word keys also keeps a bitmap of the values present when the range is at
/// most this many values per build row (a bit each, 8 bytes a row at most): a probe key
/// whose bit is clear matches nothing, without touching the slots. Semi joins and selective
/// joins (TPC-H's orders against filtered line items) miss most of the time, and the bitmap
/// stays in cache where the slots do not.
const PRESENT_PER_ROW: usize = 64;
/// Values a direct table may span whatever the build side's size (64 KiB of spans).
const DIRECT_SLACK: usize = 1 << 13;
/// Values the bitmap may span whatever the build side's size (256 KiB, in cache): TPC-H's
/// Q17 semi joins 6 million line items with 200 of 200,000 parts, a bit test per row where
/// a hash probe per row was most of the join's time.
const PRESENT_SLACK: usize = 1 << 21;

struct Partition {
    mask: usize,
    /// One slot per hash bucket (linear probing); `n == 0` is empty.
    slots: Vec<Slot>,
    /// The rows of every key, grouped by key, ascending within a group.
    rows: Vec<u32>,
}

/// A distinct key: what a probe compares and where its rows are, in one 16-byte read.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// The key itself for word keys, its hash for tuples, strings and row-encoded keys.
    tag: u64,
    /// The one row when `n == 1` (most build sides have unique keys: no second read), else
    /// where the key's rows start in `rows`.
    at: u32,
    /// How many rows hold the key.
    n: u32,
}

/// A partition while it is built: `group + 1` per slot, and per group its tag and hash.
struct Building {
    mask: usize,
    slots: Vec<u32>,
    tag: Vec<u64>,
    hash: Vec<u64>,
    /// Per group, a build row holding its key.
    first: Vec<u32>,
}

impl JoinTable {
    /// Build the table over encoded build keys, growing `mem` before each allocation; when
    /// it returns, `mem` holds what it held before plus what the table keeps (its keys too).
    pub(crate) fn new(keys: Keys, mem: &Reservation) -> Result<Self> {
        let n = keys.len();
        if n >= u32::MAX as usize {
            return Err(Error::Plan(format!(
                "the join's build side has {n} rows; at most {} are supported",
                u32::MAX - 1
            )));
        }
        let base = mem.size();
        let range = word_range(&keys);
        if let Some(range) = range.filter(|(_, span)| *span <= narrow(n, DIRECT_PER_ROW)) {
            let direct = Direct::build(&keys, range, mem)?;
            let table = Self {
                keys,
                bits: 0,
                parts: vec![],
                direct: Some(direct),
                present: None,
            };
            mem.try_resize(base + table.bytes())?;
            return Ok(table);
        }
        let present = match range
            .filter(|(_, span)| *span <= narrow(n, PRESENT_PER_ROW) || *span <= PRESENT_SLACK)
        {
            Some(range) => Some(Present::build(&keys, range, mem)?),
            None => None,
        };
        let parts_wanted = (n / PARTITION_ROWS).next_power_of_two().min(MAX_PARTITIONS);
        let bits = parts_wanted.trailing_zeros();
        // The rows of each partition (and, when there are several, the chunks' lists).
        mem.try_grow(n * 4 * if bits == 0 { 1 } else { 2 })?;
        let members = partition_rows(&keys, bits);
        mem.try_grow(
            members
                .iter()
                .map(|r| Partition::building_bytes(r.len()))
                .sum(),
        )?;
        let parts: Vec<Partition> = members
            .into_par_iter()
            .map(|rows| Partition::build(&keys, rows))
            .collect();
        let table = Self {
            keys,
            bits,
            parts,
            direct: None,
            present,
        };
        mem.try_resize(base + table.bytes())?;
        Ok(table)
    }

    /// Bytes the table holds: its keys, slots and row lists.
    pub(crate) fn bytes(&self) -> usize {
        self.keys.bytes()
            + self
                .parts
                .iter()
                .map(|p| p.slots.len() * size_of::<Slot>() + p.rows.len() * 4)
                .sum::<usize>()
            + self
                .direct
                .as_ref()
                .map_or(0, |d| d.spans.len() * 8 + d.rows.len() * 4)
            + self.present.as_ref().map_or(0, |p| p.bits.len() * 8)
    }

    /// Whether the table is a direct one (word keys in a narrow range).
    #[cfg(test)]
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Whether a hashed table keeps the bitmap of the values present.
    #[cfg(test)]
    pub(crate) fn has_bitmap(&self) -> bool {
        self.present.is_some()
    }

    /// The partitions' count (1 for a small build side).
    #[cfg(test)]
    pub(crate) fn partitions(&self) -> usize {
        self.parts.len()
    }

    fn partition(&self, h: u64) -> &Partition {
        let p = if self.bits == 0 {
            0
        } else {
            (h >> (64 - self.bits)) as usize
        };
        &self.parts[p]
    }

    /// The build rows whose key equals the key of row `i` of `probe`, ascending (empty for
    /// a null key).
    #[inline]
    pub(crate) fn matches(&self, probe: &Keys, i: usize) -> &[u32] {
        if !probe.is_valid(i) {
            return &[];
        }
        if let Some(d) = &self.direct {
            return match &probe.values {
                KeyValues::Words(p) => d.matches(p[i]),
                _ => &[],
            };
        }
        if let (Some(present), KeyValues::Words(p)) = (&self.present, &probe.values) {
            if !present.may_hold(p[i]) {
                return &[];
            }
        }
        let h = probe.hashes[i];
        let part = self.partition(h);
        match (&self.keys.values, &probe.values) {
            (KeyValues::Words(_), KeyValues::Words(p)) => part.find(p[i], h, |_| true),
            (KeyValues::Tuples { words: b, width }, KeyValues::Tuples { words: p, .. }) => {
                let v = KeyValues::tuple(p, *width, i);
                part.find(h, h, |first| {
                    KeyValues::tuple(b, *width, first as usize) == v
                })
            }
            (KeyValues::Rows(b), KeyValues::Rows(p)) => {
                let v = p.row(i);
                part.find(h, h, |first| b.row(first as usize) == v)
            }
            (KeyValues::Strings(b), KeyValues::Strings(p)) => {
                let v = p.value(i);
                part.find(h, h, |first| b.value(first as usize) == v)
            }
            _ => &[],
        }
    }

    /// Whether some build row's key equals the key of row `i` of `probe` (a semi join's
    /// question): for word keys in a range, one bit of the bitmap (exact: its bits are set
    /// for every value held, and only those).
    #[inline]
    pub(crate) fn holds(&self, probe: &Keys, i: usize) -> bool {
        match (&self.present, &probe.values) {
            (Some(present), KeyValues::Words(p)) => probe.is_valid(i) && present.may_hold(p[i]),
            _ => !self.matches(probe, i).is_empty(),
        }
    }

    /// Whether [`holds`](Self::holds) answers from the bitmap (in cache, nothing to fetch).
    pub(crate) fn holds_from_bits(&self) -> bool {
        self.present.is_some()
    }

    /// Whether probing needs the probe keys' hashes: not for a direct table, nor for a
    /// semi join's question ([`holds`](Self::holds), `semi`) answered from the bitmap.
    pub(crate) fn probes_hash(&self, semi: bool) -> bool {
        !(self.direct.is_some() || (semi && self.present.is_some()))
    }

    /// Ask the CPU to fetch the slot row `i` of `probe` will read first (a probe reads
    /// slots at random, so fetching a few rows ahead hides most of the memory latency).
    #[inline]
    pub(crate) fn prefetch(&self, probe: &Keys, i: usize) {
        if let Some(d) = &self.direct {
            if let KeyValues::Words(p) = &probe.values {
                if let Some(s) = d.spans.get(p[i].wrapping_sub(d.min) as usize) {
                    crate::exec::prefetch(s);
                }
            }
            return;
        }
        let h = probe.hashes[i];
        let part = self.partition(h);
        crate::exec::prefetch(&part.slots[(h as usize) & part.mask]);
    }
}

/// Values a range may span for `rows` build rows at `per_row` values a row.
fn narrow(rows: usize, per_row: usize) -> usize {
    rows.saturating_mul(per_row).saturating_add(DIRECT_SLACK)
}

/// The `(min, values)` of word keys: the smallest valid value and how many values up to the
/// largest (`(0, 0)` when none is valid); `None` for other keys or a range past `usize`.
fn word_range(keys: &Keys) -> Option<(u64, usize)> {
    let KeyValues::Words(w) = &keys.values else {
        return None;
    };
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for (r, &v) in w.iter().enumerate() {
        if keys.is_valid(r) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        // No valid key: an empty direct table matches nothing.
        return Some((0, 0));
    }
    let span = usize::try_from(hi - lo).ok()?.checked_add(1)?;
    Some((lo, span))
}

impl Present {
    /// The bitmap of word `keys`' valid values in `min..min + span`, reserved in `mem` first.
    fn build(keys: &Keys, (min, span): (u64, usize), mem: &Reservation) -> Result<Self> {
        let KeyValues::Words(w) = &keys.values else {
            return Err(Error::Internal(
                "a join key bitmap over non-word keys".into(),
            ));
        };
        let words = span.div_ceil(64);
        mem.try_grow(words * 8)?;
        let mut bits = written_vec(words, 0u64);
        for (r, &v) in w.iter().enumerate() {
            if keys.is_valid(r) {
                let k = v - min;
                bits[(k >> 6) as usize] |= 1 << (k & 63);
            }
        }
        Ok(Self { min, bits })
    }
}

impl Direct {
    /// The direct table over word `keys` whose valid values lie in `min..min + span`,
    /// growing `mem` before allocating (its spans, the rows, a counter per value a while).
    fn build(keys: &Keys, (min, span): (u64, usize), mem: &Reservation) -> Result<Self> {
        let KeyValues::Words(w) = &keys.values else {
            return Err(Error::Internal(
                "a direct join table over non-word keys".into(),
            ));
        };
        mem.try_grow(span * 12 + w.len() * 4)?;
        // Rows per value, then where each value's rows start (a counting sort by value,
        // rows ascending within a value).
        let mut spans = written_vec(span, [0u32; 2]);
        for (r, &v) in w.iter().enumerate() {
            if keys.is_valid(r) {
                spans[(v - min) as usize][1] += 1;
            }
        }
        let mut next = Vec::with_capacity(span);
        let mut at = 0u32;
        for s in &spans {
            next.push(at);
            if s[1] > 1 {
                at += s[1];
            }
        }
        let mut rows = vec![0u32; at as usize];
        for (r, &v) in w.iter().enumerate() {
            if keys.is_valid(r) {
                let k = (v - min) as usize;
                if spans[k][1] == 1 {
                    spans[k][0] = r as u32;
                } else {
                    rows[next[k] as usize] = r as u32;
                    next[k] += 1;
                }
            }
        }
        for (s, end) in spans.iter_mut().zip(&next) {
            if s[1] > 1 {
                s[0] = end - s[1];
            }
        }
        Ok(Self { min, spans, rows })
    }

    /// The build rows holding the word key `v`, ascending.
    #[inline]
    fn matches(&self, v: u64) -> &[u32] {
        match self.spans.get(v.wrapping_sub(self.min) as usize) {
            None | Some([_, 0]) => &[],
            Some(s @ [_, 1]) => std::slice::from_ref(&s[0]),
            Some(&[at, n]) => &self.rows[at as usize..(at + n) as usize],
        }
    }
}

/// The valid rows of each partition, ascending.
fn partition_rows(keys: &Keys, bits: u32) -> Vec<Vec<u32>> {
    let n = keys.len();
    if bits == 0 {
        return vec![(0..n as u32)
            .filter(|&r| keys.is_valid(r as usize))
            .collect()];
    }
    let parts = 1usize << bits;
    // Each chunk lists its rows per partition; partitions then take the chunks in order.
    let chunks: Vec<Vec<Vec<u32>>> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|c| {
            let mut lists = vec![Vec::new(); parts];
            for r in c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n) {
                if keys.is_valid(r) {
                    lists[(keys.hashes[r] >> (64 - bits)) as usize].push(r as u32);
                }
            }
            lists
        })
        .collect();
    (0..parts)
        .into_par_iter()
        .map(|p| {
            let total = chunks.iter().map(|c| c[p].len()).sum();
            let mut rows = Vec::with_capacity(total);
            for c in &chunks {
                rows.extend_from_slice(&c[p]);
            }
            rows
        })
        .collect()
}

impl Partition {
    /// Slots for `rows` rows: at most two thirds full.
    fn capacity(rows: usize) -> usize {
        (rows + rows / 2 + 1).next_power_of_two().max(16)
    }

    /// The most bytes building a partition of `rows` rows allocates: both slot arrays, per
    /// group its tag, hash and first row (every row its own group at worst), and per row its
    /// group, its group's offset, its place in the sorted rows and their copy.
    fn building_bytes(rows: usize) -> usize {
        Self::capacity(rows) * (4 + size_of::<Slot>()) + rows * (20 + 4 + 4 + 4 + 4)
    }

    /// The rows of the key with this tag and hash `h`; `same` compares the key with a build
    /// row holding a candidate key (for row-encoded keys, whose tag is only their hash).
    #[inline]
    fn find(&self, tag: u64, h: u64, same: impl Fn(u32) -> bool) -> &[u32] {
        let mut i = (h as usize) & self.mask;
        loop {
            let s = &self.slots[i];
            if s.n == 0 {
                return &[];
            }
            if s.tag == tag {
                let rows = if s.n == 1 {
                    std::slice::from_ref(&s.at)
                } else {
                    &self.rows[s.at as usize..(s.at + s.n) as usize]
                };
                if same(rows[0]) {
                    return rows;
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The table over `rows` (ascending build rows with valid keys).
    fn build(keys: &Keys, rows: Vec<u32>) -> Self {
        let cap = Self::capacity(rows.len());
        let mut b = Building {
            mask: cap - 1,
            slots: written_vec(cap, 0),
            tag: vec![],
            hash: vec![],
            first: vec![],
        };
        let mut group_of = Vec::with_capacity(rows.len());
        match &keys.values {
            KeyValues::Words(w) => {
                for &r in &rows {
                    let v = w[r as usize];
                    group_of.push(b.insert(keys.hashes[r as usize], v, r, |_| true));
                }
            }
            KeyValues::Tuples { words, width } => {
                for &r in &rows {
                    let h = keys.hashes[r as usize];
                    let v = KeyValues::tuple(words, *width, r as usize);
                    group_of.push(b.insert(h, h, r, |f| {
                        KeyValues::tuple(words, *width, f as usize) == v
                    }));
                }
            }
            KeyValues::Rows(k) => {
                for &r in &rows {
                    let (h, v) = (keys.hashes[r as usize], k.row(r as usize));
                    group_of.push(b.insert(h, h, r, |f| k.row(f as usize) == v));
                }
            }
            KeyValues::Strings(k) => {
                for &r in &rows {
                    let (h, v) = (keys.hashes[r as usize], k.value(r as usize));
                    group_of.push(b.insert(h, h, r, |f| k.value(f as usize) == v));
                }
            }
        }
        // Rows grouped by key, each group's rows in ascending order (a counting sort).
        let groups = b.tag.len();
        let mut offsets = written_vec(groups + 1, 0u32);
        for &g in &group_of {
            offsets[g as usize + 1] += 1;
        }
        for g in 0..groups {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut sorted = vec![0u32; rows.len()];
        for (&r, &g) in rows.iter().zip(&group_of) {
            let at = &mut next[g as usize];
            sorted[*at as usize] = r;
            *at += 1;
        }
        let slots = b
            .slots
            .iter()
            .map(|&s| {
                if s == 0 {
                    return Slot::default();
                }
                let g = (s - 1) as usize;
                let n = offsets[g + 1] - offsets[g];
                let at = if n == 1 { b.first[g] } else { offsets[g] };
                Slot {
                    tag: b.tag[g],
                    at,
                    n,
                }
            })
            .collect();
        Partition {
            mask: b.mask,
            slots,
            rows: sorted,
        }
    }
}

impl Building {
    /// The group of row `r`, whose key has hash `h` and tag `tag`; a new group if the key is
    /// new. `same` compares the key with a group's first row.
    fn insert(&mut self, h: u64, tag: u64, r: u32, same: impl Fn(u32) -> bool) -> u32 {
        let mut i = (h as usize) & self.mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                let g = self.tag.len() as u32;
                self.tag.push(tag);
                self.hash.push(h);
                self.first.push(r);
                self.slots[i] = g + 1;
                return g;
            }
            let g = (s - 1) as usize;
            if self.hash[g] == h && self.tag[g] == tag && same(self.first[g]) {
                return g as u32;
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
    use arrow::datatypes::DataType;

    use super::super::keys::KeyEncoder;
    use super::*;
    use crate::memory::MemoryPool;

    #[test]
    fn matches_come_in_build_row_order_in_every_partition() {
        // Enough rows for several partitions; key = (row % 1000) spread far apart (so the
        // table hashes rather than indexing a narrow range), each key on many rows.
        let n = PARTITION_ROWS * 3 + 5;
        let spread = |k: i64| k * 1_000_000_007;
        let enc = KeyEncoder::new(&[DataType::Int64]).unwrap();
        let build: Vec<Option<i64>> = (0..n as i64)
            .map(|i| (i % 97 != 0).then_some(spread(i % 1000)))
            .collect();
        let keys = || {
            enc.encode(
                &[Arc::new(Int64Array::from(build.clone())) as ArrayRef],
                true,
            )
            .unwrap()
        };
        let pool = MemoryPool::unbounded();
        let mem = pool.reserve("HASH_JOIN");
        let table = JoinTable::new(keys(), &mem).unwrap();
        assert!(table.partitions() > 1 && !table.is_direct());
        // What stays reserved is what the table holds; building needed more for a while.
        assert_eq!(mem.size(), table.bytes());
        assert!(pool.peak() > table.bytes());
        // A budget below the build's needs stops it with the typed error, holding nothing.
        let small = MemoryPool::new(table.bytes());
        let err = JoinTable::new(keys(), &small.reserve("HASH_JOIN"))
            .err()
            .unwrap();
        assert!(matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "HASH_JOIN"));
        assert_eq!(small.reserved(), 0);
        let wanted = [Some(3), None, Some(5000), Some(999)].map(|k| k.map(spread));
        let probe = enc
            .encode(
                &[Arc::new(Int64Array::from(wanted.to_vec())) as ArrayRef],
                false,
            )
            .unwrap();
        for (i, want) in wanted.into_iter().enumerate() {
            let expected: Vec<u32> = (0..n as u32)
                .filter(|&r| want.is_some() && build[r as usize] == want)
                .collect();
            assert_eq!(table.matches(&probe, i), expected.as_slice());
        }
    }

    #[test]
    fn narrow_integer_keys_index_a_direct_table_with_the_same_matches() {
        // Keys 5..=24 with nulls, one row or many per key (a range this narrow is indexed,
        // not hashed); probes below, inside and above the range, and null.
        let build: Vec<Option<i32>> = (0..300)
            .map(|i| (i % 7 != 0).then_some(if i % 3 == 0 { 5 + i % 20 } else { 24 - i / 50 }))
            .collect();
        let enc = KeyEncoder::new(&[DataType::Int64]).unwrap();
        let int64_keys = |values: Vec<Option<i64>>, build: bool| {
            enc.encode(&[Arc::new(Int64Array::from(values)) as ArrayRef], build)
                .unwrap()
        };
        let keys = enc
            .encode(
                &[Arc::new(Int32Array::from(build.clone())) as ArrayRef],
                true,
            )
            .unwrap();
        let pool = MemoryPool::unbounded();
        let mem = pool.reserve("HASH_JOIN");
        let table = JoinTable::new(keys, &mem).unwrap();
        assert!(table.is_direct());
        assert_eq!(mem.size(), table.bytes());
        let probes: Vec<Option<i64>> = (-3..30).map(Some).chain([None, Some(i64::MIN)]).collect();
        let p = int64_keys(probes.clone(), false);
        for (i, want) in probes.iter().enumerate() {
            let expected: Vec<u32> = (0..build.len() as u32)
                .filter(|&r| want.is_some() && build[r as usize].map(i64::from) == *want)
                .collect();
            assert_eq!(table.matches(&p, i), expected.as_slice(), "probe {want:?}");
            table.prefetch(&p, i);
        }
        // Every build key null: nothing matches.
        let nulls = int64_keys(vec![None::<i64>; 3], true);
        let empty = JoinTable::new(nulls, &pool.reserve("HASH_JOIN")).unwrap();
        assert!(empty.is_direct());
        assert!((0..probes.len()).all(|i| empty.matches(&p, i).is_empty()));
        // Keys ten apart over 2,000 rows: hashed, with the bitmap of the values present
        // turning away the probes between them, the same matches.
        let spaced: Vec<Option<i64>> = (0..2_000)
            .map(|i| (i % 9 != 4).then_some(100 + 10 * (i % 1_900)))
            .collect();
        let keys = int64_keys(spaced.clone(), true);
        let mem = pool.reserve("HASH_JOIN");
        let table = JoinTable::new(keys, &mem).unwrap();
        assert!(!table.is_direct() && table.has_bitmap());
        assert_eq!(mem.size(), table.bytes());
        let probes: Vec<Option<i64>> = (0..20_000).step_by(7).map(Some).collect();
        let p = int64_keys(probes.clone(), false);
        for (i, want) in probes.iter().enumerate() {
            let expected: Vec<u32> = (0..spaced.len() as u32)
                .filter(|&r| spaced[r as usize] == *want)
                .collect();
            assert_eq!(table.matches(&p, i), expected.as_slice(), "probe {want:?}");
            assert_eq!(table.holds(&p, i), !expected.is_empty(), "probe {want:?}");
        }
        // A wide range of values is hashed.
        let wide = int64_keys(vec![Some(1), Some(1 << 40)], true);
        assert!(!JoinTable::new(wide, &pool.reserve("HASH_JOIN"))
            .unwrap()
            .is_direct());
    }

    #[test]
    fn a_few_keys_over_a_wide_range_keep_a_bitmap_and_probe_unhashed() {
        // 200 keys (nulls among them) spread over 1..=1_000_000, Q17's 200 parts of 200,000:
        // too wide for a direct table, but the bitmap fits in cache and answers semi joins.
        let enc = KeyEncoder::new(&[DataType::Int64]).unwrap();
        let build: Vec<Option<i64>> = (0..220)
            .map(|i: i64| (i % 11 != 3).then_some(1 + (i * 4_999) % 1_000_000))
            .collect();
        let int64 = |v: &[Option<i64>]| Arc::new(Int64Array::from(v.to_vec())) as ArrayRef;
        let pool = MemoryPool::unbounded();
        let mem = pool.reserve("HASH_JOIN");
        let table = JoinTable::new(enc.encode(&[int64(&build)], true).unwrap(), &mem).unwrap();
        assert!(!table.is_direct() && table.has_bitmap());
        assert_eq!(mem.size(), table.bytes());
        assert!(!table.probes_hash(true) && table.probes_hash(false));
        // Probes in and out of the range, on and between keys, and nulls.
        let probes: Vec<Option<i64>> = (-10..1_000_100)
            .step_by(997)
            .chain(build.iter().filter_map(|k| *k))
            .map(|k| (k % 13 != 5).then_some(k))
            .collect();
        let hashed = enc.encode(&[int64(&probes)], false).unwrap();
        let unhashed = enc.encode_unhashed(&[int64(&probes)]).unwrap();
        assert!(unhashed.hashes.is_empty() && unhashed.len() == probes.len());
        let mut held = 0;
        for (i, want) in probes.iter().enumerate() {
            let expected = want.is_some() && build.contains(want);
            assert_eq!(table.holds(&unhashed, i), expected, "probe {want:?}");
            assert_eq!(!table.matches(&hashed, i).is_empty(), expected, "{want:?}");
            held += usize::from(expected);
        }
        assert!(held > 100);
        // A direct table finds unhashed keys too, the same rows.
        let narrow: Vec<Option<i64>> = (0..50).map(|i| (i % 7 != 2).then_some(i % 20)).collect();
        let direct = JoinTable::new(enc.encode(&[int64(&narrow)], true).unwrap(), &mem).unwrap();
        assert!(direct.is_direct() && !direct.probes_hash(false));
        let probes: Vec<Option<i64>> = (-2..25).map(Some).chain([None]).collect();
        let (h, u) = (
            enc.encode(&[int64(&probes)], false).unwrap(),
            enc.encode_unhashed(&[int64(&probes)]).unwrap(),
        );
        for i in 0..probes.len() {
            assert_eq!(direct.matches(&h, i), direct.matches(&u, i));
            assert_eq!(direct.holds(&u, i), !direct.matches(&h, i).is_empty());
        }
    }

    #[test]
    fn string_keys() {
        let enc = KeyEncoder::new(&[DataType::Utf8]).unwrap();
        let b: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("b"),
            Some("a"),
        ]));
        let mem = MemoryPool::unbounded().reserve("HASH_JOIN");
        let table = JoinTable::new(enc.encode(&[b], true).unwrap(), &mem).unwrap();
        let p: ArrayRef = Arc::new(StringArray::from(vec!["a", "c", "b"]));
        let p = enc.encode(&[p], false).unwrap();
        assert_eq!(table.matches(&p, 0), &[0, 3]);
        assert!(table.matches(&p, 1).is_empty());
        assert_eq!(table.matches(&p, 2), &[2]);
    }
}
