//! fusedframe's side of the join benchmarks: db-benchmark's joins j1-j5 (the data and the
//! peers' queries of `/work/shared/bench/groupby_join.py`) and the 22 TPC-H queries (the
//! scripts `queries/tpch/qNN.fq`, reading `tpch/<table>.parquet` under a TPC-H directory).
//!
//! Each workload runs in a fresh child process of this binary, as a user's query would:
//! best of 3 wall-clock runs, each building and collecting the lazy query in memory (as the
//! peers' `.collect()` / `to_arrow_table()`), then the child's peak RSS (`VmHWM`). One line
//! per workload on stdout: `name<TAB>fusedframe<TAB>seconds<TAB>rows<TAB>peak_rss_mb`, or
//! `name<TAB>fusedframe<TAB>unsupported: <error>` for a query the engine cannot run yet.
//!
//! Run: `cargo bench --bench joins -- JOIN_DIR TPCH_DIR [NAMES]` (`JOIN_DIR` holds
//! `join_{x,small,medium,big}_10000000.parquet`; `-` skips a part; NAMES is a comma list such
//! as `j1,j2,q01`). `benches/joins.sh` runs it next to the peers and prints one table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fusedframe::prelude::*;
use fusedframe::script::Script;

const N: usize = 10_000_000;

/// db-benchmark's join questions, as `groupby_join.py` asks the peers.
fn join_query(dir: &Path, name: &str) -> Option<LazyFrame> {
    let t = |n: &str| scan_parquet(dir.join(format!("join_{n}_{N}.parquet")));
    let x = t("x");
    Some(match name {
        "j1_small_inner" => x.join(t("small"), [col("id1")], [col("id1")], JoinType::Inner),
        "j2_medium_inner" => x.join(
            t("medium").select([col("id2"), col("v2")]),
            [col("id2")],
            [col("id2")],
            JoinType::Inner,
        ),
        "j3_medium_left" => x.join(
            t("medium").select([col("id2"), col("v2")]),
            [col("id2")],
            [col("id2")],
            JoinType::Left,
        ),
        "j4_medium_str" => x.join(
            t("medium").select([col("id4"), col("v2")]),
            [col("id4")],
            [col("id4")],
            JoinType::Inner,
        ),
        "j5_big_inner" => x.join(
            t("big").select([col("id3"), col("v2")]),
            [col("id3")],
            [col("id3")],
            JoinType::Inner,
        ),
        _ => return None,
    })
}

const JOINS: [&str; 5] = [
    "j1_small_inner",
    "j2_medium_inner",
    "j3_medium_left",
    "j4_medium_str",
    "j5_big_inner",
];

/// A TPC-H script with its `tpch/` paths pointing into `dir`.
fn tpch_query(dir: &Path, name: &str) -> Result<LazyFrame> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("queries/tpch/{name}.fq"));
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let text = text.replace("\"tpch/", &format!("\"{}/", dir.display()));
    Script::new(path.display().to_string(), text)
        .eval()?
        .output
        .into_lazy()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The child: time one workload, print its line.
fn run_one(join_dir: &Path, tpch_dir: &Path, name: &str) {
    let build = || -> Result<LazyFrame> {
        match join_query(join_dir, name) {
            Some(lf) => Ok(lf),
            None => tpch_query(tpch_dir, name),
        }
    };
    let mut best = f64::INFINITY;
    let mut rows = 0;
    for _ in 0..3 {
        let t0 = Instant::now();
        match build().and_then(LazyFrame::collect) {
            Ok(df) => rows = df.height(),
            Err(e) => {
                println!("{name}\tfusedframe\tunsupported: {e}");
                return;
            }
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "{name}\tfusedframe\t{best:.3}\t{rows}\t{:.0}",
        peak_rss_mb()
    );
}

fn main() {
    fusedframe::tune_allocator();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [flag, j, t, name] = args.as_slice() {
        if flag == "--one" {
            run_one(Path::new(j), Path::new(t), name);
            return;
        }
    }
    let (Some(join_dir), Some(tpch_dir)) = (args.first(), args.get(1)) else {
        eprintln!("joins bench: pass JOIN_DIR TPCH_DIR [NAMES] ('-' skips a part); skipping");
        return;
    };
    let mut names: Vec<String> = vec![];
    if join_dir != "-" {
        names.extend(JOINS.iter().map(|s| s.to_string()));
    }
    if tpch_dir != "-" {
        names.extend((1..=22).map(|q| format!("q{q:02}")));
    }
    if let Some(list) = args.get(2) {
        let wanted: Vec<&str> = list.split(',').collect();
        names.retain(|n| wanted.iter().any(|w| n.starts_with(w)));
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("joins"));
    for name in names {
        let status = Command::new(&exe)
            .args(["--one", join_dir, tpch_dir, &name])
            .status();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            println!("{name}\tfusedframe\tunsupported: the run failed ({status:?})");
        }
    }
}

/// Column-sized buffers reused between runs instead of mapped afresh, as the CLI has them.
#[global_allocator]
static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();
