//! The `lapack` feature's backend: ndarray-linalg on the system OpenBLAS/LAPACK (`syevd`-style
//! `eigh`, `gesdd`/`gesvd` SVD, `getrf`/`getrs` solves, `geqrf` least squares).

use ndarray::{Array1, Array2, Axis, ShapeBuilder};
use ndarray_linalg::{
    Diag, Eigh, Factorize, JobSvd, SVDDCInto, SVDInto, Solve, SolveTriangular, QR, UPLO,
};

use super::{check_rank, singular, ColMajor, SvdParts};
use crate::error::{Error, Result};
use crate::ml::data::Elem;

fn lapack_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Model(format!("{what} failed in LAPACK: {e}"))
}

pub(crate) fn sym_eigh(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
    let (vals, vecs) = a
        .eigh(UPLO::Lower)
        .map_err(|e| lapack_err("eigendecomposition", e))?;
    Ok((vals.to_vec(), vecs))
}

/// An `ndarray` view of the column-major buffer (Fortran order: LAPACK's own layout).
fn fortran<T: Elem>(a: ColMajor<T>) -> Result<Array2<T>> {
    Array2::from_shape_vec((a.nrows, a.ncols).f(), a.data)
        .map_err(|e| Error::Internal(format!("matrix shape: {e}")))
}

fn widen<T: Elem>(m: &Array2<T>) -> Array2<f64> {
    m.mapv(Elem::into_f64)
}

pub(crate) fn thin_svd<T: Elem>(a: ColMajor<T>, want_u: bool) -> Result<SvdParts> {
    let k = a.nrows.min(a.ncols);
    let m = fortran(a)?;
    let (u, s, vt) = if want_u {
        // Divide and conquer with thin factors (SciPy's default driver).
        m.svddc_into(JobSvd::Some)
            .map_err(|e| lapack_err("SVD", e))?
    } else {
        m.svd_into(false, true).map_err(|e| lapack_err("SVD", e))?
    };
    let vt = vt.ok_or_else(|| Error::Internal("LAPACK SVD returned no Vt".into()))?;
    Ok(SvdParts {
        s: s.iter().map(|v| v.into_f64()).collect(),
        u: u.map(|u| widen(&u.slice_axis(Axis(1), (0..k).into()).to_owned())),
        vt: widen(&vt.slice_axis(Axis(0), (0..k).into()).to_owned()),
    })
}

pub(crate) fn lu_solve(a: ColMajor<f64>, b: ColMajor<f64>) -> Result<ColMajor<f64>> {
    let n = a.nrows;
    let lu = fortran(a)?.factorize().map_err(|_| singular())?;
    let mut data = Vec::with_capacity(b.data.len());
    for j in 0..b.ncols {
        let x = lu
            .solve(&Array1::from(b.col(j).to_vec()))
            .map_err(|_| singular())?;
        if x.iter().any(|v| !v.is_finite()) && b.col(j).iter().all(|v| v.is_finite()) {
            return Err(singular());
        }
        data.extend(x.iter().copied());
    }
    Ok(ColMajor {
        data,
        nrows: n,
        ncols: b.ncols,
    })
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
