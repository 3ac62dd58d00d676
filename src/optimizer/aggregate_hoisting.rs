//! Aggregate hoisting: the scalar aggregates a `select`, `with_columns` or `filter` uses inside
//! column expressions (`x - x.mean()`, `(x - x.min()) / (x.max() - x.min())`,
//! `filter(x > x.nan_mean())`) move into one `AGGREGATES` node below it, which computes all of
//! them together in one pass over its input, each distinct aggregate once. The node above then
//! reads them as parameters (`$x_mean`) and is elementwise, so it runs morsel by morsel (and
//! fuses with its neighbours) instead of materializing its input to evaluate each aggregate
//! separately.
//!
//! An all-scalar `select` (`select([x.sum(), x.mean()])`) is already a one-pass streaming
//! aggregation; only aggregates nested inside another aggregate's argument are hoisted out of
//! it (`(x - x.mean()).abs().mean()` needs `x.mean()` first). Hoisting goes innermost first:
//! an aggregate whose argument holds another aggregate waits for the next pass, above the
//! node that computes the inner one.
//!
//! Functions that compute a statistic of their own input first say so here, so it is hoisted
//! like any aggregate (with the same kernels, so the bits do not change):
//! - `x.min_max_scale()` is `x.min_max_scale_with(x.nan_min(), x.nan_max())`;
//! - `x.fill_nan_with(Fill::Mean)` (or `Median`, `Min`, `Max`) on a Float64 column is
//!   `x.fill_nan(x.nan_mean())`; for `Min`/`Max`, whose statistic is null when the column has
//!   no valid value, `x.fill_nan(x.nan_min().fill_null(NaN))` (a NaN fill changes nothing, as
//!   the function leaves such a column alone).
//!
//! - `x.standardize()` is `x.standardize_with(x.nan_mean(), x.nan_std(0), x.nan_min(),
//!   x.nan_max())` (`min == max` tells a constant column, which a rounded `std` cannot). The
//!   streamed statistics merge per morsel where the whole-column kernel merges fixed chunks,
//!   so a value may differ from the unoptimized plan's in the last bits (the optimizer's
//!   property test compares within 1e-12 relative); what this buys is that standardizing a
//!   file streams it (two passes) instead of holding it whole, which a 10,000 x 10,000
//!   matrix under a memory budget needs. Plans are always optimized the same way, so results
//!   stay the same bytes for any thread count.
//!
//! Parameter names are `<input name>_<aggregate>` (`x_nan_mean`), made unique across the plan
//! because the executor binds each name in every node above its `AGGREGATES`.
//!
//! An aggregate inside `over(..)` is left alone, and so is a scaler or fill there: it is
//! computed per group (`x.mean().over([g])` is each group's mean), so hoisting it would
//! compute it over all rows instead.

use std::collections::HashSet;
use std::sync::Arc;

use super::{transform_up, OptimizerRule, Transformed};
use arrow::datatypes::{DataType, Schema};

use crate::error::Result;
use crate::expr::lookup::{DistinctExprs, NameIndex};
use crate::expr::{AggFunc, Expr, Fill, FillFunction, Function, Scalar, ScaleFunction};
use crate::plan::LogicalPlan;

/// Moves the aggregates used by column expressions into one `AGGREGATES` node below.
pub struct AggregateHoisting;

impl OptimizerRule for AggregateHoisting {
    fn name(&self) -> &'static str {
        "aggregate_hoisting"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let mut taken = param_names(&plan);
        let after = transform_up(&plan, &mut |node| hoist(node, &mut taken))?;
        // Aggregates whose values nobody reads any more (projection pushdown dropped the
        // expression that used them) go, and so does a node left with none.
        let mut used = HashSet::new();
        params_used(&after, &mut used);
        let after = transform_up(&after, &mut |node| Ok(prune(node, &used)))?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// Every parameter name read by an expression anywhere in the plan.
fn params_used(plan: &LogicalPlan, out: &mut HashSet<String>) {
    for e in plan.expressions() {
        e.visit(&mut |n| {
            if let Expr::Param { name, .. } = n {
                out.insert(name.clone());
            }
        });
    }
    for i in plan.inputs() {
        params_used(i, out);
    }
}

fn prune(node: Arc<LogicalPlan>, used: &HashSet<String>) -> Arc<LogicalPlan> {
    let LogicalPlan::Aggregates { input, aggs } = node.as_ref() else {
        return node;
    };
    if aggs.iter().all(|(n, _)| used.contains(n)) {
        return node;
    }
    let aggs: Vec<(String, Expr)> = aggs
        .iter()
        .filter(|(n, _)| used.contains(n))
        .cloned()
        .collect();
    if aggs.is_empty() {
        return input.clone();
    }
    Arc::new(LogicalPlan::Aggregates {
        input: input.clone(),
        aggs,
    })
}

/// Every parameter name defined anywhere in the plan.
fn param_names(plan: &LogicalPlan) -> HashSet<String> {
    let mut names = HashSet::new();
    if let LogicalPlan::Aggregates { aggs, .. } = plan {
        names.extend(aggs.iter().map(|(n, _)| n.clone()));
    }
    for i in plan.inputs() {
        names.extend(param_names(i));
    }
    names
}

/// The innermost aggregates in `e` (those whose argument holds no aggregate); with
/// `nested_only`, only those inside another aggregate's argument.
fn innermost(e: &Expr, nested_only: bool, inside: bool, out: &mut DistinctExprs) {
    match e {
        // Per group, not over all rows.
        Expr::Over { .. } => {}
        Expr::Agg { expr, .. } if !expr.has_aggregate() => {
            if !nested_only || inside {
                out.insert(e);
            }
        }
        Expr::Agg { expr, .. } => innermost(expr, nested_only, true, out),
        other => {
            for c in other.children() {
                innermost(c, nested_only, inside, out);
            }
        }
    }
}

/// A readable, unused parameter name for `agg`.
fn fresh_name(agg: &Expr, taken: &HashSet<String>) -> String {
    let base = match agg {
        Expr::Agg { func, expr } => {
            let stem: String = expr
                .output_name()
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect();
            format!("{stem}_{}", func.name())
        }
        _ => "agg".to_string(),
    };
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|k| format!("{base}_{k}"))
        .find(|n| !taken.contains(n))
        .unwrap_or(base)
}

/// `e` with the functions that compute their own statistic written with explicit aggregates
/// (see the module docs); only over elementwise inputs, which are cheap to evaluate twice.
fn expand(e: &Expr, schema: &Schema) -> Expr {
    if let Expr::Over { .. } = e {
        // Its statistics are per group.
        return e.clone();
    }
    let e = e.clone().map_children(&mut |c| expand(&c, schema));
    expand_one(e, schema)
}

/// [`expand`] at the root of `e` only (its children are done).
fn expand_one(n: Expr, schema: &Schema) -> Expr {
    let Expr::Function { func, args } = &n else {
        return n;
    };
    let [x] = args.as_slice() else {
        return n;
    };
    if !x.is_elementwise() || x.has_aggregate() {
        return n;
    }
    let agg = |func: AggFunc| Expr::Agg {
        func,
        expr: Box::new(x.clone()),
    };
    match func {
        Function::Scale(ScaleFunction::MinMax { lo, hi }) => Expr::call(
            ScaleFunction::MinMaxWith { lo: *lo, hi: *hi },
            vec![x.clone(), agg(AggFunc::NanMin), agg(AggFunc::NanMax)],
        ),
        Function::Scale(ScaleFunction::Standardize) => Expr::call(
            ScaleFunction::StandardizeWith,
            vec![
                x.clone(),
                agg(AggFunc::NanMean),
                agg(AggFunc::NanStd(0)),
                agg(AggFunc::NanMin),
                agg(AggFunc::NanMax),
            ],
        ),
        Function::Fill(FillFunction::NanWith(fill))
            if x.data_type(schema).ok() == Some(DataType::Float64) =>
        {
            let stat = match fill {
                Fill::Mean => agg(AggFunc::NanMean),
                Fill::Median => agg(AggFunc::NanMedian),
                Fill::Min | Fill::Max => Expr::call(
                    FillFunction::Null,
                    vec![
                        agg(if *fill == Fill::Min {
                            AggFunc::NanMin
                        } else {
                            AggFunc::NanMax
                        }),
                        Expr::Literal(Scalar::Float64(f64::NAN)),
                    ],
                ),
                _ => return n,
            };
            Expr::call(FillFunction::Nan, vec![x.clone(), stat])
        }
        _ => n,
    }
}

/// `e` with each hoisted aggregate (the `j`-th of `aggs` becomes `params[j]`) replaced by
/// its parameter, except inside `over(..)`.
fn with_params(e: Expr, aggs: &DistinctExprs, params: &[Expr]) -> Expr {
    if let Expr::Agg { .. } = e {
        if let Some(j) = aggs.position(&e) {
            return params[j].clone();
        }
    }
    match e {
        over @ Expr::Over { .. } => over,
        other => other.map_children(&mut |c| with_params(c, aggs, params)),
    }
}

fn hoist(node: Arc<LogicalPlan>, taken: &mut HashSet<String>) -> Result<Arc<LogicalPlan>> {
    let (input, exprs): (&Arc<LogicalPlan>, Vec<&Expr>) = match node.as_ref() {
        LogicalPlan::Select { input, exprs } | LogicalPlan::WithColumns { input, exprs } => {
            (input, exprs.iter().collect())
        }
        LogicalPlan::Filter { input, predicate } => (input, vec![predicate]),
        _ => return Ok(node),
    };
    let schema = input.schema()?;
    let all_scalar =
        matches!(node.as_ref(), LogicalPlan::Select { .. }) && exprs.iter().all(|e| e.is_scalar());
    let exprs: Vec<Expr> = exprs.iter().map(|e| expand(e, &schema)).collect();
    let mut aggs = DistinctExprs::default();
    for e in &exprs {
        innermost(e, all_scalar, false, &mut aggs);
    }
    if aggs.as_slice().is_empty() {
        return Ok(node);
    }
    let names = NameIndex::new(&schema);
    let mut params: Vec<Expr> = vec![];
    let mut named: Vec<(String, Expr)> = vec![];
    for a in aggs.as_slice() {
        let name = fresh_name(a, taken);
        taken.insert(name.clone());
        params.push(Expr::Param {
            name: name.clone(),
            dtype: names.data_type(a)?,
        });
        named.push((name, a.clone()));
    }
    let below = Arc::new(LogicalPlan::Aggregates {
        input: input.clone(),
        aggs: named,
    });
    let replace = |e: &Expr, keep_name: bool| -> Expr {
        let out = with_params(e.clone(), &aggs, &params);
        let name = e.output_name();
        if keep_name && out.output_name() != name {
            Expr::Alias(Box::new(out), name)
        } else {
            out
        }
    };
    let out = match node.as_ref() {
        LogicalPlan::Select { .. } => LogicalPlan::Select {
            input: below,
            exprs: exprs.iter().map(|e| replace(e, true)).collect(),
        },
        LogicalPlan::WithColumns { .. } => LogicalPlan::WithColumns {
            input: below,
            exprs: exprs.iter().map(|e| replace(e, true)).collect(),
        },
        LogicalPlan::Filter { .. } => LogicalPlan::Filter {
            input: below,
            predicate: replace(&exprs[0], false),
        },
        _ => return Ok(node),
    };
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show};
    use crate::prelude::*;

    #[test]
    fn scaler_aggregates_are_computed_once_below() {
        let a = || col("a");
        let lf = frame().lazy().with_columns([
            ((a() - a().nan_min()) / (a().nan_max() - a().nan_min())).alias("scaled"),
            a().fill_nan(a().nan_mean()).alias("filled"),
        ]);
        insta::assert_snapshot!(show(&AggregateHoisting, &lf, None), @r#"
            WITH_COLUMNS [((col("a") - col("a").nan_min()) / (col("a").nan_max() - col("a").nan_min())).alias("scaled"), col("a").fill_nan(col("a").nan_mean()).alias("filled")]
              DATAFRAME rows=4 width=4
            =>
            WITH_COLUMNS [((col("a") - $a_nan_min) / ($a_nan_max - $a_nan_min)).alias("scaled"), col("a").fill_nan($a_nan_mean).alias("filled")]
              AGGREGATES [$a_nan_min = col("a").nan_min(), $a_nan_max = col("a").nan_max(), $a_nan_mean = col("a").nan_mean()]
                DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn scalers_and_fills_hoist_their_statistics() {
        let lf = frame()
            .lazy()
            .with_columns([col("a").fill_nan_with(Fill::Mean).alias("af")])
            .with_columns([
                col("af").min_max_scale().alias("s"),
                col("b").fill_nan_with(Fill::Max).alias("bf"),
                // Not rewritten: the forward fill needs its neighbours.
                col("b").fill_nan_with(Fill::Forward).alias("fw"),
                col("c").standardize().alias("z"),
            ]);
        let plan =
            crate::optimizer::optimize_with(lf.logical_plan(), &[Box::new(AggregateHoisting)])
                .unwrap()
                .0;
        insta::assert_snapshot!(plan.display_indent(), @r#"
            WITH_COLUMNS [col("af").min_max_scale_with($af_nan_min, $af_nan_max).alias("s"), col("b").fill_nan($b_nan_max.fill_null(f64::NAN)).alias("bf"), col("b").fill_nan_with(Fill::Forward).alias("fw"), col("c").standardize_with($c_nan_mean, $c_nan_std, $c_nan_min, $c_nan_max).alias("z")]
              AGGREGATES [$af_nan_min = col("af").nan_min(), $af_nan_max = col("af").nan_max(), $b_nan_max = col("b").nan_max(), $c_nan_mean = col("c").nan_mean(), $c_nan_std = col("c").nan_std(0), $c_nan_min = col("c").nan_min(), $c_nan_max = col("c").nan_max()]
                WITH_COLUMNS [col("a").fill_nan($a_nan_mean).alias("af")]
                  AGGREGATES [$a_nan_mean = col("a").nan_mean()]
                    DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn filters_with_aggregates() {
        let lf = frame().lazy().filter(col("b").gt(col("b").mean()));
        insta::assert_snapshot!(show(&AggregateHoisting, &lf, None), @r#"
            FILTER col("b").gt(col("b").mean())
              DATAFRAME rows=4 width=4
            =>
            FILTER col("b").gt($b_mean)
              AGGREGATES [$b_mean = col("b").mean()]
                DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn nested_aggregates_hoist_innermost_first() {
        let lf = frame()
            .lazy()
            .select([(col("b") - col("b").mean()).abs().mean().alias("mad")]);
        insta::assert_snapshot!(show(&AggregateHoisting, &lf, None), @r#"
            SELECT [(col("b") - col("b").mean()).abs().mean().alias("mad")]
              DATAFRAME rows=4 width=4
            =>
            SELECT [(col("b") - $b_mean).abs().mean().alias("mad")]
              AGGREGATES [$b_mean = col("b").mean()]
                DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn plain_aggregations_and_names_in_use() {
        // An all-scalar select streams already: unchanged.
        let lf = frame().lazy().select([col("a").sum(), col("b").mean()]);
        insta::assert_snapshot!(show(&AggregateHoisting, &lf, None), @r#"
            SELECT [col("a").sum(), col("b").mean()]
              DATAFRAME rows=4 width=4
            => unchanged
            "#);
        // Two aggregates whose natural names clash get distinct ones.
        let lf = frame().lazy().with_columns([
            (col("c") - col("c").std(0)).alias("s0"),
            (col("c") - col("c").std(1)).alias("s1"),
        ]);
        insta::assert_snapshot!(show(&AggregateHoisting, &lf, None), @r#"
            WITH_COLUMNS [(col("c") - col("c").std(0)).alias("s0"), (col("c") - col("c").std(1)).alias("s1")]
              DATAFRAME rows=4 width=4
            =>
            WITH_COLUMNS [(col("c") - $c_std).alias("s0"), (col("c") - $c_std_2).alias("s1")]
              AGGREGATES [$c_std = col("c").std(0), $c_std_2 = col("c").std(1)]
                DATAFRAME rows=4 width=4
            "#);
    }

    /// Hoisting `x.mean()` out of `x.mean().over([g])` would give every row the mean of all
    /// rows instead of its group's.
    #[test]
    fn aggregates_inside_over_are_left_alone() {
        let lf = frame().lazy().with_columns([
            (col("b") - col("b").mean()).alias("d"),
            (col("b") - col("b").mean()).over([col("c")]).alias("dg"),
            col("b").min_max_scale().over([col("s")]).alias("sg"),
        ]);
        insta::assert_snapshot!(show(&AggregateHoisting, &lf, None), @r#"
            WITH_COLUMNS [(col("b") - col("b").mean()).alias("d"), (col("b") - col("b").mean()).over([col("c")]).alias("dg"), col("b").min_max_scale().over([col("s")]).alias("sg")]
              DATAFRAME rows=4 width=4
            =>
            WITH_COLUMNS [(col("b") - $b_mean).alias("d"), (col("b") - col("b").mean()).over([col("c")]).alias("dg"), col("b").min_max_scale().over([col("s")]).alias("sg")]
              AGGREGATES [$b_mean = col("b").mean()]
                DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
        let out = lf.collect().unwrap();
        // Each of `c`'s groups has one row: its deviation from its own mean is 0 (or null).
        assert_eq!(
            out.column_f64("dg").unwrap(),
            vec![Some(0.0), Some(0.0), Some(0.0), None]
        );
    }
}
