//! Streaming file writers: what `sink_parquet`, `sink_ipc`, `sink_csv` and the CLI's
//! `--output` write into, piece by piece in row order, as the executor's sink driver hands
//! the pieces over (see `exec::sink`).
//!
//! Every writer writes into a temporary file next to the target ([`PendingFile`]) that is
//! renamed over the target only when the whole output is written; a writer dropped before
//! that (an error in any morsel, a full disk) removes it, so a failed query never leaves a
//! partial file, and an existing file at the target stays as it was.
//!
//! - Parquet: row groups of [`ParquetWriteOptions::row_group_bytes`] (64 MiB of Arrow data by
//!   default; a row count can cap them too), each column of a row group encoded on its own
//!   worker, with the chosen compression and min/max statistics (which predicate pushdown
//!   reads back). A row group is written out when it is full; only its encoded pages are
//!   held until then.
//! - Arrow IPC: record batches of a fixed number of rows per schema (`exec::piece_rows`), so a
//!   reader gets batches sized by bytes whatever pieces the query made; optionally LZ4- or
//!   zstd-compressed.
//! - CSV: a header line, then each piece's rows, formatted on the worker that made the piece.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::ipc::writer::{FileWriter, IpcWriteOptions as ArrowIpcOptions};
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// A Parquet compression codec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParquetCompression {
    /// No compression.
    Uncompressed,
    /// Snappy: fast, moderate ratio (the default, as pyarrow's).
    #[default]
    Snappy,
    /// Gzip at a level from 0 to 10 (6 is zlib's default).
    Gzip(u32),
    /// LZ4 (raw).
    Lz4,
    /// Zstandard at a level from 1 to 22 (3 is zstd's default).
    Zstd(i32),
}

impl ParquetCompression {
    fn codec(self) -> Result<Compression> {
        let bad = |e: parquet::errors::ParquetError| Error::Plan(format!("{self:?}: {e}"));
        Ok(match self {
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Gzip(l) => Compression::GZIP(GzipLevel::try_new(l).map_err(bad)?),
            ParquetCompression::Lz4 => Compression::LZ4_RAW,
            ParquetCompression::Zstd(l) => Compression::ZSTD(ZstdLevel::try_new(l).map_err(bad)?),
        })
    }
}

/// How `sink_parquet_with` writes: compression, row-group size and statistics.
///
/// ```no_run
/// use fusedframe::prelude::*;
/// let options = ParquetWriteOptions::new()
///     .compression(ParquetCompression::Zstd(3))
///     .row_group_bytes(128 << 20);
/// scan_csv("big.csv").sink_parquet_with("big.parquet", options, &ExecOptions::new())?;
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ParquetWriteOptions {
    /// The codec (snappy by default).
    pub compression: ParquetCompression,
    /// A row group ends once it holds this many bytes of Arrow data (64 MiB by default).
    pub row_group_bytes: usize,
    /// And at most this many rows, when set.
    pub row_group_rows: Option<usize>,
    /// Write min/max and null-count statistics per row group and page (on by default).
    pub statistics: bool,
}

impl Default for ParquetWriteOptions {
    fn default() -> Self {
        Self {
            compression: ParquetCompression::Snappy,
            row_group_bytes: 64 << 20,
            row_group_rows: None,
            statistics: true,
        }
    }
}

impl ParquetWriteOptions {
    /// Snappy, 64 MiB row groups, statistics on.
    pub fn new() -> Self {
        Self::default()
    }
    /// Use this codec.
    pub fn compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }
    /// End row groups at this many bytes of Arrow data.
    pub fn row_group_bytes(mut self, bytes: usize) -> Self {
        self.row_group_bytes = bytes.max(1);
        self
    }
    /// End row groups at this many rows too.
    pub fn row_group_rows(mut self, rows: usize) -> Self {
        self.row_group_rows = Some(rows.max(1));
        self
    }
    /// Write statistics or not.
    pub fn statistics(mut self, on: bool) -> Self {
        self.statistics = on;
        self
    }
}

/// An Arrow IPC compression codec (the IPC format allows these two).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpcCompression {
    /// No compression: the file can be memory-mapped and read without copying (the default).
    #[default]
    Uncompressed,
    /// LZ4 frames.
    Lz4,
    /// Zstandard.
    Zstd,
}

/// How `sink_ipc_with` writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IpcWriteOptions {
    /// The codec (none by default).
    pub compression: IpcCompression,
}

impl IpcWriteOptions {
    /// Uncompressed.
    pub fn new() -> Self {
        Self::default()
    }
    /// Use this codec.
    pub fn compression(mut self, compression: IpcCompression) -> Self {
        self.compression = compression;
        self
    }
}

/// The file format a sink writes, with its options.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkFormat {
    Csv,
    Parquet(ParquetWriteOptions),
    Ipc(IpcWriteOptions),
}

/// A piece ready for the writer: CSV is formatted on the worker that made the piece.
pub(crate) enum Encoded {
    Frame(DataFrame),
    Text { bytes: Vec<u8>, rows: usize },
}

impl Encoded {
    /// Rows it holds.
    pub(crate) fn rows(&self) -> usize {
        match self {
            Encoded::Frame(df) => df.height(),
            Encoded::Text { rows, .. } => *rows,
        }
    }
}

/// Prepare a piece for a writer of `format` (on the worker that made it).
pub(crate) fn encode(format: &SinkFormat, df: DataFrame) -> Result<Encoded> {
    Ok(match format {
        SinkFormat::Csv => Encoded::Text {
            rows: df.height(),
            bytes: super::csv::format_rows(&df)?,
        },
        _ => Encoded::Frame(df),
    })
}

/// A streaming writer of one file.
pub(crate) trait FileSink: Send {
    /// Write the next piece (pieces come in row order).
    fn write(&mut self, piece: Encoded) -> Result<()>;
    /// Bytes the writer holds in buffers (a Parquet row group's encoded pages).
    fn buffered(&self) -> usize {
        0
    }
    /// Write out what is buffered now (a Parquet row group ends early).
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    /// Finish the file and move it into place.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Start writing `path` in `format` for rows of `schema`.
pub(crate) fn create(
    path: &Path,
    format: &SinkFormat,
    schema: &SchemaRef,
) -> Result<Box<dyn FileSink>> {
    let file = PendingFile::create(path)?;
    Ok(match format {
        SinkFormat::Csv => Box::new(CsvSink::new(file, schema)?),
        SinkFormat::Parquet(o) => Box::new(ParquetSink::new(file, schema, o)?),
        SinkFormat::Ipc(o) => Box::new(IpcSink::new(file, schema, o)?),
    })
}

/// A temporary file next to its target, renamed over it by [`commit`](Self::commit) and
/// removed when dropped before.
pub struct PendingFile {
    tmp: PathBuf,
    target: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl PendingFile {
    /// Create the temporary file for `target` (`.NAME.PID.tmp` in the same folder, so the
    /// rename is atomic).
    pub fn create(target: &Path) -> Result<Self> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| Error::Plan(format!("{} is not a file path", target.display())))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&tmp).map_err(|e| Error::io(target, e))?;
        Ok(Self {
            tmp,
            target: target.to_path_buf(),
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The target's path (for messages).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flush, sync and rename over the target.
    pub fn commit(mut self) -> Result<()> {
        let path = self.target.clone();
        let w = self
            .writer
            .take()
            .ok_or_else(|| Error::Internal("file committed twice".into()))?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        std::fs::rename(&self.tmp, &path).map_err(|e| Error::io(&path, e))?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.writer {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Name the target in I/O errors from writers that only see a `Write`.
fn name_io(path: &Path, e: Error) -> Error {
    match e {
        Error::Io { path: p, source } if p.as_os_str().is_empty() => Error::io(path, source),
        e => e,
    }
}

struct CsvSink {
    file: PendingFile,
}

impl CsvSink {
    fn new(mut file: PendingFile, schema: &SchemaRef) -> Result<Self> {
        let header = super::csv::write_header(schema);
        let path = file.target().to_path_buf();
        file.write_all(&header).map_err(|e| Error::io(path, e))?;
        Ok(Self { file })
    }
}

impl FileSink for CsvSink {
    fn write(&mut self, piece: Encoded) -> Result<()> {
        let path = self.file.target().to_path_buf();
        match piece {
            Encoded::Text { bytes, .. } => {
                self.file.write_all(&bytes).map_err(|e| Error::io(path, e))
            }
            Encoded::Frame(df) => {
                let bytes = super::csv::format_rows(&df).map_err(|e| name_io(&path, e))?;
                self.file.write_all(&bytes).map_err(|e| Error::io(path, e))
            }
        }
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.file.commit()
    }
}

struct IpcSink {
    writer: FileWriter<PendingFile>,
    schema: SchemaRef,
    /// Rows per batch, and the pieces waiting to fill the next one.
    rows: usize,
    waiting: Vec<DataFrame>,
    waiting_rows: usize,
}

impl IpcSink {
    fn new(file: PendingFile, schema: &SchemaRef, o: &IpcWriteOptions) -> Result<Self> {
        let codec = match o.compression {
            IpcCompression::Uncompressed => None,
            IpcCompression::Lz4 => Some(arrow::ipc::CompressionType::LZ4_FRAME),
            IpcCompression::Zstd => Some(arrow::ipc::CompressionType::ZSTD),
        };
        let options = ArrowIpcOptions::default().try_with_compression(codec)?;
        let path = file.target().to_path_buf();
        let writer = FileWriter::try_new_with_options(file, schema, options)
            .map_err(|e| ipc_error(&path, e))?;
        Ok(Self {
            writer,
            schema: schema.clone(),
            rows: crate::exec::piece_rows([schema.as_ref()]),
            waiting: vec![],
            waiting_rows: 0,
        })
    }

    fn write_batch(&mut self, df: &DataFrame) -> Result<()> {
        let path = self.writer.get_ref().target().to_path_buf();
        let batch = df.to_record_batch()?;
        self.writer.write(&batch).map_err(|e| ipc_error(&path, e))
    }

    /// Write batches of `rows` rows from the waiting pieces (all of them when `all`).
    fn drain(&mut self, all: bool) -> Result<()> {
        while self.waiting_rows >= self.rows || (all && self.waiting_rows > 0) {
            let take = self.rows.min(self.waiting_rows);
            let joined = DataFrame::vstack(self.schema.clone(), &self.waiting)?;
            self.write_batch(&joined.slice(0, take))?;
            let rest = joined.slice(take, joined.height() - take);
            self.waiting_rows = rest.height();
            self.waiting = if rest.height() > 0 {
                vec![rest]
            } else {
                vec![]
            };
        }
        Ok(())
    }
}

fn ipc_error(path: &Path, e: arrow::error::ArrowError) -> Error {
    match e {
        arrow::error::ArrowError::IoError(_, source) => Error::io(path, source),
        e => Error::File {
            format: "Arrow IPC",
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    }
}

impl FileSink for IpcSink {
    fn write(&mut self, piece: Encoded) -> Result<()> {
        let Encoded::Frame(df) = piece else {
            return Err(Error::Internal("an IPC sink got text".into()));
        };
        if df.height() == 0 {
            return Ok(());
        }
        if self.waiting.is_empty() && df.height() == self.rows {
            // A piece of exactly a batch: written as it is.
            return self.write_batch(&df);
        }
        self.waiting_rows += df.height();
        self.waiting.push(df);
        self.drain(false)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.drain(true)?;
        let path = self.writer.get_ref().target().to_path_buf();
        self.writer.finish().map_err(|e| ipc_error(&path, e))?;
        let file = self.writer.into_inner().map_err(|e| ipc_error(&path, e))?;
        file.commit()
    }
}

struct ParquetSink {
    writer: Option<SerializedFileWriter<PendingFile>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    options: ParquetWriteOptions,
    path: PathBuf,
    /// The open row group's column writers (one per leaf column), rows and Arrow bytes.
    columns: Option<Vec<ArrowColumnWriter>>,
    row_groups: usize,
    rows: usize,
    bytes: usize,
}

impl ParquetSink {
    fn new(file: PendingFile, schema: &SchemaRef, o: &ParquetWriteOptions) -> Result<Self> {
        let path = file.target().to_path_buf();
        let stats = if o.statistics {
            EnabledStatistics::Page
        } else {
            EnabledStatistics::None
        };
        let props = WriterProperties::builder()
            .set_compression(o.compression.codec()?)
            .set_statistics_enabled(stats)
            .build();
        let (writer, factory) = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(|e| parquet_error(&path, e))?;
        Ok(Self {
            writer: Some(writer),
            factory,
            schema: schema.clone(),
            options: o.clone(),
            path,
            columns: None,
            row_groups: 0,
            rows: 0,
            bytes: 0,
        })
    }

    /// Encode `df` into the open row group (every column on its own worker).
    fn encode(&mut self, df: &DataFrame) -> Result<()> {
        let path = self.path.clone();
        if self.columns.is_none() {
            self.columns = Some(
                self.factory
                    .create_column_writers(self.row_groups)
                    .map_err(|e| parquet_error(&path, e))?,
            );
        }
        let mut leaves = Vec::with_capacity(df.width());
        for (field, column) in self.schema.fields().iter().zip(df.columns()) {
            leaves.extend(compute_leaves(field, column).map_err(|e| parquet_error(&path, e))?);
        }
        let columns = self
            .columns
            .as_mut()
            .ok_or_else(|| Error::Internal("parquet row group not open".into()))?;
        columns
            .par_iter_mut()
            .zip(leaves.par_iter())
            .try_for_each(|(w, leaf)| w.write(leaf))
            .map_err(|e| parquet_error(&path, e))?;
        self.rows += df.height();
        self.bytes += crate::exec::memory::frame_bytes(df);
        Ok(())
    }

    /// Close the open row group and write it out.
    fn end_row_group(&mut self) -> Result<()> {
        let Some(columns) = self.columns.take() else {
            return Ok(());
        };
        let path = self.path.clone();
        let chunks = columns
            .into_par_iter()
            .map(ArrowColumnWriter::close)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| parquet_error(&path, e))?;
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::Internal("parquet writer closed".into()))?;
        let mut rg = writer
            .next_row_group()
            .map_err(|e| parquet_error(&path, e))?;
        for c in chunks {
            c.append_to_row_group(&mut rg)
                .map_err(|e| parquet_error(&path, e))?;
        }
        rg.close().map_err(|e| parquet_error(&path, e))?;
        self.row_groups += 1;
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }

    /// Rows of `df` (from `start`) that still fit in the open row group.
    fn fitting(&self, df: &DataFrame, start: usize) -> usize {
        let left = df.height() - start;
        let by_rows = self
            .options
            .row_group_rows
            .map_or(left, |r| r.saturating_sub(self.rows));
        let per_row = crate::exec::memory::frame_bytes(df).div_ceil(df.height().max(1));
        let by_bytes = self.options.row_group_bytes.saturating_sub(self.bytes) / per_row.max(1);
        // A row group takes at least one row.
        left.min(by_rows).min(by_bytes.max(1))
    }
}

fn parquet_error(path: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::File {
        format: "Parquet",
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl FileSink for ParquetSink {
    fn write(&mut self, piece: Encoded) -> Result<()> {
        let Encoded::Frame(df) = piece else {
            return Err(Error::Internal("a Parquet sink got text".into()));
        };
        let mut start = 0;
        while start < df.height() {
            let n = self.fitting(&df, start);
            self.encode(&df.slice(start, n))?;
            start += n;
            let full_rows = self.options.row_group_rows.is_some_and(|r| self.rows >= r);
            if full_rows || self.bytes >= self.options.row_group_bytes || start < df.height() {
                self.end_row_group()?;
            }
        }
        Ok(())
    }

    fn buffered(&self) -> usize {
        self.columns
            .as_ref()
            .map_or(0, |c| c.iter().map(ArrowColumnWriter::memory_size).sum())
    }

    fn flush(&mut self) -> Result<()> {
        self.end_row_group()
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.end_row_group()?;
        let path = self.path.clone();
        let writer = self
            .writer
            .take()
            .ok_or_else(|| Error::Internal("parquet writer closed".into()))?;
        let file = writer.into_inner().map_err(|e| parquet_error(&path, e))?;
        file.commit()
    }
}
