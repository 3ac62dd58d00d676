//! Shared subplans: which parts of a plan are computed once for every place that holds them.
//!
//! A query that uses one intermediate result twice (TPC-H's Q15: the revenue per supplier,
//! joined with the suppliers and also reduced to its maximum) is, as a plan, a tree holding
//! two equal subtrees. Lowering (`lower.rs`) lowers such a subtree once, as a
//! [`PhysicalNode::Shared`] node every place holds; the executor runs it at its first use and
//! hands the same frame to the others (`exec::shared`), so the output is exactly what running
//! it twice would give, for any thread count.
//!
//! [`PhysicalNode::Shared`]: super::PhysicalNode::Shared

use std::collections::{HashMap, HashSet};

use crate::plan::LogicalPlan;

/// The text of every grouping that appears more than once in `plan`, over scans only: a
/// grouping is a pipeline breaker whose output is far smaller than its input, so keeping its
/// frame for the second use costs little and saves reading and grouping the input again.
/// Plan text names a scan's file, columns and predicate, so equal text is an equal result;
/// a frame in memory is only its shape in plan text, so subplans over one are left alone.
pub(super) fn repeated_subplans(plan: &LogicalPlan) -> HashSet<String> {
    fn over_scans(p: &LogicalPlan) -> bool {
        !matches!(p, LogicalPlan::InMemory { .. }) && p.inputs().into_iter().all(|i| over_scans(i))
    }
    fn count(p: &LogicalPlan, seen: &mut HashMap<String, usize>) {
        if matches!(p, LogicalPlan::GroupBy { .. }) && over_scans(p) {
            let n = seen.entry(p.display_indent()).or_default();
            *n += 1;
            if *n > 1 {
                // Its inputs are counted once, with the first copy.
                return;
            }
        }
        for i in p.inputs() {
            count(i, seen);
        }
    }
    let mut seen = HashMap::new();
    count(plan, &mut seen);
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(t, _)| t)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::optimizer::test_util::sorted_parquet;
    use crate::prelude::*;

    #[test]
    fn a_grouping_used_twice_runs_once_and_gives_the_same_frame() {
        let (dir, path) = sorted_parquet();
        let revenue = scan_parquet(&path)
            .filter(col("id").lt(35))
            .group_by([col("g")])
            .agg([col("x").sum().alias("s")]);
        let top = revenue.clone().select([col("s").max().alias("m")]);
        let lf = revenue
            .clone()
            .join(top, [col("s")], [col("m")], JoinType::Semi);
        let text = lf
            .explain_physical()
            .unwrap()
            .replace(&dir.path().display().to_string(), "TMP");
        insta::assert_snapshot!(text, @r#"
        PIPELINE
          PROBE #0 type=semi left_on=[col("s")] right_on=[col("m")] build=right
          SHARED #0 uses=2
            GROUP_BY keys=[col("g")] aggs=[__agg0 = col("x").sum()] -> [col("__key0").alias("g"), col("__agg0").alias("s")]
              PIPELINE
                FILTER col("id").lt(35) keep=[x, g]
                SCAN PARQUET path=TMP/t.parquet columns=[x, g, id] predicate=col("id").lt(35) row_groups=4/4
          BUILD #0 keys=[col("m")]
            AGGREGATE [$agg0 = col("s").max()] -> [$agg0.alias("m")]
              PIPELINE
                SHARED #0 uses=2
                  GROUP_BY keys=[col("g")] aggs=[__agg0 = col("x").sum()] -> [col("__key0").alias("g"), col("__agg0").alias("s")]
                    PIPELINE
                      FILTER col("id").lt(35) keep=[x, g]
                      SCAN PARQUET path=TMP/t.parquet columns=[x, g, id] predicate=col("id").lt(35) row_groups=4/4
        "#);
        // The same query over the grouping computed beforehand (a frame: never shared).
        let held = revenue.collect().unwrap().lazy();
        let want = held
            .clone()
            .join(
                held.select([col("s").max().alias("m")]),
                [col("s")],
                [col("m")],
                JoinType::Semi,
            )
            .collect()
            .unwrap();
        for threads in [1, 2] {
            let got = lf
                .clone()
                .collect_with(&ExecOptions::new().threads(threads))
                .unwrap();
            assert_eq!(got, want);
        }
        // Small budgets (the grouping spills) give the same rows. (The frame here is tiny, so
        // the path that does not keep it for want of room is not reached by this test.)
        for limit in [1 << 14, 1 << 16, 1 << 20] {
            let got = lf
                .clone()
                .collect_with(&ExecOptions::new().threads(2).memory_limit(limit))
                .unwrap_or_else(|e| panic!("limit {limit}: {e}"));
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[test]
    fn not_over_frames_in_memory_nor_for_one_use() {
        let (_dir, path) = sorted_parquet();
        let df = DataFrame::new(vec![
            Column::new("g", vec![1i64, 1, 2]),
            Column::new("x", vec![1.0, 2.0, 3.0]),
        ])
        .unwrap();
        // Two frames of one shape read the same in plan text: never taken for one another.
        let a = df.clone().lazy().group_by([col("g")]).agg([col("x").sum()]);
        let other = DataFrame::new(vec![
            Column::new("g", vec![1i64, 2, 2]),
            Column::new("x", vec![5.0, 6.0, 7.0]),
        ])
        .unwrap();
        let b = other.lazy().group_by([col("g")]).agg([col("x").sum()]);
        let lf = a.join(b, [col("g")], [col("g")], JoinType::Inner);
        assert!(!lf.explain_physical().unwrap().contains("SHARED"));
        let got = lf.collect().unwrap();
        assert_eq!(got.height(), 2);
        // One grouping of a file, used once.
        let once = scan_parquet(&path)
            .group_by([col("g")])
            .agg([col("x").sum()]);
        assert!(!once.explain_physical().unwrap().contains("SHARED"));
    }
}
