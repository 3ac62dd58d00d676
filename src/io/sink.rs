//! Streaming file writers: what `sink_parquet`, `sink_ipc`, `sink_csv` and the CLI's
//! `--output` write into, piece by piece in row order, as the executor's sink driver hands
//! the pieces over (see `exec::sink`).
//!
//! Every writer writes into a temporary file next to the target ([`PendingFile`]) that is
//! renamed over the target only when the whole output is written; a writer dropped before
//! that (an error in any morsel, a full disk) removes it, so a failed query never leaves a
//! partial file, and an existing file at the target stays as it was.
//!
//! - Parquet ([`ParquetWriter`], in `parquet_writer`): row groups of 64 MiB of Arrow data by
//!   default (`ParquetWriteOptions`: a row count can cap them too), each column of a row group
//!   encoded on its own worker, with the chosen codec and min/max statistics (which predicate
//!   pushdown reads back). A row group is written out when it is full; until then only its
//!   encoded pages are held, or, for a wide schema, its Arrow columns.
//! - Arrow IPC ([`IpcWriter`], file or stream format): record batches of a fixed number of
//!   rows per schema (the executor's `piece_rows`), so a reader gets batches sized by bytes
//!   whatever pieces the query made; optionally LZ4- or zstd-compressed.
//! - CSV: a header line, then each piece's rows, formatted on the worker that made the piece.
//!
//! `io::write_parquet` and `io::write_ipc` write a frame in memory with the same writers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::ipc::writer::{FileWriter, IpcWriteOptions as ArrowIpcOptions, StreamWriter};

use super::ipc::{IpcCompression, IpcWriteOptions};
use super::parquet::ParquetWriteOptions;
pub use super::parquet_writer::ParquetWriter;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// The file format a sink writes, with its options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SinkFormat {
    /// CSV with a header row.
    Csv,
    /// Apache Parquet, with its writer options.
    Parquet(ParquetWriteOptions),
    /// Arrow IPC file, with its writer options.
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
        SinkFormat::Parquet(o) => Box::new(ParquetWriter::new(file, schema, o, path)?),
        SinkFormat::Ipc(o) => Box::new(IpcWriter::new(file, schema, o, path)?),
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

/// An IPC file or stream being written, in batches of a fixed number of rows.
pub struct IpcWriter<W: Write> {
    writer: IpcFormat<W>,
    path: PathBuf,
    schema: SchemaRef,
    /// Rows per batch, and the pieces waiting to fill the next one.
    rows: usize,
    waiting: Vec<DataFrame>,
    waiting_rows: usize,
}

enum IpcFormat<W: Write> {
    File(FileWriter<W>),
    Stream(StreamWriter<W>),
}

impl<W: Write> IpcWriter<W> {
    /// Start writing rows of `schema` to `w` (`path` names it in errors).
    pub fn new(w: W, schema: &SchemaRef, o: &IpcWriteOptions, path: &Path) -> Result<Self> {
        let codec = match o.codec() {
            IpcCompression::Uncompressed => None,
            IpcCompression::Lz4 => Some(arrow::ipc::CompressionType::LZ4_FRAME),
            IpcCompression::Zstd => Some(arrow::ipc::CompressionType::ZSTD),
        };
        let options = ArrowIpcOptions::default().try_with_compression(codec)?;
        let writer = if o.is_stream() {
            IpcFormat::Stream(
                StreamWriter::try_new_with_options(w, schema, options)
                    .map_err(|e| ipc_error(path, e))?,
            )
        } else {
            IpcFormat::File(
                FileWriter::try_new_with_options(w, schema, options)
                    .map_err(|e| ipc_error(path, e))?,
            )
        };
        Ok(Self {
            writer,
            path: path.to_path_buf(),
            schema: schema.clone(),
            rows: crate::memory::piece_rows([schema.as_ref()]),
            waiting: vec![],
            waiting_rows: 0,
        })
    }

    fn write_batch(&mut self, df: &DataFrame) -> Result<()> {
        let batch = df.to_record_batch()?;
        match &mut self.writer {
            IpcFormat::File(w) => w.write(&batch),
            IpcFormat::Stream(w) => w.write(&batch),
        }
        .map_err(|e| ipc_error(&self.path, e))
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

    /// Write the next rows.
    pub fn write_frame(&mut self, df: &DataFrame) -> Result<()> {
        if df.height() == 0 {
            return Ok(());
        }
        if self.waiting.is_empty() && df.height() <= self.rows {
            if df.height() == self.rows {
                // A piece of exactly a batch: written as it is.
                return self.write_batch(df);
            }
        } else if self.waiting.is_empty() {
            // A frame larger than a batch: its whole batches go out as slices.
            let whole = df.height() / self.rows * self.rows;
            for start in (0..whole).step_by(self.rows) {
                self.write_batch(&df.slice(start, self.rows))?;
            }
            if whole < df.height() {
                self.waiting_rows = df.height() - whole;
                self.waiting.push(df.slice(whole, df.height() - whole));
            }
            return Ok(());
        }
        self.waiting_rows += df.height();
        self.waiting.push(df.clone());
        self.drain(false)
    }

    /// Write what is left and the footer; returns the writer.
    pub fn finish(mut self) -> Result<W> {
        self.drain(true)?;
        let path = self.path.clone();
        match self.writer {
            IpcFormat::File(mut w) => {
                w.finish().map_err(|e| ipc_error(&path, e))?;
                w.into_inner().map_err(|e| ipc_error(&path, e))
            }
            IpcFormat::Stream(mut w) => {
                w.finish().map_err(|e| ipc_error(&path, e))?;
                w.into_inner().map_err(|e| ipc_error(&path, e))
            }
        }
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

impl FileSink for IpcWriter<PendingFile> {
    fn write(&mut self, piece: Encoded) -> Result<()> {
        match piece {
            Encoded::Frame(df) => self.write_frame(&df),
            Encoded::Text { .. } => Err(Error::Internal("an IPC sink got text".into())),
        }
    }

    fn finish(self: Box<Self>) -> Result<()> {
        IpcWriter::finish(*self)?.commit()
    }
}

impl FileSink for ParquetWriter<PendingFile> {
    fn write(&mut self, piece: Encoded) -> Result<()> {
        match piece {
            Encoded::Frame(df) => self.write_frame(&df),
            Encoded::Text { .. } => Err(Error::Internal("a Parquet sink got text".into())),
        }
    }

    fn buffered(&self) -> usize {
        ParquetWriter::buffered(self)
    }

    fn flush(&mut self) -> Result<()> {
        self.end_row_group()
    }

    fn finish(self: Box<Self>) -> Result<()> {
        ParquetWriter::finish(*self)?.commit()
    }
}
