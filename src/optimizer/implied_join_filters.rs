//! Implied join filters: a disjunction over a join's output implies a filter on each input
//! whose columns every disjunct constrains; that filter is added below the join, the
//! disjunction stays above.
//!
//! TPC-H's Q19 keeps line items joined with parts where `(brand 12 & small container & qty
//! 1..11 & size 1..5) | (brand 23 & ..) | (brand 34 & ..)`. No conjunct of that predicate
//! reads one input alone, so predicate pushdown leaves it above the join: every line item
//! is matched against all 200,000 parts first. But a row can pass only if some disjunct
//! holds, and then that disjunct's part-only conjuncts hold: so
//! `(brand 12 & small container & size 1..5) | (..) | (..)` holds for every part that can
//! take part, and `(qty 1..11) | (qty 10..20) | (qty 20..30)` for every line item. With
//! those below the join, the table is built over a few hundred parts and most line items
//! are dropped before the probe.
//!
//! Exactness: for a filter `P = D1 | D2 | ..` directly over an inner (or cross) join, and an
//! input whose columns appear under their own names in the join's output (columns of that
//! input only, not renamed by a clash), let `Ai` be the `&` of `Di`'s conjuncts that read
//! only that input's columns. When every `Ai` exists, `P` true implies some `Di` true,
//! hence `Ai` true, hence `A = A1 | A2 | ..` true: filtering the input by `A` (elementwise,
//! per row) drops only join output rows that `P` drops, and keeps the others in their
//! order. `P` itself still filters above. A derived filter that could fail at run time (a
//! cast) is not added: it would be evaluated on rows the join drops.
//!
//! Fixed point: a filter is not added to an input that already holds an equal filter
//! (anywhere below: predicate pushdown may have moved it into a scan).

use std::sync::Arc;

use arrow::datatypes::Schema;

use super::predicate_pushdown::{and_all, conjuncts};
use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::{BinaryOp, Expr};
use crate::plan::{JoinType, LogicalPlan};

/// Adds to a join's inputs the filters a disjunction above the join implies for them.
pub struct ImpliedJoinFilters;

impl OptimizerRule for ImpliedJoinFilters {
    fn name(&self) -> &'static str {
        "implied_join_filters"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut imply)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// `node` with implied filters added to its join's inputs, when it is a filter over an inner
/// or cross join.
fn imply(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let LogicalPlan::Filter { input, predicate } = node.as_ref() else {
        return Ok(node);
    };
    let LogicalPlan::Join {
        left,
        right,
        left_on,
        right_on,
        how,
    } = input.as_ref()
    else {
        return Ok(node);
    };
    if !matches!(how, JoinType::Inner | JoinType::Cross) || !predicate.is_elementwise() {
        return Ok(node);
    }
    let (ls, rs) = (left.schema()?, right.schema()?);
    let (mut new_left, mut new_right) = (left.clone(), right.clone());
    for conjunct in conjuncts(predicate) {
        let parts = disjuncts(&conjunct);
        if parts.len() < 2 {
            continue;
        }
        for (side, own, other) in [(&mut new_left, &ls, &rs), (&mut new_right, &rs, &ls)] {
            // Names of this input only: a name both inputs have is dropped or renamed on
            // the right, and on the left it is not this input's alone to filter by.
            let own_only = |c: &String| {
                own.index_of(c).is_ok() && other.index_of(c).is_err() && !clash_name(c, own, other)
            };
            let Some(implied) = implied(&parts, &own_only) else {
                continue;
            };
            if can_fail(&implied) || holds_filter(side, &implied) {
                continue;
            }
            *side = Arc::new(LogicalPlan::Filter {
                input: side.clone(),
                predicate: implied,
            });
        }
    }
    if Arc::ptr_eq(&new_left, left) && Arc::ptr_eq(&new_right, right) {
        return Ok(node);
    }
    Ok(Arc::new(LogicalPlan::Filter {
        input: Arc::new(LogicalPlan::Join {
            left: new_left,
            right: new_right,
            left_on: left_on.clone(),
            right_on: right_on.clone(),
            how: *how,
        }),
        predicate: predicate.clone(),
    }))
}

/// Whether `c` could be the suffixed name of a clashing column (`a_right` for an `a` both
/// inputs have): then the output's `c` may not be this input's `c`.
fn clash_name(c: &str, own: &Schema, other: &Schema) -> bool {
    c.strip_suffix("_right")
        .is_some_and(|base| own.index_of(base).is_ok() || other.index_of(base).is_ok())
}

/// `e1 | e2 | ...` as its parts.
fn disjuncts(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Binary {
            left,
            op: BinaryOp::Or,
            right,
        } => {
            let mut v = disjuncts(left);
            v.extend(disjuncts(right));
            v
        }
        other => vec![other.clone()],
    }
}

/// The `|` over the disjuncts of each one's conjuncts that read only columns `own` accepts;
/// `None` when some disjunct has no such conjunct (it constrains nothing here).
fn implied(parts: &[Expr], own: &dyn Fn(&String) -> bool) -> Option<Expr> {
    let mut sides = vec![];
    for d in parts {
        let mine: Vec<Expr> = conjuncts(d)
            .into_iter()
            .filter(|c| {
                let used = c.columns_used();
                !used.is_empty() && used.iter().all(own) && c.is_elementwise()
            })
            .collect();
        sides.push(and_all(mine)?);
    }
    sides.into_iter().reduce(|a, b| a | b)
}

/// True when evaluating `e` may raise an error on some rows.
fn can_fail(e: &Expr) -> bool {
    let mut fail = false;
    e.visit(&mut |n| fail |= matches!(n, Expr::Cast(..)));
    fail
}

/// Whether a filter or scan predicate below `plan` has `pred` as a conjunct.
fn holds_filter(plan: &LogicalPlan, pred: &Expr) -> bool {
    let here = match plan {
        LogicalPlan::Filter { predicate, .. } => conjuncts(predicate).contains(pred),
        LogicalPlan::Scan {
            predicate: Some(p), ..
        } => conjuncts(p).contains(pred),
        _ => false,
    };
    here || plan.inputs().into_iter().any(|i| holds_filter(i, pred))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Column, DataFrame};
    use crate::optimizer::test_util::{assert_same_results, show};
    use crate::prelude::*;

    /// Q19's shape: line items (`qty`, `part`, with nulls) and parts (`brand`, `size`).
    fn tables() -> (LazyFrame, LazyFrame) {
        let li = DataFrame::new(vec![
            Column::new(
                "part",
                vec![Some(1i64), Some(2), None, Some(3), Some(1), Some(4)],
            ),
            Column::new(
                "qty",
                vec![Some(5i64), Some(15), Some(5), None, Some(25), Some(12)],
            ),
        ])
        .unwrap();
        let parts = DataFrame::new(vec![
            Column::new("p_key", vec![1i64, 2, 3, 4]),
            Column::new("brand", vec![Some("B12"), Some("B23"), None, Some("B12")]),
            Column::new("size", vec![3i64, 8, 2, 20]),
        ])
        .unwrap();
        (li.lazy(), parts.lazy())
    }

    fn q19(li: LazyFrame, parts: LazyFrame) -> LazyFrame {
        li.join(parts, [col("part")], [col("p_key")], JoinType::Inner)
            .filter(
                (col("brand").eq("B12") & col("qty").le(11) & col("size").le(5))
                    | (col("brand").eq("B23") & col("qty").ge(10) & col("size").le(10)),
            )
    }

    #[test]
    fn each_input_gets_the_disjunction_of_its_own_conjuncts() {
        let (li, parts) = tables();
        let lf = q19(li, parts);
        insta::assert_snapshot!(show(&ImpliedJoinFilters, &lf, None), @r#"
        FILTER (((col("brand").eq("B12") & col("qty").le(11)) & col("size").le(5)) | ((col("brand").eq("B23") & col("qty").ge(10)) & col("size").le(10)))
          JOIN type=inner left_on=[col("part")] right_on=[col("p_key")]
            DATAFRAME rows=6 width=2
            DATAFRAME rows=4 width=3
        =>
        FILTER (((col("brand").eq("B12") & col("qty").le(11)) & col("size").le(5)) | ((col("brand").eq("B23") & col("qty").ge(10)) & col("size").le(10)))
          JOIN type=inner left_on=[col("part")] right_on=[col("p_key")]
            FILTER (col("qty").le(11) | col("qty").ge(10))
              DATAFRAME rows=6 width=2
            FILTER ((col("brand").eq("B12") & col("size").le(5)) | (col("brand").eq("B23") & col("size").le(10)))
              DATAFRAME rows=4 width=3
        "#);
        assert_same_results(&lf);
        // Added once: the filters below are found again (also once pushed into scans).
        let once = ImpliedJoinFilters
            .rewrite(crate::optimizer::resolve(lf.logical_plan()).unwrap())
            .unwrap();
        assert!(once.changed);
        assert!(!ImpliedJoinFilters.rewrite(once.data).unwrap().changed);
        let optimized = crate::optimizer::optimize(lf.logical_plan()).unwrap();
        assert_eq!(optimized.display_indent().matches("FILTER").count(), 3);
    }

    #[test]
    fn not_when_a_disjunct_leaves_an_input_free_or_the_join_keeps_unmatched_rows() {
        let (li, parts) = tables();
        let unchanged = |lf: LazyFrame| {
            let t = show(&ImpliedJoinFilters, &lf, None);
            assert!(t.ends_with("=> unchanged"), "{t}");
            assert_same_results(&lf);
        };
        // The second disjunct says nothing about line items, the first nothing about
        // parts: neither input is constrained by every disjunct.
        unchanged(
            li.clone()
                .join(
                    parts.clone(),
                    [col("part")],
                    [col("p_key")],
                    JoinType::Inner,
                )
                .filter(col("qty").le(11) | col("brand").eq("B23")),
        );
        // A left join keeps line items without a part (their part columns null).
        unchanged(
            li.clone()
                .join(parts.clone(), [col("part")], [col("p_key")], JoinType::Left)
                .filter(
                    (col("brand").eq("B12") & col("qty").le(11))
                        | (col("brand").eq("B23") & col("qty").ge(10)),
                ),
        );
        // Not a disjunction: predicate pushdown's work.
        unchanged(
            li.clone()
                .join(
                    parts.clone(),
                    [col("part")],
                    [col("p_key")],
                    JoinType::Inner,
                )
                .filter(col("qty").le(11) & col("brand").eq("B23")),
        );
        // A derived filter that could fail (a cast) would meet rows the join drops: the
        // line items get none, the parts theirs.
        let lf = li
            .join(parts, [col("part")], [col("p_key")], JoinType::Inner)
            .filter(
                (col("qty").cast(DataType::Int8).le(11) & col("brand").eq("B12"))
                    | (col("qty").cast(DataType::Int8).ge(10) & col("size").le(1)),
            );
        let t = show(&ImpliedJoinFilters, &lf, None);
        let after = t.split("=>\n").nth(1).unwrap_or_default();
        assert_eq!(after.matches("FILTER").count(), 2, "{t}");
        assert!(after.contains("FILTER (col(\"brand\").eq(\"B12\") | col(\"size\").le(1))"));
        assert_same_results(&lf);
    }

    #[test]
    fn a_clashing_name_is_no_inputs_alone() {
        // Both inputs have `v`: the output's `v` is the left's, `v_right` the right's.
        let a = DataFrame::new(vec![
            Column::new("k", vec![1i64, 2, 3]),
            Column::new("v", vec![1i64, 5, 9]),
        ])
        .unwrap()
        .lazy();
        let b = DataFrame::new(vec![
            Column::new("k2", vec![1i64, 2, 3]),
            Column::new("v", vec![7i64, 5, 1]),
        ])
        .unwrap()
        .lazy();
        let lf = a.join(b, [col("k")], [col("k2")], JoinType::Inner).filter(
            (col("v").lt(2) & col("v_right").gt(6)) | (col("v").gt(8) & col("v_right").lt(2)),
        );
        let t = show(&ImpliedJoinFilters, &lf, None);
        assert!(t.ends_with("=> unchanged"), "{t}");
        assert_same_results(&lf);
    }
}
