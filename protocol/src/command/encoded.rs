//! [`Encoded`]: encoded commands as a queue of chunks, so that large values are
//! written from the caller's own `Bytes` rather than copied into a write buffer.

use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;

/// Arguments at least this long travel as their own [`Bytes`] chunk rather than being
/// copied into the command's buffer and then into the connection's write buffer
/// (a `Bytes` argument is then never copied; a borrowed one is copied once).
///
/// Below it, one more copy of a small value costs less than a chunk of its own (a
/// separate allocation for a borrowed value, one more slice per vectored write).
pub const LARGE_ARG: usize = 32 * 1024;

/// Encoded commands, in order: whole chunks (sealed small parts and large values)
/// followed by a buffer that small parts are copied into.
///
/// Written with vectored writes ([`io_slices`](Self::io_slices) then
/// [`advance`](Self::advance)), or chunk by chunk ([`chunk`](Self::chunk)) where the
/// transport has no vectored writes.
#[doc(hidden)]
#[derive(Debug, Default, Clone)]
pub struct Encoded {
    /// Whole chunks, written before `tail`; none is empty.
    chunks: VecDeque<Bytes>,
    /// Small parts, copied in as they come.
    tail: BytesMut,
    /// Bytes in `chunks`.
    chunked: usize,
}

impl Encoded {
    /// Nothing yet.
    pub fn new() -> Self {
        Encoded::default()
    }

    /// Nothing yet, with room for `n` bytes of small parts.
    pub fn with_capacity(n: usize) -> Self {
        Encoded {
            tail: BytesMut::with_capacity(n),
            ..Encoded::default()
        }
    }

    /// The bytes left to write.
    pub fn len(&self) -> usize {
        self.chunked + self.tail.len()
    }

    /// True when nothing is left to write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when everything is in one contiguous buffer (no large chunk).
    pub fn is_contiguous(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The buffer small parts are copied into; whatever is appended to it is
    /// written after everything already queued.
    pub fn buf_mut(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Appends a copy of `data`.
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.tail.extend_from_slice(data);
    }

    /// Appends `data`: as its own chunk when it is large ([`LARGE_ARG`]), else copied.
    pub fn push_bytes(&mut self, data: Bytes) {
        if data.len() < LARGE_ARG {
            self.tail.extend_from_slice(&data);
        } else {
            self.seal();
            self.chunked += data.len();
            self.chunks.push_back(data);
        }
    }

    /// Moves what the buffer holds into a chunk of its own (no copy), so that a
    /// chunk can follow it.
    fn seal(&mut self) {
        if !self.tail.is_empty() {
            let part = self.tail.split().freeze();
            self.chunked += part.len();
            self.chunks.push_back(part);
        }
    }

    /// Appends everything `other` holds, after what is here (no copy of its large
    /// chunks; none at all when this is empty).
    pub fn append(&mut self, mut other: Encoded) {
        if self.is_empty() {
            *self = other;
            return;
        }
        for chunk in other.chunks.drain(..) {
            self.push_bytes(chunk);
        }
        self.push_bytes(other.tail.freeze());
    }

    /// The first bytes left to write, contiguous (empty when nothing is left).
    pub fn chunk(&self) -> &[u8] {
        match self.chunks.front() {
            Some(c) => c,
            None => &self.tail,
        }
    }

    /// Fills `dst` with the bytes left to write, in order; returns how many slices
    /// it filled.
    pub fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let parts = self
            .chunks
            .iter()
            .map(|c| &c[..])
            .chain((!self.tail.is_empty()).then_some(&self.tail[..]));
        let mut n = 0;
        for (slot, part) in dst.iter_mut().zip(parts) {
            *slot = IoSlice::new(part);
            n += 1;
        }
        n
    }

    /// Drops the first `n` bytes (written); `n` must not exceed [`len`](Self::len).
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                self.tail.advance(n);
                return;
            };
            if n < front.len() {
                front.advance(n);
                self.chunked -= n;
                return;
            }
            n -= front.len();
            self.chunked -= front.len();
            self.chunks.pop_front();
        }
    }

    /// Empties it, keeping the buffer's room.
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.chunked = 0;
        self.tail.clear();
    }

    /// Every byte, copied into one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for c in &self.chunks {
            out.extend_from_slice(c);
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn large(byte: u8) -> Bytes {
        Bytes::from(vec![byte; LARGE_ARG])
    }

    #[test]
    fn large_values_are_chunks_and_small_ones_copies() {
        let mut e = Encoded::new();
        e.extend_from_slice(b"head");
        let big = large(b'x');
        let ptr = big.as_ptr();
        e.push_bytes(big);
        e.push_bytes(Bytes::from_static(b"small"));
        assert_eq!(e.len(), 4 + LARGE_ARG + 5);
        assert!(!e.is_contiguous());
        let mut slices = [IoSlice::new(&[]); 8];
        let n = e.io_slices(&mut slices);
        assert_eq!(n, 3);
        assert_eq!(&*slices[0], b"head");
        // The large value is the caller's own memory.
        assert_eq!(slices[1].as_ptr(), ptr);
        assert_eq!(&*slices[2], b"small");
    }

    #[test]
    fn advance_resumes_exactly_where_it_stopped() {
        let mut e = Encoded::new();
        e.extend_from_slice(b"ab");
        e.push_bytes(large(b'x'));
        e.extend_from_slice(b"cd");
        e.push_bytes(large(b'y'));
        e.extend_from_slice(b"ef");
        let whole = e.to_vec();
        // Writes of odd sizes, through chunk boundaries.
        let mut written = Vec::new();
        for step in [1, 3, LARGE_ARG - 5, 7, LARGE_ARG, 1, 1000] {
            let step = step.min(e.len());
            let mut left = step;
            while left > 0 {
                let c = e.chunk();
                let k = left.min(c.len());
                written.extend_from_slice(&c[..k]);
                e.advance(k);
                left -= k;
            }
        }
        written.extend_from_slice(&e.to_vec());
        assert_eq!(written, whole);
    }

    #[test]
    fn append_keeps_order() {
        let mut a = Encoded::new();
        a.extend_from_slice(b"1");
        let mut b = Encoded::new();
        b.extend_from_slice(b"2");
        b.push_bytes(large(b'z'));
        b.extend_from_slice(b"3");
        a.append(b.clone());
        let mut want = b"1".to_vec();
        want.extend_from_slice(&b.to_vec());
        assert_eq!(a.to_vec(), want);
        let mut empty = Encoded::new();
        empty.append(b.clone());
        assert_eq!(empty.to_vec(), b.to_vec());
    }
}
