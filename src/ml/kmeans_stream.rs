//! k-means over an input too large for the memory budget: the input is read again on every
//! pass, in fixed chunks of [`CHUNK`] rows ([`RowChunks`], cut by row number as the in-memory
//! fit cuts its passes), and only per-row results are held (labels, and k-means++'s distances).
//!
//! Each chunk goes through the same code the in-memory fit runs on the same rows: narrow data
//! (fewer than [`WIDE`] features) is centred into a row-major block for the register-tiled
//! kernels ([`RowMajor`]); wide data is read in place from the chunk's columns with blocked
//! products ([`super::kmeans_wide`], whose in-memory points are cut in the same chunks). Per-chunk
//! sums merge in chunk order, so the fit is the in-memory one step for step: same k-means++
//! seeding, same Lloyd steps, same centres, labels and inertia, bit for bit, for the same seed
//! and any thread count. What it costs is passes: one to count rows, one or two for the means
//! (and one for the variances of narrow data), one per candidate round of k-means++ and one or
//! two per Lloyd step, each reading and decoding the source again.
//!
//! What it holds is reserved from the fit's budget ([`super::lloyd`]): `16 n` bytes for a
//! Lloyd run (labels twice, for the convergence test, and a distance per row) and, while
//! seeding, `8 n` bytes per distance vector (`4 + ⌊ln k⌋` of them). The chunks come from the input
//! read again or, when it cannot be, from a file it was spilled to once (`exec::spilled`).

use std::sync::Mutex;

use super::chunks::{check_finite, checked_parts, means_and_devs, per_chunk};
use super::data::{merge, with_cols, Features, CHUNK};
use super::kernels::Isa;
use super::kmeans::WIDE;
use super::kmeans_wide::{Block, ChunkOps, Wide, WideChunks};
use super::lloyd::{assign_rows, merge_assigned, per_target, Points, RowMajor};
use super::{KMeans, KMeansModel};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::memory::Reservation;
use crate::physical::RowChunks;

/// Rows per chunk: the in-memory fit's chunk.
pub(crate) const STREAM_CHUNK: usize = CHUNK;

/// Fit `config` on the features `names` of `rows`, reading them again on every pass and
/// reserving what the fit holds from `budget`.
pub(crate) fn fit_rescanning(
    config: &KMeans,
    names: &[String],
    rows: &dyn RowChunks,
    budget: &Reservation,
) -> Result<KMeansModel> {
    let (n, d) = (rows.rows(), names.len());
    config.validate(n, d)?;
    if d >= WIDE {
        return fit_wide(config, names, rows, budget);
    }
    let means = means(names, rows)?;
    let sq = merge(
        per_chunk(rows, &|_, df| {
            let f = Features::from_frame(df, names, "kmeans")?;
            Ok(with_cols!(f, c => c.row_major_minus(&means).1))
        })?,
        d,
    );
    let tol = config.scaled_tol(&sq, n);
    let points = Rescanned::new(rows, names, &means);
    let run = config.runs(&points, &means, tol, budget);
    points
        .failed_run(run)
        .map(|run| config.model(names, run, &means))
}

/// The wide fit: means and variances as the in-memory wide fit computes them, then its runs
/// over chunks read again.
fn fit_wide(
    config: &KMeans,
    names: &[String],
    rows: &dyn RowChunks,
    budget: &Reservation,
) -> Result<KMeansModel> {
    let (means, devs, f32) = means_and_devs("kmeans", names, rows)?;
    let tol = config.scaled_tol(&devs, rows.rows());
    let points = Wide(WideRescanned {
        chunks: Rescanned::new(rows, names, &means),
        f32,
    });
    let run = config.runs(&points, &means, tol, budget);
    points
        .0
        .chunks
        .failed_run(run)
        .map(|run| config.model(names, run, &means))
}

/// Column means as the in-memory fit computes them (per-chunk sums merged in chunk order),
/// with its errors for nulls and non-finite values, rows numbered from the input's first.
fn means(names: &[String], rows: &dyn RowChunks) -> Result<Vec<f64>> {
    let (n, d) = (rows.rows(), names.len());
    let parts = checked_parts(
        "kmeans",
        names,
        rows,
        &|f| with_cols!(f, c => (0..d).map(|j| c.sum(j)).collect()),
    )?;
    let means: Vec<f64> = merge(parts, d).iter().map(|s| s / n as f64).collect();
    check_finite("kmeans", names, rows, &means)?;
    Ok(means)
}

/// The centred points of a re-read input, for [`super::lloyd`]: every call is a pass. The
/// [`Points`] methods cannot fail, so the first failure of a pass is kept (and the pass gives
/// zeros); the fit reports it when the run is over.
struct Rescanned<'a> {
    rows: &'a dyn RowChunks,
    names: &'a [String],
    means: &'a [f64],
    isa: Isa,
    failure: Mutex<Option<Error>>,
}

impl<'a> Rescanned<'a> {
    fn new(rows: &'a dyn RowChunks, names: &'a [String], means: &'a [f64]) -> Self {
        Self {
            rows,
            names,
            means,
            isa: Isa::detect(),
            failure: Mutex::new(None),
        }
    }

    /// `run`, unless a pass failed on the way (that failure, then).
    fn failed_run<R>(&self, run: Result<R>) -> Result<R> {
        match self.failure.lock().ok().and_then(|mut f| f.take()) {
            Some(e) => Err(e),
            None => run,
        }
    }

    /// `f` over every chunk, in chunk order; `None` after a failure (kept).
    fn each_frame<R: Send + Sync>(
        &self,
        f: &(dyn Fn(usize, &DataFrame) -> Result<R> + Sync),
    ) -> Option<Vec<R>> {
        if self.failed() {
            return None;
        }
        match per_chunk(self.rows, f) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// Chunk `c` alone, `None` after a failure (kept).
    fn one_chunk(&self, c: usize) -> Option<DataFrame> {
        if self.failed() {
            return None;
        }
        match self.rows.chunk(c) {
            Ok(df) => Some(df),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// Chunk `df` as centred row-major points.
    fn points(&self, df: &DataFrame) -> Result<RowMajor> {
        let f = Features::from_frame(df, self.names, "kmeans")?;
        Ok(RowMajor {
            x: with_cols!(f, c => c.row_major_minus(self.means).0),
            d: self.names.len(),
            isa: self.isa,
        })
    }

    /// `f` over every chunk's points, in chunk order; `None` after a failure (kept).
    fn each<R: Send + Sync>(&self, f: &(dyn Fn(usize, &RowMajor) -> R + Sync)) -> Option<Vec<R>> {
        self.each_frame(&|c, df| Ok(f(c, &self.points(df)?)))
    }

    fn failed(&self) -> bool {
        self.failure.lock().map_or(true, |f| f.is_some())
    }

    fn fail(&self, e: Error) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
    }
}

impl Points for Rescanned<'_> {
    fn n(&self) -> usize {
        self.rows.rows()
    }

    fn d(&self) -> usize {
        self.names.len()
    }

    fn push_row(&self, i: usize, out: &mut Vec<f64>) {
        let cr = self.rows.chunk_rows();
        let got = self
            .one_chunk(i / cr)
            .and_then(|df| match self.points(&df) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.fail(e);
                    None
                }
            });
        match got {
            Some(p) => p.push_row(i % cr, out),
            None => out.extend(std::iter::repeat_n(0.0, self.d())),
        }
    }

    fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>> {
        let t = targets.len() / self.d().max(1);
        per_target(self.each(&|_, p| p.sq_dists_to(targets)), t, self.n())
    }

    fn assign(
        &self,
        centres: &[f64],
        k: usize,
        labels: &mut [u32],
        update: bool,
    ) -> (Vec<f64>, Vec<u64>) {
        let d = self.d();
        let cr = self.rows.chunk_rows();
        let parts = self.each(&|_, p| {
            let mut lc = vec![0u32; p.n()];
            let (s, c) = assign_rows(p.isa, &p.x, d, centres, k, &mut lc, update);
            (lc, s, c)
        });
        merge_assigned(parts.into_iter().flatten(), labels, cr, (k, d), update)
    }

    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64> {
        let cr = self.rows.chunk_rows();
        match self.each(&|c, p| {
            let lo = c * cr;
            p.own_dists(centres, &labels[lo..lo + p.n()])
        }) {
            Some(parts) => parts.concat(),
            None => vec![0.0; self.n()],
        }
    }
}

/// Wide points read again chunk by chunk: each chunk's columns in place, as the in-memory wide
/// fit cuts them (squared norms computed per pass rather than kept).
struct WideRescanned<'a> {
    chunks: Rescanned<'a>,
    /// Whether the features are all Float32.
    f32: bool,
}

impl WideRescanned<'_> {
    /// `f` of chunk `df`'s wide points.
    fn with_block<R>(&self, df: &DataFrame, f: impl FnOnce(&dyn ChunkOps) -> R) -> Result<R> {
        let x = Features::from_frame(df, self.chunks.names, "kmeans")?;
        Ok(with_cols!(x, cols => f(&Block { cols, mean: self.chunks.means })))
    }
}

impl WideChunks for WideRescanned<'_> {
    fn n(&self) -> usize {
        self.chunks.rows.rows()
    }

    fn d(&self) -> usize {
        self.chunks.names.len()
    }

    fn chunk_rows(&self) -> usize {
        self.chunks.rows.chunk_rows()
    }

    fn mean(&self) -> &[f64] {
        self.chunks.means
    }

    fn is_f32(&self) -> bool {
        self.f32
    }

    fn sq_norms(&self) -> Option<&[f64]> {
        None
    }

    fn each<R: Send>(&self, f: &(dyn Fn(usize, &dyn ChunkOps) -> R + Sync)) -> Option<Vec<R>> {
        // Results wait in order in `per_chunk`'s slots, which need `Sync`: wrap them.
        let parts = self
            .chunks
            .each_frame(&|c, df| self.with_block(df, |b| Mutex::new(Some(f(c, b)))))?;
        parts
            .into_iter()
            .map(|m| m.into_inner().ok().flatten())
            .collect()
    }

    fn push_row(&self, i: usize, out: &mut Vec<f64>) {
        let cr = self.chunk_rows();
        let got = self.chunks.one_chunk(i / cr).and_then(|df| {
            self.with_block(&df, |b| b.push_row(i % cr, out))
                .map_err(|e| self.chunks.fail(e))
                .ok()
        });
        if got.is_none() {
            out.extend(std::iter::repeat_n(0.0, self.d()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryPool;
    use crate::ml::chunks::{named_frame, InMemory};

    /// Four blobs in `d` dimensions, far from the origin (the f32 means round).
    fn blobs<T: crate::frame::NdElement>(
        n: usize,
        d: usize,
        f: impl Fn(f64) -> T,
    ) -> (DataFrame, Vec<String>) {
        named_frame(&ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            let blob = ((i * 7919) % 4) as f64;
            let noise = ((i * 31 + j * 17) % 101) as f64 / 50.0;
            f(1000.0 + blob * 3.0 * ((j % 5) as f64 - 2.0) + noise)
        }))
    }

    fn check((df, names): (DataFrame, Vec<String>), km: &KMeans) {
        let f = Features::from_frame(&df, &names, "kmeans").expect("features");
        let want = km
            .fit_features(&f, &MemoryPool::unbounded().reserve("FIT"))
            .expect("in memory");
        let chunks = InMemory(df);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let budget = MemoryPool::unbounded().reserve("FIT");
            let got = pool
                .install(|| fit_rescanning(km, &names, &chunks, &budget))
                .expect("chunked");
            assert_eq!(got.centroids, want.centroids, "{threads}");
            assert_eq!(got.labels, want.labels, "{threads}");
            assert_eq!((got.inertia, got.n_iter), (want.inertia, want.n_iter));
        }
    }

    #[test]
    fn wide_chunked_passes_give_the_in_memory_bits() {
        // Partial last chunk; f64 and f32 (centre sums corrected for the rounded means).
        let (n, d) = (2 * CHUNK + 300, WIDE + 3);
        check(blobs(n, d, |v| v), &KMeans::new(4).seed(2));
        check(blobs(n, d, |v| v as f32), &KMeans::new(4).seed(2).n_init(2));
        // An empty cluster relocated (a centre far from every point).
        let init = ndarray::Array2::from_shape_fn((3, d), |(c, _)| 1000.0 + c as f64 * 1e6);
        check(blobs(n, d, |v| v), &KMeans::new(3).init(init));
    }
}
