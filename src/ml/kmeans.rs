//! k-means clustering with scikit-learn's semantics (`sklearn.cluster.KMeans`, Lloyd's
//! algorithm): greedy k-means++ seeding with `2 + ln k` local trials, `n_init` restarts keeping
//! the lowest inertia, `max_iter` (300) Lloyd steps, stopping when the labels stop changing or
//! the squared centre shift falls to `tol` (1e-4) times the mean feature variance, empty
//! clusters relocated to the points farthest from their centres, and a final E-step so labels
//! match the returned centres.
//!
//! As in scikit-learn the data is centred (column means subtracted) before clustering, which
//! keeps the `||x||² - 2x·c + ||c||²` expansion of the distance accurate; centres are shifted
//! back at the end. Each Lloyd step labels fixed row chunks in parallel ([`CHUNK`] rows) and
//! merges the per-chunk centre sums in chunk order, so a seeded run gives identical results
//! for any thread count. The seeded generator is `rand_pcg::Pcg64` (portable and stable across
//! versions); its stream differs from NumPy's, so seeded k-means++ picks different initial
//! centres than scikit-learn does. Given the same initial centres (`init`), labels, centres and
//! inertia match scikit-learn.

use std::fmt;

use ndarray::Array2;
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::data::{Features, CHUNK};
use super::kernels::{self, Isa, PackedCentres};
use crate::error::{Error, Result};
use crate::expr::{col, lit, when, Expr};
use crate::frame::{Column, DataFrame};
use crate::plan::LazyFrame;

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

    /// Fit on a row-major matrix (rows are samples), features named `x0, x1, ...`.
    pub fn fit_ndarray(&self, x: &Array2<f64>) -> Result<KMeansModel> {
        self.fit_features(&Features::from_ndarray(x, "kmeans")?)
    }

    /// Fit on checked feature columns; runs on the current rayon pool.
    pub(crate) fn fit_features(&self, f: &Features) -> Result<KMeansModel> {
        let (n, d, k) = (f.n, f.d(), self.k);
        self.validate(n, d)?;
        let isa = Isa::detect();
        let means = f.means();
        f.check_finite(&means, "kmeans")?;
        let (x, sq) = f.row_major_minus(&means);
        // scikit-learn: tol * mean(var(X, axis=0)), population variance.
        let var_mean = sq.iter().sum::<f64>() / (n as f64 * d as f64);
        let tol = self.tol * var_mean;
        let mut best: Option<Run> = None;
        if let Some(init) = &self.init {
            let mut c = Vec::with_capacity(k * d);
            for row in init.rows() {
                c.extend(row.iter().zip(&means).map(|(v, m)| v - m));
            }
            best = Some(lloyd(isa, &x, d, c, k, self.max_iter, tol));
        } else {
            let mut rng = Pcg64::seed_from_u64(self.seed);
            for _ in 0..self.n_init.max(1) {
                let c = kmeans_plusplus(&x, n, d, k, &mut rng);
                let run = lloyd(isa, &x, d, c, k, self.max_iter, tol);
                if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                    best = Some(run);
                }
            }
        }
        let run = best.ok_or_else(|| Error::Internal("k-means made no run".into()))?;
        let centroids = Array2::from_shape_fn((k, d), |(j, f)| run.centres[j * d + f] + means[f]);
        let mut sizes = vec![0usize; k];
        for &l in &run.labels {
            sizes[l as usize] += 1;
        }
        Ok(KMeansModel {
            features: f.names.clone(),
            centroids,
            labels: run.labels,
            sizes,
            inertia: run.inertia,
            n_iter: run.n_iter,
            seed: self.seed,
        })
    }

    fn validate(&self, n: usize, d: usize) -> Result<()> {
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

/// One k-means run's result (centres in centred coordinates, row-major).
struct Run {
    centres: Vec<f64>,
    labels: Vec<u32>,
    inertia: f64,
    n_iter: usize,
}

/// A uniform f64 in [0, 1) from the top 53 bits of the generator's next u64.
fn uniform(rng: &mut Pcg64) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Squared distance of every row to `c`, min'ed with `best` (or alone), and the total (the
/// potential), in fixed chunks merged in order.
fn min_dists(x: &[f64], d: usize, c: &[f64], best: Option<&[f64]>, out: &mut [f64]) -> f64 {
    let parts: Vec<f64> = out
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(i, o)| {
            let xs = &x[i * CHUNK * d..(i * CHUNK + o.len()) * d];
            match best {
                Some(b) => {
                    kernels::min_dist_update(xs, d, c, &b[i * CHUNK..i * CHUNK + o.len()], o)
                }
                None => {
                    let inf = vec![f64::INFINITY; o.len()];
                    kernels::min_dist_update(xs, d, c, &inf, o)
                }
            }
        })
        .collect();
    parts.iter().sum()
}

/// Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): the first centre uniformly at random,
/// then each next one the best, by resulting potential, of `2 + ln k` candidates sampled with
/// probability proportional to the squared distance to the nearest chosen centre.
fn kmeans_plusplus(x: &[f64], n: usize, d: usize, k: usize, rng: &mut Pcg64) -> Vec<f64> {
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = Vec::with_capacity(k * d);
    let first = ((uniform(rng) * n as f64) as usize).min(n - 1);
    centres.extend_from_slice(&x[first * d..(first + 1) * d]);
    let mut closest = vec![0.0; n];
    let mut pot = min_dists(x, d, &x[first * d..(first + 1) * d], None, &mut closest);
    let mut cumsum = vec![0.0; n];
    let mut cand_d: Vec<Vec<f64>> = vec![vec![0.0; n]; trials];
    for _ in 1..k {
        let mut acc = 0.0;
        for (c, v) in cumsum.iter_mut().zip(&closest) {
            acc += v;
            *c = acc;
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for (t, buf) in cand_d.iter_mut().enumerate() {
            let r = uniform(rng) * pot;
            // numpy.searchsorted(side="left"), clipped to the last row.
            let id = cumsum.partition_point(|&c| c < r).min(n - 1);
            let p = min_dists(x, d, &x[id * d..(id + 1) * d], Some(&closest), buf);
            if best.is_none_or(|(bp, _, _)| p < bp) {
                best = Some((p, id, t));
            }
        }
        if let Some((p, id, t)) = best {
            pot = p;
            std::mem::swap(&mut closest, &mut cand_d[t]);
            centres.extend_from_slice(&x[id * d..(id + 1) * d]);
        }
    }
    centres
}

/// Label all rows with the nearest of `centres` and, when `update`, return the per-cluster sums
/// and counts merged in chunk order.
fn assign_all(
    isa: Isa,
    x: &[f64],
    d: usize,
    centres: &[f64],
    k: usize,
    labels: &mut [u32],
    update: bool,
) -> (Vec<f64>, Vec<u64>) {
    let packed = PackedCentres::new(centres, k, d);
    let parts: Vec<(Vec<f64>, Vec<u64>)> = x
        .par_chunks(CHUNK * d)
        .zip(labels.par_chunks_mut(CHUNK))
        .map(|(xc, lc)| {
            if update {
                // Aligned like the packed centres: the row sums are vector adds too.
                let (mut buf, off) = kernels::aligned(k * d, 0.0);
                let s = &mut buf[off..off + k * d];
                let mut c = vec![0u64; k];
                kernels::assign(isa, xc, &packed, lc, Some((&mut *s, &mut c)));
                (s.to_vec(), c)
            } else {
                kernels::assign(isa, xc, &packed, lc, None);
                (vec![], vec![])
            }
        })
        .collect();
    let mut sums = vec![0.0; if update { k * d } else { 0 }];
    let mut counts = vec![0u64; if update { k } else { 0 }];
    for (s, c) in parts {
        for (t, v) in sums.iter_mut().zip(s) {
            *t += v;
        }
        for (t, v) in counts.iter_mut().zip(c) {
            *t += v;
        }
    }
    (sums, counts)
}

/// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes the point farthest
/// from its current centre (farthest first; ties by lower row index), moving that point's
/// weight out of its old cluster. Labels are left as they are, as in scikit-learn.
fn relocate_empty(
    x: &[f64],
    d: usize,
    old_centres: &[f64],
    labels: &[u32],
    sums: &mut [f64],
    counts: &mut [u64],
) {
    let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let dist: Vec<f64> = labels
        .par_iter()
        .enumerate()
        .map(|(i, &l)| {
            let l = l as usize;
            kernels::sq_dist(&x[i * d..(i + 1) * d], &old_centres[l * d..(l + 1) * d])
        })
        .collect();
    if dist.iter().fold(0.0f64, |m, &v| m.max(v)) == 0.0 {
        // More clusters than distinct points: relocating is pointless (as scikit-learn).
        return;
    }
    let mut order: Vec<usize> = (0..dist.len()).collect();
    let m = empty.len().min(order.len());
    order.select_nth_unstable_by(m - 1, |&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    let mut far = order[..m].to_vec();
    far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    for (&new, &p) in empty.iter().zip(&far) {
        let old = labels[p] as usize;
        let row = &x[p * d..(p + 1) * d];
        for f in 0..d {
            sums[old * d + f] -= row[f];
            sums[new * d + f] = row[f];
        }
        counts[new] = 1;
        counts[old] -= 1;
    }
}

/// Lloyd's algorithm from `centres` (scikit-learn's `_kmeans_single_lloyd`).
fn lloyd(
    isa: Isa,
    x: &[f64],
    d: usize,
    mut centres: Vec<f64>,
    k: usize,
    max_iter: usize,
    tol: f64,
) -> Run {
    let n = x.len() / d.max(1);
    let mut labels = vec![0u32; n];
    let mut labels_old: Option<Vec<u32>> = None;
    let mut strict = false;
    let mut n_iter = 0;
    for it in 0..max_iter {
        n_iter = it + 1;
        let (mut sums, mut counts) = assign_all(isa, x, d, &centres, k, &mut labels, true);
        relocate_empty(x, d, &centres, &labels, &mut sums, &mut counts);
        // scikit-learn multiplies by the reciprocal; an empty cluster that could not be
        // relocated keeps a zero sum as its centre, as there.
        for j in 0..k {
            if counts[j] > 0 {
                let alpha = 1.0 / counts[j] as f64;
                for v in &mut sums[j * d..(j + 1) * d] {
                    *v *= alpha;
                }
            }
        }
        let shift: f64 = (0..k)
            .map(|j| kernels::sq_dist(&sums[j * d..(j + 1) * d], &centres[j * d..(j + 1) * d]))
            .sum();
        centres = sums;
        if labels_old.as_ref() == Some(&labels) {
            strict = true;
            break;
        }
        if shift <= tol {
            break;
        }
        match &mut labels_old {
            Some(o) => o.copy_from_slice(&labels),
            None => labels_old = Some(labels.clone()),
        }
    }
    if !strict {
        // Re-run the E-step so the labels belong to the final centres.
        assign_all(isa, x, d, &centres, k, &mut labels, false);
    }
    let parts: Vec<f64> = x
        .par_chunks(CHUNK * d)
        .zip(labels.par_chunks(CHUNK))
        .map(|(xc, lc)| kernels::inertia(isa, xc, d, &centres, lc))
        .collect();
    Run {
        centres,
        labels,
        inertia: parts.iter().sum(),
        n_iter,
    }
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

    #[test]
    fn plan_line() {
        let km = KMeans::new(3).seed(42);
        assert_eq!(
            km.node_text(&["a".into(), "b".into()]),
            "KMEANS k=3 features=[a, b] seed=42"
        );
    }
}
