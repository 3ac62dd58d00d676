//! Grouping: hash aggregation (`group_by(..).agg(..)`, `unique`), `group_by(..).head(n)` and
//! window expressions over groups (`over`), all on one grouping machine.
//!
//! Rows are grouped by the values of key expressions: null keys form one group, NaN keys one
//! group, and groups are numbered in order of first appearance, the same for any thread count.
//! Each morsel interns its rows' keys into its own [`GroupTable`] (`table.rs`; keys are
//! stored and hashed without an allocation per row, `keys.rs`) and updates its own columnar
//! accumulators (`kernels::agg`) with the rows' local group ids; the partials then merge in
//! morsel order, partitioned by hash when there are many groups (`merge.rs`).
//! A morsel whose keys rarely repeat skips its partial: its rows are cut by hash into
//! partitions that are then grouped on their own, with the same results (`radix.rs`).
//!
//! - [`group_pipeline`] groups a pipeline's output as it streams (the `GROUP_BY` operator
//!   consumes its input morsel by morsel and keeps only the tables and states);
//! - [`group_frame`] groups a materialized frame and can also give the group of every row,
//!   which `head(n)` per group, `over` and the general per-group evaluation need
//!   (`ops.rs`, `window.rs`).

mod codes;
mod dictionary;
mod direct;
#[cfg(test)]
mod direct_tests;
mod index;
mod keys;
mod merge;
mod ops;
mod radix;
#[cfg(test)]
mod radix_tests;
mod spill;
mod table;
#[cfg(test)]
mod tests;
pub(crate) mod window;

use keys::Layout;
pub(crate) use keys::{hash_word, key_kind, words, KeyKind, KeySpec};
pub(crate) use merge::Grouped;
pub(crate) use ops::{group_by, group_evaluate, group_head};
pub(crate) use table::{GroupTable, Scratch};

use std::sync::Arc;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::datatypes::{DataType, Schema};
use rayon::prelude::*;

use self::merge::{merge, Partial, Piece, Work};
use self::table::prepare_keys;
use super::aggregate::AggSpecs;
use super::eval::evaluate;
use super::pipeline::{Carry, Opened, Running};
use super::{written_vec, Context, Params};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::frame::DataFrame;

/// The key spec of `keys` over rows of `schema`.
///
/// A key of dictionary-encoded strings gives its groups' keys as plain strings (of the
/// dictionary's value type): the dictionary a scan hands for grouping by codes is the
/// executor's choice, never the query's type, and every caller that outputs keys casts them to
/// the type its schema declares.
pub(crate) fn key_spec(keys: &[Expr], schema: &Schema) -> Result<Arc<KeySpec>> {
    let types = keys
        .iter()
        .map(|k| {
            Ok(match k.data_type(schema)? {
                DataType::Dictionary(_, v) if key_kind(&v)? == KeyKind::Str => *v,
                t => t,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(KeySpec::new(types)?))
}

/// Group the output rows of `pipeline` by `keys` (elementwise expressions), computing `aggs`
/// for each group; with `rows`, the group of every output row too.
///
/// The tables and states reserve from the run's memory budget as `GROUP_BY`: before a piece
/// is interned, room for each of its rows to be a new group (at the bytes per group the state
/// holds so far), settled to what the state holds once the piece is in; the merge likewise.
/// A grouping over the budget starts again from the first morsel, partitioning its input to
/// spill files by key (`spill.rs`), when the pipeline can run again and the rows' groups are
/// not asked for; otherwise it ends in [`Error::MemoryLimit`](crate::Error::MemoryLimit).
pub(crate) fn group_pipeline(
    pipeline: &Running,
    keys: &[Expr],
    aggs: &AggSpecs,
    rows: bool,
) -> Result<Grouped> {
    let spec = key_spec(keys, &pipeline.schema())?;
    match group_in_memory(pipeline, &spec, keys, aggs, rows) {
        Err(Error::MemoryLimit { operator, .. })
            if operator == "GROUP_BY" && !rows && !keys.is_empty() && pipeline.can_run_again() =>
        {
            spill::group(pipeline, spec, keys, aggs)
        }
        other => other,
    }
}

/// [`group_pipeline`] with every partial and the merge in memory.
fn group_in_memory(
    pipeline: &Running,
    spec: &Arc<KeySpec>,
    keys: &[Expr],
    aggs: &AggSpecs,
    rows: bool,
) -> Result<Grouped> {
    let params = pipeline.params();
    let mem = pipeline.reserve("GROUP_BY");
    let new_partial = || Partial::new(spec.clone(), aggs);
    // Each morsel judges its first piece: keys that rarely repeat (db-benchmark's q10) are
    // cut into partitions instead of grouped into the morsel's partial (`radix.rs`).
    let judge = !rows && pipeline.num_morsels() > 1 && spec.layout == Layout::Rows;
    let start = |_| Ok((new_partial()?, Work::default(), None::<radix::Scatter>));
    let mut states = pipeline.run_morsels(
        0..pipeline.num_morsels(),
        &mut Carry::default(),
        false,
        &start,
        &|(part, work, cut), piece, _| {
            let h = piece.height();
            let karrs = keys
                .iter()
                .map(|e| evaluate(e, &piece, params)?.into_array(h))
                .collect::<Result<Vec<_>>>()?;
            let keys = prepare_keys(spec, karrs)?;
            let values = aggs.eval_inputs(&piece, params)?;
            if judge
                && cut.is_none()
                && part.table.len() == 0
                && radix::piece_looks_distinct(spec, &keys)?
            {
                *cut = Some(radix::Scatter::new(spec.clone(), radix::PARTITIONS));
            }
            if let Some(cut) = cut {
                return cut.add(&keys, &values, &mem);
            }
            let piece = Piece {
                rows: h,
                keys: &keys,
                values: &values,
                room: None,
            };
            part.add(&mem, piece, aggs, work, rows)
        },
    )?;
    if states.is_empty() {
        states.push(start(0)?);
    }
    let any_cut = states.iter().any(|(_, _, c)| c.is_some());
    let mut morsels = Vec::with_capacity(states.len());
    for (mut part, _, cut) in states {
        match cut {
            Some(c) => morsels.push(radix::Morsel::Rows(c)),
            None => {
                for acc in &mut part.accs {
                    acc.seal()?;
                }
                morsels.push(radix::Morsel::Partial(Box::new(part)));
            }
        }
    }
    if any_cut {
        return radix::group(morsels, aggs, &mem);
    }
    let partials: Vec<Partial> = morsels
        .into_iter()
        .filter_map(|m| match m {
            radix::Morsel::Partial(p) => Some(*p),
            radix::Morsel::Rows(_) => None,
        })
        .collect();
    merge(partials, &|| aggs.accumulators(), rows, &mem)
}

/// Group the rows of a materialized frame by `keys`, computing `aggs`; with `rows`, the
/// group of every row too.
pub(crate) fn group_frame(
    df: &DataFrame,
    keys: &[Expr],
    aggs: &AggSpecs,
    rows: bool,
    params: &Params,
) -> Result<Grouped> {
    let ctx = Context {
        params: params.clone(),
        ..Context::default()
    };
    let running = Running::new(Opened::Frame(df.clone()), &[], &ctx);
    group_pipeline(&running, keys, aggs, rows)
}

/// The rows of each group together: `order` lists the row numbers group after group (rows of
/// a group in input order), group `g`'s being `order[offsets[g]..offsets[g + 1]]`.
pub(crate) struct ByGroup {
    pub(crate) order: UInt32Array,
    pub(crate) offsets: Vec<usize>,
}

impl ByGroup {
    /// A stable counting sort of rows by their group ids.
    pub(crate) fn new(row_ids: &[u32], n_groups: usize) -> Self {
        let mut offsets = written_vec(n_groups + 1, 0usize);
        for g in row_ids {
            offsets[*g as usize + 1] += 1;
        }
        for g in 0..n_groups {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut order = vec![0u32; row_ids.len()];
        for (r, g) in row_ids.iter().enumerate() {
            let k = &mut next[*g as usize];
            order[*k] = r as u32;
            *k += 1;
        }
        Self {
            order: UInt32Array::from(order),
            offsets,
        }
    }

    /// The columns of `df` with its rows group after group.
    pub(crate) fn sorted(&self, df: &DataFrame) -> Result<DataFrame> {
        let cols = df
            .columns()
            .par_iter()
            .map(|c| Ok(arrow::compute::take(c.as_ref(), &self.order, None)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        if cols.is_empty() {
            return Ok(DataFrame::with_height(self.order.len()));
        }
        DataFrame::from_arrays(df.schema().clone(), cols)
    }
}
