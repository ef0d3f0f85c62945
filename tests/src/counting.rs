//! A counting global allocator, for the figures that must be measured rather than
//! estimated: the allocations of a round trip (bench's `allocs`) and the memory a
//! structure holds (the cluster client's installed topology). The only unsafe code of
//! the crate: [`GlobalAlloc`] is an unsafe trait.
//!
//! A binary opts in with `#[global_allocator] static A: Counting = Counting;` (no
//! unsafe code there). It counts, for the whole process, the allocation calls and the
//! bytes they asked for ([`snapshot`]), and, for each thread, the bytes it allocated
//! less those it freed ([`thread_live_bytes`]): the memory held by what one thread
//! built, even while other threads (other tests) allocate beside it; and the bytes it
//! asked for in all ([`thread_allocated_bytes`]): what one thread's work copied. Memory freed on
//! another thread than the one that allocated it is counted on each side, so a
//! figure per thread is for work confined to that thread (a current-thread runtime).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Allocation calls (`alloc`, `alloc_zeroed`, `realloc`) since the start.
static CALLS: AtomicU64 = AtomicU64::new(0);
/// Bytes requested by those calls.
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Bytes this thread allocated less those it freed (no destructor: safe to touch
    /// from the allocator, even while the thread ends).
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// Bytes this thread's allocation calls asked for (as [`BYTES`], for one thread).
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

/// [`System`], counting every allocation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

/// Counts an allocation of `size` bytes (a `realloc` counts as one, of its new size)
/// and a change of `live` bytes on this thread.
fn count(size: usize, live: i64) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + size as u64));
    add_live(live);
}

fn add_live(delta: i64) {
    let _ = LIVE.try_with(|l| l.set(l.get() + delta));
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds
// the `GlobalAlloc` contract; counting touches no allocated memory and allocates
// nothing (the thread-local is a `const` `Cell` without a destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), layout.size() as i64);
        // SAFETY: the caller's guarantees for `alloc` are passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), layout.size() as i64);
        // SAFETY: as above, for `alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as i64));
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size, new_size as i64 - layout.size() as i64);
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// (allocation calls, bytes requested) so far, in the whole process; zeros unless the
/// binary's global allocator is [`Counting`].
pub fn snapshot() -> (u64, u64) {
    (CALLS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed))
}

/// The bytes this thread has allocated less those it has freed; 0 unless the
/// binary's global allocator is [`Counting`].
pub fn thread_live_bytes() -> i64 {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// The bytes this thread's allocation calls have asked for (a `realloc` counts its
/// new size), freed or not; 0 unless the binary's global allocator is [`Counting`].
pub fn thread_allocated_bytes() -> u64 {
    ALLOCATED.try_with(Cell::get).unwrap_or(0)
}
