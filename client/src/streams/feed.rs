//! [`Feed`]: what the reader and the group consumer share to be a `Stream`: a
//! buffer of fetched entries and the one fetch in flight, which owns the consumer's
//! read state while it runs (so a `next()` given up keeps its place).

use super::entry::Entry;
use super::error::StreamError;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One fetch: it takes the read state and gives it back with what it read.
pub(super) type Fetch<S> =
    Pin<Box<dyn Future<Output = (S, Result<Vec<Entry>, StreamError>)> + Send>>;

/// Entries fetched and not yet handed out, and the fetch of the next ones.
pub(super) struct Feed<S> {
    /// The read state, when no fetch holds it.
    state: Option<S>,
    busy: Option<Fetch<S>>,
    buffered: VecDeque<Entry>,
}

impl<S> Feed<S> {
    pub(super) fn new(state: S) -> Self {
        Feed {
            state: Some(state),
            busy: None,
            buffered: VecDeque::new(),
        }
    }

    /// Entries fetched and not yet handed out.
    pub(super) fn buffered(&self) -> usize {
        self.buffered.len()
    }

    /// The read state, when no fetch is in flight.
    pub(super) fn state(&self) -> Option<&S> {
        self.state.as_ref()
    }

    /// The next entry, starting a fetch with `fetch` when none is buffered.
    pub(super) fn poll_entry(
        &mut self,
        cx: &mut Context<'_>,
        fetch: impl FnOnce(S) -> Fetch<S>,
    ) -> Poll<Result<Entry, StreamError>> {
        if let Some(e) = self.buffered.pop_front() {
            return Poll::Ready(Ok(e));
        }
        match self.poll_batch(cx, fetch) {
            Poll::Ready(Ok(batch)) => {
                self.buffered.extend(batch);
                match self.buffered.pop_front() {
                    Some(e) => Poll::Ready(Ok(e)),
                    // A fetch gives at least one entry; if not, ask again.
                    None => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                }
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Every buffered entry, or the next fetch's.
    pub(super) fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        fetch: impl FnOnce(S) -> Fetch<S>,
    ) -> Poll<Result<Vec<Entry>, StreamError>> {
        if !self.buffered.is_empty() {
            return Poll::Ready(Ok(self.buffered.drain(..).collect()));
        }
        if let Some(state) = self.state.take() {
            self.busy = Some(fetch(state));
        }
        // One of the two is always there: the state, or the fetch holding it.
        let Some(fut) = &mut self.busy else {
            return Poll::Pending;
        };
        match fut.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((state, result)) => {
                self.busy = None;
                self.state = Some(state);
                Poll::Ready(result)
            }
        }
    }
}
