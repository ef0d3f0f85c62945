//! A service behind Redis or Valkey sentinels through the same typed API as one
//! server:
//!
//! - connecting with a `redis+sentinel://` URL (or `Client::connect_sentinel`): the
//!   sentinels are asked for the primary, and its `ROLE` is checked;
//! - commands, a pipeline and a transaction on the primary;
//! - a replica client (`role=replica`) reading what the primary wrote.
//!
//! Run it with `cargo xtask demo` (a throwaway group of a primary, two replicas and
//! three sentinels), or against your own:
//! `REDIS_SENTINEL_URL=redis+sentinel://127.0.0.1:26379/mymaster cargo run -p respec --example sentinel`.
//! Every key it touches starts with `example:sentinel:`.

use respec::prelude::*;
use std::time::Duration;

#[tokio::main]
async fn main() -> respec::Result<()> {
    let Ok(url) = std::env::var("REDIS_SENTINEL_URL") else {
        eprintln!("sentinel example: set REDIS_SENTINEL_URL (cargo xtask demo does)");
        return Ok(());
    };
    // The primary, found by the sentinels; a failover moves this client with it.
    let client = Client::connect(&url).await?;
    let role = client.role().await?;
    println!("connected to {} ({role:?})", client.address());

    client.set("example:sentinel:greeting", "hello").await?;
    let (n, greeting): (i64, Option<bytes::Bytes>) = client
        .pipeline()
        .add(cmd::incr("example:sentinel:visits"))
        .add(cmd::get("example:sentinel:greeting"))
        .execute()
        .await?;
    println!("visit {n}: {greeting:?}");

    // A replica client reads what the primary wrote once it has replicated (WAIT).
    client.wait(1, 1_000).await?;
    let separator = if url.contains('?') { '&' } else { '?' };
    let replica = Client::connect(&format!("{url}{separator}role=replica")).await?;
    let mut seen: Option<String> = None;
    for _ in 0..50 {
        seen = replica.get("example:sentinel:greeting").decode().await?;
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("the replica at {} reads {seen:?}", replica.address());
    let refused = replica.set("example:sentinel:x", 1).await.unwrap_err();
    println!("a write on a replica client: {refused}");

    client
        .del(["example:sentinel:greeting", "example:sentinel:visits"])
        .await?;
    Ok(())
}
