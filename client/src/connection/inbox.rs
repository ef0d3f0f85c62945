//! The receiving end of a queue that a task drains on every wake-up, made cheap to
//! look at: once it answered `Pending` (the task's waker is registered with it),
//! it is looked at without registering the waker again until a message or the
//! queue's end comes. A registration lasts until a sender wakes it, and a sender
//! wakes it only after its message is in the queue, so "empty and still open"
//! then means nothing came; looking is a few loads instead of a waker
//! registration and the runtime's cooperative budget. A `Pending` given because the
//! task's cooperative budget ran out registers nothing, so it does not arm.

use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A tokio queue's receiving end, as [`Inbox`] needs it.
pub(crate) trait Receive {
    /// What the queue carries.
    type Item;
    /// The next message, registering the waker when there is none.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>>;
    /// No message is waiting (an answer that does not register the waker).
    fn is_empty(&self) -> bool;
    /// Every sender is gone, or the queue was closed.
    fn is_closed(&self) -> bool;
}

impl<T> Receive for mpsc::Receiver<T> {
    type Item = T;
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        mpsc::Receiver::poll_recv(self, cx)
    }
    fn is_empty(&self) -> bool {
        mpsc::Receiver::is_empty(self)
    }
    fn is_closed(&self) -> bool {
        mpsc::Receiver::is_closed(self)
    }
}

impl<T> Receive for mpsc::UnboundedReceiver<T> {
    type Item = T;
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        mpsc::UnboundedReceiver::poll_recv(self, cx)
    }
    fn is_empty(&self) -> bool {
        mpsc::UnboundedReceiver::is_empty(self)
    }
    fn is_closed(&self) -> bool {
        mpsc::UnboundedReceiver::is_closed(self)
    }
}

/// A queue's receiving end that remembers whether its waker is registered.
pub(crate) struct Inbox<R> {
    rx: R,
    /// The last poll answered `Pending`: the waker is registered, and stays so
    /// until a message or the end of the queue wakes it.
    armed: bool,
}

impl<R: Receive> Inbox<R> {
    /// Not armed: the first look registers the waker.
    pub(crate) fn new(rx: R) -> Self {
        Inbox { rx, armed: false }
    }

    /// The next message, as [`Receive::poll_recv`], for the one task that owns it.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<R::Item>> {
        if self.armed && self.rx.is_empty() && !self.rx.is_closed() {
            return Poll::Pending;
        }
        let polled = self.rx.poll_recv(cx);
        // A `Pending` for want of the task's cooperative budget (tokio's coop: the
        // task is woken to run again later) registers nothing: not armed then.
        self.armed = polled.is_pending() && tokio::task::coop::has_budget_remaining();
        polled
    }

    /// The queue itself, for a wait that polls it otherwise (its waker then may
    /// be another): the next look registers again.
    pub(crate) fn get_mut(&mut self) -> &mut R {
        self.armed = false;
        &mut self.rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task drains its inbox until it answers `Pending`, once with as many
    /// messages as its cooperative budget allows (the exact budget is tokio's: every
    /// count around it is tried). The message sent after it went idle still wakes
    /// it: a `Pending` for want of budget must not count as a registered waker.
    #[test]
    fn a_message_after_the_budget_ran_out_still_wakes_the_task() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            for k in 100..=160u32 {
                let (tx, rx) = mpsc::unbounded_channel::<u32>();
                for i in 0..k {
                    tx.send(i).unwrap();
                }
                let mut inbox = Inbox::new(rx);
                let task = tokio::spawn(async move {
                    let mut got = 0;
                    std::future::poll_fn(|cx| loop {
                        match inbox.poll_recv(cx) {
                            Poll::Ready(Some(_)) => {
                                got += 1;
                                if got == k + 1 {
                                    return Poll::Ready(());
                                }
                            }
                            Poll::Ready(None) => panic!("closed"),
                            Poll::Pending => return Poll::Pending,
                        }
                    })
                    .await;
                });
                // On this one thread, the task runs (and drains the k) while this
                // one yields.
                for _ in 0..16 {
                    tokio::task::yield_now().await;
                }
                tx.send(k).unwrap();
                tokio::time::timeout(std::time::Duration::from_secs(5), task)
                    .await
                    .unwrap_or_else(|_| panic!("with {k} queued, the last message woke nothing"))
                    .unwrap();
            }
        });
    }
}
