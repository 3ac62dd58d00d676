//! Rolling windows: sum, mean, min, max, var, std, median, optionally weighted.
//!
//! The output row `i` summarizes rows `i-w+1+shift ..= i+shift` (clipped to the column), where
//! `shift` is `(w-1)/2` for centred windows. Rows are cut into fixed chunks (at least 64K rows
//! and four windows, a multiple of 64); each chunk runs on its own rayon task and starts by
//! re-reading the `w-1` rows before it, so chunk results never depend on the thread count.
//! Within a chunk a window state slides: values enter at the front and leave at the back.
//!
//! - sum/mean: Neumaier-compensated running sum of the finite values; NaN and ±inf are counted
//!   separately so a window recovers exactly once they leave.
//! - var/std: compensated running sums of `x - K` and `(x - K)²`, where the shift `K` is re-set
//!   to the window's mean every `4w` rows (and whenever the window empties), so a large offset
//!   costs no precision.
//! - min/max: a monotonic deque (amortized O(1) per row).
//! - median: for windows up to 512 rows a sorted buffer (binary search and a short move per
//!   row), beyond that a Fenwick tree over the ranks of the chunk's values (O(log n) per row);
//!   see `rolling_order`.
//! - weighted windows: computed directly, O(w) per row.
//!
//! Nulls are skipped and do not count towards `min_periods`; NaN counts and makes the result
//! NaN; var/std of a window with ±inf is NaN; var/std with no more values than `ddof` is null.

use std::collections::VecDeque;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow::datatypes::DataType;
use rayon::prelude::*;

use super::fixed::slide_fixed;
use super::rolling_order::{MedianWin, SortedWin, SORTED_WINDOW_MAX};
use crate::error::Result;
use crate::exec::kernels::chunked::{f64_out, to_f64, zeroed_f64, CHUNK};
use crate::expr::{RollingKind, RollingOptions};

/// Where each output row's window lies: rows `lo(i)..hi(i)`, both non-decreasing in `i`
/// (a fixed window here, or a window by time in `rolling_by`).
pub(super) trait Bounds: Sync {
    /// First row of row `i`'s window.
    fn lo(&self, i: usize) -> usize;
    /// One past the last row of row `i`'s window.
    fn hi(&self, i: usize) -> usize;
    /// Valid values needed for a non-null result.
    fn min_periods(&self) -> usize;
    /// The most rows a window spans (sizes the window states).
    fn width(&self) -> usize;
    /// Slide `win` over the output rows `s..s + out.len()`: [`drive`], unless the bounds know
    /// a faster way to make the same calls in the same order (so the same values to the bit).
    #[inline(always)]
    fn slide<W: Window, V: Fn(usize) -> bool + Copy>(
        &self,
        win: &mut W,
        v: &[f64],
        valid: V,
        s: usize,
        out: Out<'_>,
    ) where
        Self: Sized,
    {
        drive(win, v, valid, self, s, out)
    }
}

/// A fixed window of `w` rows, shifted forward by `shift` when centred.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    pub(super) n: usize,
    pub(super) w: usize,
    pub(super) shift: usize,
    pub(super) min_periods: usize,
}

impl Bounds for Geometry {
    #[inline(always)]
    fn lo(&self, i: usize) -> usize {
        (i + self.shift + 1).saturating_sub(self.w)
    }
    #[inline(always)]
    fn hi(&self, i: usize) -> usize {
        (i + self.shift + 1).min(self.n)
    }
    fn min_periods(&self) -> usize {
        self.min_periods
    }
    fn width(&self) -> usize {
        self.w
    }
    #[inline(always)]
    fn slide<W: Window, V: Fn(usize) -> bool + Copy>(
        &self,
        win: &mut W,
        v: &[f64],
        valid: V,
        s: usize,
        out: Out<'_>,
    ) {
        slide_fixed(win, v, valid, self, s, out)
    }
}

/// Compute a rolling statistic of `a`; `out` is the output type (Float32 or Float64).
pub fn rolling(
    a: &ArrayRef,
    kind: RollingKind,
    o: &RollingOptions,
    out: &DataType,
) -> Result<ArrayRef> {
    let f = to_f64(a)?;
    let g = Geometry {
        n: f.len(),
        w: o.window.max(1),
        shift: o.shift(),
        min_periods: o.min_periods_or_window().max(1),
    };
    let valid: Option<BooleanBuffer> = f
        .nulls()
        .filter(|nb| nb.null_count() > 0)
        .map(|nb| nb.inner().clone());
    match &o.weights {
        Some(w) => par_windows(&f, valid.as_ref(), &g, out, |v, valid, s, out| {
            weighted(kind, w, v, valid, &g, s, out)
        }),
        None => par_windows(&f, valid.as_ref(), &g, out, |v, valid, s, out| {
            run_chunk(kind, o.ddof, v, valid, &g, s, out)
        }),
    }
}

/// Run `chunk_fn` over fixed chunks of the output in parallel (at least 64K rows and four
/// windows, a multiple of 64 so each chunk owns whole words of the validity bitmap; fixed by
/// the length and window only) and assemble the result. `valid` marks the rows whose values
/// count (`None`: all).
pub(super) fn par_windows<B: Bounds>(
    f: &Float64Array,
    valid: Option<&BooleanBuffer>,
    b: &B,
    out: &DataType,
    chunk_fn: impl Fn(&[f64], Option<&BooleanBuffer>, usize, Out<'_>) + Sync,
) -> Result<ArrayRef> {
    let n = f.len();
    let v = f.values().as_ref();
    let chunk = CHUNK.max(4 * b.width()).next_multiple_of(64);
    let mut values = zeroed_f64(n);
    let mut bits = vec![0u64; n.div_ceil(64)];
    values
        .par_chunks_mut(chunk)
        .zip(bits.par_chunks_mut(chunk / 64))
        .enumerate()
        .for_each(|(c, (dv, db))| {
            let s = c * chunk;
            chunk_fn(v, valid, s, Out { v: dv, bits: db });
        });
    let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(bits), 0, n));
    f64_out(values, Some(nulls), out)
}

/// One chunk's output slots.
pub(super) struct Out<'a> {
    v: &'a mut [f64],
    bits: &'a mut [u64],
}

impl Out<'_> {
    /// The chunk's rows.
    #[inline(always)]
    pub(super) fn len(&self) -> usize {
        self.v.len()
    }
    #[inline(always)]
    pub(super) fn set(&mut self, k: usize, x: f64) {
        self.v[k] = x;
        self.bits[k / 64] |= 1 << (k % 64);
    }
}

/// An unweighted statistic over one chunk of rows starting at `s`; `valid` marks the rows
/// whose values count (`None`: all).
pub(super) fn run_chunk<B: Bounds>(
    kind: RollingKind,
    ddof: u8,
    v: &[f64],
    valid: Option<&BooleanBuffer>,
    b: &B,
    s: usize,
    out: Out<'_>,
) {
    // One instantiation per validity shape keeps the per-row test inlined.
    match valid {
        None => run_states(kind, ddof, v, |_| true, b, s, out),
        Some(m) => run_states(kind, ddof, v, |i| m.value(i), b, s, out),
    }
}

fn run_states<B: Bounds, V: Fn(usize) -> bool + Copy>(
    kind: RollingKind,
    ddof: u8,
    v: &[f64],
    valid: V,
    b: &B,
    s: usize,
    out: Out<'_>,
) {
    let w = b.width().max(1);
    match kind {
        RollingKind::Sum | RollingKind::Mean => {
            let mut win = SumWin::new(kind == RollingKind::Mean);
            b.slide(&mut win, v, valid, s, out)
        }
        RollingKind::Var | RollingKind::Std => {
            // The shift starts at the first value to enter (see `VarWin::add`).
            let mut win = VarWin::new(ddof, kind == RollingKind::Std, w);
            b.slide(&mut win, v, valid, s, out)
        }
        RollingKind::Min | RollingKind::Max => {
            let mut win = MinMaxWin::new(kind == RollingKind::Max, w);
            b.slide(&mut win, v, valid, s, out)
        }
        // Small windows: a sorted buffer (binary search, short memmove) beats a tree.
        RollingKind::Median if w <= SORTED_WINDOW_MAX => {
            let mut win = SortedWin::new(w);
            b.slide(&mut win, v, valid, s, out)
        }
        RollingKind::Median => {
            let last = s + out.v.len().max(1) - 1;
            let mut win = MedianWin::new(v, valid, b.lo(s), b.hi(last));
            b.slide(&mut win, v, valid, s, out)
        }
    }
}

/// A sliding window's state: values enter and leave in row order.
pub(super) trait Window {
    /// Value `x` of row `i` enters (only valid, i.e. non-null, rows).
    fn add(&mut self, i: usize, x: f64);
    /// Value `x` of row `i` leaves.
    fn remove(&mut self, i: usize, x: f64);
    /// The statistic over the `count` valid values now in the window (`None`: null).
    fn get(&self, count: usize) -> Option<f64>;
    /// Rows between calls to `rebase`, if the state wants them.
    fn rebase_every(&self) -> Option<usize> {
        None
    }
    /// Recompute from the window's rows `lo..hi` (to shed accumulated rounding).
    fn rebase(&mut self, _v: &[f64], _valid: &dyn Fn(usize) -> bool, _lo: usize, _hi: usize) {}
}

/// Slide `win` over the output rows from `s`: per row, the rows entering its window are
/// added (in row order), then the rows leaving it removed, then the statistic read.
#[inline(always)]
pub(super) fn drive<W: Window, B: Bounds, V: Fn(usize) -> bool + Copy>(
    win: &mut W,
    v: &[f64],
    valid: V,
    g: &B,
    s: usize,
    mut out: Out<'_>,
) {
    let mut lo = g.lo(s);
    let mut hi = lo;
    let mut count = 0usize;
    let every = win.rebase_every();
    let mut since = 0usize;
    for k in 0..out.v.len() {
        let i = s + k;
        let (l, h) = (g.lo(i), g.hi(i));
        while hi < h {
            if valid(hi) {
                win.add(hi, v[hi]);
                count += 1;
            }
            hi += 1;
        }
        while lo < l {
            if valid(lo) {
                win.remove(lo, v[lo]);
                count -= 1;
            }
            lo += 1;
        }
        if let Some(e) = every {
            since += 1;
            if since >= e {
                since = 0;
                win.rebase(v, &valid, lo, hi);
            }
        }
        if count >= g.min_periods() {
            if let Some(x) = win.get(count) {
                out.set(k, x);
            }
        }
    }
}

/// Neumaier step: add `x` to the running `(sum, comp)`.
#[inline(always)]
fn neumaier(sum: &mut f64, comp: &mut f64, x: f64) {
    let t = *sum + x;
    // What `t` lost is in the smaller operand: `(big - t) + small`. Choosing the operands
    // first (a select, not two branches) computes exactly the same two operations; a window
    // where values and sums are of similar size would mispredict a branch here.
    let (big, small) = if sum.abs() >= x.abs() {
        (*sum, x)
    } else {
        (x, *sum)
    };
    *comp += (big - t) + small;
    *sum = t;
}

/// Non-finite values in a window, kept out of the running sums.
#[derive(Default)]
struct Specials {
    nan: u32,
    pos_inf: u32,
    neg_inf: u32,
}

impl Specials {
    #[inline(always)]
    fn update(&mut self, x: f64, add: bool) {
        let c = if x.is_nan() {
            &mut self.nan
        } else if x > 0.0 {
            &mut self.pos_inf
        } else {
            &mut self.neg_inf
        };
        if add {
            *c += 1
        } else {
            *c -= 1
        }
    }
    /// The sum's value if specials decide it.
    fn sum_override(&self) -> Option<f64> {
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            Some(f64::NAN)
        } else if self.pos_inf > 0 {
            Some(f64::INFINITY)
        } else if self.neg_inf > 0 {
            Some(f64::NEG_INFINITY)
        } else {
            None
        }
    }
    fn any(&self) -> bool {
        self.nan + self.pos_inf + self.neg_inf > 0
    }
}

struct SumWin {
    sum: f64,
    comp: f64,
    finite: usize,
    special: Specials,
    mean: bool,
}

impl SumWin {
    fn new(mean: bool) -> Self {
        Self {
            sum: 0.0,
            comp: 0.0,
            finite: 0,
            special: Specials::default(),
            mean,
        }
    }
}

impl Window for SumWin {
    #[inline(always)]
    fn add(&mut self, _i: usize, x: f64) {
        if x.is_finite() {
            neumaier(&mut self.sum, &mut self.comp, x);
            self.finite += 1;
        } else {
            self.special.update(x, true);
        }
    }
    #[inline(always)]
    fn remove(&mut self, _i: usize, x: f64) {
        if x.is_finite() {
            self.finite -= 1;
            if self.finite == 0 {
                // An empty window sums to exactly zero, whatever rounding was left behind.
                self.sum = 0.0;
                self.comp = 0.0;
            } else {
                neumaier(&mut self.sum, &mut self.comp, -x);
            }
        } else {
            self.special.update(x, false);
        }
    }
    #[inline(always)]
    fn get(&self, count: usize) -> Option<f64> {
        // A sum overflowing to ±inf poisons the compensation; report the overflow itself.
        let s = self
            .special
            .sum_override()
            .unwrap_or(if self.sum.is_finite() {
                self.sum + self.comp
            } else {
                self.sum
            });
        Some(if self.mean { s / count as f64 } else { s })
    }
}

struct VarWin {
    k: f64,
    s1: (f64, f64),
    s2: (f64, f64),
    finite: usize,
    special: Specials,
    ddof: u8,
    std: bool,
    w: usize,
}

impl VarWin {
    fn new(ddof: u8, std: bool, w: usize) -> Self {
        Self {
            k: 0.0,
            s1: (0.0, 0.0),
            s2: (0.0, 0.0),
            finite: 0,
            special: Specials::default(),
            ddof,
            std,
            w,
        }
    }
}

impl Window for VarWin {
    fn add(&mut self, _i: usize, x: f64) {
        if !x.is_finite() {
            return self.special.update(x, true);
        }
        if self.finite == 0 {
            // Re-centre on the first value of an empty window.
            self.k = x;
            self.s1 = (0.0, 0.0);
            self.s2 = (0.0, 0.0);
        }
        let d = x - self.k;
        neumaier(&mut self.s1.0, &mut self.s1.1, d);
        neumaier(&mut self.s2.0, &mut self.s2.1, d * d);
        self.finite += 1;
    }
    fn remove(&mut self, _i: usize, x: f64) {
        if !x.is_finite() {
            return self.special.update(x, false);
        }
        let d = x - self.k;
        neumaier(&mut self.s1.0, &mut self.s1.1, -d);
        neumaier(&mut self.s2.0, &mut self.s2.1, -(d * d));
        self.finite -= 1;
    }
    fn get(&self, count: usize) -> Option<f64> {
        // Too few values is null even when one of them is NaN (Polars' order).
        if count as f64 - f64::from(self.ddof) <= 0.0 {
            return None;
        }
        if self.special.any() {
            return Some(f64::NAN);
        }
        let n = self.finite as f64;
        let dof = n - f64::from(self.ddof);
        let s1 = self.s1.0 + self.s1.1;
        let s2 = self.s2.0 + self.s2.1;
        let var = ((s2 - s1 * (s1 / n)) / dof).max(0.0);
        Some(if self.std { var.sqrt() } else { var })
    }
    fn rebase_every(&self) -> Option<usize> {
        Some((4 * self.w).max(64))
    }
    fn rebase(&mut self, v: &[f64], valid: &dyn Fn(usize) -> bool, lo: usize, hi: usize) {
        let ok = |i: &usize| valid(*i) && v[*i].is_finite();
        let n = (lo..hi).filter(ok).count();
        if n == 0 {
            return;
        }
        // Two passes: the window's mean becomes the new shift, then fresh sums around it.
        let (mut s, mut c) = (0.0, 0.0);
        for i in (lo..hi).filter(ok) {
            neumaier(&mut s, &mut c, v[i]);
        }
        self.k = (s + c) / n as f64;
        self.s1 = (0.0, 0.0);
        self.s2 = (0.0, 0.0);
        for i in (lo..hi).filter(ok) {
            let d = v[i] - self.k;
            neumaier(&mut self.s1.0, &mut self.s1.1, d);
            neumaier(&mut self.s2.0, &mut self.s2.1, d * d);
        }
    }
}

/// Monotonic deque: candidates for the extreme, oldest first.
struct MinMaxWin {
    max: bool,
    deque: VecDeque<(usize, f64)>,
    nan: u32,
}

impl MinMaxWin {
    fn new(max: bool, w: usize) -> Self {
        Self {
            max,
            deque: VecDeque::with_capacity(w.min(1 << 16)),
            nan: 0,
        }
    }
}

impl Window for MinMaxWin {
    #[inline(always)]
    fn add(&mut self, i: usize, x: f64) {
        if x.is_nan() {
            self.nan += 1;
            return;
        }
        // Older values that can no longer be the extreme leave from the back.
        while let Some(&(_, b)) = self.deque.back() {
            if (self.max && b <= x) || (!self.max && b >= x) {
                self.deque.pop_back();
            } else {
                break;
            }
        }
        self.deque.push_back((i, x));
    }
    #[inline(always)]
    fn remove(&mut self, i: usize, x: f64) {
        if x.is_nan() {
            self.nan -= 1;
        } else if self.deque.front().is_some_and(|&(j, _)| j == i) {
            self.deque.pop_front();
        }
    }
    #[inline(always)]
    fn get(&self, _count: usize) -> Option<f64> {
        if self.nan > 0 {
            return Some(f64::NAN);
        }
        self.deque.front().map(|&(_, x)| x)
    }
}

/// Weighted sum/mean/var/std, computed directly for each row: weight `j` applies to the `j`-th
/// position of the full window (oldest first); positions outside the column or null are absent.
fn weighted(
    kind: RollingKind,
    weights: &[f64],
    v: &[f64],
    valid: Option<&BooleanBuffer>,
    g: &Geometry,
    s: usize,
    mut out: Out<'_>,
) {
    let valid = |i: usize| valid.is_none_or(|m| m.value(i));
    let mut xs: Vec<(f64, f64)> = Vec::with_capacity(g.w);
    for k in 0..out.v.len() {
        let i = s + k;
        let end = i + g.shift + 1; // one past the window's last position
        xs.clear();
        for (j, &wt) in weights.iter().enumerate() {
            // Position end - w + j, skipped when before row 0 or past the end.
            let Some(p) = (end + j).checked_sub(g.w) else {
                continue;
            };
            if p < g.n && valid(p) {
                xs.push((v[p], wt));
            }
        }
        if xs.len() < g.min_periods {
            continue;
        }
        let sum_w: f64 = xs.iter().map(|p| p.1).sum();
        let sum_wx: f64 = xs.iter().map(|p| p.0 * p.1).sum();
        let r = match kind {
            RollingKind::Sum => sum_wx,
            RollingKind::Mean => sum_wx / sum_w,
            _ => {
                let m = sum_wx / sum_w;
                let var = xs.iter().map(|p| p.1 * (p.0 - m) * (p.0 - m)).sum::<f64>() / sum_w;
                if kind == RollingKind::Std {
                    var.sqrt()
                } else {
                    var
                }
            }
        };
        out.set(k, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Float64Array};
    use arrow::datatypes::Float64Type;
    use std::sync::Arc;

    fn roll(v: Vec<Option<f64>>, kind: RollingKind, o: RollingOptions) -> Vec<Option<f64>> {
        let a: ArrayRef = Arc::new(Float64Array::from(v));
        let r = rolling(&a, kind, &o, &DataType::Float64).unwrap();
        r.as_primitive::<Float64Type>().iter().collect()
    }

    /// Straightforward reference: collect each window and compute from scratch.
    fn naive(v: &[Option<f64>], kind: RollingKind, o: &RollingOptions) -> Vec<Option<f64>> {
        let n = v.len() as isize;
        let (w, sh) = (o.window as isize, o.shift() as isize);
        (0..n)
            .map(|i| {
                let xs: Vec<f64> = (i + sh + 1 - w..=i + sh)
                    .filter(|p| (0..n).contains(p))
                    .filter_map(|p| v[p as usize])
                    .collect();
                if xs.len() < o.min_periods_or_window() {
                    return None;
                }
                let var = matches!(kind, RollingKind::Var | RollingKind::Std);
                if var && xs.len() <= o.ddof as usize {
                    return None;
                }
                if xs.iter().any(|x| x.is_nan()) {
                    return Some(f64::NAN);
                }
                let mut s = xs.clone();
                s.sort_by(f64::total_cmp);
                let len = s.len();
                let sum: f64 = xs.iter().sum();
                Some(match kind {
                    RollingKind::Sum => sum,
                    RollingKind::Mean => sum / len as f64,
                    RollingKind::Min => s[0],
                    RollingKind::Max => s[len - 1],
                    RollingKind::Median if len % 2 == 1 => s[len / 2],
                    RollingKind::Median => (s[len / 2 - 1] + s[len / 2]) / 2.0,
                    RollingKind::Var | RollingKind::Std => {
                        if len <= o.ddof as usize {
                            return None;
                        }
                        let m = sum / len as f64;
                        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>()
                            / (len - o.ddof as usize) as f64;
                        if kind == RollingKind::Std {
                            var.sqrt()
                        } else {
                            var
                        }
                    }
                })
            })
            .collect()
    }

    fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| match (x, y) {
                (None, None) => true,
                (Some(x), Some(y)) => {
                    (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * y.abs().max(1.0)
                }
                _ => false,
            })
    }

    #[test]
    fn every_kind_matches_the_naive_reference() {
        let v: Vec<Option<f64>> = (0..900)
            .map(|i| match i % 17 {
                3 => None,
                5 if i > 100 => Some(f64::NAN),
                _ => Some(((i * 37) % 23) as f64 - 11.0),
            })
            .collect();
        use RollingKind::*;
        for kind in [Sum, Mean, Min, Max, Var, Std, Median] {
            for (w, mp, center) in [
                (1, 1, false),
                (3, 3, false),
                (4, 2, true),
                (7, 1, true),
                (250, 1, false),
                (600, 1, false),
                (601, 300, true),
            ] {
                let o = RollingOptions::new(w).min_periods(mp).center(center);
                assert!(
                    close(&roll(v.clone(), kind, o.clone()), &naive(&v, kind, &o)),
                    "{kind:?} {o:?}"
                );
            }
        }
    }

    #[test]
    fn infinities_leave_the_window_cleanly() {
        let v = vec![
            Some(1.0),
            Some(f64::INFINITY),
            Some(3.0),
            Some(4.0),
            Some(f64::NEG_INFINITY),
            Some(5.0),
            Some(6.0),
        ];
        let s = roll(v.clone(), RollingKind::Sum, RollingOptions::new(2));
        assert_eq!(s[1], Some(f64::INFINITY));
        assert_eq!(s[3], Some(7.0));
        assert_eq!(s[6], Some(11.0));
        let var = roll(v, RollingKind::Var, RollingOptions::new(2));
        assert!(var[2].unwrap().is_nan());
        assert_eq!(var[3], Some(0.5));
    }
}
