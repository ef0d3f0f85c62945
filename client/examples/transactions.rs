//! Transactions: `MULTI`/`EXEC` pipelines, and optimistic locking with `WATCH`.
//!
//! - `client.pipeline().transaction()`: commands that run together, all or nothing;
//! - `client.transaction(keys, |tx| ...)`: the check-and-set loop, retried on
//!   conflict, here run by 20 concurrent tasks on one counter;
//! - `client.watch(keys)` step by step, with another client's write making `EXEC` fail
//!   with a watch conflict.
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example transactions`.
//! Every key it touches starts with `example:transactions:`.

use respec::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const PREFIX: &str = "example:transactions:";
const COUNTER: &str = "example:transactions:counter";
const BALANCE: &str = "example:transactions:balance";
const TASKS: usize = 20;

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

    // 1. MULTI/EXEC as a pipeline: no other client's command runs between these, and
    //    the replies are EXEC's, typed like a plain pipeline's.
    let (visits, log_len, expiring) = client
        .pipeline()
        .transaction()
        .add(cmd::incr(key("visits")))
        .add(cmd::rpush(key("log"), ["visited"]))
        .add(cmd::expire(key("visits"), 3600))
        .execute()
        .await?;
    println!("MULTI INCR RPUSH EXPIRE EXEC -> ({visits}, {log_len}, {expiring})");
    assert_eq!((visits, log_len, expiring), (1, 1, true));
    // A command that fails while running (WRONGTYPE) does not undo the others: EXEC
    // runs them all; execute_each shows each one's result.
    let (pushed, wrong) = client
        .pipeline()
        .transaction()
        .add(cmd::rpush(key("log"), ["again"]))
        .add(cmd::incr(key("log")))
        .execute_each()
        .await?;
    let (pushed, wrong) = (pushed?, wrong.expect_err("INCR on a list"));
    println!("MULTI RPUSH INCR(list) EXEC  -> RPUSH = {pushed}, then {wrong}");
    assert_eq!(pushed, 2);
    assert_eq!(wrong.server_error().map(|e| e.code()), Some("WRONGTYPE"));

    // 2. The WATCH helper: read the counter, write counter + 1, and run again if
    //    another task wrote it in between. Each task conflicts at most once per other
    //    task's commit, so TASKS attempts always suffice.
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let client = client.clone();
        let attempts = attempts.clone();
        tasks.push(tokio::spawn(async move {
            client
                .transaction([COUNTER], |tx| {
                    attempts.fetch_add(1, Ordering::Relaxed);
                    async move {
                        // Immediate mode on the watched connection: the value is here now.
                        let n: Option<i64> = tx.get(COUNTER).decode().await?;
                        let n = n.unwrap_or(0) + 1;
                        // Queued: runs only if COUNTER did not change since WATCH.
                        tx.multi().add(cmd::set(COUNTER, n)).execute().await?;
                        Ok(n)
                    }
                })
                .max_attempts(TASKS)
                .await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("the task panicked")?);
    }
    results.sort_unstable();
    let final_count: i64 = client.get(COUNTER).decode().await?;
    let attempts = attempts.load(Ordering::Relaxed);
    println!(
        "{TASKS} tasks x client.transaction -> counter = {final_count} ({attempts} attempts, {} retried after a conflict)",
        attempts - TASKS
    );
    assert_eq!(final_count, TASKS as i64);
    // Every task saw a different value: no increment was lost.
    assert_eq!(results, (1..=TASKS as i64).collect::<Vec<_>>());

    // 3. Step by step: WATCH, read, and meanwhile another client writes.
    client.set(BALANCE, 100).await?;
    let other = Client::connect(&url).await?;
    let watched = client.watch([BALANCE]).await?;
    let balance: i64 = watched.get(BALANCE).decode().await?;
    other.incrby(BALANCE, 50).await?; // another client's write to the watched key
    let err = watched
        .multi()
        .add(cmd::set(BALANCE, balance - 30))
        .execute()
        .await
        .expect_err("the watched key changed");
    println!("WATCH, read {balance}, other client INCRBY 50, EXEC -> {err}");
    assert!(err.is_watch_conflict());
    assert!(!watched.is_watching()); // EXEC unwatched the key either way
    drop(watched); // the dedicated connection goes back to the pool
    let balance: i64 = client.get(BALANCE).decode().await?;
    assert_eq!(balance, 150, "the SET did not run");
    // Again, with nobody interfering: the transaction runs.
    let watched = client.watch([BALANCE]).await?;
    let balance: i64 = watched.get(BALANCE).decode().await?;
    let (ok,) = watched
        .multi()
        .add(cmd::set(BALANCE, balance - 30))
        .execute()
        .await?;
    let balance: i64 = client.get(BALANCE).decode().await?;
    println!("WATCH, read 150, EXEC        -> {ok}, balance = {balance}");
    assert!(ok);
    assert_eq!(balance, 120);

    clean(&client).await?;
    println!("transactions example complete");
    Ok(())
}
