//! The workloads of ARCHITECTURE.md §7, the data they read, and one time-boxed measurement of
//! one peer on one workload (a "cell" of the report).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use bytes::Bytes;

use crate::peers::{GetSet, Peer, Peers};
use crate::stats::Latencies;

/// The length of the small values (`GET`/`SET` round trips, pipelines).
pub const SMALL_VALUE_LEN: usize = 32;
/// Elements of the big list and fields of the big hash.
pub const LARGE_ITEMS: usize = 10_000;
/// The length of the large value: 1 MiB.
pub const LARGE_VALUE_LEN: usize = 1 << 20;
/// The keys of the `GET`/`SET` workloads: each operation picks one of this many at
/// random, as `redis-benchmark -r 1000` does.
pub const KEYSPACE: usize = 1000;
/// The longest explicit pipeline or transaction (one key per command).
pub const MAX_PIPELINE: usize = 1000;
/// The larger window of the pub/sub workloads: at most this many messages published
/// and not yet received by every subscriber. fred's default subscriber buffer (a
/// broadcast channel of 32 messages) loses messages beyond it.
pub const PUBSUB_WINDOW: usize = 32;

/// The key of the sequential `GET`s (holds a small value).
pub const SEQUENTIAL_KEY: &str = "bench:seq";
/// The list of [`LARGE_ITEMS`] elements.
pub const LIST_KEY: &str = "bench:list";
/// The hash of [`LARGE_ITEMS`] fields.
pub const HASH_KEY: &str = "bench:hash";
/// The key the large `GET`s read (holds a [`LARGE_VALUE_LEN`] value).
pub const LARGE_GET_KEY: &str = "bench:large:get";
/// The key the large `SET`s write.
pub const LARGE_SET_KEY: &str = "bench:large:set";

/// What one cell of the report measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// One task, one `GET` of a small value at a time.
    Sequential,
    /// [`Sequential`](Workload::Sequential) through the client's client-side cache
    /// (RESP3 `CLIENT TRACKING`): respec's `client_side_cache`, redis-rs'
    /// `cache-aio`; fred has none (not run).
    CachedGet,
    /// `n` tasks sharing the peer's one connection, each looping over random keys of
    /// the [`KEYSPACE`]: `GET` the key, then `SET` it (a small value). `Concurrent(1)` is
    /// the sequential `SET`/`GET` row.
    Concurrent(usize),
    /// One task sending explicit pipelines of `n` `SET`s of a small value.
    PipelineSet(usize),
    /// One task sending explicit pipelines of `n` `GET`s of a small value.
    PipelineGet(usize),
    /// One task sending `MULTI`/`EXEC` transactions of `n` `SET`s of a small value (the
    /// keys of the pipelines, so their values do not change), without waiting for the
    /// `QUEUED` replies.
    Transaction(usize),
    /// `LRANGE` of the whole list of [`LARGE_ITEMS`] elements.
    Lrange,
    /// `HGETALL` of the hash of [`LARGE_ITEMS`] fields.
    Hgetall,
    /// `SET` of a 1 MiB value.
    SetLarge,
    /// `GET` of a 1 MiB value.
    GetLarge,
    /// `SET` then `GET` of a 1 MiB value, alternating (one key).
    SetGetLarge,
    /// One publisher (the peer's shared connection) and `subscribers` subscribers of
    /// one channel (a connection each), at most `window` messages published and not yet
    /// received by every subscriber: one `PUBLISH` at a time for a window of 1, else
    /// explicit pipelines of half the window (see [`crate::pubsub`]).
    PubSub {
        /// Subscribers, each receiving every message.
        subscribers: usize,
        /// The most messages in flight.
        window: usize,
        /// One subscriber on the publisher's own RESP3 connection instead (messages
        /// are push frames among the replies): [`Peer::shared_pubsub`](crate::Peer::shared_pubsub).
        shared: bool,
    },
}

impl Workload {
    /// Every workload, in the report's row order.
    pub const ALL: [Workload; 21] = [
        Workload::Sequential,
        Workload::CachedGet,
        Workload::Concurrent(1),
        Workload::Concurrent(64),
        Workload::Concurrent(512),
        Workload::PipelineSet(100),
        Workload::PipelineSet(1000),
        Workload::PipelineGet(100),
        Workload::PipelineGet(1000),
        Workload::Transaction(100),
        Workload::Lrange,
        Workload::Hgetall,
        Workload::SetLarge,
        Workload::GetLarge,
        Workload::SetGetLarge,
        Workload::PubSub {
            subscribers: 1,
            window: 1,
            shared: false,
        },
        Workload::PubSub {
            subscribers: 1,
            window: PUBSUB_WINDOW,
            shared: false,
        },
        Workload::PubSub {
            subscribers: 10,
            window: 1,
            shared: false,
        },
        Workload::PubSub {
            subscribers: 10,
            window: PUBSUB_WINDOW,
            shared: false,
        },
        Workload::PubSub {
            subscribers: 1,
            window: 1,
            shared: true,
        },
        Workload::PubSub {
            subscribers: 1,
            window: PUBSUB_WINDOW,
            shared: true,
        },
    ];

    /// The row label.
    pub fn name(self) -> String {
        match self {
            Workload::Sequential => "sequential GET".to_owned(),
            Workload::CachedGet => "sequential GET, client cache".to_owned(),
            Workload::Concurrent(1) => "sequential SET/GET".to_owned(),
            Workload::Concurrent(n) => format!("{n} tasks GET/SET"),
            Workload::PipelineSet(n) => format!("pipeline {n} SET"),
            Workload::PipelineGet(n) => format!("pipeline {n} GET"),
            Workload::Transaction(n) => format!("transaction {n} SET"),
            Workload::Lrange => "LRANGE 10k".to_owned(),
            Workload::Hgetall => "HGETALL 10k".to_owned(),
            Workload::SetLarge => "SET 1 MiB".to_owned(),
            Workload::GetLarge => "GET 1 MiB".to_owned(),
            Workload::SetGetLarge => "1 MiB SET+GET".to_owned(),
            Workload::PubSub {
                subscribers,
                window,
                shared: false,
            } => format!(
                "pubsub 1 pub {subscribers} sub{}, {window} in flight",
                if subscribers == 1 { "" } else { "s" }
            ),
            Workload::PubSub {
                window,
                shared: true,
                ..
            } => format!("pubsub shared conn 1 sub, {window} in flight"),
        }
    }

    /// Commands per measured operation: the pipeline length for pipelines, the queued
    /// commands for transactions (`MULTI` and `EXEC` not counted), else 1 (a pub/sub
    /// cell counts messages received by each subscriber instead).
    pub fn commands_per_op(self) -> usize {
        match self {
            Workload::PipelineSet(n) | Workload::PipelineGet(n) | Workload::Transaction(n) => n,
            _ => 1,
        }
    }

    /// Whether `peer` runs this workload (fred has no client-side cache).
    pub fn runs_on(self, peer: crate::peers::PeerId) -> bool {
        !(self == Workload::CachedGet && peer == crate::peers::PeerId::Fred)
    }

    /// True for the rows of several tasks on one connection, which get more reps
    /// (their throughput has been seen to vary from rep to rep).
    pub fn is_concurrent(self) -> bool {
        matches!(self, Workload::Concurrent(n) if n > 1)
    }
}

/// What the workloads read and write, shared by every task.
#[derive(Debug)]
pub struct Data {
    /// The small value.
    pub small: Bytes,
    /// The 1 MiB value.
    pub large: Bytes,
    /// The [`KEYSPACE`] keys of the `GET`/`SET` workloads, each holding a small value:
    /// `key:000000000000` to `key:000000000999`, the keys of `redis-benchmark -r 1000`.
    pub keys: Vec<String>,
    /// One key per pipelined or transaction command (`bench:pipe:N`), each holding a
    /// small value.
    pub pipeline_keys: Vec<String>,
}

impl Data {
    /// The keys and values (nothing is written to the server: see [`setup`]).
    pub fn new() -> Arc<Data> {
        Arc::new(Data {
            small: Bytes::from(vec![b'v'; SMALL_VALUE_LEN]),
            large: Bytes::from((0..LARGE_VALUE_LEN).map(|i| i as u8).collect::<Vec<_>>()),
            keys: (0..KEYSPACE).map(|i| format!("key:{i:012}")).collect(),
            pipeline_keys: (0..MAX_PIPELINE)
                .map(|i| format!("bench:pipe:{i}"))
                .collect(),
        })
    }
}

/// Writes every key the workloads read, with respec, and checks the big ones.
pub async fn setup(client: &respec::Client, data: &Data) -> Result<()> {
    use respec::{cmd, Commands as _};

    client.flushall().await.context("FLUSHALL")?;
    client.set(SEQUENTIAL_KEY, &data.small).await?;
    client.set(LARGE_GET_KEY, &data.large).await?;
    let small_keys = data.keys.iter().chain(&data.pipeline_keys);
    client
        .batch(small_keys.map(|key| cmd::set(key, &data.small)))
        .await
        .context("setting the small keys")?;

    let elements = (0..LARGE_ITEMS).map(|i| format!("element:{i:05}"));
    let len = client.rpush(LIST_KEY, elements).await.context("RPUSH")?;
    ensure!(len == LARGE_ITEMS as i64, "the list has {len} elements");
    let fields = (0..LARGE_ITEMS).map(|i| (format!("field:{i:05}"), format!("value:{i:05}")));
    let added = client.hset(HASH_KEY, fields).await.context("HSET")?;
    ensure!(added == LARGE_ITEMS as i64, "the hash has {added} fields");
    Ok(())
}

/// Checks that each peer's [`Peer::transaction_set`] reaches the server as one
/// `MULTI`/`EXEC` transaction: the server's counts of `MULTI` and `EXEC` calls
/// (`INFO commandstats`) must each grow by exactly one, so that a client sending a
/// plain pipeline cannot pass for a fast transaction (its replies would look the same).
/// Run it before measuring, while nothing else uses the server.
pub async fn check_transactions(peers: &Peers, data: &Data) -> Result<()> {
    let server = &peers.respec.0;
    check_transaction(peers.respec.clone(), server, data).await?;
    check_transaction(peers.redis.clone(), server, data).await?;
    check_transaction(peers.fred.clone(), server, data).await
}

/// [`check_transactions`] for one peer.
async fn check_transaction<P: Peer>(
    mut peer: P,
    server: &respec::Client,
    data: &Data,
) -> Result<()> {
    let keys = &data.pipeline_keys[..2];
    let before = transaction_calls(server).await?;
    let ok = peer.transaction_set(keys, &data.small).await?;
    let after = transaction_calls(server).await?;
    ensure!(
        ok == keys.len(),
        "{}: {ok} OK replies to a transaction of {} SETs",
        P::ID.name(),
        keys.len()
    );
    ensure!(
        after.0 == before.0 + 1 && after.1 == before.1 + 1,
        "{}: a transaction_set made the server count {} MULTI and {} EXEC calls, not 1 each",
        P::ID.name(),
        after.0 - before.0,
        after.1 - before.1
    );
    Ok(())
}

/// The server's counts of `MULTI` and `EXEC` calls, from `INFO commandstats`.
async fn transaction_calls(server: &respec::Client) -> Result<(u64, u64)> {
    use respec::Commands as _;
    let info = server.info().section(["commandstats"]).await?;
    let info = std::str::from_utf8(&info).context("INFO is not UTF-8")?;
    let calls = |name: &str| -> Result<u64> {
        let prefix = format!("cmdstat_{name}:calls=");
        let Some(line) = info.lines().find(|l| l.starts_with(&prefix)) else {
            return Ok(0); // never called yet
        };
        let count = &line[prefix.len()..];
        let count = count.split(',').next().unwrap_or(count);
        count
            .parse()
            .with_context(|| format!("INFO commandstats: {line:?}"))
    };
    Ok((calls("multi")?, calls("exec")?))
}

/// The measurements of one cell.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Commands completed (pipelined commands each count).
    pub commands: u64,
    /// From the first operation's start to the last one's end.
    pub elapsed: Duration,
    /// The latency of every operation (round trip, or whole pipeline).
    pub latencies: Latencies,
}

impl Cell {
    /// Commands per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `workload` on `peer` for about `duration` (operations start until then; the
/// last ones finish after it) and measures it. Call it inside a task of the runtime
/// (`tokio::spawn`), as an application would, not from `block_on`.
pub async fn run_cell<P: Peer>(
    peer: P,
    workload: Workload,
    data: Arc<Data>,
    duration: Duration,
) -> Result<Cell> {
    if let Workload::PubSub {
        subscribers,
        window,
        shared,
    } = workload
    {
        let shape = crate::pubsub::Shape {
            subscribers,
            window,
            shared,
        };
        return crate::pubsub::run_cell(peer, shape, Duration::ZERO, duration).await;
    }
    let start = Instant::now();
    let mut latencies = run(peer, workload, &data, Until::Deadline(start + duration)).await?;
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(Cell {
        commands: latencies.len() as u64 * workload.commands_per_op() as u64,
        elapsed,
        latencies,
    })
}

/// Runs `workload` (not a pub/sub one) on `peer` until `until`: the latency of every
/// operation (a round trip, a whole pipeline or transaction, one `HGETALL`). The one
/// code path of [`run_cell`] (time-boxed) and of the `instructions` binary (a fixed
/// number of operations, under callgrind). Call it inside a task of the runtime.
pub async fn run<P: Peer>(
    peer: P,
    workload: Workload,
    data: &Arc<Data>,
    until: Until,
) -> Result<Latencies> {
    match workload {
        Workload::Concurrent(tasks) => run_concurrent(peer, tasks, data, until).await,
        Workload::PubSub { .. } => anyhow::bail!("{} runs by pubsub::run_cell", workload.name()),
        _ => run_sequential(peer, workload, data, until).await,
    }
}

/// One task doing one operation of `workload` at a time until `until`.
async fn run_sequential<P: Peer>(
    mut peer: P,
    workload: Workload,
    data: &Data,
    until: Until,
) -> Result<Latencies> {
    let mut latencies = Latencies::new();
    for i in 0usize.. {
        let begin = Instant::now();
        if until.done(begin, i) {
            break;
        }
        let check = match workload {
            Workload::Sequential | Workload::CachedGet => {
                peer.get(SEQUENTIAL_KEY).await? == SMALL_VALUE_LEN
            }
            Workload::PipelineSet(n) => {
                peer.pipeline_set(&data.pipeline_keys[..n], &data.small)
                    .await?;
                true
            }
            Workload::PipelineGet(n) => {
                peer.pipeline_get(&data.pipeline_keys[..n]).await? == n * SMALL_VALUE_LEN
            }
            Workload::Transaction(n) => {
                peer.transaction_set(&data.pipeline_keys[..n], &data.small)
                    .await?
                    == n
            }
            Workload::Lrange => peer.lrange(LIST_KEY).await? == LARGE_ITEMS,
            Workload::Hgetall => peer.hgetall(HASH_KEY).await? == LARGE_ITEMS,
            Workload::SetLarge => {
                peer.set(LARGE_SET_KEY, &data.large).await?;
                true
            }
            Workload::GetLarge => peer.get(LARGE_GET_KEY).await? == LARGE_VALUE_LEN,
            Workload::SetGetLarge if i % 2 == 0 => {
                peer.set(LARGE_SET_KEY, &data.large).await?;
                true
            }
            Workload::SetGetLarge => peer.get(LARGE_SET_KEY).await? == LARGE_VALUE_LEN,
            Workload::Concurrent(_) => unreachable!("run by run_concurrent"),
            Workload::PubSub { .. } => unreachable!("run by pubsub::run_cell"),
        };
        latencies.record(begin.elapsed());
        ensure!(
            black_box(check),
            "{} returned a wrong reply for {}",
            P::ID.name(),
            workload.name()
        );
    }
    Ok(latencies)
}

/// When the tasks of [`run_concurrent`] stop.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// No operation starts after this instant.
    Deadline(Instant),
    /// Each task does this many operations.
    Ops(usize),
}

impl Until {
    /// Whether operation `i` of a task, starting at `now`, is not to be done.
    pub fn done(self, now: Instant, i: usize) -> bool {
        match self {
            Until::Deadline(deadline) => now >= deadline,
            Until::Ops(ops) => i >= ops,
        }
    }
}

/// `tasks` tasks, each with its own clone of `peer` (the same connection), looping over
/// random keys of [`Data::keys`]: `GET` the key, then `SET` it, until `until`. Every
/// `GET` is checked to return a small value. The latencies of every operation.
pub async fn run_concurrent<P: GetSet>(
    peer: P,
    tasks: usize,
    data: &Arc<Data>,
    until: Until,
) -> Result<Latencies> {
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let mut peer = peer.clone();
            let data = data.clone();
            tokio::spawn(async move {
                let mut keys = KeyPicker::new(task);
                let mut key = "";
                let mut latencies = Latencies::new();
                for i in 0usize.. {
                    let begin = Instant::now();
                    if until.done(begin, i) {
                        break;
                    }
                    if i % 2 == 0 {
                        key = &data.keys[keys.next_index(data.keys.len())];
                        let len = peer.get(key).await?;
                        ensure!(len == SMALL_VALUE_LEN, "GET {key} returned {len} bytes");
                    } else {
                        peer.set(key, &data.small).await?;
                    }
                    latencies.record(begin.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Latencies::new();
    for handle in handles {
        all.extend(handle.await.context("a benchmark task panicked")??);
    }
    Ok(all)
}

/// A per-task stream of pseudo-random key indices (xorshift64*, seeded by the task's
/// number), the same for every client.
#[derive(Debug, Clone)]
struct KeyPicker(u64);

impl KeyPicker {
    fn new(task: usize) -> KeyPicker {
        KeyPicker(0x9E37_79B9_7F4A_7C15 ^ (task as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    /// The next index below `len`.
    fn next_index(&mut self, len: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The picker covers the keyspace and differs between tasks.
    #[test]
    fn key_picker() {
        let mut a = KeyPicker::new(0);
        let mut seen = vec![false; KEYSPACE];
        for _ in 0..20 * KEYSPACE {
            seen[a.next_index(KEYSPACE)] = true;
        }
        assert!(seen.iter().all(|&s| s));
        let mut b = KeyPicker::new(1);
        let (xs, ys): (Vec<_>, Vec<_>) = (0..8)
            .map(|_| {
                (
                    KeyPicker::new(0).next_index(KEYSPACE),
                    b.next_index(KEYSPACE),
                )
            })
            .unzip();
        assert_ne!(xs, ys);
    }
}
