//! [`Lock`]: a named lock and its options (lease, blocking timeout, retry interval
//! and jitter, watchdog, replica confirmation), checked before anything is sent.

use super::error::LockError;
use super::replicas::Replication;
use crate::Client;
use bytes::Bytes;
use respec_protocol::cluster::slot::hash_tag;
use std::time::Duration;

/// The default lease: 30 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// The default blocking timeout of [`Lock::acquire`]: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default pause between two attempts of a blocking acquisition: 50 ms.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_millis(50);
/// The default jitter of that pause: ±50 %.
pub const DEFAULT_JITTER: f64 = 0.5;

/// A named lock of a [`Client`] (from [`Client::lock`]) and how to take it; acquire it
/// with [`acquire`](Lock::acquire) or [`try_acquire`](Lock::try_acquire), which give a
/// [`LockGuard`](super::LockGuard). Cheap to clone; one `Lock` serves any number of
/// acquisitions, by any number of tasks.
///
/// The options are checked when the lock is used: a bad one is a
/// [`LockError`] for which [`is_invalid_argument`](LockError::is_invalid_argument) is
/// true, naming the option, before anything is sent.
#[derive(Debug, Clone)]
#[must_use = "a lock does nothing until acquired"]
pub struct Lock {
    pub(crate) client: Client,
    pub(crate) name: String,
    pub(crate) key: Bytes,
    pub(crate) fence_key: Bytes,
    pub(crate) lease: Duration,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry_interval: Duration,
    pub(crate) jitter: f64,
    pub(crate) watchdog: bool,
    pub(crate) replication: Option<Replication>,
}

impl Client {
    /// A distributed lock named `name`, held as a key of this client's server (a
    /// single server, a cluster, a sentinel-managed primary alike): see [`crate::lock`].
    ///
    /// Its key is `name` when the name holds a hash tag (`orders:{42}`), else
    /// `{name}`; its fencing counter is the key followed by `:fence`, in the same slot.
    pub fn lock(&self, name: impl Into<String>) -> Lock {
        let name = name.into();
        let key = if hash_tag(name.as_bytes()).len() < name.len() {
            name.clone()
        } else {
            format!("{{{name}}}")
        };
        Lock {
            client: self.clone(),
            fence_key: Bytes::from(format!("{key}:fence")),
            key: Bytes::from(key),
            name,
            lease: DEFAULT_LEASE,
            timeout: Some(DEFAULT_TIMEOUT),
            retry_interval: DEFAULT_RETRY_INTERVAL,
            jitter: DEFAULT_JITTER,
            watchdog: false,
            replication: None,
        }
    }
}

impl Lock {
    /// How long an acquisition holds the lock unless extended (default 30 s): the
    /// key's expiry. At least 1 ms, in whole milliseconds.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long [`acquire`](Lock::acquire) waits for a lock another holds (default
    /// 10 s); `None` waits as long as it takes. [`try_acquire`](Lock::try_acquire)
    /// never waits.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The pause between two attempts of a blocking acquisition (default 50 ms),
    /// more than zero; each pause is changed at random by up to
    /// [`jitter`](Lock::jitter) of it, so waiters do not retry in step.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// The share of the retry interval by which each pause varies at random, from 0
    /// (none) to 1 (a pause anywhere from zero to twice the interval); default 0.5.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Whether a task extends the lease while the guard lives (default off): every
    /// third of the lease it resets the expiry to a full lease, and it reports a lost
    /// lease through [`LockGuard::lost`](super::LockGuard::lost). See [`crate::lock`],
    /// The watchdog.
    pub fn watchdog(mut self, on: bool) -> Self {
        self.watchdog = on;
        self
    }

    /// Makes it a replicated lock (coredis's `ClusterLock`): an acquisition on the
    /// primary counts only once `quorum` of its replicas have acknowledged it
    /// (`WAIT`) within `wait`, else it is released and fails with
    /// [`LockError::is_not_replicated`]. See [`crate::lock`], The replicated lock.
    pub fn replicated(mut self, quorum: super::Quorum, wait: Duration) -> Self {
        self.replication = Some(Replication { quorum, wait });
        self
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key holding the holder's token.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The key of the fencing counter (same slot as [`key`](Lock::key)).
    pub fn fence_key(&self) -> &[u8] {
        &self.fence_key
    }

    /// The lease in milliseconds, once the options are checked.
    pub(crate) fn lease_ms(&self) -> u64 {
        self.lease.as_millis() as u64
    }

    /// The first invalid option, as the error a lock operation returns before
    /// sending anything.
    pub(crate) fn check(&self) -> Result<(), LockError> {
        let bad = |arg, problem: &str| Err(LockError::invalid(&self.name, arg, problem));
        if self.name.is_empty() {
            return bad("name", "is empty");
        }
        whole_millis(&self.name, "lease", self.lease)?;
        if self.retry_interval.is_zero() {
            return bad(
                "retry_interval",
                "is zero (a blocking acquisition would retry in a busy loop)",
            );
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad("jitter", "must be between 0 and 1");
        }
        if self.watchdog && self.lease < Duration::from_millis(3) {
            return bad(
                "lease",
                "is shorter than 3 ms, too short for a watchdog extending it every third",
            );
        }
        if let Some(r) = &self.replication {
            whole_millis(&self.name, "wait", r.wait)?;
        }
        Ok(())
    }

    /// The pause before the next attempt: the retry interval, give or take the jitter.
    pub(crate) fn pause(&self) -> Duration {
        let spread = self.jitter * (2.0 * fastrand::f64() - 1.0);
        self.retry_interval.mul_f64(1.0 + spread)
    }
}

/// Checks that `d` is a positive whole number of milliseconds the server can count.
pub(crate) fn whole_millis(name: &str, arg: &'static str, d: Duration) -> Result<(), LockError> {
    crate::config::whole_millis(d)
        .map(drop)
        .map_err(|problem| LockError::invalid(name, arg, problem))
}
