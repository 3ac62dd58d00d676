//! Aggregates as columnar accumulators: one accumulator per aggregate holds the states of all
//! its groups in flat vectors (a sum keeps a `Vec` of compensated sums, a minimum a `Vec` of
//! values and one of flags), updated in bulk from a piece of values and the group id of each
//! row, in the spirit of DataFusion's `GroupsAccumulator`. Ten million groups are ten million
//! slots in a few vectors, not ten million state objects.
//!
//! One engine serves both shapes of aggregation:
//! - grouped (`group_by(..).agg(..)`, `over(..)`): `Groups::Ids` gives each row's group;
//! - scalar (`select([x.sum()])`, hoisted statistics, an aggregate of a whole column): one
//!   group, `Groups::One`. Here the accumulators take their one-group specializations:
//!   float sums are pairwise within a piece (NumPy's method), the float aggregates of one
//!   input share one look at each piece (`summary`), and a final filter is fused into them
//!   (they read the selected rows in place). These are the results the scalar path always
//!   gave, to the bit.
//!
//! Partial accumulators (one per morsel) merge in morsel order through a group-id mapping
//! (`GroupsAccumulator::merge`): group `from[i]` of the later partial folds into group
//! `to[i]`. A target group the merge creates takes the partial's state as it is, so a state's
//! arithmetic is the same whichever partial it first appeared in; results are bit-identical
//! for any thread count.
//!
//! Semantics follow NumPy: plain aggregates propagate NaN, the `nan_*` family skips it, every
//! aggregate skips nulls (`len` and `null_count` count them, `first`/`last` return them).
//! Float sums are compensated (Neumaier) across pieces and partials (and within a piece for
//! grouped sums); variances merge with Chan's formula. An empty input (or a group whose
//! values are all null) gives 0 for sums and counts, NaN for mean/std/var/median/quantile/
//! corr (as NumPy) and null for min/max/arg_min/arg_max/first/last.

use std::any::Any;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float64Type};

use crate::error::{Error, Result};
use crate::expr::AggFunc;

mod count;
mod distinct;
mod distinct_words;
mod extreme;
mod moments;
mod position;
mod sum;
mod summary;
#[cfg(test)]
mod tests;
mod values;

pub(crate) use summary::update_group;
use summary::{FloatSummary, Needs};

/// Which group each row of a piece belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Groups<'a> {
    /// Every row is in the one group (a scalar aggregate).
    One,
    /// Row `i` is in group `ids[i]`.
    Ids(&'a [u32]),
}

/// The states of one aggregate for every group, updated in bulk.
pub(crate) trait GroupsAccumulator: Send + Sync {
    /// Fold in one piece (the rows right after those already seen): `inputs` holds one array
    /// per input of the aggregate, each of the piece's length; states grow to `n_groups`.
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()>;

    /// Fold in the states of `other` (a partial over later rows, of the same aggregate):
    /// its group `from[i]` into this group `to[i]`. A `to[i]` at or past this accumulator's
    /// current number of groups is a new group, which takes `other`'s state as it is. States
    /// grow to `n_groups`.
    fn merge(
        &mut self,
        other: &dyn GroupsAccumulator,
        from: &[u32],
        to: &[u32],
        n_groups: usize,
    ) -> Result<()>;

    /// Called once a partial has seen all its rows, before it is merged: accumulators that
    /// keep values arrange them by group, so that merging a few groups reads only theirs.
    fn seal(&mut self) -> Result<()> {
        Ok(())
    }

    /// One result per group (`n_groups` of them), of the aggregate's output type.
    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef>;

    /// For downcasting the `other` of [`merge`](Self::merge).
    fn as_any(&self) -> &dyn Any;

    /// The bytes its states hold (the capacity of its vectors), for the memory budget.
    fn size(&self) -> usize;

    /// What this accumulator reads from a one-group [`FloatSummary`] of a null-free Float64
    /// piece, or `None` when it needs the values themselves.
    fn float_needs(&self) -> Option<Needs> {
        None
    }

    /// Add a piece through its summary (one group; only when `float_needs` said so).
    fn absorb(&mut self, _summary: &FloatSummary) {}
}

/// A new, empty accumulator for `func` over inputs of these types (one type per input: two
/// for `corr`, one for the others).
pub(crate) fn new_accumulator(
    func: &AggFunc,
    inputs: &[DataType],
) -> Result<Box<dyn GroupsAccumulator>> {
    let t = inputs
        .first()
        .ok_or_else(|| Error::Internal(format!("{} without input", func.name())))?;
    Ok(match func {
        AggFunc::Sum | AggFunc::NanSum if matches!(t, DataType::Decimal128(..)) => {
            Box::new(sum::DecimalSumAcc::new(t))
        }
        AggFunc::Sum | AggFunc::NanSum | AggFunc::Mean | AggFunc::NanMean => {
            Box::new(sum::SumAcc::new(func, t))
        }
        AggFunc::Min | AggFunc::Max | AggFunc::NanMin | AggFunc::NanMax => {
            extreme::new_extreme(func, t)?
        }
        AggFunc::Std(_) | AggFunc::Var(_) | AggFunc::NanStd(_) | AggFunc::NanVar(_) => {
            Box::new(moments::VarAcc::new(func))
        }
        AggFunc::Corr(_) => Box::new(moments::CorrAcc::default()),
        AggFunc::Count | AggFunc::NullCount | AggFunc::Len => Box::new(count::CountAcc::new(func)),
        AggFunc::NUnique => distinct::n_unique(t)?,
        AggFunc::Median | AggFunc::NanMedian | AggFunc::Quantile(_) => {
            Box::new(values::ValuesAcc::new(func))
        }
        AggFunc::ArgMin | AggFunc::ArgMax => Box::new(position::ArgAcc::new(func)),
        AggFunc::First | AggFunc::Last => Box::new(position::EdgeAcc::new(func, t)),
    })
}

/// `other` as the concrete accumulator `T` (a merge of different aggregates is a bug).
pub(crate) fn downcast<T: 'static>(other: &dyn GroupsAccumulator) -> Result<&T> {
    other
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Internal("merging different aggregate states".into()))
}

/// Grow `v` to `n` slots of `init` (never shrinks).
pub(crate) fn grow<T: Clone>(v: &mut Vec<T>, n: usize, init: T) {
    if v.len() < n {
        v.resize(n, init);
    }
}

/// Per-group counts as the UInt64 result of `n_groups` groups (groups never updated count 0).
pub(crate) fn counts_array(counts: &mut Vec<u64>, n_groups: usize) -> ArrayRef {
    grow(counts, n_groups, 0);
    std::sync::Arc::new(arrow::array::UInt64Array::from_iter_values(
        counts[..n_groups].iter().copied(),
    ))
}

/// The bytes `v`'s buffer holds.
pub(crate) fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// The values of `a` as Float64 (casting integers and Float32).
pub(crate) fn f64_values(a: &ArrayRef) -> Result<ArrayRef> {
    if *a.data_type() == DataType::Float64 {
        Ok(a.clone())
    } else {
        Ok(crate::exec::kernels::cast::cast(a, &DataType::Float64)?)
    }
}

/// `f(row, value)` for every valid row of `a`, as f64.
pub(crate) fn for_each_valid(a: &ArrayRef, mut f: impl FnMut(usize, f64)) -> Result<()> {
    let a = f64_values(a)?;
    let p = a.as_primitive::<Float64Type>();
    let vals = p.values();
    match p.nulls().filter(|n| n.null_count() > 0) {
        None => vals.iter().enumerate().for_each(|(i, v)| f(i, *v)),
        Some(n) => {
            for i in n.valid_indices() {
                f(i, vals[i]);
            }
        }
    }
    Ok(())
}

/// The group of row `r`.
#[inline(always)]
pub(crate) fn group_of(groups: Groups, r: usize) -> usize {
    match groups {
        Groups::One => 0,
        Groups::Ids(ids) => ids[r] as usize,
    }
}

/// The first input of an aggregate.
pub(crate) fn input<'a>(inputs: &'a [ArrayRef], name: &str) -> Result<&'a ArrayRef> {
    inputs
        .first()
        .ok_or_else(|| Error::Internal(format!("{name} without input")))
}

/// Pairs `(from[i], to[i])`, each with whether `to[i]` is a group this accumulator did not
/// have (at or past `old`).
pub(crate) fn pairs<'a>(
    from: &'a [u32],
    to: &'a [u32],
    old: usize,
) -> impl Iterator<Item = (usize, usize, bool)> + 'a {
    from.iter()
        .zip(to)
        .map(move |(&f, &t)| (f as usize, t as usize, t as usize >= old))
}
