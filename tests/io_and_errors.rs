//! Parquet and IPC scans and sinks, user errors (named, typed, no panics), and thread-count
//! determinism.

use std::path::Path;

use fusedframe::io::{write_ipc, write_parquet_with_row_groups};
use fusedframe::prelude::*;

fn sample(n: usize) -> DataFrame {
    // A deterministic, irregular float column with NaN, and an int label.
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if i % 101 == 7 {
                f64::NAN
            } else {
                ((i as f64) * 0.7548776662).fract() * 100.0 - 50.0 + (i % 13) as f64 * 1e-3
            }
        })
        .collect();
    let z: Vec<f64> = (0..n)
        .map(|i| ((i as f64) * 0.5698402910).fract() * 2.0 - 1.0)
        .collect();
    let label: Vec<i64> = (0..n as i64).map(|i| i % 10).collect();
    let id: Vec<i64> = (0..n as i64).collect();
    df!("id" => id, "x" => x, "z" => z, "label" => label).unwrap()
}

fn files(dir: &Path, n: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let df = sample(n);
    let p = dir.join("t.parquet");
    let i = dir.join("t.arrow");
    write_parquet_with_row_groups(&df, &p, 50_000).unwrap();
    write_ipc(&df, &i).unwrap();
    (p, i)
}

#[test]
fn parquet_and_ipc_round_trip_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (p, i) = files(dir.path(), 200_000);
    let original = sample(200_000);
    assert!(scan_parquet(&p).collect().unwrap().equals(&original));
    assert!(scan_ipc(&i).collect().unwrap().equals(&original));
    let q = |lf: LazyFrame| {
        lf.filter(col("z").gt(0.0))
            .select([
                col("x").nan_sum().alias("s"),
                col("x").nan_mean().alias("m"),
                col("x").min().alias("mn"),
                col("x").nan_max().alias("mx"),
                col("id").count().alias("n"),
            ])
            .collect()
            .unwrap()
    };
    let a = q(scan_parquet(&p));
    let b = q(scan_ipc(&i));
    let c = q(original.clone().lazy());
    assert_eq!(a.column_f64("n").unwrap(), c.column_f64("n").unwrap());
    assert!(a.column_f64("mn").unwrap()[0].unwrap().is_nan());
    // Against the same aggregates computed row by row from the data (the filter fused into
    // the aggregates, over Parquet's own decoder, IPC and memory).
    let (xs, zs) = (
        original.column_f64("x").unwrap(),
        original.column_f64("z").unwrap(),
    );
    let kept: Vec<f64> = xs
        .iter()
        .zip(&zs)
        .filter(|(_, z)| z.unwrap() > 0.0)
        .map(|(x, _)| x.unwrap())
        .filter(|x| !x.is_nan())
        .collect();
    let sum: f64 = kept.iter().sum();
    let want = [
        ("s", sum),
        ("m", sum / kept.len() as f64),
        ("mx", kept.iter().copied().fold(f64::MIN, f64::max)),
    ];
    for (col, w) in want {
        for (system, r) in [("parquet", &a), ("ipc", &b), ("memory", &c)] {
            let x = r.column_f64(col).unwrap()[0].unwrap();
            assert!(
                (x - w).abs() <= 1e-9 * w.abs(),
                "{system} {col}: {x} vs {w}"
            );
        }
    }
    // Sinks round-trip and leave no temporary files behind.
    let out = dir.path().join("out.parquet");
    scan_parquet(&p)
        .filter(col("label").eq(3))
        .sink_parquet(&out)
        .unwrap();
    let back = scan_parquet(&out).collect().unwrap();
    assert_eq!(back.height(), 20_000);
    let out_ipc = dir.path().join("out.arrow");
    scan_parquet(&p).head(5).sink_ipc(&out_ipc).unwrap();
    assert_eq!(scan_ipc(&out_ipc).collect().unwrap().height(), 5);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn only_used_columns_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = files(dir.path(), 1000);
    let plan = scan_parquet(&p)
        .filter(col("z").gt(0.0))
        .select([col("x").sum()])
        .explain(true)
        .unwrap();
    // The filter moves into the scan, which reads `z` for it and outputs only `x`.
    assert!(
        plan.contains("SCAN PARQUET")
            && plan.contains("columns=[x]")
            && plan.contains("predicate=col(\"z\").gt(0.0)"),
        "{plan}"
    );
}

#[test]
fn head_and_tail_over_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (p, i) = files(dir.path(), 200_000);
    for lf in [scan_parquet(&p), scan_ipc(&i)] {
        let h = lf.clone().head(3).collect().unwrap();
        assert_eq!(
            h.column_f64("id").unwrap(),
            vec![Some(0.0), Some(1.0), Some(2.0)]
        );
        let t = lf.clone().tail(2).collect().unwrap();
        assert_eq!(
            t.column_f64("id").unwrap(),
            vec![Some(199_998.0), Some(199_999.0)]
        );
        let s = lf.filter(col("label").eq(9)).slice(1, 2).collect().unwrap();
        assert_eq!(s.column_f64("id").unwrap(), vec![Some(19.0), Some(29.0)]);
    }
}

#[test]
fn results_are_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = files(dir.path(), 300_000);
    let q = || {
        scan_parquet(&p)
            .filter(col("z").gt(-0.5))
            .with_columns([(col("x") - col("x").nan_mean()).alias("xc")])
            .select([
                col("xc").nan_sum().alias("s"),
                col("xc").nan_std(1).alias("sd"),
                col("x").nan_median().alias("med"),
                (col("xc") * col("z")).nan_sum().alias("p"),
            ])
    };
    let one = q().collect_with(&ExecOptions::new().threads(1)).unwrap();
    for t in [2, 3, 8] {
        let many = q().collect_with(&ExecOptions::new().threads(t)).unwrap();
        for c in ["s", "sd", "med", "p"] {
            let (a, b) = (
                one.column_f64(c).unwrap()[0].unwrap(),
                many.column_f64(c).unwrap()[0].unwrap(),
            );
            assert_eq!(a.to_bits(), b.to_bits(), "{c} differs with {t} threads");
        }
    }
    let sorted1 = q().collect_with(&ExecOptions::new().threads(1)).unwrap();
    let sorted2 = q().collect_with(&ExecOptions::new().threads(2)).unwrap();
    assert!(sorted1.equals(&sorted2));
}

#[test]
fn unknown_column_is_named_with_a_suggestion_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = files(dir.path(), 100);
    let err = scan_parquet(&p)
        .select([col("lable")])
        .schema()
        .unwrap_err();
    assert!(matches!(err, Error::ColumnNotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("\"lable\"") && msg.contains("did you mean \"label\""),
        "{msg}"
    );
    let err = scan_parquet(&p)
        .filter(col("zz").gt(1))
        .collect()
        .unwrap_err();
    assert!(err.to_string().contains("did you mean \"z\""), "{err}");
}

#[test]
fn type_mismatch_is_found_at_plan_time() {
    let df = df!("s" => ["a", "b"], "x" => [1.0, 2.0]).unwrap();
    let err = df
        .clone()
        .lazy()
        .with_columns([col("s") + 1])
        .schema()
        .unwrap_err();
    assert!(matches!(err, Error::Type(_)), "{err:?}");
    assert!(err.to_string().contains("col(\"s\") (str)"), "{err}");
    let err = df
        .clone()
        .lazy()
        .filter(col("x") * 2)
        .collect()
        .unwrap_err();
    assert!(err.to_string().contains("boolean predicate"), "{err}");
    let err = df
        .lazy()
        .select([col("x").mean().alias("a"), col("x").alias("a")])
        .schema()
        .unwrap_err();
    assert!(
        err.to_string().contains("duplicate output column \"a\""),
        "{err}"
    );
}

#[test]
fn missing_and_corrupt_files_name_the_path() {
    let err = scan_parquet("/no/such/file.parquet").collect().unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/no/such/file.parquet"), "{err}");
    let err = scan_ipc("/no/such/file.arrow").schema().unwrap_err();
    assert!(err.to_string().contains("/no/such/file.arrow"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, b"PAR1 this is not really parquet PAR1").unwrap();
    let err = scan_parquet(&bad).collect().unwrap_err();
    assert!(
        matches!(
            err,
            Error::File {
                format: "Parquet",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("bad.parquet"), "{err}");
    let bad = dir.path().join("bad.arrow");
    std::fs::write(&bad, b"ARROW1\0\0garbage garbage garbage").unwrap();
    let err = scan_ipc(&bad).collect().unwrap_err();
    assert!(err.to_string().contains("bad.arrow"), "{err}");
}

#[test]
fn failed_query_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let df = df!("x" => [1, 2]).unwrap();
    let err = df.lazy().select([col("x") % 0]).sink_parquet(&out);
    assert!(err.is_err());
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn thread_count_zero_is_a_user_error() {
    let df = df!("x" => [1]).unwrap();
    let err = df
        .lazy()
        .collect_with(&ExecOptions::new().threads(0))
        .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
}

#[test]
fn parquet_sink_writes_floats_plain_and_strings_with_a_dictionary() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.parquet");
    df!(
        "x" => [0.5, 1.5, 0.5, 2.5],
        "s" => ["a", "b", "a", "a"]
    )
    .expect("frame")
    .lazy()
    .sink_parquet(&path)
    .expect("sink");
    let reader =
        SerializedFileReader::new(std::fs::File::open(&path).expect("open")).expect("read");
    let rg = reader.metadata().row_group(0);
    let dictionary = |i: usize| rg.column(i).dictionary_page_offset().is_some();
    // Floats rarely repeat: a dictionary per column only costs (memory and time on wide
    // tables); strings keep theirs.
    assert!(!dictionary(0), "the float column has a dictionary page");
    assert!(dictionary(1), "the string column has no dictionary page");
}
