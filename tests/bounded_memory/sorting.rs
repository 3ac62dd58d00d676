//! Sorts over the budget whose input is materialized (keys that need whole columns, such as
//! seeded random numbers or a scaled column) or is another breaker's output: they spill sorted
//! runs and write exactly the bytes of the unbounded run, on 1 and 2 threads, and leave no
//! spill file after success or after an error.

use std::fs;
use std::path::Path;

use fusedframe::prelude::*;

use super::{assert_no_files, budget, fails_at_row_200_000, table, unbounded};

/// Write `lf` unbounded and under `limit` (on `threads` threads); assert the same bytes.
fn same_bytes(name: &str, lf: &LazyFrame, limit: usize, threads: usize, temp: &Path) {
    let out = tempfile::tempdir().expect("tempdir");
    let want = out.path().join(format!("{name}-want.csv"));
    let got = out.path().join(format!("{name}-got.csv"));
    lf.clone()
        .sink_csv_with(&want, &unbounded())
        .expect("unbounded");
    lf.clone()
        .sink_csv_with(&got, &budget(limit, temp).threads(threads))
        .unwrap_or_else(|e| panic!("{name} under {limit} on {threads} threads: {e}"));
    assert!(
        fs::read(&want).expect("read") == fs::read(&got).expect("read"),
        "{name} under {limit} on {threads} threads: different bytes"
    );
}

#[test]
fn sorts_by_whole_column_keys_spill_and_write_the_same_bytes() {
    let temp = tempfile::tempdir().expect("tempdir");
    // The 10 MB table and its keys are held (the keys need whole columns); 16 MB leaves too
    // little beside them to sort in memory, so the frame is sorted in slices into runs.
    let queries: Vec<(&str, LazyFrame)> = vec![
        (
            "shuffle_by_random_keys",
            table().sort_by([rand_uniform(0.0, 1.0, 42)], SortOptions::new()),
        ),
        (
            "by_scaled_column",
            table().sort_by(
                [col("x").min_max_scale(), col("k")],
                SortOptions::new().descending(true),
            ),
        ),
    ];
    for (name, lf) in &queries {
        for threads in [1, 2] {
            same_bytes(name, lf, 16 << 20, threads, temp.path());
        }
    }
    assert_no_files(temp.path());
}

#[test]
fn a_sort_of_another_breakers_output_spills() {
    let temp = tempfile::tempdir().expect("tempdir");
    // The outer sort reads the inner sort's merge as pieces; both spill under 4 MB.
    let lf = table()
        .sort("s", SortOptions::new())
        .sort("k", SortOptions::new().descending(true));
    for threads in [1, 2] {
        same_bytes("sort_of_sort", &lf, 4 << 20, threads, temp.path());
    }
    assert_no_files(temp.path());
}

#[test]
fn a_spilled_materialized_sort_that_fails_later_leaves_nothing() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.csv");
    let err = table()
        .sort_by([rand_uniform(0.0, 1.0, 42)], SortOptions::new())
        .with_columns([fails_at_row_200_000()])
        .sink_csv_with(&path, &budget(16 << 20, temp.path()))
        .expect_err("fails");
    assert!(matches!(err, Error::Compute(_)), "{err}");
    assert_no_files(dir.path());
    assert_no_files(temp.path());
}

#[test]
fn a_materialized_input_larger_than_the_budget_names_the_sort() {
    let temp = tempfile::tempdir().expect("tempdir");
    let err = table()
        .sort_by([rand_uniform(0.0, 1.0, 42)], SortOptions::new())
        .collect_with(&budget(1 << 20, temp.path()))
        .expect_err("over budget");
    assert!(
        matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "SORT"),
        "{err}"
    );
    assert_no_files(temp.path());
}
