//! The runtime against real servers: authentication, databases, protocols,
//! transports.

use bytes::Bytes;
use respec::command::Raw;
use respec::connection::{Protocol, TlsOptions};
use respec::{cmd, Client, Commands, Value};
use respec_tests::{calls, protocols, Server};
use std::collections::HashMap;

#[tokio::test]
async fn password_auth_and_wrong_password() {
    let server = Server::builder().password("s3cret").start().unwrap();
    let url = format!("redis://:s3cret@{}", server.addr());
    let client = Client::connect(&url).await.unwrap();
    assert_eq!(client.ping().await.unwrap(), Bytes::from_static(b"PONG"));

    let err = Client::connect(&format!("redis://:wrong@{}", server.addr()))
        .await
        .unwrap_err();
    assert!(err.is_server(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("AUTH") && text.contains("WRONGPASS"),
        "{text}"
    );

    // Without a password the connection works, but commands are refused.
    let anon = Client::connect(&server.url()).await.unwrap();
    let err = anon.get("k").await.unwrap_err();
    assert_eq!(
        err.server_error().map(|e| e.code()),
        Some("NOAUTH"),
        "{err}"
    );
}

#[tokio::test]
async fn acl_user_auth() {
    let server = Server::builder()
        .acl_user("user alice on >wonderland ~* &* +@all")
        .start()
        .unwrap();
    for protocol in ["2", "3"] {
        let url = format!(
            "redis://alice:wonderland@{}?protocol={protocol}",
            server.addr()
        );
        let client = Client::connect(&url).await.unwrap();
        assert_eq!(client.acl_whoami().await.unwrap(), "alice");
    }
    let err = Client::connect(&format!("redis://alice:nope@{}", server.addr()))
        .await
        .unwrap_err();
    assert!(
        err.is_server() && err.to_string().contains("WRONGPASS"),
        "{err}"
    );
}

#[tokio::test]
async fn select_database() {
    let server = Server::start();
    let db3 = Client::connect(&format!("{}/3", server.url()))
        .await
        .unwrap();
    let db0 = Client::connect(&server.url()).await.unwrap();
    db3.set("where", "three").await.unwrap();
    assert_eq!(db0.get("where").await.unwrap(), None);
    assert_eq!(
        db3.get("where").await.unwrap(),
        Some(Bytes::from_static(b"three"))
    );
    let info = db3.client_info().await.unwrap();
    assert!(
        String::from_utf8_lossy(&info).contains(" db=3 "),
        "{info:?}"
    );
    // A database the server does not have fails the connect, naming SELECT.
    let err = Client::connect(&format!("{}/99", server.url()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SELECT"), "{err}");
}

/// Typed results of a mix of commands whose RESP2 and RESP3 encodings differ.
async fn typed_results(
    client: &Client,
) -> (
    Vec<(Bytes, f64)>,
    HashMap<Bytes, Bytes>,
    Vec<Bytes>,
    f64,
    Option<f64>,
    Vec<(Bytes, Bytes)>,
) {
    client.del(["z", "h", "s", "f"]).await.unwrap();
    client.zadd("z", [(1.5, "a"), (2.0, "b")]).await.unwrap();
    client
        .hset("h", [("f1", "v1"), ("f2", "v2")])
        .await
        .unwrap();
    client.sadd("s", ["x"]).await.unwrap();
    let zr = client.zrange("z", 0, -1).withscores().await.unwrap();
    let h = client.hgetall("h").await.unwrap();
    let s = client.smembers("s").await.unwrap();
    let f = client.incrbyfloat("f", 2.5).await.unwrap();
    let score = client.zscore("z", "a").await.unwrap();
    let mut cfg = client
        .config_get(["maxmemory-policy"])
        .await
        .unwrap()
        .into_iter()
        .collect::<Vec<_>>();
    cfg.sort();
    (zr, h, s, f, score, cfg)
}

#[tokio::test]
async fn resp2_and_resp3_give_the_same_typed_results() {
    let server = Server::start();
    let c3 = Client::connect(&server.url()).await.unwrap();
    let c2 = Client::builder()
        .url(&server.url())
        .protocol(Protocol::Resp2)
        .connect()
        .await
        .unwrap();
    let r3 = typed_results(&c3).await;
    let r2 = typed_results(&c2).await;
    assert_eq!(r2, r3);
    assert_eq!(r3.0, vec![(Bytes::from("a"), 1.5), (Bytes::from("b"), 2.0)]);
    assert_eq!(r3.3, 2.5);
    assert_eq!(r3.4, Some(1.5));
    // The handshake really negotiated different protocols.
    let hello2: respec::Value = c2.cmd("HELLO").decode().await.unwrap();
    let hello3: respec::Value = c3.cmd("HELLO").decode().await.unwrap();
    assert!(matches!(hello2, respec::Value::Array(_)), "{hello2:?}");
    assert!(matches!(hello3, respec::Value::Map(_)), "{hello3:?}");
}

#[tokio::test]
async fn unix_socket() {
    let server = Server::builder().unix_socket().start().unwrap();
    let url = format!("unix://{}", server.unix_path().display());
    let client = Client::connect(&url).await.unwrap();
    client.set("via", "unix").await.unwrap();
    assert_eq!(client.get("via").await.unwrap(), Some(Bytes::from("unix")));
    let info = client.client_info().await.unwrap();
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(
        info.contains(&*server.unix_path().to_string_lossy()),
        "{info}"
    );
}

#[tokio::test]
async fn tls_with_ca_client_cert_and_insecure() {
    let Some(server) = Server::builder().tls().start_or_skip() else {
        return;
    };
    let ca = server.ca_path().display().to_string();
    // Verified against the generated CA.
    let client = Client::connect(&format!("{}?ca={ca}", server.tls_url()))
        .await
        .unwrap();
    assert_eq!(client.ping().await.unwrap(), Bytes::from_static(b"PONG"));
    // Mutual TLS through the builder.
    let client = Client::builder()
        .url(&server.tls_url())
        .tls(TlsOptions {
            ca_file: Some(server.ca_path().into()),
            cert_file: Some(server.client_cert_path().into()),
            key_file: Some(server.client_key_path().into()),
            ..TlsOptions::default()
        })
        .connect()
        .await
        .unwrap();
    client.set("tls", "yes").await.unwrap();
    assert_eq!(client.get("tls").await.unwrap(), Some(Bytes::from("yes")));
    // Without the CA the certificate is rejected ...
    let err = Client::connect(&server.tls_url()).await.unwrap_err();
    assert!(err.is_io(), "{err}");
    // ... unless verification is explicitly skipped.
    let client = Client::connect(&format!("{}?insecure=true", server.tls_url()))
        .await
        .unwrap();
    assert_eq!(client.ping().await.unwrap(), Bytes::from_static(b"PONG"));
}

#[tokio::test]
async fn bad_arguments_fail_before_sending() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let err = client.zadd("z", [(f64::NAN, "m")]).await.unwrap_err();
    assert!(err.is_invalid_argument());
    assert!(
        err.to_string().contains("ZADD") && err.to_string().contains("score"),
        "{err}"
    );
    // Nothing reached the server.
    assert_eq!(client.exists(["z"]).await.unwrap(), 0);
    // A detached command runs the same way.
    assert!(client.send(cmd::set("k", "v").nx()).await.unwrap());
}

#[tokio::test]
async fn string_view_types_replies_as_strings() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.hset("h", [("f", "v")]).await.unwrap();
    let s = client.strings();
    let h: HashMap<String, String> = s.hgetall("h").await.unwrap();
    assert_eq!(h, HashMap::from([("f".to_owned(), "v".to_owned())]));
    s.zadd("z", [(1.0, "one")]).await.unwrap();
    let z: Vec<(String, f64)> = s.zrange("z", 0, -1).withscores().await.unwrap();
    assert_eq!(z, vec![("one".to_owned(), 1.0)]);
    let n: i64 = s.incr("n").await.unwrap();
    assert_eq!(n, 1);
    // Bytes that are not UTF-8 are a decode error in the string view only.
    client.set("bin", &b"\xff\xfe"[..]).await.unwrap();
    assert!(s.get("bin").await.unwrap_err().is_decode());
    assert_eq!(
        client.get("bin").await.unwrap(),
        Some(Bytes::from_static(b"\xff\xfe"))
    );
}

#[tokio::test]
async fn push_frames_reach_the_hook() {
    let server = Server::start();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<respec::connection::Push>();
    let client = Client::builder()
        .url(&server.url())
        .push_hook(std::sync::Arc::new(move |push| {
            let _ = tx.send(push);
        }))
        .connect()
        .await
        .unwrap();
    // Client-side caching: after reading a key, a change by anyone else makes the
    // server push an invalidation (RESP3 `>` frame) to this connection.
    client
        .client_tracking(respec::types::OnOff::On)
        .await
        .unwrap();
    client.set("cached", "1").await.unwrap();
    client.get("cached").await.unwrap();
    let other = Client::connect(&server.url()).await.unwrap();
    other.set("cached", "2").await.unwrap();
    let push = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("an invalidation push within 5 s")
        .unwrap();
    assert_eq!(
        push,
        respec::connection::Push::Invalidate(Some(vec![Bytes::from("cached")]))
    );
    // Replies still match their requests.
    assert_eq!(client.get("cached").await.unwrap(), Some(Bytes::from("2")));
}

/// The commands that would change the client's shared connection under every task
/// using it (SELECT, AUTH), or pull it from under the runtime (HELLO with arguments,
/// RESET, QUIT, CLIENT REPLY), are refused before anything is sent: one by one, raw,
/// and queued in pipelines. SELECT and AUTH still run on a connection of one's own.
#[tokio::test]
async fn commands_that_would_change_the_shared_connection_are_refused_before_sending() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let names = [
            "select",
            "auth",
            "hello",
            "reset",
            "quit",
            "client|reply",
            "set",
        ];
        let w = c.watch(["k"]).await.unwrap();
        let mut before = Vec::new();
        for name in names {
            before.push(calls(&c, name).await);
        }
        let refused: Vec<(&str, respec::Error)> = vec![
            ("SELECT", c.select(1).await.unwrap_err()),
            ("SELECT", c.strings().select(1).await.unwrap_err()),
            ("SELECT", c.cmd("select").arg(1).await.unwrap_err()),
            ("AUTH", c.auth("pw").await.unwrap_err()),
            ("AUTH", c.cmd("AUTH").arg("u").arg("pw").await.unwrap_err()),
            ("HELLO", c.cmd("HELLO").arg(2).await.unwrap_err()),
            ("RESET", c.cmd("RESET").await.unwrap_err()),
            ("QUIT", c.cmd("QUIT").await.unwrap_err()),
            (
                "CLIENT REPLY",
                c.cmd("CLIENT").arg("REPLY").arg("OFF").await.unwrap_err(),
            ),
            (
                "SELECT",
                c.pipeline()
                    .add(cmd::set("k", 1))
                    .add(cmd::select(1))
                    .execute()
                    .await
                    .unwrap_err(),
            ),
            (
                "AUTH",
                c.pipeline()
                    .transaction()
                    .add(cmd::set("k", 1))
                    .add(cmd::auth("pw"))
                    .execute()
                    .await
                    .unwrap_err(),
            ),
            ("SELECT", c.batch([cmd::select(1)]).await.unwrap_err()),
            // On a connection of one's own too, what the runtime owns.
            (
                "CLIENT REPLY",
                Raw::new_in(&w, "CLIENT")
                    .arg("REPLY")
                    .arg("SKIP")
                    .await
                    .unwrap_err(),
            ),
            ("RESET", Raw::new_in(&w, "RESET").await.unwrap_err()),
            (
                "RESET",
                w.multi()
                    .add(respec::raw_cmd("RESET"))
                    .execute()
                    .await
                    .unwrap_err(),
            ),
        ];
        for (name, e) in &refused {
            assert!(e.is_refused() && e.is_unsent(), "{name}: {e}");
            assert!(e.to_string().contains(name), "{name}: {e}");
        }
        assert!(
            refused[0].1.to_string().contains("ClientBuilder::database"),
            "{}",
            refused[0].1
        );
        let mut after = Vec::new();
        for name in names {
            after.push(calls(&c, name).await);
        }
        assert_eq!(after, before, "nothing reached the server: {names:?}");

        // HELLO alone only reports, and runs.
        let hello: Value = c.cmd("HELLO").decode().await.unwrap();
        assert!(!matches!(hello, Value::Error(_)), "{hello:?}");
        // SELECT runs on a watched connection, which then does not go back to the pool.
        let id = w.client_id().await.unwrap();
        w.select(1).await.unwrap();
        w.set("k", "in db 1").await.unwrap();
        drop(w);
        let next = c.watch(["k"]).await.unwrap();
        assert_ne!(next.client_id().await.unwrap(), id);
        // The shared connection is still in database 0.
        (c.get("k").await.unwrap(), c.dbsize().await.unwrap())
    })
    .await;
    assert_eq!(got, (None, 0));
}

/// A command the spec does not know (a module's) keeps its name in errors, in upper
/// case, instead of a generic "command".
#[tokio::test]
async fn an_unknown_command_keeps_its_name_in_errors() {
    let server = Server::start();
    let c = Client::connect(&server.url()).await.unwrap();
    let err = c.cmd("nosuch.cmd").arg("x").await.unwrap_err();
    assert!(err.is_server(), "{err}");
    assert_eq!(err.command(), Some("NOSUCH.CMD"), "{err}");
    assert!(err.to_string().starts_with("NOSUCH.CMD: "), "{err}");
    // In a pipeline too.
    let err = c
        .pipeline()
        .add(respec::raw_cmd("nosuch.cmd").arg("x"))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.command(), Some("NOSUCH.CMD"), "{err}");
}
