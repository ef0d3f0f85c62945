//! The runtime under trouble: cancelled requests, blocking commands, a server that dies
//! and comes back, a connection killed by the server.

use bytes::Bytes;
use respec::{Client, Commands};
use respec_tests::Server;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

/// Retries `f` until it succeeds or `limit` passes (awaiting a condition, not a sleep).
async fn eventually<T, F, Fut>(limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: IntoFuture<Output = respec::Result<T>>,
{
    let start = Instant::now();
    loop {
        match f().into_future().await {
            Ok(v) => return v,
            Err(e) if start.elapsed() < limit => {
                let _ = e;
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => panic!("still failing after {limit:?}: {e}"),
        }
    }
}

/// Polls `fut` up to `n` times (yielding in between); `None` if it was not done, and
/// then it is dropped: cancelled.
async fn poll_n<F: std::future::Future + Unpin>(mut fut: F, n: u32) -> Option<F::Output> {
    for _ in 0..n {
        let polled = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::pin::Pin::new(&mut fut).poll(cx))
        })
        .await;
        if let std::task::Poll::Ready(v) = polled {
            return Some(v);
        }
        tokio::task::yield_now().await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_requests_never_desynchronise_the_connection() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.del(["counter"]).await.unwrap();
    const CANCELLED: usize = 10_000;
    const CHECKERS: usize = 8;
    // Checkers read their own keys over and over: any reply given to the wrong
    // request shows up as a wrong value.
    for i in 0..CHECKERS {
        client
            .set(format!("own:{i}"), format!("value-{i}"))
            .await
            .unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut checkers = Vec::new();
    for i in 0..CHECKERS {
        let c = client.clone();
        let stop = stop.clone();
        checkers.push(tokio::spawn(async move {
            let want = Bytes::from(format!("value-{i}"));
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let got = c.get(format!("own:{i}")).await.unwrap();
                assert_eq!(got.as_ref(), Some(&want), "checker {i} got another reply");
                n += 1;
            }
            n
        }));
    }
    // Cancel INCRs at random points: dropped right after being queued, or after being
    // polled a few times (written, or with the reply already on its way).
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let (mut issued, mut dropped, mut seen) = (0usize, 0usize, Vec::new());
            while dropped < CANCELLED / 4 {
                let fut = c.incr("counter").into_future();
                issued += 1;
                match poll_n(fut, fastrand::u32(0..4)).await {
                    Some(r) => seen.push(r.unwrap()),
                    None => dropped += 1,
                }
            }
            (issued, dropped, seen)
        }));
    }
    let (mut issued, mut cancelled, mut seen) = (0, 0, Vec::new());
    for t in tasks {
        let (i, d, s) = t.await.unwrap();
        issued += i;
        cancelled += d;
        seen.extend(s);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut checks = 0;
    for c in checkers {
        checks += c.await.unwrap();
    }
    // Every INCR that answered ran once (each saw its own count); a cancelled one ran
    // at most once: once if the connection had taken it for writing, never if it was
    // still queued.
    let total: i64 = client.get("counter").decode().await.unwrap();
    let answered = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), answered, "two INCRs saw the same count");
    assert!(seen.last().is_none_or(|&max| max <= total));
    assert!(
        answered as i64 <= total && total <= issued as i64,
        "{answered} answered, {issued} issued, counter {total}"
    );
    assert_eq!(cancelled, CANCELLED);
    assert!(checks > 0);
    eprintln!(
        "{cancelled} of {issued} INCRs cancelled, {} of them never sent; {checks} checked GETs",
        issued as i64 - total
    );
    // And later replies are still the right ones.
    for i in 0..CHECKERS {
        let v = client.get(format!("own:{i}")).await.unwrap();
        assert_eq!(v, Some(Bytes::from(format!("value-{i}"))));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_command_does_not_stall_the_shared_connection() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.del(["jobs"]).await.unwrap();
    let blocked = {
        let c = client.clone();
        tokio::spawn(async move { c.blpop(["jobs"], 10.0).await })
    };
    // The BLPOP is really waiting on the server before we go on.
    eventually(Duration::from_secs(5), || async {
        let clients = client.client_list().await?;
        if String::from_utf8_lossy(&clients).contains("cmd=blpop") {
            Ok(())
        } else {
            Err(respec::Error::timeout())
        }
    })
    .await;
    client.set("k", "v").await.unwrap();
    for _ in 0..1000 {
        assert_eq!(client.get("k").await.unwrap(), Some(Bytes::from("v")));
    }
    assert!(
        !blocked.is_finished(),
        "BLPOP returned before anything was pushed"
    );
    client.lpush("jobs", ["job-1"]).await.unwrap();
    let got = blocked.await.unwrap().unwrap();
    assert_eq!(got, Some((Bytes::from("jobs"), Bytes::from("job-1"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_fails_fast_then_recovers() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.set("before", "1").await.unwrap();
    server.kill();
    let start = Instant::now();
    let err = client.get("before").await.unwrap_err();
    assert!(err.is_io(), "{err}");
    // Fails fast while the server is down (no waiting for a timeout), and says it
    // was never sent.
    let err = client.get("before").await.unwrap_err();
    assert!(err.is_io(), "{err}");
    assert!(err.is_unsent(), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("GET"), "{err}");
    server.restart();
    let v = eventually(Duration::from_secs(10), || client.ping()).await;
    assert_eq!(v, Bytes::from("PONG"));
    client.set("after", "2").await.unwrap();
    assert_eq!(client.get("after").await.unwrap(), Some(Bytes::from("2")));
}

/// With `hold_unsent` (the default of a sentinel client only), requests not yet
/// written wait for the server to come back instead of failing fast once a
/// reconnect attempt has failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_requests_wait_for_a_restarted_server() {
    let mut server = Server::start();
    let client = Client::connect(&format!("{}?hold_unsent=10", server.url()))
        .await
        .unwrap();
    client.set("n", 41).await.unwrap();
    server.kill();
    let held = {
        let client = client.clone();
        tokio::spawn(async move {
            loop {
                match client.incr("n").await {
                    Ok(n) => return n,
                    // Written to the dead connection before the loss was noticed.
                    Err(e) if !e.is_unsent() => continue,
                    Err(e) => panic!("failed as unsent: {e}"),
                }
            }
        })
    };
    // The outage outlasts many reconnect attempts (10 ms, 20 ms, 40 ms ... apart),
    // each refused: without the hold, the INCR would have failed after the first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!held.is_finished(), "{:?}", held.await);
    server.restart();
    let n = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the held INCR did not run after the restart")
        .unwrap();
    // The restarted server starts empty (`save ""`): the INCR ran there, once.
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_kill_of_our_connection_reconnects() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let admin = Client::connect(&server.url()).await.unwrap();
    let id = client.client_id().await.unwrap();
    let killed = admin.client_kill().id([id]).decode::<i64>().await.unwrap();
    assert_eq!(killed, 1);
    // The kill may race with the next request; within a short while commands work
    // again on a new connection with a new id.
    let new_id = eventually(Duration::from_secs(5), || client.client_id()).await;
    assert_ne!(new_id, id);
    client.set("k", "v").await.unwrap();
    assert_eq!(client.get("k").await.unwrap(), Some(Bytes::from("v")));
}

#[tokio::test]
async fn request_timeout_is_reported_and_the_connection_stays_usable() {
    let server = Server::builder()
        .config("enable-debug-command yes")
        .start()
        .unwrap();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Some(Duration::from_millis(100)))
        .connect()
        .await
        .unwrap();
    // DEBUG SLEEP holds the server longer than the timeout.
    let slow = client.cmd("DEBUG").arg("SLEEP").arg("0.5").await;
    match slow {
        Err(e) if e.is_timeout() => {
            // It was sent: the message says which timeout, how long, and that it
            // may have run.
            let text = e.to_string();
            assert!(!e.is_unsent(), "{text}");
            assert!(
                text.starts_with("DEBUG: timed out after 100ms (the request timeout) waiting for the reply: it was sent and may or may not have run"),
                "{text}"
            );
        }
        Err(e) if e.is_server() => {
            eprintln!("skipped: DEBUG is disabled on this server ({e})");
            return;
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // The late reply is discarded; the next command gets its own reply.
    let v = eventually(Duration::from_secs(5), || client.echo("after")).await;
    assert_eq!(v, Bytes::from("after"));
}
