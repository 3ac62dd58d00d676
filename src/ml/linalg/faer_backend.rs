//! The pure-Rust backend (always compiled; the default): faer's decompositions with the
//! fixed task split of [`par`].

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::{Mat, MatRef, Par};
use ndarray::Array2;

use super::{check_rank, par, singular, ColMajor, SvdParts};
use crate::error::{Error, Result};
use crate::ml::data::Elem;

fn to_faer(a: &Array2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer<T: Elem>(m: MatRef<'_, T>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)].into_f64())
}

pub(crate) fn sym_eigh(a: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>)> {
    let n = a.nrows();
    let m = to_faer(a);
    let mut u = Mat::<f64>::zeros(n, n);
    let mut s = faer::diag::Diag::<f64>::zeros(n);
    let par = par();
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

pub(crate) fn thin_svd<T: Elem>(a: ColMajor<T>, want_u: bool) -> Result<SvdParts> {
    let (n, d) = (a.nrows, a.ncols);
    let k = n.min(d);
    let m = MatRef::from_column_major_slice(&a.data, n, d);
    let mut v = Mat::<T>::zeros(d, k);
    let mut u = want_u.then(|| Mat::<T>::zeros(n, k));
    let mut s = faer::diag::Diag::<T>::zeros(k);
    let par = par();
    let thin = faer::linalg::svd::ComputeSvdVectors::Thin;
    let req = faer::linalg::svd::svd_scratch::<T>(
        n,
        d,
        if want_u {
            thin
        } else {
            faer::linalg::svd::ComputeSvdVectors::No
        },
        thin,
        par,
        Default::default(),
    );
    let mut buf = MemBuffer::new(req);
    faer::linalg::svd::svd(
        m,
        s.as_mut(),
        u.as_mut().map(|u| u.as_mut()),
        Some(v.as_mut()),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|e| Error::Model(format!("SVD did not converge: {e:?}")))?;
    Ok(SvdParts {
        s: s.column_vector().iter().map(|v| v.into_f64()).collect(),
        u: u.map(|u| from_faer(u.as_ref())),
        vt: from_faer(v.as_ref().transpose()),
    })
}

pub(crate) fn lu_solve(a: ColMajor<f64>, b: ColMajor<f64>) -> Result<ColMajor<f64>> {
    let n = a.nrows;
    let mut lu = Mat::from_fn(n, n, |i, j| a.data[j * n + i]);
    let mut fwd = vec![0usize; n];
    let mut bwd = vec![0usize; n];
    let par = par();
    let req = faer::linalg::lu::partial_pivoting::factor::lu_in_place_scratch::<usize, f64>(
        n,
        n,
        par,
        Default::default(),
    );
    let mut buf = MemBuffer::new(req);
    let (_, perm) = faer::linalg::lu::partial_pivoting::factor::lu_in_place(
        lu.as_mut(),
        &mut fwd,
        &mut bwd,
        par,
        MemStack::new(&mut buf),
        Default::default(),
    );
    if (0..n).any(|i| lu[(i, i)] == 0.0 || lu[(i, i)].is_nan()) {
        return Err(singular());
    }
    let k = b.ncols;
    let mut rhs = Mat::from_fn(n, k, |i, j| b.data[j * n + i]);
    let req =
        faer::linalg::lu::partial_pivoting::solve::solve_in_place_scratch::<usize, f64>(n, k, par);
    let mut buf = MemBuffer::new(req);
    faer::linalg::lu::partial_pivoting::solve::solve_in_place(
        lu.as_ref(),
        lu.as_ref(),
        perm,
        rhs.as_mut(),
        par,
        MemStack::new(&mut buf),
    );
    let mut data = Vec::with_capacity(n * k);
    for j in 0..k {
        data.extend((0..n).map(|i| rhs[(i, j)]));
    }
    Ok(ColMajor {
        data,
        nrows: n,
        ncols: k,
    })
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
    let req =
        faer::linalg::qr::no_pivoting::solve::solve_lstsq_in_place_scratch::<f64>(n, d, bs, 1, par);
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
