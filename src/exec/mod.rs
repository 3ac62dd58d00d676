//! The executor: runs a physical plan (see `crate::physical`) on a rayon pool.
//!
//! The logical plan is lowered once into physical operators; the executor walks that tree,
//! running each breaker's input before the breaker and each pipeline's source before the
//! pipeline, and never rewrites a plan. Pipelines run morsel by morsel in parallel
//! (`pipeline.rs`); aggregates stream as partial states merged in morsel order
//! (`aggregate.rs`); sorts and the ordering operators (`arg_sort`, `top_k` of elementwise
//! inputs) stream their input too (`sort/`); other breakers that need their whole input
//! (gather, whole-column expressions) get it as a frame. Values one operator computes for
//! those above it (hoisted statistics, the aggregates of a `select`) are bound as parameters
//! in the run's `Context`, which expressions read as `Expr::Param`; results are
//! bit-identical for any thread count.
//!
//! Grouping (hash aggregation, `head` per group, `unique`, window expressions over groups)
//! lives in `groups`, on the same columnar accumulators as the scalar aggregates.
//!
//! To add an operator, see the checklist in `crate::physical`: a streaming operator is one
//! more arm in `pipeline::Running::apply`; a breaker is one more arm in `run` below, which
//! either collects its input (`run` on a boxed node) or drives its input pipeline's morsels
//! itself (`Running::for_each_output` in a parallel loop, merging per-morsel results in morsel
//! order, as `aggregate.rs` does).

pub(crate) mod aggregate;
mod alloc;
pub(crate) mod eval;
mod fit;
pub(crate) mod groups;
mod hoisted;
mod join;
pub(crate) mod kernels;
mod large_blocks;
mod pipeline;
pub(crate) mod pool;
mod rescan;
mod sink;
mod sort;
mod spill;
mod spilled;
pub(crate) mod value;

pub(crate) use crate::memory::MORSEL_ROWS;
pub use alloc::tune_allocator;
pub(crate) use alloc::written_vec;
pub use large_blocks::ColumnAllocator;
pub(crate) use sink::execute_sink;

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, UInt64Array};

use self::eval::{evaluate, evaluate_array, evaluate_full, evaluate_mask, filter_frame};
use self::pipeline::{Opened, Running};
use self::spill::SpillDir;
use crate::error::{Error, Result};
use crate::expr::{Expr, Scalar};
use crate::frame::DataFrame;
use crate::memory::{self, MemoryPool, Reservation};
use crate::physical::{
    GroupedOp, OrderingOp, PhysicalNode, PhysicalPlan, Pipeline, SharedInput, Source, WholeOp,
};
use crate::plan::{ExecOptions, LogicalPlan, ProgressFn};

/// Parameter values bound during a run (`$name` in plan text), each of its declared type.
#[derive(Clone, Debug, Default)]
pub struct Params {
    /// By name: a wide query binds tens of thousands (four statistics per standardized
    /// column of a 10,000-column matrix), each read once per morsel.
    values: std::collections::HashMap<String, Scalar>,
}

impl Params {
    /// The value bound to `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Scalar> {
        self.values.get(name)
    }

    fn bind(&mut self, name: String, value: Scalar) {
        self.values.insert(name, value);
    }
}

/// What the operators of one run share: the parameters bound so far, the progress callback,
/// the memory budget and where spill files go.
pub(crate) struct Context {
    pub(crate) params: Params,
    progress: Option<Arc<ProgressFn>>,
    /// The hash tables of the join builds run so far, by build number.
    builds: pipeline::Builds,
    /// The run's memory budget: operators that hold data reserve from it (see [`memory`]).
    pub(crate) memory: Arc<MemoryPool>,
    /// Where spill files go (a directory of this run's, removed when the run ends).
    pub(crate) spill: SpillDir,
    /// The frames of shared subplans kept for their next uses, by number, with the memory
    /// they hold (see `PhysicalNode::Shared`)...
    shared: std::collections::HashMap<usize, (DataFrame, Reservation)>,
    /// ...and how many of each one's uses have run.
    shared_served: std::collections::HashMap<usize, usize>,
}

impl Default for Context {
    /// No budget and the system's temporary directory (for kernels that run a pipeline over
    /// a column they already hold).
    fn default() -> Self {
        Self {
            params: Params::default(),
            progress: None,
            builds: vec![],
            memory: MemoryPool::unbounded(),
            spill: SpillDir::new(std::env::temp_dir()),
            shared: Default::default(),
            shared_served: Default::default(),
        }
    }
}

impl Context {
    fn new(options: &ExecOptions) -> Result<Self> {
        let memory = match (&options.memory_pool, options.memory_limit) {
            (Some(pool), _) => pool.clone(),
            (None, Some(limit)) => MemoryPool::new(limit),
            (None, None) => MemoryPool::new(memory::default_limit()?),
        };
        let temp_dir = match &options.temp_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("FUSEDFRAME_TEMP_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
        };
        Ok(Self {
            params: Params::default(),
            progress: options.progress.clone(),
            builds: vec![],
            memory,
            spill: SpillDir::new(temp_dir),
            shared: Default::default(),
            shared_served: Default::default(),
        })
    }

    /// An empty reservation from the run's budget for `operator` (its plan-text name), which
    /// names it if a growth does not fit.
    pub(crate) fn reserve(&self, operator: &str) -> Reservation {
        self.memory.reserve(operator)
    }

    /// Tell the progress callback, if any, that `done` of `total` morsels are done.
    pub(crate) fn report_progress(&self, done: usize, total: usize) {
        if let Some(cb) = &self.progress {
            cb(done, total);
        }
    }
}

/// Optimize nothing, lower and run a logical plan on a pool of `options.threads` workers.
pub(crate) fn execute(plan: &LogicalPlan, options: &ExecOptions) -> Result<DataFrame> {
    let physical = crate::physical::lower(plan)?;
    execute_physical(&physical, options)
}

/// Run a physical plan to a frame on a pool of `options.threads` workers.
pub(crate) fn execute_physical(plan: &PhysicalPlan, options: &ExecOptions) -> Result<DataFrame> {
    let pool = pool::thread_pool(options.threads)?;
    let mut ctx = Context::new(options)?;
    pool.install(|| run(&plan.root, &mut ctx))
}

/// Run a model's plan (a `FIT` root) on a pool of `options.threads` workers: the input, then
/// the fit (streamed over the input where the model can, see `fit.rs`), both on that pool.
pub(crate) fn execute_fit(
    plan: &PhysicalPlan,
    options: &ExecOptions,
) -> Result<Box<dyn std::any::Any + Send>> {
    let PhysicalNode::Fit { input, model } = &plan.root else {
        return Err(Error::Internal("a model's plan must end in FIT".into()));
    };
    let pool = pool::thread_pool(options.threads)?;
    let mut ctx = Context::new(options)?;
    pool.install(|| fit::fit(input, model.as_ref(), &mut ctx))
}

/// Get a pipeline ready to run: its join builds' hash tables into the context, then its
/// source opened. Callers that finish the pipeline before the run ends let the builds go with
/// [`close_pipeline`]; otherwise they live until the run ends.
///
/// A build that does not fit the budget runs its join through spill files instead, when it
/// can (see `join::spill`): the joined rows, in order, become the pipeline's source, and the
/// operators up to its probe are skipped from then on.
fn open_pipeline(p: &Pipeline, ctx: &mut Context) -> Result<Opened> {
    // The source so far, with how many of the operators it has been through.
    let mut spilled: Option<(Opened, usize)> = None;
    for b in &p.builds {
        let at = join::spill::probe_at(&p.ops, &b.spec);
        let built = match join::build(&b.spec, &b.input, at.is_some(), ctx)? {
            join::Build::Table(built) => *built,
            join::Build::Spilled(parts) => {
                let k =
                    at.ok_or_else(|| Error::Internal("a join spilled without a probe".into()))?;
                let (source, done) = match spilled.take() {
                    Some(s) => s,
                    None => (open(&p.source, ctx)?, 0),
                };
                let ops = &p.ops[done..k];
                let joined = join::spill::join_stream(&b.spec, parts, source, ops, ctx)?;
                spilled = Some((joined, k + 1));
                join::BuiltSide::spilled(ctx.reserve("HASH_JOIN"))
            }
        };
        ctx.builds.push((b.spec.id, Arc::new(built)));
    }
    match spilled {
        Some((source, _)) => Ok(source),
        None => open(&p.source, ctx),
    }
}

/// Let go of a pipeline's join builds (their tables and memory) once it has run.
fn close_pipeline(p: &Pipeline, ctx: &mut Context) {
    ctx.builds
        .retain(|(id, _)| !p.builds.iter().any(|b| b.spec.id == *id));
}

/// Open a pipeline's source: a file's morsels, a frame, or what the breaker below produces.
fn open(source: &Source, ctx: &mut Context) -> Result<Opened> {
    Ok(match source {
        Source::Scan {
            source,
            columns,
            predicate,
            limit,
            coded,
            ..
        } => Opened::Morsels(Arc::from(source.open_coded(
            columns.as_deref(),
            predicate.as_ref(),
            *limit,
            coded,
            Some(&ctx.memory),
        )?)),
        Source::Frame(df) => Opened::Frame(df.clone()),
        Source::Node(node) => open_node(node, ctx)?,
    })
}

/// What a breaker gives the pipeline above: a sort's sorted pieces or the merge of its
/// spilled runs, hoisted statistics' input (kept or read again), or another breaker's frame.
/// Whether [`open_node`] streams `node`'s output in pieces (within the budget, spilling as it
/// must) rather than materializing it.
fn streams_output(node: &PhysicalNode) -> bool {
    matches!(
        node,
        PhysicalNode::Sort { .. }
            | PhysicalNode::Hoisted { .. }
            | PhysicalNode::Join { .. }
            | PhysicalNode::Ordering {
                op: OrderingOp::ArgSort { .. },
                ..
            }
    )
}

fn open_node(node: &PhysicalNode, ctx: &mut Context) -> Result<Opened> {
    match node {
        PhysicalNode::Sort { input, by, options } => sort::open(input, by, options, ctx),
        PhysicalNode::Hoisted { input, params } => hoisted::open(input, params, ctx),
        PhysicalNode::Join { build, probe, spec } => join::open_ordered(build, probe, spec, ctx),
        PhysicalNode::Ordering {
            input,
            op: OrderingOp::ArgSort { key, options },
            schema,
        } => sort::arg_sort(input, key, options, schema.clone(), ctx),
        other => {
            let (df, memory) = materialize(other, ctx, node_name(other))?;
            Ok(Opened::HeldFrame(df, memory))
        }
    }
}

/// The operator's name as plan text shows it, for memory errors.
fn node_name(node: &PhysicalNode) -> &'static str {
    match node {
        PhysicalNode::Pipeline(_) => "PIPELINE",
        PhysicalNode::Aggregate { .. } => "AGGREGATE",
        PhysicalNode::Hoisted { .. } => "HOISTED",
        PhysicalNode::Slice { .. } => "SLICE",
        PhysicalNode::Sort { .. } => "SORT",
        PhysicalNode::Gather { .. } => "GATHER",
        PhysicalNode::Evaluate { .. } => "EVALUATE",
        PhysicalNode::Ordering { op, .. } => op.name(),
        PhysicalNode::Fit { .. } => "FIT",
        PhysicalNode::Join { .. } => "HASH_JOIN",
        PhysicalNode::Concat { .. } => "CONCAT",
        PhysicalNode::Shared { .. } => "SHARED",
        PhysicalNode::GroupBy { .. } => "GROUP_BY",
        PhysicalNode::Grouped {
            op: GroupedOp::Head(_),
            ..
        } => "GROUP_HEAD",
        PhysicalNode::Grouped {
            op: GroupedOp::Evaluate(_),
            ..
        } => "GROUP_EVALUATE",
    }
}

/// Run `node` to a frame that `operator` holds, with its reservation from the budget (the
/// operator keeps it as long as it keeps the frame).
fn materialize(
    node: &PhysicalNode,
    ctx: &mut Context,
    operator: &str,
) -> Result<(DataFrame, Reservation)> {
    let memory = ctx.reserve(operator);
    let df = run_into(node, ctx, &memory)?;
    Ok((df, memory))
}

/// Run one operator (and, first, what it reads) to its output frame; the result is the
/// caller's, reserved while it is built.
fn run(node: &PhysicalNode, ctx: &mut Context) -> Result<DataFrame> {
    Ok(materialize(node, ctx, "COLLECT")?.0)
}

/// Run one operator to its output frame, reserved from `memory`.
fn run_into(node: &PhysicalNode, ctx: &mut Context, memory: &Reservation) -> Result<DataFrame> {
    let out = match node {
        PhysicalNode::Pipeline(p) => {
            let source = open_pipeline(p, ctx)?;
            let out = Running::new(source, &p.ops, ctx).collect(memory);
            close_pipeline(p, ctx);
            return out;
        }
        PhysicalNode::Sort { .. }
        | PhysicalNode::Hoisted { .. }
        | PhysicalNode::Ordering {
            op: OrderingOp::ArgSort { .. },
            ..
        } => {
            let source = open_node(node, ctx)?;
            return Running::new(source, &[], ctx).collect(memory);
        }
        PhysicalNode::Slice { input, offset, len } => {
            let source = open_pipeline(input, ctx)?;
            let out = Running::new(source, &input.ops, ctx).slice(*offset, *len, memory);
            close_pipeline(input, ctx);
            return out;
        }
        PhysicalNode::Aggregate {
            input,
            aggs,
            outputs,
            schema,
        } => {
            let source = open_pipeline(input, ctx)?;
            let running = Running::new(source, &input.ops, ctx);
            let exprs: Vec<Expr> = aggs.iter().map(|(_, e)| e.clone()).collect();
            let set = aggregate::AggregateSet::new(&exprs, &input.schema())?;
            let values = set.run(&running);
            drop(running);
            close_pipeline(input, ctx);
            let values = values?;
            let in_schema = input.schema();
            for ((name, agg), value) in aggs.iter().zip(values) {
                let value = of_declared_type(value, &agg.data_type(&in_schema)?)?;
                ctx.params.bind(name.clone(), value);
            }
            // What surrounds the aggregates, over one row.
            let one = DataFrame::with_height(1);
            let cols = outputs
                .iter()
                .zip(schema.fields())
                .map(|(e, f)| evaluate(e, &one, &ctx.params)?.into_array_of(f.data_type(), 1))
                .collect::<Result<Vec<_>>>()?;
            DataFrame::from_arrays(schema.clone(), cols)?
        }
        PhysicalNode::Gather { input, indices } => {
            let (df, _held) = materialize(input, ctx, "GATHER")?;
            // A scalar index picks one row (NumPy's `a[[i]]`); negative indices count from the
            // end and a null index gives a row of nulls (see `kernels::gather`).
            let idx = evaluate_full(indices, &df, &ctx.params)?.into_array(1)?;
            let idx = kernels::gather::resolve_indices(&idx, df.height(), indices)?;
            // The output is as wide as the input, a row per index.
            let per_row = memory::frame_bytes(&df) / df.height().max(1);
            memory.try_grow(per_row * idx.len())?;
            take_frame(&df, &idx)?
        }
        PhysicalNode::Evaluate { input, op, schema } => {
            let (df, _held) = materialize(input, ctx, "EVALUATE")?;
            evaluate_whole(&df, op, schema, &ctx.params)?
        }
        PhysicalNode::Ordering {
            input,
            op: OrderingOp::TopK { k, columns },
            schema,
        } => sort::top_k(input, *k, columns, schema, ctx)?,
        PhysicalNode::GroupBy {
            input,
            keys,
            aggs,
            outputs,
            schema,
        } => {
            let source = open_pipeline(input, ctx)?;
            let running = Running::new(source, &input.ops, ctx);
            let out = groups::group_by(&running, keys, aggs, outputs, schema);
            drop(running);
            close_pipeline(input, ctx);
            out?
        }
        PhysicalNode::Grouped {
            input,
            keys,
            op,
            schema,
        } => {
            let (df, _held) = materialize(input, ctx, node_name(node))?;
            match op {
                GroupedOp::Head(n) => groups::group_head(&df, keys, *n, schema, &ctx.params)?,
                GroupedOp::Evaluate(exprs) => {
                    groups::group_evaluate(&df, keys, exprs, schema, &ctx.params)?
                }
            }
        }
        PhysicalNode::Fit { .. } => {
            return Err(Error::Internal(
                "a model fit has no frame output; run it with execute_fit".into(),
            ))
        }
        PhysicalNode::Join { build, probe, spec } => {
            let source = join::open_ordered(build, probe, spec, ctx)?;
            return Running::new(source, &[], ctx).collect(memory);
        }
        PhysicalNode::Shared { id, input } => shared(*id, input, ctx)?,
        PhysicalNode::Concat { inputs, schema } => {
            let frames = inputs
                .iter()
                .map(|i| {
                    let (df, held) = materialize(i, ctx, "CONCAT")?;
                    Ok((by_name(&df, schema)?, held))
                })
                .collect::<Result<Vec<_>>>()?;
            let height = frames.iter().map(|(f, _)| f.height()).sum();
            if schema.fields().is_empty() {
                DataFrame::with_height(height)
            } else {
                let frames: Vec<DataFrame> = frames.into_iter().map(|(f, _)| f).collect();
                DataFrame::vstack(schema.clone(), &frames)?
            }
        }
    };
    if !matches!(node, PhysicalNode::Gather { .. }) {
        memory.try_grow(memory::frame_bytes(&out))?;
    }
    Ok(out)
}

/// The frame of shared subplan `id`: run at its first use and kept (reserved as `SHARED`)
/// until every other place that holds it has had it. When the budget has no room to keep it,
/// it is not kept: the next use runs it again (the same frame, only slower), never an error.
fn shared(id: usize, input: &SharedInput, ctx: &mut Context) -> Result<DataFrame> {
    let uses = input.uses.load(std::sync::atomic::Ordering::Relaxed);
    let served = ctx.shared_served.entry(id).or_insert(0);
    *served += 1;
    let served = *served;
    if let Some((df, _)) = ctx.shared.get(&id) {
        let df = df.clone();
        if served >= uses {
            ctx.shared.remove(&id);
        }
        return Ok(df);
    }
    let df = run(&input.node, ctx)?;
    if served < uses {
        let memory = ctx.reserve("SHARED");
        if memory.try_grow(memory::frame_bytes(&df)).is_ok() {
            ctx.shared.insert(id, (df.clone(), memory));
        }
    }
    Ok(df)
}

/// A frame of `schema` from columns in its order, each cast to its field's type where it
/// differs (a kernel's natural output type may be wider or narrower than the plan's).
pub(crate) fn frame_of_types(
    schema: &arrow::datatypes::SchemaRef,
    cols: Vec<arrow::array::ArrayRef>,
) -> Result<DataFrame> {
    let cols = cols
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c)
            } else {
                Ok(arrow::compute::cast(&c, f.data_type())?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    DataFrame::from_arrays(schema.clone(), cols)
}

/// `df`'s columns in the order (and of the types) of `schema`, matched by name.
fn by_name(df: &DataFrame, schema: &arrow::datatypes::SchemaRef) -> Result<DataFrame> {
    if df.schema() == schema {
        return Ok(df.clone());
    }
    let cols = schema
        .fields()
        .iter()
        .map(|f| df.column(f.name()).cloned())
        .collect::<Result<Vec<_>>>()?;
    if cols.is_empty() {
        return Ok(DataFrame::with_height(df.height()));
    }
    frame_of_types(schema, cols)
}

/// `value` as a value of `dtype` (an aggregate of an empty input is an untyped null, an
/// integer sum an Int64 where the type rule may say otherwise): what the expressions reading
/// the parameter were typed against.
fn of_declared_type(value: Scalar, dtype: &arrow::datatypes::DataType) -> Result<Scalar> {
    if value.data_type() == *dtype || value.is_null() {
        return Ok(value);
    }
    let a = value::scalar_to_array(&value, &value.data_type(), 1)?;
    let options = arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    let a = arrow::compute::cast_with_options(&a, dtype, &options)?;
    value::array_to_scalar(a.as_ref(), 0)
}

/// Each named scalar expression over all of `df`: the plain aggregates of elementwise inputs
/// in one pass of the aggregate engine, anything else evaluated over the whole frame.
fn scalars_over(df: &DataFrame, exprs: &[(String, Expr)], ctx: &Context) -> Result<Vec<Scalar>> {
    let streams = |e: &Expr| {
        matches!(e, Expr::Agg { .. }) && e.agg_inputs().iter().all(|i| i.is_elementwise())
    };
    let streamable: Vec<Expr> = exprs
        .iter()
        .filter(|(_, e)| streams(e))
        .map(|(_, e)| e.clone())
        .collect();
    let mut streamed = if streamable.is_empty() {
        vec![]
    } else {
        let set = aggregate::AggregateSet::new(&streamable, df.schema())?;
        let running = Running::new(Opened::Frame(df.clone()), &[], ctx);
        set.run(&running)?
    }
    .into_iter();
    exprs
        .iter()
        .map(|(_, e)| match e {
            e if streams(e) => streamed
                .next()
                .ok_or_else(|| Error::Internal("aggregate result missing".into())),
            _ => match evaluate_full(e, df, &ctx.params)? {
                value::Value::Scalar(s) => Ok(s),
                value::Value::Array(_) => Err(Error::Internal(format!(
                    "hoisted statistic {e} did not give one value"
                ))),
            },
        })
        .collect()
}

/// A whole-column `filter`, `select` or `with_columns` over the materialized input.
fn evaluate_whole(
    df: &DataFrame,
    op: &WholeOp,
    schema: &arrow::datatypes::SchemaRef,
    params: &Params,
) -> Result<DataFrame> {
    match op {
        WholeOp::Filter(predicate) => {
            let mask = evaluate_mask(predicate, df, true, params)?;
            filter_frame(df, &mask)
        }
        WholeOp::Select(exprs) => {
            let values = exprs
                .iter()
                .map(|e| evaluate_full(e, df, params))
                .collect::<Result<Vec<_>>>()?;
            // All scalars give one row; otherwise scalars broadcast to the column length.
            let height = values
                .iter()
                .find_map(|v| match v {
                    value::Value::Array(a) => Some(a.len()),
                    _ => None,
                })
                .unwrap_or(if values.is_empty() { df.height() } else { 1 });
            let cols = values
                .into_iter()
                .zip(schema.fields())
                .map(|(v, f)| v.into_array_of(f.data_type(), height))
                .collect::<Result<Vec<_>>>()?;
            if cols.is_empty() {
                return Ok(DataFrame::with_height(height));
            }
            DataFrame::from_arrays(schema.clone(), cols)
        }
        WholeOp::WithColumns(exprs) => {
            let mut cols = df.columns().to_vec();
            for e in exprs {
                let a = evaluate_array(e, df, true, params)?;
                match df.schema().index_of(&e.output_name()) {
                    Ok(i) => cols[i] = a,
                    Err(_) => cols.push(a),
                }
            }
            DataFrame::from_arrays(schema.clone(), cols)
        }
    }
}

/// Rows of `df` in the order `idx` gives.
pub(crate) fn take_frame(df: &DataFrame, idx: &UInt64Array) -> Result<DataFrame> {
    let cols = df
        .columns()
        .iter()
        .map(|c| arrow::compute::take(c.as_ref(), idx, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if cols.is_empty() {
        return Ok(DataFrame::with_height(idx.len()));
    }
    DataFrame::from_arrays(df.schema().clone(), cols)
}

/// Ask the CPU to fetch the cache line at `p` (a hint: it reads nothing and never faults).
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that reads nothing and cannot fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod prefetch_tests {
    /// The hint is given for addresses a probe may compute past a table's end or from
    /// nothing: none of them may fault.
    #[test]
    fn prefetch_never_faults() {
        let v = vec![1u64, 2, 3];
        super::prefetch(v.as_ptr());
        super::prefetch(v.as_ptr().wrapping_add(1 << 40));
        super::prefetch(std::ptr::null::<u8>());
        super::prefetch(usize::MAX as *const u32);
        assert_eq!(v, [1, 2, 3]);
    }
}
