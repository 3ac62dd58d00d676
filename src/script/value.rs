//! The values a script computes with, and the conversions between them and Rust API types.
//!
//! Literals keep Rust's typing rules so that a script accepted here also compiles as Rust: an
//! integer literal remembers its suffix (`5usize`) and is range-checked where it lands (an
//! unsuffixed literal used as an `Expr` is an `i32`, as Rust's inference default makes it);
//! `f64` parameters take float literals only; non-`Copy` values move. Every API type
//! (`Expr`, `LazyFrame`, `SortOptions`, ...) is an [`Object`], named by [`ScriptType::NAME`],
//! which is also the key of its method table.

use std::any::Any;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::error::Error;
use crate::expr::{
    DtNamespace, Expr, Fill, RankMethod, RankOptions, RollingKind, RollingOptions, Scalar,
    SortOptions, StrNamespace, Then, When,
};
use crate::frame::{Column, DataFrame, IntoArray};
use crate::io::{
    CsvOptions, IpcCompression, IpcWriteOptions, ParquetCompression, ParquetWriteOptions,
};
use crate::ml::{
    KMeans, KMeansModel, LazyKMeans, LazyLinearRegression, LazyMiniBatchKMeans, LazyPca,
    LinearModel, Lstsq, MiniBatchKMeans, Pca, PcaModel, PcaSolver, PowerIterationNormalizer, Svd,
};
use crate::plan::{ExecOptions, IntoSortOptions, JoinType, LazyFrame, LazyGroupBy};

/// An integer literal: its value and its type suffix, if any (`5usize` -> `Some("usize")`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IntLit {
    /// The literal's value.
    pub value: i128,
    /// Its type suffix (`"usize"`, `"i64"`), if written.
    pub suffix: Option<&'static str>,
}

/// A float literal or constant: its value and suffix (`f64::NAN` carries `Some("f64")`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatLit {
    /// The literal's value.
    pub value: f64,
    /// Its type suffix (`"f64"`, `"f32"`), if written.
    pub suffix: Option<&'static str>,
}

/// A script value.
#[derive(Debug)]
pub enum Value {
    /// `()`, what `sink_csv(..)?` gives.
    Unit,
    /// An integer literal.
    Int(IntLit),
    /// A float literal or constant.
    Float(FloatLit),
    /// A string literal (`&'static str` in Rust).
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `[a, b]` or `vec![a, b]`; elements have one kind (checked when built).
    Array(Vec<Value>),
    /// `Some(x)` / `None`.
    Opt(Option<Box<Value>>),
    /// `&x`: a borrow, accepted only where the Rust API takes a reference.
    Ref(Box<Value>),
    /// What a fallible API call returns; only `?` unwraps it, as in Rust.
    Result(std::result::Result<Box<Value>, Error>),
    /// An API type: `Expr`, `LazyFrame`, `SortOptions`, ...
    Object(Object),
}

impl Value {
    /// The type as error messages name it, also the method-table key for objects.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Unit => "()",
            Value::Int(i) => i.suffix.unwrap_or("integer"),
            Value::Float(f) => f.suffix.unwrap_or("float"),
            Value::Str(_) => "&str",
            Value::Bool(_) => "bool",
            Value::Array(_) => "array",
            Value::Opt(_) => "Option",
            Value::Ref(_) => "reference",
            Value::Result(_) => "Result",
            Value::Object(o) => o.type_name(),
        }
    }

    /// Coarse kind used to check that array elements agree, as Rust requires.
    pub(crate) fn kind(&self) -> String {
        match self {
            Value::Int(_) => "integer".into(),
            Value::Float(_) => "float".into(),
            Value::Array(items) => format!("[{}]", items.first().map_or("_".into(), Value::kind)),
            Value::Opt(Some(v)) => format!("Option<{}>", v.kind()),
            Value::Opt(None) => "Option<_>".into(),
            other => other.type_name().into(),
        }
    }

    /// True for values Rust copies instead of moving (literals, `&str`, `bool`).
    pub fn is_copy(&self) -> bool {
        match self {
            Value::Unit | Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Bool(_) => true,
            Value::Ref(_) => true,
            Value::Opt(Some(v)) => v.is_copy(),
            Value::Opt(None) => true,
            Value::Array(items) => items.iter().all(Value::is_copy),
            Value::Result(_) | Value::Object(_) => false,
        }
    }

    /// A copy, as `.clone()` makes; `None` for a `Result`, whose error type is not `Clone`.
    pub fn try_clone(&self) -> Option<Value> {
        Some(match self {
            Value::Unit => Value::Unit,
            Value::Int(i) => Value::Int(*i),
            Value::Float(f) => Value::Float(*f),
            Value::Str(s) => Value::Str(s.clone()),
            Value::Bool(b) => Value::Bool(*b),
            Value::Array(items) => {
                Value::Array(items.iter().map(Value::try_clone).collect::<Option<_>>()?)
            }
            Value::Opt(o) => Value::Opt(match o {
                Some(v) => Some(Box::new(v.try_clone()?)),
                None => None,
            }),
            Value::Ref(v) => Value::Ref(Box::new(v.try_clone()?)),
            Value::Result(_) => return None,
            Value::Object(o) => Value::Object(o.clone()),
        })
    }

    /// The object of type `T`, if this is one.
    pub fn downcast_ref<T: ScriptType>(&self) -> Option<&T> {
        match self {
            Value::Object(o) => o.inner.as_any().downcast_ref::<T>(),
            _ => None,
        }
    }

    /// Take the object of type `T` out, or give the value back.
    pub fn into_object<T: ScriptType>(self) -> Result<T, Value> {
        match self {
            Value::Object(o) if o.inner.as_any().is::<T>() => {
                match o.inner.into_any().downcast::<T>() {
                    Ok(b) => Ok(*b),
                    // Unreachable after the `is` check; kept total rather than panicking.
                    Err(_) => Err(Value::Unit),
                }
            }
            other => Err(other),
        }
    }

    /// True for an [`Object`] whose Rust type is not yet inferred (see `Object::ambiguous`).
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Value::Object(o) if o.ambiguous)
    }

    /// Describe for "found ..." in messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Int(i) => format!("integer `{}{}`", i.value, i.suffix.unwrap_or("")),
            Value::Float(f) => format!("float `{}`", f.value),
            Value::Str(s) => format!("string {s:?}"),
            Value::Bool(b) => format!("bool `{b}`"),
            Value::Array(_) => format!("array `{}`", self.kind()),
            other => format!("`{}`", other.kind()),
        }
    }
}

/// A Rust API type that scripts can hold: one line in the `script_types!` macro (value.rs) registers it.
pub trait ScriptType: Any + Clone + std::fmt::Debug + Send + Sync {
    /// The Rust type name, as scripts and messages spell it (`"SortOptions"`).
    const NAME: &'static str;
}

trait ObjectValue: Any + std::fmt::Debug + Send + Sync {
    fn type_name(&self) -> &'static str;
    fn clone_box(&self) -> Box<dyn ObjectValue>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: ScriptType> ObjectValue for T {
    fn type_name(&self) -> &'static str {
        T::NAME
    }
    fn clone_box(&self) -> Box<dyn ObjectValue> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A value of some [`ScriptType`].
#[derive(Debug)]
pub struct Object {
    inner: Box<dyn ObjectValue>,
    /// Built by `number op Expr` with an unsuffixed number: Rust cannot tell which of the
    /// operator impls (f32 or f64, i32 or u64, ...) applies until the value is used, so a
    /// method call on it does not compile ("type annotations needed"); scripts reject it too.
    pub(crate) ambiguous: bool,
}

impl Object {
    /// Wrap an API value.
    pub fn new<T: ScriptType>(v: T) -> Self {
        Self {
            inner: Box::new(v),
            ambiguous: false,
        }
    }
    /// Its type's name.
    pub fn type_name(&self) -> &'static str {
        self.inner.type_name()
    }
}

impl Clone for Object {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone_box(),
            ambiguous: self.ambiguous,
        }
    }
}

/// Convert a script value into a parameter of a Rust API function.
pub trait FromValue: Sized {
    /// The parameter type as messages name it.
    fn type_name() -> String;
    /// Convert, or say why not (the caller adds which argument it was).
    fn from_value(v: Value) -> Result<Self, String>;
}

/// Convert what a Rust API function returns into a script value.
pub trait IntoValue {
    /// The script value.
    fn into_value(self) -> Value;
}

fn expected<T: FromValue>(v: &Value) -> String {
    format!("expected {}, found {}", T::type_name(), v.describe())
}

/// Register API types: implements [`ScriptType`] (and the value conversions) for each.
/// Adding a type (say `KMeans`) is one more name here plus its methods in `dispatch`.
macro_rules! script_types {
    ($($t:ident),* $(,)?) => {$(
        impl ScriptType for $t {
            const NAME: &'static str = stringify!($t);
        }
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Object(Object::new(self))
            }
        }
    )*};
}

/// [`script_types!`] plus the plain `FromValue` (the object itself) for each.
macro_rules! script_types_from {
    ($($t:ident),* $(,)?) => {$(
        script_types!($t);
        impl FromValue for $t {
            fn type_name() -> String {
                stringify!($t).into()
            }
            fn from_value(v: Value) -> Result<Self, String> {
                v.into_object::<$t>().map_err(|v| expected::<Self>(&v))
            }
        }
    )*};
}

// `Expr` has its own `FromValue` (it takes anything `impl Into<Expr>` takes).
script_types!(Expr);
script_types_from!(
    When,
    Then,
    DtNamespace,
    StrNamespace,
    LazyFrame,
    LazyGroupBy,
    DataFrame,
    Column,
    DataType,
    SortOptions,
    CsvOptions,
    ExecOptions,
    ParquetWriteOptions,
    ParquetCompression,
    IpcWriteOptions,
    IpcCompression,
    Fill,
    RollingKind,
    RollingOptions,
    RankOptions,
    RankMethod,
    KMeans,
    Pca,
    PcaSolver,
    LazyKMeans,
    LazyPca,
    LazyLinearRegression,
    KMeansModel,
    PcaModel,
    LinearModel,
    PowerIterationNormalizer,
    Svd,
    Lstsq,
    MiniBatchKMeans,
    LazyMiniBatchKMeans,
    JoinType
);

/// Integer literal to the `Expr`/`Scalar` it becomes through the `From` impls of the API
/// (`i32`, `i64`, `u32` -> Int64; `u64`, `usize` -> UInt64; unsuffixed is `i32`).
fn int_scalar(i: IntLit) -> Result<Scalar, String> {
    let ty = i.suffix.unwrap_or("i32");
    let fits = |lo: i128, hi: i128| i.value >= lo && i.value <= hi;
    let s = match ty {
        "i32" if fits(i32::MIN.into(), i32::MAX.into()) => Scalar::Int64(i.value as i64),
        "u32" if fits(0, u32::MAX.into()) => Scalar::Int64(i.value as i64),
        "i64" if fits(i64::MIN.into(), i64::MAX.into()) => Scalar::Int64(i.value as i64),
        "u64" | "usize" if fits(0, u64::MAX.into()) => Scalar::UInt64(i.value as u64),
        "i32" | "u32" | "i64" | "u64" | "usize" => {
            let hint = if i.suffix.is_none() {
                " (an unsuffixed integer is an i32 here; write e.g. `3000000000i64`)"
            } else {
                ""
            };
            return Err(format!("literal `{}` out of range for {ty}{hint}", i.value));
        }
        _ => {
            return Err(format!(
                "a `{ty}` cannot become an Expr (the API converts i32, i64, u32, u64, usize)"
            ))
        }
    };
    Ok(s)
}

fn float_scalar(f: FloatLit) -> Scalar {
    match f.suffix {
        // `From<f32>` widens the f32 value, so mirror its rounding.
        Some("f32") => Scalar::Float64(f64::from(f.value as f32)),
        _ => Scalar::Float64(f.value),
    }
}

impl FromValue for Scalar {
    fn type_name() -> String {
        "a number, string or bool".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => int_scalar(i),
            Value::Float(f) => Ok(float_scalar(f)),
            Value::Str(s) => Ok(Scalar::Utf8(s)),
            Value::Bool(b) => Ok(Scalar::Boolean(b)),
            // `impl<T: Into<Scalar>> From<Option<T>> for Scalar`; a bare `None` has no `T`.
            Value::Opt(Some(v)) => Scalar::from_value(*v),
            Value::Opt(None) => Err("`None` has no type here (Rust: type annotations needed); \
                 write `None::<f64>` in Rust, or use a value"
                .into()),
            other => Err(expected::<Self>(&other)),
        }
    }
}

/// What `impl Into<Expr>` accepts: an `Expr`, a `when..then`, or a literal (a string is a
/// string literal, not a column, exactly as in Rust).
impl FromValue for Expr {
    fn type_name() -> String {
        "Expr (or a number, string or bool)".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Bool(_) => {
                Scalar::from_value(v).map(Expr::Literal)
            }
            Value::Object(_) => match v.into_object::<Expr>() {
                Ok(e) => Ok(e),
                Err(v) => match v.into_object::<Then>() {
                    Ok(t) => Ok(t.into()),
                    Err(v) => Err(expected::<Self>(&v)),
                },
            },
            other => Err(expected::<Self>(&other)),
        }
    }
}

impl FromValue for String {
    fn type_name() -> String {
        "&str".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Str(s) => Ok(s),
            other => Err(expected::<Self>(&other)),
        }
    }
}

impl FromValue for bool {
    fn type_name() -> String {
        "bool".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(expected::<Self>(&other)),
        }
    }
}

impl FromValue for f64 {
    fn type_name() -> String {
        "f64".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Float(f) if f.suffix.is_none_or(|s| s == "f64") => Ok(f.value),
            Value::Int(i) if i.suffix.is_none() => Err(format!(
                "expected f64, found integer `{}` (write `{}.0`)",
                i.value, i.value
            )),
            other => Err(expected::<Self>(&other)),
        }
    }
}

macro_rules! int_from_value {
    ($($t:ident),*) => {$(
        impl FromValue for $t {
            fn type_name() -> String {
                stringify!($t).into()
            }
            fn from_value(v: Value) -> Result<Self, String> {
                match v {
                    Value::Int(i) if i.suffix.is_none_or(|s| s == stringify!($t)) => {
                        $t::try_from(i.value).map_err(|_| {
                            format!("literal `{}` out of range for {}", i.value, stringify!($t))
                        })
                    }
                    other => Err(expected::<Self>(&other)),
                }
            }
        }
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Int(IntLit { value: i128::from(self), suffix: Some(stringify!($t)) })
            }
        }
    )*};
}
int_from_value!(u8, i8, i32, i64, u32, u64);

impl FromValue for usize {
    fn type_name() -> String {
        "usize".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(i) if i.suffix.is_none_or(|s| s == "usize") => usize::try_from(i.value)
                .map_err(|_| format!("literal `{}` out of range for usize", i.value)),
            other => Err(expected::<Self>(&other)),
        }
    }
}

impl IntoValue for usize {
    fn into_value(self) -> Value {
        Value::Int(IntLit {
            value: self as i128,
            suffix: Some("usize"),
        })
    }
}

impl IntoValue for f64 {
    fn into_value(self) -> Value {
        Value::Float(FloatLit {
            value: self,
            suffix: Some("f64"),
        })
    }
}

impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::Unit
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::Array(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: IntoValue> IntoValue for crate::error::Result<T> {
    fn into_value(self) -> Value {
        Value::Result(self.map(|v| Box::new(v.into_value())))
    }
}

/// `impl IntoIterator<Item = T>` parameters: an array or `vec![..]` of `T`.
impl<T: FromValue> FromValue for Vec<T> {
    fn type_name() -> String {
        format!("[{}]", T::type_name())
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_value(v).map_err(|e| format!("element {i}: {e}")))
                .collect(),
            other => Err(expected::<Self>(&other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn type_name() -> String {
        format!("Option<{}>", T::type_name())
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Opt(None) => Ok(None),
            Value::Opt(Some(v)) => T::from_value(*v).map(Some),
            other => Err(expected::<Self>(&other)),
        }
    }
}

/// An `impl Into<f64>` parameter: floats, and the integer types with a lossless `From`
/// (`i8`..`i32`, `u8`..`u32`; an unsuffixed integer is an `i32`).
pub struct IntoF64(pub f64);

impl From<IntoF64> for f64 {
    fn from(v: IntoF64) -> f64 {
        v.0
    }
}

impl FromValue for IntoF64 {
    fn type_name() -> String {
        "impl Into<f64>".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Float(f) if f.suffix == Some("f32") => Ok(IntoF64(f64::from(f.value as f32))),
            Value::Float(f) => Ok(IntoF64(f.value)),
            Value::Int(i) => {
                let ty = i.suffix.unwrap_or("i32");
                let ok = match ty {
                    "i8" => i8::try_from(i.value).is_ok(),
                    "i16" => i16::try_from(i.value).is_ok(),
                    "i32" => i32::try_from(i.value).is_ok(),
                    "u8" => u8::try_from(i.value).is_ok(),
                    "u16" => u16::try_from(i.value).is_ok(),
                    "u32" => u32::try_from(i.value).is_ok(),
                    _ => return Err(format!("a `{ty}` does not convert into f64 losslessly")),
                };
                if !ok {
                    return Err(format!("literal `{}` out of range for {ty}", i.value));
                }
                Ok(IntoF64(i.value as f64))
            }
            other => Err(expected::<Self>(&other)),
        }
    }
}

/// A `&T` parameter (`collect_with(&ExecOptions::new())`).
pub struct Ref<T>(pub T);

impl<T: FromValue> FromValue for Ref<T> {
    fn type_name() -> String {
        format!("&{}", T::type_name())
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Ref(v) => T::from_value(*v).map(Ref),
            other => Err(format!(
                "expected &{}, found {} (borrow it with `&`)",
                T::type_name(),
                other.describe()
            )),
        }
    }
}

/// `impl IntoSortOptions`: one `SortOptions` for all keys or an array with one per key.
pub enum SortArg {
    /// One `SortOptions` for every key.
    One(SortOptions),
    /// One `SortOptions` per key.
    Many(Vec<SortOptions>),
}

impl FromValue for SortArg {
    fn type_name() -> String {
        "SortOptions or [SortOptions]".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Array(_) => Vec::<SortOptions>::from_value(v).map(SortArg::Many),
            other => SortOptions::from_value(other).map(SortArg::One),
        }
    }
}

impl IntoSortOptions for SortArg {
    fn into_sort_options(self, n: usize) -> Vec<SortOptions> {
        match self {
            SortArg::One(o) => o.into_sort_options(n),
            SortArg::Many(v) => v,
        }
    }
}

/// `impl IntoArray` for `Column::new` and `df!`: an array of literals (or `Some`/`None`).
pub struct ArrayArg(pub ArrayRef);

impl FromValue for ArrayArg {
    fn type_name() -> String {
        "an array of numbers, strings or bools (or Some/None)".into()
    }
    fn from_value(v: Value) -> Result<Self, String> {
        let Value::Array(items) = v else {
            return Err(expected::<Self>(&v));
        };
        // The first non-None element decides the Rust element type, as inference would.
        let mut ty = None;
        let mut nullable = false;
        let mut vals = Vec::with_capacity(items.len());
        for item in items {
            let item = match item {
                Value::Opt(None) => {
                    nullable = true;
                    None
                }
                Value::Opt(Some(v)) => {
                    nullable = true;
                    Some(*v)
                }
                v => Some(v),
            };
            if let Some(v) = &item {
                let t = match v {
                    Value::Int(i) => match i.suffix {
                        Some("u64" | "usize" | "i128" | "u128" | "isize") => {
                            return Err(format!("a `{}` array cannot become a column", v.kind()))
                        }
                        _ => "int",
                    },
                    Value::Float(f) if f.suffix == Some("f32") => "f32",
                    Value::Float(_) => "f64",
                    Value::Str(_) => "str",
                    Value::Bool(_) => "bool",
                    other => return Err(expected::<Self>(other)),
                };
                if ty.is_some_and(|t0| t0 != t) {
                    return Err("array elements have different types".into());
                }
                ty = Some(t);
            }
            vals.push(item);
        }
        let array = match ty {
            None if vals.is_empty() => Vec::<f64>::new().into_array(),
            None => return Err("cannot infer the type of an array of only `None`".into()),
            Some("int") => build(vals, nullable, |v| match v {
                Value::Int(i) => i64::try_from(i.value).ok(),
                _ => None,
            })?,
            Some("f64") => build(vals, nullable, |v| match v {
                Value::Float(f) => Some(f.value),
                _ => None,
            })?,
            Some("f32") => build(vals, nullable, |v| match v {
                Value::Float(f) => Some(f.value as f32),
                _ => None,
            })?,
            Some("bool") => build(vals, nullable, |v| match v {
                Value::Bool(b) => Some(b),
                _ => None,
            })?,
            _ => build(vals, nullable, |v| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })?,
        };
        Ok(ArrayArg(array))
    }
}

/// Build the array the Rust API would: `Vec<T>` without nulls, `Vec<Option<T>>` with them
/// (the two differ in whether a validity buffer exists).
fn build<T>(
    vals: Vec<Option<Value>>,
    nullable: bool,
    f: impl Fn(Value) -> Option<T>,
) -> Result<ArrayRef, String>
where
    Vec<T>: IntoArray,
    Vec<Option<T>>: IntoArray,
{
    let opts: Vec<Option<T>> = vals
        .into_iter()
        .map(|v| match v {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .ok_or_else(|| "value out of range".to_string()),
        })
        .collect::<Result<_, String>>()?;
    Ok(if nullable {
        opts.into_array()
    } else {
        opts.into_iter().flatten().collect::<Vec<T>>().into_array()
    })
}

impl IntoArray for ArrayArg {
    fn into_array(self) -> ArrayRef {
        self.0
    }
}
