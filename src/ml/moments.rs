//! Mergeable sufficient statistics of a block of rows, for fits that make one pass over their
//! input in pieces (a frame's fixed row blocks, or a pipeline's morsels as they stream).
//!
//! Each block is centred on its own means before anything is summed (the two-pass
//! algorithm, inside the block), and blocks merge with Chan et al.'s parallel formula: for
//! blocks `a` and `b` with `δ = mean_b - mean_a`, the centred cross products of the union are
//! `M_a + M_b + (n_a n_b / n) δ δᵀ`. No provisional shift is needed, so a stream whose first
//! rows are unrepresentative loses nothing to cancellation.
//!
//! - [`Moments`]: count, means and the centred Gram matrix `Xcᵀ Xc` (covariance PCA).
//! - [`QrMoments`]: count, means and the R factor of the centred block (least squares): the
//!   merge is the same formula as a QR of `[R_a; R_b; sqrt(n_a n_b / n) δᵀ]` (tall-skinny QR),
//!   so the normal equations are never formed and accuracy stays that of a QR of the data.
//!
//! Merges must run in a fixed order (block or morsel order) for bit-identical results.

use rayon::prelude::*;

use super::data::{sum4, Cols, Elem, CHUNK};
use super::linalg;

/// Rows per block of a statistics pass: long runs per column keep the hardware prefetcher
/// streaming (the pass is bound by reading the data once), capped so a block holds at most
/// 2^20 values (8 MiB of scratch per thread for wide inputs). It depends only on the number of
/// features, never on the thread count, so the result does not either.
fn block_rows(d: usize) -> usize {
    ((1 << 20) / d.max(1)).clamp(256, 4 * CHUNK)
}

thread_local! {
    /// A statistics pass's per-thread block of values (column-major, rows x d).
    static SCRATCH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Blocks per parallel wave of [`stats_of`]: bounds the partial statistics alive at once.
const WAVE_BLOCKS: usize = 64;

/// Statistics that a block of rows gives and that merge in row order.
pub(crate) trait BlockStats: Send + Sized {
    /// No rows, of `d` columns.
    fn empty(d: usize) -> Self;
    /// The statistics of a column-major block (`rows` x d, overwritten: scratch).
    fn of_block(block: &mut [f64], rows: usize, d: usize) -> Self;
    /// Add the rows of `other`, which come after these.
    fn merge(&mut self, other: &Self);
    /// The column means of the rows so far.
    fn mean(&self) -> &[f64];
}

/// The statistics of all rows of `c`: fixed blocks of [`block_rows`] rows in parallel, merged
/// in block order (so the result is the same for any thread count).
pub(crate) fn stats_of<S: BlockStats, T: Elem>(c: &Cols<'_, T>) -> S {
    let (n, d) = (c.n, c.d());
    let block = block_rows(d);
    let blocks = n.div_ceil(block);
    let mut total = S::empty(d);
    for w in (0..blocks).step_by(WAVE_BLOCKS) {
        let parts: Vec<S> = (w..(w + WAVE_BLOCKS).min(blocks))
            .into_par_iter()
            .map(|b| {
                let (lo, hi) = (b * block, ((b + 1) * block).min(n));
                // One scratch block per worker thread: blocks this size come from mmap, paying
                // page faults every time they are allocated afresh.
                SCRATCH.with(|cell| {
                    let mut buf = cell.borrow_mut();
                    fill_block(c, lo, hi, &mut buf);
                    S::of_block(&mut buf, hi - lo, d)
                })
            })
            .collect();
        for p in &parts {
            total.merge(p);
        }
    }
    total
}

/// Copy rows `lo..hi` of `c` into `out`, column-major (`hi - lo` rows x d) in `f64`.
fn fill_block<T: Elem>(c: &Cols<'_, T>, lo: usize, hi: usize, out: &mut Vec<f64>) {
    let rows = hi - lo;
    out.clear();
    out.reserve(rows * c.d());
    let span = c.span(lo, hi);
    for j in 0..c.d() {
        for p in c.pieces(j, &span) {
            out.extend(p.iter().map(|v| v.into_f64()));
        }
    }
}

/// Column means of a column-major block; each column is then centred on its mean in place.
fn centre(block: &mut [f64], rows: usize, d: usize) -> Vec<f64> {
    (0..d)
        .map(|j| {
            let col = &mut block[j * rows..(j + 1) * rows];
            let m = sum4(col) / rows as f64;
            col.iter_mut().for_each(|v| *v -= m);
            m
        })
        .collect()
}

/// `(n_a n_b / n, δ = b - a, n)` of a merge, and the merged means.
fn merged_means(na: usize, a: &[f64], nb: usize, b: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let n = (na + nb) as f64;
    let delta: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let w = nb as f64 / n;
    let means = a.iter().zip(&delta).map(|(m, dl)| m + dl * w).collect();
    (na as f64 * nb as f64 / n, delta, means)
}

/// Count, means and centred cross products `Σ (x - m)(x - m)ᵀ` of some rows.
#[derive(Clone, Debug)]
pub(crate) struct Moments {
    pub n: usize,
    pub mean: Vec<f64>,
    /// d x d, column-major (symmetric).
    pub m2: Vec<f64>,
}

impl BlockStats for Moments {
    fn mean(&self) -> &[f64] {
        &self.mean
    }
    fn empty(d: usize) -> Self {
        Self {
            n: 0,
            mean: vec![0.0; d],
            m2: vec![0.0; d * d],
        }
    }

    fn of_block(block: &mut [f64], rows: usize, d: usize) -> Self {
        if rows == 0 {
            return Self::empty(d);
        }
        let mean = centre(block, rows, d);
        let mut m2 = vec![0.0; d * d];
        linalg::gram_add(&mut m2, block, rows, d);
        Self { n: rows, mean, m2 }
    }

    fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let d = self.mean.len();
        let (w, delta, mean) = merged_means(self.n, &self.mean, other.n, &other.mean);
        for j in 0..d {
            for i in 0..d {
                self.m2[j * d + i] += other.m2[j * d + i] + w * delta[i] * delta[j];
            }
        }
        self.mean = mean;
        self.n += other.n;
    }
}

/// Count, means and the upper-triangular R factor (p x p, column-major) of the centred rows:
/// `Rᵀ R = Xcᵀ Xc`, kept as a QR factor so least squares never squares the condition number.
#[derive(Clone, Debug)]
pub(crate) struct QrMoments {
    pub n: usize,
    pub mean: Vec<f64>,
    pub r: Vec<f64>,
}

impl BlockStats for QrMoments {
    fn mean(&self) -> &[f64] {
        &self.mean
    }
    fn empty(p: usize) -> Self {
        Self {
            n: 0,
            mean: vec![0.0; p],
            r: vec![0.0; p * p],
        }
    }

    fn of_block(block: &mut [f64], rows: usize, p: usize) -> Self {
        if rows == 0 {
            return Self::empty(p);
        }
        let mean = centre(block, rows, p);
        Self {
            n: rows,
            mean,
            r: linalg::qr_r(block, rows, p),
        }
    }

    fn merge(&mut self, other: &QrMoments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let p = self.mean.len();
        let (w, delta, mean) = merged_means(self.n, &self.mean, other.n, &other.mean);
        // [R_a; R_b; sqrt(w) δᵀ], column-major, 2p + 1 rows.
        let rows = 2 * p + 1;
        let mut stacked = vec![0.0; rows * p];
        let sw = w.sqrt();
        for j in 0..p {
            let col = &mut stacked[j * rows..(j + 1) * rows];
            col[..p].copy_from_slice(&self.r[j * p..(j + 1) * p]);
            col[p..2 * p].copy_from_slice(&other.r[j * p..(j + 1) * p]);
            col[2 * p] = sw * delta[j];
        }
        self.r = linalg::qr_r(&stacked, rows, p);
        self.mean = mean;
        self.n += other.n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column-major block of `rows` x `d` pseudo-random values far from zero.
    fn data(rows: usize, d: usize, offset: f64) -> Vec<f64> {
        (0..rows * d)
            .map(|k| offset + ((k * 7919 % 1009) as f64) / 101.0 + (k % d) as f64)
            .collect()
    }

    fn rows_of(block: &[f64], rows: usize, d: usize, lo: usize, hi: usize) -> Vec<f64> {
        (0..d)
            .flat_map(|j| block[j * rows + lo..j * rows + hi].to_vec())
            .collect()
    }

    #[test]
    fn merged_blocks_give_the_statistics_of_the_whole() {
        let (rows, d) = (300, 3);
        let all = data(rows, d, 1e6);
        let whole = Moments::of_block(&mut all.clone(), rows, d);
        let mut merged = Moments::empty(d);
        for (lo, hi) in [(0, 7), (7, 7), (7, 150), (150, 300)] {
            let mut b = rows_of(&all, rows, d, lo, hi);
            merged.merge(&Moments::of_block(&mut b, hi - lo, d));
        }
        assert_eq!(merged.n, rows);
        for (a, b) in merged.mean.iter().zip(&whole.mean) {
            assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} {b}");
        }
        for (a, b) in merged.m2.iter().zip(&whole.m2) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} {b}");
        }
    }

    #[test]
    fn merged_qr_factors_give_the_centred_cross_products() {
        let (rows, p) = (200, 3);
        let all = data(rows, p, -5e5);
        let whole = Moments::of_block(&mut all.clone(), rows, p);
        let mut merged = QrMoments::empty(p);
        for (lo, hi) in [(0, 2), (2, 90), (90, 200)] {
            let mut b = rows_of(&all, rows, p, lo, hi);
            merged.merge(&QrMoments::of_block(&mut b, hi - lo, p));
        }
        // RᵀR is the centred Gram matrix.
        for i in 0..p {
            for j in 0..p {
                let rtr: f64 = (0..p)
                    .map(|k| merged.r[i * p + k] * merged.r[j * p + k])
                    .sum();
                let want = whole.m2[j * p + i];
                assert!(
                    (rtr - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{rtr} {want}"
                );
            }
        }
    }
}
