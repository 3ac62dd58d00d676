//! The `fusedframe` command line: parses arguments and calls `fusedframe::script::run`.
//!
//! Exit codes: 0 success, 1 a query failed (script error, engine error, I/O), 2 usage error
//! (bad arguments; clap's own errors also exit with 2).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use fusedframe::plan::{ProgressFn, RowsFn};
use fusedframe::script::output::{FileKind, Format};
use fusedframe::script::run::{
    expand_paths, explain_script, header, run_script, schema_of_file, stderr_is_terminal,
    ExplainKind, RunOptions,
};
use fusedframe::script::Script;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "fusedframe",
    version,
    about = "Run fusedframe query scripts (*.fq)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scripts (a directory runs its *.fq files in name order) and print or write results.
    Run {
        /// Script files or directories of scripts.
        #[arg(value_name = "SCRIPT_OR_DIR")]
        scripts: Vec<PathBuf>,
        /// A script given inline, run after the files.
        #[arg(short = 'e', long = "expr", value_name = "EXPR")]
        expr: Option<String>,
        /// Write the result to FILE (.csv, .parquet, .arrow/.ipc, .arrows (IPC stream), .json;
        /// .svg/.png for a plot) instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// How to print results on stdout.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        /// Worker threads (default: FUSEDFRAME_THREADS, else every core).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        threads: Option<u32>,
        /// Memory budget: 2GB, 512MiB, 50% (of physical memory) or bytes (default:
        /// FUSEDFRAME_MEMORY_LIMIT, else 80% of physical memory). Sorts spill to --temp-dir
        /// beyond it; anything else that cannot fit stops with an error naming it.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        memory_limit: Option<usize>,
        /// Where spill files go (default: FUSEDFRAME_TEMP_DIR, else the system's temporary
        /// directory); they are removed at the end, on error and on Ctrl-C too.
        #[arg(long, value_name = "DIR")]
        temp_dir: Option<PathBuf>,
        /// Print the optimized plan instead of running.
        #[arg(long)]
        explain: bool,
    },
    /// Print a script's optimized plan.
    Explain {
        script: PathBuf,
        /// Show the plan after every optimizer rule.
        #[arg(short, long, conflicts_with = "physical")]
        verbose: bool,
        /// Show the physical plan: pipelines of streaming operators and the breakers between
        /// them.
        #[arg(long)]
        physical: bool,
    },
    /// Print a data file's columns and types (.csv, .parquet, .arrow/.ipc/.arrows).
    Schema { file: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Csv,
    Json,
}

/// A mistake in the arguments rather than in a query (exit code 2).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// `--memory-limit`'s value, as the library reads sizes.
fn parse_size(text: &str) -> Result<usize, String> {
    fusedframe::memory::parse_size(text)
}

/// Column-sized buffers reused, not mapped and faulted in afresh by every
/// operator that allocates one (see `fusedframe::ColumnAllocator`).
#[global_allocator]
static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The CLI owns its process: reuse large column buffers instead of mapping them afresh
    // (see `fusedframe::tune_allocator`).
    fusedframe::tune_allocator();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is::<Usage>() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run {
            scripts,
            expr,
            output,
            memory_limit,
            temp_dir,
            format,
            threads,
            explain,
        } => {
            let mut list = Vec::new();
            for path in expand_paths(&scripts)? {
                list.push(Script::from_file(&path)?);
            }
            if let Some(src) = expr {
                list.push(Script::new("-e", src));
            }
            if list.is_empty() {
                bail!(Usage(
                    "nothing to run: give script files, a directory, or -e 'EXPR'".into()
                ));
            }
            if let Some(path) = &output {
                if list.len() > 1 {
                    bail!(Usage(
                        "--output takes the result of one script; several were given".into()
                    ));
                }
                if FileKind::from_path(path).is_none() && !is_picture(path) {
                    bail!(Usage(format!(
                        "cannot tell the output format of {}: use .csv, .parquet, .arrow, \
                         .arrows, .ipc or .json (.svg or .png for a plot)",
                        path.display()
                    )));
                }
            }
            let options = RunOptions {
                output,
                format: match format {
                    FormatArg::Table => Format::Table,
                    FormatArg::Csv => Format::Csv,
                    FormatArg::Json => Format::Json,
                },
                threads: threads.map(|n| n as usize),
                memory_limit,
                temp_dir: Some(spill_dir(temp_dir)?),
                explain,
                progress: None,
                rows_written: None,
            };
            let result = run_all(&list, &options);
            if let Some(dir) = &options.temp_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
            result
        }
        Command::Explain {
            script,
            verbose,
            physical,
        } => {
            let script = Script::from_file(&script)?;
            let kind = if physical {
                ExplainKind::Physical
            } else if verbose {
                ExplainKind::Verbose
            } else {
                ExplainKind::Optimized
            };
            println!("{}", explain_script(&script, kind)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { file } => {
            let ext_ok = file.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["csv", "parquet", "arrow", "arrows", "ipc", "feather"]
                    .contains(&e.to_ascii_lowercase().as_str())
            });
            if !ext_ok {
                bail!(Usage(format!(
                    "cannot tell the format of {}: use .csv, .parquet, .arrow, .arrows or .ipc",
                    file.display()
                )));
            }
            println!("{}", schema_of_file(&file)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// True for a picture path (`.svg`, `.png`), which a script ending with a plot writes.
fn is_picture(path: &std::path::Path) -> bool {
    #[cfg(feature = "plot")]
    return fusedframe::plot::ImageFormat::from_path(path).is_some();
    #[cfg(not(feature = "plot"))]
    return {
        let _ = path;
        false
    };
}

/// Run each script; with several, print a header before each and keep going after a failure
/// (reported on stderr), exiting 1 if any failed.
fn run_all(scripts: &[Script], options: &RunOptions) -> anyhow::Result<ExitCode> {
    let many = scripts.len() > 1;
    let mut failed = 0;
    let stdout = std::io::stdout();
    for (i, script) in scripts.iter().enumerate() {
        let mut out = stdout.lock();
        if many {
            let sep = if i == 0 { "" } else { "\n" };
            writeln!(out, "{sep}{}", header(script)).context("writing to stdout")?;
        }
        // A bar per script, cleared when it ends (before its result is printed).
        let bar = Progress::start(stderr_is_terminal());
        let options = bar.attach(options);
        let result = run_script(script, &options, &mut out);
        drop(bar);
        out.flush().context("writing to stdout")?;
        match result {
            Ok(()) => {}
            Err(e) if many => {
                eprintln!("error: {e}");
                failed += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if failed > 0 {
        eprintln!("error: {failed} of {} scripts failed", scripts.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The directory this process spills into: `fusedframe-<pid>` under `--temp-dir` (or
/// `FUSEDFRAME_TEMP_DIR`, or the system's temporary directory). Runs make their spill files
/// inside it and remove them; the process removes the directory when it ends, and on Ctrl-C
/// or SIGTERM (a thread waits for those signals, which every other thread blocks).
fn spill_dir(parent: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let parent = parent
        .or_else(|| std::env::var_os("FUSEDFRAME_TEMP_DIR").map(PathBuf::from))
        .unwrap_or_else(std::env::temp_dir);
    let dir = parent.join(format!("fusedframe-{}", std::process::id()));
    remove_on_signal(dir.clone());
    Ok(dir)
}

#[cfg(unix)]
fn remove_on_signal(dir: PathBuf) {
    // SAFETY: the signal set is initialized by sigemptyset before use; blocking SIGINT and
    // SIGTERM in this (the main) thread before any other thread starts makes every thread
    // inherit the mask, so the signals are delivered only to `sigwait` below, outside any
    // signal handler, where removing files is safe.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        std::thread::spawn(move || {
            let mut sig: libc::c_int = 0;
            if libc::sigwait(&set, &mut sig) == 0 {
                let _ = std::fs::remove_dir_all(&dir);
                // The conventional exit status for death by a signal.
                std::process::exit(128 + sig);
            }
        });
    }
}

#[cfg(not(unix))]
fn remove_on_signal(_dir: PathBuf) {}

/// The progress bar on stderr, fed by the executor's callbacks while it lives; none when
/// stderr is not a terminal. The library only calls back; drawing is the command's business.
struct Progress {
    bar: Option<ProgressBar>,
}

/// Scans shorter than this finish before a bar is readable, so it stays hidden.
const PROGRESS_DELAY: Duration = Duration::from_millis(300);

impl Progress {
    fn start(enabled: bool) -> Self {
        if !enabled {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{bar:30}] {pos}/{len} morsels{msg}, {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self { bar: Some(bar) }
    }

    /// `options` with this bar's callbacks (morsels done, rows a sink wrote).
    fn attach(&self, options: &RunOptions) -> RunOptions {
        let mut options = options.clone();
        if let Some(bar) = &self.bar {
            let started = Instant::now();
            let b = bar.clone();
            let progress: Arc<ProgressFn> = Arc::new(move |done: usize, total: usize| {
                if started.elapsed() >= PROGRESS_DELAY {
                    b.set_length(total as u64);
                    b.set_position(done as u64);
                }
            });
            let b = bar.clone();
            let rows: Arc<RowsFn> = Arc::new(move |rows: u64| {
                b.set_message(format!(", {rows} rows written"));
            });
            options.progress = Some(progress);
            options.rows_written = Some(rows);
        }
        options
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
