//! The forms a user coming from redis-py or coredis writes (issue 19 item 5), against a
//! real server under RESP2 and RESP3: commands where a future is expected, one value
//! for a list parameter, stream IDs as strings, trimming and BITFIELD options. Their
//! encoding and the errors of what a command does not take are in
//! `client/tests/encode.rs`; the compile errors of the usual mistakes in `ui.rs`.

use bytes::Bytes;
use futures_util::future::join_all;
use respec::Commands;
use respec_tests::protocols;
use respec_tests::Server;

#[tokio::test]
async fn commands_go_wherever_a_future_is_expected() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        // join_all: each command handed to the client as it is turned into a future.
        let set = join_all((0..5).map(|i| c.set(format!("k{i}"), i).into_future())).await;
        let set: Vec<bool> = set.into_iter().map(Result::unwrap).collect();
        // tokio::spawn: the future owns what it needs; the client stays here.
        let spawned = tokio::spawn(c.incrby("k1", 10).into_future());
        let spawned = spawned.await.unwrap().unwrap();
        // tokio::join! and tokio::select! take the commands themselves.
        let (k0, k2) = tokio::join!(c.get("k0"), c.strings().get("k2"));
        let k3 = tokio::select! {
            v = c.get("k3") => v.unwrap(),
            () = std::future::pending() => unreachable!(),
        };
        // A clone of the client moves into a task of its own.
        let own = c.clone();
        let task = tokio::spawn(async move { own.get("k4").await });
        (
            set,
            spawned,
            (k0.unwrap(), k2.unwrap(), k3, task.await.unwrap().unwrap()),
        )
    })
    .await;
    assert_eq!(got.0, [true; 5]);
    assert_eq!(got.1, 11);
    assert_eq!(
        got.2,
        (
            Some(Bytes::from("0")),
            Some("2".to_owned()),
            Some(Bytes::from("3")),
            Some(Bytes::from("4"))
        )
    );
}

#[tokio::test]
async fn a_list_parameter_takes_one_value() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        let keys = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        for k in &keys {
            c.set(k, k).await.unwrap();
        }
        let exists = (
            c.exists("a").await.unwrap(),
            c.exists(b"b").await.unwrap(),
            c.exists(["a", "b", "nope"]).await.unwrap(),
            c.exists(&keys).await.unwrap(),
            c.exists(keys.iter().map(|k| k.as_str())).await.unwrap(),
        );
        let mget: Vec<Option<Bytes>> = c.mget("c").await.unwrap();
        let deleted = (
            c.del("a").await.unwrap(),
            c.del(vec!["b"]).await.unwrap(),
            c.del(&keys[..]).await.unwrap(),
        );
        (exists, mget, deleted)
    })
    .await;
    assert_eq!(got.0, (1, 1, 2, 3, 3));
    assert_eq!(got.1, [Some(Bytes::from("c"))]);
    assert_eq!(got.2, (1, 1, 1));
}

#[tokio::test]
async fn streams_in_the_words_users_write() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.xgroup_create("s", "g", "$").mkstream().await.unwrap();
        for i in 0..20 {
            let id = c.xadd("s", "*", [("n", i)]).maxlen(10).await.unwrap();
            assert!(id.is_some());
        }
        let len = c.xlen("s").await.unwrap();
        let explicit = c.xadd("t", "1-*", [("n", "x")]).await.unwrap();
        let after_it = c.xadd("t", "5", [("n", "y")]).await.unwrap();
        let read = c.xreadgroup("g", "c1", "s", ">").count(3).await.unwrap();
        let entries = &read.as_ref().unwrap()[0].1;
        let acked = c.xack("s", "g", &entries[0].id).await.unwrap();
        let from_start = c.xread("t", "0").await.unwrap().unwrap()[0].1.len();
        let exclusive = c.xrange("t", "(1-0", "+").await.unwrap().len();
        let trimmed = c.xtrim("s").maxlen(2).approx().limit(100).await.unwrap();
        let exact = c.xtrim("s").maxlen(2).await.unwrap();
        // A word the argument does not take is refused before it is sent.
        let bad = c.xadd("s", "$", [("n", "z")]).await.unwrap_err();
        assert!(bad.is_invalid_argument() && bad.is_unsent(), "{bad}");
        (
            len,
            (explicit, after_it),
            (entries.len(), acked, from_start, exclusive),
            (trimmed, exact, c.xlen("s").await.unwrap()),
        )
    })
    .await;
    assert_eq!(got.0, 10);
    assert_eq!(got.1, (Some(Bytes::from("1-0")), Some(Bytes::from("5-0"))));
    assert_eq!(got.2, (3, 1, 2, 1));
    // Approximate trimming with a LIMIT leaves a stream of whole nodes alone.
    assert_eq!(got.3, (0, 8, 2));
}

#[tokio::test]
async fn bitfield_positional_offsets() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        c.bitfield("b")
            .set("u8", "#1", 255)
            .get("u8", "#1")
            .get("u8", 8)
            .get("u8", respec::command::BitOffset::Nth(0))
            .await
            .unwrap()
    })
    .await;
    assert_eq!(got, [Some(0), Some(255), Some(255), Some(0)]);
}
