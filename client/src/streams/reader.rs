//! [`StreamReader`]: one or more streams read with `XREAD BLOCK`, as a stream of
//! [`Entry`] in order per stream, remembering the last ID read of each.

use super::entry::{Entry, Start};
use super::error::StreamError;
use super::feed::{Feed, Fetch};
use super::options::{self, DEFAULT_BLOCK, DEFAULT_COUNT};
use crate::{Client, Commands};
use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The options of a [`StreamReader`] (from [`Client::stream_reader`]): the streams
/// and where each starts, the block time, the count. [`start`](ReaderBuilder::start)
/// checks them and gives the reader.
#[derive(Debug, Clone)]
#[must_use = "a reader does nothing until started"]
pub struct ReaderBuilder {
    client: Client,
    streams: Vec<(Bytes, Start)>,
    block: Duration,
    count: u64,
}

impl Client {
    /// A reader of streams with `XREAD` (no group): add each stream with
    /// [`stream`](ReaderBuilder::stream), then [`start`](ReaderBuilder::start) it.
    /// See [`crate::streams`].
    pub fn stream_reader(&self) -> ReaderBuilder {
        ReaderBuilder {
            client: self.clone(),
            streams: Vec::new(),
            block: DEFAULT_BLOCK,
            count: DEFAULT_COUNT,
        }
    }
}

impl ReaderBuilder {
    /// Reads the stream `key` too, from `start`. On a cluster client, every stream of
    /// one reader must be in one slot (keys sharing a hash tag).
    pub fn stream(mut self, key: impl AsRef<[u8]>, start: Start) -> Self {
        self.streams
            .push((Bytes::copy_from_slice(key.as_ref()), start));
        self
    }

    /// The longest one read waits for new entries (`BLOCK`; default 2 s), at least
    /// 1 ms: the reader then reads again, so this only bounds how long a dead
    /// connection can go unnoticed.
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block;
        self
    }

    /// The most entries one read returns per stream (`COUNT`; default 100), at
    /// least 1.
    pub fn count(mut self, count: u64) -> Self {
        self.count = count;
        self
    }

    fn label(&self) -> String {
        let keys: Vec<String> = self
            .streams
            .iter()
            .map(|(k, _)| options::shown(k))
            .collect();
        format!("stream reader of {}", keys.join(", "))
    }

    /// Checks the options (before anything is sent), finds where
    /// [`Start::New`] streams end now (`XREVRANGE key + - COUNT 1`: entries added
    /// from here on are read), and gives the reader.
    pub async fn start(self) -> Result<StreamReader, StreamError> {
        let label = self.label();
        if self.streams.is_empty() {
            return Err(StreamError::invalid(
                &label,
                "streams",
                "is empty: add at least one stream with `.stream(key, start)`",
            ));
        }
        let keys: Vec<Bytes> = self.streams.iter().map(|(k, _)| k.clone()).collect();
        if let Some(k) =
            (0..keys.len()).find_map(|i| keys[..i].contains(&keys[i]).then(|| &keys[i]))
        {
            return Err(StreamError::invalid(
                &label,
                "streams",
                format!("names {} twice", options::shown(k)),
            ));
        }
        if self.client.is_cluster() {
            options::one_slot(&label, &keys)?;
        }
        let block = options::block(&label, self.block)?;
        let count = options::count(&label, self.count)?;
        let mut ids = Vec::with_capacity(keys.len());
        for (key, start) in &self.streams {
            ids.push(match start {
                Start::Beginning => Bytes::from_static(b"0-0"),
                Start::After(id) => id.clone(),
                Start::New => last_id(&self.client, key)
                    .await
                    .map_err(|e| StreamError::client(&label, "XREVRANGE", e))?,
            });
        }
        let last = keys.iter().cloned().zip(ids.iter().cloned()).collect();
        let label: Arc<str> = label.into();
        Ok(StreamReader {
            feed: Feed::new(ReadState {
                client: self.client,
                keys,
                ids,
                block,
                count,
                label: label.clone(),
            }),
            last,
            label,
        })
    }
}

/// The ID of the last entry of `key` (`0-0` for an empty or missing stream).
pub(super) async fn last_id(client: &Client, key: &Bytes) -> crate::Result<Bytes> {
    let last = client.xrevrange(key, "+", "-").count(1).await?;
    Ok(last
        .into_iter()
        .next()
        .map(|e| e.id)
        .unwrap_or_else(|| Bytes::from_static(b"0-0")))
}

/// What a read needs, owned by the read in flight.
struct ReadState {
    client: Client,
    keys: Vec<Bytes>,
    /// The last ID read of each stream (or its start).
    ids: Vec<Bytes>,
    block: u64,
    count: u64,
    label: Arc<str>,
}

/// Reads until at least one entry arrives (each read waits at most the block time).
async fn read(mut st: ReadState) -> (ReadState, Result<Vec<Entry>, StreamError>) {
    loop {
        let reply = st
            .client
            .xread(&st.keys, &st.ids)
            .count(st.count)
            .block(st.block)
            .await;
        let streams = match reply {
            Err(e) => {
                let e = StreamError::client(&st.label, "XREAD", e);
                return (st, Err(e));
            }
            Ok(None) => continue,
            Ok(Some(streams)) => streams,
        };
        let mut out = Vec::new();
        for (key, entries) in streams {
            let (Some(i), Some(last)) = (st.keys.iter().position(|k| *k == key), entries.last())
            else {
                continue;
            };
            st.ids[i] = last.id.clone();
            out.extend(entries.into_iter().map(|e| Entry::new(&key, e, 0)));
        }
        if !out.is_empty() {
            return (st, Ok(out));
        }
    }
}

/// Entries of one or more streams, read with `XREAD BLOCK` on a pooled connection
/// (from [`ReaderBuilder::start`]); in order within each stream. Also a
/// [`futures_core::Stream`], which never ends.
///
/// A read that fails (a lost connection) is an error item; the next call reads
/// again from the last entry read, so nothing is skipped.
pub struct StreamReader {
    feed: Feed<ReadState>,
    /// The last ID handed out of each stream (or its start).
    last: Vec<(Bytes, Bytes)>,
    label: Arc<str>,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("consumer", &self.label)
            .field("last_ids", &self.last)
            .field("buffered", &self.feed.buffered())
            .finish()
    }
}

impl StreamReader {
    /// The next entry, waiting as long as it takes.
    pub async fn next(&mut self) -> Result<Entry, StreamError> {
        std::future::poll_fn(|cx| self.poll_entry(cx)).await
    }

    /// Each stream with the ID of the last entry handed out of it (or where it
    /// started): give it to [`Start::After`] to go on from there later.
    pub fn last_ids(&self) -> &[(Bytes, Bytes)] {
        &self.last
    }

    fn poll_entry(&mut self, cx: &mut Context<'_>) -> Poll<Result<Entry, StreamError>> {
        let polled = self
            .feed
            .poll_entry(cx, |st| -> Fetch<ReadState> { Box::pin(read(st)) });
        if let Poll::Ready(Ok(entry)) = &polled {
            if let Some((_, id)) = self.last.iter_mut().find(|(k, _)| *k == entry.stream) {
                *id = entry.id.clone();
            }
        }
        polled
    }
}

impl futures_core::Stream for StreamReader {
    type Item = Result<Entry, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_entry(cx).map(Some)
    }
}
