//! The driver task: owns one socket, coalesces queued requests into few writes
//! (auto-pipelining), matches replies to requests in order, routes push frames,
//! watches that the server still answers, and reconnects.

use super::config::{Config, Protocol};
use super::frames::FrameReader;
use super::handle::Learned;
use super::handshake::{self, Session};
use super::health::{Health, Verdict};
use super::slot::SlotSender;
use super::transport::Transport;
use crate::command::CommandBuf;
use crate::error::{Error, Result};
use crate::pubsub::router::{Fence, Op, Router};
use crate::pubsub::Message;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Bytes queued for writing before the driver stops taking requests and writes.
const HIGH_WATER: usize = 256 * 1024;

/// Where the replies of a request go.
pub(crate) enum Sink {
    /// One reply.
    One(SlotSender<Result<Bytes>>),
    /// One reply that may rightly take long (`WAIT`, `WAITAOF`): the liveness rule
    /// does not run while it is the oldest unanswered request.
    Long(SlotSender<Result<Bytes>>),
    /// `n` replies, delivered together (pipelines).
    Many {
        /// How many replies.
        n: usize,
        /// Collected so far.
        got: Vec<Bytes>,
        /// Receives them all.
        tx: SlotSender<Result<Vec<Bytes>>>,
    },
    /// One reply nobody waits for: read and dropped.
    Discard,
    /// The `PING` behind subscription commands (see the pub/sub router).
    Fence(Fence),
}

impl Sink {
    pub(crate) fn fail(self, err: Error) {
        match self {
            Sink::One(tx) | Sink::Long(tx) => tx.send(Err(err)),
            Sink::Many { tx, .. } => tx.send(Err(err)),
            Sink::Discard => {}
            Sink::Fence(f) => f.fail(err),
        }
    }

    /// The driver takes the request for writing; false when its caller already gave
    /// up (it must then never be written).
    fn take(&self) -> bool {
        match self {
            Sink::One(tx) | Sink::Long(tx) => tx.take(),
            Sink::Many { tx, .. } => tx.take(),
            Sink::Discard | Sink::Fence(_) => true,
        }
    }

    /// Delivers one reply; returns the sink back when it expects more. A fence's
    /// answer goes through the pub/sub router.
    fn deliver(self, frame: Bytes, router: &mut Router) -> Option<Sink> {
        match self {
            // The caller may have gone (cancelled): the reply is dropped, and the
            // connection stays in step.
            Sink::One(tx) | Sink::Long(tx) => {
                tx.send(Ok(frame));
                None
            }
            Sink::Many { n, mut got, tx } => {
                got.push(frame);
                if got.len() == n {
                    tx.send(Ok(got));
                    None
                } else {
                    Some(Sink::Many { n, got, tx })
                }
            }
            Sink::Discard => None,
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
            Sink::One(tx) | Sink::Long(tx) => tx.send(Ok(Bytes::new())),
            Sink::Many { got, tx, .. } => tx.send(Ok(got)),
            Sink::Discard => {}
            Sink::Fence(mut f) => f.release(),
        }
    }

    fn expects(&self) -> usize {
        match self {
            Sink::One(_) | Sink::Long(_) | Sink::Discard | Sink::Fence(_) => 1,
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

/// A request to the driver, through the bounded request queue.
pub(crate) struct Request {
    /// What to write.
    pub(crate) payload: Payload,
    /// Where the replies go.
    pub(crate) sink: Sink,
}

/// A message to the driver outside the request queue (never waits for room).
pub(crate) enum Control {
    /// Close the connection now, failing whatever is in flight.
    Close,
    /// A subscriber's operation.
    PubSub(Op),
}

/// What a driver task starts with.
pub(crate) struct Setup {
    /// The connection's options.
    pub(crate) config: Arc<Config>,
    /// The bounded request queue.
    pub(crate) requests: mpsc::Receiver<Request>,
    /// Close and pub/sub operations.
    pub(crate) control: mpsc::UnboundedReceiver<Control>,
    /// The already connected and handshaken session.
    pub(crate) first: Session,
    /// Reconnect after a failure (a dedicated connection instead ends, so state
    /// such as watched keys can never vanish silently).
    pub(crate) reconnect: bool,
    /// The subscribers on this connection.
    pub(crate) router: Router,
    /// What the handshake learned, shared with the handles.
    pub(crate) learned: Arc<Learned>,
    /// The liveness rule of the shared connection (see [`Config::liveness_timeout`]).
    pub(crate) liveness: Option<Duration>,
}

/// The receiving ends of a connection's two queues.
struct Queues {
    requests: mpsc::Receiver<Request>,
    control: mpsc::UnboundedReceiver<Control>,
}

impl Queues {
    /// Stops taking requests: whoever queues next finds the connection closed.
    fn close(&mut self) {
        self.requests.close();
        self.control.close();
    }
}

/// Runs a connection until every handle is gone (or it is closed), reconnecting on
/// failure when `setup.reconnect` is set.
pub(crate) async fn run(setup: Setup) {
    let Setup {
        config,
        requests,
        control,
        first,
        reconnect: reconnect_on_failure,
        mut router,
        learned,
        liveness,
    } = setup;
    let mut queues = Queues { requests, control };
    let mut session = Some(first);
    let mut attempt: u32 = 0;
    loop {
        let s = match session.take() {
            Some(s) => s,
            None => match reconnect(&config, &mut queues, &mut attempt, &mut router).await {
                Some(s) => s,
                None => return,
            },
        };
        learned.update(s.max_arg_len);
        let started = Instant::now();
        let mut io = Io::new(s, &config, &mut queues, &mut router, liveness);
        io.renew_subscriptions();
        let outcome = (&mut io).await;
        let pending = std::mem::take(&mut io.pending);
        let served = io.served;
        drop(io);
        // The backoff starts over only once a connection proved itself: it answered
        // a request, or stayed up for the longest backoff delay. A server that
        // closes every connection right after the handshake is retried ever more
        // slowly, not in a loop.
        if served || started.elapsed() >= config.backoff.max {
            attempt = 0;
        }
        match outcome {
            Ok(()) => return,
            Err(err) => {
                tracing::debug!(address = %config.address, error = %err, "connection lost");
                // Written requests may have run: they fail, never resent (at most once).
                let lost = if let Some(cause) = err.io_error() {
                    io_error(&format!(
                        "connection to {} lost: {cause}; the command may or may not have run",
                        config.address
                    ))
                } else {
                    err.duplicate()
                };
                router.connection_lost();
                if !reconnect_on_failure {
                    // Closed before the failures are delivered: whoever sees one finds
                    // the connection closed, and nothing new can be queued on it.
                    queues.close();
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

/// Reconnects with backoff: every attempt waits its backoff delay first, and the
/// delay grows with each attempt (see [`run`] for when it starts over). While
/// disconnected after a failed attempt, requests fail fast. Returns `None` when
/// every handle is gone.
async fn reconnect(
    config: &Config,
    queues: &mut Queues,
    attempt: &mut u32,
    router: &mut Router,
) -> Option<Session> {
    let mut failure: Option<String> = None;
    loop {
        let delay = config.backoff.delay(*attempt);
        *attempt = attempt.saturating_add(1);
        if !wait(delay, queues, router, failure.as_deref()).await {
            return None;
        }
        match handshake::connect(config).await {
            Ok(s) => {
                tracing::debug!(address = %config.address, "reconnected");
                return Some(s);
            }
            Err(err) => {
                failure = Some(format!(
                    "not connected to {} (reconnecting): {err}",
                    config.address
                ));
            }
        }
    }
}

/// Waits `delay` before a connection attempt. After a failed attempt (`failure`),
/// queued requests and operations and new ones fail at once with that text; before
/// the first, they wait in their queues for the new connection. False when every
/// handle is gone or the connection was closed.
async fn wait(
    delay: Duration,
    queues: &mut Queues,
    router: &mut Router,
    failure: Option<&str>,
) -> bool {
    let Some(text) = failure else {
        tokio::time::sleep(delay).await;
        return !queues.control.is_closed();
    };
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            biased;
            msg = queues.control.recv() => match msg {
                Some(Control::PubSub(op)) => fail_op(router, op, text),
                Some(Control::Close) | None => return false,
            },
            req = queues.requests.recv() => match req {
                // Never written: it did not run.
                Some(req) => req.sink.fail(io_error(text).unsent()),
                None => return false,
            },
            _ = &mut sleep => return true,
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
    queues: &'a mut Queues,
    resp3: bool,
    push_hook: Option<super::config::PushHook>,
    wbuf: BytesMut,
    needs_flush: bool,
    /// The socket took only part of the write buffer: no new requests are taken
    /// until it takes the rest, so requests stay in the queue (where their callers
    /// can still give them up) rather than pile up here.
    write_blocked: bool,
    frames: FrameReader,
    /// Sinks of written (or being written) requests, in order.
    pending: VecDeque<Sink>,
    queues_closed: bool,
    /// Subscribers on this connection, kept across reconnects.
    router: &'a mut Router,
    /// A subscriber's own connection checks that the server still answers (with a
    /// `PING` after a silence); the shared connection only watches that written
    /// requests get answers (the liveness rule, no `PING`).
    health: Option<Health>,
    /// Whether `health` is the liveness rule (no probes) rather than a
    /// subscriber's health check.
    liveness: bool,
    /// A reply was delivered to a request: the connection proved itself.
    served: bool,
}

impl<'a> Io<'a> {
    fn new(
        session: Session,
        config: &Config,
        queues: &'a mut Queues,
        router: &'a mut Router,
        liveness: Option<Duration>,
    ) -> Self {
        let (health, liveness) = match (router.health_check_interval(), liveness) {
            (Some(every), _) => (Some(Health::new(every)), false),
            (None, Some(limit)) => (Some(Health::new(limit)), true),
            (None, None) => (None, false),
        };
        Io {
            stream: session.transport,
            queues,
            resp3: session.protocol == Protocol::Resp3,
            push_hook: config.push_hook.clone(),
            wbuf: BytesMut::with_capacity(16 * 1024),
            needs_flush: false,
            write_blocked: false,
            frames: FrameReader::new(config.limits.clone()),
            pending: VecDeque::new(),
            queues_closed: false,
            health,
            liveness,
            router,
            served: false,
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
    ///
    /// The liveness rule of the shared connection is the same timer without the
    /// `PING`: a request waiting for its reply as long as `liveness_timeout`, with
    /// nothing read meanwhile, means the server stopped answering. A `WAIT` or
    /// `WAITAOF` at the head of the line suspends it (it rightly waits).
    fn check_health(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let Some(h) = &mut self.health else {
            return Ok(false);
        };
        if self.router.is_stalled() {
            h.touch();
            return Ok(false);
        }
        let waiting = match self.pending.front() {
            None => false,
            Some(Sink::Long(_)) => false,
            Some(_) => true,
        };
        match h.poll(cx, waiting) {
            Verdict::Wait => Ok(false),
            // The liveness rule never asks: a silence with nothing waiting is fine.
            Verdict::Probe if self.liveness => Ok(false),
            Verdict::Probe => {
                let fence = self.router.probe(&mut self.wbuf);
                self.pending.push_back(Sink::Fence(fence));
                Ok(true)
            }
            Verdict::Dead if self.liveness => Err(Error::io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the server left a request unanswered for {:?} with nothing else arriving (liveness_timeout): the connection was taken for dead and is replaced",
                    h.every()
                ),
            ))),
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

    /// Takes queued requests into the write buffer (not while the socket is not
    /// taking what is there). A request whose caller gave up is dropped unwritten.
    /// Returns an error on `Close`.
    fn take_requests(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let mut progress = false;
        while !self.queues_closed {
            match self.queues.control.poll_recv(cx) {
                Poll::Ready(Some(Control::PubSub(op))) => {
                    if let Some(fence) = self.router.op(op, &mut self.wbuf, self.resp3) {
                        self.push_fence(fence);
                    }
                    progress = true;
                }
                Poll::Ready(Some(Control::Close)) => return Err(Error::closed()),
                // Every handle is gone; what is already queued is still written.
                Poll::Ready(None) => break,
                Poll::Pending => break,
            }
        }
        while !self.queues_closed && !self.write_blocked && self.wbuf.len() < HIGH_WATER {
            match self.queues.requests.poll_recv(cx) {
                Poll::Ready(Some(Request { payload, sink })) => {
                    progress = true;
                    if !sink.take() {
                        // Timed out or dropped while queued: never written.
                        continue;
                    }
                    match payload {
                        Payload::One(cmd) => cmd.encode(&mut self.wbuf),
                        // Nothing else queued: write the pipeline's own buffer, no copy.
                        Payload::Encoded(bytes) if self.wbuf.is_empty() => self.wbuf = bytes,
                        Payload::Encoded(bytes) => self.wbuf.extend_from_slice(&bytes),
                    }
                    if sink.expects() == 0 {
                        sink.finish_empty();
                    } else {
                        if self.pending.is_empty() {
                            // The wait for this answer starts now.
                            self.touch_health();
                        }
                        self.pending.push_back(sink);
                    }
                }
                Poll::Ready(None) => {
                    self.queues_closed = true;
                }
                Poll::Pending => break,
            }
        }
        Ok(progress)
    }

    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let mut progress = false;
        self.write_blocked = false;
        while !self.wbuf.is_empty() {
            match Pin::new(&mut self.stream).poll_write(cx, &self.wbuf) {
                Poll::Ready(Ok(0)) => {
                    return Err(self.write_failed(
                        cx,
                        io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the server closed the connection",
                        ),
                    ))
                }
                Poll::Ready(Ok(n)) => {
                    self.wbuf.advance(n);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(self.write_failed(cx, e)),
                Poll::Pending => {
                    self.write_blocked = true;
                    break;
                }
            }
        }
        if self.wbuf.is_empty() {
            self.wbuf.clear();
            if self.needs_flush {
                match Pin::new(&mut self.stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(e)) => return Err(self.write_failed(cx, e)),
                    Poll::Pending => {}
                }
            }
        }
        Ok(progress)
    }

    /// A write failed (the server closed the connection while we wrote): before the
    /// requests in flight fail, whatever the server answered first is read and
    /// delivered, so a request it refused (`-ERR Protocol error: invalid bulk
    /// length`) gets that answer rather than a reset.
    fn write_failed(&mut self, cx: &mut Context<'_>, err: io::Error) -> Error {
        while let Poll::Ready(Ok(1..)) = self.frames.poll_fill(&mut self.stream, cx) {
            if self.dispatch().is_err() {
                break;
            }
        }
        Error::io(err)
    }

    fn read(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        match self.frames.poll_fill(&mut self.stream, cx) {
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
            let Some(frame) = self.frames.next_buffered()? else {
                break;
            };
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
            if !matches!(sink, Sink::Fence(_)) {
                self.served = true;
            }
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
            if this.queues_closed && this.pending.is_empty() && this.wbuf.is_empty() {
                return Poll::Ready(Ok(()));
            }
            if !progress && !this.check_health(cx)? {
                return Poll::Pending;
            }
        }
    }
}
