//! Mini-batch k-means with scikit-learn's semantics (`sklearn.cluster.MiniBatchKMeans`): the
//! centres are seeded by k-means++ on `init_size` random rows (the best of `n_init` seedings by
//! inertia on a validation sample), then each step draws `batch_size` rows at random (with
//! replacement), labels them, and moves each centre to the running mean of every row it was
//! ever given (per-centre learning rates from the accumulated counts). Centres with counts
//! below `reassignment_ratio` times the largest are moved to random batch rows every
//! `10 k` rows seen (or as soon as a centre is empty). It stops after `max_iter` passes'
//! worth of steps, or early when the exponentially weighted batch inertia has not improved for
//! `max_no_improvement` steps or (with `tol > 0`) the centres moved less than `tol` times the
//! mean feature variance. Finally every row is labelled and the inertia computed.
//!
//! Rows are read from the frame's columns in place (sampled rows are gathered into a small
//! row-major batch), never copied whole. What the fit holds beside them (its samples, a batch,
//! the final labels: [`MiniBatchKMeans::state_bytes`], and k-means++'s distances over the
//! seeding sample) is reserved from the fit's budget first; past the budget the fit stops with
//! `Error::MemoryLimit` naming `FIT` (it has no fit that reads its input again). The data is centred on the way, which scikit-learn
//! does not do here: the updates are means, so this changes only rounding. The steps run one
//! after the other on one seeded `Pcg64` stream (the final labelling is parallel), so a seeded
//! fit is identical for any thread count; the stream differs from NumPy's, so the sampled
//! batches, and the exact centres, differ from scikit-learn's for the same seed.

use ndarray::Array2;
use rand_core::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::data::{with_cols, Cols, Elem, Features, CHUNK};
use super::kernels::{self, Isa, PackedCentres};
use super::lloyd::{assign_rows, below, chunked_sum, kmeans_plusplus, Points, RowMajor};
use super::KMeansModel;
use crate::error::{Error, Result};
use crate::memory::{MemoryPool, Reservation};

/// Mini-batch k-means settings: `MiniBatchKMeans::new(8).seed(0)`; the defaults are
/// scikit-learn's.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [0.0, 0.1, 0.2, 10.0, 10.1, 10.2], "y" => [0.0, 0.2, 0.1, 5.0, 5.1, 5.2])?;
/// let model = df.lazy().mini_batch_kmeans(MiniBatchKMeans::new(2).batch_size(4)).fit()?;
/// assert_eq!(model.labels[0], model.labels[2]);
/// assert_ne!(model.labels[0], model.labels[3]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MiniBatchKMeans {
    /// Number of clusters.
    pub k: usize,
    /// Rows per step (default 1024).
    pub batch_size: usize,
    /// Passes' worth of steps at most: `max_iter * rows / batch_size` steps (default 100).
    pub max_iter: usize,
    /// Stop after this many steps without improvement of the smoothed batch inertia (default
    /// 10; `None` never stops early this way).
    pub max_no_improvement: Option<usize>,
    /// Stop when the squared centre movement of a step falls to `tol` times the mean feature
    /// variance (default 0.0: off).
    pub tol: f64,
    /// Rows sampled for the k-means++ seeding and its validation (default `3 * batch_size`,
    /// at least `3 k`).
    pub init_size: Option<usize>,
    /// Seedings tried, keeping the lowest validation inertia (default 1, scikit-learn's
    /// `n_init="auto"` for k-means++).
    pub n_init: usize,
    /// Centres with counts below this fraction of the largest count get reassigned
    /// (default 0.01).
    pub reassignment_ratio: f64,
    /// Label every row at the end and compute the exact inertia (default true; otherwise
    /// `labels` is empty and `inertia` is the smoothed batch inertia scaled to all rows).
    pub compute_labels: bool,
    /// Seed of the generator (default 0).
    pub seed: u64,
    /// Initial centres (k x features) instead of k-means++.
    pub init: Option<Array2<f64>>,
    /// Feature columns; `None` uses every numeric column of the input.
    pub features: Option<Vec<String>>,
}

impl MiniBatchKMeans {
    /// `k` clusters, scikit-learn's defaults otherwise.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            batch_size: 1024,
            max_iter: 100,
            max_no_improvement: Some(10),
            tol: 0.0,
            init_size: None,
            n_init: 1,
            reassignment_ratio: 0.01,
            compute_labels: true,
            seed: 0,
            init: None,
            features: None,
        }
    }
    /// Rows per step.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Passes' worth of steps at most.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
    /// Early stop after `n` steps without improvement (`None`: never).
    pub fn max_no_improvement(mut self, n: Option<usize>) -> Self {
        self.max_no_improvement = n;
        self
    }
    /// Tolerance on the centres' movement (relative to the mean feature variance).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    /// Rows sampled for seeding.
    pub fn init_size(mut self, n: usize) -> Self {
        self.init_size = Some(n);
        self
    }
    /// Number of seedings tried.
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }
    /// Fraction of the largest count below which a centre is reassigned.
    pub fn reassignment_ratio(mut self, r: f64) -> Self {
        self.reassignment_ratio = r;
        self
    }
    /// Whether to label every row at the end.
    pub fn compute_labels(mut self, on: bool) -> Self {
        self.compute_labels = on;
        self
    }
    /// Seed the generator.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
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
    pub fn fit_ndarray<T: crate::frame::NdElement>(&self, x: &Array2<T>) -> Result<KMeansModel> {
        let budget = MemoryPool::unbounded().reserve("MINI_BATCH_KMEANS");
        self.fit_features(&Features::from_ndarray(x, "mini_batch_kmeans")?, &budget)
    }

    /// The plan line: `MINI_BATCH_KMEANS k=8 features=[a, b] batch_size=1024 seed=0`.
    pub(crate) fn node_text(&self, features: &[String]) -> String {
        let mut s = format!(
            "MINI_BATCH_KMEANS k={} features=[{}] batch_size={}",
            self.k,
            features.join(", "),
            self.batch_size
        );
        if self.init.is_some() {
            s.push_str(" init=given");
        } else {
            s.push_str(&format!(" seed={}", self.seed));
        }
        s
    }

    fn validate(&self, n: usize, d: usize) -> Result<()> {
        let bad = |m: String| Err(Error::Model(format!("mini_batch_kmeans: {m}")));
        if self.k == 0 {
            return bad("k must be at least 1".into());
        }
        if n < self.k {
            return bad(format!("{n} rows is fewer than k = {} clusters", self.k));
        }
        if d == 0 {
            return bad("no feature columns".into());
        }
        if self.batch_size == 0 || self.max_iter == 0 || self.init_size == Some(0) {
            return bad("batch_size, max_iter and init_size must be at least 1".into());
        }
        if self.tol.is_nan()
            || self.tol < 0.0
            || self.reassignment_ratio.is_nan()
            || self.reassignment_ratio < 0.0
        {
            return bad("tol and reassignment_ratio must be >= 0".into());
        }
        if let Some(init) = &self.init {
            if init.dim() != (self.k, d) || init.iter().any(|v| !v.is_finite()) {
                return bad(format!(
                    "init must be {} x {d} finite values, got shape {:?}",
                    self.k,
                    init.dim()
                ));
            }
        }
        Ok(())
    }

    /// Fit on checked feature columns, reserving what the fit holds beside them from
    /// `budget`; runs on the current rayon pool.
    pub(crate) fn fit_features(&self, f: &Features, budget: &Reservation) -> Result<KMeansModel> {
        with_cols!(f, c => self.fit_cols(&c, budget))
    }

    /// Bytes the fit holds over `n` rows of `d` features: the validation and seeding samples
    /// (`init_size` rows each, centred `f64`), a batch with a label and a distance per row,
    /// and a label per row when it labels the data.
    fn state_bytes(&self, n: usize, d: usize, init_size: usize, batch: usize) -> usize {
        let row = d * std::mem::size_of::<f64>();
        let labels = if self.compute_labels { 4 * n } else { 0 };
        2 * init_size * row + batch * (row + 4 + 8) + labels
    }

    fn fit_cols<T: Elem>(&self, f: &Cols<'_, T>, budget: &Reservation) -> Result<KMeansModel> {
        let (n, d, k) = (f.n, f.d(), self.k);
        self.validate(n, d)?;
        let (means, devs) = f.means_and_sq_devs();
        f.check_finite(&means, "mini_batch_kmeans")?;
        let tol = self.tol * devs.iter().sum::<f64>() / (n * d) as f64;
        let batch = self.batch_size.min(n);
        let init_size = match self.init_size {
            None if 3 * batch < k => 3 * k,
            None => 3 * batch,
            Some(s) if s < k => 3 * k,
            Some(s) => s,
        }
        .min(n);
        budget.try_grow(self.state_bytes(n, d, init_size, batch))?;
        let isa = Isa::detect();
        let sample = |idx: &[usize]| RowMajor {
            x: gather(f, &means, idx),
            d,
            isa,
        };
        let mut rng = Pcg64::seed_from_u64(self.seed);
        let valid_idx: Vec<usize> = (0..init_size).map(|_| below(&mut rng, n)).collect();
        let valid = sample(&valid_idx);
        let mut best: Option<(f64, Vec<f64>)> = None;
        for _ in 0..if self.init.is_some() {
            1
        } else {
            self.n_init.max(1)
        } {
            let centres = match &self.init {
                Some(init) => init
                    .rows()
                    .into_iter()
                    .flat_map(|r| r.iter().zip(&means).map(|(v, m)| v - m).collect::<Vec<_>>())
                    .collect(),
                None => {
                    let sub = if init_size < n {
                        let idx: Vec<usize> = (0..init_size).map(|_| below(&mut rng, n)).collect();
                        sample(&idx)
                    } else {
                        sample(&(0..n).collect::<Vec<_>>())
                    };
                    kmeans_plusplus(&sub, k, &mut rng, budget)?
                }
            };
            let inertia = labels_inertia(&valid, &centres, k).1;
            if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
                best = Some((inertia, centres));
            }
        }
        let mut centres = best
            .map(|b| b.1)
            .ok_or_else(|| Error::Internal("no seeding".into()))?;
        let mut state = State::new(k, batch, n);
        let n_steps = (self.max_iter * n) / batch;
        let mut steps = 0;
        for i in 0..n_steps {
            steps = i + 1;
            let idx: Vec<usize> = (0..batch).map(|_| below(&mut rng, n)).collect();
            let xb = sample(&idx);
            let reassign = state.random_reassign();
            let old = centres.clone();
            let batch_inertia = self.step(&xb, &mut centres, &mut state.counts, &mut rng, reassign);
            let moved = if tol > 0.0 {
                old.iter()
                    .zip(&centres)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum()
            } else {
                0.0
            };
            if state.converged(self, i, moved, batch_inertia, tol) {
                break;
            }
        }
        let (labels, inertia) = if self.compute_labels {
            label_all(f, &means, &centres, k, isa)
        } else {
            (Vec::new(), state.ewa_inertia.unwrap_or(f64::NAN) * n as f64)
        };
        let mut sizes = vec![0usize; k];
        for &l in &labels {
            sizes[l as usize] += 1;
        }
        Ok(KMeansModel {
            features: f.names.to_vec(),
            centroids: Array2::from_shape_fn((k, d), |(j, c)| centres[j * d + c] + means[c]),
            labels,
            sizes,
            inertia,
            n_iter: (steps * batch).div_ceil(n),
            seed: self.seed,
        })
    }

    /// scikit-learn's `_mini_batch_step`: label the batch, move each centre to the running
    /// mean of its rows, reassign low-count centres; returns the batch inertia (before the
    /// move).
    fn step(
        &self,
        xb: &RowMajor,
        centres: &mut [f64],
        counts: &mut [f64],
        rng: &mut Pcg64,
        reassign: bool,
    ) -> f64 {
        let (d, k) = (xb.d, self.k);
        let (labels, inertia) = labels_inertia(xb, centres, k);
        let mut sums = vec![0.0; k * d];
        let mut seen = vec![0.0; k];
        for (i, &l) in labels.iter().enumerate() {
            let l = l as usize;
            seen[l] += 1.0;
            for (s, v) in sums[l * d..(l + 1) * d]
                .iter_mut()
                .zip(&xb.x[i * d..(i + 1) * d])
            {
                *s += v;
            }
        }
        for c in 0..k {
            if seen[c] > 0.0 {
                let total = counts[c] + seen[c];
                let alpha = 1.0 / total;
                for (v, s) in centres[c * d..(c + 1) * d]
                    .iter_mut()
                    .zip(&sums[c * d..(c + 1) * d])
                {
                    *v = (*v * counts[c] + s) * alpha;
                }
                counts[c] = total;
            }
        }
        if reassign && self.reassignment_ratio > 0.0 {
            let max = counts.iter().fold(0.0f64, |m, &v| m.max(v));
            let mut low: Vec<bool> = counts
                .iter()
                .map(|&c| c < self.reassignment_ratio * max)
                .collect();
            let half = (0.5 * labels.len() as f64) as usize;
            if low.iter().filter(|&&b| b).count() > half {
                // Keep the centres with the largest counts (a stable argsort, as NumPy's).
                let mut order: Vec<usize> = (0..k).collect();
                order.sort_by(|&a, &b| counts[a].total_cmp(&counts[b]));
                for &c in &order[half.min(k)..] {
                    low[c] = false;
                }
            }
            let chosen: Vec<usize> = (0..k).filter(|&c| low[c]).collect();
            if !chosen.is_empty() {
                let rows = choose_without_replacement(rng, labels.len(), chosen.len());
                for (&c, &r) in chosen.iter().zip(&rows) {
                    centres[c * d..(c + 1) * d].copy_from_slice(&xb.x[r * d..(r + 1) * d]);
                }
                let kept = (0..k).filter(|&c| !low[c]).map(|c| counts[c]);
                if let Some(m) = kept.reduce(f64::min) {
                    for &c in &chosen {
                        counts[c] = m;
                    }
                }
            }
        }
        inertia
    }
}

/// The step loop's bookkeeping (scikit-learn's `_ewa_inertia`, `_no_improvement`, ...).
struct State {
    counts: Vec<f64>,
    ewa_inertia: Option<f64>,
    ewa_min: Option<f64>,
    no_improvement: usize,
    since_reassign: usize,
    batch: usize,
    n: usize,
    k: usize,
}

impl State {
    fn new(k: usize, batch: usize, n: usize) -> Self {
        Self {
            counts: vec![0.0; k],
            ewa_inertia: None,
            ewa_min: None,
            no_improvement: 0,
            since_reassign: 0,
            batch,
            n,
            k,
        }
    }

    /// scikit-learn's `_random_reassign`: every `10 k` rows seen, or when a centre is empty.
    fn random_reassign(&mut self) -> bool {
        self.since_reassign += self.batch;
        if self.counts.contains(&0.0) || self.since_reassign >= 10 * self.k {
            self.since_reassign = 0;
            return true;
        }
        false
    }

    /// scikit-learn's `_mini_batch_convergence` for step `i` (0-based).
    fn converged(
        &mut self,
        cfg: &MiniBatchKMeans,
        i: usize,
        moved: f64,
        inertia: f64,
        tol: f64,
    ) -> bool {
        let inertia = inertia / self.batch as f64;
        if i == 0 {
            return false;
        }
        let ewa = match self.ewa_inertia {
            None => inertia,
            Some(e) => {
                let alpha = (self.batch as f64 * 2.0 / (self.n as f64 + 1.0)).min(1.0);
                e * (1.0 - alpha) + inertia * alpha
            }
        };
        self.ewa_inertia = Some(ewa);
        if tol > 0.0 && moved <= tol {
            return true;
        }
        if self.ewa_min.is_none_or(|m| ewa < m) {
            self.no_improvement = 0;
            self.ewa_min = Some(ewa);
        } else {
            self.no_improvement += 1;
        }
        cfg.max_no_improvement
            .is_some_and(|m| self.no_improvement >= m)
    }
}

/// `count` distinct indices in `0..n` (a partial Fisher-Yates shuffle), in draw order.
fn choose_without_replacement(rng: &mut Pcg64, n: usize, count: usize) -> Vec<usize> {
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..count.min(n) {
        let j = i + below(rng, n - i);
        pool.swap(i, j);
    }
    pool.truncate(count.min(n));
    pool
}

/// The rows `idx` of the centred data, row-major.
fn gather<T: Elem>(f: &Cols<'_, T>, means: &[f64], idx: &[usize]) -> Vec<f64> {
    let d = f.d();
    let mut out = vec![0.0; idx.len() * d];
    for (j, &m) in means.iter().enumerate() {
        match f.whole(j) {
            Some(col) => {
                for (r, &i) in idx.iter().enumerate() {
                    out[r * d + j] = col[i].into_f64() - m;
                }
            }
            None => {
                for (r, &i) in idx.iter().enumerate() {
                    out[r * d + j] = f.value(j, i).into_f64() - m;
                }
            }
        }
    }
    out
}

/// Labels of `p`'s rows and their inertia (exact squared distances) for these centres.
fn labels_inertia(p: &RowMajor, centres: &[f64], k: usize) -> (Vec<u32>, f64) {
    let mut labels = vec![0u32; p.n()];
    assign_rows(p.isa, &p.x, p.d, centres, k, &mut labels, false);
    let inertia = chunked_sum(&p.own_dists(centres, &labels));
    (labels, inertia)
}

/// Label every row of the data, a chunk at a time (each chunk transposed into a small
/// row-major block), and sum the exact squared distances in chunk order.
fn label_all<T: Elem>(
    f: &Cols<'_, T>,
    means: &[f64],
    centres: &[f64],
    k: usize,
    isa: Isa,
) -> (Vec<u32>, f64) {
    let (n, d) = (f.n, f.d());
    let packed = PackedCentres::new(centres, k, d);
    let mut labels = vec![0u32; n];
    let parts: Vec<f64> = labels
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, lc)| {
            let r0 = c * CHUNK;
            let idx: Vec<usize> = (r0..r0 + lc.len()).collect();
            let x = gather(f, means, &idx);
            kernels::assign(isa, &x, &packed, lc, None);
            x.chunks(d)
                .zip(lc.iter())
                .map(|(r, &l)| kernels::sq_dist(r, &centres[l as usize * d..(l as usize + 1) * d]))
                .sum()
        })
        .collect();
    (labels, parts.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four well separated blobs in 3 dimensions, 20k rows.
    fn blobs() -> Array2<f64> {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        Array2::from_shape_fn((20_000, 3), |(i, j)| ((i % 4) * 10 + j) as f64 + next())
    }

    #[test]
    fn finds_the_blobs_and_matches_full_kmeans_inertia() {
        let x = blobs();
        let mb = MiniBatchKMeans::new(4)
            .seed(3)
            .fit_ndarray(&x)
            .expect("fit");
        let full = crate::ml::KMeans::new(4)
            .seed(3)
            .fit_ndarray(&x)
            .expect("fit");
        // Same partition (up to renaming) and nearly the same inertia.
        assert!(crate::ml::lloyd::same_clustering(
            &mb.labels,
            &full.labels,
            4
        ));
        assert!(
            (mb.inertia - full.inertia).abs() < 0.01 * full.inertia,
            "{} vs {}",
            mb.inertia,
            full.inertia
        );
        assert_eq!(mb.sizes, vec![5000; 4]);
        assert!(mb.n_iter >= 1);
    }

    #[test]
    fn seeded_fit_is_identical_for_any_thread_count() {
        let x = blobs();
        let fit = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| {
                    MiniBatchKMeans::new(5)
                        .seed(7)
                        .batch_size(256)
                        .fit_ndarray(&x)
                        .expect("fit")
                })
        };
        let (a, b) = (fit(1), fit(3));
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.centroids, b.centroids);
        assert_eq!(a.inertia.to_bits(), b.inertia.to_bits());
    }

    #[test]
    fn reassignment_keeps_every_centre_in_use() {
        // Two far blobs, five centres: low-count centres get moved onto data.
        let noise = blobs();
        let x = Array2::from_shape_fn((3000, 2), |(i, j)| {
            ((i % 2) * 100) as f64 + 10.0 * noise[[i, j]].fract()
        });
        let m = MiniBatchKMeans::new(5)
            .seed(1)
            .batch_size(100)
            .fit_ndarray(&x)
            .expect("fit");
        assert!(m.sizes.iter().all(|&s| s > 0), "{:?}", m.sizes);
    }

    #[test]
    fn the_samples_and_labels_are_reserved() {
        use crate::memory::MemoryPool;
        use crate::ml::lloyd::seeding_bytes;
        let x = blobs();
        let (n, d) = x.dim();
        let mb = MiniBatchKMeans::new(4).seed(3);
        let (batch, init_size) = (1024, 3 * 1024);
        let want = mb.state_bytes(n, d, init_size, batch) + seeding_bytes(init_size, 4);
        let f = Features::from_ndarray(&x, "mini_batch_kmeans").expect("features");
        let pool = MemoryPool::unbounded();
        mb.fit_features(&f, &pool.reserve("FIT")).expect("fit");
        assert_eq!(pool.peak(), want);
        let short = MemoryPool::new(want - 1);
        assert!(matches!(
            mb.fit_features(&f, &short.reserve("FIT")),
            Err(Error::MemoryLimit { .. })
        ));
    }

    #[test]
    fn bad_settings_are_model_errors() {
        let x = ndarray::array![[0.0], [1.0], [2.0]];
        for m in [
            MiniBatchKMeans::new(0),
            MiniBatchKMeans::new(4),
            MiniBatchKMeans::new(2).batch_size(0),
            MiniBatchKMeans::new(2).init(ndarray::array![[0.0, 1.0]]),
        ] {
            assert!(matches!(m.fit_ndarray(&x), Err(Error::Model(_))));
        }
    }

    #[test]
    fn without_labels_the_inertia_is_the_smoothed_estimate() {
        let x = blobs();
        let m = MiniBatchKMeans::new(4)
            .compute_labels(false)
            .fit_ndarray(&x)
            .expect("fit");
        assert!(m.labels.is_empty());
        assert!(m.inertia.is_finite() && m.inertia > 0.0);
    }
}
