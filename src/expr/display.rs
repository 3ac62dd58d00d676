//! Plan-text rendering of expressions, in the Rust API's own spelling so that what `explain`
//! prints can be pasted back into a query.

use std::fmt;

use super::{BinaryOp, Expr, Function, Scalar};
use crate::frame::display::format_float;

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
            Scalar::Date32(d) => write!(f, "date({d})"),
            Scalar::Timestamp(t, u) => write!(f, "timestamp({t}, {u:?})"),
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
            // Issue 4 part B: functions without input print as calls: `rand_uniform(0.0, 1.0, 42)`.
            Expr::Function { func, args } if args.is_empty() => {
                write!(
                    f,
                    "{}({})",
                    func.name(),
                    super::seed_b::params(func).join(", ")
                )
            }
            Expr::Function { func, args } => {
                // Issue 4 part A: missing values, scaling, windows (text in `seed_a_types`).
                if let Some(text) = super::seed_a_types::display(func, args) {
                    return f.write_str(&text);
                }
                let (first, rest) = match args.split_first() {
                    Some((a, r)) => (a.to_string(), r),
                    None => (String::new(), &[][..]),
                };
                write!(f, "{first}.{}(", func.name())?;
                let mut parts: Vec<String> = rest.iter().map(ToString::to_string).collect();
                match func {
                    Function::Clip { min, max } => match (min, max) {
                        (Some(a), Some(b)) => {
                            parts.push(format_float(*a));
                            parts.push(format_float(*b));
                        }
                        (Some(a), None) => parts.push(format!("min={}", format_float(*a))),
                        (None, Some(b)) => parts.push(format!("max={}", format_float(*b))),
                        (None, None) => {}
                    },
                    Function::Round(d) => parts.push(d.to_string()),
                    // Issue 4 part B: sorting, indexing, random
                    Function::ArgSort(_)
                    | Function::Sort(_)
                    | Function::TopK(_)
                    | Function::BottomK(_)
                    | Function::Shuffle { .. }
                    | Function::SampleN { .. }
                    | Function::SampleFrac { .. } => parts.extend(super::seed_b::params(func)),
                    _ => {}
                }
                write!(f, "{})", parts.join(", "))
            }
            Expr::Agg { func, expr } => {
                use super::AggFunc as A;
                let arg = match func {
                    A::Std(d) | A::Var(d) | A::NanStd(d) | A::NanVar(d) => d.to_string(),
                    A::Quantile(q) => format_float(*q),
                    _ => String::new(),
                };
                write!(f, "{expr}.{}({arg})", func.name())
            }
            Expr::When {
                cond,
                then,
                otherwise,
            } => write!(f, "when({cond}).then({then}).otherwise({otherwise})"),
            Expr::Param { name, .. } => write!(f, "${name}"),
        }
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}
