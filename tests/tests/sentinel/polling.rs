//! Where the client hears of a failover: from whichever sentinel runs it (the only
//! one to announce its start, `+selected-slave`), as it listens to every sentinel
//! it knows; and when every announcement is missed, by asking the sentinels every
//! `poll_interval` (1 s).

use crate::load::{eventually, first_events, has_subscriber, when_moved};
use respec::sentinel::SentinelOptions;
use respec::{Client, Commands};
use respec_tests::{Proxy, SentinelGroup};
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// A missed announcement: the client's subscription to the only sentinel (a forced
/// `SENTINEL FAILOVER` needs no other) is black-holed by a [`Proxy`] in front of
/// it, so `+selected-slave` and `+switch-master` never reach it: it finds the new
/// primary by polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_switch_is_found_by_polling_within_about_a_second() {
    let Some(mut group) = SentinelGroup::builder()
        .sentinels(1)
        .quorum(1)
        .start_or_skip()
    else {
        return;
    };
    let proxy = Proxy::start(group.sentinel(0).addr()).unwrap();
    let through = proxy.url().trim_start_matches("redis://").to_owned();
    let client = Client::connect_sentinel(
        [through],
        group.service_name(),
        Client::builder().build().unwrap(),
        SentinelOptions::default(),
    )
    .await
    .unwrap();
    client.set("p:k", 1).await.unwrap();
    // The questions' connection first, the subscription's last (the only
    // subscriber of the only sentinel), subscribed.
    assert!(
        eventually(Duration::from_secs(5), || async {
            proxy.accepted() >= 2 && has_subscriber(&group, 0)
        })
        .await,
        "no subscription through the proxy ({} connections)",
        proxy.accepted()
    );
    // The subscription black-holed, and so is any it makes again (its health check
    // gives the silent one up): the questions' connection still answers.
    proxy.freeze_newest_and_later();

    // When the sentinel that runs the failover names the new primary when asked
    // (`+failover-state-reconf-slaves`, after the promotion), and when it announces
    // the switch (`+switch-master`, once the replicas follow it).
    let announced = first_events(
        &group,
        0,
        &["+failover-state-reconf-slaves", "+switch-master"],
    )
    .await;
    let moved = when_moved(&client);
    let failover = block_in_place(|| group.failover()).unwrap();
    let announced = tokio::time::timeout(Duration::from_secs(10), announced)
        .await
        .expect("no +switch-master")
        .unwrap();
    let (named, switched) = (
        announced["+failover-state-reconf-slaves"],
        announced["+switch-master"],
    );
    let moved = tokio::time::timeout(Duration::from_secs(10), moved)
        .await
        .expect("the client never left the old primary")
        .unwrap();
    let signed = |a: Instant, b: Instant| {
        a.duration_since(b).as_secs_f64() - b.duration_since(a).as_secs_f64()
    };
    let after_named = signed(moved, named);
    eprintln!(
        "announcements missed: the client moved {:.0} ms after the sentinel first named the new primary ({:.0} ms after +switch-master), promoted after {:?}",
        after_named * 1e3,
        signed(moved, switched) * 1e3,
        failover.promoted_after
    );
    // Not before the sentinel named it (it did not hear `+selected-slave`: with it,
    // the client leaves before the promotion), and within a poll and a bit after.
    assert!(
        (-0.05..1.5).contains(&after_named),
        "the client moved {after_named:.3} s after the sentinel named the new primary"
    );
    assert_eq!(
        client.address(),
        format!("127.0.0.1:{}", group.node_port(failover.new))
    );
    client.incr("p:k").await.unwrap();
}

/// The client given one sentinel learns the others and listens to them all: the
/// start of a failover another sentinel runs (`+selected-slave`) reaches it, and it
/// leaves the old primary before the promotion is even confirmed
/// (`+promoted-slave`), when its own sentinel still names the old primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_of_a_failover_is_heard_from_the_sentinel_running_it() {
    let Some(mut group) = SentinelGroup::builder().start_or_skip() else {
        return;
    };
    // Given sentinel 2; the harness fails over through sentinel 0.
    let url = format!(
        "redis+sentinel://{}/{}?client_name=leader-test",
        group.sentinel_addrs()[2],
        group.service_name()
    );
    let client = Client::connect(&url).await.unwrap();
    client.set("l:k", 1).await.unwrap();
    // Listening to all three: subscribed on sentinel 0 too.
    assert!(
        eventually(Duration::from_secs(5), || async {
            has_subscriber(&group, 0)
        })
        .await,
        "the client did not subscribe on sentinel 0"
    );
    let old = group.primary();
    let promoted = first_events(&group, 0, &["+promoted-slave"]).await;
    // When the client's connection leaves the old primary.
    let direct = Client::connect(&group.node_urls()[old]).await.unwrap();
    let left = tokio::spawn(async move {
        loop {
            let list: String = direct.cmd("CLIENT").arg("LIST").decode().await.unwrap();
            if !list.contains("name=leader-test") {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let failover = block_in_place(|| group.failover()).unwrap();
    let promoted = tokio::time::timeout(Duration::from_secs(10), promoted)
        .await
        .expect("no +promoted-slave")
        .unwrap()["+promoted-slave"];
    let left = tokio::time::timeout(Duration::from_secs(10), left)
        .await
        .expect("the client stayed on the old primary")
        .unwrap();
    let early = promoted.saturating_duration_since(left);
    eprintln!(
        "failover run by another sentinel: the client left the old primary {early:?} before the promotion was confirmed (promoted after {:?})",
        failover.promoted_after
    );
    assert!(left < promoted, "the client left after +promoted-slave");
    assert!(
        eventually(Duration::from_secs(5), || async {
            client.address() == format!("127.0.0.1:{}", group.node_port(failover.new))
        })
        .await
    );
    client.incr("l:k").await.unwrap();
}
