//! The cluster client while the cluster changes under load: tasks each `INCR` their
//! own counter, `APPEND` a value unique to the round to their own log (in the
//! counter's slot, by a hash tag) and read both back with one `MGET`, over every
//! primary, while a primary fails over, is killed, or slots migrate. Every
//! acknowledged write must be on the server (none lost), none applied twice (the
//! counter is at most the acknowledged `INCR`s plus those that failed as "may have
//! run"; each value is in the log at most once, and only if its `APPEND` was not
//! refused unsent), every reply as the task's own writes predict (no wrong reply),
//! and the figures are printed for the record.

use bytes::Bytes;
use respec::{Client, Commands};
use respec_tests::Cluster;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// What one task saw (or, summed, every task).
#[derive(Debug, Default)]
struct Tally {
    /// Writes (`INCR`, `APPEND`) acknowledged.
    acks: i64,
    /// Commands that failed before they were sent: did not run.
    unsent: i64,
    /// Commands that failed after: may or may not have run.
    maybe: i64,
    /// Replies that were not what the task's own writes predict.
    wrong: i64,
    /// Acknowledged writes missing on the server at the end.
    lost: i64,
    /// Writes applied more often than acknowledged (or "may have run").
    doubled: i64,
    /// The longest time one command took (or failed after).
    slowest: Duration,
    /// The errors, for the record (first few).
    errors: Vec<String>,
    /// When each `INCR` was acknowledged (a task's own, until [`finish_timed`]).
    incr_acked_at: Vec<Instant>,
}

/// The rounds of a task whose `APPEND` was acknowledged, and those that may have run.
#[derive(Debug, Default)]
struct Appends {
    acked: Vec<u64>,
    maybe: Vec<u64>,
}

/// What a load task returns: its counter key, figures and appends.
type Task = tokio::task::JoinHandle<(String, Tally, Appends)>;

impl Tally {
    /// Runs one command, timing it; an error is counted as unsent or "may have run"
    /// (then `Err(true)`) and recorded.
    async fn run<T>(
        &mut self,
        command: impl IntoFuture<Output = respec::Result<T>>,
    ) -> Result<T, bool> {
        let start = Instant::now();
        let result = command.await;
        self.slowest = self.slowest.max(start.elapsed());
        result.map_err(|e| {
            let maybe = !e.is_unsent();
            if maybe {
                self.maybe += 1;
            } else {
                self.unsent += 1;
            }
            if self.errors.len() < 3 {
                self.errors.push(e.to_string());
            }
            maybe
        })
    }

    /// Adds a task's figures to the totals.
    fn add(&mut self, t: Tally) {
        self.acks += t.acks;
        self.unsent += t.unsent;
        self.maybe += t.maybe;
        self.wrong += t.wrong;
        self.lost += t.lost;
        self.doubled += t.doubled;
        self.slowest = self.slowest.max(t.slowest);
        self.errors.extend(t.errors);
    }
}

/// The log of the task whose counter is `key`: in the counter's slot.
fn log_key(key: &str) -> String {
    format!("{{{key}}}:log")
}

/// `tasks` tasks on the counters `{prefix}:{i}` until `stop`.
fn load(client: &Client, prefix: &str, tasks: usize, stop: &Arc<AtomicBool>) -> Vec<Task> {
    let keys: Vec<String> = (0..tasks).map(|i| format!("{prefix}:{i}")).collect();
    load_keys(client, keys, stop)
}

/// One task per counter key, until `stop`: each round `INCR`s the counter,
/// `APPEND`s `"{round},"` to the log and reads both back with one `MGET`.
fn load_keys(client: &Client, keys: Vec<String>, stop: &Arc<AtomicBool>) -> Vec<Task> {
    keys.into_iter()
        .map(|key| {
            let (client, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let log = log_key(&key);
                let (mut t, mut appends) = (Tally::default(), Appends::default());
                let (mut last, mut round) = (0i64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    if let Ok(v) = t.run(client.incr(&key)).await {
                        // One more than the last, or more by the "maybe"s since.
                        if v <= last || v > last + 1 + t.maybe {
                            t.wrong += 1;
                        }
                        last = v;
                        t.acks += 1;
                        t.incr_acked_at.push(Instant::now());
                    }
                    let token = format!("{round},");
                    let appended = match t.run(client.append(&log, &token)).await {
                        Ok(_) => {
                            appends.acked.push(round);
                            t.acks += 1;
                            true
                        }
                        Err(maybe) => {
                            if maybe {
                                appends.maybe.push(round);
                            }
                            false
                        }
                    };
                    let read = client.mget([&key, &log]).decode::<Vec<Option<String>>>();
                    if let Ok(values) = t.run(read).await {
                        let counter = values[0].as_deref().and_then(|v| v.parse::<i64>().ok());
                        let counter_ok = counter.is_some_and(|c| c >= last && c <= last + t.maybe);
                        let log_ok =
                            !appended || values[1].as_deref().is_some_and(|l| l.ends_with(&token));
                        if !counter_ok || !log_ok {
                            t.wrong += 1;
                        }
                    }
                }
                (key, t, appends)
            })
        })
        .collect()
}

/// Stops the load and checks each counter and log against the server: nothing
/// lost, nothing doubled (asserted after the figures are summed); returns the
/// totals.
async fn finish(client: &Client, stop: &Arc<AtomicBool>, handles: Vec<Task>) -> Tally {
    finish_timed(client, stop, handles).await.0
}

/// [`finish`], also returning when each counter's `INCR`s were acknowledged, by key.
async fn finish_timed(
    client: &Client,
    stop: &Arc<AtomicBool>,
    handles: Vec<Task>,
) -> (Tally, Vec<(String, Vec<Instant>)>) {
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    let mut acked_at = Vec::with_capacity(handles.len());
    for h in handles {
        let (key, mut t, appends) = h.await.unwrap();
        acked_at.push((key.clone(), std::mem::take(&mut t.incr_acked_at)));
        let (on_server, log): (Option<i64>, Option<String>) = client
            .pipeline()
            .add(respec::cmd::get(&key).decode())
            .add(respec::cmd::get(log_key(&key)).decode())
            .execute()
            .await
            .unwrap();
        let on_server = on_server.unwrap_or(0);
        let incr_acks = t.acks - appends.acked.len() as i64;
        t.lost += (incr_acks - on_server).max(0);
        t.doubled += (on_server - incr_acks - t.maybe).max(0);
        // The log: every acknowledged round once, any other only if it may have run,
        // in order.
        let rounds: Vec<u64> = log
            .unwrap_or_default()
            .split_terminator(',')
            .map(|r| r.parse().unwrap())
            .collect();
        if rounds.windows(2).any(|w| w[0] >= w[1]) {
            t.doubled += rounds.windows(2).filter(|w| w[0] == w[1]).count() as i64;
            t.wrong += rounds.windows(2).filter(|w| w[0] > w[1]).count() as i64;
        }
        t.lost += appends
            .acked
            .iter()
            .filter(|r| rounds.binary_search(r).is_err())
            .count() as i64;
        t.doubled += rounds
            .iter()
            .filter(|r| {
                appends.acked.binary_search(r).is_err() && appends.maybe.binary_search(r).is_err()
            })
            .count() as i64;
        if t.lost + t.doubled > 0 {
            eprintln!(
                "{key}: {} lost, {} doubled ({incr_acks} INCRs acknowledged, {on_server} on the server, rounds {rounds:?})",
                t.lost, t.doubled
            );
        }
        total.add(t);
    }
    total.errors.truncate(5);
    assert_eq!((total.lost, total.doubled), (0, 0), "{total:?}");
    (total, acked_at)
}

fn three_by_three() -> Option<Cluster> {
    Cluster::builder()
        .node_timeout(Duration::from_millis(2000))
        .start_or_skip()
}

/// `CLUSTER FAILOVER` of each primary's replica, one after the other, under load:
/// no error, nothing lost or doubled, no wrong reply, and the first success on the
/// new primaries within 100 ms of their promotion (the replica's `ROLE` turning
/// `master`, asked with no pause from the command on): the first `INCR`
/// acknowledged after it on a counter of the shard that failed over (its old
/// primary runs no write from the failover's start, so that one ran on the new).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_under_load_loses_nothing_and_fails_nothing() {
    let Some(cluster) = three_by_three() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let keys: Vec<String> = (0..32).map(|i| format!("failover:{i}")).collect();
    let shard_of: Vec<usize> = keys
        .iter()
        .map(|k| block_in_place(|| cluster.node_for_slot(respec::cluster::slot(k.as_bytes()))))
        .collect();
    let handles = load_keys(&client, keys, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut failovers = Vec::new();
    for primary in 0..3 {
        failovers.push((
            primary,
            block_in_place(|| cluster.failover_timed(primary)).unwrap(),
        ));
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ran_for = started.elapsed() + Duration::from_millis(300);
    let (total, acked_at) = finish_timed(&client, &stop, handles).await;
    let mut report = Vec::new();
    let mut reached_after = Vec::new();
    for (primary, times) in &failovers {
        let first = acked_at
            .iter()
            .zip(&shard_of)
            .filter(|(_, shard)| *shard == primary)
            .filter_map(|((_, acks), _)| acks.iter().find(|&&t| t > times.promoted))
            .min()
            .copied()
            .expect("a counter of the shard was acknowledged after the failover");
        let reached = first - times.promoted;
        report.push(format!(
            "primary {primary}: promoted {:?} after the command, the old primary stepped \
             down {:?} after the promotion, first success on the new primary {reached:?} \
             after the promotion ({:?} after the step-down)",
            times.promoted - times.commanded,
            times.demoted.saturating_duration_since(times.promoted),
            first.saturating_duration_since(times.demoted),
        ));
        reached_after.push(reached);
    }
    eprintln!(
        "manual failover of 3 primaries in {took:?} under load ({:.0} acknowledged \
         writes/s): {}; {total:?}, {:?}",
        total.acks as f64 / ran_for.as_secs_f64(),
        report.join("; "),
        client.cluster_stats()
    );
    assert!(total.acks > 1_000, "{total:?}");
    assert_eq!(
        (total.unsent, total.maybe, total.wrong),
        (0, 0, 0),
        "{total:?}"
    );
    // Within 100 ms of the promotion (the median of the three: on a loaded machine
    // one may be late, its connection to the node just promoted slow to be made),
    // and never near the node timeout.
    reached_after.sort();
    assert!(
        reached_after[1] < Duration::from_millis(100) && reached_after[2] < Duration::from_secs(1),
        "{report:?}"
    );
    // Fan-out commands reach the new primaries: 32 counters and their logs.
    assert_eq!(client.dbsize().await.unwrap(), 64);
}

/// A primary killed (SIGKILL) under load: its replica takes over and commands reach
/// it; the ones in flight on the dead node fail as "may have run" and are not sent
/// again; nothing acknowledged is lost or doubled; fan-out commands reach the
/// current primaries afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced_and_nothing_acknowledged_is_lost() {
    let Some(mut cluster) = three_by_three() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    // Seeds are not trusted forever: a client whose one seed is the node killed goes
    // on with the nodes it learnt.
    let seeded_by_the_killed = Client::connect_cluster([cluster.node(0).url()])
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&client, "killed", 32, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let replica = cluster.replicas_of(0)[0];
    let killed_at = Instant::now();
    block_in_place(|| cluster.kill(0));
    block_in_place(|| cluster.wait_primary(replica)).unwrap();
    let promoted = killed_at.elapsed();
    // The client reaches the new primary: a key of its slots answers.
    let probe = (0..)
        .map(|i| format!("probe:{i}"))
        .find(|k| block_in_place(|| cluster.node_for_slot(cluster.keyslot(k))) == replica)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match client.set(&probe, 1).await {
            Ok(_) => break,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "the new primary was not reached: {e} ({:?})",
                    client.cluster_stats()
                );
            }
        }
    }
    let reached = killed_at.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total = finish(&client, &stop, handles).await;
    eprintln!(
        "primary killed: promoted after {promoted:?}, reached after {reached:?}; {total:?}, {:?}",
        client.cluster_stats()
    );
    assert!(
        reached < promoted + Duration::from_secs(1),
        "{reached:?} vs {promoted:?}"
    );
    assert_eq!(total.wrong, 0, "{total:?}");
    // Fan-out commands reach the current primaries (not the dead one): 32
    // counters, their logs and the probe.
    assert_eq!(client.dbsize().await.unwrap(), 65);
    let probed: Option<i64> = seeded_by_the_killed.get(&probe).decode().await.unwrap();
    assert_eq!(probed, Some(1));
    assert_eq!(seeded_by_the_killed.dbsize().await.unwrap(), 65);
}

/// `n` keys named `{prefix}:..` whose slots are in `slots`.
fn keys_in(prefix: &str, slots: std::ops::RangeInclusive<u16>, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{prefix}:{i}"))
        .filter(|k| slots.contains(&respec::cluster::slot(k.as_bytes())))
        .take(n)
        .collect()
}

/// How many slots [`resharding_under_load_loses_nothing_and_fails_nothing`] moves
/// each way.
const RESHARDED_SLOTS: u16 = 1_000;

/// 1,000 slots moved under load by Valkey 9's atomic `CLUSTER MIGRATESLOTS` (skipped
/// on other servers), then 1,000 slots moved the legacy way (`SETSLOT
/// IMPORTING/MIGRATING`, `MIGRATE` one key per slot and round, so that `ASK` and
/// `TRYAGAIN` happen, then `SETSLOT NODE`), on a cluster holding 20,000 other keys,
/// while 64 tasks (48 with their keys in the moving slots) write and read back:
/// nothing lost or doubled, no error, no wrong reply, never more than one refresh in
/// flight and at most one per `min_refresh_interval`; every other key intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_under_load_loses_nothing_and_fails_nothing() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let slots = 0..=RESHARDED_SLOTS - 1;
    let data: Vec<String> = (0..20_000).map(|i| format!("data:{i}")).collect();
    let mut p = client.pipeline_dyn();
    for k in &data {
        p.push(respec::cmd::set(k, k));
    }
    p.execute().await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Counters in the slots that move and elsewhere.
    let moving = keys_in("reshard", slots.clone(), 48);
    let mut handles = load_keys(&client, moving, &stop);
    handles.extend(load(&client, "elsewhere", 16, &stop));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let from = cluster.node_for_slot(0);
    let atomic = block_in_place(|| cluster.migrate_atomic(slots.clone(), (from + 1) % 3));
    if let Err(e) = &atomic {
        eprintln!("atomic migration skipped: {e}");
    }
    let atomic_time = started.elapsed();
    let legacy_to = (cluster.node_for_slot(0) + 1) % 3;
    let moved_keys = block_in_place(|| {
        let migration = cluster.begin_migration_range(slots.clone(), legacy_to)?;
        // One key per slot and round: between two rounds, the keys of a slot with
        // several are split between the nodes.
        let moved = cluster.move_keys_batched(&migration, usize::MAX, 1)?;
        cluster.finish_migration(migration)?;
        Ok::<_, respec_tests::HarnessError>(moved)
    })
    .unwrap();
    let legacy_time = started.elapsed() - atomic_time;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let total = finish(&client, &stop, handles).await;
    let stats = client.cluster_stats().unwrap();
    eprintln!(
        "resharding of {RESHARDED_SLOTS} slots under load: atomic {}, legacy in {legacy_time:?} \
         ({moved_keys} keys); {total:?}, {stats:?}",
        if atomic.is_ok() {
            format!("in {atomic_time:?}")
        } else {
            "skipped".to_owned()
        },
    );
    assert!(total.acks > 1_000, "{total:?}");
    assert_eq!(
        (total.unsent, total.maybe, total.wrong),
        (0, 0, 0),
        "{total:?}"
    );
    assert!(stats.moved > 0 && stats.asked > 0, "{stats:?}");
    assert_eq!(stats.peak_refreshes_in_flight, 1, "{stats:?}");
    // At most one refresh per min_refresh_interval (100 ms), whatever the MOVED count.
    let bound = (started.elapsed().as_millis() / 100) as u64 + 3;
    assert!(
        stats.refreshes <= bound,
        "{stats:?}: more than {bound} refreshes"
    );
    // Every other key moved with its slot, intact.
    let mut p = client.pipeline_dyn();
    for k in &data {
        p.push(respec::cmd::get(k));
    }
    let values = p.execute().await.unwrap();
    for (k, v) in data.iter().zip(values) {
        assert_eq!(
            v.unwrap(),
            respec::Value::Bulk(Bytes::from(k.clone())),
            "{k}"
        );
    }
    for slot in [0, RESHARDED_SLOTS - 1] {
        assert_eq!(cluster.node_for_slot(slot), legacy_to);
    }
}

/// `SCAN` through a cluster client walks every primary: every key is returned, also
/// while slots migrate and a primary fails over during the scan (SCAN's guarantee:
/// every key that exists throughout, at least once); the duplicates are printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_returns_every_key_across_a_migration_and_a_failover() {
    use respec::cmd;
    use std::collections::HashMap;
    let Some(cluster) = three_by_three() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let keys: Vec<String> = (0..3_000).map(|i| format!("scan:{i}")).collect();
    client
        .mset(keys.iter().map(|k| (k.as_str(), 1)))
        .await
        .unwrap();
    // Quiet: every key once.
    let seen: Vec<Bytes> = client
        .scan_stream(cmd::scan(0).match_("scan:*").count(100))
        .collect()
        .await
        .unwrap();
    assert_eq!(seen.len(), 3_000);

    // Slots migrate and a primary fails over while the scan runs.
    let mut stream = client.scan_stream(cmd::scan(0).match_("scan:*").count(50));
    let mut count: HashMap<Bytes, usize> = HashMap::new();
    let mut n = 0;
    let first_slot_of = |node: usize| {
        keys.iter()
            .map(|k| respec::cluster::slot(k.as_bytes()))
            .find(|&s| cluster.node_for_slot(s) == node)
            .unwrap()
    };
    while let Some(key) = stream.next().await {
        *count.entry(key.unwrap()).or_default() += 1;
        n += 1;
        if n == 500 {
            // A slot of the last primary (not scanned yet, most likely) moves to
            // the first one (scanned already).
            let slot = first_slot_of(2);
            block_in_place(|| cluster.migrate_legacy(slot, 0)).unwrap();
        }
        if n == 1_500 {
            block_in_place(|| cluster.failover(1)).unwrap();
        }
    }
    let missed: Vec<&String> = keys
        .iter()
        .filter(|k| !count.contains_key(k.as_bytes()))
        .collect();
    let twice = count.values().filter(|&&c| c > 1).count();
    eprintln!(
        "cluster SCAN across a migration and a failover: {} keys returned, {} missed, {twice} returned more than once",
        count.len(),
        missed.len()
    );
    assert!(
        missed.is_empty(),
        "missed {} keys, e.g. {:?}",
        missed.len(),
        &missed[..missed.len().min(5)]
    );
}

/// How many `GET`s the node at `index` has served (`INFO commandstats`).
pub(crate) fn gets_served(cluster: &Cluster, index: usize) -> u64 {
    let mut conn = cluster.node(index).raw().expect("connect");
    match conn.command(&["INFO", "commandstats"]).expect("reply") {
        respec_tests::Reply::Bulk(Some(text)) => String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
            .and_then(|rest| rest.split(',').next()?.parse().ok())
            .unwrap_or(0),
        other => panic!("INFO: {other:?}"),
    }
}

/// Reads from replicas (`ReadFrom::PreferReplica`): `GET`s are served by the
/// replicas (after `READONLY`), writes by the primaries; a replica killed, its
/// shard's reads fall back to the primary, without an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_replicas_and_fall_back_to_the_primary() {
    use respec::cluster::{ClusterOptions, ReadFrom};
    let Some(mut cluster) = three_by_three() else {
        return;
    };
    let mut options = ClusterOptions::default();
    options.read_from = ReadFrom::PreferReplica;
    let client = Client::connect_cluster_with(cluster.seed_urls(), options)
        .await
        .unwrap();
    let keys: Vec<String> = (0..60).map(|i| format!("replica:{i}")).collect();
    for k in &keys {
        client.set(k, k.as_str()).await.unwrap();
    }
    // Every primary has its write on its replica.
    assert_eq!(client.wait(1, 2_000).await.unwrap(), 1);
    for k in &keys {
        let v: Option<String> = client.get(k).decode().await.unwrap();
        assert_eq!(v.as_deref(), Some(k.as_str()));
    }
    for primary in 0..3 {
        let replica = cluster.replicas_of(primary)[0];
        assert_eq!(gets_served(&cluster, primary), 0, "primary {primary}");
        assert!(gets_served(&cluster, replica) > 0, "replica {replica}");
    }
    // A replica down: its shard's reads go to the primary.
    let replica = cluster.replicas_of(0)[0];
    block_in_place(|| cluster.kill(replica));
    for k in &keys {
        let v: Option<String> = client.get(k).decode().await.unwrap();
        assert_eq!(v.as_deref(), Some(k.as_str()));
    }
    assert!(gets_served(&cluster, 0) > 0);
}

/// 1,000 requests answered `MOVED` at once (a slot moved under them) cause one
/// refresh, not one each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_moved_replies_causes_one_refresh() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let key = "storm:{s}";
    client.set(key, 1).await.unwrap();
    let slot = respec::cluster::slot(key.as_bytes());
    let to = (cluster.node_for_slot(slot) + 1) % 3;
    if let Err(e) = block_in_place(|| cluster.migrate_legacy(slot, to)) {
        panic!("{e}");
    }
    let before = client.cluster_stats().unwrap();
    let tasks: Vec<_> = (0..1_000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get(key).await })
        })
        .collect();
    for t in tasks {
        let v: Option<Bytes> = t.await.unwrap().unwrap();
        assert_eq!(v, Some(Bytes::from("1")));
    }
    // Let a scheduled refresh finish.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = client.cluster_stats().unwrap();
    eprintln!("1,000 concurrent GETs of a moved slot: {before:?} -> {after:?}");
    assert!(after.moved - before.moved >= 1);
    assert!(
        after.refreshes - before.refreshes <= 1,
        "{} refreshes",
        after.refreshes - before.refreshes
    );
}

/// The CPU time this process has used.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or(Vec::new(), |(_, rest)| rest.split(' ').collect());
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Every primary down (SIGKILL), then back: while down, commands fail with an error
/// naming the unreachable node after a bounded number of retries, with no busy loop
/// (little CPU, however many callers); once the nodes are back, commands run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_primary_down_then_back() {
    use respec::cluster::ClusterOptions;
    let Some(mut cluster) = Cluster::builder()
        .replicas(0)
        .allow_partial_coverage()
        .node_timeout(Duration::from_millis(1000))
        .start_or_skip()
    else {
        return;
    };
    let mut options = ClusterOptions::default();
    options.max_redirects = 4;
    let client = Client::connect_cluster_with(cluster.seed_urls(), options)
        .await
        .unwrap();
    let keys: Vec<String> = (0..30).map(|i| format!("down:{i}")).collect();
    for k in &keys {
        client.set(k, 1).await.unwrap();
    }
    for i in 0..3 {
        block_in_place(|| cluster.kill(i));
    }
    // 8 callers retrying for 2 s against a cluster that is all down.
    let cpu_before = cpu_time();
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (client, key) = (client.clone(), keys[t].clone());
            tokio::spawn(async move {
                let mut errors = Vec::new();
                let end = Instant::now() + Duration::from_secs(2);
                while Instant::now() < end {
                    match client.get(&key).await {
                        Ok(v) => panic!("a dead cluster answered {v:?}"),
                        Err(e) => errors.push(e),
                    }
                }
                errors
            })
        })
        .collect();
    let mut errors = Vec::new();
    for t in tasks {
        errors.extend(t.await.unwrap());
    }
    let down = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);
    eprintln!(
        "every primary down for {down:?}: {} failed commands from 8 callers, {cpu:?} of CPU; e.g. {:?}",
        errors.len(),
        errors.first()
    );
    assert!(
        errors.iter().all(|e| e.is_io() || e.is_config()),
        "{:?}",
        errors.first()
    );
    assert!(
        errors.len() < 8 * 50,
        "{} failures in {down:?}: the retries are not bounded",
        errors.len()
    );
    assert!(cpu < down / 2, "{cpu:?} of CPU in {down:?}: a busy loop");

    // Back (empty: no persistence): commands run again.
    block_in_place(|| cluster.restart_all(&[0, 1, 2])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.set(&keys[0], 2).await {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "not back: {e}"),
        }
    }
    for k in &keys {
        client.set(k, 3).await.unwrap();
        let v: Option<i64> = client.get(k).decode().await.unwrap();
        assert_eq!(v, Some(3));
    }
}

/// A node added and slots moved to it while the client runs: the client follows
/// them there (and fans out to the new primary); the slots moved back and the node
/// removed: the client drops it and every key still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_added_and_removed_is_followed() {
    let Some(mut cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let keys: Vec<String> = (0..200).map(|i| format!("grow:{i}")).collect();
    for k in &keys {
        client.set(k, 1).await.unwrap();
    }
    let added = block_in_place(|| cluster.add_node()).unwrap();
    // A node that just joined answers CLUSTERDOWN until it sees the cluster ok.
    block_in_place(|| cluster.wait_converged()).unwrap();
    // The slots of a few keys move to the new node (the legacy way: every server).
    let mut slots: Vec<u16> = keys[..5]
        .iter()
        .map(|k| respec::cluster::slot(k.as_bytes()))
        .collect();
    slots.sort();
    slots.dedup();
    for &slot in &slots {
        block_in_place(|| cluster.migrate_legacy(slot, added)).unwrap();
    }
    for k in &keys {
        let v: Option<i64> = client.get(k).decode().await.unwrap();
        assert_eq!(v, Some(1), "{k}");
    }
    assert!(client.cluster_stats().unwrap().moved > 0);
    // A refresh has run since (MOVED schedules one): DBSIZE reaches the new node.
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.primary_clients().await.unwrap().len() != 4 {
        assert!(
            Instant::now() < deadline,
            "the new primary never joined the view"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(client.dbsize().await.unwrap(), 200);

    // Back, and the node removed (every node agreeing on the map first: a migration
    // is refused by a node that does not agree on the slot's owner yet).
    block_in_place(|| cluster.wait_converged()).unwrap();
    for &slot in &slots {
        block_in_place(|| cluster.migrate_legacy(slot, 0)).unwrap();
    }
    block_in_place(|| cluster.remove_node(added)).unwrap();
    for k in &keys {
        let v: Option<i64> = client.get(k).decode().await.unwrap();
        assert_eq!(v, Some(1), "{k}");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.primary_clients().await.unwrap().len() != 3 {
        assert!(
            Instant::now() < deadline,
            "the removed node stayed in the view"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(client.dbsize().await.unwrap(), 200);
}

/// A primary killed while commands wait for its answers: a read is sent again and
/// answered by the promoted replica (it changes nothing, so running twice is
/// harmless); a write fails as "may have run" and is not resent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_in_flight_on_a_killed_primary_is_sent_again_a_write_is_not() {
    let Some(mut cluster) = three_by_three() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let key = (0..)
        .map(|i| format!("inflight:{i}"))
        .find(|k| block_in_place(|| cluster.node_for_slot(cluster.keyslot(k))) == 0)
        .unwrap();
    client.set(&key, "v").await.unwrap();
    assert_eq!(client.wait(1, 2_000).await.unwrap(), 1);
    let replica = cluster.replicas_of(0)[0];
    // Frozen, the primary takes the commands and answers none of them.
    block_in_place(|| cluster.freeze(0));
    let read = {
        let (client, key) = (client.clone(), key.clone());
        tokio::spawn(async move { client.get(&key).decode::<Option<String>>().await })
    };
    let write = {
        let (client, key) = (client.clone(), key.clone());
        tokio::spawn(async move { client.append(&key, "w").await })
    };
    // Both are written to the frozen node's socket (nothing to await but time:
    // the node cannot say it has them).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!read.is_finished() && !write.is_finished());
    // SIGKILL while frozen (the harness's kill would let it run first, and answer).
    let pid = cluster.node(0).server().pid().expect("node 0 runs");
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
    block_in_place(|| cluster.kill(0));
    block_in_place(|| cluster.wait_primary(replica)).unwrap();
    let read = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the read never ended")
        .unwrap();
    assert_eq!(read.unwrap().as_deref(), Some("v"));
    let write = write.await.unwrap().unwrap_err();
    assert!(!write.is_unsent(), "{write}");
    let v: Option<String> = client.get(&key).decode().await.unwrap();
    assert_eq!(v.as_deref(), Some("v"), "the write was resent");
}
