//! Bounded memory through the public API: a query over a tiny budget stops with
//! `Error::MemoryLimit` naming the operator; sorts larger than the budget spill to temporary
//! files and write exactly the bytes an unbounded run writes; hoisted statistics over a file
//! read it twice instead of holding it; groupings larger than the budget spill their input by
//! key and write the same bytes; `top_k` holds only its candidates and `arg_sort` spills
//! like a sort (`bounded_memory/ordering.rs`); a sink that fails at a middle morsel leaves
//! no file; spill files are gone after success and after an error.

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

/// `dir` holds nothing (no spill file, no temporary output); else the test fails listing it.
fn assert_no_files(dir: &Path) {
    assert!(listing(dir).is_empty(), "{:?}", listing(dir));
}

/// What `fusedframe run -e script` with `extra` arguments prints on 2 threads; a failing
/// run fails the test with its stderr.
fn cli(script: &str, extra: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fusedframe"))
        .args(["run", "-e", script])
        .args(extra)
        .env("FUSEDFRAME_THREADS", "2")
        .output()
        .expect("the fusedframe binary runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
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
        (table().gather(col("k")).head(5), "GATHER"),
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
    assert_no_files(temp.path());
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
    assert_no_files(temp.path());
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
    assert_no_files(dir.path());
    assert_no_files(temp.path());
    // A directory that does not exist: nothing is made.
    let missing = dir.path().join("no/such/dir/out.parquet");
    assert!(range(0, 10).sink_parquet(&missing).is_err());
    assert!(listing(dir.path()).is_empty());
}

/// Rows of the model tables: 144,000 x 5 Float64 is 5.8 MB, over the 1 MiB budget below.
const MODEL_ROWS: i64 = 144_000;

/// Three blobs in four features (a row's blob and noise from scrambled row numbers), far from
/// the origin (so centring matters), and a target linear in the features plus noise; `c` is
/// NaN at row `nan_row`.
fn model_table(nan_row: i64) -> LazyFrame {
    let noise = |m: i64, p: i64| {
        (((col("range") * m) % p).cast(DataType::Float64) / lit(p as f64)) - lit(0.5)
    };
    let blob = ((col("range") * 7919) % 3).cast(DataType::Float64);
    range(0, MODEL_ROWS)
        .with_columns([
            (lit(1000.0) + blob.clone() * lit(4.0) + noise(104_729, 1009)).alias("a"),
            (lit(-50.0) - blob.clone() * lit(3.0) + noise(15_485_863, 997)).alias("b"),
            when(col("range").eq(lit(nan_row)))
                .then(lit(f64::NAN))
                .otherwise(blob * lit(2.5) + noise(32_452_843, 991) * lit(2.0))
                .alias("c"),
            (noise(49_979_687, 983) * lit(3.0)).alias("d"),
        ])
        .with_columns([(lit(1.5) + col("a") * lit(2.0) - col("b") * lit(0.25)
            + col("c") * lit(0.5)
            + noise(86_028_121, 977) * lit(0.1))
        .alias("y")])
        .drop(["range"])
}

/// The model table as Parquet (row groups of an odd size, so fixed row chunks straddle them)
/// and as CSV, in `dir`.
fn model_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let pq = dir.join("models.parquet");
    model_table(-1)
        .sink_parquet_with(
            &pq,
            &ParquetWriteOptions::new().row_group_rows(30_001),
            &unbounded(),
        )
        .expect("parquet");
    let csv = dir.join("models.csv");
    model_table(-1)
        .sink_csv_with(&csv, &unbounded())
        .expect("csv");
    vec![pq, csv]
}

fn scan(path: &Path) -> LazyFrame {
    if path.extension().is_some_and(|e| e == "csv") {
        scan_csv(path)
    } else {
        scan_parquet(path)
    }
}

fn tiny(threads: usize) -> ExecOptions {
    ExecOptions::new().memory_limit(1 << 20).threads(threads)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn covariance_pca_and_least_squares_stream_under_a_tiny_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    for path in model_files(dir.path()) {
        let features = ["a", "b", "c", "d"];
        let pca = |solver| scan(&path).pca(Pca::new(3).features(features).svd_solver(solver));
        let lin = || scan(&path).linear_regression("y", features);
        // The same bits with or without a budget, for 1 or 3 threads: one code path.
        let want = pca(PcaSolver::CovarianceEigh)
            .fit_with(&unbounded())
            .expect("pca");
        for threads in [1, 3] {
            for solver in [PcaSolver::CovarianceEigh, PcaSolver::Auto] {
                let got = pca(solver).fit_with(&tiny(threads)).expect("streamed pca");
                assert_eq!(got.components, want.components, "{path:?} {threads}");
                assert_eq!(got.explained_variance, want.explained_variance);
                assert_eq!(got.mean, want.mean);
                assert_eq!(got.solver, PcaSolver::CovarianceEigh);
            }
        }
        let fit = lin().fit_with(&unbounded()).expect("lstsq");
        for threads in [1, 3] {
            let got = lin().fit_with(&tiny(threads)).expect("streamed lstsq");
            assert_eq!(got.coefficients, fit.coefficients, "{path:?} {threads}");
            assert_eq!(
                (got.intercept, got.r2, got.mse),
                (fit.intercept, fit.r2, fit.mse)
            );
        }
        // The in-memory fits of the collected table, by other algorithms (an SVD of the
        // centred matrix, a QR of the whole design matrix), agree to rounding.
        let df = scan(&path).collect().expect("collect");
        let full = df
            .clone()
            .lazy()
            .pca(Pca::new(3).features(features).svd_solver(PcaSolver::Full))
            .fit()
            .expect("full");
        for (a, b) in want.explained_variance.iter().zip(&full.explained_variance) {
            assert!(close(*a, *b, 1e-10), "{a} {b}");
        }
        for (a, b) in want.components.iter().zip(&full.components) {
            assert!(close(*a, *b, 1e-8), "{a} {b}");
        }
        for (a, b) in want.mean.iter().zip(&full.mean) {
            assert!(close(*a, *b, 1e-13), "{a} {b}");
        }
        let x = df
            .clone()
            .lazy()
            .select(features.map(col))
            .collect()
            .expect("x")
            .to_ndarray::<f64>()
            .expect("x");
        let y: ndarray::Array1<f64> = df
            .column_f64("y")
            .expect("y")
            .into_iter()
            .flatten()
            .collect();
        let qr = LinearRegression::fit_ndarray(&x, &y).expect("qr");
        for (a, b) in fit.coefficients.iter().zip(&qr.coefficients) {
            assert!(close(*a, *b, 1e-9), "{a} {b}");
        }
        assert!(close(fit.intercept, qr.intercept, 1e-9));
        assert!(close(fit.mse, qr.mse, 1e-6), "{} {}", fit.mse, qr.mse);
        assert!(close(fit.r2, qr.r2, 1e-12));
        assert!(
            (fit.coefficients[0] - 2.0).abs() < 1e-3,
            "{}",
            fit.coefficients
        );
    }
}

#[test]
fn kmeans_over_the_budget_reads_a_file_again_per_step_with_the_same_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    for path in model_files(dir.path()) {
        let km = || scan(&path).kmeans(KMeans::new(3).seed(7).features(["a", "b", "c", "d"]));
        let want = km().fit_with(&unbounded()).expect("in memory");
        // The input (4.6 MB) fits 8 MiB, but not beside its row-major copy: the fit reads it
        // per pass instead, holding k-means++'s 5 distances a row (5.8 MB) at most.
        for threads in [1, 3] {
            let limited = ExecOptions::new().memory_limit(8 << 20).threads(threads);
            let got = km().fit_with(&limited).expect("rescanned");
            assert_eq!(got.centroids, want.centroids, "{path:?} {threads}");
            assert_eq!(got.labels, want.labels);
            assert_eq!((got.inertia, got.n_iter), (want.inertia, want.n_iter));
        }
        assert_eq!(want.sizes.iter().sum::<usize>(), MODEL_ROWS as usize);
    }
}

#[test]
fn fits_that_cannot_stream_name_fit_and_bad_values_name_their_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = &model_files(dir.path())[0];
    // k-means' per-row state alone (5 distances a row while seeding) is over the budget.
    let e = scan(path)
        .kmeans(KMeans::new(3).features(["a", "b"]))
        .fit_with(&tiny(2).temp_dir(dir.path()))
        .expect_err("over the budget");
    assert!(
        matches!(&e, Error::MemoryLimit { operator, .. } if operator.starts_with("FIT (KMEANS")),
        "{e}"
    );
    // The full solver needs the whole matrix.
    let e = scan(path)
        .pca(
            Pca::new(2)
                .features(["a", "b", "c"])
                .svd_solver(PcaSolver::Full),
        )
        .fit_with(&tiny(2))
        .expect_err("over the budget");
    assert!(matches!(&e, Error::MemoryLimit { operator, .. } if operator.starts_with("FIT (PCA")));
    // Rows are numbered from the input's first, across row groups and chunks.
    let row = 100_003;
    let bad = dir.path().join("bad.parquet");
    model_table(row)
        .sink_parquet_with(
            &bad,
            &ParquetWriteOptions::new().row_group_rows(30_001),
            &unbounded(),
        )
        .expect("parquet");
    let bad = || scan_parquet(&bad);
    for e in [
        bad()
            .pca(Pca::new(2).features(["a", "b", "c"]))
            .fit_with(&tiny(3))
            .expect_err("NaN"),
        bad()
            .linear_regression("y", ["c", "a"])
            .fit_with(&tiny(3))
            .expect_err("NaN"),
        bad()
            .kmeans(KMeans::new(2).features(["a", "c"]))
            .fit_with(&tiny(3))
            .expect_err("NaN"),
    ] {
        assert!(
            e.to_string()
                .contains(&format!("\"c\" has NaN (first at row {row})")),
            "{e}"
        );
    }
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
        assert_no_files(temp.path());
    }
}

// The test binary's root looks for modules beside it, hence the paths.
#[path = "bounded_memory/fits.rs"]
mod fits;
#[path = "bounded_memory/joins.rs"]
mod joins;
#[path = "bounded_memory/ordering.rs"]
mod ordering;
#[path = "bounded_memory/scans.rs"]
mod scans;
#[path = "bounded_memory/sorting.rs"]
mod sorting;
#[path = "bounded_memory/wide.rs"]
mod wide;
