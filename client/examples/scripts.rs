//! Lua scripts called by digest (`EVALSHA`), loaded again when the server lost them.
//!
//! - `Script::invoke` after `SCRIPT FLUSH`: `NOSCRIPT`, `SCRIPT LOAD`, run again;
//! - `read_only()`: `EVALSHA_RO`, which refuses a script that writes;
//! - a script call queued in a pipeline and in a `MULTI`/`EXEC` transaction, where the
//!   pipeline loads the script before sending anything.
//!
//! Note: `SCRIPT FLUSH` empties the script cache of the whole server (harmless: every
//! client reloads what it needs, as this one does).
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example scripts`.
//! Every key it touches starts with `example:scripts:`.

use respec::prelude::*;
use respec::script::Script;

const PREFIX: &str = "example:scripts:";

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

    // A script is its code and digest; the server learns it on first use.
    let incr_by = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    // Release a lock only if we still hold it (compare-and-delete).
    let release = Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('DEL', KEYS[1]) \
         else \
           return 0 \
         end",
    );
    let get = Script::new("return redis.call('GET', KEYS[1])");

    // 1. invoke: EVALSHA; on NOSCRIPT, SCRIPT LOAD and EVALSHA again.
    client.script_flush().await?;
    let before = client.script_exists([incr_by.sha1()]).await?;
    let n: i64 = incr_by
        .prepare()
        .key(key("n"))
        .arg(5)
        .invoke(&client)
        .await?;
    let after = client.script_exists([incr_by.sha1()]).await?;
    println!(
        "after SCRIPT FLUSH: exists {before:?}, invoke -> {n}, exists {after:?}  (sha1 {})",
        incr_by.sha1()
    );
    assert_eq!((before, n, after), (vec![false], 5, vec![true]));
    let n: i64 = incr_by
        .prepare()
        .key(key("n"))
        .arg(2)
        .invoke(&client)
        .await?;
    println!("invoke again (cached)   -> {n}");
    assert_eq!(n, 7);

    // 2. read_only: EVALSHA_RO (allowed on replicas). The reply type is chosen per call.
    let v: Option<String> = get
        .prepare()
        .key(key("n"))
        .read_only()
        .invoke(&client)
        .await?;
    println!("read-only GET script    -> {v:?}");
    assert_eq!(v.as_deref(), Some("7"));
    let err = incr_by
        .prepare()
        .key(key("n"))
        .arg(1)
        .read_only()
        .invoke::<i64>(&client)
        .await
        .expect_err("a read-only script cannot write");
    println!("read-only INCRBY script -> {err}");
    assert!(err.is_server());

    // 3. In a pipeline: `.command::<T>()` is a command like any other; the pipeline
    //    sends SCRIPT EXISTS (and SCRIPT LOAD for missing scripts) first.
    client.script_flush().await?;
    let (a, b, total) = client
        .pipeline()
        .add(incr_by.prepare().key(key("n")).arg(10).command::<i64>())
        .add(incr_by.prepare().key(key("n")).arg(100).command::<i64>())
        .add(cmd::get(key("n")).decode::<i64>())
        .execute()
        .await?;
    println!("pipeline after FLUSH    -> ({a}, {b}, {total})");
    assert_eq!((a, b, total), (17, 117, 117));

    // 4. In a transaction: take a lock and release it atomically with the script; a
    //    release with the wrong token deletes nothing.
    let lock = key("lock");
    let (taken, wrong_token, released, exists) = client
        .pipeline()
        .transaction()
        .add(cmd::set(&lock, "token-1").nx().px(30_000))
        .add(release.prepare().key(&lock).arg("token-2").command::<i64>())
        .add(release.prepare().key(&lock).arg("token-1").command::<i64>())
        .add(cmd::exists([&lock]))
        .execute()
        .await?;
    println!(
        "MULTI SET NX, release(wrong), release(right), EXISTS EXEC -> ({taken}, {wrong_token}, {released}, {exists})"
    );
    assert_eq!((taken, wrong_token, released, exists), (true, 0, 1, 0));

    clean(&client).await?;
    println!("scripts example complete");
    Ok(())
}
