//! Ordering expressions over the budget: `top_k`/`bottom_k` hold only their candidates;
//! `arg_sort` and `sort` alone in a `select`, and `gather(arg_sort)`, spill like a sort. Each
//! writes exactly the bytes of the unbounded in-memory answer on 1 and 2 threads and leaves no
//! spill file, after success and after an error. A general `gather` still holds its input:
//! over the budget it stops with a typed error naming GATHER.

use std::fs;
use std::path::Path;

use fusedframe::memory::MemoryPool;
use fusedframe::prelude::*;

use super::{assert_no_files, budget, cli, listing, table, unbounded};

/// `table()` with the awkward values of an order in `z`: NaN, `-0.0` beside `0.0`, nulls, and
/// many ties (`range` is the row number, so it shows which of equal keys came first).
fn awkward() -> LazyFrame {
    let z = when(col("k").lt(3))
        .then(lit(f64::NAN))
        .otherwise(when(col("k").lt(60)).then(lit(-0.0)).otherwise(col("x")));
    table().with_columns([Expr::from(when(col("k").lt(990)).then(z)).alias("z")])
}

/// Write `lf` under `limit` on 1 and 2 threads and `oracle` unbounded; assert the same bytes.
fn same_bytes(name: &str, lf: &LazyFrame, oracle: &LazyFrame, limit: usize, temp: &Path) {
    let out = tempfile::tempdir().expect("tempdir");
    let want = out.path().join(format!("{name}-want.csv"));
    oracle
        .clone()
        .sink_csv_with(&want, &unbounded())
        .expect("oracle");
    for threads in [1, 2] {
        let got = out.path().join(format!("{name}-{threads}.csv"));
        lf.clone()
            .sink_csv_with(&got, &budget(limit, temp).threads(threads))
            .unwrap_or_else(|e| panic!("{name} under {limit} on {threads} threads: {e}"));
        assert!(
            fs::read(&want).expect("read") == fs::read(&got).expect("read"),
            "{name} under {limit} on {threads} threads: different bytes"
        );
    }
    assert!(listing(temp).is_empty(), "{name}: left {:?}", listing(temp));
}

#[test]
fn top_k_and_bottom_k_hold_only_their_candidates() {
    let temp = tempfile::tempdir().expect("tempdir");
    // The answer is the stable sort's first k rows (nulls last), which is what the in-memory
    // kernel gives; the 10 MB input never fits in 256 KiB.
    let cases: Vec<(&str, Expr, bool, usize)> = vec![
        ("z_top", col("z"), true, 1000),
        ("z_bottom", col("z"), false, 1000),
        // All keys equal (-0.0 is 0.0): the first rows win, and their signs show it.
        (
            "zero_ties",
            when(col("k").lt(500))
                .then(lit(-0.0))
                .otherwise(lit(0.0))
                .alias("z"),
            true,
            5000,
        ),
        ("k_scaled", (col("k") * 2).alias("z"), false, 77),
        ("strings", col("s").alias("z"), true, 300),
    ];
    for (name, e, largest, k) in cases {
        let selected = if largest {
            e.clone().top_k(k)
        } else {
            e.clone().bottom_k(k)
        };
        let lf = awkward().select([selected.alias("v")]);
        let oracle = awkward()
            .select([e.alias("v")])
            .sort("v", SortOptions::new().descending(largest))
            .head(k);
        same_bytes(name, &lf, &oracle, 256 << 10, temp.path());
    }
    // Nulls fill in when too few values are left: 1,200 values and 3,000 nulls here.
    let few = || awkward().filter(col("k").gt(985));
    let lf = few().select([col("z").bottom_k(2000)]);
    let oracle = few()
        .select([col("z")])
        .sort("z", SortOptions::new())
        .head(2000);
    same_bytes("nulls", &lf, &oracle, 256 << 10, temp.path());
}

#[test]
fn top_k_of_a_parquet_file_reads_it_within_the_budget() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.parquet");
    awkward().sink_parquet(&input).expect("input");
    let lf = scan_parquet(&input).select([
        col("z").top_k(50).alias("top"),
        (col("x") * 10.0).bottom_k(50).alias("bottom"),
    ]);
    // Without a limit, the pool still counts what is held: only candidates, never the
    // 300,000 rows (2.4 MB a column), which the general path materializes.
    let pool = MemoryPool::unbounded();
    let want = lf
        .clone()
        .collect_with(&ExecOptions::new().memory_pool(pool.clone()).threads(2))
        .expect("unbounded");
    assert_eq!(want.height(), 50);
    assert!(pool.peak() < 64 << 10, "TOP_K peak {}", pool.peak());
    let general = MemoryPool::unbounded();
    scan_parquet(&input)
        .select([col("z").top_k(50) + lit(0.0)])
        .collect_with(&ExecOptions::new().memory_pool(general.clone()).threads(2))
        .expect("unbounded");
    assert!(general.peak() > 2 << 20, "EVALUATE peak {}", general.peak());
    for threads in [1, 2] {
        let got = lf
            .clone()
            .collect_with(&budget(256 << 10, temp.path()).threads(threads))
            .expect("within 256 KiB");
        assert!(got.equals(&want), "{threads} threads");
    }
    let top = want.column_f64("top").expect("top");
    assert!(
        top[..5].iter().all(|v| v.is_some_and(f64::is_nan)),
        "{top:?}"
    );
}

#[test]
fn k_rows_that_do_not_fit_name_top_k() {
    let temp = tempfile::tempdir().expect("tempdir");
    let err = awkward()
        .select([col("s").top_k(250_000)])
        .collect_with(&budget(1 << 20, temp.path()))
        .expect_err("250,000 strings in 1 MiB");
    assert!(
        matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "TOP_K"),
        "{err}"
    );
}

#[test]
fn arg_sort_sort_and_gather_by_arg_sort_spill_like_a_sort() {
    let temp = tempfile::tempdir().expect("tempdir");
    let desc = SortOptions::new().descending(true);
    let first = SortOptions::new().nulls_last(false);
    // `range` is the row number: the rows a stable sort puts in order are the arg_sort.
    let order = |o: &SortOptions| {
        awkward()
            .sort("z", o.clone())
            .select([col("range").cast(DataType::UInt64).alias("o")])
    };
    let cases: Vec<(&str, LazyFrame, LazyFrame, usize)> = vec![
        (
            "arg_sort",
            awkward().select([col("z").arg_sort(SortOptions::new()).alias("o")]),
            order(&SortOptions::new()),
            1 << 20,
        ),
        (
            "arg_sort_desc_nulls_first",
            awkward().select([col("z").arg_sort(desc.clone().nulls_last(false)).alias("o")]),
            order(&desc.clone().nulls_last(false)),
            1 << 20,
        ),
        (
            "sort",
            awkward().select([col("z").sort(first.clone())]),
            awkward().sort("z", first.clone()).select([col("z")]),
            1 << 20,
        ),
        (
            "gather_arg_sort",
            awkward()
                .gather(col("z").arg_sort(desc.clone()))
                .select([col("range").cast(DataType::UInt64).alias("o")]),
            order(&desc),
            2 << 20,
        ),
    ];
    for (name, lf, oracle, limit) in &cases {
        same_bytes(name, lf, oracle, *limit, temp.path());
    }
}

#[test]
fn a_spilled_arg_sort_that_fails_leaves_no_spill_file() {
    let temp = tempfile::tempdir().expect("tempdir");
    // The key fails at row 200,000, after runs were spilled; then the output fails while the
    // merge is read (the row number 200,000 is in the middle of the order).
    let bad_key = (col("range") % (col("range") - lit(200_000_i64))).arg_sort(SortOptions::new());
    let o = col("o").cast(DataType::Int64);
    let queries = [
        awkward().select([bad_key.alias("o")]),
        awkward()
            .select([col("z").arg_sort(SortOptions::new()).alias("o")])
            .with_columns([(o.clone() % (o - lit(200_000_i64))).alias("q")]),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for lf in queries {
        let err = lf
            .sink_csv_with(dir.path().join("out.csv"), &budget(1 << 20, temp.path()))
            .expect_err("division by zero");
        assert!(matches!(err, Error::Compute(_)), "{err}");
        assert_no_files(dir.path());
        assert_no_files(temp.path());
    }
}

#[test]
fn a_gather_over_the_budget_names_gather() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    // Positions that are not an arg_sort: the input is held whole, and 10 MB does not fit.
    let lf = table().gather(col("k") * 3);
    let err = lf
        .clone()
        .collect_with(&budget(1 << 20, temp.path()))
        .expect_err("over budget");
    assert!(
        matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "GATHER"),
        "{err}"
    );
    let path = dir.path().join("out.csv");
    let err = lf
        .sink_csv_with(&path, &budget(1 << 20, temp.path()))
        .expect_err("over budget");
    assert!(err.to_string().contains("GATHER"), "{err}");
    assert_no_files(dir.path());
    assert_no_files(temp.path());
}

#[test]
fn scripts_run_top_k_and_arg_sort_under_the_memory_limit() {
    let temp = tempfile::tempdir().expect("tempdir");
    let temp_s = temp.path().to_str().expect("utf-8");
    let run = |script: &str, limit: Option<&str>| match limit {
        Some(limit) => cli(script, &["--memory-limit", limit, "--temp-dir", temp_s]),
        None => cli(script, &[]),
    };
    let keyed = "range(0, 400_000).with_columns([(col(\"range\") * 7919 % 1000).alias(\"k\")])";
    // 400,000 (row number, key) pairs are 6.4 MB. The head pulls a wave (a piece per thread)
    // of the merge's 64Ki-row pieces, each reserved whole before it is cut: hence 2 MiB there.
    for (tail, limit) in [
        (
            ".select([col(\"k\").top_k(5).alias(\"top\"), col(\"range\").bottom_k(5)])",
            "1MiB",
        ),
        (
            ".select([col(\"k\").arg_sort(SortOptions::new().descending(true))]).head(5)",
            "2MiB",
        ),
    ] {
        let script = format!("{keyed}{tail}");
        let plain = run(&script, None);
        assert_eq!(plain, run(&script, Some(limit)), "{script}");
        assert_no_files(temp.path());
    }
}
