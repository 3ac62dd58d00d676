//! Parquet reader and writer. A morsel is a row group; only projected columns are decoded,
//! and row groups are decoded in parallel by the executor, the columns of each side by side
//! when the pool has threads to spare (`parquet_columns`), and the pages of a flat numeric
//! column in ranges when there are more threads than columns and row groups
//! (`parquet_pages::ranges`). Row groups whose statistics prove the scan predicate false are
//! skipped (`parquet_prune`), and a scan limit stops decoding once enough rows are read. Flat
//! numeric columns are decoded by `parquet_pages` rather than parquet's arrow reader.
//!
//! Files from other writers: every codec pyarrow reads (snappy, gzip, brotli, lz4, lz4_raw,
//! zstd) reads here and [`ParquetWriteOptions`] writes each. Nested columns (lists, structs,
//! maps, legacy repeated fields) read as Arrow's nested types. A footer that parquet's strict
//! Thrift decoder rejects is read a second time leniently (`parquet_footer`). INT96
//! timestamps (Spark, Impala, Hive) read as **microseconds** (`Timestamp(µs)`), not the
//! nanoseconds Arrow readers default to: Spark writes them at microsecond precision, and
//! dates past 2262 (Spark's `9999-12-31` sentinels) overflow nanoseconds into different dates.
//! Microseconds hold every date within ±290,000 years exactly, as DuckDB and Spark read them;
//! sub-microsecond digits, which Spark never writes, are dropped.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::parquet_dictionary::with_coded_strings;
pub(crate) use super::parquet_dictionary::{coded_strings, dictionary_encoded, with_coded_columns};
use super::parquet_footer::FooterByRowGroup;
pub use super::parquet_writer::ParquetWriteOptions;
use super::MorselSource;
use crate::error::{Error, Result};
use crate::expr::lookup::NameIndex;
use crate::expr::Expr;
use crate::frame::DataFrame;
use crate::memory::MemoryPool;

pub(super) fn perr(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File {
        format: "Parquet",
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub(super) fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

/// Read the footer's metadata (schema, row groups, statistics).
pub fn read_metadata(path: &Path) -> Result<ArrowReaderMetadata> {
    let file = open_file(path)?;
    let meta = match ParquetMetaDataReader::new().parse_and_finish(&file) {
        Ok(m) => m,
        Err(strict) => lenient_metadata(path, &file).map_err(|_| perr(path, strict))?,
    };
    check_chunks(path, &file, &meta, 0)?;
    arrow_metadata(path, meta)
}

/// A footer's metadata as the Arrow reader takes it (row count fixed, INT96 as microseconds).
pub(super) fn arrow_metadata(path: &Path, meta: ParquetMetaData) -> Result<ArrowReaderMetadata> {
    let meta = Arc::new(with_row_count(meta));
    let plain = ArrowReaderMetadata::try_new(meta.clone(), ArrowReaderOptions::new())
        .map_err(|e| perr(path, e))?;
    match int96_as_micros(&plain) {
        None => Ok(plain),
        Some(schema) => {
            ArrowReaderMetadata::try_new(meta, ArrowReaderOptions::new().with_schema(schema))
                .map_err(|e| perr(path, e))
        }
    }
}

/// Every column chunk must lie inside the file: parquet's reader asserts on negative offsets
/// and sizes (a panic) and reads out of range otherwise. Errors number `meta`'s row groups
/// from `first` (a footer decoded for one row group holds it as its row group 0).
pub(super) fn check_chunks(
    path: &Path,
    file: &File,
    meta: &ParquetMetaData,
    first: usize,
) -> Result<()> {
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len() as i64;
    for (r, rg) in meta.row_groups().iter().enumerate() {
        for (c, chunk) in rg.columns().iter().enumerate() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let size = chunk.compressed_size();
            if start < 0 || size < 0 || start.checked_add(size).is_none_or(|end| end > len) {
                return Err(perr(
                    path,
                    format!(
                        "row group {}, column {c}: a {size}-byte chunk at byte {start} lies \
                         outside the {len}-byte file",
                        first + r
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `meta` with the file's row count set to its row groups' total where the footer says less
/// (early parquet-rs wrote 0): the arrow reader caps its batch size at that count and read no
/// rows at all, where pyarrow reads them (`repeated_no_annotation.parquet`).
fn with_row_count(meta: ParquetMetaData) -> ParquetMetaData {
    let fm = meta.file_metadata();
    let total: i64 = meta
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows().max(0))
        .sum();
    if fm.num_rows() >= total {
        return meta;
    }
    let fixed = parquet::file::metadata::FileMetaData::new(
        fm.version(),
        total,
        fm.created_by().map(str::to_string),
        fm.key_value_metadata().cloned(),
        fm.schema_descr_ptr(),
        fm.column_orders().cloned(),
    );
    ParquetMetaData::new(fixed, meta.row_groups().to_vec())
}

/// The footer read again through `parquet_footer::sanitize` (see there for what it forgives).
fn lenient_metadata(path: &Path, file: &File) -> Result<ParquetMetaData> {
    let (_, footer) = footer_bytes(path, file)?;
    let fixed = super::parquet_footer::sanitize(&footer).map_err(|e| perr(path, e))?;
    ParquetMetaDataReader::decode_metadata(&fixed).map_err(|e| perr(path, e))
}

/// The footer's serialized bytes, and where they start in the file.
pub(super) fn footer_bytes(path: &Path, file: &File) -> Result<(u64, Vec<u8>)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    let io = |e| Error::io(path, e);
    let len = file.metadata().map_err(io)?.len();
    let mut tail = [0u8; 8];
    let tail_at = len.checked_sub(8).ok_or_else(|| perr(path, "too short"))?;
    file.seek(SeekFrom::Start(tail_at)).map_err(io)?;
    file.read_exact(&mut tail).map_err(io)?;
    if &tail[4..] != b"PAR1" {
        return Err(perr(path, "no Parquet magic at the end"));
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    let start = len
        .checked_sub(8 + footer_len)
        .ok_or_else(|| perr(path, "footer longer than the file"))?;
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    file.read_exact(&mut footer).map_err(io)?;
    Ok((start, footer))
}

/// The Arrow schema with top-level INT96 columns as microsecond timestamps (see the module
/// docs), or `None` when the file has none.
fn int96_as_micros(meta: &ArrowReaderMetadata) -> Option<SchemaRef> {
    let roots = meta
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields();
    let mut changed = false;
    let fields: Vec<Field> = meta
        .schema()
        .fields()
        .iter()
        .zip(roots)
        .map(|(f, root)| {
            let int96 =
                root.is_primitive() && root.get_physical_type() == parquet::basic::Type::INT96;
            match f.data_type() {
                DataType::Timestamp(TimeUnit::Nanosecond, tz) if int96 => {
                    changed = true;
                    f.as_ref()
                        .clone()
                        .with_data_type(DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))
                }
                _ => f.as_ref().clone(),
            }
        })
        .collect();
    changed.then(|| {
        Arc::new(Schema::new_with_metadata(
            fields,
            meta.schema().metadata().clone(),
        ))
    })
}

/// The file's Arrow schema, from the footer alone, as scans present it (`io::scan_schema`).
pub fn read_schema(path: &Path) -> Result<SchemaRef> {
    let meta = read_metadata(path)?;
    Ok(Arc::new(super::scan_schema(meta.schema())))
}

struct ParquetMorsels {
    path: PathBuf,
    /// The footer, held decoded; or, when `by_row_group` is set, without its row groups.
    meta: ArrowReaderMetadata,
    by_row_group: Option<FooterByRowGroup>,
    /// Each row group's compressed bytes, by morsel.
    compressed: Vec<usize>,
    schema: SchemaRef,
    mask: ProjectionMask,
    /// The decoded root columns, in file order.
    roots: Vec<usize>,
    /// Output position -> position among the decoded (file-ordered) columns.
    order: Vec<usize>,
    /// The row groups to read, each with how many of its leading rows are needed (all of
    /// them unless a limit cuts the last one short).
    row_groups: Vec<(usize, usize)>,
    /// The run's budget, for what the decoder holds beyond a piece per column.
    memory: Option<Arc<MemoryPool>>,
}

/// [`open_coded`] with every column read as `schema` says.
#[cfg(test)]
pub(crate) fn open(
    path: &Path,
    schema: &SchemaRef,
    columns: &[String],
    predicate: Option<&Expr>,
    limit: Option<usize>,
) -> Result<Box<dyn MorselSource>> {
    open_coded(path, schema, columns, predicate, limit, &[], None)
}

/// Open `path` for the given columns, skipping row groups where `predicate` is provably
/// false, and (when `limit` is set) reading only the leading rows that cover it. With a
/// predicate the limit counts passing rows, unknown before decoding, so it trims nothing here;
/// the executor then pulls row groups lazily. The string columns named in `coded` are read as
/// [`coded_strings`] (dictionary codes), whatever `schema` says. What the decoder holds
/// beyond a piece per column is reserved from `memory` first (see `parquet_pages`).
pub(crate) fn open_coded(
    path: &Path,
    schema: &SchemaRef,
    columns: &[String],
    predicate: Option<&Expr>,
    limit: Option<usize>,
    coded: &[String],
    memory: Option<Arc<MemoryPool>>,
) -> Result<Box<dyn MorselSource>> {
    let meta = read_metadata(path)?;
    let file_schema = meta.schema().clone();
    // Names looked up through maps, not `index_of` per column: a file may have 10,000 columns,
    // and a scan of all of them would compare names 50 million times.
    let in_file = NameIndex::new(&file_schema);
    let in_scan = NameIndex::new(schema);
    let mut indices: Vec<usize> = columns
        .iter()
        .map(|c| {
            in_file.position(c).ok_or_else(|| {
                Error::column_not_found(c, schema.fields().iter().map(|f| f.name().as_str()))
            })
        })
        .collect::<Result<_>>()?;
    let requested = indices.clone();
    indices.sort_unstable();
    indices.dedup();
    let order = requested
        .iter()
        .map(|i| indices.binary_search(i).unwrap_or(0))
        .collect();
    let mask = ProjectionMask::roots(
        meta.metadata().file_metadata().schema_descr(),
        indices.iter().copied(),
    );
    let out_schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| match in_scan.position(c) {
                Some(i) if coded.contains(c) => {
                    Ok(schema.field(i).clone().with_data_type(coded_strings()))
                }
                Some(i) => Ok(schema.field(i).clone()),
                None => Err(Error::column_not_found(
                    c,
                    schema.fields().iter().map(|f| f.name().as_str()),
                )),
            })
            .collect::<Result<Vec<_>>>()?,
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
    let compressed = row_groups
        .iter()
        .map(|&(rg, _)| meta.metadata().row_group(rg).compressed_size().max(0) as usize)
        .collect();
    let by_row_group = FooterByRowGroup::new(path, meta.metadata(), coded)?;
    let meta = match by_row_group {
        // Only the schema is kept: the row groups are decoded again one at a time.
        Some(_) => {
            let md = meta.metadata();
            let skeleton = ParquetMetaData::new(md.file_metadata().clone(), vec![]);
            ArrowReaderMetadata::try_new(
                Arc::new(skeleton),
                ArrowReaderOptions::new().with_schema(meta.schema().clone()),
            )
            .map_err(|e| perr(path, e))?
        }
        None => with_coded_strings(&meta, coded).unwrap_or(meta),
    };
    Ok(Box::new(ParquetMorsels {
        path: path.to_path_buf(),
        meta,
        by_row_group,
        compressed,
        schema: out_schema,
        mask,
        roots: indices,
        order,
        row_groups,
        memory,
    }))
}

impl ParquetMorsels {
    /// A piece's columns as a frame of the scan's schema: a column to be read as dictionary
    /// codes that came as strings (the reader refused the hint, or a decoder that reads
    /// strings took the row group) is encoded here.
    fn conform(&self, mut cols: Vec<ArrayRef>) -> Result<DataFrame> {
        for (c, f) in cols.iter_mut().zip(self.schema.fields()) {
            if c.data_type() != f.data_type() && *f.data_type() == coded_strings() {
                *c = arrow::compute::cast(c, f.data_type())?;
            }
        }
        DataFrame::from_arrays(self.schema.clone(), cols)
    }

    /// Decode morsel `i` (its row group's needed rows) in batches of `batch` rows.
    fn batches(
        &self,
        i: usize,
        batch: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        // The footer's row count is what the executor planned for: pages that hold another
        // count are a malformed file, not a short morsel.
        let (rg, rows) = self.row_groups[i];
        let mut seen = 0usize;
        self.decode(i, batch, &mut |df| {
            seen += df.height();
            f(df)
        })?;
        if seen != rows {
            return Err(perr(
                &self.path,
                format!("row group {rg}: the footer says {rows} rows, its pages hold {seen}"),
            ));
        }
        Ok(())
    }

    fn decode(
        &self,
        i: usize,
        batch: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        let (rg, rows) = self.row_groups[i];
        // The footer of this row group, and its index there.
        let held;
        let (meta, at) = match &self.by_row_group {
            Some(footer) => {
                held = footer.row_group(&self.path, rg)?;
                (&held, 0)
            }
            None => (&self.meta, rg),
        };
        // A file handle per morsel; the decoder reads page by page, so each page is
        // decompressed and decoded while still in cache. Tried and measured slower on the seed
        // file: a memory map (mapping and unmapping pages cost more than the copy) and reading
        // each needed column chunk whole before decoding it (the chunk leaves the cache).
        #[cfg(unix)]
        let file = PageFile::open(&self.path)?;
        // Flat numeric columns skip the arrow reader (see `parquet_pages` for why).
        #[cfg(unix)]
        if let Some(fast) =
            super::parquet_pages::plan(meta, at, &self.roots, &self.schema, &self.order)
        {
            return fast
                .in_scan(self.row_groups.len(), self.memory.clone())
                .numbered(rg)
                .read(
                    &file.file,
                    file.len,
                    &self.path,
                    rows,
                    batch,
                    &mut |arrays| {
                        let cols = self.order.iter().filter_map(|&j| arrays.get(j).cloned());
                        f(self.conform(cols.collect())?)
                    },
                );
        }
        // Columns side by side when the pool has threads to spare (`parquet_columns`); one
        // reader for all columns otherwise, as it reads fastest on one thread.
        if super::parquet_columns::parallel(self.roots.len()) {
            #[cfg(unix)]
            let open = || PageFile::open(&self.path);
            #[cfg(not(unix))]
            let open = || open_file(&self.path);
            let shape = (at, rg, rows, batch);
            return super::parquet_columns::read_by_column(
                &self.path,
                meta,
                shape,
                &self.roots,
                open,
                &mut |arrays| {
                    let cols = self.order.iter().filter_map(|&j| arrays.get(j).cloned());
                    f(self.conform(cols.collect())?)
                },
            );
        }
        #[cfg(not(unix))]
        let file = open_file(&self.path)?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
            .with_projection(self.mask.clone())
            .with_row_groups(vec![at])
            .with_batch_size(batch.max(1))
            .with_limit(rows)
            .build()
            .map_err(|e| perr(&self.path, e))?;
        for b in reader {
            let b = b.map_err(|e| perr(&self.path, format!("row group {rg}: {e}")))?;
            let cols = self.order.iter().map(|&j| b.column(j).clone()).collect();
            f(self.conform(cols)?)?;
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
///
/// A read at or past the end of the file is an error, not `Ok(0)`: a column chunk is always
/// followed by the footer, so only a malformed page header reads that far, and parquet's
/// thrift reader skips a field's bytes with `io::copy`, which takes `Ok(0)` as done. A damaged
/// header declaring a list of 2^31 doubles then cost 2^31 `pread` calls at the end of the file
/// (a hang the fuzzer found) instead of one error.
#[cfg(unix)]
struct PositionedRead {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

#[cfg(unix)]
impl std::io::Read for PositionedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        if self.pos >= self.len && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "a page header runs past the end of the file ({} bytes)",
                    self.len
                ),
            ));
        }
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
                len: self.len,
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
        // The executor allocates the morsel's output from this count before decoding: a
        // corrupt footer's count that no page could hold is not passed on (the decode then
        // reports the mismatch).
        let (_, rows) = *self.row_groups.get(i)?;
        let bytes = self.compressed[i];
        (rows <= bytes.saturating_mul(8192).saturating_add(1 << 16)).then_some(rows)
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let rows = self.row_groups[i].1;
        let mut parts = Vec::with_capacity(1);
        // The arrow reader reserves a batch's worth of values up front.
        self.batches(i, rows.min(1 << 20), &mut |df| {
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

/// A Parquet sink's compression codec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParquetCompression {
    /// No compression.
    Uncompressed,
    #[default]
    /// Snappy (the default, as Polars and pyarrow).
    Snappy,
    /// Gzip (levels 0-10).
    Gzip,
    /// Brotli (levels 0-11; needs the default `brotli` feature).
    Brotli,
    /// LZ4 block format (`LZ4_RAW`), the LZ4 codec current readers expect.
    Lz4Raw,
    /// Zstandard (levels 1-22).
    Zstd,
}

impl ParquetCompression {
    /// The codec named `name` (`uncompressed`/`none`, `snappy`, `gzip`, `brotli`, `lz4`
    /// (written as LZ4_RAW), `zstd`), as pyarrow and Polars name them.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "uncompressed" | "none" => Self::Uncompressed,
            "snappy" => Self::Snappy,
            "gzip" => Self::Gzip,
            "brotli" => Self::Brotli,
            "lz4" | "lz4_raw" => Self::Lz4Raw,
            "zstd" => Self::Zstd,
            other => {
                return Err(Error::Plan(format!(
                    "unknown Parquet compression \"{other}\": use uncompressed, snappy, gzip, \
                     brotli, lz4 or zstd"
                )))
            }
        })
    }

    /// The parquet crate's codec, at `level` where the codec has levels (gzip 0-10, brotli
    /// 0-11, zstd 1-22; each codec's default otherwise).
    pub(crate) fn codec_at(self, level: Option<i32>) -> Result<Compression> {
        let bad = |e: parquet::errors::ParquetError| {
            Error::Plan(format!("{self:?} compression level {level:?}: {e}"))
        };
        let unsigned = |l: i32| {
            u32::try_from(l).map_err(|_| Error::Plan(format!("{self:?} levels are not negative")))
        };
        Ok(match (self, level) {
            (Self::Uncompressed, _) => Compression::UNCOMPRESSED,
            (Self::Snappy, _) => Compression::SNAPPY,
            (Self::Lz4Raw, _) => Compression::LZ4_RAW,
            (Self::Gzip, None) => Compression::GZIP(GzipLevel::default()),
            (Self::Gzip, Some(l)) => {
                Compression::GZIP(GzipLevel::try_new(unsigned(l)?).map_err(bad)?)
            }
            (Self::Brotli, None) => Compression::BROTLI(BrotliLevel::default()),
            (Self::Brotli, Some(l)) => {
                Compression::BROTLI(BrotliLevel::try_new(unsigned(l)?).map_err(bad)?)
            }
            (Self::Zstd, None) => Compression::ZSTD(ZstdLevel::default()),
            (Self::Zstd, Some(l)) => Compression::ZSTD(ZstdLevel::try_new(l).map_err(bad)?),
        })
    }
}

/// Write `df` as one Parquet file (snappy, 64 MiB row groups).
pub fn write<W: Write + Send>(df: &DataFrame, w: &mut W) -> Result<()> {
    write_with(df, w, &ParquetWriteOptions::default())
}

/// Write `df` as Parquet (snappy) with row groups of at most `rows` rows.
pub fn write_with_row_groups<W: Write + Send>(
    df: &DataFrame,
    w: &mut W,
    rows: usize,
) -> Result<()> {
    write_with(df, w, &ParquetWriteOptions::new().row_group_rows(rows))
}

/// Write `df` as Parquet with `options` (the streaming writer of `sink_parquet`, given the
/// frame piece by piece).
pub fn write_with<W: Write + Send>(
    df: &DataFrame,
    w: &mut W,
    options: &ParquetWriteOptions,
) -> Result<()> {
    let mut writer = super::sink::ParquetWriter::new(w, df.schema(), options, Path::new(""))?;
    writer.write_frame(df)?;
    writer.finish()?;
    Ok(())
}
