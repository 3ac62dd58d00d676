//! Row-count estimates of logical plans, from metadata and fixed guesses, for lowering's
//! choices: a join builds its hash table on the input estimated smaller.
//!
//! Scans know their row counts (Parquet footers, after row-group pruning) or guess them from
//! the file size; frames in memory know theirs. A filter keeps a fixed fraction per conjunct
//! (a tenth for an equality or `is_in`, a half otherwise), a slice at most its length, an
//! all-aggregate `select` one row, an inner join as many rows as its larger input (the usual
//! key to foreign key case). These are guesses, good enough to tell a dimension table from
//! a fact table, which is what picking a build side needs.

use crate::expr::{BinaryOp, Expr};
use crate::plan::{JoinType, LogicalPlan};

/// About how many rows `plan` gives (`None`: unknown).
pub(crate) fn estimated_rows(plan: &LogicalPlan) -> Option<f64> {
    let first = || plan.inputs().first().and_then(|i| estimated_rows(i));
    match plan {
        LogicalPlan::Scan {
            source,
            predicate,
            limit,
            ..
        } => {
            let mut n = source.estimated_rows(predicate.as_ref())? as f64;
            if let Some(p) = predicate {
                n *= selectivity(p);
            }
            Some(limit.map_or(n, |l| n.min(l as f64)))
        }
        LogicalPlan::InMemory { df, .. } => Some(df.height() as f64),
        LogicalPlan::Filter { predicate, .. } => Some(first()? * selectivity(predicate)),
        LogicalPlan::Slice { len, .. } => Some(first().map_or(*len as f64, |n| n.min(*len as f64))),
        LogicalPlan::Select { exprs, .. }
            if !exprs.is_empty() && exprs.iter().all(Expr::is_scalar) =>
        {
            Some(1.0)
        }
        LogicalPlan::Join {
            left, right, how, ..
        } => {
            let (l, r) = (estimated_rows(left)?, estimated_rows(right)?);
            Some(match how {
                JoinType::Inner => l.max(r),
                JoinType::Left => l,
                JoinType::Right => r,
                JoinType::Full => l + r,
                JoinType::Semi | JoinType::Anti => l * 0.5,
                JoinType::Cross => l * r,
            })
        }
        LogicalPlan::Concat { inputs } => inputs.iter().map(|i| estimated_rows(i)).sum(),
        _ => first(),
    }
}

/// About what fraction of its widest source's rows `plan` keeps (`None`: unknown): filters
/// and scan predicates keep their selectivity; a semi join keeps its left input's fraction
/// times its right input's (a left row's key is about as likely to be among the right's
/// kept keys as a right row is to be kept); an inner join its larger input's fraction times
/// the smaller's (key to foreign key: each row of the larger side matches one row of the
/// smaller, which survives with the smaller's fraction). A dimension table filtered to a tenth
/// thus makes a fact table joined with it a tenth, where [`estimated_rows`] keeps the fact
/// table whole (what picking a build side needs, not what telling a reduced join needs).
pub(crate) fn kept_fraction(plan: &LogicalPlan) -> Option<f64> {
    let first = || plan.inputs().first().and_then(|i| kept_fraction(i));
    match plan {
        LogicalPlan::Scan {
            predicate, limit, ..
        } => match limit {
            Some(_) => None,
            None => Some(predicate.as_ref().map_or(1.0, selectivity)),
        },
        LogicalPlan::InMemory { .. } => Some(1.0),
        LogicalPlan::Filter { predicate, .. } => Some(first()? * selectivity(predicate)),
        LogicalPlan::Select { exprs, .. } if exprs.iter().any(Expr::is_scalar) => None,
        LogicalPlan::Select { .. }
        | LogicalPlan::WithColumns { .. }
        | LogicalPlan::Drop { .. }
        | LogicalPlan::Rename { .. } => first(),
        LogicalPlan::Join {
            left, right, how, ..
        } => {
            let (l, r) = (kept_fraction(left)?, kept_fraction(right)?);
            match how {
                JoinType::Semi => Some(l * r),
                JoinType::Anti | JoinType::Left => Some(l),
                JoinType::Inner => Some(l * r),
                _ => None,
            }
        }
        _ => None,
    }
}

/// About how many rows `plan` gives, with inner and semi joins estimated as
/// [`kept_fraction`] does (the larger input's rows times the smaller's kept fraction) where
/// [`estimated_rows`] keeps the larger input whole.
pub(crate) fn kept_rows(plan: &LogicalPlan) -> Option<f64> {
    match plan {
        LogicalPlan::Join {
            left,
            right,
            how: JoinType::Inner,
            ..
        } => {
            let (l, r) = (kept_rows(left)?, kept_rows(right)?);
            Some(if l >= r {
                l * kept_fraction(right)?
            } else {
                r * kept_fraction(left)?
            })
        }
        LogicalPlan::Join {
            left,
            right,
            how: JoinType::Semi,
            ..
        } => Some(kept_rows(left)? * kept_fraction(right)?),
        _ => estimated_rows(plan),
    }
}

/// The fraction of rows a predicate is guessed to keep.
fn selectivity(p: &Expr) -> f64 {
    match p {
        Expr::Binary {
            left,
            op: BinaryOp::And,
            right,
        } => selectivity(left) * selectivity(right),
        Expr::Binary {
            left,
            op: BinaryOp::Or,
            right,
        } => (selectivity(left) + selectivity(right)).min(1.0),
        Expr::Binary {
            op: BinaryOp::Eq, ..
        } => 0.1,
        Expr::Function { func, .. } if func.name() == "is_in" => 0.1,
        _ => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Column, DataFrame};
    use crate::prelude::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn a_fact_table_joined_with_a_filtered_dimension_keeps_the_dimensions_fraction() {
        let facts = DataFrame::new(vec![
            Column::new("k", (0..1000i64).map(|i| i % 10).collect::<Vec<_>>()),
            Column::new("v", (0..1000i64).collect::<Vec<_>>()),
        ])
        .unwrap()
        .lazy();
        let dim = DataFrame::new(vec![
            Column::new("d", (0..10i64).collect::<Vec<_>>()),
            Column::new("name", (0..10).map(|i| format!("n{i}")).collect::<Vec<_>>()),
        ])
        .unwrap()
        .lazy();
        let few = dim.clone().filter(col("name").eq("n3"));
        let plan = |lf: LazyFrame| crate::optimizer::resolve(lf.logical_plan()).unwrap();
        let inner = plan(
            facts
                .clone()
                .join(few.clone(), [col("k")], [col("d")], JoinType::Inner),
        );
        // The plain estimate keeps the fact table whole; the kept one takes a tenth of it.
        assert!(close(estimated_rows(&inner), 1000.0));
        assert!(close(kept_fraction(&inner), 0.1));
        assert!(close(kept_rows(&inner), 100.0));
        // Either side may be the larger.
        let flipped =
            plan(
                few.clone()
                    .join(facts.clone(), [col("d")], [col("k")], JoinType::Inner),
            );
        assert!(close(kept_rows(&flipped), 100.0));
        let semi = plan(facts.clone().filter(col("v").gt(5)).join(
            few.clone(),
            [col("k")],
            [col("d")],
            JoinType::Semi,
        ));
        assert!(close(kept_fraction(&semi), 0.05));
        assert!(close(kept_rows(&semi), 50.0));
        // A left join keeps its left rows; an unfiltered dimension keeps every fact row.
        let left = plan(
            facts
                .clone()
                .join(few, [col("k")], [col("d")], JoinType::Left),
        );
        assert!(close(kept_fraction(&left), 1.0));
        let whole = plan(
            facts
                .clone()
                .join(dim, [col("k")], [col("d")], JoinType::Inner),
        );
        assert!(close(kept_fraction(&whole), 1.0));
        // A slice or an aggregate is not a fraction of a source.
        assert!(kept_fraction(&plan(facts.clone().head(5))).is_none());
        assert!(kept_fraction(&plan(facts.select([col("v").sum()]))).is_none());
    }
}
