//! k-means points read from the frame's columns in place ([`Columns`]), for wide data (many
//! features): no row-major copy (an `f32` input stays `f32`), and the distances of all points
//! to all centres (or k-means++ candidates) come from one blocked product `Xc Cᵀ`
//! ([`Cols::centred_mul`]) through `|x|² - 2 x·c + |c|²` on centred data, as scikit-learn
//! computes them. Centre sums are a second product, `Xcᵀ M` with the cluster indicator `M`;
//! distances to the own centre and the inertia are exact column passes. Each pass runs fixed
//! blocks in parallel and merges them in order.

use rayon::prelude::*;

use super::data::{Cols, Elem, CHUNK};
use super::linalg::ColMajor;
use super::lloyd::Points;
use super::products::ROWS;

/// Centred points as the frame's columns and their means.
pub(crate) struct Columns<'a, T> {
    cols: &'a Cols<'a, T>,
    mean: &'a [f64],
    /// `|x_i - mean|²` per point.
    sq_norms: Vec<f64>,
}

impl<'a, T: Elem> Columns<'a, T> {
    pub(crate) fn new(cols: &'a Cols<'a, T>, mean: &'a [f64]) -> Self {
        let n = cols.n;
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(ROWS))
            .into_par_iter()
            .map(|b| {
                let (r0, r1) = (b * ROWS, ((b + 1) * ROWS).min(n));
                let mut acc = vec![0.0; r1 - r0];
                for (j, &m) in mean.iter().enumerate() {
                    for (a, v) in acc.iter_mut().zip(&cols.col(j)[r0..r1]) {
                        let t = v.into_f64() - m;
                        *a += t * t;
                    }
                }
                acc
            })
            .collect();
        Self {
            cols,
            mean,
            sq_norms: blocks.concat(),
        }
    }

    /// `x_i · t` for every point and every target (row-major `targets`): n x t, column-major.
    fn dots(&self, targets: &[f64]) -> ColMajor<f64> {
        let d = self.d();
        // The targets' rows are the columns of the d x t matrix Tᵀ, column-major as given.
        let tt = ColMajor {
            data: targets.to_vec(),
            nrows: d,
            ncols: targets.len() / d,
        };
        self.cols.centred_mul(self.mean, &tt)
    }
}

/// `|t|²` of each row of `targets`.
fn row_norms(targets: &[f64], d: usize) -> Vec<f64> {
    targets
        .chunks(d)
        .map(|t| t.iter().map(|v| v * v).sum())
        .collect()
}

impl<T: Elem> Points for Columns<'_, T> {
    fn n(&self) -> usize {
        self.cols.n
    }

    fn d(&self) -> usize {
        self.cols.d()
    }

    fn push_row(&self, i: usize, out: &mut Vec<f64>) {
        out.extend(
            self.mean
                .iter()
                .enumerate()
                .map(|(j, m)| self.cols.col(j)[i].into_f64() - m),
        );
    }

    fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>> {
        let d = self.d();
        let dots = self.dots(targets);
        row_norms(targets, d)
            .iter()
            .enumerate()
            .map(|(t, tn)| {
                dots.col(t)
                    .par_iter()
                    .zip(self.sq_norms.par_iter())
                    .map(|(dt, xn)| (xn - 2.0 * dt + tn).max(0.0))
                    .collect()
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
        let dots = self.dots(centres);
        let norms = row_norms(centres, d);
        labels
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, lc)| {
                for (r, l) in lc.iter_mut().enumerate() {
                    let i = c * CHUNK + r;
                    let mut best = (f64::INFINITY, 0u32);
                    for (j, cn) in norms.iter().enumerate() {
                        let v = cn - 2.0 * dots.data[j * dots.nrows + i];
                        if v < best.0 {
                            best = (v, j as u32);
                        }
                    }
                    *l = best.1;
                }
            });
        if !update {
            return (vec![], vec![]);
        }
        let mut counts = vec![0u64; k];
        for &l in labels.iter() {
            counts[l as usize] += 1;
        }
        // Per-cluster sums as one more product: Xcᵀ M with M the n x k cluster indicator.
        let n = labels.len();
        let mut onehot = vec![0.0; n * k];
        for (i, &l) in labels.iter().enumerate() {
            onehot[l as usize * n + i] = 1.0;
        }
        let indicator = ColMajor {
            data: onehot,
            nrows: n,
            ncols: k,
        };
        let st = self.cols.centred_tmul(self.mean, &indicator);
        // st is d x k column-major: cluster c's sums are its column c.
        (st.data, counts)
    }

    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64> {
        let (n, d) = (self.n(), self.d());
        let k = centres.len() / d.max(1);
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(ROWS))
            .into_par_iter()
            .map(|b| {
                let (r0, r1) = (b * ROWS, ((b + 1) * ROWS).min(n));
                let mut acc = vec![0.0; r1 - r0];
                // Feature j of every centre, shifted by the mean: one small table per column.
                let mut cj = vec![0.0; k];
                for (j, &m) in self.mean.iter().enumerate() {
                    for (c, v) in cj.iter_mut().enumerate() {
                        *v = centres[c * d + j] + m;
                    }
                    let col = &self.cols.col(j)[r0..r1];
                    for ((a, v), &l) in acc.iter_mut().zip(col).zip(&labels[r0..r1]) {
                        let t = v.into_f64() - cj[l as usize];
                        *a += t * t;
                    }
                }
                acc
            })
            .collect();
        blocks.concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::data::Features;
    use crate::ml::lloyd::RowMajor;

    #[test]
    fn columns_agree_with_row_major() {
        let (n, d) = (700, 300);
        let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 13 + j * 7) % 17) as f64 * 0.5 + (i % 3) as f64 * 4.0
        });
        let f = Features::from_ndarray(&x, "t").expect("features");
        let c = f.f64_cols().expect("f64");
        let mean = c.means();
        let wide = Columns::new(&c, &mean);
        let (rm, _) = c.row_major_minus(&mean);
        let narrow = RowMajor {
            x: rm,
            d,
            isa: crate::ml::kernels::Isa::detect(),
        };
        let mut centres = Vec::new();
        for i in [0, 1, 2, 350] {
            narrow.push_row(i, &mut centres);
        }
        let mut row = Vec::new();
        wide.push_row(350, &mut row);
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
}
