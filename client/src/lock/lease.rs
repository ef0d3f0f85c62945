//! One acquisition's lease, shared by its guard, its watchdog and the futures of
//! [`LockGuard::lost`](super::LockGuard::lost): the token, the fencing token, and
//! until when the holder may count on the lease by its own clock.

use super::error::{LockError, Lost};
use super::options::Lock;
use super::scripts::{self, Extension};
use crate::race::{race, First};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What the holder knows of its lease.
#[derive(Debug, Clone, Copy)]
struct Status {
    /// The end of the lease by the holder's clock (see [`Held::confirm`]).
    valid_until: Instant,
    /// How it was lost, once it was.
    lost: Option<Lost>,
    /// Released or dropped: nothing more is reported.
    over: bool,
}

/// One acquisition.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) lock: Lock,
    pub(crate) token: String,
    pub(crate) fence: u64,
    /// When the acquisition was sent.
    pub(crate) acquired_at: Instant,
    status: watch::Sender<Status>,
}

/// The share of a lease the holder does not count on, for the drift between its
/// clock and the server's: 1 % of it plus 2 ms.
fn drift(ttl: Duration) -> Duration {
    ttl / 100 + Duration::from_millis(2)
}

impl Held {
    /// An acquisition sent at `sent`, holding for the lock's lease.
    pub(crate) fn new(lock: Lock, token: String, fence: u64, sent: Instant) -> Arc<Held> {
        let lease = lock.lease;
        Arc::new(Held {
            lock,
            token,
            fence,
            acquired_at: sent,
            status: watch::Sender::new(Status {
                valid_until: valid_until(sent, lease),
                lost: None,
                over: false,
            }),
        })
    }

    /// The end of the lease by the holder's clock.
    pub(crate) fn valid_until(&self) -> Instant {
        self.status.borrow().valid_until
    }

    /// How the lease was lost, if it was, counting a lease whose end has passed by
    /// the holder's clock (marked lost now).
    pub(crate) fn lost_now(&self) -> Option<Lost> {
        let s = *self.status.borrow();
        if s.lost.is_none() && Instant::now() >= s.valid_until {
            self.mark_lost(Lost::Expired);
        }
        self.status.borrow().lost
    }

    /// The server confirmed an expiry of `ttl_ms` set by a request sent at `sent`.
    pub(crate) fn confirm(&self, sent: Instant, ttl_ms: u64) {
        let until = valid_until(sent, Duration::from_millis(ttl_ms));
        self.status.send_if_modified(|s| {
            let later = s.lost.is_none() && until > s.valid_until;
            if later {
                s.valid_until = until;
            }
            later
        });
    }

    /// Marks the lease lost (unless it ended otherwise first) and wakes the
    /// [`until_lost`](Held::until_lost) futures.
    pub(crate) fn mark_lost(&self, how: Lost) {
        self.status.send_if_modified(|s| {
            let first = s.lost.is_none() && !s.over;
            if first {
                s.lost = Some(how);
            }
            first
        });
    }

    /// The guard was released or dropped: the lease is no longer reported on.
    pub(crate) fn end(&self) {
        self.status
            .send_if_modified(|s| !std::mem::replace(&mut s.over, true));
    }

    /// Resolves when the lease is lost while held (a refused extension, or the end
    /// of the lease by the holder's clock with no extension confirmed); never after
    /// the guard was released or dropped.
    pub(crate) async fn until_lost(self: Arc<Self>) -> LockError {
        let mut rx = self.status.subscribe();
        loop {
            let seen = *rx.borrow_and_update();
            if let Some(how) = seen.lost {
                return LockError::lost(&self.lock.name, how);
            }
            if seen.over {
                return std::future::pending().await;
            }
            // (The sender lives in `self`: `changed` cannot fail.)
            let end = tokio::time::sleep_until(seen.valid_until.into());
            if let First::B(()) = race(rx.changed(), end).await {
                self.status.send_if_modified(|s| {
                    let expired = s.lost.is_none() && !s.over && s.valid_until == seen.valid_until;
                    if expired {
                        s.lost = Some(Lost::Expired);
                    }
                    expired
                });
            }
        }
    }

    /// Changes the expiry if the lease is still ours (`op` names the operation in
    /// errors). A lease already lost is refused without sending anything; one the
    /// server no longer holds is marked lost.
    pub(crate) async fn extend(&self, op: &'static str, how: Extension) -> Result<(), LockError> {
        let name = &self.lock.name;
        if self.lost_now().is_some() {
            return Err(LockError::not_held(name, op));
        }
        let sent = Instant::now();
        match scripts::extend(&self.lock.client, &self.lock.key, &self.token, how).await {
            Ok(Some(ttl_ms)) => {
                self.confirm(sent, ttl_ms);
                Ok(())
            }
            Ok(None) => {
                self.mark_lost(Lost::Taken);
                Err(LockError::not_held(name, op))
            }
            Err(e) => Err(LockError::client(name, op, e)),
        }
    }
}

/// The end of a lease of `ttl` set by a request sent at `sent`, less the drift.
fn valid_until(sent: Instant, ttl: Duration) -> Instant {
    sent + ttl.saturating_sub(drift(ttl))
}
