//! The command tests on a cluster, and what only a cluster has: the typed commands
//! of every group run through a cluster client (the same test bodies as on one
//! server, `*_on`, their multi-key commands on keys with a shared hash tag), every
//! command with a request or response policy tip is checked for its aggregated
//! result against each node's own, and the cluster-only commands run on a node.

use crate::{
    cmd_hash_stream_geo, cmd_list_set_zset, cmd_scripting_server_connection,
    cmd_string_bitmap_hll_generic, pipelines, scripts_functions,
};
use bytes::Bytes;
use respec::types::{ClientSetinfoAttr, ClusterSlotStatsFilter, CommandlogGetType, OnOff};
use respec::{Client, Commands};
use respec_tests::{protocols, Cluster};
use std::sync::Arc;

/// One 3-primary cluster (no replicas).
fn three_primaries() -> Option<Cluster> {
    Cluster::builder().replicas(0).start_or_skip()
}

/// Runs each test body (`module::body_on`) on the cluster, one after the other (each
/// flushes the cluster first), and returns the names of those that panicked (their
/// messages are printed as they happen).
macro_rules! run_each {
    ($cluster:expr; $($module:ident::$body:ident),* $(,)?) => {{
        let mut failed: Vec<&str> = Vec::new();
        $(
            let cluster = Arc::clone(&$cluster);
            if tokio::spawn(async move { $module::$body(&*cluster).await }).await.is_err() {
                failed.push(concat!(stringify!($module), "::", stringify!($body)));
            }
        )*
        failed
    }};
}

/// The standalone command tests' bodies, run through a cluster client under RESP2
/// and RESP3, give the same typed results as on one server (their assertions are
/// the same ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_tests_pass_on_a_cluster() {
    let Some(cluster) = three_primaries() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let started = std::time::Instant::now();
    let failed = run_each!(cluster;
        cmd_string_bitmap_hll_generic::string_counters_and_multi_keys_on,
        cmd_string_bitmap_hll_generic::string_ranges_on,
        cmd_string_bitmap_hll_generic::set_options_and_expiring_setters_on,
        cmd_string_bitmap_hll_generic::getex_options_on,
        cmd_string_bitmap_hll_generic::set_ifeq_on,
        cmd_string_bitmap_hll_generic::delifeq_on,
        cmd_string_bitmap_hll_generic::msetex_on,
        cmd_string_bitmap_hll_generic::lcs_on,
        cmd_string_bitmap_hll_generic::bitmap_bits_counts_positions_and_ops_on,
        cmd_string_bitmap_hll_generic::bitfield_and_bitfield_ro_on,
        cmd_string_bitmap_hll_generic::hyperloglog_on,
        cmd_string_bitmap_hll_generic::expire_family_on,
        cmd_string_bitmap_hll_generic::dump_and_restore_on,
        cmd_string_bitmap_hll_generic::object_subcommands_on,
        cmd_list_set_zset::list_push_index_insert_set_rem_trim_on,
        cmd_list_set_zset::list_lpop_rpop_with_and_without_count_on,
        cmd_list_set_zset::list_lmove_rpoplpush_on,
        cmd_list_set_zset::list_lmpop_blmpop_on,
        cmd_list_set_zset::list_blocking_pops_with_data_and_timeout_on,
        cmd_list_set_zset::list_blpop_wakes_up_when_another_client_pushes_on,
        cmd_list_set_zset::set_add_rem_members_move_on,
        cmd_list_set_zset::set_diff_inter_union_and_stores_on,
        cmd_list_set_zset::set_sintercard_limit_on,
        cmd_list_set_zset::zset_zadd_options_and_scores_on,
        cmd_list_set_zset::zset_zrange_variants_on,
        cmd_list_set_zset::zset_bzpopmin_bzpopmax_on,
        cmd_list_set_zset::zset_zmpop_bzmpop_on,
        cmd_list_set_zset::zset_union_inter_diff_and_stores_on,
        cmd_list_set_zset::zset_zintercard_limit_on,
        cmd_list_set_zset::zset_zrangestore_on,
        cmd_hash_stream_geo::hash_basic_commands_on,
        cmd_hash_stream_geo::hash_field_expiration_on,
        cmd_hash_stream_geo::hash_hgetex_on,
        cmd_hash_stream_geo::hash_hsetex_on,
        cmd_hash_stream_geo::hash_hgetdel_on,
        cmd_hash_stream_geo::stream_xadd_range_len_del_on,
        cmd_hash_stream_geo::stream_xread_on,
        cmd_hash_stream_geo::stream_consumer_groups_on,
        cmd_hash_stream_geo::stream_group_management_and_info_on,
        cmd_hash_stream_geo::geo_add_dist_hash_pos_on,
        cmd_hash_stream_geo::geo_geosearch_on,
        cmd_hash_stream_geo::geo_geosearchstore_on,
        cmd_hash_stream_geo::geo_georadius_family_on,
        cmd_scripting_server_connection::eval_and_evalsha_on,
        cmd_scripting_server_connection::eval_ro_and_evalsha_ro_on,
        cmd_scripting_server_connection::functions_on,
        cmd_scripting_server_connection::multi_exec_discard_on,
        cmd_scripting_server_connection::watch_and_unwatch_on,
        pipelines::typed_pipeline_infers_its_tuple_on,
        scripts_functions::typed_functions_and_read_only_calls_on,
        scripts_functions::function_calls_queued_in_a_pipeline_and_a_transaction_on,
    );
    eprintln!("the command tests on a cluster: {:?}", started.elapsed());
    assert!(failed.is_empty(), "failed on a cluster: {failed:#?}");
}

/// `n` keys spread over many slots (and so over every primary).
fn spread(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}:{i}")).collect()
}

/// The multi-shard commands (`MSET`, `MGET`, `EXISTS`, `TOUCH`, `DEL`, `UNLINK`)
/// over 1,000 keys, and `DBSIZE` after them: the same on one server and on a
/// cluster, where they are split by slot and merged.
async fn multi_key_round(c: &Client) -> MultiKeyRound {
    let keys = spread("mk", 1_000);
    c.mset(keys.iter().map(|k| (k, k))).await.unwrap();
    let mut asked: Vec<&str> = keys.iter().step_by(3).map(String::as_str).collect();
    asked.insert(5, "mk:missing");
    let mget = c.mget(&asked).await.unwrap();
    let exists = (
        c.exists(&keys).await.unwrap(),
        // A key named twice counts twice.
        c.exists([&keys[0], &keys[0], &keys[999]]).await.unwrap(),
    );
    let touched = c.touch(&keys[..400]).await.unwrap();
    let deleted = c.del(&keys[..300]).await.unwrap();
    let unlinked = c.unlink(&keys[250..600]).await.unwrap();
    (
        mget,
        exists,
        touched,
        deleted,
        unlinked,
        c.dbsize().await.unwrap(),
    )
}

type MultiKeyRound = (Vec<Option<Bytes>>, (i64, i64), i64, i64, i64, i64);

/// What `get` gives for each client, in order.
async fn per_node<T, F, Fut>(clients: &[Client], get: F) -> Vec<T>
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = Vec::with_capacity(clients.len());
    for c in clients {
        out.push(get(c.clone()).await);
    }
    out
}

/// Runs 20 `SET`s over many slots with the log threshold `threshold` (a config
/// parameter, in microseconds) at 0 on every node, then turns the log off (-1), so
/// that what the nodes logged stays put while it is read.
async fn twenty_sets_logged(client: &Client, threshold: &str) {
    client.config_set([(threshold, "0")]).await.unwrap();
    for k in spread(threshold, 20) {
        client.set(k, 1).await.unwrap();
    }
    client.config_set([(threshold, "-1")]).await.unwrap();
}

/// Every command with a request or response policy tip in the spec, through a
/// cluster client, against what each node says on its own: sums are sums of the
/// nodes' values, `all_shards` / `all_nodes` commands reach every primary / every
/// node (replicas too), logical AND and minimum are taken across nodes, and the
/// multi-shard commands give the same typed results as on one server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tipped_command_aggregates_over_the_nodes() {
    let Some(cluster) = Cluster::builder()
        .replicas(1)
        .config("appendonly yes")
        .start_or_skip()
    else {
        return;
    };
    let started = std::time::Instant::now();
    let server = cluster.node(0).server();
    // A replica still loading its AOF after the first sync is left out of a view;
    // wait for one with every node (the fan-outs below must reach all six).
    let (client, nodes) = loop {
        let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
        let nodes = client.node_clients().await.unwrap();
        if nodes.len() == 6 {
            break (client, nodes);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{} nodes",
            nodes.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let primaries = client.primary_clients().await.unwrap();
    assert_eq!(primaries.len(), 3);

    // CONFIG RESETSTAT (all nodes) first: it clears the nodes' command statistics
    // (here: every primary's count of GET calls).
    for k in spread("resetstat", 30) {
        let _: Option<Bytes> = client.get(k).await.unwrap();
    }
    let gets = |n: Client| async move {
        let stats: String = n.info().section(["commandstats"]).decode().await.unwrap();
        stats.contains("cmdstat_get:")
    };
    assert_eq!(per_node(&primaries, gets).await, [true; 3]);
    client.config_resetstat().await.unwrap();
    assert_eq!(per_node(&nodes, gets).await, [false; 6]);

    // CONFIG SET (all nodes): every node, replicas too, has the new value; CONFIG
    // REWRITE (all nodes) writes it into each node's own config file.
    client.config_set([("lfu-log-factor", "11")]).await.unwrap();
    for n in &nodes {
        let got = n.config_get(["lfu-log-factor"]).await.unwrap();
        assert_eq!(got.get(&b"lfu-log-factor"[..]), Some(&Bytes::from("11")));
    }
    client.config_rewrite().await.unwrap();
    for node in cluster.nodes() {
        let file = std::fs::read_to_string(node.server().config_path()).unwrap();
        assert!(file.contains("lfu-log-factor 11"), "{file}");
    }

    // MSET, MGET, EXISTS, TOUCH, DEL, UNLINK (multi_shard) and DBSIZE (agg_sum):
    // the same typed results as on one server.
    let alone = respec_tests::Server::start();
    let one = Client::connect(&alone.url()).await.unwrap();
    let on_one = multi_key_round(&one).await;
    let on_cluster = multi_key_round(&client).await;
    assert_eq!(on_cluster, on_one);
    assert_eq!(on_cluster.1, (1_000, 3));
    assert_eq!((on_cluster.4, on_cluster.5), (300, 400));
    let sizes = per_node(&primaries, |p| async move { p.dbsize().await.unwrap() }).await;
    assert!(
        sizes.iter().all(|&n| n > 0),
        "keys on every primary: {sizes:?}"
    );
    assert_eq!(sizes.iter().sum::<i64>(), client.dbsize().await.unwrap());

    // WAIT and WAITAOF (agg_min): each primary has one replica, which acknowledges.
    assert_eq!(client.wait(1, 5_000).await.unwrap(), 1);
    if protocols::since(server, (7, 2, 0), "WAITAOF") {
        assert_eq!(client.waitaof(1, 1, 5_000).await.unwrap(), (1, 1));
    }

    // PING (all_shards, all_succeeded).
    assert_eq!(client.ping().await.unwrap(), Bytes::from("PONG"));

    // RANDOMKEY (special): a key of whichever primary has one.
    let some = client.randomkey().await.unwrap().expect("a key");
    assert!(some.starts_with(b"mk:"), "{some:?}");

    // FLUSHDB and FLUSHALL (all_shards): every primary is empty.
    client.flushdb().await.unwrap();
    let sizes = per_node(&primaries, |p| async move { p.dbsize().await.unwrap() }).await;
    assert_eq!(sizes, [0, 0, 0]);
    assert_eq!(client.randomkey().await.unwrap(), None);
    // A key on the last primary only: the others answer nil first.
    let last = primaries[2].address();
    let mut only_there = None;
    for k in spread("rk", 100) {
        if client.client_for_key(&k).await.unwrap().address() == last {
            only_there = Some(k);
            break;
        }
    }
    let only_there = only_there.expect("a key of the last primary");
    client.set(&only_there, 1).await.unwrap();
    assert_eq!(
        client.randomkey().await.unwrap(),
        Some(Bytes::from(only_there))
    );
    for k in spread("fa", 30) {
        client.set(k, 1).await.unwrap();
    }
    client.flushall().await.unwrap();
    let sizes = per_node(&primaries, |p| async move { p.dbsize().await.unwrap() }).await;
    assert_eq!(sizes, [0, 0, 0]);

    // SCRIPT LOAD (all nodes), SCRIPT EXISTS (agg_logical_and), SCRIPT FLUSH (all
    // nodes): a script one primary has is not reported as there.
    let only_one = primaries[1].script_load("return 'one'").await.unwrap();
    let everywhere = client.script_load("return 'all'").await.unwrap();
    assert_eq!(
        client
            .script_exists([only_one.clone(), everywhere.clone()])
            .await
            .unwrap(),
        [false, true]
    );
    for n in &nodes {
        assert_eq!(n.script_exists([everywhere.clone()]).await.unwrap(), [true]);
    }
    client.script_flush().await.unwrap();
    for n in &nodes {
        let exists = n
            .script_exists([everywhere.clone(), only_one.clone()])
            .await;
        assert_eq!(exists.unwrap(), [false, false]);
    }

    // FUNCTION LOAD, DUMP, FLUSH, RESTORE, DELETE (all_shards) and STATS (special).
    const LIB: &str = "#!lua name=tipped\nredis.register_function('t', function() return 1 end)";
    client.function_load(LIB).await.unwrap();
    let libraries = |c: Client| async move { c.function_list().await.unwrap().len() };
    assert_eq!(per_node(&primaries, libraries).await, [1, 1, 1]);
    let dump = client.function_dump().await.unwrap();
    client.function_flush().await.unwrap();
    assert_eq!(per_node(&primaries, libraries).await, [0, 0, 0]);
    client.function_restore(dump).await.unwrap();
    assert_eq!(per_node(&primaries, libraries).await, [1, 1, 1]);
    let stats = client.function_stats().await.unwrap();
    assert!(stats.running_script.is_none());
    client.function_delete("tipped").await.unwrap();
    assert_eq!(per_node(&primaries, libraries).await, [0, 0, 0]);

    // SCRIPT KILL and FUNCTION KILL (one_succeeded): nothing runs, every node says
    // NOTBUSY; with a script busy on one node, that node's OK wins.
    for err in [
        client.script_kill().await.unwrap_err(),
        client.function_kill().await.unwrap_err(),
    ] {
        assert_eq!(
            err.server_error().map(|e| e.code()),
            Some("NOTBUSY"),
            "{err}"
        );
    }
    client
        .config_set([("busy-reply-threshold", "20")])
        .await
        .unwrap();
    let busy_node = Client::connect(
        &cluster
            .node(cluster.node_for_slot(cluster.keyslot("busy")))
            .url(),
    )
    .await
    .unwrap();
    let busy = tokio::spawn(async move {
        busy_node
            .eval("while true do end")
            .key(["busy"])
            .await
            .unwrap_err()
    });
    // Until the script runs, every node says NOTBUSY.
    let asked = std::time::Instant::now();
    while let Err(e) = client.script_kill().await {
        assert_eq!(e.server_error().map(|e| e.code()), Some("NOTBUSY"), "{e}");
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(5),
            "the script never ran"
        );
        tokio::task::yield_now().await;
    }
    let killed = busy.await.unwrap();
    assert!(killed.to_string().contains("killed"), "{killed}");

    // SLOWLOG RESET / LEN (agg_sum) / GET (all nodes, concatenated): every command
    // logged while the threshold is 0, counted on each node.
    client.slowlog_reset().await.unwrap();
    twenty_sets_logged(&client, "slowlog-log-slower-than").await;
    let lens = per_node(&nodes, |n| async move { n.slowlog_len().await.unwrap() }).await;
    assert!(lens.iter().all(|&n| n > 0), "{lens:?}");
    let total: i64 = lens.iter().sum();
    assert_eq!(client.slowlog_len().await.unwrap(), total);
    let entries = client.slowlog_get().count(-1).await.unwrap();
    assert_eq!(entries.len() as i64, total);
    let sets = entries
        .iter()
        .filter(|e| e.3.first().is_some_and(|c| c.eq_ignore_ascii_case(b"SET")));
    // Each SET twice: run by its primary, and by the primary's replica.
    assert_eq!(sets.count(), 40, "every SET, from every node");
    client.slowlog_reset().await.unwrap();
    let lens = per_node(&nodes, |n| async move { n.slowlog_len().await.unwrap() }).await;
    assert_eq!(lens, [0; 6]);

    // LATENCY RESET (agg_sum): the event kinds reset on every node, summed; the
    // per-node diagnostics (special) answer with their one-server types.
    client
        .config_set([("latency-monitor-threshold", "1")])
        .await
        .unwrap();
    for p in &primaries {
        p.eval("local i = 0 while i < 1000000 do i = i + 1 end return 1")
            .decode::<i64>()
            .await
            .unwrap();
    }
    let event_kinds = |n: Client| async move { n.latency_latest().await.unwrap().len() as i64 };
    let kinds = per_node(&nodes, event_kinds).await;
    assert!(kinds[..3].iter().all(|&k| k > 0), "{kinds:?}");
    let _ = client.latency_doctor().await.unwrap();
    let _ = client.latency_latest().await.unwrap();
    let _ = client.latency_history("command").await.unwrap();
    // An error where the one node asked has no such event: routed, not checked.
    let _ = client.latency_graph("command").await;
    let _ = client.latency_histogram().await.unwrap();
    // Summed over the nodes: at least the kinds counted above. (The calls since may
    // add a kind of their own on a loaded machine, one taking over the 1 ms
    // threshold; none removes one.)
    let reset = client.latency_reset().await.unwrap();
    let counted = kinds.iter().sum::<i64>();
    assert!(reset >= counted, "reset {reset} kinds, counted {kinds:?}");
    assert_eq!(per_node(&nodes, event_kinds).await, [0; 6]);

    // MEMORY DOCTOR / STATS / MALLOC-STATS (special: one node), MEMORY PURGE
    // (all_shards), INFO (special: one node).
    assert!(!client.memory_doctor().await.unwrap().is_empty());
    let _ = client.memory_stats().await.unwrap();
    let _ = client.memory_malloc_stats().await.unwrap();
    client.memory_purge().await.unwrap();
    let info: String = client.info().decode().await.unwrap();
    assert!(info.contains("cluster_enabled:1"));

    // CLIENT SETNAME is refused on a cluster client (it would name only the
    // connections open now, not those opened later): the seed URLs' client_name
    // names every connection, in its handshake. CLIENT SETINFO (all nodes) reaches
    // the cluster client's connection to every node.
    let err = client.client_setname("tipped").await.unwrap_err();
    assert!(err.is_refused() && err.is_unsent(), "{err}");
    assert!(err.to_string().contains("client_name"), "{err}");
    let named = Client::connect_cluster(
        cluster
            .seed_urls()
            .iter()
            .map(|u| format!("{u}?client_name=tipped")),
    )
    .await
    .unwrap();
    for n in named.node_clients().await.unwrap() {
        let me: String = n.client_info().decode().await.unwrap();
        assert!(me.contains("name=tipped "), "{me}");
    }
    // The other commands that would set a mode on the connections open now only
    // (CLIENT TRACKING, NO-EVICT, NO-TOUCH), and READONLY / READWRITE, which the
    // cluster client sends itself by its read policy: refused before sending, alone
    // and in a pipeline, each saying what to do instead.
    let refused = [
        (
            client.client_tracking(OnOff::On).await.map(drop),
            "Client of your own",
        ),
        (
            client.client_no_evict(OnOff::On).await.map(drop),
            "Client of your own",
        ),
        (
            client.client_no_touch(OnOff::On).await.map(drop),
            "Client of your own",
        ),
        (client.readonly().await.map(drop), "read_from"),
        (client.readwrite().await.map(drop), "read_from"),
    ];
    for (outcome, advice) in refused {
        let err = outcome.unwrap_err();
        assert!(err.is_refused() && err.is_unsent(), "{err}");
        assert!(err.to_string().contains(advice), "{err}");
    }
    let err = client
        .pipeline()
        .add(respec::cmd::get("pipelined"))
        .add(respec::cmd::client_no_touch(OnOff::On))
        .execute()
        .await
        .unwrap_err();
    assert!(
        err.is_refused() && err.to_string().contains("NO-TOUCH"),
        "{err}"
    );
    for n in &nodes {
        let me: String = n.client_info().decode().await.unwrap();
        let flags = me
            .split(' ')
            .find(|f| f.starts_with("flags="))
            .unwrap_or("");
        assert!(!flags.contains('T') && !flags.contains('e'), "{me}");
    }
    let setinfo = protocols::since(server, (7, 2, 0), "CLIENT SETINFO");
    if setinfo {
        client
            .client_setinfo(ClientSetinfoAttr::LibName(Bytes::from("tipped-lib")))
            .await
            .unwrap();
    }
    for n in &nodes {
        let me: String = n.client_info().decode().await.unwrap();
        assert!(!setinfo || me.contains("lib-name=tipped-lib"), "{me}");
    }

    // ACL SETUSER / DELUSER (all nodes); ACL SAVE fails where no ACL file is set.
    client.acl_setuser("tipped-user").await.unwrap();
    for n in &nodes {
        assert!(n.acl_getuser("tipped-user").await.unwrap().is_some());
    }
    assert_eq!(client.acl_deluser(["tipped-user"]).await.unwrap(), 1);
    for n in &nodes {
        assert!(n.acl_getuser("tipped-user").await.unwrap().is_none());
    }
    assert!(client.acl_save().await.is_err());

    // Valkey 8's CLUSTER SLOT-STATS (every primary, merged in slot order): every slot once;
    // Valkey 8.1's COMMANDLOG LEN (agg_sum), GET (concatenated), RESET (all nodes).
    if protocols::since(server, (8, 0, 0), "CLUSTER SLOT-STATS") {
        let stats = client
            .cluster_slot_stats(ClusterSlotStatsFilter::Slotsrange {
                start_slot: 0,
                end_slot: 16383,
            })
            .await
            .unwrap();
        let mut slots: Vec<i64> = stats.iter().map(|(slot, _)| *slot).collect();
        slots.sort_unstable();
        assert_eq!(slots, (0..16384).collect::<Vec<i64>>());
    }
    if protocols::since(server, (8, 1, 0), "COMMANDLOG") {
        client
            .commandlog_reset(CommandlogGetType::Slow)
            .await
            .unwrap();
        twenty_sets_logged(&client, "commandlog-execution-slower-than").await;
        let lens = per_node(&nodes, |n| async move {
            n.commandlog_len(CommandlogGetType::Slow).await.unwrap()
        })
        .await;
        let total: i64 = lens.iter().sum();
        assert!(lens.iter().all(|&n| n > 0), "{lens:?}");
        assert_eq!(
            client
                .commandlog_len(CommandlogGetType::Slow)
                .await
                .unwrap(),
            total
        );
        let entries = client
            .commandlog_get(-1, CommandlogGetType::Slow)
            .await
            .unwrap();
        assert_eq!(entries.len() as i64, total);
        client
            .commandlog_reset(CommandlogGetType::Slow)
            .await
            .unwrap();
        assert_eq!(
            client
                .commandlog_len(CommandlogGetType::Slow)
                .await
                .unwrap(),
            0
        );
    }
    eprintln!("the tipped commands on a cluster: {:?}", started.elapsed());
}

/// The cluster-only commands run on a node (a client of one node, from the
/// cluster client): `CLUSTER SLAVES` of a primary lists its replica; a slot
/// migration started with `CLUSTER MIGRATESLOTS` is cancelled by `CLUSTER
/// CANCELSLOTMIGRATIONS`; `CLUSTERSCAN` walks the keys of the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_only_commands_run_on_a_node() {
    let Some(cluster) = Cluster::builder().replicas(1).start_or_skip() else {
        return;
    };
    let server = cluster.node(0).server();
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();

    // CLUSTER SLAVES: the replica of each primary, by its id.
    for p in cluster.primaries() {
        let primary = client
            .node_client(&cluster.node(p).addr().to_string())
            .await
            .unwrap();
        // Deprecated (CLUSTER REPLICAS), still served: exercised on purpose.
        #[allow(deprecated)]
        let lines = primary.cluster_slaves(cluster.node(p).id()).await.unwrap();
        let ids: Vec<&str> = lines
            .iter()
            .filter_map(|l| std::str::from_utf8(l).ok()?.split(' ').next())
            .collect();
        let replicas: Vec<&str> = cluster
            .replicas_of(p)
            .into_iter()
            .map(|r| cluster.node(r).id())
            .collect();
        assert_eq!(ids, replicas, "{lines:?}");
    }

    for k in spread("cs", 200) {
        client.set(k, 1).await.unwrap();
    }
    if protocols::since(server, (9, 1, 0), "CLUSTERSCAN") {
        // CLUSTERSCAN: the node of the slot of `0` answers for the first slot, with a
        // cursor naming the next slot by a hash tag (a node serving another slot
        // answers MOVED); the cluster client sends each call to the slot its cursor
        // names, and the walk comes back to `0` with every key once.
        let node = client.client_for_key("0").await.unwrap();
        let (next, _) = node.clusterscan("0").await.unwrap();
        assert!(next.contains(&b'{'), "{next:?}");
        let mut cursor = Bytes::from("0");
        let mut seen = Vec::new();
        loop {
            let (next, keys) = client.clusterscan(cursor).count(1_000).await.unwrap();
            seen.extend(keys);
            if next == "0" {
                break;
            }
            cursor = next;
        }
        seen.sort();
        let mut want: Vec<Bytes> = spread("cs", 200).into_iter().map(Bytes::from).collect();
        want.sort();
        assert_eq!(seen, want);
    }
    if protocols::since(server, (9, 0, 0), "CLUSTER MIGRATESLOTS") {
        // CLUSTER MIGRATESLOTS of every slot of one primary to another, cancelled at
        // once by CLUSTER CANCELSLOTMIGRATIONS: the migration is reported cancelled
        // and the slots and keys stay where they were.
        let slot = cluster.keyslot("cs:0");
        let from = cluster.node_for_slot(slot);
        let to = cluster
            .primaries()
            .into_iter()
            .find(|&p| p != from)
            .unwrap();
        let map = cluster.slot_map(from).unwrap();
        let range = map.range_of(slot).unwrap().slots.clone();
        let (first, last) = (i64::from(*range.start()), i64::from(*range.end()));
        let source = client
            .node_client(&cluster.node(from).addr().to_string())
            .await
            .unwrap();
        source
            .cluster_migrateslots([([(first, last)], cluster.node(to).id())])
            .await
            .unwrap();
        source.cluster_cancelslotmigrations().await.unwrap();
        let migrations = source.cluster_getslotmigrations().await.unwrap();
        let states: Vec<_> = migrations
            .iter()
            .map(|m| (m.slot_ranges.clone(), m.state.clone()))
            .collect();
        assert_eq!(
            states,
            [(
                Some(Bytes::from(format!("{first}-{last}"))),
                Some(Bytes::from("cancelled"))
            )]
        );
        assert_eq!(cluster.node_for_slot(slot), from);
        let values: Vec<Option<i64>> = client.mget(spread("cs", 200)).decode().await.unwrap();
        assert_eq!(values, vec![Some(1); 200]);
    }
}

/// `CLUSTER SLOT-STATS` (Valkey 8) asks every primary and merges as one server
/// holding every slot answers: `ORDERBY key-count LIMIT n` gives the top `n` slots
/// of the cluster by the metric (ties by ascending slot), not `n` per primary in
/// node order; without `LIMIT`, every slot; `SLOTSRANGE` in slot order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slot_stats_orderby_gives_the_top_slots_of_the_cluster() {
    use respec::types::SortOrder;
    let Some(cluster) = three_primaries() else {
        return;
    };
    if !protocols::since(&cluster, (8, 0, 0), "CLUSTER SLOT-STATS") {
        return;
    }
    let client = Client::connect_cluster(cluster.seed_urls()).await.unwrap();
    // Six slots with 6, 5, ..., 1 keys, spread over the primaries.
    let tags: Vec<String> = (0..6).map(|i| format!("{{stats{i}}}")).collect();
    let owners: std::collections::BTreeSet<usize> = tags
        .iter()
        .map(|t| cluster.node_for_slot(cluster.keyslot(t)))
        .collect();
    assert!(owners.len() > 1, "{owners:?}");
    for (i, tag) in tags.iter().enumerate() {
        for k in 0..6 - i {
            client.set(format!("{tag}{k}"), 1).await.unwrap();
        }
    }
    let order_by = |limit: Option<i64>, order: Option<SortOrder>| ClusterSlotStatsFilter::Orderby {
        metric: Bytes::from("key-count"),
        limit,
        order,
    };
    let top = client
        .cluster_slot_stats(order_by(Some(3), None))
        .await
        .unwrap();
    let got: Vec<(i64, Option<i64>)> = top.iter().map(|(s, m)| (*s, m.key_count)).collect();
    let want: Vec<(i64, Option<i64>)> = tags[..3]
        .iter()
        .zip([6, 5, 4])
        .map(|(t, n)| (i64::from(cluster.keyslot(t)), Some(n)))
        .collect();
    assert_eq!(got, want);
    // Ascending: the empty slots, lowest slot first.
    let low = client
        .cluster_slot_stats(order_by(Some(4), Some(SortOrder::Asc)))
        .await
        .unwrap();
    let low: Vec<i64> = low.iter().map(|(s, _)| *s).collect();
    let empty: Vec<i64> = (0..16384)
        .filter(|s| !tags.iter().any(|t| i64::from(cluster.keyslot(t)) == *s))
        .take(4)
        .collect();
    assert_eq!(low, empty);
    // No LIMIT: every slot (a node answers with all of its own), the top first.
    let all = client
        .cluster_slot_stats(order_by(None, None))
        .await
        .unwrap();
    assert_eq!(all.len(), 16384);
    let counts: Vec<Option<i64>> = all[..7].iter().map(|(_, m)| m.key_count).collect();
    assert_eq!(counts, [6, 5, 4, 3, 2, 1, 0].map(Some));
    // SLOTSRANGE: every slot once, in slot order.
    let range = client
        .cluster_slot_stats(ClusterSlotStatsFilter::Slotsrange {
            start_slot: 0,
            end_slot: 16383,
        })
        .await
        .unwrap();
    let slots: Vec<i64> = range.iter().map(|(slot, _)| *slot).collect();
    assert_eq!(slots, (0..16384).collect::<Vec<i64>>());
}
