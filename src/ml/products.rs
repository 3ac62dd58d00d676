//! Products of the centred feature matrix `Xc = X - 1 mᵀ` (n x d, stored as the frame's
//! columns) with thin dense matrices: `Xc Q` (d x l `Q`) and `Xcᵀ Y` (n x l `Y`). They are the
//! passes of the randomized SVD and of k-means on wide data, and they read the columns in place
//! (an `f32` input stays `f32`): blocks of [`ROWS`] rows x [`PANEL`] columns are packed
//! (centred on the way) into a small contiguous buffer and multiplied by faer's matmul in the
//! input's precision, and block results are accumulated in `f64`.
//!
//! `Xc Q` runs row blocks in parallel, each owning its rows of the result; `Xcᵀ Y` runs column
//! panels in parallel, each owning its rows of that result. Within a task the blocks are
//! visited in a fixed order, so every entry is summed in the same order for any thread count.

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::data::{Cols, Elem};
use super::linalg::ColMajor;

/// Rows per packed block.
pub(crate) const ROWS: usize = 256;
/// Columns per packed block.
pub(crate) const PANEL: usize = 256;

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

impl<T: Elem> Cols<'_, T> {
    /// Rows `r0..r1` of columns `c0..c1`, minus the columns' means, column-major into `buf`.
    fn pack(
        &self,
        mean: &[f64],
        (r0, r1): (usize, usize),
        (c0, c1): (usize, usize),
        buf: &mut Vec<T>,
    ) {
        buf.clear();
        buf.reserve((r1 - r0) * (c1 - c0));
        for (j, &m) in mean.iter().enumerate().take(c1).skip(c0) {
            buf.extend(
                self.col(j)[r0..r1]
                    .iter()
                    .map(|&v| T::from_f64_rounded(v.into_f64() - m)),
            );
        }
    }

    /// `Xc Q` for a d x l `q`: n x l.
    pub(crate) fn centred_mul(&self, mean: &[f64], q: &ColMajor<f64>) -> ColMajor<f64> {
        let (n, d, l) = (self.n, self.d(), q.ncols);
        debug_assert_eq!(q.nrows, d);
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
                    self.pack(mean, (r0, r1), (c0, c1), &mut buf);
                    let p = MatRef::from_column_major_slice(&buf[..], rows, c1 - c0);
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
        ColMajor {
            data: out,
            nrows: n,
            ncols: l,
        }
    }

    /// `Xcᵀ Y` for an n x l `y`: d x l.
    pub(crate) fn centred_tmul(&self, mean: &[f64], y: &ColMajor<f64>) -> ColMajor<f64> {
        let (n, d, l) = (self.n, self.d(), y.ncols);
        debug_assert_eq!(y.nrows, n);
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
                    self.pack(mean, (r0, r1), (c0, c1), &mut buf);
                    let block = MatRef::from_column_major_slice(&buf[..], r1 - r0, cols);
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
        ColMajor {
            data: out,
            nrows: d,
            ncols: l,
        }
    }

    /// The centred matrix itself, column-major in `T` (the full SVD's input).
    pub(crate) fn centred_copy(&self, mean: &[f64]) -> ColMajor<T> {
        let (n, d) = (self.n, self.d());
        let mut data: Vec<T> = Vec::with_capacity(n * d);
        data.par_extend((0..d).into_par_iter().flat_map_iter(|j| {
            let m = mean[j];
            self.col(j)
                .iter()
                .map(move |&v| T::from_f64_rounded(v.into_f64() - m))
        }));
        ColMajor {
            data,
            nrows: n,
            ncols: d,
        }
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
        let (n, d, l) = (ROWS * 2 + 37, PANEL + 45, 3);
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
