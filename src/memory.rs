//! The memory budget of a run: a [`MemoryPool`] that operators reserve from before they hold
//! data, in the spirit of DataFusion's `MemoryPool`.
//!
//! Every operator that holds more than a morsel at a time (a breaker's materialized input, a
//! sort's runs, a hash table, a sink's buffered morsels, the collected result) takes a
//! [`Reservation`] from the run's pool, grows it with [`Reservation::try_grow`] *before* it
//! allocates, shrinks it when it lets data go, and releases the rest when the reservation is
//! dropped. A growth that would take the pool past its limit fails with
//! [`Error::MemoryLimit`] naming the operator and the budget: an
//! operator that can spill (sort runs to temporary files, a second pass over a file) catches
//! it and spills; any other lets it stop the query, so a query over the budget ends with that
//! error instead of the kernel's OOM killer.
//!
//! The pool counts bytes that operators declare (Arrow buffer sizes), not the process's
//! resident memory: morsels in flight (a few per worker, each a few MiB, see
//! `exec::morsel_rows`) and the allocator's slack come on top, which is why the
//! default budget is a fraction of physical memory.
//!
//! The budget of a run is [`ExecOptions::memory_limit`](crate::plan::ExecOptions) (bytes), else
//! the environment variable `FUSEDFRAME_MEMORY_LIMIT` (`2GB`, `512MiB`, `50%` of physical
//! memory, or a byte count), else [`DEFAULT_FRACTION`] of physical memory (the smaller of
//! RAM and the cgroup's limit, when there is one). Each run gets its own pool unless
//! [`ExecOptions::memory_pool`](crate::plan::ExecOptions) shares one between runs.
//!
//! The sizes of the pieces operators pass ([`MORSEL_ROWS`], `piece_rows`) and the byte
//! counts of frames ([`frame_bytes`]) live here too: the readers and writers (`io`), the
//! physical plan's model fits and the executor all size what they hold by them, so this module
//! sits low in the crate (above `frame`, below `io`; see the crate docs) and needs nothing
//! above it.
//!
//! ```
//! use fusedframe::memory::MemoryPool;
//! let pool = MemoryPool::new(1 << 20);
//! let r = pool.reserve("SORT");
//! r.try_grow(600 << 10)?;
//! assert!(r.try_grow(600 << 10).is_err()); // 1.2 MiB > 1 MiB: "SORT needs ..."
//! r.shrink(100 << 10);
//! assert_eq!(pool.reserved(), 500 << 10);
//! drop(r);
//! assert_eq!(pool.reserved(), 0);
//! # Ok::<(), fusedframe::Error>(())
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, Schema};

pub use crate::error::human_bytes;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Rows per morsel piece at most: small enough for intermediates to stay in cache, large
/// enough to amortize per-morsel overhead. Wide rows get fewer (`piece_rows` sizes pieces
/// by bytes); fixed per schema, so results never depend on the thread count.
pub const MORSEL_ROWS: usize = 1 << 16;

/// Bytes a piece aims at: large enough that per-piece overhead is small, small enough that a
/// piece's intermediates stay in cache and a few per worker cost little memory. Typical
/// tables (up to 16 eight-byte columns) keep [`MORSEL_ROWS`]-row pieces.
pub(crate) const PIECE_BYTES: usize = 8 << 20;

/// Rows per piece for a pipeline whose rows have these schemas (its source's and each
/// operator's output): [`MORSEL_ROWS`], or fewer (a multiple of 64, at least 64) when the
/// widest row times [`MORSEL_ROWS`] would pass [`PIECE_BYTES`].
///
/// A row's width is estimated from its types: fixed-width values by their width, booleans as
/// one byte, text and binary as 16 bytes, anything nested as 32.
pub(crate) fn piece_rows<'s>(schemas: impl IntoIterator<Item = &'s Schema>) -> usize {
    let widest = schemas
        .into_iter()
        .map(|s| {
            s.fields()
                .iter()
                .map(|f| value_width(f.data_type()))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    if widest == 0 {
        return MORSEL_ROWS;
    }
    let rows = (PIECE_BYTES / widest) / 64 * 64;
    rows.clamp(64, MORSEL_ROWS)
}

/// Estimated bytes of one value of `dt` (see [`piece_rows`]).
fn value_width(dt: &DataType) -> usize {
    match dt {
        DataType::Null => 0,
        DataType::Boolean => 1,
        _ if dt.is_primitive() => dt.primitive_width().unwrap_or(8),
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => 16,
        DataType::Dictionary(k, _) => value_width(k),
        _ => 32,
    }
}

/// The default budget, as a fraction of physical memory (DuckDB's default is 80% too).
pub const DEFAULT_FRACTION: f64 = 0.8;

/// A budget of bytes shared by the operators of one run (or of several runs that share it).
#[derive(Debug)]
pub struct MemoryPool {
    limit: usize,
    reserved: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryPool {
    /// A pool of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            reserved: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// A pool without a limit (reservations still count, for [`peak`](Self::peak)).
    pub fn unbounded() -> Arc<Self> {
        Self::new(usize::MAX)
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes reserved now.
    pub fn reserved(&self) -> usize {
        self.reserved.load(Ordering::Relaxed)
    }

    /// The most bytes reserved at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Bytes that can still be reserved.
    pub fn available(&self) -> usize {
        self.limit.saturating_sub(self.reserved())
    }

    /// An empty reservation for `operator` (its name in plan text, `SORT`, `GROUP_BY`, ...),
    /// which names it in the error when a growth does not fit.
    pub fn reserve(self: &Arc<Self>, operator: impl Into<String>) -> Reservation {
        Reservation {
            pool: self.clone(),
            operator: operator.into(),
            size: AtomicUsize::new(0),
        }
    }

    fn try_add(&self, bytes: usize) -> std::result::Result<(), usize> {
        let mut cur = self.reserved.load(Ordering::Relaxed);
        loop {
            let next = cur
                .checked_add(bytes)
                .filter(|n| *n <= self.limit)
                .ok_or(cur)?;
            match self.reserved.compare_exchange_weak(
                cur,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.peak.fetch_max(next, Ordering::Relaxed);
                    return Ok(());
                }
                Err(now) => cur = now,
            }
        }
    }

    fn sub(&self, bytes: usize) {
        self.reserved.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// Bytes an operator holds in a [`MemoryPool`], released when dropped. Its methods take
/// `&self`, so one reservation can be shared by the workers of a parallel loop.
#[derive(Debug)]
pub struct Reservation {
    pool: Arc<MemoryPool>,
    operator: String,
    size: AtomicUsize,
}

impl Reservation {
    /// Reserve `bytes` more, or fail with [`Error::MemoryLimit`] (nothing is reserved then).
    pub fn try_grow(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        self.pool
            .try_add(bytes)
            .map_err(|reserved| Error::MemoryLimit {
                operator: self.operator.clone(),
                requested: bytes,
                reserved,
                limit: self.pool.limit,
            })?;
        self.size.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    /// Grow or shrink to exactly `bytes` (growing may fail as [`try_grow`](Self::try_grow)).
    pub fn try_resize(&self, bytes: usize) -> Result<()> {
        let size = self.size();
        if bytes > size {
            self.try_grow(bytes - size)
        } else {
            self.shrink(size - bytes);
            Ok(())
        }
    }

    /// Give back `bytes` (at most what is reserved).
    pub fn shrink(&self, bytes: usize) {
        let mut cur = self.size.load(Ordering::Relaxed);
        loop {
            let take = bytes.min(cur);
            match self.size.compare_exchange_weak(
                cur,
                cur - take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.pool.sub(take);
                    return;
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Give back everything; returns how much that was.
    pub fn free(&self) -> usize {
        let size = self.size.swap(0, Ordering::Relaxed);
        self.pool.sub(size);
        size
    }

    /// Bytes reserved.
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    /// The operator named in errors.
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// The pool this reservation draws from.
    pub fn pool(&self) -> &Arc<MemoryPool> {
        &self.pool
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.free();
    }
}

/// Bytes `a` holds, counting only the rows it covers when it is a slice of a larger array.
pub fn array_bytes(a: &ArrayRef) -> usize {
    a.to_data()
        .get_slice_memory_size()
        .unwrap_or_else(|_| a.get_array_memory_size())
}

/// Bytes the columns of `df` hold (see [`array_bytes`]).
pub fn frame_bytes(df: &DataFrame) -> usize {
    df.columns().iter().map(array_bytes).sum()
}

/// The budget when neither the options nor the caller give one: `FUSEDFRAME_MEMORY_LIMIT`,
/// else [`DEFAULT_FRACTION`] of physical memory.
pub fn default_limit() -> Result<usize> {
    match std::env::var("FUSEDFRAME_MEMORY_LIMIT") {
        Ok(v) => parse_size(&v).map_err(|e| Error::Plan(format!("FUSEDFRAME_MEMORY_LIMIT: {e}"))),
        Err(_) => Ok((physical_memory() as f64 * DEFAULT_FRACTION) as usize),
    }
}

/// A size as users write it: a byte count (`1073741824`), a number with a unit (`512MB`,
/// `2 GiB`, `1.5G`; `KB`/`MB`/`GB`/`TB` are powers of 1000, `KiB`/`MiB`/`GiB`/`TiB` and the
/// bare `K`/`M`/`G`/`T` powers of 1024), or a percentage of physical memory (`50%`).
///
/// ```
/// use fusedframe::memory::parse_size;
/// assert_eq!(parse_size("2GB").unwrap(), 2_000_000_000);
/// assert_eq!(parse_size("256 MiB").unwrap(), 256 << 20);
/// assert_eq!(parse_size("1.5k").unwrap(), 1536);
/// assert!(parse_size("lots").is_err());
/// ```
pub fn parse_size(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "cannot read {text:?} as a size: write bytes (1073741824), a number with a unit \
             (512MB, 2GiB) or a share of physical memory (50%)"
        )
    };
    if let Some(p) = t.strip_suffix('%') {
        let p: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(format!(
                "{text:?}: a percentage must be above 0 and at most 100"
            ));
        }
        return Ok((physical_memory() as f64 * p / 100.0) as usize);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(bad()),
    };
    let bytes = num * mult;
    if !bytes.is_finite() || bytes < 1.0 || bytes > usize::MAX as f64 {
        return Err(format!("{text:?} is not a usable memory size"));
    }
    Ok(bytes as usize)
}

/// Physical memory in bytes: RAM, or the cgroup's memory limit when that is smaller (a
/// container's budget); 4 GiB when neither can be read.
pub fn physical_memory() -> usize {
    let ram = ram_bytes().unwrap_or(4 << 30);
    match cgroup_limit() {
        Some(c) if c < ram => c,
        _ => ram,
    }
}

#[cfg(unix)]
fn ram_bytes() -> Option<usize> {
    // SAFETY: sysconf only reads system configuration; negative results mean "unknown".
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && page > 0).then(|| pages as usize * page as usize)
}

#[cfg(not(unix))]
fn ram_bytes() -> Option<usize> {
    None
}

/// cgroup v2's `memory.max` (or v1's `memory.limit_in_bytes`) of this process, if limited.
fn cgroup_limit() -> Option<usize> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| {
        std::fs::read_to_string(p)
            .ok()?
            .trim()
            .parse::<usize>()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    #[test]
    fn reservations_fail_past_the_limit_and_release_on_drop() {
        let pool = MemoryPool::new(1000);
        let a = pool.reserve("SORT");
        let b = pool.reserve("GROUP_BY");
        a.try_grow(600).unwrap();
        let e = b.try_grow(500).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("GROUP_BY") && msg.contains("1000 B"), "{msg}");
        assert!(matches!(
            e,
            Error::MemoryLimit {
                requested: 500,
                reserved: 600,
                ..
            }
        ));
        // A failed growth reserves nothing.
        assert_eq!((pool.reserved(), b.size()), (600, 0));
        b.try_grow(400).unwrap();
        a.try_resize(100).unwrap();
        assert_eq!(pool.reserved(), 500);
        a.shrink(1000);
        assert_eq!(a.size(), 0);
        drop(b);
        assert_eq!((pool.reserved(), pool.peak()), (0, 1000));
    }

    #[test]
    fn shared_reservation_from_many_threads() {
        let pool = MemoryPool::new(1 << 20);
        let r = pool.reserve("SINK");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        r.try_grow(10).unwrap();
                        r.shrink(10);
                    }
                });
            }
        });
        assert_eq!(pool.reserved(), 0);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("2GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_size(" 2 GiB ").unwrap(), 2 << 30);
        assert_eq!(parse_size("256MB").unwrap(), 256_000_000);
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert!(parse_size("50%").unwrap() > 0);
        for bad in ["", "GB", "1XB", "-1", "0", "150%", "1e3"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human_bytes(1536 << 20), "1.5 GiB");
    }

    #[test]
    fn slices_count_only_their_rows() {
        let a: ArrayRef = std::sync::Arc::new(arrow::array::Float64Array::from(vec![1.0; 1000]));
        assert_eq!(array_bytes(&a.slice(0, 100)), 800);
    }

    #[test]
    fn pieces_are_sized_by_the_widest_row() {
        let f64s = |n: usize| {
            Schema::new(
                (0..n)
                    .map(|i| Field::new(format!("c{i}"), DataType::Float64, true))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(piece_rows([&f64s(6)]), MORSEL_ROWS);
        assert_eq!(piece_rows([&f64s(16)]), MORSEL_ROWS);
        assert_eq!(piece_rows([&f64s(6), &f64s(32)]), 32_768);
        let wide = Schema::new(
            (0..10_000)
                .map(|i| Field::new(format!("c{i}"), DataType::Float32, true))
                .collect::<Vec<_>>(),
        );
        // 8 MiB / 40,000 bytes = 209 rows, down to a multiple of 64.
        assert_eq!(piece_rows([&wide]), 192);
        assert_eq!(piece_rows(std::iter::empty::<&Schema>()), MORSEL_ROWS);
        assert_eq!(piece_rows([&f64s(2_000_000)]), 64);
    }
}
