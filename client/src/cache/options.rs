//! [`Cache`]: a named cache, its default TTL and compression hook, and the keys of
//! its entries (the name and a hash of the caller's arguments).

use super::codec::Compression;
use super::error::CacheError;
use crate::Client;
use respec_protocol::cluster::slot::hash_tag;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The default TTL of a cache's entries: 5 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// A named cache of serialized values held by a [`Client`] (from [`Client::cache`] or
/// [`Cache::new`]): see [`crate::cache`]. Cheap to clone; any number of tasks may use
/// one.
///
/// The options are checked when the cache is used: a bad one is a [`CacheError`] for
/// which [`is_invalid_argument`](CacheError::is_invalid_argument) is true, naming the
/// option, before anything is sent.
#[derive(Clone)]
pub struct Cache {
    pub(crate) client: Client,
    pub(crate) name: Arc<str>,
    pub(crate) ttl: Duration,
    pub(crate) compression: Option<Arc<dyn Compression>>,
}

impl Client {
    /// A cache named `name` of this client's server (a single server, a cluster, a
    /// sentinel-managed primary alike), its entries living [`DEFAULT_TTL`] unless
    /// [`Cache::default_ttl`] says otherwise: see [`crate::cache`].
    pub fn cache(&self, name: impl Into<String>) -> Cache {
        Cache::new(self, name)
    }
}

impl Cache {
    /// A cache named `name` of `client`'s server; the same as [`Client::cache`].
    pub fn new(client: &Client, name: impl Into<String>) -> Cache {
        Cache {
            client: client.clone(),
            name: Arc::from(name.into()),
            ttl: DEFAULT_TTL,
            compression: None,
        }
    }

    /// How long an entry lives after it is written (default 5 minutes): the key's
    /// expiry. At least 1 ms, in whole milliseconds.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Compresses every value after serializing it, and decompresses it before
    /// deserializing it (default: none). Every reader of the cache must use the same.
    pub fn compression(mut self, compression: impl Compression) -> Self {
        self.compression = Some(Arc::new(compression));
        self
    }

    /// The cache's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key of the entry for `args`: the cache's name, a colon, and in braces the
    /// SHA-1 (hex) of the arguments serialized as JSON, `users:{3f7a...}`. See
    /// [`crate::cache`], Keys.
    pub fn key(&self, args: impl Serialize) -> Result<String, CacheError> {
        let json = serde_json::to_vec(&args)
            .map_err(|e| CacheError::encode(&self.name, None, "arguments", Box::new(e)))?;
        Ok(format!(
            "{}:{{{}}}",
            self.name,
            respec_protocol::digest::sha1_hex(&json)
        ))
    }

    /// The first invalid option, as the error an operation returns before sending
    /// anything.
    pub(crate) fn check(&self) -> Result<(), CacheError> {
        if self.name.is_empty() {
            return Err(CacheError::invalid(&self.name, "name", "is empty"));
        }
        whole_millis(&self.name, "ttl", self.ttl).map(drop)
    }

    /// The key of the claim of the entry `key` (same slot: see [`crate::cache`]).
    pub(crate) fn claim_key(key: &str) -> String {
        format!("{key}:claim")
    }

    /// Whether an entry's key and its claim's key are in one slot: not when the
    /// cache's name holds an empty hash tag (`{}`), which makes whole keys hashed.
    pub(crate) fn claim_shares_slot(key: &str) -> bool {
        hash_tag(key.as_bytes()) == hash_tag(Cache::claim_key(key).as_bytes())
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("name", &self.name)
            .field("ttl", &self.ttl)
            .field("compression", &self.compression.is_some())
            .finish_non_exhaustive()
    }
}

/// Checks that `d` is a positive whole number of milliseconds the server can count.
pub(crate) fn whole_millis(cache: &str, arg: &'static str, d: Duration) -> Result<u64, CacheError> {
    crate::config::whole_millis(d).map_err(|problem| CacheError::invalid(cache, arg, problem))
}
