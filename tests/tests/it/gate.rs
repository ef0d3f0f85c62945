//! The gate (`client/src/connection/gate.rs`): a caller writes its request itself
//! when the connection is idle. What it must not change: the order of one task's
//! requests, the liveness rule's timing, and large values the socket cannot take at
//! once.

use bytes::Bytes;
use respec::{Client, Commands};
use respec_tests::fake::{handshake_answer, serve, Answer};
use respec_tests::Server;
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
