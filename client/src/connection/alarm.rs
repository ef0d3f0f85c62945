//! [`Alarm`]: a one-shot timer kept off tokio's timer wheel, for the connection's
//! health check and liveness rule, which are armed for a connection's whole life.
//!
//! While any timer is in tokio's wheel, every park of the runtime's driver reads
//! the clock to compute its timeout, and every unpark processes the wheel. With one
//! task doing requests one after the other, that is a park per round trip: about
//! 170 instructions each, a twentieth of the round trip (measured by the bench's
//! `instructions`, sequential row, with and without `liveness_timeout=none`).
//!
//! An alarm goes instead to one thread of the process, the watchdog, which sleeps
//! until the earliest alarm is due and wakes that alarm's task; the runtime parks
//! without a timeout. The health check sets its alarm again only when it fires (at
//! most once per interval), so the watchdog wakes rarely and its lock is cold.
//!
//! An alarm keeps real time (`std::time::Instant`): tokio's paused clock does not
//! move it.

use std::cmp::Ordering as Order;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A one-shot timer, woken by the watchdog thread (see the module's docs).
pub(crate) struct Alarm {
    bell: Arc<Bell>,
    at: Instant,
}

/// What an alarm and the watchdog share: whether it rang, and whom to wake.
struct Bell {
    rang: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Bell {
    fn ring(&self) {
        self.rang.store(true, Ordering::Release);
        let waker = lock(&self.waker).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Alarm {
    /// An alarm due at `at`.
    pub(crate) fn new(at: Instant) -> Self {
        let bell = Arc::new(Bell {
            rang: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        watchdog().add(at, &bell);
        Alarm { bell, at }
    }

    /// Sets it again, to ring at `at` (and not at the time it was set for).
    pub(crate) fn reset(&mut self, at: Instant) {
        if at == self.at && !self.bell.rang.load(Ordering::Acquire) {
            return;
        }
        // The watchdog holds the old bell weakly: dropped here, it rings nobody.
        *self = Alarm::new(at);
    }

    /// Ready once it has rung; otherwise `cx` is woken when it does.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.bell.rang.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        {
            let mut waker = lock(&self.bell.waker);
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
        }
        // It may have rung before the waker was in place (it then found none).
        if self.bell.rang.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// When it is due.
    #[cfg(test)]
    pub(crate) fn deadline(&self) -> Instant {
        self.at
    }
}

/// The watchdog: the alarms not yet rung, the earliest first.
struct Watchdog {
    due: Mutex<Due>,
    /// Wakes the thread when an alarm due earlier than all others is added.
    news: Condvar,
}

#[derive(Default)]
struct Due {
    alarms: BinaryHeap<Entry>,
    /// Alarms held after the last clean-up (see [`Watchdog::add`]).
    after_cleanup: usize,
}

/// An alarm in the watchdog's heap; ordered so that the earliest is on top.
struct Entry {
    at: Instant,
    bell: Weak<Bell>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Order {
        other.at.cmp(&self.at)
    }
}

/// Alarms the heap holds before dropped ones are cleaned up, at least.
const CLEANUP_AT: usize = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held; a poisoned lock is still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The watchdog, its thread started on first use.
fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let started = std::thread::Builder::new()
            .name("respec-watchdog".into())
            .spawn(|| watchdog().run());
        if let Err(err) = started {
            tracing::error!(
                %err,
                "respec could not start its watchdog thread: health checks and the liveness rule will never fire"
            );
        }
        Watchdog {
            due: Mutex::new(Due::default()),
            news: Condvar::new(),
        }
    })
}

impl Watchdog {
    fn add(&self, at: Instant, bell: &Arc<Bell>) {
        let mut due = lock(&self.due);
        // Alarms set again or dropped before they were due stay in the heap until
        // then: when they have come to outnumber the live ones, they go.
        if due.alarms.len() >= CLEANUP_AT.max(2 * due.after_cleanup) {
            due.alarms.retain(|e| e.bell.strong_count() > 0);
            due.after_cleanup = due.alarms.len();
        }
        let earliest = due.alarms.peek().is_none_or(|e| at < e.at);
        due.alarms.push(Entry {
            at,
            bell: Arc::downgrade(bell),
        });
        drop(due);
        if earliest {
            self.news.notify_one();
        }
    }

    /// The thread: rings each alarm when it is due, for ever.
    fn run(&self) {
        let mut ringing = Vec::new();
        let mut due = lock(&self.due);
        loop {
            let now = Instant::now();
            while due.alarms.peek().is_some_and(|e| e.at <= now) {
                if let Some(bell) = due.alarms.pop().and_then(|e| e.bell.upgrade()) {
                    ringing.push(bell);
                }
            }
            if !ringing.is_empty() {
                // Rung outside the lock: a waker does what its executor does.
                drop(due);
                ringing.drain(..).for_each(|bell| bell.ring());
                due = lock(&self.due);
                continue;
            }
            due = match due.alarms.peek().map(|e| e.at - now) {
                Some(wait) => {
                    self.news
                        .wait_timeout(due, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.news.wait(due).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::future::poll_fn;
    use std::time::Duration;

    /// Waits for `alarm` to ring (failing after 10 s: it never will).
    pub(crate) async fn rung(alarm: &mut Alarm) {
        tokio::time::timeout(Duration::from_secs(10), poll_fn(|cx| alarm.poll(cx)))
            .await
            .expect("the alarm did not ring");
    }

    /// Counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn an_alarm_rings_once_due_and_wakes_its_task() {
        let start = Instant::now();
        let mut alarm = Alarm::new(start + Duration::from_millis(30));
        let count = Arc::new(Count(0.into()));
        let waker = Waker::from(count.clone());
        assert!(alarm.poll(&mut Context::from_waker(&waker)).is_pending());
        // An earlier alarm, awaited: the first has not rung yet.
        let mut earlier = Alarm::new(start + Duration::from_millis(5));
        rung(&mut earlier).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
        rung(&mut alarm).await;
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "woke the replaced waker");
    }

    #[tokio::test]
    async fn a_reset_alarm_rings_at_its_new_time_only() {
        let start = Instant::now();
        let mut alarm = Alarm::new(start + Duration::from_millis(5));
        alarm.reset(start + Duration::from_secs(3600));
        assert_eq!(alarm.deadline(), start + Duration::from_secs(3600));
        let count = Arc::new(Count(0.into()));
        let waker = Waker::from(count.clone());
        assert!(alarm.poll(&mut Context::from_waker(&waker)).is_pending());
        // Well past the old time: not rung, nobody woken.
        let mut later = Alarm::new(start + Duration::from_millis(40));
        rung(&mut later).await;
        assert!(alarm.poll(&mut Context::from_waker(&waker)).is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        // Set again to now: it rings.
        alarm.reset(Instant::now());
        rung(&mut alarm).await;
    }

    #[test]
    fn dropped_alarms_are_cleaned_up() {
        let far = Instant::now() + Duration::from_secs(3600);
        let kept: Vec<Alarm> = (0..10).map(|_| Alarm::new(far)).collect();
        for _ in 0..4 * CLEANUP_AT {
            drop(Alarm::new(far));
        }
        let held = lock(&watchdog().due).alarms.len();
        // Other tests' alarms may be there too, but not thousands of dropped ones.
        assert!(
            held < 2 * CLEANUP_AT + kept.len() + 64,
            "{held} alarms held"
        );
    }
}
