//! Helpers of the pub/sub tests: message shapes to compare, waiting for a message or
//! a condition, and the server's view of subscriptions (`PUBSUB`, `CLIENT LIST`).

use crate::protocols;
use crate::server::Server;
use bytes::Bytes;
use respec::pubsub::{Kind, Message, Subscriber};
use respec::{Client, Commands};
use std::future::IntoFuture;
use std::time::{Duration, Instant};

/// How long a message or a condition may take before a test fails.
pub const LIMIT: Duration = Duration::from_secs(10);

/// `s` as bytes.
pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The shape of a message: kind, channel, pattern, payload, count.
pub type Shape = (Kind, Bytes, Option<Bytes>, Bytes, Option<i64>);

/// The shape of `m`.
pub fn shape(m: &Message) -> Shape {
    (
        m.kind,
        m.channel.clone(),
        m.pattern.clone(),
        m.payload.clone(),
        m.count,
    )
}

/// The shape of a confirmation.
pub fn confirmation(kind: Kind, channel: &str, count: i64) -> Shape {
    (kind, b(channel), None, Bytes::new(), Some(count))
}

/// The shape of a published message.
pub fn message(kind: Kind, channel: &str, pattern: Option<&str>, payload: &str) -> Shape {
    (kind, b(channel), pattern.map(b), b(payload), None)
}

/// The next message, within [`LIMIT`].
pub async fn next(sub: &mut Subscriber) -> Message {
    sub.get_message(LIMIT)
        .await
        .unwrap_or_else(|| panic!("a message within {LIMIT:?}"))
}

/// The shapes of the next `n` messages.
pub async fn next_n(sub: &mut Subscriber, n: usize) -> Vec<Shape> {
    let mut got = Vec::with_capacity(n);
    for _ in 0..n {
        got.push(shape(&next(sub).await));
    }
    got
}

/// Polls `probe` until it returns `Ok(want)`, for at most [`LIMIT`] (awaiting a
/// condition, not sleeping for a guessed time); errors count as "not yet" (the probing
/// client may be reconnecting).
pub async fn await_value<T, F, Fut>(what: &str, want: T, mut probe: F)
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: IntoFuture<Output = respec::Result<T>>,
{
    let start = Instant::now();
    loop {
        // (Bounded too: a probe that never answers fails the test, not CI.)
        let left = LIMIT.saturating_sub(start.elapsed());
        let got = tokio::time::timeout(left, probe().into_future())
            .await
            .unwrap_or_else(|_| panic!("{what}: a probe did not answer within {LIMIT:?}"));
        if matches!(&got, Ok(v) if *v == want) {
            return;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{what}: still {got:?} after {LIMIT:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `PUBSUB NUMSUB channel` as seen by `c`.
pub async fn numsub(c: &Client, channel: &str) -> respec::Result<i64> {
    Ok(c.pubsub_numsub().channel([channel]).await?[0].1)
}

/// `PUBSUB SHARDNUMSUB channel` as seen by `c`.
pub async fn shardnumsub(c: &Client, channel: &str) -> respec::Result<i64> {
    Ok(c.pubsub_shardnumsub().shardchannel([channel]).await?[0].1)
}

/// A field of a `CLIENT LIST` line.
pub fn field<'l>(line: &'l str, key: &str) -> &'l str {
    line.split(' ')
        .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// The ids of the connections `CLIENT LIST` shows in a subscribed state (`sub`,
/// `psub` or `ssub` above 0).
pub async fn subscribed_ids(c: &Client) -> respec::Result<Vec<i64>> {
    let list = c.client_list().await?;
    Ok(String::from_utf8_lossy(&list)
        .lines()
        .filter(|line| {
            ["sub", "psub", "ssub"]
                .iter()
                .any(|k| field(line, k).parse::<u64>().is_ok_and(|n| n > 0))
        })
        .map(|line| {
            field(line, "id")
                .parse()
                .unwrap_or_else(|_| panic!("no id in {line}"))
        })
        .collect())
}

/// How many connections `CLIENT LIST` shows in a subscribed state.
pub async fn subscribed_connections(c: &Client) -> respec::Result<usize> {
    Ok(subscribed_ids(c).await?.len())
}

/// Whether the server has sharded pub/sub (prints why not otherwise).
pub fn has_sharded(server: &Server) -> bool {
    protocols::since(server, (7, 0, 0), "SSUBSCRIBE")
}
