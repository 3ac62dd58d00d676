//! k-means clustering with scikit-learn's semantics (`sklearn.cluster.KMeans`, Lloyd's
//! algorithm): greedy k-means++ seeding with `2 + ln k` local trials, `n_init` restarts run one
//! after the other on one seeded random stream (each run parallel inside) keeping the lowest
//! inertia unless the clustering is the same, `max_iter` (300) Lloyd steps, stopping when the
//! labels stop changing or the squared centre shift falls to `tol` (1e-4) times the mean
//! feature variance, empty clusters relocated to the points farthest from their centres, and a
//! final E-step so labels match the returned centres. The algorithms themselves live in
//! [`super::lloyd`]; this module holds the settings, the fitted model and its lazy `predict`.
//!
//! As in scikit-learn the data is centred (column means subtracted) before clustering, which
//! keeps the `||x||² - 2x·c + ||c||²` expansion of the distance accurate; centres are shifted
//! back at the end. Narrow data (fewer than [`WIDE`] features) is copied once into a centred
//! row-major matrix scanned by register-tiled kernels; wide data is read in place from the
//! frame's columns (a Float32 input stays Float32) with distances from blocked matrix products,
//! chunk by chunk ([`super::kmeans_wide`]).
//!
//! A fit reserves what it holds beside its input from the budget it is given (the `FIT`
//! operator's reservation) before allocating it: the row-major copy (narrow data) or a squared
//! norm per row (wide data), k-means++'s distances and Lloyd's labels ([`super::lloyd`]). When
//! that does not fit, the fit stops with `Error::MemoryLimit` naming `FIT`, and the executor
//! runs it again reading its input chunk by chunk (`super::kmeans_stream`), which holds only
//! the per-row state.
//! Every pass runs fixed row chunks in parallel and merges partial sums in chunk order, so a
//! seeded fit gives identical results for any thread count. The seeded generator is
//! `rand_pcg::Pcg64` (portable and stable across versions); its stream differs from NumPy's,
//! so seeded k-means++ picks different initial centres than scikit-learn does. Given the same
//! initial centres (`init`), labels, centres and inertia match scikit-learn.

use std::fmt;

use ndarray::Array2;
use rand_core::SeedableRng;
use rand_pcg::Pcg64;

use super::data::{with_cols, Cols, Elem, Features};
use super::kernels::Isa;
use super::kmeans_wide::{InMemory, Wide};
use super::lloyd::{kmeans_plusplus, labels_bytes, lloyd, same_clustering, Points, RowMajor, Run};
use crate::error::{Error, Result};
use crate::expr::{col, lit, when, Expr};
use crate::frame::{Column, DataFrame};
use crate::memory::{MemoryPool, Reservation};
use crate::plan::LazyFrame;

/// From this many features on, k-means reads the frame's columns in place and measures
/// distances with blocked matrix products ([`Columns`]); below it, it scans a centred
/// row-major copy with register-tiled kernels ([`RowMajor`]), faster for a few dozen features.
pub(super) const WIDE: usize = 128;

/// k-means settings: `KMeans::new(3).seed(42)`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [0.0, 0.1, 10.0, 10.1], "y" => [0.0, 0.2, 5.0, 5.1])?;
/// let model = df.lazy().kmeans(KMeans::new(2).seed(42)).fit()?;
/// assert_eq!(model.labels[0], model.labels[1]);
/// assert_ne!(model.labels[0], model.labels[2]);
/// assert!(model.inertia < 0.1);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct KMeans {
    /// Number of clusters.
    pub k: usize,
    /// Seed of the k-means++ generator (default 0: runs are reproducible unless you change it).
    pub seed: u64,
    /// Restarts from new k-means++ seeds, keeping the lowest inertia (default 1, scikit-learn's
    /// `n_init="auto"` for k-means++; always 1 with `init`).
    pub n_init: usize,
    /// Lloyd iterations per run at most (default 300).
    pub max_iter: usize,
    /// Relative tolerance on the squared centre shift, scaled by the mean feature variance
    /// (default 1e-4).
    pub tol: f64,
    /// Initial centres (k x features) instead of k-means++.
    pub init: Option<Array2<f64>>,
    /// Feature columns; `None` uses every numeric column of the input.
    pub features: Option<Vec<String>>,
}

impl KMeans {
    /// `k` clusters, scikit-learn's defaults otherwise.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            seed: 0,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            init: None,
            features: None,
        }
    }
    /// Seed the k-means++ generator.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Number of k-means++ restarts.
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }
    /// Maximum Lloyd iterations per run.
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }
    /// Convergence tolerance (relative to the mean feature variance).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    /// Start from these centres (k rows, one column per feature) instead of k-means++.
    pub fn init(mut self, centres: Array2<f64>) -> Self {
        self.init = Some(centres);
        self
    }
    /// Cluster on these columns instead of every numeric column.
    pub fn features<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.features = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Fit on a row-major matrix (rows are samples; `f64` or `f32`), features named
    /// `x0, x1, ...`.
    pub fn fit_ndarray<T: crate::frame::NdElement>(&self, x: &Array2<T>) -> Result<KMeansModel> {
        let budget = MemoryPool::unbounded().reserve("KMEANS");
        self.fit_features(&Features::from_ndarray(x, "kmeans")?, &budget)
    }

    /// Fit on checked feature columns, reserving what the fit holds beside them from
    /// `budget`; runs on the current rayon pool.
    pub(crate) fn fit_features(&self, f: &Features, budget: &Reservation) -> Result<KMeansModel> {
        with_cols!(f, c => self.fit_cols(&c, budget))
    }

    fn fit_cols<T: Elem>(&self, f: &Cols<'_, T>, budget: &Reservation) -> Result<KMeansModel> {
        let (n, d) = (f.n, f.d());
        self.validate(n, d)?;
        let (run, means) = if d >= WIDE {
            let (means, devs) = f.means_and_sq_devs();
            f.check_finite(&means, "kmeans")?;
            let tol = self.scaled_tol(&devs, n);
            // The points keep a squared norm per row.
            budget.try_grow(n * std::mem::size_of::<f64>())?;
            let run = {
                let points = Wide(InMemory::new(f, &means));
                self.runs(&points, &means, tol, budget)?
            };
            (run, means)
        } else {
            let means = f.means();
            f.check_finite(&means, "kmeans")?;
            // The centred row-major copy.
            budget.try_grow(n * d * std::mem::size_of::<f64>())?;
            let (x, sq) = f.row_major_minus(&means);
            let tol = self.scaled_tol(&sq, n);
            let points = RowMajor {
                x,
                d,
                isa: Isa::detect(),
            };
            (self.runs(&points, &means, tol, budget)?, means)
        };
        Ok(self.model(f.names, run, &means))
    }

    /// The fitted model from the best run (in centred coordinates) and the column means.
    pub(super) fn model(&self, names: &[String], run: Run, means: &[f64]) -> KMeansModel {
        let (k, d) = (self.k, names.len());
        let centroids = Array2::from_shape_fn((k, d), |(j, f)| run.centres[j * d + f] + means[f]);
        let mut sizes = vec![0usize; k];
        for &l in &run.labels {
            sizes[l as usize] += 1;
        }
        KMeansModel {
            features: names.to_vec(),
            centroids,
            labels: run.labels,
            sizes,
            inertia: run.inertia,
            n_iter: run.n_iter,
            seed: self.seed,
        }
    }

    /// scikit-learn's tolerance: `tol` times the mean of the features' (population) variances,
    /// given each feature's sum of squared deviations from its mean.
    pub(super) fn scaled_tol(&self, sq_devs: &[f64], n: usize) -> f64 {
        self.tol * sq_devs.iter().sum::<f64>() / (n as f64 * sq_devs.len() as f64)
    }

    /// The runs (one from `init`, else `n_init` from k-means++ seeds drawn one after the other
    /// from one seeded stream, each run parallel inside), keeping the best as scikit-learn
    /// does: a later run replaces it only with a lower inertia and a different clustering.
    /// What the runs hold is reserved from `budget`; the best run's labels stay reserved.
    pub(super) fn runs(
        &self,
        p: &impl Points,
        means: &[f64],
        tol: f64,
        budget: &Reservation,
    ) -> Result<Run> {
        let (d, k) = (p.d(), self.k);
        if let Some(init) = &self.init {
            let mut c = Vec::with_capacity(k * d);
            for row in init.rows() {
                c.extend(row.iter().zip(means).map(|(v, m)| v - m));
            }
            return lloyd(p, c, k, self.max_iter, tol, budget);
        }
        let mut rng = Pcg64::seed_from_u64(self.seed);
        let mut best: Option<Run> = None;
        for _ in 0..self.n_init.max(1) {
            let c = kmeans_plusplus(p, k, &mut rng, budget)?;
            let run = lloyd(p, c, k, self.max_iter, tol, budget)?;
            let better = best.as_ref().is_none_or(|b| {
                run.inertia < b.inertia && !same_clustering(&run.labels, &b.labels, k)
            });
            // One run's labels are let go: the old best's or this one's.
            let dropped = if better {
                best.replace(run).is_some()
            } else {
                true
            };
            if dropped {
                budget.shrink(labels_bytes(p.n()));
            }
        }
        best.ok_or_else(|| Error::Internal("k-means made no run".into()))
    }

    pub(super) fn validate(&self, n: usize, d: usize) -> Result<()> {
        if self.k == 0 {
            return Err(Error::Model("kmeans: k must be at least 1".into()));
        }
        if n < self.k {
            return Err(Error::Model(format!(
                "kmeans: {n} rows is fewer than k = {} clusters",
                self.k
            )));
        }
        if self.max_iter == 0 {
            return Err(Error::Model("kmeans: max_iter must be at least 1".into()));
        }
        if d == 0 {
            return Err(Error::Model("kmeans: no feature columns".into()));
        }
        if self.tol.is_nan() || self.tol < 0.0 {
            return Err(Error::Model(format!(
                "kmeans: tol must be >= 0, got {}",
                self.tol
            )));
        }
        if let Some(init) = &self.init {
            if init.dim() != (self.k, d) {
                return Err(Error::Model(format!(
                    "kmeans: init has shape {:?} but k = {} and there are {d} features",
                    init.dim(),
                    self.k
                )));
            }
            if init.iter().any(|v| !v.is_finite()) {
                return Err(Error::Model(
                    "kmeans: init has NaN or infinite values".into(),
                ));
            }
        }
        Ok(())
    }

    /// The plan line: `KMEANS k=3 features=[a, b] seed=42`.
    pub(crate) fn node_text(&self, features: &[String]) -> String {
        let mut s = format!("KMEANS k={} features=[{}]", self.k, features.join(", "));
        if self.init.is_some() {
            s.push_str(" init=given");
        } else {
            s.push_str(&format!(" seed={}", self.seed));
            if self.n_init != 1 {
                s.push_str(&format!(" n_init={}", self.n_init));
            }
        }
        if self.max_iter != 300 {
            s.push_str(&format!(" max_iter={}", self.max_iter));
        }
        if self.tol != 1e-4 {
            s.push_str(&format!(" tol={}", self.tol));
        }
        s
    }
}

/// A fitted k-means model.
#[derive(Clone, Debug)]
pub struct KMeansModel {
    /// Feature columns, in the order of the centroid columns.
    pub features: Vec<String>,
    /// Cluster centres, k x features.
    pub centroids: Array2<f64>,
    /// Cluster index (row of `centroids`) of every training row.
    pub labels: Vec<u32>,
    /// Training rows per cluster.
    pub sizes: Vec<usize>,
    /// Sum of squared distances of the training rows to their centres.
    pub inertia: f64,
    /// Lloyd iterations run (of the best run).
    pub n_iter: usize,
    /// The k-means++ seed used.
    pub seed: u64,
}

impl KMeansModel {
    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.nrows()
    }

    /// Score new data lazily: adds an Int64 `cluster` column, the index of the nearest centroid
    /// by squared Euclidean distance (lowest index on ties, like argmin; null where a feature
    /// is null or NaN). Built from plain expressions, so it fuses with the rest of the query.
    pub fn predict(&self, lf: LazyFrame) -> LazyFrame {
        let k = self.k();
        let tmp: Vec<String> = (0..k).map(|j| format!("__kmeans_d{j}")).collect();
        let dists: Vec<Expr> = (0..k)
            .map(|j| {
                let terms = self.features.iter().enumerate().map(|(f, name)| {
                    let diff = col(name.as_str()) - lit(self.centroids[[j, f]]);
                    diff.clone() * diff
                });
                sum_exprs(terms).alias(tmp[j].as_str())
            })
            .collect();
        let cluster = argmin_expr(&tmp).alias("cluster");
        lf.with_columns(dists).with_columns([cluster]).drop(tmp)
    }

    /// The centroids as a table: `cluster`, `size`, then one column per feature.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let k = self.k();
        let mut cols = vec![
            Column::new("cluster", (0..k as i64).collect::<Vec<i64>>()),
            Column::new(
                "size",
                self.sizes.iter().map(|&s| s as i64).collect::<Vec<i64>>(),
            ),
        ];
        for (f, name) in self.features.iter().enumerate() {
            cols.push(Column::new(
                name.as_str(),
                self.centroids.column(f).to_vec(),
            ));
        }
        DataFrame::new(cols)
    }

    /// A human-readable summary (what the CLI prints).
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for KMeansModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "KMeans: k={}, features=[{}], iterations={}, inertia={}",
            self.k(),
            self.features.join(", "),
            self.n_iter,
            self.inertia
        )?;
        match self.to_dataframe() {
            Ok(df) => write!(f, "centroids:\n{df}"),
            Err(e) => write!(f, "(centroid table unavailable: {e})"),
        }
    }
}

/// `a + b + c + ...` (a literal 0.0 for an empty list).
pub(crate) fn sum_exprs(terms: impl IntoIterator<Item = Expr>) -> Expr {
    terms
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| lit(0.0))
}

/// The index of the smallest of the named columns: a `when` chain where branch `j` holds when
/// `d_j` is below every earlier distance and not above any later one (so the lowest index wins
/// ties, like argmin); a null or NaN distance matches no branch and gives null.
fn argmin_expr(dists: &[String]) -> Expr {
    let k = dists.len();
    let null = lit(crate::expr::Scalar::Null).cast(arrow::datatypes::DataType::Int64);
    if k == 0 {
        // A hand-built model without centroids assigns nothing.
        return null;
    }
    let cond = |j: usize| -> Expr {
        let mut c: Option<Expr> = None;
        for i in 0..k {
            if i == j {
                continue;
            }
            let dj = col(dists[j].as_str());
            let di = col(dists[i].as_str());
            let t = if i < j { dj.lt(di) } else { dj.le(di) };
            c = Some(match c {
                Some(c) => c & t,
                None => t,
            });
        }
        // A single cluster: the row matches when its distance is a number.
        c.unwrap_or_else(|| col(dists[j].as_str()).le(f64::INFINITY))
    };
    let mut chain = when(cond(0)).then(lit(0i64));
    for j in 1..k {
        chain = chain.when(cond(j)).then(lit(j as i64));
    }
    chain.otherwise(null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_obvious_clusters() {
        let x = ndarray::array![[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [0.0, 0.1]];
        let m = KMeans::new(2).seed(1).fit_ndarray(&x).expect("fit");
        assert_eq!(m.labels[0], m.labels[1]);
        assert_eq!(m.labels[0], m.labels[4]);
        assert_ne!(m.labels[0], m.labels[2]);
        assert_eq!(m.sizes.iter().sum::<usize>(), 5);
    }

    #[test]
    fn empty_cluster_is_relocated() {
        // Both initial centres sit near the first group; the second starts empty.
        let x = ndarray::array![[0.0], [0.2], [10.0], [10.4]];
        let init = ndarray::array![[0.1], [-50.0]];
        let m = KMeans::new(2).init(init).fit_ndarray(&x).expect("fit");
        let mut c: Vec<f64> = m.centroids.iter().copied().collect();
        c.sort_by(f64::total_cmp);
        assert!(
            (c[0] - 0.1).abs() < 1e-12 && (c[1] - 10.2).abs() < 1e-12,
            "{c:?}"
        );
    }

    #[test]
    fn bad_settings_are_model_errors() {
        let x = ndarray::array![[0.0], [1.0]];
        for km in [
            KMeans::new(0),
            KMeans::new(3),
            KMeans::new(1).init(ndarray::array![[0.0, 1.0]]),
        ] {
            assert!(matches!(km.fit_ndarray(&x), Err(Error::Model(_))));
        }
    }

    /// The peak a fit of `x` reserves from an unbounded pool.
    fn peak_of(km: &KMeans, x: &Array2<f64>) -> usize {
        let pool = MemoryPool::unbounded();
        let f = Features::from_ndarray(x, "kmeans").expect("features");
        km.fit_features(&f, &pool.reserve("FIT")).expect("fit");
        pool.peak()
    }

    #[test]
    fn fits_reserve_their_copy_or_norms_beside_the_runs() {
        use crate::ml::lloyd::{lloyd_bytes, seeding_bytes};
        let n = 5000;
        for d in [3, WIDE + 2] {
            let x = Array2::from_shape_fn((n, d), |(i, j)| ((i % 3) * 10 + j % 5) as f64);
            let init = Array2::from_shape_fn((3, d), |(c, j)| (c * 10 + j % 5) as f64);
            // Narrow data is copied row-major; wide data keeps a squared norm per row.
            let held = if d < WIDE { n * d * 8 } else { n * 8 };
            let given = KMeans::new(3).init(init);
            assert_eq!(peak_of(&given, &x), held + lloyd_bytes(n), "{d}");
            let seeded = KMeans::new(3).seed(4);
            let runs = seeding_bytes(n, 3).max(lloyd_bytes(n));
            assert_eq!(peak_of(&seeded, &x), held + runs, "{d}");
        }
    }

    #[test]
    fn plan_line() {
        let km = KMeans::new(3).seed(42);
        assert_eq!(
            km.node_text(&["a".into(), "b".into()]),
            "KMEANS k=3 features=[a, b] seed=42"
        );
    }
}
