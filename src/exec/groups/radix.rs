//! Grouping keys that rarely repeat (db-benchmark's q10: ten million groups of ten million
//! rows): the rows radix-partitioned by hash once, each partition then grouped on its own.
//!
//! The general path interns every row into its morsel's partial table and then every partial
//! group again into the merged table: when nearly every group is new, each is inserted twice
//! (the second time into a table far larger than the cache). Here each morsel judges its first
//! piece ([`piece_looks_distinct`]); a morsel whose keys look distinct has its rows
//! row-encoded once and cut by bits of their hash ([`partition_of`], the partitioned merge's)
//! into [`PARTITIONS`] segments per piece: key bytes, hash, row number in the morsel and the
//! aggregates' inputs. A morsel whose keys repeat keeps its partial. Then the partitions are
//! grouped in parallel, each into a table of its own.
//!
//! The results are those of the general path to the bit. A partition holds every row of its
//! groups, and takes its share of every morsel in morsel order: a partial's groups as the
//! partitioned merge takes them, a cut morsel's rows into fresh states by morsel-local ids
//! (numbered in row order, as the morsel's partial would number them), sealed and merged in.
//! Every group's state is thus made from the same rows in the same order and merged with the
//! same partials in the same order as on the general path (a group's state depends only on its
//! own rows). Groups are put back in order of first appearance by where each first appeared:
//! a partial's group at its morsel's start plus its local id, a cut row at its morsel's start
//! plus its row; a slot per possible place sorts them in one pass.

use arrow::array::{ArrayRef, UInt32Array};
use rayon::prelude::*;

use super::keys::{encode_rows, hash_bytes, KeySpec, Layout};
use super::merge::{
    first_appearance, gather, partition_of, state_size, Grouped, Held, Partial, MIN_GROUP_BYTES,
};
use super::table::GroupTable;
use crate::error::{Error, Result};
use crate::exec::aggregate::AggSpecs;
use crate::exec::kernels::agg::{vec_bytes, Groups, GroupsAccumulator};
use crate::memory::{array_bytes, Reservation};

/// The number of partitions (a power of two: `partition_of`), the same for every morsel
/// whatever its size, as each morsel chooses its path alone. 10M groups make partitions of
/// 80K, whose tables, keys and states (~12 MB) two cores work on at once within the 32 MB
/// shared cache; a small input's short segments cost little. (Not tuned: other counts were
/// not measured.)
pub(super) const PARTITIONS: usize = 128;

/// How many rows ahead a segment's rows fetch their index slot.
const AHEAD: usize = 8;

/// One piece's rows of one partition, each vector allocated at its exact size.
struct Segment {
    /// Row `r`'s key is `keys[ends[r - 1]..ends[r]]` (from 0 for the first).
    keys: Vec<u8>,
    ends: Vec<u32>,
    hashes: Vec<u64>,
    /// Each row's number in its morsel.
    rows: Vec<u32>,
    /// The aggregates' inputs.
    values: Vec<ArrayRef>,
}

impl Segment {
    fn key(&self, r: usize) -> &[u8] {
        let start = if r == 0 { 0 } else { self.ends[r - 1] as usize };
        &self.keys[start..self.ends[r] as usize]
    }

    /// The bytes it holds, for the memory budget.
    fn size(&self) -> usize {
        vec_bytes(&self.keys)
            + vec_bytes(&self.ends)
            + vec_bytes(&self.hashes)
            + vec_bytes(&self.rows)
            + self.values.iter().map(array_bytes).sum::<usize>()
    }
}

/// One morsel's rows cut into partitions as its pieces come: per partition, a segment per
/// piece (segments rather than one growing vector: no copy on growth, no spare room).
pub(super) struct Scatter {
    spec: std::sync::Arc<KeySpec>,
    chunks: Vec<Vec<Segment>>,
    /// Rows seen so far in the morsel.
    seen: usize,
    /// The bytes its segments hold of the reservation.
    held: usize,
    buf: Vec<u8>,
    ends: Vec<usize>,
    hashes: Vec<u64>,
    picks: Vec<Vec<u32>>,
}

/// Morsels cut so far (tests: that the path was taken).
#[cfg(test)]
pub(super) static CUT_MORSELS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// How many rows of a piece judge whether its keys rarely repeat.
const JUDGED_ROWS: usize = 4096;

/// Whether the keys of a piece (prepared key columns) rarely repeat: at least 99% of its first
/// [`JUDGED_ROWS`] rows are distinct. Drawn from `g` equally likely keys, 4096 rows repeat
/// about 4096^2 / 2g times: 10,000 keys leave ~82% distinct (db-benchmark's q2 and q9, whose
/// small partial tables stay in cache and which cutting made 4-5x slower at a "half distinct"
/// test), 100,000 keys ~98%, a million ~99.8%. So only inputs of a few hundred thousand keys
/// and more are cut. Row-encoded keys only: the other layouts' tables are small per group
/// and already fast to merge. Only the path taken depends on it, never a result.
pub(super) fn piece_looks_distinct(spec: &KeySpec, keys: &[ArrayRef]) -> Result<bool> {
    let n = keys.first().map_or(0, |k| k.len());
    if spec.layout != Layout::Rows || n < JUDGED_ROWS {
        return Ok(false);
    }
    let sample: Vec<ArrayRef> = keys.iter().map(|k| k.slice(0, JUDGED_ROWS)).collect();
    let (mut buf, mut ends) = (vec![], vec![]);
    encode_rows(&sample, &spec.kinds, &mut buf, &mut ends)?;
    let mut start = 0;
    let mut hs: Vec<u64> = ends
        .iter()
        .map(|&end| {
            let h = hash_bytes(&buf[start..end]);
            start = end;
            h
        })
        .collect();
    hs.sort_unstable();
    hs.dedup();
    Ok(hs.len() * 100 >= JUDGED_ROWS * 99)
}

impl Scatter {
    /// Nothing cut yet, into `p` partitions.
    pub(super) fn new(spec: std::sync::Arc<KeySpec>, p: usize) -> Self {
        #[cfg(test)]
        CUT_MORSELS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self {
            spec,
            chunks: (0..p).map(|_| vec![]).collect(),
            seen: 0,
            held: 0,
            buf: vec![],
            ends: vec![],
            hashes: vec![],
            picks: vec![vec![]; p],
        }
    }

    /// Cut the next piece of the morsel: its prepared key columns and the aggregates' inputs.
    /// The segments are reserved from `mem` once the piece is in.
    pub(super) fn add(
        &mut self,
        keys: &[ArrayRef],
        values: &[ArrayRef],
        mem: &Reservation,
    ) -> Result<()> {
        let p = self.chunks.len();
        encode_rows(keys, &self.spec.kinds, &mut self.buf, &mut self.ends)?;
        let n = self.ends.len();
        if self.seen + n > u32::MAX as usize {
            return Err(Error::Internal("a morsel of more than 2^32 rows".into()));
        }
        // Hashes and each partition's rows and key bytes first, so every segment is
        // allocated once at its size.
        let mut key_bytes = vec![0usize; p];
        for pick in &mut self.picks {
            pick.clear();
        }
        self.hashes.clear();
        let mut start = 0;
        for (r, &end) in self.ends.iter().enumerate() {
            let h = hash_bytes(&self.buf[start..end]);
            let q = partition_of(h, p);
            key_bytes[q] += end - start;
            self.picks[q].push(r as u32);
            self.hashes.push(h);
            start = end;
        }
        let row = |r: usize| {
            let start = if r == 0 { 0 } else { self.ends[r - 1] };
            &self.buf[start..self.ends[r]]
        };
        let mut now = 0;
        for ((chunk, pick), bytes) in self.chunks.iter_mut().zip(&self.picks).zip(key_bytes) {
            if pick.is_empty() {
                continue;
            }
            let mut seg = Segment {
                keys: Vec::with_capacity(bytes),
                ends: Vec::with_capacity(pick.len()),
                hashes: Vec::with_capacity(pick.len()),
                rows: Vec::with_capacity(pick.len()),
                values: vec![],
            };
            for &r in pick {
                let r = r as usize;
                seg.keys.extend_from_slice(row(r));
                seg.ends.push(seg.keys.len() as u32);
                seg.hashes.push(self.hashes[r]);
                seg.rows.push((self.seen + r) as u32);
            }
            let at = UInt32Array::from(pick.clone());
            seg.values = values
                .iter()
                .map(|v| Ok(arrow::compute::take(v.as_ref(), &at, None)?))
                .collect::<Result<Vec<_>>>()?;
            now += seg.size();
            chunk.push(seg);
        }
        self.seen += n;
        mem.try_grow(now)?;
        self.held += now;
        Ok(())
    }
}

/// One morsel's share of a partition: its partial's groups that fall there (local ids in
/// order), or its rows' segments.
enum Share<'a> {
    Partial(&'a Partial, &'a [u32]),
    Rows(Vec<Segment>),
}

/// A morsel of a radix-partitioned grouping: grouped into its own partial (its keys looked
/// like they repeat), or cut into partitions.
pub(super) enum Morsel {
    Partial(Box<Partial>),
    Rows(Scatter),
}

/// Group `morsels` (in morsel order; partials sealed) into [`PARTITIONS`] partitions, in
/// order of first appearance.
pub(super) fn group(morsels: Vec<Morsel>, aggs: &AggSpecs, mem: &Reservation) -> Result<Grouped> {
    let p = PARTITIONS;
    let spec = aggs_spec(&morsels)?;
    // Where each morsel's groups (a partial) or rows (cut) start among the places a group can
    // first appear, and each partial's groups by partition, in local order.
    let mut base = Vec::with_capacity(morsels.len());
    let mut places = 0usize;
    let mut lists: Vec<Vec<Vec<u32>>> = Vec::with_capacity(morsels.len());
    let mut per_group = MIN_GROUP_BYTES;
    for m in &morsels {
        base.push(places);
        match m {
            Morsel::Partial(part) => {
                places += part.table.len();
                let mut l = vec![vec![]; p];
                for g in 0..part.table.len() as u32 {
                    l[partition_of(part.table.hash(g), p)].push(g);
                }
                lists.push(l);
                per_group = per_group.max(part.size_per_group());
            }
            Morsel::Rows(s) => {
                places += s.seen;
                lists.push(vec![]);
            }
        }
    }
    // Each partition's shares, in morsel order.
    let mut morsels = morsels;
    let mut cut: Vec<Vec<(usize, Vec<Segment>)>> = (0..p).map(|_| vec![]).collect();
    for (m, morsel) in morsels.iter_mut().enumerate() {
        if let Morsel::Rows(s) = morsel {
            for (q, segs) in std::mem::take(&mut s.chunks).into_iter().enumerate() {
                if !segs.is_empty() {
                    cut[q].push((m, segs));
                }
            }
        }
    }
    let mut shares: Vec<Vec<(usize, Share)>> = Vec::with_capacity(p);
    for (q, rows) in cut.into_iter().enumerate() {
        let mut sh: Vec<(usize, Share)> = rows
            .into_iter()
            .map(|(m, segs)| (m, Share::Rows(segs)))
            .collect();
        for (m, morsel) in morsels.iter().enumerate() {
            if let Morsel::Partial(part) = morsel {
                let list = &lists[m][q];
                if !list.is_empty() {
                    sh.push((m, Share::Partial(part.as_ref(), list)));
                }
            }
        }
        sh.sort_by_key(|(m, _)| *m);
        shares.push(sh);
    }
    let done: Vec<Grouping> = shares
        .into_par_iter()
        .map(|shares| {
            let mut part = Partition {
                table: GroupTable::new(spec.clone()).without_codes(),
                accs: aggs.accumulators()?,
                origin: vec![],
                held: Held::of(mem, 0),
            };
            // Room for every share's groups or rows to be new.
            let (mut groups, mut bytes) = (0usize, 0usize);
            for (_, sh) in &shares {
                match sh {
                    Share::Partial(pt, list) => {
                        groups += list.len();
                        bytes += list.len() * pt.table.key_bytes_per_group();
                    }
                    Share::Rows(segs) => {
                        groups += segs.iter().map(|s| s.rows.len()).sum::<usize>();
                        bytes += segs.iter().map(|s| s.keys.len()).sum::<usize>();
                    }
                }
            }
            part.table.reserve(groups, bytes.div_ceil(groups.max(1)));
            let mut stamps = Stamps::default();
            for (m, sh) in shares {
                match sh {
                    Share::Partial(pt, list) => part.take_partial(base[m], pt, list, per_group)?,
                    Share::Rows(segs) => {
                        part.take_rows(base[m], &segs, aggs, &mut stamps, per_group)?;
                        mem.shrink(segs.iter().map(Segment::size).sum());
                    }
                }
            }
            Ok((part.table, part.accs, part.origin))
        })
        .collect::<Result<_>>()?;
    for m in &morsels {
        match m {
            Morsel::Partial(part) => mem.shrink(part.held),
            // Its segments gave theirs back as they went in.
            Morsel::Rows(_) => {}
        }
    }
    drop(morsels);
    let mut tables = Vec::with_capacity(p);
    let mut states = Vec::with_capacity(p);
    let mut origins = Vec::with_capacity(p);
    for (t, s, o) in done {
        tables.push(t);
        states.push(s);
        origins.push(o);
    }
    let pairs = first_appearance(&origins, places)?;
    let (keys, results, _) = gather(&tables, &mut states, &pairs)?;
    Ok(Grouped {
        n_groups: pairs.len(),
        keys,
        results,
        row_ids: None,
    })
}

/// The key spec of a grouping's morsels (one is cut, so its spec is the grouping's).
fn aggs_spec(morsels: &[Morsel]) -> Result<std::sync::Arc<KeySpec>> {
    morsels
        .iter()
        .find_map(|m| match m {
            Morsel::Rows(s) => Some(s.spec.clone()),
            Morsel::Partial(_) => None,
        })
        .ok_or_else(|| Error::Internal("a radix grouping without cut morsels".into()))
}

/// A partition's table, states, and each group's first appearance.
type Grouping = (GroupTable, Vec<Box<dyn GroupsAccumulator>>, Vec<usize>);

/// One partition's grouping while its shares go in.
struct Partition<'a> {
    table: GroupTable,
    accs: Vec<Box<dyn GroupsAccumulator>>,
    /// Each group's first appearance (see the module docs).
    origin: Vec<usize>,
    held: Held<'a>,
}

/// Which groups of a partition the current morsel has met, and their morsel-local ids:
/// group `g` is met when `stamp[g]` is the morsel's tick.
#[derive(Default)]
struct Stamps {
    tick: u32,
    stamp: Vec<u32>,
    local: Vec<u32>,
    /// The partition's id of each local group.
    to: Vec<u32>,
    ids: Vec<u32>,
}

impl Partition<'_> {
    /// A partial's groups `list` (its local ids that fall here), as the partitioned merge
    /// takes them: new groups take their states as they are, and first appear at `base` plus
    /// their local id.
    fn take_partial(
        &mut self,
        base: usize,
        part: &Partial,
        list: &[u32],
        per_group: usize,
    ) -> Result<()> {
        self.held.before(list.len(), per_group)?;
        let mut to = Vec::with_capacity(list.len());
        let origin = &mut self.origin;
        self.table.insert_all_from(&part.table, list, |i, id, new| {
            if new {
                origin.push(base + list[i] as usize);
            }
            to.push(id);
        });
        for (a, pa) in self.accs.iter_mut().zip(&part.accs) {
            a.merge(pa.as_ref(), list, &to, self.table.len())?;
        }
        self.held.settle(state_size(&self.table, &self.accs))?;
        Ok(())
    }

    /// A cut morsel's segments (its rows' places start at `base`): rows interned here,
    /// their inputs folded into fresh states by morsel-local ids (numbered in row order, as
    /// the morsel's partial would number them), sealed and merged in.
    fn take_rows(
        &mut self,
        base: usize,
        segs: &[Segment],
        aggs: &AggSpecs,
        st: &mut Stamps,
        per_group: usize,
    ) -> Result<()> {
        let n: usize = segs.iter().map(|s| s.rows.len()).sum();
        self.held.before(n, per_group)?;
        st.tick = st.tick.wrapping_add(1);
        if st.tick == 0 {
            st.stamp.iter_mut().for_each(|s| *s = 0);
            st.tick = 1;
        }
        st.to.clear();
        st.ids.clear();
        // Groups that came from partials have no stamps yet.
        let had = self.table.len();
        st.stamp.resize(had, 0);
        st.local.resize(had, 0);
        for seg in segs {
            let hs = &seg.hashes;
            for r in 0..hs.len() {
                if let Some(&ha) = hs.get(r + AHEAD) {
                    self.table.prefetch_slot(ha);
                }
                let (g, new) = self.table.bytes_id(seg.key(r), hs[r]);
                if new {
                    self.origin.push(base + seg.rows[r] as usize);
                    st.stamp.push(0);
                    st.local.push(0);
                }
                let g = g as usize;
                if st.stamp[g] != st.tick {
                    st.stamp[g] = st.tick;
                    st.local[g] = st.to.len() as u32;
                    st.to.push(g as u32);
                }
                st.ids.push(st.local[g]);
            }
        }
        let n_local = st.to.len();
        let mut fresh = aggs.accumulators()?;
        let mut at = 0;
        for seg in segs {
            let rows = seg.rows.len();
            let ids = &st.ids[at..at + rows];
            for (k, acc) in fresh.iter_mut().enumerate() {
                acc.update(&aggs.args_of(k, &seg.values), Groups::Ids(ids), n_local)?;
            }
            at += rows;
        }
        let from: Vec<u32> = (0..n_local as u32).collect();
        let n_groups = self.table.len();
        for (a, f) in self.accs.iter_mut().zip(fresh.iter_mut()) {
            f.seal()?;
            a.merge(f.as_ref(), &from, &st.to, n_groups)?;
        }
        self.held.settle(state_size(&self.table, &self.accs))?;
        Ok(())
    }
}
