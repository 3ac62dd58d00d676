//! The grouping operators the executor runs: hash aggregation over a streaming pipeline
//! ([`group_by`]), the first rows of each group ([`group_head`]) and, for aggregates a
//! streaming accumulator cannot compute (their input needs whole columns, or holds another
//! aggregate), the general evaluation of each group on its own rows ([`group_evaluate`]).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::datatypes::{Field, Schema, SchemaRef};
use rayon::prelude::*;

use super::{group_frame, group_pipeline, ByGroup};
use crate::error::{Error, Result};
use crate::exec::aggregate::AggSpecs;
use crate::exec::eval::{evaluate_array, evaluate_full};
use crate::exec::pipeline::Running;
use crate::exec::value::{scalar_to_array, Value};
use crate::exec::Params;
use crate::expr::{Expr, Scalar};
use crate::frame::DataFrame;

/// Hash aggregation of `input`'s rows by `keys`: `aggs` (each an `Expr::Agg` over
/// elementwise inputs) per group, then `outputs` (elementwise) over a frame of the keys
/// (`__key0`, ...) and the aggregates (`__agg0`, ...), cast to `schema`.
pub(crate) fn group_by(
    input: &Running,
    keys: &[Expr],
    aggs: &[Expr],
    outputs: &[Expr],
    schema: &SchemaRef,
) -> Result<DataFrame> {
    let specs = AggSpecs::new(aggs, &input.schema())?;
    let grouped = group_pipeline(input, keys, &specs, false)?;
    let mut fields = vec![];
    let mut cols = vec![];
    for (i, k) in grouped.keys.into_iter().enumerate() {
        fields.push(Field::new(format!("__key{i}"), k.data_type().clone(), true));
        cols.push(k);
    }
    for (j, a) in grouped.results.into_iter().enumerate() {
        fields.push(Field::new(format!("__agg{j}"), a.data_type().clone(), true));
        cols.push(a);
    }
    let inner = if cols.is_empty() {
        DataFrame::with_height(grouped.n_groups)
    } else {
        DataFrame::from_arrays(Arc::new(Schema::new(fields)), cols)?
    };
    output_frame(outputs, &inner, schema, input.params())
}

/// `outputs` over `df`, each cast to its field of `schema`.
fn output_frame(
    outputs: &[Expr],
    df: &DataFrame,
    schema: &SchemaRef,
    params: &Params,
) -> Result<DataFrame> {
    let cols = outputs
        .iter()
        .zip(schema.fields())
        .map(|(e, f)| cast_to(evaluate_array(e, df, true, params)?, f.data_type()))
        .collect::<Result<Vec<_>>>()?;
    if cols.is_empty() {
        return Ok(DataFrame::with_height(df.height()));
    }
    DataFrame::from_arrays(schema.clone(), cols)
}

fn cast_to(a: ArrayRef, t: &arrow::datatypes::DataType) -> Result<ArrayRef> {
    if a.data_type() == t {
        Ok(a)
    } else {
        Ok(arrow::compute::cast(&a, t)?)
    }
}

/// The first `n` rows of each group of `df` by `keys`: groups in order of first appearance,
/// a group's rows in input order; the keys first (their values at those rows), then the other
/// columns of `schema`.
pub(crate) fn group_head(
    df: &DataFrame,
    keys: &[Expr],
    n: usize,
    schema: &SchemaRef,
    params: &Params,
) -> Result<DataFrame> {
    let none = AggSpecs::new(&[], df.schema())?;
    let grouped = group_frame(df, keys, &none, true, params)?;
    let row_ids = grouped.row_ids.unwrap_or_default();
    // The first `n` rows of each group, then group after group.
    let mut seen = crate::exec::written_vec(grouped.n_groups, 0usize);
    let (mut rows, mut groups) = (vec![], vec![]);
    for (r, g) in row_ids.iter().enumerate() {
        let s = &mut seen[*g as usize];
        if *s < n {
            *s += 1;
            rows.push(r as u32);
            groups.push(*g);
        }
    }
    let by = ByGroup::new(&groups, grouped.n_groups);
    let idx = UInt32Array::from(
        by.order
            .values()
            .iter()
            .map(|k| rows[*k as usize])
            .collect::<Vec<_>>(),
    );
    let idx = &idx;
    let key_names: Vec<String> = keys.iter().map(Expr::output_name).collect();
    let mut cols = Vec::with_capacity(schema.fields().len());
    for k in keys {
        let v = evaluate_array(k, df, true, params)?;
        cols.push(arrow::compute::take(v.as_ref(), idx, None)?);
    }
    for f in schema.fields().iter().skip(keys.len()) {
        if key_names.contains(f.name()) {
            continue;
        }
        cols.push(arrow::compute::take(
            df.column(f.name())?.as_ref(),
            idx,
            None,
        )?);
    }
    let cols = cols
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| cast_to(c, f.data_type()))
        .collect::<Result<Vec<_>>>()?;
    DataFrame::from_arrays(schema.clone(), cols)
}

/// `group_by(keys).agg(exprs)` where the aggregates need each group's rows together: each
/// group's rows are gathered (groups one after the other) and every expression evaluated on
/// them, giving one value per group. The output is the keys (their values at each group's
/// first row), then the expressions, cast to `schema`.
pub(crate) fn group_evaluate(
    df: &DataFrame,
    keys: &[Expr],
    exprs: &[Expr],
    schema: &SchemaRef,
    params: &Params,
) -> Result<DataFrame> {
    let none = AggSpecs::new(&[], df.schema())?;
    let grouped = group_frame(df, keys, &none, true, params)?;
    let row_ids = grouped.row_ids.unwrap_or_default();
    let by = ByGroup::new(&row_ids, grouped.n_groups);
    let sorted = by.sorted(df)?;
    let first_rows = UInt32Array::from(
        (0..grouped.n_groups)
            .map(|g| by.order.value(by.offsets[g]))
            .collect::<Vec<_>>(),
    );
    let mut cols = Vec::with_capacity(schema.fields().len());
    for k in keys {
        let v = evaluate_array(k, df, true, params)?;
        cols.push(arrow::compute::take(v.as_ref(), &first_rows, None)?);
    }
    for (e, f) in exprs.iter().zip(schema.fields().iter().skip(keys.len())) {
        let values = per_group(e, &sorted, &by, params)?
            .into_iter()
            .map(|v| match v {
                Value::Scalar(s) => Ok(s),
                Value::Array(a) if a.len() == 1 => {
                    crate::exec::value::array_to_scalar(a.as_ref(), 0)
                }
                Value::Array(a) => Err(Error::Compute(format!(
                    "{e} gives {} values for a group; agg() needs one per group",
                    a.len()
                ))),
            })
            .collect::<Result<Vec<Scalar>>>()?;
        cols.push(scalars_to_array(&values, f.data_type())?);
    }
    let cols = cols
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| cast_to(c, f.data_type()))
        .collect::<Result<Vec<_>>>()?;
    if cols.is_empty() {
        return Ok(DataFrame::with_height(grouped.n_groups));
    }
    DataFrame::from_arrays(schema.clone(), cols)
}

/// `e` evaluated on each group's rows of `sorted` (rows group after group, as `by` says), in
/// group order, in parallel.
pub(crate) fn per_group(
    e: &Expr,
    sorted: &DataFrame,
    by: &ByGroup,
    params: &Params,
) -> Result<Vec<Value>> {
    let n = by.offsets.len().saturating_sub(1);
    (0..n)
        .into_par_iter()
        .map(|g| {
            let (a, b) = (by.offsets[g], by.offsets[g + 1]);
            evaluate_full(e, &sorted.slice(a, b - a), params)
        })
        .collect()
}

/// One array of type `t` from scalars.
fn scalars_to_array(values: &[Scalar], t: &arrow::datatypes::DataType) -> Result<ArrayRef> {
    if values.is_empty() {
        return Ok(arrow::array::new_empty_array(t));
    }
    let parts = values
        .iter()
        .map(|s| scalar_to_array(s, t, 1))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(arrow::compute::concat(&refs)?)
}
