//! Order-statistics window states for `rolling_median`: a sorted buffer for small windows and
//! a Fenwick tree over value ranks for large ones. Both implement `rolling::Window`; NaN is
//! counted apart (a window holding one gives NaN), nulls never reach them.

use super::rolling::Window;

/// Largest window for which the sorted buffer is used.
pub(super) const SORTED_WINDOW_MAX: usize = 512;

/// The window's non-NaN values kept sorted (`total_cmp`): insertion and removal find their
/// place by binary search and shift at most `w` values.
pub(super) struct SortedWin {
    sorted: Vec<f64>,
    nan: u32,
}

impl SortedWin {
    pub(super) fn new(w: usize) -> Self {
        Self {
            sorted: Vec::with_capacity(w),
            nan: 0,
        }
    }
}

impl Window for SortedWin {
    fn add(&mut self, _i: usize, x: f64) {
        if x.is_nan() {
            self.nan += 1;
            return;
        }
        let at = self.sorted.partition_point(|y| y.total_cmp(&x).is_lt());
        self.sorted.insert(at, x);
    }
    fn remove(&mut self, _i: usize, x: f64) {
        if x.is_nan() {
            self.nan -= 1;
            return;
        }
        // Any copy of an equal value will do: they are indistinguishable.
        let at = self.sorted.partition_point(|y| y.total_cmp(&x).is_lt());
        if at < self.sorted.len() {
            self.sorted.remove(at);
        }
    }
    fn get(&self, _count: usize) -> Option<f64> {
        if self.nan > 0 {
            return Some(f64::NAN);
        }
        let k = self.sorted.len();
        if k == 0 {
            return None;
        }
        Some(if k % 2 == 1 {
            self.sorted[k / 2]
        } else {
            (self.sorted[k / 2 - 1] + self.sorted[k / 2]) / 2.0
        })
    }
}

/// Order statistics over the chunk's rows `base..`: each non-NaN value gets its rank among
/// them (ties broken by row), and a Fenwick tree counts the ranks currently in the window.
pub(super) struct MedianWin {
    base: usize,
    rank: Vec<u32>,
    sorted: Vec<f64>,
    tree: Vec<u32>,
    top: usize,
    total: usize,
    nan: u32,
}

impl MedianWin {
    pub(super) fn new<V: Fn(usize) -> bool>(v: &[f64], valid: V, lo: usize, hi: usize) -> Self {
        let mut order: Vec<u32> = (lo..hi)
            .filter(|&i| valid(i) && !v[i].is_nan())
            .map(|i| (i - lo) as u32)
            .collect();
        order.sort_unstable_by(|&a, &b| {
            v[lo + a as usize]
                .total_cmp(&v[lo + b as usize])
                .then(a.cmp(&b))
        });
        let mut rank = vec![u32::MAX; hi - lo];
        let mut sorted = Vec::with_capacity(order.len());
        for (r, &p) in order.iter().enumerate() {
            rank[p as usize] = r as u32;
            sorted.push(v[lo + p as usize]);
        }
        let m = sorted.len();
        let top = if m == 0 {
            0
        } else {
            1 << (usize::BITS - 1 - m.leading_zeros())
        };
        Self {
            base: lo,
            rank,
            sorted,
            tree: vec![0; m + 1],
            top,
            total: 0,
            nan: 0,
        }
    }

    fn update(&mut self, r: usize, add: bool) {
        let mut j = r + 1;
        while j < self.tree.len() {
            if add {
                self.tree[j] += 1;
            } else {
                self.tree[j] -= 1;
            }
            j += j & j.wrapping_neg();
        }
    }

    /// The `k`-th smallest (0-based) value in the window.
    fn kth(&self, k: usize) -> f64 {
        let (mut pos, mut rem) = (0usize, k as u32);
        let mut step = self.top;
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && self.tree[next] <= rem {
                pos = next;
                rem -= self.tree[next];
            }
            step >>= 1;
        }
        self.sorted[pos]
    }
}

impl Window for MedianWin {
    fn add(&mut self, i: usize, x: f64) {
        if x.is_nan() {
            self.nan += 1;
        } else {
            let r = self.rank[i - self.base] as usize;
            self.update(r, true);
            self.total += 1;
        }
    }
    fn remove(&mut self, i: usize, x: f64) {
        if x.is_nan() {
            self.nan -= 1;
        } else {
            let r = self.rank[i - self.base] as usize;
            self.update(r, false);
            self.total -= 1;
        }
    }
    fn get(&self, _count: usize) -> Option<f64> {
        if self.nan > 0 {
            return Some(f64::NAN);
        }
        let k = self.total;
        if k == 0 {
            return None;
        }
        Some(if k % 2 == 1 {
            self.kth(k / 2)
        } else {
            (self.kth(k / 2 - 1) + self.kth(k / 2)) / 2.0
        })
    }
}
