//! File sources and sinks: CSV, Parquet and Arrow IPC.
//!
//! A scan is described by a [`ScanSource`] (path, format, options; schema inferred once and
//! cached). At run time it opens into a `MorselSource`: a fixed list of morsels (CSV byte
//! ranges, Parquet row groups, IPC record batches) that the executor decodes in parallel and in
//! any order, while results keep morsel order. Only projected columns are decoded. Sinks
//! (`sink.rs`) write morsel by morsel to a temporary file in the target's folder and rename it
//! on success, so a failed query never leaves a half-written file.
//!
//! Files come from other tools, and some are malformed or hostile: every reader ends such input
//! in an error naming the file, and a panic escaping a dependency's decoder is caught at this
//! boundary (`guard`) and reported as an internal error naming the file. A scan's schema has
//! every top-level column nullable and no field metadata, whatever the file says, so that plans
//! over files type-check like plans over memory (nested fields keep their nullability).

pub mod csv;
mod guard;
pub mod ipc;
pub mod parquet;
mod parquet_columns;
mod parquet_dictionary;
mod parquet_footer;
#[cfg(unix)]
mod parquet_pages;
pub(crate) mod parquet_prune;
mod parquet_writer;
pub(crate) mod sink;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow::datatypes::{Field, Schema, SchemaRef};

pub use self::csv::CsvOptions;
pub use self::ipc::{IpcCompression, IpcWriteOptions};
pub use self::parquet::{ParquetCompression, ParquetWriteOptions};
pub(crate) use self::sink::{PendingFile, SinkFormat};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::frame::DataFrame;

/// A decoded-on-demand list of morsels, each a frame of the projected columns.
pub(crate) trait MorselSource: Send + Sync {
    /// Schema of every morsel (the projection, in projection order).
    fn schema(&self) -> SchemaRef;
    /// How many morsels there are (fixed by the file, never by the thread count).
    fn num_morsels(&self) -> usize;
    /// Rows of morsel `i` when known without decoding it (Parquet row groups, IPC batches),
    /// so the executor can place each morsel's output before it runs. `None` (the default)
    /// when only decoding tells (CSV byte ranges). A source that answers must decode exactly
    /// that many rows.
    fn morsel_rows(&self, _i: usize) -> Option<usize> {
        None
    }
    /// Decode morsel `i`; called from several threads at once.
    fn morsel(&self, i: usize) -> Result<DataFrame>;

    /// Decode morsel `i` as consecutive pieces of `rows` rows (the last may be shorter) and
    /// hand each to `f` in order. The default cuts the decoded morsel; a reader that can
    /// decode piece by piece overrides it, so each piece is processed while still in cache
    /// and no morsel-sized buffers are allocated. The pieces must be the same either way.
    fn for_each_piece(
        &self,
        i: usize,
        rows: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        let m = self.morsel(i)?;
        if m.height() <= rows {
            return f(m);
        }
        for j in 0..m.height().div_ceil(rows) {
            f(m.slice(j * rows, rows))?;
        }
        Ok(())
    }
}

/// The file format of a scan, with its options.
#[derive(Clone, Debug)]
pub enum FileFormat {
    /// CSV, with its parsing options.
    Csv(CsvOptions),
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (file or stream format).
    Ipc,
}

/// A file to scan: path, format, and its schema (inferred on first use, then cached).
#[derive(Debug)]
pub struct ScanSource {
    path: PathBuf,
    format: FileFormat,
    schema: OnceLock<SchemaRef>,
    /// Parquet footer, read once for plan text (`row_groups=kept/total`); scans re-read it.
    parquet_meta: OnceLock<Option<::parquet::arrow::arrow_reader::ArrowReaderMetadata>>,
}

impl ScanSource {
    /// Describe a scan; nothing is read yet.
    pub fn new(path: impl Into<PathBuf>, format: FileFormat) -> Self {
        Self {
            path: path.into(),
            format,
            schema: OnceLock::new(),
            parquet_meta: OnceLock::new(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format and its options.
    pub fn format(&self) -> &FileFormat {
        &self.format
    }

    /// `CSV`, `PARQUET` or `IPC`, for plan text.
    pub fn format_name(&self) -> &'static str {
        match self.format {
            FileFormat::Csv(_) => "CSV",
            FileFormat::Parquet => "PARQUET",
            FileFormat::Ipc => "IPC",
        }
    }

    /// The path as plan text shows it.
    pub fn path_text(&self) -> String {
        self.path.display().to_string()
    }

    /// The file's full schema (header / footer / inference; no full read).
    pub fn schema(&self) -> Result<SchemaRef> {
        if let Some(s) = self.schema.get() {
            return Ok(s.clone());
        }
        let s = guard::catch(self.format_label(), &self.path, || match &self.format {
            FileFormat::Csv(o) => csv::infer_schema(&self.path, o),
            FileFormat::Parquet => parquet::read_schema(&self.path),
            FileFormat::Ipc => ipc::read_schema(&self.path),
        })?;
        Ok(self.schema.get_or_init(|| s).clone())
    }

    /// For a Parquet file and a predicate: how many row groups the statistics check keeps, of
    /// how many (`None` for other formats, without a predicate, or if the footer is unreadable,
    /// which the scan itself will then report).
    pub(crate) fn row_groups_kept(&self, predicate: Option<&Expr>) -> Option<(usize, usize)> {
        let predicate = predicate?;
        if !matches!(self.format, FileFormat::Parquet) {
            return None;
        }
        let meta = self
            .parquet_meta
            .get_or_init(|| parquet::read_metadata(&self.path).ok())
            .as_ref()?;
        let schema = self.schema().ok()?;
        let kept = parquet_prune::kept_row_groups(Some(predicate), meta.metadata(), &schema);
        Some((kept.len(), meta.metadata().num_row_groups()))
    }

    /// Whether `column` of a Parquet file is dictionary-encoded in every row group the
    /// predicate's statistics keep, as the footer says (`parquet::dictionary_encoded`);
    /// false for other formats.
    pub(crate) fn dictionary_encoded(&self, column: &str, predicate: Option<&Expr>) -> bool {
        if !matches!(self.format, FileFormat::Parquet) {
            return false;
        }
        let Some(meta) = self
            .parquet_meta
            .get_or_init(|| parquet::read_metadata(&self.path).ok())
            .as_ref()
        else {
            return false;
        };
        let Ok(schema) = self.schema() else {
            return false;
        };
        let kept = parquet_prune::kept_row_groups(predicate, meta.metadata(), &schema);
        parquet::dictionary_encoded(meta.metadata(), column, &kept)
    }

    /// About how many rows a scan with this predicate gives, from metadata alone, for the
    /// planner's choices (a join's build side): Parquet counts the rows of the row groups the
    /// predicate's statistics keep; CSV and IPC guess from the file's size. `None` when the
    /// file cannot be read (the scan itself will report it).
    pub(crate) fn estimated_rows(&self, predicate: Option<&Expr>) -> Option<usize> {
        let schema = self.schema().ok()?;
        if let FileFormat::Parquet = self.format {
            let meta = self
                .parquet_meta
                .get_or_init(|| parquet::read_metadata(&self.path).ok())
                .as_ref()?;
            let md = meta.metadata();
            let kept = parquet_prune::kept_row_groups(predicate, md, &schema);
            return Some(
                kept.iter()
                    .map(|&i| md.row_group(i).num_rows().max(0) as usize)
                    .sum(),
            );
        }
        // About 8 bytes per value, in text or in Arrow's buffers.
        let bytes = std::fs::metadata(&self.path).ok()?.len() as usize;
        Some(bytes / (8 * schema.fields().len().max(1)))
    }

    /// [`Self::open_coded`] with every column read as its type.
    #[cfg(test)]
    pub(crate) fn open(
        &self,
        projection: Option<&[String]>,
        predicate: Option<&Expr>,
        limit: Option<usize>,
    ) -> Result<Box<dyn MorselSource>> {
        self.open_coded(projection, predicate, limit, &[], None)
    }

    /// Open for reading the given columns (all when `None`). `predicate` may be used to skip
    /// whole morsels (Parquet row-group statistics); rows are still filtered by the executor.
    /// `limit`: only the first `limit` rows passing the predicate are needed, so a reader may
    /// stop early. The string columns named in `coded` are read as dictionary codes
    /// (`parquet::coded_strings`; Parquet only, where the plan groups by them). The Parquet
    /// reader reserves what it decodes ahead from `memory`.
    pub(crate) fn open_coded(
        &self,
        projection: Option<&[String]>,
        predicate: Option<&Expr>,
        limit: Option<usize>,
        coded: &[String],
        memory: Option<&std::sync::Arc<crate::memory::MemoryPool>>,
    ) -> Result<Box<dyn MorselSource>> {
        let schema = self.schema()?;
        let columns: Vec<String> = match projection {
            Some(p) => p.to_vec(),
            None => schema.fields().iter().map(|f| f.name().clone()).collect(),
        };
        // One set of names, not a by-name scan per column: inputs can be 10,000 columns wide.
        let names: std::collections::HashSet<&str> =
            schema.fields().iter().map(|f| f.name().as_str()).collect();
        for c in &columns {
            if !names.contains(c.as_str()) {
                return Err(Error::column_not_found(
                    c,
                    schema.fields().iter().map(|f| f.name().as_str()),
                ));
            }
        }
        let inner = guard::catch(self.format_label(), &self.path, || match &self.format {
            FileFormat::Csv(o) => csv::open(&self.path, o, &schema, &columns),
            FileFormat::Parquet => {
                let memory = memory.cloned();
                parquet::open_coded(
                    &self.path, &schema, &columns, predicate, limit, coded, memory,
                )
            }
            FileFormat::Ipc => ipc::open(&self.path, &schema, &columns),
        })?;
        Ok(Box::new(guard::Guarded {
            inner,
            format: self.format_label(),
            path: self.path.clone(),
        }))
    }

    /// The format as error messages name it.
    fn format_label(&self) -> &'static str {
        match self.format {
            FileFormat::Csv(_) => "CSV",
            FileFormat::Parquet => "Parquet",
            FileFormat::Ipc => "Arrow IPC",
        }
    }
}

/// A file's schema as scans present it: top-level columns nullable, no field or schema
/// metadata (nested fields are left as the file has them).
pub(crate) fn scan_schema(file: &Schema) -> Schema {
    Schema::new(
        file.fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    )
}

/// Write `df` as CSV (header row, comma; nulls as empty fields).
pub fn write_csv(df: &DataFrame, path: &Path) -> Result<()> {
    // `csv::write` only sees a writer; name the file in its I/O errors here.
    write_atomic(path, |w| {
        csv::write(df, w).map_err(|e| match e {
            Error::Io { path: p, source } if p.as_os_str().is_empty() => Error::io(path, source),
            e => e,
        })
    })
}

/// Write `df` as Parquet (snappy).
pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<()> {
    write_atomic(path, |w| parquet::write(df, w))
}

/// Write `df` as Parquet with row groups of at most `row_group_rows` rows.
pub fn write_parquet_with_row_groups(
    df: &DataFrame,
    path: &Path,
    row_group_rows: usize,
) -> Result<()> {
    write_atomic(path, |w| {
        parquet::write_with_row_groups(df, w, row_group_rows)
    })
}

/// Write `df` as Parquet with the given codec and row-group size.
pub fn write_parquet_with(
    df: &DataFrame,
    path: &Path,
    options: &ParquetWriteOptions,
) -> Result<()> {
    write_atomic(path, |w| parquet::write_with(df, w, options))
}

/// Write `df` as an Arrow IPC file.
pub fn write_ipc(df: &DataFrame, path: &Path) -> Result<()> {
    write_atomic(path, |w| ipc::write(df, w))
}

/// Write `df` as an Arrow IPC file or stream, compressed or not.
pub fn write_ipc_with(df: &DataFrame, path: &Path, options: &IpcWriteOptions) -> Result<()> {
    write_atomic(path, |w| ipc::write_with(df, w, options))
}

/// Write through `f` into a temporary file next to `path`, then rename it over `path`; on any
/// error the temporary file is removed and `path` is left as it was.
pub(crate) fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut PendingFile) -> Result<()>,
) -> Result<()> {
    let mut file = PendingFile::create(path)?;
    f(&mut file)?;
    file.commit()
}

/// A short schema listing (`name: type` per line) for `fusedframe schema FILE`.
pub(crate) fn schema_text(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f.name(),
                crate::frame::display::dtype_name(f.data_type())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
