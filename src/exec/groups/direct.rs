//! Direct tables: the group of a one-word integer key found by its value, not its hash, while
//! a table's keys span a range small beside the rows it has seen.
//!
//! db-benchmark's `id6` (1..100,000) and `id4` (1..100) and many real keys (codes, small ids,
//! dates) span few values; a slot per value of the span holding the group id (or none yet)
//! replaces hashing every row and probing a hash table several times the size. A key's slot is
//! its rank (its word, the sign bit flipped for signed types so that negative and positive
//! values are one contiguous range) minus the window's base.
//!
//! The window covers the keys seen so far and grows to take new ones, as long as it spans at
//! most [`SLOTS_PER_ROW`] slots per row the table has seen (at least [`MIN_SLOTS`]): its memory
//! stays a few bytes a row, never more than the hash table the rows could have filled. A key
//! farther out makes the table leave the direct path for good (`GroupTable` then builds its
//! hash table from the groups it has). Ids are given on first appearance either way, and a new
//! group keeps the hash the hash table would give it, so groups, ids, merges and partitions are
//! the hashed path's exactly.

use arrow::datatypes::DataType;

use super::keys::{Float, KeyKind, KeySpec, Layout};

/// A slot no key has taken yet.
pub(super) const NONE: u32 = u32::MAX;

/// The most slots per row seen a window may span.
pub(super) const SLOTS_PER_ROW: usize = 4;

/// The slots a window may always span, however few rows the table has seen.
pub(super) const MIN_SLOTS: usize = 1 << 12;

/// See the module docs.
pub(crate) struct Direct {
    /// The rank of the window's first slot.
    base: u64,
    /// The group of each rank of the window, or [`NONE`].
    slots: Vec<u32>,
    /// What flips a key's word into its rank (the sign bit of a signed type, else 0).
    flip: u64,
    /// The rows (keys looked up) so far.
    rows: usize,
}

impl Direct {
    /// An empty direct table for keys of `spec`, when its keys are one integer-like word
    /// (floats never span a small range of bit patterns).
    pub(super) fn for_spec(spec: &KeySpec) -> Option<Self> {
        let (Layout::Word, [KeyKind::Fixed { width, float }]) = (spec.layout, &spec.kinds[..])
        else {
            return None;
        };
        let t = &spec.types[0];
        if *float != Float::No || *t == DataType::Boolean || *width == 0 || *width > 8 {
            return None;
        }
        let signed = t.is_signed_integer() || t.is_temporal();
        Some(Self {
            base: 0,
            slots: vec![],
            flip: if signed { 1 << (8 * width - 1) } else { 0 },
            rows: 0,
        })
    }

    /// The rank of the word `w`.
    #[inline(always)]
    pub(super) fn rank(&self, w: u64) -> u64 {
        w ^ self.flip
    }

    /// The window's first and last rank (`None` while empty).
    pub(super) fn window(&self) -> Option<(u64, u64)> {
        let n = self.slots.len() as u64;
        (n > 0).then(|| (self.base, self.base + (n - 1)))
    }

    /// The bytes its slots hold.
    pub(super) fn size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<u32>()
    }

    /// Count `rows` more rows and make the window cover ranks `lo..=hi`; `false` when it would
    /// then span more than the rows allow (the window is left as it was).
    pub(super) fn fit(&mut self, lo: u64, hi: u64, rows: usize) -> bool {
        self.rows = self.rows.saturating_add(rows);
        let limit = self.rows.saturating_mul(SLOTS_PER_ROW).max(MIN_SLOTS);
        self.cover(lo, hi, limit)
    }

    /// Make the window cover ranks `lo..=hi` if it then spans at most `limit` slots.
    pub(super) fn cover(&mut self, lo: u64, hi: u64, limit: usize) -> bool {
        debug_assert!(lo <= hi);
        let (lo, hi) = match self.window() {
            Some((a, b)) if a <= lo && hi <= b => return true,
            Some((a, b)) => (lo.min(a), hi.max(b)),
            None => (lo, hi),
        };
        let span = hi - lo;
        if span >= limit as u64 {
            return false;
        }
        let want = span as usize + 1;
        // Upward growth takes room for as many again (keys often climb: dates, ids in
        // order), so a window grows in a few doublings, not a copy per piece.
        let mut len = want.max(self.slots.len().saturating_mul(2).min(limit));
        // The window ends at rank u64::MAX at the latest.
        let room = u64::MAX - lo;
        if (len - 1) as u64 > room {
            len = room as usize + 1;
        }
        let mut slots = vec![NONE; len];
        if let Some((a, _)) = self.window() {
            let at = (a - lo) as usize;
            slots[at..at + self.slots.len()].copy_from_slice(&self.slots);
        }
        self.base = lo;
        self.slots = slots;
        true
    }

    /// The slot of rank `r`, which the window covers.
    #[inline(always)]
    pub(super) fn slot(&mut self, r: u64) -> &mut u32 {
        &mut self.slots[r.wrapping_sub(self.base) as usize]
    }

    /// The first and last rank of the words `ws` at the rows `valid` says (all when `None`),
    /// or `None` when no row is valid.
    pub(super) fn range(
        &self,
        ws: &[u64],
        valid: Option<&arrow::buffer::NullBuffer>,
    ) -> Option<(u64, u64)> {
        let fold = |(lo, hi): (u64, u64), w: u64| {
            let r = self.rank(w);
            (lo.min(r), hi.max(r))
        };
        let (lo, hi) = match valid {
            None => ws.iter().fold((u64::MAX, 0), |acc, &w| fold(acc, w)),
            Some(n) => n
                .valid_indices()
                .fold((u64::MAX, 0), |acc, r| fold(acc, ws[r])),
        };
        (lo <= hi).then_some((lo, hi))
    }
}
