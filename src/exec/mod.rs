//! The executor: turns an (optimized) logical plan into a `DataFrame`.
//!
//! Chains of elementwise nodes over a source become a *pipeline*: the source's morsels (file
//! row groups, CSV byte ranges, 64K-row slices of a frame) are processed in parallel on the
//! rayon pool, each morsel cut into 64K-row pieces so intermediates stay in cache, and results
//! keep morsel order. Sorts, gathers, tails and non-elementwise expressions are pipeline
//! breakers: their input is materialized first. Aggregates over a pipeline stream as partial
//! states merged in morsel order, so results are bit-identical for any thread count.

mod alloc;
pub mod eval;
mod hoisted;
pub mod kernels;
mod pipeline;
pub(crate) mod pool;
pub use pool::set_progress_callback;
pub mod value;

use std::sync::Arc;

use arrow::array::{Array, UInt64Array};

use self::eval::{evaluate_array, evaluate_full, evaluate_mask, filter_frame};
use self::pipeline::{Op, Pipeline, Source};
use crate::error::Result;
use crate::expr::types::expand_selectors;
use crate::expr::Expr;
use crate::frame::DataFrame;
use crate::plan::{ExecOptions, FusedOp, LogicalPlan};

/// Rows per morsel piece: small enough for intermediates to stay in cache, large enough to
/// amortize per-morsel overhead. Fixed, so results never depend on the thread count.
pub const MORSEL_ROWS: usize = 1 << 16;

/// Run a plan to a frame on a pool of `options.threads` workers.
pub fn execute(plan: &LogicalPlan, options: &ExecOptions) -> Result<DataFrame> {
    plan.schema()?;
    let pool = pool::thread_pool(options.threads)?;
    pool.install(|| run(plan))
}

/// Run a plan on the current rayon pool.
pub(crate) fn run(plan: &LogicalPlan) -> Result<DataFrame> {
    // Hoisted aggregates first, lowest first: each run binds its values into the plan above.
    if plan_has_aggregates(plan) {
        if let Some(bound) = hoisted::bind_lowest(&Arc::new(plan.clone()))? {
            return run(&bound);
        }
    }
    match plan {
        LogicalPlan::Select { input, exprs } => {
            let schema = input.schema()?;
            let exprs = expand_selectors(exprs, &schema)?;
            if !exprs.is_empty() && exprs.iter().all(|e| e.is_scalar()) {
                if let Some(df) = pipeline::streaming_aggregate(input, &exprs)? {
                    return Ok(df);
                }
            }
            if exprs.iter().all(Expr::is_elementwise) {
                return pipeline_of(plan)?.collect();
            }
            let df = run(input)?;
            select_full(&df, &exprs, plan)
        }
        LogicalPlan::WithColumns { input, exprs } => {
            let schema = input.schema()?;
            let exprs = expand_selectors(exprs, &schema)?;
            if exprs.iter().all(Expr::is_elementwise) {
                return pipeline_of(plan)?.collect();
            }
            let df = run(input)?;
            let out_schema = plan.schema()?;
            let mut cols = df.columns().to_vec();
            for e in &exprs {
                let a = evaluate_array(e, &df, true)?;
                let name = e.output_name();
                match df.schema().index_of(&name) {
                    Ok(i) => cols[i] = a,
                    Err(_) => cols.push(a),
                }
            }
            DataFrame::from_arrays(out_schema, cols)
        }
        LogicalPlan::Filter { input, predicate } if !predicate.is_elementwise() => {
            let df = run(input)?;
            let mask = evaluate_mask(predicate, &df, true)?;
            filter_frame(&df, &mask)
        }
        LogicalPlan::Slice { input, offset, len } => {
            let p = pipeline_of(input)?;
            p.slice(*offset, *len)
        }
        LogicalPlan::Sort { input, by, options } => {
            let df = run(input)?;
            let keys = by
                .iter()
                .map(|e| evaluate_array(e, &df, true))
                .collect::<Result<Vec<_>>>()?;
            let idx = kernels::sort::arg_sort(&keys, options)?;
            take_frame(&df, &idx)
        }
        LogicalPlan::Gather { input, indices } => {
            let df = run(input)?;
            // A scalar index picks one row (NumPy's `a[[i]]`); negative indices count from the
            // end and a null index gives a row of nulls (see `kernels::gather`).
            let idx = evaluate_full(indices, &df)?.into_array(1)?;
            let idx = kernels::gather::resolve_indices(&idx, df.height(), indices)?;
            take_frame(&df, &idx)
        }
        _ => pipeline_of(plan)?.collect(),
    }
}

fn plan_has_aggregates(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Aggregates { .. })
        || plan.inputs().iter().any(|i| plan_has_aggregates(i))
}

fn select_full(df: &DataFrame, exprs: &[Expr], plan: &LogicalPlan) -> Result<DataFrame> {
    let schema = plan.schema()?;
    let values = exprs
        .iter()
        .map(|e| evaluate_full(e, df))
        .collect::<Result<Vec<_>>>()?;
    // All scalars give one row; otherwise scalars broadcast to the column length.
    let height = values
        .iter()
        .find_map(|v| match v {
            value::Value::Array(a) => Some(a.len()),
            _ => None,
        })
        .unwrap_or(if values.is_empty() { df.height() } else { 1 });
    let cols = values
        .into_iter()
        .zip(schema.fields())
        .map(|(v, f)| v.into_array_of(f.data_type(), height))
        .collect::<Result<Vec<_>>>()?;
    if cols.is_empty() {
        return Ok(DataFrame::with_height(height));
    }
    DataFrame::from_arrays(schema, cols)
}

/// Rows of `df` in the order `idx` gives.
pub(crate) fn take_frame(df: &DataFrame, idx: &UInt64Array) -> Result<DataFrame> {
    let cols = df
        .columns()
        .iter()
        .map(|c| arrow::compute::take(c.as_ref(), idx, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if cols.is_empty() {
        return Ok(DataFrame::with_height(idx.len()));
    }
    DataFrame::from_arrays(df.schema().clone(), cols)
}

/// Build the pipeline that computes `plan`: a source plus the elementwise operators above it.
/// Anything else becomes a materialized frame source.
pub(crate) fn pipeline_of(plan: &LogicalPlan) -> Result<Pipeline> {
    match plan {
        LogicalPlan::Scan {
            source,
            projection,
            predicate,
            limit,
        } => {
            // The scan reads the predicate's columns too, even where the projection drops them.
            let read: Option<Vec<String>> = match (projection, predicate) {
                (Some(p), Some(pred)) => {
                    let mut r = p.clone();
                    for c in pred.columns_used() {
                        if !r.contains(&c) {
                            r.push(c);
                        }
                    }
                    Some(r)
                }
                (p, _) => p.clone(),
            };
            let src = source.open(read.as_deref(), predicate.as_ref(), *limit)?;
            let mut p = Pipeline::new(Source::Morsels(Arc::from(src)));
            if let Some(pred) = predicate {
                // The scan may read predicate columns that the projection leaves out: only the
                // output columns are filtered.
                let out = plan.schema()?;
                if p.schema().fields().len() == out.fields().len() {
                    p.push(Op::Filter(pred.clone()), p.schema().clone());
                } else {
                    let read = p.schema();
                    let keep = out
                        .fields()
                        .iter()
                        .map(|f| read.index_of(f.name()))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    p.push(Op::FilterKeep(pred.clone(), keep), out);
                }
            }
            Ok(p)
        }
        LogicalPlan::InMemory { df, projection } => {
            let df = match projection {
                None => df.clone(),
                // No column needed (`select([row_index()])`): keep the height all the same.
                Some(cols) if cols.is_empty() => DataFrame::with_height(df.height()),
                Some(cols) => {
                    let schema = plan.schema()?;
                    let arrays = cols
                        .iter()
                        .map(|c| df.column(c).cloned())
                        .collect::<Result<Vec<_>>>()?;
                    DataFrame::from_arrays(schema, arrays)?
                }
            };
            Ok(Pipeline::new(Source::Frame(df)))
        }
        LogicalPlan::Filter { input, predicate } if predicate.is_elementwise() => {
            let mut p = pipeline_of(input)?;
            let s = p.schema().clone();
            p.push(Op::Filter(predicate.clone()), s);
            Ok(p)
        }
        LogicalPlan::Select { input, exprs } => {
            let exprs = expand_selectors(exprs, input.schema()?.as_ref())?;
            // All-scalar selects (`select([lit(1)])`) give one row, not one per input row.
            if exprs.iter().all(Expr::is_elementwise)
                && !exprs.is_empty()
                && !exprs.iter().all(Expr::is_scalar)
            {
                let mut p = pipeline_of(input)?;
                p.push(Op::Select(exprs), plan.schema()?);
                Ok(p)
            } else {
                Ok(Pipeline::new(Source::Frame(run(plan)?)))
            }
        }
        LogicalPlan::WithColumns { input, exprs } => {
            let exprs = expand_selectors(exprs, input.schema()?.as_ref())?;
            if exprs.iter().all(Expr::is_elementwise) {
                let mut p = pipeline_of(input)?;
                p.push(Op::WithColumns(exprs), plan.schema()?);
                Ok(p)
            } else {
                Ok(Pipeline::new(Source::Frame(run(plan)?)))
            }
        }
        LogicalPlan::Fused { input, ops } => {
            let elementwise = ops
                .iter()
                .all(|op| op.exprs().iter().all(|e| e.is_elementwise()));
            if !elementwise {
                // Not what fusion builds, but still meaningful: run the plain nodes.
                let mut cur = input.clone();
                for op in ops {
                    cur = Arc::new(op.to_plan(cur));
                }
                return pipeline_of(&cur);
            }
            let mut p = pipeline_of(input)?;
            let mut cur = input.clone();
            for op in ops {
                cur = Arc::new(op.to_plan(cur));
                let schema = cur.schema()?;
                let op = match op {
                    FusedOp::Filter(e) => Op::Filter(e.clone()),
                    FusedOp::Select(es) => Op::Select(expand_selectors(es, p.schema().as_ref())?),
                    FusedOp::WithColumns(es) => {
                        Op::WithColumns(expand_selectors(es, p.schema().as_ref())?)
                    }
                };
                p.push(op, schema);
            }
            Ok(p)
        }
        LogicalPlan::Drop { input, .. } => {
            let out = plan.schema()?;
            let mut p = pipeline_of(input)?;
            let keep = out
                .fields()
                .iter()
                .map(|f| crate::expr::col(f.name()))
                .collect();
            p.push(Op::Select(keep), out);
            Ok(p)
        }
        LogicalPlan::Rename {
            input,
            existing,
            new,
        } => {
            let out = plan.schema()?;
            let in_schema = input.schema()?;
            let mut p = pipeline_of(input)?;
            let exprs = in_schema
                .fields()
                .iter()
                .map(|f| match existing.iter().position(|e| e == f.name()) {
                    Some(i) => crate::expr::col(f.name()).alias(&new[i]),
                    None => crate::expr::col(f.name()),
                })
                .collect();
            p.push(Op::Select(exprs), out);
            Ok(p)
        }
        _ => Ok(Pipeline::new(Source::Frame(run(plan)?))),
    }
}
