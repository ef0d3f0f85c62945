//! Large values (issue 15.4): written from the caller's own `Bytes` with vectored
//! writes (chunk by chunk over TLS), never copied into the write buffer. They must
//! arrive intact however the socket splits the writes, and a request given up
//! before the driver took it is still never written.

use bytes::Bytes;
use respec::{cmd, Client, Commands};
use respec_tests::Server;
use std::time::Duration;

/// A value of `len` bytes whose content depends on `seed` and on each position, so
/// that a chunk written twice, skipped or out of place is seen.
fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(u32::from(seed)) as u8)
        .collect()
}

/// Sets large and small values from many tasks while the server is stopped (the
/// socket takes a part of a write, then nothing, then the rest), then reads them all
/// back: each arrives intact and in its place.
async fn round_trip_under_partial_writes(client: &Client, mut pause: impl FnMut(bool)) {
    let values: Vec<(String, Bytes)> = (0..24u8)
        .map(|i| {
            let len = match i % 4 {
                0 => 3 * 1024 * 1024 + 7,
                1 => 100,
                2 => respec::command::LARGE_ARG,
                _ => 1024 * 1024 - 1,
            };
            (format!("large:{i}"), Bytes::from(pattern(i, len)))
        })
        .collect();
    pause(true);
    let mut tasks = Vec::new();
    for (i, (key, value)) in values.iter().enumerate() {
        let client = client.clone();
        let (key, value) = (key.clone(), value.clone());
        tasks.push(tokio::spawn(async move {
            // Bytes (not copied), borrowed slices and vectors (copied once).
            match i % 3 {
                0 => client.set(key, value).await,
                1 => client.set(key, &value[..]).await,
                _ => client.set(key, value.to_vec()).await,
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    pause(false);
    for t in tasks {
        assert!(t.await.unwrap().unwrap());
    }
    for (key, value) in &values {
        let got = client.get(key).await.unwrap().unwrap();
        assert!(got == *value, "{key}: {} bytes back", got.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_round_trip_intact_through_partial_writes() {
    let mut server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    round_trip_under_partial_writes(&client, |stop| {
        if stop {
            server.pause()
        } else {
            server.resume()
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_round_trip_intact_over_tls() {
    let Some(mut server) = Server::builder().tls().start_or_skip() else {
        return;
    };
    let url = format!("{}?insecure=true", server.tls_url());
    let client = Client::connect(&url).await.unwrap();
    round_trip_under_partial_writes(&client, |stop| {
        if stop {
            server.pause()
        } else {
            server.resume()
        }
    })
    .await;
}

/// A pipeline and a transaction mixing large and small values, sent while single
/// commands are queued too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_mixing_large_and_small_values_round_trips() {
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let big = Bytes::from(pattern(1, 2 * 1024 * 1024));
    let mid = pattern(2, 40 * 1024);
    let background = {
        let client = client.clone();
        let big = big.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                client.set(format!("bg:{i}"), big.clone()).await.unwrap();
            }
        })
    };
    let (ok_big, ok_small, ok_mid, got_big, got_small, got_mid) = client
        .pipeline()
        .add(cmd::set("p:big", big.clone()))
        .add(cmd::set("p:small", "s"))
        .add(cmd::set("p:mid", &mid[..]))
        .add(cmd::get("p:big"))
        .add(cmd::get("p:small"))
        .add(cmd::get("p:mid"))
        .execute()
        .await
        .unwrap();
    assert!(ok_big && ok_small && ok_mid);
    assert!(got_big == Some(big.clone()), "the large value changed");
    assert_eq!(got_small, Some(Bytes::from("s")));
    assert!(
        got_mid == Some(Bytes::from(mid.clone())),
        "the mid value changed"
    );

    let (a, b, c) = client
        .pipeline()
        .transaction()
        .add(cmd::set("t:big", big.clone()))
        .add(cmd::set("t:small", "x"))
        .add(cmd::get("t:big"))
        .execute()
        .await
        .unwrap();
    assert!(a && b);
    assert!(c == Some(big.clone()), "the large value changed");
    background.await.unwrap();
    assert!(client.get("bg:19").await.unwrap() == Some(big));
}

/// A `SET` of a large value whose caller gives up while it waits in the queue
/// (the driver is blocked writing to a stopped server) is never written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_value_given_up_before_being_taken_is_never_written() {
    let mut server = Server::start();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Some(Duration::from_millis(300)))
        .connect()
        .await
        .unwrap();
    let big = Bytes::from(pattern(3, 1024 * 1024));
    server.pause();
    // Enough to fill the socket buffers and the driver's buffer: the driver stops
    // taking requests.
    let mut fill = Vec::new();
    for i in 0..32 {
        let fut = client.set(format!("fill:{i}"), big.clone());
        let mut fut = Box::pin(std::future::IntoFuture::into_future(fut));
        // Queued, not awaited to the end.
        let _ = tokio::time::timeout(Duration::from_millis(1), &mut fut).await;
        fill.push(fut);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = client.set("gave-up", big.clone()).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.is_unsent(), "{err}");
    server.resume();
    drop(fill);
    // The connection stays in step, and the given-up SET never ran.
    let start = std::time::Instant::now();
    while let Err(e) = client.ping().await {
        assert!(start.elapsed() < Duration::from_secs(10), "{e}");
    }
    assert_eq!(client.exists(["gave-up"]).await.unwrap(), 0);
}

/// How a value is passed to `SET`.
#[derive(Debug, Clone, Copy)]
enum Passed {
    Bytes,
    Slice,
    Vec,
}

/// The bytes allocated on this thread per `SET` of `value` passed as `passed`, over
/// `sets` calls (the client's driver runs on this thread too: a current-thread
/// runtime). A `Vec` is made before the count starts (it is the caller's own).
async fn allocated_per_set(client: &Client, value: &Bytes, passed: Passed, sets: u64) -> u64 {
    use respec_tests::counting::thread_allocated_bytes;
    let mut total = 0;
    for _ in 0..sets {
        let vec = matches!(passed, Passed::Vec).then(|| value.to_vec());
        let before = thread_allocated_bytes();
        let ok = match (passed, vec) {
            (Passed::Bytes, _) => client.set("copies", value.clone()).await,
            (Passed::Slice, _) => client.set("copies", &value[..]).await,
            (Passed::Vec, vec) => client.set("copies", vec.unwrap_or_default()).await,
        };
        total += thread_allocated_bytes() - before;
        assert!(ok.unwrap());
    }
    total / sets
}

/// A 1 MiB value passed as `Bytes` is not copied on its way to the socket: a `SET`
/// allocates a few hundred bytes, not the value's size (issue 15.4). A `&[u8]` or a
/// `Vec<u8>` is copied once (about 1 MiB per `SET`, not 2). Counted by the binary's
/// counting allocator, on this thread only (other tests allocate on theirs).
#[tokio::test(flavor = "current_thread")]
async fn a_large_bytes_value_is_not_copied_on_the_way_out() {
    const MIB: u64 = 1 << 20;
    let server = Server::start();
    let client = Client::connect(&server.url()).await.unwrap();
    let value = Bytes::from(pattern(4, MIB as usize));
    // Warm up: the connection's buffers reach their size.
    for passed in [Passed::Bytes, Passed::Slice, Passed::Vec] {
        allocated_per_set(&client, &value, passed, 4).await;
    }
    let bytes = allocated_per_set(&client, &value, Passed::Bytes, 16).await;
    let slice = allocated_per_set(&client, &value, Passed::Slice, 16).await;
    let vec = allocated_per_set(&client, &value, Passed::Vec, 16).await;
    eprintln!("bytes allocated per SET of 1 MiB: Bytes {bytes}, &[u8] {slice}, Vec<u8> {vec}");
    assert!(slice > 0, "nothing counted: is the allocator counting?");
    assert!(
        bytes < 16 * 1024,
        "a Bytes value was copied: {bytes} bytes per SET"
    );
    for (form, got) in [("&[u8]", slice), ("Vec<u8>", vec)] {
        assert!(
            (MIB..2 * MIB).contains(&got),
            "{form}: {got} bytes per SET, not one copy"
        );
    }
    assert!(client.get("copies").await.unwrap() == Some(value));
}
