//! Parquet reader and writer. A morsel is a row group; only projected columns are decoded,
//! and row groups are decoded in parallel by the executor.

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
    /// Output position -> position among the decoded (file-ordered) columns.
    order: Vec<usize>,
    row_groups: Vec<usize>,
}

/// Open `path` for the given columns. `_predicate` is reserved for row-group pruning.
pub fn open(
    path: &Path,
    schema: &SchemaRef,
    columns: &[String],
    _predicate: Option<&Expr>,
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
    let mask = ProjectionMask::roots(meta.metadata().file_metadata().schema_descr(), indices);
    let out_schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| schema.field_with_name(c).cloned())
            .collect::<std::result::Result<Vec<_>, _>>()?,
    ));
    let row_groups = (0..meta.metadata().num_row_groups()).collect();
    Ok(Box::new(ParquetMorsels {
        path: path.to_path_buf(),
        meta,
        schema: out_schema,
        mask,
        order,
        row_groups,
    }))
}

impl MorselSource for ParquetMorsels {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.row_groups.len()
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let rg = self.row_groups[i];
        let rows = self.meta.metadata().row_group(rg).num_rows().max(1) as usize;
        let file = open_file(&self.path)?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_projection(self.mask.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(rows)
            .build()
            .map_err(|e| perr(&self.path, e))?;
        let mut parts = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| perr(&self.path, format!("row group {rg}: {e}")))?;
            let cols = self
                .order
                .iter()
                .map(|&j| batch.column(j).clone())
                .collect();
            parts.push(DataFrame::from_arrays(self.schema.clone(), cols)?);
        }
        if parts.is_empty() {
            return Ok(DataFrame::empty(self.schema.clone()));
        }
        DataFrame::vstack(self.schema.clone(), &parts)
    }
}

/// Write `df` as one Parquet file (snappy, 1M-row row groups).
pub fn write<W: Write + Send>(df: &DataFrame, w: &mut W) -> Result<()> {
    write_with_row_groups(df, w, 1 << 20)
}

/// Write `df` as Parquet with row groups of at most `rows` rows (with min/max statistics,
/// which predicate pushdown uses to skip row groups).
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
