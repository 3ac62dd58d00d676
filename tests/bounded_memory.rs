//! Bounded memory through the public API: a query over a tiny budget stops with
//! `Error::MemoryLimit` naming the operator; sorts larger than the budget spill to temporary
//! files and write exactly the bytes an unbounded run writes; hoisted statistics over a file
//! read it twice instead of holding it; groupings larger than the budget spill their input by
//! key and write the same bytes; a sink that fails at a middle morsel leaves no file;
//! spill files are gone after success and after an error.

use std::fs;
use std::path::Path;

use fusedframe::prelude::*;

const ROWS: i64 = 300_000;

/// A sink with its options: `sink_csv_with`, `sink_parquet_with`, `sink_ipc_with`.
type Sink = fn(LazyFrame, &Path, &ExecOptions) -> fusedframe::Result<()>;

/// Scrambled keys (with repeats, so ties are broken by the sort's stability), a float and a
/// string per row, all elementwise (the sort streams its input): about 10 MB in memory.
fn table() -> LazyFrame {
    range(0, ROWS).with_columns([
        ((col("range") * 7919) % 1000).alias("k"),
        (((col("range") * 104_729) % 2001).cast(DataType::Float64) / 1000.0 - 1.0).alias("x"),
        col("range").cast(DataType::Utf8).alias("s"),
    ])
}

/// `range % (range - 200_000)`: an integer division by zero at row 200,000, a few morsels in.
fn fails_at_row_200_000() -> Expr {
    (col("range") % (col("range") - lit(200_000_i64))).alias("q")
}

/// Everything in `dir`, to prove nothing (no spill file, no temporary output) was left.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    v.sort();
    v
}

fn budget(bytes: usize, temp: &Path) -> ExecOptions {
    ExecOptions::new()
        .memory_limit(bytes)
        .temp_dir(temp)
        .threads(2)
}

fn unbounded() -> ExecOptions {
    ExecOptions::new().memory_limit(usize::MAX).threads(2)
}

#[test]
fn a_query_over_a_tiny_budget_names_the_operator() {
    let temp = tempfile::tempdir().expect("tempdir");
    let cases: Vec<(LazyFrame, &str)> = vec![
        // The collected result itself does not fit.
        (table(), "COLLECT"),
        // A whole-column input (a gather's) does not fit either.
        (
            table()
                .gather(col("k").arg_sort(SortOptions::new()))
                .head(5),
            "GATHER",
        ),
    ];
    for (lf, operator) in cases {
        match lf.collect_with(&budget(1 << 20, temp.path())) {
            Err(Error::MemoryLimit {
                operator: got,
                limit,
                ..
            }) => {
                assert_eq!(got, operator);
                assert_eq!(limit, 1 << 20);
            }
            other => panic!("expected a memory error naming {operator}, got {other:?}"),
        }
    }
    assert!(
        listing(temp.path()).is_empty(),
        "{:?}",
        listing(temp.path())
    );
    // The message says what to do.
    let err = table()
        .collect_with(&budget(1 << 20, temp.path()))
        .expect_err("over budget");
    let text = err.to_string();
    assert!(
        text.contains("COLLECT") && text.contains("--memory-limit"),
        "{text}"
    );
}

#[test]
fn sorts_larger_than_the_budget_spill_and_write_the_same_bytes() {
    let temp = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    // The budgets are below twice the input (what an in-memory sort holds), so every sort
    // spills; a `head` over the merge holds one whole output piece (2 MB) besides the merge.
    let queries: Vec<(&str, LazyFrame, usize)> = vec![
        ("sort", table().sort("k", SortOptions::new()), 4 << 20),
        (
            "sort_desc",
            table().sort("x", SortOptions::new().descending(true)),
            4 << 20,
        ),
        (
            "sort_head",
            table().sort("s", SortOptions::new()).head(1000),
            8 << 20,
        ),
        (
            "sort_then_compute",
            table()
                .sort("k", SortOptions::new().descending(true))
                .with_columns([(col("x") * 2.0).alias("x2")]),
            4 << 20,
        ),
    ];
    for (name, lf, limit) in queries {
        for ext in ["csv", "arrow"] {
            let want = out.path().join(format!("{name}-want.{ext}"));
            let got = out.path().join(format!("{name}-got.{ext}"));
            let write = |lf: LazyFrame, path: &Path, options: &ExecOptions| match ext {
                "csv" => lf.sink_csv_with(path, options),
                _ => lf.sink_ipc_with(path, &IpcWriteOptions::new(), options),
            };
            write(lf.clone(), &want, &unbounded()).expect("unbounded");
            write(lf.clone(), &got, &budget(limit, temp.path())).expect("spilled");
            assert!(
                fs::read(&want).expect("read") == fs::read(&got).expect("read"),
                "{name}.{ext}: the spilled sort wrote different bytes"
            );
        }
    }
    assert!(
        listing(temp.path()).is_empty(),
        "{:?}",
        listing(temp.path())
    );
}

#[test]
fn hoisted_statistics_over_a_file_read_it_twice_within_the_budget() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.parquet");
    table()
        .select([col("range"), col("x")])
        .sink_parquet(&input)
        .expect("input");
    let standardized = || {
        scan_parquet(&input).select([
            col("range"),
            ((col("x") - col("x").mean()) / col("x").std(1)).alias("z"),
        ])
    };
    let want = dir.path().join("want.csv");
    let got = dir.path().join("got.csv");
    standardized()
        .sink_csv_with(&want, &unbounded())
        .expect("unbounded");
    // The 5 MB input is never held: statistics first, then the rows again.
    standardized()
        .sink_csv_with(&got, &budget(1 << 20, temp.path()))
        .expect("two passes within 1 MB");
    assert!(fs::read(&want).expect("read") == fs::read(&got).expect("read"));
    assert!(listing(temp.path()).is_empty());
}

#[test]
fn a_sink_failing_at_a_middle_morsel_leaves_no_file() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    // After some morsels were written.
    let failing = || range(0, ROWS).with_columns([fails_at_row_200_000()]);
    let sinks: Vec<(&str, Sink)> = vec![
        ("csv", |lf, p, o| lf.sink_csv_with(p, o)),
        ("parquet", |lf, p, o| {
            lf.sink_parquet_with(p, &ParquetWriteOptions::new(), o)
        }),
        ("arrow", |lf, p, o| {
            lf.sink_ipc_with(p, &IpcWriteOptions::new(), o)
        }),
    ];
    for (ext, sink) in &sinks {
        let path = dir.path().join(format!("out.{ext}"));
        let err = sink(failing(), &path, &budget(64 << 20, temp.path())).expect_err("fails");
        assert!(matches!(err, Error::Compute(_)), "{err}");
        assert!(
            listing(dir.path()).is_empty(),
            "{ext}: {:?}",
            listing(dir.path())
        );
        // An existing file is left as it was.
        fs::write(&path, "previous").expect("write");
        sink(failing(), &path, &budget(64 << 20, temp.path())).expect_err("fails");
        assert_eq!(fs::read_to_string(&path).expect("read"), "previous");
        fs::remove_file(&path).expect("remove");
    }
    // A sort that spilled, then failed downstream: its spill files are gone too.
    let spilled = table()
        .sort("k", SortOptions::new())
        .with_columns([fails_at_row_200_000()]);
    let path = dir.path().join("sorted.csv");
    spilled
        .sink_csv_with(&path, &budget(1 << 20, temp.path()))
        .expect_err("fails");
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
    assert!(
        listing(temp.path()).is_empty(),
        "{:?}",
        listing(temp.path())
    );
    // A directory that does not exist: nothing is made.
    let missing = dir.path().join("no/such/dir/out.parquet");
    assert!(range(0, 10).sink_parquet(&missing).is_err());
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn groupings_larger_than_the_budget_spill_and_write_the_same_bytes() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.parquet");
    table().sink_parquet(&input).expect("input");
    // A median holds every value of its group: the 2.4 MB of `x` do not fit 1 MB, while a
    // partition's share does.
    let grouped = |lf: LazyFrame| {
        lf.group_by([col("k")]).agg([
            col("x").sum().alias("sum"),
            col("x").median().alias("median"),
            col("x").std(1).alias("std"),
            col("s").first().alias("first"),
            len(),
        ])
    };
    let queries: Vec<(&str, LazyFrame)> = vec![
        ("streamed", grouped(table())),
        ("parquet", grouped(scan_parquet(&input))),
        (
            "unique",
            scan_parquet(&input)
                .select([(col("range") % 5000).alias("m"), col("k")])
                .unique(),
        ),
    ];
    for (name, lf) in queries {
        let want = dir.path().join(format!("{name}-want.arrow"));
        let got = dir.path().join(format!("{name}-got.arrow"));
        lf.clone()
            .sink_ipc_with(&want, &IpcWriteOptions::new(), &unbounded())
            .expect("unbounded");
        lf.sink_ipc_with(&got, &IpcWriteOptions::new(), &budget(1 << 20, temp.path()))
            .expect("spilled");
        assert!(
            fs::read(&want).expect("read") == fs::read(&got).expect("read"),
            "{name}: the spilled grouping wrote different bytes"
        );
        assert!(
            listing(temp.path()).is_empty(),
            "{:?}",
            listing(temp.path())
        );
    }
}
