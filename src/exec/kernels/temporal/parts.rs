//! Date parts, truncation and duration totals, row by row over a column's valid values.
//!
//! Every value is first read as local calendar time: days since the epoch and ticks into the
//! day (a date has no ticks; a zoned timestamp adds its zone's offset at that instant). Parts
//! come from the civil date of the days; truncation works on the local value and, for a
//! zoned timestamp, maps the result back to an instant, which fails only for a local time a
//! clock change skipped.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, PrimitiveArray};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit,
};

use super::{i64_as, raw_i64};
use crate::error::{Error, Result};
use crate::expr::temporal::calendar::{
    civil_from_days, days_from_civil, ordinal_day, ticks_per_day, ticks_per_second, weekday, Span,
    Zone,
};
use crate::expr::TemporalFunction;

/// How a column's raw Int64 values read as local time.
#[derive(Clone, Copy)]
struct Clock {
    /// Raw ticks per day (1 for dates).
    per_day: i64,
    /// Raw ticks per second (0 for dates).
    per_second: i64,
    zone: Option<Zone>,
}

impl Clock {
    fn of(dt: &DataType) -> Result<Clock> {
        Ok(match dt {
            DataType::Date32 | DataType::Null => Clock {
                per_day: 1,
                per_second: 0,
                zone: None,
            },
            DataType::Date64 => Clock {
                per_day: 86_400_000,
                per_second: 1000,
                zone: None,
            },
            DataType::Timestamp(u, tz) => Clock {
                per_day: ticks_per_day(*u),
                per_second: ticks_per_second(*u),
                zone: match tz {
                    Some(z) => Some(Zone::parse(z).map_err(Error::Plan)?),
                    None => None,
                },
            },
            other => return Err(Error::Internal(format!("{other} is not a date or time"))),
        })
    }

    /// The offset in raw ticks at the instant `v` (0 without a zone).
    #[inline]
    fn offset(&self, v: i64) -> i64 {
        match self.zone {
            None | Some(Zone::Fixed(0)) => 0,
            Some(z) => z
                .offset_at(v.div_euclid(self.per_second))
                .wrapping_mul(self.per_second),
        }
    }

    /// `v` as local ticks.
    #[inline]
    fn local(&self, v: i64) -> i64 {
        v.wrapping_add(self.offset(v))
    }

    /// The instant of local ticks `local`, preferring the offset `prefer` (raw ticks) where
    /// the local time is repeated; `None` where it does not exist.
    fn instant(&self, local: i64, prefer: i64) -> Option<i64> {
        match self.zone {
            None | Some(Zone::Fixed(0)) => Some(local),
            Some(z) => {
                let (secs, sub) = (
                    local.div_euclid(self.per_second),
                    local.rem_euclid(self.per_second),
                );
                let utc = z.local_to_utc(secs, prefer / self.per_second)?;
                Some(utc * self.per_second + sub)
            }
        }
    }
}

/// `f` over the valid values of `raw` into a primitive array of `O` (nulls kept).
fn map_valid<O: ArrowPrimitiveType>(
    raw: &Int64Array,
    mut f: impl FnMut(i64) -> Result<O::Native>,
) -> Result<PrimitiveArray<O>> {
    let values = raw.values();
    let mut out = vec![O::Native::default(); values.len()];
    match raw.nulls() {
        None => {
            for (o, v) in out.iter_mut().zip(values.iter()) {
                *o = f(*v)?;
            }
        }
        Some(n) => {
            for i in n.valid_indices() {
                out[i] = f(values[i])?;
            }
        }
    }
    Ok(PrimitiveArray::<O>::new(out.into(), raw.nulls().cloned()))
}

/// Compute `func` over `a`; `out` is the planned output type.
pub(super) fn apply(func: &TemporalFunction, a: &ArrayRef, out: &DataType) -> Result<ArrayRef> {
    let raw = raw_i64(a)?;
    if let Some(unit_ns) = func.total_nanos() {
        return totals(&raw, a.data_type(), unit_ns);
    }
    let clock = Clock::of(a.data_type())?;
    let day = |v: i64| clock.local(v).div_euclid(clock.per_day);
    let tod_seconds = |v: i64| {
        clock
            .local(v)
            .rem_euclid(clock.per_day)
            .checked_div(clock.per_second)
            .unwrap_or(0)
    };
    let int8 = |f: &dyn Fn(i64) -> i64| -> Result<ArrayRef> {
        Ok(Arc::new(map_valid::<Int8Type>(&raw, |v| Ok(f(v) as i8))?))
    };
    match func {
        TemporalFunction::Year => Ok(Arc::new(map_valid::<Int32Type>(&raw, |v| {
            Ok(civil_from_days(day(v)).0 as i32)
        })?)),
        TemporalFunction::Quarter => int8(&|v| i64::from(civil_from_days(day(v)).1.div_ceil(3))),
        TemporalFunction::Month => int8(&|v| i64::from(civil_from_days(day(v)).1)),
        TemporalFunction::Day => int8(&|v| i64::from(civil_from_days(day(v)).2)),
        TemporalFunction::Weekday => int8(&|v| weekday(day(v))),
        TemporalFunction::OrdinalDay => Ok(Arc::new(map_valid::<Int16Type>(&raw, |v| {
            Ok(ordinal_day(day(v)) as i16)
        })?)),
        TemporalFunction::Hour => int8(&|v| tod_seconds(v) / 3600),
        TemporalFunction::Minute => int8(&|v| tod_seconds(v) % 3600 / 60),
        TemporalFunction::Second => int8(&|v| tod_seconds(v) % 60),
        TemporalFunction::Date => Ok(Arc::new(map_valid::<Date32Type>(&raw, |v| {
            i32::try_from(day(v)).map_err(|_| Error::Compute(format!("date of {v} out of range")))
        })?)),
        TemporalFunction::Truncate(every) => {
            let span = Span::parse(every).map_err(Error::Plan)?;
            truncate(&raw, clock, &span, a.data_type(), out)
        }
        TemporalFunction::TotalDays
        | TemporalFunction::TotalHours
        | TemporalFunction::TotalMinutes
        | TemporalFunction::TotalSeconds
        | TemporalFunction::TotalMilliseconds
        | TemporalFunction::InvalidLiteral { .. } => Err(Error::Internal(format!(
            "{func:?} reached the date-part kernel"
        ))),
    }
}

/// Whole units of `unit_ns` nanoseconds in each duration, rounded toward zero.
fn totals(raw: &Int64Array, dt: &DataType, unit_ns: i64) -> Result<ArrayRef> {
    let tick_ns = match dt {
        DataType::Duration(u) => 1_000_000_000 / ticks_per_second(*u),
        _ => 1,
    };
    Ok(Arc::new(map_valid::<Int64Type>(raw, |v| {
        Ok(if unit_ns >= tick_ns {
            v / (unit_ns / tick_ns)
        } else {
            v.saturating_mul(tick_ns / unit_ns)
        })
    })?))
}

/// Round each value down to a multiple of `span` in local time (see `expr::temporal`).
fn truncate(
    raw: &Int64Array,
    clock: Clock,
    span: &Span,
    dt: &DataType,
    out: &DataType,
) -> Result<ArrayRef> {
    let per_day = clock.per_day;
    let fixed = match dt {
        DataType::Timestamp(u, _) => span.fixed_ticks(*u).unwrap_or(0),
        DataType::Date64 => span.fixed_ticks(TimeUnit::Millisecond).unwrap_or(0),
        _ => 0,
    };
    let floor_local = |lt: i64| -> i64 {
        let days = lt.div_euclid(per_day);
        if span.months > 0 {
            let (y, m, _) = civil_from_days(days);
            let total = (y - 1970) * 12 + i64::from(m) - 1;
            let t = total - total.rem_euclid(span.months);
            let (ny, nm) = (1970 + t.div_euclid(12), (t.rem_euclid(12) + 1) as u32);
            days_from_civil(ny, nm, 1) * per_day
        } else if span.weeks > 0 {
            // Weeks start on Monday; several weeks count from Monday 1970-01-05.
            (days - (days - 4).rem_euclid(7 * span.weeks)) * per_day
        } else if span.days > 0 {
            (days - days.rem_euclid(span.days)) * per_day
        } else if fixed > 0 {
            lt - lt.rem_euclid(fixed)
        } else {
            lt
        }
    };
    let zoned = clock.zone.is_some_and(|z| z != Zone::Fixed(0));
    let values = map_valid::<Int64Type>(raw, |v| {
        if !zoned {
            return Ok(floor_local(v));
        }
        let offset = clock.offset(v);
        let local = floor_local(v.wrapping_add(offset));
        clock.instant(local, offset).ok_or_else(|| {
            Error::Compute(format!(
                "truncating {v} ({dt}) gives a local time that does not exist in its time \
                 zone (a clock change skips it)"
            ))
        })
    })?;
    let (_, values, nulls) = values.into_parts();
    if *out == DataType::Date32 {
        let days: Vec<i32> = values.iter().map(|v| *v as i32).collect();
        return Ok(Arc::new(PrimitiveArray::<Date32Type>::new(
            days.into(),
            nulls,
        )));
    }
    i64_as(values.to_vec(), nulls.filter(|n| n.null_count() > 0), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Date32Array, TimestampSecondArray};

    fn days(y: i64, m: u32, d: u32) -> i32 {
        days_from_civil(y, m, d) as i32
    }

    fn run(f: TemporalFunction, a: ArrayRef) -> ArrayRef {
        let out = match &f {
            TemporalFunction::Truncate(_) => a.data_type().clone(),
            _ => DataType::Int64,
        };
        apply(&f, &a, &out).unwrap()
    }

    #[test]
    fn parts_of_dates_match_chrono_including_leap_days() {
        let ds = [
            days(2024, 2, 29),
            days(1900, 3, 1),
            days(2000, 12, 31),
            days(1969, 12, 31),
        ];
        let a: ArrayRef = Arc::new(Date32Array::from(ds.to_vec()));
        let y = run(TemporalFunction::Year, a.clone());
        assert_eq!(
            y.as_primitive::<Int32Type>().values().to_vec(),
            vec![2024, 1900, 2000, 1969]
        );
        let o = run(TemporalFunction::OrdinalDay, a.clone());
        assert_eq!(
            o.as_primitive::<Int16Type>().values().to_vec(),
            vec![60, 60, 366, 365]
        );
        let w = run(TemporalFunction::Weekday, a);
        // Thursday, Thursday, Sunday, Wednesday.
        assert_eq!(
            w.as_primitive::<Int8Type>().values().to_vec(),
            vec![4, 4, 7, 3]
        );
    }

    #[test]
    fn zoned_hours_follow_daylight_saving_time() {
        // 2020-03-08 06:30 and 07:30 UTC: 01:30 EST and 03:30 EDT in New York.
        let base = days_from_civil(2020, 3, 8) * 86_400;
        let a: ArrayRef = Arc::new(
            TimestampSecondArray::from(vec![base + 6 * 3600 + 1800, base + 7 * 3600 + 1800])
                .with_timezone("America/New_York"),
        );
        let h = run(TemporalFunction::Hour, a.clone());
        assert_eq!(h.as_primitive::<Int8Type>().values().to_vec(), vec![1, 3]);
        // Truncating to the day gives local midnight (05:00 UTC, EST), zone kept.
        let d = run(TemporalFunction::Truncate("1d".into()), a);
        assert_eq!(
            d.data_type(),
            &DataType::Timestamp(TimeUnit::Second, Some("America/New_York".into()))
        );
        let v = super::super::raw_i64(&d).unwrap();
        assert_eq!(v.values().to_vec(), vec![base + 5 * 3600, base + 5 * 3600]);
    }

    #[test]
    fn truncating_into_a_skipped_hour_is_an_error() {
        // 2020-03-08 07:10 UTC is 03:10 EDT; truncating to 2h gives 02:00, which never was.
        let base = days_from_civil(2020, 3, 8) * 86_400;
        let a: ArrayRef = Arc::new(
            TimestampSecondArray::from(vec![Some(base + 7 * 3600 + 600), None])
                .with_timezone("America/New_York"),
        );
        let out = a.data_type().clone();
        let err = apply(&TemporalFunction::Truncate("2h".into()), &a, &out).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
