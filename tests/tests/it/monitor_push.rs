//! MONITOR as a stream of parsed entries, and RESP3 push frames other than pub/sub
//! (client-tracking invalidations) reaching the client's push hook.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::connection::Push;
use respec::monitor::MonitorEntry;
use respec::pubsub::Kind;
use respec::{Client, Commands};
use respec_tests::{protocols, Server};
use std::sync::Arc;
use std::time::Duration;

async fn next_entry(m: &mut respec::monitor::Monitor) -> MonitorEntry {
    tokio::time::timeout(Duration::from_secs(10), m.next_entry())
        .await
        .expect("an entry within 10 s")
        .expect("the monitor is running")
        .expect("the line parses")
}

#[tokio::test]
async fn monitor_sees_commands_from_another_client() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = protocols::client(&server, protocol).await;
        let mut monitor = c.monitor().await.unwrap();
        assert_eq!(c.pool_status().open, 1, "the monitor takes a pool slot");
        // In database 2, set at connect (SELECT is refused on the shared connection).
        let other = Client::builder()
            .url(&server.url())
            .protocol(Protocol::Resp3)
            .database(2)
            .connect()
            .await
            .unwrap();
        let other_id = other.client_id().await.unwrap();
        let addr = other
            .client_info()
            .decode::<String>()
            .await
            .unwrap()
            .split(' ')
            .find_map(|f| f.strip_prefix("addr=").map(str::to_owned))
            .unwrap();
        other.set("k", "a \"quoted\"\n value").await.unwrap();
        // Entries arrive in order; skip what the other client ran before.
        let mut seen = Vec::new();
        loop {
            let e = next_entry(&mut monitor).await;
            let done = e
                .args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(b"set"));
            seen.push(e);
            if done {
                break;
            }
        }
        let set = seen.last().unwrap();
        assert_eq!(set.db, 2);
        assert_eq!(set.client, addr);
        assert_eq!(
            set.args,
            [
                Bytes::from_static(b"SET"),
                Bytes::from_static(b"k"),
                Bytes::from_static(b"a \"quoted\"\n value")
            ]
        );
        assert!(set.time > 1.6e9, "{}", set.time);
        assert!(
            seen.iter().any(|e| e
                .args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case(b"client"))),
            "the CLIENT ID of client {other_id} was seen too: {seen:?}"
        );
        // A script's calls show as `lua`.
        other
            .eval("return redis.call('GET', KEYS[1])")
            .key(["k"])
            .decode::<Option<Bytes>>()
            .await
            .unwrap();
        let mut lua = None;
        while lua.is_none() {
            let e = next_entry(&mut monitor).await;
            if e.client == "lua" {
                lua = Some(e);
            }
        }
        assert_eq!(
            lua.unwrap().args,
            [Bytes::from_static(b"GET"), Bytes::from_static(b"k")]
        );
        drop(monitor);
        assert_eq!(c.pool_status().open, 0, "the slot is given back");
    }
}

/// A client connected over IPv6 shows in MONITOR as `[::1]:port`, inside the line's
/// own brackets, and its entries parse. Skipped where the machine has no IPv6
/// loopback.
#[tokio::test]
async fn monitor_sees_a_client_connected_over_ipv6() {
    if let Err(err) = std::net::TcpListener::bind("[::1]:0") {
        respec_tests::skip(format!("no IPv6 loopback on this machine: {err}"));
        return;
    }
    let server = Server::builder()
        .config("bind 127.0.0.1 ::1")
        .start()
        .unwrap();
    let c = Client::connect(&server.url()).await.unwrap();
    let mut monitor = c.monitor().await.unwrap();
    let v6 = Client::connect(&format!("redis://[::1]:{}", server.port()))
        .await
        .unwrap();
    v6.set("over-ipv6", "yes").await.unwrap();
    let set = loop {
        let e = next_entry(&mut monitor).await;
        if e.args
            .first()
            .is_some_and(|a| a.eq_ignore_ascii_case(b"set"))
        {
            break e;
        }
    };
    assert!(set.client.starts_with("[::1]:"), "{set:?}");
    assert_eq!(
        set.args,
        [
            Bytes::from_static(b"SET"),
            Bytes::from_static(b"over-ipv6"),
            Bytes::from_static(b"yes")
        ]
    );
}

#[tokio::test]
async fn invalidation_pushes_reach_the_push_hook() {
    let server = Server::start();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let c = Client::builder()
        .url(&server.url())
        .push_hook(Arc::new(move |push: Push| {
            let _ = tx.send(push);
        }))
        .connect()
        .await
        .unwrap();
    let mut next_push = async || {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a push within 10 s")
            .expect("the hook is alive")
    };
    // A subscriber on the same connection: its pub/sub pushes go to it, never to
    // the hook.
    let mut sub = c.subscriber().on_shared_connection().await.unwrap();
    assert!(sub.is_shared());
    sub.subscribe(["news"]).await.unwrap();
    c.client_tracking(respec::types::OnOff::On).await.unwrap();
    c.set("tracked", "1").await.unwrap();
    let _: Option<Bytes> = c.get("tracked").await.unwrap();
    let other = Client::connect(&server.url()).await.unwrap();
    assert_eq!(other.publish("news", "hello").await.unwrap(), 1);
    other.set("tracked", "2").await.unwrap();
    assert_eq!(
        next_push().await,
        Push::Invalidate(Some(vec![Bytes::from("tracked")]))
    );
    // Replies on the same connection are unaffected.
    assert_eq!(c.get("tracked").decode::<String>().await.unwrap(), "2");
    // A flush invalidates every key: a null list.
    other.flushall().await.unwrap();
    assert_eq!(next_push().await, Push::Invalidate(None));
    let got: Vec<_> = [
        sub.get_message(Duration::from_secs(10)).await.unwrap(),
        sub.get_message(Duration::from_secs(10)).await.unwrap(),
    ]
    .into_iter()
    .map(|m| (m.kind, m.channel, m.payload))
    .collect();
    assert_eq!(
        got,
        [
            (Kind::Subscribe, Bytes::from("news"), Bytes::new()),
            (Kind::Message, Bytes::from("news"), Bytes::from("hello")),
        ]
    );
}
