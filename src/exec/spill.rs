//! Spill files: data an operator cannot keep within the memory budget (a sort's sorted runs, a
//! grouping's or a join's partitions of its input, cut by key hash with [`Fan`]), written to
//! temporary Arrow IPC streams and read back batch by batch.
//!
//! Files live in one directory per run, made on first use under the run's temporary directory
//! (`ExecOptions::temp_dir`, `FUSEDFRAME_TEMP_DIR`, else the system's) and named
//! `fusedframe-spill-<pid>-<n>`. A file is removed as soon as its reader is done with it, and
//! the directory with whatever is left when the run ends, on success and on error alike (the
//! CLI also removes it on Ctrl-C). Files are read with ordinary buffered reads, not memory
//! maps: a mapped page read once would stay in the process's resident memory.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::ArrayRef;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// The run's spill directory, made when the first file is asked for and removed (with its
/// files) when dropped.
#[derive(Debug)]
pub(crate) struct SpillDir {
    parent: PathBuf,
    dir: Mutex<Option<PathBuf>>,
    files: AtomicUsize,
}

impl SpillDir {
    pub(crate) fn new(parent: PathBuf) -> Self {
        Self {
            parent,
            dir: Mutex::new(None),
            files: AtomicUsize::new(0),
        }
    }

    /// A fresh file path in the directory (made now if it does not exist yet).
    pub(super) fn file(&self, what: &str) -> Result<PathBuf> {
        let mut dir = self
            .dir
            .lock()
            .map_err(|_| Error::Internal("spill directory lock poisoned".into()))?;
        if dir.is_none() {
            *dir = Some(make_dir(&self.parent)?);
        }
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let base = dir.as_ref().map(PathBuf::as_path).unwrap_or(&self.parent);
        Ok(base.join(format!("{what}-{n}.arrows")))
    }

    /// The directory, if it was made.
    #[cfg(test)]
    pub(crate) fn path(&self) -> Option<PathBuf> {
        self.dir.lock().ok()?.clone()
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        if let Ok(dir) = self.dir.get_mut() {
            if let Some(d) = dir.take() {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}

/// Make a new directory `fusedframe-spill-<pid>-<n>` under `parent` (made too if missing).
fn make_dir(parent: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..1000u32 {
        let d = parent.join(format!(
            "fusedframe-spill-{pid}-{}",
            nanos.wrapping_add(attempt)
        ));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&d, e)),
        }
    }
    Err(Error::Plan(format!(
        "cannot make a spill directory under {}",
        parent.display()
    )))
}

/// A spill file being written: frames appended in order as IPC stream batches.
pub(crate) struct SpillWriter {
    writer: StreamWriter<BufWriter<File>>,
    path: PathBuf,
    rows: usize,
}

impl SpillWriter {
    /// Start a new file in `dir` for frames of `schema`.
    pub(crate) fn new(dir: &SpillDir, what: &str, schema: &SchemaRef) -> Result<Self> {
        Self::with_buffer(dir, what, schema, 1 << 20)
    }

    /// [`new`](Self::new) with a write buffer of `buffer` bytes (operators that write many
    /// files at once take small ones).
    pub(crate) fn with_buffer(
        dir: &SpillDir,
        what: &str,
        schema: &SchemaRef,
        buffer: usize,
    ) -> Result<Self> {
        let path = dir.file(what)?;
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let writer = StreamWriter::try_new(BufWriter::with_capacity(buffer, file), schema)
            .map_err(|e| spill_error(&path, e))?;
        Ok(Self {
            writer,
            path,
            rows: 0,
        })
    }

    /// Append `df` as one batch.
    pub(crate) fn write(&mut self, df: &DataFrame) -> Result<()> {
        if df.height() == 0 {
            return Ok(());
        }
        self.rows += df.height();
        let batch = df.to_record_batch()?;
        self.writer
            .write(&batch)
            .map_err(|e| spill_error(&self.path, e))
    }

    /// Close the file; it can then be read back.
    pub(crate) fn finish(mut self) -> Result<SpillFile> {
        self.writer
            .finish()
            .map_err(|e| spill_error(&self.path, e))?;
        let w = self.writer.get_mut();
        w.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(SpillFile {
            path: std::mem::take(&mut self.path),
            rows: self.rows,
        })
    }
}

impl Drop for SpillWriter {
    fn drop(&mut self) {
        // Not finished (an error on the way): the file is of no use.
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A finished spill file, removed when dropped.
#[derive(Debug)]
pub(crate) struct SpillFile {
    path: PathBuf,
    rows: usize,
}

impl SpillFile {
    /// Rows in the file.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Its batches, in order.
    pub(crate) fn reader(self: &Arc<Self>) -> Result<SpillReader> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 20, file), None)
            .map_err(|e| spill_error(&self.path, e))?;
        Ok(SpillReader {
            reader,
            file: self.clone(),
        })
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a spill file's batches in order.
pub(crate) struct SpillReader {
    reader: StreamReader<BufReader<File>>,
    file: Arc<SpillFile>,
}

impl SpillReader {
    /// The next batch, or `None` at the end.
    pub(crate) fn next_frame(&mut self) -> Result<Option<DataFrame>> {
        match self.reader.next() {
            None => Ok(None),
            Some(b) => {
                let b = b.map_err(|e| spill_error(&self.file.path, e))?;
                Ok(Some(DataFrame::from_arrays(
                    self.reader.schema(),
                    b.columns().to_vec(),
                )?))
            }
        }
    }
}

/// Rows cut into partitions by bits of their key hash, level after level: the operators that
/// spill by key (grouping, joins) write each partition to its own file, and split a partition
/// that still does not fit by the next bits. A level takes `bits` bits (`1 << bits`
/// partitions), going down from [`Fan::TOP_BIT`]: the bits above are what hash tables take for
/// their tags and partitions and the low bits their buckets, so a partition's keys still
/// spread over both.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fan {
    pub(crate) bits: u32,
}

impl Fan {
    /// The first level's bits end here.
    const TOP_BIT: u32 = 56;
    /// No level takes bits below this one.
    const LOWEST_BIT: u32 = 24;

    /// Partitions per level.
    pub(crate) fn parts(self) -> usize {
        1 << self.bits
    }

    /// The partition of a row of hash `h` at `level` (0 first).
    pub(crate) fn partition_of(self, h: u64, level: u32) -> usize {
        let shift = Self::TOP_BIT - self.bits * (level + 1);
        ((h >> shift) as usize) & (self.parts() - 1)
    }

    /// Whether a partition of `level` can be split again.
    pub(crate) fn deeper(self, level: u32) -> bool {
        Self::TOP_BIT.saturating_sub(self.bits * (level + 2)) >= Self::LOWEST_BIT
    }

    /// The rows of `df` by their partition at `level` (`hashes`: one per row), partitions in
    /// order, each keeping its rows in order.
    pub(crate) fn cut(
        self,
        df: DataFrame,
        hashes: &[u64],
        level: u32,
    ) -> Result<Vec<(usize, DataFrame)>> {
        let parts: Vec<u32> = hashes
            .iter()
            .map(|h| self.partition_of(*h, level) as u32)
            .collect();
        if let Some(&q) = parts.first() {
            if parts.iter().all(|p| *p == q) {
                return Ok(vec![(q as usize, df)]);
            }
        }
        let by = crate::exec::groups::ByGroup::new(&parts, self.parts());
        let sorted = by.sorted(&df)?;
        Ok(by
            .offsets
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[1] > w[0])
            .map(|(q, w)| (q, sorted.slice(w[0], w[1] - w[0])))
            .collect())
    }
}

/// A frame of `cols` as an operator spills them, columns named by position (`c0`, `c1`, ..:
/// the operator knows what each is, and names cannot clash).
pub(crate) fn spill_frame(cols: Vec<ArrayRef>) -> Result<DataFrame> {
    let fields: Vec<Field> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
        .collect();
    DataFrame::from_arrays(Arc::new(Schema::new(fields)), cols)
}

/// One spill file per partition, made when its first rows come, each with a small write
/// buffer (a level writes all of its files at once).
pub(crate) struct PartitionFiles<'a> {
    dir: &'a SpillDir,
    what: &'static str,
    writers: Vec<Option<SpillWriter>>,
    /// The first frame's schema: later frames are cast to it (a piece's expression may give
    /// another type, such as a literal's).
    schema: Option<SchemaRef>,
}

impl<'a> PartitionFiles<'a> {
    /// Bytes of write buffer per file.
    const WRITE_BUFFER: usize = 64 << 10;

    pub(crate) fn new(dir: &'a SpillDir, what: &'static str, n: usize) -> Self {
        Self {
            dir,
            what,
            writers: (0..n).map(|_| None).collect(),
            schema: None,
        }
    }

    /// Append `df` to partition `q`'s file.
    pub(crate) fn write(&mut self, q: usize, df: &DataFrame) -> Result<()> {
        let schema = self
            .schema
            .get_or_insert_with(|| df.schema().clone())
            .clone();
        let cast;
        let df = if df.schema() == &schema {
            df
        } else {
            cast = crate::exec::frame_of_types(&schema, df.columns().to_vec())?;
            &cast
        };
        let w = match &mut self.writers[q] {
            Some(w) => w,
            slot @ None => slot.insert(SpillWriter::with_buffer(
                self.dir,
                self.what,
                &schema,
                Self::WRITE_BUFFER,
            )?),
        };
        w.write(df)
    }

    /// The finished files, by partition (`None`: no rows came).
    pub(crate) fn finish_each(self) -> Result<Vec<Option<Arc<SpillFile>>>> {
        self.writers
            .into_iter()
            .map(|w| w.map(|w| Ok(Arc::new(w.finish()?))).transpose())
            .collect()
    }

    /// The finished files of the partitions that got rows, in partition order.
    pub(crate) fn finish(self) -> Result<Vec<Arc<SpillFile>>> {
        Ok(self.finish_each()?.into_iter().flatten().collect())
    }
}

pub(super) fn spill_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File {
        format: "spill file (Arrow IPC)",
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Column;

    #[test]
    fn files_round_trip_and_are_removed() {
        let parent = tempfile::tempdir().unwrap();
        let dir = SpillDir::new(parent.path().join("nested"));
        let df = DataFrame::new(vec![
            Column::new("x", vec![Some(1.5), None, Some(-2.0)]),
            Column::new("s", vec!["a", "b", "c"]),
        ])
        .unwrap();
        let mut w = SpillWriter::new(&dir, "run", df.schema()).unwrap();
        w.write(&df).unwrap();
        w.write(&df.slice(1, 2)).unwrap();
        let file = Arc::new(w.finish().unwrap());
        assert_eq!(file.rows(), 5);
        let mut r = file.reader().unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap(), df);
        assert_eq!(r.next_frame().unwrap().unwrap(), df.slice(1, 2));
        assert!(r.next_frame().unwrap().is_none());
        let path = dir.path().unwrap();
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 1);
        drop(r);
        drop(file);
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        // An unfinished writer leaves nothing; the directory goes with the run.
        let w = SpillWriter::new(&dir, "run", df.schema()).unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        drop(dir);
        assert!(!path.exists());
    }
}
