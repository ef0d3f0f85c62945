//! The pattern of the per-group command tests: each test runs its body under RESP2
//! and RESP3 (`protocols::both`) and asserts typed values.

use bytes::Bytes;
use respec::Commands;
use respec_tests::{protocols, Server};

#[tokio::test]
async fn get_set_roundtrip_under_both_protocols() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        assert!(c.set("k", "v").await.unwrap());
        let old = c.set("k", "w").get().await.unwrap();
        (old, c.get("k").await.unwrap(), c.strlen("k").await.unwrap())
    })
    .await;
    assert_eq!(got, (Some(Bytes::from("v")), Some(Bytes::from("w")), 1));
}
