//! Streaming windows: how a node whose expressions hold rolling windows still lowers into a
//! pipeline.
//!
//! A window function that depends only on the row and a bounded number of rows before it (a
//! rolling window that is not centred: [`WindowFunction::lookback`]) over an elementwise input
//! can be computed morsel by morsel, given the last `lookback` rows of its input before the
//! morsel. Each such window in a `filter`, `select` or `with_columns` is taken out into a
//! `WINDOW` operator that adds it as a temporary column (`__window_0`, ...); the node then
//! reads the temporary, and is elementwise. When something else still needs the whole column
//! (a centred window, a sort, a window of a window's result), the node stays a whole-column
//! breaker.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};

use super::StreamOp;
use crate::error::Result;
use crate::expr::{col, Expr, Function};

/// A node's expressions with their streamable windows taken out.
pub(super) struct Split {
    /// The `WINDOW` operator computing the windows as temporary columns.
    pub(super) op: StreamOp,
    /// The input schema with the temporary columns appended (the `WINDOW` operator's output).
    pub(super) schema: SchemaRef,
    /// The node's expressions reading the temporaries instead, each keeping its output name.
    pub(super) exprs: Vec<Expr>,
}

/// The window a streaming `WINDOW` operator can compute, with its lookback, if `e` is one.
fn streamable(e: &Expr) -> Option<usize> {
    match e {
        Expr::Function {
            func: Function::Window(w),
            args,
        } if args.iter().all(Expr::is_elementwise) => w.lookback(),
        _ => None,
    }
}

/// Take the streamable windows out of `exprs` (over rows of `input`); `None` when there are
/// none, or when the expressions would still not be elementwise without them.
pub(super) fn split(exprs: &[Expr], input: &SchemaRef) -> Result<Option<Split>> {
    let mut windows: Vec<Expr> = vec![];
    for e in exprs {
        e.visit(&mut |n| {
            if streamable(n).is_some() && !windows.contains(n) {
                windows.push(n.clone());
            }
        });
    }
    if windows.is_empty() {
        return Ok(None);
    }
    let taken: Vec<&str> = input.fields().iter().map(|f| f.name().as_str()).collect();
    let mut k = 0;
    let mut named: Vec<(String, Expr)> = vec![];
    for w in windows {
        let name = loop {
            let n = format!("__window_{k}");
            k += 1;
            if !taken.contains(&n.as_str()) {
                break n;
            }
        };
        named.push((name, w));
    }
    let rewritten: Vec<Expr> = exprs
        .iter()
        .map(|e| {
            let out = e
                .clone()
                .transform_up(&mut |n| match named.iter().find(|(_, w)| *w == n) {
                    Some((name, _)) => col(name.as_str()),
                    None => n,
                });
            let name = e.output_name();
            if out.output_name() == name {
                out
            } else {
                out.alias(name)
            }
        })
        .collect();
    if !rewritten.iter().all(Expr::is_elementwise) {
        return Ok(None);
    }
    let mut fields: Vec<_> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut carry: Vec<String> = vec![];
    let mut lookback = 0;
    for (name, w) in &named {
        fields.push(w.to_field(input)?.with_name(name.as_str()));
        for c in w.columns_used() {
            if !carry.contains(&c) {
                carry.push(c);
            }
        }
        lookback = lookback.max(streamable(w).unwrap_or(0));
    }
    Ok(Some(Split {
        op: StreamOp::Window {
            exprs: named,
            carry,
            lookback,
        },
        schema: Arc::new(Schema::new(fields)),
        exprs: rewritten,
    }))
}
