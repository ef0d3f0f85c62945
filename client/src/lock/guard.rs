//! [`LockGuard`]: a held lock, its fencing token, and what happens when it is
//! released, extended, lost or dropped.

use super::error::LockError;
use super::lease::Held;
use super::options::whole_millis;
use super::scripts::{self, Extension};
use super::watchdog;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;

/// A held lock (from [`Lock::acquire`](super::Lock::acquire) or
/// [`Lock::try_acquire`](super::Lock::try_acquire)).
///
/// Give it back with [`release`](LockGuard::release), which says whether it was
/// still ours. **On drop** (a guard cannot await), the guard stops its watchdog and,
/// when it is dropped inside a Tokio runtime, spawns the release on that runtime (the
/// same token check as `release`; its outcome is not reported, and a runtime shutting
/// down may never run it); dropped outside any runtime (a plain thread, after the
/// runtime is gone), it sends nothing and the lock stays taken until its lease
/// expires. Either way, no one else can take the lock while the key still holds this
/// guard's token, and the lease bounds how long that lasts.
#[derive(Debug)]
#[must_use = "a lock is released when its guard is dropped"]
pub struct LockGuard {
    held: Arc<Held>,
    watchdog: Option<AbortHandle>,
    /// Released (or its release sent): nothing to do on drop.
    done: bool,
}

impl LockGuard {
    /// A guard of `held`, with its watchdog running if the lock asks for one.
    pub(crate) fn new(held: Arc<Held>) -> LockGuard {
        let watchdog = held.lock.watchdog.then(|| watchdog::spawn(held.clone()));
        LockGuard {
            held,
            watchdog,
            done: false,
        }
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.held.lock.name
    }

    /// The fencing token of this acquisition: a number that grows with every
    /// acquisition of the lock (by anyone), so that a resource given it with each
    /// write can refuse a smaller one, from a holder whose lease ended unnoticed.
    /// See [`crate::lock`], Fencing tokens.
    pub fn fence(&self) -> u64 {
        self.held.fence
    }

    /// The random token the lock's key holds while this guard has it.
    pub fn token(&self) -> &str {
        &self.held.token
    }

    /// The end of the lease by this process's clock: the expiry last confirmed by the
    /// server, counted from when its request was sent, less a margin for clock drift
    /// (1 % of the lease and 2 ms).
    pub fn valid_until(&self) -> Instant {
        self.held.valid_until()
    }

    /// Whether the lease is known to be lost: an extension was refused, or
    /// [`valid_until`](LockGuard::valid_until) has passed. Sends nothing.
    pub fn is_lost(&self) -> bool {
        self.held.lost_now().is_some()
    }

    /// A future that resolves, with a [`LockError`] for which
    /// [`is_lost`](LockError::is_lost) is true, when the lease is lost while the guard
    /// is held: when [`valid_until`](LockGuard::valid_until) passes with no extension
    /// confirmed, or when an extension (the watchdog's, or an explicit one) is
    /// refused because the key no longer holds this guard's token. With the
    /// watchdog, a lease taken away (the key deleted, or expired on a server that
    /// lost it) is reported at its next extension, within a third of the lease (and
    /// one round trip). It never resolves once the guard is released or dropped.
    /// Independent of the guard's lifetime: it can be moved to another task.
    pub fn lost(&self) -> impl Future<Output = LockError> + Send + 'static {
        self.held.clone().until_lost()
    }

    /// Asks the server whether the lock's key still holds this guard's token (a
    /// `GET` in a script, so on the primary even when reads go to replicas); a lease
    /// found not ours is marked lost.
    pub async fn owned(&self) -> Result<bool, LockError> {
        let lock = &self.held.lock;
        let value = scripts::holder(&lock.client, &lock.key)
            .await
            .map_err(|e| LockError::client(&lock.name, "owned", e))?;
        let owned = value.is_some_and(|v| v == self.held.token.as_bytes());
        if !owned {
            self.held.mark_lost(super::error::Lost::Taken);
        }
        Ok(owned)
    }

    /// Adds `by` (whole milliseconds, at least 1) to what is left of the lease, if
    /// the lock is still ours (an atomic check of the token); a lock no longer ours is
    /// a [`LockError`] for which [`is_not_held`](LockError::is_not_held) is true.
    pub async fn extend(&self, by: Duration) -> Result<(), LockError> {
        whole_millis(self.name(), "extend", by)?;
        self.held
            .extend("extend", Extension::Add(by.as_millis() as u64))
            .await
    }

    /// Resets the lease to its full length from now, if the lock is still ours (what
    /// the watchdog does); otherwise as [`extend`](LockGuard::extend).
    pub async fn reacquire(&self) -> Result<(), LockError> {
        let lease = self.held.lock.lease_ms();
        self.held.extend("reacquire", Extension::Reset(lease)).await
    }

    /// Releases the lock if it is still ours (an atomic check of the token, then
    /// `DEL`): `Ok` when it was, a [`LockError`] for which
    /// [`is_not_held`](LockError::is_not_held) is true when its lease had expired or
    /// another holder has it. On a client error, the lock stays taken until its
    /// lease expires.
    pub async fn release(mut self) -> Result<(), LockError> {
        self.stop();
        let lock = &self.held.lock;
        let released = scripts::release(&lock.client, &lock.key, &self.held.token).await;
        // (A release cancelled before here is sent again by `drop`.)
        self.done = true;
        match released {
            Ok(true) => Ok(()),
            Ok(false) => Err(LockError::not_held(&lock.name, "release")),
            Err(e) => Err(LockError::client(&lock.name, "release", e)),
        }
    }

    /// Stops the watchdog and the reports of a lost lease.
    fn stop(&mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.abort();
        }
        self.held.end();
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.stop();
        if self.done {
            return;
        }
        release_later(&self.held.lock, &self.held.token);
    }
}

/// Releases `token`'s hold on `lock` on a spawned task when there is a Tokio runtime
/// to spawn it on (its outcome is logged at debug level only); without one, sends
/// nothing: the lease expires.
pub(crate) fn release_later(lock: &super::Lock, token: &str) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!(lock = %lock.name, "a lock left outside a Tokio runtime: its lease will expire");
        return;
    };
    let (lock, token) = (lock.clone(), token.to_owned());
    runtime.spawn(async move {
        if let Err(e) = scripts::release(&lock.client, &lock.key, &token).await {
            tracing::debug!(lock = %lock.name, error = %e, "a background release failed: the lease will expire");
        }
    });
}
