//! Expressions: the `Expr` tree, its constructors (`col`, `lit`, `when`, ...), builder methods
//! and operator overloads, and the options types they take.
//!
//! An `Expr` is pure description; [`types`] resolves its output type against a schema (so type
//! errors appear before any data is read) and `exec::eval` computes it over a morsel or frame.
//!
//! Functions come in families, one module each, named by what they do: `predicate`, `math`,
//! `fill`, `scale`, `window`, `horizontal`, `udf`, `ordering`, `indexing`, `random`,
//! `describe`, `temporal` (the `dt()` namespace and date literals) and `string` (the `str()`
//! namespace); aggregates are in `aggregate`, window expressions over groups (`over`) in
//! `over`. A family module holds its functions' builders, options, type rules and plan text;
//! `function` explains how a family plugs in (and where its kernels are).

mod aggregate;
mod builders;
mod describe;
mod display;
mod fill;
mod function;
mod horizontal;
mod indexing;
pub(crate) mod lookup;
mod math;
mod ops;
mod ordering;
pub(crate) mod over;
mod predicate;
mod random;
mod scalar;
mod scale;
mod string;
pub mod temporal;
pub mod types;
mod udf;
mod window;

pub use aggregate::{corr, len, AggFunc};
pub use builders::{all_numeric, col, cols, lit, when, Then, When};
pub use describe::DescribeFunction;
pub(crate) use describe::STATISTICS;
pub use display::{dtype_name, format_float};
pub use fill::{Fill, FillFunction};
pub(crate) use function::{match_family, FunctionFamily};
pub use function::{Function, FunctionKind};
pub use horizontal::{
    max_horizontal, mean_horizontal, min_horizontal, sum_horizontal, HorizontalFunction,
};
pub use indexing::{row_index, IndexingFunction};
pub use math::MathFunction;
pub use ordering::{sort_options_text, OrderingFunction, SortOptions};
pub use predicate::PredicateFunction;
pub use random::{rand_int, rand_normal, rand_uniform, RandomFunction};
pub use scalar::Scalar;
pub(crate) use scalar::{array_to_scalar, scalar_array};
pub use scale::ScaleFunction;
pub use string::{Pattern, StrNamespace, StringFunction};
pub use temporal::{date, datetime, DtNamespace, TemporalFunction};
pub use udf::{map_rows, ColumnUdf, RowUdf, UdfFunction};
pub use window::{RankMethod, RankOptions, RollingKind, RollingOptions, WindowFunction};

use arrow::datatypes::DataType;

/// A lazy column expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A column by name.
    Column(String),
    /// Several columns by name; expanded into one expression per column when planned.
    Columns(Vec<String>),
    /// Every numeric column of the input; expanded when planned.
    AllNumeric,
    /// A constant, broadcast to the frame's length where combined with columns.
    Literal(Scalar),
    /// Rename the output of an expression.
    Alias(Box<Expr>, String),
    /// Convert to another type (Arrow cast semantics; failed conversions are errors).
    Cast(Box<Expr>, DataType),
    /// Arithmetic, comparison or logical operator.
    Binary {
        /// The left operand.
        left: Box<Expr>,
        /// The operator.
        op: BinaryOp,
        /// The right operand.
        right: Box<Expr>,
    },
    /// Logical not.
    Not(Box<Expr>),
    /// Arithmetic negation.
    Negate(Box<Expr>),
    /// A function of one or more inputs (elementwise or whole-column; see [`FunctionKind`]).
    Function {
        /// Which function.
        func: Function,
        /// Its inputs, in the function's argument order.
        args: Vec<Expr>,
    },
    /// An aggregate: one value per input, broadcast when combined with columns.
    Agg {
        /// Which aggregate.
        func: AggFunc,
        /// The values aggregated.
        expr: Box<Expr>,
    },
    /// `when(cond).then(then).otherwise(otherwise)`; a null condition counts as false.
    When {
        /// The condition, a boolean expression.
        cond: Box<Expr>,
        /// The value where the condition is true.
        then: Box<Expr>,
        /// The value elsewhere (false or null condition).
        otherwise: Box<Expr>,
    },
    /// A scalar computed once by an `AGGREGATES` plan node below the node that uses it (the
    /// optimizer's aggregate hoisting puts it there); the executor binds it to its value
    /// before running the nodes above. Shown as `$name`.
    Param {
        /// The parameter's name (unique within a plan).
        name: String,
        /// Its type, known when the plan is built.
        dtype: DataType,
    },
    /// `expr.over(partition_by)`: `expr` evaluated within each group of rows with equal
    /// `partition_by` values, its result put back on the group's rows (an aggregate is
    /// broadcast to them). See [`over`](Expr::over).
    Over {
        /// The expression evaluated per group.
        expr: Box<Expr>,
        /// The expressions whose equal values form a group.
        partition_by: Vec<Expr>,
    },
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b` (integers wrap on overflow).
    Add,
    /// `a - b` (integers wrap on overflow).
    Sub,
    /// `a * b` (integers wrap on overflow).
    Mul,
    /// `a / b`: true division (integers give Float64, as NumPy's `/`).
    Div,
    /// `a % b`: the remainder, with the sign of `a` (as Rust and Arrow compute it).
    Rem,
    /// `a.gt(b)`: greater than.
    Gt,
    /// `a.ge(b)`: greater than or equal.
    GtEq,
    /// `a.lt(b)`: less than.
    Lt,
    /// `a.le(b)`: less than or equal.
    LtEq,
    /// `a.eq(b)`: equal (null compared with anything is null).
    Eq,
    /// `a.neq(b)`: not equal.
    NotEq,
    /// `a & b`: logical and (Kleene: false & null is false).
    And,
    /// `a | b`: logical or (Kleene: true | null is true).
    Or,
}

impl BinaryOp {
    /// True for `gt ge lt le eq neq`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Gt
                | BinaryOp::GtEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Eq
                | BinaryOp::NotEq
        )
    }

    /// True for `& |`.
    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }

    /// The Rust API method or operator spelling, used in plan text.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Gt => "gt",
            BinaryOp::GtEq => "ge",
            BinaryOp::Lt => "lt",
            BinaryOp::LtEq => "le",
            BinaryOp::Eq => "eq",
            BinaryOp::NotEq => "neq",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
        }
    }
}

impl Expr {
    /// The name the output column gets: the alias, else the first column the expression reads,
    /// else `"literal"` (Polars' convention).
    pub fn output_name(&self) -> String {
        match self {
            Expr::Column(c) => c.clone(),
            Expr::Columns(cs) => cs.first().cloned().unwrap_or_default(),
            Expr::AllNumeric => "all_numeric".into(),
            Expr::Literal(_) => "literal".into(),
            Expr::Alias(_, name) => name.clone(),
            Expr::Cast(e, _) | Expr::Not(e) | Expr::Negate(e) => e.output_name(),
            Expr::Binary { left, right, .. } => {
                if matches!(**left, Expr::Literal(_)) {
                    right.output_name()
                } else {
                    left.output_name()
                }
            }
            Expr::Function { args, .. } => args.first().map_or("literal".into(), Expr::output_name),
            Expr::Agg {
                func: AggFunc::Len,
                expr,
            } if matches!(**expr, Expr::Literal(Scalar::Null)) => "len".into(),
            Expr::Agg { expr, .. } => expr.output_name(),
            Expr::When { then, .. } => then.output_name(),
            Expr::Over { expr, .. } => expr.output_name(),
            Expr::Param { name, .. } => name.clone(),
        }
    }

    /// Direct children, in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column(_)
            | Expr::Columns(_)
            | Expr::AllNumeric
            | Expr::Literal(_)
            | Expr::Param { .. } => vec![],
            Expr::Alias(e, _) | Expr::Cast(e, _) | Expr::Not(e) | Expr::Negate(e) => vec![e],
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::Function { args, .. } => args.iter().collect(),
            Expr::Agg { func, expr } => std::iter::once(expr.as_ref())
                .chain(func.other_input())
                .collect(),
            Expr::Over { expr, partition_by } => std::iter::once(expr.as_ref())
                .chain(partition_by.iter())
                .collect(),
            Expr::When {
                cond,
                then,
                otherwise,
            } => vec![cond, then, otherwise],
        }
    }

    /// Rebuild this node with its children replaced by `f(child)` (post-order helper for
    /// rewrites in the optimizer and planner).
    pub fn map_children(self, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
        let b = |e: Box<Expr>, f: &mut dyn FnMut(Expr) -> Expr| Box::new(f(*e));
        match self {
            e @ (Expr::Column(_)
            | Expr::Columns(_)
            | Expr::AllNumeric
            | Expr::Literal(_)
            | Expr::Param { .. }) => e,
            Expr::Alias(e, n) => Expr::Alias(b(e, f), n),
            Expr::Cast(e, t) => Expr::Cast(b(e, f), t),
            Expr::Not(e) => Expr::Not(b(e, f)),
            Expr::Negate(e) => Expr::Negate(b(e, f)),
            Expr::Binary { left, op, right } => Expr::Binary {
                left: b(left, f),
                op,
                right: b(right, f),
            },
            Expr::Function { func, args } => Expr::Function {
                func,
                args: args.into_iter().map(&mut *f).collect(),
            },
            Expr::Agg { func, expr } => {
                let expr = b(expr, f);
                let func = match func {
                    AggFunc::Corr(other) => AggFunc::Corr(b(other, f)),
                    func => func,
                };
                Expr::Agg { func, expr }
            }
            Expr::Over { expr, partition_by } => Expr::Over {
                expr: b(expr, f),
                partition_by: partition_by.into_iter().map(&mut *f).collect(),
            },
            Expr::When {
                cond,
                then,
                otherwise,
            } => Expr::When {
                cond: b(cond, f),
                then: b(then, f),
                otherwise: b(otherwise, f),
            },
        }
    }

    /// Rewrite bottom-up: children first, then `f` on the rebuilt node.
    pub fn transform_up(self, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
        let e = self.map_children(&mut |c| c.transform_up(f));
        f(e)
    }

    /// Visit every node, parents before children.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.visit(f);
        }
    }

    /// Every column name the expression reads (selectors must be expanded first).
    pub fn columns_used(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let Expr::Column(c) = e {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
            if let Expr::Columns(cs) = e {
                for c in cs {
                    if !out.contains(c) {
                        out.push(c.clone());
                    }
                }
            }
        });
        out
    }

    /// True when every row of the output depends only on the same row of the input, so the
    /// expression can run morsel by morsel (no aggregates, windows, sorts).
    pub fn is_elementwise(&self) -> bool {
        let mut ok = true;
        self.visit(&mut |e| match e {
            Expr::Agg { .. } | Expr::AllNumeric | Expr::Columns(_) | Expr::Over { .. } => {
                ok = false
            }
            Expr::Function { func, .. } if func.kind() != FunctionKind::Elementwise => ok = false,
            _ => {}
        });
        ok
    }

    /// The inputs of an aggregate node (the input, and `corr`'s second); none for others.
    pub(crate) fn agg_inputs(&self) -> Vec<&Expr> {
        match self {
            Expr::Agg { func, expr } => std::iter::once(expr.as_ref())
                .chain(func.other_input())
                .collect(),
            _ => vec![],
        }
    }

    /// True when the expression contains an aggregate anywhere.
    pub fn has_aggregate(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= matches!(e, Expr::Agg { .. }));
        found
    }

    /// True when the expression reduces to one row (an aggregate at the top, possibly combined
    /// with literals and other aggregates: `col("x").max() - col("x").min()`).
    pub fn is_scalar(&self) -> bool {
        match self {
            Expr::Agg { .. } | Expr::Literal(_) | Expr::Param { .. } => true,
            Expr::Column(_) | Expr::Columns(_) | Expr::AllNumeric | Expr::Over { .. } => false,
            Expr::Function { func, args } => {
                func.kind() == FunctionKind::Elementwise && args.iter().all(Expr::is_scalar)
            }
            other => other.children().iter().all(|c| c.is_scalar()),
        }
    }
}
