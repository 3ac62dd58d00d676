//! The physical plan: the operators the executor runs, lowered once from the optimized logical
//! plan.
//!
//! A physical plan is a tree of [`PhysicalNode`]s, each with its output schema computed at
//! lowering time (the executor never asks a logical plan for a schema, and never rewrites a
//! plan). There are two kinds of operator:
//!
//! - A [`Pipeline`]: a [`Source`] (a file scan, a frame in memory, or the frame a breaker below
//!   produces) followed by streaming operators ([`StreamOp`]: filter, projection, elementwise
//!   expressions, rolling windows). Each morsel of the source goes through every operator on
//!   its own, 64K rows at a time while they are in cache; morsels run in parallel on the rayon
//!   pool and their outputs keep morsel order, so results never depend on the thread count. Any
//!   chain of elementwise logical nodes (`filter`, `select`, `with_columns`, `drop`, `rename`)
//!   over a source becomes one pipeline: this is where fusion happens. A window that looks
//!   back a bounded number of rows (`rolling_mean(20)`) streams too, as a `WINDOW` operator
//!   whose carried state is the last rows of its input: the executor then runs the pipeline
//!   in waves of morsels, passing that state on in row order.
//! - Breakers, which need more than one morsel at a time: a streaming [`Aggregate`] of scalar
//!   expressions (partial states per morsel, merged in morsel order), [`Hoisted`] statistics
//!   (the input is materialized, its statistics computed and handed to the operators above as
//!   parameter values), [`Slice`] (pulls only the morsels it needs), [`Sort`], [`Gather`],
//!   [`Evaluate`] (expressions over whole columns: windows, sorts, fills from a statistic),
//!   [`Ordering`] (`top_k`/`bottom_k` and `arg_sort` of elementwise inputs, which stream:
//!   a bounded selection per morsel, an external sort of row numbers; see `ordering.rs`),
//!   [`GroupBy`] (hash aggregation: per-morsel group tables and columnar accumulators, merged
//!   in morsel order), [`Grouped`] (work on each group of a materialized input: its first rows,
//!   or aggregates that need whole columns) and [`Fit`] (a model fit, the root of a model's
//!   plan).
//!
//! A breaker's output is a frame; a pipeline above it reads that frame as its source
//! ([`Source::Node`]). Values a breaker computes for operators above (hoisted statistics) are
//! passed as parameters (`Expr::Param`), bound in the executor's context when the breaker has
//! run, never substituted into the plan.
//!
//! Where a new operator plugs in:
//! - a streaming operator (one morsel in, one morsel out, no state across morsels): a
//!   [`StreamOp`] variant, its lowering in `lower.rs`, its line in `explain.rs`, and its
//!   morsel function in `exec::pipeline::apply`;
//! - a breaker: a [`PhysicalNode`] variant holding its input (a [`Pipeline`] when it consumes
//!   morsels as they come, as aggregates and slices do; a boxed node when it needs the whole
//!   input as a frame), its lowering, its line, and its `run` arm in `exec`. A consumer of
//!   morsels drives `exec::pipeline::Running::for_each_output` from its own parallel loop and
//!   merges its per-morsel partial results in morsel order.
//!
//! [`Aggregate`]: PhysicalNode::Aggregate
//! [`Hoisted`]: PhysicalNode::Hoisted
//! [`Slice`]: PhysicalNode::Slice
//! [`Sort`]: PhysicalNode::Sort
//! [`Gather`]: PhysicalNode::Gather
//! [`Evaluate`]: PhysicalNode::Evaluate
//! [`Ordering`]: PhysicalNode::Ordering
//! [`GroupBy`]: PhysicalNode::GroupBy
//! [`Grouped`]: PhysicalNode::Grouped
//! [`Fit`]: PhysicalNode::Fit
//! [`Join`]: PhysicalNode::Join
//! [`Concat`]: PhysicalNode::Concat
//!
//! A subplan that appears more than once (the same grouping of the same scans, or a join
//! that keeps few rows, written twice by the query or copied by the optimizer) is lowered
//! once, as a [`Shared`] node every place holds: the executor runs it at its first use and
//! hands its frame to the others.
//!
//! [`Shared`]: PhysicalNode::Shared

mod dictionary;
mod estimate;
mod explain;
mod join;
mod lower;
mod ordering;
mod shared;
mod windows;

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};

use crate::error::Result;
use crate::expr::{Expr, SortOptions};
use crate::frame::DataFrame;
use crate::io::ScanSource;
use crate::memory::Reservation;

pub(crate) use estimate::{estimated_rows, kept_fraction, kept_rows};
pub(crate) use join::{JoinSpec, Side};
pub(crate) use lower::lower;
#[cfg(test)]
pub(crate) use lower::lower_with;

/// A lowered plan: the root operator.
#[derive(Debug)]
pub(crate) struct PhysicalPlan {
    pub(crate) root: PhysicalNode,
}

/// One physical operator.
#[derive(Debug)]
pub(crate) enum PhysicalNode {
    /// Morsels from a source through streaming operators, collected in morsel order.
    Pipeline(Pipeline),
    /// Scalar expressions over the input's rows, computed in one streaming pass: `aggs` are the
    /// distinct aggregates (each an `Expr::Agg` over an elementwise input), bound as the
    /// parameters `params[i]`; `outputs` read them and give the one output row.
    Aggregate {
        input: Pipeline,
        aggs: Vec<(String, Expr)>,
        outputs: Vec<Expr>,
        schema: SchemaRef,
    },
    /// Statistics of the input that the operators above read as parameters (the optimizer's
    /// aggregate hoisting): the input is materialized, each `(name, expr)` computed over it
    /// and bound as `$name`; the output is the materialized input itself.
    Hoisted {
        input: Box<PhysicalNode>,
        params: Vec<(String, Expr)>,
    },
    /// Rows `offset..offset + len` of a pipeline (a negative offset counts from the end),
    /// pulling only the morsels needed.
    Slice {
        input: Pipeline,
        offset: i64,
        len: usize,
    },
    /// A stable sort of the materialized input by keys.
    Sort {
        input: Box<PhysicalNode>,
        by: Vec<Expr>,
        options: Vec<SortOptions>,
    },
    /// Rows of the materialized input at the positions an integer expression gives.
    Gather {
        input: Box<PhysicalNode>,
        indices: Expr,
    },
    /// Expressions that need whole columns (windows, sorts, fills from a statistic, nested
    /// aggregates) over the materialized input.
    Evaluate {
        input: Box<PhysicalNode>,
        op: WholeOp,
        schema: SchemaRef,
    },
    /// An ordering function of elementwise inputs that streams instead of holding its input
    /// (see [`OrderingOp`]), the output columns named and typed as `schema` says.
    Ordering {
        input: Box<PhysicalNode>,
        op: OrderingOp,
        schema: SchemaRef,
    },
    /// Hash aggregation of the input's rows by `keys` (elementwise), streaming: each morsel
    /// groups its rows into its own table and updates columnar accumulators of `aggs` (each
    /// an `Expr::Agg` over elementwise inputs); the partials merge in morsel order (groups in
    /// order of first appearance). `outputs` are elementwise expressions over the groups'
    /// keys (`__key0`, ...) and aggregates (`__agg0`, ...), one row per group.
    GroupBy {
        input: Pipeline,
        keys: Vec<Expr>,
        aggs: Vec<Expr>,
        outputs: Vec<Expr>,
        schema: SchemaRef,
    },
    /// Work on each group of the materialized input by `keys` (see [`GroupedOp`]).
    Grouped {
        input: Box<PhysicalNode>,
        keys: Vec<Expr>,
        op: GroupedOp,
        schema: SchemaRef,
    },
    /// A model fit over the materialized input (the root of a model's plan).
    Fit {
        input: Box<PhysicalNode>,
        model: Arc<dyn ModelFit>,
    },
    /// A join whose output cannot stream from the probe side: the hash table is built on
    /// `build` (the side whose rows order the output, or either side of a full join), the
    /// `probe` pipeline's rows are matched against it, and the output is put in order.
    Join {
        build: Box<PhysicalNode>,
        probe: Pipeline,
        spec: Arc<JoinSpec>,
    },
    /// The inputs' rows one after another, columns by name in `schema`'s order.
    Concat {
        inputs: Vec<PhysicalNode>,
        schema: SchemaRef,
    },
    /// A subplan the plan holds more than once (TPC-H's Q15 groups a quarter of line items
    /// by supplier for its join and again for the largest revenue): every place it appears
    /// holds this node with the same `id` and input, which runs once, at its first use; its
    /// frame is kept for the other uses and let go after the last.
    Shared { id: usize, input: Arc<SharedInput> },
}

/// The input of a [`PhysicalNode::Shared`] and how many places read it.
#[derive(Debug)]
pub(crate) struct SharedInput {
    pub(crate) node: PhysicalNode,
    /// Places in the plan that hold it (counted while lowering).
    pub(crate) uses: std::sync::atomic::AtomicUsize,
}

/// What an [`PhysicalNode::Evaluate`] computes over whole columns.
#[derive(Clone, Debug)]
pub(crate) enum WholeOp {
    Filter(Expr),
    Select(Vec<Expr>),
    WithColumns(Vec<Expr>),
}

/// What a [`PhysicalNode::Ordering`] computes.
#[derive(Clone, Debug)]
pub(crate) enum OrderingOp {
    /// `select` of `top_k(k)`/`bottom_k(k)` calls (one `k`), one output column each: a
    /// bounded selection per morsel, the survivors merged in morsel order (`TOP_K`).
    TopK { k: usize, columns: Vec<TopColumn> },
    /// `select` of one `arg_sort`: the row numbers (UInt64) an external sort of (row number,
    /// key) pairs puts in order, spilling runs like `SORT` (`ARG_SORT`).
    ArgSort { key: Expr, options: SortOptions },
}

/// One output column of a [`OrderingOp::TopK`]: the `k` largest (or smallest) of `input`.
#[derive(Clone, Debug)]
pub(crate) struct TopColumn {
    pub(crate) input: Expr,
    pub(crate) largest: bool,
}

impl OrderingOp {
    /// The operator's name in plan text and memory errors.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            OrderingOp::TopK { .. } => "TOP_K",
            OrderingOp::ArgSort { .. } => "ARG_SORT",
        }
    }
}

/// What a [`PhysicalNode::Grouped`] does with each group.
#[derive(Clone, Debug)]
pub(crate) enum GroupedOp {
    /// Its first `n` rows (the keys, then the other columns).
    Head(usize),
    /// These expressions, one value per group, evaluated on the group's rows (aggregates whose
    /// input needs whole columns or holds another aggregate).
    Evaluate(Vec<Expr>),
}

impl PhysicalNode {
    /// The operator's output schema (computed when the plan was lowered).
    pub(crate) fn schema(&self) -> SchemaRef {
        match self {
            PhysicalNode::Pipeline(p) => p.schema(),
            PhysicalNode::Aggregate { schema, .. }
            | PhysicalNode::Evaluate { schema, .. }
            | PhysicalNode::Ordering { schema, .. }
            | PhysicalNode::GroupBy { schema, .. }
            | PhysicalNode::Grouped { schema, .. } => schema.clone(),
            PhysicalNode::Slice { input, .. } => input.schema(),
            PhysicalNode::Hoisted { input, .. }
            | PhysicalNode::Sort { input, .. }
            | PhysicalNode::Gather { input, .. }
            | PhysicalNode::Fit { input, .. } => input.schema(),
            PhysicalNode::Join { spec, .. } => spec.layout.schema.clone(),
            PhysicalNode::Concat { schema, .. } => schema.clone(),
            PhysicalNode::Shared { input, .. } => input.node.schema(),
        }
    }
}

/// Where a pipeline's morsels come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// A file, opened when the pipeline runs; `columns` are those read (the output's and the
    /// predicate's), `predicate` lets the reader skip morsels by statistics, `limit` lets it
    /// stop early; the string columns named in `coded` are read as dictionary codes for the
    /// grouping above (`dictionary.rs`), as `schema` says.
    Scan {
        source: Arc<ScanSource>,
        columns: Option<Vec<String>>,
        predicate: Option<Expr>,
        limit: Option<usize>,
        coded: Vec<String>,
        schema: SchemaRef,
    },
    /// A frame in memory, cut into fixed 64K-row morsels (zero-copy slices).
    Frame(DataFrame),
    /// The frame a breaker below produces.
    Node(Box<PhysicalNode>),
}

impl Source {
    /// The schema of the source's morsels.
    pub(crate) fn schema(&self) -> SchemaRef {
        match self {
            Source::Scan { schema, .. } => schema.clone(),
            Source::Frame(df) => df.schema().clone(),
            Source::Node(n) => n.schema(),
        }
    }
}

/// A streaming operator: applied to each morsel piece on its own.
#[derive(Clone, Debug)]
pub(crate) enum StreamOp {
    /// Keep rows where the predicate is true.
    Filter(Expr),
    /// Filter by a predicate over the input, keeping only the columns at these positions (a
    /// scan's predicate may read columns the query does not output; they are not filtered).
    FilterKeep(Expr, Vec<usize>),
    /// Output exactly these (elementwise, selector-free) expressions.
    Select(Vec<Expr>),
    /// Add or replace these columns.
    WithColumns(Vec<Expr>),
    /// Match each morsel against the hash table of one of the pipeline's [`Build`]s (a
    /// join whose rows follow this side's order: the morsel's rows, each with its matches).
    Probe(Arc<JoinSpec>),
    /// Window functions that look back a bounded number of rows (a rolling window that is not
    /// centred), each added as the named column: every piece is computed with the last
    /// `lookback` rows before it (of the `carry` columns, the windows' inputs) in front, which
    /// the executor carries from piece to piece in row order. See `windows.rs`.
    Window {
        exprs: Vec<(String, Expr)>,
        carry: Vec<String>,
        lookback: usize,
    },
}

impl StreamOp {
    /// True when the operator may change the number of rows (filters, joins).
    pub(crate) fn changes_rows(&self) -> bool {
        match self {
            StreamOp::Filter(_) | StreamOp::FilterKeep(..) | StreamOp::Probe(_) => true,
            StreamOp::Select(_) | StreamOp::WithColumns(_) | StreamOp::Window { .. } => false,
        }
    }
}

/// A source and the streaming operators applied to each of its morsels, each with the schema
/// of its output; `builds` are the hash tables its [`StreamOp::Probe`]s read, built (each from
/// its own input) before the first morsel runs.
#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) source: Source,
    pub(crate) ops: Vec<(StreamOp, SchemaRef)>,
    pub(crate) builds: Vec<Build>,
}

/// The build side of a streaming join: its input is materialized and a hash table built on
/// its keys (a pipeline breaker), then handed to the probing pipeline as a value, under `id`.
#[derive(Debug)]
pub(crate) struct Build {
    pub(crate) input: PhysicalNode,
    pub(crate) spec: Arc<JoinSpec>,
}

impl Pipeline {
    /// A pipeline of the source alone.
    pub(crate) fn new(source: Source) -> Self {
        Self {
            source,
            ops: vec![],
            builds: vec![],
        }
    }

    /// The schema of the pipeline's output.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.ops
            .last()
            .map_or_else(|| self.source.schema(), |(_, s)| s.clone())
    }

    /// Append an operator whose output has `schema`.
    pub(crate) fn push(&mut self, op: StreamOp, schema: SchemaRef) {
        self.ops.push((op, schema));
    }
}

/// A model's fit, as the root operator of the model's plan: the `ml` module implements it for
/// each model, so the executor runs fits without knowing the models.
pub(crate) trait ModelFit: Send + Sync + std::fmt::Debug {
    /// The operator's line in plan text (`KMEANS k=3 features=[a, b] seed=42`).
    fn text(&self) -> String;
    /// Fit on the input, the rows of `pieces` in order (each of `schema`, taken as the input's
    /// operators gave them: a model reads them in place, never stacked into one frame, and lets
    /// go of what it does not need), on
    /// the current rayon pool, reserving what the fit holds beside the input from `budget`
    /// (the `FIT` operator's reservation) before it allocates it.
    fn fit(
        &self,
        schema: &Schema,
        pieces: Vec<DataFrame>,
        budget: &Reservation,
    ) -> Result<Box<dyn Any + Send>>;
    /// An empty state for a fit in one pass over the input's pieces, when the model has one:
    /// the executor then streams the input through it instead of materializing it
    /// (`exec::fit`).
    fn stream(&self) -> Option<Box<dyn FitState>> {
        None
    }
    /// Rows the executor keeps while streaming, in case [`FitState::finish`] asks for the
    /// input after all (a PCA whose `auto` solver depends on the row count): 0 keeps none.
    fn keep_rows(&self) -> usize {
        0
    }
    /// The features of a fit that takes its input as one row-major `f64` matrix (narrow
    /// k-means), when it takes it so: the executor then writes the input's pieces straight
    /// into that matrix as they stream, never holding the input as columns
    /// ([`ModelFit::fit_row_major`]).
    fn row_major_features(&self) -> Option<&[String]> {
        None
    }
    /// Fit on `x`: every input row's [`ModelFit::row_major_features`], row after row (`x`
    /// is reserved from `budget` already; the fit reserves what it holds beside it).
    fn fit_row_major(&self, x: Vec<f64>, budget: &Reservation) -> Result<Box<dyn Any + Send>> {
        let _ = (x, budget);
        Err(crate::error::Error::Internal(format!(
            "{} has no fit on rows",
            self.text()
        )))
    }
    /// Rows per chunk of a fit that reads its input again on every pass, chunk by chunk
    /// ([`ModelFit::fit_rescanning`]), when the model has one: the executor uses it when the
    /// input is over the memory budget, reading a re-readable input again on every pass and
    /// spilling any other input once to a file it reads instead.
    fn rescan_chunk_rows(&self) -> Option<usize> {
        None
    }
    /// Fit over `rows`, read again on every pass instead of held, reserving what the fit holds
    /// from `budget`; `None` when this fit (a PCA whose solver turns out to need the data in
    /// memory) cannot run that way.
    fn fit_rescanning(
        &self,
        rows: &dyn RowChunks,
        budget: &Reservation,
    ) -> Result<Option<Box<dyn Any + Send>>> {
        let _ = (rows, budget);
        Err(crate::error::Error::Internal(format!(
            "{} has no fit that reads its input again",
            self.text()
        )))
    }
}

/// A model's input as consecutive chunks of a fixed number of rows (the last may be shorter),
/// cut by row number, so each chunk holds the same rows as the same rows of the materialized
/// input: each pass reads the source again.
pub(crate) trait RowChunks: Sync {
    /// Rows in all.
    fn rows(&self) -> usize;
    /// Rows per chunk.
    fn chunk_rows(&self) -> usize;
    /// One pass: `f(c, chunk)` for every chunk `c`, in parallel (in no particular order).
    fn for_each_chunk(&self, f: &(dyn Fn(usize, &DataFrame) -> Result<()> + Sync)) -> Result<()>;
    /// Chunk `c` alone (reading only the morsels that hold it).
    fn chunk(&self, c: usize) -> Result<DataFrame>;
}

/// The state of a one-pass fit over the pieces of some consecutive rows (a morsel, then all
/// morsels merged in order).
pub(crate) trait FitState: Send {
    /// Add the next piece of rows.
    fn update(&mut self, piece: &DataFrame) -> Result<()>;
    /// Add the rows of `next`, which come right after these (the same model's state).
    fn merge(&mut self, next: Box<dyn FitState>) -> Result<()>;
    /// Bytes the state holds (reserved from the run's budget for every state alive at once).
    fn bytes(&self) -> usize;
    /// The fitted model, or `None` when the fit needs the whole input after all.
    fn finish(self: Box<Self>) -> Result<Option<Box<dyn Any + Send>>>;
    /// The state as `Any`, for [`FitState::merge`] to take its own type back.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}
