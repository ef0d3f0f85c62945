//! The gate (`client/src/connection/gate.rs`): a caller writes its request itself
//! when the connection is idle. What it must not change: the order of one task's
//! requests, the liveness rule's timing, and large values the socket cannot take at
//! once.

use bytes::Bytes;
use respec::{Client, Commands};
use respec_tests::fake::{handshake_answer, serve, Answer};
use respec_tests::Server;
use std::future::Future;
use std::time::{Duration, Instant};

/// The liveness rule counts a request's wait from when it was written, also when
/// its caller wrote it to a connection that had been idle for longer than the
/// timeout (the driver's health timer then last ran before the request existed).
#[tokio::test]
async fn a_request_to_a_long_idle_connection_gets_the_whole_liveness_timeout() {
    // The first connection never answers a request; later ones answer `$2 ok`.
    let (url, _) = serve(|n, words| match handshake_answer(words) {
        Some(a) => Answer::Write(a),
        None if n == 0 => Answer::Write(b""),
        None => Answer::Write(b"$2\r\nok\r\n"),
    })
    .await;
    let limit = Duration::from_secs(1);
    let client = Client::builder()
        .url(&url)
        .liveness_timeout(Some(limit))
        .connect()
        .await
        .unwrap();
    // Idle past the timeout, so the health timer has fired with nothing waiting
    // and is due again in less than the timeout.
    tokio::time::sleep(limit.mul_f64(1.6)).await;
    let start = Instant::now();
    let err = tokio::time::timeout(limit * 5, client.get("k"))
        .await
        .expect("the silent connection was never replaced")
        .unwrap_err();
    let took = start.elapsed();
    println!("after {took:?}: {err}");
    assert!(err.is_io(), "{err}");
    assert!(
        took >= limit.mul_f64(0.9) && took <= limit.mul_f64(1.2),
        "taken for dead after {took:?}, not within the liveness timeout {limit:?}"
    );
    assert_eq!(client.get("k").await.unwrap(), Some(Bytes::from("ok")));
}

/// One task's requests are answered in the order it made them, whether the first
/// went through the gate and the next ones through the driver's queue, with
/// another task competing for the gate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tasks_requests_keep_their_order_through_the_gate_and_the_queue() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..2 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("gate:order:{t}");
            let mut last = 0;
            for round in 0..2_000 {
                // Sometimes alone (through the gate), sometimes three at once.
                let (a, b, c) = if round % 2 == 0 {
                    let a = client.incr(&key).await.unwrap();
                    (a, a + 1, a + 2)
                } else {
                    let (a, b, c) = tokio::join!(
                        client.incr(&key).into_future(),
                        client.incr(&key).into_future(),
                        client.incr(&key).into_future()
                    );
                    (a.unwrap(), b.unwrap(), c.unwrap())
                };
                assert_eq!(a, last + 1, "round {round}: a reply out of order");
                if round % 2 == 1 {
                    assert_eq!(
                        (b, c),
                        (a + 1, a + 2),
                        "round {round}: replies out of order"
                    );
                    last = c;
                } else {
                    last = a;
                }
            }
            last
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 4_000);
    }
}

/// A value larger than the socket takes at once, written by its caller to an idle
/// connection: the driver writes the rest, and the value arrives whole.
#[tokio::test]
async fn a_value_the_socket_cannot_take_at_once_is_finished_by_the_driver() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    for (i, len) in [64 << 10, 4 << 20, 24 << 20].into_iter().enumerate() {
        let value: Bytes = (0..len)
            .map(|n| (n % 251) as u8)
            .collect::<Vec<u8>>()
            .into();
        let key = format!("gate:big:{i}");
        client.set(&key, value.clone()).await.unwrap();
        assert_eq!(client.get(&key).await.unwrap(), Some(value), "{len} bytes");
        // And the connection is in step afterwards.
        assert_eq!(client.strlen(&key).await.unwrap(), len as i64);
    }
}

/// Polls `fut` once, with this task's waker.
async fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

/// A caller that wrote through the gate reads its own reply while the driver is
/// parked. If it stops polling (its future kept, not awaited), the requests of
/// others still get their replies: the driver takes the reading back when it runs,
/// and the held future gets its reply later.
#[tokio::test]
async fn a_caller_that_stops_polling_while_it_reads_holds_up_nobody() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.set("gate:held", "v").await.unwrap();
    for round in 0..50 {
        // The previous request left the connection idle: this one goes through the
        // gate, and its future reads its reply.
        let mut held = Box::pin(client.get("gate:held").into_future());
        if round % 2 == 1 {
            // Polled once: its waker, not the driver's, waits for the reply.
            assert!(poll_once(&mut held).await.is_pending());
        }
        let others = async {
            for i in 0..20 {
                assert_eq!(
                    client.incr("gate:held:n").await.unwrap(),
                    round * 20 + i + 1
                );
            }
        };
        tokio::time::timeout(Duration::from_secs(10), others)
            .await
            .unwrap_or_else(|_| panic!("round {round}: held up by a caller that stopped polling"));
        assert_eq!(held.await.unwrap(), Some(Bytes::from("v")), "round {round}");
    }
}

/// A waker that reports each wake on a channel.
struct Reports(tokio::sync::mpsc::UnboundedSender<()>);

impl std::task::Wake for Reports {
    fn wake(self: std::sync::Arc<Self>) {
        let _ = self.0.send(());
    }
}

/// A caller reading its own reply waits on the gate, not on its slot; when the
/// driver takes the reading back (another caller's request came), it must wake
/// that caller, which then finds its reply in the slot. Its future is polled once
/// with a waker of its own, and is polled again only once that waker is woken:
/// a wake lost here would leave an awaiting task asleep for ever.
#[tokio::test]
async fn a_caller_whose_reading_is_taken_back_is_woken_for_its_reply() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.set("gate:woken", "v").await.unwrap();
    let mut reading = 0;
    for round in 0..50 {
        let mut held = Box::pin(client.get("gate:woken").into_future());
        let (tx, mut woken) = tokio::sync::mpsc::unbounded_channel();
        let waker = std::task::Waker::from(std::sync::Arc::new(Reports(tx)));
        let first = held
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker));
        if first.is_ready() {
            // Its reply came within its first poll: nothing to take back.
            continue;
        }
        reading += 1;
        // The driver runs for this request, and takes the reading back.
        assert_eq!(client.incr("gate:woken:n").await.unwrap(), reading);
        tokio::time::timeout(Duration::from_secs(10), woken.recv())
            .await
            .unwrap_or_else(|_| panic!("round {round}: the held future was never woken"));
        assert_eq!(held.await.unwrap(), Some(Bytes::from("v")), "round {round}");
    }
    assert!(
        reading >= 10,
        "only {reading} of 50 requests were still being read"
    );
}

/// A caller that gives up while it reads its own reply, part of the reply read:
/// the driver reads the rest and drops it, and the next reply is the next
/// request's (the connection stays in step).
#[tokio::test]
async fn a_caller_that_gives_up_in_the_middle_of_its_reply_leaves_the_connection_in_step() {
    // `GET a` is answered with the first 3 bytes of 10; the next command with the
    // other 7, then its own reply.
    let (url, _) = serve(|_, words| match handshake_answer(words) {
        Some(a) => Answer::Write(a),
        None => match words {
            [_] => Answer::Write(b"+PONG\r\n"),
            [_, key] if key == b"a" => Answer::Write(b"$10\r\nabc"),
            _ => Answer::Write(b"defghij\r\n$1\r\nb\r\n"),
        },
    })
    .await;
    let client = Client::connect(&url).await.unwrap();
    // Leaves the connection idle, its gate open.
    assert_eq!(client.ping().await.unwrap(), "PONG");
    let mut cut = Box::pin(client.get("a").into_future());
    // Polled until the first bytes must have been read (the fake wrote them at
    // once; either way the outcome below must hold).
    for _ in 0..20 {
        assert!(poll_once(&mut cut).await.is_pending());
        tokio::task::yield_now().await;
    }
    drop(cut);
    let b = tokio::time::timeout(Duration::from_secs(10), client.get("b"))
        .await
        .expect("the next request was never answered")
        .unwrap();
    assert_eq!(b, Some(Bytes::from("b")));
}

/// Push frames that arrive while a caller reads its own reply (a connection with
/// client tracking turned on by hand, so the client does not expect them) go to
/// the driver: each reaches the push hook, in whichever order the server sends the
/// push and the reply, and every reply reaches its caller.
#[tokio::test]
async fn pushes_met_by_a_caller_reading_its_reply_go_to_the_driver() {
    let server = Server::start();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = Client::builder()
        .url(&server.url())
        .push_hook(std::sync::Arc::new(
            move |push: respec::connection::Push| {
                let _ = tx.send(push);
            },
        ))
        .connect()
        .await
        .unwrap();
    client
        .client_tracking(respec::types::OnOff::On)
        .await
        .unwrap();
    for round in 0..100 {
        let key = format!("gate:push:{}", round % 3);
        client.set(&key, round.to_string()).await.unwrap();
        // Read, so the server tracks the key for this connection...
        assert_eq!(
            client.get(&key).await.unwrap(),
            Some(Bytes::from(round.to_string()))
        );
        // ...and this write invalidates it: a push to this very connection, next
        // to the reply.
        client.set(&key, "x").await.unwrap();
        let push = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("round {round}: no invalidation within 10 s"))
            .unwrap();
        assert_eq!(
            push,
            respec::connection::Push::Invalidate(Some(vec![Bytes::from(key)])),
            "round {round}"
        );
    }
}

/// A pipeline whose caller reads its replies itself has no slot until the driver
/// takes the reading back: then the replies read so far go with it, and the caller
/// gets all of them, in order, from the slot made then.
#[tokio::test]
async fn a_pipeline_taken_back_midway_gets_every_reply_in_order() {
    // `GET p1` is answered whole, `GET p2` with the first bytes of its reply; the
    // next command with the rest of it, then its own reply.
    let (url, _) = serve(|_, words| match handshake_answer(words) {
        Some(a) => Answer::Write(a),
        None => match words {
            [_] => Answer::Write(b"+PONG\r\n"),
            [_, key] if key == b"p1" => Answer::Write(b"$2\r\np1\r\n"),
            [_, key] if key == b"p2" => Answer::Write(b"$2\r\np"),
            _ => Answer::Write(b"2\r\n$1\r\nb\r\n"),
        },
    })
    .await;
    let client = Client::connect(&url).await.unwrap();
    // Leaves the connection idle, its gate open.
    assert_eq!(client.ping().await.unwrap(), "PONG");
    let mut held = Box::pin(client.batch(["p1", "p2"].map(respec::cmd::get)));
    // Polled until the first reply and part of the second must have been read
    // (either way the outcome below must hold).
    for _ in 0..20 {
        assert!(poll_once(&mut held).await.is_pending());
        tokio::task::yield_now().await;
    }
    // Queued behind the pipeline: the driver runs and takes the reading back.
    let b = tokio::time::timeout(Duration::from_secs(10), client.get("b"))
        .await
        .expect("the next request was never answered")
        .unwrap();
    assert_eq!(b, Some(Bytes::from("b")));
    let replies: Vec<Option<Bytes>> = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the pipeline's caller was never answered")
        .unwrap();
    assert_eq!(
        replies,
        [Some(Bytes::from("p1")), Some(Bytes::from("p2"))],
        "the replies read before and after the reading went back"
    );
}

/// A request that times out while its caller reads its reply was written: the
/// error says it may have run (never "not sent").
#[tokio::test]
async fn a_request_timed_out_while_its_caller_reads_the_reply_was_sent() {
    let (url, _) = serve(|_, words| match handshake_answer(words) {
        Some(a) => Answer::Write(a),
        None => match words {
            [_] => Answer::Write(b"+PONG\r\n"),
            // Never answered.
            _ => Answer::WriteWhen(Box::pin(std::future::pending()), Vec::new()),
        },
    })
    .await;
    let client = Client::builder()
        .url(&url)
        .request_timeout(Some(Duration::from_millis(200)))
        .connect()
        .await
        .unwrap();
    assert_eq!(client.ping().await.unwrap(), "PONG");
    let err = client.get("slow").await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(!err.is_unsent(), "said not sent, but it was written: {err}");
}
