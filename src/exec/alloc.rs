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
//! The cost is that the process keeps its peak heap size instead of shrinking after a large
//! query. The tuning is applied once, when the first worker pool starts, and can be turned off
//! with `FUSEDFRAME_MALLOC_TUNING=0` (for an application that embeds fusedframe and wants
//! glibc's defaults). It does nothing on other platforms or C libraries.

/// Apply the tuning once per process (unless turned off).
pub(crate) fn tune_once() {
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
