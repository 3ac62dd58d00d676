//! Join keys as values that hash and compare cheaply, encoded once per morsel (never per
//! row): one integer-like key (any integer width, bool, date, time, timestamp, float) becomes
//! a `u64` word per row; a few integer-like keys (TPC-H's `(partkey, suppkey)`) become a
//! tuple of such words per row, compared word by word; one string key is kept as the strings
//! themselves (hashed and compared by their bytes: Arrow's row format copied every string in
//! 32-byte blocks, most of db-benchmark's j4 probe); anything else (several keys with a
//! string, decimals) becomes Arrow's row format, one byte string per row in a single buffer, which compares by
//! bytes exactly when the values are equal. The choice depends on the key types alone, never
//! on the data, so both sides of a join (and both sides' spill partitions, encoded apart)
//! always encode alike.
//!
//! Both sides encode their keys in the same (common) types, so equal values give equal
//! encodings. Floats are made canonical first: every NaN is the same NaN (NaN keys match)
//! and `-0.0` is `0.0`. A row with a null in any key is marked invalid and never matches.

use arrow::array::{Array, ArrayRef, AsArray, Float32Array, Float64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{self as t, DataType};
use arrow::row::{RowConverter, Rows, SortField};
use rayon::prelude::*;

use crate::error::Result;

/// Encoded keys of a run of rows, with their hashes.
pub(crate) struct Keys {
    pub(crate) values: KeyValues,
    /// Rows whose keys are all non-null (`None`: every row).
    pub(crate) valid: Option<NullBuffer>,
    /// One per row, or none for probe keys of one word encoded for a table that does not
    /// hash (see [`KeyEncoder::encode_unhashed`]).
    pub(crate) hashes: Vec<u64>,
    len: usize,
}

/// The encoded values.
pub(crate) enum KeyValues {
    Words(Vec<u64>),
    /// `width` words per row, row after row.
    Tuples {
        words: Vec<u64>,
        width: usize,
    },
    Rows(Rows),
    /// One `Utf8` key: the strings.
    Strings(arrow::array::StringArray),
}

impl KeyValues {
    /// Row `i`'s tuple (`Tuples` only).
    #[inline]
    pub(crate) fn tuple(words: &[u64], width: usize, i: usize) -> &[u64] {
        &words[i * width..(i + 1) * width]
    }
}

/// The most integer-like keys encoded as a tuple of words; more go through the row format.
const MAX_TUPLE: usize = 4;

impl Keys {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_valid(&self, i: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v.is_valid(i))
    }

    /// Bytes the keys hold.
    pub(crate) fn bytes(&self) -> usize {
        let values = match &self.values {
            KeyValues::Words(w) | KeyValues::Tuples { words: w, .. } => w.len() * 8,
            KeyValues::Rows(r) => r.size(),
            KeyValues::Strings(a) => a.get_array_memory_size(),
        };
        values + self.hashes.len() * 8 + self.valid.as_ref().map_or(0, |v| v.len().div_ceil(8))
    }
}

/// Encodes key columns of given types (the same encoder on both sides of a join).
pub(crate) struct KeyEncoder {
    types: Vec<DataType>,
    rows: Option<RowConverter>,
}

/// True for a type whose values fit a `u64` word with equality kept.
fn word_type(dt: &DataType) -> bool {
    dt.is_integer()
        || dt.is_floating()
        || matches!(
            dt,
            DataType::Boolean
                | DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(..)
                | DataType::Time32(_)
                | DataType::Time64(_)
                | DataType::Duration(_)
        )
}

impl KeyEncoder {
    pub(crate) fn new(types: &[DataType]) -> Result<Self> {
        let rows = match types {
            [t] if word_type(t) || *t == DataType::Utf8 => None,
            ts if ts.len() <= MAX_TUPLE && ts.iter().all(word_type) => None,
            _ => Some(RowConverter::new(
                types.iter().map(|t| SortField::new(t.clone())).collect(),
            )?),
        };
        Ok(Self {
            types: types.to_vec(),
            rows,
        })
    }

    /// Encode `columns` (one per key, of any type that casts to the key's type), hashing in
    /// parallel when `parallel` (a whole build side; a morsel is already one task).
    pub(crate) fn encode(&self, columns: &[ArrayRef], parallel: bool) -> Result<Keys> {
        self.encode_hashed(columns, parallel, true)
    }

    /// [`encode`](Self::encode) without hashing keys of one word: probe keys for a table
    /// that finds them without their hash (a direct table, or a semi join's bitmap); keys of
    /// other kinds are hashed all the same.
    pub(crate) fn encode_unhashed(&self, columns: &[ArrayRef]) -> Result<Keys> {
        self.encode_hashed(columns, false, false)
    }

    fn encode_hashed(&self, columns: &[ArrayRef], parallel: bool, hash: bool) -> Result<Keys> {
        let columns = columns
            .iter()
            .zip(&self.types)
            .map(|(c, t)| {
                let c = if c.data_type() == t {
                    c.clone()
                } else {
                    arrow::compute::cast(c, t)?
                };
                Ok(canonical_floats(c))
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let len = columns.first().map_or(0, |c| c.len());
        let mut valid: Option<NullBuffer> = None;
        for c in &columns {
            valid = NullBuffer::union(valid.as_ref(), c.logical_nulls().as_ref());
        }
        let (values, hashes) = match &self.rows {
            None if columns.len() > 1 => {
                let width = columns.len();
                let cols = columns.iter().map(words).collect::<Result<Vec<_>>>()?;
                let mut tuples = Vec::with_capacity(len * width);
                for i in 0..len {
                    tuples.extend(cols.iter().map(|c| c[i]));
                }
                let hashes = if parallel {
                    tuples
                        .par_chunks(width)
                        .with_min_len(1 << 12)
                        .map(hash_tuple)
                        .collect()
                } else {
                    tuples.chunks(width).map(hash_tuple).collect()
                };
                (
                    KeyValues::Tuples {
                        words: tuples,
                        width,
                    },
                    hashes,
                )
            }
            None if self.types[..] == [DataType::Utf8] => {
                let strings = columns[0].as_string::<i32>().clone();
                let hashes = hash_rows(len, parallel, |i| hash_bytes(strings.value(i).as_bytes()));
                (KeyValues::Strings(strings), hashes)
            }
            None => {
                let words = words(&columns[0])?;
                let hashes = if hash {
                    words
                        .par_iter()
                        .with_min_len(1 << 14)
                        .map(|w| hash_word(*w))
                        .collect()
                } else {
                    vec![]
                };
                (KeyValues::Words(words), hashes)
            }
            Some(conv) => {
                let rows = conv.convert_columns(&columns)?;
                let hashes = hash_rows(len, parallel, |i| hash_bytes(rows.row(i).as_ref()));
                (KeyValues::Rows(rows), hashes)
            }
        };
        Ok(Keys {
            values,
            valid,
            hashes,
            len,
        })
    }
}

/// Floats with every NaN the same and `-0.0` as `0.0` (other types unchanged).
fn canonical_floats(c: ArrayRef) -> ArrayRef {
    match c.data_type() {
        DataType::Float64 => {
            let a = c.as_primitive::<t::Float64Type>();
            if !a.values().iter().any(|v| v.is_nan() || *v == 0.0) {
                return c;
            }
            let v: Float64Array = a.unary(|v| {
                if v.is_nan() {
                    f64::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            });
            std::sync::Arc::new(v)
        }
        DataType::Float32 => {
            let a = c.as_primitive::<t::Float32Type>();
            let v: Float32Array = a.unary(|v| {
                if v.is_nan() {
                    f32::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            });
            std::sync::Arc::new(v)
        }
        _ => c,
    }
}

/// A word per row of a word-typed column (null rows hold anything; they are never probed).
fn words(c: &ArrayRef) -> Result<Vec<u64>> {
    macro_rules! prim {
        ($t:ty, $f:expr) => {
            c.as_primitive::<$t>().values().iter().map($f).collect()
        };
    }
    Ok(match c.data_type() {
        DataType::Int8 => prim!(t::Int8Type, |v| *v as i64 as u64),
        DataType::Int16 => prim!(t::Int16Type, |v| *v as i64 as u64),
        DataType::Int32 => prim!(t::Int32Type, |v| *v as i64 as u64),
        DataType::Int64 => prim!(t::Int64Type, |v| *v as u64),
        DataType::UInt8 => prim!(t::UInt8Type, |v| *v as u64),
        DataType::UInt16 => prim!(t::UInt16Type, |v| *v as u64),
        DataType::UInt32 => prim!(t::UInt32Type, |v| *v as u64),
        DataType::UInt64 => prim!(t::UInt64Type, |v| *v),
        DataType::Float32 => prim!(t::Float32Type, |v| f64::from(*v).to_bits()),
        DataType::Float64 => prim!(t::Float64Type, |v| v.to_bits()),
        DataType::Date32 => prim!(t::Date32Type, |v| *v as i64 as u64),
        DataType::Boolean => c.as_boolean().values().iter().map(u64::from).collect(),
        _ => {
            let a = arrow::compute::cast(c, &DataType::Int64)?;
            a.as_primitive::<t::Int64Type>()
                .values()
                .iter()
                .map(|v| *v as u64)
                .collect()
        }
    })
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED: u64 = 0x2D35_8DCC_AA6C_78A5;

/// The 64-bit halves of `a * b` folded together: a fast mixer (as in foldhash).
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The hash of a word key. Fixed (no random state), so partitions are reproducible.
#[inline]
pub(crate) fn hash_word(v: u64) -> u64 {
    fold(v ^ SEED, MUL)
}

/// The hash of a tuple of word keys.
#[inline]
pub(crate) fn hash_tuple(t: &[u64]) -> u64 {
    let h = t
        .iter()
        .fold(SEED ^ t.len() as u64, |h, &w| fold(h ^ w, MUL));
    fold(h, SEED)
}

/// The hash of a row-encoded key.
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = SEED ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = fold(h ^ u64::from_le_bytes(w), MUL);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = fold(h ^ u64::from_le_bytes(w), MUL);
    }
    fold(h, SEED)
}

/// `hash(i)` of rows `0..len`, spread over the pool when `parallel`.
fn hash_rows(len: usize, parallel: bool, hash: impl Fn(usize) -> u64 + Sync + Send) -> Vec<u64> {
    if parallel {
        (0..len)
            .into_par_iter()
            .with_min_len(1 << 12)
            .map(hash)
            .collect()
    } else {
        (0..len).map(hash).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow::array::{Int32Array, Int64Array, StringArray};

    #[test]
    fn equal_values_encode_equally_across_types() {
        let enc = KeyEncoder::new(&[DataType::Int64]).unwrap();
        let a = enc
            .encode(
                &[Arc::new(Int32Array::from(vec![Some(1), None, Some(-3)])) as ArrayRef],
                false,
            )
            .unwrap();
        let b = enc
            .encode(&[Arc::new(Int64Array::from(vec![-3, 1])) as ArrayRef], true)
            .unwrap();
        let (KeyValues::Words(x), KeyValues::Words(y)) = (&a.values, &b.values) else {
            panic!("word keys expected")
        };
        assert_eq!((x[0], x[2]), (y[1], y[0]));
        assert_eq!((a.hashes[0], a.hashes[2]), (b.hashes[1], b.hashes[0]));
        assert!(a.is_valid(0) && !a.is_valid(1));
    }

    #[test]
    fn several_number_keys_encode_as_tuples_of_words() {
        let enc = KeyEncoder::new(&[DataType::Int64, DataType::Float64]).unwrap();
        let a = enc
            .encode(
                &[
                    Arc::new(Int32Array::from(vec![Some(1), Some(1), None, Some(2)])) as ArrayRef,
                    Arc::new(Float64Array::from(vec![0.0, f64::NAN, 1.0, 0.0])) as ArrayRef,
                ],
                false,
            )
            .unwrap();
        let b = enc
            .encode(
                &[
                    Arc::new(Int64Array::from(vec![1, 2, 1])) as ArrayRef,
                    Arc::new(Float64Array::from(vec![f64::NAN, -0.0, -0.0])) as ArrayRef,
                ],
                true,
            )
            .unwrap();
        let (KeyValues::Tuples { words: x, width: 2 }, KeyValues::Tuples { words: y, width: 2 }) =
            (&a.values, &b.values)
        else {
            panic!("tuple keys expected")
        };
        // (1, NaN), (2, 0.0) and (1, 0.0) on both sides, in other rows.
        for (i, j) in [(1, 0), (3, 1), (0, 2)] {
            assert_eq!(KeyValues::tuple(x, 2, i), KeyValues::tuple(y, 2, j));
            assert_eq!(a.hashes[i], b.hashes[j]);
        }
        assert_ne!(KeyValues::tuple(x, 2, 0), KeyValues::tuple(x, 2, 3));
        assert!(!a.is_valid(2) && a.is_valid(3));
    }

    #[test]
    fn nan_matches_nan_and_signed_zeros_match() {
        let enc = KeyEncoder::new(&[DataType::Float64]).unwrap();
        let nan2 = f64::from_bits(f64::NAN.to_bits() ^ 1);
        let k = enc
            .encode(
                &[Arc::new(Float64Array::from(vec![f64::NAN, nan2, 0.0, -0.0])) as ArrayRef],
                false,
            )
            .unwrap();
        let KeyValues::Words(w) = &k.values else {
            panic!()
        };
        assert_eq!(w[0], w[1]);
        assert_eq!(w[2], w[3]);
        // Several keys go through the row format, with the same canonical floats.
        let enc = KeyEncoder::new(&[DataType::Float64, DataType::Utf8]).unwrap();
        let k = enc
            .encode(
                &[
                    Arc::new(Float64Array::from(vec![f64::NAN, nan2, -0.0])) as ArrayRef,
                    Arc::new(StringArray::from(vec!["a", "a", "b"])) as ArrayRef,
                ],
                true,
            )
            .unwrap();
        let KeyValues::Rows(r) = &k.values else {
            panic!()
        };
        assert_eq!(r.row(0), r.row(1));
        assert_eq!(k.hashes[0], k.hashes[1]);
    }
}
