//! Sentinel: a client of the primary (or of a replica) of a service that Redis or
//! Valkey sentinels watch, following failovers.
//!
//! The result of [`Client::connect_sentinel`] (or of a `redis+sentinel://` URL) is a
//! [`Client`] like any other: the same typed API, pipelines, transactions, scripts,
//! pub/sub and pool. What differs is where its connections go:
//!
//! - **Discovery.** Every connect asks the sentinels which node to use: the one that
//!   answered last first, then each in turn (`SENTINEL GET-PRIMARY-ADDR-BY-NAME`,
//!   or the `MASTER` spelling on servers without it); the one that answers moves to
//!   the front, and the sentinels it lists (`SENTINEL SENTINELS`) join the list.
//!   The node's `ROLE` is checked in the handshake: a node that is not what the
//!   sentinels said fails the connect (and has them asked again), so an old primary
//!   that has not heard of the failover yet is never written to.
//! - **Following a failover.** A task subscribes to the failover events of every
//!   sentinel it knows (only the one that runs a failover announces its start,
//!   `+selected-slave`; a sentinel that cannot be reached is tried again at each
//!   poll) and asks again every [`poll_interval`](SentinelOptions::poll_interval)
//!   (1 s) in case an announcement is missed; a `READONLY` or `MASTERDOWN` reply has it ask at
//!   once. The client moves when the sentinel selects the replica to promote
//!   (`+selected-slave`), before the promotion, rather than at `+switch-master`, a
//!   second or more later: from the promotion on, whatever the old primary
//!   acknowledges is lost when it is turned into a replica. Until the sentinels
//!   confirm the promotion (`+promoted-slave`, after which they name the replica
//!   when asked), connecting to the replica fails: it may answer `ROLE` as a
//!   primary before that, but the failover can still be aborted then and the
//!   replica turned back, losing what it acknowledged (an aborted failover,
//!   `-failover-abort-*`, or 10 s without the sentinels naming it, and their
//!   answers count again). When the sentinels name another primary, every connection to the
//!   old one (the shared one, the pool's, subscribers') is given up at once: requests
//!   already written fail as "may have run" (never resent), requests not yet written
//!   go to the new primary, subscribers resubscribe there, and a `WATCH` handle or a
//!   dedicated connection on the old primary fails (its state is gone with it).
//! - **Waiting for the new primary.** While there is none to connect to (the
//!   replica not yet promoted, a killed primary not yet replaced), requests not yet
//!   written wait in the connection's bounded queue
//!   ([`QueueOptions`](crate::connection::QueueOptions)) and go to the new primary
//!   once connected. Each waits at most its request timeout, then fails as "timed
//!   out before it was sent" ([`Error::is_unsent`]: it never ran, a retry cannot run
//!   it twice); all of them at most
//!   [`DEFAULT_HOLD_UNSENT`](crate::connection::DEFAULT_HOLD_UNSENT) (10 s) from the
//!   loss of the connection, after which they fail at once as unsent until a
//!   primary is found. 10 s covers a `SENTINEL FAILOVER` (the promotion comes about
//!   a second after the client leaves the old primary) and a crash with a
//!   `down-after-milliseconds` of up to about 8 s; a caller without a request
//!   timeout is not kept waiting longer on an outage with no end in sight. Set
//!   [`Config::hold_unsent`] (`hold_unsent=SECS` or `hold_unsent=no` in the URL) to
//!   change the bound, or to fail them at once after a failed attempt, as a client
//!   of one server does.
//! - **Replicas.** With [`SentinelRole::Replica`], connections go to the replicas the
//!   sentinels do not flag down or disconnected (`SENTINEL REPLICAS`), a different
//!   one at each connect, and to the primary when none is usable
//!   ([`replica_fallback`](SentinelOptions::replica_fallback)).
//! - **Sentinels down.** The client keeps working with the node it is connected to;
//!   only a reconnect, which must ask, fails (with an error naming every sentinel
//!   tried and why, at once: requests are not held while no sentinel answers),
//!   until a sentinel answers again.

// The options and the entry points are always built; the runtime (discovery,
// the service, the watcher) with the `sentinel` feature (on by default).
#[cfg(feature = "sentinel")]
mod discover;
#[cfg(feature = "sentinel")]
mod service;
#[cfg(feature = "sentinel")]
mod watch;

use crate::client::Client;
use crate::config::{Address, Config, TlsOptions};
use crate::error::{Error, Result};
use std::time::Duration;

/// Which node of the service a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SentinelRole {
    /// The primary.
    #[default]
    Primary,
    /// A replica (reads only; writes fail with `READONLY`).
    Replica,
}

/// How a client talks to the sentinels, and which node of the service it uses.
///
/// The sentinels' credentials and TLS are their own: the data nodes' come from the
/// [`Config`] given to [`Client::connect_sentinel`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SentinelOptions {
    /// The primary (default) or a replica.
    pub role: SentinelRole,
    /// The sentinels' ACL user name.
    pub username: Option<String>,
    /// The sentinels' password.
    pub password: Option<String>,
    /// TLS to the sentinels.
    pub tls: Option<TlsOptions>,
    /// How often the sentinels are asked, in case an announcement was missed.
    pub poll_interval: Duration,
    /// How long connecting to a sentinel, and each question to it, may take before
    /// the next one is asked.
    pub timeout: Duration,
    /// A replica client uses the primary while no replica is usable.
    pub replica_fallback: bool,
}

impl Default for SentinelOptions {
    /// The primary; no credentials or TLS for the sentinels; asked every second,
    /// each within a second; replica clients fall back to the primary.
    fn default() -> Self {
        SentinelOptions {
            role: SentinelRole::Primary,
            username: None,
            password: None,
            tls: None,
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            replica_fallback: true,
        }
    }
}

impl Client {
    /// Connects to the primary (or, by `options.role`, a replica) of `service`
    /// through its sentinels (`host:port`), every data node with the options of
    /// `node` (its address aside). See the [module docs](crate::sentinel) for how
    /// the client follows a failover.
    ///
    /// ```no_run
    /// # async fn demo() -> respec::Result<()> {
    /// use respec::sentinel::SentinelOptions;
    /// use respec::{Client, Commands};
    /// let node = Client::builder().password("secret").build()?;
    /// let client = Client::connect_sentinel(
    ///     ["10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"],
    ///     "mymaster",
    ///     node,
    ///     SentinelOptions::default(),
    /// )
    /// .await?;
    /// client.set("k", "v").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_sentinel<I, S>(
        sentinels: I,
        service: &str,
        node: Config,
        options: SentinelOptions,
    ) -> Result<Client>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let sentinels = sentinels
            .into_iter()
            .map(|s| parse_sentinel_address(s.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        Client::from_sentinel_config(sentinels, service, node, options).await
    }

    /// [`connect_sentinel`](Client::connect_sentinel) with parsed addresses.
    #[cfg(feature = "sentinel")]
    pub(crate) async fn from_sentinel_config(
        sentinels: Vec<Address>,
        service: &str,
        node: Config,
        options: SentinelOptions,
    ) -> Result<Client> {
        use std::sync::Arc;
        if sentinels.is_empty() {
            return Err(Error::config(
                "a sentinel client needs at least one sentinel",
            ));
        }
        if service.is_empty() {
            return Err(Error::config("a sentinel client needs a service name"));
        }
        let sentinel_config = Config {
            address: sentinels[0].clone(),
            tls: options.tls.clone(),
            username: options.username.clone(),
            password: options.password.clone(),
            protocol: node.protocol,
            connect_timeout: Some(options.timeout),
            request_timeout: Some(options.timeout),
            backoff: node.backoff.clone(),
            limits: node.limits.clone(),
            keepalive: node.keepalive,
            ..Config::default()
        };
        let (service, stopped) = service::Service::new(
            service.to_owned(),
            sentinels,
            sentinel_config,
            options.clone(),
        );
        let service = Arc::new(service);
        let locator: crate::config::Locator = service.clone();
        let mut config = node;
        config.address = locator.locate().await?;
        config.locator = Some(locator);
        let client = Client::from_config(config).await?;
        tokio::spawn(watch::watch(
            Arc::downgrade(&service),
            stopped,
            service.wake.clone(),
            options.poll_interval,
        ));
        Ok(client)
    }

    /// Without the `sentinel` feature: the error naming it.
    #[cfg(not(feature = "sentinel"))]
    pub(crate) async fn from_sentinel_config(
        _sentinels: Vec<Address>,
        _service: &str,
        _node: Config,
        _options: SentinelOptions,
    ) -> Result<Client> {
        Err(crate::config::sentinel_unavailable())
    }
}

/// A sentinel's `host:port` (port 26379 when left out).
fn parse_sentinel_address(text: &str) -> Result<Address> {
    let bad = || {
        Error::config(format!(
            "invalid sentinel address `{text}` (want host:port)"
        ))
    };
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => {
            (host, port.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (text, 26379),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Address::Tcp {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_addresses_parse_or_name_the_bad_one() {
        let tcp = |h: &str, p| Address::Tcp {
            host: h.into(),
            port: p,
        };
        assert_eq!(parse_sentinel_address("s1:1").unwrap(), tcp("s1", 1));
        assert_eq!(parse_sentinel_address("s1").unwrap(), tcp("s1", 26379));
        assert_eq!(parse_sentinel_address("[::1]:5").unwrap(), tcp("::1", 5));
        for bad in ["s1:x", ":1", "s1:99999"] {
            let err = parse_sentinel_address(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
