//! Our own decoder for flat numeric Parquet column chunks (FLOAT, DOUBLE, INT32, INT64, and
//! dates and timestamps stored as the integers Arrow holds; PLAIN or dictionary values; no
//! compression or snappy). parquet's arrow reader spent most of a scan
//! of such columns on work the data does not need: it zero-fills every decompressed page before
//! snappy overwrites it, zero-fills each output buffer before copying the values in, and pays
//! per-record bookkeeping meant for nested data. Here pages are read with `pread`, parsed and
//! decompressed into buffers each thread keeps, and values are appended straight into the
//! output piece, whose buffer is taken back for the next piece once the consumer has let go of
//! it (so it stays in cache). A short row group of a wide table is decoded at once instead
//! and handed on in slices (`FastRowGroup::decodes_whole`): piece by piece, each of its
//! thousands of columns would keep a dictionary and a page between pieces, more than the
//! decoded rows take. A tall row group read by more threads than the scan has columns is
//! decoded in page ranges side by side (`ranges`), with the same pieces. Anything else (other
//! codecs or encodings, nested columns, other logical or unsigned types, values the arrow
//! reader would convert) keeps the arrow reader.
//!
//! The measurement behind it (`benches/RESULTS.md`, quiet 2-core machine, 10M-row seed file,
//! snappy, 1M-row row groups): memset was 8-10% of the arrow reader's profile and is under
//! 0.5% here; `filter_agg_parquet` went from 0.0227 s to 0.0204 s and the scan of two Float64
//! columns from 0.024 s to 0.020-0.022 s (against Polars' 0.031 s and 0.032 s in the same
//! runs). Its values are checked against arrow-rs's reader on every file of the conformance
//! corpus and the writers' files (`tests/real_files.rs`), and in this module's tests.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{make_array, Array, ArrayRef, BooleanBufferBuilder, PrimitiveArray};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{self as dt, ArrowPrimitiveType, DataType, Schema};
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::basic::{Compression, ConvertedType, Encoding, LogicalType, Type as Physical};
use parquet::file::metadata::ParquetMetaData;
use parquet::schema::types::ColumnDescriptor;

use crate::error::{Error, Result};
use crate::memory::{MemoryPool, Reservation};

mod chunk;
mod ranges;
use chunk::{Hybrid, Ints, PageError, Pages};

/// The decodable column types; each is its Arrow type's native value, stored little-endian.
trait Native: dt::ArrowNativeType + Default {
    type Arrow: ArrowPrimitiveType<Native = Self>;
    const SIZE: usize;
    /// Append the values in `bytes` (whole values only; a tail is ignored).
    fn extend_le(out: &mut Vec<Self>, bytes: &[u8]);
}

macro_rules! native {
    ($t:ty, $arrow:ty, $n:literal) => {
        impl Native for $t {
            type Arrow = $arrow;
            const SIZE: usize = $n;
            fn extend_le(out: &mut Vec<Self>, bytes: &[u8]) {
                let values = bytes.as_chunks::<$n>().0;
                out.extend(values.iter().map(|c| <$t>::from_le_bytes(*c)));
            }
        }
    };
}
native!(f64, dt::Float64Type, 8);
native!(f32, dt::Float32Type, 4);
native!(i64, dt::Int64Type, 8);
native!(i32, dt::Int32Type, 4);

/// The Arrow type a leaf decodes to here, given the type the arrow reader would give it
/// (`file`): a physical numeric type with no logical type other than a signed integer of its
/// own width, or a date or timestamp stored as the very integers Arrow holds (INT32 days as
/// Date32, INT64 timestamps in the unit the Arrow type has, whatever its time zone). Where
/// the arrow reader would convert values (another unit, Date64, INT96), it keeps the column.
fn arrow_type(c: &ColumnDescriptor, file: &DataType) -> Option<DataType> {
    use parquet::basic::TimeUnit as Unit;
    let conv = c.converted_type();
    let int = |bits: i8, same: ConvertedType| {
        let logical = match c.logical_type_ref() {
            None => true,
            Some(LogicalType::Integer(t)) => t.bit_width == bits && t.is_signed,
            Some(_) => false,
        };
        logical && (conv == ConvertedType::NONE || conv == same)
    };
    let plain = c.logical_type_ref().is_none() && conv == ConvertedType::NONE;
    let ty = match (c.physical_type(), c.logical_type_ref()) {
        (Physical::DOUBLE, _) if plain => DataType::Float64,
        (Physical::FLOAT, _) if plain => DataType::Float32,
        (Physical::INT64, _) if int(64, ConvertedType::INT_64) => DataType::Int64,
        (Physical::INT32, _) if int(32, ConvertedType::INT_32) => DataType::Int32,
        (Physical::INT32, Some(LogicalType::Date)) => DataType::Date32,
        (Physical::INT64, Some(LogicalType::Timestamp(t))) => match (file, &t.unit) {
            (DataType::Timestamp(dt::TimeUnit::Millisecond, _), Unit::MILLIS)
            | (DataType::Timestamp(dt::TimeUnit::Microsecond, _), Unit::MICROS)
            | (DataType::Timestamp(dt::TimeUnit::Nanosecond, _), Unit::NANOS) => file.clone(),
            _ => return None,
        },
        _ => return None,
    };
    (&ty == file).then_some(ty)
}

/// One row group's projected columns, all decodable here (see [`plan`]).
pub(super) struct FastRowGroup {
    meta: Arc<ParquetMetaData>,
    rg: usize,
    /// The row group's number in the file, for errors (`rg` is its index in `meta`, 0 when
    /// `meta` is a footer decoded for this row group alone).
    number: usize,
    /// Leaf column and type of each decoded column, in file order.
    columns: Vec<(usize, DataType)>,
    /// What decoding piece by piece holds between pieces, estimated from the footer: a page
    /// per column (the whole chunk when it is one page), see [`page_state`].
    state_bytes: usize,
    /// Row groups the scan reads: with fewer than the pool has threads, a column's pages may
    /// be decoded in ranges side by side (`ranges`).
    scan_row_groups: usize,
    /// Decoded bytes a page range aims at ([`ranges::RANGE_BYTES`]; tests make it small).
    range_bytes: usize,
    /// The run's budget: what the decoder holds beyond a piece per column (a row group
    /// decoded whole, page ranges decoded ahead) is reserved from it first.
    memory: Option<Arc<MemoryPool>>,
}

/// The name a scan's reservations carry in the budget (and in its errors).
pub(super) const SCAN: &str = "SCAN";

/// Bytes a page holds at most, as writers cut them: parquet-rs, pyarrow and Spark end a data
/// page at 1 MiB, parquet-rs also at 20,000 rows.
const PAGE_BYTES: usize = 1 << 20;
const PAGE_ROWS: usize = 20_000;

/// What a column's decoder holds while a piece ends inside its page: the page (no more than
/// its chunk, which for a short row group is all of it, dictionary included).
fn page_state(chunk_bytes: i64, width: usize) -> usize {
    let chunk = usize::try_from(chunk_bytes).unwrap_or(0);
    chunk.min(PAGE_BYTES).min(PAGE_ROWS * width)
}

/// Bytes of one value of a decoded column.
fn value_width(ty: &DataType) -> usize {
    ty.primitive_width().unwrap_or(8)
}

#[allow(deprecated)] // BIT_PACKED: legacy level encoding, still listed by old writers
const ENCODINGS: [Encoding; 5] = [
    Encoding::PLAIN,
    Encoding::RLE,
    Encoding::RLE_DICTIONARY,
    Encoding::PLAIN_DICTIONARY,
    Encoding::BIT_PACKED,
];

/// Whether every projected root column (`roots`, file order) of row group `rg` is decodable
/// here, with `out`'s field `k` holding decoded column `order[k]`; `None` keeps the arrow reader.
/// Encryption is not checked: the crate builds parquet without its `encryption` feature, so an
/// encrypted footer fails to load and column crypto metadata is not even parsed; an encrypted
/// column's pages fail here as they would in the arrow reader.
pub(super) fn plan(
    meta: &ArrowReaderMetadata,
    rg: usize,
    roots: &[usize],
    out: &Schema,
    order: &[usize],
) -> Option<FastRowGroup> {
    let md = meta.metadata();
    let row_group = md.row_groups().get(rg)?;
    let descr = md.file_metadata().schema_descr();
    if roots.is_empty() || out.fields().len() != order.len() {
        return None;
    }
    // Each root's only leaf, found in one pass over the leaves (not one pass per root: a
    // 10,000-column file would take 100 million lookups per row group).
    let mut leaf_of = vec![None; descr.root_schema().get_fields().len()];
    let mut nested = vec![false; leaf_of.len()];
    for l in 0..descr.num_columns() {
        let r = descr.get_column_root_idx(l);
        let (slot, deep) = (leaf_of.get_mut(r)?, nested.get_mut(r)?);
        *deep |= slot.is_some();
        slot.get_or_insert(l);
    }
    let mut columns = Vec::with_capacity(roots.len());
    let mut state_bytes = 0;
    for &root in roots {
        let (Some(leaf), false) = (*leaf_of.get(root)?, *nested.get(root)?) else {
            return None;
        };
        let c = descr.columns().get(leaf)?;
        let chunk = row_group.columns().get(leaf)?;
        let ty = arrow_type(c, meta.schema().fields().get(root)?.data_type())?;
        let encodings_ok = chunk.encodings().all(|e| ENCODINGS.contains(&e));
        let flat = c.path().parts().len() == 1 && c.max_rep_level() == 0 && c.max_def_level() <= 1;
        let codec_ok = matches!(
            chunk.compression(),
            Compression::UNCOMPRESSED | Compression::SNAPPY
        );
        if !(flat && encodings_ok && codec_ok) {
            return None;
        }
        state_bytes += page_state(chunk.uncompressed_size(), value_width(&ty));
        columns.push((leaf, ty));
    }
    let types_ok = out
        .fields()
        .iter()
        .zip(order)
        .all(|(f, &j)| columns.get(j).is_some_and(|(_, ty)| f.data_type() == ty));
    types_ok.then(|| FastRowGroup {
        meta: md.clone(),
        rg,
        number: rg,
        columns,
        state_bytes,
        scan_row_groups: 1,
        range_bytes: ranges::RANGE_BYTES,
        memory: None,
    })
}

impl FastRowGroup {
    /// Whether the leading `rows` rows are decoded at once and handed on as slices rather
    /// than `batch` rows at a time: when the decoded rows take no more memory than the pages
    /// a piece-by-piece decode keeps between pieces. That is a wide table's short row group
    /// (10,000 float32 columns of 1,000 rows: 40 MB decoded, against each column's
    /// dictionary and page, 120 MB per thread); a tall row group keeps its pieces (each stays
    /// in cache, and its buffer is reused for the next). Fixed by the footer, so the pieces
    /// never depend on the thread count, and they are the same rows either way.
    fn decodes_whole(&self, rows: usize, batch: usize) -> bool {
        let width: usize = self.columns.iter().map(|(_, ty)| value_width(ty)).sum();
        rows > batch && rows.saturating_mul(width) <= self.state_bytes
    }

    /// The same row group, read by a scan of `n` row groups (see [`ranges`]) within the
    /// budget `memory`.
    pub(super) fn in_scan(mut self, n: usize, memory: Option<Arc<MemoryPool>>) -> Self {
        self.scan_row_groups = n;
        self.memory = memory;
        self
    }

    /// The same row group, named `number` in errors (its number in the file).
    pub(super) fn numbered(mut self, number: usize) -> Self {
        self.number = number;
        self
    }

    /// A reservation of `bytes` from the budget, or `None` when they do not fit (the caller
    /// then decodes piece by piece, which holds a piece per column); an empty one without a
    /// budget.
    fn reserve(&self, bytes: usize) -> Option<Option<Reservation>> {
        let Some(pool) = &self.memory else {
            return Some(None);
        };
        let r = pool.reserve(SCAN);
        r.try_grow(bytes).ok().map(|()| Some(r))
    }

    /// Decode the leading `rows` rows in pieces of `batch` rows (the last may be shorter),
    /// handing each piece's arrays (file order) to `f`.
    pub(super) fn read(
        &self,
        file: &File,
        file_len: u64,
        path: &Path,
        rows: usize,
        batch: usize,
        f: &mut dyn FnMut(Vec<ArrayRef>) -> Result<()>,
    ) -> Result<()> {
        let fail = |name: &str, m: &dyn std::fmt::Display| Error::File {
            format: "Parquet",
            path: path.to_path_buf(),
            message: format!("row group {}, column \"{name}\": {m}", self.number),
        };
        let row_group = self.meta.row_groups().get(self.rg);
        let mut readers = Vec::with_capacity(self.columns.len());
        for (leaf, ty) in &self.columns {
            let Some(chunk) = row_group.and_then(|g| g.columns().get(*leaf)) else {
                return Err(fail("?", &"no such column chunk"));
            };
            let name = chunk.column_path().string();
            let pages = Pages::new(file, file_len, chunk).map_err(|m| fail(&name, &m))?;
            let max_def = chunk.column_descr().max_def_level();
            let column: Box<dyn Piece<'_> + '_> = match ty {
                DataType::Float64 => Box::new(Column::<f64>::new(pages, max_def)),
                DataType::Float32 => Box::new(Column::<f32>::new(pages, max_def)),
                DataType::Int64 | DataType::Timestamp(..) => {
                    Box::new(Column::<i64>::new(pages, max_def))
                }
                _ => Box::new(Column::<i32>::new(pages, max_def)),
            };
            readers.push((name, column, ty));
        }
        let batch = batch.max(1);
        // A row group decoded whole is held whole (values and validity) until its last
        // slice is handed on: without room in the budget, piece by piece instead.
        let width: usize = self.columns.iter().map(|(_, ty)| value_width(ty)).sum();
        let whole_bytes = rows.saturating_mul(width + self.columns.len().div_ceil(8));
        let (whole, _held) = match self.decodes_whole(rows, batch) {
            true => self
                .reserve(whole_bytes)
                .map_or((false, None), |r| (true, r)),
            false => (false, None),
        };
        if !whole && ranges::worth_splitting(self.columns.len(), self.scan_row_groups) {
            let chunks = row_group.map(|g| g.columns()).unwrap_or_default();
            let chunks = self
                .columns
                .iter()
                .filter_map(|(leaf, _)| chunks.get(*leaf));
            let shape = (rows, batch, self.range_bytes);
            let split = ranges::Split::plan(file, file_len, chunks, &mut readers, shape, &fail)?;
            // Ranges decoded ahead wait for the consumer: reserved, else piece by piece.
            if let Some(split) = split {
                if let Some(_held) = self.reserve(split.held_bytes()) {
                    return split.read(&readers, &fail, f);
                }
            }
        }
        let step = if whole { rows } else { batch };
        let mut done = 0;
        while done < rows {
            let n = step.min(rows - done);
            // The piece's columns, side by side on the run's pool (`parquet_columns`).
            let arrays = super::parquet_columns::each_column(&mut readers, |(name, r, ty)| {
                let a = r.piece(n).map_err(|m| fail(name, &m))?;
                as_type(a, ty).map_err(|e| fail(name, &e))
            })?;
            done += n;
            if done == rows {
                // The decoders' dictionaries and taken-back buffers go before the consumer
                // runs on the last piece.
                readers.clear();
            }
            if n <= batch {
                f(arrays)?;
                continue;
            }
            for start in (0..n).step_by(batch) {
                let len = batch.min(n - start);
                let piece = arrays.iter().map(|a| slice_piece(a, start, len));
                f(piece
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| fail("?", &e))?)?;
            }
        }
        Ok(())
    }
}

/// A decoded column under its Arrow type: dates and timestamps are the same integers (the
/// buffers are shared, so the piece's buffer can still be taken back).
fn as_type(a: ArrayRef, ty: &DataType) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
    if a.data_type() == ty {
        return Ok(a);
    }
    let data = a.into_data().into_builder().data_type(ty.clone()).build()?;
    Ok(make_array(data))
}

/// A column's name, its decoder and its Arrow type.
type Reader<'a> = (String, Box<dyn Piece<'a> + 'a>, &'a DataType);

/// Rows `start..start + len` of a decoded column, as a piece decoded on its own would be: a
/// validity bitmap only if one of them is null.
fn slice_piece(
    a: &ArrayRef,
    start: usize,
    len: usize,
) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
    let piece = a.slice(start, len);
    if piece.nulls().is_none() || piece.null_count() > 0 {
        return Ok(piece);
    }
    Ok(make_array(
        piece.into_data().into_builder().nulls(None).build()?,
    ))
}

/// A column decoder of any of the value types.
trait Piece<'a>: Send + Sync {
    /// The next `n` rows; a validity bitmap only if one of them is null.
    fn piece(&mut self, n: usize) -> Result<ArrayRef, PageError>;
    /// Read the chunk's dictionary page, if it starts with one; returns the offset of the
    /// first page after it.
    fn load_dictionary(&mut self) -> Result<u64, PageError>;
    /// A decoder of the same chunk from the page header at `at`, taken to start at row
    /// `row`, with this decoder's dictionary (a dictionary page met there is an error: only
    /// the chunk's first page may be one).
    fn fork(&self, at: u64, row: usize) -> Box<dyn Piece<'a> + 'a>;
    /// Whether the decoder has used up its page and the next one starts at `at`.
    fn ends_before(&self, at: u64) -> bool;
}

const PLAIN: i32 = 0;
const PLAIN_DICTIONARY: i32 = 2;
const RLE: i32 = 3;
const BIT_PACKED: i32 = 4;
const RLE_DICTIONARY: i32 = 8;

/// A column chunk being decoded, positioned inside its current page.
struct Column<'a, T: Native> {
    pages: Pages<'a>,
    max_def: i16,
    /// Shared with the decoders of the chunk's other page ranges.
    dict: Option<Arc<Vec<T>>>,
    /// Started inside the chunk (`Piece::fork`), so a dictionary page is out of place.
    forked: bool,
    /// Levels (= rows, the column being flat) left in the current page.
    left: usize,
    rows: usize,
    def: Option<Hybrid>,
    values: Values,
    /// The last piece's values, taken back for the next piece once the consumer has let go.
    spare: Option<ScalarBuffer<T>>,
}

/// A page's values: PLAIN from a byte position, or dictionary indices.
enum Values {
    Plain(usize),
    Dict(Hybrid),
}

impl<'a, T: Native> Column<'a, T> {
    fn new(pages: Pages<'a>, max_def: i16) -> Self {
        Self {
            pages,
            max_def,
            dict: None,
            forked: false,
            left: 0,
            rows: 0,
            def: None,
            values: Values::Plain(0),
            spare: None,
        }
    }

    /// Move to the next data page, loading any dictionary page on the way.
    fn next_page(&mut self) -> Result<(), PageError> {
        loop {
            if self.pages.next >= self.pages.end {
                return Err(PageError::ShortChunk { rows: self.rows });
            }
            let (h, body) = self.pages.header()?;
            let (size, full) = (h.ints.count(3)?, h.ints.count(2)?);
            let stop = body
                .checked_add(size as u64)
                .filter(|&s| s <= self.pages.end);
            self.pages.next = stop.ok_or("page runs past the end of its column chunk")?;
            let snappy = self.pages.snappy;
            match (h.ints.int(1)?, &h.sub) {
                (2, Some((7, _))) if self.forked => {
                    return Err("a dictionary page after the chunk's first page".into())
                }
                (2, Some((7, d))) => self.dictionary_page(d, body, size, full)?,
                (0, Some((5, d))) => {
                    self.pages.load(body, size, full, 0, snappy)?;
                    return self.start_values(d.count(1)?, d.int(2)?, Some(d.int(3)?), 0);
                }
                (3, Some((8, d))) => {
                    let (rep, def) = (d.count(6)?, d.count(5)?);
                    let levels = rep.checked_add(def).filter(|&l| l <= size && l <= full);
                    let levels = levels.ok_or("level lengths exceed the page")?;
                    let unpack = snappy && d.int(7).unwrap_or(1) != 0;
                    self.pages.load(body, size, full, levels, unpack)?;
                    self.def = (self.max_def > 0).then(|| Hybrid::new(rep, levels, 1));
                    return self.start_values(d.count(1)?, d.int(4)?, None, levels);
                }
                (1, _) => {} // index pages carry nothing a reader needs
                (kind, _) => return Err(PageError::PageType { kind }),
            }
        }
    }

    /// Load the dictionary page whose header is `d`, its body `size` bytes at `body`
    /// (`full` decompressed).
    fn dictionary_page(
        &mut self,
        d: &Ints,
        body: u64,
        size: usize,
        full: usize,
    ) -> Result<(), PageError> {
        let code = d.int(2)?;
        if !matches!(code, PLAIN | PLAIN_DICTIONARY) {
            let what = "dictionary page encoding";
            return Err(PageError::Encoding { what, code });
        }
        self.pages.load(body, size, full, 0, self.pages.snappy)?;
        let need = d
            .count(1)?
            .checked_mul(T::SIZE)
            .ok_or("dictionary too large")?;
        let bytes = self.pages.page().get(..need);
        // The old dictionary's allocation is reused unless a forked decoder shares it.
        let old = self.dict.take().and_then(|d| Arc::try_unwrap(d).ok());
        let mut dict = old.unwrap_or_default();
        dict.clear();
        T::extend_le(&mut dict, bytes.ok_or("dictionary page too short")?);
        self.dict = Some(Arc::new(dict));
        Ok(())
    }

    /// Set up the loaded data page's level and value decoders: `count` levels, values in
    /// `encoding` from byte `values_at`, or after V1 levels in `def_encoding` if given.
    fn start_values(
        &mut self,
        count: usize,
        encoding: i32,
        def_encoding: Option<i32>,
        mut values_at: usize,
    ) -> Result<(), PageError> {
        let page = self.pages.page();
        if let Some(def_encoding) = def_encoding {
            self.def = None;
            if self.max_def > 0 {
                let (def, at) = match def_encoding {
                    RLE => {
                        let prefix = page.first_chunk::<4>().ok_or("page too short for levels")?;
                        let len = usize::try_from(u32::from_le_bytes(*prefix));
                        let end = len
                            .ok()
                            .and_then(|l| l.checked_add(4))
                            .unwrap_or(usize::MAX);
                        (Hybrid::new(4, end, 1), end)
                    }
                    // parquet's reader takes these bits least significant first, as here.
                    BIT_PACKED => (Hybrid::packed(count), count.div_ceil(8)),
                    code => {
                        let what = "definition level encoding";
                        return Err(PageError::Encoding { what, code });
                    }
                };
                if at > page.len() {
                    return Err("page too short for its levels".into());
                }
                self.def = Some(def);
                values_at = at;
            }
        }
        self.values = match encoding {
            PLAIN => Values::Plain(values_at),
            RLE_DICTIONARY | PLAIN_DICTIONARY => {
                if self.dict.is_none() {
                    return Err("dictionary-encoded page without a dictionary page".into());
                }
                // An all-null page may carry no index bytes at all, not even the width.
                let width = page.get(values_at).copied().unwrap_or(0);
                if width > 32 {
                    let (what, code) = ("dictionary index width", i32::from(width));
                    return Err(PageError::Encoding { what, code });
                }
                Values::Dict(Hybrid::new(
                    values_at + 1,
                    page.len().max(values_at + 1),
                    width,
                ))
            }
            code => {
                let what = "value encoding";
                return Err(PageError::Encoding { what, code });
            }
        };
        self.left = count;
        Ok(())
    }
}

impl<'a, T: Native + Send + Sync> Piece<'a> for Column<'a, T> {
    fn load_dictionary(&mut self) -> Result<u64, PageError> {
        let at = self.pages.next;
        if at >= self.pages.end {
            return Ok(at);
        }
        let (h, body) = self.pages.header()?;
        let (size, full) = (h.ints.count(3)?, h.ints.count(2)?);
        let stop = body
            .checked_add(size as u64)
            .filter(|&s| s <= self.pages.end);
        match (h.ints.int(1)?, &h.sub) {
            (2, Some((7, d))) => {
                self.pages.next = stop.ok_or("page runs past the end of its column chunk")?;
                self.dictionary_page(d, body, size, full)?;
                self.pages.release();
            }
            _ => self.pages.next = at,
        }
        Ok(self.pages.next)
    }

    fn fork(&self, at: u64, row: usize) -> Box<dyn Piece<'a> + 'a> {
        Box::new(Column::<T> {
            pages: self.pages.starting_at(at),
            max_def: self.max_def,
            dict: self.dict.clone(),
            forked: true,
            left: 0,
            rows: row,
            def: None,
            values: Values::Plain(0),
            spare: None,
        })
    }

    fn ends_before(&self, at: u64) -> bool {
        self.left == 0 && self.pages.next == at
    }

    fn piece(&mut self, n: usize) -> Result<ArrayRef, PageError> {
        let spare = self.spare.take().map(|b| b.into_inner().into_vec::<T>());
        let mut out: Vec<T> = match spare {
            Some(Ok(mut v)) if v.capacity() >= n => {
                v.clear();
                v
            }
            _ => Vec::with_capacity(n),
        };
        let mut nulls: Option<BooleanBufferBuilder> = None;
        while out.len() < n {
            if self.left == 0 {
                self.next_page()?;
                continue;
            }
            let want = (n - out.len()).min(self.left);
            let page = self.pages.page();
            let (valid, k) = match &mut self.def {
                Some(d) => d.level_run(page, want)?,
                None => (true, want),
            };
            if valid {
                match &mut self.values {
                    Values::Plain(pos) => {
                        let stop = k.checked_mul(T::SIZE).and_then(|b| pos.checked_add(b));
                        let bytes = stop.and_then(|s| page.get(*pos..s));
                        T::extend_le(&mut out, bytes.ok_or("page has fewer values than levels")?);
                        *pos += k * T::SIZE;
                    }
                    Values::Dict(h) => {
                        let dict = self.dict.as_deref().map_or(&[][..], Vec::as_slice);
                        h.gather(page, k, dict, &mut out)?
                    }
                }
                if let Some(b) = &mut nulls {
                    b.append_n(k, true);
                }
            } else {
                let b = nulls.get_or_insert_with(|| {
                    let mut b = BooleanBufferBuilder::new(n);
                    b.append_n(out.len(), true);
                    b
                });
                b.append_n(k, false);
                out.extend(std::iter::repeat_n(T::default(), k));
            }
            self.left -= k;
            self.rows += k;
        }
        if self.left == 0 {
            // The page is used up: its buffers serve this thread's next column (a wide row
            // group has thousands of decoders, each otherwise keeping its own), and a chunk
            // that has ended keeps no dictionary.
            self.pages.release();
            if self.pages.next >= self.pages.end {
                self.dict = None;
            }
        }
        let nulls = nulls.map(|mut b| NullBuffer::new(b.finish()));
        let values = ScalarBuffer::from(out);
        self.spare = Some(values.clone());
        let array = PrimitiveArray::<T::Arrow>::try_new(values, nulls);
        Ok(Arc::new(array?))
    }
}

#[cfg(test)]
mod tests;
