//! Parquet reader and writer. A morsel is a row group; only projected columns are decoded,
//! and row groups are decoded in parallel by the executor. Row groups whose statistics prove
//! the scan predicate false are skipped (`parquet_prune`), and a scan limit stops decoding
//! once enough rows are read. Flat numeric columns are decoded by `parquet_pages` rather than
//! parquet's arrow reader.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::MorselSource;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::frame::DataFrame;

fn perr(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File {
        format: "Parquet",
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

/// Read the footer's metadata (schema, row groups, statistics).
pub fn read_metadata(path: &Path) -> Result<ArrowReaderMetadata> {
    let file = open_file(path)?;
    ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| perr(path, e))
}

/// The file's Arrow schema, from the footer alone.
pub fn read_schema(path: &Path) -> Result<SchemaRef> {
    let meta = read_metadata(path)?;
    // Drop file-level metadata so schemas compare equal to in-memory ones.
    let fields: Vec<_> = meta.schema().fields().iter().cloned().collect();
    Ok(Arc::new(Schema::new(fields)))
}

struct ParquetMorsels {
    path: PathBuf,
    meta: ArrowReaderMetadata,
    schema: SchemaRef,
    mask: ProjectionMask,
    /// The decoded root columns, in file order.
    #[cfg_attr(not(unix), allow(dead_code))]
    roots: Vec<usize>,
    /// Output position -> position among the decoded (file-ordered) columns.
    order: Vec<usize>,
    /// The row groups to read, each with how many of its leading rows are needed (all of
    /// them unless a limit cuts the last one short).
    row_groups: Vec<(usize, usize)>,
}

/// Open `path` for the given columns, skipping row groups where `predicate` is provably
/// false, and (when `limit` is set) reading only the leading rows that cover it. With a
/// predicate the limit counts passing rows, unknown before decoding, so it trims nothing here;
/// the executor then pulls row groups lazily.
pub fn open(
    path: &Path,
    schema: &SchemaRef,
    columns: &[String],
    predicate: Option<&Expr>,
    limit: Option<usize>,
) -> Result<Box<dyn MorselSource>> {
    let meta = read_metadata(path)?;
    let file_schema = meta.schema().clone();
    let mut indices: Vec<usize> = columns
        .iter()
        .map(|c| {
            file_schema.index_of(c).map_err(|_| {
                Error::column_not_found(c, schema.fields().iter().map(|f| f.name().as_str()))
            })
        })
        .collect::<Result<_>>()?;
    let requested = indices.clone();
    indices.sort_unstable();
    indices.dedup();
    let order = requested
        .iter()
        .map(|i| indices.iter().position(|j| j == i).unwrap_or(0))
        .collect();
    let mask = ProjectionMask::roots(
        meta.metadata().file_metadata().schema_descr(),
        indices.iter().copied(),
    );
    let out_schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| schema.field_with_name(c).cloned())
            .collect::<std::result::Result<Vec<_>, _>>()?,
    ));
    let kept = super::parquet_prune::kept_row_groups(predicate, meta.metadata(), schema);
    let mut row_groups = Vec::with_capacity(kept.len());
    let mut left = match (limit, predicate) {
        (Some(n), None) => n,
        _ => usize::MAX,
    };
    for rg in kept {
        if left == 0 {
            break;
        }
        let rows = usize::try_from(meta.metadata().row_group(rg).num_rows()).unwrap_or(0);
        row_groups.push((rg, rows.min(left)));
        left = left.saturating_sub(rows);
    }
    Ok(Box::new(ParquetMorsels {
        path: path.to_path_buf(),
        meta,
        schema: out_schema,
        mask,
        roots: indices,
        order,
        row_groups,
    }))
}

impl ParquetMorsels {
    /// Decode morsel `i` (its row group's needed rows) in batches of `batch` rows.
    fn batches(
        &self,
        i: usize,
        batch: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        let (rg, rows) = self.row_groups[i];
        // A file handle per morsel; the decoder reads page by page, so each page is
        // decompressed and decoded while still in cache. Tried and measured slower on the seed
        // file: a memory map (mapping and unmapping pages cost more than the copy) and reading
        // each needed column chunk whole before decoding it (the chunk leaves the cache).
        #[cfg(unix)]
        let file = PageFile::open(&self.path)?;
        // Flat numeric columns skip the arrow reader (see `parquet_pages` for why).
        #[cfg(unix)]
        if let Some(fast) =
            super::parquet_pages::plan(&self.meta, rg, &self.roots, &self.schema, &self.order)
        {
            return fast.read(
                &file.file,
                file.len,
                &self.path,
                rows,
                batch,
                &mut |arrays| {
                    let cols = self.order.iter().filter_map(|&j| arrays.get(j).cloned());
                    f(DataFrame::from_arrays(self.schema.clone(), cols.collect())?)
                },
            );
        }
        #[cfg(not(unix))]
        let file = open_file(&self.path)?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_projection(self.mask.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(batch.max(1))
            .with_limit(rows)
            .build()
            .map_err(|e| perr(&self.path, e))?;
        for b in reader {
            let b = b.map_err(|e| perr(&self.path, format!("row group {rg}: {e}")))?;
            let cols = self.order.iter().map(|&j| b.column(j).clone()).collect();
            f(DataFrame::from_arrays(self.schema.clone(), cols)?)?;
        }
        Ok(())
    }
}

/// One morsel's file for the parquet decoder. Through `File`'s own `ChunkReader`, every page
/// cost a `dup`, an `lseek` and an 8 KiB buffered read for its header, then another `dup` and
/// `lseek` for its body. Here a header is read through a small buffer at its position and a
/// body with one positioned read, on the one handle.
#[cfg(unix)]
struct PageFile {
    file: Arc<File>,
    len: u64,
}

#[cfg(unix)]
impl PageFile {
    fn open(path: &Path) -> Result<Self> {
        let file = open_file(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        Ok(Self {
            file: Arc::new(file),
            len,
        })
    }
}

/// Reads from a position of a shared file with `pread`, so readers never disturb each other.
#[cfg(unix)]
struct PositionedRead {
    file: Arc<File>,
    pos: u64,
}

#[cfg(unix)]
impl std::io::Read for PositionedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
impl parquet::file::reader::Length for PageFile {
    fn len(&self) -> u64 {
        self.len
    }
}

#[cfg(unix)]
impl parquet::file::reader::ChunkReader for PageFile {
    type T = std::io::BufReader<PositionedRead>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        // Page headers are tens of bytes; a larger buffer only copies the body twice.
        Ok(std::io::BufReader::with_capacity(
            1024,
            PositionedRead {
                file: self.file.clone(),
                pos: start,
            },
        ))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        use std::io::{Read, Seek, SeekFrom};
        // Read into spare capacity: `read_to_end` hands `File` the uninitialised space, where
        // a zeroed `vec!` cost a memset of every page body before the read overwrote it.
        // Seeking the shared handle is safe here because a morsel's handle serves one decoder,
        // and header reads use `pread`, which ignores the file offset.
        let mut buf = Vec::with_capacity(length);
        let mut file = &*self.file;
        file.seek(SeekFrom::Start(start))?;
        file.take(length as u64).read_to_end(&mut buf)?;
        if buf.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "page at byte {start}: expected {length} bytes, file ends after {}",
                buf.len()
            )));
        }
        Ok(bytes::Bytes::from(buf))
    }
}

impl MorselSource for ParquetMorsels {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.row_groups.len()
    }

    fn morsel_rows(&self, i: usize) -> Option<usize> {
        self.row_groups.get(i).map(|rg| rg.1)
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let rows = self.row_groups[i].1;
        let mut parts = Vec::with_capacity(1);
        self.batches(i, rows, &mut |df| {
            parts.push(df);
            Ok(())
        })?;
        match parts.len() {
            0 => Ok(DataFrame::empty(self.schema.clone())),
            1 => Ok(parts.swap_remove(0)),
            _ => DataFrame::vstack(self.schema.clone(), &parts),
        }
    }

    fn for_each_piece(
        &self,
        i: usize,
        rows: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        // Batches of exactly `rows` rows from the row group's start: the same pieces as
        // cutting the decoded row group, decoded one at a time.
        let mut any = false;
        self.batches(i, rows, &mut |df| {
            any = true;
            f(df)
        })?;
        if !any {
            f(DataFrame::empty(self.schema.clone()))?;
        }
        Ok(())
    }
}

/// Write `df` as one Parquet file (snappy, 1M-row row groups).
pub fn write<W: Write + Send>(df: &DataFrame, w: &mut W) -> Result<()> {
    write_with_row_groups(df, w, 1 << 20)
}

/// Write `df` as Parquet (snappy) with row groups of at most `rows` rows (with min/max
/// statistics, which predicate pushdown uses to skip row groups).
pub fn write_with_row_groups<W: Write + Send>(
    df: &DataFrame,
    w: &mut W,
    rows: usize,
) -> Result<()> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(rows.max(1)))
        .build();
    let batch = df.to_record_batch()?;
    let mut writer = ArrowWriter::try_new(w, df.schema().clone(), Some(props))
        .map_err(|e| Error::Internal(format!("parquet writer: {e}")))?;
    writer
        .write(&batch)
        .map_err(|e| Error::Internal(format!("parquet write: {e}")))?;
    writer
        .close()
        .map_err(|e| Error::Internal(format!("parquet close: {e}")))?;
    Ok(())
}
