//! [`SubscriberHandle`]: subscribing and unsubscribing for a
//! [`Subscriber`](super::Subscriber) from anywhere.

use super::handlers::{self, HandlerOutput, Handlers};
use super::router::{Op, Shared, SubId};
use super::{answer, Kind, Message};
use crate::command::ToArg;
use crate::connection::Connection;
use crate::error::{Error, Result};
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Subscribes and unsubscribes for one [`Subscriber`](super::Subscriber) while something else (a
/// [`run`](super::Subscriber::run) task, a stream combinator) owns it and reads its messages.
///
/// Cheap to clone. Once its subscriber is dropped, calls fail with an error for
/// which [`Error::is_closed`] is true.
#[derive(Clone)]
pub struct SubscriberHandle {
    pub(super) route: Route,
    pub(super) request_timeout: Option<Duration>,
    pub(super) shared: Arc<Shared>,
    /// Its per-channel handlers, called by [`run`](super::Subscriber::run).
    pub(super) handlers: Arc<Handlers>,
}

/// No channel: an unsubscribe of every one.
const NONE: [&[u8]; 0] = [];

/// Where a subscriber's calls go.
#[derive(Clone)]
pub(crate) enum Route {
    /// The driver of its one connection (its own, or a client's shared one).
    Node {
        conn: Connection,
        ops: super::demux::Ops,
        id: SubId,
    },
    /// A cluster client's subscriber: a subscriber per node it subscribes on.
    #[cfg(feature = "cluster")]
    Cluster(Arc<crate::cluster::pubsub::Hub>),
}

impl std::fmt::Debug for SubscriberHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriberHandle")
            .field("subscribed", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

impl SubscriberHandle {
    /// Checks that the server still answers on the subscriber's connection: sends
    /// `PING` and returns once the answer came, when every message that arrived
    /// before it is in the queue. A connection that died without closing fails with
    /// the request timeout ([`Error::is_timeout`]) instead of staying silent; set one
    /// with [`ClientBuilder::request_timeout`](crate::ClientBuilder::request_timeout),
    /// or wrap the call in `tokio::time::timeout`.
    ///
    /// Under backpressure with a full queue the answer is behind messages nobody
    /// reads, and the call returns at once without it, as subscribe calls do.
    pub async fn ping(&self) -> Result<()> {
        let ops = match &self.route {
            Route::Node { ops, .. } => ops,
            #[cfg(feature = "cluster")]
            Route::Cluster(hub) => return hub.ping().await,
        };
        let (done, rx) = oneshot::channel();
        ops.send(Op::Ping { done });
        answer(rx, self.request_timeout)
            .await
            .map_err(|e| e.with_command("PING"))
    }

    async fn request<C: ToArg>(
        &self,
        name: &'static str,
        kind: Kind,
        channels: impl IntoIterator<Item = C>,
        at_least_one: bool,
    ) -> Result<()> {
        let list: Vec<_> = channels
            .into_iter()
            .map(crate::command::arg_bytes)
            .collect();
        if at_least_one && list.is_empty() {
            return Err(
                Error::invalid_argument("channel", "at least one is needed").with_command(name)
            );
        }
        // An unsubscribe forgets the handlers of what it names (all of its family's
        // when it names nothing), as redis-py's does.
        let forget = match kind {
            Kind::Unsubscribe | Kind::PUnsubscribe | Kind::SUnsubscribe => {
                handlers::family(kind).map(|f| (f, list.clone()))
            }
            _ => None,
        };
        let sent = match &self.route {
            Route::Node { ops, id, .. } => {
                let (done, rx) = oneshot::channel();
                ops.send(Op::Request {
                    id: *id,
                    kind,
                    channels: list,
                    done,
                });
                answer(rx, self.request_timeout).await
            }
            #[cfg(feature = "cluster")]
            Route::Cluster(hub) => hub.request(kind, list).await,
        };
        if let (Ok(()), Some((family, names))) = (&sent, forget) {
            self.handlers.remove(family, &names);
        }
        sent.map_err(|e| e.with_command(name))
    }

    /// Subscribes to one channel whose messages go to `handler` rather than to the
    /// handler of [`run`](super::Subscriber::run) (redis-py's
    /// `subscribe(**{"chan": handler})`); see
    /// [`Subscriber::subscribe_with`](super::Subscriber::subscribe_with).
    pub async fn subscribe_with<C, F, Fut>(&self, channel: C, handler: F) -> Result<()>
    where
        C: ToArg,
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        self.request_with(Kind::Subscribe, "SUBSCRIBE", channel, handler)
            .await
    }

    /// Subscribes to one pattern whose messages go to `handler`; see
    /// [`subscribe_with`](Self::subscribe_with).
    pub async fn psubscribe_with<C, F, Fut>(&self, pattern: C, handler: F) -> Result<()>
    where
        C: ToArg,
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        self.request_with(Kind::PSubscribe, "PSUBSCRIBE", pattern, handler)
            .await
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
        self.request_with(Kind::SSubscribe, "SSUBSCRIBE", channel, handler)
            .await
    }

    /// Sets the handler of `name` in `family`, then subscribes it; a subscription
    /// that fails leaves no handler.
    async fn request_with<C, F, Fut>(
        &self,
        kind: Kind,
        command: &'static str,
        name: C,
        handler: F,
    ) -> Result<()>
    where
        C: ToArg,
        F: FnMut(Message) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: HandlerOutput,
    {
        let name = crate::command::arg_bytes(name);
        let family = handlers::family(kind).unwrap_or_default();
        self.handlers
            .set(family, name.clone(), handlers::boxed(handler));
        let subscribed = self.request(command, kind, [name.clone()], true).await;
        if subscribed.is_err() {
            self.handlers.remove(family, &[name]);
        }
        subscribed
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

    /// Unsubscribes from every channel (`UNSUBSCRIBE` with no channel; patterns and
    /// shard channels stay: [`punsubscribe_all`](Self::punsubscribe_all),
    /// [`sunsubscribe_all`](Self::sunsubscribe_all)).
    pub async fn unsubscribe_all(&self) -> Result<()> {
        self.unsubscribe(NONE).await
    }

    /// Unsubscribes from every pattern (`PUNSUBSCRIBE` with no pattern).
    pub async fn punsubscribe_all(&self) -> Result<()> {
        self.punsubscribe(NONE).await
    }

    /// Unsubscribes from every shard channel (`SUNSUBSCRIBE` with no channel).
    pub async fn sunsubscribe_all(&self) -> Result<()> {
        self.sunsubscribe(NONE).await
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

    /// The channels the server has confirmed for this subscriber, sorted (redis-py's
    /// and coredis's `channels`). Right after a reconnect they come back one by one
    /// as the renewal is confirmed.
    pub fn channels(&self) -> Vec<Bytes> {
        self.confirmed_list(0)
    }

    /// The channels (0), patterns (1) or shard channels (2) confirmed, sorted.
    pub(crate) fn confirmed_list(&self, family: usize) -> Vec<Bytes> {
        match &self.route {
            Route::Node { .. } => self.shared.confirmed_list(family),
            #[cfg(feature = "cluster")]
            Route::Cluster(hub) => hub.confirmed_list(family),
        }
    }

    /// The patterns the server has confirmed for this subscriber, sorted.
    pub fn patterns(&self) -> Vec<Bytes> {
        self.confirmed_list(1)
    }

    /// The shard channels the server has confirmed for this subscriber, sorted.
    pub fn shard_channels(&self) -> Vec<Bytes> {
        self.confirmed_list(2)
    }

    /// True while the server has confirmed any subscription of this subscriber
    /// (redis-py's `subscribed`).
    pub fn is_subscribed(&self) -> bool {
        match &self.route {
            Route::Node { .. } => self.shared.any_confirmed(),
            #[cfg(feature = "cluster")]
            Route::Cluster(hub) => (0..3).any(|f| !hub.confirmed_list(f).is_empty()),
        }
    }
}
