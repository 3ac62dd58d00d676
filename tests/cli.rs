//! The `fusedframe` binary, run as a user runs it: every script in `queries/` must succeed and
//! print exactly `tests/expected/NAME.out`; every script in `tests/scripts/errors/` must fail
//! with exactly `tests/expected/errors/NAME.err` (exit code and stderr). Regenerate the
//! expected files with `UPDATE_EXPECTED=1 cargo test --test cli` and review the diff.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run the binary from the project root (script paths in messages stay relative).
fn fusedframe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fusedframe"))
        .args(args)
        .current_dir(root())
        // Results must not depend on the thread count; two keeps the shared machine calm.
        .env("FUSEDFRAME_THREADS", "2")
        .output()
        .expect("the fusedframe binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECTED").is_some_and(|v| v == "1")
}

/// Compare with the stored file, or store it when updating. Returns a mismatch description.
fn check(expected: &Path, actual: &str) -> Option<String> {
    if updating() {
        if let Some(dir) = expected.parent() {
            fs::create_dir_all(dir).expect("create expected dir");
        }
        fs::write(expected, actual).expect("write expected file");
        return None;
    }
    match fs::read_to_string(expected) {
        Ok(want) if want == actual => None,
        Ok(want) => Some(format!(
            "{} differs\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        )),
        Err(_) => Some(format!(
            "{} is missing (run with UPDATE_EXPECTED=1)\n--- actual\n{actual}",
            expected.display()
        )),
    }
}

fn scripts_in(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(root().join(dir))
        .expect("script dir exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "fq"))
        // Pictures need the `plot` feature.
        .filter(|p| cfg!(feature = "plot") || !stem(p).starts_with("plot_"))
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_query_script_prints_its_expected_output() {
    let mut failures = Vec::new();
    for script in scripts_in("queries") {
        let rel = format!("queries/{}.fq", stem(&script));
        let out = fusedframe(&["run", &rel]);
        if !out.status.success() {
            failures.push(format!(
                "{rel} failed ({}):\n{}",
                out.status,
                text(&out.stderr)
            ));
            continue;
        }
        let expected = root()
            .join("tests/expected")
            .join(format!("{}.out", stem(&script)));
        failures.extend(check(&expected, &text(&out.stdout)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_error_script_fails_with_its_expected_message() {
    let mut failures = Vec::new();
    for script in scripts_in("tests/scripts/errors") {
        let rel = format!("tests/scripts/errors/{}.fq", stem(&script));
        let out = fusedframe(&["run", &rel]);
        let actual = format!("exit code: {:?}\n{}", out.status.code(), text(&out.stderr));
        if !out.stdout.is_empty() {
            failures.push(format!("{rel} printed to stdout: {}", text(&out.stdout)));
        }
        let expected = root()
            .join("tests/expected/errors")
            .join(format!("{}.err", stem(&script)));
        failures.extend(check(&expected, &actual));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
#[cfg_attr(not(feature = "plot"), ignore = "queries/ holds plot scripts")]
fn running_the_queries_directory_runs_every_script_in_order() {
    let out = fusedframe(&["run", "queries/"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("==> ")).collect();
    let scripts = scripts_in("queries");
    assert_eq!(headers.len(), scripts.len(), "{stdout}");
    for (h, s) in headers.iter().zip(&scripts) {
        assert!(h.starts_with(&format!("==> queries/{}.fq", stem(s))), "{h}");
    }
}

#[test]
fn explain_and_schema_subcommands() {
    let out = fusedframe(&["run", "queries/02_array.fq", "--explain"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(plan.starts_with("DATAFRAME rows=3 width=3"), "{plan}");
    let out = fusedframe(&["explain", "queries/02_array.fq"]);
    assert_eq!(text(&out.stdout), plan);
    let out = fusedframe(&["explain", "--verbose", "queries/02_array.fq"]);
    let verbose = text(&out.stdout);
    assert!(
        verbose.starts_with("initial plan:\n") && verbose.contains("optimized plan:"),
        "{verbose}"
    );
    let out = fusedframe(&["schema", "datasets/iris.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "sepal_length: f64\nsepal_width: f64\npetal_length: f64\npetal_width: f64\nspecies: str\n"
    );
}

#[test]
fn inline_scripts_and_formats() {
    let e = "df!(\"a\" => [1, 2], \"b\" => [0.5, f64::NAN])?.lazy().filter(col(\"a\").gt(1))";
    let out = fusedframe(&["run", "-e", e, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[\n  {\"a\": 2, \"b\": null}\n]\n");
    // A model prints its summary as a table, and its table in the other formats.
    let m = "df!(\"x\" => [1.0, 2.0, 3.0], \"y\" => [2.0, 4.0, 6.0])?.lazy().linear_regression(\"y\", [\"x\"])";
    let out = fusedframe(&["run", "-e", m, "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("term,coefficient\nintercept,"),
        "{}",
        text(&out.stdout)
    );
    let out = fusedframe(&["run", "-e", m]);
    assert!(
        text(&out.stdout).starts_with("LinearRegression: y ~ x"),
        "{}",
        text(&out.stdout)
    );
    let out = fusedframe(&["run", "-e", "df!(\"a\" => [1])?.lazy().sortt()"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--> -e:1:25"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        vec!["run"],
        vec!["run", "queries/02_array.fq", "--output", "out.txt"],
        vec![
            "run",
            "queries/02_array.fq",
            "queries/02_array.fq",
            "--output",
            "out.csv",
        ],
        vec!["run", "--threads", "0", "queries/02_array.fq"],
        vec!["run", "--bogus"],
        vec!["schema", "datasets/README.md"],
        vec!["frobnicate"],
    ] {
        let out = fusedframe(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("error"), "{args:?}");
    }
}

/// Files in `dir`, to prove nothing (not even a temporary file) was left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("temp dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    v.sort();
    v
}

#[test]
fn output_is_never_left_partial() {
    let dir = tempfile::tempdir().expect("temp dir");
    let failing = root().join("tests/scripts/errors/unknown_column.fq");
    let failing = failing.to_str().expect("utf-8 path");
    for ext in ["json", "parquet", "arrow", "csv"] {
        let target = dir.path().join(format!("out.{ext}"));
        let target_s = target.to_str().expect("utf-8 path");
        // A failing query writes nothing at all.
        let out = fusedframe(&["run", failing, "--output", target_s]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            listing(dir.path()).is_empty(),
            "{ext}: {:?}",
            listing(dir.path())
        );
        // An existing file survives a failing query unchanged.
        fs::write(&target, "previous result").expect("write");
        let out = fusedframe(&["run", failing, "--output", target_s]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            fs::read_to_string(&target).expect("read"),
            "previous result"
        );
        assert_eq!(listing(dir.path()), vec![format!("out.{ext}")]);
        fs::remove_file(&target).expect("remove");
    }
    // A successful run writes the whole file and nothing else.
    let target = dir.path().join("ok.json");
    let out = fusedframe(&[
        "run",
        "queries/02_array.fq",
        "--output",
        target.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let json = fs::read_to_string(&target).expect("read");
    assert!(
        json.starts_with("[\n  {\"a\": 1, \"b\": 0.5, \"name\": \"x\"}"),
        "{json}"
    );
    assert!(json.ends_with("}\n]\n"), "{json}");
    assert_eq!(listing(dir.path()), vec!["ok.json".to_string()]);
}

#[test]
#[cfg_attr(not(feature = "plot"), ignore = "queries/ holds plot scripts")]
fn every_script_gives_the_same_output_for_any_thread_count() {
    let run = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_fusedframe"))
            .args(["run", "queries/", "--threads", threads])
            .current_dir(root())
            .output()
            .expect("the fusedframe binary runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(run("1"), run("3"));
}

/// Width and height from a PNG's header (the IHDR chunk follows the 8-byte signature).
#[cfg(feature = "plot")]
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[cfg(feature = "plot")]
#[test]
fn a_script_ending_with_a_plot_writes_the_picture() {
    let dir = tempfile::tempdir().expect("temp dir");
    let svg = dir.path().join("seattle.svg");
    let script = "queries/plot_seattle_rolling.fq";
    let out = fusedframe(&["run", script, "--output", svg.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let doc = fs::read_to_string(&svg).expect("svg written");
    assert!(doc.starts_with("<svg") && doc.trim_end().ends_with("</svg>"));
    for want in [
        ">\nSeattle: daily high and its 30-day mean (°C)\n</text>",
        ">\n2013\n</text>",
        ">\ntemp_max_mean_30d\n</text>",
        ">\ntemperature (°C)\n</text>",
    ] {
        assert!(doc.contains(want), "{want:?} not in the SVG");
    }
    assert!(doc.matches("<polyline").count() >= 2);

    let png = dir.path().join("clusters.png");
    let e = "df!(\"x\" => [1.0, 2.0, 3.0, 4.0], \"y\" => [1.0, 3.0, 2.0, 4.0], \"g\" => [\"a\", \"a\", \"b\", \"b\"])?\
             .plot().scatter(\"x\", \"y\").color_by(\"g\").size(480, 320)";
    let out = fusedframe(&["run", "-e", e, "--output", png.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(png_size(&fs::read(&png).expect("png written")), (480, 320));

    // Without --output the plot says what it draws; as CSV it is the plotted columns.
    let out = fusedframe(&["run", script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Plot: line of temp_max, temp_max_mean_30d over date"),
        "{}",
        text(&out.stdout)
    );
    let out = fusedframe(&["run", "-e", e, "--format", "csv"]);
    assert_eq!(
        text(&out.stdout),
        "x,y,g\n1.0,1.0,a\n2.0,3.0,a\n3.0,2.0,b\n4.0,4.0,b\n"
    );

    // A picture needs a plot; a failing plot writes nothing.
    let not_plot = dir.path().join("frame.svg");
    let out = fusedframe(&[
        "run",
        "queries/02_array.fq",
        "--output",
        not_plot.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is a picture, but the script does not end with a plot"),
        "{}",
        text(&out.stderr)
    );
    let bad = "df!(\"x\" => [1.0])?.plot().hist(\"y\", 10)";
    let out = fusedframe(&[
        "run",
        "-e",
        bad,
        "--output",
        not_plot.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("column not found: \"y\""),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(listing(dir.path()), vec!["clusters.png", "seattle.svg"]);
}

#[test]
fn memory_limit_spills_sorts_and_names_what_does_not_fit() {
    let temp = tempfile::tempdir().expect("temp dir");
    let temp_s = temp.path().to_str().expect("utf-8");
    let sorted = "range(0, 400_000).with_columns([(col(\"range\") * 7919 % 100).alias(\"k\")])\
                  .sort(\"k\", SortOptions::new()).head(3)";
    let plain = fusedframe(&["run", "-e", sorted]);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    // A 6 MB sort under a 4 MB budget spills into --temp-dir, prints the same, and cleans up.
    let spilled = fusedframe(&[
        "run",
        "-e",
        sorted,
        "--memory-limit",
        "4MiB",
        "--temp-dir",
        temp_s,
    ]);
    assert!(spilled.status.success(), "{}", text(&spilled.stderr));
    assert_eq!(text(&plain.stdout), text(&spilled.stdout));
    assert!(
        listing(temp.path()).is_empty(),
        "{:?}",
        listing(temp.path())
    );
    // A result that cannot fit stops with an error naming what holds it.
    let doubled = "range(0, 1_000_000).with_columns([(col(\"range\") * 2).alias(\"twice\")])";
    let out = fusedframe(&["run", "-e", doubled, "--memory-limit", "1MB"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("memory limit exceeded: COLLECT"), "{err}");
    // Sizes are checked as arguments.
    let out = fusedframe(&["run", "-e", "range(0, 3)", "--memory-limit", "lots"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_script_ending_with_a_sink_writes_its_file_with_the_cli_options() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.csv");
    let small = format!(
        "range(0, 5).with_columns([(col(\"range\") * 2).alias(\"twice\")]).sink_csv({:?})?",
        target.to_str().expect("utf-8")
    );
    let out = fusedframe(&["run", "-e", &small]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(
        fs::read_to_string(&target).expect("written"),
        "range,twice\n0,0\n1,2\n2,4\n3,6\n4,8\n"
    );
    // `explain` plans the sink without writing.
    fs::remove_file(&target).expect("remove");
    let out = fusedframe(&["run", "-e", &small, "--explain"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("SINK CSV path="),
        "{}",
        text(&out.stdout)
    );
    assert!(listing(dir.path()).is_empty());
    // --memory-limit reaches the script's sink: its gather cannot hold 8 MB in 1 MB.
    let script = format!(
        "range(0, 1_000_000).gather(col(\"range\") % 1000)\
         .sink_csv({:?})?",
        target.to_str().expect("utf-8")
    );
    let out = fusedframe(&["run", "-e", &script, "--memory-limit", "1MB"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("GATHER"),
        "{}",
        text(&out.stderr)
    );
    assert!(listing(dir.path()).is_empty());
    // A script that writes its own result has nothing for --output.
    let other = dir.path().join("other.csv");
    let out = fusedframe(&[
        "run",
        "-e",
        &small,
        "--output",
        other.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("nothing to write"),
        "{}",
        text(&out.stderr)
    );
}
