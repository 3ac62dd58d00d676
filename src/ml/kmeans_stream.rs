//! k-means over an input too large for the memory budget: the input is read again on every
//! pass, in fixed chunks of [`CHUNK`] rows ([`RowChunks`], cut by row number as the in-memory
//! fit cuts its passes), and only per-row results are held (labels, and k-means++'s distances).
//!
//! Each chunk is centred into a row-major block and handed to the same kernels the in-memory
//! fit runs on the same rows ([`RowMajor`]), and per-chunk sums merge in chunk order, so the
//! fit is the in-memory one step for step: same k-means++ seeding, same Lloyd steps, same
//! centres, labels and inertia, bit for bit, for the same seed. What it costs is passes: one to
//! count rows, one for the means, one for the variances (the tolerance), one per candidate
//! round of k-means++ and one or two per Lloyd step, each reading and decoding the source
//! again. What it holds is `4 n` bytes of labels (twice, for the convergence test) plus, while
//! seeding, `8 n` bytes per candidate distance vector (`2 + ln k` of them), as the in-memory
//! fit does: less than the input for all but the narrowest data.
//!
//! The chunks come from the input read again or, when it cannot be, from a file it was
//! spilled to once (`exec::spilled`); the labels are held in memory, not charged to the
//! budget. Wide data (at least [`WIDE`] features), which the in-memory fit reads in place
//! with matrix products, is not fitted this way: its input over the budget stops with the
//! `FIT` error.

use std::sync::Mutex;

use super::chunks::{check_finite, checked_parts, per_chunk};
use super::data::{merge, sum4, with_cols, Features, CHUNK};
use super::kernels::Isa;
use super::kmeans::WIDE;
use super::lloyd::{assign_rows, Points, RowMajor};
use super::{KMeans, KMeansModel};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::physical::RowChunks;

/// Rows per chunk: the in-memory fit's chunk.
pub(crate) const STREAM_CHUNK: usize = CHUNK;

/// Whether k-means of `d` features can read its input again instead of holding it.
pub(crate) fn can_rescan(d: usize) -> bool {
    d < WIDE
}

/// Fit `config` on the features `names` of `rows`, reading them again on every pass.
pub(crate) fn fit_rescanning(
    config: &KMeans,
    names: &[String],
    rows: &dyn RowChunks,
) -> Result<KMeansModel> {
    let (n, d) = (rows.rows(), names.len());
    config.validate(n, d)?;
    let means = means(names, rows)?;
    let sq = merge(
        per_chunk(rows, &|_, df| {
            let f = Features::from_frame(df, names, "kmeans")?;
            Ok(with_cols!(f, c => c.row_major_minus(&means).1))
        })?,
        d,
    );
    let tol = config.scaled_tol(&sq, n);
    let points = Rescanned {
        rows,
        names,
        means: &means,
        isa: Isa::detect(),
        failure: Mutex::new(None),
    };
    let run = config.runs(&points, &means, tol);
    if let Some(e) = points.failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(e);
    }
    Ok(config.model(names, run?, &means))
}

/// Column means as the in-memory fit computes them (per-chunk sums merged in chunk order),
/// with its errors for nulls and non-finite values, rows numbered from the input's first.
fn means(names: &[String], rows: &dyn RowChunks) -> Result<Vec<f64>> {
    let (n, d) = (rows.rows(), names.len());
    let parts = checked_parts(
        "kmeans",
        names,
        rows,
        &|f| with_cols!(f, c => (0..d).map(|j| sum4(c.col(j))).collect()),
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

impl Rescanned<'_> {
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
        if self.failed() {
            return None;
        }
        match per_chunk(self.rows, &|c, df| Ok(f(c, &self.points(df)?))) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(e);
                None
            }
        }
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
        let got = if self.failed() {
            None
        } else {
            match self.rows.chunk(i / cr).and_then(|df| self.points(&df)) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.fail(e);
                    None
                }
            }
        };
        match got {
            Some(p) => p.push_row(i % cr, out),
            None => out.extend(std::iter::repeat_n(0.0, self.d())),
        }
    }

    fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>> {
        let t = targets.len() / self.d().max(1);
        let parts = self.each(&|_, p| p.sq_dists_to(targets));
        (0..t)
            .map(|j| match &parts {
                Some(parts) => parts.iter().flat_map(|p| p[j].iter().copied()).collect(),
                None => vec![0.0; self.n()],
            })
            .collect()
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
        let mut sums = vec![0.0; if update { k * d } else { 0 }];
        let mut counts = vec![0u64; if update { k } else { 0 }];
        for (c, (lc, s, cn)) in parts.into_iter().flatten().enumerate() {
            labels[c * cr..c * cr + lc.len()].copy_from_slice(&lc);
            for (t, v) in sums.iter_mut().zip(s) {
                *t += v;
            }
            for (t, v) in counts.iter_mut().zip(cn) {
                *t += v;
            }
        }
        (sums, counts)
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
