//! How a script's calls that run a query (`collect()`, a model's `fit()`, `sink_*`) run it.
//!
//! In Rust these take the default options. A script is run by someone (the CLI, with
//! `--threads`, `--memory-limit`, `--temp-dir` and its progress bar), so in a script they run
//! with that run's [`ExecOptions`]: a script's `lf.sink_parquet("out.parquet")?` honours the
//! CLI's flags. Options given explicitly (`sink_parquet_with(.., &ExecOptions::new()..)`,
//! `collect_with`) are used as given. Results never depend on these options (threads and
//! budgets change how, not what), so a script still means what the same Rust code means.
//!
//! When a script is only planned (`fusedframe explain`), sinks are recorded with their plans
//! instead of writing files.

use std::cell::RefCell;
use std::path::PathBuf;

use crate::error::Result;
use crate::frame::DataFrame;
use crate::io::SinkFormat;
use crate::plan::{ExecOptions, LazyFrame};

/// A sink a planned script would run: where, in which format, and the query.
#[derive(Clone, Debug)]
pub struct PlannedSink {
    /// The file the sink writes.
    pub path: PathBuf,
    /// Its format.
    pub format: SinkFormat,
    /// The query whose rows it writes.
    pub query: LazyFrame,
}

/// The run a script is evaluated in (see the module docs).
#[derive(Debug, Default)]
pub struct Session {
    options: ExecOptions,
    plan_only: bool,
    planned: RefCell<Vec<PlannedSink>>,
}

impl Session {
    /// Run queries with `options`.
    pub fn new(options: ExecOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// Record sinks instead of running them.
    pub fn plan_only() -> Self {
        Self {
            plan_only: true,
            ..Self::default()
        }
    }

    /// The options queries run with.
    pub fn options(&self) -> &ExecOptions {
        &self.options
    }

    /// `lf.collect()` in a script.
    pub fn collect(&self, lf: LazyFrame) -> Result<DataFrame> {
        lf.collect_with(&self.options)
    }

    /// `lf.sink_*(path)` in a script: run with `options` (the session's when `None`), or
    /// recorded when only planning.
    pub fn sink(
        &self,
        lf: LazyFrame,
        path: &str,
        format: SinkFormat,
        options: Option<&ExecOptions>,
    ) -> Result<()> {
        if self.plan_only {
            // The plan must be valid all the same.
            lf.schema()?;
            self.planned.borrow_mut().push(PlannedSink {
                path: PathBuf::from(path),
                format,
                query: lf,
            });
            return Ok(());
        }
        lf.sink(path.as_ref(), format, options.unwrap_or(&self.options))
    }

    /// The sinks recorded so far.
    pub(crate) fn take_planned(&self) -> Vec<PlannedSink> {
        std::mem::take(&mut self.planned.borrow_mut())
    }
}
