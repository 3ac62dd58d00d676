//! A row group's columns decoded side by side on the run's rayon pool, so a file with one
//! or few row groups (a morsel each) still keeps every worker busy.
//!
//! The unit stays the piece: the morsel is decoded as before, `batch` rows at a time from the
//! row group's start, and for each piece every projected column decodes its next `batch` rows
//! as a separate task; the piece is handed on once all its columns are done. So the pieces
//! (boundaries and bytes) are the same for any thread count, and memory stays one piece of
//! every column (as a sequential decode holds). The one exception is the flat-column
//! decoder's short row group of a wide table, decoded whole and handed on in slices because
//! that holds less than every column's page state between pieces would
//! (`parquet_pages::FastRowGroup`); the choice depends on the file alone.
//! The flat-column decoder goes further when the pool has more threads than the scan has
//! columns and row groups: it decodes each column's pages in ranges side by side
//! (`parquet_pages::ranges`), so a scan of one numeric column of a one-row-group file uses
//! every core. Columns read through parquet's arrow reader (strings, nested, other codecs)
//! are not split below the column: its decoders start at a chunk's first page only.
//!
//! Work fans out only from a worker of a pool with more than one thread: called from any
//! other thread, rayon would start its global pool, and a library must not start threads of
//! its own. One thread decodes exactly as before this module existed.

use std::path::Path;

use arrow::array::ArrayRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::ChunkReader;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Whether `columns` columns are worth decoding in parallel on the current thread: it is a
/// worker of a pool with more than one thread (the run's pool; see the module docs).
pub(super) fn parallel(columns: usize) -> bool {
    columns > 1 && rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1
}

/// `step` on every column, in parallel when [`parallel`] says so; results in column order,
/// and on failure the error of the first failing column (whichever finished first), as a
/// sequential decode would report it.
pub(super) fn each_column<C: Send, T: Send>(
    columns: &mut [C],
    step: impl Fn(&mut C) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    if !parallel(columns.len()) {
        return columns.iter_mut().map(step).collect();
    }
    let all: Vec<Result<T>> = columns.par_iter_mut().map(&step).collect();
    all.into_iter().collect()
}

/// The leading `rows` rows of row group `rg`'s root columns `roots` (file order), through
/// parquet's arrow reader with one reader per column (each on its own handle from `open`),
/// in pieces of `batch` rows handed to `f` (arrays in `roots` order). Errors name the row
/// group `number` (the file's; `rg` is its index in `meta`, 0 in a one-row-group footer).
pub(super) fn read_by_column<R: ChunkReader + 'static>(
    path: &Path,
    meta: &ArrowReaderMetadata,
    (rg, number, rows, batch): (usize, usize, usize, usize),
    roots: &[usize],
    open: impl Fn() -> Result<R>,
    f: &mut dyn FnMut(Vec<ArrayRef>) -> Result<()>,
) -> Result<()> {
    let fail = |name: &str, e: &dyn std::fmt::Display| Error::File {
        format: "Parquet",
        path: path.to_path_buf(),
        message: format!("row group {number}, column \"{name}\": {e}"),
    };
    let descr = meta.metadata().file_metadata().schema_descr();
    let mut readers: Vec<(String, ParquetRecordBatchReader)> = Vec::with_capacity(roots.len());
    for &root in roots {
        let name = meta
            .schema()
            .fields()
            .get(root)
            .map_or_else(|| root.to_string(), |f| f.name().clone());
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(open()?, meta.clone())
            .with_projection(ProjectionMask::roots(descr, [root]))
            .with_row_groups(vec![rg])
            .with_batch_size(batch.max(1))
            .with_limit(rows)
            .build()
            .map_err(|e| fail(&name, &e))?;
        readers.push((name, reader));
    }
    loop {
        let piece = each_column(&mut readers, |(name, r)| match r.next() {
            None => Ok(None),
            Some(Ok(b)) => match b.columns() {
                [a] => Ok(Some(a.clone())),
                cols => Err(fail(name, &format!("{} arrays for one column", cols.len()))),
            },
            Some(Err(e)) => Err(fail(name, &e)),
        })?;
        // Every column ends at the same row: the arrow reader's batches are cut by row count.
        let len = |a: &Option<ArrayRef>| a.as_ref().map(|a| a.len());
        let held = |n: Option<usize>| n.map_or("no more".into(), |n| n.to_string());
        let (Some(first), Some((first_name, _))) = (piece.first().map(len), readers.first()) else {
            return Ok(());
        };
        if let Some((a, (name, _))) = piece.iter().zip(&readers).find(|(a, _)| len(a) != first) {
            let message = format!(
                "its pages hold {} rows where column \"{first_name}\" holds {}",
                held(len(a)),
                held(first)
            );
            return Err(fail(name, &message));
        }
        let arrays: Option<Vec<ArrayRef>> = piece.into_iter().collect();
        match arrays {
            Some(arrays) => f(arrays)?,
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use arrow::array::{self as aa, Array, ArrayRef, RecordBatch};
    use arrow::datatypes::{Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    use super::parallel;
    use crate::error::Error;
    use crate::exec::pool::thread_pool;
    use crate::io::parquet::{open, read_schema};
    use crate::plan::ExecOptions;

    /// `n` rows of columns "c0".. of every kind the reader meets: floats and integers with
    /// nulls, few distinct values (dictionary pages) and many (PLAIN after the dictionary
    /// overflows), dates, booleans, strings (dictionary and not) and a list.
    fn columns(n: usize) -> Vec<ArrayRef> {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let bits: Vec<u64> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect();
        let keep: Vec<bool> = (0..n)
            .map(|i| !(700..2100).contains(&i) && bits[i] % 11 != 3)
            .collect();
        vec![
            Arc::new(aa::Float64Array::from_iter(
                (0..n).map(|i| keep[i].then_some((bits[i] >> 11) as f64 / 7.0)),
            )),
            Arc::new(aa::Float64Array::from_iter_values(
                (0..n).map(|i| (i % 5) as f64),
            )),
            Arc::new(aa::Float32Array::from_iter(
                (0..n).map(|i| keep[i].then_some((bits[i] % 1000) as f32)),
            )),
            Arc::new(aa::Int64Array::from_iter(
                (0..n).map(|i| keep[i].then_some(bits[i] as i64)),
            )),
            Arc::new(aa::Int32Array::from_iter_values(
                (0..n).map(|i| (i / 97) as i32),
            )),
            Arc::new(aa::Date32Array::from_iter(
                (0..n).map(|i| keep[i].then_some((bits[i] % 40_000) as i32)),
            )),
            Arc::new(aa::StringArray::from_iter(
                (0..n).map(|i| keep[i].then_some(format!("k{}", bits[i] % 13))),
            )),
            Arc::new(aa::StringArray::from_iter(
                (0..n).map(|i| keep[i].then_some(format!("{:x}", bits[i]))),
            )),
            Arc::new(aa::BooleanArray::from_iter(
                (0..n).map(|i| keep[i].then_some(bits[i].is_multiple_of(3))),
            )),
            Arc::new(aa::ListArray::from_iter_primitive::<
                arrow::datatypes::Int32Type,
                _,
                _,
            >((0..n).map(|i| {
                keep[i].then_some((0..(bits[i] % 4) as i32).map(Some).collect::<Vec<_>>())
            }))),
        ]
    }

    /// One row group of `cols` (small pages: many per chunk, dictionaries overflowing).
    fn write(cols: Vec<ArrayRef>, codec: Compression) -> (tempfile::TempDir, PathBuf) {
        let fields: Vec<Field> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
        let props = WriterProperties::builder()
            .set_compression(codec)
            .set_max_row_group_row_count(None)
            .set_dictionary_page_size_limit(2048)
            .set_data_page_size_limit(4096)
            .set_write_batch_size(113)
            .build();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one_row_group.parquet");
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), Some(props))
            .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        (dir, path)
    }

    /// The scan's pieces of `rows` rows of row group 0 (columns `cols`, a limit), decoded on a
    /// pool of `threads`.
    fn pieces(
        path: &Path,
        cols: &[&str],
        limit: Option<usize>,
        threads: usize,
    ) -> crate::error::Result<Vec<Vec<arrow::array::ArrayData>>> {
        let schema = read_schema(path)?;
        let columns: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
        let source = open(path, &schema, &columns, None, limit)?;
        thread_pool(Some(threads))?.install(|| {
            assert_eq!(parallel(cols.len()), threads > 1 && cols.len() > 1);
            let mut out = vec![];
            source.for_each_piece(0, 1000, &mut |df| {
                out.push(df.columns().iter().map(|a| a.to_data()).collect());
                Ok(())
            })?;
            Ok(out)
        })
    }

    #[test]
    fn parallel_only_on_a_worker_of_a_pool_with_threads_to_spare() {
        assert!(
            !parallel(16),
            "not a pool's worker: rayon's global pool must not start"
        );
        let one = thread_pool(Some(1)).unwrap();
        assert!(!one.install(|| parallel(16)));
        let two = thread_pool(Some(2)).unwrap();
        assert!(two.install(|| parallel(2)));
        assert!(!two.install(|| parallel(1)));
    }

    #[test]
    fn pieces_are_the_same_for_any_thread_count() {
        let n = 12_345;
        let all: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        // Numeric columns only (our page decoder) and every kind (parquet's arrow reader, a
        // reader per column), snappy and zstd.
        for (cols, codec) in [
            (&all[..6], Compression::SNAPPY),
            (&all[..], Compression::SNAPPY),
            (&all[..], Compression::ZSTD(Default::default())),
        ] {
            let (_dir, path) = write(columns(n)[..cols.len()].to_vec(), codec);
            let meta = crate::io::parquet::read_metadata(&path).unwrap();
            assert_eq!(meta.metadata().num_row_groups(), 1);
            let reordered: Vec<&str> = cols.iter().rev().step_by(2).copied().collect();
            for (cols, limit) in [(cols, None), (&reordered[..], Some(4321)), (cols, Some(1))] {
                let one = pieces(&path, cols, limit, 1).unwrap();
                let rows: usize = one.iter().map(|p| p[0].len()).sum();
                assert_eq!(rows, limit.unwrap_or(n));
                for threads in [2, 3] {
                    let ctx = format!("{codec:?}, {cols:?}, limit {limit:?}, {threads} threads");
                    assert_eq!(pieces(&path, cols, limit, threads).unwrap(), one, "{ctx}");
                }
            }
            // And a whole query, as users run it.
            let run = |threads| {
                crate::plan::scan_parquet(&path)
                    .collect_with(&ExecOptions::new().threads(threads))
                    .unwrap()
            };
            let one = run(1);
            assert_eq!(one.height(), n);
            assert_eq!(run(2), one);
        }
    }

    #[test]
    fn a_damaged_column_is_an_error_naming_it_on_any_thread_count() {
        use std::os::unix::fs::FileExt;
        let (_dir, path) = write(columns(3000), Compression::SNAPPY);
        let meta = crate::io::parquet::read_metadata(&path).unwrap();
        let (start, len) = meta.metadata().row_group(0).column(7).byte_range();
        let file = File::options().write(true).open(&path).unwrap();
        file.write_all_at(&vec![0; len as usize], start).unwrap();
        let cols = ["c0", "c6", "c7", "c9"];
        for threads in [1, 2] {
            let Err(Error::File { message, .. }) = pieces(&path, &cols, None, threads) else {
                panic!("{threads} threads: no error");
            };
            assert!(message.starts_with("row group 0"), "{message}");
            if threads > 1 {
                assert!(message.contains("column \"c7\""), "{message}");
            }
        }
    }
}
