//! Allocator tuning for glibc: keep freed memory for reuse instead of returning it to the
//! kernel after every large allocation.
//!
//! A query materializes whole columns (a 5M-row Float64 column is 40 MB), and glibc serves
//! every allocation above its mmap threshold (at most 32 MB) with a fresh `mmap`, released
//! with `munmap` when freed. Each new mapping is then faulted in and zeroed page by page by the
//! kernel: measured on the seed pipeline, a 5M-row `fill_nan` spent 70% of its time in page
//! faults (20 ms against 6 ms with the tuning below). Engines built on jemalloc or mimalloc
//! (Polars, DuckDB) reuse such memory; with glibc, `mallopt` gets the same: no `mmap` for
//! large blocks (they come from the heaps and are reused) and no trimming of freed memory.
//!
//! Threads keep glibc's per-thread arenas. A thread's own arena lives in heaps of at most
//! 64 MB, so a larger block requested from a worker (an output column above 8M rows of 8
//! bytes) is still mapped fresh with `mmap` whatever the settings;
//! [`ColumnAllocator`](super::ColumnAllocator) takes such blocks out of glibc's hands for the
//! applications that declare it. Earlier the tuning also set one arena for all threads (a
//! 10M-row `min_max_scale` took 44 ms with per-thread arenas and `mmap` allowed, 13 ms with
//! one arena), but a wide frame allocates per column of every piece (10,000 small arrays per
//! piece), and on one arena both workers then wait on its lock: the 10,000 x 10,000 float32
//! standardize through the CLI took 17.0 s with one arena against 7.8 s without (2026-12-07,
//! 2 cores), TPC-H Q01/Q09 0.49/0.49 s against 0.34/0.36 s, the seed pipeline 0.27 s against
//! 0.32 s.
//!
//! The cost is that the process keeps its peak heap size instead of shrinking after a large
//! query. These settings are process-wide, so the library never applies them by itself: an
//! application opts in by calling [`tune_allocator`] (the `fusedframe` CLI and the benchmark
//! harness do, at start). `FUSEDFRAME_MALLOC_TUNING=0` turns the call into a no-op. It does
//! nothing on other platforms or C libraries.

/// Tune glibc's allocator for large column buffers (see the module docs): no `mmap` for large
/// blocks, no trimming. Process-wide, so only applications call it (the CLI does);
/// idempotent, and a no-op when `FUSEDFRAME_MALLOC_TUNING=0` or off glibc.
///
/// ```
/// fusedframe::tune_allocator(); // at the start of `main`, before the first query
/// ```
pub fn tune_allocator() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let off = std::env::var("FUSEDFRAME_MALLOC_TUNING")
            .map(|v| matches!(v.trim(), "0" | "off" | "false" | "no"))
            .unwrap_or(false);
        if !off {
            glibc::tune();
        }
    });
}

/// `n` copies of `value`, with every page of the vector already written.
///
/// `vec![0; n]` asks for zeroed memory, which the allocator takes fresh from the kernel without
/// writing it. A table that is read before it is written (a hash table's empty slots, counters
/// bumped with `+=`) then maps the kernel's shared zero page on the first read of each page
/// and faults again on the first write, which copies the page and flushes the TLB of every
/// core the process runs on (an inter-processor interrupt per page). On the 10M-group
/// group-by that was a fifth of the CPU time. Writing one value per page up front faults each
/// page in once, writable.
pub(crate) fn written_vec<T: Copy>(n: usize, value: T) -> Vec<T> {
    let mut v = vec![value; n];
    let step = (4096 / std::mem::size_of::<T>().max(1)).max(1);
    for i in (0..n).step_by(step) {
        // `black_box` keeps the store: the compiler may know the memory already holds zeros.
        v[i] = std::hint::black_box(value);
    }
    v
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::ffi::c_int;

    // From glibc's <malloc.h>.
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_MAX: c_int = -4;

    extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }

    pub(super) fn tune() {
        // SAFETY: `mallopt` only changes glibc's allocation parameters; both calls take plain
        // integers and are allowed at any time, from any thread.
        unsafe {
            mallopt(M_MMAP_MAX, 0);
            mallopt(M_TRIM_THRESHOLD, c_int::MAX);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod glibc {
    pub(super) fn tune() {}
}

#[cfg(test)]
mod tests {
    #[test]
    fn allocations_work_after_tuning() {
        super::tune_allocator();
        // A block above the arena heap size, from a worker thread, freed and allocated again.
        let n = 9 << 20;
        let total = std::thread::spawn(move || {
            let mut sum = 0u64;
            for round in 0..3u64 {
                let v = vec![round; n];
                sum += v[n - 1];
            }
            sum
        })
        .join()
        .expect("worker");
        assert_eq!(total, 3);
    }

    #[test]
    fn written_vec_holds_its_value() {
        for n in [0, 1, 511, 512, 513, 1 << 20] {
            let v = super::written_vec(n, 0u64);
            assert_eq!(v.len(), n);
            assert!(v.iter().all(|&x| x == 0));
            let w = super::written_vec(n, [7u32; 3]);
            assert!(w.iter().all(|&x| x == [7; 3]));
        }
    }
}
