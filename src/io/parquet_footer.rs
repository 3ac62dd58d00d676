//! A lenient second reading of a Parquet footer that parquet's strict decoder rejects.
//!
//! The footer is Thrift compact-protocol data. Generated Thrift readers in other languages
//! (parquet-cpp, parquet-mr) skip a field whose wire type is not the one the schema gives its
//! id, so files that reuse a field id for something else (Dremio 3.2 wrote a list where
//! `ColumnMetaData` field 15 is an `i32`) read there; parquet-rs reads the value as the type it
//! expects and fails further on. When the strict decoder fails, [`sanitize`] walks the footer
//! once, copying it while dropping such fields from the structs that reach the column chunks
//! (`FileMetaData`, `RowGroup`, `ColumnChunk`, `ColumnMetaData`), re-encoding integers whose
//! width differs from the schema's, and dropping a `dictionary_page_offset` that cannot be one
//! (0, or not before the first data page), as parquet-cpp ignores it. The result is handed to
//! the strict decoder again; a footer that is broken beyond that still fails there.
//!
//! Every read is bounds-checked and recursion is capped, so hostile bytes give an error.
//!
//! [`row_group_spans`] finds where each row group lies in a footer, so a scan of a footer with
//! many column chunks (10 row groups of 10,000 columns decode to 42 MB) can keep the footer's
//! bytes without its row groups and decode one row group's footer ([`one_row_group`]) when
//! it reads that row group.

use std::path::Path;

use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::file::metadata::ParquetMetaData;

use super::parquet::{arrow_metadata, check_chunks, footer_bytes, open_file, perr};
use super::parquet_dictionary::with_coded_strings;
use crate::error::{Error, Result};

/// Compact-protocol wire types.
const STOP: u8 = 0;
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const I8: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
const UUID: u8 = 13;

const MAX_DEPTH: usize = 64;

/// The structs on the way to the column chunks, whose fields are checked.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    FileMeta,
    RowGroup,
    ColumnChunk,
    ColumnMeta,
    /// Any other struct: copied as it is.
    Other,
}

/// What the Parquet schema says a field holds.
#[derive(Clone, Copy)]
enum Expect {
    Int(u8),
    Binary,
    List(u8, Kind),
    Struct(Kind),
}

fn expected(kind: Kind, id: i16) -> Option<Expect> {
    use Expect::*;
    use Kind::*;
    Some(match (kind, id) {
        (FileMeta, 1) => Int(I32),
        (FileMeta, 2 | 5 | 7) => List(STRUCT, Other),
        (FileMeta, 3) => Int(I64),
        (FileMeta, 4) => List(STRUCT, RowGroup),
        (FileMeta, 6 | 9) => Binary,
        (FileMeta, 8) => Struct(Other),
        (RowGroup, 1) => List(STRUCT, ColumnChunk),
        (RowGroup, 2 | 3 | 5 | 6) => Int(I64),
        (RowGroup, 4) => List(STRUCT, Other),
        (RowGroup, 7) => Int(I16),
        (ColumnChunk, 1 | 9) => Binary,
        (ColumnChunk, 2 | 4 | 6) => Int(I64),
        (ColumnChunk, 3) => Struct(ColumnMeta),
        (ColumnChunk, 5 | 7) => Int(I32),
        (ColumnChunk, 8) => Struct(Other),
        (ColumnMeta, 1 | 4 | 15) => Int(I32),
        (ColumnMeta, 2) => List(I32, Other),
        (ColumnMeta, 3) => List(BINARY, Other),
        (ColumnMeta, 5..=7 | 9..=11 | 14) => Int(I64),
        (ColumnMeta, 8 | 13) => List(STRUCT, Other),
        (ColumnMeta, 12 | 16 | 17) => Struct(Other),
        _ => return None,
    })
}

fn is_int(t: u8) -> bool {
    matches!(t, I8 | I16 | I32 | I64)
}

fn bad(what: &str, at: usize) -> Error {
    Error::Compute(format!("malformed Thrift footer: {what} at byte {at}"))
}

struct Walk<'a> {
    input: &'a [u8],
    pos: usize,
    out: Vec<u8>,
}

impl Walk<'_> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| bad("unexpected end", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint longer than 10 bytes", self.pos))
    }

    fn zigzag(&mut self) -> Result<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.input.len())
            .ok_or_else(|| bad("length past the end", self.pos))?;
        let s = &self.input[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn put_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn put_zigzag(&mut self, v: i64) {
        self.put_varint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// An integer of any width, as an i64.
    fn int(&mut self, t: u8) -> Result<i64> {
        if t == I8 {
            Ok(i64::from(self.byte()? as i8))
        } else {
            self.zigzag()
        }
    }

    /// Copy one value of wire type `t`; structs of `kind` have their fields checked.
    fn value(&mut self, t: u8, kind: Kind, depth: usize, emit: bool) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad("nesting too deep", self.pos));
        }
        let start = self.pos;
        match t {
            TRUE | FALSE => {}
            I8 => {
                self.byte()?;
            }
            I16 | I32 | I64 => {
                self.varint()?;
            }
            DOUBLE => {
                self.take(8)?;
            }
            UUID => {
                self.take(16)?;
            }
            BINARY => {
                let n = usize::try_from(self.varint()?).map_err(|_| bad("length", start))?;
                self.take(n)?;
            }
            LIST | SET => {
                let (n, et) = self.list_header()?;
                if emit {
                    self.out.extend_from_slice(&self.input[start..self.pos]);
                }
                for _ in 0..n {
                    self.element(et, kind, depth + 1, emit)?;
                }
                return Ok(());
            }
            MAP => {
                let n = self.varint()?;
                if n > self.input.len() as u64 {
                    return Err(bad("map size past the end", start));
                }
                let types = if n > 0 { self.byte()? } else { 0 };
                if emit {
                    self.out.extend_from_slice(&self.input[start..self.pos]);
                }
                for _ in 0..n {
                    self.element(types >> 4, Kind::Other, depth + 1, emit)?;
                    self.element(types & 15, Kind::Other, depth + 1, emit)?;
                }
                return Ok(());
            }
            STRUCT => return self.fields(kind, depth + 1, emit),
            _ => return Err(bad(&format!("unknown wire type {t}"), start)),
        }
        if emit {
            self.out.extend_from_slice(&self.input[start..self.pos]);
        }
        Ok(())
    }

    /// A container element: booleans are one byte there, not part of a field header.
    fn element(&mut self, t: u8, kind: Kind, depth: usize, emit: bool) -> Result<()> {
        if t == TRUE || t == FALSE {
            let b = self.byte()?;
            if emit {
                self.out.push(b);
            }
            return Ok(());
        }
        self.value(t, kind, depth, emit)
    }

    fn list_header(&mut self) -> Result<(u64, u8)> {
        let at = self.pos;
        let h = self.byte()?;
        let n = match h >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        // Every element takes at least one byte (booleans and empty structs included).
        if n > (self.input.len() - self.pos) as u64 {
            return Err(bad("list size past the end", at));
        }
        Ok((n, h & 15))
    }

    /// Copy a struct's fields up to its stop byte, dropping those of the wrong wire type.
    fn fields(&mut self, kind: Kind, depth: usize, emit: bool) -> Result<()> {
        let mut last_in = 0i16;
        let mut last_out = 0i16;
        loop {
            let at = self.pos;
            let h = self.byte()?;
            let t = h & 15;
            if t == STOP {
                if emit {
                    self.out.push(STOP);
                }
                return Ok(());
            }
            let id = match h >> 4 {
                0 => i16::try_from(self.zigzag()?).map_err(|_| bad("field id", at))?,
                d => last_in
                    .checked_add(i16::from(d))
                    .ok_or_else(|| bad("field id", at))?,
            };
            last_in = id;
            let want = if kind == Kind::Other {
                None
            } else {
                expected(kind, id)
            };
            let (keep_type, child) = match want {
                None => (Some(t), Kind::Other),
                Some(Expect::Int(w)) if is_int(t) => (Some(w), Kind::Other),
                Some(Expect::Binary) if t == BINARY => (Some(t), Kind::Other),
                Some(Expect::Struct(k)) if t == STRUCT => (Some(t), k),
                Some(Expect::List(et, k)) if t == LIST => (self.list_fits(et).then_some(t), k),
                Some(_) => (None, Kind::Other),
            };
            let emit_field = emit && keep_type.is_some();
            if let (Some(w), true) = (keep_type, is_int(t) && want.is_some()) {
                let v = self.int(t)?;
                if kind == Kind::ColumnMeta && id == 11 && !self.dictionary_offset_ok(v) {
                    continue;
                }
                if emit_field {
                    self.field_header(id, w, &mut last_out);
                    self.put_zigzag(v);
                }
                continue;
            }
            if emit_field {
                self.field_header(id, t, &mut last_out);
            }
            self.value(t, child, depth, emit_field)?;
        }
    }

    /// True when the list at the cursor has elements of type `et` (or none at all).
    fn list_fits(&self, et: u8) -> bool {
        match self.input.get(self.pos) {
            Some(&h) => h >> 4 == 0 || h & 15 == et || (is_int(h & 15) && is_int(et) && et != I8),
            None => false,
        }
    }

    /// A dictionary page offset of 0 points at the file's magic bytes, never at a page.
    fn dictionary_offset_ok(&self, v: i64) -> bool {
        v >= 4
    }

    fn field_header(&mut self, id: i16, t: u8, last: &mut i16) {
        match id.checked_sub(*last) {
            Some(d @ 1..=15) => self.out.push(((d as u8) << 4) | t),
            _ => {
                self.out.push(t);
                self.put_zigzag(i64::from(id));
            }
        }
        *last = id;
    }
}

/// The footer `bytes` (a serialized `FileMetaData`) with fields of the wrong wire type dropped,
/// integer widths corrected and impossible dictionary page offsets removed.
pub(crate) fn sanitize(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut w = Walk {
        input: bytes,
        pos: 0,
        out: Vec::with_capacity(bytes.len()),
    };
    w.fields(Kind::FileMeta, 0, true)?;
    Ok(w.out)
}

/// Where a footer's row groups lie: where the list's header starts (after every field before
/// `row_groups` and the list's field header), each row group's struct, and where the bytes
/// after the list start.
pub(crate) struct RowGroupSpans {
    pub(crate) head: usize,
    pub(crate) groups: Vec<std::ops::Range<usize>>,
    pub(crate) tail_start: usize,
}

/// Find the row groups (`FileMetaData` field 4, a list of structs) in the footer `bytes`.
pub(crate) fn row_group_spans(bytes: &[u8]) -> Result<RowGroupSpans> {
    let mut w = Walk {
        input: bytes,
        pos: 0,
        out: Vec::new(),
    };
    let mut last = 0i16;
    loop {
        let at = w.pos;
        let h = w.byte()?;
        let t = h & 15;
        if t == STOP {
            return Err(bad("no row groups", at));
        }
        let id = match h >> 4 {
            0 => i16::try_from(w.zigzag()?).map_err(|_| bad("field id", at))?,
            d => last
                .checked_add(i16::from(d))
                .ok_or_else(|| bad("field id", at))?,
        };
        last = id;
        if id == 4 && t == LIST {
            let head = w.pos;
            let (n, et) = w.list_header()?;
            if et != STRUCT && n > 0 {
                return Err(bad("row groups that are not structs", at));
            }
            let mut groups = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let start = w.pos;
                w.value(STRUCT, Kind::Other, 1, false)?;
                groups.push(start..w.pos);
            }
            return Ok(RowGroupSpans {
                head,
                groups,
                tail_start: w.pos,
            });
        }
        w.value(t, Kind::Other, 1, false)?;
    }
}

/// A footer with one row group: `head` (the bytes before the list's header), a list header
/// of one struct, the row group's struct and `tail` (the bytes after the list). Field headers
/// stay valid: they encode ids as deltas, and the field ids around the list do not change.
pub(crate) fn one_row_group(head: &[u8], group: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 1 + group.len() + tail.len());
    out.extend_from_slice(head);
    out.push((1 << 4) | STRUCT);
    out.extend_from_slice(group);
    out.extend_from_slice(tail);
    out
}

/// Footers with this many column chunks or more (over more than one row group) are not held
/// decoded by a scan: 10 row groups of 10,000 columns decode to 42 MB, held for the whole
/// scan beside the row groups being read. The scan keeps the footer's bytes without its row
/// groups and decodes each row group's part when it reads that row group (a tenth of the
/// footer there, once per row group).
pub(super) const HELD_FOOTER_CHUNKS: usize = 20_000;

/// A footer decoded a row group at a time (see [`HELD_FOOTER_CHUNKS`]).
pub(super) struct FooterByRowGroup {
    /// The footer's bytes before its row groups' list header, and after the list.
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Each row group's struct in the file: offset and length.
    groups: Vec<(u64, usize)>,
    /// Columns read as dictionary codes (see [`with_coded_strings`]).
    coded: Vec<String>,
}

impl FooterByRowGroup {
    /// The footer of `path` (already decoded once as `meta`) split at its row groups, when it
    /// is large enough to be worth it.
    pub(super) fn new(
        path: &Path,
        meta: &ParquetMetaData,
        coded: &[String],
    ) -> Result<Option<Self>> {
        let chunks: usize = meta.row_groups().iter().map(|rg| rg.num_columns()).sum();
        if meta.num_row_groups() < 2 || chunks < HELD_FOOTER_CHUNKS {
            return Ok(None);
        }
        Self::split(path, meta, coded)
    }

    /// The footer of `path` split at its row groups, whatever its size; `None` when it cannot
    /// be walked (a footer only the lenient reading reads).
    fn split(path: &Path, meta: &ParquetMetaData, coded: &[String]) -> Result<Option<Self>> {
        let (start, footer) = footer_bytes(path, &open_file(path)?)?;
        // A footer the strict decoder read is walked here; one it did not (read leniently) is
        // held decoded as before.
        let Ok(spans) = row_group_spans(&footer) else {
            return Ok(None);
        };
        if spans.groups.len() != meta.num_row_groups() {
            return Ok(None);
        }
        Ok(Some(Self {
            head: footer[..spans.head].to_vec(),
            tail: footer[spans.tail_start..].to_vec(),
            groups: spans
                .groups
                .iter()
                .map(|g| (start + g.start as u64, g.len()))
                .collect(),
            coded: coded.to_vec(),
        }))
    }

    /// Row group `rg`'s footer: the file's with that row group alone (its index 0).
    pub(super) fn row_group(&self, path: &Path, rg: usize) -> Result<ArrowReaderMetadata> {
        use std::io::{Read, Seek, SeekFrom};
        let (at, len) = *self
            .groups
            .get(rg)
            .ok_or_else(|| Error::Internal(format!("no row group {rg} in the footer")))?;
        let file = open_file(path)?;
        let mut group = vec![0u8; len];
        (&file)
            .seek(SeekFrom::Start(at))
            .and_then(|_| (&file).read_exact(&mut group))
            .map_err(|e| Error::io(path, e))?;
        let bytes = one_row_group(&self.head, &group, &self.tail);
        let meta = parquet::file::metadata::ParquetMetaDataReader::decode_metadata(&bytes)
            .map_err(|e| perr(path, e))?;
        check_chunks(path, &file, &meta, rg)?;
        let meta = arrow_metadata(path, meta)?;
        Ok(with_coded_strings(&meta, &self.coded).unwrap_or(meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `ColumnMetaData` field 15 written as a list is dropped; the fields around it stay,
    /// and later field ids are re-based on the last id written.
    #[test]
    fn drops_a_field_of_the_wrong_wire_type() {
        // FileMetaData { 4: [RowGroup { 1: [ColumnChunk { 3: ColumnMetaData {
        //   9: i64 7, 15: list<struct>[{}], 16: struct {} } }] }] }
        let meta = [
            0x49, 0x1c, // field 4: list of 1 struct
            0x19, 0x1c, // RowGroup field 1: list of 1 struct
            0x3c, // ColumnChunk field 3: struct
            0x96, 0x0e, // ColumnMetaData field 9: i64 7 (zigzag 14)
            0x69, 0x1c, 0x00, // field 15 (+6): list of 1 struct, empty
            0x1c, 0x00, // field 16 (+1): empty struct
            0x00, // end ColumnMetaData
            0x00, // end ColumnChunk
            0x00, // end RowGroup
            0x00, // end FileMetaData
        ];
        let out = sanitize(&meta).unwrap();
        // Field 16 is now 7 past field 9.
        assert_eq!(
            out,
            [0x49, 0x1c, 0x19, 0x1c, 0x3c, 0x96, 0x0e, 0x7c, 0x00, 0x00, 0x00, 0x00, 0x00]
        );
    }

    #[test]
    fn drops_a_zero_dictionary_page_offset_and_rewidens_integers() {
        // ColumnMetaData { 9: i32 100 (should be i64), 11: i64 0 }
        let meta = [
            0x49, 0x1c, 0x19, 0x1c, 0x3c, 0x95, 0xc8, 0x01, 0x26, 0x00, 0, 0, 0, 0, 0,
        ];
        let out = sanitize(&meta).unwrap();
        assert_eq!(
            out,
            [0x49, 0x1c, 0x19, 0x1c, 0x3c, 0x96, 0xc8, 0x01, 0x00, 0x00, 0x00, 0x00]
        );
    }

    /// Each row group's footer, cut out of the whole, decodes to that row group's metadata
    /// with the file's schema.
    #[test]
    fn a_footer_splits_into_its_row_groups() {
        use crate::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.parquet");
        let df = range(0, 1_000)
            .with_columns([
                (col("range") * 3).cast(DataType::Float32).alias("x"),
                col("range").cast(DataType::Utf8).alias("s"),
            ])
            .collect()
            .unwrap();
        let mut file = std::fs::File::create(&path).unwrap();
        crate::io::parquet::write_with_row_groups(&df, &mut file, 300).unwrap();
        let whole = crate::io::parquet::read_metadata(&path).unwrap();
        let footer = FooterByRowGroup::split(&path, whole.metadata(), &[])
            .unwrap()
            .unwrap();
        assert_eq!(footer.groups.len(), 4);
        for rg in 0..4 {
            let one = footer.row_group(&path, rg).unwrap();
            assert_eq!(one.metadata().num_row_groups(), 1);
            assert_eq!(one.metadata().row_group(0), whole.metadata().row_group(rg));
            assert_eq!(one.schema(), whole.schema());
        }
        assert!(footer.row_group(&path, 4).is_err());
        // Small footers stay whole.
        assert!(FooterByRowGroup::new(&path, whole.metadata(), &[])
            .unwrap()
            .is_none());
    }

    /// A scan that decodes the footer a row group at a time names the file's row group in its
    /// errors, not the index (0) it has in the one-row-group footer.
    #[test]
    fn a_damaged_row_group_is_named_by_its_number_in_the_file() {
        use crate::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.parquet");
        // 2 row groups of 10,000 columns: the footer is read a row group at a time.
        let columns = HELD_FOOTER_CHUNKS / 2;
        let exprs: Vec<Expr> = (0..columns)
            .map(|c| {
                (col("range") + c as i64)
                    .cast(DataType::Float32)
                    .alias(format!("c{c}"))
            })
            .collect();
        let df = range(0, 4).select(exprs).collect().unwrap();
        let mut file = std::fs::File::create(&path).unwrap();
        crate::io::parquet::write_with_row_groups(&df, &mut file, 2).unwrap();
        drop(file);
        let whole = crate::io::parquet::read_metadata(&path).unwrap();
        assert!(FooterByRowGroup::new(&path, whole.metadata(), &[])
            .unwrap()
            .is_some());
        // Row group 1's column c7: its first page header overwritten with bytes thrift rejects.
        let chunk = whole.metadata().row_group(1).column(7);
        let at = chunk
            .dictionary_page_offset()
            .unwrap_or(chunk.data_page_offset()) as usize;
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at..at + 8].fill(0xff);
        std::fs::write(&path, &bytes).unwrap();
        let err = scan_parquet(&path).collect().unwrap_err().to_string();
        assert!(err.contains("row group 1, column \"c7\""), "{err}");
    }

    #[test]
    fn hostile_bytes_give_errors() {
        assert!(sanitize(&[]).is_err());
        assert!(sanitize(&[0x49, 0xfc, 0xff, 0xff, 0xff, 0x0f]).is_err());
        // A struct nested deeper than the cap.
        let mut deep = vec![0x1c; 200];
        deep.push(0);
        assert!(sanitize(&deep).is_err());
        assert!(sanitize(&[0x18, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
