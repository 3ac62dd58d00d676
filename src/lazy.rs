//! Running a lazy query: the methods of [`LazyFrame`] that need the layers above the logical
//! plan (`explain*`, `collect*`, `sink_*`): the optimizer, the lowering into a physical plan
//! and the executor.
//!
//! `LazyFrame` itself and its builder methods are in `plan`, which only describes queries;
//! an inherent `impl` may sit in any module of the crate, so these methods live here, at the
//! top of the engine's layers (see the crate docs), and `plan` needs nothing above it. Users
//! see one type with all its methods either way.

use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::frame::DataFrame;
use crate::io::{IpcWriteOptions, ParquetWriteOptions, SinkFormat};
use crate::plan::{ExecOptions, LazyFrame, LogicalPlan};

impl LazyFrame {
    /// The plan as text: optimized (`true`) or as built (`false`).
    pub fn explain(&self, optimized: bool) -> Result<String> {
        if optimized {
            let plan = crate::optimizer::optimize(self.logical_plan())?;
            Ok(plan.display_indent())
        } else {
            self.logical_plan().schema()?;
            Ok(self.logical_plan().display_indent())
        }
    }

    /// The physical plan the executor runs, as text: the optimized plan lowered into
    /// pipelines (a source and the streaming operators each morsel goes through) and the
    /// breakers between them (aggregates, sorts, gathers, whole-column expressions). Reads no
    /// data.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, -2.0, 3.0])?;
    /// let text = df.lazy()
    ///     .filter(col("x").gt(0.0))
    ///     .with_columns([(col("x") * 2.0).alias("y")])
    ///     .sort("y", SortOptions::default())
    ///     .explain_physical()?;
    /// assert_eq!(text, "SORT by=[col(\"y\")]\n  PIPELINE\n    WITH_COLUMNS [(col(\"x\") * 2.0).alias(\"y\")]\n    FILTER col(\"x\").gt(0.0)\n    DATAFRAME rows=3 width=1");
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn explain_physical(&self) -> Result<String> {
        let plan = crate::optimizer::optimize(self.logical_plan())?;
        Ok(crate::physical::lower(&plan)?.display_indent())
    }

    /// Every optimizer step: each rule's name and the plan after it (or "unchanged").
    pub fn explain_verbose(&self) -> Result<String> {
        let (plan, steps) = crate::optimizer::optimize_traced(self.logical_plan())?;
        let mut out = format!("initial plan:\n{}\n", self.logical_plan().display_indent());
        for (rule, after) in steps {
            match after {
                Some(text) => out.push_str(&format!("\n{rule}:\n{text}\n")),
                None => out.push_str(&format!("\n{rule}: unchanged\n")),
            }
        }
        out.push_str(&format!("\noptimized plan:\n{}", plan.display_indent()));
        Ok(out)
    }

    /// Run the query with default options.
    pub fn collect(self) -> Result<DataFrame> {
        self.collect_with(&ExecOptions::default())
    }

    /// Run the query with these options.
    pub fn collect_with(self, options: &ExecOptions) -> Result<DataFrame> {
        let plan = self.optimized_with(options)?;
        crate::exec::execute(&plan, options)
    }

    /// The plan as it will run: optimized, or only resolved when `options` turn the optimizer
    /// off.
    pub(crate) fn optimized_with(&self, options: &ExecOptions) -> Result<Arc<LogicalPlan>> {
        if options.optimize {
            crate::optimizer::optimize(self.logical_plan())
        } else {
            crate::optimizer::resolve(self.logical_plan())
        }
    }

    /// Run the query and write CSV to `path`, streaming: see
    /// [`sink_parquet_with`](Self::sink_parquet_with).
    pub fn sink_csv(self, path: impl AsRef<Path>) -> Result<()> {
        self.sink_csv_with(path, &ExecOptions::default())
    }

    /// [`sink_csv`](Self::sink_csv) with these options for the run.
    pub fn sink_csv_with(self, path: impl AsRef<Path>, options: &ExecOptions) -> Result<()> {
        self.sink(path.as_ref(), SinkFormat::Csv, options)
    }

    /// Run the query and write Parquet to `path` (snappy, 64 MiB row groups, statistics):
    /// see [`sink_parquet_with`](Self::sink_parquet_with).
    pub fn sink_parquet(self, path: impl AsRef<Path>) -> Result<()> {
        self.sink_parquet_with(
            path,
            &ParquetWriteOptions::default(),
            &ExecOptions::default(),
        )
    }

    /// Run the query and write its output to `path` as Parquet while it runs: morsels are
    /// written in row order as they complete, holding a few morsels per worker whatever the
    /// output's size, so a file larger than memory can be converted or cleaned. The file is
    /// written under a temporary name and renamed on success: a failure leaves no file (and
    /// an existing one as it was).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let dir = std::env::temp_dir().join(format!("ff-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("squares.parquet");
    /// range(0, 100_000)
    ///     .with_columns([(col("range") * col("range")).alias("sq")])
    ///     .sink_parquet_with(
    ///         &path,
    ///         &ParquetWriteOptions::new().compression(ParquetCompression::Zstd),
    ///         &ExecOptions::new().threads(2),
    ///     )?;
    /// assert_eq!(scan_parquet(&path).collect()?.height(), 100_000);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sink_parquet_with(
        self,
        path: impl AsRef<Path>,
        write: &ParquetWriteOptions,
        options: &ExecOptions,
    ) -> Result<()> {
        self.sink(path.as_ref(), SinkFormat::Parquet(*write), options)
    }

    /// Run the query and write Arrow IPC to `path`, streaming: see
    /// [`sink_parquet_with`](Self::sink_parquet_with).
    pub fn sink_ipc(self, path: impl AsRef<Path>) -> Result<()> {
        self.sink_ipc_with(path, &IpcWriteOptions::default(), &ExecOptions::default())
    }

    /// [`sink_ipc`](Self::sink_ipc) in the file or the stream format, compressed or not, with
    /// options for the run.
    pub fn sink_ipc_with(
        self,
        path: impl AsRef<Path>,
        write: &IpcWriteOptions,
        options: &ExecOptions,
    ) -> Result<()> {
        self.sink(path.as_ref(), SinkFormat::Ipc(*write), options)
    }

    /// Plan the query and stream its output into `path` in `format`.
    pub(crate) fn sink(self, path: &Path, format: SinkFormat, options: &ExecOptions) -> Result<()> {
        let plan = self.optimized_with(options)?;
        let physical = crate::physical::lower(&plan)?;
        crate::exec::execute_sink(&physical, options, path, &format)?;
        Ok(())
    }
}
