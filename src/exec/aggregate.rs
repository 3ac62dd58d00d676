//! The aggregate engine: scalar aggregates over a pipeline's morsels, one pass for all of them.
//!
//! Every morsel gets its own partial states ([`AggState`]), updated piece by piece while the
//! piece is in cache; the partials are then merged in morsel order, starting from the first
//! morsel's, so results are bit-identical for any thread count. Aggregates of the same input
//! expression are updated together: the input is evaluated once per piece and they share its
//! common statistics (`update_group`). When the pipeline ends in a filter and every aggregate
//! reads a plain column, the filter is fused into the aggregates: they read the selected rows
//! in place instead of a filtered copy of each piece.
//!
//! Every scalar aggregate goes through here: `select`s of aggregates (the `AGGREGATE`
//! operator), hoisted statistics (`HOISTED`), and an aggregate evaluated over a whole column
//! ([`aggregate_array`], which the expression evaluator and kernels such as `fill_nan_with`
//! call). A frame in memory is a pipeline source like any other, cut into the same 64K-row
//! morsels, so all of them chunk and merge alike.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::eval::evaluate;
use super::kernels::agg::{update_group, AggState};
use super::pipeline::{Carry, Opened, Running};
use super::Context;
use crate::error::{Error, Result};
use crate::expr::{col, AggFunc, Expr, Scalar};
use crate::frame::DataFrame;

/// Aggregates to compute together, grouped by input expression.
pub(crate) struct AggregateSet {
    /// Each aggregate's function and the declared type of its input.
    specs: Vec<(AggFunc, DataType)>,
    /// Each distinct input expression with the positions (in `specs`) of its aggregates.
    inputs: Vec<(Expr, Vec<usize>)>,
    /// Whether every input is a plain column (so a final filter can be fused).
    plain_columns: bool,
}

impl AggregateSet {
    /// The set of `aggs` (each an `Expr::Agg` over an elementwise input) over rows of `schema`.
    pub(crate) fn new(aggs: &[Expr], schema: &Schema) -> Result<Self> {
        let mut specs = Vec::with_capacity(aggs.len());
        let mut inputs: Vec<(Expr, Vec<usize>)> = vec![];
        for (k, a) in aggs.iter().enumerate() {
            let Expr::Agg { func, expr } = a else {
                return Err(Error::Internal(format!("{a} is not an aggregate")));
            };
            specs.push((func.clone(), expr.data_type(schema)?));
            match inputs.iter_mut().find(|(x, _)| x == expr.as_ref()) {
                Some((_, ks)) => ks.push(k),
                None => inputs.push(((**expr).clone(), vec![k])),
            }
        }
        let plain_columns = inputs.iter().all(|(e, _)| matches!(e, Expr::Column(_)));
        Ok(Self {
            specs,
            inputs,
            plain_columns,
        })
    }

    /// Empty states, grouped as `inputs`.
    fn new_states(&self) -> Vec<Vec<AggState>> {
        self.inputs
            .iter()
            .map(|(_, ks)| {
                ks.iter()
                    .map(|&k| AggState::new(&self.specs[k].0, &self.specs[k].1))
                    .collect()
            })
            .collect()
    }

    /// Every aggregate over every morsel of `pipeline`, in `aggs` order.
    pub(crate) fn run(&self, pipeline: &Running) -> Result<Vec<Scalar>> {
        self.run_with(pipeline, true)
    }

    /// [`run`](Self::run), with fusing a final filter into the aggregates allowed or not.
    fn run_with(&self, pipeline: &Running, allow_fuse: bool) -> Result<Vec<Scalar>> {
        // Any input but a plain column would be evaluated on rows the filter drops, where it
        // may fail (a cast, say).
        let fuse = allow_fuse && self.plain_columns;
        let params = pipeline.params();
        let n = pipeline.source.num_morsels();
        // Each morsel's states, grouped as `inputs`, and a scratch buffer for the compaction.
        let partials = pipeline.run_morsels(
            0..n,
            &mut Carry::default(),
            fuse,
            &|_| Ok((self.new_states(), vec![])),
            &|(groups, scratch), piece, mask| {
                for ((e, _), group) in self.inputs.iter().zip(groups.iter_mut()) {
                    let v = evaluate(e, &piece, params)?.into_array(piece.height())?;
                    update_group(group, &v, mask.as_ref(), scratch)?;
                }
                Ok(())
            },
        )?;
        let partials = partials.into_iter().map(|(groups, _)| groups);
        // Merge in morsel order, starting from the first morsel's states.
        let mut it = partials;
        let mut total = it.next().unwrap_or_else(|| self.new_states());
        for part in it {
            for (t, p) in total.iter_mut().flatten().zip(part.into_iter().flatten()) {
                t.merge(p)?;
            }
        }
        // Back in `aggs` order.
        let mut results = vec![Scalar::Null; self.specs.len()];
        for ((_, ks), group) in self.inputs.iter().zip(total) {
            for (&k, state) in ks.iter().zip(group) {
                results[k] = state.finish()?;
            }
        }
        Ok(results)
    }
}

/// One aggregate over a whole array: the array is a one-column frame source, cut into 64K-row
/// morsels like any other.
pub(crate) fn aggregate_array(func: &AggFunc, values: &ArrayRef) -> Result<Scalar> {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "v",
        values.data_type().clone(),
        true,
    )]));
    let df = DataFrame::from_arrays(schema.clone(), vec![values.clone()])?;
    let agg = Expr::Agg {
        func: func.clone(),
        expr: Box::new(col("v")),
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
        let fused = set.run_with(&pipeline, true).unwrap();
        let plain = set.run_with(&pipeline, false).unwrap();
        assert_eq!(fused, plain);
        // And the filter was applied: 8 of every 17 rows pass.
        let want = (0..n).filter(|i| (i * 31) % 17 > 8).count() as u64;
        assert_eq!(fused[5], Scalar::UInt64(want));
    }
}
