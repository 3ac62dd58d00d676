//! Predicate pushdown: move filters towards the sources, split into their `&` conjuncts, and
//! into the scan itself (`SCAN .. predicate=`), where CSV and IPC morsels are filtered right
//! after decoding and Parquet skips row groups whose statistics prove the predicate false.
//!
//! A conjunct moves down through a node only when filtering first cannot change the result:
//! - through `with_columns` / `select` whose expressions are all elementwise, if it reads no
//!   column the node computes (a `select` that merely renames, `col("a").alias("b")`, is seen
//!   through); through `drop` and `rename` (renaming the columns back);
//! - through a grouping (`group_by`, `head` per group, `unique`) if it reads only key
//!   columns that are plain input columns: a filter on the keys keeps or drops whole groups,
//!   so it may as well drop their rows before grouping;
//! - into a filter below (they merge into one `&`), or into a scan's predicate;
//! - into the side of a join whose columns it reads, where that keeps the result (see
//!   `split_at_join`: a filter on the left columns of an inner or left join filters the left
//!   input; one on name-to-name keys filters both inputs); into every input of a concat.
//!
//! It stops at everything else: a sort or slice (which rows are "first" changes), a gather, a
//! window or aggregate in a `with_columns`/`select` (`x - x.mean()` depends on every row), an
//! all-scalar `select`, hoisted `AGGREGATES`, a scan with a limit. A filter
//! whose predicate is not elementwise (`x > x.mean()`) does not move at all.
//!
//! A conjunct that can fail at run time (a cast) never moves below another filter: merged into
//! one predicate it would be evaluated on rows the other filter drops, and could fail there.
//! For the same reason it passes a join only into a side whose every row the join keeps.

use std::sync::Arc;

use super::{OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::{BinaryOp, Expr};
use crate::plan::{JoinType, LogicalPlan};

/// Pushes filters down to and into the scans.
pub struct PredicatePushdown;

impl OptimizerRule for PredicatePushdown {
    fn name(&self) -> &'static str {
        "predicate_pushdown"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = rewrite(&plan)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// Push every movable filter in `plan` down as far as it goes.
fn rewrite(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    match plan.as_ref() {
        LogicalPlan::Filter { input, predicate } if predicate.is_elementwise() => {
            push_down(input, conjuncts(predicate))
        }
        _ => plan.map_inputs(rewrite),
    }
}

/// `e1 & e2 & ...` as its parts.
pub(crate) fn conjuncts(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::Binary {
            left,
            op: BinaryOp::And,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        other => vec![other.clone()],
    }
}

/// The conjuncts joined with `&` (`None` for none).
pub(crate) fn and_all(preds: Vec<Expr>) -> Option<Expr> {
    preds.into_iter().reduce(|a, b| a & b)
}

fn filter_on(input: Arc<LogicalPlan>, preds: Vec<Expr>) -> Arc<LogicalPlan> {
    match and_all(preds) {
        Some(predicate) => Arc::new(LogicalPlan::Filter { input, predicate }),
        None => input,
    }
}

/// True when evaluating `e` may raise an error on some rows (so it must not be evaluated on
/// rows an earlier filter would have removed).
fn can_fail(e: &Expr) -> bool {
    let mut fail = false;
    e.visit(&mut |n| fail |= matches!(n, Expr::Cast(..)));
    fail
}

/// A plan equal to `filter(node, preds...)`, with each conjunct as deep as it may go.
fn push_down(node: &Arc<LogicalPlan>, preds: Vec<Expr>) -> Result<Arc<LogicalPlan>> {
    match node.as_ref() {
        LogicalPlan::Filter { input, predicate } if predicate.is_elementwise() => {
            let (fallible, safe): (Vec<Expr>, Vec<Expr>) = preds.into_iter().partition(can_fail);
            let mut merged = conjuncts(predicate);
            merged.extend(safe);
            Ok(filter_on(push_down(input, merged)?, fallible))
        }
        LogicalPlan::Scan {
            source,
            projection,
            predicate,
            limit: None,
        } => {
            // Into an existing predicate, fallible conjuncts would meet rows it drops.
            let (stay, moved): (Vec<Expr>, Vec<Expr>) = match predicate {
                Some(_) => preds.into_iter().partition(can_fail),
                None => (vec![], preds),
            };
            let mut merged = predicate.as_ref().map(conjuncts).unwrap_or_default();
            merged.extend(moved);
            let scan = Arc::new(LogicalPlan::Scan {
                source: source.clone(),
                projection: projection.clone(),
                predicate: and_all(merged),
                limit: None,
            });
            Ok(filter_on(scan, stay))
        }
        LogicalPlan::WithColumns { input, exprs } if exprs.iter().all(Expr::is_elementwise) => {
            let defined: Vec<String> = exprs.iter().map(Expr::output_name).collect();
            let (down, stay): (Vec<Expr>, Vec<Expr>) = preds
                .into_iter()
                .partition(|p| p.columns_used().iter().all(|c| !defined.contains(c)));
            let below = push_down(input, down)?;
            Ok(filter_on(Arc::new(node.with_input(below)), stay))
        }
        LogicalPlan::Select { input, exprs }
            if exprs.iter().all(Expr::is_elementwise) && !exprs.iter().all(Expr::is_scalar) =>
        {
            let mut down = vec![];
            let mut stay = vec![];
            for p in preds {
                match renamed(&p, |c| select_source(exprs, c)) {
                    Some(q) => down.push(q),
                    None => stay.push(p),
                }
            }
            let below = push_down(input, down)?;
            Ok(filter_on(Arc::new(node.with_input(below)), stay))
        }
        LogicalPlan::GroupBy { input, keys, .. } => {
            let (mut down, mut stay) = (vec![], vec![]);
            for p in preds {
                match renamed(&p, |c| select_source(keys, c)) {
                    Some(q) => down.push(q),
                    None => stay.push(p),
                }
            }
            let below = push_down(input, down)?;
            Ok(filter_on(Arc::new(node.with_input(below)), stay))
        }
        LogicalPlan::Drop { input, .. } => {
            let below = push_down(input, preds)?;
            Ok(Arc::new(node.with_input(below)))
        }
        LogicalPlan::Rename {
            input,
            existing,
            new,
        } => {
            let back = |c: &str| -> Option<String> {
                Some(match new.iter().position(|n| n == c) {
                    Some(i) => existing[i].clone(),
                    None => c.to_string(),
                })
            };
            let (mut down, mut stay) = (vec![], vec![]);
            for p in preds {
                match renamed(&p, back) {
                    Some(q) => down.push(q),
                    None => stay.push(p),
                }
            }
            let below = push_down(input, down)?;
            Ok(filter_on(Arc::new(node.with_input(below)), stay))
        }
        LogicalPlan::Join {
            left,
            right,
            left_on,
            right_on,
            how,
        } => {
            let (to_left, to_right, stay) = split_at_join(node, preds)?;
            let join = LogicalPlan::Join {
                left: push_down(left, to_left)?,
                right: push_down(right, to_right)?,
                left_on: left_on.clone(),
                right_on: right_on.clone(),
                how: *how,
            };
            Ok(filter_on(Arc::new(join), stay))
        }
        // Every input's rows are output rows: filter each input.
        LogicalPlan::Concat { inputs } => {
            let inputs = inputs
                .iter()
                .map(|i| push_down(i, preds.clone()))
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(LogicalPlan::Concat { inputs }))
        }
        // A barrier: optimize below it, keep the filter here.
        _ => Ok(filter_on(rewrite(node)?, preds)),
    }
}

/// Which conjuncts above `join` may filter its left input, which its right input (both in
/// that input's column names), and which must stay above.
///
/// A conjunct reading only left columns filters the left input when every left row's
/// output rows are all dropped or all kept by it (inner, left, semi, anti and cross joins);
/// likewise on the right (inner, right and cross). A conjunct on keys paired by name-to-name
/// columns of one type (`left_on[i] = col(a)`, `right_on[i] = col(b)`) filters the right
/// input too, as `b`, in inner, left, semi and anti joins: a right row failing it can only
/// match left rows that fail it and are dropped anyway. (Not for float keys: `-0.0` matches
/// `0.0` but a predicate may tell them apart.)
fn split_at_join(
    join: &LogicalPlan,
    preds: Vec<Expr>,
) -> Result<(Vec<Expr>, Vec<Expr>, Vec<Expr>)> {
    let (
        LogicalPlan::Join {
            left_on,
            right_on,
            how,
            ..
        },
        Some((layout, ls, rs)),
    ) = (join, join.join_layout()?)
    else {
        return Ok((vec![], vec![], preds));
    };
    let left_ok = matches!(
        how,
        JoinType::Inner | JoinType::Left | JoinType::Semi | JoinType::Anti | JoinType::Cross
    );
    let right_ok = matches!(how, JoinType::Inner | JoinType::Right | JoinType::Cross);
    let keys_to_right = matches!(
        how,
        JoinType::Inner | JoinType::Left | JoinType::Semi | JoinType::Anti
    );
    // Left key column -> the right key column it is compared with.
    let paired: Vec<(String, String)> = left_on
        .iter()
        .zip(right_on)
        .filter_map(|(l, r)| match (l, r) {
            (Expr::Column(a), Expr::Column(b)) => {
                let lt = ls.field_with_name(a).ok()?.data_type();
                let rt = rs.field_with_name(b).ok()?.data_type();
                (lt == rt && !lt.is_floating()).then(|| (a.clone(), b.clone()))
            }
            _ => None,
        })
        .collect();
    let (mut to_left, mut to_right, mut stay) = (vec![], vec![], vec![]);
    for p in preds {
        // A conjunct that can fail only passes a join that keeps every row of that side.
        let fallible = can_fail(&p);
        let left_ok = left_ok && (!fallible || *how == JoinType::Left);
        let right_ok = right_ok && (!fallible || *how == JoinType::Right);
        let on_left = renamed(&p, |c| match layout.source_of(c, &ls, &rs)? {
            (false, name) => Some(name),
            (true, _) => None,
        });
        let on_right = renamed(&p, |c| match layout.source_of(c, &ls, &rs)? {
            (true, name) => Some(name),
            (false, _) => None,
        });
        match (on_left, on_right) {
            (Some(q), _) if left_ok => {
                if keys_to_right {
                    let via_keys = renamed(&q, |c| {
                        paired.iter().find(|(a, _)| a == c).map(|(_, b)| b.clone())
                    });
                    to_right.extend(via_keys);
                }
                to_left.push(q);
            }
            (_, Some(q)) if right_ok => to_right.push(q),
            _ => stay.push(p),
        }
    }
    Ok((to_left, to_right, stay))
}

/// The input column a `select` output (or grouping key) named `name` passes through, if it is
/// a plain column (possibly renamed).
fn select_source(exprs: &[Expr], name: &str) -> Option<String> {
    let e = exprs.iter().find(|e| e.output_name() == name)?;
    match e {
        Expr::Column(c) => Some(c.clone()),
        Expr::Alias(inner, _) => match inner.as_ref() {
            Expr::Column(c) => Some(c.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `e` with every column renamed by `map`, or `None` if some column has no mapping.
fn renamed(e: &Expr, map: impl Fn(&str) -> Option<String>) -> Option<Expr> {
    let mut ok = true;
    let out = e.clone().transform_up(&mut |n| match n {
        Expr::Column(c) => match map(&c) {
            Some(to) => Expr::Column(to),
            None => {
                ok = false;
                Expr::Column(c)
            }
        },
        other => other,
    });
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show, sorted_parquet};
    use crate::prelude::*;

    #[test]
    fn filters_merge_and_reach_the_scan() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path)
            .with_columns([(col("x") * 2).alias("x2")])
            .filter(col("id").lt(15))
            .select([col("x2"), col("g").alias("group")])
            .filter(col("group").eq(1) & col("x2").gt(3.0));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, Some(&dir)), @r#"
            FILTER (col("group").eq(1) & col("x2").gt(3.0))
              SELECT [col("x2"), col("g").alias("group")]
                FILTER col("id").lt(15)
                  WITH_COLUMNS [(col("x") * 2).alias("x2")]
                    SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            SELECT [col("x2"), col("g").alias("group")]
              FILTER col("x2").gt(3.0)
                WITH_COLUMNS [(col("x") * 2).alias("x2")]
                  SCAN PARQUET path=TMP/t.parquet columns=* predicate=(col("id").lt(15) & col("g").eq(1)) row_groups=2/4
            "#);
    }

    #[test]
    fn parquet_row_groups_are_pruned_and_shown() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path).filter(col("id").ge(12) & col("id").lt(18));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, Some(&dir)), @r#"
            FILTER (col("id").ge(12) & col("id").lt(18))
              SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            SCAN PARQUET path=TMP/t.parquet columns=* predicate=(col("id").ge(12) & col("id").lt(18)) row_groups=1/4
            "#);
        // And only that row group is read.
        let source = crate::io::ScanSource::new(&path, crate::io::FileFormat::Parquet);
        let pred = col("id").ge(12) & col("id").lt(18);
        let morsels = source.open(None, Some(&pred), None).unwrap();
        assert_eq!(morsels.num_morsels(), 1);
        assert_eq!(morsels.morsel(0).unwrap().height(), 10);
        let df = lf.collect().unwrap();
        assert_eq!(df.column_f64("id").unwrap()[0], Some(12.0));
        assert_eq!(df.height(), 6);
    }

    #[test]
    fn through_rename_and_drop() {
        let lf = frame()
            .lazy()
            .drop(["s"])
            .rename(["a"], ["alpha"])
            .filter(col("alpha").gt(0.0));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER col("alpha").gt(0.0)
              RENAME [a -> alpha]
                DROP [s]
                  DATAFRAME rows=4 width=4
            =>
            RENAME [a -> alpha]
              DROP [s]
                FILTER col("a").gt(0.0)
                  DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn stops_at_a_with_columns_that_defines_what_it_reads() {
        let lf = frame()
            .lazy()
            .with_columns([(col("a") + 1).alias("a"), (col("b") * 2).alias("b2")])
            .filter(col("a").gt(0.0) & col("c").gt(1) & col("b2").lt(3.0));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER ((col("a").gt(0.0) & col("c").gt(1)) & col("b2").lt(3.0))
              WITH_COLUMNS [(col("a") + 1).alias("a"), (col("b") * 2).alias("b2")]
                DATAFRAME rows=4 width=4
            =>
            FILTER (col("a").gt(0.0) & col("b2").lt(3.0))
              WITH_COLUMNS [(col("a") + 1).alias("a"), (col("b") * 2).alias("b2")]
                FILTER col("c").gt(1)
                  DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn stops_at_windows_aggregates_sorts_and_slices() {
        let lf = frame()
            .lazy()
            .sort("c", SortOptions::default())
            .filter(col("c").gt(1))
            .head(3)
            .filter(col("c").gt(1))
            .with_columns([(col("a") - col("a").mean()).alias("d")])
            .filter(col("c").gt(1));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER col("c").gt(1)
              WITH_COLUMNS [(col("a") - col("a").mean()).alias("d")]
                FILTER col("c").gt(1)
                  SLICE offset=0 len=3
                    FILTER col("c").gt(1)
                      SORT by=[col("c")]
                        DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn a_filter_stays_above_a_rolling_window_and_an_arg_sort() {
        let lf = frame()
            .lazy()
            .with_columns([col("a").rolling_mean(2).alias("r")])
            .filter(col("c").gt(1))
            .select([
                col("c"),
                col("b").arg_sort(SortOptions::default()).alias("o"),
            ])
            .filter(col("c").lt(4));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER col("c").lt(4)
              SELECT [col("c"), col("b").arg_sort(SortOptions::new()).alias("o")]
                FILTER col("c").gt(1)
                  WITH_COLUMNS [col("a").rolling_mean(2).alias("r")]
                    DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn a_non_elementwise_predicate_stays() {
        let lf = frame()
            .lazy()
            .with_columns([(col("b") * 2).alias("b2")])
            .filter(col("a").gt(col("a").nan_mean()));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER col("a").gt(col("a").nan_mean())
              WITH_COLUMNS [(col("b") * 2).alias("b2")]
                DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn a_cast_stays_above_another_filter() {
        let lf = frame()
            .lazy()
            .filter(col("c").gt(2))
            .filter(col("s").cast(DataType::Int64).gt(0) & col("a").gt(0.0));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER (col("s").cast(Int64).gt(0) & col("a").gt(0.0))
              FILTER col("c").gt(2)
                DATAFRAME rows=4 width=4
            =>
            FILTER col("s").cast(Int64).gt(0)
              FILTER (col("c").gt(2) & col("a").gt(0.0))
                DATAFRAME rows=4 width=4
            "#);
    }

    fn other() -> LazyFrame {
        df!("c" => [1i64, 2, 3], "y" => [0.5, 1.5, 2.5], "a" => [1.0, 2.0, 3.0])
            .unwrap()
            .lazy()
    }

    #[test]
    fn into_the_join_side_that_owns_the_columns_and_keys_into_both() {
        let lf = frame()
            .lazy()
            .join(other(), [col("c")], [col("c")], JoinType::Inner)
            .filter(
                col("a").gt(0.0)
                    & col("y").lt(2.0)
                    & col("c").gt(1)
                    & (col("a") + col("y")).gt(1.0)
                    & col("a_right").gt(1.0),
            );
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER ((((col("a").gt(0.0) & col("y").lt(2.0)) & col("c").gt(1)) & (col("a") + col("y")).gt(1.0)) & col("a_right").gt(1.0))
              JOIN type=inner left_on=[col("c")] right_on=[col("c")]
                DATAFRAME rows=4 width=4
                DATAFRAME rows=3 width=3
            =>
            FILTER (col("a") + col("y")).gt(1.0)
              JOIN type=inner left_on=[col("c")] right_on=[col("c")]
                FILTER (col("a").gt(0.0) & col("c").gt(1))
                  DATAFRAME rows=4 width=4
                FILTER ((col("y").lt(2.0) & col("c").gt(1)) & col("a").gt(1.0))
                  DATAFRAME rows=3 width=3
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn a_left_join_keeps_filters_on_its_right_columns_above() {
        let lf = frame()
            .lazy()
            .join(other(), [col("c")], [col("c")], JoinType::Left)
            .filter(col("y").lt(2.0) & col("c").gt(1) & col("s").neq("x"));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER ((col("y").lt(2.0) & col("c").gt(1)) & col("s").neq("x"))
              JOIN type=left left_on=[col("c")] right_on=[col("c")]
                DATAFRAME rows=4 width=4
                DATAFRAME rows=3 width=3
            =>
            FILTER col("y").lt(2.0)
              JOIN type=left left_on=[col("c")] right_on=[col("c")]
                FILTER (col("c").gt(1) & col("s").neq("x"))
                  DATAFRAME rows=4 width=4
                FILTER col("c").gt(1)
                  DATAFRAME rows=3 width=3
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
        // A full join keeps every filter above; a concat filters each input.
        let lf = frame()
            .lazy()
            .join(other(), [col("c")], [col("c")], JoinType::Full)
            .filter(col("a").gt(0.0));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER col("a").gt(0.0)
              JOIN type=full left_on=[col("c")] right_on=[col("c")]
                DATAFRAME rows=4 width=4
                DATAFRAME rows=3 width=3
            => unchanged
            "#);
        let lf = concat([frame().lazy(), frame().lazy()]).filter(col("c").gt(2));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER col("c").gt(2)
              CONCAT inputs=2
                DATAFRAME rows=4 width=4
                DATAFRAME rows=4 width=4
            =>
            CONCAT inputs=2
              FILTER col("c").gt(2)
                DATAFRAME rows=4 width=4
              FILTER col("c").gt(2)
                DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn filters_on_keys_go_below_a_grouping() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path)
            .group_by([col("g"), (col("id") % 2).alias("odd")])
            .agg([col("x").sum()])
            .filter(col("g").gt(0) & col("x").gt(10.0) & col("odd").eq(1));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, Some(&dir)), @r#"
            FILTER ((col("g").gt(0) & col("x").gt(10.0)) & col("odd").eq(1))
              GROUP_BY keys=[col("g"), (col("id") % 2).alias("odd")] aggs=[col("x").sum()]
                SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            FILTER (col("x").gt(10.0) & col("odd").eq(1))
              GROUP_BY keys=[col("g"), (col("id") % 2).alias("odd")] aggs=[col("x").sum()]
                SCAN PARQUET path=TMP/t.parquet columns=* predicate=col("g").gt(0) row_groups=4/4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
        let lf = frame()
            .lazy()
            .unique_subset(["c"])
            .filter(col("c").gt(2) & col("a").gt(0.0));
        insta::assert_snapshot!(show(&PredicatePushdown, &lf, None), @r#"
            FILTER (col("c").gt(2) & col("a").gt(0.0))
              UNIQUE keys=[col("c")]
                DATAFRAME rows=4 width=4
            =>
            FILTER col("a").gt(0.0)
              UNIQUE keys=[col("c")]
                FILTER col("c").gt(2)
                  DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }
}
