//! Distributed locks (`respec::lock`):
//!
//! - `acquire` and `try_acquire`, a waiter giving up at its timeout, `locked`;
//! - fencing tokens: a holder whose lease ended while it was paused is refused by
//!   the resource (a script that remembers the largest token it has seen);
//! - the watchdog keeping a short lease alive, and `lost()` reporting the loss when
//!   the key is taken away;
//! - 20 tasks incrementing a counter with GET then SET under the lock;
//! - on a cluster (`REDIS_CLUSTER_URL`): the same lock, and a replicated lock that a
//!   shard without replicas cannot confirm;
//! - behind sentinels (`REDIS_SENTINEL_URL`): a replicated lock confirmed by a
//!   majority of the primary's replicas.
//!
//! Run it with `cargo xtask demo` (a throwaway server, cluster and sentinel group),
//! or against your own: `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example lock`.
//! Every key it touches starts with `example:lock:`.

use respec::lock::{LockError, Quorum};
use respec::prelude::*;
use respec::script::Script;
use std::time::{Duration, Instant};

const PREFIX: &str = "example:lock:";

/// Deletes the keys a previous run left, so the example can run again.
async fn clean(client: &Client) -> respec::Result<()> {
    let keys: Vec<Bytes> = client
        .scan_stream(cmd::scan(0).match_(format!("{PREFIX}*")).count(1000))
        .collect()
        .await?;
    if !keys.is_empty() {
        client.del(keys).await?;
    }
    Ok(())
}

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Res<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    clean(&client).await?;

    basics(&client).await?;
    fencing(&client).await?;
    watchdog(&client).await?;
    counter(&client).await?;
    clean(&client).await?;

    if let Ok(url) = std::env::var("REDIS_CLUSTER_URL") {
        on_a_cluster(&Client::connect(&url).await?).await?;
    }
    if let Ok(url) = std::env::var("REDIS_SENTINEL_URL") {
        behind_sentinels(&Client::connect(&url).await?).await?;
    }
    println!("lock example complete");
    Ok(())
}

/// Taking, waiting, giving up, releasing.
async fn basics(client: &Client) -> Res<()> {
    // The name holds a hash tag: it is the key; the fencing counter is `<key>:fence`.
    let lock = client
        .lock("example:lock:{report}")
        .lease(Duration::from_secs(10))
        .timeout(Some(Duration::from_millis(200)));
    let guard = lock.acquire().await?;
    println!(
        "acquired {} (fencing token {}), locked: {}",
        guard.name(),
        guard.fence(),
        lock.locked().await?
    );
    assert!(lock.locked().await?);
    // Held: a second attempt gets nothing, a waiter gives up at its timeout.
    assert!(lock.try_acquire().await?.is_none());
    let started = Instant::now();
    let err = lock.acquire().await.unwrap_err();
    println!("a waiter after {:?}: {err}", started.elapsed());
    assert!(err.is_timeout());
    guard.release().await?;
    assert!(!lock.locked().await?);
    // Bad options are refused before anything is sent.
    let err = client.lock("").acquire().await.unwrap_err();
    println!("refused: {err}");
    assert!(err.is_invalid_argument());
    Ok(())
}

/// Fencing tokens: a write carries the holder's token; the resource refuses a token
/// smaller than the largest it has seen.
async fn fencing(client: &Client) -> Res<()> {
    let store = Script::new(
        "local last = tonumber(redis.call('GET', KEYS[2]) or '0') \
         if tonumber(ARGV[1]) < last then return 0 end \
         redis.call('SET', KEYS[2], ARGV[1]) \
         redis.call('SET', KEYS[1], ARGV[2]) \
         return 1",
    );
    let write = |fence: u64, value: &'static str| {
        let store = store.clone();
        async move {
            let ok: i64 = store
                .prepare()
                .key("example:lock:{doc}:body")
                .key("example:lock:{doc}:last-fence")
                .arg(fence)
                .arg(value)
                .invoke(client)
                .await?;
            Ok::<bool, respec::Error>(ok == 1)
        }
    };
    let lease = Duration::from_millis(200);
    let lock = client.lock("example:lock:{doc}").lease(lease);
    let slow = lock.acquire().await?;
    // The first holder stalls past its lease (a long pause, a partition)...
    tokio::time::sleep(lease + Duration::from_millis(50)).await;
    // ...the lock expires and a second holder takes it and writes.
    let fast = lock.acquire().await?;
    assert!(write(fast.fence(), "from the second holder").await?);
    // The first one wakes up and writes, believing it still holds the lock: refused.
    let accepted = write(slow.fence(), "from the stale holder").await?;
    println!(
        "fencing: tokens {} then {}; the stale holder's write accepted: {accepted}",
        slow.fence(),
        fast.fence()
    );
    assert!(!accepted && fast.fence() > slow.fence());
    let body: Option<String> = client.get("example:lock:{doc}:body").decode().await?;
    assert_eq!(body.as_deref(), Some("from the second holder"));
    // It cannot release the lock of the second holder either.
    let err: LockError = slow.release().await.unwrap_err();
    println!("stale release: {err}");
    assert!(err.is_not_held());
    fast.release().await?;
    Ok(())
}

/// The watchdog extends a short lease; a lease taken away is reported.
async fn watchdog(client: &Client) -> Res<()> {
    let lease = Duration::from_millis(300);
    let lock = client
        .lock("example:lock:{job}")
        .lease(lease)
        .watchdog(true);
    let guard = lock.acquire().await?;
    // Three leases later it is still ours.
    let lost = guard.lost();
    tokio::pin!(lost);
    tokio::select! {
        e = &mut lost => panic!("lost: {e}"),
        _ = tokio::time::sleep(lease * 3) => {}
    }
    assert!(guard.owned().await?);
    println!(
        "watchdog: still held after {:?} with a {lease:?} lease",
        lease * 3
    );
    // Someone deletes the key: the holder hears of it within a third of the lease.
    client.del([lock.key()]).await?;
    let deleted = Instant::now();
    let err = (&mut lost).await;
    println!("after {:?}: {err}", deleted.elapsed());
    assert!(err.is_lost() && guard.is_lost());
    assert!(guard.release().await.unwrap_err().is_not_held());
    Ok(())
}

/// 20 tasks, 10 increments each, GET then SET (not atomic) under the lock.
async fn counter(client: &Client) -> Res<()> {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let lock = client
                    .lock("example:lock:{counter}")
                    .retry_interval(Duration::from_millis(5));
                for _ in 0..10 {
                    let guard = lock.acquire().await?;
                    let n: Option<i64> = client.get("example:lock:{counter}:n").decode().await?;
                    client
                        .set("example:lock:{counter}:n", n.unwrap_or(0) + 1)
                        .await?;
                    guard.release().await?;
                }
                Res::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let n: Option<i64> = client.get("example:lock:{counter}:n").decode().await?;
    println!("counter: 20 tasks x 10 increments = {n:?}");
    assert_eq!(n, Some(200));
    Ok(())
}

/// The same lock on a cluster (its keys share a slot), and a replicated lock.
async fn on_a_cluster(client: &Client) -> Res<()> {
    clean_cluster(client).await?;
    let lock = client.lock("example:lock:{cluster}");
    let guard = lock.acquire().await?;
    println!("cluster: acquired with fencing token {}", guard.fence());
    guard.release().await?;
    // A replicated lock needs a replica's acknowledgement: a shard without replicas
    // (the demo's cluster has none) cannot give it, and the lock is released again.
    let replicated = lock.replicated(Quorum::AtLeast(1), Duration::from_millis(100));
    match replicated.try_acquire().await {
        Err(e) if e.is_not_replicated() => {
            println!("cluster, replicated: {e}");
            assert!(!replicated.locked().await?);
        }
        Ok(Some(guard)) => {
            println!("cluster, replicated: confirmed (this cluster has replicas)");
            guard.release().await?;
        }
        other => panic!("{other:?}"),
    }
    clean_cluster(client).await?;
    Ok(())
}

/// The keys of the cluster part (one slot).
async fn clean_cluster(client: &Client) -> respec::Result<()> {
    client
        .del(["example:lock:{cluster}", "example:lock:{cluster}:fence"])
        .await?;
    Ok(())
}

/// A replicated lock on a sentinel-managed primary: confirmed by its replicas.
async fn behind_sentinels(client: &Client) -> Res<()> {
    clean(client).await?;
    let lock = client
        .lock("example:lock:{sentinel}")
        .replicated(Quorum::Majority, Duration::from_secs(2));
    let guard = lock.acquire().await?;
    println!(
        "sentinel: acquired and confirmed by a majority of the replicas (fencing token {})",
        guard.fence()
    );
    guard.release().await?;
    clean(client).await?;
    Ok(())
}
