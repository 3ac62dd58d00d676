//! Grouping beyond the memory budget: the input partitioned by key to spill files, then
//! grouped one partition at a time, with exactly the results and order of the in-memory
//! grouping.
//!
//! When the in-memory grouping does not fit, it is dropped and the pipeline runs again from
//! its first morsel (only a pipeline that can: a re-readable source, no windows). Each piece's
//! key columns and aggregate inputs are evaluated and sent, with every row's position
//! (`morsel << 32 | row in the morsel`), to one of [`1 << FAN_BITS`](FAN_BITS) Arrow IPC
//! spill files by bits of its key's hash. Morsels are written a wave at a time, in morsel
//! order, so each file holds its rows in input order, a batch never spanning two morsels.
//!
//! A partition holds every row of its groups, so it is grouped on its own, exactly as the
//! in-memory path groups the whole input: a partial per morsel (the partition's rows of that
//! morsel, in input order, into a fresh table and states), sealed and folded in morsel order
//! into the first ([`InSequence`]). A group's states are thus made from the same rows in the
//! same order and merged with the same partials in the same order as in memory (accumulators
//! update grouped states row by row, and a merge's new group takes the partial's state as it
//! is), so float sums, means and variances come out bit-identical. Partitions are grouped one
//! after the other, each with the whole budget (the input was cut in parallel); their groups
//! are put back in the order of their first row, which is the in-memory order of first
//! appearance.
//!
//! A partition that still does not fit is split again into as many files by the next bits of
//! the hash (its batches still in morsel order), down to the lowest bits [`Fan`] takes; past
//! that (a single group larger than the budget, such as a median over most of the input) the
//! grouping stops with `Error::MemoryLimit` naming `GROUP_BY`. The finished groups' keys and
//! results are the operator's output, reserved (as in memory) by the operator that takes
//! them: groups that do not fit the budget stop the query there.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, UInt32Array, UInt64Array};
use arrow::datatypes::UInt64Type;

use super::dictionary::is_code_type;
use super::keys::KeySpec;
use super::merge::{Grouped, InSequence, Partial, Piece, Work, MIN_GROUP_BYTES};
use super::table::{hash_rows, prepare_keys, GroupTable, Scratch};
use crate::error::{Error, Result};
use crate::exec::aggregate::AggSpecs;
use crate::exec::eval::evaluate;
use crate::exec::pipeline::{Carry, Running};
use crate::exec::spill::{spill_frame, Fan, PartitionFiles, SpillFile};
use crate::expr::Expr;
use crate::frame::DataFrame;
use crate::memory::array_bytes;

/// `a` with dictionary-encoded strings decoded to Utf8.
fn plain(a: ArrayRef) -> Result<ArrayRef> {
    if is_code_type(a.data_type()) {
        Ok(arrow::compute::cast(&a, &arrow::datatypes::DataType::Utf8)?)
    } else {
        Ok(a)
    }
}

/// Each level partitions by this many bits of the key hash (32 files).
const FAN_BITS: u32 = 5;

/// Group the output rows of `pipeline` by `keys`, computing `aggs`, through spill files.
pub(super) fn group(
    pipeline: &Running,
    spec: Arc<KeySpec>,
    keys: &[Expr],
    aggs: &AggSpecs,
) -> Result<Grouped> {
    Ok(group_with_fan(pipeline, spec, keys, aggs, FAN_BITS)?.0)
}

/// [`group`] with `1 << fan_bits` partitions per level; also how many partitions were split
/// again.
pub(super) fn group_with_fan(
    pipeline: &Running,
    spec: Arc<KeySpec>,
    keys: &[Expr],
    aggs: &AggSpecs,
    fan_bits: u32,
) -> Result<(Grouped, usize)> {
    let s = Spilling {
        pipeline,
        keys,
        aggs,
        spec,
        fan: Fan { bits: fan_bits },
        splits: AtomicUsize::new(0),
    };
    let grouped = s.run()?;
    Ok((grouped, s.splits.into_inner()))
}

/// One partition's groups: keys, results, and each group's first row position.
struct Done {
    keys: Vec<ArrayRef>,
    results: Vec<ArrayRef>,
    first: Vec<u64>,
}

struct Spilling<'a> {
    pipeline: &'a Running<'a>,
    keys: &'a [Expr],
    aggs: &'a AggSpecs,
    spec: Arc<KeySpec>,
    fan: Fan,
    /// Partitions split again so far.
    splits: AtomicUsize,
}

impl Spilling<'_> {
    fn run(&self) -> Result<Grouped> {
        let files = self.partition_input()?;
        // One partition at a time, so each has the whole budget (a partition's morsels fold in
        // sequence anyway).
        let parts: Vec<Vec<Done>> = files
            .into_iter()
            .map(|f| self.group_partition(f, 0))
            .collect::<Result<_>>()?;
        self.assemble(parts.into_iter().flatten().collect())
    }

    /// Run the pipeline a wave of morsels at a time, writing each morsel's rows (keys,
    /// aggregate inputs, positions) to the partition files in morsel order.
    fn partition_input(&self) -> Result<Vec<Arc<SpillFile>>> {
        let p = self.pipeline;
        let params = p.params();
        let mut files = PartitionFiles::new(p.spill_dir(), "groups", self.fan.parts());
        let mut carry = Carry::default();
        for wave in p.waves(0, p.wave()) {
            let cuts = p.run_morsels(
                wave,
                &mut carry,
                false,
                &|i| Ok((i as u64, 0u64, vec![], Cutter::default())),
                &|(morsel, seen, out, cutter), piece, _| {
                    let h = piece.height();
                    if h == 0 {
                        return Ok(());
                    }
                    // Dictionary keys are written as their strings: a spill file holds one
                    // dictionary per column, and every piece has its own.
                    let mut cols = self
                        .keys
                        .iter()
                        .map(|e| plain(evaluate(e, &piece, params)?.into_array(h)?))
                        .collect::<Result<Vec<_>>>()?;
                    cols.extend(self.aggs.eval_inputs(&piece, params)?);
                    let base = (*morsel << 32) + *seen;
                    cols.push(Arc::new(UInt64Array::from_iter_values(
                        (0..h as u64).map(|r| base + r),
                    )));
                    *seen += h as u64;
                    out.push(self.cut(spill_frame(cols)?, 0, cutter)?);
                    Ok(())
                },
            )?;
            for (_, _, out, _) in cuts {
                for (q, df) in out.into_iter().flatten() {
                    files.write(q, &df)?;
                }
            }
        }
        files.finish()
    }

    /// The rows of `df` (a spill frame) by their partition at `level`, partitions in order.
    fn cut(
        &self,
        df: DataFrame,
        level: u32,
        cutter: &mut Cutter,
    ) -> Result<Vec<(usize, DataFrame)>> {
        let nk = self.keys.len();
        let keys = prepare_keys(&self.spec, df.columns()[..nk].to_vec())?;
        hash_rows(&self.spec, &keys, &mut cutter.scratch, &mut cutter.hashes)?;
        self.fan.cut(df, &cutter.hashes, level)
    }

    /// Group one partition's file of `level`, splitting it further when it does not fit.
    fn group_partition(&self, file: Arc<SpillFile>, level: u32) -> Result<Vec<Done>> {
        match self.fold(&file) {
            Ok(done) => Ok(vec![done]),
            Err(Error::MemoryLimit { .. }) if self.fan.deeper(level) => {
                self.splits.fetch_add(1, Ordering::Relaxed);
                let subs = self.split(&file, level + 1)?;
                drop(file);
                let mut out = vec![];
                for f in subs {
                    out.extend(self.group_partition(f, level + 1)?);
                }
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }

    /// A partition file's batches cut again by their partition at `level`.
    fn split(&self, file: &Arc<SpillFile>, level: u32) -> Result<Vec<Arc<SpillFile>>> {
        let mut files = PartitionFiles::new(self.pipeline.spill_dir(), "groups", self.fan.parts());
        let mut cutter = Cutter::default();
        let mut reader = file.reader()?;
        while let Some(df) = reader.next_frame()? {
            for (q, part) in self.cut(df, level, &mut cutter)? {
                files.write(q, &part)?;
            }
        }
        files.finish()
    }

    /// Group one partition's rows: a partial per morsel, folded in morsel order. Its states
    /// reserve from a reservation of their own, let go when it is done (or gives up).
    fn fold(&self, file: &Arc<SpillFile>) -> Result<Done> {
        let mem = self.pipeline.reserve("GROUP_BY");
        let (nk, ni) = (self.keys.len(), self.aggs.inputs.len());
        let mut seq = InSequence::new(false, &mem);
        let mut first: Vec<u64> = vec![];
        // The current morsel's partial, with each of its groups' first row position.
        let mut cur: Option<(u64, Partial, Vec<u64>)> = None;
        let mut work = Work::default();
        let mut reader = file.reader()?;
        while let Some(df) = reader.next_frame()? {
            let cols = df.columns();
            let pos = cols[nk + ni].as_primitive::<UInt64Type>().values();
            let morsel = pos[0] >> 32;
            if cur.as_ref().is_some_and(|(m, ..)| *m != morsel) {
                fold_in(&mut seq, &mut first, cur.take())?;
            }
            let (_, part, part_first) = match &mut cur {
                Some(c) => c,
                slot @ None => {
                    slot.insert((morsel, Partial::new(self.spec.clone(), self.aggs)?, vec![]))
                }
            };
            let keys = prepare_keys(&self.spec, cols[..nk].to_vec())?;
            let values = &cols[nk..nk + ni];
            // A partition's few groups may hold many values each (a median's): room for every
            // row to be a new group, and for states that keep values to keep all of these.
            let room =
                df.height() * MIN_GROUP_BYTES + values.iter().map(array_bytes).sum::<usize>();
            let piece = Piece {
                rows: df.height(),
                keys: &keys,
                values,
                room: Some(room),
            };
            part.add(&mem, piece, self.aggs, &mut work, false)?;
            // New groups are numbered in row order.
            for (r, g) in work.ids.iter().enumerate() {
                if *g as usize == part_first.len() {
                    part_first.push(pos[r]);
                }
            }
        }
        fold_in(&mut seq, &mut first, cur)?;
        if first.is_empty() {
            return Err(Error::Internal("an empty grouping spill file".into()));
        }
        let g = seq.finish()?;
        Ok(Done {
            keys: g.keys,
            results: g.results,
            first,
        })
    }

    /// Every partition's groups in order of first appearance.
    fn assemble(&self, parts: Vec<Done>) -> Result<Grouped> {
        if parts.is_empty() {
            let mut accs = self.aggs.accumulators()?;
            return Ok(Grouped {
                n_groups: 0,
                keys: GroupTable::new(self.spec.clone()).keys()?,
                results: accs
                    .iter_mut()
                    .map(|a| a.evaluate(0))
                    .collect::<Result<_>>()?,
                row_ids: None,
            });
        }
        let first: Vec<u64> = parts.iter().flat_map(|d| d.first.iter().copied()).collect();
        let mut order: Vec<u32> = (0..first.len() as u32).collect();
        order.sort_unstable_by_key(|i| first[*i as usize]);
        let order = UInt32Array::from(order);
        let column = |pick: &dyn Fn(&Done) -> &ArrayRef| -> Result<ArrayRef> {
            let arrays: Vec<&dyn Array> = parts.iter().map(|d| pick(d).as_ref()).collect();
            let all = arrow::compute::concat(&arrays)?;
            Ok(arrow::compute::take(all.as_ref(), &order, None)?)
        };
        let keys = (0..parts[0].keys.len())
            .map(|c| column(&|d| &d.keys[c]))
            .collect::<Result<Vec<_>>>()?;
        let results = (0..parts[0].results.len())
            .map(|c| column(&|d| &d.results[c]))
            .collect::<Result<Vec<_>>>()?;
        Ok(Grouped {
            n_groups: first.len(),
            keys,
            results,
            row_ids: None,
        })
    }
}

/// Seal a morsel's partial and fold it into `seq`, noting the first row of each group new
/// to it.
fn fold_in(
    seq: &mut InSequence,
    first: &mut Vec<u64>,
    cur: Option<(u64, Partial, Vec<u64>)>,
) -> Result<()> {
    let Some((_, mut part, part_first)) = cur else {
        return Ok(());
    };
    for acc in &mut part.accs {
        acc.seal()?;
    }
    for (l, to) in seq.push(part)?.into_iter().enumerate() {
        // New groups come after the old ones, in the partial's order.
        if to as usize == first.len() {
            first.push(part_first[l]);
        }
    }
    Ok(())
}

/// Buffers for cutting pieces into partitions.
#[derive(Default)]
struct Cutter {
    scratch: Scratch,
    hashes: Vec<u64>,
}
