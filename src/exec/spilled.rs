//! A model's input spilled once to an Arrow IPC file, for fits that make many passes over an
//! input that is over the memory budget and cannot be read again (a pipeline over a
//! sequential source, windows, a sort's output, ...).
//!
//! The input's morsels run once, a pool width at a time, and their output is written in row
//! order as batches of exactly the fit's chunk size (the last may be shorter), so batch `c`
//! is chunk `c`: [`RowChunks`] reads every pass from the file, and a single chunk (k-means++
//! picking a centre) with one seek through the file's footer. The file lives in the run's
//! spill directory (`spill.rs`) and is removed when the fit is done with it, on success and
//! on error alike (an unfinished file too).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use super::pipeline::{Carry, Running};
use super::spill::{spill_error, SpillDir};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::physical::RowChunks;

/// The spilled input: `rows` rows in batches of `chunk_rows`.
pub(super) struct SpilledChunks {
    path: PathBuf,
    schema: SchemaRef,
    rows: usize,
    chunk_rows: usize,
}

impl Drop for SpilledChunks {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The open file being written, with the rows of the chunk being filled.
struct Writer {
    out: SpilledChunks,
    writer: FileWriter<BufWriter<File>>,
    buf: Vec<DataFrame>,
    buffered: usize,
}

impl Writer {
    /// Append `piece`, writing every chunk it completes.
    fn add(&mut self, mut piece: DataFrame) -> Result<()> {
        let cr = self.out.chunk_rows;
        while piece.height() > 0 {
            let take = (cr - self.buffered).min(piece.height());
            self.buf.push(piece.slice(0, take));
            self.buffered += take;
            piece = piece.slice(take, piece.height() - take);
            if self.buffered == cr {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Write the buffered rows as one batch.
    fn flush(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let parts = std::mem::take(&mut self.buf);
        let df = match &parts[..] {
            [one] => one.clone(),
            _ => DataFrame::vstack(self.out.schema.clone(), &parts)?,
        };
        self.out.rows += self.buffered;
        self.buffered = 0;
        self.writer
            .write(&df.to_record_batch()?)
            .map_err(|e| spill_error(&self.out.path, e))
    }
}

impl SpilledChunks {
    /// Run `running` once and write its output to a new file in `dir`, cut in chunks of
    /// `chunk_rows` rows.
    pub(super) fn write(running: &Running, dir: &SpillDir, chunk_rows: usize) -> Result<Self> {
        let path = dir.file("fit-input")?;
        let schema = running.schema();
        // Owned from here: removed on any error below.
        let out = SpilledChunks {
            path,
            schema: schema.clone(),
            rows: 0,
            chunk_rows: chunk_rows.max(1),
        };
        let file = File::create(&out.path).map_err(|e| Error::io(&out.path, e))?;
        let writer = FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &schema)
            .map_err(|e| spill_error(&out.path, e))?;
        let mut w = Writer {
            out,
            writer,
            buf: vec![],
            buffered: 0,
        };
        let mut carry = Carry::default();
        for wave in running.waves(0, running.wave()) {
            for piece in running.pieces(wave, &mut carry, None)? {
                w.add(piece)?;
            }
        }
        w.flush()?;
        w.writer.finish().map_err(|e| spill_error(&w.out.path, e))?;
        w.writer
            .get_mut()
            .flush()
            .map_err(|e| Error::io(&w.out.path, e))?;
        Ok(w.out)
    }

    fn reader(&self) -> Result<FileReader<BufReader<File>>> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        FileReader::try_new(BufReader::with_capacity(1 << 20, file), None)
            .map_err(|e| spill_error(&self.path, e))
    }

    fn frame(
        &self,
        batch: Option<std::result::Result<RecordBatch, ArrowError>>,
    ) -> Result<DataFrame> {
        let b = batch
            .ok_or_else(|| Error::Internal("a spilled chunk is missing".into()))?
            .map_err(|e| spill_error(&self.path, e))?;
        DataFrame::from_arrays(self.schema.clone(), b.columns().to_vec())
    }
}

impl RowChunks for SpilledChunks {
    fn rows(&self) -> usize {
        self.rows
    }

    fn chunk_rows(&self) -> usize {
        self.chunk_rows
    }

    /// Chunks are read in order and handed on a pool width at a time, in parallel.
    fn for_each_chunk(&self, f: &(dyn Fn(usize, &DataFrame) -> Result<()> + Sync)) -> Result<()> {
        let chunks = self.rows.div_ceil(self.chunk_rows);
        let wave = rayon::current_num_threads().max(1);
        let mut reader = self.reader()?;
        let mut next = 0;
        while next < chunks {
            let end = (next + wave).min(chunks);
            let batch = (next..end)
                .map(|c| Ok((c, self.frame(reader.next())?)))
                .collect::<Result<Vec<_>>>()?;
            batch.par_iter().try_for_each(|(c, df)| f(*c, df))?;
            next = end;
        }
        Ok(())
    }

    fn chunk(&self, c: usize) -> Result<DataFrame> {
        let mut reader = self.reader()?;
        reader
            .set_index(c)
            .map_err(|e| spill_error(&self.path, e))?;
        self.frame(reader.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Context;
    use crate::frame::Column;
    use crate::physical::Source;

    #[test]
    fn chunks_hold_the_rows_in_order_and_the_file_goes() {
        let parent = tempfile::tempdir().unwrap();
        let n = 10_000;
        let df = DataFrame::new(vec![Column::new(
            "x",
            (0..n).map(|i| i as f64).collect::<Vec<_>>(),
        )])
        .unwrap();
        let mut ctx = Context {
            spill: SpillDir::new(parent.path().to_path_buf()),
            ..Context::default()
        };
        let source = super::super::open(&Source::Frame(df.clone()), &mut ctx).unwrap();
        let running = Running::new(source, &[], &ctx);
        let spilled = SpilledChunks::write(&running, &ctx.spill, 4096).unwrap();
        assert_eq!((spilled.rows(), spilled.chunk_rows()), (n, 4096));
        assert_eq!(spilled.chunk(1).unwrap(), df.slice(4096, 4096));
        assert_eq!(spilled.chunk(2).unwrap(), df.slice(8192, n - 8192));
        let seen = std::sync::Mutex::new(vec![]);
        spilled
            .for_each_chunk(&|c, chunk| {
                seen.lock().unwrap().push((c, chunk.height()));
                assert_eq!(chunk, &df.slice(c * 4096, chunk.height()));
                Ok(())
            })
            .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, vec![(0, 4096), (1, 4096), (2, n - 8192)]);
        let path = spilled.path.clone();
        assert!(path.exists());
        drop(spilled);
        assert!(!path.exists());
    }
}
