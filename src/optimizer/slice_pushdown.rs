//! Slice pushdown: move `head` / `slice` / `tail` below nodes that keep every row in place, so
//! they run on the rows kept only, and hand the scan a limit so its reader can stop early.
//!
//! A slice passes elementwise `select` / `with_columns`, `drop` and `rename` (the i-th output
//! row comes from the i-th input row), and two slices merge into one. It reaches a scan as
//! `limit=offset+len` (for a non-negative offset), while the `SLICE` itself stays on top to cut
//! the exact rows: the Parquet reader then decodes only the row groups, and the rows within
//! the last one, that cover the limit.
//!
//! Into joins and concats it moves as a bound, not as the slice itself: the first `n` rows of a
//! left (or cross) join come from the first `n` left rows at most, so the left input is cut to
//! those, and the slice stays on top (right joins mirror this); each input of a concat is cut
//! likewise. Inner, semi, anti and full joins drop or add rows unpredictably: a slice stops
//! there.
//!
//! It never moves below a filter (the first ten rows after filtering are not the filtered first
//! ten rows), a sort, a gather, a window or aggregate (they read every row), an all-scalar
//! `select` (which has one row whatever its input), hoisted `AGGREGATES`, a grouping (the first
//! ten groups need every row: a group's aggregate reads all its rows, and a later row may
//! belong to an early group).

use std::sync::Arc;

use super::{OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::{JoinType, LogicalPlan};

/// Moves slices down and limits scans.
pub struct SlicePushdown;

impl OptimizerRule for SlicePushdown {
    fn name(&self) -> &'static str {
        "slice_pushdown"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = rewrite(&plan);
        Ok(Transformed::compare(&plan, after))
    }
}

fn rewrite(plan: &Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    match plan.as_ref() {
        LogicalPlan::Slice { input, offset, len } => push(&rewrite(input), *offset, *len),
        _ => {
            let inputs = plan.inputs().into_iter().map(rewrite).collect();
            Arc::new(plan.with_inputs(inputs))
        }
    }
}

/// True when the node's i-th output row is computed from its i-th input row alone.
fn row_preserving(node: &LogicalPlan) -> bool {
    match node {
        LogicalPlan::Select { exprs, .. } => {
            exprs.iter().all(Expr::is_elementwise) && !exprs.iter().all(Expr::is_scalar)
        }
        LogicalPlan::WithColumns { exprs, .. } => exprs.iter().all(Expr::is_elementwise),
        LogicalPlan::Drop { .. } | LogicalPlan::Rename { .. } => true,
        _ => false,
    }
}

/// A plan equal to `slice(node, offset, len)`, with the slice as low as it may go.
fn push(node: &Arc<LogicalPlan>, offset: i64, len: usize) -> Arc<LogicalPlan> {
    let slice = |input: Arc<LogicalPlan>| Arc::new(LogicalPlan::Slice { input, offset, len });
    // The rows an input feeding this slice row by row must keep at most: the first
    // `offset + len`, or for a negative offset the last `-offset`.
    let bound = if offset >= 0 {
        (0, (offset as usize).saturating_add(len))
    } else {
        (offset, offset.unsigned_abs() as usize)
    };
    match node.as_ref() {
        n if row_preserving(n) => match n.inputs().first() {
            Some(input) => Arc::new(n.with_input(push(input, offset, len))),
            None => slice(node.clone()),
        },
        // The same slice twice (a bound pushed on an earlier pass).
        LogicalPlan::Slice {
            offset: o2,
            len: l2,
            ..
        } if *o2 == offset && *l2 == len => node.clone(),
        // Rows o2.. of the input, then rows offset.. of those.
        LogicalPlan::Slice {
            input,
            offset: o2,
            len: l2,
        } if offset >= 0 && *o2 >= 0 => {
            let skip = offset as usize;
            push(input, o2 + offset, len.min(l2.saturating_sub(skip)))
        }
        LogicalPlan::Scan {
            source,
            projection,
            predicate,
            limit,
        } if offset >= 0 => {
            let need = (offset as usize).saturating_add(len);
            let scan = LogicalPlan::Scan {
                source: source.clone(),
                projection: projection.clone(),
                predicate: predicate.clone(),
                limit: Some(limit.map_or(need, |l| l.min(need))),
            };
            slice(Arc::new(scan))
        }
        // Each left row of a left or cross join gives one output row or more, in order, so
        // the first (last) `n` output rows come from the first (last) `n` left rows at most;
        // the right join mirrors it. The slice stays on top to cut the exact rows.
        LogicalPlan::Join {
            left, right, how, ..
        } if matches!(how, JoinType::Left | JoinType::Cross | JoinType::Right) => {
            let (side, rest) = if *how == JoinType::Right {
                (right, left)
            } else {
                (left, right)
            };
            let limited = push(side, bound.0, bound.1);
            let inputs = if *how == JoinType::Right {
                vec![rest.clone(), limited]
            } else {
                vec![limited, rest.clone()]
            };
            slice(Arc::new(node.with_inputs(inputs)))
        }
        // Every input gives its rows in order: none needs more than the slice's bound.
        LogicalPlan::Concat { inputs } => {
            let inputs = inputs.iter().map(|i| push(i, bound.0, bound.1)).collect();
            slice(Arc::new(LogicalPlan::Concat { inputs }))
        }
        _ => slice(node.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show, sorted_parquet};
    use crate::prelude::*;

    #[test]
    fn head_reaches_the_scan_as_a_limit() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path)
            .with_columns([(col("x") * 2).alias("x2")])
            .select([col("id"), col("x2")])
            .head(5);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, Some(&dir)), @r#"
            SLICE offset=0 len=5
              SELECT [col("id"), col("x2")]
                WITH_COLUMNS [(col("x") * 2).alias("x2")]
                  SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            SELECT [col("id"), col("x2")]
              WITH_COLUMNS [(col("x") * 2).alias("x2")]
                SLICE offset=0 len=5
                  SCAN PARQUET path=TMP/t.parquet columns=* limit=5
            "#);
        let df = lf.collect().unwrap();
        assert_eq!(df.column_f64("x2").unwrap()[4], Some(4.0));
    }

    #[test]
    fn a_slice_stays_above_a_rolling_window() {
        let lf = frame()
            .lazy()
            .with_columns([col("a").rolling_mean(2).alias("r")])
            .tail(2);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, None), @r#"
            SLICE offset=-2 len=2
              WITH_COLUMNS [col("a").rolling_mean(2).alias("r")]
                DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn slices_merge() {
        let lf = frame().lazy().slice(1, 10).slice(1, 2).tail(1);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, None), @r#"
            SLICE offset=-1 len=1
              SLICE offset=1 len=2
                SLICE offset=1 len=10
                  DATAFRAME rows=4 width=4
            =>
            SLICE offset=-1 len=1
              SLICE offset=2 len=2
                DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn limit_counts_rows_after_the_scan_predicate() {
        let (dir, path) = sorted_parquet();
        let lf = LazyFrame::from_plan(LogicalPlan::Scan {
            source: Arc::new(crate::io::ScanSource::new(
                &path,
                crate::io::FileFormat::Parquet,
            )),
            projection: None,
            predicate: Some(col("g").eq(2)),
            limit: None,
        })
        .slice(2, 3);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, Some(&dir)), @r#"
            SLICE offset=2 len=3
              SCAN PARQUET path=TMP/t.parquet columns=* predicate=col("g").eq(2) row_groups=4/4
            =>
            SLICE offset=2 len=3
              SCAN PARQUET path=TMP/t.parquet columns=* predicate=col("g").eq(2) limit=5 row_groups=4/4
            "#);
        let df = lf.collect().unwrap();
        assert_eq!(
            df.column_f64("id").unwrap(),
            vec![Some(8.0), Some(11.0), Some(14.0)]
        );
    }

    #[test]
    fn does_not_move_below_filters_sorts_windows_or_aggregates() {
        let lf = frame()
            .lazy()
            .filter(col("c").gt(1))
            .head(2)
            .sort("a", SortOptions::default())
            .head(2)
            .with_columns([(col("a") - col("a").mean()).alias("d")])
            .head(2)
            .select([col("a").sum()])
            .head(1);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, None), @r#"
            SLICE offset=0 len=1
              SELECT [col("a").sum()]
                SLICE offset=0 len=2
                  WITH_COLUMNS [(col("a") - col("a").mean()).alias("d")]
                    SLICE offset=0 len=2
                      SORT by=[col("a")]
                        SLICE offset=0 len=2
                          FILTER col("c").gt(1)
                            DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn left_joins_and_concats_bound_their_inputs_inner_joins_stop_it() {
        let (dir, path) = sorted_parquet();
        let other = || frame().lazy();
        let lf = scan_parquet(&path)
            .join(other(), [col("id")], [col("c")], JoinType::Left)
            .head(3);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, Some(&dir)), @r#"
            SLICE offset=0 len=3
              JOIN type=left left_on=[col("id")] right_on=[col("c")]
                SCAN PARQUET path=TMP/t.parquet columns=*
                DATAFRAME rows=4 width=4
            =>
            SLICE offset=0 len=3
              JOIN type=left left_on=[col("id")] right_on=[col("c")]
                SLICE offset=0 len=3
                  SCAN PARQUET path=TMP/t.parquet columns=* limit=3
                DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
        let lf = scan_parquet(&path)
            .join(other(), [col("id")], [col("c")], JoinType::Inner)
            .tail(2);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, Some(&dir)), @r#"
            SLICE offset=-2 len=2
              JOIN type=inner left_on=[col("id")] right_on=[col("c")]
                SCAN PARQUET path=TMP/t.parquet columns=*
                DATAFRAME rows=4 width=4
            => unchanged
            "#);
        let lf = concat([other(), other()]).tail(2);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, None), @r#"
            SLICE offset=-2 len=2
              CONCAT inputs=2
                DATAFRAME rows=4 width=4
                DATAFRAME rows=4 width=4
            =>
            SLICE offset=-2 len=2
              CONCAT inputs=2
                SLICE offset=-2 len=2
                  DATAFRAME rows=4 width=4
                SLICE offset=-2 len=2
                  DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn a_slice_stays_above_a_grouping() {
        let lf = frame()
            .lazy()
            .group_by([col("c")])
            .agg([col("a").sum()])
            .head(2);
        insta::assert_snapshot!(show(&SlicePushdown, &lf, None), @r#"
            SLICE offset=0 len=2
              GROUP_BY keys=[col("c")] aggs=[col("a").sum()]
                DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }
}
