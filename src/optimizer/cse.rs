//! Common subexpression elimination: a subexpression that a `select`, `with_columns` or
//! `filter` computes more than once is computed once, as a temporary column (`__cse_0`, ...)
//! of a `with_columns` below the node, and read back by name.
//!
//! Candidates are column-valued subexpressions other than bare columns, literals and
//! parameters; scalar ones (aggregates) are left to aggregate hoisting, which already computes
//! each distinct aggregate once. The largest repeated subexpressions are taken first; repeats
//! inside them are found on the next pass, in the new `with_columns`. A `select` drops the
//! temporaries by itself; after a `with_columns` or `filter` a `drop` removes them, so the
//! node's schema is unchanged. Expressions of one node are evaluated against the same input,
//! so computing a shared part first changes no value (every branch of a `when` is evaluated
//! anyway). The inside of an `over(..)` is not looked into: it runs on each group's rows, where
//! a window or aggregate means something else than over all rows (the `over` as a whole may
//! be shared).

use std::collections::HashMap;
use std::sync::Arc;

use super::{column_names, transform_up, OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::{col, Expr};
use crate::plan::LogicalPlan;

/// Computes repeated subexpressions once.
pub struct CommonSubexpressions;

impl OptimizerRule for CommonSubexpressions {
    fn name(&self) -> &'static str {
        "cse"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = transform_up(&plan, &mut eliminate)?;
        Ok(Transformed::compare(&plan, after))
    }
}

fn is_candidate(e: &Expr) -> bool {
    !matches!(
        e,
        Expr::Column(_) | Expr::Literal(_) | Expr::Param { .. } | Expr::Alias(..)
    ) && !e.is_scalar()
        && !e.columns_used().is_empty()
}

fn size(e: &Expr) -> usize {
    let mut n = 0;
    e.visit(&mut |_| n += 1);
    n
}

/// The largest subexpressions that occur at least twice in `exprs`, none inside another.
fn repeated(exprs: &[&Expr]) -> Vec<Expr> {
    // Debug text is a faithful structural key (Expr has no Hash: it holds floats).
    let mut counts: HashMap<String, (usize, Expr)> = HashMap::new();
    for e in exprs {
        visit_outside_over(e, &mut |n| {
            if is_candidate(n) {
                counts
                    .entry(format!("{n:?}"))
                    .or_insert_with(|| (0, n.clone()))
                    .0 += 1;
            }
        });
    }
    let mut reps: Vec<Expr> = counts
        .into_values()
        .filter(|(c, _)| *c >= 2)
        .map(|(_, e)| e)
        .collect();
    // Largest first; ties in plan-text order, so the temporaries' numbering is stable.
    reps.sort_by_key(|e| (std::cmp::Reverse(size(e)), e.to_string()));
    let mut chosen: Vec<Expr> = vec![];
    for r in reps {
        let mut inside = false;
        for c in &chosen {
            visit_outside_over(c, &mut |n| inside |= *n == r);
        }
        if !inside {
            chosen.push(r);
        }
    }
    chosen
}

/// Visit every node of `e`, parents first, but not the inside of an `over(..)`.
fn visit_outside_over(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    if !matches!(e, Expr::Over { .. }) {
        for c in e.children() {
            visit_outside_over(c, f);
        }
    }
}

/// `e` with each chosen subexpression replaced by its temporary column; with `keep_name`
/// (for `select`/`with_columns` outputs) under `e`'s own name.
fn replace(e: &Expr, chosen: &[(Expr, String)], keep_name: bool) -> Expr {
    fn go(e: Expr, chosen: &[(Expr, String)]) -> Expr {
        if let Some((_, name)) = chosen.iter().find(|(c, _)| *c == e) {
            return col(name.as_str());
        }
        if matches!(e, Expr::Over { .. }) {
            return e;
        }
        e.map_children(&mut |c| go(c, chosen))
    }
    let out = go(e.clone(), chosen);
    let name = e.output_name();
    if keep_name && out.output_name() != name {
        Expr::Alias(Box::new(out), name)
    } else {
        out
    }
}

fn eliminate(node: Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let (input, exprs) = match node.as_ref() {
        LogicalPlan::Select { input, exprs } | LogicalPlan::WithColumns { input, exprs } => {
            (input, exprs.iter().collect::<Vec<_>>())
        }
        LogicalPlan::Filter { input, predicate } => (input, vec![predicate]),
        _ => return Ok(node),
    };
    let reps = repeated(&exprs);
    if reps.is_empty() {
        return Ok(node);
    }
    // Temporaries must not shadow an input column, nor one of this node's own outputs (on a
    // later pass the node may be an earlier pass's `with_columns` of temporaries).
    let mut taken = column_names(input)?;
    taken.extend(exprs.iter().map(|e| e.output_name()));
    let mut chosen: Vec<(Expr, String)> = vec![];
    let mut k = 0;
    for r in reps {
        let name = loop {
            let n = format!("__cse_{k}");
            k += 1;
            if !taken.contains(&n) {
                break n;
            }
        };
        chosen.push((r, name));
    }
    let temps: Vec<String> = chosen.iter().map(|(_, n)| n.clone()).collect();
    let below = Arc::new(LogicalPlan::WithColumns {
        input: input.clone(),
        exprs: chosen
            .iter()
            .map(|(e, n)| e.clone().alias(n.as_str()))
            .collect(),
    });
    let rewritten = |es: &[Expr]| es.iter().map(|e| replace(e, &chosen, true)).collect();
    let out = match node.as_ref() {
        LogicalPlan::Select { exprs, .. } => LogicalPlan::Select {
            input: below,
            exprs: rewritten(exprs),
        },
        LogicalPlan::WithColumns { exprs, .. } => LogicalPlan::Drop {
            input: Arc::new(LogicalPlan::WithColumns {
                input: below,
                exprs: rewritten(exprs),
            }),
            columns: temps,
        },
        LogicalPlan::Filter { predicate, .. } => LogicalPlan::Drop {
            input: Arc::new(LogicalPlan::Filter {
                input: below,
                predicate: replace(predicate, &chosen, false),
            }),
            columns: temps,
        },
        _ => return Ok(node),
    };
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::resolve;
    use crate::optimizer::test_util::{frame, show};
    use crate::plan::LazyFrame;

    #[test]
    fn repeated_subexpressions_are_computed_once() {
        let ab = || (col("a") + col("b")).abs();
        let lf = frame().lazy().with_columns([
            (ab() * 2).alias("double"),
            (ab() / col("c")).alias("ratio"),
            ab(),
        ]);
        insta::assert_snapshot!(show(&CommonSubexpressions, &lf, None), @r#"
            WITH_COLUMNS [((col("a") + col("b")).abs() * 2).alias("double"), ((col("a") + col("b")).abs() / col("c")).alias("ratio"), (col("a") + col("b")).abs()]
              DATAFRAME rows=4 width=4
            =>
            DROP [__cse_0]
              WITH_COLUMNS [(col("__cse_0") * 2).alias("double"), (col("__cse_0") / col("c")).alias("ratio"), col("__cse_0").alias("a")]
                WITH_COLUMNS [(col("a") + col("b")).abs().alias("__cse_0")]
                  DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn in_selects_and_filters() {
        let lf = frame()
            .lazy()
            .filter((col("a") * col("b")).gt(1.0) | (col("a") * col("b")).lt(-1.0))
            .select([
                (col("a") - col("b")).sqrt(),
                (col("a") - col("b")).exp().alias("e"),
            ]);
        insta::assert_snapshot!(show(&CommonSubexpressions, &lf, None), @r#"
            SELECT [(col("a") - col("b")).sqrt(), (col("a") - col("b")).exp().alias("e")]
              FILTER ((col("a") * col("b")).gt(1.0) | (col("a") * col("b")).lt(-1.0))
                DATAFRAME rows=4 width=4
            =>
            SELECT [col("__cse_0").sqrt().alias("a"), col("__cse_0").exp().alias("e")]
              WITH_COLUMNS [(col("a") - col("b")).alias("__cse_0")]
                DROP [__cse_0]
                  FILTER (col("__cse_0").gt(1.0) | col("__cse_0").lt(-1.0))
                    WITH_COLUMNS [(col("a") * col("b")).alias("__cse_0")]
                      DATAFRAME rows=4 width=4
            "#);
    }

    #[test]
    fn repeats_inside_temporaries_get_names_of_their_own() {
        // Pass 1 makes `__cse_0` and `__cse_1`, which share `(a + b).abs()`; pass 2 must name
        // that one `__cse_2`, not reuse a name the node itself outputs.
        let ab = || (col("a") + col("b")).abs();
        let lf = frame().lazy().with_columns([
            (ab() * 2).sqrt().alias("p"),
            (ab() * 2).exp().alias("q"),
            (ab() * 3).sqrt().alias("r"),
            (ab() * 3).exp().alias("t"),
        ]);
        let once = CommonSubexpressions
            .rewrite(resolve(lf.logical_plan()).expect("resolve"))
            .expect("pass 1")
            .data;
        let twice = LazyFrame::from_plan(once.as_ref().clone());
        insta::assert_snapshot!(show(&CommonSubexpressions, &twice, None), @r#"
            DROP [__cse_0, __cse_1]
              WITH_COLUMNS [col("__cse_0").sqrt().alias("p"), col("__cse_0").exp().alias("q"), col("__cse_1").sqrt().alias("r"), col("__cse_1").exp().alias("t")]
                WITH_COLUMNS [((col("a") + col("b")).abs() * 2).alias("__cse_0"), ((col("a") + col("b")).abs() * 3).alias("__cse_1")]
                  DATAFRAME rows=4 width=4
            =>
            DROP [__cse_0, __cse_1]
              WITH_COLUMNS [col("__cse_0").sqrt().alias("p"), col("__cse_0").exp().alias("q"), col("__cse_1").sqrt().alias("r"), col("__cse_1").exp().alias("t")]
                DROP [__cse_2]
                  WITH_COLUMNS [(col("__cse_2") * 2).alias("__cse_0"), (col("__cse_2") * 3).alias("__cse_1")]
                    WITH_COLUMNS [(col("a") + col("b")).abs().alias("__cse_2")]
                      DATAFRAME rows=4 width=4
            "#);
        twice.collect().expect("the plan after two passes runs");
    }

    #[test]
    fn leaves_aggregates_and_single_uses_alone() {
        let lf = frame().lazy().select([
            (col("a") - col("a").mean()).alias("d"),
            (col("b") - col("a").mean()).alias("e"),
            (col("a") + 1).alias("f"),
        ]);
        insta::assert_snapshot!(show(&CommonSubexpressions, &lf, None), @r#"
            SELECT [(col("a") - col("a").mean()).alias("d"), (col("b") - col("a").mean()).alias("e"), (col("a") + 1).alias("f")]
              DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn the_inside_of_over_is_not_shared() {
        let lf = frame().lazy().with_columns([
            col("a").rolling_mean(2).alias("r"),
            (col("a").rolling_mean(2) * 2).alias("r2"),
            col("a").rolling_mean(2).over([col("c")]).alias("rg"),
        ]);
        insta::assert_snapshot!(show(&CommonSubexpressions, &lf, None), @r#"
            WITH_COLUMNS [col("a").rolling_mean(2).alias("r"), (col("a").rolling_mean(2) * 2).alias("r2"), col("a").rolling_mean(2).over([col("c")]).alias("rg")]
              DATAFRAME rows=4 width=4
            =>
            DROP [__cse_0]
              WITH_COLUMNS [col("__cse_0").alias("r"), (col("__cse_0") * 2).alias("r2"), col("a").rolling_mean(2).over([col("c")]).alias("rg")]
                WITH_COLUMNS [col("a").rolling_mean(2).alias("__cse_0")]
                  DATAFRAME rows=4 width=4
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }
}
