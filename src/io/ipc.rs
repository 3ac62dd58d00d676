//! Arrow IPC reader and writer, for both formats: the file format (Feather v2, `ARROW1` magic
//! and a footer listing the record batches) and the stream format (`pyarrow.ipc.new_stream`,
//! Arrow Flight, `.arrows` files: messages one after another, no footer). The format is told
//! by the first bytes, never by the extension. The file is memory-mapped; a stream's messages
//! are indexed at open by walking their length prefixes (no body is decoded), so both formats
//! then read alike: record batches are decoded zero-copy from the mapping, a morsel is a record
//! batch, projected on decode, and compressed bodies (lz4, zstd) are decompressed per batch.
//! Each batch's row count is read from its message header at open, so a pipeline can place its
//! output before decoding anything. A stream may replace or extend a dictionary between
//! batches; each batch is decoded with the dictionaries in force where it stands.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow::buffer::Buffer;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::convert::try_fb_to_schema;
use arrow::ipc::reader::{read_footer_length, FileDecoder};
use arrow::ipc::{root_as_footer, Block, MessageHeader, MetadataVersion};

use super::MorselSource;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

fn ierr(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File {
        format: "Arrow IPC",
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A file mapped into memory, and its bytes as an Arrow buffer (zero-copy).
struct Mapped {
    mmap: Arc<memmap2::Mmap>,
    buf: Buffer,
}

/// Map the whole file into an Arrow buffer without copying.
fn map_file(path: &Path) -> Result<Mapped> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
    if len == 0 {
        return Err(ierr(path, "file is empty"));
    }
    // SAFETY: the mapping is read-only and private to this process; if another process
    // truncates the file while it is mapped, reads fault (the same contract as every mmap-based
    // reader, documented on `scan_ipc`). The `Mmap` is kept alive by the buffer's owner Arc,
    // so the pointer stays valid for the buffer's lifetime.
    let mmap = Arc::new(unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?);
    let ptr = NonNull::new(mmap.as_ptr() as *mut u8)
        .ok_or_else(|| Error::Internal("mmap returned null".into()))?;
    // SAFETY: `ptr` points at `len` readable bytes owned by `mmap`, which the buffer keeps alive.
    let buf = unsafe { Buffer::from_custom_allocation(ptr, mmap.len(), mmap.clone()) };
    Ok(Mapped { mmap, buf })
}

/// The owner of one record batch's bytes in the mapping: when the last array decoded from
/// them is dropped, their pages leave the process's resident set (`MADV_DONTNEED`). A scan
/// touches every page of the file once; without this, a mapped file read to the end counts
/// whole in the process's RSS until the scan closes, beside whatever the query built from it
/// (a fit's 400 MB input copy of a 400 MB file peaked at 850 MB).
struct ReleasedOnDrop {
    mmap: Arc<memmap2::Mmap>,
    offset: usize,
    len: usize,
}

impl Drop for ReleasedOnDrop {
    fn drop(&mut self) {
        // SAFETY: the mapping is private, read-only and never written, so no page in it is a
        // modified private copy: after MADV_DONTNEED a later read of the range (another
        // array still decoded from it, a second pass decoding the batch again, a page it
        // shares with the next batch) faults the page back in from the file, with the same
        // bytes. The range lies inside the mapping (`block_data` checked it) and the mapping
        // outlives this call (`self.mmap`). A failed advice only leaves the pages resident.
        let _ = unsafe {
            self.mmap.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                self.offset,
                self.len,
            )
        };
    }
}

/// `data` (a slice of the mapping) as a buffer of its own, released on drop ([`ReleasedOnDrop`]).
fn released_on_drop(mmap: &Arc<memmap2::Mmap>, data: &Buffer) -> Buffer {
    let offset = data.as_ptr() as usize - mmap.as_ptr() as usize;
    let owner = Arc::new(ReleasedOnDrop {
        mmap: mmap.clone(),
        offset,
        len: data.len(),
    });
    match NonNull::new(data.as_ptr() as *mut u8) {
        // SAFETY: `data` is `len` readable bytes inside the mapping, which `owner` keeps alive.
        Some(ptr) => unsafe { Buffer::from_custom_allocation(ptr, data.len(), owner) },
        None => data.clone(),
    }
}

/// Where the messages of a file or stream are: the schema, the dictionary batches (each with
/// how many record batches came before it) and the record batches.
struct Index {
    schema: SchemaRef,
    version: MetadataVersion,
    dictionaries: Vec<(Block, usize)>,
    batches: Vec<Block>,
}

/// `ARROW1` then two padding bytes open the file format; a stream starts with a message.
fn is_file_format(buf: &[u8]) -> bool {
    buf.starts_with(b"ARROW1")
}

fn read_footer(path: &Path, buf: &Buffer) -> Result<Index> {
    if buf.len() < 10 {
        return Err(ierr(path, "too short to be an Arrow IPC file"));
    }
    let trailer_start = buf.len() - 10;
    let trailer: [u8; 10] = buf[trailer_start..]
        .try_into()
        .map_err(|_| ierr(path, "bad trailer"))?;
    let footer_len = read_footer_length(trailer).map_err(|e| ierr(path, e))?;
    if footer_len > trailer_start {
        return Err(ierr(path, "footer length past the start of the file"));
    }
    let footer = root_as_footer(&buf[trailer_start - footer_len..trailer_start])
        .map_err(|e| ierr(path, e))?;
    let schema = footer
        .schema()
        .ok_or_else(|| ierr(path, "footer has no schema"))?;
    let schema = try_fb_to_schema(schema).map_err(|e| ierr(path, e))?;
    Ok(Index {
        schema: Arc::new(schema),
        version: footer.version(),
        dictionaries: footer
            .dictionaries()
            .map(|d| d.iter().map(|b| (*b, 0)).collect())
            .unwrap_or_default(),
        batches: footer
            .recordBatches()
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default(),
    })
}

/// Walk a stream's messages (each a length-prefixed flatbuffer and its body) without decoding
/// any body, up to the end-of-stream marker or the end of the file.
fn read_stream(path: &Path, buf: &Buffer) -> Result<Index> {
    let at = |pos: usize, what: &str| ierr(path, format!("{what} at byte {pos}"));
    let mut pos = 0usize;
    let mut schema = None;
    let mut index = Index {
        schema: Arc::new(Schema::empty()),
        version: MetadataVersion::V5,
        dictionaries: Vec::new(),
        batches: Vec::new(),
    };
    while pos < buf.len() {
        let word = |p: usize| -> Result<u32> {
            let b = buf
                .get(p..p + 4)
                .ok_or_else(|| at(p, "truncated message length"))?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        // The continuation marker and the length, or (streams before Arrow 0.15) the length.
        let (prefix, len) = match word(pos)? {
            0xFFFF_FFFF => (8, word(pos + 4)?),
            n => (4, n),
        };
        if len == 0 {
            break;
        }
        let meta_end = usize::try_from(len)
            .ok()
            .and_then(|l| (pos + prefix).checked_add(l))
            .filter(|&e| e <= buf.len() && len <= i32::MAX as u32)
            .ok_or_else(|| at(pos, "message past the end of the file"))?;
        let message = arrow::ipc::root_as_message(&buf[pos + prefix..meta_end])
            .map_err(|e| at(pos, &format!("bad message: {e}")))?;
        let body = usize::try_from(message.bodyLength())
            .ok()
            .filter(|&b| meta_end.checked_add(b).is_some_and(|e| e <= buf.len()))
            .ok_or_else(|| at(pos, "message body past the end of the file"))?;
        let block = Block::new(pos as i64, (meta_end - pos) as i32, body as i64);
        match message.header_type() {
            MessageHeader::Schema if schema.is_none() => {
                let fb = message
                    .header_as_schema()
                    .ok_or_else(|| at(pos, "bad schema message"))?;
                schema = Some(try_fb_to_schema(fb).map_err(|e| at(pos, &e.to_string()))?);
                index.version = message.version();
            }
            MessageHeader::DictionaryBatch if schema.is_some() => {
                index.dictionaries.push((block, index.batches.len()));
            }
            MessageHeader::RecordBatch if schema.is_some() => index.batches.push(block),
            other => return Err(at(pos, &format!("unexpected {other:?} message"))),
        }
        pos = meta_end + body;
    }
    index.schema = Arc::new(schema.ok_or_else(|| ierr(path, "stream has no schema message"))?);
    Ok(index)
}

/// The file's or stream's messages, the format told by its first bytes.
fn read_index(path: &Path, buf: &Buffer) -> Result<Index> {
    if is_file_format(buf) {
        read_footer(path, buf)
    } else {
        read_stream(path, buf)
    }
}

/// The schema of an Arrow IPC file or stream (the file's footer, or the stream's first
/// message), whichever `path` holds.
pub fn read_schema(path: &Path) -> Result<SchemaRef> {
    let buf = map_file(path)?.buf;
    Ok(Arc::new(super::scan_schema(
        &read_index(path, &buf)?.schema,
    )))
}

struct IpcMorsels {
    path: PathBuf,
    mmap: Arc<memmap2::Mmap>,
    buf: Buffer,
    /// One decoder per set of dictionaries in force: a stream may replace or extend a
    /// dictionary between record batches; a file (and most streams) has one set.
    decoders: Vec<FileDecoder>,
    /// For each batch: its block and which decoder holds its dictionaries.
    batches: Vec<(Block, usize)>,
    /// Rows of each batch, from its message header (`None` where that could not be read; the
    /// decoder then reports the problem when the batch is decoded).
    rows: Vec<Option<usize>>,
    schema: SchemaRef,
}

/// Rows of the record batch in `block`, from its message header alone.
fn batch_rows(path: &Path, buf: &Buffer, block: &Block) -> Option<usize> {
    let data = block_data(path, buf, block).ok()?;
    let meta = data.get(..usize::try_from(block.metaDataLength()).ok()?)?;
    let fb = if meta.get(..4)? == [0xFF; 4] {
        meta.get(8..)?
    } else {
        meta.get(4..)?
    };
    let message = arrow::ipc::root_as_message(fb).ok()?;
    usize::try_from(message.header_as_record_batch()?.length()).ok()
}

/// Open `path` (memory-mapped; the file or the stream format) for the given columns.
pub(crate) fn open(
    path: &Path,
    schema: &SchemaRef,
    columns: &[String],
) -> Result<Box<dyn MorselSource>> {
    let Mapped { mmap, buf } = map_file(path)?;
    let index = read_index(path, &buf)?;
    // Positions by name, first of equal names as `index_of` (a map: files can be 10,000
    // columns wide, and a by-name scan per column would be quadratic).
    let mut position = std::collections::HashMap::new();
    for (i, f) in index.schema.fields().iter().enumerate() {
        position.entry(f.name().as_str()).or_insert(i);
    }
    let projection: Vec<usize> = columns
        .iter()
        .map(|c| {
            position.get(c.as_str()).copied().ok_or_else(|| {
                Error::column_not_found(c, schema.fields().iter().map(|f| f.name().as_str()))
            })
        })
        .collect::<Result<_>>()?;
    let out_schema = Arc::new(super::scan_schema(&index.schema).project(&projection)?);
    let every_column = projection.len() == index.schema.fields().len()
        && projection.iter().enumerate().all(|(i, &p)| i == p);
    // The dictionaries in force change only where a dictionary batch follows a record batch.
    let mut epochs: Vec<usize> = index.dictionaries.iter().map(|d| d.1).collect();
    epochs.dedup();
    if epochs.first() != Some(&0) {
        epochs.insert(0, 0);
    }
    let mut decoders = Vec::with_capacity(epochs.len());
    for &start in &epochs {
        let mut decoder = FileDecoder::new(index.schema.clone(), index.version);
        // arrow's decoder looks each column up in the projection (a linear search per
        // column and batch: quadratic in the width, 16-20% of a 10,000-column PCA's CPU), so
        // a scan of every column in file order goes without one.
        if !every_column {
            decoder = decoder.with_projection(projection.clone());
        }
        for (block, _) in index.dictionaries.iter().filter(|d| d.1 <= start) {
            let data = block_data(path, &buf, block)?;
            check_body(path, &data, block)?;
            decoder
                .read_dictionary(block, &data)
                .map_err(|e| ierr(path, e))?;
        }
        decoders.push(decoder);
    }
    let batches: Vec<(Block, usize)> = index
        .batches
        .iter()
        .enumerate()
        .map(|(i, b)| (*b, epochs.partition_point(|&s| s <= i) - 1))
        .collect();
    let rows = batches
        .iter()
        .map(|(b, _)| batch_rows(path, &buf, b))
        .collect();
    Ok(Box::new(IpcMorsels {
        path: path.to_path_buf(),
        mmap,
        buf,
        decoders,
        batches,
        rows,
        schema: out_schema,
    }))
}

/// The largest uncompressed buffer a compressed record batch may declare (4 GiB; a batch is
/// normally a few MiB).
const MAX_BUFFER: i64 = 1 << 32;

/// Check what arrow's decoder slices without checking: every buffer of the record batch (or
/// dictionary batch) in `data` must lie inside the message body, and node lengths must not be
/// negative. Malformed files otherwise panic inside the decoder.
fn check_body(path: &Path, data: &Buffer, block: &Block) -> Result<()> {
    let bad = |what: &str| ierr(path, format!("message at byte {}: {what}", block.offset()));
    let meta = usize::try_from(block.metaDataLength()).map_err(|_| bad("bad length"))?;
    let fb = match data.get(..4) {
        Some([0xFF, 0xFF, 0xFF, 0xFF]) => data.get(8..meta),
        _ => data.get(4..meta),
    }
    .ok_or_else(|| bad("message shorter than its prefix"))?;
    let message = arrow::ipc::root_as_message(fb).map_err(|e| bad(&e.to_string()))?;
    let batch = match message.header_type() {
        MessageHeader::RecordBatch => message.header_as_record_batch(),
        MessageHeader::DictionaryBatch => {
            message.header_as_dictionary_batch().and_then(|d| d.data())
        }
        _ => return Ok(()),
    };
    let Some(batch) = batch else {
        return Err(bad("message has no record batch"));
    };
    let body = block.bodyLength();
    for b in batch.buffers().iter().flatten() {
        let end = b.offset().checked_add(b.length());
        if b.offset() < 0 || b.length() < 0 || end.is_none_or(|e| e > body) {
            return Err(bad(&format!(
                "buffer of {} bytes at {} lies outside the {body}-byte body",
                b.length(),
                b.offset()
            )));
        }
        // A compressed buffer opens with its uncompressed length, which the decoder allocates
        // up front: a corrupt one aborted the process on a failed allocation.
        if batch.compression().is_some() && b.length() >= 8 {
            let at = meta + b.offset() as usize;
            let declared = data
                .get(at..at + 8)
                .map(|x| i64::from_le_bytes(x.try_into().unwrap_or([0; 8])))
                .unwrap_or(0);
            if declared > MAX_BUFFER {
                return Err(bad(&format!(
                    "a compressed buffer claims {declared} bytes uncompressed (at most {MAX_BUFFER} are read)"
                )));
            }
        }
    }
    if batch.length() < 0
        || batch
            .nodes()
            .iter()
            .flatten()
            .any(|n| n.length() < 0 || n.null_count() < 0)
    {
        return Err(bad("negative length"));
    }
    Ok(())
}

/// The bytes of `block` (its message and body), checked to lie inside the file and to hold at
/// least a message prefix, which the decoder reads unchecked.
fn block_data(path: &Path, buf: &Buffer, block: &Block) -> Result<Buffer> {
    let start = usize::try_from(block.offset()).map_err(|_| ierr(path, "negative block offset"))?;
    let meta = usize::try_from(block.metaDataLength())
        .ok()
        .filter(|&m| m >= 8)
        .ok_or_else(|| ierr(path, "bad message length in a block"))?;
    let body =
        usize::try_from(block.bodyLength()).map_err(|_| ierr(path, "negative body length"))?;
    match meta
        .checked_add(body)
        .and_then(|len| Some((len, start.checked_add(len)?)))
    {
        Some((len, end)) if end <= buf.len() => Ok(buf.slice_with_length(start, len)),
        _ => Err(ierr(path, "record batch block past the end of the file")),
    }
}

impl MorselSource for IpcMorsels {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.batches.len()
    }

    fn morsel_rows(&self, i: usize) -> Option<usize> {
        // The executor allocates the morsel's output from this count before decoding: a
        // count no body could hold (a corrupt header) is not passed on.
        let rows = self.rows.get(i).copied().flatten()?;
        let body = usize::try_from(self.batches[i].0.bodyLength()).unwrap_or(0);
        (rows <= body.saturating_mul(8192).saturating_add(1 << 16)).then_some(rows)
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let (block, epoch) = &self.batches[i];
        let data = released_on_drop(&self.mmap, &block_data(&self.path, &self.buf, block)?);
        check_body(&self.path, &data, block)?;
        let batch = self.decoders[*epoch]
            .read_record_batch(block, &data)
            .map_err(|e| ierr(&self.path, format!("record batch {i}: {e}")))?
            .ok_or_else(|| ierr(&self.path, format!("record batch {i} is missing")))?;
        DataFrame::from_arrays(self.schema.clone(), batch.columns().to_vec())
    }
}

/// How an IPC sink writes: the file or the stream format, and the body compression.
///
/// ```
/// use fusedframe::io::ipc::{IpcCompression, IpcWriteOptions};
/// let opts = IpcWriteOptions::new().stream(true).compression(IpcCompression::Zstd);
/// assert!(opts.is_stream());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcWriteOptions {
    stream: bool,
    compression: IpcCompression,
}

/// Body compression of IPC record batches (what the Arrow format defines).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpcCompression {
    #[default]
    /// No compression (the default).
    Uncompressed,
    /// LZ4 frame compression of each buffer.
    Lz4,
    /// Zstandard compression of each buffer.
    Zstd,
}

impl IpcWriteOptions {
    /// The file format, uncompressed (what [`crate::io::write_ipc`] writes).
    pub fn new() -> Self {
        Self::default()
    }

    /// Write the stream format (no footer; readable as it arrives) instead of the file format.
    pub fn stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// Compress record batch bodies.
    pub fn compression(mut self, compression: IpcCompression) -> Self {
        self.compression = compression;
        self
    }

    /// True for the stream format.
    pub fn is_stream(&self) -> bool {
        self.stream
    }
}

/// Write `df` as an Arrow IPC file in record batches sized by bytes
/// (the executor's `piece_rows`).
pub fn write(df: &DataFrame, w: &mut impl Write) -> Result<()> {
    write_with(df, w, &IpcWriteOptions::default())
}

/// Write `df` as Arrow IPC (file or stream, per `options`) in record batches sized by bytes
/// (the streaming writer of `sink_ipc`, given the frame).
pub fn write_with(df: &DataFrame, w: &mut impl Write, options: &IpcWriteOptions) -> Result<()> {
    let mut writer = super::sink::IpcWriter::new(w, df.schema(), options, Path::new(""))?;
    writer.write_frame(df)?;
    writer.finish()?;
    Ok(())
}

impl IpcWriteOptions {
    /// The body codec.
    pub(crate) fn codec(&self) -> IpcCompression {
        self.compression
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::col;
    use crate::frame::Column;

    #[test]
    fn batch_heights_are_known_at_open_and_pipelines_fill_them() {
        let n = 150_000usize;
        let x: Vec<Option<f64>> = (0..n).map(|i| (i % 7 != 0).then_some(i as f64)).collect();
        let k: Vec<i64> = (0..n as i64).collect();
        let df = DataFrame::new(vec![Column::new("x", x), Column::new("k", k)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        write(&df, &mut File::create(&path).unwrap()).unwrap();

        let m = open(&path, df.schema(), &["k".to_string()]).unwrap();
        let rows: Vec<Option<usize>> = (0..m.num_morsels()).map(|i| m.morsel_rows(i)).collect();
        assert_eq!(rows, [Some(65_536), Some(65_536), Some(18_928)]);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(Some(m.morsel(i).unwrap().height()), *r);
        }

        // Written straight into the output columns, nulls and all.
        let lf = |src: crate::plan::LazyFrame| {
            src.with_columns([(col("x") * 2.0).alias("y")])
                .collect()
                .unwrap()
        };
        let got = lf(crate::plan::scan_ipc(&path));
        assert!(got.equals(&lf(df.clone().lazy())));
        assert!(crate::plan::scan_ipc(&path).collect().unwrap().equals(&df));
    }

    /// A batch's pages leave the resident set when the arrays decoded from them are dropped,
    /// and any array still reading them (the same batch decoded twice, a neighbour sharing a
    /// page) reads the file's bytes back: the data never change.
    #[test]
    fn released_batches_read_back_unchanged() {
        let n = 200_000usize;
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
        let k: Vec<i32> = (0..n as i32).map(|i| i.wrapping_mul(7919)).collect();
        let df = DataFrame::new(vec![Column::new("x", x), Column::new("k", k)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        write(&df, &mut File::create(&path).unwrap()).unwrap();
        let names = ["x".to_string(), "k".to_string()];
        let m = open(&path, df.schema(), &names).unwrap();
        assert!(m.num_morsels() > 1);
        let mut offset = 0;
        for i in 0..m.num_morsels() {
            let (first, second) = (m.morsel(i).unwrap(), m.morsel(i).unwrap());
            drop(first);
            let next = (i + 1 < m.num_morsels()).then(|| m.morsel(i + 1).unwrap());
            drop(next);
            assert!(
                second.equals(&df.slice(offset, second.height())),
                "batch {i}"
            );
            offset += second.height();
        }
        assert_eq!(offset, n);
    }
}
