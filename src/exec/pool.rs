//! The rayon pools queries run on, one per thread count, built once and reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, Result};

/// The pool for `threads` workers (`None`: `FUSEDFRAME_THREADS`, else all cores).
pub fn thread_pool(threads: Option<usize>) -> Result<Arc<ThreadPool>> {
    super::alloc::tune_once();
    let n = match threads {
        Some(0) => return Err(Error::Plan("thread count must be at least 1".into())),
        Some(n) => n,
        None => match std::env::var("FUSEDFRAME_THREADS") {
            Ok(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    Error::Plan(format!(
                        "FUSEDFRAME_THREADS must be a positive integer, got {v:?}"
                    ))
                })?,
            Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
    };
    static POOLS: Mutex<Option<HashMap<usize, Arc<ThreadPool>>>> = Mutex::new(None);
    let mut guard = POOLS
        .lock()
        .map_err(|_| Error::Internal("thread-pool registry poisoned".into()))?;
    let pools = guard.get_or_insert_with(HashMap::new);
    if let Some(p) = pools.get(&n) {
        return Ok(p.clone());
    }
    let pool = Arc::new(
        ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("fusedframe-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start {n} worker threads: {e}")))?,
    );
    pools.insert(n, pool.clone());
    Ok(pool)
}

type ProgressFn = dyn Fn(usize, usize) + Send + Sync;

static PROGRESS: Mutex<Option<Arc<ProgressFn>>> = Mutex::new(None);

/// Install (or with `None` remove) a callback told `(morsels done, morsels total)` as
/// pipelines run; the CLI drives its progress bar with it. Calls come from worker threads.
pub fn set_progress_callback(callback: Option<Arc<ProgressFn>>) {
    if let Ok(mut g) = PROGRESS.lock() {
        *g = callback;
    }
}

/// Report progress to the installed callback, if any.
pub(crate) fn report_progress(done: usize, total: usize) {
    let cb = PROGRESS.lock().ok().and_then(|g| g.clone());
    if let Some(cb) = cb {
        cb(done, total);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::expr::col;
    use crate::frame::{Column, DataFrame};

    #[test]
    fn aggregate_only_queries_report_progress() {
        // 5 morsels of 64K rows; a marker total no other test's query has.
        let n = 4 * super::super::MORSEL_ROWS + 17;
        let df = DataFrame::new(vec![Column::new(
            "x",
            (0..n).map(|i| i as f64).collect::<Vec<_>>(),
        )])
        .expect("frame");
        let seen: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
        let sink = seen.clone();
        super::set_progress_callback(Some(Arc::new(move |d, t| {
            if let Ok(mut v) = sink.lock() {
                v.push((d, t));
            }
        })));
        let out = df.lazy().select([col("x").sum()]).collect();
        super::set_progress_callback(None);
        assert!(out.is_ok());
        let seen = seen.lock().expect("lock");
        assert!(seen.contains(&(5, 5)), "{seen:?}");
    }
}
