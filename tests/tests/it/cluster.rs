//! The cluster client against real clusters formed by the harness: commands go to
//! the node of their slot, keyless ones follow the spec's request policy and merge
//! by its response policy, multi-key ones split by slot and come back in the
//! caller's order, unsplittable cross-slot ones are refused before sending, and
//! `MOVED` / `ASK` are followed while slots migrate.

use bytes::Bytes;
use respec::{Client, Commands};
use respec_tests::{Cluster, RawConnection, Reply, Server};
use std::time::Instant;
use tokio::task::block_in_place;

/// `n` keys spread over many slots (and so over every primary).
fn keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}:{i}")).collect()
}

/// The value the node at `index` holds for `key`, asked directly (raw RESP).
fn raw_get(cluster: &Cluster, index: usize, key: &str) -> Reply {
    let mut conn: RawConnection = cluster.node(index).raw().expect("connect");
    conn.command(&["GET", key]).expect("reply")
}

/// One 3-primary cluster (no replicas: these tests do not fail over).
fn three_primaries() -> Option<Cluster> {
    Cluster::builder().replicas(0).start_or_skip()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_go_to_the_node_of_their_slot_and_fan_out_by_the_spec() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    assert!(client.is_cluster());
    let keys = keys("route", 300);

    // Single-key commands: each key lands on the node that serves its slot.
    for (i, k) in keys.iter().enumerate() {
        client.set(k, i as i64).await.unwrap();
    }
    for (i, k) in keys.iter().enumerate().step_by(37) {
        let owner = cluster.node_for_slot(cluster.keyslot(k));
        assert_eq!(
            raw_get(&cluster, owner, k),
            Reply::Bulk(Some(i.to_string().into_bytes())),
            "{k} on node {owner}"
        );
        let got: Option<i64> = client.get(k).decode().await.unwrap();
        assert_eq!(got, Some(i as i64));
        // A raw command routes the same way.
        let raw: Option<String> = client.cmd("GET").arg(k).decode().await.unwrap();
        assert_eq!(raw, Some(i.to_string()));
    }

    // Keyless commands with a request policy: every primary, merged.
    assert_eq!(
        client.dbsize().await.unwrap(),
        300,
        "DBSIZE sums the primaries"
    );
    let mut all: Vec<Bytes> = client.keys("route:*").await.unwrap();
    all.sort();
    let mut want: Vec<Bytes> = keys.iter().map(|k| Bytes::from(k.clone())).collect();
    want.sort();
    assert_eq!(all, want, "KEYS concatenates the primaries' keys");

    // Multi-key commands split by slot, the results in the caller's order.
    let mut asked = keys[..120].to_vec();
    asked.insert(7, "route:missing".into());
    let values: Vec<Option<i64>> = client.mget(&asked).decode().await.unwrap();
    let mut expected: Vec<Option<i64>> = (0..120).map(Some).collect();
    expected.insert(7, None);
    assert_eq!(values, expected);
    assert_eq!(client.exists(&keys[..50]).await.unwrap(), 50);
    client
        .mset((0..40).map(|i| (format!("mset:{i}"), i)))
        .await
        .unwrap();
    for i in (0..40).step_by(9) {
        let v: Option<i64> = client.get(format!("mset:{i}")).decode().await.unwrap();
        assert_eq!(v, Some(i));
    }
    assert_eq!(client.del(&keys[..100]).await.unwrap(), 100, "DEL sums");
    assert_eq!(client.dbsize().await.unwrap(), 240);

    // Keys in one slot (a hash tag) run together even where they cannot be split;
    // across slots they are refused before anything is sent.
    client.set("{user1}:a", 1).await.unwrap();
    client.rename("{user1}:a", "{user1}:b").await.unwrap();
    assert_eq!(client.exists(["{user1}:b"]).await.unwrap(), 1);
    let err = client
        .msetnx([("cross:a", 1), ("cross:b", 2)])
        .await
        .unwrap_err();
    assert!(err.is_cross_slot() && err.is_unsent(), "{err}");
    assert!(err.to_string().contains("MSETNX"), "{err}");
    assert_eq!(client.exists(["cross:a", "cross:b"]).await.unwrap(), 0);

    // SCRIPT LOAD goes to every primary; SCRIPT EXISTS is true only where all have it.
    let sha = client.script_load("return 1").await.unwrap();
    let exists = client
        .script_exists([sha.clone(), "0".repeat(40).into()])
        .await
        .unwrap();
    assert_eq!(exists, [true, false]);

    // Commands whose keys only the server finds, blocking ones (a dedicated
    // connection of the key's node), and a per-node diagnostic.
    client.rpush("{q}list", ["x"]).await.unwrap();
    let popped = client
        .blpop(["{q}list"], std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(popped.map(|(_, v)| v), Some(Bytes::from("x")));
    let info: String = client.info().decode().await.unwrap();
    assert!(info.contains("cluster_enabled:1"), "{info}");

    // Explicit routing: a client of each primary, of a key's node, of an address.
    let primaries = client.primary_clients().await.unwrap();
    assert_eq!(primaries.len(), 3);
    let mut per_node = Vec::new();
    for p in &primaries {
        assert!(!p.is_cluster());
        per_node.push(p.dbsize().await.unwrap());
    }
    assert_eq!(per_node.iter().sum::<i64>(), client.dbsize().await.unwrap());
    assert!(per_node.iter().all(|&n| n > 0), "{per_node:?}");
    let owner = client.client_for_key(&keys[120]).await.unwrap();
    let v: Option<i64> = owner.get(&keys[120]).decode().await.unwrap();
    assert_eq!(v, Some(120));
    let same = client.node_client(&owner.address()).await.unwrap();
    assert_eq!(same.address(), owner.address());
    assert_eq!(client.node_clients().await.unwrap().len(), 3);

    client.flushall().await.unwrap();
    assert_eq!(
        client.dbsize().await.unwrap(),
        0,
        "FLUSHALL reached every primary"
    );
    let stats = client.cluster_stats().unwrap();
    assert_eq!(stats.moved, 0, "{stats:?}");
}

/// `MSETEX ... NX | XX` (Valkey 9.1) writes every key or none, by the state of all
/// of them: with keys in several slots it is refused before anything is sent, where
/// a split by slot would let each node decide for its own keys (writing some and
/// reporting 0). Without a condition it is split; with one, in one slot, it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_msetex_across_slots_is_refused_before_sending() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    if !respec_tests::protocols::since(&cluster, (9, 1, 0), "MSETEX") {
        return;
    }
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let (a, c) = ("cond:a", "cond:c");
    assert_ne!(cluster.keyslot(a), cluster.keyslot(c));
    client.set(a, "old").await.unwrap();
    for xx in [false, true] {
        let m = client.msetex([(a, "x"), (c, "3")]);
        let err = if xx { m.xx().await } else { m.nx().await }.unwrap_err();
        assert!(err.is_cross_slot() && err.is_unsent(), "{err}");
        let text = err.to_string();
        let token = if xx { "XX" } else { "NX" };
        for needle in [
            "MSETEX",
            token,
            "hash tag",
            &cluster.keyslot(a).to_string(),
            &cluster.keyslot(c).to_string(),
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
    }
    assert_eq!(client.exists([c]).await.unwrap(), 0, "nothing was written");
    let a_now: Option<String> = client.get(a).decode().await.unwrap();
    assert_eq!(a_now.as_deref(), Some("old"));

    // Unconditional: split by slot, every key written.
    assert!(client.msetex([(a, "1"), (c, "2")]).ex(100).await.unwrap());
    assert_eq!(client.exists([a, c]).await.unwrap(), 2);
    // Conditional in one slot: the server decides for all (`{t}a` exists: none).
    client.set("{t}a", 1).await.unwrap();
    assert!(!client
        .msetex([("{t}a", "x"), ("{t}c", "3")])
        .nx()
        .await
        .unwrap());
    assert_eq!(client.exists(["{t}c"]).await.unwrap(), 0);
}

/// A slot moved atomically (Valkey 9's `CLUSTER MIGRATESLOTS`): the client's next
/// command to it gets `MOVED`, follows it, and later ones go straight to the new
/// node. A slot moved the legacy way, stopped midway: a key already moved is read
/// through `ASK` (the map unchanged), one not yet moved from the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_and_ask_are_followed_while_slots_migrate() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();

    // Legacy migration, stopped after one of two keys moved.
    let (a, b) = ("{legacy}a", "{legacy}b");
    client.set(a, "va").await.unwrap();
    client.set(b, "vb").await.unwrap();
    let slot = cluster.keyslot(a);
    let from = cluster.node_for_slot(slot);
    let to = (from + 1) % 3;
    let migration = block_in_place(|| cluster.begin_migration(slot, to)).unwrap();
    let mut moved_one = 0;
    while moved_one == 0 {
        moved_one = block_in_place(|| cluster.move_keys(&migration, 1)).unwrap();
    }
    let va: Option<String> = client.get(a).decode().await.unwrap();
    let vb: Option<String> = client.get(b).decode().await.unwrap();
    assert_eq!((va.as_deref(), vb.as_deref()), (Some("va"), Some("vb")));
    let stats = client.cluster_stats().unwrap();
    assert!(
        stats.asked >= 1,
        "one of the keys was read through ASK: {stats:?}"
    );
    assert_eq!(stats.moved, 0, "{stats:?}");

    // A pipeline in the migrating slot: counters created on the source, a third of
    // them moved, then every one incremented once in one pipeline (new ones too,
    // which go to the target through ASK): each runs exactly once, replies in order.
    let counters: Vec<String> = (0..60).map(|i| format!("{{legacy}}c{i}")).collect();
    let mut p = client.pipeline_dyn();
    for c in &counters[..40] {
        p.push(respec::cmd::incr(c));
    }
    p.execute().await.unwrap();
    block_in_place(|| cluster.move_keys(&migration, 20)).unwrap();
    let mut p = client.pipeline_dyn();
    for c in &counters {
        p.push(respec::cmd::incr(c));
    }
    let replies = p.execute().await.unwrap();
    let got: Vec<i64> = replies
        .iter()
        .map(|r| match r {
            Ok(respec::Value::Int(i)) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: Vec<i64> = (0..60).map(|i| if i < 40 { 2 } else { 1 }).collect();
    assert_eq!(got, expected);
    assert!(client.cluster_stats().unwrap().asked > stats.asked);
    block_in_place(|| cluster.move_keys(&migration, usize::MAX)).unwrap();
    block_in_place(|| cluster.finish_migration(migration)).unwrap();
    let va: Option<String> = client.get(a).decode().await.unwrap();
    assert_eq!(va.as_deref(), Some("va"));
    let values: Vec<Option<i64>> = client.mget(&counters).decode().await.unwrap();
    assert_eq!(
        values,
        expected.iter().map(|&v| Some(v)).collect::<Vec<_>>()
    );
    let after_finish = client.cluster_stats().unwrap();
    assert!(after_finish.moved >= 1, "{after_finish:?}");
    let _: Option<String> = client.get(b).decode().await.unwrap();
    assert_eq!(
        client.cluster_stats().unwrap().moved,
        after_finish.moved,
        "the map was fixed by the first MOVED"
    );

    // Atomic migration (Valkey 9 only). A refresh may run meanwhile (the MOVED
    // above scheduled one), so the client meets at most one MOVED for the slot.
    let key = "atomic:key";
    client.set(key, "v").await.unwrap();
    let slot = cluster.keyslot(key);
    let to = (cluster.node_for_slot(slot) + 1) % 3;
    let before = client.cluster_stats().unwrap().moved;
    match block_in_place(|| cluster.migrate_atomic(slot..=slot, to)) {
        Ok(()) => {
            for _ in 0..3 {
                let v: Option<String> = client.get(key).decode().await.unwrap();
                assert_eq!(v.as_deref(), Some("v"));
            }
            let moved = client.cluster_stats().unwrap().moved - before;
            assert!(moved <= 1, "{moved} MOVED for one slot");
            let owner = cluster.node_for_slot(slot);
            assert_eq!(owner, to);
            assert_eq!(raw_get(&cluster, to, key), Reply::Bulk(Some(b"v".to_vec())));
        }
        Err(e) => eprintln!("atomic migration skipped: {e}"),
    }
}

/// A script the node does not have (`NOSCRIPT`) runs again with its body on the
/// node of its keys only: a frozen node elsewhere (here a replica) neither delays
/// nor fails it, and the node caches the script for the next `EVALSHA`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_script_is_sent_to_the_node_of_its_keys_only() {
    use respec::script::Script;
    let Some(mut cluster) = Cluster::builder().primaries(3).replicas(1).start_or_skip() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    let key = "script-once";
    let owner = cluster.node_for_slot(cluster.keyslot(key));
    let frozen = cluster.replicas_of(owner)[0];
    cluster.freeze(frozen);
    let started = Instant::now();
    let n: i64 = script
        .prepare()
        .key(key)
        .arg(5)
        .invoke(&client)
        .await
        .unwrap();
    let first = started.elapsed();
    let n2: i64 = script
        .prepare()
        .key(key)
        .arg(5)
        .invoke(&client)
        .await
        .unwrap();
    cluster.thaw(frozen);
    assert_eq!((n, n2), (5, 10));
    // Well below the liveness timeout (10 s) a wait on the frozen node would take.
    assert!(first.as_secs() < 5, "the first call took {first:?}");
    let mut raw = cluster.node(owner).raw().expect("connect");
    assert_eq!(
        raw.command(&["SCRIPT", "EXISTS", script.sha1()])
            .expect("reply"),
        Reply::Array(Some(vec![Reply::Integer(1)])),
        "the node of the key did not cache the script"
    );
    for other in cluster.primaries().into_iter().filter(|&i| i != owner) {
        let mut raw = cluster.node(other).raw().expect("connect");
        assert_eq!(
            raw.command(&["SCRIPT", "EXISTS", script.sha1()])
                .expect("reply"),
            Reply::Array(Some(vec![Reply::Integer(0)])),
            "the script went to node {other}, which has none of its keys"
        );
    }
}

/// Pipelines on a cluster: 10,000 commands over every slot come back in call order;
/// commands that go to several nodes run in their place; a transaction runs on the
/// node of its one slot and is refused across slots; scripts are loaded first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_split_by_node_and_keep_their_order() {
    use respec::cmd;
    use respec::script::Script;
    let Some(cluster) = three_primaries() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();

    let mut p = client.pipeline_dyn();
    for i in 0..10_000 {
        match i % 4 {
            0 => p.push(cmd::set(format!("k{i}"), i)),
            1 => p.push(cmd::incr(format!("counter{}", i % 7))),
            2 => p.push(cmd::rpush(format!("list{}", i % 5), [i])),
            _ => p.push(cmd::get(format!("k{}", i - 3))),
        };
    }
    let replies = p.execute().await.unwrap();
    assert_eq!(replies.len(), 10_000);
    for (i, reply) in replies.iter().enumerate() {
        let reply = reply.as_ref().unwrap();
        match i % 4 {
            0 => assert_eq!(reply, &respec::Value::Simple(Bytes::from("OK")), "{i}"),
            3 => assert_eq!(
                reply,
                &respec::Value::Bulk(Bytes::from((i - 3).to_string())),
                "{i}"
            ),
            _ => assert!(matches!(reply, respec::Value::Int(_)), "{i}: {reply:?}"),
        }
    }
    let counters: Vec<Option<i64>> = client
        .mget((0..7).map(|c| format!("counter{c}")))
        .decode()
        .await
        .unwrap();
    assert_eq!(
        counters.iter().flatten().sum::<i64>(),
        2_500,
        "each INCR ran once"
    );

    // A fan-out (DBSIZE) and a split (MGET) in the middle run in their place.
    let (set, keys_then, incr, both): (bool, i64, i64, Vec<Option<i64>>) = client
        .pipeline()
        .add(cmd::set("p:a", 1))
        .add(cmd::dbsize())
        .add(cmd::incr("p:a"))
        .add(cmd::mget(["p:a", "p:b"]).decode())
        .execute()
        .await
        .unwrap();
    assert!(set);
    assert_eq!(keys_then, 10_000 / 4 + 7 + 5 + 1);
    assert_eq!((incr, both), (2, vec![Some(2), None]));

    // A transaction on one slot (hash tag); across slots it is refused unsent.
    let (x, y): (i64, i64) = client
        .pipeline()
        .transaction()
        .add(cmd::incr("{t}x"))
        .add(cmd::incrby("{t}y", 5))
        .execute()
        .await
        .unwrap();
    assert_eq!((x, y), (1, 5));
    let err = client
        .pipeline()
        .transaction()
        .add(cmd::incr("tx:a"))
        .add(cmd::incr("tx:b"))
        .execute()
        .await
        .unwrap_err();
    assert!(err.is_cross_slot() && err.is_unsent(), "{err}");
    assert_eq!(client.exists(["tx:a", "tx:b"]).await.unwrap(), 0);

    // A script in a pipeline is loaded on every primary first.
    client.script_flush().await.unwrap();
    let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    let (a, b): (i64, i64) = client
        .pipeline()
        .add(add.prepare().key("s:a").arg(2).command::<i64>())
        .add(add.prepare().key("s:b").arg(3).command::<i64>())
        .execute()
        .await
        .unwrap();
    assert_eq!((a, b), (2, 3));
}

/// `cluster=auto` on a single-server URL: a cluster node's URL gives a cluster client
/// (`cluster_enabled:1`), seeded by that node alone; a standalone server's gives a
/// client of that server. `cluster=true` connects to the cluster without asking,
/// and fails against a standalone server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_auto_detects_a_cluster_node() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    let keys = keys("auto", 100);
    for option in ["cluster=auto", "cluster=true"] {
        let url = format!("{}?{option}&client_name=auto", cluster.node(2).url());
        let client = Client::connect(&url).await.unwrap();
        assert!(client.is_cluster(), "{url}");
        // Every primary is reached through the one seed.
        client
            .mset(keys.iter().map(|k| (k.as_str(), option)))
            .await
            .unwrap();
        assert_eq!(client.dbsize().await.unwrap(), 100);
        assert_eq!(client.primary_clients().await.unwrap().len(), 3);
        let name: Option<String> = client.client_getname().decode().await.unwrap();
        assert_eq!(name.as_deref(), Some("auto"));
    }
    // Without the option, a cluster node's URL is a client of that node.
    let single = Client::connect(&cluster.node(2).url()).await.unwrap();
    assert!(!single.is_cluster());

    let standalone = Server::start();
    let client = Client::connect(&format!("{}?cluster=auto", standalone.url()))
        .await
        .unwrap();
    assert!(!client.is_cluster());
    client.set("{a}x", 1).await.unwrap();
    assert_eq!(client.dbsize().await.unwrap(), 1);
    let err = Client::connect(&format!("{}?cluster=true", standalone.url()))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cluster support disabled"),
        "{err}"
    );
}

/// The 10,000 commands of [`a_pipeline_across_every_slot_during_a_migration_runs_each_command_once`]:
/// `INCRBY key:i i+1` of 9,000 distinct keys, every tenth command a `GET` of the key
/// just incremented, so that every reply names its command.
fn counting_pipeline(client: &Client) -> respec::pipeline::DynPipeline<'_> {
    let mut p = client.pipeline_dyn();
    for i in 0..10_000i64 {
        if i % 10 == 9 {
            p.push(respec::cmd::get(format!("count:{}", i - 1)));
        } else {
            p.push(respec::cmd::incrby(format!("count:{i}"), i + 1));
        }
    }
    p
}

/// A 10,000-command pipeline over every primary while 1,000 slots migrate the legacy
/// way, stopped with half their keys moved (some of its commands run on the source,
/// others go to the target through `ASK`, keys created there too): every reply in
/// call order, the same as on a standalone server, and every counter incremented
/// exactly once, before and after the migration ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_across_every_slot_during_a_migration_runs_each_command_once() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let standalone = Server::start();
    let single = Client::connect(&standalone.url()).await.unwrap();
    // Every other counter exists before (1), the others are created by the pipeline.
    for c in [&client, &single] {
        let mut p = c.pipeline_dyn();
        for i in (0..10_000).step_by(2) {
            p.push(respec::cmd::incr(format!("count:{i}")));
        }
        p.execute().await.unwrap();
    }
    let slots = 0..=999;
    let to = (cluster.node_for_slot(0) + 1) % 3;
    let migration = block_in_place(|| cluster.begin_migration_range(slots, to)).unwrap();
    let in_slots = block_in_place(|| cluster.move_keys(&migration, 150)).unwrap();
    assert_eq!(in_slots, 150);

    let started = Instant::now();
    let replies = counting_pipeline(&client).execute().await.unwrap();
    let elapsed = started.elapsed();
    let expected = counting_pipeline(&single).execute().await.unwrap();
    let stats = client.cluster_stats().unwrap();
    eprintln!(
        "10,000-command pipeline during the migration of 1,000 slots: {elapsed:?}, {stats:?}"
    );
    assert_eq!(replies.len(), 10_000);
    for (i, (got, want)) in replies.iter().zip(&expected).enumerate() {
        let (got, want) = (got.as_ref().unwrap(), want.as_ref().unwrap());
        assert_eq!(got, want, "command {i}");
    }
    assert!(stats.asked > 0, "{stats:?}");

    // Each counter once: its own increment, plus 1 if it existed. Read by single-key
    // GETs, as a multi-key command over a slot split between two nodes is refused
    // with TRYAGAIN until the migration ends.
    let check = |replies: Vec<respec::Result<respec::Value>>| {
        for (i, v) in (0..10_000i64).filter(|i| i % 10 != 9).zip(replies) {
            let want = (i + 1 + i64::from(i % 2 == 0)).to_string();
            assert_eq!(
                v.unwrap(),
                respec::Value::Bulk(Bytes::from(want)),
                "count:{i}"
            );
        }
    };
    let gets = || {
        let mut p = client.pipeline_dyn();
        for i in (0..10_000).filter(|i| i % 10 != 9) {
            p.push(respec::cmd::get(format!("count:{i}")));
        }
        p
    };
    check(gets().execute().await.unwrap());
    block_in_place(|| {
        cluster.move_keys(&migration, usize::MAX)?;
        cluster.finish_migration(migration)
    })
    .unwrap();
    check(gets().execute().await.unwrap());
}

/// `WATCH` on a cluster: the watched connection is one of the node serving the keys'
/// slot; a concurrent write aborts the transaction, an undisturbed one runs; keys in
/// several slots are refused before anything is sent; `Client::transaction` retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_runs_on_the_node_of_the_keys_slot() {
    use respec::cmd;
    let Some(cluster) = three_primaries() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    for key in ["{acct}:balance", "w:other"] {
        client.set(key, 100).await.unwrap();
        let w = client.watch([key]).await.unwrap();
        let balance: i64 = w.get(key).decode::<Option<i64>>().await.unwrap().unwrap();
        client.incrby(key, 1).await.unwrap();
        let err = w
            .multi()
            .add(cmd::set(key, balance - 10))
            .execute()
            .await
            .unwrap_err();
        assert!(err.is_watch_conflict(), "{key}: {err}");
        let w = client.watch([key]).await.unwrap();
        let balance: i64 = w.get(key).decode::<Option<i64>>().await.unwrap().unwrap();
        let (ok,): (bool,) = w
            .multi()
            .add(cmd::set(key, balance - 10))
            .execute()
            .await
            .unwrap();
        assert!(ok);
        let now: Option<i64> = client.get(key).decode().await.unwrap();
        assert_eq!(now, Some(91), "{key}");
    }
    let err = client.watch(["w:a", "w:b"]).await.unwrap_err();
    assert!(err.is_cross_slot() && err.is_unsent(), "{err}");

    // The check-and-set loop under contention: 8 tasks, each adds 1 ten times.
    client.set("{cas}n", 0).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    client
                        .transaction(["{cas}n"], |w| async move {
                            let n: i64 =
                                w.get("{cas}n").decode::<Option<i64>>().await?.unwrap_or(0);
                            let (_ok,): (bool,) =
                                w.multi().add(cmd::set("{cas}n", n + 1)).execute().await?;
                            Ok(())
                        })
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let n: Option<i64> = client.get("{cas}n").decode().await.unwrap();
    assert_eq!(n, Some(80));
}

/// A watched connection of a cluster is bound to the slot of the keys first
/// watched: watching more keys of that slot works, while a key of another slot (a
/// later `WATCH`, a read, a command queued in `multi`) is refused before anything is
/// sent, as `client.watch` refuses keys in several slots; the transaction still runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_connection_refuses_keys_of_another_slot() {
    use respec::cmd;
    let Some(cluster) = three_primaries() else {
        return;
    };
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    let (mine, other) = ("{acct}:a", "w:elsewhere");
    let (bound, foreign) = (cluster.keyslot(mine), cluster.keyslot(other));
    assert_ne!(bound, foreign);
    let w = client.watch([mine]).await.unwrap();
    w.watch(["{acct}:b"]).await.unwrap();
    let refused = [
        w.watch([other]).await.unwrap_err(),
        w.get(other).await.map(|_: Option<Bytes>| ()).unwrap_err(),
        w.multi()
            .add(cmd::set(other, 1))
            .execute()
            .await
            .map(|_: (bool,)| ())
            .unwrap_err(),
    ];
    for err in &refused {
        assert!(err.is_cross_slot() && err.is_unsent(), "{err}");
        let text = err.to_string();
        for needle in [other, &bound.to_string(), &foreign.to_string(), "hash tag"] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
    }
    assert!(refused[0].to_string().contains("WATCH"), "{}", refused[0]);
    assert_eq!(client.exists([other]).await.unwrap(), 0);
    assert!(w.is_watching());
    let (ok,): (bool,) = w.multi().add(cmd::set(mine, 1)).execute().await.unwrap();
    assert!(ok);
    // The keys watched in the same slot are watched: a change to one aborts.
    let w = client.watch([mine]).await.unwrap();
    w.watch(["{acct}:b"]).await.unwrap();
    client.set("{acct}:b", 2).await.unwrap();
    let err = w
        .multi()
        .add(cmd::set(mine, 3))
        .execute()
        .await
        .map(|_: (bool,)| ())
        .unwrap_err();
    assert!(err.is_watch_conflict(), "{err}");
}

/// `MIGRATE` (keys found by the server's own code, an empty string in the key's
/// place with `KEYS`): routed by `COMMAND GETKEYS` to the node of its keys, which
/// moves them to another server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_goes_where_the_server_says_its_keys_are() {
    use respec::types::MigrateKeySelector;
    let Some(cluster) = three_primaries() else {
        return;
    };
    let other = respec_tests::Server::start();
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    client.set("{mig}a", 1).await.unwrap();
    client.set("{mig}b", 2).await.unwrap();
    client
        .migrate(
            "127.0.0.1",
            other.port(),
            MigrateKeySelector::EmptyString,
            0,
            std::time::Duration::from_secs(5),
        )
        .keys(["{mig}a", "{mig}b"])
        .await
        .unwrap();
    assert_eq!(client.exists(["{mig}a", "{mig}b"]).await.unwrap(), 0);
    let there = Client::connect(&other.url()).await.unwrap();
    assert_eq!(there.exists(["{mig}a", "{mig}b"]).await.unwrap(), 2);
    // Keys in two slots: refused before anything is sent.
    client.set("mig:x", 1).await.unwrap();
    client.set("mig:y", 1).await.unwrap();
    let err = client
        .migrate(
            "127.0.0.1",
            other.port(),
            MigrateKeySelector::EmptyString,
            0,
            std::time::Duration::from_secs(5),
        )
        .keys(["mig:x", "mig:y"])
        .await
        .unwrap_err();
    assert!(err.is_cross_slot(), "{err}");
    assert_eq!(client.exists(["mig:x", "mig:y"]).await.unwrap(), 2);
}

/// A `CLUSTER SHARDS` reply of `shards` shards, the first served by the node at
/// `port` (the fake itself), the others by nodes nobody listens on.
fn shards_reply(port: u16, shards: usize) -> Vec<u8> {
    respec_tests::fake::cluster_shards_reply(shards, |i| if i == 0 { port } else { 1 + i as u16 })
}

/// Scale by simulation: a topology of 1,000 shards (served by a fake node) is read
/// and installed, commands to the one reachable node run, and the client connects
/// to nothing else (connections are opened per node, when a command needs one).
/// The same with 3 shards gives the routing cost's reference: a command's route is
/// a slot table lookup, whatever the number of shards. The figures are printed,
/// with the memory each client holds once connected (its slot table, node map and
/// connection), counted by the allocator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_shard_topology_is_installed_and_nodes_are_connected_lazily() {
    let three = SimulatedShards::serve(3).await;
    let thousand = SimulatedShards::serve(1_000).await;
    // The clients run on a thread of their own (a current-thread runtime: their
    // connections' tasks too), so the bytes that thread holds are theirs alone,
    // while the fake nodes answer from this runtime.
    let (warm_up, at_3, at_1000) = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // The runtime's own first allocations (timers, I/O registrations) are
            // made by a first client, not counted against the others. Each client
            // lives until every one is measured (none is torn down meanwhile).
            let (warm_up, _a) = three.connect().await;
            let (at_3, _b) = three.connect().await;
            let (at_1000, _c) = thousand.connect().await;
            (warm_up, at_3, at_1000)
        })
    })
    .await
    .unwrap();
    // Reading and installing a 1,000-shard map, apart from the network: the cost
    // of one refresh.
    let frame = Bytes::from(shards_reply(1, 1_000));
    let rounds: u32 = 50;
    let started = Instant::now();
    for _ in 0..rounds {
        let topology = respec_protocol::cluster::Topology::from_shards(frame.clone(), "seed")
            .expect("the simulated reply parses");
        assert_eq!(topology.covered(), 16384);
        std::hint::black_box(topology.slot_table());
    }
    let refresh = started.elapsed() / rounds;
    eprintln!(
        "simulated topologies: 3 shards: {at_3}; 1,000 shards: {at_1000}; \
         a refresh's parse and slot table for 1,000 shards {refresh:?} ({} bytes of \
         CLUSTER SHARDS); one connection each (the first client, warming the runtime \
         up: {warm_up})",
        frame.len()
    );
    // The memory grows with the shards (their nodes), not absurdly: the slot
    // table is the same 16,384 entries.
    assert!(at_1000.held > at_3.held, "{at_3} / {at_1000}");
    assert!(at_3.held > 0, "nothing counted: is the allocator counting?");
}

/// A fake node claiming a topology of some shards, of which it serves the first.
struct SimulatedShards {
    url: String,
    shards: usize,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// What one client connected to a [`SimulatedShards`] cost.
struct Simulated {
    /// From the call to connect to a client with its slot map installed.
    connect: std::time::Duration,
    /// One `GET`, over 1,000.
    per_get: std::time::Duration,
    /// The bytes its thread holds after connecting and 1,000 GETs: the client, its
    /// slot table and nodes, and its one connection (with its buffers).
    held: i64,
}

impl std::fmt::Display for Simulated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connected in {:?}, a GET {:?}, {:.1} KiB held",
            self.connect,
            self.per_get,
            self.held as f64 / 1024.0
        )
    }
}

impl SimulatedShards {
    /// Starts the fake node, on the current runtime.
    async fn serve(shards: usize) -> SimulatedShards {
        use respec_tests::fake::{handshake_answer, serve, Answer};
        use std::sync::{Arc, OnceLock};
        let port: Arc<OnceLock<u16>> = Arc::new(OnceLock::new());
        let own = port.clone();
        let (url, connections) = serve(move |_, words| {
            if let Some(a) = handshake_answer(words) {
                return Answer::Write(a);
            }
            match &words[0].to_ascii_uppercase()[..] {
                b"CLUSTER" => Answer::WriteOwned(shards_reply(*own.get().unwrap(), shards)),
                b"GET" => Answer::Write(b"$1\r\nv\r\n"),
                _ => Answer::Write(b"+OK\r\n"),
            }
        })
        .await;
        port.set(url.rsplit(':').next().unwrap().parse().unwrap())
            .unwrap();
        SimulatedShards {
            url,
            shards,
            connections,
        }
    }

    /// Connects a cluster client, runs 1,000 GETs on the fake's shard, and checks
    /// that the client read the map once and opened no other connection; what it
    /// cost, measured on this thread, and the client.
    async fn connect(&self) -> (Simulated, Client) {
        use respec_tests::counting::thread_live_bytes;
        use std::sync::atomic::Ordering;
        let connections = self.connections.load(Ordering::SeqCst);
        let before = thread_live_bytes();
        let started = Instant::now();
        let client = Client::connect_cluster([&self.url]).await.unwrap();
        let connect = started.elapsed();
        // Keys of the first shard's slots answer.
        let first_shard_end = (16384 / self.shards) as u16;
        let key = (0..)
            .map(|i| format!("k{i}"))
            .find(|k| respec::cluster::slot(k.as_bytes()) < first_shard_end)
            .unwrap();
        let started = Instant::now();
        for _ in 0..1_000 {
            let v: Option<Bytes> = client.get(&key).await.unwrap();
            assert_eq!(v, Some(Bytes::from("v")));
        }
        let per_get = started.elapsed() / 1_000;
        drop(key);
        let held = thread_live_bytes() - before;
        assert_eq!(client.cluster_stats().unwrap().refreshes, 1);
        assert_eq!(
            self.connections.load(Ordering::SeqCst) - connections,
            1,
            "one connection: the seed's, which serves the first shard"
        );
        let cost = Simulated {
            connect,
            per_get,
            held,
        };
        (cost, client)
    }
}

/// A refresh waiting on a slow node holds up no command to the other nodes: node A
/// (a fake, the seed) holds back its answer to the timer's `CLUSTER SHARDS` until
/// the test lets it go, and meanwhile GETs to node B (another fake) keep answering,
/// each far quicker than the refresh in flight; the answer, once let go, is a
/// topology of 1,000 shards (B serving all but A's), parsed and installed while GETs
/// to B go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_to_healthy_nodes_are_not_held_up_by_a_refresh() {
    use respec::cluster::ClusterOptions;
    use respec_tests::fake::{cluster_shards_reply, handshake_answer, serve, Answer};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;
    let port_of = |url: &str| -> u16 { url.rsplit(':').next().unwrap().parse().unwrap() };
    let (a_port, b_port) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
    // The map at connect: A serves the first half of the slots, B the second.
    let halves = {
        let (a, b) = (a_port.clone(), b_port.clone());
        move || cluster_shards_reply(2, |i| *[&a, &b][i].get().unwrap())
    };
    let (b_url, b_connections) = {
        let halves = halves.clone();
        serve(move |_, words| match handshake_answer(words) {
            Some(a) => Answer::Write(a),
            None if words[0].eq_ignore_ascii_case(b"CLUSTER") => Answer::WriteOwned(halves()),
            None => Answer::Write(b"$1\r\nv\r\n"),
        })
        .await
    };
    b_port.set(port_of(&b_url)).unwrap();
    // A's later answers wait for the gate, then name 1,000 shards.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let asked = Arc::new(tokio::sync::Notify::new());
    let maps_asked = Arc::new(AtomicUsize::new(0));
    let (a_url, _) = {
        let (gate, asked, maps_asked, b_port, a_port) = (
            gate.clone(),
            asked.clone(),
            maps_asked.clone(),
            b_port.clone(),
            a_port.clone(),
        );
        serve(move |_, words| {
            if let Some(a) = handshake_answer(words) {
                return Answer::Write(a);
            }
            if !words[0].eq_ignore_ascii_case(b"CLUSTER") {
                return Answer::Write(b"$1\r\nv\r\n");
            }
            if maps_asked.fetch_add(1, Ordering::SeqCst) == 0 {
                return Answer::WriteOwned(halves());
            }
            asked.notify_one();
            let gate = gate.clone();
            let (a, b) = (*a_port.get().unwrap(), *b_port.get().unwrap());
            Answer::WriteWhen(
                Box::pin(async move {
                    let _ = gate.acquire().await;
                }),
                cluster_shards_reply(1_000, |i| if i == 0 { a } else { b }),
            )
        })
        .await
    };
    a_port.set(port_of(&a_url)).unwrap();
    let mut options = ClusterOptions::default();
    options.refresh_interval = Some(Duration::from_millis(200));
    let client = Client::connect_cluster_with([&a_url], options)
        .await
        .unwrap();
    let on_b = (0..)
        .map(|i| format!("b{i}"))
        .find(|k| respec::cluster::slot(k.as_bytes()) >= 8192)
        .unwrap();
    let _: Option<Bytes> = client.get(&on_b).await.unwrap();
    // The timer's refresh asks A (the first primary) and waits.
    tokio::time::timeout(Duration::from_secs(10), asked.notified())
        .await
        .expect("the timer started a refresh");
    // GETs to B for a second while the refresh waits.
    let held_since = Instant::now();
    let mut latencies = Vec::new();
    while held_since.elapsed() < Duration::from_secs(1) {
        let started = Instant::now();
        let v: Option<Bytes> = client.get(&on_b).await.unwrap();
        latencies.push(started.elapsed());
        assert_eq!(v.as_deref(), Some(&b"v"[..]));
    }
    let stats = client.cluster_stats().unwrap();
    assert_eq!(
        stats.refreshes, 1,
        "the refresh was let go early: {stats:?}"
    );
    let held_for = held_since.elapsed();
    // Let the answer go; GETs to B go on while the 1,000 shards are installed.
    gate.close();
    let mut during_install = Duration::ZERO;
    let (mut gets, deadline) = (0, Instant::now() + Duration::from_secs(10));
    while client.cluster_stats().unwrap().refreshes < 2 {
        assert!(Instant::now() < deadline, "the refresh never ended");
        let started = Instant::now();
        let _: Option<Bytes> = client.get(&on_b).await.unwrap();
        during_install = during_install.max(started.elapsed());
        gets += 1;
    }
    latencies.sort();
    let n = latencies.len();
    let (p50, p99, max) = (latencies[n / 2], latencies[n * 99 / 100], latencies[n - 1]);
    eprintln!(
        "refresh held {held_for:?} by node A; meanwhile {n} GETs to node B: \
         p50 {p50:?}, p99 {p99:?}, max {max:?}; while the 1,000 shards were installed, \
         {gets} GETs, the slowest {during_install:?}"
    );
    // A GET held up by the refresh would wait out the rest of the hold (the first
    // one, all of it). The slowest GET may still meet a stall of the machine: this
    // VM stops a busy process for ~100 ms under CPU contention (a plain sleep loop
    // beside two busy processes measured a 101 ms gap), so the slowest GET is held
    // to a third of the hold and the 99th percentile to a tenth.
    assert!(
        max * 3 < held_for && p99 * 10 < held_for,
        "p99 {p99:?}, max {max:?}, held {held_for:?}"
    );
    let _: Option<Bytes> = client.get(&on_b).await.unwrap();
    assert_eq!(b_connections.load(Ordering::SeqCst), 1);
}
