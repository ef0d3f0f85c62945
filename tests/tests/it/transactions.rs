//! Transactions against a real server: `MULTI`/`EXEC` pipelines on the shared
//! connection, `WATCH` on dedicated pooled connections, and the retrying
//! `Client::transaction` helper, under RESP2 and RESP3.

use bytes::Bytes;
use respec::command::Raw;
use respec::connection::Protocol;
use respec::pipeline::watch::{Watched, DEFAULT_MAX_ATTEMPTS};
use respec::{cmd, Client, Commands, Error};
use respec_tests::{calls, protocols, Server};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The calls of every transaction command, in the order MULTI, EXEC, DISCARD, WATCH,
/// UNWATCH.
async fn transaction_calls(c: &Client) -> [u64; 5] {
    [
        calls(c, "multi").await,
        calls(c, "exec").await,
        calls(c, "discard").await,
        calls(c, "watch").await,
        calls(c, "unwatch").await,
    ]
}

/// A client speaking `protocol` whose pool holds at most `pool_size` connections.
async fn client_with_pool(server: &Server, protocol: Protocol, pool_size: usize) -> Client {
    Client::builder()
        .url(&server.url())
        .protocol(protocol)
        .pool_size(pool_size)
        .connect()
        .await
        .unwrap()
}

/// The server code of an error reply (`WRONGTYPE`), or a panic naming the error.
fn code(e: &Error) -> String {
    e.server_error()
        .unwrap_or_else(|| panic!("expected a server error, got {e}"))
        .code()
        .to_owned()
}

// ---------------------------------------------------------------------------------
// MULTI/EXEC pipelines on the shared connection
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn multi_exec_replies_are_a_typed_tuple() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let (ok, n, s, pushed, list, f, popped) = c
            .pipeline()
            .transaction()
            .add(cmd::set("a", 1))
            .add(cmd::incr("a"))
            .add(cmd::get("a").decode::<Option<String>>())
            .add(cmd::rpush("l", ["x", "y"]))
            .add(cmd::lrange("l", 0, -1).decode::<Vec<String>>())
            .add(cmd::incrbyfloat("f", 1.5))
            // Blocking commands do not block inside MULTI: an empty list is nil.
            .add(cmd::blpop(["empty"], 0))
            .execute()
            .await
            .unwrap();
        // An empty transaction is MULTI then EXEC, answering an empty array.
        let () = c.pipeline().transaction().execute().await.unwrap();
        // `transaction()` twice is still one MULTI.
        let before = calls(&c, "multi").await;
        let (one,) = c
            .pipeline()
            .transaction()
            .add(cmd::incr("a"))
            .transaction()
            .execute()
            .await
            .unwrap();
        let multis = calls(&c, "multi").await - before;
        (ok, n, s, pushed, list, f, popped, one, multis)
    })
    .await;
    assert_eq!(
        got,
        (
            true,
            2,
            Some("2".to_owned()),
            2,
            vec!["x".to_owned(), "y".to_owned()],
            1.5,
            None,
            3,
            1
        )
    );
}

#[tokio::test]
async fn run_time_error_in_a_transaction_keeps_the_others_results() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.set("s", "text").await.unwrap();
        let (a, pushed, s, d) = c
            .pipeline()
            .transaction()
            .add(cmd::incr("n"))
            .add(cmd::lpush("s", ["x"])) // WRONGTYPE when EXEC runs it
            .add(cmd::get("s"))
            .add(cmd::incr("n"))
            .execute_each()
            .await
            .unwrap();
        let err = pushed.unwrap_err();
        assert_eq!(err.command(), Some("LPUSH"), "{err}");
        let each = (a.unwrap(), code(&err), s.unwrap(), d.unwrap());

        // `execute` reports the failing command, but EXEC ran the others all the same:
        // a transaction is not rolled back.
        let err = c
            .pipeline()
            .transaction()
            .add(cmd::incr("n"))
            .add(cmd::lpush("s", ["x"]))
            .add(cmd::incr("n"))
            .execute()
            .await
            .unwrap_err();
        assert_eq!(err.command(), Some("LPUSH"), "{err}");
        let n: i64 = c.get("n").decode().await.unwrap();
        (each, code(&err), n)
    })
    .await;
    assert_eq!(
        got,
        (
            (1, "WRONGTYPE".to_owned(), Some(b("text")), 2),
            "WRONGTYPE".to_owned(),
            4
        )
    );
}

#[tokio::test]
async fn queue_time_error_discards_the_whole_transaction() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        // A wrong number of arguments: the server refuses to queue it, then EXEC
        // answers EXECABORT and nothing runs.
        let arity = c
            .pipeline()
            .transaction()
            .add(cmd::rpush("marker", ["x"]))
            .add(respec::raw_cmd("SET").arg("onlykey"))
            .add(cmd::incr("n"))
            .execute()
            .await
            .unwrap_err();
        assert_eq!(arity.command(), Some("SET"), "{arity}");
        assert!(
            arity.to_string().contains("wrong number of arguments"),
            "{arity}"
        );

        // An unknown command: its name is in the server's message.
        let unknown = c
            .pipeline()
            .transaction()
            .add(cmd::rpush("marker", ["x"]))
            .add(respec::raw_cmd("NOSUCHCOMMAND").arg("k"))
            .add(cmd::incr("n"))
            .execute_each()
            .await
            .unwrap_err();
        let text = unknown.to_string();
        assert!(
            text.contains("unknown command") && text.contains("NOSUCHCOMMAND"),
            "{text}"
        );

        // Nothing ran, and the shared connection is not left inside MULTI.
        let exists = c.exists(["marker", "n"]).await.unwrap();
        let pong = c.ping().await.unwrap();
        let set = c.set("after", 1).await.unwrap();
        (code(&arity), code(&unknown), exists, pong, set)
    })
    .await;
    assert_eq!(
        got,
        ("ERR".to_owned(), "ERR".to_owned(), 0, b("PONG"), true)
    );
}

#[tokio::test]
async fn discard_sends_nothing() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let before = transaction_calls(&c).await;
        c.pipeline()
            .transaction()
            .add(cmd::set("d", 1))
            .add(cmd::incr("d"))
            .discard()
            .await
            .unwrap();
        let after = transaction_calls(&c).await;
        (after == before, c.exists(["d"]).await.unwrap())
    })
    .await;
    assert_eq!(got, (true, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_connection_transactions_are_atomic() {
    const TASKS: usize = 32;
    const ROUNDS: usize = 40;
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let mut transactions = Vec::new();
        let mut plain = Vec::new();
        for _ in 0..TASKS {
            let c1 = c.clone();
            transactions.push(tokio::spawn(async move {
                let mut pairs = Vec::with_capacity(ROUNDS);
                for _ in 0..ROUNDS {
                    let (a, b): (i64, i64) = c1
                        .pipeline()
                        .transaction()
                        .add(cmd::incr("x"))
                        .add(cmd::incr("x"))
                        .execute()
                        .await
                        .unwrap();
                    pairs.push((a, b));
                }
                pairs
            }));
            let c2 = c.clone();
            plain.push(tokio::spawn(async move {
                let mut seen = Vec::with_capacity(ROUNDS);
                for _ in 0..ROUNDS {
                    seen.push(c2.incr("x").await.unwrap());
                }
                seen
            }));
        }
        let mut split = Vec::new();
        let mut all = Vec::new();
        for t in transactions {
            for (a, b) in t.await.unwrap() {
                if b != a + 1 {
                    split.push((a, b));
                }
                all.extend([a, b]);
            }
        }
        for t in plain {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        // Every INCR's reply went to its own caller: each value seen exactly once.
        let total = (TASKS * ROUNDS * 3) as i64;
        let each_once = all == (1..=total).collect::<Vec<i64>>();
        let x: i64 = c.get("x").decode().await.unwrap();
        (split, each_once, x)
    })
    .await;
    assert_eq!(got, (vec![], true, (TASKS * ROUNDS * 3) as i64));
}

// ---------------------------------------------------------------------------------
// WATCH on a dedicated connection
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_transaction_aborted_by_a_concurrent_write() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let other = protocols::client(server_ref, Protocol::Resp3).await;
        c.set("k", "0").await.unwrap();

        let w = c.watch(["k"]).await.unwrap();
        assert!(w.is_watching());
        let id = w.client_id().await.unwrap();
        let read: Option<String> = w.get("k").decode().await.unwrap();
        other.set("k", "theirs").await.unwrap();
        let err = w
            .multi()
            .add(cmd::set("k", "mine"))
            .execute()
            .await
            .unwrap_err();
        assert!(err.is_watch_conflict(), "{err}");
        assert_eq!(err.command(), Some("EXEC"), "{err}");
        assert!(!w.is_watching(), "EXEC unwatches every key");
        let after_conflict = c.get("k").await.unwrap();

        // With per-command results, a conflict is still the outer error.
        w.watch(["k"]).await.unwrap();
        other.set("k", "theirs again").await.unwrap();
        let each = w
            .multi()
            .add(cmd::set("k", "mine"))
            .add(cmd::incr("n"))
            .execute_each()
            .await
            .unwrap_err();
        assert!(each.is_watch_conflict(), "{each}");
        let n_absent = c.exists(["n"]).await.unwrap() == 0;

        // The same Watched watches again, on the same server connection, and wins.
        w.watch(["k"]).await.unwrap();
        assert!(w.is_watching());
        let same_connection = w.client_id().await.unwrap() == id;
        let (ok, v) = w
            .multi()
            .add(cmd::set("k", "mine"))
            .add(cmd::get("k").decode::<String>())
            .execute()
            .await
            .unwrap();
        assert!(!w.is_watching());

        // One dedicated connection, back in the pool once the Watched is dropped.
        let in_use = c.pool_status();
        drop(w);
        let back = c.pool_status();
        (
            read,
            after_conflict,
            n_absent,
            same_connection,
            ok,
            v,
            c.get("k").await.unwrap(),
            (in_use.open, in_use.idle, back.open, back.idle),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            Some("0".to_owned()),
            Some(b("theirs")),
            true,
            true,
            true,
            "mine".to_owned(),
            Some(b("mine")),
            (1, 0, 1, 1)
        )
    );
}

#[tokio::test]
async fn discard_on_a_watched_connection_unwatches() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let other = protocols::client(server_ref, Protocol::Resp3).await;
        let w = c.watch(["k"]).await.unwrap();
        let before = calls(&c, "unwatch").await;
        w.multi()
            .add(cmd::set("k", "dropped"))
            .discard()
            .await
            .unwrap();
        let unwatches = calls(&c, "unwatch").await - before;
        let watching = w.is_watching();
        // The key is no longer watched: another client's write does not abort.
        other.set("k", "theirs").await.unwrap();
        let (ok,) = w
            .multi()
            .add(cmd::set("k", "mine"))
            .execute()
            .await
            .unwrap();
        (unwatches, watching, ok, c.get("k").await.unwrap())
    })
    .await;
    assert_eq!(got, (1, false, true, Some(b("mine"))));
}

#[tokio::test]
async fn transaction_commands_are_rejected_before_sending() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let other = protocols::client(server_ref, Protocol::Resp3).await;
        let before = transaction_calls(&c).await;

        // On the shared connection, one by one.
        let mut refused: Vec<Error> = vec![
            c.unwatch().await.unwrap_err(),
            c.cmd("MULTI").await.unwrap_err(),
            c.cmd("exec").await.unwrap_err(),
            c.cmd("DISCARD").await.unwrap_err(),
            c.send(cmd::watch(["x"])).await.unwrap_err(),
        ];
        // Queued in pipelines of every kind.
        refused.push(
            c.pipeline()
                .add(cmd::set("x", 1))
                .add(cmd::watch(["x"]))
                .execute()
                .await
                .unwrap_err(),
        );
        refused.push(
            c.pipeline()
                .transaction()
                .add(cmd::set("x", 1))
                .add(respec::raw_cmd("MULTI"))
                .execute()
                .await
                .unwrap_err(),
        );
        let mut dynamic = c.pipeline_dyn();
        dynamic.push(cmd::set("x", 1)).push(respec::raw_cmd("EXEC"));
        refused.push(dynamic.execute().await.unwrap_err());
        refused.push(c.batch([cmd::unwatch()]).await.unwrap_err());

        let shared_unchanged = transaction_calls(&c).await == before;
        let x_absent = c.exists(["x"]).await.unwrap() == 0;

        // On a watched connection: MULTI, EXEC and DISCARD one by one, and WATCH or
        // EXEC queued inside its transaction.
        let w: Watched = c.watch(["x"]).await.unwrap();
        refused.push(Raw::new_in(&w, "MULTI").await.unwrap_err());
        refused.push(Raw::new_in(&w, "EXEC").await.unwrap_err());
        refused.push(Raw::new_in(&w, "DISCARD").await.unwrap_err());
        refused.push(
            w.multi()
                .add(cmd::set("x", 1))
                .add(cmd::watch(["y"]))
                .execute()
                .await
                .unwrap_err(),
        );
        refused.push(
            w.multi()
                .add(respec::raw_cmd("EXEC"))
                .execute()
                .await
                .unwrap_err(),
        );
        let after = transaction_calls(&c).await;
        // Only the WATCH of `c.watch` reached the server.
        let watched_unchanged =
            after == [before[0], before[1], before[2], before[3] + 1, before[4]];
        // And the key is still watched: nothing reset the connection's state.
        let watching = w.is_watching();
        other.set("x", "theirs").await.unwrap();
        let conflict = w
            .multi()
            .add(cmd::set("x", "mine"))
            .execute()
            .await
            .unwrap_err()
            .is_watch_conflict();

        for e in &refused {
            assert!(e.is_refused() && e.is_unsent(), "{e}");
        }
        let names: Vec<Option<String>> = refused
            .iter()
            .map(|e| e.command().map(str::to_owned))
            .collect();
        (
            names,
            shared_unchanged,
            x_absent,
            watched_unchanged,
            watching,
            conflict,
        )
    })
    .await;
    let expected_names = [
        "UNWATCH", "MULTI", "EXEC", "DISCARD", "WATCH", "WATCH", "MULTI", "EXEC", "UNWATCH",
        "MULTI", "EXEC", "DISCARD", "WATCH", "EXEC",
    ];
    assert_eq!(
        got,
        (
            expected_names.iter().map(|n| Some(n.to_string())).collect(),
            true,
            true,
            true,
            true,
            true
        )
    );
}

// ---------------------------------------------------------------------------------
// The connection goes back to the pool clean
// ---------------------------------------------------------------------------------

/// After a `Watched` on `first` went back to the pool: watches `second`, lets
/// `other` write `first`, and runs a transaction on `second`. Returns whether the
/// connection is the one with CLIENT ID `id`, whether the transaction ran (it does
/// only if `first` is no longer watched), the value of `second`, and the pool's
/// (open, idle) at the end.
async fn reuse_after_first(
    c: &Client,
    other: &Client,
    id: i64,
) -> (bool, bool, Option<Bytes>, (usize, usize)) {
    let w = c.watch(["second"]).await.unwrap();
    let same = w.client_id().await.unwrap() == id;
    other.set("first", "theirs").await.unwrap();
    let (ok,) = w
        .multi()
        .add(cmd::set("second", "mine"))
        .execute()
        .await
        .unwrap();
    drop(w);
    let end = c.pool_status();
    (
        same,
        ok,
        c.get("second").await.unwrap(),
        (end.open, end.idle),
    )
}

#[tokio::test]
async fn a_dropped_watched_connection_is_unwatched_before_reuse() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let other = protocols::client(server_ref, Protocol::Resp3).await;
        let w = c.watch(["first"]).await.unwrap();
        let id = w.client_id().await.unwrap();
        // A connection of its own, not the shared one.
        assert_ne!(id, c.client_id().await.unwrap());
        // The connection goes back when the last clone is dropped, not before.
        let clone = w.clone();
        drop(w);
        let with_a_clone = c.pool_status();
        drop(clone);
        let dropped = c.pool_status();

        // Reused: the same server connection, no longer watching `first`.
        let (same, ok, second, end) = reuse_after_first(&c, &other, id).await;
        (
            (with_a_clone.open, with_a_clone.idle),
            (dropped.open, dropped.idle),
            same,
            ok,
            second,
            end,
        )
    })
    .await;
    assert_eq!(got, ((1, 0), (1, 1), true, true, Some(b("mine")), (1, 1)));
}

#[tokio::test]
async fn a_cancelled_transaction_helper_returns_its_connection_clean() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let other = protocols::client(server_ref, Protocol::Resp3).await;
        // The helper reads, tells us its connection's id, then waits forever.
        let (reached_tx, reached_rx) = tokio::sync::oneshot::channel::<i64>();
        let reached = Mutex::new(Some(reached_tx));
        let helper = c.transaction(["first"], |tx| {
            let reached = &reached;
            async move {
                let _: Option<Bytes> = tx.get("first").await?;
                let id = tx.client_id().await?;
                let signal = reached.lock().unwrap().take().expect("runs once");
                signal.send(id).unwrap();
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        let id = tokio::select! {
            r = std::future::IntoFuture::into_future(helper) => panic!("the helper cannot finish: {r:?}"),
            id = reached_rx => id.unwrap(),
        };
        // Cancelled between commands: nothing in flight, so the connection is kept.
        let cancelled = c.pool_status();

        let (same, ok, second, end) = reuse_after_first(&c, &other, id).await;
        ((cancelled.open, cancelled.idle), same, ok, second, end)
    })
    .await;
    assert_eq!(got, ((1, 1), true, true, Some(b("mine")), (1, 1)));
}

#[tokio::test]
async fn a_transaction_cancelled_mid_command_gets_its_connection_back_unblocked() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let (reached_tx, reached_rx) = tokio::sync::oneshot::channel::<i64>();
        let reached = Mutex::new(Some(reached_tx));
        let helper = c.transaction(["first"], |tx| {
            let reached = &reached;
            async move {
                let id = tx.client_id().await?;
                let signal = reached.lock().unwrap().take().expect("runs once");
                signal.send(id).unwrap();
                // Sent at once, and never answered: an empty list, no timeout.
                let _ = tx.blpop(["nothing"], 0).await?;
                Ok(())
            }
        });
        let id = tokio::select! {
            r = std::future::IntoFuture::into_future(helper) => panic!("the helper cannot finish: {r:?}"),
            id = reached_rx => id.unwrap(),
        };
        // A reply is still owed on that connection: the BLPOP is unblocked with CLIENT
        // UNBLOCK, and the connection goes back to the pool (unwatched) once a PING
        // behind it is answered; until then its slot stays taken.
        let cancelled = c.pool_status();
        let w = c.watch(["second"]).await.unwrap();
        // The default pool has room: this is another connection.
        let other_connection = w.client_id().await.unwrap() != id;
        let (ok,) = w
            .multi()
            .add(cmd::set("second", "mine"))
            .execute()
            .await
            .unwrap();
        drop(w);
        // Both end up idle: the unblocked one came back.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while c.pool_status().idle < 2 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let end = c.pool_status();
        // Nothing is blocked any more, and the unblocked connection still exists.
        let list: String = c.client_list().decode().await.unwrap();
        let alive = list.contains(&format!("id={id} "));
        let blocked = list.lines().filter(|l| l.contains("cmd=blpop")).count();
        (
            (cancelled.open, cancelled.idle),
            other_connection,
            ok,
            (end.open, end.idle),
            alive,
            blocked,
        )
    })
    .await;
    assert_eq!(got, ((1, 0), true, true, (2, 2), true, 0));
}

// ---------------------------------------------------------------------------------
// The retrying helper
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transaction_helper_counts_exactly_under_contention() {
    const TASKS: i64 = 200;
    const POOL: usize = 16;
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = client_with_pool(&server, protocol, POOL).await;
        client.del(["counter"]).await.unwrap();
        let attempts = Arc::new(AtomicUsize::new(0));
        let max_open = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let client = client.clone();
                let attempts = attempts.clone();
                let max_open = max_open.clone();
                tokio::spawn(async move {
                    let c = &client;
                    client
                        .transaction(["counter"], |tx| {
                            attempts.fetch_add(1, Ordering::SeqCst);
                            max_open.fetch_max(c.pool_status().open, Ordering::SeqCst);
                            async move {
                                let n: Option<i64> = tx.get("counter").decode().await?;
                                let n = n.unwrap_or(0) + 1;
                                tx.multi().add(cmd::set("counter", n)).execute().await?;
                                Ok(n)
                            }
                        })
                        .max_attempts(100_000)
                        .await
                })
            })
            .collect();
        let mut written = Vec::new();
        for t in tasks {
            written.push(t.await.unwrap().unwrap());
        }
        written.sort_unstable();
        // Each task wrote its own next value: no two saw the same count.
        assert_eq!(written, (1..=TASKS).collect::<Vec<_>>(), "{protocol:?}");
        let counter: i64 = client.get("counter").decode().await.unwrap();
        assert_eq!(counter, TASKS, "{protocol:?}");
        let attempts = attempts.load(Ordering::SeqCst);
        assert!(attempts >= TASKS as usize, "{attempts}");
        let max_open = max_open.load(Ordering::SeqCst);
        assert!((1..=POOL).contains(&max_open), "{max_open}");
        let status = client.pool_status();
        assert_eq!(status.max_size, POOL);
        assert!(status.open <= POOL, "{status:?}");
        assert_eq!(
            status.idle, status.open,
            "every connection back: {status:?}"
        );
        eprintln!(
            "{protocol:?}: {attempts} attempts for {TASKS} increments, {max_open} open at most"
        );
    }
}

#[tokio::test]
async fn conflicts_are_retried_up_to_max_attempts() {
    let server = Server::start();
    let server_ref = &server;
    let got = protocols::both(&server, |c| async move {
        let other = protocols::client(server_ref, Protocol::Resp3).await;
        // Every attempt is aborted: another client writes the key after WATCH.
        let always = |limit: Option<usize>| {
            let c = &c;
            let other = &other;
            async move {
                let runs = AtomicUsize::new(0);
                let helper = c.transaction(["k"], |tx| {
                    let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        let _: Option<Bytes> = tx.get("k").await?;
                        other.set("k", run).await?;
                        tx.multi().add(cmd::set("k", "mine")).execute().await?;
                        Ok(())
                    }
                });
                let r = match limit {
                    Some(n) => helper.max_attempts(n).await,
                    None => helper.await,
                };
                let err = r.unwrap_err();
                assert!(err.is_watch_conflict(), "{err}");
                let value: String = c.get("k").decode().await.unwrap();
                (runs.load(Ordering::SeqCst), value)
            }
        };
        let three = always(Some(3)).await;
        let zero_means_once = always(Some(0)).await;
        let default = always(None).await;

        // Two conflicts, then a clean run: the helper returns its result.
        let runs = AtomicUsize::new(0);
        let won = c
            .transaction(["k"], |tx| {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                let other = &other;
                async move {
                    let _: Option<Bytes> = tx.get("k").await?;
                    if run <= 2 {
                        other.set("k", "theirs").await?;
                    }
                    let (ok,) = tx.multi().add(cmd::set("k", "mine")).execute().await?;
                    Ok((run, ok))
                }
            })
            .max_attempts(5)
            .await
            .unwrap();
        let status = c.pool_status();
        (
            three,
            zero_means_once,
            default,
            won,
            runs.load(Ordering::SeqCst),
            c.get("k").await.unwrap(),
            (status.open, status.idle),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            (3, "3".to_owned()),
            (1, "1".to_owned()),
            (DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS.to_string()),
            (3, true),
            3,
            Some(b("mine")),
            (1, 1)
        )
    );
}

#[tokio::test]
async fn other_errors_are_returned_without_retry() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.set("s", "text").await.unwrap();
        let runs = AtomicUsize::new(0);
        // A server error in immediate mode.
        let immediate = c
            .transaction(["s"], |tx| {
                runs.fetch_add(1, Ordering::SeqCst);
                async move {
                    tx.lpush("s", ["x"]).await?;
                    Ok(())
                }
            })
            .max_attempts(10)
            .await
            .unwrap_err();
        let immediate = (code(&immediate), runs.swap(0, Ordering::SeqCst));

        // A command failing inside EXEC.
        let in_exec = c
            .transaction(["s"], |tx| {
                runs.fetch_add(1, Ordering::SeqCst);
                async move {
                    tx.multi().add(cmd::lpush("s", ["x"])).execute().await?;
                    Ok(())
                }
            })
            .max_attempts(10)
            .await
            .unwrap_err();
        assert_eq!(in_exec.command(), Some("LPUSH"), "{in_exec}");
        let in_exec = (code(&in_exec), runs.swap(0, Ordering::SeqCst));

        // The function's own error.
        let own = c
            .transaction(["s"], |_tx| {
                runs.fetch_add(1, Ordering::SeqCst);
                async move { Err::<(), _>(Error::invalid_argument("amount", "must be positive")) }
            })
            .max_attempts(10)
            .await
            .unwrap_err();
        let own = (own.is_invalid_argument(), runs.swap(0, Ordering::SeqCst));

        // No keys to watch: refused before a connection is taken or the function runs.
        let none = c
            .transaction(Vec::<&str>::new(), |_tx| {
                runs.fetch_add(1, Ordering::SeqCst);
                async move { Ok(()) }
            })
            .await
            .unwrap_err();
        let none = (none.is_invalid_argument(), runs.load(Ordering::SeqCst));

        let status = c.pool_status();
        (immediate, in_exec, own, none, (status.open, status.idle))
    })
    .await;
    assert_eq!(
        got,
        (
            ("WRONGTYPE".to_owned(), 1),
            ("WRONGTYPE".to_owned(), 1),
            (true, 1),
            (true, 0),
            (1, 1)
        )
    );
}

#[tokio::test]
async fn a_database_selected_on_a_watched_connection_does_not_leak_to_the_next_user() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        // SELECT in immediate mode.
        let w = c.watch(["k"]).await.unwrap();
        let first = w.client_id().await.unwrap();
        w.select(5).await.unwrap();
        drop(w);
        // The connection is not handed on: the next user gets a fresh one...
        let w = c.watch(["k"]).await.unwrap();
        let second = w.client_id().await.unwrap();
        let (ok,) = w.multi().add(cmd::set("k", "v")).execute().await.unwrap();
        drop(w);
        // ... so its write lands in the client's database (0).
        let in_db0 = c.get("k").await.unwrap();

        // SELECT queued in a transaction changes the connection when EXEC runs.
        let w = c.watch(["k"]).await.unwrap();
        let third = w.client_id().await.unwrap();
        w.multi().add(cmd::select(6)).execute().await.unwrap();
        drop(w);
        let w = c.watch(["k"]).await.unwrap();
        let fourth = w.client_id().await.unwrap();
        let (ok2,) = w.multi().add(cmd::set("k2", "v2")).execute().await.unwrap();
        drop(w);
        (
            first != second && third != fourth,
            ok && ok2,
            in_db0,
            c.get("k2").await.unwrap(),
            c.pool_status().open,
        )
    })
    .await;
    assert_eq!(got, (true, true, Some(b("v")), Some(b("v2")), 1));
}
