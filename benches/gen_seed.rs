//! Pure-Rust generator of the benchmark data, for machines without Python.
//!
//! Writes the same files as `benches/gen_data.py`, with the same shape: `seed_N.parquet` and
//! `seed_N.csv` (columns `id` Int64, `ts` microsecond timestamps one second apart from
//! 2020-01-01, `x` ~ normal(50, 10) and `y` ~ normal(0, 1) each with ~1% NaN, `z` ~
//! uniform(-1, 1) with ~0.1% +inf, `label` uniform in 0..10; Parquet in 2^20-row snappy row
//! groups, CSV with a quoted header, `nan`/`inf` spelled as pyarrow writes them), then
//! `blobs_1000000x16.parquet` (1M points from 8 gaussian blobs in 16 dimensions) and
//! `blobs_init.npy` (8 of those points, the k-means starting centres). The values come from a
//! seeded PCG64 (`rand_pcg`), so they are deterministic but differ from NumPy's: timings are
//! comparable across the two generators, results are not.
//!
//! Run: `cargo run --release --example gen_seed -- OUT_DIR [N]` (N defaults to 10_000_000).
//! Rows are generated and written in 2^20-row chunks, so memory stays bounded for any N.

use std::f64::consts::TAU;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// Rows per generated chunk and per Parquet row group (as the Python generator's writer).
const CHUNK: usize = 1 << 20;
/// 2020-01-01T00:00:00 in seconds since the Unix epoch.
const T0: i64 = 1_577_836_800;

/// Uniform, normal and integer draws from one seeded PCG64 stream.
struct Draw(Pcg64);

impl Draw {
    fn new(seed: u64) -> Self {
        Self(Pcg64::seed_from_u64(seed))
    }
    /// Uniform in [0, 1) from the top 53 bits.
    fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Normal(mean, sd) by Box-Muller (one value per pair of uniforms; simple and exact enough).
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln stays finite
        let u2 = self.uniform();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }
    /// Integer in 0..k (multiply-shift; the bias is below 2^-60 for small k).
    fn below(&mut self, k: u64) -> u64 {
        ((self.0.next_u64() as u128 * k as u128) >> 64) as u64
    }
}

fn seed_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
        Field::new("z", DataType::Float64, true),
        Field::new("label", DataType::Int64, true),
    ]))
}

fn parquet_writer(path: &Path, schema: SchemaRef) -> ArrowWriter<BufWriter<File>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(CHUNK))
        .build();
    let file = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    ArrowWriter::try_new(BufWriter::new(file), schema, Some(props)).expect("parquet writer")
}

/// A float as pyarrow's CSV writer spells it (`nan`, `inf`, `-inf`, else shortest round-trip).
fn write_f64(w: &mut impl Write, v: f64) -> std::io::Result<()> {
    if v.is_nan() {
        w.write_all(b"nan")
    } else if v.is_infinite() {
        w.write_all(if v > 0.0 { b"inf" } else { b"-inf" })
    } else {
        write!(w, "{v}")
    }
}

fn gen_seed(out: &Path, n: usize) {
    let mut draw = Draw::new(42);
    let schema = seed_schema();
    let pq_path = out.join(format!("seed_{n}.parquet"));
    let csv_path = out.join(format!("seed_{n}.csv"));
    let mut pq = parquet_writer(&pq_path, schema.clone());
    let csv_file =
        File::create(&csv_path).unwrap_or_else(|e| panic!("create {}: {e}", csv_path.display()));
    let mut csv = BufWriter::with_capacity(1 << 20, csv_file);
    csv.write_all(b"\"id\",\"ts\",\"x\",\"y\",\"z\",\"label\"\n")
        .expect("write CSV header");
    let mut start = 0;
    while start < n {
        let len = CHUNK.min(n - start);
        let id: Vec<i64> = (start as i64..(start + len) as i64).collect();
        let ts: Vec<i64> = id.iter().map(|i| (T0 + i) * 1_000_000).collect();
        // Per row: x, y, z, then the NaN/inf coin flips, then the label (a fixed draw order).
        let (mut x, mut y, mut z, mut label) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        for _ in 0..len {
            let mut xv = draw.normal(50.0, 10.0);
            let mut yv = draw.normal(0.0, 1.0);
            let mut zv = 2.0 * draw.uniform() - 1.0;
            if draw.uniform() < 0.01 {
                xv = f64::NAN;
            }
            if draw.uniform() < 0.01 {
                yv = f64::NAN;
            }
            if draw.uniform() < 0.001 {
                zv = f64::INFINITY;
            }
            x.push(xv);
            y.push(yv);
            z.push(zv);
            label.push(draw.below(10) as i64);
        }
        for i in 0..len {
            let secs = ts[i] / 1_000_000;
            let dt = chrono::DateTime::from_timestamp(secs, 0).expect("timestamp in range");
            write!(csv, "{},{},", id[i], dt.format("%Y-%m-%d %H:%M:%S%.6f")).expect("write CSV");
            for v in [x[i], y[i], z[i]] {
                write_f64(&mut csv, v).expect("write CSV");
                csv.write_all(b",").expect("write CSV");
            }
            writeln!(csv, "{}", label[i]).expect("write CSV");
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(id)),
            Arc::new(TimestampMicrosecondArray::from(ts)),
            Arc::new(Float64Array::from(x)),
            Arc::new(Float64Array::from(y)),
            Arc::new(Float64Array::from(z)),
            Arc::new(Int64Array::from(label)),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).expect("seed batch");
        pq.write(&batch).expect("write Parquet");
        start += len;
    }
    pq.close().expect("close Parquet");
    csv.flush().expect("flush CSV");
    println!("wrote {} and {}", pq_path.display(), csv_path.display());
}

/// Write a little-endian float64 C-order `.npy` (format 1.0) of shape `rows x cols`.
fn write_npy(path: &Path, data: &[f64], rows: usize, cols: usize) {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple
    // of 64 bytes and ending in a newline.
    let unpadded = 10 + dict.len() + 1;
    let header = format!(
        "{dict}{}\n",
        " ".repeat(unpadded.next_multiple_of(64) - unpadded)
    );
    let mut w = BufWriter::new(
        File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display())),
    );
    w.write_all(b"\x93NUMPY\x01\x00").expect("write npy");
    let header_len = u16::try_from(header.len()).expect("npy header fits in u16");
    w.write_all(&header_len.to_le_bytes()).expect("write npy");
    w.write_all(header.as_bytes()).expect("write npy");
    for v in data {
        w.write_all(&v.to_le_bytes()).expect("write npy");
    }
    w.flush().expect("write npy");
}

fn gen_blobs(out: &Path) {
    let (m, d, k) = (1_000_000usize, 16usize, 8usize);
    let mut draw = Draw::new(4242);
    let centers: Vec<f64> = (0..k * d).map(|_| 20.0 * draw.uniform() - 10.0).collect();
    let schema = Arc::new(Schema::new(
        (0..d)
            .map(|i| Field::new(format!("f{i}"), DataType::Float64, true))
            .collect::<Vec<_>>(),
    ));
    let path = out.join(format!("blobs_{m}x{d}.parquet"));
    let mut pq = parquet_writer(&path, schema.clone());
    // The starting centres are points at fixed, spread-out row positions.
    let init_rows: Vec<usize> = (0..k).map(|i| i * (m / k) + 12_345).collect();
    let mut init = vec![0.0; k * d];
    let mut start = 0;
    while start < m {
        let len = CHUNK.min(m - start);
        let mut cols = vec![Vec::with_capacity(len); d];
        for r in start..start + len {
            let c = draw.below(k as u64) as usize;
            for (j, col) in cols.iter_mut().enumerate() {
                col.push(centers[c * d + j] + draw.normal(0.0, 1.5));
            }
            if let Some(p) = init_rows.iter().position(|&ir| ir == r) {
                for (j, col) in cols.iter().enumerate() {
                    init[p * d + j] = col[r - start];
                }
            }
        }
        let arrays: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
            .collect();
        pq.write(&RecordBatch::try_new(schema.clone(), arrays).expect("blobs batch"))
            .expect("write Parquet");
        start += len;
    }
    pq.close().expect("close Parquet");
    write_npy(&out.join("blobs_init.npy"), &init, k, d);
    println!("wrote {} and blobs_init.npy", path.display());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("usage: cargo run --release --example gen_seed -- OUT_DIR [N]");
        std::process::exit(2);
    };
    let n: usize = match args.get(1) {
        Some(s) => s.replace('_', "").parse().expect("N must be a row count"),
        None => 10_000_000,
    };
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("create {}: {e}", out.display()));
    gen_seed(&out, n);
    gen_blobs(&out);
}
