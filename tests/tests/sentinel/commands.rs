//! Every `SENTINEL` subcommand, called through respec's typed methods on a sentinel of
//! a real group ([`SentinelGroup`]), under RESP2 and RESP3, with its typed reply
//! checked against what the harness knows (ports, ids, counts).
//!
//! A sentinel has no `INFO commandstats`: after each call, the sentinel's `CLIENT LIST`
//! must show that this test's connection (by its client name) last ran that
//! subcommand, which is also how `cargo xtask coverage --exercised` learns it ran
//! ([`SentinelGroup::last_commands`]).
//!
//! The `PRIMARY` spellings (`SENTINEL PRIMARY`, `PRIMARIES`, `GET-PRIMARY-ADDR-BY-NAME`,
//! `IS-PRIMARY-DOWN-BY-ADDR`) are Valkey 8.0's; a server that answers "unknown
//! subcommand" (Redis) skips them with the reason printed.

#![allow(deprecated)] // the MASTER / SLAVES spellings are deprecated, and tested.

use std::collections::HashMap;

use bytes::Bytes;
use respec::connection::Protocol;
use respec::reply::Value;
use respec::types::{SentinelConfigAction, SentinelSimulateFailureMode as SimulateFailure};
use respec::{Client, Commands};
use respec_tests::{protocols, SentinelGroup, Server};
use tokio::task::block_in_place;

/// The protocols every body runs under.
const PROTOCOLS: [Protocol; 2] = [Protocol::Resp2, Protocol::Resp3];

/// A client of sentinel `j`, speaking `protocol`, named `name` (so its connection can
/// be found in the sentinel's `CLIENT LIST`).
async fn client(group: &SentinelGroup, j: usize, protocol: Protocol, name: &str) -> Client {
    let mut builder = Client::builder()
        .url(&group.sentinel(j).url())
        .protocol(protocol)
        .client_name(name);
    if let Some(password) = group.sentinel_password() {
        builder = builder.password(password);
    }
    builder
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to sentinel {j} with {protocol:?}: {e}"))
}

/// Asserts that the connection named `name` last ran `cmd` (`sentinel|myid`) on
/// sentinel `j`, which also records it for the coverage report.
fn ran(group: &SentinelGroup, j: usize, name: &str, cmd: &str) {
    let seen = block_in_place(|| group.last_commands(j)).unwrap();
    assert!(
        seen.iter().any(|(n, c)| n == name && c == cmd),
        "sentinel {j}: {name} did not last run {cmd}: {seen:?}"
    );
}

/// The value of `r`, or `None` after reporting a skip when the server does not know
/// the subcommand (`what`); any other error fails.
fn unless_unknown<T: std::fmt::Debug>(r: respec::Result<T>, what: &str) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if e.is_server() && e.to_string().to_lowercase().contains("unknown subcommand") => {
            respec_tests::skip(format_args!("{what}: the server does not have it ({e})"));
            None
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A field of a sentinel's instance map, as text.
fn get(map: &HashMap<Bytes, Bytes>, name: &str) -> String {
    let value = map
        .get(name.as_bytes())
        .unwrap_or_else(|| panic!("no {name} in {map:?}"));
    String::from_utf8_lossy(value).into_owned()
}

/// The `port` fields of instance maps, sorted.
fn ports(maps: &[HashMap<Bytes, Bytes>]) -> Vec<u16> {
    let mut ports: Vec<u16> = maps
        .iter()
        .map(|m| get(m, "port").parse().unwrap())
        .collect();
    ports.sort_unstable();
    ports
}

/// The text of a `Value` that is a string of some kind.
fn text(value: &Value) -> String {
    String::from_utf8_lossy(
        value
            .as_bytes()
            .unwrap_or_else(|| panic!("not a string: {value:?}")),
    )
    .into_owned()
}

/// The name/value pairs of a reply that is a map (RESP3) or a flat array (RESP2).
fn pairs(value: &Value) -> Vec<(String, String)> {
    let text_or_int = |v: &Value| match v {
        Value::Int(n) => n.to_string(),
        other => text(other),
    };
    match value {
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| (text_or_int(k), text_or_int(v)))
            .collect(),
        Value::Array(items) if items.len() % 2 == 0 => items
            .chunks(2)
            .map(|p| (text_or_int(&p[0]), text_or_int(&p[1])))
            .collect(),
        other => panic!("not a map nor a flat array: {other:?}"),
    }
}

/// The strings of a reply that is an array of strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) | Value::Set(items) => items.iter().map(text).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// The read-only subcommands, and CONFIG, DEBUG, SIMULATE-FAILURE, FLUSHCONFIG, on
/// sentinel 0 of a default group, under both protocols, with the same typed results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_introspection_subcommands() {
    let Some(group) = block_in_place(|| SentinelGroup::builder().start_or_skip()) else {
        return;
    };
    let primary = group.node(group.primary());
    let primary_port = primary.port();
    let replica_ports = {
        let mut p: Vec<u16> = group
            .replicas()
            .iter()
            .map(|&i| group.node(i).port())
            .collect();
        p.sort_unstable();
        p
    };
    let other_sentinels = {
        let mut p = vec![group.sentinel(1).port(), group.sentinel(2).port()];
        p.sort_unstable();
        p
    };
    let myid = block_in_place(|| group.sentinel_id(0)).unwrap();
    let mut results = Vec::new();
    for protocol in PROTOCOLS {
        let name = format!("cmd-sentinel-{protocol:?}").to_lowercase();
        let c = client(&group, 0, protocol, &name).await;
        let ran = |cmd: &str| ran(&group, 0, &name, cmd);

        let id = c.sentinel_myid().await.unwrap();
        ran("sentinel|myid");
        assert_eq!(id, myid.as_bytes());

        let (ip, port) = c
            .sentinel_get_master_addr_by_name("mymaster")
            .await
            .unwrap();
        ran("sentinel|get-master-addr-by-name");
        assert_eq!(
            (&ip[..], &port[..]),
            (&b"127.0.0.1"[..], primary_port.to_string().as_bytes())
        );
        if let Some(addr) = unless_unknown(
            c.sentinel_get_primary_addr_by_name("mymaster").await,
            "SENTINEL GET-PRIMARY-ADDR-BY-NAME",
        ) {
            ran("sentinel|get-primary-addr-by-name");
            assert_eq!(addr, (ip.clone(), port.clone()));
        }

        let master = c.sentinel_master("mymaster").await.unwrap();
        ran("sentinel|master");
        assert_eq!(get(&master, "name"), "mymaster");
        assert_eq!(get(&master, "ip"), "127.0.0.1");
        assert_eq!(get(&master, "port"), primary_port.to_string());
        assert_eq!(get(&master, "flags"), "master");
        assert_eq!(get(&master, "num-slaves"), "2");
        assert_eq!(get(&master, "num-other-sentinels"), "2");
        assert_eq!(get(&master, "quorum"), "2");
        assert_eq!(get(&master, "down-after-milliseconds"), "1000");
        if let Some(p) = unless_unknown(c.sentinel_primary("mymaster").await, "SENTINEL PRIMARY") {
            ran("sentinel|primary");
            assert_eq!(get(&p, "name"), "mymaster");
            assert_eq!(get(&p, "port"), primary_port.to_string());
        }
        let unknown = c.sentinel_master("nosuch").await.unwrap_err();
        assert!(unknown.to_string().contains("No such master"), "{unknown}");

        let masters = c.sentinel_masters().await.unwrap();
        ran("sentinel|masters");
        assert_eq!(masters.len(), 1);
        assert_eq!(get(&masters[0], "port"), primary_port.to_string());
        if let Some(p) = unless_unknown(c.sentinel_primaries().await, "SENTINEL PRIMARIES") {
            ran("sentinel|primaries");
            assert_eq!(ports(&p), [primary_port]);
        }

        let replicas = c.sentinel_replicas("mymaster").await.unwrap();
        ran("sentinel|replicas");
        assert_eq!(ports(&replicas), replica_ports);
        for r in &replicas {
            assert_eq!(get(r, "flags"), "slave");
            assert_eq!(get(r, "master-port"), primary_port.to_string());
            assert_eq!(get(r, "master-link-status"), "ok");
        }
        let slaves = c.sentinel_slaves("mymaster").await.unwrap();
        ran("sentinel|slaves");
        assert_eq!(ports(&slaves), replica_ports);

        let sentinels = c.sentinel_sentinels("mymaster").await.unwrap();
        ran("sentinel|sentinels");
        assert_eq!(ports(&sentinels), other_sentinels);
        for s in &sentinels {
            let runid = get(s, "runid");
            assert!(runid.len() == 40 && runid != myid, "{runid}");
        }

        let quorum = c.sentinel_ckquorum("mymaster").await.unwrap();
        ran("sentinel|ckquorum");
        assert_eq!(
            &quorum[..],
            b"OK 3 usable Sentinels. Quorum and failover authorization can be reached"
        );

        // Not down, no leader voted for (runid `*` asks for no vote).
        let down = c
            .sentinel_is_master_down_by_addr("127.0.0.1", primary_port, 0, "*")
            .await
            .unwrap();
        ran("sentinel|is-master-down-by-addr");
        assert_eq!(down, (false, Bytes::from_static(b"*"), 0));
        if let Some(d) = unless_unknown(
            c.sentinel_is_primary_down_by_addr("127.0.0.1", primary_port, 0, "*")
                .await,
            "SENTINEL IS-PRIMARY-DOWN-BY-ADDR",
        ) {
            ran("sentinel|is-primary-down-by-addr");
            assert_eq!(d, down);
        }

        // [name, [[age, INFO text] for the primary and each replica]].
        let cache = c.sentinel_info_cache(["mymaster"]).await.unwrap();
        ran("sentinel|info-cache");
        assert_eq!(cache.len(), 2, "{cache:?}");
        assert_eq!(text(&cache[0]), "mymaster");
        let Value::Array(instances) = &cache[1] else {
            panic!("INFO-CACHE instances: {:?}", cache[1])
        };
        assert_eq!(instances.len(), 3, "{instances:?}");
        let infos: Vec<String> = instances
            .iter()
            .map(|i| match i {
                Value::Array(pair) if pair.len() == 2 => text(&pair[1]),
                other => panic!("INFO-CACHE entry: {other:?}"),
            })
            .collect();
        assert!(infos[0].contains("role:master"), "{}", infos[0]);
        assert_eq!(infos.iter().filter(|i| i.contains("role:slave")).count(), 2);

        let scripts = c.sentinel_pending_scripts().await.unwrap();
        ran("sentinel|pending-scripts");
        assert!(scripts.is_empty(), "{scripts:?}");

        let help = c.sentinel_help().await.unwrap();
        ran("sentinel|help");
        let help: Vec<String> = help
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert!(help.iter().any(|l| l.contains("CKQUORUM")), "{help:?}");

        // CONFIG: one parameter at a time (Redis 7.0 takes no more).
        let got = c
            .sentinel_config(SentinelConfigAction::Get(vec!["resolve-hostnames".into()]))
            .await
            .unwrap();
        ran("sentinel|config");
        assert_eq!(pairs(&got), [("resolve-hostnames".into(), "no".into())]);
        let set = c
            .sentinel_config(SentinelConfigAction::Set(vec![(
                "resolve-hostnames".into(),
                "no".into(),
            )]))
            .await
            .unwrap();
        ran("sentinel|config");
        assert_eq!(set, Value::Simple(Bytes::from_static(b"OK")));

        // DEBUG: the timers (the harness shortened publish-period), then one set.
        let timers = pairs(&c.sentinel_debug().await.unwrap());
        ran("sentinel|debug");
        let timer = |name: &str| {
            timers
                .iter()
                .find(|(k, _)| k == name)
                .unwrap_or_else(|| panic!("no {name} in {timers:?}"))
                .1
                .clone()
        };
        assert_eq!(timer("PUBLISH-PERIOD"), "200");
        let set = c
            .sentinel_debug()
            .parameter("script-retry-delay", 20000)
            .await
            .unwrap();
        ran("sentinel|debug");
        assert_eq!(set, Value::Simple(Bytes::from_static(b"OK")));
        let timers = pairs(&c.sentinel_debug().await.unwrap());
        assert!(
            timers.contains(&("SCRIPT-RETRY-DELAY".into(), "20000".into())),
            "{timers:?}"
        );

        // SIMULATE-FAILURE: both crashes armed (harmless: no failover happens here),
        // then HELP, which also disarms them (every call first clears the flags).
        let armed = c
            .sentinel_simulate_failure([
                SimulateFailure::CrashAfterElection,
                SimulateFailure::CrashAfterPromotion,
            ])
            .await
            .unwrap();
        ran("sentinel|simulate-failure");
        assert_eq!(armed, Value::Simple(Bytes::from_static(b"OK")));
        // A mode is required (arity -3): none is refused before sending.
        let err = c.sentinel_simulate_failure([]).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("SENTINEL SIMULATE-FAILURE") && text.contains("mode"),
            "{text}"
        );
        let modes = c
            .sentinel_simulate_failure([SimulateFailure::Help])
            .await
            .unwrap();
        ran("sentinel|simulate-failure");
        let modes = strings(&modes);
        assert!(
            modes
                .iter()
                .any(|m| m.eq_ignore_ascii_case("crash-after-election")),
            "{modes:?}"
        );

        c.sentinel_flushconfig().await.unwrap();
        ran("sentinel|flushconfig");
        let config = std::fs::read_to_string(group.sentinel(0).config_path()).unwrap();
        assert!(
            config.contains(&format!("sentinel myid {myid}")),
            "{config}"
        );

        results.push((
            masters.len(),
            replicas.len(),
            sentinels.len(),
            down,
            help.len(),
        ));
    }
    assert_eq!(
        results[0], results[1],
        "RESP2 and RESP3 gave different results"
    );
}

/// MONITOR, SET, RESET and REMOVE of a second service (a standalone server of its own),
/// and FAILOVER of the group's service (then COORDINATED, on Valkey 9), under both
/// protocols.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_administration_subcommands() {
    let Some(mut group) = block_in_place(|| SentinelGroup::builder().start_or_skip()) else {
        return;
    };
    let extra = block_in_place(Server::start);
    for protocol in PROTOCOLS {
        let name = format!("cmd-sentinel-admin-{protocol:?}").to_lowercase();
        let c = client(&group, 0, protocol, &name).await;
        let ran = |group: &SentinelGroup, cmd: &str| ran(group, 0, &name, cmd);
        let service = format!("extra-{protocol:?}").to_lowercase();

        c.sentinel_monitor(&service, "127.0.0.1", extra.port(), 1)
            .await
            .unwrap();
        ran(&group, "sentinel|monitor");
        let masters = c.sentinel_masters().await.unwrap();
        let mut names: Vec<String> = masters.iter().map(|m| get(m, "name")).collect();
        names.sort();
        let mut expected = ["mymaster".to_owned(), service.clone()];
        expected.sort();
        assert_eq!(names, expected);

        c.sentinel_set(
            &service,
            [("down-after-milliseconds", "4321"), ("quorum", "1")],
        )
        .await
        .unwrap();
        ran(&group, "sentinel|set");
        let m = c.sentinel_master(&service).await.unwrap();
        assert_eq!(get(&m, "down-after-milliseconds"), "4321");
        assert_eq!(get(&m, "port"), extra.port().to_string());

        let reset = c.sentinel_reset(&service).await.unwrap();
        ran(&group, "sentinel|reset");
        assert_eq!(reset, 1);
        assert_eq!(c.sentinel_reset("no-such-*").await.unwrap(), 0);

        c.sentinel_remove(&service).await.unwrap();
        ran(&group, "sentinel|remove");
        let masters = c.sentinel_masters().await.unwrap();
        assert_eq!(masters.len(), 1);
        assert_eq!(get(&masters[0], "name"), "mymaster");

        // A forced failover: another node becomes the primary in every sentinel's view.
        let old = group.primary();
        c.sentinel_failover("mymaster").await.unwrap();
        ran(&group, "sentinel|failover");
        block_in_place(|| group.wait_primary_changed(old)).unwrap();
        let new = block_in_place(|| group.wait_settled()).unwrap();
        assert_ne!(new, old);
        let (_, port) = c
            .sentinel_get_master_addr_by_name("mymaster")
            .await
            .unwrap();
        assert_eq!(&port[..], group.node(new).port().to_string().as_bytes());
    }

    // COORDINATED (Valkey 9.0): the primary hands over with FAILOVER, no write lost.
    if protocols::since(group.node(0), (9, 0, 0), "SENTINEL FAILOVER COORDINATED") {
        let name = "cmd-sentinel-coordinated";
        let c = client(&group, 0, Protocol::Resp3, name).await;
        let old = group.primary();
        c.sentinel_failover("mymaster").coordinated().await.unwrap();
        ran(&group, 0, name, "sentinel|failover");
        block_in_place(|| group.wait_primary_changed(old)).unwrap();
        let new = block_in_place(|| group.wait_settled()).unwrap();
        assert_ne!(new, old);
    }
}

/// A sentinel with a password of its own (the data nodes have another): respec
/// connects with the sentinel's password under both protocols and its typed calls
/// see the primary; without a password, a call fails with NOAUTH; with the data
/// nodes' password, the connect fails naming AUTH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_with_its_own_password() {
    let Some(group) = block_in_place(|| {
        SentinelGroup::builder()
            .replicas(1)
            .password("data-secret")
            .sentinel_password("sentinel-secret")
            .start_or_skip()
    }) else {
        return;
    };
    let primary_port = group.node(group.primary()).port();
    for protocol in PROTOCOLS {
        let c = client(&group, 0, protocol, "cmd-sentinel-auth").await;
        let (_, port) = c
            .sentinel_get_master_addr_by_name("mymaster")
            .await
            .unwrap();
        assert_eq!(&port[..], primary_port.to_string().as_bytes());

        let anonymous = Client::builder()
            .url(&group.sentinel(0).url())
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        let refused = anonymous.sentinel_myid().await.unwrap_err();
        assert!(refused.to_string().contains("NOAUTH"), "{refused}");

        let wrong = Client::builder()
            .url(&group.sentinel(0).url())
            .protocol(protocol)
            .password("data-secret")
            .connect()
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(
            wrong.is_server() && wrong.to_string().contains("AUTH"),
            "{wrong}"
        );
    }
}
