//! [`GroupConsumer::run`]: a handler called for each entry, the entry acknowledged
//! when it returns `Ok` and left pending when it returns `Err`.

use super::consumer::GroupConsumer;
use super::entry::Entry;
use super::error::StreamError;
use super::group::BoxError;
use crate::race::{race, First};
use std::future::Future;
use std::time::Duration;

/// The first pause after a transient error; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest pause after a transient error.
const RETRY_MAX: Duration = Duration::from_secs(2);

impl GroupConsumer {
    /// Calls `handler` for each entry, one at a time, and acknowledges the entries
    /// it accepted (`Ok`) in one `XACK` after each batch (at most
    /// [`count`](super::GroupBuilder::count) entries); an entry it refused (`Err`,
    /// logged as a warning) stays pending, to be claimed again once it has been idle
    /// for the claim time (by this consumer or another), until the dead-letter limit
    /// sends it to the dead-letter callback.
    ///
    /// Runs until a read or an acknowledgement fails for good (a `NOGROUP`, a
    /// `WRONGTYPE`), which it returns; after a transient failure (a lost connection,
    /// a failover: [`StreamError::is_transient`]) it waits (50 ms, doubling up to
    /// 2 s) and reads again. Stop it by dropping its future (`tokio::select!`, an
    /// aborted task): the entries of the batch in hand stay pending, and are
    /// handled again after a claim (delivery is at least once), or use
    /// [`run_until`](GroupConsumer::run_until).
    pub async fn run<F, Fut, E>(self, handler: F) -> Result<(), StreamError>
    where
        F: FnMut(Entry) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Into<BoxError>,
    {
        self.run_until(std::future::pending(), handler).await
    }

    /// [`run`](GroupConsumer::run) until `stop` resolves: a read waiting for
    /// entries is given up at once (an entry the server handed out meanwhile stays
    /// pending, for a claim), a batch in hand is finished and acknowledged first;
    /// then it returns `Ok`. For a shutdown that hands nothing to another consumer
    /// twice.
    pub async fn run_until<F, Fut, E>(
        mut self,
        stop: impl Future<Output = ()>,
        mut handler: F,
    ) -> Result<(), StreamError>
    where
        F: FnMut(Entry) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Into<BoxError>,
    {
        let mut stop = std::pin::pin!(stop);
        let mut pause = RETRY_FIRST;
        loop {
            let next = match race(&mut stop, self.next_batch()).await {
                First::A(()) => return Ok(()),
                First::B(next) => next,
            };
            let batch = match next {
                Ok(batch) => batch,
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, cause = ?e.client_error(), "reading again after {pause:?}");
                    if let First::A(()) = race(&mut stop, tokio::time::sleep(pause)).await {
                        return Ok(());
                    }
                    pause = (pause * 2).min(RETRY_MAX);
                    continue;
                }
                Err(e) => return Err(e),
            };
            pause = RETRY_FIRST;
            let mut done = Vec::with_capacity(batch.len());
            for entry in batch {
                let id = entry.id.clone();
                let deliveries = entry.deliveries;
                match handler(entry).await {
                    Ok(()) => done.push(id),
                    Err(e) => {
                        let e: BoxError = e.into();
                        tracing::warn!(
                            consumer = %self.group.label,
                            id = %String::from_utf8_lossy(&id),
                            deliveries,
                            error = %e,
                            "the handler failed: the entry stays pending"
                        );
                    }
                }
            }
            match self.group.ack(&done).await {
                Ok(_) => {}
                // Left pending: claimed and handled again later.
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, cause = ?e.client_error(), "acknowledgement failed")
                }
                Err(e) => return Err(e),
            }
        }
    }
}
