//! Shared subplans: which parts of a plan are computed once for every place that holds them.
//!
//! A query that uses one intermediate result twice (TPC-H's Q15: the revenue per supplier,
//! joined with the suppliers and also reduced to its maximum) is, as a plan, a tree holding
//! two equal subtrees. Lowering (`lower.rs`) lowers such a subtree once, as a
//! [`PhysicalNode::Shared`] node every place holds; the executor runs it at its first use and
//! hands the same frame to the others (`exec::shared`), so the output is exactly what running
//! it twice would give, for any thread count.
//!
//! Two kinds of subtree are worth it: groupings (a pipeline breaker whose output is far
//! smaller than its input) and joins estimated to keep a small part of their source
//! ([`kept_fraction`]: TPC-H's Q17 semi joins line items with 0.1% of the parts and uses the
//! result twice, Q21 after `semi_join_reduction` three times): keeping the few rows costs
//! little and saves reading and joining the source again. Copies of a join often differ only
//! in the columns their scans read (projection pushdown prunes each copy for its own use):
//! [`widen_repeated_joins`] makes every copy read the columns all of them read, under a
//! projection to its own columns, so that the copies become equal.
//!
//! [`PhysicalNode::Shared`]: super::PhysicalNode::Shared

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::estimate::kept_fraction;
use crate::error::Result;
use crate::expr::col;
use crate::plan::LogicalPlan;

/// The most of its source a join may keep to be computed once for several uses (its frame is
/// kept in memory between them).
const SMALL_JOIN: f64 = 0.25;

/// Whether `plan` reads scans only (no frame in memory: a frame is only its shape in plan
/// text, so two equal texts over frames may be different data).
fn over_scans(p: &LogicalPlan) -> bool {
    !matches!(p, LogicalPlan::InMemory { .. }) && p.inputs().into_iter().all(|i| over_scans(i))
}

/// Whether `plan`, held more than once, is computed once: a grouping, or a join estimated to
/// keep a small part of its source, over scans.
pub(super) fn worth_sharing(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::GroupBy { .. } => over_scans(plan),
        LogicalPlan::Join { .. } => {
            kept_fraction(plan).is_some_and(|f| f <= SMALL_JOIN) && over_scans(plan)
        }
        _ => false,
    }
}

/// The text of every subplan [`worth_sharing`] that appears more than once in `plan`. Plan
/// text names a scan's file, columns and predicate, so equal text is an equal result.
pub(super) fn repeated_subplans(plan: &LogicalPlan) -> HashSet<String> {
    fn count(p: &LogicalPlan, seen: &mut HashMap<String, usize>) {
        if worth_sharing(p) {
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

/// `plan` with every scan reading all its columns: equal for copies of a subplan that differ
/// only in the columns their scans read.
fn unpruned(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    if let LogicalPlan::Scan {
        source,
        projection: Some(_),
        predicate,
        limit,
    } = plan.as_ref()
    {
        return Ok(Arc::new(LogicalPlan::Scan {
            source: source.clone(),
            projection: None,
            predicate: predicate.clone(),
            limit: *limit,
        }));
    }
    plan.map_inputs(unpruned)
}

/// `a` and `b` (equal but for the columns their scans read) as one plan whose every scan reads
/// the columns either reads (`a`'s first, in `a`'s order).
fn merged(a: &Arc<LogicalPlan>, b: &Arc<LogicalPlan>) -> Arc<LogicalPlan> {
    if let (
        LogicalPlan::Scan {
            source,
            projection: pa,
            predicate,
            limit,
        },
        LogicalPlan::Scan { projection: pb, .. },
    ) = (a.as_ref(), b.as_ref())
    {
        let projection = match (pa, pb) {
            (Some(pa), Some(pb)) => {
                let mut cols = pa.clone();
                cols.extend(pb.iter().filter(|c| !pa.contains(c)).cloned());
                Some(cols)
            }
            _ => None,
        };
        return Arc::new(LogicalPlan::Scan {
            source: source.clone(),
            projection,
            predicate: predicate.clone(),
            limit: *limit,
        });
    }
    let inputs = a
        .inputs()
        .into_iter()
        .zip(b.inputs())
        .map(|(x, y)| merged(x, y))
        .collect();
    Arc::new(a.with_inputs(inputs))
}

/// Whether every join of `wide` has the same column names on both sides as the join at
/// its place in `copy`: reading more columns then renamed nothing (a clash would suffix the
/// right side's column with `_right`), so `copy`'s columns are `wide`'s of the same names.
fn same_clashes(copy: &LogicalPlan, wide: &LogicalPlan) -> Result<bool> {
    if let (
        LogicalPlan::Join {
            left: cl,
            right: cr,
            ..
        },
        LogicalPlan::Join {
            left: wl,
            right: wr,
            ..
        },
    ) = (copy, wide)
    {
        let both = |l: &LogicalPlan, r: &LogicalPlan| -> Result<HashSet<String>> {
            let r = r.schema()?;
            Ok(l.schema()?
                .fields()
                .iter()
                .filter(|f| r.field_with_name(f.name()).is_ok())
                .map(|f| f.name().clone())
                .collect())
        };
        if both(cl, cr)? != both(wl, wr)? {
            return Ok(false);
        }
    }
    for (c, w) in copy.inputs().into_iter().zip(wide.inputs()) {
        if !same_clashes(c, w)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `plan` with the copies of every join [`worth_sharing`] that appears more than once, up to
/// the columns its scans read, replaced by one widened plan (every scan reading the columns
/// any copy reads) under a projection to the copy's own columns: the copies' plan text is
/// then equal and [`repeated_subplans`] finds them. Copies whose widening would rename a
/// column (a new name clash in a join) are left as they are.
pub(super) fn widen_repeated_joins(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    fn collect(
        p: &Arc<LogicalPlan>,
        copies: &mut HashMap<String, Vec<Arc<LogicalPlan>>>,
    ) -> Result<()> {
        if matches!(p.as_ref(), LogicalPlan::Join { .. }) && worth_sharing(p) {
            let key = unpruned(p)?.display_indent();
            copies.entry(key).or_default().push(p.clone());
        }
        for i in p.inputs() {
            collect(i, copies)?;
        }
        Ok(())
    }
    let mut copies = HashMap::new();
    collect(plan, &mut copies)?;
    let mut wide: HashMap<String, Arc<LogicalPlan>> = HashMap::new();
    for (key, group) in copies {
        let Some((first, rest)) = group.split_first() else {
            continue;
        };
        if rest.is_empty()
            || rest
                .iter()
                .all(|c| c.display_indent() == first.display_indent())
        {
            continue;
        }
        let w = rest.iter().fold(first.clone(), |w, c| merged(&w, c));
        let mut fits = true;
        for c in &group {
            fits &= same_clashes(c, &w)?;
        }
        if fits {
            wide.insert(key, w);
        }
    }
    if wide.is_empty() {
        return Ok(plan.clone());
    }
    fn replace(
        p: &Arc<LogicalPlan>,
        wide: &HashMap<String, Arc<LogicalPlan>>,
    ) -> Result<Arc<LogicalPlan>> {
        if matches!(p.as_ref(), LogicalPlan::Join { .. }) {
            if let Some(w) = wide.get(&unpruned(p)?.display_indent()) {
                let (own, all) = (p.schema()?, w.schema()?);
                if own == all {
                    return Ok(w.clone());
                }
                return Ok(Arc::new(LogicalPlan::Select {
                    input: w.clone(),
                    exprs: own.fields().iter().map(|f| col(f.name())).collect(),
                }));
            }
        }
        p.map_inputs(|i| replace(i, wide))
    }
    replace(plan, &wide)
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

    /// Q17's shape: rows of a file semi joined with a few keys (a reduced join), grouped
    /// for a limit per key, and joined with that limit; the two copies of the reduced join
    /// read different columns (the grouping needs fewer).
    fn reduced_twice(path: &std::path::Path, keys: &std::path::Path) -> LazyFrame {
        let items = scan_parquet(path).join(
            scan_parquet(keys).filter(col("name").eq("b")),
            [col("g")],
            [col("k")],
            JoinType::Semi,
        );
        let limits = items
            .clone()
            .group_by([col("g")])
            .agg([(col("x").mean() * 0.9).alias("limit")]);
        items
            .join(limits, [col("g")], [col("g")], JoinType::Inner)
            .filter(col("x").lt(col("limit")))
            .select([col("id").sum().alias("ids"), len().alias("n")])
    }

    #[test]
    fn a_reduced_join_used_twice_is_widened_and_runs_once() {
        let (dir, path) = sorted_parquet();
        let keys = dir.path().join("keys.parquet");
        let df = DataFrame::new(vec![
            Column::new("k", vec![0i64, 1, 2, 3]),
            Column::new("name", vec!["a", "b", "b", "c"]),
        ])
        .unwrap();
        let mut f = std::fs::File::create(&keys).unwrap();
        crate::io::parquet::write_with_row_groups(&df, &mut f, 2).unwrap();
        let lf = reduced_twice(&path, &keys);
        let text = lf
            .explain_physical()
            .unwrap()
            .replace(&dir.path().display().to_string(), "TMP");
        insta::assert_snapshot!(text, @r#"
        AGGREGATE [$agg0 = col("id").sum(), $agg1 = len()] -> [$agg0.alias("ids"), $agg1.alias("n")]
          PIPELINE
            FILTER col("x").lt(col("limit"))
            PROBE #1 type=inner left_on=[col("g")] right_on=[col("g")] build=right
            SHARED #0 uses=2
              PIPELINE
                PROBE #0 type=semi left_on=[col("g")] right_on=[col("k")] build=right
                SCAN PARQUET path=TMP/t.parquet columns=[id, x, g]
                BUILD #0 keys=[col("k")]
                  PIPELINE
                    FILTER col("name").eq("b") keep=[k]
                    SCAN PARQUET path=TMP/keys.parquet columns=[k, name] predicate=col("name").eq("b") row_groups=2/2
            BUILD #1 keys=[col("g")]
              GROUP_BY keys=[col("g")] aggs=[__agg0 = col("x").mean()] -> [col("__key0").alias("g"), (col("__agg0") * 0.9).alias("limit")]
                PIPELINE
                  SELECT [col("x"), col("g")]
                  SHARED #0 uses=2
                    PIPELINE
                      PROBE #0 type=semi left_on=[col("g")] right_on=[col("k")] build=right
                      SCAN PARQUET path=TMP/t.parquet columns=[id, x, g]
                      BUILD #0 keys=[col("k")]
                        PIPELINE
                          FILTER col("name").eq("b") keep=[k]
                          SCAN PARQUET path=TMP/keys.parquet columns=[k, name] predicate=col("name").eq("b") row_groups=2/2
        "#);
        // The same query over the reduced join computed beforehand (a frame: never shared).
        let held = scan_parquet(&path)
            .join(
                scan_parquet(&keys).filter(col("name").eq("b")),
                [col("g")],
                [col("k")],
                JoinType::Semi,
            )
            .collect()
            .unwrap()
            .lazy();
        let limits = held
            .clone()
            .group_by([col("g")])
            .agg([(col("x").mean() * 0.9).alias("limit")]);
        let want = held
            .join(limits, [col("g")], [col("g")], JoinType::Inner)
            .filter(col("x").lt(col("limit")))
            .select([col("id").sum().alias("ids"), len().alias("n")])
            .collect()
            .unwrap();
        assert!(want.height() == 1);
        for threads in [1, 2] {
            let got = lf
                .clone()
                .collect_with(&ExecOptions::new().threads(threads))
                .unwrap();
            assert_eq!(got, want, "{threads} threads");
        }
        // Budgets too small to keep the frame run it again: the same rows.
        for limit in [1 << 12, 1 << 16, 1 << 20] {
            let got = lf
                .clone()
                .collect_with(&ExecOptions::new().threads(2).memory_limit(limit))
                .unwrap_or_else(|e| panic!("limit {limit}: {e}"));
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[test]
    fn not_a_join_that_keeps_most_rows_nor_one_whose_widening_renames() {
        let (dir, path) = sorted_parquet();
        // Unfiltered keys: the join keeps every row, not worth keeping in memory.
        let keys = dir.path().join("keys.parquet");
        let df = DataFrame::new(vec![
            Column::new("k", vec![0i64, 1, 2]),
            Column::new("x", vec![1.0, 2.0, 3.0]),
        ])
        .unwrap();
        let mut f = std::fs::File::create(&keys).unwrap();
        crate::io::parquet::write_with_row_groups(&df, &mut f, 2).unwrap();
        let joined = || {
            scan_parquet(&path).join(scan_parquet(&keys), [col("g")], [col("k")], JoinType::Inner)
        };
        let lf = joined().select([col("id")]).join(
            joined().select([col("g")]),
            [col("id")],
            [col("g")],
            JoinType::Semi,
        );
        assert!(!lf.explain_physical().unwrap().contains("SHARED"));
        // Filtered keys, but one copy reads the right side's `x`, which clashes with the
        // left's `x` (renamed `x_right`), and the other reads the left's `x` only: widening
        // the second would rename nothing it reads, yet the first's names must stay.
        let few = || {
            scan_parquet(&path).join(
                scan_parquet(&keys).filter(col("k").eq(1)),
                [col("g")],
                [col("k")],
                JoinType::Inner,
            )
        };
        let a = few().select([col("id"), col("x_right")]);
        let b = few().select([col("id").alias("id2"), col("x").alias("x2")]);
        let lf = a.join(b, [col("id")], [col("id2")], JoinType::Inner);
        let got = lf.clone().collect().unwrap();
        let want = lf
            .clone()
            .collect_with(&ExecOptions::new().optimize(false))
            .unwrap();
        assert_eq!(got, want);
        assert!(got.height() > 0);
    }
}
