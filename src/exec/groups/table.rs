//! The group table: a hash table from keys to dense group ids, `0, 1, 2, ...` in order of
//! first appearance, with the keys stored columnar (a `Vec<u64>` of words, or one byte arena
//! with the end of each key) and each group's hash kept for partitioning and merging.
//!
//! A byte key's index entry (`index.rs`) carries its full hash, its length and its first 16
//! bytes, so a lookup compares in the index itself: a short key (db-benchmark's string ids
//! are 5 and 12 bytes) never touches the arena, a long one only once the hash, length and
//! head agree. A piece's rows are hashed first and their entries fetched a few rows ahead.
//!
//! One integer word key spanning a small range skips the hash table: its groups are found by
//! value in a direct table (`direct.rs`) until a key falls too far out.
//!
//! A morsel interns its rows into its own table; tables are then merged in morsel order
//! ([`GroupTable::insert_from`]), so a group's id in the merged table follows its first
//! appearance in the input.

use crate::exec::kernels::agg::vec_bytes;
use crate::exec::prefetch;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::codes::Codes;
use super::dictionary::{self, as_codes, DictionaryGroups, StrColumn};
use super::direct::{self, Direct};
use super::index::{ByteIndex, Probe};
use super::keys::{
    decode_rows, decode_strings, decode_words, encode_rows, hash_bytes, hash_word, head_words,
    same_bytes, words, KeySpec, Layout, NULL_HASH,
};
use crate::error::{Error, Result};

/// How many rows ahead a piece's interning fetches a row's slot.
const AHEAD: usize = 8;

/// Buffers reused across the pieces of a morsel.
#[derive(Default)]
pub(crate) struct Scratch {
    words: Vec<u64>,
    hashes: Vec<u64>,
    pub(super) buf: Vec<u8>,
    pub(super) ends: Vec<usize>,
}

/// See the module docs.
pub(crate) struct GroupTable {
    spec: Arc<KeySpec>,
    hashes: Vec<u64>,
    /// `Layout::Word`: (key, id) inline.
    word_map: HashTable<(u64, u32)>,
    words: Vec<u64>,
    /// `Layout::Str` / `Layout::Rows`: group `g`'s key is `arena[start(g)..ends[g]]`.
    index: ByteIndex,
    arena: Vec<u8>,
    ends: Vec<usize>,
    /// The group of the null key (`Word` and `Str`; rows encode nulls in their bytes).
    null_group: Option<u32>,
    /// `Layout::Rows` of a few one-word or string columns: the front table by column codes
    /// (`codes.rs`), until it stops paying.
    codes: Option<Codes>,
    /// `Layout::Str` keys that come dictionary-encoded: the group of each value of the last
    /// dictionary (`dictionary.rs`).
    dictionary: Option<DictionaryGroups>,
    /// `Layout::Word` integer keys while they span a small range: each value's group by its
    /// value (`direct.rs`), in place of `word_map`.
    direct: Option<Direct>,
}

impl GroupTable {
    /// An empty table for keys of `spec`.
    pub(crate) fn new(spec: Arc<KeySpec>) -> Self {
        Self {
            codes: Codes::new(&spec),
            direct: Direct::for_spec(&spec),
            spec,
            hashes: vec![],
            word_map: HashTable::new(),
            words: vec![],
            index: ByteIndex::default(),
            arena: vec![],
            ends: vec![],
            null_group: None,
            dictionary: None,
        }
    }

    /// The table without its front table of column codes: every row row-encoded (the tests'
    /// reference for the codes, and a partition of rows already encoded, `radix.rs`).
    pub(crate) fn without_codes(mut self) -> Self {
        self.codes = None;
        self
    }

    /// The table hashing its word keys whatever their range: the tests' reference for the
    /// direct table.
    #[cfg(test)]
    pub(crate) fn without_direct(mut self) -> Self {
        self.direct = None;
        self
    }

    /// Whether the table still finds word keys' groups by their value (`direct.rs`).
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The first and last rank (`direct.rs`) its direct table covers, while it has one.
    pub(crate) fn direct_window(&self) -> Option<(u64, u64)> {
        self.direct.as_ref().and_then(Direct::window)
    }

    /// Make its direct table cover ranks `lo..=hi` when that spans at most `limit` slots
    /// (a merge target about to take partials' groups of that range); whether it does.
    pub(crate) fn cover_direct(&mut self, lo: u64, hi: u64, limit: usize) -> bool {
        self.direct.as_mut().is_some_and(|d| d.cover(lo, hi, limit))
    }

    /// Whether the table still looks rows up by their columns' codes.
    #[cfg(test)]
    pub(crate) fn has_codes(&self) -> bool {
        self.codes.is_some()
    }

    /// The number of groups.
    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// The bytes the table holds (its vectors' and hash tables' capacities), for the memory
    /// budget.
    pub(crate) fn size(&self) -> usize {
        let slots =
            self.word_map.capacity() * (std::mem::size_of::<(u64, u32)>() + 1) + self.index.size();
        slots
            + vec_bytes(&self.hashes)
            + vec_bytes(&self.words)
            + vec_bytes(&self.arena)
            + vec_bytes(&self.ends)
            + self.codes.as_ref().map_or(0, Codes::size)
            + self.dictionary.as_ref().map_or(0, DictionaryGroups::size)
            + self.direct.as_ref().map_or(0, Direct::size)
    }

    /// Let go of the index (and the codes): the table then only gives its groups' hashes and
    /// keys (a partial being merged into partitions), and its vectors give back their spare
    /// room. Interning into it again would make new groups of known keys.
    pub(crate) fn drop_index(&mut self) {
        self.word_map = HashTable::new();
        self.index = ByteIndex::default();
        self.codes = None;
        self.dictionary = None;
        self.direct = None;
        self.hashes.shrink_to_fit();
        self.words.shrink_to_fit();
        self.arena.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// The keys' spec.
    pub(crate) fn spec(&self) -> &Arc<KeySpec> {
        &self.spec
    }

    /// Room for `groups` more groups of about `key_bytes` bytes of key each (`Str` and
    /// `Rows` layouts), so they go in without the table growing on the way.
    pub(crate) fn reserve(&mut self, groups: usize, key_bytes: usize) {
        self.hashes.reserve(groups);
        match self.spec.layout {
            Layout::Word => {
                if self.direct.is_none() {
                    self.word_map.reserve(groups, |&(k, _)| hash_word(k));
                }
                self.words.reserve(groups);
            }
            Layout::Str | Layout::Rows => {
                self.index.reserve(groups);
                self.arena.reserve(groups.saturating_mul(key_bytes));
                self.ends.reserve(groups);
            }
        }
    }

    /// The bytes of key a group holds on average (`Str` and `Rows` layouts; 0 for words).
    pub(crate) fn key_bytes_per_group(&self) -> usize {
        self.arena.len().div_ceil(self.len().max(1))
    }

    /// Fetch the index slot where a byte key of hash `h` starts probing into the cache
    /// (`Str` and `Rows` layouts), a few rows before it is looked up.
    #[inline(always)]
    pub(super) fn prefetch_slot(&self, h: u64) {
        self.index.prefetch(h);
    }

    /// Group `g`'s hash.
    pub(crate) fn hash(&self, g: u32) -> u64 {
        self.hashes[g as usize]
    }

    fn bytes(&self, g: usize) -> &[u8] {
        let start = if g == 0 { 0 } else { self.ends[g - 1] };
        &self.arena[start..self.ends[g]]
    }

    /// Group `g`'s key bytes (`Str` and `Rows` layouts).
    pub(crate) fn key_bytes(&self, g: u32) -> &[u8] {
        self.bytes(g as usize)
    }

    /// The id of word key `w`, which `last` (the previous key and its id) gives without a
    /// look-up when the key repeats; `last` becomes `w`'s.
    #[inline(always)]
    fn word_id_after(&mut self, w: u64, last: &mut Option<(u64, u32)>) -> u32 {
        match *last {
            Some((x, id)) if x == w => id,
            _ => {
                let id = self.word_id(w, hash_word(w)).0;
                *last = Some((w, id));
                id
            }
        }
    }

    /// The group of the null key (a new one the first time).
    fn null_id(&mut self) -> u32 {
        if let Some(g) = self.null_group {
            return g;
        }
        let g = self.hashes.len() as u32;
        self.hashes.push(NULL_HASH);
        match self.spec.layout {
            Layout::Word => self.words.push(0),
            _ => self.ends.push(self.arena.len()),
        }
        self.null_group = Some(g);
        g
    }

    /// The id of the word key `k` of hash `h`, and whether it is new: by its value while the
    /// table is direct and the window can take it, else hashed (the table leaving the direct
    /// path for good when the window cannot).
    #[inline(always)]
    fn word_id(&mut self, k: u64, h: u64) -> (u32, bool) {
        if let Some(d) = self.direct.as_mut() {
            let r = d.rank(k);
            if d.fit(r, r, 1) {
                let s = d.slot(r);
                if *s != direct::NONE {
                    return (*s, false);
                }
                let next = self.hashes.len() as u32;
                *s = next;
                self.words.push(k);
                self.hashes.push(h);
                return (next, true);
            }
            self.leave_direct();
        }
        let next = self.hashes.len() as u32;
        match self
            .word_map
            .entry(h, |&(kk, _)| kk == k, |&(kk, _)| hash_word(kk))
        {
            Entry::Occupied(e) => (e.get().1, false),
            Entry::Vacant(e) => {
                e.insert((k, next));
                self.words.push(k);
                self.hashes.push(h);
                (next, true)
            }
        }
    }

    /// Stop finding groups by value: the hash table takes every group so far (the null
    /// group is never in it).
    #[cold]
    fn leave_direct(&mut self) {
        self.direct = None;
        let Self {
            word_map,
            words,
            hashes,
            null_group,
            ..
        } = self;
        word_map.reserve(words.len(), |&(k, _)| hash_word(k));
        for (g, (&k, &h)) in words.iter().zip(hashes.iter()).enumerate() {
            if *null_group != Some(g as u32) {
                word_map.insert_unique(h, (k, g as u32), |&(kk, _)| hash_word(kk));
            }
        }
    }

    /// The group of every row of a piece of word keys `ws` (nulls where `nulls` says) by
    /// their values, into `ids`; `false` (nothing done) when the window cannot take the
    /// piece's range, and the table has left the direct path.
    fn intern_direct(
        &mut self,
        ws: &[u64],
        nulls: Option<&arrow::buffer::NullBuffer>,
        ids: &mut Vec<u32>,
    ) -> bool {
        let Some(d) = self.direct.as_mut() else {
            return false;
        };
        let Some((lo, hi)) = d.range(ws, nulls) else {
            // Only null rows (or none).
            ids.extend(ws.iter().map(|_| self.null_id()));
            return true;
        };
        if !d.fit(lo, hi, ws.len()) {
            self.leave_direct();
            return false;
        }
        let Self {
            direct: Some(d),
            words,
            hashes,
            null_group,
            ..
        } = self
        else {
            return false;
        };
        // A key's first row: its group, hashed as the hash table would (for partitions).
        #[inline(always)]
        fn new_group(k: u64, s: &mut u32, words: &mut Vec<u64>, hashes: &mut Vec<u64>) -> u32 {
            let next = hashes.len() as u32;
            *s = next;
            words.push(k);
            hashes.push(hash_word(k));
            next
        }
        match nulls {
            None => {
                for &w in ws {
                    let r = d.rank(w);
                    let s = d.slot(r);
                    ids.push(if *s != direct::NONE {
                        *s
                    } else {
                        new_group(w, s, words, hashes)
                    });
                }
            }
            Some(nulls) => {
                for (i, &w) in ws.iter().enumerate() {
                    if nulls.is_null(i) {
                        let g = match *null_group {
                            Some(g) => g,
                            None => {
                                let g = hashes.len() as u32;
                                hashes.push(NULL_HASH);
                                words.push(0);
                                *null_group = Some(g);
                                g
                            }
                        };
                        ids.push(g);
                        continue;
                    }
                    let r = d.rank(w);
                    let s = d.slot(r);
                    ids.push(if *s != direct::NONE {
                        *s
                    } else {
                        new_group(w, s, words, hashes)
                    });
                }
            }
        }
        true
    }

    /// The id of the byte key `key` of hash `h`, and whether it is new.
    #[inline(always)]
    pub(super) fn bytes_id(&mut self, key: &[u8], h: u64) -> (u32, bool) {
        let next = self.hashes.len() as u32;
        let Self {
            index,
            arena,
            ends,
            hashes,
            ..
        } = self;
        let probe = Probe {
            hash: h,
            len: key.len() as u32,
            head: head_words(key),
            rest_equal: |id: u32| {
                // The rest, past the head.
                let end = ends[id as usize];
                same_bytes(&arena[end - key.len() + 16..end], &key[16..])
            },
        };
        let (id, new) = index.find_or_insert(probe, next);
        if new {
            arena.extend_from_slice(key);
            ends.push(arena.len());
            hashes.push(h);
        }
        (id, new)
    }

    /// The group id of every row of a piece whose key columns are `keys` (prepared by
    /// [`KeySpec::prepare`]), into `ids`; keys not seen before become new groups, in row order.
    pub(crate) fn intern(
        &mut self,
        keys: &[ArrayRef],
        ids: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) -> Result<()> {
        ids.clear();
        let n = keys.first().map_or(0, |k| k.len());
        ids.reserve(n);
        match self.spec.layout {
            Layout::Word => {
                let k = &keys[0];
                words(k, self.spec.kinds[0], &mut scratch.words);
                let nulls = k.logical_nulls().filter(|n| n.null_count() > 0);
                if self.intern_direct(&scratch.words, nulls.as_ref(), ids) {
                    return Ok(());
                }
                // A row with the previous valid row's key takes its id unhashed: input
                // ordered by the key (TPC-H's lineitem by order, four rows an order) repeats
                // most keys in runs; elsewhere it costs one compare a row.
                let mut last: Option<(u64, u32)> = None;
                match nulls {
                    None => {
                        for &w in &scratch.words {
                            ids.push(self.word_id_after(w, &mut last));
                        }
                    }
                    Some(nulls) => {
                        for (r, &w) in scratch.words.iter().enumerate() {
                            ids.push(if nulls.is_valid(r) {
                                self.word_id_after(w, &mut last)
                            } else {
                                self.null_id()
                            });
                        }
                    }
                }
            }
            Layout::Str => {
                if let Some(d) = as_codes(keys[0].as_ref()) {
                    let mut map = self.dictionary.take();
                    let done = dictionary::intern(&mut map, d, ids, &mut |v| match v {
                        Some(v) => self.bytes_id(v, hash_bytes(v)).0,
                        None => self.null_id(),
                    });
                    self.dictionary = map;
                    return done;
                }
                let s = keys[0].as_string::<i32>();
                let (offs, data) = (s.value_offsets(), s.value_data());
                let nulls = s.nulls().filter(|n| n.null_count() > 0);
                let value = |r: usize| &data[offs[r] as usize..offs[r + 1] as usize];
                // Hashed first, so each row's slot is fetched a few rows ahead.
                let hs = &mut scratch.hashes;
                hs.clear();
                hs.extend((0..n).map(|r| hash_bytes(value(r))));
                for r in 0..n {
                    if let Some(&ha) = hs.get(r + AHEAD) {
                        self.index.prefetch(ha);
                    }
                    if nulls.is_some_and(|nl| nl.is_null(r)) {
                        ids.push(self.null_id());
                        continue;
                    }
                    ids.push(self.bytes_id(value(r), hs[r]).0);
                }
            }
            Layout::Rows => match self.codes.take() {
                Some(mut codes) => {
                    if codes.intern(self, keys, ids, scratch)? {
                        self.codes = Some(codes);
                    }
                }
                None => {
                    encode_rows(keys, &self.spec.kinds, &mut scratch.buf, &mut scratch.ends)?;
                    let (buf, ends) = (&scratch.buf, &scratch.ends);
                    let row = |r: usize| &buf[if r == 0 { 0 } else { ends[r - 1] }..ends[r]];
                    // Hashed first, so each row's slot is fetched a few rows ahead.
                    let hs = &mut scratch.hashes;
                    hs.clear();
                    hs.extend((0..ends.len()).map(|r| hash_bytes(row(r))));
                    for (r, &h) in hs.iter().enumerate() {
                        if let Some(&ha) = hs.get(r + AHEAD) {
                            self.index.prefetch(ha);
                        }
                        ids.push(self.bytes_id(row(r), h).0);
                    }
                }
            },
        }
        Ok(())
    }

    /// The id here of `other`'s group `g` (a table of the same spec), inserting it when new;
    /// and whether it is new.
    pub(crate) fn insert_from(&mut self, other: &GroupTable, g: u32) -> (u32, bool) {
        if other.null_group == Some(g) {
            let had = self.null_group.is_some();
            return (self.null_id(), !had);
        }
        let h = other.hashes[g as usize];
        match self.spec.layout {
            Layout::Word => self.word_id(other.words[g as usize], h),
            _ => self.bytes_id(other.bytes(g as usize), h),
        }
    }

    /// [`Self::insert_from`] for each of `other`'s groups `from` (ascending local ids, a
    /// partition's share of a partial), giving `f` each one's position in `from`, its id here
    /// and whether it is new.
    ///
    /// A partition's share is a sparse stride through `other`'s hashes and keys, each read a
    /// cache (and TLB) miss that the insert it feeds has to wait for: the hash and key end of
    /// the group `AHEAD` places on, and the key of the one half as far, are fetched while the
    /// current one goes in, so the misses overlap instead of following one another.
    pub(crate) fn insert_all_from(
        &mut self,
        other: &GroupTable,
        from: &[u32],
        mut f: impl FnMut(usize, u32, bool),
    ) {
        const AHEAD: usize = 16;
        for (i, &g) in from.iter().enumerate() {
            if let Some(&a) = from.get(i + AHEAD) {
                other.prefetch_meta(a as usize);
            }
            if let Some(&b) = from.get(i + AHEAD / 2) {
                other.prefetch_key(b as usize);
                // Its hash came in with the meta fetched `AHEAD / 2` groups ago.
                if self.spec.layout != Layout::Word && other.null_group != Some(b) {
                    self.index.prefetch(other.hashes[b as usize]);
                }
            }
            let (id, new) = self.insert_from(other, g);
            f(i, id, new);
        }
    }

    /// Fetch group `g`'s hash and where its key ends (or its word) into the cache.
    #[inline(always)]
    fn prefetch_meta(&self, g: usize) {
        prefetch(self.hashes.as_ptr().wrapping_add(g));
        match self.spec.layout {
            Layout::Word => prefetch(self.words.as_ptr().wrapping_add(g)),
            _ => prefetch(self.ends.as_ptr().wrapping_add(g.saturating_sub(1))),
        }
    }

    /// Fetch group `g`'s key bytes into the cache (`Str` and `Rows` layouts).
    #[inline(always)]
    fn prefetch_key(&self, g: usize) {
        if self.spec.layout == Layout::Word {
            return;
        }
        let (Some(&end), start) = (
            self.ends.get(g),
            g.checked_sub(1).map_or(0, |p| self.ends[p]),
        ) else {
            return;
        };
        let at = self.arena.as_ptr();
        prefetch(at.wrapping_add(start));
        if end > start + 1 {
            prefetch(at.wrapping_add(end - 1));
        }
    }

    /// The id of the row-encoded key `key` (a `Rows` table), inserting it when new; and
    /// whether it is new.
    pub(crate) fn insert_row(&mut self, key: &[u8]) -> (u32, bool) {
        self.bytes_id(key, hash_bytes(key))
    }

    /// The keys of every group, in id order: one array per key column, of the declared types.
    pub(crate) fn keys(&self) -> Result<Vec<ArrayRef>> {
        let spec = &self.spec;
        match spec.layout {
            Layout::Word => Ok(vec![decode_words(
                &self.words,
                self.null_group,
                &spec.types[0],
                spec.kinds[0],
            )?]),
            Layout::Str => Ok(vec![decode_strings(
                &self.arena,
                &self.ends,
                self.null_group,
                &spec.types[0],
            )?]),
            Layout::Rows => decode_rows((0..self.len()).map(|g| self.bytes(g)), self.len(), spec),
        }
    }
}

/// The keys of the groups `order` names (a table of `tables`, all of one spec, and a group of
/// it), in that order, as [`GroupTable::keys`] gives them: a partitioned merge's keys decoded
/// straight into their final order, rather than decoded per partition, concatenated and
/// gathered (two more copies of every key, a tenth of db-benchmark's q10).
pub(crate) fn keys_in_order(tables: &[&GroupTable], order: &[(u32, u32)]) -> Result<Vec<ArrayRef>> {
    let Some(first) = tables.first() else {
        return Err(Error::Internal("keys of no tables".into()));
    };
    let spec = first.spec.clone();
    let n = order.len();
    let table = |t: u32| tables[t as usize];
    let null = order
        .iter()
        .position(|&(t, g)| table(t).null_group == Some(g))
        .map(|i| i as u32);
    match spec.layout {
        Layout::Word => {
            let words: Vec<u64> = order
                .iter()
                .map(|&(t, g)| table(t).words[g as usize])
                .collect();
            Ok(vec![decode_words(
                &words,
                null,
                &spec.types[0],
                spec.kinds[0],
            )?])
        }
        Layout::Str => {
            let bytes = order.iter().map(|&(t, g)| table(t).bytes(g as usize).len());
            let mut arena = Vec::with_capacity(bytes.sum());
            let mut ends = Vec::with_capacity(n);
            for key in keys_prefetched(tables, order) {
                arena.extend_from_slice(key);
                ends.push(arena.len());
            }
            Ok(vec![decode_strings(&arena, &ends, null, &spec.types[0])?])
        }
        Layout::Rows => decode_rows(keys_prefetched(tables, order), n, &spec),
    }
}

/// The key bytes of the groups `order` names, in that order. Consecutive groups sit in
/// unrelated places of different tables, so each read is a cache miss on where the key ends
/// and another on its bytes: both are fetched a few groups ahead, so the misses overlap.
fn keys_prefetched<'a>(
    tables: &'a [&'a GroupTable],
    order: &'a [(u32, u32)],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    const AHEAD: usize = 16;
    order.iter().enumerate().map(move |(i, &(t, g))| {
        if let Some(&(ta, ga)) = order.get(i + AHEAD) {
            let ends = &tables[ta as usize].ends;
            prefetch(ends.as_ptr().wrapping_add((ga as usize).saturating_sub(1)));
        }
        if let Some(&(tb, gb)) = order.get(i + AHEAD / 2) {
            tables[tb as usize].prefetch_key(gb as usize);
        }
        tables[t as usize].bytes(g as usize)
    })
}

/// The hash of every row of a piece whose key columns are `keys` (prepared for `spec`), into
/// `out`: the hash its group has in a table ([`GroupTable::hash`]), so rows can be sent to
/// partitions by key before any table holds them.
pub(crate) fn hash_rows(
    spec: &KeySpec,
    keys: &[ArrayRef],
    scratch: &mut Scratch,
    out: &mut Vec<u64>,
) -> Result<()> {
    out.clear();
    let n = keys.first().map_or(0, |k| k.len());
    out.reserve(n);
    match spec.layout {
        Layout::Word => {
            let k = &keys[0];
            words(k, spec.kinds[0], &mut scratch.words);
            let nulls = k.logical_nulls().filter(|n| n.null_count() > 0);
            out.extend(scratch.words.iter().enumerate().map(|(r, &w)| {
                if nulls.as_ref().is_some_and(|nl| nl.is_null(r)) {
                    NULL_HASH
                } else {
                    hash_word(w)
                }
            }));
        }
        Layout::Str => {
            // Logical nulls: a dictionary's row is null where its code or its value is.
            let strs = StrColumn::of(keys[0].as_ref())?;
            let nulls = keys[0].logical_nulls().filter(|n| n.null_count() > 0);
            out.extend((0..n).map(|r| {
                if nulls.as_ref().is_some_and(|nl| nl.is_null(r)) {
                    NULL_HASH
                } else {
                    hash_bytes(strs.bytes(r))
                }
            }));
        }
        Layout::Rows => {
            encode_rows(keys, &spec.kinds, &mut scratch.buf, &mut scratch.ends)?;
            let mut start = 0;
            for &end in &scratch.ends {
                out.push(hash_bytes(&scratch.buf[start..end]));
                start = end;
            }
        }
    }
    Ok(())
}

/// The key columns of a piece, evaluated and prepared for a table of `spec`; errors name a
/// key whose values have another type than planned.
pub(crate) fn prepare_keys(spec: &KeySpec, keys: Vec<ArrayRef>) -> Result<Vec<ArrayRef>> {
    if keys.len() != spec.types.len() {
        return Err(Error::Internal("key count differs from the plan".into()));
    }
    keys.iter()
        .enumerate()
        .map(|(c, k)| spec.prepare(c, k))
        .collect()
}
