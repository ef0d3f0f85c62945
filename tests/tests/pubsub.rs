//! Pub/sub against a real server, under RESP2 and RESP3: the message sequences of the
//! redis-py / coredis handbook examples, handlers, confirmations, unsubscribing,
//! sharded pub/sub, a server restart and a server that is down, and the typed `PUBSUB`
//! introspection commands. The slow consumer is in `pubsub_slow_consumer.rs`.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pubsub::{Kind, Message};
use respec::{Client, Commands};
use respec_tests::{protocols, Server};
use std::future::IntoFuture;
use std::time::{Duration, Instant};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The shape of a message: kind, channel, pattern, payload, count.
type Shape = (Kind, Bytes, Option<Bytes>, Bytes, Option<i64>);

fn shape(m: &Message) -> Shape {
    (
        m.kind,
        m.channel.clone(),
        m.pattern.clone(),
        m.payload.clone(),
        m.count,
    )
}

async fn next(sub: &mut respec::pubsub::Subscriber) -> Message {
    sub.get_message(Duration::from_secs(10))
        .await
        .expect("a message within 10 s")
}

#[tokio::test]
async fn handbook_sequence_subscribe_publish_unsubscribe() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().await.unwrap();
        sub.subscribe(["my-first-channel", "my-second-channel"])
            .await
            .unwrap();
        sub.psubscribe(["my-*"]).await.unwrap();
        assert_eq!(c.publish("my-first-channel", "some data").await.unwrap(), 2);
        sub.unsubscribe::<&str>([]).await.unwrap();
        sub.punsubscribe::<&str>([]).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..8 {
            got.push(shape(&next(&mut sub).await));
        }
        let (sub_, unsub, psub, punsub) = (
            Kind::Subscribe,
            Kind::Unsubscribe,
            Kind::PSubscribe,
            Kind::PUnsubscribe,
        );
        let e = Bytes::new();
        // Unsubscribe-all confirms channels in the server's order: compare as sets.
        assert_eq!(
            got[..5],
            [
                (sub_, b("my-first-channel"), None, e.clone(), Some(1)),
                (sub_, b("my-second-channel"), None, e.clone(), Some(2)),
                (psub, b("my-*"), None, e.clone(), Some(3)),
                (
                    Kind::Message,
                    b("my-first-channel"),
                    None,
                    b("some data"),
                    None
                ),
                (
                    Kind::PMessage,
                    b("my-first-channel"),
                    Some(b("my-*")),
                    b("some data"),
                    None
                ),
            ],
            "{protocol:?}"
        );
        let mut unsubs: Vec<_> = got[5..7].to_vec();
        unsubs.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(unsubs[0].0, unsub);
        assert_eq!(unsubs[1].0, unsub);
        assert_eq!(
            (unsubs[0].1.clone(), unsubs[1].1.clone()),
            (b("my-first-channel"), b("my-second-channel"))
        );
        let mut counts = vec![unsubs[0].4, unsubs[1].4];
        counts.sort();
        assert_eq!(counts, [Some(1), Some(2)]);
        assert_eq!(got[7], (punsub, b("my-*"), None, e.clone(), Some(0)));
        assert!(sub.get_message(Duration::from_millis(50)).await.is_none());
    }
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the tests below.

/// How long a condition may take to come true before a test fails.
const LIMIT: Duration = Duration::from_secs(10);

const PROTOCOLS: [Protocol; 2] = [Protocol::Resp2, Protocol::Resp3];

/// Polls `probe` until it returns `Ok(want)`, for at most [`LIMIT`] (awaiting a
/// condition, not sleeping for a guessed time); errors count as "not yet" (the probing
/// client may be reconnecting).
async fn await_value<T, F, Fut>(what: &str, want: T, mut probe: F)
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::IntoFuture<Output = respec::Result<T>>,
{
    let start = Instant::now();
    loop {
        let got = probe().into_future().await;
        if matches!(&got, Ok(v) if *v == want) {
            return;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{what}: still {got:?} after {LIMIT:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `PUBSUB NUMSUB channel` as seen by `c`.
async fn numsub(c: &Client, channel: &str) -> respec::Result<i64> {
    Ok(c.pubsub_numsub().channel([channel]).await?[0].1)
}

/// `PUBSUB SHARDNUMSUB channel` as seen by `c`.
async fn shardnumsub(c: &Client, channel: &str) -> respec::Result<i64> {
    Ok(c.pubsub_shardnumsub().shardchannel([channel]).await?[0].1)
}

/// How many connections `CLIENT LIST` shows in a subscribed state (`sub`, `psub` or
/// `ssub` above 0).
async fn subscribed_connections(c: &Client) -> respec::Result<usize> {
    let list = c.client_list().await?;
    Ok(String::from_utf8_lossy(&list)
        .lines()
        .filter(|line| {
            line.split(' ').any(|field| {
                ["sub=", "psub=", "ssub="].iter().any(|k| {
                    field
                        .strip_prefix(k)
                        .is_some_and(|n| n.parse::<u64>().is_ok_and(|n| n > 0))
                })
            })
        })
        .count())
}

/// The shape of a confirmation.
fn confirmation(kind: Kind, channel: &str, count: i64) -> Shape {
    (kind, b(channel), None, Bytes::new(), Some(count))
}

/// The shape of a published message.
fn message(kind: Kind, channel: &str, pattern: Option<&str>, payload: &str) -> Shape {
    (kind, b(channel), pattern.map(b), b(payload), None)
}

/// Whether the server has sharded pub/sub (prints why not otherwise).
fn has_sharded(server: &Server) -> bool {
    protocols::since(server, (7, 0, 0), "SSUBSCRIBE")
}

// ---------------------------------------------------------------------------------------
// 1. `run`: a handler on a task of its own.

#[tokio::test]
async fn run_handler_gets_messages_in_order_and_abort_closes_the_connection() {
    let server = Server::start();
    for protocol in PROTOCOLS {
        let c = protocols::client(&server, protocol).await;
        let sub = c.subscriber().await.unwrap();
        sub.subscribe(["jobs"]).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // The handler is FnMut: each call gets its own sender.
        let handle = sub.run(move |msg| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(msg);
            }
        });
        let mut recv = async || {
            tokio::time::timeout(LIMIT, rx.recv())
                .await
                .expect("the handler got a message within the limit")
        };
        assert_eq!(
            shape(&recv().await.unwrap()),
            confirmation(Kind::Subscribe, "jobs", 1),
            "{protocol:?}"
        );
        // Published after `run`: one by one, then 1,000 in one pipeline.
        for i in 0..10 {
            assert_eq!(c.publish("jobs", format!("job-{i}")).await.unwrap(), 1);
        }
        let receivers = c
            .batch((10..1010).map(|i| respec::cmd::publish("jobs", format!("job-{i}"))))
            .await
            .unwrap();
        assert_eq!(receivers, vec![1; 1000]);
        for i in 0..1010 {
            assert_eq!(
                shape(&recv().await.unwrap()),
                message(Kind::Message, "jobs", None, &format!("job-{i}")),
                "{protocol:?}"
            );
        }
        assert_eq!(subscribed_connections(&c).await.unwrap(), 1);
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        // The handler (and its sender) went with the task.
        assert!(recv().await.is_none(), "{protocol:?}");
        // The subscriber went too, and with it its connection.
        await_value("NUMSUB jobs after abort", 0, || numsub(&c, "jobs")).await;
        await_value("subscribed connections after abort", 0, || {
            subscribed_connections(&c)
        })
        .await;
    }
}

// ---------------------------------------------------------------------------------------
// 2. ignore_subscribe_messages.

#[tokio::test]
async fn ignore_subscribe_messages_delivers_only_messages() {
    for protocol in PROTOCOLS {
        // A server per protocol: NUMPAT counts every client's patterns.
        let server = Server::start();
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().ignore_subscribe_messages().await.unwrap();
        sub.subscribe(["quiet-a", "quiet-b"]).await.unwrap();
        // `subscribe` returned after the confirmation: the server already counts the
        // subscriptions (asked on another connection, without waiting).
        assert_eq!(
            c.pubsub_numsub()
                .channel(["quiet-a", "quiet-b"])
                .await
                .unwrap(),
            vec![(b("quiet-a"), 1), (b("quiet-b"), 1)],
            "{protocol:?}"
        );
        sub.psubscribe(["quiet-*"]).await.unwrap();
        assert_eq!(c.pubsub_numpat().await.unwrap(), 1);
        assert_eq!(c.publish("quiet-a", "one").await.unwrap(), 2);
        sub.unsubscribe(["quiet-a"]).await.unwrap();
        assert_eq!(numsub(&c, "quiet-a").await.unwrap(), 0);
        sub.punsubscribe::<&str>([]).await.unwrap();
        assert_eq!(c.pubsub_numpat().await.unwrap(), 0);
        assert_eq!(c.publish("quiet-b", "two").await.unwrap(), 1);
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(numsub(&c, "quiet-b").await.unwrap(), 0);
        // Unsubscribing from all with nothing subscribed still returns.
        tokio::time::timeout(LIMIT, sub.unsubscribe::<&str>([]))
            .await
            .expect("unsubscribe-all of nothing returns")
            .unwrap();
        sub.subscribe(["quiet-c"]).await.unwrap();
        assert_eq!(c.publish("quiet-c", "three").await.unwrap(), 1);
        // Seven confirmations were sent by the server; none is delivered: the
        // messages come one after the other.
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(shape(&next(&mut sub).await));
        }
        assert_eq!(
            got,
            [
                message(Kind::Message, "quiet-a", None, "one"),
                message(Kind::PMessage, "quiet-a", Some("quiet-*"), "one"),
                message(Kind::Message, "quiet-b", None, "two"),
                message(Kind::Message, "quiet-c", None, "three"),
            ],
            "{protocol:?}"
        );
        assert_eq!(sub.queued(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// 3. Unsubscribing, and subscribing to nothing.

#[tokio::test]
async fn unsubscribe_specific_all_and_nothing() {
    let server = Server::start();
    for protocol in PROTOCOLS {
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().await.unwrap();
        sub.subscribe(["u1", "u2", "u3"]).await.unwrap();
        sub.unsubscribe(["u1", "u3"]).await.unwrap();
        assert_eq!(c.publish("u1", "gone").await.unwrap(), 0);
        assert_eq!(c.publish("u3", "gone").await.unwrap(), 0);
        assert_eq!(c.publish("u2", "still").await.unwrap(), 1);
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(numsub(&c, "u2").await.unwrap(), 0);
        // Nothing is subscribed: the server still confirms, with no channel and 0.
        sub.unsubscribe::<&str>([]).await.unwrap();
        sub.punsubscribe::<&str>([]).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..9 {
            got.push(shape(&next(&mut sub).await));
        }
        assert_eq!(
            got,
            [
                confirmation(Kind::Subscribe, "u1", 1),
                confirmation(Kind::Subscribe, "u2", 2),
                confirmation(Kind::Subscribe, "u3", 3),
                confirmation(Kind::Unsubscribe, "u1", 2),
                confirmation(Kind::Unsubscribe, "u3", 1),
                message(Kind::Message, "u2", None, "still"),
                confirmation(Kind::Unsubscribe, "u2", 0),
                confirmation(Kind::Unsubscribe, "", 0),
                confirmation(Kind::PUnsubscribe, "", 0),
            ],
            "{protocol:?}"
        );

        // Subscribing to nothing is refused before anything is sent.
        let errors_before = error_replies(&c).await;
        for (name, err) in [
            ("SUBSCRIBE", sub.subscribe::<&str>([]).await.unwrap_err()),
            ("PSUBSCRIBE", sub.psubscribe::<&str>([]).await.unwrap_err()),
            ("SSUBSCRIBE", sub.ssubscribe::<&str>([]).await.unwrap_err()),
        ] {
            assert!(err.is_invalid_argument(), "{protocol:?} {name}: {err}");
            assert_eq!(err.command(), Some(name), "{protocol:?}: {err}");
            assert!(err.to_string().contains(name), "{protocol:?}: {err}");
        }
        // Sent, the server would have answered each with an arity error; and that
        // error would have been taken for the reply of the next call.
        assert_eq!(error_replies(&c).await, errors_before, "{protocol:?}");
        sub.subscribe(["u4"]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::Subscribe, "u4", 1),
            "{protocol:?}"
        );

        if has_sharded(&server) {
            sub.ssubscribe(["s1", "s2"]).await.unwrap();
            sub.sunsubscribe(["s1"]).await.unwrap();
            assert_eq!(c.spublish("s1", "gone").await.unwrap(), 0);
            assert_eq!(c.spublish("s2", "still").await.unwrap(), 1);
            sub.sunsubscribe::<&str>([]).await.unwrap();
            assert_eq!(shardnumsub(&c, "s2").await.unwrap(), 0);
            sub.sunsubscribe::<&str>([]).await.unwrap();
            let mut got = Vec::new();
            for _ in 0..6 {
                got.push(shape(&next(&mut sub).await));
            }
            // Shard subscriptions are counted apart from the others (u4).
            assert_eq!(
                got,
                [
                    confirmation(Kind::SSubscribe, "s1", 1),
                    confirmation(Kind::SSubscribe, "s2", 2),
                    confirmation(Kind::SUnsubscribe, "s1", 1),
                    message(Kind::SMessage, "s2", None, "still"),
                    confirmation(Kind::SUnsubscribe, "s2", 0),
                    confirmation(Kind::SUnsubscribe, "", 0),
                ],
                "{protocol:?}"
            );
        }
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::Unsubscribe, "u4", 0)
        );
    }
}

/// The server's count of error replies it sent (`INFO stats` `total_error_replies`).
async fn error_replies(c: &Client) -> u64 {
    let info = c.info().section(["stats"]).await.unwrap();
    let info = String::from_utf8_lossy(&info);
    info.lines()
        .find_map(|l| l.strip_prefix("total_error_replies:"))
        .unwrap_or_else(|| panic!("no total_error_replies in {info}"))
        .trim()
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// 4. Sharded pub/sub on a standalone server.

#[tokio::test]
async fn sharded_pubsub_on_a_standalone_server() {
    let server = Server::start();
    if !has_sharded(&server) {
        return;
    }
    for protocol in PROTOCOLS {
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().await.unwrap();
        sub.ssubscribe(["orders"]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::SSubscribe, "orders", 1),
            "{protocol:?}"
        );
        // A plain PUBLISH does not reach a shard subscription.
        assert_eq!(c.publish("orders", "plain").await.unwrap(), 0);
        assert_eq!(c.spublish("orders", "first").await.unwrap(), 1);
        assert_eq!(c.spublish("orders", "second").await.unwrap(), 1);
        for payload in ["first", "second"] {
            assert_eq!(
                shape(&next(&mut sub).await),
                message(Kind::SMessage, "orders", None, payload),
                "{protocol:?}"
            );
        }
        sub.sunsubscribe(["orders"]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::SUnsubscribe, "orders", 0)
        );
        assert_eq!(c.spublish("orders", "late").await.unwrap(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// 5. A server restart mid-subscription.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reconnects_and_renews_every_subscription() {
    let mut server = Server::start();
    let sharded = has_sharded(&server);
    for protocol in PROTOCOLS {
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().await.unwrap();
        sub.subscribe(["news"]).await.unwrap();
        sub.psubscribe(["user:*"]).await.unwrap();
        let mut expected = vec![
            confirmation(Kind::Subscribe, "news", 1),
            confirmation(Kind::PSubscribe, "user:*", 2),
        ];
        if sharded {
            sub.ssubscribe(["shard"]).await.unwrap();
            expected.push(confirmation(Kind::SSubscribe, "shard", 1));
        }
        for want in &expected {
            assert_eq!(&shape(&next(&mut sub).await), want, "{protocol:?}");
        }

        // The harness's restart blocks (SIGTERM, wait, start, wait until ready).
        tokio::task::block_in_place(|| server.restart());
        // Whatever would have been published in between is lost: pub/sub keeps
        // nothing, neither the server (it was down) nor the subscriber.
        assert_eq!(
            shape(&next(&mut sub).await),
            (Kind::Reconnected, Bytes::new(), None, Bytes::new(), None),
            "{protocol:?}"
        );
        // The renewals are on their way; the server counts them once it ran them.
        await_value("NUMSUB news", 1, || numsub(&c, "news")).await;
        await_value("NUMPAT", 1, || c.pubsub_numpat()).await;
        if sharded {
            await_value("SHARDNUMSUB shard", 1, || shardnumsub(&c, "shard")).await;
        }
        // Their confirmations come after the Reconnected message, in the order of
        // the renewal.
        for want in &expected {
            assert_eq!(&shape(&next(&mut sub).await), want, "{protocol:?}");
        }
        assert_eq!(c.publish("news", "back").await.unwrap(), 1);
        assert_eq!(c.publish("user:7", "online").await.unwrap(), 1);
        let mut messages = vec![
            message(Kind::Message, "news", None, "back"),
            message(Kind::PMessage, "user:7", Some("user:*"), "online"),
        ];
        if sharded {
            assert_eq!(c.spublish("shard", "again").await.unwrap(), 1);
            messages.push(message(Kind::SMessage, "shard", None, "again"));
        }
        for want in &messages {
            assert_eq!(&shape(&next(&mut sub).await), want, "{protocol:?}");
        }
        assert_eq!(sub.dropped(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// 6. Subscribing while the server is down.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_while_the_server_is_down_fails_fast() {
    let mut server = Server::start();
    for protocol in PROTOCOLS {
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().ignore_subscribe_messages().await.unwrap();
        sub.subscribe(["kept"]).await.unwrap();
        server.kill();
        // Twice: the first call may meet the connection before the subscriber saw
        // it closed, the second one meets a subscriber that is reconnecting.
        for attempt in 0..2 {
            let started = Instant::now();
            let err = tokio::time::timeout(Duration::from_secs(5), sub.subscribe(["lost"]))
                .await
                .expect("subscribe while the server is down does not hang")
                .unwrap_err();
            assert!(err.is_io(), "{protocol:?} attempt {attempt}: {err}");
            assert_eq!(err.command(), Some("SUBSCRIBE"), "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{protocol:?} attempt {attempt}: took {:?}",
                started.elapsed()
            );
        }
        // A new subscriber cannot connect either.
        let err = tokio::time::timeout(Duration::from_secs(5), c.subscriber().into_future())
            .await
            .expect("connecting a subscriber while the server is down does not hang")
            .unwrap_err();
        assert!(err.is_io(), "{protocol:?}: {err}");
        tokio::task::block_in_place(|| server.restart());
        assert_eq!(next(&mut sub).await.kind, Kind::Reconnected, "{protocol:?}");
        // Only what the server had confirmed is renewed.
        await_value("NUMSUB kept", 1, || numsub(&c, "kept")).await;
        assert_eq!(numsub(&c, "lost").await.unwrap(), 0);
        assert_eq!(c.publish("kept", "after").await.unwrap(), 1);
        assert_eq!(
            shape(&next(&mut sub).await),
            message(Kind::Message, "kept", None, "after")
        );
    }
}

// ---------------------------------------------------------------------------------------
// 7. PUBSUB introspection, typed.

#[tokio::test]
async fn pubsub_introspection_is_typed() {
    for protocol in PROTOCOLS {
        // A server per protocol: the counts are server-wide.
        let server = Server::start();
        let sharded = has_sharded(&server);
        let c = protocols::client(&server, protocol).await;
        assert_eq!(c.pubsub_channels().await.unwrap(), Vec::<Bytes>::new());
        assert_eq!(c.pubsub_numpat().await.unwrap(), 0);
        let one = c.subscriber().await.unwrap();
        let two = c.subscriber().await.unwrap();
        one.subscribe(["intro-a", "intro-b"]).await.unwrap();
        one.psubscribe(["intro-*", "other.*"]).await.unwrap();
        two.subscribe(["intro-a"]).await.unwrap();
        // The same pattern again: NUMPAT counts unique patterns.
        two.psubscribe(["intro-*"]).await.unwrap();
        if sharded {
            one.ssubscribe(["intro-s", "intro-t"]).await.unwrap();
            two.ssubscribe(["intro-s"]).await.unwrap();
        }

        let mut channels: Vec<Bytes> = c.pubsub_channels().await.unwrap();
        channels.sort();
        assert_eq!(channels, [b("intro-a"), b("intro-b")], "{protocol:?}");
        let mut channels = c.pubsub_channels().pattern("intro-?").await.unwrap();
        channels.sort();
        assert_eq!(channels, [b("intro-a"), b("intro-b")], "{protocol:?}");
        assert_eq!(
            c.pubsub_channels().pattern("*-b").await.unwrap(),
            [b("intro-b")]
        );
        assert_eq!(
            c.pubsub_channels().pattern("nothing*").await.unwrap(),
            Vec::<Bytes>::new()
        );
        // Pairs, in the order asked, with 0 for a channel nobody listens to.
        let counts: Vec<(Bytes, i64)> = c
            .pubsub_numsub()
            .channel(["intro-a", "intro-b", "intro-none"])
            .await
            .unwrap();
        assert_eq!(
            counts,
            [(b("intro-a"), 2), (b("intro-b"), 1), (b("intro-none"), 0)],
            "{protocol:?}"
        );
        assert_eq!(c.pubsub_numsub().await.unwrap(), Vec::<(Bytes, i64)>::new());
        let numpat: i64 = c.pubsub_numpat().await.unwrap();
        assert_eq!(numpat, 2, "{protocol:?}");
        if sharded {
            let mut shard: Vec<Bytes> = c.pubsub_shardchannels().await.unwrap();
            shard.sort();
            assert_eq!(shard, [b("intro-s"), b("intro-t")], "{protocol:?}");
            assert_eq!(
                c.pubsub_shardchannels().pattern("*-t").await.unwrap(),
                [b("intro-t")]
            );
            let shardnumsub: Vec<(Bytes, i64)> = c
                .pubsub_shardnumsub()
                .shardchannel(["intro-s", "intro-t", "intro-a"])
                .await
                .unwrap();
            // Plain subscriptions (intro-a) are not shard subscriptions.
            assert_eq!(
                shardnumsub,
                [(b("intro-s"), 2), (b("intro-t"), 1), (b("intro-a"), 0)],
                "{protocol:?}"
            );
        }

        // Dropping a subscriber closes its connection: the counts go down.
        drop(two);
        await_value("NUMSUB intro-a", 1, || numsub(&c, "intro-a")).await;
        if sharded {
            await_value("SHARDNUMSUB intro-s", 1, || shardnumsub(&c, "intro-s")).await;
        }
        assert_eq!(c.pubsub_numpat().await.unwrap(), 2);
        one.punsubscribe(["other.*"]).await.unwrap();
        assert_eq!(c.pubsub_numpat().await.unwrap(), 1);
    }
}

// ---------------------------------------------------------------------------------------
// Found while writing these tests, and fixed.

/// Under `Overflow::Backpressure` with a full queue, a `subscribe` cannot wait for
/// its confirmation (it is behind messages no one can read while the call borrows
/// the subscriber): it is sent and returns at once. It once never returned.
#[tokio::test]
async fn subscribe_while_the_backpressure_queue_is_full_does_not_hang() {
    let server = Server::start();
    for protocol in PROTOCOLS {
        let c = protocols::client(&server, protocol).await;
        let sub = c
            .subscriber()
            .capacity(2)
            .ignore_subscribe_messages()
            .await
            .unwrap();
        sub.subscribe(["busy"]).await.unwrap();
        for i in 0..3 {
            assert_eq!(c.publish("busy", format!("{i}")).await.unwrap(), 1);
        }
        let start = Instant::now();
        while sub.queued() < 2 {
            assert!(start.elapsed() < LIMIT, "the queue never filled");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The consumer, before it reads on, subscribes to one more channel.
        let result = tokio::time::timeout(Duration::from_secs(5), sub.subscribe(["more"])).await;
        assert!(
            matches!(result, Ok(Ok(()))),
            "{protocol:?}: subscribe with a full queue: {result:?}"
        );
        // The queued messages come first, in order; then the new subscription works.
        let mut sub = sub;
        for i in 0..3 {
            let m = sub.get_message(LIMIT).await.expect("a queued message");
            assert_eq!(m.payload, Bytes::from(format!("{i}")), "{protocol:?}");
        }
        let start = Instant::now();
        while c.publish("more", "x").await.unwrap() != 1 {
            assert!(
                start.elapsed() < LIMIT,
                "the new subscription never took effect"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let m = sub.get_message(LIMIT).await.expect("the message on `more`");
        assert_eq!(
            (m.channel, m.payload),
            (Bytes::from("more"), Bytes::from("x"))
        );
    }
}

/// The client's `request_timeout` bounds a subscriber's wait for a confirmation as it
/// bounds every command's wait for its reply: with the server frozen (SIGSTOP), both
/// `GET` and `subscribe` time out (`subscribe` once waited forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_honours_the_request_timeout() {
    let mut server = Server::start();
    for protocol in PROTOCOLS {
        let c = Client::builder()
            .url(&server.url())
            .protocol(protocol)
            .request_timeout(Some(Duration::from_millis(500)))
            .connect()
            .await
            .unwrap();
        let sub = c.subscriber().await.unwrap();
        server.pause();
        let get = tokio::time::timeout(Duration::from_secs(3), c.get("k").into_future()).await;
        let subscribe = tokio::time::timeout(Duration::from_secs(3), sub.subscribe(["x"])).await;
        server.resume();
        assert!(
            matches!(&get, Ok(Err(e)) if e.is_timeout()),
            "{protocol:?}: GET {get:?}"
        );
        assert!(
            matches!(&subscribe, Ok(Err(e)) if e.is_timeout()),
            "{protocol:?}: SUBSCRIBE {subscribe:?}"
        );
    }
}
