//! Pub/sub against a real server: the message sequences of the redis-py / coredis
//! handbook examples, under RESP2 and RESP3.

use bytes::Bytes;
use respec::connection::Protocol;
use respec::pubsub::{Kind, Message};
use respec::Commands;
use respec_tests::{protocols, Server};
use std::time::Duration;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The shape of a message: kind, channel, pattern, payload, count.
fn shape(m: &Message) -> (Kind, Bytes, Option<Bytes>, Bytes, Option<i64>) {
    (
        m.kind,
        m.channel.clone(),
        m.pattern.clone(),
        m.payload.clone(),
        m.count,
    )
}

async fn next(sub: &mut respec::pubsub::Subscriber) -> Message {
    sub.get_message(Duration::from_secs(10))
        .await
        .expect("a message within 10 s")
}

#[tokio::test]
async fn handbook_sequence_subscribe_publish_unsubscribe() {
    let server = Server::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let c = protocols::client(&server, protocol).await;
        let mut sub = c.subscriber().await.unwrap();
        sub.subscribe(["my-first-channel", "my-second-channel"])
            .await
            .unwrap();
        sub.psubscribe(["my-*"]).await.unwrap();
        assert_eq!(c.publish("my-first-channel", "some data").await.unwrap(), 2);
        sub.unsubscribe::<&str>([]).await.unwrap();
        sub.punsubscribe::<&str>([]).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..8 {
            got.push(shape(&next(&mut sub).await));
        }
        let (sub_, unsub, psub, punsub) = (
            Kind::Subscribe,
            Kind::Unsubscribe,
            Kind::PSubscribe,
            Kind::PUnsubscribe,
        );
        let e = Bytes::new();
        // Unsubscribe-all confirms channels in the server's order: compare as sets.
        assert_eq!(
            got[..5],
            [
                (sub_, b("my-first-channel"), None, e.clone(), Some(1)),
                (sub_, b("my-second-channel"), None, e.clone(), Some(2)),
                (psub, b("my-*"), None, e.clone(), Some(3)),
                (
                    Kind::Message,
                    b("my-first-channel"),
                    None,
                    b("some data"),
                    None
                ),
                (
                    Kind::PMessage,
                    b("my-first-channel"),
                    Some(b("my-*")),
                    b("some data"),
                    None
                ),
            ],
            "{protocol:?}"
        );
        let mut unsubs: Vec<_> = got[5..7].to_vec();
        unsubs.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(unsubs[0].0, unsub);
        assert_eq!(unsubs[1].0, unsub);
        assert_eq!(
            (unsubs[0].1.clone(), unsubs[1].1.clone()),
            (b("my-first-channel"), b("my-second-channel"))
        );
        let mut counts = vec![unsubs[0].4, unsubs[1].4];
        counts.sort();
        assert_eq!(counts, [Some(1), Some(2)]);
        assert_eq!(got[7], (punsub, b("my-*"), None, e.clone(), Some(0)));
        assert!(sub.get_message(Duration::from_millis(50)).await.is_none());
    }
}
