//! Pub/sub: a [`Subscriber`] receives what is published to its channels, patterns and
//! shard channels as a [`Stream`](futures_core::Stream) of typed [`Message`]s.
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::Commands;
//! use respec::pubsub::Kind;
//! let mut sub = client.subscriber().await?;
//! sub.subscribe(["news", "sports"]).await?; // confirmed by the server
//! sub.psubscribe(["user:*"]).await?;
//! client.publish("news", "hello").await?;
//! while let Some(msg) = sub.next_message().await {
//!     match msg.kind {
//!         Kind::Message => println!("{:?} on {:?}", msg.payload, msg.channel),
//!         Kind::PMessage => println!("{:?} matched {:?}", msg.channel, msg.pattern),
//!         _ => {} // confirmations (`ignore_subscribe_messages` drops them)
//!     }
//!     # break;
//! }
//! # Ok(()) }
//! ```
//!
//! **Handlers.** [`Subscriber::run`] hands every message to a handler on a task of
//! its own (redis-py's `run_in_thread`); a channel, pattern or shard channel
//! subscribed with a handler of its own
//! ([`subscribe_with`](Subscriber::subscribe_with), redis-py's
//! `subscribe(**{"chan": handler})`) has its messages go to that one instead. A
//! handler may return a `Result`: its errors go to
//! [`on_error`](Subscriber::on_error) (or, without one, to the log), and the
//! subscriber reads on.
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! let sub = client.subscriber().ignore_subscribe_messages().await?;
//! sub.subscribe_with("orders", |msg| async move { println!("order {:?}", msg.payload) })
//!     .await?;
//! sub.subscribe(["news"]).await?;
//! let task = sub
//!     .on_error(|e| eprintln!("{e}"))
//!     .run(|msg| async move { println!("{:?} on {:?}", msg.payload, msg.channel) });
//! # task.abort();
//! # Ok(()) }
//! ```
//!
//! **Cluster.** On a cluster client it is the same type: shard channels go to the
//! primary of their slot and follow it when it moves, channels and patterns go to
//! one node or, [`on_every_primary`](SubscriberBuilder::on_every_primary), to every
//! primary (keyspace notifications); see the crate docs (Cluster).
//!
//! **Connection.** By default a subscriber has a connection of its own, made with
//! the client's configuration (RESP2 or RESP3 alike: RESP3 delivers messages as push
//! frames, RESP2 as arrays), counted against the client's [pool](crate::pool) size
//! and closed when the subscriber is dropped. With
//! [`on_shared_connection`](SubscriberBuilder::on_shared_connection), a subscriber on
//! a RESP3 client uses the client's multiplexed connection instead, beside every
//! other command: messages arrive there as push frames and go to the subscribers
//! that asked for them. Any number of subscribers can share it, also on the same
//! channels: the server sees one subscription while at least one of them wants it,
//! each gets every message, and each one's confirmation counts are its own. On RESP2
//! (configured, or a server without `HELLO`) a subscribed connection can run nothing
//! else, so such a subscriber gets a connection of its own after all
//! ([`Subscriber::is_shared`] tells).
//!
//! **Confirmations.** `subscribe` and its kin return once the server has confirmed
//! every channel; the confirmations (with the subscription count) are also delivered,
//! in order with the messages, unless
//! [`ignore_subscribe_messages`](SubscriberBuilder::ignore_subscribe_messages) is set.
//! [`unsubscribe_all`](Subscriber::unsubscribe_all) (or `unsubscribe` of no
//! channel) unsubscribes from all of them. A refused command
//! (an ACL `NOPERM`, say) fails its call; the connection stays in step, since every
//! subscription command is followed by a `PING` whose reply ends the call.
//!
//! **Reconnection.** When the connection is lost, it is made again with the
//! client's backoff, every channel, pattern and shard channel the server had
//! confirmed is subscribed again, and each subscriber gets a [`Kind::Reconnected`]
//! message, then the confirmations of the renewal. What was published while it was
//! away is lost: pub/sub keeps nothing. Subscription calls made while it is
//! reconnecting fail at once; a call that fails because the connection was lost
//! under it may or may not have reached the server, and is not renewed.
//!
//! A connection can also break without closing (the server's host gone, a NAT entry
//! dropped), and a subscriber waiting for messages would not notice. So a
//! subscriber's own connection that has been silent for
//! [`health_check_interval`](SubscriberBuilder::health_check_interval) (default
//! 30 s) sends `PING`. A request left unanswered as long means the connection is
//! dead, and it is reconnected as above. [`Subscriber::ping`] runs the same check on
//! demand.
//!
//! **Bounded memory.** Messages wait in a queue of
//! [`capacity`](SubscriberBuilder::capacity) messages (default 1024). What happens
//! when it is full is the [`Overflow`] policy:
//! - [`Overflow::Backpressure`], the default on a connection of its own, stops
//!   reading the connection until the consumer catches up (the server then buffers,
//!   up to its `client-output-buffer-limit pubsub`, past which it closes the
//!   connection and the subscriber reconnects). On a shared connection this also
//!   holds back the replies of every other command, so it is opt-in there: a
//!   consumer that awaits a command of the same client before it reads on waits
//!   until its request timeout, if any.
//! - [`Overflow::DropOldest`], the default on a shared connection, keeps reading and
//!   drops the oldest queued message, counting them in [`Subscriber::dropped`].
//!
//! While reading is stopped, a subscribe or unsubscribe call (also one already
//! waiting) returns without waiting for the confirmation (which is behind messages
//! the consumer has not read); the confirmation is delivered in order later.
//!
//! Subscription calls wait for their confirmation at most the client's request
//! timeout, when one is set.

pub(crate) mod demux;
mod handle;
mod handlers;
mod message;
pub(crate) mod router;

pub use crate::queue::Overflow;
pub(crate) use handle::Route;
pub use handle::SubscriberHandle;
pub use handlers::{BoxError, HandlerError, HandlerOutput};
pub use message::{Kind, Message};

use crate::client::Client;
use crate::command::ToArg;
use crate::connection::{Connection, Kind as ConnectionKind};
use crate::error::{Error, Result};
use bytes::Bytes;
pub(crate) use router::Shared;
use router::{Op, SubId};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::oneshot;

/// The default of [`SubscriberBuilder::health_check_interval`].
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// Options of a [`Subscriber`]; await it (or call [`connect`](Self::connect)) to
/// connect.
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct SubscriberBuilder<'c> {
    client: &'c Client,
    options: Options,
}

/// What a [`SubscriberBuilder`] was told.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) capacity: usize,
    pub(crate) overflow: Option<Overflow>,
    pub(crate) ignore_confirmations: bool,
    pub(crate) on_shared: bool,
    pub(crate) health_check_interval: Option<Duration>,
    pub(crate) every_primary: bool,
}

impl Options {
    /// The queue of a subscriber with these options.
    pub(crate) fn shared_state(&self, on_shared: bool) -> Arc<Shared> {
        let overflow = self
            .overflow
            .unwrap_or_else(|| router::default_overflow(on_shared));
        Arc::new(Shared::new(
            crate::queue::Queue::new(self.capacity, overflow),
            self.ignore_confirmations,
        ))
    }
}

impl<'c> SubscriberBuilder<'c> {
    /// How many messages may wait for the consumer (default 1024).
    pub fn capacity(mut self, n: usize) -> Self {
        self.options.capacity = n.max(1);
        self
    }

    /// What happens when the queue is full (default [`Overflow::Backpressure`] on a
    /// connection of its own, [`Overflow::DropOldest`] on the shared one).
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.options.overflow = Some(overflow);
        self
    }

    /// Do not deliver subscribe and unsubscribe confirmations, only messages and
    /// [`Kind::Reconnected`] (redis-py's `ignore_subscribe_messages`).
    pub fn ignore_subscribe_messages(mut self) -> Self {
        self.options.ignore_confirmations = true;
        self
    }

    /// Subscribe on the client's shared multiplexed connection instead of a
    /// connection of its own, when it speaks RESP3 (see [the module docs](self)).
    /// On a cluster client, on the shared connection of each node it subscribes on.
    pub fn on_shared_connection(mut self) -> Self {
        self.options.on_shared = true;
        self
    }

    /// On a cluster client, subscribe to channels and patterns on every primary
    /// instead of one node: for what each node publishes by itself rather than
    /// through the cluster, keyspace notifications (`__keyspace@0__:*`, see the
    /// crate docs, Cluster). Primaries that appear later (a failover, a node added)
    /// get the subscriptions too, and nodes that stop being primaries lose them. On
    /// a client of one server it changes nothing.
    pub fn on_every_primary(mut self) -> Self {
        self.options.every_primary = true;
        self
    }

    /// How long a subscriber's own connection may stay silent before it checks that
    /// the server still answers (default 30 s; `None` turns the check off).
    ///
    /// After that much silence it sends `PING`; a request (that `PING`, or a
    /// subscribe call) left unanswered as long means the connection is dead, though
    /// nothing closed it (a server host gone, a NAT entry dropped). It is then
    /// reconnected and every subscription renewed, as after any disconnect
    /// ([`Kind::Reconnected`]), instead of waiting for messages that would never
    /// come. TCP keepalive alone would notice after about ten minutes. A server
    /// that answers nothing for that long for another reason (a script running
    /// longer) looks the same, and costs a reconnection; raise the interval if that
    /// is expected. Not while the queue is full under backpressure: that silence is
    /// the consumer's. The client's shared connection has no such check (a `WAIT`
    /// there may rightly wait for long).
    pub fn health_check_interval(mut self, every: Option<Duration>) -> Self {
        self.options.health_check_interval = every;
        self
    }

    /// Connects (on a cluster client, to each node when it first subscribes there).
    pub async fn connect(self) -> Result<Subscriber> {
        match self.client.cluster() {
            #[cfg(feature = "cluster")]
            Some(cluster) => crate::cluster::pubsub::connect(cluster, self.options),
            _ => connect_node(self.client, &self.options).await,
        }
    }
}

/// A subscriber on the one server of `client`.
pub(crate) async fn connect_node(client: &Client, options: &Options) -> Result<Subscriber> {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let request_timeout = client.config().request_timeout;
    if options.on_shared {
        let conn = client.connection().clone();
        let ops = client.shared_ops().clone();
        let shared = options.shared_state(true);
        if attach(&ops, id, shared.clone(), request_timeout).await? {
            return Ok(Subscriber::new(
                Route::Node { conn, ops, id },
                request_timeout,
                shared,
                None,
            ));
        }
    }
    let slot = client.pool().reserve().await?;
    let (demux, ops) = demux::dedicated(options.health_check_interval);
    let conn =
        Connection::connect_with(client.config_arc(), ConnectionKind::Reconnects, demux).await?;
    let shared = options.shared_state(false);
    attach(&ops, id, shared.clone(), request_timeout).await?;
    Ok(Subscriber::new(
        Route::Node { conn, ops, id },
        request_timeout,
        shared,
        Some(slot),
    ))
}

/// Waits for an answer from the driver, at most `timeout`.
async fn answer<T>(rx: oneshot::Receiver<Result<T>>, timeout: Option<Duration>) -> Result<T> {
    let answered = async { rx.await.unwrap_or_else(|_| Err(Error::closed())) };
    match timeout {
        Some(t) => tokio::time::timeout(t, answered)
            .await
            .unwrap_or_else(|_| Err(Error::request_timeout(t))),
        None => answered.await,
    }
}

/// Attaches a subscriber to a connection; false when it cannot share it (RESP2).
async fn attach(
    ops: &demux::Ops,
    id: SubId,
    shared: Arc<Shared>,
    timeout: Option<Duration>,
) -> Result<bool> {
    let (done, rx) = oneshot::channel();
    ops.send(Op::Attach { id, shared, done });
    answer(rx, timeout)
        .await
        .map_err(|e| e.with_command("subscriber"))
}

impl<'c> IntoFuture for SubscriberBuilder<'c> {
    type Output = Result<Subscriber>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Subscriber>> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

impl Client {
    /// A new [`Subscriber`] (on a connection of its own unless
    /// [`on_shared_connection`](SubscriberBuilder::on_shared_connection) is set):
    /// set options, then await it.
    pub fn subscriber(&self) -> SubscriberBuilder<'_> {
        SubscriberBuilder {
            client: self,
            options: Options {
                capacity: 1024,
                overflow: None,
                ignore_confirmations: false,
                on_shared: false,
                health_check_interval: Some(DEFAULT_HEALTH_CHECK_INTERVAL),
                every_primary: false,
            },
        }
    }
}

/// Receives published messages; see [the module docs](self).
///
/// Also a [`futures_core::Stream`] of [`Message`]s. Dropping it closes its
/// connection, or on a shared connection unsubscribes what no other subscriber
/// wants.
pub struct Subscriber {
    handle: SubscriberHandle,
    /// Its place in the client's pool size, when it has a connection of its own.
    slot: Option<crate::pool::Slot>,
    /// Where [`run`](Self::run) sends the errors of handlers (in a mutex only so
    /// that the subscriber stays `Sync`; `run` owns it).
    on_error: std::sync::Mutex<Option<ErrorHandler>>,
}

type ErrorHandler = Box<dyn FnMut(HandlerError) + Send>;

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("shared", &self.is_shared())
            .field("queued", &self.handle.shared.queue.len())
            .field("dropped", &self.handle.shared.queue.dropped())
            .finish_non_exhaustive()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.handle.shared.queue.close();
        match &self.handle.route {
            Route::Node { conn, .. } if self.slot.is_some() => conn.close(),
            Route::Node { ops, id, .. } => ops.send(Op::Detach { id: *id }),
            #[cfg(feature = "cluster")]
            Route::Cluster(hub) => hub.close(),
        }
    }
}

impl Subscriber {
    pub(crate) fn new(
        route: Route,
        request_timeout: Option<Duration>,
        shared: Arc<Shared>,
        slot: Option<crate::pool::Slot>,
    ) -> Self {
        Subscriber {
            handle: SubscriberHandle {
                route,
                request_timeout,
                shared,
                handlers: Default::default(),
            },
            slot,
            on_error: Default::default(),
        }
    }

    /// True when it uses the client's shared connection, false when it has one of
    /// its own (on a cluster client: the nodes' shared connections, or
    /// connections of its own to the nodes).
    pub fn is_shared(&self) -> bool {
        match &self.handle.route {
            Route::Node { .. } => self.slot.is_none(),
            #[cfg(feature = "cluster")]
            Route::Cluster(hub) => hub.is_shared(),
        }
    }

    /// A handle that subscribes and unsubscribes for this subscriber from anywhere,
    /// also while [`run`](Self::run) or a task of yours owns the subscriber.
    pub fn handle(&self) -> SubscriberHandle {
        self.handle.clone()
    }

    /// Subscribes to channels (`SUBSCRIBE`); returns once the server confirmed each.
    pub async fn subscribe<C: ToArg>(&self, channels: impl IntoIterator<Item = C>) -> Result<()> {
        self.handle.subscribe(channels).await
    }

    /// Checks that the server still answers on this subscriber's connection (`PING`);
    /// see [`SubscriberHandle::ping`].
    pub async fn ping(&self) -> Result<()> {
        self.handle.ping().await
    }

    /// Subscribes to patterns (`PSUBSCRIBE`, glob-style: `news.*`).
    pub async fn psubscribe<C: ToArg>(&self, patterns: impl IntoIterator<Item = C>) -> Result<()> {
        self.handle.psubscribe(patterns).await
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`, messages sent with `SPUBLISH`).
    pub async fn ssubscribe<C: ToArg>(&self, channels: impl IntoIterator<Item = C>) -> Result<()> {
        self.handle.ssubscribe(channels).await
    }

    /// Unsubscribes from channels; from every channel when `channels` is empty.
    pub async fn unsubscribe<C: ToArg>(&self, channels: impl IntoIterator<Item = C>) -> Result<()> {
        self.handle.unsubscribe(channels).await
    }

    /// Unsubscribes from patterns; from every pattern when `patterns` is empty.
    pub async fn punsubscribe<C: ToArg>(
        &self,
        patterns: impl IntoIterator<Item = C>,
    ) -> Result<()> {
        self.handle.punsubscribe(patterns).await
    }

    /// Unsubscribes from every channel (`UNSUBSCRIBE` with no channel); patterns
    /// and shard channels stay ([`punsubscribe_all`](Self::punsubscribe_all),
    /// [`sunsubscribe_all`](Self::sunsubscribe_all)). Returns once the server
    /// confirmed each channel it left.
    pub async fn unsubscribe_all(&self) -> Result<()> {
        self.handle.unsubscribe_all().await
    }

    /// Unsubscribes from every pattern (`PUNSUBSCRIBE` with no pattern).
    pub async fn punsubscribe_all(&self) -> Result<()> {
        self.handle.punsubscribe_all().await
    }

    /// Unsubscribes from every shard channel (`SUNSUBSCRIBE` with no channel).
    pub async fn sunsubscribe_all(&self) -> Result<()> {
        self.handle.sunsubscribe_all().await
    }

    /// Subscribes to one channel whose messages go to `handler` instead of the
    /// handler of [`run`](Self::run) (redis-py's `subscribe(**{"chan": handler})`);
    /// returns once the server confirmed it. Setting a handler again for the same
    /// channel replaces it; unsubscribing the channel forgets it.
    ///
    /// Handlers are called by [`run`](Self::run), one message at a time in order;
    /// [`next_message`](Self::next_message) and the stream give every message,
    /// handled or not. A handler's future may end with `()` or with a `Result`,
    /// whose error goes to the error handler ([`on_error`](Self::on_error)).
    ///
    /// ```no_run
    /// # async fn demo(client: respec::Client) -> respec::Result<()> {
    /// let sub = client.subscriber().await?;
    /// sub.subscribe_with("orders", |msg| async move {
    ///     println!("order {:?}", msg.payload);
    /// })
    /// .await?;
    /// sub.psubscribe_with("audit.*", |msg| async move {
    ///     let text = msg.payload_str()?; // an error goes to on_error
    ///     println!("{text}");
    ///     Ok::<_, respec::Error>(())
    /// })
    /// .await?;
    /// let task = sub
    ///     .on_error(|e| eprintln!("{e}"))
    ///     .run(|other| async move { println!("no handler: {other:?}") });
    /// # task.abort();
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_with<C, F, Fut>(&self, channel: C, handler: F) -> Result<()>
    where
        C: ToArg,
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        self.handle.subscribe_with(channel, handler).await
    }

    /// Subscribes to one pattern whose messages ([`Kind::PMessage`]) go to
    /// `handler`; see [`subscribe_with`](Self::subscribe_with).
    pub async fn psubscribe_with<C, F, Fut>(&self, pattern: C, handler: F) -> Result<()>
    where
        C: ToArg,
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        self.handle.psubscribe_with(pattern, handler).await
    }

    /// Subscribes to one shard channel whose messages go to `handler`; see
    /// [`subscribe_with`](Self::subscribe_with).
    pub async fn ssubscribe_with<C, F, Fut>(&self, channel: C, handler: F) -> Result<()>
    where
        C: ToArg,
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        self.handle.ssubscribe_with(channel, handler).await
    }

    /// Where [`run`](Self::run) sends the errors its handlers return (a
    /// [`HandlerError`] naming the message's channel); without one, they are
    /// logged (`tracing`, at warn level). Either way the subscriber reads on.
    pub fn on_error<F>(mut self, handler: F) -> Self
    where
        F: FnMut(HandlerError) + Send + 'static,
    {
        *self.on_error.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(handler));
        self
    }

    /// Unsubscribes from shard channels; from every one when `channels` is empty.
    pub async fn sunsubscribe<C: ToArg>(
        &self,
        channels: impl IntoIterator<Item = C>,
    ) -> Result<()> {
        self.handle.sunsubscribe(channels).await
    }

    /// The next message; `None` only if the subscriber's task has ended.
    pub async fn next_message(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.handle.shared.queue.poll_pop(cx)).await
    }

    /// The next message, or `None` if none comes within `timeout` (redis-py's
    /// `get_message(timeout=...)`).
    pub async fn get_message(&mut self, timeout: Duration) -> Option<Message> {
        tokio::time::timeout(timeout, self.next_message())
            .await
            .ok()
            .flatten()
    }

    /// The channels the server has confirmed for this subscriber, sorted (redis-py's
    /// and coredis's `channels`).
    pub fn channels(&self) -> Vec<Bytes> {
        self.handle.channels()
    }

    /// The patterns the server has confirmed for this subscriber, sorted.
    pub fn patterns(&self) -> Vec<Bytes> {
        self.handle.patterns()
    }

    /// The shard channels the server has confirmed for this subscriber, sorted.
    pub fn shard_channels(&self) -> Vec<Bytes> {
        self.handle.shard_channels()
    }

    /// True while the server has confirmed any subscription of this subscriber
    /// (redis-py's `subscribed`).
    pub fn is_subscribed(&self) -> bool {
        self.handle.is_subscribed()
    }

    /// Messages waiting in the queue.
    pub fn queued(&self) -> usize {
        self.handle.shared.queue.len()
    }

    /// Messages dropped so far under [`Overflow::DropOldest`].
    pub fn dropped(&self) -> u64 {
        self.handle.shared.queue.dropped()
    }

    /// Hands every message to its handler on a task of its own (redis-py's
    /// `run_in_thread`): the handler of its channel or pattern
    /// ([`subscribe_with`](Self::subscribe_with)), else `handler` (which also gets
    /// the confirmations and [`Kind::Reconnected`]); one at a time, in order. The
    /// subscriber lives in that task until it is aborted.
    ///
    /// A handler's future may end with `()` or a `Result`: an error goes to the
    /// [`on_error`](Self::on_error) handler (or the log), and the next message is
    /// handled.
    ///
    /// Subscribe before calling it, or keep a [`handle`](Self::handle) to subscribe
    /// (with handlers too) and unsubscribe while the task owns the subscriber.
    pub fn run<F, Fut>(mut self, mut handler: F) -> tokio::task::JoinHandle<()>
    where
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send,
        Fut::Output: HandlerOutput,
    {
        tokio::spawn(async move {
            while let Some(msg) = self.next_message().await {
                let meta = handlers::Meta::of(&msg);
                let outcome = match self.handle.handlers.call(msg) {
                    handlers::Call::Handled(own) => own.await,
                    handlers::Call::Unhandled(msg) => handler(msg).await.into_result(),
                };
                if let Err(e) = outcome {
                    let e = HandlerError::new(&meta, e);
                    match self.on_error.get_mut().unwrap_or_else(|e| e.into_inner()) {
                        Some(report) => report(e),
                        None => tracing::warn!(error = %e, "a pub/sub message handler failed"),
                    }
                }
            }
        })
    }
}

impl futures_core::Stream for Subscriber {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.handle.shared.queue.poll_pop(cx)
    }
}
