//! [`Client`]: the entry point, and its builder.

use crate::cluster::{Cluster, ClusterOptions, ClusterStats};
use crate::command::route::{self, Decision, On};
use crate::command::{Command, Executor, Raw, Request, ToArg};
use crate::config::keepalive_time;
use crate::connection::{
    Address, Backoff, Config, Connection, HoldUnsent, Kind, LongestArg, Protocol, PushHook,
    QueueOptions, ResponseFuture, TlsOptions,
};
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::reply::FromReply;
use crate::resp::Limits;
use std::sync::Arc;
use std::time::Duration;

/// A client for one Redis or Valkey server.
///
/// Cheap to clone: clones share one multiplexed connection, on which every command
/// from every task is pipelined automatically. Commands the spec flags `BLOCKING`
/// (`BLPOP`, `XREAD`, ...) run on dedicated pooled connections instead, so they
/// never stall the others; `WAIT` and `WAITAOF` are the exception, since they wait
/// for the writes made on the connection they run on (see the crate docs).
///
/// Because every task shares that connection, commands that would change it under
/// all of them are refused before anything is sent, with an error naming what to use
/// instead: `SELECT`, `AUTH`, `WATCH` and `UNWATCH` (set the database and user with
/// the builder, or run them on a connection of your own from [`Client::dedicated`],
/// which is closed rather than pooled afterwards when its state changed), and, on
/// any connection, what the runtime owns: `MULTI`,
/// `EXEC`, `DISCARD`, `WATCH`, `UNWATCH`, the subscriptions, `MONITOR`, `HELLO` with
/// arguments, `RESET`, `QUIT`, `CLIENT REPLY` and the replication protocol
/// ([`CommandMeta::route`](crate::command::CommandMeta::route), decided by
/// [`route::decide`](crate::command::route::decide)).
///
/// ```no_run
/// # async fn demo() -> respec::Result<()> {
/// use respec::{Client, Commands};
/// let client = Client::connect("redis://127.0.0.1:6379/0").await?;
/// client.set("foo", 1).await?;
/// assert_eq!(client.incrby("foo", 100).await?, 101);
/// let v: Option<bytes::Bytes> = client.get("foo").await?;
/// let s: Option<String> = client.get("foo").decode().await?;
/// # Ok(()) }
/// ```
///
/// # URLs
///
/// | form | meaning |
/// |------|---------|
/// | `redis://[[user][:password]@]host[:port][/db]` | TCP (`valkey://` is the same) |
/// | `rediss://...` | TLS (`valkeys://` is the same) |
/// | `unix:///path/to/socket` | Unix socket (`redis+unix://`, `valkey+unix://`) |
/// | `redis+cluster://h1:p1,h2:p2` | a cluster through its seed nodes ([`Client::connect_cluster`]) |
/// | `redis://host:port?cluster=auto` | the cluster of that node when it reports `cluster_enabled:1` in `INFO cluster`, else that one server (`cluster=true`: its cluster, without asking) |
/// | `redis+sentinel://s1:p1,s2:p2/service[/db]` | the primary of a service behind sentinels (port 26379 by default; `role=replica` for a replica, `sentinel_username`, `sentinel_password`: see [`Client::connect_sentinel`]) |
///
/// Query options: `db=N`, `protocol=2|3`, `client_name=NAME`, `username=U`,
/// `password=P`, `connect_timeout=SECS`, `timeout=SECS` (request timeout; `250ms`
/// works too), `keepalive=SECS` (1 to 32767, the TCP range, fractions rounded up to
/// whole seconds; 0 disables), the pool's `pool_size=N`,
/// `pool_timeout=SECS|none`, `pool_idle_timeout=SECS|none` and
/// `health_check_interval=SECS` (see [`PoolOptions`](crate::pool::PoolOptions)), the
/// request queue's `queue_size=N` and `queue_full=wait|fail` (see
/// [`QueueOptions`](crate::connection::QueueOptions)), `liveness_timeout=SECS|none`
/// (see [`Config::liveness_timeout`]), `hold_unsent=auto|no|SECS` (see
/// [`Config::hold_unsent`]), and for TLS `ca=PATH`, `cert=PATH`, `key=PATH`, `insecure=true`, `server_name=NAME`.
/// Unknown options, and values out of range, are configuration errors naming the
/// option; no input panics.
///
/// Credentials: `user:password@` authenticates as that ACL user, `:password@` as
/// `default`. A user name without a password (`redis://alice@host`, or
/// [`ClientBuilder::username`] alone) authenticates as that user with an empty
/// password, rather than ignoring the name and silently running as `default`: an ACL
/// user created with `nopass` accepts it, any other user fails the connect with a
/// `WRONGPASS` error naming `AUTH`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// The shared connection (on a cluster, to its first primary: `MONITOR` runs
    /// there).
    conn: Connection,
    /// Where subscribers on the shared connection send their operations.
    ops: crate::pubsub::demux::Ops,
    pool: Arc<Pool>,
    config: Arc<Config>,
    /// The cluster, when the client was connected to one.
    cluster: Option<Arc<Cluster>>,
    /// The client-side cache of the shared connection, when it is on.
    tracker: Option<Arc<crate::tracking::Tracker>>,
    /// RESP2 client-side caching: the connection the invalidations come on (kept
    /// open as long as the client).
    _invalidations: Option<Connection>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.inner.config.address)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the server at `url` (see the table above); a
    /// `redis+cluster://` URL connects to a cluster (see
    /// [`connect_cluster`](Client::connect_cluster)), a `redis+sentinel://` URL to
    /// a service behind sentinels (see [`connect_sentinel`](Client::connect_sentinel)).
    ///
    /// A single-server URL with `cluster=auto` connects to the server, asks it
    /// `INFO cluster`, and when it reports `cluster_enabled:1` connects to its cluster
    /// instead, with that node as the seed; `cluster=true` connects to the cluster
    /// without asking. See the crate docs (Cluster).
    pub async fn connect(url: &str) -> Result<Client> {
        use crate::config::ClusterOption;
        let (url, cluster) = crate::config::take_cluster_option(url)?;
        #[cfg(not(feature = "cluster"))]
        if cluster != ClusterOption::Off {
            return Err(crate::config::cluster_unavailable());
        }
        if let Some((config, seeds)) = crate::config::parse_cluster_url(&url)? {
            return Client::from_cluster_config(config, seeds, ClusterOptions::default()).await;
        }
        if let Some(s) = crate::config::parse_sentinel_url(&url)? {
            return Client::from_sentinel_config(s.sentinels, &s.service, s.node, s.options).await;
        }
        let config = Config::from_url(&url)?;
        match cluster {
            ClusterOption::Off => return Client::from_config(config).await,
            ClusterOption::On => {}
            ClusterOption::Auto => {
                let single = Client::from_config(config.clone()).await?;
                let info: String = single
                    .cmd("INFO")
                    .arg("cluster")
                    .decode()
                    .await
                    .map_err(|e| e.with_command("INFO cluster (cluster=auto)"))?;
                if !info.lines().any(|l| l.trim() == "cluster_enabled:1") {
                    return Ok(single);
                }
            }
        }
        let seed = crate::cluster::address_text(&config.address).ok_or_else(|| {
            Error::config("a cluster seed needs a TCP address, not a Unix socket")
        })?;
        Client::from_cluster_config(config, vec![seed], ClusterOptions::default()).await
    }

    /// Connects to a Redis Cluster or Valkey Cluster through its seed nodes
    /// (`redis://host:port` URLs; the first one's options, credentials and TLS
    /// included, apply to every node). The client reads the slot map from the first
    /// seed that answers and connects to the other nodes as commands need them.
    ///
    /// The same typed API runs on it: each command goes to the node of its keys'
    /// slot, keyless commands follow the spec's request policy (every primary for
    /// `DBSIZE`, `KEYS`, `FLUSHALL`, merged by the response policy), multi-key
    /// commands the spec lets a client split (`MGET`, `MSET`, `DEL`, `EXISTS`,
    /// `TOUCH`, `UNLINK`) are split by slot and put back together in the caller's
    /// order, and `MOVED`, `ASK`, `TRYAGAIN` and `CLUSTERDOWN` are followed. See the
    /// crate docs (Cluster) for what runs where and what is refused.
    pub async fn connect_cluster<I, S>(seeds: I) -> Result<Client>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Client::connect_cluster_with(seeds, ClusterOptions::default()).await
    }

    /// [`connect_cluster`](Client::connect_cluster) with options.
    pub async fn connect_cluster_with<I, S>(seeds: I, options: ClusterOptions) -> Result<Client>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut template = None;
        let mut addresses = Vec::new();
        for seed in seeds {
            let config = Config::from_url(seed.as_ref())?;
            let address = crate::cluster::address_text(&config.address).ok_or_else(|| {
                Error::config("a cluster seed needs a TCP address, not a Unix socket")
            })?;
            addresses.push(address);
            template.get_or_insert(config);
        }
        let template =
            template.ok_or_else(|| Error::config("a cluster needs at least one seed node"))?;
        Client::from_cluster_config(template, addresses, options).await
    }

    /// Connects to the cluster whose nodes `seeds` (`host:port`) are, every node
    /// with the options of `template`.
    #[cfg(feature = "cluster")]
    async fn from_cluster_config(
        template: Config,
        seeds: Vec<String>,
        options: ClusterOptions,
    ) -> Result<Client> {
        if template.database != 0 {
            return Err(Error::config(
                "a cluster has only database 0: remove the database from the URL or builder",
            ));
        }
        let cluster = Cluster::connect(Arc::new(template), seeds, options).await?;
        // The first primary's connections serve what is not routed by slot
        // (classic pub/sub, MONITOR).
        let home = cluster.any_node()?.client().await?;
        Ok(Client {
            inner: Arc::new(Inner {
                conn: home.inner.conn.clone(),
                ops: home.inner.ops.clone(),
                pool: home.inner.pool.clone(),
                config: home.inner.config.clone(),
                cluster: Some(cluster),
                // Each node's client caches its own reads.
                tracker: None,
                _invalidations: None,
            }),
        })
    }

    /// Without the `cluster` feature: the error naming it.
    #[cfg(not(feature = "cluster"))]
    async fn from_cluster_config(
        _template: Config,
        _seeds: Vec<String>,
        _options: ClusterOptions,
    ) -> Result<Client> {
        Err(crate::config::cluster_unavailable())
    }

    /// Whether this client is connected to a cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.cluster.is_some()
    }

    /// What a cluster client has done to follow the cluster (refreshes, redirects,
    /// retries); `None` for a client of one server.
    pub fn cluster_stats(&self) -> Option<ClusterStats> {
        let cluster = self.inner.cluster.as_ref()?;
        #[cfg(not(feature = "cluster"))]
        match **cluster {}
        #[cfg(feature = "cluster")]
        Some(cluster.stats())
    }

    /// The cluster, for a cluster client.
    pub(crate) fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.inner.cluster.as_ref()
    }

    /// A builder for every option.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Connects with a ready configuration.
    pub async fn from_config(config: Config) -> Result<Client> {
        Client::from_config_arc(Arc::new(config)).await
    }

    /// [`from_config`](Client::from_config) with a shared configuration.
    pub(crate) async fn from_config_arc(config: Arc<Config>) -> Result<Client> {
        let (demux, ops) = crate::pubsub::demux::shared();
        let (demux, tracker, invalidations) = match &config.tracking {
            None => (demux, None, None),
            Some(options) => {
                use crate::tracking;
                let tracker = Arc::new(tracking::Tracker::new(options.clone()));
                // RESP2: the invalidations come on a connection of their own.
                let invalidations = match config.protocol {
                    Protocol::Resp2 => Some(
                        Connection::connect_with(
                            config.clone(),
                            Kind::Reconnects,
                            tracking::redirect_demux(tracker.clone()),
                        )
                        .await?,
                    ),
                    Protocol::Resp3 => None,
                };
                let demux = tracking::wrap(demux, tracker.clone(), invalidations.is_some());
                (demux, Some(tracker), invalidations)
            }
        };
        let conn = Connection::connect_with(config.clone(), Kind::Reconnects, demux).await?;
        let pool = Pool::new(config.clone(), conn.clone());
        Ok(Client {
            inner: Arc::new(Inner {
                conn,
                ops,
                pool,
                config,
                cluster: None,
                tracker,
                _invalidations: invalidations,
            }),
        })
    }

    /// The counters of the client-side cache (see [`tracking`](crate::tracking));
    /// `None` when it is off. On a cluster client, the sum over the caches of the
    /// nodes connected so far.
    pub fn tracking_stats(&self) -> Option<crate::tracking::TrackingStats> {
        let Some(cluster) = &self.inner.cluster else {
            return self.inner.tracker.as_ref().map(|t| t.stats());
        };
        self.inner.config.tracking.as_ref()?;
        #[cfg(not(feature = "cluster"))]
        match **cluster {}
        #[cfg(feature = "cluster")]
        {
            let view = cluster.view();
            let nodes = view.all_nodes().filter_map(|n| n.client_if_connected());
            Some(nodes.filter_map(Client::tracking_stats).sum())
        }
    }

    /// Sends `buf` on the shared connection, through the client-side cache when
    /// it is on (a cluster node's client, for the cluster's reads); its reply frame.
    #[cfg(feature = "cluster")]
    pub(crate) async fn send_shared(
        &self,
        buf: crate::command::CommandBuf,
        limit: Option<Duration>,
    ) -> Result<bytes::Bytes> {
        use crate::tracking::Plan;
        let conn = &self.inner.conn;
        let Some(tracker) = &self.inner.tracker else {
            return conn.send(buf).within(limit).await;
        };
        let meta = {
            let args = buf.words();
            crate::command::meta::lookup_args(&args)
        };
        let mut buf = buf;
        let req = Request {
            buf: &mut buf,
            meta,
        };
        match tracker.plan(&req) {
            Plan::Hit(frame) => Ok(frame),
            Plan::Fill(fill) => {
                let reply = conn.send(buf).within(limit).await;
                if let Ok(frame) = &reply {
                    fill.complete(frame);
                }
                reply
            }
            Plan::Send => conn.send(buf).within(limit).await,
            Plan::Refuse(instead) => Err(Error::refused(instead)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The shared multiplexed connection.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// What the pool of dedicated connections holds right now.
    pub fn pool_status(&self) -> crate::pool::PoolStatus {
        self.inner.pool.status()
    }

    /// The configuration, shared.
    pub(crate) fn config_arc(&self) -> Arc<Config> {
        self.inner.config.clone()
    }

    /// Where subscribers on the shared connection send their operations.
    pub(crate) fn shared_ops(&self) -> &crate::pubsub::demux::Ops {
        &self.inner.ops
    }

    /// The pool of dedicated connections.
    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.inner.pool
    }

    /// Sends a detached command (`cmd::set("k", "v")`) and decodes its reply.
    pub fn send<C: Command>(&self, cmd: C) -> ResponseFuture<C::Output>
    where
        C::Output: Send + 'static,
    {
        let meta = cmd.meta();
        self.dispatch(Request {
            buf: &mut cmd.into_buf(),
            meta,
        })
    }

    /// A raw command for modules and commands newer than the spec:
    /// `client.cmd("JSON.GET").arg("doc").arg("$").await`.
    pub fn cmd(&self, name: impl ToArg) -> Raw<&Client> {
        Raw::new_in(self, name)
    }

    /// Sends `n` commands, encoded back to back in `cmds`, on the shared connection;
    /// returns their reply frames in order.
    pub(crate) async fn send_frames(
        &self,
        cmds: crate::command::Encoded,
        n: usize,
        longest: Option<LongestArg>,
    ) -> Result<Vec<bytes::Bytes>> {
        self.inner
            .conn
            .send_many(cmds, n, longest)
            .within(self.inner.config.request_timeout)
            .await
            .map_err(|e| e.with_command("pipeline"))
    }

    /// Sends an encoded command (used by the SCAN streams).
    pub(crate) fn send_buf<T: FromReply + Send + 'static>(
        &self,
        buf: crate::command::CommandBuf,
        meta: Option<&'static crate::command::CommandMeta>,
    ) -> ResponseFuture<T> {
        let mut buf = buf;
        self.dispatch(Request {
            buf: &mut buf,
            meta,
        })
    }

    fn dispatch<T: FromReply + Send + 'static>(&self, req: Request<'_>) -> ResponseFuture<T> {
        let name = req.name();
        if let Some(p) = req.buf.problem() {
            return ResponseFuture::failed(name, Error::invalid_argument(p.arg, p.problem));
        }
        #[cfg(feature = "cluster")]
        if let Some(cluster) = &self.inner.cluster {
            if let Some(instead) = route::refused_on_cluster(req.meta) {
                return ResponseFuture::failed(name, Error::refused(instead));
            }
            let (waits, dedicated) = match route::decide(req.meta, req.buf.len(), On::Shared) {
                Decision::Send { waits } => (waits, false),
                Decision::Taint => (false, false),
                Decision::Dedicated => (false, true),
                Decision::Refuse(instead) | Decision::Watching { instead, .. } => {
                    return ResponseFuture::failed(name, Error::refused(instead))
                }
            };
            let run = cluster
                .clone()
                .run(req.buf.take(), req.meta, waits, dedicated);
            return ResponseFuture::boxed(name, Box::pin(run));
        }
        match route::decide(req.meta, req.buf.len(), On::Shared) {
            // (`Taint` is for connections of one's own: the shared one is not pooled.)
            Decision::Send { waits: false } | Decision::Taint => {
                // Off, client-side caching costs this one branch.
                if let Some(tracker) = &self.inner.tracker {
                    return self.tracked(tracker, name, req);
                }
                ResponseFuture::waiting(
                    name,
                    self.inner.conn.send_from(req.buf, false),
                    self.inner.config.request_timeout,
                )
            }
            // WAIT and WAITAOF: on the shared connection, with no request timeout
            // shorter than their own, and no liveness rule while they wait.
            Decision::Send { waits: true } => {
                ResponseFuture::waiting(name, self.inner.conn.send_from(req.buf, true), None)
            }
            Decision::Dedicated => self.on_pooled(name, req),
            Decision::Refuse(instead) | Decision::Watching { instead, .. } => {
                ResponseFuture::failed(name, Error::refused(instead))
            }
        }
    }

    /// Sends a request through the client-side cache: a cached reply, or the
    /// server's (cached if it may be).
    fn tracked<T: FromReply + Send + 'static>(
        &self,
        tracker: &Arc<crate::tracking::Tracker>,
        name: std::borrow::Cow<'static, str>,
        req: Request<'_>,
    ) -> ResponseFuture<T> {
        use crate::tracking::Plan;
        let timeout = self.inner.config.request_timeout;
        match tracker.plan(&req) {
            Plan::Hit(frame) => ResponseFuture::cached(name, frame),
            Plan::Fill(fill) => ResponseFuture::filling(
                name,
                self.inner.conn.send_from(req.buf, false),
                timeout,
                fill,
            ),
            Plan::Send => {
                ResponseFuture::waiting(name, self.inner.conn.send_from(req.buf, false), timeout)
            }
            Plan::Refuse(instead) => ResponseFuture::failed(name, Error::refused(instead)),
        }
    }

    /// Runs a blocking command on a dedicated connection from the pool.
    fn on_pooled<T: FromReply + Send + 'static>(
        &self,
        name: std::borrow::Cow<'static, str>,
        req: Request<'_>,
    ) -> ResponseFuture<T> {
        let pool = self.inner.pool.clone();
        let buf = req.buf.take();
        ResponseFuture::boxed(
            name,
            Box::pin(async move { pool.get().await?.send(buf).await }),
        )
    }
}

impl Executor for &Client {
    type Future<T: FromReply + Send + 'static> = ResponseFuture<T>;

    fn execute<T: FromReply + Send + 'static>(self, request: Request<'_>) -> ResponseFuture<T> {
        self.dispatch(request)
    }
}

impl crate::reply::ReplyMode for &Client {
    type Out<T: crate::reply::TextReply> = T;
}

impl crate::Commands for Client {
    type Exec<'a> = &'a Client;
    type Out<T: crate::reply::TextReply> = T;

    fn executor(&self) -> &Client {
        self
    }
}

/// Builds a [`Client`] option by option; start from a URL or from defaults
/// (`127.0.0.1:6379`, RESP3, database 0).
#[derive(Default)]
#[must_use = "a builder does nothing until connect() is called"]
pub struct ClientBuilder {
    config: Config,
    error: Option<Error>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish()
    }
}

impl ClientBuilder {
    /// Takes every option from `url`; later calls override them.
    pub fn url(mut self, url: &str) -> Self {
        match Config::from_url(url) {
            Ok(c) => {
                self.config = Config {
                    push_hook: self.config.push_hook.take(),
                    ..c
                }
            }
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// TCP host and port.
    pub fn host(mut self, host: impl Into<String>, port: u16) -> Self {
        self.config.address = Address::Tcp {
            host: host.into(),
            port,
        };
        self
    }

    /// A Unix socket.
    pub fn unix(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.address = Address::Unix(path.into());
        self
    }

    /// TLS options (turns TLS on). Needs the `tls` feature (on by default): without
    /// it, [`build`](Self::build) and [`connect`](Self::connect) fail with a
    /// configuration error naming the feature.
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// ACL user name; without a [`password`](ClientBuilder::password) it
    /// authenticates with an empty one (see [`Client`], Credentials).
    pub fn username(mut self, user: impl Into<String>) -> Self {
        self.config.username = Some(user.into());
        self
    }

    /// Password.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.config.password = Some(password.into());
        self
    }

    /// Database number.
    pub fn database(mut self, db: i64) -> Self {
        self.config.database = db;
        self
    }

    /// `CLIENT SETNAME` on every connection.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.config.client_name = Some(name.into());
        self
    }

    /// RESP2 or RESP3.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.config.protocol = protocol;
        self
    }

    /// Connect (and handshake) timeout; `None` waits as long as the OS does.
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.config.connect_timeout = t;
        self
    }

    /// Request timeout for non-blocking commands; `None` (the default) waits forever.
    pub fn request_timeout(mut self, t: Option<Duration>) -> Self {
        self.config.request_timeout = t;
        self
    }

    /// Reconnection backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// Protocol limits (nesting depth, bulk and aggregate sizes).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Receives RESP3 push messages that are not replies.
    pub fn push_hook(mut self, hook: PushHook) -> Self {
        self.config.push_hook = Some(hook);
        self
    }

    /// TCP keepalive interval, 1 to 32767 seconds (fractions rounded up; checked by
    /// [`build`](ClientBuilder::build)); `None` disables it.
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.config.keepalive = interval;
        self
    }

    /// All the options of the pool of dedicated connections at once.
    pub fn pool(mut self, options: crate::pool::PoolOptions) -> Self {
        self.config.pool = options;
        self
    }

    /// Most dedicated connections open at once (blocking commands, `WATCH`); at
    /// least 1.
    pub fn pool_size(mut self, max: usize) -> Self {
        self.config.pool.max_size = max.max(1);
        self
    }

    /// How long a task waits for a dedicated connection when all are in use before
    /// failing with [`Error::is_pool_exhausted`]; `None` waits forever.
    pub fn pool_timeout(mut self, wait: Option<Duration>) -> Self {
        self.config.pool.wait_timeout = wait;
        self
    }

    /// How long a dedicated connection may stay idle before it is closed; `None`
    /// keeps it.
    pub fn pool_idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.config.pool.idle_timeout = idle;
        self
    }

    /// A dedicated connection idle for longer than this answers a `PING` before it
    /// is reused; zero checks on every checkout.
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.config.pool.health_check_interval = interval;
        self
    }

    /// The bound on the requests waiting to be written on a connection, and what a
    /// caller does when it is reached (default: 4096, wait for room).
    pub fn queue(mut self, options: QueueOptions) -> Self {
        self.config.queue = options;
        self
    }

    /// How long the shared connection may leave a written request unanswered, with
    /// nothing arriving, before it is replaced (default 10 s; `None`: never). See
    /// [`Config::liveness_timeout`].
    pub fn liveness_timeout(mut self, limit: Option<Duration>) -> Self {
        self.config.liveness_timeout = limit;
        self
    }

    /// Turns client-side caching on (see [`tracking`](crate::tracking)): the
    /// replies of reads of one key are cached, kept right by the server's
    /// invalidations.
    pub fn client_side_cache(mut self, options: crate::tracking::TrackingOptions) -> Self {
        self.config.tracking = Some(options);
        self
    }

    /// What requests not yet written do while the connection is being replaced
    /// (default [`HoldUnsent::Auto`]: held for a service behind sentinels, failed
    /// after a failed attempt otherwise). See [`Config::hold_unsent`].
    pub fn hold_unsent(mut self, hold: HoldUnsent) -> Self {
        self.config.hold_unsent = hold;
        self
    }

    /// The configuration built so far, checked: the first invalid option (a bad URL,
    /// a keepalive outside 1 to 32767 seconds, a negative database) is a
    /// configuration error naming it.
    pub fn build(self) -> Result<Config> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(interval) = self.config.keepalive {
            keepalive_time(interval, &format_args!("{interval:?}"))?;
        }
        if self.config.database < 0 {
            return Err(Error::config(format!(
                "`database` must be a non-negative number, got {}",
                self.config.database
            )));
        }
        #[cfg(not(feature = "tls"))]
        if self.config.tls.is_some() {
            return Err(crate::config::tls_unavailable());
        }
        Ok(self.config)
    }

    /// Connects.
    pub async fn connect(self) -> Result<Client> {
        Client::from_config(self.build()?).await
    }
}

/// The string view of a [`Client`] (coredis's `decode_responses=True`, decided by
/// type): every command replies with `String` where it would reply with `Bytes`,
/// checking UTF-8 — `client.strings().get("k")` is an `Option<String>`,
/// `client.strings().hgetall("h")` a `HashMap<String, String>`.
///
/// It shares the client's connections; make one whenever convenient.
#[derive(Debug, Clone, Copy)]
pub struct Strings<'c> {
    client: &'c Client,
}

impl Client {
    /// The string view of this client.
    pub fn strings(&self) -> Strings<'_> {
        Strings { client: self }
    }
}

impl<'c> Executor for Strings<'c> {
    type Future<T: FromReply + Send + 'static> = ResponseFuture<T>;

    fn execute<T: FromReply + Send + 'static>(self, request: Request<'_>) -> ResponseFuture<T> {
        self.client.dispatch(request)
    }
}

impl crate::reply::ReplyMode for Strings<'_> {
    type Out<T: crate::reply::TextReply> = T::Text;
}

impl crate::Commands for Strings<'_> {
    type Exec<'a>
        = Strings<'a>
    where
        Self: 'a;
    type Out<T: crate::reply::TextReply> = T::Text;

    fn executor(&self) -> Strings<'_> {
        *self
    }
}

/// Without the `cluster` or `sentinel` feature, every way of asking for one is a
/// configuration error naming the feature, returned before anything connects.
#[cfg(all(test, not(all(feature = "cluster", feature = "sentinel"))))]
mod without_features {
    use super::Client;
    use crate::error::Result;

    fn names_feature(result: Result<Client>, feature: &str, asked: &str) {
        let e = result.expect_err(asked);
        assert!(e.is_config(), "{asked}: {e}");
        assert!(
            e.to_string().contains(&format!("`{feature}` feature")),
            "{asked}: {e}"
        );
    }

    #[tokio::test]
    #[cfg(not(feature = "cluster"))]
    async fn a_cluster_without_the_feature_names_it() {
        // Port 1: were anything to connect, it would fail otherwise.
        for url in [
            "redis+cluster://127.0.0.1:1",
            "redis://127.0.0.1:1?cluster=auto",
            "redis://127.0.0.1:1?cluster=true",
        ] {
            names_feature(Client::connect(url).await, "cluster", url);
        }
        let seeds = ["redis://127.0.0.1:1"];
        names_feature(
            Client::connect_cluster(seeds).await,
            "cluster",
            "connect_cluster",
        );
        // `cluster=false` asks for no cluster: it goes on to connect (and fails there).
        let url = "redis://127.0.0.1:1?cluster=false";
        let e = Client::connect(url).await.expect_err(url);
        assert!(!e.to_string().contains("`cluster` feature"), "{e}");
    }

    #[tokio::test]
    #[cfg(not(feature = "sentinel"))]
    async fn a_sentinel_service_without_the_feature_names_it() {
        let url = "redis+sentinel://127.0.0.1:1/mymaster";
        names_feature(Client::connect(url).await, "sentinel", url);
        let connected = Client::connect_sentinel(
            ["127.0.0.1:1"],
            "mymaster",
            super::Config::default(),
            crate::sentinel::SentinelOptions::default(),
        )
        .await;
        names_feature(connected, "sentinel", "connect_sentinel");
    }
}
