//! A command split by slot while some of its slots are half-migrated (the legacy way,
//! `SETSLOT IMPORTING/MIGRATING`, stopped with keys of each slot on both sides): the
//! parts of those slots get `TRYAGAIN` until the migration ends. The parts are
//! retried together, within one retry budget for the whole call: it succeeds as soon
//! as the migrations end, or fails in bounded time with a `TRYAGAIN` naming a slot.

use respec::{Client, Commands};
use respec_tests::{Cluster, Migration};
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// The slots left half-migrated (on the first primary, moved together to the
/// second: one source and one target, as Redis 7.0 settles a range of `SETSLOT
/// NODE`s reliably, where many migrations between different nodes at once can leave
/// a node with a stale owner).
const HALF_MIGRATED: std::ops::RangeInclusive<u16> = 100..=111;

/// Two keys in each slot of `HALF_MIGRATED`, a hash tag per slot.
fn half_migrated_keys() -> Vec<String> {
    HALF_MIGRATED
        .flat_map(|slot| {
            let tag = (0..)
                .map(|i| format!("{{half{i}}}"))
                .find(|t| respec::cluster::slot(t.as_bytes()) == slot)
                .unwrap_or_default();
            [format!("{tag}a"), format!("{tag}b")]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_mget_over_half_migrated_slots_retries_them_together_within_one_budget() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();

    // 3,000 keys over thousands of slots, and two keys in each half-migrated slot.
    let spread: Vec<String> = (0..3_000).map(|i| format!("spread:{i}")).collect();
    client
        .mset(
            spread
                .iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), i as i64)),
        )
        .await
        .unwrap();
    let halves = half_migrated_keys();
    for k in &halves {
        client.set(k, k.as_str()).await.unwrap();
    }
    // The slots' migration begun and stopped after one of each slot's two keys
    // moved: a multi-key command over both gets TRYAGAIN on either side.
    let slot_count = HALF_MIGRATED.len();
    let migration: Migration = block_in_place(|| {
        let from = cluster.node_for_slot(*HALF_MIGRATED.start());
        let m = cluster
            .begin_migration_range(HALF_MIGRATED, (from + 1) % 3)
            .unwrap();
        assert_eq!(
            cluster.move_keys_batched(&m, slot_count, 1).unwrap(),
            slot_count
        );
        m
    });
    let mut asked: Vec<String> = spread.clone();
    // The half-migrated keys among the others, not at the end.
    for (i, k) in halves.iter().enumerate() {
        asked.insert(i * 120 + 1, k.clone());
    }
    let expected: Vec<Option<String>> = {
        let mut v: Vec<Option<String>> = (0..spread.len()).map(|i| Some(i.to_string())).collect();
        for (i, k) in halves.iter().enumerate() {
            v.insert(i * 120 + 1, Some(k.clone()));
        }
        v
    };

    // Never finished: the call fails with TRYAGAIN naming a slot, within the retry
    // budget of one command (16 retries, about 7 s of backoff), not one per slot.
    let started = Instant::now();
    let err = client
        .mget(&asked)
        .decode::<Vec<Option<String>>>()
        .await
        .unwrap_err();
    let took = started.elapsed();
    let slots: Vec<u16> = halves
        .iter()
        .map(|k| respec::cluster::slot(k.as_bytes()))
        .collect();
    eprintln!("MGET over {slot_count} half-migrated slots failed after {took:?}: {err}");
    assert_eq!(
        err.server_error().map(|s| s.code()),
        Some("TRYAGAIN"),
        "{err}"
    );
    assert!(
        slots
            .iter()
            .any(|s| err.to_string().contains(&format!("slot {s} "))),
        "the error names one of the slots {slots:?}: {err}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");

    // Finished while the call retries: it succeeds with every value, soon after.
    let retries = client.cluster_stats().unwrap().retries;
    let call = {
        let client = client.clone();
        let asked = asked.clone();
        tokio::spawn(async move {
            let r = client.mget(&asked).decode::<Vec<Option<String>>>().await;
            (r, Instant::now())
        })
    };
    while client.cluster_stats().unwrap().retries < retries + 2 * slot_count as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    block_in_place(|| {
        cluster.move_keys(&migration, usize::MAX).unwrap();
        cluster.finish_migration(migration).unwrap();
    });
    let finished = Instant::now();
    let (got, at) = call.await.unwrap();
    assert_eq!(got.unwrap(), expected);
    let after = at.saturating_duration_since(finished);
    eprintln!("MGET succeeded {after:?} after every node agreed the migration ended (0: before)");
    assert!(after < Duration::from_secs(3), "{after:?}");
}
