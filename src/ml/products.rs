//! Products of the centred feature matrix `Xc = X - 1 mᵀ` (n x d, stored as the frame's
//! columns) with thin dense matrices: `Xc Q` (d x l `Q`) and `Xcᵀ Y` (n x l `Y`). They are the
//! passes of the randomized SVD and of k-means on wide data, and they read the columns in place
//! (an `f32` input stays `f32`): blocks of [`ROWS`] rows x [`PANEL`] columns are packed
//! (centred on the way, on the means rounded to the input's precision, the rounding's remainder
//! corrected afterwards as a rank-one term) into a small contiguous buffer and multiplied by
//! faer's matmul in the input's precision, and block results are accumulated in `f64`.
//!
//! `Xc Q` runs row blocks in parallel, each owning its rows of the result; `Xcᵀ Y` sums a part
//! per [`CHUNK`] of rows (column panels in parallel, each summing its row blocks in order) and
//! adds the parts in chunk order. Every entry is thus summed in the same order for any thread
//! count, and a fit that reads its input chunk by chunk (`super::pca_stream`) gets the same
//! bits.
//!
//! A power iteration's two products, `Y = Xc Q` and then `Xcᵀ Y`, also run as one pass
//! ([`Cols::centred_mul_tmul`]): each block of [`FUSED_ROWS`] rows is packed once (all its
//! columns, a few MiB that stay in cache), gives its rows of `Y`, and right away its part of
//! `Xcᵀ Y` from those rows. The matrix is read from memory once instead of twice, which is
//! what these passes are bound by.

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::data::{merge, Cols, Elem, CHUNK};
use super::linalg::ColMajor;

/// Rows per packed block: 4 KiB of each `f32` column, so a block reads whole pages.
pub(crate) const ROWS: usize = 1024;
/// Columns per packed block (a block is then 256 KiB of `f32`, L2-resident).
pub(crate) const PANEL: usize = 64;

/// Rows per block of the fused pass: a block's packed columns (`FUSED_ROWS x d` values) are
/// read twice, so they must stay in cache (5 MiB of `f32` for 10,000 features). A divisor of
/// [`CHUNK`], so chunks read one by one cut the same blocks.
pub(crate) const FUSED_ROWS: usize = 128;
const _: () = assert!(CHUNK.is_multiple_of(FUSED_ROWS));

/// How far ahead (in bytes of the columns' stretches) a pack asks the memory for the columns
/// after the one it copies: each column's stretch of a block is only a few cache lines, too
/// short for the hardware prefetcher to start on, so without this a pack waits for memory
/// column after column.
pub(crate) const PREFETCH_BYTES: usize = 8192;

/// Ask for the cache lines of `v` without waiting for them.
#[inline(always)]
pub(crate) fn prefetch<T>(v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(v);
        let p = v.as_ptr().cast::<i8>();
        for off in (0..bytes).step_by(64) {
            // SAFETY: a prefetch never faults and changes nothing but the caches; the address
            // lies inside `v` anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// `c = a b` in `T` (a block's part of a product, added up later).
fn product<T: Elem>(c: &mut [T], a: MatRef<'_, T>, b: MatRef<'_, T>) {
    let out = MatMut::from_column_major_slice_mut(c, a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(
        out,
        Accum::Replace,
        a,
        b,
        T::from_f64_rounded(1.0),
        Par::Seq,
    );
}

/// `acc += a b` in `f64` (faer's matmul straight into the accumulator).
pub(crate) fn add_product_f64(acc: &mut [f64], a: MatRef<'_, f64>, b: MatRef<'_, f64>) {
    let out = MatMut::from_column_major_slice_mut(acc, a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(out, Accum::Add, a, b, 1.0, Par::Seq);
}

/// `acc += a b` with `a` and `b` in a narrower type: the matmul accumulates one block in that
/// type (into `tmp`), the blocks add up in `f64`.
pub(crate) fn add_product_via<T: Elem>(
    acc: &mut [f64],
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    tmp: &mut Vec<T>,
) {
    let (m, n) = (a.nrows(), b.ncols());
    tmp.clear();
    tmp.resize(m * n, T::default());
    let out = MatMut::from_column_major_slice_mut(&mut tmp[..], m, n);
    faer::linalg::matmul::matmul(
        out,
        Accum::Replace,
        a,
        b,
        T::from_f64_rounded(1.0),
        Par::Seq,
    );
    for (s, t) in acc.iter_mut().zip(tmp.iter()) {
        *s += t.into_f64();
    }
}

/// The thin matrix `q` rounded to `T` (column-major, same shape).
fn rounded<T: Elem>(q: &ColMajor<f64>) -> Vec<T> {
    q.data.iter().map(|&v| T::from_f64_rounded(v)).collect()
}

/// Rows `r0..r0 + rows` (all `l` columns) of a column-major matrix with `nrows` rows.
fn subrows<T>(data: &[T], nrows: usize, l: usize, r0: usize, rows: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice_with_stride(&data[r0..], rows, l, nrows)
}

/// The means rounded to `T` (what the packed blocks subtract, in `T`'s arithmetic) and what
/// that rounding left over (`mean - rounded`, exactly representable in `f64`), applied to the
/// products afterwards as a rank-one correction: the result is centred on the exact means.
struct Centre<T> {
    rounded: Vec<T>,
    rest: Vec<f64>,
}

impl<T: Elem> Centre<T> {
    fn new(mean: &[f64]) -> Self {
        let rounded: Vec<T> = mean.iter().map(|&m| T::from_f64_rounded(m)).collect();
        let rest = mean
            .iter()
            .zip(&rounded)
            .map(|(m, r)| m - r.into_f64())
            .collect();
        Self { rounded, rest }
    }

    /// Whether the rounding lost anything (never for `f64`).
    fn inexact(&self) -> bool {
        self.rest.iter().any(|&r| r != 0.0)
    }
}

impl<T: Elem> Cols<'_, T> {
    /// Rows `r0..r1` of columns `c0..c1`, minus the rounded means, column-major into `buf`
    /// (grown once, then overwritten: no zeroing).
    fn pack(
        &self,
        centre: &Centre<T>,
        (r0, r1): (usize, usize),
        (c0, c1): (usize, usize),
        buf: &mut Vec<T>,
    ) {
        let rows = r1 - r0;
        let len = rows * (c1 - c0);
        if buf.len() < len {
            buf.resize(len, T::default());
        }
        let ahead = (PREFETCH_BYTES / (rows * std::mem::size_of::<T>()).max(1)).max(1);
        let span = self.span(r0, r1);
        for (dst, j) in buf[..len].chunks_exact_mut(rows).zip(c0..c1) {
            if j + ahead < c1 {
                self.pieces(j + ahead, &span).for_each(prefetch);
            }
            let m = centre.rounded[j];
            let mut at = 0;
            for src in self.pieces(j, &span) {
                for (o, &v) in dst[at..at + src.len()].iter_mut().zip(src) {
                    *o = v - m;
                }
                at += src.len();
            }
        }
    }

    /// `Xc Q` for a d x l `q`: n x l.
    pub(crate) fn centred_mul(&self, mean: &[f64], q: &ColMajor<f64>) -> ColMajor<f64> {
        let (n, d, l) = (self.n, self.d(), q.ncols);
        debug_assert_eq!(q.nrows, d);
        let centre = Centre::<T>::new(mean);
        let qt = rounded::<T>(q);
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(ROWS))
            .into_par_iter()
            .map(|b| {
                let (r0, r1) = (b * ROWS, ((b + 1) * ROWS).min(n));
                let rows = r1 - r0;
                let mut acc = vec![0.0; rows * l];
                let (mut buf, mut tmp) = (Vec::new(), Vec::new());
                for c0 in (0..d).step_by(PANEL) {
                    let c1 = (c0 + PANEL).min(d);
                    self.pack(&centre, (r0, r1), (c0, c1), &mut buf);
                    let p =
                        MatRef::from_column_major_slice(&buf[..rows * (c1 - c0)], rows, c1 - c0);
                    T::add_product(&mut acc, p, subrows(&qt, d, l, c0, c1 - c0), &mut tmp);
                }
                acc
            })
            .collect();
        let mut out = vec![0.0; n * l];
        for (b, acc) in blocks.iter().enumerate() {
            let (r0, rows) = (b * ROWS, acc.len() / l.max(1));
            for j in 0..l {
                out[j * n + r0..j * n + r0 + rows].copy_from_slice(&acc[j * rows..(j + 1) * rows]);
            }
        }
        if centre.inexact() {
            // Xc Q = (X - 1 rᵀ) Q - 1 (mean - r)ᵀ Q.
            for j in 0..l {
                let c: f64 = centre.rest.iter().zip(q.col(j)).map(|(a, b)| a * b).sum();
                out[j * n..(j + 1) * n].iter_mut().for_each(|v| *v -= c);
            }
        }
        ColMajor {
            data: out,
            nrows: n,
            ncols: l,
        }
    }

    /// `Xcᵀ Y` for an n x l `y`: d x l. Summed per [`CHUNK`] of rows ([`Cols::tmul_part`]),
    /// the chunks' parts added in chunk order ([`tmul_total`]), so a fit that reads its input
    /// chunk by chunk gets the same bits.
    pub(crate) fn centred_tmul(&self, mean: &[f64], y: &ColMajor<f64>) -> ColMajor<f64> {
        let (n, d, l) = (self.n, self.d(), y.ncols);
        debug_assert_eq!(y.nrows, n);
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                self.rows(lo, hi).tmul_part(mean, &row_range(y, lo, hi))
            })
            .collect();
        tmul_total::<T>(merge(parts, d * l), mean, y)
    }

    /// These rows' part of `Xcᵀ Y` (d x l, column-major, on the means rounded to `T`: see
    /// [`tmul_total`]) for `y`'s same rows: column panels in parallel, each summing its
    /// blocks of [`ROWS`] rows in order.
    pub(crate) fn tmul_part(&self, mean: &[f64], y: &ColMajor<f64>) -> Vec<f64> {
        let (n, d, l) = (self.n, self.d(), y.ncols);
        debug_assert_eq!(y.nrows, n);
        let centre = Centre::<T>::new(mean);
        let yt = rounded::<T>(y);
        let panels: Vec<Vec<f64>> = (0..d.div_ceil(PANEL))
            .into_par_iter()
            .map(|p| {
                let (c0, c1) = (p * PANEL, ((p + 1) * PANEL).min(d));
                let cols = c1 - c0;
                let mut acc = vec![0.0; cols * l];
                let (mut buf, mut tmp) = (Vec::new(), Vec::new());
                for r0 in (0..n).step_by(ROWS) {
                    let r1 = (r0 + ROWS).min(n);
                    self.pack(&centre, (r0, r1), (c0, c1), &mut buf);
                    let block =
                        MatRef::from_column_major_slice(&buf[..(r1 - r0) * cols], r1 - r0, cols);
                    T::add_product(
                        &mut acc,
                        block.transpose(),
                        subrows(&yt, n, l, r0, r1 - r0),
                        &mut tmp,
                    );
                }
                acc
            })
            .collect();
        let mut out = vec![0.0; d * l];
        for (p, acc) in panels.iter().enumerate() {
            let (c0, cols) = (p * PANEL, acc.len() / l.max(1));
            for j in 0..l {
                out[j * d + c0..j * d + c0 + cols].copy_from_slice(&acc[j * cols..(j + 1) * cols]);
            }
        }
        out
    }

    /// `Y = Xc Q` (n x l) and `Xcᵀ Y` (d x l) for a d x l `q`, in one pass over the data:
    /// [`Cols::mul_tmul_part`] per [`CHUNK`] of rows, the parts of `Xcᵀ Y` added in chunk
    /// order (as a fit reading chunk by chunk adds them).
    pub(crate) fn centred_mul_tmul(
        &self,
        mean: &[f64],
        q: &ColMajor<f64>,
    ) -> (ColMajor<f64>, ColMajor<f64>) {
        let (n, d, l) = (self.n, self.d(), q.ncols);
        let mut y = vec![0.0; n * l];
        let mut w = vec![0.0; d * l];
        for lo in (0..n).step_by(CHUNK) {
            let hi = (lo + CHUNK).min(n);
            let (yc, wc) = self.rows(lo, hi).mul_tmul_part(mean, q);
            for j in 0..l {
                y[j * n + lo..j * n + hi].copy_from_slice(yc.col(j));
            }
            w.iter_mut().zip(wc).for_each(|(t, v)| *t += v);
        }
        let y = ColMajor {
            data: y,
            nrows: n,
            ncols: l,
        };
        let w = tmul_total::<T>(w, mean, &y);
        (y, w)
    }

    /// These rows' `Y = Xc Q` (rows x l, as [`Cols::centred_mul`] gives them, up to the
    /// blocking) and their part of `Xcᵀ Y` (d x l, on the rounded means: see [`tmul_total`]):
    /// blocks of [`FUSED_ROWS`] rows in parallel waves, each block's part added in block order.
    pub(crate) fn mul_tmul_part(
        &self,
        mean: &[f64],
        q: &ColMajor<f64>,
    ) -> (ColMajor<f64>, Vec<f64>) {
        let l = q.ncols;
        self.mul_map_tmul_part(mean, q, l, &|yb, _| {
            yb.iter().map(|&v| T::from_f64_rounded(v)).collect()
        })
    }

    /// These rows' `Y = Xc Q` (rows x l) and their part of `Xcᵀ Z` (d x m, on the rounded
    /// means: see [`tmul_total`]), where each block's rows of `Z` (rows x m, column-major) are
    /// `z(block's rows of Y, rows)`: for PCA `Z = Y` rounded to `T`, for k-means the cluster
    /// indicator of the labels the block's distances give. Each block of [`FUSED_ROWS`] rows is
    /// packed once and serves both products from cache: one read of the matrix instead of two.
    /// Blocks run in parallel waves, their parts added in block order.
    pub(crate) fn mul_map_tmul_part(
        &self,
        mean: &[f64],
        q: &ColMajor<f64>,
        m: usize,
        z: &(dyn Fn(&[f64], usize) -> Vec<T> + Sync),
    ) -> (ColMajor<f64>, Vec<f64>) {
        let (n, d, l) = (self.n, self.d(), q.ncols);
        debug_assert_eq!(q.nrows, d);
        let centre = Centre::<T>::new(mean);
        let qt = rounded::<T>(q);
        // `centred_mul`'s correction for the means' rounding, per column of `Y`.
        let fix: Option<Vec<f64>> = centre.inexact().then(|| {
            (0..l)
                .map(|j| centre.rest.iter().zip(q.col(j)).map(|(a, b)| a * b).sum())
                .collect()
        });
        let blocks = n.div_ceil(FUSED_ROWS);
        // A few blocks per thread at a time: each holds a d x m part until it is added.
        let wave = 2 * rayon::current_num_threads().max(1);
        let mut y = vec![0.0; n * l];
        let mut w = vec![0.0; d * m];
        for b0 in (0..blocks).step_by(wave) {
            let parts: Vec<(Vec<f64>, Vec<T>)> = (b0..(b0 + wave).min(blocks))
                .into_par_iter()
                .map(|b| self.fused_block(&centre, &qt, fix.as_deref(), b, (l, m), z))
                .collect();
            for (b, (yb, _)) in (b0..).zip(&parts) {
                let (r0, rows) = (b * FUSED_ROWS, yb.len() / l.max(1));
                for j in 0..l {
                    y[j * n + r0..j * n + r0 + rows].copy_from_slice(&yb[j * rows..(j + 1) * rows]);
                }
            }
            // The blocks' parts added in block order, entry by entry (entries in parallel).
            w.par_chunks_mut(CHUNK).enumerate().for_each(|(c, wc)| {
                for (_, wb) in &parts {
                    let src = &wb[c * CHUNK..c * CHUNK + wc.len()];
                    wc.iter_mut().zip(src).for_each(|(t, v)| *t += v.into_f64());
                }
            });
        }
        // Panel-major (each panel's `cols x m` together) to column-major d x m.
        let mut out = vec![0.0; d * m];
        for c0 in (0..d).step_by(PANEL) {
            let cols = (c0 + PANEL).min(d) - c0;
            let panel = &w[c0 * m..(c0 + cols) * m];
            for j in 0..m {
                out[j * d + c0..j * d + c0 + cols]
                    .copy_from_slice(&panel[j * cols..(j + 1) * cols]);
            }
        }
        let y = ColMajor {
            data: y,
            nrows: n,
            ncols: l,
        };
        (y, out)
    }

    /// Block `b` of [`Cols::mul_map_tmul_part`]: its rows of `Y` (rows x l, column-major) and
    /// its part of `Xcᵀ Z` in `T` (panel-major: panel by panel, each `cols x m` column-major).
    fn fused_block(
        &self,
        centre: &Centre<T>,
        qt: &[T],
        fix: Option<&[f64]>,
        b: usize,
        (l, m): (usize, usize),
        z: &(dyn Fn(&[f64], usize) -> Vec<T> + Sync),
    ) -> (Vec<f64>, Vec<T>) {
        let (n, d) = (self.n, self.d());
        let (r0, r1) = (b * FUSED_ROWS, ((b + 1) * FUSED_ROWS).min(n));
        let rows = r1 - r0;
        T::with_block_buffer(|buf| {
            // All columns of the block, column-major: panel `c0..c1` is `buf[c0 * rows..]`.
            self.pack(centre, (r0, r1), (0, d), buf);
            let panel = |c0: usize, c1: usize| {
                MatRef::from_column_major_slice(&buf[c0 * rows..c1 * rows], rows, c1 - c0)
            };
            let mut tmp = Vec::new();
            let mut yb = vec![0.0; rows * l];
            for c0 in (0..d).step_by(PANEL) {
                let c1 = (c0 + PANEL).min(d);
                T::add_product(
                    &mut yb,
                    panel(c0, c1),
                    subrows(qt, d, l, c0, c1 - c0),
                    &mut tmp,
                );
            }
            if let Some(fix) = fix {
                for (j, c) in fix.iter().enumerate() {
                    yb[j * rows..(j + 1) * rows]
                        .iter_mut()
                        .for_each(|v| *v -= c);
                }
            }
            let zt = z(&yb, rows);
            let zt = MatRef::from_column_major_slice(&zt, rows, m);
            let mut wb = vec![T::default(); d * m];
            for c0 in (0..d).step_by(PANEL) {
                let c1 = (c0 + PANEL).min(d);
                product(&mut wb[c0 * m..c1 * m], panel(c0, c1).transpose(), zt);
            }
            (yb, wb)
        })
    }

    /// The centred matrix itself, column-major in `T` (the full SVD's input).
    pub(crate) fn centred_copy(&self, mean: &[f64]) -> ColMajor<T> {
        let (n, d) = (self.n, self.d());
        let mut data: Vec<T> = Vec::with_capacity(n * d);
        data.par_extend((0..d).into_par_iter().flat_map_iter(|j| {
            let m = mean[j];
            self.values(j)
                .map(move |v| T::from_f64_rounded(v.into_f64() - m))
        }));
        ColMajor {
            data,
            nrows: n,
            ncols: d,
        }
    }
}

/// `Xcᵀ Y` from the sum of all rows' [`Cols::tmul_part`]s (d x l) of an input of element
/// type `T`: corrected for what rounding the means to `T` left over, `Xcᵀ Y = (X - 1 rᵀ)ᵀ Y
/// - (mean - r) (1ᵀ Y)` (nothing for `f64`).
pub(crate) fn tmul_total<T: Elem>(out: Vec<f64>, mean: &[f64], y: &ColMajor<f64>) -> ColMajor<f64> {
    let l = y.ncols;
    let centre = Centre::<T>::new(mean);
    let sums: Vec<f64> = if centre.inexact() {
        (0..l).map(|j| y.col(j).iter().sum()).collect()
    } else {
        vec![0.0; l]
    };
    centred_total::<T>(out, mean, &sums)
}

/// [`tmul_total`] given the column sums `1ᵀ Y` instead of `Y` (k-means' cluster indicator:
/// its column sums are the cluster sizes).
pub(crate) fn centred_total<T: Elem>(
    mut out: Vec<f64>,
    mean: &[f64],
    col_sums: &[f64],
) -> ColMajor<f64> {
    let (d, l) = (mean.len(), col_sums.len());
    let centre = Centre::<T>::new(mean);
    if centre.inexact() {
        for (j, s) in col_sums.iter().enumerate() {
            for (v, r) in out[j * d..(j + 1) * d].iter_mut().zip(&centre.rest) {
                *v -= r * s;
            }
        }
    }
    ColMajor {
        data: out,
        nrows: d,
        ncols: l,
    }
}

/// Rows `lo..hi` of a column-major matrix, as one.
pub(crate) fn row_range(y: &ColMajor<f64>, lo: usize, hi: usize) -> ColMajor<f64> {
    let mut data = Vec::with_capacity((hi - lo) * y.ncols);
    for j in 0..y.ncols {
        data.extend_from_slice(&y.col(j)[lo..hi]);
    }
    ColMajor {
        data,
        nrows: hi - lo,
        ncols: y.ncols,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::data::Features;

    fn naive(x: &ndarray::Array2<f64>, mean: &[f64]) -> ndarray::Array2<f64> {
        ndarray::Array2::from_shape_fn(x.dim(), |(i, j)| x[[i, j]] - mean[j])
    }

    #[test]
    fn products_match_naive_across_blocks() {
        // Sizes that leave partial row blocks and panels.
        let (n, d, l) = (CHUNK + ROWS * 2 + 37, PANEL + 45, 3);
        let x =
            ndarray::Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17) % 23) as f64 * 0.25);
        let f = Features::from_ndarray(&x, "t").expect("features");
        let c = f.f64_cols().expect("f64");
        let mean = c.means();
        let xc = naive(&x, &mean);
        let q = ColMajor {
            data: (0..d * l).map(|i| ((i * 7) % 11) as f64 - 5.0).collect(),
            nrows: d,
            ncols: l,
        };
        let y = c.centred_mul(&mean, &q);
        let want = xc.dot(&q.to_array(|v| v));
        for (a, b) in y.to_array(|v| v).iter().zip(want.iter()) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let z = c.centred_tmul(&mean, &y);
        let want = xc.t().dot(&want);
        for (a, b) in z.to_array(|v| v).iter().zip(want.iter()) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // Both products in one pass: the same as one after the other (up to the blocking of
        // the sums), across chunks.
        let (y2, z2) = c.centred_mul_tmul(&mean, &q);
        for (a, b) in y2.data.iter().zip(&y.data) {
            assert!((a - b).abs() < 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
        }
        for (a, b) in z2.data.iter().zip(&z.data) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // The f32 path agrees to f32 precision.
        let x32 = x.mapv(|v| v as f32);
        let f32s = Features::from_ndarray(&x32, "t").expect("features");
        crate::ml::data::with_cols!(f32s, c32 => {
            let y32 = c32.centred_mul(&mean, &q);
            for (a, b) in y32.data.iter().zip(&y.data) {
                assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
            }
        });
    }
}
