//! The first of two futures to finish, the other dropped: what the runtime's waits
//! on several events need (a reply or a timer, a close or a request, ...). Written
//! here instead of using `tokio::select!`, whose `macros` feature builds
//! `tokio-macros` and `syn` in every user's build (about a tenth of a clean build)
//! for this alone. More than two: nest, `race(a, race(b, c))`.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Which future of a [`race`] finished first, with its output.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum First<A, B> {
    /// The first future.
    A(A),
    /// The second future.
    B(B),
}

/// Polls `a`, then `b`, at each wake-up until one is ready (`a` wins when both
/// are, like `select!` with `biased;`), and drops the other.
pub(crate) async fn race<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(First::A(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(First::B(out));
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_first_to_finish_wins_and_the_other_is_dropped() {
        let slow = tokio::time::sleep(Duration::from_secs(2));
        let fast = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            7
        };
        assert_eq!(race(slow, fast).await, First::B(7));
        // The loser is dropped: its side effect (the send) never happens.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u8>(1);
        let loser = async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let _ = tx.send(1).await;
        };
        assert_eq!(race(std::future::ready(1), loser).await, First::A(1));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn the_first_wins_when_both_are_ready() {
        let both = race(std::future::ready('a'), std::future::ready('b')).await;
        assert_eq!(both, First::A('a'));
        let nested = race(
            std::future::pending::<()>(),
            race(std::future::ready(2), std::future::ready(3)),
        )
        .await;
        assert_eq!(nested, First::B(First::A(2)));
    }
}
