//! Strings: the `str()` namespace (`col("s").str().starts_with("PROMO")`), Polars' names.
//!
//! - Tests (Boolean): `starts_with`, `ends_with`, `contains` (a literal substring) and
//!   `contains_regex` (the `regex` crate's syntax, unanchored: TPC-H's
//!   `LIKE '%special%requests%'` is `contains_regex("special.*requests")`). An invalid
//!   pattern is a plan error naming it.
//! - Lengths (UInt32): `len_chars` (Unicode scalar values) and `len_bytes` (UTF-8 bytes).
//! - Transforms (a string of the input's type): `to_uppercase`, `to_lowercase` (full Unicode
//!   case mapping: `"straße"` becomes `"STRASSE"`) and `slice(offset, length)` in characters,
//!   as Polars: a negative offset counts from the end, and the range is clipped to the string
//!   (`slice(-10, 3)` of `"héllo"` is empty, since it ends before the start).
//!
//! Nulls stay null; the empty string is a string like any other. Kernel:
//! `exec::kernels::string`.

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema};

use super::function::{first_input, FunctionFamily, FunctionKind};
use super::types::{is_string, typed};
use super::Expr;
use crate::error::{Error, Result};

/// A regular expression as written, compiled once when the expression is built.
#[derive(Clone, Debug)]
pub struct Pattern {
    text: String,
    compiled: std::result::Result<Arc<regex::Regex>, String>,
}

impl Pattern {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            compiled: regex::Regex::new(text)
                .map(Arc::new)
                .map_err(|e| e.to_string()),
        }
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The compiled pattern, or why it does not compile.
    pub(crate) fn regex(&self) -> std::result::Result<&regex::Regex, &str> {
        match &self.compiled {
            Ok(r) => Ok(r),
            Err(m) => Err(m),
        }
    }
}

/// Patterns are equal when written the same.
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// The functions of the `str()` namespace (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum StringFunction {
    /// Starts with a literal prefix.
    StartsWith(String),
    /// Ends with a literal suffix.
    EndsWith(String),
    /// A literal substring.
    Contains(String),
    /// Matches a regular expression somewhere.
    ContainsRegex(Pattern),
    /// Length in Unicode characters.
    LenChars,
    /// Length in bytes.
    LenBytes,
    /// Upper-cased (Unicode).
    ToUppercase,
    /// Lower-cased (Unicode).
    ToLowercase,
    /// Characters from `offset` (negative: from the end), at most `length` of them.
    Slice {
        /// The first character (negative counts from the end).
        offset: i64,
        /// The most characters to take.
        length: u64,
    },
}

impl FunctionFamily for StringFunction {
    fn name(&self) -> &'static str {
        match self {
            StringFunction::StartsWith(_) => "starts_with",
            StringFunction::EndsWith(_) => "ends_with",
            StringFunction::Contains(_) => "contains",
            StringFunction::ContainsRegex(_) => "contains_regex",
            StringFunction::LenChars => "len_chars",
            StringFunction::LenBytes => "len_bytes",
            StringFunction::ToUppercase => "to_uppercase",
            StringFunction::ToLowercase => "to_lowercase",
            StringFunction::Slice { .. } => "slice",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::Elementwise
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let input = first_input(self.name(), args)?;
        let t = input.data_type(schema)?;
        if !(is_string(&t) || t == DataType::Null) {
            return Err(Error::Type(format!(
                "str().{}() needs a string, got {} in {e}",
                self.name(),
                typed(input, &t)
            )));
        }
        Ok(match self {
            StringFunction::ContainsRegex(p) => {
                if let Err(m) = p.regex() {
                    return Err(Error::Plan(format!(
                        "invalid regular expression {:?} in {e}: {m}",
                        p.as_str()
                    )));
                }
                DataType::Boolean
            }
            StringFunction::StartsWith(_)
            | StringFunction::EndsWith(_)
            | StringFunction::Contains(_) => DataType::Boolean,
            StringFunction::LenChars | StringFunction::LenBytes => DataType::UInt32,
            StringFunction::ToUppercase
            | StringFunction::ToLowercase
            | StringFunction::Slice { .. } => match t {
                DataType::LargeUtf8 => DataType::LargeUtf8,
                _ => DataType::Utf8,
            },
        })
    }

    fn params(&self) -> Vec<String> {
        match self {
            StringFunction::StartsWith(s)
            | StringFunction::EndsWith(s)
            | StringFunction::Contains(s) => vec![format!("{s:?}")],
            StringFunction::ContainsRegex(p) => vec![format!("{:?}", p.as_str())],
            StringFunction::Slice { offset, length } => {
                let len = if *length == u64::MAX {
                    "u64::MAX".to_string()
                } else {
                    length.to_string()
                };
                vec![offset.to_string(), len]
            }
            StringFunction::LenChars
            | StringFunction::LenBytes
            | StringFunction::ToUppercase
            | StringFunction::ToLowercase => vec![],
        }
    }

    fn call_text(&self, args: &[Expr]) -> String {
        format!(
            "{}.str().{}({})",
            args[0],
            self.name(),
            self.params().join(", ")
        )
    }
}

/// The `str()` namespace of an expression: string functions (see the module docs).
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("s" => ["PROMO BRUSHED", "héllo", ""])?;
/// let out = df.lazy()
///     .select([
///         col("s").str().starts_with("PROMO").alias("promo"),
///         col("s").str().len_chars().alias("n"),
///         col("s").str().slice(1, 3).alias("mid"),
///     ])
///     .collect()?;
/// assert_eq!(out.column_f64("n")?, vec![Some(13.0), Some(5.0), Some(0.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StrNamespace(Expr);

impl Expr {
    /// String functions: `col("s").str().contains("x")`.
    pub fn str(self) -> StrNamespace {
        StrNamespace(self)
    }
}

impl StrNamespace {
    fn call(self, f: StringFunction) -> Expr {
        Expr::call(f, vec![self.0])
    }
    /// True where the string starts with `prefix`.
    pub fn starts_with(self, prefix: &str) -> Expr {
        self.call(StringFunction::StartsWith(prefix.to_string()))
    }
    /// True where the string ends with `suffix`.
    pub fn ends_with(self, suffix: &str) -> Expr {
        self.call(StringFunction::EndsWith(suffix.to_string()))
    }
    /// True where the string contains `literal` (no pattern characters).
    pub fn contains(self, literal: &str) -> Expr {
        self.call(StringFunction::Contains(literal.to_string()))
    }
    /// True where the regular expression `pattern` matches somewhere in the string.
    pub fn contains_regex(self, pattern: &str) -> Expr {
        self.call(StringFunction::ContainsRegex(Pattern::new(pattern)))
    }
    /// Length in characters (Unicode scalar values), UInt32.
    pub fn len_chars(self) -> Expr {
        self.call(StringFunction::LenChars)
    }
    /// Length in UTF-8 bytes, UInt32.
    pub fn len_bytes(self) -> Expr {
        self.call(StringFunction::LenBytes)
    }
    /// Upper case (full Unicode mapping).
    pub fn to_uppercase(self) -> Expr {
        self.call(StringFunction::ToUppercase)
    }
    /// Lower case (full Unicode mapping).
    pub fn to_lowercase(self) -> Expr {
        self.call(StringFunction::ToLowercase)
    }
    /// `length` characters from `offset` (negative: from the end), clipped to the string;
    /// `u64::MAX` takes the rest.
    pub fn slice(self, offset: i64, length: u64) -> Expr {
        self.call(StringFunction::Slice { offset, length })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::col;
    use arrow::datatypes::Field;

    #[test]
    fn types_plan_text_and_errors() {
        let schema = Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("x", DataType::Int64, true),
        ]);
        let e = col("s").str().contains_regex("special.*requests");
        assert_eq!(e.data_type(&schema).unwrap(), DataType::Boolean);
        assert_eq!(
            e.to_string(),
            "col(\"s\").str().contains_regex(\"special.*requests\")"
        );
        assert_eq!(
            col("s").str().slice(-2, 5).to_string(),
            "col(\"s\").str().slice(-2, 5)"
        );
        assert_eq!(
            col("s").str().len_chars().data_type(&schema).unwrap(),
            DataType::UInt32
        );
        let err = col("s")
            .str()
            .contains_regex("special(requests")
            .data_type(&schema)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid regular expression \"special(requests\""),
            "{err}"
        );
        let err = col("x")
            .str()
            .starts_with("a")
            .data_type(&schema)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("starts_with() needs a string, got col(\"x\") (i64)"),
            "{err}"
        );
        assert_eq!(
            col("s").str().contains_regex("a+"),
            col("s").str().contains_regex("a+")
        );
    }
}
