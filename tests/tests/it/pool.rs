//! The pool of dedicated connections (blocking commands and `WATCH` transactions)
//! against real servers: its size limit under contention, the wait timeout when it is
//! exhausted, cancelled holders, health checks, idle expiry, URL options and a server
//! restart.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pool::PoolOptions;
use respec::{cmd, Client, Commands};
use respec_tests::{calls, Server};
use std::collections::BTreeSet;
use std::future::{Future, IntoFuture};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest any awaited condition or whole scenario may take before the test fails
/// (a deadlock shows up as this, not as a hung test run).
const LIMIT: Duration = Duration::from_secs(30);

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Awaits `fut`, failing the test if it takes longer than [`LIMIT`].
async fn within<T>(what: &str, fut: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, fut.into_future()).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: not done after {LIMIT:?} (deadlock?)"),
    }
}

/// Polls `cond` at a short interval until it is true; fails the test after [`LIMIT`].
async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{what}: still false after {LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Polls `fut` once: `Some` with its output if it was ready, `None` if it is pending
/// (it is then still owned by the caller, who may drop it: a cancellation at a
/// known point).
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *fut).poll(cx) {
        std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// One numeric field of `INFO section` (`blocked_clients` of `clients`, ...).
async fn info_field(admin: &Client, section: &str, field: &str) -> i64 {
    let info = admin.info().section([section]).await.unwrap();
    let info = String::from_utf8_lossy(&info);
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}:\n{info}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{field} in INFO {section}: {e}"))
}

/// How many clients are blocked in a blocking command on the server.
async fn blocked_clients(admin: &Client) -> i64 {
    info_field(admin, "clients", "blocked_clients").await
}

/// One line of `CLIENT LIST`.
#[derive(Debug)]
struct ClientEntry {
    id: i64,
    name: String,
    cmd: String,
}

/// The server's connections (`CLIENT LIST`), as seen by `admin`.
async fn client_list(admin: &Client) -> Vec<ClientEntry> {
    let list = admin.client_list().await.unwrap();
    String::from_utf8_lossy(&list)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let field = |key: &str| {
                line.split(' ')
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                    .unwrap_or("")
                    .to_owned()
            };
            ClientEntry {
                id: field("id").parse().expect("CLIENT LIST id"),
                name: field("name"),
                cmd: field("cmd"),
            }
        })
        .collect()
}

/// The server's connections named `name` (every connection of a client built with
/// `client_name(name)`: the shared one and the pooled ones).
async fn named(admin: &Client, name: &str) -> Vec<ClientEntry> {
    let mut list = client_list(admin).await;
    list.retain(|c| c.name == name);
    list
}

/// Whether the server still has the connection `id`.
async fn server_has(admin: &Client, id: i64) -> bool {
    client_list(admin).await.iter().any(|c| c.id == id)
}

/// A client of `server` with a pool configured by `pool`, named `name`.
async fn pooled_client(
    server: &Server,
    name: &str,
    pool: impl FnOnce(respec::ClientBuilder) -> respec::ClientBuilder,
) -> Client {
    pool(Client::builder().url(&server.url()).client_name(name))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_blpops_with_timeouts_share_a_pool_of_four() {
    const TASKS: usize = 50;
    const POOL: usize = 4;
    const NAME: &str = "pool-fifty";
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = pooled_client(&server, NAME, |builder| {
        builder.pool_size(POOL).pool_timeout(Some(LIMIT))
    })
    .await;
    assert_eq!(client.pool_status().max_size, POOL);

    within("fifty BLPOPs on a pool of four", async {
        // Samples what the pool and the server hold until told to stop; every CLIENT
        // LIST is a round trip, which paces the loop.
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (client, admin, stop) = (client.clone(), admin.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut max_open, mut max_server, mut samples) = (0, 0, 0);
                while !stop.load(Ordering::Relaxed) {
                    let status = client.pool_status();
                    assert!(status.idle <= status.open, "{status:?}");
                    max_open = max_open.max(status.open);
                    max_server = max_server.max(named(&admin, NAME).await.len());
                    samples += 1;
                }
                (max_open, max_server, samples)
            })
        };

        // Each task pops one element, retrying when its 0.2 s BLPOP times out.
        let timeouts = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (client, timeouts) = (client.clone(), timeouts.clone());
                tokio::spawn(async move {
                    loop {
                        let open = client.pool_status().open;
                        assert!(open <= POOL, "{open} pooled connections open");
                        match client.blpop(["q"], 0.2).await.unwrap() {
                            Some((key, element)) => {
                                assert_eq!(key, b("q"));
                                return element;
                            }
                            None => {
                                timeouts.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();

        // All four pooled connections are blocked on the server at once, and at least
        // a round of BLPOPs came back empty (their connections went back and were
        // reused by the waiting tasks).
        until("four BLPOPs blocked on the server", || async {
            blocked_clients(&admin).await >= POOL as i64
        })
        .await;
        until("a BLPOP timed out", || async {
            timeouts.load(Ordering::Relaxed) >= 1
        })
        .await;
        let blocked = blocked_clients(&admin).await;
        assert!(blocked <= POOL as i64, "{blocked} BLPOPs blocked at once");
        let on_server = named(&admin, NAME).await;
        assert!(
            on_server.len() <= POOL + 1,
            "more connections than the shared one and {POOL} pooled: {on_server:?}"
        );
        assert!(
            client.pool_status().open <= POOL,
            "{:?}",
            client.pool_status()
        );

        // Elements arrive one at a time, over the shared connection (LPUSH is not a
        // blocking command, so it does not wait for the busy pool).
        for i in 0..TASKS {
            client.rpush("q", [format!("e{i}")]).await.unwrap();
        }
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        let (max_open, max_server, samples) = sampler.await.unwrap();

        // Every element was delivered exactly once.
        let delivered: BTreeSet<Bytes> = got.iter().cloned().collect();
        let pushed: BTreeSet<Bytes> = (0..TASKS).map(|i| b(&format!("e{i}"))).collect();
        assert_eq!(got.len(), TASKS);
        assert_eq!(delivered, pushed, "an element was lost or delivered twice");
        assert_eq!(client.llen("q").await.unwrap(), 0);

        assert!(samples > 0);
        assert!(max_open <= POOL, "pool_status().open reached {max_open}");
        assert!(
            max_server <= POOL + 1,
            "the server saw {max_server} connections of this client"
        );
        let status = client.pool_status();
        assert!(status.open <= POOL && status.open >= 1, "{status:?}");
        assert_eq!(status.idle, status.open, "{status:?}");
        eprintln!(
            "{} empty BLPOPs; at most {max_open} pooled / {max_server} server-side \
             connections over {samples} samples",
            timeouts.load(Ordering::Relaxed)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_fails_after_the_wait_timeout_and_recovers() {
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = pooled_client(&server, "exhausted", |builder| {
        builder
            .pool_size(1)
            .pool_timeout(Some(Duration::from_millis(100)))
    })
    .await;

    let first = {
        let client = client.clone();
        tokio::spawn(async move { client.blpop(["q"], 0).await })
    };
    until("the first BLPOP blocked on the server", || async {
        blocked_clients(&admin).await == 1
    })
    .await;

    let start = Instant::now();
    let err = within("the BLPOP on the exhausted pool", client.blpop(["q"], 0))
        .await
        .unwrap_err();
    let waited = start.elapsed();
    assert!(err.is_pool_exhausted(), "{err}");
    assert!(err.is_timeout(), "{err}");
    let text = err.to_string();
    assert!(text.contains("BLPOP"), "{text}");
    assert!(
        text.contains("all 1 "),
        "the message names the pool size: {text}"
    );
    assert!(text.contains("100ms"), "the message names the wait: {text}");
    assert!(
        waited >= Duration::from_millis(100),
        "failed early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "failed late: {waited:?}");
    // The second BLPOP never reached the server, and the first is still blocked.
    assert_eq!(blocked_clients(&admin).await, 1);
    assert!(!first.is_finished());
    let status = client.pool_status();
    assert_eq!((status.open, status.idle, status.max_size), (1, 0, 1));

    client.rpush("q", ["x"]).await.unwrap();
    let got = within("the first BLPOP", first).await.unwrap().unwrap();
    assert_eq!(got, Some((b("q"), b("x"))));

    // The pool recovered: the connection came back and serves the next BLPOP.
    client.rpush("q", ["y"]).await.unwrap();
    let got = within("a BLPOP after recovery", client.blpop(["q"], 5)).await;
    assert_eq!(got.unwrap(), Some((b("q"), b("y"))));
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_blpop_is_unblocked_and_its_connection_returns_healthy() {
    const NAME: &str = "cancelled-blpop";
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    // A slot that stayed taken would show up as a pool-exhausted error.
    let client = pooled_client(&server, NAME, |builder| {
        builder
            .pool_size(1)
            .pool_timeout(Some(Duration::from_millis(2000)))
    })
    .await;

    let blocked = {
        let client = client.clone();
        tokio::spawn(async move { client.blpop(["q"], 0).await })
    };
    until("the BLPOP blocked on the server", || async {
        blocked_clients(&admin).await == 1
    })
    .await;
    let old = named(&admin, NAME)
        .await
        .into_iter()
        .find(|c| c.cmd == "blpop")
        .expect("the blocked connection in CLIENT LIST");
    assert_eq!(client.pool_status().open, 1);
    let unblocks = calls(&admin, "client|unblock").await;

    blocked.abort();
    let cancelled = within("the aborted task", blocked).await.unwrap_err();
    assert!(cancelled.is_cancelled(), "{cancelled}");
    // The server unblocked the cancelled BLPOP (CLIENT UNBLOCK from the shared
    // connection), and the connection went back to the pool once a PING behind it
    // was answered.
    until("the cancelled BLPOP to be unblocked", || async {
        blocked_clients(&admin).await == 0
    })
    .await;
    until("the connection back in the pool", || async {
        client.pool_status().idle == 1
    })
    .await;
    assert_eq!(calls(&admin, "client|unblock").await, unblocks + 1);
    let status = client.pool_status();
    assert_eq!(
        (status.open, status.idle, status.in_use),
        (1, 1, 0),
        "{status:?}"
    );

    // An element pushed after the cancellation goes to the next BLPOP, on the same
    // server connection.
    client.rpush("q", ["after-cancel"]).await.unwrap();
    let start = Instant::now();
    let got = within("the BLPOP after the cancellation", client.blpop(["q"], 5)).await;
    assert_eq!(got.unwrap(), Some((b("q"), b("after-cancel"))));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(
        server_has(&admin, old.id).await,
        "the connection was replaced"
    );
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");

    // And a BLPOP waiting on it gets the next element.
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move { client.blpop(["q"], 0).await })
    };
    until("the new BLPOP blocked", || async {
        blocked_clients(&admin).await == 1
    })
    .await;
    client.rpush("q", ["later"]).await.unwrap();
    let got = within("the waiting BLPOP", waiting).await.unwrap().unwrap();
    assert_eq!(got, Some((b("q"), b("later"))));
    assert_eq!(client.llen("q").await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_watch_holder_returns_the_connection_unwatched() {
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        admin.del(["k", "other"]).await.unwrap();
        let client = pooled_client(&server, "cancelled-watch", |builder| {
            builder
                .protocol(protocol)
                .pool_size(1)
                .pool_timeout(Some(Duration::from_millis(500)))
        })
        .await;

        // A task watches k, then idles between commands holding the Watched.
        let (id_tx, id_rx) = tokio::sync::oneshot::channel();
        let holder = {
            let client = client.clone();
            tokio::spawn(async move {
                let watched = client.watch(["k"]).await.unwrap();
                assert!(watched.is_watching());
                id_tx.send(watched.client_id().await.unwrap()).unwrap();
                std::future::pending::<()>().await;
                drop(watched);
            })
        };
        let id = within("the holder's CLIENT ID", id_rx).await.unwrap();
        assert_eq!(client.pool_status().idle, 0);
        holder.abort();
        let cancelled = within("the aborted holder", holder).await.unwrap_err();
        assert!(cancelled.is_cancelled(), "{cancelled}");
        // Idle between commands: the connection went back to the pool.
        let status = client.pool_status();
        assert_eq!(
            (status.open, status.idle),
            (1, 1),
            "{protocol:?}: {status:?}"
        );

        // k changes; the reused connection must not still be watching it.
        admin.set("k", "changed").await.unwrap();
        let watched = within("watch(other)", client.watch(["other"]))
            .await
            .unwrap();
        assert_eq!(
            watched.client_id().await.unwrap(),
            id,
            "{protocol:?}: the connection was not reused"
        );
        let ran = watched
            .multi()
            .add(cmd::set("other", "done"))
            .execute()
            .await;
        match ran {
            Ok((set,)) => assert!(set),
            Err(e) => panic!("{protocol:?}: the transaction did not run: {e}"),
        }
        drop(watched);
        assert_eq!(admin.get("other").await.unwrap(), Some(b("done")));
        assert_eq!(client.pool_status().open, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_on_checkout_replaces_a_killed_connection() {
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = pooled_client(&server, "health", |builder| {
        builder.pool_size(1).health_check_interval(Duration::ZERO)
    })
    .await;

    let watched = client.watch(["k"]).await.unwrap();
    let id = watched.client_id().await.unwrap();
    drop(watched);
    assert_eq!(client.pool_status().idle, 1);

    // A healthy idle connection answers one PING on checkout and is reused.
    let pings = calls(&admin, "ping").await;
    let watched = client.watch(["k"]).await.unwrap();
    assert_eq!(watched.client_id().await.unwrap(), id);
    assert_eq!(calls(&admin, "ping").await, pings + 1, "no health check");
    drop(watched);

    // Killed while idle: the next checkout makes a new connection instead of
    // handing out the dead one.
    let killed: i64 = admin.client_kill().id([id]).decode().await.unwrap();
    assert_eq!(killed, 1);
    let watched = within("watch after the kill", client.watch(["k"]))
        .await
        .unwrap();
    let new_id = watched.client_id().await.unwrap();
    assert_ne!(new_id, id);
    drop(watched);
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");

    // Again with a BLPOP as the next pooled use.
    let killed: i64 = admin.client_kill().id([new_id]).decode().await.unwrap();
    assert_eq!(killed, 1);
    client.rpush("q", ["x"]).await.unwrap();
    let got = within("BLPOP after the kill", client.blpop(["q"], 5)).await;
    assert_eq!(got.unwrap(), Some((b("q"), b("x"))));
    let watched = client.watch(["k"]).await.unwrap();
    let third = watched.client_id().await.unwrap();
    assert!(third != id && third != new_id, "{id} {new_id} {third}");
    assert_eq!(client.pool_status().open, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_expire() {
    const NAME: &str = "idle-expiry";
    const IDLE: Duration = Duration::from_millis(50);
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = pooled_client(&server, NAME, |builder| {
        builder.pool_idle_timeout(Some(IDLE))
    })
    .await;
    // The same steps with no idle timeout keep the connection.
    let keeper = pooled_client(&server, "idle-kept", |builder| {
        builder.pool_idle_timeout(None)
    })
    .await;

    for c in [&client, &keeper] {
        c.rpush("q", ["x"]).await.unwrap();
        let got = c.blpop(["q"], 5).await.unwrap();
        assert_eq!(got, Some((b("q"), b("x"))));
        let status = c.pool_status();
        assert_eq!((status.open, status.idle), (1, 1), "{status:?}");
    }
    let old = named(&admin, NAME)
        .await
        .into_iter()
        .find(|c| c.cmd == "blpop")
        .expect("the pooled connection in CLIENT LIST");
    let kept = named(&admin, "idle-kept")
        .await
        .into_iter()
        .find(|c| c.cmd == "blpop")
        .expect("the other pooled connection in CLIENT LIST");

    // Time passing is the thing under test here.
    tokio::time::sleep(IDLE * 3).await;

    let watched = client.watch(["k"]).await.unwrap();
    let new_id = watched.client_id().await.unwrap();
    assert_ne!(new_id, old.id, "an expired connection was reused");
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (1, 0), "{status:?}");
    drop(watched);
    until(
        "the server to see the expired connection closed",
        || async { !server_has(&admin, old.id).await },
    )
    .await;
    assert!(server_has(&admin, new_id).await);

    let watched = keeper.watch(["k"]).await.unwrap();
    assert_eq!(watched.client_id().await.unwrap(), kept.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_options_from_the_url() {
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = Client::connect(&format!(
        "{}?pool_size=2&pool_timeout=100ms&pool_idle_timeout=none&health_check_interval=0",
        server.url()
    ))
    .await
    .unwrap();
    assert_eq!(
        client.config().pool,
        PoolOptions {
            max_size: 2,
            wait_timeout: Some(Duration::from_millis(100)),
            idle_timeout: None,
            health_check_interval: Duration::ZERO,
        }
    );
    let status = client.pool_status();
    assert_eq!((status.max_size, status.open, status.idle), (2, 0, 0));

    let blocked: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.blpop(["q"], 0).await })
        })
        .collect();
    until("two BLPOPs blocked on the server", || async {
        blocked_clients(&admin).await == 2
    })
    .await;
    let err = within("a third BLPOP", client.blpop(["q"], 0))
        .await
        .unwrap_err();
    assert!(err.is_pool_exhausted() && err.is_timeout(), "{err}");
    assert!(err.to_string().contains("all 2 "), "{err}");
    assert!(err.to_string().contains("100ms"), "{err}");

    client.rpush("q", ["a", "b"]).await.unwrap();
    let mut got = BTreeSet::new();
    for t in blocked {
        let (key, element) = within("a blocked BLPOP", t)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(key, b("q"));
        got.insert(element);
    }
    assert_eq!(got, BTreeSet::from([b("a"), b("b")]));
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (2, 2), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_discards_pooled_connections() {
    let mut server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = pooled_client(&server, "restart", |builder| {
        builder
            .pool_size(3)
            .pool_timeout(Some(Duration::from_secs(5)))
    })
    .await;

    // Before: one idle pooled connection, one in a blocked BLPOP and one holding a
    // watch across the restart.
    let watched = client.watch(["k"]).await.unwrap();
    watched.client_id().await.unwrap();
    drop(watched);
    let blocked = {
        let client = client.clone();
        tokio::spawn(async move { client.blpop(["q"], 0).await })
    };
    until("the BLPOP blocked on the server", || async {
        blocked_clients(&admin).await == 1
    })
    .await;
    let held = client.watch(["k"]).await.unwrap();
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (2, 0), "{status:?}");
    let held2 = client.watch(["k2"]).await.unwrap();
    assert_eq!(client.pool_status().open, 3);
    drop(held2);

    tokio::task::block_in_place(|| server.restart());

    // The blocked BLPOP fails (it may or may not have run), it is not retried.
    let err = within("the BLPOP across the restart", blocked)
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.is_io() || err.is_closed(), "{err}");
    // The Watched connection does not come back: its watch would be lost.
    let err = held.get("k").await.unwrap_err();
    assert!(err.is_io() || err.is_closed(), "{err}");
    drop(held);

    // After: new pooled connections work, and the dead ones were discarded. (The
    // shared connection fails fast until it has reconnected.)
    let pushed = within("a write after the restart", async {
        loop {
            match client.rpush("q", ["y"]).await {
                Ok(n) => break n,
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    })
    .await;
    assert_eq!(pushed, 1, "the restarted server starts empty");
    let got = within("BLPOP after the restart", client.blpop(["q"], 5)).await;
    assert_eq!(got.unwrap(), Some((b("q"), b("y"))));
    let watched = within("watch after the restart", client.watch(["k"]))
        .await
        .unwrap();
    watched.client_id().await.unwrap();
    let (ran,) = watched
        .multi()
        .add(cmd::set("k", "after"))
        .execute()
        .await
        .unwrap();
    assert!(ran);
    drop(watched);
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");
    // The admin client reconnects too (its first command may fail fast).
    within("the admin client after the restart", async {
        while admin.ping().await.is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // The server has the shared connection and the one pooled connection.
    let ours = named(&admin, "restart").await;
    assert_eq!(ours.len(), 2, "{ours:?}");
}

/// Cancelling a blocked `BLPOP` sends `CLIENT UNBLOCK` on the shared connection at
/// once, so an element pushed by the same client after the cancelled task has
/// finished is never handed to the cancelled `BLPOP` (before the unblock was
/// ordered this way, the element was lost within a few hundred tries, often tens).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn element_pushed_right_after_a_cancelled_blpop_is_not_lost() {
    const TRIES: usize = 500;
    let server = Server::start();
    let admin = Client::connect(&server.url()).await.unwrap();
    let client = pooled_client(&server, "cancel-race", |builder| builder.pool_size(1)).await;
    for i in 0..TRIES {
        let blocked = {
            let client = client.clone();
            tokio::spawn(async move { client.blpop(["q"], 0).await })
        };
        until("the BLPOP blocked on the server", || async {
            blocked_clients(&admin).await == 1
        })
        .await;
        blocked.abort();
        let cancelled = within("the aborted task", blocked).await.unwrap_err();
        assert!(cancelled.is_cancelled(), "{cancelled}");
        // The cancellation is over: what is pushed now is for the next BLPOP.
        let element = format!("e{i}");
        client.rpush("q", [element.as_str()]).await.unwrap();
        let got = within("the next BLPOP", client.blpop(["q"], 2)).await;
        assert_eq!(
            got.unwrap(),
            Some((b("q"), b(&element))),
            "try {i}: the element pushed after the cancellation was lost"
        );
    }
}

/// A `BLPOP` cancelled right after its first poll (queued on an idle pooled
/// connection, as `select!` or a short `timeout` would leave it) may reach the server
/// after the first `CLIENT UNBLOCK` sent for it, and block. The unblock is repeated
/// until a `PING` behind it answers, so the slot comes back within milliseconds, not
/// after the fence's timeout. (Whether such a `BLPOP` pops an element pushed at that
/// moment is a race no client can win: the module docs say so.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blpop_cancelled_at_its_first_poll_frees_its_slot_quickly() {
    const TRIES: usize = 300;
    let server = Server::start();
    let client = pooled_client(&server, "early-cancel", |builder| {
        builder
            .pool_size(1)
            .pool_timeout(Some(Duration::from_secs(2)))
    })
    .await;
    for i in 0..TRIES {
        // An idle pooled connection, recent enough to skip the health check: the
        // first poll checks it out and queues the BLPOP on it.
        client.rpush("warm", ["w"]).await.unwrap();
        let warmed = within("the warming BLPOP", client.blpop(["warm"], 5)).await;
        assert!(warmed.unwrap().is_some());
        let mut blpop = client.blpop(["q"], 0).into_future();
        assert!(
            poll_once(&mut blpop).await.is_none(),
            "BLPOP 0 on an empty list"
        );
        assert_eq!(client.pool_status().in_use, 1);
        drop(blpop);
        // The only slot comes back well within the 2 s wait timeout (a blocked BLPOP
        // 0 left behind would hold it for the 10 s fence timeout).
        let next = within("the next checkout", client.watch(["empty"])).await;
        let watched = next.unwrap_or_else(|e| panic!("try {i}: {e}"));
        drop(watched);
    }
    let status = client.pool_status();
    assert!(status.open <= 1, "{status:?}");
}

/// A checkout cancelled while the idle connection it took answers the health-check
/// `PING` gives the connection back: `pool_status()` keeps counting right (it once
/// reported a dropped connection open forever, and more open than `max_size`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_cancelled_during_the_health_check_keeps_the_count() {
    let server = Server::start();
    let client = pooled_client(&server, "health-cancel", |builder| {
        builder.pool_size(1).health_check_interval(Duration::ZERO)
    })
    .await;
    client.rpush("q", ["x"]).await.unwrap();
    let got = within("the first BLPOP", client.blpop(["q"], 5)).await;
    assert_eq!(got.unwrap(), Some((b("q"), b("x"))));
    let status = client.pool_status();
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");

    // The first poll takes the idle connection and queues the health-check PING
    // (interval zero); the checkout is dropped while the PING is queued or answered
    // (given up before it was written, it is never sent).
    let mut blpop = client.blpop(["q"], 0).into_future();
    assert!(poll_once(&mut blpop).await.is_none());
    drop(blpop);
    until("the cancelled checkout to give its slot back", || async {
        client.pool_status().in_use == 0
    })
    .await;

    // The next use works and the pool counts what it holds.
    client.rpush("q", ["y"]).await.unwrap();
    let got = within("the BLPOP after the cancellation", client.blpop(["q"], 5)).await;
    assert_eq!(got.unwrap(), Some((b("q"), b("y"))));
    let status = client.pool_status();
    assert!(status.open <= status.max_size, "{status:?}");
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");
}
