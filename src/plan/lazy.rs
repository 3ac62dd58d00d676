//! `LazyFrame`: the builder users chain (`filter`, `select`, `with_columns`, ...), its output
//! `schema`, and the options of a run ([`ExecOptions`]). The methods that optimize, lower and
//! run it (`explain*`, `collect*`, `sink_*`) are in the crate's top `lazy` module, above the
//! optimizer and the executor, so this layer builds plans without depending on what runs them.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use super::LogicalPlan;
use crate::error::Result;
use crate::expr::{Expr, SortOptions};
use crate::frame::DataFrame;
use crate::memory::MemoryPool;

/// A progress callback: told `(morsels done, morsels total)` as a pipeline runs, from worker
/// threads.
pub type ProgressFn = dyn Fn(usize, usize) + Send + Sync;

/// A sink's progress callback: told the rows written so far, from the writing thread.
pub type RowsFn = dyn Fn(u64) + Send + Sync;

/// How a query runs.
#[derive(Clone)]
pub struct ExecOptions {
    /// Worker threads; `None` uses `FUSEDFRAME_THREADS` or else every core.
    pub threads: Option<usize>,
    /// Run the optimizer (on by default; off is for testing that rules preserve results).
    pub optimize: bool,
    /// Told the progress of each pipeline as its morsels complete (the CLI draws its progress
    /// bar with it); `None` reports nothing.
    pub progress: Option<Arc<ProgressFn>>,
    /// The memory budget in bytes; `None` uses `FUSEDFRAME_MEMORY_LIMIT` or else a fraction
    /// of physical memory (see [`crate::memory`]).
    pub memory_limit: Option<usize>,
    /// A pool shared with other runs (its limit then applies to all of them together);
    /// `None` gives the run a pool of its own of [`memory_limit`](Self::memory_limit) bytes.
    pub memory_pool: Option<Arc<MemoryPool>>,
    /// Where operators that spill write their temporary files; `None` uses
    /// `FUSEDFRAME_TEMP_DIR` or else the system's temporary directory.
    pub temp_dir: Option<PathBuf>,
    /// Told the rows a sink has written so far (the CLI shows them on its progress bar).
    pub rows_written: Option<Arc<RowsFn>>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            threads: None,
            optimize: true,
            progress: None,
            memory_limit: None,
            memory_pool: None,
            temp_dir: None,
            rows_written: None,
        }
    }
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("threads", &self.threads)
            .field("optimize", &self.optimize)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("memory_limit", &self.memory_limit)
            .field("memory_pool", &self.memory_pool)
            .field("temp_dir", &self.temp_dir)
            .field(
                "rows_written",
                &self.rows_written.as_ref().map(|_| "callback"),
            )
            .finish()
    }
}

impl ExecOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Use this many worker threads.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }
    /// Turn the optimizer on or off.
    pub fn optimize(mut self, on: bool) -> Self {
        self.optimize = on;
        self
    }
    /// Report progress to `callback` as `(morsels done, morsels total)` per pipeline.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use fusedframe::prelude::*;
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let seen = calls.clone();
    /// let options = ExecOptions::new().progress(Arc::new(move |_done, _total| {
    ///     seen.fetch_add(1, Ordering::Relaxed);
    /// }));
    /// range(0, 200_000).select([col("range").sum()]).collect_with(&options)?;
    /// assert!(calls.load(Ordering::Relaxed) > 0);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn progress(mut self, callback: Arc<ProgressFn>) -> Self {
        self.progress = Some(callback);
        self
    }
    /// Run within a budget of `bytes`: operators that hold data reserve it first, spill
    /// (sorts) or re-read their file (statistics) when it runs out, and otherwise stop the
    /// query with [`Error::MemoryLimit`](crate::Error::MemoryLimit) naming the operator.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// // Sorting 8 MB takes about 40 MB in memory: under 16 MB the sort spills sorted runs to
    /// // temporary files and merges them; the 8 MB result fits.
    /// let df = range(0, 1_000_000).sort("range", SortOptions::new().descending(true))
    ///     .collect_with(&ExecOptions::new().memory_limit(16 << 20))?;
    /// assert_eq!(df.height(), 1_000_000);
    /// // A result larger than the budget is an error naming what holds it.
    /// let err = range(0, 1_000_000)
    ///     .with_columns([(col("range") * 2).alias("twice")])
    ///     .collect_with(&ExecOptions::new().memory_limit(1 << 20));
    /// assert!(matches!(err, Err(Error::MemoryLimit { .. })));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }
    /// Reserve from `pool`, shared with other runs, instead of a pool of the run's own.
    pub fn memory_pool(mut self, pool: Arc<MemoryPool>) -> Self {
        self.memory_pool = Some(pool);
        self
    }
    /// Write spill files under `dir` (they are removed when the run ends, on error too).
    pub fn temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }
    /// Tell `callback` the rows a sink has written so far, as it writes.
    pub fn on_rows_written(mut self, callback: Arc<RowsFn>) -> Self {
        self.rows_written = Some(callback);
        self
    }
}

/// Sort options for one key or one per key: `SortOptions`, `[SortOptions; N]` or a `Vec`.
pub trait IntoSortOptions {
    /// Options for `n` keys (a single value applies to all of them).
    fn into_sort_options(self, n: usize) -> Vec<SortOptions>;
}

impl IntoSortOptions for SortOptions {
    fn into_sort_options(self, n: usize) -> Vec<SortOptions> {
        vec![self; n]
    }
}

impl IntoSortOptions for Vec<SortOptions> {
    fn into_sort_options(self, _n: usize) -> Vec<SortOptions> {
        self
    }
}

impl<const N: usize> IntoSortOptions for [SortOptions; N] {
    fn into_sort_options(self, _n: usize) -> Vec<SortOptions> {
        self.to_vec()
    }
}

/// A lazy query: a logical plan that runs when collected.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [1.0, -2.0, 3.0], "y" => [1, 2, 3])?;
/// let out = df.lazy()
///     .filter(col("x").gt(0.0))
///     .with_columns([(col("x") - col("x").mean()).alias("xc")])
///     .collect()?;
/// assert_eq!(out.column_f64("xc")?, vec![Some(-1.0), Some(1.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct LazyFrame {
    plan: Arc<LogicalPlan>,
}

impl LazyFrame {
    /// Wrap a logical plan.
    pub fn from_plan(plan: LogicalPlan) -> Self {
        Self {
            plan: Arc::new(plan),
        }
    }

    /// A lazy query over an in-memory frame.
    pub fn from_dataframe(df: DataFrame) -> Self {
        Self::from_plan(LogicalPlan::InMemory {
            df,
            projection: None,
        })
    }

    /// The logical plan as built (before optimization).
    pub fn logical_plan(&self) -> &Arc<LogicalPlan> {
        &self.plan
    }

    fn then(self, f: impl FnOnce(Arc<LogicalPlan>) -> LogicalPlan) -> Self {
        Self::from_plan(f(self.plan))
    }

    /// Keep rows where `predicate` is true (null counts as false).
    pub fn filter(self, predicate: impl Into<Expr>) -> Self {
        let predicate = predicate.into();
        self.then(|input| LogicalPlan::Filter { input, predicate })
    }

    /// Output exactly these expressions (aggregates alone give one row).
    pub fn select<E: Into<Expr>>(self, exprs: impl IntoIterator<Item = E>) -> Self {
        let exprs = exprs.into_iter().map(Into::into).collect();
        self.then(|input| LogicalPlan::Select { input, exprs })
    }

    /// Add columns, or replace those with the same name.
    pub fn with_columns<E: Into<Expr>>(self, exprs: impl IntoIterator<Item = E>) -> Self {
        let exprs = exprs.into_iter().map(Into::into).collect();
        self.then(|input| LogicalPlan::WithColumns { input, exprs })
    }

    /// Add or replace one column.
    pub fn with_column(self, expr: impl Into<Expr>) -> Self {
        self.with_columns([expr.into()])
    }

    /// Sort by one column.
    pub fn sort(self, column: &str, options: SortOptions) -> Self {
        self.sort_by([crate::expr::col(column)], options)
    }

    /// Sort by several keys (expressions), with one `SortOptions` for all or one per key.
    pub fn sort_by<E: Into<Expr>>(
        self,
        by: impl IntoIterator<Item = E>,
        options: impl IntoSortOptions,
    ) -> Self {
        let by: Vec<Expr> = by.into_iter().map(Into::into).collect();
        let options = options.into_sort_options(by.len());
        self.then(|input| LogicalPlan::Sort { input, by, options })
    }

    /// The first `n` rows.
    pub fn head(self, n: usize) -> Self {
        self.slice(0, n)
    }

    /// The last `n` rows.
    pub fn tail(self, n: usize) -> Self {
        self.then(|input| LogicalPlan::Slice {
            input,
            offset: -(n as i64),
            len: n,
        })
    }

    /// `len` rows from `offset` (negative counts from the end).
    pub fn slice(self, offset: i64, len: usize) -> Self {
        self.then(|input| LogicalPlan::Slice { input, offset, len })
    }

    /// Remove columns.
    pub fn drop<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> Self {
        let columns = columns.into_iter().map(Into::into).collect();
        self.then(|input| LogicalPlan::Drop { input, columns })
    }

    /// Rename columns pairwise.
    pub fn rename<S: Into<String>, T: Into<String>>(
        self,
        existing: impl IntoIterator<Item = S>,
        new: impl IntoIterator<Item = T>,
    ) -> Self {
        let existing = existing.into_iter().map(Into::into).collect();
        let new = new.into_iter().map(Into::into).collect();
        self.then(|input| LogicalPlan::Rename {
            input,
            existing,
            new,
        })
    }

    /// Take rows at the positions `indices` gives (e.g. `col("x").arg_sort(..)`): a negative
    /// index counts from the end, a null index gives a row of nulls, a scalar index one row; an
    /// index out of range is an error naming it.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [3.0, 1.0, 2.0], "y" => ["c", "a", "b"])?;
    /// let out = df.lazy().gather(col("x").arg_sort(SortOptions::default())).collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(1.0), Some(2.0), Some(3.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn gather(self, indices: impl Into<Expr>) -> Self {
        let indices = indices.into();
        self.then(|input| LogicalPlan::Gather { input, indices })
    }

    /// The output schema, from file metadata and type rules; reads no data rows.
    pub fn schema(&self) -> Result<SchemaRef> {
        self.plan.schema()
    }
}
