//! The rayon pools queries run on, one per thread count, built once and reused (a registry
//! of pools, not a setting: it changes nothing in the embedding process).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, Result};

/// The pool for `threads` workers (`None`: `FUSEDFRAME_THREADS`, else all cores).
pub fn thread_pool(threads: Option<usize>) -> Result<Arc<ThreadPool>> {
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::expr::col;
    use crate::frame::{Column, DataFrame};
    use crate::plan::ExecOptions;

    #[test]
    fn aggregate_only_queries_report_progress() {
        // 5 morsels of 64K rows.
        let n = 4 * super::super::MORSEL_ROWS + 17;
        let df = DataFrame::new(vec![Column::new(
            "x",
            (0..n).map(|i| i as f64).collect::<Vec<_>>(),
        )])
        .expect("frame");
        let seen: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
        let sink = seen.clone();
        let options = ExecOptions::new().progress(Arc::new(move |d, t| {
            if let Ok(mut v) = sink.lock() {
                v.push((d, t));
            }
        }));
        let out = df.lazy().select([col("x").sum()]).collect_with(&options);
        assert!(out.is_ok());
        let seen = seen.lock().expect("lock");
        assert!(seen.contains(&(5, 5)), "{seen:?}");
    }
}
