//! The sentinel disruption figures (`compare --sentinel`): respec's sentinel client
//! against redis-rs' `sentinel::SentinelClient` and fred's `ServerConfig::Sentinel`
//! client, each on a fresh [`SentinelGroup`] of the `respec-tests` harness (1 primary,
//! 2 replicas, 3 sentinels on loopback), through a `SENTINEL FAILOVER` or a `kill -9` of
//! the primary ([`Event`]).
//!
//! The load: [`TASKS`] tasks sharing the client, each `SET`ting a unique value, reading
//! it back with `GET` and `INCR`ing a counter of its own, from [`LoadTimes::before`]
//! before the event until [`LoadTimes::after`] after the client is acknowledged by the
//! new primary (bounded by [`RECOVERY_LIMIT`]: a client that never gets there is
//! reported as such). Besides the client under test, the bench watches the group with
//! respec connections of its own: a subscriber of `+switch-master` on every sentinel
//! (when the first announcement arrives) and `MONITOR` on the old primary (when it runs each of the
//! load's `SET`s, by the server's clock). Once the group has settled, every
//! acknowledged write and every counter is read back from the new primary (see
//! [`Outcome`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use respec_tests::{RawConnection, Reply, SentinelGroup};

use crate::cluster::{LoadTimes, ERROR_PAUSE};
use crate::peers::{Fred, GetSet, PeerId, RedisRs, Respec};
use crate::report::format_latency;
use crate::stats;

/// Tasks of the load.
pub const TASKS: usize = 32;
/// A `SET` run by the old primary later than this after the announcement is a late
/// write.
pub const LATE_AFTER: Duration = Duration::from_millis(100);
/// How long the bench waits, once the group has settled, for the client's first write
/// acknowledged by the new primary before it reports that the client did not recover.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(10);
/// How long the load tasks get to finish their last call once told to stop; those still
/// waiting are aborted and counted as hung.
pub const JOIN_LIMIT: Duration = Duration::from_secs(5);
/// The bound of connecting the client under test.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);
/// The prefix of every key of the load.
const PREFIX: &str = "sb:";
/// Keys read back per batch when checking the acknowledged writes.
const CHECK_BATCH: usize = 1000;

/// A client of the service behind the sentinels, of one library. Clones share its
/// connections.
pub trait SentinelPeer: GetSet {
    /// Connects to the primary of `service` through the sentinels at `sentinels`, the
    /// way the library's documentation shows, TCP_NODELAY on and no response timeout
    /// (as on one server, see the crate docs).
    fn connect(
        sentinels: &[SocketAddr],
        service: &str,
    ) -> impl Future<Output = Result<Self>> + Send;

    /// `GET key`: the value.
    fn get_value(&mut self, key: &str) -> impl Future<Output = Result<Option<Bytes>>> + Send;
}

impl SentinelPeer for Respec {
    async fn connect(sentinels: &[SocketAddr], service: &str) -> Result<Respec> {
        let hosts: Vec<String> = sentinels.iter().map(ToString::to_string).collect();
        let url = format!("redis+sentinel://{}/{service}", hosts.join(","));
        Ok(Respec(respec::Client::connect(&url).await?))
    }

    async fn get_value(&mut self, key: &str) -> Result<Option<Bytes>> {
        use respec::Commands as _;
        Ok(self.0.get(key).await?)
    }
}

impl SentinelPeer for Fred {
    /// `ServerConfig::Sentinel` and the reconnect policy of fred's examples
    /// (exponential from 100 ms to 30 s, no limit): without a policy fred does not
    /// reconnect at all, so it could not follow a failover.
    async fn connect(sentinels: &[SocketAddr], service: &str) -> Result<Fred> {
        use fred::prelude::{Config, ReconnectPolicy, ServerConfig};
        let hosts = sentinels
            .iter()
            .map(|a| (a.ip().to_string(), a.port()))
            .collect();
        let config = Config {
            server: ServerConfig::new_sentinel(hosts, service),
            ..Config::default()
        };
        let policy = ReconnectPolicy::new_exponential(0, 100, 30_000, 2);
        Ok(Fred(Fred::start_with(config, Some(policy)).await?))
    }

    async fn get_value(&mut self, key: &str) -> Result<Option<Bytes>> {
        use fred::prelude::KeysInterface as _;
        Ok(self.0.get(key).await?)
    }
}

/// redis-rs: a `sentinel::SentinelClient` for the primary hands out a
/// `MultiplexedConnection` to the node the sentinels name at that moment, and nothing
/// follows a failover by itself. So this does what a user has to write: after an
/// error that means the connection must be replaced (`is_unrecoverable_error`) or a
/// `READONLY` (the node is a replica now), it asks the `SentinelClient` for a new
/// connection, once per connection (the calls that failed on it return their error).
#[derive(Clone)]
pub struct RedisRsSentinel(Arc<RedisRsShared>);

/// What the clones of a [`RedisRsSentinel`] share.
struct RedisRsShared {
    /// The sentinel client, locked while it makes a new connection.
    sentinel: tokio::sync::Mutex<redis::sentinel::SentinelClient>,
    /// The connection in use, and how many were made before it.
    current: Mutex<(u64, redis::aio::MultiplexedConnection)>,
}

impl std::fmt::Debug for RedisRsSentinel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisRsSentinel")
    }
}

impl RedisRsSentinel {
    /// The config of every connection: no response timeout (see the crate docs).
    fn config() -> redis::AsyncConnectionConfig {
        redis::AsyncConnectionConfig::new().set_response_timeout(None)
    }

    /// Runs `call` on the current connection; after an error that calls for it, makes
    /// a new connection through the sentinels (unless another call already did).
    async fn with<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: FnOnce(redis::aio::MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let (generation, conn) = self.0.current.lock().expect("poisoned").clone();
        let err = match call(conn).await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let replace = err.downcast_ref::<redis::RedisError>().is_some_and(|e| {
            e.is_unrecoverable_error()
                || e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
        });
        if replace {
            let mut sentinel = self.0.sentinel.lock().await;
            if self.0.current.lock().expect("poisoned").0 == generation {
                // A failure here (the sentinels still name a dead node) leaves the old
                // connection, whose next error tries again.
                if let Ok(conn) = sentinel
                    .get_async_connection_with_config(&Self::config())
                    .await
                {
                    *self.0.current.lock().expect("poisoned") = (generation + 1, conn);
                }
            }
        }
        Err(err)
    }
}

impl GetSet for RedisRsSentinel {
    const ID: PeerId = PeerId::RedisRs;

    async fn get(&mut self, key: &str) -> Result<usize> {
        self.with(|mut conn| async move { RedisRs::get_on(&mut conn, key).await })
            .await
    }

    async fn set(&mut self, key: &str, value: &Bytes) -> Result<()> {
        self.with(|mut conn| async move { RedisRs::set_on(&mut conn, key, value).await })
            .await
    }

    async fn incr(&mut self, key: &str) -> Result<i64> {
        self.with(|mut conn| async move { RedisRs::incr_on(&mut conn, key).await })
            .await
    }
}

impl SentinelPeer for RedisRsSentinel {
    async fn connect(sentinels: &[SocketAddr], service: &str) -> Result<RedisRsSentinel> {
        use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
        let urls: Vec<String> = sentinels.iter().map(|a| format!("redis://{a}")).collect();
        let node = SentinelNodeConnectionInfo::default()
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let mut client = SentinelClient::build(
            urls,
            service.to_owned(),
            Some(node),
            SentinelServerType::Master,
        )?;
        let conn = client
            .get_async_connection_with_config(&Self::config())
            .await?;
        Ok(RedisRsSentinel(Arc::new(RedisRsShared {
            sentinel: tokio::sync::Mutex::new(client),
            current: Mutex::new((0, conn)),
        })))
    }

    async fn get_value(&mut self, key: &str) -> Result<Option<Bytes>> {
        self.with(|mut conn| async move {
            use redis::AsyncCommands as _;
            let value: Option<Vec<u8>> = conn.get(key).await?;
            Ok(value.map(Bytes::from))
        })
        .await
    }
}

/// A disruption of the sentinel group under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `SENTINEL FAILOVER <service>` on a sentinel: the old primary keeps running and
    /// is turned into a replica once the sentinels see the new one (their `INFO`
    /// period).
    Failover,
    /// SIGKILL of the primary: the sentinels take it as down after
    /// `down-after-milliseconds`, agree, and promote a replica.
    Kill,
}

impl Event {
    /// Both events, in the report's order.
    pub const ALL: [Event; 2] = [Event::Failover, Event::Kill];

    /// The row label.
    pub fn name(self) -> &'static str {
        match self {
            Event::Failover => "SENTINEL FAILOVER",
            Event::Kill => "kill -9 of the primary",
        }
    }
}

/// What one client went through during one [`Event`], on a fresh group. Times are
/// relative to the `+switch-master` announcement: the first that a subscriber on each
/// sentinel received (positive: later).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The client.
    pub client: PeerId,
    /// The event.
    pub event: Event,
    /// `SET`s acknowledged.
    pub acked: u64,
    /// Acknowledged `SET`s whose value the new primary does not hold once the group
    /// has settled.
    pub lost: u64,
    /// The earliest and the latest acknowledgement of a lost write, from the
    /// announcement.
    pub lost_window: Option<(f64, f64)>,
    /// `SET`s of the load the old primary ran (`MONITOR`) more than [`LATE_AFTER`]
    /// after the announcement (`None` for a killed primary, which runs nothing).
    pub late_sets: Option<u64>,
    /// The last `SET` the old primary ran, from the announcement.
    pub last_old_set: Option<f64>,
    /// `GET`s that returned another value than the one the task had just written.
    pub wrong: u64,
    /// `GET`s that found no value right after the task's acknowledged `SET`.
    pub missing: u64,
    /// Increments the new primary holds beyond the `INCR`s the client acknowledged or
    /// failed (a command run twice for one call), summed over the counters. A lower
    /// bound: increments lost with the old primary hide as many.
    pub doubled: u64,
    /// Errors the client returned to its caller (any command).
    pub errors: u64,
    /// The first of them.
    pub first_error: Option<String>,
    /// From the event's start (the command, or the kill) to the announcement.
    pub announced_after: Option<Duration>,
    /// From the event's start until the harness saw every sentinel name the new primary.
    pub promoted_after: Duration,
    /// From the announcement to the first `SET` acknowledged after it that the new
    /// primary holds: when the client served again on the new primary.
    pub first_new_ack: Option<f64>,
    /// Whether a `SET` was acknowledged after the group had settled, within
    /// [`RECOVERY_LIMIT`].
    pub recovered: bool,
    /// Load tasks still waiting for a reply [`JOIN_LIMIT`] after being told to stop.
    pub hung_tasks: usize,
    /// The distinct new primaries the sentinels announced: more than 1 when they
    /// failed over again (a new primary that stalled for `down-after` on this loaded
    /// machine, or two elections), which loses writes whatever the client.
    pub primaries_announced: usize,
    /// When a replica first answered `ROLE` with `master` (polled every 2 ms), from
    /// the announcement: the start of the window in which the old primary's
    /// acknowledgements are lost.
    pub promoted: Option<f64>,
}

/// One task's account, shared with the bench so that it survives an abort.
#[derive(Debug, Default)]
struct Tally {
    /// Acknowledged `SET`s: the key's number, when (seconds since the epoch).
    acked: Vec<(u64, f64)>,
    incr_acked: u64,
    incr_failed: u64,
    wrong: u64,
    missing: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, err: &anyhow::Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| format!("{err:#}"));
    }
}

/// Now, in seconds since the Unix epoch (the clock of `MONITOR`'s timestamps).
fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn key(task: usize, n: u64) -> String {
    format!("{PREFIX}{task}:{n}")
}

fn value(task: usize, n: u64) -> String {
    format!("{task}:{n}")
}

fn counter(task: usize) -> String {
    format!("{PREFIX}ctr:{task}")
}

/// One load task: `SET` of a unique value, `GET` of it, `INCR` of its counter, until
/// `stop`. Each acknowledged `SET` also stores its time (microseconds since the epoch)
/// in `last_ack`.
async fn load_task<P: SentinelPeer>(
    mut peer: P,
    task: usize,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    last_ack: Arc<AtomicU64>,
) {
    let counter = counter(task);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let value = value(task, n);
        let key = key(task, n);
        match peer.set(&key, &Bytes::from(value.clone())).await {
            Ok(()) => {
                let at = now_secs();
                last_ack.fetch_max((at * 1e6) as u64, Ordering::Relaxed);
                tally.lock().expect("poisoned").acked.push((n, at));
            }
            Err(err) => {
                tally.lock().expect("poisoned").error(&err);
                tokio::time::sleep(ERROR_PAUSE).await;
                continue;
            }
        }
        let read = peer.get_value(&key).await;
        {
            let mut tally = tally.lock().expect("poisoned");
            match read {
                Ok(Some(v)) if v != value.as_bytes() => tally.wrong += 1,
                Ok(Some(_)) => {}
                Ok(None) => tally.missing += 1,
                Err(err) => tally.error(&err),
            }
        }
        let incr = peer.incr(&counter).await;
        let mut tally = tally.lock().expect("poisoned");
        match incr {
            Ok(_) => tally.incr_acked += 1,
            Err(err) => {
                tally.incr_failed += 1;
                tally.error(&err);
            }
        }
    }
}

/// Every `+switch-master` that subscribers on the sentinels of `urls` receive: when,
/// and the new primary's address (the leader of a failover announces it only once it
/// has reconfigured the replicas; the others as soon as they hear of the new
/// configuration, which is when a client listening to every sentinel can learn it).
/// The tasks run until aborted.
async fn announcements(urls: &[String]) -> Result<(Vec<tokio::task::JoinHandle<()>>, Switches)> {
    let switches = Switches::default();
    let mut tasks = Vec::new();
    for url in urls {
        let sentinel = respec::Client::connect(url).await?;
        let mut sub = sentinel.subscriber().connect().await?;
        sub.subscribe(["+switch-master"]).await?;
        let out = switches.clone();
        tasks.push(tokio::spawn(async move {
            let _keep = sentinel;
            while let Some(m) = sub.next_message().await {
                if m.kind.is_message() {
                    // `<service> <old ip> <old port> <new ip> <new port>`
                    let payload = String::from_utf8_lossy(&m.payload).into_owned();
                    let words: Vec<&str> = payload.split(' ').collect();
                    let new = words.get(3..5).map_or(payload.clone(), |w| w.join(":"));
                    out.lock().expect("poisoned").push((now_secs(), new));
                }
            }
        }));
    }
    Ok((tasks, switches))
}

/// The `+switch-master` announcements received: when, and the new primary.
type Switches = Arc<Mutex<Vec<(f64, String)>>>;

/// The server times of the load's `SET`s the node at `url` runs (`MONITOR`), until
/// its connection ends or the task is aborted.
async fn sets_on(url: &str) -> Result<(tokio::task::JoinHandle<()>, Arc<Mutex<Vec<f64>>>)> {
    let node = respec::Client::connect(url).await?;
    let mut monitor = node.monitor().await?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let task = tokio::spawn(async move {
        let _keep = node;
        while let Some(Ok(entry)) = monitor.next_entry().await {
            let is_set = entry
                .args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(b"SET"));
            if is_set
                && entry
                    .args
                    .get(1)
                    .is_some_and(|k| k.starts_with(PREFIX.as_bytes()))
            {
                out.lock().expect("poisoned").push(entry.time);
            }
        }
    });
    Ok((task, seen))
}

/// Asks every node of `addrs` for its `ROLE` every 2 ms, from a thread of its own,
/// until one answers `master` (the moment a replica was promoted, give or take a poll)
/// or `stop`: when, in seconds since the epoch.
fn watch_promotion(
    addrs: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Option<f64>> {
    std::thread::spawn(move || {
        let connect = |addr| RawConnection::tcp(addr, Duration::from_secs(1)).ok();
        let mut conns: Vec<Option<RawConnection>> = addrs.iter().map(|&a| connect(a)).collect();
        while !stop.load(Ordering::Relaxed) {
            for (conn, &addr) in conns.iter_mut().zip(&addrs) {
                // The promotion kills the node's client connections (`CLIENT KILL TYPE
                // normal` in the sentinel's `MULTI`): connect again.
                if conn.is_none() {
                    *conn = connect(addr);
                }
                let Some(c) = conn.as_mut() else { continue };
                match c.command(&["ROLE"]) {
                    Ok(Reply::Array(Some(role))) => {
                        if matches!(role.first(), Some(Reply::Bulk(Some(r))) if r == b"master") {
                            return Some(now_secs());
                        }
                    }
                    _ => *conn = None,
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    })
}

/// Starts a fresh sentinel group (its binary `binary`, else the harness's), puts the
/// [`TASKS`] tasks' load on it through a new client `P`, runs `event` from this thread
/// (which must not be a runtime's), and returns what the client went through.
pub fn run<P: SentinelPeer>(
    runtime: &tokio::runtime::Runtime,
    binary: Option<&Path>,
    event: Event,
    times: LoadTimes,
) -> Result<Outcome> {
    let mut builder = SentinelGroup::builder();
    if let Some(path) = binary {
        builder = builder.binary(path);
    }
    let mut group = builder.start().context("starting the sentinel group")?;
    let old = group.primary();
    let (sentinels, service) = (group.sentinel_addrs(), group.service_name().to_owned());
    let peer = runtime
        .block_on(async {
            tokio::time::timeout(CONNECT_LIMIT, P::connect(&sentinels, &service)).await
        })
        .with_context(|| format!("connecting did not end within {CONNECT_LIMIT:?}"))?
        .context("connecting")?;
    let sentinel_urls = group.sentinel_urls();
    let old_url = group.node_urls()[old].clone();
    let ((announcers, switches), (monitor, old_sets)) = runtime.block_on(async {
        anyhow::Ok((
            announcements(&sentinel_urls).await?,
            sets_on(&old_url).await?,
        ))
    })?;

    let stop = Arc::new(AtomicBool::new(false));
    let last_ack = Arc::new(AtomicU64::new(0));
    let tallies: Vec<Arc<Mutex<Tally>>> = (0..TASKS).map(|_| Arc::default()).collect();
    let tasks: Vec<_> = tallies
        .iter()
        .enumerate()
        .map(|(task, tally)| {
            runtime.spawn(load_task(
                peer.clone(),
                task,
                stop.clone(),
                tally.clone(),
                last_ack.clone(),
            ))
        })
        .collect();
    let replicas = group
        .replicas()
        .iter()
        .map(|&i| SocketAddr::from(([127, 0, 0, 1], group.node(i).port())))
        .collect();
    let stop_watch = Arc::new(AtomicBool::new(false));
    let promotion = watch_promotion(replicas, stop_watch.clone());
    std::thread::sleep(times.before);
    let started = now_secs();
    let failover = match event {
        Event::Failover => group.failover(),
        Event::Kill => group.kill_primary(),
    };
    let settled = now_secs();
    // A failed event still ends the load first.
    let recovered = failover.is_ok() && {
        let begin = Instant::now();
        while (last_ack.load(Ordering::Relaxed) as f64) < settled * 1e6
            && begin.elapsed() < RECOVERY_LIMIT
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        (last_ack.load(Ordering::Relaxed) as f64) >= settled * 1e6
    };
    if recovered {
        std::thread::sleep(times.after);
    }
    stop.store(true, Ordering::Relaxed);
    stop_watch.store(true, Ordering::Relaxed);
    let promoted = promotion.join().ok().flatten();
    let hung_tasks = runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + JOIN_LIMIT;
        let mut hung = 0;
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                hung += 1;
            }
        }
        hung
    });
    let failover = failover.context(event.name())?;
    // The group has settled: every sentinel has switched, and announced it.
    let begin = Instant::now();
    while switches.lock().expect("poisoned").is_empty() && begin.elapsed() < JOIN_LIMIT {
        std::thread::sleep(Duration::from_millis(10));
    }
    announcers.iter().for_each(tokio::task::JoinHandle::abort);
    let switches = std::mem::take(&mut *switches.lock().expect("poisoned"));
    let announced = switches.iter().map(|&(at, _)| at).reduce(f64::min);
    let mut primaries: Vec<&str> = switches.iter().map(|(_, new)| new.as_str()).collect();
    primaries.sort_unstable();
    primaries.dedup();
    monitor.abort();
    let old_sets = std::mem::take(&mut *old_sets.lock().expect("poisoned"));
    drop(peer);

    // Every acknowledged write and counter, read back from the settled new primary.
    let tallies: Vec<Tally> = tallies
        .iter()
        .map(|t| std::mem::take(&mut *t.lock().expect("poisoned")))
        .collect();
    let new_url = group.node_urls()[failover.new].clone();
    let (lost_at, held_at, counters) = runtime.block_on(async {
        let direct = respec::Client::connect(&new_url).await?;
        let (mut lost_at, mut held_at) = (Vec::new(), Vec::new());
        for (task, tally) in tallies.iter().enumerate() {
            for chunk in tally.acked.chunks(CHECK_BATCH) {
                let values = direct
                    .batch(chunk.iter().map(|&(n, _)| respec::cmd::get(key(task, n))))
                    .await?;
                for (&(n, at), stored) in chunk.iter().zip(values) {
                    if stored.as_deref() == Some(value(task, n).as_bytes()) {
                        held_at.push(at);
                    } else {
                        lost_at.push(at);
                    }
                }
            }
        }
        let counters = direct.batch((0..TASKS).map(|t| respec::cmd::get(counter(t))));
        let counters: Vec<Option<Bytes>> = counters.await?;
        anyhow::Ok((lost_at, held_at, counters))
    })?;
    let reference = announced.unwrap_or(started + failover.promoted_after.as_secs_f64());
    let mut outcome = Outcome {
        client: P::ID,
        event,
        acked: held_at.len() as u64 + lost_at.len() as u64,
        lost: lost_at.len() as u64,
        lost_window: None,
        late_sets: None,
        last_old_set: old_sets
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|t| t - reference),
        wrong: 0,
        missing: 0,
        doubled: 0,
        errors: 0,
        first_error: None,
        announced_after: announced.map(|t| Duration::from_secs_f64((t - started).max(0.0))),
        promoted_after: failover.promoted_after,
        first_new_ack: held_at
            .iter()
            .copied()
            .filter(|&t| t > reference)
            .reduce(f64::min)
            .map(|t| t - reference),
        recovered,
        hung_tasks,
        primaries_announced: primaries.len(),
        promoted: promoted.map(|t| t - reference),
    };
    if !lost_at.is_empty() {
        let first = lost_at.iter().copied().reduce(f64::min).unwrap_or_default();
        let last = lost_at.iter().copied().reduce(f64::max).unwrap_or_default();
        outcome.lost_window = Some((first - reference, last - reference));
    }
    if event == Event::Failover {
        let late = reference + LATE_AFTER.as_secs_f64();
        outcome.late_sets = Some(old_sets.iter().filter(|&&t| t > late).count() as u64);
    }
    for (tally, stored) in tallies.iter().zip(&counters) {
        let stored: u64 = match stored {
            Some(bytes) => std::str::from_utf8(bytes)?.parse()?,
            None => 0,
        };
        outcome.doubled += stored.saturating_sub(tally.incr_acked + tally.incr_failed);
        outcome.wrong += tally.wrong;
        outcome.missing += tally.missing;
        outcome.errors += tally.errors;
        if outcome.first_error.is_none() {
            outcome.first_error.clone_from(&tally.first_error);
        }
    }
    drop(group);
    Ok(outcome)
}

/// Runs [`run`] for the library of `id`.
pub fn run_for(
    id: PeerId,
    runtime: &tokio::runtime::Runtime,
    binary: Option<&Path>,
    event: Event,
    times: LoadTimes,
) -> Result<Outcome> {
    match id {
        PeerId::Respec => run::<Respec>(runtime, binary, event, times),
        PeerId::RedisRs => run::<RedisRsSentinel>(runtime, binary, event, times),
        PeerId::Fred => run::<Fred>(runtime, binary, event, times),
    }
}

/// Seconds as milliseconds with a sign, or `-`.
fn ms(secs: Option<f64>) -> String {
    secs.map_or_else(|| "-".to_owned(), |s| format!("{:.0} ms", s * 1e3))
}

/// The one-line summary of an outcome (the progress line, and the every-run table's
/// cells).
pub fn line(o: &Outcome) -> String {
    format!(
        "{} acked, {} lost{}, {} late SETs on the old primary, {} wrong, {} missing, {} doubled, \
         {} errors, first ack on the new primary {}{}{}{}",
        o.acked,
        o.lost,
        o.lost_window
            .map(|(a, b)| format!(" (acked {} to {})", ms(Some(a)), ms(Some(b))))
            .unwrap_or_default(),
        o.late_sets.map_or("-".to_owned(), |n| n.to_string()),
        o.wrong,
        o.missing,
        o.doubled,
        o.errors,
        ms(o.first_new_ack),
        if o.recovered {
            String::new()
        } else {
            format!(", did not recover within {RECOVERY_LIMIT:?} of the group settling")
        },
        if o.hung_tasks > 0 {
            format!(", {} tasks hung", o.hung_tasks)
        } else {
            String::new()
        },
        if o.primaries_announced == 1 {
            String::new()
        } else {
            format!(", {} new primaries announced", o.primaries_announced)
        },
    )
}

/// `median (min–max)` of `values`, or `-` when there are none.
fn spread(values: &[f64], unit: &str, scale: f64) -> String {
    let Some(median) = stats::median(values) else {
        return "-".to_owned();
    };
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let f = |v: f64| format!("{:.0}", v * scale);
    if values.len() == 1 || min == max {
        format!("{}{unit}", f(median))
    } else {
        format!("{}{unit} ({}–{})", f(median), f(min), f(max))
    }
}

/// The summary table (per event and client, medians and ranges over the runs), the
/// every-run table, and each client's first error.
pub fn tables(outcomes: &[(Event, PeerId, Result<Outcome>)]) -> String {
    let mut out = String::from(
        "| event | client | runs in the medians (recovered; runs left out: failed over twice) | acked SETs | lost acked SETs | lost: acked from..to \
         (from `+switch-master`) | SETs on the old primary > 100 ms after it | wrong GETs | \
         missing GETs | doubled INCRs | errors | first ack on the new primary (from \
         `+switch-master`) | `+switch-master` (from the event) | promotion (`ROLE`, from \
         `+switch-master`) | hung tasks |\n\
         |---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut pairs: Vec<(Event, PeerId)> = Vec::new();
    for (event, id, _) in outcomes {
        if !pairs.contains(&(*event, *id)) {
            pairs.push((*event, *id));
        }
    }
    for (event, id) in pairs {
        let all: Vec<&Outcome> = outcomes
            .iter()
            .filter(|(e, i, _)| (*e, *i) == (event, id))
            .filter_map(|(_, _, r)| r.as_ref().ok())
            .collect();
        // A second failover loses writes whatever the client: those runs are listed
        // below, not in the medians.
        let twice = all.iter().filter(|o| o.primaries_announced > 1).count();
        let runs: Vec<&Outcome> = all
            .iter()
            .copied()
            .filter(|o| o.primaries_announced <= 1)
            .collect();
        let failed = outcomes
            .iter()
            .filter(|(e, i, r)| (*e, *i) == (event, id) && r.is_err())
            .count();
        let col = |f: &dyn Fn(&Outcome) -> Option<f64>, unit: &str, scale: f64| {
            let values: Vec<f64> = runs.iter().filter_map(|o| f(o)).collect();
            spread(&values, unit, scale)
        };
        let window = {
            let from: Vec<f64> = runs
                .iter()
                .filter_map(|o| o.lost_window.map(|w| w.0))
                .collect();
            let to: Vec<f64> = runs
                .iter()
                .filter_map(|o| o.lost_window.map(|w| w.1))
                .collect();
            if to.is_empty() {
                "-".to_owned()
            } else {
                format!(
                    "{} .. {}",
                    spread(&from, " ms", 1e3),
                    spread(&to, " ms", 1e3)
                )
            }
        };
        out += &format!(
            "| {} | {} | {}{} ({}; {}) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            event.name(),
            id.name(),
            runs.len(),
            if failed > 0 {
                format!(" + {failed} failed")
            } else {
                String::new()
            },
            runs.iter().filter(|o| o.recovered).count(),
            twice,
            col(&|o| Some(o.acked as f64), "", 1.0),
            col(&|o| Some(o.lost as f64), "", 1.0),
            window,
            col(&|o| o.late_sets.map(|n| n as f64), "", 1.0),
            col(&|o| Some(o.wrong as f64), "", 1.0),
            col(&|o| Some(o.missing as f64), "", 1.0),
            col(&|o| Some(o.doubled as f64), "", 1.0),
            col(&|o| Some(o.errors as f64), "", 1.0),
            col(&|o| o.first_new_ack, " ms", 1e3),
            col(&|o| o.announced_after.map(|d| d.as_secs_f64()), " ms", 1e3),
            col(&|o| o.promoted, " ms", 1e3),
            col(&|o| Some(o.hung_tasks as f64), "", 1.0),
        );
    }
    out += "\nEvery run:\n\n";
    let mut errors = String::new();
    for (event, id, result) in outcomes {
        match result {
            Ok(o) => {
                out += &format!(
                    "- {} {}: {}; promoted (harness) {} after the event, announced {}, `ROLE` \
                     master {} from the announcement; last SET on the old primary {} from the \
                     announcement\n",
                    event.name(),
                    id.name(),
                    line(o),
                    format_latency(o.promoted_after),
                    o.announced_after.map_or("never".to_owned(), |d| format!(
                        "{} after it",
                        format_latency(d)
                    )),
                    ms(o.promoted),
                    ms(o.last_old_set),
                );
                if let Some(err) = &o.first_error {
                    errors += &format!("- {} {}: {err}\n", event.name(), id.name());
                }
            }
            Err(err) => out += &format!("- {} {}: failed: {err:#}\n", event.name(), id.name()),
        }
    }
    if !errors.is_empty() {
        out += "\nFirst error of each run that had one:\n\n";
        out += &errors;
    }
    out
}
