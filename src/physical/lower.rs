//! Lowering: the optimized logical plan becomes physical operators, in one bottom-up walk
//! that computes every node's schema once from its inputs' schemas.
//!
//! Elementwise nodes (`filter`, `select`, `with_columns`, `drop`, `rename`) extend the pipeline
//! below them; anything that needs more than one morsel at a time becomes a breaker, and a
//! pipeline above a breaker reads the breaker's frame. Selectors (`cols`, `all_numeric`) are
//! expanded here, once, against the input's schema.

use arrow::datatypes::{DataType, SchemaRef};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::estimate::estimated_rows;
use super::ordering::{lower_select, sort_of_gather, streamed_select};
use super::shared::{repeated_subplans, widen_repeated_joins, worth_sharing};
use super::{
    windows, Build, GroupedOp, JoinSpec, PhysicalNode, PhysicalPlan, Pipeline, SharedInput, Side,
    Source, StreamOp, WholeOp,
};
use crate::error::{Error, Result};
use crate::expr::lookup::{DistinctExprs, NameIndex};
use crate::expr::types::expand_selectors;
use crate::expr::{col, Expr};
use crate::frame::DataFrame;
use crate::plan::{
    effective_keys, first_of_each, with_columns_schema, GroupOutput, JoinLayout, JoinType,
    LogicalPlan,
};

/// `col(name)` of every column of `schema`, in order.
fn columns_of(schema: &SchemaRef) -> Vec<Expr> {
    schema.fields().iter().map(|f| col(f.name())).collect()
}

/// Lower an optimized (or at least resolved) logical plan.
pub(crate) fn lower(plan: &LogicalPlan) -> Result<PhysicalPlan> {
    lower_with(plan, None)
}

/// Lower, building every keyed join's hash table on `build` when it is given instead of on
/// the side estimated smaller (tests run each join both ways).
pub(crate) fn lower_with(plan: &LogicalPlan, build: Option<Side>) -> Result<PhysicalPlan> {
    let plan = widen_repeated_joins(&Arc::new(plan.clone()))?;
    let mut state = Lowering {
        builds: 0,
        force: build,
        repeated: repeated_subplans(&plan),
        shared: HashMap::new(),
    };
    Ok(PhysicalPlan {
        root: lower_node(&plan, &mut state)?,
    })
}

/// What lowering carries from node to node.
struct Lowering {
    /// Join builds lowered so far (each gets its own number).
    builds: usize,
    force: Option<Side>,
    /// Plan text of the subplans that appear more than once and are worth computing once.
    repeated: HashSet<String>,
    /// Those lowered so far, by plan text: their shared node's number and input.
    shared: HashMap<String, (usize, Arc<SharedInput>)>,
}

/// The node as a pipeline: a pipeline stays one; a breaker becomes the source of a new one.
fn into_pipeline(node: PhysicalNode) -> Pipeline {
    match node {
        PhysicalNode::Pipeline(p) => p,
        other => Pipeline::new(Source::Node(Box::new(other))),
    }
}

/// `node` with one more streaming operator.
pub(super) fn extend(node: PhysicalNode, op: StreamOp, schema: SchemaRef) -> PhysicalNode {
    let mut p = into_pipeline(node);
    p.push(op, schema);
    PhysicalNode::Pipeline(p)
}

fn lower_node(plan: &LogicalPlan, state: &mut Lowering) -> Result<PhysicalNode> {
    if !state.repeated.is_empty() && worth_sharing(plan) {
        let text = plan.display_indent();
        if state.repeated.contains(&text) {
            if let Some((id, input)) = state.shared.get(&text) {
                input.uses.fetch_add(1, Ordering::Relaxed);
                return Ok(PhysicalNode::Shared {
                    id: *id,
                    input: input.clone(),
                });
            }
            let node = lower_plain(plan, state)?;
            let id = state.shared.len();
            let input = Arc::new(SharedInput {
                node,
                uses: AtomicUsize::new(1),
            });
            state.shared.insert(text, (id, input.clone()));
            return Ok(PhysicalNode::Shared { id, input });
        }
    }
    lower_plain(plan, state)
}

/// [`lower_node`] of a node lowered where it stands (not shared).
fn lower_plain(plan: &LogicalPlan, state: &mut Lowering) -> Result<PhysicalNode> {
    let inputs = plan
        .inputs()
        .into_iter()
        .map(|i| lower_node(i, state))
        .collect::<Result<Vec<_>>>()?;
    let in_schemas: Vec<SchemaRef> = inputs.iter().map(PhysicalNode::schema).collect();
    let out = plan.output_schema(&in_schemas)?;
    let mut inputs = inputs.into_iter();
    let mut input = || {
        inputs
            .next()
            .ok_or_else(|| Error::Internal(format!("{} lost its input", plan.node_text())))
    };
    Ok(match plan {
        LogicalPlan::Scan {
            source,
            projection,
            predicate,
            limit,
        } => {
            // The scan reads the predicate's columns too, even where the projection drops them.
            let columns: Option<Vec<String>> = match (projection, predicate) {
                (Some(p), Some(pred)) => {
                    let mut r = p.clone();
                    for c in pred.columns_used() {
                        if !r.contains(&c) {
                            r.push(c);
                        }
                    }
                    Some(r)
                }
                (p, _) => p.clone(),
            };
            let full = source.schema()?;
            let read = match &columns {
                None => full,
                Some(cols) => LogicalPlan::Scan {
                    source: source.clone(),
                    projection: Some(cols.clone()),
                    predicate: None,
                    limit: None,
                }
                .output_schema(&[])?,
            };
            let mut p = Pipeline::new(Source::Scan {
                source: source.clone(),
                columns,
                predicate: predicate.clone(),
                limit: *limit,
                coded: vec![],
                schema: read.clone(),
            });
            if let Some(pred) = predicate {
                // Only the output columns are filtered; predicate-only columns are dropped.
                if read.fields().len() == out.fields().len() {
                    p.push(StreamOp::Filter(pred.clone()), read);
                } else {
                    let keep = out
                        .fields()
                        .iter()
                        .map(|f| read.index_of(f.name()))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    p.push(StreamOp::FilterKeep(pred.clone(), keep), out);
                }
            }
            PhysicalNode::Pipeline(p)
        }
        LogicalPlan::InMemory { df, projection } => {
            let df = match projection {
                None => df.clone(),
                // No column needed (`select([row_index()])`): keep the height all the same.
                Some(cols) if cols.is_empty() => DataFrame::with_height(df.height()),
                Some(cols) => {
                    let arrays = cols
                        .iter()
                        .map(|c| df.column(c).cloned())
                        .collect::<Result<Vec<_>>>()?;
                    DataFrame::from_arrays(out, arrays)?
                }
            };
            PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df)))
        }
        LogicalPlan::Filter { predicate, .. } => {
            if predicate.is_elementwise() {
                extend(input()?, StreamOp::Filter(predicate.clone()), out)
            } else if let Some(w) = windows::split(std::slice::from_ref(predicate), &out)? {
                let [predicate] = <[Expr; 1]>::try_from(w.exprs).map_err(|_| {
                    Error::Internal("a filter's window split lost its predicate".into())
                })?;
                let node = extend(input()?, w.op, w.schema.clone());
                let node = extend(node, StreamOp::Filter(predicate), w.schema);
                extend(node, StreamOp::Select(columns_of(&out)), out)
            } else {
                PhysicalNode::Evaluate {
                    input: Box::new(input()?),
                    op: WholeOp::Filter(predicate.clone()),
                    schema: out,
                }
            }
        }
        LogicalPlan::Select { exprs, .. } => {
            let exprs = expand_selectors(exprs, &in_schemas[0])?;
            let input = input()?;
            if !exprs.is_empty() && exprs.iter().all(Expr::is_scalar) {
                match streaming_aggregates(&exprs, &in_schemas[0])? {
                    Some((aggs, outputs)) => PhysicalNode::Aggregate {
                        input: into_pipeline(input),
                        aggs,
                        outputs,
                        schema: out,
                    },
                    None => PhysicalNode::Evaluate {
                        input: Box::new(input),
                        op: WholeOp::Select(exprs),
                        schema: out,
                    },
                }
            } else if !exprs.is_empty() && exprs.iter().all(Expr::is_elementwise) {
                extend(input, StreamOp::Select(exprs), out)
            } else if let Some(s) = streamed_select(&exprs) {
                lower_select(s, input, out)
            } else if let Some(w) = windows::split(&exprs, &in_schemas[0])? {
                let node = extend(input, w.op, w.schema);
                extend(node, StreamOp::Select(w.exprs), out)
            } else {
                PhysicalNode::Evaluate {
                    input: Box::new(input),
                    op: WholeOp::Select(exprs),
                    schema: out,
                }
            }
        }
        LogicalPlan::WithColumns { exprs, .. } => {
            let exprs = expand_selectors(exprs, &in_schemas[0])?;
            if exprs.iter().all(Expr::is_elementwise) {
                extend(input()?, StreamOp::WithColumns(exprs), out)
            } else if let Some(w) = windows::split(&exprs, &in_schemas[0])? {
                // The temporaries go last, after the node's new columns, then are dropped.
                let with = with_columns_schema(&w.schema, &w.exprs)?;
                let node = extend(input()?, w.op, w.schema);
                let node = extend(node, StreamOp::WithColumns(w.exprs), with);
                extend(node, StreamOp::Select(columns_of(&out)), out)
            } else {
                PhysicalNode::Evaluate {
                    input: Box::new(input()?),
                    op: WholeOp::WithColumns(exprs),
                    schema: out,
                }
            }
        }
        LogicalPlan::Drop { .. } => extend(input()?, StreamOp::Select(columns_of(&out)), out),
        LogicalPlan::Rename { existing, new, .. } => {
            let exprs = in_schemas[0]
                .fields()
                .iter()
                .map(|f| match existing.iter().position(|e| e == f.name()) {
                    Some(i) => col(f.name()).alias(&new[i]),
                    None => col(f.name()),
                })
                .collect();
            extend(input()?, StreamOp::Select(exprs), out)
        }
        LogicalPlan::Slice { offset, len, .. } => PhysicalNode::Slice {
            input: into_pipeline(input()?),
            offset: *offset,
            len: *len,
        },
        LogicalPlan::Sort { by, options, .. } => PhysicalNode::Sort {
            input: Box::new(input()?),
            by: by.clone(),
            options: options.clone(),
        },
        LogicalPlan::Gather { indices, .. } => match sort_of_gather(indices) {
            Some((key, options)) => PhysicalNode::Sort {
                input: Box::new(input()?),
                by: vec![key],
                options: vec![options],
            },
            None => PhysicalNode::Gather {
                input: Box::new(input()?),
                indices: indices.clone(),
            },
        },
        LogicalPlan::Aggregates { aggs, .. } => PhysicalNode::Hoisted {
            input: Box::new(input()?),
            params: aggs.clone(),
        },
        LogicalPlan::Join {
            left,
            right,
            left_on,
            right_on,
            how,
        } => {
            let (l, r) = (input()?, input()?);
            let layout = JoinLayout::new(&in_schemas[0], &in_schemas[1], left_on, right_on, *how)?;
            let mut spec = JoinSpec {
                id: state.builds,
                how: *how,
                left_on: left_on.clone(),
                right_on: right_on.clone(),
                layout,
                build: Side::Right,
            };
            state.builds += 1;
            let order = spec.order_side();
            // Build on the smaller side; on a tie or without estimates, on the side that lets
            // the other one stream.
            let smaller = match (estimated_rows(left), estimated_rows(right)) {
                (Some(a), Some(b)) if a < b => Side::Left,
                (Some(a), Some(b)) if b < a => Side::Right,
                _ => order.other(),
            };
            spec.build = match how {
                JoinType::Cross => Side::Right,
                _ => state.force.unwrap_or(smaller),
            };
            let (build, probe) = match spec.build {
                Side::Left => (l, r),
                Side::Right => (r, l),
            };
            let spec = Arc::new(spec);
            if spec.build == order.other() && *how != JoinType::Full {
                // The probe side orders the output: it streams, the build is its breaker.
                let mut p = into_pipeline(probe);
                p.builds.push(Build {
                    input: build,
                    spec: spec.clone(),
                });
                p.push(StreamOp::Probe(spec), out);
                PhysicalNode::Pipeline(p)
            } else {
                PhysicalNode::Join {
                    build: Box::new(build),
                    probe: into_pipeline(probe),
                    spec,
                }
            }
        }
        LogicalPlan::Concat { .. } => PhysicalNode::Concat {
            inputs: inputs.by_ref().collect(),
            schema: out,
        },
        LogicalPlan::GroupBy { keys, output, .. } => {
            let keys = effective_keys(keys, output, &in_schemas[0]);
            lower_group(input()?, keys, output, &in_schemas[0], out)?
        }
    })
}

/// A grouping: hash aggregation when every aggregate streams (and for `unique`, which is the
/// first row of each group: `first()` of every column), per-group work over the materialized
/// input otherwise.
fn lower_group(
    input: PhysicalNode,
    keys: Vec<Expr>,
    output: &GroupOutput,
    in_schema: &SchemaRef,
    out: SchemaRef,
) -> Result<PhysicalNode> {
    let (exprs, with_keys) = match output {
        GroupOutput::Head(n) => {
            return Ok(PhysicalNode::Grouped {
                input: Box::new(input),
                keys,
                op: GroupedOp::Head(*n),
                schema: out,
            })
        }
        GroupOutput::Aggregate(aggs) => (aggs.clone(), true),
        GroupOutput::First => (first_of_each(in_schema), false),
    };
    let Some(aggs) = distinct_aggregates(&exprs) else {
        return Ok(PhysicalNode::Grouped {
            input: Box::new(input),
            keys,
            op: GroupedOp::Evaluate(exprs),
            schema: out,
        });
    };
    let mut outputs: Vec<Expr> = vec![];
    if with_keys {
        for (i, k) in keys.iter().enumerate() {
            outputs.push(col(format!("__key{i}")).alias(k.output_name()));
        }
    }
    for (e, f) in exprs.iter().zip(out.fields().iter().skip(outputs.len())) {
        let o = replace_aggregates(e, &aggs, |j| col(format!("__agg{j}")));
        outputs.push(if o.output_name() == *f.name() {
            o
        } else {
            o.alias(f.name())
        });
    }
    let aggs = aggs.into_vec();
    let mut input = into_pipeline(input);
    super::dictionary::code_keys(&mut input, &keys, &aggs);
    Ok(PhysicalNode::GroupBy {
        input,
        keys,
        aggs,
        outputs,
        schema: out,
    })
}

/// The distinct aggregates in `exprs`, or `None` when one of them cannot stream: its input
/// is not elementwise, or holds another aggregate.
fn distinct_aggregates(exprs: &[Expr]) -> Option<DistinctExprs> {
    let mut aggs = DistinctExprs::default();
    let mut ok = true;
    for e in exprs {
        e.visit(&mut |n| {
            if let Expr::Agg { .. } = n {
                if n.agg_inputs()
                    .iter()
                    .any(|i| !i.is_elementwise() || i.has_aggregate())
                {
                    ok = false;
                } else {
                    aggs.insert(n);
                }
            }
        });
    }
    ok.then_some(aggs)
}

/// `e` with the `j`-th of `aggs` replaced by `by(j)` wherever it occurs.
fn replace_aggregates(e: &Expr, aggs: &DistinctExprs, by: impl Fn(usize) -> Expr) -> Expr {
    e.clone().transform_up(&mut |n| match &n {
        Expr::Agg { .. } => match aggs.position(&n) {
            Some(j) => by(j),
            None => n,
        },
        _ => n,
    })
}

/// An all-scalar `select` as a streaming aggregation: its distinct aggregates, each named as
/// a parameter, and the output expressions reading those parameters.
type ScalarAggregation = (Vec<(String, Expr)>, Vec<Expr>);

/// For an all-scalar `select`: its [`ScalarAggregation`], or `None` when an aggregate cannot
/// stream (its input is not elementwise, or holds another aggregate), which leaves the
/// `select` to evaluate over the materialized input.
pub(crate) fn streaming_aggregates(
    exprs: &[Expr],
    input: &SchemaRef,
) -> Result<Option<ScalarAggregation>> {
    let Some(aggs) = distinct_aggregates(exprs) else {
        return Ok(None);
    };
    let names = NameIndex::new(input);
    let named: Vec<(String, Expr, DataType)> = aggs
        .as_slice()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let dtype = names.data_type(a)?;
            Ok((format!("agg{i}"), a.clone(), dtype))
        })
        .collect::<Result<_>>()?;
    let outputs = exprs
        .iter()
        .map(|e| {
            replace_aggregates(e, &aggs, |j| Expr::Param {
                name: named[j].0.clone(),
                dtype: named[j].2.clone(),
            })
        })
        .collect();
    Ok(Some((
        named.into_iter().map(|(n, a, _)| (n, a)).collect(),
        outputs,
    )))
}

#[cfg(test)]
mod tests {
    use crate::expr::{col, lit, Fill, SortOptions};
    use crate::optimizer::test_util::{frame, sorted_parquet};
    use crate::plan::scan_parquet;

    fn physical(lf: &crate::plan::LazyFrame, dir: Option<&tempfile::TempDir>) -> String {
        let text = lf.explain_physical().expect("lower");
        match dir {
            Some(d) => text.replace(&d.path().display().to_string(), "TMP"),
            None => text,
        }
    }

    #[test]
    fn the_seed_pipeline() {
        let (dir, path) = sorted_parquet();
        let lf = scan_parquet(&path)
            .filter(col("g").gt(0))
            .with_columns([col("x").fill_nan_with(Fill::Mean).alias("xf")])
            .with_columns([col("xf").min_max_scale().alias("xs")])
            .with_columns([col("xs").rolling_mean(3).alias("xr")])
            .select([col("xr").arg_sort(SortOptions::default()).alias("order")]);
        insta::assert_snapshot!(physical(&lf, Some(&dir)), @r#"
            ARG_SORT order = col("xr") SortOptions::new()
              PIPELINE
                SELECT [col("__window_0").alias("xr")]
                WINDOW [__window_0 = col("xs").rolling_mean(3)] lookback=2
                SELECT [col("x").fill_nan($x_nan_mean).min_max_scale_with($xf_nan_min, $xf_nan_max).alias("xs")]
                HOISTED [$xf_nan_min = col("x").fill_nan($x_nan_mean).nan_min(), $xf_nan_max = col("x").fill_nan($x_nan_mean).nan_max()]
                  HOISTED [$x_nan_mean = col("x").nan_mean()]
                    PIPELINE
                      FILTER col("g").gt(0) keep=[x]
                      SCAN PARQUET path=TMP/t.parquet columns=[x, g] predicate=col("g").gt(0) row_groups=4/4
            "#);
    }

    #[test]
    fn aggregates_slices_and_breakers() {
        let lf = frame().lazy().filter(col("c").gt(lit(1))).select([
            col("a").nan_sum().alias("s"),
            (col("b").max() - col("b").min()).alias("r"),
        ]);
        insta::assert_snapshot!(physical(&lf, None), @r#"
            AGGREGATE [$agg0 = col("a").nan_sum(), $agg1 = col("b").max(), $agg2 = col("b").min()] -> [$agg0.alias("s"), ($agg1 - $agg2).alias("r")]
              PIPELINE
                FILTER col("c").gt(1)
                DATAFRAME rows=4 width=3
            "#);
        let lf = frame()
            .lazy()
            .with_columns([col("a")
                .rolling_mean_with(crate::expr::RollingOptions::new(3).center(true))
                .alias("m")])
            .sort("m", SortOptions::default())
            .gather(lit(0))
            .head(1);
        insta::assert_snapshot!(physical(&lf, None), @r#"
            SLICE offset=0 len=1
              PIPELINE
                GATHER 0
                  SORT by=[col("m")]
                    EVALUATE WITH_COLUMNS [col("a").rolling_mean_with(RollingOptions::new(3).center(true)).alias("m")]
                      PIPELINE
                        DATAFRAME rows=4 width=4
            "#);
    }
}
