//! The request queue between a connection's handles and its driver: bounded, many
//! callers pushing, the driver taking several at one look.
//!
//! It is one lock around a `VecDeque`: a caller's push is a lock, a move and an
//! unlock, waking the driver only when it waits for a request (it does not while
//! it is busy writing and reading, which is when requests come fastest), and the
//! driver takes a batch under one lock. Callers waiting for room (a full queue
//! with [`QueueFull::Wait`](crate::config::QueueFull::Wait)) are woken when the
//! driver takes requests, through a [`Notify`] asked only while someone waits.

use super::driver::Request;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// A new queue of `capacity` requests (at least one).
pub(crate) fn channel(capacity: usize) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            driver: None,
            closed: false,
            senders: 1,
        }),
        len: AtomicUsize::new(0),
        capacity: capacity.max(1),
        room: Notify::new(),
        waiting_for_room: AtomicUsize::new(0),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct Shared {
    state: Mutex<State>,
    /// How many requests are queued (`state.items.len()`, read without the lock).
    len: AtomicUsize,
    capacity: usize,
    /// Wakes the callers waiting for room.
    room: Notify,
    /// How many callers wait for room (the driver asks `room` only when some do).
    waiting_for_room: AtomicUsize,
}

struct State {
    items: VecDeque<Request>,
    /// The driver's waker, while it waits for a request.
    driver: Option<Waker>,
    /// The driver takes no more: pushes fail.
    closed: bool,
    /// Handles alive: with none left, the driver finds the queue ended.
    senders: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Room was made (or the queue closed): callers waiting for it look again.
    fn made_room(&self) {
        if self.waiting_for_room.load(Ordering::SeqCst) > 0 {
            self.room.notify_waiters();
        }
    }
}

/// Why a request was not queued; it comes back (to be dropped outside the lock).
pub(crate) enum TrySendError {
    /// The queue is full.
    Full(Request),
    /// The driver takes no more.
    Closed(Request),
}

/// The callers' end (every [`Connection`](super::Connection) clone has one).
pub(crate) struct Sender {
    shared: Arc<Shared>,
}

impl Sender {
    /// Nothing is queued.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.shared.len.load(Ordering::Acquire) == 0
    }

    /// Queues `req` if there is room, waking the driver if it waits.
    pub(crate) fn try_send(&self, req: Request) -> Result<(), TrySendError> {
        let mut st = self.shared.lock();
        if st.closed {
            return Err(TrySendError::Closed(req));
        }
        if st.items.len() >= self.shared.capacity {
            return Err(TrySendError::Full(req));
        }
        st.items.push_back(req);
        self.shared.len.store(st.items.len(), Ordering::Release);
        let driver = st.driver.take();
        drop(st);
        if let Some(driver) = driver {
            driver.wake();
        }
        Ok(())
    }

    /// Queues `req` once there is room; false when the queue closed first (`req`
    /// is then dropped, never queued). Dropped while it waits, `req` is dropped
    /// with it, never queued.
    pub(crate) async fn send(self, mut req: Request) -> bool {
        let shared = &self.shared;
        shared.waiting_for_room.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(shared);
        loop {
            // Asked for before looking, so that room made after the look wakes it.
            let room = shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_send(req) {
                Ok(()) => return true,
                Err(TrySendError::Closed(_)) => return false,
                Err(TrySendError::Full(back)) => req = back,
            }
            room.await;
        }
    }
}

/// A caller waiting for room, counted while it waits (and when it gives up).
struct Waiting<'a>(&'a Shared);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting_for_room.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Sender {
    /// The last handle gone: the driver finds the queue ended.
    fn drop(&mut self) {
        let driver = {
            let mut st = self.shared.lock();
            st.senders -= 1;
            if st.senders == 0 {
                st.driver.take()
            } else {
                None
            }
        };
        if let Some(driver) = driver {
            driver.wake();
        }
    }
}

/// The driver's end.
pub(crate) struct Receiver {
    shared: Arc<Shared>,
}

impl Receiver {
    /// Takes up to `limit` requests into `out`: how many, or 0 once the queue is
    /// closed or every handle gone and nothing is left; pending (`cx` woken by the
    /// next push) while it is empty.
    pub(crate) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut VecDeque<Request>,
        limit: usize,
    ) -> Poll<usize> {
        let mut st = self.shared.lock();
        if st.items.is_empty() {
            if st.closed || st.senders == 0 {
                return Poll::Ready(0);
            }
            if !st.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                st.driver = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let n = limit.min(st.items.len());
        if out.is_empty() && n == st.items.len() {
            // All of them: the two queues' buffers change places (no request moved).
            std::mem::swap(out, &mut st.items);
        } else {
            out.extend(st.items.drain(..n));
        }
        self.shared.len.store(st.items.len(), Ordering::Release);
        drop(st);
        self.shared.made_room();
        Poll::Ready(n)
    }

    /// The next request; `None` once the queue is closed or every handle gone and
    /// nothing is left.
    pub(crate) async fn recv(&mut self) -> Option<Request> {
        let mut one = VecDeque::new();
        poll_fn(|cx| self.poll_recv_many(cx, &mut one, 1)).await;
        one.pop_front()
    }

    /// Takes no more: later pushes fail; what is queued is still taken.
    pub(crate) fn close(&mut self) {
        self.shared.lock().closed = true;
        self.shared.made_room();
    }
}

impl Drop for Receiver {
    /// The driver is gone: the queue closes, and what is in it is dropped (its
    /// callers find their requests failed, never written).
    fn drop(&mut self) {
        let items = {
            let mut st = self.shared.lock();
            st.closed = true;
            self.shared.len.store(0, Ordering::Release);
            std::mem::take(&mut st.items)
        };
        drop(items);
        self.shared.made_room();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandBuf;
    use crate::connection::driver::{Payload, Sink};
    use std::future::Future;
    use std::task::Waker;

    /// A request whose command is `PING <n>` (its number, to tell them apart).
    fn req(n: usize) -> Request {
        let n = n.to_string();
        Request {
            payload: Payload::One(CommandBuf::from_words(&[b"PING", n.as_bytes()]).into_wire()),
            sink: Sink::Discard,
        }
    }

    /// The number of a request made by `req`.
    fn number(r: &Request) -> usize {
        let Payload::One(wire) = &r.payload else {
            panic!("one command")
        };
        let mut out = crate::command::Encoded::default();
        wire.encode_into(&mut out);
        let bytes = out.to_vec();
        let text = String::from_utf8_lossy(&bytes);
        text.rsplit("\r\n").nth(1).unwrap().parse().unwrap()
    }

    fn take(rx: &mut Receiver, limit: usize) -> Poll<Vec<usize>> {
        let mut out = VecDeque::new();
        rx.poll_recv_many(&mut Context::from_waker(Waker::noop()), &mut out, limit)
            .map(|_| out.iter().map(number).collect())
    }

    #[test]
    fn requests_come_out_in_order_a_batch_at_a_time_and_the_queue_is_bounded() {
        let (tx, mut rx) = channel(3);
        assert!(tx.is_empty());
        assert!(take(&mut rx, 8).is_pending());
        for n in 0..3 {
            assert!(tx.try_send(req(n)).is_ok());
        }
        assert!(!tx.is_empty());
        assert!(matches!(tx.try_send(req(3)), Err(TrySendError::Full(_))));
        assert_eq!(take(&mut rx, 2), Poll::Ready(vec![0, 1]));
        assert!(tx.try_send(req(3)).is_ok());
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![2, 3]));
        assert!(tx.is_empty());
    }

    #[test]
    fn the_queue_ends_when_closed_or_when_every_handle_is_gone() {
        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        assert!(tx.try_send(req(1)).is_ok());
        rx.close();
        assert!(matches!(tx2.try_send(req(2)), Err(TrySendError::Closed(_))));
        // What was queued before is still taken, then the end.
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![1]));
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![]));

        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        drop(tx);
        assert!(take(&mut rx, 8).is_pending());
        drop(tx2);
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![]));
    }

    #[tokio::test]
    async fn the_driver_is_woken_by_a_push_and_by_the_last_handle_going() {
        let (tx, mut rx) = channel(4);
        let taker = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(r) = rx.recv().await {
                got.push(number(&r));
            }
            got
        });
        tokio::task::yield_now().await;
        for n in 0..3 {
            assert!(tx.try_send(req(n)).is_ok());
            tokio::task::yield_now().await;
        }
        drop(tx);
        assert_eq!(taker.await.unwrap(), vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn a_caller_waiting_for_room_gets_in_when_the_driver_takes() {
        let (tx, mut rx) = channel(1);
        assert!(tx.try_send(req(0)).is_ok());
        let waiting = tokio::spawn(tx.clone().send(req(1)));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![0]));
        assert!(waiting.await.unwrap(), "queued once there was room");
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![1]));

        // The queue closing ends the wait, the request not queued.
        assert!(tx.try_send(req(2)).is_ok());
        let waiting = tokio::spawn(tx.clone().send(req(3)));
        tokio::task::yield_now().await;
        drop(rx);
        assert!(!waiting.await.unwrap());
    }

    #[test]
    fn a_caller_that_gives_up_waiting_for_room_queues_nothing() {
        let (tx, mut rx) = channel(1);
        assert!(tx.try_send(req(0)).is_ok());
        let mut waiting = Box::pin(tx.clone().send(req(1)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(tx.shared.waiting_for_room.load(Ordering::SeqCst), 1);
        drop(waiting);
        assert_eq!(tx.shared.waiting_for_room.load(Ordering::SeqCst), 0);
        assert_eq!(take(&mut rx, 8), Poll::Ready(vec![0]));
        assert!(take(&mut rx, 8).is_pending());
    }
}
