//! Kernels of the string family (`expr::string`).
//!
//! Prefix, suffix and substring tests use Arrow's kernels (memchr-based); the regex test runs
//! the pattern compiled when the expression was built. Lengths and case mapping take a fast
//! path when a column's bytes are all ASCII (one pass over the value buffer, offsets and nulls
//! reused); otherwise they go string by string with Rust's Unicode functions, as Polars does.
//! `Utf8View` input (Parquet's strings) is tested as it is; the functions that build strings or
//! lengths read it as `Utf8`.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, GenericStringArray,
    GenericStringBuilder, OffsetSizeTrait, Scalar as ArrowScalar, StringViewArray, UInt32Array,
};
use arrow::buffer::{BooleanBuffer, Buffer};
use arrow::compute::kernels::comparison;
use arrow::datatypes::DataType;

use super::{first_array, scalar_in_scalar_out, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, Pattern, StringFunction};

impl Kernel for StringFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        scalar_in_scalar_out(args, |mut args| {
            let a = first_array(&mut args, self.name())?;
            match a.data_type() {
                DataType::Null => Ok(new_null_array(out, a.len())),
                DataType::LargeUtf8 => apply::<i64>(self, a.as_string::<i64>()),
                DataType::Utf8 => apply::<i32>(self, a.as_string::<i32>()),
                DataType::Utf8View if self.reads_views() => apply_view(self, a.as_string_view()),
                _ => {
                    let a = arrow::compute::cast(&a, &DataType::Utf8)?;
                    apply::<i32>(self, a.as_string::<i32>())
                }
            }
        })
    }
}

impl StringFunction {
    /// Tests that run on a view column as it is (Arrow's prefix, suffix and substring kernels
    /// take views; the regex reads each string in place): the cast to `Utf8` copied every
    /// string first.
    fn reads_views(&self) -> bool {
        matches!(
            self,
            StringFunction::StartsWith(_)
                | StringFunction::EndsWith(_)
                | StringFunction::Contains(_)
                | StringFunction::ContainsRegex(_)
        )
    }
}

/// The `reads_views` tests on a view column.
fn apply_view(f: &StringFunction, a: &StringViewArray) -> Result<ArrayRef> {
    let pattern = |p: &str| ArrowScalar::new(StringViewArray::from(vec![p]));
    test_strings(f, a, pattern, |i| a.is_valid(i).then(|| a.value(i)))
}

/// The string tests (`starts_with`, `ends_with`, `contains`, `contains_regex`) over a column
/// of any string layout, with `pattern` a one-value column of that layout and `value` its
/// `i`th string.
fn test_strings<'a, P: arrow::array::Array>(
    f: &StringFunction,
    a: &dyn arrow::array::Array,
    pattern: impl Fn(&str) -> ArrowScalar<P>,
    value: impl Fn(usize) -> Option<&'a str>,
) -> Result<ArrayRef> {
    Ok(match f {
        StringFunction::StartsWith(p) => Arc::new(comparison::starts_with(&a, &pattern(p))?),
        StringFunction::EndsWith(p) => Arc::new(comparison::ends_with(&a, &pattern(p))?),
        StringFunction::Contains(p) => Arc::new(comparison::contains(&a, &pattern(p))?),
        StringFunction::ContainsRegex(p) => {
            let values = regex_bits(p, a.len(), value)?;
            Arc::new(BooleanArray::new(values, a.nulls().cloned()))
        }
        other => {
            return Err(Error::Internal(format!(
                "{} is not a test of strings",
                other.name()
            )))
        }
    })
}

fn apply<O: OffsetSizeTrait>(f: &StringFunction, a: &GenericStringArray<O>) -> Result<ArrayRef> {
    Ok(match f {
        StringFunction::StartsWith(_)
        | StringFunction::EndsWith(_)
        | StringFunction::Contains(_)
        | StringFunction::ContainsRegex(_) => {
            let pattern = |p: &str| ArrowScalar::new(GenericStringArray::<O>::from(vec![p]));
            test_strings(f, a, pattern, |i| a.is_valid(i).then(|| a.value(i)))?
        }
        StringFunction::LenBytes => lengths(a, |s| s.len()),
        StringFunction::LenChars if is_ascii(a) => lengths(a, |s| s.len()),
        // Every byte but UTF-8 continuation bytes starts a character.
        StringFunction::LenChars => {
            lengths(a, |s| s.bytes().filter(|b| (b & 0xC0) != 0x80).count())
        }
        StringFunction::ToUppercase if is_ascii(a) => ascii_map(a, u8::to_ascii_uppercase),
        StringFunction::ToLowercase if is_ascii(a) => ascii_map(a, u8::to_ascii_lowercase),
        StringFunction::ToUppercase => map_strings(a, |s, out| out.push_str(&s.to_uppercase())),
        StringFunction::ToLowercase => map_strings(a, |s, out| out.push_str(&s.to_lowercase())),
        StringFunction::Slice { offset, length } => {
            let ascii = is_ascii(a);
            map_strings(a, |s, out| {
                out.push_str(slice_chars(s, *offset, *length, ascii))
            })
        }
    })
}

/// Whether `p` matches somewhere in each string (`value(i)`, `None` for a null: false).
///
/// A pattern of plain literals joined by `.*` (SQL's `LIKE '%special%requests%'`, TPC-H's Q13
/// and Q16) is answered by substring searches: the pieces occurring in order without
/// overlapping, the first occurrence of each after the previous piece (the earliest place
/// leaves the most room for the rest). `.` matches anything but `\n`, so this is the regex's
/// answer exactly for strings without a newline; a string with one goes to the regex.
fn regex_bits<'a>(
    p: &Pattern,
    len: usize,
    value: impl Fn(usize) -> Option<&'a str>,
) -> Result<BooleanBuffer> {
    let re = p
        .regex()
        .map_err(|m| Error::Plan(format!("invalid regular expression {:?}: {m}", p.as_str())))?;
    let Some(pieces) = literal_pieces(p.as_str()) else {
        return Ok(BooleanBuffer::collect_bool(len, |i| {
            value(i).is_some_and(|s| re.is_match(s))
        }));
    };
    let finders: Vec<memchr::memmem::Finder> =
        pieces.iter().map(memchr::memmem::Finder::new).collect();
    Ok(BooleanBuffer::collect_bool(len, |i| {
        let Some(s) = value(i) else { return false };
        let b = s.as_bytes();
        if memchr::memchr(b'\n', b).is_some() {
            return re.is_match(s);
        }
        let mut at = 0;
        finders.iter().all(|f| match f.find(&b[at..]) {
            Some(k) => {
                at += k + f.needle().len();
                true
            }
            None => false,
        })
    }))
}

/// The literal pieces of a pattern that is nothing but literals joined by `.*`, at least two
/// of them (a lone literal is the regex engine's own fast case); `None` when any piece holds
/// a character with a meaning in a regex.
fn literal_pieces(pattern: &str) -> Option<Vec<&str>> {
    let pieces: Vec<&str> = pattern.split(".*").collect();
    let meta = |c: char| "\\.+*?()|[]{}^$#&-~".contains(c);
    (pieces.len() >= 2 && !pieces.iter().any(|p| p.contains(meta))).then_some(pieces)
}

/// True when the bytes the array's strings use are all ASCII (so characters are bytes).
fn is_ascii<O: OffsetSizeTrait>(a: &GenericStringArray<O>) -> bool {
    let offsets = a.value_offsets();
    let (lo, hi) = (
        offsets.first().map_or(0, |o| o.as_usize()),
        offsets.last().map_or(0, |o| o.as_usize()),
    );
    a.value_data()[lo..hi].is_ascii()
}

fn lengths<O: OffsetSizeTrait>(a: &GenericStringArray<O>, f: impl Fn(&str) -> usize) -> ArrayRef {
    let values: Vec<u32> = (0..a.len())
        .map(|i| {
            if a.is_valid(i) {
                f(a.value(i)) as u32
            } else {
                0
            }
        })
        .collect();
    Arc::new(UInt32Array::new(values.into(), a.nulls().cloned()))
}

/// The same strings with every byte mapped (ASCII case changes keep lengths and offsets).
fn ascii_map<O: OffsetSizeTrait>(a: &GenericStringArray<O>, f: fn(&u8) -> u8) -> ArrayRef {
    let bytes: Vec<u8> = a.value_data().iter().map(f).collect();
    // SAFETY: mapping ASCII bytes to ASCII bytes keeps valid UTF-8 at the same offsets; the
    // offsets and nulls come from a valid array of the same length.
    let out = unsafe {
        GenericStringArray::<O>::new_unchecked(
            a.offsets().clone(),
            Buffer::from_vec(bytes),
            a.nulls().cloned(),
        )
    };
    Arc::new(out)
}

/// Each valid string through `f`, which appends its result to a buffer; nulls stay null.
fn map_strings<O: OffsetSizeTrait>(
    a: &GenericStringArray<O>,
    f: impl Fn(&str, &mut String),
) -> ArrayRef {
    let mut b = GenericStringBuilder::<O>::with_capacity(a.len(), a.value_data().len());
    let mut buf = String::new();
    for i in 0..a.len() {
        if a.is_valid(i) {
            buf.clear();
            f(a.value(i), &mut buf);
            b.append_value(&buf);
        } else {
            b.append_null();
        }
    }
    Arc::new(b.finish())
}

/// `length` characters of `s` from `offset` (negative: from the end), clipped (Polars).
fn slice_chars(s: &str, offset: i64, length: u64, ascii: bool) -> &str {
    let n = if ascii { s.len() } else { s.chars().count() } as i64;
    let start = if offset < 0 {
        n.saturating_add(offset)
    } else {
        offset
    };
    let end = start.saturating_add(i64::try_from(length).unwrap_or(i64::MAX));
    let (start, end) = (start.clamp(0, n) as usize, end.clamp(0, n) as usize);
    if start >= end {
        return "";
    }
    if ascii {
        return &s[start..end];
    }
    let byte = |k: usize| s.char_indices().nth(k).map_or(s.len(), |(b, _)| b);
    &s[byte(start)..byte(end)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    fn strings(a: &ArrayRef) -> Vec<Option<String>> {
        a.as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    #[test]
    fn view_columns_are_tested_in_place_with_the_same_answers() {
        use crate::prelude::*;
        use arrow::datatypes::{Field, Schema};
        let words = vec![
            Some("special packages requests"),
            None,
            Some("PROMO BRUSHED TIN"),
            Some(""),
            Some("STANDARD POLISHED"),
            Some("PROMO"),
            Some("furiously special requests"),
            Some("ends in TIN"),
        ];
        let frame = |a: ArrayRef| {
            let schema = Arc::new(Schema::new(vec![Field::new(
                "s",
                a.data_type().clone(),
                true,
            )]));
            DataFrame::from_arrays(schema, vec![a]).unwrap()
        };
        let views = frame(Arc::new(StringViewArray::from(words.clone())));
        let plain = frame(Arc::new(StringArray::from(words)));
        let tests = || {
            vec![
                col("s").str().starts_with("PROMO").alias("a"),
                col("s").str().ends_with("TIN").alias("b"),
                col("s").str().contains("special").alias("c"),
                col("s")
                    .str()
                    .contains_regex("special.*requests")
                    .alias("d"),
                col("s").str().starts_with("").alias("e"),
            ]
        };
        let got = views.lazy().select(tests()).collect().unwrap();
        let want = plain.lazy().select(tests()).collect().unwrap();
        assert!(got.equals(&want));
        let d = got.column("d").unwrap();
        let d: Vec<Option<bool>> = d.as_boolean().iter().collect();
        assert_eq!(d[..3], [Some(true), None, Some(false)]);
    }

    #[test]
    fn literals_joined_by_any_run_match_as_the_regex_does() {
        use crate::prelude::*;
        use arrow::datatypes::{Field, Schema};
        let words = vec![
            Some("special requests"),
            Some("requests special"),
            Some("special\nrequests"),
            Some("special x\n special requests"),
            None,
            Some("specialrequests"),
            Some("aaa"),
            Some("aaaa"),
            Some("x"),
            Some(""),
            Some("spécial ünïcode requests"),
            Some("a.b"),
            Some("a\nb"),
        ];
        let patterns = [
            "special.*requests",
            "aa.*aa",
            ".*x",
            "x.*",
            "spécial.*ünï.*requests",
            "a.*b",
            // Not literal pieces: the regex engine answers.
            "a\\..*b",
            "(?s)a.*b",
            "^special.*requests$",
        ];
        assert_eq!(
            literal_pieces("special.*requests"),
            Some(vec!["special", "requests"])
        );
        assert_eq!(literal_pieces("special"), None);
        assert_eq!(literal_pieces("(?s)a.*b"), None);
        for a in [
            Arc::new(StringArray::from(words.clone())) as ArrayRef,
            Arc::new(StringViewArray::from(words.clone())) as ArrayRef,
        ] {
            let schema = Arc::new(Schema::new(vec![Field::new(
                "s",
                a.data_type().clone(),
                true,
            )]));
            let df = DataFrame::from_arrays(schema, vec![a]).unwrap();
            for p in patterns {
                let re = regex::Regex::new(p).unwrap();
                let got = df
                    .clone()
                    .lazy()
                    .select([col("s").str().contains_regex(p).alias("m")])
                    .collect()
                    .unwrap();
                let got: Vec<Option<bool>> = got.column("m").unwrap().as_boolean().iter().collect();
                let want: Vec<Option<bool>> =
                    words.iter().map(|w| w.map(|w| re.is_match(w))).collect();
                assert_eq!(got, want, "{p}");
            }
        }
    }

    #[test]
    fn slices_count_characters_like_polars() {
        for (s, off, len, want) in [
            ("héllo", 1, 2, "él"),
            ("héllo", -2, 5, "lo"),
            ("héllo", 10, 2, ""),
            ("héllo", -10, 3, ""),
            ("héllo", -10, 7, "hé"),
            ("ab", 0, u64::MAX, "ab"),
            ("", 0, 3, ""),
            ("日本語テキスト", 2, 3, "語テキ"),
        ] {
            let ascii = s.is_ascii();
            assert_eq!(slice_chars(s, off, len, ascii), want, "{s} {off} {len}");
        }
    }

    #[test]
    fn case_and_lengths_take_both_paths() {
        let a = StringArray::from(vec![Some("straße"), None, Some("Ab"), Some("")]);
        let up = apply::<i32>(&StringFunction::ToUppercase, &a).unwrap();
        assert_eq!(
            strings(&up),
            vec![
                Some("STRASSE".into()),
                None,
                Some("AB".into()),
                Some("".into())
            ]
        );
        let n = apply::<i32>(&StringFunction::LenChars, &a).unwrap();
        let n: Vec<Option<u32>> = n
            .as_primitive::<arrow::datatypes::UInt32Type>()
            .iter()
            .collect();
        assert_eq!(n, vec![Some(6), None, Some(2), Some(0)]);
        let ascii = StringArray::from(vec![Some("Promo X"), None]);
        let low = apply::<i32>(&StringFunction::ToLowercase, &ascii).unwrap();
        assert_eq!(strings(&low), vec![Some("promo x".into()), None]);
    }
}
