//! Tests of the sentinel group harness itself ([`SentinelGroup`]), with raw RESP2 (not
//! respec): a group forms (roles, replication, sentinels knowing each other), with and
//! without passwords; `SENTINEL FAILOVER` changes the primary in every sentinel's view
//! and is announced with `+switch-master`; a killed sentinel restarts with its id; a
//! primary killed with SIGKILL is replaced within a measured time, and comes back as a
//! replica. Each test starts one group.

use std::time::{Duration, Instant};

use respec_tests::{NodeState, RawConnection, Reply, SentinelGroup};

/// A bulk reply of this text.
fn bulk(text: &str) -> Reply {
    Reply::Bulk(Some(text.as_bytes().to_vec()))
}

/// A status reply of this text.
fn status(text: &str) -> Reply {
    Reply::Status(text.into())
}

/// `SENTINEL <sub> <service>` on sentinel `j`: a list of field lists, as maps.
fn entries(group: &SentinelGroup, j: usize, sub: &str) -> Vec<Vec<(String, String)>> {
    let reply = group
        .sentinel_query(j, &["SENTINEL", sub, group.service_name()])
        .unwrap();
    let Reply::Array(Some(entries)) = reply else {
        panic!("SENTINEL {sub}: {reply:?}")
    };
    entries
        .iter()
        .map(|entry| match entry {
            Reply::Array(Some(fields)) => fields
                .chunks(2)
                .map(|pair| (pair[0].text().unwrap(), pair[1].text().unwrap()))
                .collect(),
            other => panic!("SENTINEL {sub} entry: {other:?}"),
        })
        .collect()
}

/// The value of `name` in a field list.
fn field<'a>(entry: &'a [(String, String)], name: &str) -> &'a str {
    entry
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The ports in the entries of `SENTINEL <sub>` on sentinel `j`, sorted.
fn ports_listed(group: &SentinelGroup, j: usize, sub: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = entries(group, j, sub)
        .iter()
        .map(|e| field(e, "port").parse().unwrap())
        .collect();
    ports.sort_unstable();
    ports
}

/// The `INFO replication` field `name` of data node `i`.
fn replication(group: &SentinelGroup, i: usize, name: &str) -> String {
    let info = group
        .query(i, &["INFO", "replication"])
        .unwrap()
        .text()
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .trim()
        .to_owned()
}

/// Asserts that node `primary` is the primary of every other running node, and that
/// every running sentinel reports it.
fn assert_topology(group: &SentinelGroup, primary: usize) {
    assert_eq!(group.primary(), primary);
    assert_eq!(replication(group, primary, "role"), "master");
    let port = group.node(primary).port();
    for i in group.replicas() {
        assert_eq!(replication(group, i, "role"), "slave", "node {i}");
        assert_eq!(replication(group, i, "master_port"), port.to_string());
        assert_eq!(replication(group, i, "master_link_status"), "up");
    }
    for j in 0..group.sentinel_count() {
        if group.sentinel_state(j) == NodeState::Running {
            assert_eq!(
                group.primary_addr_seen_by(j).unwrap(),
                Some(group.node(primary).addr()),
                "sentinel {j}"
            );
        }
    }
}

/// The default group (1 primary, 2 replicas, 3 sentinels) forms: node 0 is the
/// primary, the replicas replicate a write, every sentinel lists both replicas and the
/// two other sentinels, and agrees on the quorum.
#[test]
fn a_sentinel_group_forms() {
    let started = Instant::now();
    let Some(group) = SentinelGroup::builder().start_or_skip() else {
        return;
    };
    eprintln!(
        "sentinel group of {:?} {} ready in {:?}: {}",
        group.node(0).flavor(),
        group.node(0).version(),
        group.ready_time(),
        group.sentinel_service_url()
    );
    assert_eq!((group.node_count(), group.sentinel_count()), (3, 3));
    assert_eq!(group.replicas(), [1, 2]);
    assert_topology(&group, 0);

    // Replication: a write on the primary reaches both replicas.
    assert_eq!(group.query(0, &["SET", "k", "v"]).unwrap(), status("OK"));
    assert_eq!(
        group.query(0, &["WAIT", "2", "5000"]).unwrap(),
        Reply::Integer(2)
    );
    for i in [1, 2] {
        // WAIT counts the replicas' acknowledgements; a replica the sentinels are
        // still reconfiguring as the group forms (a resync) may answer from the
        // dataset it had for a moment: the write must show up there shortly.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = group.query(i, &["GET", "k"]).unwrap();
            if got == bulk("v") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replica {i} never showed the write: {got:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // Every sentinel: the replicas, the other sentinels, the quorum, an id of its own.
    let replica_ports = {
        let mut ports = vec![group.node(1).port(), group.node(2).port()];
        ports.sort_unstable();
        ports
    };
    let mut ids = Vec::new();
    for j in 0..3 {
        assert_eq!(ports_listed(&group, j, "REPLICAS"), replica_ports);
        let mut others: Vec<u16> = (0..3)
            .filter(|&k| k != j)
            .map(|k| group.sentinel(k).port())
            .collect();
        others.sort_unstable();
        assert_eq!(ports_listed(&group, j, "SENTINELS"), others, "sentinel {j}");
        assert_eq!(
            group
                .sentinel_query(j, &["SENTINEL", "CKQUORUM", "mymaster"])
                .unwrap()
                .text()
                .unwrap(),
            "OK 3 usable Sentinels. Quorum and failover authorization can be reached"
        );
        let id = group.sentinel_id(j).unwrap();
        assert!(
            id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(group.sentinel_urls().len(), 3);
    assert!(group
        .sentinel_service_url()
        .starts_with("redis+sentinel://127.0.0.1:"));
    assert!(group.sentinel_service_url().ends_with("/mymaster"));
    eprintln!("a_sentinel_group_forms took {:?}", started.elapsed());
}

/// With passwords on the data nodes and (another) on the sentinels, the group forms
/// (the sentinels authenticate to the nodes and to each other); an unauthenticated
/// connection is refused by both.
#[test]
fn a_group_with_passwords_forms() {
    let started = Instant::now();
    let Some(group) = SentinelGroup::builder()
        .replicas(1)
        .service_name("svc")
        .password("data-secret")
        .sentinel_password("sentinel-secret")
        .start_or_skip()
    else {
        return;
    };
    eprintln!("group with passwords ready in {:?}", group.ready_time());
    assert_eq!(group.service_name(), "svc");
    assert_eq!(group.password(), Some("data-secret"));
    assert_eq!(group.sentinel_password(), Some("sentinel-secret"));
    assert_topology(&group, 0);
    for j in 0..3 {
        assert_eq!(ports_listed(&group, j, "SENTINELS").len(), 2);
    }
    let anonymous = |addr| {
        RawConnection::tcp(addr, Duration::from_secs(5))
            .unwrap()
            .command(&["PING"])
            .unwrap()
    };
    for addr in [group.node(0).addr(), group.sentinel(0).addr()] {
        match anonymous(addr) {
            Reply::Error(err) => assert!(err.starts_with("NOAUTH"), "{err}"),
            other => panic!("PING without AUTH on {addr}: {other:?}"),
        }
    }
    eprintln!("a_group_with_passwords_forms took {:?}", started.elapsed());
}

/// `SENTINEL FAILOVER` makes a replica the primary in every sentinel's view, the old
/// primary its replica, and a subscriber on a sentinel receives `+switch-master`; a
/// killed sentinel restarts on its port with its id and knows the group again.
#[test]
fn sentinel_failover_changes_the_primary() {
    let started = Instant::now();
    let Some(mut group) = SentinelGroup::builder().start_or_skip() else {
        return;
    };
    eprintln!("sentinel group ready in {:?}", group.ready_time());
    let mut events = group.sentinel(2).raw().unwrap();
    assert_eq!(
        events.command(&["SUBSCRIBE", "+switch-master"]).unwrap(),
        Reply::Array(Some(vec![
            bulk("subscribe"),
            bulk("+switch-master"),
            Reply::Integer(1)
        ]))
    );

    let failover = group.failover().unwrap();
    eprintln!("SENTINEL FAILOVER: {failover:?}");
    assert_eq!(failover.old, 0);
    assert!([1, 2].contains(&failover.new), "{failover:?}");
    assert_topology(&group, failover.new);
    assert!(group.replicas().contains(&0));
    // The first switch announced is away from node 0, to a replica (the group may
    // have failed over again since, on a loaded machine: see `Failover::new`).
    let announced = events.read_reply().unwrap();
    let switched = (1..3).find(|&i| {
        let (old, new) = (group.node(0).port(), group.node(i).port());
        announced
            == Reply::Array(Some(vec![
                bulk("message"),
                bulk("+switch-master"),
                bulk(&format!("mymaster 127.0.0.1 {old} 127.0.0.1 {new}")),
            ]))
    });
    assert!(switched.is_some(), "{announced:?}");

    // A killed sentinel comes back on its port with its id (from the config file it
    // rewrote), knowing the new primary and the others.
    let id = group.sentinel_id(1).unwrap();
    let port = group.sentinel(1).port();
    group.kill_sentinel(1);
    assert_eq!(group.sentinel_urls().len(), 2);
    group.restart_sentinel(1).unwrap();
    assert_eq!(group.sentinel_id(1).unwrap(), id);
    assert_eq!(group.sentinel(1).port(), port);
    assert_topology(&group, group.primary());
    eprintln!(
        "sentinel_failover_changes_the_primary took {:?}",
        started.elapsed()
    );
}

/// A primary killed with SIGKILL is replaced by a replica within `down-after` and a
/// few seconds; restarted, it comes back as a replica of the new primary.
#[test]
fn a_killed_primary_is_replaced_and_returns_as_a_replica() {
    let started = Instant::now();
    let down_after = Duration::from_millis(1000);
    let Some(mut group) = SentinelGroup::builder()
        .down_after(down_after)
        .start_or_skip()
    else {
        return;
    };
    eprintln!("sentinel group ready in {:?}", group.ready_time());
    assert_eq!(group.query(0, &["SET", "k", "v"]).unwrap(), status("OK"));
    assert_eq!(
        group.query(0, &["WAIT", "2", "5000"]).unwrap(),
        Reply::Integer(2)
    );

    let failover = group.kill_primary().unwrap();
    eprintln!("primary killed: {failover:?}");
    assert!(
        failover.promoted_after < down_after + Duration::from_secs(10),
        "{failover:?}"
    );
    assert_eq!(group.node_state(0), NodeState::Killed);
    assert_topology(&group, failover.new);
    assert_eq!(group.replicas().len(), 1);
    // The write survived on the new primary.
    assert_eq!(group.query(failover.new, &["GET", "k"]).unwrap(), bulk("v"));

    let back = Instant::now();
    group.restart_node(0).unwrap();
    group.wait_replica(0).unwrap();
    eprintln!("old primary back as a replica after {:?}", back.elapsed());
    assert_topology(&group, group.primary());
    assert!(group.replicas().contains(&0));
    assert_eq!(group.query(0, &["GET", "k"]).unwrap(), bulk("v"));
    eprintln!(
        "a_killed_primary_is_replaced_and_returns_as_a_replica took {:?}",
        started.elapsed()
    );
}
