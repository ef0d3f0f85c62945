//! Taking a lock: one attempt ([`Lock::try_acquire`]), attempts until a timeout
//! ([`Lock::acquire`]), and the [`Lock::locked`] query.

use super::error::LockError;
use super::guard::{release_later, LockGuard};
use super::lease::Held;
use super::options::Lock;
use super::scripts;
use crate::Client;
use std::time::Instant;

impl Lock {
    /// Takes the lock, waiting while another holds it: attempts every
    /// [`retry_interval`](Lock::retry_interval) (with jitter) until the
    /// [`timeout`](Lock::timeout), then fails with a [`LockError`] for which
    /// [`is_timeout`](LockError::is_timeout) is true. An attempt still in flight at
    /// the timeout (or when this future is dropped) is given up, and its token
    /// released in the background should it have taken the lock.
    ///
    /// A replicated lock whose acquisition is not confirmed by its replicas fails at
    /// once ([`LockError::is_not_replicated`]).
    pub async fn acquire(&self) -> Result<LockGuard, LockError> {
        self.check()?;
        let started = Instant::now();
        let deadline = self.timeout.map(|t| started + t);
        loop {
            let attempt = self.attempt();
            let taken = match deadline {
                Some(d) => tokio::time::timeout_at(d.into(), attempt)
                    .await
                    .unwrap_or(Ok(None))?,
                None => attempt.await?,
            };
            if let Some(guard) = taken {
                return Ok(guard);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(LockError::timeout(&self.name, now - started));
            }
            let wake = now + self.pause();
            let wake = deadline.map_or(wake, |d| wake.min(d));
            tokio::time::sleep_until(wake.into()).await;
        }
    }

    /// Takes the lock if no one holds it: `Ok(None)` when another does. Never waits
    /// for it (a replicated lock still waits for its replicas' acknowledgements).
    pub async fn try_acquire(&self) -> Result<Option<LockGuard>, LockError> {
        self.check()?;
        self.attempt().await
    }

    /// Whether anyone holds the lock now (its key read on the primary, even when
    /// reads go to replicas).
    pub async fn locked(&self) -> Result<bool, LockError> {
        self.check()?;
        let holder = scripts::holder(&self.client, &self.key)
            .await
            .map_err(|e| LockError::client(&self.name, "locked", e))?;
        Ok(holder.is_some())
    }

    /// One attempt with a fresh token.
    async fn attempt(&self) -> Result<Option<LockGuard>, LockError> {
        let token = format!("{:032x}", fastrand::u128(..));
        // Until the outcome is known, the token may hold the lock: if this future is
        // dropped meanwhile, it is released in the background.
        let mut pending = Pending {
            lock: self,
            token: &token,
            armed: true,
        };
        let failed = |e| LockError::client(&self.name, "acquire", e);
        let (node, sent, fence) = self.take(&token).await.map_err(failed)?;
        let Some(fence) = fence else {
            pending.armed = false;
            return Ok(None);
        };
        if let Some(replication) = &self.replication {
            if let Err(e) = replication.confirm(self, &node).await {
                let released = scripts::release(&node, &self.key, &token).await;
                pending.armed = released.is_err();
                return Err(e);
            }
        }
        pending.armed = false;
        drop(pending);
        Ok(Some(LockGuard::new(Held::new(
            self.clone(),
            token,
            fence,
            sent,
        ))))
    }

    /// Runs the acquisition script for `token`: on the client for a plain lock, on
    /// the client of the key's primary for a replicated one (whose `WAIT` must follow
    /// it on the same connection). Returns that client, when the request was sent, and
    /// the fencing token if the lock was taken.
    async fn take(&self, token: &str) -> crate::Result<(Client, Instant, Option<u64>)> {
        let lease = self.lease_ms();
        if self.replication.is_none() {
            let sent = Instant::now();
            let fence = scripts::acquire(&self.client, &self.key, &self.fence_key, token, lease);
            return Ok((self.client.clone(), sent, fence.await?));
        }
        let mut moved_once = false;
        loop {
            let node = self.client.client_for_key(&self.key).await?;
            let sent = Instant::now();
            match scripts::acquire(&node, &self.key, &self.fence_key, token, lease).await {
                Ok(fence) => return Ok((node, sent, fence)),
                // The slot moved since the slot map was read: read it again, once.
                Err(e) if !moved_once && e.server_error().is_some_and(|s| s.moved().is_some()) => {
                    moved_once = true;
                    #[cfg(feature = "cluster")]
                    if let Some(cluster) = self.client.cluster() {
                        cluster.refresh_now().await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// An attempt whose outcome is not known yet: released in the background if dropped
/// armed.
struct Pending<'a> {
    lock: &'a Lock,
    token: &'a str,
    armed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            release_later(self.lock, self.token);
        }
    }
}
