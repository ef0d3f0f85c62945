//! The replicated lock's confirmation: after the acquisition on the primary, `WAIT`
//! on the same connection for enough of its replicas to acknowledge it.

use super::error::LockError;
use crate::error::Result;
use crate::Client;
use std::time::Duration;

/// How many of the primary's replicas must acknowledge a replicated acquisition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quorum {
    /// More than half of the replicas the primary has: on a cluster, every replica
    /// the slot map lists for the key's shard, reachable or not (one that is down
    /// still counts, and cannot acknowledge); on one server or a sentinel-managed
    /// primary, the replicas connected to it now (`INFO replication`), which does not
    /// count those that are down: name the number with [`AtLeast`](Quorum::AtLeast)
    /// there. No replicas: nothing to wait for.
    Majority,
    /// At least this many replicas.
    AtLeast(u32),
}

/// A replicated lock's quorum and how long it waits for it.
#[derive(Debug, Clone)]
pub(crate) struct Replication {
    pub(crate) quorum: Quorum,
    pub(crate) wait: Duration,
}

impl Replication {
    /// Waits (`WAIT`) on `node`, the client of the primary that ran the acquisition
    /// (so the wait covers it), for the quorum; `Err` names how many acknowledged when
    /// too few did.
    pub(crate) async fn confirm(
        &self,
        lock: &super::Lock,
        node: &Client,
    ) -> std::result::Result<(), LockError> {
        let failed = |e| LockError::client(&lock.name, "confirming the acquisition on replicas", e);
        let needed = self.needed(lock, node).await.map_err(failed)?;
        if needed == 0 {
            return Ok(());
        }
        let wait = crate::raw_cmd("WAIT")
            .arg(needed)
            .arg(self.wait.as_millis() as u64);
        let acked: i64 = node.send(wait.decode()).await.map_err(failed)?;
        if acked >= needed {
            Ok(())
        } else {
            Err(LockError::not_replicated(&lock.name, acked, needed))
        }
    }

    /// How many acknowledgements the quorum asks for.
    async fn needed(&self, lock: &super::Lock, node: &Client) -> Result<i64> {
        let replicas = match self.quorum {
            Quorum::AtLeast(n) => return Ok(i64::from(n)),
            Quorum::Majority => match lock.client.cluster() {
                #[cfg(feature = "cluster")]
                Some(cluster) => {
                    let slot = crate::cluster::slot(&lock.key);
                    match cluster.view().replicas_listed(slot) {
                        Some(n) => n,
                        // A primary a `MOVED` named (a failover the slot map has not
                        // caught up with): read it again rather than count no replicas.
                        None => {
                            cluster.refresh_now().await?;
                            cluster.view().replicas_listed(slot).ok_or_else(|| {
                                crate::Error::config(format!(
                                    "the slot map shows no shard serving slot {slot}"
                                ))
                            })?
                        }
                    }
                }
                _ => connected_replicas(node).await?,
            },
        };
        Ok(if replicas == 0 {
            0
        } else {
            replicas as i64 / 2 + 1
        })
    }
}

/// The replicas connected to the server of `node` (`connected_slaves` of
/// `INFO replication`).
async fn connected_replicas(node: &Client) -> Result<usize> {
    let info: String = node
        .send(crate::raw_cmd("INFO").arg("replication").decode())
        .await?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("connected_slaves:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0))
}
