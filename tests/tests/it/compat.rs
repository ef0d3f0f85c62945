//! `Client::compatibility`: the report of what respec and the test server disagree on,
//! checked against facts of each server of the matrix (Valkey 9.1.2, whose spec
//! respec is generated from; Redis 7.0.x; Redis 8.x with its built-in `vectorset`
//! module), under RESP2 and RESP3, and on a cluster client.

use respec::command::meta::{self, CommandFlags};
use respec::command::Compatibility;
use respec::{Client, Value};
use respec_tests::{protocols, Cluster, Flavor, Server};

fn names(report: &Compatibility) -> Vec<&'static str> {
    report.missing_commands.iter().map(|m| m.name).collect()
}

fn missing_arg(report: &Compatibility, command: &str, path: &str) -> bool {
    report
        .missing_arguments
        .iter()
        .any(|a| a.command.name == command && a.path == path)
}

/// Whether `COMMAND INFO name` knows the command (a second source beside `COMMAND
/// DOCS`).
async fn in_command_info(c: &Client, name: &str) -> bool {
    let info: Value = c.cmd("COMMAND").arg("INFO").arg(name).await.unwrap();
    match info {
        Value::Array(items) => !items.first().is_none_or(Value::is_nil),
        other => panic!("COMMAND INFO {name}: {other:?}"),
    }
}

#[tokio::test]
async fn the_report_matches_the_server() {
    let server = Server::start();
    let (flavor, version) = (server.flavor(), server.version());
    let report = protocols::both(&server, |c| async move {
        let report = c.compatibility().await.unwrap();
        // What the report says is missing, COMMAND INFO does not know either (the
        // top-level ones: a subcommand is asked for by its container).
        for m in report
            .missing_commands
            .iter()
            .filter(|m| m.container.is_none())
        {
            assert!(
                !in_command_info(&c, m.name).await,
                "{} is on the server",
                m.name
            );
        }
        assert!(in_command_info(&c, "GET").await);
        report
    })
    .await;
    let missing = names(&report);
    println!("{report}");

    // Every server has the basics, and lacks the sentinel-only commands.
    assert_eq!(
        report.version.map(|v| v.to_string()),
        Some(version.to_string())
    );
    assert!(!missing.contains(&"GET") && !missing.contains(&"CLIENT KILL"));
    let sentinel_only: Vec<&str> = meta::all()
        .iter()
        .filter(|m| m.flags.contains(CommandFlags::ONLY_SENTINEL))
        .map(|m| m.name)
        .collect();
    assert!(!sentinel_only.is_empty());
    assert!(sentinel_only.iter().all(|s| missing.contains(s)));
    let text = report.to_string();
    assert!(text.contains(&format!(" {version}\n")), "{text}");

    match flavor {
        Flavor::Valkey if version.at_least(9, 1, 0) => {
            // respec's spec is Valkey 9.1's: only the sentinel-only commands miss.
            assert_eq!(report.server.as_deref(), Some("valkey"));
            assert_eq!(missing, sentinel_only);
            assert!(report.missing_arguments.is_empty(), "{text}");
            assert!(report.unknown_commands.is_empty(), "{text}");
            assert!(report.is_complete());
        }
        Flavor::Redis if !version.at_least(7, 2, 0) => {
            assert_eq!(report.server.as_deref(), Some("redis"));
            // Valkey's own and the commands newer than 7.0.
            for name in [
                "CLUSTERSCAN",
                "DELIFEQ",
                "HGETEX",
                "HSETEX",
                "MSETEX",
                "WAITAOF",
            ] {
                assert!(missing.contains(&name), "{name} missing: {text}");
            }
            assert!(missing.contains(&"CLIENT NO-TOUCH"));
            assert!(missing_arg(&report, "SET", "condition/comparison-value"));
            assert!(missing_arg(&report, "ZRANK", "withscore"));
            assert!(missing_arg(&report, "BGSAVE", "operation/cancel"));
            // Documented under other names or shapes by Redis 7.0, not missing.
            assert!(!missing_arg(&report, "ACL CAT", "category"));
            assert!(!missing_arg(&report, "XINFO STREAM", "full-block/count"));
            assert!(!missing_arg(
                &report,
                "CLIENT KILL",
                "filter/new-format/skipme/yes"
            ));
            assert!(missing_arg(
                &report,
                "CLIENT KILL",
                "filter/new-format/maxage"
            ));
            assert!(!report.is_complete());
        }
        Flavor::Redis if version.at_least(8, 0, 0) => {
            assert_eq!(report.server.as_deref(), Some("redis"));
            for name in ["CLUSTERSCAN", "DELIFEQ", "MSETEX"] {
                assert!(missing.contains(&name), "{name} missing: {text}");
            }
            // Redis 8 has the hash field expiration commands Valkey 9.0 added.
            assert!(!missing.contains(&"HGETEX") && !missing.contains(&"HEXPIRE"));
            assert!(missing_arg(&report, "SET", "condition/comparison-value"));
            // And commands of its own.
            assert!(
                report.unknown_commands.iter().any(|c| c == "XDELEX"),
                "{text}"
            );
        }
        _ => {}
    }

    // Modules: none loaded by the harness; Redis 8 builds `vectorset` in.
    if flavor == Flavor::Redis && version.at_least(8, 0, 0) {
        assert!(report
            .module_commands
            .iter()
            .all(|c| c.module == "vectorset"));
        assert!(report.module_commands.iter().any(|c| c.name == "VADD"));
    } else {
        assert!(report.module_commands.is_empty(), "{text}");
    }
}

#[tokio::test]
async fn a_cluster_client_reports_one_node() {
    let Some(cluster) = Cluster::builder().replicas(0).start_or_skip() else {
        return;
    };
    let single = Client::connect(&cluster.node(0).server().url())
        .await
        .unwrap();
    let expected = single.compatibility().await.unwrap();
    let report = protocols::both(
        &cluster,
        |c| async move { c.compatibility().await.unwrap() },
    )
    .await;
    assert_eq!(names(&report), names(&expected));
    assert_eq!(report.missing_arguments, expected.missing_arguments);
    assert!(!report.missing_commands.is_empty());
}
