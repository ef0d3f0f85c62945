//! The data connection's side: a [`Demux`] around the connection's own (pub/sub's)
//! that turns tracking on first thing on every connection, hands `invalidate` push
//! frames to the cache, and flushes the cache whenever the connection is lost or
//! made again (invalidations may have been missed meanwhile).

use super::tracker::Tracker;
use crate::connection::demux::{Demux, Taken};
use crate::error::Error;
use crate::reply::Push;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Whose fence an entry of the reply FIFO is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A `CLIENT TRACKING ON`, sent with this redirect.
    Tracking(Option<i64>),
    /// The wrapped demultiplexer's.
    Inner,
}

/// Wraps the data connection's demultiplexer `inner` for `tracker`.
pub(crate) fn wrap(
    inner: Box<dyn Demux>,
    tracker: Arc<Tracker>,
    redirected: bool,
) -> Box<dyn Demux> {
    Box::new(Tracking {
        inner,
        tracker,
        redirected,
        owners: VecDeque::new(),
    })
}

struct Tracking {
    inner: Box<dyn Demux>,
    tracker: Arc<Tracker>,
    /// RESP2: invalidations go to the invalidation connection (`REDIRECT`).
    redirected: bool,
    owners: VecDeque<Owner>,
}

impl Tracking {
    /// Writes `CLIENT TRACKING ON` (redirected to `redirect`) and keeps its place.
    fn enable(&mut self, out: &mut BytesMut, redirect: Option<i64>) {
        self.tracker.options().command(redirect).encode(out);
        self.owners.push_back(Owner::Tracking(redirect));
    }

    fn inner_fences(&mut self, n: usize) -> usize {
        self.owners.extend(std::iter::repeat_n(Owner::Inner, n));
        n
    }
}

impl Demux for Tracking {
    fn poll_ops(&mut self, cx: &mut Context<'_>, out: &mut BytesMut, resp3: bool) -> usize {
        let mut mine = 0;
        if self.redirected {
            if let Some(id) = self.tracker.take_renew(cx.waker()) {
                self.enable(out, Some(id));
                mine = 1;
            }
        }
        let n = self.inner.poll_ops(cx, out, resp3);
        mine + self.inner_fences(n)
    }

    fn fail_ops(&mut self, cx: &mut Context<'_>, err: &Error) {
        self.inner.fail_ops(cx, err);
    }

    fn on_connect(&mut self, out: &mut BytesMut, resp3: bool) -> usize {
        // Before anything else is written on the new connection, so no read on it
        // is served untracked; replies are stored again once the server confirms.
        self.tracker.flush();
        let mut mine = 0;
        if self.redirected {
            self.tracker.clear_renew();
            // Without an invalidation connection yet, tracking is turned on once it
            // is there (`poll_ops`).
            if let Some(id) = self.tracker.redirect_id() {
                self.enable(out, Some(id));
                mine = 1;
            }
        } else if resp3 {
            self.enable(out, None);
            mine = 1;
        } else {
            tracing::warn!(
                "the server does not speak RESP3 (no HELLO 3): client-side caching needs a RESP2 client (protocol=2) for its invalidation connection, and stays off"
            );
        }
        let n = self.inner.on_connect(out, resp3);
        mine + self.inner_fences(n)
    }

    fn on_lost(&mut self, err: &Error) {
        self.tracker.flush();
        self.owners.clear();
        self.inner.on_lost(err);
    }

    fn takes_arrays(&self) -> bool {
        self.inner.takes_arrays()
    }

    fn on_frame(&mut self, frame: Bytes, front_is_fence: bool) -> Taken {
        let inner_front = front_is_fence && self.owners.front() == Some(&Owner::Inner);
        match self.inner.on_frame(frame, inner_front) {
            Taken::Push(push) => match Push::parse(push.clone()) {
                Ok(Push::Invalidate(keys)) => {
                    self.tracker.invalidate(keys.as_deref());
                    Taken::Yes
                }
                _ => Taken::Push(push),
            },
            taken => taken,
        }
    }

    fn on_fence_reply(&mut self, frame: &Bytes) -> bool {
        match self.owners.front().copied() {
            Some(Owner::Tracking(redirect)) => {
                self.owners.pop_front();
                match crate::reply::frame_server_error(frame) {
                    None => self.tracker.tracking_on(redirect),
                    Some(e) => tracing::warn!(
                        error = %e,
                        "CLIENT TRACKING was refused: client-side caching stays off on this connection"
                    ),
                }
                true
            }
            Some(Owner::Inner) | None => {
                let done = self.inner.on_fence_reply(frame);
                if done {
                    self.owners.pop_front();
                }
                done
            }
        }
    }

    fn release_fences(&mut self) {
        self.inner.release_fences();
    }

    fn is_stalled(&self) -> bool {
        self.inner.is_stalled()
    }

    fn poll_unstall(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.poll_unstall(cx)
    }

    fn health_check_interval(&self) -> Option<Duration> {
        self.inner.health_check_interval()
    }

    fn queued_ops(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicUsize>> {
        self.inner.queued_ops()
    }

    /// Invalidations may come at any time (on this connection with RESP3; with
    /// RESP2 the fills still count on the driver reading in turn).
    fn expects_pushes(&self) -> bool {
        true
    }

    fn probe(&mut self, out: &mut BytesMut) {
        self.inner.probe(out);
        self.owners.push_back(Owner::Inner);
    }
}
