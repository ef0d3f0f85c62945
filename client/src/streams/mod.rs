//! Stream consumers: a reader of one or more streams ([`Client::stream_reader`](crate::Client::stream_reader),
//! `XREAD`) and a consumer of a group ([`Client::stream_group`](crate::Client::stream_group), `XREADGROUP`) that
//! acknowledges, claims what dead consumers left pending and sends what keeps
//! failing to a dead-letter callback. Both are [`futures_core::Stream`]s of typed
//! [`Entry`] values, reading on pooled connections.
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> Result<(), respec::streams::StreamError> {
//! use respec::streams::Start;
//! use std::time::Duration;
//! // Every new entry of two streams, in order within each:
//! let mut reader = client
//!     .stream_reader()
//!     .stream("orders:{shop}", Start::New)
//!     .stream("refunds:{shop}", Start::New)
//!     .start()
//!     .await?;
//! let entry = reader.next().await?;
//! println!("{:?} {:?} {:?}", entry.stream, entry.id, entry.field("total"));
//!
//! // A worker of the group `billing`, created if missing, acknowledging each entry
//! // its handler accepts; entries idle for 60 s in a dead worker's hands are
//! // claimed; an entry delivered 5 times goes to the dead-letter callback.
//! client
//!     .stream_group("orders:{shop}", "billing", "worker-1")
//!     .create(Start::Beginning)
//!     .claim_idle(Some(Duration::from_secs(60)))
//!     .dead_letter(5, |entry| async move {
//!         eprintln!("giving up on {:?}", entry.id);
//!         Ok::<_, std::convert::Infallible>(())
//!     })
//!     .start()
//!     .await?
//!     .run(|entry| async move {
//!         // ... bill the order; an Err leaves it pending, to be tried again
//!         Ok::<_, String>(())
//!     })
//!     .await
//! # }
//! ```
//!
//! # When to use which
//!
//! A **reader** ([`StreamReader`]) sees every entry of its streams, as every other
//! reader does: a log that several services follow, each at its own pace, keeping
//! its place itself ([`StreamReader::last_ids`], given back to [`Start::After`] on
//! the next start). Nothing is recorded on the server.
//!
//! A **group** shares the entries of one stream among its consumers, each entry
//! going to one of them: a work queue. The server records, per group, the last
//! entry handed out and the *pending entries list* (PEL): entries delivered and not
//! yet acknowledged, with their consumer, idle time and delivery count. An entry
//! stays pending until acknowledged (`XACK`), so a consumer that dies leaves its
//! entries pending, where another can claim them. Delivery is **at least once**:
//! make handlers idempotent, or check what was done before doing it again.
//!
//! # The reader
//!
//! [`stream`](ReaderBuilder::stream) adds a stream and where to start:
//! [`Start::New`] (entries added from when [`start`](ReaderBuilder::start) returns:
//! it asks each stream for its last ID, so no entry added between two reads is
//! missed, as reading `$` again would), [`Start::Beginning`], or
//! [`Start::After`] an ID. Each read (`XREAD COUNT n BLOCK ms STREAMS ...`) gives the
//! last ID it got of each stream as the next read's start; entries come in order
//! within each stream.
//!
//! # The group consumer
//!
//! [`start`](GroupBuilder::start) creates the group if [`create`](GroupBuilder::create)
//! asked for it (`XGROUP CREATE key group id MKSTREAM`; an existing group is used
//! as is). The consumer then reads, in this order:
//!
//! 1. **Its own pending entries** (`XREADGROUP ... STREAMS key 0`, then after the
//!    last one read): what this consumer name was given before and never
//!    acknowledged, as after a restart. Run each consumer under a stable name
//!    (a host or pod name) so a restarted one finds its entries.
//! 2. **Claims**, when a round is due (at start, then every
//!    [`claim_interval`](GroupBuilder::claim_interval)): `XAUTOCLAIM key group
//!    consumer claim_idle cursor COUNT n` until the server has scanned the whole
//!    list, taking the entries of any consumer (this one included) pending for
//!    longer than [`claim_idle`](GroupBuilder::claim_idle). Set it longer than the
//!    slowest handler: an entry still being handled when its idle time passes is
//!    claimed and handled twice.
//! 3. **New entries** (`XREADGROUP ... BLOCK ms STREAMS key >`), each read waiting at
//!    most the block time, and no later than the next round of claims.
//!
//! Entries read again or claimed come with their delivery count (`XPENDING key
//! group id id 1 consumer`, one round trip for all of them; an entry no longer ours
//! by then is dropped). With [`dead_letter(max, callback)`](GroupBuilder::dead_letter),
//! an entry delivered more than `max` times goes to the callback instead, and is
//! acknowledged once the callback returns `Ok`; so a handler sees an entry that
//! always fails `max` times. Deleted entries (`XDEL`) still pending are acknowledged
//! and skipped. [`Entry::deliveries`] tells a handler which attempt it is.
//!
//! Acknowledge explicitly with [`GroupConsumer::ack`] (or an [`Acker`] on another
//! task), or give a handler to [`GroupConsumer::run`]: it acknowledges the entries
//! the handler accepted after each batch, leaves the others pending (they come back
//! through claims), and waits and reads again after transient errors;
//! [`run_until`](GroupConsumer::run_until) also stops when a future resolves (a
//! shutdown signal), once the batch in hand is handled and acknowledged.
//!
//! # Connections
//!
//! `XREAD` and `XREADGROUP` are flagged blocking by the spec: each read runs on a
//! dedicated connection from the client's [`pool`](crate::pool), never on the shared
//! one, whose other traffic a blocked read would hold up; the connection goes back
//! to the pool between reads. A consumer thus needs a pool slot while it waits:
//! keep the pool size ([`ClientBuilder::pool_size`](crate::ClientBuilder::pool_size))
//! above the number of consumers of one client. A read given up while blocked (the
//! consumer dropped, its task aborted) is unblocked with `CLIENT UNBLOCK` (see
//! [`crate::pool`]): entries the server handed to a group consumer at that moment
//! stay pending and are claimed later. Acknowledgements, claims and `XPENDING` are
//! quick and go on the shared connection.
//!
//! The same consumers run on a single server, a sentinel-managed primary (reads
//! follow the primary after a failover; [`GroupConsumer::run`] reads again after
//! the error the failover causes) and a cluster. On a cluster, a read runs on the
//! node of its keys' slot: a reader's streams must share a slot (keys with a common
//! hash tag, `orders:{shop}` and `refunds:{shop}`), else
//! [`start`](ReaderBuilder::start) refuses them; read streams of different slots
//! with one reader each. A group consumer reads one stream: run one per stream.
//!
//! # Options and errors
//!
//! | option | default | meaning |
//! |---|---|---|
//! | [`block`](GroupBuilder::block) | 2 s | the longest one read waits ([`DEFAULT_BLOCK`]) |
//! | [`count`](GroupBuilder::count) | 100 | the most entries of a read or a claim ([`DEFAULT_COUNT`]) |
//! | [`create`](GroupBuilder::create) | no | create the group (and stream) at this start if missing |
//! | [`claim_idle`](GroupBuilder::claim_idle) | 30 s | claim entries pending longer ([`DEFAULT_CLAIM_IDLE`]; `None`: never) |
//! | [`claim_interval`](GroupBuilder::claim_interval) | 5 s | time between rounds of claims ([`DEFAULT_CLAIM_INTERVAL`]) |
//! | [`dead_letter`](GroupBuilder::dead_letter) | none | deliveries a handler gets, and the callback for the next |
//!
//! The reader has `block` and `count` too. The options are checked by `start`,
//! before anything is sent: no stream, a stream named twice, streams of several
//! cluster slots, a zero block time (the server would wait forever), count,
//! claim time, interval or dead-letter limit, a duration with a fraction of a
//! millisecond, an empty group or consumer name are each a [`StreamError`] for
//! which [`is_invalid_argument`](StreamError::is_invalid_argument) is true, naming
//! the option. Server errors (`NOGROUP` for a group never created, `WRONGTYPE`)
//! and lost connections are [`StreamError`]s whose
//! [`client_error`](StreamError::client_error) is the client's error.

mod consumer;
mod delivery;
mod entry;
mod error;
mod feed;
mod group;
mod options;
mod reader;
mod run;

pub use consumer::{Acker, GroupConsumer};
pub use entry::{Entry, Start};
pub use error::StreamError;
pub use group::{BoxError, GroupBuilder, DEFAULT_CLAIM_IDLE, DEFAULT_CLAIM_INTERVAL};
pub use options::{DEFAULT_BLOCK, DEFAULT_COUNT};
pub use reader::{ReaderBuilder, StreamReader};
