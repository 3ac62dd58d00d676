//! Semi-join transfer: a semi join that restricts one side of a join to keys found in a small
//! filtered table also restricts the other side's group-by, before it groups.
//!
//! In `JOIN inner (SEMI(L, S) on a) with GROUP_BY(R) on c` where the inner join pairs `a` with
//! `c` (`c` a plain key of the group-by), a group whose key is not in `S` meets no left row:
//! its rows can be left out before grouping. The rule writes
//! `GROUP_BY(SEMI(R, S) on c)`, so the group-by (a pipeline breaker, the costly part) sees only
//! the rows of keys in `S`. TPC-H's Q20 groups a year of lineitem (900k rows, one group per
//! part and supplier) to join it with the partsupp rows of "forest" parts (2% of parts): with
//! the parts' semi join moved below, the group-by sees 2% of the rows.
//!
//! Exactness: the join keys' equality is an equivalence (null matches nothing, NaN matches
//! NaN, `-0.0` matches `0.0`) and `c` has `a`'s type, so a right key matching a left row whose
//! key is in `S` is itself in `S`; and a semi join drops whole groups (rows of one key), so
//! the groups left keep their rows, their order of first appearance and their aggregates.
//! Both inner and semi joins above qualify (the group-by's rows only matter by matching).
//!
//! The same holds when the other side is a plain table `R` (scans, filters, projections):
//! `JOIN inner (SEMI(L, S) on a) with R on c` becomes `.. with SEMI(R, S) on c`, when `R`
//! is estimated larger than `S`: the join's other table shrinks to the rows that can match.
//!
//! Cost: `S` is computed twice, so it must be cheap and selective: a chain of scans, filters
//! and projections (no join, no group-by) with a filter or a scan predicate in it. The
//! rule fires once per (group-by, key, `S` key): it does not when the group-by's input already
//! holds a semi join of that column on that key, which is also what makes it reach a fixed
//! point.

use std::sync::Arc;

use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::Expr;
use crate::physical::estimated_rows;
use crate::plan::{JoinType, LogicalPlan};

/// Copies a cheap semi join on one side of a join into the other side's group-by input.
pub struct SemiJoinTransfer;

impl OptimizerRule for SemiJoinTransfer {
    fn name(&self) -> &'static str {
        "semi_join_transfer"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut transfer)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// The join `node` with a semi join of one input moved into the other's group-by (the left's
/// into the right's, or the right's into the left's), when the pattern holds.
fn transfer(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let LogicalPlan::Join {
        left,
        right,
        left_on,
        right_on,
        how,
    } = node.as_ref()
    else {
        return Ok(node);
    };
    if !matches!(how, JoinType::Inner | JoinType::Semi) {
        return Ok(node);
    }
    if let Some(r) = restricted(left, right, left_on, right_on)? {
        return Ok(Arc::new(LogicalPlan::Join {
            left: left.clone(),
            right: r,
            left_on: left_on.clone(),
            right_on: right_on.clone(),
            how: *how,
        }));
    }
    // A semi join keeps its left side's rows only: its right side carries no semi join
    // whose keys reach the left's output.
    if *how == JoinType::Inner {
        if let Some(l) = restricted(right, left, right_on, left_on)? {
            return Ok(Arc::new(LogicalPlan::Join {
                left: l,
                right: right.clone(),
                left_on: left_on.clone(),
                right_on: right_on.clone(),
                how: *how,
            }));
        }
    }
    Ok(node)
}

/// `grouped` (a group-by on one side of a join) with `semi`'s restriction below it, when
/// `semi` (the other side) is `SEMI(L, S) on a` with `S` cheap, the join pairs `a` with a
/// plain key `c` of the group-by of `a`'s type, and the group-by's input has no such semi
/// join yet.
fn restricted(
    semi: &Arc<LogicalPlan>,
    grouped: &Arc<LogicalPlan>,
    semi_side_on: &[Expr],
    grouped_side_on: &[Expr],
) -> Result<Option<Arc<LogicalPlan>>> {
    let LogicalPlan::Join {
        left: inner,
        right: s,
        left_on: s_left,
        right_on: s_right,
        how: JoinType::Semi,
    } = semi.as_ref()
    else {
        return Ok(None);
    };
    let ([Expr::Column(a)], [s_key]) = (s_left.as_slice(), s_right.as_slice()) else {
        return Ok(None);
    };
    let LogicalPlan::GroupBy {
        input,
        keys,
        output,
    } = grouped.as_ref()
    else {
        return restricted_table(inner, s, a, s_key, grouped, semi_side_on, grouped_side_on);
    };
    if !cheap_and_filtered(s) {
        return Ok(None);
    }
    let Some(c) = paired_column(a, semi_side_on, grouped_side_on) else {
        return Ok(None);
    };
    if !keys.iter().any(|k| matches!(k, Expr::Column(x) if x == c)) {
        return Ok(None);
    }
    let (a_type, c_type) = (
        inner.schema()?.field_with_name(a)?.data_type().clone(),
        input.schema()?.field_with_name(c)?.data_type().clone(),
    );
    if a_type != c_type || has_semi_on(input, c, s_key) {
        return Ok(None);
    }
    let below = LogicalPlan::Join {
        left: input.clone(),
        right: s.clone(),
        left_on: vec![Expr::Column(c.clone())],
        right_on: vec![s_key.clone()],
        how: JoinType::Semi,
    };
    Ok(Some(Arc::new(LogicalPlan::GroupBy {
        input: Arc::new(below),
        keys: keys.clone(),
        output: output.clone(),
    })))
}

/// `table` (a plain table on one side of a join: scans, filters, projections) restricted
/// by the other side's `SEMI(inner, s) on a`, when `s` is cheap, the join pairs `a` with a
/// column `c` of `table` of `a`'s type, `table` is estimated larger than `s` (so the copy
/// of `s` pays: TPC-H's Q09 builds its table over 43,000 part-supplier rows of "green"
/// parts instead of all 800,000) and `table` has no such semi join yet.
fn restricted_table(
    inner: &Arc<LogicalPlan>,
    s: &Arc<LogicalPlan>,
    a: &str,
    s_key: &Expr,
    table: &Arc<LogicalPlan>,
    semi_side_on: &[Expr],
    table_side_on: &[Expr],
) -> Result<Option<Arc<LogicalPlan>>> {
    if !cheap_and_filtered(s) || !cheap(table) {
        return Ok(None);
    }
    let Some(c) = paired_column(a, semi_side_on, table_side_on) else {
        return Ok(None);
    };
    let (a_type, c_type) = (
        inner.schema()?.field_with_name(a)?.data_type().clone(),
        table.schema()?.field_with_name(c)?.data_type().clone(),
    );
    if a_type != c_type || has_semi_on(table, c, s_key) {
        return Ok(None);
    }
    match (estimated_rows(table), estimated_rows(s)) {
        (Some(t), Some(s)) if t > s => {}
        _ => return Ok(None),
    }
    Ok(Some(Arc::new(LogicalPlan::Join {
        left: table.clone(),
        right: s.clone(),
        left_on: vec![Expr::Column(c.clone())],
        right_on: vec![s_key.clone()],
        how: JoinType::Semi,
    })))
}

/// Whether `plan` is scans (or frames in memory), filters and projections only.
fn cheap(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Scan { .. } | LogicalPlan::InMemory { .. } => true,
        LogicalPlan::Filter { input, .. }
        | LogicalPlan::Select { input, .. }
        | LogicalPlan::WithColumns { input, .. }
        | LogicalPlan::Drop { input, .. }
        | LogicalPlan::Rename { input, .. } => cheap(input),
        _ => false,
    }
}

/// Whether `plan` is scans (or frames in memory), filters and projections only, with a filter
/// somewhere (a `FILTER` node or a scan's predicate): cheap to compute twice and likely to
/// keep few keys.
fn cheap_and_filtered(plan: &LogicalPlan) -> bool {
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

/// Whether `plan` holds a semi join of column `c` on the right key `s_key` (this rule's
/// work, wherever later rules moved it).
pub(super) fn has_semi_on(plan: &LogicalPlan, c: &str, s_key: &Expr) -> bool {
    if let LogicalPlan::Join {
        left_on,
        right_on,
        how: JoinType::Semi,
        ..
    } = plan
    {
        if matches!(left_on.as_slice(), [Expr::Column(x)] if x == c)
            && right_on.as_slice() == std::slice::from_ref(s_key)
        {
            return true;
        }
    }
    plan.inputs().into_iter().any(|i| has_semi_on(i, c, s_key))
}

/// The plain column paired, across the join, with the key column `a` of the semi join's side:
/// `other_side_on[i]` where `semi_side_on[i]` is `a`.
fn paired_column<'e>(
    a: &str,
    semi_side_on: &[Expr],
    other_side_on: &'e [Expr],
) -> Option<&'e String> {
    let i = semi_side_on
        .iter()
        .position(|e| matches!(e, Expr::Column(x) if x == a))?;
    match other_side_on.get(i) {
        Some(Expr::Column(c)) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Column, DataFrame};
    use crate::optimizer::test_util::{assert_same_results, show};
    use crate::prelude::*;

    /// Q20's shape: part-supplier pairs of "f" parts joined with a group-by of line items
    /// by part and supplier (keys with nulls, and parts missing from either side).
    fn tables() -> (LazyFrame, LazyFrame, LazyFrame) {
        let ps = DataFrame::new(vec![
            Column::new("ps_part", vec![Some(1i64), Some(2), Some(3), None, Some(5)]),
            Column::new("ps_supp", vec![10i64, 20, 30, 40, 50]),
            Column::new("avail", vec![5i64, 1, 7, 3, 2]),
        ])
        .unwrap();
        let part = DataFrame::new(vec![
            Column::new("p_part", vec![1i64, 2, 3, 4, 5]),
            Column::new("p_name", vec!["fa", "gb", "fc", "fd", "ge"]),
        ])
        .unwrap();
        let li = DataFrame::new(vec![
            Column::new(
                "l_part",
                vec![
                    Some(3i64),
                    Some(1),
                    Some(2),
                    None,
                    Some(3),
                    Some(4),
                    Some(1),
                ],
            ),
            Column::new("l_supp", vec![30i64, 10, 20, 40, 30, 40, 11]),
            Column::new("qty", vec![1.5, 2.0, 3.0, 4.0, 0.25, 6.0, 7.0]),
        ])
        .unwrap();
        (ps.lazy(), part.lazy(), li.lazy())
    }

    fn shipped(li: LazyFrame) -> LazyFrame {
        li.group_by([col("l_part"), col("l_supp")])
            .agg([col("qty").sum().alias("q")])
    }

    #[test]
    fn a_filtered_semi_join_moves_into_the_other_sides_group_by() {
        let (ps, part, li) = tables();
        let forest = part.filter(col("p_name").str().starts_with("f"));
        let lf = ps
            .join(forest, [col("ps_part")], [col("p_part")], JoinType::Semi)
            .join(
                shipped(li),
                [col("ps_part"), col("ps_supp")],
                [col("l_part"), col("l_supp")],
                JoinType::Inner,
            );
        insta::assert_snapshot!(show(&SemiJoinTransfer, &lf, None), @r#"
        JOIN type=inner left_on=[col("ps_part"), col("ps_supp")] right_on=[col("l_part"), col("l_supp")]
          JOIN type=semi left_on=[col("ps_part")] right_on=[col("p_part")]
            DATAFRAME rows=5 width=3
            FILTER col("p_name").str().starts_with("f")
              DATAFRAME rows=5 width=2
          GROUP_BY keys=[col("l_part"), col("l_supp")] aggs=[col("qty").sum().alias("q")]
            DATAFRAME rows=7 width=3
        =>
        JOIN type=inner left_on=[col("ps_part"), col("ps_supp")] right_on=[col("l_part"), col("l_supp")]
          JOIN type=semi left_on=[col("ps_part")] right_on=[col("p_part")]
            DATAFRAME rows=5 width=3
            FILTER col("p_name").str().starts_with("f")
              DATAFRAME rows=5 width=2
          GROUP_BY keys=[col("l_part"), col("l_supp")] aggs=[col("qty").sum().alias("q")]
            JOIN type=semi left_on=[col("l_part")] right_on=[col("p_part")]
              DATAFRAME rows=7 width=3
              FILTER col("p_name").str().starts_with("f")
                DATAFRAME rows=5 width=2
        "#);
        assert_same_results(&lf);
        // Once moved, it is not moved again (a fixed point), even after other rules.
        let once = SemiJoinTransfer
            .rewrite(crate::optimizer::resolve(lf.logical_plan()).unwrap())
            .unwrap();
        assert!(once.changed);
        assert!(!SemiJoinTransfer.rewrite(once.data).unwrap().changed);
        let optimized = crate::optimizer::optimize(lf.logical_plan()).unwrap();
        assert_eq!(optimized.display_indent().matches("type=semi").count(), 2);
    }

    #[test]
    fn the_group_by_on_the_left_and_a_semi_join_above() {
        let (ps, part, li) = tables();
        let forest = part.filter(col("p_name").str().starts_with("f"));
        // The group-by on the left of an inner join, the semi join on the right.
        let lf = shipped(li.clone()).join(
            ps.clone().join(
                forest.clone(),
                [col("ps_part")],
                [col("p_part")],
                JoinType::Semi,
            ),
            [col("l_part"), col("l_supp")],
            [col("ps_part"), col("ps_supp")],
            JoinType::Inner,
        );
        let t = show(&SemiJoinTransfer, &lf, None);
        assert!(t.contains("=>\n"), "{t}");
        assert_same_results(&lf);
        // A semi join above: the right side's rows matter only by matching.
        let lf = ps
            .join(forest, [col("ps_part")], [col("p_part")], JoinType::Semi)
            .join(
                shipped(li),
                [col("ps_part"), col("ps_supp")],
                [col("l_part"), col("l_supp")],
                JoinType::Semi,
            );
        let t = show(&SemiJoinTransfer, &lf, None);
        assert!(t.contains("=>\n"), "{t}");
        assert_same_results(&lf);
    }

    #[test]
    fn not_without_a_filter_a_plain_key_or_an_inner_or_semi_join() {
        let (ps, part, li) = tables();
        let forest = part.clone().filter(col("p_name").str().starts_with("f"));
        let unchanged = |lf: LazyFrame| {
            let t = show(&SemiJoinTransfer, &lf, None);
            assert!(t.ends_with("=> unchanged"), "{t}");
            assert_same_results(&lf);
        };
        // An unfiltered table keeps most keys: not worth computing twice.
        unchanged(
            ps.clone()
                .join(
                    part.clone(),
                    [col("ps_part")],
                    [col("p_part")],
                    JoinType::Semi,
                )
                .join(
                    shipped(li.clone()),
                    [col("ps_part")],
                    [col("l_part")],
                    JoinType::Inner,
                ),
        );
        // A grouped table is not cheap to compute twice.
        let grouped = forest
            .clone()
            .group_by([col("p_part")])
            .agg([len().alias("n")]);
        unchanged(
            ps.clone()
                .join(grouped, [col("ps_part")], [col("p_part")], JoinType::Semi)
                .join(
                    shipped(li.clone()),
                    [col("ps_part")],
                    [col("l_part")],
                    JoinType::Inner,
                ),
        );
        // The group-by's key is computed, not a column of its input.
        let computed = li
            .clone()
            .group_by([(col("l_part") + 0).alias("k")])
            .agg([col("qty").sum()]);
        unchanged(
            ps.clone()
                .join(
                    forest.clone(),
                    [col("ps_part")],
                    [col("p_part")],
                    JoinType::Semi,
                )
                .join(computed, [col("ps_part")], [col("k")], JoinType::Inner),
        );
        // A left join keeps left rows without a match: the right side's groups all count.
        unchanged(shipped(li).join(
            ps.join(forest, [col("ps_part")], [col("p_part")], JoinType::Semi),
            [col("l_part")],
            [col("ps_part")],
            JoinType::Left,
        ));
    }

    #[test]
    fn a_filtered_semi_join_restricts_a_larger_plain_table() {
        // Q09's shape: line items of "f" parts joined with part-supplier rows on (part,
        // supplier); the part-supplier table takes the parts' semi join on its part column.
        let (ps, part, li) = tables();
        let forest = part.filter(col("p_name").str().starts_with("f"));
        let lf = li
            .clone()
            .join(
                forest.clone(),
                [col("l_part")],
                [col("p_part")],
                JoinType::Semi,
            )
            .join(
                ps.clone(),
                [col("l_supp"), col("l_part")],
                [col("ps_supp"), col("ps_part")],
                JoinType::Inner,
            );
        insta::assert_snapshot!(show(&SemiJoinTransfer, &lf, None), @r#"
        JOIN type=inner left_on=[col("l_supp"), col("l_part")] right_on=[col("ps_supp"), col("ps_part")]
          JOIN type=semi left_on=[col("l_part")] right_on=[col("p_part")]
            DATAFRAME rows=7 width=3
            FILTER col("p_name").str().starts_with("f")
              DATAFRAME rows=5 width=2
          DATAFRAME rows=5 width=3
        =>
        JOIN type=inner left_on=[col("l_supp"), col("l_part")] right_on=[col("ps_supp"), col("ps_part")]
          JOIN type=semi left_on=[col("l_part")] right_on=[col("p_part")]
            DATAFRAME rows=7 width=3
            FILTER col("p_name").str().starts_with("f")
              DATAFRAME rows=5 width=2
          JOIN type=semi left_on=[col("ps_part")] right_on=[col("p_part")]
            DATAFRAME rows=5 width=3
            FILTER col("p_name").str().starts_with("f")
              DATAFRAME rows=5 width=2
        "#);
        assert_same_results(&lf);
        let optimized = crate::optimizer::optimize(lf.logical_plan()).unwrap();
        assert_eq!(optimized.display_indent().matches("type=semi").count(), 2);
        // Not into a table estimated smaller than the semi join's (7 parts against 5
        // part-supplier rows), nor into a grouped one.
        let parts = DataFrame::new(vec![
            Column::new("p_part", (1..=7i64).collect::<Vec<_>>()),
            Column::new("p_name", vec!["fa", "gb", "fc", "fd", "ge", "fx", "fy"]),
        ])
        .unwrap()
        .lazy()
        .filter(col("p_name").str().starts_with("f") | col("p_name").str().ends_with("b"));
        let lf = li
            .clone()
            .join(parts, [col("l_part")], [col("p_part")], JoinType::Semi)
            .join(ps, [col("l_part")], [col("ps_part")], JoinType::Inner);
        let t = show(&SemiJoinTransfer, &lf, None);
        assert!(t.ends_with("=> unchanged"), "{t}");
        assert_same_results(&lf);
    }
}
