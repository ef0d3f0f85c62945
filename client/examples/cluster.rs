//! A Redis Cluster or Valkey Cluster through the same typed API as one server:
//!
//! - connecting with a `redis+cluster://` URL (or `Client::connect_cluster`);
//! - single-key commands going to the node of their slot, `MGET`/`DEL` split by slot
//!   and put back together, `DBSIZE` summed over the primaries;
//! - hash tags to keep keys together, and the error for keys that are not;
//! - a pipeline across nodes and a transaction on one slot.
//!
//! Run it with `cargo xtask demo` (a throwaway 3-node cluster), or against your own:
//! `REDIS_CLUSTER_URL=redis+cluster://127.0.0.1:7000,127.0.0.1:7001 cargo run -p respec --example cluster`.
//! Every key it touches starts with `example:cluster:`.

use respec::prelude::*;

#[tokio::main]
async fn main() -> respec::Result<()> {
    let Ok(url) = std::env::var("REDIS_CLUSTER_URL") else {
        eprintln!("cluster example: set REDIS_CLUSTER_URL (cargo xtask demo does)");
        return Ok(());
    };
    let client = Client::connect(&url).await?;
    assert!(client.is_cluster());

    // Keys land on the node of their slot; the API is the one of a single server.
    let keys: Vec<String> = (0..100).map(|i| format!("example:cluster:{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        client.set(key, i as i64).await?;
    }
    let slots: std::collections::BTreeSet<u16> = keys
        .iter()
        .map(|k| respec::cluster::slot(k.as_bytes()))
        .collect();
    println!("100 keys in {} slots", slots.len());

    // MGET over every slot: split per node, answered in the order asked.
    let values: Vec<Option<i64>> = client.mget(&keys).decode().await?;
    assert_eq!(values, (0..100).map(Some).collect::<Vec<_>>());
    // DBSIZE goes to every primary and sums.
    assert!(client.dbsize().await? >= 100);

    // Keys that must be used together share a hash tag: one slot, one node.
    client.set("example:cluster:{cart}:items", 3).await?;
    client
        .rename("example:cluster:{cart}:items", "example:cluster:{cart}:old")
        .await?;
    // Without one, a command that cannot be split is refused before sending.
    let err = client
        .msetnx([("example:cluster:a", 1), ("example:cluster:b", 2)])
        .await
        .unwrap_err();
    assert!(err.is_cross_slot());
    println!("refused: {err}");

    // A pipeline across nodes, in call order; a transaction on one slot.
    let (a, b, n): (bool, bool, i64) = client
        .pipeline()
        .add(cmd::set("example:cluster:p1", "x"))
        .add(cmd::set("example:cluster:p2", "y"))
        .add(cmd::exists(["example:cluster:p1", "example:cluster:p2"]))
        .execute()
        .await?;
    assert!(a && b && n == 2);
    let (x, y): (i64, i64) = client
        .pipeline()
        .transaction()
        .add(cmd::incr("example:cluster:{account}:in"))
        .add(cmd::incr("example:cluster:{account}:out"))
        .execute()
        .await?;
    println!("transaction on one slot: {x} {y}");

    // Clean up: DEL splits by slot and sums.
    let mut all = keys.clone();
    all.extend(
        ["{cart}:old", "p1", "p2", "{account}:in", "{account}:out"]
            .iter()
            .map(|k| format!("example:cluster:{k}")),
    );
    let deleted = client.del(&all).await?;
    println!("deleted {deleted} keys; {:?}", client.cluster_stats());
    Ok(())
}
