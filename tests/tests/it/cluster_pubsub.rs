//! Pub/sub on a cluster client: shard channels on the primaries of their slots,
//! following them across slot migrations and failovers; keyspace notifications
//! from every primary.
//!
//! What the servers do when a shard channel's slot moves (seen with raw
//! connections): Valkey 9.1 and Redis 7.0 send `sunsubscribe` to the subscribers
//! of the old primary and its replicas on a migration (legacy or atomic); on a
//! failover Valkey sends it on the old primary and on the new one, Redis 7.0 on
//! the old primary only (the new one keeps delivering).

use bytes::Bytes;
use respec::pubsub::{Kind, Subscriber};
use respec::{Client, Commands};
use respec_tests::Cluster;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// The first `per_primary` channels named `{prefix}:N` served by each primary.
fn channels_on_every_primary(cluster: &Cluster, prefix: &str, per_primary: usize) -> Vec<String> {
    let mut by_node: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for i in 0.. {
        let c = format!("{prefix}:{i}");
        let node = cluster.node_for_slot(respec::cluster::slot(c.as_bytes()));
        let list = by_node.entry(node).or_default();
        if list.len() < per_primary {
            list.push(c);
        }
        if by_node.len() == cluster.primaries().len()
            && by_node.values().all(|l| l.len() == per_primary)
        {
            break;
        }
    }
    by_node.into_values().flatten().collect()
}

/// The next message, failing the test after 5 s.
async fn next(sub: &mut Subscriber) -> respec::pubsub::Message {
    sub.get_message(Duration::from_secs(5))
        .await
        .expect("a message within 5 s")
}

/// Shard channels on all three primaries: each subscribed on its slot's primary
/// (`SPUBLISH` reaches one subscriber), every message delivered, in order per
/// channel; classic channels still work; `SUNSUBSCRIBE` ends one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_channels_on_every_primary_deliver_in_order() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channels = channels_on_every_primary(&cluster, "sharded", 2);
    let mut sub = client
        .subscriber()
        .ignore_subscribe_messages()
        .await
        .unwrap();
    sub.ssubscribe(&channels).await.unwrap();
    let mut sorted: Vec<Bytes> = channels.iter().map(|c| Bytes::from(c.clone())).collect();
    sorted.sort();
    assert_eq!(sub.shard_channels(), sorted);
    const N: usize = 50;
    for i in 0..N {
        for c in &channels {
            assert_eq!(client.spublish(c, i.to_string()).await.unwrap(), 1, "{c}");
        }
    }
    let mut got: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for _ in 0..N * channels.len() {
        let m = next(&mut sub).await;
        assert_eq!(m.kind, Kind::SMessage, "{m:?}");
        got.entry(m.channel_str().unwrap().to_owned())
            .or_default()
            .push(m.payload_str().unwrap().parse().unwrap());
    }
    for c in &channels {
        assert_eq!(got[c], (0..N).collect::<Vec<_>>(), "{c}");
    }
    // Classic pub/sub beside it.
    sub.subscribe(["classic"]).await.unwrap();
    assert_eq!(client.publish("classic", "x").await.unwrap(), 1);
    let m = next(&mut sub).await;
    assert_eq!((m.kind, &m.payload[..]), (Kind::Message, &b"x"[..]));
    // Unsubscribing one shard channel.
    sub.sunsubscribe([&channels[0]]).await.unwrap();
    assert_eq!(client.spublish(&channels[0], "gone").await.unwrap(), 0);
    assert_eq!(sub.shard_channels().len(), channels.len() - 1);
    sub.sunsubscribe(Vec::<String>::new()).await.unwrap();
    assert!(sub.shard_channels().is_empty());
}

/// What a publisher and a subscriber saw while a channel's slot moved.
#[derive(Debug)]
#[allow(dead_code)] // printed for the record
struct Moved {
    published: u64,
    /// Publishes that failed (may or may not have run).
    failed: u64,
    /// Messages published before the notice (or in flight when it came) that never
    /// came.
    lost_before: u64,
    /// Messages published after the notice that never came (must be 0).
    lost_after: u64,
    /// The first lost ones, for the record.
    lost: Vec<u64>,
    duplicates: u64,
    /// From the start of the move to the notice, and from its end (`None`: no
    /// notice came).
    notice_after_start: Option<Duration>,
    notice_after_move: Option<Duration>,
}

/// Which pub/sub a test publishes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `SSUBSCRIBE` / `SPUBLISH`.
    Shard,
    /// `SUBSCRIBE` / `PUBLISH`.
    Classic,
}

/// Publishes `{n}` on `channel` without pause while `move_slot` moves its slot (or
/// its node fails), and until 200 messages were published after the subscriber's
/// notice ([`Kind::Reconnected`], naming the channel for a shard channel), or 8 s
/// without one; then counts what arrived.
async fn publish_across(
    client: &Client,
    family: Family,
    channel: &str,
    move_slot: impl FnOnce() -> Result<(), respec_tests::HarnessError>,
) -> Option<Moved> {
    let mut sub = client
        .subscriber()
        .ignore_subscribe_messages()
        .await
        .unwrap();
    match family {
        Family::Shard => sub.ssubscribe([channel]).await.unwrap(),
        Family::Classic => sub.subscribe([channel]).await.unwrap(),
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (client, stop, sent, channel) = (
            client.clone(),
            stop.clone(),
            sent.clone(),
            channel.to_owned(),
        );
        tokio::spawn(async move {
            let mut failed = BTreeSet::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let published = match family {
                    Family::Shard => client.spublish(&channel, i.to_string()).await,
                    Family::Classic => client.publish(&channel, i.to_string()).await,
                };
                if published.is_err() {
                    failed.insert(i);
                }
                i += 1;
                sent.store(i, Ordering::Relaxed);
            }
            (i, failed)
        })
    };
    let noticed = Arc::new(AtomicU64::new(u64::MAX));
    // How many were published, once the publisher has stopped.
    let total = Arc::new(AtomicU64::new(u64::MAX));
    let reader = {
        let (sent, noticed, total) = (sent.clone(), noticed.clone(), total.clone());
        tokio::spawn(async move {
            let mut got: Vec<u64> = Vec::new();
            let mut notice: Option<(u64, Instant)> = None;
            // Until the publisher stopped and its last message arrived, or 3 s of
            // silence after it stopped (silence while a killed node is replaced
            // is waited through: the subscriber must live on).
            let mut quiet = 0;
            loop {
                let Some(m) = sub.get_message(Duration::from_millis(500)).await else {
                    let total = total.load(Ordering::Relaxed);
                    if total != u64::MAX {
                        quiet += 1;
                        if got.last().copied() == total.checked_sub(1) || quiet == 6 {
                            break;
                        }
                    }
                    continue;
                };
                match m.kind {
                    Kind::SMessage | Kind::Message => {
                        got.push(m.payload_str().unwrap().parse().unwrap())
                    }
                    Kind::Reconnected if notice.is_none() => {
                        let at = sent.load(Ordering::Relaxed);
                        noticed.store(at, Ordering::Relaxed);
                        notice = Some((at, Instant::now()));
                    }
                    _ => {}
                }
            }
            (got, notice)
        })
    };
    let started = Instant::now();
    let moved = block_in_place(move_slot);
    let move_done = Instant::now();
    if let Err(e) = moved {
        stop.store(true, Ordering::Relaxed);
        total.store(0, Ordering::Relaxed);
        assert!(e.is_unavailable(), "{e}");
        eprintln!("skipped: {e}");
        return None;
    }
    // Until the notice came and 200 more were published (at most 8 s).
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        let at = noticed.load(Ordering::Relaxed);
        if at != u64::MAX && sent.load(Ordering::Relaxed) > at + 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (published, failed) = publisher.await.unwrap();
    total.store(published, Ordering::Relaxed);
    let (got, notice) = reader.await.unwrap();
    // Without a notice, every message counts as published after it.
    let at = notice.map_or(0, |(at, _)| at);
    let when = notice.map(|(_, when)| when);
    let mut seen = BTreeSet::new();
    let mut duplicates = 0;
    for &i in &got {
        if !seen.insert(i) {
            duplicates += 1;
        }
    }
    let missing = |range: std::ops::Range<u64>| {
        range
            .filter(|i| !seen.contains(i) && !failed.contains(i))
            .count() as u64
    };
    Some(Moved {
        published,
        failed: failed.len() as u64,
        // The publish in flight when the notice came may have run before it.
        lost_before: notice.map_or(0, |_| missing(0..(at + 1).min(published))),
        lost_after: missing(notice.map_or(0, |_| (at + 1).min(published))..published),
        lost: (0..published)
            .filter(|i| !seen.contains(i))
            .take(8)
            .collect(),
        duplicates,
        notice_after_start: when.map(|w| w - started),
        notice_after_move: when.and_then(|w| w.checked_duration_since(move_done)),
    })
}

/// Nothing published after the notice lost, nothing twice; `noticed`: whether a
/// notice must have come.
fn check(what: &str, m: Option<Moved>, noticed: bool) {
    let Some(m) = m else { return };
    eprintln!("{what}: {m:?}");
    assert_eq!(m.notice_after_start.is_some(), noticed, "{what}: {m:?}");
    assert_eq!(m.lost_after, 0, "{what}: {m:?}");
    assert_eq!(m.duplicates, 0, "{what}: {m:?}");
    assert!(m.published > 200, "{what}: {m:?}");
}

/// A legacy migration (`SETSLOT IMPORTING/MIGRATING`, `MIGRATE`, `SETSLOT NODE`) of a
/// shard channel's slot: nothing published after the notice is lost, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_channel_follows_a_legacy_migration() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channel = "legacy-moving";
    let slot = respec::cluster::slot(channel.as_bytes());
    let to = (cluster.node_for_slot(slot) + 1) % 3;
    let m = publish_across(&client, Family::Shard, channel, || {
        cluster.migrate_legacy(slot, to)
    })
    .await;
    check("legacy migration", m, true);
}

/// Valkey 9's atomic slot migration, likewise (skipped on servers without it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_channel_follows_an_atomic_migration() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channel = "atomic-moving";
    let slot = respec::cluster::slot(channel.as_bytes());
    let to = (cluster.node_for_slot(slot) + 1) % 3;
    let m = publish_across(&client, Family::Shard, channel, || {
        cluster.migrate_atomic(slot..=slot, to)
    })
    .await;
    check("atomic migration", m, true);
}

/// A failover of the shard channel's primary, likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_channel_follows_a_failover() {
    let Some(cluster) = Cluster::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channel = "failing-over";
    let primary = cluster.node_for_slot(respec::cluster::slot(channel.as_bytes()));
    let m = publish_across(&client, Family::Shard, channel, || {
        cluster.failover(primary).map(|_| ())
    })
    .await;
    check("failover", m, true);
}

/// The shard channel's primary killed (`kill -9`): the subscriber leaves it and
/// subscribes on the promoted replica once the slot map names it (a notice), and
/// every message published after the notice arrives, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_channel_follows_a_killed_primary() {
    let Some(mut cluster) = Cluster::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channel = "shard-killed";
    let primary = cluster.node_for_slot(respec::cluster::slot(channel.as_bytes()));
    let replica = cluster.replicas_of(primary)[0];
    let m = publish_across(&client, Family::Shard, channel, || {
        cluster.kill(primary);
        cluster.wait_primary(replica).map(|_| ())
    })
    .await;
    check("shard, kill -9", m, true);
}

/// The node a classic subscriber of `channel` is on (`PUBSUB NUMSUB` is per node).
fn subscribed_on(cluster: &Cluster, channel: &str) -> usize {
    let on: Vec<usize> = (0..cluster.nodes().len())
        .filter(|&i| {
            let mut conn = cluster.node(i).raw().expect("connect");
            match conn.command(&["PUBSUB", "NUMSUB", channel]) {
                Ok(respec_tests::Reply::Array(Some(r))) => {
                    r.get(1) == Some(&respec_tests::Reply::Integer(1))
                }
                other => panic!("PUBSUB NUMSUB: {other:?}"),
            }
        })
        .collect();
    assert_eq!(on.len(), 1, "subscribed on one node: {on:?}");
    on[0]
}

/// A classic channel's node (the first primary) fails over with `CLUSTER
/// FAILOVER`: it stays up as a replica, where published messages still arrive: no
/// message lost, none twice, and no notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classic_channel_keeps_delivering_across_a_failover_of_its_node() {
    let Some(cluster) = Cluster::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channel = "classic-failing-over";
    let m = publish_across(&client, Family::Classic, channel, || {
        cluster
            .failover(subscribed_on(&cluster, channel))
            .map(|_| ())
    })
    .await;
    check("classic, failover", m, false);
}

/// A classic channel's node is killed (`kill -9`): the subscriber moves to another
/// node (a [`Kind::Reconnected`] notice) and every message published after the
/// notice arrives, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classic_channel_moves_when_its_node_is_killed() {
    let Some(mut cluster) = Cluster::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let channel = "classic-killed";
    let m = publish_across(&client, Family::Classic, channel, || {
        let home = subscribed_on(&cluster, channel);
        let replica = cluster.replicas_of(home)[0];
        cluster.kill(home);
        cluster.wait_primary(replica).map(|_| ())
    })
    .await;
    check("classic, kill -9", m, true);
}

/// Sets each of `keys` and expects one `set` notification for each, nothing more.
async fn notified_once_each(client: &Client, sub: &mut Subscriber, keys: &[String]) {
    for k in keys {
        let _: bool = client.set(k, "v").await.unwrap();
    }
    let mut got = BTreeMap::new();
    for _ in 0..keys.len() {
        let m = next(sub).await;
        assert_eq!(m.kind, Kind::PMessage, "{m:?}");
        assert_eq!(m.payload_str().unwrap(), "set");
        *got.entry(m.channel_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    let want: BTreeMap<String, i32> = keys
        .iter()
        .map(|k| (format!("__keyspace@0__:{k}"), 1))
        .collect();
    assert_eq!(got, want);
    assert!(sub.get_message(Duration::from_millis(200)).await.is_none());
}

/// Keyspace notifications (`notify-keyspace-events KEA` set on every node through
/// the tipped `CONFIG SET`) from keys on every primary, each once, with a
/// subscriber [`on_every_primary`](respec::pubsub::SubscriberBuilder::on_every_primary);
/// after a failover, from the new primary too (and not twice from its old one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyspace_notifications_come_from_every_primary() {
    let Some(cluster) = Cluster::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    client
        .config_set([("notify-keyspace-events", "KEA")])
        .await
        .unwrap();
    let mut sub = client
        .subscriber()
        .on_every_primary()
        .ignore_subscribe_messages()
        .await
        .unwrap();
    sub.psubscribe(["__keyspace@0__:ks*"]).await.unwrap();
    let keys = channels_on_every_primary(&cluster, "ks", 5);
    notified_once_each(&client, &mut sub, &keys).await;
    // A failover of the first key's primary: the new primary gets the pattern once
    // the client's slot map shows it (the first write there refreshes it), and the
    // old one (a replica now, which would notify of the writes it replicates)
    // loses it.
    let primary = cluster.node_for_slot(respec::cluster::slot(keys[0].as_bytes()));
    let started = Instant::now();
    let promoted = block_in_place(|| cluster.failover(primary)).unwrap();
    let failed_over = started.elapsed();
    let numpat = |i: usize| match cluster
        .node(i)
        .raw()
        .unwrap()
        .command(&["PUBSUB", "NUMPAT"])
    {
        Ok(respec_tests::Reply::Integer(n)) => n,
        other => panic!("PUBSUB NUMPAT: {other:?}"),
    };
    let since = Instant::now();
    let _: bool = client.set(&keys[0], "probe").await.unwrap();
    while (numpat(promoted), numpat(primary)) != (1, 0) {
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "the primaries were not followed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "keyspace notifications: failover in {failed_over:?}, the new primary subscribed {:?} after it",
        since.elapsed()
    );
    while sub.get_message(Duration::from_millis(200)).await.is_some() {}
    let again = channels_on_every_primary(&cluster, "ks2", 5);
    notified_once_each(&client, &mut sub, &again).await;
}
