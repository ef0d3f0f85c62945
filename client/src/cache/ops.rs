//! A cache's operations: [`get`](Cache::get), [`set`](Cache::set),
//! [`set_many`](Cache::set_many), [`exists`](Cache::exists),
//! [`delete`](Cache::delete), [`ttl`](Cache::ttl).

use super::error::CacheError;
use super::options::Cache;
use crate::cmd;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

impl Cache {
    /// The value stored for `args`, deserialized as `T`; `None` when there is none
    /// (never written, expired or deleted). A stored value that cannot be
    /// deserialized as `T` is an error for which
    /// [`is_decode`](CacheError::is_decode) is true, naming the cache and the key.
    pub async fn get<T: DeserializeOwned>(
        &self,
        args: impl Serialize,
    ) -> Result<Option<T>, CacheError> {
        let key = self.checked_key(args)?;
        let stored: Option<Bytes> = self
            .client
            .send(cmd::get(&key).decode::<Option<Bytes>>())
            .await
            .map_err(|e| self.failed(&key, "GET", e))?;
        stored.map(|s| self.decode(&key, &s)).transpose()
    }

    /// Stores `value` for `args`, for the cache's [`default_ttl`](Cache::default_ttl)
    /// (`SET key value PX ttl`), replacing what was there.
    pub async fn set(&self, args: impl Serialize, value: impl Serialize) -> Result<(), CacheError> {
        let key = self.checked_key(args)?;
        let ms = self.ttl.as_millis() as u64;
        self.write(&key, &value, ms).await
    }

    /// Stores every `(args, value)` pair for the default TTL, in one pipeline (one
    /// write; on a cluster client, each `SET` goes to its key's node). Every value is
    /// serialized before anything is sent. Not atomic: each entry is written on its
    /// own, and an error reports the first failed write (the others may have been
    /// written). Nothing is sent for no pairs.
    pub async fn set_many<A: Serialize, T: Serialize>(
        &self,
        entries: impl IntoIterator<Item = (A, T)>,
    ) -> Result<(), CacheError> {
        self.check()?;
        let ms = self.ttl.as_millis() as u64;
        let mut sets = Vec::new();
        for (args, value) in entries {
            let key = self.key(args)?;
            let stored = self.encode(&key, &value)?;
            sets.push(cmd::set(key, stored).px(Duration::from_millis(ms)));
        }
        if sets.is_empty() {
            return Ok(());
        }
        self.client
            .batch(sets)
            .await
            .map(drop)
            .map_err(|e| CacheError::client(&self.name, None, "SET (set_many)", e))
    }

    /// Whether a value is stored for `args`.
    pub async fn exists(&self, args: impl Serialize) -> Result<bool, CacheError> {
        let key = self.checked_key(args)?;
        let n: i64 = self
            .client
            .send(cmd::exists([&key]).decode::<i64>())
            .await
            .map_err(|e| self.failed(&key, "EXISTS", e))?;
        Ok(n == 1)
    }

    /// Deletes the value stored for `args`: whether there was one.
    pub async fn delete(&self, args: impl Serialize) -> Result<bool, CacheError> {
        let key = self.checked_key(args)?;
        let n: i64 = self
            .client
            .send(cmd::del([&key]).decode::<i64>())
            .await
            .map_err(|e| self.failed(&key, "DEL", e))?;
        Ok(n == 1)
    }

    /// How long the value stored for `args` has left (`PTTL`); `None` when there is
    /// none, or when it has no expiry (written by other means than this cache).
    pub async fn ttl(&self, args: impl Serialize) -> Result<Option<Duration>, CacheError> {
        let key = self.checked_key(args)?;
        self.pttl(&key).await
    }

    /// The key's `PTTL`, `None` for a key that is missing or never expires.
    pub(crate) async fn pttl(&self, key: &str) -> Result<Option<Duration>, CacheError> {
        let ms: i64 = self
            .client
            .send(cmd::pttl(key).decode::<i64>())
            .await
            .map_err(|e| self.failed(key, "PTTL", e))?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// Writes `value` to `key` with an expiry of `ms`.
    pub(crate) async fn write(
        &self,
        key: &str,
        value: &impl Serialize,
        ms: u64,
    ) -> Result<(), CacheError> {
        let stored = self.encode(key, value)?;
        self.write_encoded(key, stored, ms).await
    }

    /// Writes the encoded value `stored` to `key` with an expiry of `ms`.
    pub(crate) async fn write_encoded(
        &self,
        key: &str,
        stored: Bytes,
        ms: u64,
    ) -> Result<(), CacheError> {
        self.client
            .send(cmd::set(key, stored).px(Duration::from_millis(ms)))
            .await
            .map(drop)
            .map_err(|e| self.failed(key, "SET", e))
    }

    /// The options checked, then the key of `args`.
    pub(crate) fn checked_key(&self, args: impl Serialize) -> Result<String, CacheError> {
        self.check()?;
        self.key(args)
    }

    /// The error of a command `op` on `key` that the client could not run.
    pub(crate) fn failed(&self, key: &str, op: &'static str, e: crate::Error) -> CacheError {
        CacheError::client(&self.name, Some(key), op, e)
    }
}
