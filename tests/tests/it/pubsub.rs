//! Pub/sub against a real server, with a subscriber on a connection of its own (RESP2
//! and RESP3) and on the client's shared RESP3 connection (each test runs in every
//! [`Mode`]): the message sequences of the redis-py / coredis handbook examples,
//! handlers, confirmations, unsubscribing, sharded pub/sub, a server restart and a
//! server that is down, and the typed `PUBSUB` introspection commands. The slow
//! consumer is in `pubsub_slow_consumer.rs`, what only sharing has in
//! `pubsub_shared.rs`.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pubsub::{Kind, Message, Overflow, Subscriber, SubscriberBuilder};
use respec::{Client, Commands};
use respec_tests::pubsub::{
    await_value, b, confirmation, has_sharded, message, next, numsub, shape, shardnumsub,
    subscribed_connections, subscribed_ids, LIMIT,
};
use respec_tests::{protocols, Server};
use std::future::IntoFuture;
use std::time::{Duration, Instant};

#[tokio::test]
async fn handbook_sequence_subscribe_publish_unsubscribe() {
    let server = Server::start();
    for mode in MODES {
        let c = mode.client(&server).await;
        let mut sub = mode.subscriber(&c, |b| b).await;
        assert!(!sub.is_subscribed(), "{mode:?}");
        sub.subscribe(["my-first-channel", "my-second-channel"])
            .await
            .unwrap();
        sub.psubscribe(["my-*"]).await.unwrap();
        // What the server confirmed, as redis-py's `channels` and `patterns` show it.
        assert!(sub.is_subscribed(), "{mode:?}");
        assert_eq!(
            (sub.channels(), sub.patterns(), sub.shard_channels()),
            (
                vec![b("my-first-channel"), b("my-second-channel")],
                vec![b("my-*")],
                vec![]
            ),
            "{mode:?}"
        );
        // On the shared connection too: one connection with the channel and the
        // pattern gets the message twice, and the server counts both.
        assert_eq!(
            c.publish("my-first-channel", "some data").await.unwrap(),
            2,
            "{mode:?}"
        );
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(
            (sub.channels(), sub.patterns()),
            (vec![], vec![b("my-*")]),
            "{mode:?}"
        );
        sub.punsubscribe::<&str>([]).await.unwrap();
        assert!(!sub.is_subscribed(), "{mode:?}");
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
            "{mode:?}"
        );
        let mut unsubs: Vec<_> = got[5..7].to_vec();
        unsubs.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(unsubs[0].0, unsub, "{mode:?}");
        assert_eq!(unsubs[1].0, unsub, "{mode:?}");
        assert_eq!(
            (unsubs[0].1.clone(), unsubs[1].1.clone()),
            (b("my-first-channel"), b("my-second-channel")),
            "{mode:?}"
        );
        let mut counts = vec![unsubs[0].4, unsubs[1].4];
        counts.sort();
        assert_eq!(counts, [Some(1), Some(2)], "{mode:?}");
        assert_eq!(
            got[7],
            (punsub, b("my-*"), None, e.clone(), Some(0)),
            "{mode:?}"
        );
        let extra = sub.get_message(Duration::from_millis(50)).await;
        assert!(extra.is_none(), "{mode:?}: {extra:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the tests below.

/// Where a test's subscriber lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A RESP2 client; the subscriber has a connection of its own.
    Resp2Dedicated,
    /// A RESP3 client; the subscriber has a connection of its own.
    Resp3Dedicated,
    /// A RESP3 client; the subscriber is on the client's shared connection.
    Resp3Shared,
}

const MODES: [Mode; 3] = [
    Mode::Resp2Dedicated,
    Mode::Resp3Dedicated,
    Mode::Resp3Shared,
];

impl Mode {
    fn protocol(self) -> Protocol {
        match self {
            Mode::Resp2Dedicated => Protocol::Resp2,
            Mode::Resp3Dedicated | Mode::Resp3Shared => Protocol::Resp3,
        }
    }

    fn is_shared(self) -> bool {
        self == Mode::Resp3Shared
    }

    /// A client of `server` for this mode.
    async fn client(self, server: &Server) -> Client {
        protocols::client(server, self.protocol()).await
    }

    /// A client of `server` for this mode whose request timeout is 500 ms.
    async fn client_with_timeout(self, server: &Server) -> Client {
        Client::builder()
            .url(&server.url())
            .protocol(self.protocol())
            .request_timeout(Some(Duration::from_millis(500)))
            .connect()
            .await
            .unwrap()
    }

    /// `c`'s subscriber builder for this mode (not awaited).
    fn builder(self, c: &Client) -> SubscriberBuilder<'_> {
        let builder = c.subscriber();
        if self.is_shared() {
            builder.on_shared_connection()
        } else {
            builder
        }
    }

    /// A subscriber of `c` for this mode, with the options `options` sets; asserts it
    /// is shared exactly when the mode is.
    async fn subscriber<'c>(
        self,
        c: &'c Client,
        options: impl FnOnce(SubscriberBuilder<'c>) -> SubscriberBuilder<'c>,
    ) -> Subscriber {
        let sub = options(self.builder(c))
            .await
            .unwrap_or_else(|e| panic!("{self:?}: a subscriber: {e}"));
        assert_eq!(sub.is_shared(), self.is_shared(), "{self:?}: {sub:?}");
        sub
    }
}

/// Asserts which connection is subscribed: `c`'s own shared connection in shared
/// mode, exactly one other (the subscriber's own) otherwise.
async fn assert_subscribed_connection(c: &Client, mode: Mode) {
    let own = c.client_id().await.unwrap();
    let ids = subscribed_ids(c).await.unwrap();
    assert_eq!(ids.len(), 1, "{mode:?}: subscribed connections {ids:?}");
    if mode.is_shared() {
        assert_eq!(
            ids,
            [own],
            "{mode:?}: the client's own connection is subscribed"
        );
    } else {
        assert_ne!(
            ids,
            [own],
            "{mode:?}: the client's own connection is subscribed"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 1. `run`: a handler on a task of its own.

/// Runs `sub` with a handler that forwards every message to the returned channel.
fn run_into_channel(
    sub: respec::pubsub::Subscriber,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::mpsc::UnboundedReceiver<Message>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // The handler is FnMut: each call gets its own sender.
    let task = sub.run(move |msg| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(msg);
        }
    });
    (task, rx)
}

/// What the handler forwarded next (`None` once it is gone), within [`LIMIT`].
async fn handled(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Message>) -> Option<Message> {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("the handler got a message within the limit")
}

#[tokio::test]
async fn run_handler_gets_messages_in_order_and_abort_closes_the_connection() {
    let server = Server::start();
    for mode in MODES {
        let c = mode.client(&server).await;
        let sub = mode.subscriber(&c, |b| b).await;
        sub.subscribe(["jobs"]).await.unwrap();
        let (handle, mut rx) = run_into_channel(sub);
        let mut recv = async || handled(&mut rx).await;
        assert_eq!(
            shape(&recv().await.unwrap()),
            confirmation(Kind::Subscribe, "jobs", 1),
            "{mode:?}"
        );
        // Published after `run`: one by one, then 1,000 in one pipeline. (In shared
        // mode the messages come back on the connection that publishes them, before
        // each PUBLISH's reply; the queue of 1,024 holds them all if need be.)
        for i in 0..10 {
            assert_eq!(
                c.publish("jobs", format!("job-{i}")).await.unwrap(),
                1,
                "{mode:?}"
            );
        }
        let receivers = c
            .batch((10..1010).map(|i| respec::cmd::publish("jobs", format!("job-{i}"))))
            .await
            .unwrap();
        assert_eq!(receivers, vec![1; 1000], "{mode:?}");
        for i in 0..1010 {
            assert_eq!(
                shape(&recv().await.unwrap()),
                message(Kind::Message, "jobs", None, &format!("job-{i}")),
                "{mode:?}"
            );
        }
        // One subscribed connection: the subscriber's own, or in shared mode the
        // client's.
        assert_subscribed_connection(&c, mode).await;
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled(), "{mode:?}");
        // The handler (and its sender) went with the task.
        assert!(recv().await.is_none(), "{mode:?}");
        // The subscriber went too, and with it its connection, or in shared mode
        // its subscription (the drop unsubscribes what no one else holds): the
        // client's connection is no longer subscribed.
        await_value(&format!("{mode:?}: NUMSUB jobs after abort"), 0, || {
            numsub(&c, "jobs")
        })
        .await;
        await_value(
            &format!("{mode:?}: subscribed connections after abort"),
            0,
            || subscribed_connections(&c),
        )
        .await;
        // The client works on.
        assert_eq!(c.publish("jobs", "late").await.unwrap(), 0, "{mode:?}");
    }
}

/// A handle subscribes and unsubscribes while `run` owns the subscriber (redis-py's
/// `p.subscribe(...)` beside `run_in_thread`), and fails once the subscriber is gone.
#[tokio::test]
async fn a_handle_changes_subscriptions_while_run_owns_the_subscriber() {
    let server = Server::start();
    for mode in MODES {
        let c = mode.client(&server).await;
        let sub = mode.subscriber(&c, |b| b.ignore_subscribe_messages()).await;
        sub.subscribe(["first"]).await.unwrap();
        let handle = sub.handle();
        let (task, mut rx) = run_into_channel(sub);
        let mut recv = async || handled(&mut rx).await.expect("the handler is alive");
        assert_eq!(c.publish("first", "1").await.unwrap(), 1, "{mode:?}");
        assert_eq!(
            shape(&recv().await),
            message(Kind::Message, "first", None, "1")
        );
        handle.subscribe(["second"]).await.unwrap();
        handle.psubscribe(["th*"]).await.unwrap();
        assert_eq!(
            (handle.channels(), handle.patterns()),
            (vec![b("first"), b("second")], vec![b("th*")]),
            "{mode:?}"
        );
        handle.unsubscribe(["first"]).await.unwrap();
        assert_eq!(c.publish("first", "gone").await.unwrap(), 0, "{mode:?}");
        assert_eq!(c.publish("second", "2").await.unwrap(), 1, "{mode:?}");
        assert_eq!(c.publish("third", "3").await.unwrap(), 1, "{mode:?}");
        assert_eq!(
            [shape(&recv().await), shape(&recv().await)],
            [
                message(Kind::Message, "second", None, "2"),
                message(Kind::PMessage, "third", Some("th*"), "3"),
            ],
            "{mode:?}"
        );
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        // The subscriber went with its task: the handle's calls fail, and nothing
        // stays subscribed.
        let err = handle.subscribe(["late"]).await.unwrap_err();
        assert!(err.is_closed(), "{mode:?}: {err}");
        assert_eq!(err.command(), Some("SUBSCRIBE"), "{mode:?}: {err}");
        await_value("NUMSUB second after abort", 0, || numsub(&c, "second")).await;
        await_value("NUMPAT after abort", 0, || c.pubsub_numpat()).await;
    }
}

// ---------------------------------------------------------------------------------------
// 2. ignore_subscribe_messages.

#[tokio::test]
async fn ignore_subscribe_messages_delivers_only_messages() {
    for mode in MODES {
        // A server per mode: NUMPAT counts every client's patterns.
        let server = Server::start();
        let c = mode.client(&server).await;
        let mut sub = mode.subscriber(&c, |b| b.ignore_subscribe_messages()).await;
        sub.subscribe(["quiet-a", "quiet-b"]).await.unwrap();
        // `subscribe` returned after the confirmation: the server already counts the
        // subscriptions (asked without waiting: on another connection, or in shared
        // mode on the subscribed one).
        assert_eq!(
            c.pubsub_numsub()
                .channel(["quiet-a", "quiet-b"])
                .await
                .unwrap(),
            vec![(b("quiet-a"), 1), (b("quiet-b"), 1)],
            "{mode:?}"
        );
        sub.psubscribe(["quiet-*"]).await.unwrap();
        assert_eq!(c.pubsub_numpat().await.unwrap(), 1, "{mode:?}");
        assert_eq!(c.publish("quiet-a", "one").await.unwrap(), 2, "{mode:?}");
        sub.unsubscribe(["quiet-a"]).await.unwrap();
        assert_eq!(numsub(&c, "quiet-a").await.unwrap(), 0, "{mode:?}");
        sub.punsubscribe::<&str>([]).await.unwrap();
        assert_eq!(c.pubsub_numpat().await.unwrap(), 0, "{mode:?}");
        assert_eq!(c.publish("quiet-b", "two").await.unwrap(), 1, "{mode:?}");
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(numsub(&c, "quiet-b").await.unwrap(), 0, "{mode:?}");
        // Unsubscribing from all with nothing subscribed still returns.
        tokio::time::timeout(LIMIT, sub.unsubscribe::<&str>([]))
            .await
            .unwrap_or_else(|_| panic!("{mode:?}: unsubscribe-all of nothing returns"))
            .unwrap();
        sub.subscribe(["quiet-c"]).await.unwrap();
        assert_eq!(c.publish("quiet-c", "three").await.unwrap(), 1, "{mode:?}");
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
            "{mode:?}"
        );
        assert_eq!(sub.queued(), 0, "{mode:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 3. Unsubscribing, and subscribing to nothing.

#[tokio::test]
async fn unsubscribe_specific_all_and_nothing() {
    let server = Server::start();
    for mode in MODES {
        let c = mode.client(&server).await;
        let mut sub = mode.subscriber(&c, |b| b).await;
        sub.subscribe(["u1", "u2", "u3"]).await.unwrap();
        sub.unsubscribe(["u1", "u3"]).await.unwrap();
        assert_eq!(c.publish("u1", "gone").await.unwrap(), 0, "{mode:?}");
        assert_eq!(c.publish("u3", "gone").await.unwrap(), 0, "{mode:?}");
        assert_eq!(c.publish("u2", "still").await.unwrap(), 1, "{mode:?}");
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(numsub(&c, "u2").await.unwrap(), 0, "{mode:?}");
        // Nothing is subscribed: the server still confirms, with no channel and 0
        // (a shared subscriber gets the same confirmation, made up by the client).
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
            "{mode:?}"
        );

        // Subscribing to nothing is refused before anything is sent.
        let errors_before = error_replies(&c).await;
        for (name, err) in [
            ("SUBSCRIBE", sub.subscribe::<&str>([]).await.unwrap_err()),
            ("PSUBSCRIBE", sub.psubscribe::<&str>([]).await.unwrap_err()),
            ("SSUBSCRIBE", sub.ssubscribe::<&str>([]).await.unwrap_err()),
        ] {
            assert!(err.is_invalid_argument(), "{mode:?} {name}: {err}");
            assert_eq!(err.command(), Some(name), "{mode:?}: {err}");
            assert!(err.to_string().contains(name), "{mode:?}: {err}");
        }
        // Sent, the server would have answered each with an arity error; and that
        // error would have been taken for the reply of the next call.
        assert_eq!(error_replies(&c).await, errors_before, "{mode:?}");
        sub.subscribe(["u4"]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::Subscribe, "u4", 1),
            "{mode:?}"
        );

        if has_sharded(&server) {
            sub.ssubscribe(["s1", "s2"]).await.unwrap();
            sub.sunsubscribe(["s1"]).await.unwrap();
            assert_eq!(c.spublish("s1", "gone").await.unwrap(), 0, "{mode:?}");
            assert_eq!(c.spublish("s2", "still").await.unwrap(), 1, "{mode:?}");
            sub.sunsubscribe::<&str>([]).await.unwrap();
            assert_eq!(shardnumsub(&c, "s2").await.unwrap(), 0, "{mode:?}");
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
                "{mode:?}"
            );
        }
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::Unsubscribe, "u4", 0),
            "{mode:?}"
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
    for mode in MODES {
        let c = mode.client(&server).await;
        let mut sub = mode.subscriber(&c, |b| b).await;
        sub.ssubscribe(["orders"]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::SSubscribe, "orders", 1),
            "{mode:?}"
        );
        // A plain PUBLISH does not reach a shard subscription.
        assert_eq!(c.publish("orders", "plain").await.unwrap(), 0, "{mode:?}");
        assert_eq!(c.spublish("orders", "first").await.unwrap(), 1, "{mode:?}");
        assert_eq!(c.spublish("orders", "second").await.unwrap(), 1, "{mode:?}");
        for payload in ["first", "second"] {
            assert_eq!(
                shape(&next(&mut sub).await),
                message(Kind::SMessage, "orders", None, payload),
                "{mode:?}"
            );
        }
        sub.sunsubscribe(["orders"]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::SUnsubscribe, "orders", 0),
            "{mode:?}"
        );
        assert_eq!(c.spublish("orders", "late").await.unwrap(), 0, "{mode:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 5. A server restart mid-subscription.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reconnects_and_renews_every_subscription() {
    let mut server = Server::start();
    let sharded = has_sharded(&server);
    for mode in MODES {
        let c = mode.client(&server).await;
        let mut sub = mode.subscriber(&c, |b| b).await;
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
            assert_eq!(&shape(&next(&mut sub).await), want, "{mode:?}");
        }

        // The harness's restart blocks (SIGTERM, wait, start, wait until ready). In
        // shared mode it is the client's own connection that is lost and made again.
        tokio::task::block_in_place(|| server.restart());
        // Whatever would have been published in between is lost: pub/sub keeps
        // nothing, neither the server (it was down) nor the subscriber.
        assert_eq!(
            shape(&next(&mut sub).await),
            (Kind::Reconnected, Bytes::new(), None, Bytes::new(), None),
            "{mode:?}"
        );
        // The renewals are on their way; the server counts them once it ran them.
        let what = |w: &str| format!("{mode:?}: {w}");
        await_value(&what("NUMSUB news"), 1, || numsub(&c, "news")).await;
        await_value(&what("NUMPAT"), 1, || c.pubsub_numpat()).await;
        if sharded {
            await_value(&what("SHARDNUMSUB shard"), 1, || shardnumsub(&c, "shard")).await;
        }
        // Their confirmations come after the Reconnected message, in the order of
        // the renewal (channels, patterns, shard channels).
        for want in &expected {
            assert_eq!(&shape(&next(&mut sub).await), want, "{mode:?}");
        }
        assert_eq!(c.publish("news", "back").await.unwrap(), 1, "{mode:?}");
        assert_eq!(c.publish("user:7", "online").await.unwrap(), 1, "{mode:?}");
        let mut messages = vec![
            message(Kind::Message, "news", None, "back"),
            message(Kind::PMessage, "user:7", Some("user:*"), "online"),
        ];
        if sharded {
            assert_eq!(c.spublish("shard", "again").await.unwrap(), 1, "{mode:?}");
            messages.push(message(Kind::SMessage, "shard", None, "again"));
        }
        for want in &messages {
            assert_eq!(&shape(&next(&mut sub).await), want, "{mode:?}");
        }
        assert_eq!(sub.dropped(), 0, "{mode:?}");
        // The renewal is one subscription per channel, on the one connection.
        assert_subscribed_connection(&c, mode).await;
    }
}

// ---------------------------------------------------------------------------------------
// 6. Subscribing while the server is down.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_while_the_server_is_down_fails_fast() {
    let mut server = Server::start();
    for mode in MODES {
        let c = mode.client(&server).await;
        let mut sub = mode.subscriber(&c, |b| b.ignore_subscribe_messages()).await;
        sub.subscribe(["kept"]).await.unwrap();
        server.kill();
        // Twice: the first call may meet the connection before the subscriber saw
        // it closed, the second one meets a subscriber that is reconnecting.
        for attempt in 0..2 {
            let started = Instant::now();
            let err = tokio::time::timeout(Duration::from_secs(5), sub.subscribe(["lost"]))
                .await
                .unwrap_or_else(|_| {
                    panic!("{mode:?}: subscribe while the server is down does not hang")
                })
                .unwrap_err();
            assert!(err.is_io(), "{mode:?} attempt {attempt}: {err}");
            assert_eq!(err.command(), Some("SUBSCRIBE"), "{mode:?}: {err}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{mode:?} attempt {attempt}: took {:?}",
                started.elapsed()
            );
        }
        // A new subscriber cannot connect either (in shared mode: cannot attach to
        // the client's connection, which is down).
        let err = tokio::time::timeout(Duration::from_secs(5), mode.builder(&c).into_future())
            .await
            .unwrap_or_else(|_| {
                panic!("{mode:?}: connecting a subscriber while the server is down hangs")
            })
            .unwrap_err();
        assert!(err.is_io(), "{mode:?}: {err}");
        tokio::task::block_in_place(|| server.restart());
        assert_eq!(next(&mut sub).await.kind, Kind::Reconnected, "{mode:?}");
        // Only what the server had confirmed is renewed.
        await_value(&format!("{mode:?}: NUMSUB kept"), 1, || numsub(&c, "kept")).await;
        assert_eq!(numsub(&c, "lost").await.unwrap(), 0, "{mode:?}");
        assert_eq!(c.publish("kept", "after").await.unwrap(), 1, "{mode:?}");
        assert_eq!(
            shape(&next(&mut sub).await),
            message(Kind::Message, "kept", None, "after"),
            "{mode:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 7. PUBSUB introspection, typed.

#[tokio::test]
async fn pubsub_introspection_is_typed() {
    for mode in MODES {
        // A server per mode: the counts are server-wide.
        let server = Server::start();
        let sharded = has_sharded(&server);
        let c = mode.client(&server).await;
        assert_eq!(c.pubsub_channels().await.unwrap(), Vec::<Bytes>::new());
        assert_eq!(c.pubsub_numpat().await.unwrap(), 0);
        let one = mode.subscriber(&c, |b| b).await;
        let two = mode.subscriber(&c, |b| b).await;
        one.subscribe(["intro-a", "intro-b"]).await.unwrap();
        one.psubscribe(["intro-*", "other.*"]).await.unwrap();
        two.subscribe(["intro-a"]).await.unwrap();
        // The same pattern again: NUMPAT counts unique patterns.
        two.psubscribe(["intro-*"]).await.unwrap();
        if sharded {
            one.ssubscribe(["intro-s", "intro-t"]).await.unwrap();
            two.ssubscribe(["intro-s"]).await.unwrap();
        }
        // Two subscribed connections, one per subscriber; in shared mode one: the
        // client's own, which both subscribers share.
        let subscribed = subscribed_ids(&c).await.unwrap();
        if mode.is_shared() {
            assert_eq!(subscribed, [c.client_id().await.unwrap()], "{mode:?}");
        } else {
            assert_eq!(subscribed.len(), 2, "{mode:?}: {subscribed:?}");
        }
        // The server counts connections: in shared mode the two subscribers of
        // `intro-a` (and of `intro-s`) are one connection, so one subscription.
        let both = if mode.is_shared() { 1 } else { 2 };

        let mut channels: Vec<Bytes> = c.pubsub_channels().await.unwrap();
        channels.sort();
        assert_eq!(channels, [b("intro-a"), b("intro-b")], "{mode:?}");
        let mut channels = c.pubsub_channels().pattern("intro-?").await.unwrap();
        channels.sort();
        assert_eq!(channels, [b("intro-a"), b("intro-b")], "{mode:?}");
        assert_eq!(
            c.pubsub_channels().pattern("*-b").await.unwrap(),
            [b("intro-b")],
            "{mode:?}"
        );
        assert_eq!(
            c.pubsub_channels().pattern("nothing*").await.unwrap(),
            Vec::<Bytes>::new(),
            "{mode:?}"
        );
        // Pairs, in the order asked, with 0 for a channel nobody listens to.
        let counts: Vec<(Bytes, i64)> = c
            .pubsub_numsub()
            .channel(["intro-a", "intro-b", "intro-none"])
            .await
            .unwrap();
        assert_eq!(
            counts,
            [
                (b("intro-a"), both),
                (b("intro-b"), 1),
                (b("intro-none"), 0)
            ],
            "{mode:?}"
        );
        assert_eq!(c.pubsub_numsub().await.unwrap(), Vec::<(Bytes, i64)>::new());
        let numpat: i64 = c.pubsub_numpat().await.unwrap();
        assert_eq!(numpat, 2, "{mode:?}");
        if sharded {
            let mut shard: Vec<Bytes> = c.pubsub_shardchannels().await.unwrap();
            shard.sort();
            assert_eq!(shard, [b("intro-s"), b("intro-t")], "{mode:?}");
            assert_eq!(
                c.pubsub_shardchannels().pattern("*-t").await.unwrap(),
                [b("intro-t")],
                "{mode:?}"
            );
            let shardnumsub: Vec<(Bytes, i64)> = c
                .pubsub_shardnumsub()
                .shardchannel(["intro-s", "intro-t", "intro-a"])
                .await
                .unwrap();
            // Plain subscriptions (intro-a) are not shard subscriptions.
            assert_eq!(
                shardnumsub,
                [(b("intro-s"), both), (b("intro-t"), 1), (b("intro-a"), 0)],
                "{mode:?}"
            );
        }

        // Dropping a subscriber closes its connection: the counts go down. In shared
        // mode `one` still holds everything `two` had, so the server keeps it all.
        drop(two);
        let what = |w: &str| format!("{mode:?}: {w}");
        await_value(&what("NUMSUB intro-a"), 1, || numsub(&c, "intro-a")).await;
        if sharded {
            await_value(&what("SHARDNUMSUB intro-s"), 1, || {
                shardnumsub(&c, "intro-s")
            })
            .await;
        }
        assert_eq!(c.pubsub_numpat().await.unwrap(), 2, "{mode:?}");
        one.punsubscribe(["other.*"]).await.unwrap();
        assert_eq!(c.pubsub_numpat().await.unwrap(), 1, "{mode:?}");
        // `two` is gone for good: once `one` lets go of what they shared, nobody
        // holds it (in shared mode, `two` no longer keeps it subscribed).
        one.unsubscribe(["intro-a"]).await.unwrap();
        await_value(&what("NUMSUB intro-a after one let go"), 0, || {
            numsub(&c, "intro-a")
        })
        .await;
        one.punsubscribe(["intro-*"]).await.unwrap();
        await_value(&what("NUMPAT after one let go"), 0, || c.pubsub_numpat()).await;
        if sharded {
            one.sunsubscribe(["intro-s"]).await.unwrap();
            await_value(&what("SHARDNUMSUB intro-s after one let go"), 0, || {
                shardnumsub(&c, "intro-s")
            })
            .await;
        }
        assert_eq!(numsub(&c, "intro-b").await.unwrap(), 1, "{mode:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Found while writing these tests, and fixed.

/// Under `Overflow::Backpressure` with a full queue, a `subscribe` cannot wait for
/// its confirmation (it is behind messages no one can read while the call borrows
/// the subscriber): it is sent and returns at once. It once never returned.
///
/// On the shared connection backpressure is opt-in, and a full queue holds back
/// every reply on that connection: the messages are published by another client,
/// and a `GET` of the subscribing client waits until the consumer reads.
#[tokio::test]
async fn subscribe_while_the_backpressure_queue_is_full_does_not_hang() {
    let server = Server::start();
    for mode in MODES {
        let c = mode.client(&server).await;
        let publisher = protocols::client(&server, Protocol::Resp3).await;
        assert!(c.set("bp-key", format!("{mode:?}")).await.unwrap());
        let sub = mode
            .subscriber(&c, |b| {
                b.capacity(2)
                    .overflow(Overflow::Backpressure)
                    .ignore_subscribe_messages()
            })
            .await;
        sub.subscribe(["busy"]).await.unwrap();
        for i in 0..3 {
            assert_eq!(
                publisher.publish("busy", format!("{i}")).await.unwrap(),
                1,
                "{mode:?}"
            );
        }
        let start = Instant::now();
        while sub.queued() < 2 {
            assert!(start.elapsed() < LIMIT, "{mode:?}: the queue never filled");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The consumer, before it reads on, subscribes to one more channel.
        let result = tokio::time::timeout(Duration::from_secs(5), sub.subscribe(["more"])).await;
        assert!(
            matches!(result, Ok(Ok(()))),
            "{mode:?}: subscribe with a full queue: {result:?}"
        );
        // Shared: the client's connection is not read while the queue is full, so
        // its commands wait too; a dedicated subscriber's queue stalls nothing else.
        let mut get = Box::pin(c.get("bp-key").into_future());
        let early = tokio::time::timeout(Duration::from_millis(200), &mut get).await;
        if mode.is_shared() {
            assert!(
                early.is_err(),
                "{mode:?}: GET answered while the shared connection is stalled: {early:?}"
            );
        } else {
            assert!(
                matches!(&early, Ok(Ok(Some(_)))),
                "{mode:?}: GET beside a dedicated subscriber: {early:?}"
            );
        }
        // The queued messages come first, in order; then the new subscription works.
        let mut sub = sub;
        for i in 0..3 {
            let m = sub
                .get_message(LIMIT)
                .await
                .unwrap_or_else(|| panic!("{mode:?}: queued message {i}"));
            assert_eq!(m.payload, Bytes::from(format!("{i}")), "{mode:?}");
        }
        let value = match early {
            Ok(done) => done,
            Err(_) => tokio::time::timeout(LIMIT, get)
                .await
                .unwrap_or_else(|_| panic!("{mode:?}: GET once the consumer read on")),
        };
        assert_eq!(
            value.unwrap(),
            Some(Bytes::from(format!("{mode:?}"))),
            "{mode:?}"
        );
        let start = Instant::now();
        while publisher.publish("more", "x").await.unwrap() != 1 {
            assert!(
                start.elapsed() < LIMIT,
                "{mode:?}: the new subscription never took effect"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let m = sub
            .get_message(LIMIT)
            .await
            .unwrap_or_else(|| panic!("{mode:?}: the message on `more`"));
        assert_eq!(
            (m.channel, m.payload),
            (Bytes::from("more"), Bytes::from("x")),
            "{mode:?}"
        );
        assert_eq!(sub.dropped(), 0, "{mode:?}");
    }
}

/// The client's `request_timeout` bounds a subscriber's wait for a confirmation as it
/// bounds every command's wait for its reply: with the server frozen (SIGSTOP), both
/// `GET` and `subscribe` time out (`subscribe` once waited forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_honours_the_request_timeout() {
    let mut server = Server::start();
    for mode in MODES {
        let c = mode.client_with_timeout(&server).await;
        let sub = mode.subscriber(&c, |b| b).await;
        server.pause();
        let get = tokio::time::timeout(Duration::from_secs(3), c.get("k").into_future()).await;
        let subscribe = tokio::time::timeout(Duration::from_secs(3), sub.subscribe(["x"])).await;
        server.resume();
        assert!(
            matches!(&get, Ok(Err(e)) if e.is_timeout()),
            "{mode:?}: GET {get:?}"
        );
        assert!(
            matches!(&subscribe, Ok(Err(e)) if e.is_timeout()),
            "{mode:?}: SUBSCRIBE {subscribe:?}"
        );
    }
}

/// `ping` checks the subscriber's connection: it returns once the server answered,
/// with every message published before it already queued, and the answer is never
/// delivered as a message; with the server frozen it fails with the request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_checks_the_subscriber_connection() {
    let mut server = Server::start();
    let publisher = protocols::client(&server, Protocol::Resp3).await;
    for mode in MODES {
        let c = mode.client_with_timeout(&server).await;
        let mut sub = mode.subscriber(&c, |b| b.ignore_subscribe_messages()).await;
        sub.ping().await.unwrap();
        sub.subscribe(["news"]).await.unwrap();
        // The previous mode's subscriber has left (its connection's close reaches the
        // server in its own time).
        await_value("one subscriber of news", 1, || numsub(&publisher, "news")).await;
        for i in 0..3 {
            assert_eq!(publisher.publish("news", i).await.unwrap(), 1, "{mode:?}");
        }
        sub.handle().ping().await.unwrap();
        assert_eq!(sub.queued(), 3, "{mode:?}: queued before the answer");
        for i in 0..3 {
            let m = sub.next_message().await.unwrap();
            assert_eq!(
                (m.kind, m.payload_str().unwrap()),
                (Kind::Message, &*i.to_string())
            );
        }
        sub.ping().await.unwrap();
        assert_eq!(sub.queued(), 0, "{mode:?}: the answer is no message");

        server.pause();
        let frozen = tokio::time::timeout(Duration::from_secs(3), sub.ping()).await;
        server.resume();
        assert!(
            matches!(&frozen, Ok(Err(e)) if e.is_timeout()),
            "{mode:?}: {frozen:?}"
        );
        // The late answer does not confuse the next call.
        sub.ping().await.unwrap();
        assert_eq!(publisher.publish("news", "after").await.unwrap(), 1);
        let m = sub.next_message().await.unwrap();
        assert_eq!(m.payload_str().unwrap(), "after", "{mode:?}");
    }
}

/// The health check of a subscriber's own connection: while the server answers, its
/// PINGs keep the connection; once the server stops answering (frozen with SIGSTOP,
/// its sockets open, as a vanished host looks), the connection is taken for dead,
/// and after the server is back the subscriber has reconnected (`Reconnected`) and
/// gets messages again. Without the check it would wait on the old connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_notices_a_server_that_stopped_answering() {
    let mut server = Server::start();
    let publisher = protocols::client(&server, Protocol::Resp3).await;
    let every = Duration::from_millis(300);
    for mode in [Mode::Resp2Dedicated, Mode::Resp3Dedicated] {
        let c = mode.client(&server).await;
        let mut sub = mode
            .subscriber(&c, |b| {
                b.ignore_subscribe_messages()
                    .health_check_interval(Some(every))
            })
            .await;
        sub.subscribe(["news"]).await.unwrap();
        let pings = respec_tests::calls(&publisher, "ping").await;

        // Silence while the server answers: the probes keep the connection.
        await_value("two health-check PINGs", true, || async {
            Ok(respec_tests::calls(&publisher, "ping").await >= pings + 2)
        })
        .await;
        publisher.publish("news", "alive").await.unwrap();
        let m = next(&mut sub).await;
        assert_eq!(
            (m.kind, m.payload_str().unwrap()),
            (Kind::Message, "alive"),
            "{mode:?}"
        );

        // Time passing is the thing under test: a probe, then as long unanswered.
        server.pause();
        tokio::time::sleep(every * 4).await;
        server.resume();
        let m = next(&mut sub).await;
        assert_eq!(m.kind, Kind::Reconnected, "{mode:?}: {m:?}");
        // The renewal follows the event: wait until the server has it.
        await_value("the renewed subscription", 1, || numsub(&publisher, "news")).await;
        assert_eq!(publisher.publish("news", "back").await.unwrap(), 1);
        let m = next(&mut sub).await;
        assert_eq!(m.payload_str().unwrap(), "back", "{mode:?}");
    }
}
