//! Sliding a window state over a fixed window of `w` rows (`rolling_*`), faster than the
//! general driver (`rolling::drive`) and making exactly the same calls on the state in the
//! same order, so every statistic comes out the same to the bit.
//!
//! The general driver recomputes both ends of every row's window and loops until they are
//! reached, which suits windows by time (`rolling_*_by`), whose ends move by any number of
//! rows. A fixed window's ends move by at most one row each: after the chunk's first row,
//! row `i` adds row `i + shift` while that is inside the column and removes row
//! `i + shift - w` once the window is full. Both conditions change once at most, so the rows
//! after the first fall into at most three stretches, each with one fixed step that the loop
//! no longer tests per row. A rolling mean of 20 over 10M rows spent more time on that
//! bookkeeping than on its compensated sums.

use super::rolling::{Bounds, Geometry, Out, Window};

/// The sliding state and the chunk's output: the general driver's variables.
struct Slide<'a, 'o, W, V> {
    win: &'a mut W,
    v: &'a [f64],
    valid: V,
    /// The window's rows: `lo..hi`.
    lo: usize,
    hi: usize,
    /// Valid (non-null) rows in the window.
    count: usize,
    every: Option<usize>,
    since: usize,
    min_periods: usize,
    out: Out<'o>,
}

impl<W: Window, V: Fn(usize) -> bool + Copy> Slide<'_, '_, W, V> {
    /// Row `hi` enters the window.
    #[inline(always)]
    fn enter(&mut self) {
        let r = self.hi;
        if (self.valid)(r) {
            self.win.add(r, self.v[r]);
            self.count += 1;
        }
        self.hi += 1;
    }

    /// Row `lo` leaves the window.
    #[inline(always)]
    fn leave(&mut self) {
        let r = self.lo;
        if (self.valid)(r) {
            self.win.remove(r, self.v[r]);
            self.count -= 1;
        }
        self.lo += 1;
    }

    /// Output row `k` of the chunk, its window now in place.
    #[inline(always)]
    fn emit(&mut self, k: usize) {
        if let Some(e) = self.every {
            self.since += 1;
            if self.since >= e {
                self.since = 0;
                self.win.rebase(self.v, &self.valid, self.lo, self.hi);
            }
        }
        if self.count >= self.min_periods {
            if let Some(x) = self.win.get(self.count) {
                self.out.set(k, x);
            }
        }
    }

    /// Output rows `from..to` (chunk positions), each adding its newest row when `ADD` and
    /// removing its oldest when `REMOVE`.
    #[inline(always)]
    fn stretch<const ADD: bool, const REMOVE: bool>(&mut self, from: usize, to: usize) {
        for k in from..to {
            if ADD {
                self.enter();
            }
            if REMOVE {
                self.leave();
            }
            self.emit(k);
        }
    }
}

/// Slide `win` over the output rows `s..s + out.len()` of the fixed window `g`: the calls of
/// `rolling::drive` over `g`, in the same order.
#[inline(always)]
pub(super) fn slide_fixed<W: Window, V: Fn(usize) -> bool + Copy>(
    win: &mut W,
    v: &[f64],
    valid: V,
    g: &Geometry,
    s: usize,
    out: Out<'_>,
) {
    let len = out.len();
    if len == 0 {
        return;
    }
    let every = win.rebase_every();
    let first = g.lo(s);
    let mut st = Slide {
        win,
        v,
        valid,
        lo: first,
        hi: first,
        count: 0,
        every,
        since: 0,
        min_periods: g.min_periods(),
        out,
    };
    // The chunk's first row: its whole window enters, nothing leaves.
    let h = g.hi(s);
    while st.hi < h {
        st.enter();
    }
    st.emit(0);
    // From the second row on, as chunk positions: rows before `adds_end` add one row (their
    // window's end is still inside the column), rows from `removes_from` remove one (their
    // window is full). Both are positions where a condition on `s + k` flips.
    let adds_end = g.n.saturating_sub(g.shift).saturating_sub(s).clamp(1, len);
    let removes_from = g.w.saturating_sub(g.shift).saturating_sub(s).clamp(1, len);
    let mut k = 1;
    while k < len {
        let add = k < adds_end;
        let remove = k >= removes_from;
        let mut stop = len;
        if add {
            stop = stop.min(adds_end);
        }
        if !remove {
            stop = stop.min(removes_from);
        }
        match (add, remove) {
            (true, true) => st.stretch::<true, true>(k, stop),
            (true, false) => st.stretch::<true, false>(k, stop),
            (false, true) => st.stretch::<false, true>(k, stop),
            (false, false) => st.stretch::<false, false>(k, stop),
        }
        k = stop;
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
    use arrow::buffer::BooleanBuffer;
    use arrow::datatypes::{DataType, Float64Type};

    use super::super::rolling::{par_windows, run_chunk, Bounds, Geometry};
    use crate::expr::RollingKind;

    /// A fixed window driven by the general driver (the default `slide`), for comparison.
    struct General(Geometry);

    impl Bounds for General {
        fn lo(&self, i: usize) -> usize {
            self.0.lo(i)
        }
        fn hi(&self, i: usize) -> usize {
            self.0.hi(i)
        }
        fn min_periods(&self) -> usize {
            self.0.min_periods
        }
        fn width(&self) -> usize {
            self.0.w
        }
    }

    /// Values bits and validity of `kind` over `a` with bounds `b`.
    fn run<B: Bounds>(
        a: &Float64Array,
        kind: RollingKind,
        ddof: u8,
        b: &B,
    ) -> (Vec<u64>, Vec<bool>) {
        let valid: Option<BooleanBuffer> = a
            .nulls()
            .filter(|nb| nb.null_count() > 0)
            .map(|nb| nb.inner().clone());
        let r: ArrayRef = par_windows(a, valid.as_ref(), b, &DataType::Float64, |v, m, s, o| {
            run_chunk(kind, ddof, v, m, b, s, o)
        })
        .expect("rolling");
        let r = r.as_primitive::<Float64Type>();
        let bits = r.values().iter().map(|x| x.to_bits()).collect();
        let valid = (0..r.len()).map(|i| r.is_valid(i)).collect();
        (bits, valid)
    }

    /// Values that stress the compensated sums and the special counts: NaN, ±inf, nulls,
    /// magnitudes from 1e-300 to 1e300, a large offset with small steps, and runs of each.
    fn column(n: usize) -> Float64Array {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let stretch = (i / 5_000) % 4;
                match state % 101 {
                    0 => None,
                    1 => Some(f64::NAN),
                    2 if stretch != 0 => Some(f64::INFINITY),
                    3 if stretch != 0 => Some(f64::NEG_INFINITY),
                    _ => Some(match stretch {
                        0 => u * 1e300,
                        1 => 1e16 + u,
                        2 => u * 1e-300,
                        _ => u * 10f64.powi((state % 40) as i32 - 20),
                    }),
                }
            })
            .collect()
    }

    /// The fixed-window path gives the general driver's output to the bit: every kind, windows
    /// from one row to longer than the column, centred or not, every `min_periods`, with and
    /// without nulls, over several chunks (so chunks start mid-column).
    #[test]
    fn fixed_windows_equal_the_general_driver_bit_for_bit() {
        use RollingKind::*;
        let long = column(140_000);
        let no_nulls: Float64Array = long.iter().map(|x| Some(x.unwrap_or(0.5))).collect();
        let short = column(300);
        let mut cases: Vec<(&Float64Array, usize, usize, bool)> = vec![];
        for a in [&long, &no_nulls] {
            for (w, mp, center) in [(1, 1, false), (20, 20, false), (20, 1, true), (3, 2, false)] {
                cases.push((a, w, mp, center));
            }
        }
        for (w, mp, center) in [
            (20, 20, false),
            (299, 1, false),
            (300, 300, false),
            (301, 1, true),
            (1000, 1, false),
            (1000, 250, true),
            (1000, 1000, false),
            (700, 5, true),
            (2, 3, false),
        ] {
            cases.push((&short, w, mp, center));
        }
        for (a, w, mp, center) in cases {
            let g = Geometry {
                n: a.len(),
                w,
                shift: if center { (w - 1) / 2 } else { 0 },
                min_periods: mp,
            };
            for kind in [Sum, Mean, Var, Std, Min, Max, Median] {
                for ddof in [0, 1] {
                    if ddof == 1 && !matches!(kind, Var | Std) {
                        continue;
                    }
                    let fixed = run(a, kind, ddof, &g);
                    let general = run(a, kind, ddof, &General(g));
                    assert!(
                        fixed == general,
                        "{kind:?} ddof {ddof} over {} rows, {g:?}",
                        a.len()
                    );
                }
            }
        }
    }

    /// The column's own nulls count for nothing: an all-null column and an empty one.
    #[test]
    fn empty_and_all_null_columns() {
        for a in [
            Float64Array::from(Vec::<f64>::new()),
            Float64Array::new_null(70),
        ] {
            let g = Geometry {
                n: a.len(),
                w: 5,
                shift: 0,
                min_periods: 1,
            };
            let (_, valid) = run(&a, RollingKind::Mean, 0, &g);
            assert!(valid.iter().all(|v| !v));
            assert_eq!(
                run(&a, RollingKind::Sum, 0, &g),
                run(&a, RollingKind::Sum, 0, &General(g))
            );
        }
    }
}
