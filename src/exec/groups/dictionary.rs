//! String keys that arrive dictionary-encoded (`Dictionary(Int32, Utf8)`: a scan of a Parquet
//! column stored with dictionary pages hands them so when the plan asks, see
//! `physical::dictionary`): rows are grouped by their codes, and each distinct value of a
//! dictionary is hashed and looked up in the table once, not once per row.
//!
//! A table remembers the last dictionary it met and the group of each of its values seen so
//! far. A row's code finds its group in that array; a code not seen before goes through the
//! table as its string would (so it may find a group an earlier dictionary or piece made), and
//! is remembered. Codes are mapped when a row first uses them, in row order, so groups are
//! created in exactly the order interning each row's string makes them: ids, first appearance
//! and merges are those of plain strings. A null row, or a row whose code names a null value,
//! is the null group.
//!
//! Pieces of one Parquet column chunk share their dictionary (the same buffers), so the map
//! survives from piece to piece; a new row group, a new dictionary page or a chunk that fell
//! back to PLAIN pages (which the reader hands as a dictionary it built for the piece) starts
//! a new map.

use arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, StringArray};
use arrow::datatypes::{DataType, Int32Type};

use crate::error::{Error, Result};
use crate::exec::kernels::agg::vec_bytes;

/// A code whose value no row has used yet.
const UNSEEN: u32 = u32::MAX;

/// The type of a dictionary key column grouped by its codes.
pub(crate) fn is_code_type(t: &DataType) -> bool {
    matches!(t, DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8)
}

/// `a` as Int32 codes into Utf8 values, when it is such a dictionary.
pub(crate) fn as_codes(a: &dyn Array) -> Option<&DictionaryArray<Int32Type>> {
    if is_code_type(a.data_type()) {
        a.as_dictionary_opt::<Int32Type>()
    } else {
        None
    }
}

/// The last dictionary a table met and the group of each of its values used so far.
pub(crate) struct DictionaryGroups {
    /// Held so its buffers cannot be freed and their addresses reused by another dictionary
    /// while the map names them.
    values: ArrayRef,
    groups: Vec<u32>,
}

impl DictionaryGroups {
    /// The bytes the map holds (the dictionary itself is the scan's, shared).
    pub(crate) fn size(&self) -> usize {
        vec_bytes(&self.groups)
    }

    /// Whether `values` is the dictionary this map is for: the same buffers, not merely equal
    /// contents (comparing contents would cost what the map saves).
    fn is_for(&self, values: &ArrayRef) -> bool {
        if std::sync::Arc::ptr_eq(&self.values, values) {
            return true;
        }
        let (Some(a), Some(b)) = (
            self.values.as_string_opt::<i32>(),
            values.as_string_opt::<i32>(),
        ) else {
            return false;
        };
        let same_nulls = match (a.nulls(), b.nulls()) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                x.buffer().as_ptr() == y.buffer().as_ptr()
                    && x.offset() == y.offset()
                    && x.len() == y.len()
            }
            _ => false,
        };
        a.len() == b.len()
            && a.value_offsets().as_ptr() == b.value_offsets().as_ptr()
            && a.values().as_ptr() == b.values().as_ptr()
            && a.values().len() == b.values().len()
            && same_nulls
    }
}

/// The group of every row of `d` into `ids` (appended), through the map in `slot` (replaced
/// when `d` has another dictionary): `group(value)` interns a value no row used before and
/// gives its group (`None`: the null group).
pub(crate) fn intern(
    slot: &mut Option<DictionaryGroups>,
    d: &DictionaryArray<Int32Type>,
    ids: &mut Vec<u32>,
    group: &mut dyn FnMut(Option<&[u8]>) -> u32,
) -> Result<()> {
    let values = d.values();
    let strings: &StringArray = values.as_string_opt::<i32>().ok_or_else(|| {
        Error::Internal(format!(
            "dictionary of {} as string keys",
            values.data_type()
        ))
    })?;
    if !slot.as_ref().is_some_and(|m| m.is_for(values)) {
        *slot = Some(DictionaryGroups {
            values: values.clone(),
            groups: vec![UNSEEN; values.len()],
        });
    }
    let Some(map) = slot.as_mut() else {
        return Err(Error::Internal("dictionary map lost".into()));
    };
    let value_nulls = strings.nulls().filter(|n| n.null_count() > 0);
    let groups = &mut map.groups;
    let mut of_code = |code: i32, group: &mut dyn FnMut(Option<&[u8]>) -> u32| -> Result<u32> {
        let c = usize::try_from(code).unwrap_or(usize::MAX);
        let Some(&g) = groups.get(c) else {
            return Err(Error::Internal(format!(
                "dictionary code {code} outside a dictionary of {}",
                groups.len()
            )));
        };
        if g != UNSEEN {
            return Ok(g);
        }
        let g = if value_nulls.is_some_and(|n| n.is_null(c)) {
            group(None)
        } else {
            group(Some(strings.value(c).as_bytes()))
        };
        groups[c] = g;
        Ok(g)
    };
    let codes = d.keys().values();
    ids.reserve(codes.len());
    match d.keys().nulls().filter(|n| n.null_count() > 0) {
        None => {
            for &code in codes.iter() {
                ids.push(of_code(code, group)?);
            }
        }
        Some(nulls) => {
            for (r, &code) in codes.iter().enumerate() {
                ids.push(if nulls.is_valid(r) {
                    of_code(code, group)?
                } else {
                    group(None)
                });
            }
        }
    }
    Ok(())
}

/// A prepared string key column as the row encoders read it: plain Utf8, or Int32 codes into
/// Utf8 values.
pub(crate) enum StrColumn<'a> {
    Plain {
        offsets: &'a [i32],
        data: &'a [u8],
    },
    Codes {
        codes: &'a [i32],
        offsets: &'a [i32],
        data: &'a [u8],
    },
}

impl<'a> StrColumn<'a> {
    /// The column `a` (Utf8 or Int32 codes into Utf8, as [`KeySpec::prepare`] leaves string
    /// keys).
    ///
    /// [`KeySpec::prepare`]: super::keys::KeySpec::prepare
    pub(crate) fn of(a: &'a dyn Array) -> Result<Self> {
        if let Some(d) = as_codes(a) {
            let values = d.values().as_string::<i32>();
            return Ok(StrColumn::Codes {
                codes: d.keys().values(),
                offsets: values.value_offsets(),
                data: values.value_data(),
            });
        }
        let s = a.as_string_opt::<i32>().ok_or_else(|| {
            Error::Internal(format!("a string key column of type {}", a.data_type()))
        })?;
        Ok(StrColumn::Plain {
            offsets: s.value_offsets(),
            data: s.value_data(),
        })
    }

    /// Row `r`'s bytes (a valid row; a null row's are whatever its slot holds, or none).
    #[inline(always)]
    pub(crate) fn bytes(&self, r: usize) -> &'a [u8] {
        match self {
            StrColumn::Plain { offsets, data } => {
                &data[offsets[r] as usize..offsets[r + 1] as usize]
            }
            StrColumn::Codes {
                codes,
                offsets,
                data,
            } => {
                // A null row's code may be anything: checked, so it never panics.
                let i = usize::try_from(codes[r]).unwrap_or(usize::MAX);
                match (offsets.get(i), offsets.get(i.wrapping_add(1))) {
                    (Some(&a), Some(&b)) => data.get(a as usize..b as usize).unwrap_or_default(),
                    _ => &[],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, DictionaryArray, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Int32Type};

    use super::super::keys::KeySpec;
    use super::super::table::{hash_rows, prepare_keys, GroupTable, Scratch};

    /// Pieces of codes into dictionaries: two pieces (one a slice) share a dictionary, the
    /// next has another with a null value and values no row uses, and rows are null too.
    fn pieces() -> Vec<ArrayRef> {
        let first: ArrayRef = Arc::new(StringArray::from(vec!["b", "a", "c", "zz-long-value-1"]));
        let second: ArrayRef = Arc::new(StringArray::from(vec![
            Some("c"),
            None,
            Some("unused"),
            Some("d"),
            Some("a"),
            Some("zz-long-value-2"),
        ]));
        let dict = |codes: Vec<Option<i32>>, values: &ArrayRef| -> ArrayRef {
            let d = DictionaryArray::<Int32Type>::try_new(Int32Array::from(codes), values.clone())
                .unwrap();
            Arc::new(d)
        };
        let shared = dict(vec![Some(1), Some(1), Some(3), Some(0), Some(1)], &first);
        vec![
            shared.slice(1, 4),
            dict(vec![Some(2), None, Some(0), Some(2), Some(3)], &first),
            dict(
                vec![Some(4), Some(1), None, Some(3), Some(0), Some(5), Some(1)],
                &second,
            ),
            dict(vec![None, None], &second),
            dict(vec![Some(3), Some(2)], &first.slice(0, 4)).slice(0, 0),
            dict(vec![Some(3), Some(0), Some(2)], &first),
        ]
    }

    /// Interning every piece as codes gives the ids, keys and hashes interning its strings
    /// gives, for one string key and for a string and an integer key (with the table of
    /// column codes and without).
    #[test]
    fn codes_group_as_their_strings() {
        let plain = |a: &ArrayRef| arrow::compute::cast(a, &DataType::Utf8).unwrap();
        for width in [1, 2] {
            let types = [DataType::Utf8, DataType::Int32][..width].to_vec();
            let spec = Arc::new(KeySpec::new(types).unwrap());
            let tables = |codes: bool| {
                let t = GroupTable::new(spec.clone());
                if codes || width == 1 {
                    t
                } else {
                    t.without_codes()
                }
            };
            for with_codes in [true, false] {
                let (mut coded, mut strings) = (tables(with_codes), tables(with_codes));
                let (mut a, mut b, mut scratch) = (vec![], vec![], Scratch::default());
                let (mut ha, mut hb) = (vec![], vec![]);
                for (i, p) in pieces().iter().enumerate() {
                    let other: ArrayRef = Arc::new(Int32Array::from_iter_values(
                        (0..p.len() as i32).map(|r| r % 2),
                    ));
                    let keys =
                        prepare_keys(&spec, vec![p.clone(), other.clone()][..width].to_vec())
                            .unwrap();
                    assert_eq!(keys[0].data_type(), p.data_type(), "kept as codes");
                    let texts =
                        prepare_keys(&spec, vec![plain(p), other][..width].to_vec()).unwrap();
                    coded.intern(&keys, &mut a, &mut scratch).unwrap();
                    strings.intern(&texts, &mut b, &mut scratch).unwrap();
                    assert_eq!(a, b, "width {width}, piece {i}");
                    hash_rows(&spec, &keys, &mut scratch, &mut ha).unwrap();
                    hash_rows(&spec, &texts, &mut scratch, &mut hb).unwrap();
                    assert_eq!(ha, hb, "width {width}, piece {i}");
                }
                assert_eq!(coded.len(), strings.len());
                for g in 0..coded.len() as u32 {
                    assert_eq!(coded.hash(g), strings.hash(g));
                }
                let (ka, kb) = (coded.keys().unwrap(), strings.keys().unwrap());
                assert_eq!(ka.len(), kb.len());
                for (x, y) in ka.iter().zip(&kb) {
                    assert_eq!(x.to_data(), y.to_data());
                }
            }
        }
    }

    /// A code outside its dictionary is an error, never a panic.
    #[test]
    fn a_code_outside_the_dictionary_is_an_error() {
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let keys = Int32Array::from(vec![0, 7]);
        // Built unchecked on purpose: a reader that skipped validation.
        let d = unsafe { DictionaryArray::<Int32Type>::new_unchecked(keys, values) };
        let spec = Arc::new(KeySpec::new(vec![DataType::Utf8]).unwrap());
        let mut t = GroupTable::new(spec);
        let err = t
            .intern(
                &[Arc::new(d) as ArrayRef],
                &mut vec![],
                &mut Scratch::default(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }
}
