//! Type rules, plan text and selector expansion for the issue-4 part-A functions (fills,
//! scalers, rolling windows, horizontal and closure functions, describe's helpers).
//!
//! Kept apart from `types.rs` and `display.rs` so that those files only carry a one-line hook;
//! the rules themselves follow the crate's: numeric inputs only (errors name the expression),
//! Float32 stays Float32, everything else computes in Float64.

use arrow::datatypes::{DataType, Schema};

use super::seed_a::{rolling_call, Fill, RollingKind};
use super::types::{arith_type, float_type, is_numeric, supertype};
use super::{Expr, Function};
use crate::error::{Error, Result};
use crate::frame::display::dtype_name;

fn numeric(e: &Expr, func: &Function, arg: &Expr, schema: &Schema) -> Result<DataType> {
    let t = arg.data_type(schema)?;
    if is_numeric(&t) || t == DataType::Null {
        Ok(t)
    } else {
        Err(Error::Type(format!(
            "{}() needs a numeric input, got {arg} ({}) in {e}",
            func.name(),
            dtype_name(&t)
        )))
    }
}

/// The output type of a part-A function over `schema` (`None` for other functions).
pub(crate) fn function_type(
    e: &Expr,
    func: &Function,
    args: &[Expr],
    schema: &Schema,
) -> Result<DataType> {
    let first = || {
        args.first().ok_or_else(|| {
            Error::Plan(format!("{}() needs at least one input in {e}", func.name()))
        })
    };
    match func {
        Function::FillNanWith(_) => {
            // Integers hold no NaN: they pass through with their type.
            let t = numeric(e, func, first()?, schema)?;
            Ok(if t == DataType::Null {
                DataType::Float64
            } else {
                t
            })
        }
        Function::FillNullWith(fill) => {
            let t = match fill {
                Fill::Forward | Fill::Backward => first()?.data_type(schema)?,
                _ => numeric(e, func, first()?, schema)?,
            };
            Ok(match fill {
                Fill::Mean | Fill::Median => float_type(&t),
                _ => t,
            })
        }
        Function::MinMaxScale { .. }
        | Function::Standardize
        | Function::Rolling { .. }
        | Function::DescribeStats => {
            let t = numeric(e, func, first()?, schema)?;
            if let Function::Rolling { kind, options } = func {
                check_rolling(e, *kind, options)?;
            }
            Ok(match func {
                Function::DescribeStats => DataType::Float64,
                _ => float_type(&t),
            })
        }
        Function::MapColumns(_) => {
            numeric(e, func, first()?, schema)?;
            Ok(DataType::Float64)
        }
        Function::MinMaxScaleWith { .. } => {
            let t = numeric(e, func, first()?, schema)?;
            if args.len() != 3 || !args[1..].iter().all(Expr::is_scalar) {
                return Err(Error::Plan(format!(
                    "min_max_scale_with() takes a column and two scalars (min, max) in {e}"
                )));
            }
            for a in &args[1..] {
                numeric(e, func, a, schema)?;
            }
            Ok(float_type(&t))
        }
        Function::SumHorizontal
        | Function::MeanHorizontal
        | Function::MinHorizontal
        | Function::MaxHorizontal
        | Function::MapRows(_) => {
            first()?;
            let mut acc: Option<DataType> = None;
            for a in args {
                let t = numeric(e, func, a, schema)?;
                acc = Some(match acc {
                    None => arith_type(&t, &t),
                    Some(p) => arith_type(&p, &t),
                });
            }
            let t = acc.unwrap_or(DataType::Float64);
            Ok(match func {
                Function::MeanHorizontal => float_type(&t),
                Function::MapRows(_) => DataType::Float64,
                _ => t,
            })
        }
        Function::Stack => {
            first()?;
            let mut acc = DataType::Null;
            for a in args {
                if !a.is_scalar() {
                    return Err(Error::Plan(format!(
                        "stack() takes scalars (literals or aggregates), got {a} in {e}"
                    )));
                }
                let t = a.data_type(schema)?;
                acc = supertype(&acc, &t).ok_or_else(|| {
                    Error::Type(format!(
                        "stack() inputs of types {} and {} do not mix in {e}",
                        dtype_name(&acc),
                        dtype_name(&t)
                    ))
                })?;
            }
            Ok(acc)
        }
        other => Err(Error::Internal(format!(
            "{} is not an issue-4 part-A function",
            other.name()
        ))),
    }
}

fn check_rolling(e: &Expr, kind: RollingKind, o: &super::seed_a::RollingOptions) -> Result<()> {
    let bad = |m: String| Err(Error::Plan(format!("{m} in {e}")));
    if o.window == 0 {
        return bad("a rolling window needs at least 1 row".into());
    }
    let mp = o.min_periods_or_window();
    if mp == 0 || mp > o.window {
        return bad(format!(
            "min_periods must be between 1 and the window ({}), got {mp}",
            o.window
        ));
    }
    if let Some(w) = &o.weights {
        if !kind.supports_weights() {
            return bad(format!(
                "{} does not take weights (only sum, mean, var and std do)",
                kind.method_name()
            ));
        }
        if w.len() != o.window {
            return bad(format!(
                "{} weights for a window of {} rows; give one weight per row",
                w.len(),
                o.window
            ));
        }
        if w.iter().any(|v| !v.is_finite()) {
            return bad("rolling weights must be finite".into());
        }
    }
    Ok(())
}

/// Plan text for part-A functions: free functions print as `sum_horizontal([..])`, methods in
/// their builder spelling. `None` for other functions.
pub(crate) fn display(func: &Function, args: &[Expr]) -> Option<String> {
    if !func.is_seed_a() {
        return None;
    }
    let list = |a: &[Expr]| {
        a.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let first = args.first().map(ToString::to_string).unwrap_or_default();
    Some(match func {
        Function::SumHorizontal
        | Function::MeanHorizontal
        | Function::MinHorizontal
        | Function::MaxHorizontal
        | Function::Stack => format!("{}([{}])", func.name(), list(args)),
        Function::MapRows(u) => format!("map_rows([{}], {})", list(args), u.name()),
        Function::MapColumns(u) => format!("{first}.map_columns({})", u.name()),
        Function::FillNanWith(f) | Function::FillNullWith(f) => {
            format!("{first}.{}(Fill::{})", func.name(), f.name())
        }
        Function::MinMaxScale { lo, hi } => {
            if *lo == 0.0 && *hi == 1.0 {
                format!("{first}.min_max_scale()")
            } else {
                let (lo, hi) = (
                    super::Scalar::Float64(*lo).to_string(),
                    super::Scalar::Float64(*hi).to_string(),
                );
                format!("{first}.min_max_scale_range({lo}, {hi})")
            }
        }
        Function::Rolling { kind, options } => {
            format!("{first}.{}", rolling_call(*kind, options))
        }
        Function::MinMaxScaleWith { lo, hi } => {
            let stats = list(&args[1.min(args.len())..]);
            if *lo == 0.0 && *hi == 1.0 {
                format!("{first}.min_max_scale_with({stats})")
            } else {
                let (lo, hi) = (
                    super::Scalar::Float64(*lo).to_string(),
                    super::Scalar::Float64(*hi).to_string(),
                );
                format!("{first}.min_max_scale_range_with({lo}, {hi}, {stats})")
            }
        }
        _ => format!("{first}.{}()", func.name()),
    })
}

/// Expand selectors that appear directly among the inputs of a horizontal function in place:
/// `sum_horizontal([all_numeric()])` becomes `sum_horizontal([col("a"), col("b"), ..])`
/// instead of one expression per column. Other expressions are returned unchanged.
pub(crate) fn expand_selector_args(e: &Expr, schema: &Schema) -> Expr {
    e.clone().transform_up(&mut |n| match n {
        Expr::Function { func, args } if func.expands_selector_args() => {
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
            Expr::Function { func, args: out }
        }
        other => other,
    })
}
