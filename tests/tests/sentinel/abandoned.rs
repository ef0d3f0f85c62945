//! A failover abandoned after the promotion: the sentinel running it promotes the
//! replica and crashes (`SENTINEL SIMULATE-FAILURE CRASH-AFTER-PROMOTION`), so no
//! sentinel confirms the promotion and the others turn the replica back into a
//! replica of the primary, which keeps its place. The replica answers `ROLE` as a
//! primary meanwhile: whatever it acknowledged then is lost.

use crate::load::{collect, eventually, has_subscriber, load, now_secs, verify};
use respec::{Client, Commands};
use respec_tests::raw::Reply;
use respec_tests::SentinelGroup;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::block_in_place;

/// The client, which leaves the primary when the sentinel selects the replica
/// (`+selected-slave`), writes nothing to the replica before the sentinels confirm
/// its promotion, and comes back to the primary: no acknowledged write is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_abandoned_after_the_promotion_loses_nothing() {
    let Some(mut group) = SentinelGroup::builder().start_or_skip() else {
        return;
    };
    let primary = group.primary();
    // Sentinel 0, listed first, answers the client, which subscribes there: it
    // hears the failover that sentinel runs.
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            has_subscriber(&group, 0)
        })
        .await,
        "the client did not subscribe on sentinel 0"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&client, "ab", 8, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let service = group.service_name().to_owned();
    for command in [
        &["SENTINEL", "SIMULATE-FAILURE", "CRASH-AFTER-PROMOTION"][..],
        &["SENTINEL", "FAILOVER", &service],
    ] {
        let reply = block_in_place(|| group.sentinel_query(0, command)).unwrap();
        assert!(matches!(reply, Reply::Status(_)), "{command:?}: {reply:?}");
    }
    let crashed = eventually(Duration::from_secs(10), || async {
        block_in_place(|| group.sentinel_query(0, &["PING"])).is_err()
    })
    .await;
    assert!(crashed, "sentinel 0 did not crash after the promotion");
    let crashed_at = now_secs();
    group.kill_sentinel(0);
    // A replica was promoted (it answers as a primary), then turned back.
    let promoted = (0..group.node_count())
        .filter(|&i| i != primary)
        .find(|&i| {
            group
                .query(i, &["ROLE"])
                .is_ok_and(|r| matches!(r, Reply::Array(Some(items)) if items.first().and_then(Reply::text).as_deref() == Some("master")))
        });
    // The client serves again, on the primary.
    let at_primary = format!("127.0.0.1:{}", group.node_port(primary));
    assert!(
        eventually(Duration::from_secs(30), || async {
            client.incr("ab:after").await.is_ok() && client.address() == at_primary
        })
        .await,
        "the client did not serve again on the primary (at {})",
        client.address()
    );
    let back_after = now_secs() - crashed_at;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let tally = collect(handles).await;
    let settled = block_in_place(|| group.wait_settled()).unwrap();
    assert_eq!(settled, primary, "the sentinels moved the primary");
    let (lost, doubled) = verify(&group, primary, "ab", &tally).await;
    eprintln!(
        "failover abandoned after the promotion (node {promoted:?} promoted, then turned back): serving again {back_after:.1} s after the crash; {} writes acknowledged, {} lost, {doubled} doubled counters, {} errors ({} unsent) {:?}",
        tally.acked.len(),
        lost.len(),
        tally.errors,
        tally.unsent,
        tally.examples,
    );
    assert!(lost.is_empty(), "{} acknowledged writes lost", lost.len());
    assert_eq!(doubled, 0);
    assert_eq!(tally.wrong, 0);
}
