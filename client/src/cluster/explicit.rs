//! Explicit routing (justredis's `endpoint=`): a client of one node of the cluster,
//! with the whole typed API, for what the automatic routing does not decide: a
//! command for one chosen node, every primary or every node with per-node results
//! (`INFO` of each, `CLIENT LIST` everywhere), a node by key or slot.

use crate::client::Client;
use crate::command::{arg_bytes, ToArg};
use crate::error::{Error, Result};
use respec_protocol::cluster::slot;

impl Client {
    /// A client of the one node at `address` (`host:port`) of this cluster: the
    /// node's own connections, shared with the cluster client. On a client of one
    /// server, that server's client when the address is its own.
    pub async fn node_client(&self, address: &str) -> Result<Client> {
        match self.cluster() {
            #[cfg(feature = "cluster")]
            Some(cluster) => cluster.node(address).client().await,
            _ => match super::address_text(&self.config().address) {
                Some(own) if own == address => Ok(self.clone()),
                _ => Err(Error::config(format!(
                    "{address} is not the server of this client"
                ))),
            },
        }
    }

    /// A client of each primary of the cluster, in slot order (one server: itself).
    pub async fn primary_clients(&self) -> Result<Vec<Client>> {
        match self.cluster() {
            #[cfg(feature = "cluster")]
            Some(cluster) => clients(cluster.view().primaries()).await,
            _ => Ok(vec![self.clone()]),
        }
    }

    /// A client of every node of the cluster, primaries first, then the healthy
    /// replicas (one server: itself).
    pub async fn node_clients(&self) -> Result<Vec<Client>> {
        match self.cluster() {
            #[cfg(feature = "cluster")]
            Some(cluster) => clients(cluster.view().all_nodes()).await,
            _ => Ok(vec![self.clone()]),
        }
    }

    /// A client of the primary serving `key`'s slot (one server: itself).
    pub async fn client_for_key(&self, key: impl ToArg) -> Result<Client> {
        self.client_for_slot(slot(&arg_bytes(key))).await
    }

    /// A client of the primary serving `slot` (one server: itself).
    #[cfg_attr(not(feature = "cluster"), allow(unused_variables))]
    pub async fn client_for_slot(&self, slot: u16) -> Result<Client> {
        match self.cluster() {
            #[cfg(feature = "cluster")]
            Some(cluster) => primary_client(cluster, slot).await,
            _ => Ok(self.clone()),
        }
    }

    /// The address (`host:port`) of this client's server; on a cluster client, of
    /// its first primary; on a client of a service behind sentinels, of the node it
    /// is connected to now.
    pub fn address(&self) -> String {
        self.connection().address().to_string()
    }
}

/// A client of each of `nodes`, in order.
#[cfg(feature = "cluster")]
async fn clients<'a>(
    nodes: impl Iterator<Item = &'a std::sync::Arc<super::Node>>,
) -> Result<Vec<Client>> {
    let nodes: Vec<_> = nodes.cloned().collect();
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        out.push(node.client().await?);
    }
    Ok(out)
}

/// A client of the primary serving `slot`, refreshing the slot map once when it
/// names none.
#[cfg(feature = "cluster")]
async fn primary_client(cluster: &std::sync::Arc<super::Cluster>, slot: u16) -> Result<Client> {
    let node = match cluster.view().primary_of(slot) {
        Some(node) => node,
        None => {
            cluster.refresh_now().await?;
            cluster
                .view()
                .primary_of(slot)
                .ok_or_else(|| Error::config(format!("no node serves slot {slot}")))?
        }
    };
    node.client().await
}
