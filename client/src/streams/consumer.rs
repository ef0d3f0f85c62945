//! [`GroupConsumer`]: a consumer of a group, as a stream of [`Entry`]
//! (`XREADGROUP`), acknowledging explicitly ([`GroupConsumer::ack`], an [`Acker`])
//! or after a handler succeeds ([`GroupConsumer::run`], in `run.rs`).

use super::entry::Entry;
use super::error::StreamError;
use super::feed::{Feed, Fetch};
use super::group::DeadLetter;
use crate::{Client, Commands};
use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// A started consumer's fixed options, shared by its reads and its [`Acker`]s.
pub(super) struct Group {
    pub(super) client: Client,
    pub(super) key: Bytes,
    pub(super) group: Bytes,
    pub(super) consumer: Bytes,
    /// Milliseconds.
    pub(super) block: u64,
    pub(super) count: u64,
    /// Milliseconds; `None`: no claims.
    pub(super) claim_idle: Option<u64>,
    pub(super) claim_interval: Duration,
    pub(super) dead_letter: Option<DeadLetter>,
    pub(super) label: Arc<str>,
}

impl Group {
    /// `XACK` of `ids` (none: nothing sent); how many were pending.
    pub(super) async fn ack<I: AsRef<[u8]>>(
        &self,
        ids: impl IntoIterator<Item = I>,
    ) -> Result<u64, StreamError> {
        let ids: Vec<Bytes> = ids
            .into_iter()
            .map(|id| Bytes::copy_from_slice(id.as_ref()))
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let n: i64 = self
            .client
            .xack(&self.key, &self.group, ids)
            .decode()
            .await
            .map_err(|e| StreamError::client(&self.label, "XACK", e))?;
        Ok(n.max(0) as u64)
    }
}

/// Where a consumer's reads are, owned by the read in flight.
pub(super) struct GroupState {
    pub(super) group: Arc<Group>,
    /// Reading the consumer's own pending entries again, after this ID; `None` once
    /// they are all read (then new entries, `>`).
    pub(super) pending_after: Option<Bytes>,
    /// Where the current round of claims goes on (`0-0`: from the start).
    pub(super) claim_cursor: Bytes,
    /// When the next round of claims is due.
    pub(super) next_claim: Instant,
}

/// A consumer of a stream's group (from [`GroupBuilder::start`](super::GroupBuilder::start)):
/// its own pending entries first, then new ones (`XREADGROUP ... >` with `BLOCK`, on
/// a pooled connection), with the entries other consumers left pending too long
/// claimed in between (`XAUTOCLAIM`), and those delivered too many times sent to the
/// dead-letter callback. Also a [`futures_core::Stream`], which never ends.
///
/// Entries handed out stay pending until acknowledged: [`ack`](GroupConsumer::ack)
/// them (or through an [`Acker`] on another task), or let
/// [`run`](GroupConsumer::run) acknowledge each one its handler accepts. A read that
/// fails (a lost connection) is an error item; the next call reads again.
pub struct GroupConsumer {
    pub(super) feed: Feed<GroupState>,
    pub(super) group: Arc<Group>,
}

impl std::fmt::Debug for GroupConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupConsumer")
            .field("consumer", &self.group.label)
            .field("buffered", &self.feed.buffered())
            .field(
                "reading_pending",
                &self.feed.state().map(|s| s.pending_after.is_some()),
            )
            .finish()
    }
}

impl GroupConsumer {
    pub(super) fn new(group: Group) -> Self {
        let group = Arc::new(group);
        GroupConsumer {
            feed: Feed::new(GroupState {
                group: group.clone(),
                pending_after: Some(Bytes::from_static(b"0-0")),
                claim_cursor: Bytes::from_static(b"0-0"),
                next_claim: Instant::now(),
            }),
            group,
        }
    }

    /// The next entry, waiting as long as it takes. It stays pending until
    /// acknowledged.
    pub async fn next(&mut self) -> Result<Entry, StreamError> {
        std::future::poll_fn(|cx| self.poll_entry(cx)).await
    }

    /// Every entry fetched and not yet handed out, or the next read's (at most
    /// [`count`](super::GroupBuilder::count)).
    pub async fn next_batch(&mut self) -> Result<Vec<Entry>, StreamError> {
        std::future::poll_fn(|cx| self.feed.poll_batch(cx, fetch)).await
    }

    fn poll_entry(&mut self, cx: &mut Context<'_>) -> Poll<Result<Entry, StreamError>> {
        self.feed.poll_entry(cx, fetch)
    }

    /// Acknowledges `entry` (`XACK`): the group forgets it. False when it was not
    /// pending any more (acknowledged already, or claimed and acknowledged by
    /// another consumer).
    pub async fn ack(&self, entry: &Entry) -> Result<bool, StreamError> {
        Ok(self.group.ack([&entry.id]).await? == 1)
    }

    /// A handle that acknowledges this consumer's entries from another task.
    pub fn acker(&self) -> Acker {
        Acker {
            group: self.group.clone(),
        }
    }

    /// The stream read.
    pub fn stream(&self) -> &[u8] {
        &self.group.key
    }

    /// The group.
    pub fn group(&self) -> &[u8] {
        &self.group.group
    }

    /// The consumer's name in the group.
    pub fn name(&self) -> &[u8] {
        &self.group.consumer
    }
}

fn fetch(state: GroupState) -> Fetch<GroupState> {
    Box::pin(super::delivery::read(state))
}

impl futures_core::Stream for GroupConsumer {
    type Item = Result<Entry, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_entry(cx).map(Some)
    }
}

/// Acknowledges entries of a [`GroupConsumer`] from any task (from
/// [`GroupConsumer::acker`]); cheap to clone.
#[derive(Clone)]
pub struct Acker {
    group: Arc<Group>,
}

impl std::fmt::Debug for Acker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acker")
            .field("consumer", &self.group.label)
            .finish()
    }
}

impl Acker {
    /// Acknowledges `entry` (`XACK`); false when it was not pending any more.
    pub async fn ack(&self, entry: &Entry) -> Result<bool, StreamError> {
        Ok(self.group.ack([&entry.id]).await? == 1)
    }

    /// Acknowledges the entries `ids` in one `XACK` (nothing is sent for none); how
    /// many of them were pending.
    pub async fn ack_ids<I: AsRef<[u8]>>(
        &self,
        ids: impl IntoIterator<Item = I>,
    ) -> Result<u64, StreamError> {
        self.group.ack(ids).await
    }
}
