//! `WAIT` and `WAITAOF` run on the connection that made the writes (the shared one),
//! not on a pooled connection where they would have nothing to wait for.

use respec::Commands;
use respec_tests::{protocols, Server};
use std::time::Duration;

/// Polls `INFO replication` until `needle` shows up (at most 10 s).
async fn await_info(c: &respec::Client, needle: &str) {
    for _ in 0..1000 {
        let info: String = c.info().section(["replication"]).decode().await.unwrap();
        if info.contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("INFO replication never showed {needle}");
}

#[tokio::test]
async fn wait_counts_the_acks_of_this_clients_writes() {
    let primary = Server::start();
    let mut replica = Server::builder()
        .config(format!("replicaof 127.0.0.1 {}", primary.port()))
        .start()
        .unwrap();
    let c = protocols::client(&primary, respec::connection::Protocol::Resp3).await;
    let r = protocols::client(&replica, respec::connection::Protocol::Resp3).await;
    await_info(&r, "master_link_status:up").await;
    await_info(&c, "connected_slaves:1").await;
    c.set("before", 1).await.unwrap();
    assert_eq!(c.wait(1, 5000).await.unwrap(), 1);

    // A frozen replica acknowledges nothing: a write made now is not acknowledged.
    // (On a connection with no writes of its own, WAIT would answer 1 at once.)
    replica.pause();
    c.set("k", "v").await.unwrap();
    let acked = c.wait(1, 200).await.unwrap();
    replica.resume();
    assert_eq!(acked, 0, "WAIT ran where the write was not made");
    assert_eq!(c.wait(1, 5000).await.unwrap(), 1);
    assert_eq!(c.pool_status().open, 0, "WAIT took a pooled connection");
}

#[tokio::test]
async fn wait_is_not_cut_by_the_request_timeout() {
    let server = Server::start();
    let c = respec::Client::builder()
        .url(&server.url())
        .request_timeout(Some(Duration::from_millis(50)))
        .connect()
        .await
        .unwrap();
    c.set("k", "v").await.unwrap();
    // No replica: WAIT 1 blocks for its whole timeout, longer than the request
    // timeout, and still answers.
    assert_eq!(c.wait(1, 300).await.unwrap(), 0);
}
