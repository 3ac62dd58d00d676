//! The index of a group table's byte keys (`Layout::Str` and `Layout::Rows`): an
//! open-addressing hash table from a key's hash, length and first 16 bytes to its group id.
//!
//! A look-up's cost is the cache miss on its slot: a table of 100,000 string keys
//! (db-benchmark's q3) or of a million row keys (a q10 morsel) is megabytes. A general hash
//! table gives no way to fetch a key's slot before looking it up, so a piece's rows waited
//! for their misses one after another. Here the slot a hash starts probing at follows from the
//! hash alone ([`ByteIndex::prefetch`]): the table hashes a piece's rows first and fetches the
//! slots of rows a few places ahead while the current one goes in, so the misses overlap.
//!
//! Linear probing from the hash's low bits over 32-byte slots (two to a cache line, so a
//! probe rarely leaves the line it fetched), at most three quarters full. A slot is four
//! words, all zero when empty (ids are stored plus one), so a new array is zeroed memory the
//! allocator hands untouched.

use crate::exec::{prefetch, written_vec};

/// A slot: the key's full hash, its group id plus one (0: empty) and its length, and its
/// first 16 bytes (zero-padded).
type Slot = [u64; 4];

/// See the module docs.
#[derive(Default)]
pub(super) struct ByteIndex {
    slots: Vec<Slot>,
    len: usize,
}

/// What a look-up compares besides the hash: the key's length and head, and, for keys longer
/// than the head, whether the rest is equal (given the id of a group whose hash, length and
/// head agree).
pub(super) struct Probe<F: Fn(u32) -> bool> {
    pub(super) hash: u64,
    pub(super) len: u32,
    pub(super) head: [u64; 2],
    pub(super) rest_equal: F,
}

impl ByteIndex {
    /// The bytes its slots take.
    pub(super) fn size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h as usize) & (self.slots.len().wrapping_sub(1))
    }

    /// Fetch the slot where keys of hash `h` start probing into the cache.
    #[inline(always)]
    pub(super) fn prefetch(&self, h: u64) {
        if !self.slots.is_empty() {
            prefetch(self.slots.as_ptr().wrapping_add(self.home(h)));
        }
    }

    /// Room for `more` keys beyond those it holds, without growing on the way.
    pub(super) fn reserve(&mut self, more: usize) {
        let want = self.len.saturating_add(more);
        if want.saturating_mul(4) > self.slots.len().saturating_mul(3) {
            self.grow_to(want);
        }
    }

    /// A slot array for `n` keys at most three quarters full, the keys moved into it.
    #[cold]
    fn grow_to(&mut self, n: usize) {
        let cap = (n.saturating_mul(4) / 3 + 1).next_power_of_two().max(16);
        if cap <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, written_vec(cap, [0u64; 4]));
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s[1] != 0) {
            let mut i = (s[0] as usize) & mask;
            while self.slots[i][1] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// The group id of the key `p` describes, or `next` (inserted) when no slot holds it; and
    /// whether it is new.
    #[inline(always)]
    pub(super) fn find_or_insert<F: Fn(u32) -> bool>(
        &mut self,
        p: Probe<F>,
        next: u32,
    ) -> (u32, bool) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow_to(self.len + 1);
        }
        let mask = self.slots.len() - 1;
        let meta_of = |id1: u64| (u64::from(p.len) << 32) | id1;
        let mut i = (p.hash as usize) & mask;
        loop {
            let s = &self.slots[i];
            if s[1] == 0 {
                self.slots[i] = [p.hash, meta_of(u64::from(next) + 1), p.head[0], p.head[1]];
                self.len += 1;
                return (next, true);
            }
            if s[0] == p.hash
                && (s[1] >> 32) as u32 == p.len
                && s[2] == p.head[0]
                && s[3] == p.head[1]
            {
                let id = (s[1] as u32).wrapping_sub(1);
                if p.len <= 16 || (p.rest_equal)(id) {
                    return (id, false);
                }
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(hash: u64, len: u32, head0: u64) -> Probe<impl Fn(u32) -> bool> {
        Probe {
            hash,
            len,
            head: [head0, 0],
            rest_equal: |_| true,
        }
    }

    /// Keys that share their home slot (equal low bits) and keys that share the whole hash
    /// but differ in length or head are all told apart, across growths.
    #[test]
    fn collisions_and_growth() {
        let mut ix = ByteIndex::default();
        let mut next = 0u32;
        let mut keys = vec![];
        for k in 0..5000u64 {
            // Every key's low 12 bits are equal: one long probe run.
            let (hash, len, head) = (k << 12, (k % 3) as u32, k / 3);
            let (id, new) = ix.find_or_insert(probe(hash, len, head), next);
            assert!(new);
            assert_eq!(id, next);
            next += 1;
            keys.push((hash, len, head));
        }
        // Same hash, other length or head: new keys.
        let (id, new) = ix.find_or_insert(probe(0, 7, 0), next);
        assert!(new && id == next);
        for (g, &(hash, len, head)) in keys.iter().enumerate() {
            assert_eq!(
                ix.find_or_insert(probe(hash, len, head), u32::MAX),
                (g as u32, false)
            );
        }
        assert!(ix.size() >= 5001 * 32 * 4 / 3);
    }

    /// A key longer than its head is found only when the rest is equal too.
    #[test]
    fn long_keys_compare_their_rest() {
        let mut ix = ByteIndex::default();
        let p = |eq: bool| Probe {
            hash: 9,
            len: 40,
            head: [1, 2],
            rest_equal: move |_| eq,
        };
        assert_eq!(ix.find_or_insert(p(false), 0), (0, true));
        assert_eq!(ix.find_or_insert(p(false), 1), (1, true));
        assert_eq!(ix.find_or_insert(p(true), 2), (0, false));
    }
}
