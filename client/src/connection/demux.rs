//! [`Demux`]: what a connection's driver hands the frames that are not replies to
//! requests, and asks what else to write. The driver owns the socket, the request
//! FIFO, liveness and reconnection; a demultiplexer (pub/sub's, in
//! `pubsub/demux.rs`) owns what arrives outside of request/reply, and its own
//! operations, which it writes followed by a fence whose reply the driver hands
//! back to it in order. The driver knows nothing of pub/sub.

use crate::error::Error;
use bytes::{Bytes, BytesMut};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// What became of a frame offered to the demultiplexer.
pub(crate) enum Taken {
    /// It was the demultiplexer's.
    Yes,
    /// It is a reply to a request after all: the driver delivers it.
    Reply(Bytes),
    /// A push frame the demultiplexer does not handle: the driver gives it to the
    /// push hook (client-tracking invalidations, kinds this client does not know).
    Push(Bytes),
}

/// A connection's demultiplexer (see the module docs). Sans-IO: it writes into the
/// driver's buffer and never touches the socket.
pub(crate) trait Demux: Send + 'static {
    /// Runs the operations its handles queued, writing what they send into `out`
    /// (and registering `cx` for more); returns how many fences it wrote, each one
    /// entry in the reply FIFO.
    fn poll_ops(&mut self, cx: &mut Context<'_>, out: &mut BytesMut, resp3: bool) -> usize;

    /// Fails the operations its handles queue while the connection is down
    /// (registering `cx` for more).
    fn fail_ops(&mut self, cx: &mut Context<'_>, err: &Error);

    /// A new connection (speaking RESP3 when `resp3`): writes what must be renewed
    /// on it into `out`, before any request; returns how many fences it wrote.
    fn on_connect(&mut self, out: &mut BytesMut, resp3: bool) -> usize;

    /// The connection was lost: its fences fail with `err`.
    fn on_lost(&mut self, err: &Error);

    /// Whether every array frame is offered to it (a subscriber's own RESP2
    /// connection, where pub/sub frames are plain arrays).
    fn takes_arrays(&self) -> bool;

    /// A push frame (or an array, when it [takes arrays](Self::takes_arrays)).
    /// `front_is_fence`: the oldest entry waiting for a reply is one of its fences.
    fn on_frame(&mut self, frame: Bytes, front_is_fence: bool) -> Taken;

    /// One reply to its oldest fence; true when that fence is done.
    fn on_fence_reply(&mut self, frame: &Bytes) -> bool;

    /// Lets every fence waiting return now: reading stopped under backpressure, so
    /// their answers may be behind what nobody reads. (Nothing, for one that never
    /// stalls.)
    fn release_fences(&mut self) {}

    /// A frame waits for room in a consumer's queue: the driver stops reading.
    fn is_stalled(&self) -> bool {
        false
    }

    /// Tries again to hand over what stalled; ready once it could.
    fn poll_unstall(&mut self, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }

    /// After this much silence the driver asks the server with [`probe`](Self::probe)
    /// (a subscriber's own connection), instead of the shared connection's liveness
    /// rule.
    fn health_check_interval(&self) -> Option<Duration>;

    /// Writes a health-check probe into `out`: one fence.
    fn probe(&mut self, out: &mut BytesMut);

    /// Whether push frames may come (subscriptions, client-side caching): while
    /// they may, callers never read their own replies (`gate.rs`), so that what
    /// comes is read by the driver as soon as it arrives.
    fn expects_pushes(&self) -> bool;

    /// The count of its operations queued and not yet taken (none: it has no
    /// operations). While it is not zero, callers do not write through the gate,
    /// so what they send comes after those operations, as if queued behind them.
    fn queued_ops(&self) -> Option<Arc<AtomicUsize>> {
        None
    }
}

/// The demultiplexer of a connection that runs only requests: push frames go to
/// the hook, arrays are replies.
pub(crate) struct NoDemux;

impl Demux for NoDemux {
    fn poll_ops(&mut self, _: &mut Context<'_>, _: &mut BytesMut, _: bool) -> usize {
        0
    }

    fn fail_ops(&mut self, _: &mut Context<'_>, _: &Error) {}

    fn on_connect(&mut self, _: &mut BytesMut, _: bool) -> usize {
        0
    }

    fn on_lost(&mut self, _: &Error) {}

    fn takes_arrays(&self) -> bool {
        false
    }

    fn on_frame(&mut self, frame: Bytes, _: bool) -> Taken {
        match frame.first() {
            Some(b'>') => Taken::Push(frame),
            _ => Taken::Reply(frame),
        }
    }

    fn on_fence_reply(&mut self, _: &Bytes) -> bool {
        true
    }

    fn health_check_interval(&self) -> Option<Duration> {
        None
    }

    fn probe(&mut self, _: &mut BytesMut) {}

    fn expects_pushes(&self) -> bool {
        false
    }
}
