//! Pub/sub as a new user meets it (issue 19, item 5), against a real server, with a
//! subscriber on a connection of its own (RESP2, RESP3) and on the client's shared
//! RESP3 connection: `unsubscribe_all` and its pattern and shard kin, per-channel
//! handlers (redis-py's `subscribe(**{"chan": handler})`) and the error handler of
//! `run`.

use respec::prelude::*;
use respec::pubsub::{HandlerError, Kind, SubscriberBuilder};
use respec_tests::pubsub::{b, has_sharded, numsub, LIMIT};
use respec_tests::{protocols, Server};
use tokio::sync::mpsc;

/// The ways a subscriber is made: its own RESP2 or RESP3 connection, or the shared
/// RESP3 one.
const MODES: [(respec::connection::Protocol, bool); 3] = [
    (respec::connection::Protocol::Resp2, false),
    (respec::connection::Protocol::Resp3, false),
    (respec::connection::Protocol::Resp3, true),
];

fn builder(c: &Client, shared: bool) -> SubscriberBuilder<'_> {
    let b = c.subscriber().ignore_subscribe_messages();
    if shared {
        b.on_shared_connection()
    } else {
        b
    }
}

/// The next value of `rx`, within [`LIMIT`].
async fn recv<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(LIMIT, rx.recv())
        .await
        .expect("within the limit")
        .expect("the sender lives")
}

/// What a [`forward`] handler got: kind, channel, payload of each message.
type Forwarded = mpsc::UnboundedReceiver<(Kind, Bytes, Bytes)>;

/// A handler forwarding the payloads of its messages to the returned receiver.
fn forward() -> (
    impl FnMut(Message) -> std::future::Ready<()> + Send + 'static,
    Forwarded,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |m: Message| {
        let _ = tx.send((m.kind, m.channel, m.payload));
        std::future::ready(())
    };
    (handler, rx)
}

#[tokio::test]
async fn unsubscribe_all_leaves_every_channel_of_its_family() {
    let server = Server::start();
    let sharded = has_sharded(&server);
    for (protocol, shared) in MODES {
        let c = protocols::client(&server, protocol).await;
        let sub = builder(&c, shared).await.unwrap();
        sub.subscribe(["a", "b"]).await.unwrap();
        sub.psubscribe(["p.*"]).await.unwrap();
        if sharded {
            sub.ssubscribe(["s"]).await.unwrap();
        }
        assert_eq!(numsub(&c, "a").await.unwrap(), 1);
        sub.unsubscribe_all().await.unwrap();
        assert_eq!(
            (sub.channels(), sub.patterns()),
            (vec![], vec![b("p.*")]),
            "{protocol:?} shared {shared}"
        );
        assert_eq!(numsub(&c, "a").await.unwrap(), 0);
        assert_eq!(numsub(&c, "b").await.unwrap(), 0);
        sub.punsubscribe_all().await.unwrap();
        assert!(sub.patterns().is_empty());
        if sharded {
            assert_eq!(sub.shard_channels(), vec![b("s")]);
            sub.sunsubscribe_all().await.unwrap();
        }
        assert!(!sub.is_subscribed(), "{protocol:?} shared {shared}");
        // Nothing left: the calls still answer (the server confirms nothing).
        sub.unsubscribe_all().await.unwrap();
        sub.handle().punsubscribe_all().await.unwrap();
    }
}

#[tokio::test]
async fn per_channel_handlers_get_their_messages_and_run_gets_the_rest() {
    let server = Server::start();
    let sharded = has_sharded(&server);
    for (protocol, shared) in MODES {
        let what = format!("{protocol:?} shared {shared}");
        let c = protocols::client(&server, protocol).await;
        let sub = builder(&c, shared).await.unwrap();
        let (orders, mut orders_rx) = forward();
        let (audit, mut audit_rx) = forward();
        let (rest, mut rest_rx) = forward();
        sub.subscribe_with("orders", orders).await.unwrap();
        sub.psubscribe_with("audit.*", audit).await.unwrap();
        sub.subscribe(["other"]).await.unwrap();
        let handle = sub.handle();
        let task = sub.run(rest);
        // With the subscriber in its task, the handle subscribes with a handler too.
        let (shard, mut shard_rx) = forward();
        if sharded {
            handle.ssubscribe_with("shard", shard).await.unwrap();
        }
        c.publish("orders", "o1").await.unwrap();
        c.publish("audit.login", "ada").await.unwrap();
        c.publish("other", "x").await.unwrap();
        if sharded {
            c.spublish("shard", "s1").await.unwrap();
        }
        assert_eq!(
            recv(&mut orders_rx).await,
            (Kind::Message, b("orders"), b("o1")),
            "{what}"
        );
        assert_eq!(
            recv(&mut audit_rx).await,
            (Kind::PMessage, b("audit.login"), b("ada")),
            "{what}"
        );
        assert_eq!(
            recv(&mut rest_rx).await,
            (Kind::Message, b("other"), b("x")),
            "{what}"
        );
        if sharded {
            assert_eq!(
                recv(&mut shard_rx).await,
                (Kind::SMessage, b("shard"), b("s1")),
                "{what}"
            );
        }
        // Unsubscribing forgets the handler: subscribed again without one, its
        // messages go to run's handler.
        handle.unsubscribe(["orders"]).await.unwrap();
        handle.subscribe(["orders"]).await.unwrap();
        c.publish("orders", "o2").await.unwrap();
        assert_eq!(
            recv(&mut rest_rx).await,
            (Kind::Message, b("orders"), b("o2")),
            "{what}"
        );
        assert!(orders_rx.try_recv().is_err(), "{what}");
        // A handler set again replaces the first.
        let (second, mut second_rx) = forward();
        handle.psubscribe_with("audit.*", second).await.unwrap();
        c.publish("audit.logout", "bob").await.unwrap();
        assert_eq!(
            recv(&mut second_rx).await,
            (Kind::PMessage, b("audit.logout"), b("bob")),
            "{what}"
        );
        assert!(audit_rx.try_recv().is_err(), "{what}");
        task.abort();
    }
}

/// A handler's error goes to `on_error`, naming the message's channel (and
/// pattern), and `run` reads on.
#[tokio::test]
async fn handler_errors_go_to_on_error_and_the_subscriber_reads_on() {
    let server = Server::start();
    for (protocol, shared) in MODES {
        let what = format!("{protocol:?} shared {shared}");
        let c = protocols::client(&server, protocol).await;
        let sub = builder(&c, shared).await.unwrap();
        sub.subscribe_with("strict", |m: Message| async move {
            match m.payload.as_ref() {
                b"ok" => Ok(()),
                other => Err(format!("cannot take {:?}", String::from_utf8_lossy(other))),
            }
        })
        .await
        .unwrap();
        sub.psubscribe_with("text.*", |m: Message| async move {
            m.payload_str()?;
            Ok::<_, respec::Error>(())
        })
        .await
        .unwrap();
        sub.subscribe(["plain"]).await.unwrap();
        let (errors_tx, mut errors) = mpsc::unbounded_channel::<HandlerError>();
        let (rest, mut rest_rx) = forward();
        let task = sub
            .on_error(move |e| {
                let _ = errors_tx.send(e);
            })
            .run(rest);
        c.publish("strict", "nope").await.unwrap();
        c.publish("text.x", &b"\xff"[..]).await.unwrap();
        c.publish("strict", "ok").await.unwrap();
        c.publish("plain", "after").await.unwrap();
        let first = recv(&mut errors).await;
        assert_eq!(
            (first.kind, first.channel.clone(), first.pattern.clone()),
            (Kind::Message, b("strict"), None),
            "{what}"
        );
        assert_eq!(
            first.to_string(),
            "the handler of a Message on \"strict\" failed: cannot take \"nope\"",
            "{what}"
        );
        let second = recv(&mut errors).await;
        assert_eq!(
            (second.kind, second.channel.clone(), second.pattern.clone()),
            (Kind::PMessage, b("text.x"), Some(b("text.*"))),
            "{what}"
        );
        assert!(
            second
                .error
                .downcast_ref::<respec::Error>()
                .is_some_and(|e| e.is_decode()),
            "{what}: {second}"
        );
        // It read on: the message after the errors reached run's handler, and the
        // accepted one raised no error.
        assert_eq!(
            recv(&mut rest_rx).await,
            (Kind::Message, b("plain"), b("after")),
            "{what}"
        );
        assert!(errors.try_recv().is_err(), "{what}");
        task.abort();
    }
}
