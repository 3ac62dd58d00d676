//! The aggregate engine: aggregates over a pipeline's morsels, one pass for all of them, by
//! the columnar accumulators of `kernels::agg`.
//!
//! Every morsel gets its own partial accumulators, updated piece by piece while the piece is
//! in cache; the partials are then merged in morsel order, starting from the first morsel's,
//! so results are bit-identical for any thread count. [`AggSpecs`] evaluates each distinct
//! input expression once per piece for all the aggregates that read it.
//!
//! A scalar aggregation ([`AggregateSet`]) is the accumulators with one group: aggregates of
//! the same input share its common statistics (`update_group`), and when the pipeline ends in
//! a filter and every aggregate reads a plain column, the filter is fused into the aggregates:
//! they read the selected rows in place instead of a filtered copy of each piece. Grouped
//! aggregation (`exec::groups`) drives the same accumulators with a group id per row.
//!
//! Every scalar aggregate goes through here: `select`s of aggregates (the `AGGREGATE`
//! operator), hoisted statistics (`HOISTED`), and an aggregate evaluated over a whole column
//! ([`aggregate_array`], which the expression evaluator and kernels such as `fill_nan_with`
//! call). A frame in memory is a pipeline source like any other, cut into the same 64K-row
//! morsels, so all of them chunk and merge alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::eval::evaluate;
use super::kernels::agg::{new_accumulator, update_group, Groups, GroupsAccumulator};
use super::pipeline::{Carry, Opened, Running};
use super::value::array_to_scalar;
use super::{Context, Params};
use crate::error::{Error, Result};
use crate::expr::lookup::{DistinctExprs, NameIndex};
use crate::expr::{col, AggFunc, Expr, Scalar};
use crate::frame::DataFrame;
use crate::memory::{frame_bytes, Reservation};

/// One aggregate of an [`AggSpecs`]: its function, the positions of its inputs among the
/// distinct inputs, and their declared types.
pub(crate) struct AggSpec {
    pub(crate) func: AggFunc,
    pub(crate) args: Vec<usize>,
    pub(crate) types: Vec<DataType>,
}

/// Aggregates computed together, with their distinct input expressions.
pub(crate) struct AggSpecs {
    pub(crate) aggs: Vec<AggSpec>,
    pub(crate) inputs: Vec<Expr>,
}

impl AggSpecs {
    /// The specs of `aggs` (each an `Expr::Agg` over elementwise inputs) over rows of `schema`.
    pub(crate) fn new(aggs: &[Expr], schema: &Schema) -> Result<Self> {
        // Through indexes: a wide input has thousands of aggregates over thousands of columns.
        let mut inputs = DistinctExprs::default();
        let names = NameIndex::new(schema);
        let mut specs = Vec::with_capacity(aggs.len());
        for a in aggs {
            let Expr::Agg { func, .. } = a else {
                return Err(Error::Internal(format!("{a} is not an aggregate")));
            };
            let mut args = vec![];
            let mut types = vec![];
            for e in a.agg_inputs() {
                types.push(names.data_type(e)?);
                args.push(inputs.insert(e));
            }
            specs.push(AggSpec {
                func: func.clone(),
                args,
                types,
            });
        }
        Ok(Self {
            aggs: specs,
            inputs: inputs.into_vec(),
        })
    }

    /// Empty accumulators, one per aggregate.
    pub(crate) fn accumulators(&self) -> Result<Vec<Box<dyn GroupsAccumulator>>> {
        self.aggs
            .iter()
            .map(|a| new_accumulator(&a.func, &a.types))
            .collect()
    }

    /// Every input evaluated over a piece.
    pub(crate) fn eval_inputs(&self, piece: &DataFrame, params: &Params) -> Result<Vec<ArrayRef>> {
        self.inputs
            .iter()
            .map(|e| evaluate(e, piece, params)?.into_array(piece.height()))
            .collect()
    }

    /// The input arrays of aggregate `k` among the piece's `inputs`.
    pub(crate) fn args_of(&self, k: usize, inputs: &[ArrayRef]) -> Vec<ArrayRef> {
        self.aggs[k]
            .args
            .iter()
            .map(|&a| inputs[a].clone())
            .collect()
    }
}

/// Scalar aggregates to compute together: one group.
pub(crate) struct AggregateSet {
    specs: AggSpecs,
    /// For each distinct input, the aggregates that read it alone.
    by_input: Vec<Vec<usize>>,
    /// Aggregates of several inputs (`corr`).
    multi: Vec<usize>,
    /// Whether a final filter can be fused: every input is a plain column and every aggregate
    /// reads one input.
    fusable: bool,
}

/// The pipeline's output pieces kept by an aggregate run, by morsel.
type KeptPieces = Vec<Vec<DataFrame>>;

/// One morsel's partial states: per input, its one-input aggregates'; then the others'.
type Partial = (
    Vec<Vec<Box<dyn GroupsAccumulator>>>,
    Vec<Box<dyn GroupsAccumulator>>,
);

impl AggregateSet {
    /// The set of `aggs` (each an `Expr::Agg` over elementwise inputs) over rows of `schema`.
    pub(crate) fn new(aggs: &[Expr], schema: &Schema) -> Result<Self> {
        let specs = AggSpecs::new(aggs, schema)?;
        let mut by_input = vec![vec![]; specs.inputs.len()];
        let mut multi = vec![];
        for (k, a) in specs.aggs.iter().enumerate() {
            match a.args.as_slice() {
                [one] => by_input[*one].push(k),
                _ => multi.push(k),
            }
        }
        let fusable = multi.is_empty() && specs.inputs.iter().all(|e| matches!(e, Expr::Column(_)));
        Ok(Self {
            specs,
            by_input,
            multi,
            fusable,
        })
    }

    /// Empty states of the one group, grouped as `by_input` and `multi`.
    fn new_states(&self) -> Result<Partial> {
        let make = |k: &usize| {
            let a = &self.specs.aggs[*k];
            let mut acc = new_accumulator(&a.func, &a.types)?;
            // The group exists from the start (a morsel may have no piece): merging nothing
            // makes room for it.
            let empty = new_accumulator(&a.func, &a.types)?;
            acc.merge(empty.as_ref(), &[], &[], 1)?;
            Ok(acc)
        };
        Ok((
            self.by_input
                .iter()
                .map(|ks| ks.iter().map(make).collect::<Result<Vec<_>>>())
                .collect::<Result<_>>()?,
            self.multi.iter().map(make).collect::<Result<_>>()?,
        ))
    }

    /// Every aggregate over every morsel of `pipeline`, in `aggs` order.
    pub(crate) fn run(&self, pipeline: &Running) -> Result<Vec<Scalar>> {
        Ok(self.run_with(pipeline, true, None)?.0)
    }

    /// [`run`](Self::run), also keeping the pipeline's output pieces (by morsel) while
    /// `keep` can reserve them: `None` for the pieces if a reservation failed and `must` is
    /// false (a failure is then the error when `must`).
    pub(crate) fn run_keeping(
        &self,
        pipeline: &Running,
        keep: &Reservation,
        must: bool,
    ) -> Result<(Vec<Scalar>, Option<KeptPieces>)> {
        self.run_with(pipeline, false, Some((keep, must)))
    }

    /// [`run`](Self::run), with fusing a final filter into the aggregates allowed or not, and
    /// the output pieces kept or not.
    fn run_with(
        &self,
        pipeline: &Running,
        allow_fuse: bool,
        keep: Option<(&Reservation, bool)>,
    ) -> Result<(Vec<Scalar>, Option<KeptPieces>)> {
        // Any input but a plain column would be evaluated on rows the filter drops, where it
        // may fail (a cast, say).
        let fuse = allow_fuse && keep.is_none() && self.fusable;
        let params = pipeline.params();
        let n = pipeline.num_morsels();
        let gave_up = AtomicBool::new(keep.is_none());
        // Each morsel's states (one group each), a scratch buffer for the compaction, and the
        // pieces kept.
        let partials = pipeline.run_morsels(
            0..n,
            &mut Carry::default(),
            fuse,
            &|_| Ok((self.new_states()?, vec![], vec![])),
            &|((groups, multi), scratch, kept), piece, mask| {
                let values = self.specs.eval_inputs(&piece, params)?;
                for (v, group) in values.iter().zip(groups.iter_mut()) {
                    update_group(group, v, mask.as_ref(), scratch)?;
                }
                for (&k, acc) in self.multi.iter().zip(multi.iter_mut()) {
                    acc.update(&self.specs.args_of(k, &values), Groups::One, 1)?;
                }
                if let (Some((memory, must)), false) = (keep, gave_up.load(Ordering::Relaxed)) {
                    match memory.try_grow(frame_bytes(&piece)) {
                        Ok(()) => kept.push(piece),
                        Err(e) if must => return Err(e),
                        Err(_) => gave_up.store(true, Ordering::Relaxed),
                    }
                }
                Ok(())
            },
        )?;
        let mut pieces = Vec::with_capacity(partials.len());
        let mut states = Vec::with_capacity(partials.len());
        for (state, _, kept) in partials {
            states.push(state);
            pieces.push(kept);
        }
        let kept = if gave_up.load(Ordering::Relaxed) {
            if let Some((memory, _)) = keep {
                memory.free();
            }
            None
        } else {
            Some(pieces)
        };
        // Merge in morsel order, starting from the first morsel's states.
        let mut it = states.into_iter();
        let (mut groups, mut multi) = match it.next() {
            Some(first) => first,
            None => self.new_states()?,
        };
        for acc in groups.iter_mut().flatten().chain(multi.iter_mut()) {
            acc.seal()?;
        }
        for (mut g, mut m) in it {
            for acc in g.iter_mut().flatten().chain(m.iter_mut()) {
                acc.seal()?;
            }
            let later = g.iter().flatten().chain(m.iter());
            for (t, p) in groups
                .iter_mut()
                .flatten()
                .chain(multi.iter_mut())
                .zip(later)
            {
                t.merge(p.as_ref(), &[0], &[0], 1)?;
            }
        }
        // Back in `aggs` order.
        let mut results = vec![Scalar::Null; self.specs.aggs.len()];
        let order = self.by_input.iter().flatten().chain(self.multi.iter());
        let states = groups.iter_mut().flatten().chain(multi.iter_mut());
        for (&k, state) in order.zip(states) {
            let a = state.evaluate(1)?;
            results[k] = array_to_scalar(a.as_ref(), 0)?;
        }
        Ok((results, kept))
    }
}

/// One aggregate over whole arrays (its inputs: one, two for `corr`): the arrays are the
/// columns of a frame source, cut into 64K-row morsels like any other.
pub(crate) fn aggregate_array(func: &AggFunc, values: &[ArrayRef]) -> Result<Scalar> {
    let names: Vec<String> = (0..values.len()).map(|i| format!("v{i}")).collect();
    let schema: SchemaRef = Arc::new(Schema::new(
        values
            .iter()
            .zip(&names)
            .map(|(v, n)| Field::new(n, v.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let df = DataFrame::from_arrays(schema.clone(), values.to_vec())?;
    let func = match func {
        AggFunc::Corr(_) => AggFunc::Corr(Box::new(col(names.get(1).map_or("v1", |n| n.as_str())))),
        other => other.clone(),
    };
    let agg = Expr::Agg {
        func,
        expr: Box::new(col("v0")),
    };
    let set = AggregateSet::new(std::slice::from_ref(&agg), &schema)?;
    let ctx = Context::default();
    let pipeline = Running::new(Opened::Frame(df), &[], &ctx);
    set.run(&pipeline)?
        .pop()
        .ok_or_else(|| Error::Internal("no aggregate result".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::lit;
    use crate::frame::Column;

    /// Fusing the filter into the aggregates reads the same rows in the same order as
    /// filtering each piece first, so every result is the same to the bit, over several
    /// morsels, with NaN, with nulls (the general path) and for aggregates that need the
    /// values themselves.
    #[test]
    fn fused_filter_aggregates_equal_filtered_pieces() {
        let n = 150_000usize;
        let x: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 101 {
                0 => Some(f64::NAN),
                _ => Some(((i * 7919) % 1000) as f64 / 7.0 - 60.0),
            })
            .collect();
        let y: Vec<Option<f64>> = (0..n)
            .map(|i| (i % 89 != 3).then_some((i % 613) as f64 * 0.37))
            .collect();
        let z: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 - 8.0).collect();
        let df = DataFrame::new(vec![
            Column::new("x", x),
            Column::new("y", y),
            Column::new("z", z),
        ])
        .unwrap();
        let mut aggs = vec![];
        for c in ["x", "y", "z"] {
            let e = col(c);
            aggs.extend([
                e.clone().sum(),
                e.clone().mean(),
                e.clone().nan_mean(),
                e.clone().min(),
                e.clone().nan_max(),
                e.clone().count(),
                e.clone().null_count(),
                e.clone().median(),
                e.clone().std(1),
                e.arg_max(),
            ]);
        }
        let set = AggregateSet::new(&aggs, df.schema()).unwrap();
        let schema = df.schema().clone();
        let ops = [(
            crate::physical::StreamOp::Filter(col("z").gt(lit(0.0))),
            schema,
        )];
        let ctx = Context::default();
        let pipeline = Running::new(Opened::Frame(df), &ops, &ctx);
        let fused = set.run_with(&pipeline, true, None).unwrap().0;
        let plain = set.run_with(&pipeline, false, None).unwrap().0;
        assert_eq!(fused, plain);
        // And the filter was applied: 8 of every 17 rows pass.
        let want = (0..n).filter(|i| (i * 31) % 17 > 8).count() as u64;
        assert_eq!(fused[5], Scalar::UInt64(want));
    }
}
