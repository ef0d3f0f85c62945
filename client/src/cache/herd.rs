//! [`HerdCache`]: entries that outlive their logical expiry by a grace period, during
//! which one caller recomputes the value while the others keep getting the old one.

use super::error::{BoxError, CacheError};
use super::options::{whole_millis, Cache};
use crate::script::Script;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

/// The default recompute lease of a [`HerdCache`]: 10 s.
pub const DEFAULT_RECOMPUTE_LEASE: Duration = Duration::from_secs(10);

/// Reads the entry `KEYS[1]` and, when it is past its logical expiry (no more than
/// `ARGV[1]` ms left, its grace), claims its recomputation (`KEYS[2]` set to the
/// token `ARGV[2]` for `ARGV[3]` ms, if no one holds it), in one atomic step:
/// `{0, nil}` missing, `{1, value}` fresh, `{2, value}` stale and claimed by this
/// caller, `{3, value}` stale and recomputed by another.
static LOOKUP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local v = redis.call('GET', KEYS[1]) \
         if not v then return {0, false} end \
         local t = redis.call('PTTL', KEYS[1]) \
         if t == -1 or t > tonumber(ARGV[1]) then return {1, v} end \
         if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {2, v} end \
         return {3, v}",
    )
});

/// Ends the claim `KEYS[2]` if the token `ARGV[1]` holds it, after writing the value
/// `ARGV[3]` to `KEYS[1]` for `ARGV[4]` ms when `ARGV[2]` is `1`, in one atomic step.
static STORE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if ARGV[2] == '1' then redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) end \
         if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end \
         return 1",
    )
});

/// A cache whose entries are recomputed by one caller while the others keep getting
/// the old value (aredis's `HerdCache`), from [`Cache::herd`]: see [`crate::cache`],
/// The herd cache. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HerdCache {
    cache: Cache,
    grace: Duration,
    lease: Duration,
}

impl Cache {
    /// This cache as a [`HerdCache`]: each entry is kept `grace` past its logical
    /// expiry (the cache's TTL), during which [`HerdCache::get_or_compute`] lets one
    /// caller recompute it while the others get the old value. At least 1 ms, in
    /// whole milliseconds.
    pub fn herd(self, grace: Duration) -> HerdCache {
        HerdCache {
            cache: self,
            grace,
            lease: DEFAULT_RECOMPUTE_LEASE,
        }
    }
}

/// What [`LOOKUP`] found.
enum Found {
    Missing,
    Fresh(Bytes),
    Claimed,
    Stale(Bytes),
}

impl HerdCache {
    /// How long a claim to recompute an entry lasts (default 10 s): a caller whose
    /// computation runs longer (or that dies) lets another claim it once this has
    /// passed. At least 1 ms, in whole milliseconds.
    pub fn recompute_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The underlying cache (its name, TTL, compression, keys).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The grace period of the entries.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// The value stored for `args` if there is one (computed by `compute` and stored
    /// when there is none); when it is past its logical expiry, the first caller to
    /// claim it (atomically with reading it) runs `compute` and stores the result,
    /// while every other caller gets the old value until then. A missing entry is
    /// computed by every caller that finds it missing (see [`crate::cache`]).
    ///
    /// An error of `compute` is a [`CacheError`] for which
    /// [`is_compute`](CacheError::is_compute) is true; it and a value that cannot be
    /// serialized give the claim up (so the next caller tries), and the old value is
    /// not returned then.
    pub async fn get_or_compute<T, F, Fut, E>(
        &self,
        args: impl Serialize,
        compute: F,
    ) -> Result<T, CacheError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<BoxError>,
    {
        let key = self.checked_key(args)?;
        let claim = Cache::claim_key(&key);
        let token = format!("{:032x}", fastrand::u128(..));
        let (grace, lease) = (self.grace_ms(), self.lease.as_millis() as u64);
        let found = self.lookup(&key, &claim, &token, grace, lease).await?;
        let claimed = match found {
            Found::Fresh(v) | Found::Stale(v) => return self.cache.decode(&key, &v),
            Found::Missing => false,
            Found::Claimed => true,
        };
        let computed = compute()
            .await
            .map_err(|e| CacheError::compute(self.cache.name(), &key, e.into()))
            .and_then(|value| Ok((self.cache.encode(&key, &value)?, value)));
        let (stored, value) = match computed {
            Ok(computed) => computed,
            Err(e) => {
                if claimed {
                    let _ = self.store(&key, &claim, &token, None).await;
                }
                return Err(e);
            }
        };
        if claimed {
            self.store(&key, &claim, &token, Some(stored)).await?;
        } else {
            self.cache
                .write_encoded(&key, stored, self.entry_ms())
                .await?;
        }
        Ok(value)
    }

    /// Stores `value` for `args`: fresh for the cache's TTL, then kept for the grace
    /// period (`SET key value PX ttl+grace`).
    pub async fn set(&self, args: impl Serialize, value: impl Serialize) -> Result<(), CacheError> {
        let key = self.checked_key(args)?;
        self.cache.write(&key, &value, self.entry_ms()).await
    }

    /// The value stored for `args`, fresh or in its grace period; `None` when there
    /// is none.
    pub async fn get<T: DeserializeOwned>(
        &self,
        args: impl Serialize,
    ) -> Result<Option<T>, CacheError> {
        self.check()?;
        self.cache.get(args).await
    }

    /// Whether a value (fresh or in its grace period) is stored for `args`.
    pub async fn exists(&self, args: impl Serialize) -> Result<bool, CacheError> {
        self.check()?;
        self.cache.exists(args).await
    }

    /// Deletes the value stored for `args`: whether there was one.
    pub async fn delete(&self, args: impl Serialize) -> Result<bool, CacheError> {
        self.check()?;
        self.cache.delete(args).await
    }

    /// How long the value stored for `args` stays fresh: zero once past its logical
    /// expiry (in its grace period), `None` when there is none.
    pub async fn ttl(&self, args: impl Serialize) -> Result<Option<Duration>, CacheError> {
        let key = self.checked_key(args)?;
        let left = self.cache.pttl(&key).await?;
        Ok(left.map(|d| d.saturating_sub(self.grace)))
    }

    /// Reads the entry and claims it if stale.
    async fn lookup(
        &self,
        key: &str,
        claim: &str,
        token: &str,
        grace: u64,
        lease: u64,
    ) -> Result<Found, CacheError> {
        let (state, value): (i64, Option<Bytes>) = LOOKUP
            .prepare()
            .key(key)
            .key(claim)
            .arg(grace)
            .arg(token)
            .arg(lease)
            .invoke(&self.cache.client)
            .await
            .map_err(|e| self.cache.failed(key, "the lookup script", e))?;
        Ok(match (state, value) {
            (1, Some(v)) => Found::Fresh(v),
            (2, Some(_)) => Found::Claimed,
            (3, Some(v)) => Found::Stale(v),
            _ => Found::Missing,
        })
    }

    /// Writes `value` (if any) and gives up this caller's claim.
    async fn store(
        &self,
        key: &str,
        claim: &str,
        token: &str,
        value: Option<Bytes>,
    ) -> Result<(), CacheError> {
        let write = if value.is_some() { "1" } else { "0" };
        let _: i64 = STORE
            .prepare()
            .key(key)
            .key(claim)
            .arg(token)
            .arg(write)
            .arg(value.unwrap_or_default())
            .arg(self.entry_ms())
            .invoke(&self.cache.client)
            .await
            .map_err(|e| self.cache.failed(key, "the store script", e))?;
        Ok(())
    }

    /// The options checked, then the key of `args`.
    fn checked_key(&self, args: impl Serialize) -> Result<String, CacheError> {
        self.check()?;
        self.cache.key(args)
    }

    /// The options checked: the cache's, the name's hash tag, the grace, the lease,
    /// and the TTL and grace together.
    fn check(&self) -> Result<(), CacheError> {
        let name = self.cache.name();
        self.cache.check()?;
        if !Cache::claim_shares_slot(&format!("{name}:{{0}}")) {
            return Err(CacheError::invalid(
                name,
                "name",
                "holds an empty hash tag `{}`, which would put an entry and its claim in different cluster slots",
            ));
        }
        whole_millis(name, "grace", self.grace)?;
        whole_millis(name, "recompute_lease", self.lease)?;
        let total = self
            .cache
            .ttl
            .checked_add(self.grace)
            .unwrap_or(Duration::MAX);
        whole_millis(name, "ttl + grace", total).map(drop)
    }

    fn grace_ms(&self) -> u64 {
        self.grace.as_millis() as u64
    }

    /// The key's real expiry: the TTL and the grace.
    fn entry_ms(&self) -> u64 {
        (self.cache.ttl + self.grace).as_millis() as u64
    }
}
