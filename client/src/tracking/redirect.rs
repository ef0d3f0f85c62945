//! RESP2's invalidation connection: a connection of its own subscribed to
//! `__redis__:invalidate`, whose client id the data connection's
//! `CLIENT TRACKING ON REDIRECT` names. Its messages' payloads are arrays of keys
//! (or null: every key), parsed by the pub/sub layer. Every (re)connect asks
//! `CLIENT ID` again, flushes the cache and has the data connection redirect its
//! tracking to the new id.

use super::tracker::Tracker;
use crate::connection::demux::{Demux, Taken};
use crate::error::Error;
use crate::pubsub::Message;
use crate::reply::{decode_frame, frame_server_error};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

/// The channel the server publishes invalidations to for redirected tracking.
const CHANNEL: &[u8] = b"__redis__:invalidate";

/// How long the invalidation connection may be silent before it is asked a `PING`
/// (and taken for dead when that goes unanswered as long).
const HEALTH_CHECK: Duration = Duration::from_secs(5);

/// What a fence of the invalidation connection waits for.
enum Step {
    ClientId,
    Subscribe,
    Ping,
}

/// The demultiplexer of the invalidation connection of `tracker`.
pub(crate) fn demux(tracker: Arc<Tracker>) -> Box<dyn Demux> {
    Box::new(Redirect {
        tracker,
        steps: VecDeque::new(),
        id: None,
    })
}

struct Redirect {
    tracker: Arc<Tracker>,
    steps: VecDeque<Step>,
    /// This connection's client id, named once the subscription is confirmed (an
    /// invalidation sent before would be lost).
    id: Option<i64>,
}

impl Demux for Redirect {
    fn poll_ops(&mut self, _: &mut Context<'_>, _: &mut BytesMut, _: bool) -> usize {
        0
    }

    fn fail_ops(&mut self, _: &mut Context<'_>, _: &Error) {}

    fn on_connect(&mut self, out: &mut BytesMut, _: bool) -> usize {
        self.tracker.set_redirect(None);
        self.id = None;
        crate::command::CommandBuf::from_words(&[b"CLIENT", b"ID"]).encode(out);
        crate::command::CommandBuf::from_words(&[b"SUBSCRIBE", CHANNEL]).encode(out);
        self.steps.extend([Step::ClientId, Step::Subscribe]);
        2
    }

    /// The invalidations' own connection.
    fn expects_pushes(&self) -> bool {
        true
    }

    fn on_lost(&mut self, _: &Error) {
        self.steps.clear();
        self.id = None;
        self.tracker.set_redirect(None);
    }

    fn takes_arrays(&self) -> bool {
        true
    }

    fn on_frame(&mut self, frame: Bytes, _: bool) -> Taken {
        match Message::parse(frame.clone()) {
            Ok(Some(msg)) if msg.kind.is_message() => {
                // A null payload (no elements): every key.
                self.tracker.invalidate(msg.elements.as_deref());
                Taken::Yes
            }
            // The confirmation of SUBSCRIBE, a `pong`: replies to fences.
            Ok(_) => Taken::Reply(frame),
            Err(err) => {
                // Unreadable: every key may have changed.
                tracing::warn!(error = %err, "an invalidation of an unknown shape: the cache is flushed");
                self.tracker.invalidate(None);
                Taken::Yes
            }
        }
    }

    fn on_fence_reply(&mut self, frame: &Bytes) -> bool {
        match self.steps.pop_front() {
            Some(Step::ClientId) => match decode_frame::<i64>(frame.clone()) {
                Ok(id) => self.id = Some(id),
                Err(e) => {
                    tracing::warn!(error = %e, "CLIENT ID failed: client-side caching stays off")
                }
            },
            Some(Step::Subscribe) => match frame_server_error(frame) {
                None => self.tracker.set_redirect(self.id),
                Some(e) => tracing::warn!(
                    error = %e,
                    "SUBSCRIBE __redis__:invalidate failed: client-side caching stays off"
                ),
            },
            Some(Step::Ping) | None => {}
        }
        true
    }

    fn health_check_interval(&self) -> Option<Duration> {
        Some(HEALTH_CHECK)
    }

    fn probe(&mut self, out: &mut BytesMut) {
        crate::command::CommandBuf::from_words(&[b"PING"]).encode(out);
        self.steps.push_back(Step::Ping);
    }
}
