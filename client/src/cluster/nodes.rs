//! The nodes a cluster client talks to, and its view of which node serves which
//! slot.

use crate::config::Config;
use crate::connection::Connection;
use crate::error::Result;
use crate::pool::Pool;
use crate::Client;
use respec_protocol::cluster::topology::{Topology, NONE};
use respec_protocol::cluster::SLOTS;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

/// One node: a client of that one server, made on first use (its shared
/// multiplexed connection, its pool of dedicated connections for blocking commands
/// and `WATCH`, its subscribers), which explicit routing hands out as it is.
pub(crate) struct Node {
    address: String,
    config: Arc<Config>,
    client: tokio::sync::OnceCell<Client>,
    /// When it last could not be reached (reads avoid it for a while).
    unreachable: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Node {
    pub(crate) fn new(address: &str, config: Arc<Config>) -> Self {
        Node {
            address: address.to_owned(),
            config,
            client: tokio::sync::OnceCell::new(),
            unreachable: std::sync::Mutex::new(None),
        }
    }

    /// `host:port`.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// The node's shared connection, connecting first if it has none yet (a failed
    /// connect is tried again by the next caller).
    pub(crate) async fn connection(&self) -> Result<Connection> {
        Ok(self.client().await?.connection().clone())
    }

    /// The client of this one node, connecting first if there is none yet.
    pub(crate) async fn client(&self) -> Result<Client> {
        self.client
            .get_or_try_init(|| Client::from_config_arc(self.config.clone()))
            .await
            .cloned()
    }

    /// The client of this one node, if it is connected.
    pub(crate) fn client_if_connected(&self) -> Option<&Client> {
        self.client.get()
    }

    /// The node's pool of dedicated connections.
    pub(crate) async fn pool(&self) -> Result<Arc<Pool>> {
        Ok(self.client().await?.pool().clone())
    }

    /// Records that it could not be reached just now.
    pub(crate) fn mark_unreachable(&self) {
        *self.unreachable.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(std::time::Instant::now());
    }

    /// Whether it could not be reached within the last second: reads, refreshes
    /// and subscribers avoid it meanwhile (and try it again after).
    pub(crate) fn recently_unreachable(&self) -> bool {
        self.unreachable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(1))
    }

    /// Closes its shared connection (it left the cluster).
    pub(crate) fn close(&self) {
        if let Some(client) = self.client.get() {
            client.connection().close();
        }
    }
}

/// A replica and its availability zone.
pub(crate) type Replica = (Arc<Node>, Option<String>);

/// One shard's nodes.
#[derive(Debug)]
pub(crate) struct ShardNodes {
    pub(crate) primary: Arc<Node>,
    /// The healthy replicas, with their availability zones.
    pub(crate) replicas: Vec<Replica>,
    /// How many replicas the topology lists, healthy or not (a replica that is down
    /// still counts towards the majority a replicated lock needs).
    #[cfg_attr(not(feature = "lock"), allow(dead_code))]
    pub(crate) listed_replicas: usize,
}

/// Which shard serves each slot, and each shard's nodes. A `MOVED` reply updates
/// one slot in place (to a known primary); anything else new waits for a refresh,
/// which installs a new view.
#[derive(Debug)]
pub(crate) struct View {
    shards: Vec<ShardNodes>,
    table: Box<[AtomicU16]>,
    /// Primaries a `MOVED` named that the view did not list as primaries (a replica
    /// promoted by a failover, a node added): slot entries from `shards.len()` on
    /// point here, until a refresh installs a new view.
    promoted: std::sync::Mutex<Vec<Arc<Node>>>,
}

impl View {
    /// Serves nothing (before the first refresh).
    pub(crate) fn empty() -> Self {
        View {
            shards: Vec::new(),
            table: (0..SLOTS).map(|_| AtomicU16::new(NONE)).collect(),
            promoted: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The view of `topology`, with `node` giving the node of each address.
    pub(crate) fn new(topology: &Topology, node: impl Fn(&str) -> Arc<Node>) -> Self {
        let shards = topology
            .shards
            .iter()
            .map(|s| ShardNodes {
                primary: node(&s.primary.address),
                replicas: s
                    .replicas
                    .iter()
                    .filter(|r| r.healthy)
                    .map(|r| (node(&r.address), r.zone.clone()))
                    .collect(),
                listed_replicas: s.replicas.len(),
            })
            .collect();
        View {
            shards,
            promoted: std::sync::Mutex::new(Vec::new()),
            table: topology
                .slot_table()
                .into_iter()
                .map(AtomicU16::new)
                .collect(),
        }
    }

    /// The primary serving `slot`, if one is known.
    pub(crate) fn primary_of(&self, slot: u16) -> Option<Arc<Node>> {
        let i = self.table.get(slot as usize)?.load(Ordering::Relaxed) as usize;
        match self.shards.get(i) {
            Some(s) => Some(s.primary.clone()),
            None if i == NONE as usize => None,
            None => self
                .promoted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(i - self.shards.len())
                .cloned(),
        }
    }

    /// The primary serving `slot` and its healthy replicas.
    pub(crate) fn shard_of(&self, slot: u16) -> Option<(&Arc<Node>, &[Replica])> {
        let i = self.table.get(slot as usize)?.load(Ordering::Relaxed);
        self.shards
            .get(i as usize)
            .map(|s| (&s.primary, s.replicas.as_slice()))
    }

    /// How many replicas the shard serving `slot` has, healthy or not, if the slot is
    /// served by a shard of this view (for the replicated lock).
    #[cfg(feature = "lock")]
    pub(crate) fn replicas_listed(&self, slot: u16) -> Option<usize> {
        let i = self.table.get(slot as usize)?.load(Ordering::Relaxed);
        self.shards.get(i as usize).map(|s| s.listed_replicas)
    }

    /// Records a `MOVED`: `slot` is now served by `node`, a primary whether or not
    /// this view lists it as one (a promoted replica is noted until a refresh).
    pub(crate) fn moved(&self, slot: u16, node: &Arc<Node>) {
        let i = match self
            .shards
            .iter()
            .position(|s| s.primary.address() == node.address())
        {
            Some(i) => i,
            None => {
                let mut promoted = self.promoted.lock().unwrap_or_else(|e| e.into_inner());
                let k = match promoted.iter().position(|n| n.address() == node.address()) {
                    Some(k) => k,
                    None => {
                        promoted.push(node.clone());
                        promoted.len() - 1
                    }
                };
                self.shards.len() + k
            }
        };
        if let (Some(entry), Ok(i)) = (self.table.get(slot as usize), u16::try_from(i)) {
            if i != NONE {
                entry.store(i, Ordering::Relaxed);
            }
        }
    }

    /// The slots `node` serves, in order.
    pub(crate) fn slots_of(&self, node: &Arc<Node>) -> Vec<u16> {
        let Some(i) = self
            .shards
            .iter()
            .position(|s| Arc::ptr_eq(&s.primary, node))
        else {
            return Vec::new();
        };
        (0..SLOTS)
            .filter(|&s| self.table[s as usize].load(Ordering::Relaxed) == i as u16)
            .collect()
    }

    /// Every primary.
    pub(crate) fn primaries(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.shards.iter().map(|s| &s.primary)
    }

    /// Every node, primaries first.
    pub(crate) fn all_nodes(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.primaries().chain(
            self.shards
                .iter()
                .flat_map(|s| s.replicas.iter().map(|(n, _)| n)),
        )
    }

    /// Whether every slot is served.
    pub(crate) fn is_complete(&self) -> bool {
        !self.shards.is_empty() && self.table.iter().all(|s| s.load(Ordering::Relaxed) != NONE)
    }
}
