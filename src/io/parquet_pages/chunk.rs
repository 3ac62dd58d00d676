//! A column chunk's bytes: its pages, read one at a time with `pread` into buffers each thread
//! keeps, their Thrift compact-protocol headers, snappy; and the RLE / bit-packed hybrid
//! encoding of definition levels and dictionary indices.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::FileExt;

use parquet::basic::Compression;
use parquet::file::metadata::ColumnChunkMetaData;

/// Why a column chunk's pages cannot be decoded. The scan turns it into
/// [`Error::File`](crate::Error::File) naming the file, the row group and the column; the
/// decoder itself knows only byte offsets.
#[derive(Debug, thiserror::Error)]
pub(super) enum PageError {
    /// The chunk's byte range, as its metadata gives it, is not inside the file.
    #[error("column chunk not within the file's {file_len} bytes")]
    OutsideFile { file_len: u64 },
    /// Reading the file failed (a file shortened while it is read, say).
    #[error("reading {len} bytes at byte {at}: {source}")]
    Read {
        at: u64,
        len: usize,
        #[source]
        source: std::io::Error,
    },
    /// A page header that ends with the chunk.
    #[error("page header at byte {at} is truncated")]
    TruncatedHeader { at: u64 },
    /// A page header that is not valid Thrift compact protocol.
    #[error("bad page header at byte {at}: {reason}")]
    BadHeader { at: u64, reason: &'static str },
    /// A page header without a field the page needs (by Thrift field id).
    #[error("page header lacks field {id}")]
    MissingField { id: usize },
    /// A size or count field below zero.
    #[error("page header field {id} is negative")]
    NegativeField { id: usize },
    /// Page sizes that contradict each other or the bytes stored.
    #[error("page at byte {at}: bad sizes (stored {stored}, full {full})")]
    BadSizes { at: u64, stored: usize, full: usize },
    /// A snappy stream that does not decompress.
    #[error("page at byte {at}: snappy: {source}")]
    Snappy {
        at: u64,
        #[source]
        source: snap::Error,
    },
    /// A snappy stream of another length than the header says.
    #[error("page at byte {at}: {got} bytes decompressed, header says {want}")]
    Decompressed { at: u64, got: usize, want: usize },
    /// A page type without its type-specific header.
    #[error("page type {kind} without its header")]
    PageType { kind: i32 },
    /// An encoding (or index width) outside what Parquet defines for these columns.
    #[error("{what} {code}")]
    Encoding { what: &'static str, code: i32 },
    /// The chunk ends before the row group's rows do.
    #[error("column chunk ends after {rows} rows")]
    ShortChunk { rows: usize },
    /// Damaged page contents: levels, runs or values that do not add up.
    #[error("{0}")]
    Damaged(&'static str),
    /// Decoded values that do not form a valid Arrow array.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}

impl From<&'static str> for PageError {
    fn from(what: &'static str) -> Self {
        PageError::Damaged(what)
    }
}

/// One column chunk's pages, read one at a time into buffers that only ever grow, so a page
/// costs no allocation and no zero-fill once the largest page has been seen. The buffers are
/// the thread's ([`SPARE`]): taken when a page is read, the raw one given back once the page
/// is decompressed and the other once the page is used up ([`release`](Self::release)), so a
/// row group of 10,000 columns holds a page only for the columns stopped inside one.
pub(super) struct Pages<'a> {
    file: &'a File,
    /// File offset of the next page header, and the chunk's end.
    pub(super) next: u64,
    pub(super) end: u64,
    pub(super) snappy: bool,
    /// Raw bytes (headers too) and decompressed pages.
    raw: Vec<u8>,
    unpacked: Vec<u8>,
    /// The current page is `unpacked[..len]` when decompressed, else `raw[..len]`.
    in_unpacked: bool,
    len: usize,
    snap: snap::raw::Decoder,
}

impl<'a> Pages<'a> {
    pub(super) fn new(
        file: &'a File,
        file_len: u64,
        chunk: &ColumnChunkMetaData,
    ) -> Result<Self, PageError> {
        let start = chunk
            .dictionary_page_offset()
            .unwrap_or(chunk.data_page_offset());
        let (start, len) = (u64::try_from(start), u64::try_from(chunk.compressed_size()));
        let range = start.ok().zip(len.ok());
        let range = range.and_then(|(s, l)| Some((s, s.checked_add(l)?)));
        let Some((next, end)) = range.filter(|r| r.1 <= file_len) else {
            return Err(PageError::OutsideFile { file_len });
        };
        Ok(Self {
            file,
            next,
            end,
            snappy: chunk.compression() == Compression::SNAPPY,
            raw: Vec::new(),
            unpacked: Vec::new(),
            in_unpacked: false,
            len: 0,
            snap: snap::raw::Decoder::new(),
        })
    }

    /// The same chunk's pages from the page header at `at` on, with buffers of their own.
    pub(super) fn starting_at(&self, at: u64) -> Self {
        Self {
            file: self.file,
            next: at,
            end: self.end,
            snappy: self.snappy,
            raw: Vec::new(),
            unpacked: Vec::new(),
            in_unpacked: false,
            len: 0,
            snap: snap::raw::Decoder::new(),
        }
    }

    pub(super) fn page(&self) -> &[u8] {
        let buf = if self.in_unpacked {
            &self.unpacked
        } else {
            &self.raw
        };
        buf.get(..self.len).unwrap_or_default()
    }

    /// Parse the next page header; returns it and its body's file offset.
    pub(super) fn header(&mut self) -> Result<(Fields, u64), PageError> {
        let at = self.next;
        let left = usize::try_from(self.end - at).unwrap_or(usize::MAX);
        // Headers of numeric pages are tens of bytes; retry larger only for unusual ones.
        let mut want = left.min(256);
        let mut small = [0; 256];
        loop {
            let buf = if want <= small.len() {
                small.get_mut(..want).unwrap_or_default()
            } else {
                take_spare(&mut self.raw);
                grow(&mut self.raw, want);
                self.raw.get_mut(..want).unwrap_or_default()
            };
            read_at(self.file, buf, at)?;
            let mut c = Compact { buf, pos: 0 };
            match Fields::read(&mut c, 0) {
                Ok(h) => return Ok((h, at + c.pos as u64)),
                Err(Thrift::Eof) if want < left => want = left.min(want.saturating_mul(8)),
                Err(Thrift::Eof) => return Err(PageError::TruncatedHeader { at }),
                Err(Thrift::Bad(reason)) => return Err(PageError::BadHeader { at, reason }),
            }
        }
    }

    /// Read a page body of `size` bytes at `at`; with `unpack`, snappy-decompress all but its
    /// first `keep` bytes (V2 levels) into a page of `full` bytes.
    pub(super) fn load(
        &mut self,
        at: u64,
        size: usize,
        full: usize,
        keep: usize,
        unpack: bool,
    ) -> Result<(), PageError> {
        take_spare(&mut self.raw);
        grow(&mut self.raw, size);
        let raw = self.raw.get_mut(..size).unwrap_or_default();
        read_at(self.file, raw, at)?;
        self.in_unpacked = unpack;
        self.len = if unpack { full } else { size };
        if !unpack {
            return Ok(());
        }
        let bad = || PageError::BadSizes {
            at,
            stored: size,
            full,
        };
        let (levels, packed) = raw.split_at_checked(keep).ok_or_else(bad)?;
        let want = full.checked_sub(keep).ok_or_else(bad)?;
        // A snappy stream expands at most ~21x (a 3-byte copy of 64 bytes); a larger size is
        // corrupt, and allocating it first could exhaust memory.
        if want > packed.len().saturating_mul(32).saturating_add(64) {
            return Err(bad());
        }
        take_spare(&mut self.unpacked);
        grow(&mut self.unpacked, full);
        let out = self.unpacked.get_mut(..full).unwrap_or_default();
        let (head, tail) = out.split_at_mut_checked(keep).ok_or_else(bad)?;
        head.copy_from_slice(levels);
        if want > 0 {
            let snappy_err = |source| PageError::Snappy { at, source };
            let got = snap::raw::decompress_len(packed).map_err(snappy_err)?;
            if got != want {
                return Err(PageError::Decompressed { at, got, want });
            }
            self.snap.decompress(packed, tail).map_err(snappy_err)?;
        }
        // The page is in `unpacked` now: the raw bytes can serve another column.
        give_back(std::mem::take(&mut self.raw));
        Ok(())
    }

    /// Give the page buffers back to the thread once the current page is used up (the next
    /// [`load`](Self::load) takes them again).
    pub(super) fn release(&mut self) {
        give_back(std::mem::take(&mut self.raw));
        give_back(std::mem::take(&mut self.unpacked));
        self.len = 0;
        self.in_unpacked = false;
    }
}

thread_local! {
    /// Page buffers kept by each thread from one page to the next: fresh ones cost a
    /// zero-fill (`grow`) per row group. At most 8, of at most 8 MiB each (pages are usually
    /// 1 MiB), so a wide scan or huge pages do not pin memory for good.
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Give `v` a spare buffer of the thread's if it has none.
fn take_spare(v: &mut Vec<u8>) {
    if v.capacity() == 0 {
        let spare = SPARE.with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()));
        *v = spare.unwrap_or_default();
    }
}

fn give_back(buf: Vec<u8>) {
    if buf.capacity() == 0 {
        return;
    }
    SPARE.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < 8 && buf.capacity() <= 8 << 20 {
                s.push(buf);
            }
        }
    });
}

/// Buffers in the thread's spare list (for tests: a used-up page gives its buffers back).
#[cfg(test)]
pub(super) fn spare_buffers() -> usize {
    SPARE.with(|s| s.borrow().len())
}

impl Drop for Pages<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Grow `v` to at least `n` bytes; only newly added bytes are ever zeroed.
fn grow(v: &mut Vec<u8>, n: usize) {
    if v.len() < n {
        v.resize(n, 0);
    }
}

fn read_at(file: &File, buf: &mut [u8], at: u64) -> Result<(), PageError> {
    file.read_exact_at(buf, at)
        .map_err(|source| PageError::Read {
            at,
            len: buf.len(),
            source,
        })
}

/// A reader of Parquet's RLE / bit-packed hybrid encoding, holding positions into the page.
pub(super) struct Hybrid {
    pos: usize,
    end: usize,
    width: u8,
    rle_left: usize,
    rle_value: u32,
    packed_left: usize,
    /// Bit position in the page of the next bit-packed value.
    bit: usize,
}

impl Hybrid {
    /// A hybrid stream in `page[pos..end]` of values `width` (at most 32) bits wide.
    pub(super) fn new(pos: usize, end: usize, width: u8) -> Self {
        let (rle_left, rle_value, packed_left, bit) = (0, 0, 0, 0);
        Self {
            pos,
            end,
            width,
            rle_left,
            rle_value,
            packed_left,
            bit,
        }
    }

    /// Legacy BIT_PACKED levels: `count` one-bit values from the page's start.
    pub(super) fn packed(count: usize) -> Self {
        let h = Self::new(0, 0, 1);
        Self {
            packed_left: count,
            ..h
        }
    }

    fn next_run(&mut self, page: &[u8]) -> Result<(), &'static str> {
        let data = page.get(..self.end).ok_or("run data past the page's end")?;
        let (buf, pos) = (data, self.pos);
        let mut c = Compact { buf, pos };
        let header = c.varint().map_err(|_| "truncated run header")?;
        let count = usize::try_from(header >> 1).map_err(|_| "run too long")?;
        let width = usize::from(self.width);
        if header & 1 == 1 {
            // A last run may stop short of its 8-value groups: use the bytes present.
            let bytes = count
                .checked_mul(width)
                .ok_or("run too long")?
                .min(data.len() - c.pos);
            self.packed_left = count.checked_mul(8).ok_or("run too long")?;
            if let Some(fit) = (bytes * 8).checked_div(width) {
                self.packed_left = self.packed_left.min(fit);
            }
            self.bit = c.pos * 8;
            self.pos = c.pos + bytes;
        } else {
            let bytes = width.div_ceil(8);
            let v = data
                .get(c.pos..c.pos + bytes)
                .ok_or("truncated run value")?;
            self.rle_value = v.iter().rev().fold(0, |a, &b| a << 8 | u32::from(b));
            self.rle_left = count;
            self.pos = c.pos + bytes;
        }
        Ok(())
    }

    /// The little-endian 64 bits of `page` from bit `bit` on, zeros past the end.
    fn word(page: &[u8], bit: usize) -> u64 {
        let rest = page.get(bit / 8..).unwrap_or_default();
        let bytes = rest.first_chunk::<8>().copied().unwrap_or_else(|| {
            let mut b = [0; 8];
            b.iter_mut().zip(rest).for_each(|(d, s)| *d = *s);
            b
        });
        u64::from_le_bytes(bytes) >> (bit % 8)
    }

    /// The next run of equal one-bit levels, at most `max` long (`max` > 0): (is 1, length).
    pub(super) fn level_run(
        &mut self,
        page: &[u8],
        max: usize,
    ) -> Result<(bool, usize), &'static str> {
        loop {
            if self.rle_left > 0 {
                if self.rle_value > 1 {
                    return Err("definition level above the column's maximum");
                }
                let k = self.rle_left.min(max);
                self.rle_left -= k;
                return Ok((self.rle_value == 1, k));
            }
            if self.packed_left > 0 {
                let w = Self::word(page, self.bit);
                let one = w & 1 == 1;
                let run = (if one { !w } else { w }).trailing_zeros() as usize;
                let k = run.min(64 - self.bit % 8).min(self.packed_left).min(max);
                self.bit += k;
                self.packed_left -= k;
                return Ok((one, k));
            }
            if self.pos >= self.end {
                return Err("definition levels end before the page's rows");
            }
            self.next_run(page)?;
        }
    }

    /// Append the dictionary values of the next `n` indices.
    pub(super) fn gather<T: Copy>(
        &mut self,
        page: &[u8],
        mut n: usize,
        dict: &[T],
        out: &mut Vec<T>,
    ) -> Result<(), &'static str> {
        const BAD: &str = "dictionary index out of range";
        while n > 0 {
            if self.rle_left > 0 {
                let k = self.rle_left.min(n);
                let v = *dict.get(self.rle_value as usize).ok_or(BAD)?;
                out.extend(std::iter::repeat_n(v, k));
                self.rle_left -= k;
                n -= k;
            } else if self.packed_left > 0 {
                let k = self.packed_left.min(n);
                let (width, mask) = (usize::from(self.width), (1u64 << self.width) - 1);
                for _ in 0..k {
                    let i = (Self::word(page, self.bit) & mask) as usize;
                    out.push(*dict.get(i).ok_or(BAD)?);
                    self.bit += width;
                }
                self.packed_left -= k;
                n -= k;
            } else if self.pos >= self.end {
                return Err("dictionary indices end before the page's values");
            } else {
                self.next_run(page)?;
            }
        }
        Ok(())
    }
}

/// Why a header did not parse: the buffer ended (read more) or the bytes are malformed.
#[derive(Debug, PartialEq)]
enum Thrift {
    Eof,
    Bad(&'static str),
}

// Thrift compact protocol field types.
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const I32: u8 = 5;
const STRUCT: u8 = 12;

/// A Thrift compact-protocol reader: just what page headers need, plus skipping anything else.
struct Compact<'b> {
    buf: &'b [u8],
    pos: usize,
}

impl Compact<'_> {
    fn byte(&mut self) -> Result<u8, Thrift> {
        let b = *self.buf.get(self.pos).ok_or(Thrift::Eof)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Thrift> {
        let mut v = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Thrift::Bad("varint over 10 bytes"))
    }

    fn zigzag(&mut self) -> Result<i64, Thrift> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn i32(&mut self) -> Result<i32, Thrift> {
        i32::try_from(self.zigzag()?).map_err(|_| Thrift::Bad("i32 out of range"))
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), Thrift> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(Thrift::Eof);
        }
        self.pos += n as usize;
        Ok(())
    }

    /// The next field's (id, type), or `None` at the struct's end.
    fn field(&mut self, last: &mut i16) -> Result<Option<(i16, u8)>, Thrift> {
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let id = match b >> 4 {
            0 => i16::try_from(self.zigzag()?).ok(),
            delta => last.checked_add(i16::from(delta)),
        };
        *last = id.ok_or(Thrift::Bad("field id out of range"))?;
        Ok(Some((*last, b & 0x0f)))
    }

    /// Skip a value of type `ty`; `elem` for list, set and map elements, where booleans take a
    /// byte (in a struct field the type itself holds the value).
    fn skip(&mut self, ty: u8, elem: bool, depth: u8) -> Result<(), Thrift> {
        if depth > 32 {
            return Err(Thrift::Bad("nested too deeply"));
        }
        match ty {
            TRUE | FALSE => self.skip_bytes(u64::from(elem)),
            3 => self.skip_bytes(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip_bytes(8),
            8 => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            9 | 10 => {
                let h = self.byte()?;
                let n = if h >> 4 == 15 {
                    self.varint()?
                } else {
                    u64::from(h >> 4)
                };
                // Every element takes at least a byte, so a bogus count hits the end quickly.
                (0..n).try_for_each(|_| self.skip(h & 0x0f, true, depth + 1))
            }
            11 => {
                let n = self.varint()?;
                let kv = if n > 0 { self.byte()? } else { 0 };
                (0..n).try_for_each(|_| {
                    self.skip(kv >> 4, true, depth + 1)?;
                    self.skip(kv & 0x0f, true, depth + 1)
                })
            }
            STRUCT => {
                let mut last = 0;
                while let Some((_, t)) = self.field(&mut last)? {
                    self.skip(t, false, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(Thrift::Bad("unknown field type")),
        }
    }
}

/// The i32 and bool fields (ids 1 to 8; a bool as 0 or 1) of a Thrift struct, and, in a page
/// header, its data, dictionary or V2 data header (ids 5, 7, 8). Everything else is skipped.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) ints: Ints,
    pub(super) sub: Option<(i16, Ints)>,
}

#[derive(Default)]
pub(super) struct Ints([Option<i32>; 9]);

impl Fields {
    fn read(c: &mut Compact, depth: u8) -> Result<Self, Thrift> {
        let mut f = Fields::default();
        let mut last = 0;
        while let Some((id, ty)) = c.field(&mut last)? {
            let slot = usize::try_from(id).ok().and_then(|i| f.ints.0.get_mut(i));
            match (slot, ty) {
                (Some(v), I32) => *v = Some(c.i32()?),
                (Some(v), TRUE | FALSE) => *v = Some(i32::from(ty == TRUE)),
                (Some(_), STRUCT) if depth == 0 && matches!(id, 5 | 7 | 8) => {
                    f.sub = Some((id, Fields::read(c, 1)?.ints));
                }
                _ => c.skip(ty, false, depth)?,
            }
        }
        Ok(f)
    }
}

impl Ints {
    pub(super) fn int(&self, id: usize) -> Result<i32, PageError> {
        let v = self.0.get(id).copied().flatten();
        v.ok_or(PageError::MissingField { id })
    }

    pub(super) fn count(&self, id: usize) -> Result<usize, PageError> {
        usize::try_from(self.int(id)?).map_err(|_| PageError::NegativeField { id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_headers_skip_unknown_fields() {
        let mut bytes = vec![0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0x64, 0x15, 0x02];
        // Field 20, a struct: list<binary>, bool, map<i32, i32>, double, empty struct.
        bytes.extend([
            0x0c, 0x28, 0x19, 0x28, 0x01, b'a', 0x00, 0x11, 0x1b, 0x01, 0x55, 0x02,
        ]);
        bytes.extend([0x04, 0x17, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1c, 0x00, 0x00]);
        // Field 5, the data page header, with statistics (a struct holding a binary).
        bytes.extend([0x0c, 0x0a, 0x15, 0x0e, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06]);
        bytes.extend([0x1c, 0x18, 0x02, b'x', b'y', 0x00, 0x00, 0x00]);
        let mut c = Compact {
            buf: &bytes,
            pos: 0,
        };
        let h = Fields::read(&mut c, 0).unwrap();
        assert_eq!(
            (
                c.pos,
                h.ints.int(1).ok(),
                h.ints.int(2).ok(),
                h.ints.int(3).ok()
            ),
            (bytes.len(), Some(0), Some(100), Some(50))
        );
        let missing = h.ints.int(7);
        assert!(
            matches!(missing, Err(PageError::MissingField { id: 7 })),
            "{missing:?}"
        );
        let Some((5, d)) = &h.sub else {
            panic!("no data page header")
        };
        assert_eq!(
            (d.int(1).ok(), d.int(2).ok(), d.int(3).ok()),
            (Some(7), Some(0), Some(3))
        );
        for end in 0..bytes.len() {
            let r = Fields::read(
                &mut Compact {
                    buf: &bytes[..end],
                    pos: 0,
                },
                0,
            );
            assert_eq!(r.err(), Some(Thrift::Eof), "prefix of {end} bytes");
        }
        let deep = [vec![0x1c; 40], vec![0; 41]].concat();
        let r = Fields::read(&mut Compact { buf: &deep, pos: 0 }, 0);
        assert_eq!(r.err(), Some(Thrift::Bad("nested too deeply")));
    }

    #[test]
    fn hybrid_runs_of_levels_and_indices() {
        let runs = |mut h: Hybrid, page: &[u8], mut n: usize| {
            let mut out = vec![];
            while n > 0 {
                out.push(h.level_run(page, n).unwrap());
                n -= out.last().unwrap().1;
            }
            out
        };
        let legacy = runs(Hybrid::packed(10), &[0b1011_0011, 0b10], 10);
        let want = [
            (true, 2),
            (false, 2),
            (true, 2),
            (false, 1),
            (true, 1),
            (false, 1),
            (true, 1),
        ];
        assert_eq!(legacy, want);
        let hybrid = runs(Hybrid::new(0, 4, 1), &[0x0a, 0x01, 0x03, 0b101], 13);
        assert_eq!(
            hybrid,
            [(true, 5), (true, 1), (false, 1), (true, 1), (false, 5)]
        );
        assert!(Hybrid::new(0, 2, 1).level_run(&[0x02, 0x02], 5).is_err());
        assert!(Hybrid::new(0, 1, 1).level_run(&[0x02], 5).is_err());
        let (page, mut out) = ([0x03, 0b11_10_01_00, 0x00], vec![]);
        Hybrid::new(0, 3, 2)
            .gather(&page, 8, &[5, 6, 7, 8], &mut out)
            .unwrap();
        assert_eq!(out, [5, 6, 7, 8, 5, 5, 5, 5]);
        assert!(Hybrid::new(0, 3, 2)
            .gather(&page, 8, &[5, 6, 7], &mut out)
            .is_err());
        assert!(Hybrid::new(0, 2, 3)
            .gather(&[0x04, 0x05], 2, &[1, 2, 3], &mut out)
            .is_err());
        assert!(Hybrid::new(0, 2, 3)
            .gather(&[0x04, 0x02], 3, &[1, 2, 3], &mut out)
            .is_err());
    }
}
