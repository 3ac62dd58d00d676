//! fusedframe's side of the peer comparison: the workloads of `benches/peers.py`, on the same
//! files, timed the same way (the median of `REPS` wall-clock runs, default 5, each building
//! and collecting the lazy query), printed as the same
//! `name<TAB>fusedframe<TAB>median<TAB>min<TAB>max` lines. A workload the engine cannot run yet
//! prints `name<TAB>fusedframe<TAB>unsupported: <error>` instead, so the bench always runs to
//! the end while kernels are still landing. Each result's answer goes to stderr as
//! `# check <name> fusedframe: <line>` in the canonical format of `benches/answers.py`, which
//! `benches/run.sh` compares with the peers' before it prints a ratio. The `mem` group runs
//! `filter_agg_parquet` once in a child process and reports its peak RSS (`VmHWM`) next to the
//! bytes of the columns read.
//!
//! Run: `cargo bench --bench engine -- DATA_DIR N [GROUPS_OR_WORKLOADS]` (or set
//! `FUSEDFRAME_BENCH_DATA` / `FUSEDFRAME_BENCH_N`); `benches/run.sh` runs it next to the peers.
//! Threads: all cores, or `FUSEDFRAME_THREADS`.
//!
//! Workloads are written against the API of DESIGN.md section 4, one small setup function
//! each; the in-memory ones (per-operation kernels, k-means, PCA) load their input in the
//! setup, outside the timing, as peers.py does. A workload that fails reports the engine's
//! error as `unsupported`, so new engine gaps show up without breaking the run.

mod common;
use common::splitmix_uniform;

use std::cell::OnceCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::TimeUnit;
use fusedframe::prelude::*;
use ndarray::Array2;

/// A timed run: the workload's result, or why it could not run.
type Run = Result<Answer, String>;
/// What a workload's setup hands back: the closure to time (setup itself is not timed).
type Timed = Box<dyn FnMut() -> Run>;

const GROUPS: [&str; 9] = [
    "scan",
    "pipeline",
    "describe",
    "filter_agg",
    "ops",
    "csv",
    "kmeans",
    "pca",
    "mem",
];

/// The data directory, the seed table's row count, and data loaded once for in-memory runs.
struct Data {
    dir: PathBuf,
    n: usize,
    x: OnceCell<DataFrame>,
}

impl Data {
    fn parquet(&self) -> PathBuf {
        self.dir.join(format!("seed_{}.parquet", self.n))
    }
    fn csv(&self) -> PathBuf {
        self.dir.join(format!("seed_{}.csv", self.n))
    }
    fn blobs(&self) -> PathBuf {
        self.dir.join("blobs_1000000x16.parquet")
    }
    /// The seed table's `x` column in memory (read once, outside any timing).
    fn x(&self) -> Result<DataFrame, String> {
        if let Some(df) = self.x.get() {
            return Ok(df.clone());
        }
        let df = scan_parquet(self.parquet())
            .select([col("x")])
            .collect()
            .map_err(|e| e.to_string())?;
        Ok(self.x.get_or_init(|| df).clone())
    }
}

/// What a workload computed: a frame (summarized after the timing, so the summary's pass over
/// the columns is not timed, as peers.py summarizes its results after timing them), or a
/// fitted model's one-line summary.
enum Answer {
    Frame(DataFrame),
    Model(String),
}

impl Answer {
    /// The canonical `# check` line.
    fn line(&self) -> Result<String, String> {
        match self {
            Answer::Frame(df) => summary(df),
            Answer::Model(s) => Ok(s.clone()),
        }
    }
}

/// Collect `lf`.
fn collect(lf: LazyFrame) -> Run {
    lf.collect().map(Answer::Frame).map_err(|e| e.to_string())
}

/// A number as `benches/answers.py` prints it: NaN (and null) as `nan`.
fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if !v.is_nan() => format!("{v:?}"),
        _ => "nan".into(),
    }
}

/// A column as floats, nulls as `None` (indices and integers convert exactly below 2^53).
fn floats(c: &ArrayRef) -> Result<Float64Array, String> {
    let f = cast(c, &arrow::datatypes::DataType::Float64).map_err(|e| e.to_string())?;
    f.as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .ok_or_else(|| "cast to Float64 gave another type".into())
}

/// A result's answer in `benches/answers.py`'s canonical line: the shape, then every value of
/// a one-row frame, else per column the NaN-or-null count, the sum of the other values, the
/// first three and the last value.
fn summary(df: &DataFrame) -> Result<String, String> {
    let (h, w) = df.shape();
    let mut cells = vec![format!("{h}x{w}")];
    for c in df.columns() {
        let a = floats(c)?;
        let get = |i: usize| a.is_valid(i).then(|| a.value(i));
        if h == 1 {
            cells.push(num(get(0)));
            continue;
        }
        let (mut missing, mut sum) = (0usize, 0.0f64);
        for i in 0..h {
            match get(i) {
                Some(v) if !v.is_nan() => sum += v,
                _ => missing += 1,
            }
        }
        let first: Vec<String> = (0..h.min(3)).map(|i| num(get(i))).collect();
        let last = h.checked_sub(1).and_then(get);
        cells.push(format!(
            "missing={missing} sum={} first={} last={}",
            num(Some(sum)),
            first.join(","),
            num(last)
        ));
    }
    Ok(cells.join(" | "))
}

/// The CSV options that give the seed table its exact schema (as peers.py gives Polars).
fn seed_csv_options() -> CsvOptions {
    CsvOptions::new()
        .schema_override("id", DataType::Int64)
        .schema_override("ts", DataType::Timestamp(TimeUnit::Microsecond, None))
        .schema_override("x", DataType::Float64)
        .schema_override("y", DataType::Float64)
        .schema_override("z", DataType::Float64)
        .schema_override("label", DataType::Int64)
}

/// Filter `z > 0`, fill NaN in `x` with its mean, min-max scale, rolling mean 20, arg_sort.
fn pipeline(lf: LazyFrame) -> LazyFrame {
    let x = col("x");
    lf.filter(col("z").gt(0.0))
        // Polars spells this `x.fill_nan(x.fill_nan(None).mean())` (peers.py).
        .with_columns([x.fill_nan_with(Fill::Mean).alias("xf")])
        .with_columns([col("xf").min_max_scale().alias("xs")])
        .with_columns([col("xs").rolling_mean(20).alias("xr")])
        .select([col("xr").arg_sort(SortOptions::default()).alias("order")])
}

/// Filter `z > 0`, then sum, mean, min and max of `x`, skipping NaN: the answer every peer
/// computes (plain aggregates propagate NaN here, and `x` holds some).
fn filter_agg(lf: LazyFrame) -> LazyFrame {
    let x = col("x");
    lf.filter(col("z").gt(0.0)).select([
        x.clone().nan_sum().alias("sum"),
        x.clone().nan_mean().alias("mean"),
        x.clone().nan_min().alias("min"),
        x.nan_max().alias("max"),
    ])
}

fn scan_xz(d: &Data) -> Result<Timed, String> {
    let p = d.parquet();
    Ok(Box::new(move || {
        collect(scan_parquet(&p).select([col("x"), col("z")]))
    }))
}

fn pipeline_parquet(d: &Data) -> Result<Timed, String> {
    let p = d.parquet();
    Ok(Box::new(move || collect(pipeline(scan_parquet(&p)))))
}

fn pipeline_csv(d: &Data) -> Result<Timed, String> {
    let p = d.csv();
    Ok(Box::new(move || {
        collect(pipeline(scan_csv_with(&p, seed_csv_options())))
    }))
}

fn describe_parquet(d: &Data) -> Result<Timed, String> {
    let p = d.parquet();
    Ok(Box::new(move || {
        // NaN-skipping, as Polars' `fill_nan(None)` then mean/median/std and NumPy's nan*: the
        // plain ones return NaN (x and y hold some) without a median to compute.
        let stats = ["x", "y"].into_iter().flat_map(|c| {
            [
                col(c).nan_mean().alias(format!("{c}_mean")),
                col(c).nan_median().alias(format!("{c}_median")),
                col(c).nan_std(1).alias(format!("{c}_std")),
            ]
        });
        collect(scan_parquet(&p).select(stats))
    }))
}

fn filter_agg_parquet(d: &Data) -> Result<Timed, String> {
    let p = d.parquet();
    Ok(Box::new(move || collect(filter_agg(scan_parquet(&p)))))
}

fn filter_agg_csv(d: &Data) -> Result<Timed, String> {
    let p = d.csv();
    Ok(Box::new(move || {
        collect(filter_agg(scan_csv_with(&p, seed_csv_options())))
    }))
}

fn agg_csv(d: &Data) -> Result<Timed, String> {
    let p = d.csv();
    Ok(Box::new(move || {
        collect(scan_csv_with(&p, seed_csv_options()).select([
            col("x").nan_mean(),
            col("y").nan_min(),
            col("z").nan_max(),
        ]))
    }))
}

/// Time `expr` over the in-memory `x` column.
fn on_x(d: &Data, expr: impl Fn() -> Expr + 'static) -> Result<Timed, String> {
    let x = d.x()?;
    Ok(Box::new(move || collect(x.clone().lazy().select([expr()]))))
}

fn fill_nan_mean(d: &Data) -> Result<Timed, String> {
    on_x(d, || col("x").fill_nan_with(Fill::Mean))
}

fn min_max_scale(d: &Data) -> Result<Timed, String> {
    on_x(d, || col("x").min_max_scale())
}

fn rolling_mean_20(d: &Data) -> Result<Timed, String> {
    on_x(d, || col("x").rolling_mean(20))
}

fn arg_sort_x(d: &Data) -> Result<Timed, String> {
    on_x(d, || col("x").arg_sort(SortOptions::default()))
}

fn argsort_5m(_d: &Data) -> Result<Timed, String> {
    let v = DataFrame::new(vec![Column::new("v", splitmix_uniform(5_000_000, 42))])
        .map_err(|e| e.to_string())?;
    Ok(Box::new(move || {
        collect(
            v.clone()
                .lazy()
                .select([col("v").arg_sort(SortOptions::default())]),
        )
    }))
}

/// Read a little-endian float64, C-order, 2-D `.npy` file (what `np.save` writes for
/// `blobs_init.npy`).
fn read_npy_f64(path: &Path) -> Result<Array2<f64>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = |what: &str| format!("{}: {what}", path.display());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("truncated header")),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or_else(|| bad("truncated header"))?,
    )
    .map_err(|_| bad("header is not text"))?;
    if !header.contains("'descr': '<f8'") || !header.contains("'fortran_order': False") {
        return Err(bad(
            "only little-endian float64 C-order arrays are supported",
        ));
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(bad("not a 2-D array"));
    };
    let data = &bytes[start + header_len..];
    if data.len() != rows * cols * 8 {
        return Err(bad("data length does not match the shape"));
    }
    let values = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")))
        .collect();
    Array2::from_shape_vec((rows, cols), values).map_err(|e| bad(&e.to_string()))
}

/// The blobs table in memory (read once, outside any timing, as peers.py loads `X`).
fn blobs(d: &Data) -> Result<DataFrame, String> {
    scan_parquet(d.blobs()).collect().map_err(|e| e.to_string())
}

/// Summarize a fitted model for the `# check` line.
fn fitted<M>(r: fusedframe::Result<M>, f: impl FnOnce(&M) -> String) -> Run {
    r.map(|m| Answer::Model(f(&m))).map_err(|e| e.to_string())
}

fn kmeans_20it(d: &Data) -> Result<Timed, String> {
    // scikit-learn: KMeans(8, init=blobs_init.npy, n_init=1, max_iter=20, tol=0, lloyd).
    let x = blobs(d)?;
    let init = read_npy_f64(&d.dir.join("blobs_init.npy"))?;
    Ok(Box::new(move || {
        let km = KMeans::new(8).init(init.clone()).max_iter(20).tol(0.0);
        fitted(x.clone().lazy().kmeans(km).fit(), |m| {
            format!("n_iter={} inertia={}", m.n_iter, num(Some(m.inertia)))
        })
    }))
}

fn kmeans_auto(d: &Data) -> Result<Timed, String> {
    // scikit-learn: KMeans(8, n_init=1, random_state=0): k-means++, tol 1e-4, up to 300 steps.
    let x = blobs(d)?;
    Ok(Box::new(move || {
        fitted(x.clone().lazy().kmeans(KMeans::new(8).seed(0)).fit(), |m| {
            format!("n_iter={} inertia={}", m.n_iter, num(Some(m.inertia)))
        })
    }))
}

fn pca_with(d: &Data, solver: PcaSolver) -> Result<Timed, String> {
    let x = blobs(d)?;
    Ok(Box::new(move || {
        fitted(
            x.clone().lazy().pca(Pca::new(4).solver(solver)).fit(),
            |m| {
                let ev: Vec<String> = m.explained_variance.iter().map(|&v| num(Some(v))).collect();
                format!("explained_variance={}", ev.join(","))
            },
        )
    }))
}

fn pca_full(d: &Data) -> Result<Timed, String> {
    // scikit-learn: PCA(4, svd_solver="full").
    pca_with(d, PcaSolver::Full)
}

fn pca_eigh(d: &Data) -> Result<Timed, String> {
    // scikit-learn: PCA(4, svd_solver="covariance_eigh").
    pca_with(d, PcaSolver::CovarianceEigh)
}

/// A named workload in a group, and its (untimed) setup.
struct Workload {
    name: &'static str,
    group: &'static str,
    setup: Setup,
}

type Setup = fn(&Data) -> Result<Timed, String>;

const fn w(name: &'static str, group: &'static str, setup: Setup) -> Workload {
    Workload { name, group, setup }
}

const WORKLOADS: &[Workload] = &[
    w("scan_parquet_xz", "scan", scan_xz),
    w("pipeline_parquet", "pipeline", pipeline_parquet),
    w("describe_parquet", "describe", describe_parquet),
    w("filter_agg_parquet", "filter_agg", filter_agg_parquet),
    w("fill_nan_mean", "ops", fill_nan_mean),
    w("min_max_scale", "ops", min_max_scale),
    w("rolling_mean_20", "ops", rolling_mean_20),
    w("arg_sort_x", "ops", arg_sort_x),
    w("argsort_5m", "ops", argsort_5m),
    w("pipeline_csv", "csv", pipeline_csv),
    w("agg_csv", "csv", agg_csv),
    w("filter_agg_csv", "csv", filter_agg_csv),
    w("kmeans_1Mx16_k8_20it", "kmeans", kmeans_20it),
    w("kmeans_1Mx16_k8_auto", "kmeans", kmeans_auto),
    w("pca_1Mx16_k4", "pca", pca_full),
    w("pca_1Mx16_k4_eigh", "pca", pca_eigh),
];

/// The last panic's message and location, kept by the panic hook for the report.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Run `f`, turning a panic (an engine `todo!`, say) into an error naming it.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        let what = LAST_PANIC.lock().ok().and_then(|mut p| p.take());
        Err(format!(
            "panic: {}",
            what.unwrap_or_else(|| "unknown".into())
        ))
    })
}

/// Seconds of timed runs: the median (the lower middle of an even count), min and max.
struct Times {
    median: f64,
    min: f64,
    max: f64,
}

/// `reps` timed runs (at least one), with the last run's answer line.
fn time_runs(mut f: Timed, reps: usize) -> Result<(Times, String), String> {
    let mut secs = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        let answer = guarded(&mut f)?;
        secs.push(t0.elapsed().as_secs_f64());
        // Dropping the previous result here keeps its deallocation out of the timing.
        last = Some(answer);
    }
    let check = match &last {
        Some(a) => a.line()?,
        None => String::new(),
    };
    secs.sort_by(f64::total_cmp);
    let mid = secs.len() / 2;
    // The same median as Python's statistics.median (peers.py): the mean of the middle two.
    let median = if secs.len() % 2 == 0 {
        (secs[mid - 1] + secs[mid]) / 2.0
    } else {
        secs[mid]
    };
    let times = Times {
        median,
        min: secs[0],
        max: secs[secs.len() - 1],
    };
    Ok((times, check))
}

/// Runs per workload: `REPS`, default 5 (as peers.py).
fn reps() -> usize {
    std::env::var("REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

fn run_workload(w: &Workload, d: &Data) {
    match guarded(|| (w.setup)(d)).and_then(|f| time_runs(f, reps())) {
        Ok((t, check)) => {
            println!(
                "{}\tfusedframe\t{:.4}\t{:.4}\t{:.4}",
                w.name, t.median, t.min, t.max
            );
            eprintln!("# check {} fusedframe: {check}", w.name);
        }
        Err(e) => println!(
            "{}\tfusedframe\tunsupported: {}",
            w.name,
            e.replace(['\n', '\t'], " ")
        ),
    }
}

/// This process's peak resident set size in bytes (Linux `VmHWM`), if known.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Child side of the `mem` group: run one workload once, print peak and baseline RSS.
fn peak_rss_child(name: &str, d: &Data) -> Result<(), String> {
    let w = WORKLOADS
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| format!("no workload {name}"))?;
    let baseline = vm_hwm().ok_or("VmHWM unavailable (not Linux?)")?;
    let check = guarded(|| (w.setup)(d))
        .and_then(|mut f| guarded(&mut f))?
        .line()?;
    let peak = vm_hwm().ok_or("VmHWM unavailable")?;
    println!("peak_rss:{name}\tfusedframe\t{peak}\t{baseline}");
    eprintln!("# check {name} (child): {check}");
    Ok(())
}

/// Parent side: run `filter_agg_parquet` in a fresh process, report its peak RSS against the
/// bytes of the columns it reads (x and z, 8 bytes a row each; the target is at most 1.5x).
fn peak_rss(d: &Data) {
    let name = "filter_agg_parquet";
    let out = std::env::current_exe()
        .map_err(|e| e.to_string())
        .and_then(|exe| {
            Command::new(exe)
                .arg("--peak-rss")
                .arg(name)
                .arg(&d.dir)
                .arg(d.n.to_string())
                .output()
                .map_err(|e| e.to_string())
        });
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            eprint!("{}", String::from_utf8_lossy(&o.stderr));
            for line in text.lines() {
                println!("{line}");
                let f: Vec<&str> = line.split('\t').collect();
                if let [_, _, peak, base] = f[..] {
                    let (peak, base) = (peak.parse().unwrap_or(0.0), base.parse().unwrap_or(0.0));
                    let cols = d.n as f64 * 16.0;
                    let mib = |b: f64| b / (1u64 << 20) as f64;
                    eprintln!(
                        "# {name}: peak RSS {:.1} MiB (baseline {:.1} MiB) for {:.1} MiB of \
                         columns read (x, z): {:.2}x (target <= 1.5x)",
                        mib(peak),
                        mib(base),
                        mib(cols),
                        peak / cols
                    );
                }
            }
        }
        Ok(o) => println!(
            "peak_rss:{name}\tfusedframe\tunsupported: {}",
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace(['\n', '\t'], " ")
        ),
        Err(e) => println!("peak_rss:{name}\tfusedframe\tunsupported: {e}"),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo bench --bench engine -- DATA_DIR N [GROUPS_OR_WORKLOADS]\n  \
         groups: {}\n  workloads: {}",
        GROUPS.join(","),
        WORKLOADS
            .iter()
            .map(|w| w.name)
            .collect::<Vec<_>>()
            .join(",")
    );
    std::process::exit(2)
}

fn main() {
    // Measured as the CLI runs: with the allocator tuned for large column buffers.
    fusedframe::tune_allocator();
    // `cargo bench` adds `--bench`; `--peak-rss NAME` is the child mode of the `mem` group.
    let mut child: Option<String> = None;
    let mut pos: Vec<String> = vec![];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--peak-rss" => child = Some(args.next().unwrap_or_else(|| usage())),
            "-h" | "--help" => usage(),
            s if s.starts_with("--") => {}
            _ => pos.push(a),
        }
    }
    let dir = pos
        .first()
        .cloned()
        .or_else(|| std::env::var("FUSEDFRAME_BENCH_DATA").ok());
    let Some(dir) = dir else {
        eprintln!(
            "engine bench: no data directory (pass DATA_DIR N or set FUSEDFRAME_BENCH_DATA); \
             skipping. Make data with benches/gen_data.py or `cargo run --release --example \
             gen_seed`."
        );
        return;
    };
    let n = match pos
        .get(1)
        .cloned()
        .or_else(|| std::env::var("FUSEDFRAME_BENCH_N").ok())
    {
        Some(s) => s.replace('_', "").parse().unwrap_or_else(|_| usage()),
        None => 10_000_000,
    };
    let which: Vec<String> = match pos.get(2) {
        Some(s) => s.split(',').map(str::to_owned).collect(),
        None => GROUPS.iter().map(|g| g.to_string()).collect(),
    };
    let d = Data {
        dir: PathBuf::from(dir),
        n,
        x: OnceCell::new(),
    };
    if !d.parquet().exists() {
        eprintln!(
            "engine bench: {} not found (make it with benches/gen_data.py {} {n})",
            d.parquet().display(),
            d.dir.display()
        );
        std::process::exit(1);
    }
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = Some(info.to_string().replace('\n', " "));
        }
    }));
    if let Some(name) = child {
        if let Err(e) = peak_rss_child(&name, &d) {
            println!("{}", e.replace(['\n', '\t'], " "));
            std::process::exit(1);
        }
        return;
    }
    eprintln!(
        "# fusedframe engine bench: {} rows from {}, threads {}",
        d.n,
        d.dir.display(),
        std::env::var("FUSEDFRAME_THREADS").unwrap_or_else(|_| "all cores".into())
    );
    for w in WORKLOADS {
        if which.iter().any(|s| s == w.group || s == w.name) {
            run_workload(w, &d);
        }
    }
    if which.iter().any(|s| s == "mem") {
        peak_rss(&d);
    }
}

/// Column-sized buffers reused between runs instead of mapped afresh, as the CLI has them.
#[global_allocator]
static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();
