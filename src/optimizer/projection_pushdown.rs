//! Projection pushdown: find the columns each node's consumers need and tell sources to read
//! only those, dropping `with_columns` outputs and `select` expressions nobody uses.
//!
//! A `with_columns` whose output carries columns nobody above reads becomes a `select` of just
//! the needed ones: the unused columns would otherwise be copied at every point where the
//! plan materializes (sorts, windows, hoisted aggregates). The root keeps its full schema.
//!
//! A join asks each input for the columns of its own that are needed above and its key
//! columns (a left column whose name a needed right column shares stays too, so that the
//! right one keeps its `_right` name); a concat asks every input for the same columns.
//!
//! Below a grouping, only the keys' columns and those of the aggregates someone reads are
//! needed (aggregates nobody reads go); `head` per group and `unique` pass on what is read
//! above plus their keys.

use std::sync::Arc;

use super::{OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::{effective_keys, GroupOutput, JoinColumn, LogicalPlan};

/// Reads only the columns a query uses.
pub struct ProjectionPushdown;

impl OptimizerRule for ProjectionPushdown {
    fn name(&self) -> &'static str {
        "projection_pushdown"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let after = push(&plan, None)?;
        Ok(Transformed::compare(&plan, after))
    }
}

/// Append the columns not yet in `required`, in order (a set keeps this linear for wide
/// selects of thousands of columns).
fn add(required: &mut Vec<String>, cols: impl IntoIterator<Item = String>) {
    let mut seen: std::collections::HashSet<String> = required.iter().cloned().collect();
    for c in cols {
        if seen.insert(c.clone()) {
            required.push(c);
        }
    }
}

/// The names as a set, for membership tests that stay linear over wide schemas.
fn names(v: &[String]) -> std::collections::HashSet<&str> {
    v.iter().map(String::as_str).collect()
}

fn expr_cols<'a>(exprs: impl IntoIterator<Item = &'a Expr>) -> Vec<String> {
    let mut out = vec![];
    add(&mut out, exprs.into_iter().flat_map(Expr::columns_used));
    out
}

/// A `select` standing for `node` (a pruned `with_columns`) that outputs only the `required`
/// columns, in the order the original node (`original` schema) had them; `None` when `node`
/// already outputs exactly that. (A column the node replaces may have been pruned from its
/// input, which would move it to the end.)
fn trimmed(
    node: &LogicalPlan,
    original: &arrow::datatypes::SchemaRef,
    required: &[String],
) -> Result<Option<LogicalPlan>> {
    let LogicalPlan::WithColumns { input, exprs } = node else {
        return Ok(None);
    };
    let wanted: Vec<&String> = original
        .fields()
        .iter()
        .map(|f| f.name())
        .filter(|n| required.contains(n))
        .collect();
    let out = node.schema()?;
    let same = out.fields().len() == wanted.len()
        && out
            .fields()
            .iter()
            .zip(&wanted)
            .all(|(f, w)| f.name() == *w);
    // An empty select would lose the row count.
    if same || wanted.is_empty() {
        return Ok(None);
    }
    let keep = wanted
        .into_iter()
        .map(|name| {
            exprs
                .iter()
                .find(|e| e.output_name() == *name)
                .cloned()
                .unwrap_or_else(|| crate::expr::col(name.as_str()))
        })
        .collect();
    Ok(Some(LogicalPlan::Select {
        input: input.clone(),
        exprs: keep,
    }))
}

/// The columns a join's left and right inputs must give for it to output `required`: those
/// columns, the keys' columns, and every left column a needed right column's name clashes
/// with (without it the right column would lose its `_right` suffix and the output its name).
fn join_inputs_needed(
    join: &LogicalPlan,
    required: &[String],
) -> Result<(Vec<String>, Vec<String>)> {
    let (
        LogicalPlan::Join {
            left_on, right_on, ..
        },
        Some((layout, ls, rs)),
    ) = (join, join.join_layout()?)
    else {
        return Err(crate::error::Error::Internal("not a join".into()));
    };
    let mut l = expr_cols(left_on);
    let mut r = expr_cols(right_on);
    for name in required {
        let Ok(i) = layout.schema.index_of(name) else {
            continue;
        };
        match layout.columns[i] {
            JoinColumn::Left(a) => add(&mut l, [ls.field(a).name().clone()]),
            JoinColumn::Right(b) => {
                let n = rs.field(b).name().clone();
                if ls.field_with_name(&n).is_ok() {
                    add(&mut l, [n.clone()]);
                }
                add(&mut r, [n]);
            }
            JoinColumn::Coalesced { left: a, right: b } => {
                add(&mut l, [ls.field(a).name().clone()]);
                add(&mut r, [rs.field(b).name().clone()]);
            }
        }
    }
    Ok((l, r))
}

/// Rewrite `plan` so it produces (at least) `required` columns, `None` meaning all of them.
fn push(plan: &Arc<LogicalPlan>, required: Option<Vec<String>>) -> Result<Arc<LogicalPlan>> {
    let node = match plan.as_ref() {
        LogicalPlan::Scan {
            source,
            projection,
            predicate,
            limit,
        } => {
            let schema = source.schema()?;
            let projection = match required {
                None => projection.clone(),
                Some(req) => {
                    // File order keeps plans stable whatever order the query names columns in.
                    let req = names(&req);
                    let mut cols: Vec<String> = schema
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .filter(|n| req.contains(n.as_str()))
                        .collect();
                    if let Some(p) = projection {
                        let p = names(p);
                        cols.retain(|c| p.contains(c.as_str()));
                    }
                    // Reading no column would lose the row count that input-less expressions
                    // (`row_index()`, `rand_uniform(..)`) need: keep the first one.
                    if cols.is_empty() {
                        let first = projection.as_ref().and_then(|p| p.first().cloned());
                        cols.extend(
                            first.or_else(|| schema.fields().first().map(|f| f.name().clone())),
                        );
                    }
                    Some(cols)
                }
            };
            LogicalPlan::Scan {
                source: source.clone(),
                projection,
                predicate: predicate.clone(),
                limit: *limit,
            }
        }
        LogicalPlan::InMemory { df, projection } => {
            let projection = match required {
                None => projection.clone(),
                Some(req) => {
                    let req = names(&req);
                    let mut cols: Vec<String> = df
                        .column_names()
                        .into_iter()
                        .filter(|n| req.contains(n))
                        .map(str::to_string)
                        .collect();
                    if let Some(p) = projection {
                        let p = names(p);
                        cols.retain(|c| p.contains(c.as_str()));
                    }
                    Some(cols)
                }
            };
            LogicalPlan::InMemory {
                df: df.clone(),
                projection,
            }
        }
        LogicalPlan::Filter { input, predicate } => {
            let req = required.map(|mut r| {
                add(&mut r, predicate.columns_used());
                r
            });
            LogicalPlan::Filter {
                input: push(input, req)?,
                predicate: predicate.clone(),
            }
        }
        LogicalPlan::Select { input, exprs } => {
            let mut kept: Vec<Expr> = match &required {
                Some(req) => {
                    let req = names(req);
                    exprs
                        .iter()
                        .filter(|e| req.contains(e.output_name().as_str()))
                        .cloned()
                        .collect()
                }
                None => exprs.clone(),
            };
            if kept.is_empty() {
                kept = exprs.clone();
            }
            let input = push(input, Some(expr_cols(&kept)))?;
            // A select that passes its input through unchanged (left behind by the trimming
            // below) is dropped.
            let identity = {
                let s = input.schema()?;
                s.fields().len() == kept.len()
                    && s.fields()
                        .iter()
                        .zip(&kept)
                        .all(|(f, e)| matches!(e, Expr::Column(c) if c == f.name()))
            };
            if identity {
                return Ok(input);
            }
            LogicalPlan::Select { input, exprs: kept }
        }
        LogicalPlan::WithColumns { input, exprs } => match required {
            None => LogicalPlan::WithColumns {
                input: push(input, None)?,
                exprs: exprs.clone(),
            },
            Some(req) => {
                let kept: Vec<Expr> = exprs
                    .iter()
                    .filter(|e| req.contains(&e.output_name()))
                    .cloned()
                    .collect();
                let produced: Vec<String> = kept.iter().map(Expr::output_name).collect();
                let mut below: Vec<String> = req
                    .iter()
                    .filter(|c| !produced.contains(c))
                    .cloned()
                    .collect();
                add(&mut below, expr_cols(&kept));
                let input = push(input, Some(below))?;
                if kept.is_empty() {
                    return Ok(input);
                }
                let node = LogicalPlan::WithColumns { input, exprs: kept };
                match trimmed(&node, &plan.schema()?, &req)? {
                    Some(select) => select,
                    None => node,
                }
            }
        },
        LogicalPlan::Sort { input, by, options } => {
            let req = required.map(|mut r| {
                add(&mut r, expr_cols(by));
                r
            });
            LogicalPlan::Sort {
                input: push(input, req)?,
                by: by.clone(),
                options: options.clone(),
            }
        }
        LogicalPlan::Gather { input, indices } => {
            let req = required.map(|mut r| {
                add(&mut r, indices.columns_used());
                r
            });
            LogicalPlan::Gather {
                input: push(input, req)?,
                indices: indices.clone(),
            }
        }
        LogicalPlan::Slice { input, .. } => plan.with_input(push(input, required)?),
        LogicalPlan::Aggregates { input, aggs } => {
            let req = required.map(|mut r| {
                add(&mut r, expr_cols(aggs.iter().map(|(_, e)| e)));
                r
            });
            plan.with_input(push(input, req)?)
        }
        LogicalPlan::GroupBy {
            input,
            keys,
            output,
        } => {
            let keys = effective_keys(keys, output, input.schema()?.as_ref());
            let key_cols = expr_cols(&keys);
            let (req, output) = match output {
                // Only the keys and the aggregates someone reads.
                GroupOutput::Aggregate(aggs) => {
                    let kept: Vec<Expr> = match &required {
                        Some(r) => aggs
                            .iter()
                            .filter(|a| r.contains(&a.output_name()))
                            .cloned()
                            .collect(),
                        None => aggs.clone(),
                    };
                    let mut req = key_cols;
                    add(&mut req, expr_cols(&kept));
                    (Some(req), GroupOutput::Aggregate(kept))
                }
                // The keys and the other columns someone reads.
                GroupOutput::Head(_) | GroupOutput::First => {
                    let names: Vec<String> = keys.iter().map(Expr::output_name).collect();
                    let req = required.map(|r| {
                        let mut req = key_cols;
                        add(&mut req, r.into_iter().filter(|c| !names.contains(c)));
                        req
                    });
                    (req, output.clone())
                }
            };
            LogicalPlan::GroupBy {
                input: push(input, req)?,
                keys,
                output,
            }
        }
        LogicalPlan::Drop { input, columns } => {
            let req = match required {
                Some(r) => r,
                None => plan
                    .schema()?
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect(),
            };
            let input = push(input, Some(req.clone()))?;
            // Keep the node only if its input still has something to drop.
            let in_schema = input.schema()?;
            let still: Vec<String> = columns
                .iter()
                .filter(|c| in_schema.field_with_name(c).is_ok())
                .cloned()
                .collect();
            if still.is_empty() {
                return Ok(input);
            }
            LogicalPlan::Drop {
                input,
                columns: still,
            }
        }
        LogicalPlan::Join {
            left,
            right,
            left_on,
            right_on,
            how,
        } => {
            let (need_left, need_right) = match required {
                None => (None, None),
                Some(req) => {
                    let (l, r) = join_inputs_needed(plan, &req)?;
                    (Some(l), Some(r))
                }
            };
            LogicalPlan::Join {
                left: push(left, need_left)?,
                right: push(right, need_right)?,
                left_on: left_on.clone(),
                right_on: right_on.clone(),
                how: *how,
            }
        }
        LogicalPlan::Concat { inputs } => LogicalPlan::Concat {
            inputs: inputs
                .iter()
                .map(|i| push(i, required.clone()))
                .collect::<Result<_>>()?,
        },
        LogicalPlan::Rename {
            input,
            existing,
            new,
        } => {
            let req = required.map(|r| {
                r.into_iter()
                    .map(|c| match new.iter().position(|n| *n == c) {
                        Some(i) => existing[i].clone(),
                        None => c,
                    })
                    .collect()
            });
            let input = push(input, req)?;
            let in_schema = input.schema()?;
            let (existing, new): (Vec<String>, Vec<String>) = existing
                .iter()
                .zip(new)
                .filter(|(e, _)| in_schema.field_with_name(e).is_ok())
                .map(|(e, n)| (e.clone(), n.clone()))
                .unzip();
            if existing.is_empty() {
                return Ok(input);
            }
            LogicalPlan::Rename {
                input,
                existing,
                new,
            }
        }
    };
    Ok(Arc::new(node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::{frame, show, sorted_parquet};
    use crate::prelude::*;

    #[test]
    fn scans_read_only_used_columns() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path)
            .filter(col("g").eq(1))
            .select([(col("x") * 2).alias("x2")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, Some(&dir)), @r#"
            SELECT [(col("x") * 2).alias("x2")]
              FILTER col("g").eq(1)
                SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            SELECT [(col("x") * 2).alias("x2")]
              FILTER col("g").eq(1)
                SCAN PARQUET path=TMP/t.parquet columns=[x, g]
            "#);
    }

    #[test]
    fn unused_with_columns_outputs_go_and_the_rest_is_trimmed() {
        let lf = frame()
            .lazy()
            .with_columns([(col("a") * 2).alias("a2"), (col("b") + 1).alias("b1")])
            .sort("c", SortOptions::default())
            .select([col("a2"), col("c")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, None), @r#"
            SELECT [col("a2"), col("c")]
              SORT by=[col("c")]
                WITH_COLUMNS [(col("a") * 2).alias("a2"), (col("b") + 1).alias("b1")]
                  DATAFRAME rows=4 width=4
            =>
            SELECT [col("a2"), col("c")]
              SORT by=[col("c")]
                SELECT [col("c"), (col("a") * 2).alias("a2")]
                  DATAFRAME rows=4 width=4 columns=[a, c]
            "#);
    }

    #[test]
    fn renames_drops_and_hoisted_aggregates() {
        let lf = frame()
            .lazy()
            .rename(["a"], ["alpha"])
            .drop(["s"])
            .with_columns([(col("alpha") - col("alpha").mean()).alias("d")])
            .select([col("d")]);
        let plan = crate::optimizer::optimize_with(
            lf.logical_plan(),
            &[Box::new(crate::optimizer::AggregateHoisting)],
        )
        .unwrap()
        .0;
        let lf = LazyFrame::from_plan(plan.as_ref().clone());
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, None), @r#"
            SELECT [col("d")]
              WITH_COLUMNS [(col("alpha") - $alpha_mean).alias("d")]
                AGGREGATES [$alpha_mean = col("alpha").mean()]
                  DROP [s]
                    RENAME [a -> alpha]
                      DATAFRAME rows=4 width=4
            =>
            SELECT [(col("alpha") - $alpha_mean).alias("d")]
              AGGREGATES [$alpha_mean = col("alpha").mean()]
                RENAME [a -> alpha]
                  DATAFRAME rows=4 width=4 columns=[a]
            "#);
    }

    #[test]
    fn the_root_keeps_every_column() {
        let lf = frame().lazy().with_columns([(col("a") * 2).alias("a2")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, None), @r#"
            WITH_COLUMNS [(col("a") * 2).alias("a2")]
              DATAFRAME rows=4 width=4
            => unchanged
            "#);
    }

    #[test]
    fn joins_read_only_what_is_used_and_keep_suffixed_names() {
        let other = df!("c" => [1i64, 2], "a" => [0.5, 1.5], "z" => [1, 2])
            .unwrap()
            .lazy();
        let lf = frame()
            .lazy()
            .join(other, [col("c")], [col("c")], JoinType::Inner)
            .select([col("s"), col("a_right")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, None), @r#"
            SELECT [col("s"), col("a_right")]
              JOIN type=inner left_on=[col("c")] right_on=[col("c")]
                DATAFRAME rows=4 width=4
                DATAFRAME rows=2 width=3
            =>
            SELECT [col("s"), col("a_right")]
              JOIN type=inner left_on=[col("c")] right_on=[col("c")]
                DATAFRAME rows=4 width=4 columns=[a, c, s]
                DATAFRAME rows=2 width=3 columns=[c, a]
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
        let lf = concat([frame().lazy(), frame().lazy()]).select([col("b")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, None), @r#"
            SELECT [col("b")]
              CONCAT inputs=2
                DATAFRAME rows=4 width=4
                DATAFRAME rows=4 width=4
            =>
            CONCAT inputs=2
              DATAFRAME rows=4 width=4 columns=[b]
              DATAFRAME rows=4 width=4 columns=[b]
            "#);
        crate::optimizer::test_util::assert_same_results(&lf);
    }

    #[test]
    fn a_grouping_reads_its_keys_and_the_aggregates_used() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path)
            .group_by([col("g")])
            .agg([col("x").sum().alias("sx"), col("id").max().alias("top")])
            .select([col("g"), col("sx")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, Some(&dir)), @r#"
            SELECT [col("g"), col("sx")]
              GROUP_BY keys=[col("g")] aggs=[col("x").sum().alias("sx"), col("id").max().alias("top")]
                SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            GROUP_BY keys=[col("g")] aggs=[col("x").sum().alias("sx")]
              SCAN PARQUET path=TMP/t.parquet columns=[x, g]
            "#);
        let lf = scan_parquet(&path)
            .group_by([col("g")])
            .head(2)
            .select([col("x")]);
        insta::assert_snapshot!(show(&ProjectionPushdown, &lf, Some(&dir)), @r#"
            SELECT [col("x")]
              GROUP_BY keys=[col("g")] head=2
                SCAN PARQUET path=TMP/t.parquet columns=*
            =>
            SELECT [col("x")]
              GROUP_BY keys=[col("g")] head=2
                SCAN PARQUET path=TMP/t.parquet columns=[x, g]
            "#);
    }
}
