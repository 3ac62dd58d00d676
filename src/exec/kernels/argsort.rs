//! A parallel, stable radix sort of `(u64 key, u32 row)` pairs: the engine of every numeric
//! `arg_sort`, `sort`, `sort_by`, `top_k` and multi-key sort.
//!
//! Values are first mapped to order-preserving unsigned keys ([`f64_key`], [`i64_key`]): the
//! unsigned order of the keys is the sort order (NaN the largest, `-0.0 == 0.0`), and flipping
//! every bit gives the descending order while keeping equal keys in input order. The top bits
//! that the smallest and largest key share are shared by every key and skipped, so narrow
//! ranges (small integers, dates) need few passes, and a byte that is the same in every key
//! costs no pass at all.
//!
//! The sort splits on the top byte first (MSD): a counting sort into 256 buckets, done by all
//! threads for big inputs (fixed chunks count their bytes, a prefix sum gives every
//! (chunk, byte) its own output range, the chunks scatter into those disjoint ranges). Buckets
//! are then sorted independently, in parallel, on the remaining bytes: big ones split again,
//! ones that fit the core's cache finish with LSD counting passes there, tiny ones with a
//! comparison sort. So main memory sees two or three passes, not eight, whatever the data's
//! distribution (a skewed top byte only means one more split). Every pass is a stable
//! counting sort (chunk `c` writes its pairs of byte `b` after chunk `c - 1`'s), and a stable
//! sort has exactly one result, so the output never depends on the thread count or chunking.

use rayon::prelude::*;

/// One row to sort: its order-preserving key and its row number.
///
/// Packed to 12 bytes (instead of 16 with padding): the sort is bound by memory traffic, and
/// unaligned loads cost nothing measurable on x86-64. Fields are only ever read by value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct Pair {
    /// The value as an order-preserving unsigned integer.
    pub key: u64,
    /// The row it came from.
    pub row: u32,
}

/// Below this many pairs a plain (stable) comparison sort is faster than radix passes.
const SMALL: usize = 512;
/// Buckets this small are finished with a comparison sort.
const TINY: usize = 64;
/// Buckets up to this many pairs (two 512 KiB buffers) finish with LSD passes in cache.
const CACHE_PAIRS: usize = 1 << 15;
/// Buckets from this many pairs are split by all threads.
const PAR_PAIRS: usize = 1 << 20;
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
/// (The executor sorts through `arg_sort_u32`; tests check the pair sort on its own.)
#[cfg(test)]
pub fn sort_pairs(pairs: &mut [Pair]) {
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
    sort_ranged(pairs, range);
}

/// [`sort_pairs`] given the smallest and largest key. Keys in `min..=max` share the top bits
/// that `min` and `max` share, so only the bits below are sorted on (narrow ranges: few
/// passes).
fn sort_ranged(pairs: &mut [Pair], (min, max): (u64, u64)) {
    if max <= min {
        return; // every key equal: the input order is the stable order
    }
    let bits = 64 - (min ^ max).leading_zeros();
    let mut scratch = vec![Pair::default(); pairs.len()];
    sort_in(pairs, &mut scratch, bits);
}

/// Stable sort of `a` by the low `bits` bits of the keys (the higher bits are equal), using
/// `scratch` (as long as `a`); the result is in `a`. Big inputs are split on their top byte
/// into buckets (in parallel), each sorted on the remaining bits; buckets that fit the core's
/// cache finish with LSD passes there, so main memory sees about two passes instead of eight.
fn sort_in(a: &mut [Pair], scratch: &mut [Pair], bits: u32) {
    let n = a.len();
    if n <= TINY || bits == 0 || n <= CACHE_PAIRS {
        finish_small(a, scratch, bits);
        return;
    }
    let shift = bits.saturating_sub(8);
    match split(a, scratch, shift, n >= PAR_PAIRS) {
        // One byte value for every key: nothing to split on here.
        None => sort_in(a, scratch, shift),
        Some(counts) => for_buckets(scratch, a, &counts, n, |s, t| sort_to(s, t, shift)),
    }
}

/// Like [`sort_in`], but the data starts in `src` and the result ends in `dst`.
fn sort_to(src: &mut [Pair], dst: &mut [Pair], bits: u32) {
    let n = src.len();
    if n <= TINY || bits == 0 || n <= CACHE_PAIRS {
        dst.copy_from_slice(src);
        finish_small(dst, src, bits);
        return;
    }
    let shift = bits.saturating_sub(8);
    match split(src, dst, shift, n >= PAR_PAIRS) {
        None => sort_to(src, dst, shift),
        Some(counts) => for_buckets(dst, src, &counts, n, |d, s| sort_in(d, s, shift)),
    }
}

/// Run `f(bucket, its scratch)` on every non-empty bucket of `data` (sizes `counts`), in
/// parallel when there is enough work.
fn for_buckets(
    data: &mut [Pair],
    other: &mut [Pair],
    counts: &[usize; 256],
    n: usize,
    f: impl Fn(&mut [Pair], &mut [Pair]) + Sync,
) {
    let mut parts: Vec<(&mut [Pair], &mut [Pair])> = Vec::with_capacity(256);
    let (mut d_rest, mut o_rest) = (data, other);
    for &c in counts.iter().filter(|c| **c > 0) {
        let (d1, d2) = std::mem::take(&mut d_rest).split_at_mut(c);
        let (o1, o2) = std::mem::take(&mut o_rest).split_at_mut(c);
        parts.push((d1, o1));
        d_rest = d2;
        o_rest = o2;
    }
    if n >= 4 * CACHE_PAIRS {
        parts.into_par_iter().for_each(|(d, o)| f(d, o));
    } else {
        parts.into_iter().for_each(|(d, o)| f(d, o));
    }
}

/// Sort a small `a` in place: a comparison sort when tiny, else LSD passes in cache.
fn finish_small(a: &mut [Pair], scratch: &mut [Pair], bits: u32) {
    if a.len() <= TINY {
        a.sort_by_key(|p| p.key);
    } else if bits > 0 {
        lsd(a, scratch, bits);
    }
}

/// Counting-sort `src` into `dst` by the byte at `shift`, with all threads when `parallel`.
/// Returns the bucket sizes, or `None` (and leaves `dst` alone) when all keys share the byte.
fn split(src: &[Pair], dst: &mut [Pair], shift: u32, parallel: bool) -> Option<[usize; 256]> {
    let n = src.len();
    let chunk = if parallel { chunk_len(n) } else { n };
    let digit = |p: &Pair| ((p.key >> shift) & 0xFF) as usize;
    let counts: Vec<[usize; 256]> = src
        .par_chunks(chunk)
        .map(|c| {
            let mut h = [0usize; 256];
            for p in c {
                h[digit(p)] += 1;
            }
            h
        })
        .collect();
    let mut totals = [0usize; 256];
    for h in &counts {
        for (t, c) in totals.iter_mut().zip(h) {
            *t += c;
        }
    }
    if totals.contains(&n) {
        return None;
    }
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
    assert_eq!(dst.len(), n, "radix scratch buffer has the wrong length");
    let out = Out(dst.as_mut_ptr());
    src.par_chunks(chunk)
        .zip(starts.into_par_iter())
        .for_each(|(c, mut at)| {
            for p in c {
                let b = digit(p);
                let i = at[b];
                at[b] += 1;
                // SAFETY: `i` lies in this chunk's range for byte `b`, which starts at the sum
                // of the counts before it and holds exactly this chunk's count of byte `b`
                // pairs; the ranges of all (chunk, byte) pairs are disjoint and cover `0..n`,
                // so `i < n == dst.len()` (asserted above) and no other task writes position
                // `i`, and `dst` outlives this parallel loop.
                unsafe { out.ptr().add(i).write(*p) };
            }
        });
    Some(totals)
}

/// Stable LSD radix sort of `a` (small enough to stay in cache) on the low `bits` bits,
/// skipping bytes that are the same in every key.
fn lsd(a: &mut [Pair], scratch: &mut [Pair], bits: u32) {
    let n = a.len();
    let bytes = bits.div_ceil(8) as usize;
    let mut counts = [[0usize; 256]; 8];
    for p in a.iter() {
        for (d, h) in counts.iter_mut().enumerate().take(bytes) {
            h[((p.key >> (8 * d)) & 0xFF) as usize] += 1;
        }
    }
    let scratch = &mut scratch[..n];
    let mut in_scratch = false;
    for (d, h) in counts.iter().enumerate().take(bytes) {
        if h.contains(&n) {
            continue;
        }
        let mut at = [0usize; 256];
        let mut pos = 0;
        for (s, c) in at.iter_mut().zip(h) {
            *s = pos;
            pos += c;
        }
        let (src, dst): (&[Pair], &mut [Pair]) = if in_scratch {
            (&*scratch, &mut *a)
        } else {
            (&*a, &mut *scratch)
        };
        for p in src {
            let b = ((p.key >> (8 * d)) & 0xFF) as usize;
            dst[at[b]] = *p;
            at[b] += 1;
        }
        in_scratch = !in_scratch;
    }
    if in_scratch {
        a.copy_from_slice(scratch);
    }
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
    sort_ranged(&mut pairs, range);
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
        // Past the size that splits with all threads; skewed top bytes (like floats).
        check(
            (0..1_200_000)
                .map(|_| lcg(&mut s) >> (lcg(&mut s) % 40))
                .collect(),
        );
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
