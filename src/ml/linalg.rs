//! Dense linear algebra for the models: symmetric eigendecomposition (PCA's covariance path),
//! thin SVD (PCA's full path), least squares by QR (linear regression) and small Gram products.
//!
//! The default backend is pure-Rust `faer`, always run sequentially (`Par::Seq`): the matrices
//! decomposed here are small (d x d, or n x d only for PCA's SVD path), and a fixed operation
//! order keeps results bit-identical whatever the thread count. With the cargo feature
//! `lapack`, the decompositions go to `ndarray-linalg` on the system OpenBLAS/LAPACK instead;
//! the faer versions stay compiled so tests can check that both backends agree.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::{Accum, Mat, MatRef, Par};
use ndarray::Array2;

use crate::error::{Error, Result};

/// Eigenvalues (ascending) and eigenvectors (column `i` belongs to value `i`) of the symmetric
/// matrix `a` (only its lower triangle is read).
pub(crate) fn sym_eigh(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
    #[cfg(feature = "lapack")]
    {
        lapack::sym_eigh(a)
    }
    #[cfg(not(feature = "lapack"))]
    {
        faer_backend::sym_eigh(a)
    }
}

/// Thin SVD of `a` (n x d): singular values (descending) and `Vt` (min(n, d) x d).
pub(crate) fn thin_svd(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
    #[cfg(feature = "lapack")]
    {
        lapack::thin_svd(a)
    }
    #[cfg(not(feature = "lapack"))]
    {
        faer_backend::thin_svd(a)
    }
}

/// Least-squares solution of `a x = b` (a: n x d, n >= d, full column rank) by Householder QR.
/// A rank-deficient `a` (collinear or constant features) is an [`Error::Model`] naming the
/// first dependent column of `names`.
pub(crate) fn lstsq_qr(a: &Array2<f64>, b: &[f64], names: &[String]) -> Result<Vec<f64>> {
    #[cfg(feature = "lapack")]
    {
        lapack::lstsq_qr(a, b, names)
    }
    #[cfg(not(feature = "lapack"))]
    {
        faer_backend::lstsq_qr(a, b, names)
    }
}

/// `out += bᵀ b` for a column-major block `b` (`rows` x `d`, column `j` at `b[j*rows..]`),
/// `out` being d x d column-major. Used for the streaming covariance pass; always faer (its
/// SIMD matmul kernels are dispatched at run time to the best instruction set the CPU has).
pub(crate) fn gram_add(out: &mut [f64], b: &[f64], rows: usize, d: usize) {
    if rows == 0 || d == 0 {
        return;
    }
    let bm = MatRef::from_column_major_slice(b, rows, d);
    let om = faer::MatMut::from_column_major_slice_mut(out, d, d);
    faer::linalg::matmul::matmul(om, Accum::Add, bm.transpose(), bm, 1.0, Par::Seq);
}

/// The smallest |R_jj| relative to the largest below which a QR factor counts as singular:
/// a few hundred ulps times the dimension, in the spirit of LAPACK's rank decisions.
fn rank_tol(n: usize, d: usize) -> f64 {
    (n.max(d) as f64) * f64::EPSILON * 16.0
}

/// Check the diagonal of a QR factor R for rank deficiency.
fn check_rank(diag: &[f64], n: usize, names: &[String]) -> Result<()> {
    let max = diag.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let tol = max * rank_tol(n, diag.len());
    for (j, v) in diag.iter().enumerate() {
        if v.abs() <= tol || v.is_nan() {
            let name = names.get(j).map_or("?", String::as_str);
            return Err(Error::Model(format!(
                "least squares: feature \"{name}\" is constant or a linear combination of the \
                 features before it (the design matrix is rank deficient); drop it"
            )));
        }
    }
    Ok(())
}

// With `lapack` on, only the `backends_agree` test calls into this module; it stays compiled so
// that test can compare the two backends.
#[cfg_attr(all(feature = "lapack", not(test)), allow(dead_code))]
pub(crate) mod faer_backend {
    //! The pure-Rust backend (always compiled; the default).

    use super::*;

    fn to_faer(a: &Array2<f64>) -> Mat<f64> {
        Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
    }

    fn from_faer(m: MatRef<'_, f64>) -> Array2<f64> {
        Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
    }

    pub(crate) fn sym_eigh(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
        let n = a.nrows();
        let m = to_faer(a);
        let mut u = Mat::<f64>::zeros(n, n);
        let mut s = faer::diag::Diag::<f64>::zeros(n);
        let par = Par::Seq;
        let req = faer::linalg::evd::self_adjoint_evd_scratch::<f64>(
            n,
            faer::linalg::evd::ComputeEigenvectors::Yes,
            par,
            Default::default(),
        );
        let mut buf = MemBuffer::new(req);
        faer::linalg::evd::self_adjoint_evd(
            m.as_ref(),
            s.as_mut(),
            Some(u.as_mut()),
            par,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .map_err(|e| Error::Model(format!("eigendecomposition did not converge: {e:?}")))?;
        let values = s.column_vector().iter().copied().collect();
        Ok((values, from_faer(u.as_ref())))
    }

    pub(crate) fn thin_svd(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
        let (n, d) = a.dim();
        let k = n.min(d);
        let m = to_faer(a);
        let mut v = Mat::<f64>::zeros(d, k);
        let mut s = faer::diag::Diag::<f64>::zeros(k);
        let par = Par::Seq;
        let thin = faer::linalg::svd::ComputeSvdVectors::Thin;
        let req = faer::linalg::svd::svd_scratch::<f64>(
            n,
            d,
            faer::linalg::svd::ComputeSvdVectors::No,
            thin,
            par,
            Default::default(),
        );
        let mut buf = MemBuffer::new(req);
        faer::linalg::svd::svd(
            m.as_ref(),
            s.as_mut(),
            None,
            Some(v.as_mut()),
            par,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .map_err(|e| Error::Model(format!("SVD did not converge: {e:?}")))?;
        let values = s.column_vector().iter().copied().collect();
        Ok((values, from_faer(v.as_ref().transpose())))
    }

    pub(crate) fn lstsq_qr(a: &Array2<f64>, b: &[f64], names: &[String]) -> Result<Vec<f64>> {
        let (n, d) = a.dim();
        if n < d {
            return Err(Error::Model(format!(
                "least squares needs at least as many rows as features ({n} rows, {d} features)"
            )));
        }
        let mut qr = to_faer(a);
        let par = Par::Seq;
        let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, d);
        let mut coeff = Mat::<f64>::zeros(bs, d.min(n));
        let req = faer::linalg::qr::no_pivoting::factor::qr_in_place_scratch::<f64>(
            n,
            d,
            bs,
            par,
            Default::default(),
        );
        let mut buf = MemBuffer::new(req);
        faer::linalg::qr::no_pivoting::factor::qr_in_place(
            qr.as_mut(),
            coeff.as_mut(),
            par,
            MemStack::new(&mut buf),
            Default::default(),
        );
        let diag: Vec<f64> = (0..d).map(|j| qr[(j, j)]).collect();
        check_rank(&diag, n, names)?;
        // Split as faer's own `Qr` does: unit-lower Householder basis and upper R.
        let r = Mat::from_fn(d, d, |i, j| if i <= j { qr[(i, j)] } else { 0.0 });
        let basis = Mat::from_fn(n, d, |i, j| match i.cmp(&j) {
            std::cmp::Ordering::Greater => qr[(i, j)],
            std::cmp::Ordering::Equal => 1.0,
            std::cmp::Ordering::Less => 0.0,
        });
        let mut rhs = Mat::from_fn(n, 1, |i, _| b[i]);
        let req = faer::linalg::qr::no_pivoting::solve::solve_lstsq_in_place_scratch::<f64>(
            n, d, bs, 1, par,
        );
        let mut buf = MemBuffer::new(req);
        faer::linalg::qr::no_pivoting::solve::solve_lstsq_in_place_with_conj(
            basis.as_ref(),
            coeff.as_ref(),
            r.as_ref(),
            faer::Conj::No,
            rhs.as_mut(),
            par,
            MemStack::new(&mut buf),
        );
        Ok((0..d).map(|j| rhs[(j, 0)]).collect())
    }
}

#[cfg(feature = "lapack")]
pub(crate) mod lapack {
    //! The `lapack` feature's backend: ndarray-linalg on the system OpenBLAS/LAPACK.

    use ndarray::{Array1, Axis};
    use ndarray_linalg::{Diag, Eigh, SolveTriangular, QR, SVD, UPLO};

    use super::*;

    fn lapack_err(what: &str, e: impl std::fmt::Display) -> Error {
        Error::Model(format!("{what} failed in LAPACK: {e}"))
    }

    pub(crate) fn sym_eigh(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
        let (vals, vecs) = a
            .eigh(UPLO::Lower)
            .map_err(|e| lapack_err("eigendecomposition", e))?;
        Ok((vals.to_vec(), vecs))
    }

    pub(crate) fn thin_svd(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
        let k = a.nrows().min(a.ncols());
        let (_, s, vt) = a.svd(false, true).map_err(|e| lapack_err("SVD", e))?;
        let vt = vt.ok_or_else(|| Error::Internal("LAPACK SVD returned no Vt".into()))?;
        Ok((s.to_vec(), vt.slice_axis(Axis(0), (0..k).into()).to_owned()))
    }

    pub(crate) fn lstsq_qr(a: &Array2<f64>, b: &[f64], names: &[String]) -> Result<Vec<f64>> {
        let (n, d) = a.dim();
        if n < d {
            return Err(Error::Model(format!(
                "least squares needs at least as many rows as features ({n} rows, {d} features)"
            )));
        }
        let (q, r) = a.qr().map_err(|e| lapack_err("QR", e))?;
        let diag: Vec<f64> = (0..d).map(|j| r[[j, j]]).collect();
        check_rank(&diag, n, names)?;
        let qtb: Array1<f64> = q.t().dot(&Array1::from(b.to_vec()));
        let x = r
            .solve_triangular(UPLO::Upper, Diag::NonUnit, &qtb)
            .map_err(|e| lapack_err("triangular solve", e))?;
        Ok(x.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eigh_of_diagonal() {
        let a = array![[2.0, 0.0], [0.0, 5.0]];
        let (v, u) = sym_eigh(&a).expect("eigh");
        assert!((v[0] - 2.0).abs() < 1e-14 && (v[1] - 5.0).abs() < 1e-14);
        assert!((u[[1, 1]].abs() - 1.0).abs() < 1e-14);
    }

    #[test]
    fn lstsq_exact_and_rank_deficient() {
        let a = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let x = lstsq_qr(&a, &[1.0, 2.0, 3.0], &["a".into(), "b".into()]).expect("lstsq");
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
        let bad = array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        let e = lstsq_qr(&bad, &[1.0, 2.0, 3.0], &["a".into(), "b".into()]).unwrap_err();
        assert!(e.to_string().contains("\"b\""), "{e}");
    }

    #[test]
    fn gram_matches_naive() {
        // 3 rows x 2 columns, column-major.
        let b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut g = vec![0.0; 4];
        gram_add(&mut g, &b, 3, 2);
        assert_eq!(g, vec![14.0, 32.0, 32.0, 77.0]);
    }

    #[cfg(feature = "lapack")]
    #[test]
    fn backends_agree() {
        let a = Array2::from_shape_fn((40, 5), |(i, j)| {
            ((i * 7 + j * 13) % 11) as f64 + 0.1 * j as f64
        });
        let c = a.t().dot(&a);
        let (v1, u1) = faer_backend::sym_eigh(&c).expect("faer");
        let (v2, u2) = lapack::sym_eigh(&c).expect("lapack");
        for j in 0..5 {
            assert!((v1[j] - v2[j]).abs() < 1e-9 * v1[4]);
            let dot: f64 = (0..5).map(|i| u1[[i, j]] * u2[[i, j]]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-9);
        }
        let (s1, _) = faer_backend::thin_svd(&a).expect("faer");
        let (s2, _) = lapack::thin_svd(&a).expect("lapack");
        for j in 0..5 {
            assert!((s1[j] - s2[j]).abs() < 1e-9 * s1[0]);
        }
        let names: Vec<String> = (0..5).map(|j| format!("x{j}")).collect();
        let y: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let x1 = faer_backend::lstsq_qr(&a, &y, &names).expect("faer");
        let x2 = lapack::lstsq_qr(&a, &y, &names).expect("lapack");
        for j in 0..5 {
            assert!((x1[j] - x2[j]).abs() < 1e-9 * (1.0 + x1[j].abs()));
        }
    }
}
