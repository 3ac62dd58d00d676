//! The function catalogue: [`Function`] is one variant per *family* of functions, and each
//! family lives in one module of `expr` named by what it is (`predicate`, `math`, `fill`,
//! `scale`, `window`, `horizontal`, `udf`, `ordering`, `indexing`, `random`, `describe`,
//! `temporal`, `string`).
//!
//! A family module holds everything the planner knows about its functions: the family's enum
//! (one variant per function), the builder methods and free functions that make them, their
//! options types, and an implementation of [`FunctionFamily`] (in the spirit of DataFusion's
//! `ScalarUDFImpl`): name, [`FunctionKind`], type rule and plan text. Type rules match their
//! family's enum exhaustively, with no catch-all arm, so a new variant does not compile until
//! its rule exists.
//!
//! The computing half of a family is `exec::kernels::<family>`, a module of the same name
//! implementing the executor's `Kernel` trait for the same enum. It lives in the executor, not
//! here, on purpose: `expr` is pure description and must not depend on `exec` (which depends
//! on `expr`), and the kernels share chunking, statistics and buffers with the aggregate
//! engine. The two halves are tied by the compiler instead: `Function::family` here and the
//! kernel dispatch in `exec::kernels` both go through the exhaustive `match_family!`, so a
//! family without a `FunctionFamily` or a `Kernel` implementation does not compile.
//!
//! Adding a function to a family: a variant, its builder, its arms in the family's
//! `FunctionFamily` impl (the compiler points at them) and its arm in the family's kernel; a
//! line in `script/table.rs` makes it callable from scripts. Adding a family (`temporal` for
//! the `dt()` namespace, `string` for `str()`): a module here and one in `exec::kernels`, a
//! variant below, with a line in `match_family!` (which both `Function::family` and the
//! kernel dispatch use) and one in `family_from!`. A namespace such as `col("d").dt().year()`
//! is a small struct holding the `Expr`, with the family's builder methods, defined in the
//! family's module beside its enum. Not everything is a function: `is_in` is a predicate, and
//! `shift`/`diff`/`cum_sum` are windows, but `expr.over([..])` wraps any expression (aggregates
//! too), so it is an `Expr` node; decimals are a type, handled by `types` and the arithmetic
//! kernels.
//!
//! Length rules: elementwise functions keep the morsel's length; whole-column ones get the
//! whole column. `ordering`, `indexing`, `random` and `describe` functions may change the
//! length (`gather`, `filter`, `top_k`, samples): use them in `select`, where every output must
//! have the same length (or be a scalar, which broadcasts); in `with_columns` a length other
//! than the frame's is an error naming the expression.

use arrow::datatypes::{DataType, Schema};

use super::describe::DescribeFunction;
use super::fill::FillFunction;
use super::horizontal::HorizontalFunction;
use super::indexing::IndexingFunction;
use super::math::MathFunction;
use super::ordering::OrderingFunction;
use super::predicate::PredicateFunction;
use super::random::RandomFunction;
use super::scale::ScaleFunction;
use super::string::StringFunction;
use super::temporal::TemporalFunction;
use super::udf::UdfFunction;
use super::window::WindowFunction;
use super::Expr;
use crate::error::{Error, Result};

/// How a function relates input rows to output rows, which decides where it may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// Row i of the output depends only on row i of the inputs: runs morsel by morsel.
    Elementwise,
    /// Needs the whole column (windows, sorts, fills from a statistic, random values numbered
    /// by row): the executor materializes the input first.
    WholeColumn,
}

/// A function of one or more inputs, by family. Extra inputs (a fill value, an exponent) are
/// the `args` after the first of [`Expr::Function`](super::Expr::Function); parameters that are
/// not expressions (a window length, a seed) are fields of the variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Function {
    /// NaN, null and infinity tests (`is_nan`, `is_null`, ...).
    Predicate(PredicateFunction),
    /// Elementwise arithmetic functions (`abs`, `sqrt`, `pow`, `clip`, `round`, ...).
    Math(MathFunction),
    /// Missing-value replacement (`fill_nan`, `fill_null`, `fill_nan_with`, `fill_null_with`).
    Fill(FillFunction),
    /// Scalers (`min_max_scale`, `standardize`).
    Scale(ScaleFunction),
    /// Sliding windows (`rolling_mean`, ...).
    Window(WindowFunction),
    /// Row-wise functions over several inputs (`sum_horizontal`, ...).
    Horizontal(HorizontalFunction),
    /// Rust closures over rows or columns (`map_rows`, `map_columns`).
    Udf(UdfFunction),
    /// Sorting (`arg_sort`, `sort`, `top_k`, `bottom_k`).
    Ordering(OrderingFunction),
    /// Picking values by position or mask (`gather`, `filter`, `row_index`).
    Indexing(IndexingFunction),
    /// Seeded random values, permutations and samples.
    Random(RandomFunction),
    /// `describe()`'s statistics and labels.
    Describe(DescribeFunction),
    /// Dates and times: the `dt()` namespace (`year`, `truncate`, ...).
    Temporal(TemporalFunction),
    /// Strings: the `str()` namespace (`starts_with`, `contains_regex`, `slice`, ...).
    String(StringFunction),
}

/// What the planner needs to know about one family's functions; each family module implements
/// it for its enum. The executor's counterpart is `exec::kernels::Kernel`.
pub(crate) trait FunctionFamily {
    /// The builder-method name, used in plan text, error messages and by scripts.
    fn name(&self) -> &'static str;

    /// Where the function may run.
    fn kind(&self) -> FunctionKind;

    /// The output type of the call `e` (this function over `args`) against `schema`; errors
    /// name `e`.
    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType>;

    /// Parameters that are not expressions, as plan text (`SortOptions::new()`, a seed).
    fn params(&self) -> Vec<String> {
        vec![]
    }

    /// Plan text of a call with at least one argument, in the Rust API's spelling. The default
    /// is the method call `args[0].name(args[1..], params)`.
    fn call_text(&self, args: &[Expr]) -> String {
        method_call(self.name(), args, &self.params())
    }

    /// True when the args are a list of inputs in which a selector (`cols`, `all_numeric`)
    /// expands in place rather than into one expression per column.
    fn expands_selector_args(&self) -> bool {
        false
    }
}

/// `match` on a [`Function`] by family, binding the family's enum to `$f` in every arm (each
/// arm has its own type: give the result a type the arms coerce to, such as a `&dyn` trait).
/// This is the one list of families both halves dispatch through (`Function::family` here,
/// the kernel dispatch in `exec::kernels`), so a new family joins both by one line here.
macro_rules! match_family {
    ($func:expr, $f:ident => $body:expr) => {
        match $func {
            $crate::expr::Function::Predicate($f) => $body,
            $crate::expr::Function::Math($f) => $body,
            $crate::expr::Function::Fill($f) => $body,
            $crate::expr::Function::Scale($f) => $body,
            $crate::expr::Function::Window($f) => $body,
            $crate::expr::Function::Horizontal($f) => $body,
            $crate::expr::Function::Udf($f) => $body,
            $crate::expr::Function::Ordering($f) => $body,
            $crate::expr::Function::Indexing($f) => $body,
            $crate::expr::Function::Random($f) => $body,
            $crate::expr::Function::Describe($f) => $body,
            $crate::expr::Function::Temporal($f) => $body,
            $crate::expr::Function::String($f) => $body,
        }
    };
}
pub(crate) use match_family;

impl Function {
    /// The family this function belongs to, which answers for it.
    pub(crate) fn family(&self) -> &dyn FunctionFamily {
        match_family!(self, f => f)
    }

    /// The builder-method name, used in plan text and by the script interpreter.
    pub fn name(&self) -> &'static str {
        self.family().name()
    }

    /// Where the function may run.
    pub fn kind(&self) -> FunctionKind {
        self.family().kind()
    }

    /// True for functions whose args are a list of inputs in which a selector (`cols`,
    /// `all_numeric`) expands in place rather than into one expression per column.
    pub fn expands_selector_args(&self) -> bool {
        self.family().expands_selector_args()
    }

    /// The output type of the call `e` against `schema`.
    pub(crate) fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        self.family().return_type(e, args, schema)
    }

    /// Plan text of a call: input-less functions print as calls (`rand_uniform(0.0, 1.0, 42)`),
    /// others as their family spells them.
    pub(crate) fn call_text(&self, args: &[Expr]) -> String {
        let family = self.family();
        if args.is_empty() {
            format!("{}({})", family.name(), family.params().join(", "))
        } else {
            family.call_text(args)
        }
    }
}

macro_rules! family_from {
    ($($variant:ident($family:ty)),* $(,)?) => {$(
        impl From<$family> for Function {
            fn from(f: $family) -> Self {
                Function::$variant(f)
            }
        }
    )*};
}

family_from!(
    Predicate(PredicateFunction),
    Math(MathFunction),
    Fill(FillFunction),
    Scale(ScaleFunction),
    Window(WindowFunction),
    Horizontal(HorizontalFunction),
    Udf(UdfFunction),
    Ordering(OrderingFunction),
    Indexing(IndexingFunction),
    Random(RandomFunction),
    Describe(DescribeFunction),
    Temporal(TemporalFunction),
    String(StringFunction),
);

impl Expr {
    /// The call `func(args..)`.
    pub(crate) fn call(func: impl Into<Function>, args: Vec<Expr>) -> Expr {
        Expr::Function {
            func: func.into(),
            args,
        }
    }
}

/// `args[0].name(args[1..], params)`: the plan text of a builder-method call.
pub(crate) fn method_call(name: &str, args: &[Expr], params: &[String]) -> String {
    let (first, rest) = match args.split_first() {
        Some((a, r)) => (a.to_string(), r),
        None => (String::new(), &[][..]),
    };
    let parts: Vec<String> = rest
        .iter()
        .map(ToString::to_string)
        .chain(params.iter().cloned())
        .collect();
    format!("{first}.{name}({})", parts.join(", "))
}

/// `a, b, c`: expressions as a comma-separated list.
pub(crate) fn expr_list(args: &[Expr]) -> String {
    args.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first input of a function; its absence is a bug (builders always give one).
pub(crate) fn first_input<'a>(name: &str, args: &'a [Expr]) -> Result<&'a Expr> {
    args.first()
        .ok_or_else(|| Error::Internal(format!("{name} without input")))
}

/// The second input of a function (its value, exponent, indices or mask).
pub(crate) fn second_input<'a>(name: &str, args: &'a [Expr]) -> Result<&'a Expr> {
    args.get(1)
        .ok_or_else(|| Error::Internal(format!("{name} without its argument")))
}

/// The first input of the call `e`, which users write themselves (a horizontal function's
/// list may be empty): its absence is a plan error naming the call.
pub(crate) fn required_input<'a>(e: &Expr, name: &str, args: &'a [Expr]) -> Result<&'a Expr> {
    args.first()
        .ok_or_else(|| Error::Plan(format!("{name}() needs at least one input in {e}")))
}
