//! A lock on a sentinel-managed primary: the replicated lock confirmed by a majority
//! of the primary's replicas, kept through a `SENTINEL FAILOVER` with its fencing
//! counter.

use respec::lock::Quorum;
use respec::Client;
use respec_tests::SentinelGroup;
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicated_lock_and_its_fencing_counter_survive_a_failover() {
    let Some(mut group) = SentinelGroup::builder().start_or_skip() else {
        return;
    };
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    // Two replicas connected: a majority is both.
    let lock = client
        .lock("jobs")
        .lease(Duration::from_secs(30))
        .retry_interval(Duration::from_millis(5))
        .replicated(Quorum::Majority, Duration::from_secs(2));
    let first = lock.acquire().await.unwrap();
    assert_eq!(first.fence(), 1);

    let old = client.address();
    block_in_place(|| group.failover()).unwrap();
    // The client follows the sentinels to the promoted replica, which has the lock
    // (it acknowledged it): no one else can take it there.
    let started = Instant::now();
    let taken = loop {
        match lock.try_acquire().await {
            Ok(taken) if client.address() != old => break taken,
            Ok(Some(guard)) => panic!("taken on the old primary: fence {}", guard.fence()),
            Ok(None) | Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            other => panic!("after the failover: {other:?}"),
        }
    };
    assert!(taken.is_none(), "the lock was lost in the failover");
    assert!(first.owned().await.unwrap());
    first.release().await.unwrap();
    // The counter came along: the next token is larger.
    let second = lock.acquire().await.unwrap();
    assert_eq!(second.fence(), 2);
    second.release().await.unwrap();
}
