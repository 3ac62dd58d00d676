//! Query scripts (`queries/*.fq`): Rust source text, parsed with `syn` and interpreted into the
//! same `LazyFrame` the Rust API builds.
//!
//! A script is zero or more `let name = <expr>;` statements and one final expression (a
//! `LazyFrame`, a collected `DataFrame`, a model such as `lf.kmeans(KMeans::new(3))`, which
//! the CLI fits and summarises, or a sink call that writes the result itself,
//! `lf.sink_parquet("out.parquet")?`; see [`Output`]), written with exactly the names and argument
//! forms of the Rust API, so that pasting it into `fn q() -> Result<Output> { use
//! fusedframe::prelude::*; Ok(Output::from({ <script> })) }` compiles and builds the same plan
//! (`tests/script_equivalence.rs` checks this for every script in `queries/`):
//!
//! ```text
//! // Iris rows with long sepals, widest petals first
//! let long = col("sepal_length").gt(5.0);
//! scan_csv("datasets/iris.csv")
//!     .filter(long)
//!     .sort("petal_width", SortOptions::default().descending(true))
//! ```
//!
//! Supported: calls of API functions (`col`, `scan_csv`, `SortOptions::default`, ...), method
//! calls, integer/float/string/bool/byte literals with Rust's typing (an unsuffixed integer
//! used as an `Expr` is an `i32`; `f64` parameters need `1.0`, not `1`), constants
//! (`f64::NAN`, `DataType::Float64`), arrays and `vec![..]`, `Some`/`None`, `df!(..)`, `&`
//! where the API borrows, `?` on fallible calls, `as` between number types, the operators
//! `+ - * / % & | !` and unary `-` with Rust's precedence, and `.clone()`. Values move as in
//! Rust: using an `Expr` variable twice needs `.clone()`. Everything else (closures, `if`,
//! loops, field access, attributes) is an error pointing at `file:line:column`.
//!
//! # Layout
//!
//! - `parse`: pre-scan (nesting bounds, no attributes) and `syn` parsing.
//! - `interp`: the tree walker (variables, calls, macros, `?`).
//! - `ops`: operators and literal arithmetic.
//! - `value`: script values and their conversions to and from API types.
//! - `dispatch`: the tables and the macros that write their entries; `table`: the entries.
//! - `diag`: rustc-style error rendering.
//! - `run` and `output`: what the CLI does with a script (run, explain, write results);
//!   `session`: the options a script's `collect()`, `fit()` and sinks run with.
//!
//! # Adding to the vocabulary
//!
//! One line in `table.rs` per API item. A new `Expr` method `rolling_mean(self, window:
//! usize) -> Expr` is `rolling_mean(window: usize);` in the `Expr` list; a new `LazyFrame`
//! method goes in the `LazyFrame` list the same way. A new type (`KMeans`) is one name in
//! `script_types_from!` (`value.rs`), then `KMeans::new(k: usize);` under `functions!`, its
//! builder methods under `methods!(r, KMeans; ...)`, and enum variants such as `Fill::Mean`
//! under `constants!`. A type a script may end with (a model) also needs a variant of
//! [`Model`] (`outcome.rs`). See the top of `table.rs` for parameter types and custom calls.

mod diag;
pub(crate) mod dispatch;
mod interp;
mod ops;
mod outcome;
pub mod output;
mod parse;
#[cfg(feature = "plot")]
mod plot;
pub mod run;
mod session;
mod table;
pub mod value;

use std::path::Path;

use crate::error::{Error, Result};
use crate::plan::{ExecOptions, LazyFrame};

use self::diag::Diag;
use self::value::Value;

pub use self::outcome::{Model, Output};
pub use self::session::{PlannedSink, Session};

/// A script's text and the name its errors use (its path, or `-e`).
#[derive(Clone, Debug)]
pub struct Script {
    name: String,
    source: String,
}

impl Script {
    /// A script from text.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
        }
    }

    /// Read a script file; its path (as given) names it in errors.
    pub fn from_file(path: &Path) -> Result<Self> {
        let source = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::new(path.display().to_string(), source))
    }

    /// The name used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first line's `//` comment, which says what the script shows.
    pub fn description(&self) -> Option<&str> {
        let first = self.source.lines().next()?.trim();
        first
            .strip_prefix("//")
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Parse and interpret, running what the script runs (`collect()`, `fit()`, `sink_*`)
    /// with default options. Errors are [`Error::Script`] pointing at `file:line:column`.
    pub fn eval(&self) -> Result<Evaluated> {
        self.eval_in(Session::default())
    }

    /// [`eval`](Self::eval), running what the script runs with `options` (the CLI's
    /// `--threads`, `--memory-limit`, ... reach a script's sinks this way).
    pub fn eval_with(&self, options: &ExecOptions) -> Result<Evaluated> {
        self.eval_in(Session::new(options.clone()))
    }

    /// Interpret without writing: sinks are recorded in [`Evaluated::sinks`] with their plans
    /// (for `fusedframe explain`).
    pub fn plan(&self) -> Result<Evaluated> {
        self.eval_in(Session::plan_only())
    }

    fn eval_in(&self, session: Session) -> Result<Evaluated> {
        let diag = |d: Diag| d.into_error(&self.name, &self.source);
        let stmts = parse::parse(&self.source).map_err(diag)?;
        let mut interp = interp::Interp::new(session);
        let value = interp.run(&stmts).map_err(diag)?;
        let output = match Output::from_value(value) {
            Ok(o) => o,
            Err(v) => return Err(diag(final_value_error(&v, &stmts))),
        };
        Ok(Evaluated {
            output,
            sinks: interp.session.take_planned(),
            trace: interp.trace,
            name: self.name.clone(),
            source: self.source.clone(),
        })
    }
}

fn final_value_error(v: &Value, stmts: &[syn::Stmt]) -> Diag {
    use syn::spanned::Spanned;
    let msg = format!(
        "a script must end with a LazyFrame, a DataFrame, a model, a plot or a sink call, \
         but this is `{}`",
        v.kind()
    );
    let help = match v {
        Value::Result(_) => "add `?` to get the value out of the `Result`",
        Value::Object(o) if o.type_name() == "PlotBuilder" => {
            "say what to draw: `.scatter(x, y)`, `.line(x, [y, ..])`, `.hist(column, bins)` or \
             `.bar(label, value)`"
        }
        _ => "end the script with a query such as `scan_csv(\"data.csv\").head(5)`",
    };
    match stmts.last() {
        Some(s) => Diag::new(s.span(), msg).help(help),
        None => Diag::whole(msg).help(help),
    }
}

/// An interpreted script: its result, and what is needed to place later engine errors.
pub struct Evaluated {
    /// The script's value.
    pub output: Output,
    /// The sinks the script would run, when it was only planned ([`Script::plan`]).
    pub sinks: Vec<PlannedSink>,
    trace: Vec<(diag::Range, LazyFrame)>,
    name: String,
    source: String,
}

impl Evaluated {
    /// Turn an engine error from planning or running this script's result into a script
    /// error that points at the first step whose schema fails (an unknown column in a
    /// `with_columns`), or at least names the script file.
    pub fn locate(&self, err: Error) -> Error {
        if matches!(err, Error::Script(_)) {
            return err;
        }
        let d = match interp::locate(&self.trace) {
            Some(range) => interp::engine_diag(range, &err),
            None => Diag::whole(err.to_string()),
        };
        d.into_error(&self.name, &self.source)
    }
}

#[cfg(test)]
mod tests;
