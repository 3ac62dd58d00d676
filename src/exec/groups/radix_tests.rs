//! The radix-partitioned grouping gives the general path's groups to the bit: same order,
//! same keys, same float results, for any thread count, with morsels of either path mixed,
//! and falls back to spilling under a small budget.

use std::sync::atomic::Ordering;

use super::radix::CUT_MORSELS;
use crate::exec::aggregate::AggSpecs;
use crate::exec::groups::merge::Grouped;
use crate::exec::groups::tests::same_groups;
use crate::exec::groups::{group_frame, group_pipeline};
use crate::exec::pipeline::{Opened, Running};
use crate::exec::spill::SpillDir;
use crate::exec::{Context, Params};
use crate::memory::MemoryPool;
use crate::prelude::*;

/// 300,000 rows (five morsels): the first 100,000 of a few hundred keys (those morsels keep
/// their partials), the rest mostly distinct keys of three columns, some repeated within
/// and across morsels, with null, NaN, -NaN, -0.0 and 0.0 in the float key and nulls in the
/// string key and in the values.
fn frame() -> DataFrame {
    let n = 300_000u64;
    let k: Vec<Option<i64>> = (0..n)
        .map(|r| {
            let k = if r < 100_000 {
                r % 300
            } else if r % 5 == 0 {
                (r * 7) % 20_000
            } else {
                (r * 2_654_435_761) % 10_000_000
            };
            (k % 499 != 7).then_some(k as i64)
        })
        .collect();
    let s: Vec<Option<String>> = (0..n)
        .map(|r| (r % 97 != 3).then(|| format!("id{:03}", (r * 31) % 50)))
        .collect();
    let f: Vec<Option<f64>> = (0..n)
        .map(|r| match r % 29 {
            0 => Some(f64::NAN),
            1 => Some(-f64::NAN),
            2 => Some(-0.0),
            3 => Some(0.0),
            4 => None,
            _ => Some((r % 2) as f64),
        })
        .collect();
    let v: Vec<Option<f64>> = (0..n)
        .map(|r| (r % 83 != 1).then(|| ((r * 7919) % 1013) as f64 / 7.0 - 50.0))
        .collect();
    let w: Vec<i64> = (0..n).map(|r| (r % 17) as i64 - 8).collect();
    DataFrame::new(vec![
        Column::new("k", k),
        Column::new("s", s),
        Column::new("f", f),
        Column::new("v", v),
        Column::new("w", w),
    ])
    .unwrap()
}

fn by() -> Vec<Expr> {
    vec![col("s"), col("k"), col("f")]
}

fn aggs(df: &DataFrame) -> AggSpecs {
    AggSpecs::new(
        &[
            col("v").sum(),
            col("v").mean(),
            col("v").std(1),
            col("v").max(),
            col("v").median(),
            col("w").sum(),
            col("v").first(),
            col("v").count(),
            corr(col("v"), col("w")),
            len(),
        ],
        df.schema(),
    )
    .unwrap()
}

/// The general path's groups: asking for each row's group keeps every morsel's partial.
fn general(df: &DataFrame, aggs: &AggSpecs) -> Grouped {
    let mut g = group_frame(df, &by(), aggs, true, &Params::default()).unwrap();
    g.row_ids = None;
    g
}

fn on_threads(threads: usize, f: impl FnOnce() -> Grouped + Send) -> Grouped {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn cut_morsels_group_as_the_general_path_on_any_thread_count() {
    let df = frame();
    let aggs = aggs(&df);
    let want = general(&df, &aggs);
    assert!(want.n_groups > 150_000, "{} groups", want.n_groups);
    let before = CUT_MORSELS.load(Ordering::Relaxed);
    let one = on_threads(1, || {
        group_frame(&df, &by(), &aggs, false, &Params::default()).unwrap()
    });
    assert!(
        CUT_MORSELS.load(Ordering::Relaxed) > before,
        "no morsel was cut"
    );
    let two = on_threads(2, || {
        group_frame(&df, &by(), &aggs, false, &Params::default()).unwrap()
    });
    same_groups(&one, &want);
    same_groups(&two, &want);
}

/// Only the distinct part: every morsel cut.
#[test]
fn all_morsels_cut() {
    let df = frame().slice(100_000, 200_000);
    let aggs = aggs(&df);
    let want = general(&df, &aggs);
    let got = group_frame(&df, &by(), &aggs, false, &Params::default()).unwrap();
    same_groups(&got, &want);
}

/// Under a budget the cut rows do not fit: the grouping spills and still gives the same
/// groups, and gives back all it reserved.
#[test]
fn cut_grouping_over_the_budget_spills() {
    let df = frame();
    let aggs = aggs(&df);
    let want = general(&df, &aggs);
    let temp = tempfile::tempdir().unwrap();
    let ctx = Context {
        memory: MemoryPool::new(8 << 20),
        spill: SpillDir::new(temp.path().to_path_buf()),
        ..Context::default()
    };
    let running = Running::new(Opened::Frame(df.clone()), &[], &ctx);
    let got = group_pipeline(&running, &by(), &aggs, false).unwrap();
    same_groups(&got, &want);
    drop(running);
    assert_eq!(ctx.memory.reserved(), 0);
}
