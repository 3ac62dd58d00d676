//! Projection inlining through hoisted aggregates: in `SELECT N` over `AGGREGATES A` over an
//! elementwise `SELECT P`, the columns `P` computes are written out in `A`'s aggregates and in
//! `N`'s expressions, and `P` goes.
//!
//! `AGGREGATES` materializes its input, so without this every column of `P` would be computed
//! for all rows and stored, only to be read back by the aggregates and by `N`. Inlined, the
//! aggregates compute `P`'s expressions chunk by chunk as they go, and `N` computes them again
//! morsel by morsel: no full-length intermediate column. In the seed pipeline this removes the
//! filled column between the fill and the scaler:
//! `min_max_scale_with(x.fill_nan($m), ..)` over `nan_min(x.fill_nan($m))`.
//!
//! It fires only when `P` keeps every row in place (a `select` of elementwise expressions, not
//! an all-scalar one), so `A` sees the same rows in the same chunks and every value is the
//! same to the bit; and only under a plain `select` `N`, which outputs its expressions alone
//! (a `with_columns` would have to recompute and carry all of `P`'s columns). An elementwise
//! expression written out twice costs a recomputation, which is cheaper than storing and
//! re-reading a whole column.

use std::sync::Arc;

use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::LogicalPlan;

/// Inlines an elementwise `select` below hoisted aggregates into the aggregates and the
/// `select` above.
pub struct ProjectionInlining;

impl OptimizerRule for ProjectionInlining {
    fn name(&self) -> &'static str {
        "projection_inlining"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut |node| Ok(inline(node)))?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// `e` with every column `P` defines replaced by its definition (`None` if `e` reads a column
/// `P` does not output, which a valid plan never does).
fn substitute(e: &Expr, defs: &[Expr]) -> Option<Expr> {
    let mut ok = true;
    let out = e.clone().transform_up(&mut |n| match n {
        Expr::Column(c) => match defs.iter().find(|d| d.output_name() == c) {
            Some(Expr::Alias(inner, _)) => (**inner).clone(),
            Some(d) => d.clone(),
            None => {
                ok = false;
                Expr::Column(c)
            }
        },
        other => other,
    });
    ok.then_some(out)
}

fn inline(node: Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    let LogicalPlan::Select { input: a, exprs } = node.as_ref() else {
        return node;
    };
    let LogicalPlan::Aggregates { input: p, aggs } = a.as_ref() else {
        return node;
    };
    let LogicalPlan::Select {
        input: x,
        exprs: defs,
    } = p.as_ref()
    else {
        return node;
    };
    let row_preserving = !defs.is_empty()
        && defs.iter().all(Expr::is_elementwise)
        && !defs.iter().all(Expr::is_scalar);
    if !row_preserving {
        return node;
    }
    let new_aggs: Option<Vec<(String, Expr)>> = aggs
        .iter()
        .map(|(n, e)| substitute(e, defs).map(|e| (n.clone(), e)))
        .collect();
    let new_exprs: Option<Vec<Expr>> = exprs
        .iter()
        .map(|e| {
            substitute(e, defs).map(|s| {
                let name = e.output_name();
                if s.output_name() == name {
                    s
                } else {
                    s.alias(name.as_str())
                }
            })
        })
        .collect();
    let (Some(aggs), Some(exprs)) = (new_aggs, new_exprs) else {
        return node;
    };
    Arc::new(LogicalPlan::Select {
        input: Arc::new(LogicalPlan::Aggregates {
            input: x.clone(),
            aggs,
        }),
        exprs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show};
    use crate::optimizer::{optimize_with, AggregateHoisting, ProjectionPushdown};
    use crate::prelude::*;

    /// The plan after hoisting and projection pushdown, as a lazy frame.
    fn prepared(lf: LazyFrame) -> LazyFrame {
        let rules: Vec<Box<dyn OptimizerRule>> =
            vec![Box::new(AggregateHoisting), Box::new(ProjectionPushdown)];
        let plan = optimize_with(lf.logical_plan(), &rules).unwrap().0;
        LazyFrame::from_plan(plan.as_ref().clone())
    }

    #[test]
    fn the_filled_column_is_never_stored() {
        let lf = frame()
            .lazy()
            .with_columns([col("a").fill_nan_with(Fill::Mean).alias("af")])
            .select([col("af").min_max_scale().alias("s"), col("af"), col("c")]);
        let prepared = prepared(lf.clone());
        insta::assert_snapshot!(show(&ProjectionInlining, &prepared, None), @r#"
            SELECT [col("af").min_max_scale_with($af_nan_min, $af_nan_max).alias("s"), col("af"), col("c")]
              AGGREGATES [$af_nan_min = col("af").nan_min(), $af_nan_max = col("af").nan_max()]
                SELECT [col("c"), col("a").fill_nan($a_nan_mean).alias("af")]
                  AGGREGATES [$a_nan_mean = col("a").nan_mean()]
                    DATAFRAME rows=4 width=4 columns=[a, c]
            =>
            SELECT [col("a").fill_nan($a_nan_mean).min_max_scale_with($af_nan_min, $af_nan_max).alias("s"), col("a").fill_nan($a_nan_mean).alias("af"), col("c")]
              AGGREGATES [$af_nan_min = col("a").fill_nan($a_nan_mean).nan_min(), $af_nan_max = col("a").fill_nan($a_nan_mean).nan_max()]
                AGGREGATES [$a_nan_mean = col("a").nan_mean()]
                  DATAFRAME rows=4 width=4 columns=[a, c]
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn not_through_filters_or_under_with_columns() {
        // A filter between the aggregates and the projection changes rows: no pattern.
        let lf = prepared(
            frame()
                .lazy()
                .select([(col("a") * 2).alias("a2"), col("b")])
                .filter(col("b").gt(1.0))
                .select([(col("a2") - col("a2").mean()).alias("d")]),
        );
        insta::assert_snapshot!(show(&ProjectionInlining, &lf, None), @r#"
            SELECT [(col("a2") - $a2_mean).alias("d")]
              AGGREGATES [$a2_mean = col("a2").mean()]
                FILTER col("b").gt(1.0)
                  SELECT [(col("a") * 2).alias("a2"), col("b")]
                    DATAFRAME rows=4 width=4 columns=[a, b]
            => unchanged
            "#);
        // Under a with_columns every column of the projection would have to be carried.
        let lf = frame()
            .lazy()
            .select([(col("a") * 2).alias("a2"), col("b")])
            .with_columns([(col("a2") - col("a2").mean()).alias("d")]);
        insta::assert_snapshot!(show(&ProjectionInlining, &prepared(lf), None), @r#"
            WITH_COLUMNS [(col("a2") - $a2_mean).alias("d")]
              AGGREGATES [$a2_mean = col("a2").mean()]
                SELECT [(col("a") * 2).alias("a2"), col("b")]
                  DATAFRAME rows=4 width=4 columns=[a, b]
            => unchanged
            "#);
    }
}
