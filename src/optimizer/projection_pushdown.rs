//! Projection pushdown: find the columns each node's consumers need and tell sources to read
//! only those, dropping `with_columns` outputs and `select` expressions nobody uses.

use std::sync::Arc;

use super::{OptimizerRule, Transformed};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::LogicalPlan;

/// Reads only the columns a query uses.
pub struct ProjectionPushdown;

impl OptimizerRule for ProjectionPushdown {
    fn name(&self) -> &'static str {
        "projection_pushdown"
    }

    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>> {
        let before = plan.display_indent();
        let after = push(&plan, None)?;
        let changed = after.display_indent() != before;
        Ok(Transformed {
            data: after,
            changed,
        })
    }
}

fn add(required: &mut Vec<String>, cols: impl IntoIterator<Item = String>) {
    for c in cols {
        if !required.contains(&c) {
            required.push(c);
        }
    }
}

fn expr_cols<'a>(exprs: impl IntoIterator<Item = &'a Expr>) -> Vec<String> {
    let mut out = vec![];
    for e in exprs {
        add(&mut out, e.columns_used());
    }
    out
}

/// Rewrite `plan` so it produces (at least) `required` columns, `None` meaning all of them.
fn push(plan: &Arc<LogicalPlan>, required: Option<Vec<String>>) -> Result<Arc<LogicalPlan>> {
    let node = match plan.as_ref() {
        LogicalPlan::Scan {
            source,
            projection,
            predicate,
        } => {
            let schema = source.schema()?;
            let projection = match required {
                None => projection.clone(),
                Some(req) => {
                    // File order keeps plans stable whatever order the query names columns in.
                    let mut cols: Vec<String> = schema
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .filter(|n| req.contains(n))
                        .collect();
                    if let Some(p) = projection {
                        cols.retain(|c| p.contains(c));
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
            }
        }
        LogicalPlan::InMemory { df, projection } => {
            let projection = match required {
                None => projection.clone(),
                Some(req) => {
                    let mut cols: Vec<String> = df
                        .column_names()
                        .into_iter()
                        .map(str::to_string)
                        .filter(|n| req.contains(n))
                        .collect();
                    if let Some(p) = projection {
                        cols.retain(|c| p.contains(c));
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
                Some(req) => exprs
                    .iter()
                    .filter(|e| req.contains(&e.output_name()))
                    .cloned()
                    .collect(),
                None => exprs.clone(),
            };
            if kept.is_empty() {
                kept = exprs.clone();
            }
            LogicalPlan::Select {
                input: push(input, Some(expr_cols(&kept)))?,
                exprs: kept,
            }
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
                let mut below: Vec<String> =
                    req.into_iter().filter(|c| !produced.contains(c)).collect();
                add(&mut below, expr_cols(&kept));
                let input = push(input, Some(below))?;
                if kept.is_empty() {
                    return Ok(input);
                }
                LogicalPlan::WithColumns { input, exprs: kept }
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
