//! Expression evaluation over a frame.
//!
//! [`evaluate`] computes an expression over one morsel, single-threaded: what pipelines call
//! from their worker threads. [`evaluate_full`] computes it over a whole (materialized) frame,
//! splitting elementwise parts into fixed morsels run in parallel, and computing aggregates and
//! whole-column functions with their own parallel kernels.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::DataType;
use rayon::prelude::*;

use super::kernels::{self, arith, cmp};
use super::value::{scalar_to_array, Value};
use super::{Params, MORSEL_ROWS};
use crate::error::{Error, Result};
use crate::expr::lookup::narrow_schema;
use crate::expr::{BinaryOp, Expr};
use crate::frame::DataFrame;

/// Evaluate `expr` over `df` on the calling thread; `params` holds the values of the
/// parameters (`$name`) bound so far.
pub fn evaluate(expr: &Expr, df: &DataFrame, params: &Params) -> Result<Value> {
    eval_with(expr, df, params, &mut |e, df| evaluate(e, df, params))
}

/// [`evaluate`] with the expression's output type given: a pipeline operator knows it from
/// its output schema once the piece's columns are of the types the plan was typed with, and
/// then the top node's type rules need not run again per piece (a 10,000-column
/// `with_columns` would otherwise build a one-column schema and run the rules 10,000 times a
/// piece). Aliases pass the type to the node they name.
pub fn evaluate_as(expr: &Expr, df: &DataFrame, params: &Params, out: &DataType) -> Result<Value> {
    match expr {
        Expr::Alias(e, _) => evaluate_as(e, df, params, out),
        _ => eval_node(expr, df, params, Some(out), &mut |e, df| {
            evaluate(e, df, params)
        }),
    }
}

/// Evaluate `expr` over all of `df`, in parallel where the expression allows.
pub fn evaluate_full(expr: &Expr, df: &DataFrame, params: &Params) -> Result<Value> {
    // A bare column is already there: splitting it into morsels would only copy it (whole-
    // column kernels such as rolling windows read their input column this way).
    if expr.is_elementwise()
        && df.height() > MORSEL_ROWS
        && !expr.is_scalar()
        && !matches!(expr, Expr::Column(_))
    {
        let n = df.height().div_ceil(MORSEL_ROWS);
        let parts: Vec<ArrayRef> = (0..n)
            .into_par_iter()
            .map(|i| {
                let m = df.slice(i * MORSEL_ROWS, MORSEL_ROWS);
                evaluate(expr, &m, params)?.into_array(m.height())
            })
            .collect::<Result<_>>()?;
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        return Ok(Value::Array(arrow::compute::concat(&refs)?));
    }
    eval_with(expr, df, params, &mut |e, df| evaluate_full(e, df, params))
}

/// Evaluate to an array of `df.height()` rows (scalars broadcast).
pub fn evaluate_array(
    expr: &Expr,
    df: &DataFrame,
    full: bool,
    params: &Params,
) -> Result<ArrayRef> {
    let v = if full {
        evaluate_full(expr, df, params)?
    } else {
        evaluate(expr, df, params)?
    };
    let v = match v {
        Value::Array(a) if a.len() != df.height() => {
            return Err(Error::Compute(format!(
                "{expr} gives {} rows but the frame has {}",
                a.len(),
                df.height()
            )))
        }
        v => v,
    };
    v.into_array(df.height())
}

/// Evaluate a predicate to a boolean mask where null counts as false.
pub fn evaluate_mask(
    expr: &Expr,
    df: &DataFrame,
    full: bool,
    params: &Params,
) -> Result<BooleanArray> {
    let a = evaluate_array(expr, df, full, params)?;
    let b = a
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| Error::Type(format!("filter predicate {expr} is not boolean")))?;
    Ok(if b.null_count() > 0 {
        arrow::compute::prep_null_mask_filter(b)
    } else {
        b.clone()
    })
}

/// Keep the rows of `df` where `mask` is true.
pub fn filter_frame(df: &DataFrame, mask: &BooleanArray) -> Result<DataFrame> {
    let selected = mask.true_count();
    if selected == df.height() {
        return Ok(df.clone());
    }
    if df.width() == 0 {
        return Ok(DataFrame::with_height(selected));
    }
    // Optimizing precomputes the selected slices or indices, which pays off only when more
    // than one column is filtered with them (for one column it is a second pass over the mask).
    let mut builder = arrow::compute::FilterBuilder::new(mask);
    if df.width() > 1 {
        builder = builder.optimize();
    }
    let filter = builder.build();
    let cols = df
        .columns()
        .iter()
        .map(|c| filter.filter(c))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    DataFrame::from_arrays(df.schema().clone(), cols)
}

fn eval_with(
    expr: &Expr,
    df: &DataFrame,
    params: &Params,
    rec: &mut dyn FnMut(&Expr, &DataFrame) -> Result<Value>,
) -> Result<Value> {
    eval_node(expr, df, params, None, rec)
}

/// One node of `expr`, its inputs through `rec`; `known` is the node's output type if the
/// caller has it.
fn eval_node(
    expr: &Expr,
    df: &DataFrame,
    params: &Params,
    known: Option<&DataType>,
    rec: &mut dyn FnMut(&Expr, &DataFrame) -> Result<Value>,
) -> Result<Value> {
    let out_type = |e: &Expr, df: &DataFrame| match known {
        Some(t) => Ok(t.clone()),
        None => out_type(e, df),
    };
    match expr {
        Expr::Column(c) => Ok(Value::Array(df.column(c)?.clone())),
        Expr::Literal(s) => Ok(Value::Scalar(s.clone())),
        Expr::Alias(e, _) => rec(e, df),
        Expr::Columns(_) | Expr::AllNumeric => Err(Error::Internal(format!(
            "selector {expr} reached evaluation unexpanded"
        ))),
        Expr::Param { name, .. } => params
            .get(name)
            .cloned()
            .map(Value::Scalar)
            .ok_or_else(|| Error::Internal(format!("parameter {expr} is not bound"))),
        Expr::Cast(e, to) => match rec(e, df)? {
            Value::Array(a) => Ok(Value::Array(cast_checked(&a, to, e)?)),
            Value::Scalar(s) => {
                let a = scalar_to_array(&s, &s.data_type(), 1)?;
                let a = cast_checked(&a, to, e)?;
                Ok(Value::Scalar(super::value::array_to_scalar(a.as_ref(), 0)?))
            }
        },
        Expr::Binary { left, op, right } => {
            let out = out_type(expr, df)?;
            let l = rec(left, df)?;
            let r = rec(right, df)?;
            match op {
                BinaryOp::And | BinaryOp::Or => logical(*op, l, r, df.height()),
                o if o.is_comparison() => cmp::compare(*o, l, r),
                o => arith::binary(*o, l, r, &out),
            }
        }
        Expr::Not(e) => match rec(e, df)? {
            Value::Scalar(s) => Ok(Value::Scalar(match s {
                crate::expr::Scalar::Boolean(b) => crate::expr::Scalar::Boolean(!b),
                other => other,
            })),
            Value::Array(a) => {
                let b = as_bool(&a, e)?;
                Ok(Value::Array(Arc::new(arrow::compute::not(b)?)))
            }
        },
        Expr::Negate(e) => {
            let out = out_type(expr, df)?;
            arith::negate(rec(e, df)?, &out)
        }
        Expr::Function { func: f, args } => {
            let out = out_type(expr, df)?;
            let vals = args
                .iter()
                .map(|a| rec(a, df))
                .collect::<Result<Vec<_>>>()?;
            // Functions without input (random values, row_index) fill the frame's height.
            kernels::apply(f, vals, df.height(), &out)
        }
        Expr::Agg { func, .. } => {
            let values = expr
                .agg_inputs()
                .into_iter()
                .map(|e| rec(e, df)?.into_array(df.height()))
                .collect::<Result<Vec<_>>>()?;
            Ok(Value::Scalar(super::aggregate::aggregate_array(
                func, &values,
            )?))
        }
        Expr::Over { expr, partition_by } => {
            super::groups::window::over(expr, partition_by, df, params).map(Value::Array)
        }
        Expr::When {
            cond,
            then,
            otherwise,
        } => {
            let out = out_type(expr, df)?;
            let c = rec(cond, df)?;
            let t = rec(then, df)?;
            let o = rec(otherwise, df)?;
            when(c, t, o, &out, df.height(), cond)
        }
    }
}

fn cast_checked(a: &ArrayRef, to: &DataType, e: &Expr) -> Result<ArrayRef> {
    let opts = arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    crate::exec::kernels::cast::cast_with_options(a, to, &opts)
        .map_err(|err| Error::Compute(format!("cannot cast {e} to {to}: {err}")))
}

fn as_bool<'a>(a: &'a ArrayRef, e: &Expr) -> Result<&'a BooleanArray> {
    a.as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| Error::Type(format!("{e} is not boolean")))
}

fn logical(op: BinaryOp, l: Value, r: Value, len: usize) -> Result<Value> {
    use crate::expr::Scalar;
    if let (Value::Scalar(a), Value::Scalar(b)) = (&l, &r) {
        let a = match a {
            Scalar::Boolean(v) => Some(*v),
            _ => None,
        };
        let b = match b {
            Scalar::Boolean(v) => Some(*v),
            _ => None,
        };
        // Kleene logic on scalars.
        let out = match (op, a, b) {
            (BinaryOp::And, Some(false), _) | (BinaryOp::And, _, Some(false)) => Some(false),
            (BinaryOp::And, Some(true), Some(true)) => Some(true),
            (BinaryOp::Or, Some(true), _) | (BinaryOp::Or, _, Some(true)) => Some(true),
            (BinaryOp::Or, Some(false), Some(false)) => Some(false),
            _ => None,
        };
        return Ok(Value::Scalar(out.map_or(Scalar::Null, Scalar::Boolean)));
    }
    let la = l.into_array_of(&DataType::Boolean, len)?;
    let ra = r.into_array_of(&DataType::Boolean, len)?;
    let (la, ra) = (
        la.as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| Error::Internal("logical operand not boolean".into()))?,
        ra.as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| Error::Internal("logical operand not boolean".into()))?,
    );
    let out = match op {
        BinaryOp::And => arrow::compute::and_kleene(la, ra)?,
        _ => arrow::compute::or_kleene(la, ra)?,
    };
    Ok(Value::Array(Arc::new(out)))
}

fn when(c: Value, t: Value, o: Value, out: &DataType, len: usize, cond: &Expr) -> Result<Value> {
    use crate::expr::Scalar;
    if let Value::Scalar(s) = &c {
        let pick = matches!(s, Scalar::Boolean(true));
        let v = if pick { t } else { o };
        return Ok(match v {
            Value::Scalar(s) if s.is_null() => Value::Array(scalar_to_array(&s, out, len)?),
            Value::Scalar(s) => Value::Array(scalar_to_array(&s, out, len)?),
            Value::Array(a) => Value::Array(crate::exec::kernels::cast::cast(&a, out)?),
        });
    }
    let c = c.into_array(len)?;
    let mask = as_bool(&c, cond)?;
    let mask = if mask.null_count() > 0 {
        arrow::compute::prep_null_mask_filter(mask)
    } else {
        mask.clone()
    };
    let t = t.into_array_of(out, len)?;
    let o = o.into_array_of(out, len)?;
    Ok(Value::Array(zip(&mask, &t, &o)?))
}

/// The output type of `e` over `df`'s rows. A wide frame (a 10,000-column matrix) types it
/// over a schema of just the columns it reads, found through the frame's name index: typing
/// against the whole schema scans its fields for every column, once per expression and morsel.
fn out_type(e: &Expr, df: &DataFrame) -> Result<DataType> {
    if df.width() <= 32 {
        return e.data_type(df.schema());
    }
    match narrow_schema(df.schema(), e, |c| df.index_of(c).ok()) {
        Some(narrow) => e.data_type(&narrow),
        None => e.data_type(df.schema()),
    }
}
