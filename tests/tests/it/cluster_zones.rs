//! Reads by availability zone (`ReadFrom::Zone`, Valkey 8.1+'s `availability-zone`,
//! which `CLUSTER SHARDS` reports for every node): the replicas of the client's zone
//! serve the reads in turn; with none of them up, the primary does (the documented
//! policy), never a replica of another zone. Skipped on servers without zones.

use crate::cluster_faults::gets_served;
use respec::cluster::{ClusterOptions, ReadFrom};
use respec::{Client, Commands};
use respec_tests::Cluster;
use tokio::task::block_in_place;

/// How many keys each round reads.
const READS: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_reads_go_to_the_zones_replicas_in_turn_then_to_the_primary() {
    let Some(mut cluster) = Cluster::builder().primaries(1).replicas(3).start_or_skip() else {
        return;
    };
    // The primary and one replica in az-b, two replicas in az-a (the client's).
    let replicas = cluster.replicas_of(0);
    let (near, other) = ([replicas[0], replicas[1]], replicas[2]);
    for (node, zone) in [
        (0, "az-b"),
        (near[0], "az-a"),
        (near[1], "az-a"),
        (other, "az-b"),
    ] {
        match block_in_place(|| cluster.set_availability_zone(node, zone)) {
            Ok(()) => {}
            Err(e) if e.is_unavailable() => {
                respec_tests::skip(format!("zone reads: {e}"));
                return;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let mut options = ClusterOptions::default();
    options.read_from = ReadFrom::Zone("az-a".into());
    let client = Client::connect_cluster_with(cluster.seed_urls(), options)
        .await
        .unwrap();
    let keys: Vec<String> = (0..READS).map(|i| format!("zone:{i}")).collect();
    for k in &keys {
        client.set(k, k.as_str()).await.unwrap();
    }
    assert_eq!(
        client.wait(3, 5_000).await.unwrap(),
        3,
        "every replica has the keys"
    );
    // The GETs each of `nodes` served while every key was read once (checked).
    let round = |cluster: &Cluster, nodes: Vec<usize>| {
        let before: Vec<u64> = nodes.iter().map(|&i| gets_served(cluster, i)).collect();
        let (client, keys) = (client.clone(), keys.clone());
        async move {
            for k in &keys {
                let v: Option<String> = client.get(k).decode().await.unwrap();
                assert_eq!(v.as_deref(), Some(k.as_str()));
            }
            (nodes, before)
        }
    };
    let delta = |cluster: &Cluster, (nodes, before): (Vec<usize>, Vec<u64>)| -> Vec<u64> {
        nodes
            .iter()
            .zip(before)
            .map(|(&i, b)| gets_served(cluster, i) - b)
            .collect()
    };
    let reads = READS as u64;

    // Both replicas of the zone up: they serve every read, in turn.
    let done = round(&cluster, vec![0, near[0], near[1], other]).await;
    let got = delta(&cluster, done);
    eprintln!("zone az-a, both up: primary, az-a, az-a, az-b served {got:?}");
    assert_eq!((got[0], got[3]), (0, 0), "{got:?}");
    assert_eq!(got[1] + got[2], reads, "{got:?}");
    assert!(
        got[1] >= reads / 3 && got[2] >= reads / 3,
        "in turn: {got:?}"
    );

    // One down: the other serves them (a read may try the one down first and fall
    // back to the primary), never the replica of another zone.
    block_in_place(|| cluster.kill(near[0]));
    let done = round(&cluster, vec![0, near[1], other]).await;
    let got = delta(&cluster, done);
    eprintln!("zone az-a, one down: primary, az-a, az-b served {got:?}");
    assert_eq!(got[2], 0, "{got:?}");
    assert!(got[1] >= reads * 3 / 4, "{got:?}");

    // None of the zone up: the primary serves them.
    block_in_place(|| cluster.kill(near[1]));
    let done = round(&cluster, vec![0, other]).await;
    let got = delta(&cluster, done);
    eprintln!("zone az-a, none up: primary, az-b served {got:?}");
    assert_eq!(got, [reads, 0]);
}
