//! Waiting for a topology (a cluster, a sentinel group) to reach a state: polling a
//! check with a short backoff, bounded by a timeout, never a fixed sleep.

use crate::error::HarnessError;
use std::thread;
use std::time::{Duration, Instant};

/// The first and the longest pause between two polls of a wait.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(5), Duration::from_millis(50));

/// Why a poll has not succeeded.
pub(crate) enum Pending {
    /// Not yet: what was seen instead.
    Wait(String),
    /// Never: give up at once.
    Fatal(HarnessError),
}

impl From<String> for Pending {
    fn from(reason: String) -> Self {
        Pending::Wait(reason)
    }
}

impl From<HarnessError> for Pending {
    fn from(err: HarnessError) -> Self {
        Pending::Fatal(err)
    }
}

/// Polls `check` until it succeeds or fails for good ([`Pending::Fatal`]), or until
/// `timeout` has passed: then the error, made by `error`, names `what` and the last
/// reason `check` gave.
pub(crate) fn until<T, E: Into<Pending>>(
    timeout: Duration,
    what: &str,
    error: fn(String) -> HarnessError,
    mut check: impl FnMut() -> Result<T, E>,
) -> Result<T, HarnessError> {
    let started = Instant::now();
    let (mut backoff, longest) = BACKOFF;
    loop {
        let reason = match check().map_err(Into::into) {
            Ok(value) => return Ok(value),
            Err(Pending::Fatal(err)) => return Err(err),
            Err(Pending::Wait(reason)) => reason,
        };
        if started.elapsed() >= timeout {
            return Err(error(format!(
                "waited {:?} for: {what}; last seen: {reason}",
                started.elapsed()
            )));
        }
        thread::sleep(backoff);
        backoff = (backoff * 2).min(longest);
    }
}
