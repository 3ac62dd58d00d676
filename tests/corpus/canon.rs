//! Canonical text of Arrow types and values: the Rust side of `tests/corpus/canon.py` (read its
//! docstring for the rules). Two readers read a file the same when every value's text is equal.

use arrow::array::*;
use arrow::datatypes::*;
use serde_json::Value as Json;

pub const CHUNK: usize = 256;

fn unit(u: &TimeUnit) -> &'static str {
    match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

/// The canonical type text.
pub fn canon_type(t: &DataType) -> String {
    use DataType::*;
    match t {
        Null => "null".into(),
        Boolean => "bool".into(),
        Int8 => "int8".into(),
        Int16 => "int16".into(),
        Int32 => "int32".into(),
        Int64 => "int64".into(),
        UInt8 => "uint8".into(),
        UInt16 => "uint16".into(),
        UInt32 => "uint32".into(),
        UInt64 => "uint64".into(),
        Float16 => "float16".into(),
        Float32 => "float32".into(),
        Float64 => "float64".into(),
        Utf8 | LargeUtf8 | Utf8View => "utf8".into(),
        Binary | LargeBinary | BinaryView => "binary".into(),
        FixedSizeBinary(n) => format!("fixed_size_binary[{n}]"),
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s) => {
            format!("decimal({p},{s})")
        }
        Date32 => "date32".into(),
        Date64 => "date64".into(),
        Time32(u) | Time64(u) => format!("time[{}]", unit(u)),
        Timestamp(u, None) => format!("timestamp[{}]", unit(u)),
        Timestamp(u, Some(tz)) => format!("timestamp[{},{tz}]", unit(u)),
        Duration(u) => format!("duration[{}]", unit(u)),
        Map(f, _) => match f.data_type() {
            Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                canon_type(kv[0].data_type()),
                canon_type(kv[1].data_type())
            ),
            other => format!("map<{other}>"),
        },
        FixedSizeList(f, n) => format!("fixed_size_list[{n}]<{}>", canon_type(f.data_type())),
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) => {
            format!("list<{}>", canon_type(f.data_type()))
        }
        Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), canon_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Dictionary(_, v) => canon_type(v),
        other => format!("unsupported:{other}"),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{:016x}", v.to_bits())
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

fn texts_of<T>(a: &dyn Array, n: usize, f: impl Fn(usize) -> T) -> Vec<String>
where
    T: Into<String>,
{
    (0..n)
        .map(|i| {
            if a.is_null(i) {
                "null".to_string()
            } else {
                f(i).into()
            }
        })
        .collect()
}

/// The canonical text of every value of `a`, in row order.
pub fn canon_array(a: &dyn Array) -> Vec<String> {
    use DataType::*;
    let n = a.len();
    macro_rules! prim {
        ($t:ty, $f:expr) => {{
            let p = a.as_any().downcast_ref::<$t>().expect("array type");
            texts_of(a, n, |i| $f(p.value(i)))
        }};
    }
    match a.data_type() {
        Null => vec!["null".into(); n],
        Boolean => prim!(BooleanArray, |v: bool| v.to_string()),
        Int8 => prim!(Int8Array, |v: i8| v.to_string()),
        Int16 => prim!(Int16Array, |v: i16| v.to_string()),
        Int32 => prim!(Int32Array, |v: i32| v.to_string()),
        Int64 => prim!(Int64Array, |v: i64| v.to_string()),
        UInt8 => prim!(UInt8Array, |v: u8| v.to_string()),
        UInt16 => prim!(UInt16Array, |v: u16| v.to_string()),
        UInt32 => prim!(UInt32Array, |v: u32| v.to_string()),
        UInt64 => prim!(UInt64Array, |v: u64| v.to_string()),
        Float16 => prim!(
            Float16Array,
            |v: <Float16Type as ArrowPrimitiveType>::Native| float(f64::from(v.to_f32()))
        ),
        Float32 => prim!(Float32Array, |v: f32| float(f64::from(v))),
        Float64 => prim!(Float64Array, float),
        Utf8 => prim!(StringArray, escape),
        LargeUtf8 => prim!(LargeStringArray, escape),
        Utf8View => prim!(StringViewArray, escape),
        Binary => prim!(BinaryArray, hex),
        LargeBinary => prim!(LargeBinaryArray, hex),
        BinaryView => prim!(BinaryViewArray, hex),
        FixedSizeBinary(_) => prim!(FixedSizeBinaryArray, hex),
        Decimal32(..) => prim!(Decimal32Array, |v: i32| v.to_string()),
        Decimal64(..) => prim!(Decimal64Array, |v: i64| v.to_string()),
        Decimal128(..) => prim!(Decimal128Array, |v: i128| v.to_string()),
        Decimal256(..) => prim!(Decimal256Array, |v: i256| v.to_string()),
        Date32 | Time32(_) => {
            let c = arrow::compute::cast(a, &Int32).expect("cast to int32");
            canon_array(&c)
        }
        Date64 | Time64(_) | Timestamp(..) | Duration(_) => {
            let c = arrow::compute::cast(a, &Int64).expect("cast to int64");
            canon_array(&c)
        }
        Dictionary(_, v) => {
            let c = arrow::compute::cast(a, v).expect("dictionary decode");
            canon_array(&c)
        }
        Map(..) => {
            let m = a.as_map();
            let keys = canon_array(m.keys());
            let values = canon_array(m.values());
            let off = m.value_offsets();
            texts_of(a, n, |i| {
                let (s, e) = (off[i] as usize, off[i + 1] as usize);
                let pairs: Vec<String> = (s..e)
                    .map(|j| format!("{}=>{}", keys[j], values[j]))
                    .collect();
                format!("<{}>", pairs.join(","))
            })
        }
        List(_) => list(
            a,
            a.as_list::<i32>().value_offsets(),
            a.as_list::<i32>().values(),
        ),
        LargeList(_) => list(
            a,
            a.as_list::<i64>().value_offsets(),
            a.as_list::<i64>().values(),
        ),
        FixedSizeList(_, size) => {
            let l = a.as_fixed_size_list();
            let child = canon_array(l.values());
            let size = *size as usize;
            texts_of(a, n, |i| {
                format!("[{}]", child[i * size..(i + 1) * size].join(","))
            })
        }
        Struct(fields) => {
            let s = a.as_struct();
            let children: Vec<Vec<String>> = s.columns().iter().map(|c| canon_array(c)).collect();
            texts_of(a, n, |i| {
                let parts: Vec<String> = fields
                    .iter()
                    .zip(&children)
                    .map(|(f, c)| format!("{}={}", f.name(), c[i]))
                    .collect();
                format!("{{{}}}", parts.join(","))
            })
        }
        other => vec![format!("unsupported:{other}"); n],
    }
}

fn list<O: arrow::array::OffsetSizeTrait>(
    a: &dyn Array,
    offsets: &[O],
    values: &ArrayRef,
) -> Vec<String> {
    let child = canon_array(values);
    texts_of(a, a.len(), |i| {
        let (s, e) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
        format!("[{}]", child[s..e].join(","))
    })
}

pub fn fnv1a(texts: &[String]) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for s in texts {
        for b in s.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01B3);
        }
    }
    format!("{h:016x}")
}

/// Compare one column's values with its expected summary; the first difference, or `None`.
pub fn compare_column(name: &str, a: &dyn Array, want: &Json) -> Option<String> {
    let ty = canon_type(a.data_type());
    if ty != want["type"] {
        return Some(format!(
            "column {name}: type {ty}, expected {}",
            want["type"]
        ));
    }
    let texts = canon_array(a);
    if texts.len() as u64 != want["rows"].as_u64().unwrap_or(u64::MAX) {
        return Some(format!(
            "column {name}: {} rows, expected {}",
            texts.len(),
            want["rows"]
        ));
    }
    for (i, w) in want["head"].as_array()?.iter().enumerate() {
        if texts.get(i).map(String::as_str) != w.as_str() {
            return Some(format!(
                "column {name} row {i}: {:?}, expected {w}",
                texts.get(i)
            ));
        }
    }
    for (k, w) in want["chunks"].as_array()?.iter().enumerate() {
        let chunk = &texts[(k * CHUNK).min(texts.len())..((k + 1) * CHUNK).min(texts.len())];
        if fnv1a(chunk) != w.as_str().unwrap_or("") {
            return Some(format!(
                "column {name}: rows {}..{} differ (first: {:?})",
                k * CHUNK,
                (k + 1) * CHUNK,
                chunk.first()
            ));
        }
    }
    None
}
