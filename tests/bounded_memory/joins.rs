//! Joins larger than the memory budget spill both sides by key hash and give exactly the
//! in-memory join's frame, row order included: every join type, integer, string, float (NaN,
//! signed zeros) and two-column keys with nulls, either side built, one and two threads,
//! budgets of 64 KiB to 1 MiB; each side's input is read once, spilled or not; a key holding
//! most rows finishes when its build rows fit and otherwise stops with the typed error naming
//! `HASH_JOIN`; no spill file is left either way.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use fusedframe::memory::MemoryPool;
use fusedframe::prelude::*;

use super::{assert_no_files, budget, cli};

/// Rows of the left and right files.
const LEFT: usize = 9_000;
const RIGHT: usize = 4_000;

/// The two sides as Parquet files: keys `k` (integers with nulls), `s` (strings), `f` (floats
/// with NaN, `-0.0` and `0.0`), a row number, and a clashing `x`.
fn sides(dir: &Path) -> (PathBuf, PathBuf) {
    let side = |n: usize, mul: usize, null_every: usize, right: bool| {
        let k: Vec<Option<i64>> = (0..n)
            .map(|i| (i % null_every != 0).then_some(((i * mul) % 2_500) as i64))
            .collect();
        let s: Vec<String> = (0..n)
            .map(|i| format!("key-{}", (i * (mul % 97)) % 1_300))
            .collect();
        let f: Vec<f64> = (0..n)
            .map(|i| match i % 41 {
                0 => f64::NAN,
                1 => -0.0,
                2 => 0.0,
                _ => ((i * mul) % 900) as f64 / 4.0,
            })
            .collect();
        let mut cols = vec![
            Column::new("k", k),
            Column::new("s", s),
            Column::new("f", f),
            Column::new(
                if right { "rv" } else { "lv" },
                (0..n as i64).collect::<Vec<_>>(),
            ),
        ];
        cols.push(if right {
            Column::new("x", (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>())
        } else {
            Column::new("x", (0..n).map(|i| i as f64 / 8.0).collect::<Vec<_>>())
        });
        DataFrame::new(cols).expect("side")
    };
    let (l, r) = (dir.join("left.parquet"), dir.join("right.parquet"));
    side(LEFT, 7_919, 53, false)
        .lazy()
        .sink_parquet(&l)
        .expect("left");
    side(RIGHT, 104_729, 37, true)
        .lazy()
        .sink_parquet(&r)
        .expect("right");
    (l, r)
}

/// The query's frame, written through an IPC sink under `options` and read back.
fn through_sink(
    lf: LazyFrame,
    options: &ExecOptions,
    path: &Path,
) -> fusedframe::Result<DataFrame> {
    lf.sink_ipc_with(path, &IpcWriteOptions::new(), options)?;
    scan_ipc(path).collect()
}

const TYPES: [JoinType; 6] = [
    JoinType::Inner,
    JoinType::Left,
    JoinType::Right,
    JoinType::Full,
    JoinType::Semi,
    JoinType::Anti,
];

#[test]
fn joins_over_the_budget_spill_and_give_the_in_memory_frame() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let (l, r) = sides(dir.path());
    let keys: Vec<Vec<&str>> = vec![vec!["k"], vec!["s"], vec!["f"], vec!["k", "s"]];
    let mut n = 0;
    for on in &keys {
        let on: Vec<Expr> = on.iter().map(|c| col(*c)).collect();
        for how in TYPES {
            // The smaller side on the right, then on the left: the table goes on either.
            for (a, b) in [(&l, &r), (&r, &l)] {
                let lf = scan_parquet(a).join(scan_parquet(b), on.clone(), on.clone(), how);
                let pool = MemoryPool::new(usize::MAX);
                let want = through_sink(
                    lf.clone(),
                    &ExecOptions::new().memory_pool(pool.clone()).threads(2),
                    &dir.path().join(format!("want-{n}.arrow")),
                )
                .expect("unbounded");
                // The in-memory join holds more than the budget below.
                assert!(
                    pool.peak() > 256 << 10,
                    "{how:?} {on:?}: peak {}",
                    pool.peak()
                );
                for (limit, threads) in [(64 << 10, 1), (64 << 10, 2), (1 << 20, 2)] {
                    let got = through_sink(
                        lf.clone(),
                        &budget(limit, temp.path()).threads(threads),
                        &dir.path().join(format!("got-{n}-{limit}-{threads}.arrow")),
                    )
                    .unwrap_or_else(|e| panic!("{how:?} {on:?} {limit} {threads}: {e}"));
                    assert_eq!(
                        got, want,
                        "{how:?} on {on:?}, {limit} bytes, {threads} threads"
                    );
                    assert_no_files(temp.path());
                }
                n += 1;
            }
        }
    }
}

#[test]
fn a_tiny_budget_spills_to_many_files_and_splits_partitions_again() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let (l, r) = sides(dir.path());
    for how in [JoinType::Left, JoinType::Full, JoinType::Semi] {
        let lf = scan_parquet(&l)
            .join(scan_parquet(&r), [col("k")], [col("k")], how)
            .filter(col("lv").is_null().or(col("lv").gt(100)));
        let want = lf.clone().collect().expect("unbounded");
        for (limit, threads) in [(128 << 10, 2), (64 << 10, 2), (64 << 10, 1)] {
            let got = through_sink(
                lf.clone(),
                &budget(limit, temp.path()).threads(threads),
                &dir.path()
                    .join(format!("tiny-{how:?}-{limit}-{threads}.arrow")),
            )
            .unwrap_or_else(|e| panic!("{how:?} {limit} {threads}: {e}"));
            assert_eq!(got, want, "{how:?} {limit} {threads}");
            assert_no_files(temp.path());
        }
    }
}

/// A scan of `path` whose rows (all, or only its numeric columns) pass through a closure that
/// counts them, in a column named `tag`.
fn counted(path: &Path, numeric: bool, tag: &str, seen: &Arc<AtomicUsize>) -> LazyFrame {
    let seen = seen.clone();
    let lf = scan_parquet(path);
    let lf = if numeric {
        lf.select([col("k"), col("f")])
    } else {
        lf
    };
    lf.with_columns([map_rows([col("f")], move |r: &[f64]| {
        seen.fetch_add(1, Ordering::Relaxed);
        r[0]
    })
    .alias(tag)])
}

#[test]
fn a_spilled_join_reads_each_input_once() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let (l, r) = sides(dir.path());
    let mut n = 0;
    // With strings the build side is read a wave at a time; numbers only go straight into
    // their columns, and are handed over unread when they cannot fit.
    for numeric in [false, true] {
        for how in TYPES {
            for ((a, a_rows), (b, b_rows)) in [((&l, LEFT), (&r, RIGHT)), ((&r, RIGHT), (&l, LEFT))]
            {
                let seen = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
                let lf = counted(a, numeric, "a_seen", &seen[0]).join(
                    counted(b, numeric, "b_seen", &seen[1]),
                    [col("k")],
                    [col("k")],
                    how,
                );
                let pool = fusedframe::memory::MemoryPool::unbounded();
                let want = lf
                    .clone()
                    .collect_with(&ExecOptions::new().memory_pool(pool.clone()).threads(2))
                    .expect("unbounded");
                assert!(pool.peak() > 128 << 10, "{how:?}: peak {}", pool.peak());
                let once: Vec<usize> = seen.iter().map(|s| s.swap(0, Ordering::Relaxed)).collect();
                // Unbounded, each row is seen once (a semi or anti join may not need the
                // right side's column at all).
                let semi = matches!(how, JoinType::Semi | JoinType::Anti);
                assert!(
                    once[0] == a_rows && (once[1] == b_rows || semi && once[1] == 0),
                    "{how:?}: {once:?}"
                );
                for threads in [1, 2] {
                    let got = through_sink(
                        lf.clone(),
                        &budget(128 << 10, temp.path()).threads(threads),
                        &dir.path().join(format!("once-{n}-{threads}.arrow")),
                    )
                    .unwrap_or_else(|e| panic!("{how:?} {numeric} {threads}: {e}"));
                    assert_eq!(got, want, "{how:?} {numeric} {threads}");
                    let spilled: Vec<usize> =
                        seen.iter().map(|s| s.swap(0, Ordering::Relaxed)).collect();
                    assert_eq!(
                        spilled, once,
                        "{how:?} numeric {numeric}, {threads} threads"
                    );
                    assert_no_files(temp.path());
                }
                n += 1;
            }
        }
    }
}

/// A side where key 7 holds `hot` of its `n` rows.
fn skewed(n: usize, hot: usize, name: &str) -> DataFrame {
    DataFrame::new(vec![
        Column::new(
            "k",
            (0..n as i64)
                .map(|i| if (i as usize) < hot { 7 } else { i })
                .collect::<Vec<_>>(),
        ),
        Column::new(name, (0..n as i64).collect::<Vec<_>>()),
    ])
    .expect("skewed")
}

#[test]
fn a_skewed_key_finishes_when_its_build_rows_fit_and_names_the_join_when_not() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str, df: DataFrame| {
        let p = dir.path().join(name);
        df.lazy().sink_parquet(&p).expect("side");
        p
    };
    // The probe side's hot key holds most of its rows; the build side's only a few: its
    // partition cannot be split by key, and need not be.
    let probe = path("probe.parquet", skewed(60_000, 50_000, "pv"));
    let build = path("build.parquet", skewed(20_000, 3, "bv"));
    let lf =
        scan_parquet(&probe).join(scan_parquet(&build), [col("k")], [col("k")], JoinType::Left);
    let want = lf.clone().collect().expect("unbounded");
    let got = through_sink(
        lf,
        &budget(256 << 10, temp.path()),
        &dir.path().join("hot.arrow"),
    )
    .expect("spilled");
    assert_eq!(got, want);
    assert_no_files(temp.path());
    // Now the build side's hot key alone is larger than the budget: a typed error, files gone.
    let build = path("hot-build.parquet", skewed(20_000, 18_000, "bv"));
    let lf =
        scan_parquet(&probe).join(scan_parquet(&build), [col("k")], [col("k")], JoinType::Left);
    let err = through_sink(
        lf,
        &budget(256 << 10, temp.path()),
        &dir.path().join("no.arrow"),
    )
    .expect_err("the hot key does not fit");
    assert!(
        matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "HASH_JOIN"),
        "{err}"
    );
    assert_no_files(temp.path());
}

#[test]
fn a_cross_join_over_the_budget_keeps_the_typed_error() {
    let temp = tempfile::tempdir().expect("tempdir");
    let big = range(0, 50_000).cross_join(range(0, 3));
    let err = big
        .collect_with(&budget(64 << 10, temp.path()))
        .expect_err("a cross join does not spill");
    assert!(matches!(err, Error::MemoryLimit { .. }), "{err}");
    assert_no_files(temp.path());
}

#[test]
fn a_script_join_spills_under_the_cli_memory_limit() {
    let temp = tempfile::tempdir().expect("tempdir");
    // 200,000 rows a side (3.2 MB each): over a 1 MiB budget the left join spills, and the
    // script prints the same rows as without a budget.
    let script =
        "let r = range(0, 200_000).with_columns([(col(\"range\") * 7 % 150_000).alias(\"k\")]);\n\
                  range(0, 200_000).with_columns([(col(\"range\") * 13 % 150_000).alias(\"k\")])\n\
                  .join(r, [col(\"k\")], [col(\"k\")], JoinType::Left)\n\
                  .filter((col(\"range\") % 40_000).eq(0))";
    let run = |extra: &[&str]| cli(script, extra);
    let plain = run(&[]);
    let temp_s = temp.path().to_str().expect("utf-8");
    let spilled = run(&["--memory-limit", "1MiB", "--temp-dir", temp_s]);
    assert_eq!(plain, spilled);
    assert!(plain.contains("range_right"), "{plain}");
    assert_no_files(temp.path());
}
