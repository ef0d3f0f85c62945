//! [`FrameReader`]: whole RESP frames from a byte stream. The one read loop of the
//! crate: the handshake, `MONITOR` and the driver all read through it.
//!
//! Reads are large (tens of KiB) and grow at once to the size of a long bulk string
//! whose header has arrived; frames come out as [`Bytes`] slices of the read buffer
//! (no copy); the scanner does not re-scan a partial frame from its start.

use crate::error::{Error, Result};
use crate::resp::{Limits, ProtocolError, Scanner};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncRead;

/// Free space kept in the read buffer before a read; grows for big replies.
const READ_CHUNK: usize = 64 * 1024;

/// A byte stream a [`FrameReader`] reads from: into the spare room of its buffer.
/// A socket's shared reading half reads into the buffer directly (`transport.rs`);
/// any [`AsyncRead`] through `tokio_util`'s adapter (below).
pub(crate) trait Source {
    /// Reads what the stream has into `buf`'s spare room: the number of bytes, 0
    /// at its end; `cx` is woken when there is more.
    fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>>;
}

/// Any other [`AsyncRead`] (the handshake's transport, TLS, a test's bytes) reads
/// through `tokio_util`'s adapter.
impl<R: AsyncRead + Unpin> Source for R {
    fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        tokio_util::io::poll_read_buf(Pin::new(self), cx, buf)
    }
}

/// Finds whole frames in what a stream delivers.
///
/// When the read buffer holds several whole frames, they are split off it together,
/// as one [`Bytes`] (`ready`), and handed out one by one from there: one split of
/// the mutable buffer per read instead of one per frame (each split takes a
/// reference count, and a `Bytes` split is the cheaper of the two).
#[derive(Debug)]
pub(crate) struct FrameReader {
    /// Bytes read and not yet found to be whole frames (a partial frame, at most).
    buf: BytesMut,
    scanner: Scanner,
    /// Whole frames split off `buf`, not handed out yet.
    ready: Bytes,
    /// The length of each frame in `ready`, in order.
    lens: VecDeque<usize>,
    /// The error found after the frames in `ready`, reported once they are out.
    failed: Option<ProtocolError>,
}

impl FrameReader {
    /// A reader enforcing `limits`.
    pub(crate) fn new(limits: Limits) -> Self {
        FrameReader {
            buf: BytesMut::with_capacity(READ_CHUNK),
            scanner: Scanner::new(limits),
            ready: Bytes::new(),
            lens: VecDeque::new(),
            failed: None,
        }
    }

    /// A reader with no buffer yet (what stands in for the driver's while it lends
    /// its own, see `gate.rs`).
    pub(crate) fn detached() -> Self {
        FrameReader {
            buf: BytesMut::new(),
            scanner: Scanner::default(),
            ready: Bytes::new(),
            lens: VecDeque::new(),
            failed: None,
        }
    }

    /// Nothing read and not yet taken (no partial frame, no error either).
    pub(crate) fn is_empty(&self) -> bool {
        self.lens.is_empty() && self.failed.is_none() && self.buf.is_empty()
    }

    /// The first byte read and not yet taken: the type of the next frame.
    pub(crate) fn next_type(&self) -> Option<u8> {
        if self.lens.is_empty() {
            self.buf.first().copied()
        } else {
            self.ready.first().copied()
        }
    }

    /// The next whole frame already read, if there is one. A frame that breaks the
    /// protocol or a limit is an error (the stream is then out of step), reported
    /// after the whole frames before it.
    pub(crate) fn next_buffered(&mut self) -> Result<Option<Bytes>> {
        if self.lens.is_empty() && self.failed.is_none() && !self.buf.is_empty() {
            let lens = &mut self.lens;
            let (end, failed) = self.scanner.scan_frames(&self.buf, |n| lens.push_back(n));
            self.failed = failed;
            if self.lens.len() == 1 {
                // The only one (a lone caller's reply): nothing to hand out later.
                self.lens.clear();
                return Ok(Some(self.buf.split_to(end).freeze()));
            }
            if end > 0 {
                self.ready = self.buf.split_to(end).freeze();
            }
        }
        match self.lens.pop_front() {
            Some(n) => Ok(Some(self.ready.split_to(n))),
            None => self.failed.take().map_or(Ok(None), |e| Err(e.into())),
        }
    }

    /// Reads what `io` has into the buffer: the number of bytes, 0 at the end of the
    /// stream.
    pub(crate) fn poll_fill<R: Source>(
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
        io.poll_read_into(cx, &mut self.buf)
    }

    /// The next whole frame, reading as needed; `None` at the end of the stream.
    pub(crate) async fn next<R: Source>(&mut self, io: &mut R) -> Result<Option<Bytes>> {
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
    pub(crate) async fn expect<R: Source>(&mut self, io: &mut R, during: &str) -> Result<Bytes> {
        self.next(io).await?.ok_or_else(|| {
            Error::io_while(
                format!("the server closed the connection {during}"),
                io::ErrorKind::UnexpectedEof.into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use std::task::Waker;

    /// What a reader hands out of `stream` arriving in reads that end at `cuts`
    /// (every whole frame taken after each read): the frames, then the error if one
    /// came.
    fn read_in_pieces(stream: &[u8], cuts: &[usize]) -> (Vec<Bytes>, Option<String>) {
        let mut reader = FrameReader::new(Limits::default());
        let mut cx = Context::from_waker(Waker::noop());
        let mut frames = Vec::new();
        let mut done = 0;
        for &cut in cuts.iter().chain([&stream.len()]) {
            let cut = cut.clamp(done, stream.len());
            let mut piece = &stream[done..cut];
            while !piece.is_empty() {
                match reader.poll_fill(&mut piece, &mut cx) {
                    Poll::Ready(Ok(n)) => assert!(n > 0),
                    other => panic!("a read from a slice gave {other:?}"),
                }
            }
            done = cut;
            loop {
                match reader.next_buffered() {
                    Ok(Some(frame)) => frames.push(frame),
                    Ok(None) => break,
                    Err(e) => return (frames, Some(format!("{e:?}"))),
                }
            }
        }
        (frames, None)
    }

    /// The same stream split by a scanner over all of it at once.
    fn split_whole(stream: &[u8]) -> (Vec<Bytes>, Option<String>) {
        let mut scanner = Scanner::default();
        let mut rest = Bytes::copy_from_slice(stream);
        let mut frames = Vec::new();
        loop {
            match scanner.scan(&rest) {
                Ok(Some(n)) => frames.push(rest.split_to(n)),
                Ok(None) => return (frames, None),
                Err(e) => return (frames, Some(format!("{:?}", Error::from(e)))),
            }
        }
    }

    #[test]
    fn frames_before_an_error_come_out_first() {
        let stream = b"+OK\r\n$3\r\nbar\r\n:12\r\n?\r\n+never\r\n";
        let (frames, error) = read_in_pieces(stream, &[]);
        assert_eq!(frames, [&b"+OK\r\n"[..], b"$3\r\nbar\r\n", b":12\r\n"]);
        assert!(error.unwrap().contains("unknown type byte"));
        let mut reader = FrameReader::new(Limits::default());
        reader.buf.extend_from_slice(b"?\r\n");
        assert!(reader.next_buffered().is_err());
    }

    #[test]
    fn a_partial_frame_waits_for_the_rest() {
        let stream = b"+OK\r\n*2\r\n$3\r\nfoo\r\n$100\r\nab";
        let mut reader = FrameReader::new(Limits::default());
        reader.buf.extend_from_slice(stream);
        assert_eq!(reader.next_buffered().unwrap().unwrap(), &b"+OK\r\n"[..]);
        assert_eq!(reader.next_buffered().unwrap(), None);
        // The buffer starts at the partial frame, whose length is known.
        assert_eq!(&reader.buf[..], &stream[5..]);
        assert_eq!(reader.scanner.wanted(), 4 + 9 + 6 + 100 + 2);
        reader.buf.extend_from_slice(&[b'x'; 98]);
        reader.buf.extend_from_slice(b"\r\n");
        let frame = reader.next_buffered().unwrap().unwrap();
        assert_eq!(frame.len(), 4 + 9 + 6 + 100 + 2);
        assert_eq!(reader.next_buffered().unwrap(), None);
    }

    /// What a caller reading its own reply looks at (`gate.rs`): the type of the
    /// next frame, whether it is among frames split off together or still in the
    /// read buffer, and whether anything at all is left.
    #[test]
    fn the_next_frames_type_and_emptiness_follow_what_is_taken() {
        let mut reader = FrameReader::new(Limits::default());
        assert!(reader.is_empty());
        assert_eq!(reader.next_type(), None);
        reader
            .buf
            .extend_from_slice(b"+OK\r\n>2\r\n$1\r\na\r\n$1\r\nb\r\n:7\r\n$5\r\nab");
        assert_eq!(reader.next_type(), Some(b'+'));
        assert_eq!(reader.next_buffered().unwrap().unwrap(), &b"+OK\r\n"[..]);
        assert_eq!(reader.next_type(), Some(b'>'));
        assert!(!reader.is_empty());
        reader.next_buffered().unwrap().unwrap();
        assert_eq!(reader.next_type(), Some(b':'));
        reader.next_buffered().unwrap().unwrap();
        // A partial frame is not nothing.
        assert_eq!(reader.next_type(), Some(b'$'));
        assert_eq!(reader.next_buffered().unwrap(), None);
        assert!(!reader.is_empty());
        reader.buf.extend_from_slice(b"cde\r\n");
        assert_eq!(
            reader.next_buffered().unwrap().unwrap(),
            &b"$5\r\nabcde\r\n"[..]
        );
        assert!(reader.is_empty());
        // An error found after whole frames is something left too.
        reader.buf.extend_from_slice(b":1\r\n:2\r\n?bad\r\n");
        reader.next_buffered().unwrap().unwrap();
        reader.next_buffered().unwrap().unwrap();
        assert!(!reader.is_empty());
        assert!(reader.next_buffered().is_err());
    }

    /// A frame of the kinds a connection sees most, or any bytes (mostly garbage).
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => Just(b"+OK\r\n".to_vec()),
            4 => vec(any::<u8>(), 0..70)
                .prop_map(|t| [format!("${}\r\n", t.len()).as_bytes(), &t, b"\r\n"].concat()),
            2 => any::<i64>().prop_map(|i| format!(":{i}\r\n").into_bytes()),
            1 => Just(b"$-1\r\n".to_vec()),
            1 => Just(b"_\r\n".to_vec()),
            1 => Just(b"*2\r\n$1\r\na\r\n%1\r\n+k\r\n:1\r\n".to_vec()),
            1 => Just(b">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n".to_vec()),
            1 => vec(any::<u8>(), 0..6),
        ]
    }

    proptest! {
        /// However a stream arrives (in reads of random sizes, one byte at a time),
        /// the reader hands out the frames a scanner finds in all of it, in order,
        /// then the error after them, if any.
        #[test]
        fn reads_of_any_size_give_the_same_frames(
            pieces in vec(piece(), 1..12),
            cuts in vec(0usize..400, 0..8),
        ) {
            let stream = pieces.concat();
            let expected = split_whole(&stream);
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(read_in_pieces(&stream, &cuts), expected.clone());
            let every_byte: Vec<usize> = (1..stream.len()).collect();
            prop_assert_eq!(read_in_pieces(&stream, &every_byte), expected);
        }
    }
}
