//! Blocking commands on pooled connections: a worker queue with BLPOP.
//!
//! A `Client` sends every command on one shared, multiplexed connection, except the
//! commands the spec flags `BLOCKING` (BLPOP, BRPOP, XREAD, WAIT, ...): each of those
//! takes a dedicated connection from the client's pool for as long as it blocks, so
//! it never stalls the others. This example
//!
//! - builds a client with a pool of 4 connections and a short pool timeout;
//! - runs 3 consumer tasks blocked in BLPOP on one queue, and shows `pool_status()`;
//! - fills the last connection, and shows the error a fifth blocking call gets
//!   (`is_pool_exhausted()`) while plain commands still go through;
//! - produces jobs, and checks that every job was consumed exactly once.
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example blocking`.
//! Every key it touches starts with `example:blocking:`.

use respec::prelude::*;
use std::time::{Duration, Instant};

const PREFIX: &str = "example:blocking:";
const QUEUE: &str = "example:blocking:jobs";
const DONE: &str = "example:blocking:done";
const IDLE: &str = "example:blocking:idle";
const STOP: &str = "stop";
const POOL_SIZE: usize = 4;
const CONSUMERS: usize = 3;
const JOBS: usize = 30;

type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

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

/// Pops jobs until it pops `stop`; returns how many jobs it handled.
async fn consumer(client: Client, id: usize) -> BoxResult<usize> {
    let mut handled = 0;
    loop {
        // Blocks on a pooled connection; the shared one stays free for the others.
        let Some((_queue, job)) = client.blpop([QUEUE], Duration::from_secs(10)).await? else {
            return Err(format!("consumer {id}: no job within 10 s").into());
        };
        if job == STOP {
            return Ok(handled);
        }
        // "Handle" the job: record who did it, on the shared connection.
        let line = format!("{}:{id}", String::from_utf8_lossy(&job));
        client.rpush(DONE, [line]).await?;
        handled += 1;
    }
}

/// Waits (at most 5 s) until `n` pooled connections are in use.
async fn wait_in_use(client: &Client, n: usize) -> BoxResult<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = client.pool_status();
        if s.open - s.idle == n {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("expected {n} pooled connections in use, pool is {s:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::builder()
        .url(&url)
        .pool_size(POOL_SIZE)
        .pool_timeout(Some(Duration::from_millis(300)))
        .connect()
        .await?;
    clean(&client).await?;
    println!(
        "pool before any blocking command: {:?}",
        client.pool_status()
    );

    // 1. The consumers block in BLPOP on the empty queue, one pooled connection each.
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|id| tokio::spawn(consumer(client.clone(), id)))
        .collect();
    wait_in_use(&client, CONSUMERS).await?;
    let status = client.pool_status();
    println!("{CONSUMERS} consumers blocked in BLPOP -> {status:?}");
    assert_eq!(
        (status.open, status.idle, status.max_size),
        (3, 0, POOL_SIZE)
    );

    // 2. Take the last pooled connection too (a BLPOP on a key nobody fills yet)...
    let last = {
        let c = client.clone();
        tokio::spawn(async move { c.blpop([IDLE], Duration::from_secs(10)).await })
    };
    wait_in_use(&client, POOL_SIZE).await?;
    // ...so one more blocking command waits pool_timeout for a free connection, then
    // fails. Plain commands are unaffected: they use the shared connection.
    let started = Instant::now();
    let err = client
        .blpop([IDLE], Duration::from_secs(1))
        .await
        .expect_err("every pooled connection is in use");
    let waited = started.elapsed().as_millis();
    println!("a 5th BLPOP, after {waited} ms -> {err}");
    assert!(err.is_pool_exhausted());
    let pong = client.ping().await?;
    println!("PING meanwhile -> {pong:?}");
    // Release the fourth connection: it goes back to the pool, idle.
    client.rpush(IDLE, ["wake up"]).await?;
    let woke = last.await??;
    assert_eq!(woke, Some((Bytes::from(IDLE), Bytes::from("wake up"))));
    wait_in_use(&client, CONSUMERS).await?;

    // 3. Produce the jobs (one write), then one stop message per consumer.
    let jobs: Vec<String> = (0..JOBS).map(|i| format!("job-{i:02}")).collect();
    client.rpush(QUEUE, &jobs).await?;
    client.rpush(QUEUE, [STOP; CONSUMERS]).await?;
    let mut handled = Vec::new();
    for c in consumers {
        handled.push(c.await??);
    }
    println!("{JOBS} jobs handled by {CONSUMERS} consumers: {handled:?}");
    assert_eq!(handled.iter().sum::<usize>(), JOBS);

    // Every job exactly once.
    let done: Vec<String> = client.strings().lrange(DONE, 0, -1).await?;
    let mut done_jobs: Vec<&str> = done
        .iter()
        .map(|line| line.split_once(':').expect("job:consumer").0)
        .collect();
    done_jobs.sort_unstable();
    assert_eq!(done_jobs, jobs);
    assert_eq!(client.llen(QUEUE).await?, 0);

    // Every pooled connection is back, idle, ready for the next blocking command.
    let status = client.pool_status();
    println!("pool at the end -> {status:?}");
    assert_eq!((status.open, status.idle), (POOL_SIZE, POOL_SIZE));

    clean(&client).await?;
    println!("blocking example complete");
    Ok(())
}
