//! Window expressions over groups: `expr.over(keys)` over a materialized frame.
//!
//! The rows are grouped once (with the group of every row). Aggregates of elementwise inputs
//! inside `expr` are computed by the grouped accumulators in that same pass and broadcast to
//! their group's rows as temporary columns, so `x - x.mean()` per group is elementwise
//! afterwards and runs as such. What still needs whole columns (rolling windows, sorts, any
//! window function, an aggregate of one) is evaluated on each group's rows alone: the rows
//! are gathered group after group (a stable counting sort), `expr` runs on each group's slice
//! in parallel, and the results go back to the rows' original positions.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::datatypes::{Field, Schema};

use super::ops::per_group;
use super::{group_frame, ByGroup};
use crate::error::{Error, Result};
use crate::exec::aggregate::AggSpecs;
use crate::exec::eval::evaluate_array;
use crate::exec::value::Value;
use crate::exec::Params;
use crate::expr::{col, Expr};
use crate::frame::DataFrame;

/// The aggregates in `e` whose inputs are elementwise and free of aggregates (outside any
/// nested `over`, which is evaluated on its own), each once.
fn innermost_aggs(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Over { .. } => {}
        Expr::Agg { .. }
            if e.agg_inputs()
                .iter()
                .all(|i| i.is_elementwise() && !i.has_aggregate()) =>
        {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        other => {
            for c in other.children() {
                innermost_aggs(c, out);
            }
        }
    }
}

/// `e` with each of `done`'s aggregates replaced by its column (not inside a nested `over`).
fn replace_aggs(e: Expr, done: &[(Expr, String)]) -> Expr {
    if let Some((_, name)) = done.iter().find(|(a, _)| *a == e) {
        return col(name.as_str());
    }
    match e {
        over @ Expr::Over { .. } => over,
        other => other.map_children(&mut |c| replace_aggs(c, done)),
    }
}

/// `expr.over(keys)` over `df`: one value per row.
pub(crate) fn over(
    expr: &Expr,
    keys: &[Expr],
    df: &DataFrame,
    params: &Params,
) -> Result<ArrayRef> {
    let out_type = expr.data_type(df.schema())?;
    if expr.is_elementwise() {
        return evaluate_array(expr, df, true, params);
    }
    let mut frame = df.clone();
    let mut e = expr.clone();
    let mut row_ids: Option<Vec<u32>> = None;
    let mut n_groups = 0;
    let mut k = 0usize;
    // Aggregates innermost first, each level in one grouped pass.
    loop {
        let mut aggs = vec![];
        innermost_aggs(&e, &mut aggs);
        if aggs.is_empty() && row_ids.is_some() {
            break;
        }
        let specs = AggSpecs::new(&aggs, frame.schema())?;
        let grouped = group_frame(&frame, keys, &specs, true, params)?;
        let ids = UInt32Array::from(grouped.row_ids.unwrap_or_default());
        n_groups = grouped.n_groups;
        let mut done = vec![];
        let mut fields: Vec<Field> = frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut cols = frame.columns().to_vec();
        for (a, r) in aggs.into_iter().zip(grouped.results) {
            let name = format!("__over{k}");
            k += 1;
            let b = arrow::compute::take(r.as_ref(), &ids, None)?;
            fields.push(Field::new(&name, b.data_type().clone(), true));
            cols.push(b);
            done.push((a, name));
        }
        if !done.is_empty() {
            frame = DataFrame::from_arrays(Arc::new(Schema::new(fields)), cols)?;
            e = replace_aggs(e, &done);
        }
        row_ids = Some(ids.values().to_vec());
        if done.is_empty() {
            break;
        }
    }
    let row_ids = row_ids.unwrap_or_default();
    let out = if e.is_elementwise() {
        evaluate_array(&e, &frame, true, params)?
    } else {
        each_group(&e, &frame, &row_ids, n_groups, params)?
    };
    if *out.data_type() == out_type {
        Ok(out)
    } else {
        Ok(arrow::compute::cast(&out, &out_type)?)
    }
}

/// `e` on each group's rows alone, the results back in row order.
fn each_group(
    e: &Expr,
    df: &DataFrame,
    row_ids: &[u32],
    n_groups: usize,
    params: &Params,
) -> Result<ArrayRef> {
    let by = ByGroup::new(row_ids, n_groups);
    // Only the columns `e` reads are gathered.
    let used = e.columns_used();
    let needed = if used.is_empty() {
        DataFrame::with_height(df.height())
    } else {
        let cols = used
            .iter()
            .map(|c| df.column(c).cloned())
            .collect::<Result<Vec<_>>>()?;
        let fields: Vec<Field> = used
            .iter()
            .map(|c| Ok(df.schema().field_with_name(c)?.clone()))
            .collect::<Result<_>>()?;
        DataFrame::from_arrays(Arc::new(Schema::new(fields)), cols)?
    };
    let sorted = by.sorted(&needed)?;
    let values = per_group(e, &sorted, &by, params)?;
    let t = e.data_type(df.schema())?;
    let parts = values
        .into_iter()
        .enumerate()
        .map(|(g, v)| {
            let len = by.offsets[g + 1] - by.offsets[g];
            match v {
                Value::Array(a) if a.len() != len => Err(Error::Compute(format!(
                    "{e} gives {} rows for a group of {len} in over()",
                    a.len()
                ))),
                v => v.into_array_of(&t, len),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    let grouped = if refs.is_empty() {
        arrow::array::new_empty_array(&t)
    } else {
        arrow::compute::concat(&refs)?
    };
    // Row `order[i]` got value `i`: invert the order.
    let mut back = vec![0u32; row_ids.len()];
    for (i, r) in by.order.values().iter().enumerate() {
        back[*r as usize] = i as u32;
    }
    Ok(arrow::compute::take(
        grouped.as_ref(),
        &UInt32Array::from(back),
        None,
    )?)
}
