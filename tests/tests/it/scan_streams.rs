//! The SCAN family as streams, against a real server, under RESP2 and RESP3.

use bytes::Bytes;
use respec::{cmd, Commands};
use respec_tests::{protocols, Server};
use std::collections::BTreeSet;

#[tokio::test]
async fn scan_streams_yield_every_item_once() {
    let server = Server::start();
    let novalues = protocols::since(&server, (8, 0, 0), "HSCAN NOVALUES");
    let got = protocols::both(&server, |c| async move {
        let keys: Vec<String> = (0..250).map(|i| format!("user:{i}")).collect();
        c.mset(keys.iter().map(|k| (k.as_str(), "v")))
            .await
            .unwrap();
        c.set("other", "x").await.unwrap();
        c.sadd("s", (0..100).map(|i| i.to_string())).await.unwrap();
        c.hset("h", (0..50).map(|i| (format!("f{i}"), i.to_string())))
            .await
            .unwrap();
        c.zadd("z", (0..30).map(|i| (f64::from(i), format!("m{i}"))))
            .await
            .unwrap();

        // SCAN with MATCH and a small COUNT: many pages, every matching key once.
        let mut stream = c.scan_stream(cmd::scan(0).match_("user:*").count(10));
        let mut seen = BTreeSet::new();
        let mut n = 0;
        while let Some(k) = stream.next().await {
            seen.insert(k.unwrap());
            n += 1;
        }
        assert_eq!(stream.cursor(), &Bytes::from("0"));
        let set: BTreeSet<Bytes> = c
            .scan_stream(cmd::sscan("s", 0).count(7))
            .collect()
            .await
            .unwrap();
        let fields: Vec<(Bytes, Bytes)> = {
            let mut s = c.scan_stream(cmd::hscan("h", 0).count(5));
            let mut v = Vec::new();
            while let Some(p) = s.next().await {
                v.push(p.unwrap());
            }
            v.sort();
            v
        };
        let names: Vec<Bytes> = if !novalues {
            (0..50).map(|i| Bytes::from(format!("f{i}"))).collect()
        } else {
            let mut s = c.scan_stream(cmd::hscan("h", 0).novalues());
            let mut v = Vec::new();
            while let Some(p) = s.next().await {
                v.push(p.unwrap());
            }
            v
        };
        let mut scores: Vec<(Bytes, f64)> = {
            let mut s = c.scan_stream(cmd::zscan("z", 0));
            let mut v = Vec::new();
            while let Some(p) = s.next().await {
                v.push(p.unwrap());
            }
            v
        };
        scores.sort_by(|a, b| a.1.total_cmp(&b.1));
        (
            seen.len(),
            n,
            set.len(),
            fields.len(),
            fields[0].clone(),
            names.len(),
            scores[29].clone(),
        )
    })
    .await;
    assert_eq!(
        got,
        (
            250,
            250,
            100,
            50,
            (Bytes::from("f0"), Bytes::from("0")),
            50,
            (Bytes::from("m29"), 29.0)
        )
    );
}

#[tokio::test]
async fn scan_restarts_from_a_cursor_and_reports_errors() {
    let server = Server::start();
    let client = protocols::client(&server, respec::connection::Protocol::Resp3).await;
    client
        .sadd("s", (0..200).map(|i| i.to_string()))
        .await
        .unwrap();
    // Read part of the set, keep the cursor, and finish from it later.
    let mut first = client.scan_stream(cmd::sscan("s", 0).count(10));
    let mut seen = BTreeSet::new();
    while seen.len() < 30 {
        seen.insert(first.next().await.unwrap().unwrap());
    }
    // Take what the current page still holds, then restart from its cursor.
    while first.buffered() > 0 {
        seen.insert(first.next().await.unwrap().unwrap());
    }
    let cursor = first.cursor().clone();
    let cursor = String::from_utf8(cursor.to_vec()).unwrap();
    drop(first);
    let mut rest = client.scan_stream(cmd::sscan("s", cursor.parse::<u64>().unwrap()));
    while let Some(m) = rest.next().await {
        seen.insert(m.unwrap());
    }
    // SSCAN may repeat items but never misses one that was there throughout.
    assert_eq!(seen.len(), 200);
    // A scan of the wrong type is an error from the stream.
    client.set("str", "x").await.unwrap();
    let mut bad = client.scan_stream(cmd::sscan("str", 0));
    let err = bad.next().await.unwrap().unwrap_err();
    assert_eq!(err.server_error().map(|e| e.code()), Some("WRONGTYPE"));
    assert!(bad.next().await.is_none());
}
