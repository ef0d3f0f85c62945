//! The pub/sub workloads: one publisher and one or more subscribers of one channel,
//! every message counted and checked in order, its latency from publish to receipt.
//!
//! The publisher is the peer's shared connection ([`Peer::publish`],
//! [`Peer::pipeline_publish`]); each subscriber has a connection of its own
//! ([`Peer::subscriber`]) and a task of its own that receives messages. In the shared
//! rows ([`Shape::shared`]), one subscriber rides the publishing RESP3 connection
//! itself ([`Peer::shared_pubsub`]), its messages arriving among the `PUBLISH`
//! replies. Every payload
//! is a [`Stamp`]: a sequence number and the time it was published. A subscriber
//! checks that the sequence numbers come one after the other (a lost, repeated or
//! reordered message fails the cell) and records, for each message, the time from its
//! publication to its receipt. The publisher checks that every `PUBLISH` reached every
//! subscriber (its reply counts the receivers), keeps at most the workload's window of
//! messages published but not yet received by every subscriber, and fails the cell if
//! the subscribers stop making progress for [`STALL`] (messages lost).
//!
//! With a window of 1 the publisher sends one `PUBLISH` and waits until every
//! subscriber has received it; with a larger window it sends explicit pipelines of
//! half the window, and sends the next as soon as every subscriber has received the
//! one before the last (so at most a window of messages is unreceived).
//!
//! The subscribers are connected once per cell, for its warm-up and its measurement,
//! on a channel of its own (so that no subscriber of an earlier cell, still closing,
//! receives its messages), and closed after it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::peers::{Peer, Subscriber};
use crate::stats::Latencies;
use crate::workload::Cell;

/// The length of a published payload (as the small values: 32 bytes).
pub const PAYLOAD_LEN: usize = crate::workload::SMALL_VALUE_LEN;

/// How long the subscribers may make no progress before the cell fails (messages
/// were lost, or a client is stuck).
pub const STALL: Duration = Duration::from_secs(5);

/// The sequence number of the message that ends a run (not counted).
const STOP: u64 = u64::MAX;

/// What a payload carries: its sequence number in the run and when it was published
/// (nanoseconds since the run's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// 0 for the first message of a run, then one more for each.
    pub seq: u64,
    /// When the publisher sent it, in nanoseconds since the run's start.
    pub sent: u64,
}

impl Stamp {
    /// The payload: the sequence number and the time, little-endian, then padding.
    pub fn encode(self) -> [u8; PAYLOAD_LEN] {
        let mut payload = [b'p'; PAYLOAD_LEN];
        payload[..8].copy_from_slice(&self.seq.to_le_bytes());
        payload[8..16].copy_from_slice(&self.sent.to_le_bytes());
        payload
    }

    /// The stamp of a payload made by [`Stamp::encode`].
    pub fn decode(payload: &[u8]) -> Result<Stamp> {
        ensure!(
            payload.len() == PAYLOAD_LEN && payload[16..].iter().all(|&b| b == b'p'),
            "a payload of {} bytes that is not a stamp",
            payload.len()
        );
        let word = |at: usize| u64::from_le_bytes(payload[at..at + 8].try_into().expect("8"));
        Ok(Stamp {
            seq: word(0),
            sent: word(8),
        })
    }
}

/// What a pub/sub cell runs.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Subscribers, each receiving every message.
    pub subscribers: usize,
    /// The most messages in flight.
    pub window: usize,
    /// One subscriber on the publishing connection ([`Peer::shared_pubsub`]) instead
    /// of subscribers on connections of their own.
    pub shared: bool,
}

/// Runs a pub/sub workload on `peer`: connects the subscribers, warms up for
/// `warmup` (if not zero), measures for about `duration`, closes them. The cell counts
/// the messages each subscriber received (every one received them all) and the
/// latency of every delivery. Call it inside a task of the runtime.
pub async fn run_cell<P: Peer>(
    peer: P,
    shape: Shape,
    warmup: Duration,
    duration: Duration,
) -> Result<Cell> {
    static CELLS: AtomicU64 = AtomicU64::new(0);
    let Shape {
        subscribers,
        window,
        shared,
    } = shape;
    ensure!(subscribers > 0 && window > 0, "no subscriber, or no window");
    ensure!(
        !shared || subscribers == 1,
        "one subscriber on a shared connection"
    );
    let channel = format!("bench:pubsub:{}", CELLS.fetch_add(1, Ordering::Relaxed));
    if shared {
        let (publisher, sub) = peer
            .shared_pubsub(&channel)
            .await
            .with_context(|| format!("subscribing to {channel} on the publisher"))?;
        return measure(publisher, &channel, vec![sub], window, warmup, duration).await;
    }
    let mut subs = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        subs.push(
            peer.subscriber(&channel)
                .await
                .with_context(|| format!("subscribing to {channel}"))?,
        );
    }
    measure(peer, &channel, subs, window, warmup, duration).await
}

/// The warm-up and the measured run on connected subscribers, which are closed after.
async fn measure<P: Peer, S: Subscriber>(
    mut peer: P,
    channel: &str,
    mut subs: Vec<S>,
    window: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<Cell> {
    if !warmup.is_zero() {
        subs = run(&mut peer, channel, subs, window, warmup).await?.0;
    }
    let (subs, cell) = run(&mut peer, channel, subs, window, duration).await?;
    for sub in subs {
        sub.close().await.context("closing a subscriber")?;
    }
    Ok(cell)
}

/// A subscriber's task: the subscriber back and its latencies, at the end of a run.
type Receiving<S> = JoinHandle<Result<(S, Latencies)>>;

/// One run on connected subscribers: they are handed back at its end.
async fn run<P: Peer, S: Subscriber>(
    peer: &mut P,
    channel: &str,
    subs: Vec<S>,
    window: usize,
    duration: Duration,
) -> Result<(Vec<S>, Cell)> {
    let progress = Arc::new(Progress::new(subs.len()));
    let base = Instant::now();
    let tasks: Vec<Receiving<S>> = subs
        .into_iter()
        .enumerate()
        .map(|(index, sub)| tokio::spawn(receive(sub, index, progress.clone(), base)))
        .collect();
    let published = publish(peer, channel, window, &progress, base, duration).await;
    let (messages, elapsed) = match published {
        Ok(done) => done,
        Err(err) => {
            for task in &tasks {
                task.abort();
            }
            return Err(err);
        }
    };
    let mut subs = Vec::with_capacity(tasks.len());
    let mut latencies = Latencies::new();
    for task in tasks {
        let (sub, received) = task.await.context("a subscriber task panicked")??;
        ensure!(
            received.len() as u64 == messages,
            "a subscriber received {} of {messages} messages",
            received.len()
        );
        latencies.extend(received);
        subs.push(sub);
    }
    latencies.sort();
    let cell = Cell {
        commands: messages,
        elapsed,
        latencies,
    };
    Ok((subs, cell))
}

/// The publisher: publishes until `duration` has passed, then waits until every
/// subscriber has received everything and publishes the [`STOP`] message. Returns the
/// messages published (not counting it) and the time from the first publish to the
/// receipt of the last message by the last subscriber.
async fn publish<P: Peer>(
    peer: &mut P,
    channel: &str,
    window: usize,
    progress: &Progress,
    base: Instant,
    duration: Duration,
) -> Result<(u64, Duration)> {
    let subscribers = progress.received.len() as u64;
    let batch = window.div_ceil(2);
    let mut payloads = vec![[0; PAYLOAD_LEN]; batch];
    let start = Instant::now();
    let deadline = start + duration;
    let mut published = 0u64;
    while Instant::now() < deadline {
        // Every message but the last `window - batch` received: room for a batch.
        progress
            .wait(published.saturating_sub((window - batch) as u64))
            .await?;
        let sent = nanos(base.elapsed());
        for (seq, payload) in (published..).zip(&mut payloads) {
            *payload = Stamp { seq, sent }.encode();
        }
        let receivers = if batch == 1 {
            peer.publish(channel, &payloads[0]).await?
        } else {
            peer.pipeline_publish(channel, &payloads).await?
        };
        ensure!(
            receivers == subscribers * batch as u64,
            "{batch} PUBLISH reached {receivers} subscribers in all, not {subscribers} each"
        );
        published += batch as u64;
    }
    progress.wait(published).await?;
    let elapsed = start.elapsed();
    let stop = Stamp { seq: STOP, sent: 0 }.encode();
    let receivers = peer.publish(channel, &stop).await?;
    ensure!(
        receivers == subscribers,
        "the last PUBLISH reached {receivers} of {subscribers} subscribers"
    );
    Ok((published, elapsed))
}

/// A subscriber's task: receives until the [`STOP`] message, checking the order,
/// recording each message's latency and reporting its count to the publisher.
async fn receive<S: Subscriber>(
    mut sub: S,
    index: usize,
    progress: Arc<Progress>,
    base: Instant,
) -> Result<(S, Latencies)> {
    let mut latencies = Latencies::new();
    let mut expected = 0u64;
    let received = async {
        loop {
            let stamp = sub.next().await?;
            let now = nanos(base.elapsed());
            if stamp.seq == STOP {
                return Ok(());
            }
            ensure!(
                stamp.seq == expected,
                "message {} received when {expected} was expected: messages were lost, \
                 repeated or reordered",
                stamp.seq
            );
            latencies.record(Duration::from_nanos(now.saturating_sub(stamp.sent)));
            expected += 1;
            progress.record(index, expected);
        }
    }
    .await;
    match received {
        Ok(()) => Ok((sub, latencies)),
        Err(err) => {
            let err = err.context(format!("subscriber {index}"));
            progress.fail(&err);
            Err(err)
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// What the subscribers have received, for the publisher to wait on.
struct Progress {
    /// Messages each subscriber has received.
    received: Vec<AtomicU64>,
    /// The count the publisher waits for every subscriber to reach.
    target: AtomicU64,
    /// Wakes the publisher.
    notify: Notify,
    /// A subscriber's failure.
    error: Mutex<Option<String>>,
}

impl Progress {
    fn new(subscribers: usize) -> Progress {
        Progress {
            received: (0..subscribers).map(|_| AtomicU64::new(0)).collect(),
            target: AtomicU64::new(0),
            notify: Notify::new(),
            error: Mutex::new(None),
        }
    }

    /// Subscriber `index` has received `count` messages.
    fn record(&self, index: usize, count: u64) {
        // SeqCst here and in `wait`: either the publisher sees this count, or this
        // sees its new target and wakes it.
        self.received[index].store(count, Ordering::SeqCst);
        if count >= self.target.load(Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    /// A subscriber failed: the publisher stops waiting.
    fn fail(&self, err: &anyhow::Error) {
        let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
        error.get_or_insert_with(|| format!("{err:#}"));
        drop(error);
        self.notify.notify_one();
    }

    /// Waits until every subscriber has received `target` messages; fails if one
    /// failed, or if none makes progress for [`STALL`].
    async fn wait(&self, target: u64) -> Result<()> {
        self.target.store(target, Ordering::SeqCst);
        let mut least = u64::MAX;
        let mut deadline = Instant::now() + STALL;
        loop {
            if let Some(err) = &*self.error.lock().unwrap_or_else(|e| e.into_inner()) {
                bail!("{err}");
            }
            let slowest = self
                .received
                .iter()
                .map(|r| r.load(Ordering::SeqCst))
                .min()
                .unwrap_or(target);
            if slowest >= target {
                return Ok(());
            }
            if slowest != least {
                least = slowest;
                deadline = Instant::now() + STALL;
            }
            let woken = tokio::time::timeout_at(deadline.into(), self.notify.notified()).await;
            if woken.is_err() {
                let counts: Vec<u64> = self
                    .received
                    .iter()
                    .map(|r| r.load(Ordering::SeqCst))
                    .collect();
                bail!(
                    "no progress for {STALL:?}: the subscribers received {counts:?} of \
                     {target} messages (messages lost, or a client stuck)"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let stamp = Stamp {
            seq: 123_456_789,
            sent: 987_654_321_000,
        };
        assert_eq!(Stamp::decode(&stamp.encode()).unwrap(), stamp);
        assert!(Stamp::decode(b"short").is_err());
        assert!(Stamp::decode(&[0; PAYLOAD_LEN]).is_err());
    }
}
