//! Stream consumers on a sentinel-managed primary: group consumers running through a
//! `SENTINEL FAILOVER` go on reading on the promoted replica.

use bytes::Bytes;
use respec::streams::Start;
use respec::{cmd, Client, Commands};
use respec_tests::pubsub::await_value;
use respec_tests::SentinelGroup;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::block_in_place;

/// Appends `n` entries to `key` in one pipeline; their IDs.
async fn fill(c: &Client, key: &str, n: usize) -> Vec<Bytes> {
    let ids = c
        .batch((0..n).map(|i| cmd::xadd(key, "*", [("n", i.to_string())])))
        .await
        .unwrap();
    ids.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_consumers_go_on_reading_after_a_failover() {
    let Some(mut group) = SentinelGroup::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    let workers = client
        .stream_group("jobs", "workers", "w0")
        .create(Start::Beginning)
        .count(20)
        .block(Duration::from_millis(200))
        .claim_idle(Some(Duration::from_millis(500)))
        .claim_interval(Duration::from_millis(100));
    let handled: Arc<Mutex<HashMap<Bytes, usize>>> = Arc::default();
    let (count_tx, mut count) = watch::channel(0usize);
    let count_tx = Arc::new(count_tx);
    let mut tasks = Vec::new();
    for w in 0..2 {
        let consumer = workers
            .clone()
            .consumer(format!("w{w}"))
            .start()
            .await
            .unwrap();
        let (handled, count_tx) = (handled.clone(), count_tx.clone());
        tasks.push(tokio::spawn(consumer.run(move |e| {
            // The mutex is released before the watch is written: holding it then
            // while the test's waiting took the watch's lock and then the mutex
            // deadlocked both worker threads (no timeout can fire then).
            let n = {
                let mut h = handled.lock().unwrap();
                *h.entry(e.id).or_default() += 1;
                h.len()
            };
            // (Two consumers: the larger count wins, whichever sends last.)
            count_tx.send_modify(|c| *c = (*c).max(n));
            async { Ok::<_, String>(()) }
        })));
    }
    let before = fill(&client, "jobs", 500).await;
    tokio::time::timeout(Duration::from_secs(30), count.wait_for(|n| *n >= 500))
        .await
        .expect("500 entries handled before the failover")
        .unwrap();
    // Every write so far on both replicas, so the failover loses none of them.
    let acked: i64 = client.cmd("WAIT").arg(2).arg(5000).decode().await.unwrap();
    assert_eq!(acked, 2);

    let old = client.address();
    let started = Instant::now();
    block_in_place(|| group.failover()).unwrap();
    // New entries, written once the client has followed the sentinels.
    let mut after = Vec::new();
    while after.len() < 500 {
        match client.xadd("jobs", "*", [("n", "after")]).await {
            Ok(Some(id)) if client.address() != old => after.push(id),
            Ok(_) | Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            other => panic!("writing after the failover: {other:?}"),
        }
    }
    // The entries are looked up outside the watch's lock (see the consumers).
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let all = {
                let h = handled.lock().unwrap();
                before.iter().chain(&after).all(|id| h.contains_key(id))
            };
            if all {
                return;
            }
            count.changed().await.unwrap();
        }
    })
    .await
    .expect("every entry handled after the failover");
    await_value("entries still pending", 0, || async {
        Ok(client.xpending("jobs", "workers").await?.0)
    })
    .await;
    for t in &tasks {
        assert!(!t.is_finished(), "a consumer stopped: {t:?}");
        t.abort();
    }
    let h = handled.lock().unwrap();
    let twice = h.values().filter(|n| **n > 1).count();
    eprintln!(
        "failover: {} entries handled ({twice} more than once), {} written after the failover",
        h.len(),
        after.len()
    );
    assert_eq!(h.len(), 1000);
}
