//! Pub/sub: subscribers, handlers, sharing the client's connection.
//!
//! This example
//!
//! - subscribes to two channels and a pattern on a subscriber with a connection of
//!   its own, publishes, and prints the messages and confirmations as they come (the
//!   redis-py / coredis handbook sequence);
//! - hands a subscriber to a handler running on a task of its own (`run`, redis-py's
//!   `run_in_thread`), and subscribes it to one more channel through its handle;
//! - subscribes on the client's own RESP3 connection (`on_shared_connection`) beside
//!   ordinary commands, with two subscribers sharing a channel;
//! - asks the server who listens (`PUBSUB NUMSUB`, `PUBSUB NUMPAT`).
//!
//! Run it with `cargo xtask demo` (a throwaway server), or against your own:
//! `REDIS_URL=redis://127.0.0.1:6379 cargo run -p respec --example pubsub`.
//! Every channel it uses starts with `example:pubsub:`; it stores no key.

use respec::prelude::*;
use respec::pubsub::{Kind, Message, Subscriber};
use std::time::Duration;

type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The next message, within 5 s.
async fn next(sub: &mut Subscriber) -> BoxResult<Message> {
    sub.get_message(Duration::from_secs(5))
        .await
        .ok_or_else(|| "no message within 5 s".into())
}

fn show(m: &Message) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match m.kind {
        Kind::Message | Kind::SMessage => {
            format!(
                "{:?} on {} : {}",
                m.kind,
                text(&m.channel),
                text(&m.payload)
            )
        }
        Kind::PMessage => format!(
            "PMessage on {} (pattern {}) : {}",
            text(&m.channel),
            text(m.pattern.as_deref().unwrap_or_default()),
            text(&m.payload)
        ),
        kind => format!("{kind:?} {} (count {:?})", text(&m.channel), m.count),
    }
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;

    println!("-- a subscriber with a connection of its own");
    let mut sub = client.subscriber().await?;
    sub.subscribe(["example:pubsub:first", "example:pubsub:second"])
        .await?;
    sub.psubscribe(["example:pubsub:*"]).await?;
    let receivers = client.publish("example:pubsub:first", "some data").await?;
    println!("PUBLISH reached {receivers} subscriptions");
    assert_eq!(receivers, 2, "the channel and the pattern");
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let m = next(&mut sub).await?;
        println!("  {}", show(&m));
        kinds.push(m.kind);
    }
    assert_eq!(
        kinds,
        [
            Kind::Subscribe,
            Kind::Subscribe,
            Kind::PSubscribe,
            Kind::Message,
            Kind::PMessage
        ]
    );
    let numsub = client
        .pubsub_numsub()
        .channel(["example:pubsub:first"])
        .await?;
    let numpat = client.pubsub_numpat().await?;
    println!("PUBSUB NUMSUB {numsub:?}, NUMPAT {numpat}");
    sub.unsubscribe_all().await?;
    sub.punsubscribe_all().await?;
    for _ in 0..3 {
        println!("  {}", show(&next(&mut sub).await?));
    }
    drop(sub); // closes its connection

    println!("-- a handler on a task of its own");
    let sub = client.subscriber().ignore_subscribe_messages().await?;
    sub.subscribe(["example:pubsub:jobs"]).await?;
    // The task will own the subscriber: keep a handle to change its subscriptions.
    let handle = sub.handle();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handler = sub.run(move |msg| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(msg.payload);
        }
    });
    for i in 0..3 {
        client
            .publish("example:pubsub:jobs", format!("job {i}"))
            .await?;
    }
    for i in 0..3 {
        let payload = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await?
            .ok_or("the handler stopped")?;
        println!("  handled {}", String::from_utf8_lossy(&payload));
        assert_eq!(payload, format!("job {i}"));
    }
    handle.subscribe(["example:pubsub:urgent"]).await?;
    println!("  subscribed through the handle: {:?}", handle.channels());
    client.publish("example:pubsub:urgent", "job 3").await?;
    let payload = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await?
        .ok_or("the handler stopped")?;
    println!("  handled {}", String::from_utf8_lossy(&payload));
    assert_eq!(payload, "job 3");
    handler.abort(); // the subscriber goes with its task

    println!("-- two subscribers on the client's own connection (RESP3)");
    let mut a = client.subscriber().on_shared_connection().await?;
    let mut b = client.subscriber().on_shared_connection().await?;
    println!("  shared: {} and {}", a.is_shared(), b.is_shared());
    a.subscribe(["example:pubsub:news"]).await?;
    b.subscribe(["example:pubsub:news"]).await?;
    // Ordinary commands go on beside them.
    let pong: String = client.ping().decode().await?;
    let receivers = client.publish("example:pubsub:news", "hello").await?;
    // One connection, one subscription on the server.
    println!("  PING -> {pong}; PUBLISH reached {receivers} connection(s)");
    for (name, sub) in [("a", &mut a), ("b", &mut b)] {
        for _ in 0..2 {
            println!("  {name}: {}", show(&next(sub).await?));
        }
    }
    drop(a); // b still wants the channel: it stays subscribed
    assert_eq!(client.publish("example:pubsub:news", "again").await?, 1);
    println!("  b: {}", show(&next(&mut b).await?));
    drop(b); // nobody wants it: unsubscribed
    Ok(())
}
