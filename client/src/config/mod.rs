//! Options: the connection's, the request queue's, the pool's, and their URL form
//! (`url.rs`). Plain data and its checks; the layers that use it (`connection/`,
//! `pool/`) import it, not each other.

use crate::error::{Error, Result};
use crate::resp::Limits;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

mod locate;
mod pool;
mod url;
mod url_syntax;

#[cfg(feature = "sentinel")]
pub(crate) use locate::Locate;
pub(crate) use locate::{BoxFuture, Locator};

pub use pool::PoolOptions;
pub(crate) use url::parse_cluster as parse_cluster_url;
pub(crate) use url::parse_sentinel as parse_sentinel_url;
pub(crate) use url::{take_cluster_option, ClusterOption};

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A TCP host and port.
    Tcp {
        /// Host name or IP address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// The configuration error for `what` in a build without the cargo `feature` it
/// needs, naming the feature and how to enable it.
#[cfg(not(all(feature = "tls", feature = "cluster", feature = "sentinel")))]
pub(crate) fn unavailable(what: &str, feature: &str) -> Error {
    Error::config(format!(
        "{what} needs the `{feature}` feature of respec, which this build leaves out (default-features = false): enable it with `respec = {{ version = \"...\", features = [\"{feature}\"] }}`"
    ))
}

/// The error for a TLS address or TLS options in a build without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub(crate) fn tls_unavailable() -> Error {
    unavailable("TLS (a rediss:// or valkeys:// URL, or TLS options)", "tls")
}

/// The error for a cluster (a `redis+cluster://` URL, `cluster=auto|true`,
/// [`Client::connect_cluster`](crate::Client::connect_cluster)) in a build without
/// the `cluster` feature.
#[cfg(not(feature = "cluster"))]
pub(crate) fn cluster_unavailable() -> Error {
    unavailable(
        "A cluster (a redis+cluster:// URL, cluster=auto|true, or Client::connect_cluster)",
        "cluster",
    )
}

/// The error for a service behind sentinels (a `redis+sentinel://` URL,
/// [`Client::connect_sentinel`](crate::Client::connect_sentinel)) in a build without
/// the `sentinel` feature.
#[cfg(not(feature = "sentinel"))]
pub(crate) fn sentinel_unavailable() -> Error {
    unavailable(
        "A service behind sentinels (a redis+sentinel:// URL, or Client::connect_sentinel)",
        "sentinel",
    )
}

/// TLS options (`rediss://`, `valkeys://`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of the CA certificates to trust instead of the bundled web roots.
    pub ca_file: Option<PathBuf>,
    /// PEM file of a client certificate chain (mutual TLS).
    pub cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate. Only for tests and trusted networks.
    pub insecure: bool,
    /// The name to verify the server certificate against (default: the host).
    pub server_name: Option<String>,
}

/// RESP protocol version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2 (`AUTH`, no `HELLO`).
    Resp2,
    /// RESP3 (`HELLO 3`), falling back to RESP2 when the server does not know `HELLO`.
    #[default]
    Resp3,
}

/// Receives the RESP3 push frames a connection gets outside of replies that are not
/// pub/sub messages for a subscriber: client-tracking invalidations, and any kind
/// this client does not know. It runs on the connection's driver task, between
/// reading frames: it must return quickly (hand the push to a channel).
pub type PushHook = Arc<dyn Fn(crate::reply::Push) + Send + Sync>;

/// Reconnection policy: exponential backoff with jitter.
///
/// Every reconnection attempt `k` (0, 1, 2, ...) first waits a random delay between
/// half and all of `min(max, initial * 2^k)`. The count `k` starts over only once a
/// connection has proved itself: it answered a request, or stayed up for `max`. So
/// the worst case, a server that accepts and closes every connection before
/// answering anything, costs one attempt per 5–10 ms, 10–20 ms, ... growing to one
/// per 1–2 s with the defaults: about 8 attempts in the first 2.5 s, then at most
/// one a second (measured by the `reconnect_storm` test: 9, then 0.5 a second).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Default for Backoff {
    /// 10 ms doubling up to 2 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The delay before attempt `n` (0-based): a random duration up to
    /// `min(max, initial * 2^n)`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .initial
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        let nanos = cap.as_nanos().min(u128::from(u64::MAX)) as u64;
        Duration::from_nanos(fastrand::u64(nanos / 2..=nanos.max(1)))
    }
}

/// The default [`Config::liveness_timeout`].
pub const DEFAULT_LIVENESS_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`HoldUnsent::Auto`] holds the requests of a client of a service behind
/// sentinels while it has no primary: 10 s, the default connect timeout.
///
/// A `SENTINEL FAILOVER` (a planned switch, as for an upgrade) promotes the replica
/// about a second after the client leaves the old primary, and a crashed primary is
/// replaced `down-after-milliseconds` plus a second or two after it died: 10 s
/// covers the first, and the second with a `down-after-milliseconds` of up to about
/// 8 s. Longer outages fail the requests as unsent rather than keep callers without
/// a request timeout waiting with no end in sight (they can retry: nothing ran).
pub const DEFAULT_HOLD_UNSENT: Duration = Duration::from_secs(10);

/// What the requests not yet written do while a lost connection is being replaced
/// ([`Config::hold_unsent`]).
///
/// Requests already written when a connection is lost fail as "may or may not have
/// run" whatever this says; this is about those still queued, and those queued
/// while there is no connection. Until the first attempt to reconnect has failed,
/// they wait in the queue in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HoldUnsent {
    /// [`For`](HoldUnsent::For)`(`[`DEFAULT_HOLD_UNSENT`]`)` for a client of a
    /// service behind sentinels (a new primary is expected), [`No`](HoldUnsent::No)
    /// for any other.
    #[default]
    Auto,
    /// Once an attempt to reconnect has failed, they fail at once, as unsent
    /// ([`Error::is_unsent`](crate::Error::is_unsent)), and so do new ones, until a
    /// connection is up again.
    No,
    /// They wait in the request queue for the new connection (bounded as always by
    /// [`QueueOptions`]), each at most its request timeout (then failing as "timed
    /// out before it was sent": it never runs), and all of them at most this long
    /// from the loss of the connection: from then on they fail at once, as with
    /// [`No`](HoldUnsent::No), until a connection is up. An error finding the node
    /// to connect to (no sentinel answers) fails them at once too: only a failover
    /// is waited for, not a client that cannot find out where to go.
    For(Duration),
}

impl HoldUnsent {
    /// How long requests are held, for a connection with a locator (`located`) or
    /// not; `None`: not held.
    pub(crate) fn limit(self, located: bool) -> Option<Duration> {
        match self {
            HoldUnsent::Auto if located => Some(DEFAULT_HOLD_UNSENT),
            HoldUnsent::Auto | HoldUnsent::No => None,
            HoldUnsent::For(limit) => Some(limit).filter(|l| !l.is_zero()),
        }
    }
}

/// Everything a connection needs to know.
///
/// Non-exhaustive, so that options can be added: start from
/// [`Config::default`] or [`Config::from_url`] and set fields, or use
/// [`ClientBuilder`](crate::ClientBuilder).
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where.
    pub address: Address,
    /// TLS, when set.
    pub tls: Option<TlsOptions>,
    /// ACL user name (`AUTH username password`).
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Database to `SELECT`.
    pub database: i64,
    /// `CLIENT SETNAME`.
    pub client_name: Option<String>,
    /// Protocol.
    pub protocol: Protocol,
    /// How long connecting (TCP, TLS and handshake) may take.
    pub connect_timeout: Option<Duration>,
    /// How long a command may wait for its reply (blocking commands excepted).
    pub request_timeout: Option<Duration>,
    /// Reconnection backoff.
    pub backoff: Backoff,
    /// Protocol limits.
    pub limits: Limits,
    /// Push messages consumer.
    pub push_hook: Option<PushHook>,
    /// TCP keepalive interval (`None` disables it).
    pub keepalive: Option<Duration>,
    /// The pool of dedicated connections (blocking commands, `WATCH`).
    pub pool: PoolOptions,
    /// How many requests may wait to be written on one connection, and what a
    /// caller does when they are that many.
    pub queue: QueueOptions,
    /// How long the shared connection may leave a written request unanswered,
    /// with nothing at all arriving from the server, before it is taken for dead:
    /// closed, its written requests failed as "may have run", and replaced (see
    /// the crate docs). `None` (or zero) turns the rule off.
    ///
    /// Its timer (as the subscribers' health check's) is kept off tokio's timer
    /// wheel, on one `respec-watchdog` thread of the process, started on first
    /// use: real time, which tokio's paused clock does not move.
    pub liveness_timeout: Option<Duration>,
    /// What requests not yet written do while the connection is being replaced:
    /// fail at once after a failed attempt (the default of a client of one server
    /// or a cluster), or wait for the new connection, each within its request
    /// timeout and all for at most a bound from the loss (the default of a client
    /// of a service behind sentinels: [`DEFAULT_HOLD_UNSENT`]). See [`HoldUnsent`].
    pub hold_unsent: HoldUnsent,
    /// Client-side caching of the shared connection's reads (`None`: off, the
    /// default). See [`tracking`](crate::tracking).
    pub tracking: Option<crate::tracking::TrackingOptions>,
    /// A cluster replica's connection: `READONLY` is sent at every (re)connect, so
    /// the replica serves reads of its primary's slots.
    pub(crate) replica_reads: bool,
    /// Where the server is when it can move (a service behind sentinels): asked at
    /// every connect instead of `address`, which then only names the last one found.
    pub(crate) locator: Option<Locator>,
}

/// What a caller does when the request queue of a connection is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueFull {
    /// Wait for room, within the request timeout (the request is then never sent).
    #[default]
    Wait,
    /// Fail at once with an error for which [`Error::is_queue_full`](crate::Error::is_queue_full)
    /// is true; the request is never sent.
    Fail,
}

/// The bound on the requests queued to one connection's driver.
///
/// Requests wait in this queue until the driver writes them; while the server does
/// not read (stopped, or slower than the callers), the queue fills and callers wait
/// for room (or fail, with [`QueueFull::Fail`]), so memory stays bounded. A request
/// still in the queue when its caller times out or drops it is never written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// Requests (a pipeline counts as one) that may wait to be written. At least 1.
    pub capacity: usize,
    /// What a caller does when the queue is full.
    pub when_full: QueueFull,
}

impl Default for QueueOptions {
    /// 4096 requests; callers wait for room.
    fn default() -> Self {
        QueueOptions {
            capacity: 4096,
            when_full: QueueFull::Wait,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("address", &self.address)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("client_name", &self.client_name)
            .field("protocol", &self.protocol)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("backoff", &self.backoff)
            .field("limits", &self.limits)
            .field("push_hook", &self.push_hook.is_some())
            .field("keepalive", &self.keepalive)
            .field("pool", &self.pool)
            .field("queue", &self.queue)
            .field("liveness_timeout", &self.liveness_timeout)
            .field("hold_unsent", &self.hold_unsent)
            .field("tracking", &self.tracking)
            .field("located", &self.locator.is_some())
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            address: Address::Tcp {
                host: "127.0.0.1".into(),
                port: 6379,
            },
            tls: None,
            username: None,
            password: None,
            database: 0,
            client_name: None,
            protocol: Protocol::Resp3,
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: None,
            backoff: Backoff::default(),
            limits: Limits::default(),
            push_hook: None,
            keepalive: Some(Duration::from_secs(60)),
            pool: PoolOptions::default(),
            queue: QueueOptions::default(),
            liveness_timeout: Some(DEFAULT_LIVENESS_TIMEOUT),
            hold_unsent: HoldUnsent::Auto,
            tracking: None,
            replica_reads: false,
            locator: None,
        }
    }
}

impl Config {
    /// Parses a URL. See [`Client`](crate::Client) for the accepted forms and options.
    pub fn from_url(input: &str) -> Result<Self> {
        url::parse(input)
    }
}

/// The longest TCP keepalive time and probe interval Linux accepts
/// (`TCP_KEEPIDLE`, `TCP_KEEPINTVL`), in seconds.
pub(crate) const MAX_KEEPALIVE_SECS: u64 = 32767;

/// The keepalive time `interval` as the socket options take it: whole seconds,
/// rounded up (so that a positive interval never becomes 0), within
/// 1..=[`MAX_KEEPALIVE_SECS`]; otherwise a configuration error naming `keepalive`
/// and showing `given` (the value as the user wrote it).
pub(crate) fn keepalive_time(
    interval: Duration,
    given: &dyn std::fmt::Display,
) -> Result<Duration> {
    let secs = interval
        .as_secs()
        .saturating_add(u64::from(interval.subsec_nanos() > 0));
    if (1..=MAX_KEEPALIVE_SECS).contains(&secs) {
        Ok(Duration::from_secs(secs))
    } else {
        Err(Error::config(format!(
            "`keepalive` must be between 1 and {MAX_KEEPALIVE_SECS} seconds (the TCP keepalive range; 0 in a URL, or None, disables it), got {given}"
        )))
    }
}

/// A duration given to the server in whole milliseconds (a lease, a block time): the
/// count, or what is wrong with it, for an error that names the option.
#[cfg(any(feature = "lock", feature = "streams", feature = "cache"))]
pub(crate) fn whole_millis(d: Duration) -> std::result::Result<u64, &'static str> {
    if d.is_zero() {
        Err("is zero (it must be at least 1 ms)")
    } else if d.subsec_nanos() % 1_000_000 != 0 {
        Err("has a fraction of a millisecond (the server counts whole milliseconds)")
    } else {
        i64::try_from(d.as_millis())
            .map(|ms| ms as u64)
            .map_err(|_| "is longer than the server can count")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_whole_seconds_in_the_tcp_range() {
        let ok = |d| keepalive_time(d, &"x").unwrap();
        assert_eq!(ok(Duration::from_millis(1)), Duration::from_secs(1));
        assert_eq!(ok(Duration::from_millis(1500)), Duration::from_secs(2));
        assert_eq!(ok(Duration::from_secs(32767)), Duration::from_secs(32767));
        for d in [
            Duration::ZERO,
            Duration::from_millis(32_767_001),
            Duration::from_secs(10_000_000_000),
            Duration::MAX,
        ] {
            let e = keepalive_time(d, &format_args!("{d:?}")).unwrap_err();
            assert!(e.is_config(), "{e}");
            let text = e.to_string();
            println!("{d:?} -> {text}");
            assert!(
                text.contains("`keepalive` must be between 1 and 32767 seconds"),
                "{text}"
            );
        }
    }
}
