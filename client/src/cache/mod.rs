//! The application cache: named caches of values serialized with serde
//! ([`Client::cache`](crate::Client::cache) names a [`Cache`]), and the herd variant
//! ([`Cache::herd`] gives a [`HerdCache`]) in which one caller recomputes an expired
//! value while the others keep getting the old one (after aredis's `Cache` and
//! `HerdCache`). Needs the `cache` feature of respec (off by default).
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> Result<(), respec::cache::CacheError> {
//! use std::time::Duration;
//! # #[derive(serde::Serialize, serde::Deserialize)] struct Profile { name: String }
//! # async fn load_profile(id: u64, lang: &str) -> Result<Profile, std::io::Error> { todo!() }
//! let profiles = client.cache("profiles").default_ttl(Duration::from_secs(60));
//! profiles.set((42, "en"), Profile { name: "Ada".into() }).await?;
//! let hit: Option<Profile> = profiles.get((42, "en")).await?;
//!
//! // The herd variant: kept 30 s past its TTL while one caller reloads it.
//! let herd = profiles.herd(Duration::from_secs(30));
//! let p: Profile = herd.get_or_compute((7, "fr"), || load_profile(7, "fr")).await?;
//! # let _ = (hit, p); Ok(()) }
//! ```
//!
//! # When to use one
//!
//! To keep the result of something slow (a query of another database, a call to a
//! service, a computation) for a while, shared by every process using the server. The
//! values live on the server, so each read is a round trip; to save the round trip as
//! well, keep the replies in the process (client-side caching). A cache holds copies:
//! nothing here invalidates an entry when its source changes, except its TTL and
//! [`delete`](Cache::delete).
//!
//! # Keys
//!
//! An entry is identified by the cache's name and the caller's arguments (any
//! `Serialize` value: a number, a string, a tuple, a struct). Its key is the name, a
//! colon, and in braces the SHA-1 (40 hex digits) of the arguments serialized as JSON:
//! `profiles:{3f7a...}` ([`Cache::key`] gives it). The key is stable across processes
//! and versions as long as the arguments serialize to the same JSON: structs and
//! tuples do (fields in declaration order), a `HashMap` does not (its order varies;
//! use a `BTreeMap`), and floats serialize by value (`1.0` and `1` differ). Two caches
//! of different names never share keys; a name with a colon or braces is kept as is.
//!
//! **On a cluster**, the braces make the hash the key's hash tag, so a cache's entries
//! spread over every slot (and a herd entry and its claim, `...}:claim`, share one).
//! [`set_many`](Cache::set_many) is a pipeline, which the cluster client splits by
//! node; it is not atomic (nor on one server: each `SET` is atomic on its own). A
//! name with a hash tag of its own (`profiles{eu}`) keeps every entry of the cache in
//! that tag's slot instead: one node holds the whole cache.
//!
//! # Values
//!
//! Values are serialized as JSON with `serde_json`, then given to the cache's
//! [`Compression`] hook if it has one ([`Cache::compression`]; none by default:
//! implement the trait with the compression crate of your choice). Any `Serialize`
//! value can be stored and any `DeserializeOwned` type asked for; a stored value that
//! cannot be decompressed or deserialized as the type asked for is a [`CacheError`]
//! for which [`is_decode`](CacheError::is_decode) is true, naming the cache and the
//! key, with serde_json's (or the hook's) error as its source. Values written by a
//! cache with another compression (or none) fail the same way.
//!
//! # Options and operations
//!
//! | option | default | meaning |
//! |---|---|---|
//! | [`default_ttl`](Cache::default_ttl) | 5 min | each entry's expiry (`SET ... PX`) |
//! | [`compression`](Cache::compression) | none | compresses serialized values |
//! | [`herd(grace)`](Cache::herd) | — | the herd cache, entries kept `grace` past the TTL |
//! | [`recompute_lease`](HerdCache::recompute_lease) | 10 s | how long a claim to recompute lasts |
//!
//! They are checked before anything is sent: an empty name, a zero TTL, grace or
//! lease, or one with a fraction of a millisecond, are each a [`CacheError`] for which
//! [`is_invalid_argument`](CacheError::is_invalid_argument) is true, naming the
//! option. [`get`](Cache::get), [`set`](Cache::set), [`set_many`](Cache::set_many),
//! [`exists`](Cache::exists), [`delete`](Cache::delete) and [`ttl`](Cache::ttl) are
//! one command each (`GET`, `SET PX`, a pipeline of `SET PX`, `EXISTS`, `DEL`,
//! `PTTL`).
//!
//! # The herd cache
//!
//! When a popular entry expires, every caller that misses it recomputes it at once
//! (a thundering herd, or cache stampede). A [`HerdCache`] keeps each entry past its
//! logical expiry: it is written with an expiry of TTL + grace, and it is *stale* once
//! no more than `grace` is left of it, by the server's clock (`PTTL`), so no clocks of
//! the clients are compared. [`get_or_compute(args, f)`](HerdCache::get_or_compute)
//! runs one script that reads the entry and, when it is stale, claims its
//! recomputation (`SET key:claim token NX PX lease`) in the same atomic step:
//!
//! - fresh: the value is returned;
//! - stale and claimed by this caller: `f` runs, and its value is written and the
//!   claim given up in one script, then returned;
//! - stale and claimed by another: the old value is returned at once, during the
//!   whole grace period;
//! - **missing** (never written, or past its grace): this caller runs `f` and writes
//!   the value, without a claim. Callers that miss together each compute: there is no
//!   old value to give them, and waiting on another caller's computation would tie
//!   their latency to it. Warm a key that must never be computed twice with
//!   [`HerdCache::set`], or keep the grace period longer than the gaps between reads.
//!
//! A claimant that fails (`f` returns an error) gives its claim up, so the next caller
//! tries; one that dies, or whose future is dropped, holds the claim until the
//! recompute lease ends, and the old value is served until then (or until the grace
//! ends). Keep the lease longer than the computation and shorter than the grace.
//! [`HerdCache::ttl`] gives how long the entry stays fresh (zero when stale).
//!
//! The same code works on one server, a cluster and a sentinel-managed primary: the
//! entries are keys like any other. The scripts run by digest
//! ([`Script`](crate::script::Script), loaded again after `NOSCRIPT`).

mod codec;
mod error;
mod herd;
mod ops;
mod options;

pub use codec::Compression;
pub use error::{BoxError, CacheError};
pub use herd::{HerdCache, DEFAULT_RECOMPUTE_LEASE};
pub use options::{Cache, DEFAULT_TTL};
