//! Semi join pushdown: a semi (or anti) join over an inner join whose keys read only the
//! inner join's right input filters that input instead, below the join.
//!
//! TPC-H's Q21 joins late line items with suppliers, then keeps the rows whose supplier's
//! nation is Saudi Arabia (`SEMI(INNER(items, supplier), nation) on s_nationkey`). Applied to
//! the supplier table first, the semi join leaves 1 supplier in 25, and the inner join then
//! drops the other line items as it probes: `INNER(items, SEMI(supplier, nation))`. (The
//! rule `selective_joins_first` can then move that reducing join below the costlier ones.)
//!
//! Exactness: an inner join's output is its `(l, r)` pairs with equal keys, in left order,
//! each left row's matches in right order. A semi join on keys computed from `r`'s columns
//! alone keeps a pair exactly when it would keep `r` in `SEMI(R, S)` (an anti join: exactly
//! when `ANTI(R, S)` keeps `r`); filtering `R` keeps its rows' order, so the pairs left are
//! the same, in the same order. The keys must read right columns that keep their names in
//! the output (not the left's, and not renamed by a clash); the output's columns are the
//! same either way.
//!
//! Only the right input: a semi join on left keys could move into the left input the same
//! way, but that is the shape `selective_joins_first` undoes (it moves a reducing inner join
//! below the left's semi joins), and the two would undo each other.

use std::sync::Arc;

use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::plan::{JoinType, LogicalPlan};

/// Moves a semi or anti join on an inner join's right-side columns into that side.
pub struct SemiJoinPushdown;

impl OptimizerRule for SemiJoinPushdown {
    fn name(&self) -> &'static str {
        "semi_join_pushdown"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut push)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// `SEMI(INNER(L, R), S)` on keys over `R`'s own columns as `INNER(L, SEMI(R, S))`.
fn push(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let LogicalPlan::Join {
        left: joined,
        right: s,
        left_on: s_left,
        right_on: s_right,
        how: how @ (JoinType::Semi | JoinType::Anti),
    } = node.as_ref()
    else {
        return Ok(node);
    };
    let LogicalPlan::Join {
        left,
        right,
        left_on,
        right_on,
        how: JoinType::Inner,
    } = joined.as_ref()
    else {
        return Ok(node);
    };
    let (ls, rs) = (left.schema()?, right.schema()?);
    let right_only = |c: &String| {
        rs.index_of(c).is_ok()
            && ls.index_of(c).is_err()
            && !c
                .strip_suffix("_right")
                .is_some_and(|b| ls.index_of(b).is_ok() || rs.index_of(b).is_ok())
    };
    let reads_right_only = s_left.iter().all(|k| {
        let used = k.columns_used();
        !used.is_empty() && used.iter().all(right_only) && k.is_elementwise()
    });
    if !reads_right_only {
        return Ok(node);
    }
    let filtered = Arc::new(LogicalPlan::Join {
        left: right.clone(),
        right: s.clone(),
        left_on: s_left.clone(),
        right_on: s_right.clone(),
        how: *how,
    });
    Ok(Arc::new(LogicalPlan::Join {
        left: left.clone(),
        right: filtered,
        left_on: left_on.clone(),
        right_on: right_on.clone(),
        how: JoinType::Inner,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Column, DataFrame};
    use crate::optimizer::test_util::{assert_same_results, show};
    use crate::prelude::*;

    /// Q21's shape: items (`supp`, with nulls and a supplier nobody has), suppliers with a
    /// nation (one null) and the nations wanted.
    fn tables() -> (LazyFrame, LazyFrame, LazyFrame) {
        let items = DataFrame::new(vec![
            Column::new(
                "supp",
                vec![Some(1i64), Some(2), None, Some(3), Some(1), Some(9)],
            ),
            Column::new("qty", vec![1i64, 2, 3, 4, 5, 6]),
        ])
        .unwrap();
        let supplier = DataFrame::new(vec![
            Column::new("s_key", vec![1i64, 2, 3, 3]),
            Column::new("s_nation", vec![Some(10i64), Some(20), None, Some(10)]),
            Column::new("s_name", vec!["a", "b", "c", "d"]),
        ])
        .unwrap();
        let nation = DataFrame::new(vec![
            Column::new("n_key", vec![10i64, 30]),
            Column::new("n_name", vec!["SA", "FR"]),
        ])
        .unwrap();
        (items.lazy(), supplier.lazy(), nation.lazy())
    }

    #[test]
    fn a_semi_join_on_right_columns_filters_the_right_input() {
        let (items, supplier, nation) = tables();
        let lf = items
            .join(supplier, [col("supp")], [col("s_key")], JoinType::Inner)
            .join(
                nation.filter(col("n_name").eq("SA")),
                [col("s_nation")],
                [col("n_key")],
                JoinType::Semi,
            );
        insta::assert_snapshot!(show(&SemiJoinPushdown, &lf, None), @r#"
        JOIN type=semi left_on=[col("s_nation")] right_on=[col("n_key")]
          JOIN type=inner left_on=[col("supp")] right_on=[col("s_key")]
            DATAFRAME rows=6 width=2
            DATAFRAME rows=4 width=3
          FILTER col("n_name").eq("SA")
            DATAFRAME rows=2 width=2
        =>
        JOIN type=inner left_on=[col("supp")] right_on=[col("s_key")]
          DATAFRAME rows=6 width=2
          JOIN type=semi left_on=[col("s_nation")] right_on=[col("n_key")]
            DATAFRAME rows=4 width=3
            FILTER col("n_name").eq("SA")
              DATAFRAME rows=2 width=2
        "#);
        assert_same_results(&lf);
    }

    #[test]
    fn an_anti_join_too_and_its_null_keys_stay() {
        let (items, supplier, nation) = tables();
        let lf = items
            .join(supplier, [col("supp")], [col("s_key")], JoinType::Inner)
            .join(nation, [col("s_nation")], [col("n_key")], JoinType::Anti);
        let t = show(&SemiJoinPushdown, &lf, None);
        assert!(t.contains("=>\nJOIN type=inner"), "{t}");
        assert_same_results(&lf);
        // The supplier with a null nation is kept (matches nothing), with its item.
        assert_eq!(lf.collect().unwrap().height(), 2);
    }

    #[test]
    fn not_on_left_or_clashing_columns_nor_below_other_joins() {
        let (items, supplier, nation) = tables();
        let unchanged = |lf: LazyFrame| {
            let t = show(&SemiJoinPushdown, &lf, None);
            assert!(t.ends_with("=> unchanged"), "{t}");
            assert_same_results(&lf);
        };
        // Keys over the left input's columns.
        unchanged(
            items
                .clone()
                .join(
                    supplier.clone(),
                    [col("supp")],
                    [col("s_key")],
                    JoinType::Inner,
                )
                .join(nation.clone(), [col("qty")], [col("n_key")], JoinType::Semi),
        );
        // A key reading both inputs.
        unchanged(
            items
                .clone()
                .join(
                    supplier.clone(),
                    [col("supp")],
                    [col("s_key")],
                    JoinType::Inner,
                )
                .join(
                    nation.clone(),
                    [col("s_nation") + col("qty")],
                    [col("n_key")],
                    JoinType::Semi,
                ),
        );
        // A left join keeps items without a supplier (null supplier columns): a semi join
        // on them drops those rows, which filtering the suppliers would not.
        unchanged(
            items
                .clone()
                .join(
                    supplier.clone(),
                    [col("supp")],
                    [col("s_key")],
                    JoinType::Left,
                )
                .join(
                    nation.clone(),
                    [col("s_nation")],
                    [col("n_key")],
                    JoinType::Semi,
                ),
        );
        // A column both inputs have: the output's is the left's.
        let renamed = supplier.clone().rename(["s_nation"], ["qty"]);
        unchanged(
            items
                .join(renamed, [col("supp")], [col("s_key")], JoinType::Inner)
                .join(nation, [col("qty")], [col("n_key")], JoinType::Semi),
        );
    }
}
