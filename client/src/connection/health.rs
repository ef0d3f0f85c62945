//! The health check of a subscriber's own connection: a connection that has been
//! silent for a while is asked (`PING`), and one that leaves a request unanswered as
//! long is taken for dead, so a silently broken connection (a peer gone without a
//! FIN, a dropped NAT entry) is reconnected and its subscriptions renewed instead of
//! waiting, quietly, for messages that will never come.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// What the check wants the driver to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing yet (the timer is armed).
    Wait,
    /// Silent for the interval with nothing asked: send a `PING`.
    Probe,
    /// A request went unanswered for the interval: the connection is dead.
    Dead,
}

/// The timer of one connection's health check.
pub(crate) struct Health {
    every: Duration,
    /// The last sign of life: a frame read, or a request sent to an idle connection.
    since: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Health {
    /// A check every `every` of silence.
    pub(crate) fn new(every: Duration) -> Self {
        let since = Instant::now();
        Health {
            every,
            since,
            timer: Box::pin(tokio::time::sleep_until(after(since, every))),
        }
    }

    /// The interval.
    pub(crate) fn every(&self) -> Duration {
        self.every
    }

    /// A sign of life: the silence starts again from now.
    pub(crate) fn touch(&mut self) {
        self.since = Instant::now();
    }

    /// A sign of life at `at` (a request written to an idle connection then), unless
    /// a later one is known.
    pub(crate) fn touch_at(&mut self, at: Instant) {
        if at > self.since {
            self.since = at;
        }
    }

    /// Polls the timer. `waiting` tells whether a request awaits its reply: the
    /// silence then means the server does not answer, otherwise only that nothing
    /// happened.
    ///
    /// The timer is re-armed lazily: a sign of life only moves `since`, and when the
    /// timer fires before the silence is long enough it is set again then, so a busy
    /// connection touches the timer wheel once per interval, not once per read.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, waiting: bool) -> Verdict {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Verdict::Wait;
            }
            let deadline = after(self.since, self.every);
            if deadline > Instant::now() {
                self.timer.as_mut().reset(deadline);
                continue;
            }
            if waiting {
                return Verdict::Dead;
            }
            // The silence starts again, and the timer is armed for it now: the
            // driver may not run again before it fires (a caller writes to an
            // idle connection itself, waking nobody).
            self.touch();
            self.timer.as_mut().reset(after(self.since, self.every));
            let _ = self.timer.as_mut().poll(cx);
            return Verdict::Probe;
        }
    }
}

/// `since + every`, or a time too far ahead to matter when that overflows (a
/// `Duration::MAX` interval).
fn after(since: Instant, every: Duration) -> Instant {
    since
        .checked_add(every)
        .unwrap_or_else(|| since + Duration::from_secs(100 * 365 * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll(h: &mut Health, waiting: bool) -> Verdict {
        h.poll(&mut Context::from_waker(Waker::noop()), waiting)
    }

    #[tokio::test(start_paused = true)]
    async fn silence_asks_then_an_unanswered_request_is_dead() {
        let every = Duration::from_secs(30);
        let mut h = Health::new(every);
        assert_eq!(poll(&mut h, false), Verdict::Wait);
        tokio::time::advance(every - Duration::from_millis(1)).await;
        assert_eq!(poll(&mut h, false), Verdict::Wait);
        tokio::time::advance(Duration::from_millis(1)).await;
        // Silent with nothing asked: a probe, and the silence starts again.
        assert_eq!(poll(&mut h, false), Verdict::Probe);
        assert_eq!(poll(&mut h, true), Verdict::Wait);
        // An answer in time keeps it alive.
        tokio::time::advance(every / 2).await;
        h.touch();
        tokio::time::advance(every / 2).await;
        assert_eq!(poll(&mut h, true), Verdict::Wait);
        // No answer for the whole interval: dead.
        tokio::time::advance(every / 2).await;
        assert_eq!(poll(&mut h, true), Verdict::Dead);
    }

    /// After a probe the timer is armed again at once: nothing else may wake the
    /// driver before the next interval ends (a caller writing through the gate).
    #[tokio::test(start_paused = true)]
    async fn a_probe_arms_the_timer_for_the_next_interval() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        struct Flag(AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let every = Duration::from_secs(30);
        let mut h = Health::new(every);
        tokio::time::advance(every).await;
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(h.poll(&mut cx, false), Verdict::Probe);
        tokio::time::advance(every).await;
        assert!(
            flag.0.load(Ordering::SeqCst),
            "the timer was not armed after the probe"
        );
        assert_eq!(poll(&mut h, true), Verdict::Dead);
    }

    #[tokio::test(start_paused = true)]
    async fn an_interval_too_long_to_add_never_fires() {
        let mut h = Health::new(Duration::MAX);
        tokio::time::advance(Duration::from_secs(1 << 30)).await;
        assert_eq!(poll(&mut h, true), Verdict::Wait);
    }
}
