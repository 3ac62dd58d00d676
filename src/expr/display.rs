//! Plan-text rendering of expressions, in the Rust API's own spelling so that what `explain`
//! prints can be pasted back into a query. Functions and aggregates are spelled by their
//! family's module (`FunctionFamily::call_text`, `AggFunc::call_text`).
//!
//! Also the short names of Arrow types ([`dtype_name`]) and the text of floats
//! ([`format_float`]) as Polars prints them: messages, plan text and the frame's table all
//! use them, so they live here, below the frame layer.

use std::fmt;

use arrow::datatypes::DataType;

use super::temporal::calendar::unit_name;
use super::{BinaryOp, Expr, Scalar};

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => write!(f, "null"),
            Scalar::Boolean(b) => write!(f, "{b}"),
            Scalar::Int64(v) => write!(f, "{v}"),
            Scalar::UInt64(v) => write!(f, "{v}"),
            Scalar::Float64(v) => {
                if v.is_nan() {
                    write!(f, "f64::NAN")
                } else if v.is_infinite() {
                    write!(
                        f,
                        "{}",
                        if *v > 0.0 {
                            "f64::INFINITY"
                        } else {
                            "f64::NEG_INFINITY"
                        }
                    )
                } else if *v == v.trunc() && v.abs() < 1e15 {
                    write!(f, "{v:.1}")
                } else {
                    write!(f, "{v}")
                }
            }
            Scalar::Utf8(s) => write!(f, "{s:?}"),
            Scalar::Date32(_) | Scalar::Timestamp(..) => {
                match super::temporal::literal_text(self) {
                    Some(text) => f.write_str(&text),
                    None => match self {
                        Scalar::Timestamp(t, u, tz) => {
                            write!(f, "lit({t}).cast({})", DataType::Timestamp(*u, tz.clone()))
                        }
                        _ => write!(f, "date({self:?})"),
                    },
                }
            }
            Scalar::Duration(v, u) => write!(f, "lit({v}).cast({})", DataType::Duration(*u)),
            Scalar::Decimal128(v, p, s) => write!(
                f,
                "lit({:?}).cast({})",
                super::types::decimal_text(*v, *s),
                DataType::Decimal128(*p, *s)
            ),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => write!(f, "col({c:?})"),
            Expr::Columns(cs) => write!(f, "cols({cs:?})"),
            Expr::AllNumeric => write!(f, "all_numeric()"),
            Expr::Literal(s) => write!(f, "{s}"),
            Expr::Alias(e, n) => write!(f, "{e}.alias({n:?})"),
            Expr::Cast(e, t) => write!(f, "{e}.cast({t})"),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::Negate(e) => write!(f, "-{e}"),
            Expr::Binary { left, op, right } => {
                if op.is_comparison() {
                    write!(f, "{left}.{}({right})", op.symbol())
                } else {
                    write!(f, "({left} {} {right})", op.symbol())
                }
            }
            Expr::Function { func, args } => f.write_str(&func.call_text(args)),
            Expr::Agg { func, expr } => f.write_str(&func.call_text(expr)),
            Expr::When {
                cond,
                then,
                otherwise,
            } => write!(f, "when({cond}).then({then}).otherwise({otherwise})"),
            Expr::Param { name, .. } => write!(f, "${name}"),
            Expr::Over { expr, partition_by } => {
                let keys: Vec<String> = partition_by.iter().map(ToString::to_string).collect();
                write!(f, "{expr}.over([{}])", keys.join(", "))
            }
        }
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Short dtype name as Polars prints it.
pub fn dtype_name(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "i8".into(),
        DataType::Int16 => "i16".into(),
        DataType::Int32 => "i32".into(),
        DataType::Int64 => "i64".into(),
        DataType::UInt8 => "u8".into(),
        DataType::UInt16 => "u16".into(),
        DataType::UInt32 => "u32".into(),
        DataType::UInt64 => "u64".into(),
        DataType::Float32 => "f32".into(),
        DataType::Float64 => "f64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "str".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(u, None) => format!("datetime[{}]", unit_name(*u)),
        DataType::Timestamp(u, Some(tz)) => format!("datetime[{}, {tz}]", unit_name(*u)),
        DataType::Duration(u) => format!("duration[{}]", unit_name(*u)),
        DataType::Decimal128(p, s) => format!("decimal[{p},{s}]"),
        DataType::Null => "null".into(),
        other => other.to_string().to_lowercase(),
    }
}

/// Floats print like Polars: integral values keep a `.0`, specials are `NaN`, `inf`, `-inf`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.1}")
    } else if v.abs() >= 1e15 || v.abs() < 1e-5 {
        format!("{v:e}")
    } else {
        let s = format!("{v}");
        // Six significant decimals, like Polars' default float formatting.
        match s.split_once('.') {
            Some((int, frac)) if frac.len() > 6 => {
                let r = format!("{v:.6}");
                let r = r.trim_end_matches('0');
                let _ = int;
                r.to_string()
            }
            _ => s,
        }
    }
}
