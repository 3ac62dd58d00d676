//! k-means of narrow data given as one row-major matrix: the executor writes the input's
//! pieces straight into it as they are decoded (`exec::fit`), so the input is never held as
//! columns beside the copy k-means scans (half the memory, and no second matrix to fault in).
//!
//! The means, the centring and the sums of squares are computed here from the rows with the
//! same additions in the same order as from columns ([`Cols::means`] and
//! [`Cols::row_major_minus`]: per [`CHUNK`] of rows, four partial sums by row index, chunks
//! merged in order), so the fit is bit for bit the in-memory one.
//!
//! [`Cols::means`]: super::data::Cols::means
//! [`Cols::row_major_minus`]: super::data::Cols::row_major_minus

use rayon::prelude::*;

use super::data::{merge, non_finite_error, CHUNK};
use super::kernels::Isa;
use super::kmeans::KMeans;
use super::lloyd::RowMajor;
use super::KMeansModel;
use crate::error::Result;
use crate::memory::Reservation;

impl KMeans {
    /// Fit on `x`, the features `names` of every input row, row-major (`x` itself is
    /// reserved by the caller; what the fit holds beside it is reserved from `budget`).
    pub(crate) fn fit_row_major(
        &self,
        names: &[String],
        mut x: Vec<f64>,
        budget: &Reservation,
    ) -> Result<KMeansModel> {
        let d = names.len();
        let n = x.len() / d.max(1);
        self.validate(n, d)?;
        let means = row_means(&x, d);
        for (j, m) in means.iter().enumerate() {
            if !m.is_finite() {
                if let Some(i) = (0..n).find(|&i| !x[i * d + j].is_finite()) {
                    return Err(non_finite_error(
                        "kmeans",
                        &names[j],
                        i,
                        x[i * d + j].is_nan(),
                    ));
                }
            }
        }
        let sq = centre_rows(&mut x, d, &means);
        let tol = self.scaled_tol(&sq, n);
        let points = RowMajor {
            x,
            d,
            isa: Isa::detect(),
        };
        let run = self.runs(&points, &means, tol, budget)?;
        Ok(self.model(names, run, &means))
    }
}

/// Column means of the row-major `x` (`d` per row), as [`Cols::means`] sums them.
///
/// [`Cols::means`]: super::data::Cols::means
fn row_means(x: &[f64], d: usize) -> Vec<f64> {
    let n = x.len() / d.max(1);
    if n == 0 {
        return vec![f64::NAN; d];
    }
    let parts: Vec<Vec<f64>> = x
        .par_chunks(CHUNK * d)
        .map(|block| {
            let rows = block.len() / d;
            let full = rows / 4 * 4;
            let mut acc = vec![[0.0f64; 4]; d];
            for (i, r) in block[..full * d].chunks_exact(d).enumerate() {
                for (a, v) in acc.iter_mut().zip(r) {
                    a[i % 4] += v;
                }
            }
            acc.iter()
                .enumerate()
                .map(|(j, a)| {
                    let tail: f64 = (full..rows).map(|i| block[i * d + j]).sum();
                    (a[0] + a[1]) + (a[2] + a[3]) + tail
                })
                .collect()
        })
        .collect();
    merge(parts, d).iter().map(|s| s / n as f64).collect()
}

/// Subtract `means` from every row of `x` in place, returning the per-column sums of squares
/// of the centred values as [`Cols::row_major_minus`] sums them.
///
/// [`Cols::row_major_minus`]: super::data::Cols::row_major_minus
fn centre_rows(x: &mut [f64], d: usize, means: &[f64]) -> Vec<f64> {
    let parts: Vec<Vec<f64>> = x
        .par_chunks_mut(CHUNK * d)
        .map(|block| {
            let mut acc = vec![[0.0f64; 4]; d];
            for (i, r) in block.chunks_exact_mut(d).enumerate() {
                for ((v, m), a) in r.iter_mut().zip(means).zip(acc.iter_mut()) {
                    let t = *v - m;
                    *v = t;
                    a[i % 4] += t * t;
                }
            }
            acc.iter().map(|a| (a[0] + a[1]) + (a[2] + a[3])).collect()
        })
        .collect();
    merge(parts, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryPool;
    use crate::ml::data::{with_cols, Features};

    #[test]
    fn rows_give_the_column_fit_bit_for_bit() {
        // Several chunks, a partial one, a row count that is not a multiple of 4.
        let (n, d) = (2 * CHUNK + 301, 5);
        let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 7919 + j * 104_729) % 1013) as f64 / 17.0 + (i % 3) as f64 * 40.0 + j as f64
        });
        let f = Features::from_ndarray(&x, "kmeans").expect("features");
        let (means, sq) = with_cols!(f, c => {
            let m = c.means();
            (m.clone(), c.row_major_minus(&m).1)
        });
        let rows: Vec<f64> = x.iter().copied().collect();
        assert_eq!(row_means(&rows, d), means);
        let mut centred = rows.clone();
        assert_eq!(centre_rows(&mut centred, d, &means), sq);
        let config = KMeans::new(4).seed(3).n_init(2);
        let budget = MemoryPool::unbounded().reserve("FIT");
        let want = config.fit_features(&f, &budget).expect("columns");
        let got = config.fit_row_major(&f.names, rows, &budget).expect("rows");
        assert_eq!(got.centroids, want.centroids);
        assert_eq!(got.labels, want.labels);
        assert_eq!(got.inertia, want.inertia);
        assert_eq!(got.n_iter, want.n_iter);
    }

    #[test]
    fn a_scan_written_as_rows_fits_as_the_frame_does() {
        // Three row groups (morsels written into their own rows), a Float32 feature beside
        // Float64 ones, for 1 and 3 threads; a null makes the executor fall back to the
        // in-memory fit, which names it.
        let n = 3 * CHUNK + 77;
        let a: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1009) as f64 / 13.0).collect();
        let b: Vec<f32> = (0..n).map(|i| ((i * 104_729) % 997) as f32 / 7.0).collect();
        let df = crate::frame::DataFrame::new(vec![
            crate::frame::Column::new("a", a.clone()),
            crate::frame::Column::new("b", b),
        ])
        .expect("frame");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.parquet");
        crate::io::write_parquet_with_row_groups(&df, &path, CHUNK + 5).expect("write");
        let config = KMeans::new(3).seed(7);
        let want = df
            .clone()
            .lazy()
            .kmeans(config.clone())
            .fit()
            .expect("frame");
        for threads in [1, 3] {
            let opts = crate::plan::ExecOptions::new().threads(threads);
            let got = crate::plan::scan_parquet(&path)
                .kmeans(config.clone())
                .fit_with(&opts)
                .expect("scan");
            assert_eq!(got.centroids, want.centroids);
            assert_eq!(got.labels, want.labels);
            assert_eq!(got.inertia, want.inertia);
        }
        let with_null = crate::frame::DataFrame::new(vec![crate::frame::Column::new(
            "a",
            a.iter()
                .enumerate()
                .map(|(i, &v)| (i != CHUNK + 9).then_some(v))
                .collect::<Vec<_>>(),
        )])
        .expect("frame");
        crate::io::write_parquet_with_row_groups(&with_null, &path, CHUNK + 5).expect("write");
        let e = crate::plan::scan_parquet(&path)
            .kmeans(config)
            .fit()
            .expect_err("null");
        assert!(e.to_string().contains("first at row 4105"), "{e}");
    }

    #[test]
    fn non_finite_values_name_the_column_and_row() {
        let mut rows = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        rows[3] = f64::NAN;
        let names = vec!["a".to_string(), "b".to_string()];
        let budget = MemoryPool::unbounded().reserve("FIT");
        let e = KMeans::new(1)
            .fit_row_major(&names, rows, &budget)
            .expect_err("NaN");
        assert!(
            e.to_string().contains("\"b\" has NaN (first at row 1)"),
            "{e}"
        );
    }
}
