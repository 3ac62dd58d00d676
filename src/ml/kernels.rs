//! The hot inner loops of the models, written so that they vectorize: row-major f64 blocks,
//! centres in fixed 8-wide tiles held in registers, no allocation per point.
//!
//! Each kernel is compiled twice: for AVX2+FMA and for the baseline target; [`Isa::detect`]
//! picks one at run time (the crate is built for the baseline x86-64 target, so without this
//! the loops would use SSE2 only). AVX-512 would be faster still on CPUs with full-width units,
//! but its intrinsics and target feature need Rust 1.89 and the crate's MSRV is 1.85. The FMA
//! version rounds differently from the baseline one, so results can differ in the last bits
//! between machines, but never between runs or thread counts on one machine.

/// Centres per register tile.
pub(crate) const TILE: usize = 8;

/// Rows per register block in the distance kernel.
const ROWS: usize = 4;

/// The instruction set the kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Avx2,
    Baseline,
}

impl Isa {
    /// The best instruction set this CPU supports.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }
}

/// Centres prepared for the distance kernel: `-2 c` transposed into `d x kp` (kp = k rounded up
/// to a whole tile) and `||c||²`, padded with +inf so padding lanes never win.
pub(crate) struct PackedCentres {
    pub kp: usize,
    pub d: usize,
    /// `ct()[f * kp + j] = -2 * c[j][f]` (scaling by -2 is exact, so `||c||² + x·(-2c)` equals
    /// `||c||² - 2 x·c` bit for bit), from `ct_buf[ct_off..]`.
    ct_buf: Vec<f64>,
    ct_off: usize,
    norms_buf: Vec<f64>,
    norms_off: usize,
}

/// A zeroed buffer of `len` values plus padding, and the offset at which it is 64-byte
/// aligned. The kernel's 32-byte loads from a packed row then never straddle two cache lines:
/// with the 16-byte alignment `malloc` gives, half the runs did (measured: a 20-step k-means
/// took 0.14 s or 0.23 s depending on where the allocator put these few hundred bytes).
pub(crate) fn aligned(len: usize, fill: f64) -> (Vec<f64>, usize) {
    let buf = vec![fill; len + 8];
    let off = (buf.as_ptr() as usize).wrapping_neg() % 64 / 8;
    (buf, off)
}

impl PackedCentres {
    /// Pack `k` centres of `d` features given row-major.
    pub(crate) fn new(centres: &[f64], k: usize, d: usize) -> Self {
        let kp = k.div_ceil(TILE) * TILE;
        let (mut ct_buf, ct_off) = aligned(d * kp, 0.0);
        let (mut norms_buf, norms_off) = aligned(kp, f64::INFINITY);
        let ct = &mut ct_buf[ct_off..];
        let norms = &mut norms_buf[norms_off..];
        for j in 0..k {
            let c = &centres[j * d..(j + 1) * d];
            for (f, v) in c.iter().enumerate() {
                ct[f * kp + j] = -2.0 * v;
            }
            norms[j] = c.iter().map(|v| v * v).sum();
        }
        Self {
            kp,
            d,
            ct_buf,
            ct_off,
            norms_buf,
            norms_off,
        }
    }

    /// The packed `-2 c`, 64-byte aligned.
    pub(crate) fn ct(&self) -> &[f64] {
        &self.ct_buf[self.ct_off..]
    }

    /// `||c||²` per packed centre (+inf for padding), 64-byte aligned.
    pub(crate) fn norms(&self) -> &[f64] {
        &self.norms_buf[self.norms_off..]
    }
}

/// Label every row of `x` (row-major, `labels.len()` rows) with its nearest centre (lowest
/// index on ties, like `argmin`), and when `sums` is given add each row into its centre's sum
/// (`sums.0`: k x d row-major) and count (`sums.1`).
pub(crate) fn assign(
    isa: Isa,
    x: &[f64],
    c: &PackedCentres,
    labels: &mut [u32],
    sums: Option<(&mut [f64], &mut [u64])>,
) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` returned this variant only after checking the CPU features.
        Isa::Avx2 => unsafe { x86::assign_avx2(x, c, labels, sums) },
        _ => drive(x, c, labels, sums, |xr, jb| tile_baseline(xr, c, jb)),
    }
}

/// For every row `i` of the row-major block `x` (`d` features) and every target `t` (row-major,
/// `d` per target): `outs[t][i] = sq_dist(row, target)`, lowered to `floor[i]` where that is
/// smaller (`v.min(floor)`, k-means++'s potential); returns each output's sum in row order.
/// Each row is loaded once for all targets.
pub(crate) fn min_dists(
    isa: Isa,
    x: &[f64],
    d: usize,
    targets: &[f64],
    floor: Option<&[f64]>,
    outs: &mut [&mut [f64]],
) -> Vec<f64> {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` returned this variant only after checking the CPU features.
        Isa::Avx2 => unsafe { x86::min_dists_avx2(x, d, targets, floor, outs) },
        _ => min_dists_rows(x, d, targets, floor, outs),
    }
}

#[inline(always)]
fn min_dists_rows(
    x: &[f64],
    d: usize,
    targets: &[f64],
    floor: Option<&[f64]>,
    outs: &mut [&mut [f64]],
) -> Vec<f64> {
    // k-means++ measures `2 + ln k` candidates at a time: a fixed count keeps each output's
    // running sum in a register, summed as the rows go (the same additions in the same order
    // as summing each output afterwards, but the sums' dependency chains now overlap).
    match outs.len() {
        1 => min_dists_fixed::<1>(x, d, targets, floor, outs),
        2 => min_dists_fixed::<2>(x, d, targets, floor, outs),
        3 => min_dists_fixed::<3>(x, d, targets, floor, outs),
        4 => min_dists_fixed::<4>(x, d, targets, floor, outs),
        5 => min_dists_fixed::<5>(x, d, targets, floor, outs),
        6 => min_dists_fixed::<6>(x, d, targets, floor, outs),
        _ => min_dists_any(x, d, targets, floor, outs),
    }
}

/// [`min_dists_rows`] for `N` targets, summing each output in row order as it is written.
#[inline(always)]
fn min_dists_fixed<const N: usize>(
    x: &[f64],
    d: usize,
    targets: &[f64],
    floor: Option<&[f64]>,
    outs: &mut [&mut [f64]],
) -> Vec<f64> {
    // From -0.0, as `Iterator::sum` starts.
    let mut sums = [-0.0f64; N];
    let targets: [&[f64]; N] = std::array::from_fn(|t| &targets[t * d..(t + 1) * d]);
    for (i, r) in x.chunks(d).enumerate() {
        let fl = floor.map(|f| f[i]);
        for t in 0..N {
            let v = sq_dist(r, targets[t]);
            let v = match fl {
                Some(f) => v.min(f),
                None => v,
            };
            outs[t][i] = v;
            sums[t] += v;
        }
    }
    sums.to_vec()
}

#[inline(always)]
fn min_dists_any(
    x: &[f64],
    d: usize,
    targets: &[f64],
    floor: Option<&[f64]>,
    outs: &mut [&mut [f64]],
) -> Vec<f64> {
    for (i, r) in x.chunks(d).enumerate() {
        for (o, tg) in outs.iter_mut().zip(targets.chunks(d)) {
            let v = sq_dist(r, tg);
            o[i] = match floor {
                Some(f) => v.min(f[i]),
                None => v,
            };
        }
    }
    outs.iter().map(|o| o.iter().sum()).collect()
}

/// `Σ |x - c(label)|²` over the rows of the row-major block `x` in row order (`centres`
/// row-major, `d` per centre): a chunk's inertia.
pub(crate) fn labelled_sq_dist_sum(
    isa: Isa,
    x: &[f64],
    d: usize,
    labels: &[u32],
    centres: &[f64],
) -> f64 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` returned this variant only after checking the CPU features.
        Isa::Avx2 => unsafe { x86::labelled_sq_dist_sum_avx2(x, d, labels, centres) },
        _ => labelled_sq_dist_sum_rows(x, d, labels, centres),
    }
}

#[inline(always)]
fn labelled_sq_dist_sum_rows(x: &[f64], d: usize, labels: &[u32], centres: &[f64]) -> f64 {
    x.chunks(d)
        .zip(labels)
        .map(|(r, &l)| sq_dist(r, &centres[l as usize * d..(l as usize + 1) * d]))
        .sum()
}

/// Per row of a block: the smallest `||c||² - 2x·c` within one tile of centres and its lane
/// (the lowest lane among equal minima).
type TileMin = [(f64, u32); ROWS];

/// The block loop shared by every instruction set: rows in blocks of [`ROWS`], centres in
/// tiles of [`TILE`], `tile` giving each row's minimum within a tile; ties across tiles keep
/// the earlier tile (strict comparison), so the lowest index wins overall.
#[inline(always)]
fn drive(
    x: &[f64],
    c: &PackedCentres,
    labels: &mut [u32],
    mut sums: Option<(&mut [f64], &mut [u64])>,
    tile: impl Fn(&[&[f64]; ROWS], usize) -> TileMin,
) {
    let d = c.d;
    let rows = labels.len();
    let mut r0 = 0;
    while r0 < rows {
        let nr = (rows - r0).min(ROWS);
        // Rows past the end repeat the last row so the block has a fixed shape.
        let xr: [&[f64]; ROWS] = std::array::from_fn(|r| {
            let i = r0 + r.min(nr - 1);
            &x[i * d..(i + 1) * d]
        });
        let mut best = [f64::INFINITY; ROWS];
        let mut bidx = [0u32; ROWS];
        for jb in (0..c.kp).step_by(TILE) {
            let t = tile(&xr, jb);
            for r in 0..ROWS {
                if t[r].0 < best[r] {
                    best[r] = t[r].0;
                    bidx[r] = (jb as u32) + t[r].1;
                }
            }
        }
        labels[r0..r0 + nr].copy_from_slice(&bidx[..nr]);
        if let Some((s, counts)) = sums.as_mut() {
            for r in 0..nr {
                let j = bidx[r] as usize;
                counts[j] += 1;
                for (acc, v) in s[j * d..(j + 1) * d].iter_mut().zip(xr[r]) {
                    *acc += v;
                }
            }
        }
        r0 += nr;
    }
}

/// The portable tile: plain multiply-add (no FMA), branch-free argmin by a comparison mask.
// `f` walks the rows' features and the packed centres in lock-step; an iterator over either
// would hide that pairing.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn tile_baseline(xr: &[&[f64]; ROWS], c: &PackedCentres, jb: usize) -> TileMin {
    let (d, kp) = (c.d, c.kp);
    let mut acc = [[0.0f64; TILE]; ROWS];
    for f in 0..d {
        let ct = &c.ct()[f * kp + jb..f * kp + jb + TILE];
        for r in 0..ROWS {
            let xv = xr[r][f];
            for l in 0..TILE {
                acc[r][l] += xv * ct[l];
            }
        }
    }
    std::array::from_fn(|r| {
        let v: [f64; TILE] = std::array::from_fn(|l| c.norms()[jb + l] + acc[r][l]);
        let m = hmin(&v);
        let mut mask = 0u32;
        for (l, x) in v.iter().enumerate() {
            mask |= u32::from(*x == m) << l;
        }
        (m, mask.trailing_zeros())
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The tile with explicit AVX2+FMA intrinsics: the four rows' accumulators stay in
    //! registers (auto-vectorized code spilled them to the stack on every step).

    use std::arch::x86_64::*;

    use super::{drive, PackedCentres, TileMin, ROWS};

    // The distance loops compiled for AVX2 (four lanes of `sq_dist` in one register, not two
    // SSE2 halves). Without FMA in the feature list nothing can be contracted, and the lanes
    // do the same operations in the same order, so results equal the baseline build's bits.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn min_dists_avx2(
        x: &[f64],
        d: usize,
        targets: &[f64],
        floor: Option<&[f64]>,
        outs: &mut [&mut [f64]],
    ) -> Vec<f64> {
        super::min_dists_rows(x, d, targets, floor, outs)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn labelled_sq_dist_sum_avx2(
        x: &[f64],
        d: usize,
        labels: &[u32],
        centres: &[f64],
    ) -> f64 {
        super::labelled_sq_dist_sum_rows(x, d, labels, centres)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn assign_avx2(
        x: &[f64],
        c: &PackedCentres,
        labels: &mut [u32],
        sums: Option<(&mut [f64], &mut [u64])>,
    ) {
        // SAFETY: this function only runs where AVX2 and FMA are available.
        drive(x, c, labels, sums, |xr, jb| unsafe { tile_avx2(xr, c, jb) })
    }

    // Four named accumulators per tile, not an array: an array that a closure borrows lives
    // on the stack, and LLVM then stores it back on every step of the loop.
    const _: () = assert!(ROWS == 4);

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile_avx2(xr: &[&[f64]; ROWS], c: &PackedCentres, jb: usize) -> TileMin {
        let (d, kp) = (c.d, c.kp);
        let ct = c.ct().as_ptr().add(jb);
        let (x0, x1, x2, x3) = (
            xr[0].as_ptr(),
            xr[1].as_ptr(),
            xr[2].as_ptr(),
            xr[3].as_ptr(),
        );
        let z = _mm256_setzero_pd();
        let (mut l0, mut l1, mut l2, mut l3) = (z, z, z, z);
        let (mut h0, mut h1, mut h2, mut h3) = (z, z, z, z);
        for f in 0..d {
            let c0 = _mm256_loadu_pd(ct.add(f * kp));
            let c1 = _mm256_loadu_pd(ct.add(f * kp + 4));
            let v = _mm256_set1_pd(*x0.add(f));
            l0 = _mm256_fmadd_pd(v, c0, l0);
            h0 = _mm256_fmadd_pd(v, c1, h0);
            let v = _mm256_set1_pd(*x1.add(f));
            l1 = _mm256_fmadd_pd(v, c0, l1);
            h1 = _mm256_fmadd_pd(v, c1, h1);
            let v = _mm256_set1_pd(*x2.add(f));
            l2 = _mm256_fmadd_pd(v, c0, l2);
            h2 = _mm256_fmadd_pd(v, c1, h2);
            let v = _mm256_set1_pd(*x3.add(f));
            l3 = _mm256_fmadd_pd(v, c0, l3);
            h3 = _mm256_fmadd_pd(v, c1, h3);
        }
        let n0 = _mm256_loadu_pd(c.norms().as_ptr().add(jb));
        let n1 = _mm256_loadu_pd(c.norms().as_ptr().add(jb + 4));
        [
            min256(_mm256_add_pd(n0, l0), _mm256_add_pd(n1, h0)),
            min256(_mm256_add_pd(n0, l1), _mm256_add_pd(n1, h1)),
            min256(_mm256_add_pd(n0, l2), _mm256_add_pd(n1, h2)),
            min256(_mm256_add_pd(n0, l3), _mm256_add_pd(n1, h3)),
        ]
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn min256(v0: __m256d, v1: __m256d) -> (f64, u32) {
        let m4 = _mm256_min_pd(v0, v1);
        let m2 = _mm_min_pd(_mm256_castpd256_pd128(m4), _mm256_extractf128_pd(m4, 1));
        let m = _mm_cvtsd_f64(_mm_min_sd(m2, _mm_unpackhi_pd(m2, m2)));
        let mv = _mm256_set1_pd(m);
        let k0 = _mm256_movemask_pd(_mm256_cmp_pd(v0, mv, _CMP_EQ_OQ)) as u32;
        let k1 = _mm256_movemask_pd(_mm256_cmp_pd(v1, mv, _CMP_EQ_OQ)) as u32;
        (m, (k0 | (k1 << 4)).trailing_zeros())
    }
}

/// Minimum of a tile by a fixed pairwise tree (vectorizes; no NaN reaches here).
#[inline(always)]
fn hmin(v: &[f64; TILE]) -> f64 {
    let m = |a: f64, b: f64| if b < a { b } else { a };
    let a = [m(v[0], v[4]), m(v[1], v[5]), m(v[2], v[6]), m(v[3], v[7])];
    let b = [m(a[0], a[2]), m(a[1], a[3])];
    m(b[0], b[1])
}

/// `sum (a - b)²` with four partial sums (so it vectorizes without reassociation).
#[inline(always)]
pub(crate) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x - y;
        tail += t * t;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_picks_nearest_lowest_index_on_ties() {
        // Centres 0 and 1 are equal: ties go to 0; centre 2 is far.
        let centres = [0.0, 0.0, 0.0, 0.0, 10.0, 10.0];
        let p = PackedCentres::new(&centres, 3, 2);
        let x = [0.1, 0.1, 9.0, 9.5, -1.0, 0.0, 6.0, 6.0, 5.0, 5.0];
        for isa in available() {
            let mut labels = vec![9; 5];
            let mut s = vec![0.0; 6];
            let mut n = vec![0; 3];
            assign(isa, &x, &p, &mut labels, Some((&mut s, &mut n)));
            assert_eq!(labels, vec![0, 2, 0, 2, 0]);
            assert_eq!(n, vec![3, 0, 2]);
            assert_eq!(s, vec![4.1, 5.1, 0.0, 0.0, 15.0, 15.5]);
        }
    }

    /// Every instruction set this machine can run.
    fn available() -> Vec<Isa> {
        let mut v = vec![Isa::Baseline];
        if Isa::detect() == Isa::Avx2 {
            v.push(Isa::Avx2);
        }
        v
    }

    #[test]
    fn fma_paths_agree_bit_for_bit() {
        // 11 centres (two tiles, one padded), 37 rows (a partial row block), 5 features.
        let val = |i: usize| ((i * 7919) % 1000) as f64 / 37.0 - 10.0;
        let centres: Vec<f64> = (0..55).map(|i| val(i + 3)).collect();
        let x: Vec<f64> = (0..185).map(val).collect();
        let p = PackedCentres::new(&centres, 11, 5);
        let run = |isa| {
            let mut labels = vec![0; 37];
            let mut s = vec![0.0; 55];
            let mut n = vec![0; 11];
            assign(isa, &x, &p, &mut labels, Some((&mut s, &mut n)));
            (labels, s, n)
        };
        let base = run(Isa::Baseline);
        let fma: Vec<_> = available().into_iter().skip(1).map(run).collect();
        for r in &fma {
            assert_eq!(r, &fma[0]);
            // Labels may differ from the non-FMA path only at exact near-ties; none here.
            assert_eq!(r.0, base.0);
        }
    }
}
