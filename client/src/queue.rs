//! The bounded queue between a connection (a subscriber's demultiplexer, a
//! monitor's task) and its consumer, with its overflow policy. Used by `pubsub/`
//! and `monitor.rs`; it depends on neither.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// What a subscriber does when its consumer falls behind and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Stop reading the connection until the consumer catches up (the default): no
    /// message is lost, the server buffers what follows (up to its
    /// `client-output-buffer-limit pubsub`, past which it drops the connection, and
    /// the subscriber reconnects).
    #[default]
    Backpressure,
    /// Keep reading and drop the oldest queued message to make room; the number
    /// dropped is counted ([`Subscriber::dropped`](crate::pubsub::Subscriber::dropped)).
    DropOldest,
}

struct State<T> {
    items: VecDeque<T>,
    /// The consumer waiting for a message.
    waker: Option<Waker>,
    /// The producer waiting for room (a connection's driver, polling).
    producer: Option<Waker>,
    closed: bool,
    dropped: u64,
}

/// A bounded FIFO: one producer (the connection), one consumer.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    overflow: Overflow,
    /// Wakes the producer waiting for room.
    room: Notify,
}

impl<T> Queue<T> {
    pub(crate) fn new(capacity: usize, overflow: Overflow) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                waker: None,
                producer: None,
                closed: false,
                dropped: 0,
            }),
            capacity: capacity.max(1),
            overflow,
            room: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a message if there is room (always, under [`Overflow::DropOldest`]);
    /// gives it back when the queue is full under backpressure.
    pub(crate) fn try_push(&self, msg: T) -> Result<(), T> {
        let waker = {
            let mut s = self.lock();
            if s.closed {
                return Ok(());
            }
            if s.items.len() >= self.capacity {
                if self.overflow == Overflow::Backpressure {
                    return Err(msg);
                }
                s.items.pop_front();
                s.dropped += 1;
            }
            s.items.push_back(msg);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues a control event (`Reconnected`) even when the queue is full: it may
    /// exceed the capacity by the few events a reconnect produces.
    pub(crate) fn push_event(&self, msg: T) {
        let waker = {
            let mut s = self.lock();
            if s.closed {
                return;
            }
            s.items.push_back(msg);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Ready when a message would be taken (there is room, or the queue is closed);
    /// otherwise the producer is woken when the consumer takes one.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.lock();
        if s.closed || s.items.len() < self.capacity || self.overflow == Overflow::DropOldest {
            return Poll::Ready(());
        }
        s.producer = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Queues a message; under [`Overflow::Backpressure`] waits for room first.
    pub(crate) async fn push(&self, mut msg: T) {
        loop {
            match self.try_push(msg) {
                Ok(()) => return,
                Err(back) => msg = back,
            }
            // `notify_one` keeps a permit when nobody waits: a pop between the check
            // and this await is not missed.
            self.room.notified().await;
        }
    }

    /// The next message, or `None` once closed and drained.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.lock();
        if let Some(m) = s.items.pop_front() {
            let producer = s.producer.take();
            drop(s);
            if let Some(p) = producer {
                p.wake();
            }
            self.room.notify_one();
            return Poll::Ready(Some(m));
        }
        if s.closed {
            return Poll::Ready(None);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// No more messages will come (the task ended), or none is wanted (the
    /// subscriber was dropped): wakes both sides.
    pub(crate) fn close(&self) {
        let waker = {
            let mut s = self.lock();
            s.closed = true;
            (s.waker.take(), s.producer.take())
        };
        for w in [waker.0, waker.1].into_iter().flatten() {
            w.wake();
        }
        self.room.notify_one();
    }

    /// True once [`close`](Self::close)d.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Messages dropped by [`Overflow::DropOldest`].
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Messages waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }
}
