//! [`TrackingOptions`]: what the client-side cache holds and how the server tells it
//! what changed.

use bytes::Bytes;
use std::time::Duration;

/// How the server reports changes to the cache (`CLIENT TRACKING ON` and its
/// options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackingMode {
    /// The server remembers which keys this connection read and reports a change
    /// to any of them (default tracking): every cacheable read may be cached.
    #[default]
    Default,
    /// The server reports every change to the keys starting with one of the
    /// prefixes, read or not (`BCAST PREFIX ...`; no prefix: every key), and keeps
    /// no memory per key. Only the replies of reads of keys under the prefixes are
    /// cached: others would never be invalidated.
    Broadcast {
        /// The key prefixes whose changes are reported (none: every key).
        prefixes: Vec<Bytes>,
    },
}

/// The options of the client-side cache ([`ClientBuilder::client_side_cache`](crate::ClientBuilder::client_side_cache)).
///
/// The defaults: 10,000 entries, 64 MiB of replies, no TTL, [`TrackingMode::Default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingOptions {
    pub(crate) max_entries: usize,
    pub(crate) max_bytes: usize,
    pub(crate) ttl: Option<Duration>,
    pub(crate) mode: TrackingMode,
}

impl Default for TrackingOptions {
    fn default() -> Self {
        TrackingOptions {
            max_entries: 10_000,
            max_bytes: 64 << 20,
            ttl: None,
            mode: TrackingMode::Default,
        }
    }
}

impl TrackingOptions {
    /// The defaults (see the type).
    pub fn new() -> Self {
        TrackingOptions::default()
    }

    /// The most replies held (at least 1); past it, the least recently used ones
    /// are evicted (a CLOCK approximation).
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n.max(1);
        self
    }

    /// The most bytes held, counting each reply, its command and its key; a reply
    /// larger than this alone is never cached.
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// How long a reply may be served from the cache before it is read again
    /// (`None`: until it is invalidated or evicted). A bound on staleness if an
    /// invalidation were ever lost in a way the client cannot see.
    pub fn ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = ttl;
        self
    }

    /// Default tracking (the server remembers the keys read).
    pub fn default_mode(mut self) -> Self {
        self.mode = TrackingMode::Default;
        self
    }

    /// Broadcast tracking of the keys under `prefixes` (none: every key).
    pub fn broadcast<I, P>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<Bytes>,
    {
        self.mode = TrackingMode::Broadcast {
            prefixes: prefixes.into_iter().map(Into::into).collect(),
        };
        self
    }

    /// The mode.
    pub fn mode(&self) -> &TrackingMode {
        &self.mode
    }

    /// Whether replies about `key` may be cached: in broadcast mode, only keys
    /// under a tracked prefix are reported.
    pub(crate) fn covers(&self, key: &[u8]) -> bool {
        match &self.mode {
            TrackingMode::Default => true,
            TrackingMode::Broadcast { prefixes } => {
                prefixes.is_empty() || prefixes.iter().any(|p| key.starts_with(p))
            }
        }
    }

    /// `CLIENT TRACKING ON` with this mode, redirected to `redirect` (the client id
    /// of the RESP2 invalidation connection) when given.
    pub(crate) fn command(&self, redirect: Option<i64>) -> crate::command::CommandBuf {
        let mut cmd = crate::command::CommandBuf::from_words(&[b"CLIENT", b"TRACKING", b"ON"]);
        if let Some(id) = redirect {
            cmd.push(b"REDIRECT");
            cmd.push(id.to_string().as_bytes());
        }
        if let TrackingMode::Broadcast { prefixes } = &self.mode {
            cmd.push(b"BCAST");
            for p in prefixes {
                cmd.push(b"PREFIX");
                cmd.push(p);
            }
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn url_options_turn_the_cache_on_and_bound_it() {
        let t = |url: &str| Config::from_url(url).unwrap().tracking;
        assert_eq!(t("redis://h"), None);
        assert_eq!(
            t("redis://h?client_cache=true"),
            Some(TrackingOptions::new())
        );
        assert_eq!(
            t("redis://h?client_cache_entries=5&client_cache_bytes=1000&client_cache_ttl=2.5&client_cache_bcast=a:,b:"),
            Some(
                TrackingOptions::new()
                    .max_entries(5)
                    .max_bytes(1000)
                    .ttl(Some(Duration::from_millis(2500)))
                    .broadcast(["a:", "b:"])
            )
        );
        assert_eq!(
            t("redis://h?client_cache_bcast="),
            Some(TrackingOptions::new().broadcast(Vec::<Bytes>::new()))
        );
        assert_eq!(
            t("redis://h?client_cache_entries=5&client_cache=false"),
            None
        );
        for bad in [
            "client_cache=maybe",
            "client_cache_entries=0",
            "client_cache_ttl=-1",
        ] {
            let err = Config::from_url(&format!("redis://h?{bad}")).unwrap_err();
            let key = bad.split('=').next().unwrap();
            assert!(err.to_string().contains(key), "{bad}: {err}");
        }
    }
}
