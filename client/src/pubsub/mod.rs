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
//! **Connection.** A subscriber has a connection of its own, made with the client's
//! configuration (RESP2 or RESP3 alike: RESP3 delivers messages as push frames,
//! RESP2 as arrays) and counted against the client's [pool](crate::pool) size; it is
//! closed when the subscriber is dropped.
//!
//! **Confirmations.** `subscribe` and its kin return once the server has confirmed
//! every channel; the confirmations (with the subscription count) are also delivered,
//! in order with the messages, unless
//! [`ignore_subscribe_messages`](SubscriberBuilder::ignore_subscribe_messages) is set.
//! `unsubscribe([])` (no channel) unsubscribes from all of them.
//!
//! **Reconnection.** When the connection is lost, the subscriber reconnects with the
//! client's backoff, subscribes again to every channel, pattern and shard channel the
//! server had confirmed, and delivers a [`Kind::Reconnected`] message. What was
//! published while it was away is lost: pub/sub keeps nothing. Subscription calls made
//! while it is reconnecting fail at once.
//!
//! **Bounded memory.** Messages wait in a queue of
//! [`capacity`](SubscriberBuilder::capacity) messages (default 1024). When it is full,
//! the default [`Overflow::Backpressure`] stops reading the connection until the
//! consumer catches up (the server then buffers, up to its
//! `client-output-buffer-limit pubsub`, past which it closes the connection and the
//! subscriber reconnects); [`Overflow::DropOldest`] keeps reading and drops the oldest
//! queued message, counting them in [`Subscriber::dropped`]. While the queue is full
//! under backpressure, a subscribe or unsubscribe call (also one already waiting)
//! returns without waiting for the confirmation (which is behind messages the
//! consumer has not read); the confirmation is delivered in order later.
//!
//! Subscription calls wait for their confirmation at most the client's request
//! timeout, when one is set.

mod message;
pub(crate) mod queue;
mod task;

pub use message::{Kind, Message};
pub use queue::Overflow;

use crate::client::Client;
use crate::command::{CommandBuf, ToArg};
use crate::error::{Error, Result};
use bytes::BytesMut;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Options of a [`Subscriber`]; await it (or call [`connect`](Self::connect)) to
/// connect.
#[derive(Debug)]
#[must_use = "a builder does nothing until awaited"]
pub struct SubscriberBuilder<'c> {
    client: &'c Client,
    capacity: usize,
    overflow: Overflow,
    ignore_confirmations: bool,
}

impl<'c> SubscriberBuilder<'c> {
    /// How many messages may wait for the consumer (default 1024).
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n.max(1);
        self
    }

    /// What happens when the queue is full (default [`Overflow::Backpressure`]).
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Do not deliver subscribe and unsubscribe confirmations, only messages and
    /// [`Kind::Reconnected`] (redis-py's `ignore_subscribe_messages`).
    pub fn ignore_subscribe_messages(mut self) -> Self {
        self.ignore_confirmations = true;
        self
    }

    /// Connects.
    pub async fn connect(self) -> Result<Subscriber> {
        let slot = self.client.pool().reserve().await?;
        let config = self.client.config_arc();
        let (transport, _) = crate::connection::handshake::connect(&config).await?;
        let shared = Arc::new(task::Shared {
            queue: queue::Queue::new(self.capacity, self.overflow),
            ignore_confirmations: self.ignore_confirmations,
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let request_timeout = config.request_timeout;
        tokio::spawn(task::run(config, shared.clone(), rx, transport));
        Ok(Subscriber {
            tx,
            request_timeout,
            shared,
            _slot: slot,
        })
    }
}

impl<'c> IntoFuture for SubscriberBuilder<'c> {
    type Output = Result<Subscriber>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Subscriber>> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

impl Client {
    /// A new [`Subscriber`], on a connection of its own: set options, then await it.
    pub fn subscriber(&self) -> SubscriberBuilder<'_> {
        SubscriberBuilder {
            client: self,
            capacity: 1024,
            overflow: Overflow::default(),
            ignore_confirmations: false,
        }
    }
}

/// Receives published messages; see [the module docs](self).
///
/// Also a [`futures_core::Stream`] of [`Message`]s. Dropping it closes its
/// connection.
pub struct Subscriber {
    tx: mpsc::UnboundedSender<task::Request>,
    request_timeout: Option<Duration>,
    shared: Arc<task::Shared>,
    /// Its place in the client's pool size.
    _slot: crate::pool::Slot,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("queued", &self.shared.queue.len())
            .field("dropped", &self.shared.queue.dropped())
            .finish_non_exhaustive()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.shared.queue.close();
    }
}

impl Subscriber {
    async fn request<C: ToArg>(
        &self,
        name: &'static str,
        kind: Kind,
        channels: impl IntoIterator<Item = C>,
        at_least_one: bool,
    ) -> Result<()> {
        let mut buf = CommandBuf::raw(name.as_bytes());
        let mut list = Vec::new();
        for c in channels {
            let word = crate::script::to_bytes(c);
            buf.push(&word);
            list.push(word);
        }
        if at_least_one && list.is_empty() {
            return Err(
                Error::invalid_argument("channel", "at least one is needed").with_command(name)
            );
        }
        let mut cmd = BytesMut::new();
        buf.encode(&mut cmd);
        let (done, rx) = oneshot::channel();
        let req = task::Request {
            cmd,
            kind,
            channels: list,
            done,
        };
        self.tx
            .send(req)
            .map_err(|_| Error::closed().with_command(name))?;
        let confirmed = async { rx.await.unwrap_or_else(|_| Err(Error::closed())) };
        match self.request_timeout {
            Some(t) => tokio::time::timeout(t, confirmed)
                .await
                .unwrap_or_else(|_| Err(Error::timeout())),
            None => confirmed.await,
        }
        .map_err(|e| e.with_command(name))
    }

    /// Subscribes to channels (`SUBSCRIBE`); returns once the server confirmed each.
    pub async fn subscribe<C: ToArg>(&self, channels: impl IntoIterator<Item = C>) -> Result<()> {
        self.request("SUBSCRIBE", Kind::Subscribe, channels, true)
            .await
    }

    /// Subscribes to patterns (`PSUBSCRIBE`, glob-style: `news.*`).
    pub async fn psubscribe<C: ToArg>(&self, patterns: impl IntoIterator<Item = C>) -> Result<()> {
        self.request("PSUBSCRIBE", Kind::PSubscribe, patterns, true)
            .await
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`, messages sent with `SPUBLISH`).
    pub async fn ssubscribe<C: ToArg>(&self, channels: impl IntoIterator<Item = C>) -> Result<()> {
        self.request("SSUBSCRIBE", Kind::SSubscribe, channels, true)
            .await
    }

    /// Unsubscribes from channels; from every channel when `channels` is empty.
    pub async fn unsubscribe<C: ToArg>(&self, channels: impl IntoIterator<Item = C>) -> Result<()> {
        self.request("UNSUBSCRIBE", Kind::Unsubscribe, channels, false)
            .await
    }

    /// Unsubscribes from patterns; from every pattern when `patterns` is empty.
    pub async fn punsubscribe<C: ToArg>(
        &self,
        patterns: impl IntoIterator<Item = C>,
    ) -> Result<()> {
        self.request("PUNSUBSCRIBE", Kind::PUnsubscribe, patterns, false)
            .await
    }

    /// Unsubscribes from shard channels; from every one when `channels` is empty.
    pub async fn sunsubscribe<C: ToArg>(
        &self,
        channels: impl IntoIterator<Item = C>,
    ) -> Result<()> {
        self.request("SUNSUBSCRIBE", Kind::SUnsubscribe, channels, false)
            .await
    }

    /// The next message; `None` only if the subscriber's task has ended.
    pub async fn next_message(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.shared.queue.poll_pop(cx)).await
    }

    /// The next message, or `None` if none comes within `timeout` (redis-py's
    /// `get_message(timeout=...)`).
    pub async fn get_message(&mut self, timeout: Duration) -> Option<Message> {
        tokio::time::timeout(timeout, self.next_message())
            .await
            .ok()
            .flatten()
    }

    /// Messages waiting in the queue.
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }

    /// Messages dropped so far under [`Overflow::DropOldest`].
    pub fn dropped(&self) -> u64 {
        self.shared.queue.dropped()
    }

    /// Hands every message to `handler` on a task of its own (redis-py's
    /// `run_in_thread`); the subscriber lives in that task until it is aborted.
    ///
    /// Subscribe before calling it, or keep a way to: the task owns the subscriber.
    pub fn run<F, Fut>(mut self, mut handler: F) -> tokio::task::JoinHandle<()>
    where
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        tokio::spawn(async move {
            while let Some(msg) = self.next_message().await {
                handler(msg).await;
            }
        })
    }
}

impl futures_core::Stream for Subscriber {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.shared.queue.poll_pop(cx)
    }
}
