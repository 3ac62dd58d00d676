//! fusedframe's side of the db-benchmark group-by questions q1-q10 (the peers' side is
//! `../shared/bench/groupby_join.py peers`): the same Parquet file, the same questions, timed
//! the same way (best of 3 wall-clock runs, each building and collecting the lazy query from
//! the file), printed as `name<TAB>fusedframe<TAB>seconds<TAB>rows`, the peers' format. A
//! `# check` line per question goes to stderr (the first groups, to compare answers by eye).
//!
//! Run: `cargo bench --bench groupby -- DATA_DIR [N] [q1,q2,..]` (data from
//! `groupby_join.py gen DATA_DIR`); `groupby_join.py peers DATA_DIR` times the peers on the
//! same file.
//! Threads: all cores, or `FUSEDFRAME_THREADS`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::util::display::array_value_to_string;
use fusedframe::prelude::*;

/// The ten questions, as Polars writes them in `groupby_join.py` (`std` is Polars' default
/// ddof 1; DuckDB's `stddev` is the sample one too).
fn question(name: &str, g: LazyFrame) -> Option<LazyFrame> {
    let c = col;
    Some(match name {
        "q1" => g.group_by([c("id1")]).agg([c("v1").sum()]),
        "q2" => g.group_by([c("id1"), c("id2")]).agg([c("v1").sum()]),
        "q3" => g.group_by([c("id3")]).agg([c("v1").sum(), c("v3").mean()]),
        "q4" => g
            .group_by([c("id4")])
            .agg([c("v1").mean(), c("v2").mean(), c("v3").mean()]),
        "q5" => g
            .group_by([c("id6")])
            .agg([c("v1").sum(), c("v2").sum(), c("v3").sum()]),
        "q6" => g
            .group_by([c("id4"), c("id5")])
            .agg([c("v3").median().alias("m"), c("v3").std(1).alias("s")]),
        "q7" => g
            .group_by([c("id3")])
            .agg([(c("v1").max() - c("v2").min()).alias("r")]),
        "q8" => g
            .drop_nulls_in(["v3"])
            .sort("v3", SortOptions::default().descending(true))
            .group_by([c("id6")])
            .head(2)
            .select([c("id6"), c("v3")]),
        "q9" => g
            .group_by([c("id2"), c("id4")])
            .agg([corr(c("v1"), c("v2")).pow(2).alias("r2")]),
        "q10" => g
            .group_by([c("id1"), c("id2"), c("id3"), c("id4"), c("id5"), c("id6")])
            .agg([c("v3").sum(), len()]),
        _ => return None,
    })
}

const ALL: [&str; 10] = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10"];

/// The first two rows of a result, for the eye.
fn check(df: &DataFrame) -> String {
    let rows = df.height().min(2);
    let mut out = vec![];
    for r in 0..rows {
        let vals: Vec<String> = df
            .columns()
            .iter()
            .map(|c| array_value_to_string(c.as_ref(), r).unwrap_or_default())
            .collect();
        out.push(format!("({})", vals.join(", ")));
    }
    out.join(" ")
}

fn run(path: &Path, name: &str) -> Result<(f64, DataFrame), String> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        let lf = question(name, scan_parquet(path)).ok_or(format!("no question {name}"))?;
        let df = lf.collect().map_err(|e| e.to_string())?;
        best = best.min(t0.elapsed().as_secs_f64());
        last = Some(df);
    }
    last.map(|df| (best, df)).ok_or_else(|| "no run".into())
}

fn main() {
    // Measured as the CLI runs: with the allocator tuned for large column buffers.
    fusedframe::tune_allocator();
    let pos: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(dir) = pos
        .first()
        .cloned()
        .or_else(|| std::env::var("FUSEDFRAME_BENCH_DATA").ok())
    else {
        eprintln!(
            "groupby bench: no data directory (pass DATA_DIR [N] [q1,..]); make the data with \
             groupby_join.py gen DATA_DIR. Skipping."
        );
        return;
    };
    let n: usize = pos
        .get(1)
        .map(|s| s.replace('_', "").parse().unwrap_or(10_000_000))
        .unwrap_or(10_000_000);
    let which: Vec<String> = match pos.get(2) {
        Some(s) => s.split(',').map(str::to_owned).collect(),
        None => ALL.iter().map(|s| s.to_string()).collect(),
    };
    let path = PathBuf::from(dir).join(format!("groupby_{n}.parquet"));
    if !path.exists() {
        eprintln!("groupby bench: {} not found", path.display());
        std::process::exit(1);
    }
    for name in which {
        match run(&path, &name) {
            Ok((secs, df)) => {
                println!("{name}\tfusedframe\t{secs:.3}\t{}", df.height());
                eprintln!("# check {name}: {}", check(&df));
            }
            Err(e) => println!("{name}\tfusedframe\tunsupported: {}", e.replace('\n', " ")),
        }
    }
}

/// Column-sized buffers reused between runs instead of mapped afresh, as the CLI has them.
#[global_allocator]
static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();
