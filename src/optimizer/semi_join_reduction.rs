//! Semi-join reduction: a group-by joined, on its keys, with a join result that keeps few
//! rows groups only the rows whose keys that result holds.
//!
//! TPC-H's Q21 keeps the late line items of Saudi suppliers (4% of the late line items, once
//! `semi_join_pushdown` and `selective_joins_first` have joined the suppliers first) whose order
//! has several suppliers and was late for this supplier alone: semi joins with two group-bys of
//! line items by order (`n_unique` of the suppliers, over 6 and 3.8 million rows, 1.5 million
//! groups). Only the orders of the Saudi late items (one in ten) can match, so the rule writes
//! each group-by's input as `SEMI(R, X) on c = a`, `X` the Saudi late items: the group-bys
//! see a tenth of their rows. `X` is then computed three times in the plan text; lowering
//! computes it once and keeps its rows (`crate::physical::shared`), a few hundred thousand.
//!
//! The pattern: `JOIN inner|semi (P, Q) on a = c` with `Q` a group-by under filters,
//! `c` a plain key of the group-by, `a` a column of `P`. `X` is `P` below its semi and anti
//! joins and filters (the rows of `P` are rows of `X`, with the same `a`), and `X` must be an
//! inner or semi join estimated to keep at most a quarter of its source and to give at most a
//! quarter of the group-by's input rows (`crate::physical::kept_rows`): then the semi join
//! costs a probe per row of the group-by's input and saves most of the grouping. The other
//! way round (`Q` on the left of an inner join) is the same.
//!
//! Exactness: a row of `Q` with key `k` matches some row of `P` only if `X` holds a row with
//! `a` equal to `k` under the join's key equality (null matches nothing, NaN matches NaN,
//! `-0.0` matches `0.0`; `a` and `c` have one type); the semi join keeps exactly the rows of
//! `R` whose key is among those of `X`, with the same equality, and it drops whole groups (all
//! rows of a group share `c`). The groups kept keep all their rows, their order of first
//! appearance and their aggregates; the filters above act per group; groups dropped would
//! have matched nothing. So the join gives the same rows in the same order.
//!
//! Fixed point: the rule does not fire when the group-by's input already holds a semi join
//! of `c` on `a` (its own work, wherever other rules moved it).

use std::sync::Arc;

use super::semi_join_transfer::has_semi_on;
use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::Expr;
use crate::physical::{estimated_rows, kept_fraction, kept_rows};
use crate::plan::{JoinType, LogicalPlan};

/// The most of its source (and of the group-by's input) a join result may keep to reduce a
/// group-by's input: below it, probing every input row once costs less than grouping the rows
/// it drops.
const REDUCED: f64 = 0.25;

/// Restricts a group-by joined on its keys to the keys of a reduced join result.
pub struct SemiJoinReduction;

impl OptimizerRule for SemiJoinReduction {
    fn name(&self) -> &'static str {
        "semi_join_reduction"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut reduce)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// The join `node` with its group-by side's input restricted to the other side's keys, when
/// the pattern holds.
fn reduce(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
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
    // A semi join's right rows only filter: its left side is never the one restricted.
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

/// `plan` below its semi and anti joins and filters: a table holding every row of `plan`
/// (with the same left columns).
fn rows_source(plan: &Arc<LogicalPlan>) -> &Arc<LogicalPlan> {
    match plan.as_ref() {
        LogicalPlan::Join {
            left,
            how: JoinType::Semi | JoinType::Anti,
            ..
        }
        | LogicalPlan::Filter { input: left, .. } => rows_source(left),
        _ => plan,
    }
}

/// `grouped` (filters over a group-by) with the group-by's input semi joined with the rows
/// source of `probe` on the key pairs of the join that pair a column of `probe` with a plain
/// key of the group-by, when that source is a reduced join (see the module docs).
fn restricted(
    probe: &Arc<LogicalPlan>,
    grouped: &Arc<LogicalPlan>,
    probe_on: &[Expr],
    grouped_on: &[Expr],
) -> Result<Option<Arc<LogicalPlan>>> {
    let mut filters = vec![];
    let mut node = grouped;
    while let LogicalPlan::Filter { input, predicate } = node.as_ref() {
        filters.push(predicate.clone());
        node = input;
    }
    let LogicalPlan::GroupBy {
        input,
        keys,
        output,
    } = node.as_ref()
    else {
        return Ok(None);
    };
    let source = rows_source(probe);
    if !matches!(
        source.as_ref(),
        LogicalPlan::Join {
            how: JoinType::Inner | JoinType::Semi,
            ..
        }
    ) {
        return Ok(None);
    }
    let (source_schema, input_schema) = (source.schema()?, input.schema()?);
    let mut source_on = vec![];
    let mut input_on = vec![];
    for (p, g) in probe_on.iter().zip(grouped_on) {
        let (Expr::Column(a), Expr::Column(c)) = (p, g) else {
            continue;
        };
        if !keys.iter().any(|k| matches!(k, Expr::Column(x) if x == c)) {
            continue;
        }
        let same_type = match (
            source_schema.field_with_name(a),
            input_schema.field_with_name(c),
        ) {
            (Ok(fa), Ok(fc)) => fa.data_type() == fc.data_type(),
            _ => false,
        };
        if same_type {
            source_on.push(p.clone());
            input_on.push(g.clone());
        }
    }
    let (Some(Expr::Column(c)), Some(a)) = (input_on.first(), source_on.first()) else {
        return Ok(None);
    };
    if has_semi_on(input, c, a) {
        return Ok(None);
    }
    match (
        kept_fraction(source),
        kept_rows(source),
        estimated_rows(input),
    ) {
        (Some(f), Some(s), Some(r)) if f <= REDUCED && s <= r * REDUCED => {}
        _ => return Ok(None),
    }
    let below = Arc::new(LogicalPlan::Join {
        left: input.clone(),
        right: source.clone(),
        left_on: input_on,
        right_on: source_on,
        how: JoinType::Semi,
    });
    let mut out = Arc::new(LogicalPlan::GroupBy {
        input: below,
        keys: keys.clone(),
        output: output.clone(),
    });
    for predicate in filters.into_iter().rev() {
        out = Arc::new(LogicalPlan::Filter {
            input: out,
            predicate,
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Column, DataFrame};
    use crate::optimizer::test_util::{assert_same_results, show};
    use crate::prelude::*;

    /// Q21's shape over `n` line items: orders (nulls among them) of one to seven lines,
    /// suppliers `0..20` of nations `0..5`, about half the lines late.
    fn tables(n: usize) -> (DataFrame, DataFrame) {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut order, mut supp, mut late) = (vec![], vec![], vec![]);
        let mut o = 0i64;
        while order.len() < n {
            o += 1;
            let lines = 1 + (next() % 7) as usize;
            for _ in 0..lines.min(n - order.len()) {
                order.push((o % 37 != 0).then_some(o));
                supp.push((next() % 20) as i64);
                late.push(next() % 2 == 0);
            }
        }
        let items = DataFrame::new(vec![
            Column::new("l_order", order),
            Column::new("l_supp", supp),
            Column::new("late", late),
        ])
        .unwrap();
        let suppliers = DataFrame::new(vec![
            Column::new("s_supp", (0..20i64).collect::<Vec<_>>()),
            Column::new("s_nation", (0..20i64).map(|s| s % 5).collect::<Vec<_>>()),
        ])
        .unwrap();
        (items, suppliers)
    }

    /// Late items of nation 1's suppliers whose order has several suppliers and was late
    /// for one supplier alone (Q21 without its orders and names).
    fn waiting(items: LazyFrame, suppliers: LazyFrame) -> LazyFrame {
        let late = items.clone().filter(col("late"));
        let several = items
            .group_by([col("l_order")])
            .agg([col("l_supp").n_unique().alias("n")])
            .filter(col("n").gt(1));
        let alone = late
            .clone()
            .group_by([col("l_order")])
            .agg([col("l_supp").n_unique().alias("n_late")])
            .filter(col("n_late").eq(1));
        late.join(
            suppliers.filter(col("s_nation").eq(1)),
            [col("l_supp")],
            [col("s_supp")],
            JoinType::Inner,
        )
        .join(several, [col("l_order")], [col("l_order")], JoinType::Semi)
        .join(alone, [col("l_order")], [col("l_order")], JoinType::Semi)
    }

    #[test]
    fn a_group_by_semi_joined_with_a_reduced_join_groups_only_its_keys() {
        let (items, suppliers) = tables(200);
        let lf = waiting(items.lazy(), suppliers.lazy());
        insta::assert_snapshot!(show(&SemiJoinReduction, &lf, None), @r#"
        JOIN type=semi left_on=[col("l_order")] right_on=[col("l_order")]
          JOIN type=semi left_on=[col("l_order")] right_on=[col("l_order")]
            JOIN type=inner left_on=[col("l_supp")] right_on=[col("s_supp")]
              FILTER col("late")
                DATAFRAME rows=200 width=3
              FILTER col("s_nation").eq(1)
                DATAFRAME rows=20 width=2
            FILTER col("n").gt(1)
              GROUP_BY keys=[col("l_order")] aggs=[col("l_supp").n_unique().alias("n")]
                DATAFRAME rows=200 width=3
          FILTER col("n_late").eq(1)
            GROUP_BY keys=[col("l_order")] aggs=[col("l_supp").n_unique().alias("n_late")]
              FILTER col("late")
                DATAFRAME rows=200 width=3
        =>
        JOIN type=semi left_on=[col("l_order")] right_on=[col("l_order")]
          JOIN type=semi left_on=[col("l_order")] right_on=[col("l_order")]
            JOIN type=inner left_on=[col("l_supp")] right_on=[col("s_supp")]
              FILTER col("late")
                DATAFRAME rows=200 width=3
              FILTER col("s_nation").eq(1)
                DATAFRAME rows=20 width=2
            FILTER col("n").gt(1)
              GROUP_BY keys=[col("l_order")] aggs=[col("l_supp").n_unique().alias("n")]
                JOIN type=semi left_on=[col("l_order")] right_on=[col("l_order")]
                  DATAFRAME rows=200 width=3
                  JOIN type=inner left_on=[col("l_supp")] right_on=[col("s_supp")]
                    FILTER col("late")
                      DATAFRAME rows=200 width=3
                    FILTER col("s_nation").eq(1)
                      DATAFRAME rows=20 width=2
          FILTER col("n_late").eq(1)
            GROUP_BY keys=[col("l_order")] aggs=[col("l_supp").n_unique().alias("n_late")]
              JOIN type=semi left_on=[col("l_order")] right_on=[col("l_order")]
                FILTER col("late")
                  DATAFRAME rows=200 width=3
                JOIN type=inner left_on=[col("l_supp")] right_on=[col("s_supp")]
                  FILTER col("late")
                    DATAFRAME rows=200 width=3
                  FILTER col("s_nation").eq(1)
                    DATAFRAME rows=20 width=2
        "#);
        assert_same_results(&lf);
        // Once restricted, not again (a fixed point), even after the other rules.
        let once = SemiJoinReduction
            .rewrite(crate::optimizer::resolve(lf.logical_plan()).unwrap())
            .unwrap();
        assert!(once.changed);
        assert!(!SemiJoinReduction.rewrite(once.data).unwrap().changed);
        let optimized = crate::optimizer::optimize(lf.logical_plan()).unwrap();
        assert_eq!(optimized.display_indent().matches("type=semi").count(), 4);
    }

    #[test]
    fn the_group_by_on_the_left_of_an_inner_join() {
        let (items, suppliers) = tables(200);
        let (items, suppliers) = (items.lazy(), suppliers.lazy());
        let lines = items
            .clone()
            .group_by([col("l_order")])
            .agg([len().alias("lines"), col("l_supp").sum().alias("supps")]);
        let lf = lines.join(
            items.filter(col("late")).join(
                suppliers.filter(col("s_nation").eq(1)),
                [col("l_supp")],
                [col("s_supp")],
                JoinType::Inner,
            ),
            [col("l_order")],
            [col("l_order")],
            JoinType::Inner,
        );
        let t = show(&SemiJoinReduction, &lf, None);
        assert!(t.contains("=>\n"), "{t}");
        assert_same_results(&lf);
    }

    #[test]
    fn not_for_an_unreduced_side_a_computed_key_or_a_left_join() {
        let (items, suppliers) = tables(200);
        let (items, suppliers) = (items.lazy(), suppliers.lazy());
        let unchanged = |lf: LazyFrame| {
            let t = show(&SemiJoinReduction, &lf, None);
            assert!(t.ends_with("=> unchanged"), "{t}");
            assert_same_results(&lf);
        };
        let nation_1 = || {
            items.clone().filter(col("late")).join(
                suppliers.clone().filter(col("s_nation").eq(1)),
                [col("l_supp")],
                [col("s_supp")],
                JoinType::Inner,
            )
        };
        let per_order = items
            .clone()
            .group_by([col("l_order")])
            .agg([len().alias("lines")]);
        // Every supplier: the join keeps most orders, a probe per row would not pay.
        unchanged(
            items
                .clone()
                .join(
                    suppliers.clone(),
                    [col("l_supp")],
                    [col("s_supp")],
                    JoinType::Inner,
                )
                .join(
                    per_order.clone(),
                    [col("l_order")],
                    [col("l_order")],
                    JoinType::Semi,
                ),
        );
        // A plain table (no join) on the other side: `semi_join_transfer`'s case.
        unchanged(items.clone().filter(col("late").not()).join(
            per_order.clone(),
            [col("l_order")],
            [col("l_order")],
            JoinType::Semi,
        ));
        // The group-by's key is computed, not a column of its input.
        let computed = items
            .clone()
            .group_by([(col("l_order") + 0).alias("k")])
            .agg([len().alias("lines")]);
        unchanged(nation_1().join(computed, [col("l_order")], [col("k")], JoinType::Semi));
        // A left join keeps left rows without a match, and an anti join is about the rows
        // that do not match: every group counts.
        for how in [JoinType::Left, JoinType::Anti] {
            unchanged(nation_1().join(per_order.clone(), [col("l_order")], [col("l_order")], how));
        }
    }

    /// The restricted plan against the plain one, from Parquet files of small row groups
    /// (several morsels), for 1 and 2 threads: the same rows in the same order, with the
    /// reduced join computed once.
    #[test]
    fn restricted_group_bys_give_the_rows_of_the_plain_plan() {
        let dir = tempfile::tempdir().unwrap();
        let (items, suppliers) = tables(5000);
        let write = |df: &DataFrame, name: &str| {
            let path = dir.path().join(name);
            let mut f = std::fs::File::create(&path).unwrap();
            crate::io::parquet::write_with_row_groups(df, &mut f, 300).unwrap();
            path
        };
        let (ip, sp) = (
            write(&items, "items.parquet"),
            write(&suppliers, "s.parquet"),
        );
        let lf = waiting(scan_parquet(&ip), scan_parquet(&sp))
            .group_by([col("s_nation"), col("l_supp")])
            .agg([len().alias("waits")]);
        let physical = lf.explain_physical().unwrap();
        assert_eq!(
            physical.matches("SHARED #0 uses=3").count(),
            3,
            "{physical}"
        );
        let want = lf
            .clone()
            .collect_with(&ExecOptions::new().optimize(false).threads(1))
            .unwrap();
        assert!(want.height() > 3, "{want}");
        for threads in [1, 2] {
            let got = lf
                .clone()
                .collect_with(&ExecOptions::new().threads(threads))
                .unwrap();
            assert_eq!(got, want, "{threads} threads");
        }
    }
}
