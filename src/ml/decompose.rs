//! NumPy's `np.linalg.svd`, `solve` and `lstsq` (the seed's question 13), on `ndarray` matrices
//! and on frames (each column a variable, each row an observation), on the linear-algebra
//! backend of [`super::linalg`] (faer, or LAPACK with the `lapack` feature).
//!
//! - [`svd`] / [`DataFrame::svd`]: the thin SVD `A = U diag(s) Vt` (NumPy's
//!   `full_matrices=False`), with [`Svd::reconstruct`] for the rank-k approximation.
//! - [`solve`] / [`DataFrame::solve`]: `x` with `A x = b` for a square `A`, by LU with partial
//!   pivoting; an exactly singular `A` is an error, as NumPy's `LinAlgError`.
//! - [`lstsq`] / [`DataFrame::lstsq`]: the minimum-norm least-squares solution by SVD, with
//!   NumPy's cut-off for small singular values (`rcond = eps * max(M, N)`), rank and residuals.
//! - [`DataFrame::mean_squared_error`]: the mean of squared differences of two equally shaped
//!   frames, to measure a reconstruction.
//!
//! ```
//! use fusedframe::prelude::*;
//! let x = df!("a" => [1.0, 2.0, 3.0, 4.0], "b" => [2.0, 1.0, 0.0, 1.5], "c" => [0.5, 0.5, 1.0, 2.0])?;
//! let s = x.svd()?;
//! assert!(x.mean_squared_error(&s.reconstruct(3)?)? < 1e-25);
//! assert!(x.mean_squared_error(&s.reconstruct(1)?)? > 0.01);
//! # Ok::<(), fusedframe::Error>(())
//! ```

use ndarray::{Array1, Array2, Axis};

use super::linalg::{self, ColMajor};
use crate::error::{Error, Result};
use crate::frame::{Column, DataFrame, NdElement};

/// A right-hand side for [`solve`] and [`lstsq`]: a vector (`Array1`), a matrix (`Array2`,
/// one system per column) or a frame (one system per column, the solution named alike).
pub trait Rhs: Sized {
    /// The values as a matrix with one column per right-hand side.
    fn to_matrix(&self) -> Result<Array2<f64>>;
    /// A solution (one column per right-hand side) in the shape of `self`.
    fn like(&self, solution: Array2<f64>) -> Result<Self>;
}

impl Rhs for Array1<f64> {
    fn to_matrix(&self) -> Result<Array2<f64>> {
        Ok(self.clone().insert_axis(Axis(1)))
    }
    fn like(&self, solution: Array2<f64>) -> Result<Self> {
        Ok(solution.column(0).to_owned())
    }
}

impl Rhs for Array2<f64> {
    fn to_matrix(&self) -> Result<Array2<f64>> {
        Ok(self.clone())
    }
    fn like(&self, solution: Array2<f64>) -> Result<Self> {
        Ok(solution)
    }
}

impl Rhs for DataFrame {
    fn to_matrix(&self) -> Result<Array2<f64>> {
        self.to_ndarray::<f64>()
    }
    fn like(&self, solution: Array2<f64>) -> Result<Self> {
        let names = self.column_names();
        DataFrame::from_ndarray(&solution, &names)
    }
}

/// A thin singular value decomposition `A = U diag(s) Vt` (n x d `A`, k = min(n, d)).
#[derive(Clone, Debug)]
pub struct Svd {
    /// The decomposed columns' names (`x0, x1, ...` for a matrix).
    pub features: Vec<String>,
    /// Left singular vectors, n x k.
    pub u: Array2<f64>,
    /// Singular values, descending.
    pub s: Array1<f64>,
    /// Right singular vectors as rows, k x d.
    pub vt: Array2<f64>,
}

impl Svd {
    /// Number of singular values, min(rows, columns).
    pub fn len(&self) -> usize {
        self.s.len()
    }

    /// Whether there are no singular values (never, for a decomposed matrix).
    pub fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    /// `U[:, :k] diag(s[:k]) Vt[:k, :]`: the best rank-`k` approximation (all `k` components
    /// rebuild the matrix up to rounding).
    pub fn reconstruct_ndarray(&self, k: usize) -> Result<Array2<f64>> {
        if k > self.len() {
            return Err(Error::Compute(format!(
                "svd: cannot reconstruct from {k} components, there are {}",
                self.len()
            )));
        }
        let us = Array2::from_shape_fn((self.u.nrows(), k), |(i, j)| self.u[[i, j]] * self.s[j]);
        Ok(us.dot(&self.vt.slice(ndarray::s![..k, ..])))
    }

    /// [`Svd::reconstruct_ndarray`] as a frame with the decomposed columns' names.
    pub fn reconstruct(&self, k: usize) -> Result<DataFrame> {
        let names: Vec<&str> = self.features.iter().map(String::as_str).collect();
        DataFrame::from_ndarray(&self.reconstruct_ndarray(k)?, &names)
    }

    /// The singular values as a table: `component` (1..k), `singular_value` and
    /// `energy_ratio` (s² over the sum of all s²: the share of the squared Frobenius norm).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let total: f64 = self.s.iter().map(|v| v * v).sum();
        DataFrame::new(vec![
            Column::new("component", (1..=self.len() as i64).collect::<Vec<i64>>()),
            Column::new("singular_value", self.s.to_vec()),
            Column::new(
                "energy_ratio",
                self.s.iter().map(|v| v * v / total).collect::<Vec<f64>>(),
            ),
        ])
    }
}

/// A least-squares solution (NumPy's `lstsq` results).
#[derive(Clone, Debug)]
pub struct Lstsq {
    /// The minimum-norm solution, one column per right-hand side (d x k).
    pub solution: Array2<f64>,
    /// Sum of squared residuals per right-hand side; empty when the rank is below the number
    /// of columns or there are no more rows than columns (as NumPy).
    pub residuals: Array1<f64>,
    /// Effective rank of `A`.
    pub rank: usize,
    /// Singular values of `A`, descending.
    pub singular_values: Array1<f64>,
    /// Names of the right-hand sides (a frame's columns, else `y0, y1, ...`).
    pub names: Vec<String>,
}

impl Lstsq {
    /// Effective rank of `A`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The solution as a frame, one column per right-hand side.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        DataFrame::from_ndarray(&self.solution, &names)
    }
}

/// Reject NaN and infinity, naming the first bad cell.
fn check_finite(a: &Array2<f64>, what: &str) -> Result<()> {
    match a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), v)) => Err(Error::Compute(format!(
            "{what}: the matrix has a non-finite value ({v}) at row {i}, column {j}"
        ))),
        None => Ok(()),
    }
}

/// Thin SVD of `a` (NumPy's `np.linalg.svd(a, full_matrices=False)`), columns named `x0..`.
pub fn svd(a: &Array2<f64>) -> Result<Svd> {
    check_finite(a, "svd")?;
    let names = (0..a.ncols()).map(|j| format!("x{j}")).collect();
    svd_of(ColMajor::from_array(a), names)
}

fn svd_of(a: ColMajor<f64>, features: Vec<String>) -> Result<Svd> {
    let p = linalg::thin_svd(a, true)?;
    Ok(Svd {
        features,
        u: p.u.ok_or_else(|| Error::Internal("SVD without U".into()))?,
        s: Array1::from(p.s),
        vt: p.vt,
    })
}

/// `x` with `a x = b`, `a` square (NumPy's `np.linalg.solve`); `b` a vector, a matrix of
/// right-hand sides, or a frame.
pub fn solve<B: Rhs>(a: &Array2<f64>, b: &B) -> Result<B> {
    let bm = b.to_matrix()?;
    let (n, m) = a.dim();
    if n != m {
        return Err(Error::Compute(format!(
            "solve: the matrix must be square, it is {n} x {m} (use lstsq for least squares)"
        )));
    }
    if bm.nrows() != n {
        return Err(Error::Compute(format!(
            "solve: the matrix has {n} rows but the right-hand side has {}",
            bm.nrows()
        )));
    }
    check_finite(a, "solve")?;
    let x = linalg::lu_solve(ColMajor::from_array(a), ColMajor::from_array(&bm))?;
    b.like(x.to_array(|v| v))
}

/// Minimum-norm least squares `min |a x - b|` (NumPy's `np.linalg.lstsq(a, b, rcond=None)`):
/// singular values below `eps * max(n, d) * s_max` count as zero.
pub fn lstsq<B: Rhs>(a: &Array2<f64>, b: &B) -> Result<Lstsq> {
    let bm = b.to_matrix()?;
    let names = (0..bm.ncols()).map(|j| format!("y{j}")).collect();
    lstsq_of(a, &bm, names)
}

fn lstsq_of(a: &Array2<f64>, b: &Array2<f64>, names: Vec<String>) -> Result<Lstsq> {
    let (n, d) = a.dim();
    if b.nrows() != n {
        return Err(Error::Compute(format!(
            "lstsq: the matrix has {n} rows but the right-hand side has {}",
            b.nrows()
        )));
    }
    if n == 0 || d == 0 {
        return Err(Error::Compute("lstsq: the matrix is empty".into()));
    }
    check_finite(a, "lstsq")?;
    check_finite(b, "lstsq")?;
    let p = linalg::thin_svd(ColMajor::from_array(a), true)?;
    let u = p.u.ok_or_else(|| Error::Internal("SVD without U".into()))?;
    let cutoff = f64::EPSILON * n.max(d) as f64 * p.s.first().copied().unwrap_or(0.0);
    let rank = p.s.iter().filter(|&&s| s > cutoff).count();
    // x = V diag(1/s) Uᵀ b over the singular values above the cut-off.
    let utb = u.slice(ndarray::s![.., ..rank]).t().dot(b);
    let scaled = Array2::from_shape_fn(utb.dim(), |(i, j)| utb[[i, j]] / p.s[i]);
    let solution = p.vt.slice(ndarray::s![..rank, ..]).t().dot(&scaled);
    let residuals = if rank == d && n > d {
        let r = b - &a.dot(&solution);
        r.map_axis(Axis(0), |c| c.iter().map(|v| v * v).sum())
    } else {
        Array1::zeros(0)
    };
    Ok(Lstsq {
        solution,
        residuals,
        rank,
        singular_values: Array1::from(p.s),
        names,
    })
}

/// Every column of `df` as `f64` values, column-major (nulls and non-numeric columns are
/// errors naming the column).
fn frame_matrix(df: &DataFrame, what: &str) -> Result<ColMajor<f64>> {
    let (n, d) = df.shape();
    let mut data = Vec::with_capacity(n * d);
    for (f, a) in df.schema().fields().iter().zip(df.columns()) {
        let v = f64::column_values(f.name(), a)?;
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::Compute(format!(
                "{what}: column \"{}\" has a non-finite value ({}) at row {i}",
                f.name(),
                v[i]
            )));
        }
        data.extend(v);
    }
    Ok(ColMajor {
        data,
        nrows: n,
        ncols: d,
    })
}

impl DataFrame {
    /// The thin SVD of this frame as an observations x variables matrix (every column must be
    /// numeric, without nulls or NaN).
    pub fn svd(&self) -> Result<Svd> {
        let m = frame_matrix(self, "svd")?;
        if m.nrows == 0 || m.ncols == 0 {
            return Err(Error::Compute("svd: the frame is empty".into()));
        }
        let names = self.column_names().iter().map(|s| s.to_string()).collect();
        svd_of(m, names)
    }

    /// `x` with `self x = b` for this square frame (rows are equations, columns unknowns);
    /// the result has one row per column of `self` and `b`'s column names.
    pub fn solve(&self, b: &DataFrame) -> Result<DataFrame> {
        solve(&frame_matrix(self, "solve")?.to_array(|v| v), b)
    }

    /// Least squares `min |self x - b|` (see [`lstsq`]); the solution is named after `b`'s
    /// columns.
    pub fn lstsq(&self, b: &DataFrame) -> Result<Lstsq> {
        let a = frame_matrix(self, "lstsq")?.to_array(|v| v);
        let bm = frame_matrix(b, "lstsq")?.to_array(|v| v);
        let names = b.column_names().iter().map(|s| s.to_string()).collect();
        lstsq_of(&a, &bm, names)
    }

    /// The mean of the squared differences between this frame and `other` (same shape, numeric
    /// columns, compared by position): scikit-learn's `mean_squared_error(self, other)`.
    pub fn mean_squared_error(&self, other: &DataFrame) -> Result<f64> {
        if self.shape() != other.shape() {
            return Err(Error::Compute(format!(
                "mean_squared_error: the frames' shapes differ ({:?} and {:?})",
                self.shape(),
                other.shape()
            )));
        }
        let (n, d) = self.shape();
        if n == 0 || d == 0 {
            return Err(Error::Compute(
                "mean_squared_error: the frames are empty".into(),
            ));
        }
        let mut total = 0.0;
        for (j, (a, b)) in self.columns().iter().zip(other.columns()).enumerate() {
            let x = f64::column_values(self.schema().field(j).name(), a)?;
            let y = f64::column_values(other.schema().field(j).name(), b)?;
            total += x
                .iter()
                .zip(&y)
                .map(|(p, q)| (p - q) * (p - q))
                .sum::<f64>();
        }
        Ok(total / (n * d) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn solve_vector_matrix_and_frame() {
        let a = array![[3.0, 1.0], [1.0, 2.0]];
        let x = solve(&a, &array![9.0, 8.0]).expect("solve");
        assert!((x[0] - 2.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
        let x = solve(&a, &array![[9.0, 1.0], [8.0, 2.0]]).expect("solve");
        assert!((x[[0, 1]] - 0.0).abs() < 1e-12 && (x[[1, 1]] - 1.0).abs() < 1e-12);
        let af = DataFrame::from_ndarray(&a, &["u", "v"]).expect("frame");
        let bf = crate::df!("rhs" => [9.0, 8.0]).expect("frame");
        let xf = af.solve(&bf).expect("solve frame");
        assert_eq!(xf.column_names(), vec!["rhs"]);
        let e = solve(&array![[1.0, 2.0, 3.0]], &array![1.0]).expect_err("not square");
        assert!(e.to_string().contains("square"), "{e}");
        let e = solve(&array![[1.0, 2.0], [2.0, 4.0]], &array![1.0, 2.0]).expect_err("singular");
        assert!(e.to_string().contains("singular"), "{e}");
    }

    #[test]
    fn lstsq_full_rank_and_deficient() {
        // y = 1 + 2 t exactly, plus a rank-deficient copy of the design.
        let a = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]];
        let r = lstsq(&a, &array![1.0, 3.0, 5.0, 7.1]).expect("lstsq");
        assert_eq!(r.rank, 2);
        assert_eq!(r.residuals.len(), 1);
        assert!(
            (r.solution[[1, 0]] - 2.03).abs() < 1e-12,
            "{:?}",
            r.solution
        );
        let dup = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let r = lstsq(&dup, &array![2.0, 4.0, 6.0]).expect("lstsq");
        assert_eq!(r.rank, 1);
        assert!(r.residuals.is_empty());
        // Minimum norm: the weight splits evenly.
        assert!(
            (r.solution[[0, 0]] - 1.0).abs() < 1e-12 && (r.solution[[1, 0]] - 1.0).abs() < 1e-12
        );
    }

    #[test]
    fn svd_of_a_frame_rebuilds_it() {
        let df = crate::df!("a" => [1.0, 2.0, 3.0], "b" => [1, 0, 2]).expect("df");
        let s = df.svd().expect("svd");
        assert_eq!(s.features, vec!["a", "b"]);
        let back = s.reconstruct(2).expect("rebuild");
        assert!(df.mean_squared_error(&back).expect("mse") < 1e-28);
        assert!(s.reconstruct(3).is_err());
        let t = s.to_dataframe().expect("table");
        assert_eq!(t.shape(), (2, 3));
        let bad = crate::df!("a" => [1.0, f64::NAN]).expect("df");
        assert!(bad.svd().expect_err("nan").to_string().contains("\"a\""));
    }
}
