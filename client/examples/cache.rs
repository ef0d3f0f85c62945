//! The application cache (`respec::cache`):
//!
//! - a cache of profiles keyed by `(id, language)`: `set`, `get`, `exists`, `ttl`,
//!   `delete`, `set_many`, and a value read as the wrong type (a clear error);
//! - a compression hook (a toy one: a marker byte, then the bytes inverted);
//! - the herd cache: 10 callers of a stale entry, one recomputing it while the nine
//!   others get the old value at once;
//! - on a cluster (`REDIS_CLUSTER_URL`): `set_many` of entries spread over the slots.
//!
//! Run it with `cargo xtask demo` (a throwaway server and cluster), or against your
//! own: `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example cache`.
//! Every key it touches starts with `example:cache:`.

use respec::cache::{BoxError, Compression};
use respec::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PREFIX: &str = "example:cache:";

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    language: String,
}

fn profile(id: u64, language: &str) -> Profile {
    Profile {
        id,
        name: format!("user {id}"),
        language: language.to_owned(),
    }
}

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

#[tokio::main]
async fn main() -> Res<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    clean(&client).await?;

    profiles(&client).await?;
    compressed(&client).await?;
    herd(&client).await?;
    clean(&client).await?;

    if let Ok(url) = std::env::var("REDIS_CLUSTER_URL") {
        on_a_cluster(&Client::connect(&url).await?).await?;
    }
    println!("cache example complete");
    Ok(())
}

/// The plain cache.
async fn profiles(client: &Client) -> Res<()> {
    let cache = client
        .cache("example:cache:profiles")
        .default_ttl(Duration::from_secs(60));
    cache.set((1, "en"), profile(1, "en")).await?;
    let hit: Option<Profile> = cache.get((1, "en")).await?;
    let miss: Option<Profile> = cache.get((1, "fr")).await?;
    println!("key of (1, \"en\"): {}", cache.key((1, "en"))?);
    println!("get (1, \"en\"): {hit:?}; get (1, \"fr\"): {miss:?}");
    assert_eq!(hit, Some(profile(1, "en")));
    assert_eq!(miss, None);
    assert!(cache.exists((1, "en")).await?);
    let ttl = cache.ttl((1, "en")).await?.expect("an expiry");
    assert!(ttl > Duration::from_secs(50) && ttl <= Duration::from_secs(60));

    cache
        .set_many((2..12).map(|id| ((id, "en"), profile(id, "en"))))
        .await?;
    for id in 2..12 {
        assert_eq!(cache.get((id, "en")).await?, Some(profile(id, "en")));
    }
    println!("set_many: 10 profiles written in one pipeline");

    // Read as the wrong type: an error naming the cache and the key.
    let err = cache.get::<Vec<u32>>((1, "en")).await.unwrap_err();
    println!("read as the wrong type: {err}");
    assert!(err.is_decode());
    assert_eq!(err.key(), Some(cache.key((1, "en"))?.as_str()));

    assert!(cache.delete((1, "en")).await?);
    assert!(!cache.exists((1, "en")).await?);
    // Refused before anything is sent.
    let err = cache
        .clone()
        .default_ttl(Duration::ZERO)
        .set(1, 1)
        .await
        .unwrap_err();
    println!("a zero TTL: {err}");
    assert!(err.is_invalid_argument());
    Ok(())
}

/// A toy compression: a marker byte, then every byte inverted.
struct Invert;

impl Compression for Invert {
    fn compress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError> {
        Ok(std::iter::once(b'~')
            .chain(data.iter().map(|b| !b))
            .collect())
    }
    fn decompress(&self, data: &[u8]) -> Result<Vec<u8>, BoxError> {
        match data.split_first() {
            Some((b'~', rest)) => Ok(rest.iter().map(|b| !b).collect()),
            _ => Err("no marker byte".into()),
        }
    }
}

/// A cache with a compression hook.
async fn compressed(client: &Client) -> Res<()> {
    let cache = client.cache("example:cache:packed").compression(Invert);
    cache.set(1, profile(1, "de")).await?;
    assert_eq!(cache.get(1).await?, Some(profile(1, "de")));
    let raw: Option<Bytes> = client.get(cache.key(1)?).await?;
    let raw = raw.expect("stored");
    println!(
        "compressed value: {} bytes, starting with {:?}",
        raw.len(),
        raw[0] as char
    );
    assert_eq!(raw[0], b'~');
    Ok(())
}

/// The herd cache: one recomputation of a stale entry, the old value meanwhile.
async fn herd(client: &Client) -> Res<()> {
    let herd = client
        .cache("example:cache:report")
        .default_ttl(Duration::from_millis(100))
        .herd(Duration::from_secs(30));
    herd.set("daily", "report v1").await?;
    // Wait until the entry is stale (in its grace period).
    let started = Instant::now();
    while herd.ttl("daily").await? != Some(Duration::ZERO) {
        assert!(started.elapsed() < Duration::from_secs(10), "never stale");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let computed = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (herd, computed) = (herd.clone(), computed.clone());
            tokio::spawn(async move {
                herd.get_or_compute("daily", || async {
                    computed.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await; // a slow query
                    Ok::<_, BoxError>("report v2".to_owned())
                })
                .await
            })
        })
        .collect();
    let mut got = Vec::new();
    for caller in callers {
        got.push(caller.await??);
    }
    let new = got.iter().filter(|v| *v == "report v2").count();
    println!(
        "10 callers of a stale entry: computed {} time(s), {new} got the new value, {} the old",
        computed.load(Ordering::SeqCst),
        got.len() - new
    );
    assert_eq!(computed.load(Ordering::SeqCst), 1);
    let fresh: String = herd
        .get_or_compute("daily", || async {
            Err::<String, BoxError>("not needed".into())
        })
        .await?;
    assert_eq!(fresh, "report v2");
    Ok(())
}

/// On a cluster: the entries of one cache spread over the slots.
async fn on_a_cluster(client: &Client) -> Res<()> {
    let cache = client.cache("example:cache:cluster");
    cache
        .set_many((0..20u64).map(|id| (id, profile(id, "en"))))
        .await?;
    let mut slots = std::collections::BTreeSet::new();
    for id in 0..20u64 {
        assert_eq!(cache.get(id).await?, Some(profile(id, "en")));
        slots.insert(respec::cluster::slot(cache.key(id)?.as_bytes()));
    }
    println!("cluster: 20 entries in {} slots", slots.len());
    assert!(slots.len() > 10);
    for id in 0..20u64 {
        assert!(cache.delete(id).await?);
    }
    Ok(())
}
