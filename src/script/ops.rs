//! Operators and literal arithmetic, with the typing Rust applies to the API's operator impls.
//!
//! `Expr op x` works for anything `impl Into<Expr>` (numbers, strings, `Expr`, `when..then`);
//! `number op Expr` only for `+ - * / %` and the number types the API implements the operator
//! for; `& |` need an `Expr` on the left. Two literals compute a literal, with Rust's rules: no
//! mixing of integers and floats, checked overflow, no division by zero. The resulting `Expr`
//! is built with the API's own operators, so the tree is the one Rust builds.

use crate::expr::Expr;

use super::value::{FloatLit, FromValue, IntLit, Value};

/// The binary operators scripts support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    BitAnd,
    BitOr,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Rem => "%",
            Op::BitAnd => "&",
            Op::BitOr => "|",
        }
    }

    fn is_arith(self) -> bool {
        !matches!(self, Op::BitAnd | Op::BitOr)
    }

    /// Map a `syn` operator; `Err` carries the message and help for unsupported ones.
    pub fn from_syn(op: &syn::BinOp) -> Result<Op, (String, String)> {
        use syn::BinOp as B;
        Ok(match op {
            B::Add(_) => Op::Add,
            B::Sub(_) => Op::Sub,
            B::Mul(_) => Op::Mul,
            B::Div(_) => Op::Div,
            B::Rem(_) => Op::Rem,
            B::BitAnd(_) => Op::BitAnd,
            B::BitOr(_) => Op::BitOr,
            B::Lt(_) | B::Le(_) | B::Gt(_) | B::Ge(_) | B::Eq(_) | B::Ne(_) => {
                return Err((
                    "comparison operators do not build expressions".into(),
                    "use the methods `.lt(..)`, `.le(..)`, `.gt(..)`, `.ge(..)`, `.eq(..)`, \
                     `.neq(..)`, as in Rust"
                        .into(),
                ))
            }
            B::And(_) | B::Or(_) => {
                return Err((
                    "`&&` and `||` do not build expressions".into(),
                    "combine conditions with `&` and `|` (or `.and(..)`, `.or(..)`), as in Rust"
                        .into(),
                ))
            }
            _ => {
                return Err((
                    "this operator is not supported in scripts".into(),
                    "supported operators: `+ - * / %`, `& |`, unary `-` and `!`; scripts never \
                     assign, so there is no `+=`"
                        .into(),
                ))
            }
        })
    }
}

/// A rejected operation: message and optional help.
pub(crate) type OpError = (String, Option<String>);

fn apply_expr(op: Op, l: Expr, r: Expr) -> Expr {
    match op {
        Op::Add => l + r,
        Op::Sub => l - r,
        Op::Mul => l * r,
        Op::Div => l / r,
        Op::Rem => l % r,
        Op::BitAnd => l & r,
        Op::BitOr => l | r,
    }
}

fn cannot(op: Op, l: &Value, r: &Value, help: Option<&str>) -> OpError {
    (
        format!(
            "cannot apply `{}` to `{}` and `{}`",
            op.symbol(),
            l.kind(),
            r.kind()
        ),
        help.map(str::to_string),
    )
}

fn expr_value(e: Expr, ambiguous: bool) -> Value {
    let mut o = super::value::Object::new(e);
    o.ambiguous = ambiguous;
    Value::Object(o)
}

/// `l op r`.
pub(crate) fn binary(op: Op, l: Value, r: Value) -> Result<Value, OpError> {
    if l.downcast_ref::<Expr>().is_some() {
        // An ambiguous left side stays ambiguous: the operator impl is chosen by its type.
        let ambiguous = l.is_ambiguous();
        let help = format!(
            "the right side of `{}` must be an Expr, a number, a string or a bool",
            op.symbol()
        );
        let Ok(le) = l.into_object::<Expr>() else {
            return Err(("internal: lost the left operand".into(), None));
        };
        let re = Expr::from_value(r).map_err(|e| (e, Some(help)))?;
        return Ok(expr_value(apply_expr(op, le, re), ambiguous));
    }
    match (&l, &r) {
        (Value::Int(_) | Value::Float(_), Value::Object(_))
            if r.downcast_ref::<Expr>().is_some() =>
        {
            if !op.is_arith() {
                return Err(cannot(
                    op,
                    &l,
                    &r,
                    Some("put the Expr on the left, or use `lit(..)` for the number"),
                ));
            }
            // Rust implements `number op Expr` for f64, f32, i32, i64, u32, u64, usize only;
            // the literal conversion enforces the same set.
            let ambiguous = match &l {
                Value::Int(i) => i.suffix.is_none(),
                Value::Float(f) => f.suffix.is_none(),
                _ => false,
            };
            let le = Expr::from_value(l).map_err(|e| (e, None))?;
            let Ok(re) = r.into_object::<Expr>() else {
                return Err(("internal: lost the right operand".into(), None));
            };
            Ok(expr_value(apply_expr(op, le, re), ambiguous))
        }
        (Value::Int(a), Value::Int(b)) => int_op(op, *a, *b),
        (Value::Float(a), Value::Float(b)) => {
            float_op(op, *a, *b).ok_or_else(|| cannot(op, &l, &r, None))
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            Op::BitAnd => Ok(Value::Bool(*a & *b)),
            Op::BitOr => Ok(Value::Bool(*a | *b)),
            _ => Err(cannot(op, &l, &r, None)),
        },
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => Err(cannot(
            op,
            &l,
            &r,
            Some("Rust does not mix integers and floats: write `2.0` rather than `2`"),
        )),
        (Value::Object(_), _) if l.type_name() == "Then" => Err(cannot(
            op,
            &l,
            &r,
            Some("finish the `when(..).then(..)` chain with `.otherwise(..)` first"),
        )),
        (Value::Str(_), _) => Err(cannot(
            op,
            &l,
            &r,
            Some("wrap the string in `lit(..)` to use it in an expression"),
        )),
        _ => Err(cannot(op, &l, &r, None)),
    }
}

fn unify_suffix(
    a: Option<&'static str>,
    b: Option<&'static str>,
) -> Result<Option<&'static str>, OpError> {
    match (a, b) {
        (Some(x), Some(y)) if x != y => Err((format!("mismatched types `{x}` and `{y}`"), None)),
        (Some(x), _) | (_, Some(x)) => Ok(Some(x)),
        (None, None) => Ok(None),
    }
}

fn int_op(op: Op, a: IntLit, b: IntLit) -> Result<Value, OpError> {
    let suffix = unify_suffix(a.suffix, b.suffix)?;
    if matches!(op, Op::Div | Op::Rem) && b.value == 0 {
        return Err(("attempt to divide by zero".into(), None));
    }
    let v = match op {
        Op::Add => a.value.checked_add(b.value),
        Op::Sub => a.value.checked_sub(b.value),
        Op::Mul => a.value.checked_mul(b.value),
        Op::Div => a.value.checked_div(b.value),
        Op::Rem => a.value.checked_rem(b.value),
        Op::BitAnd => Some(a.value & b.value),
        Op::BitOr => Some(a.value | b.value),
    };
    let value = v.ok_or_else(|| (format!("integer overflow in `{}`", op.symbol()), None))?;
    Ok(Value::Int(IntLit { value, suffix }))
}

fn float_op(op: Op, a: FloatLit, b: FloatLit) -> Option<Value> {
    let suffix = unify_suffix(a.suffix, b.suffix).ok()?;
    let value = match op {
        Op::Add => a.value + b.value,
        Op::Sub => a.value - b.value,
        Op::Mul => a.value * b.value,
        Op::Div => a.value / b.value,
        Op::Rem => a.value % b.value,
        Op::BitAnd | Op::BitOr => return None,
    };
    Some(Value::Float(FloatLit { value, suffix }))
}

/// `-v`.
pub(crate) fn negate(v: Value) -> Result<Value, OpError> {
    match v {
        Value::Int(i) => {
            if i.suffix.is_some_and(|s| s.starts_with('u')) {
                return Err((
                    format!("cannot negate an unsigned `{}`", i.suffix.unwrap_or("")),
                    None,
                ));
            }
            let value = i
                .value
                .checked_neg()
                .ok_or_else(|| ("integer overflow in `-`".to_string(), None))?;
            Ok(Value::Int(IntLit {
                value,
                suffix: i.suffix,
            }))
        }
        Value::Float(f) => Ok(Value::Float(FloatLit {
            value: -f.value,
            suffix: f.suffix,
        })),
        v => match (v.is_ambiguous(), v.into_object::<Expr>()) {
            (amb, Ok(e)) => Ok(expr_value(-e, amb)),
            (_, Err(v)) => Err((format!("cannot negate `{}`", v.kind()), None)),
        },
    }
}

/// `!v`.
pub(crate) fn not(v: Value) -> Result<Value, OpError> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        v => match (v.is_ambiguous(), v.into_object::<Expr>()) {
            (amb, Ok(e)) => Ok(expr_value(!e, amb)),
            (_, Err(v)) => Err((
                format!("cannot apply `!` to `{}`", v.kind()),
                Some("`!` negates boolean expressions".into()),
            )),
        },
    }
}

/// `v as ty` for the primitive number types.
pub(crate) fn cast(v: Value, ty: &str) -> Result<Value, OpError> {
    let as_f64 = match &v {
        Value::Int(i) => i.value as f64,
        Value::Float(f) => f.value,
        other => {
            return Err((
                format!("`as` converts numbers, not `{}`", other.kind()),
                Some("convert a column with `.cast(DataType::..)`".into()),
            ))
        }
    };
    let int = |f: f64| -> i128 {
        match &v {
            Value::Int(i) => i.value,
            // Rust's float-to-int `as` saturates and maps NaN to 0.
            _ => f as i128,
        }
    };
    let out = match ty {
        "f64" => Value::Float(FloatLit {
            value: as_f64,
            suffix: Some("f64"),
        }),
        "f32" => Value::Float(FloatLit {
            value: f64::from(as_f64 as f32),
            suffix: Some("f32"),
        }),
        "i32" => Value::Int(IntLit {
            value: i128::from(int(as_f64) as i32),
            suffix: Some("i32"),
        }),
        "i64" => Value::Int(IntLit {
            value: i128::from(int(as_f64) as i64),
            suffix: Some("i64"),
        }),
        "u8" => Value::Int(IntLit {
            value: i128::from(int(as_f64) as u8),
            suffix: Some("u8"),
        }),
        "u32" => Value::Int(IntLit {
            value: i128::from(int(as_f64) as u32),
            suffix: Some("u32"),
        }),
        "u64" => Value::Int(IntLit {
            value: i128::from(int(as_f64) as u64),
            suffix: Some("u64"),
        }),
        "usize" => Value::Int(IntLit {
            value: int(as_f64) as usize as i128,
            suffix: Some("usize"),
        }),
        _ => {
            return Err((
                format!("`as {ty}` is not supported"),
                Some(
                    "supported: `as f64`, `f32`, `i32`, `i64`, `u8`, `u32`, `u64`, `usize`".into(),
                ),
            ))
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::col;
    use crate::script::value::Object;

    fn int(v: i128) -> Value {
        Value::Int(IntLit {
            value: v,
            suffix: None,
        })
    }
    fn expr(e: Expr) -> Value {
        Value::Object(Object::new(e))
    }

    #[test]
    fn builds_the_same_tree_as_rust() {
        let v = binary(Op::Mul, int(2), expr(col("x"))).unwrap();
        assert_eq!(v.downcast_ref::<Expr>(), Some(&(2 * col("x"))));
        let v = binary(Op::BitAnd, expr(col("a")), Value::Bool(true)).unwrap();
        assert_eq!(v.downcast_ref::<Expr>(), Some(&(col("a") & true)));
    }

    #[test]
    fn rejects_what_rust_rejects() {
        assert!(binary(
            Op::Add,
            int(1),
            Value::Float(FloatLit {
                value: 1.0,
                suffix: None
            })
        )
        .is_err());
        assert!(binary(Op::BitAnd, Value::Bool(true), expr(col("a"))).is_err());
        assert!(binary(Op::Div, int(1), int(0)).is_err());
        let big = Value::Int(IntLit {
            value: 3_000_000_000,
            suffix: None,
        });
        assert!(binary(Op::Add, expr(col("a")), big).is_err());
        let u8v = Value::Int(IntLit {
            value: 3,
            suffix: Some("u8"),
        });
        assert!(binary(Op::Add, u8v, expr(col("a"))).is_err());
    }
}
