//! [`Cluster`]: a real Valkey/Redis cluster of [`Server`]s on loopback, formed by the
//! harness itself over raw RESP (no `valkey-cli`/`redis-cli`, no respec), with the
//! operations fault tests need: failover, kill, freeze, slot migration (atomic and
//! legacy, stoppable between steps), adding and removing nodes.
//!
//! # Forming
//!
//! [`ClusterBuilder::start`] starts every node at once ([`Role::ClusterNode`]: its own
//! dir, `nodes.conf` and bus port), then: `CLUSTER SET-CONFIG-EPOCH` (distinct epochs,
//! so no collision has to be resolved), `CLUSTER ADDSLOTSRANGE` on the primaries (the
//! 16384 slots split evenly), `CLUSTER MEET` between every pair of nodes, a wait until
//! every node knows every other (no handshake, link connected), `CLUSTER REPLICATE` on
//! the replicas (retried while the primary is unknown to them), and a final wait until
//! every node reports `cluster_state:ok` and the planned slot map (`CLUSTER SLOTS`,
//! replicas included) and every replica `master_link_status:up`.
//!
//! # Waiting
//!
//! Every wait polls with a short backoff and is bounded by
//! [`ClusterBuilder::timeout`]; a timeout is a [`HarnessError::Cluster`] naming the
//! condition and what was last seen instead. No wait sleeps for a fixed time.
//!
//! # Nodes
//!
//! Nodes are addressed by their index in [`Cluster::nodes`]: the primaries come first
//! in the order of their slots, then the replicas (those of primary 0, then of 1, ...),
//! then nodes added by [`Cluster::add_node`]. An index stays valid for the cluster's
//! life: a killed or removed node keeps its place (and its ports). Roles change with
//! failovers, so [`Cluster::primaries`] and [`Cluster::replicas_of`] ask the cluster.
//!
//! ```no_run
//! use respec_tests::Cluster;
//!
//! let Some(cluster) = Cluster::builder().start_or_skip() else { return };
//! println!("ready in {:?}: {:?}", cluster.ready_time(), cluster.seed_urls());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use crate::binary::{self, Flavor};
use crate::error::HarnessError;
use crate::poll::Pending;
use crate::raw::{RawConnection, Reply};
use crate::server::{Role, Server, ServerBuilder};

/// The number of hash slots of a cluster.
pub const SLOTS: u16 = 16384;
/// The default bound of every wait ([`ClusterBuilder::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default `cluster-node-timeout` ([`ClusterBuilder::node_timeout`]).
pub const DEFAULT_NODE_TIMEOUT: Duration = Duration::from_millis(2000);
/// How many keys one `MIGRATE` of [`Cluster::move_keys`] moves at most.
const MIGRATE_BATCH: usize = 100;
/// The `MIGRATE` timeout, in milliseconds.
const MIGRATE_TIMEOUT_MS: &str = "5000";

/// Options for a cluster; [`ClusterBuilder::start`] starts and forms it.
#[derive(Debug, Clone)]
#[must_use]
pub struct ClusterBuilder {
    primaries: usize,
    replicas: usize,
    /// The builder of every node: the harness's config lines, then the caller's.
    node: ServerBuilder,
    timeout: Duration,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        let node = ServerBuilder::new()
            .role(Role::ClusterNode)
            .config("repl-diskless-sync-delay 0")
            // Redis 7.0 lists a replica in CLUSTER SLOTS once its replication offset is
            // not 0, which on an idle primary takes its first ping (10 s by default).
            .config("repl-ping-replica-period 1");
        ClusterBuilder {
            primaries: 3,
            replicas: 1,
            node,
            timeout: DEFAULT_TIMEOUT,
        }
        .node_timeout(DEFAULT_NODE_TIMEOUT)
    }
}

impl ClusterBuilder {
    /// A builder with the defaults: 3 primaries with 1 replica each, the binary
    /// [`ServerBuilder`] would run, `cluster-node-timeout` 2000 ms.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of primaries (at least 1), each serving an even share of the slots.
    pub fn primaries(mut self, count: usize) -> Self {
        assert!(
            (1..=usize::from(SLOTS)).contains(&count),
            "a cluster has 1 to {SLOTS} primaries, not {count}"
        );
        self.primaries = count;
        self
    }

    /// The number of replicas of each primary.
    pub fn replicas(mut self, count: usize) -> Self {
        self.replicas = count;
        self
    }

    /// Runs this binary instead of the one the harness finds ([`binary::try_binary`]).
    pub fn binary(self, path: impl Into<PathBuf>) -> Self {
        self.with_node(|node| node.binary(path))
    }

    /// Appends a config line to every node's config (see [`ServerBuilder::config`]);
    /// it overrides the lines the harness and earlier calls wrote.
    pub fn config(self, line: impl Into<String>) -> Self {
        self.with_node(|node| node.config(line))
    }

    /// The `cluster-node-timeout` (whole milliseconds): how long a node may be
    /// unreachable before it is taken as failing.
    pub fn node_timeout(self, timeout: Duration) -> Self {
        self.config(format!("cluster-node-timeout {}", timeout.as_millis()))
    }

    /// Sets `cluster-require-full-coverage no`: the nodes keep serving their slots
    /// while some slots have no live primary.
    pub fn allow_partial_coverage(self) -> Self {
        self.config("cluster-require-full-coverage no")
    }

    /// Changes the builder of every node.
    fn with_node(mut self, change: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Self {
        self.node = change(self.node);
        self
    }

    /// The bound of every wait of the cluster: forming it, and each operation's wait
    /// for the cluster to agree (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the nodes and forms the cluster (see the [module docs](self)). A binary
    /// without what the harness needs (`cluster-port` and `CLUSTER ADDSLOTSRANGE`,
    /// Redis 7.0 or any Valkey) is [`HarnessError::Unavailable`].
    pub fn start(self) -> Result<Cluster, HarnessError> {
        let started = Instant::now();
        let binary = self.node.resolve_binary()?;
        let (flavor, version) = binary::version_of(&binary)?;
        if flavor != Flavor::Valkey && !version.at_least(7, 0, 0) {
            return Err(HarnessError::Unavailable(format!(
                "the cluster harness needs Redis 7.0 (cluster-port, CLUSTER ADDSLOTSRANGE) \
                 or Valkey; {} is {flavor:?} {version}",
                binary.display()
            )));
        }
        let node = self.node.clone().binary(binary);
        let count = self.primaries * (1 + self.replicas);
        let servers = thread::scope(|scope| {
            let starts: Vec<_> = (0..count)
                .map(|_| {
                    let node = node.clone();
                    scope.spawn(move || node.start())
                })
                .collect();
            starts
                .into_iter()
                .map(|start| start.join().expect("starting a cluster node panicked"))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let mut nodes = Vec::with_capacity(count);
        for server in servers {
            nodes.push(ClusterNode::new(server)?);
        }
        let mut cluster = Cluster {
            nodes,
            options: self,
            ready_time: Duration::ZERO,
        };
        cluster.form()?;
        cluster.ready_time = started.elapsed();
        Ok(cluster)
    }

    /// Starts the cluster, or returns `None` after reporting why ([`crate::skip`]) when
    /// it cannot run on this machine ([`HarnessError::is_unavailable`]). Panics on any
    /// other failure.
    pub fn start_or_skip(self) -> Option<Cluster> {
        crate::or_skip(self.start())
    }
}

/// Whether a node of a [`Cluster`] runs, as the harness left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// The process runs and answers.
    Running,
    /// Stopped with SIGSTOP ([`Cluster::freeze`]): it answers nothing until thawed.
    Frozen,
    /// Killed with SIGKILL ([`Cluster::kill`]).
    Killed,
    /// Killed and forgotten by the others ([`Cluster::remove_node`]).
    Removed,
}

/// A node's role in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterRole {
    /// A primary (`master` in `CLUSTER NODES`), with or without slots.
    Primary,
    /// A replica (`slave` in `CLUSTER NODES`).
    Replica,
}

/// One node of a [`Cluster`]: its [`Server`], node id and [`NodeState`].
#[derive(Debug)]
pub struct ClusterNode {
    server: Server,
    id: String,
    state: NodeState,
}

impl ClusterNode {
    /// Wraps a started node, asking it its id.
    fn new(server: Server) -> Result<Self, HarnessError> {
        let id = server
            .raw()
            .and_then(|mut conn| conn.command_text(&["CLUSTER", "MYID"]))
            .map_err(|err| {
                HarnessError::io(format!("CLUSTER MYID on port {}", server.port()), err)
            })?;
        Ok(ClusterNode {
            server,
            id,
            state: NodeState::Running,
        })
    }

    /// The node's server process.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The node id (40 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The cluster bus port.
    pub fn bus_port(&self) -> u16 {
        self.server.cluster_bus_port()
    }

    /// `127.0.0.1:port()`.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Whether the node runs, is frozen, killed or removed.
    pub fn state(&self) -> NodeState {
        self.state
    }

    /// A raw RESP2 connection to the node (see [`Server::raw`]).
    pub fn raw(&self) -> std::io::Result<RawConnection> {
        self.server.raw()
    }
}

/// When the steps of a manual failover were seen ([`Cluster::failover_timed`]).
#[derive(Debug, Clone, Copy)]
pub struct FailoverTimes {
    /// The index of the promoted replica.
    pub replica: usize,
    /// When `CLUSTER FAILOVER` was answered.
    pub commanded: Instant,
    /// When the replica first answered `ROLE` as a primary: its promotion.
    pub promoted: Instant,
    /// When the old primary first answered `ROLE` as a replica: from then on it
    /// redirects its clients.
    pub demoted: Instant,
}

/// One line of `CLUSTER NODES`: a node as some node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    /// The node id.
    pub id: String,
    /// The client port (0 for a node without address yet).
    pub port: u16,
    /// The cluster bus port.
    pub bus_port: u16,
    /// The flags: `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`,
    /// `nofailover`, ...
    pub flags: Vec<String>,
    /// The id of the node's primary, for a replica.
    pub primary: Option<String>,
    /// Whether the link to the node is connected.
    pub connected: bool,
    /// The slot ranges the node serves (open migrations, `[...]`, left out).
    pub slots: Vec<RangeInclusive<u16>>,
}

impl NodeEntry {
    /// Whether the entry has this flag.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// Whether the node is a primary.
    pub fn is_primary(&self) -> bool {
        self.has_flag("master")
    }

    /// Whether the node is a replica.
    pub fn is_replica(&self) -> bool {
        self.has_flag("slave")
    }

    /// Whether the node is taken as failing, possibly (`fail?`) or by agreement (`fail`).
    pub fn is_failing(&self) -> bool {
        self.has_flag("fail") || self.has_flag("fail?")
    }

    /// Whether the node is still being met (`handshake`) or has no address (`noaddr`).
    pub fn is_unsettled(&self) -> bool {
        self.has_flag("handshake") || self.has_flag("noaddr")
    }

    /// Parses one line of `CLUSTER NODES`.
    fn parse(line: &str) -> Result<Self, String> {
        let bad = || format!("unexpected CLUSTER NODES line {line:?}");
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 8 {
            return Err(bad());
        }
        let (addr, bus) = fields[1].split_once('@').ok_or_else(bad)?;
        let port = addr.rsplit_once(':').ok_or_else(bad)?.1;
        let bus = bus.split(',').next().unwrap_or_default();
        let slots = fields[8..]
            .iter()
            .filter(|field| !field.starts_with('['))
            .map(|field| {
                let (start, end) = field.split_once('-').unwrap_or((field, field));
                Ok(start.parse().map_err(|_| bad())?..=end.parse().map_err(|_| bad())?)
            })
            .collect::<Result<_, String>>()?;
        Ok(NodeEntry {
            id: fields[0].to_owned(),
            port: port.parse().map_err(|_| bad())?,
            bus_port: bus.parse().map_err(|_| bad())?,
            flags: fields[2].split(',').map(str::to_owned).collect(),
            primary: (fields[3] != "-").then(|| fields[3].to_owned()),
            connected: fields[7] == "connected",
            slots,
        })
    }
}

/// A range of slots and the nodes serving it, from `CLUSTER SLOTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRange {
    /// The slots, both ends included.
    pub slots: RangeInclusive<u16>,
    /// The id of the primary.
    pub primary: String,
    /// The ids of the replicas that are not failing, sorted.
    pub replicas: Vec<String>,
}

/// The slot map one node reports (`CLUSTER SLOTS`), normalized: ranges sorted, and
/// adjacent ranges with the same nodes merged, so that two nodes' maps compare equal
/// when they agree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlotMap {
    /// The ranges, by first slot.
    pub ranges: Vec<SlotRange>,
}

impl SlotMap {
    /// The range holding `slot`, if the slot is assigned.
    pub fn range_of(&self, slot: u16) -> Option<&SlotRange> {
        self.ranges.iter().find(|range| range.slots.contains(&slot))
    }

    /// The id of the primary serving `slot`, if the slot is assigned.
    pub fn owner(&self, slot: u16) -> Option<&str> {
        self.range_of(slot).map(|range| range.primary.as_str())
    }

    /// Builds the map from a `CLUSTER SLOTS` reply.
    fn from_reply(reply: &Reply) -> Result<Self, String> {
        let bad = || format!("unexpected CLUSTER SLOTS reply {reply:?}");
        let Reply::Array(Some(entries)) = reply else {
            return Err(bad());
        };
        let id = |node: &Reply| match node {
            Reply::Array(Some(fields)) => fields.get(2).and_then(Reply::text).ok_or_else(bad),
            _ => Err(bad()),
        };
        let mut ranges = Vec::with_capacity(entries.len());
        for entry in entries {
            let Reply::Array(Some(fields)) = entry else {
                return Err(bad());
            };
            let slot = |index: usize| match fields.get(index) {
                Some(&Reply::Integer(n)) => u16::try_from(n).map_err(|_| bad()),
                _ => Err(bad()),
            };
            let primary = id(fields.get(2).ok_or_else(bad)?)?;
            let mut replicas = fields[3..].iter().map(id).collect::<Result<Vec<_>, _>>()?;
            replicas.sort();
            ranges.push(SlotRange {
                slots: slot(0)?..=slot(1)?,
                primary,
                replicas,
            });
        }
        Ok(SlotMap::normalized(ranges))
    }

    /// Sorts the ranges and merges adjacent ones served by the same nodes.
    fn normalized(mut ranges: Vec<SlotRange>) -> Self {
        ranges.sort_by_key(|range| *range.slots.start());
        let mut merged: Vec<SlotRange> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                Some(last)
                    if u32::from(*last.slots.end()) + 1 == u32::from(*range.slots.start())
                        && last.primary == range.primary
                        && last.replicas == range.replicas =>
                {
                    last.slots = *last.slots.start()..=*range.slots.end();
                }
                _ => merged.push(range),
            }
        }
        SlotMap { ranges: merged }
    }
}

impl fmt::Display for SlotMap {
    /// `0-5460 <primary> [<replica> ...], ...`, ids shortened to 8 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |id: &str| id.get(..8).unwrap_or(id).to_owned();
        for (n, range) in self.ranges.iter().enumerate() {
            let replicas: Vec<String> = range.replicas.iter().map(|id| short(id)).collect();
            write!(
                f,
                "{}{}-{} {} [{}]",
                if n == 0 { "" } else { ", " },
                range.slots.start(),
                range.slots.end(),
                short(&range.primary),
                replicas.join(" ")
            )?;
        }
        Ok(())
    }
}

/// A legacy migration of slots in progress ([`Cluster::begin_migration`],
/// [`Cluster::begin_migration_range`]): the slots are `MIGRATING` on the source and
/// `IMPORTING` on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The slots, both ends included.
    pub slots: RangeInclusive<u16>,
    /// The index of the node that served the slots.
    pub source: usize,
    /// The index of the node the slots move to.
    pub target: usize,
}

/// The states of a node that has not been removed.
const LIVE: [NodeState; 3] = [NodeState::Running, NodeState::Frozen, NodeState::Killed];

/// A formed cluster of [`Server`] processes on loopback; every process is killed when
/// it is dropped. See the [module docs](self).
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<ClusterNode>,
    options: ClusterBuilder,
    ready_time: Duration,
}

impl Cluster {
    /// A builder, the same as [`ClusterBuilder::new`].
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::new()
    }

    /// How long [`ClusterBuilder::start`] took, from starting the processes to the
    /// cluster being formed.
    pub fn ready_time(&self) -> Duration {
        self.ready_time
    }

    /// Every node, by index (see the [module docs](self)).
    pub fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }

    /// The node at `index`.
    pub fn node(&self, index: usize) -> &ClusterNode {
        &self.nodes[index]
    }

    /// The index of the node with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.id == id)
    }

    /// The addresses of the running nodes, to seed a cluster client with.
    pub fn seed_addrs(&self) -> Vec<SocketAddr> {
        self.running().map(|i| self.nodes[i].addr()).collect()
    }

    /// The URLs (`redis://127.0.0.1:PORT`) of the running nodes.
    pub fn seed_urls(&self) -> Vec<String> {
        self.running().map(|i| self.nodes[i].url()).collect()
    }

    /// The primaries that serve slots and are not failing, in the order of their
    /// first slot, as the first running node sees them. Panics when it cannot tell.
    pub fn primaries(&self) -> Vec<usize> {
        let mut primaries: Vec<(u16, usize)> = self
            .expect_view()
            .into_iter()
            .filter(|e| e.is_primary() && !e.is_failing() && !e.slots.is_empty())
            .filter_map(|e| {
                Some((
                    *e.slots.iter().map(|r| r.start()).min()?,
                    self.index_of(&e.id)?,
                ))
            })
            .collect();
        primaries.sort_unstable();
        primaries.into_iter().map(|(_, index)| index).collect()
    }

    /// The replicas of `primary` that are not failing, by index, as the first running
    /// node sees them. Panics when it cannot tell.
    pub fn replicas_of(&self, primary: usize) -> Vec<usize> {
        let id = &self.nodes[primary].id;
        let mut replicas: Vec<usize> = self
            .expect_view()
            .into_iter()
            .filter(|e| e.is_replica() && !e.is_failing() && e.primary.as_ref() == Some(id))
            .filter_map(|e| self.index_of(&e.id))
            .collect();
        replicas.sort_unstable();
        replicas
    }

    /// The role of the node at `index`: its own view when it runs, else the first
    /// running node's. Panics when it cannot tell.
    pub fn role(&self, index: usize) -> ClusterRole {
        let viewer = if self.nodes[index].state == NodeState::Running {
            index
        } else {
            self.first_running()
        };
        let view = self
            .nodes_view(viewer)
            .unwrap_or_else(|err| panic!("{err}"));
        let entry = view
            .iter()
            .find(|e| e.id == self.nodes[index].id)
            .unwrap_or_else(|| {
                panic!("{} does not know {}", self.label(viewer), self.label(index))
            });
        if entry.is_replica() {
            ClusterRole::Replica
        } else {
            ClusterRole::Primary
        }
    }

    /// The index of the primary serving `slot`, as the first running node sees it.
    /// Panics when the slot is unassigned or the node cannot tell.
    pub fn node_for_slot(&self, slot: u16) -> usize {
        let map = self
            .slot_map(self.first_running())
            .unwrap_or_else(|err| panic!("{err}"));
        let owner = map
            .owner(slot)
            .unwrap_or_else(|| panic!("slot {slot} is not assigned: {map}"));
        self.index_of(owner)
            .unwrap_or_else(|| panic!("slot {slot} is served by unknown node {owner}"))
    }

    /// The slot of `key`, as the first running node computes it (`CLUSTER KEYSLOT`).
    /// Panics when it cannot tell.
    pub fn keyslot(&self, key: &str) -> u16 {
        match self.query(self.first_running(), &["CLUSTER", "KEYSLOT", key]) {
            Ok(Reply::Integer(slot)) => u16::try_from(slot).expect("a slot fits in u16"),
            other => panic!("CLUSTER KEYSLOT {key}: {other:?}"),
        }
    }

    /// The node at `index`'s view of the cluster (`CLUSTER NODES`).
    pub fn nodes_view(&self, index: usize) -> Result<Vec<NodeEntry>, HarnessError> {
        self.view(index).map_err(HarnessError::Cluster)
    }

    /// The node at `index`'s slot map (`CLUSTER SLOTS`).
    pub fn slot_map(&self, index: usize) -> Result<SlotMap, HarnessError> {
        self.map_of(index).map_err(HarnessError::Cluster)
    }

    /// Kills the node with SIGKILL ([`Server::kill`]); it keeps its index and ports.
    pub fn kill(&mut self, index: usize) {
        self.change_state(index, &LIVE, Server::kill, NodeState::Killed);
    }

    /// Freezes the node with SIGSTOP ([`Server::pause`]): it keeps its connections but
    /// answers nothing, to the others nor to clients, until [`thaw`](Self::thaw).
    pub fn freeze(&mut self, index: usize) {
        self.change_state(
            index,
            &[NodeState::Running],
            Server::pause,
            NodeState::Frozen,
        );
    }

    /// Lets a frozen node run again (SIGCONT, [`Server::resume`]).
    pub fn thaw(&mut self, index: usize) {
        self.change_state(
            index,
            &[NodeState::Frozen],
            Server::resume,
            NodeState::Running,
        );
    }

    /// Restarts a killed (or running) node on its ports and dir ([`Server::restart`]);
    /// it keeps its `nodes.conf`, so it rejoins with its id, but not its data. Waits
    /// until the cluster has converged ([`wait_converged`](Self::wait_converged)).
    pub fn restart(&mut self, index: usize) -> Result<SlotMap, HarnessError> {
        self.restart_all(&[index])
    }

    /// Restarts several nodes (see [`restart`](Self::restart)), then waits once until
    /// the cluster has converged: for a cluster whose primaries are all down, which
    /// cannot converge until a majority of them is back.
    pub fn restart_all(&mut self, indices: &[usize]) -> Result<SlotMap, HarnessError> {
        for &index in indices {
            self.change_state(index, &LIVE, Server::restart, NodeState::Running);
        }
        self.wait_converged()
    }

    /// Waits until the cluster has converged, and returns its slot map: every running
    /// node reports `cluster_state:ok`, knows every other running node as settled,
    /// connected and not failing, sees every killed node as `fail`, and reports the
    /// same slot map. Frozen nodes are not asked, and may be seen in any state. A
    /// killed primary without a replica leaves `cluster_state:fail` (the wait times
    /// out) unless the cluster was built with
    /// [`allow_partial_coverage`](ClusterBuilder::allow_partial_coverage).
    pub fn wait_converged(&self) -> Result<SlotMap, HarnessError> {
        self.wait_map("the cluster converges", |_| Ok(()))
    }

    /// Waits until the node at `index` is a primary that serves slots in the converged
    /// map of every running node (after a failover, or the kill of its primary).
    pub fn wait_primary(&self, index: usize) -> Result<SlotMap, HarnessError> {
        let id = &self.nodes[index].id;
        self.wait_map(&format!("{} becomes a primary", self.label(index)), |map| {
            if map.ranges.iter().any(|range| &range.primary == id) {
                Ok(())
            } else {
                Err(format!("it serves no slot in {map}"))
            }
        })
    }

    /// Promotes a replica with `CLUSTER FAILOVER` (coordinated with its primary, which
    /// must therefore be running: a killed one is replaced by the cluster itself, see
    /// [`wait_primary`](Self::wait_primary)) and
    /// waits until every running node agrees it is the primary, its old primary being
    /// its replica. Given a primary, promotes its first running replica. Returns the
    /// index of the new primary.
    pub fn failover(&self, index: usize) -> Result<usize, HarnessError> {
        self.failover_timed(index).map(|times| times.replica)
    }

    /// [`failover`](Self::failover), timing its steps as the two nodes report them:
    /// from `CLUSTER FAILOVER` on, each node's `ROLE` is asked over a connection of
    /// its own, one after the other with no pause, until the replica answers
    /// `master` (its promotion) and the old primary `slave` (it stepped down, and
    /// answers its clients with redirects).
    pub fn failover_timed(&self, index: usize) -> Result<FailoverTimes, HarnessError> {
        let replica = match self.role(index) {
            ClusterRole::Replica => index,
            ClusterRole::Primary => *self
                .replicas_of(index)
                .iter()
                .find(|&&r| self.nodes[r].state == NodeState::Running)
                .ok_or_else(|| {
                    HarnessError::Cluster(format!("{} has no running replica", self.label(index)))
                })?,
        };
        let primary_id = self
            .expect_view()
            .into_iter()
            .find(|e| e.id == self.nodes[replica].id)
            .and_then(|e| e.primary)
            .ok_or_else(|| {
                HarnessError::Cluster(format!("{} has no primary", self.label(replica)))
            })?;
        let primary = self.index_of(&primary_id).ok_or_else(|| {
            HarnessError::Cluster(format!("{primary_id} is not a node of the cluster"))
        })?;
        let connect = |i: usize| {
            self.nodes[i]
                .server
                .raw()
                .map_err(|e| HarnessError::Cluster(format!("{}: {e}", self.label(i))))
        };
        // (connection, the role awaited, when it was first seen)
        let mut watched = [
            (connect(replica)?, "master", None),
            (connect(primary)?, "slave", None),
        ];
        self.run(replica, &["CLUSTER", "FAILOVER"])?;
        let commanded = Instant::now();
        while watched.iter().any(|(_, _, seen)| seen.is_none()) {
            if commanded.elapsed() > self.options.timeout {
                return Err(HarnessError::Cluster(format!(
                    "waited {:?} for the failover of {}: promoted {}, stepped down {}",
                    self.options.timeout,
                    self.label(replica),
                    watched[0].2.is_some(),
                    watched[1].2.is_some()
                )));
            }
            for (conn, wanted, seen) in watched.iter_mut().filter(|w| w.2.is_none()) {
                let role = conn
                    .command(&["ROLE"])
                    .map_err(|e| HarnessError::Cluster(format!("ROLE: {e}")))?;
                let first = match &role {
                    Reply::Array(Some(items)) => items.first().and_then(Reply::text),
                    _ => None,
                };
                if first.as_deref() == Some(*wanted) {
                    *seen = Some(Instant::now());
                }
            }
        }
        let (promoted, demoted) = (watched[0].2, watched[1].2);
        self.wait_primary(replica)?;
        Ok(FailoverTimes {
            replica,
            commanded,
            promoted: promoted.unwrap_or(commanded),
            demoted: demoted.unwrap_or(commanded),
        })
    }

    /// Moves `slots` to the node at `to` with Valkey 9's atomic slot migration
    /// (`CLUSTER MIGRATESLOTS SLOTSRANGE a b NODE id` on the source primary), waits
    /// until `CLUSTER GETSLOTMIGRATIONS` reports the job's success, then until every
    /// running node agrees that `to` serves the slots. The slots must have one source.
    /// A server without atomic migration is [`HarnessError::Unavailable`].
    pub fn migrate_atomic(
        &self,
        slots: RangeInclusive<u16>,
        to: usize,
    ) -> Result<(), HarnessError> {
        let server = &self.nodes[to].server;
        if server.flavor() != Flavor::Valkey || !server.version().at_least(9, 0, 0) {
            return Err(HarnessError::Unavailable(format!(
                "atomic slot migration (CLUSTER MIGRATESLOTS) needs Valkey 9.0; the server is {:?} {}",
                server.flavor(),
                server.version()
            )));
        }
        let (first, last) = (*slots.start(), *slots.end());
        let source = self.source_of(&slots)?;
        let earlier: BTreeSet<String> = self
            .migrations(source)
            .map_err(HarnessError::Cluster)?
            .into_iter()
            .filter_map(|mut job| job.remove("name"))
            .collect();
        let (a, b) = (first.to_string(), last.to_string());
        let to_id = self.nodes[to].id.as_str();
        self.run(
            source,
            &[
                "CLUSTER",
                "MIGRATESLOTS",
                "SLOTSRANGE",
                &a,
                &b,
                "NODE",
                to_id,
            ],
        )?;
        self.poll(
            &format!("the migration of slots {first}-{last} succeeds"),
            || {
                let jobs = self.migrations(source)?;
                let job = jobs
                    .iter()
                    .find(|job| {
                        job.get("operation").map(String::as_str) == Some("EXPORT")
                            && job.get("name").is_some_and(|name| !earlier.contains(name))
                    })
                    .ok_or_else(|| {
                        format!("{} lists no new export job: {jobs:?}", self.label(source))
                    })?;
                match job.get("state").map(String::as_str) {
                    Some("success") => Ok(()),
                    Some(state @ ("failed" | "cancelled")) => {
                        Err(Pending::Fatal(HarnessError::Cluster(format!(
                            "the migration of slots {first}-{last} {state}: {job:?}"
                        ))))
                    }
                    _ => Err(format!("the job is {job:?}").into()),
                }
            },
        )?;
        self.wait_served(slots, to)
    }

    /// Begins a legacy migration of `slot` to the node at `to`: `CLUSTER SETSLOT slot
    /// IMPORTING <source>` on the target, then `MIGRATING <target>` on the source. The
    /// source then answers `-ASK` for the slot's keys it no longer has, and `-TRYAGAIN`
    /// for multi-key commands over keys on both sides; nothing has moved yet.
    pub fn begin_migration(&self, slot: u16, to: usize) -> Result<Migration, HarnessError> {
        self.begin_migration_range(slot..=slot, to)
    }

    /// [`begin_migration`](Self::begin_migration) of every slot of `slots`, which must
    /// have one source: the `SETSLOT IMPORTING`s sent to the target in one pipeline,
    /// then the `SETSLOT MIGRATING`s to the source in another.
    pub fn begin_migration_range(
        &self,
        slots: RangeInclusive<u16>,
        to: usize,
    ) -> Result<Migration, HarnessError> {
        let source = self.source_of(&slots)?;
        if source == to {
            return Err(HarnessError::Cluster(format!(
                "{} already serves slots {}-{}",
                self.label(to),
                slots.start(),
                slots.end()
            )));
        }
        let setslot = |state: &str, node: usize| -> Vec<Vec<String>> {
            let id = &self.nodes[node].id;
            slots
                .clone()
                .map(|slot| {
                    ["CLUSTER", "SETSLOT", &slot.to_string(), state, id]
                        .map(str::to_owned)
                        .to_vec()
                })
                .collect()
        };
        self.run_pipeline(to, &setslot("IMPORTING", source))?;
        self.run_pipeline(source, &setslot("MIGRATING", to))?;
        Ok(Migration {
            slots,
            source,
            target: to,
        })
    }

    /// Moves at most `max` keys of the migration's slots from the source to the
    /// target, at most 100 per `MIGRATE` (see
    /// [`move_keys_batched`](Self::move_keys_batched)), and returns how many moved;
    /// `usize::MAX` moves them all.
    pub fn move_keys(&self, migration: &Migration, max: usize) -> Result<usize, HarnessError> {
        self.move_keys_batched(migration, max, MIGRATE_BATCH)
    }

    /// Moves at most `max` keys of the migration's slots from the source to the
    /// target, in rounds: each round asks every slot that still has keys on the
    /// source for at most `batch` of them (`CLUSTER GETKEYSINSLOT`, one pipeline for
    /// all the slots), then moves each slot's with one `MIGRATE ... KEYS ...` (one
    /// pipeline again). Returns how many moved. With `batch` 1, a slot's keys move
    /// one per round: between two rounds every slot with more than one key has keys
    /// on both sides (where multi-key commands get `-TRYAGAIN`).
    pub fn move_keys_batched(
        &self,
        migration: &Migration,
        max: usize,
        batch: usize,
    ) -> Result<usize, HarnessError> {
        assert!(batch > 0, "a MIGRATE moves at least one key");
        let (source, target) = (migration.source, &self.nodes[migration.target]);
        let port = target.port().to_string();
        let mut pending: Vec<u16> = migration.slots.clone().collect();
        let mut moved = 0;
        while moved < max && !pending.is_empty() {
            // The budget left, split over the slots in order.
            let mut budget = max - moved;
            let mut asks = Vec::new();
            for &slot in &pending {
                if budget == 0 {
                    break;
                }
                let count = budget.min(batch);
                budget -= count;
                asks.push(
                    [
                        "CLUSTER",
                        "GETKEYSINSLOT",
                        &slot.to_string(),
                        &count.to_string(),
                    ]
                    .map(|arg| arg.as_bytes().to_vec())
                    .to_vec(),
                );
            }
            let replies = self.run_pipeline(source, &asks)?;
            let mut migrates: Vec<Vec<Vec<u8>>> = Vec::new();
            let mut emptied = BTreeSet::new();
            for (slot, reply) in pending.iter().zip(replies) {
                let keys = match reply {
                    Reply::Array(Some(keys)) => keys
                        .into_iter()
                        .map(|key| match key {
                            Reply::Bulk(Some(key)) => Ok(key),
                            other => Err(other),
                        })
                        .collect::<Result<Vec<_>, _>>(),
                    other => Err(other),
                }
                .map_err(|reply| {
                    HarnessError::Cluster(format!("CLUSTER GETKEYSINSLOT {slot}: {reply:?}"))
                })?;
                if keys.is_empty() {
                    emptied.insert(*slot);
                    continue;
                }
                let mut args: Vec<Vec<u8>> = [
                    "MIGRATE",
                    "127.0.0.1",
                    &port,
                    "",
                    "0",
                    MIGRATE_TIMEOUT_MS,
                    "KEYS",
                ]
                .iter()
                .map(|arg| arg.as_bytes().to_vec())
                .collect();
                args.extend(keys);
                migrates.push(args);
            }
            pending.retain(|slot| !emptied.contains(slot));
            self.run_pipeline(source, &migrates)?;
            moved += migrates.iter().map(|args| args.len() - 7).sum::<usize>();
        }
        Ok(moved)
    }

    /// Ends a legacy migration: `CLUSTER SETSLOT slot NODE <target>` for each of its
    /// slots (one pipeline per node) on the target, the source, then every other
    /// running primary, and waits until every running node agrees that the target
    /// serves the slots. Keys still on the source are lost to the cluster: call
    /// [`move_keys`](Self::move_keys) first.
    pub fn finish_migration(&self, migration: Migration) -> Result<(), HarnessError> {
        let target = self.nodes[migration.target].id.as_str();
        let setslots: Vec<Vec<String>> = migration
            .slots
            .clone()
            .map(|slot| {
                ["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", target]
                    .map(str::to_owned)
                    .to_vec()
            })
            .collect();
        let others = self
            .primaries()
            .into_iter()
            .filter(|&p| p != migration.source && p != migration.target);
        for node in [migration.target, migration.source]
            .into_iter()
            .chain(others)
        {
            if self.nodes[node].state != NodeState::Running {
                continue;
            }
            match self.run_pipeline(node, &setslots) {
                // A primary that has lost its last slot becomes a replica of the
                // node that took it, as soon as it hears of the target's claim: it
                // has learned the new owner already.
                Err(HarnessError::Cluster(err))
                    if node != migration.target && err.contains("SETSLOT only with") => {}
                other => {
                    other?;
                }
            }
        }
        self.wait_served(migration.slots, migration.target)
    }

    /// A whole legacy migration of `slot` to the node at `to`:
    /// [`begin_migration`](Self::begin_migration), [`move_keys`](Self::move_keys) (all),
    /// [`finish_migration`](Self::finish_migration).
    pub fn migrate_legacy(&self, slot: u16, to: usize) -> Result<(), HarnessError> {
        self.migrate_legacy_range(slot..=slot, to)
    }

    /// [`migrate_legacy`](Self::migrate_legacy) of every slot of `slots`, which must
    /// have one source, each step pipelined over the slots (see
    /// [`begin_migration_range`](Self::begin_migration_range)).
    pub fn migrate_legacy_range(
        &self,
        slots: RangeInclusive<u16>,
        to: usize,
    ) -> Result<(), HarnessError> {
        let migration = self.begin_migration_range(slots, to)?;
        self.move_keys(&migration, usize::MAX)?;
        self.finish_migration(migration)
    }

    /// Starts a new node with the cluster's options and meets it (`CLUSTER MEET` to
    /// every running node), waiting until it and every running node know each
    /// other. It is a primary without slots; returns its index.
    pub fn add_node(&mut self) -> Result<usize, HarnessError> {
        let binary = self.nodes[self.first_running()].server.binary_path();
        let server = self.options.node.clone().binary(binary).start()?;
        self.nodes.push(ClusterNode::new(server)?);
        let index = self.nodes.len() - 1;
        for other in self.running().filter(|&other| other != index) {
            self.meet(index, other)?;
        }
        self.poll("every node knows the new node", || {
            self.running()
                .try_for_each(|i| self.check_known(i, &self.view(i)?))
        })?;
        Ok(index)
    }

    /// Makes the node at `index` a replica of the node at `primary`
    /// (`CLUSTER REPLICATE`, retried while the node does not know the primary yet), and
    /// waits until it is in sync with it (`master_link_status:up`).
    pub fn replicate(&self, index: usize, primary: usize) -> Result<(), HarnessError> {
        self.send_replicate(index, primary)?;
        self.poll(&format!("{} is in sync", self.label(index)), || {
            self.check_link_up(index)
        })
    }

    /// `CLUSTER REPLICATE` on the node at `index`, retried while it does not know the
    /// node at `primary` yet.
    fn send_replicate(&self, index: usize, primary: usize) -> Result<(), HarnessError> {
        let id = self.nodes[primary].id.as_str();
        self.poll(
            &format!("{} replicates {}", self.label(index), self.label(primary)),
            || match self.query(index, &["CLUSTER", "REPLICATE", id])? {
                Reply::Error(err) if err.contains("Unknown node") => Err(err.into()),
                Reply::Error(err) => Err(Pending::Fatal(HarnessError::Cluster(format!(
                    "CLUSTER REPLICATE on {}: {err}",
                    self.label(index)
                )))),
                _ => Ok(()),
            },
        )
    }

    /// Removes the node at `index` from the cluster: kills it, then `CLUSTER FORGET`s
    /// it on every running node, and waits until none lists it. The node must serve no
    /// slot and have no replica.
    pub fn remove_node(&mut self, index: usize) -> Result<(), HarnessError> {
        let id = self.nodes[index].id.clone();
        let view = self.nodes_view(self.first_running())?;
        if let Some(entry) = view.iter().find(|e| e.id == id && !e.slots.is_empty()) {
            return Err(HarnessError::Cluster(format!(
                "{} serves slots {:?}: migrate them first",
                self.label(index),
                entry.slots
            )));
        }
        if view.iter().any(|e| e.primary.as_ref() == Some(&id)) {
            return Err(HarnessError::Cluster(format!(
                "{} has replicas",
                self.label(index)
            )));
        }
        self.kill(index);
        self.nodes[index].state = NodeState::Removed;
        for i in self.running() {
            self.run(i, &["CLUSTER", "FORGET", &id])?;
        }
        self.poll(&format!("every node forgets {}", self.label(index)), || {
            self.running().try_for_each(|i| {
                if self.view(i)?.iter().any(|e| e.id == id) {
                    Err(format!("{} still lists it", self.label(i)))
                } else {
                    Ok(())
                }
            })
        })?;
        Ok(())
    }

    /// Forms the cluster out of the started nodes (see the [module docs](self)).
    fn form(&mut self) -> Result<(), HarnessError> {
        let primaries = self.options.primaries;
        for i in 0..self.nodes.len() {
            self.run(i, &["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])?;
        }
        let share = |p: usize| (p * usize::from(SLOTS) / primaries) as u16;
        let mut planned = Vec::with_capacity(primaries);
        for p in 0..primaries {
            let (first, last) = (share(p), share(p + 1) - 1);
            self.run(
                p,
                &[
                    "CLUSTER",
                    "ADDSLOTSRANGE",
                    &first.to_string(),
                    &last.to_string(),
                ],
            )?;
            let mut replicas: Vec<String> = self
                .planned_replicas(p)
                .map(|r| self.nodes[r].id.clone())
                .collect();
            replicas.sort();
            planned.push(SlotRange {
                slots: first..=last,
                primary: self.nodes[p].id.clone(),
                replicas,
            });
        }
        let planned = SlotMap::normalized(planned);
        // Every pair meets directly: waiting for gossip to spread the nodes takes
        // seconds on Redis 7.0.
        for i in 1..self.nodes.len() {
            for other in 0..i {
                self.meet(i, other)?;
            }
        }
        self.poll("every node knows every other", || {
            self.running()
                .try_for_each(|i| self.check_known(i, &self.view(i)?))
        })?;
        for p in 0..primaries {
            for r in self.planned_replicas(p) {
                self.send_replicate(r, p)?;
            }
        }
        self.wait_map("the cluster is formed", |map| {
            if *map == planned {
                Ok(())
            } else {
                Err(format!("the slot map is {map}, not the planned {planned}"))
            }
        })?;
        Ok(())
    }

    /// The indices of the replicas planned for primary `p` when forming.
    fn planned_replicas(&self, p: usize) -> impl Iterator<Item = usize> {
        let (primaries, replicas) = (self.options.primaries, self.options.replicas);
        (0..replicas).map(move |r| primaries + p * replicas + r)
    }

    /// `CLUSTER MEET` from the node at `index` to the node at `other`.
    fn meet(&self, index: usize, other: usize) -> Result<(), HarnessError> {
        let other = &self.nodes[other];
        let (port, bus) = (other.port().to_string(), other.bus_port().to_string());
        self.run(index, &["CLUSTER", "MEET", "127.0.0.1", &port, &bus])?;
        Ok(())
    }

    /// Waits until the cluster has converged (see [`wait_converged`](Self::wait_converged))
    /// and `check` accepts the slot map; `what` names the condition in a timeout.
    fn wait_map(
        &self,
        what: &str,
        check: impl Fn(&SlotMap) -> Result<(), String>,
    ) -> Result<SlotMap, HarnessError> {
        self.poll(what, || {
            let map = self.check_converged()?;
            check(&map)?;
            // Every replica must also be in sync, and every node must report it
            // `online` in `CLUSTER SHARDS` (what a client routes replica reads by; a
            // replica stays `loading` there until its replication offset has been
            // gossiped, and `CLUSTER SLOTS` leaves it out until then, so each node
            // is asked what it is).
            for i in self.running() {
                let myself = self.view(i)?.into_iter().find(|e| e.has_flag("myself"));
                if myself.is_some_and(|e| e.is_replica()) {
                    self.check_link_up(i)?;
                    for j in self.running() {
                        self.check_online(j, i)?;
                    }
                }
            }
            Ok::<_, String>(map)
        })
    }

    /// Waits until every running node agrees that the node at `to` serves `slots`.
    fn wait_served(&self, slots: RangeInclusive<u16>, to: usize) -> Result<(), HarnessError> {
        let (first, last) = (*slots.start(), *slots.end());
        let id = self.nodes[to].id.as_str();
        self.wait_map(
            &format!("{} serves slots {first}-{last}", self.label(to)),
            |map| match slots.clone().find(|&slot| map.owner(slot) != Some(id)) {
                Some(slot) => Err(format!("slot {slot} is not served by it: {map}")),
                None => Ok(()),
            },
        )?;
        Ok(())
    }

    /// One check of [`wait_converged`](Self::wait_converged): the common slot map, or
    /// why there is none yet.
    fn check_converged(&self) -> Result<SlotMap, String> {
        let mut agreed: Option<(usize, SlotMap)> = None;
        for i in self.running() {
            let info = self.text(i, &["CLUSTER", "INFO"])?;
            let state = info
                .lines()
                .find(|line| line.starts_with("cluster_state:"))
                .unwrap_or("no cluster_state")
                .trim();
            if state != "cluster_state:ok" {
                return Err(format!("{} reports {state}", self.label(i)));
            }
            let view = self.view(i)?;
            self.check_known(i, &view)?;
            for (k, killed) in self.nodes.iter().enumerate() {
                if killed.state == NodeState::Killed {
                    if let Some(entry) = view
                        .iter()
                        .find(|e| e.id == killed.id && !e.has_flag("fail"))
                    {
                        return Err(format!(
                            "{} sees killed {} as {}",
                            self.label(i),
                            self.label(k),
                            entry.flags.join(",")
                        ));
                    }
                }
            }
            let map = self.map_of(i)?;
            match &agreed {
                None => agreed = Some((i, map)),
                Some((first, first_map)) if *first_map != map => {
                    return Err(format!(
                        "{} reports the slot map {map}, {} reports {first_map}",
                        self.label(i),
                        self.label(*first)
                    ))
                }
                Some(_) => {}
            }
        }
        agreed
            .map(|(_, map)| map)
            .ok_or_else(|| "no node is running".to_owned())
    }

    /// Whether the node at `index`, whose view is `view`, knows every running node as
    /// settled, connected and not failing.
    fn check_known(&self, index: usize, view: &[NodeEntry]) -> Result<(), String> {
        for other in self.running() {
            let id = &self.nodes[other].id;
            let Some(entry) = view.iter().find(|e| &e.id == id) else {
                return Err(format!(
                    "{} does not know {}",
                    self.label(index),
                    self.label(other)
                ));
            };
            if entry.is_unsettled() || entry.is_failing() || (other != index && !entry.connected) {
                return Err(format!(
                    "{} sees {} as {}{}",
                    self.label(index),
                    self.label(other),
                    entry.flags.join(","),
                    if entry.connected {
                        ""
                    } else {
                        ", disconnected"
                    }
                ));
            }
        }
        Ok(())
    }

    /// Whether the replica at `index` is in sync with its primary.
    fn check_link_up(&self, index: usize) -> Result<(), String> {
        let info = self.text(index, &["INFO", "replication"])?;
        if info.contains("master_link_status:up") {
            Ok(())
        } else {
            Err(format!(
                "{}'s link to its primary is not up",
                self.label(index)
            ))
        }
    }

    /// Whether the node at `index` reports the replica at `other` in `CLUSTER SHARDS`
    /// as `online` and in the shard of a primary (a replica just attached is first
    /// listed in a shard of its own, without its primary, until its shard id is
    /// gossiped: a client then has no replica for the primary's slots). A server
    /// without the command passes.
    fn check_online(&self, index: usize, other: usize) -> Result<(), String> {
        let reply = self.query(index, &["CLUSTER", "SHARDS"])?;
        let id = self.nodes[other].id.as_str();
        for nodes in shard_nodes(&reply) {
            let Some(me) = nodes
                .iter()
                .find(|f| shard_field(f, "id").as_deref() == Some(id))
            else {
                continue;
            };
            let health = shard_field(me, "health").unwrap_or_default();
            if health != "online" {
                return Err(format!(
                    "{} reports {} as {health} in CLUSTER SHARDS",
                    self.label(index),
                    self.label(other)
                ));
            }
            if !nodes
                .iter()
                .any(|f| shard_field(f, "role").as_deref() == Some("master"))
            {
                return Err(format!(
                    "{} lists {} in a shard without a primary in CLUSTER SHARDS",
                    self.label(index),
                    self.label(other)
                ));
            }
        }
        Ok(())
    }

    /// Sets the `availability-zone` of the node at `index` (`CONFIG SET`, Valkey 8.1
    /// and later) and waits until every running node reports it in `CLUSTER SHARDS`
    /// (where a client reads it). A server without the option is
    /// [`HarnessError::Unavailable`].
    pub fn set_availability_zone(&self, index: usize, zone: &str) -> Result<(), HarnessError> {
        match self.query(index, &["CONFIG", "SET", "availability-zone", zone]) {
            Ok(Reply::Error(err)) if err.contains("nsupported") || err.contains("nknown") => {
                return Err(HarnessError::Unavailable(format!(
                    "the server has no availability-zone option (Valkey 8.1+): {err}"
                )))
            }
            Ok(Reply::Error(err)) => {
                return Err(HarnessError::Cluster(format!(
                    "CONFIG SET availability-zone on {}: {err}",
                    self.label(index)
                )))
            }
            Ok(_) => {}
            Err(err) => return Err(HarnessError::Cluster(err)),
        }
        let id = self.nodes[index].id.as_str();
        self.poll(
            &format!("every node reports {} in zone {zone}", self.label(index)),
            || {
                self.running().try_for_each(|i| {
                    let reply = self.query(i, &["CLUSTER", "SHARDS"])?;
                    let seen = shard_nodes(&reply)
                        .into_iter()
                        .flatten()
                        .find(|f| shard_field(f, "id").as_deref() == Some(id))
                        .and_then(|f| shard_field(f, "availability-zone"));
                    match seen {
                        Some(z) if z == zone => Ok(()),
                        other => Err(format!("{} reports its zone as {other:?}", self.label(i))),
                    }
                })
            },
        )
    }

    /// The jobs `CLUSTER GETSLOTMIGRATIONS` lists on the node at `index`, as field maps.
    fn migrations(&self, index: usize) -> Result<Vec<BTreeMap<String, String>>, String> {
        let reply = self.query(index, &["CLUSTER", "GETSLOTMIGRATIONS"])?;
        let bad = || format!("unexpected CLUSTER GETSLOTMIGRATIONS reply {reply:?}");
        let Reply::Array(Some(jobs)) = &reply else {
            return Err(bad());
        };
        jobs.iter()
            .map(|job| {
                let Reply::Array(Some(fields)) = job else {
                    return Err(bad());
                };
                let text = |field: &Reply| match field {
                    Reply::Integer(n) => n.to_string(),
                    other => other.text().unwrap_or_default(),
                };
                Ok(fields
                    .chunks(2)
                    .map(|pair| (text(&pair[0]), pair.get(1).map(text).unwrap_or_default()))
                    .collect())
            })
            .collect()
    }

    /// Waits, polling `check` with a short backoff, until it succeeds or fails for good
    /// ([`Pending::Fatal`]), or until [`ClusterBuilder::timeout`] has passed: then the
    /// error names `what` and the last reason `check` gave.
    fn poll<T, E: Into<Pending>>(
        &self,
        what: &str,
        check: impl FnMut() -> Result<T, E>,
    ) -> Result<T, HarnessError> {
        crate::poll::until(self.options.timeout, what, HarnessError::Cluster, check)
    }

    /// Checks that the node at `index` is in one of the states `from` (panics if not),
    /// applies `change` to its server, and records it as `to`.
    fn change_state(
        &mut self,
        index: usize,
        from: &[NodeState],
        change: fn(&mut Server),
        to: NodeState,
    ) {
        let state = self.nodes[index].state;
        assert!(
            from.contains(&state),
            "{} is {state:?}, not one of {from:?}",
            self.label(index)
        );
        change(&mut self.nodes[index].server);
        self.nodes[index].state = to;
    }

    /// The indices of the running nodes.
    fn running(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].state == NodeState::Running)
    }

    /// The index of the first running node; panics if none runs.
    fn first_running(&self) -> usize {
        self.running()
            .next()
            .expect("no node of the cluster is running")
    }

    /// The first running node's view; panics when it cannot be had.
    fn expect_view(&self) -> Vec<NodeEntry> {
        self.view(self.first_running())
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// `node 3 (port 41234)`, for messages.
    fn label(&self, index: usize) -> String {
        format!("node {index} (port {})", self.nodes[index].port())
    }

    /// The node at `index`'s `CLUSTER NODES`, parsed.
    fn view(&self, index: usize) -> Result<Vec<NodeEntry>, String> {
        self.text(index, &["CLUSTER", "NODES"])?
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(NodeEntry::parse)
            .collect()
    }

    /// The node at `index`'s `CLUSTER SLOTS`, normalized.
    fn map_of(&self, index: usize) -> Result<SlotMap, String> {
        SlotMap::from_reply(&self.query(index, &["CLUSTER", "SLOTS"])?)
    }

    /// Sends a command to the node at `index` over a fresh raw connection; an I/O
    /// error is described with the node and the command.
    fn query<A: AsRef<[u8]>>(&self, index: usize, args: &[A]) -> Result<Reply, String> {
        self.nodes[index]
            .server
            .raw()
            .and_then(|mut conn| conn.command(args))
            .map_err(|err| format!("{} on {}: {err}", command_name(args), self.label(index)))
    }

    /// [`query`](Self::query) for a status or bulk reply: its text; a server error is
    /// described with the node and the command.
    fn text(&self, index: usize, args: &[&str]) -> Result<String, String> {
        match self.query(index, args)? {
            Reply::Error(err) => Err(format!(
                "{} on {}: {err}",
                command_name(args),
                self.label(index)
            )),
            reply => reply.text().ok_or_else(|| {
                format!(
                    "{} on {}: unexpected {reply:?}",
                    command_name(args),
                    self.label(index)
                )
            }),
        }
    }

    /// [`text`](Self::text) for a setup step that must succeed.
    fn run(&self, index: usize, args: &[&str]) -> Result<String, HarnessError> {
        self.text(index, args).map_err(HarnessError::Cluster)
    }

    /// Sends `commands` to the node at `index` as one pipeline over a fresh raw
    /// connection and returns their replies; a server error in any reply fails it,
    /// described with the node and the command.
    fn run_pipeline<A: AsRef<[u8]>>(
        &self,
        index: usize,
        commands: &[Vec<A>],
    ) -> Result<Vec<Reply>, HarnessError> {
        let Some(first) = commands.first() else {
            return Ok(Vec::new());
        };
        let replies = self.nodes[index]
            .server
            .raw()
            .and_then(|mut conn| conn.pipeline(commands))
            .map_err(|err| {
                HarnessError::Cluster(format!(
                    "{} ({} commands) on {}: {err}",
                    command_name(first),
                    commands.len(),
                    self.label(index)
                ))
            })?;
        match commands
            .iter()
            .zip(&replies)
            .find_map(|(args, reply)| match reply {
                Reply::Error(err) => Some((args, err)),
                _ => None,
            }) {
            Some((args, err)) => Err(HarnessError::Cluster(format!(
                "{} on {}: {err}",
                args.iter()
                    .take(4)
                    .map(|arg| String::from_utf8_lossy(arg.as_ref()))
                    .collect::<Vec<_>>()
                    .join(" "),
                self.label(index)
            ))),
            None => Ok(replies),
        }
    }

    /// The index of the one primary serving every slot of `slots`, as the first
    /// running node sees it.
    fn source_of(&self, slots: &RangeInclusive<u16>) -> Result<usize, HarnessError> {
        let (first, last) = (*slots.start(), *slots.end());
        let map = self.slot_map(self.first_running())?;
        let source = map
            .owner(first)
            .ok_or_else(|| HarnessError::Cluster(format!("slot {first} is not assigned: {map}")))?;
        if let Some(slot) = slots.clone().find(|&slot| map.owner(slot) != Some(source)) {
            return Err(HarnessError::Cluster(format!(
                "slots {first}-{last} are not served by one primary (slot {slot}): {map}"
            )));
        }
        self.index_of(source)
            .ok_or_else(|| HarnessError::Cluster(format!("unknown source {source}")))
    }
}

/// The nodes of each shard of a `CLUSTER SHARDS` reply (each shard is `slots, [..],
/// nodes, [node..]`; each node a field list); none for another reply (a server
/// without the command).
fn shard_nodes(reply: &Reply) -> Vec<Vec<&[Reply]>> {
    let Reply::Array(Some(shards)) = reply else {
        return Vec::new();
    };
    shards
        .iter()
        .filter_map(|shard| match shard {
            Reply::Array(Some(fields)) => fields.chunks(2).find_map(|pair| match pair {
                [name, Reply::Array(Some(nodes))] if name.text().as_deref() == Some("nodes") => {
                    Some(
                        nodes
                            .iter()
                            .filter_map(|n| match n {
                                Reply::Array(Some(fields)) => Some(fields.as_slice()),
                                _ => None,
                            })
                            .collect(),
                    )
                }
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

/// The text of the field `name` of a node of [`shard_nodes`].
fn shard_field(fields: &[Reply], name: &str) -> Option<String> {
    fields
        .chunks(2)
        .find(|pair| pair[0].text().as_deref() == Some(name))
        .and_then(|pair| pair.get(1)?.text())
}

/// The first two words of a command, for messages (`CLUSTER MEET`).
fn command_name<A: AsRef<[u8]>>(args: &[A]) -> String {
    let words: Vec<_> = args
        .iter()
        .take(2)
        .map(|arg| String::from_utf8_lossy(arg.as_ref()).into_owned())
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CLUSTER NODES` lines parse, open migrations left out of the slots.
    #[test]
    fn parses_nodes_lines() {
        let line = "07c3 127.0.0.1:30004@31004,host replica,fail? e7d1 0 1426238317239 4 \
                    disconnected";
        let entry = NodeEntry::parse(line.replace("replica", "slave").as_str()).unwrap();
        assert_eq!((entry.port, entry.bus_port), (30004, 31004));
        assert!(entry.is_replica() && entry.is_failing() && !entry.connected);
        assert_eq!(entry.primary.as_deref(), Some("e7d1"));
        let line = "e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 5462 \
                    [5461->-07c3]";
        let entry = NodeEntry::parse(line).unwrap();
        assert_eq!(entry.slots, [0..=5460, 5462..=5462]);
        assert!(entry.is_primary() && entry.has_flag("myself") && entry.primary.is_none());
        assert!(NodeEntry::parse("nonsense").is_err());
    }

    /// Adjacent ranges served by the same nodes merge; others do not.
    #[test]
    fn normalizes_slot_maps() {
        let range = |slots: RangeInclusive<u16>, primary: &str| SlotRange {
            slots,
            primary: primary.into(),
            replicas: vec![],
        };
        let map = SlotMap::normalized(vec![
            range(6..=9, "a"),
            range(0..=2, "a"),
            range(3..=5, "a"),
            range(10..=10, "b"),
        ]);
        assert_eq!(map.ranges, [range(0..=9, "a"), range(10..=10, "b")]);
        assert_eq!(map.owner(10), Some("b"));
        assert_eq!(map.owner(11), None);
    }
}
