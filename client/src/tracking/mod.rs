//! Client-side caching: a local cache of the replies of read-only single-key
//! commands, kept right by the server's invalidations (`CLIENT TRACKING`).
//!
//! Opt in with [`ClientBuilder::client_side_cache`](crate::ClientBuilder::client_side_cache)
//! (or the URL option `client_cache=true`, with `client_cache_entries=N`,
//! `client_cache_bytes=N`, `client_cache_ttl=SECS` and `client_cache_bcast=PREFIX,...`).
//! Then every read of one key whose reply may be cached is served from the cache
//! when it holds the reply, and sent (its reply then cached) when it does not:
//!
//! ```no_run
//! # async fn demo() -> respec::Result<()> {
//! use respec::{tracking::TrackingOptions, Client, Commands};
//! let client = Client::builder()
//!     .url("redis://127.0.0.1:6379")
//!     .client_side_cache(TrackingOptions::new().max_entries(50_000))
//!     .connect()
//!     .await?;
//! let a: Option<String> = client.get("user:1").decode().await?; // from the server
//! let b: Option<String> = client.get("user:1").decode().await?; // from the cache
//! assert_eq!(a, b);
//! let stats = client.tracking_stats().expect("caching is on");
//! assert_eq!((stats.hits, stats.misses), (1, 1));
//! # Ok(()) }
//! ```
//!
//! # What is cached
//!
//! The replies of the commands whose generated metadata
//! ([`CommandMeta`](crate::command::CommandMeta)) says they only read, name exactly
//! one key and return its data (the `READONLY` flag, one key specification flagged
//! `RO` and `ACCESS`), without a nondeterministic output, and run on the shared
//! connection: `GET`, `HGET`, `HGETALL`, `LRANGE`, `SMEMBERS`, `ZRANGE`,
//! `GETRANGE`, ... but not `TTL` or `HTTL` (their replies change with no write;
//! the spec flags them as not returning the key's data, like `STRLEN` and `LLEN`,
//! which are therefore not cached either), `SRANDMEMBER` (random), `MGET` (several
//! keys) or blocking reads. An entry is the reply frame of
//! one command, by its whole wire form (`GET k` and `GETRANGE k 0 3` are two
//! entries), indexed by its key, and decoded on every hit into the type asked for.
//! Error replies are never cached. Raw commands ([`Client::cmd`](crate::Client::cmd))
//! whose name the spec knows are cached like the typed ones; commands sent in
//! pipelines and transactions go to the server as they are (a write there is seen
//! by the cache when the server's invalidation arrives, right after its reply).
//! `CLIENT TRACKING` sent by the user is refused on a client that caches.
//!
//! # Bounds and counters
//!
//! [`TrackingOptions`] bounds the entries (10,000) and the bytes (64 MiB, counting
//! the reply, the command and the key of each); past them the least recently used
//! entries are evicted (CLOCK). An optional TTL bounds how long an entry is served.
//! [`Client::tracking_stats`](crate::Client::tracking_stats) gives the hits, misses,
//! evictions, invalidations and flushes.
//!
//! # Modes
//!
//! - RESP3, default tracking ([`TrackingMode::Default`]): the server remembers the
//!   keys the connection read and sends an `invalidate` push frame on the same
//!   connection when one changes.
//! - RESP3, broadcast ([`TrackingOptions::broadcast`]): the server reports every
//!   change to keys under the prefixes, read or not; only replies about keys under
//!   them are cached.
//! - RESP2 (`protocol=2`): the client opens one more connection, subscribed to
//!   `__redis__:invalidate`, and the data connection's tracking is redirected to it
//!   (`CLIENT TRACKING ON REDIRECT <id>`); either mode.
//!
//! # Correctness
//!
//! - A key reported changed drops every entry of the key; a `FLUSHALL`/`FLUSHDB`
//!   (an invalidation of no key list) empties the cache.
//! - A write of the client itself (a command flagged `WRITE`, with its keys) drops
//!   what is cached of its keys before it is sent: the next read sees it.
//! - Every loss or reconnect of the data connection (a `CLIENT KILL`, a failover
//!   behind sentinels), and of the invalidation connection, empties the cache:
//!   invalidations may have been missed. Tracking is turned on again first thing on
//!   the new connection, and nothing is cached nor served until the server confirms
//!   it; reads sent before the confirmation are not cached.
//! - A read racing with its own invalidation never stores a stale reply: a read
//!   leaves a placeholder before it is sent; an invalidation of its key (or a flush)
//!   removes it, and the reply is stored only if its placeholder is still there.
//! - Until the client notices that its connection is gone, it may serve what it
//!   cached (a write made meanwhile cannot reach it); the TTL bounds how long.
//!
//! # Cluster
//!
//! On a cluster client, each node's connection tracks the keys read through it and
//! has a cache of its own (the options are the cluster's template's). `CLIENT
//! TRACKING` sent by the user is refused on a cluster client, as before.

mod demux;
mod options;
mod redirect;
mod store;
mod tracker;

pub(crate) use demux::wrap;
pub use options::{TrackingMode, TrackingOptions};
pub(crate) use redirect::demux as redirect_demux;
pub use store::TrackingStats;
pub(crate) use tracker::{Fill, Plan, Tracker};
