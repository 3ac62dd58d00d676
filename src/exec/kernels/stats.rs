//! Numeric building blocks shared by aggregates and window kernels: compensated and pairwise
//! summation, NaN-masked sums and extremes, variance merging, and NumPy-compatible median and
//! quantile by selection.

use arrow::array::{Array, Float64Array};

use super::scale::{nan_min_max, nan_sum_count};

/// Neumaier-compensated running sum.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compensated {
    /// The running sum.
    pub sum: f64,
    /// The accumulated rounding error, added back by [`Compensated::value`].
    pub comp: f64,
}

impl Compensated {
    /// Add `v`.
    pub fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.comp += (self.sum - t) + v;
        } else {
            self.comp += (v - t) + self.sum;
        }
        self.sum = t;
    }
    /// The compensated sum.
    pub fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

/// Pairwise sum (NumPy's scheme: blocks of 128 summed in 8 lanes, halves recursively).
pub fn pairwise_sum(v: &[f64]) -> f64 {
    if v.len() <= 128 {
        let mut lanes = [0.0f64; 8];
        let chunks = v.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..8 {
                lanes[k] += c[k];
            }
        }
        let mut s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for x in rest {
            s += x;
        }
        s
    } else {
        let mid = (v.len() / 2) / 8 * 8;
        pairwise_sum(&v[..mid]) + pairwise_sum(&v[mid..])
    }
}

fn kth(v: &mut [f64], k: usize) -> f64 {
    let (_, x, _) = v.select_nth_unstable_by(k, f64::total_cmp);
    *x
}

/// NumPy's median: the middle value, or the mean of the two middle values.
pub fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let hi = kth(v, n / 2);
    if n % 2 == 1 {
        hi
    } else {
        // After selecting n/2, everything before it is <= it: the lower middle is their max.
        let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    }
}

/// NumPy's default ("linear") quantile, with its interpolation formula.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    let n = v.len();
    let pos = q * (n - 1) as f64;
    let lo_i = pos.floor() as usize;
    let t = pos - lo_i as f64;
    let a = kth(v, lo_i);
    if t == 0.0 || lo_i + 1 >= n {
        return a;
    }
    let b = v[lo_i + 1..].iter().copied().fold(f64::INFINITY, f64::min);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The compensated sum, or the plain one when that is not finite.
pub(crate) fn finite_or(f: Compensated, plain: f64) -> f64 {
    if plain.is_finite() {
        f.value()
    } else {
        plain
    }
}

/// Sum and count of the valid non-NaN values, NaN and nulls counted as zeros in place (the
/// summation order of `scale::nan_sum_count`, so `nan_mean` here and the mean behind
/// `fill_nan_with(Fill::Mean)` agree to the bit over the same chunks).
pub(crate) fn nan_masked_sum(p: &Float64Array) -> (f64, usize) {
    match p.nulls().filter(|n| n.null_count() > 0) {
        None => nan_sum_count(p.values()),
        Some(nulls) => nan_sum_count(&masked(p.values(), nulls)),
    }
}

/// Smallest and largest valid non-NaN value and how many there are (as
/// `scale::nan_min_max`, whose lanes it shares).
pub(crate) fn nan_masked_min_max(p: &Float64Array) -> (f64, f64, usize) {
    match p.nulls().filter(|n| n.null_count() > 0) {
        None => nan_min_max(p.values()),
        Some(nulls) => nan_min_max(&masked(p.values(), nulls)),
    }
}

/// The values with null slots replaced by NaN.
fn masked(v: &[f64], nulls: &arrow::buffer::NullBuffer) -> Vec<f64> {
    v.iter()
        .zip(nulls.iter())
        .map(|(x, ok)| if ok { *x } else { f64::NAN })
        .collect()
}

/// Chan's merge of two (count, mean, M2) variance states into the first.
pub(crate) fn merge_var(n: &mut u64, mean: &mut f64, m2: &mut f64, nb: u64, mb: f64, m2b: f64) {
    if nb == 0 {
        return;
    }
    if *n == 0 {
        *n = nb;
        *mean = mb;
        *m2 = m2b;
        return;
    }
    let (na, nbf) = (*n as f64, nb as f64);
    let total = na + nbf;
    let delta = mb - *mean;
    *mean += delta * nbf / total;
    *m2 += m2b + delta * delta * na * nbf / total;
    *n += nb;
}
