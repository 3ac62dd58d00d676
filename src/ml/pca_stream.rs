//! Randomized PCA over an input too large for the memory budget, read chunk by chunk on
//! every pass ([`RowChunks`]: a re-readable source read again, or the input spilled once to a
//! file), in a fixed number of passes: one for the means and variances, then one per product
//! of Halko's range finder (`2 n_iter + 2`, see [`super::randomized`]).
//!
//! Each chunk ([`CHUNK`] rows, as the in-memory passes cut them) goes through the same
//! kernels as in memory: `Xc Q` gives the chunk's own rows of the n x l result, and `Xcᵀ Y`
//! the chunk's d x l part, the parts added in chunk order as in memory. Each pass therefore
//! computes the in-memory fit's numbers exactly, and the model is the in-memory one bit for
//! bit, for any thread count and budget. What it holds besides a pool width of chunks is the
//! thin n x l and d x l matrices of the range finder (`l = n_components + n_oversamples`),
//! as the in-memory fit does, reserved from the fit's budget (`super::randomized::sketch_bytes`:
//! past it, the fit stops with the `FIT` memory error); the full solver, which needs the data in memory, is not run this
//! way (the fit stops with the `FIT` memory error).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::chunks::means_and_devs;
use super::data::{with_cols, Features, CHUNK};
use super::linalg::ColMajor;
use super::products::{row_range, tmul_total};
use super::randomized::CentredProducts;
use super::{Pca, PcaModel, PcaSolver};
use crate::error::{Error, Result};
use crate::memory::Reservation;
use crate::physical::RowChunks;

/// Rows per chunk: the in-memory passes' chunk.
pub(crate) const STREAM_CHUNK: usize = CHUNK;

/// Fit `config` on the features `names` of `rows`, reading them again on every pass; `None`
/// when the solver is not (or `auto` does not pick) the randomized one.
pub(crate) fn fit_rescanning(
    config: &Pca,
    names: &[String],
    rows: &dyn RowChunks,
    budget: &Reservation,
) -> Result<Option<PcaModel>> {
    let (n, d) = (rows.rows(), names.len());
    if n == 0 || d == 0 {
        // Too small to need streaming: the in-memory fit's validation has the error.
        return Ok(None);
    }
    if matches!(config.solver_for(n, d), Ok(s) if s != PcaSolver::Randomized) {
        // Invalid settings are reported after the data's own faults, as in memory.
        return Ok(None);
    }
    let (mean, devs, f32) = means_and_devs("pca", names, rows)?;
    let chunked = Chunked { rows, names, f32 };
    config.fit_products(names, &chunked, mean, &devs, budget)
}

/// The centred products over chunks read again on every call.
struct Chunked<'a> {
    rows: &'a dyn RowChunks,
    names: &'a [String],
    /// Whether the features are all Float32 (fitted in `f32`).
    f32: bool,
}

/// `Xcᵀ Y`'s chunk parts added in chunk order as they come: `(next chunk, sum, waiting)`.
type Ordered = (usize, Vec<f64>, BTreeMap<usize, Vec<f64>>);

impl CentredProducts for Chunked<'_> {
    fn n(&self) -> usize {
        self.rows.rows()
    }

    fn d(&self) -> usize {
        self.names.len()
    }

    fn is_f32(&self) -> bool {
        self.f32
    }

    fn mul(&self, mean: &[f64], q: &ColMajor<f64>) -> Result<ColMajor<f64>> {
        let (n, l, cr) = (self.n(), q.ncols, self.rows.chunk_rows());
        let out = Mutex::new(vec![0.0; n * l]);
        self.rows.for_each_chunk(&|c, df| {
            let f = Features::from_frame(df, self.names, "pca")?;
            let part = with_cols!(f, x => x.centred_mul(mean, q));
            let mut out = out.lock().map_err(|_| poisoned())?;
            let (lo, rows) = (c * cr, part.nrows);
            for j in 0..l {
                out[j * n + lo..j * n + lo + rows].copy_from_slice(part.col(j));
            }
            Ok(())
        })?;
        Ok(ColMajor {
            data: out.into_inner().map_err(|_| poisoned())?,
            nrows: n,
            ncols: l,
        })
    }

    fn tmul(&self, mean: &[f64], y: &ColMajor<f64>) -> Result<ColMajor<f64>> {
        let (d, l, cr) = (self.d(), y.ncols, self.rows.chunk_rows());
        let sum: Mutex<Ordered> = Mutex::new((0, vec![0.0; d * l], BTreeMap::new()));
        self.rows.for_each_chunk(&|c, df| {
            let f = Features::from_frame(df, self.names, "pca")?;
            let (lo, hi) = (c * cr, c * cr + df.height());
            let part = with_cols!(f, x => x.tmul_part(mean, &row_range(y, lo, hi)));
            // Only additions under the lock: no nested parallel work waits on it.
            let mut guard = sum.lock().map_err(|_| poisoned())?;
            let (next, total, waiting) = &mut *guard;
            waiting.insert(c, part);
            while let Some(p) = waiting.remove(next) {
                total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
                *next += 1;
            }
            Ok(())
        })?;
        let (next, total, _) = sum.into_inner().map_err(|_| poisoned())?;
        if next != self.n().div_ceil(cr) {
            return Err(Error::Internal(
                "a chunk of a re-read input is missing".into(),
            ));
        }
        Ok(if self.f32 {
            tmul_total::<f32>(total, mean, y)
        } else {
            tmul_total::<f64>(total, mean, y)
        })
    }

    /// Both products in one pass: each chunk gives its rows of `Y` and its part of `Xcᵀ Y`
    /// ([`Cols::mul_tmul_part`](super::data::Cols)), the parts added in chunk order, as in
    /// memory.
    fn mul_tmul(&self, mean: &[f64], q: &ColMajor<f64>) -> Result<(ColMajor<f64>, ColMajor<f64>)> {
        let (n, d, l, cr) = (self.n(), self.d(), q.ncols, self.rows.chunk_rows());
        let y = Mutex::new(vec![0.0; n * l]);
        let sum: Mutex<Ordered> = Mutex::new((0, vec![0.0; d * l], BTreeMap::new()));
        self.rows.for_each_chunk(&|c, df| {
            let f = Features::from_frame(df, self.names, "pca")?;
            let (part_y, part_w) = with_cols!(f, x => x.mul_tmul_part(mean, q));
            {
                let mut y = y.lock().map_err(|_| poisoned())?;
                let (lo, rows) = (c * cr, part_y.nrows);
                for j in 0..l {
                    y[j * n + lo..j * n + lo + rows].copy_from_slice(part_y.col(j));
                }
            }
            let mut guard = sum.lock().map_err(|_| poisoned())?;
            let (next, total, waiting) = &mut *guard;
            waiting.insert(c, part_w);
            while let Some(p) = waiting.remove(next) {
                total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
                *next += 1;
            }
            Ok(())
        })?;
        let (next, total, _) = sum.into_inner().map_err(|_| poisoned())?;
        if next != n.div_ceil(cr) {
            return Err(Error::Internal(
                "a chunk of a re-read input is missing".into(),
            ));
        }
        let y = ColMajor {
            data: y.into_inner().map_err(|_| poisoned())?,
            nrows: n,
            ncols: l,
        };
        let w = if self.f32 {
            tmul_total::<f32>(total, mean, &y)
        } else {
            tmul_total::<f64>(total, mean, &y)
        };
        Ok((y, w))
    }
}

fn poisoned() -> Error {
    Error::Internal("a chunked product's lock was poisoned".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::DataFrame;
    use crate::memory::MemoryPool;
    use crate::ml::chunks::{named_frame, InMemory};

    fn matrix<T: crate::frame::NdElement>(
        n: usize,
        d: usize,
        f: impl Fn(f64) -> T,
    ) -> (DataFrame, Vec<String>) {
        named_frame(&ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            let t = ((i * 31 + j * 17) % 101) as f64 / 7.0 + (i % 5) as f64 * (j % 3) as f64;
            f(t + 1000.0)
        }))
    }

    fn check((df, names): (DataFrame, Vec<String>), config: &Pca) {
        let budget = MemoryPool::unbounded().reserve("FIT");
        let want = config
            .fit_features(
                &Features::from_frame(&df, &names, "pca").expect("features"),
                &budget,
            )
            .expect("in memory");
        let chunks = InMemory(df);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let got = pool
                .install(|| fit_rescanning(config, &names, &chunks, &budget))
                .expect("chunked")
                .expect("randomized");
            assert_eq!(got.components, want.components);
            assert_eq!(got.explained_variance, want.explained_variance);
            assert_eq!(got.mean, want.mean);
            assert_eq!(got.noise_variance, want.noise_variance);
        }
    }

    #[test]
    fn chunked_passes_give_the_in_memory_bits() {
        // Partial chunks, partial column panels; f64 and f32 (means rounded to f32).
        let config = Pca::new(3).svd_solver(PcaSolver::Randomized).n_iter(2);
        check(matrix(2 * CHUNK + 300, 70, |v| v), &config);
        check(matrix(2 * CHUNK + 300, 70, |v| v as f32), &config);
        // Fewer rows than features: the transposed products, LU normalizer.
        let config = Pca::new(2).svd_solver(PcaSolver::Randomized).n_iter(4);
        check(matrix(60, 90, |v| v), &config);
    }

    #[test]
    fn other_solvers_are_left_to_the_in_memory_fit() {
        let (df, names) = matrix(CHUNK + 5, 4, |v| v);
        let full = Pca::new(2).svd_solver(PcaSolver::Full);
        let budget = MemoryPool::unbounded().reserve("FIT");
        assert!(fit_rescanning(&full, &names, &InMemory(df), &budget)
            .expect("fit")
            .is_none());
    }

    #[test]
    fn the_sketches_are_charged_to_the_budget() {
        let (n, d) = (2 * CHUNK + 300, 70);
        let (df, names) = matrix(n, d, |v| v);
        let config = Pca::new(3).svd_solver(PcaSolver::Randomized).n_iter(2);
        // l = 3 + 10 oversamples: two n x l and two d x l matrices of f64.
        let want = 2 * (n + d) * 13 * 8;
        let chunks = InMemory(df.clone());
        let pool = MemoryPool::unbounded();
        let fit = fit_rescanning(&config, &names, &chunks, &pool.reserve("FIT"));
        assert!(matches!(fit, Ok(Some(_))));
        assert_eq!(pool.peak(), want);
        let short = MemoryPool::new(want - 1);
        let fit = fit_rescanning(&config, &names, &chunks, &short.reserve("FIT"));
        assert!(matches!(fit, Err(Error::MemoryLimit { .. })));
        // The in-memory fit holds the same.
        let pool = MemoryPool::unbounded();
        let f = Features::from_frame(&df, &names, "pca").expect("features");
        assert!(config.fit_features(&f, &pool.reserve("FIT")).is_ok());
        assert_eq!(pool.peak(), want);
    }
}
