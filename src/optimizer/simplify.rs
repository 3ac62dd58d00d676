//! Constant folding and boolean simplification.
//!
//! - A subexpression made only of literals (and elementwise operators) is evaluated once, with
//!   the engine's own kernels, so the folded value is exactly what evaluation would give; a
//!   fold that errors (a bad cast) or changes the type is left for run time.
//! - Boolean identities under Kleene logic, which the executor uses: `e & true` and `e | false`
//!   are `e`; `e & false` is `false` and `e | true` is `true` whatever `e` is (null included);
//!   `e & e` is `e`; `!!e` is `e`. NaN rules out the tempting rest: `!(x > 0)` is true for
//!   NaN while `x <= 0` is false, so negations are never pushed into comparisons.
//! - `when` with a constant condition picks its branch (a null condition counts as false);
//!   `--e` is `e`; a cast to the type an expression already has is dropped.
//! - `filter(true)` disappears, and so does a scan predicate that folds to `true`.
//!
//! Every rewrite keeps the expression's type (checked), and a top-level `select`/`with_columns`
//! expression keeps its output name (an alias is added when folding would change it) and its
//! shape: a column expression is never folded into a lone scalar, which would turn a `select`
//! into a one-row aggregate.

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema};

use super::{transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::exec::eval::evaluate;
use crate::exec::value::{array_to_scalar, Value};
use crate::exec::Params;
use crate::expr::lookup::NameIndex;
use crate::expr::{BinaryOp, Expr, Scalar};
use crate::frame::DataFrame;
use crate::plan::LogicalPlan;

/// Folds constants and simplifies boolean expressions.
pub struct Simplify;

impl OptimizerRule for Simplify {
    fn name(&self) -> &'static str {
        "simplify"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut simplify_node)?;
        Ok(Transformed::compare(&plan, after))
    }
}

fn simplify_node(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let out = match node.as_ref() {
        LogicalPlan::Filter { input, predicate } => {
            let p = simplify(predicate.clone(), input.schema()?.as_ref());
            if p == Expr::Literal(Scalar::Boolean(true)) {
                return Ok(input.clone());
            }
            LogicalPlan::Filter {
                input: input.clone(),
                predicate: p,
            }
        }
        LogicalPlan::Scan {
            source,
            projection,
            predicate: Some(p),
            limit,
        } => {
            let p = simplify(p.clone(), source.schema()?.as_ref());
            LogicalPlan::Scan {
                source: source.clone(),
                projection: projection.clone(),
                predicate: (p != Expr::Literal(Scalar::Boolean(true))).then_some(p),
                limit: *limit,
            }
        }
        LogicalPlan::Select { input, exprs } | LogicalPlan::WithColumns { input, exprs } => {
            let schema = input.schema()?;
            let wide = Wide::new(&schema);
            let exprs = exprs
                .iter()
                .map(|e| simplify_top(e, wide.narrow(e).as_ref().unwrap_or(&schema)))
                .collect();
            match node.as_ref() {
                LogicalPlan::Select { .. } => LogicalPlan::Select {
                    input: input.clone(),
                    exprs,
                },
                _ => LogicalPlan::WithColumns {
                    input: input.clone(),
                    exprs,
                },
            }
        }
        LogicalPlan::Sort { input, .. }
        | LogicalPlan::Gather { input, .. }
        | LogicalPlan::Aggregates { input, .. } => {
            // Names and shapes of these expressions do not matter (sort keys, indices, one
            // value per aggregate), only their values.
            let schema = input.schema()?;
            let wide = Wide::new(&schema);
            node.map_expressions(&mut |e| {
                let narrow = wide.narrow(&e);
                simplify(e, narrow.as_ref().unwrap_or(&schema))
            })
        }
        _ => return Ok(node),
    };
    Ok(Arc::new(out))
}

/// A node's input schema, narrowed per expression when it is wide: simplifying types every
/// subexpression, and each type resolves its columns by name, which over a 10,000-column
/// schema (`with_columns([all_numeric().standardize()])`) is a scan per column per node.
struct Wide<'a>(Option<NameIndex<'a>>);

impl<'a> Wide<'a> {
    fn new(schema: &'a Schema) -> Self {
        Self((schema.fields().len() > 32).then(|| NameIndex::new(schema)))
    }

    /// A schema that types `e` as the whole one would (just the columns `e` reads), or `None`
    /// to use the whole one (a narrow schema, or `e` reads a column it lacks).
    fn narrow(&self, e: &Expr) -> Option<Schema> {
        self.0.as_ref().and_then(|i| i.narrow(e))
    }
}

/// Simplify a `select`/`with_columns` expression, keeping its name and its shape.
fn simplify_top(e: &Expr, schema: &Schema) -> Expr {
    let new = simplify(e.clone(), schema);
    if !e.is_scalar() && new.is_scalar() {
        return e.clone();
    }
    let name = e.output_name();
    if new.output_name() != name {
        return Expr::Alias(Box::new(new), name);
    }
    new
}

/// Simplify bottom-up.
pub(crate) fn simplify(e: Expr, schema: &Schema) -> Expr {
    // A bare column has nothing to simplify (and resolving its type is a by-name lookup:
    // skipping it keeps wide selects linear).
    if matches!(e, Expr::Column(_)) {
        return e;
    }
    let e = e.map_children(&mut |c| simplify(c, schema));
    let Ok(ty) = e.data_type(schema) else {
        return e;
    };
    match rewrite_one(&e, schema) {
        // Only a rewrite that keeps the type stands.
        Some(new) if new.data_type(schema).ok().as_ref() == Some(&ty) => new,
        _ => e,
    }
}

fn is_lit_bool(e: &Expr, b: bool) -> bool {
    matches!(e, Expr::Literal(Scalar::Boolean(v)) if *v == b)
}

fn boolean(e: &Expr, schema: &Schema) -> bool {
    e.data_type(schema).ok() == Some(DataType::Boolean)
}

/// One simplification step at the root of `e` (children are already simplified).
fn rewrite_one(e: &Expr, schema: &Schema) -> Option<Expr> {
    if let Some(v) = fold(e) {
        return Some(v);
    }
    match e {
        Expr::Binary { left, op, right } if op.is_logical() => {
            let (l, r) = (left.as_ref(), right.as_ref());
            let and = *op == BinaryOp::And;
            // The absorbing element: false for `&`, true for `|`.
            if is_lit_bool(l, !and) || is_lit_bool(r, !and) {
                return Some(Expr::Literal(Scalar::Boolean(!and)));
            }
            // The identity element: true for `&`, false for `|`.
            if is_lit_bool(r, and) && boolean(l, schema) {
                return Some(l.clone());
            }
            if is_lit_bool(l, and) && boolean(r, schema) {
                return Some(r.clone());
            }
            if l == r && boolean(l, schema) {
                return Some(l.clone());
            }
            None
        }
        Expr::Not(inner) => match inner.as_ref() {
            Expr::Not(x) if boolean(x, schema) => Some((**x).clone()),
            _ => None,
        },
        Expr::Negate(inner) => match inner.as_ref() {
            Expr::Negate(x) => Some((**x).clone()),
            _ => None,
        },
        Expr::Cast(inner, to) if inner.data_type(schema).ok().as_ref() == Some(to) => {
            Some((**inner).clone())
        }
        Expr::When {
            cond,
            then,
            otherwise,
        } => match cond.as_ref() {
            Expr::Literal(Scalar::Boolean(true)) => Some((**then).clone()),
            Expr::Literal(Scalar::Boolean(false)) | Expr::Literal(Scalar::Null) => {
                Some((**otherwise).clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Evaluate an expression made only of literals, or `None` if it is not one, fails, or gives
/// something other than one value.
fn fold(e: &Expr) -> Option<Expr> {
    if matches!(e, Expr::Literal(_) | Expr::Alias(..)) || !e.is_elementwise() {
        return None;
    }
    let mut constant = true;
    e.visit(&mut |n| {
        constant &= !matches!(
            n,
            Expr::Column(_)
                | Expr::Columns(_)
                | Expr::AllNumeric
                | Expr::Param { .. }
                | Expr::Agg { .. }
        )
    });
    if !constant {
        return None;
    }
    let value = match evaluate(e, &DataFrame::with_height(1), &Params::default()).ok()? {
        Value::Scalar(s) => s,
        Value::Array(a) if a.len() == 1 => array_to_scalar(a.as_ref(), 0).ok()?,
        Value::Array(_) => return None,
    };
    Some(Expr::Literal(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show};
    use crate::prelude::*;

    #[test]
    fn folds_constants_and_keeps_names() {
        let lf = frame().lazy().with_columns([
            col("a") + (lit(1.0) + lit(2.0)) * 2,
            (lit(10) - lit(4)).alias("k"),
            lit(2.0).sqrt().alias("r"),
        ]);
        insta::assert_snapshot!(show(&Simplify, &lf, None), @r#"
            WITH_COLUMNS [(col("a") + ((1.0 + 2.0) * 2)), (10 - 4).alias("k"), 2.0.sqrt().alias("r")]
              DATAFRAME rows=4 width=4
            =>
            WITH_COLUMNS [(col("a") + 6.0), 6.alias("k"), 1.4142135623730951.alias("r")]
              DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn boolean_identities_and_true_filters() {
        let lf = frame()
            .lazy()
            .filter(lit(1).lt(lit(2)))
            .filter(col("a").gt(0.0) & lit(true))
            .filter((col("c").eq(1) & lit(false)) | col("b").lt(1.0))
            .filter(!!col("c").gt(2) | lit(false));
        insta::assert_snapshot!(show(&Simplify, &lf, None), @r#"
            FILTER (!!col("c").gt(2) | false)
              FILTER ((col("c").eq(1) & false) | col("b").lt(1.0))
                FILTER (col("a").gt(0.0) & true)
                  FILTER 1.lt(2)
                    DATAFRAME rows=4 width=4
            =>
            FILTER col("c").gt(2)
              FILTER col("b").lt(1.0)
                FILTER col("a").gt(0.0)
                  DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn when_with_a_constant_condition_picks_its_branch() {
        let lf = frame().lazy().with_columns([
            when(lit(true))
                .then(col("a"))
                .otherwise(col("b"))
                .alias("t"),
            when(lit(1).gt(lit(2)))
                .then(col("a"))
                .otherwise(col("b"))
                .alias("f"),
        ]);
        insta::assert_snapshot!(show(&Simplify, &lf, None), @r#"
            WITH_COLUMNS [when(true).then(col("a")).otherwise(col("b")).alias("t"), when(1.gt(2)).then(col("a")).otherwise(col("b")).alias("f")]
              DATAFRAME rows=4 width=4
            =>
            WITH_COLUMNS [col("a").alias("t"), col("b").alias("f")]
              DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn does_not_fire_where_it_would_change_meaning() {
        let lf = frame()
            .lazy()
            // NaN: !(a > 0) keeps NaN rows, a <= 0 would not.
            .filter(!col("a").gt(0.0))
            // Would turn a column into a one-row scalar.
            .select([col("c").gt(1) & lit(false), col("a")])
            // A failing cast stays for run time to report.
            .with_columns([lit("x").cast(DataType::Int64).alias("bad")])
            // Integer `when` branches under a float `otherwise`: the type would change.
            .with_columns([when(lit(true)).then(lit(1)).otherwise(col("a")).alias("w")]);
        insta::assert_snapshot!(show(&Simplify, &lf, None), @r#"
            WITH_COLUMNS [when(true).then(1).otherwise(col("a")).alias("w")]
              WITH_COLUMNS ["x".cast(Int64).alias("bad")]
                SELECT [(col("c").gt(1) & false), col("a")]
                  FILTER !col("a").gt(0.0)
                    DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn wide_inputs_simplify_as_narrow_ones() {
        // Over more than 32 columns each expression is typed against just the columns it
        // reads; the rewrites must be the ones the whole schema gives.
        let names: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        let df = DataFrame::new(
            names
                .iter()
                .map(|n| Column::new(n.as_str(), vec![1.0, -2.0]))
                .collect(),
        )
        .unwrap();
        let lf = df.lazy().with_columns([
            (col("c39").gt(0.0) & lit(true)).alias("t"),
            col("c38").cast(DataType::Float64) + (lit(1.0) + lit(1.0)),
        ]);
        insta::assert_snapshot!(show(&Simplify, &lf, None), @r#"
            WITH_COLUMNS [(col("c39").gt(0.0) & true).alias("t"), (col("c38").cast(Float64) + (1.0 + 1.0))]
              DATAFRAME rows=2 width=40
            =>
            WITH_COLUMNS [col("c39").gt(0.0).alias("t"), (col("c38") + 2.0)]
              DATAFRAME rows=2 width=40
            "#);
    }
}
