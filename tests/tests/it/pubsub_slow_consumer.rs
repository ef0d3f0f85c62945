//! A slow consumer: 100,000 messages of 1 KiB (about 100 MiB) are published while the
//! subscriber (a queue of 1,024) does not read, under both overflow policies (RESP3
//! only: the queue does not depend on the protocol), with the subscriber on a
//! connection of its own and on the client's shared connection, and the test
//! process's peak RSS is measured to show the subscriber's memory stays bounded.
//!
//! On the shared connection, backpressure stops the reading of the subscribing
//! client's one connection: its own commands would wait behind the queue. So the
//! messages are published, and the server's `CLIENT LIST` read, by another client,
//! and the subscribing client sends nothing while the queue is full.
//!
//! Server config: `client-output-buffer-limit pubsub 0 0 0`. The default pub/sub
//! limit (32mb hard, 8mb soft for 60 s) would make the server drop a subscriber that
//! lags behind by 100 MiB; under backpressure that is exactly what happens (the data
//! waits in the server), so the server would disconnect it and messages would be
//! lost, which is the server's policy, not the subscriber's. Lifting the limit keeps
//! the counts exact, and keeps the payloads big enough that an unbounded client
//! queue (~100 MiB) could not pass for a bounded one (< 64 MiB of growth).
//!
//! Peak RSS is per process and the tests of one file share a process: the tests run
//! one after the other (a lock), and each resets the peak (`VmHWM`) to the
//! current RSS first (writing 5 to `/proc/self/clear_refs`, Linux >= 4.0), so each
//! reports its own peak.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pubsub::{Kind, Overflow, Subscriber};
use respec::{Client, Commands};
use respec_tests::{protocols, Server};
use std::time::{Duration, Instant};

/// Messages published.
const TOTAL: usize = 100_000;
/// The subscriber's queue.
const CAPACITY: usize = 1024;
/// Bytes per payload.
const PAYLOAD: usize = 1024;
/// PUBLISH commands per pipeline.
const BATCH: usize = 1000;
/// The most the process's RSS may grow by: an unbounded queue would need ~100 MiB.
const MAX_GROWTH_KIB: u64 = 64 * 1024;
/// How long a condition may take to come true.
const LIMIT: Duration = Duration::from_secs(60);

/// One test at a time: peak RSS is per process.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Payload `i`: its index, then filler up to [`PAYLOAD`] bytes.
fn payload(i: usize) -> Bytes {
    let mut p = format!("{i:08}:").into_bytes();
    p.resize(PAYLOAD, b'x');
    Bytes::from(p)
}

/// A field of `/proc/self/status`, in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Resets the peak RSS to the current RSS; returns that baseline (KiB). Where the
/// reset is not allowed, the baseline is the current RSS and the peak may be older.
fn reset_peak() -> u64 {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("could not reset VmHWM ({e}); the peak may predate this test");
    }
    status_kib("VmRSS")
}

/// What a test runs against.
struct Setup {
    _server: Server,
    /// Publishes, and asks the server; the subscribing client itself when the
    /// subscriber has a connection of its own, another client when it is on the
    /// subscribing client's shared connection.
    publisher: Client,
    /// The client the subscriber belongs to (kept alive; in shared mode it must not
    /// send anything while the queue is full).
    owner: Client,
    sub: Subscriber,
}

/// A server without a pub/sub output buffer limit (see the module docs), a RESP3
/// client, and a subscriber to `firehose` with a queue of [`CAPACITY`], on a
/// connection of its own or (`shared`) on the client's shared connection.
async fn setup(overflow: Overflow, shared: bool) -> Setup {
    let server = Server::builder()
        .config("client-output-buffer-limit pubsub 0 0 0")
        .start()
        .unwrap();
    let c = protocols::client(&server, Protocol::Resp3).await;
    let mut builder = c
        .subscriber()
        .capacity(CAPACITY)
        .overflow(overflow)
        .ignore_subscribe_messages();
    if shared {
        builder = builder.on_shared_connection();
    }
    let sub = builder.await.unwrap();
    assert_eq!(sub.is_shared(), shared, "{sub:?}");
    sub.subscribe(["firehose"]).await.unwrap();
    let publisher = if shared {
        protocols::client(&server, Protocol::Resp3).await
    } else {
        c.clone()
    };
    Setup {
        _server: server,
        publisher,
        owner: c,
        sub,
    }
}

/// Publishes the [`TOTAL`] payloads in pipelines of [`BATCH`], each received by the
/// one subscriber; returns the most messages seen queued after any pipeline.
async fn publish_all(c: &Client, sub: &Subscriber) -> usize {
    let mut most = 0;
    for start in (0..TOTAL).step_by(BATCH) {
        let receivers = c
            .batch((start..start + BATCH).map(|i| respec::cmd::publish("firehose", payload(i))))
            .await
            .unwrap();
        assert!(receivers.iter().all(|&n| n == 1), "{receivers:?}");
        most = most.max(sub.queued());
    }
    most
}

/// Polls `cond` until true, for at most [`LIMIT`].
async fn await_true(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIMIT, "{what}: not true after {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The next message within [`LIMIT`].
async fn next(sub: &mut Subscriber) -> respec::pubsub::Message {
    sub.get_message(LIMIT).await.expect("a message")
}

/// How much output the server holds for its subscribed client (`omem` in `CLIENT
/// LIST`), in bytes.
async fn server_omem_of_subscriber(c: &Client) -> u64 {
    let list = c.client_list().await.unwrap();
    let list = String::from_utf8_lossy(&list);
    let line = list
        .lines()
        .find(|l| l.split(' ').any(|f| f == "sub=1"))
        .unwrap_or_else(|| panic!("no subscribed client in {list}"));
    line.split(' ')
        .find_map(|f| f.strip_prefix("omem="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no omem in {line}"))
}

fn report(policy: &str, baseline: u64, started: Instant) -> u64 {
    let peak = status_kib("VmHWM");
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "{policy}: {TOTAL} messages of {PAYLOAD} B, capacity {CAPACITY}: RSS before \
         {baseline} KiB, peak {peak} KiB, growth {growth} KiB ({:.1} MiB) in {:?}",
        growth as f64 / 1024.0,
        started.elapsed()
    );
    growth
}

#[tokio::test]
async fn backpressure_keeps_every_message_in_bounded_memory() {
    backpressure(false).await;
}

#[tokio::test]
async fn backpressure_on_the_shared_connection_keeps_every_message_in_bounded_memory() {
    backpressure(true).await;
}

#[tokio::test]
async fn drop_oldest_keeps_the_last_messages_in_bounded_memory() {
    drop_oldest(false).await;
}

#[tokio::test]
async fn drop_oldest_on_the_shared_connection_keeps_the_last_messages_in_bounded_memory() {
    drop_oldest(true).await;
}

fn mode(shared: bool) -> &'static str {
    if shared {
        "shared"
    } else {
        "dedicated"
    }
}

async fn backpressure(shared: bool) {
    let _serial = SERIAL.lock().await;
    let mode = mode(shared);
    let Setup {
        _server,
        publisher: c,
        owner,
        mut sub,
    } = setup(Overflow::Backpressure, shared).await;
    let started = Instant::now();
    let baseline = reset_peak();

    let most_while_publishing = publish_all(&c, &sub).await;
    assert!(
        most_while_publishing <= CAPACITY,
        "{mode}: {most_while_publishing}"
    );
    // The queue fills up to its capacity and no further ...
    await_true(&format!("{mode}: the queue is full"), || {
        sub.queued() == CAPACITY
    })
    .await;
    // ... and the rest waits in the server: the subscriber stopped reading. (The
    // kernel's socket buffers hold a few MiB more.)
    let omem = server_omem_of_subscriber(&c).await;
    eprintln!("Backpressure ({mode}): the server holds {omem} bytes for the subscriber");
    assert!(
        omem > 50 << 20,
        "{mode}: the server holds only {omem} bytes for the subscriber"
    );
    assert_eq!(sub.queued(), CAPACITY, "{mode}");

    // Everything arrives, in order.
    for i in 0..TOTAL {
        assert!(sub.queued() <= CAPACITY, "{mode}: {} queued", sub.queued());
        let m = next(&mut sub).await;
        assert_eq!(m.kind, Kind::Message, "{mode}: message {i}: {m:?}");
        assert_eq!(&m.channel[..], b"firehose", "{mode}");
        assert!(
            m.payload == payload(i),
            "{mode}: message {i} is {:?}",
            String::from_utf8_lossy(&m.payload[..9.min(m.payload.len())])
        );
    }
    assert_eq!(sub.dropped(), 0, "{mode}");
    assert_eq!(sub.queued(), 0, "{mode}");
    assert_eq!(server_omem_of_subscriber(&c).await, 0, "{mode}");
    if shared {
        // Caught up, the shared connection answers its client again.
        assert!(owner.set("after", "ok").await.unwrap(), "{mode}");
        assert_eq!(
            owner.get("after").await.unwrap(),
            Some(Bytes::from("ok")),
            "{mode}"
        );
    }

    let growth = report(&format!("Backpressure ({mode})"), baseline, started);
    assert!(growth < MAX_GROWTH_KIB, "{mode}: RSS grew by {growth} KiB");
}

async fn drop_oldest(shared: bool) {
    let _serial = SERIAL.lock().await;
    let mode = mode(shared);
    let Setup {
        _server,
        publisher: c,
        owner: _owner,
        mut sub,
    } = setup(Overflow::DropOldest, shared).await;
    let started = Instant::now();
    let baseline = reset_peak();

    let most_while_publishing = publish_all(&c, &sub).await;
    assert!(
        most_while_publishing <= CAPACITY,
        "{mode}: {most_while_publishing}"
    );
    // The subscriber keeps reading: once it has read everything, it holds the last
    // CAPACITY messages and has dropped all the others.
    await_true(&format!("{mode}: every message read"), || {
        sub.dropped() + sub.queued() as u64 == TOTAL as u64
    })
    .await;
    assert_eq!(sub.queued(), CAPACITY, "{mode}");
    assert_eq!(sub.dropped(), (TOTAL - CAPACITY) as u64, "{mode}");

    for i in TOTAL - CAPACITY..TOTAL {
        let m = next(&mut sub).await;
        assert_eq!(m.kind, Kind::Message, "{mode}: message {i}: {m:?}");
        assert!(
            m.payload == payload(i),
            "{mode}: message {i} is {:?}",
            String::from_utf8_lossy(&m.payload[..9.min(m.payload.len())])
        );
    }
    assert_eq!(sub.queued(), 0, "{mode}");
    assert_eq!(sub.dropped(), (TOTAL - CAPACITY) as u64, "{mode}");
    // Nothing more was published: one more message shows the stream goes on.
    assert_eq!(c.publish("firehose", "last").await.unwrap(), 1, "{mode}");
    assert_eq!(&next(&mut sub).await.payload[..], b"last", "{mode}");

    let growth = report(&format!("DropOldest ({mode})"), baseline, started);
    assert!(growth < MAX_GROWTH_KIB, "{mode}: RSS grew by {growth} KiB");
}
