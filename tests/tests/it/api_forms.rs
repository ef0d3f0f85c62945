//! The API as a new user meets it (issue 19, item 5), against a real server: the
//! prelude, the string view as the README and crate docs show it, a dedicated
//! connection for what the shared one refuses, and RESP3 attributes read on request.
//! These tests are also the compile-pass tests of those forms.

use respec::prelude::*;
use respec::reply::WithAttributes;
use respec_tests::pubsub::await_value;
use respec_tests::{protocols, Server};
use std::collections::HashMap;

/// The README's and crate docs' string view: `client.strings()` replies `String`
/// where the client replies `Bytes` (redis-py's `decode_responses=True`), with
/// nothing but `use respec::prelude::*`.
#[tokio::test]
async fn the_prelude_and_the_string_view_as_documented() {
    let server = Server::start();
    let got = protocols::both(&server, |client| async move {
        client.set("foo", 1).await.unwrap();
        assert_eq!(client.incrby("foo", 100).await.unwrap(), 101);
        let v: Option<Bytes> = client.get("foo").await.unwrap();
        // The documented forms: a view of the client, and a decode of one command.
        let s: Option<String> = client.strings().get("foo").await.unwrap();
        let d: Option<String> = client.get("foo").decode().await.unwrap();
        assert_eq!(
            (v.as_deref(), s.as_deref()),
            (Some(&b"101"[..]), d.as_deref())
        );
        let text = client.strings();
        text.hset("user:1", [("name", "Ada"), ("lang", "Rust")])
            .await
            .unwrap();
        let user: HashMap<String, String> = text.hgetall("user:1").await.unwrap();
        let many: Vec<Option<String>> = text.mget(["foo", "nope"]).await.unwrap();
        text.zadd("board", [(42.0, "alice"), (17.5, "bob")])
            .await
            .unwrap();
        let top: Vec<(String, f64)> = text.zrange("board", 0, -1).withscores().await.unwrap();
        let (ok, n, back) = client
            .pipeline()
            .add(cmd::set("a", 1))
            .add(cmd::incr("a"))
            .add(cmd::get("a"))
            .execute()
            .await
            .unwrap();
        (s, user.get("name").cloned(), many, top, (ok, n, back))
    })
    .await;
    assert_eq!(
        got,
        (
            Some("101".to_owned()),
            Some("Ada".to_owned()),
            vec![Some("101".to_owned()), None],
            vec![("bob".to_owned(), 17.5), ("alice".to_owned(), 42.0)],
            (true, 2, Some(Bytes::from_static(b"2")))
        )
    );
}

/// `client.dedicated()`: a connection of one's own with the typed API, for what the
/// shared connection refuses (whose refusal names it). SELECT, WATCH and a
/// transaction, CLIENT TRACKING and a blocking command run on it; a connection whose
/// state changed is closed when dropped, one left as it was goes back to the pool.
#[tokio::test]
async fn a_dedicated_connection_runs_what_the_shared_one_refuses() {
    let server = Server::start();
    protocols::both(&server, |c| async move {
        // The shared connection's refusals name the remedy.
        for (name, e) in [
            ("SELECT", c.select(1).await.unwrap_err()),
            ("AUTH", c.auth("pw").await.unwrap_err()),
            ("WATCH", c.cmd("WATCH").arg("k").await.unwrap_err()),
        ] {
            assert!(e.is_refused() && e.is_unsent(), "{name}: {e}");
            assert!(e.to_string().contains("client.dedicated()"), "{name}: {e}");
        }

        let conn: Dedicated = c.dedicated().await.unwrap();
        assert_eq!(c.pool_status().in_use, 1);
        let first_id = conn.client_id().await.unwrap();
        // A blocking command waits here, not on the shared connection (before
        // SELECT: the shared connection pushes in database 0).
        let waiting = {
            let conn = conn.clone();
            tokio::spawn(async move { conn.blpop(["jobs"], 5.0).await })
        };
        await_value("the BLPOP blocks", true, || async {
            Ok(c.strings().client_list().await?.contains("cmd=blpop"))
        })
        .await;
        assert_eq!(c.rpush("jobs", ["job-1"]).await.unwrap(), 1);
        let popped = waiting.await.unwrap().unwrap();
        assert_eq!(
            popped,
            Some((Bytes::from_static(b"jobs"), Bytes::from_static(b"job-1")))
        );
        conn.select(1).await.unwrap();
        conn.set("k", "in db 1").await.unwrap();
        let mine: Option<String> = conn.get("k").decode().await.unwrap();
        assert_eq!(mine.as_deref(), Some("in db 1"));
        // The shared connection is still in database 0.
        assert_eq!(c.get("k").await.unwrap(), None);
        // WATCH, then a transaction, on the same connection.
        conn.watch(["k"]).await.unwrap();
        assert!(conn.is_watching());
        let (n,): (i64,) = conn.multi().add(cmd::incr("n")).execute().await.unwrap();
        assert_eq!(n, 1);
        assert!(!conn.is_watching());
        // A pipeline of its own.
        let (a, b): (i64, i64) = conn
            .pipeline()
            .add(cmd::incr("n"))
            .add(cmd::incr("n"))
            .execute()
            .await
            .unwrap();
        assert_eq!((a, b), (2, 3));
        // CLIENT TRACKING on this connection alone.
        conn.client_tracking(types::OnOff::On).await.unwrap();
        let tracking: i64 = conn.client_getredir().await.unwrap();
        assert_eq!(tracking, 0, "tracking on, no redirection");
        // What the runtime owns stays refused, with the way to do it.
        let e = conn.cmd("MULTI").await.unwrap_err();
        assert!(e.is_refused(), "{e}");
        // Its state changed (SELECT, tracking): closed, not pooled.
        drop(conn);
        await_value("the dedicated connection is closed", 0, || async {
            Ok(c.pool_status().open)
        })
        .await;
        // A fresh one starts as the configuration made it (database 0); left as it
        // was, it goes back to the pool and is handed out again.
        let fresh = c.dedicated().await.unwrap();
        let id = fresh.client_id().await.unwrap();
        assert_ne!(id, first_id);
        assert_eq!(fresh.get("k").await.unwrap(), None);
        drop(fresh);
        assert_eq!(c.pool_status().idle, 1);
        let again = c.dedicated().await.unwrap();
        assert_eq!(again.client_id().await.unwrap(), id);
    })
    .await;
}

/// RESP3 attributes, read when asked for (justredis's `attributes=True`) and skipped
/// otherwise. A real server sends them for `DEBUG PROTOCOL attrib` (with
/// `enable-debug-command local`): an attribute `key-popularity` before the reply.
#[tokio::test]
async fn attributes_are_read_when_asked_for_and_skipped_otherwise() {
    let server = Server::builder()
        .config("enable-debug-command local")
        .start()
        .unwrap();
    let attrib = || respec::raw_cmd("DEBUG").arg("PROTOCOL").arg("attrib");
    let reply = "Some real reply following the attribute";
    for protocol in [
        respec::connection::Protocol::Resp3,
        respec::connection::Protocol::Resp2,
    ] {
        let c = protocols::client(&server, protocol).await;
        let got: WithAttributes<String> = c.send(attrib().decode()).await.unwrap();
        assert_eq!(got.value, reply, "{protocol:?}");
        let popularity = got.attribute("key-popularity");
        if protocol == respec::connection::Protocol::Resp3 {
            assert_eq!(got.attributes.len(), 1, "{got:?}");
            assert_eq!(
                popularity,
                Some(&Value::Array(vec![
                    Value::Bulk(Bytes::from_static(b"key:123")),
                    Value::Int(90)
                ])),
                "{got:?}"
            );
        } else {
            // RESP2 has no attributes.
            assert_eq!((got.attributes.len(), popularity), (0, None), "{got:?}");
        }
        // Not asked for: skipped, as before.
        let plain: String = c.send(attrib().decode()).await.unwrap();
        assert_eq!(plain, reply);
        let value: Value = c.send(attrib()).await.unwrap();
        assert_eq!(value, Value::Bulk(Bytes::from(reply)));
        // The raw and typed forms, and in a pipeline; the connection stays in step.
        let raw = c
            .cmd("DEBUG")
            .arg("PROTOCOL")
            .arg("attrib")
            .with_attributes();
        let raw = raw.await.unwrap();
        assert_eq!(raw.value, Value::Bulk(Bytes::from(reply)));
        c.set("k", "v").await.unwrap();
        let typed: WithAttributes<Option<Bytes>> = c.get("k").with_attributes().await.unwrap();
        assert_eq!(
            (typed.attributes.len(), typed.value),
            (0, Some(Bytes::from_static(b"v")))
        );
        let (a, b): (WithAttributes<String>, Option<Bytes>) = c
            .pipeline()
            .add(attrib().decode::<WithAttributes<String>>())
            .add(cmd::get("k"))
            .execute()
            .await
            .unwrap();
        assert_eq!(
            (a.value.as_str(), b),
            (reply, Some(Bytes::from_static(b"v")))
        );
        assert_eq!(a.attributes, got.attributes, "{protocol:?}");
    }
}
