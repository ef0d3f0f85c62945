//! [`FrameReader`]: whole RESP frames from a byte stream. The one read loop of the
//! crate: the handshake, `MONITOR` and the driver all read through it.
//!
//! Reads are large (tens of KiB) and grow at once to the size of a long bulk string
//! whose header has arrived; frames come out as [`Bytes`] slices of the read buffer
//! (no copy); the scanner does not re-scan a partial frame from its start.

use crate::error::{Error, Result};
use crate::resp::{Limits, Scanner};
use bytes::{Bytes, BytesMut};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncRead;

/// Free space kept in the read buffer before a read; grows for big replies.
const READ_CHUNK: usize = 64 * 1024;

/// Finds whole frames in what a stream delivers.
#[derive(Debug)]
pub(crate) struct FrameReader {
    buf: BytesMut,
    scanner: Scanner,
}

impl FrameReader {
    /// A reader enforcing `limits`.
    pub(crate) fn new(limits: Limits) -> Self {
        FrameReader {
            buf: BytesMut::with_capacity(READ_CHUNK),
            scanner: Scanner::new(limits),
        }
    }

    /// A reader with no buffer yet (what stands in for the driver's while it lends
    /// its own, see `gate.rs`).
    pub(crate) fn detached() -> Self {
        FrameReader {
            buf: BytesMut::new(),
            scanner: Scanner::default(),
        }
    }

    /// Nothing read and not yet taken (no partial frame either).
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The first byte read and not yet taken: the type of the next frame.
    pub(crate) fn next_type(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// The next whole frame already read, if there is one. A frame that breaks the
    /// protocol or a limit is an error (the stream is then out of step).
    pub(crate) fn next_buffered(&mut self) -> Result<Option<Bytes>> {
        Ok(self
            .scanner
            .scan(&self.buf)?
            .map(|n| self.buf.split_to(n).freeze()))
    }

    /// Reads what `io` has into the buffer: the number of bytes, 0 at the end of the
    /// stream.
    pub(crate) fn poll_fill<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        // Keep READ_CHUNK / 2 free at least; for a large bulk string whose header has
        // arrived, make room for all of it at once instead of doubling step by step.
        let spare = self.buf.capacity() - self.buf.len();
        let wanted = self.scanner.wanted().saturating_sub(self.buf.len());
        if spare < READ_CHUNK / 2 || spare < wanted {
            self.buf.reserve(READ_CHUNK.max(wanted));
        }
        tokio_util::io::poll_read_buf(Pin::new(io), cx, &mut self.buf)
    }

    /// The next whole frame, reading as needed; `None` at the end of the stream.
    pub(crate) async fn next<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<Option<Bytes>> {
        loop {
            if let Some(frame) = self.next_buffered()? {
                return Ok(Some(frame));
            }
            if poll_fn(|cx| self.poll_fill(io, cx)).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// The next whole frame; the end of the stream is an error saying `during` what.
    pub(crate) async fn expect<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        during: &str,
    ) -> Result<Bytes> {
        self.next(io).await?.ok_or_else(|| {
            Error::io_while(
                format!("the server closed the connection {during}"),
                io::ErrorKind::UnexpectedEof.into(),
            )
        })
    }
}
