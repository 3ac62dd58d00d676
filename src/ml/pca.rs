//! Principal component analysis with scikit-learn's semantics (`sklearn.decomposition.PCA`):
//! the data is centred; `n_components` is a count, a fraction of variance to keep, or all;
//! explained variance is `S² / (n - 1)`; component signs follow `svd_flip` (the largest
//! |loading| of each component is positive); `whiten` scales transformed values to unit
//! variance.
//!
//! Three solvers, picked by `Auto` with scikit-learn's rule: `CovarianceEigh` for many rows and
//! few features (d <= 1000 and n >= 10 d), `Full` when the matrix is small (at most 500 rows
//! and columns), `Randomized` for a component count below 80% of min(n, d), `Full` otherwise.
//!
//! - `CovarianceEigh` makes one streaming pass over fixed row blocks, each giving its count,
//!   means and centred `Xᵀ X` ([`super::moments::Moments`]), merged in block order with Chan's
//!   formula; then a d x d symmetric eigendecomposition. A lazy fit makes the same pass over
//!   its input's morsels as they stream (`super::stream`), never holding the input.
//! - `Full` takes a thin SVD of the centred n x d matrix (one copy of it, in the input's
//!   precision), on faer's parallel SVD.
//! - `Randomized` is Halko et al.'s randomized SVD ([`super::randomized`]): a fixed number of
//!   passes over the data in place, no copy of it; its n x l sketches are reserved from the
//!   fit's budget. A lazy fit whose input is over the memory budget makes the same passes
//!   reading the input again chunk by chunk (or from a file it spilled once), with the same
//!   bits (`super::pca_stream`).
//!
//! Float32 input is never widened to a copy in `f64`: the covariance pass converts a block at
//! a time and accumulates in `f64`; the randomized passes multiply in `f32` block by block and
//! add the blocks in `f64`; the full SVD runs in `f32`, as scikit-learn's does.

use ndarray::{Array1, Array2};

use super::data::{with_cols, Cols, Elem, Features};
use super::linalg;
use super::moments::{stats_of, Moments};
pub use super::pca_model::PcaModel;
use super::randomized::{randomized_svd, CentredProducts, RandomizedOptions};
use crate::error::{Error, Result};
use crate::memory::{MemoryPool, Reservation};

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

/// Which decomposition computes the components (scikit-learn's `svd_solver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcaSolver {
    /// scikit-learn's rule (see the module docs).
    Auto,
    /// Eigendecomposition of the covariance matrix from one streaming pass.
    CovarianceEigh,
    /// Thin SVD of the centred data.
    Full,
    /// Randomized truncated SVD (Halko et al.); needs a component count.
    Randomized,
}

impl PcaSolver {
    /// scikit-learn's name for the solver.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PcaSolver::Auto => "auto",
            PcaSolver::CovarianceEigh => "covariance_eigh",
            PcaSolver::Full => "full",
            PcaSolver::Randomized => "randomized",
        }
    }
}

/// How the randomized solver re-normalizes its basis between power iterations
/// (scikit-learn's `power_iteration_normalizer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerIterationNormalizer {
    /// `None` for at most 2 iterations, else `Lu`.
    Auto,
    /// QR decomposition (the most stable, the slowest).
    Qr,
    /// LU decomposition with partial pivoting.
    Lu,
    /// No normalization (fastest; unstable for many iterations).
    None,
}

impl PowerIterationNormalizer {
    fn name(self) -> &'static str {
        match self {
            PowerIterationNormalizer::Auto => "auto",
            PowerIterationNormalizer::Qr => "QR",
            PowerIterationNormalizer::Lu => "LU",
            PowerIterationNormalizer::None => "none",
        }
    }
}

/// PCA settings: `Pca::new(2)`, `Pca::variance(0.95).whiten(true)`,
/// `Pca::new(3).svd_solver(PcaSolver::Randomized).seed(7)`.
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
    /// Randomized solver: extra random vectors beyond `n_components` (default 10).
    pub n_oversamples: usize,
    /// Randomized solver: power iterations; `None` is scikit-learn's `auto` (7 when
    /// `n_components < 0.1 min(n, d)`, else 4).
    pub n_iter: Option<usize>,
    /// Randomized solver: normalization between power iterations.
    pub power_iteration_normalizer: PowerIterationNormalizer,
    /// Randomized solver: seed of the random start (default 0, so fits are reproducible).
    pub seed: u64,
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
            n_oversamples: 10,
            n_iter: None,
            power_iteration_normalizer: PowerIterationNormalizer::Auto,
            seed: 0,
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
    /// Choose the solver (scikit-learn's `svd_solver`).
    pub fn svd_solver(mut self, solver: PcaSolver) -> Self {
        self.solver = solver;
        self
    }
    /// Choose the solver; the same as [`Pca::svd_solver`].
    pub fn solver(self, solver: PcaSolver) -> Self {
        self.svd_solver(solver)
    }
    /// Randomized solver: random vectors beyond `n_components` (scikit-learn's
    /// `n_oversamples`, default 10).
    pub fn n_oversamples(mut self, n: usize) -> Self {
        self.n_oversamples = n;
        self
    }
    /// Randomized solver: the number of power iterations (scikit-learn's `iterated_power`).
    pub fn n_iter(mut self, n: usize) -> Self {
        self.n_iter = Some(n);
        self
    }
    /// Randomized solver: the normalization between power iterations.
    pub fn power_iteration_normalizer(mut self, how: PowerIterationNormalizer) -> Self {
        self.power_iteration_normalizer = how;
        self
    }
    /// Randomized solver: the seed of the random start (scikit-learn's `random_state`: the
    /// start is drawn from NumPy's `RandomState(seed).normal` stream, so the same seed gives
    /// scikit-learn's result to rounding).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Decompose these columns instead of every numeric column.
    pub fn features<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.features = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Fit on a row-major matrix (rows are samples; `f64`, or `f32` fitted in `f32`), features
    /// named `x0, x1, ...`.
    pub fn fit_ndarray<T: crate::frame::NdElement>(&self, x: &Array2<T>) -> Result<PcaModel> {
        let budget = MemoryPool::unbounded().reserve("PCA");
        self.fit_features(&Features::from_ndarray(x, "pca")?, &budget)
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
        let d = Pca::new(0);
        if self.n_oversamples != d.n_oversamples {
            s.push_str(&format!(" n_oversamples={}", self.n_oversamples));
        }
        if let Some(i) = self.n_iter {
            s.push_str(&format!(" n_iter={i}"));
        }
        if self.power_iteration_normalizer != d.power_iteration_normalizer {
            s.push_str(&format!(
                " power_iteration_normalizer={}",
                self.power_iteration_normalizer.name()
            ));
        }
        if self.seed != d.seed {
            s.push_str(&format!(" seed={}", self.seed));
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
            NComponents::Variance(_) if self.solver == PcaSolver::Randomized => Err(Error::Model(
                "pca: the randomized solver needs a component count (Pca::new(k)), not a \
                     variance fraction"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// The most features for which `auto` picks the covariance solver.
    pub(crate) const MAX_COVARIANCE_FEATURES: usize = 1000;

    /// scikit-learn's `auto` rule (see the module docs).
    fn pick_solver(&self, n: usize, d: usize) -> PcaSolver {
        if self.solver != PcaSolver::Auto {
            return self.solver;
        }
        let small = n.min(d) as f64;
        if d <= Self::MAX_COVARIANCE_FEATURES && n >= 10 * d {
            PcaSolver::CovarianceEigh
        } else if n.max(d) <= 500 {
            PcaSolver::Full
        } else {
            match self.n_components {
                NComponents::Count(k) if k >= 1 && (k as f64) < 0.8 * small => {
                    PcaSolver::Randomized
                }
                _ => PcaSolver::Full,
            }
        }
    }

    /// Fit on checked feature columns; runs on the current rayon pool.
    pub(crate) fn fit_features(&self, f: &Features, budget: &Reservation) -> Result<PcaModel> {
        with_cols!(f, c => self.fit_cols(&c, budget))
    }

    fn fit_cols<T: Elem>(&self, c: &Cols<'_, T>, budget: &Reservation) -> Result<PcaModel> {
        let (n, d) = (c.n, c.d());
        self.validate(n, d)?;
        let solver = self.pick_solver(n, d);
        let (mean, ev, vt, total) = match solver {
            PcaSolver::CovarianceEigh => {
                let (mean, ev, vt) = covariance_eigh(c)?;
                let total = ev.iter().sum::<f64>();
                (mean, ev, vt, total)
            }
            PcaSolver::Randomized => {
                let (mean, devs) = c.means_and_sq_devs();
                c.check_finite(&mean, "pca")?;
                let (ev, vt, total) = self.randomized(c, &mean, &devs, budget)?;
                (mean, ev, vt, total)
            }
            PcaSolver::Full | PcaSolver::Auto => {
                let (mean, ev, vt) = full_svd(c)?;
                let total = ev.iter().sum::<f64>();
                (mean, ev, vt, total)
            }
        };
        Ok(self.assemble(c.names, n, solver, mean, ev, vt, total))
    }

    /// The randomized solver's explained variances (descending), components (rows) and total
    /// variance, from the data's means and sums of squared deviations.
    fn randomized(
        &self,
        c: &dyn CentredProducts,
        mean: &[f64],
        devs: &[f64],
        budget: &Reservation,
    ) -> Result<(Vec<f64>, Array2<f64>, f64)> {
        let (n, d) = (c.n(), c.d());
        let nf = n as f64 - 1.0;
        let k = match self.n_components {
            NComponents::Count(k) => k,
            _ => n.min(d),
        };
        let opts = RandomizedOptions {
            n_components: k,
            n_oversamples: self.n_oversamples,
            n_iter: self.n_iter,
            normalizer: self.power_iteration_normalizer,
            seed: self.seed,
        };
        let (s, vt) = randomized_svd(c, mean, &opts, budget)?;
        let ev: Vec<f64> = s.iter().map(|v| v * v / nf).collect();
        Ok((ev, vt, devs.iter().sum::<f64>() / nf))
    }

    /// The solver a fit of `n` rows and `d` features runs, when the settings are valid for them.
    pub(crate) fn solver_for(&self, n: usize, d: usize) -> Result<PcaSolver> {
        self.validate(n, d)?;
        Ok(self.pick_solver(n, d))
    }

    /// Fit by the randomized solver over products that read the data again on every call
    /// (`super::pca_stream`), given its means and sums of squared deviations; `None` when the
    /// solver is (or `auto` picks) another one, which needs the data in memory.
    pub(crate) fn fit_products(
        &self,
        names: &[String],
        c: &dyn CentredProducts,
        mean: Vec<f64>,
        devs: &[f64],
        budget: &Reservation,
    ) -> Result<Option<PcaModel>> {
        let n = c.n();
        let solver = self.solver_for(n, c.d())?;
        if solver != PcaSolver::Randomized {
            return Ok(None);
        }
        let (ev, vt, total) = self.randomized(c, &mean, devs, budget)?;
        Ok(Some(self.assemble(names, n, solver, mean, ev, vt, total)))
    }

    /// Fit from the statistics of one streaming pass ([`Moments`] of the features `names`),
    /// when the solver is (or `Auto` picks) `CovarianceEigh`; `None` when it needs the data.
    pub(crate) fn fit_moments(&self, names: &[String], m: &Moments) -> Result<Option<PcaModel>> {
        let (n, d) = (m.n, names.len());
        self.validate(n, d)?;
        let solver = self.pick_solver(n, d);
        if solver != PcaSolver::CovarianceEigh {
            return Ok(None);
        }
        let (mean, ev, vt) = eigh_of(m)?;
        let total = ev.iter().sum::<f64>();
        Ok(Some(self.assemble(names, n, solver, mean, ev, vt, total)))
    }

    /// The model from a solver's means, explained variances (descending), components (rows)
    /// and total variance: signs flipped, components chosen, noise variance.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        &self,
        names: &[String],
        n: usize,
        solver: PcaSolver,
        mean: Vec<f64>,
        mut ev: Vec<f64>,
        mut vt: Array2<f64>,
        total: f64,
    ) -> PcaModel {
        let d = names.len();
        let nf = n as f64 - 1.0;
        svd_flip_rows(&mut vt);
        let ratio: Vec<f64> = ev.iter().map(|v| v / total).collect();
        let rank = n.min(d);
        let k = match self.n_components {
            NComponents::Count(k) => k,
            NComponents::All => rank,
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
        let noise_variance = if k >= rank {
            0.0
        } else if solver == PcaSolver::Randomized {
            (total - ev[..k].iter().sum::<f64>()) / (rank - k) as f64
        } else {
            let rest = &ev[k..rank.min(ev.len())];
            rest.iter().sum::<f64>() / rest.len().max(1) as f64
        };
        ev.truncate(k);
        let sv: Vec<f64> = ev.iter().map(|v| (v * nf).sqrt()).collect();
        PcaModel {
            features: names.to_vec(),
            components: vt.slice(ndarray::s![..k, ..]).to_owned(),
            explained_variance: Array1::from(ev),
            explained_variance_ratio: Array1::from(ratio[..k].to_vec()),
            singular_values: Array1::from(sv),
            mean: Array1::from(mean),
            noise_variance,
            n_samples: n,
            solver,
            whiten: self.whiten,
        }
    }
}

/// The covariance path: `(mean, eigenvalues descending clipped at 0, eigenvectors as rows)`.
fn covariance_eigh<T: Elem>(f: &Cols<'_, T>) -> Result<(Vec<f64>, Vec<f64>, Array2<f64>)> {
    let m: Moments = stats_of(f);
    f.check_finite(&m.mean, "pca")?;
    eigh_of(&m)
}

/// The eigendecomposition of the covariance matrix of `m`: `(mean, eigenvalues descending
/// clipped at 0, eigenvectors as rows)`.
fn eigh_of(m: &Moments) -> Result<(Vec<f64>, Vec<f64>, Array2<f64>)> {
    let d = m.mean.len();
    let nf = m.n as f64;
    let cov = Array2::from_shape_fn((d, d), |(i, j)| m.m2[j * d + i] / (nf - 1.0));
    let (vals, vecs) = linalg::sym_eigh(&cov)?;
    let ev: Vec<f64> = vals.iter().rev().map(|v| v.max(0.0)).collect();
    let vt = Array2::from_shape_fn((d, d), |(r, c)| vecs[[c, d - 1 - r]]);
    Ok((m.mean.clone(), ev, vt))
}

/// The SVD path on the explicitly centred matrix (a copy in the input's precision).
fn full_svd<T: Elem>(f: &Cols<'_, T>) -> Result<(Vec<f64>, Vec<f64>, Array2<f64>)> {
    let n = f.n;
    let mean = f.means();
    f.check_finite(&mean, "pca")?;
    let svd = linalg::thin_svd(f.centred_copy(&mean), false)?;
    let ev = svd.s.iter().map(|v| v * v / (n as f64 - 1.0)).collect();
    Ok((mean, ev, svd.vt))
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

#[cfg(test)]
mod tests;
