//! Writing a `DataFrame` as CSV text.
//!
//! Rows are formatted into one reusable byte buffer that is handed to the writer every 64 KiB,
//! so there is no allocation per row or cell. Each column gets a cell formatter chosen once
//! from its type: shortest round-trip floats (lexical), plain integers, ISO dates and
//! timestamps, and minimal quoting for text. Types without a dedicated formatter (decimals,
//! times, durations, dictionary text, ...) go through Arrow's display formatter and are quoted
//! like text. Nested types have no CSV form and are an error naming the column.

use crate::frame::display::zoned_timestamp_text;
use std::io::Write;
use std::path::PathBuf;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Int8Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::values::civil_from_days;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

const DELIM: u8 = b',';
const QUOTE: u8 = b'"';
const FLUSH_AT: usize = 64 << 10;

/// Writes one non-null cell of a column into the buffer.
type CellFn<'a> = Box<dyn Fn(usize, &mut Vec<u8>) + 'a>;

/// Write `df` as CSV (see [`super::write`] for the format).
pub(crate) fn write_frame(df: &DataFrame, w: &mut impl Write) -> Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 4096);
    header(df.schema(), &mut buf);
    write_rows(df, buf, w)
}

/// Append the header line of `schema` to `buf`.
pub(crate) fn header(schema: &arrow::datatypes::Schema, buf: &mut Vec<u8>) {
    for (i, f) in schema.fields().iter().enumerate() {
        if i > 0 {
            buf.push(DELIM);
        }
        write_text(f.name().as_bytes(), buf);
    }
    buf.push(b'\n');
}

/// Write the rows of `df` after what `buf` holds already, through `buf`.
pub(crate) fn write_rows(df: &DataFrame, mut buf: Vec<u8>, w: &mut impl Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io(PathBuf::new(), e);
    let cells: Vec<CellFn<'_>> = df
        .schema()
        .fields()
        .iter()
        .zip(df.columns())
        .map(|(f, a)| cell_writer(f.name(), a))
        .collect::<Result<_>>()?;
    let columns = df.columns();
    for row in 0..df.height() {
        for (i, (cell, array)) in cells.iter().zip(columns).enumerate() {
            if i > 0 {
                buf.push(DELIM);
            }
            if !array.is_null(row) {
                cell(row, &mut buf);
            }
        }
        buf.push(b'\n');
        if buf.len() >= FLUSH_AT {
            w.write_all(&buf).map_err(io)?;
            buf.clear();
        }
    }
    w.write_all(&buf).map_err(io)?;
    Ok(())
}

/// Append text, quoted only when a reader would otherwise misread it: it holds the delimiter,
/// a quote or a line break, starts or ends with a space or tab (which many readers trim), or
/// is empty (an unquoted empty field is null).
fn write_text(s: &[u8], out: &mut Vec<u8>) {
    let needs_quotes = s.is_empty()
        || s.iter()
            .any(|c| matches!(*c, DELIM | QUOTE | b'\n' | b'\r'))
        || matches!(s.first(), Some(b' ' | b'\t'))
        || matches!(s.last(), Some(b' ' | b'\t'));
    if !needs_quotes {
        out.extend_from_slice(s);
        return;
    }
    out.push(QUOTE);
    for c in s {
        if *c == QUOTE {
            out.push(QUOTE);
        }
        out.push(*c);
    }
    out.push(QUOTE);
}

/// Append a number in lexical's shortest round-trip form (`NaN`, `inf`, `-inf` for specials).
#[inline]
fn write_number<N: lexical_core::ToLexical>(n: N, out: &mut Vec<u8>) {
    let mut tmp = [0u8; lexical_core::BUFFER_SIZE];
    out.extend_from_slice(lexical_core::write(n, &mut tmp));
}

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DD` (years outside 0..=9999 with a sign and as many digits as needed, as chrono
/// writes them).
fn write_date(days: i64, out: &mut Vec<u8>) {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        push2(out, (y / 100) as u32);
        push2(out, (y % 100) as u32);
    } else {
        out.extend_from_slice(format!("{y:+05}").as_bytes());
    }
    out.push(b'-');
    push2(out, m);
    out.push(b'-');
    push2(out, d);
}

/// `YYYY-MM-DDTHH:MM:SS`, then `.` and the sub-second digits of the unit when not zero.
fn write_timestamp(v: i64, unit: TimeUnit, out: &mut Vec<u8>) {
    let (per_sec, digits) = match unit {
        TimeUnit::Second => (1, 0),
        TimeUnit::Millisecond => (1_000, 3),
        TimeUnit::Microsecond => (1_000_000, 6),
        TimeUnit::Nanosecond => (1_000_000_000, 9),
    };
    let secs = v.div_euclid(per_sec);
    let frac = v.rem_euclid(per_sec);
    write_date(secs.div_euclid(86_400), out);
    let sod = secs.rem_euclid(86_400) as u32;
    out.push(b'T');
    push2(out, sod / 3600);
    out.push(b':');
    push2(out, sod / 60 % 60);
    out.push(b':');
    push2(out, sod % 60);
    if frac != 0 {
        out.push(b'.');
        let s = format!("{frac:0digits$}");
        out.extend_from_slice(s.as_bytes());
    }
}

fn primitive<'a, T>(a: &'a ArrayRef) -> CellFn<'a>
where
    T: ArrowPrimitiveType,
    T::Native: lexical_core::ToLexical,
{
    let a = a.as_primitive::<T>();
    Box::new(move |i, out| write_number(a.value(i), out))
}

/// Choose the cell formatter for a column.
fn cell_writer<'a>(name: &str, a: &'a ArrayRef) -> Result<CellFn<'a>> {
    Ok(match a.data_type() {
        DataType::Boolean => {
            let a = a.as_boolean();
            Box::new(move |i, out| {
                out.extend_from_slice(if a.value(i) { b"true" } else { b"false" })
            })
        }
        DataType::Int8 => primitive::<Int8Type>(a),
        DataType::Int16 => primitive::<Int16Type>(a),
        DataType::Int32 => primitive::<Int32Type>(a),
        DataType::Int64 => primitive::<Int64Type>(a),
        DataType::UInt8 => primitive::<UInt8Type>(a),
        DataType::UInt16 => primitive::<UInt16Type>(a),
        DataType::UInt32 => primitive::<UInt32Type>(a),
        DataType::UInt64 => primitive::<UInt64Type>(a),
        DataType::Float32 => primitive::<Float32Type>(a),
        DataType::Float64 => primitive::<Float64Type>(a),
        DataType::Utf8 => {
            let a = a.as_string::<i32>();
            Box::new(move |i, out| write_text(a.value(i).as_bytes(), out))
        }
        DataType::LargeUtf8 => {
            let a = a.as_string::<i64>();
            Box::new(move |i, out| write_text(a.value(i).as_bytes(), out))
        }
        DataType::Utf8View => {
            let a = a.as_string_view();
            Box::new(move |i, out| write_text(a.value(i).as_bytes(), out))
        }
        DataType::Date32 => {
            let a = a.as_primitive::<Date32Type>();
            Box::new(move |i, out| write_date(i64::from(a.value(i)), out))
        }
        DataType::Timestamp(unit, None) => {
            let unit = *unit;
            let values: &'a [i64] = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().values(),
            };
            Box::new(move |i, out| write_timestamp(values[i], unit, out))
        }
        // Arrow's formatter needs its own zone database for named zones.
        DataType::Timestamp(_, Some(_)) => {
            Box::new(move |i, out| write_text(zoned_timestamp_text(a, i).as_bytes(), out))
        }
        t if t.is_nested() => {
            return Err(Error::Type(format!(
                "cannot write column \"{name}\" of type {t} to CSV: nested values have no CSV form"
            )))
        }
        _ => {
            let f = ArrayFormatter::try_new(a.as_ref(), &FormatOptions::new())?;
            Box::new(move |i, out| {
                let s = f.value(i).to_string();
                write_text(s.as_bytes(), out)
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df;

    fn csv(df: &DataFrame) -> String {
        let mut out = vec![];
        write_frame(df, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers() {
        let df = df!(
            "f" => [1.0, 0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -2.5e-7],
            "i" => [1i64, -2, 0, i64::MAX, i64::MIN, 7, 8]
        )
        .unwrap();
        let text = csv(&df);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "f,i");
        assert_eq!(lines[1], "1.0,1");
        assert_eq!(lines[2], "0.1,-2");
        assert_eq!(lines[3], "NaN,0");
        assert_eq!(lines[4], "inf,9223372036854775807");
        assert_eq!(lines[5], "-inf,-9223372036854775808");
        for (line, want) in lines[6..].iter().zip([1e300, -2.5e-7]) {
            let f = line.split(',').next().unwrap();
            assert_eq!(f.parse::<f64>().unwrap(), want, "{f}");
        }
    }

    #[test]
    fn text_quoting_and_nulls() {
        let df = df!(
            "s" => [Some("plain"), Some("a,b"), Some("say \"hi\""), Some("two\nlines"), Some(" pad"), Some(""), None],
            "b" => [Some(true), Some(false), None, Some(true), Some(true), Some(true), Some(false)]
        )
        .unwrap();
        assert_eq!(
            csv(&df),
            "s,b\nplain,true\n\"a,b\",false\n\"say \"\"hi\"\"\",\n\"two\nlines\",true\n\" pad\",true\n\"\",true\n,false\n"
        );
    }

    #[test]
    fn temporal() {
        assert_eq!(
            {
                let mut v = vec![];
                write_date(-1, &mut v);
                write_date(18321, &mut v);
                String::from_utf8(v).unwrap()
            },
            "1969-12-312020-02-29"
        );
        let mut v = vec![];
        write_timestamp(1_577_836_801_250_000, TimeUnit::Microsecond, &mut v);
        v.push(b' ');
        write_timestamp(-1, TimeUnit::Microsecond, &mut v);
        v.push(b' ');
        write_timestamp(1_577_836_800, TimeUnit::Second, &mut v);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "2020-01-01T00:00:01.250000 1969-12-31T23:59:59.999999 2020-01-01T00:00:00"
        );
    }
}
