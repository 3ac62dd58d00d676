//! An opt-in global allocator for applications that run queries: column-sized blocks are
//! mapped by themselves and kept for reuse, everything else goes to the system allocator.
//!
//! A query's large buffers (a 10M-row Float64 column is 80 MB; hash tables and sort keys are
//! as large) cost page faults: every 4 KiB page is faulted in and zeroed by the kernel on its
//! first write, 20,000 faults for one such column. glibc serves a block from the heap it came
//! from when it can (see [`tune_allocator`](super::tune_allocator)), but a worker thread's
//! arena grows in heaps of at most 64 MB, so a larger block requested on a rayon worker is
//! mapped afresh and unmapped when freed, whatever the settings: a query run twice in one
//! process faults its output columns in twice (measured: `fill_nan` over 10M rows, the second
//! run's page faults doubled its CPU time). Setting one arena for all threads avoided that, but
//! made threads allocating many small arrays (a 10,000-column frame) wait on its lock.
//!
//! So blocks of [`LARGE`] bytes and more bypass glibc: each is its own anonymous mapping, and
//! a freed block is kept in a small cache by size class and handed to the next request of the
//! same class, its pages already faulted in. The cache never makes the process larger than it would be
//! without it: a request that finds no block of its class first unmaps every cached block, so
//! the cache only ever holds memory that was in use before and is reused instead of mapped
//! again. Allocations below [`LARGE`] (almost all by count) are the system allocator's.
//!
//! A library must not choose its user's allocator, so this is opt-in: the `fusedframe` CLI and
//! the benchmark harnesses declare it, and so can an application (see [`ColumnAllocator`]).

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks of this many bytes and more are mapped by [`ColumnAllocator`]; smaller ones go to
/// the system allocator. Below it glibc's heaps serve and reuse blocks well (a worker's arena
/// heap holds up to 64 MB).
pub(crate) const LARGE: usize = 16 << 20;

/// A global allocator for applications that run queries: blocks of 16 MiB and more (column
/// buffers, hash tables, sort keys) are mapped by themselves and, when freed, kept by size
/// class for the next request of that class, so a query run again in the same process does not
/// fault its large buffers in afresh; smaller blocks go to the system allocator.
///
/// With glibc, a block above a worker thread's 64 MB arena heap is otherwise mapped and
/// unmapped on every use (measured: `fill_nan` over 10M rows spent half its CPU time faulting
/// its output in again on every run). The cache never makes the process larger than it would
/// be without it: a request that finds no block of its class first unmaps every cached block.
/// Opt-in, as choosing an allocator is the application's decision; the `fusedframe` CLI and
/// the benchmark harnesses declare it:
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: fusedframe::ColumnAllocator = fusedframe::ColumnAllocator::new();
/// # fn main() { let v = vec![1u8; 32 << 20]; assert_eq!(v[v.len() - 1], 1); }
/// ```
pub struct ColumnAllocator {
    #[cfg(target_os = "linux")]
    cache: std::sync::Mutex<mapped::Cache>,
}

impl ColumnAllocator {
    /// A new allocator with an empty cache (`const`, for a `static`).
    pub const fn new() -> Self {
        Self {
            #[cfg(target_os = "linux")]
            cache: std::sync::Mutex::new(mapped::Cache::new()),
        }
    }

    /// Whether a block of `layout` is mapped by this allocator rather than the system's.
    fn mapped(layout: &Layout) -> bool {
        cfg!(target_os = "linux")
            && layout.size() >= LARGE
            && layout.align() <= mapped::PAGE
            && mapped::capacity(layout.size()).is_some()
    }
}

impl Default for ColumnAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: small blocks are the system allocator's, passed through unchanged. A large block
// is a private anonymous mapping of its size class's capacity (at least its size, page
// aligned, so any alignment up to a page holds), owned by the one caller it was handed to
// until it is given back; `dealloc` and `realloc` receive the layout it was allocated with,
// so its capacity is recomputed exactly, and the cache holds only blocks no caller owns.
unsafe impl GlobalAlloc for ColumnAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::mapped(&layout) {
            self.alloc_mapped(layout.size(), false)
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::mapped(&layout) {
            self.alloc_mapped(layout.size(), true)
        } else {
            System.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::mapped(&layout) {
            self.dealloc_mapped(ptr, layout.size());
        } else {
            System.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        match (Self::mapped(&layout), Self::mapped(&new)) {
            (false, false) => System.realloc(ptr, layout, new_size),
            (true, true) => self.realloc_mapped(ptr, layout.size(), new_size),
            _ => {
                // Across the threshold: a block of the other kind, the common prefix copied.
                let to = self.alloc(new);
                if !to.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, to, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                to
            }
        }
    }
}

#[cfg(target_os = "linux")]
impl ColumnAllocator {
    /// A block of at least `size` bytes: a cached one of its class, else a new mapping.
    unsafe fn alloc_mapped(&self, size: usize, zeroed: bool) -> *mut u8 {
        let Some(cap) = mapped::capacity(size) else {
            return std::ptr::null_mut();
        };
        let reused = {
            let mut cache = self.lock();
            let block = cache.take(cap);
            if block.is_none() {
                // Nothing of this class: what is cached would only make the process larger.
                cache.release_all();
            }
            block
        };
        match reused {
            Some(p) => {
                if zeroed {
                    // SAFETY: `p` is a mapping of `cap >= size` bytes that no one else owns.
                    std::ptr::write_bytes(p, 0, size);
                }
                p
            }
            // A new mapping is zeroed by the kernel.
            None => mapped::map(cap),
        }
    }

    /// Give back a block of `size` bytes: cached if there is room, else unmapped.
    unsafe fn dealloc_mapped(&self, ptr: *mut u8, size: usize) {
        let Some(cap) = mapped::capacity(size) else {
            return;
        };
        let kept = self.lock().put(ptr, cap);
        if !kept {
            mapped::unmap(ptr, cap);
        }
    }

    /// Grow or shrink a block in place when its class does not change, else move its pages.
    unsafe fn realloc_mapped(&self, ptr: *mut u8, size: usize, new_size: usize) -> *mut u8 {
        match (mapped::capacity(size), mapped::capacity(new_size)) {
            (Some(old), Some(new)) if old == new => ptr,
            (Some(old), Some(new)) => mapped::remap(ptr, old, new),
            _ => std::ptr::null_mut(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, mapped::Cache> {
        // The cache's state is consistent at every point a panic could leave it (none can
        // happen while it is held): a poisoned lock is still usable.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes the cache holds (for tests).
    #[cfg(test)]
    fn cached(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(not(target_os = "linux"))]
impl ColumnAllocator {
    unsafe fn alloc_mapped(&self, _: usize, _: bool) -> *mut u8 {
        std::ptr::null_mut()
    }
    unsafe fn dealloc_mapped(&self, _: *mut u8, _: usize) {}
    unsafe fn realloc_mapped(&self, _: *mut u8, _: usize, _: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
}

/// The mappings and their cache.
mod mapped {
    /// The page size mappings are aligned to at least.
    pub(super) const PAGE: usize = 4096;
    /// Size classes per doubling: a block's capacity is its size rounded up to an eighth of
    /// its power of two, so at most 12.5% of a mapping goes unused (and untouched pages of a
    /// new mapping are never faulted in).
    const STEPS: u32 = 8;
    /// The smallest class's power of two, `log2(LARGE)`.
    const FIRST: u32 = super::LARGE.trailing_zeros();
    /// Powers of two with classes: up to 2^48 bytes; larger blocks are not mapped here.
    const POWERS: u32 = 48 - FIRST;
    const CLASSES: usize = (POWERS * STEPS) as usize;
    /// Blocks cached per class.
    const SLOTS: usize = 4;
    /// Bytes the cache may hold in all.
    const CACHE_BYTES: usize = 2 << 30;

    /// The capacity of the class of a block of `size >= LARGE` bytes, `None` above the classes.
    pub(super) fn capacity(size: usize) -> Option<usize> {
        let power = usize::BITS - 1 - size.max(1).leading_zeros();
        if power >= FIRST + POWERS {
            return None;
        }
        let step = 1usize << (power.max(FIRST) - STEPS.trailing_zeros());
        Some(size.next_multiple_of(step))
    }

    /// The class index of a capacity made by [`capacity`].
    #[cfg(target_os = "linux")]
    fn class(cap: usize) -> Option<usize> {
        let power = usize::BITS - 1 - cap.leading_zeros();
        let within = (cap - (1 << power)) >> (power - STEPS.trailing_zeros());
        let i = ((power - FIRST) * STEPS) as usize + within;
        (i < CLASSES).then_some(i)
    }

    /// Freed blocks by class (addresses, so the cache is `Send`).
    #[cfg(target_os = "linux")]
    pub(super) struct Cache {
        blocks: [[usize; SLOTS]; CLASSES],
        counts: [u8; CLASSES],
        pub(super) bytes: usize,
    }

    #[cfg(target_os = "linux")]
    impl Cache {
        pub(super) const fn new() -> Self {
            Self {
                blocks: [[0; SLOTS]; CLASSES],
                counts: [0; CLASSES],
                bytes: 0,
            }
        }

        /// A cached block of capacity `cap`, if any.
        pub(super) fn take(&mut self, cap: usize) -> Option<*mut u8> {
            let i = class(cap)?;
            let n = self.counts[i] as usize;
            if n == 0 {
                return None;
            }
            self.counts[i] -= 1;
            self.bytes -= cap;
            Some(self.blocks[i][n - 1] as *mut u8)
        }

        /// Keep a freed block of capacity `cap`; `false` when there is no room.
        pub(super) fn put(&mut self, p: *mut u8, cap: usize) -> bool {
            let Some(i) = class(cap) else {
                return false;
            };
            let n = self.counts[i] as usize;
            if n == SLOTS || self.bytes + cap > CACHE_BYTES {
                return false;
            }
            self.blocks[i][n] = p as usize;
            self.counts[i] += 1;
            self.bytes += cap;
            true
        }

        /// Unmap every cached block.
        pub(super) fn release_all(&mut self) {
            if self.bytes == 0 {
                return;
            }
            for i in 0..CLASSES {
                let cap = class_capacity(i);
                for &p in &self.blocks[i][..self.counts[i] as usize] {
                    // SAFETY: a cached block is a mapping of its class's capacity that no
                    // caller owns any more.
                    unsafe { unmap(p as *mut u8, cap) };
                }
                self.counts[i] = 0;
            }
            self.bytes = 0;
        }
    }

    /// The capacity of class `i`.
    #[cfg(target_os = "linux")]
    fn class_capacity(i: usize) -> usize {
        let power = FIRST + i as u32 / STEPS;
        let within = i % STEPS as usize;
        (1usize << power) + (within << (power - STEPS.trailing_zeros()))
    }

    /// A new mapping of `cap` bytes; null if the kernel refuses.
    ///
    /// Not advised for transparent huge pages: on the project's machine (a virtual machine) a
    /// huge page's first fault cleared 2 MiB of memory the host had not backed yet, and
    /// `fill_nan` over 10M rows took 2-5x the CPU time of faulting 4 KiB pages. Reuse, not
    /// larger pages, is what saves the faults here.
    #[cfg(target_os = "linux")]
    pub(super) unsafe fn map(cap: usize) -> *mut u8 {
        let p = libc::mmap(
            std::ptr::null_mut(),
            cap,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    /// Unmap a block of capacity `cap`.
    #[cfg(target_os = "linux")]
    pub(super) unsafe fn unmap(p: *mut u8, cap: usize) {
        libc::munmap(p.cast(), cap);
    }

    /// Resize a block's mapping from capacity `old` to `new`, moving it if it must (its pages
    /// move, nothing is copied); null if the kernel refuses.
    #[cfg(target_os = "linux")]
    pub(super) unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        let q = libc::mremap(p.cast(), old, new, libc::MREMAP_MAYMOVE);
        if q == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            q.cast()
        }
    }

    #[cfg(all(test, target_os = "linux"))]
    mod tests {
        use super::*;

        #[test]
        fn classes_round_up_by_eighths_and_number_densely() {
            let l = super::super::LARGE;
            assert_eq!(capacity(l), Some(l));
            assert_eq!(capacity(l + 1), Some(l + l / 8));
            assert_eq!(capacity(2 * l - 1), Some(2 * l));
            assert_eq!(
                capacity(80_000_000),
                Some(80_000_000usize.next_multiple_of(8 << 20))
            );
            assert_eq!(capacity(usize::MAX), None);
            for i in 0..CLASSES {
                let cap = class_capacity(i);
                assert_eq!(capacity(cap), Some(cap), "class {i}");
                assert_eq!(class(cap), Some(i), "class {i}");
                assert_eq!(cap % PAGE, 0, "class {i}: whole pages");
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    const MB: usize = 1 << 20;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).expect("layout")
    }

    #[test]
    fn a_freed_block_is_handed_to_the_next_request_of_its_class() {
        let a = ColumnAllocator::new();
        // SAFETY: every block is allocated and freed with the same layout, once.
        unsafe {
            let p = a.alloc(layout(40 * MB));
            assert!(!p.is_null());
            assert_eq!(p as usize % mapped::PAGE, 0, "page aligned");
            p.write_bytes(7, 40 * MB);
            a.dealloc(p, layout(40 * MB));
            assert_eq!(a.cached(), 40 * MB);
            // Same class (40 MB rounds to 40 MB; 39.5 MB too): the same block.
            let q = a.alloc(layout(39 * MB + MB / 2));
            assert_eq!(q, p);
            assert_eq!(a.cached(), 0);
            a.dealloc(q, layout(39 * MB + MB / 2));
            // Zeroed memory is zeroed even when reused.
            let z = a.alloc_zeroed(layout(40 * MB));
            assert_eq!(z, p);
            assert!(std::slice::from_raw_parts(z, 40 * MB)
                .iter()
                .all(|&b| b == 0));
            a.dealloc(z, layout(40 * MB));
            // Another class: the cached block is unmapped first, never kept beside it.
            let r = a.alloc(layout(100 * MB));
            assert!(!r.is_null());
            assert_eq!(a.cached(), 0);
            a.dealloc(r, layout(100 * MB));
            assert_eq!(a.cached(), 104 * MB);
        }
    }

    #[test]
    fn small_blocks_and_wide_alignments_are_the_system_allocators() {
        let a = ColumnAllocator::new();
        // SAFETY: as above.
        unsafe {
            let p = a.alloc(layout(MB));
            p.write_bytes(1, MB);
            a.dealloc(p, layout(MB));
            let big_align = Layout::from_size_align(32 * MB, 2 * MB).expect("layout");
            let q = a.alloc(big_align);
            assert_eq!(q as usize % (2 * MB), 0);
            a.dealloc(q, big_align);
            assert_eq!(a.cached(), 0, "neither went through the cache");
        }
    }

    #[test]
    fn realloc_keeps_contents_within_and_across_the_threshold() {
        let a = ColumnAllocator::new();
        let pattern = |i: usize| (i * 31 % 251) as u8;
        // SAFETY: each block is reallocated with the layout it currently has.
        unsafe {
            // Small -> large -> larger (another class) -> same class -> small.
            let sizes = [MB, 20 * MB, 70 * MB, 71 * MB, 3 * MB];
            let mut p = a.alloc(layout(sizes[0]));
            for (i, b) in std::slice::from_raw_parts_mut(p, sizes[0])
                .iter_mut()
                .enumerate()
            {
                *b = pattern(i);
            }
            for w in sizes.windows(2) {
                let (old, new) = (w[0], w[1]);
                p = a.realloc(p, layout(old), new);
                assert!(!p.is_null());
                let kept = old.min(new).min(sizes[0]);
                let s = std::slice::from_raw_parts(p, kept);
                assert!(
                    s.iter().enumerate().all(|(i, &b)| b == pattern(i)),
                    "{old} -> {new}"
                );
                // Write the whole block: a mapping that is too short would fault here.
                std::slice::from_raw_parts_mut(p, new)[new - 1] = 1;
            }
            a.dealloc(p, layout(3 * MB));
        }
    }

    #[test]
    fn threads_allocate_and_free_concurrently() {
        let a = ColumnAllocator::new();
        std::thread::scope(|s| {
            for t in 0..4usize {
                let a = &a;
                s.spawn(move || {
                    for round in 0..20usize {
                        let size = (16 + (t + round) % 5 * 8) * MB;
                        // SAFETY: allocated and freed with the same layout by this thread.
                        unsafe {
                            let p = a.alloc_zeroed(layout(size));
                            assert!(!p.is_null());
                            assert_eq!(*p.add(size - 1), 0);
                            p.write_bytes(t as u8 + 1, size);
                            a.dealloc(p, layout(size));
                        }
                    }
                });
            }
        });
        // Whatever is cached is released (the cache is not a leak).
        a.lock().release_all();
        assert_eq!(a.cached(), 0);
    }
}
