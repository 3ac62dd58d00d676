//! What the `fusedframe` command does, as library functions the binary calls: run scripts
//! (collect and print or write), explain them, show a file's schema, and expand directories
//! into their scripts. Engine errors are re-placed at the script step they come from.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::output::{write_file, write_stdout, FileKind, Format};
use super::{Output, Script};
use crate::error::{Error, Result};
use crate::plan::ExecOptions;

/// Options of `fusedframe run`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Write the result here (format by extension) instead of printing it.
    pub output: Option<PathBuf>,
    /// How to print on stdout.
    pub format: Format,
    /// Worker threads (`None`: `FUSEDFRAME_THREADS` or every core).
    pub threads: Option<usize>,
    /// Print the optimized plan instead of running.
    pub explain: bool,
    /// Show a progress bar on stderr (the CLI sets it when stderr is a terminal).
    pub progress: bool,
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

/// Run one script: interpret, then explain, print, or write the result.
pub fn run_script(script: &Script, options: &RunOptions, out: &mut dyn Write) -> Result<()> {
    let ev = script.eval()?;
    if options.explain {
        let plan = ev.output.explain(true).map_err(|e| ev.locate(e))?;
        return writeln!(out, "{plan}").map_err(|e| Error::io("<stdout>", e));
    }
    #[cfg(feature = "plot")]
    if let Some(done) = crate::plot::script::run_picture(&ev, options, out) {
        return done;
    }
    // Checked before running, so a long query does not end in "unknown extension".
    let target = match &options.output {
        Some(path) => Some((path, output_kind(path)?)),
        None => None,
    };
    let mut exec = ExecOptions::new();
    exec.threads = options.threads;
    // A model prints its summary; its table is what CSV/JSON/--output carry.
    let (df, summary) = {
        let bar = Progress::start(options.progress);
        if let Some(cb) = bar.callback() {
            exec = exec.progress(cb);
        }
        match ev.output.clone() {
            // On the `--threads` pool: the model's passes honour the thread count too.
            Output::Model(m) => {
                let fitted = m.fit_with(&exec).map_err(|e| ev.locate(e))?;
                (fitted.table, Some(fitted.summary))
            }
            other => (other.collect_with(&exec).map_err(|e| ev.locate(e))?, None),
        }
    };
    match (target, summary) {
        (Some((path, kind)), _) => write_file(&df, kind, path),
        (None, Some(summary)) if options.format == Format::Table => {
            writeln!(out, "{summary}").map_err(|e| Error::io("<stdout>", e))
        }
        (None, _) => write_stdout(&df, options.format, out),
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

/// `fusedframe explain`: the optimized plan, every optimizer step, or the physical plan.
pub fn explain_script(script: &Script, kind: ExplainKind) -> Result<String> {
    let ev = script.eval()?;
    let text = match kind {
        ExplainKind::Verbose => ev.output.explain_verbose(),
        ExplainKind::Optimized => ev.output.explain(true),
        ExplainKind::Physical => ev.output.explain_physical(),
    };
    text.map_err(|e| ev.locate(e))
}

/// `fusedframe schema`: a file's columns and types, the format chosen by extension.
pub fn schema_of_file(path: &Path) -> Result<String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let lf = match ext.as_str() {
        "csv" => crate::io::scan_csv(path),
        "parquet" => crate::io::scan_parquet(path),
        "arrow" | "arrows" | "ipc" | "feather" => crate::io::scan_ipc(path),
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

/// A progress bar fed by the executor's callback while it lives; silent when disabled.
struct Progress {
    bar: Option<ProgressBar>,
    callback: Option<Arc<crate::plan::ProgressFn>>,
}

/// Scans shorter than this finish before a bar is readable, so it stays hidden.
const PROGRESS_DELAY: Duration = Duration::from_millis(300);

impl Progress {
    fn start(enabled: bool) -> Self {
        if !enabled {
            return Self {
                bar: None,
                callback: None,
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} scanning [{bar:30}] {pos}/{len} morsels, {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let started = Instant::now();
        let b = bar.clone();
        let callback: Arc<crate::plan::ProgressFn> = Arc::new(move |done: usize, total: usize| {
            if started.elapsed() >= PROGRESS_DELAY {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        });
        Self {
            bar: Some(bar),
            callback: Some(callback),
        }
    }

    /// The callback to hand the executor, when the bar is shown.
    fn callback(&self) -> Option<Arc<crate::plan::ProgressFn>> {
        self.callback.clone()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
