//! Arrow IPC (Feather v2) reader and writer. The file is memory-mapped and record batches are
//! decoded zero-copy from the mapping; a morsel is a record batch, projected on decode. Each
//! batch's row count is read from its message header when the file is opened (the footer
//! does not hold it), so a pipeline can place its output before decoding anything.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow::buffer::Buffer;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::convert::try_fb_to_schema;
use arrow::ipc::reader::{read_footer_length, FileDecoder};
use arrow::ipc::writer::FileWriter;
use arrow::ipc::{root_as_footer, Block};

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

/// Map the whole file into an Arrow buffer without copying.
fn map_file(path: &Path) -> Result<Buffer> {
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
    Ok(unsafe { Buffer::from_custom_allocation(ptr, mmap.len(), mmap) })
}

struct Footer {
    schema: SchemaRef,
    decoder_version: arrow::ipc::MetadataVersion,
    dictionaries: Vec<Block>,
    batches: Vec<Block>,
}

fn read_footer(path: &Path, buf: &Buffer) -> Result<Footer> {
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
    Ok(Footer {
        schema: Arc::new(Schema::new(schema.fields().clone())),
        decoder_version: footer.version(),
        dictionaries: footer
            .dictionaries()
            .map(|d| d.iter().copied().collect())
            .unwrap_or_default(),
        batches: footer
            .recordBatches()
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default(),
    })
}

/// The file's schema, from its footer.
pub fn read_schema(path: &Path) -> Result<SchemaRef> {
    let buf = map_file(path)?;
    Ok(read_footer(path, &buf)?.schema)
}

struct IpcMorsels {
    path: PathBuf,
    buf: Buffer,
    decoder: FileDecoder,
    batches: Vec<Block>,
    /// Rows of each batch, from its message header (`None` where that could not be read; the
    /// decoder then reports the problem when the batch is decoded).
    rows: Vec<Option<usize>>,
    schema: SchemaRef,
}

/// Rows of the record batch in `block`, from its message header alone.
fn batch_rows(path: &Path, buf: &Buffer, block: &Block) -> Option<usize> {
    let data = block_data(path, buf, block).ok()?;
    let meta = data.get(..usize::try_from(block.metaDataLength()).ok()?)?;
    // An encapsulated message: the continuation marker and the length, or (files written
    // before Arrow 0.15) the length alone, then the flatbuffer.
    let fb = if meta.get(..4)? == [0xFF; 4] {
        meta.get(8..)?
    } else {
        meta.get(4..)?
    };
    let message = arrow::ipc::root_as_message(fb).ok()?;
    usize::try_from(message.header_as_record_batch()?.length()).ok()
}

/// Open `path` (memory-mapped) for the given columns.
pub fn open(path: &Path, schema: &SchemaRef, columns: &[String]) -> Result<Box<dyn MorselSource>> {
    let buf = map_file(path)?;
    let footer = read_footer(path, &buf)?;
    // Positions by name, first of equal names as `index_of` (a map: files can be 10,000
    // columns wide, and a by-name scan per column would be quadratic).
    let mut position = std::collections::HashMap::new();
    for (i, f) in footer.schema.fields().iter().enumerate() {
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
    let out_schema = Arc::new(footer.schema.project(&projection)?);
    let mut decoder =
        FileDecoder::new(footer.schema.clone(), footer.decoder_version).with_projection(projection);
    for block in &footer.dictionaries {
        let data = block_data(path, &buf, block)?;
        decoder
            .read_dictionary(block, &data)
            .map_err(|e| ierr(path, e))?;
    }
    let rows = footer
        .batches
        .iter()
        .map(|b| batch_rows(path, &buf, b))
        .collect();
    Ok(Box::new(IpcMorsels {
        path: path.to_path_buf(),
        buf,
        decoder,
        batches: footer.batches,
        rows,
        schema: out_schema,
    }))
}

fn block_data(path: &Path, buf: &Buffer, block: &Block) -> Result<Buffer> {
    let start = usize::try_from(block.offset()).map_err(|_| ierr(path, "negative block offset"))?;
    let len = block.bodyLength() as usize + block.metaDataLength() as usize;
    if start.checked_add(len).is_none_or(|end| end > buf.len()) {
        return Err(ierr(path, "record batch block past the end of the file"));
    }
    Ok(buf.slice_with_length(start, len))
}

impl MorselSource for IpcMorsels {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.batches.len()
    }

    fn morsel_rows(&self, i: usize) -> Option<usize> {
        self.rows.get(i).copied().flatten()
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let block = &self.batches[i];
        let data = block_data(&self.path, &self.buf, block)?;
        let batch = self
            .decoder
            .read_record_batch(block, &data)
            .map_err(|e| ierr(&self.path, format!("record batch {i}: {e}")))?
            .ok_or_else(|| ierr(&self.path, format!("record batch {i} is missing")))?;
        DataFrame::from_arrays(self.schema.clone(), batch.columns().to_vec())
    }
}

/// Write `df` as an Arrow IPC file in record batches of 64K rows.
pub fn write(df: &DataFrame, w: &mut impl Write) -> Result<()> {
    let mut writer = FileWriter::try_new(w, df.schema())?;
    let step = crate::exec::MORSEL_ROWS;
    let mut offset = 0;
    while offset < df.height() || (offset == 0 && df.height() == 0) {
        let part = df.slice(offset, step);
        writer.write(&part.to_record_batch()?)?;
        offset += step;
        if df.height() == 0 {
            break;
        }
    }
    writer.finish()?;
    Ok(())
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
        let got = lf(crate::io::scan_ipc(&path));
        assert!(got.equals(&lf(df.clone().lazy())));
        assert!(crate::io::scan_ipc(&path).collect().unwrap().equals(&df));
    }
}
