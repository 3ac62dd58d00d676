//! Group keys: how the values of key columns are compared, hashed, stored and turned back
//! into Arrow arrays, without an allocation per row.
//!
//! Every key column has a [`KeyKind`]: fixed-width values (integers, floats, booleans, dates,
//! timestamps, decimals: their bytes, floats normalized so that every NaN is one value and
//! `-0.0` is `0.0`), strings (their UTF-8 bytes), or nothing but nulls. A null is a value of
//! its own, so null keys form one group.
//!
//! The keys of a table take one of three [`Layout`]s:
//! - [`Layout::Word`]: one fixed-width column of at most 8 bytes; each key is a `u64`.
//! - [`Layout::Str`]: one string column; each key is its bytes (a dictionary-encoded column
//!   is looked up once per distinct value, by its codes: `dictionary.rs`).
//! - [`Layout::Rows`]: anything else (several columns, wide values); each key is its columns
//!   encoded one after the other: per column a validity byte, then (when valid) the value's
//!   bytes, strings prefixed by their length. The encoding is written column by column into one
//!   buffer per piece.
//!
//! The hashes are deterministic (fixed seeds): a plan's partitioning never varies between
//! runs, though results do not depend on it anyway.

use std::sync::Arc;

use arrow::array::{
    make_array, Array, ArrayData, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder,
    StringArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::DataType;

use super::dictionary::{is_code_type, StrColumn};
use crate::error::{Error, Result};

/// How one key column's values are compared and stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// Values of `width` bytes (booleans as one byte), compared by their bytes after
    /// normalizing floats.
    Fixed { width: usize, float: Float },
    /// UTF-8 strings.
    Str,
    /// A column of the Null type: every value is null.
    Null,
}

/// Which float normalization a fixed-width column needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Float {
    No,
    F32,
    F64,
}

/// See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Word,
    Str,
    Rows,
}

/// The key columns of a grouping: their declared types and how they are stored.
#[derive(Clone, Debug)]
pub(crate) struct KeySpec {
    pub(crate) types: Vec<DataType>,
    pub(crate) kinds: Vec<KeyKind>,
    pub(crate) layout: Layout,
}

/// The kind of a key column of type `t`, or an error naming what cannot be a key.
pub(crate) fn key_kind(t: &DataType) -> Result<KeyKind> {
    let fixed = |width| KeyKind::Fixed {
        width,
        float: Float::No,
    };
    Ok(match t {
        DataType::Null => KeyKind::Null,
        DataType::Boolean => fixed(1),
        DataType::Float32 => KeyKind::Fixed {
            width: 4,
            float: Float::F32,
        },
        DataType::Float64 => KeyKind::Fixed {
            width: 8,
            float: Float::F64,
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => KeyKind::Str,
        DataType::Dictionary(_, v) if matches!(key_kind(v)?, KeyKind::Str) => KeyKind::Str,
        t if t.is_primitive() => match t.primitive_width() {
            Some(w) => fixed(w),
            None => return Err(cannot_group(t)),
        },
        other => return Err(cannot_group(other)),
    })
}

fn cannot_group(t: &DataType) -> Error {
    Error::Type(format!("cannot group by values of type {t}"))
}

impl KeySpec {
    /// The spec of key columns of these types.
    pub(crate) fn new(types: Vec<DataType>) -> Result<Self> {
        let kinds = types.iter().map(key_kind).collect::<Result<Vec<_>>>()?;
        let layout = match kinds.as_slice() {
            [KeyKind::Fixed { width, .. }] if *width <= 8 => Layout::Word,
            [KeyKind::Null] => Layout::Word,
            [KeyKind::Str] => Layout::Str,
            _ => Layout::Rows,
        };
        Ok(Self {
            types,
            kinds,
            layout,
        })
    }

    /// The spec of these types stored as rows whatever their number (distinct-value sets key
    /// on (group, value) pairs).
    pub(crate) fn rows(types: Vec<DataType>) -> Result<Self> {
        let mut s = Self::new(types)?;
        s.layout = Layout::Rows;
        Ok(s)
    }

    /// A key column as the array the encoders read: strings as Utf8 (or, when they come
    /// as Int32 codes into Utf8 values, as they are: grouped by their codes, `dictionary.rs`),
    /// booleans as is, other fixed-width values in their own type.
    pub(crate) fn prepare(&self, col: usize, a: &ArrayRef) -> Result<ArrayRef> {
        let want = match self.kinds[col] {
            KeyKind::Str if is_code_type(a.data_type()) => return Ok(a.clone()),
            KeyKind::Str => DataType::Utf8,
            _ => self.types[col].clone(),
        };
        if *a.data_type() == want {
            Ok(a.clone())
        } else {
            Ok(arrow::compute::cast(a, &want)?)
        }
    }
}

pub(super) const K1: u64 = 0x9E37_79B9_7F4A_7C15;
pub(super) const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const SEED: u64 = 0x1656_67B1_9E37_79F9;

/// The hash of the null key.
pub(crate) const NULL_HASH: u64 = 0x2545_F491_4F6C_DD1D;

/// The high and low halves of the full product, xored: a fast mixer good in every bit.
#[inline(always)]
pub(super) fn fold_mul(a: u64, b: u64) -> u64 {
    let f = (a as u128) * (b as u128);
    (f as u64) ^ ((f >> 64) as u64)
}

/// The hash of a one-word key.
#[inline(always)]
pub(crate) fn hash_word(x: u64) -> u64 {
    fold_mul(x ^ SEED, K1)
}

/// The hash of a key's bytes.
#[inline]
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = fold_mul(SEED ^ b.len() as u64, K2);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = fold_mul(h ^ le64(c), K1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = fold_mul(h ^ short_word(rest), K2);
    }
    h
}

/// The bytes of `b` (fewer than 8) as a little-endian word, zero-padded: the value a copy
/// into a zeroed `[u8; 8]` gives, from at most three overlapping loads rather than a
/// `memcpy` call (which short string keys spent a tenth of their grouping time in).
#[inline(always)]
pub(crate) fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!(n < 8);
    if n >= 4 {
        // The first and the last four bytes; where they overlap they hold the same bytes.
        let lo = u64::from(le32(&b[..4]));
        let hi = u64::from(le32(&b[n - 4..]));
        lo | (hi << ((n - 4) * 8))
    } else if n > 0 {
        let (a, m, z) = (b[0], b[n / 2], b[n - 1]);
        u64::from(a) | (u64::from(m) << (n / 2 * 8)) | (u64::from(z) << ((n - 1) * 8))
    } else {
        0
    }
}

/// Whether two byte strings of the same length are equal, compared a word at a time: key
/// tails are a few bytes to a few dozen, where a `memcmp` call costs more than the compare.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        if le64(p) != le64(q) {
            return false;
        }
    }
    short_word(x.remainder()) == short_word(y.remainder())
}

/// The first 16 bytes of `key` as two little-endian words, zero-padded.
#[inline(always)]
pub(crate) fn head_words(key: &[u8]) -> [u64; 2] {
    match key.len() {
        n if n >= 16 => [le64(&key[..8]), le64(&key[8..16])],
        n if n >= 8 => [le64(&key[..8]), short_word(&key[8..])],
        _ => [short_word(key), 0],
    }
}

/// The canonical NaN every NaN key becomes.
const NAN64: u64 = 0x7FF8_0000_0000_0000;
const NAN32: u32 = 0x7FC0_0000;

/// The values buffer of a fixed-width array, from its offset (`len * width` bytes).
fn fixed_bytes(a: &dyn Array, width: usize) -> Buffer {
    let data = a.to_data();
    data.buffers()[0].slice_with_length(data.offset() * width, a.len() * width)
}

/// Normalize a float's bits: every NaN is one NaN, -0.0 is 0.0.
#[inline(always)]
fn norm64(bits: u64) -> u64 {
    let v = f64::from_bits(bits);
    if v.is_nan() {
        NAN64
    } else if v == 0.0 {
        0
    } else {
        bits
    }
}

#[inline(always)]
fn norm32(bits: u32) -> u32 {
    let v = f32::from_bits(bits);
    if v.is_nan() {
        NAN32
    } else if v == 0.0 {
        0
    } else {
        bits
    }
}

/// Each row of a fixed-width (at most 8 bytes) or boolean column as a `u64`, into `out`
/// (null rows get 0; their validity is read separately).
pub(crate) fn words(a: &ArrayRef, kind: KeyKind, out: &mut Vec<u64>) {
    out.clear();
    let KeyKind::Fixed { width, float } = kind else {
        out.resize(a.len(), 0);
        return;
    };
    if *a.data_type() == DataType::Boolean {
        let b = a.as_boolean();
        out.extend(b.values().iter().map(u64::from));
        return;
    }
    let buffer = fixed_bytes(a.as_ref(), width);
    let bytes = buffer.as_slice();
    match (width, float) {
        (8, Float::F64) => out.extend(bytes.chunks_exact(8).map(|c| norm64(le64(c)))),
        (8, _) => out.extend(bytes.chunks_exact(8).map(le64)),
        (4, Float::F32) => out.extend(bytes.chunks_exact(4).map(|c| u64::from(norm32(le32(c))))),
        (4, _) => out.extend(bytes.chunks_exact(4).map(|c| u64::from(le32(c)))),
        (2, _) => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| u64::from(u16::from_le_bytes([c[0], c[1]]))),
        ),
        (1, _) => out.extend(bytes.iter().map(|b| u64::from(*b))),
        (w, _) => out.extend(bytes.chunks_exact(w).map(|c| {
            let mut x = [0u8; 8];
            x[..w].copy_from_slice(c);
            u64::from_le_bytes(x)
        })),
    }
}

#[inline(always)]
fn le64(c: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(c);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn le32(c: &[u8]) -> u32 {
    u32::from_le_bytes([c[0], c[1], c[2], c[3]])
}

/// One fixed-width value's normalized bytes, appended to `out`.
#[inline(always)]
fn push_fixed(out: &mut Vec<u8>, v: &[u8], float: Float) {
    match float {
        Float::F64 => out.extend_from_slice(&norm64(le64(v)).to_le_bytes()),
        Float::F32 => out.extend_from_slice(&norm32(le32(v)).to_le_bytes()),
        Float::No => out.extend_from_slice(v),
    }
}

/// The rows of a piece's prepared key columns encoded as bytes (see the module docs): row `r`
/// is `buf[ends[r - 1]..ends[r]]` (from 0 for the first).
pub(crate) fn encode_rows(
    cols: &[ArrayRef],
    kinds: &[KeyKind],
    buf: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Result<()> {
    let n = cols.first().map_or(0, |c| c.len());
    // Each row's length, then its start, so each column writes into place.
    let mut starts = vec![0usize; n + 1];
    for (c, kind) in cols.iter().zip(kinds) {
        let nulls = c.logical_nulls();
        let valid = |r: usize| nulls.as_ref().is_none_or(|n| n.is_valid(r));
        match kind {
            KeyKind::Null => starts[1..].iter_mut().for_each(|s| *s += 1),
            KeyKind::Fixed { width, .. } => {
                for (r, s) in starts[1..].iter_mut().enumerate() {
                    *s += 1 + if valid(r) { *width } else { 0 };
                }
            }
            KeyKind::Str => {
                let strs = StrColumn::of(c.as_ref())?;
                for (r, s) in starts[1..].iter_mut().enumerate() {
                    *s += 1 + if valid(r) { 4 + strs.bytes(r).len() } else { 0 };
                }
            }
        }
    }
    for r in 0..n {
        starts[r + 1] += starts[r];
    }
    buf.clear();
    buf.resize(starts[n], 0);
    let mut at = starts[..n].to_vec();
    let mut tmp = Vec::with_capacity(16);
    for (c, kind) in cols.iter().zip(kinds) {
        let nulls = c.logical_nulls();
        let valid = |r: usize| nulls.as_ref().is_none_or(|n| n.is_valid(r));
        match kind {
            KeyKind::Null => at.iter_mut().for_each(|a| *a += 1),
            KeyKind::Fixed { width, float } => {
                let boolean = *c.data_type() == DataType::Boolean;
                let buffer = if boolean {
                    Buffer::from_vec(Vec::<u8>::new())
                } else {
                    fixed_bytes(c.as_ref(), *width)
                };
                let bytes = buffer.as_slice();
                for (r, a) in at.iter_mut().enumerate() {
                    if !valid(r) {
                        *a += 1;
                        continue;
                    }
                    buf[*a] = 1;
                    tmp.clear();
                    if boolean {
                        tmp.push(u8::from(c.as_boolean().value(r)));
                    } else {
                        push_fixed(&mut tmp, &bytes[r * width..(r + 1) * width], *float);
                    }
                    buf[*a + 1..*a + 1 + width].copy_from_slice(&tmp);
                    *a += 1 + width;
                }
            }
            KeyKind::Str => {
                let strs = StrColumn::of(c.as_ref())?;
                for (r, a) in at.iter_mut().enumerate() {
                    if !valid(r) {
                        *a += 1;
                        continue;
                    }
                    let v = strs.bytes(r);
                    buf[*a] = 1;
                    buf[*a + 1..*a + 5].copy_from_slice(&(v.len() as u32).to_le_bytes());
                    buf[*a + 5..*a + 5 + v.len()].copy_from_slice(v);
                    *a += 5 + v.len();
                }
            }
        }
    }
    ends.clear();
    ends.extend_from_slice(&starts[1..]);
    Ok(())
}

/// A piece's prepared key columns, ready to encode any one row as [`encode_rows`] encodes it
/// (the same bytes): for the few rows of a piece whose key a front table has not seen
/// (`codes.rs`), where encoding the whole piece would waste most of its work.
pub(crate) struct RowEncoder<'a> {
    columns: Vec<(Option<NullBuffer>, ColumnBytes<'a>)>,
}

/// One key column's values as [`RowEncoder`] reads them.
enum ColumnBytes<'a> {
    Null,
    Boolean(&'a BooleanArray),
    Fixed {
        bytes: Buffer,
        width: usize,
        float: Float,
    },
    Str(StrColumn<'a>),
}

impl<'a> RowEncoder<'a> {
    /// An encoder of rows of `cols` (prepared key columns of kinds `kinds`).
    pub(crate) fn new(cols: &'a [ArrayRef], kinds: &[KeyKind]) -> Result<Self> {
        let columns = cols
            .iter()
            .zip(kinds)
            .map(|(c, kind)| {
                let bytes = match kind {
                    KeyKind::Null => ColumnBytes::Null,
                    KeyKind::Fixed { .. } if *c.data_type() == DataType::Boolean => {
                        ColumnBytes::Boolean(c.as_boolean())
                    }
                    KeyKind::Fixed { width, float } => ColumnBytes::Fixed {
                        bytes: fixed_bytes(c.as_ref(), *width),
                        width: *width,
                        float: *float,
                    },
                    KeyKind::Str => ColumnBytes::Str(StrColumn::of(c.as_ref())?),
                };
                Ok((c.logical_nulls(), bytes))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { columns })
    }

    /// Row `r`'s encoding, appended to `out`.
    pub(crate) fn encode(&self, r: usize, out: &mut Vec<u8>) {
        for (nulls, column) in &self.columns {
            if matches!(column, ColumnBytes::Null) || nulls.as_ref().is_some_and(|n| n.is_null(r)) {
                out.push(0);
                continue;
            }
            out.push(1);
            match column {
                ColumnBytes::Null => {}
                ColumnBytes::Boolean(b) => out.push(u8::from(b.value(r))),
                ColumnBytes::Fixed {
                    bytes,
                    width,
                    float,
                } => push_fixed(out, &bytes[r * width..(r + 1) * width], *float),
                ColumnBytes::Str(strs) => {
                    let v = strs.bytes(r);
                    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    out.extend_from_slice(v);
                }
            }
        }
    }
}

/// A fixed-width or boolean column of type `t` from its values' little-endian words (one per
/// group; `null` is the group whose key is null, if any).
pub(crate) fn decode_words(
    words: &[u64],
    null: Option<u32>,
    t: &DataType,
    kind: KeyKind,
) -> Result<ArrayRef> {
    let nulls = null.map(|g| NullBuffer::from_iter((0..words.len()).map(|i| i != g as usize)));
    match kind {
        KeyKind::Null => Ok(arrow::array::new_null_array(t, words.len())),
        KeyKind::Fixed { .. } if *t == DataType::Boolean => Ok(Arc::new(BooleanArray::new(
            words.iter().map(|w| *w != 0).collect(),
            nulls,
        ))),
        KeyKind::Fixed { width, .. } => {
            let mut bytes = Vec::with_capacity(words.len() * width);
            for w in words {
                bytes.extend_from_slice(&w.to_le_bytes()[..width]);
            }
            fixed_array(t, Buffer::from_vec(bytes), words.len(), nulls)
        }
        KeyKind::Str => Err(Error::Internal("string keys are not words".into())),
    }
}

/// An array of type `t` over a values buffer of `len` fixed-width values.
fn fixed_array(
    t: &DataType,
    values: Buffer,
    len: usize,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    // Byte vectors carry no alignment: an empty one points at address 1, which an Int64 array
    // rejects ("misaligned buffers", TPC-H Q17's empty grouping at SF 0.01). Copy such a
    // buffer into an aligned one.
    let values = if values.as_ptr().align_offset(16) == 0 {
        values
    } else {
        Buffer::from_slice_ref(values.as_slice())
    };
    let data = ArrayData::builder(t.clone())
        .len(len)
        .add_buffer(values)
        .nulls(nulls)
        .build()?;
    Ok(make_array(data))
}

/// A string column of type `t` from the keys' bytes in `arena` (key `g` ending at
/// `ends[g]`); `null` is the group whose key is null.
pub(crate) fn decode_strings(
    arena: &[u8],
    ends: &[usize],
    null: Option<u32>,
    t: &DataType,
) -> Result<ArrayRef> {
    let nulls = null.map(|g| NullBuffer::from_iter((0..ends.len()).map(|i| i != g as usize)));
    let a: ArrayRef = if arena.len() <= i32::MAX as usize {
        let mut offs = Vec::with_capacity(ends.len() + 1);
        offs.push(0i32);
        offs.extend(ends.iter().map(|e| *e as i32));
        Arc::new(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offs)),
            Buffer::from_slice_ref(arena),
            nulls,
        )?)
    } else {
        let mut offs = Vec::with_capacity(ends.len() + 1);
        offs.push(0i64);
        offs.extend(ends.iter().map(|e| *e as i64));
        Arc::new(arrow::array::LargeStringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offs)),
            Buffer::from_slice_ref(arena),
            nulls,
        )?)
    };
    if a.data_type() == t {
        Ok(a)
    } else {
        Ok(arrow::compute::cast(&a, t)?)
    }
}

/// The rows whose strings size a decoded string column.
const SIZING_ROWS: usize = 1024;

/// The key columns of `n` row-encoded keys, one array per column of `spec`.
///
/// Every value is copied with moves of a known width (no `memcpy` call per 5-to-12-byte value)
/// and validity is kept as the rare null rows' numbers rather than a bit appended per value:
/// both were a third of decoding db-benchmark q10's 10M groups.
pub(crate) fn decode_rows<'a>(
    rows: impl Iterator<Item = &'a [u8]>,
    n: usize,
    spec: &KeySpec,
) -> Result<Vec<ArrayRef>> {
    let ncols = spec.kinds.len();
    // Per column: the null rows, fixed bytes or string bytes and offsets.
    let mut null_rows: Vec<Vec<usize>> = vec![vec![]; ncols];
    // Sized up front where the size is known: growing 10M-group key columns by doubling
    // copied each one about once more and held up to twice its bytes (db-benchmark's q10).
    let mut fixed: Vec<Vec<u8>> = spec
        .kinds
        .iter()
        .map(|k| match k {
            KeyKind::Fixed { width, .. } => Vec::with_capacity(n * width),
            _ => vec![],
        })
        .collect();
    let mut str_offs: Vec<Vec<i64>> = spec
        .kinds
        .iter()
        .map(|k| {
            let mut offs = Vec::with_capacity(if matches!(k, KeyKind::Str) { n + 1 } else { 1 });
            offs.push(0);
            offs
        })
        .collect();
    for (r, row) in rows.enumerate() {
        if r == SIZING_ROWS {
            // String columns' bytes sized by their first rows' (grown by doubling, 10M
            // groups' strings were copied about once more and faulted in twice).
            for (c, kind) in spec.kinds.iter().enumerate() {
                if *kind == KeyKind::Str {
                    let want = (fixed[c].len() / r + 1) * n.saturating_sub(r) * 9 / 8;
                    fixed[c].reserve(want);
                }
            }
        }
        let mut at = 0;
        for (c, kind) in spec.kinds.iter().enumerate() {
            let ok = row[at] == 1;
            at += 1;
            if !ok && *kind != KeyKind::Null {
                null_rows[c].push(r);
            }
            match kind {
                KeyKind::Null => {}
                KeyKind::Fixed { width, .. } => {
                    if ok {
                        append_fixed(&mut fixed[c], &row[at..at + width]);
                        at += width;
                    } else {
                        fixed[c].extend(std::iter::repeat_n(0, *width));
                    }
                }
                KeyKind::Str => {
                    if ok {
                        let len =
                            u32::from_le_bytes([row[at], row[at + 1], row[at + 2], row[at + 3]])
                                as usize;
                        append_bytes(&mut fixed[c], &row[at + 4..at + 4 + len]);
                        at += 4 + len;
                    }
                    str_offs[c].push(fixed[c].len() as i64);
                }
            }
        }
    }
    let mut out = Vec::with_capacity(ncols);
    for (c, (kind, t)) in spec.kinds.iter().zip(&spec.types).enumerate() {
        let nulls = (!null_rows[c].is_empty()).then(|| {
            let mut valid = BooleanBufferBuilder::new(n);
            valid.append_n(n, true);
            for &r in &null_rows[c] {
                valid.set_bit(r, false);
            }
            NullBuffer::new(valid.finish())
        });
        let bytes = std::mem::take(&mut fixed[c]);
        out.push(match kind {
            KeyKind::Null => arrow::array::new_null_array(t, n),
            KeyKind::Fixed { .. } if *t == DataType::Boolean => Arc::new(BooleanArray::new(
                bytes.iter().map(|b| *b != 0).collect(),
                nulls,
            )),
            KeyKind::Fixed { .. } => fixed_array(t, Buffer::from_vec(bytes), n, nulls)?,
            KeyKind::Str => {
                let offs = std::mem::take(&mut str_offs[c]);
                string_array(offs, bytes, nulls, t)?
            }
        });
    }
    Ok(out)
}

/// A string column of type `t` from its values' bytes and `i64` offsets: built as Utf8
/// directly when that is the type and the bytes fit (a cast from LargeUtf8 copied every
/// offset once more).
fn string_array(
    offs: Vec<i64>,
    bytes: Vec<u8>,
    nulls: Option<NullBuffer>,
    t: &DataType,
) -> Result<ArrayRef> {
    if *t == DataType::Utf8 && bytes.len() <= i32::MAX as usize {
        let offs: Vec<i32> = offs.iter().map(|o| *o as i32).collect();
        return Ok(Arc::new(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offs)),
            Buffer::from_vec(bytes),
            nulls,
        )?));
    }
    let a: ArrayRef = Arc::new(arrow::array::LargeStringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offs)),
        Buffer::from_vec(bytes),
        nulls,
    )?);
    if a.data_type() == t {
        Ok(a)
    } else {
        Ok(arrow::compute::cast(&a, t)?)
    }
}

/// Append a fixed-width value, by a move of its width for the usual widths.
#[inline(always)]
fn append_fixed(out: &mut Vec<u8>, v: &[u8]) {
    match v.len() {
        8 => out.extend_from_slice(&le64(v).to_le_bytes()),
        4 => out.extend_from_slice(&le32(v).to_le_bytes()),
        _ => out.extend_from_slice(v),
    }
}

/// Append a short byte string by at most two overlapping word moves: the first word, then the
/// last one ending where the string ends (where they overlap they hold the same bytes).
#[inline(always)]
fn append_bytes(out: &mut Vec<u8>, v: &[u8]) {
    let n = v.len();
    let start = out.len();
    if (8..=16).contains(&n) {
        out.extend_from_slice(&le64(&v[..8]).to_le_bytes());
        out.truncate(start + n - 8);
        out.extend_from_slice(&le64(&v[n - 8..]).to_le_bytes());
    } else if (4..8).contains(&n) {
        out.extend_from_slice(&le32(&v[..4]).to_le_bytes());
        out.truncate(start + n - 4);
        out.extend_from_slice(&le32(&v[n - 4..]).to_le_bytes());
    } else {
        out.extend_from_slice(v);
    }
}
