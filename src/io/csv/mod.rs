//! CSV reader and writer.
//!
//! Reading is two steps. [`infer_schema`] reads the header and the first
//! `infer_schema_length` rows to find column types (the `infer` module has the rules), applying
//! the user's formats and overrides. `open` maps the file, cuts its data rows into byte-range
//! morsels of about [`MORSEL_BYTES`] each (boundaries moved to the next record start, aware of
//! quoted newlines, fixed by the file's bytes so results never depend on the thread count),
//! and returns a `MorselSource` whose `morsel(i)` parses only the projected columns of its
//! range straight into Arrow buffers. [`write()`] does the reverse.
//!
//! Semantics, as users of Polars and pandas expect them:
//! - an empty field is null; so is any text in `null_values`. In a text column a quoted empty
//!   field (`""`) is the empty string, so nulls and empty strings survive a round trip;
//! - `nan`, `inf`, `infinity` (any case, optional sign) are float specials, not nulls;
//! - blank lines are skipped (in a one-column file a blank line inside the data is a null row),
//!   and so are blank lines at the very end; a UTF-8 byte-order mark is ignored;
//! - line numbers in errors are physical lines of the file, 1-based, counting the header.
//!   They are computed from the byte offset only when an error is reported, so the fast path
//!   never counts lines;
//! - the file is memory-mapped: like every mmap-based reader, it must not be truncated by
//!   another process while a query reads it.
//!
//! Why our own reader beside arrow-rs's `arrow-csv`: arrow-csv reads a file front to back
//! through one `csv` crate state machine, so a scan cannot be split into morsels decoded in
//! parallel and in any order, and it parses every column, not only the projected ones. Its
//! semantics also differ from what this engine promises: it reports errors by record number
//! rather than `line:column` of the file, has no quoted-empty-string vs null distinction, and
//! infers types from the whole file or a prefix without the NaN/`inf` rules above. The
//! measurement behind the choice is end to end, against Polars (whose reader is also a
//! parallel byte-range splitter), from `benches/RESULTS.md` (`run-13`, quiet 2-core machine,
//! 10M-row seed CSV of 898 MiB): `pipeline_csv` 0.477 s vs Polars 0.841 s (0.57x),
//! `filter_agg_csv` 0.408 s vs 0.465 s (0.88x), `agg_csv` 0.540 s vs 0.560 s (0.96x). A direct
//! arrow-csv timing on the same file has not been taken (it is not a dependency); the
//! differential tests in `tests/real_files.rs` compare the values both kinds of reader give.

mod infer;
mod parse;
mod seps;
mod sink;
mod split;
mod values;
mod write;

use std::fs::File;
use std::io::Read;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};

use self::split::{Dialect, FieldErrorKind};
use super::MorselSource;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Target size of one morsel's byte range. Large enough that per-morsel overhead (builders,
/// a frame, a task) is negligible and that a 2-core machine gets many morsels from a few
/// hundred MB, small enough to keep memory per worker bounded and the work balanced.
pub const MORSEL_BYTES: usize = 4 << 20;

/// Options for `scan_csv_with`.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// Field separator (default `,`).
    pub delimiter: u8,
    /// First line holds column names (default `true`); otherwise columns are `column_1`, ...
    pub has_header: bool,
    /// Quote character (default `"`); a doubled quote inside a quoted field is a literal quote.
    pub quote: u8,
    /// Extra field texts read as null, besides the empty field (e.g. `"NA"`).
    pub null_values: Vec<String>,
    /// Rows read to infer column types (`None`: all rows). Default 1000.
    pub infer_schema_length: Option<usize>,
    /// Column types that replace inferred ones.
    pub schema_overrides: Vec<(String, DataType)>,
    /// Columns parsed as `Date32` with a chrono format such as `%Y/%m/%d` or `%b %d %Y`.
    pub date_formats: Vec<(String, String)>,
    /// Columns parsed as microsecond timestamps with a chrono format such as `%Y/%m/%d %H:%M`.
    pub datetime_formats: Vec<(String, String)>,
    /// Lines to skip before the header (or the first row without one), such as a preamble.
    /// They are physical lines, not records: quotes in them are not interpreted. Default 0.
    pub skip_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            has_header: true,
            quote: b'"',
            null_values: vec![],
            infer_schema_length: Some(1000),
            schema_overrides: vec![],
            date_formats: vec![],
            datetime_formats: vec![],
            skip_rows: 0,
        }
    }
}

impl CsvOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set the field separator.
    pub fn delimiter(mut self, d: u8) -> Self {
        self.delimiter = d;
        self
    }
    /// Set whether the first line is a header.
    pub fn has_header(mut self, h: bool) -> Self {
        self.has_header = h;
        self
    }
    /// Set the quote character.
    pub fn quote(mut self, q: u8) -> Self {
        self.quote = q;
        self
    }
    /// Add a text that reads as null.
    pub fn null_value(mut self, v: impl Into<String>) -> Self {
        self.null_values.push(v.into());
        self
    }
    /// Set how many rows type inference reads (`None`: all).
    pub fn infer_schema_length(mut self, n: Option<usize>) -> Self {
        self.infer_schema_length = n;
        self
    }
    /// Force a column's type.
    pub fn schema_override(mut self, column: impl Into<String>, dtype: DataType) -> Self {
        self.schema_overrides.push((column.into(), dtype));
        self
    }
    /// Parse a column as dates with a chrono format.
    pub fn date_format(mut self, column: impl Into<String>, format: impl Into<String>) -> Self {
        self.date_formats.push((column.into(), format.into()));
        self
    }
    /// Parse a column as timestamps (microseconds) with a chrono format.
    pub fn datetime_format(mut self, column: impl Into<String>, format: impl Into<String>) -> Self {
        self.datetime_formats.push((column.into(), format.into()));
        self
    }
    /// Skip this many lines (a preamble) before the header.
    pub fn skip_rows(mut self, n: usize) -> Self {
        self.skip_rows = n;
        self
    }
}

/// Infer the schema from the header and the first `infer_schema_length` rows.
///
/// Column names come from the header (empty names become `column_N`, repeated names get a
/// `_duplicated_K` suffix) or are `column_1`, `column_2`, ... without one. An empty file is an
/// error when a header is expected, and an empty schema otherwise.
pub fn infer_schema(path: &Path, options: &CsvOptions) -> Result<SchemaRef> {
    let data = Bytes::load(path)?;
    infer::infer_schema_bytes(&data, path, options)
}

/// Open for reading the given columns (in this order), with the schema [`infer_schema`] gave.
pub(crate) fn open(
    path: &Path,
    options: &CsvOptions,
    schema: &SchemaRef,
    columns: &[String],
) -> Result<Box<dyn MorselSource>> {
    let data = Arc::new(Bytes::load(path)?);
    Ok(Box::new(parse::CsvMorsels::new(
        data,
        path,
        options,
        schema,
        columns,
        MORSEL_BYTES,
    )?))
}

/// Write `df` as CSV: a header row, then one line per row, comma-separated, `\n` line ends.
///
/// Floats are written as the shortest text that reads back to the same value (`NaN`, `inf`,
/// `-inf` for specials), nulls as empty fields, text quoted only when it must be (it holds a
/// comma, quote or line break, has leading or trailing spaces, or is empty, which
/// distinguishes it from null), dates as `YYYY-MM-DD`, timestamps as
/// `YYYY-MM-DDTHH:MM:SS[.ffffff]`, booleans as `true`/`false`. Nested types are an error.
pub fn write(df: &DataFrame, w: &mut impl Write) -> Result<()> {
    write::write_frame(df, w)
}

/// The header line of `schema` (what [`write`] starts with).
pub(crate) fn write_header(schema: &arrow::datatypes::Schema) -> Vec<u8> {
    let mut buf = vec![];
    write::header(schema, &mut buf);
    buf
}

/// The rows of `df` as CSV text, without the header (what [`write`] writes after it).
pub(crate) fn format_rows(df: &DataFrame) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(df.height() * 16);
    write::write_rows(df, vec![], &mut out)?;
    Ok(out)
}

/// The file's bytes: memory-mapped, or read into memory where mapping is not possible
/// (empty files, pipes).
///
/// A mapped file's pages count in the process's resident memory once touched, and stay
/// there until unmapped: a scan that reads a 1 GB file front to back would hold 1 GB. So the
/// readers [`hold`](Bytes::hold) a range while they read it and [`release`](Bytes::release) it
/// when done, which drops its pages from the process (they stay in the kernel's page cache,
/// and a later read, e.g. an error message counting lines, faults them back in). Resident
/// file memory is then bounded by the ranges in flight: one per worker. The held bytes are
/// counted, so tests can check that bound.
pub(crate) struct Bytes {
    data: Data,
    held: AtomicUsize,
    peak: AtomicUsize,
}

enum Data {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    fn load(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len > 0 {
            // SAFETY: the mapping is read-only; if another process truncates the file while
            // it is mapped, reads fault (the documented contract of file scans, as for IPC).
            if let Ok(m) = unsafe { memmap2::Mmap::map(&file) } {
                return Ok(Self::of(Data::Mapped(m)));
            }
        }
        let mut v = vec![];
        file.read_to_end(&mut v).map_err(|e| Error::io(path, e))?;
        Ok(Self::owned(v))
    }

    /// Bytes already in memory.
    pub(crate) fn owned(v: Vec<u8>) -> Self {
        Self::of(Data::Owned(v))
    }

    fn of(data: Data) -> Self {
        Self {
            data,
            held: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Hold `start..end` while reading it: counted until the guard drops, which then
    /// [releases](Bytes::release) it.
    pub(crate) fn hold(&self, start: usize, end: usize) -> Held<'_> {
        let now = self.held.fetch_add(end - start, Ordering::Relaxed) + (end - start);
        self.peak.fetch_max(now, Ordering::Relaxed);
        Held {
            bytes: self,
            start,
            end,
        }
    }

    /// Done reading `start..end`: a mapped file's whole pages inside it leave the process's
    /// resident memory. Pages shared with a neighbouring range are kept, as another worker
    /// may be reading them.
    pub(crate) fn release(&self, start: usize, end: usize) {
        #[cfg(unix)]
        if let Data::Mapped(m) = &self.data {
            let page = page_size();
            let (lo, hi) = (start.div_ceil(page) * page, end / page * page);
            if lo < hi {
                // SAFETY: the mapping is a read-only shared mapping of a file, never written
                // through; MADV_DONTNEED only drops this process's page-table entries for the
                // range, and a later read faults the same file bytes back in, so every slice
                // of it stays valid and keeps its contents. The range is inside the map.
                // Failure only means the pages stay resident.
                let _ = unsafe {
                    m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, lo, hi - lo)
                };
            }
        }
        #[cfg(not(unix))]
        let _ = (start, end);
    }

    /// The most bytes held at once so far.
    #[cfg(test)]
    pub(crate) fn peak_held(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// The bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

/// A range of [`Bytes`] being read; released when dropped (also on an error path).
pub(crate) struct Held<'a> {
    bytes: &'a Bytes,
    start: usize,
    end: usize,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let b = self.bytes;
        b.held.fetch_sub(self.end - self.start, Ordering::Relaxed);
        b.release(self.start, self.end);
    }
}

/// The system's page size (4 KiB when it cannot be asked).
#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }
}

/// Texts (besides the empty field) that read as null.
#[derive(Debug, Default)]
pub(crate) struct NullValues(Vec<Vec<u8>>);

impl NullValues {
    fn new(options: &CsvOptions) -> Self {
        Self(
            options
                .null_values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| v.as_bytes().to_vec())
                .collect(),
        )
    }

    /// Whether a non-empty field text is one of the null texts.
    #[inline(always)]
    fn matches(&self, b: &[u8]) -> bool {
        !self.0.is_empty() && self.0.iter().any(|v| v.as_slice() == b)
    }
}

/// Where the header and the data rows are in a file's bytes.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Column names (from the header, or `column_N`).
    pub names: Vec<String>,
    /// First byte of the first data row.
    pub data_start: usize,
    /// End of the data, without trailing line ends.
    pub data_end: usize,
    pub dialect: Dialect,
}

impl Layout {
    /// Find the header and the data region. The data region starts at a record start and
    /// ends after the last non-blank line, so every morsel holds only whole records.
    fn discover(buf: &[u8], path: &Path, options: &CsvOptions) -> Result<Self> {
        let dialect = dialect(options)?;
        let mut pos = if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        for _ in 0..options.skip_rows {
            pos = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |k| pos + k + 1);
        }
        let mut end = buf.len();
        while end > pos && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
            end -= 1;
        }
        while pos < end {
            match split::blank_line(buf, pos, end) {
                Some(next) => pos = next,
                None => break,
            }
        }
        if pos >= end {
            if options.has_header {
                return Err(Error::File {
                    format: "CSV",
                    path: path.to_path_buf(),
                    message: "the file is empty: there is no header line".into(),
                });
            }
            return Ok(Self {
                names: vec![],
                data_start: end,
                data_end: end,
                dialect,
            });
        }
        let mut fields: Vec<String> = vec![];
        let mut scratch = vec![];
        let mut seps = seps::Seps::new(buf, end, dialect.delim);
        let (next, _) = split::parse_record(
            buf,
            pos,
            end,
            dialect,
            &mut seps,
            &mut scratch,
            |_, text, _, _| {
                fields.push(String::from_utf8_lossy(text).into_owned());
                Ok(())
            },
        )
        .map_err(|e| {
            let ctx = ErrorContext::new(path, buf);
            let name = if options.has_header {
                "header".to_string()
            } else {
                format!("column_{}", e.field + 1)
            };
            ctx.error(e.offset, name, split_error_message(e.kind))
        })?;
        if options.has_header {
            Ok(Self {
                names: header_names(fields),
                data_start: next,
                data_end: end,
                dialect,
            })
        } else {
            Ok(Self {
                names: (1..=fields.len()).map(|i| format!("column_{i}")).collect(),
                data_start: pos,
                data_end: end,
                dialect,
            })
        }
    }
}

/// Column names from header fields: an empty name becomes `column_N` (its 1-based position)
/// and a repeated one gets `_duplicated_K` (as Polars does), so every column is addressable.
fn header_names(fields: Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for (i, f) in fields.into_iter().enumerate() {
        let base = if f.is_empty() {
            format!("column_{}", i + 1)
        } else {
            f
        };
        let mut name = base.clone();
        let mut k = 0;
        while names.contains(&name) {
            name = format!("{base}_duplicated_{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

/// Check the delimiter and quote characters can work together.
fn dialect(options: &CsvOptions) -> Result<Dialect> {
    let (d, q) = (options.delimiter, options.quote);
    let bad = |c: u8| c == b'\n' || c == b'\r';
    if bad(d) || bad(q) || d == q {
        return Err(Error::Plan(format!(
            "invalid CSV options: delimiter {:?} and quote {:?} must differ and not be line breaks",
            d as char, q as char
        )));
    }
    Ok(Dialect { delim: d, quote: q })
}

fn split_error_message(kind: FieldErrorKind) -> String {
    match kind {
        FieldErrorKind::Unterminated => {
            "unterminated quoted field: no closing quote before the end of the file".into()
        }
        FieldErrorKind::Rejected => "invalid value".into(),
    }
}

/// Builds [`Error::Csv`] values for one file, turning byte offsets into line numbers.
pub(crate) struct ErrorContext<'a> {
    path: &'a Path,
    buf: &'a [u8],
}

impl<'a> ErrorContext<'a> {
    pub fn new(path: &'a Path, buf: &'a [u8]) -> Self {
        Self { path, buf }
    }

    /// The 1-based physical line holding byte `offset` (counting the header line). Counting
    /// happens only here, on the error path.
    pub fn line_of(&self, offset: usize) -> u64 {
        let upto = offset.min(self.buf.len());
        1 + memchr::memchr_iter(b'\n', &self.buf[..upto]).count() as u64
    }

    pub fn error(&self, offset: usize, column: String, message: String) -> Error {
        Error::Csv {
            path: PathBuf::from(self.path),
            line: self.line_of(offset),
            column,
            message,
        }
    }
}

/// A field's text for an error message: lossy UTF-8, cut short when long.
pub(crate) fn show_text(b: &[u8]) -> String {
    const MAX: usize = 60;
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}...")
    } else {
        format!("{s:?}")
    }
}

/// Whether the reader can produce this type (the set `schema_overrides` accepts).
pub(crate) fn supported_type(t: &DataType) -> bool {
    use arrow::datatypes::DataType as T;
    matches!(
        t,
        T::Boolean
            | T::Int8
            | T::Int16
            | T::Int32
            | T::Int64
            | T::UInt8
            | T::UInt16
            | T::UInt32
            | T::UInt64
            | T::Float32
            | T::Float64
            | T::Utf8
            | T::Date32
            | T::Timestamp(_, None)
    )
}
