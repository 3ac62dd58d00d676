//! Selective joins first: an inner join with a small filtered table moves below the semi
//! (and anti) joins of its left input, so that they probe only the rows it keeps.
//!
//! TPC-H's Q21 keeps late line items (3.8 million rows) whose order has several suppliers,
//! whose order was late for this supplier alone and whose order is final (three semi
//! joins against tables of a million orders or more), then joins the rows left with the
//! suppliers of one nation (1 supplier in 25, once `semi_join_pushdown` has put the nation's
//! semi join on the supplier table). Written that way, all three semi joins probe every late
//! line item; with the supplier join first, they probe the 4% it keeps:
//! `INNER(SEMI(X, A), R)` becomes `SEMI(INNER(X, R), A)`.
//!
//! Exactness: a semi join is a filter on its left rows by their key (an anti join too); the
//! inner join's output is its `(x, r)` pairs in `x` order, each `x`'s matches in `R` order.
//! The semi join's keys read `X`'s columns, which keep their names in the inner join's
//! output, so filtering the pairs by `x`'s key keeps exactly the pairs of the `x` rows the
//! semi join keeps, in the same order; the output's columns are the same either way.
//!
//! When: `R` is cheap and reducing (scans, frames, filters and projections with a filter or
//! scan predicate, or semi joins of such against such) and estimated smaller than `A`
//! (`crate::physical`'s row estimates): then the join with `R` is likely to drop rows,
//! cheaply, before the costlier probes. An inner join with an unfiltered table (most often
//! one match per row) stays where it is: moving it first would only make the semi joins
//! filter wider rows. The rule moves the join below every such semi join at once.

use std::sync::Arc;

use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::physical::estimated_rows;
use crate::plan::{JoinType, LogicalPlan};

/// Moves an inner join with a small filtered table below its left input's semi joins.
pub struct SelectiveJoinsFirst;

impl OptimizerRule for SelectiveJoinsFirst {
    fn name(&self) -> &'static str {
        "selective_joins_first"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut reorder)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// `INNER(SEMI(X, A), R)` as `SEMI(INNER(X, R), A)`, again for `INNER(X, R)`, while the
/// pattern holds.
fn reorder(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let LogicalPlan::Join {
        left,
        right,
        left_on,
        right_on,
        how: JoinType::Inner,
    } = node.as_ref()
    else {
        return Ok(node);
    };
    let LogicalPlan::Join {
        left: x,
        right: a,
        left_on: a_left,
        right_on: a_right,
        how: how @ (JoinType::Semi | JoinType::Anti),
    } = left.as_ref()
    else {
        return Ok(node);
    };
    if !reducing(right) {
        return Ok(node);
    }
    match (estimated_rows(right), estimated_rows(a)) {
        (Some(r), Some(a)) if r < a => {}
        _ => return Ok(node),
    }
    let inner = reorder(Arc::new(LogicalPlan::Join {
        left: x.clone(),
        right: right.clone(),
        left_on: left_on.clone(),
        right_on: right_on.clone(),
        how: JoinType::Inner,
    }))?;
    Ok(Arc::new(LogicalPlan::Join {
        left: inner,
        right: a.clone(),
        left_on: a_left.clone(),
        right_on: a_right.clone(),
        how: *how,
    }))
}

/// Whether `plan` is cheap and keeps few rows: scans (or frames), filters, projections and
/// semi joins against such, with a filter somewhere (a `FILTER`, a scan predicate or a semi
/// join).
fn reducing(plan: &LogicalPlan) -> bool {
    fn walk(p: &LogicalPlan, filtered: &mut bool) -> bool {
        match p {
            LogicalPlan::Scan { predicate, .. } => {
                *filtered |= predicate.is_some();
                true
            }
            LogicalPlan::InMemory { .. } => true,
            LogicalPlan::Filter { input, .. } => {
                *filtered = true;
                walk(input, filtered)
            }
            LogicalPlan::Join {
                left,
                right,
                how: JoinType::Semi,
                ..
            } => {
                *filtered = true;
                walk(left, filtered) && walk(right, &mut false)
            }
            LogicalPlan::Select { input, .. }
            | LogicalPlan::WithColumns { input, .. }
            | LogicalPlan::Drop { input, .. }
            | LogicalPlan::Rename { input, .. } => walk(input, filtered),
            _ => false,
        }
    }
    let mut filtered = false;
    walk(plan, &mut filtered) && filtered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Column, DataFrame};
    use crate::optimizer::test_util::{assert_same_results, show};
    use crate::prelude::*;

    /// Items (`order`, `supp`, with nulls), orders wanted (a grouped table: costly, many
    /// rows) and suppliers (one filtered away).
    fn tables() -> (LazyFrame, LazyFrame, LazyFrame) {
        let items = DataFrame::new(vec![
            Column::new(
                "order",
                vec![
                    Some(1i64),
                    Some(1),
                    Some(2),
                    None,
                    Some(3),
                    Some(3),
                    Some(4),
                ],
            ),
            Column::new(
                "supp",
                vec![
                    Some(1i64),
                    Some(2),
                    Some(1),
                    Some(2),
                    None,
                    Some(2),
                    Some(1),
                ],
            ),
        ])
        .unwrap();
        let many = DataFrame::new(vec![Column::new(
            "o_key",
            (0..200i64).map(|i| i % 4).collect::<Vec<_>>(),
        )])
        .unwrap();
        let supplier = DataFrame::new(vec![
            Column::new("s_key", vec![1i64, 2]),
            Column::new("s_name", vec!["a", "b"]),
        ])
        .unwrap();
        (items.lazy(), many.lazy(), supplier.lazy())
    }

    fn multi(many: LazyFrame) -> LazyFrame {
        many.group_by([col("o_key")])
            .agg([len().alias("n")])
            .filter(col("n").gt(1))
    }

    #[test]
    fn a_filtered_table_joins_before_the_semi_joins() {
        let (items, many, supplier) = tables();
        let lf = items
            .join(
                multi(many.clone()),
                [col("order")],
                [col("o_key")],
                JoinType::Semi,
            )
            .join(multi(many), [col("order")], [col("o_key")], JoinType::Anti)
            .join(
                supplier.filter(col("s_name").eq("b")),
                [col("supp")],
                [col("s_key")],
                JoinType::Inner,
            );
        insta::assert_snapshot!(show(&SelectiveJoinsFirst, &lf, None), @r#"
        JOIN type=inner left_on=[col("supp")] right_on=[col("s_key")]
          JOIN type=anti left_on=[col("order")] right_on=[col("o_key")]
            JOIN type=semi left_on=[col("order")] right_on=[col("o_key")]
              DATAFRAME rows=7 width=2
              FILTER col("n").gt(1)
                GROUP_BY keys=[col("o_key")] aggs=[len().alias("n")]
                  DATAFRAME rows=200 width=1
            FILTER col("n").gt(1)
              GROUP_BY keys=[col("o_key")] aggs=[len().alias("n")]
                DATAFRAME rows=200 width=1
          FILTER col("s_name").eq("b")
            DATAFRAME rows=2 width=2
        =>
        JOIN type=anti left_on=[col("order")] right_on=[col("o_key")]
          JOIN type=semi left_on=[col("order")] right_on=[col("o_key")]
            JOIN type=inner left_on=[col("supp")] right_on=[col("s_key")]
              DATAFRAME rows=7 width=2
              FILTER col("s_name").eq("b")
                DATAFRAME rows=2 width=2
            FILTER col("n").gt(1)
              GROUP_BY keys=[col("o_key")] aggs=[len().alias("n")]
                DATAFRAME rows=200 width=1
          FILTER col("n").gt(1)
            GROUP_BY keys=[col("o_key")] aggs=[len().alias("n")]
              DATAFRAME rows=200 width=1
        "#);
        assert_same_results(&lf);
        // Moved at once: a second application finds nothing.
        let once = SelectiveJoinsFirst
            .rewrite(crate::optimizer::resolve(lf.logical_plan()).unwrap())
            .unwrap();
        assert!(!SelectiveJoinsFirst.rewrite(once.data).unwrap().changed);
    }

    #[test]
    fn not_with_an_unfiltered_or_larger_table_nor_across_other_joins() {
        let (items, many, supplier) = tables();
        let unchanged = |lf: LazyFrame| {
            let t = show(&SelectiveJoinsFirst, &lf, None);
            assert!(t.ends_with("=> unchanged"), "{t}");
            assert_same_results(&lf);
        };
        // The supplier table unfiltered: one match per item, nothing dropped early.
        unchanged(
            items
                .clone()
                .join(
                    multi(many.clone()),
                    [col("order")],
                    [col("o_key")],
                    JoinType::Semi,
                )
                .join(
                    supplier.clone(),
                    [col("supp")],
                    [col("s_key")],
                    JoinType::Inner,
                ),
        );
        // The semi join's table estimated smaller than the filtered one.
        let small = DataFrame::new(vec![Column::new("o_key", vec![1i64])])
            .unwrap()
            .lazy();
        unchanged(
            items
                .clone()
                .join(small, [col("order")], [col("o_key")], JoinType::Semi)
                .join(
                    supplier.clone().filter(col("s_name").gt("a")),
                    [col("supp")],
                    [col("s_key")],
                    JoinType::Inner,
                ),
        );
        // A left join below is not a filter of the items.
        unchanged(
            items
                .join(multi(many), [col("order")], [col("o_key")], JoinType::Left)
                .join(
                    supplier.filter(col("s_name").eq("b")),
                    [col("supp")],
                    [col("s_key")],
                    JoinType::Inner,
                ),
        );
    }
}
