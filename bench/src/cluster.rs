//! The cluster rows (`compare --cluster`): respec's cluster client against redis-rs'
//! `cluster_async::ClusterConnection` and fred's clustered `Client`, on a 3-primary
//! cluster of the `respec-tests` harness on loopback.
//!
//! Two parts:
//!
//! - **Throughput** ([`ClusterWorkload`], [`run_cell`]): `GET`/`SET` from 64 and 512
//!   tasks over the [`KEYSPACE`](crate::workload::KEYSPACE) keys (which hash to slots
//!   all over the cluster), one explicit pipeline of 1,000 `GET`s of keys of every
//!   shard, and an `MGET` of 100 such keys, each through the library's own API. A
//!   library that refuses a workload (redis-rs' pipelines whose keys span slots) is
//!   reported as such with its error, never measured through a workaround.
//! - **Disruption** ([`run_disruption`]): a steady load of [`COUNTERS`] tasks, each
//!   `INCR`ing a counter of its own (half of them on slots that move), through a
//!   `CLUSTER FAILOVER` or an atomic slot migration of [`MIGRATED_SLOTS`] slots, on a
//!   fresh cluster per client and event. It counts the errors the client surfaced,
//!   compares each counter on the server with the increments the client acknowledged,
//!   and times the longest pause of the moved counters (see [`Disruption`]).

use std::future::Future;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use bytes::Bytes;
use respec_tests::{Cluster, Reply};

use crate::peers::{Fred, GetSet, PeerId, RedisRs, Respec};
use crate::stats::Latencies;
use crate::workload::{self, Cell, Data, Until, SMALL_VALUE_LEN};

/// Primaries of every benchmark cluster.
pub const PRIMARIES: usize = 3;
/// Tasks (and counters) of the disruption load.
pub const COUNTERS: usize = 32;
/// The slots the migration moves, from the first primary to the last: 1,000 slots.
pub const MIGRATED_SLOTS: RangeInclusive<u16> = 0..=999;
/// How long a task of the disruption load waits after an error before its next
/// `INCR` (so that a client failing fast does not spin).
pub const ERROR_PAUSE: Duration = Duration::from_millis(1);

/// A cluster client of one library, connected to the benchmark cluster. Clones share
/// its connections.
pub trait ClusterPeer: GetSet {
    /// Connects to the cluster of `seeds`, with the library's defaults except
    /// TCP_NODELAY on and no response timeout (as on one server, see the crate docs).
    fn connect(seeds: &[SocketAddr]) -> impl Future<Output = Result<Self>> + Send;

    /// One explicit pipeline of `GET key` for every key, through the library's pipeline
    /// API: the total length of the values.
    fn pipeline_get(&mut self, keys: &[String]) -> impl Future<Output = Result<usize>> + Send;

    /// One `MGET` of `keys` through the library's `mget`: the total length of the values.
    fn mget(&mut self, keys: &[String]) -> impl Future<Output = Result<usize>> + Send;

    /// What the client counted while following the cluster, if it says.
    fn counters(&self) -> Option<String> {
        None
    }
}

/// The total length of the values of an `MGET` (or pipelined `GET`s) of `sent` keys.
fn values_len<V: AsRef<[u8]>>(values: &[Option<V>], sent: usize) -> Result<usize> {
    ensure!(
        values.len() == sent,
        "{sent} keys asked, {} values",
        values.len()
    );
    Ok(values.iter().flatten().map(|v| v.as_ref().len()).sum())
}

impl ClusterPeer for Respec {
    async fn connect(seeds: &[SocketAddr]) -> Result<Respec> {
        let seeds = seeds.iter().map(|addr| format!("redis://{addr}"));
        Ok(Respec(respec::Client::connect_cluster(seeds).await?))
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        crate::Peer::pipeline_get(self, keys).await
    }

    async fn mget(&mut self, keys: &[String]) -> Result<usize> {
        use respec::Commands as _;
        values_len(&self.0.mget(keys).await?, keys.len())
    }

    fn counters(&self) -> Option<String> {
        let s = self.0.cluster_stats()?;
        Some(format!(
            "{} refreshes, {} MOVED, {} ASK, {} retries",
            s.refreshes, s.moved, s.asked, s.retries
        ))
    }
}

/// redis-rs: one `cluster_async::ClusterConnection` (a multiplexed connection per
/// node), explicit pipelines through `redis::pipe()`.
#[derive(Clone)]
pub struct RedisRsCluster(pub redis::cluster_async::ClusterConnection);

impl std::fmt::Debug for RedisRsCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRsCluster")
    }
}

impl GetSet for RedisRsCluster {
    const ID: PeerId = PeerId::RedisRs;

    async fn get(&mut self, key: &str) -> Result<usize> {
        RedisRs::get_on(&mut self.0, key).await
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        RedisRs::set_on(&mut self.0, key, value).await
    }

    async fn incr(&mut self, key: &str) -> Result<i64> {
        RedisRs::incr_on(&mut self.0, key).await
    }
}

impl ClusterPeer for RedisRsCluster {
    async fn connect(seeds: &[SocketAddr]) -> Result<RedisRsCluster> {
        let urls: Vec<String> = seeds.iter().map(|addr| format!("redis://{addr}")).collect();
        let client = redis::cluster::ClusterClient::builder(urls)
            .tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true))
            .build()?;
        Ok(RedisRsCluster(client.get_async_connection().await?))
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        RedisRs::pipeline_get_on(&mut self.0, keys).await
    }

    async fn mget(&mut self, keys: &[String]) -> Result<usize> {
        use redis::AsyncCommands as _;
        let values: Vec<Option<Vec<u8>>> = self.0.mget(keys).await?;
        values_len(&values, keys.len())
    }
}

impl ClusterPeer for Fred {
    async fn connect(seeds: &[SocketAddr]) -> Result<Fred> {
        use fred::types::config::{Config, ServerConfig};
        let hosts = seeds
            .iter()
            .map(|a| (a.ip().to_string(), a.port()))
            .collect();
        let config = Config {
            server: ServerConfig::new_clustered(hosts),
            ..Config::default()
        };
        Ok(Fred(Fred::start(config).await?))
    }

    async fn pipeline_get(&mut self, keys: &[String]) -> Result<usize> {
        crate::Peer::pipeline_get(self, keys).await
    }

    async fn mget(&mut self, keys: &[String]) -> Result<usize> {
        use fred::prelude::KeysInterface as _;
        let values: Vec<Option<Bytes>> = self.0.mget(keys.to_vec()).await?;
        values_len(&values, keys.len())
    }
}

/// One cluster client of each library.
#[derive(Clone, Debug)]
pub struct ClusterPeers {
    /// respec.
    pub respec: Respec,
    /// redis-rs.
    pub redis: RedisRsCluster,
    /// fred.
    pub fred: Fred,
}

impl ClusterPeers {
    /// Connects all three to the cluster of `seeds`.
    pub async fn connect(seeds: &[SocketAddr]) -> Result<ClusterPeers> {
        Ok(ClusterPeers {
            respec: <Respec as ClusterPeer>::connect(seeds).await?,
            redis: RedisRsCluster::connect(seeds).await?,
            fred: <Fred as ClusterPeer>::connect(seeds).await?,
        })
    }
}

/// A throughput row of the cluster section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterWorkload {
    /// `n` tasks sharing the client, `GET` then `SET` of random keys of the
    /// [`KEYSPACE`](crate::workload::KEYSPACE) (as [`workload::run_concurrent`]).
    Tasks(usize),
    /// One task sending explicit pipelines of `n` `GET`s, of keys of every shard.
    PipelineGet(usize),
    /// One task sending `MGET`s of `n` keys of every shard.
    Mget(usize),
}

impl ClusterWorkload {
    /// Every row, in the report's order.
    pub const ALL: [ClusterWorkload; 4] = [
        ClusterWorkload::Tasks(64),
        ClusterWorkload::Tasks(512),
        ClusterWorkload::PipelineGet(1000),
        ClusterWorkload::Mget(100),
    ];

    /// The row label.
    pub fn name(self) -> String {
        match self {
            ClusterWorkload::Tasks(n) => format!("cluster {n} tasks GET/SET"),
            ClusterWorkload::PipelineGet(n) => format!("cluster pipeline {n} GET"),
            ClusterWorkload::Mget(n) => format!("cluster MGET {n}"),
        }
    }

    /// True for the rows of several tasks, which get the concurrent rows' rounds.
    pub fn is_concurrent(self) -> bool {
        matches!(self, ClusterWorkload::Tasks(_))
    }

    /// Keys read per operation (a pipeline of `n` `GET`s and an `MGET` of `n` keys
    /// count `n`).
    fn keys_per_op(self) -> u64 {
        match self {
            ClusterWorkload::Tasks(_) => 1,
            ClusterWorkload::PipelineGet(n) | ClusterWorkload::Mget(n) => n as u64,
        }
    }
}

/// Writes every key the throughput rows read (with respec, in one pipeline across
/// slots), and checks that they spread over every shard.
pub async fn setup(client: &respec::Client, data: &Data) -> Result<()> {
    let keys = data.keys.iter().chain(&data.pipeline_keys);
    let replies: Vec<bool> = client
        .batch(keys.map(|key| respec::cmd::set(key, &data.small)))
        .await
        .context("setting the keys")?;
    ensure!(replies.iter().all(|&ok| ok), "a SET was not OK");
    let shard = |key: &String| {
        usize::from(respec::cluster::slot(key.as_bytes())) * PRIMARIES
            / usize::from(respec::cluster::SLOTS)
    };
    for keys in [&data.pipeline_keys[..1000], &data.keys[..100]] {
        let mut seen = [false; PRIMARIES];
        keys.iter().for_each(|key| seen[shard(key)] = true);
        ensure!(seen.iter().all(|&s| s), "the keys miss a shard");
    }
    Ok(())
}

/// Runs `workload` on `peer` for about `duration` (as [`workload::run_cell`]). Call it
/// inside a task of the runtime.
pub async fn run_cell<P: ClusterPeer>(
    mut peer: P,
    workload: ClusterWorkload,
    data: Arc<Data>,
    duration: Duration,
) -> Result<Cell> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut latencies = match workload {
        ClusterWorkload::Tasks(tasks) => {
            workload::run_concurrent(peer, tasks, &data, Until::Deadline(deadline)).await?
        }
        ClusterWorkload::PipelineGet(n) | ClusterWorkload::Mget(n) => {
            let mut latencies = Latencies::new();
            let keys = match workload {
                ClusterWorkload::PipelineGet(_) => &data.pipeline_keys[..n],
                _ => &data.keys[..n],
            };
            while Instant::now() < deadline {
                let begin = Instant::now();
                let len = match workload {
                    ClusterWorkload::PipelineGet(_) => peer.pipeline_get(keys).await?,
                    _ => peer.mget(keys).await?,
                };
                latencies.record(begin.elapsed());
                ensure!(len == n * SMALL_VALUE_LEN, "{len} bytes read of {n} keys");
            }
            latencies
        }
    };
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(Cell {
        commands: latencies.len() as u64 * workload.keys_per_op(),
        elapsed,
        latencies,
    })
}

/// A disruption of the cluster under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `CLUSTER FAILOVER` on the replica of the first primary (a cluster of 3
    /// primaries with a replica each): its slots change node.
    Failover,
    /// An atomic slot migration (Valkey 9 `CLUSTER MIGRATESLOTS`) of
    /// [`MIGRATED_SLOTS`] from the first primary to the last (3 primaries, no replica).
    Migration,
}

impl Event {
    /// Both events, in the report's order.
    pub const ALL: [Event; 2] = [Event::Failover, Event::Migration];

    /// The row label.
    pub fn name(self) -> &'static str {
        match self {
            Event::Failover => "CLUSTER FAILOVER",
            Event::Migration => "atomic migration of 1,000 slots",
        }
    }

    /// Whether `slot` changes node in this event (the first primary serves slots
    /// 0..=5460).
    fn moves(self, slot: u16) -> bool {
        match self {
            Event::Failover => slot < respec::cluster::SLOTS / PRIMARIES as u16,
            Event::Migration => MIGRATED_SLOTS.contains(&slot),
        }
    }
}

/// What one client went through during one [`Event`].
#[derive(Debug, Clone, PartialEq)]
pub struct Disruption {
    /// The client.
    pub client: PeerId,
    /// The event.
    pub event: Event,
    /// `INCR`s acknowledged (a reply with the new value).
    pub acks: u64,
    /// Errors the client returned to its caller.
    pub errors: u64,
    /// The first of them, when there were any.
    pub first_error: Option<String>,
    /// Acknowledged increments missing from the server: per counter, the highest
    /// acknowledged value above the server's final value.
    pub lost: u64,
    /// Increments the server holds beyond those acknowledged, on counters whose task
    /// saw no error: an `INCR` run twice for one call (0 when the client never
    /// repeats a command).
    pub doubled: u64,
    /// Increments beyond those acknowledged on counters whose task saw errors: calls
    /// that failed but ran (an ambiguous outcome, which the error should say).
    pub ran_unacked: u64,
    /// The longest time between two acknowledged `INCR`s of one counter on the moving
    /// slots, across the event: from the last ack before the event's command to one
    /// after it, the pause starting before the event ended (later pauses are the
    /// machine's, not the event's).
    pub longest_pause: Duration,
    /// From the event's command to the end of that longest pause: the first success on
    /// the moved slots after the switch.
    pub recovered_after: Duration,
    /// How long the harness took for the event (the command, and the wait until every
    /// node agrees on the new owner).
    pub event_time: Duration,
    /// What the client counted while following the cluster (respec's
    /// [`cluster_stats`](respec::Client::cluster_stats)), when it says.
    pub counters: Option<String>,
}

/// How long the disruption load runs before the event and after it.
#[derive(Debug, Clone, Copy)]
pub struct LoadTimes {
    /// Load before the event's command.
    pub before: Duration,
    /// Load after the event (after every node agrees).
    pub after: Duration,
}

/// One task's account of the disruption load.
#[derive(Debug, Default)]
struct Account {
    acks: u64,
    errors: u64,
    first_error: Option<String>,
    /// The highest acknowledged value.
    last: i64,
    /// When each `INCR` was acknowledged (kept for the counters that move).
    acked_at: Vec<Instant>,
}

/// Starts a fresh cluster for `event` (its binary `binary`, else the harness's), puts
/// the [`COUNTERS`] tasks' `INCR` load on it through a new client `P`, runs the event
/// from this thread (which must not be a runtime's), and returns what the client went
/// through.
pub fn run_disruption<P: ClusterPeer>(
    runtime: &tokio::runtime::Runtime,
    binary: Option<&Path>,
    event: Event,
    times: LoadTimes,
) -> Result<Disruption> {
    let mut builder = Cluster::builder()
        .primaries(PRIMARIES)
        .replicas(usize::from(event == Event::Failover));
    if let Some(path) = binary {
        builder = builder.binary(path);
    }
    let cluster = builder.start().context("starting the cluster")?;
    let counters = counter_keys(event);
    let peer = runtime.block_on(P::connect(&cluster.seed_addrs()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = counters
        .iter()
        .map(|key| {
            let (mut peer, key, stop) = (peer.clone(), key.clone(), stop.clone());
            let moves = event.moves(respec::cluster::slot(key.as_bytes()));
            runtime.spawn(async move {
                let mut account = Account::default();
                while !stop.load(Ordering::Relaxed) {
                    match peer.incr(&key).await {
                        Ok(value) => {
                            account.acks += 1;
                            account.last = account.last.max(value);
                            if moves {
                                account.acked_at.push(Instant::now());
                            }
                        }
                        Err(err) => {
                            account.errors += 1;
                            account
                                .first_error
                                .get_or_insert_with(|| format!("{err:#}"));
                            tokio::time::sleep(ERROR_PAUSE).await;
                        }
                    }
                }
                account
            })
        })
        .collect();
    std::thread::sleep(times.before);
    let begin = Instant::now();
    match event {
        Event::Failover => {
            cluster.failover(cluster.node_for_slot(0))?;
        }
        Event::Migration => {
            let to = cluster.node_for_slot(respec::cluster::SLOTS - 1);
            cluster.migrate_atomic(MIGRATED_SLOTS, to)?;
        }
    }
    let end = Instant::now();
    let event_time = end - begin;
    std::thread::sleep(times.after);
    stop.store(true, Ordering::Relaxed);
    let accounts = runtime.block_on(async {
        let mut accounts = Vec::new();
        for task in tasks {
            accounts.push(task.await.context("a load task panicked")?);
        }
        anyhow::Ok(accounts)
    })?;

    let mut result = Disruption {
        client: P::ID,
        event,
        acks: 0,
        errors: 0,
        first_error: None,
        lost: 0,
        doubled: 0,
        ran_unacked: 0,
        longest_pause: Duration::ZERO,
        recovered_after: Duration::ZERO,
        event_time,
        counters: peer.counters(),
    };
    for (key, account) in counters.iter().zip(accounts) {
        let stored = server_counter(&cluster, key)?;
        result.acks += account.acks;
        result.errors += account.errors;
        if result.first_error.is_none() {
            result.first_error = account.first_error;
        }
        result.lost += u64::try_from(account.last - stored).unwrap_or(0);
        let extra = u64::try_from(stored - account.acks as i64).unwrap_or(0);
        if account.errors == 0 {
            result.doubled += extra;
        } else {
            result.ran_unacked += extra;
        }
        // The pauses from the last ack before the event on.
        let first = account
            .acked_at
            .iter()
            .rposition(|&t| t < begin)
            .unwrap_or(0);
        let pairs = account.acked_at[first..].windows(2);
        for pair in pairs.take_while(|pair| pair[0] <= end) {
            let pause = pair[1] - pair[0];
            if pause > result.longest_pause {
                result.longest_pause = pause;
                result.recovered_after = pair[1].saturating_duration_since(begin);
            }
        }
    }
    drop(peer);
    Ok(result)
}

/// [`COUNTERS`] keys, the first half on slots that `event` moves, the others on slots
/// of the other primaries.
fn counter_keys(event: Event) -> Vec<String> {
    let mut keys = Vec::with_capacity(COUNTERS);
    let mut n = 0u64;
    for moving in [true, false] {
        let mut found = 0;
        while found < COUNTERS / 2 {
            let key = format!("bench:counter:{n}");
            n += 1;
            let slot = respec::cluster::slot(key.as_bytes());
            let elsewhere = slot >= respec::cluster::SLOTS / PRIMARIES as u16;
            if (moving && event.moves(slot)) || (!moving && elsewhere) {
                keys.push(key);
                found += 1;
            }
        }
    }
    keys
}

/// The value of counter `key` on the primary serving it (0 when it does not exist), by
/// the harness's own connection.
fn server_counter(cluster: &Cluster, key: &str) -> Result<i64> {
    let node = cluster.node_for_slot(cluster.keyslot(key));
    let reply = cluster.node(node).raw()?.command(&["GET", key])?;
    match reply {
        Reply::Bulk(None) => Ok(0),
        Reply::Bulk(Some(bytes)) => Ok(std::str::from_utf8(&bytes)?.parse()?),
        other => bail!("GET {key}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Half the counters move with each event, the others are on other primaries.
    #[test]
    fn counters_split() {
        for event in Event::ALL {
            let keys = counter_keys(event);
            assert_eq!(keys.len(), COUNTERS);
            let moving = keys
                .iter()
                .filter(|k| event.moves(respec::cluster::slot(k.as_bytes())))
                .count();
            assert_eq!(moving, COUNTERS / 2, "{event:?}");
        }
    }
}
