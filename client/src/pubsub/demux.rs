//! The pub/sub demultiplexer of one connection: the [`Demux`] its driver hands
//! push frames (and, on a subscriber's own RESP2 connection, every array) to. It
//! keeps the [`Router`] (who wants which channel), the subscribers' operations
//! queue, and its fences: the `PING` written behind every subscription command,
//! whose replies the driver hands back in order.

use super::message::Message;
use super::router::{Fence, Op, Router};
use crate::connection::demux::{Demux, Taken};
use crate::error::Error;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// Where a connection's subscribers send their operations.
#[derive(Clone, Debug)]
pub(crate) struct Ops {
    tx: mpsc::UnboundedSender<Op>,
    /// Sent and not yet taken by the demultiplexer ([`Demux::queued_ops`]).
    queued: Arc<AtomicUsize>,
}

impl Ops {
    /// Hands an operation to the connection; fails it when the connection is gone.
    pub(crate) fn send(&self, op: Op) {
        // Counted before it is sent: a request made after this call sees it.
        self.queued.fetch_add(1, Ordering::AcqRel);
        if let Err(mpsc::error::SendError(op)) = self.tx.send(op) {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            op.fail(Error::closed());
        }
    }
}

/// The demultiplexer of the client's shared RESP3 connection (any number of
/// subscribers).
pub(crate) fn shared() -> (Box<dyn Demux>, Ops) {
    new(Router::new(false))
}

/// The demultiplexer of a subscriber's own connection, which checks the server
/// after `health_check_interval` of silence.
pub(crate) fn dedicated(health_check_interval: Option<Duration>) -> (Box<dyn Demux>, Ops) {
    new(Router::new(true).with_health_check(health_check_interval))
}

fn new(router: Router) -> (Box<dyn Demux>, Ops) {
    let (tx, ops) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let demux = PubSub {
        router,
        ops,
        queued: queued.clone(),
        fences: VecDeque::new(),
    };
    (Box::new(demux), Ops { tx, queued })
}

struct PubSub {
    router: Router,
    ops: mpsc::UnboundedReceiver<Op>,
    /// Operations sent and not yet taken.
    queued: Arc<AtomicUsize>,
    /// The fences written and not yet answered, oldest first.
    fences: VecDeque<Fence>,
}

impl Demux for PubSub {
    fn poll_ops(&mut self, cx: &mut Context<'_>, out: &mut BytesMut, resp3: bool) -> usize {
        let mut fences = 0;
        while let Poll::Ready(Some(op)) = self.ops.poll_recv(cx) {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            if let Some(fence) = self.router.op(op, out, resp3) {
                self.fences.push_back(fence);
                fences += 1;
            }
        }
        fences
    }

    fn fail_ops(&mut self, cx: &mut Context<'_>, err: &Error) {
        while let Poll::Ready(Some(op)) = self.ops.poll_recv(cx) {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            // Calls fail at once; a subscriber that left is forgotten.
            if let Some(id) = op.fail(err.duplicate()) {
                self.router.detach_offline(id);
            }
        }
    }

    fn on_connect(&mut self, out: &mut BytesMut, _: bool) -> usize {
        match self.router.renew(out) {
            Some(fence) => {
                self.fences.push_back(fence);
                1
            }
            None => 0,
        }
    }

    fn on_lost(&mut self, err: &Error) {
        self.router.connection_lost();
        for fence in self.fences.drain(..) {
            fence.fail(err.duplicate());
        }
    }

    fn takes_arrays(&self) -> bool {
        self.router.is_dedicated()
    }

    fn on_frame(&mut self, frame: Bytes, front_is_fence: bool) -> Taken {
        let push = frame.first() == Some(&b'>');
        match Message::parse(frame.clone()) {
            Ok(Some(msg)) => {
                let front = front_is_fence.then(|| self.fences.front()).flatten();
                self.router.on_message(msg, front);
                Taken::Yes
            }
            // Another kind of push (client tracking): the driver's hook.
            Ok(None) if push => Taken::Push(frame),
            // An array on a subscriber's RESP2 connection that is a reply (`pong`).
            Ok(None) => Taken::Reply(frame),
            Err(err) => {
                // Framed correctly, so the connection stays in step; only this
                // frame is unusable.
                tracing::warn!(error = %err, "a pub/sub frame of an unknown shape was dropped");
                Taken::Yes
            }
        }
    }

    fn on_fence_reply(&mut self, frame: &Bytes) -> bool {
        let Some(fence) = self.fences.front_mut() else {
            return true;
        };
        if !fence.on_reply(frame) {
            return false;
        }
        if let Some(fence) = self.fences.pop_front() {
            self.router.fence_done(fence);
        }
        true
    }

    fn release_fences(&mut self) {
        for fence in &mut self.fences {
            fence.release();
        }
    }

    fn is_stalled(&self) -> bool {
        self.router.is_stalled()
    }

    fn poll_unstall(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.router.poll_unstall(cx)
    }

    fn health_check_interval(&self) -> Option<Duration> {
        self.router.health_check_interval()
    }

    fn probe(&mut self, out: &mut BytesMut) {
        let fence = self.router.probe(out);
        self.fences.push_back(fence);
    }

    fn queued_ops(&self) -> Option<Arc<AtomicUsize>> {
        Some(self.queued.clone())
    }

    fn expects_pushes(&self) -> bool {
        self.router.has_subscribers()
    }
}
