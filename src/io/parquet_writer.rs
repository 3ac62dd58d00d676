//! The streaming Parquet writer of `sink_parquet` and `io::write_parquet` (see `io::sink`):
//! row groups ended by Arrow bytes or rows, each column encoded on its own worker, a wide
//! schema's row group held as Arrow columns and encoded a block of fields at a time when it
//! ends (see [`ParquetWriter`]); and the options it writes with ([`ParquetWriteOptions`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, FieldRef, Schema, SchemaRef};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties, DEFAULT_PAGE_SIZE};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type, TypePtr};
use rayon::prelude::*;

use super::parquet::ParquetCompression;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Heap a Parquet column writer holds that its `memory_size` leaves out: its codec (snappy's
/// table is 2 KiB), encoder, statistics and page bookkeeping. Measured with heaptrack on a
/// 10,000-column row group: 42 MB at creation, 4.2 KB a column; the row group's metadata
/// builder adds 2 KB a column when it closes.
const WRITER_COLUMN_BYTES: usize = 6 << 10;

/// Fields whose column writers live at once when a wide row group is written out: enough to
/// keep every worker busy, few enough that their state is a few megabytes.
const HELD_BLOCK_FIELDS: usize = 256;

/// A schema is wide when its column writers' own state alone would be at least this share
/// of a row group's data (1/16): a 64 MiB row group at about 680 leaf columns.
const WIDE_SHARE: usize = 16;

/// How a Parquet sink writes: codec (and its level), row-group size (by bytes of Arrow data,
/// 64 MiB by default, and optionally by rows) and statistics (min/max and null counts per row
/// group, on by default: predicate pushdown reads them to skip row groups; per page too, as a
/// page index, when a column chunk is likely to span several pages).
///
/// ```
/// use fusedframe::io::{ParquetCompression, ParquetWriteOptions};
/// let opts = ParquetWriteOptions::new()
///     .compression(ParquetCompression::Zstd)
///     .compression_level(9)
///     .row_group_rows(100_000);
/// assert_eq!(opts.codec(), ParquetCompression::Zstd);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParquetWriteOptions {
    compression: ParquetCompression,
    level: Option<i32>,
    row_group_bytes: usize,
    row_group_rows: Option<usize>,
    statistics: bool,
}

impl Default for ParquetWriteOptions {
    fn default() -> Self {
        Self {
            compression: ParquetCompression::Snappy,
            level: None,
            row_group_bytes: 64 << 20,
            row_group_rows: None,
            statistics: true,
        }
    }
}

impl ParquetWriteOptions {
    /// Snappy, row groups of 64 MiB of Arrow data, statistics on.
    pub fn new() -> Self {
        Self::default()
    }

    /// The compression codec.
    pub fn compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }

    /// The codec's level (gzip 0-10, brotli 0-11, zstd 1-22; ignored by the others).
    pub fn compression_level(mut self, level: i32) -> Self {
        self.level = Some(level);
        self
    }

    /// End a row group once it holds `bytes` of Arrow data.
    pub fn row_group_bytes(mut self, bytes: usize) -> Self {
        self.row_group_bytes = bytes.max(1);
        self
    }

    /// End a row group at `rows` rows too.
    pub fn row_group_rows(mut self, rows: usize) -> Self {
        self.row_group_rows = Some(rows.max(1));
        self
    }

    /// Write statistics (on by default) or not.
    pub fn statistics(mut self, on: bool) -> Self {
        self.statistics = on;
        self
    }

    /// The codec these options write with.
    pub fn codec(&self) -> ParquetCompression {
        self.compression
    }

    /// The writer properties these options give.
    pub(crate) fn properties(&self, schema: &Schema) -> Result<WriterProperties> {
        // A page index (each page's min/max and offset) only says more than the chunk's own
        // statistics when a column chunk spans several pages. When a row group's bytes spread
        // over its leaf columns come to one page or less each (about 64 columns and more at
        // the 64 MiB default), it repeats them: on the 10,000-column matrix the writer held it
        // for every chunk until the footer (13 MB of peak RSS) and wrote 3.7 MB more file.
        let leaves = parquet::arrow::ArrowSchemaConverter::new()
            .convert(schema)
            .map_or(schema.fields().len(), |d| d.num_columns());
        let one_page_chunks = self.row_group_bytes / leaves.max(1) <= DEFAULT_PAGE_SIZE;
        let stats = match (self.statistics, one_page_chunks) {
            (false, _) => EnabledStatistics::None,
            (true, true) => EnabledStatistics::Chunk,
            (true, false) => EnabledStatistics::Page,
        };
        let mut builder = WriterProperties::builder()
            .set_compression(self.compression.codec_at(self.level)?)
            .set_statistics_enabled(stats)
            .set_offset_index_disabled(one_page_chunks);
        // Floats rarely repeat, so a dictionary only costs: each column's encoder fills up to
        // a 1 MiB dictionary before falling back to plain pages, per column at once, which on
        // a 10,000-column matrix is gigabytes of buffers and most of the writing time.
        for f in schema.fields() {
            if matches!(f.data_type(), DataType::Float32 | DataType::Float64) {
                builder = builder
                    .set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), false);
            }
        }
        Ok(builder.build())
    }

    /// The row-group limits: bytes of Arrow data, and rows if set.
    pub(crate) fn row_group_limits(&self) -> (usize, Option<usize>) {
        (self.row_group_bytes, self.row_group_rows)
    }
}

/// The open row group.
enum OpenGroup {
    /// A column writer per leaf, fed each piece as it comes: only encoded pages wait.
    Encoding(Vec<ArrowColumnWriter>),
    /// The pieces' columns by field, encoded a block of fields at a time when the row group
    /// ends (wide schemas: see [`ParquetWriter`]).
    Held(Vec<Vec<ArrayRef>>),
}

/// A Parquet file being written, row group by row group.
///
/// A narrow schema's row group is encoded as its pieces come, every column on its own
/// worker. A wide one (10,000 columns) would need a column writer per column for the whole
/// row group, each with its codec, statistics and an encoder buffer doubled past its one
/// page's values: measured at 190 MB for 64 MiB of float32 data. Its row group instead holds
/// the pieces' Arrow columns (no more than the row-group size) and, when it ends, encodes
/// [`HELD_BLOCK_FIELDS`] fields at a time with writers made for that block alone. Each
/// column writer is given the same slices in the same order either way, so the file is the
/// same byte for byte.
pub struct ParquetWriter<W: Write + Send> {
    writer: Option<SerializedFileWriter<W>>,
    factory: ArrowRowGroupWriterFactory,
    /// Wide schemas: a writer factory per block of fields (their first field, the factory).
    blocks: Vec<(usize, ArrowRowGroupWriterFactory)>,
    /// The Parquet types of the schema's fields (for wide schemas).
    types: Vec<TypePtr>,
    schema: SchemaRef,
    limits: (usize, Option<usize>),
    path: PathBuf,
    /// The open row group, its rows and Arrow bytes.
    columns: Option<OpenGroup>,
    row_groups: usize,
    rows: usize,
    bytes: usize,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Start writing rows of `schema` to `w` (`path` names it in errors).
    pub fn new(w: W, schema: &SchemaRef, o: &ParquetWriteOptions, path: &Path) -> Result<Self> {
        Self::with_layout(w, schema, o, path, None)
    }

    /// [`new`](Self::new), holding row groups as Arrow columns when `hold` says so, else when
    /// the schema is wide.
    fn with_layout(
        w: W,
        schema: &SchemaRef,
        o: &ParquetWriteOptions,
        path: &Path,
        hold: Option<bool>,
    ) -> Result<Self> {
        let (writer, factory) =
            ArrowWriter::try_new(w, schema.clone(), Some(o.properties(schema)?))
                .and_then(ArrowWriter::into_serialized_writer)
                .map_err(|e| parquet_error(path, e))?;
        let limits = o.row_group_limits();
        let leaves = writer.schema_descr().num_columns();
        let wide = leaves.saturating_mul(WRITER_COLUMN_BYTES) >= limits.0 / WIDE_SHARE;
        let blocks = if hold.unwrap_or(wide) {
            block_factories(&writer, schema).map_err(|e| parquet_error(path, e))?
        } else {
            vec![]
        };
        let types = writer.schema_descr().root_schema().get_fields().to_vec();
        Ok(Self {
            writer: Some(writer),
            factory,
            blocks,
            types,
            schema: schema.clone(),
            limits,
            path: path.to_path_buf(),
            columns: None,
            row_groups: 0,
            rows: 0,
            bytes: 0,
        })
    }

    /// Add `df` to the open row group: encoded now (every column on its own worker), or held
    /// for the row group's end when the schema is wide.
    fn encode(&mut self, df: &DataFrame) -> Result<()> {
        let path = self.path.clone();
        if self.columns.is_none() {
            self.columns = Some(if self.blocks.is_empty() {
                OpenGroup::Encoding(
                    self.factory
                        .create_column_writers(self.row_groups)
                        .map_err(|e| parquet_error(&path, e))?,
                )
            } else {
                OpenGroup::Held(vec![Vec::new(); self.schema.fields().len()])
            });
        }
        match &mut self.columns {
            Some(OpenGroup::Encoding(columns)) => {
                let mut leaves = Vec::with_capacity(df.width());
                for (field, column) in self.schema.fields().iter().zip(df.columns()) {
                    leaves.extend(
                        compute_leaves(field, column).map_err(|e| parquet_error(&path, e))?,
                    );
                }
                columns
                    .par_iter_mut()
                    .zip(leaves.par_iter())
                    .try_for_each(|(w, leaf)| w.write(leaf))
                    .map_err(|e| parquet_error(&path, e))?;
            }
            Some(OpenGroup::Held(held)) => {
                for (h, column) in held.iter_mut().zip(df.columns()) {
                    h.push(column.clone());
                }
            }
            None => return Err(Error::Internal("parquet row group not open".into())),
        }
        self.rows += df.height();
        self.bytes += crate::memory::frame_bytes(df);
        Ok(())
    }

    /// Close the open row group and write it out.
    pub(crate) fn end_row_group(&mut self) -> Result<()> {
        let Some(open) = self.columns.take() else {
            return Ok(());
        };
        let path = self.path.clone();
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::Internal("parquet writer closed".into()))?;
        let mut rg = writer
            .next_row_group()
            .map_err(|e| parquet_error(&path, e))?;
        match open {
            OpenGroup::Encoding(columns) => {
                let chunks = columns
                    .into_par_iter()
                    .map(ArrowColumnWriter::close)
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| parquet_error(&path, e))?;
                for c in chunks {
                    c.append_to_row_group(&mut rg)
                        .map_err(|e| parquet_error(&path, e))?;
                }
            }
            OpenGroup::Held(mut held) => {
                for (b, (first, factory)) in self.blocks.iter().enumerate() {
                    let end = self.blocks.get(b + 1).map_or(held.len(), |(f, _)| *f);
                    let fields = &self.schema.fields()[*first..end];
                    let writers = factory
                        .create_column_writers(self.row_groups)
                        .map_err(|e| parquet_error(&path, e))?;
                    // Each field's pieces go to its own leaves' writers, and are dropped
                    // once encoded.
                    let columns: Vec<Vec<ArrayRef>> =
                        held[*first..end].iter_mut().map(std::mem::take).collect();
                    let types = &self.types[*first..end];
                    let chunks = encode_block(fields, types, columns, writers)
                        .map_err(|e| parquet_error(&path, e))?;
                    for c in chunks {
                        c.append_to_row_group(&mut rg)
                            .map_err(|e| parquet_error(&path, e))?;
                    }
                }
            }
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
        let (max_bytes, max_rows) = self.limits;
        let by_rows = max_rows.map_or(left, |r| r.saturating_sub(self.rows));
        let per_row = crate::memory::frame_bytes(df).div_ceil(df.height().max(1));
        let by_bytes = max_bytes.saturating_sub(self.bytes) / per_row.max(1);
        // A row group takes at least one row.
        left.min(by_rows).min(by_bytes.max(1))
    }

    /// Write the next rows, ending row groups where they are full.
    pub fn write_frame(&mut self, df: &DataFrame) -> Result<()> {
        let mut start = 0;
        while start < df.height() {
            let n = self.fitting(df, start);
            self.encode(&df.slice(start, n))?;
            start += n;
            let (max_bytes, max_rows) = self.limits;
            let full_rows = max_rows.is_some_and(|r| self.rows >= r);
            if full_rows || self.bytes >= max_bytes || start < df.height() {
                self.end_row_group()?;
            }
        }
        Ok(())
    }

    /// Bytes the open row group holds: what its column writers report (their encoders' and
    /// pages' buffers) and what they do not, [`WRITER_COLUMN_BYTES`] a column; or, for a wide
    /// schema, the Arrow columns it holds.
    pub fn buffered(&self) -> usize {
        match &self.columns {
            None => 0,
            Some(OpenGroup::Encoding(c)) => {
                let reported: usize = c.iter().map(ArrowColumnWriter::memory_size).sum();
                reported + c.len() * WRITER_COLUMN_BYTES
            }
            Some(OpenGroup::Held(_)) => self.bytes,
        }
    }

    /// Write the last row group and the footer; returns the writer.
    pub fn finish(mut self) -> Result<W> {
        self.end_row_group()?;
        let path = self.path.clone();
        let writer = self
            .writer
            .take()
            .ok_or_else(|| Error::Internal("parquet writer closed".into()))?;
        writer.into_inner().map_err(|e| parquet_error(&path, e))
    }
}

/// Writer factories for blocks of [`HELD_BLOCK_FIELDS`] fields of `schema`, each over the
/// file's own Parquet types for those fields and its properties, so their column chunks are
/// the ones the whole-schema factory would make.
fn block_factories<W: Write + Send>(
    file: &SerializedFileWriter<W>,
    schema: &SchemaRef,
) -> parquet::errors::Result<Vec<(usize, ArrowRowGroupWriterFactory)>> {
    let root = file.schema_descr().root_schema();
    let types = root.get_fields();
    let mut blocks = Vec::new();
    for first in (0..schema.fields().len()).step_by(HELD_BLOCK_FIELDS) {
        let end = (first + HELD_BLOCK_FIELDS).min(schema.fields().len());
        let part = Type::group_type_builder(root.name())
            .with_fields(types[first..end].to_vec())
            .build()?;
        // The block's own file writer only lends its schema and properties to the factory;
        // nothing is written through it.
        let lender =
            SerializedFileWriter::new(std::io::sink(), Arc::new(part), file.properties().clone())?;
        let fields: Vec<_> = schema.fields()[first..end].to_vec();
        let arrow = Arc::new(Schema::new(fields));
        blocks.push((first, ArrowRowGroupWriterFactory::new(&lender, arrow)));
    }
    Ok(blocks)
}

/// Encode a block's fields (each given as its row group's pieces, in order) with `writers`
/// (one per leaf of those fields, in order), every field on its own worker; returns the
/// column chunks in leaf order.
fn encode_block(
    fields: &[FieldRef],
    types: &[TypePtr],
    columns: Vec<Vec<ArrayRef>>,
    writers: Vec<ArrowColumnWriter>,
) -> parquet::errors::Result<Vec<ArrowColumnChunk>> {
    // Each field's leaves are the next writers, in the order of its Parquet type's leaves
    // (taken one by one: splitting the vector would leave each field a vector with the
    // capacity of all the writers after it).
    let mut writers = writers.into_iter();
    let mut by_field = Vec::with_capacity(fields.len());
    for ((field, ty), pieces) in fields.iter().zip(types).zip(columns) {
        let ws: Vec<_> = writers.by_ref().take(leaf_count(ty)).collect();
        by_field.push((field, pieces, ws));
    }
    let per_field = by_field
        .into_par_iter()
        .map(|(field, pieces, mut ws)| {
            for piece in pieces {
                for (w, leaf) in ws.iter_mut().zip(compute_leaves(field, &piece)?) {
                    w.write(&leaf)?;
                }
            }
            ws.into_iter()
                .map(ArrowColumnWriter::close)
                .collect::<parquet::errors::Result<Vec<_>>>()
        })
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    Ok(per_field.into_iter().flatten().collect())
}

/// Leaf columns under a Parquet type.
fn leaf_count(t: &Type) -> usize {
    match t {
        Type::PrimitiveType { .. } => 1,
        Type::GroupType { fields, .. } => fields.iter().map(|f| leaf_count(f)).sum(),
    }
}

fn parquet_error(path: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::File {
        format: "Parquet",
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::parquet::ParquetCompression;
    use arrow::array::{
        Array, Float32Array, Float64Array, Int64Array, ListArray, StringArray, StructArray,
    };
    use arrow::datatypes::{DataType, Field, Fields, Int32Type};

    /// `width` columns of `rows` rows cycling through flat, nullable, string, struct and list
    /// types, so blocks of fields hold columns of one leaf and of several.
    fn mixed(rows: usize, width: usize) -> DataFrame {
        let mut fields = Vec::with_capacity(width);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(width);
        for j in 0..width {
            let (field, array): (Field, ArrayRef) = match j % 5 {
                0 => (
                    Field::new(format!("f{j}"), DataType::Float32, false),
                    Arc::new(Float32Array::from_iter_values(
                        (0..rows).map(|i| ((i * 31 + j) % 97) as f32 / 7.0),
                    )),
                ),
                1 => (
                    Field::new(format!("i{j}"), DataType::Int64, true),
                    Arc::new(Int64Array::from_iter(
                        (0..rows).map(|i| (i % 3 != 0).then_some((i * j) as i64 % 1000)),
                    )),
                ),
                2 => (
                    Field::new(format!("s{j}"), DataType::Utf8, true),
                    Arc::new(StringArray::from_iter(
                        (0..rows).map(|i| (i % 4 != 1).then(|| format!("v{}", (i + j) % 13))),
                    )),
                ),
                3 => {
                    let inner = Fields::from(vec![
                        Field::new("a", DataType::Float64, false),
                        Field::new("b", DataType::Int64, true),
                    ]);
                    let a: ArrayRef = Arc::new(Float64Array::from_iter_values(
                        (0..rows).map(|i| (i + j) as f64 * 0.5),
                    ));
                    let b: ArrayRef = Arc::new(Int64Array::from_iter(
                        (0..rows).map(|i| (i % 5 != 0).then_some(i as i64)),
                    ));
                    let s = StructArray::new(inner.clone(), vec![a, b], None);
                    (
                        Field::new(format!("t{j}"), DataType::Struct(inner), false),
                        Arc::new(s),
                    )
                }
                _ => {
                    let l =
                        ListArray::from_iter_primitive::<Int32Type, _, _>((0..rows).map(|i| {
                            (i % 7 != 3).then(|| (0..i % 4).map(|k| Some((k + j) as i32)))
                        }));
                    (
                        Field::new(format!("l{j}"), l.data_type().clone(), true),
                        Arc::new(l),
                    )
                }
            };
            fields.push(field);
            arrays.push(array);
        }
        DataFrame::from_arrays(Arc::new(Schema::new(fields)), arrays).unwrap()
    }

    /// Chunks of at most a page carry their statistics without a page index; chunks of several
    /// pages keep it (the scan splits such chunks by it).
    #[test]
    fn a_page_index_only_for_chunks_of_several_pages() {
        let footer = |df: &DataFrame, o: &ParquetWriteOptions| {
            let mut bytes = vec![];
            crate::io::parquet::write_with(df, &mut bytes, o).unwrap();
            parquet::file::metadata::ParquetMetaDataReader::new()
                .parse_and_finish(&bytes::Bytes::from(bytes))
                .unwrap()
        };
        let df = mixed(3000, 70);
        // 64 MiB over 70 fields' 98 leaves: under a page each.
        let meta = footer(&df, &ParquetWriteOptions::default());
        let chunk = meta.row_group(0).column(0);
        assert!(chunk.offset_index_range().is_none());
        let stats = chunk.statistics().expect("chunk statistics");
        assert!(stats.min_bytes_opt().is_some() && stats.max_bytes_opt().is_some());
        // Two leaves: 32 MiB each; statistics off: neither.
        let narrow = mixed(3000, 2);
        let meta = footer(&narrow, &ParquetWriteOptions::default());
        let chunk = meta.row_group(0).column(0);
        assert!(chunk.offset_index_range().is_some() && chunk.statistics().is_some());
        let meta = footer(&df, &ParquetWriteOptions::default().statistics(false));
        assert!(meta.row_group(0).column(0).statistics().is_none());
    }

    /// `df` written in pieces of the given sizes (cycling), holding row groups or not.
    fn write_pieces(
        df: &DataFrame,
        o: &ParquetWriteOptions,
        sizes: &[usize],
        hold: bool,
    ) -> Vec<u8> {
        let mut w =
            ParquetWriter::with_layout(Vec::new(), df.schema(), o, Path::new("t"), Some(hold))
                .unwrap();
        let (mut start, mut k) = (0, 0);
        while start < df.height() {
            let n = sizes[k % sizes.len()].min(df.height() - start);
            w.write_frame(&df.slice(start, n)).unwrap();
            start += n;
            k += 1;
        }
        w.finish().unwrap()
    }

    /// A row group held as Arrow columns and encoded a block of fields at a time when it ends
    /// is the same file, byte for byte, as one encoded piece by piece: across row groups
    /// ended by rows, by bytes and at the end, more fields than a block, and every codec
    /// setting the options change.
    #[test]
    fn held_row_groups_write_the_same_bytes() {
        let df = mixed(300, HELD_BLOCK_FIELDS + 40);
        let options = [
            ParquetWriteOptions::new(),
            ParquetWriteOptions::new().row_group_rows(70),
            ParquetWriteOptions::new().row_group_bytes(200_000),
            ParquetWriteOptions::new()
                .compression(ParquetCompression::Zstd)
                .compression_level(3)
                .statistics(false),
        ];
        for o in &options {
            let sizes = [1, 13, 64, 5, 100];
            let encoded = write_pieces(&df, o, &sizes, false);
            let held = write_pieces(&df, o, &sizes, true);
            assert!(encoded == held, "{o:?}: the files differ");
        }
        // And the file reads back as the frame.
        let bytes = write_pieces(&df, &options[1], &[64], true);
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
            bytes::Bytes::from(bytes),
            1 << 20,
        )
        .unwrap();
        let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
        let back = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        assert_eq!(back, df.to_record_batch().unwrap());
    }

    /// A wide schema's row group is held as its Arrow columns (what `buffered` reports to the
    /// sink's reservation), not as a column writer per column.
    #[test]
    fn wide_row_groups_hold_their_arrow_bytes() {
        let df = mixed(50, 1_000);
        let o = ParquetWriteOptions::new();
        let mut w = ParquetWriter::new(Vec::new(), df.schema(), &o, Path::new("t")).unwrap();
        w.write_frame(&df).unwrap();
        assert!(matches!(w.columns, Some(OpenGroup::Held(_))));
        assert_eq!(w.buffered(), crate::memory::frame_bytes(&df));
        let narrow = mixed(50, 10);
        let mut w = ParquetWriter::new(Vec::new(), narrow.schema(), &o, Path::new("t")).unwrap();
        w.write_frame(&narrow).unwrap();
        assert!(matches!(w.columns, Some(OpenGroup::Encoding(_))));
    }
}
