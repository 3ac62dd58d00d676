//! Principal component analysis with scikit-learn's semantics (`sklearn.decomposition.PCA`):
//! the data is centred; `n_components` is a count, a fraction of variance to keep, or all;
//! explained variance is `S² / (n - 1)`; component signs follow `svd_flip` (the largest
//! |loading| of each component is positive); `whiten` scales transformed values to unit
//! variance.
//!
//! Two solvers. `CovarianceEigh` makes one streaming pass over fixed row chunks, each adding
//! its `Xᵀ X` block and column sums (taken relative to the first row, a provisional mean that
//! keeps the later `Xᵀ X - n m mᵀ` subtraction from cancelling), merged in chunk order; then a
//! d x d symmetric eigendecomposition. `Full` takes a thin SVD of the centred n x d matrix.
//! `Auto` picks `CovarianceEigh` when d <= 1000 and n >= 10 d, else `Full` (scikit-learn's auto
//! would choose its randomized solver for large, few-component problems; this crate has no
//! randomized solver, so it stays exact).

use std::fmt;

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use super::data::{Features, CHUNK};
use super::kmeans::sum_exprs;
use super::linalg;
use crate::error::{Error, Result};
use crate::expr::{col, lit, Expr};
use crate::frame::{Column, DataFrame};
use crate::plan::LazyFrame;

/// How many components to keep.
#[derive(Clone, Debug, PartialEq)]
pub enum NComponents {
    /// Exactly this many.
    Count(usize),
    /// The fewest whose explained variance ratios add up to more than this fraction (0..1).
    Variance(f64),
    /// min(rows, features).
    All,
}

/// Which decomposition computes the components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcaSolver {
    /// `CovarianceEigh` when features <= 1000 and rows >= 10 x features, else `Full`.
    Auto,
    /// Eigendecomposition of the covariance matrix from one streaming pass.
    CovarianceEigh,
    /// Thin SVD of the centred data.
    Full,
}

impl PcaSolver {
    fn name(self) -> &'static str {
        match self {
            PcaSolver::Auto => "auto",
            PcaSolver::CovarianceEigh => "covariance_eigh",
            PcaSolver::Full => "full",
        }
    }
}

/// PCA settings: `Pca::new(2)`, `Pca::variance(0.95).whiten(true)`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("a" => [1.0, 2.0, 3.0, 4.0], "b" => [2.0, 4.1, 5.9, 8.0])?;
/// let model = df.lazy().pca(Pca::new(1)).fit()?;
/// assert!(model.explained_variance_ratio[0] > 0.99);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Components to keep.
    pub n_components: NComponents,
    /// Scale transformed values by `1 / sqrt(explained variance)`.
    pub whiten: bool,
    /// The decomposition used.
    pub solver: PcaSolver,
    /// Feature columns; `None` uses every numeric column of the input.
    pub features: Option<Vec<String>>,
}

impl Pca {
    /// Keep `n` components.
    pub fn new(n: usize) -> Self {
        Self {
            n_components: NComponents::Count(n),
            whiten: false,
            solver: PcaSolver::Auto,
            features: None,
        }
    }
    /// Keep the fewest components explaining more than `fraction` (0..1) of the variance.
    pub fn variance(fraction: f64) -> Self {
        Self {
            n_components: NComponents::Variance(fraction),
            ..Self::new(0)
        }
    }
    /// Keep all min(rows, features) components.
    pub fn all() -> Self {
        Self {
            n_components: NComponents::All,
            ..Self::new(0)
        }
    }
    /// Whiten transformed values.
    pub fn whiten(mut self, whiten: bool) -> Self {
        self.whiten = whiten;
        self
    }
    /// Choose the solver.
    pub fn solver(mut self, solver: PcaSolver) -> Self {
        self.solver = solver;
        self
    }
    /// Decompose these columns instead of every numeric column.
    pub fn features<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.features = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Fit on a row-major matrix (rows are samples), features named `x0, x1, ...`.
    pub fn fit_ndarray(&self, x: &Array2<f64>) -> Result<PcaModel> {
        self.fit_features(&Features::from_ndarray(x, "pca")?)
    }

    /// The plan line: `PCA n_components=2 features=[a, b]`.
    pub(crate) fn node_text(&self, features: &[String]) -> String {
        let n = match &self.n_components {
            NComponents::Count(k) => k.to_string(),
            NComponents::Variance(f) => format!("variance({f})"),
            NComponents::All => "all".into(),
        };
        let mut s = format!("PCA n_components={n} features=[{}]", features.join(", "));
        if self.whiten {
            s.push_str(" whiten=true");
        }
        if self.solver != PcaSolver::Auto {
            s.push_str(&format!(" solver={}", self.solver.name()));
        }
        s
    }

    fn validate(&self, n: usize, d: usize) -> Result<()> {
        if n < 2 {
            return Err(Error::Model(format!("pca: needs at least 2 rows, got {n}")));
        }
        if d == 0 {
            return Err(Error::Model("pca: no feature columns".into()));
        }
        match self.n_components {
            NComponents::Count(k) if k == 0 || k > n.min(d) => Err(Error::Model(format!(
                "pca: n_components = {k} must be between 1 and min(rows, features) = {}",
                n.min(d)
            ))),
            NComponents::Variance(f) if f.is_nan() || f <= 0.0 || f >= 1.0 => Err(Error::Model(
                format!("pca: a variance fraction must be strictly between 0 and 1, got {f}"),
            )),
            _ => Ok(()),
        }
    }

    /// Fit on checked feature columns; runs on the current rayon pool.
    pub(crate) fn fit_features(&self, f: &Features) -> Result<PcaModel> {
        let (n, d) = (f.n, f.d());
        self.validate(n, d)?;
        let solver = match self.solver {
            PcaSolver::Auto if d <= 1000 && n >= 10 * d => PcaSolver::CovarianceEigh,
            PcaSolver::Auto => PcaSolver::Full,
            s => s,
        };
        let (mean, mut ev, mut vt) = match solver {
            PcaSolver::CovarianceEigh => covariance_eigh(f)?,
            _ => full_svd(f)?,
        };
        svd_flip_rows(&mut vt);
        let total: f64 = ev.iter().sum();
        let ratio: Vec<f64> = ev.iter().map(|v| v / total).collect();
        let k = match self.n_components {
            NComponents::Count(k) => k,
            NComponents::All => n.min(d),
            NComponents::Variance(frac) => {
                // numpy.searchsorted(cumsum, frac, side="right") + 1
                let mut acc = 0.0;
                let below = ratio
                    .iter()
                    .take_while(|r| {
                        acc += *r;
                        acc <= frac
                    })
                    .count();
                (below + 1).min(ratio.len())
            }
        }
        .min(ev.len());
        ev.truncate(k);
        let sv: Vec<f64> = ev.iter().map(|v| (v * (n as f64 - 1.0)).sqrt()).collect();
        Ok(PcaModel {
            features: f.names.clone(),
            components: vt.slice(ndarray::s![..k, ..]).to_owned(),
            explained_variance: Array1::from(ev),
            explained_variance_ratio: Array1::from(ratio[..k].to_vec()),
            singular_values: Array1::from(sv),
            mean: Array1::from(mean),
            n_samples: n,
            solver,
            whiten: self.whiten,
        })
    }
}

thread_local! {
    /// The covariance pass's per-thread block of shifted values (column-major, CHUNK x d).
    static SCRATCH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The covariance path: `(mean, eigenvalues descending clipped at 0, eigenvectors as rows)`.
fn covariance_eigh(f: &Features) -> Result<(Vec<f64>, Vec<f64>, Array2<f64>)> {
    let (n, d) = (f.n, f.d());
    // Provisional mean: the first row. Sums of (x - shift) stay small, so the correction
    // n m mᵀ below subtracts little and loses little.
    let shift: Vec<f64> = (0..d).map(|j| f.col(j)[0]).collect();
    let parts: Vec<(Vec<f64>, Vec<f64>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let rows = hi - lo;
            let mut sums = vec![0.0; d];
            let mut g = vec![0.0; d * d];
            // One scratch block per worker thread: rayon's `map_init` would allocate one per
            // split, and blocks this size come from mmap, paying page faults every time.
            SCRATCH.with(|cell| {
                let mut buf = cell.borrow_mut();
                buf.clear();
                buf.resize(rows * d, 0.0);
                for j in 0..d {
                    let s = shift[j];
                    let dst = &mut buf[j * rows..(j + 1) * rows];
                    for (o, v) in dst.iter_mut().zip(&f.col(j)[lo..hi]) {
                        *o = v - s;
                    }
                    sums[j] = super::data::sum4(dst);
                }
                linalg::gram_add(&mut g, &buf, rows, d);
            });
            (g, sums)
        })
        .collect();
    let mut g = vec![0.0; d * d];
    let mut s = vec![0.0; d];
    for (pg, ps) in parts {
        for (t, v) in g.iter_mut().zip(pg) {
            *t += v;
        }
        for (t, v) in s.iter_mut().zip(ps) {
            *t += v;
        }
    }
    f.check_finite(&s, "pca")?;
    let nf = n as f64;
    let m: Vec<f64> = s.iter().map(|v| v / nf).collect();
    let cov = Array2::from_shape_fn((d, d), |(i, j)| {
        // Column-major g; use the lower triangle (the eigensolver reads only that).
        (g[j * d + i] - nf * m[i] * m[j]) / (nf - 1.0)
    });
    let (vals, vecs) = linalg::sym_eigh(&cov)?;
    let ev: Vec<f64> = vals.iter().rev().map(|v| v.max(0.0)).collect();
    let vt = Array2::from_shape_fn((d, d), |(r, c)| vecs[[c, d - 1 - r]]);
    let mean = shift.iter().zip(&m).map(|(a, b)| a + b).collect();
    Ok((mean, ev, vt))
}

/// The SVD path on the explicitly centred matrix.
fn full_svd(f: &Features) -> Result<(Vec<f64>, Vec<f64>, Array2<f64>)> {
    let (n, d) = (f.n, f.d());
    let mean = f.means();
    f.check_finite(&mean, "pca")?;
    let xc = Array2::from_shape_vec((n, d), f.row_major_minus(&mean).0)
        .map_err(|e| Error::Internal(format!("centred matrix shape: {e}")))?;
    let (s, vt) = linalg::thin_svd(&xc)?;
    let ev = s.iter().map(|v| v * v / (n as f64 - 1.0)).collect();
    Ok((mean, ev, vt))
}

/// scikit-learn's `svd_flip(u_based_decision=False)`: make the largest |entry| of each row
/// positive (the first one when several are equally large).
fn svd_flip_rows(vt: &mut Array2<f64>) {
    for mut row in vt.rows_mut() {
        let mut best = 0;
        for (i, v) in row.iter().enumerate() {
            if v.abs() > row[best].abs() {
                best = i;
            }
        }
        if row[best] < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
}

/// A fitted PCA.
#[derive(Clone, Debug)]
pub struct PcaModel {
    /// Feature columns, in the order of the component columns.
    pub features: Vec<String>,
    /// Principal axes, components x features (rows have unit length).
    pub components: Array2<f64>,
    /// Variance along each component, `S² / (n - 1)`.
    pub explained_variance: Array1<f64>,
    /// Fraction of the total variance along each component.
    pub explained_variance_ratio: Array1<f64>,
    /// Singular values of the centred data for the kept components.
    pub singular_values: Array1<f64>,
    /// Feature means subtracted before projecting.
    pub mean: Array1<f64>,
    /// Training rows.
    pub n_samples: usize,
    /// The solver that ran (never `Auto`).
    pub solver: PcaSolver,
    /// Whether `transform` whitens.
    pub whiten: bool,
}

impl PcaModel {
    /// Number of kept components.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// The expressions `pc1..pck`: `sum_f (col(f) - mean_f) * component_jf`, divided by
    /// `sqrt(explained_variance_j)` when whitening.
    pub fn component_exprs(&self) -> Vec<Expr> {
        (0..self.n_components())
            .map(|j| {
                let terms = self.features.iter().enumerate().map(|(f, name)| {
                    (col(name.as_str()) - lit(self.mean[f])) * lit(self.components[[j, f]])
                });
                let e = sum_exprs(terms);
                let e = if self.whiten {
                    e / lit(self.explained_variance[j].sqrt())
                } else {
                    e
                };
                e.alias(format!("pc{}", j + 1))
            })
            .collect()
    }

    /// Project new data lazily: adds columns `pc1..pck` (fused with the rest of the query).
    pub fn transform(&self, lf: LazyFrame) -> LazyFrame {
        lf.with_columns(self.component_exprs())
    }

    /// The components as a table: `component` (pc1..), `explained_variance`,
    /// `explained_variance_ratio`, then one loading column per feature.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let k = self.n_components();
        let mut cols = vec![
            Column::new(
                "component",
                (1..=k).map(|j| format!("pc{j}")).collect::<Vec<String>>(),
            ),
            Column::new("explained_variance", self.explained_variance.to_vec()),
            Column::new(
                "explained_variance_ratio",
                self.explained_variance_ratio.to_vec(),
            ),
        ];
        for (f, name) in self.features.iter().enumerate() {
            cols.push(Column::new(
                name.as_str(),
                self.components.column(f).to_vec(),
            ));
        }
        DataFrame::new(cols)
    }

    /// A human-readable summary (what the CLI prints).
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PcaModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cum: f64 = self.explained_variance_ratio.sum();
        writeln!(
            f,
            "PCA: {} of {} components, {} rows, solver={}, whiten={}, cumulative explained variance ratio={}",
            self.n_components(),
            self.features.len(),
            self.n_samples,
            self.solver.name(),
            self.whiten,
            cum
        )?;
        match self.to_dataframe() {
            Ok(df) => write!(f, "components:\n{df}"),
            Err(e) => write!(f, "(component table unavailable: {e})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Array2<f64> {
        Array2::from_shape_fn((60, 3), |(i, j)| {
            let t = i as f64 * 0.37;
            match j {
                0 => t.sin() * 3.0 + 10.0,
                1 => t.cos() + 0.5 * t.sin(),
                _ => (i % 7) as f64 * 0.1 - 2.0,
            }
        })
    }

    #[test]
    fn solvers_agree() {
        let x = data();
        let a = Pca::all()
            .solver(PcaSolver::CovarianceEigh)
            .fit_ndarray(&x)
            .expect("eigh");
        let b = Pca::all()
            .solver(PcaSolver::Full)
            .fit_ndarray(&x)
            .expect("svd");
        for (p, q) in a.components.iter().zip(b.components.iter()) {
            assert!((p - q).abs() < 1e-10, "{p} vs {q}");
        }
        for (p, q) in a.explained_variance.iter().zip(b.explained_variance.iter()) {
            assert!((p - q).abs() < 1e-10 * (1.0 + q), "{p} vs {q}");
        }
        assert!((a.explained_variance_ratio.sum() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn variance_fraction_picks_count() {
        let x = data();
        let all = Pca::all().fit_ndarray(&x).expect("fit");
        let r = &all.explained_variance_ratio;
        let m = Pca::variance(r[0] + 1e-9).fit_ndarray(&x).expect("fit");
        assert_eq!(m.n_components(), 2);
        let m = Pca::variance(r[0] * 0.5).fit_ndarray(&x).expect("fit");
        assert_eq!(m.n_components(), 1);
    }

    #[test]
    fn bad_n_components() {
        let x = data();
        assert!(matches!(Pca::new(4).fit_ndarray(&x), Err(Error::Model(_))));
        assert!(matches!(
            Pca::variance(1.0).fit_ndarray(&x),
            Err(Error::Model(_))
        ));
    }
}
