//! [`SentinelGroup`]: a primary, its replicas and the sentinels that watch them, real
//! Valkey/Redis processes on loopback, set up by the harness itself over raw RESP (no
//! `valkey-cli`/`redis-cli`, no respec), with the operations fault tests need:
//! failover, kill, restart, freeze.
//!
//! # Forming
//!
//! [`SentinelGroupBuilder::start`] starts the primary, then at once the replicas
//! (`replicaof` in their config) and the sentinels (`--sentinel`, with `sentinel
//! monitor <service> 127.0.0.1 <primary port> <quorum>` and the timing lines), then
//! shortens the sentinels' internal periods ([`SentinelGroupBuilder::fast_timers`]), and
//! waits until the group has settled ([`SentinelGroup::wait_settled`]): every replica in
//! sync with the primary, and every sentinel agreeing on the primary and knowing every
//! replica and every other sentinel. Sentinels that do not know each other cannot
//! reach a quorum nor elect a leader: a failover would hang.
//!
//! # Waiting
//!
//! Every wait polls with a short backoff and is bounded by
//! [`SentinelGroupBuilder::timeout`]; a timeout is a [`HarnessError::Sentinel`] naming
//! the condition and what was last seen instead. No wait sleeps for a fixed time.
//!
//! # Indices
//!
//! Data nodes are addressed by their index in [`SentinelGroup::node`]: the first
//! primary is 0, its replicas 1..=N. Sentinels by theirs in
//! [`SentinelGroup::sentinel`]. An index stays valid for the group's life: a killed
//! process keeps its place and its ports. Roles change with failovers:
//! [`SentinelGroup::primary`] is the node the sentinels last agreed on.
//!
//! # TLS
//!
//! [`SentinelGroupBuilder::tls_sentinels`] gives the sentinels a TLS port for
//! clients (they keep their plain one, which they use between them: a sentinel
//! talks to its peers as it talks to the data nodes); [`SentinelGroupBuilder::tls`]
//! makes every process TLS-only, replication and the sentinels' links included. One
//! CA signs every certificate ([`SentinelGroup::tls_files`]); the group runs the
//! TLS-capable binary ([`binary::tls_binary`]). Ports: [`SentinelGroup::node_port`]
//! and [`SentinelGroup::sentinel_port`] are the ones the processes report,
//! [`SentinelGroup::sentinel_addrs`] the ones clients use.
//!
//! # What sentinels announce
//!
//! Nothing is hidden: a client may subscribe on a sentinel's own port to its events
//! (`+switch-master`, `+sdown`, ...). On loopback no `announce-ip` is needed: the
//! sentinels report the data nodes as `127.0.0.1` and their ports.
//!
//! ```no_run
//! use respec_tests::SentinelGroup;
//!
//! let Some(group) = SentinelGroup::builder().start_or_skip() else { return };
//! println!("ready in {:?}: {}", group.ready_time(), group.sentinel_service_url());
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use crate::binary;
use crate::cluster::NodeState;
use crate::error::HarnessError;
use crate::raw::Reply;
use crate::server::{Role, Server, ServerBuilder};
use crate::tls::TlsFiles;

/// The default bound of every wait ([`SentinelGroupBuilder::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default `down-after-milliseconds` ([`SentinelGroupBuilder::down_after`]).
pub const DEFAULT_DOWN_AFTER: Duration = Duration::from_millis(1000);
/// The default `failover-timeout` ([`SentinelGroupBuilder::failover_timeout`]).
pub const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_millis(3000);
/// The default service name ([`SentinelGroupBuilder::service_name`]).
pub const DEFAULT_SERVICE: &str = "mymaster";
/// The internal periods [`SentinelGroupBuilder::fast_timers`] gives every sentinel
/// (`SENTINEL DEBUG`, milliseconds; the defaults are 2000, 10000, 1000 and 30000):
/// hello messages (how sentinels find each other and spread a new configuration, and
/// 4 of them is how long a restarted old primary is left alone before it is made a
/// replica), `INFO` (how replicas and role changes are seen), asking the other
/// sentinels whether the primary is down, and how long a sentinel stays in TILT mode
/// (after a freeze, or a stall of this machine).
const FAST_TIMERS: [(&str, &str); 4] = [
    ("publish-period", "200"),
    ("info-period", "1000"),
    ("ask-period", "500"),
    ("tilt-period", "5000"),
];

/// Options for a sentinel group; [`SentinelGroupBuilder::start`] starts it.
#[derive(Debug, Clone)]
#[must_use]
pub struct SentinelGroupBuilder {
    replicas: usize,
    sentinels: usize,
    service: String,
    quorum: usize,
    down_after: Duration,
    failover_timeout: Duration,
    password: Option<String>,
    sentinel_password: Option<String>,
    fast_timers: bool,
    timeout: Duration,
    binary: Option<PathBuf>,
    node_config: Vec<String>,
    sentinel_config: Vec<String>,
    tls: Tls,
}

/// Where a group speaks TLS ([`SentinelGroupBuilder::tls_sentinels`],
/// [`SentinelGroupBuilder::tls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Tls {
    /// Nowhere.
    #[default]
    No,
    /// The sentinels take clients over TLS too; the data nodes are plain.
    Sentinels,
    /// Every process, with TLS only.
    Everywhere,
}

impl Default for SentinelGroupBuilder {
    fn default() -> Self {
        SentinelGroupBuilder {
            replicas: 2,
            sentinels: 3,
            service: DEFAULT_SERVICE.to_owned(),
            quorum: 2,
            down_after: DEFAULT_DOWN_AFTER,
            failover_timeout: DEFAULT_FAILOVER_TIMEOUT,
            password: None,
            sentinel_password: None,
            fast_timers: true,
            timeout: DEFAULT_TIMEOUT,
            binary: None,
            node_config: Vec::new(),
            sentinel_config: Vec::new(),
            tls: Tls::No,
        }
    }
}

impl SentinelGroupBuilder {
    /// A builder with the defaults: 1 primary, 2 replicas, 3 sentinels watching the
    /// service `mymaster` with quorum 2, `down-after-milliseconds` 1000,
    /// `failover-timeout` 3000, fast timers, no passwords.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of replicas of the primary.
    pub fn replicas(mut self, count: usize) -> Self {
        self.replicas = count;
        self
    }

    /// The number of sentinels (at least 1).
    pub fn sentinels(mut self, count: usize) -> Self {
        assert!(count >= 1, "a sentinel group needs a sentinel");
        self.sentinels = count;
        self
    }

    /// The name the sentinels monitor the primary under (default `mymaster`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service = name.into();
        self
    }

    /// How many sentinels must agree that the primary is down (default 2).
    pub fn quorum(mut self, quorum: usize) -> Self {
        assert!(quorum >= 1, "the quorum is at least 1");
        self.quorum = quorum;
        self
    }

    /// `down-after-milliseconds` (whole milliseconds): how long an instance may not
    /// answer before a sentinel takes it as down.
    pub fn down_after(mut self, after: Duration) -> Self {
        self.down_after = after;
        self
    }

    /// `failover-timeout` (whole milliseconds): bounds an election and the
    /// reconfiguration of the replicas; a failed attempt is retried after twice this.
    pub fn failover_timeout(mut self, timeout: Duration) -> Self {
        self.failover_timeout = timeout;
        self
    }

    /// Requires this password on every data node (`requirepass`, and `masterauth` so
    /// replicas can sync); the sentinels authenticate with it (`sentinel auth-pass`).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Requires this password on every sentinel (`requirepass` in the sentinel config;
    /// the sentinels use it with each other too), separate from the data nodes'.
    pub fn sentinel_password(mut self, password: impl Into<String>) -> Self {
        self.sentinel_password = Some(password.into());
        self
    }

    /// Whether the sentinels' internal periods are shortened with `SENTINEL DEBUG`
    /// (default: yes, on servers that have it, Redis 7.0 and Valkey): sentinels find
    /// each other in a fraction of a second instead of seconds, a failover is agreed
    /// on sooner, and a restarted old primary is turned into a replica after about a
    /// second instead of eight.
    pub fn fast_timers(mut self, fast: bool) -> Self {
        self.fast_timers = fast;
        self
    }

    /// The bound of every wait of the group: forming it, and each operation's wait
    /// (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs this binary (for data nodes and sentinels) instead of the one the harness
    /// finds ([`binary::try_binary`]).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Appends a config line to every data node's config (see
    /// [`ServerBuilder::config`]), for example an ACL `user` line.
    pub fn node_config(mut self, line: impl Into<String>) -> Self {
        self.node_config.push(line.into());
        self
    }

    /// Appends a config line to every sentinel's config, after the harness's
    /// `sentinel` lines (for example `sentinel auth-user <service> <user>`).
    pub fn sentinel_config(mut self, line: impl Into<String>) -> Self {
        self.sentinel_config.push(line.into());
        self
    }

    /// The sentinels take clients over TLS as well as in plain (`tls-port` besides
    /// `port`), with certificates of a CA the group generates
    /// ([`SentinelGroup::tls_files`]); the data nodes stay plain.
    ///
    /// The plain port stays because a sentinel talks to the other sentinels the way
    /// it talks to the data nodes (`tls-replication`, here `no`), and announces that
    /// port to them: sentinels listening with TLS only (`port 0`) could not reach
    /// each other, so they could not agree on a failover. Clients use the TLS ports
    /// ([`SentinelGroup::sentinel_addrs`]); `SENTINEL SENTINELS` lists the plain ones.
    pub fn tls_sentinels(mut self) -> Self {
        self.tls = Tls::Sentinels;
        self
    }

    /// Every data node and sentinel listens with TLS only (`port 0`, `tls-port`),
    /// with certificates of a CA the group generates ([`SentinelGroup::tls_files`]):
    /// replicas sync from the primary and sentinels talk to the data nodes and to
    /// each other over TLS (`tls-replication yes`, presenting the client
    /// certificate). The harness reaches each process over a Unix socket.
    pub fn tls(mut self) -> Self {
        self.tls = Tls::Everywhere;
        self
    }

    /// Starts the group and waits until it has settled (see the [module
    /// docs](self)).
    pub fn start(self) -> Result<SentinelGroup, HarnessError> {
        let started = Instant::now();
        let binary = match &self.binary {
            Some(path) => path.clone(),
            None if self.tls != Tls::No => binary::tls_binary()?,
            None => binary::try_binary()?,
        };
        let tls = match self.tls {
            Tls::No => None,
            _ => {
                let dir = tempfile::Builder::new()
                    .prefix("respec-sentinel-tls-")
                    .tempdir()
                    .map_err(|err| HarnessError::io("creating the certificates' dir", err))?;
                let files = TlsFiles::generate(dir.path())?;
                Some((dir, files))
            }
        };
        let files = tls.as_ref().map(|(_, files)| files);
        let primary = self.node_builder(&binary, files).start()?;
        let primary_port = self.tls.peer_port(&primary);
        let replica = self
            .node_builder(&binary, files)
            .config(format!("replicaof 127.0.0.1 {primary_port}"));
        let sentinel = self.sentinel_builder(&binary, files, primary_port);
        let (replicas, sentinels) = thread::scope(|scope| {
            let replicas: Vec<_> = (0..self.replicas)
                .map(|_| {
                    let builder = replica.clone();
                    scope.spawn(move || builder.start())
                })
                .collect();
            let sentinels: Vec<_> = (0..self.sentinels)
                .map(|_| {
                    let builder = sentinel.clone();
                    scope.spawn(move || builder.start())
                })
                .collect();
            let join = |handles: Vec<thread::ScopedJoinHandle<'_, _>>| {
                handles
                    .into_iter()
                    .map(|h| h.join().expect("starting a server panicked"))
                    .collect::<Result<Vec<Server>, HarnessError>>()
            };
            (join(replicas), join(sentinels))
        });
        let mut nodes = vec![Member::new(primary)];
        nodes.extend(replicas?.into_iter().map(Member::new));
        let sentinels = sentinels?.into_iter().map(Member::new).collect();
        let mut group = SentinelGroup {
            nodes,
            sentinels,
            primary: 0,
            options: self,
            ready_time: Duration::ZERO,
            tls,
        };
        for j in 0..group.sentinels.len() {
            group.speed_up(j)?;
        }
        group.wait_settled()?;
        group.ready_time = started.elapsed();
        Ok(group)
    }

    /// Starts the group, or returns `None` after reporting why ([`crate::skip`]) when
    /// it cannot run on this machine ([`HarnessError::is_unavailable`]). Panics on any
    /// other failure.
    pub fn start_or_skip(self) -> Option<SentinelGroup> {
        crate::or_skip(self.start())
    }

    /// The builder of a data node.
    fn node_builder(&self, binary: &std::path::Path, tls: Option<&TlsFiles>) -> ServerBuilder {
        let mut builder = self
            .tls
            .node_tls(ServerBuilder::new(), tls)
            .binary(binary)
            // Redis 7.0 syncs replicas diskless after a 5 s delay by default.
            .config("repl-diskless-sync-delay 0")
            .config("repl-ping-replica-period 1");
        if let Some(password) = &self.password {
            builder = builder
                .password(password)
                .config(format!("masterauth {}", config_quote(password)));
        }
        for line in &self.node_config {
            builder = builder.config(line);
        }
        builder
    }

    /// The builder of a sentinel watching the primary on `primary_port`.
    fn sentinel_builder(
        &self,
        binary: &std::path::Path,
        tls: Option<&TlsFiles>,
        primary_port: u16,
    ) -> ServerBuilder {
        let name = &self.service;
        let mut builder = self
            .tls
            .sentinel_tls(ServerBuilder::new(), tls)
            .binary(binary)
            .role(Role::Sentinel)
            .config(format!(
                "sentinel monitor {name} 127.0.0.1 {primary_port} {}",
                self.quorum
            ))
            .config(format!(
                "sentinel down-after-milliseconds {name} {}",
                self.down_after.as_millis()
            ))
            .config(format!(
                "sentinel failover-timeout {name} {}",
                self.failover_timeout.as_millis()
            ))
            .config(format!("sentinel parallel-syncs {name} 1"));
        if let Some(password) = &self.password {
            builder = builder.config(format!(
                "sentinel auth-pass {name} {}",
                config_quote(password)
            ));
        }
        if let Some(password) = &self.sentinel_password {
            builder = builder.password(password);
        }
        for line in &self.sentinel_config {
            builder = builder.config(line);
        }
        builder
    }
}

impl Tls {
    /// The TLS settings of a data node.
    fn node_tls(self, builder: ServerBuilder, files: Option<&TlsFiles>) -> ServerBuilder {
        match (self, files) {
            (Tls::Everywhere, Some(files)) => Self::tls_only(builder, files),
            _ => builder,
        }
    }

    /// The TLS settings of a sentinel.
    fn sentinel_tls(self, builder: ServerBuilder, files: Option<&TlsFiles>) -> ServerBuilder {
        match (self, files) {
            (Tls::Everywhere, Some(files)) => Self::tls_only(builder, files),
            (Tls::Sentinels, Some(files)) => builder.tls_files(files.clone()).plain_port_too(),
            _ => builder,
        }
    }

    /// TLS only, reached by the harness over a Unix socket; connecting to the others
    /// over TLS too, with the client certificate (the server one is not valid for a
    /// client: the other side, verifying it, would refuse it).
    fn tls_only(builder: ServerBuilder, files: &TlsFiles) -> ServerBuilder {
        let path = |p: &std::path::Path| config_quote(&p.to_string_lossy());
        builder
            .tls_files(files.clone())
            .unix_socket()
            .config("tls-replication yes")
            .config(format!("tls-client-cert-file {}", path(&files.client_cert)))
            .config(format!("tls-client-key-file {}", path(&files.client_key)))
    }

    /// The port the processes of the group use between them, and report: the TLS one
    /// when they speak TLS to each other.
    fn peer_port(self, server: &Server) -> u16 {
        match self {
            Tls::Everywhere => server.tls_port(),
            Tls::No | Tls::Sentinels => server.port(),
        }
    }
}

/// A process of a [`SentinelGroup`] and its [`NodeState`].
#[derive(Debug)]
struct Member {
    server: Server,
    state: NodeState,
}

impl Member {
    fn new(server: Server) -> Self {
        Member {
            server,
            state: NodeState::Running,
        }
    }
}

/// What a failover did: which node was the primary, which is now, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failover {
    /// The index of the old primary.
    pub old: usize,
    /// The index of the new primary, once the group had settled (usually the node
    /// first promoted; another one if the sentinels failed over again meanwhile).
    pub new: usize,
    /// From the start of the operation (the kill, or `SENTINEL FAILOVER`) until every
    /// running sentinel reported the new primary and it reported itself a primary.
    pub promoted_after: Duration,
    /// From the start of the operation until the group had settled again
    /// ([`SentinelGroup::wait_settled`]).
    pub settled_after: Duration,
}

/// Why a poll of [`SentinelGroup::poll`] has not succeeded yet: what was seen instead.
type Pending = String;

/// A settled group of data nodes and sentinels on loopback; every process is killed
/// when it is dropped. See the [module docs](self).
#[derive(Debug)]
pub struct SentinelGroup {
    nodes: Vec<Member>,
    sentinels: Vec<Member>,
    /// The index of the node the sentinels last agreed is the primary.
    primary: usize,
    options: SentinelGroupBuilder,
    ready_time: Duration,
    /// The certificates of a group with TLS, and their dir (deleted with the group).
    tls: Option<(tempfile::TempDir, TlsFiles)>,
}

impl SentinelGroup {
    /// A builder, the same as [`SentinelGroupBuilder::new`].
    pub fn builder() -> SentinelGroupBuilder {
        SentinelGroupBuilder::new()
    }

    /// How long [`SentinelGroupBuilder::start`] took, from starting the first process
    /// to the group having settled.
    pub fn ready_time(&self) -> Duration {
        self.ready_time
    }

    /// The name the sentinels monitor the primary under.
    pub fn service_name(&self) -> &str {
        &self.options.service
    }

    /// The quorum the sentinels were configured with.
    pub fn quorum(&self) -> usize {
        self.options.quorum
    }

    /// The password of the data nodes, if any.
    pub fn password(&self) -> Option<&str> {
        self.options.password.as_deref()
    }

    /// The password of the sentinels, if any.
    pub fn sentinel_password(&self) -> Option<&str> {
        self.options.sentinel_password.as_deref()
    }

    /// The index of the primary: the node every running sentinel agreed on when the
    /// harness last asked (at start, and after each failover it waited for).
    pub fn primary(&self) -> usize {
        self.primary
    }

    /// The indices of the running data nodes other than the primary.
    pub fn replicas(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| i != self.primary && self.nodes[i].state == NodeState::Running)
            .collect()
    }

    /// The number of data nodes (primary and replicas, whatever their state).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The number of sentinels (whatever their state).
    pub fn sentinel_count(&self) -> usize {
        self.sentinels.len()
    }

    /// The data node at `index`.
    pub fn node(&self, index: usize) -> &Server {
        &self.nodes[index].server
    }

    /// The sentinel at `index`.
    pub fn sentinel(&self, index: usize) -> &Server {
        &self.sentinels[index].server
    }

    /// Whether the data node at `index` runs, is frozen or killed.
    pub fn node_state(&self, index: usize) -> NodeState {
        self.nodes[index].state
    }

    /// Whether the sentinel at `index` runs, is frozen or killed.
    pub fn sentinel_state(&self, index: usize) -> NodeState {
        self.sentinels[index].state
    }

    /// The certificates of a group with TLS ([`SentinelGroupBuilder::tls`],
    /// [`SentinelGroupBuilder::tls_sentinels`]): trust its CA.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref().map(|(_, files)| files)
    }

    /// The port of the data node at `index` that the sentinels report and the
    /// replicas use (its TLS port in a group with TLS everywhere).
    pub fn node_port(&self, index: usize) -> u16 {
        self.options.tls.peer_port(&self.nodes[index].server)
    }

    /// The index of the data node listening on `port` ([`node_port`](Self::node_port)).
    pub fn index_of_port(&self, port: u16) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| self.node_port(i) == port)
    }

    /// The URLs (without credentials) of every data node, by index:
    /// `rediss://127.0.0.1:TLS_PORT` in a group with TLS everywhere (trust
    /// [`tls_files`](Self::tls_files)' CA), else `redis://127.0.0.1:PORT`.
    pub fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| self.url_of(&n.server)).collect()
    }

    /// The URL of the primary ([`primary`](Self::primary)), as
    /// [`node_urls`](Self::node_urls).
    pub fn primary_url(&self) -> String {
        self.url_of(&self.nodes[self.primary].server)
    }

    /// The addresses clients reach the running sentinels at: their TLS ports when
    /// they take TLS, else their plain ones.
    pub fn sentinel_addrs(&self) -> Vec<SocketAddr> {
        self.running_sentinels()
            .map(|j| {
                let server = &self.sentinels[j].server;
                match self.options.tls {
                    Tls::No => server.addr(),
                    Tls::Sentinels | Tls::Everywhere => {
                        SocketAddr::from(([127, 0, 0, 1], server.tls_port()))
                    }
                }
            })
            .collect()
    }

    /// The URLs (without credentials) of the running sentinels, at
    /// [`sentinel_addrs`](Self::sentinel_addrs) (`rediss://` when they take TLS).
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.running_sentinels()
            .map(|j| self.url_of(&self.sentinels[j].server))
            .collect()
    }

    /// `redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,.../SERVICE`: the running
    /// sentinels and the service name, without credentials; `rediss+sentinel://` and
    /// the TLS ports in a group with TLS everywhere (add `?ca=` with
    /// [`tls_files`](Self::tls_files)' CA). With TLS sentinels and plain data nodes,
    /// the sentinels' plain ports: a URL's TLS is the sentinels' and the data
    /// nodes' alike.
    pub fn sentinel_service_url(&self) -> String {
        let hosts: Vec<String> = self
            .running_sentinels()
            .map(|j| format!("127.0.0.1:{}", self.sentinel_port(j)))
            .collect();
        let scheme = match self.options.tls {
            Tls::Everywhere => "rediss",
            Tls::No | Tls::Sentinels => "redis",
        };
        format!(
            "{scheme}+sentinel://{}/{}",
            hosts.join(","),
            self.options.service
        )
    }

    /// The port of the sentinel at `index` that the other sentinels know it by
    /// (`SENTINEL SENTINELS`): its TLS port in a group with TLS everywhere.
    pub fn sentinel_port(&self, index: usize) -> u16 {
        self.options.tls.peer_port(&self.sentinels[index].server)
    }

    /// A server's URL for clients: TLS when it takes TLS.
    fn url_of(&self, server: &Server) -> String {
        match (self.options.tls, server.tls_files()) {
            (Tls::No, _) | (_, None) => server.url(),
            (_, Some(_)) => server.tls_url(),
        }
    }

    /// Sends a command to the data node at `index` over a fresh raw connection
    /// (authenticated when the nodes have a password). A server error is
    /// `Ok(Reply::Error)`; an I/O error names the node and the command.
    pub fn query<A: AsRef<[u8]>>(&self, index: usize, args: &[A]) -> Result<Reply, HarnessError> {
        self.ask_node(index, args).map_err(HarnessError::Sentinel)
    }

    /// Sends a command to the sentinel at `index` over a fresh raw connection
    /// (authenticated when the sentinels have a password); see [`query`](Self::query).
    pub fn sentinel_query<A: AsRef<[u8]>>(
        &self,
        index: usize,
        args: &[A],
    ) -> Result<Reply, HarnessError> {
        self.ask_sentinel(index, args)
            .map_err(HarnessError::Sentinel)
    }

    /// The run id of the sentinel at `index` (`SENTINEL MYID`, 40 hex digits).
    pub fn sentinel_id(&self, index: usize) -> Result<String, HarnessError> {
        self.sentinel_text(index, &["SENTINEL", "MYID"])
            .map_err(HarnessError::Sentinel)
    }

    /// The primary's address as the sentinel at `index` reports it
    /// (`SENTINEL GET-MASTER-ADDR-BY-NAME`), or `None` when it knows no such service.
    pub fn primary_addr_seen_by(&self, index: usize) -> Result<Option<SocketAddr>, HarnessError> {
        self.reported_primary(index).map_err(HarnessError::Sentinel)
    }

    /// The `cmd=` of every client of the sentinel at `index` but the asking one (`CLIENT
    /// LIST`): the last command each connection ran (`sentinel|myid`), by client name
    /// (empty when it set none).
    ///
    /// A sentinel has no `INFO commandstats`, so this is how its commands are counted
    /// for `cargo xtask coverage --exercised`: the names seen are also saved where
    /// [`Server`] saves the data nodes' statistics.
    pub fn last_commands(&self, index: usize) -> Result<Vec<(String, String)>, HarnessError> {
        let text = self
            .sentinel_text(index, &["CLIENT", "LIST"])
            .map_err(HarnessError::Sentinel)?;
        let mut seen = Vec::new();
        for line in text.lines() {
            let field = |name: &str| {
                line.split(' ')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .unwrap_or_default()
                    .to_owned()
            };
            let cmd = field("cmd");
            if cmd != "client|list" && !cmd.is_empty() && cmd != "NULL" {
                seen.push((field("name"), cmd));
            }
        }
        self.save_commands(index, seen.iter().map(|(_, cmd)| cmd.as_str()));
        Ok(seen)
    }

    /// Waits until the group has settled, and returns the primary's index: every
    /// running sentinel reports the same primary, which reports itself a primary
    /// (`role:master`), and sees it up (`SENTINEL MASTER` flags `master` only), every
    /// other running data node up as its replica (`SENTINEL REPLICAS`, link to the
    /// primary `ok`) and every other running sentinel (`SENTINEL SENTINELS`, not down);
    /// every running replica is in sync with the primary (`master_link_status:up`).
    /// Frozen processes are not asked, and may be seen in any state.
    pub fn wait_settled(&mut self) -> Result<usize, HarnessError> {
        let primary = self.poll("the sentinel group settles", || self.check_settled())?;
        self.primary = primary;
        Ok(primary)
    }

    /// Waits until every running sentinel reports the same primary, other than the
    /// node at `old`, and that node reports itself a primary; returns its index (also
    /// [`primary`](Self::primary) from then on).
    pub fn wait_primary_changed(&mut self, old: usize) -> Result<usize, HarnessError> {
        let what = format!(
            "the sentinels promote a node other than {}",
            self.label(old)
        );
        let new = self.poll(&what, || {
            let primary = self.agreed_primary()?;
            if primary == old {
                return Err(format!("every sentinel still reports {}", self.label(old)));
            }
            self.check_role_master(primary)?;
            Ok(primary)
        })?;
        self.primary = new;
        Ok(new)
    }

    /// Waits until the data node at `index` is a replica of the current primary in
    /// sync with it (`role:slave`, its `master_port`, `master_link_status:up`): what an
    /// old primary becomes when it comes back, once the sentinels have turned it.
    pub fn wait_replica(&self, index: usize) -> Result<(), HarnessError> {
        self.poll(
            &format!("{} replicates the primary", self.label(index)),
            || self.check_replica(index, self.primary),
        )
    }

    /// Forces a failover with `SENTINEL FAILOVER <service>` on the first running
    /// sentinel (no agreement needed), waits until the primary has changed
    /// ([`wait_primary_changed`](Self::wait_primary_changed)), then until the group has
    /// settled (the old primary turned into a replica).
    pub fn failover(&mut self) -> Result<Failover, HarnessError> {
        let started = Instant::now();
        let old = self.primary;
        let sentinel = self.first_running_sentinel()?;
        let service = self.options.service.clone();
        match self
            .ask_sentinel(sentinel, &["SENTINEL", "FAILOVER", &service])
            .map_err(HarnessError::Sentinel)?
        {
            Reply::Status(_) => {}
            other => {
                return Err(HarnessError::Sentinel(format!(
                    "SENTINEL FAILOVER on {}: {other:?}",
                    self.sentinel_label(sentinel)
                )))
            }
        }
        self.finish_failover(old, started)
    }

    /// Kills the primary with SIGKILL, waits until the sentinels have promoted a
    /// replica ([`wait_primary_changed`](Self::wait_primary_changed)), then until the
    /// group has settled without it.
    pub fn kill_primary(&mut self) -> Result<Failover, HarnessError> {
        let started = Instant::now();
        let old = self.primary;
        self.kill_node(old);
        self.finish_failover(old, started)
    }

    /// Kills the data node at `index` with SIGKILL ([`Server::kill`]); it keeps its
    /// index and ports. Nothing is waited for.
    pub fn kill_node(&mut self, index: usize) {
        Self::change(
            &mut self.nodes[index],
            &[NodeState::Running, NodeState::Frozen, NodeState::Killed],
            Server::kill,
            NodeState::Killed,
        );
    }

    /// Restarts the data node at `index` with its config file as it is now (a sentinel
    /// may have rewritten it: `replicaof`), on its ports and dir, without its data,
    /// and waits until the group has settled: an old primary comes back as a primary,
    /// and the sentinels turn it into a replica of the current one.
    pub fn restart_node(&mut self, index: usize) -> Result<(), HarnessError> {
        Self::change(
            &mut self.nodes[index],
            &[NodeState::Running, NodeState::Frozen, NodeState::Killed],
            Server::restart,
            NodeState::Running,
        );
        self.wait_settled()?;
        Ok(())
    }

    /// Freezes the data node at `index` with SIGSTOP ([`Server::pause`]): it keeps its
    /// connections but answers nothing until [`thaw_node`](Self::thaw_node). A frozen
    /// primary is taken as down by the sentinels like a killed one.
    pub fn freeze_node(&mut self, index: usize) {
        Self::change(
            &mut self.nodes[index],
            &[NodeState::Running],
            Server::pause,
            NodeState::Frozen,
        );
    }

    /// Lets a frozen data node run again (SIGCONT). Nothing is waited for: see
    /// [`wait_settled`](Self::wait_settled).
    pub fn thaw_node(&mut self, index: usize) {
        Self::change(
            &mut self.nodes[index],
            &[NodeState::Frozen],
            Server::resume,
            NodeState::Running,
        );
    }

    /// Kills the sentinel at `index` with SIGKILL; it keeps its index, ports and
    /// config file (which holds its id, the current epoch and what it knew).
    pub fn kill_sentinel(&mut self, index: usize) {
        Self::change(
            &mut self.sentinels[index],
            &[NodeState::Running, NodeState::Frozen, NodeState::Killed],
            Server::kill,
            NodeState::Killed,
        );
    }

    /// Restarts the sentinel at `index` from its config file (as the sentinel last
    /// rewrote it: same port, same id), shortens its timers again, and waits until the
    /// group has settled (it knows the primary, the replicas and the other sentinels).
    pub fn restart_sentinel(&mut self, index: usize) -> Result<(), HarnessError> {
        Self::change(
            &mut self.sentinels[index],
            &[NodeState::Running, NodeState::Frozen, NodeState::Killed],
            Server::restart,
            NodeState::Running,
        );
        self.speed_up(index)?;
        self.wait_settled()?;
        Ok(())
    }

    /// Freezes the sentinel at `index` with SIGSTOP until
    /// [`thaw_sentinel`](Self::thaw_sentinel).
    pub fn freeze_sentinel(&mut self, index: usize) {
        Self::change(
            &mut self.sentinels[index],
            &[NodeState::Running],
            Server::pause,
            NodeState::Frozen,
        );
    }

    /// Lets a frozen sentinel run again (SIGCONT). It sees the time jump and stays in
    /// TILT mode for a while (5 s with fast timers, else 30 s): it watches but does
    /// not act.
    pub fn thaw_sentinel(&mut self, index: usize) {
        Self::change(
            &mut self.sentinels[index],
            &[NodeState::Frozen],
            Server::resume,
            NodeState::Running,
        );
    }

    /// Waits for the failover that began at `started` away from `old`.
    fn finish_failover(&mut self, old: usize, started: Instant) -> Result<Failover, HarnessError> {
        self.wait_primary_changed(old)?;
        let promoted_after = started.elapsed();
        // Usually the node promoted; another one if the sentinels failed over again
        // meanwhile (a new primary that stalls for `down-after` on a loaded machine).
        let new = self.wait_settled()?;
        Ok(Failover {
            old,
            new,
            promoted_after,
            settled_after: started.elapsed(),
        })
    }

    /// Applies `change` to a member's server and records its new state.
    /// Panics when the member is not in one of the states `from`.
    fn change(member: &mut Member, from: &[NodeState], change: fn(&mut Server), to: NodeState) {
        assert!(
            from.contains(&member.state),
            "{} is {:?}, not one of {from:?}",
            member.server.config_path().display(),
            member.state
        );
        change(&mut member.server);
        member.state = to;
    }

    /// Shortens the sentinel's timers ([`SentinelGroupBuilder::fast_timers`]), if
    /// asked and the server has `SENTINEL DEBUG`.
    fn speed_up(&self, index: usize) -> Result<(), HarnessError> {
        if !self.options.fast_timers {
            return Ok(());
        }
        let mut args = vec!["SENTINEL", "DEBUG"];
        for (name, value) in FAST_TIMERS {
            args.extend([name, value]);
        }
        match self
            .ask_sentinel(index, &args)
            .map_err(HarnessError::Sentinel)?
        {
            Reply::Status(_) => Ok(()),
            // Before Redis 7.0: the default timers.
            Reply::Error(err) if err.to_ascii_lowercase().contains("unknown") => Ok(()),
            other => Err(HarnessError::Sentinel(format!(
                "SENTINEL DEBUG on {}: {other:?}",
                self.sentinel_label(index)
            ))),
        }
    }

    /// One check of [`wait_settled`](Self::wait_settled): the primary, or why the group
    /// has not settled.
    fn check_settled(&self) -> Result<usize, Pending> {
        let primary = self.agreed_primary()?;
        self.check_role_master(primary)?;
        let running: Vec<usize> = self.running_sentinels().collect();
        for &j in &running {
            let master = self.sentinel_fields(j, "MASTER")?;
            let flags = master.get("flags").map_or("", String::as_str);
            if !healthy(flags, "master") {
                return Err(format!(
                    "{} sees the primary with flags {flags}",
                    self.sentinel_label(j)
                ));
            }
            let replicas = self.sentinel_list(j, "REPLICAS")?;
            for i in (0..self.nodes.len())
                .filter(|&i| i != primary && self.nodes[i].state == NodeState::Running)
            {
                let port = self.node_port(i).to_string();
                let Some(entry) = replicas.iter().find(|e| e.get("port") == Some(&port)) else {
                    return Err(format!(
                        "{} does not list {} as a replica",
                        self.sentinel_label(j),
                        self.label(i)
                    ));
                };
                let flags = entry.get("flags").map_or("", String::as_str);
                let link = entry.get("master-link-status").map_or("", String::as_str);
                if !healthy(flags, "slave") || link != "ok" {
                    return Err(format!(
                        "{} sees replica {} with flags {flags}, master link {link}",
                        self.sentinel_label(j),
                        self.label(i)
                    ));
                }
            }
            let others = self.sentinel_list(j, "SENTINELS")?;
            for &k in running.iter().filter(|&&k| k != j) {
                let port = self.sentinel_port(k).to_string();
                let Some(entry) = others.iter().find(|e| e.get("port") == Some(&port)) else {
                    return Err(format!(
                        "{} does not know {}",
                        self.sentinel_label(j),
                        self.sentinel_label(k)
                    ));
                };
                let flags = entry.get("flags").map_or("", String::as_str);
                if !healthy(flags, "sentinel") {
                    return Err(format!(
                        "{} sees {} with flags {flags}",
                        self.sentinel_label(j),
                        self.sentinel_label(k)
                    ));
                }
            }
        }
        for i in (0..self.nodes.len())
            .filter(|&i| i != primary && self.nodes[i].state == NodeState::Running)
        {
            self.check_replica(i, primary)?;
        }
        Ok(primary)
    }

    /// The primary every running sentinel reports, as a node index.
    fn agreed_primary(&self) -> Result<usize, Pending> {
        let mut agreed: Option<(usize, usize)> = None;
        for j in self.running_sentinels() {
            let addr = self.reported_primary(j)?.ok_or_else(|| {
                format!(
                    "{} knows no service {}",
                    self.sentinel_label(j),
                    self.options.service
                )
            })?;
            let node = self
                .index_of_port(addr.port())
                .ok_or_else(|| format!("{} reports unknown {addr}", self.sentinel_label(j)))?;
            match agreed {
                None => agreed = Some((j, node)),
                Some((first, seen)) if seen != node => {
                    return Err(format!(
                        "{} reports {}, {} reports {}",
                        self.sentinel_label(first),
                        self.label(seen),
                        self.sentinel_label(j),
                        self.label(node)
                    ))
                }
                Some(_) => {}
            }
        }
        agreed
            .map(|(_, node)| node)
            .ok_or_else(|| "no sentinel is running".to_owned())
    }

    /// Whether the node at `index` runs and reports itself a primary.
    fn check_role_master(&self, index: usize) -> Result<(), Pending> {
        if self.nodes[index].state != NodeState::Running {
            return Err(format!(
                "the sentinels report {}, which is {:?}",
                self.label(index),
                self.nodes[index].state
            ));
        }
        let info = self.node_text(index, &["INFO", "replication"])?;
        if info.lines().any(|l| l.trim() == "role:master") {
            Ok(())
        } else {
            Err(format!("{} is not a primary yet", self.label(index)))
        }
    }

    /// Whether the node at `index` is a replica of the node at `primary`, in sync.
    fn check_replica(&self, index: usize, primary: usize) -> Result<(), Pending> {
        let info = self.node_text(index, &["INFO", "replication"])?;
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map_or("", str::trim)
        };
        let port = self.node_port(primary).to_string();
        let (role, master_port, link) = (
            field("role"),
            field("master_port"),
            field("master_link_status"),
        );
        if role == "slave" && master_port == port && link == "up" {
            Ok(())
        } else {
            Err(format!(
                "{} reports role:{role} master_port:{master_port} master_link_status:{link} \
                 (the primary is {})",
                self.label(index),
                self.label(primary)
            ))
        }
    }

    /// The primary's address as the sentinel at `index` reports it.
    fn reported_primary(&self, index: usize) -> Result<Option<SocketAddr>, Pending> {
        let service = self.options.service.as_str();
        let reply = self.ask_sentinel(index, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", service])?;
        match &reply {
            Reply::Array(None) | Reply::Bulk(None) => Ok(None),
            Reply::Array(Some(parts)) if parts.len() == 2 => {
                let (ip, port) = (parts[0].text(), parts[1].text());
                let addr = ip
                    .zip(port)
                    .and_then(|(ip, port)| format!("{ip}:{port}").parse().ok());
                addr.map(Some).ok_or_else(|| {
                    format!(
                        "{}: unexpected GET-MASTER-ADDR-BY-NAME reply {reply:?}",
                        self.sentinel_label(index)
                    )
                })
            }
            other => Err(format!(
                "{}: unexpected GET-MASTER-ADDR-BY-NAME reply {other:?}",
                self.sentinel_label(index)
            )),
        }
    }

    /// `SENTINEL <sub> <service>` on the sentinel at `index`, for a reply that is one
    /// field list (`MASTER`).
    fn sentinel_fields(
        &self,
        index: usize,
        sub: &str,
    ) -> Result<BTreeMap<String, String>, Pending> {
        let reply = self.ask_sentinel(index, &["SENTINEL", sub, &self.options.service])?;
        fields(&reply).ok_or_else(|| {
            format!(
                "SENTINEL {sub} on {}: unexpected {reply:?}",
                self.sentinel_label(index)
            )
        })
    }

    /// `SENTINEL <sub> <service>` on the sentinel at `index`, for a reply that is a
    /// list of field lists (`REPLICAS`, `SENTINELS`).
    fn sentinel_list(
        &self,
        index: usize,
        sub: &str,
    ) -> Result<Vec<BTreeMap<String, String>>, Pending> {
        let reply = self.ask_sentinel(index, &["SENTINEL", sub, &self.options.service])?;
        let bad = || {
            format!(
                "SENTINEL {sub} on {}: unexpected {reply:?}",
                self.sentinel_label(index)
            )
        };
        match &reply {
            Reply::Array(Some(entries)) => {
                entries.iter().map(|e| fields(e).ok_or_else(bad)).collect()
            }
            _ => Err(bad()),
        }
    }

    /// Saves the command names seen on the sentinel at `index` for `cargo xtask
    /// coverage --exercised`, in the format of `INFO commandstats`. Best effort.
    fn save_commands<'a>(&self, index: usize, names: impl Iterator<Item = &'a str>) {
        let server = &self.sentinels[index].server;
        let mut text = format!(
            "# server: {} {} (sentinel, from CLIENT LIST)\n",
            server.binary_path().display(),
            server.version()
        );
        for name in names {
            let _ = writeln!(text, "cmdstat_{name}:calls=1");
        }
        let dir = binary::servers_dir().join("commandstats");
        if fs::create_dir_all(&dir).is_err() {
            return;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let pid = server.pid().unwrap_or_default();
        let _ = fs::write(dir.join(format!("sentinel-{pid}-{nanos}.txt")), text);
    }

    /// Waits, polling `check` with a short backoff, until it succeeds or the builder's
    /// timeout has passed: then the error names `what` and the last reason `check`
    /// gave.
    fn poll<T>(
        &self,
        what: &str,
        check: impl FnMut() -> Result<T, Pending>,
    ) -> Result<T, HarnessError> {
        crate::poll::until(self.options.timeout, what, HarnessError::Sentinel, check)
    }

    /// The indices of the running sentinels.
    fn running_sentinels(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.sentinels.len()).filter(|&j| self.sentinels[j].state == NodeState::Running)
    }

    /// The first running sentinel, or an error saying none runs.
    fn first_running_sentinel(&self) -> Result<usize, HarnessError> {
        self.running_sentinels()
            .next()
            .ok_or_else(|| HarnessError::Sentinel("no sentinel is running".into()))
    }

    /// `node 1 (port 41234)`, for messages.
    fn label(&self, index: usize) -> String {
        format!("node {index} (port {})", self.node_port(index))
    }

    /// `sentinel 1 (port 41234)`, for messages.
    fn sentinel_label(&self, index: usize) -> String {
        format!("sentinel {index} (port {})", self.sentinel_port(index))
    }

    /// A command on a fresh raw connection to the data node at `index`.
    fn ask_node<A: AsRef<[u8]>>(&self, index: usize, args: &[A]) -> Result<Reply, String> {
        self.nodes[index]
            .server
            .raw()
            .and_then(|mut conn| conn.command(args))
            .map_err(|err| format!("{} on {}: {err}", command_name(args), self.label(index)))
    }

    /// A command on a fresh raw connection to the sentinel at `index`.
    fn ask_sentinel<A: AsRef<[u8]>>(&self, index: usize, args: &[A]) -> Result<Reply, String> {
        self.sentinels[index]
            .server
            .raw()
            .and_then(|mut conn| conn.command(args))
            .map_err(|err| {
                format!(
                    "{} on {}: {err}",
                    command_name(args),
                    self.sentinel_label(index)
                )
            })
    }

    /// [`ask_node`](Self::ask_node) for a status or bulk reply: its text.
    fn node_text(&self, index: usize, args: &[&str]) -> Result<String, String> {
        let reply = self.ask_node(index, args)?;
        text_of(reply, || {
            format!("{} on {}", command_name(args), self.label(index))
        })
    }

    /// [`ask_sentinel`](Self::ask_sentinel) for a status or bulk reply: its text.
    fn sentinel_text(&self, index: usize, args: &[&str]) -> Result<String, String> {
        let reply = self.ask_sentinel(index, args)?;
        text_of(reply, || {
            format!("{} on {}", command_name(args), self.sentinel_label(index))
        })
    }
}

/// Whether the `flags` a sentinel reports for an instance say it is a `kind`
/// (`master`, `slave`, `sentinel`) that is up and not in a failover. Other flags
/// pass: `master_down` on a sentinel is its last answer about the old primary, kept
/// until the next time it is asked.
fn healthy(flags: &str, kind: &str) -> bool {
    const UNSETTLED: [&str; 8] = [
        "s_down",
        "o_down",
        "disconnected",
        "failover_in_progress",
        "promoted",
        "reconf_sent",
        "reconf_inprog",
        "reconf_done",
    ];
    let flags: Vec<&str> = flags.split(',').collect();
    flags.contains(&kind) && !flags.iter().any(|f| UNSETTLED.contains(f))
}

/// The text of a status or bulk reply; a server error or another reply is described
/// with `context`.
fn text_of(reply: Reply, context: impl Fn() -> String) -> Result<String, String> {
    match reply {
        Reply::Error(err) => Err(format!("{}: {err}", context())),
        reply => reply
            .text()
            .ok_or_else(|| format!("{}: unexpected {reply:?}", context())),
    }
}

/// A flat `name value name value ...` array reply as a map (values that are not text,
/// such as integers, as their decimal text).
fn fields(reply: &Reply) -> Option<BTreeMap<String, String>> {
    let Reply::Array(Some(items)) = reply else {
        return None;
    };
    if items.len() % 2 != 0 {
        return None;
    }
    let text = |r: &Reply| match r {
        Reply::Integer(n) => Some(n.to_string()),
        other => other.text(),
    };
    items
        .chunks(2)
        .map(|pair| Some((text(&pair[0])?, text(&pair[1])?)))
        .collect()
}

/// The first two words of a command, for messages (`SENTINEL MASTER`).
fn command_name<A: AsRef<[u8]>>(args: &[A]) -> String {
    let words: Vec<_> = args
        .iter()
        .take(2)
        .map(|arg| String::from_utf8_lossy(arg.as_ref()).into_owned())
        .collect();
    words.join(" ")
}

/// A config-file string argument, double-quoted with `\` and `"` escaped.
fn config_quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field lists parse into maps; odd lengths and non-arrays do not.
    #[test]
    fn parses_field_lists() {
        let bulk = |s: &str| Reply::Bulk(Some(s.as_bytes().to_vec()));
        let reply = Reply::Array(Some(vec![
            bulk("port"),
            bulk("6379"),
            bulk("n"),
            Reply::Integer(3),
        ]));
        let map = fields(&reply).unwrap();
        assert_eq!(map["port"], "6379");
        assert_eq!(map["n"], "3");
        assert!(fields(&Reply::Array(Some(vec![bulk("x")]))).is_none());
        assert!(fields(&Reply::Integer(1)).is_none());
    }

    /// Instance flags: the kind must be there, and nothing that says down or failing
    /// over.
    #[test]
    fn judges_instance_flags() {
        assert!(healthy("master", "master"));
        assert!(healthy("sentinel,master_down", "sentinel"));
        assert!(!healthy("master,s_down", "master"));
        assert!(!healthy("slave,disconnected", "slave"));
        assert!(!healthy("slave", "master"));
    }
}
