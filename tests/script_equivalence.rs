//! Every script in `queries/` run two ways, interpreted and compiled as Rust (by `build.rs`),
//! must give identical plan text (as built and optimized) and identical results (for a model:
//! its fitted table). This is the contract of the script language: a script means exactly what
//! the same Rust code means.

use std::path::Path;

use fusedframe::prelude::*;
use fusedframe::script::{Output, Script};

include!(concat!(env!("OUT_DIR"), "/query_scripts.rs"));

fn interpreted(file: &str) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries")
        .join(file);
    let script = Script::from_file(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    match script.eval() {
        Ok(ev) => ev.output,
        Err(e) => panic!("{file}: {e}"),
    }
}

#[test]
fn every_script_is_compiled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("queries/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".fq"))
        // Pictures need the `plot` feature (build.rs leaves them out without it).
        .filter(|n| cfg!(feature = "plot") || !n.starts_with("plot_"))
        .collect();
    on_disk.sort();
    let compiled: Vec<String> = QUERIES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, compiled, "build.rs is stale; touch build.rs");
    assert!(!compiled.is_empty());
}

#[test]
fn interpreted_and_compiled_scripts_agree() {
    // Paths in scripts are relative to the project root, as for the CLI.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("project root");
    for (file, compiled) in QUERIES {
        let a = interpreted(file);
        let b = compiled().unwrap_or_else(|e| panic!("{file} (compiled): {e}"));
        for optimized in [false, true] {
            // A fitted model has no plan: then both sides must fail the same way.
            let pa = a.explain(optimized).map_err(|e| e.to_string());
            let pb = b.explain(optimized).map_err(|e| e.to_string());
            assert_eq!(pa, pb, "{file}: plan text differs (optimized: {optimized})");
        }
        let options = ExecOptions::new();
        let da = a
            .collect_with(&options)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let db = b
            .collect_with(&options)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(da.equals(&db), "{file}: results differ\n{da}\n{db}");
    }
}

/// The TPC-H tables at scale factor `sf`, written as `dir/<table>.parquet` from the generator
/// that `tpchgen-cli` wraps (so the rows are those `tests/golden/make_tpch_answers.py` gives
/// DuckDB).
fn write_tpch(dir: &Path, sf: f64) {
    use tpchgen::generators::*;
    use tpchgen_arrow::*;
    type Batches =
        Box<dyn Iterator<Item = Result<arrow::array::RecordBatch, arrow::error::ArrowError>>>;
    std::fs::create_dir_all(dir).expect("tpch dir");
    let tables: Vec<(&str, Batches)> = vec![
        (
            "lineitem",
            Box::new(LineItemArrow::new(LineItemGenerator::new(sf, 1, 1))),
        ),
        (
            "orders",
            Box::new(OrderArrow::new(OrderGenerator::new(sf, 1, 1))),
        ),
        (
            "customer",
            Box::new(CustomerArrow::new(CustomerGenerator::new(sf, 1, 1))),
        ),
        (
            "part",
            Box::new(PartArrow::new(PartGenerator::new(sf, 1, 1))),
        ),
        (
            "partsupp",
            Box::new(PartSuppArrow::new(PartSuppGenerator::new(sf, 1, 1))),
        ),
        (
            "supplier",
            Box::new(SupplierArrow::new(SupplierGenerator::new(sf, 1, 1))),
        ),
        (
            "nation",
            Box::new(NationArrow::new(NationGenerator::new(sf, 1, 1))),
        ),
        (
            "region",
            Box::new(RegionArrow::new(RegionGenerator::new(sf, 1, 1))),
        ),
    ];
    for (name, batches) in tables {
        let frames: Vec<DataFrame> = batches
            .map(|b| DataFrame::from_record_batch(&b.expect("generated batch")))
            .collect();
        let df = DataFrame::vstack(frames[0].schema().clone(), &frames).expect("stack");
        fusedframe::io::write_parquet(&df, &dir.join(format!("{name}.parquet"))).expect("write");
    }
}

/// Where `got` differs from DuckDB's `want` (`{"columns": [..], "rows": [[..]]}`): numbers
/// (decimals included) within 1e-9 relative, anything else as text (dates `YYYY-MM-DD`).
fn tpch_mismatch(got: &DataFrame, want: &serde_json::Value) -> Option<String> {
    let rows = want["rows"].as_array()?;
    if got.height() != rows.len() || got.width() != want["columns"].as_array()?.len() {
        return Some(format!(
            "shape {:?}, DuckDB has {} rows of {}",
            got.shape(),
            rows.len(),
            want["columns"]
        ));
    }
    for (c, name) in got.column_names().iter().enumerate() {
        let numeric = rows.iter().any(|r| r[c].is_number());
        if numeric {
            let vals = got.column_f64(name).ok()?;
            for (r, v) in vals.iter().enumerate() {
                let w = rows[r][c].as_f64();
                let same = match (v, w) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    return Some(format!("row {r} column {name}: {v:?}, DuckDB {w:?}"));
                }
            }
        } else {
            let text = arrow::compute::cast(got.column(name).ok()?, &DataType::Utf8).ok()?;
            let text = text.as_any().downcast_ref::<arrow::array::StringArray>()?;
            for (r, row) in rows.iter().enumerate() {
                let (v, w) = (text.is_valid(r).then(|| text.value(r)), row[c].as_str());
                // SQL's SUM over no rows is NULL; fusedframe's is 0, as NumPy's and Polars'
                // (Q17 selects no rows at scale factor 0.01).
                let empty_sum = rows.len() == 1 && w.is_none() && matches!(v, Some("0" | "0.0"));
                if v != w && !empty_sum {
                    return Some(format!("row {r} column {name}: {v:?}, DuckDB {w:?}"));
                }
            }
        }
    }
    None
}

use arrow::array::Array;

/// The 22 TPC-H scripts of `queries/tpch/`, at scale factor 0.01, give DuckDB's answers
/// (`tests/golden/tpch_sf001.json`, made by `tests/golden/make_tpch_answers.py`).
#[test]
fn tpch_queries_match_duckdb() {
    check_tpch();
}

/// Run every TPC-H script against the DuckDB answers.
fn check_tpch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("tpch");
    write_tpch(&data, 0.01);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/golden/tpch_sf001.json")).expect("golden"),
    )
    .expect("golden json");
    let mut failures = vec![];
    for q in 1..=22 {
        let name = format!("q{q:02}");
        let path = root.join(format!("queries/tpch/{name}.fq"));
        let text = std::fs::read_to_string(&path)
            .expect("script")
            .replace("\"tpch/", &format!("\"{}/", data.display()));
        let got = Script::new(format!("queries/tpch/{name}.fq"), text)
            .eval()
            .and_then(|ev| ev.output.into_lazy())
            .and_then(|lf| lf.collect_with(&ExecOptions::new().threads(2)));
        match got {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(df) => {
                if let Some(m) = tpch_mismatch(&df, &golden[&name]) {
                    failures.push(format!("{name}: {m}\n{df}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
