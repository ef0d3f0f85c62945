//! The cluster client while the cluster changes under load: 32 tasks each `INCR`
//! their own counter (counters over every primary) while a primary fails over, is
//! killed, or slots migrate. Every acknowledged `INCR` must be on the server (none
//! lost), none applied twice (the server's count is at most the acknowledged ones
//! plus those that failed as "may have run"), every reply one more than the last
//! (no wrong reply), and the figures are printed for the record.

use bytes::Bytes;
use respec::{Client, Commands};
use respec_tests::Cluster;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// What one task saw.
#[derive(Debug, Default)]
struct Tally {
    /// `INCR`s acknowledged.
    acks: i64,
    /// Failed before they were sent: did not run.
    unsent: i64,
    /// Failed after: may or may not have run.
    maybe: i64,
    /// Replies that were not one more than the last value the task knew.
    wrong: i64,
    /// The longest time one command took (or failed after).
    slowest: Duration,
    /// The errors, for the record (first few).
    errors: Vec<String>,
}

/// `tasks` tasks incrementing `{prefix}:{i}` until `stop`.
fn load(
    client: &Client,
    prefix: &str,
    tasks: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(String, Tally)>> {
    let keys: Vec<String> = (0..tasks).map(|i| format!("{prefix}:{i}")).collect();
    load_keys(client, keys, stop)
}

/// One task per key, incrementing it until `stop`.
fn load_keys(
    client: &Client,
    keys: Vec<String>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(String, Tally)>> {
    keys.into_iter()
        .map(|key| {
            let (client, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let mut t = Tally::default();
                let mut last = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let r = client.incr(&key).await;
                    t.slowest = t.slowest.max(start.elapsed());
                    match r {
                        Ok(v) => {
                            // One more than the last, or more by the "maybe"s since.
                            if v <= last || v > last + 1 + t.maybe {
                                t.wrong += 1;
                            }
                            last = v;
                            t.acks += 1;
                        }
                        Err(e) => {
                            if e.is_unsent() {
                                t.unsent += 1;
                            } else {
                                t.maybe += 1;
                            }
                            if t.errors.len() < 3 {
                                t.errors.push(e.to_string());
                            }
                        }
                    }
                }
                (key, t)
            })
        })
        .collect()
}

/// Stops the load and checks each counter against the server; returns the totals.
async fn finish(
    client: &Client,
    stop: &Arc<AtomicBool>,
    handles: Vec<tokio::task::JoinHandle<(String, Tally)>>,
) -> Tally {
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    for h in handles {
        let (key, t) = h.await.unwrap();
        let on_server: i64 = client
            .get(&key)
            .decode::<Option<i64>>()
            .await
            .unwrap()
            .unwrap_or(0);
        assert!(
            on_server >= t.acks,
            "{key}: {} acknowledged, {on_server} on the server (lost)",
            t.acks
        );
        assert!(
            on_server <= t.acks + t.maybe,
            "{key}: {on_server} on the server, {} acknowledged + {} maybe (applied twice)",
            t.acks,
            t.maybe
        );
        total.acks += t.acks;
        total.unsent += t.unsent;
        total.maybe += t.maybe;
        total.wrong += t.wrong;
        total.slowest = total.slowest.max(t.slowest);
        total.errors.extend(t.errors);
    }
    total.errors.truncate(5);
    total
}

fn three_by_three() -> Option<Cluster> {
    Cluster::builder()
        .node_timeout(Duration::from_millis(2000))
        .start_or_skip()
}

/// `CLUSTER FAILOVER` of each primary's replica, one after the other, under load:
/// no error, nothing lost or doubled, no wrong reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_under_load_loses_nothing_and_fails_nothing() {
    let Some(cluster) = three_by_three() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&client, "failover", 32, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    for primary in 0..3 {
        block_in_place(|| cluster.failover(primary)).unwrap();
    }
    let failovers = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total = finish(&client, &stop, handles).await;
    eprintln!(
        "manual failover of 3 primaries in {failovers:?} under load: {total:?}, {:?}",
        client.cluster_stats()
    );
    assert!(total.acks > 1_000, "{total:?}");
    assert_eq!(
        (total.unsent, total.maybe, total.wrong),
        (0, 0, 0),
        "{total:?}"
    );
    // Fan-out commands reach the new primaries.
    assert_eq!(client.dbsize().await.unwrap(), 32);
}

/// A primary killed (SIGKILL) under load: its replica takes over and commands reach
/// it; the ones in flight on the dead node fail as "may have run" and are not sent
/// again; nothing acknowledged is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced_and_nothing_acknowledged_is_lost() {
    let Some(mut cluster) = three_by_three() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
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
}

/// `n` keys named `{prefix}:..` whose slots are in `slots`.
fn keys_in(prefix: &str, slots: std::ops::RangeInclusive<u16>, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{prefix}:{i}"))
        .filter(|k| slots.contains(&respec::cluster::slot(k.as_bytes())))
        .take(n)
        .collect()
}

/// 1,000 slots moved under load (Valkey 9's atomic `CLUSTER MIGRATESLOTS`), then
/// slots moved the legacy way (`SETSLOT IMPORTING/MIGRATING` + `MIGRATE`, so `ASK`
/// and `TRYAGAIN` happen) while 64 tasks increment counters in those very slots:
/// nothing lost or doubled, no error, no wrong reply, and the refreshes stay within
/// one per `min_refresh_interval`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_under_load_loses_nothing_and_fails_nothing() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Counters in the slots that move (0..=999 from node 0) and elsewhere.
    let moving = keys_in("reshard", 0..=999, 48);
    let mut handles = load_keys(&client, moving.clone(), &stop);
    handles.extend(load(&client, "elsewhere", 16, &stop));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let from = cluster.node_for_slot(0);
    let to = (from + 1) % 3;
    let atomic = block_in_place(|| cluster.migrate_atomic(0..=999, to));
    if let Err(e) = &atomic {
        eprintln!("atomic migration skipped: {e}");
    }
    // Legacy migration of the slots of the first 8 counters, one by one.
    let legacy_to = (cluster.node_for_slot(0) + 1) % 3;
    let mut legacy: Vec<u16> = moving[..8]
        .iter()
        .map(|k| respec::cluster::slot(k.as_bytes()))
        .collect();
    legacy.dedup();
    for &slot in &legacy {
        block_in_place(|| cluster.migrate_legacy(slot, legacy_to)).unwrap();
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let total = finish(&client, &stop, handles).await;
    let stats = client.cluster_stats().unwrap();
    eprintln!(
        "resharding ({} atomic, {} legacy slots) in {elapsed:?} under load: {total:?}, {stats:?}",
        if atomic.is_ok() { 1000 } else { 0 },
        legacy.len()
    );
    assert!(total.acks > 1_000, "{total:?}");
    assert_eq!(
        (total.unsent, total.maybe, total.wrong),
        (0, 0, 0),
        "{total:?}"
    );
    assert!(stats.moved > 0, "{stats:?}");
    // At most one refresh per min_refresh_interval (100 ms), whatever the MOVED count.
    let bound = (started.elapsed().as_millis() / 100) as u64 + 3;
    assert!(
        stats.refreshes <= bound,
        "{stats:?}: more than {bound} refreshes"
    );
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
fn gets_served(cluster: &Cluster, index: usize) -> u64 {
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
