//! The NumPy seed's question 14 (arrays larger than memory, NumPy's `memmap`), answered at its
//! own scale: an N x N float32 matrix (N = 10,000: 400 MB) written, sliced, summarized and
//! standardized, each step in a fresh process whose peak RSS is reported beside its time.
//!
//! Steps, each run as a child process of this one (so each peak RSS is that step's alone):
//!
//! 1. `write`: the matrix, seeded random uniform in [0, 1) as float32 columns `c0..c{N-1}`,
//!    written in 1,000-row chunks as Arrow IPC (`matrix_N.arrow`, one batch per chunk) and as
//!    Parquet (`matrix_N.parquet`, one row group per chunk, as the benchmark asks),
//!    never holding more than a chunk. This is the data generator (arrow-rs and parquet-rs
//!    writers), not fusedframe: fusedframe's `rand_*` expressions need the whole column.
//! 2. `block`: `scan_ipc(..).select(c5000..c5009).slice(5000, 10)`: the block
//!    `[5000:5010, 5000:5010]`, read from the memory-mapped IPC file.
//! 3. `means`: every column's mean, `scan_parquet(..).select([all_numeric().mean()])`,
//!    streaming over the row groups.
//! 4. `standardize`: `scan_parquet(..).with_columns([all_numeric().standardize()])` sunk into
//!    a new Parquet file with the run's memory limit: the statistics in one pass over the
//!    file, the transform in a second, streamed to the sink (float32 stays float32).
//!
//! Run: `cargo run --release --example wide_matrix -- OUT_DIR [N] [MEMORY_LIMIT]`
//! (N defaults to 10,000; MEMORY_LIMIT, e.g. `256MB`, is passed to the standardize step as
//! `ExecOptions::memory_limit`). Prints one line per step: seconds, peak RSS, and a value that
//! checks the step (the block's sum, the mean of the means, the output's shape and type).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use fusedframe::memory::parse_size;
use fusedframe::prelude::*;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// Rows per generated chunk: one IPC batch and one Parquet row group each.
const CHUNK: usize = 1_000;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--step") {
        return run_step(&args[1..]);
    }
    let Some(dir) = args.first() else {
        return Err("usage: wide_matrix OUT_DIR [N] [MEMORY_LIMIT]".into());
    };
    let n: usize = args
        .get(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let limit = args.get(2).cloned().unwrap_or_else(|| "0".into());
    std::fs::create_dir_all(dir)?;
    println!(
        "{n} x {n} float32 ({} MB); step, seconds, peak RSS, check",
        n * n * 4 / 1_000_000
    );
    let exe = std::env::current_exe()?;
    for step in ["write", "block", "means", "standardize"] {
        let status = Command::new(&exe)
            .args(["--step", step, dir, &n.to_string(), &limit])
            .status()?;
        if !status.success() {
            return Err(format!("step {step} failed ({status})").into());
        }
    }
    Ok(())
}

/// One step in this (fresh) process: runs it, then prints its time and this process's peak RSS.
fn run_step(args: &[String]) -> Res<()> {
    let [step, dir, n, limit] = args else {
        return Err("--step NAME DIR N LIMIT".into());
    };
    let (dir, n) = (PathBuf::from(dir), n.parse::<usize>()?);
    let arrow_path = dir.join(format!("matrix_{n}.arrow"));
    let parquet_path = dir.join(format!("matrix_{n}.parquet"));
    let t0 = Instant::now();
    let check = match step.as_str() {
        "write" => write_matrix(&arrow_path, &parquet_path, n)?,
        "block" => {
            let at = 5_000.min(n.saturating_sub(10));
            let block = scan_ipc(&arrow_path)
                .select([cols((at..at + 10).map(|j| format!("c{j}")))])
                .slice(at as i64, 10)
                .collect()?;
            let sum: f64 = sum_of(&block)?;
            format!("block {:?} sum {sum:.6}", block.shape())
        }
        "means" => {
            let means = scan_parquet(&parquet_path)
                .select([all_numeric().mean()])
                .collect()?;
            let (h, w) = means.shape();
            format!(
                "means {h} x {w}, mean of means {:.6}",
                sum_of(&means)? / w as f64
            )
        }
        "standardize" => {
            let out = dir.join(format!("standardized_{n}.parquet"));
            let mut options = ExecOptions::new();
            if limit != "0" {
                options = options.memory_limit(parse_size(limit)?);
            }
            scan_parquet(&parquet_path)
                .with_columns([all_numeric().standardize()])
                .sink_parquet_with(&out, &ParquetWriteOptions::default(), &options)?;
            let schema = scan_parquet(&out).schema()?;
            let f32s = schema
                .fields()
                .iter()
                .filter(|f| f.data_type() == &DataType::Float32)
                .count();
            format!("{} of {} columns float32", f32s, schema.fields().len())
        }
        other => return Err(format!("unknown step {other}").into()),
    };
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{step:<12} {secs:>8.3} s {:>8} MB  {check}",
        peak_rss().unwrap_or(0) / 1_000_000
    );
    Ok(())
}

/// Writes the matrix as IPC and Parquet, `CHUNK` rows at a time, from one seeded stream.
fn write_matrix(arrow_path: &Path, parquet_path: &Path, n: usize) -> Res<String> {
    let schema: SchemaRef = Arc::new(Schema::new(
        (0..n)
            .map(|j| Field::new(format!("c{j}"), DataType::Float32, false))
            .collect::<Vec<_>>(),
    ));
    let mut ipc = FileWriter::try_new(BufWriter::new(File::create(arrow_path)?), &schema)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(CHUNK))
        .build();
    let mut pq = ArrowWriter::try_new(
        BufWriter::new(File::create(parquet_path)?),
        schema.clone(),
        Some(props),
    )?;
    let mut rng = Pcg64::seed_from_u64(14);
    let mut start = 0;
    while start < n {
        let len = CHUNK.min(n - start);
        // Row-major draws (as NumPy fills a C-ordered array), stored column by column.
        let mut cols = vec![Vec::with_capacity(len); n];
        for _ in 0..len {
            for c in cols.iter_mut() {
                c.push((rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32));
            }
        }
        let arrays: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| Arc::new(Float32Array::from(c)) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        ipc.write(&batch)?;
        pq.write(&batch)?;
        start += len;
    }
    ipc.finish()?;
    pq.close()?;
    Ok(format!(
        "{} MB IPC, {} MB Parquet",
        std::fs::metadata(arrow_path)?.len() / 1_000_000,
        std::fs::metadata(parquet_path)?.len() / 1_000_000
    ))
}

/// The sum of every value of a frame of float columns.
fn sum_of(df: &DataFrame) -> Res<f64> {
    let mut sum = 0.0;
    for name in df.column_names() {
        sum += df.column_f64(name)?.into_iter().flatten().sum::<f64>();
    }
    Ok(sum)
}

/// This process's peak resident set size in bytes (Linux `VmHWM`).
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
