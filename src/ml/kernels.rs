//! The hot inner loops of the models, written so that they vectorize: row-major f64 blocks,
//! centres in fixed 8-wide tiles held in registers, no allocation per point.
//!
//! Each kernel has one generic body (`#[inline(always)]`) compiled three times: for AVX-512F,
//! for AVX2+FMA, and for the baseline target; [`Isa::detect`] picks one at run time (the crate
//! is built for the baseline x86-64 target, so without this the loops would use SSE2 only).
//! The FMA versions round differently from the baseline one, so results can differ in the
//! last bits between machines, but never between runs or thread counts on one machine.

/// Centres per register tile.
pub(crate) const TILE: usize = 8;

/// Rows per register block in the distance kernel.
const ROWS: usize = 4;

/// The instruction set the kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Avx512,
    Avx2,
    Baseline,
}

impl Isa {
    /// The best instruction set this CPU supports.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
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
    /// `ct[f * kp + j] = -2 * c[j][f]` (scaling by -2 is exact, so `||c||² + x·(-2c)` equals
    /// `||c||² - 2 x·c` bit for bit).
    pub ct: Vec<f64>,
    pub norms: Vec<f64>,
}

impl PackedCentres {
    /// Pack `k` centres of `d` features given row-major.
    pub(crate) fn new(centres: &[f64], k: usize, d: usize) -> Self {
        let kp = k.div_ceil(TILE) * TILE;
        let mut ct = vec![0.0; d * kp];
        let mut norms = vec![f64::INFINITY; kp];
        for j in 0..k {
            let c = &centres[j * d..(j + 1) * d];
            for (f, v) in c.iter().enumerate() {
                ct[f * kp + j] = -2.0 * v;
            }
            norms[j] = c.iter().map(|v| v * v).sum();
        }
        Self { kp, d, ct, norms }
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
        Isa::Avx512 => unsafe { assign_avx512(x, c, labels, sums) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { assign_avx2(x, c, labels, sums) },
        _ => assign_impl::<false>(x, c, labels, sums),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn assign_avx512(
    x: &[f64],
    c: &PackedCentres,
    labels: &mut [u32],
    sums: Option<(&mut [f64], &mut [u64])>,
) {
    assign_impl::<true>(x, c, labels, sums)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn assign_avx2(
    x: &[f64],
    c: &PackedCentres,
    labels: &mut [u32],
    sums: Option<(&mut [f64], &mut [u64])>,
) {
    assign_impl::<true>(x, c, labels, sums)
}

#[inline(always)]
fn fmadd<const FMA: bool>(a: f64, b: f64, acc: f64) -> f64 {
    if FMA {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

#[inline(always)]
fn assign_impl<const FMA: bool>(
    x: &[f64],
    c: &PackedCentres,
    labels: &mut [u32],
    mut sums: Option<(&mut [f64], &mut [u64])>,
) {
    let (d, kp) = (c.d, c.kp);
    let rows = labels.len();
    if rows == 0 {
        return;
    }
    let mut r0 = 0;
    while r0 < rows {
        let nr = (rows - r0).min(ROWS);
        // Rows past the end repeat the last row so the block loop has a fixed shape.
        let xr: [&[f64]; ROWS] = std::array::from_fn(|r| {
            let i = r0 + r.min(nr - 1);
            &x[i * d..(i + 1) * d]
        });
        let mut best = [f64::INFINITY; ROWS];
        let mut bidx = [0u32; ROWS];
        for jb in (0..kp).step_by(TILE) {
            let mut acc = [[0.0f64; TILE]; ROWS];
            for f in 0..d {
                let ctile: &[f64; TILE] = match c.ct[f * kp + jb..f * kp + jb + TILE].try_into() {
                    Ok(t) => t,
                    Err(_) => unreachable!("tile slices are TILE long"),
                };
                for r in 0..ROWS {
                    let xv = xr[r][f];
                    for l in 0..TILE {
                        acc[r][l] = fmadd::<FMA>(xv, ctile[l], acc[r][l]);
                    }
                }
            }
            for r in 0..nr {
                for l in 0..TILE {
                    let v = c.norms[jb + l] + acc[r][l];
                    if v < best[r] {
                        best[r] = v;
                        bidx[r] = (jb + l) as u32;
                    }
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

/// Sum over rows of the squared distance to the labelled centre (row-major `x` and centres),
/// computed exactly as `sum (x - c)²`, not through the expansion.
pub(crate) fn inertia(isa: Isa, x: &[f64], d: usize, centres: &[f64], labels: &[u32]) -> f64 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` checked the features.
        Isa::Avx512 => unsafe { inertia_avx512(x, d, centres, labels) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { inertia_avx2(x, d, centres, labels) },
        _ => inertia_impl(x, d, centres, labels),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn inertia_avx512(x: &[f64], d: usize, centres: &[f64], labels: &[u32]) -> f64 {
    inertia_impl(x, d, centres, labels)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn inertia_avx2(x: &[f64], d: usize, centres: &[f64], labels: &[u32]) -> f64 {
    inertia_impl(x, d, centres, labels)
}

#[inline(always)]
fn inertia_impl(x: &[f64], d: usize, centres: &[f64], labels: &[u32]) -> f64 {
    let mut total = 0.0;
    for (i, &l) in labels.iter().enumerate() {
        let row = &x[i * d..(i + 1) * d];
        let c = &centres[l as usize * d..(l as usize + 1) * d];
        total += sq_dist(row, c);
    }
    total
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

/// For each row, `best[i] = min(best[i], |x_i - c|²)`; returns the sum of the new `best`
/// (k-means++'s potential for candidate `c`), writing the minima to `out`.
pub(crate) fn min_dist_update(
    x: &[f64],
    d: usize,
    c: &[f64],
    best: &[f64],
    out: &mut [f64],
) -> f64 {
    let mut pot = 0.0;
    for (i, (b, o)) in best.iter().zip(out.iter_mut()).enumerate() {
        let v = sq_dist(&x[i * d..(i + 1) * d], c).min(*b);
        *o = v;
        pot += v;
    }
    pot
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
        for isa in [Isa::Baseline, Isa::detect()] {
            let mut labels = vec![9; 5];
            let mut s = vec![0.0; 6];
            let mut n = vec![0; 3];
            assign(isa, &x, &p, &mut labels, Some((&mut s, &mut n)));
            assert_eq!(labels, vec![0, 2, 0, 2, 0]);
            assert_eq!(n, vec![3, 0, 2]);
            assert_eq!(s, vec![4.1, 5.1, 0.0, 0.0, 15.0, 15.5]);
        }
    }

    #[test]
    fn inertia_is_exact_sum() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let centres = [0.0, 0.0, 0.0];
        let v = inertia(Isa::detect(), &x, 3, &centres, &[0, 0]);
        assert_eq!(v, 1.0 + 4.0 + 9.0 + 16.0 + 25.0 + 36.0);
    }
}
