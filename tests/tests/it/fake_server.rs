//! What a real server cannot produce: malformed frames and a disconnect in the middle
//! of a frame, from a tiny in-process server (ARCHITECTURE.md §6).

use respec::{Client, Commands};
use respec_tests::fake::{handshake_answer, serve, Answer};
use std::time::Duration;

/// A server that completes the RESP2 fallback handshake (refusing HELLO), then
/// answers the first real command with `reply` and, if `close`, hangs up.
async fn fake(reply: &'static [u8], close: bool) -> String {
    let (url, _) = serve(move |_, words| match handshake_answer(words) {
        Some(a) => Answer::Write(a),
        None if close => Answer::WriteAndClose(reply),
        None => Answer::Write(reply),
    })
    .await;
    format!("{url}?connect_timeout=2")
}

async fn within<T>(f: impl std::future::IntoFuture<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f.into_future())
        .await
        .expect("the client hung")
}

#[tokio::test]
async fn malformed_frame_is_a_protocol_error() {
    for bad in [
        &b"?what\r\n"[..],
        b":12x\r\n",
        b"$3\r\nabcdef\r\n",
        b"*1\r\n#maybe\r\n",
    ] {
        let url = fake(Box::leak(bad.to_vec().into_boxed_slice()), false).await;
        let client = Client::connect(&url).await.unwrap();
        let err = within(client.get("k")).await.unwrap_err();
        assert!(
            err.is_protocol(),
            "{:?}: {err}",
            String::from_utf8_lossy(bad)
        );
        assert!(err.to_string().contains("GET"), "{err}");
    }
}

#[tokio::test]
async fn disconnect_mid_frame_is_an_io_error() {
    // A bulk string announced as 10 bytes, cut after 3.
    let url = fake(b"$10\r\nabc", true).await;
    let client = Client::connect(&url).await.unwrap();
    let err = within(client.get("k")).await.unwrap_err();
    assert!(err.is_io(), "{err}");
}

#[tokio::test]
async fn a_reply_that_does_not_fit_the_type_is_a_decode_error() {
    // A well-formed reply of the wrong shape only fails that request.
    let url = fake(b"*2\r\n:1\r\n:2\r\n", false).await;
    let client = Client::connect(&url).await.unwrap();
    let err = within(client.get("k")).await.unwrap_err();
    assert!(err.is_decode(), "{err}");
    let again = within(client.get("k")).await.unwrap_err();
    assert!(again.is_decode(), "{again}");
}

#[tokio::test]
async fn an_unknown_hello_falls_back_to_resp2() {
    let url = fake(b"$2\r\nok\r\n", false).await;
    let client = Client::connect(&url).await.unwrap();
    assert_eq!(
        within(client.get("k")).await.unwrap(),
        Some(bytes::Bytes::from("ok"))
    );
}

/// A RESP2 server whose pub/sub frames are partly malformed: it answers `SUBSCRIBE`
/// with a `message` frame of the wrong shape, then the confirmation and a good
/// message, and `PING` as a subscribed RESP2 server does.
async fn fake_pubsub() -> String {
    let (url, _) = serve(|_, words| {
        if let Some(a) = handshake_answer(words) {
            return Answer::Write(a);
        }
        Answer::Write(match &words[0].to_ascii_uppercase()[..] {
            b"SUBSCRIBE" => {
                b"*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n\
                  *3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n\
                  *3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$4\r\ngood\r\n"
            }
            b"PING" => b"*2\r\n$4\r\npong\r\n$0\r\n\r\n",
            _ => b"+OK\r\n",
        })
    })
    .await;
    format!("{url}?connect_timeout=2")
}

#[tokio::test]
async fn a_malformed_pubsub_frame_is_dropped_and_the_subscriber_stays_in_step() {
    let c = Client::connect(&fake_pubsub().await).await.unwrap();
    let mut sub = c.subscriber().await.unwrap();
    // The malformed frame neither answers the call nor breaks the connection: the
    // call ends with the PING's answer, after the confirmation.
    tokio::time::timeout(Duration::from_secs(5), sub.subscribe(["x"]))
        .await
        .expect("subscribe returns")
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let m = sub
            .get_message(Duration::from_secs(5))
            .await
            .expect("a message");
        got.push((m.kind, m.channel, m.payload));
    }
    use respec::pubsub::Kind;
    assert_eq!(
        got,
        [
            (Kind::Subscribe, "x".into(), bytes::Bytes::new()),
            (Kind::Message, "x".into(), "good".into()),
        ]
    );
    // No reconnect happened (it would have delivered `Reconnected`).
    assert!(sub.get_message(Duration::from_millis(100)).await.is_none());
    // The same subscriber goes on working.
    sub.subscribe(["x"]).await.unwrap();
    assert_eq!(
        sub.get_message(Duration::from_secs(5)).await.unwrap().kind,
        Kind::Subscribe
    );
}
