//! The one-shot slot a request's reply comes back in. Unlike a plain one-shot
//! channel it also records whether the driver has taken the request for writing, so
//! that a caller who gives up (a timeout, a dropped future) knows which of two things
//! is true, and the driver acts on it:
//!
//! - given up **before** the driver took it: the request is never written, so it
//!   never runs;
//! - given up **after**: it was (or is being) written and may have run; its reply is
//!   read and dropped, and the connection stays in step.
//!
//! The decision is made under one lock, so the caller and the driver can never both
//! believe they won the race.

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting in the queue to the driver.
    Queued,
    /// Taken by the driver for writing.
    Taken,
    /// The caller gave up; whatever comes is dropped.
    Abandoned,
    /// The driver delivered the reply, or dropped the request unanswered.
    Finished,
}

struct Inner<T> {
    stage: Stage,
    value: Option<T>,
    waker: Option<Waker>,
}

struct Shared<T>(Mutex<Inner<T>>);

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A new slot: the driver's end and the caller's end.
pub(crate) fn slot<T>() -> (SlotSender<T>, SlotReceiver<T>) {
    let shared = Arc::new(Shared(Mutex::new(Inner {
        stage: Stage::Queued,
        value: None,
        waker: None,
    })));
    (
        SlotSender {
            shared: shared.clone(),
            done: false,
        },
        SlotReceiver {
            shared,
            finished: false,
        },
    )
}

/// The driver's end.
pub(crate) struct SlotSender<T> {
    shared: Arc<Shared<T>>,
    /// Already finished (by `send`): dropping it takes no lock.
    done: bool,
}

impl<T> SlotSender<T> {
    /// The driver takes the request for writing. False when the caller gave up
    /// first: the request must then not be written.
    pub(crate) fn take(&self) -> bool {
        let mut inner = self.shared.lock();
        match inner.stage {
            Stage::Queued => {
                inner.stage = Stage::Taken;
                true
            }
            Stage::Abandoned => false,
            Stage::Taken | Stage::Finished => true,
        }
    }

    /// Delivers the reply (dropped when the caller has gone).
    pub(crate) fn send(mut self, value: T) {
        self.finish(Some(value), true);
    }

    /// Lets go of the request without a lock: its caller read the reply itself
    /// and has it already (`gate.rs`), so neither end looks at the slot again
    /// (the caller's end is told so by [`SlotReceiver::handed`]).
    pub(crate) fn handed(mut self) {
        self.done = true;
    }

    fn finish(&mut self, value: Option<T>, wake: bool) {
        self.done = true;
        let waker = {
            let mut inner = self.shared.lock();
            if inner.stage == Stage::Finished {
                return;
            }
            if inner.stage != Stage::Abandoned {
                inner.value = value;
            }
            inner.stage = Stage::Finished;
            inner.waker.take()
        };
        if let (Some(w), true) = (waker, wake) {
            w.wake();
        }
    }
}

impl<T> Drop for SlotSender<T> {
    /// Dropped unanswered (the driver stopped): the caller sees the slot closed.
    fn drop(&mut self) {
        if !self.done {
            self.finish(None, true);
        }
    }
}

/// What the caller learns when it gives up.
#[derive(Debug)]
pub(crate) enum GiveUp<T> {
    /// The driver had not taken the request: it will never be written.
    NotSent,
    /// The driver had taken it: it may have run.
    Sent,
    /// The reply (or the closing) arrived first: here it is.
    Finished(Option<T>),
}

/// The caller's end.
pub(crate) struct SlotReceiver<T> {
    shared: Arc<Shared<T>>,
    /// It saw the slot finished (a final state): dropping it takes no lock.
    finished: bool,
}

impl<T> SlotReceiver<T> {
    /// The reply, or `None` when the driver dropped the request unanswered.
    pub(crate) fn poll_reply(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut inner = self.shared.lock();
        if inner.stage == Stage::Finished {
            self.finished = true;
            return Poll::Ready(inner.value.take());
        }
        match &inner.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => inner.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The caller has its reply from the sender's hands ([`SlotSender::handed`]):
    /// dropping this end takes no lock either.
    pub(crate) fn handed(&mut self) {
        self.finished = true;
    }

    /// Stops waiting. Decides, under the slot's lock, whether the request will be
    /// written.
    pub(crate) fn give_up(&mut self) -> GiveUp<T> {
        let mut inner = self.shared.lock();
        match inner.stage {
            Stage::Queued => {
                inner.stage = Stage::Abandoned;
                GiveUp::NotSent
            }
            Stage::Taken => {
                inner.stage = Stage::Abandoned;
                GiveUp::Sent
            }
            Stage::Abandoned => GiveUp::Sent,
            Stage::Finished => {
                self.finished = true;
                GiveUp::Finished(inner.value.take())
            }
        }
    }
}

impl<T> Drop for SlotReceiver<T> {
    /// A dropped caller gives up: a request not yet taken is never written.
    fn drop(&mut self) {
        if self.finished {
            // Nothing can change a finished slot, and the driver took the waker.
            return;
        }
        let mut inner = self.shared.lock();
        match inner.stage {
            Stage::Queued | Stage::Taken => inner.stage = Stage::Abandoned,
            Stage::Abandoned | Stage::Finished => {}
        }
        inner.waker = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<T>(rx: &mut SlotReceiver<T>) -> Poll<Option<T>> {
        rx.poll_reply(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_reply_reaches_the_caller() {
        let (tx, mut rx) = slot();
        assert!(poll(&mut rx).is_pending());
        assert!(tx.take());
        tx.send(7);
        assert_eq!(poll(&mut rx), Poll::Ready(Some(7)));
    }

    #[test]
    fn given_up_before_it_is_taken_it_is_never_written() {
        let (tx, mut rx) = slot::<i32>();
        assert!(matches!(rx.give_up(), GiveUp::NotSent));
        assert!(!tx.take(), "the driver must skip it");
    }

    #[test]
    fn dropped_before_it_is_taken_it_is_never_written() {
        let (tx, rx) = slot::<i32>();
        drop(rx);
        assert!(!tx.take());
    }

    #[test]
    fn given_up_after_it_is_taken_it_may_have_run() {
        let (tx, mut rx) = slot();
        assert!(tx.take());
        assert!(matches!(rx.give_up(), GiveUp::Sent));
        // The reply still comes, and is dropped.
        tx.send(1);
        assert!(matches!(rx.give_up(), GiveUp::Finished(None)));
    }

    #[test]
    fn a_reply_that_won_the_race_is_kept() {
        let (tx, mut rx) = slot();
        assert!(tx.take());
        tx.send(3);
        assert!(matches!(rx.give_up(), GiveUp::Finished(Some(3))));
    }

    #[test]
    fn a_dropped_sender_closes_the_slot() {
        let (tx, mut rx) = slot::<i32>();
        assert!(tx.take());
        drop(tx);
        assert_eq!(poll(&mut rx), Poll::Ready(None));
    }

    #[test]
    fn a_reply_handed_over_wakes_nobody_and_frees_the_slot() {
        let (tx, mut rx) = slot::<i32>();
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        assert!(rx.poll_reply(&mut Context::from_waker(&waker)).is_pending());
        assert!(tx.take());
        let shared = Arc::downgrade(&rx.shared);
        tx.handed();
        rx.handed();
        drop(rx);
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        assert!(shared.upgrade().is_none(), "the slot outlived both ends");
    }

    #[test]
    fn the_waker_is_woken_on_delivery() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let (tx, mut rx) = slot();
        assert!(rx.poll_reply(&mut Context::from_waker(&waker)).is_pending());
        tx.send(());
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
