//! Distributed locks (`respec::lock`) against real servers: fencing tokens, mutual
//! exclusion, lease expiry, the watchdog and lost leases, guards dropped with and
//! without a runtime, the replicated lock on a cluster whose replicas are down, and
//! options refused before anything is sent.

use bytes::Bytes;
use respec::lock::{Lock, LockError, Quorum};
use respec::{Client, Commands};
use respec_tests::pubsub::await_value;
use respec_tests::{calls, protocols, Cluster, Server};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A lock with short pauses between attempts (tests contend a lot).
fn fast(c: &Client, name: &str) -> Lock {
    c.lock(name)
        .retry_interval(Duration::from_millis(2))
        .timeout(Some(Duration::from_secs(60)))
}

/// Awaits `fut` for at most `limit`, panicking with `what` after it.
async fn within<T>(limit: Duration, what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {limit:?}"))
}

/// `n` clients of `server` (tasks spread over them, as over processes).
async fn clients(server: &Server, n: usize) -> Vec<Client> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Client::connect(&server.url()).await.unwrap());
    }
    out
}

/// `tasks` tasks (over the clients in turn), each incrementing `key` `each` times by
/// GET, then SET, under the lock `name` (a lost update if two ever interleave); the
/// final value.
async fn increment_under_lock(
    cs: &[Client],
    name: &str,
    key: &str,
    tasks: usize,
    each: usize,
) -> Option<i64> {
    let tasks: Vec<_> = (0..tasks)
        .map(|t| {
            let c = cs[t % cs.len()].clone();
            let lock = fast(&c, name).lease(Duration::from_secs(10));
            let key = key.to_owned();
            tokio::spawn(async move {
                for _ in 0..each {
                    let guard = lock.acquire().await.unwrap();
                    let n: Option<i64> = c.get(&key).decode().await.unwrap();
                    tokio::task::yield_now().await;
                    c.set(&key, n.unwrap_or(0) + 1).await.unwrap();
                    guard.release().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    cs[0].get(key).decode().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fencing_tokens_strictly_increase_across_1000_acquisitions_by_20_tasks() {
    let server = Server::start();
    let cs = clients(&server, 4).await;
    // Fencing tokens in the order the lock was held: pushed while holding it.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let tasks: Vec<_> = (0..20)
        .map(|t| {
            let lock = fast(&cs[t % cs.len()], "fence").lease(Duration::from_secs(10));
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for _ in 0..50 {
                    let guard = lock.acquire().await.unwrap();
                    seen.lock().unwrap().push((guard.fence(), t));
                    mine.push(guard.fence());
                    guard.release().await.unwrap();
                }
                mine
            })
        })
        .collect();
    for task in tasks {
        let mine = task.await.unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "one task's: {mine:?}");
    }
    let order = seen.lock().unwrap().clone();
    // How often the lock went from one task to another.
    let handoffs = order.windows(2).filter(|w| w[0].1 != w[1].1).count();
    let seen: Vec<u64> = order.into_iter().map(|(fence, _)| fence).collect();
    assert_eq!(seen.len(), 1000);
    let not_increasing: Vec<_> = seen.windows(2).filter(|w| w[0] >= w[1]).collect();
    assert!(not_increasing.is_empty(), "{not_increasing:?}");
    // One counter, incremented once per acquisition.
    assert_eq!((seen[0], seen[999]), (1, 1000));
    let counter: Option<i64> = cs[0].get("{fence}:fence").decode().await.unwrap();
    assert_eq!(counter, Some(1000));
    eprintln!(
        "fencing: 1000 acquisitions by 20 tasks ({handoffs} from one task to another), tokens 1..=1000 strictly increasing, in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_tasks_increment_a_non_atomic_counter_exactly_under_the_lock() {
    let server = Server::start();
    let cs = clients(&server, 4).await;
    let started = Instant::now();
    let n = increment_under_lock(&cs, "counter", "counter", 100, 10).await;
    assert_eq!(n, Some(1000));
    eprintln!(
        "counter: 100 tasks x 10 GET/SET under the lock = {n:?} in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_behaves_the_same_under_resp2_and_resp3() {
    let server = Server::start();
    let seen = protocols::both(&server, |c| async move {
        let lock = fast(&c, "proto").lease(Duration::from_secs(10));
        let guard = lock.acquire().await.unwrap();
        let busy = lock.try_acquire().await.unwrap().is_none();
        let (locked, owned) = (lock.locked().await.unwrap(), guard.owned().await.unwrap());
        guard.extend(Duration::from_secs(5)).await.unwrap();
        let extended = c.pttl(lock.key()).await.unwrap() > 10_000;
        guard.release().await.unwrap();
        let freed = !lock.locked().await.unwrap();
        let again = lock.try_acquire().await.unwrap().expect("free");
        let fence = again.fence();
        c.del([lock.key()]).await.unwrap();
        let refused = again.release().await.unwrap_err().is_not_held();
        (busy, locked, owned, extended, freed, fence, refused)
    })
    .await;
    assert_eq!(seen, (true, true, true, true, true, 2, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_stops_extending_loses_the_lock_at_the_end_of_its_lease() {
    let server = Server::start();
    let [a, b] = <[Client; 2]>::try_from(clients(&server, 2).await).unwrap();
    let lease = Duration::from_millis(300);
    let before = Instant::now();
    let first = fast(&a, "lapse").lease(lease).try_acquire().await.unwrap();
    let first = first.expect("a free lock is taken");
    assert!(first.owned().await.unwrap());
    assert!(!first.is_lost());
    // Another holder cannot take it now, and a waiter gives up at its timeout.
    let other = fast(&b, "lapse").lease(lease);
    assert!(other.try_acquire().await.unwrap().is_none());
    let short = other.clone().timeout(Some(Duration::from_millis(50)));
    let err = short.acquire().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");

    // The holder extends nothing: the waiter gets the lock once the lease is over.
    let lost = first.lost();
    let second = within(
        Duration::from_secs(10),
        "the second acquisition",
        other.acquire(),
    )
    .await
    .unwrap();
    let waited = before.elapsed();
    assert!(
        waited >= lease,
        "taken after {waited:?}, before the lease ended"
    );
    assert!(
        waited < lease + Duration::from_secs(3),
        "taken after {waited:?}"
    );
    assert!(second.fence() > first.fence());

    // The first holder was told, and is refused everything.
    let reported = within(Duration::from_secs(1), "the loss report", lost).await;
    assert!(reported.is_lost(), "{reported}");
    assert!(first.is_lost());
    let err = first.extend(Duration::from_secs(1)).await.unwrap_err();
    assert!(err.is_not_held(), "{err}");
    let err = first.reacquire().await.unwrap_err();
    assert!(err.is_not_held(), "{err}");
    assert!(!first.owned().await.unwrap());
    let err = first.release().await.unwrap_err();
    assert!(err.is_not_held(), "{err}");
    assert_eq!(err.lock_name(), "lapse");
    assert!(err.to_string().contains("release refused"), "{err}");
    // ...and the new holder still has it.
    assert!(second.owned().await.unwrap());
    second.release().await.unwrap();
    assert!(!other.locked().await.unwrap());
    eprintln!("lapse: the lease of {lease:?} was taken over after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extend_and_release_check_the_token_on_the_server() {
    let server = Server::start();
    let [a, b] = <[Client; 2]>::try_from(clients(&server, 2).await).unwrap();
    let lock = fast(&a, "checked").lease(Duration::from_secs(10));
    let guard = lock.acquire().await.unwrap();
    // Extensions move the expiry: by an amount, and back to a full lease.
    guard.extend(Duration::from_secs(20)).await.unwrap();
    let pttl = a.pttl(lock.key()).await.unwrap();
    assert!(pttl > 25_000, "PTTL {pttl} after extending by 20 s");
    guard.reacquire().await.unwrap();
    let pttl = a.pttl(lock.key()).await.unwrap();
    assert!(
        (5_000..=10_000).contains(&pttl),
        "PTTL {pttl} after reacquire"
    );

    // Taken from under the holder (deleted, then acquired by another): the server's
    // token check refuses the extension, not the holder's clock.
    b.del([lock.key()]).await.unwrap();
    let thief = fast(&b, "checked").try_acquire().await.unwrap().unwrap();
    assert!(!guard.is_lost(), "nothing told the holder yet");
    let err = guard.extend(Duration::from_secs(1)).await.unwrap_err();
    assert!(err.is_not_held(), "{err}");
    assert!(guard.is_lost());
    let err = guard.release().await.unwrap_err();
    assert!(err.is_not_held(), "{err}");
    let token: Option<Bytes> = b.get(lock.key()).await.unwrap();
    assert_eq!(token.as_deref(), Some(thief.token().as_bytes()));
    thief.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_keeps_the_lock_for_three_leases_and_reports_a_lost_lease() {
    let server = Server::start();
    let [a, b] = <[Client; 2]>::try_from(clients(&server, 2).await).unwrap();
    // (Long enough for the watchdog's extensions to be late by 600 ms on a loaded
    // machine without losing it: 450 ms failed when two suites shared the 2 cores.)
    let lease = Duration::from_millis(900);
    let guard = fast(&a, "dog")
        .lease(lease)
        .watchdog(true)
        .acquire()
        .await
        .unwrap();
    let lost = guard.lost();
    tokio::pin!(lost);

    // Three leases and more: another client never gets it, and the key never lapses.
    let other = fast(&b, "dog").lease(lease);
    let held_for = lease * 3 + lease / 2;
    let started = Instant::now();
    let mut attempts = 0;
    while started.elapsed() < held_for {
        assert!(other.try_acquire().await.unwrap().is_none());
        let pttl = b.pttl("{dog}").await.unwrap();
        assert!(pttl > 0, "PTTL {pttl} after {:?}", started.elapsed());
        attempts += 1;
        tokio::select! {
            e = &mut lost => panic!("lost while the watchdog ran: {e}"),
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    }
    assert!(guard.owned().await.unwrap());
    assert!(!guard.is_lost());
    assert!(attempts > 10, "{attempts} attempts");

    // The key deleted by another client: the watchdog's next extension is refused,
    // and the holder hears of it within a third of the lease (and a round trip).
    b.del(["{dog}"]).await.unwrap();
    let deleted = Instant::now();
    let err = within(lease, "the loss report", &mut lost).await;
    let detected = deleted.elapsed();
    assert!(err.is_lost(), "{err}");
    assert!(err.to_string().contains("no longer ours"), "{err}");
    let bound = lease / 3 + Duration::from_millis(200);
    assert!(detected <= bound, "reported after {detected:?}");
    assert!(guard.is_lost());
    let err = guard.release().await.unwrap_err();
    assert!(err.is_not_held(), "{err}");
    eprintln!(
        "watchdog: held {:?} ({attempts} attempts refused) with a lease of {lease:?}; deletion reported after {detected:?} (a third of the lease: {:?})",
        held_for,
        lease / 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_the_watchdog_cannot_extend_is_reported_lost_at_its_end() {
    let mut server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let lease = Duration::from_millis(300);
    let guard = fast(&c, "frozen")
        .lease(lease)
        .watchdog(true)
        .acquire()
        .await
        .unwrap();
    // The server stops answering: no extension can be confirmed.
    server.pause();
    let frozen = Instant::now();
    let valid_until = guard.valid_until();
    let err = within(lease * 3, "the loss report", guard.lost()).await;
    let detected = frozen.elapsed();
    server.resume();
    assert!(err.is_lost(), "{err}");
    assert!(err.to_string().contains("no extension confirmed"), "{err}");
    // Reported once the lease (last confirmed before the freeze) ended, not before.
    assert!(Instant::now() >= valid_until);
    assert!(
        detected <= lease + Duration::from_millis(150),
        "{detected:?}"
    );
    assert!(guard.is_lost());
    eprintln!(
        "frozen server: the lost lease ({lease:?}) was reported {detected:?} after the freeze"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_guard_is_released_in_a_runtime_and_expires_outside_one() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    // Dropped inside the runtime: released at once, long before its 60 s lease.
    let lock = fast(&c, "dropped").lease(Duration::from_secs(60));
    let guard = lock.acquire().await.unwrap();
    drop(guard);
    await_value("the dropped guard's key", 0, || c.exists(["{dropped}"])).await;

    // Dropped on a thread with no runtime: nothing is sent, the key stays with its
    // token until the lease expires.
    let lease = Duration::from_millis(500);
    let lock = fast(&c, "dropped").lease(lease);
    let acquired = Instant::now();
    let guard = lock.acquire().await.unwrap();
    let token = guard.token().to_owned();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    let kept: Option<Bytes> = c.get("{dropped}").await.unwrap();
    assert_eq!(kept.as_deref(), Some(token.as_bytes()));
    await_value("the expiry of the dropped guard's key", 0, || {
        c.exists(["{dropped}"])
    })
    .await;
    let gone = acquired.elapsed();
    assert!(gone >= lease, "gone after {gone:?}, before its lease ended");

    // A released lease is never reported lost, even past the end it had.
    let lease = Duration::from_millis(100);
    let guard = fast(&c, "dropped").lease(lease).acquire().await.unwrap();
    let lost = guard.lost();
    guard.release().await.unwrap();
    let reported = tokio::time::timeout(lease * 3, lost).await;
    assert!(reported.is_err(), "{reported:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_refused_before_anything_is_sent() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let ms = Duration::from_millis;
    let cases: Vec<(Lock, &str)> = vec![
        (c.lock("x").lease(Duration::ZERO), "`lease` is zero"),
        (
            c.lock("x").lease(Duration::from_micros(1500)),
            "`lease` has a fraction of a millisecond",
        ),
        (
            c.lock("x").retry_interval(Duration::ZERO),
            "`retry_interval` is zero",
        ),
        (c.lock("x").jitter(1.5), "`jitter` must be between 0 and 1"),
        (
            c.lock("x").jitter(f64::NAN),
            "`jitter` must be between 0 and 1",
        ),
        (c.lock(""), "`name` is empty"),
        (
            c.lock("x").lease(ms(2)).watchdog(true),
            "`lease` is shorter than 3 ms",
        ),
        (
            c.lock("x").replicated(Quorum::Majority, Duration::ZERO),
            "`wait` is zero",
        ),
    ];
    for (lock, message) in cases {
        for err in [
            lock.acquire().await.err(),
            lock.try_acquire().await.err(),
            lock.locked().await.err(),
        ] {
            let err: LockError = err.expect("refused");
            assert!(err.is_invalid_argument(), "{err}");
            let text = err.to_string();
            assert!(text.contains(message), "{text} (want {message})");
            assert!(text.contains("nothing was sent"), "{text}");
        }
    }
    // The server ran nothing of it (a fresh server: no script ever loaded).
    for command in ["evalsha", "eval", "script|load", "get", "set"] {
        assert_eq!(calls(&c, command).await, 0, "{command}");
    }
    let guard = c.lock("x").acquire().await.unwrap();
    let scripts = calls(&c, "evalsha").await;
    let err = guard.extend(Duration::ZERO).await.unwrap_err();
    assert!(
        err.is_invalid_argument() && err.to_string().contains("`extend` is zero"),
        "{err}"
    );
    assert_eq!(calls(&c, "evalsha").await, scripts);
    guard.release().await.unwrap();
}

/// A client of `cluster` that has read its slot map.
async fn cluster_client(cluster: &Cluster) -> Client {
    Client::connect_cluster(cluster.seed_urls()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_the_lock_and_its_counter_share_a_slot() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let c = cluster_client(&cluster).await;
    // No hash tag in the name: the key gets one; with one, the name is the key.
    for (name, key) in [("jobs", "{jobs}"), ("jobs:{nightly}", "jobs:{nightly}")] {
        let lock = fast(&c, name).lease(Duration::from_secs(5));
        assert_eq!(lock.key(), key.as_bytes());
        let mut fences = Vec::new();
        for _ in 0..3 {
            let guard = lock.acquire().await.unwrap();
            assert!(lock.locked().await.unwrap());
            fences.push(guard.fence());
            guard.release().await.unwrap();
        }
        assert_eq!(fences, [1, 2, 3], "{name}");
        assert!(!lock.locked().await.unwrap());
    }
    // Mutual exclusion through the cluster client: 10 tasks, 10 GET/SET each.
    let n = increment_under_lock(&[c], "jobs", "{jobs}:n", 10, 10).await;
    assert_eq!(n, Some(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replicated_lock_fails_while_the_primarys_replicas_are_down() {
    let Some(mut cluster) = Cluster::builder().primaries(1).replicas(2).start_or_skip() else {
        return;
    };
    let c = cluster_client(&cluster).await;
    let wait = Duration::from_millis(300);
    let lock = fast(&c, "replicated")
        .lease(Duration::from_secs(10))
        .replicated(Quorum::Majority, wait);
    let primary = cluster.node_for_slot(cluster.keyslot("replicated"));
    let replicas = cluster.replicas_of(primary);
    assert_eq!(replicas.len(), 2);

    // Both replicas up: a majority (2 of 2) acknowledges.
    let guard = lock.acquire().await.unwrap();
    assert_eq!(guard.fence(), 1);
    guard.release().await.unwrap();

    // Both frozen: taken on the primary, unconfirmed, released again.
    for &r in &replicas {
        cluster.freeze(r);
    }
    let started = Instant::now();
    let err = lock.try_acquire().await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_not_replicated(), "{err}");
    assert!(
        err.to_string().contains("acknowledged by 0 of the 2"),
        "{err}"
    );
    assert!(took >= wait, "failed after {took:?}, before WAIT's timeout");
    assert!(
        !lock.locked().await.unwrap(),
        "the unconfirmed lock was not released"
    );
    // A blocking acquire fails at once too (no retrying into a down shard).
    let err = lock.acquire().await.unwrap_err();
    assert!(err.is_not_replicated(), "{err}");
    for &r in &replicas {
        cluster.thaw(r);
    }

    // Up again: confirmed (the replicas may take a moment to catch up).
    let started = Instant::now();
    let guard = loop {
        match lock.try_acquire().await {
            Ok(Some(guard)) => break guard,
            Err(e) if e.is_not_replicated() && started.elapsed() < Duration::from_secs(20) => {}
            other => panic!("after the thaw: {other:?}"),
        }
    };
    guard.release().await.unwrap();

    // One replica killed: still listed by the slot map, so the majority stays 2 of
    // 2 and cannot be had; a quorum of one can.
    cluster.kill(replicas[1]);
    let err = lock.try_acquire().await.unwrap_err();
    assert!(err.is_not_replicated(), "{err}");
    assert!(err.to_string().contains("of the 2"), "{err}");
    let one = lock
        .clone()
        .replicated(Quorum::AtLeast(1), Duration::from_secs(5));
    let guard = one.try_acquire().await.unwrap().expect("a free lock");
    assert!(guard.owned().await.unwrap());
    guard.release().await.unwrap();
    eprintln!("replicated lock: refused after {took:?} with the replicas frozen (WAIT {wait:?})");
}
