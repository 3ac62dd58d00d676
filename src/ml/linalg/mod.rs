//! Dense linear algebra for the models and for `svd` / `solve` / `lstsq`: symmetric
//! eigendecomposition (PCA's covariance path), thin SVD (PCA's full path, the SVD of a frame,
//! least squares), LU solves, least squares by QR (linear regression) and Gram products.
//!
//! The default backend is pure-Rust `faer`. Its decompositions run in parallel on the current
//! rayon pool (the one the fit or query runs on) with a fixed task split ([`par`]), so the
//! results do not depend on how many threads the pool has. With the cargo feature `lapack`,
//! the decompositions go to `ndarray-linalg` on the system OpenBLAS/LAPACK instead (SVD by
//! `gesdd`, as SciPy's default); the faer versions stay compiled so tests can check that both
//! backends agree. Matrix products (Gram matrices, the randomized solver's passes) are always
//! faer's: its SIMD kernels are dispatched at run time to the best instruction set the CPU has.

// With `lapack` on, only the `backends_agree` test calls into the faer backend; it stays
// compiled so that test can compare the two.
#[cfg_attr(all(feature = "lapack", not(test)), allow(dead_code))]
mod faer_backend;
#[cfg(feature = "lapack")]
mod lapack;

use faer::{Accum, MatRef, Par};
use ndarray::Array2;

use super::data::Elem;
use crate::error::{Error, Result};

/// How faer splits a decomposition: always as if for this many threads, so that the
/// operation order (and every bit of the result) is the same whatever the pool's size; the
/// tasks then run on however many threads the current rayon pool has.
const FAER_TASKS: usize = 4;

/// The parallelism handed to faer's decompositions (see [`FAER_TASKS`]).
pub(crate) fn par() -> Par {
    Par::rayon(FAER_TASKS)
}

/// What the `lapack` backend needs of an element type (nothing without the feature).
#[cfg(feature = "lapack")]
pub(crate) trait Backend:
    ndarray_linalg::Lapack + ndarray_linalg::Scalar<Real = Self>
{
}
/// What the `lapack` backend needs of an element type (nothing without the feature).
#[cfg(not(feature = "lapack"))]
pub(crate) trait Backend {}
impl Backend for f32 {}
impl Backend for f64 {}

/// A dense matrix stored column by column: the layout both backends work on, and the one a
/// frame's columns copy into without transposing.
#[derive(Clone, Debug)]
pub(crate) struct ColMajor<T> {
    pub data: Vec<T>,
    pub nrows: usize,
    pub ncols: usize,
}

impl<T: Copy> ColMajor<T> {
    /// Column `j`.
    pub(crate) fn col(&self, j: usize) -> &[T] {
        &self.data[j * self.nrows..(j + 1) * self.nrows]
    }

    /// Row-major `ndarray` copy, each value converted by `f`.
    pub(crate) fn to_array(&self, f: impl Fn(T) -> f64) -> Array2<f64> {
        Array2::from_shape_fn((self.nrows, self.ncols), |(i, j)| {
            f(self.data[j * self.nrows + i])
        })
    }
}

impl ColMajor<f64> {
    /// Column-major copy of an `ndarray` matrix.
    pub(crate) fn from_array(a: &Array2<f64>) -> Self {
        let (nrows, ncols) = a.dim();
        let mut data = Vec::with_capacity(nrows * ncols);
        for j in 0..ncols {
            data.extend(a.column(j).iter().copied());
        }
        Self { data, nrows, ncols }
    }
}

/// A thin SVD `A = U diag(s) Vt` of an n x d matrix: `s` descending (k = min(n, d) values),
/// `u` (n x k, when asked for) and `vt` (k x d), in `f64` whatever the input's precision.
#[derive(Clone, Debug)]
pub(crate) struct SvdParts {
    pub s: Vec<f64>,
    pub u: Option<Array2<f64>>,
    pub vt: Array2<f64>,
}

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

/// Thin SVD of `a`, computed in `a`'s precision; `U` only when `want_u`.
pub(crate) fn thin_svd<T: Elem>(a: ColMajor<T>, want_u: bool) -> Result<SvdParts> {
    if a.nrows == 0 || a.ncols == 0 {
        return Err(Error::Model("SVD of an empty matrix".into()));
    }
    #[cfg(feature = "lapack")]
    {
        lapack::thin_svd(a, want_u)
    }
    #[cfg(not(feature = "lapack"))]
    {
        faer_backend::thin_svd(a, want_u)
    }
}

/// `x` with `a x = b` for a square `a` (n x n) and `b` (n x k), by LU with partial pivoting;
/// an exactly singular `a` is an [`Error::Compute`], as NumPy's `LinAlgError`.
pub(crate) fn lu_solve(a: ColMajor<f64>, b: ColMajor<f64>) -> Result<ColMajor<f64>> {
    #[cfg(feature = "lapack")]
    {
        lapack::lu_solve(a, b)
    }
    #[cfg(not(feature = "lapack"))]
    {
        faer_backend::lu_solve(a, b)
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
/// `out` being d x d column-major. Used for the streaming covariance pass; always faer,
/// sequential (the pass itself runs chunks in parallel).
pub(crate) fn gram_add(out: &mut [f64], b: &[f64], rows: usize, d: usize) {
    if rows == 0 || d == 0 {
        return;
    }
    let bm = MatRef::from_column_major_slice(b, rows, d);
    let om = faer::MatMut::from_column_major_slice_mut(out, d, d);
    faer::linalg::matmul::matmul(om, Accum::Add, bm.transpose(), bm, 1.0, Par::Seq);
}

/// The R factor (p x p, upper triangular, column-major) of a QR decomposition of the
/// column-major `rows` x `p` matrix `a` (rows past `min(rows, p)` are zero). Used by the
/// streaming least-squares pass; always faer, sequential (the pass runs blocks in parallel).
pub(crate) fn qr_r(a: &[f64], rows: usize, p: usize) -> Vec<f64> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::qr::no_pivoting::factor;
    let mut r = vec![0.0; p * p];
    if rows == 0 || p == 0 {
        return r;
    }
    let mut m = faer::Mat::from_fn(rows, p, |i, j| a[j * rows + i]);
    let bs = factor::recommended_block_size::<f64>(rows, p);
    let mut coeff = faer::Mat::<f64>::zeros(bs, rows.min(p));
    let req = factor::qr_in_place_scratch::<f64>(rows, p, bs, Par::Seq, Default::default());
    let mut buf = MemBuffer::new(req);
    factor::qr_in_place(
        m.as_mut(),
        coeff.as_mut(),
        Par::Seq,
        MemStack::new(&mut buf),
        Default::default(),
    );
    for j in 0..p {
        for i in 0..=j.min(rows - 1) {
            r[j * p + i] = m[(i, j)];
        }
    }
    r
}

/// The smallest |R_jj| relative to the largest below which a QR factor counts as singular:
/// a few hundred ulps times the dimension, in the spirit of LAPACK's rank decisions.
fn rank_tol(n: usize, d: usize) -> f64 {
    (n.max(d) as f64) * f64::EPSILON * 16.0
}

/// Check the diagonal of a QR factor R for rank deficiency.
pub(crate) fn check_rank(diag: &[f64], n: usize, names: &[String]) -> Result<()> {
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

/// The error for a square system without a unique solution.
fn singular() -> Error {
    Error::Compute(
        "solve: the matrix is singular (an exactly zero pivot in its LU factorization)".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn cm(a: &Array2<f64>) -> ColMajor<f64> {
        ColMajor::from_array(a)
    }

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

    #[test]
    fn svd_reconstructs_and_orders() {
        let a = Array2::from_shape_fn((7, 4), |(i, j)| ((i * 5 + j * 3) % 7) as f64 - j as f64);
        let p = thin_svd(cm(&a), true).expect("svd");
        assert!(p.s.windows(2).all(|w| w[0] >= w[1]));
        let u = p.u.expect("u");
        let us = Array2::from_shape_fn(u.dim(), |(i, j)| u[[i, j]] * p.s[j]);
        let back = us.dot(&p.vt);
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        // f32 input: same values to f32 precision.
        let a32 = ColMajor {
            data: cm(&a).data.iter().map(|&v| v as f32).collect(),
            nrows: 7,
            ncols: 4,
        };
        let q = thin_svd(a32, false).expect("svd f32");
        for (x, y) in q.s.iter().zip(&p.s) {
            assert!((x - y).abs() < 1e-5 * p.s[0], "{x} vs {y}");
        }
    }

    #[test]
    fn lu_solve_and_singular() {
        let a = array![[3.0, 1.0], [1.0, 2.0]];
        let b = array![[9.0, 1.0], [8.0, 0.0]];
        let x = lu_solve(cm(&a), cm(&b)).expect("solve").to_array(|v| v);
        let back = a.dot(&x);
        for (p, q) in back.iter().zip(b.iter()) {
            assert!((p - q).abs() < 1e-12);
        }
        let s = array![[1.0, 2.0], [2.0, 4.0]];
        let e = lu_solve(cm(&s), cm(&b)).expect_err("singular");
        assert!(e.to_string().contains("singular"), "{e}");
    }

    #[test]
    fn decompositions_are_identical_for_any_thread_count() {
        // Large enough that faer's blocked, parallel code paths run.
        let a = Array2::from_shape_fn((300, 160), |(i, j)| {
            (((i * 7919 + j * 104_729) % 1000) as f64 / 500.0 - 1.0) * (1.0 + j as f64 * 0.01)
        });
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| {
                let svd = thin_svd(cm(&a), true).expect("svd");
                let g = a.t().dot(&a);
                let (vals, vecs) = sym_eigh(&g).expect("eigh");
                (svd.s, svd.u, svd.vt, vals, vecs)
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            assert!(one.0 == other.0 && one.1 == other.1 && one.2 == other.2);
            assert!(one.3 == other.3 && one.4 == other.4);
        }
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
        let s1 = faer_backend::thin_svd(cm(&a), true).expect("faer");
        let s2 = lapack::thin_svd(cm(&a), true).expect("lapack");
        for j in 0..5 {
            assert!((s1.s[j] - s2.s[j]).abs() < 1e-9 * s1.s[0]);
            let dot: f64 = (0..5).map(|i| s1.vt[[j, i]] * s2.vt[[j, i]]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-9);
        }
        let names: Vec<String> = (0..5).map(|j| format!("x{j}")).collect();
        let y: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let x1 = faer_backend::lstsq_qr(&a, &y, &names).expect("faer");
        let x2 = lapack::lstsq_qr(&a, &y, &names).expect("lapack");
        for j in 0..5 {
            assert!((x1[j] - x2[j]).abs() < 1e-9 * (1.0 + x1[j].abs()));
        }
        let sq = c.clone() + Array2::<f64>::eye(5);
        let rhs = Array2::from_shape_fn((5, 2), |(i, j)| (i + j) as f64);
        let p = faer_backend::lu_solve(cm(&sq), cm(&rhs)).expect("faer");
        let q = lapack::lu_solve(cm(&sq), cm(&rhs)).expect("lapack");
        for (a, b) in p.data.iter().zip(&q.data) {
            assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()));
        }
    }
}
