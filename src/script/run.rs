//! What the `fusedframe` command does, as library functions the binary calls: run scripts
//! (collect and print or write), explain them, show a file's schema, and expand directories
//! into their scripts. Engine errors are re-placed at the script step they come from.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::output::{write_file, write_stdout, FileKind, Format};
use super::{Output, Script};
use crate::error::{Error, Result};
use crate::plan::{ExecOptions, ProgressFn, RowsFn};

/// Options of `fusedframe run`.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Write the result here (format by extension) instead of printing it.
    pub output: Option<PathBuf>,
    /// How to print on stdout.
    pub format: Format,
    /// Worker threads (`None`: `FUSEDFRAME_THREADS` or every core).
    pub threads: Option<usize>,
    /// Print the optimized plan instead of running.
    pub explain: bool,
    /// Told `(morsels done, morsels total)` as pipelines run (the CLI draws its progress bar
    /// with it when stderr is a terminal).
    pub progress: Option<Arc<ProgressFn>>,
    /// Told the rows a sink has written so far.
    pub rows_written: Option<Arc<RowsFn>>,
    /// The memory budget in bytes (`None`: `FUSEDFRAME_MEMORY_LIMIT` or a share of RAM).
    pub memory_limit: Option<usize>,
    /// Where spill files go (`None`: `FUSEDFRAME_TEMP_DIR` or the system's).
    pub temp_dir: Option<PathBuf>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let callback = |set: bool| if set { "callback" } else { "none" };
        f.debug_struct("RunOptions")
            .field("output", &self.output)
            .field("format", &self.format)
            .field("threads", &self.threads)
            .field("explain", &self.explain)
            .field("progress", &callback(self.progress.is_some()))
            .field("rows_written", &callback(self.rows_written.is_some()))
            .field("memory_limit", &self.memory_limit)
            .field("temp_dir", &self.temp_dir)
            .finish()
    }
}

/// Every script `paths` names: files as given, directories as their `*.fq` files in name order.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io(p, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "fq"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::Plan(format!(
                    "no *.fq scripts in directory {}",
                    p.display()
                )));
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The line printed before each script's output when several run.
pub fn header(script: &Script) -> String {
    match script.description() {
        Some(d) => format!("==> {}: {d} <==", script.name()),
        None => format!("==> {} <==", script.name()),
    }
}

/// Run one script: interpret (its own sinks run now, with these options), then explain,
/// print, or write the result (a query's result streams into `--output`).
pub fn run_script(script: &Script, options: &RunOptions, out: &mut dyn Write) -> Result<()> {
    if options.explain {
        let text = explain_script(script, ExplainKind::Optimized)?;
        return writeln!(out, "{text}").map_err(|e| Error::io("<stdout>", e));
    }
    // Checked before running, so a long query does not end in "unknown extension" (a
    // picture's path is checked by the plot's run below).
    let target = match &options.output {
        Some(path) if !is_picture(path) => Some((path, output_kind(path)?)),
        _ => None,
    };
    let mut exec = ExecOptions::new();
    exec.threads = options.threads;
    exec.memory_limit = options.memory_limit;
    exec.temp_dir = options.temp_dir.clone();
    exec.progress = options.progress.clone();
    exec.rows_written = options.rows_written.clone();
    let ev = script.eval_with(&exec)?;
    #[cfg(feature = "plot")]
    if let Some(done) = super::plot::run_picture(&ev, options, out) {
        return done;
    }
    // A model prints its summary; its table is what CSV/JSON/--output carry.
    let (df, summary) = match (ev.output.clone(), target) {
        (Output::Done, None) => return Ok(()),
        (Output::Done, Some((path, _))) => {
            return Err(Error::Plan(format!(
                "the script writes its own result (it ends with a sink call); --output {} has \
                 nothing to write",
                path.display()
            )))
        }
        (Output::Lazy(lf), Some((path, kind))) if kind.sink_format().is_some() => {
            let format = kind
                .sink_format()
                .ok_or_else(|| Error::Internal("no format".into()))?;
            return lf.sink(path, format, &exec).map_err(|e| ev.locate(e));
        }
        // On the `--threads` pool: the model's passes honour the thread count too.
        (Output::Model(m), _) => {
            let fitted = m.fit_with(&exec).map_err(|e| ev.locate(e))?;
            (fitted.table, Some(fitted.summary))
        }
        (other, _) => (other.collect_with(&exec).map_err(|e| ev.locate(e))?, None),
    };
    match (target, summary) {
        (Some((path, kind)), _) => write_file(&df, kind, path),
        (None, Some(summary)) if options.format == Format::Table => {
            writeln!(out, "{summary}").map_err(|e| Error::io("<stdout>", e))
        }
        (None, _) => write_stdout(&df, options.format, out),
    }
}

/// Whether `--output` names a picture (`.svg`, `.png`), which only a plot writes.
fn is_picture(path: &Path) -> bool {
    #[cfg(feature = "plot")]
    {
        crate::plot::ImageFormat::from_path(path).is_some()
    }
    #[cfg(not(feature = "plot"))]
    {
        let _ = path;
        false
    }
}

/// The output kind for `path`, or an error listing the known extensions.
pub fn output_kind(path: &Path) -> Result<FileKind> {
    FileKind::from_path(path).ok_or_else(|| {
        Error::Plan(format!(
            "cannot tell the output format of {}: use .csv, .parquet, .arrow, .ipc or .json",
            path.display()
        ))
    })
}

/// What `fusedframe explain` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExplainKind {
    /// The optimized logical plan.
    #[default]
    Optimized,
    /// Every optimizer step.
    Verbose,
    /// The physical plan: pipelines and breakers.
    Physical,
}

/// `fusedframe explain`: the optimized plan, every optimizer step, or the physical plan. A
/// script is only planned: its sinks write nothing and show as `SINK <FORMAT> path` above the
/// plan of what they would write.
pub fn explain_script(script: &Script, kind: ExplainKind) -> Result<String> {
    let ev = script.plan()?;
    let text = |output: &Output| match kind {
        ExplainKind::Verbose => output.explain_verbose(),
        ExplainKind::Optimized => output.explain(true),
        ExplainKind::Physical => output.explain_physical(),
    };
    let mut parts = vec![];
    for sink in &ev.sinks {
        let plan = text(&Output::Lazy(sink.query.clone())).map_err(|e| ev.locate(e))?;
        let indented: Vec<String> = plan.lines().map(|l| format!("  {l}")).collect();
        parts.push(format!(
            "SINK {} path={}\n{}",
            sink_name(&sink.format),
            sink.path.display(),
            indented.join("\n")
        ));
    }
    if !matches!(ev.output, Output::Done) || ev.sinks.is_empty() {
        parts.push(text(&ev.output).map_err(|e| ev.locate(e))?);
    }
    Ok(parts.join("\n"))
}

fn sink_name(format: &crate::io::SinkFormat) -> &'static str {
    match format {
        crate::io::SinkFormat::Csv => "CSV",
        crate::io::SinkFormat::Parquet(_) => "PARQUET",
        crate::io::SinkFormat::Ipc(o) if o.is_stream() => "IPC_STREAM",
        crate::io::SinkFormat::Ipc(_) => "IPC",
    }
}

/// `fusedframe schema`: a file's columns and types, the format chosen by extension.
pub fn schema_of_file(path: &Path) -> Result<String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let lf = match ext.as_str() {
        "csv" => crate::plan::scan_csv(path),
        "parquet" => crate::plan::scan_parquet(path),
        "arrow" | "arrows" | "ipc" | "feather" => crate::plan::scan_ipc(path),
        _ => {
            return Err(Error::Plan(format!(
                "cannot tell the format of {}: use .csv, .parquet, .arrow, .arrows or .ipc",
                path.display()
            )))
        }
    };
    Ok(crate::io::schema_text(&lf.schema()?))
}

/// True when a progress bar can be seen (stderr is a terminal).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
