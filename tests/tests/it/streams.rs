//! Stream consumers (`respec::streams`) against real servers: four group consumers
//! sharing 10,000 entries exactly once, at least once when one of them is killed
//! mid-way (its pending entries claimed by the others), the dead-letter path, a
//! restarted consumer reading its own pending entries first, `run_until` stopping
//! with its batch acknowledged, a reader of two streams getting every entry in
//! order, reads blocking on pooled connections, a cluster, and options refused
//! before anything is sent.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::streams::{Entry, GroupBuilder, Start, StreamError};
use respec::{cmd, Client, Commands};
use respec_tests::pubsub::await_value;
use respec_tests::{protocols, Cluster, Server};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Awaits `fut` for at most `limit`, panicking with `what` after it.
async fn within<T>(limit: Duration, what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {limit:?}"))
}

/// Appends `n` entries `n = 0..n` (and `from`: the writer) to `key`, 1,000 per
/// pipeline; their IDs.
async fn fill(c: &Client, key: &str, from: &str, n: usize) -> Vec<Bytes> {
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let batch = c
            .batch(
                (start..end).map(|i| {
                    cmd::xadd(key, "*", [("n", i.to_string()), ("from", from.to_owned())])
                }),
            )
            .await
            .unwrap();
        ids.extend(
            batch
                .into_iter()
                .map(|id| id.expect("XADD without NOMKSTREAM")),
        );
    }
    ids
}

/// The number of entries pending in `group` (the summary form of `XPENDING`).
async fn pending(c: &Client, key: &str, group: &str) -> respec::Result<i64> {
    Ok(c.xpending(key, group).await?.0)
}

/// Per entry ID, each handler call: (consumer, delivery count).
type Calls = HashMap<Bytes, Vec<(usize, u64)>>;

/// What the handlers of a test saw: how many times each ID was handled, by whom,
/// with which delivery counts; `total` follows the number of calls.
#[derive(Clone)]
struct Seen {
    by_id: Arc<Mutex<Calls>>,
    total: Arc<watch::Sender<usize>>,
}

impl Seen {
    fn new() -> Self {
        Seen {
            by_id: Arc::default(),
            total: Arc::new(watch::channel(0).0),
        }
    }

    fn record(&self, consumer: usize, e: &Entry) {
        self.by_id
            .lock()
            .unwrap()
            .entry(e.id.clone())
            .or_default()
            .push((consumer, e.deliveries));
        self.total.send_modify(|n| *n += 1);
    }

    /// Waits until every one of `ids` was handled at least once.
    async fn all_of(&self, ids: &[Bytes], limit: Duration) {
        let mut rx = self.total.subscribe();
        within(limit, "every entry handled", async {
            loop {
                let missing = {
                    let by_id = self.by_id.lock().unwrap();
                    ids.iter().filter(|id| !by_id.contains_key(*id)).count()
                };
                if missing == 0 {
                    return;
                }
                rx.changed().await.unwrap();
            }
        })
        .await
    }

    /// (IDs handled more than once, calls with a delivery count above 1, calls per
    /// consumer).
    fn figures(&self, consumers: usize) -> (usize, usize, Vec<usize>) {
        let by_id = self.by_id.lock().unwrap();
        let duplicates = by_id.values().filter(|v| v.len() > 1).count();
        let redelivered = by_id.values().flatten().filter(|(_, d)| *d > 1).count();
        let mut per = vec![0; consumers];
        for (c, _) in by_id.values().flatten() {
            per[*c] += 1;
        }
        (duplicates, redelivered, per)
    }
}

type Task = tokio::task::JoinHandle<Result<(), StreamError>>;

/// Waits until every one of `ids` was handled and nothing is pending in the group
/// `workers` of each of `keys`, then stops `tasks`.
async fn drain(c: &Client, seen: &Seen, ids: &[Bytes], keys: &[&str], tasks: &[Task]) {
    seen.all_of(ids, Duration::from_secs(60)).await;
    for key in keys {
        await_value("entries still pending", 0, || pending(c, key, "workers")).await;
    }
    for t in tasks {
        assert!(!t.is_finished(), "a consumer stopped: {t:?}");
        t.abort();
    }
}

/// Consumer `i` of `group` running `run` on its own task, recording into `seen`.
fn spawn_consumer(group: &GroupBuilder, i: usize, seen: &Seen) -> Task {
    let group = group.clone().consumer(format!("c{i}"));
    let seen = seen.clone();
    tokio::spawn(async move {
        group
            .start()
            .await?
            .run(move |e| {
                seen.record(i, &e);
                async { Ok::<_, String>(()) }
            })
            .await
    })
}

/// A server whose stream `jobs` holds 10,000 entries, a client of it, their IDs,
/// and the options of consumer `c0` of the group `workers` (created from the
/// stream's beginning; batches of 50).
async fn ten_thousand_jobs() -> (Server, Client, Vec<Bytes>, GroupBuilder) {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let ids = fill(&c, "jobs", "w", 10_000).await;
    let group = c
        .stream_group("jobs", "workers", "c0")
        .create(Start::Beginning)
        .count(50);
    (server, c, ids, group)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_group_consumers_share_10000_entries_each_handled_exactly_once() {
    let (_server, c, ids, group) = ten_thousand_jobs().await;
    let started = Instant::now();
    let group = group.block(Duration::from_millis(200));
    let seen = Seen::new();
    let tasks: Vec<_> = (0..4).map(|i| spawn_consumer(&group, i, &seen)).collect();
    drain(&c, &seen, &ids, &["jobs"], &tasks).await;
    let elapsed = started.elapsed();
    let (duplicates, redelivered, per) = seen.figures(4);
    eprintln!(
        "4 consumers, {} entries: {duplicates} handled twice, {redelivered} redelivered, per consumer {per:?}, {elapsed:?}",
        ids.len()
    );
    let by_id = seen.by_id.lock().unwrap();
    assert_eq!(by_id.len(), 10_000);
    assert!(
        by_id.values().all(|v| v.len() == 1 && v[0].1 == 1),
        "every entry handled once, at its first delivery"
    );
    assert_eq!(*seen.total.borrow(), 10_000);
    assert_eq!(per.iter().sum::<usize>(), 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_midway_has_its_pending_entries_claimed_by_the_others() {
    let (_server, c, ids, group) = ten_thousand_jobs().await;
    let started = Instant::now();
    // Short claim times: the victim's entries are taken over 500 ms after it dies.
    let group = group
        .block(Duration::from_millis(100))
        .claim_idle(Some(Duration::from_millis(500)))
        .claim_interval(Duration::from_millis(50));
    let seen = Seen::new();
    // The victim handles 500 entries, then hangs in its handler, holding a batch,
    // until its task is aborted: the rest of that batch is never acknowledged.
    let (hung_tx, mut hung) = watch::channel(None);
    let victim = {
        let group = group.clone().consumer("victim");
        let seen = seen.clone();
        let mut handled = 0;
        tokio::spawn(async move {
            group
                .start()
                .await?
                .run(move |e| {
                    seen.record(3, &e);
                    handled += 1;
                    let hang = handled == 500;
                    if hang {
                        hung_tx.send_replace(Some(e.id.clone()));
                    }
                    async move {
                        if hang {
                            std::future::pending::<()>().await;
                        }
                        Ok::<_, String>(())
                    }
                })
                .await
        })
    };
    let others: Vec<_> = (0..3).map(|i| spawn_consumer(&group, i, &seen)).collect();
    let last: Bytes = within(
        Duration::from_secs(60),
        "the victim's 500th entry",
        hung.wait_for(Option::is_some),
    )
    .await
    .unwrap()
    .clone()
    .unwrap();
    victim.abort();
    // What it held when it died, delivered and never acknowledged (unless the others
    // have claimed it already, on a slow machine): its last entry at least.
    let mut held: Vec<Bytes> = c
        .xpending("jobs", "workers")
        .filters(None, "-", "+", 1000, Some(Bytes::from_static(b"victim")))
        .await
        .unwrap()
        .into_iter()
        .map(|(id, ..)| id)
        .collect();
    drain(&c, &seen, &ids, &["jobs"], &others).await;
    let elapsed = started.elapsed();
    let (duplicates, redelivered, per) = seen.figures(4);
    let held_at_death = held.len();
    if !held.contains(&last) {
        held.push(last);
    }
    eprintln!(
        "victim killed holding {held_at_death} pending entries: {} entries all handled, {duplicates} handled more than once, {redelivered} redeliveries (claims), per consumer (victim last) {per:?}, {elapsed:?}",
        ids.len()
    );
    let by_id = seen.by_id.lock().unwrap();
    assert_eq!(by_id.len(), 10_000, "every entry handled at least once");
    for id in &held {
        assert!(
            by_id[id].iter().any(|&(c, d)| c != 3 && d >= 2),
            "{id:?}, held by the victim, was claimed and handled by another: {:?}",
            by_id[id]
        );
    }
    assert!(redelivered >= held.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_always_fails_reaches_the_dead_letter_callback_and_is_acked() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = protocols::client(&server, protocol).await;
        let key = format!("jobs:{protocol:?}");
        let good = fill(&c, &key, "w", 20).await;
        let poison: Bytes = c.xadd(&key, "*", [("poison", "1")]).await.unwrap().unwrap();
        let (dead_tx, mut dead) = watch::channel(Vec::<Entry>::new());
        let seen = Seen::new();
        let consumer = c
            .stream_group(&key, "workers", "c0")
            .create(Start::Beginning)
            .claim_idle(Some(Duration::from_millis(20)))
            .claim_interval(Duration::from_millis(10))
            .block(Duration::from_millis(50))
            .dead_letter(3, move |e| {
                dead_tx.send_modify(|d| d.push(e));
                async { Ok::<_, String>(()) }
            })
            .start()
            .await
            .unwrap();
        let task = {
            let seen = seen.clone();
            tokio::spawn(consumer.run(move |e| {
                seen.record(0, &e);
                let fail = e.field("poison").is_some();
                async move {
                    if fail {
                        Err(format!("cannot handle {:?}", e.id))
                    } else {
                        Ok(())
                    }
                }
            }))
        };
        within(
            Duration::from_secs(20),
            "the dead letter",
            dead.wait_for(|d| !d.is_empty()),
        )
        .await
        .unwrap();
        await_value("entries still pending", 0, || pending(&c, &key, "workers")).await;
        task.abort();
        let dead = dead.borrow().clone();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].id, poison);
        assert_eq!(
            dead[0].deliveries, 4,
            "delivered a fourth time: to the callback"
        );
        assert_eq!(dead[0].field("poison").map(|v| &v[..]), Some(&b"1"[..]));
        let by_id = seen.by_id.lock().unwrap();
        let tries: Vec<u64> = by_id[&poison].iter().map(|(_, d)| *d).collect();
        assert_eq!(tries, [1, 2, 3], "the handler got the poison entry 3 times");
        for id in &good {
            assert_eq!(by_id[id], [(0, 1)], "a good entry handled once");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_consumer_reads_its_own_pending_entries_first_and_acks_explicitly() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = protocols::client(&server, protocol).await;
        let key = format!("jobs:{protocol:?}");
        let ids = fill(&c, &key, "w", 30).await;
        let group = c
            .stream_group(&key, "workers", "c0")
            .create(Start::Beginning)
            .count(10)
            .claim_idle(None);
        // First life: takes 10 entries, acknowledges 4 of them, dies.
        let mut first = group.clone().start().await.unwrap();
        let batch = first.next_batch().await.unwrap();
        assert_eq!(
            batch.iter().map(|e| &e.id).collect::<Vec<_>>(),
            ids[..10].iter().collect::<Vec<_>>()
        );
        for e in &batch[..3] {
            assert!(first.ack(e).await.unwrap());
        }
        let acker = first.acker();
        assert_eq!(acker.ack_ids([&batch[3].id]).await.unwrap(), 1);
        assert!(!acker.ack(&batch[3]).await.unwrap(), "acknowledged already");
        drop(first);
        assert_eq!(pending(&c, &key, "workers").await.unwrap(), 6);
        // Second life, same name: the 6 pending entries first (second delivery), then
        // the 20 new ones (first delivery).
        let mut second = group.start().await.unwrap();
        let mut got = Vec::new();
        while got.len() < 26 {
            let e = within(Duration::from_secs(10), "the next entry", second.next())
                .await
                .unwrap();
            assert!(second.ack(&e).await.unwrap());
            got.push((e.id, e.deliveries));
        }
        let want: Vec<(Bytes, u64)> = ids[4..10]
            .iter()
            .map(|id| (id.clone(), 2))
            .chain(ids[10..].iter().map(|id| (id.clone(), 1)))
            .collect();
        assert_eq!(got, want);
        assert_eq!(pending(&c, &key, "workers").await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_of_two_streams_gets_every_entry_in_order_per_stream() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = protocols::client(&server, protocol).await;
        let (a, b) = (format!("a{protocol:?}"), format!("b{protocol:?}"));
        let before_a = fill(&c, &a, "before", 100).await;
        // Entries of b added before the reader starts are not read (Start::New).
        fill(&c, &b, "before", 50).await;
        let mut reader = c
            .stream_reader()
            .stream(&a, Start::Beginning)
            .stream(&b, Start::New)
            .count(37)
            .block(Duration::from_millis(100))
            .start()
            .await
            .unwrap();
        // Two writers, one per stream, while the reader reads.
        let writers: Vec<_> = [&a, &b]
            .into_iter()
            .map(|key| {
                let (c, key) = (c.clone(), key.clone());
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for _ in 0..10 {
                        ids.extend(fill(&c, &key, "during", 50).await);
                        tokio::task::yield_now().await;
                    }
                    ids
                })
            })
            .collect();
        let mut got: HashMap<Bytes, Vec<Bytes>> = HashMap::new();
        while got.values().map(Vec::len).sum::<usize>() < 1100 {
            let e = within(Duration::from_secs(20), "the next entry", reader.next())
                .await
                .unwrap();
            assert_eq!(e.deliveries, 0);
            got.entry(e.stream.clone()).or_default().push(e.id);
        }
        let mut during = Vec::new();
        for w in writers {
            during.push(w.await.unwrap());
        }
        let want_a: Vec<Bytes> = before_a.iter().chain(&during[0]).cloned().collect();
        assert_eq!(got[a.as_bytes()], want_a, "{protocol:?}: stream a in order");
        assert_eq!(
            got[b.as_bytes()],
            during[1],
            "{protocol:?}: stream b in order"
        );
        // Its place, given to a new reader: only what comes after.
        let last = reader.last_ids().to_vec();
        assert_eq!(
            last[0],
            (Bytes::from(a.clone()), want_a[1099 - 500].clone())
        );
        assert_eq!(last[1].1, during[1][499]);
        let next: Bytes = c.xadd(&b, "*", [("n", "last")]).await.unwrap().unwrap();
        let mut again = c
            .stream_reader()
            .stream(&a, Start::After(last[0].1.clone()))
            .stream(&b, Start::after(&last[1].1))
            .start()
            .await
            .unwrap();
        let e = within(Duration::from_secs(10), "the entry after", again.next())
            .await
            .unwrap();
        assert_eq!(
            (e.stream, e.id),
            (Bytes::from(b.clone()), next),
            "{protocol:?}"
        );
    }
}

/// `what` is refused by `start` before anything is sent, naming `arg`.
fn refused(err: StreamError, arg: &str) {
    assert!(err.is_invalid_argument(), "{err}");
    assert!(err.client_error().is_none());
    let text = err.to_string();
    assert!(text.contains(&format!("`{arg}`")), "{text}");
    assert!(text.contains("nothing was sent"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_refused_before_anything_is_sent() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let reader = || c.stream_reader().stream("s", Start::New);
    refused(c.stream_reader().start().await.unwrap_err(), "streams");
    refused(
        reader()
            .stream("s", Start::Beginning)
            .start()
            .await
            .unwrap_err(),
        "streams",
    );
    refused(
        reader().block(Duration::ZERO).start().await.unwrap_err(),
        "block",
    );
    refused(
        reader()
            .block(Duration::from_micros(1500))
            .start()
            .await
            .unwrap_err(),
        "block",
    );
    refused(reader().count(0).start().await.unwrap_err(), "count");
    let group = || c.stream_group("s", "g", "c").create(Start::New);
    refused(
        group().block(Duration::ZERO).start().await.unwrap_err(),
        "block",
    );
    refused(group().count(0).start().await.unwrap_err(), "count");
    refused(
        group()
            .claim_idle(Some(Duration::ZERO))
            .start()
            .await
            .unwrap_err(),
        "claim_idle",
    );
    refused(
        group()
            .claim_interval(Duration::ZERO)
            .start()
            .await
            .unwrap_err(),
        "claim_interval",
    );
    refused(
        c.stream_group("s", "", "c").start().await.unwrap_err(),
        "group",
    );
    refused(group().consumer("").start().await.unwrap_err(), "consumer");
    let err = group()
        .dead_letter(0, |_| async { Ok::<_, String>(()) })
        .start()
        .await
        .unwrap_err();
    refused(err, "max_deliveries");
    // The message names the consumer and says why.
    let err = reader().block(Duration::ZERO).start().await.unwrap_err();
    assert_eq!(err.consumer(), "stream reader of `s`");
    assert!(err.to_string().contains("wait forever"), "{err}");
    // Nothing reached the server: no stream or group command ran.
    let stats: String = c.cmd("INFO").arg("commandstats").decode().await.unwrap();
    assert!(
        !stats.contains("cmdstat_x"),
        "a stream command was sent: {stats}"
    );
    // A group never created is the server's NOGROUP, as a client error.
    let mut missing = c.stream_group("s2", "nobody", "c").start().await.unwrap();
    let err = missing.next().await.unwrap_err();
    assert!(!err.is_invalid_argument() && !err.is_transient(), "{err}");
    let server_err = err.client_error().and_then(|e| e.server_error()).unwrap();
    assert_eq!(server_err.code(), "NOGROUP", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_group_consumers_and_a_reader_of_one_slot() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let c = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    // Streams of different slots cannot be read together; with a hash tag they can.
    let err = c
        .stream_reader()
        .stream("orders", Start::New)
        .stream("refunds", Start::New)
        .start()
        .await
        .unwrap_err();
    assert!(
        err.is_invalid_argument() && err.to_string().contains("hash tag"),
        "{err}"
    );
    let mut reader = c
        .stream_reader()
        .stream("orders:{shop}", Start::New)
        .stream("refunds:{shop}", Start::New)
        .block(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    // Two groups on two streams of other slots, two consumers each.
    let seen = Seen::new();
    let mut tasks = Vec::new();
    let mut all = Vec::new();
    for (g, key) in ["a", "b"].into_iter().enumerate() {
        let ids = fill(&c, key, "w", 500).await;
        all.extend(ids);
        let group = c
            .stream_group(key, "workers", "c0")
            .create(Start::Beginning)
            .count(20)
            .block(Duration::from_millis(100));
        for i in 0..2 {
            tasks.push(spawn_consumer(&group, 2 * g + i, &seen));
        }
    }
    drain(&c, &seen, &all, &["a", "b"], &tasks).await;
    let (duplicates, _, _) = seen.figures(4);
    assert_eq!(duplicates, 0);
    assert_eq!(seen.by_id.lock().unwrap().len(), 1000);
    // Restarted after dying with entries in hand, a consumer reads them again, with
    // their delivery counts (XPENDING through the cluster client).
    let restart = c
        .stream_group("a", "restart", "r")
        .create(Start::New)
        .claim_idle(None);
    let mut first = restart.clone().start().await.unwrap();
    let more = fill(&c, "a", "w", 5).await;
    let ids = |batch: Vec<Entry>| -> Vec<(Bytes, u64)> {
        batch.into_iter().map(|e| (e.id, e.deliveries)).collect()
    };
    let once: Vec<_> = more.iter().map(|id| (id.clone(), 1)).collect();
    let twice: Vec<_> = more.iter().map(|id| (id.clone(), 2)).collect();
    assert_eq!(ids(first.next_batch().await.unwrap()), once);
    drop(first);
    let mut again = restart.start().await.unwrap();
    assert_eq!(ids(again.next_batch().await.unwrap()), twice);
    let o = fill(&c, "orders:{shop}", "w", 3).await;
    let r = fill(&c, "refunds:{shop}", "w", 2).await;
    let mut got: HashMap<Bytes, Vec<Bytes>> = HashMap::new();
    for _ in 0..5 {
        let e = within(Duration::from_secs(10), "the next entry", reader.next())
            .await
            .unwrap();
        got.entry(e.stream).or_default().push(e.id);
    }
    assert_eq!(got[&b"orders:{shop}"[..]], o);
    assert_eq!(got[&b"refunds:{shop}"[..]], r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_read_waits_on_a_pooled_connection_not_the_shared_one() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let shared: i64 = c.cmd("CLIENT").arg("ID").decode().await.unwrap();
    let mut consumer = c
        .stream_group("s", "g", "c")
        .create(Start::New)
        .block(Duration::from_secs(30))
        .claim_idle(None)
        .start()
        .await
        .unwrap();
    let read = tokio::spawn(async move { (consumer.next().await, consumer) });
    // The read blocks on a connection of its own, taken from the pool. Blocked now
    // (flag `b`), not only last run there: a pooled connection back from an
    // earlier read keeps `cmd=xreadgroup` in the list while idle.
    let blocked = || async {
        let list: String = c.cmd("CLIENT").arg("LIST").decode().await?;
        Ok(list
            .lines()
            .filter(|l| {
                l.contains("cmd=xreadgroup")
                    && l.split(' ')
                        .any(|f| f.strip_prefix("flags=").is_some_and(|f| f.contains('b')))
            })
            .map(|l| !l.starts_with(&format!("id={shared} ")))
            .collect::<Vec<_>>())
    };
    await_value(
        "one XREADGROUP blocked off the shared connection",
        vec![true],
        blocked,
    )
    .await;
    assert_eq!(c.pool_status().in_use, 1);
    // The shared connection is free meanwhile; the entry ends the wait.
    let id: Bytes = c.xadd("s", "*", [("k", "v")]).await.unwrap().unwrap();
    let (entry, mut consumer) = within(Duration::from_secs(10), "the entry", read)
        .await
        .unwrap();
    assert_eq!(entry.unwrap().id, id);
    await_value("the connection back in the pool", 0, || async {
        Ok(c.pool_status().in_use)
    })
    .await;
    // A consumer dropped while its read blocks gives the connection back too
    // (CLIENT UNBLOCK).
    let read = tokio::spawn(async move { consumer.next().await });
    await_value("blocked again", vec![true], blocked).await;
    read.abort();
    await_value("unblocked and back in the pool", 0, || async {
        Ok(c.pool_status().in_use)
    })
    .await;
    await_value("no XREADGROUP blocked", Vec::<bool>::new(), blocked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_stops_a_consumer_with_its_batch_acknowledged() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let ids = fill(&c, "jobs", "w", 25).await;
    let consumer = c
        .stream_group("jobs", "workers", "c0")
        .create(Start::Beginning)
        .count(10)
        .start()
        .await
        .unwrap();
    // Stopped while handling the 15th entry: the second batch (entries 11 to 20) is
    // finished and acknowledged, nothing more is read.
    let (stop_tx, mut stop) = watch::channel(false);
    let seen = Seen::new();
    let run = {
        let seen = seen.clone();
        let mut n = 0;
        tokio::spawn(consumer.run_until(
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
            move |e| {
                seen.record(0, &e);
                n += 1;
                if n == 15 {
                    stop_tx.send_replace(true);
                }
                async { Ok::<_, String>(()) }
            },
        ))
    };
    within(Duration::from_secs(10), "run_until returning", run)
        .await
        .unwrap()
        .unwrap();
    let handled: Vec<Bytes> = {
        let by_id = seen.by_id.lock().unwrap();
        ids.iter()
            .filter(|id| by_id.contains_key(*id))
            .cloned()
            .collect()
    };
    assert_eq!(handled, ids[..20]);
    assert_eq!(pending(&c, "jobs", "workers").await.unwrap(), 0);
    // The 5 others are for the next consumer.
    let mut next = c
        .stream_group("jobs", "workers", "c1")
        .start()
        .await
        .unwrap();
    let rest = next.next_batch().await.unwrap();
    assert_eq!(
        rest.into_iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[20..]
    );
}
