//! The clients under comparison, behind one small trait.
//!
//! Each implementation is what a user of that library would write: its typed command
//! methods, its pipeline API, and the reply type that costs it least (`Bytes` for
//! respec and fred, whose replies are `Bytes` already; `Vec<u8>` for redis-rs, whose
//! parser produces `Vec<u8>` and would copy into `Bytes`). Every method returns a
//! number derived from the reply (a length, a count) so that nothing is optimized away.
//!
//! Pub/sub: [`Peer::publish`] and [`Peer::pipeline_publish`] go through the peer's
//! shared connection; [`Peer::subscriber`] opens a [`Subscriber`] on a connection of
//! its own, the way each library subscribes (respec's `Client::subscriber`, redis-rs'
//! `Client::get_async_pubsub`, a second fred `Client` with `message_rx`);
//! [`Peer::shared_pubsub`] subscribes on a RESP3 connection that also publishes.

use std::collections::HashMap;
use std::future::Future;

use anyhow::{bail, ensure, Context as _, Result};
use bytes::Bytes;

use crate::pubsub::{Stamp, PAYLOAD_LEN};

/// The operations of the `N tasks GET/SET` rows ([`crate::workload::run_concurrent`]),
/// which a client of one server ([`Peer`]) and a cluster client
/// ([`crate::cluster::ClusterPeer`]) both have. Clones share the client's connections.
pub trait GetSet: Clone + Send + Sync + 'static {
    /// Which library this is.
    const ID: PeerId;

    /// `GET key`: the value's length, 0 when the key does not exist.
    fn get(&mut self, key: &str) -> impl Future<Output = Result<usize>> + Send;

    /// `SET key value`.
    fn set(&mut self, key: &str, value: &Bytes) -> impl Future<Output = Result<()>> + Send;

    /// `INCR key`: the new value (the disruption loads of the cluster and sentinel
    /// sections).
    fn incr(&mut self, key: &str) -> impl Future<Output = Result<i64>> + Send;
}

/// One client library, connected to the benchmark server by one multiplexed
/// connection. Clones share the connection (the concurrent workloads give each task a
/// clone).
pub trait Peer: GetSet {
    /// One explicit pipeline of `SET key value` for every key.
    fn pipeline_set(
        &mut self,
        keys: &[String],
        value: &Bytes,
    ) -> impl Future<Output = Result<()>> + Send;

    /// One explicit pipeline of `GET key` for every key: the total length of the values.
    fn pipeline_get(&mut self, keys: &[String]) -> impl Future<Output = Result<usize>> + Send;

    /// One `MULTI`/`EXEC` transaction of `SET key value` for every key, through the
    /// library's transaction API: the number of `OK` replies among `EXEC`'s.
    fn transaction_set(
        &mut self,
        keys: &[String],
        value: &Bytes,
    ) -> impl Future<Output = Result<usize>> + Send;

    /// `LRANGE key 0 -1` as a list of byte strings: the number of elements.
    fn lrange(&mut self, key: &str) -> impl Future<Output = Result<usize>> + Send;

    /// `HGETALL key` as a hash map of byte strings: the number of fields.
    fn hgetall(&mut self, key: &str) -> impl Future<Output = Result<usize>> + Send;

    /// This peer's subscriber.
    type Subscriber: Subscriber;

    /// `PUBLISH channel payload`: the number of subscribers that received it.
    fn publish(
        &mut self,
        channel: &str,
        payload: &[u8; PAYLOAD_LEN],
    ) -> impl Future<Output = Result<u64>> + Send;

    /// One explicit pipeline of `PUBLISH channel payload` for every payload: the sum of
    /// the receiver counts.
    fn pipeline_publish(
        &mut self,
        channel: &str,
        payloads: &[[u8; PAYLOAD_LEN]],
    ) -> impl Future<Output = Result<u64>> + Send;

    /// A new subscriber on a connection of its own, subscribed to `channel` (the server
    /// has confirmed it when this returns).
    fn subscriber(&self, channel: &str) -> impl Future<Output = Result<Self::Subscriber>> + Send;

    /// This peer's subscriber on its publishing connection.
    type SharedSubscriber: Subscriber;

    /// A publisher and a subscriber of `channel` on one RESP3 connection, where the
    /// messages arrive as push frames among the replies: this peer itself when it
    /// speaks RESP3, else a new one connected for it, the way the library does it
    /// (respec's `on_shared_connection`, redis-rs' push sender, fred's RESP3 client
    /// with `message_rx`).
    fn shared_pubsub(
        &self,
        channel: &str,
    ) -> impl Future<Output = Result<(Self, Self::SharedSubscriber)>> + Send;
}

/// A subscription to one channel, on a connection of its own.
pub trait Subscriber: Send + 'static {
    /// The next message's [`Stamp`]; an error for anything else than a message on the
    /// subscribed channel (or a notice that messages were lost).
    fn next(&mut self) -> impl Future<Output = Result<Stamp>> + Send;

    /// Unsubscribes and closes the connection.
    fn close(self) -> impl Future<Output = Result<()>> + Send
    where
        Self: Sized;
}

/// Names a peer (a column of the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerId {
    /// This project.
    Respec,
    /// The `redis` crate, `MultiplexedConnection`.
    RedisRs,
    /// The `fred` crate, one `Client`.
    Fred,
}

impl PeerId {
    /// Every peer, in the report's column order.
    pub const ALL: [PeerId; 3] = [PeerId::Respec, PeerId::RedisRs, PeerId::Fred];

    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            PeerId::Respec => "respec",
            PeerId::RedisRs => "redis-rs",
            PeerId::Fred => "fred",
        }
    }
}

/// One connected client of each library.
#[derive(Clone)]
pub struct Peers {
    /// respec.
    pub respec: Respec,
    /// redis-rs.
    pub redis: RedisRs,
    /// fred.
    pub fred: Fred,
    /// respec with its client-side cache (RESP3 default tracking).
    pub respec_cached: Respec,
    /// redis-rs with its client-side cache (`cache-aio`, RESP3).
    pub redis_cached: RedisRs,
}

impl Peers {
    /// Connects all three to `url` (on the current tokio runtime, which then runs
    /// their background tasks).
    pub async fn connect(url: &str) -> Result<Peers> {
        Ok(Peers {
            respec: Respec::connect(url).await?,
            redis: RedisRs::connect(url).await?,
            fred: Fred::connect(url).await?,
            respec_cached: Respec::connect_cached(url).await?,
            redis_cached: RedisRs::connect_cached(url).await?,
        })
    }
}

/// Checks that a pipeline, batch or transaction returned one reply per command.
fn check_replies(got: usize, sent: usize) -> Result<()> {
    ensure!(got == sent, "{sent} commands sent, {got} replies");
    Ok(())
}

/// respec: one [`respec::Client`] (its shared multiplexed connection), explicit
/// pipelines through [`respec::Client::batch`], transactions through
/// [`respec::Client::pipeline_dyn`] made transactional (the typed
/// `pipeline().transaction()` holds at most 16 commands).
#[derive(Clone, Debug)]
pub struct Respec(pub respec::Client);

impl Respec {
    /// Connects with respec's defaults (RESP3).
    pub async fn connect(url: &str) -> Result<Respec> {
        Ok(Respec(respec::Client::connect(url).await?))
    }

    /// Connects with the client-side cache on (its defaults).
    pub async fn connect_cached(url: &str) -> Result<Respec> {
        let client = respec::Client::builder()
            .url(url)
            .client_side_cache(respec::tracking::TrackingOptions::new())
            .connect()
            .await?;
        Ok(Respec(client))
    }
}

impl GetSet for Respec {
    const ID: PeerId = PeerId::Respec;

    async fn get(&mut self, key: &str) -> Result<usize> {
        use respec::Commands as _;
        let value: Option<Bytes> = self.0.get(key).await?;
        Ok(value.map_or(0, |v| v.len()))
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        use respec::Commands as _;
        self.0.set(key, value).await?;
        Ok(())
    }

    async fn incr(&mut self, key: &str) -> Result<i64> {
        use respec::Commands as _;
        Ok(self.0.incr(key).await?)
    }
}

impl Peer for Respec {
    async fn pipeline_set(&mut self, keys: &[String], value: &Bytes) -> Result<()> {
        let replies: Vec<bool> = self
            .0
            .batch(keys.iter().map(|key| respec::cmd::set(key, value)))
            .await?;
        check_replies(replies.len(), keys.len())
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        let values: Vec<Option<Bytes>> = self.0.batch(keys.iter().map(respec::cmd::get)).await?;
        check_replies(values.len(), keys.len())?;
        Ok(values.iter().flatten().map(Bytes::len).sum())
    }

    async fn transaction_set(&mut self, keys: &[String], value: &Bytes) -> Result<usize> {
        let mut tx = self.0.pipeline_dyn();
        tx.transaction();
        for key in keys {
            tx.push(respec::cmd::set(key, value));
        }
        let replies = tx.execute().await?;
        check_replies(replies.len(), keys.len())?;
        Ok(replies
            .iter()
            .filter(|r| matches!(r, Ok(respec::Value::Simple(s)) if s == "OK"))
            .count())
    }

    async fn lrange(&mut self, key: &str) -> Result<usize> {
        use respec::Commands as _;
        let items: Vec<Bytes> = self.0.lrange(key, 0, -1).await?;
        Ok(items.len())
    }

    async fn hgetall(&mut self, key: &str) -> Result<usize> {
        use respec::Commands as _;
        let map: HashMap<Bytes, Bytes> = self.0.hgetall(key).await?;
        Ok(map.len())
    }

    type Subscriber = RespecSubscriber;

    async fn publish(&mut self, channel: &str, payload: &[u8; PAYLOAD_LEN]) -> Result<u64> {
        use respec::Commands as _;
        Ok(self.0.publish(channel, payload).await?.try_into()?)
    }

    async fn pipeline_publish(
        &mut self,
        channel: &str,
        payloads: &[[u8; PAYLOAD_LEN]],
    ) -> Result<u64> {
        let replies: Vec<i64> = self
            .0
            .batch(payloads.iter().map(|p| respec::cmd::publish(channel, p)))
            .await?;
        check_replies(replies.len(), payloads.len())?;
        Ok(replies.iter().sum::<i64>().try_into()?)
    }

    async fn subscriber(&self, channel: &str) -> Result<RespecSubscriber> {
        // Only messages, as redis-rs' and fred's streams deliver.
        let sub = self.0.subscriber().ignore_subscribe_messages().await?;
        sub.subscribe([channel]).await?;
        Ok(RespecSubscriber {
            sub,
            channel: Bytes::copy_from_slice(channel.as_bytes()),
        })
    }

    type SharedSubscriber = RespecSubscriber;

    async fn shared_pubsub(&self, channel: &str) -> Result<(Respec, RespecSubscriber)> {
        // The client speaks RESP3 already; the subscriber's queue is the default
        // (1024 messages, drop-oldest on a shared connection: a loss fails the cell).
        let sub = self
            .0
            .subscriber()
            .on_shared_connection()
            .ignore_subscribe_messages()
            .await?;
        ensure!(
            sub.is_shared(),
            "the subscriber did not get the shared connection"
        );
        sub.subscribe([channel]).await?;
        let sub = RespecSubscriber {
            sub,
            channel: Bytes::copy_from_slice(channel.as_bytes()),
        };
        Ok((self.clone(), sub))
    }
}

/// respec: a [`respec::pubsub::Subscriber`] (RESP3: messages are push frames), with
/// its default queue (1024 messages, backpressure).
#[derive(Debug)]
pub struct RespecSubscriber {
    sub: respec::pubsub::Subscriber,
    channel: Bytes,
}

impl Subscriber for RespecSubscriber {
    async fn next(&mut self) -> Result<Stamp> {
        use respec::pubsub::Kind;
        let msg = self
            .sub
            .next_message()
            .await
            .context("the subscriber's task ended")?;
        match msg.kind {
            Kind::Message if msg.channel == self.channel => Stamp::decode(&msg.payload),
            Kind::Reconnected => bail!("the subscriber reconnected: messages were lost"),
            kind => bail!("{kind:?} on {:?} instead of a message", msg.channel),
        }
    }

    async fn close(self) -> Result<()> {
        drop(self.sub); // closes its connection
        Ok(())
    }
}

/// redis-rs: one `MultiplexedConnection`, explicit pipelines through `redis::pipe()`,
/// transactions through `redis::pipe().atomic()`; the `redis::Client` it came from
/// opens the subscribers.
#[derive(Clone)]
pub struct RedisRs(pub redis::aio::MultiplexedConnection, pub redis::Client);

impl std::fmt::Debug for RedisRs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRs")
    }
}

impl RedisRs {
    /// Connects with redis-rs' defaults (RESP2) except TCP_NODELAY on and no response
    /// timeout (see the crate docs).
    pub async fn connect(url: &str) -> Result<RedisRs> {
        RedisRs::connect_with(url, None).await
    }

    /// Connects like [`connect`](Self::connect), with its client-side cache on
    /// (`cache-aio`, its defaults; RESP3, which it needs).
    pub async fn connect_cached(url: &str) -> Result<RedisRs> {
        RedisRs::connect_with(url, Some(redis::caching::CacheConfig::new())).await
    }

    async fn connect_with(
        url: &str,
        cache: Option<redis::caching::CacheConfig>,
    ) -> Result<RedisRs> {
        use redis::IntoConnectionInfo as _;
        let mut info = url
            .into_connection_info()?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let mut config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        if let Some(cache) = cache {
            let redis = info
                .redis_settings()
                .clone()
                .set_protocol(redis::ProtocolVersion::RESP3);
            info = info.set_redis_settings(redis);
            config = config.set_cache_config(cache);
        }
        let client = redis::Client::open(info)?;
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(RedisRs(conn, client))
    }
}

impl RedisRs {
    /// `GET key` on any redis-rs async connection (this one's, or a cluster's): the
    /// value's length, 0 when the key does not exist.
    pub(crate) async fn get_on<C>(conn: &mut C, key: &str) -> Result<usize>
    where
        C: redis::aio::ConnectionLike + Send + Sync,
    {
        use redis::AsyncCommands as _;
        let value: Option<Vec<u8>> = conn.get(key).await?;
        Ok(value.map_or(0, |v| v.len()))
    }

    /// `SET key value` on any redis-rs async connection.
    pub(crate) async fn set_on<C>(conn: &mut C, key: &str, value: &Bytes) -> Result<()>
    where
        C: redis::aio::ConnectionLike + Send + Sync,
    {
        use redis::AsyncCommands as _;
        let () = conn.set(key, value.as_ref()).await?;
        Ok(())
    }

    /// `INCR key` on any redis-rs async connection: the new value.
    pub(crate) async fn incr_on<C>(conn: &mut C, key: &str) -> Result<i64>
    where
        C: redis::aio::ConnectionLike + Send + Sync,
    {
        use redis::AsyncCommands as _;
        Ok(conn.incr(key, 1).await?)
    }

    /// One `redis::pipe()` of `GET key` for every key on any redis-rs async
    /// connection: the total length of the values.
    pub(crate) async fn pipeline_get_on<C>(conn: &mut C, keys: &[String]) -> Result<usize>
    where
        C: redis::aio::ConnectionLike + Send,
    {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.get(key);
        }
        let values: Vec<Option<Vec<u8>>> = pipe.query_async(conn).await?;
        check_replies(values.len(), keys.len())?;
        Ok(values.iter().flatten().map(Vec::len).sum())
    }
}

impl GetSet for RedisRs {
    const ID: PeerId = PeerId::RedisRs;

    async fn get(&mut self, key: &str) -> Result<usize> {
        RedisRs::get_on(&mut self.0, key).await
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        RedisRs::set_on(&mut self.0, key, value).await
    }

    async fn incr(&mut self, key: &str) -> Result<i64> {
        RedisRs::incr_on(&mut self.0, key).await
    }
}

impl Peer for RedisRs {
    async fn pipeline_set(&mut self, keys: &[String], value: &Bytes) -> Result<()> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.set(key, value.as_ref());
        }
        let replies: Vec<redis::Value> = pipe.query_async(&mut self.0).await?;
        check_replies(replies.len(), keys.len())
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        RedisRs::pipeline_get_on(&mut self.0, keys).await
    }

    async fn transaction_set(&mut self, keys: &[String], value: &Bytes) -> Result<usize> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            pipe.set(key, value.as_ref());
        }
        // An atomic pipeline's reply is EXEC's: one value per queued command.
        let replies: Vec<redis::Value> = pipe.query_async(&mut self.0).await?;
        check_replies(replies.len(), keys.len())?;
        Ok(replies
            .iter()
            .filter(|v| matches!(v, redis::Value::Okay))
            .count())
    }

    async fn lrange(&mut self, key: &str) -> Result<usize> {
        use redis::AsyncCommands as _;
        let items: Vec<Vec<u8>> = self.0.lrange(key, 0, -1).await?;
        Ok(items.len())
    }

    async fn hgetall(&mut self, key: &str) -> Result<usize> {
        use redis::AsyncCommands as _;
        let map: HashMap<Vec<u8>, Vec<u8>> = self.0.hgetall(key).await?;
        Ok(map.len())
    }

    type Subscriber = RedisRsSubscriber;

    async fn publish(&mut self, channel: &str, payload: &[u8; PAYLOAD_LEN]) -> Result<u64> {
        use redis::AsyncCommands as _;
        let receivers: u64 = self.0.publish(channel, &payload[..]).await?;
        Ok(receivers)
    }

    async fn pipeline_publish(
        &mut self,
        channel: &str,
        payloads: &[[u8; PAYLOAD_LEN]],
    ) -> Result<u64> {
        let mut pipe = redis::pipe();
        for payload in payloads {
            pipe.publish(channel, &payload[..]);
        }
        let replies: Vec<u64> = pipe.query_async(&mut self.0).await?;
        check_replies(replies.len(), payloads.len())?;
        Ok(replies.iter().sum())
    }

    async fn subscriber(&self, channel: &str) -> Result<RedisRsSubscriber> {
        let mut pubsub = self.1.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(RedisRsSubscriber {
            stream: Box::pin(pubsub.into_on_message()),
            channel: channel.to_owned(),
        })
    }

    type SharedSubscriber = RedisRsPushSubscriber;

    async fn shared_pubsub(&self, channel: &str) -> Result<(RedisRs, RedisRsPushSubscriber)> {
        // A RESP3 `MultiplexedConnection` of the same settings, whose pushes go to an
        // unbounded channel (redis-rs' documented way).
        let info = self.1.get_connection_info().clone();
        let redis_settings = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(redis_settings))?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let config = redis::AsyncConnectionConfig::new()
            .set_response_timeout(None)
            .set_push_sender(tx);
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        conn.subscribe(channel).await?;
        let sub = RedisRsPushSubscriber {
            rx,
            channel: channel.as_bytes().to_vec(),
        };
        Ok((RedisRs(conn, client), sub))
    }
}

/// redis-rs: the push frames of a RESP3 `MultiplexedConnection` that also publishes,
/// from its unbounded push channel.
pub struct RedisRsPushSubscriber {
    rx: tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
    channel: Vec<u8>,
}

impl std::fmt::Debug for RedisRsPushSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRsPushSubscriber")
    }
}

impl Subscriber for RedisRsPushSubscriber {
    async fn next(&mut self) -> Result<Stamp> {
        loop {
            let push = self
                .rx
                .recv()
                .await
                .context("the connection's push channel closed")?;
            match push.kind {
                redis::PushKind::Message => {
                    let [redis::Value::BulkString(channel), redis::Value::BulkString(payload)] =
                        &push.data[..]
                    else {
                        bail!("a message push of another shape: {:?}", push.data);
                    };
                    ensure!(*channel == self.channel, "a message on another channel");
                    return Stamp::decode(payload);
                }
                // The subscription's confirmation.
                redis::PushKind::Subscribe => continue,
                kind => bail!("a {kind:?} push instead of a message"),
            }
        }
    }

    async fn close(self) -> Result<()> {
        Ok(()) // the connection closes with its last handle (the publisher's)
    }
}

/// redis-rs: an `aio::PubSub` (a RESP2 connection of its own, TCP_NODELAY on) turned
/// into its message stream.
pub struct RedisRsSubscriber {
    stream: std::pin::Pin<Box<redis::aio::PubSubStream>>,
    channel: String,
}

impl std::fmt::Debug for RedisRsSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRsSubscriber")
    }
}

impl Subscriber for RedisRsSubscriber {
    async fn next(&mut self) -> Result<Stamp> {
        use futures_core::Stream as _;
        let msg = std::future::poll_fn(|cx| self.stream.as_mut().poll_next(cx))
            .await
            .context("the subscriber's stream ended")?;
        ensure!(
            msg.get_channel_name() == self.channel && !msg.from_pattern(),
            "a message on {:?} instead of {:?}",
            msg.get_channel_name(),
            self.channel
        );
        Stamp::decode(msg.get_payload_bytes())
    }

    async fn close(self) -> Result<()> {
        drop(self.stream); // stops its driver task, which closes the connection
        Ok(())
    }
}

/// fred: one `Client` (a single connection, commands pipelined automatically),
/// explicit pipelines through `Client::pipeline`, transactions through `Client::multi`.
#[derive(Clone)]
pub struct Fred(pub fred::clients::Client);

impl std::fmt::Debug for Fred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fred")
    }
}

impl Fred {
    /// Connects with fred's defaults (RESP2) except TCP_NODELAY on (see the crate docs).
    pub async fn connect(url: &str) -> Result<Fred> {
        Ok(Fred(
            Fred::start(fred::prelude::Config::from_url(url)?).await?,
        ))
    }

    /// A connected client of `config`, TCP_NODELAY on.
    pub(crate) async fn start(config: fred::prelude::Config) -> Result<fred::clients::Client> {
        Fred::start_with(config, None).await
    }

    /// A connected client of `config`, TCP_NODELAY on, reconnecting by `policy` if
    /// one is given (fred's default is not to reconnect).
    pub(crate) async fn start_with(
        config: fred::prelude::Config,
        policy: Option<fred::prelude::ReconnectPolicy>,
    ) -> Result<fred::clients::Client> {
        use fred::prelude::{Builder, ClientLike as _, TcpConfig};
        let mut builder = Builder::from_config(config);
        builder.with_connection_config(|config| {
            config.tcp = TcpConfig {
                nodelay: Some(true),
                ..TcpConfig::default()
            };
        });
        if let Some(policy) = policy {
            builder.set_policy(policy);
        }
        let client = builder.build()?;
        // The connection task runs on the runtime until the client is dropped; its
        // handle is not needed.
        let _task = client.init().await?;
        Ok(client)
    }
}

impl GetSet for Fred {
    const ID: PeerId = PeerId::Fred;

    async fn get(&mut self, key: &str) -> Result<usize> {
        use fred::prelude::KeysInterface as _;
        let value: Option<Bytes> = self.0.get(key).await?;
        Ok(value.map_or(0, |v| v.len()))
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        use fred::prelude::KeysInterface as _;
        let () = self.0.set(key, value.clone(), None, None, false).await?;
        Ok(())
    }

    async fn incr(&mut self, key: &str) -> Result<i64> {
        use fred::prelude::KeysInterface as _;
        Ok(self.0.incr(key).await?)
    }
}

impl Peer for Fred {
    async fn pipeline_set(&mut self, keys: &[String], value: &Bytes) -> Result<()> {
        use fred::prelude::KeysInterface as _;
        let pipe = self.0.pipeline();
        for key in keys {
            let () = pipe
                .set(key.as_str(), value.clone(), None, None, false)
                .await?;
        }
        let replies: Vec<fred::prelude::Value> = pipe.all().await?;
        check_replies(replies.len(), keys.len())
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        use fred::prelude::KeysInterface as _;
        let pipe = self.0.pipeline();
        for key in keys {
            let () = pipe.get(key.as_str()).await?;
        }
        let values: Vec<Option<Bytes>> = pipe.all().await?;
        check_replies(values.len(), keys.len())?;
        Ok(values.iter().flatten().map(Bytes::len).sum())
    }

    async fn transaction_set(&mut self, keys: &[String], value: &Bytes) -> Result<usize> {
        use fred::prelude::{KeysInterface as _, TransactionInterface as _};
        let tx = self.0.multi();
        for key in keys {
            // Queued locally: the reply is fred's own `QUEUED`.
            let () = tx
                .set(key.as_str(), value.clone(), None, None, false)
                .await?;
        }
        // `true`: DISCARD if a command is refused while queueing.
        let replies: Vec<fred::prelude::Value> = tx.exec(true).await?;
        check_replies(replies.len(), keys.len())?;
        Ok(replies.iter().filter(|v| v.is_ok()).count())
    }

    async fn lrange(&mut self, key: &str) -> Result<usize> {
        use fred::prelude::ListInterface as _;
        let items: Vec<Bytes> = self.0.lrange(key, 0, -1).await?;
        Ok(items.len())
    }

    async fn hgetall(&mut self, key: &str) -> Result<usize> {
        use fred::prelude::HashesInterface as _;
        let map: HashMap<Bytes, Bytes> = self.0.hgetall(key).await?;
        Ok(map.len())
    }

    type Subscriber = FredSubscriber;

    async fn publish(&mut self, channel: &str, payload: &[u8; PAYLOAD_LEN]) -> Result<u64> {
        use fred::prelude::PubsubInterface as _;
        // fred's arguments are owned values.
        let payload = Bytes::copy_from_slice(payload);
        let receivers: u64 = self.0.publish(channel, payload).await?;
        Ok(receivers)
    }

    async fn pipeline_publish(
        &mut self,
        channel: &str,
        payloads: &[[u8; PAYLOAD_LEN]],
    ) -> Result<u64> {
        use fred::prelude::PubsubInterface as _;
        let pipe = self.0.pipeline();
        for payload in payloads {
            let () = pipe
                .publish(channel, Bytes::copy_from_slice(payload))
                .await?;
        }
        let replies: Vec<u64> = pipe.all().await?;
        check_replies(replies.len(), payloads.len())?;
        Ok(replies.iter().sum())
    }

    async fn subscriber(&self, channel: &str) -> Result<FredSubscriber> {
        use fred::prelude::{ClientLike as _, EventInterface as _, PubsubInterface as _};
        // A client of its own (its own connection), with this one's configuration.
        let client = self.0.clone_new();
        let _task = client.init().await?;
        // Before subscribing, so that nothing is missed.
        let rx = client.message_rx();
        client.subscribe(channel).await?;
        Ok(FredSubscriber {
            client,
            rx,
            channel: channel.to_owned(),
        })
    }

    type SharedSubscriber = FredSubscriber;

    async fn shared_pubsub(&self, channel: &str) -> Result<(Fred, FredSubscriber)> {
        use fred::prelude::{ClientLike as _, EventInterface as _, PubsubInterface as _};
        // A client of the same configuration but RESP3, which publishes and subscribes
        // on its one connection.
        let mut config = self.0.client_config();
        config.version = fred::types::RespVersion::RESP3;
        let client = Fred::start(config).await?;
        let rx = client.message_rx();
        client.subscribe(channel).await?;
        let sub = FredSubscriber {
            client: client.clone(),
            rx,
            channel: channel.to_owned(),
        };
        Ok((Fred(client), sub))
    }
}

/// fred: a second `Client` (a connection of its own, RESP2, TCP_NODELAY on) and its
/// `message_rx` broadcast receiver, of fred's default capacity (32 messages; a
/// subscriber further behind loses messages, which fails the cell: the workloads keep
/// at most 32 unreceived).
pub struct FredSubscriber {
    client: fred::clients::Client,
    rx: tokio::sync::broadcast::Receiver<fred::types::Message>,
    channel: String,
}

impl std::fmt::Debug for FredSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FredSubscriber")
    }
}

impl Subscriber for FredSubscriber {
    async fn next(&mut self) -> Result<Stamp> {
        use fred::types::MessageKind;
        let msg = match self.rx.recv().await {
            Ok(msg) => msg,
            Err(err) => bail!("the subscriber's receiver failed ({err}): messages were lost"),
        };
        ensure!(
            msg.kind == MessageKind::Message && *msg.channel == *self.channel,
            "{:?} on {:?} instead of a message on {:?}",
            msg.kind,
            &*msg.channel,
            self.channel
        );
        let payload = msg
            .value
            .as_bytes()
            .with_context(|| format!("a message of {:?}", msg.value.kind()))?;
        Stamp::decode(payload)
    }

    async fn close(self) -> Result<()> {
        use fred::prelude::ClientLike as _;
        self.client.quit().await?;
        Ok(())
    }
}
