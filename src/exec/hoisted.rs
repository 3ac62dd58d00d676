//! Hoisted aggregates: running an `AGGREGATES` node and binding its values into the plan above.
//!
//! The node's input is materialized (the rows are needed again by the nodes above, after the
//! aggregates are known), then every aggregate is computed in one parallel pass over fixed
//! 64K-row chunks of it, each chunk updating all the partial states while it is in cache. The
//! chunking and merge order are those of `kernels::agg::aggregate`, so a hoisted aggregate is
//! bit-identical to the same aggregate evaluated in place (what an unoptimized plan does).
//!
//! Binding replaces the node by the materialized frame and every `Expr::Param` it defines, in
//! the nodes above, by the computed value; the plan then runs as an ordinary plan.

use std::sync::Arc;

use rayon::prelude::*;

use super::eval::{evaluate, evaluate_full};
use super::kernels::agg::AggState;
use super::value::Value;
use super::MORSEL_ROWS;
use crate::error::{Error, Result};
use crate::expr::{Expr, Scalar};
use crate::frame::DataFrame;
use crate::plan::LogicalPlan;

/// A parameter's name, value and declared type.
type Binding = (String, Scalar, arrow::datatypes::DataType);

/// If `plan` holds an `AGGREGATES` node, run the lowest one and return the plan with it
/// replaced by its materialized input and its values bound above; `None` when there is none.
pub(crate) fn bind_lowest(plan: &Arc<LogicalPlan>) -> Result<Option<Arc<LogicalPlan>>> {
    Ok(bind(plan)?.map(|(p, _)| p))
}

fn bind(plan: &Arc<LogicalPlan>) -> Result<Option<(Arc<LogicalPlan>, Vec<Binding>)>> {
    if let Some(input) = plan.inputs().first() {
        if let Some((new_input, values)) = bind(input)? {
            let node = substitute(&plan.with_input(new_input), &values);
            return Ok(Some((Arc::new(node), values)));
        }
    }
    let LogicalPlan::Aggregates { input, aggs } = plan.as_ref() else {
        return Ok(None);
    };
    let df = super::run(input)?;
    let exprs: Vec<Expr> = aggs.iter().map(|(_, e)| e.clone()).collect();
    let values = aggregate_all(&df, &exprs)?;
    let schema = df.schema().clone();
    let bindings = aggs
        .iter()
        .zip(values)
        .map(|((name, e), v)| Ok((name.clone(), v, e.data_type(&schema)?)))
        .collect::<Result<Vec<_>>>()?;
    let node = LogicalPlan::InMemory {
        df,
        projection: None,
    };
    Ok(Some((Arc::new(node), bindings)))
}

/// `plan` with the parameters in `values` replaced by literals of their declared types.
fn substitute(plan: &LogicalPlan, values: &[Binding]) -> LogicalPlan {
    plan.map_expressions(&mut |e| {
        e.transform_up(&mut |n| match &n {
            Expr::Param { name, .. } => match values.iter().find(|(p, _, _)| p == name) {
                // Keep the declared type exactly (a null or an integer result would otherwise
                // change the types of the expressions around it).
                Some((_, v, dt)) if v.data_type() == *dt => Expr::Literal(v.clone()),
                Some((_, v, dt)) => Expr::Cast(Box::new(Expr::Literal(v.clone())), dt.clone()),
                None => n,
            },
            _ => n,
        })
    })
}

/// Every scalar expression in `exprs` over all of `df`. Plain aggregates of elementwise inputs
/// share one pass over fixed 64K-row chunks; anything else is evaluated on its own.
pub(crate) fn aggregate_all(df: &DataFrame, exprs: &[Expr]) -> Result<Vec<Scalar>> {
    // (position in `exprs`, function, input expression) of the one-pass kind.
    let pass: Vec<_> = exprs
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Expr::Agg { func, expr } if expr.is_elementwise() => Some((i, func, expr)),
            _ => None,
        })
        .collect();
    let mut out: Vec<Option<Scalar>> = vec![None; exprs.len()];
    if !pass.is_empty() {
        let chunks = df.height().div_ceil(MORSEL_ROWS).max(1);
        // Each distinct input expression is evaluated once per chunk (`nan_min` and `nan_max`
        // of one inlined expression share it).
        let mut inputs: Vec<&Expr> = vec![];
        let slot: Vec<usize> = pass
            .iter()
            .map(|(_, _, e)| match inputs.iter().position(|i| **i == ***e) {
                Some(k) => k,
                None => {
                    inputs.push(e);
                    inputs.len() - 1
                }
            })
            .collect();
        let partials: Vec<Vec<AggState>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let piece = df.slice(c * MORSEL_ROWS, MORSEL_ROWS);
                let values = inputs
                    .iter()
                    .map(|e| evaluate(e, &piece)?.into_array(piece.height()))
                    .collect::<Result<Vec<_>>>()?;
                pass.iter()
                    .zip(&slot)
                    .map(|((_, f, _), &k)| {
                        // The state takes the evaluated type, as `agg::aggregate` does.
                        let mut s = AggState::new(f, values[k].data_type());
                        s.update(&values[k])?;
                        Ok(s)
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        // Merge in chunk order, starting from the first chunk's states (as `agg::aggregate`).
        let mut it = partials.into_iter();
        let mut total = it
            .next()
            .ok_or_else(|| Error::Internal("no aggregate chunk".into()))?;
        for part in it {
            for (t, p) in total.iter_mut().zip(part) {
                t.merge(p)?;
            }
        }
        for ((i, ..), state) in pass.iter().zip(total) {
            out[*i] = Some(state.finish()?);
        }
    }
    exprs
        .iter()
        .zip(out)
        .map(|(e, v)| match v {
            Some(v) => Ok(v),
            None => match evaluate_full(e, df)? {
                Value::Scalar(s) => Ok(s),
                Value::Array(_) => Err(Error::Internal(format!(
                    "hoisted aggregate {e} did not give one value"
                ))),
            },
        })
        .collect()
}
