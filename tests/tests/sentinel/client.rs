//! The client of a service behind sentinels, against real sentinel groups: discovery,
//! following `SENTINEL FAILOVER` and a `kill -9` of the primary under load, replica
//! clients, subscribers, and sentinels going down.

use bytes::Bytes;
use respec::pubsub::Kind;
use respec::{Client, Commands};
use respec_tests::SentinelGroup;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

use crate::load::{
    collect, epoch_secs, eventually, first_events, load, now_secs, probe, replication_lag, verify,
};

fn group() -> Option<SentinelGroup> {
    SentinelGroup::builder().start_or_skip()
}

/// `127.0.0.1:<port>` of the data node at `index`.
fn addr(group: &SentinelGroup, index: usize) -> String {
    format!("127.0.0.1:{}", group.node(index).port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_to_the_primary_the_sentinels_name() {
    let Some(group) = group() else { return };
    let url = group.sentinel_service_url();
    let client = Client::connect(&url).await.unwrap();
    assert_eq!(client.address(), addr(&group, group.primary()));
    client.set("s:k", "v").await.unwrap();
    let v: Option<String> = client.get("s:k").decode().await.unwrap();
    assert_eq!(v.as_deref(), Some("v"));

    // The same through the builder form, with a dead sentinel listed first.
    let mut sentinels = vec!["127.0.0.1:1".to_owned()];
    sentinels.extend(group.sentinel_addrs().iter().map(|a| a.to_string()));
    let client = Client::connect_sentinel(
        &sentinels,
        group.service_name(),
        respec::ClientBuilder::default().build().unwrap(),
        respec::sentinel::SentinelOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(client.address(), addr(&group, group.primary()));

    // An unknown service: a clear error naming it.
    let err = Client::connect(&url.replace(group.service_name(), "nosuch"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nosuch"), "{err}");
}

/// The `SET`s of keys starting with `prefix` the node at `index` runs, with the
/// server's time, until the monitor's connection ends or the task is aborted.
async fn sets_on(
    group: &SentinelGroup,
    index: usize,
    prefix: &str,
) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Vec<f64>>>) {
    let node = Client::connect(&group.node_urls()[index]).await.unwrap();
    let mut monitor = node.monitor().await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let prefix = prefix.as_bytes().to_vec();
    let task = tokio::spawn(async move {
        let _keep = node;
        while let Some(Ok(entry)) = monitor.next_entry().await {
            let is_set = entry
                .args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(b"SET"));
            if is_set && entry.args.get(1).is_some_and(|k| k.starts_with(&prefix)) {
                out.lock().unwrap().push(entry.time);
            }
        }
    });
    (task, seen)
}

/// `SENTINEL FAILOVER` under 32 tasks of writes and reads: nothing is written to the
/// old primary more than 100 ms after the announcement, nothing is written twice,
/// no wrong reply, no request fails as unsent (they wait for the new primary), and
/// the acknowledged writes lost are only those acknowledged by the old primary
/// before the announcement reached the client: usually none, as the client leaves
/// it when the replica is selected, but the sentinels promote a replica without
/// waiting for it to catch up, and on this loaded machine a replica can be a second
/// behind (what the old primary acknowledged then is lost whatever the client does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_under_load_writes_nothing_to_the_old_primary() {
    let Some(mut group) = group() else { return };
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    let old = group.primary();
    let announced = first_events(&group, 0, &["+switch-master"]).await;
    let (monitor, old_sets) = sets_on(&group, old, "fo:").await;
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&client, "fo", 32, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lag = block_in_place(|| replication_lag(&group, old));
    let started = now_secs();
    let failover = block_in_place(|| group.failover()).unwrap();
    // Load on the new primary for a while.
    let new = failover.new;
    assert!(
        eventually(Duration::from_secs(5), || async {
            client.address() == addr(&group, new)
        })
        .await,
        "the client did not move to the new primary"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let tally = collect(handles).await;
    monitor.abort();
    let announced = tokio::time::timeout(Duration::from_secs(5), announced)
        .await
        .expect("no +switch-master")
        .unwrap()
        .get("+switch-master")
        .copied()
        .map(epoch_secs)
        .expect("no +switch-master");
    let late: Vec<f64> = old_sets
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|t| *t > announced + 0.1)
        .collect();

    // Every acknowledged write, checked on the new primary once the group settled.
    let (lost, doubled) = verify(&group, new, "fo", &tally).await;
    let before_failover = lost.iter().filter(|at| **at < started).count();
    let lost: Vec<f64> = lost.iter().map(|at| at - announced).collect();
    let window = match lost.is_empty() {
        true => "none".to_owned(),
        false => format!(
            "acknowledged from {:.1} ms to {:.1} ms after the announcement",
            lost.iter().copied().fold(f64::MAX, f64::min) * 1e3,
            lost.iter().copied().fold(f64::MIN, f64::max) * 1e3
        ),
    };
    eprintln!(
        "SENTINEL FAILOVER under load: promoted after {:?}; {} writes acknowledged, {} lost ({window}; {before_failover} of them before SENTINEL FAILOVER was sent, the replicas {lag:?} bytes behind then), {} errors ({} unsent) {:?}, {} wrong, {} doubled counters, {} SETs on the old primary, {} of them more than 100 ms after the announcement",
        failover.promoted_after,
        tally.acked.len(),
        lost.len(),
        tally.errors,
        tally.unsent,
        tally.examples,
        tally.wrong,
        doubled,
        old_sets.lock().unwrap().len(),
        late.len(),
    );
    assert!(
        late.is_empty(),
        "{} SETs on the old primary after the announcement",
        late.len()
    );
    assert_eq!(tally.wrong, 0);
    assert_eq!(doubled, 0);
    assert!(
        lost.iter().all(|at| *at <= 0.1),
        "writes acknowledged after the announcement were lost (seconds from it): {lost:?}"
    );
    // Held while the replica was being promoted, then sent to it.
    assert_eq!(
        tally.unsent, 0,
        "requests failed as unsent: {:?}",
        tally.examples
    );
}

/// `kill -9` of the primary under load: requests not yet written wait for the new
/// primary (none fails as unsent, none the new primary acknowledged is lost, none
/// runs twice), and the client serves
/// again within 1 s of the promotion; the old primary, restarted (a replica now),
/// never gets a connection from it. Requests with a request timeout shorter than
/// the outage time out as never sent, and a hold shorter than the outage fails
/// requests as never sent once it has passed: the server never runs either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced_within_a_second_of_the_promotion() {
    let Some(mut group) = group() else { return };
    let url = format!("{}?client_name=sentinel-load", group.sentinel_service_url());
    let client = Client::connect(&url).await.unwrap();
    let timed = Client::connect(&format!("{url}&timeout=200ms"))
        .await
        .unwrap();
    let bounded = Client::connect(&format!("{url}&hold_unsent=300ms"))
        .await
        .unwrap();
    let old = group.primary();
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&client, "kill", 8, &stop);
    let probes = [
        probe(&timed, "held:t", &stop),
        probe(&bounded, "held:b", &stop),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed_at = now_secs();
    let failover = block_in_place(|| group.kill_primary()).unwrap();
    let promoted_at = killed_at + failover.promoted_after.as_secs_f64();
    block_in_place(|| group.restart_node(old)).unwrap();
    // The restarted old primary: no connection of the client's, while it writes.
    let mut ours = 0;
    for _ in 0..20 {
        let list = group.query(old, &["CLIENT", "LIST"]).unwrap();
        ours += list
            .text()
            .unwrap_or_default()
            .matches("name=sentinel-load")
            .count();
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let tally = collect(handles).await;
    let [timed_probe, bounded_probe] = probes;
    let (timed_probe, bounded_probe) = (timed_probe.await.unwrap(), bounded_probe.await.unwrap());
    // (Acknowledgements in the first 100 ms are of requests answered before the
    // kill; from then on only the new primary can answer.)
    let first_after = tally
        .acked
        .iter()
        .map(|(_, _, at)| *at)
        .filter(|at| *at > killed_at + 0.1)
        .fold(f64::MAX, f64::min);
    let new = group.primary();
    let (lost, doubled) = verify(&group, new, "kill", &tally).await;
    // Acknowledged by the new primary (the old one was dead): never lost. Before
    // the kill, what the replica had not received yet is lost with the primary.
    let lost_after: Vec<f64> = lost
        .iter()
        .map(|at| at - killed_at)
        .filter(|at| *at > 0.1)
        .collect();
    // What failed as never sent never ran.
    let direct = Client::connect(&group.node_urls()[new]).await.unwrap();
    let mut ran = 0;
    for key in timed_probe.timed_out.iter().chain(&bounded_probe.failed) {
        ran += direct.exists([key]).await.unwrap();
    }
    eprintln!(
        "kill -9 of the primary: promoted {:.0} ms after the kill, first write acknowledged {:.0} ms after the promotion; {} writes acknowledged, {} lost ({} acknowledged after the kill), {} doubled counters, {} errors ({} unsent) {:?}; with a 200 ms request timeout: {} timed out unsent, {} other errors; held for 300 ms: {} failed unsent, {} other errors; {ran} of those never sent found on the new primary",
        failover.promoted_after.as_secs_f64() * 1e3,
        (first_after - promoted_at) * 1e3,
        tally.acked.len(),
        lost.len(),
        lost_after.len(),
        doubled,
        tally.errors,
        tally.unsent,
        tally.examples,
        timed_probe.timed_out.len(),
        timed_probe.other.len(),
        bounded_probe.failed.len(),
        bounded_probe.other.len(),
    );
    assert!(first_after - promoted_at < 1.0);
    assert_eq!(ours, 0, "the client connected to the restarted old primary");
    assert_eq!(client.address(), addr(&group, failover.new));
    assert_eq!(tally.wrong, 0);
    assert!(
        lost_after.is_empty(),
        "writes acknowledged after the kill were lost (seconds after it): {lost_after:?}"
    );
    assert_eq!(doubled, 0);
    assert_eq!(
        tally.unsent, 0,
        "requests failed as unsent: {:?}",
        tally.examples
    );
    // The outage (over a second: `down-after-milliseconds`) outlasts both bounds.
    assert!(!timed_probe.timed_out.is_empty(), "{timed_probe:?}");
    assert!(timed_probe.failed.is_empty(), "{timed_probe:?}");
    assert!(!bounded_probe.failed.is_empty(), "{bounded_probe:?}");
    assert_eq!(ran, 0, "requests reported as never sent ran");
}

/// A subscriber follows the failover: resubscribed on the new primary, it receives
/// every message published after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_keeps_receiving_after_a_failover() {
    let Some(mut group) = group() else { return };
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    let mut sub = client
        .subscriber()
        .ignore_subscribe_messages()
        .connect()
        .await
        .unwrap();
    sub.subscribe(["news"]).await.unwrap();
    client.publish("news", "before").await.unwrap();
    let m = sub.get_message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(m.payload, Bytes::from("before"));
    block_in_place(|| group.failover()).unwrap();
    // The subscriber says when it is subscribed again, on the new primary.
    let resubscribed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(m) = sub.next_message().await {
            if m.kind == Kind::Reconnected {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(resubscribed, "the subscriber did not resubscribe");
    for i in 0..100 {
        assert_eq!(client.publish("news", i).await.unwrap(), 1, "message {i}");
    }
    for i in 0..100 {
        let m = sub.get_message(Duration::from_secs(5)).await.unwrap();
        assert_eq!(m.payload, Bytes::from(i.to_string()));
    }
}

/// A replica client reads from the replicas, keeps reading through a failover, and
/// falls back to the primary when both replicas are down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_client_reads_from_replicas_and_falls_back_to_the_primary() {
    let Some(mut group) = group() else { return };
    let primary = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    let url = format!("{}?role=replica", group.sentinel_service_url());
    let replica = Client::connect(&url).await.unwrap();
    let replicas: Vec<String> = group.replicas().iter().map(|&i| addr(&group, i)).collect();
    assert!(
        replicas.contains(&replica.address()),
        "{}",
        replica.address()
    );
    primary.set("r:k", "v").await.unwrap();
    primary.wait(2, 2_000).await.unwrap();
    let v: Option<String> = replica.get("r:k").decode().await.unwrap();
    assert_eq!(v.as_deref(), Some("v"));
    let err = replica.set("r:k", "w").await.unwrap_err();
    assert!(err.to_string().contains("READONLY"), "{err}");

    // Reads through a failover.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (replica, stop) = (replica.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                match replica.get("r:k").decode::<Option<String>>().await {
                    Ok(Some(v)) if v == "v" => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        })
    };
    block_in_place(|| group.failover()).unwrap();
    let ok_before = Instant::now();
    assert!(
        eventually(Duration::from_secs(5), || async {
            matches!(
                replica.get("r:k").decode::<Option<String>>().await,
                Ok(Some(_))
            )
        })
        .await
    );
    stop.store(true, Ordering::Relaxed);
    let (ok, failed) = reader.await.unwrap();
    eprintln!(
        "replica reads through a failover: {ok} served, {failed} failed; reading again after {:?}",
        ok_before.elapsed()
    );
    assert!(ok > 0);

    // Both replicas down: the primary serves the reads.
    for i in group.replicas() {
        group.kill_node(i);
    }
    let new_primary = addr(&group, group.primary());
    assert!(
        eventually(Duration::from_secs(10), || async {
            matches!(
                replica.get("r:k").decode::<Option<String>>().await,
                Ok(Some(_))
            ) && replica.address() == new_primary
        })
        .await,
        "no fallback to the primary: at {}",
        replica.address()
    );
}

/// Sentinels down: the client keeps working with its primary; when it must find the
/// primary again (its connection killed) it fails with an error naming the
/// sentinels, and recovers when one comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinels_down_then_back() {
    let Some(mut group) = group() else { return };
    let url = format!("{}?client_name=sentinel-down", group.sentinel_service_url());
    let client = Client::connect(&url).await.unwrap();
    group.kill_sentinel(0);
    client.set("d:k", 1).await.unwrap();
    for j in 1..group.sentinel_count() {
        group.kill_sentinel(j);
    }
    client.set("d:k", 2).await.unwrap();
    // Its connection killed, the client must ask the sentinels: none answers.
    let primary = group.primary();
    group
        .query(
            primary,
            &["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"],
        )
        .unwrap();
    // (The first error may be the killed connection's own: "may have run".)
    let mut err = None;
    for _ in 0..100 {
        match client.get("d:k").await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) if format!("{e:?}").contains("no sentinel") => {
                err = Some(e);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let err = err.expect("no error naming the sentinels");
    eprintln!("all sentinels down, reconnecting: {err}");
    block_in_place(|| group.restart_sentinel(1)).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            client.get("d:k").await.is_ok()
        })
        .await,
        "no recovery once a sentinel is back"
    );
}

/// Handles on dedicated connections of the old primary after a failover: a `WATCH`
/// handle fails cleanly (its watched state is gone with the node, so its
/// transaction never runs there), a blocked `BLPOP` fails as "may have run", and
/// new ones run on the new primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedicated_connections_of_the_old_primary_fail_cleanly() {
    let Some(mut group) = group() else { return };
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    client.set("w:k", 1).await.unwrap();
    // On both replicas before the failover (Redis 7.0 promotes a replica without
    // waiting for it to catch up), so the value read after it tells whether the old
    // WATCH's transaction ran.
    assert_eq!(client.wait(2, 5_000).await.unwrap(), 2);
    let watched = client.watch(["w:k"]).await.unwrap();
    let blocked = {
        let client = client.clone();
        tokio::spawn(async move { client.blpop(["w:list"], 0.0).await })
    };
    // The BLPOP waits on the old primary.
    let old = group.primary();
    assert!(
        eventually(Duration::from_secs(5), || async {
            group
                .query(old, &["CLIENT", "LIST"])
                .ok()
                .and_then(|r| r.text())
                .is_some_and(|t| t.contains("cmd=blpop"))
        })
        .await
    );
    let failover = block_in_place(|| group.failover()).unwrap();
    // The blocked command's connection is given up: it may have run.
    let blpop_err = tokio::time::timeout(Duration::from_secs(5), blocked)
        .await
        .expect("BLPOP still blocked on the old primary")
        .unwrap()
        .unwrap_err();
    assert!(!blpop_err.is_unsent(), "{blpop_err}");
    // The WATCH handle's transaction never runs: its connection is gone.
    let outcome: respec::Result<(i64,)> = watched
        .multi()
        .add(respec::cmd::incr("w:k"))
        .execute()
        .await;
    let err = outcome.unwrap_err();
    eprintln!(
        "after a failover: the WATCH handle's transaction: {err}; the blocked BLPOP: {blpop_err}"
    );
    let v: Option<i64> = client.get("w:k").decode().await.unwrap();
    assert_eq!(v, Some(1), "the transaction of the old WATCH ran");
    // New dedicated connections go to the new primary.
    client.rpush("w:list", ["x"]).await.unwrap();
    let popped = client.blpop(["w:list"], 1.0).await.unwrap();
    assert!(popped.is_some());
    assert_eq!(client.address(), addr(&group, failover.new));
    let watched = client.watch(["w:k"]).await.unwrap();
    let (n,): (i64,) = watched
        .multi()
        .add(respec::cmd::incr("w:k"))
        .execute()
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// Given one sentinel, the client learns the others (`SENTINEL SENTINELS`): with
/// that one down, it still finds the primary through them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_sentinels_are_learned_from_the_first() {
    let Some(mut group) = group() else { return };
    let first = group.sentinel_addrs()[0];
    let url = format!(
        "redis+sentinel://{first}/{}?client_name=sentinel-learn",
        group.service_name()
    );
    let client = Client::connect(&url).await.unwrap();
    client.set("l:k", 1).await.unwrap();
    group.kill_sentinel(0);
    // Its connection killed, the client must ask again: not the one it was given.
    group
        .query(
            group.primary(),
            &["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"],
        )
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            client.incr("l:k").await.is_ok()
        })
        .await,
        "no primary found without the first sentinel"
    );
    assert_eq!(client.address(), addr(&group, group.primary()));
}

/// The sentinels' credentials are their own: the data nodes' password in the URL's
/// user info, the sentinels' in `sentinel_password`; without the latter, the error
/// says the sentinels refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinels_and_data_nodes_have_their_own_credentials() {
    let Some(group) = SentinelGroup::builder()
        .password("data-secret")
        .sentinel_password("sentinel-secret")
        .start_or_skip()
    else {
        return;
    };
    let hosts: Vec<String> = group
        .sentinel_addrs()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let base = format!(
        "redis+sentinel://:data-secret@{}/{}",
        hosts.join(","),
        group.service_name()
    );
    let client = Client::connect(&format!("{base}?sentinel_password=sentinel-secret"))
        .await
        .unwrap();
    client.set("c:k", 1).await.unwrap();
    assert_eq!(client.address(), addr(&group, group.primary()));
    let err = Client::connect(&base).await.unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("no sentinel"), "{text}");
    assert!(text.contains("NOAUTH") || text.contains("AUTH"), "{text}");
}

/// `Client::compatibility` behind sentinels reports the primary: a data node, which
/// has `GET` and lacks the sentinel-only commands (a sentinel would be the reverse).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compatibility_report_is_the_primarys() {
    let Some(group) = group() else { return };
    let client = Client::connect(&group.sentinel_service_url())
        .await
        .unwrap();
    let report = client.compatibility().await.unwrap();
    let missing: Vec<&str> = report.missing_commands.iter().map(|m| m.name).collect();
    assert!(!missing.contains(&"GET"), "{report}");
    assert!(missing.contains(&"SENTINEL MASTERS"), "{report}");
    let primary = Client::connect(&group.node_urls()[group.primary()])
        .await
        .unwrap();
    assert_eq!(report, primary.compatibility().await.unwrap());
}
