//! Fusion: a chain of two or more elementwise nodes (`filter`, `select`, `with_columns`, and
//! the `drop` / `rename` between them) becomes one `FUSED` node listing its operators in order.
//!
//! The executor runs a `FUSED` node as one pipeline: each morsel of its input goes through all
//! the operators in turn, 64K rows at a time, so no intermediate column ever has the input's
//! full length; only the chain's output is assembled. In the plan it also shows, in one line,
//! exactly what runs together.
//!
//! A chain ends at anything that needs more than one row at a time: a sort, slice or gather,
//! a window or aggregate inside an expression, an all-scalar `select` (an aggregation), hoisted
//! `AGGREGATES` (whose input must be complete before the values exist), and sources.
//! `drop` and `rename` join as plain `select`s of columns.

use std::sync::Arc;

use super::{OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::{col, Expr};
use crate::plan::{FusedOp, LogicalPlan};

/// Packs chains of elementwise nodes into `FUSED` nodes.
pub struct Fusion;

impl OptimizerRule for Fusion {
    fn name(&self) -> &'static str {
        "fusion"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = fuse(&plan)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// The node as fused operators, or `None` if it cannot join a fused chain.
fn as_ops(node: &LogicalPlan) -> Result<Option<Vec<FusedOp>>> {
    let elementwise = |es: &[Expr]| es.iter().all(Expr::is_elementwise);
    Ok(match node {
        LogicalPlan::Filter { predicate, .. } if predicate.is_elementwise() => {
            Some(vec![FusedOp::Filter(predicate.clone())])
        }
        LogicalPlan::Select { exprs, .. }
            if elementwise(exprs) && !exprs.is_empty() && !exprs.iter().all(Expr::is_scalar) =>
        {
            Some(vec![FusedOp::Select(exprs.clone())])
        }
        LogicalPlan::WithColumns { exprs, .. } if elementwise(exprs) => {
            Some(vec![FusedOp::WithColumns(exprs.clone())])
        }
        LogicalPlan::Drop { .. } => {
            let keep: Vec<Expr> = node
                .schema()?
                .fields()
                .iter()
                .map(|f| col(f.name()))
                .collect();
            // Dropping every column leaves no expression to carry the row count.
            (!keep.is_empty()).then(|| vec![FusedOp::Select(keep)])
        }
        LogicalPlan::Rename {
            input,
            existing,
            new,
        } => {
            let exprs = input
                .schema()?
                .fields()
                .iter()
                .map(|f| match existing.iter().position(|e| e == f.name()) {
                    Some(i) => col(f.name()).alias(new[i].as_str()),
                    None => col(f.name()),
                })
                .collect::<Vec<_>>();
            (!exprs.is_empty()).then(|| vec![FusedOp::Select(exprs)])
        }
        LogicalPlan::Fused { ops, .. } => Some(ops.clone()),
        _ => None,
    })
}

fn fuse(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    // Walk down the chain of fusable nodes from here.
    let mut chain: Vec<Vec<FusedOp>> = vec![];
    let mut cur = plan.clone();
    while let Some(ops) = as_ops(&cur)? {
        let Some(next) = cur.inputs().first().map(|i| Arc::clone(i)) else {
            break;
        };
        chain.push(ops);
        cur = next;
    }
    if chain.is_empty() {
        // Not fusable itself: look further down.
        return Ok(match plan.inputs().first() {
            Some(i) => Arc::new(plan.with_input(fuse(i)?)),
            None => plan.clone(),
        });
    }
    let bottom = fuse(&cur)?;
    if chain.len() == 1 && chain[0].len() == 1 {
        // A single operator is a pipeline already; keep the plain node.
        return Ok(Arc::new(plan.with_input(bottom)));
    }
    let mut ops = merge_projections(chain.into_iter().rev().flatten().collect());
    if ops.len() == 1 {
        // Projections merged into one: a plain select.
        if let Some(op) = ops.pop() {
            return Ok(Arc::new(op.to_plan(bottom)));
        }
    }
    Ok(Arc::new(LogicalPlan::Fused { input: bottom, ops }))
}

/// `select` of plain columns (what `drop` / `rename` become) followed by a `select`: one
/// `select` reading the original columns, so the chain builds one frame fewer per morsel.
fn merge_projections(ops: Vec<FusedOp>) -> Vec<FusedOp> {
    let mut out: Vec<FusedOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let (Some(FusedOp::Select(first)), FusedOp::Select(second)) = (out.last(), &op) {
            if let Some(merged) = through_projection(first, second) {
                out.pop();
                out.push(FusedOp::Select(merged));
                continue;
            }
        }
        out.push(op);
    }
    out
}

/// `second` rewritten to read what `first` reads, when `first` only passes columns through
/// (possibly renamed); output names are kept.
fn through_projection(first: &[Expr], second: &[Expr]) -> Option<Vec<Expr>> {
    let source = |name: &str| -> Option<String> {
        let e = first.iter().find(|e| e.output_name() == name)?;
        match e {
            Expr::Column(c) => Some(c.clone()),
            Expr::Alias(inner, _) => match inner.as_ref() {
                Expr::Column(c) => Some(c.clone()),
                _ => None,
            },
            _ => None,
        }
    };
    second
        .iter()
        .map(|e| {
            let mut ok = true;
            let out = e.clone().transform_up(&mut |n| match n {
                Expr::Column(c) => match source(&c) {
                    Some(s) => Expr::Column(s),
                    None => {
                        ok = false;
                        Expr::Column(c)
                    }
                },
                other => other,
            });
            let name = e.output_name();
            let out = if out.output_name() != name {
                out.alias(name.as_str())
            } else {
                out
            };
            ok.then_some(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show};
    use crate::prelude::*;

    #[test]
    fn a_chain_becomes_one_node() {
        let lf = frame()
            .lazy()
            .filter(col("a").gt(0.0))
            .with_columns([(col("a") * col("b")).alias("ab")])
            .drop(["s"])
            .select([col("ab"), (col("c") + 1).alias("c1")]);
        insta::assert_snapshot!(show(&Fusion, &lf, None), @r#"
            SELECT [col("ab"), (col("c") + 1).alias("c1")]
              DROP [s]
                WITH_COLUMNS [(col("a") * col("b")).alias("ab")]
                  FILTER col("a").gt(0.0)
                    DATAFRAME rows=4 width=4
            =>
            FUSED filter(col("a").gt(0.0)) -> with_columns([(col("a") * col("b")).alias("ab")]) -> select([col("ab"), (col("c") + 1).alias("c1")])
              DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn chains_stop_at_breakers() {
        let lf = frame()
            .lazy()
            .filter(col("a").gt(0.0))
            .with_columns([(col("b") * 2).alias("b2")])
            .sort("c", SortOptions::default())
            .with_columns([(col("b") - col("b").mean()).alias("d")])
            .filter(col("c").gt(1))
            .select([col("d") * 2])
            .head(1)
            .select([col("d").sum()]);
        insta::assert_snapshot!(show(&Fusion, &lf, None), @r#"
            SELECT [col("d").sum()]
              SLICE offset=0 len=1
                SELECT [(col("d") * 2)]
                  FILTER col("c").gt(1)
                    WITH_COLUMNS [(col("b") - col("b").mean()).alias("d")]
                      SORT by=[col("c")]
                        WITH_COLUMNS [(col("b") * 2).alias("b2")]
                          FILTER col("a").gt(0.0)
                            DATAFRAME rows=4 width=4
            =>
            SELECT [col("d").sum()]
              SLICE offset=0 len=1
                FUSED filter(col("c").gt(1)) -> select([(col("d") * 2)])
                  WITH_COLUMNS [(col("b") - col("b").mean()).alias("d")]
                    SORT by=[col("c")]
                      FUSED filter(col("a").gt(0.0)) -> with_columns([(col("b") * 2).alias("b2")])
                        DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn a_single_node_is_left_alone() {
        let lf = frame().lazy().filter(col("a").gt(0.0));
        insta::assert_snapshot!(show(&Fusion, &lf, None), @r#"
            FILTER col("a").gt(0.0)
              DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }
}
