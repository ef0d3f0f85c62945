//! respec measured against its peers, redis-rs and fred, on one server in one run
//! (ARCHITECTURE.md §7), by `cargo xtask bench`. Performance is only ever claimed as ratios from
//! this crate, never from timed tests.
//!
//! # Layout
//!
//! - [`peers`]: the [`Peer`] trait, the handful of operations every workload needs,
//!   implemented for respec ([`Respec`]), redis-rs' `MultiplexedConnection`
//!   ([`RedisRs`]) and fred's single-connection client ([`Fred`]), each used the way
//!   its documentation shows.
//! - [`workload`]: the [`Workload`]s (sequential and concurrent `GET`/`SET`, explicit
//!   pipelines of 100 and 1000 `SET`s or `GET`s, a `MULTI`/`EXEC` transaction of 100
//!   `SET`s, `LRANGE`/`HGETALL` of 10k items, 1 MiB values, pub/sub with 1 and 10
//!   subscribers and with a subscriber on the publishing connection), the data they read ([`Data`], written once by [`workload::setup`])
//!   and one time-boxed measurement ([`workload::run_cell`]).
//! - [`pubsub`]: the pub/sub workloads: a publisher, subscribers on connections of
//!   their own or on the publisher's, every message counted and checked in order, its latency from publish to
//!   receipt.
//! - [`cluster`]: the cluster rows (`compare --cluster`): respec's cluster client
//!   against redis-rs' `cluster_async::ClusterConnection` and fred's clustered client
//!   ([`cluster::ClusterPeer`]) on a 3-primary cluster of the harness, and the
//!   failover and slot-migration disruption figures.
//! - [`sentinel`]: the sentinel disruption figures (`compare --sentinel`): respec's
//!   sentinel client against redis-rs' `SentinelClient` and fred's sentinel config
//!   ([`sentinel::SentinelPeer`]) through a `SENTINEL FAILOVER` and a `kill -9` of the
//!   primary, on fresh groups of the harness: acknowledged writes lost, writes reaching
//!   the old primary after the announcement, wrong replies, doubled `INCR`s, recovery.
//! - [`stats`]: latency percentiles, medians and spreads over rounds.
//! - [`report`]: the markdown tables (paired ratios over rounds, latencies, every rep,
//!   flags for wide or bimodal spreads) and the report files.
//! - [`baseline`]: `redis-benchmark` as the machine's limit, for the workloads it can
//!   express: its command lines and its `--csv` output.
//! - [`callgrind`]: instructions per operation under `valgrind --tool=callgrind`.
//!
//! The binaries: `compare` (the peer comparison tables), `allocs` (allocations per
//! `GET` round trip, under a counting global allocator) and `instructions`
//! (instructions per operation of each client and of `redis-benchmark`). `benches/resp.rs` holds the
//! criterion micro-benchmarks of RESP decoding and command encoding.
//!
//! # Behavior
//!
//! Every client makes one connection to the same server process (and one more per
//! subscriber of the pub/sub workloads), started by the
//! harness of `respec-tests` (which finds the binary through `$RESPEC_SERVER` or
//! `target/servers/server-path`; `cargo xtask bench` sets the former). Each client
//! keeps its own defaults except where a default would measure something else than the
//! client: TCP_NODELAY is on for all three (respec's default; redis-rs and fred leave
//! Nagle on) and redis-rs' 500 ms response timeout is off (respec and fred have none).

pub mod baseline;
pub mod callgrind;
pub mod cluster;
pub mod floor;
pub mod peers;
pub mod pubsub;
pub mod report;
pub mod sentinel;
pub mod stats;
pub mod workload;

pub use peers::{Fred, GetSet, Peer, PeerId, Peers, RedisRs, Respec, Subscriber};
pub use workload::{Data, Workload};

use std::path::PathBuf;

/// `target/bench` under the workspace root, where the report is written.
pub fn output_dir() -> PathBuf {
    respec_tests::binary::workspace_root()
        .join("target")
        .join("bench")
}

/// The default report file: `compare` starts it, `allocs` and `instructions` append
/// (each takes `--report PATH` instead; `cargo xtask bench` gives one per server).
pub fn report_path() -> PathBuf {
    output_dir().join("report.md")
}
