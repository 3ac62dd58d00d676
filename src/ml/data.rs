//! Model input: the feature columns of a collected frame as checked `f64` slices, and the
//! chunked passes every model starts with (column means, the centred row-major copy k-means
//! runs on).
//!
//! Every pass cuts rows into fixed [`CHUNK`]-row pieces processed in parallel and merges the
//! per-chunk partial results in chunk order, so results are identical for any thread count.

use arrow::array::{Array, Float64Array};
use arrow::datatypes::{DataType, Schema};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Rows per chunk of every parallel pass. Fixed (never derived from the thread count) so that
/// partial sums, and therefore results, do not depend on how many threads run them.
pub(crate) const CHUNK: usize = 4096;

/// Feature columns as `Float64` arrays, checked free of nulls. NaN and infinity are caught by
/// [`Features::check_finite`] from sums the models compute anyway (a NaN or infinite value makes
/// its column's sum non-finite), which saves a separate pass over the data.
#[derive(Debug)]
pub(crate) struct Features {
    pub names: Vec<String>,
    arrays: Vec<Float64Array>,
    pub n: usize,
}

impl Features {
    /// Take `names` from `df`, cast to `f64`; a null is an [`Error::Model`] naming the column
    /// (and the first null row).
    pub(crate) fn from_frame(df: &DataFrame, names: &[String], model: &str) -> Result<Self> {
        let mut arrays = Vec::with_capacity(names.len());
        for name in names {
            let a = df.column(name)?;
            let c = arrow::compute::cast(a, &DataType::Float64).map_err(|_| {
                Error::Model(format!(
                    "{model}: feature column \"{name}\" is {}, not numeric",
                    crate::frame::display::dtype_name(a.data_type())
                ))
            })?;
            let c = c
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| Error::Internal("cast to Float64 gave another type".into()))?
                .clone();
            if c.null_count() > 0 {
                let first = (0..c.len()).find(|&i| c.is_null(i)).unwrap_or(0);
                return Err(Error::Model(format!(
                    "{model}: feature column \"{name}\" has {} null values (first at row {first}); \
                     drop or fill them first, e.g. with fill_null or filter(col(\"{name}\").is_not_null())",
                    c.null_count()
                )));
            }
            arrays.push(c);
        }
        Ok(Self {
            names: names.to_vec(),
            arrays,
            n: df.height(),
        })
    }

    /// Features from a row-major matrix, named `x0, x1, ...` unless `names` is given.
    pub(crate) fn from_ndarray(x: &ndarray::Array2<f64>, model: &str) -> Result<Self> {
        let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let df = DataFrame::from_ndarray(x, &refs)?;
        Self::from_frame(&df, &names, model)
    }

    /// Given per-column sums (or means) of the data, report the first NaN or infinite value of
    /// any column whose sum is not finite as an [`Error::Model`] naming the column and row.
    pub(crate) fn check_finite(&self, sums: &[f64], model: &str) -> Result<()> {
        for (j, s) in sums.iter().enumerate() {
            if s.is_finite() {
                continue;
            }
            if let Some(i) = first_non_finite(self.col(j)) {
                let name = &self.names[j];
                let v = self.col(j)[i];
                return Err(Error::Model(if v.is_nan() {
                    format!(
                        "{model}: feature column \"{name}\" has NaN (first at row {i}); \
                         replace them first, e.g. with fill_nan"
                    )
                } else {
                    format!(
                        "{model}: feature column \"{name}\" has an infinite value (first at row {i})"
                    )
                }));
            }
        }
        Ok(())
    }

    /// Number of features.
    pub(crate) fn d(&self) -> usize {
        self.arrays.len()
    }

    /// The values of feature `j`.
    pub(crate) fn col(&self, j: usize) -> &[f64] {
        self.arrays[j].values()
    }

    /// Column means, summed chunk by chunk and merged in chunk order.
    pub(crate) fn means(&self) -> Vec<f64> {
        let d = self.d();
        let n = self.n;
        if n == 0 {
            return vec![f64::NAN; d];
        }
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                (0..d).map(|j| sum4(&self.col(j)[lo..hi])).collect()
            })
            .collect();
        let mut total = vec![0.0; d];
        for p in parts {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        total.iter().map(|s| s / n as f64).collect()
    }

    /// The matrix minus `shift`, row-major (n x d), built in parallel row chunks, with the
    /// per-column sums of squares of the shifted values (merged in chunk order) computed on
    /// the way, since the values are loaded anyway.
    pub(crate) fn row_major_minus(&self, shift: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, d) = (self.n, self.d());
        if d == 0 {
            return (vec![], vec![]);
        }
        // Rows are written a tile at a time, each tile's 16-ish columns while its rows are in
        // L1, into memory that is never zeroed first: with reused heap memory a zeroing pass
        // and column-at-a-time writes over a whole chunk cost a third of a 20-step k-means.
        const TILE: usize = 256;
        let mut out: Vec<f64> = Vec::with_capacity(n * d);
        let parts: Vec<Vec<f64>> = out.spare_capacity_mut()[..n * d]
            .par_chunks_mut(CHUNK * d)
            .enumerate()
            .map(|(c, block)| {
                let lo = c * CHUNK;
                let rows = block.len() / d;
                let mut acc = vec![[0.0f64; 4]; d];
                for t0 in (0..rows).step_by(TILE) {
                    let t1 = (t0 + TILE).min(rows);
                    for (j, a) in acc.iter_mut().enumerate() {
                        let col = &self.col(j)[lo + t0..lo + t1];
                        let s = shift[j];
                        for (k, v) in col.iter().enumerate() {
                            let i = t0 + k;
                            let t = v - s;
                            block[i * d + j].write(t);
                            a[i % 4] += t * t;
                        }
                    }
                }
                acc.iter().map(|a| (a[0] + a[1]) + (a[2] + a[3])).collect()
            })
            .collect();
        // SAFETY: the chunks tile `0..n * d`, and each chunk wrote every one of its `rows * d`
        // entries: every row index `i < rows` of every column `j < d` in the loops above.
        unsafe { out.set_len(n * d) };
        let mut sq = vec![0.0; d];
        for p in parts {
            for (t, v) in sq.iter_mut().zip(p) {
                *t += v;
            }
        }
        (out, sq)
    }
}

/// Index of the first NaN or infinite value, if any (checked in parallel chunks).
fn first_non_finite(v: &[f64]) -> Option<usize> {
    v.par_chunks(CHUNK * 16)
        .enumerate()
        .find_map_first(|(c, s)| {
            s.iter()
                .position(|x| !x.is_finite())
                .map(|i| c * CHUNK * 16 + i)
        })
}

/// Sum with four partial sums (vectorizes; a fixed order, so deterministic).
pub(crate) fn sum4(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut it = v.chunks_exact(4);
    for c in &mut it {
        for l in 0..4 {
            acc[l] += c[l];
        }
    }
    let tail: f64 = it.remainder().iter().sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The numeric columns of a schema, in order: the default feature list of k-means and PCA.
pub(crate) fn numeric_columns(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .filter(|f| f.data_type().is_numeric())
        .map(|f| f.name().clone())
        .collect()
}

/// Check that every feature exists in `schema` (naming the closest column when not) and is
/// numeric, and that there is at least one.
pub(crate) fn check_features(schema: &Schema, names: &[String], model: &str) -> Result<()> {
    if names.is_empty() {
        return Err(Error::Model(format!(
            "{model}: no feature columns (the input has no numeric columns, or an empty list was given)"
        )));
    }
    for (i, n) in names.iter().enumerate() {
        let f = schema.field_with_name(n).map_err(|_| {
            Error::column_not_found(n, schema.fields().iter().map(|f| f.name().as_str()))
        })?;
        if !f.data_type().is_numeric() {
            return Err(Error::Model(format!(
                "{model}: feature column \"{n}\" is {}, not numeric",
                crate::frame::display::dtype_name(f.data_type())
            )));
        }
        if names[..i].contains(n) {
            return Err(Error::Model(format!(
                "{model}: feature \"{n}\" is listed twice"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df;

    #[test]
    fn row_major_copy_is_complete_across_chunks_and_tiles() {
        // Rows spanning several chunks and a partial tile; three columns.
        let n = 2 * CHUNK + 300;
        let cols: Vec<Vec<f64>> = (0..3)
            .map(|j| (0..n).map(|i| (i * 3 + j) as f64 * 0.5).collect())
            .collect();
        let df = DataFrame::new(
            cols.iter()
                .enumerate()
                .map(|(j, c)| crate::frame::Column::new(format!("c{j}"), c.clone()))
                .collect(),
        )
        .expect("frame");
        let names: Vec<String> = (0..3).map(|j| format!("c{j}")).collect();
        let f = Features::from_frame(&df, &names, "pca").expect("features");
        let shift = [1.0, 2.0, 3.0];
        let (x, sq) = f.row_major_minus(&shift);
        assert_eq!(x.len(), n * 3);
        for i in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 299] {
            for j in 0..3 {
                assert_eq!(x[i * 3 + j], cols[j][i] - shift[j], "row {i} column {j}");
            }
        }
        for j in 0..3 {
            let want: f64 = cols[j].iter().map(|v| (v - shift[j]).powi(2)).sum();
            assert!((sq[j] - want).abs() <= 1e-9 * want, "column {j}");
        }
    }

    #[test]
    fn nan_and_null_name_the_column() {
        let df = df!("a" => [1.0, 2.0], "b" => [1.0, f64::NAN]).expect("df");
        let f = Features::from_frame(&df, &["a".into(), "b".into()], "kmeans").expect("no nulls");
        let e = f.check_finite(&f.means(), "kmeans").expect_err("NaN error");
        assert!(matches!(e, Error::Model(_)));
        assert!(
            e.to_string().contains("\"b\" has NaN (first at row 1)"),
            "{e}"
        );
        let df = df!("a" => [Some(1.0), None]).expect("df");
        let e = Features::from_frame(&df, &["a".into()], "pca").expect_err("null error");
        assert!(e.to_string().contains("\"a\" has 1 null values"), "{e}");
    }

    #[test]
    fn means_and_row_major() {
        let df = df!("a" => [1.0, 2.0, 3.0], "b" => [10, 20, 30]).expect("df");
        let f = Features::from_frame(&df, &["a".into(), "b".into()], "t").expect("features");
        assert_eq!(f.means(), vec![2.0, 20.0]);
        let (x, sq) = f.row_major_minus(&[1.0, 0.0]);
        assert_eq!(x, vec![0.0, 10.0, 1.0, 20.0, 2.0, 30.0]);
        assert_eq!(sq, vec![5.0, 1400.0]);
    }
}
