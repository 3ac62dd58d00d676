//! k-means points for wide data (many features), read from the frame's columns in place: no
//! row-major copy (an `f32` input stays `f32`), and the distances of all points to all centres
//! (or k-means++ candidates) come from one blocked product `Xc Cᵀ` ([`Cols::centred_mul`])
//! through `|x|² - 2 x·c + |c|²` on centred data, as scikit-learn computes them. Centre sums
//! are a second product, `Xcᵀ M` with the cluster indicator `M`, fused with the first in a
//! Lloyd step ([`Cols::mul_map_tmul_part`]): each small block of rows is packed once, gives its
//! distances and labels, and its part of the sums from the packed block still in cache, so a
//! step reads the matrix once (these passes are bound by reading it). Distances to the own
//! centre and the inertia are exact column passes.
//!
//! Every pass works chunk by chunk ([`WideChunks`]: consecutive [`CHUNK`]-row chunks cut by
//! row number): a chunk's products cover its own rows, its part of the centre sums is the
//! fused pass's part for its rows, and the parts add up in chunk order before the one
//! correction for the means' rounding to `f32` ([`centred_total`]). The chunks come from the input in memory ([`InMemory`]:
//! slices of its columns, in parallel) or from the input read again on every pass
//! (`super::kmeans_stream`, when it is over the memory budget); both run this same code on the
//! same rows, so they give the same bits for any thread count. A pass holds a chunk's products
//! (`CHUNK x k`) per chunk in flight; the in-memory points also keep each row's squared norm.

use rayon::prelude::*;

use super::data::{Cols, Elem, CHUNK};
use super::linalg::ColMajor;
use super::lloyd::{merge_assigned, per_target, Points};
use super::products::{centred_total, prefetch, PREFETCH_BYTES};

/// One chunk of wide points: rows of the feature columns, centred on `mean` as they are read.
pub(crate) struct Block<'a, T> {
    pub cols: Cols<'a, T>,
    pub mean: &'a [f64],
}

/// What a pass does with one chunk, whatever its element type (results cover its rows).
pub(crate) trait ChunkOps {
    /// Rows in the chunk.
    fn rows(&self) -> usize;
    /// Append the chunk's centred row `r` to `out`.
    fn push_row(&self, r: usize, out: &mut Vec<f64>);
    /// `|x - mean|²` per row.
    fn sq_norms(&self) -> Vec<f64>;
    /// Squared distances of every row to each target (row-major; `norms` are the targets'
    /// `|t|²`, `sq_norms` the rows' when known).
    fn sq_dists(&self, targets: &[f64], norms: &[f64], sq_norms: Option<&[f64]>) -> Vec<Vec<f64>>;
    /// Label the rows with their nearest centre (lowest index on ties) and, when `update`,
    /// return the chunk's part of the centre sums (before [`centred_total`]) and its counts.
    fn assign(
        &self,
        centres: &[f64],
        norms: &[f64],
        labels: &mut [u32],
        update: bool,
    ) -> (Vec<f64>, Vec<u64>);
    /// `Σ (x - c)²` of every row to its labelled centre.
    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64>;
}

impl<T: Elem> Block<'_, T> {
    /// `x_i · t` for the chunk's rows and every target (row-major `targets`): rows x t.
    fn dots(&self, targets: &[f64]) -> ColMajor<f64> {
        let d = self.cols.d();
        // The targets' rows are the columns of the d x t matrix Tᵀ, column-major as given.
        let tt = ColMajor {
            data: targets.to_vec(),
            nrows: d,
            ncols: targets.len() / d.max(1),
        };
        self.cols.centred_mul(self.mean, &tt)
    }
}

impl<T: Elem> ChunkOps for Block<'_, T> {
    fn rows(&self) -> usize {
        self.cols.n
    }

    fn push_row(&self, r: usize, out: &mut Vec<f64>) {
        out.extend(
            self.mean
                .iter()
                .enumerate()
                .map(|(j, m)| self.cols.value(j, r).into_f64() - m),
        );
    }

    fn sq_norms(&self) -> Vec<f64> {
        let mut acc = vec![0.0; self.cols.n];
        for (j, &m) in self.mean.iter().enumerate() {
            for (a, v) in acc.iter_mut().zip(self.cols.values(j)) {
                let t = v.into_f64() - m;
                *a += t * t;
            }
        }
        acc
    }

    fn sq_dists(&self, targets: &[f64], norms: &[f64], sq_norms: Option<&[f64]>) -> Vec<Vec<f64>> {
        let own;
        let xn = match sq_norms {
            Some(s) => s,
            None => {
                own = self.sq_norms();
                &own
            }
        };
        let dots = self.dots(targets);
        norms
            .iter()
            .enumerate()
            .map(|(t, tn)| {
                dots.col(t)
                    .iter()
                    .zip(xn)
                    .map(|(dt, xn)| (xn - 2.0 * dt + tn).max(0.0))
                    .collect()
            })
            .collect()
    }

    fn assign(
        &self,
        centres: &[f64],
        norms: &[f64],
        labels: &mut [u32],
        update: bool,
    ) -> (Vec<f64>, Vec<u64>) {
        let (rows, k) = (self.cols.n, norms.len());
        if !update {
            let dots = self.dots(centres);
            for (i, l) in labels.iter_mut().enumerate() {
                *l = nearest(norms, &dots.data, rows, i);
            }
            return (vec![], vec![]);
        }
        // One pass: each block of rows, packed once, gives its distances, its labels, and its
        // part of the per-cluster sums `Xcᵀ M` (M the rows x k cluster indicator) right away.
        let d = self.cols.d();
        let tt = ColMajor {
            data: centres.to_vec(),
            nrows: d,
            ncols: k,
        };
        let indicator = |yb: &[f64], rows: usize| {
            let mut onehot = vec![T::default(); rows * k];
            let one = T::from_f64_rounded(1.0);
            for i in 0..rows {
                onehot[nearest(norms, yb, rows, i) as usize * rows + i] = one;
            }
            onehot
        };
        let (dots, sums) = self.cols.mul_map_tmul_part(self.mean, &tt, k, &indicator);
        // The same labels the blocks' indicators were built from (the same values, the same
        // comparisons), now for the whole chunk.
        let mut counts = vec![0u64; k];
        for (i, l) in labels.iter_mut().enumerate() {
            *l = nearest(norms, &dots.data, rows, i);
            counts[*l as usize] += 1;
        }
        (sums, counts)
    }

    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64> {
        let d = self.mean.len();
        let k = centres.len() / d.max(1);
        // The centres shifted by the mean, feature-major: feature j of every centre together.
        let mut shifted = vec![0.0; d * k];
        for (j, &m) in self.mean.iter().enumerate() {
            for c in 0..k {
                shifted[j * k + c] = centres[c * d + j] + m;
            }
        }
        let mut acc = vec![0.0; self.cols.n];
        // A tile of rows at a time, over every feature: the tile's sums, labels and column
        // stretches stay in L1 (whole chunks per feature would stream them all from L2 once
        // per feature). Each row still sums its features in order.
        // Columns' stretches are too short for the hardware prefetcher to start on: ask for
        // the one a few columns ahead while summing this one (as the packing passes do).
        const TILE: usize = 512;
        for (t, (acc, labels)) in acc.chunks_mut(TILE).zip(labels.chunks(TILE)).enumerate() {
            let (r0, r1) = (t * TILE, t * TILE + acc.len());
            let ahead = (PREFETCH_BYTES / ((r1 - r0) * std::mem::size_of::<T>()).max(1)).max(1);
            let span = self.cols.span(r0, r1);
            for (j, cj) in shifted.chunks_exact(k.max(1)).enumerate() {
                if j + ahead < d {
                    self.cols.pieces(j + ahead, &span).for_each(prefetch);
                }
                let mut at = 0;
                for col in self.cols.pieces(j, &span) {
                    let rows = at..at + col.len();
                    for ((a, v), &l) in acc[rows.clone()].iter_mut().zip(col).zip(&labels[rows]) {
                        let t = v.into_f64() - cj[l as usize];
                        *a += t * t;
                    }
                    at += col.len();
                }
            }
        }
        acc
    }
}

/// The centre nearest to row `i` (lowest index on ties) given the rows' dot products with the
/// centres (`dots`, rows x k column-major) and the centres' squared norms: the smallest
/// `|c|² - 2 x·c` (the row's own `|x|²` is the same for every centre).
#[inline]
fn nearest(norms: &[f64], dots: &[f64], rows: usize, i: usize) -> u32 {
    let mut best = (f64::INFINITY, 0u32);
    for (j, cn) in norms.iter().enumerate() {
        let v = cn - 2.0 * dots[j * rows + i];
        if v < best.0 {
            best = (v, j as u32);
        }
    }
    best.1
}

/// Wide points as consecutive chunks of rows, in memory ([`InMemory`]) or read again on
/// every pass.
pub(crate) trait WideChunks: Sync {
    /// Rows in all.
    fn n(&self) -> usize;
    /// Features.
    fn d(&self) -> usize;
    /// Rows per chunk (the last may be shorter).
    fn chunk_rows(&self) -> usize;
    /// The column means the points are centred on.
    fn mean(&self) -> &[f64];
    /// Whether the values are `f32` (the centre sums are then corrected for the means'
    /// rounding to `f32`, see [`centred_total`]).
    fn is_f32(&self) -> bool;
    /// The rows' `|x - mean|²`, when kept.
    fn sq_norms(&self) -> Option<&[f64]>;
    /// `f(c, chunk)` for every chunk `c`, results in chunk order; `None` when the pass failed
    /// (the source keeps the error).
    fn each<R: Send>(&self, f: &(dyn Fn(usize, &dyn ChunkOps) -> R + Sync)) -> Option<Vec<R>>;
    /// Append centred row `i` to `out` (zeros when it cannot be read; the error is kept).
    fn push_row(&self, i: usize, out: &mut Vec<f64>);
}

/// The [`Points`] of wide chunks.
pub(crate) struct Wide<S>(pub S);

/// `|t|²` of each row of `targets`.
fn row_norms(targets: &[f64], d: usize) -> Vec<f64> {
    targets
        .chunks(d.max(1))
        .map(|t| t.iter().map(|v| v * v).sum())
        .collect()
}

impl<S: WideChunks> Points for Wide<S> {
    fn n(&self) -> usize {
        self.0.n()
    }

    fn d(&self) -> usize {
        self.0.d()
    }

    fn push_row(&self, i: usize, out: &mut Vec<f64>) {
        self.0.push_row(i, out);
    }

    fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>> {
        let (d, cr) = (self.d(), self.0.chunk_rows());
        let norms = row_norms(targets, d);
        let parts = self.0.each(&|c, b| {
            let lo = c * cr;
            let kept = self.0.sq_norms().map(|s| &s[lo..lo + b.rows()]);
            b.sq_dists(targets, &norms, kept)
        });
        per_target(parts, norms.len(), self.n())
    }

    fn assign(
        &self,
        centres: &[f64],
        k: usize,
        labels: &mut [u32],
        update: bool,
    ) -> (Vec<f64>, Vec<u64>) {
        let (d, cr) = (self.d(), self.0.chunk_rows());
        let norms = row_norms(centres, d);
        let parts = self.0.each(&|_, b| {
            let mut lc = vec![0u32; b.rows()];
            let (s, c) = b.assign(centres, &norms, &mut lc, update);
            (lc, s, c)
        });
        let (sums, counts) =
            merge_assigned(parts.into_iter().flatten(), labels, cr, (k, d), update);
        if !update {
            return (sums, counts);
        }
        // The indicator's column sums are the cluster sizes.
        let sizes: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
        let st = if self.0.is_f32() {
            centred_total::<f32>(sums, self.0.mean(), &sizes)
        } else {
            centred_total::<f64>(sums, self.0.mean(), &sizes)
        };
        // st is d x k column-major: cluster c's sums are its column c.
        (st.data, counts)
    }

    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64> {
        let cr = self.0.chunk_rows();
        match self.0.each(&|c, b| {
            let lo = c * cr;
            b.own_dists(centres, &labels[lo..lo + b.rows()])
        }) {
            Some(parts) => parts.concat(),
            None => vec![0.0; self.n()],
        }
    }
}

/// Wide points held in memory: the frame's columns, sliced into chunks, with every row's
/// squared norm kept (8 bytes a row).
pub(crate) struct InMemory<'a, T> {
    cols: &'a Cols<'a, T>,
    mean: &'a [f64],
    sq_norms: Vec<f64>,
}

impl<'a, T: Elem> InMemory<'a, T> {
    pub(crate) fn new(cols: &'a Cols<'a, T>, mean: &'a [f64]) -> Self {
        let mut points = Self {
            cols,
            mean,
            sq_norms: vec![],
        };
        points.sq_norms = points
            .each(&|_, b| b.sq_norms())
            .map(|v| v.concat())
            .unwrap_or_default();
        points
    }
}

impl<T: Elem> WideChunks for InMemory<'_, T> {
    fn n(&self) -> usize {
        self.cols.n
    }

    fn d(&self) -> usize {
        self.cols.d()
    }

    fn chunk_rows(&self) -> usize {
        CHUNK
    }

    fn mean(&self) -> &[f64] {
        self.mean
    }

    fn is_f32(&self) -> bool {
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
    }

    fn sq_norms(&self) -> Option<&[f64]> {
        (self.sq_norms.len() == self.cols.n).then_some(&self.sq_norms[..])
    }

    fn each<R: Send>(&self, f: &(dyn Fn(usize, &dyn ChunkOps) -> R + Sync)) -> Option<Vec<R>> {
        let n = self.cols.n;
        Some(
            (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .map(|c| {
                    let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                    let block = Block {
                        cols: self.cols.rows(lo, hi),
                        mean: self.mean,
                    };
                    f(c, &block)
                })
                .collect(),
        )
    }

    fn push_row(&self, i: usize, out: &mut Vec<f64>) {
        let block = Block {
            cols: self.cols.rows(i, i + 1),
            mean: self.mean,
        };
        block.push_row(0, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::data::Features;
    use crate::ml::lloyd::RowMajor;

    #[test]
    fn columns_agree_with_row_major() {
        // More than two chunks, the last one partial.
        let (n, d) = (2 * CHUNK + 700, 300);
        let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 13 + j * 7) % 17) as f64 * 0.5 + (i % 3) as f64 * 4.0
        });
        let f = Features::from_ndarray(&x, "t").expect("features");
        let c = f.f64_cols().expect("f64");
        let mean = c.means();
        let wide = Wide(InMemory::new(&c, &mean));
        let (rm, _) = c.row_major_minus(&mean);
        let narrow = RowMajor {
            x: rm,
            d,
            isa: crate::ml::kernels::Isa::detect(),
        };
        let mut centres = Vec::new();
        for i in [0, 1, 2, CHUNK + 350] {
            narrow.push_row(i, &mut centres);
        }
        let mut row = Vec::new();
        wide.push_row(CHUNK + 350, &mut row);
        assert_eq!(row, centres[3 * d..]);
        let (a, b) = (wide.sq_dists_to(&centres), narrow.sq_dists_to(&centres));
        for (p, q) in a.iter().flatten().zip(b.iter().flatten()) {
            assert!((p - q).abs() < 1e-8 * (1.0 + q), "{p} vs {q}");
        }
        let (mut la, mut lb) = (vec![0; n], vec![0; n]);
        let (sa, ca) = wide.assign(&centres, 4, &mut la, true);
        let (sb, cb) = narrow.assign(&centres, 4, &mut lb, true);
        assert_eq!(la, lb);
        assert_eq!(ca, cb);
        for (p, q) in sa.iter().zip(&sb) {
            assert!((p - q).abs() < 1e-9 * (1.0 + q.abs()), "{p} vs {q}");
        }
        for (p, q) in wide
            .own_dists(&centres, &la)
            .iter()
            .zip(narrow.own_dists(&centres, &lb))
        {
            assert!((p - q).abs() < 1e-9 * (1.0 + q), "{p} vs {q}");
        }
    }

    #[test]
    fn chunked_sums_are_the_whole_products() {
        // The centre sums of the fused pass, merged chunk by chunk, are `Cols::centred_tmul`
        // of the indicator (up to the blocking of the f32 sums), f32 means' rounding
        // correction included.
        let (n, d, k) = (2 * CHUNK + 300, 130, 3);
        let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            (1000.0 + ((i * 31 + j * 17) % 101) as f64 / 7.0) as f32
        });
        let f = Features::from_ndarray(&x, "t").expect("features");
        crate::ml::data::with_cols!(f, c => {
            let mean = c.means();
            let wide = Wide(InMemory::new(&c, &mean));
            let mut centres = Vec::new();
            for i in [5, CHUNK + 9, 2 * CHUNK + 1] {
                wide.push_row(i, &mut centres);
            }
            let mut labels = vec![0; n];
            let (sums, _) = wide.assign(&centres, k, &mut labels, true);
            let mut onehot = vec![0.0; n * k];
            for (i, &l) in labels.iter().enumerate() {
                onehot[l as usize * n + i] = 1.0;
            }
            let y = ColMajor { data: onehot, nrows: n, ncols: k };
            for (a, b) in sums.iter().zip(c.centred_tmul(&mean, &y).data) {
                assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
            }
        });
    }
}
