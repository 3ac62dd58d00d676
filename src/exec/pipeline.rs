//! Pipelines: a morsel source and the elementwise operators applied to each morsel, with the
//! consumers that drive them (collect, slice, streaming aggregation).

mod slots;

use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::eval::{evaluate, evaluate_array, evaluate_mask, filter_frame};
use super::kernels::agg::{update_group, AggState};
use super::value::Value;
use super::{pipeline_of, MORSEL_ROWS};
use crate::error::{Error, Result};
use crate::expr::{Expr, Scalar};
use crate::frame::DataFrame;
use crate::io::MorselSource;
use crate::plan::LogicalPlan;

/// Where a pipeline's morsels come from.
pub enum Source {
    /// A file's morsels, decoded on demand.
    Morsels(Arc<dyn MorselSource>),
    /// A frame in memory, cut into fixed 64K-row morsels (zero-copy slices).
    Frame(DataFrame),
}

impl Source {
    fn schema(&self) -> SchemaRef {
        match self {
            Source::Morsels(m) => m.schema(),
            Source::Frame(df) => df.schema().clone(),
        }
    }

    fn num_morsels(&self) -> usize {
        match self {
            Source::Morsels(m) => m.num_morsels(),
            Source::Frame(df) => df.height().div_ceil(MORSEL_ROWS),
        }
    }

    /// Rows of morsel `i`, when known before decoding it.
    fn morsel_rows(&self, i: usize) -> Option<usize> {
        match self {
            Source::Morsels(m) => m.morsel_rows(i),
            Source::Frame(df) => Some(MORSEL_ROWS.min(df.height().saturating_sub(i * MORSEL_ROWS))),
        }
    }

    /// Morsel `i` as pieces of at most `MORSEL_ROWS` rows, handed to `f` in order.
    fn for_each_piece(&self, i: usize, f: &mut dyn FnMut(DataFrame) -> Result<()>) -> Result<()> {
        match self {
            Source::Morsels(m) => m.for_each_piece(i, MORSEL_ROWS, f),
            // Frame morsels are one piece already.
            Source::Frame(df) => f(df.slice(i * MORSEL_ROWS, MORSEL_ROWS)),
        }
    }
}

/// A streaming operator.
#[derive(Clone, Debug)]
pub enum Op {
    Filter(Expr),
    /// Filter by a predicate over the input, keeping only the columns at these positions (a
    /// scan's predicate may read columns the query does not output; they are not filtered).
    FilterKeep(Expr, Vec<usize>),
    Select(Vec<Expr>),
    WithColumns(Vec<Expr>),
}

/// A source with the operators to apply to each of its morsels.
pub struct Pipeline {
    source: Source,
    /// Each operator with the schema of its output.
    ops: Vec<(Op, SchemaRef)>,
}

impl Pipeline {
    pub fn new(source: Source) -> Self {
        Self {
            source,
            ops: vec![],
        }
    }

    /// The schema of the pipeline's output.
    pub fn schema(&self) -> SchemaRef {
        self.ops
            .last()
            .map_or_else(|| self.source.schema(), |(_, s)| s.clone())
    }

    pub fn push(&mut self, op: Op, schema: SchemaRef) {
        self.ops.push((op, schema));
    }

    /// Apply `ops` (a prefix of the pipeline's operators, or all of them) to one piece.
    fn apply(ops: &[(Op, SchemaRef)], mut df: DataFrame) -> Result<DataFrame> {
        for (op, schema) in ops {
            df = match op {
                Op::Filter(_) | Op::FilterKeep(..) => {
                    let (kept, mask) = filter_input(op, schema, &df)?;
                    filter_frame(&kept, &mask)?
                }
                Op::Select(exprs) => {
                    let cols = exprs
                        .iter()
                        .zip(schema.fields())
                        .map(|(e, f)| evaluate(e, &df)?.into_array_of(f.data_type(), df.height()))
                        .collect::<Result<Vec<_>>>()?;
                    if cols.is_empty() {
                        DataFrame::with_height(df.height())
                    } else {
                        DataFrame::from_arrays(schema.clone(), cols)?
                    }
                }
                Op::WithColumns(exprs) => {
                    let mut cols = df.columns().to_vec();
                    for e in exprs {
                        let a = evaluate_array(e, &df, false)?;
                        let i = schema.index_of(&e.output_name())?;
                        if i < cols.len() {
                            cols[i] = a;
                        } else {
                            cols.push(a);
                        }
                    }
                    let cols = cols
                        .into_iter()
                        .zip(schema.fields())
                        .map(|(c, f)| {
                            if c.data_type() == f.data_type() {
                                Ok(c)
                            } else {
                                Ok(arrow::compute::cast(&c, f.data_type())?)
                            }
                        })
                        .collect::<Result<Vec<_>>>()?;
                    DataFrame::from_arrays(schema.clone(), cols)?
                }
            };
        }
        Ok(df)
    }

    /// Decode morsel `i` and hand each piece, through every operator, to `f` (each piece goes
    /// through the operators and the consumer while it is in cache).
    fn for_each_output(&self, i: usize, f: &mut dyn FnMut(DataFrame) -> Result<()>) -> Result<()> {
        self.source
            .for_each_piece(i, &mut |piece| f(Self::apply(&self.ops, piece)?))
    }

    /// As [`for_each_output`](Self::for_each_output), except that a final filter is not
    /// applied: `f` gets the piece as it was before that filter (only the columns it keeps)
    /// and the filter's mask, for consumers that read the selected rows in place.
    fn for_each_masked(
        &self,
        i: usize,
        f: &mut dyn FnMut(DataFrame, Option<BooleanArray>) -> Result<()>,
    ) -> Result<()> {
        match self.ops.split_last() {
            Some(((last @ (Op::Filter(_) | Op::FilterKeep(..)), schema), rest)) => {
                self.source.for_each_piece(i, &mut |piece| {
                    let (kept, mask) = filter_input(last, schema, &Self::apply(rest, piece)?)?;
                    f(kept, Some(mask))
                })
            }
            _ => self.for_each_output(i, &mut |df| f(df, None)),
        }
    }

    /// Decode morsel `i` and run it through the operators, as pieces.
    fn process(&self, i: usize) -> Result<Vec<DataFrame>> {
        let mut out = vec![];
        self.for_each_output(i, &mut |piece| {
            out.push(piece);
            Ok(())
        })?;
        Ok(out)
    }

    /// Every morsel, in order, as pieces.
    fn pieces(&self) -> Result<Vec<DataFrame>> {
        let n = self.source.num_morsels();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let parts: Vec<Vec<DataFrame>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let r = self.process(i);
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                super::pool::report_progress(d, n);
                r
            })
            .collect::<Result<_>>()?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Run every morsel and concatenate the results in morsel order.
    pub fn collect(self) -> Result<DataFrame> {
        let schema = self.schema();
        if let (Source::Frame(df), true) = (&self.source, self.ops.is_empty()) {
            return Ok(df.clone());
        }
        if !schema.fields().is_empty() {
            if let Some(heights) = self.known_heights() {
                // One morsel of one piece is returned as it is (zero-copy for an IPC batch);
                // anything else is copied once, into its final place.
                if heights.len() > 1 || heights.first().is_some_and(|h| *h > MORSEL_ROWS) {
                    return self.collect_into_slots(schema, &heights);
                }
            }
        }
        let pieces = self.pieces()?;
        if pieces.is_empty() {
            return Ok(DataFrame::empty(schema));
        }
        if schema.fields().is_empty() {
            return Ok(DataFrame::with_height(
                pieces.iter().map(|p| p.height()).sum(),
            ));
        }
        DataFrame::vstack(schema, &pieces)
    }

    /// Rows `offset..offset+len` (negative offset counts from the end), pulling only as many
    /// morsels as needed, a pool's width at a time.
    pub fn slice(self, offset: i64, len: usize) -> Result<DataFrame> {
        let schema = self.schema();
        let n = self.source.num_morsels();
        let wave = rayon::current_num_threads().max(1);
        let mut got: Vec<DataFrame> = vec![];
        let mut rows = 0usize;
        if offset >= 0 {
            let need = offset as usize + len;
            let mut next = 0;
            while next < n && rows < need {
                let end = (next + wave).min(n);
                let parts: Vec<Vec<DataFrame>> = (next..end)
                    .into_par_iter()
                    .map(|i| self.process(i))
                    .collect::<Result<_>>()?;
                for p in parts.into_iter().flatten() {
                    rows += p.height();
                    got.push(p);
                }
                next = end;
            }
            let all = concat_or_empty(&schema, &got, rows)?;
            Ok(all.slice(offset as usize, len))
        } else {
            let back = offset.unsigned_abs() as usize;
            let mut next = n;
            while next > 0 && rows < back {
                let start = next.saturating_sub(wave);
                let parts: Vec<Vec<DataFrame>> = (start..next)
                    .into_par_iter()
                    .map(|i| self.process(i))
                    .collect::<Result<_>>()?;
                let mut wave_parts: Vec<DataFrame> = parts.into_iter().flatten().collect();
                rows += wave_parts.iter().map(DataFrame::height).sum::<usize>();
                wave_parts.append(&mut got);
                got = wave_parts;
                next = start;
            }
            let all = concat_or_empty(&schema, &got, rows)?;
            let start = all.height().saturating_sub(back);
            Ok(all.slice(start, len))
        }
    }
}

/// What filter `op` (of output `schema`) selects from: `df` reduced to the columns the filter
/// keeps, not yet filtered, and the mask over it.
fn filter_input(op: &Op, schema: &SchemaRef, df: &DataFrame) -> Result<(DataFrame, BooleanArray)> {
    match op {
        Op::Filter(pred) => Ok((df.clone(), evaluate_mask(pred, df, false)?)),
        Op::FilterKeep(pred, keep) => {
            let mask = evaluate_mask(pred, df, false)?;
            if keep.is_empty() {
                return Ok((DataFrame::with_height(df.height()), mask));
            }
            let cols = keep.iter().map(|&k| df.columns()[k].clone()).collect();
            Ok((DataFrame::from_arrays(schema.clone(), cols)?, mask))
        }
        _ => Err(Error::Internal(format!("{op:?} is not a filter"))),
    }
}

fn concat_or_empty(schema: &SchemaRef, parts: &[DataFrame], rows: usize) -> Result<DataFrame> {
    if schema.fields().is_empty() {
        return Ok(DataFrame::with_height(rows));
    }
    if parts.is_empty() {
        return Ok(DataFrame::empty(schema.clone()));
    }
    DataFrame::vstack(schema.clone(), parts)
}

/// Aggregates over a pipeline without materializing it: each piece updates partial states,
/// merged in morsel order. Returns `None` when an aggregate cannot stream (nested aggregates,
/// non-elementwise inputs), leaving the caller to materialize. Medians and quantiles stream
/// too: their state keeps the values of their one column (less than materializing the input),
/// and a plain median drops them as soon as a NaN decides the result.
pub fn streaming_aggregate(input: &Arc<LogicalPlan>, exprs: &[Expr]) -> Result<Option<DataFrame>> {
    aggregate_pieces(input, exprs, true)
}

/// [`streaming_aggregate`], with fusing a final filter into the aggregates allowed or not.
fn aggregate_pieces(
    input: &Arc<LogicalPlan>,
    exprs: &[Expr],
    allow_fuse: bool,
) -> Result<Option<DataFrame>> {
    let mut aggs: Vec<Expr> = vec![];
    let mut ok = true;
    for e in exprs {
        e.visit(&mut |n| {
            if let Expr::Agg { expr, .. } = n {
                if !expr.is_elementwise() || expr.has_aggregate() {
                    ok = false;
                } else if !aggs.contains(n) {
                    aggs.push(n.clone());
                }
            }
        });
    }
    if !ok {
        return Ok(None);
    }
    let in_schema = input.schema()?;
    let pipeline = pipeline_of(input)?;
    let specs: Vec<(crate::expr::AggFunc, Expr, arrow::datatypes::DataType)> = aggs
        .iter()
        .map(|a| match a {
            Expr::Agg { func, expr } => {
                Ok((func.clone(), (**expr).clone(), expr.data_type(&in_schema)?))
            }
            _ => Err(Error::Internal("non-aggregate in aggregate list".into())),
        })
        .collect::<Result<_>>()?;
    // Aggregates of the same input are updated together, so they share its evaluation and
    // their common statistics (`update_group`): states are kept in groups, one per input,
    // each group listing the positions of its aggregates in `specs`.
    let mut inputs: Vec<(&Expr, Vec<usize>)> = vec![];
    for (k, (_, e, _)) in specs.iter().enumerate() {
        match inputs.iter_mut().find(|(x, _)| *x == e) {
            Some((_, ks)) => ks.push(k),
            None => inputs.push((e, vec![k])),
        }
    }
    let new_states = || -> Vec<Vec<AggState>> {
        let state = |&k: &usize| AggState::new(&specs[k].0, &specs[k].2);
        inputs
            .iter()
            .map(|(_, ks)| ks.iter().map(state).collect())
            .collect()
    };
    // A final filter is fused into the aggregates when they read plain columns: they then
    // read the selected rows in place instead of a filtered copy of each piece. (Any other
    // input would be evaluated on rows the filter drops, where it may fail, e.g. a cast.)
    let fuse = allow_fuse && specs.iter().all(|(_, e, _)| matches!(e, Expr::Column(_)));
    let n = pipeline.source.num_morsels();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let partials: Vec<Vec<Vec<AggState>>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut groups = new_states();
            let mut scratch = vec![];
            let mut consume = |piece: DataFrame, mask: Option<BooleanArray>| -> Result<()> {
                for ((e, _), group) in inputs.iter().zip(groups.iter_mut()) {
                    let v = evaluate(e, &piece)?.into_array(piece.height())?;
                    update_group(group, &v, mask.as_ref(), &mut scratch)?;
                }
                Ok(())
            };
            if fuse {
                pipeline.for_each_masked(i, &mut consume)?;
            } else {
                pipeline.for_each_output(i, &mut |piece| consume(piece, None))?;
            }
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            super::pool::report_progress(d, n);
            Ok(groups)
        })
        .collect::<Result<_>>()?;
    let mut total = new_states();
    for part in partials {
        for (t, p) in total.iter_mut().flatten().zip(part.into_iter().flatten()) {
            t.merge(p)?;
        }
    }
    // Back in `specs` order (which is `aggs` order).
    let mut results = vec![Scalar::Null; specs.len()];
    for ((_, ks), group) in inputs.iter().zip(total) {
        for (&k, state) in ks.iter().zip(group) {
            results[k] = state.finish()?;
        }
    }
    // Substitute the results and evaluate what surrounds the aggregates on a one-row frame.
    let one = DataFrame::with_height(1);
    let out_schema = LogicalPlan::Select {
        input: input.clone(),
        exprs: exprs.to_vec(),
    }
    .schema()?;
    let cols = exprs
        .iter()
        .zip(out_schema.fields())
        .map(|(e, f)| {
            let replaced =
                e.clone()
                    .transform_up(&mut |n| match aggs.iter().position(|a| *a == n) {
                        Some(i) => Expr::Literal(results[i].clone()),
                        None => n,
                    });
            match evaluate(&replaced, &one)? {
                Value::Scalar(s) => super::value::scalar_to_array(&s, f.data_type(), 1),
                Value::Array(a) => Ok(arrow::compute::cast(&a, f.data_type())?),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(DataFrame::from_arrays(out_schema, cols)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit};
    use crate::frame::{Column, DataFrame};

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
        let lf = df.lazy().filter(col("z").gt(lit(0.0)));
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
        let aggs: Vec<Expr> = aggs
            .into_iter()
            .enumerate()
            .map(|(k, e)| e.alias(format!("a{k}")))
            .collect();
        let input = lf.logical_plan();
        let fused = aggregate_pieces(input, &aggs, true).unwrap().unwrap();
        let plain = aggregate_pieces(input, &aggs, false).unwrap().unwrap();
        assert_eq!(fused, plain);
        // And the filter was applied: 8 of every 17 rows pass.
        let count = fused.column("a5").unwrap();
        let want = (0..n).filter(|i| (i * 31) % 17 > 8).count() as u64;
        assert_eq!(
            count
                .as_any()
                .downcast_ref::<arrow::array::UInt64Array>()
                .unwrap()
                .value(0),
            want
        );
    }
}
