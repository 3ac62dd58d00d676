//! Randomized truncated SVD of the centred feature matrix (Halko, Martinsson & Tropp, "Finding
//! structure with randomness", 2011: the randomized range finder with power iterations,
//! algorithm 4.4), step for step as scikit-learn's `randomized_svd`:
//!
//! 1. `Q` = a (columns of M) x `l` standard normal matrix, `l = n_components + n_oversamples`
//!    (at most min(n, d)), drawn from NumPy's `RandomState(seed).normal` stream
//!    ([`NumpyNormal`]), so the same seed starts from scikit-learn's matrix;
//! 2. `n_iter` times: `Q = normalize(M Q)`, `Q = normalize(Mᵀ Q)` with the power-iteration
//!    normalizer (LU with partial pivoting by default, QR, or none);
//! 3. `Q` = an orthonormal basis of `M Q`; `B = Qᵀ M`; the SVD of the small `B` gives the
//!    singular values and (through `Q` when transposed) the right singular vectors.
//!
//! With the LU normalizer (the default) or none, a power iteration's two products are one pass
//! over the data ([`CentredProducts::mul_tmul`]): `Mᵀ (P L)` is computed as `(Mᵀ Y) U⁻¹` from
//! `Y = M Q = (P L) U`, equal in exact arithmetic (the last digits differ from the two-pass
//! order; a zero pivot takes the second pass on `P L`).
//!
//! `M` is the centred matrix, transposed when it has fewer rows than columns (as scikit-learn
//! does, so the random matrix has the smaller dimension's rows). Every product with `M` is a
//! pass over the data ([`Cols::centred_mul`] / [`Cols::centred_tmul`]: the input is read in
//! place, never copied, and an `f32` input is multiplied in `f32`); everything else works on
//! `l`-column matrices, at most two n x l and two d x l of them at once
//! ([`sketch_bytes`], reserved from the fit's budget before the first product). With the same
//! seed as scikit-learn's `random_state`, the start is the same matrix and the results agree
//! to rounding (the products' order of summation differs); with enough power iterations any
//! start converges to the exact decomposition.

use super::data::{Cols, Elem};
use super::linalg::{self, ColMajor};
use super::numpy_random::NumpyNormal;
use super::pca::PowerIterationNormalizer;
use crate::error::Result;
use crate::memory::Reservation;

/// The randomized solver's settings (see [`super::Pca`]'s builder methods).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RandomizedOptions {
    pub n_components: usize,
    pub n_oversamples: usize,
    pub n_iter: Option<usize>,
    pub normalizer: PowerIterationNormalizer,
    pub seed: u64,
}

/// The products of the centred n x d feature matrix the solver needs: every call is a pass
/// over the data (in memory, or read again chunk by chunk: `super::pca_stream`).
pub(crate) trait CentredProducts {
    /// Rows.
    fn n(&self) -> usize;
    /// Features.
    fn d(&self) -> usize;
    /// Whether the data are `f32` (the random start is rounded to it, as scikit-learn does).
    fn is_f32(&self) -> bool;
    /// `Xc Q` for a d x l `q`: n x l.
    fn mul(&self, mean: &[f64], q: &ColMajor<f64>) -> Result<ColMajor<f64>>;
    /// `Xcᵀ Y` for an n x l `y`: d x l.
    fn tmul(&self, mean: &[f64], y: &ColMajor<f64>) -> Result<ColMajor<f64>>;
    /// `Y = Xc Q` and `Xcᵀ Y`, in one pass over the data where the store can (the
    /// default makes the two passes).
    fn mul_tmul(&self, mean: &[f64], q: &ColMajor<f64>) -> Result<(ColMajor<f64>, ColMajor<f64>)> {
        let y = self.mul(mean, q)?;
        let w = self.tmul(mean, &y)?;
        Ok((y, w))
    }
}

impl<T: Elem> CentredProducts for Cols<'_, T> {
    fn n(&self) -> usize {
        self.n
    }
    fn d(&self) -> usize {
        Cols::d(self)
    }
    fn is_f32(&self) -> bool {
        std::mem::size_of::<T>() == 4
    }
    fn mul(&self, mean: &[f64], q: &ColMajor<f64>) -> Result<ColMajor<f64>> {
        Ok(self.centred_mul(mean, q))
    }
    fn tmul(&self, mean: &[f64], y: &ColMajor<f64>) -> Result<ColMajor<f64>> {
        Ok(self.centred_tmul(mean, y))
    }
    fn mul_tmul(&self, mean: &[f64], q: &ColMajor<f64>) -> Result<(ColMajor<f64>, ColMajor<f64>)> {
        Ok(self.centred_mul_tmul(mean, q))
    }
}

/// The sketch width `l` of an n x d fit: `n_components + n_oversamples`, at most min(n, d).
fn sketch_width(n: usize, d: usize, o: &RandomizedOptions) -> usize {
    (o.n_components + o.n_oversamples).min(n.min(d))
}

/// Bytes the range finder holds at most for an n x d fit: a product and its normalized copy,
/// n x l and d x l each, in `f64`.
pub(crate) fn sketch_bytes(n: usize, d: usize, o: &RandomizedOptions) -> usize {
    2 * (n + d) * sketch_width(n, d, o) * std::mem::size_of::<f64>()
}

/// The top singular values and right singular vectors (k x d, rows) of the centred matrix;
/// the sketches are reserved from `budget` ([`sketch_bytes`]) for the duration.
pub(crate) fn randomized_svd(
    c: &dyn CentredProducts,
    mean: &[f64],
    o: &RandomizedOptions,
    budget: &Reservation,
) -> Result<(Vec<f64>, ndarray::Array2<f64>)> {
    let (n, d) = (c.n(), c.d());
    let k = o.n_components;
    let l = sketch_width(n, d, o);
    budget.try_grow(sketch_bytes(n, d, o))?;
    // scikit-learn: "7 was found a good compromise for PCA".
    let n_iter = o.n_iter.unwrap_or(if (k as f64) < 0.1 * n.min(d) as f64 {
        7
    } else {
        4
    });
    let normalizer = match o.normalizer {
        PowerIterationNormalizer::Auto if n_iter <= 2 => PowerIterationNormalizer::None,
        PowerIterationNormalizer::Auto => PowerIterationNormalizer::Lu,
        other => other,
    };
    let transpose = n < d;
    // Products with M and with Mᵀ, M being the centred matrix or its transpose.
    let m_mul = |q: &ColMajor<f64>| {
        if transpose {
            c.tmul(mean, q)
        } else {
            c.mul(mean, q)
        }
    };
    let mt_mul = |q: &ColMajor<f64>| {
        if transpose {
            c.mul(mean, q)
        } else {
            c.tmul(mean, q)
        }
    };
    let mut q = normal_matrix(o.seed, if transpose { n } else { d }, l, c.is_f32());
    for _ in 0..n_iter {
        q = match normalizer {
            // One pass for both products (`Mᵀ M Q`): the LU factor of `Y = M Q` is `P L = Y
            // U⁻¹`, so `Mᵀ (P L) = (Mᵀ Y) U⁻¹`, solved after the pass. Only a zero pivot (a
            // sketch of lower rank) takes the second pass on `P L` itself.
            PowerIterationNormalizer::Lu | PowerIterationNormalizer::None if !transpose => {
                let (y, w) = c.mul_tmul(mean, &q)?;
                if normalizer == PowerIterationNormalizer::None {
                    w
                } else {
                    let (pl, u) = lu_factors(y);
                    match solve_upper_right(w, &u) {
                        Some(x) => lu_permuted_l(x),
                        None => lu_permuted_l(mt_mul(&pl)?),
                    }
                }
            }
            _ => {
                let y = normalize(m_mul(&q)?, normalizer);
                normalize(mt_mul(&y)?, normalizer)
            }
        };
    }
    let q = orthonormal(m_mul(&q)?);
    // Bᵀ = Mᵀ Q (columns of M x l): its thin SVD is B's, with U and V swapped.
    let svd = linalg::thin_svd(mt_mul(&q)?, !transpose)?;
    let k = k.min(svd.s.len());
    let vt = if transpose {
        // Right singular vectors of the data = Q times B's left ones (Bᵀ's right ones).
        let qa = q.to_array(|v| v);
        let u = qa.dot(&svd.vt.t());
        u.t().slice(ndarray::s![..k, ..]).to_owned()
    } else {
        let u = svd
            .u
            .ok_or_else(|| crate::error::Error::Internal("SVD without U".into()))?;
        u.t().slice(ndarray::s![..k, ..]).to_owned()
    };
    budget.shrink(sketch_bytes(n, d, o));
    Ok((svd.s[..k].to_vec(), vt))
}

/// scikit-learn's random start: `RandomState(seed).normal(size=(rows, cols))`, drawn row by
/// row (NumPy's C order) into a column-major matrix, and rounded to `f32` when the data are
/// `f32` (scikit-learn casts the start to the data's type).
fn normal_matrix(seed: u64, rows: usize, cols: usize, f32_data: bool) -> ColMajor<f64> {
    let mut stream = NumpyNormal::new(seed);
    let mut data = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let v = stream.next_normal();
            data[c * rows + r] = if f32_data { f64::from(v as f32) } else { v };
        }
    }
    ColMajor {
        data,
        nrows: rows,
        ncols: cols,
    }
}

/// One power-iteration normalization of a tall `m x l` matrix.
fn normalize(y: ColMajor<f64>, how: PowerIterationNormalizer) -> ColMajor<f64> {
    match how {
        PowerIterationNormalizer::Lu => lu_permuted_l(y),
        PowerIterationNormalizer::Qr => orthonormal(y),
        PowerIterationNormalizer::None | PowerIterationNormalizer::Auto => y,
    }
}

/// SciPy's `lu(y, permute_l=True)[0]`: `P L` from LU with partial pivoting of the tall `y`
/// (m x l, m >= l), a well-conditioned basis of `y`'s column space that is cheaper than QR.
/// A zero pivot column (rank deficiency) is left as zeros below the diagonal.
fn lu_permuted_l(y: ColMajor<f64>) -> ColMajor<f64> {
    lu_factors(y).0
}

/// `X = W U⁻¹` for an upper-triangular l x l `u` (column-major), by columns: `None` when a
/// diagonal entry is zero.
fn solve_upper_right(mut w: ColMajor<f64>, u: &ColMajor<f64>) -> Option<ColMajor<f64>> {
    let (m, l) = (w.nrows, w.ncols);
    if u.nrows != l || u.ncols != l {
        return None;
    }
    for c in 0..l {
        let diag = u.data[c * l + c];
        if diag == 0.0 {
            return None;
        }
        let (done, rest) = w.data.split_at_mut(c * m);
        let col = &mut rest[..m];
        for j in 0..c {
            let f = u.data[c * l + j];
            if f != 0.0 {
                for (v, x) in col.iter_mut().zip(&done[j * m..(j + 1) * m]) {
                    *v -= f * x;
                }
            }
        }
        col.iter_mut().for_each(|v| *v /= diag);
    }
    Some(w)
}

/// LU with partial pivoting of the tall `y` (m x l): `P L` as [`lu_permuted_l`] gives it, and
/// `U` (min(m, l) x l, column-major, upper triangular), so that `y = (P L) U`.
fn lu_factors(mut y: ColMajor<f64>) -> (ColMajor<f64>, ColMajor<f64>) {
    let (m, l) = (y.nrows, y.ncols);
    let r = m.min(l);
    // `rows[i]`: which original row sits at position i after the swaps.
    let mut rows: Vec<usize> = (0..m).collect();
    let a = &mut y.data;
    for j in 0..r {
        let col = &a[j * m..(j + 1) * m];
        let mut p = j;
        for i in j + 1..m {
            if col[i].abs() > col[p].abs() {
                p = i;
            }
        }
        if p != j {
            for c in 0..l {
                a.swap(c * m + j, c * m + p);
            }
            rows.swap(j, p);
        }
        let pivot = a[j * m + j];
        if pivot == 0.0 {
            continue;
        }
        for i in j + 1..m {
            a[j * m + i] /= pivot;
        }
        for c in j + 1..l {
            let f = a[c * m + j];
            if f != 0.0 {
                for i in j + 1..m {
                    a[c * m + i] -= f * a[j * m + i];
                }
            }
        }
    }
    // L: unit lower trapezoidal m x r, rows put back in their original order.
    let mut out = vec![0.0; m * r];
    for j in 0..r {
        for i in j..m {
            let v = if i == j { 1.0 } else { a[j * m + i] };
            out[j * m + rows[i]] = v;
        }
    }
    // U: the eliminated rows' upper triangle.
    let mut u = vec![0.0; r * l];
    for c in 0..l {
        for i in 0..=c.min(r.saturating_sub(1)) {
            if i < r {
                u[c * r + i] = a[c * m + i];
            }
        }
    }
    (
        ColMajor {
            data: out,
            nrows: m,
            ncols: r,
        },
        ColMajor {
            data: u,
            nrows: r,
            ncols: l,
        },
    )
}

/// An orthonormal basis of the columns of `y` (m x l): classical Gram-Schmidt run twice per
/// column ("CGS2", as accurate as Householder QR for the basis). A column that vanishes
/// (rank deficiency) becomes zero.
fn orthonormal(mut y: ColMajor<f64>) -> ColMajor<f64> {
    let (m, l) = (y.nrows, y.ncols);
    for j in 0..l {
        let scale: f64 = y.col(j).iter().map(|v| v * v).sum::<f64>().sqrt();
        for _ in 0..2 {
            for p in 0..j {
                let dot: f64 = y.col(p).iter().zip(y.col(j)).map(|(a, b)| a * b).sum();
                let (done, rest) = y.data.split_at_mut(j * m);
                for (v, q) in rest[..m].iter_mut().zip(&done[p * m..(p + 1) * m]) {
                    *v -= dot * q;
                }
            }
        }
        let norm: f64 = y.col(j).iter().map(|v| v * v).sum::<f64>().sqrt();
        let col = &mut y.data[j * m..(j + 1) * m];
        if norm > scale * 1e-12 && norm > 0.0 {
            col.iter_mut().for_each(|v| *v /= norm);
        } else {
            col.iter_mut().for_each(|v| *v = 0.0);
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat(rows: usize, cols: usize, f: impl Fn(usize, usize) -> f64) -> ColMajor<f64> {
        let mut data = Vec::with_capacity(rows * cols);
        for j in 0..cols {
            data.extend((0..rows).map(|i| f(i, j)));
        }
        ColMajor {
            data,
            nrows: rows,
            ncols: cols,
        }
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn orthonormal_basis() {
        let y = mat(50, 4, |i, j| ((i * (j + 3)) % 7) as f64 + j as f64);
        let q = orthonormal(y);
        for a in 0..4 {
            for b in 0..4 {
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot(q.col(a), q.col(b)) - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn lu_spans_the_same_space_as_its_input() {
        let y = mat(30, 3, |i, j| {
            ((i * 7 + j * 5) % 11) as f64 - 5.0 + (i * j) as f64 * 0.1
        });
        let pl = lu_permuted_l(y.clone());
        // Each column of y lies in the span of P L: the residual after projecting vanishes.
        let basis = orthonormal(pl.clone());
        for j in 0..3 {
            let mut r = y.col(j).to_vec();
            for p in 0..3 {
                let c = dot(basis.col(p), &r);
                for (v, q) in r.iter_mut().zip(basis.col(p)) {
                    *v -= c * q;
                }
            }
            assert!(r.iter().all(|v| v.abs() < 1e-9), "{r:?}");
        }
        // Unit diagonal on the pivot rows, every entry at most 1 in magnitude (partial pivoting).
        assert!(pl.data.iter().all(|v| v.abs() <= 1.0 + 1e-15));
    }

    #[test]
    fn lu_factors_multiply_back_and_solve_the_deferred_normalization() {
        let y = mat(40, 4, |i, j| {
            ((i * 13 + j * 7) % 17) as f64 - 8.0 + (i * j) as f64 * 0.01
        });
        let (pl, u) = lu_factors(y.clone());
        let (m, l) = (40, 4);
        for i in 0..m {
            for c in 0..l {
                let v: f64 = (0..l).map(|j| pl.data[j * m + i] * u.data[c * l + j]).sum();
                assert!(
                    (v - y.data[c * m + i]).abs() < 1e-12,
                    "{v} vs {}",
                    y.data[c * m + i]
                );
            }
        }
        // (W) U⁻¹ with W = Y gives P L back.
        let x = solve_upper_right(y, &u).expect("full rank");
        for (a, b) in x.data.iter().zip(&pl.data) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // A zero pivot has no solve: the fit takes the second pass instead.
        let flat = mat(5, 2, |i, _| i as f64);
        assert!(solve_upper_right(flat.clone(), &lu_factors(flat).1).is_none());
    }

    /// `RandomState(12345).normal(size=(2, 3))` is drawn in C order: row 0 first.
    #[test]
    fn the_start_is_numpys_matrix_in_c_order() {
        let m = normal_matrix(12345, 2, 3, false);
        let want = [
            -0.20470765948471295,
            -0.55573030434749,
            0.47894333805754824,
            1.9657805725027142,
            -0.5194387150567381,
            1.3934058329729904,
        ];
        assert_eq!(m.data, want);
        let rounded = normal_matrix(12345, 2, 3, true);
        let want32: Vec<f64> = want.iter().map(|&v| f64::from(v as f32)).collect();
        assert_eq!(rounded.data, want32);
    }
}
