//! Tests of the cluster harness itself ([`Cluster`]), with raw RESP2 (not respec): a
//! cluster forms with every slot served once, replicas replicate, slots migrate
//! (atomically, and the legacy way stopped midway), failover swaps roles, and a killed
//! primary is replaced by its replica. Each test forms one cluster and runs its
//! assertions on it in turn, each waiting until the cluster agrees again.

use std::time::{Duration, Instant};

use respec_tests::{Cluster, ClusterRole, HarnessError, RawConnection, Reply};

/// A node's raw connection.
fn conn(cluster: &Cluster, index: usize) -> RawConnection {
    cluster.node(index).raw().expect("connecting to a node")
}

/// Sends a command on a fresh connection to the node at `index`.
fn ask(cluster: &Cluster, index: usize, args: &[&str]) -> Reply {
    conn(cluster, index).command(args).expect("a reply")
}

/// A bulk reply of this text.
fn bulk(text: &str) -> Reply {
    Reply::Bulk(Some(text.as_bytes().to_vec()))
}

/// The redirection error `KIND slot 127.0.0.1:port` towards the node at `to`.
fn redirect(cluster: &Cluster, kind: &str, slot: u16, to: usize) -> Reply {
    Reply::Error(format!(
        "{kind} {slot} 127.0.0.1:{}",
        cluster.node(to).port()
    ))
}

/// A key (with `prefix`) whose slot the node at `primary` serves.
fn key_on(cluster: &Cluster, primary: usize, prefix: &str) -> String {
    (0..)
        .map(|n| format!("{prefix}{n}"))
        .find(|key| cluster.node_for_slot(cluster.keyslot(key)) == primary)
        .expect("some key lands on every primary")
}

/// A 3+3 cluster forms with every slot served by exactly one primary in every node's
/// view; each replica replicates its primary; an atomic migration moves a slot (the old
/// owner answers MOVED); a legacy migration stopped midway answers ASK for a moved key,
/// TRYAGAIN across both sides, and the target serves the key after ASKING; a node can
/// be added and removed.
#[test]
fn a_cluster_forms_replicates_and_migrates_slots() {
    let Some(mut cluster) = Cluster::builder().start_or_skip() else {
        return;
    };
    let version = cluster.node(0).server().version();
    eprintln!(
        "3+3 cluster of {:?} {version} ready in {:?}",
        cluster.node(0).server().flavor(),
        cluster.ready_time()
    );

    // Every node's view: every slot served by exactly one of the three primaries, each
    // with its one replica; all views equal.
    assert_eq!(cluster.primaries(), [0, 1, 2]);
    let first = cluster.slot_map(0).unwrap();
    for index in 0..6 {
        let map = cluster.slot_map(index).unwrap();
        assert_eq!(map, first, "node {index}'s view");
        let mut served = vec![0u8; 16384];
        for range in &map.ranges {
            for slot in range.slots.clone() {
                served[usize::from(slot)] += 1;
            }
            let primary = cluster.index_of(&range.primary).unwrap();
            assert!(primary < 3, "{map}");
            assert_eq!(range.replicas, [cluster.node(primary + 3).id()], "{map}");
        }
        assert!(served.iter().all(|&n| n == 1), "node {index}: {map}");
    }
    for primary in 0..3 {
        assert_eq!(cluster.replicas_of(primary), [primary + 3]);
        assert_eq!(cluster.role(primary), ClusterRole::Primary);
        assert_eq!(cluster.role(primary + 3), ClusterRole::Replica);
    }

    // Replication: a key written on each primary is readable on its replica (READONLY).
    for primary in 0..3 {
        let key = key_on(&cluster, primary, "replicated:");
        let slot = cluster.keyslot(&key);
        assert_eq!(
            ask(&cluster, primary, &["SET", &key, "v"]),
            Reply::Status("OK".into())
        );
        assert_eq!(
            ask(&cluster, primary, &["WAIT", "1", "5000"]),
            Reply::Integer(1)
        );
        let mut replica = conn(&cluster, primary + 3);
        assert_eq!(
            replica.command(&["GET", &key]).unwrap(),
            redirect(&cluster, "MOVED", slot, primary)
        );
        assert_eq!(
            replica.command(&["READONLY"]).unwrap(),
            Reply::Status("OK".into())
        );
        assert_eq!(replica.command(&["GET", &key]).unwrap(), bulk("v"));
    }

    // Atomic migration (Valkey 9): the slot's owner changes, the old owner redirects.
    let key = key_on(&cluster, 0, "atomic:");
    let slot = cluster.keyslot(&key);
    ask(&cluster, 0, &["SET", &key, "moved"]);
    match cluster.migrate_atomic(slot..=slot, 1) {
        Ok(()) => {
            assert_eq!(cluster.node_for_slot(slot), 1);
            assert_eq!(
                ask(&cluster, 0, &["GET", &key]),
                redirect(&cluster, "MOVED", slot, 1)
            );
            assert_eq!(ask(&cluster, 1, &["GET", &key]), bulk("moved"));
            for index in 0..6 {
                assert_eq!(
                    cluster.slot_map(index).unwrap().owner(slot),
                    Some(cluster.node(1).id())
                );
            }
        }
        Err(err) if err.is_unavailable() => respec_tests::skip(err),
        Err(err) => panic!("{err}"),
    }

    // Legacy migration of a slot with two keys, stopped after one key moved.
    let tag = key_on(&cluster, 2, "legacy:");
    let keys = [format!("{{{tag}}}a"), format!("{{{tag}}}b")];
    let slot = cluster.keyslot(&tag);
    for key in &keys {
        ask(&cluster, 2, &["SET", key, key]);
    }
    let migration = cluster.begin_migration(slot, 0).unwrap();
    assert_eq!((migration.source, migration.target), (2, 0));
    assert_eq!(cluster.move_keys(&migration, 1).unwrap(), 1);
    let on_source: Vec<Reply> = keys
        .iter()
        .map(|key| ask(&cluster, 2, &["GET", key]))
        .collect();
    let moved = on_source
        .iter()
        .position(|reply| *reply == redirect(&cluster, "ASK", slot, 0))
        .unwrap_or_else(|| panic!("no key answered ASK: {on_source:?}"));
    let (moved, kept) = (&keys[moved], &keys[1 - moved]);
    assert!(on_source.contains(&bulk(kept)), "{on_source:?}");
    match ask(&cluster, 2, &["MGET", &keys[0], &keys[1]]) {
        Reply::Error(err) => assert!(err.starts_with("TRYAGAIN"), "{err}"),
        other => panic!("MGET across a migration: {other:?}"),
    }
    let mut target = conn(&cluster, 0);
    assert_eq!(
        target.command(&["GET", moved]).unwrap(),
        redirect(&cluster, "MOVED", slot, 2)
    );
    assert_eq!(
        target.command(&["ASKING"]).unwrap(),
        Reply::Status("OK".into())
    );
    assert_eq!(target.command(&["GET", moved]).unwrap(), bulk(moved));
    assert_eq!(cluster.move_keys(&migration, usize::MAX).unwrap(), 1);
    cluster.finish_migration(migration).unwrap();
    assert_eq!(cluster.node_for_slot(slot), 0);
    assert_eq!(
        ask(&cluster, 2, &["GET", kept]),
        redirect(&cluster, "MOVED", slot, 0)
    );
    assert_eq!(
        ask(&cluster, 0, &["MGET", &keys[0], &keys[1]]),
        Reply::Array(Some(keys.iter().map(|k| bulk(k)).collect()))
    );

    // A node joins as a primary without slots, and leaves.
    let added = cluster.add_node().unwrap();
    for index in 0..6 {
        let view = cluster.nodes_view(index).unwrap();
        let entry = view
            .iter()
            .find(|e| e.id == cluster.node(added).id())
            .unwrap();
        assert!(entry.is_primary() && entry.slots.is_empty(), "{entry:?}");
    }
    cluster.remove_node(added).unwrap();
    assert_eq!(
        cluster.wait_converged().unwrap(),
        cluster.slot_map(0).unwrap()
    );
    assert_eq!(cluster.seed_addrs().len(), 6);
}

/// A failover swaps the roles of a primary and its replica in every node's view; a
/// frozen replica is flagged failing and recovers when thawed; a killed primary is
/// replaced by its replica within the node timeout and a margin.
#[test]
fn failover_swaps_roles_and_a_killed_primary_is_replaced() {
    let node_timeout = Duration::from_millis(2000);
    let Some(mut cluster) = Cluster::builder()
        .node_timeout(node_timeout)
        .start_or_skip()
    else {
        return;
    };
    eprintln!("3+3 cluster ready in {:?}", cluster.ready_time());

    // Failover: 3 becomes the primary, 0 its replica, in every node's view.
    let slots = cluster.slot_map(0).unwrap().ranges[0].slots.clone();
    assert_eq!(cluster.failover(0).unwrap(), 3);
    for index in 0..6 {
        let view = cluster.nodes_view(index).unwrap();
        let entry = |i: usize| {
            view.iter()
                .find(|e| e.id == cluster.node(i).id())
                .unwrap()
                .clone()
        };
        assert!(
            entry(3).is_primary() && entry(3).slots == [slots.clone()],
            "node {index}: {:?}",
            entry(3)
        );
        assert!(entry(0).is_replica(), "node {index}: {:?}", entry(0));
        assert_eq!(entry(0).primary.as_deref(), Some(cluster.node(3).id()));
    }
    assert_eq!(cluster.primaries(), [3, 1, 2]);
    assert_eq!(cluster.replicas_of(3), [0]);

    // A frozen replica is flagged failing by the others; thawed, it is taken back.
    cluster.freeze(0);
    let deadline = Instant::now() + node_timeout * 5;
    while !cluster
        .nodes_view(1)
        .unwrap()
        .iter()
        .any(|e| e.id == cluster.node(0).id() && e.is_failing())
    {
        assert!(
            Instant::now() < deadline,
            "the frozen node is not flagged failing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    cluster.thaw(0);
    cluster.wait_converged().unwrap();
    assert_eq!(cluster.replicas_of(3), [0]);

    // A killed primary is replaced by its replica.
    let started = Instant::now();
    cluster.kill(1);
    cluster.wait_primary(4).unwrap();
    let took = started.elapsed();
    eprintln!("replica promoted {took:?} after its primary was killed");
    assert!(took < node_timeout * 2 + Duration::from_secs(3), "{took:?}");
    assert_eq!(cluster.primaries(), [3, 4, 2]);
    assert_eq!(
        cluster.role(1),
        ClusterRole::Primary,
        "a killed primary keeps its flag"
    );
    assert_eq!(cluster.seed_urls().len(), 5);

    // Restarted, the old primary rejoins as a replica of the node that took its slots.
    cluster.restart(1).unwrap();
    assert_eq!(cluster.role(1), ClusterRole::Replica);
    assert_eq!(cluster.replicas_of(4), [1]);
    assert_eq!(cluster.seed_urls().len(), 6);
}

/// A cluster that cannot form in time is an error naming the condition it waited
/// for and what it saw instead (here: no time at all to form).
#[test]
fn a_cluster_not_formed_in_time_says_what_it_waited_for() {
    let result = Cluster::builder()
        .primaries(2)
        .replicas(0)
        .timeout(Duration::ZERO)
        .start();
    match result {
        Err(HarnessError::Cluster(message)) => {
            eprintln!("{message}");
            assert!(
                message.contains("waited") && message.contains("last seen: node "),
                "{message}"
            );
        }
        Err(err) if err.is_unavailable() => respec_tests::skip(err),
        Err(err) => panic!("{err}"),
        Ok(cluster) => panic!("formed in no time: {:?}", cluster.slot_map(0)),
    }
}
