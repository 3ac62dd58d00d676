//! A parallel, stable LSD radix sort of `(u64 key, u32 row)` pairs: the engine of every
//! numeric `arg_sort`, `sort`, `sort_by`, `top_k` and multi-key sort.
//!
//! Values are first mapped to order-preserving unsigned keys ([`f64_key`], [`i64_key`]): the
//! unsigned order of the keys is the sort order (NaN the largest, `-0.0 == 0.0`), and flipping
//! every bit gives the descending order while keeping equal keys in input order. The minimum
//! key is subtracted so that narrow ranges (small integers, dates) need few passes, and a byte
//! whose value is the same for every key costs no pass at all.
//!
//! Each pass is a counting sort on one byte: the pairs are cut into fixed chunks, every chunk
//! counts its bytes (in parallel), a prefix sum gives every (chunk, byte) its own output range,
//! and the chunks scatter into those disjoint ranges (in parallel). Chunk `c` writes its pairs
//! of byte `b` after all pairs of smaller bytes and after chunk `c - 1`'s pairs of byte `b`, so
//! every pass is stable; a stable sort has exactly one result, so the output never depends on
//! the thread count or chunk size. The counts for the next pass are gathered during the
//! scatter (each pair knows which next-pass chunk it lands in), so a pass reads its input once.

use rayon::prelude::*;

/// One row to sort: its order-preserving key and its row number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pair {
    pub key: u64,
    pub row: u32,
}

/// Below this many pairs a plain (stable) comparison sort is faster than radix passes.
const SMALL: usize = 512;
/// Pairs per chunk at least: smaller chunks cost more in counting than they gain.
const MIN_CHUNK: usize = 1 << 15;

/// The order-preserving key of an `f64`: `-inf < .. < -0.0 == 0.0 < .. < inf < NaN`.
///
/// Every NaN (whatever its sign or payload) maps to `u64::MAX`, after `+inf`, so NaN sorts after
/// all numbers ascending and before them descending, as in Polars. `-0.0` is folded into `0.0`
/// so the two compare equal, as in NumPy.
#[inline]
pub fn f64_key(v: f64) -> u64 {
    if v.is_nan() {
        return u64::MAX;
    }
    // Adding +0.0 turns -0.0 into +0.0 and leaves every other value unchanged.
    let b = (v + 0.0).to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// The order-preserving key of an `i64` (flip the sign bit).
#[inline]
pub fn i64_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

/// A raw pointer to the output buffer that the scatter tasks share.
#[derive(Clone, Copy)]
struct Out(*mut Pair);
// SAFETY: the pointer is only used inside `scatter`, where every task writes a range of
// positions that no other task writes (see the comment there), and the buffer outlives the
// parallel section that uses it.
unsafe impl Send for Out {}
// SAFETY: as above; shared references to `Out` only hand out the pointer value.
unsafe impl Sync for Out {}

impl Out {
    /// The pointer (a method, so closures capture the whole `Send` wrapper, not the field).
    fn ptr(self) -> *mut Pair {
        self.0
    }
}

/// Pairs per chunk for `n` pairs on the current pool (any value gives the same result).
fn chunk_len(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads().max(1))
        .max(MIN_CHUNK)
}

fn min_max(a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    (a.0.min(b.0), a.1.max(b.1))
}

/// Sort `pairs` by key, stably (equal keys keep their order), in parallel on the current pool.
pub fn sort_pairs(pairs: &mut Vec<Pair>) {
    if pairs.len() <= SMALL {
        pairs.sort_by_key(|p| p.key);
        return;
    }
    let chunk = chunk_len(pairs.len());
    let range = pairs
        .par_chunks(chunk)
        .map(|c| {
            c.iter()
                .fold((u64::MAX, 0), |m, p| min_max(m, (p.key, p.key)))
        })
        .reduce(|| (u64::MAX, 0), min_max);
    sort_ranged(pairs, range, true);
}

/// [`sort_pairs`] given the smallest and largest key; `restore_keys` puts the keys back as
/// they were (callers that only want the row order skip that pass).
fn sort_ranged(pairs: &mut Vec<Pair>, (min, max): (u64, u64), restore_keys: bool) {
    let n = pairs.len();
    let chunk = chunk_len(n);
    let n_chunks = n.div_ceil(chunk);
    let range = max.saturating_sub(min);
    if range == 0 {
        return; // every key equal: the input order is the stable order
    }
    let bytes = (64 - range.leading_zeros()).div_ceil(8) as usize;

    // Subtract the minimum (narrow ranges need fewer bytes) and count every byte per chunk, for
    // all passes at once (chunk boundaries are the same in the first pass; later passes get
    // theirs from the scatter).
    let mut counts: Vec<Vec<[usize; 256]>> = pairs
        .par_chunks_mut(chunk)
        .map(|c| {
            let mut h = vec![[0usize; 256]; bytes];
            for p in c {
                p.key -= min;
                for (d, hd) in h.iter_mut().enumerate() {
                    hd[((p.key >> (8 * d)) & 0xFF) as usize] += 1;
                }
            }
            h
        })
        .collect();
    // A byte that is the same in every key needs no pass.
    let trivial: Vec<bool> = (0..bytes)
        .map(|d| (0..256).any(|b| counts.iter().map(|h| h[d][b]).sum::<usize>() == n))
        .collect();
    let passes: Vec<usize> = (0..bytes).filter(|d| !trivial[*d]).collect();
    if passes.is_empty() {
        if restore_keys {
            restore(pairs, min, chunk);
        }
        return;
    }

    let mut src = std::mem::take(pairs);
    let mut dst = vec![Pair::default(); n];
    // Per-chunk counts for the current pass's byte.
    let mut cur: Vec<[usize; 256]> = counts.iter().map(|h| h[passes[0]]).collect();
    for (pi, &d) in passes.iter().enumerate() {
        let next = passes.get(pi + 1).copied();
        cur = scatter(&src, &mut dst, &cur, d, next, chunk, n_chunks);
        std::mem::swap(&mut src, &mut dst);
    }
    counts.clear();
    *pairs = src;
    if restore_keys {
        restore(pairs, min, chunk);
    }
}

fn restore(pairs: &mut [Pair], min: u64, chunk: usize) {
    if min != 0 {
        pairs.par_chunks_mut(chunk).for_each(|c| {
            for p in c {
                p.key += min;
            }
        });
    }
}

/// One counting-sort pass on byte `d` from `src` into `dst`; returns the per-chunk counts of
/// byte `next` in `dst` (for the next pass), or empty counts when there is none.
fn scatter(
    src: &[Pair],
    dst: &mut [Pair],
    counts: &[[usize; 256]],
    d: usize,
    next: Option<usize>,
    chunk: usize,
    n_chunks: usize,
) -> Vec<[usize; 256]> {
    let n = src.len();
    // Start of every (chunk, byte) range: all smaller bytes first, then earlier chunks.
    let mut starts = vec![[0usize; 256]; counts.len()];
    let mut pos = 0;
    for b in 0..256 {
        for (c, h) in counts.iter().enumerate() {
            starts[c][b] = pos;
            pos += h[b];
        }
    }
    debug_assert_eq!(pos, n);
    let out = Out(dst.as_mut_ptr());
    let shift = 8 * d;
    let next_shift = next.map(|e| 8 * e);
    let partial: Vec<Vec<[usize; 256]>> = src
        .par_chunks(chunk)
        .zip(starts.into_par_iter())
        .map(|(c, mut at)| {
            let mut next_counts =
                vec![[0usize; 256]; if next_shift.is_some() { n_chunks } else { 0 }];
            for p in c {
                let b = ((p.key >> shift) & 0xFF) as usize;
                let i = at[b];
                at[b] += 1;
                // SAFETY: `i` lies in this chunk's range for byte `b`, which starts at the sum
                // of the counts before it and holds exactly this chunk's count of byte `b`
                // pairs; the ranges of all (chunk, byte) pairs are disjoint and cover `0..n`,
                // so `i < n == dst.len()` and no other task writes position `i`.
                unsafe { out.ptr().add(i).write(*p) };
                if let Some(s) = next_shift {
                    next_counts[i / chunk][((p.key >> s) & 0xFF) as usize] += 1;
                }
            }
            next_counts
        })
        .collect();
    let mut merged = vec![[0usize; 256]; if next.is_some() { n_chunks } else { 0 }];
    for part in partial {
        for (m, p) in merged.iter_mut().zip(part) {
            for b in 0..256 {
                m[b] += p[b];
            }
        }
    }
    merged
}

/// Rows in key order (stable), for keys given per row; `rows` says which rows take part (in
/// their current order), `None` meaning all rows `0..keys.len()`.
pub fn argsort_keys(
    keys: impl Fn(usize) -> u64 + Sync,
    rows: Option<&[u32]>,
    n: usize,
) -> Vec<u32> {
    let m = rows.map_or(n, <[u32]>::len);
    let row_at = |i: usize| rows.map_or(i as u32, |rs| rs[i]);
    let mut pairs = vec![Pair::default(); m];
    if m <= SMALL {
        for (i, p) in pairs.iter_mut().enumerate() {
            let r = row_at(i);
            *p = Pair {
                key: keys(r as usize),
                row: r,
            };
        }
        pairs.sort_by_key(|p| p.key);
        return pairs.into_iter().map(|p| p.row).collect();
    }
    // Build the pairs and find the key range in one parallel pass.
    let chunk = chunk_len(m);
    let range = pairs
        .par_chunks_mut(chunk)
        .enumerate()
        .map(|(c, part)| {
            let mut mm = (u64::MAX, 0);
            for (j, p) in part.iter_mut().enumerate() {
                let r = row_at(c * chunk + j);
                let key = keys(r as usize);
                mm = min_max(mm, (key, key));
                *p = Pair { key, row: r };
            }
            mm
        })
        .reduce(|| (u64::MAX, 0), min_max);
    sort_ranged(&mut pairs, range, false);
    pairs
        .into_par_iter()
        .with_min_len(MIN_CHUNK)
        .map(|p| p.row)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 11
    }

    fn check(keys: Vec<u64>) {
        let mut pairs: Vec<Pair> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Pair {
                key: *k,
                row: i as u32,
            })
            .collect();
        let mut expected = pairs.clone();
        expected.sort_by_key(|p| p.key);
        sort_pairs(&mut pairs);
        assert_eq!(pairs, expected);
    }

    #[test]
    fn matches_std_stable_sort() {
        let mut s = 7;
        for &n in &[0usize, 1, 2, 511, 513, 100_000, 300_001] {
            check((0..n).map(|_| lcg(&mut s)).collect());
            // Few distinct keys: stability matters.
            check((0..n).map(|_| lcg(&mut s) % 5).collect());
            // Narrow range around a large offset: the min subtraction and skipped bytes.
            check((0..n).map(|_| (1 << 62) + lcg(&mut s) % 1000).collect());
            check((0..n).map(|i| u64::MAX - i as u64 % 3).collect());
        }
    }

    #[test]
    fn same_result_for_any_pool_size() {
        let mut s = 3;
        let keys: Vec<u64> = (0..200_000).map(|_| lcg(&mut s) % 1000).collect();
        let run = |t: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            pool.install(|| argsort_keys(|i| keys[i], None, keys.len()))
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn float_keys_order() {
        let v = [
            f64::NAN,
            f64::INFINITY,
            1.5,
            0.0,
            -0.0,
            -1e-300,
            -2.0,
            f64::NEG_INFINITY,
            -f64::NAN,
        ];
        let k: Vec<u64> = v.iter().map(|x| f64_key(*x)).collect();
        assert_eq!(k[0], k[8]); // every NaN is the same key
        assert_eq!(k[3], k[4]); // -0.0 == 0.0
        assert!(k[1] < k[0] && k[2] < k[1] && k[3] < k[2] && k[5] < k[3]);
        assert!(k[6] < k[5] && k[7] < k[6]);
        assert!(i64_key(-1) < i64_key(0) && i64_key(i64::MIN) < i64_key(i64::MAX));
    }
}
