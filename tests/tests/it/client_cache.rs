//! Client-side caching (`respec::tracking`) against real servers: a peer's write
//! seen after its invalidation in every mode (RESP3 default and broadcast, RESP2
//! through the invalidation connection), multi-key and `FLUSHALL` invalidations,
//! `CLIENT KILL` of the tracking connection (and of RESP2's invalidation
//! connection) with a write in the gap, a bounded cache over 10,000 keys, and reads
//! racing writes.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::tracking::{TrackingOptions, TrackingStats};
use respec::{Client, Commands};
use respec_tests::pubsub::await_value;
use respec_tests::Server;
use std::time::{Duration, Instant};

/// The longest a condition is awaited.
const LIMIT: Duration = Duration::from_secs(20);

async fn cached(server: &Server, protocol: Protocol, options: TrackingOptions) -> Client {
    Client::builder()
        .url(&server.url())
        .protocol(protocol)
        .client_side_cache(options)
        .connect()
        .await
        .unwrap()
}

async fn plain(server: &Server) -> Client {
    Client::connect(&server.url()).await.unwrap()
}

fn stats(c: &Client) -> TrackingStats {
    c.tracking_stats().expect("client-side caching is on")
}

async fn get(c: &Client, key: &str) -> Option<String> {
    c.get(key).decode().await.unwrap()
}

/// Waits until `cond` holds of the cache's counters.
async fn until_stats(c: &Client, what: &str, cond: impl Fn(&TrackingStats) -> bool) {
    let start = Instant::now();
    while !cond(&stats(c)) {
        assert!(start.elapsed() < LIMIT, "{what}: still {:?}", stats(c));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Reads `key` until a read is served from the cache (tracking is confirmed, on
/// RESP2 once the invalidation connection is there): its value.
async fn warm(c: &Client, key: &str) -> Option<String> {
    let start = Instant::now();
    loop {
        let hits = stats(c).hits;
        let v = get(c, key).await;
        if stats(c).hits > hits {
            return v;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{key} never served from the cache: {:?}",
            stats(c)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every mode: (name, protocol, options).
fn modes() -> Vec<(&'static str, Protocol, TrackingOptions)> {
    vec![
        ("RESP3 default", Protocol::Resp3, TrackingOptions::new()),
        (
            "RESP3 BCAST",
            Protocol::Resp3,
            TrackingOptions::new().broadcast(["k:"]),
        ),
        ("RESP2 redirect", Protocol::Resp2, TrackingOptions::new()),
        (
            "RESP2 redirect BCAST",
            Protocol::Resp2,
            TrackingOptions::new().broadcast(["k:"]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peers_write_is_seen_after_its_invalidation_in_every_mode() {
    let server = Server::start();
    let peer = plain(&server).await;
    for (mode, protocol, options) in modes() {
        peer.flushall().await.unwrap();
        let c = cached(&server, protocol, options).await;
        peer.set("k:1", "a").await.unwrap();
        peer.set("other", "x").await.unwrap();
        assert_eq!(warm(&c, "k:1").await.as_deref(), Some("a"), "{mode}");
        let before = stats(&c);
        assert_eq!(get(&c, "k:1").await.as_deref(), Some("a"), "{mode}");
        assert_eq!(stats(&c).hits, before.hits + 1, "{mode}: a hit");
        peer.set("k:1", "b").await.unwrap();
        until_stats(&c, mode, |s| s.invalidations > before.invalidations).await;
        assert_eq!(
            get(&c, "k:1").await.as_deref(),
            Some("b"),
            "{mode}: the next read"
        );
        // Decoded into any type, from the one cached frame.
        assert_eq!(warm(&c, "k:1").await.as_deref(), Some("b"), "{mode}");
        let raw: Option<Bytes> = c.get("k:1").await.unwrap();
        assert_eq!(raw.as_deref(), Some(&b"b"[..]), "{mode}");
        // The client's own write is seen at once, without waiting for the server.
        c.set("k:1", "c").await.unwrap();
        assert_eq!(
            get(&c, "k:1").await.as_deref(),
            Some("c"),
            "{mode}: own write"
        );
        // In broadcast mode a key outside the prefixes is never cached.
        let hits = stats(&c).hits;
        get(&c, "other").await;
        get(&c, "other").await;
        let expected = if mode.contains("BCAST") {
            hits
        } else {
            hits + 1
        };
        assert_eq!(
            stats(&c).hits,
            expected,
            "{mode}: a key outside the prefixes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_key_and_flushall_invalidations_clear_what_they_must() {
    let server = Server::start();
    let peer = plain(&server).await;
    for protocol in [Protocol::Resp3, Protocol::Resp2] {
        peer.flushall().await.unwrap();
        let c = cached(&server, protocol, TrackingOptions::new()).await;
        peer.mset([("k:1", "1"), ("k:2", "2"), ("k:3", "3")])
            .await
            .unwrap();
        for k in ["k:1", "k:2", "k:3"] {
            warm(&c, k).await;
        }
        assert_eq!(stats(&c).entries, 3, "{protocol:?}");
        // A peer invalidates only the first key.
        let before = stats(&c);
        peer.set("k:1", "1b").await.unwrap();
        until_stats(&c, "k:1 invalidated", |s| {
            s.invalidations > before.invalidations
        })
        .await;
        assert_eq!(stats(&c).entries, 2, "{protocol:?}: only k:1 dropped");
        assert_eq!(get(&c, "k:2").await.as_deref(), Some("2"));
        assert_eq!(get(&c, "k:3").await.as_deref(), Some("3"));
        assert_eq!(
            stats(&c).hits,
            before.hits + 2,
            "{protocol:?}: k:2 and k:3 still cached"
        );
        assert_eq!(get(&c, "k:1").await.as_deref(), Some("1b"));
        // One write of two keys drops both.
        let before = stats(&c);
        peer.mset([("k:2", "2b"), ("k:3", "3b")]).await.unwrap();
        until_stats(&c, "k:2 and k:3", |s| {
            s.invalidations >= before.invalidations + 2
        })
        .await;
        assert_eq!(get(&c, "k:2").await.as_deref(), Some("2b"));
        assert_eq!(get(&c, "k:3").await.as_deref(), Some("3b"));
        // FLUSHALL: an invalidation of no key list empties the cache.
        for k in ["k:1", "k:2", "k:3"] {
            warm(&c, k).await;
        }
        let before = stats(&c);
        assert_eq!(before.entries, 3);
        peer.flushall().await.unwrap();
        until_stats(&c, "FLUSHALL", |s| s.flushes > before.flushes).await;
        assert_eq!(stats(&c).entries, 0, "{protocol:?}");
        assert_eq!(get(&c, "k:1").await, None);
        // Tracking stays on: the missing key's reply was cached, and is invalidated.
        assert_eq!(warm(&c, "k:1").await, None);
        let before = stats(&c);
        peer.set("k:1", "again").await.unwrap();
        until_stats(&c, "k:1 again", |s| s.invalidations > before.invalidations).await;
        assert_eq!(warm(&c, "k:1").await.as_deref(), Some("again"));
    }
}

/// The id of the connection `c` reads on.
async fn client_id(c: &Client) -> i64 {
    c.cmd("CLIENT").arg("ID").decode().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stale_value_after_client_kill_of_the_tracking_connection() {
    let server = Server::start();
    let peer = plain(&server).await;
    for protocol in [Protocol::Resp3, Protocol::Resp2] {
        peer.flushall().await.unwrap();
        let c = cached(&server, protocol, TrackingOptions::new()).await;
        peer.set("k", "before").await.unwrap();
        assert_eq!(warm(&c, "k").await.as_deref(), Some("before"));
        let id = client_id(&c).await;
        let _: i64 = peer
            .cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .decode()
            .await
            .unwrap();
        // Written in the gap: the killed connection cannot be told.
        peer.set("k", "during").await.unwrap();
        await_value("a new connection", true, || async {
            Ok(c.cmd("CLIENT").arg("ID").decode::<i64>().await? != id)
        })
        .await;
        assert_eq!(
            get(&c, "k").await.as_deref(),
            Some("during"),
            "{protocol:?}"
        );
        // Tracking is on again on the new connection.
        assert_eq!(warm(&c, "k").await.as_deref(), Some("during"));
        let before = stats(&c);
        peer.set("k", "after").await.unwrap();
        until_stats(&c, "invalidated", |s| {
            s.invalidations > before.invalidations
        })
        .await;
        assert_eq!(get(&c, "k").await.as_deref(), Some("after"), "{protocol:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stale_value_after_client_kill_of_the_resp2_invalidation_connection() {
    let server = Server::start();
    let peer = plain(&server).await;
    let c = cached(&server, Protocol::Resp2, TrackingOptions::new()).await;
    peer.set("k", "before").await.unwrap();
    assert_eq!(warm(&c, "k").await.as_deref(), Some("before"));
    let tracking: String = c
        .cmd("CLIENT")
        .arg("TRACKINGINFO")
        .decode::<respec::Value>()
        .await
        .map(|v| format!("{v:?}"))
        .unwrap();
    // The redirect is the only client subscribed to a channel.
    let list: String = peer.cmd("CLIENT").arg("LIST").decode().await.unwrap();
    let line = list
        .lines()
        .find(|l| l.contains(" sub=1 "))
        .unwrap_or_else(|| panic!("no invalidation connection in {list} ({tracking})"));
    let id = respec_tests::pubsub::field(line, "id").to_owned();
    let flushes = stats(&c).flushes;
    let _: i64 = peer
        .cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .decode()
        .await
        .unwrap();
    peer.set("k", "during").await.unwrap();
    // Lost: flushed at once (no read may be served while the invalidations are
    // not heard); made again: flushed again, and tracking redirected to it.
    until_stats(&c, "the invalidation connection lost", |s| {
        s.flushes > flushes
    })
    .await;
    assert_eq!(get(&c, "k").await.as_deref(), Some("during"));
    assert_eq!(warm(&c, "k").await.as_deref(), Some("during"));
    let before = stats(&c);
    peer.set("k", "after").await.unwrap();
    until_stats(&c, "invalidated", |s| {
        s.invalidations > before.invalidations
    })
    .await;
    assert_eq!(get(&c, "k").await.as_deref(), Some("after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_cache_holds_to_its_bounds_over_10000_keys() {
    const KEYS: usize = 10_000;
    const MAX_ENTRIES: usize = 1_000;
    const MAX_BYTES: usize = 150_000;
    let server = Server::start();
    let peer = plain(&server).await;
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(1000) {
        let pairs: Vec<(String, String)> = chunk
            .iter()
            .map(|i| (format!("key:{i}"), format!("value-{i:08}")))
            .collect();
        peer.mset(pairs).await.unwrap();
    }
    for (max_entries, max_bytes) in [(MAX_ENTRIES, 64 << 20), (1 << 20, MAX_BYTES)] {
        let options = TrackingOptions::new()
            .max_entries(max_entries)
            .max_bytes(max_bytes);
        let c = cached(&server, Protocol::Resp3, options).await;
        warm(&c, "key:0").await;
        let mut high = (0, 0);
        for round in 0..2 {
            for chunk in (0..KEYS).collect::<Vec<_>>().chunks(100) {
                let reads: Vec<_> = chunk
                    .iter()
                    .map(|&i| {
                        let c = c.clone();
                        tokio::spawn(async move { (i, get(&c, &format!("key:{i}")).await) })
                    })
                    .collect();
                for read in reads {
                    let (i, v) = read.await.unwrap();
                    assert_eq!(v, Some(format!("value-{i:08}")), "round {round}");
                }
                let s = stats(&c);
                high = (high.0.max(s.entries), high.1.max(s.bytes));
                assert!(s.entries <= max_entries && s.bytes <= max_bytes, "{s:?}");
            }
        }
        let s = stats(&c);
        println!("bounds ({max_entries} entries, {max_bytes} bytes): highest {high:?}, {s:?}");
        assert!(
            s.evictions >= (KEYS - max_entries.min(KEYS)) as u64 || s.evictions > 10_000,
            "{s:?}"
        );
        // The most recent keys are served from the cache.
        let hits = s.hits;
        get(&c, &format!("key:{}", KEYS - 1)).await;
        assert_eq!(stats(&c).hits, hits + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_racing_writes_find_no_stale_value_once_the_last_write_is_invalidated() {
    const KEYS: usize = 8;
    const TASKS: usize = 8;
    let run_for = Duration::from_secs(10);
    let server = Server::start();
    for protocol in [Protocol::Resp3, Protocol::Resp2] {
        let peer = plain(&server).await;
        peer.flushall().await.unwrap();
        let keys: Vec<String> = (0..KEYS).map(|i| format!("race:{i}")).collect();
        for k in &keys {
            peer.set(k, 0).await.unwrap();
        }
        let c = cached(&server, protocol, TrackingOptions::new()).await;
        warm(&c, &keys[0]).await;
        let start = Instant::now();
        let writer = {
            let keys = keys.clone();
            tokio::spawn(async move {
                let mut n: u64 = 0;
                while start.elapsed() < run_for {
                    n += 1;
                    for k in &keys {
                        peer.set(k, n).await.unwrap();
                    }
                }
                n
            })
        };
        let readers: Vec<_> = (0..TASKS)
            .map(|t| {
                let c = c.clone();
                let keys = keys.clone();
                tokio::spawn(async move {
                    let mut reads = 0u64;
                    while start.elapsed() < run_for {
                        let k = &keys[(reads as usize + t) % KEYS];
                        let _: Option<u64> = c.get(k).decode().await.unwrap();
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let last = writer.await.unwrap();
        let mut reads = 0;
        for r in readers {
            reads += r.await.unwrap();
        }
        // Once each key's last write is invalidated, every read sees it.
        for k in &keys {
            await_value("the last write", Some(last), || {
                c.get(k).decode::<Option<u64>>()
            })
            .await;
        }
        let after: Vec<_> = (0..TASKS)
            .map(|t| {
                let c = c.clone();
                let keys = keys.clone();
                tokio::spawn(async move {
                    let mut stale = 0;
                    for i in 0..500 {
                        let v: Option<u64> = c.get(&keys[(i + t) % KEYS]).decode().await.unwrap();
                        stale += usize::from(v != Some(last));
                    }
                    stale
                })
            })
            .collect();
        let mut stale = 0;
        for a in after {
            stale += a.await.unwrap();
        }
        let s = stats(&c);
        println!(
            "{protocol:?}: {reads} reads racing {last} rounds of {KEYS} writes in {run_for:?}, {stale} stale after, {s:?}"
        );
        assert_eq!(stale, 0, "{protocol:?}");
        assert!(s.hits > 0 && s.invalidations > 0, "{s:?}");
        // The writes really raced the reads: a loop of cache hits (ready at once)
        // spends the task's budget and lets the other tasks run. When hits did
        // not, the RESP2 writer got through 1 round in 10 s and the RESP3 one 52
        // (thousands now).
        assert!(
            last >= 100,
            "{protocol:?}: only {last} rounds of writes ran beside the cached reads"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_each_node_caches_and_is_invalidated_for_its_keys() {
    let Some(cluster) = respec_tests::Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let seeds: Vec<String> = cluster.seed_urls().into_iter().collect();
    let peer = Client::connect_cluster(&seeds).await.unwrap();
    for protocol in [3, 2] {
        let cached_seeds: Vec<String> = seeds
            .iter()
            .map(|s| format!("{s}?protocol={protocol}&client_cache=true"))
            .collect();
        let c = Client::connect_cluster(&cached_seeds).await.unwrap();
        let keys: Vec<String> = (0..30).map(|i| format!("ck:{i}")).collect();
        for k in &keys {
            peer.set(k, "old").await.unwrap();
        }
        for k in &keys {
            assert_eq!(warm(&c, k).await.as_deref(), Some("old"));
        }
        let s = stats(&c);
        assert_eq!(s.entries, keys.len(), "RESP{protocol}: {s:?}");
        // The keys spread over every node: each caches its own.
        let slots: std::collections::BTreeSet<u16> = keys
            .iter()
            .map(|k| respec::cluster::slot(k.as_bytes()))
            .collect();
        assert!(slots.len() > 3);
        for k in &keys {
            peer.set(k, "new").await.unwrap();
        }
        until_stats(&c, "every key invalidated", |t| {
            t.invalidations >= s.invalidations + keys.len() as u64
        })
        .await;
        for k in &keys {
            assert_eq!(get(&c, k).await.as_deref(), Some("new"), "RESP{protocol}");
        }
        // CLIENT TRACKING stays refused on a cluster client.
        let err = c
            .cmd("CLIENT")
            .arg("TRACKING")
            .arg("OFF")
            .decode::<String>()
            .await
            .unwrap_err();
        assert!(err.is_refused(), "{err}");
        println!("cluster RESP{protocol}: {:?}", stats(&c));
    }
}
