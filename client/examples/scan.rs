//! The SCAN family as streams: pages fetched one after the other, items yielded one
//! by one, with `.next().await` (no extra crate needed; `ScanStream` is also a
//! `futures_core::Stream`).
//!
//! - `scan_stream(cmd::scan(0)...)` with MATCH, COUNT and TYPE, items typed by
//!   `.decode()`;
//! - `cmd::sscan`, `cmd::hscan` and `cmd::zscan` streams of members, field-value
//!   pairs and member-score pairs;
//! - stopping part way and restarting later from the stream's cursor.
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example scan`.
//! Every key it touches starts with `example:scan:`.

use respec::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const PREFIX: &str = "example:scan:";
const USERS: usize = 200;

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
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
async fn main() -> respec::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;
    clean(&client).await?;

    // Some data: 200 string keys, and a set, a hash and a sorted set.
    let users: Vec<String> = (0..USERS).map(|i| key(&format!("user:{i}"))).collect();
    client.mset(users.iter().map(|k| (k.as_str(), "x"))).await?;
    client
        .sadd(key("tags"), (0..50).map(|i| format!("tag{i}")))
        .await?;
    client
        .hset(
            key("config"),
            (0..20).map(|i| (format!("option{i}"), i.to_string())),
        )
        .await?;
    client
        .zadd(
            key("board"),
            (0..30).map(|i| (f64::from(i), format!("player{i}"))),
        )
        .await?;

    // 1. SCAN with MATCH and a small COUNT: many pages, each key once. `.decode()`
    //    picks the item type (here String instead of Bytes).
    let mut stream = client.scan_stream(
        cmd::scan(0)
            .match_(key("user:*"))
            .count(25)
            .decode::<(Bytes, Vec<String>)>(),
    );
    let mut seen = BTreeSet::new();
    while let Some(k) = stream.next().await {
        seen.insert(k?);
    }
    println!(
        "SCAN MATCH {PREFIX}user:* COUNT 25 -> {} keys, e.g. {:?}",
        seen.len(),
        seen.first()
    );
    assert_eq!(seen, users.iter().cloned().collect());
    assert_eq!(&stream.cursor()[..], b"0", "the scan is complete");

    // TYPE: only keys of one type (SCAN ... TYPE hash, Redis 6+).
    let hashes: Vec<String> = client
        .scan_stream(
            cmd::scan(0)
                .match_(format!("{PREFIX}*"))
                .count(100)
                .type_("hash")
                .decode::<(Bytes, Vec<String>)>(),
        )
        .collect()
        .await?;
    println!("SCAN MATCH {PREFIX}* TYPE hash -> {hashes:?}");
    assert_eq!(hashes, [key("config")]);

    // 2. SSCAN, HSCAN and ZSCAN: members, (field, value) pairs, (member, score) pairs.
    let tags: BTreeSet<Bytes> = client
        .scan_stream(cmd::sscan(key("tags"), 0).count(10))
        .collect()
        .await?;
    println!("SSCAN tags     -> {} members", tags.len());
    assert_eq!(tags.len(), 50);
    assert!(tags.contains(&Bytes::from("tag49")));

    let config: BTreeMap<String, String> = client
        .scan_stream(
            cmd::hscan(key("config"), 0)
                .match_("option1*")
                .decode::<(Bytes, Vec<(String, String)>)>(),
        )
        .collect()
        .await?;
    println!("HSCAN config MATCH option1* -> {config:?}");
    let expected: BTreeMap<String, String> = [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
        .into_iter()
        .map(|i| (format!("option{i}"), i.to_string()))
        .collect();
    assert_eq!(config, expected);

    let mut board = client.scan_stream(cmd::zscan(key("board"), 0));
    let mut total = 0.0;
    let mut best: Option<(Bytes, f64)> = None;
    while let Some(item) = board.next().await {
        let (member, score) = item?;
        total += score;
        if best.as_ref().is_none_or(|(_, s)| score > *s) {
            best = Some((member, score));
        }
    }
    println!("ZSCAN board    -> total score {total}, best {best:?}");
    assert_eq!(total, (0..30).sum::<i32>() as f64);
    assert_eq!(best, Some((Bytes::from("player29"), 29.0)));

    // 3. Stop part way and restart from the cursor: first take the rest of the
    //    current page (restarting from the cursor skips it), then keep the cursor.
    let mut first = client.scan_stream(cmd::scan(0).match_(key("user:*")).count(20));
    let mut resumed = BTreeSet::new();
    while resumed.len() < 30 {
        resumed.insert(first.next().await.expect("more keys")?);
    }
    while first.buffered() > 0 {
        resumed.insert(first.next().await.expect("a buffered key")?);
    }
    // The cursor is a decimal number (as text); store it anywhere, resume later.
    let cursor: u64 = std::str::from_utf8(first.cursor())
        .ok()
        .and_then(|c| c.parse().ok())
        .expect("a numeric cursor");
    let read_first = resumed.len();
    drop(first);
    let mut rest = client.scan_stream(cmd::scan(cursor).match_(key("user:*")).count(20));
    while let Some(k) = rest.next().await {
        resumed.insert(k?);
    }
    println!(
        "SCAN stopped after {read_first} keys at cursor {cursor}, resumed -> {} keys in all",
        resumed.len()
    );
    // SCAN may return a key twice but never misses one that was there throughout.
    assert!(cursor != 0);
    assert_eq!(resumed.len(), USERS);

    clean(&client).await?;
    println!("scan example complete");
    Ok(())
}
