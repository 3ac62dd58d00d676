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
