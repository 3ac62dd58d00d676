//! Kernels of the random family (`expr::random`): seeded random numbers, permutations and
//! samples, NumPy's `np.random.default_rng(seed)` reproduced.
//!
//! The generator is PCG64 (XSL-RR 128/64, `rand_pcg::Pcg64`), seeded exactly as NumPy seeds
//! `default_rng(seed)` (its `SeedSequence` hash of the seed into 128-bit state and stream), so
//! that, for the same seed:
//!
//! - `rand_uniform(low, high, seed)` gives NumPy's `rng.uniform(low, high, n)` bit for bit
//!   (`low + (high - low) * u`, `u = (x >> 11) * 2^-53` from one 64-bit draw `x` per row);
//! - `rand_int(low, high, seed)` gives NumPy's `rng.integers(low, high, n)` (Lemire's bounded
//!   method on 32-bit halves or 64-bit draws, with NumPy's rejection rule);
//! - `shuffle(seed)` gives NumPy's `rng.permutation(n)` (Fisher-Yates from the end with masked
//!   rejection), and `sample_n(k, seed, false)` the last `k` of that permutation after `k`
//!   steps (NumPy's `rng.permutation(n)[n - k:]`); with replacement it is
//!   `rng.integers(0, n, k)`.
//! - `rand_normal(mean, std, seed)` uses the Box-Muller transform, not NumPy's ziggurat (whose
//!   tables we do not copy): rows `2j` and `2j + 1` use draws `u1 = draw 2j`, `u2 = draw 2j + 1`:
//!   `r = sqrt(-2 ln(1 - u1))`, `z_2j = r cos(2 pi u2)`, `z_2j+1 = r sin(2 pi u2)`.
//!
//! Values never depend on the thread count or morsel size: uniform and normal values are
//! generated in fixed 64K-row blocks in parallel, each block jumping the generator to its first
//! draw with PCG's O(log n) `advance`; integers, shuffles and samples (whose draws per row vary
//! with rejections) run sequentially. Across platforms `ln`, `sin` and `cos` may differ in the
//! last bit, so normal values are reproducible per platform; the others everywhere.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array};
use arrow::datatypes::DataType;
use rand_core::Rng;
use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::gather::{input_column, take};
use super::Kernel;
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, RandomFunction};

/// Rows per parallel block (any fixed even number gives the same values; this is the cost of
/// a block's `advance`, amortized).
const BLOCK: usize = 1 << 16;

/// NumPy's `SeedSequence(seed).generate_state(4, uint64)`: the entropy pool hash.
fn seed_sequence_state(seed: u64) -> [u64; 4] {
    const INIT_A: u32 = 0x43b0_d7e5;
    const MULT_A: u32 = 0x931e_8875;
    const INIT_B: u32 = 0x8b51_f9dd;
    const MULT_B: u32 = 0x58f3_8ded;
    const MIX_MULT_L: u32 = 0xca01_f9dd;
    const MIX_MULT_R: u32 = 0x4973_f715;
    const XSHIFT: u32 = 16;
    // The seed as 32-bit words, least significant first (0 is one zero word).
    let mut entropy = vec![seed as u32];
    if seed >> 32 != 0 {
        entropy.push((seed >> 32) as u32);
    }
    let mut hash_const = INIT_A;
    let mut hashmix = |value: u32| {
        let mut v = value ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_A);
        v = v.wrapping_mul(hash_const);
        v ^ (v >> XSHIFT)
    };
    let mix = |x: u32, y: u32| {
        let r = MIX_MULT_L
            .wrapping_mul(x)
            .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
        r ^ (r >> XSHIFT)
    };
    let mut pool = [0u32; 4];
    for (i, p) in pool.iter_mut().enumerate() {
        *p = hashmix(entropy.get(i).copied().unwrap_or(0));
    }
    for src in 0..4 {
        for dst in 0..4 {
            if src != dst {
                let h = hashmix(pool[src]);
                pool[dst] = mix(pool[dst], h);
            }
        }
    }
    // (No entropy words beyond the pool size: a u64 seed has at most two.)
    let mut hash_b = INIT_B;
    let mut words = [0u32; 8];
    for (i, w) in words.iter_mut().enumerate() {
        let mut v = pool[i % 4] ^ hash_b;
        hash_b = hash_b.wrapping_mul(MULT_B);
        v = v.wrapping_mul(hash_b);
        *w = v ^ (v >> XSHIFT);
    }
    let mut out = [0u64; 4];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u64::from(words[2 * i]) | (u64::from(words[2 * i + 1]) << 32);
    }
    out
}

/// The PCG64 generator of NumPy's `np.random.default_rng(seed)`, before its first draw.
pub fn numpy_pcg64(seed: u64) -> Pcg64 {
    let s = seed_sequence_state(seed);
    let state = (u128::from(s[0]) << 64) | u128::from(s[1]);
    let stream = (u128::from(s[2]) << 64) | u128::from(s[3]);
    Pcg64::new(state, stream)
}

/// A uniform double in `[0, 1)` from one draw, NumPy's `next_double`.
#[inline]
fn to_unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// NumPy's bit generator interface over PCG64: 64-bit draws, and 32-bit draws that use the
/// low then the high half of a 64-bit draw.
struct BitGen {
    pcg: Pcg64,
    half: Option<u32>,
}

impl BitGen {
    fn new(seed: u64) -> Self {
        Self {
            pcg: numpy_pcg64(seed),
            half: None,
        }
    }
    fn next_u64(&mut self) -> u64 {
        self.pcg.next_u64()
    }
    fn next_u32(&mut self) -> u32 {
        match self.half.take() {
            Some(h) => h,
            None => {
                let x = self.pcg.next_u64();
                self.half = Some((x >> 32) as u32);
                x as u32
            }
        }
    }
    /// NumPy's `random_interval`: uniform in `0..=max` by masked rejection.
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u64::from(u32::MAX) {
            loop {
                let v = u64::from(self.next_u32()) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

/// Fill `n` values in parallel blocks; block `b` starts at draw `b * BLOCK * draws_per_row`.
fn fill_blocks<T: Copy + Default + Send>(
    n: usize,
    seed: u64,
    draws_per_row: u128,
    f: impl Fn(&mut Pcg64, &mut [T]) + Sync,
) -> Vec<T> {
    let base = numpy_pcg64(seed);
    let mut out = vec![T::default(); n];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(b, chunk)| {
            let mut rng = base.clone();
            rng.advance((b * BLOCK) as u128 * draws_per_row);
            f(&mut rng, chunk);
        });
    out
}

/// `n` uniform values in `[low, high)`: NumPy's `default_rng(seed).uniform(low, high, n)`.
pub fn uniform(n: usize, low: f64, high: f64, seed: u64) -> Vec<f64> {
    let range = high - low;
    fill_blocks(n, seed, 1, |rng, out| {
        for v in out {
            *v = low + range * to_unit(rng.next_u64());
        }
    })
}

/// `n` normal values by Box-Muller (see the module docs for the exact transform).
pub fn normal(n: usize, mean: f64, std: f64, seed: u64) -> Vec<f64> {
    fill_blocks(n, seed, 1, |rng, out| {
        for pair in out.chunks_mut(2) {
            let u1 = to_unit(rng.next_u64());
            let u2 = to_unit(rng.next_u64());
            // 1 - u1 is in (0, 1], so the logarithm is finite.
            let r = (-2.0 * (1.0 - u1).ln()).sqrt();
            let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
            pair[0] = mean + std * r * c;
            if let Some(second) = pair.get_mut(1) {
                *second = mean + std * r * s;
            }
        }
    })
}

/// `n` integers in `[low, high)`: NumPy's `default_rng(seed).integers(low, high, n)`.
pub fn integers(n: usize, low: i64, high: i64, seed: u64) -> Result<Vec<i64>> {
    if low >= high {
        return Err(Error::Plan(format!(
            "rand_int needs low < high, got low={low}, high={high}"
        )));
    }
    let mut g = BitGen::new(seed);
    // NumPy draws from the closed range [0, rng] and adds the offset.
    let rng = high.wrapping_sub(low) as u64 - 1;
    Ok(bounded(&mut g, rng, n)
        .into_iter()
        .map(|v| low.wrapping_add(v as i64))
        .collect())
}

/// NumPy's `random_bounded_uint64_fill` (unmasked): `n` values uniform in `0..=rng`.
fn bounded(g: &mut BitGen, rng: u64, n: usize) -> Vec<u64> {
    if rng == 0 {
        return vec![0; n];
    }
    if rng <= u64::from(u32::MAX) {
        // 32-bit path with its own buffer of halves (low half first), as NumPy.
        let mut buf: Option<u32> = None;
        let mut next32 = || match buf.take() {
            Some(h) => h,
            None => {
                let x = g.next_u64();
                buf = Some((x >> 32) as u32);
                x as u32
            }
        };
        if rng == u64::from(u32::MAX) {
            return (0..n).map(|_| u64::from(next32())).collect();
        }
        let excl = rng as u32 + 1;
        let threshold = (u32::MAX - rng as u32) % excl;
        return (0..n)
            .map(|_| loop {
                let m = u64::from(next32()) * u64::from(excl);
                // NumPy redraws while the low half is below the threshold.
                if (m as u32) >= threshold {
                    break m >> 32;
                }
            })
            .collect();
    }
    if rng == u64::MAX {
        return (0..n).map(|_| g.next_u64()).collect();
    }
    let excl = rng + 1;
    let threshold = (u64::MAX - rng) % excl;
    (0..n)
        .map(|_| loop {
            let m = u128::from(g.next_u64()) * u128::from(excl);
            if (m as u64) >= threshold {
                break (m >> 64) as u64;
            }
        })
        .collect()
}

/// A random permutation of `0..n`: NumPy's `default_rng(seed).permutation(n)`.
pub fn permutation(n: usize, seed: u64) -> Vec<u64> {
    let mut idx: Vec<u64> = (0..n as u64).collect();
    shuffle_tail(&mut idx, n, seed);
    idx
}

/// NumPy's in-place shuffle loop for `i = n-1, n-2, .., n-steps` (stopping at 1): afterwards
/// the last `steps` positions hold a uniform sample without replacement.
fn shuffle_tail(idx: &mut [u64], steps: usize, seed: u64) {
    let n = idx.len();
    let mut g = BitGen::new(seed);
    let first = n.saturating_sub(steps).max(1);
    for i in (first..n).rev() {
        let j = g.interval(i as u64) as usize;
        idx.swap(i, j);
    }
}

/// `k` row numbers out of `0..n`: without replacement the last `k` of NumPy's permutation after
/// `k` shuffle steps, with replacement NumPy's `integers(0, n, k)`.
pub fn sample(n: usize, k: usize, replace: bool, seed: u64) -> Result<Vec<u64>> {
    if replace {
        if n == 0 && k > 0 {
            return Err(Error::Compute(format!(
                "cannot sample {k} values with replacement from an empty input"
            )));
        }
        if k == 0 {
            return Ok(vec![]);
        }
        let mut g = BitGen::new(seed);
        return Ok(bounded(&mut g, n as u64 - 1, k));
    }
    if k > n {
        return Err(Error::Compute(format!(
            "cannot sample {k} values without replacement from {n}; use replace=true or a smaller sample"
        )));
    }
    let mut idx: Vec<u64> = (0..n as u64).collect();
    shuffle_tail(&mut idx, k, seed);
    Ok(idx.split_off(n - k))
}

impl Kernel for RandomFunction {
    fn invoke(&self, mut args: Vec<Value>, rows: usize, _out: &DataType) -> Result<Value> {
        let out: ArrayRef = match self {
            RandomFunction::RandUniform { low, high, seed } => {
                Arc::new(Float64Array::from(uniform(rows, *low, *high, *seed)))
            }
            RandomFunction::RandNormal { mean, std, seed } => {
                Arc::new(Float64Array::from(normal(rows, *mean, *std, *seed)))
            }
            RandomFunction::RandInt { low, high, seed } => {
                Arc::new(Int64Array::from(integers(rows, *low, *high, *seed)?))
            }
            RandomFunction::Shuffle { seed } => {
                let values = input_column(&mut args, self.name())?;
                take(&values, permutation(values.len(), *seed))?
            }
            RandomFunction::SampleN {
                n: k,
                seed,
                replace,
            } => {
                let values = input_column(&mut args, self.name())?;
                take(&values, sample(values.len(), *k, *replace, *seed)?)?
            }
            RandomFunction::SampleFrac {
                frac,
                seed,
                replace,
            } => {
                let values = input_column(&mut args, self.name())?;
                let n = values.len();
                // Truncate, as Polars does.
                let k = (*frac * n as f64) as usize;
                take(&values, sample(n, k, *replace, *seed)?)?
            }
        };
        Ok(Value::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_seed_sequence_and_first_draws() {
        // np.random.SeedSequence(42).generate_state(4, np.uint64)
        assert_eq!(
            seed_sequence_state(42),
            [
                0x9f1e_2e6d_cd54_0ab7,
                0xd578_73dc_79fb_94b6,
                0x7d28_2a1b_64d4_20b7,
                0x3365_7971_4692_d5ff
            ]
        );
        // np.random.PCG64(42).random_raw(3)
        let mut g = numpy_pcg64(42);
        assert_eq!(g.next_u64(), 0xc621_fbcd_16d9_2688);
        assert_eq!(g.next_u64(), 0x705a_5661_a791_ffc1);
        assert_eq!(g.next_u64(), 0xdbcd_12c2_6eda_1624);
        // np.random.default_rng(42).random(3)
        assert_eq!(
            uniform(3, 0.0, 1.0, 42),
            vec![0.7739560485559633, 0.4388784397520523, 0.8585979199113825]
        );
    }

    #[test]
    fn blocks_match_one_sequential_stream() {
        let n = BLOCK * 2 + 17;
        let par = uniform(n, 0.0, 1.0, 7);
        let mut g = numpy_pcg64(7);
        let seq: Vec<f64> = (0..n).map(|_| to_unit(g.next_u64())).collect();
        assert_eq!(par, seq);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(
            one.install(|| normal(n, 0.0, 1.0, 9)),
            normal(n, 0.0, 1.0, 9)
        );
    }

    #[test]
    fn normal_moments() {
        let v = normal(1_000_000, 2.0, 3.0, 1);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!((mean - 2.0).abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 3.0).abs() < 0.02, "{}", var.sqrt());
    }

    #[test]
    fn integers_and_samples_in_range() {
        let v = integers(10_000, -3, 4, 5).unwrap();
        assert!(v.iter().all(|x| (-3..4).contains(x)));
        assert!((-3..4).all(|k| v.contains(&k)));
        let big = integers(1000, i64::MIN, i64::MAX, 5).unwrap();
        assert!(big.iter().any(|x| *x < 0) && big.iter().any(|x| *x > 0));
        assert!(integers(3, 2, 2, 0).is_err());
        let mut p = permutation(1000, 3);
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<u64>>());
        let s = sample(10, 10, false, 4).unwrap();
        assert_eq!(s, permutation(10, 4));
        assert!(sample(3, 4, false, 0).is_err());
        assert!(sample(0, 1, true, 0).is_err());
        assert_eq!(sample(0, 0, false, 0).unwrap(), Vec::<u64>::new());
    }
}
