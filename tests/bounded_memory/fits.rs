//! Many-pass fits over the budget: randomized PCA and k-means (narrow and wide) read a
//! re-readable input again per pass, and over an input that cannot be read again spill it once
//! to a file, all with the in-memory fit's bits for any thread count; what the fits hold beside
//! their input counts against the budget; the spill files are gone after success and after an
//! error.

use std::path::{Path, PathBuf};

use fusedframe::prelude::*;

use super::{cli, listing, model_files, model_table, scan, unbounded};
use fusedframe::prelude::JoinType;

fn budget(bytes: usize, threads: usize, temp: &Path) -> ExecOptions {
    ExecOptions::new()
        .memory_limit(bytes)
        .threads(threads)
        .temp_dir(temp)
}

fn same_pca(got: &PcaModel, want: &PcaModel, what: &str) {
    assert_eq!(got.components, want.components, "{what}");
    assert_eq!(got.explained_variance, want.explained_variance, "{what}");
    assert_eq!(got.singular_values, want.singular_values, "{what}");
    assert_eq!(got.mean, want.mean, "{what}");
    assert_eq!(got.noise_variance, want.noise_variance, "{what}");
    assert_eq!(got.solver, want.solver, "{what}");
}

/// `fit` under a budget of `bytes` (spill files in `temp`) on 1 and 2 threads gives `want`,
/// as `same` compares them.
fn same_under_budget<M>(
    fit: impl Fn(&ExecOptions) -> fusedframe::Result<M>,
    want: &M,
    (bytes, temp): (usize, &Path),
    same: fn(&M, &M, &str),
    what: &str,
) {
    for threads in [1, 2] {
        let what = format!("{what} {threads} threads");
        match fit(&budget(bytes, threads, temp)) {
            Ok(got) => same(&got, want, &what),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

fn same_kmeans(got: &KMeansModel, want: &KMeansModel, what: &str) {
    assert_eq!(got.centroids, want.centroids, "{what}");
    assert_eq!(got.labels, want.labels, "{what}");
    assert_eq!(
        (got.inertia, got.n_iter),
        (want.inertia, want.n_iter),
        "{what}"
    );
}

#[test]
fn randomized_pca_over_the_budget_reads_its_input_per_pass_with_the_same_bits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let temp = tempfile::tempdir().expect("temp");
    for path in model_files(dir.path()) {
        let pca = || {
            scan(&path).pca(
                Pca::new(2)
                    .features(["a", "b", "c", "d"])
                    .svd_solver(PcaSolver::Randomized)
                    .n_iter(3)
                    .seed(5),
            )
        };
        let want = pca().fit_with(&unbounded()).expect("in memory");
        // The input (4.6 MB) fits 12 MiB, but not beside the sketches (two n x l and two d x l
        // matrices: 9.2 MB), so the fit gives the input up and reads it per pass.
        same_under_budget(
            |o| pca().fit_with(o),
            &want,
            (12 << 20, temp.path()),
            same_pca,
            &format!("{path:?}"),
        );
        // A sorted input cannot be read again: it is spilled once.
        let sorted = || {
            scan(&path).sort("b", Default::default()).pca(
                Pca::new(2)
                    .features(["a", "b", "c", "d"])
                    .svd_solver(PcaSolver::Randomized),
            )
        };
        let want = sorted().fit_with(&unbounded()).expect("in memory");
        same_under_budget(
            |o| sorted().fit_with(o),
            &want,
            (12 << 20, temp.path()),
            same_pca,
            &format!("sorted {path:?}"),
        );
        assert_eq!(listing(temp.path()), Vec::<String>::new());
    }
}

/// An n x d matrix with singular values decaying as 0.5^r (r < 12) plus a little noise,
/// offset far from the origin.
fn decaying(n: usize, d: usize) -> DataFrame {
    let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
        let mut v = 100.0 + j as f64;
        for r in 0..12 {
            let s = 50.0 * 0.5f64.powi(r);
            let u = ((i as f64 + 1.0) * (0.37 + r as f64 * 0.71)).sin();
            let w = ((j as f64 + 1.0) * (0.13 + r as f64 * 0.53)).cos();
            v += s * u * w;
        }
        v + 1e-6 * (((i * 7919 + j * 104_729) % 1009) as f64 / 1009.0 - 0.5)
    });
    let names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    DataFrame::from_ndarray(&x, &refs).expect("frame")
}

#[test]
fn auto_picks_randomized_for_wide_data_and_streams_it_within_tolerance_of_the_full_solver() {
    let temp = tempfile::tempdir().expect("temp");
    // 2000 x 300: fewer than 10 rows per feature, over 500: `auto` is randomized for k = 5.
    let df = decaying(2000, 300);
    let pca = || df.clone().lazy().pca(Pca::new(5));
    let want = pca().fit_with(&unbounded()).expect("in memory");
    assert_eq!(want.solver, PcaSolver::Randomized);
    same_under_budget(
        |o| pca().fit_with(o),
        &want,
        (1 << 20, temp.path()),
        same_pca,
        "",
    );
    let full = df
        .clone()
        .lazy()
        .pca(Pca::new(5).svd_solver(PcaSolver::Full))
        .fit()
        .expect("full");
    for (a, b) in want.explained_variance.iter().zip(&full.explained_variance) {
        assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
    }
    assert_eq!(listing(temp.path()), Vec::<String>::new());
}

#[test]
fn kmeans_over_the_budget_spills_an_input_it_cannot_read_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let temp = tempfile::tempdir().expect("temp");
    let path = &model_files(dir.path())[0];
    let km = || {
        scan(path)
            .sort("a", Default::default())
            .kmeans(KMeans::new(3).seed(7).features(["a", "b", "c", "d"]))
    };
    let want = km().fit_with(&unbounded()).expect("in memory");
    // 144,000 rows: k-means++ holds 5 distances a row (5.8 MB), more than the input.
    same_under_budget(
        |o| km().fit_with(o),
        &want,
        (8 << 20, temp.path()),
        same_kmeans,
        "",
    );
    assert_eq!(listing(temp.path()), Vec::<String>::new());
    // A bad value found in the spilled file names its row (in the sorted order) and leaves
    // nothing behind.
    let bad = dir.path().join("bad.parquet");
    model_table(100_003)
        .sink_parquet_with(
            &bad,
            &ParquetWriteOptions::new().row_group_rows(30_001),
            &unbounded(),
        )
        .expect("parquet");
    let sorted_bad = || {
        scan_parquet(&bad)
            .sort("d", Default::default())
            .kmeans(KMeans::new(2).features(["a", "c"]))
    };
    let want = sorted_bad().fit_with(&unbounded()).expect_err("NaN");
    let got = sorted_bad()
        .fit_with(&budget(1 << 20, 2, temp.path()))
        .expect_err("NaN");
    assert_eq!(got.to_string(), want.to_string());
    assert!(got.to_string().contains("\"c\" has NaN"), "{got}");
    assert_eq!(listing(temp.path()), Vec::<String>::new());
}

/// `d` features over `n` rows in four blobs, written to Parquet in row groups of an odd size
/// (so fixed row chunks straddle them).
fn wide_parquet(dir: &Path, n: i64, d: usize) -> PathBuf {
    let blob = ((col("range") * 7919) % 4).cast(DataType::Float64);
    let columns: Vec<Expr> = (0..d)
        .map(|j| {
            let noise =
                ((col("range") * (2 * j as i64 + 31)) % 101).cast(DataType::Float64) / lit(50.0);
            (lit(100.0) + blob.clone() * lit(3.0 * ((j % 5) as f64 - 2.0)) + noise)
                .alias(format!("w{j}"))
        })
        .collect();
    let path = dir.join("wide.parquet");
    range(0, n)
        .select(columns)
        .sink_parquet_with(
            &path,
            &ParquetWriteOptions::new().row_group_rows(3001),
            &unbounded(),
        )
        .expect("parquet");
    path
}

#[test]
fn wide_kmeans_over_the_budget_reads_its_file_per_pass_with_the_same_bits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let temp = tempfile::tempdir().expect("temp");
    // 20,000 x 200 (32 MB): k-means++ holds 40 bytes a row (800 KB), a run 16.
    let path = wide_parquet(dir.path(), 20_000, 200);
    let km = || scan_parquet(&path).kmeans(KMeans::new(4).seed(3));
    let want = km().fit_with(&unbounded()).expect("in memory");
    assert_eq!(want.sizes.iter().filter(|&&s| s > 4000).count(), 4);
    same_under_budget(
        |o| km().fit_with(o),
        &want,
        (1 << 20, temp.path()),
        same_kmeans,
        "",
    );
    // A sorted input is spilled once and read from there.
    let sorted = || {
        scan_parquet(&path)
            .sort("w7", Default::default())
            .kmeans(KMeans::new(4).seed(3))
    };
    let want = sorted().fit_with(&unbounded()).expect("in memory");
    let got = sorted()
        .fit_with(&budget(4 << 20, 2, temp.path()))
        .expect("spilled");
    same_kmeans(&got, &want, "sorted");
    assert_eq!(listing(temp.path()), Vec::<String>::new());
    // What the runs hold does not fit either: the typed error names the fit.
    let e = km()
        .fit_with(&budget(256 << 10, 2, temp.path()))
        .expect_err("over the budget");
    assert!(
        matches!(&e, Error::MemoryLimit { operator, .. } if operator.starts_with("FIT (KMEANS")),
        "{e}"
    );
}

#[test]
fn wide_kmeans_in_a_script_under_the_cli_memory_limit_prints_the_same_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let temp = tempfile::tempdir().expect("temp");
    let path = wide_parquet(dir.path(), 12_000, 150);
    let script = format!(
        "scan_parquet({:?}).kmeans(KMeans::new(3).seed(1))",
        path.to_str().expect("utf-8")
    );
    let run = |extra: &[&str]| cli(&script, extra);
    let plain = run(&[]);
    let temp_s = temp.path().to_str().expect("utf-8");
    let limited = run(&["--memory-limit", "1MiB", "--temp-dir", temp_s]);
    assert_eq!(plain, limited);
    assert!(plain.contains("KMeans: k=3"), "{plain}");
    assert_eq!(listing(temp.path()), Vec::<String>::new());
}

#[test]
fn mini_batch_kmeans_over_the_budget_names_fit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = wide_parquet(dir.path(), 5_000, 20);
    let mb = || scan_parquet(&path).mini_batch_kmeans(MiniBatchKMeans::new(3).seed(2));
    let want = mb().fit_with(&unbounded()).expect("in memory");
    // The input (800 KB) fits 1 MiB, its samples (3 x 1024 rows of 160 bytes, twice) do not.
    let e = mb()
        .fit_with(&budget(1 << 20, 2, dir.path()))
        .expect_err("over the budget");
    assert!(
        matches!(&e, Error::MemoryLimit { operator, .. } if operator.starts_with("FIT (MINI_BATCH")),
        "{e}"
    );
    let got = mb()
        .fit_with(&budget(4 << 20, 2, dir.path()))
        .expect("fits");
    same_kmeans(&got, &want, "4 MiB");
}

#[test]
fn kmeans_over_the_budget_spills_a_join_output_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let temp = tempfile::tempdir().expect("temp");
    let path = &model_files(dir.path())[0];
    // A right join lists the four weights in their order, each followed by its table rows
    // (those of key 4 meet no weight and drop out): an ordering join, whose output cannot be
    // read again, and (fitted on all its columns) the fit's input as it is.
    let weights = range(0, 4).with_columns([
        col("range").alias("k"),
        (col("range").cast(DataType::Float64) * lit(0.25)).alias("w"),
    ]);
    let km = || {
        let table =
            scan(path).with_columns([((col("d") + lit(2.0)).cast(DataType::Int64) % 5).alias("k")]);
        table
            .join(weights.clone(), [col("k")], [col("k")], JoinType::Right)
            .kmeans(KMeans::new(3).seed(7))
    };
    let plan = km().explain_physical().expect("plan");
    assert!(
        plan.lines()
            .nth(1)
            .is_some_and(|l| l.trim().starts_with("HASH_JOIN")),
        "{plan}"
    );
    let want = km().fit_with(&unbounded()).expect("in memory");
    same_under_budget(
        |o| km().fit_with(o),
        &want,
        (8 << 20, temp.path()),
        same_kmeans,
        "",
    );
    assert_eq!(listing(temp.path()), Vec::<String>::new());
}
