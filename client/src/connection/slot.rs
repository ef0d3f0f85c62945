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
//!
//! Every request the driver reads the reply of has a slot (a caller reading its
//! own reply through the gate has none, unless the reading goes back to the
//! driver: `gate.rs`), so slots are kept for reuse: the end that lets go of
//! a slot last (most often the caller, once it has its reply) keeps it for the
//! next request made on its thread, instead of freeing it (a request then costs
//! no allocation for its slot, and no `free` into another thread's heap).

use bytes::Bytes;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Slots of one reply type a thread keeps for reuse, at most.
const KEPT: usize = 32;

/// A reply type whose slots each thread keeps for reuse, in a pool of the type's
/// own (a slot taken from it needs no check of its type).
pub(crate) trait Kept: Send + Sized + 'static {
    /// Runs `f` on this thread's pool of this type's slots (not at all while the
    /// thread exits).
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Arc<Shared<Self>>>) -> R) -> Option<R>;
}

/// [`Kept`] for each reply type a slot carries.
macro_rules! kept {
    ($($t:ty),*) => {$(
        impl Kept for $t {
            fn with_pool<R>(f: impl FnOnce(&mut Vec<Arc<Shared<Self>>>) -> R) -> Option<R> {
                thread_local! {
                    static POOL: RefCell<Vec<Arc<Shared<$t>>>> = const { RefCell::new(Vec::new()) };
                }
                POOL.try_with(|pool| f(&mut pool.borrow_mut())).ok()
            }
        }
    )*};
}

kept!(crate::Result<Bytes>, crate::Result<Vec<Bytes>>);

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

/// A slot, shared by its two ends.
pub(crate) struct Shared<T>(Mutex<Inner<T>>);

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Inner<T> {
    const NEW: Self = Inner {
        stage: Stage::Queued,
        value: None,
        waker: None,
    };
}

/// A new slot: the driver's end and the caller's end.
#[inline]
pub(crate) fn slot<T: Kept>() -> (SlotSender<T>, SlotReceiver<T>) {
    let shared = reuse().unwrap_or_else(|| Arc::new(Shared(Mutex::new(Inner::NEW))));
    (
        SlotSender {
            shared: shared.clone(),
            done: false,
        },
        SlotReceiver {
            shared: Some(shared),
            keep: keep::<T>,
            finished: false,
        },
    )
}

/// A slot kept by this thread, if it has one of this type (as new).
fn reuse<T: Kept>() -> Option<Arc<Shared<T>>> {
    T::with_pool(Vec::pop).flatten()
}

/// Keeps `shared` for the next request of this thread, when no one else holds it
/// (else it is only let go of).
fn keep<T: Kept>(mut shared: Arc<Shared<T>>) {
    let Some(slot) = Arc::get_mut(&mut shared) else {
        return;
    };
    *slot.0.get_mut().unwrap_or_else(|e| e.into_inner()) = Inner::NEW;
    T::with_pool(|pool| {
        if pool.len() < KEPT {
            pool.push(shared);
        }
    });
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
    /// Taken only when it is dropped.
    shared: Option<Arc<Shared<T>>>,
    /// Keeps the slot for reuse ([`keep`], for this `T`).
    keep: fn(Arc<Shared<T>>),
    /// It saw the slot finished (a final state): dropping it takes no lock.
    finished: bool,
}

impl<T> SlotReceiver<T> {
    /// The reply, or `None` when the driver dropped the request unanswered.
    #[inline]
    pub(crate) fn poll_reply(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // (The slot is taken from this end only when it is dropped.)
        let Some(shared) = &self.shared else {
            return Poll::Ready(None);
        };
        let mut inner = shared.lock();
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

    /// Stops waiting. Decides, under the slot's lock, whether the request will be
    /// written.
    pub(crate) fn give_up(&mut self) -> GiveUp<T> {
        let Some(shared) = &self.shared else {
            return GiveUp::Finished(None);
        };
        let mut inner = shared.lock();
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
    /// A dropped caller gives up: a request not yet taken is never written. The
    /// slot is kept for reuse when the driver has let go of it too.
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // A finished slot: nothing can change it, and the driver took the waker.
        if !self.finished {
            let mut inner = shared.lock();
            match inner.stage {
                Stage::Queued | Stage::Taken => inner.stage = Stage::Abandoned,
                Stage::Abandoned | Stage::Finished => {}
            }
            inner.waker = None;
        }
        (self.keep)(shared);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    // The reply types these tests send through slots.
    kept!(i32, ());

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
    fn finished_slots_are_reused_as_new() {
        let (tx, mut rx) = slot::<i32>();
        let first = Arc::as_ptr(rx.shared.as_ref().unwrap());
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        assert!(rx
            .poll_reply(&mut Context::from_waker(&Waker::from(woken.clone())))
            .is_pending());
        assert!(tx.take());
        tx.send(1);
        assert_eq!(poll(&mut rx), Poll::Ready(Some(1)));
        drop(rx);
        let (tx, mut rx) = slot::<i32>();
        assert_eq!(
            Arc::as_ptr(rx.shared.as_ref().unwrap()),
            first,
            "not reused"
        );
        // As new: queued, empty, no waker of the last request.
        assert!(poll(&mut rx).is_pending());
        assert!(tx.take());
        tx.send(2);
        assert_eq!(poll(&mut rx), Poll::Ready(Some(2)));
        assert_eq!(
            woken.0.load(Ordering::SeqCst),
            1,
            "the old waker was woken again"
        );
        drop(rx);
        // Given up while the driver holds it: not kept (the driver may still
        // write to it).
        let (tx, rx) = slot::<i32>();
        let held = Arc::as_ptr(rx.shared.as_ref().unwrap());
        drop(rx);
        let (_tx2, rx2) = slot::<i32>();
        assert_ne!(Arc::as_ptr(rx2.shared.as_ref().unwrap()), held);
        assert!(!tx.take(), "a given-up request must not be written");
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
