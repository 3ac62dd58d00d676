//! Rolling statistics over windows by time: row `i` summarizes the rows whose `by` time lies
//! in `(t_i - window, t_i]`.
//!
//! With `by` sorted ascending (checked; nulls skipped) each window is a contiguous range of
//! rows, found for every row by two pointers moving forward only: the window starts at the
//! first row later than `t_i - window` and ends after the last row at `t_i` (rows sharing a
//! time share a window, as Polars' `closed="right"`). Those ranges feed the same sliding window
//! states and fixed parallel chunks as `rolling_*` (`rolling::par_windows`), so sums are
//! compensated and results never depend on the thread count.
//!
//! `t - window` steps calendar parts (months, weeks, days) by the calendar, in local time for
//! a zoned `by`, then subtracts the fixed part; dates count as midnight in milliseconds.

use arrow::array::{Array, ArrayRef};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::datatypes::{DataType, TimeUnit};

use super::rolling::{par_windows, run_chunk, Bounds};
use crate::error::{Error, Result};
use crate::exec::kernels::chunked::to_f64;
use crate::exec::kernels::temporal::ticks;
use crate::expr::temporal::calendar::{add_months, ticks_per_second, Span, Zone};
use crate::expr::RollingKind;

/// Each row's window as a range of rows.
struct TimeBounds {
    lo: Vec<usize>,
    hi: Vec<usize>,
    min_periods: usize,
    width: usize,
}

impl Bounds for TimeBounds {
    #[inline(always)]
    fn lo(&self, i: usize) -> usize {
        self.lo[i]
    }
    #[inline(always)]
    fn hi(&self, i: usize) -> usize {
        self.hi[i]
    }
    fn min_periods(&self) -> usize {
        self.min_periods
    }
    fn width(&self) -> usize {
        self.width
    }
}

/// `kind` of `x` over windows of `window` by the times `by`; `name` is the function's name
/// for messages, `out` the output type.
pub(super) fn rolling_by(
    x: &ArrayRef,
    by: &ArrayRef,
    kind: RollingKind,
    window: &str,
    min_periods: usize,
    name: &str,
    out: &DataType,
) -> Result<ArrayRef> {
    let span = Span::parse(window).map_err(Error::Plan)?;
    let (unit, zone) = match by.data_type() {
        DataType::Timestamp(u, tz) => (
            *u,
            match tz {
                Some(z) => Some(Zone::parse(z).map_err(Error::Plan)?),
                None => None,
            },
        ),
        _ => (TimeUnit::Millisecond, None),
    };
    let fixed = span.fixed_ticks(unit).ok_or_else(|| {
        Error::Plan(format!(
            "{name}: window {window:?} is finer than {unit:?} ticks"
        ))
    })?;
    let t = ticks(by, Some(unit))?;
    let tv = t.values();
    let n = x.len();
    let by_valid = |i: usize| t.is_valid(i);
    // Sorted ascending, ignoring nulls.
    let mut last: Option<usize> = None;
    for i in (0..n).filter(|&i| by_valid(i)) {
        if let Some(j) = last {
            if tv[i] < tv[j] {
                return Err(Error::Compute(format!(
                    "{name}(.., {window:?}) needs its `by` column sorted ascending, but row {i} \
                     is earlier than row {j}; sort by it first"
                )));
            }
        }
        last = Some(i);
    }
    let per_second = ticks_per_second(unit);
    let start = |ti: i64| window_start(ti, &span, fixed, per_second, zone);
    let (mut lo, mut hi) = (vec![0usize; n], vec![0usize; n]);
    let (mut l, mut h) = (0usize, 0usize);
    for i in 0..n {
        if by_valid(i) {
            let s = start(tv[i]);
            while l < n && (!by_valid(l) || tv[l] <= s) && l < i {
                l += 1;
            }
            h = h.max(i + 1);
            while h < n && (!by_valid(h) || tv[h] <= tv[i]) {
                h += 1;
            }
        }
        lo[i] = l;
        hi[i] = h.max(l);
    }
    let width = (0..n).map(|i| hi[i] - lo[i]).max().unwrap_or(1).max(1);
    let bounds = TimeBounds {
        lo,
        hi,
        min_periods: min_periods.max(1),
        width,
    };
    let f = to_f64(x)?;
    // Values count where both the value and its time are present.
    let valid: Option<BooleanBuffer> = match (f.nulls(), t.nulls()) {
        (None, None) => None,
        (a, b) => NullBuffer::union(a, b).map(|nb| nb.inner().clone()),
    };
    let r = par_windows(&f, valid.as_ref(), &bounds, out, |v, valid, s, o| {
        run_chunk(kind, 1, v, valid, &bounds, s, o)
    })?;
    // Rows without a time are null.
    match t.nulls().filter(|nb| nb.null_count() > 0) {
        None => Ok(r),
        Some(nb) => {
            let nulls = NullBuffer::union(r.nulls(), Some(nb));
            let data = r.to_data().into_builder().nulls(nulls).build()?;
            Ok(arrow::array::make_array(data))
        }
    }
}

/// The exclusive start `t - span` of the window ending at `t` (ticks of a unit with
/// `per_second` ticks a second).
fn window_start(t: i64, span: &Span, fixed: i64, per_second: i64, zone: Option<Zone>) -> i64 {
    let mut s = t;
    if span.months != 0 || span.weeks != 0 || span.days != 0 {
        let offset = zone.map_or(0, |z| {
            z.offset_at(s.div_euclid(per_second))
                .saturating_mul(per_second)
        });
        let per_day = 86_400 * per_second;
        let local = s.saturating_add(offset);
        let (days, tod) = (local.div_euclid(per_day), local.rem_euclid(per_day));
        let days = add_months(days, -span.months) - 7 * span.weeks - span.days;
        let local = days.saturating_mul(per_day).saturating_add(tod);
        s = match zone {
            None => local,
            Some(z) => {
                let secs = local.div_euclid(per_second);
                let sub = local.rem_euclid(per_second);
                match z.local_to_utc(secs, offset / per_second) {
                    Some(u) => u.saturating_mul(per_second).saturating_add(sub),
                    // A skipped local time: keep the original offset.
                    None => local.saturating_sub(offset),
                }
            }
        };
    }
    s.saturating_sub(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Date32Array, Float64Array};
    use arrow::datatypes::Float64Type;
    use std::sync::Arc;

    fn run(
        x: Vec<Option<f64>>,
        days: Vec<Option<i32>>,
        kind: RollingKind,
        w: &str,
    ) -> Vec<Option<f64>> {
        let x: ArrayRef = Arc::new(Float64Array::from(x));
        let by: ArrayRef = Arc::new(Date32Array::from(days));
        let r = rolling_by(&x, &by, kind, w, 1, "rolling_by", &DataType::Float64).unwrap();
        r.as_primitive::<Float64Type>().iter().collect()
    }

    #[test]
    fn duplicate_times_share_a_window_like_polars() {
        // Polars 2.1: ts = [1, 2, 2, 5, 9] (days), x = [1, 2, null, 4, NaN], "3d".
        let x = vec![Some(1.0), Some(2.0), None, Some(4.0), Some(f64::NAN)];
        let d = vec![Some(1), Some(2), Some(2), Some(5), Some(9)];
        let m = run(x.clone(), d.clone(), RollingKind::Mean, "3d");
        assert_eq!(&m[..4], &[Some(1.0), Some(1.5), Some(1.5), Some(4.0)]);
        assert!(m[4].unwrap().is_nan());
        let s = run(x, d, RollingKind::Max, "3d");
        assert_eq!(&s[..4], &[Some(1.0), Some(2.0), Some(2.0), Some(4.0)]);
    }

    #[test]
    fn unsorted_times_are_an_error_and_null_times_give_null() {
        let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let by: ArrayRef = Arc::new(Date32Array::from(vec![3, 1]));
        let err = rolling_by(
            &x,
            &by,
            RollingKind::Sum,
            "2d",
            1,
            "rolling_sum_by",
            &DataType::Float64,
        )
        .unwrap_err();
        assert!(err.to_string().contains("sorted ascending"), "{err}");
        let s = run(
            vec![Some(1.0), Some(5.0), Some(2.0)],
            vec![Some(1), None, Some(2)],
            RollingKind::Sum,
            "2d",
        );
        assert_eq!(s, vec![Some(1.0), None, Some(3.0)]);
    }

    #[test]
    fn calendar_months_step_by_the_calendar() {
        // 2020-03-31 minus one month is 2020-02-29: the window (02-29, 03-31] excludes 02-29.
        let d = |y, m, dd| crate::expr::temporal::calendar::days_from_civil(y, m, dd) as i32;
        let s = run(
            vec![Some(1.0), Some(10.0), Some(100.0)],
            vec![
                Some(d(2020, 2, 29)),
                Some(d(2020, 3, 1)),
                Some(d(2020, 3, 31)),
            ],
            RollingKind::Sum,
            "1mo",
        );
        assert_eq!(s, vec![Some(1.0), Some(11.0), Some(110.0)]);
    }
}
