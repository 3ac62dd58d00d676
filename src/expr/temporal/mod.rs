//! Dates and times: the literals [`date`] and [`datetime`], and the `dt()` namespace
//! (`col("d").dt().year()`, `.month()`, `.truncate("1mo")`, ...), Polars' names and types.
//!
//! - Parts: `year()` (Int32), `quarter()`, `month()`, `day()`, `weekday()` (ISO: Monday 1 to
//!   Sunday 7), `hour()`, `minute()`, `second()` (Int8) and `ordinal_day()` (Int16, 1..=366);
//!   `date()` drops the time of day. Hours, minutes and seconds need a datetime.
//! - `truncate(every)` rounds down to a multiple of `every` (`"1d"`, `"1w"`, `"1mo"`, `"1q"`,
//!   `"1y"`, `"6h"`, `"15m"`, `"2w"`, ...): weeks start on Monday; several days, weeks or
//!   months count from 1970-01-01 (weeks from Monday 1970-01-05), as Polars does. The type is
//!   kept (a date stays a date).
//! - Durations (what subtracting dates gives): `total_days()`, `total_hours()`,
//!   `total_minutes()`, `total_seconds()`, `total_milliseconds()`, whole units rounded toward
//!   zero (Int64).
//!
//! Time zones: a timestamp with a zone is an instant; its parts and truncation are read in the
//! zone's local time (`America/New_York` follows daylight saving time), and a truncated
//! instant keeps its zone. A truncation landing on a local time that does not exist (skipped
//! by a clock change) is an error; one landing on a repeated time keeps the original offset
//! when it can. An unknown zone is a plan error naming the column.
//!
//! Nulls stay null. Kernel: `exec::kernels::temporal`; calendar arithmetic in [`calendar`].

pub mod calendar;

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema, TimeUnit};

use self::calendar::{days_from_civil, ticks_per_second, Span, Zone};
use super::function::{first_input, FunctionFamily, FunctionKind};
use super::types::typed;
use super::{Expr, Scalar};
use crate::error::{Error, Result};

/// A date literal from `"YYYY-MM-DD"`.
///
/// A text that is not a date gives an expression that fails when the query is planned,
/// naming the text (builders never panic).
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [1, 2])?;
/// let out = df.lazy().select([date("1994-01-01").alias("d")]).collect()?;
/// assert_eq!(out.column("d")?.data_type(), &arrow::datatypes::DataType::Date32);
/// assert!(df!("x" => [1])?.lazy().select([date("1994-13-01")]).collect().is_err());
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn date(text: &str) -> Expr {
    match parse_date(text) {
        Ok(d) => Expr::Literal(Scalar::Date32(d)),
        Err(reason) => invalid_literal("date", text, reason),
    }
}

/// A datetime literal: `"YYYY-MM-DD"`, `"YYYY-MM-DDTHH:MM[:SS[.fraction]]"` (a space may
/// replace the `T`). Microseconds like Polars (nanoseconds when the fraction has more than six
/// digits). Without an offset it is a wall-clock time (no time zone); ending in `Z` or an
/// offset (`+02:00`) it is an instant in UTC, comparable with zoned columns.
///
/// ```
/// use fusedframe::prelude::*;
/// assert_eq!(datetime("2020-01-01T12:30:00").to_string(), "datetime(\"2020-01-01T12:30:00\")");
/// assert_eq!(datetime("2020-01-01 14:30+02:00").to_string(), "datetime(\"2020-01-01T12:30:00Z\")");
/// ```
pub fn datetime(text: &str) -> Expr {
    match parse_datetime(text) {
        Ok(s) => Expr::Literal(s),
        Err(reason) => invalid_literal("datetime", text, reason),
    }
}

fn invalid_literal(constructor: &'static str, text: &str, reason: String) -> Expr {
    Expr::call(
        TemporalFunction::InvalidLiteral {
            constructor,
            text: text.to_string(),
            reason,
        },
        vec![],
    )
}

/// Days since the epoch of `"YYYY-MM-DD"`.
fn parse_date(text: &str) -> std::result::Result<i32, String> {
    let d = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| format!("{e} (expected \"YYYY-MM-DD\")"))?;
    use chrono::Datelike;
    let days = days_from_civil(i64::from(d.year()), d.month(), d.day());
    i32::try_from(days).map_err(|_| "out of range".to_string())
}

/// A timestamp scalar from a datetime literal's text.
pub(crate) fn parse_datetime(text: &str) -> std::result::Result<Scalar, String> {
    let expected = "expected \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM[:SS[.fraction]]\", \
                    optionally ending in Z or an offset such as +02:00";
    let t = text.trim();
    let (date_part, time_part) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let days = i64::from(parse_date(date_part).map_err(|e| format!("{e}; {expected}"))?);
    let mut secs = 0i64;
    let mut frac = (0i64, 0usize);
    let mut offset = None;
    if let Some(time) = time_part {
        let (clock, off) = split_offset(time).ok_or_else(|| expected.to_string())?;
        offset = off;
        let (hms, fraction) = match clock.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (clock, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        let num = |s: &str, max: i64| -> Option<i64> {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
                .filter(|v| *v <= max)
        };
        let (h, m, s) = match parts.as_slice() {
            [h, m] if fraction.is_none() => (num(h, 23), num(m, 59), Some(0)),
            [h, m, s] => (num(h, 23), num(m, 59), num(s, 59)),
            _ => (None, None, None),
        };
        let (Some(h), Some(m), Some(s)) = (h, m, s) else {
            return Err(expected.to_string());
        };
        secs = h * 3600 + m * 60 + s;
        if let Some(f) = fraction {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "a fraction of a second has 1 to 9 digits; {expected}"
                ));
            }
            frac = (f.parse::<i64>().unwrap_or(0), f.len());
        }
    }
    let unit = if frac.1 > 6 {
        TimeUnit::Nanosecond
    } else {
        TimeUnit::Microsecond
    };
    let per = ticks_per_second(unit);
    let digits = if unit == TimeUnit::Nanosecond { 9 } else { 6 };
    let sub = frac.0 * 10i64.pow((digits - frac.1) as u32);
    let local = days
        .checked_mul(calendar::SECONDS_PER_DAY)
        .and_then(|d| d.checked_add(secs))
        .and_then(|s| s.checked_sub(i64::from(offset.unwrap_or(0))))
        .and_then(|s| s.checked_mul(per))
        .and_then(|t| t.checked_add(sub))
        .ok_or_else(|| format!("out of range for {unit:?} timestamps"))?;
    Ok(Scalar::Timestamp(
        local,
        unit,
        offset.map(|_| Arc::<str>::from("UTC")),
    ))
}

/// Split `HH:MM:SS.f+02:00` / `...Z` into the clock and the offset in seconds east of UTC.
fn split_offset(time: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, Some(0)));
    }
    match time.rfind(['+', '-']) {
        Some(i) => match Zone::parse(&time[i..]) {
            Ok(Zone::Fixed(o)) => Some((&time[..i], Some(o))),
            _ => None,
        },
        None => Some((time, None)),
    }
}

/// The functions of the `dt()` namespace (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum TemporalFunction {
    /// The year (Int32).
    Year,
    /// The quarter, 1..=4.
    Quarter,
    /// The month, 1..=12.
    Month,
    /// The day of the month, 1..=31.
    Day,
    /// ISO weekday: Monday 1 .. Sunday 7.
    Weekday,
    /// Day of the year, 1..=366.
    OrdinalDay,
    /// The hour, 0..=23 (local time for zoned timestamps).
    Hour,
    /// The minute, 0..=59.
    Minute,
    /// The second, 0..=59.
    Second,
    /// The calendar date (local date for zoned timestamps).
    Date,
    /// Round down to a multiple of the span (`"1mo"`), kept as text for the plan.
    Truncate(String),
    /// A duration in whole days (truncated toward zero).
    TotalDays,
    /// A duration in whole hours.
    TotalHours,
    /// A duration in whole minutes.
    TotalMinutes,
    /// A duration in whole seconds.
    TotalSeconds,
    /// A duration in whole milliseconds.
    TotalMilliseconds,
    /// A `date("..")`/`datetime("..")` whose text does not parse: planning it is an error.
    InvalidLiteral {
        /// `"date"` or `"datetime"`.
        constructor: &'static str,
        /// The text given.
        text: String,
        /// Why it does not parse.
        reason: String,
    },
}

impl TemporalFunction {
    /// For `total_*`: ticks of the unit in nanoseconds.
    pub fn total_nanos(&self) -> Option<i64> {
        Some(match self {
            TemporalFunction::TotalDays => 86_400_000_000_000,
            TemporalFunction::TotalHours => 3_600_000_000_000,
            TemporalFunction::TotalMinutes => 60_000_000_000,
            TemporalFunction::TotalSeconds => 1_000_000_000,
            TemporalFunction::TotalMilliseconds => 1_000_000,
            _ => return None,
        })
    }
}

impl FunctionFamily for TemporalFunction {
    fn name(&self) -> &'static str {
        match self {
            TemporalFunction::Year => "year",
            TemporalFunction::Quarter => "quarter",
            TemporalFunction::Month => "month",
            TemporalFunction::Day => "day",
            TemporalFunction::Weekday => "weekday",
            TemporalFunction::OrdinalDay => "ordinal_day",
            TemporalFunction::Hour => "hour",
            TemporalFunction::Minute => "minute",
            TemporalFunction::Second => "second",
            TemporalFunction::Date => "date",
            TemporalFunction::Truncate(_) => "truncate",
            TemporalFunction::TotalDays => "total_days",
            TemporalFunction::TotalHours => "total_hours",
            TemporalFunction::TotalMinutes => "total_minutes",
            TemporalFunction::TotalSeconds => "total_seconds",
            TemporalFunction::TotalMilliseconds => "total_milliseconds",
            TemporalFunction::InvalidLiteral { constructor, .. } => constructor,
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::Elementwise
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        if let TemporalFunction::InvalidLiteral {
            constructor,
            text,
            reason,
        } = self
        {
            return Err(Error::Plan(format!(
                "invalid {constructor} literal {text:?}: {reason}"
            )));
        }
        let input = first_input(self.name(), args)?;
        let t = input.data_type(schema)?;
        let wrong = |needs: &str| {
            Err(Error::Type(format!(
                "dt().{}() needs {needs}, got {} in {e}",
                self.name(),
                typed(input, &t)
            )))
        };
        if let DataType::Timestamp(_, Some(tz)) = &t {
            Zone::parse(tz).map_err(|m| Error::Plan(format!("{m} of {} in {e}", input)))?;
        }
        let is_date = matches!(t, DataType::Date32 | DataType::Date64 | DataType::Null);
        let is_datetime = matches!(t, DataType::Timestamp(..) | DataType::Null);
        let any = is_date || is_datetime;
        Ok(match self {
            TemporalFunction::Year if any => DataType::Int32,
            TemporalFunction::Quarter
            | TemporalFunction::Month
            | TemporalFunction::Day
            | TemporalFunction::Weekday
                if any =>
            {
                DataType::Int8
            }
            TemporalFunction::OrdinalDay if any => DataType::Int16,
            TemporalFunction::Hour | TemporalFunction::Minute | TemporalFunction::Second
                if is_datetime =>
            {
                DataType::Int8
            }
            TemporalFunction::Date if any => DataType::Date32,
            TemporalFunction::Truncate(every) if any => {
                let span = Span::parse(every).map_err(|m| Error::Plan(format!("{m} in {e}")))?;
                if !span.is_single_kind() {
                    return Err(Error::Plan(format!(
                        "truncate({every:?}) mixes months, weeks, days and smaller units; \
                         use one of them in {e}"
                    )));
                }
                if is_date && span.has_sub_day() {
                    return Err(Error::Plan(format!(
                        "truncate({every:?}) is finer than a day, but {} is a date in {e}",
                        input
                    )));
                }
                if let DataType::Timestamp(unit, _) = &t {
                    if span.fixed_ticks(*unit).is_none() {
                        return Err(Error::Plan(format!(
                            "truncate({every:?}) is finer than the {unit:?} ticks of {input} \
                             in {e}"
                        )));
                    }
                }
                if t == DataType::Null {
                    DataType::Date32
                } else {
                    t.clone()
                }
            }
            TemporalFunction::TotalDays
            | TemporalFunction::TotalHours
            | TemporalFunction::TotalMinutes
            | TemporalFunction::TotalSeconds
            | TemporalFunction::TotalMilliseconds
                if matches!(t, DataType::Duration(_) | DataType::Null) =>
            {
                DataType::Int64
            }
            TemporalFunction::TotalDays
            | TemporalFunction::TotalHours
            | TemporalFunction::TotalMinutes
            | TemporalFunction::TotalSeconds
            | TemporalFunction::TotalMilliseconds => {
                return wrong("a duration (what subtracting dates gives)")
            }
            TemporalFunction::Hour | TemporalFunction::Minute | TemporalFunction::Second => {
                return wrong("a datetime")
            }
            TemporalFunction::Year
            | TemporalFunction::Quarter
            | TemporalFunction::Month
            | TemporalFunction::Day
            | TemporalFunction::Weekday
            | TemporalFunction::OrdinalDay
            | TemporalFunction::Date
            | TemporalFunction::Truncate(_) => return wrong("a date or datetime"),
            TemporalFunction::InvalidLiteral { .. } => {
                return Err(Error::Internal("invalid literal reached its type".into()))
            }
        })
    }

    fn params(&self) -> Vec<String> {
        match self {
            TemporalFunction::Truncate(every) => vec![format!("{every:?}")],
            TemporalFunction::InvalidLiteral { text, .. } => vec![format!("{text:?}")],
            _ => vec![],
        }
    }

    fn call_text(&self, args: &[Expr]) -> String {
        format!(
            "{}.dt().{}({})",
            args[0],
            self.name(),
            self.params().join(", ")
        )
    }
}

/// The `dt()` namespace of an expression: date and time functions (see the module docs).
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [0])?;
/// let out = df.lazy()
///     .select([
///         date("2024-02-29").dt().year().alias("y"),
///         date("2024-02-29").dt().weekday().alias("wd"),
///         date("2024-02-29").dt().truncate("1mo").alias("m"),
///     ])
///     .collect()?;
/// assert_eq!(out.column_f64("y")?, vec![Some(2024.0)]);
/// assert_eq!(out.column_f64("wd")?, vec![Some(4.0)]); // a Thursday
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DtNamespace(Expr);

impl Expr {
    /// Date and time functions: `col("d").dt().year()`.
    pub fn dt(self) -> DtNamespace {
        DtNamespace(self)
    }
}

impl DtNamespace {
    fn call(self, f: TemporalFunction) -> Expr {
        Expr::call(f, vec![self.0])
    }
    /// The year (Int32).
    pub fn year(self) -> Expr {
        self.call(TemporalFunction::Year)
    }
    /// The quarter, 1..=4 (Int8).
    pub fn quarter(self) -> Expr {
        self.call(TemporalFunction::Quarter)
    }
    /// The month, 1..=12 (Int8).
    pub fn month(self) -> Expr {
        self.call(TemporalFunction::Month)
    }
    /// The day of the month, 1..=31 (Int8).
    pub fn day(self) -> Expr {
        self.call(TemporalFunction::Day)
    }
    /// The ISO weekday: Monday 1 .. Sunday 7 (Int8).
    pub fn weekday(self) -> Expr {
        self.call(TemporalFunction::Weekday)
    }
    /// The day of the year, 1..=366 (Int16).
    pub fn ordinal_day(self) -> Expr {
        self.call(TemporalFunction::OrdinalDay)
    }
    /// The hour, 0..=23 (Int8; datetimes only).
    pub fn hour(self) -> Expr {
        self.call(TemporalFunction::Hour)
    }
    /// The minute, 0..=59 (Int8; datetimes only).
    pub fn minute(self) -> Expr {
        self.call(TemporalFunction::Minute)
    }
    /// The second, 0..=59 (Int8; datetimes only).
    pub fn second(self) -> Expr {
        self.call(TemporalFunction::Second)
    }
    /// The calendar date (Date32), in local time for zoned timestamps.
    pub fn date(self) -> Expr {
        self.call(TemporalFunction::Date)
    }
    /// Round down to a multiple of `every` (`"1d"`, `"1w"`, `"1mo"`, `"1q"`, `"1y"`, `"6h"`).
    pub fn truncate(self, every: &str) -> Expr {
        self.call(TemporalFunction::Truncate(every.to_string()))
    }
    /// Whole days of a duration (rounded toward zero).
    pub fn total_days(self) -> Expr {
        self.call(TemporalFunction::TotalDays)
    }
    /// Whole hours of a duration.
    pub fn total_hours(self) -> Expr {
        self.call(TemporalFunction::TotalHours)
    }
    /// Whole minutes of a duration.
    pub fn total_minutes(self) -> Expr {
        self.call(TemporalFunction::TotalMinutes)
    }
    /// Whole seconds of a duration.
    pub fn total_seconds(self) -> Expr {
        self.call(TemporalFunction::TotalSeconds)
    }
    /// Whole milliseconds of a duration.
    pub fn total_milliseconds(self) -> Expr {
        self.call(TemporalFunction::TotalMilliseconds)
    }
}

/// `date("YYYY-MM-DD")`, or the datetime form, as plan text shows a temporal literal that a
/// literal constructor can give back; `None` for the others.
pub(crate) fn literal_text(s: &Scalar) -> Option<String> {
    match s {
        Scalar::Date32(d) => {
            let (y, m, dd) = calendar::civil_from_days(i64::from(*d));
            Some(format!("date(\"{y:04}-{m:02}-{dd:02}\")"))
        }
        Scalar::Timestamp(v, unit, tz) => {
            let utc = match tz.as_deref() {
                None => false,
                Some("UTC") => true,
                Some(_) => return None,
            };
            let per = ticks_per_second(*unit);
            let sub = v.rem_euclid(per);
            let ns_needed = *unit == TimeUnit::Nanosecond && sub % 1000 != 0;
            if !(*unit == TimeUnit::Microsecond || ns_needed) {
                return None;
            }
            let secs = v.div_euclid(per);
            let days = secs.div_euclid(calendar::SECONDS_PER_DAY);
            let tod = secs.rem_euclid(calendar::SECONDS_PER_DAY);
            let (y, m, d) = calendar::civil_from_days(days);
            let mut out = format!(
                "datetime(\"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                tod / 3600,
                tod % 3600 / 60,
                tod % 60
            );
            if sub != 0 {
                let digits = if *unit == TimeUnit::Nanosecond { 9 } else { 6 };
                out.push_str(&format!(".{sub:0digits$}"));
            }
            if utc {
                out.push('Z');
            }
            out.push_str("\")");
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_literals_parse_and_print_back() {
        for text in [
            "2020-01-01T00:00:00",
            "1969-12-31T23:59:59.000001",
            "2024-02-29T12:30:00Z",
            "2024-02-29T12:30:00.123456789",
        ] {
            let e = datetime(text);
            assert_eq!(e.to_string(), format!("datetime({text:?})"));
        }
        assert_eq!(
            datetime("2020-01-01").to_string(),
            "datetime(\"2020-01-01T00:00:00\")"
        );
        assert_eq!(
            datetime("2020-01-01 01:30-01:00").to_string(),
            "datetime(\"2020-01-01T02:30:00Z\")"
        );
        assert_eq!(date("2024-02-29").to_string(), "date(\"2024-02-29\")");
        assert_eq!(date("1969-12-31"), Expr::Literal(Scalar::Date32(-1)));
    }

    #[test]
    fn bad_literals_fail_when_planned() {
        let schema = Schema::empty();
        for (e, want) in [
            (date("1994-02-30"), "invalid date literal \"1994-02-30\""),
            (date("94-01-01x"), "expected \"YYYY-MM-DD\""),
            (datetime("2020-01-01T25:00"), "invalid datetime literal"),
            (datetime("2020-01-01T10:00:00.1234567890"), "1 to 9 digits"),
        ] {
            let err = e.data_type(&schema).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        assert_eq!(date("1994-02-30").to_string(), "date(\"1994-02-30\")");
    }

    #[test]
    fn part_types_and_errors_name_the_column() {
        let schema = Schema::new(vec![
            arrow::datatypes::Field::new("d", DataType::Date32, true),
            arrow::datatypes::Field::new("x", DataType::Float64, true),
            arrow::datatypes::Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Second, Some("Mars/Base".into())),
                true,
            ),
        ]);
        use crate::expr::col;
        assert_eq!(
            col("d").dt().year().data_type(&schema).unwrap(),
            DataType::Int32
        );
        let err = col("x").dt().month().data_type(&schema).unwrap_err();
        assert!(
            err.to_string()
                .contains("month() needs a date or datetime, got col(\"x\") (f64)"),
            "{err}"
        );
        let err = col("d").dt().hour().data_type(&schema).unwrap_err();
        assert!(err.to_string().contains("needs a datetime"), "{err}");
        let err = col("t").dt().day().data_type(&schema).unwrap_err();
        assert!(
            err.to_string().contains("unknown time zone \"Mars/Base\""),
            "{err}"
        );
        let err = col("d").dt().truncate("1h").data_type(&schema).unwrap_err();
        assert!(err.to_string().contains("finer than a day"), "{err}");
        let err = col("d")
            .dt()
            .truncate("1d12h")
            .data_type(&schema)
            .unwrap_err();
        assert!(err.to_string().contains("mixes"), "{err}");
        let err = col("d").dt().truncate("1 fortnight").data_type(&schema);
        assert!(err.is_err());
        assert_eq!(
            col("d").dt().truncate("1mo").to_string(),
            "col(\"d\").dt().truncate(\"1mo\")"
        );
    }
}
