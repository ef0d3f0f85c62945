//! Many subscribers on one shared RESP3 connection, subscribing and unsubscribing the
//! same channels and patterns concurrently: afterwards the server's subscriptions are
//! exactly what the subscribers still want, and each subscriber receives exactly the
//! messages of what it wants, once.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pubsub::{Kind, Subscriber};
use respec::{Client, Commands};
use respec_tests::Server;
use std::collections::BTreeSet;
use std::time::Duration;

const CHANNELS: [&str; 4] = ["churn-a", "churn-b", "churn-c", "churn-d"];
const PATTERNS: [&str; 2] = ["churn-[ab]", "churn-*"];
const SUBSCRIBERS: usize = 8;
const OPS: usize = 150;

/// What a subscriber wants after its random walk.
#[derive(Debug, Default, Clone)]
struct Wants {
    channels: BTreeSet<&'static str>,
    patterns: BTreeSet<&'static str>,
}

/// A random walk of subscribe / unsubscribe calls; returns what it ends up wanting.
async fn walk(sub: &Subscriber, seed: u64) -> Wants {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut w = Wants::default();
    for _ in 0..OPS {
        let c = CHANNELS[rng.usize(..CHANNELS.len())];
        let p = PATTERNS[rng.usize(..PATTERNS.len())];
        match rng.u8(..6) {
            0 | 1 => {
                sub.subscribe([c]).await.unwrap();
                w.channels.insert(c);
            }
            2 => {
                sub.unsubscribe([c]).await.unwrap();
                w.channels.remove(c);
            }
            3 => {
                sub.psubscribe([p]).await.unwrap();
                w.patterns.insert(p);
            }
            4 => {
                sub.punsubscribe([p]).await.unwrap();
                w.patterns.remove(p);
            }
            _ => {
                if rng.bool() {
                    sub.unsubscribe::<&str>([]).await.unwrap();
                    w.channels.clear();
                } else {
                    sub.punsubscribe::<&str>([]).await.unwrap();
                    w.patterns.clear();
                }
            }
        }
    }
    w
}

/// Whether `pattern` (one of [`PATTERNS`]) matches `channel` (one of [`CHANNELS`]).
fn matches(pattern: &str, channel: &str) -> bool {
    match pattern {
        "churn-*" => true,
        "churn-[ab]" => channel == "churn-a" || channel == "churn-b",
        _ => unreachable!(),
    }
}

/// The server's channels and patterns, as seen by `c`.
async fn server_state(c: &Client) -> (BTreeSet<Bytes>, i64) {
    let channels: Vec<Bytes> = c.pubsub_channels().pattern("churn-*").await.unwrap();
    (
        channels.into_iter().collect(),
        c.pubsub_numpat().await.unwrap(),
    )
}

fn expected_state<'a>(wants: impl Iterator<Item = &'a Wants>) -> (BTreeSet<Bytes>, i64) {
    let mut channels = BTreeSet::new();
    let mut patterns = BTreeSet::new();
    for w in wants {
        channels.extend(w.channels.iter().map(|c| Bytes::from(*c)));
        patterns.extend(w.patterns.iter().copied());
    }
    (channels, patterns.len() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_churn_leaves_the_server_and_the_routes_consistent() {
    let server = Server::start();
    let c = Client::builder()
        .url(&server.url())
        .protocol(Protocol::Resp3)
        .connect()
        .await
        .unwrap();
    let publisher = Client::connect(&server.url()).await.unwrap();
    for round in 0..3u64 {
        let mut subs = Vec::new();
        for _ in 0..SUBSCRIBERS {
            let sub = c
                .subscriber()
                .on_shared_connection()
                .ignore_subscribe_messages()
                .capacity(100_000)
                .await
                .unwrap();
            assert!(sub.is_shared());
            subs.push(sub);
        }
        // Every subscriber walks at once, from tasks of their own.
        let tasks: Vec<_> = subs
            .into_iter()
            .enumerate()
            .map(|(i, sub)| {
                tokio::spawn(async move {
                    let w = walk(&sub, round * 100 + i as u64).await;
                    (sub, w)
                })
            })
            .collect();
        let mut ended = Vec::new();
        for t in tasks {
            ended.push(t.await.unwrap());
        }
        let (mut subs, wants): (Vec<_>, Vec<_>) = ended.into_iter().unzip();
        // Each subscriber shows what it asked for, as the server confirmed it.
        for (i, (sub, w)) in subs.iter().zip(&wants).enumerate() {
            let as_bytes = |set: &BTreeSet<&str>| -> Vec<Bytes> {
                set.iter().map(|c| Bytes::from(c.to_string())).collect()
            };
            assert_eq!(
                (sub.channels(), sub.patterns()),
                (as_bytes(&w.channels), as_bytes(&w.patterns)),
                "round {round} subscriber {i}"
            );
        }
        assert_eq!(
            server_state(&c).await,
            expected_state(wants.iter()),
            "round {round}: the server's subscriptions"
        );

        // One message per channel, then a sentinel per subscriber on a channel of
        // its own: everything before the sentinel is what it receives.
        for (i, sub) in subs.iter().enumerate() {
            sub.subscribe([format!("sentinel-{i}")]).await.unwrap();
        }
        for ch in CHANNELS {
            publisher.publish(ch, ch).await.unwrap();
        }
        for i in 0..subs.len() {
            publisher
                .publish(format!("sentinel-{i}"), "end")
                .await
                .unwrap();
        }
        for (i, (sub, w)) in subs.iter_mut().zip(&wants).enumerate() {
            let mut got = Vec::new();
            loop {
                let m = sub
                    .get_message(Duration::from_secs(10))
                    .await
                    .unwrap_or_else(|| panic!("round {round} subscriber {i}: no sentinel"));
                if m.channel == format!("sentinel-{i}") {
                    break;
                }
                got.push((
                    m.kind == Kind::PMessage,
                    String::from_utf8(m.channel.to_vec()).unwrap(),
                    m.pattern
                        .map(|p| String::from_utf8(p.to_vec()).unwrap())
                        .unwrap_or_default(),
                ));
            }
            let mut want = Vec::new();
            for ch in CHANNELS {
                if w.channels.contains(ch) {
                    want.push((false, ch.to_owned(), String::new()));
                }
                for p in PATTERNS {
                    if w.patterns.contains(p) && matches(p, ch) {
                        want.push((true, ch.to_owned(), p.to_owned()));
                    }
                }
            }
            // The server sends a channel's message before its pattern messages; the
            // order among patterns is its own.
            got.sort();
            want.sort();
            assert_eq!(got, want, "round {round} subscriber {i} wanting {w:?}");
            assert_eq!(sub.dropped(), 0);
        }

        // Half of them leave: what only they wanted is unsubscribed.
        let kept = subs.split_off(SUBSCRIBERS / 2);
        drop(subs);
        for (i, sub) in kept.iter().enumerate() {
            sub.unsubscribe([format!("sentinel-{}", i + SUBSCRIBERS / 2)])
                .await
                .unwrap();
        }
        let (want_channels, want_numpat) = expected_state(wants[SUBSCRIBERS / 2..].iter());
        // Their unsubscriptions are written before the PING these calls waited for.
        assert_eq!(
            server_state(&c).await,
            (want_channels, want_numpat),
            "round {round}: after half the subscribers left"
        );
        drop(kept);
        // Everything is gone once the last ones left (their clean-up is written
        // before the next command on the connection).
        assert_eq!(
            server_state(&c).await,
            (BTreeSet::new(), 0),
            "round {round}: after every subscriber left"
        );
        // The connection is still in step.
        c.set("churn-key", round).await.unwrap();
        assert_eq!(c.get("churn-key").decode::<u64>().await.unwrap(), round);
    }
}
