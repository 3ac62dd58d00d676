//! A collection ending in a streaming probe gathers the join's output columns from matched
//! row positions straight into their final buffers (`exec::pipeline::probed`): the frame is
//! the one the probe's own output pieces, put together, give (the same pipeline with an
//! operator after the probe collects that way), for every column type, nulls on either side,
//! NaN and null keys, narrow (direct-table) and spread (hashed) keys, inputs of many morsels,
//! one or two threads, and with the build side spilled under a small budget.

use std::sync::Arc;

use crate::memory::MemoryPool;
use crate::physical::{lower_with, Side};
use crate::prelude::*;

const PROBE_ROWS: usize = 40_000;

/// The probe side: keys narrow (`k`), spread far apart (`kw`) and float (`kf`, with NaN and
/// signed zeros), each with nulls; values of several widths and types, with nulls.
fn probe_side() -> DataFrame {
    let n = PROBE_ROWS;
    let key = |i: usize| (i % 17 != 3).then_some((i * 7 % 1100) as i64);
    let floats = [0.0, -0.0, f64::NAN, 1.5, 2.5];
    DataFrame::new(vec![
        Column::new("k", (0..n).map(key).collect::<Vec<_>>()),
        Column::new(
            "kw",
            (0..n)
                .map(|i| key(i).map(|k| k * 1_000_000_007))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "kf",
            (0..n)
                .map(|i| (i % 11 != 0).then_some(floats[i % 5]))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "v",
            (0..n)
                .map(|i| (i % 5 != 1).then_some(i as f64 * 0.5))
                .collect::<Vec<_>>(),
        ),
        Column::new("i", (0..n as i32).collect::<Vec<_>>()),
        Column::new(
            "s",
            (0..n)
                .map(|i| (i % 9 != 2).then(|| format!("s{}", i % 31)))
                .collect::<Vec<_>>(),
        ),
        Column::new("b", (0..n).map(|i| i % 3 == 0).collect::<Vec<_>>()),
    ])
    .unwrap()
}

/// The build side: keys `0..distinct` (with nulls) in turn, several rows per key when
/// `rows` is larger, values with nulls.
fn build_side(rows: usize, distinct: usize) -> DataFrame {
    let key = |i: usize| (i % 13 != 5).then_some((i % distinct) as i64);
    let floats = [-0.0, f64::NAN, 2.5, 7.0];
    DataFrame::new(vec![
        Column::new("k", (0..rows).map(key).collect::<Vec<_>>()),
        Column::new(
            "kw",
            (0..rows)
                .map(|i| key(i).map(|k| k * 1_000_000_007))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "kf",
            (0..rows).map(|i| Some(floats[i % 4])).collect::<Vec<_>>(),
        ),
        Column::new(
            "w",
            (0..rows)
                .map(|i| (i % 4 != 0).then_some(i as i64))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "t",
            (0..rows)
                .map(|i| (i % 6 != 1).then(|| format!("t{i}")))
                .collect::<Vec<_>>(),
        ),
    ])
    .unwrap()
}

/// Equal frames, column by column (values where valid, and validity).
fn assert_same(got: &DataFrame, want: &DataFrame, what: &str) {
    assert_eq!(got.column_names(), want.column_names(), "{what}");
    assert_eq!(got.height(), want.height(), "{what}");
    for name in got.column_names() {
        let (g, w) = (got.column(name).unwrap(), want.column(name).unwrap());
        assert_eq!(g.data_type(), w.data_type(), "{what}: {name}");
        assert_eq!(g.to_data(), w.to_data(), "{what}: {name}");
    }
}

#[test]
fn gathered_output_is_the_probes_output_for_every_key_and_join_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.parquet");
    let mut f = std::fs::File::create(&path).unwrap();
    // Row groups of 3,000 rows: the probe side arrives as many morsels.
    crate::io::parquet::write_with_row_groups(&probe_side(), &mut f, 3_000).unwrap();
    let build = build_side(2_000, 900);
    for key in ["k", "kw", "kf"] {
        for how in [JoinType::Inner, JoinType::Left] {
            let lf = scan_parquet(&path).join(build.clone().lazy(), [col(key)], [col(key)], how);
            // An operator after the probe: the pieces are collected and concatenated.
            let pieces = lf
                .clone()
                .with_columns([lit(1i64).alias("after")])
                .collect()
                .unwrap();
            let names: Vec<Expr> = pieces
                .column_names()
                .iter()
                .filter(|n| **n != "after")
                .map(|n| col(n.to_string()))
                .collect();
            let want = pieces.lazy().select(names).collect().unwrap();
            for threads in [1, 2] {
                let got = lf
                    .clone()
                    .collect_with(&ExecOptions::new().threads(threads))
                    .unwrap();
                assert_same(&got, &want, &format!("{how:?} on {key}, {threads} threads"));
            }
        }
    }
}

#[test]
fn right_joins_and_a_spilled_build_side_give_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.parquet");
    let mut f = std::fs::File::create(&path).unwrap();
    crate::io::parquet::write_with_row_groups(&probe_side(), &mut f, 5_000).unwrap();
    // The table on the left (build) side, the right side streaming: a right join's probe.
    let lf = build_side(3_000, 900).lazy().join(
        scan_parquet(&path),
        [col("k")],
        [col("k")],
        JoinType::Right,
    );
    let plan = crate::optimizer::optimize(lf.logical_plan()).unwrap();
    let physical = lower_with(&plan, Some(Side::Left)).unwrap();
    let run = |options: &ExecOptions| crate::exec::execute_physical(&physical, options).unwrap();
    let want = run(&ExecOptions::new().threads(1));
    assert_same(&run(&ExecOptions::new().threads(2)), &want, "2 threads");
    // Inner joins whose build side does not fit spill it, and still give the same frame
    // (most build rows match nothing: the output fits where the build side does not).
    for key in ["k", "kw"] {
        let lf = scan_parquet(&path).join(
            build_side(200_000, 200_000).lazy(),
            [col(key)],
            [col(key)],
            JoinType::Inner,
        );
        let plan = crate::optimizer::optimize(lf.logical_plan()).unwrap();
        let physical = lower_with(&plan, Some(Side::Right)).unwrap();
        let want = crate::exec::execute_physical(&physical, &ExecOptions::new()).unwrap();
        let temp = tempfile::tempdir().unwrap();
        let pool = MemoryPool::new(want_bytes(&want) + (3 << 20));
        let got = crate::exec::execute_physical(
            &physical,
            &ExecOptions::new()
                .memory_pool(Arc::clone(&pool))
                .temp_dir(temp.path())
                .threads(2),
        )
        .unwrap();
        assert_same(&got, &want, &format!("spilled on {key}"));
        assert_eq!(pool.reserved(), 0);
    }
}

fn want_bytes(df: &DataFrame) -> usize {
    crate::memory::frame_bytes(df)
}
