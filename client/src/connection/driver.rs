//! The driver task: owns one socket, coalesces queued requests into few writes
//! (auto-pipelining), matches replies to requests in order, routes push frames, and
//! reconnects.

use super::config::{Config, Protocol};
use super::handshake;
use super::health::{Health, Verdict};
use super::transport::Transport;
use crate::command::CommandBuf;
use crate::error::{Error, Result};
use crate::pubsub::router::{Fence, Op, Router};
use crate::pubsub::Message;
use crate::resp::Scanner;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, oneshot};

/// Bytes queued for writing before the driver stops taking requests and writes.
const HIGH_WATER: usize = 256 * 1024;
/// Free space kept in the read buffer before a read; grows for big replies.
const READ_CHUNK: usize = 64 * 1024;

/// Where the replies of a request go.
pub(crate) enum Sink {
    /// One reply.
    One(oneshot::Sender<Result<Bytes>>),
    /// `n` replies, delivered together (pipelines).
    Many {
        /// How many replies.
        n: usize,
        /// Collected so far.
        got: Vec<Bytes>,
        /// Receives them all.
        tx: oneshot::Sender<Result<Vec<Bytes>>>,
    },
    /// The `PING` behind subscription commands (see the pub/sub router).
    Fence(Fence),
}

impl Sink {
    pub(crate) fn fail(self, err: Error) {
        match self {
            Sink::One(tx) => {
                let _ = tx.send(Err(err));
            }
            Sink::Many { tx, .. } => {
                let _ = tx.send(Err(err));
            }
            Sink::Fence(f) => f.fail(err),
        }
    }

    /// Delivers one reply; returns the sink back when it expects more. A fence's
    /// answer goes through the pub/sub router.
    fn deliver(self, frame: Bytes, router: &mut Router) -> Option<Sink> {
        match self {
            Sink::One(tx) => {
                // The caller may have gone (cancelled): the reply is dropped, and the
                // connection stays in step.
                let _ = tx.send(Ok(frame));
                None
            }
            Sink::Many { n, mut got, tx } => {
                got.push(frame);
                if got.len() == n {
                    let _ = tx.send(Ok(got));
                    None
                } else {
                    Some(Sink::Many { n, got, tx })
                }
            }
            Sink::Fence(mut f) => {
                if f.on_reply(&frame) {
                    router.fence_done(f);
                    None
                } else {
                    Some(Sink::Fence(f))
                }
            }
        }
    }

    /// Completes a sink that expects no reply (an empty pipeline).
    fn finish_empty(self) {
        match self {
            Sink::One(tx) => {
                let _ = tx.send(Ok(Bytes::new()));
            }
            Sink::Many { got, tx, .. } => {
                let _ = tx.send(Ok(got));
            }
            Sink::Fence(mut f) => f.release(),
        }
    }

    fn expects(&self) -> usize {
        match self {
            Sink::One(_) | Sink::Fence(_) => 1,
            Sink::Many { n, .. } => *n,
        }
    }
}

/// What a request sends.
pub(crate) enum Payload {
    /// One command.
    One(CommandBuf),
    /// Several commands, already encoded back to back (pipelines).
    Encoded(BytesMut),
}

/// A message to the driver.
// Requests are the hot path and `Close` is rare: boxing the request would cost an
// allocation per command to save channel slot space.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    /// Send and route the replies to the sink.
    Request(Payload, Sink),
    /// Close the connection now, failing whatever is in flight.
    Close,
    /// A subscriber's operation.
    PubSub(Op),
}

/// Runs a connection until every handle is gone (or it is closed), reconnecting on
/// failure when `reconnect` is set (a dedicated connection instead ends, so state such
/// as watched keys can never vanish silently). `first` is the already connected and
/// handshaken transport.
pub(crate) async fn run(
    config: Arc<Config>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    first: (Transport, Protocol),
    reconnect_on_failure: bool,
    mut router: Router,
) {
    let mut transport = Some(first);
    let mut attempt: u32 = 0;
    loop {
        let t = match transport.take() {
            Some(t) => t,
            None => match reconnect(&config, &mut rx, &mut attempt, &mut router).await {
                Some(t) => t,
                None => return,
            },
        };
        attempt = 0;
        let mut io = Io::new(t.0, t.1, &config, &mut rx, &mut router);
        io.renew_subscriptions();
        let outcome = (&mut io).await;
        let pending = std::mem::take(&mut io.pending);
        drop(io);
        match outcome {
            Ok(()) => return,
            Err(err) => {
                tracing::debug!(address = %config.address, error = %err, "connection lost");
                // Written requests may have run: they fail, never resent (at most once).
                let lost = if err.is_io() {
                    io_error(&format!(
                        "connection to {} lost: {err}; the command may or may not have run",
                        config.address
                    ))
                } else {
                    err.duplicate()
                };
                router.connection_lost();
                if !reconnect_on_failure {
                    // Closed before the failures are delivered: whoever sees one finds
                    // the connection closed, and nothing new can be queued on it.
                    rx.close();
                }
                for sink in pending {
                    sink.fail(lost.duplicate());
                }
                if err.is_closed() || !reconnect_on_failure {
                    return;
                }
            }
        }
    }
}

fn io_error(text: &str) -> Error {
    Error::io(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        text.to_owned(),
    ))
}

/// Reconnects with backoff. While disconnected, requests fail fast. Returns `None`
/// when every handle is gone.
async fn reconnect(
    config: &Config,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    attempt: &mut u32,
    router: &mut Router,
) -> Option<(Transport, Protocol)> {
    loop {
        match handshake::connect(config).await {
            Ok(t) => {
                tracing::debug!(address = %config.address, "reconnected");
                return Some(t);
            }
            Err(err) => {
                let text = format!("not connected to {} (reconnecting): {err}", config.address);
                // Fail what is queued now, then keep failing new requests until the
                // next attempt.
                loop {
                    match rx.try_recv() {
                        Ok(Msg::Request(_, sink)) => sink.fail(io_error(&text)),
                        Ok(Msg::PubSub(op)) => fail_op(router, op, &text),
                        Ok(Msg::Close) => return None,
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => return None,
                    }
                }
                let delay = config.backoff.delay(*attempt);
                *attempt = attempt.saturating_add(1);
                let sleep = tokio::time::sleep(delay);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        msg = rx.recv() => match msg {
                            Some(Msg::Request(_, sink)) => sink.fail(io_error(&text)),
                            Some(Msg::PubSub(op)) => fail_op(router, op, &text),
                            Some(Msg::Close) | None => return None,
                        },
                    }
                }
            }
        }
    }
}

/// A subscriber's operation while disconnected: calls fail at once, a subscriber
/// that left is forgotten.
fn fail_op(router: &mut Router, op: Op, text: &str) {
    if let Some(id) = op.fail(io_error(text)) {
        router.detach_offline(id);
    }
}

/// One connected socket.
struct Io<'a> {
    stream: Transport,
    rx: &'a mut mpsc::UnboundedReceiver<Msg>,
    resp3: bool,
    push_hook: Option<super::config::PushHook>,
    wbuf: BytesMut,
    needs_flush: bool,
    rbuf: BytesMut,
    scanner: Scanner,
    /// Sinks of written (or being written) requests, in order.
    pending: VecDeque<Sink>,
    rx_closed: bool,
    /// Subscribers on this connection, kept across reconnects.
    router: &'a mut Router,
    /// A subscriber's own connection checks that the server still answers.
    health: Option<Health>,
}

impl<'a> Io<'a> {
    fn new(
        stream: Transport,
        protocol: Protocol,
        config: &Config,
        rx: &'a mut mpsc::UnboundedReceiver<Msg>,
        router: &'a mut Router,
    ) -> Self {
        Io {
            stream,
            rx,
            resp3: protocol == Protocol::Resp3,
            push_hook: config.push_hook.clone(),
            wbuf: BytesMut::with_capacity(16 * 1024),
            needs_flush: false,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            scanner: Scanner::new(config.limits.clone()),
            pending: VecDeque::new(),
            rx_closed: false,
            health: router.health_check_interval().map(Health::new),
            router,
        }
    }

    /// A new connection renews the subscriptions of the last one.
    fn renew_subscriptions(&mut self) {
        if let Some(fence) = self.router.renew(&mut self.wbuf) {
            self.push_fence(fence);
        }
    }

    fn push_fence(&mut self, mut fence: Fence) {
        if self.router.is_stalled() {
            fence.release();
        }
        if self.pending.is_empty() {
            // The wait for this answer starts now, not at the last frame read.
            self.touch_health();
        }
        self.pending.push_back(Sink::Fence(fence));
    }

    /// A sign of life for the health check.
    fn touch_health(&mut self) {
        if let Some(h) = &mut self.health {
            h.touch();
        }
    }

    /// The health check: a `PING` after a silence, or the verdict that the server
    /// stopped answering. Not while reading is stopped under backpressure (the
    /// silence is then ours). Returns whether it wrote something.
    fn check_health(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let Some(h) = &mut self.health else {
            return Ok(false);
        };
        if self.router.is_stalled() {
            h.touch();
            return Ok(false);
        }
        match h.poll(cx, !self.pending.is_empty()) {
            Verdict::Wait => Ok(false),
            Verdict::Probe => {
                let fence = self.router.probe(&mut self.wbuf);
                self.pending.push_back(Sink::Fence(fence));
                Ok(true)
            }
            Verdict::Dead => Err(Error::io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the server left a request unanswered for {:?} (the subscriber's health_check_interval): the connection is taken for dead",
                    h.every()
                ),
            ))),
        }
    }

    /// Reading stopped for a full subscriber queue: calls waiting for a
    /// confirmation return now (theirs may be behind the message that filled it).
    fn release_fences(&mut self) {
        for sink in &mut self.pending {
            if let Sink::Fence(f) = sink {
                f.release();
            }
        }
    }

    /// Routes a pub/sub frame to the subscribers.
    fn route(&mut self, msg: Message) {
        let front = match self.pending.front() {
            Some(Sink::Fence(f)) => Some(f),
            _ => None,
        };
        self.router.on_message(msg, front);
        if self.router.is_stalled() {
            self.release_fences();
        }
    }

    /// Takes queued requests into the write buffer. Returns an error on `Close`.
    fn take_requests(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let mut progress = false;
        while !self.rx_closed && self.wbuf.len() < HIGH_WATER {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Msg::Request(payload, sink))) => {
                    match payload {
                        Payload::One(cmd) => cmd.encode(&mut self.wbuf),
                        // Nothing else queued: write the pipeline's own buffer, no copy.
                        Payload::Encoded(bytes) if self.wbuf.is_empty() => self.wbuf = bytes,
                        Payload::Encoded(bytes) => self.wbuf.extend_from_slice(&bytes),
                    }
                    if sink.expects() == 0 {
                        sink.finish_empty();
                    } else {
                        self.pending.push_back(sink);
                    }
                    progress = true;
                }
                Poll::Ready(Some(Msg::PubSub(op))) => {
                    if let Some(fence) = self.router.op(op, &mut self.wbuf, self.resp3) {
                        self.push_fence(fence);
                    }
                    progress = true;
                }
                Poll::Ready(Some(Msg::Close)) => return Err(Error::closed()),
                Poll::Ready(None) => {
                    self.rx_closed = true;
                }
                Poll::Pending => break,
            }
        }
        Ok(progress)
    }

    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let mut progress = false;
        while !self.wbuf.is_empty() {
            match Pin::new(&mut self.stream).poll_write(cx, &self.wbuf) {
                Poll::Ready(Ok(0)) => {
                    return Err(Error::io(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the server closed the connection",
                    )))
                }
                Poll::Ready(Ok(n)) => {
                    self.wbuf.advance(n);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(Error::io(e)),
                Poll::Pending => break,
            }
        }
        if self.wbuf.is_empty() {
            self.wbuf.clear();
            if self.needs_flush {
                match Pin::new(&mut self.stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(e)) => return Err(Error::io(e)),
                    Poll::Pending => {}
                }
            }
        }
        Ok(progress)
    }

    fn read(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        // Keep READ_CHUNK / 2 free at least; for a large bulk string whose header has
        // arrived, make room for all of it at once instead of doubling step by step.
        let spare = self.rbuf.capacity() - self.rbuf.len();
        let wanted = self.scanner.wanted().saturating_sub(self.rbuf.len());
        if spare < READ_CHUNK / 2 || spare < wanted {
            self.rbuf.reserve(READ_CHUNK.max(wanted));
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.rbuf) {
            Poll::Ready(Ok(0)) => Err(Error::io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ))),
            Poll::Ready(Ok(_)) => {
                self.touch_health();
                self.dispatch()?;
                Ok(true)
            }
            Poll::Ready(Err(e)) => Err(Error::io(e)),
            Poll::Pending => Ok(false),
        }
    }

    /// Routes every complete frame in the read buffer (until a full subscriber
    /// queue stops it, under backpressure).
    fn dispatch(&mut self) -> Result<()> {
        while !self.router.is_stalled() {
            let Some(n) = self.scanner.scan(&self.rbuf)? else {
                break;
            };
            let frame = self.rbuf.split_to(n).freeze();
            match frame.first() {
                Some(b'>') if self.resp3 => {
                    self.on_push(frame);
                    continue;
                }
                // On a subscriber's own RESP2 connection, pub/sub frames are arrays.
                Some(b'*') if self.router.is_dedicated() => match Message::parse(frame.clone()) {
                    Ok(Some(msg)) => {
                        self.route(msg);
                        continue;
                    }
                    Ok(None) => {} // a reply (`pong`)
                    Err(err) => {
                        tracing::warn!(error = %err, "a pub/sub frame of an unknown shape was dropped");
                        continue;
                    }
                },
                _ => {}
            }
            // A pipeline collects its replies in place until it has them all.
            if let Some(Sink::Many { n, got, .. }) = self.pending.front_mut() {
                if got.len() + 1 < *n {
                    got.push(frame);
                    continue;
                }
            }
            let Some(sink) = self.pending.pop_front() else {
                return Err(Error::protocol(crate::resp::ProtocolError::Malformed {
                    what: "a reply arrived with no request waiting for it",
                }));
            };
            if let Some(rest) = sink.deliver(frame, self.router) {
                self.pending.push_front(rest);
            }
            // A fence's answer may have queued confirmations into a full queue.
            if self.router.is_stalled() {
                self.release_fences();
            }
        }
        Ok(())
    }

    /// A RESP3 push: pub/sub frames to the subscribers, the rest to the hook.
    fn on_push(&mut self, frame: Bytes) {
        match Message::parse(frame.clone()) {
            Ok(Some(msg)) => self.route(msg),
            Ok(None) => {
                if let Some(hook) = &self.push_hook {
                    match super::Push::parse(frame) {
                        Ok(push) => hook(push),
                        Err(err) => {
                            tracing::warn!(error = %err, "a push frame of an unknown shape was dropped")
                        }
                    }
                }
            }
            Err(err) => {
                // Framed correctly, so the connection stays in step; only this
                // frame is unusable.
                tracing::warn!(error = %err, "a pub/sub push frame of an unknown shape was dropped");
            }
        }
    }
}

impl Future for Io<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        loop {
            let mut progress = this.take_requests(cx)?;
            progress |= this.write(cx)?;
            if this.router.is_stalled() && this.router.poll_unstall(cx).is_ready() {
                // The silence while stalled was the consumer's, not the server's.
                this.touch_health();
                // Frames already read first, then the socket again.
                this.dispatch()?;
                progress = true;
            }
            if !this.router.is_stalled() {
                progress |= this.read(cx)?;
            }
            if this.rx_closed && this.pending.is_empty() && this.wbuf.is_empty() {
                return Poll::Ready(Ok(()));
            }
            if !progress && !this.check_health(cx)? {
                return Poll::Pending;
            }
        }
    }
}
