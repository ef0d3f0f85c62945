//! The health check of a subscriber's own connection: a connection that has been
//! silent for a while is asked (`PING`), and one that leaves a request unanswered as
//! long is taken for dead, so a silently broken connection (a peer gone without a
//! FIN, a dropped NAT entry) is reconnected and its subscriptions renewed instead of
//! waiting, quietly, for messages that will never come.

use super::alarm::Alarm;
use std::task::Context;
use std::time::{Duration, Instant};

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
    /// Off tokio's timer wheel (`alarm.rs`: a timer armed for a connection's whole
    /// life would cost every park of the runtime).
    timer: Alarm,
}

impl Health {
    /// A check every `every` of silence.
    pub(crate) fn new(every: Duration) -> Self {
        let since = Instant::now();
        Health {
            every,
            since,
            timer: Alarm::new(after(since, every)),
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
            if self.timer.poll(cx).is_pending() {
                return Verdict::Wait;
            }
            let deadline = after(self.since, self.every);
            if deadline > Instant::now() {
                self.timer.reset(deadline);
                continue;
            }
            if waiting {
                return Verdict::Dead;
            }
            // The silence starts again, and the timer is armed for it now: the
            // driver may not run again before it fires (a caller writes to an
            // idle connection itself, waking nobody).
            self.touch();
            self.timer.reset(after(self.since, self.every));
            let _ = self.timer.poll(cx);
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

    /// As if `by` had passed since the last sign of life, and the timer had been
    /// due now: waits for it to ring.
    async fn pass(h: &mut Health, by: Duration) {
        h.since -= by;
        h.timer.reset(Instant::now());
        crate::connection::alarm::tests::rung(&mut h.timer).await;
    }

    #[tokio::test]
    async fn silence_asks_then_an_unanswered_request_is_dead() {
        let every = Duration::from_secs(30);
        let mut h = Health::new(every);
        assert_eq!(poll(&mut h, false), Verdict::Wait);
        // The timer rings a little early: it is set again, for the rest.
        pass(&mut h, every - Duration::from_secs(1)).await;
        assert_eq!(poll(&mut h, false), Verdict::Wait);
        assert!(h.timer.deadline() > Instant::now());
        pass(&mut h, Duration::from_secs(1)).await;
        // Silent with nothing asked: a probe, and the silence starts again.
        assert_eq!(poll(&mut h, false), Verdict::Probe);
        assert_eq!(poll(&mut h, true), Verdict::Wait);
        // An answer in time keeps it alive.
        h.since -= every / 2;
        h.touch();
        pass(&mut h, every / 2).await;
        assert_eq!(poll(&mut h, true), Verdict::Wait);
        // No answer for the whole interval: dead.
        pass(&mut h, every / 2).await;
        assert_eq!(poll(&mut h, true), Verdict::Dead);
    }

    /// After a probe the timer is armed again at once, for the next interval:
    /// nothing else may wake the driver before it ends (a caller writing through
    /// the gate).
    #[tokio::test]
    async fn a_probe_arms_the_timer_for_the_next_interval() {
        let every = Duration::from_secs(30);
        let mut h = Health::new(every);
        pass(&mut h, every).await;
        let before = Instant::now();
        assert_eq!(poll(&mut h, false), Verdict::Probe);
        assert!(
            h.timer.deadline() >= before + every,
            "the timer was not armed for the next interval after the probe"
        );
        pass(&mut h, every).await;
        assert_eq!(poll(&mut h, true), Verdict::Dead);
    }

    #[test]
    fn an_interval_too_long_to_add_never_fires() {
        let mut h = Health::new(Duration::MAX);
        assert_eq!(poll(&mut h, true), Verdict::Wait);
    }
}
