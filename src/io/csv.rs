//! CSV reader and writer.

use std::io::Write;
use std::path::Path;

use arrow::datatypes::{DataType, SchemaRef};

use super::MorselSource;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

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
}

/// Infer the schema from the header and the first `infer_schema_length` rows.
pub fn infer_schema(path: &Path, _options: &CsvOptions) -> Result<SchemaRef> {
    Err(Error::Internal(format!(
        "CSV reader not built yet ({})",
        path.display()
    )))
}

/// Open for reading the given columns.
pub fn open(
    path: &Path,
    _options: &CsvOptions,
    _schema: &SchemaRef,
    _columns: &[String],
) -> Result<Box<dyn MorselSource>> {
    Err(Error::Internal(format!(
        "CSV reader not built yet ({})",
        path.display()
    )))
}

/// Write `df` as CSV.
pub fn write(_df: &DataFrame, _w: &mut impl Write) -> Result<()> {
    Err(Error::Internal("CSV writer not built yet".into()))
}
