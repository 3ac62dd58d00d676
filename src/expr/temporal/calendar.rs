//! Calendar arithmetic shared by the `dt()` functions, the `date`/`datetime` literals, windows
//! by time and the display of timestamps: civil dates from day numbers and back, time units,
//! time zones, and spans such as `"7d"` or `"1mo"`.
//!
//! Dates are days since 1970-01-01 in the proleptic Gregorian calendar (Arrow's `Date32`);
//! timestamps are ticks of a [`TimeUnit`] since the epoch. A timestamp with a time zone is an
//! instant: its ticks count from 1970-01-01 UTC and calendar parts are read in the zone's
//! local time ([`Zone`]); one without a zone is a wall-clock time read as it is.
//!
//! Conversions between days and civil dates are Howard Hinnant's `days_from_civil` /
//! `civil_from_days`: exact for every `i32` day and allocation-free, so kernels call them
//! per row.

#[cfg(feature = "tz")]
use std::str::FromStr;

use arrow::datatypes::TimeUnit;
#[cfg(feature = "tz")]
use chrono::{NaiveDateTime, Offset, TimeZone};

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Ticks of `unit` in one second.
pub fn ticks_per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// Ticks of `unit` in one day.
pub fn ticks_per_day(unit: TimeUnit) -> i64 {
    SECONDS_PER_DAY * ticks_per_second(unit)
}

/// The finer of two units (the one both convert into exactly).
pub fn finer_unit(a: TimeUnit, b: TimeUnit) -> TimeUnit {
    if ticks_per_second(a) >= ticks_per_second(b) {
        a
    } else {
        b
    }
}

/// Short unit name as Polars prints it (`ms`, `μs`).
pub fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "μs",
        TimeUnit::Nanosecond => "ns",
    }
}

/// Days since 1970-01-01 of the civil date `y-m-d` (`m` 1..=12, `d` 1..=31).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month 1..=12, day 1..=31)` of `days` since 1970-01-01.
#[inline]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// ISO weekday of `days` since 1970-01-01: Monday is 1, Sunday 7 (1970-01-01 was a Thursday).
#[inline]
pub fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// True for leap years of the Gregorian calendar.
pub fn is_leap_year(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(y) => 29,
        _ => 28,
    }
}

/// Day of the year, 1..=366.
pub fn ordinal_day(days: i64) -> i64 {
    let (y, _, _) = civil_from_days(days);
    days - days_from_civil(y, 1, 1) + 1
}

/// `days` moved by `months` calendar months, the day clamped to the target month's length
/// (2020-03-31 minus one month is 2020-02-29), as Polars offsets dates.
pub fn add_months(days: i64, months: i64) -> i64 {
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + i64::from(m) - 1 + months;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm)))
}

/// A column's time zone, resolved: a fixed offset or a named zone of the tz database.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    /// Seconds east of UTC.
    Fixed(i32),
    /// A zone of the tz database (the default `tz` feature).
    #[cfg(feature = "tz")]
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parse an Arrow time zone string: `UTC` (also `Z`, `GMT`, `Etc/UTC`), a fixed offset
    /// (`+05:30`, `-0800`, `+01`), or a tz database name (`America/New_York`).
    pub fn parse(name: &str) -> Result<Zone, String> {
        let upper = name.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "UTC" | "Z" | "GMT" | "ETC/UTC" | "ETC/GMT" | "UCT"
        ) {
            return Ok(Zone::Fixed(0));
        }
        if let Some(secs) = parse_offset(name) {
            return Ok(Zone::Fixed(secs));
        }
        #[cfg(feature = "tz")]
        return chrono_tz::Tz::from_str(name)
            .map(Zone::Named)
            .map_err(|_| format!("unknown time zone {name:?}"));
        #[cfg(not(feature = "tz"))]
        Err(format!(
            "time zone {name:?}: named zones need fusedframe's `tz` feature (UTC and fixed \
             offsets such as \"+05:30\" work without it)"
        ))
    }

    /// Seconds east of UTC at the UTC instant `secs`.
    #[inline]
    #[cfg_attr(not(feature = "tz"), allow(unused_variables))]
    pub fn offset_at(&self, secs: i64) -> i64 {
        match self {
            Zone::Fixed(o) => i64::from(*o),
            #[cfg(feature = "tz")]
            Zone::Named(tz) => match chrono::DateTime::from_timestamp(secs, 0) {
                Some(t) => i64::from(
                    tz.offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ),
                None => 0,
            },
        }
    }

    /// The UTC instant (seconds) of the local wall-clock time `local` (seconds). A time the
    /// clocks skip (spring forward) is `None`; a repeated one (fall back) takes the offset
    /// `prefer` when it is one of the two, else the earlier instant.
    #[cfg_attr(not(feature = "tz"), allow(unused_variables))]
    pub fn local_to_utc(&self, local: i64, prefer: i64) -> Option<i64> {
        match self {
            Zone::Fixed(o) => Some(local - i64::from(*o)),
            #[cfg(feature = "tz")]
            Zone::Named(tz) => {
                let naive = chrono::DateTime::from_timestamp(local, 0)?.naive_utc();
                let utc = |n: &NaiveDateTime, o: i64| n.and_utc().timestamp() - o;
                match tz.offset_from_local_datetime(&naive) {
                    chrono::LocalResult::Single(o) => {
                        Some(utc(&naive, i64::from(o.fix().local_minus_utc())))
                    }
                    chrono::LocalResult::Ambiguous(a, b) => {
                        let (a, b) = (
                            i64::from(a.fix().local_minus_utc()),
                            i64::from(b.fix().local_minus_utc()),
                        );
                        let o = if b == prefer { b } else { a };
                        Some(utc(&naive, o))
                    }
                    chrono::LocalResult::None => None,
                }
            }
        }
    }
}

/// `+HH:MM`, `+HHMM` or `+HH` (or `-`) as seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: Vec<u8> = match b.len() {
        6 if b[3] == b':' => vec![b[1], b[2], b[4], b[5]],
        5 => b[1..5].to_vec(),
        3 => vec![b[1], b[2], b'0', b'0'],
        _ => return None,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| i32::from(digits[i] - b'0');
    let (h, m) = (n(0) * 10 + n(1), n(2) * 10 + n(3));
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// A length of time as Polars writes it: `"7d"`, `"1mo"`, `"1d12h"`; calendar parts (months,
/// weeks, days) are kept apart from the fixed part (nanoseconds) because their length depends
/// on the date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Calendar months (`"1mo"`, `"1y"` is 12).
    pub months: i64,
    /// Weeks (`"2w"`).
    pub weeks: i64,
    /// Calendar days (`"7d"`).
    pub days: i64,
    /// The fixed part: hours, minutes, seconds and below, in nanoseconds.
    pub nanos: i64,
}

impl Span {
    /// Parse `<n><unit>` terms: `ns`, `us`, `ms`, `s`, `m`, `h`, `d`, `w`, `mo`, `q` (3 months),
    /// `y` (12 months).
    pub fn parse(text: &str) -> Result<Span, String> {
        let bad = |why: &str| {
            Err(format!(
                "invalid duration {text:?}: {why} (write terms such as \"7d\", \"12h\", \"1mo\", \
                 \"1d12h\"; units ns, us, ms, s, m, h, d, w, mo, q, y)"
            ))
        };
        let mut span = Span::default();
        let mut rest = text.trim();
        if rest.is_empty() {
            return bad("it is empty");
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return bad("a term must start with a number");
            }
            let Ok(n) = rest[..digits].parse::<i64>() else {
                return bad("a number is too large");
            };
            rest = &rest[digits..];
            let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..letters];
            rest = &rest[letters..];
            let add = |a: &mut i64, k: i64| -> bool {
                match n.checked_mul(k).and_then(|v| a.checked_add(v)) {
                    Some(v) => {
                        *a = v;
                        true
                    }
                    None => false,
                }
            };
            let ok = match unit {
                "ns" => add(&mut span.nanos, 1),
                "us" => add(&mut span.nanos, 1_000),
                "ms" => add(&mut span.nanos, 1_000_000),
                "s" => add(&mut span.nanos, 1_000_000_000),
                "m" => add(&mut span.nanos, 60_000_000_000),
                "h" => add(&mut span.nanos, 3_600_000_000_000),
                "d" => add(&mut span.days, 1),
                "w" => add(&mut span.weeks, 1),
                "mo" => add(&mut span.months, 1),
                "q" => add(&mut span.months, 3),
                "y" => add(&mut span.months, 12),
                "" => return bad("a number needs a unit"),
                other => return bad(&format!("unknown unit {other:?}")),
            };
            if !ok {
                return bad("it is too long");
            }
        }
        if span == Span::default() {
            return bad("it is zero");
        }
        Ok(span)
    }

    /// True when only one kind of part is set (what truncation needs).
    pub fn is_single_kind(&self) -> bool {
        [self.months, self.weeks, self.days, self.nanos]
            .iter()
            .filter(|v| **v != 0)
            .count()
            == 1
    }

    /// True when the span has a fixed part finer than a day (meaningless on dates).
    pub fn has_sub_day(&self) -> bool {
        self.nanos % (SECONDS_PER_DAY * 1_000_000_000) != 0
    }

    /// The fixed part in ticks of `unit`, when it divides exactly.
    pub fn fixed_ticks(&self, unit: TimeUnit) -> Option<i64> {
        let per = 1_000_000_000 / ticks_per_second(unit);
        (self.nanos % per == 0).then_some(self.nanos / per)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_417), (2023, 3, 1));
        for d in (-800_000..800_000).step_by(97) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
            // chrono agrees.
            let c = chrono::NaiveDate::from_num_days_from_ce_opt(d as i32 + 719_163).unwrap();
            use chrono::Datelike;
            assert_eq!((c.year() as i64, c.month(), c.day()), (y, m, dd), "{d}");
            assert_eq!(c.weekday().number_from_monday() as i64, weekday(d));
            assert_eq!(c.ordinal() as i64, ordinal_day(d));
        }
    }

    #[test]
    fn months_clamp_the_day() {
        let d = days_from_civil(2020, 3, 31);
        assert_eq!(civil_from_days(add_months(d, -1)), (2020, 2, 29));
        assert_eq!(civil_from_days(add_months(d, -13)), (2019, 2, 28));
        assert_eq!(civil_from_days(add_months(d, 11)), (2021, 2, 28));
    }

    #[test]
    fn zones_resolve_offsets_and_names() {
        assert_eq!(Zone::parse("UTC"), Ok(Zone::Fixed(0)));
        assert_eq!(Zone::parse("+05:30"), Ok(Zone::Fixed(19_800)));
        assert_eq!(Zone::parse("-0800"), Ok(Zone::Fixed(-28_800)));
        assert!(Zone::parse("Mars/Olympus")
            .unwrap_err()
            .contains("Mars/Olympus"));
        let ny = Zone::parse("America/New_York").unwrap();
        // 2020-03-08 07:00 UTC is 03:00 EDT (just after the spring-forward).
        let t = days_from_civil(2020, 3, 8) * SECONDS_PER_DAY + 7 * 3600;
        assert_eq!(ny.offset_at(t), -4 * 3600);
        assert_eq!(ny.offset_at(t - 3600), -5 * 3600);
        // 02:30 local does not exist that day; 01:30 on 2020-11-01 exists twice.
        let local = days_from_civil(2020, 3, 8) * SECONDS_PER_DAY + 2 * 3600 + 1800;
        assert_eq!(ny.local_to_utc(local, 0), None);
        let local = days_from_civil(2020, 11, 1) * SECONDS_PER_DAY + 3600 + 1800;
        let first = ny.local_to_utc(local, 0).unwrap();
        let second = ny.local_to_utc(local, -5 * 3600).unwrap();
        assert_eq!(second - first, 3600);
    }

    #[test]
    fn spans_parse_like_polars() {
        let s = Span::parse("1d12h").unwrap();
        assert_eq!((s.days, s.nanos), (1, 12 * 3_600_000_000_000));
        assert_eq!(Span::parse("1q").unwrap().months, 3);
        assert_eq!(Span::parse("2y").unwrap().months, 24);
        assert!(Span::parse("7x")
            .unwrap_err()
            .contains("unknown unit \"x\""));
        assert!(Span::parse("d").is_err());
        assert!(Span::parse("0d").is_err());
        assert!(Span::parse("12").is_err());
        assert!(!Span::parse("1d12h").unwrap().is_single_kind());
        assert_eq!(
            Span::parse("90m").unwrap().fixed_ticks(TimeUnit::Second),
            Some(5400)
        );
    }
}
