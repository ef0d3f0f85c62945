//! Where a command's argument buffer comes from: a slice of a per-thread arena, so
//! that building a small command does not call the allocator, and freeing it (often
//! on the connection's driver thread, after writing it) is an atomic decrement, not
//! a `free` into another thread's heap.
//!
//! An arena holds [`SLICES`] slices of [`SLICE`] bytes and is freed when the last
//! of them is. A command that outgrows its slice moves to a buffer of its own (of
//! the size it needs: the arena is under 1 KiB, which `bytes` takes as "grow to
//! what is asked"). A command kept for long keeps its arena's kilobyte alive.

use bytes::BytesMut;
use std::cell::Cell;

/// Bytes a command starts with: room for a typical one (`SET` of a 16-byte key
/// and a 32-byte value takes 62).
pub(super) const SLICE: usize = 64;

/// Slices per arena (one allocation for 15 commands; under 1 KiB, see above).
const SLICES: usize = 15;

thread_local! {
    /// What is left of this thread's arena.
    static SPARE: Cell<BytesMut> = Cell::new(BytesMut::new());
}

/// An empty buffer with room for [`SLICE`] bytes.
pub(super) fn slice() -> BytesMut {
    SPARE
        .try_with(|spare| {
            let mut arena = spare.take();
            if arena.capacity() < SLICE {
                arena = BytesMut::with_capacity(SLICE * SLICES);
            }
            spare.set(arena.split_off(SLICE));
            arena
        })
        // The thread is exiting (a command built in a thread-local's destructor).
        .unwrap_or_else(|_| BytesMut::with_capacity(SLICE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slices never overlap, each with its own room: what one writes, even past its
    /// room, never reaches the next.
    #[test]
    fn slices_never_overlap() {
        let mut a = slice();
        let mut b = slice();
        assert_eq!((a.capacity(), b.capacity()), (SLICE, SLICE));
        assert!(a.is_empty() && b.is_empty());
        // Apart: neither starts inside the other's room.
        let (pa, pb) = (a.as_ptr() as usize, b.as_ptr() as usize);
        assert!(pb >= pa + SLICE || pa >= pb + SLICE, "overlapping slices");
        a.extend_from_slice(&[1; SLICE]);
        b.extend_from_slice(&[2; SLICE]);
        // `a` grows past its slice: it moves, and `b` is untouched.
        a.extend_from_slice(&[3; 3 * SLICE]);
        assert_eq!(a.len(), 4 * SLICE);
        assert!(a[..SLICE].iter().all(|&x| x == 1) && a[SLICE..].iter().all(|&x| x == 3));
        assert!(b.iter().all(|&x| x == 2));
        let c = slice();
        assert!(c.is_empty() && c.capacity() == SLICE);
    }

    /// A thread takes slices from fresh arenas once one is used up, for ever.
    #[test]
    fn arenas_are_renewed() {
        let held: Vec<BytesMut> = (0..SLICES * 3 + 1).map(|_| slice()).collect();
        assert!(held.iter().all(|s| s.is_empty() && s.capacity() == SLICE));
        let mut starts: Vec<usize> = held.iter().map(|s| s.as_ptr() as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        assert_eq!(starts.len(), held.len(), "two slices at one address");
    }
}
