//! Commands that need a particular server: a single node in cluster mode (the cluster
//! introspection and slot administration a lone node answers), replication between
//! two servers, SHUTDOWN, modules, and the remaining administrative commands. Every
//! body runs under RESP2 and RESP3.

use bytes::Bytes;
use respec::types::{ClusterSlotStatsFilter, OnOff, ReplicaofArgs, ScriptDebugMode};
use respec::{Client, Commands};
use respec_tests::{protocols, Role, Server};

fn is_server_error<T: std::fmt::Debug>(r: respec::Result<T>) -> bool {
    match r {
        Err(e) => e.is_server(),
        Ok(v) => panic!("expected a server error, got {v:?}"),
    }
}

#[tokio::test]
async fn single_cluster_node_introspection_and_slots() {
    let server = Server::builder().role(Role::ClusterNode).start().unwrap();
    if !protocols::since(&server, (7, 2, 0), "CLUSTER MYSHARDID") {
        return;
    }
    let got = protocols::both(&server, |c| async move {
        let myid = c.cluster_myid().await.unwrap();
        assert_eq!(myid.len(), 40, "{myid:?}");
        assert_eq!(c.cluster_myshardid().await.unwrap().len(), 40);
        // Give the node every slot (as ranges), then take some back.
        c.cluster_addslotsrange([(0, 8191), (8192, 16383)])
            .await
            .unwrap();
        c.cluster_delslots([16383]).await.unwrap();
        c.cluster_delslotsrange([(16000, 16100)]).await.unwrap();
        c.cluster_addslots([16383]).await.unwrap();
        let info = c.cluster_info().await.unwrap();
        let info = String::from_utf8_lossy(&info).into_owned();
        assert!(info.contains("cluster_slots_assigned:16283"), "{info}");
        let nodes = c.cluster_nodes().await.unwrap();
        assert!(
            String::from_utf8_lossy(&nodes).contains("myself"),
            "{nodes:?}"
        );
        let shards = c.cluster_shards().await.unwrap();
        let slots = c.cluster_slots().await.unwrap();
        let links = c.cluster_links().await.unwrap();
        let keyslot = c.cluster_keyslot("somekey").await.unwrap();
        // (Writing a key would race with the node noticing it now serves slots.)
        let count = c.cluster_countkeysinslot(keyslot).await.unwrap();
        let keys = c.cluster_getkeysinslot(keyslot, 10).await.unwrap();
        let failures = c.cluster_count_failure_reports(&myid).await.unwrap();
        let replicas = is_server_error(
            c.cluster_replicas("0000000000000000000000000000000000000000")
                .await,
        );
        let stats = c
            .cluster_slot_stats(ClusterSlotStatsFilter::Slotsrange {
                start_slot: keyslot,
                end_slot: keyslot,
            })
            .await
            .unwrap();
        let epoch = c.cluster_bumpepoch().await.unwrap();
        assert!(
            String::from_utf8_lossy(&epoch).starts_with("BUMPED")
                || String::from_utf8_lossy(&epoch).starts_with("STILL")
        );
        c.cluster_saveconfig().await.unwrap();
        let help = c.cluster_help().await.unwrap();
        // FLUSHSLOTS needs an empty database.
        c.cluster_flushslots().await.unwrap();
        let after = c.cluster_info().await.unwrap();
        assert!(String::from_utf8_lossy(&after).contains("cluster_slots_assigned:0"));
        let forget_self = is_server_error(c.cluster_forget(&myid).await);
        (
            shards.len(),
            slots.len(),
            links.len(),
            keyslot,
            count,
            keys,
            failures,
            replicas,
            stats.len(),
            !help.is_empty(),
            forget_self,
        )
    })
    .await;
    assert_eq!(
        got,
        (
            1,
            2,
            0,
            11058,
            0,
            Vec::<Bytes>::new(),
            0,
            true,
            1,
            true,
            true
        )
    );
}

#[tokio::test]
async fn cluster_node_configuration_commands() {
    let server = Server::builder().role(Role::ClusterNode).start().unwrap();
    let got = protocols::both(&server, |c| async move {
        // A fresh node with no slots can reset and take a config epoch.
        c.cluster_reset().await.unwrap();
        let epoch = c.cluster_set_config_epoch(5).await;
        let epoch_ok = epoch.is_ok() || is_server_error(epoch);
        let meet = c.cluster_meet("127.0.0.1", 1).await;
        let meet_answered = meet.is_ok() || is_server_error(meet);
        // Failover and replication of a primary with no replicas are refused.
        let failover = is_server_error(c.cluster_failover().await);
        let replicate = is_server_error(
            c.cluster_replicate(respec::types::ClusterReplicateArgs::NodeId(Bytes::from(
                "0000000000000000000000000000000000000000",
            )))
            .await,
        );
        let flushslot = c.cluster_flushslot(1).await;
        let flushslot_answered = flushslot.is_ok() || is_server_error(flushslot);
        (
            epoch_ok,
            meet_answered,
            failover,
            replicate,
            flushslot_answered,
        )
    })
    .await;
    assert_eq!(got, (true, true, true, true, true));
}

#[tokio::test]
async fn replicaof_and_failover_between_two_servers() {
    let primary = Server::start();
    let replica = Server::start();
    let port = i64::from(primary.port());
    let got = protocols::both(&replica, |c| async move {
        c.replicaof(ReplicaofArgs::Host {
            host: Bytes::from("127.0.0.1"),
            port,
        })
        .await
        .unwrap();
        let role = c.role().await.unwrap();
        c.replicaof(ReplicaofArgs::No).await.unwrap();
        #[allow(deprecated)]
        c.slaveof(ReplicaofArgs::No).await.unwrap();
        // No failover is in progress.
        let abort = is_server_error(c.failover().abort().await);
        let role_text = format!("{role:?}");
        (
            role_text.contains("slave") || role_text.contains("replica"),
            abort,
        )
    })
    .await;
    assert_eq!(got, (true, true));
}

#[tokio::test]
async fn administrative_leftovers() {
    let server = Server::start();
    let got = protocols::both(&server, |c| async move {
        // The first run's rewrite may still be going on in the second.
        let rewrite = match c.bgrewriteaof().await {
            Ok(text) => String::from_utf8_lossy(&text).contains("rewriting"),
            Err(e) => e.is_server() && e.to_string().contains("already in progress"),
        };
        let capa = c.client_capa(["redirect"]).await;
        let capa_answered = capa.is_ok() || is_server_error(capa);
        let import = c.client_import_source(OnOff::On).await;
        let import_answered = import.is_ok() || is_server_error(import);
        c.script_debug(ScriptDebugMode::No).await.unwrap();
        let help = (
            !c.function_help().await.unwrap().is_empty(),
            !c.module_help().await.unwrap().is_empty(),
            !c.script_help().await.unwrap().is_empty(),
        );
        // Modules: loading a file that does not exist is refused by the server.
        let load = is_server_error(c.module_load("/nonexistent/module.so").await);
        let loadex = is_server_error(c.module_loadex("/nonexistent/module.so").await);
        let unload = is_server_error(c.module_unload("nosuchmodule").await);
        // RESTORE-ASKING restores like RESTORE.
        c.set("src", "value").await.unwrap();
        let dump = c.dump("src").await.unwrap().expect("a dump");
        c.restore_asking("copy", 0, dump).await.unwrap();
        let copy = c.get("copy").await.unwrap();
        (
            rewrite,
            capa_answered,
            import_answered,
            help,
            (load, loadex, unload),
            copy,
        )
    })
    .await;
    assert_eq!(
        got,
        (
            true,
            true,
            true,
            (true, true, true),
            (true, true, true),
            Some(Bytes::from("value"))
        )
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    for protocol in [
        respec::connection::Protocol::Resp2,
        respec::connection::Protocol::Resp3,
    ] {
        let mut server = Server::start();
        let c: Client = protocols::client(&server, protocol).await;
        // The server exits without replying: the request fails with an I/O error.
        let r = c.shutdown().nosave().now().await;
        assert!(r.is_err(), "{r:?}");
        let mut exited = false;
        for _ in 0..500 {
            if !server.is_running() {
                exited = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(exited, "the server is still running after SHUTDOWN NOSAVE");
    }
}
