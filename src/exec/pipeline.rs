//! Pipelines: a morsel source and the elementwise operators applied to each morsel, with the
//! consumers that drive them (collect, slice, streaming aggregation).

mod slots;

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::eval::{evaluate, evaluate_array, evaluate_mask, filter_frame};
use super::kernels::agg::AggState;
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

    /// Apply the operators to one piece.
    fn apply(&self, mut df: DataFrame) -> Result<DataFrame> {
        for (op, schema) in &self.ops {
            df = match op {
                Op::Filter(pred) => {
                    let mask = evaluate_mask(pred, &df, false)?;
                    filter_frame(&df, &mask)?
                }
                Op::FilterKeep(pred, keep) => {
                    let mask = evaluate_mask(pred, &df, false)?;
                    let cols = keep.iter().map(|&k| df.columns()[k].clone()).collect();
                    let kept = if keep.is_empty() {
                        DataFrame::with_height(df.height())
                    } else {
                        DataFrame::from_arrays(schema.clone(), cols)?
                    };
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

    /// Decode morsel `i` and run it through the operators, piece by piece (each piece goes
    /// through every operator while it is in cache).
    fn process(&self, i: usize) -> Result<Vec<DataFrame>> {
        let mut out = vec![];
        self.source.for_each_piece(i, &mut |piece| {
            out.push(if self.ops.is_empty() {
                piece
            } else {
                self.apply(piece)?
            });
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
                return self.collect_into_slots(schema, &heights);
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
    let new_states =
        || -> Vec<AggState> { specs.iter().map(|(f, _, t)| AggState::new(f, t)).collect() };
    let n = pipeline.source.num_morsels();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let partials: Vec<Vec<AggState>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut states = new_states();
            for piece in pipeline.process(i)? {
                for ((_, e, _), s) in specs.iter().zip(states.iter_mut()) {
                    let v = evaluate(e, &piece)?.into_array(piece.height())?;
                    s.update(&v)?;
                }
            }
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            super::pool::report_progress(d, n);
            Ok(states)
        })
        .collect::<Result<_>>()?;
    let mut total = new_states();
    for part in partials {
        for (t, p) in total.iter_mut().zip(part) {
            t.merge(p)?;
        }
    }
    let results: Vec<Scalar> = total
        .into_iter()
        .map(AggState::finish)
        .collect::<Result<_>>()?;
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
