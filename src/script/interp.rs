//! The tree-walking interpreter: statements, variables (with Rust's move rule), paths, calls,
//! method calls, macros (`df!`, `vec!`), `?`, and the dispatch to the tables in `table.rs`.
//!
//! It records every call that produced a `LazyFrame` (its span and the frame) so that an
//! engine error found later, at plan or run time, can be traced back to the first step whose
//! schema no longer resolves: the error then points at `.with_columns(..)` rather than only
//! naming the file.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr as SynExpr, Lit, Stmt, Token};

use super::diag::{suggest, Diag, Range};
use super::dispatch::{registry, Args, CallError, Entry, Registry};
use super::ops::{self, Op};
use super::session::Session;
use super::value::{ArrayArg, FloatLit, FromValue, IntLit, IntoValue, Value};
use crate::error::Error;
use crate::frame::{Column, DataFrame};
use crate::plan::LazyFrame;

const UNSUPPORTED_HELP: &str = "scripts support `let` statements, calls, method calls, \
    literals, arrays, `Some`/`None`, `df!`/`vec!`, `&`, `?`, `as`, and the operators \
    `+ - * / % & | !`";

struct Binding {
    value: Value,
    /// Where the value was moved out, if it was.
    moved_at: Option<Span>,
}

/// Interpreter state for one script.
pub(crate) struct Interp {
    reg: &'static Registry,
    env: HashMap<String, Binding>,
    /// Calls that produced a `LazyFrame`, in evaluation order, with their source range.
    /// Positions rather than `Span`s, which are tied to the parsing thread.
    pub trace: Vec<(Range, LazyFrame)>,
    /// How calls that run a query run it.
    pub session: Session,
}

/// The first recorded step whose schema fails: where a plan-time error comes from.
pub(crate) fn locate(trace: &[(Range, LazyFrame)]) -> Option<Range> {
    trace
        .iter()
        .find(|(_, lf)| lf.schema().is_err())
        .map(|(s, _)| *s)
}

fn unsupported(span: Span, what: &str) -> Diag {
    Diag::new(span, format!("{what} not supported in scripts")).help(UNSUPPORTED_HELP)
}

impl Interp {
    pub fn new(session: Session) -> Self {
        Self {
            reg: registry(),
            env: HashMap::new(),
            trace: Vec::new(),
            session,
        }
    }

    /// Run the statements; the last must be an expression, whose value is returned.
    pub fn run(&mut self, stmts: &[Stmt]) -> Result<Value, Diag> {
        let Some(last) = stmts.len().checked_sub(1) else {
            return Err(Diag::whole("empty script: there is nothing to run").help(
                "end the script with an expression such as `scan_csv(\"data.csv\").head(5)`",
            ));
        };
        for (i, stmt) in stmts.iter().enumerate() {
            match stmt {
                Stmt::Local(local) => {
                    self.let_stmt(local)?;
                    if i == last {
                        return Err(Diag::new(local.span(), "the script ends with a `let`")
                            .help("end it with an expression, its result (e.g. the variable)"));
                    }
                }
                Stmt::Expr(e, None) if i == last => return self.eval(e),
                Stmt::Macro(m) if i == last && m.semi_token.is_none() => {
                    return self.macro_call(&m.mac)
                }
                Stmt::Expr(e, semi) => {
                    let v = self.eval(e)?;
                    self.discard(v, e.span())?;
                    if let (true, Some(semi)) = (i == last, semi) {
                        return Err(Diag::new(semi.span, "the script ends with `;`")
                            .help("the last expression is the script's result: remove the `;`"));
                    }
                }
                Stmt::Macro(m) => {
                    let v = self.macro_call(&m.mac)?;
                    self.discard(v, m.span())?;
                }
                Stmt::Item(item) => {
                    return Err(unsupported(item.span(), "items (`fn`, `use`, ...) are"))
                }
            }
        }
        Err(Diag::whole("the script has no final expression"))
    }

    fn discard(&self, v: Value, span: Span) -> Result<(), Diag> {
        match v {
            Value::Result(_) => Err(Diag::new(span, "this `Result` is ignored")
                .help("add `?` so that an error stops the script")),
            _ => Ok(()),
        }
    }

    fn let_stmt(&mut self, local: &syn::Local) -> Result<(), Diag> {
        let name = match &local.pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                if let Some(m) = p.mutability {
                    return Err(Diag::new(m.span, "`mut` is not supported in scripts")
                        .help("scripts never change a binding; use a new `let` instead"));
                }
                Some(p.ident.to_string())
            }
            syn::Pat::Wild(_) => None,
            syn::Pat::Type(t) => {
                return Err(
                    Diag::new(t.ty.span(), "type annotations are not supported in scripts")
                        .help("write `let name = value;`; the value has the type the API gives it"),
                )
            }
            other => return Err(unsupported(other.span(), "this pattern is")),
        };
        let Some(init) = &local.init else {
            return Err(Diag::new(
                local.span(),
                "a `let` needs a value: `let name = value;`",
            ));
        };
        if let Some((e, _)) = &init.diverge {
            return Err(unsupported(e.span(), "`let ... else` is"));
        }
        let value = self.eval(&init.expr)?;
        if let Value::Result(_) = value {
            return Err(Diag::new(init.expr.span(), "this is a `Result`")
                .help("add `?` to get its value (and stop on an error)"));
        }
        if let Some(name) = name {
            self.env.insert(
                name,
                Binding {
                    value,
                    moved_at: None,
                },
            );
        }
        Ok(())
    }

    fn eval(&mut self, e: &SynExpr) -> Result<Value, Diag> {
        match e {
            SynExpr::Paren(p) => self.eval(&p.expr),
            SynExpr::Group(g) => self.eval(&g.expr),
            SynExpr::Lit(l) => lit(&l.lit),
            SynExpr::Path(p) => self.path_value(p, true),
            SynExpr::Call(c) => self.call(c),
            SynExpr::MethodCall(m) => self.method_call(m),
            SynExpr::Binary(b) => {
                let op = Op::from_syn(&b.op).map_err(|(m, h)| Diag::new(b.op.span(), m).help(h))?;
                let l = self.eval(&b.left)?;
                let r = self.eval(&b.right)?;
                ops::binary(op, l, r).map_err(|(m, h)| with_help(Diag::new(b.op.span(), m), h))
            }
            SynExpr::Unary(u) => {
                let v = self.eval(&u.expr)?;
                let r = match u.op {
                    syn::UnOp::Neg(_) => ops::negate(v),
                    syn::UnOp::Not(_) => ops::not(v),
                    _ => return Err(unsupported(u.op.span(), "dereferencing (`*`) is")),
                };
                r.map_err(|(m, h)| with_help(Diag::new(e.span(), m), h))
            }
            SynExpr::Array(a) => self.array(a.elems.iter()),
            SynExpr::Macro(m) => self.macro_call(&m.mac),
            SynExpr::Try(t) => self.try_op(t),
            SynExpr::Reference(r) => {
                if let Some(m) = r.mutability {
                    return Err(unsupported(m.span, "`&mut` is"));
                }
                Ok(Value::Ref(Box::new(self.eval_borrowed(&r.expr)?)))
            }
            SynExpr::Cast(c) => {
                let ty = match &*c.ty {
                    syn::Type::Path(p) if p.qself.is_none() => {
                        p.path.get_ident().map(|i| i.to_string())
                    }
                    _ => None,
                };
                let Some(ty) = ty else {
                    return Err(unsupported(c.ty.span(), "casting to this type is"));
                };
                let v = self.eval(&c.expr)?;
                ops::cast(v, &ty).map_err(|(m, h)| with_help(Diag::new(c.ty.span(), m), h))
            }
            SynExpr::Tuple(t) if t.elems.is_empty() => Ok(Value::Unit),
            SynExpr::Closure(c) => Err(Diag::new(
                c.span(),
                "closures are not supported in scripts",
            )
            .help("user-defined functions (map_rows, map_columns) exist only in the Rust API")),
            SynExpr::If(_) | SynExpr::Match(_) => Err(Diag::new(
                e.span(),
                "`if` and `match` are not supported in scripts",
            )
            .help("for values that depend on a condition use `when(cond).then(a).otherwise(b)`")),
            SynExpr::ForLoop(_) | SynExpr::While(_) | SynExpr::Loop(_) => {
                Err(unsupported(e.span(), "loops are"))
            }
            SynExpr::Field(f) => Err(Diag::new(
                f.span(),
                "field access is not supported in scripts",
            )
            .help("use the builder methods, e.g. `SortOptions::default().descending(true)`")),
            SynExpr::Struct(s) => Err(Diag::new(
                s.span(),
                "struct literals are not supported in scripts",
            )
            .help("use the builder methods, e.g. `SortOptions::default().descending(true)`")),
            SynExpr::Assign(a) => Err(Diag::new(
                a.span(),
                "assignment is not supported in scripts",
            )
            .help("bind a new value with `let` instead")),
            SynExpr::Tuple(_) => Err(unsupported(e.span(), "tuples are")),
            SynExpr::Index(_) => Err(unsupported(e.span(), "indexing (`a[i]`) is")),
            SynExpr::Range(_) => Err(unsupported(e.span(), "ranges are")),
            SynExpr::Block(_) => Err(unsupported(e.span(), "blocks (`{ .. }`) are")),
            _ => Err(unsupported(e.span(), "this kind of expression is")),
        }
    }

    /// Evaluate without moving a variable (`&x`, `x.clone()`, `&self` methods).
    fn eval_borrowed(&mut self, e: &SynExpr) -> Result<Value, Diag> {
        if let SynExpr::Path(p) = e {
            return self.path_value(p, false);
        }
        self.eval(e)
    }

    /// The variable a plain-identifier expression names, if it is one.
    fn var_name(e: &SynExpr) -> Option<String> {
        match e {
            SynExpr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            SynExpr::Paren(p) => Self::var_name(&p.expr),
            _ => None,
        }
    }

    fn mark_moved(&mut self, name: &str, span: Span) {
        if let Some(b) = self.env.get_mut(name) {
            if !b.value.is_copy() {
                b.moved_at = Some(span);
                b.value = Value::Unit;
            }
        }
    }

    fn path_value(&mut self, p: &syn::ExprPath, moving: bool) -> Result<Value, Diag> {
        let span = p.span();
        let key = path_key(&p.path, p.qself.is_some(), span)?;
        if let Some(b) = self.env.get(&key) {
            if let Some(at) = b.moved_at {
                let (l, c) = (at.start().line, at.start().column + 1);
                return Err(Diag::new(span, format!("use of moved value `{key}`"))
                    .label("value used here after move")
                    .help(format!(
                        "it was moved at line {l}, column {c}; write `{key}.clone()` there to keep a copy"
                    )));
            }
            let v = b.value.try_clone().ok_or_else(|| {
                Diag::new(span, "a `Result` cannot be copied").help("add `?` where it is made")
            })?;
            if moving {
                self.mark_moved(&key, span);
            }
            return Ok(v);
        }
        if key == "None" {
            return Ok(Value::Opt(None));
        }
        if let Some(v) = self.constant(&key) {
            return Ok(v);
        }
        if self.function(&key).is_some() {
            return Err(
                Diag::new(span, format!("`{key}` is a function, not a value"))
                    .help(format!("call it: `{key}(..)`")),
            );
        }
        let mut d = if key.contains("::") {
            Diag::new(span, format!("unknown constant `{key}`"))
        } else {
            Diag::new(span, format!("cannot find value `{key}` in this script"))
        };
        let mut vars: Vec<&str> = self.env.keys().map(String::as_str).collect();
        vars.sort_unstable();
        let names: Vec<&str> = vars.into_iter().chain(self.reg.constant_names()).collect();
        if let Some(s) = suggest(&key, names) {
            d = d.label(s);
        }
        Err(d)
    }

    fn constant(&self, key: &str) -> Option<Value> {
        self.reg.constant(key).or_else(|| {
            let short = key
                .strip_prefix("std::")
                .or_else(|| key.strip_prefix("core::"))?;
            self.reg.constant(short)
        })
    }

    fn function(&self, key: &str) -> Option<&'static Entry> {
        self.reg.function(key).or_else(|| {
            let short = key
                .strip_prefix("std::")
                .or_else(|| key.strip_prefix("core::"))?;
            self.reg.function(short)
        })
    }

    fn call(&mut self, c: &syn::ExprCall) -> Result<Value, Diag> {
        let SynExpr::Path(p) = &*c.func else {
            return Err(unsupported(
                c.func.span(),
                "calling anything but a named function is",
            ));
        };
        let fspan = p.span();
        let key = path_key(&p.path, p.qself.is_some(), fspan)?;
        if key == "Some" {
            if c.args.len() != 1 {
                return Err(Diag::new(c.span(), "`Some` takes 1 argument"));
            }
            let v = self.eval(&c.args[0])?;
            return Ok(Value::Opt(Some(Box::new(v))));
        }
        no_closures(c.args.iter())?;
        let Some(entry) = self.function(&key) else {
            return Err(self.unknown_function(&key, fspan));
        };
        let args: Vec<&SynExpr> = c.args.iter().collect();
        let v = self.invoke(entry, &key, Value::Unit, &args, c.span())?;
        self.record(&v, fspan);
        Ok(v)
    }

    fn unknown_function(&self, key: &str, span: Span) -> Diag {
        if self.constant(key).is_some() {
            return Diag::new(span, format!("`{key}` is a constant, not a function"))
                .help(format!("use it without parentheses: `{key}`"));
        }
        let mut d = Diag::new(span, format!("unknown function `{key}`"));
        if let Some(s) = suggest(key, self.reg.function_names()) {
            d = d.label(s);
        }
        let owners = self.reg.types_with_method(key);
        if !owners.is_empty() {
            d = d.help(format!(
                "`{key}` is a method of {}: call it on a value, e.g. `col(\"x\").{key}(..)`",
                owners.join(", ")
            ));
        }
        d
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall) -> Result<Value, Diag> {
        let name = m.method.to_string();
        let mspan = m.method.span();
        if let Some(t) = &m.turbofish {
            return Err(unsupported(t.span(), "generic arguments (`::<..>`) are"));
        }
        let recv = self.eval_borrowed(&m.receiver)?;
        let var = Self::var_name(&m.receiver);
        if recv.is_ambiguous() {
            return Err(Diag::new(
                m.receiver.span(),
                "the type of this expression is ambiguous, so it has no methods yet",
            )
            .help(
                "Rust cannot tell which `number op Expr` impl applies to an unsuffixed number: \
                 put the column first (`col(\"x\") * 2.0`) or suffix the number (`2.0f64`)",
            ));
        }
        if name == "clone" {
            if !m.args.is_empty() {
                return Err(Diag::new(m.span(), "`clone` takes no arguments"));
            }
            return match recv {
                Value::Result(_) => {
                    Err(Diag::new(mspan, "a `Result` cannot be cloned").help("add `?` first"))
                }
                v => Ok(v),
            };
        }
        let recv = match recv {
            Value::Result(_) => {
                return Err(
                    Diag::new(m.receiver.span(), "this is a `Result`, not a value")
                        .help(format!("add `?` to get its value: `...?.{name}(..)`")),
                )
            }
            Value::Ref(inner) => *inner,
            v => v,
        };
        no_closures(m.args.iter())?;
        let ty = recv.type_name();
        let Some(entry) = self.reg.method(ty, &name) else {
            return Err(self.unknown_method(ty, &name, mspan));
        };
        if let (Some(var), false) = (&var, entry.by_ref) {
            self.mark_moved(var, m.receiver.span());
        }
        let args: Vec<&SynExpr> = m.args.iter().collect();
        // Point at `name(..)`, not at the whole receiver chain before it.
        let call_span = mspan.join(m.paren_token.span.join()).unwrap_or(mspan);
        let v = self.invoke(entry, &name, recv, &args, call_span)?;
        self.record(&v, mspan);
        Ok(v)
    }

    fn unknown_method(&self, ty: &str, name: &str, span: Span) -> Diag {
        let mut d = Diag::new(span, format!("no method `{name}` on `{ty}`"));
        if let Some(s) = suggest(name, self.reg.method_names(ty)) {
            d = d.label(s);
        }
        let owners = self.reg.types_with_method(name);
        if matches!(
            ty,
            "integer" | "float" | "&str" | "bool" | "f64" | "i32" | "i64" | "u64" | "usize"
        ) && owners.contains(&"Expr")
        {
            d = d.help(format!(
                "`{name}` is an Expr method: wrap the literal in `lit(..)`"
            ));
        } else if !owners.is_empty() {
            d = d.help(format!("`{name}` is a method of {}", owners.join(", ")));
        } else if self.reg.function(name).is_some() {
            d = d.help(format!("`{name}` is a function: call it as `{name}(..)`"));
        }
        d
    }

    /// Check arity, evaluate arguments, call the entry, and place argument errors.
    fn invoke(
        &mut self,
        entry: &Entry,
        name: &str,
        recv: Value,
        args: &[&SynExpr],
        call_span: Span,
    ) -> Result<Value, Diag> {
        if args.len() != entry.arity {
            let s = |n: usize| if n == 1 { "" } else { "s" };
            return Err(Diag::new(
                call_span,
                format!(
                    "`{name}` takes {} argument{} but {} {} given",
                    entry.arity,
                    s(entry.arity),
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            )
            .help(format!(
                "the signature is `{name}({})`",
                (entry.signature)()
            )));
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a)?);
        }
        (entry.call)(recv, &mut Args::new(vals, &self.session)).map_err(
            |CallError { arg, message }| {
                let span = arg
                    .and_then(|i| args.get(i))
                    .map_or(call_span, |a| a.span());
                let what = match arg {
                    Some(i) => format!("argument {} of `{name}`: {message}", i + 1),
                    None => format!("`{name}`: {message}"),
                };
                Diag::new(span, what).help(format!(
                    "the signature is `{name}({})`",
                    (entry.signature)()
                ))
            },
        )
    }

    fn record(&mut self, v: &Value, span: Span) {
        if let Some(lf) = v.downcast_ref::<LazyFrame>() {
            self.trace.push(((span.start(), span.end()), lf.clone()));
        }
    }

    fn try_op(&mut self, t: &syn::ExprTry) -> Result<Value, Diag> {
        match self.eval(&t.expr)? {
            Value::Result(Ok(v)) => Ok(*v),
            Value::Result(Err(err)) => {
                let span = t.span();
                let range = locate(&self.trace).unwrap_or((span.start(), span.end()));
                Err(engine_diag(range, &err))
            }
            other => Err(Diag::new(
                t.question_token.span,
                format!("`?` needs a `Result`, found `{}`", other.kind()),
            )
            .help("only fallible calls return a `Result`: `collect()`, `DataFrame::new(..)`, `df!(..)`, `sink_*(..)`")),
        }
    }

    fn array<'a>(&mut self, elems: impl Iterator<Item = &'a SynExpr>) -> Result<Value, Diag> {
        let mut out: Vec<Value> = Vec::new();
        for e in elems {
            let v = self.eval(e)?;
            if let Some(first) = out.first() {
                let (k0, k) = (first.kind(), v.kind());
                if !kinds_agree(&k0, &k) {
                    let help = if k0 == "Expr" && k == "Then" || k0 == "Then" && k == "Expr" {
                        "finish the `when(..).then(..)` chain with `.otherwise(..)`"
                    } else if k0 == "Expr" || k == "Expr" {
                        "make every element an Expr (`lit(..)` turns a literal into one)"
                    } else {
                        "an array holds values of one type, as in Rust"
                    };
                    return Err(Diag::new(
                        e.span(),
                        format!("array element of type `{k}` after elements of type `{k0}`"),
                    )
                    .help(help));
                }
            }
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn macro_call(&mut self, mac: &syn::Macro) -> Result<Value, Diag> {
        let name = mac
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match name.as_str() {
            "vec" => {
                let items = mac
                    .parse_body_with(Punctuated::<SynExpr, Token![,]>::parse_terminated)
                    .map_err(|e| {
                        Diag::new(e.span(), format!("in `vec!`: {e}")).help("write `vec![a, b, c]`")
                    })?;
                self.array(items.iter())
            }
            "df" => self.df_macro(mac),
            _ => Err(
                Diag::new(mac.path.span(), format!("macro `{name}!` is not supported"))
                    .help("scripts support `df!(\"name\" => [..], ..)` and `vec![..]`"),
            ),
        }
    }

    fn df_macro(&mut self, mac: &syn::Macro) -> Result<Value, Diag> {
        struct Pair {
            name: SynExpr,
            values: SynExpr,
        }
        impl syn::parse::Parse for Pair {
            fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
                let name = input.parse()?;
                input.parse::<Token![=>]>()?;
                let values = input.parse()?;
                Ok(Pair { name, values })
            }
        }
        let pairs = mac
            .parse_body_with(Punctuated::<Pair, Token![,]>::parse_terminated)
            .map_err(|e| {
                Diag::new(e.span(), format!("in `df!`: {e}"))
                    .help("write `df!(\"a\" => [1, 2, 3], \"b\" => [0.5, 1.5, 2.5])`")
            })?;
        let mut columns = Vec::with_capacity(pairs.len());
        for p in &pairs {
            let name = self.eval(&p.name)?;
            let name = String::from_value(name)
                .map_err(|m| Diag::new(p.name.span(), format!("column name: {m}")))?;
            let values = self.eval(&p.values)?;
            let values = ArrayArg::from_value(values)
                .map_err(|m| Diag::new(p.values.span(), format!("column values: {m}")))?;
            columns.push(Column::new(name, values));
        }
        Ok(DataFrame::new(columns).into_value())
    }
}

/// Closures are reported as such, before a lookup could call their method unknown.
fn no_closures<'a>(mut args: impl Iterator<Item = &'a SynExpr>) -> Result<(), Diag> {
    match args.find(|a| matches!(a, SynExpr::Closure(_))) {
        Some(c) => Err(Diag::new(c.span(), "closures are not supported in scripts")
            .help("user-defined functions (map_rows, map_columns) exist only in the Rust API")),
        None => Ok(()),
    }
}

/// `Option<_>` agrees with any `Option<T>`; otherwise kinds must match.
fn kinds_agree(a: &str, b: &str) -> bool {
    a == b
        || (a.starts_with("Option<")
            && b.starts_with("Option<")
            && (a == "Option<_>" || b == "Option<_>"))
}

fn with_help(d: Diag, help: Option<String>) -> Diag {
    match help {
        Some(h) => d.help(h),
        None => d,
    }
}

/// An engine error placed at a script span.
pub(crate) fn engine_diag(range: Range, err: &Error) -> Diag {
    Diag::at(range, err.to_string()).label("while planning or running this step")
}

/// `a::b::c` as a string key; generic arguments and `<T as Trait>::` are rejected.
fn path_key(path: &syn::Path, qself: bool, span: Span) -> Result<String, Diag> {
    if qself {
        return Err(unsupported(span, "qualified paths (`<T as Trait>::`) are"));
    }
    let mut parts = Vec::with_capacity(path.segments.len());
    for seg in &path.segments {
        if !seg.arguments.is_none() {
            return Err(unsupported(
                seg.arguments.span(),
                "generic arguments (`::<..>`) are",
            ));
        }
        parts.push(seg.ident.to_string());
    }
    Ok(parts.join("::"))
}

const INT_SUFFIXES: [&str; 12] = [
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

fn suffix(s: &str) -> Option<&'static str> {
    INT_SUFFIXES
        .iter()
        .chain(&["f32", "f64"])
        .find(|x| **x == s)
        .copied()
}

fn lit(l: &Lit) -> Result<Value, Diag> {
    match l {
        Lit::Int(i) => {
            let sfx =
                match i.suffix() {
                    "" => None,
                    s => Some(suffix(s).ok_or_else(|| {
                        Diag::new(i.span(), format!("unknown literal suffix `{s}`"))
                    })?),
                };
            if matches!(sfx, Some("f32" | "f64")) {
                let value: f64 = i
                    .base10_parse()
                    .map_err(|e| Diag::new(i.span(), e.to_string()))?;
                return Ok(Value::Float(FloatLit { value, suffix: sfx }));
            }
            let value: i128 = i
                .base10_parse()
                .map_err(|_| Diag::new(i.span(), "integer literal is too large"))?;
            Ok(Value::Int(IntLit { value, suffix: sfx }))
        }
        Lit::Float(f) => {
            let sfx = match f.suffix() {
                "" => None,
                s @ ("f32" | "f64") => suffix(s),
                s => return Err(Diag::new(f.span(), format!("unknown literal suffix `{s}`"))),
            };
            let value: f64 = f
                .base10_parse()
                .map_err(|e| Diag::new(f.span(), e.to_string()))?;
            Ok(Value::Float(FloatLit { value, suffix: sfx }))
        }
        Lit::Str(s) => Ok(Value::Str(s.value())),
        Lit::Bool(b) => Ok(Value::Bool(b.value)),
        Lit::Byte(b) => Ok(Value::Int(IntLit {
            value: i128::from(b.value()),
            suffix: Some("u8"),
        })),
        other => Err(
            Diag::new(other.span(), "this literal is not supported in scripts")
                .help("use numbers, strings, `true`/`false`, or byte literals (`b';'`)"),
        ),
    }
}
