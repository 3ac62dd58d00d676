//! Column type inference and the user's type settings (formats and overrides).
//!
//! Each non-null field of the first `infer_schema_length` data rows votes for the narrowest
//! type that reads it: Boolean (`true`/`false`, any case), Int64, Float64 (decimals, exponents,
//! NaN and infinities), Date32 (`YYYY-MM-DD`), Timestamp(Microsecond) (`YYYY-MM-DD HH:MM[:SS[.f]]`
//! with a space or `T`), else Utf8. Votes combine along a lattice: Int64 with Float64 gives
//! Float64, Date32 with Timestamp gives Timestamp (a date is midnight), any other mix gives
//! Utf8. Nulls (empty fields, `null_values`) do not vote; a column with no votes is Utf8.
//! Then `date_formats` make a column Date32, `datetime_formats` make it Timestamp, and
//! `schema_overrides` replace whatever type was found. Formats and overrides naming columns
//! the file does not have are errors naming them.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::seps::Seps;
use super::split::{self, FieldErrorKind};
use super::values::{self, ChronoFormat};
use super::{CsvOptions, ErrorContext, Layout, NullValues};
use crate::error::{closest, Error, Result};

/// What the values seen so far have in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// No value seen yet (nulls only).
    Nothing,
    Bool,
    Int,
    Float,
    Date,
    Datetime,
    Text,
}

impl Kind {
    /// The smallest kind covering both (the lattice join).
    fn join(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Nothing, k) | (k, Nothing) => k,
            (Int, Float) | (Float, Int) => Float,
            (Date, Datetime) | (Datetime, Date) => Datetime,
            _ => Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Kind::Nothing | Kind::Text => DataType::Utf8,
            Kind::Bool => DataType::Boolean,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Date => DataType::Date32,
            Kind::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// The narrowest kind that reads `b` (a non-empty, non-null field), using the same parsers
/// as decoding so the inferred type always decodes.
fn classify(b: &[u8]) -> Kind {
    if values::parse_bool(b).is_some() {
        Kind::Bool
    } else if values::parse_int::<i64>(b).is_some() {
        Kind::Int
    } else if values::parse_f64(b).is_some() {
        Kind::Float
    } else if values::parse_iso_date_strict(b).is_some() {
        Kind::Date
    } else if values::parse_iso_datetime_strict(b).is_some() {
        Kind::Datetime
    } else {
        Kind::Text
    }
}

/// The schema of the file in `buf` (see the module docs).
pub(crate) fn infer_schema_bytes(
    buf: &[u8],
    path: &Path,
    options: &CsvOptions,
) -> Result<SchemaRef> {
    let layout = Layout::discover(buf, path, options)?;
    let settings = TypeSettings::resolve(&layout.names, options)?;
    let ncols = layout.names.len();
    // Columns whose type the user fixed need no votes.
    let mut kinds: Vec<Option<Kind>> = (0..ncols)
        .map(|i| settings.fixed[i].is_none().then_some(Kind::Nothing))
        .collect();
    let nulls = NullValues::new(options);
    let limit = options.infer_schema_length.unwrap_or(usize::MAX);
    let ctx = ErrorContext::new(path, buf);
    let (mut pos, end) = (layout.data_start, layout.data_end);
    let mut rows = 0;
    let mut scratch = vec![];
    let mut seps = Seps::new(buf, end, layout.dialect.delim);
    while pos < end && rows < limit {
        if let Some(next) = split::blank_line(buf, pos, end) {
            // A blank line is skipped, or a null in a one-column file: no vote either way.
            pos = next;
            rows += usize::from(ncols == 1);
            continue;
        }
        let record_start = pos;
        let (next, n) = split::parse_record(
            buf,
            pos,
            end,
            layout.dialect,
            &mut seps,
            &mut scratch,
            |j, text, _, _| {
                if let Some(Some(k)) = kinds.get_mut(j) {
                    if *k != Kind::Text && !text.is_empty() && !nulls.matches(text) {
                        *k = k.join(classify(text));
                    }
                }
                Ok(())
            },
        )
        .map_err(|e| {
            let name = column_label(&layout.names, e.field);
            let msg = match e.kind {
                FieldErrorKind::Unterminated => super::split_error_message(e.kind),
                FieldErrorKind::Rejected => "invalid value".into(),
            };
            ctx.error(e.offset, name, msg)
        })?;
        if n != ncols {
            return Err(field_count_error(&ctx, &layout.names, record_start, n));
        }
        pos = next;
        rows += 1;
    }
    let fields: Vec<Field> = layout
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = match &settings.fixed[i] {
                Some(t) => t.clone(),
                None => kinds[i].unwrap_or(Kind::Nothing).data_type(),
            };
            Field::new(name, t, true)
        })
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// A column's name for an error, or `extra field N` past the last column.
pub(crate) fn column_label(names: &[String], field: usize) -> String {
    names
        .get(field)
        .cloned()
        .unwrap_or_else(|| format!("extra field {}", field + 1))
}

/// The error for a record with the wrong number of fields, naming the first missing column
/// (or the first extra field).
pub(crate) fn field_count_error(
    ctx: &ErrorContext<'_>,
    names: &[String],
    record_start: usize,
    found: usize,
) -> Error {
    let column = column_label(names, found.min(names.len()));
    ctx.error(
        record_start,
        column,
        format!("expected {} fields, found {found}", names.len()),
    )
}

/// How to read a temporal column with a user's format.
#[derive(Clone, Debug)]
pub(crate) enum UserFormat {
    Date(Arc<ChronoFormat>),
    Datetime(Arc<ChronoFormat>),
}

/// The user's per-column type settings, checked against the file's columns.
#[derive(Debug)]
pub(crate) struct TypeSettings {
    /// A type the user fixed (by a format or an override), per column.
    pub fixed: Vec<Option<DataType>>,
    /// A chrono format, per column.
    pub formats: Vec<Option<UserFormat>>,
}

impl TypeSettings {
    pub fn resolve(names: &[String], options: &CsvOptions) -> Result<Self> {
        let n = names.len();
        let mut fixed: Vec<Option<DataType>> = vec![None; n];
        let mut formats: Vec<Option<UserFormat>> = vec![None; n];
        let index = |setting: &str, col: &str| -> Result<usize> {
            names.iter().position(|c| c == col).ok_or_else(|| {
                let hint = closest(col, names.iter().map(String::as_str))
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default();
                Error::Schema(format!(
                    "{setting} names column \"{col}\", which the CSV file does not have{hint}; \
                     columns: [{}]",
                    names.join(", ")
                ))
            })
        };
        let chrono = |setting: &str, col: &str, fmt: &str| -> Result<Arc<ChronoFormat>> {
            ChronoFormat::new(fmt).map(Arc::new).map_err(|e| {
                Error::Schema(format!(
                    "{setting} for column \"{col}\": invalid format \"{fmt}\": {e}"
                ))
            })
        };
        for (col, fmt) in &options.date_formats {
            let i = index("date_format", col)?;
            formats[i] = Some(UserFormat::Date(chrono("date_format", col, fmt)?));
            fixed[i] = Some(DataType::Date32);
        }
        for (col, fmt) in &options.datetime_formats {
            let i = index("datetime_format", col)?;
            formats[i] = Some(UserFormat::Datetime(chrono("datetime_format", col, fmt)?));
            fixed[i] = Some(DataType::Timestamp(TimeUnit::Microsecond, None));
        }
        for (col, t) in &options.schema_overrides {
            let i = index("schema_override", col)?;
            if !super::supported_type(t) {
                return Err(Error::Schema(format!(
                    "schema_override for column \"{col}\": the CSV reader cannot produce {t}; \
                     use Boolean, Int8..Int64, UInt8..UInt64, Float32, Float64, Utf8, Date32 \
                     or Timestamp without a time zone"
                )));
            }
            let temporal = matches!(t, DataType::Date32 | DataType::Timestamp(_, None));
            if formats[i].is_some() && !temporal {
                return Err(Error::Schema(format!(
                    "column \"{col}\" has a date/datetime format but its override type is {t}; \
                     a format needs Date32 or Timestamp"
                )));
            }
            fixed[i] = Some(t.clone());
        }
        Ok(Self { fixed, formats })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(text: &str, options: &CsvOptions) -> Result<SchemaRef> {
        infer_schema_bytes(text.as_bytes(), Path::new("t.csv"), options)
    }

    fn types(text: &str) -> Vec<DataType> {
        infer(text, &CsvOptions::new())
            .unwrap()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect()
    }

    #[test]
    fn lattice() {
        use DataType as T;
        let ts = T::Timestamp(TimeUnit::Microsecond, None);
        assert_eq!(
            types("a,b,c,d,e,f,g,h\n1,1.5,true,2020-01-01,2020-01-01 10:00:00,x,,1\n2,3,FALSE,2020-01-02,2020-01-01T10:00:00.5,y,,\n"),
            [T::Int64, T::Float64, T::Boolean, T::Date32, ts.clone(), T::Utf8, T::Utf8, T::Int64]
        );
        assert_eq!(
            types("a,b,c\nnan,1,2020-01-01\n1,true,2020-01-01 00:00\n"),
            [T::Float64, T::Utf8, ts]
        );
        assert_eq!(types("a\ninf\n-Infinity\n"), [T::Float64]);
        assert_eq!(types("a,b\n"), [T::Utf8, T::Utf8]);
    }

    #[test]
    fn infer_length_limits_the_vote() {
        let o = CsvOptions::new().infer_schema_length(Some(2));
        let s = infer("a\n1\n2\nx\n", &o).unwrap();
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
        let s = infer("a\n1\n2\nx\n", &o.infer_schema_length(None)).unwrap();
        assert_eq!(s.field(0).data_type(), &DataType::Utf8);
    }

    #[test]
    fn null_values_do_not_vote() {
        let o = CsvOptions::new().null_value("NA");
        let s = infer("a\n1\nNA\n", &o).unwrap();
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
    }

    #[test]
    fn header_names_and_no_header() {
        let s = infer("a,,a\n1,2,3\n", &CsvOptions::new()).unwrap();
        let names: Vec<_> = s.fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["a", "column_2", "a_duplicated_0"]);
        let s = infer("1,x\n2,y\n", &CsvOptions::new().has_header(false)).unwrap();
        assert_eq!(s.field(1).name(), "column_2");
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
    }

    #[test]
    fn settings_are_checked() {
        let o = CsvOptions::new().date_format("dat", "%Y");
        let e = infer("date,x\n2020,1\n", &o).unwrap_err().to_string();
        assert!(
            e.contains("\"dat\"") && e.contains("did you mean \"date\""),
            "{e}"
        );
        let o = CsvOptions::new().schema_override("x", DataType::Float32);
        let s = infer("date,x\n2020,1\n", &o).unwrap();
        assert_eq!(s.field(1).data_type(), &DataType::Float32);
        let o = CsvOptions::new().schema_override("x", DataType::Binary);
        assert!(infer("date,x\n2020,1\n", &o).is_err());
        let o = CsvOptions::new().date_format("date", "%Q");
        assert!(infer("date,x\n2020,1\n", &o).is_err());
    }

    #[test]
    fn malformed_rows_during_inference() {
        let e = infer("a,b\n1,2\n3\n", &CsvOptions::new()).unwrap_err();
        match e {
            Error::Csv {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(line, 3);
                assert_eq!(column, "b");
                assert_eq!(message, "expected 2 fields, found 1");
            }
            other => panic!("{other}"),
        }
        let e = infer("", &CsvOptions::new()).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let s = infer("\n\n", &CsvOptions::new().has_header(false)).unwrap();
        assert!(s.fields().is_empty());
    }
}
