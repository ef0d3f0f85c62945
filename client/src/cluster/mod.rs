//! The cluster client's runtime: one multiplexed [`Connection`](crate::connection::Connection) per node (opened
//! when first needed), the slot map, its refresh, and sending commands where the
//! sans-IO [`respec_protocol::cluster`] layer says they go, following redirects.
//!
//! A cluster is a topology of the one [`Client`](crate::Client) type, chosen when it
//! connects ([`Client::connect_cluster`](crate::Client::connect_cluster), a
//! `redis+cluster://` URL): code written against one server runs unchanged against a
//! cluster, and the typed API has one entry point. See the crate docs (Cluster).

// The options, `explicit` and `address_text` are always built; the rest is the
// runtime, built with the `cluster` feature (on by default).
mod explicit;
#[cfg(feature = "cluster")]
mod nodes;
#[cfg(feature = "cluster")]
mod pipeline;
#[cfg(feature = "cluster")]
pub(crate) mod pubsub;
#[cfg(feature = "cluster")]
mod refresh;
#[cfg(feature = "cluster")]
mod scan;
#[cfg(feature = "cluster")]
mod send;

#[cfg(feature = "cluster")]
pub(crate) use nodes::Node;
pub use respec_protocol::cluster::{slot, SLOTS};
#[cfg(feature = "cluster")]
pub(crate) use scan::Walk;

use crate::connection::Address;
use std::time::Duration;
#[cfg(feature = "cluster")]
use {
    crate::config::Config,
    crate::error::{Error, Result},
    nodes::View,
    std::collections::HashMap,
    std::sync::atomic::{AtomicU64, Ordering},
    std::sync::{Arc, Mutex, RwLock},
};

/// How a cluster client follows the cluster.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterOptions {
    /// The most redirects (`MOVED`, `ASK`) and retries (`TRYAGAIN`, `CLUSTERDOWN`, a
    /// node that cannot be reached before anything was written) one command
    /// follows before its last error is returned (default 16).
    pub max_redirects: u32,
    /// How often the slot map is refreshed with nothing prompting it (default 60 s;
    /// `None`: only when prompted: a `MOVED`, a lost node, `CLUSTERDOWN`).
    pub refresh_interval: Option<Duration>,
    /// The least time between two refreshes, however many prompts arrive (default
    /// 100 ms): a storm of `MOVED` replies causes one refresh.
    pub min_refresh_interval: Duration,
    /// Where read-only commands go (default: the primary).
    pub read_from: ReadFrom,
}

/// Where a cluster client sends the commands the spec flags read-only (`GET`,
/// `HGETALL`, `ZRANGE`, ...). Replicas serve reads of their primary's slots after
/// `READONLY` (sent on every connection when reading from replicas), and lag behind
/// it: a read from a replica may not see a write just acknowledged by the primary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadFrom {
    /// The primary: reads see every acknowledged write.
    #[default]
    Primary,
    /// A replica of the slot's shard, in turn; the primary when none is healthy or
    /// the replica cannot be reached.
    PreferReplica,
    /// The primary and its replicas, in turn.
    AnyNode,
    /// A replica in this availability zone, in turn; the primary when none is up
    /// (never a replica of another zone). The zones are the nodes' own
    /// `availability-zone` (Valkey 8.1+), which `CLUSTER SHARDS` reports; on a
    /// server without zones every read goes to the primary.
    Zone(String),
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            max_redirects: 16,
            refresh_interval: Some(Duration::from_secs(60)),
            min_refresh_interval: Duration::from_millis(100),
            read_from: ReadFrom::Primary,
        }
    }
}

/// What a cluster client has done to follow the cluster (for tests and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Slot map refreshes completed.
    pub refreshes: u64,
    /// `MOVED` redirects followed.
    pub moved: u64,
    /// `ASK` redirects followed.
    pub asked: u64,
    /// Retries after `TRYAGAIN`, `CLUSTERDOWN`, `LOADING` or an unreachable node.
    pub retries: u64,
    /// The most slot map refreshes that were ever in flight at once: 1 once any has
    /// run, since a refresh prompted while one runs joins it instead of starting
    /// another.
    pub peak_refreshes_in_flight: u64,
}

#[cfg(feature = "cluster")]
#[derive(Default)]
struct Counters {
    refreshes: AtomicU64,
    moved: AtomicU64,
    asked: AtomicU64,
    retries: AtomicU64,
    /// Refreshes running now, and the most ever.
    refreshes_in_flight: AtomicU64,
    peak_refreshes_in_flight: AtomicU64,
}

#[cfg(feature = "cluster")]
/// One cluster: its nodes, the slot map, and how to reach new nodes.
pub(crate) struct Cluster {
    /// The options of every node's connection (its address aside).
    template: Arc<Config>,
    options: ClusterOptions,
    /// The addresses it was given, asked when no known node answers.
    seeds: Vec<String>,
    /// Every node connected to, by `host:port`, kept across refreshes.
    nodes: Mutex<HashMap<String, Arc<Node>>>,
    /// The slot map and the shards' nodes.
    view: RwLock<Arc<View>>,
    refresh: refresh::State,
    counters: Counters,
    /// Turns for spreading reads over replicas.
    turn: std::sync::atomic::AtomicUsize,
}

#[cfg(feature = "cluster")]
impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("seeds", &self.seeds)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "cluster")]
impl Cluster {
    /// Connects to the cluster through `seeds` (each `host:port`) with the connection
    /// options of `template`: reads the slot map from the first seed that answers.
    pub(crate) async fn connect(
        template: Arc<Config>,
        seeds: Vec<String>,
        options: ClusterOptions,
    ) -> Result<Arc<Cluster>> {
        if seeds.is_empty() {
            return Err(Error::config("a cluster needs at least one seed node"));
        }
        let cluster = Arc::new(Cluster {
            template,
            options,
            seeds,
            nodes: Mutex::new(HashMap::new()),
            view: RwLock::new(Arc::new(View::empty())),
            refresh: refresh::State::default(),
            counters: Counters::default(),
            turn: std::sync::atomic::AtomicUsize::new(0),
        });
        cluster.refresh_now().await?;
        refresh::start_timer(&cluster);
        Ok(cluster)
    }

    /// What the client has done so far.
    pub(crate) fn stats(&self) -> ClusterStats {
        let c = &self.counters;
        ClusterStats {
            refreshes: c.refreshes.load(Ordering::Relaxed),
            moved: c.moved.load(Ordering::Relaxed),
            asked: c.asked.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            peak_refreshes_in_flight: c.peak_refreshes_in_flight.load(Ordering::Relaxed),
        }
    }

    /// The current view.
    pub(crate) fn view(&self) -> Arc<View> {
        self.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The node at `address` (`host:port`), made on first use.
    pub(crate) fn node(&self, address: &str) -> Arc<Node> {
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        nodes
            .entry(address.to_owned())
            .or_insert_with(|| Arc::new(Node::new(address, self.node_config(address))))
            .clone()
    }

    /// The connection options for the node at `address`.
    fn node_config(&self, address: &str) -> Arc<Config> {
        let mut config = (*self.template).clone();
        config.address = parse_address(address);
        config.replica_reads = self.options.read_from != ReadFrom::Primary;
        Arc::new(config)
    }

    /// The node a read-only command for `slot` goes to, by the read policy; `None`:
    /// the primary.
    fn reader_of(&self, slot: u16) -> Option<Arc<Node>> {
        let view = self.view();
        let (primary, replicas) = view.shard_of(slot)?;
        let up = |n: &&Arc<Node>| !n.recently_unreachable();
        let candidates: Vec<&Arc<Node>> = match &self.options.read_from {
            ReadFrom::Primary => return None,
            ReadFrom::PreferReplica => replicas.iter().map(|(n, _)| n).collect(),
            ReadFrom::AnyNode => std::iter::once(primary)
                .chain(replicas.iter().map(|(n, _)| n))
                .collect(),
            ReadFrom::Zone(zone) => replicas
                .iter()
                .filter(|(_, z)| z.as_deref() == Some(zone.as_str()))
                .map(|(n, _)| n)
                .collect(),
        };
        let candidates: Vec<&Arc<Node>> = candidates.into_iter().filter(up).collect();
        if candidates.is_empty() {
            return None;
        }
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        Some(candidates[turn % candidates.len()].clone())
    }

    /// A node to run a keyless command on: the first primary.
    pub(crate) fn any_node(&self) -> Result<Arc<Node>> {
        self.view()
            .primaries()
            .next()
            .cloned()
            .ok_or_else(|| Error::config("the cluster has no known primary"))
    }
}

#[cfg(feature = "cluster")]
/// `host:port` (IPv6 hosts in brackets) as an address.
fn parse_address(address: &str) -> Address {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "6379"));
    Address::Tcp {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: port.parse().unwrap_or(6379),
    }
}

/// A command of a cluster client's pipeline, its words and metadata: sent to its node
/// when the pipeline is.
pub(crate) type Queued = (
    crate::command::CommandBuf,
    Option<&'static crate::command::CommandMeta>,
);

/// Stands for the cluster in a build without the `cluster` feature: no value of it
/// exists, so no client is a cluster client there.
#[cfg(not(feature = "cluster"))]
pub(crate) enum Cluster {}

/// `host:port` of a TCP address (the form redirects and topologies use: the
/// address's `Display`); `None` for a Unix socket.
pub(crate) fn address_text(address: &Address) -> Option<String> {
    matches!(address, Address::Tcp { .. }).then(|| address.to_string())
}
