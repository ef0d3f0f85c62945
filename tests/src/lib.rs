//! The real-server test harness of respec, and (in `tests/`) the integration tests that
//! run against real servers (ARCHITECTURE.md §6: real servers, never mocks of server behaviour).
//!
//! # Layout
//!
//! - [`binary`](mod@binary): which server binary to run (`$RESPEC_SERVER`, the one
//!   `cargo xtask servers` installed, or `valkey-server`/`redis-server` on `PATH`), the
//!   TLS-capable one, and their versions.
//! - [`server`]: [`Server`] and [`ServerBuilder`]: one process on a free loopback port
//!   in a temp dir, with password, ACL users, Unix socket, TLS, a [`Role`] and extra
//!   config lines.
//! - [`cluster`]: [`Cluster`] and [`ClusterBuilder`]: a cluster of such servers,
//!   formed over raw RESP, with failover, kill, freeze and slot migration for fault
//!   tests.
//! - [`sentinel`]: [`SentinelGroup`] and [`SentinelGroupBuilder`]: a primary, its
//!   replicas and sentinels watching them, with failover, kill, restart and freeze for
//!   fault tests.
//! - [`tls`]: a generated CA, server and client certificate ([`TlsFiles`]).
//! - [`ports`]: free loopback ports.
//! - [`raw`]: a tiny blocking RESP2 connection for the harness's own use.
//! - [`proxy`]: [`Proxy`], a TCP relay in front of a real server that can black-hole
//!   the connections through it (a broken network path).
//! - [`pubsub`](mod@pubsub): helpers of the pub/sub tests (message shapes, waiting,
//!   the server's view of subscriptions).
//! - [`stats`]: the server's count of the commands it ran ([`calls`]).
//! - [`error`]: [`HarnessError`], why a server could not be had.
//! - [`fake`]: helpers of the tiny fake servers (what no real server can produce).
//! - [`counting`]: a counting global allocator (allocations of the process, bytes
//!   held per thread), for figures measured rather than estimated.
//!
//! # Behavior
//!
//! The harness is synchronous (std only): starting a server blocks until it answers
//! `PING`, checked to come from its own process (at most [`server::READY_TIMEOUT`]),
//! polling with a short backoff. A server is
//! killed when its [`Server`] is dropped, and if the test is failing (the thread is
//! panicking) its log is printed to stderr first. A server that cannot exist on this
//! machine (no TLS-capable binary) is a [`HarnessError::Unavailable`]: the test prints
//! the reason and skips ([`ServerBuilder::start_or_skip`]).
//!
//! ```no_run
//! use respec_tests::Server;
//!
//! let server = Server::builder().password("secret").unix_socket().start().unwrap();
//! println!("{} {}", server.url(), server.unix_path().display());
//! ```

pub mod binary;
pub mod cluster;
pub mod counting;
pub mod error;
pub mod fake;
mod poll;
pub mod ports;
pub mod protocols;
pub mod proxy;
pub mod pubsub;
pub mod raw;
pub mod sentinel;
pub mod server;
pub mod stats;
pub mod tls;
pub mod which;

pub use binary::{binary, tls_binary, try_binary, Flavor, Version};
pub use cluster::{
    Cluster, ClusterBuilder, ClusterNode, ClusterRole, FailoverTimes, Migration, NodeEntry,
    NodeState, SlotMap, SlotRange,
};
pub use error::HarnessError;
pub use proxy::Proxy;
pub use raw::{RawConnection, Reply};
pub use sentinel::{Failover, SentinelGroup, SentinelGroupBuilder};
pub use server::{Role, Server, ServerBuilder};
pub use stats::calls;
pub use tls::TlsFiles;

/// Reports that a test skips (prints the reason, and appends it to
/// `target/servers/skipped.txt`, which `cargo xtask test --matrix` counts: libtest
/// hides the output of passing tests).
pub fn skip(reason: impl std::fmt::Display) {
    use std::io::Write as _;
    let line = format!("skipped: {reason}");
    eprintln!("{line}");
    let path = binary::servers_dir().join("skipped.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// The value of `result`, or `None` after reporting the error ([`skip`]) when it means
/// "not available on this machine" ([`HarnessError::is_unavailable`]). Panics on any
/// other error. The `start_or_skip` of the builders.
pub(crate) fn or_skip<T>(result: Result<T, HarnessError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) if err.is_unavailable() => {
            skip(&err);
            None
        }
        Err(err) => panic!("{err}"),
    }
}

/// For the throwaway topologies `cargo xtask demo` starts (`src/bin/`): flushes
/// what was printed (the URL the parent reads), then returns once the parent closes
/// this process's standard input (or exits).
pub fn hold_until_stdin_closes() {
    use std::io::{BufRead, Write};
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    while std::io::stdin()
        .lock()
        .read_line(&mut line)
        .is_ok_and(|n| n > 0)
    {
        line.clear();
    }
}
