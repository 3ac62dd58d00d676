//! ML speed check: k-means (1M x 16, k = 8, 20 Lloyd iterations from given centres) and PCA
//! (1M x 16 to 4 components, covariance path) on deterministic generated data, printing
//! seconds (best of 3 runs for k-means, 5 for PCA). `benches/ml_sklearn.py` runs
//! scikit-learn on bit-identical data for the comparison figure.
//!
//! ```text
//! cargo bench --bench ml            # fusedframe
//! python benches/ml_sklearn.py      # scikit-learn, same data
//! ```
//!
//! With `ML_WIDE_DATA=DIR` it instead times, in process, the workloads of
//! `benches/ml_wide.py` on the files that script generates in DIR (PCA(3) and KMeans(8) of the
//! 10,000 x 10,000 float32 matrix from Arrow IPC, MiniBatchKMeans(8) of 10M x 16 from Parquet,
//! load included); `ml_wide.py` times the CLI in a fresh process and scikit-learn.

use std::time::Instant;

use fusedframe::prelude::*;
use ndarray::Array2;

const N: usize = 1_000_000;
const D: usize = 16;
const K: usize = 8;
const ITERS: usize = 20;
const SEED: u64 = 42;

/// Uniform [0, 1) values: element `i` (row-major) is a splitmix64-style hash of `seed + i`,
/// top 53 bits scaled by 2^-53 (the same formula as `gen_data` in ml_sklearn.py).
fn value(i: u64, seed: u64) -> f64 {
    let mut z = i.wrapping_add(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn gen_frame() -> DataFrame {
    let cols = (0..D)
        .map(|j| {
            let v: Vec<f64> = (0..N).map(|i| value((i * D + j) as u64, SEED)).collect();
            Column::new(format!("x{j}"), v)
        })
        .collect();
    DataFrame::new(cols).expect("frame")
}

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one repetition"))
}

fn main() {
    // Measured as the CLI runs: with the allocator tuned for large column buffers.
    fusedframe::tune_allocator();
    if let Ok(dir) = std::env::var("ML_WIDE_DATA") {
        return wide_benches(std::path::Path::new(&dir));
    }
    let df = gen_frame();
    let checksum: f64 = (0..D)
        .map(|j| {
            df.column_f64(&format!("x{j}"))
                .expect("column")
                .iter()
                .flatten()
                .sum::<f64>()
        })
        .sum();
    println!(
        "data: {N} x {D} (checksum {checksum:.10e}), rayon threads: {}",
        rayon::current_num_threads()
    );
    // ML_BENCH=kmeans or ML_BENCH=pca runs one workload (for profiling).
    let only = std::env::var("ML_BENCH").unwrap_or_default();
    let init = Array2::from_shape_fn((K, D), |(i, j)| value((i * D + j) as u64, SEED));
    if only != "pca" {
        kmeans_bench(&df, &init);
    }
    if only != "kmeans" {
        pca_bench(&df);
    }
}

fn kmeans_bench(df: &DataFrame, init: &Array2<f64>) {
    let (t, km) = best_of(3, || {
        df.clone()
            .lazy()
            .kmeans(KMeans::new(K).init(init.clone()).max_iter(ITERS).tol(0.0))
            .fit()
            .expect("kmeans")
    });
    println!(
        "fusedframe kmeans 1M x 16 k=8 {ITERS} iters: {t:.4} s (n_iter={}, inertia={:.6e})",
        km.n_iter, km.inertia
    );
}

fn pca_bench(df: &DataFrame) {
    let (t, p) = best_of(5, || {
        df.clone()
            .lazy()
            .pca(Pca::new(4).solver(PcaSolver::CovarianceEigh))
            .fit()
            .expect("pca")
    });
    println!(
        "fusedframe pca 1M x 16 -> 4 covariance_eigh: {t:.4} s (ev0={:.6e})",
        p.explained_variance[0]
    );
}

/// The wide workloads, in process (load included, best of 3).
fn wide_benches(dir: &std::path::Path) {
    let wide = dir.join("wide_10000x10000_f32.arrow");
    let wide = wide.to_str().expect("utf-8 path");
    let blobs = dir.join("blobs_10000000x16.parquet");
    let blobs = blobs.to_str().expect("utf-8 path");
    println!("rayon threads: {}", rayon::current_num_threads());
    let (t, p) = best_of(3, || scan_ipc(wide).pca(Pca::new(3)).fit().expect("pca"));
    println!(
        "pca_wide_k3\tfusedframe-in-process\t{t:.3}\tsolver={:?} explained_variance={:?}",
        p.solver,
        p.explained_variance.to_vec()
    );
    let (t, km) = best_of(3, || {
        scan_ipc(wide)
            .kmeans(KMeans::new(8).seed(0))
            .fit()
            .expect("kmeans")
    });
    println!(
        "kmeans_wide_k8\tfusedframe-in-process\t{t:.3}\tn_iter={} inertia={:.6e}",
        km.n_iter, km.inertia
    );
    if std::path::Path::new(blobs).exists() {
        let (t, mb) = best_of(3, || {
            scan_parquet(blobs)
                .mini_batch_kmeans(MiniBatchKMeans::new(8).seed(0))
                .fit()
                .expect("minibatch")
        });
        println!(
            "minibatch_10Mx16\tfusedframe-in-process\t{t:.3}\tn_iter={} inertia={:.6e}",
            mb.n_iter, mb.inertia
        );
    }
}

/// Column-sized buffers reused between runs instead of mapped afresh, as the CLI has them.
#[global_allocator]
static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();
