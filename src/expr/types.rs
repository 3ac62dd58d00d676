//! Type resolution: the output field of an expression against an input schema, and the
//! expansion of selectors (`cols`, `all_numeric`) into one expression per column.
//!
//! This runs while planning, so a type mismatch or an unknown column is reported before any
//! data is read. The rules: int op int -> Int64; anything with a float -> Float64 (Float32 with
//! Float32 stays Float32); `/` is true division; comparisons give Boolean; booleans count as
//! integers in arithmetic; an untyped null takes the type of the other side.
//!
//! Dates, times and decimals have their own rules ([`comparison_type`], and the private
//! `temporal_arith_type` and `decimal_arith_type` below): decimals stay exact through `+ - *`
//! with integers and other decimals (Polars' scale rules, precision 38), and become Float64
//! with floats and through `/`; subtracting dates gives a duration.

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use super::dtype_name;
use super::temporal::calendar::finer_unit;
use super::{BinaryOp, Expr, Scalar};
use crate::error::{Error, Result};

/// True for integer and float types.
pub fn is_numeric(dt: &DataType) -> bool {
    dt.is_integer() || dt.is_floating()
}

/// True for the types arithmetic accepts: numbers, booleans (as integers) and untyped null.
pub(crate) fn is_arith(dt: &DataType) -> bool {
    is_numeric(dt) || matches!(dt, DataType::Boolean | DataType::Null)
}

/// True for dates and timestamps.
pub(crate) fn is_temporal(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

/// True for the string types.
pub(crate) fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// True for Arrow's `Decimal128` (the exact decimals of Parquet's `DECIMAL`).
pub(crate) fn is_decimal(dt: &DataType) -> bool {
    matches!(dt, DataType::Decimal128(..))
}

/// True for durations (what subtracting dates gives).
pub(crate) fn is_duration(dt: &DataType) -> bool {
    matches!(dt, DataType::Duration(_))
}

/// Largest precision of a `Decimal128`: results of decimal arithmetic have it (as Polars).
pub const DECIMAL_PRECISION: u8 = 38;

/// The decimal `v / 10^scale` as the nearest `f64` (rounded once where the division is exact
/// in its operands, else through the decimal's text).
pub fn decimal_to_f64(v: i128, scale: i8) -> f64 {
    if (0..=22).contains(&scale) && v.unsigned_abs() < (1u128 << 53) {
        return v as f64 / 10f64.powi(i32::from(scale));
    }
    decimal_text(v, scale).parse().unwrap_or(f64::NAN)
}

/// The decimal `v / 10^scale` written out (`-12.30` for `-1230` at scale 2).
pub fn decimal_text(v: i128, scale: i8) -> String {
    let digits = v.unsigned_abs().to_string();
    let sign = if v < 0 { "-" } else { "" };
    if scale <= 0 {
        let zeros = "0".repeat(usize::from(scale.unsigned_abs()));
        return format!("{sign}{digits}{zeros}");
    }
    let s = usize::from(scale.unsigned_abs());
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (int, frac) = padded.split_at(padded.len() - s);
    format!("{sign}{int}.{frac}")
}

/// The scale an operand has in decimal arithmetic: its own for a decimal, 0 for integers
/// (and booleans and null), `None` for anything else (floats make the result a float).
fn decimal_scale(dt: &DataType) -> Option<i8> {
    match dt {
        DataType::Decimal128(_, s) => Some(*s),
        t if t.is_integer() || matches!(t, DataType::Boolean | DataType::Null) => Some(0),
        _ => None,
    }
}

/// The type of `l op r` when one side is a decimal: `+`/`-` keep the larger scale, `*` adds
/// the scales (exact, as Polars 1.x), `/` and `%` and anything with a float give Float64.
/// Results have precision 38; a product whose scale exceeds 38 is an error.
fn decimal_arith_type(op: BinaryOp, l: &DataType, r: &DataType) -> Option<Result<DataType>> {
    if !(is_decimal(l) || is_decimal(r)) {
        return None;
    }
    let (Some(a), Some(b)) = (decimal_scale(l), decimal_scale(r)) else {
        let float = |t: &DataType| t.is_floating() || is_decimal(t) || *t == DataType::Null;
        return Some(if float(l) && float(r) {
            Ok(DataType::Float64)
        } else {
            Err(Error::Type(String::new()))
        });
    };
    let dec = |s: i16| {
        if s.unsigned_abs() > u16::from(DECIMAL_PRECISION) {
            Err(Error::Type(format!(
                "the result would have scale {s}, beyond the 38 digits of a decimal"
            )))
        } else {
            Ok(DataType::Decimal128(DECIMAL_PRECISION, s as i8))
        }
    };
    Some(match op {
        BinaryOp::Add | BinaryOp::Sub => dec(i16::from(a.max(b))),
        BinaryOp::Mul => dec(i16::from(a) + i16::from(b)),
        _ => Ok(DataType::Float64),
    })
}

/// The type of `l op r` when one side is a date, timestamp or duration: date minus date is a
/// millisecond duration (as Polars 1.x), datetime minus datetime a duration in the finer of
/// their units; a duration added to or subtracted from a datetime or duration moves it.
/// Zoned and wall-clock timestamps do not mix.
fn temporal_arith_type(op: BinaryOp, l: &DataType, r: &DataType) -> Option<Option<DataType>> {
    use DataType::*;
    let temporal = |t: &DataType| is_temporal(t) || is_duration(t);
    if !(temporal(l) || temporal(r)) {
        return None;
    }
    Some(match (op, l, r) {
        (BinaryOp::Sub, a, b) if is_temporal(a) && is_temporal(b) => match comparison_type(a, b)? {
            Date32 => Some(Duration(TimeUnit::Millisecond)),
            Timestamp(u, _) => Some(Duration(u)),
            _ => None,
        },
        (BinaryOp::Add | BinaryOp::Sub, Duration(a), Duration(b)) => {
            Some(Duration(finer_unit(*a, *b)))
        }
        (BinaryOp::Add | BinaryOp::Sub, Timestamp(a, tz), Duration(b))
        | (BinaryOp::Add, Duration(b), Timestamp(a, tz)) => {
            Some(Timestamp(finer_unit(*a, *b), tz.clone()))
        }
        _ => None,
    })
}

/// The type both sides of a comparison (and `is_in`, `is_between`) are converted to before
/// they are compared, `None` when they cannot be: numbers with numbers (as arithmetic
/// promotes them), strings with strings, booleans with booleans, decimals with decimals and
/// integers exactly (at the larger scale) and with floats as Float64, dates and timestamps
/// with each other (a date is its midnight; zoned instants compare with zoned instants in any
/// zone, wall-clock times with wall-clock times, at the finer unit), durations with
/// durations. An untyped null takes the other side's type.
pub fn comparison_type(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType::*;
    match (l, r) {
        (Boolean, Boolean) => Some(Boolean),
        (Null, Null) => Some(Float64),
        (a, b) if is_decimal(a) || is_decimal(b) => match (decimal_scale(a), decimal_scale(b)) {
            (Some(x), Some(y)) => Some(Decimal128(DECIMAL_PRECISION, x.max(y))),
            _ if (a.is_floating() || is_decimal(a)) && (b.is_floating() || is_decimal(b)) => {
                Some(Float64)
            }
            _ => None,
        },
        (a, b) if is_arith(a) && is_arith(b) => Some(arith_type(a, b)),
        (a, b) if is_string(a) && is_string(b) => Some(if a == b { a.clone() } else { Utf8 }),
        (Null, o) | (o, Null) if is_string(o) || is_temporal(o) || is_duration(o) => {
            Some(o.clone())
        }
        (Date32 | Date64, Date32 | Date64) => Some(Date32),
        (Date32 | Date64, Timestamp(u, None)) | (Timestamp(u, None), Date32 | Date64) => {
            Some(Timestamp(*u, None))
        }
        (Timestamp(a, x), Timestamp(b, y)) if x.is_some() == y.is_some() => {
            Some(Timestamp(finer_unit(*a, *b), x.clone()))
        }
        (Duration(a), Duration(b)) => Some(Duration(finer_unit(*a, *b))),
        _ => None,
    }
}

/// The type arithmetic computes in for these two operand types.
pub fn arith_type(l: &DataType, r: &DataType) -> DataType {
    use DataType::*;
    match (l, r) {
        (Float32, Float32) | (Float32, Null) | (Null, Float32) => Float32,
        (a, b) if a.is_floating() || b.is_floating() => Float64,
        (Null, Null) => Float64,
        _ => Int64,
    }
}

/// The float type a float-valued function of this input returns.
pub fn float_type(dt: &DataType) -> DataType {
    if *dt == DataType::Float32 {
        DataType::Float32
    } else {
        DataType::Float64
    }
}

/// The common type of two branches or of a value and its fill.
pub fn supertype(l: &DataType, r: &DataType) -> Option<DataType> {
    if l == r {
        return Some(l.clone());
    }
    match (l, r) {
        (DataType::Null, o) | (o, DataType::Null) => Some(o.clone()),
        (a, b) if is_decimal(a) || is_decimal(b) || is_temporal(a) || is_temporal(b) => {
            comparison_type(a, b)
        }
        (a, b) if is_arith(a) && is_arith(b) => Some(arith_type(a, b)),
        (a, b) if is_string(a) && is_string(b) => Some(DataType::Utf8),
        _ => None,
    }
}

/// `e (type)`, how errors show an input.
pub(crate) fn typed(e: &Expr, dt: &DataType) -> String {
    format!("{e} ({})", dtype_name(dt))
}

/// Replace `cols([..])` and `all_numeric()` with one expression per selected column.
///
/// ```
/// use fusedframe::prelude::*;
/// use arrow::datatypes::{DataType, Field, Schema};
/// let schema = Schema::new(vec![Field::new("a", DataType::Float64, true),
///     Field::new("s", DataType::Utf8, true), Field::new("b", DataType::Int64, true)]);
/// let out = fusedframe::expr::types::expand_selectors(&[all_numeric().abs()], &schema)?;
/// assert_eq!(out, vec![col("a").abs(), col("b").abs()]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn expand_selectors(exprs: &[Expr], schema: &Schema) -> Result<Vec<Expr>> {
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        let e = &expand_selector_args(e, schema);
        let mut selected: Option<Vec<String>> = None;
        e.visit(&mut |n| match n {
            Expr::Columns(cs) if selected.is_none() => selected = Some(cs.clone()),
            Expr::AllNumeric if selected.is_none() => {
                selected = Some(
                    schema
                        .fields()
                        .iter()
                        .filter(|f| is_numeric(f.data_type()))
                        .map(|f| f.name().clone())
                        .collect(),
                )
            }
            _ => {}
        });
        match selected {
            None => out.push(e.clone()),
            Some(names) => {
                if names.len() > 1 && matches!(e, Expr::Alias(..)) {
                    return Err(Error::Plan(format!(
                        "{e}: an alias on a selector of {} columns would give them all one name",
                        names.len()
                    )));
                }
                for name in names {
                    let one = e.clone().transform_up(&mut |n| match n {
                        Expr::Columns(_) | Expr::AllNumeric => Expr::Column(name.clone()),
                        other => other,
                    });
                    out.push(one);
                }
            }
        }
    }
    Ok(out)
}

/// Expand selectors that appear directly among the inputs of a function taking a list of
/// inputs (`Function::expands_selector_args`) in place: `sum_horizontal([all_numeric()])`
/// becomes `sum_horizontal([col("a"), col("b"), ..])` instead of one expression per column.
/// Other expressions are returned unchanged.
fn expand_selector_args(e: &Expr, schema: &Schema) -> Expr {
    let in_place = |args: Vec<Expr>| -> Vec<Expr> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match a {
                Expr::Columns(cs) => out.extend(cs.into_iter().map(Expr::Column)),
                Expr::AllNumeric => out.extend(
                    schema
                        .fields()
                        .iter()
                        .filter(|f| is_numeric(f.data_type()))
                        .map(|f| Expr::Column(f.name().clone())),
                ),
                other => out.push(other),
            }
        }
        out
    };
    e.clone().transform_up(&mut |n| match n {
        // The keys of `over([cols([..])])` are one list.
        Expr::Over { expr, partition_by } => Expr::Over {
            expr,
            partition_by: in_place(partition_by),
        },
        Expr::Function { func, args } if func.expands_selector_args() => Expr::Function {
            func,
            args: in_place(args),
        },
        other => other,
    })
}

/// The type of `arg`, an input of the function `name` in the call `e`, which must be an
/// arithmetic type (a number, a boolean counted as an integer, or null).
pub(crate) fn arith_input(e: &Expr, name: &str, arg: &Expr, schema: &Schema) -> Result<DataType> {
    let t = arg.data_type(schema)?;
    if is_arith(&t) {
        Ok(t)
    } else {
        Err(Error::Type(format!(
            "{name}() needs a numeric input, got {} in {e}",
            typed(arg, &t)
        )))
    }
}

/// The type of `arg`, an input of the function `name` in the call `e`, which must be a number
/// (or null); booleans are refused.
pub(crate) fn numeric_input(e: &Expr, name: &str, arg: &Expr, schema: &Schema) -> Result<DataType> {
    let t = arg.data_type(schema)?;
    if is_numeric(&t) || t == DataType::Null {
        Ok(t)
    } else {
        Err(Error::Type(format!(
            "{name}() needs a numeric input, got {} in {e}",
            typed(arg, &t)
        )))
    }
}

impl Expr {
    /// The output field (name and type) of this expression over `schema`.
    pub fn to_field(&self, schema: &Schema) -> Result<Field> {
        Ok(Field::new(
            self.output_name(),
            self.data_type(schema)?,
            true,
        ))
    }

    /// The output type of this expression over `schema`; errors name the offending expression.
    pub fn data_type(&self, schema: &Schema) -> Result<DataType> {
        match self {
            Expr::Column(c) => schema
                .field_with_name(c)
                .map(|f| f.data_type().clone())
                .map_err(|_| {
                    Error::column_not_found(c, schema.fields().iter().map(|f| f.name().as_str()))
                }),
            Expr::Columns(_) | Expr::AllNumeric => Err(Error::Internal(format!(
                "selector {self} reached type resolution unexpanded"
            ))),
            Expr::Literal(s) => Ok(s.data_type()),
            Expr::Param { dtype, .. } => Ok(dtype.clone()),
            Expr::Alias(e, _) => e.data_type(schema),
            Expr::Cast(e, to) => {
                let from = e.data_type(schema)?;
                if arrow::compute::can_cast_types(&from, to) {
                    Ok(to.clone())
                } else {
                    Err(Error::Type(format!(
                        "cannot cast {} to {}",
                        typed(e, &from),
                        dtype_name(to)
                    )))
                }
            }
            Expr::Not(e) => {
                let t = e.data_type(schema)?;
                if matches!(t, DataType::Boolean | DataType::Null) {
                    Ok(DataType::Boolean)
                } else {
                    Err(Error::Type(format!(
                        "`!` needs a boolean, got {}",
                        typed(e, &t)
                    )))
                }
            }
            Expr::Negate(e) => {
                let t = e.data_type(schema)?;
                if is_decimal(&t) || is_duration(&t) {
                    Ok(t)
                } else if is_arith(&t) {
                    Ok(arith_type(&t, &t))
                } else {
                    Err(Error::Type(format!(
                        "unary `-` needs a number, got {}",
                        typed(e, &t)
                    )))
                }
            }
            Expr::Binary { left, op, right } => {
                let l = left.data_type(schema)?;
                let r = right.data_type(schema)?;
                binary_type(self, left, *op, right, &l, &r)
            }
            Expr::Function { func, args } => func.return_type(self, args, schema),
            Expr::Agg { func, expr } => {
                let t = expr.data_type(schema)?;
                func.return_type(self, &t, schema)
            }
            Expr::Over { expr, partition_by } => {
                super::over::check_partition(self, partition_by, schema)?;
                expr.data_type(schema)
            }
            Expr::When {
                cond,
                then,
                otherwise,
            } => {
                let c = cond.data_type(schema)?;
                if !matches!(c, DataType::Boolean | DataType::Null) {
                    return Err(Error::Type(format!(
                        "when() needs a boolean condition, got {}",
                        typed(cond, &c)
                    )));
                }
                let t = then.data_type(schema)?;
                let o = otherwise.data_type(schema)?;
                supertype(&t, &o).ok_or_else(|| {
                    Error::Type(format!(
                        "then and otherwise have incompatible types: {} vs {}",
                        typed(then, &t),
                        typed(otherwise, &o)
                    ))
                })
            }
        }
    }
}

fn binary_type(
    e: &Expr,
    left: &Expr,
    op: BinaryOp,
    right: &Expr,
    l: &DataType,
    r: &DataType,
) -> Result<DataType> {
    let mismatch = || {
        Error::Type(format!(
            "cannot apply `{}` to {} and {} in {e}",
            op.symbol(),
            typed(left, l),
            typed(right, r)
        ))
    };
    if op.is_logical() {
        let ok = |t: &DataType| matches!(t, DataType::Boolean | DataType::Null);
        return if ok(l) && ok(r) {
            Ok(DataType::Boolean)
        } else {
            Err(mismatch())
        };
    }
    if op.is_comparison() {
        return match comparison_type(l, r) {
            Some(_) => Ok(DataType::Boolean),
            None => Err(comparison_mismatch(mismatch(), l, r, right)),
        };
    }
    if let Some(t) = temporal_arith_type(op, l, r) {
        return t.ok_or_else(mismatch);
    }
    if let Some(t) = decimal_arith_type(op, l, r) {
        return t.map_err(|err| match err {
            Error::Type(m) if !m.is_empty() => Error::Type(format!("{m} in {e}")),
            _ => mismatch(),
        });
    }
    if !(is_arith(l) && is_arith(r)) {
        return Err(mismatch());
    }
    if op == BinaryOp::Div {
        return Ok(float_type(&arith_type(l, r)));
    }
    Ok(arith_type(l, r))
}

/// A comparison type error, with a hint where a literal of the wrong kind is the likely cause
/// (a date compared with a string, a zoned timestamp with a wall-clock literal).
fn comparison_mismatch(err: Error, l: &DataType, r: &DataType, right: &Expr) -> Error {
    let Error::Type(m) = err else { return err };
    let hint = match (l, r, right) {
        (DataType::Date32 | DataType::Date64, t, Expr::Literal(Scalar::Utf8(s)))
            if is_string(t) =>
        {
            format!("; write date({s:?}) for a date")
        }
        (DataType::Timestamp(..), t, Expr::Literal(Scalar::Utf8(s))) if is_string(t) => {
            format!("; write datetime({s:?}) for a datetime")
        }
        (DataType::Timestamp(_, a), DataType::Timestamp(_, b), _) if a.is_some() != b.is_some() => {
            "; a time zone's instants and wall-clock times do not compare (a datetime(\"..Z\") \
             literal is an instant)"
                .to_string()
        }
        _ => String::new(),
    };
    Error::Type(format!("{m}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::col;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("i", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
            Field::new("g", DataType::Float32, true),
            Field::new("s", DataType::Utf8, true),
        ])
    }

    #[test]
    fn arithmetic_promotion() {
        let s = schema();
        assert_eq!((col("i") + 1).data_type(&s).unwrap(), DataType::Int64);
        assert_eq!((col("i") + 1.5).data_type(&s).unwrap(), DataType::Float64);
        assert_eq!((col("i") / 2).data_type(&s).unwrap(), DataType::Float64);
        assert_eq!(
            (col("g") * col("g")).data_type(&s).unwrap(),
            DataType::Float32
        );
        assert_eq!(
            (col("g") * col("f")).data_type(&s).unwrap(),
            DataType::Float64
        );
        assert_eq!(col("i").mean().data_type(&s).unwrap(), DataType::Float64);
        assert_eq!(col("i").sum().data_type(&s).unwrap(), DataType::Int64);
        assert_eq!(col("f").count().data_type(&s).unwrap(), DataType::UInt64);
    }

    #[test]
    fn type_mismatch_names_the_expression() {
        let err = (col("s") + 1).data_type(&schema()).unwrap_err();
        assert!(matches!(err, Error::Type(_)));
        let msg = err.to_string();
        assert!(msg.contains("col(\"s\") (str)"), "{msg}");
        let err = col("f")
            .gt(1)
            .and(col("i"))
            .data_type(&schema())
            .unwrap_err();
        assert!(err.to_string().contains("`&`"), "{err}");
    }

    #[test]
    fn unknown_column_suggests() {
        let err = col("ff").data_type(&schema()).unwrap_err();
        assert!(err.to_string().contains("did you mean \"f\""), "{err}");
    }
}
