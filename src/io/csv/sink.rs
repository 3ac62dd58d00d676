//! Column builders for CSV decoding: one [`Sink`] per projected column.
//!
//! A sink is a plain `Vec` of native values (or offsets and bytes for text) plus a validity
//! bitmap that is only allocated once a null shows up. Values are parsed from the field's bytes
//! in place, with no allocation per field or row, and the finished vectors become Arrow buffers
//! without copying.

use std::sync::Arc;

use arrow::array::builder::BooleanBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanArray, PrimitiveArray, StringArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Int8Type, TimeUnit, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

use super::infer::UserFormat;
use super::split::FieldErrorKind;
use super::values::{self, SecNanos};
use super::NullValues;
use crate::error::{Error, Result};

/// A validity bitmap that costs one counter increment per valid value until the first null,
/// when the bitmap is allocated (Arrow's builder does the same, but is not inlined across
/// crates, and this is called for every value).
pub(crate) struct Validity {
    len: usize,
    capacity: usize,
    bits: Option<BooleanBufferBuilder>,
}

impl Validity {
    fn new(capacity: usize) -> Self {
        Self {
            len: 0,
            capacity,
            bits: None,
        }
    }

    #[inline(always)]
    fn append_non_null(&mut self) {
        self.len += 1;
        if let Some(b) = &mut self.bits {
            b.append(true);
        }
    }

    #[inline]
    fn append_null(&mut self) {
        let bits = self.bits.get_or_insert_with(|| {
            let mut b = BooleanBufferBuilder::new(self.capacity.max(self.len + 1));
            b.append_n(self.len, true);
            b
        });
        bits.append(false);
        self.len += 1;
    }

    fn finish(&mut self) -> Option<NullBuffer> {
        self.bits.take().map(|mut b| NullBuffer::new(b.finish()))
    }
}

/// A column of one primitive type being built.
pub(crate) struct Prim<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    nulls: Validity,
}

impl<T: ArrowPrimitiveType> Prim<T> {
    fn new(capacity: usize) -> Self {
        Self {
            values: Vec::with_capacity(capacity),
            nulls: Validity::new(capacity),
        }
    }

    #[inline(always)]
    fn push(&mut self, v: T::Native) {
        self.values.push(v);
        self.nulls.append_non_null();
    }

    #[inline(always)]
    fn push_null(&mut self) {
        self.values.push(T::Native::default());
        self.nulls.append_null();
    }

    #[inline(always)]
    fn push_opt(&mut self, v: Option<T::Native>) -> std::result::Result<(), FieldErrorKind> {
        match v {
            Some(v) => {
                self.push(v);
                Ok(())
            }
            None => Err(FieldErrorKind::Rejected),
        }
    }

    fn finish(mut self) -> PrimitiveArray<T> {
        PrimitiveArray::new(ScalarBuffer::from(self.values), self.nulls.finish())
    }
}

/// A text offset as Arrow's i32. Saturates rather than wraps: a morsel with more than 2 GiB
/// of text in one column is rejected when its array is built (see [`Sink::finish`]).
#[inline(always)]
fn offset32(len: usize) -> i32 {
    len.min(i32::MAX as usize) as i32
}

/// How a temporal column reads its text.
#[derive(Clone, Debug)]
pub(crate) enum Temporal {
    /// ISO 8601 (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.f]`).
    Iso,
    /// A user's chrono format.
    User(UserFormat),
}

impl Temporal {
    #[inline]
    fn date(&self, b: &[u8]) -> Option<i32> {
        let days = match self {
            Temporal::Iso => values::parse_date_lenient(b),
            Temporal::User(UserFormat::Date(f)) => f.parse_date(b),
            Temporal::User(UserFormat::Datetime(f)) => {
                f.parse_datetime(b).map(|(s, _)| s.div_euclid(86_400))
            }
        }?;
        i32::try_from(days).ok()
    }

    #[inline]
    fn datetime(&self, b: &[u8]) -> Option<SecNanos> {
        match self {
            Temporal::Iso => values::parse_datetime_lenient(b),
            Temporal::User(UserFormat::Date(f)) => f.parse_date(b).map(|d| (d * 86_400, 0)),
            Temporal::User(UserFormat::Datetime(f)) => f.parse_datetime(b),
        }
    }

    /// What the value should have looked like, for error messages.
    fn describe(&self, date: bool) -> String {
        match self {
            Temporal::Iso if date => "a date (YYYY-MM-DD)".into(),
            Temporal::Iso => "a datetime (YYYY-MM-DD HH:MM:SS)".into(),
            Temporal::User(UserFormat::Date(f) | UserFormat::Datetime(f)) => {
                format!("format \"{}\"", f.text)
            }
        }
    }
}

/// Seconds + nanoseconds to a count of `unit`s, or `None` when out of `i64` range.
#[inline(always)]
fn to_unit((secs, nanos): SecNanos, unit: TimeUnit) -> Option<i64> {
    let n = i64::from(nanos);
    match unit {
        TimeUnit::Second => Some(secs),
        TimeUnit::Millisecond => secs.checked_mul(1_000)?.checked_add(n / 1_000_000),
        TimeUnit::Microsecond => secs.checked_mul(1_000_000)?.checked_add(n / 1_000),
        TimeUnit::Nanosecond => secs.checked_mul(1_000_000_000)?.checked_add(n),
    }
}

/// One projected column being decoded.
pub(crate) enum Sink {
    Bool(BooleanBufferBuilder, Validity),
    I8(Prim<Int8Type>),
    I16(Prim<Int16Type>),
    I32(Prim<Int32Type>),
    I64(Prim<Int64Type>),
    U8(Prim<UInt8Type>),
    U16(Prim<UInt16Type>),
    U32(Prim<UInt32Type>),
    U64(Prim<UInt64Type>),
    F32(Prim<Float32Type>),
    F64(Prim<Float64Type>),
    /// Offsets, bytes, validity.
    Utf8(Vec<i32>, Vec<u8>, Validity),
    Date32(Prim<Date32Type>, Temporal),
    Timestamp(Vec<i64>, Validity, TimeUnit, Temporal),
}

impl Sink {
    pub fn new(t: &DataType, temporal: Temporal, cap: usize) -> Result<Self> {
        Ok(match t {
            DataType::Boolean => Sink::Bool(BooleanBufferBuilder::new(cap), Validity::new(cap)),
            DataType::Int8 => Sink::I8(Prim::new(cap)),
            DataType::Int16 => Sink::I16(Prim::new(cap)),
            DataType::Int32 => Sink::I32(Prim::new(cap)),
            DataType::Int64 => Sink::I64(Prim::new(cap)),
            DataType::UInt8 => Sink::U8(Prim::new(cap)),
            DataType::UInt16 => Sink::U16(Prim::new(cap)),
            DataType::UInt32 => Sink::U32(Prim::new(cap)),
            DataType::UInt64 => Sink::U64(Prim::new(cap)),
            DataType::Float32 => Sink::F32(Prim::new(cap)),
            DataType::Float64 => Sink::F64(Prim::new(cap)),
            DataType::Utf8 => {
                let mut offsets = Vec::with_capacity(cap + 1);
                offsets.push(0);
                Sink::Utf8(offsets, Vec::with_capacity(cap * 8), Validity::new(cap))
            }
            DataType::Date32 => Sink::Date32(Prim::new(cap), temporal),
            DataType::Timestamp(unit, None) => {
                Sink::Timestamp(Vec::with_capacity(cap), Validity::new(cap), *unit, temporal)
            }
            other => {
                return Err(Error::Schema(format!(
                    "the CSV reader cannot produce a {other} column"
                )))
            }
        })
    }

    pub fn push_null(&mut self) {
        match self {
            Sink::Bool(v, n) => {
                v.append(false);
                n.append_null();
            }
            Sink::I8(p) => p.push_null(),
            Sink::I16(p) => p.push_null(),
            Sink::I32(p) => p.push_null(),
            Sink::I64(p) => p.push_null(),
            Sink::U8(p) => p.push_null(),
            Sink::U16(p) => p.push_null(),
            Sink::U32(p) => p.push_null(),
            Sink::U64(p) => p.push_null(),
            Sink::F32(p) => p.push_null(),
            Sink::F64(p) => p.push_null(),
            Sink::Utf8(offsets, values, n) => {
                offsets.push(offset32(values.len()));
                n.append_null();
            }
            Sink::Date32(p, _) => p.push_null(),
            Sink::Timestamp(v, n, _, _) => {
                v.push(0);
                n.append_null();
            }
        }
    }

    /// Append one field. Empty fields and null texts are nulls, except that a quoted empty
    /// field in a text column is the empty string.
    ///
    /// Kept out of line on purpose: inlined, its many arms make the per-field callback too big
    /// for the compiler to inline into the record loop, and then every field, projected or
    /// not, pays a call. Out of line, only projected fields do.
    #[inline(never)]
    pub fn push(
        &mut self,
        b: &[u8],
        quoted: bool,
        nulls: &NullValues,
    ) -> std::result::Result<(), FieldErrorKind> {
        if b.is_empty() {
            if quoted {
                if let Sink::Utf8(offsets, values, n) = self {
                    offsets.push(offset32(values.len()));
                    n.append_non_null();
                    return Ok(());
                }
            }
            self.push_null();
            return Ok(());
        }
        if nulls.matches(b) {
            self.push_null();
            return Ok(());
        }
        match self {
            Sink::F64(p) => p.push_opt(values::parse_f64(b)),
            Sink::I64(p) => p.push_opt(values::parse_int(b)),
            Sink::Utf8(offsets, values, n) => {
                if !b.is_ascii() && std::str::from_utf8(b).is_err() {
                    return Err(FieldErrorKind::Rejected);
                }
                values.extend_from_slice(b);
                offsets.push(offset32(values.len()));
                n.append_non_null();
                Ok(())
            }
            Sink::Timestamp(v, n, unit, t) => {
                let x = t.datetime(b).and_then(|sn| to_unit(sn, *unit));
                match x {
                    Some(x) => {
                        v.push(x);
                        n.append_non_null();
                        Ok(())
                    }
                    None => Err(FieldErrorKind::Rejected),
                }
            }
            Sink::Date32(p, t) => p.push_opt(t.date(b)),
            Sink::Bool(v, n) => match values::parse_bool(b) {
                Some(x) => {
                    v.append(x);
                    n.append_non_null();
                    Ok(())
                }
                None => Err(FieldErrorKind::Rejected),
            },
            Sink::I8(p) => p.push_opt(values::parse_int(b)),
            Sink::I16(p) => p.push_opt(values::parse_int(b)),
            Sink::I32(p) => p.push_opt(values::parse_int(b)),
            Sink::U8(p) => p.push_opt(values::parse_int(b)),
            Sink::U16(p) => p.push_opt(values::parse_int(b)),
            Sink::U32(p) => p.push_opt(values::parse_int(b)),
            Sink::U64(p) => p.push_opt(values::parse_int(b)),
            Sink::F32(p) => p.push_opt(values::parse_f32(b)),
        }
    }

    /// What a valid value of this column looks like, for error messages.
    pub fn expected(&self) -> String {
        match self {
            Sink::Bool(..) => "Boolean (true or false)".into(),
            Sink::I8(_) => "Int8 (an integer from -128 to 127)".into(),
            Sink::I16(_) => "Int16 (an integer from -32768 to 32767)".into(),
            Sink::I32(_) => "Int32 (a 32-bit integer)".into(),
            Sink::I64(_) => "Int64 (a 64-bit integer)".into(),
            Sink::U8(_) => "UInt8 (an integer from 0 to 255)".into(),
            Sink::U16(_) => "UInt16 (an integer from 0 to 65535)".into(),
            Sink::U32(_) => "UInt32 (a non-negative 32-bit integer)".into(),
            Sink::U64(_) => "UInt64 (a non-negative 64-bit integer)".into(),
            Sink::F32(_) => "Float32 (a number)".into(),
            Sink::F64(_) => "Float64 (a number)".into(),
            Sink::Utf8(..) => "Utf8 (valid UTF-8 text)".into(),
            Sink::Date32(_, t) => format!("Date32 ({})", t.describe(true)),
            Sink::Timestamp(_, _, _, t) => format!("Timestamp ({})", t.describe(false)),
        }
    }

    pub fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            Sink::Bool(mut v, mut n) => Arc::new(BooleanArray::new(v.finish(), n.finish())),
            Sink::I8(p) => Arc::new(p.finish()),
            Sink::I16(p) => Arc::new(p.finish()),
            Sink::I32(p) => Arc::new(p.finish()),
            Sink::I64(p) => Arc::new(p.finish()),
            Sink::U8(p) => Arc::new(p.finish()),
            Sink::U16(p) => Arc::new(p.finish()),
            Sink::U32(p) => Arc::new(p.finish()),
            Sink::U64(p) => Arc::new(p.finish()),
            Sink::F32(p) => Arc::new(p.finish()),
            Sink::F64(p) => Arc::new(p.finish()),
            Sink::Utf8(offsets, values, mut n) => {
                if values.len() > i32::MAX as usize {
                    return Err(Error::Compute(format!(
                        "a CSV morsel holds {} bytes of text in one column, more than a Utf8 \
                         array can hold (2 GiB)",
                        values.len()
                    )));
                }
                let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
                // SAFETY: offsets start at 0 and never decrease (each push records the running
                // length, which fits i32 as checked above), and every field was checked to be
                // valid UTF-8 on its own, so each value and the whole buffer are valid UTF-8.
                Arc::new(unsafe {
                    StringArray::new_unchecked(offsets, Buffer::from_vec(values), n.finish())
                })
            }
            Sink::Date32(p, _) => Arc::new(p.finish()),
            Sink::Timestamp(v, mut n, unit, _) => {
                let v = ScalarBuffer::from(v);
                let n = n.finish();
                match unit {
                    TimeUnit::Second => Arc::new(TimestampSecondArray::new(v, n)),
                    TimeUnit::Millisecond => Arc::new(TimestampMillisecondArray::new(v, n)),
                    TimeUnit::Microsecond => Arc::new(TimestampMicrosecondArray::new(v, n)),
                    TimeUnit::Nanosecond => Arc::new(TimestampNanosecondArray::new(v, n)),
                }
            }
        })
    }
}
