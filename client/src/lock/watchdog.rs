//! The watchdog: a task that extends a held lease every third of it while the guard
//! lives, and marks the lease lost as soon as an extension is refused or the lease
//! ends by the holder's clock with none confirmed.

use super::error::Lost;
use super::lease::Held;
use super::scripts::Extension;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;

/// Starts the watchdog of `held`; the guard aborts it when released or dropped.
pub(crate) fn spawn(held: Arc<Held>) -> AbortHandle {
    tokio::spawn(run(held)).abort_handle()
}

async fn run(held: Arc<Held>) {
    let lease = held.lock.lease;
    let period = lease / 3;
    let mut next = held.acquired_at + period;
    loop {
        tokio::time::sleep_until(next.into()).await;
        // Each extension is bounded by the lease it tries to save: past its end the
        // lease is lost, whatever the reply would say.
        let deadline = held.valid_until();
        let sent = Instant::now();
        let reset = Extension::Reset(held.lock.lease_ms());
        match tokio::time::timeout_at(deadline.into(), held.extend("extend", reset)).await {
            Ok(Ok(())) => next = sent + period,
            // Refused: `extend` marked the lease lost.
            Ok(Err(e)) if e.is_not_held() => return,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "the watchdog's extension failed; trying again");
                // Try again soon, within what is left of the lease.
                next = Instant::now() + (period / 4).max(Duration::from_millis(1));
            }
            Err(_) => return held.mark_lost(Lost::Expired),
        }
    }
}
