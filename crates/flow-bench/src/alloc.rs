//! A global allocator that counts live heap bytes, but only while asked to.
//!
//! The idle-memory figure needs the exact bytes the store holds, which only the allocator sees.
//! Counting on every allocation would put a shared atomic in the hot path of the timed runs
//! too, and two cores fighting over its cache line would slow them, so counting is off unless
//! [`Counting`] is alive: the timed runs pay one relaxed load of a flag that never changes
//! while they run.
//!
//! It hands every request to mimalloc, the allocator the `flowbot` binary uses too, so that
//! the bench measures what production pays. The system allocator (glibc's) is slower at a
//! turn's hundred small allocations even on one thread, and when memory allocated on one worker
//! thread is freed on another it takes and contends on arena locks: a conversation's turn
//! allocates on whichever worker polls it and the next turn frees on another, so that cost fell
//! on the conversations far more than on plain requests (`docs/performance.md`, "Where the time
//! goes").

// `GlobalAlloc` is an unsafe trait: implementing it, and asking mimalloc to give back free
// memory, are the only things here that need `unsafe`; every method only forwards to mimalloc
// with the caller's own arguments.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

use mimalloc::MiMalloc;

/// mimalloc, counting live bytes while [`Counting`] is alive.
pub struct CountingAlloc {
    on: AtomicBool,
    live: AtomicIsize,
    allocations: AtomicUsize,
}

impl CountingAlloc {
    /// An allocator that does not count yet.
    pub const fn new() -> CountingAlloc {
        CountingAlloc {
            on: AtomicBool::new(false),
            live: AtomicIsize::new(0),
            allocations: AtomicUsize::new(0),
        }
    }

    /// Starts counting from zero; the count stops when the guard is dropped.
    pub fn count(&'static self) -> Counting {
        self.live.store(0, Ordering::SeqCst);
        self.allocations.store(0, Ordering::SeqCst);
        self.on.store(true, Ordering::SeqCst);
        Counting(self)
    }

    /// Counts `bytes` more live bytes, and one more allocation if `new`.
    fn add(&self, bytes: isize, new: bool) {
        if self.on.load(Ordering::Relaxed) {
            self.live.fetch_add(bytes, Ordering::Relaxed);
            if new {
                self.allocations.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Gives the memory freed so far back to the system, so that the resident memory grows again
/// with what is allocated next: the idle-memory run's cross-check needs that, since mimalloc
/// otherwise keeps the pages the earlier runs freed and reuses them without a page fault.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointer and may be called at any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Counting is on while this lives.
pub struct Counting(&'static CountingAlloc);

impl Counting {
    /// Bytes allocated and not freed since counting started (negative when more was freed).
    pub fn live_bytes(&self) -> isize {
        self.0.live.load(Ordering::SeqCst)
    }

    /// Allocations made since counting started (a reallocation counts as one).
    pub fn allocations(&self) -> usize {
        self.0.allocations.load(Ordering::SeqCst)
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.0.on.store(false, Ordering::SeqCst);
    }
}

/// Bytes as the count adds them up.
fn signed(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = MiMalloc.alloc(layout);
        if !pointer.is_null() {
            self.add(signed(layout.size()), true);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = MiMalloc.alloc_zeroed(layout);
        if !pointer.is_null() {
            self.add(signed(layout.size()), true);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        MiMalloc.dealloc(pointer, layout);
        self.add(-signed(layout.size()), false);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_pointer = MiMalloc.realloc(pointer, layout, new_size);
        if !new_pointer.is_null() {
            self.add(signed(new_size) - signed(layout.size()), true);
        }
        new_pointer
    }
}
