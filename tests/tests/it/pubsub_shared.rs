//! Subscribers on the client's shared RESP3 connection
//! (`SubscriberBuilder::on_shared_connection`), what only sharing has: commands and
//! messages interleaved on the one connection, several subscribers of the same
//! channels and patterns, a subscription the server refuses (ACL `NOPERM`) in the
//! middle of other commands, the default overflow policy, and the fallback to a
//! connection of its own on RESP2. Everything a shared subscriber has in common with
//! a dedicated one (message sequences, restart, server down, timeouts) runs in
//! `pubsub.rs` under its `Mode::Resp3Shared`.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pubsub::{Kind, Overflow, Subscriber};
use respec::{cmd, Client, Commands, Value};
use respec_tests::pubsub::{
    await_value, b, confirmation, field, message, next, next_n, numsub, shape,
    subscribed_connections, LIMIT,
};
use respec_tests::{protocols, Server};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A client of `server` speaking `protocol`, named `name` (`CLIENT SETNAME` on each
/// of its connections).
async fn named_client(server: &Server, protocol: Protocol, name: &str) -> Client {
    Client::builder()
        .url(&server.url())
        .protocol(protocol)
        .client_name(name)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting {name} with {protocol:?}: {e}"))
}

/// A subscriber on `c`'s shared connection; asserts it is one.
async fn shared(c: &Client) -> Subscriber {
    let sub = c.subscriber().on_shared_connection().await.unwrap();
    assert!(
        sub.is_shared(),
        "a RESP3 client's subscriber is shared: {sub:?}"
    );
    sub
}

/// The `CLIENT LIST` lines of the connections named `name`.
async fn connections_named(c: &Client, name: &str) -> respec::Result<Vec<String>> {
    let list = c.client_list().await?;
    let field = format!("name={name}");
    Ok(String::from_utf8_lossy(&list)
        .lines()
        .filter(|line| line.split(' ').any(|f| f == field))
        .map(str::to_owned)
        .collect())
}

// ---------------------------------------------------------------------------------------
// 1. Commands and messages on one connection.

/// 1,000 messages published by another client reach a subscriber on the shared
/// connection, in order, while tasks of the subscribing client run SET/GET/INCR and
/// 100-command pipelines on that same connection until (at least) the publishing is
/// over: every reply is right, and the client has one connection in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_and_messages_interleave_on_the_one_connection() {
    const MESSAGES: usize = 1000;
    const TASKS: usize = 8;
    let server = Server::start();
    let c = named_client(&server, Protocol::Resp3, "shared-owner").await;
    let publisher = named_client(&server, Protocol::Resp3, "shared-publisher").await;
    let mut sub = shared(&c).await;
    sub.subscribe(["feed"]).await.unwrap();
    assert_eq!(
        shape(&next(&mut sub).await),
        confirmation(Kind::Subscribe, "feed", 1)
    );
    let published = Arc::new(AtomicBool::new(false));

    let consumer = tokio::spawn(async move {
        for i in 0..MESSAGES {
            assert_eq!(
                shape(&next(&mut sub).await),
                message(Kind::Message, "feed", None, &format!("m-{i}")),
                "message {i}"
            );
        }
        sub
    });
    let producer = {
        let published = published.clone();
        tokio::spawn(async move {
            for i in 0..MESSAGES {
                assert_eq!(
                    publisher.publish("feed", format!("m-{i}")).await.unwrap(),
                    1,
                    "PUBLISH {i}"
                );
            }
            published.store(true, Ordering::SeqCst);
            publisher
        })
    };
    // Single commands from several tasks: each its own keys and counter.
    let mut commands = Vec::new();
    for t in 0..TASKS {
        let c = c.clone();
        let published = published.clone();
        commands.push(tokio::spawn(async move {
            let mut i: i64 = 0;
            while i < 100 || !published.load(Ordering::SeqCst) {
                let key = format!("task-{t}-{}", i % 50);
                let value = format!("v-{t}-{i}");
                assert!(c.set(&key, &value).await.unwrap(), "task {t} SET {i}");
                assert_eq!(
                    c.get(&key).await.unwrap(),
                    Some(Bytes::from(value)),
                    "task {t} GET {i}"
                );
                assert_eq!(
                    c.incr(format!("counter-{t}")).await.unwrap(),
                    i + 1,
                    "task {t} INCR {i}"
                );
                i += 1;
            }
            i
        }));
    }
    // Pipelines of 100 mixed commands.
    let pipelines = {
        let c = c.clone();
        let published = published.clone();
        tokio::spawn(async move {
            let mut round = 0;
            let mut counter = 0;
            while round < 10 || !published.load(Ordering::SeqCst) {
                let mut p = c.pipeline_dyn();
                let mut want = Vec::with_capacity(100);
                for i in 0..100 {
                    match i % 3 {
                        0 => {
                            p.push(cmd::set(format!("pipe-{i}"), format!("{round}-{i}")));
                            want.push(Value::Simple(b("OK")));
                        }
                        1 => {
                            p.push(cmd::incr("pipe-counter"));
                            counter += 1;
                            want.push(Value::Int(counter));
                        }
                        _ => {
                            p.push(cmd::get(format!("pipe-{}", i - 2)));
                            want.push(Value::Bulk(Bytes::from(format!("{round}-{}", i - 2))));
                        }
                    };
                }
                let replies = p.execute().await.unwrap();
                let replies: Vec<Value> = replies
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| r.unwrap_or_else(|e| panic!("pipeline {round} #{i}: {e}")))
                    .collect();
                assert_eq!(replies, want, "pipeline {round}");
                round += 1;
            }
            round
        })
    };

    let publisher = producer.await.unwrap();
    let mut sub = consumer.await.unwrap();
    for (t, task) in commands.into_iter().enumerate() {
        let rounds = task.await.unwrap();
        assert!(rounds >= 100, "task {t}: {rounds} rounds");
    }
    let rounds = pipelines.await.unwrap();
    assert!(rounds >= 10, "{rounds} pipelines");
    assert_eq!(sub.dropped(), 0);
    assert_eq!(sub.queued(), 0);
    assert!(sub.get_message(Duration::from_millis(50)).await.is_none());

    // One connection for everything: the client's own, subscribed.
    let own = connections_named(&publisher, "shared-owner").await.unwrap();
    assert_eq!(
        own.len(),
        1,
        "the subscribing client's connections: {own:#?}"
    );
    assert_eq!(field(&own[0], "sub"), "1", "{}", own[0]);
    assert_eq!(
        field(&own[0], "id"),
        c.client_id().await.unwrap().to_string(),
        "{}",
        own[0]
    );
}

// ---------------------------------------------------------------------------------------
// 2. Several subscribers, the same channels.

/// Two subscribers of one client, on the same channel and overlapping patterns: each
/// gets every message and its own confirmation counts; the server sees one
/// connection's subscriptions. One unsubscribing leaves the other receiving; a drop
/// unsubscribes exactly what no one else holds.
#[tokio::test]
async fn two_subscribers_share_a_channel_and_patterns() {
    let server = Server::start();
    let c = protocols::client(&server, Protocol::Resp3).await;
    let publisher = protocols::client(&server, Protocol::Resp3).await;
    let mut one = shared(&c).await;
    let mut two = shared(&c).await;
    one.subscribe(["room"]).await.unwrap();
    one.psubscribe(["room*"]).await.unwrap();
    two.subscribe(["room"]).await.unwrap();
    two.psubscribe(["room*", "r*"]).await.unwrap();
    // Each one's counts are its own, whatever the other subscribed.
    assert_eq!(
        next_n(&mut one, 2).await,
        [
            confirmation(Kind::Subscribe, "room", 1),
            confirmation(Kind::PSubscribe, "room*", 2),
        ]
    );
    assert_eq!(
        next_n(&mut two, 3).await,
        [
            confirmation(Kind::Subscribe, "room", 1),
            confirmation(Kind::PSubscribe, "room*", 2),
            confirmation(Kind::PSubscribe, "r*", 3),
        ]
    );
    // One connection: one subscriber of `room`, two patterns.
    assert_eq!(numsub(&c, "room").await.unwrap(), 1);
    assert_eq!(c.pubsub_numpat().await.unwrap(), 2);
    assert_eq!(subscribed_connections(&c).await.unwrap(), 1);

    // The server sends the connection the message once per subscription: on the
    // channel, on `room*`, on `r*`; each subscriber gets what it subscribed to.
    assert_eq!(publisher.publish("room", "hello").await.unwrap(), 3);
    assert_eq!(
        next_n(&mut one, 2).await,
        [
            message(Kind::Message, "room", None, "hello"),
            message(Kind::PMessage, "room", Some("room*"), "hello"),
        ]
    );
    let mut got = next_n(&mut two, 3).await;
    // The channel's message first; the patterns' in the server's order.
    got[1..].sort_by_key(|s| s.2.clone());
    let mut want = vec![
        message(Kind::Message, "room", None, "hello"),
        message(Kind::PMessage, "room", Some("r*"), "hello"),
        message(Kind::PMessage, "room", Some("room*"), "hello"),
    ];
    want[1..].sort_by_key(|s| s.2.clone());
    assert_eq!(got, want);

    // `one` lets go of the channel: confirmed to it (its count: the pattern left),
    // while the server keeps the subscription for `two`.
    one.unsubscribe(["room"]).await.unwrap();
    assert_eq!(
        shape(&next(&mut one).await),
        confirmation(Kind::Unsubscribe, "room", 1)
    );
    assert_eq!(numsub(&c, "room").await.unwrap(), 1);
    assert_eq!(publisher.publish("room", "again").await.unwrap(), 3);
    // `one` now gets the message only through its pattern.
    assert_eq!(
        shape(&next(&mut one).await),
        message(Kind::PMessage, "room", Some("room*"), "again")
    );
    let mut got = next_n(&mut two, 3).await;
    got[1..].sort_by_key(|s| s.2.clone());
    let mut want = vec![
        message(Kind::Message, "room", None, "again"),
        message(Kind::PMessage, "room", Some("r*"), "again"),
        message(Kind::PMessage, "room", Some("room*"), "again"),
    ];
    want[1..].sort_by_key(|s| s.2.clone());
    assert_eq!(got, want);

    // Dropping `two` unsubscribes what only it held (`room`, `r*`), not `room*`.
    assert_eq!(two.dropped(), 0);
    drop(two);
    await_value("NUMSUB room after the drop", 0, || numsub(&c, "room")).await;
    await_value("NUMPAT after the drop", 1, || c.pubsub_numpat()).await;
    assert_eq!(publisher.publish("room", "last").await.unwrap(), 1);
    assert_eq!(
        shape(&next(&mut one).await),
        message(Kind::PMessage, "room", Some("room*"), "last")
    );
    one.punsubscribe::<&str>([]).await.unwrap();
    assert_eq!(
        shape(&next(&mut one).await),
        confirmation(Kind::PUnsubscribe, "room*", 0)
    );
    assert_eq!(c.pubsub_numpat().await.unwrap(), 0);
    assert_eq!(subscribed_connections(&c).await.unwrap(), 0);
    assert_eq!(one.dropped(), 0);
    let extra = one.get_message(Duration::from_millis(50)).await;
    assert!(extra.is_none(), "{extra:?}");
}

// ---------------------------------------------------------------------------------------
// 3. A subscription the server refuses.

/// A user without access to a channel (ACL `resetchannels &allowed*`): its SUBSCRIBE
/// is refused with NOPERM, the call fails with that server error, and the shared
/// connection stays in step: a GET sent at the same time, and one sent after, get
/// their own replies; a later subscription works; the refused channel is not held.
/// The same body runs first with a subscriber on a connection of its own, whose
/// message sequence the shared one must match.
#[tokio::test]
async fn a_refused_subscribe_fails_its_call_and_the_connection_stays_in_step() {
    let server = Server::start();
    let admin = protocols::client(&server, Protocol::Resp3).await;
    admin
        .acl_setuser("limited")
        .rule([
            "reset",
            "on",
            ">limited-pw",
            "~*",
            "resetchannels",
            "&allowed*",
            "+@all",
        ])
        .await
        .unwrap();
    for shared in [false, true] {
        let mode = if shared { "shared" } else { "dedicated" };
        let c = Client::builder()
            .url(&server.url())
            .protocol(Protocol::Resp3)
            .username("limited")
            .password("limited-pw")
            .connect()
            .await
            .unwrap();
        assert_eq!(c.acl_whoami().await.unwrap(), b("limited"));
        let builder = c.subscriber();
        let mut sub = if shared {
            builder.on_shared_connection()
        } else {
            builder
        }
        .await
        .unwrap();
        assert_eq!(sub.is_shared(), shared, "{mode}: {sub:?}");

        assert!(c.set("k", format!("before-{mode}")).await.unwrap());
        let (refused, got) = tokio::join!(sub.subscribe(["forbidden"]), c.get("k").into_future());
        let err = refused.unwrap_err();
        assert!(err.is_server(), "{mode}: {err}");
        assert!(err.to_string().contains("NOPERM"), "{mode}: {err}");
        assert_eq!(err.command(), Some("SUBSCRIBE"), "{mode}: {err}");
        assert_eq!(got.unwrap(), Some(b(&format!("before-{mode}"))), "{mode}");

        let after = format!("after-{mode}");
        assert!(c.set("k", &after).await.unwrap());
        let refused = sub.subscribe(["forbidden"]).await.unwrap_err();
        assert!(refused.is_server(), "{mode}: {refused}");
        assert_eq!(c.get("k").await.unwrap(), Some(b(&after)), "{mode}");
        sub.subscribe(["allowed-1"]).await.unwrap();
        assert_eq!(c.get("k").await.unwrap(), Some(b(&after)), "{mode}");
        assert_eq!(c.incr(format!("n-{mode}")).await.unwrap(), 1, "{mode}");

        assert_eq!(numsub(&admin, "forbidden").await.unwrap(), 0, "{mode}");
        assert_eq!(numsub(&admin, "allowed-1").await.unwrap(), 1, "{mode}");
        assert_eq!(admin.publish("forbidden", "no").await.unwrap(), 0, "{mode}");
        assert_eq!(
            admin.publish("allowed-1", "yes").await.unwrap(),
            1,
            "{mode}"
        );
        // No confirmation of the refused channel.
        assert_eq!(
            next_n(&mut sub, 2).await,
            [
                confirmation(Kind::Subscribe, "allowed-1", 1),
                message(Kind::Message, "allowed-1", None, "yes"),
            ],
            "{mode}"
        );
        // The refused channel is not among the subscriber's: unsubscribing from all
        // confirms `allowed-1` alone.
        sub.unsubscribe::<&str>([]).await.unwrap();
        assert_eq!(
            shape(&next(&mut sub).await),
            confirmation(Kind::Unsubscribe, "allowed-1", 0),
            "{mode}"
        );
        let extra = sub.get_message(Duration::from_millis(50)).await;
        assert!(extra.is_none(), "{mode}: {extra:?}");
        assert_eq!(c.get("k").await.unwrap(), Some(b(&after)), "{mode}");
    }
}

// ---------------------------------------------------------------------------------------
// 4. Overflow on the shared connection.

/// Without an explicit policy a shared subscriber drops the oldest messages: a full
/// queue never holds back the client's other replies (here the replies of the very
/// PUBLISH commands that fill it, sent on the subscribed connection).
#[tokio::test]
async fn a_shared_subscriber_drops_the_oldest_by_default() {
    let server = Server::start();
    let c = protocols::client(&server, Protocol::Resp3).await;
    let mut sub = c
        .subscriber()
        .on_shared_connection()
        .capacity(2)
        .ignore_subscribe_messages()
        .await
        .unwrap();
    assert!(sub.is_shared());
    sub.subscribe(["full"]).await.unwrap();
    for i in 0..5 {
        let receivers =
            tokio::time::timeout(LIMIT, c.publish("full", format!("{i}")).into_future())
                .await
                .unwrap_or_else(|_| panic!("PUBLISH {i} behind a full queue"))
                .unwrap();
        assert_eq!(receivers, 1, "PUBLISH {i}");
    }
    assert_eq!(c.get("nothing").await.unwrap(), None);
    // Each message came in before its PUBLISH's reply.
    assert_eq!((sub.queued(), sub.dropped()), (2, 3));
    let got = next_n(&mut sub, 2).await;
    assert_eq!(
        got,
        [
            message(Kind::Message, "full", None, "3"),
            message(Kind::Message, "full", None, "4"),
        ]
    );
    assert_eq!(sub.queued(), 0);
}

/// Backpressure, asked for, on the shared connection (`pubsub.rs` has the stalled
/// connection): the consumer still gets every message, in order.
#[tokio::test]
async fn backpressure_on_the_shared_connection_loses_nothing() {
    let server = Server::start();
    let c = protocols::client(&server, Protocol::Resp3).await;
    let publisher = protocols::client(&server, Protocol::Resp3).await;
    let mut sub = c
        .subscriber()
        .on_shared_connection()
        .capacity(4)
        .overflow(Overflow::Backpressure)
        .ignore_subscribe_messages()
        .await
        .unwrap();
    assert!(sub.is_shared());
    sub.subscribe(["slow"]).await.unwrap();
    let receivers = publisher
        .batch((0..100).map(|i| cmd::publish("slow", format!("{i}"))))
        .await
        .unwrap();
    assert_eq!(receivers, vec![1; 100]);
    for i in 0..100 {
        assert!(sub.queued() <= 4, "{} queued", sub.queued());
        assert_eq!(
            shape(&next(&mut sub).await),
            message(Kind::Message, "slow", None, &format!("{i}"))
        );
    }
    assert_eq!(sub.dropped(), 0);
    // Nothing held back any longer: the client's commands are answered.
    assert!(c.set("k", "v").await.unwrap());
    assert_eq!(c.get("k").await.unwrap(), Some(b("v")));
}

// ---------------------------------------------------------------------------------------
// 5. RESP2: no sharing.

/// On RESP2 a subscribed connection can run nothing else: `on_shared_connection`
/// gives a subscriber with a connection of its own, which works as any other and
/// leaves the client's connection free.
#[tokio::test]
async fn on_resp2_a_shared_subscriber_falls_back_to_a_connection_of_its_own() {
    let server = Server::start();
    let c = named_client(&server, Protocol::Resp2, "resp2-owner").await;
    let mut sub = c.subscriber().on_shared_connection().await.unwrap();
    assert!(!sub.is_shared(), "{sub:?}");
    sub.subscribe(["fallback"]).await.unwrap();
    assert_eq!(c.publish("fallback", "hi").await.unwrap(), 1);
    assert!(c.set("k", "v").await.unwrap());
    assert_eq!(c.get("k").await.unwrap(), Some(b("v")));
    assert_eq!(
        next_n(&mut sub, 2).await,
        [
            confirmation(Kind::Subscribe, "fallback", 1),
            message(Kind::Message, "fallback", None, "hi"),
        ]
    );
    // Two connections named after the client: its own (not subscribed) and the
    // subscriber's.
    let own_id = c.client_id().await.unwrap().to_string();
    let lines = connections_named(&c, "resp2-owner").await.unwrap();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let subscribed: Vec<&str> = lines
        .iter()
        .filter(|l| field(l, "sub") == "1")
        .map(|l| field(l, "id"))
        .collect();
    assert_eq!(subscribed.len(), 1, "{lines:#?}");
    assert_ne!(subscribed[0], own_id, "{lines:#?}");
    // Dropped, it closes its connection.
    drop(sub);
    await_value("NUMSUB fallback after the drop", 0, || {
        numsub(&c, "fallback")
    })
    .await;
    await_value("the client's connections after the drop", 1, || async {
        Ok(connections_named(&c, "resp2-owner").await?.len())
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Subscriptions belong to subscribers: as plain commands they are refused.

/// `SUBSCRIBE` and its kin (and `MONITOR`) are not answered by one reply each: sent
/// raw on the shared connection or in a pipeline they would desynchronise it (on
/// RESP3 the confirmations are pushes, so the next command's reply would be taken for
/// theirs). They are refused before anything is sent, naming the alternative.
#[tokio::test]
async fn subscribe_commands_are_refused_outside_a_subscriber() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = Client::builder()
            .url(&server.url())
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        let calls_before = c.info().section(["commandstats"]).await.unwrap();
        let mut refused = Vec::new();
        for name in [
            "SUBSCRIBE",
            "PSUBSCRIBE",
            "SSUBSCRIBE",
            "UNSUBSCRIBE",
            "PUNSUBSCRIBE",
            "SUNSUBSCRIBE",
            "MONITOR",
        ] {
            refused.push(c.cmd(name.to_lowercase()).arg("ch").await.unwrap_err());
            refused.push(
                c.pipeline()
                    .add(cmd::set("refused-key", 1))
                    .add(respec::raw_cmd(name).arg("ch"))
                    .execute()
                    .await
                    .unwrap_err(),
            );
            let mut dynamic = c.pipeline_dyn();
            dynamic.push(respec::raw_cmd(name).arg("ch"));
            refused.push(dynamic.execute().await.unwrap_err());
        }
        for e in &refused {
            assert!(e.is_refused(), "{protocol:?}: {e}");
            let text = e.to_string();
            assert!(
                text.contains("client.subscriber()") || text.contains("client.monitor()"),
                "{protocol:?}: {text}"
            );
        }
        // Nothing was sent: no SET from the refused pipelines, and the server ran no
        // subscribe or monitor command (commandstats would list it).
        assert_eq!(c.exists(["refused-key"]).await.unwrap(), 0, "{protocol:?}");
        let calls_after = c.info().section(["commandstats"]).await.unwrap();
        for stat in ["cmdstat_subscribe", "cmdstat_monitor", "cmdstat_psubscribe"] {
            assert!(
                !String::from_utf8_lossy(&calls_after).contains(stat),
                "{protocol:?}: {stat} in {calls_before:?} -> {calls_after:?}"
            );
        }
        assert_eq!(c.ping().decode::<String>().await.unwrap(), "PONG");
    }
}
