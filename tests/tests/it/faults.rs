//! Faults found by fault injection (issue 13), each with the test that failed before
//! its fix: a sub-second `Duration` that deleted the key, a full queue, a connection
//! that never recovered from a server that stopped answering, and arguments longer
//! than the server accepts. (The stopped server's memory test and the reconnect
//! storm measure the process: they are in `isolated.rs`.)

use bytes::Bytes;
use respec::connection::{QueueFull, QueueOptions};
use respec::{Client, Commands};
use respec_tests::fake::{ends_handshake, handshake_answer, serve, Answer};
use respec_tests::{Proxy, Server};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Issue 13.1: `expire(k, 500 ms)` was sent as `EXPIRE k 0` and deleted the key.
#[tokio::test]
async fn a_sub_second_duration_is_refused_and_the_key_survives() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    client.set("k", "v").await.unwrap();
    let err = client
        .expire("k", Duration::from_millis(500))
        .await
        .unwrap_err();
    println!("{err}");
    assert!(err.is_invalid_argument() && err.is_unsent(), "{err}");
    assert!(
        err.to_string()
            .starts_with("EXPIRE: invalid argument `seconds`"),
        "{err}"
    );
    let err = client
        .set("k2", "v")
        .ex(Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("SET: invalid argument"),
        "{err}"
    );
    // Nothing was sent: the key is intact and has no TTL.
    assert_eq!(client.get("k").await.unwrap(), Some(Bytes::from("v")));
    assert_eq!(client.ttl("k").await.unwrap(), -1);
    assert_eq!(client.exists(["k2"]).await.unwrap(), 0);
    // The milliseconds form carries it.
    assert!(client
        .pexpire("k", Duration::from_millis(500))
        .await
        .unwrap());
    assert!(client.pttl("k").await.unwrap() > 0);
}

/// With `QueueFull::Fail`, a full queue fails at once, and the request is unsent.
#[tokio::test]
async fn a_full_queue_fails_fast_when_asked() {
    let mut server = Server::start();
    let client = Client::builder()
        .url(&server.url())
        .queue(QueueOptions {
            capacity: 4,
            when_full: QueueFull::Fail,
        })
        .connect()
        .await
        .unwrap();
    server.pause();
    // Large values fill the socket buffers, then the driver's buffer, then the queue.
    let value = Bytes::from(vec![b'y'; 256 * 1024]);
    let mut pending = Vec::new();
    let mut full = None;
    for i in 0..2000 {
        let fut = client.set(format!("full:{i}"), value.clone());
        let mut fut = Box::pin(std::future::IntoFuture::into_future(fut));
        match tokio::time::timeout(Duration::from_millis(5), &mut fut).await {
            Ok(Err(e)) if e.is_queue_full() => {
                full = Some((i, e));
                break;
            }
            Ok(r) => panic!("the stopped server answered: {r:?}"),
            Err(_) => pending.push(fut),
        }
    }
    let (at, err) = full.expect("the queue never filled");
    println!("queue full after {at} SETs: {err}");
    assert!(err.is_unsent(), "{err}");
    assert!(err.to_string().contains("queue is full"), "{err}");
    server.resume();
    for fut in pending {
        assert!(fut.await.unwrap());
    }
    assert_eq!(
        client.exists([format!("full:{at}")]).await.unwrap(),
        0,
        "the refused SET ran"
    );
}

/// With `QueueFull::Wait` and a small queue, many tasks whose requests time out
/// (waiting for room, queued or in flight), are dropped or succeed, while a paused
/// server and large values back the queue up: every request ends, and at most once
/// holds: a request that failed as unsent never ran, one that succeeded ran once, so
/// each task's counter lies between its successes and its successes plus the
/// requests that may have run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_waiting_queue_under_cancellations_runs_each_request_at_most_once() {
    let (ok, unsent) = small_waiting_queue(Some(Duration::from_millis(30))).await;
    assert!(ok > 0 && unsent > 0, "{ok} succeeded, {unsent} unsent");
}

/// The same without a request timeout: callers waiting for room are woken when there
/// is some (a lost wake-up leaves a caller waiting for ever), and dropped futures
/// still run their requests at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_waiting_for_room_in_a_small_queue_all_get_in() {
    let (ok, _) = small_waiting_queue(None).await;
    assert!(ok > 0, "nothing succeeded");
}

/// The load of the two tests above: each task's successes and requests failed as
/// unsent, summed.
async fn small_waiting_queue(request_timeout: Option<Duration>) -> (i64, i64) {
    const TASKS: usize = 64;
    let mut server = Server::start();
    let client = Client::builder()
        .url(&server.url())
        .queue(QueueOptions {
            capacity: 8,
            when_full: QueueFull::Wait,
        })
        .request_timeout(request_timeout)
        .connect()
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let unsent_so_far = Arc::new(AtomicUsize::new(0));
    let mut counters = Vec::new();
    for task in 0..TASKS {
        let (client, stop, unsent_so_far) = (client.clone(), stop.clone(), unsent_so_far.clone());
        counters.push(tokio::spawn(async move {
            let key = format!("queue:at-most-once:{task}");
            let (mut ok, mut maybe, mut unsent, mut last) = (0i64, 0i64, 0i64, 0i64);
            while !stop.load(Ordering::Relaxed) {
                // Some futures are dropped early, wherever the request then is.
                let patience = Duration::from_micros(fastrand::u64(0..4_000));
                let incr = client.incr(&key);
                let outcome = if fastrand::bool() {
                    tokio::time::timeout(patience, std::future::IntoFuture::into_future(incr)).await
                } else {
                    Ok(incr.await)
                };
                match outcome {
                    Ok(Ok(n)) => {
                        assert!(n > last, "{key}: {n} after {last}");
                        (ok, last) = (ok + 1, n);
                    }
                    Ok(Err(e)) if e.is_unsent() => {
                        unsent += 1;
                        unsent_so_far.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Err(_)) | Err(_) => maybe += 1,
                }
            }
            (key, ok, maybe, unsent)
        }));
    }
    // Writers of large values fill the socket while the server is paused, so the
    // queue backs up and callers wait for room.
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, stop) = (client.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let value = Bytes::from(vec![b'q'; 1 << 20]);
            while !stop.load(Ordering::Relaxed) {
                let _ = client.set(format!("queue:big:{w}"), value.clone()).await;
            }
        }));
    }
    for round in 1..=3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        server.pause();
        // Paused until requests time out before they are taken (bounded); without
        // a request timeout, for a while (callers then wait for room).
        let deadline = Instant::now()
            + match request_timeout {
                Some(_) => Duration::from_secs(20),
                None => Duration::from_millis(200),
            };
        while unsent_so_far.load(Ordering::Relaxed) < round && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        server.resume();
    }
    stop.store(true, Ordering::Relaxed);
    let (mut all_ok, mut all_unsent) = (0, 0);
    for counter in counters {
        let (key, ok, maybe, unsent) = tokio::time::timeout(Duration::from_secs(30), counter)
            .await
            .expect("a caller never got an answer")
            .unwrap();
        let ran = client
            .get(&key)
            .decode::<Option<i64>>()
            .await
            .unwrap()
            .unwrap_or(0);
        assert!(
            ok <= ran && ran <= ok + maybe,
            "{key}: ran {ran} times, {ok} succeeded, {maybe} may have run, {unsent} unsent"
        );
        (all_ok, all_unsent) = (all_ok + ok, all_unsent + unsent);
    }
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .expect("a writer never got an answer")
            .unwrap();
    }
    println!("{all_ok} succeeded, {all_unsent} failed unsent");
    (all_ok, all_unsent)
}

/// A fake server whose first connection answers `GET` with a bulk header and three
/// bytes of ten, then nothing (the connection stays open); later connections answer
/// `$2 ok`. Returns its URL and the count of connections.
async fn stalls_mid_reply() -> (String, Arc<AtomicUsize>) {
    serve(|n, words| match handshake_answer(words) {
        Some(a) => Answer::Write(a),
        None if n == 0 => Answer::Write(b"$10\r\nabc"),
        None => Answer::Write(b"$2\r\nok\r\n"),
    })
    .await
}

/// Issue 13.3: a server that sends a length header and then nothing left the shared
/// connection stuck for good. Now it is replaced within the liveness timeout.
#[tokio::test]
async fn a_reply_cut_off_by_silence_replaces_the_connection_within_the_liveness_timeout() {
    let (url, connections) = stalls_mid_reply().await;
    let limit = Duration::from_secs(1);
    let client = Client::builder()
        .url(&url)
        .liveness_timeout(Some(limit))
        .connect()
        .await
        .unwrap();
    let start = Instant::now();
    let err = tokio::time::timeout(limit * 5, client.get("k"))
        .await
        .expect("the stuck connection was never replaced")
        .unwrap_err();
    let took = start.elapsed();
    println!("after {took:?}: {err}");
    assert!(err.is_io(), "{err}");
    assert!(err.to_string().contains("may or may not have run"), "{err}");
    // The message is one level; the cause (the liveness rule) is its source.
    assert!(!err.to_string().contains("liveness_timeout"), "{err}");
    assert!(format!("{err:?}").contains("liveness_timeout"), "{err:?}");
    assert!(
        took >= limit.mul_f64(0.9) && took <= limit.mul_f64(1.1),
        "replaced after {took:?}, not within 10 % of {limit:?}"
    );
    // A new connection serves the next request.
    assert_eq!(client.get("k").await.unwrap(), Some(Bytes::from("ok")));
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

/// When a loader's request ended, and how.
type Event = (Instant, Result<(), String>);

/// Issue 13.3 under load, through a network path that black-holes the connection
/// in the middle of large replies: replaced within the liveness timeout ± 10 %, then
/// requests succeed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_path_under_load_is_replaced_within_the_liveness_timeout() {
    let server = Server::start();
    let proxy = Proxy::start(server.addr()).unwrap();
    let limit = Duration::from_secs(2);
    let client = Client::builder()
        .url(&proxy.url())
        .liveness_timeout(Some(limit))
        .connect()
        .await
        .unwrap();
    let big = Bytes::from(vec![b'z'; 1 << 20]);
    client.set("big", big.clone()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let mut loaders = Vec::new();
    for _ in 0..4 {
        let (client, stop, events, big) =
            (client.clone(), stop.clone(), events.clone(), big.clone());
        loaders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = match client.get("big").await {
                    Ok(v) => {
                        assert_eq!(v.as_ref(), Some(&big), "a wrong reply");
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                };
                events.lock().unwrap().push((Instant::now(), r));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frozen_at = Instant::now();
    proxy.freeze();
    // Wait for a success after the first failure (bounded).
    let deadline = frozen_at + limit * 4;
    let (first_failure, first_success) = loop {
        assert!(
            Instant::now() < deadline,
            "not replaced after {:?}",
            limit * 4
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let events = events.lock().unwrap();
        let failure = events.iter().find(|(at, r)| *at > frozen_at && r.is_err());
        if let Some((failed_at, _)) = failure {
            if let Some((ok_at, _)) = events.iter().find(|(at, r)| at > failed_at && r.is_ok()) {
                break (failure.cloned().unwrap(), *ok_at);
            }
        }
    };
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.await.unwrap();
    }
    let detected = first_failure.0 - frozen_at;
    let recovered = first_success - frozen_at;
    println!(
        "frozen; failed after {detected:?} ({}), first success after {recovered:?}",
        first_failure.1.unwrap_err()
    );
    assert!(
        detected >= limit.mul_f64(0.9) && detected <= limit.mul_f64(1.1),
        "taken for dead after {detected:?}, not within 10 % of {limit:?}"
    );
    assert!(recovered <= limit.mul_f64(1.1) + Duration::from_millis(500));
    assert_eq!(proxy.accepted(), 2, "one replacement connection");
}

/// No false alarms: `WAIT` rightly waits longer than the liveness timeout, and a
/// slow command below it is not taken for a dead server; one above it is.
#[tokio::test]
async fn commands_that_rightly_wait_are_not_taken_for_a_dead_server() {
    let server = Server::builder()
        .config("enable-debug-command yes")
        .start()
        .unwrap();
    let limit = Duration::from_millis(800);
    let client = Client::builder()
        .url(&server.url())
        .liveness_timeout(Some(limit))
        .connect()
        .await
        .unwrap();
    let id = client.client_id().await.unwrap();
    client.set("k", "v").await.unwrap();
    // WAIT for a replica that does not exist: it waits its full 2 s.
    let start = Instant::now();
    assert_eq!(client.wait(1, 2000).await.unwrap(), 0);
    assert!(start.elapsed() >= Duration::from_secs(2));
    // A command that takes 0.4 s.
    client.cmd("DEBUG").arg("SLEEP").arg("0.4").await.unwrap();
    assert_eq!(
        client.client_id().await.unwrap(),
        id,
        "the connection was replaced"
    );
    // One that takes 2 s is: the server did not answer for longer than the limit.
    let start = Instant::now();
    let err = client.cmd("DEBUG").arg("SLEEP").arg("2").await.unwrap_err();
    assert!(format!("{err:?}").contains("liveness_timeout"), "{err:?}");
    let took = start.elapsed();
    assert!(
        took >= limit.mul_f64(0.9) && took < Duration::from_secs(2),
        "{took:?}"
    );
    // Once the server answers again, a new connection serves.
    let new_id = client.client_id().await.unwrap();
    assert_ne!(new_id, id);
}

/// Issue 13.6: an argument longer than the server accepts is refused before
/// anything is sent, naming the command and the argument.
#[tokio::test]
async fn an_argument_longer_than_the_server_accepts_is_refused_before_sending() {
    let server = Server::builder()
        .config("proto-max-bulk-len 1mb")
        .start()
        .unwrap();
    let client = Client::connect(&server.url()).await.unwrap();
    assert_eq!(client.connection().max_arg_len(), 1 << 20);
    let big = Bytes::from(vec![b'v'; 2 << 20]);
    let err = client.set("k", big.clone()).await.unwrap_err();
    println!("{err}");
    assert!(err.is_invalid_argument() && err.is_unsent(), "{err}");
    assert!(
        err.to_string().starts_with("SET: invalid argument `value`"),
        "{err}"
    );
    let err = client
        .pipeline()
        .add(respec::cmd::set("a", 1))
        .add(respec::cmd::set("k", big.clone()))
        .execute()
        .await
        .unwrap_err();
    println!("{err}");
    assert!(
        err.to_string().starts_with("SET: invalid argument `value`"),
        "{err}"
    );
    // Nothing was sent, and the connection is as it was.
    assert_eq!(client.exists(["k", "a"]).await.unwrap(), 0);
    // At the limit it goes through.
    let fits = Bytes::from(vec![b'v'; 1 << 20]);
    client.set("k", fits.clone()).await.unwrap();
    assert_eq!(client.get("k").await.unwrap(), Some(fits));
}

/// Issue 13.6: when the server refuses an argument while the client is still
/// writing it (the limit was lowered after the client connected), the caller gets
/// the server's answer, not a connection reset; the reconnection learns the new
/// limit.
#[tokio::test]
async fn a_request_refused_mid_write_gets_the_servers_answer() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let admin = Client::connect(&server.url()).await.unwrap();
    assert_eq!(client.connection().max_arg_len(), 512 << 20);
    admin
        .config_set([("proto-max-bulk-len", "1mb")])
        .await
        .unwrap();
    let big = Bytes::from(vec![b'w'; 8 << 20]);
    let err = client.set("k", big.clone()).await.unwrap_err();
    println!("{err}");
    assert!(err.is_server(), "{err}");
    assert!(err.to_string().contains("invalid bulk length"), "{err}");
    // The server closed that connection; the next one knows the limit.
    let deadline = Instant::now() + Duration::from_secs(10);
    let id = loop {
        match client.client_id().await {
            Ok(id) => break id,
            Err(e) if Instant::now() < deadline => {
                assert!(e.is_io(), "{e}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => panic!("no new connection after 10 s: {e}"),
        }
    };
    assert!(id > 0);
    assert_eq!(client.connection().max_arg_len(), 1 << 20);
    let err = client.set("k", big).await.unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
}

/// The reconnect storm's server (see `reconnect_storm.rs`) lives there; this one
/// checks the handshake helper the fakes share ends where the client's does.
#[test]
fn the_fake_handshake_ends_with_config_get() {
    assert!(ends_handshake(&[b"CONFIG".to_vec(), b"GET".to_vec()]));
    assert!(!ends_handshake(&[b"CLIENT".to_vec()]));
}
