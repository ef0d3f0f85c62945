//! Client-side caching (`respec::tracking`):
//!
//! - RESP3 default tracking: a second read served from the cache, a peer's write
//!   invalidating it, the next read seeing the write; the client's own write seen
//!   at once;
//! - broadcast tracking of one prefix: keys outside it are never cached;
//! - RESP2 through the invalidation connection, turned on by URL options;
//! - a cache bounded to 100 entries over 1,000 keys, and its counters.
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example client_cache`.
//! Every key it touches starts with `example:client_cache:`.

use respec::tracking::{TrackingOptions, TrackingStats};
use respec::{Client, Commands};
use std::time::{Duration, Instant};

const PREFIX: &str = "example:client_cache:";

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

fn stats(c: &Client) -> TrackingStats {
    c.tracking_stats().expect("client-side caching is on")
}

/// Waits (polling, at most 10 s) until the cache's counters satisfy `cond`.
async fn until(c: &Client, cond: impl Fn(&TrackingStats) -> bool) -> Res<()> {
    let start = Instant::now();
    while !cond(&stats(c)) {
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!("waited 10 s; counters {:?}", stats(c)).into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Reads `k` until the cache serves it (tracking is confirmed by the server first).
async fn warm(c: &Client, k: &str) -> Res<Option<String>> {
    let start = Instant::now();
    loop {
        let hits = stats(c).hits;
        let v: Option<String> = c.get(k).decode().await?;
        if stats(c).hits > hits {
            return Ok(v);
        }
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!("{k} never served from the cache: {:?}", stats(c)).into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Reads, a peer's write, its invalidation, and the next read.
async fn round_trip(c: &Client, peer: &Client, name: &str) -> Res<()> {
    let k = key(name);
    peer.set(&k, "first").await?;
    assert_eq!(warm(c, &k).await?.as_deref(), Some("first"));
    let before = stats(c);
    peer.set(&k, "second").await?;
    until(c, |s| s.invalidations > before.invalidations).await?;
    let v: Option<String> = c.get(&k).decode().await?;
    assert_eq!(v.as_deref(), Some("second"));
    c.set(&k, "own").await?;
    let v: Option<String> = c.get(&k).decode().await?;
    assert_eq!(v.as_deref(), Some("own"), "the client's own write, at once");
    println!(
        "{name}: the peer's write seen after its invalidation; {:?}",
        stats(c)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let peer = Client::connect(&url).await?;

    // RESP3, default tracking.
    let c = Client::builder()
        .url(&url)
        .client_side_cache(TrackingOptions::new())
        .connect()
        .await?;
    round_trip(&c, &peer, "default").await?;

    // Broadcast: only keys under the prefix are tracked, so only they are cached.
    let bcast = Client::builder()
        .url(&url)
        .client_side_cache(TrackingOptions::new().broadcast([key("b:")]))
        .connect()
        .await?;
    round_trip(&bcast, &peer, "b:broadcast").await?;
    let outside = key("outside");
    peer.set(&outside, 1).await?;
    let hits = stats(&bcast).hits;
    for _ in 0..3 {
        let _: Option<i64> = bcast.get(&outside).decode().await?;
    }
    assert_eq!(
        stats(&bcast).hits,
        hits,
        "a key outside the prefix is not cached"
    );

    // RESP2: the invalidations come on a connection of their own, by URL options.
    let sep = if url.contains('?') { '&' } else { '?' };
    let resp2 = Client::connect(&format!("{url}{sep}protocol=2&client_cache=true")).await?;
    round_trip(&resp2, &peer, "resp2").await?;

    // A bounded cache: 100 entries over 1,000 keys.
    let bounded = Client::builder()
        .url(&url)
        .client_side_cache(TrackingOptions::new().max_entries(100).max_bytes(1 << 20))
        .connect()
        .await?;
    let pairs: Vec<(String, usize)> = (0..1000).map(|i| (key(&format!("n:{i}")), i)).collect();
    peer.mset(pairs).await?;
    warm(&bounded, &key("n:0")).await?;
    for i in 0..1000 {
        let v: Option<usize> = bounded.get(key(&format!("n:{i}"))).decode().await?;
        assert_eq!(v, Some(i));
    }
    let s = stats(&bounded);
    assert!(s.entries <= 100 && s.evictions >= 900, "{s:?}");
    println!("bounded to 100 entries over 1,000 keys: {s:?}");

    let keys: Vec<String> = std::iter::once(key("default"))
        .chain([key("b:broadcast"), key("resp2"), outside])
        .chain((0..1000).map(|i| key(&format!("n:{i}"))))
        .collect();
    peer.del(keys).await?;
    Ok(())
}
