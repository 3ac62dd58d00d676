//! Writing a script's result: to stdout as a Polars-style table, CSV or JSON records; to a file
//! chosen by extension (`.csv`, `.parquet`, `.arrow`/`.ipc`, `.json`). Files are written
//! atomically (a temporary file renamed on success), so an error never leaves a partial file.

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, UInt64Array};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// How results print on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The Polars-like table of `DataFrame`'s `Display`.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// An array of JSON objects, one per row.
    Json,
}

/// The file formats `--output` writes, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `.csv`
    Csv,
    /// `.parquet`
    Parquet,
    /// `.arrow`, `.ipc` or `.feather` (the Arrow IPC file format).
    Ipc,
    /// The Arrow IPC stream format (`.arrows`).
    IpcStream,
    /// `.json` (an array of row objects).
    Json,
}

impl FileKind {
    /// The streaming sink format for this kind (`None` for JSON, written from a frame).
    pub fn sink_format(self) -> Option<crate::io::SinkFormat> {
        use crate::io::{IpcWriteOptions, ParquetWriteOptions, SinkFormat};
        Some(match self {
            FileKind::Csv => SinkFormat::Csv,
            FileKind::Parquet => SinkFormat::Parquet(ParquetWriteOptions::new()),
            FileKind::Ipc => SinkFormat::Ipc(IpcWriteOptions::new()),
            FileKind::IpcStream => SinkFormat::Ipc(IpcWriteOptions::new().stream(true)),
            FileKind::Json => return None,
        })
    }

    /// The kind for a path's extension (`.csv`, `.parquet`, `.arrow`, `.ipc`, `.arrows`,
    /// `.json`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => FileKind::Csv,
            "parquet" => FileKind::Parquet,
            "arrow" | "ipc" | "feather" => FileKind::Ipc,
            "arrows" => FileKind::IpcStream,
            "json" => FileKind::Json,
            _ => return None,
        })
    }
}

fn stdout_err(e: std::io::Error) -> Error {
    Error::io("<stdout>", e)
}

/// Print `df` in `format`.
pub fn write_stdout(df: &DataFrame, format: Format, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Table => writeln!(out, "{df}").map_err(stdout_err),
        Format::Csv => {
            // The CSV writer is generic over `Write`; a sized adapter passes `dyn Write` to it.
            let mut w = DynWriter(out);
            crate::io::csv::write(df, &mut w)
        }
        Format::Json => {
            write_json(df, &mut DynWriter(&mut *out))?;
            writeln!(out).map_err(stdout_err)
        }
    }
}

struct DynWriter<'a>(&'a mut dyn Write);

impl Write for DynWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Write `df` to `path` as `kind`, atomically.
pub fn write_file(df: &DataFrame, kind: FileKind, path: &Path) -> Result<()> {
    match kind {
        FileKind::Csv => crate::io::write_csv(df, path),
        FileKind::Parquet => crate::io::write_parquet(df, path),
        FileKind::Ipc => crate::io::write_ipc(df, path),
        FileKind::IpcStream => {
            crate::io::write_ipc_with(df, path, &crate::io::IpcWriteOptions::new().stream(true))
        }
        FileKind::Json => crate::io::write_atomic(path, |w| {
            write_json(df, w)?;
            writeln!(w).map_err(|e| Error::io(path, e))
        }),
    }
}

/// One column prepared for JSON: numbers widened once, others formatted as strings.
enum JsonColumn<'a> {
    Bool(BooleanArray),
    Int(Int64Array),
    UInt(UInt64Array),
    Float(Float64Array),
    Text(&'a ArrayRef, ArrayFormatter<'a>),
    /// Timestamps with a time zone, which Arrow's formatter cannot always write.
    Zoned(&'a ArrayRef),
}

/// `df` as a JSON array of objects (records). NaN and infinities, which JSON cannot express,
/// are written as `null`, as most JSON writers do; dates and times as strings.
pub fn write_json(df: &DataFrame, w: &mut impl Write) -> Result<()> {
    let names: Vec<String> = df.column_names().iter().map(|n| json_string(n)).collect();
    let options = FormatOptions::default();
    let mut cols = Vec::with_capacity(df.width());
    for a in df.columns() {
        let cast = |t: &DataType| arrow::compute::cast(a, t);
        let c = match a.data_type() {
            DataType::Boolean => JsonColumn::Bool(downcast(cast(&DataType::Boolean)?)?),
            t if t.is_signed_integer() => JsonColumn::Int(downcast(cast(&DataType::Int64)?)?),
            t if t.is_unsigned_integer() => JsonColumn::UInt(downcast(cast(&DataType::UInt64)?)?),
            t if t.is_floating() => JsonColumn::Float(downcast(cast(&DataType::Float64)?)?),
            DataType::Timestamp(_, Some(_)) => JsonColumn::Zoned(a),
            _ => JsonColumn::Text(a, ArrayFormatter::try_new(a.as_ref(), &options)?),
        };
        cols.push(c);
    }
    let io = |e| Error::io("<json output>", e);
    w.write_all(b"[").map_err(io)?;
    for row in 0..df.height() {
        let sep = if row == 0 { "\n  {" } else { ",\n  {" };
        w.write_all(sep.as_bytes()).map_err(io)?;
        for (i, (name, c)) in names.iter().zip(&cols).enumerate() {
            let value = json_value(c, row);
            let sep = if i == 0 { "" } else { ", " };
            write!(w, "{sep}{name}: {value}").map_err(io)?;
        }
        w.write_all(b"}").map_err(io)?;
    }
    let end: &[u8] = if df.height() == 0 { b"]" } else { b"\n]" };
    w.write_all(end).map_err(io)
}

fn downcast<T: Clone + 'static>(a: ArrayRef) -> Result<T> {
    a.as_any()
        .downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| Error::Internal("cast gave an unexpected array type".into()))
}

fn json_value(c: &JsonColumn, row: usize) -> String {
    match c {
        JsonColumn::Bool(a) if a.is_valid(row) => a.value(row).to_string(),
        JsonColumn::Int(a) if a.is_valid(row) => a.value(row).to_string(),
        JsonColumn::UInt(a) if a.is_valid(row) => a.value(row).to_string(),
        // `{:?}` keeps a float a float (`1.0`) and is valid JSON (`1e-7`).
        JsonColumn::Float(a) if a.is_valid(row) && a.value(row).is_finite() => {
            format!("{:?}", a.value(row))
        }
        JsonColumn::Text(a, f) if a.is_valid(row) => json_string(&f.value(row).to_string()),
        JsonColumn::Zoned(a) if a.is_valid(row) => {
            json_string(&crate::frame::display::zoned_timestamp_text(a, row))
        }
        _ => "null".into(),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df;

    #[test]
    fn json_records() {
        let df = df!(
            "a" => [Some(1), None],
            "x" => [f64::NAN, 2.5],
            "s" => ["q\"uote", "b"],
            "t" => [true, false]
        )
        .unwrap();
        let mut out = Vec::new();
        write_json(&df, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\n  {\"a\": 1, \"x\": null, \"s\": \"q\\\"uote\", \"t\": true},\n  {\"a\": null, \"x\": 2.5, \"s\": \"b\", \"t\": false}\n]"
        );
    }

    #[test]
    fn kinds_by_extension() {
        assert_eq!(
            FileKind::from_path(Path::new("a/b.CSV")),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::from_path(Path::new("b.arrow")),
            Some(FileKind::Ipc)
        );
        assert_eq!(FileKind::from_path(Path::new("b.txt")), None);
    }
}
