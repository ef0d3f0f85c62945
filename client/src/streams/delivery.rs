//! How entries reach a group consumer: its own pending entries read again after a
//! restart (`XREADGROUP ... 0`), entries claimed from consumers that left them
//! pending too long (`XAUTOCLAIM`, every claim interval), new entries
//! (`XREADGROUP ... >` with `BLOCK`); the delivery count of each entry read again or
//! claimed (`XPENDING`), and the dead-letter callback for those delivered too often.

use super::consumer::{Group, GroupState};
use super::entry::Entry;
use super::error::StreamError;
use crate::reply::StreamEntry;
use crate::{cmd, Commands};
use tokio::time::Instant;

/// Reads until at least one entry is ready for the consumer.
pub(super) async fn read(mut st: GroupState) -> (GroupState, Result<Vec<Entry>, StreamError>) {
    let result = ready(&mut st).await;
    (st, result)
}

async fn ready(st: &mut GroupState) -> Result<Vec<Entry>, StreamError> {
    let g = st.group.clone();
    loop {
        if let Some(after) = st.pending_after.clone() {
            let entries = g.read_group(&after, None).await?;
            let Some(last) = entries.last().map(|e| e.id.clone()) else {
                st.pending_after = None;
                continue;
            };
            // Past them only once sorted: after an error they are read again.
            let entries = g.sort(entries).await?;
            st.pending_after = Some(last);
            if !entries.is_empty() {
                return Ok(entries);
            }
            continue;
        }
        if let Some(idle) = g.claim_idle {
            if Instant::now() >= st.next_claim {
                let entries = g.claim(st, idle).await?;
                if !entries.is_empty() {
                    return Ok(entries);
                }
                continue;
            }
        }
        // New entries, waiting no later than the next round of claims.
        let mut block = g.block;
        if g.claim_idle.is_some() {
            let until = st.next_claim.saturating_duration_since(Instant::now());
            block = block.min(until.as_millis() as u64).max(1);
        }
        let entries = g.read_group(b">", Some(block)).await?;
        if !entries.is_empty() {
            return Ok(entries
                .into_iter()
                .map(|e| Entry::new(&g.key, e, 1))
                .collect());
        }
    }
}

impl Group {
    /// `XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS key id`: the
    /// entries of the consumer's stream.
    async fn read_group(
        &self,
        id: &[u8],
        block: Option<u64>,
    ) -> Result<Vec<StreamEntry>, StreamError> {
        let read = self
            .client
            .xreadgroup(&self.group, &self.consumer, [&self.key], [id])
            .count(self.count);
        let reply = match block {
            Some(ms) => read.block(ms).await,
            None => read.await,
        }
        .map_err(|e| StreamError::client(&self.label, "XREADGROUP", e))?;
        Ok(reply
            .into_iter()
            .flatten()
            .filter(|(key, _)| *key == self.key)
            .flat_map(|(_, entries)| entries)
            .collect())
    }

    /// One step of the round of claims: `XAUTOCLAIM` from where the round is; the
    /// round ends (and the next is due an interval later) when the server says the
    /// whole pending list was scanned.
    async fn claim(&self, st: &mut GroupState, idle: u64) -> Result<Vec<Entry>, StreamError> {
        let (cursor, claimed, _deleted) = self
            .client
            .xautoclaim(
                &self.key,
                &self.group,
                &self.consumer,
                idle,
                &st.claim_cursor,
            )
            .count(self.count)
            .await
            .map_err(|e| StreamError::client(&self.label, "XAUTOCLAIM", e))?;
        if &cursor[..] == b"0-0" {
            st.next_claim = Instant::now() + self.claim_interval;
        }
        st.claim_cursor = cursor;
        if !claimed.is_empty() {
            tracing::debug!(consumer = %self.label, claimed = claimed.len(), "claimed idle pending entries");
        }
        self.sort(claimed).await
    }

    /// Entries read again or just claimed: deleted ones (no fields) acknowledged;
    /// each live one with its delivery count (`XPENDING key group id id 1 consumer`,
    /// all in one round trip), dropped when it is not this consumer's any more
    /// (acknowledged or claimed by another meanwhile); those delivered more than
    /// the dead-letter limit handed to its callback and acknowledged; the rest.
    async fn sort(&self, entries: Vec<StreamEntry>) -> Result<Vec<Entry>, StreamError> {
        let (live, deleted): (Vec<_>, Vec<_>) =
            entries.into_iter().partition(|e| !e.fields.is_empty());
        self.ack(deleted.iter().map(|e| &e.id)).await?;
        if live.is_empty() {
            return Ok(Vec::new());
        }
        let pending = self
            .client
            .batch(live.iter().map(|e| {
                cmd::xpending(&self.key, &self.group).filters(
                    None,
                    &e.id,
                    &e.id,
                    1,
                    Some(self.consumer.clone()),
                )
            }))
            .await
            .map_err(|e| StreamError::client(&self.label, "XPENDING", e))?;
        let mut ready = Vec::with_capacity(live.len());
        let mut dead = Vec::new();
        for (entry, pending) in live.into_iter().zip(pending) {
            let Some(&(_, _, _, deliveries)) = pending.first() else {
                continue;
            };
            let entry = Entry::new(&self.key, entry, deliveries.max(0) as u64);
            match &self.dead_letter {
                Some(d) if entry.deliveries > d.max_deliveries => dead.push(entry),
                _ => ready.push(entry),
            }
        }
        self.bury(dead).await?;
        Ok(ready)
    }

    /// Hands each entry to the dead-letter callback, and acknowledges those it took.
    async fn bury(&self, dead: Vec<Entry>) -> Result<(), StreamError> {
        let Some(d) = &self.dead_letter else {
            return Ok(());
        };
        let mut taken = Vec::with_capacity(dead.len());
        for entry in dead {
            let id = entry.id.clone();
            let deliveries = entry.deliveries;
            match (d.callback)(entry).await {
                Ok(()) => taken.push(id),
                Err(e) => tracing::warn!(
                    consumer = %self.label,
                    id = %String::from_utf8_lossy(&id),
                    deliveries,
                    error = %e,
                    "the dead-letter callback failed: the entry stays pending"
                ),
            }
        }
        self.ack(taken).await?;
        Ok(())
    }
}
