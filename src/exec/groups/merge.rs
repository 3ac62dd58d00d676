//! Merging per-morsel partials into one grouping, in morsel order, so that group ids follow
//! first appearance and every state folds its partials in input order whatever the thread
//! count.
//!
//! Few groups merge in one sequence, into the first morsel's partial. Many groups are split
//! into partitions by hash (a fixed function of the number of groups, never of the threads):
//! each partition merges its share of every partial, in morsel order, into its own table and
//! states, in parallel with the others. A group's first appearance is then the (morsel, local
//! id) of the partial that created it, and the partitions' groups are put back in that order
//! at the end (each partition's list is already in it, so one pass over a slot per local
//! group does it). Partials whose integer keys span a small range all merge in one sequence,
//! by value (`direct.rs`).

use arrow::array::{Array, ArrayRef, UInt32Array};
use rayon::prelude::*;

use std::sync::Arc;

use super::keys::KeySpec;
use super::table::{keys_in_order, GroupTable, Scratch};
use crate::error::{Error, Result};
use crate::exec::aggregate::AggSpecs;
use crate::exec::kernels::agg::{vec_bytes, Groups, GroupsAccumulator};
use crate::memory::Reservation;

/// One morsel's grouping.
pub(crate) struct Partial {
    /// Its groups (local ids in order of first appearance within the morsel).
    pub(crate) table: GroupTable,
    /// Its aggregates' states, one accumulator per aggregate, sealed.
    pub(crate) accs: Vec<Box<dyn GroupsAccumulator>>,
    /// The local group id of each of its rows (kept only when the caller needs rows' groups).
    pub(crate) row_ids: Vec<u32>,
    /// The bytes it holds of the memory budget.
    pub(crate) held: usize,
}

/// One piece of a morsel to fold into its partial: its rows' key columns (prepared for the
/// table's spec) and the aggregates' inputs.
pub(crate) struct Piece<'p> {
    pub(crate) rows: usize,
    pub(crate) keys: &'p [ArrayRef],
    pub(crate) values: &'p [ArrayRef],
    /// Bytes to reserve before the rows go in; `None`: room for every row to be a new
    /// group of the bytes a group holds so far.
    pub(crate) room: Option<usize>,
}

/// Buffers a partial reuses across its pieces: each row's local group, and the table's.
#[derive(Default)]
pub(crate) struct Work {
    pub(crate) ids: Vec<u32>,
    pub(crate) scratch: Scratch,
}

impl Partial {
    /// An empty partial for keys of `spec` and the aggregates `aggs`.
    pub(crate) fn new(spec: Arc<KeySpec>, aggs: &AggSpecs) -> Result<Self> {
        Ok(Self {
            table: GroupTable::new(spec),
            accs: aggs.accumulators()?,
            row_ids: vec![],
            held: 0,
        })
    }

    /// Fold in the next piece of its morsel (the rows' local groups land in `work.ids`; with
    /// `keep_rows` they are kept too). Before its rows are interned, room for each to be a new
    /// group is reserved from `mem`; once they are in, the reservation is settled to what
    /// the partial holds.
    pub(crate) fn add(
        &mut self,
        mem: &Reservation,
        piece: Piece,
        aggs: &AggSpecs,
        work: &mut Work,
        keep_rows: bool,
    ) -> Result<()> {
        let mut held = Held::of(mem, self.held);
        match piece.room {
            Some(bytes) => held.before(1, bytes)?,
            None => held.before(piece.rows, self.size_per_group())?,
        }
        let ids = &mut work.ids;
        self.table.intern(piece.keys, ids, &mut work.scratch)?;
        for (k, acc) in self.accs.iter_mut().enumerate() {
            acc.update(
                &aggs.args_of(k, piece.values),
                Groups::Ids(ids),
                self.table.len(),
            )?;
        }
        if keep_rows {
            self.row_ids.extend_from_slice(ids);
        }
        self.held = held.settle(self.size())?;
        Ok(())
    }

    /// The bytes its table, states and row ids hold.
    pub(crate) fn size(&self) -> usize {
        state_size(&self.table, &self.accs) + vec_bytes(&self.row_ids)
    }

    /// The bytes a new group is expected to take: what a group holds so far on average (at
    /// least [`MIN_GROUP_BYTES`]).
    pub(crate) fn size_per_group(&self) -> usize {
        (self.size() / self.table.len().max(1)).max(MIN_GROUP_BYTES)
    }
}

/// The least bytes a new group is expected to take (a hash slot, a key, a few states).
pub(crate) const MIN_GROUP_BYTES: usize = 64;

/// The bytes a table and its states hold.
pub(super) fn state_size(table: &GroupTable, accs: &[Box<dyn GroupsAccumulator>]) -> usize {
    table.size() + accs.iter().map(|a| a.size()).sum::<usize>()
}

/// The share of the `GROUP_BY` reservation one grouping state (a partial's, or a merge
/// target's) holds: reserved before it grows, settled to its size after.
pub(crate) struct Held<'a> {
    mem: &'a Reservation,
    bytes: usize,
}

impl<'a> Held<'a> {
    /// A state that holds `bytes` of `mem` already.
    pub(crate) fn of(mem: &'a Reservation, bytes: usize) -> Self {
        Self { mem, bytes }
    }

    /// Reserve room for `groups` more groups of `per_group` bytes, before they are added.
    pub(crate) fn before(&mut self, groups: usize, per_group: usize) -> Result<()> {
        let more = groups.saturating_mul(per_group);
        self.mem.try_grow(more)?;
        self.bytes += more;
        Ok(())
    }

    /// Reserve exactly what the state holds now (`now` bytes); returns it.
    pub(crate) fn settle(&mut self, now: usize) -> Result<usize> {
        if now > self.bytes {
            self.mem.try_grow(now - self.bytes)?;
        } else {
            self.mem.shrink(self.bytes - now);
        }
        self.bytes = now;
        Ok(now)
    }
}

/// The merged grouping, groups in order of first appearance.
pub(crate) struct Grouped {
    pub(crate) n_groups: usize,
    /// The key columns, one value per group.
    pub(crate) keys: Vec<ArrayRef>,
    /// Each aggregate's results, one per group.
    pub(crate) results: Vec<ArrayRef>,
    /// The group of every input row, in input order (when asked for).
    pub(crate) row_ids: Option<Vec<u32>>,
}

/// Local groups per partition below which one sequence merges everything.
const PARTITION_GROUPS: usize = 1 << 16;
/// The most partitions. More (256, 1024) made db-benchmark's q10 no faster or slower: a
/// partition's share of each partial is then sparser, so every key read from a partial is a
/// TLB miss too.
const MAX_PARTITIONS: usize = 64;

/// The number of partitions for this many local groups in all (a power of two).
fn partitions(total: usize) -> usize {
    (total / PARTITION_GROUPS)
        .next_power_of_two()
        .clamp(1, MAX_PARTITIONS)
}

/// The partition of a group of hash `h` among `p` (a power of two): bits the hash table uses
/// for neither its bucket (low bits) nor its tag (top seven).
#[inline(always)]
pub(super) fn partition_of(h: u64, p: usize) -> usize {
    ((h >> 40) as usize) & (p - 1)
}

/// The groups a partition's table is expected to end with once the rest of the partials are
/// in, judged by how many of the groups inserted after the first partial's were new (the
/// first partial's groups are all new, as a partial's groups are distinct): reserving that
/// once spares the table, its keys and hashes their doublings (a rehash and a copy each).
fn expected_groups(now: usize, new_later: usize, seen_later: usize, remaining: usize) -> usize {
    if seen_later == 0 {
        return now;
    }
    now + (remaining as u128 * new_later as u128).div_ceil(seen_later as u128) as usize
}

/// Merge `partials` (in morsel order); `new_accs` makes empty accumulators for a partition;
/// with `rows`, the group of every row is returned too. The merged states reserve from `mem`
/// (which holds the partials' bytes) as they grow.
pub(crate) fn merge(
    mut partials: Vec<Partial>,
    new_accs: &(dyn Fn() -> Result<Vec<Box<dyn GroupsAccumulator>>> + Sync),
    rows: bool,
    mem: &Reservation,
) -> Result<Grouped> {
    let total: usize = partials.iter().map(|p| p.table.len()).sum();
    let p = partitions(total);
    if partials.len() <= 1 || p == 1 || merge_directly(&mut partials) {
        return merge_in_sequence(partials, rows, mem);
    }
    // Each partial's local groups, by partition, in local order.
    let lists: Vec<Vec<Vec<u32>>> = partials
        .par_iter()
        .map(|part| {
            let mut l = vec![vec![]; p];
            for g in 0..part.table.len() as u32 {
                l[partition_of(part.table.hash(g), p)].push(g);
            }
            l
        })
        .collect();
    let mut base = Vec::with_capacity(partials.len());
    let mut acc = 0usize;
    for part in &partials {
        base.push(acc);
        acc += part.table.len();
    }
    let spec = partials[0].table.spec().clone();
    // The room a new group takes is judged as the partials' groups took it, index included.
    let per_group: Vec<usize> = partials.iter().map(Partial::size_per_group).collect();
    // A partial is only read from now on (its groups' hashes and keys): its index goes, and
    // its vectors give back their spare room (a tenth of q10's memory, 10M groups).
    partials.par_iter_mut().for_each(|p| p.table.drop_index());
    for part in &mut partials {
        let now = part.size();
        mem.shrink(part.held.saturating_sub(now));
        part.held = part.held.min(now);
    }
    let mut states = (0..p)
        .map(|q| {
            Ok(PartitionState {
                table: GroupTable::new(spec.clone()),
                accs: new_accs()?,
                origin: vec![],
                targets: Vec::with_capacity(partials.len()),
                held: 0,
                remaining: lists.iter().map(|l| l[q].len()).sum(),
                new_later: 0,
                seen_later: 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Partial after partial, every partition takes its share in parallel; a partial is let go
    // once all have (its rows' local groups kept when asked for): the partials and the merged
    // states are never all held at once.
    let mut kept: Vec<(usize, Vec<u32>)> = Vec::with_capacity(partials.len());
    for (m, mut part) in partials.into_iter().enumerate() {
        states.par_iter_mut().enumerate().try_for_each(|(q, st)| {
            let share = Share {
                m,
                from: &lists[m][q],
                base: base[m],
                per_group: per_group[m],
            };
            st.take(&part, share, rows, mem)
        })?;
        let row_ids = std::mem::take(&mut part.row_ids);
        mem.shrink(part.held.saturating_sub(vec_bytes(&row_ids)));
        kept.push((part.table.len(), row_ids));
    }
    let merged: Vec<Merged> = states
        .into_iter()
        .map(|st| (st.table, st.accs, st.origin, st.targets))
        .collect();
    let mut tables = Vec::with_capacity(p);
    let mut states = Vec::with_capacity(p);
    let mut targets = Vec::with_capacity(p);
    let mut origins = Vec::with_capacity(p);
    for (t, accs, origin, to) in merged {
        tables.push(t);
        states.push(accs);
        targets.push(to);
        origins.push(origin);
    }
    let pairs = first_appearance(&origins, total)?;
    let part_base = bases(&tables);
    let n_groups = pairs.len();
    let (keys, results, order) = gather(&tables, &mut states, &pairs)?;
    let row_ids = if rows {
        // The final id of group `j` of partition `q` is its position in `order`.
        let mut inverse = vec![0u32; n_groups];
        for (i, o) in order.values().iter().enumerate() {
            inverse[*o as usize] = i as u32;
        }
        let mut out = Vec::with_capacity(kept.iter().map(|(_, r)| r.len()).sum());
        for (m, (len, row_ids)) in kept.iter_mut().enumerate() {
            let mut local = vec![0u32; *len];
            for (q, targets) in targets.iter().enumerate() {
                for (l, t) in lists[m][q].iter().zip(&targets[m]) {
                    local[*l as usize] = inverse[part_base[q] + *t as usize];
                }
            }
            out.extend(row_ids.iter().map(|l| local[*l as usize]));
            *row_ids = vec![];
        }
        Some(out)
    } else {
        None
    };
    Ok(Grouped {
        n_groups,
        keys,
        results,
        row_ids,
    })
}

/// The most slots a direct merge target may span (4 MiB of group ids).
const DIRECT_MERGE_SLOTS: usize = 1 << 20;

/// Whether `partials` merge in one sequence by their keys' values: all their tables are direct
/// and the first one's window can cover all of theirs (it is made to, so the merge never
/// regrows it). A group is then found by one read of a slot a few MiB at most, and one
/// sequence of those beats partitioning by hash, whose partition tables would each cover
/// the whole range thinly (db-benchmark's q8: 150 partials of ~50,000 groups of 100,000 keys).
fn merge_directly(partials: &mut [Partial]) -> bool {
    let mut union: Option<(u64, u64)> = None;
    for part in partials.iter() {
        if !part.table.is_direct() {
            return false;
        }
        if let Some((a, b)) = part.table.direct_window() {
            union = Some(union.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
    }
    match (union, partials.first_mut()) {
        (Some((lo, hi)), Some(first)) => first.table.cover_direct(lo, hi, DIRECT_MERGE_SLOTS),
        _ => false,
    }
}

/// Each partition's first group counted over all partitions, one after the other.
fn bases(tables: &[GroupTable]) -> Vec<usize> {
    let mut out = Vec::with_capacity(tables.len());
    let mut n = 0usize;
    for t in tables {
        out.push(n);
        n += t.len();
    }
    out
}

/// Every partition's groups as (partition, id there) in order of first appearance, from each
/// group's first appearance (`origins[q][j]`, distinct, below `slots`): one pass over a slot
/// per possible appearance, as each partition's list is already in order.
pub(super) fn first_appearance(origins: &[Vec<usize>], slots: usize) -> Result<Vec<(u32, u32)>> {
    let mut at = vec![u64::MAX; slots];
    for (q, origin) in origins.iter().enumerate() {
        for (j, o) in origin.iter().enumerate() {
            let s = at
                .get_mut(*o)
                .ok_or_else(|| Error::Internal("a group appears past its input".into()))?;
            *s = ((q as u64) << 32) | j as u64;
        }
    }
    let pairs: Vec<(u32, u32)> = at
        .into_iter()
        .filter(|s| *s != u64::MAX)
        .map(|s| ((s >> 32) as u32, s as u32))
        .collect();
    if pairs.len() != origins.iter().map(Vec::len).sum::<usize>() {
        return Err(Error::Internal("partitioned grouping lost groups".into()));
    }
    Ok(pairs)
}

/// The keys and results of partitions' groups (`tables` and their `states`) in the order
/// `pairs` gives, and where each group is in the partitions' groups one after the other.
pub(super) fn gather(
    tables: &[GroupTable],
    states: &mut [Vec<Box<dyn GroupsAccumulator>>],
    pairs: &[(u32, u32)],
) -> Result<(Vec<ArrayRef>, Vec<ArrayRef>, UInt32Array)> {
    let part_base = bases(tables);
    // Where each group is in the partitions' results one after the other.
    let order = UInt32Array::from(
        pairs
            .iter()
            .map(|&(q, j)| (part_base[q as usize] + j as usize) as u32)
            .collect::<Vec<_>>(),
    );
    // The keys straight into the final order, beside the results of each partition gathered
    // into it.
    let (keys, results) = rayon::join(
        || keys_in_order(&tables.iter().collect::<Vec<_>>(), pairs),
        || -> Result<Vec<ArrayRef>> {
            let by_part: Vec<Vec<ArrayRef>> = states
                .par_iter_mut()
                .zip(tables)
                .map(|(accs, t)| {
                    let n = t.len();
                    accs.iter_mut()
                        .map(|a| a.evaluate(n))
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<_>>()?;
            let width = by_part.first().map_or(0, Vec::len);
            // Straight from each partition's results into the final order (a concatenation
            // then a gather copied every result twice).
            let at: Vec<(usize, usize)> = pairs
                .iter()
                .map(|&(q, j)| (q as usize, j as usize))
                .collect();
            (0..width)
                .map(|c| {
                    let parts: Vec<&dyn Array> = by_part.iter().map(|p| p[c].as_ref()).collect();
                    Ok(arrow::compute::interleave(&parts, &at)?)
                })
                .collect()
        },
    );
    Ok((keys?, results?, order))
}

/// A partition's table, states, each group's first appearance, and where each partial's
/// listed groups went.
type Merged = (
    GroupTable,
    Vec<Box<dyn GroupsAccumulator>>,
    Vec<usize>,
    Vec<Vec<u32>>,
);

/// Partial `m`'s groups `from` that fall in one partition; `base`: the partial's first group
/// counted over all partials; `per_group`: the bytes a group of it took.
struct Share<'a> {
    m: usize,
    from: &'a [u32],
    base: usize,
    per_group: usize,
}

/// One partition of a partitioned merge while the partials go in.
struct PartitionState {
    table: GroupTable,
    accs: Vec<Box<dyn GroupsAccumulator>>,
    /// Each group's first appearance: its partial's first local id, counted over all partials.
    origin: Vec<usize>,
    /// Per partial taken, the id here of each of its listed groups (when rows are asked for).
    targets: Vec<Vec<u32>>,
    /// The bytes it holds of the reservation.
    held: usize,
    /// The partition's groups in the partials still to come, and how many of the groups
    /// after the first partial's were new (for `expected_groups`).
    remaining: usize,
    new_later: usize,
    seen_later: usize,
}

impl PartitionState {
    /// Take partial `share.m`'s share of this partition.
    fn take(&mut self, part: &Partial, share: Share, rows: bool, mem: &Reservation) -> Result<()> {
        let Share {
            m,
            from,
            base,
            per_group,
        } = share;
        let mut held = Held::of(mem, self.held);
        let table = &mut self.table;
        self.remaining -= from.len();
        held.before(from.len(), per_group)?;
        if m == 0 {
            table.reserve(from.len(), part.table.key_bytes_per_group());
        }
        let before = table.len();
        let mut to = Vec::with_capacity(from.len());
        let origin = &mut self.origin;
        table.insert_all_from(&part.table, from, |i, id, new| {
            if new {
                origin.push(base + from[i] as usize);
            }
            to.push(id);
        });
        if m > 0 && self.remaining > 0 {
            self.new_later += table.len() - before;
            self.seen_later += from.len();
            let want =
                expected_groups(table.len(), self.new_later, self.seen_later, self.remaining);
            if want > table.len() {
                held.before(want - table.len(), per_group)?;
                table.reserve(want - table.len(), part.table.key_bytes_per_group());
            }
        }
        for (a, pa) in self.accs.iter_mut().zip(&part.accs) {
            a.merge(pa.as_ref(), from, &to, table.len())?;
        }
        self.held = held.settle(state_size(table, &self.accs))?;
        self.targets.push(if rows { to } else { vec![] });
        Ok(())
    }
}

/// Merge everything into the first partial, one partial after the other (each let go once
/// it is in).
pub(super) fn merge_in_sequence(
    partials: Vec<Partial>,
    rows: bool,
    mem: &Reservation,
) -> Result<Grouped> {
    let mut seq = InSequence::new(rows, mem);
    for part in partials {
        seq.push(part)?;
    }
    seq.finish()
}

/// Partials folded one after the other, in morsel order, into the first of them: its groups
/// keep their ids, a later partial's new groups come after, in its local order.
pub(crate) struct InSequence<'a> {
    /// The first partial, with everything after it folded in.
    target: Option<(GroupTable, Vec<Box<dyn GroupsAccumulator>>)>,
    /// Every row's group so far, when asked for.
    rows: Option<Vec<u32>>,
    mem: &'a Reservation,
    held: Held<'a>,
}

impl<'a> InSequence<'a> {
    /// Nothing folded yet; with `rows`, the group of every row is kept too. The states
    /// reserve from `mem`.
    pub(crate) fn new(rows: bool, mem: &'a Reservation) -> Self {
        Self {
            target: None,
            rows: rows.then(Vec::new),
            mem,
            held: Held::of(mem, 0),
        }
    }

    /// Fold in the next partial (sealed, holding `part.held` of the reservation, which moves
    /// to the merged state); returns the id here of each of its local groups.
    pub(crate) fn push(&mut self, part: Partial) -> Result<Vec<u32>> {
        let Some((table, accs)) = self.target.as_mut() else {
            let Partial {
                table,
                accs,
                row_ids,
                held,
            } = part;
            self.held = Held::of(self.mem, held);
            if let Some(out) = self.rows.as_mut() {
                *out = row_ids;
            }
            let ids = (0..table.len() as u32).collect();
            self.target = Some((table, accs));
            return Ok(ids);
        };
        self.held.before(part.table.len(), part.size_per_group())?;
        let from: Vec<u32> = (0..part.table.len() as u32).collect();
        let to: Vec<u32> = from
            .iter()
            .map(|&l| table.insert_from(&part.table, l).0)
            .collect();
        for (a, pa) in accs.iter_mut().zip(&part.accs) {
            a.merge(pa.as_ref(), &from, &to, table.len())?;
        }
        if let Some(out) = self.rows.as_mut() {
            out.extend(part.row_ids.iter().map(|l| to[*l as usize]));
        }
        let now = state_size(table, accs) + self.rows.as_ref().map_or(0, vec_bytes);
        self.held.settle(now)?;
        self.mem.shrink(part.held);
        Ok(to)
    }

    /// The merged grouping (at least one partial must have been folded in); the reservation
    /// keeps holding what the states held.
    pub(crate) fn finish(self) -> Result<Grouped> {
        let Some((table, mut accs)) = self.target else {
            return Err(Error::Internal("grouping without partials".into()));
        };
        let n_groups = table.len();
        let results = accs
            .iter_mut()
            .map(|a| a.evaluate(n_groups))
            .collect::<Result<Vec<_>>>()?;
        Ok(Grouped {
            n_groups,
            keys: table.keys()?,
            results,
            row_ids: self.rows,
        })
    }
}
