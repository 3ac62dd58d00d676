//! Files nobody on this project wrote: apache/parquet-testing's `data/` and `bad_data/`, the
//! IPC fuzz cases of apache/arrow-testing, and files written by pyarrow, Polars and DuckDB.
//! Every file pyarrow reads must give the same values here (or be on [`UNSUPPORTED`], with the
//! reason); every file it cannot read, and every fuzz case, must end in an error naming the
//! file, never a panic. Expected values come from `tests/corpus/make_expected.py` (pyarrow),
//! compared through the canonical texts of `tests/corpus/canon.{py,rs}`.

use std::path::{Path, PathBuf};

use fusedframe::prelude::*;
use serde_json::Value as Json;

#[path = "corpus/canon.rs"]
mod canon;
#[path = "corpus/fuzz.rs"]
mod fuzz;

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(rel)
}

fn load(rel: &str) -> Json {
    let path = corpus(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Files pyarrow reads that fusedframe deliberately does not, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[(
    "data/nation.dict-malformed.parquet",
    "written by parquet-mr before 1.2.8, whose column chunk sizes leave out the dictionary \
     page header (PARQUET-816): the chunk's last page runs past the size the footer gives. \
     parquet-cpp pads such chunks by 100 bytes; fusedframe reports the truncated chunk as an \
     error naming the file rather than guess at chunk bounds",
)];

/// Files not read by the test at all, with the reason.
const SKIPPED: &[(&str, &str)] = &[(
    "data/large_string_map.brotli.parquet",
    "decompresses to 2 GiB of map keys (pyarrow cannot read it either; fusedframe ends in \
     an error, as a string column's 32-bit offsets cannot hold them): too slow and large for \
     every test run",
)];

/// Compare a frame with a file's expected summary; every difference found.
fn compare(df: &DataFrame, want: &Json) -> Vec<String> {
    let mut out = Vec::new();
    let cols = want["columns"].as_array().expect("columns");
    if df.width() != cols.len() {
        out.push(format!("{} columns, expected {}", df.width(), cols.len()));
        return out;
    }
    for (a, w) in df.columns().iter().zip(cols) {
        let name = w["name"].as_str().unwrap_or("");
        out.extend(canon::compare_column(name, a.as_ref(), w));
    }
    out
}

/// Read `path` with fusedframe; a user error is the file's fault, an internal one (a caught
/// panic included) is a failure of the test.
fn read(path: &Path, scan: fn(&Path) -> LazyFrame) -> Result<Option<DataFrame>, String> {
    match scan(path).collect() {
        Ok(df) => Ok(Some(df)),
        Err(e) if e.is_user_error() => {
            let msg = e.to_string();
            let name = path.file_name().unwrap().to_string_lossy();
            if msg.contains(name.as_ref()) {
                Ok(None)
            } else {
                Err(format!("error does not name the file: {msg}"))
            }
        }
        Err(e) => Err(format!("internal error: {e}")),
    }
}

fn scan_pq(p: &Path) -> LazyFrame {
    scan_parquet(p)
}

fn scan_arrow(p: &Path) -> LazyFrame {
    scan_ipc(p)
}

#[test]
fn parquet_testing_reads_as_pyarrow_does() {
    let expected = load("expected/parquet-testing.json");
    let files = expected["files"].as_object().expect("files");
    assert!(files.len() > 90, "the corpus lost files: {}", files.len());
    let mut failures = Vec::new();
    let mut read_same = 0;
    for (rel, want) in files {
        if SKIPPED.iter().any(|(f, _)| f == rel) {
            continue;
        }
        let path = corpus(&format!("parquet-testing/{rel}"));
        let unsupported = UNSUPPORTED.iter().any(|(f, _)| f == rel);
        match (read(&path, scan_pq), want.get("error")) {
            (Err(e), _) => failures.push(format!("{rel}: {e}")),
            (Ok(None), Some(_)) => {}
            (Ok(None), None) if unsupported => {}
            (Ok(None), None) => failures.push(format!(
                "{rel}: pyarrow reads it, fusedframe: {}",
                scan_parquet(&path).collect().unwrap_err()
            )),
            (Ok(Some(_)), Some(e)) if rel.starts_with("bad_data/") => {
                failures.push(format!("{rel}: reads, but pyarrow says {e}"))
            }
            // pyarrow's own limits (a map key it wants annotated as required): reading is fine.
            (Ok(Some(_)), Some(_)) => {}
            (Ok(Some(df)), None) => {
                let mut diffs = compare(&df, want);
                diffs.extend(compare_with_arrow_rs(&path, &df));
                if diffs.is_empty() {
                    read_same += 1;
                }
                failures.extend(diffs.into_iter().map(|d| format!("{rel}: {d}")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(read_same >= 70, "only {read_same} files compared equal");
}

/// arrow-testing's IPC fuzz cases (files and streams): errors naming the file, no panic.
#[test]
fn ipc_fuzz_cases_end_in_errors() {
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in [
        "arrow-testing/data/arrow-ipc-file",
        "arrow-testing/data/arrow-ipc-stream",
    ] {
        for entry in std::fs::read_dir(corpus(dir)).expect("corpus dir") {
            let path = entry.expect("entry").path();
            if !path.is_file() || path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            n += 1;
            if let Err(e) = read(&path, scan_arrow) {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
    }
    assert!(n > 100, "the fuzz corpus lost files: {n}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Nested columns (maps of maps, lists of lists, structs) keep their rows through filter, sort,
/// gather, slice and the Parquet and IPC sinks; operations that cannot take them are type errors
/// naming the column, found before any data is read.
#[test]
fn nested_columns_pass_through_operators_and_sinks() {
    let texts = |df: &DataFrame, c: &str| canon::canon_array(df.column(c).unwrap().as_ref());
    let dir = tempfile::tempdir().unwrap();
    for (file, nested) in [
        ("nested_maps.snappy.parquet", "a"),
        ("nested_lists.snappy.parquet", "a"),
        ("nullable.impala.parquet", "int_map"),
        ("repeated_no_annotation.parquet", "phoneNumbers"),
    ] {
        let path = corpus(&format!("parquet-testing/data/{file}"));
        let lf = || scan_parquet(&path).with_columns([row_index().alias("i")]);
        let all = texts(&lf().collect().unwrap(), nested);
        let n = all.len();
        assert!(n >= 3, "{file}");
        let pick = |rows: &[usize]| rows.iter().map(|&r| all[r].clone()).collect::<Vec<_>>();

        let odd = lf().filter((col("i") % 2).eq(1)).collect().unwrap();
        assert_eq!(
            texts(&odd, nested),
            pick(&(1..n).step_by(2).collect::<Vec<_>>()),
            "{file}"
        );
        let rev = lf()
            .sort("i", SortOptions::default().descending(true))
            .collect()
            .unwrap();
        assert_eq!(
            texts(&rev, nested),
            pick(&(0..n).rev().collect::<Vec<_>>()),
            "{file}"
        );
        let got = lf().gather(lit(2)).collect().unwrap();
        assert_eq!(texts(&got, nested), pick(&[2]), "{file}");
        let mid = lf().slice(1, 2).collect().unwrap();
        assert_eq!(texts(&mid, nested), pick(&[1, 2]), "{file}");

        let pq = dir.path().join("nested.parquet");
        lf().sink_parquet(&pq).unwrap();
        assert_eq!(
            texts(&scan_parquet(&pq).collect().unwrap(), nested),
            all,
            "{file}"
        );
        for stream in [false, true] {
            let ipc = dir.path().join("nested.arrow");
            let opts = fusedframe::io::IpcWriteOptions::new().stream(stream);
            lf().sink_ipc_with(&ipc, &opts, &ExecOptions::new())
                .unwrap();
            assert_eq!(
                texts(&scan_ipc(&ipc).collect().unwrap(), nested),
                all,
                "{file}"
            );
        }
        // No CSV form: a type error naming the (first nested) column, no file left behind.
        let csv = dir.path().join("nested.csv");
        let e = lf().sink_csv(&csv).unwrap_err();
        assert!(
            matches!(e, Error::Type(_)) && e.to_string().contains("column"),
            "{e}"
        );
        assert!(!csv.exists());
        // Arithmetic and sorting by a nested column: type errors naming it, at plan time.
        let e = lf().with_columns([col(nested) + 1]).schema().unwrap_err();
        assert!(
            matches!(e, Error::Type(_)) && e.to_string().contains(nested),
            "{e}"
        );
        let e = lf().filter(col(nested).gt(1)).schema().unwrap_err();
        assert!(e.to_string().contains(nested), "{e}");
    }
}

/// IPC streams (the format of `pyarrow.ipc.new_stream` and Arrow Flight) read like files,
/// compressed ones included, whatever the extension; `sink_ipc_with` writes either format.
#[test]
fn ipc_streams_and_files_read_alike() {
    let dir = corpus("arrow-testing/data/arrow-ipc-stream/integration/2.0.0-compression");
    for codec in ["lz4", "zstd", "uncompressible_lz4", "uncompressible_zstd"] {
        let file = scan_ipc(dir.join(format!("generated_{codec}.arrow_file"))).collect();
        let stream = scan_ipc(dir.join(format!("generated_{codec}.stream"))).collect();
        let (file, stream) = (file.unwrap(), stream.unwrap());
        assert!(file.height() > 0 && file.equals(&stream), "{codec}");
    }
    let shared = corpus("arrow-testing/data/arrow-ipc-stream/integration/4.0.0-shareddict");
    let f = scan_ipc(shared.join("generated_shared_dict.arrow_file"))
        .collect()
        .unwrap();
    let s = scan_ipc(shared.join("generated_shared_dict.stream"))
        .collect()
        .unwrap();
    assert!(f.equals(&s));

    let tmp = tempfile::tempdir().unwrap();
    let df = scan_parquet(corpus("parquet-testing/data/alltypes_plain.parquet"))
        .collect()
        .unwrap();
    use fusedframe::io::{IpcCompression, IpcWriteOptions};
    for stream in [false, true] {
        for codec in [
            IpcCompression::Uncompressed,
            IpcCompression::Lz4,
            IpcCompression::Zstd,
        ] {
            let path = tmp.path().join("x.bin");
            let opts = IpcWriteOptions::new().stream(stream).compression(codec);
            df.clone()
                .lazy()
                .sink_ipc_with(&path, &opts, &ExecOptions::new())
                .unwrap();
            let magic = std::fs::read(&path).unwrap();
            assert_eq!(magic.starts_with(b"ARROW1"), !stream);
            assert!(
                scan_ipc(&path).collect().unwrap().equals(&df),
                "{stream} {codec:?}"
            );
        }
    }
}

/// Every Parquet codec writes and reads back (gzip and brotli need parquet's features).
#[test]
fn parquet_sinks_write_every_codec() {
    use fusedframe::io::{ParquetCompression as C, ParquetWriteOptions};
    let df = scan_parquet(corpus("parquet-testing/data/alltypes_tiny_pages.parquet"))
        .collect()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for codec in [
        C::Uncompressed,
        C::Snappy,
        C::Gzip,
        C::Brotli,
        C::Lz4Raw,
        C::Zstd,
    ] {
        let path = dir.path().join("x.parquet");
        let opts = ParquetWriteOptions::new()
            .compression(codec)
            .row_group_rows(1000);
        df.clone()
            .lazy()
            .sink_parquet_with(&path, &opts, &ExecOptions::new())
            .unwrap();
        assert!(
            scan_parquet(&path).collect().unwrap().equals(&df),
            "{codec:?}"
        );
    }
    assert_eq!(C::from_name("GZIP").unwrap(), C::Gzip);
    assert!(C::from_name("lzo").is_err());
}

fn fuzz_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-files");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn report(failures: &[fuzz::Failure]) -> String {
    let dir = fuzz_dir();
    failures
        .iter()
        .map(|f| {
            let keep = dir.join(format!("case-{}.{}", f.case, f.format_ext()));
            let _ = std::fs::write(&keep, &f.input);
            format!(
                "case {} ({} {}): {}\n  input kept at {}; add it to tests/corpus/fuzz-regressions/",
                f.case,
                f.seed_file,
                f.mutation,
                f.error,
                keep.display()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A few hundred mutated files on every test run; `.ci/run` runs the long fuzz below.
#[test]
fn mutated_files_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let budget = std::time::Duration::from_secs(60);
    let hang = std::time::Duration::from_secs(60);
    let (n, failures) = fuzz::run(root, dir.path(), 0x5eed_0000, budget, 300, hang);
    assert!(n > 0);
    let failures: Vec<_> = failures
        .into_iter()
        .filter(|f| !f.error.contains(fuzz::CAUGHT))
        .collect();
    assert!(failures.is_empty(), "{}", report(&failures));
}

/// The CI fuzz step: `FUZZ_SECONDS` (default 240) of cases from `FUZZ_SEED`, each case
/// bounded by a watchdog (`FUZZ_HANG_SECONDS`, default 20).
#[test]
#[ignore = "long: run by .ci/run's fuzz step"]
fn fuzz_file_readers() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (secs, seed, hang) = (
        env("FUZZ_SECONDS", 240),
        env("FUZZ_SEED", 0x5eed_0000),
        env("FUZZ_HANG_SECONDS", 20),
    );
    // Decoder panics the scan boundary catches are failures all the same; keep their
    // messages (one per case) out of the log.
    std::panic::set_hook(Box::new(|_| {}));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (n, failures) = fuzz::run(
        root,
        dir.path(),
        seed,
        std::time::Duration::from_secs(secs),
        u64::MAX,
        std::time::Duration::from_secs(hang),
    );
    let _ = std::panic::take_hook();
    let (caught, failures): (Vec<_>, Vec<_>) = failures
        .into_iter()
        .partition(|f| f.error.contains(fuzz::CAUGHT));
    eprintln!(
        "fuzz: {n} cases from seed {seed} in at most {secs} s: {} failures, {} decoder panics \
         caught at the scan boundary",
        failures.len(),
        caught.len()
    );
    if !caught.is_empty() {
        eprintln!(
            "caught (dependency bugs, reported as internal errors naming the file):\n{}",
            report(&caught)
        );
    }
    assert!(failures.is_empty(), "{}", report(&failures));
}

/// Inputs the fuzzer once broke: each must end in a value or an error naming the file, with
/// no crash (those in `caught/` panic inside parquet's decoders; the scan boundary turns the
/// panic into an internal error naming the file).
#[test]
fn fuzz_regressions_stay_fixed() {
    if let Ok(entries) = std::fs::read_dir(corpus("fuzz-regressions/caught")) {
        for e in entries {
            let path = e.unwrap().path();
            let format = fuzz::Format::of(&path).expect("format");
            if let Err(err) = fuzz::exercise(format, &path) {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                assert!(err.contains(fuzz::CAUGHT) && err.contains(&name), "{err}");
            }
        }
    }
    let Ok(entries) = std::fs::read_dir(corpus("fuzz-regressions")) else {
        return;
    };
    let mut failures = Vec::new();
    for e in entries {
        let path = e.unwrap().path();
        let Some(format) = fuzz::Format::of(&path) else {
            continue;
        };
        if let Err(err) = fuzz::exercise(format, &path) {
            failures.push(format!("{}: {err}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Found by the fuzzer, once aborted the process: a compressed IPC buffer whose declared
/// uncompressed length is absurd (arrow allocated it up front, and the allocation failed).
#[test]
fn ipc_buffer_with_an_absurd_uncompressed_length_is_an_error() {
    use fusedframe::io::{IpcCompression, IpcWriteOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.arrows");
    let df = DataFrame::new(vec![Column::new("x", (0..1000i64).collect::<Vec<_>>())]).unwrap();
    let opts = IpcWriteOptions::new()
        .stream(true)
        .compression(IpcCompression::Zstd);
    df.lazy()
        .sink_ipc_with(&path, &opts, &ExecOptions::new())
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let len = 8000i64.to_le_bytes();
    let at = bytes
        .windows(8)
        .position(|w| w == len)
        .expect("the buffer's length prefix");
    bytes[at..at + 8].copy_from_slice(&0x00F0_0000_0000_0000i64.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let e = scan_ipc(&path).collect().unwrap_err();
    assert!(
        e.is_user_error() && e.to_string().contains("x.arrows"),
        "{e}"
    );
}

/// Found by the fuzzer, once aborted the process: a footer claiming 5*10^11 rows in a row
/// group (the executor allocated the output from that count before decoding).
#[test]
fn parquet_footer_with_an_absurd_row_count_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.parquet");
    let df = DataFrame::new(vec![Column::new("x", (0..1000i64).collect::<Vec<_>>())]).unwrap();
    df.lazy().sink_parquet(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    let footer_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let footer = &bytes[n - 8 - footer_len..n - 8];
    // i64 field 3 (num_rows, after field 2) = 1000: zigzag varint 0xd0 0x0f.
    let rows = [0x16u8, 0xd0, 0x0f];
    let mut huge = vec![0x16u8];
    let mut v = 2 * 500_000_000_000u64;
    while v >= 0x80 {
        huge.push((v as u8) | 0x80);
        v >>= 7;
    }
    huge.push(v as u8);
    let mut patched = Vec::new();
    let mut i = 0;
    while i < footer.len() {
        if footer[i..].starts_with(&rows) {
            patched.extend_from_slice(&huge);
            i += rows.len();
        } else {
            patched.push(footer[i]);
            i += 1;
        }
    }
    assert!(patched.len() > footer.len(), "no row count found to patch");
    let mut out = bytes[..n - 8 - footer_len].to_vec();
    out.extend_from_slice(&patched);
    out.extend_from_slice(&(patched.len() as u32).to_le_bytes());
    out.extend_from_slice(b"PAR1");
    std::fs::write(&path, &out).unwrap();
    let e = scan_parquet(&path).collect().unwrap_err();
    assert!(
        e.is_user_error() && e.to_string().contains("x.parquet"),
        "{e}"
    );
}

/// The same file through arrow-rs's own Parquet reader (no fusedframe decoder involved), as
/// canonical texts per column; `None` where arrow-rs cannot read it.
fn arrow_rs_texts(path: &Path) -> Option<Vec<(String, Vec<String>)>> {
    use arrow::array::RecordBatchReader;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).ok()?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .ok()?
        .build()
        .ok()?;
    let schema = reader.schema();
    let batches: Vec<_> = reader.collect::<Result<_, _>>().ok()?;
    let mut out = Vec::new();
    for (j, f) in schema.fields().iter().enumerate() {
        let parts: Vec<&dyn arrow::array::Array> =
            batches.iter().map(|b| b.column(j).as_ref()).collect();
        let texts = if parts.is_empty() {
            Vec::new()
        } else {
            canon::canon_array(arrow::compute::concat(&parts).ok()?.as_ref())
        };
        out.push((f.name().clone(), texts));
    }
    Some(out)
}

/// fusedframe's values against arrow-rs's for one Parquet file (columns whose types differ,
/// INT96 read as microseconds here, are skipped); every difference found.
fn compare_with_arrow_rs(path: &Path, df: &DataFrame) -> Vec<String> {
    let Some(theirs) = arrow_rs_texts(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, texts) in theirs {
        let Ok(ours) = df.column(&name) else {
            continue;
        };
        if ours.len() == texts.len() && canon::canon_array(ours.as_ref()) != texts {
            let is_int96 = matches!(ours.data_type(), arrow::datatypes::DataType::Timestamp(..));
            if !is_int96 {
                out.push(format!("column {name} differs from arrow-rs's reading"));
            }
        }
    }
    out
}

/// Parquet, IPC files and streams and CSV written by pyarrow (every codec x dictionary on/off x
/// data page v1/v2, delta and byte-stream-split encodings, decimals, dates, time zones, nested
/// types, an empty file, no statistics, tiny pages), Polars and DuckDB read the values
/// pyarrow reads back (`tests/corpus/make_writers.py`); our Parquet decoder agrees with
/// arrow-rs's on each.
#[test]
fn files_from_other_writers_read_the_same() {
    let expected = load("expected/writers.json");
    let files = expected["files"].as_object().expect("files");
    assert!(files.len() >= 45, "writers' files lost: {}", files.len());
    let mut failures = Vec::new();
    for (name, want) in files {
        let path = corpus(&format!("writers/{name}"));
        let lf = match fuzz::Format::of(&path).expect("format") {
            fuzz::Format::Parquet => scan_parquet(&path),
            fuzz::Format::Ipc => scan_ipc(&path),
            fuzz::Format::Csv => scan_csv(&path),
        };
        match lf.collect() {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(df) => {
                failures.extend(
                    compare(&df, want)
                        .into_iter()
                        .map(|d| format!("{name}: {d}")),
                );
                if name.ends_with(".parquet") {
                    let diffs = compare_with_arrow_rs(&path, &df);
                    failures.extend(diffs.into_iter().map(|d| format!("{name}: {d}")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Our CSV splitter and parser against arrow-rs's CSV reader (empty fields as nulls, schema
/// inferred from the whole file) on every CSV file of the tests: the writers' files and the
/// datasets. Columns both infer as the same type must hold the same values.
#[test]
fn csv_reader_agrees_with_arrow_csv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = ["tests/corpus/writers", "datasets"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10);
    let (mut compared, mut failures) = (0, Vec::new());
    let null = regex::Regex::new("^$").unwrap();
    for path in paths {
        let ours = scan_csv(&path).collect().unwrap();
        let format = arrow_csv::reader::Format::default()
            .with_header(true)
            .with_null_regex(null.clone());
        let file = std::fs::File::open(&path).unwrap();
        let (schema, _) = format.infer_schema(file, None).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let reader = arrow_csv::ReaderBuilder::new(std::sync::Arc::new(schema.clone()))
            .with_format(format)
            .build(file)
            .unwrap();
        let batches: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
        for (j, f) in schema.fields().iter().enumerate() {
            let Ok(mine) = ours.column(f.name()) else {
                failures.push(format!("{}: no column {}", path.display(), f.name()));
                continue;
            };
            if mine.data_type() != f.data_type() {
                continue;
            }
            let parts: Vec<&dyn arrow::array::Array> =
                batches.iter().map(|b| b.column(j).as_ref()).collect();
            let theirs = arrow::compute::concat(&parts).unwrap();
            compared += 1;
            if canon::canon_array(mine.as_ref()) != canon::canon_array(theirs.as_ref()) {
                failures.push(format!("{}: column {} differs", path.display(), f.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= 40,
        "only {compared} columns had the same type in both readers"
    );
}
