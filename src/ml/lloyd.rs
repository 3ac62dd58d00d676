//! The k-means algorithms over any point store ([`Points`]): greedy k-means++ seeding and
//! Lloyd's iterations, step for step as scikit-learn's `_kmeans_plusplus` and
//! `_kmeans_single_lloyd`, plus the row-major store ([`RowMajor`]) used for narrow data.
//!
//! Points are centred (column means subtracted) before they get here. Two stores implement
//! [`Points`]: [`RowMajor`], a centred row-major `f64` copy scanned by the register-tiled
//! kernels of [`super::kernels`] (fastest for a few dozen features), and
//! [`super::kmeans_wide::Columns`], which reads the frame's columns in place and computes
//! distances with blocked matrix products (for wide data, where a copy would double the
//! memory and the products dominate). Every pass runs fixed chunks in parallel and merges
//! them in order, so results do not depend on the thread count.
//!
//! What the algorithms hold per row is reserved from the fit's budget before it is allocated
//! (a [`Reservation`] named after the `FIT` operator): k-means++ its distance vectors
//! ([`seeding_bytes`]), Lloyd's iterations their labels and a distance per row
//! ([`lloyd_bytes`]); past the budget they stop with `Error::MemoryLimit`.

use rand_core::Rng;
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::data::CHUNK;
use super::kernels::{self, Isa, PackedCentres};
use crate::error::Result;
use crate::memory::Reservation;

/// A store of centred points that k-means can run on.
pub(crate) trait Points: Sync {
    /// Number of points.
    fn n(&self) -> usize;
    /// Number of features.
    fn d(&self) -> usize;
    /// Append point `i` to `out`.
    fn push_row(&self, i: usize, out: &mut Vec<f64>);
    /// Squared distances of every point to each of `targets` (row-major, `d` per target).
    fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>>;
    /// Label every point with its nearest centre (lowest index on ties) and, when `update`,
    /// return the per-cluster sums (k x d) and counts, merged in chunk order.
    fn assign(
        &self,
        centres: &[f64],
        k: usize,
        labels: &mut [u32],
        update: bool,
    ) -> (Vec<f64>, Vec<u64>);
    /// Squared distance of every point to its labelled centre, computed as `Σ (x - c)²`.
    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64>;

    /// For each of `targets` (row-major, `d` per target) write into `out[t]` every point's
    /// squared distance to it, lowered to `floor[i]` where that is smaller (`v.min(floor)`),
    /// and return each `out[t]`'s [`chunked_sum`]. Each `out[t]` has `n` entries; k-means++
    /// keeps them from step to step, so no step allocates (or page-faults) new vectors.
    fn min_dists_into(
        &self,
        targets: &[f64],
        floor: Option<&[f64]>,
        out: &mut [Vec<f64>],
    ) -> Vec<f64> {
        self.sq_dists_to(targets)
            .into_iter()
            .zip(out.iter_mut())
            .map(|(mut dist, o)| {
                if let Some(floor) = floor {
                    dist.par_iter_mut()
                        .zip(floor.par_iter())
                        .for_each(|(v, c)| *v = v.min(*c));
                }
                *o = dist;
                chunked_sum(o)
            })
            .collect()
    }

    /// The inertia of `labels` under `centres`: [`chunked_sum`] of [`Points::own_dists`].
    fn inertia(&self, centres: &[f64], labels: &[u32]) -> f64 {
        chunked_sum(&self.own_dists(centres, labels))
    }

    /// Label every point with its nearest of `centres` ([`Points::assign`] without the sums)
    /// and return the inertia of those labels ([`Points::inertia`]).
    fn relabel_inertia(&self, centres: &[f64], k: usize, labels: &mut [u32]) -> f64 {
        self.assign(centres, k, labels, false);
        self.inertia(centres, labels)
    }
}

/// One k-means run's result (centres in centred coordinates, row-major).
pub(crate) struct Run {
    pub centres: Vec<f64>,
    pub labels: Vec<u32>,
    pub inertia: f64,
    pub n_iter: usize,
}

/// A uniform f64 in [0, 1) from the top 53 bits of the generator's next u64.
pub(crate) fn uniform(rng: &mut Pcg64) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An index in `0..n`, uniformly (multiply-shift; the bias is below 2^-40 for n < 2^24).
pub(crate) fn below(rng: &mut Pcg64, n: usize) -> usize {
    ((rng.next_u64() as u128 * n as u128) >> 64) as usize
}

/// Sum in fixed chunks merged in order (deterministic for any thread count).
pub(crate) fn chunked_sum(v: &[f64]) -> f64 {
    let parts: Vec<f64> = v.par_chunks(CHUNK).map(|c| c.iter().sum()).collect();
    parts.iter().sum()
}

/// Candidates per k-means++ step: scikit-learn's `2 + ln k`.
fn trials(k: usize) -> usize {
    2 + (k as f64).ln() as usize
}

/// Bytes k-means++ holds over `n` points: per point the distance to the closest centre, its
/// running sum, and each candidate's distance.
pub(crate) fn seeding_bytes(n: usize, k: usize) -> usize {
    (2 + trials(k)) * n * std::mem::size_of::<f64>()
}

/// Bytes a Lloyd run holds over `n` points: the labels and the previous step's (for the
/// convergence test), and a distance per point (the inertia, the relocation of empty
/// clusters). Only the labels stay charged after the run, until the caller lets them go.
pub(crate) fn lloyd_bytes(n: usize) -> usize {
    n * (2 * std::mem::size_of::<u32>() + std::mem::size_of::<f64>())
}

/// Bytes of a run's labels.
pub(crate) fn labels_bytes(n: usize) -> usize {
    n * std::mem::size_of::<u32>()
}

/// Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): the first centre uniformly at random,
/// then each next one the best, by resulting potential, of `2 + ln k` candidates sampled with
/// probability proportional to the squared distance to the nearest chosen centre. All of a
/// step's candidates are measured in one pass over the points. Its per-point distances are
/// reserved from `budget` ([`seeding_bytes`]) for the duration.
pub(crate) fn kmeans_plusplus(
    p: &impl Points,
    k: usize,
    rng: &mut Pcg64,
    budget: &Reservation,
) -> Result<Vec<f64>> {
    let (n, d) = (p.n(), p.d());
    let trials = trials(k);
    budget.try_grow(seeding_bytes(n, k))?;
    let mut centres = Vec::with_capacity(k * d);
    let first = ((uniform(rng) * n as f64) as usize).min(n - 1);
    p.push_row(first, &mut centres);
    // The distance vectors live for the whole seeding: a step writes its candidates'
    // distances into `cand` and swaps the winner with `closest`.
    let mut closest = vec![Vec::new()];
    let mut pot = p.min_dists_into(&centres, None, &mut closest)[0];
    let mut closest = closest.swap_remove(0);
    let mut cand: Vec<Vec<f64>> = (0..trials).map(|_| Vec::new()).collect();
    let mut cumsum = vec![0.0; n];
    let mut cands = Vec::with_capacity(trials * d);
    for _ in 1..k {
        let mut acc = 0.0;
        for (c, v) in cumsum.iter_mut().zip(&closest) {
            acc += v;
            *c = acc;
        }
        let ids: Vec<usize> = (0..trials)
            .map(|_| {
                let r = uniform(rng) * pot;
                // numpy.searchsorted(side="left"), clipped to the last row.
                cumsum.partition_point(|&c| c < r).min(n - 1)
            })
            .collect();
        cands.clear();
        for &id in &ids {
            p.push_row(id, &mut cands);
        }
        let pots = p.min_dists_into(&cands, Some(&closest), &mut cand);
        let mut best: Option<(f64, usize)> = None;
        for (t, &pt) in pots.iter().enumerate() {
            if best.is_none_or(|(bp, _)| pt < bp) {
                best = Some((pt, t));
            }
        }
        if let Some((pt, t)) = best {
            pot = pt;
            std::mem::swap(&mut closest, &mut cand[t]);
            p.push_row(ids[t], &mut centres);
        }
    }
    drop((closest, cand, cumsum));
    budget.shrink(seeding_bytes(n, k));
    Ok(centres)
}

/// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes the point farthest
/// from its current centre (farthest first; ties by lower row index), moving that point's
/// weight out of its old cluster. Labels are left as they are, as in scikit-learn. The
/// distances are part of [`lloyd_bytes`]; the row order beside them is reserved here.
fn relocate_empty(
    p: &impl Points,
    old_centres: &[f64],
    labels: &[u32],
    sums: &mut [f64],
    counts: &mut [u64],
    budget: &Reservation,
) -> Result<()> {
    let d = p.d();
    let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0).collect();
    if empty.is_empty() {
        return Ok(());
    }
    let dist = p.own_dists(old_centres, labels);
    if dist.iter().fold(0.0f64, |m, &v| m.max(v)) == 0.0 {
        // More clusters than distinct points: relocating is pointless (as scikit-learn).
        return Ok(());
    }
    let order_bytes = dist.len() * std::mem::size_of::<usize>();
    budget.try_grow(order_bytes)?;
    let mut order: Vec<usize> = (0..dist.len()).collect();
    let m = empty.len().min(order.len());
    order.select_nth_unstable_by(m - 1, |&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    let mut far = order[..m].to_vec();
    far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    let mut row = Vec::with_capacity(d);
    for (&new, &i) in empty.iter().zip(&far) {
        let old = labels[i] as usize;
        row.clear();
        p.push_row(i, &mut row);
        for f in 0..d {
            sums[old * d + f] -= row[f];
            sums[new * d + f] = row[f];
        }
        counts[new] = 1;
        counts[old] -= 1;
    }
    budget.shrink(order_bytes);
    Ok(())
}

/// `Σ (a - b)²` of two equally long rows.
fn sq_shift(a: &[f64], b: &[f64]) -> f64 {
    kernels::sq_dist(a, b)
}

/// Lloyd's algorithm from `centres` (scikit-learn's `_kmeans_single_lloyd`): stop when the
/// labels stop changing or the squared centre shift falls to `tol`; a final E-step makes the
/// labels belong to the returned centres. Reserves [`lloyd_bytes`] from `budget`, and leaves
/// the returned labels' [`labels_bytes`] reserved.
pub(crate) fn lloyd(
    p: &impl Points,
    mut centres: Vec<f64>,
    k: usize,
    max_iter: usize,
    tol: f64,
    budget: &Reservation,
) -> Result<Run> {
    let (n, d) = (p.n(), p.d());
    budget.try_grow(lloyd_bytes(n))?;
    let mut labels = vec![0u32; n];
    let mut labels_old: Option<Vec<u32>> = None;
    let mut strict = false;
    let mut n_iter = 0;
    for it in 0..max_iter {
        n_iter = it + 1;
        let (mut sums, mut counts) = p.assign(&centres, k, &mut labels, true);
        relocate_empty(p, &centres, &labels, &mut sums, &mut counts, budget)?;
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
            .map(|j| sq_shift(&sums[j * d..(j + 1) * d], &centres[j * d..(j + 1) * d]))
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
    drop(labels_old);
    let inertia = if strict {
        p.inertia(&centres, &labels)
    } else {
        // Re-run the E-step so the labels belong to the final centres.
        p.relabel_inertia(&centres, k, &mut labels)
    };
    budget.shrink(lloyd_bytes(n) - labels_bytes(n));
    Ok(Run {
        centres,
        labels,
        inertia,
        n_iter,
    })
}

/// scikit-learn's `_is_same_clustering`: the two labelings are equal up to a renaming of
/// the clusters.
pub(crate) fn same_clustering(a: &[u32], b: &[u32], k: usize) -> bool {
    let mut map = vec![u32::MAX; k];
    for (&x, &y) in a.iter().zip(b) {
        let m = &mut map[x as usize];
        if *m == u32::MAX {
            *m = y;
        } else if *m != y {
            return false;
        }
    }
    true
}

/// Centred points as one row-major `f64` matrix, scanned by the register-tiled kernels.
pub(crate) struct RowMajor {
    pub x: Vec<f64>,
    pub d: usize,
    pub isa: Isa,
}

impl Points for RowMajor {
    fn n(&self) -> usize {
        self.x.len() / self.d.max(1)
    }

    fn d(&self) -> usize {
        self.d
    }

    fn push_row(&self, i: usize, out: &mut Vec<f64>) {
        out.extend_from_slice(&self.x[i * self.d..(i + 1) * self.d]);
    }

    fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>> {
        let d = self.d;
        targets
            .chunks(d)
            .map(|t| {
                self.x
                    .par_chunks(CHUNK * d)
                    .flat_map_iter(|xc| xc.chunks(d).map(|r| kernels::sq_dist(r, t)))
                    .collect()
            })
            .collect()
    }

    fn assign(
        &self,
        centres: &[f64],
        k: usize,
        labels: &mut [u32],
        update: bool,
    ) -> (Vec<f64>, Vec<u64>) {
        assign_rows(self.isa, &self.x, self.d, centres, k, labels, update)
    }

    fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64> {
        let d = self.d;
        self.x
            .par_chunks(CHUNK * d)
            .zip(labels.par_chunks(CHUNK))
            .flat_map_iter(|(xc, lc)| {
                xc.chunks(d).zip(lc).map(move |(r, &l)| {
                    kernels::sq_dist(r, &centres[l as usize * d..(l as usize + 1) * d])
                })
            })
            .collect()
    }

    /// One pass over the rows for all targets at once (each row is loaded once, not once per
    /// target), writing in place; each chunk sums its own stretch of every output right after
    /// writing it, while it is in cache, in the order [`chunked_sum`] does.
    fn min_dists_into(
        &self,
        targets: &[f64],
        floor: Option<&[f64]>,
        out: &mut [Vec<f64>],
    ) -> Vec<f64> {
        let (n, d) = (self.n(), self.d);
        let t = targets.len() / d.max(1);
        for o in out.iter_mut() {
            o.resize(n, 0.0);
        }
        // Chunk c of every output, as one list per chunk.
        let mut per_chunk: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(CHUNK)).map(|_| vec![]).collect();
        for o in out[..t].iter_mut() {
            for (c, s) in o.chunks_mut(CHUNK).enumerate() {
                per_chunk[c].push(s);
            }
        }
        let parts: Vec<Vec<f64>> = self
            .x
            .par_chunks(CHUNK * d)
            .zip(per_chunk.into_par_iter())
            .enumerate()
            .map(|(c, (xc, mut outs))| {
                let fl = floor.map(|f| &f[c * CHUNK..c * CHUNK + xc.len() / d]);
                kernels::min_dists(self.isa, xc, d, targets, fl, &mut outs)
            })
            .collect();
        (0..t).map(|j| parts.iter().map(|p| p[j]).sum()).collect()
    }

    /// Both in one pass: each chunk is labelled, then its distances summed while it is in
    /// cache (the same arithmetic as the two passes, so the same bits).
    fn relabel_inertia(&self, centres: &[f64], k: usize, labels: &mut [u32]) -> f64 {
        let d = self.d;
        let packed = PackedCentres::new(centres, k, d);
        let parts: Vec<f64> = self
            .x
            .par_chunks(CHUNK * d)
            .zip(labels.par_chunks_mut(CHUNK))
            .map(|(xc, lc)| {
                kernels::assign(self.isa, xc, &packed, lc, None);
                kernels::labelled_sq_dist_sum(self.isa, xc, d, lc, centres)
            })
            .collect();
        parts.iter().sum()
    }

    /// [`Points::own_dists`] summed chunk by chunk as they are computed, never stored.
    fn inertia(&self, centres: &[f64], labels: &[u32]) -> f64 {
        let d = self.d;
        let parts: Vec<f64> = self
            .x
            .par_chunks(CHUNK * d)
            .zip(labels.par_chunks(CHUNK))
            .map(|(xc, lc)| kernels::labelled_sq_dist_sum(self.isa, xc, d, lc, centres))
            .collect();
        parts.iter().sum()
    }
}

/// Label the rows of a row-major block `x` with the nearest of `centres` and, when `update`,
/// return the per-cluster sums and counts merged in chunk order.
pub(crate) fn assign_rows(
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
    let parts = parts.into_iter().map(|(s, c)| (vec![], s, c));
    merge_assigned(parts, labels, 0, (k, d), update)
}

/// Chunks' labels, centre sums (k x d) and counts, in chunk order: each chunk's labels copied
/// to its place (chunks of `chunk_rows` rows; nothing to copy when they are in place already),
/// its sums and counts added in chunk order. Zeros when there are no parts (a failed pass).
pub(crate) fn merge_assigned(
    parts: impl IntoIterator<Item = (Vec<u32>, Vec<f64>, Vec<u64>)>,
    labels: &mut [u32],
    chunk_rows: usize,
    (k, d): (usize, usize),
    update: bool,
) -> (Vec<f64>, Vec<u64>) {
    let mut sums = vec![0.0; if update { k * d } else { 0 }];
    let mut counts = vec![0u64; if update { k } else { 0 }];
    for (c, (lc, s, cn)) in parts.into_iter().enumerate() {
        labels[c * chunk_rows..c * chunk_rows + lc.len()].copy_from_slice(&lc);
        for (t, v) in sums.iter_mut().zip(s) {
            *t += v;
        }
        for (t, v) in counts.iter_mut().zip(cn) {
            *t += v;
        }
    }
    (sums, counts)
}

/// Each chunk's distances to every target (one vector per target) as one vector per target
/// over all `n` points, in chunk order; zeros when the pass failed (`None`).
pub(crate) fn per_target(
    parts: Option<Vec<Vec<Vec<f64>>>>,
    targets: usize,
    n: usize,
) -> Vec<Vec<f64>> {
    (0..targets)
        .map(|t| match &parts {
            Some(parts) => parts.iter().flat_map(|p| p[t].iter().copied()).collect(),
            None => vec![0.0; n],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;

    use super::*;
    use crate::error::Error;
    use crate::memory::MemoryPool;

    /// Three tight groups of `n / 3` points on a line, `n` points in all.
    fn groups(n: usize) -> RowMajor {
        RowMajor {
            x: (0..n)
                .map(|i| (i % 3) as f64 * 10.0 + (i as f64) * 1e-4)
                .collect(),
            d: 1,
            isa: Isa::detect(),
        }
    }

    #[test]
    fn seeding_reserves_its_distances() {
        let (n, k) = (1000, 3);
        let p = groups(n);
        let want = seeding_bytes(n, k);
        assert_eq!(want, (2 + 3) * n * 8);
        let pool = MemoryPool::unbounded();
        let budget = pool.reserve("FIT");
        let mut rng = Pcg64::seed_from_u64(1);
        assert!(kmeans_plusplus(&p, k, &mut rng, &budget).is_ok());
        assert_eq!((pool.peak(), budget.size()), (want, 0));
        let short = MemoryPool::new(want - 1).reserve("FIT");
        let mut rng = Pcg64::seed_from_u64(1);
        assert!(matches!(
            kmeans_plusplus(&p, k, &mut rng, &short),
            Err(Error::MemoryLimit { .. })
        ));
    }

    #[test]
    fn lloyd_reserves_its_labels_and_keeps_the_returned_ones() {
        let n = 999;
        let p = groups(n);
        let init = vec![0.0, 10.0, 20.0];
        let pool = MemoryPool::unbounded();
        let budget = pool.reserve("FIT");
        let run = lloyd(&p, init.clone(), 3, 300, 0.0, &budget).expect("run");
        assert_eq!(run.labels.len(), n);
        assert_eq!(pool.peak(), lloyd_bytes(n));
        assert_eq!(budget.size(), labels_bytes(n));
        let short = MemoryPool::new(lloyd_bytes(n) - 1).reserve("FIT");
        assert!(matches!(
            lloyd(&p, init, 3, 300, 0.0, &short),
            Err(Error::MemoryLimit { .. })
        ));
    }

    #[test]
    fn relocating_an_empty_cluster_reserves_the_row_order() {
        let n = 999;
        let p = groups(n);
        // The third centre is far from every point: its cluster starts empty.
        let init = vec![0.0, 10.0, 1e6];
        let pool = MemoryPool::unbounded();
        let run = lloyd(&p, init.clone(), 3, 300, 0.0, &pool.reserve("FIT")).expect("run");
        assert_eq!(run.labels.iter().filter(|&&l| l == 2).count(), n / 3);
        assert_eq!(pool.peak(), lloyd_bytes(n) + n * 8);
        let short = MemoryPool::new(lloyd_bytes(n) + n * 8 - 1).reserve("FIT");
        assert!(matches!(
            lloyd(&p, init, 3, 300, 0.0, &short),
            Err(Error::MemoryLimit { .. })
        ));
    }

    /// Row-major points seen only through the required [`Points`] methods, so k-means++ and
    /// Lloyd's run on the trait's default (unfused) passes.
    struct Unfused(RowMajor);

    impl Points for Unfused {
        fn n(&self) -> usize {
            self.0.n()
        }
        fn d(&self) -> usize {
            self.0.d()
        }
        fn push_row(&self, i: usize, out: &mut Vec<f64>) {
            self.0.push_row(i, out)
        }
        fn sq_dists_to(&self, targets: &[f64]) -> Vec<Vec<f64>> {
            self.0.sq_dists_to(targets)
        }
        fn assign(
            &self,
            centres: &[f64],
            k: usize,
            labels: &mut [u32],
            update: bool,
        ) -> (Vec<f64>, Vec<u64>) {
            self.0.assign(centres, k, labels, update)
        }
        fn own_dists(&self, centres: &[f64], labels: &[u32]) -> Vec<f64> {
            self.0.own_dists(centres, labels)
        }
    }

    #[test]
    fn fused_passes_give_the_unfused_bits() {
        // Clustered rows, uniform rows and duplicates (zero distances), over several chunks.
        let (n, d) = (3 * CHUNK + 77, 5);
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let clustered: Vec<f64> = (0..n * d)
            .map(|i| ((i / d) % 7) as f64 * 40.0 * ((i % d) as f64 - 2.0) + noise())
            .collect();
        let uniform: Vec<f64> = (0..n * d).map(|_| noise() * 100.0).collect();
        let dups: Vec<f64> = (0..n * d).map(|i| ((i / d) % 3) as f64).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for x in [clustered, uniform, dups] {
            for (k, seed, tol) in [(8, 0, 0.0), (3, 2, 1e-3), (20, 3, 0.0)] {
                let fused = RowMajor {
                    x: x.clone(),
                    d,
                    isa: Isa::detect(),
                };
                let budget = MemoryPool::unbounded().reserve("FIT");
                let mut rng = Pcg64::seed_from_u64(seed);
                let a = kmeans_plusplus(&fused, k, &mut rng, &budget).expect("fused");
                let ra = lloyd(&fused, a.clone(), k, 50, tol, &budget).expect("fused run");
                let unfused = Unfused(fused);
                let mut rng = Pcg64::seed_from_u64(seed);
                let b = kmeans_plusplus(&unfused, k, &mut rng, &budget).expect("unfused");
                let rb = lloyd(&unfused, b.clone(), k, 50, tol, &budget).expect("unfused run");
                assert_eq!(bits(&a), bits(&b), "k={k} seed={seed}");
                assert_eq!(bits(&ra.centres), bits(&rb.centres), "k={k} seed={seed}");
                assert_eq!(ra.labels, rb.labels);
                assert_eq!(ra.inertia.to_bits(), rb.inertia.to_bits());
                assert_eq!(ra.n_iter, rb.n_iter);
            }
        }
    }

    #[test]
    fn same_clustering_up_to_renaming() {
        assert!(same_clustering(&[0, 0, 1, 2], &[2, 2, 0, 1], 3));
        assert!(!same_clustering(&[0, 0, 1, 2], &[2, 1, 0, 1], 3));
    }

    #[test]
    fn row_major_points() {
        let p = RowMajor {
            x: vec![0.0, 0.0, 3.0, 4.0, 1.0, 0.0],
            d: 2,
            isa: Isa::detect(),
        };
        assert_eq!(p.n(), 3);
        let dists = p.sq_dists_to(&[0.0, 0.0, 3.0, 4.0]);
        assert_eq!(dists, vec![vec![0.0, 25.0, 1.0], vec![25.0, 0.0, 20.0]]);
        let mut labels = vec![0; 3];
        let (sums, counts) = p.assign(&[0.0, 0.0, 3.0, 4.0], 2, &mut labels, true);
        assert_eq!(labels, vec![0, 1, 0]);
        assert_eq!(counts, vec![2, 1]);
        assert_eq!(sums, vec![1.0, 0.0, 3.0, 4.0]);
        assert_eq!(
            p.own_dists(&[0.5, 0.0, 3.0, 4.0], &labels),
            vec![0.25, 0.0, 0.25]
        );
    }
}
