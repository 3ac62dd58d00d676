//! Helpers for the rule tests: a small frame, a Parquet file with several row groups, and
//! "plan text before and after one rule".

use std::path::PathBuf;
use std::sync::Arc;

use super::{resolve, OptimizerRule};
use crate::frame::{Column, DataFrame};
use crate::plan::{LazyFrame, LogicalPlan};

/// Columns `a`, `b` (floats with NaN and null), `c` (ints), `s` (strings).
pub fn frame() -> DataFrame {
    DataFrame::new(vec![
        Column::new("a", vec![Some(1.0), Some(f64::NAN), None, Some(-2.0)]),
        Column::new("b", vec![Some(0.5), Some(1.5), Some(2.5), None]),
        Column::new("c", vec![1i64, 2, 3, 4]),
        Column::new("s", vec!["w", "x", "y", "z"]),
    ])
    .expect("test frame")
}

/// A Parquet file with columns `id` (0..40, sorted), `x` (floats) and `g` (id % 3), written
/// in four row groups of ten rows, in a fresh temporary folder (kept alive by the guard).
pub fn sorted_parquet() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.parquet");
    let df = DataFrame::new(vec![
        Column::new("id", (0..40i64).collect::<Vec<_>>()),
        Column::new("x", (0..40).map(|i| i as f64 * 0.5).collect::<Vec<_>>()),
        Column::new("g", (0..40i64).map(|i| i % 3).collect::<Vec<_>>()),
    ])
    .expect("parquet frame");
    let mut f = std::fs::File::create(&path).expect("create");
    crate::io::parquet::write_with_row_groups(&df, &mut f, 10).expect("write");
    (dir, path)
}

/// Plan text with a temporary folder's path replaced by `TMP`, so snapshots are stable.
pub fn text(plan: &LogicalPlan, dir: Option<&tempfile::TempDir>) -> String {
    let t = plan.display_indent();
    match dir {
        Some(d) => t.replace(&d.path().display().to_string(), "TMP"),
        None => t,
    }
}

/// The resolved plan of `lf`, then `=>` and the plan after one application of `rule` (or
/// `=> unchanged`), checking on the way that the rule kept the schema and reported `changed`
/// truthfully.
pub fn show(rule: &dyn OptimizerRule, lf: &LazyFrame, dir: Option<&tempfile::TempDir>) -> String {
    let plan = resolve(lf.logical_plan()).expect("resolve");
    let t = rule.rewrite(Arc::clone(&plan)).expect("rewrite");
    assert_eq!(
        t.data.schema().expect("schema after"),
        plan.schema().expect("schema before"),
        "{} changed the schema",
        rule.name()
    );
    let (before, after) = (text(&plan, dir), text(&t.data, dir));
    assert_eq!(t.changed, before != after, "{}: changed flag", rule.name());
    if t.changed {
        format!("{before}\n=>\n{after}")
    } else {
        format!("{before}\n=> unchanged")
    }
}

/// `lf` gives the same frame optimized and unoptimized.
pub fn assert_same_results(lf: &LazyFrame) {
    let opt = lf.clone().collect().expect("optimized run");
    let plain = lf
        .clone()
        .collect_with(&crate::plan::ExecOptions::new().optimize(false))
        .expect("unoptimized run");
    assert_eq!(opt, plain);
}
