//! The driver task: owns one socket, coalesces queued requests into few writes
//! (auto-pipelining), matches replies to requests in order, routes push frames,
//! watches that the server still answers, and reconnects.

use super::demux::{Demux, Taken};
use super::frames::FrameReader;
use super::gate::{Gate, MAX_SLICES};
use super::handle::{FromOwn, Learned};
use super::handshake::{self, Session};
use super::health::{Health, Verdict};
use super::slot::{slot, SlotReceiver, SlotSender};
use super::transport::Stream;
use crate::command::{Encoded, Wire};
use crate::config::{Address, BoxFuture, Config, Locator, Protocol};
use crate::error::{Error, Result};
use crate::race::{race, First};
use bytes::Bytes;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Bytes queued for writing (large values included) before the driver stops taking
/// requests and writes.
const HIGH_WATER: usize = 256 * 1024;

/// Requests taken from the queue at one look (few, so that the rest stay queued,
/// where their callers can still give them up, when the socket stops taking).
const BATCH: usize = 16;

/// Where the replies of a request go.
pub(crate) enum Sink {
    /// One reply.
    One(SlotSender<Result<Bytes>>),
    /// One reply that may rightly take long (`WAIT`, `WAITAOF`): the liveness rule
    /// does not run while it is the oldest unanswered request.
    Long(SlotSender<Result<Bytes>>),
    /// `n` replies, delivered together (pipelines). (Boxed: a request is moved
    /// whole through the queue, and most are of one command.)
    Many(Box<Many>),
    /// One reply nobody waits for: read and dropped.
    Discard,
    /// A fence of the demultiplexer (the `PING` behind subscription commands): its
    /// replies go to the demultiplexer.
    Fence,
}

/// Where the replies of a pipeline go ([`Sink::Many`]).
pub(crate) struct Many {
    /// How many replies.
    pub(crate) n: usize,
    /// Collected so far.
    pub(crate) got: Vec<Bytes>,
    /// Receives them all.
    pub(crate) tx: SlotSender<Result<Vec<Bytes>>>,
}

/// What a request's replies go to, before its slot is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// One reply ([`Sink::One`]).
    One,
    /// One reply that may rightly take long ([`Sink::Long`]).
    Long,
    /// `n` replies ([`Sink::Many`]).
    Many(usize),
}

impl Want {
    /// What a caller reading its own reply collects, or `None` when the reply
    /// may rightly take long (the driver watches it).
    pub(crate) fn expect(self) -> Option<Expect> {
        match self {
            Want::One => Some(Expect::One),
            Want::Many(n) => Some(Expect::Many {
                n,
                got: Vec::with_capacity(n),
            }),
            Want::Long => None,
        }
    }

    /// The request's slot: its sink, and the caller's end.
    pub(crate) fn sink(self) -> (Sink, Receiver) {
        match self {
            Want::One | Want::Long => {
                let (sink, rx) = Bytes::sink(self);
                (sink, Receiver::One(rx))
            }
            Want::Many(_) => {
                let (sink, rx) = Vec::<Bytes>::sink(self);
                (sink, Receiver::Many(rx))
            }
        }
    }
}

/// The caller's end of a request's slot, of either reply type.
pub(crate) enum Receiver {
    /// For one reply.
    One(SlotReceiver<Result<Bytes>>),
    /// For the replies of a pipeline.
    Many(SlotReceiver<Result<Vec<Bytes>>>),
}

/// The replies a caller that reads them itself waits for (`gate.rs`). Its request
/// has no slot: one is made only if the reading goes back to the driver
/// ([`Expect::sink`]).
pub(crate) enum Expect {
    /// One reply.
    One,
    /// `n` replies (a pipeline), `got` read so far.
    Many {
        /// How many replies.
        n: usize,
        /// Read so far.
        got: Vec<Bytes>,
    },
}

/// A whole reply its caller read itself ([`Expect::own`]).
pub(crate) enum Own {
    /// The reply of one command.
    One(Bytes),
    /// The replies of a pipeline.
    Many(Vec<Bytes>),
}

impl Expect {
    /// One reply read by the caller: the whole reply once the last one it waits
    /// for is in.
    pub(super) fn own(&mut self, frame: Bytes) -> Option<Own> {
        match self {
            Expect::One => Some(Own::One(frame)),
            Expect::Many { n, got } => {
                got.push(frame);
                (got.len() == *n).then(|| Own::Many(std::mem::take(got)))
            }
        }
    }

    /// The reading goes back to the driver: a slot for the replies still to come
    /// (those read already kept), taken for writing (the request was written).
    pub(super) fn sink(self) -> (Sink, Receiver) {
        match self {
            Expect::One => {
                let (sink, rx) = Want::One.sink();
                sink.take();
                (sink, rx)
            }
            Expect::Many { n, got } => {
                let (tx, rx) = slot();
                tx.take();
                (
                    Sink::Many(Box::new(Many { n, got, tx })),
                    Receiver::Many(rx),
                )
            }
        }
    }
}

impl Sink {
    pub(crate) fn fail(self, err: Error) {
        match self {
            Sink::One(tx) | Sink::Long(tx) => tx.send(Err(err)),
            Sink::Many(many) => many.tx.send(Err(err)),
            // The demultiplexer fails its own fences (`Demux::on_lost`).
            Sink::Discard | Sink::Fence => {}
        }
    }

    /// The driver takes the request for writing; false when its caller already gave
    /// up (it must then never be written).
    pub(super) fn take(&self) -> bool {
        match self {
            Sink::One(tx) | Sink::Long(tx) => tx.take(),
            Sink::Many(many) => many.tx.take(),
            Sink::Discard | Sink::Fence => true,
        }
    }

    /// Delivers one reply; returns the sink back when it expects more. A fence's
    /// answer goes to the demultiplexer.
    fn deliver(self, frame: Bytes, demux: &mut dyn Demux) -> Option<Sink> {
        match self {
            Sink::Fence => (!demux.on_fence_reply(&frame)).then_some(Sink::Fence),
            sink => sink.reply(frame),
        }
    }

    /// Delivers one reply to a request's caller; returns the sink back when it
    /// expects more. (A fence's answers are the demultiplexer's:
    /// [`deliver`](Self::deliver).)
    fn reply(self, frame: Bytes) -> Option<Sink> {
        match self {
            // The caller may have gone (cancelled): the reply is dropped, and the
            // connection stays in step.
            Sink::One(tx) | Sink::Long(tx) => {
                tx.send(Ok(frame));
                None
            }
            Sink::Many(mut many) => {
                many.got.push(frame);
                if many.got.len() == many.n {
                    let Many { got, tx, .. } = *many;
                    tx.send(Ok(got));
                    None
                } else {
                    Some(Sink::Many(many))
                }
            }
            Sink::Discard => None,
            // Not a caller's: its answers go through `deliver`; here it is kept.
            Sink::Fence => Some(Sink::Fence),
        }
    }

    /// Completes a sink that expects no reply (an empty pipeline).
    fn finish_empty(self) {
        match self {
            Sink::One(tx) | Sink::Long(tx) => tx.send(Ok(Bytes::new())),
            Sink::Many(many) => many.tx.send(Ok(many.got)),
            Sink::Discard | Sink::Fence => {}
        }
    }

    pub(super) fn expects(&self) -> usize {
        match self {
            Sink::One(_) | Sink::Long(_) | Sink::Discard | Sink::Fence => 1,
            Sink::Many(many) => many.n,
        }
    }
}

/// What a request sends.
pub(crate) enum Payload {
    /// One command.
    One(Wire),
    /// Several commands, already encoded back to back (pipelines).
    Encoded(Encoded),
}

/// A request to the driver, through the bounded request queue.
pub(crate) struct Request {
    /// What to write.
    pub(crate) payload: Payload,
    /// Where the replies go.
    pub(crate) sink: Sink,
}

/// A message to the driver outside the request queue (never waits for room), for
/// while it reconnects; a connected driver learns of a close from its gate.
pub(crate) enum Control {
    /// Close the connection now, failing whatever is in flight.
    Close,
}

/// What a driver task starts with.
pub(crate) struct Setup {
    /// The connection's options.
    pub(crate) config: Arc<Config>,
    /// The bounded request queue.
    pub(crate) requests: super::requests::Receiver,
    /// Close.
    pub(crate) control: mpsc::UnboundedReceiver<Control>,
    /// The already connected and handshaken session.
    pub(crate) first: Session,
    /// Reconnect after a failure (a dedicated connection instead ends, so state
    /// such as watched keys can never vanish silently).
    pub(crate) reconnect: bool,
    /// What the connection hands the frames that are not replies (pub/sub).
    pub(crate) demux: Box<dyn Demux>,
    /// What the handshake learned, shared with the handles.
    pub(crate) learned: Arc<Learned>,
    /// The liveness rule of the shared connection (see [`Config::liveness_timeout`]).
    pub(crate) liveness: Option<Duration>,
    /// Where callers write their requests themselves when the connection is idle.
    pub(crate) gate: Arc<Gate>,
}

/// The receiving ends of a connection's two queues.
struct Queues {
    requests: super::requests::Receiver,
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
        mut demux,
        learned,
        liveness,
        gate,
    } = setup;
    let mut queues = Queues { requests, control };
    let mut session = Some(first);
    let mut attempt: u32 = 0;
    loop {
        let s = match session.take() {
            Some(s) => s,
            None => match reconnect(&config, &mut queues, &mut attempt, demux.as_mut()).await {
                Some(s) => s,
                None => return,
            },
        };
        learned.update(&s);
        let address = s.address.clone();
        let started = Instant::now();
        let mut io = Io::new(s, &config, &mut queues, demux.as_mut(), liveness, &gate);
        io.renew();
        let outcome = (&mut io).await;
        let mut pending = std::mem::take(&mut io.pending);
        // What a caller wrote since the driver last ran is in flight too, after
        // everything else.
        pending.extend(gate.disconnect());
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
                tracing::debug!(%address, error = %err, "connection lost");
                // Written requests may have run: they fail, never resent (at most once).
                let lost = if let Some(cause) = err.io_error() {
                    // The cause (and its own) stays in the chain, as the source.
                    Error::io_while(
                        format!(
                            "connection to {address} lost: the command may or may not have run"
                        ),
                        io::Error::new(cause.kind(), err.duplicate()),
                    )
                } else {
                    err.duplicate()
                };
                demux.on_lost(&lost);
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

/// Reconnects with backoff: every attempt waits its backoff delay first, and the
/// delay grows with each attempt (see [`run`] for when it starts over). Before the
/// first failed attempt, requests wait in their queue; after it, they fail fast
/// unless they are held ([`HoldUnsent`](crate::config::HoldUnsent): until the
/// limit, counted from now, the loss of the connection). Returns `None` when every
/// handle is gone.
async fn reconnect(
    config: &Config,
    queues: &mut Queues,
    attempt: &mut u32,
    demux: &mut dyn Demux,
) -> Option<Session> {
    let hold_until = config
        .hold_unsent
        .limit(config.locator.is_some())
        // (A limit past any outage, such as a URL's `1e19`, is some 34 years.)
        .map(|limit| Instant::now() + limit.min(Duration::from_secs(1 << 30)));
    let mut failure: Option<Failure> = None;
    loop {
        let delay = config.backoff.delay(*attempt);
        *attempt = attempt.saturating_add(1);
        // Where the server can move, news of it ends the wait (the node is found
        // again at once, not after a backoff grown while the old one was down).
        // The backoff then starts over: the new node is another server.
        let news = config.locator.as_ref().map(|l| l.changed());
        let heard = AtomicBool::new(false);
        if !wait(delay, news, &heard, queues, demux, failure.as_ref()).await {
            return None;
        }
        if heard.load(Ordering::Relaxed) {
            *attempt = 0;
        }
        // Finding the node (asking the sentinels) failing is not a failover to
        // wait for: the client cannot tell where to go, and says so at once.
        let (connected, located) = match handshake::locate(config).await {
            Ok(located) => (handshake::connect_to(&located).await, true),
            Err(err) => (Err(err), false),
        };
        match connected {
            Ok(s) => {
                tracing::debug!(address = %s.address, "reconnected");
                return Some(s);
            }
            Err(err) => {
                // The failed attempt's error stays in the chain, as the source.
                let kind = err
                    .io_error()
                    .map_or(io::ErrorKind::NotConnected, io::Error::kind);
                let target = match &config.locator {
                    Some(locator) => locator.name(),
                    None => config.address.to_string(),
                };
                failure = Some(Failure {
                    error: Error::io_while(
                        format!("not connected to {target} (reconnecting)"),
                        io::Error::new(kind, err),
                    ),
                    hold_until: hold_until.filter(|_| located),
                });
            }
        }
    }
}

/// The last failed attempt to reconnect.
struct Failure {
    /// What requests fail with (as unsent).
    error: Error,
    /// Until when requests are held rather than failed, if they are.
    hold_until: Option<Instant>,
}

/// Waits `delay` before a connection attempt, or until `news` (set in `heard`).
/// Before the first failed attempt (no `failure`), and after one while it holds
/// them, queued requests and operations and new ones wait in their queues for the
/// new connection; otherwise they fail at once with the failure's error. False
/// when every handle is gone or the connection was closed.
async fn wait(
    delay: Duration,
    news: Option<BoxFuture<'static, ()>>,
    heard: &AtomicBool,
    queues: &mut Queues,
    demux: &mut dyn Demux,
    failure: Option<&Failure>,
) -> bool {
    let sleep = async move {
        match news {
            Some(news) => {
                if let First::B(()) = race(tokio::time::sleep(delay), news).await {
                    heard.store(true, Ordering::Relaxed);
                }
            }
            None => tokio::time::sleep(delay).await,
        }
    };
    tokio::pin!(sleep);
    let hold_until = match failure {
        None => Some(None),
        Some(Failure {
            hold_until: Some(until),
            ..
        }) => Some(Some(*until)),
        Some(_) => None,
    };
    if let Some(until) = hold_until {
        // Held: the requests stay queued (where their callers can still give them
        // up, then never written); only a close, or every handle gone, ends this.
        let hold_ends = async move {
            match until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        match race(queues.control.recv(), race(&mut sleep, hold_ends)).await {
            First::A(Some(Control::Close) | None) => return false,
            First::B(First::A(())) => return true,
            // The limit passed: fail what is queued, for the rest of the delay.
            First::B(First::B(())) => {}
        }
    }
    let Some(failure) = failure else {
        return true;
    };
    let err = failure.error.duplicate().unsent();
    // The demultiplexer's operations fail as they come (never ready).
    let mut fail_ops = std::future::poll_fn(|cx| {
        demux.fail_ops(cx, &err);
        Poll::<()>::Pending
    });
    loop {
        let next = race(
            queues.control.recv(),
            race(&mut fail_ops, race(queues.requests.recv(), &mut sleep)),
        );
        match next.await {
            First::A(Some(Control::Close) | None) => return false,
            First::B(First::A(())) => {}
            // Never written: it did not run.
            First::B(First::B(First::A(Some(req)))) => req.sink.fail(err.duplicate()),
            First::B(First::B(First::A(None))) => return false,
            First::B(First::B(First::B(()))) => return true,
        }
    }
}

/// One connected socket.
struct Io<'a> {
    stream: Stream,
    /// Where callers write themselves when the connection is idle.
    gate: &'a Gate,
    queues: &'a mut Queues,
    resp3: bool,
    push_hook: Option<crate::config::PushHook>,
    /// What is left to write: small parts copied into a buffer, large values as
    /// the callers' own `Bytes` (written with vectored writes).
    wbuf: Encoded,
    needs_flush: bool,
    /// The socket took only part of the write buffer: no new requests are taken
    /// until it takes the rest, so requests stay in the queue (where their callers
    /// can still give them up) rather than pile up here.
    write_blocked: bool,
    /// A write failed: nothing more is written or taken, and the connection ends
    /// with this error once reading ends too (see [`Io::write_failed`]).
    write_error: Option<io::Error>,
    frames: FrameReader,
    /// Sinks of written (or being written) requests, in order.
    pending: VecDeque<Sink>,
    /// Requests just taken from the queue (reused).
    batch: VecDeque<Request>,
    queues_closed: bool,
    /// The demultiplexer (pub/sub), kept across reconnects.
    demux: &'a mut dyn Demux,
    /// Every array frame goes to the demultiplexer (a subscriber's RESP2 connection).
    arrays_to_demux: bool,
    /// A subscriber's own connection checks that the server still answers (with a
    /// `PING` after a silence); the shared connection only watches that written
    /// requests get answers (the liveness rule, no `PING`).
    health: Option<Health>,
    /// Whether `health` is the liveness rule (no probes) rather than a
    /// subscriber's health check.
    liveness: bool,
    /// A reply was delivered to a request: the connection proved itself.
    served: bool,
    /// Requests were taken since the last write, and the driver let the tasks that
    /// are ready run once before writing them (see [`Io::poll`]).
    yielded: bool,
    /// In this poll, the request queue (and the demultiplexer's operations, taken
    /// before it) already answered `Pending`: looking again before the next
    /// wake-up finds nothing.
    drained: bool,
    /// With a locator (a service behind sentinels): resolves once this node is to
    /// be left (a failover made another node the primary).
    left: Option<BoxFuture<'static, ()>>,
    /// The locator, told when a reply suggests the node changed role.
    locator: Option<Locator>,
    /// Where this socket is connected.
    address: Address,
}

impl<'a> Io<'a> {
    fn new(
        session: Session,
        config: &Config,
        queues: &'a mut Queues,
        demux: &'a mut dyn Demux,
        liveness: Option<Duration>,
        gate: &'a Gate,
    ) -> Self {
        let (health, liveness) = match (demux.health_check_interval(), liveness) {
            (Some(every), _) => (Some(Health::new(every)), false),
            (None, Some(limit)) => (Some(Health::new(limit)), true),
            (None, None) => (None, false),
        };
        let locator = config.locator.clone();
        let (stream, halves) = session.transport.split();
        // Where a locator watches error replies (`-READONLY`), callers leave them
        // to the driver.
        gate.connect(halves, locator.is_some());
        Io {
            stream,
            gate,
            left: locator.as_ref().map(|l| l.left(&session.address)),
            locator,
            address: session.address,
            queues,
            resp3: session.protocol == Protocol::Resp3,
            push_hook: config.push_hook.clone(),
            wbuf: Encoded::with_capacity(16 * 1024),
            needs_flush: false,
            write_blocked: false,
            write_error: None,
            frames: FrameReader::new(config.limits.clone()),
            pending: VecDeque::new(),
            batch: VecDeque::with_capacity(BATCH),
            queues_closed: false,
            health,
            liveness,
            arrays_to_demux: demux.takes_arrays(),
            demux,
            served: false,
            yielded: false,
            drained: false,
        }
    }

    /// A new connection renews what the demultiplexer had on the last one.
    fn renew(&mut self) {
        let fences = self.demux.on_connect(self.wbuf.buf_mut(), self.resp3);
        self.push_fences(fences);
    }

    /// Places `n` of the demultiplexer's fences in the reply FIFO.
    fn push_fences(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if self.demux.is_stalled() {
            self.demux.release_fences();
        }
        if self.pending.is_empty() {
            // The wait for this answer starts now, not at the last frame read.
            self.touch_health();
        }
        for _ in 0..n {
            self.pending.push_back(Sink::Fence);
        }
    }

    /// Shuts the gate and takes in what a caller wrote through it: the oldest
    /// request in flight (the gate opened with none), and bytes the socket did not
    /// take, which are written first.
    fn shut_gate(&mut self, cx: &mut Context<'_>) -> Result<()> {
        let passed = self.gate.shut(&mut self.wbuf, &mut self.frames, cx.waker());
        self.served |= passed.served;
        if let Some(sink) = passed.sink {
            debug_assert!(self.pending.is_empty());
            // The wait for its answer started when it was written.
            if let (Some(h), Some(at)) = (&mut self.health, passed.at) {
                h.touch_at(at);
            }
            self.pending.push_back(sink);
        }
        if passed.closed {
            return Err(Error::closed());
        }
        if passed.frames_read {
            // A caller handed the reading back with frames read and not taken
            // (reading the socket finds nothing new for them).
            self.dispatch()?;
        }
        Ok(())
    }

    /// Parking: with nothing in flight or to write, and the request queue drained,
    /// the next caller may write its request itself; and read its reply itself
    /// when no push frame is expected (no subscription, no client-side caching:
    /// nothing else is read while the driver is parked) and the health check is
    /// the liveness rule (a subscriber's asks the server itself).
    fn open_gate_if_idle(&mut self) {
        if self.pending.is_empty()
            && self.wbuf.is_empty()
            && self.drained
            && !self.write_blocked
            && self.write_error.is_none()
            && !self.queues_closed
            && !self.demux.is_stalled()
        {
            let lend = !self.arrays_to_demux
                && !self.demux.expects_pushes()
                && (self.health.is_none() || self.liveness);
            self.gate.open(&mut self.frames, lend);
        }
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
        if self.demux.is_stalled() {
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
                self.demux.probe(self.wbuf.buf_mut());
                self.pending.push_back(Sink::Fence);
                Ok(true)
            }
            Verdict::Dead if self.liveness => Err(Error::io_while(
                format!(
                    "the server left a request unanswered for {:?} with nothing else arriving (liveness_timeout): the connection was taken for dead and is replaced",
                    h.every()
                ),
                io::ErrorKind::TimedOut.into(),
            )),
            Verdict::Dead => Err(Error::io_while(
                format!(
                    "the server left a request unanswered for {:?} (the subscriber's health_check_interval): the connection is taken for dead",
                    h.every()
                ),
                io::ErrorKind::TimedOut.into(),
            )),
        }
    }

    /// Takes queued requests into the write buffer (not while the socket is not
    /// taking what is there). A request whose caller gave up is dropped unwritten.
    /// Returns whether anything was taken, and whether requests were while others
    /// were in flight (so other tasks are at work).
    fn take_requests(&mut self, cx: &mut Context<'_>) -> (bool, bool) {
        let mut progress = false;
        let mut requests = false;
        let busy = !self.pending.is_empty();
        if !self.drained {
            // The demultiplexer's operations go first: a subscriber's clean-up is
            // written before the requests queued after it.
            let fences = self.demux.poll_ops(cx, self.wbuf.buf_mut(), self.resp3);
            if fences > 0 {
                self.push_fences(fences);
                progress = true;
            }
        }
        while !self.drained
            && !self.queues_closed
            && !self.write_blocked
            && self.wbuf.len() < HIGH_WATER
        {
            // Taken a few at a time (one look at the queue for several requests).
            match self
                .queues
                .requests
                .poll_recv_many(cx, &mut self.batch, BATCH)
            {
                Poll::Ready(0) => self.queues_closed = true,
                Poll::Ready(_) => {
                    progress = true;
                    requests = true;
                    let mut batch = std::mem::take(&mut self.batch);
                    for Request { payload, sink } in batch.drain(..) {
                        self.take_request(payload, sink);
                    }
                    self.batch = batch;
                }
                Poll::Pending => self.drained = true,
            }
        }
        (progress, requests && busy)
    }

    /// One request taken from the queue: into the write buffer, its sink into the
    /// reply FIFO; dropped unwritten when its caller gave up while it was queued.
    fn take_request(&mut self, payload: Payload, sink: Sink) {
        if !sink.take() {
            // Timed out or dropped while queued: never written.
            return;
        }
        match payload {
            // Large values are not copied (ARCHITECTURE.md §3).
            Payload::One(cmd) => {
                cmd.encode_into(&mut self.wbuf);
                cmd.discard();
            }
            // Nothing else queued: the pipeline's own buffer is written, no copy;
            // else its large parts are not copied.
            Payload::Encoded(cmds) => self.wbuf.append(cmds),
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

    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        if self.write_error.is_some() {
            return Ok(false);
        }
        let mut progress = false;
        self.write_blocked = false;
        // Large values are chunks of their own: written with one vectored write
        // where the transport has them, else chunk by chunk (TLS).
        let vectored = self.stream.is_write_vectored();
        while !self.wbuf.is_empty() {
            let polled = if vectored && !self.wbuf.is_contiguous() {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let n = self.wbuf.io_slices(&mut slices);
                self.stream.poll_write_vectored(cx, &slices[..n])
            } else {
                self.stream.poll_write(cx, self.wbuf.chunk())
            };
            match polled {
                Poll::Ready(Ok(0)) => {
                    return self.write_failed(
                        cx,
                        io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the server closed the connection",
                        ),
                    )
                }
                Poll::Ready(Ok(n)) => {
                    self.wbuf.advance(n);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return self.write_failed(cx, e),
                Poll::Pending => {
                    self.write_blocked = true;
                    break;
                }
            }
        }
        if self.wbuf.is_empty() {
            self.wbuf.clear();
            if self.needs_flush {
                match self.stream.poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(e)) => return self.write_failed(cx, e),
                    Poll::Pending => {}
                }
            }
        }
        Ok(progress)
    }

    /// A write failed (the server closed the connection while we wrote): before the
    /// requests in flight fail, whatever the server answered first is read and
    /// delivered, so a request it refused (`-ERR Protocol error: invalid bulk
    /// length`) gets that answer rather than a reset. Nothing more is written or
    /// taken; the connection ends with this error when reading ends (at once when
    /// the socket has already told so, else when the reactor sees the answer and
    /// the end of the stream).
    fn write_failed(&mut self, cx: &mut Context<'_>, err: io::Error) -> Result<bool> {
        self.wbuf.clear();
        self.write_blocked = true;
        self.write_error = Some(err);
        loop {
            match self.poll_fill(cx) {
                Poll::Ready(Ok(1..)) => self.dispatch()?,
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Err(self.take_write_error()),
                Poll::Pending => return Ok(true),
            }
        }
    }

    /// The error a failed write ends the connection with.
    fn take_write_error(&mut self) -> Error {
        let err = self
            .write_error
            .take()
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "the connection broke"));
        Error::io_while("writing to the server", err)
    }

    /// Reads what the socket has into the frame reader. A gated socket waits with
    /// the gate's read waker, which wakes a caller reading its own reply or else
    /// the driver (`gate.rs`); TLS with the driver's.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.stream.is_shared() {
            let mut cx = Context::from_waker(self.gate.read_waker());
            self.frames.poll_fill(&mut self.stream, &mut cx)
        } else {
            self.frames.poll_fill(&mut self.stream, cx)
        }
    }

    fn read(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        match self.poll_fill(cx) {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) if self.write_error.is_some() => {
                Err(self.take_write_error())
            }
            Poll::Ready(Ok(0)) => Err(Error::io_while(
                "the server closed the connection",
                io::ErrorKind::UnexpectedEof.into(),
            )),
            Poll::Ready(Ok(_)) => {
                self.touch_health();
                let before = self.pending.len();
                self.dispatch()?;
                if self.pending.len() + 1 < before {
                    // Several callers woken by these replies (other tasks are at
                    // work) may queue more at once: worth a look now, cheaper than
                    // being woken again. A lone caller's next request comes later.
                    self.drained = false;
                }
                Ok(true)
            }
            Poll::Ready(Err(e)) => Err(Error::io_while("reading from the server", e)),
            Poll::Pending => Ok(false),
        }
    }

    /// Routes every complete frame in the read buffer (until a full consumer queue
    /// of the demultiplexer stops it, under backpressure).
    fn dispatch(&mut self) -> Result<()> {
        while !self.demux.is_stalled() {
            let Some(mut frame) = self.frames.next_buffered()? else {
                break;
            };
            let offer = match frame.first() {
                Some(b'>') => self.resp3,
                Some(b'*') => self.arrays_to_demux,
                _ => false,
            };
            if offer {
                let front_is_fence = matches!(self.pending.front(), Some(Sink::Fence));
                match self.demux.on_frame(frame, front_is_fence) {
                    Taken::Yes => {
                        if self.demux.is_stalled() {
                            self.demux.release_fences();
                        }
                        continue;
                    }
                    Taken::Push(push) => {
                        self.on_push(push);
                        continue;
                    }
                    Taken::Reply(reply) => frame = reply,
                }
            }
            // A pipeline collects its replies in place until it has them all.
            if let Some(Sink::Many(many)) = self.pending.front_mut() {
                if many.got.len() + 1 < many.n {
                    many.got.push(frame);
                    continue;
                }
            }
            let Some(sink) = self.pending.pop_front() else {
                return Err(Error::protocol(crate::resp::ProtocolError::Malformed {
                    what: "a reply arrived with no request waiting for it",
                }));
            };
            let fence = matches!(sink, Sink::Fence);
            self.served |= !fence;
            if let (Some(locator), Some(b'-')) = (&self.locator, frame.first()) {
                if frame.starts_with(b"-READONLY") || frame.starts_with(b"-MASTERDOWN") {
                    locator.suspect();
                }
            }
            if let Some(rest) = sink.deliver(frame, self.demux) {
                self.pending.push_front(rest);
            }
            // A fence's answer may have queued confirmations into a full queue.
            if fence && self.demux.is_stalled() {
                self.demux.release_fences();
            }
        }
        Ok(())
    }

    /// A push frame nobody else takes: to the hook, if there is one.
    fn on_push(&mut self, frame: Bytes) {
        if let Some(hook) = &self.push_hook {
            match crate::reply::Push::parse(frame) {
                Ok(push) => hook(push),
                Err(err) => {
                    tracing::warn!(error = %err, "a push frame of an unknown shape was dropped")
                }
            }
        }
    }
}

impl Future for Io<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        this.drained = false;
        this.shut_gate(cx)?;
        if let Some(left) = &mut this.left {
            if left.as_mut().poll(cx).is_ready() {
                // Nothing more is written here; what was is answered as "may have
                // run", and the queued requests go to the node found next.
                return Poll::Ready(Err(Error::io_while(
                    format!(
                        "{} is no longer the node to use: the sentinels name another primary",
                        this.address
                    ),
                    io::ErrorKind::ConnectionReset.into(),
                )));
            }
        }
        loop {
            let (mut progress, requests) = this.take_requests(cx);
            // Batching that does not depend on the scheduler: a caller's request
            // wakes the driver, which tokio runs next on that worker (its LIFO slot),
            // before the other tasks that are ready, whose requests would then each
            // cost a write. So when requests come while others are in flight (other
            // tasks are at work), once per write the driver lets the ready tasks run
            // first: it wakes itself (tokio queues a self-woken task behind the
            // ready ones) and writes what they all queued when it runs again. A lone
            // caller (nothing in flight) is written at once.
            if requests && !this.yielded && !this.write_blocked && this.wbuf.len() < HIGH_WATER {
                this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let wrote = this.write(cx)?;
            if wrote {
                this.yielded = false;
            }
            progress |= wrote;
            if this.demux.is_stalled() && this.demux.poll_unstall(cx).is_ready() {
                // The silence while stalled was the consumer's, not the server's.
                this.touch_health();
                // Frames already read first, then the socket again.
                this.dispatch()?;
                progress = true;
            }
            if !this.demux.is_stalled() {
                progress |= this.read(cx)?;
            } else if this.write_error.is_some() {
                // Reading is stopped (backpressure): nothing more to wait for.
                return Poll::Ready(Err(this.take_write_error()));
            }
            if this.queues_closed && this.pending.is_empty() && this.wbuf.is_empty() {
                return Poll::Ready(Ok(()));
            }
            if !progress && !this.check_health(cx)? {
                this.open_gate_if_idle();
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request is moved whole from its caller into the queue and out of it:
    /// kept to 128 bytes, it moves in a few vector stores, not a call to `memcpy`
    /// (a pipeline's sink is boxed, a command's large values too).
    #[test]
    fn a_request_is_small() {
        assert!(std::mem::size_of::<Request>() <= 128);
    }
}
