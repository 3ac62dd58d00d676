//! The optimizer: an ordered list of rewrite rules, one per file, run to a fixed point.
//!
//! Each rule is a small struct implementing [`OptimizerRule`]: a name and a `rewrite` from plan
//! to plan that says whether it changed anything. The driver ([`optimize_traced`]) first
//! resolves the plan (selectors expanded, types checked), then runs the rule list in order,
//! pass after pass, until a whole pass changes nothing (or [`MAX_PASSES`]). After every rule it
//! checks that the plan still type-checks and that its output schema is unchanged (a rule that
//! breaks either is a bug, reported with the rule's name), and records the step for
//! `explain --verbose`: the rule's name and the plan text after it, or "unchanged".
//!
//! Rules are written so that a plan they cannot improve comes back unchanged (they compare
//! before and after rather than guessing), which is what makes the fixed point reachable.

mod aggregate_hoisting;
mod cse;
mod implied_join_filters;
mod predicate_pushdown;
mod projection_inlining;
mod projection_pushdown;
mod selective_joins_first;
mod semi_join_pushdown;
mod semi_join_reduction;
mod semi_join_transfer;
mod simplify;
mod slice_pushdown;
#[cfg(test)]
pub(crate) mod test_util;

pub use aggregate_hoisting::AggregateHoisting;
pub use cse::CommonSubexpressions;
pub use implied_join_filters::ImpliedJoinFilters;
pub use predicate_pushdown::PredicatePushdown;
pub use projection_inlining::ProjectionInlining;
pub use projection_pushdown::ProjectionPushdown;
pub use selective_joins_first::SelectiveJoinsFirst;
pub use semi_join_pushdown::SemiJoinPushdown;
pub use semi_join_reduction::SemiJoinReduction;
pub use semi_join_transfer::SemiJoinTransfer;
pub use simplify::Simplify;
pub use slice_pushdown::SlicePushdown;

use std::sync::Arc;

use arrow::datatypes::Schema;

use crate::error::{Error, Result};
use crate::expr::types::expand_selectors;
use crate::expr::Expr;
use crate::plan::{effective_keys, GroupOutput, LogicalPlan};

/// A plan and whether a rule changed it.
#[derive(Debug)]
pub struct Transformed<T> {
    /// The plan (changed or not).
    pub data: T,
    /// Whether the rule changed it.
    pub changed: bool,
}

impl<T> Transformed<T> {
    /// A changed result.
    #[cfg(test)]
    pub fn yes(data: T) -> Self {
        Self {
            data,
            changed: true,
        }
    }
}

impl Transformed<Arc<LogicalPlan>> {
    /// `after`, marked changed when its plan text differs from `before`'s. Rules that rebuild
    /// whole trees use this instead of tracking every edit.
    pub fn compare(before: &LogicalPlan, after: Arc<LogicalPlan>) -> Self {
        let changed = before.display_indent() != after.display_indent();
        Self {
            data: after,
            changed,
        }
    }
}

/// One rewrite rule.
pub trait OptimizerRule: Send + Sync {
    /// The rule's name as `explain --verbose` prints it.
    fn name(&self) -> &'static str;
    /// Rewrite the plan (or return it unchanged). The output schema must stay the same.
    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>>;
}

/// The rules in the order they run; why this order:
///
/// 1. `simplify` first, so every later rule sees folded constants and plain predicates (a
///    `filter(lit(true))` is gone before anything tries to push it).
/// 2. `implied_join_filters` before predicate pushdown: the filters a disjunction over a
///    join implies for its inputs are added right below the join, and predicate pushdown
///    then moves them into the inputs' scans in the same pass.
/// 3. `predicate_pushdown` next: filters move towards the scans (and into them) while the
///    plan still has its original shape, before slices are pinned to scans.
/// 4. `semi_join_pushdown` once filters have settled: a semi join over an inner join moves
///    into the inner join's right input, which makes that input a small filtered table...
/// 5. ...which `selective_joins_first` recognises (a cheap, filtered table estimated
///    smaller than the semi joins' tables) and joins before its left input's semi joins.
///    Both run before `semi_join_transfer`, which matches joins with a group-by input
///    that these two never create or move.
/// 6. `semi_join_transfer` once filters sit in the scans, so that it sees which tables are
///    filtered (a semi join against a filtered scan restricts a group-by on the other side
///    of a join before it groups).
/// 7. `semi_join_reduction` after them: it restricts a group-by joined on its keys to the
///    keys of the other side's reduced join result, the shape `semi_join_pushdown` and
///    `selective_joins_first` leave (the selective join first, the semi joins over it).
/// 8. `slice_pushdown` after it, because a slice must never pass a filter: once filters have
///    settled, a slice moves down through row-preserving nodes only.
/// 9. `aggregate_hoisting` before `cse`: it turns `x - x.mean()` into `x - $x_mean`, after
///    which the node is elementwise and its repeated subexpressions are visible to CSE.
/// 10. `cse` then computes repeated subexpressions once, as temporary columns.
/// 11. `projection_pushdown` after every rule that adds or removes expressions, so scans read
///     exactly the columns the final expressions use (including the temporaries and the
///     inputs of hoisted aggregates); it also turns `with_columns` whose extra columns nobody
///     reads into `select`s, which is the shape the next rule looks for.
/// 12. `projection_inlining` then writes an elementwise `select` below hoisted aggregates into
///     them and into the `select` above, so its columns are never materialized.
///
/// There is no fusion rule: lowering (`crate::physical`) turns every chain of elementwise
/// nodes over a source into one pipeline, which `explain_physical` shows.
pub fn rules() -> Vec<Box<dyn OptimizerRule>> {
    vec![
        Box::new(Simplify),
        Box::new(ImpliedJoinFilters),
        Box::new(PredicatePushdown),
        Box::new(SemiJoinPushdown),
        Box::new(SelectiveJoinsFirst),
        Box::new(SemiJoinTransfer),
        Box::new(SemiJoinReduction),
        Box::new(SlicePushdown),
        Box::new(AggregateHoisting),
        Box::new(CommonSubexpressions),
        Box::new(ProjectionPushdown),
        Box::new(ProjectionInlining),
    ]
}

/// Passes over the rule list before giving up on a fixed point (every rule here settles in two
/// or three; the cap guards against a rule that keeps reporting changes).
pub const MAX_PASSES: usize = 8;

/// Expand selectors (`cols`, `all_numeric`) everywhere and type-check the plan; what every plan
/// goes through before running, optimized or not.
pub fn resolve(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let inputs: Vec<Arc<LogicalPlan>> = plan
        .inputs()
        .into_iter()
        .map(resolve)
        .collect::<Result<_>>()?;
    let mut node = plan.with_inputs(inputs);
    match &mut node {
        LogicalPlan::Select { input, exprs } | LogicalPlan::WithColumns { input, exprs } => {
            *exprs = expand_selectors(exprs, input.schema()?.as_ref())?;
        }
        LogicalPlan::Join {
            left,
            right,
            left_on,
            right_on,
            ..
        } => {
            *left_on = expand_selectors(left_on, left.schema()?.as_ref())?;
            *right_on = expand_selectors(right_on, right.schema()?.as_ref())?;
        }
        LogicalPlan::GroupBy {
            input,
            keys,
            output,
        } => {
            let schema = input.schema()?;
            // `unique()`'s keys are every column: written out, so that pruning columns below
            // can never change which rows are duplicates.
            *keys = effective_keys(&expand_selectors(keys, &schema)?, output, &schema);
            if let GroupOutput::Aggregate(aggs) = output {
                // Selectors in aggregates leave the keys out (`all_numeric().sum()`).
                let names: Vec<String> = keys.iter().map(Expr::output_name).collect();
                let rest = Schema::new(
                    schema
                        .fields()
                        .iter()
                        .filter(|f| !names.contains(f.name()))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                *aggs = expand_selectors(aggs, &rest)?;
            }
        }
        _ => {}
    }
    node.schema()?;
    Ok(Arc::new(node))
}

/// Optimize a plan.
pub fn optimize(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    Ok(optimize_traced(plan)?.0)
}

/// One recorded optimizer step: the rule's label and the plan text after it (`None`: unchanged).
pub type Step = (String, Option<String>);

/// Optimize a plan, recording each rule application.
pub fn optimize_traced(plan: &Arc<LogicalPlan>) -> Result<(Arc<LogicalPlan>, Vec<Step>)> {
    optimize_with(plan, &rules())
}

/// Run `rules` in order to a fixed point over `plan`, recording each step.
pub fn optimize_with(
    plan: &Arc<LogicalPlan>,
    rules: &[Box<dyn OptimizerRule>],
) -> Result<(Arc<LogicalPlan>, Vec<Step>)> {
    let mut plan = resolve(plan)?;
    let schema = plan.schema()?;
    let mut steps = vec![];
    for pass in 0..MAX_PASSES {
        let mut changed_any = false;
        for rule in rules {
            let t = rule.rewrite(plan.clone())?;
            check_schema(rule.name(), &t.data, &schema)?;
            let label = format!("pass {} / {}", pass + 1, rule.name());
            if t.changed {
                steps.push((label, Some(t.data.display_indent())));
                changed_any = true;
            } else {
                steps.push((label, None));
            }
            plan = t.data;
        }
        if !changed_any {
            break;
        }
    }
    Ok((plan, steps))
}

/// The plan after `rule` must still type-check and produce exactly `schema`.
fn check_schema(
    rule: &str,
    plan: &LogicalPlan,
    schema: &arrow::datatypes::SchemaRef,
) -> Result<()> {
    let after = plan.schema().map_err(|e| {
        Error::Internal(format!(
            "optimizer rule {rule} produced an invalid plan: {e}"
        ))
    })?;
    if after != *schema {
        let names = |s: &arrow::datatypes::SchemaRef| {
            s.fields()
                .iter()
                .map(|f| format!("{}: {}", f.name(), f.data_type()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Error::Internal(format!(
            "optimizer rule {rule} changed the output schema from [{}] to [{}]",
            names(schema),
            names(&after)
        )));
    }
    Ok(())
}

/// Rebuild `plan` bottom-up: inputs first, then `f` on the node over its new inputs.
pub(crate) fn transform_up(
    plan: &Arc<LogicalPlan>,
    f: &mut dyn FnMut(Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>>,
) -> Result<Arc<LogicalPlan>> {
    let node = plan.map_inputs(|input| transform_up(input, f))?;
    f(node)
}

/// Column names of a schema, for rules that need to pick fresh names.
pub(crate) fn column_names(plan: &LogicalPlan) -> Result<Vec<String>> {
    Ok(plan
        .schema()?
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::test_util::frame;
    use super::*;
    use crate::prelude::*;

    /// A rule that breaks the schema, to see the driver name it.
    struct Broken;
    impl OptimizerRule for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
            Ok(Transformed::yes(Arc::new(LogicalPlan::Drop {
                input: plan,
                columns: vec!["a".into()],
            })))
        }
    }

    #[test]
    fn driver_names_a_rule_that_changes_the_schema() {
        let lf = frame().lazy();
        let err = optimize_with(lf.logical_plan(), &[Box::new(Broken)]).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"internal error (a bug in fusedframe): optimizer rule broken changed the output schema from [a: Float64, b: Float64, c: Int64, s: Utf8] to [b: Float64, c: Int64, s: Utf8]");
    }

    #[test]
    fn explain_verbose_lists_every_step() {
        let lf = frame()
            .lazy()
            .filter(col("a").gt(lit(1.0) + lit(1.0)))
            .select([col("a") * 2]);
        insta::assert_snapshot!(lf.explain_verbose().unwrap(), @r#"
            initial plan:
            SELECT [(col("a") * 2)]
              FILTER col("a").gt((1.0 + 1.0))
                DATAFRAME rows=4 width=4

            pass 1 / simplify:
            SELECT [(col("a") * 2)]
              FILTER col("a").gt(2.0)
                DATAFRAME rows=4 width=4

            pass 1 / implied_join_filters: unchanged

            pass 1 / predicate_pushdown: unchanged

            pass 1 / semi_join_pushdown: unchanged

            pass 1 / selective_joins_first: unchanged

            pass 1 / semi_join_transfer: unchanged

            pass 1 / semi_join_reduction: unchanged

            pass 1 / slice_pushdown: unchanged

            pass 1 / aggregate_hoisting: unchanged

            pass 1 / cse: unchanged

            pass 1 / projection_pushdown:
            SELECT [(col("a") * 2)]
              FILTER col("a").gt(2.0)
                DATAFRAME rows=4 width=4 columns=[a]

            pass 1 / projection_inlining: unchanged

            pass 2 / simplify: unchanged

            pass 2 / implied_join_filters: unchanged

            pass 2 / predicate_pushdown: unchanged

            pass 2 / semi_join_pushdown: unchanged

            pass 2 / selective_joins_first: unchanged

            pass 2 / semi_join_transfer: unchanged

            pass 2 / semi_join_reduction: unchanged

            pass 2 / slice_pushdown: unchanged

            pass 2 / aggregate_hoisting: unchanged

            pass 2 / cse: unchanged

            pass 2 / projection_pushdown: unchanged

            pass 2 / projection_inlining: unchanged

            optimized plan:
            SELECT [(col("a") * 2)]
              FILTER col("a").gt(2.0)
                DATAFRAME rows=4 width=4 columns=[a]
            "#);
    }

    #[test]
    fn the_seed_pipeline_plan() {
        let (dir, path) = super::test_util::sorted_parquet();
        let lf = scan_parquet(&path)
            .filter(col("g").gt(0))
            .with_columns([col("x").fill_nan_with(Fill::Mean).alias("xf")])
            .with_columns([col("xf").min_max_scale().alias("xs")])
            .with_columns([col("xs").rolling_mean(3).alias("xr")])
            .select([col("xr").arg_sort(SortOptions::default()).alias("order")]);
        let plan = optimize(lf.logical_plan()).unwrap();
        insta::assert_snapshot!(super::test_util::text(&plan, Some(&dir)), @r#"
            SELECT [col("xr").arg_sort(SortOptions::new()).alias("order")]
              SELECT [col("xs").rolling_mean(3).alias("xr")]
                SELECT [col("x").fill_nan($x_nan_mean).min_max_scale_with($xf_nan_min, $xf_nan_max).alias("xs")]
                  AGGREGATES [$xf_nan_min = col("x").fill_nan($x_nan_mean).nan_min(), $xf_nan_max = col("x").fill_nan($x_nan_mean).nan_max()]
                    AGGREGATES [$x_nan_mean = col("x").nan_mean()]
                      SCAN PARQUET path=TMP/t.parquet columns=[x] predicate=col("g").gt(0) row_groups=4/4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn fixed_point_is_reached() {
        let lf = frame()
            .lazy()
            .with_columns([(col("a") - col("a").mean()).alias("d")])
            .filter(col("d").gt(0.0))
            .select([col("d") * col("d")]);
        let (_, steps) = optimize_traced(lf.logical_plan()).unwrap();
        // The last pass changes nothing.
        let n = rules().len();
        assert!(steps.len() >= n && steps[steps.len() - n..].iter().all(|(_, s)| s.is_none()));
    }
}
