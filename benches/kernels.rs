//! Criterion micro-benchmarks of the engine, for quick iteration on kernels and readers:
//! filter + sum over an in-memory 10M-row frame, a Parquet scan of one 10M-row column, and
//! parsing a 1M-row CSV file. Inputs are generated deterministically in memory or in a
//! temporary directory (no data directory needed). A benchmark whose operation the engine
//! cannot run yet is skipped with a note on stderr rather than failing the whole run.
//!
//! Run: `cargo bench --bench kernels` (criterion options after `--`, e.g. `-- filter_sum`).

mod common;
use common::splitmix_uniform;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fusedframe::prelude::*;

const ROWS_10M: usize = 10_000_000;
const ROWS_1M: usize = 1_000_000;

/// A frame with float columns `x` (about 1% NaN) and `z`, both in [0, 1).
fn frame(rows: usize) -> DataFrame {
    let mut x = splitmix_uniform(rows, 1);
    for v in x.iter_mut().step_by(97) {
        *v = f64::NAN;
    }
    DataFrame::new(vec![
        Column::new("x", x),
        Column::new("z", splitmix_uniform(rows, 2)),
    ])
    .expect("benchmark frame")
}

/// Run `f` once; if the engine cannot run it yet, say so and return false.
fn runs(name: &str, f: impl FnOnce() -> Result<DataFrame>) -> bool {
    match f() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("kernels: skipping {name}: unsupported: {e}");
            false
        }
    }
}

fn filter_sum(c: &mut Criterion) {
    // Measured as the CLI runs: with the allocator tuned for large column buffers.
    fusedframe::tune_allocator();
    let df = frame(ROWS_10M);
    let query = |df: &DataFrame| {
        df.clone()
            .lazy()
            .filter(col("z").gt(0.5))
            .select([col("x").nan_sum()])
            .collect()
    };
    if !runs("filter_sum_10m", || query(&df)) {
        return;
    }
    let mut g = c.benchmark_group("in_memory");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(ROWS_10M as u64));
    g.bench_function("filter_sum_10m", |b| {
        b.iter(|| query(&df).expect("filter_sum"))
    });
    g.finish();
}

fn parquet_scan(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("x.parquet");
    fusedframe::io::write_parquet(&frame(ROWS_10M), &path).expect("write benchmark Parquet");
    let query = |p: &Path| scan_parquet(p).select([col("x")]).collect();
    if !runs("parquet_scan_10m", || query(&path)) {
        return;
    }
    let mut g = c.benchmark_group("io");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(ROWS_10M as u64));
    g.bench_function("parquet_scan_10m", |b| {
        b.iter(|| query(&path).expect("parquet scan"))
    });
    g.finish();
}

/// Write a 1M-row CSV shaped like the seed table's numeric part (id, x, y, z, label).
fn write_csv(path: &Path) {
    let file = std::fs::File::create(path).expect("create benchmark CSV");
    let mut w = BufWriter::new(file);
    writeln!(w, "id,x,y,z,label").expect("write CSV");
    let (x, y, z) = (
        splitmix_uniform(ROWS_1M, 3),
        splitmix_uniform(ROWS_1M, 4),
        splitmix_uniform(ROWS_1M, 5),
    );
    for (i, ((x, y), z)) in x.iter().zip(&y).zip(&z).enumerate() {
        let xs = if i % 101 == 0 {
            "nan".to_string()
        } else {
            (x * 100.0).to_string()
        };
        writeln!(w, "{i},{xs},{},{},{}", y - 0.5, z * 2.0 - 1.0, i % 10).expect("write CSV");
    }
    w.flush().expect("write CSV");
}

fn csv_parse(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("seed_1m.csv");
    write_csv(&path);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let query = |p: &Path| scan_csv(p).collect();
    if !runs("csv_parse_1m", || query(&path)) {
        return;
    }
    let mut g = c.benchmark_group("io");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("csv_parse_1m", |b| {
        b.iter(|| query(&path).expect("CSV parse"))
    });
    g.finish();
}

criterion_group!(benches, filter_sum, parquet_scan, csv_parse);
criterion_main!(benches);

/// Column-sized buffers reused between runs instead of mapped afresh, as the CLI has them.
#[global_allocator]
static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();
