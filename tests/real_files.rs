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
                let diffs = compare(&df, want);
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
