//! [`Connection`]: a cheap, cloneable handle to one driver task, and the future of
//! one reply.

use super::demux::{Demux, NoDemux};
use super::driver::{self, Control, Many, Own, Payload, Receiver, Request, Sink, Want};
use super::gate::{Gate, Pass, Read};
use super::handshake::{self, Session};
use super::requests::{self, TrySendError};
use super::slot::{slot, GiveUp, SlotReceiver};
use crate::command::CommandBuf;
use crate::config::QueueFull;
use crate::config::{Address, Config};
use crate::error::{Error, Result};
use crate::reply::{decode_frame, FromReply};
use bytes::Bytes;
use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// One multiplexed connection to one server.
///
/// Clones share the connection: requests from every clone and task are written in
/// the order they are queued, coalesced into as few writes as possible, and their
/// replies are matched back in order. The connection reconnects by itself after a
/// failure.
///
/// The queue to the connection is bounded ([`QueueOptions`](super::QueueOptions)):
/// when it is full, callers wait for room (within their request timeout) or fail
/// at once. A request whose caller gave up (timed out or dropped its future) before
/// the connection took it for writing is never written.
#[derive(Clone)]
pub struct Connection {
    requests: requests::Sender,
    control: mpsc::UnboundedSender<Control>,
    config: Arc<Config>,
    learned: Arc<Learned>,
    /// Where a request is written by its caller when the connection is idle.
    gate: Arc<Gate>,
    /// The demultiplexer's operations queued and not yet taken: the gate is not
    /// used while there are any (they go first).
    queued_ops: Option<Arc<AtomicUsize>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.config.address)
            .field("closed", &self.control.is_closed())
            .finish()
    }
}

/// What the connection learned from the server at its last handshake.
#[derive(Debug)]
pub(crate) struct Learned {
    /// The server's `proto-max-bulk-len`: the longest argument it accepts.
    max_arg_len: AtomicU64,
    /// Where the connection is (with a locator, the node it found last).
    address: std::sync::Mutex<Address>,
}

impl Learned {
    fn new(session: &Session) -> Self {
        Learned {
            max_arg_len: AtomicU64::new(session.max_arg_len.unwrap_or(DEFAULT_MAX_ARG_LEN)),
            address: std::sync::Mutex::new(session.address.clone()),
        }
    }

    /// Records what a (re)connection's handshake learned.
    pub(crate) fn update(&self, session: &Session) {
        self.max_arg_len.store(
            session.max_arg_len.unwrap_or(DEFAULT_MAX_ARG_LEN),
            Ordering::Relaxed,
        );
        if let Ok(mut address) = self.address.lock() {
            if *address != session.address {
                *address = session.address.clone();
            }
        }
    }

    /// The longest argument the server accepts.
    pub(crate) fn max_arg_len(&self) -> u64 {
        self.max_arg_len.load(Ordering::Relaxed)
    }

    /// Where the connection is, or was last.
    pub(crate) fn address(&self) -> Address {
        self.address
            .lock()
            .map_or_else(|e| e.into_inner().clone(), |a| a.clone())
    }
}

/// The server's default `proto-max-bulk-len`, assumed when the server does not say
/// (`CONFIG GET` refused by an ACL, or unknown).
const DEFAULT_MAX_ARG_LEN: u64 = crate::resp::SERVER_MAX_BULK_LEN;

/// What a connection does after a failure.
pub(crate) enum Kind {
    /// Reconnects (the shared connection, a subscriber's own); the shared
    /// connection's liveness rule applies unless its demultiplexer has a health
    /// check of its own.
    Reconnects,
    /// Ends, so that state held on it can never vanish silently (a dedicated
    /// connection); no liveness rule (it runs blocking commands that rightly wait).
    EndsOnFailure,
}

impl Connection {
    /// Connects, runs the handshake and starts the driver task (on the current tokio
    /// runtime).
    pub async fn connect(config: Arc<Config>) -> Result<Self> {
        Self::start(config, Kind::Reconnects, Box::new(NoDemux)).await
    }

    /// Connects like [`connect`](Self::connect), but the connection does not come
    /// back after a failure: it closes, and every later request fails. For
    /// connections holding state (watched keys, subscriptions) that a silent
    /// reconnect would lose. Blocking commands run here, so the liveness rule of the
    /// shared connection does not apply.
    pub async fn connect_dedicated(config: Arc<Config>) -> Result<Self> {
        Self::start(config, Kind::EndsOnFailure, Box::new(NoDemux)).await
    }

    /// Connects with `demux` taking the frames that are not replies (pub/sub's,
    /// for the client's shared connection and a subscriber's own).
    pub(crate) async fn connect_with(
        config: Arc<Config>,
        kind: Kind,
        demux: Box<dyn Demux>,
    ) -> Result<Self> {
        Self::start(config, kind, demux).await
    }

    async fn start(config: Arc<Config>, kind: Kind, demux: Box<dyn Demux>) -> Result<Self> {
        let session = handshake::connect(&config).await?;
        let (requests, requests_rx) = requests::channel(config.queue.capacity);
        let (control, control_rx) = mpsc::unbounded_channel();
        let learned = Arc::new(Learned::new(&session));
        let liveness = match kind {
            // A demultiplexer with a health check of its own (a subscriber's
            // connection) replaces the liveness rule.
            Kind::Reconnects if demux.health_check_interval().is_none() => {
                config.liveness_timeout.filter(|limit| !limit.is_zero())
            }
            _ => None,
        };
        let gate = Gate::new();
        let queued_ops = demux.queued_ops();
        tokio::spawn(driver::run(driver::Setup {
            config: config.clone(),
            requests: requests_rx,
            control: control_rx,
            first: session,
            reconnect: matches!(kind, Kind::Reconnects),
            demux,
            learned: learned.clone(),
            liveness,
            gate: gate.clone(),
        }));
        Ok(Connection {
            requests,
            control,
            config,
            learned,
            gate,
            queued_ops,
        })
    }

    /// The configuration this connection was made with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// True once the driver has stopped (closed, or every handle dropped).
    pub fn is_closed(&self) -> bool {
        self.control.is_closed()
    }

    /// Closes the connection now; requests in flight fail.
    pub fn close(&self) {
        self.gate.close();
        let _ = self.control.send(Control::Close);
    }

    /// Where the connection is: the configured address, or with a service behind
    /// sentinels the node it found at its last connect.
    pub fn address(&self) -> Address {
        self.learned.address()
    }

    /// The longest argument the server accepts (`proto-max-bulk-len`, learned at
    /// connect time; 512 MiB when the server does not say).
    pub fn max_arg_len(&self) -> u64 {
        self.learned.max_arg_len()
    }

    /// Queues one command; the future resolves to its reply frame.
    #[inline]
    pub(crate) fn send(&self, mut cmd: CommandBuf) -> Reply<Bytes> {
        self.send_from(&mut cmd, false)
    }

    /// Queues one command that may rightly wait long for its reply (`WAIT`,
    /// `WAITAOF`): while it is the oldest unanswered request, the liveness rule
    /// does not run.
    #[cfg(feature = "cluster")]
    pub(crate) fn send_waiting(&self, mut cmd: CommandBuf) -> Reply<Bytes> {
        self.send_from(&mut cmd, true)
    }

    /// Queues one command taken out of `cmd` (left without words: no copy of the
    /// builder's state); `waits`: it may rightly wait long for its reply (`WAIT`,
    /// `WAITAOF`: no liveness rule while it is the oldest unanswered request).
    #[inline]
    pub(crate) fn send_from(&self, cmd: &mut CommandBuf, waits: bool) -> Reply<Bytes> {
        if let Some(err) = self.too_long(cmd) {
            return Reply::failed(err);
        }
        let want = if waits { Want::Long } else { Want::One };
        self.queue(Payload::One(cmd.take_wire()), want)
    }

    /// Queues `n` commands, encoded back to back in `cmds`; the future resolves to
    /// all their replies. `longest` is the longest argument among them (its length,
    /// command and argument name), checked against the server's limit.
    pub(crate) fn send_many(
        &self,
        cmds: crate::command::Encoded,
        n: usize,
        longest: Option<LongestArg>,
    ) -> Reply<Vec<Bytes>> {
        if let Some(l) = longest {
            if let Some(err) = self.check_len(l.len, l.arg) {
                return Reply::failed(err.with_command(l.command));
            }
        }
        self.queue(Payload::Encoded(cmds), Want::Many(n))
    }

    /// Queues a command whose reply nobody waits for (`UNWATCH` before a pooled
    /// connection is reused, `CLIENT UNBLOCK`): it is written in its turn and its
    /// reply dropped. False when the queue is full or the connection closed: it was
    /// not queued.
    pub(crate) fn send_detached(&self, cmd: CommandBuf) -> bool {
        self.requests
            .try_send(Request {
                payload: Payload::One(cmd.into_wire()),
                sink: Sink::Discard,
            })
            .is_ok()
    }

    /// The error for a command with an argument longer than the server accepts (the
    /// caller names the command).
    fn too_long(&self, cmd: &CommandBuf) -> Option<Error> {
        let (len, arg) = cmd.longest_arg();
        if len as u64 <= self.max_arg_len() {
            return None;
        }
        self.check_len(cmd.exact_longest_arg(), arg)
    }

    fn check_len(&self, len: usize, arg: &'static str) -> Option<Error> {
        let max = self.max_arg_len();
        (len as u64 > max).then(|| {
            Error::invalid_argument_owned(
                arg,
                format!(
                    "is {len} bytes long, more than the server accepts (proto-max-bulk-len {max}); nothing was sent"
                ),
            )
        })
    }

    fn queue<T: FromOwn>(&self, payload: Payload, want: Want) -> Reply<T> {
        // An idle connection: the caller writes the request itself (`gate.rs`), but
        // never ahead of what is still queued (its own earlier requests among it).
        let payload = if self.gate.is_open()
            && self.requests.is_empty()
            && self
                .queued_ops
                .as_ref()
                .is_none_or(|q| q.load(Ordering::Acquire) == 0)
        {
            match self.gate.pass(payload, want) {
                Pass::Queue(payload) => payload,
                Pass::Written(rx) => return Reply::receiving(rx),
                // No slot: the caller reads its reply itself.
                Pass::Reads(ticket) => {
                    return Reply {
                        stage: Stage::Reads(self.gate.clone(), ticket),
                    }
                }
            }
        } else {
            payload
        };
        let (sink, rx) = T::sink(want);
        let req = Request { payload, sink };
        match self.requests.try_send(req) {
            Ok(()) => Reply::queued(rx),
            Err(TrySendError::Closed(req)) => {
                // (Given back to be dropped here, outside the queue's lock.)
                drop(req);
                Reply::failed(Error::closed())
            }
            Err(TrySendError::Full(req)) => match self.config.queue.when_full {
                QueueFull::Fail => Reply::failed(Error::queue_full(self.config.queue.capacity)),
                QueueFull::Wait => Reply {
                    stage: Stage::WaitingForRoom(Box::pin(self.requests.clone().send(req)), rx),
                },
            },
        }
    }
}

/// The longest argument of a batch of commands, for the check against the server's
/// limit before sending.
#[derive(Debug, Clone)]
pub(crate) struct LongestArg {
    /// Its length in bytes.
    pub(crate) len: usize,
    /// The command it belongs to.
    pub(crate) command: Cow<'static, str>,
    /// The argument's name in the spec.
    pub(crate) arg: &'static str,
}

impl LongestArg {
    /// Keeps in `this` the longer of it and the longest argument of `cmd` (named
    /// `command()`, asked only when it is the longer).
    #[inline]
    pub(crate) fn keep(
        this: &mut Option<Self>,
        command: impl FnOnce() -> Cow<'static, str>,
        cmd: &CommandBuf,
    ) {
        let (len, arg) = cmd.longest_arg();
        if this.as_ref().is_none_or(|l| len > l.len) {
            *this = Some(LongestArg {
                len,
                command: command(),
                arg,
            });
        }
    }
}

/// A request waiting for room in the queue: true once queued, false when the
/// queue closed first (dropped, the request is dropped with it, never queued).
type Room = Pin<Box<dyn Future<Output = bool> + Send>>;

/// Where a [`Reply`] is.
enum Stage<T> {
    /// Written through the gate, and read by this future itself (`gate.rs`): the
    /// gate, and the ticket of the reading.
    Reads(Arc<Gate>, u64),
    /// In the queue (or taken by the driver, or written): its reply comes to
    /// this slot.
    Slot(SlotReceiver<Result<T>>),
    /// The queue was full: waiting for room, the request still here.
    WaitingForRoom(Room, SlotReceiver<Result<T>>),
    /// Failed before it was queued (the error, until it is reported), or done.
    Failed(Option<Error>),
}

/// The future of a request's reply on a [`Connection`].
///
/// Dropping it gives the request up: if the connection has not taken it for writing
/// yet, it is never written; otherwise it keeps its place and its reply is read and
/// dropped.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Reply<T> {
    stage: Stage<T>,
}

impl<T> Reply<T> {
    /// Waits on its slot (of another reply type: cannot happen, closed).
    fn receiving(rx: Receiver) -> Self
    where
        T: FromOwn,
    {
        match T::receiver(rx) {
            Some(rx) => Reply::queued(rx),
            None => Reply::failed(Error::closed()),
        }
    }

    fn queued(rx: SlotReceiver<Result<T>>) -> Self {
        Reply {
            stage: Stage::Slot(rx),
        }
    }

    fn failed(err: Error) -> Self {
        Reply {
            stage: Stage::Failed(Some(err)),
        }
    }

    /// Gives up waiting (a timeout): the error to report, saying whether the
    /// request was sent, or the reply if it arrived at that very moment.
    pub(crate) fn give_up(&mut self, limit: Duration) -> Result<T>
    where
        T: FromOwn,
    {
        let mut rx = match std::mem::replace(&mut self.stage, Stage::Failed(None)) {
            // Still here, so never queued: dropped with this future.
            Stage::WaitingForRoom(..) => return Err(Error::timeout_unsent(limit)),
            Stage::Failed(err) => return Err(err.unwrap_or_else(Error::closed)),
            Stage::Slot(rx) => rx,
            Stage::Reads(gate, ticket) => match gate.stop_reading(ticket).and_then(T::receiver) {
                // The reading had gone back to the driver: its slot says.
                Some(rx) => rx,
                // It was written, and its reply is read and dropped.
                None => return Err(Error::timeout_sent(limit)),
            },
        };
        match rx.give_up() {
            GiveUp::NotSent => Err(Error::timeout_unsent(limit)),
            GiveUp::Sent => Err(Error::timeout_sent(limit)),
            GiveUp::Finished(Some(r)) => r,
            GiveUp::Finished(None) => Err(Error::closed()),
        }
    }

    /// Waits at most `limit` (none: for ever); a timeout gives the request up and
    /// says whether it was sent.
    pub(crate) async fn within(mut self, limit: Option<Duration>) -> Result<T>
    where
        T: FromOwn,
    {
        let Some(limit) = limit else {
            return self.await;
        };
        match tokio::time::timeout(limit, &mut self).await {
            Ok(r) => r,
            Err(_) => self.give_up(limit),
        }
    }
}

impl<T: FromOwn> Future for Reply<T> {
    type Output = Result<T>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        loop {
            match &mut this.stage {
                // Reading its own reply: the gate wakes this task when the reply
                // comes, or when the driver takes the reading back (the reply then
                // comes to the slot made then).
                Stage::Reads(gate, ticket) => match gate.poll_read(*ticket, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Read::Own(own)) => {
                        // (The stage is known here: only its gate is dropped, without
                        // the drop code of every stage.)
                        if let Stage::Reads(gate, _) =
                            std::mem::replace(&mut this.stage, Stage::Failed(None))
                        {
                            drop(gate);
                        }
                        return Poll::Ready(T::from_own(own).ok_or_else(Error::closed));
                    }
                    Poll::Ready(Read::Slot(rx)) => {
                        this.stage = match rx.and_then(T::receiver) {
                            Some(rx) => Stage::Slot(rx),
                            None => Stage::Failed(None),
                        };
                    }
                },
                Stage::Slot(rx) => {
                    return match rx.poll_reply(cx) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(Some(r)) => Poll::Ready(r),
                        Poll::Ready(None) => Poll::Ready(Err(Error::closed())),
                    }
                }
                Stage::WaitingForRoom(room, _) => match room.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(true) => {
                        let Stage::WaitingForRoom(_, rx) =
                            std::mem::replace(&mut this.stage, Stage::Failed(None))
                        else {
                            unreachable!("matched above")
                        };
                        this.stage = Stage::Slot(rx);
                    }
                    Poll::Ready(false) => {
                        this.stage = Stage::Failed(None);
                        return Poll::Ready(Err(Error::closed()));
                    }
                },
                Stage::Failed(err) => {
                    return Poll::Ready(Err(err.take().unwrap_or_else(Error::closed)))
                }
            }
        }
    }
}

/// What a [`Reply`] resolves to: the frame of one command, or the frames of a
/// pipeline; taken from a whole reply its caller read itself ([`Own`]), or from
/// a slot of either type ([`Receiver`]).
pub(crate) trait FromOwn: Sized {
    /// `None` when `own` is not this kind of reply (never: a request's sink and
    /// its future are made together).
    fn from_own(own: Own) -> Option<Self>;

    /// The slot, when it is of this kind (always, as above).
    fn receiver(rx: Receiver) -> Option<SlotReceiver<Result<Self>>>;

    /// A new slot for a request wanting `want`, of this kind ([`Want::sink`],
    /// without going through [`Receiver`]: the common path of a queued request).
    fn sink(want: Want) -> (Sink, SlotReceiver<Result<Self>>);
}

impl FromOwn for Bytes {
    fn from_own(own: Own) -> Option<Self> {
        match own {
            Own::One(frame) => Some(frame),
            Own::Many(_) => None,
        }
    }

    fn receiver(rx: Receiver) -> Option<SlotReceiver<Result<Self>>> {
        match rx {
            Receiver::One(rx) => Some(rx),
            Receiver::Many(_) => None,
        }
    }

    #[inline]
    fn sink(want: Want) -> (Sink, SlotReceiver<Result<Self>>) {
        let (tx, rx) = slot();
        let sink = match want {
            Want::Long => Sink::Long(tx),
            // (`Many` never comes with one reply.)
            Want::One | Want::Many(_) => Sink::One(tx),
        };
        (sink, rx)
    }
}

impl FromOwn for Vec<Bytes> {
    fn from_own(own: Own) -> Option<Self> {
        match own {
            Own::Many(frames) => Some(frames),
            Own::One(_) => None,
        }
    }

    fn receiver(rx: Receiver) -> Option<SlotReceiver<Result<Self>>> {
        match rx {
            Receiver::Many(rx) => Some(rx),
            Receiver::One(_) => None,
        }
    }

    #[inline]
    fn sink(want: Want) -> (Sink, SlotReceiver<Result<Self>>) {
        let (tx, rx) = slot();
        // (One reply only ever comes as `One`, with its own type.)
        let n = match want {
            Want::Many(n) => n,
            Want::One | Want::Long => 1,
        };
        let got = Vec::with_capacity(n);
        (Sink::Many(Box::new(Many { n, got, tx })), rx)
    }
}

impl<T> Drop for Reply<T> {
    /// Given up while it read its own reply: the driver reads it (and drops it).
    fn drop(&mut self) {
        if let Stage::Reads(gate, ticket) = &self.stage {
            // A slot made when the reading went back is dropped: given up too.
            drop(gate.stop_reading(*ticket));
        }
    }
}

/// A future that resolves to the reply frame of one request.
pub(crate) type BoxedReply = Pin<Box<dyn Future<Output = Result<Bytes>> + Send>>;

enum State {
    Ready(Option<Error>),
    /// A reply from the client-side cache.
    Cached(Option<Bytes>),
    /// Waiting for the reply; a cacheable read stores it in the cache.
    Waiting(Reply<Bytes>, Option<Box<crate::tracking::Fill>>),
    Boxed(BoxedReply),
}

/// The reply of one command, decoded into `T` on the awaiting task.
///
/// Dropping it before it completes is safe: the command keeps its place on the
/// connection and its reply is read and discarded.
#[must_use = "futures do nothing unless awaited"]
pub struct ResponseFuture<T> {
    state: State,
    command: Cow<'static, str>,
    /// The request timeout and its timer.
    timeout: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    _reply: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl<T> ResponseFuture<T> {
    /// Already failed (bad arguments, closed client).
    pub(crate) fn failed(command: impl Into<Cow<'static, str>>, err: Error) -> Self {
        ResponseFuture {
            state: State::Ready(Some(err)),
            command: command.into(),
            timeout: None,
            _reply: PhantomData,
        }
    }

    /// Waits for `rx`, at most `timeout`.
    pub(crate) fn waiting(
        command: impl Into<Cow<'static, str>>,
        rx: Reply<Bytes>,
        timeout: Option<std::time::Duration>,
    ) -> Self {
        ResponseFuture {
            state: State::Waiting(rx, None),
            command: command.into(),
            timeout: timeout.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
            _reply: PhantomData,
        }
    }

    /// [`waiting`](Self::waiting) for a cacheable read, whose reply `fill` stores.
    pub(crate) fn filling(
        command: impl Into<Cow<'static, str>>,
        rx: Reply<Bytes>,
        timeout: Option<std::time::Duration>,
        fill: crate::tracking::Fill,
    ) -> Self {
        let mut this = Self::waiting(command, rx, timeout);
        if let State::Waiting(_, slot) = &mut this.state {
            *slot = Some(Box::new(fill));
        }
        this
    }

    /// A reply frame from the client-side cache.
    pub(crate) fn cached(command: impl Into<Cow<'static, str>>, frame: Bytes) -> Self {
        ResponseFuture {
            state: State::Cached(Some(frame)),
            command: command.into(),
            timeout: None,
            _reply: PhantomData,
        }
    }

    /// Runs a boxed future (a command on a pooled connection).
    pub(crate) fn boxed(command: impl Into<Cow<'static, str>>, fut: BoxedReply) -> Self {
        ResponseFuture {
            state: State::Boxed(fut),
            command: command.into(),
            timeout: None,
            _reply: PhantomData,
        }
    }
}

impl<T: FromReply> Future for ResponseFuture<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let frame = match &mut this.state {
            State::Ready(err) => {
                let e = err.take().unwrap_or_else(Error::closed);
                return Poll::Ready(Err(e.with_command(this.command.clone())));
            }
            State::Cached(frame) => {
                // A hit is ready at once: it spends the task's cooperative budget as
                // a read from a socket would, so a loop of cached reads still lets
                // the runtime run other tasks (the connections that bring the
                // invalidations among them) instead of starving them.
                let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
                coop.made_progress();
                Ok(frame.take().unwrap_or_default())
            }
            State::Waiting(rx, fill) => match Pin::new(&mut *rx).poll(cx) {
                Poll::Ready(r) => {
                    if let (Ok(frame), Some(fill)) = (&r, fill.take()) {
                        fill.complete(frame);
                    }
                    r
                }
                Poll::Pending => {
                    let expired = match &mut this.timeout {
                        Some((limit, t)) => t.as_mut().poll(cx).is_ready().then_some(*limit),
                        None => None,
                    };
                    let Some(limit) = expired else {
                        return Poll::Pending;
                    };
                    this.timeout = None;
                    rx.give_up(limit)
                }
            },
            State::Boxed(fut) => match fut.as_mut().poll(cx) {
                Poll::Ready(r) => r,
                Poll::Pending => return Poll::Pending,
            },
        };
        Poll::Ready(
            frame
                .and_then(decode_frame::<T>)
                .map_err(|e| e.with_command(this.command.clone())),
        )
    }
}
