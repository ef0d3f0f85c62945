//! Tests of the server harness itself, with raw RESP2 (not respec): starting, restarting,
//! killing, authentication, Unix sockets, TLS, and the roles later topologies build on.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use respec_tests::{HarnessError, RawConnection, Reply, Role, Server, ServerBuilder};

/// A raw connection's timeout.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a process with this id exists (it has not exited, or it is a zombie).
fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// `PING` over a fresh raw TCP connection, without authentication.
fn ping(server: &Server) -> Reply {
    let mut conn = RawConnection::tcp(server.addr(), TIMEOUT).expect("connect");
    conn.command(&["PING"]).expect("PING")
}

/// A default server answers `PING` on its port and knows its version.
#[test]
fn starts_and_answers_ping() {
    let server = Server::start();
    assert_eq!(ping(&server), Reply::Status("PONG".into()));
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
    assert!(server.version().at_least(6, 0, 0), "{}", server.version());
    let info = server
        .raw()
        .unwrap()
        .command_text(&["INFO", "server"])
        .unwrap();
    assert!(
        info.contains(&format!("tcp_port:{}", server.port())),
        "{info}"
    );
    eprintln!(
        "server: {} ({:?} {})",
        server.binary_path().display(),
        server.flavor(),
        server.version()
    );
}

/// A restart comes back on the same port (a new process), and data is not kept.
#[test]
fn restarts_on_the_same_port() {
    let mut server = Server::start();
    let (port, pid) = (server.port(), server.pid().unwrap());
    let mut conn = server.raw().unwrap();
    assert_eq!(conn.command_text(&["SET", "k", "v"]).unwrap(), "OK");

    server.restart();
    assert_eq!(server.port(), port);
    assert_ne!(server.pid().unwrap(), pid);
    assert!(!process_exists(pid), "the old process {pid} is still there");
    // The old connection was closed by the restart.
    assert!(conn.command(&["PING"]).is_err());
    let mut conn = server.raw().unwrap();
    assert_eq!(conn.command(&["GET", "k"]).unwrap(), Reply::Bulk(None));

    // After a kill, restart brings it back too.
    server.kill();
    assert!(!server.is_running());
    assert!(TcpStream::connect(server.addr()).is_err());
    server.restart();
    assert_eq!(ping(&server), Reply::Status("PONG".into()));
}

/// Another process answering `PING` on the port is not taken for the server: while
/// something else holds the port, the restarted process cannot bind it and `restart`
/// fails instead of reporting the imposter ready.
#[test]
fn an_imposter_on_the_port_is_not_taken_for_the_server() {
    let mut server = Server::start();
    server.stop();
    let listener = std::net::TcpListener::bind(server.addr()).expect("taking the port");
    // Answers every read with +PONG, as another server would answer PING.
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                use std::io::{Read as _, Write as _};
                let mut buf = [0; 512];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {
                    if conn.write_all(b"+PONG\r\n").is_err() {
                        return;
                    }
                }
            });
        }
    });
    let restarted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.restart()));
    assert!(
        restarted.is_err(),
        "restart took the imposter for the server"
    );
    assert!(!server.is_running());
}

/// `stop` shuts the server down cleanly and frees its port.
#[test]
fn stops_cleanly() {
    let mut server = Server::start();
    let pid = server.pid().unwrap();
    server.stop();
    assert_eq!(server.pid(), None);
    assert!(!process_exists(pid));
    assert!(TcpStream::connect(server.addr()).is_err());
    assert!(
        server.log().contains("ready to exit"),
        "no clean shutdown in the log:\n{}",
        server.log()
    );
}

/// Dropping a server kills its process and deletes its dir, also while unwinding.
#[test]
fn killed_on_drop() {
    let server = Server::start();
    let pid = server.pid().unwrap();
    let dir = server.dir().to_path_buf();
    assert!(process_exists(pid));
    drop(server);
    assert!(!process_exists(pid), "process {pid} survived the drop");
    assert!(!dir.exists());

    // While a test panics, the drop prints the log (to stderr) and still kills.
    let pid = std::panic::catch_unwind(|| {
        let server = Server::start();
        std::panic::panic_any(server.pid().unwrap());
    })
    .unwrap_err();
    let pid = *pid.downcast::<u32>().unwrap();
    assert!(!process_exists(pid), "process {pid} survived the unwinding");
}

/// A password server answers NOAUTH until authenticated.
#[test]
fn password_requires_auth() {
    let server = Server::builder()
        .password("s3cret \"quoted\"")
        .start()
        .unwrap();
    match ping(&server) {
        Reply::Error(message) => assert!(message.starts_with("NOAUTH"), "{message}"),
        other => panic!("expected NOAUTH, got {other:?}"),
    }
    assert_eq!(server.password(), Some("s3cret \"quoted\""));
    assert_eq!(
        server.raw().unwrap().command_text(&["PING"]).unwrap(),
        "PONG"
    );
}

/// ACL users from the builder can log in.
#[test]
fn acl_users() {
    let server = Server::builder()
        .acl_user("alice on >wonderland ~* &* +@all")
        .acl_user("user bob on >builder ~bob:* +get")
        .start()
        .unwrap();
    let mut conn = RawConnection::tcp(server.addr(), TIMEOUT).unwrap();
    assert_eq!(
        conn.command_text(&["AUTH", "alice", "wonderland"]).unwrap(),
        "OK"
    );
    assert_eq!(conn.command_text(&["ACL", "WHOAMI"]).unwrap(), "alice");
    assert_eq!(
        conn.command_text(&["AUTH", "bob", "builder"]).unwrap(),
        "OK"
    );
    match conn.command(&["SET", "bob:1", "x"]).unwrap() {
        Reply::Error(message) => assert!(message.starts_with("NOPERM"), "{message}"),
        other => panic!("expected NOPERM, got {other:?}"),
    }
}

/// The Unix socket answers and is private to its owner.
#[test]
fn unix_socket() {
    let server = Server::builder().unix_socket().start().unwrap();
    let path = server.unix_path();
    assert!(path.starts_with(server.dir()));
    let mode = fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    let mut conn = RawConnection::unix(path, TIMEOUT).unwrap();
    assert_eq!(conn.command_text(&["PING"]).unwrap(), "PONG");
}

/// A TLS server starts with generated certificates, listening with TLS only (skipped
/// with the reason when no TLS-capable server exists here).
#[test]
fn tls_server_starts() {
    let Some(mut server) = Server::builder().tls().unix_socket().start_or_skip() else {
        return;
    };
    for path in [server.ca_path(), server.client_cert_path()] {
        let pem = fs::read_to_string(path).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    }
    let key = fs::read_to_string(server.client_key_path()).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        server.tls_url(),
        format!("rediss://127.0.0.1:{}", server.tls_port())
    );
    TcpStream::connect(("127.0.0.1", server.tls_port())).unwrap();
    let log = server.log();
    assert!(log.contains("Ready to accept connections"), "{log}");
    let mut conn = server.raw().unwrap();
    let port = conn.command(&["CONFIG", "GET", "port"]).unwrap();
    assert_eq!(
        port,
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"port".to_vec())),
            Reply::Bulk(Some(b"0".to_vec()))
        ]))
    );

    // A restart waits for the new process's "Ready", not the old one's.
    let (port, pid) = (server.tls_port(), server.pid().unwrap());
    server.restart();
    assert_eq!(server.tls_port(), port);
    assert_ne!(server.pid().unwrap(), pid);
    assert_eq!(
        server.raw().unwrap().command_text(&["PING"]).unwrap(),
        "PONG"
    );
}

/// A cluster node starts with cluster mode on and its own bus port.
#[test]
fn cluster_node_starts() {
    let server = Server::builder().role(Role::ClusterNode).start().unwrap();
    assert_ne!(server.cluster_bus_port(), server.port());
    let mut conn = server.raw().unwrap();
    let info = conn.command_text(&["CLUSTER", "INFO"]).unwrap();
    assert!(info.contains("cluster_known_nodes:1"), "{info}");
    let nodes = conn.command_text(&["CLUSTER", "NODES"]).unwrap();
    assert!(
        nodes.contains(&format!(":{}@{}", server.port(), server.cluster_bus_port())),
        "{nodes}"
    );
}

/// A sentinel starts and monitors a primary given by config lines.
#[test]
fn sentinel_starts() {
    let primary = Server::start();
    let sentinel = Server::builder()
        .role(Role::Sentinel)
        .config(format!(
            "sentinel monitor primary 127.0.0.1 {} 1",
            primary.port()
        ))
        .start()
        .unwrap();
    let info = sentinel
        .raw()
        .unwrap()
        .command_text(&["INFO", "sentinel"])
        .unwrap();
    assert!(info.contains("sentinel_masters:1"), "{info}");
}

/// A server that cannot start is an error that carries its log; a missing binary is an
/// I/O error, not "unavailable".
#[test]
fn startup_failures_are_reported() {
    let err = Server::builder()
        .config("no-such-directive yes")
        .start()
        .unwrap_err();
    assert!(matches!(err, HarnessError::Exited { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("no-such-directive"), "{message}");

    let err = ServerBuilder::new()
        .binary("/nonexistent/valkey-server")
        .start()
        .unwrap_err();
    assert!(!err.is_unavailable());
    assert!(
        err.to_string().contains("/nonexistent/valkey-server"),
        "{err}"
    );
}
