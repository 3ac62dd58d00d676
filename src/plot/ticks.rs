//! Axis ticks and their labels: round numbers (steps of 1, 2 or 5 times a power of ten) for
//! numeric axes, calendar steps (seconds up to centuries, months and years aligned to the
//! calendar) for date and datetime axes, and every name (thinned when crowded) for
//! categories.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

use super::figure::Scale;

const DAY: f64 = 86_400.0;

/// Ticks inside `lo..=hi`: positions and their labels, about `target` of them.
pub fn ticks(scale: &Scale, lo: f64, hi: f64, target: usize) -> Vec<(f64, String)> {
    let target = target.max(2);
    match scale {
        Scale::Linear | Scale::Percent => {
            let step = nice_step((hi - lo) / target as f64);
            let percent = *scale == Scale::Percent;
            number_ticks(lo, hi, step)
                .into_iter()
                .map(|v| (v, format_number(v, step, percent)))
                .collect()
        }
        Scale::Date => time_ticks(lo * DAY, hi * DAY, target, true)
            .into_iter()
            .map(|(s, label)| (s / DAY, label))
            .collect(),
        Scale::DateTime { .. } => time_ticks(lo, hi, target, false),
        Scale::Categories(names) => {
            let n = names.len();
            let every = n.div_ceil(target.max(1)).max(1);
            (0..n)
                .step_by(every)
                .map(|i| (i as f64, names[i].clone()))
                .collect()
        }
    }
}

/// The round step (1, 2 or 5 times a power of ten) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Multiples of `step` within `lo..=hi` (computed as `k * step`, so no error accumulates).
fn number_ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    if last < first || last - first > 1000 {
        return vec![];
    }
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // -0.0 would print as "-0".
            if v == 0.0 {
                0.0
            } else {
                v
            }
        })
        .collect()
}

/// A tick value with as many decimals as the step needs; scientific for very large or small
/// magnitudes.
fn format_number(v: f64, step: f64, percent: bool) -> String {
    let (v, step) = if percent {
        (v * 100.0, step * 100.0)
    } else {
        (v, step)
    };
    let suffix = if percent { "%" } else { "" };
    if v != 0.0 && (v.abs() >= 1e7 || step < 1e-4) {
        let digits = (v.abs().log10().floor() - step.log10().floor()).clamp(0.0, 6.0) as usize;
        return format!("{v:.digits$e}{suffix}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}{suffix}")
}

/// A calendar step: a fixed number of seconds, or a number of months (aligned to the calendar).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Seconds(f64),
    Months(u32),
}

/// Steps from one second to a century, smallest first.
const STEPS: &[Step] = &[
    Step::Seconds(1.0),
    Step::Seconds(2.0),
    Step::Seconds(5.0),
    Step::Seconds(10.0),
    Step::Seconds(15.0),
    Step::Seconds(30.0),
    Step::Seconds(60.0),
    Step::Seconds(120.0),
    Step::Seconds(300.0),
    Step::Seconds(600.0),
    Step::Seconds(900.0),
    Step::Seconds(1800.0),
    Step::Seconds(3600.0),
    Step::Seconds(7200.0),
    Step::Seconds(3.0 * 3600.0),
    Step::Seconds(6.0 * 3600.0),
    Step::Seconds(12.0 * 3600.0),
    Step::Seconds(DAY),
    Step::Seconds(2.0 * DAY),
    Step::Seconds(7.0 * DAY),
    Step::Seconds(14.0 * DAY),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
    Step::Months(240),
    Step::Months(600),
    Step::Months(1200),
];

fn step_seconds(s: Step) -> f64 {
    match s {
        Step::Seconds(x) => x,
        // An average month; only used to pick a step.
        Step::Months(m) => f64::from(m) * 30.44 * DAY,
    }
}

/// Calendar ticks between `lo` and `hi` seconds since the epoch; `dates` keeps steps of at
/// least a day (a date axis has no hours).
fn time_ticks(lo: f64, hi: f64, target: usize, dates: bool) -> Vec<(f64, String)> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![];
    }
    let candidates: Vec<Step> = STEPS
        .iter()
        .copied()
        .filter(|s| !dates || step_seconds(*s) >= DAY)
        .collect();
    let step = candidates
        .iter()
        .copied()
        .find(|s| span / step_seconds(*s) <= target as f64)
        .or_else(|| candidates.last().copied())
        .unwrap_or(Step::Months(1200));
    let positions: Vec<f64> = match step {
        Step::Seconds(s) => {
            // Multiples of the step since the epoch (weeks start on the epoch's Thursday,
            // which is as good as any day when only dates are printed).
            number_ticks(lo, hi, s)
        }
        Step::Months(m) => month_ticks(lo, hi, m),
    };
    let format = match step {
        Step::Months(m) if m >= 12 => "%Y",
        Step::Months(_) => "%Y-%m",
        Step::Seconds(s) if s >= DAY => "%Y-%m-%d",
        Step::Seconds(s) if s >= 60.0 && span >= DAY => "%Y-%m-%d %H:%M",
        Step::Seconds(s) if s >= 60.0 => "%H:%M",
        Step::Seconds(_) => "%H:%M:%S",
    };
    positions
        .into_iter()
        .filter_map(|p| Some((p, to_datetime(p)?.format(format).to_string())))
        .collect()
}

fn to_datetime(seconds: f64) -> Option<NaiveDateTime> {
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    DateTime::from_timestamp(whole as i64, nanos).map(|d| d.naive_utc())
}

/// First days of months whose index (months since year 0) is a multiple of `every`.
fn month_ticks(lo: f64, hi: f64, every: u32) -> Vec<f64> {
    let (Some(start), Some(_)) = (to_datetime(lo), to_datetime(hi)) else {
        return vec![];
    };
    let every = i64::from(every.max(1));
    let mut index = i64::from(start.year()) * 12 + i64::from(start.month0());
    index = index.div_euclid(every) * every;
    let mut out = Vec::new();
    loop {
        let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
        let Some(day) = i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, month0 as u32 + 1, 1))
        else {
            break;
        };
        let Some(t) = day.and_hms_opt(0, 0, 0) else {
            break;
        };
        let s = t.and_utc().timestamp() as f64;
        if s > hi || out.len() > 1000 {
            break;
        }
        if s >= lo {
            out.push(s);
        }
        index += every;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &[(f64, String)]) -> Vec<&str> {
        t.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn round_number_ticks() {
        let t = ticks(&Scale::Linear, -0.3, 10.4, 6);
        assert_eq!(labels(&t), vec!["0", "2", "4", "6", "8", "10"]);
        let t = ticks(&Scale::Linear, 0.01, 0.093, 5);
        assert_eq!(labels(&t), vec!["0.02", "0.04", "0.06", "0.08"]);
        let t = ticks(&Scale::Linear, -1.2, 1.2, 5);
        assert_eq!(labels(&t), vec!["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        let t = ticks(&Scale::Percent, 0.0, 1.0, 5);
        assert_eq!(labels(&t), vec!["0%", "20%", "40%", "60%", "80%", "100%"]);
        let t = ticks(&Scale::Linear, 0.0, 3e8, 4);
        assert_eq!(labels(&t)[1], "1e8");
    }

    #[test]
    fn date_ticks_follow_the_calendar() {
        // 2012-01-01 .. 2015-12-31 in days since the epoch: yearly ticks.
        let lo = 15340.0;
        let hi = 16800.0;
        let t = ticks(&Scale::Date, lo, hi, 6);
        assert_eq!(labels(&t), vec!["2012", "2013", "2014", "2015"]);
        // Four months: monthly ticks on the first of the month.
        let t = ticks(&Scale::Date, 15340.0, 15340.0 + 120.0, 6);
        assert_eq!(labels(&t), vec!["2012-01", "2012-02", "2012-03", "2012-04"]);
        // Two weeks: daily or two-daily ticks.
        let t = ticks(&Scale::Date, 15340.0, 15354.0, 8);
        assert_eq!(labels(&t)[0], "2012-01-01");
        assert!(t.len() >= 4 && t.len() <= 8, "{t:?}");
    }

    #[test]
    fn datetime_ticks_use_hours_within_a_day() {
        let day0 = 1_262_304_000.0; // 2010-01-01T00:00:00Z
        let t = ticks(
            &Scale::DateTime { utc: false },
            day0,
            day0 + 6.0 * 3600.0,
            6,
        );
        assert_eq!(
            labels(&t),
            vec!["00:00", "01:00", "02:00", "03:00", "04:00", "05:00", "06:00"]
        );
        let t = ticks(&Scale::DateTime { utc: false }, day0, day0 + 3.0 * DAY, 6);
        assert_eq!(labels(&t)[1], "2010-01-01 12:00");
    }

    #[test]
    fn crowded_categories_are_thinned() {
        let names: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
        let t = ticks(&Scale::Categories(names), -0.5, 29.5, 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t[1].1, "c3");
    }
}
