//! The dispatch tables: methods by (receiver type, name), free and associated functions by
//! path (`col`, `SortOptions::default`), and constants by path (`f64::NAN`,
//! `DataType::Float64`). Entries are written with the `methods!`, `functions!` and
//! `constants!` macros (see `table.rs`): an entry names the Rust API item and its parameter
//! types, and the macro generates the argument conversion and the call, so the script calls
//! exactly the function a Rust program would.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::session::Session;
use super::value::{FromValue, Value};

/// Why a call's arguments were rejected: the argument's position (for the caret) and reason.
#[derive(Debug)]
pub struct CallError {
    /// 0-based argument index, `None` for the call as a whole.
    pub arg: Option<usize>,
    pub message: String,
}

/// The arguments of one call, consumed in order by the generated entry code, and the session
/// the call runs in (for calls that run a query: see [`Session`]).
pub struct Args<'s> {
    items: std::vec::IntoIter<Value>,
    index: usize,
    session: &'s Session,
}

impl<'s> Args<'s> {
    /// Wrap evaluated arguments (their count was checked against the entry's arity).
    pub fn new(items: Vec<Value>, session: &'s Session) -> Self {
        Self {
            items: items.into_iter(),
            index: 0,
            session,
        }
    }

    /// The session the call runs in.
    pub fn session(&self) -> &'s Session {
        self.session
    }

    /// The next argument converted to the parameter type `T`.
    pub fn next<T: FromValue>(&mut self) -> Result<T, CallError> {
        let i = self.index;
        self.index += 1;
        let v = self.items.next().ok_or_else(|| CallError {
            arg: None,
            message: "missing argument".into(),
        })?;
        T::from_value(v).map_err(|message| CallError {
            arg: Some(i),
            message,
        })
    }
}

/// The generated glue for one API item: converts arguments and calls it.
pub type CallFn = fn(Value, &mut Args<'_>) -> Result<Value, CallError>;

/// One table entry.
pub struct Entry {
    /// Number of arguments (Rust has no optional parameters, so this is exact).
    pub arity: usize,
    /// `name: Type, ...` for messages.
    pub signature: fn() -> String,
    /// Takes `&self` (the receiver variable is not moved).
    pub by_ref: bool,
    /// The receiver (`Value::Unit` for functions) and arguments to a value.
    pub call: CallFn,
}

/// All entries; built once.
#[derive(Default)]
pub struct Registry {
    methods: HashMap<&'static str, HashMap<&'static str, Entry>>,
    functions: HashMap<String, Entry>,
    constants: HashMap<String, fn() -> Value>,
}

impl Registry {
    /// Register a method of the type named `ty`.
    pub fn add_method(&mut self, ty: &'static str, name: &'static str, entry: Entry) {
        self.methods.entry(ty).or_default().insert(name, entry);
    }
    /// Register a function by its path (`"col"`, `"SortOptions::default"`).
    pub fn add_function(&mut self, path: String, entry: Entry) {
        self.functions.insert(path, entry);
    }
    /// Register a constant by its path (`"f64::NAN"`).
    pub fn add_constant(&mut self, path: String, value: fn() -> Value) {
        self.constants.insert(path, value);
    }

    /// The method `name` of type `ty`.
    pub fn method(&self, ty: &str, name: &str) -> Option<&Entry> {
        self.methods.get(ty)?.get(name)
    }
    /// Method names of `ty`, for suggestions.
    pub fn method_names(&self, ty: &str) -> Vec<&'static str> {
        let mut v: Vec<_> = self
            .methods
            .get(ty)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }
    /// Types that have a method called `name` (for "it is a method of ..." hints).
    pub fn types_with_method(&self, name: &str) -> Vec<&'static str> {
        let mut v: Vec<_> = self
            .methods
            .iter()
            .filter(|(_, m)| m.contains_key(name))
            .map(|(t, _)| *t)
            .collect();
        v.sort_unstable();
        v
    }
    /// The function at `path`.
    pub fn function(&self, path: &str) -> Option<&Entry> {
        self.functions.get(path)
    }
    /// All function paths, sorted (suggestions must not depend on hash order).
    pub fn function_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.functions.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
    /// The constant at `path`.
    pub fn constant(&self, path: &str) -> Option<Value> {
        self.constants.get(path).map(|f| f())
    }
    /// All constant paths, sorted.
    pub fn constant_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.constants.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

/// The registry with every entry of `table.rs`.
pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let mut r = Registry::default();
        super::table::register(&mut r);
        r
    })
}

/// Method entries for one receiver type:
///
/// ```text
/// methods!(reg, Expr;
///     gt(other: Expr);                                  // calls recv.gt(other)
///     sort(column: String, options: SortOptions) => |lf| lf.sort(&column, options);
///     collect() => |lf, session| session.collect(lf);   // runs in the script's session
/// );
/// ```
///
/// Parameter types implement `FromValue` (`Expr` takes what `impl Into<Expr>` takes); the
/// return value implements `IntoValue` (a `Result` becomes a value only `?` unwraps). Prefix
/// the list with `ref` for methods taking `&self`, which do not move the receiver.
macro_rules! methods {
    (@list $reg:expr, $ty:ty, $by_ref:expr;
        $($name:ident ( $($arg:ident : $aty:ty),* )
            $(=> |$r:ident $(, $s:ident)?| $custom:expr)?;)*) => {$(
        $reg.add_method(
            <$ty as $crate::script::value::ScriptType>::NAME,
            stringify!($name),
            $crate::script::dispatch::Entry {
                arity: 0 $(+ { let _ = stringify!($arg); 1 })*,
                signature: || {
                    let v: Vec<String> = vec![$(format!("{}: {}", stringify!($arg),
                        <$aty as $crate::script::value::FromValue>::type_name())),*];
                    v.join(", ")
                },
                by_ref: $by_ref,
                call: |recv, _args| {
                    let recv: $ty = recv.into_object::<$ty>().map_err(|v| {
                        $crate::script::dispatch::CallError {
                            arg: None,
                            message: format!("receiver is `{}`", v.type_name()),
                        }
                    })?;
                    $(let $arg: $aty = _args.next()?;)*
                    Ok($crate::script::value::IntoValue::into_value(
                        methods!(@call recv, _args, $name, ($($arg),*)
                            $(, |$r $(, $s)?| $custom)?)))
                },
            },
        );
    )*};
    (@call $recv:ident, $a:ident, $name:ident, ($($arg:ident),*)) => { $recv.$name($($arg),*) };
    (@call $recv:ident, $a:ident, $name:ident, ($($arg:ident),*), |$r:ident| $custom:expr) => {{
        #[allow(clippy::redundant_locals)]
        let $r = $recv;
        $custom
    }};
    (@call $recv:ident, $a:ident, $name:ident, ($($arg:ident),*),
        |$r:ident, $s:ident| $custom:expr) => {{
        #[allow(clippy::redundant_locals)]
        let $r = $recv;
        let $s = $a.session();
        $custom
    }};
    // After the `@` arms: a fragment that fails to parse is a hard error, not a fallthrough.
    ($reg:expr, ref $ty:ty; $($body:tt)*) => { methods!(@list $reg, $ty, true; $($body)*); };
    ($reg:expr, $ty:ty; $($body:tt)*) => { methods!(@list $reg, $ty, false; $($body)*); };
}

/// Function entries by path: `col(name: String);`, `SortOptions::default();`, or with a
/// custom body `path(args) => expr;`.
macro_rules! functions {
    (@call ($($seg:ident)::+), ($($arg:ident),*)) => { $($seg)::+($($arg),*) };
    (@call ($($seg:ident)::+), ($($arg:ident),*), $custom:expr) => { $custom };
    ($reg:expr; $($($seg:ident)::+ ( $($arg:ident : $aty:ty),* ) $(=> $custom:expr)?;)*) => {$(
        $reg.add_function(
            [$(stringify!($seg)),+].join("::"),
            $crate::script::dispatch::Entry {
                arity: 0 $(+ { let _ = stringify!($arg); 1 })*,
                signature: || {
                    let v: Vec<String> = vec![$(format!("{}: {}", stringify!($arg),
                        <$aty as $crate::script::value::FromValue>::type_name())),*];
                    v.join(", ")
                },
                by_ref: false,
                call: |_recv, _args| {
                    $(let $arg: $aty = _args.next()?;)*
                    Ok($crate::script::value::IntoValue::into_value(
                        functions!(@call ($($seg)::+), ($($arg),*) $(, $custom)?)))
                },
            },
        );
    )*};
}

/// Constant entries by path: `f64::NAN;`, `DataType::Float64;`.
macro_rules! constants {
    ($reg:expr; $($($seg:ident)::+;)*) => {$(
        $reg.add_constant([$(stringify!($seg)),+].join("::"),
            || $crate::script::value::IntoValue::into_value($($seg)::+));
    )*};
}

pub(crate) use {constants, functions, methods};
