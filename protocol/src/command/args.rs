//! Where a command's encoded arguments are written: [`Args`], its bytes, and
//! [`Large`], its large values kept apart. A small command's bytes (most
//! commands: a key, a value of a few dozen bytes) stay inline, in the command
//! itself, so that building, sending and dropping it never calls the allocator; a
//! longer one moves to a buffer of its own once. Both are kept small (64 and 8
//! bytes): a command is moved from the caller to the connection's queue whole.

use crate::resp::Out;
use bytes::Bytes;
use std::ops::Deref;

/// Bytes of arguments kept inline: room for a typical command (`SET` of a 16-byte
/// key and a 32-byte value takes 62), and no more, so that [`Args`] takes 64.
pub(super) const INLINE: usize = 62;

/// A command's encoded arguments.
#[derive(Clone)]
pub(super) enum Args {
    /// Up to [`INLINE`] bytes: the first `len` of `bytes`.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// More, on the heap.
    Heap(Vec<u8>),
}

impl Args {
    /// Empty, inline.
    #[inline]
    pub(super) const fn new() -> Self {
        Args::Inline {
            len: 0,
            bytes: [0; INLINE],
        }
    }

    /// How many bytes are written (without the bounds check of the slice).
    #[inline]
    pub(super) fn len(&self) -> usize {
        match self {
            Args::Inline { len, .. } => *len as usize,
            Args::Heap(heap) => heap.len(),
        }
    }

    /// Empty, with room for `n` bytes.
    pub(super) fn with_capacity(n: usize) -> Self {
        if n <= INLINE {
            Args::new()
        } else {
            Args::Heap(Vec::with_capacity(n))
        }
    }

    /// Appends `data` as a bulk string (`$<len>\r\n<data>\r\n`) when it is short
    /// (under 100 bytes) and fits in the inline room: one look at the room and
    /// plain stores (most arguments: a key, a small value, a number). False, with
    /// nothing written, otherwise.
    #[inline]
    pub(super) fn push_short_bulk(&mut self, data: &[u8]) -> bool {
        let Args::Inline { len, bytes } = self else {
            return false;
        };
        let n = data.len();
        let head = match n {
            0..=9 => 4,
            10..=99 => 5,
            _ => return false,
        };
        let at = *len as usize;
        let Some(room) = bytes.get_mut(at..at + head + n + 2) else {
            return false;
        };
        let (header, rest) = room.split_at_mut(head);
        let (body, crlf) = rest.split_at_mut(n);
        header[0] = b'$';
        if n < 10 {
            header[1] = b'0' + n as u8;
        } else {
            header[1..3].copy_from_slice(&crate::resp::two_digits(n));
        }
        header[head - 2..].copy_from_slice(b"\r\n");
        body.copy_from_slice(data);
        crlf.copy_from_slice(b"\r\n");
        // At most INLINE (62): fits in a `u8`.
        *len = (at + head + n + 2) as u8;
        true
    }

    /// Moves the bytes to the heap, with room for `more` bytes after them.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, more: usize) {
        if let Args::Inline { len, bytes } = self {
            let len = *len as usize;
            let mut heap = Vec::with_capacity((len + more).max(2 * INLINE));
            heap.extend_from_slice(&bytes[..len]);
            *self = Args::Heap(heap);
        }
    }
}

impl Out for Args {
    #[inline]
    fn reserve(&mut self, n: usize) {
        match self {
            Args::Inline { len, .. } => {
                if *len as usize + n > INLINE {
                    self.spill(n);
                }
            }
            Args::Heap(heap) => heap.reserve(n),
        }
    }

    #[inline]
    fn extend_from_slice(&mut self, more: &[u8]) {
        match self {
            Args::Inline { len, bytes } => {
                let at = *len as usize;
                match bytes.get_mut(at..at + more.len()) {
                    Some(room) => {
                        room.copy_from_slice(more);
                        // At most INLINE (62): fits in a `u8`.
                        *len = (at + more.len()) as u8;
                    }
                    None => {
                        self.spill(more.len());
                        self.extend_from_slice(more);
                    }
                }
            }
            Args::Heap(heap) => heap.extend_from_slice(more),
        }
    }
}

impl Deref for Args {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Args::Inline { len, bytes } => &bytes[..*len as usize],
            Args::Heap(heap) => heap,
        }
    }
}

/// A command's large values, in the order of its [`Args`]: where each value's
/// bytes belong there (between its bulk header and its CRLF, which `Args` holds),
/// and the value. Most commands have none: then it is one null pointer.
#[derive(Clone, Default)]
#[allow(clippy::box_collection)] // One pointer wide (a `Vec` takes three), null for most.
pub(super) struct Large(Option<Box<Vec<(u32, Bytes)>>>);

impl Large {
    /// Whether anything of it is on the heap (the one allocation made for its
    /// first value): what dropping it would free.
    #[inline]
    pub(super) fn on_heap(&self) -> bool {
        self.0.is_some()
    }

    /// Adds `value`, whose bytes belong at `at`.
    pub(super) fn push(&mut self, at: u32, value: Bytes) {
        self.0.get_or_insert_default().push((at, value));
    }
}

impl Deref for Large {
    type Target = [(u32, Bytes)];

    #[inline]
    fn deref(&self) -> &[(u32, Bytes)] {
        self.0.as_deref().map_or(&[], |v| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written in pieces across the inline room's end, the bytes are all there, in
    /// order, whether the room ran out in a write or at one's end.
    #[test]
    fn bytes_survive_the_move_to_the_heap() {
        for first in [0, 1, 40, 63, 64, 65, 200] {
            let mut args = Args::new();
            let mut want = Vec::new();
            for (i, n) in [first, 1, 23, 0, 64, 3].into_iter().enumerate() {
                let piece = vec![i as u8 + b'a'; n];
                args.extend_from_slice(&piece);
                want.extend_from_slice(&piece);
                assert_eq!(&args[..], &want[..], "first {first}, piece {i}");
            }
            assert!(matches!(args, Args::Heap(_)));
        }
        let mut small = Args::new();
        small.reserve(INLINE);
        small.extend_from_slice(&[7; INLINE]);
        assert!(matches!(small, Args::Inline { .. }));
        small.reserve(1);
        assert!(matches!(small, Args::Heap(_)));
        assert_eq!(&small[..], &[7; INLINE][..]);
        assert!(matches!(Args::with_capacity(INLINE), Args::Inline { .. }));
        assert!(matches!(Args::with_capacity(INLINE + 1), Args::Heap(_)));
    }

    /// A short bulk string written in place is what `write_bulk` writes, at every
    /// length and offset; what does not fit (or is not short) is left to it.
    #[test]
    fn short_bulks_in_place_match_the_general_writer() {
        for before in [0, 1, 9, 30, 57, 62] {
            for n in 0..=101 {
                let data: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                let mut args = Args::new();
                args.extend_from_slice(&vec![b'x'; before]);
                let mut want = bytes::BytesMut::from(&args[..]);
                crate::resp::write_bulk(&mut want, &data);
                let fits = n < 100 && want.len() <= INLINE;
                assert_eq!(args.push_short_bulk(&data), fits, "{before} + {n}");
                if !fits {
                    assert_eq!(&args[..], &vec![b'x'; before][..], "untouched");
                    crate::resp::write_bulk(&mut args, &data);
                }
                assert_eq!(&args[..], &want[..], "{before} + {n}");
            }
        }
    }

    /// What is moved with every command stays small.
    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Args>(), 64);
        assert_eq!(std::mem::size_of::<Large>(), 8);
    }
}
