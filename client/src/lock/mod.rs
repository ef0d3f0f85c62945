//! Distributed locks with leases, fencing tokens, a watchdog and a replicated
//! variant: [`Client::lock`](crate::Client::lock) names a [`Lock`]; acquiring it
//! gives a [`LockGuard`].
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> Result<(), respec::lock::LockError> {
//! use std::time::Duration;
//! let lock = client
//!     .lock("invoices:{42}")
//!     .lease(Duration::from_secs(10))
//!     .timeout(Some(Duration::from_secs(5)))
//!     .watchdog(true);
//! let guard = lock.acquire().await?; // waits up to 5 s
//! let fence = guard.fence();          // give it to the resource with each write
//! tokio::select! {
//!     lost = guard.lost() => return Err(lost), // the lease was lost: stop
//!     _ = async { /* the work, writing with `fence` */ } => {}
//! }
//! guard.release().await?;
//! # let _ = fence; Ok(()) }
//! ```
//!
//! # When to use one
//!
//! A lock makes tasks, possibly in different processes, take turns at something
//! that cannot be made atomic on the server: a call to another service, a file, a
//! computation whose result is written back. When the whole change can run on the
//! server, a script ([`crate::script`]), a function, a `MULTI`/`EXEC` transaction
//! or a `WATCH` retry loop ([`Client::transaction`](crate::Client::transaction)) is
//! simpler and needs no lease. A lock here is **a lease**: it holds for a chosen
//! time unless extended, so a holder that dies does not block everyone forever, and
//! a holder that is only slow can lose it while it still works. Code that must never
//! act after losing the lock needs the fencing token (below).
//!
//! # How it works
//!
//! The lock is one key. An acquisition sets it to a random token (128 bits) with
//! the lease as its expiry, only if it does not exist (`SET NX PX`), and in the same
//! script increments the lock's fencing counter and returns it: the acquisition and
//! its fencing token are one atomic step. [`release`](LockGuard::release),
//! [`extend`](LockGuard::extend) and [`reacquire`](LockGuard::reacquire) are scripts
//! that first check the key still holds the guard's token, so a holder whose lease
//! ended can never delete or prolong the lock of the next holder: it gets a
//! [`LockError`] for which [`is_not_held`](LockError::is_not_held) is true. The
//! scripts run by digest ([`Script`](crate::script::Script), loaded again after
//! `NOSCRIPT`).
//!
//! The key is the lock's name when the name holds a hash tag (`jobs:{nightly}`),
//! else the name in braces (`{nightly}`); the fencing counter is the key followed
//! by `:fence`. Both share the hash tag, so both are in one slot on a cluster, and
//! one script can touch both. The counter has no expiry: delete it (or flush the
//! database) and tokens start over at 1.
//!
//! The same code works on one server, a cluster and a sentinel-managed primary:
//! the lock is a key like any other, on the primary serving its slot.
//!
//! # Options
//!
//! | option | default | meaning |
//! |---|---|---|
//! | [`lease`](Lock::lease) | 30 s | the key's expiry: how long an acquisition lasts unless extended |
//! | [`timeout`](Lock::timeout) | 10 s | how long [`acquire`](Lock::acquire) waits for a lock another holds (`None`: forever) |
//! | [`retry_interval`](Lock::retry_interval) | 50 ms | the pause between two attempts of a waiting `acquire` |
//! | [`jitter`](Lock::jitter) | 0.5 | each pause varies at random by up to this share, so waiters spread out |
//! | [`watchdog`](Lock::watchdog) | off | extend the lease every third of it while the guard lives |
//! | [`replicated`](Lock::replicated) | off | confirm each acquisition on the primary's replicas (`WAIT`) |
//!
//! They are checked before anything is sent: a zero lease, a lease or wait with a
//! fraction of a millisecond, a zero retry interval, a jitter outside 0 to 1, an
//! empty name, a watchdog on a lease under 3 ms are each a [`LockError`] for which
//! [`is_invalid_argument`](LockError::is_invalid_argument) is true, naming the option.
//!
//! [`try_acquire`](Lock::try_acquire) makes one attempt (`Ok(None)` when the lock is
//! held); [`acquire`](Lock::acquire) attempts until its timeout
//! ([`LockError::is_timeout`]). Waiting is polling: a released lock is taken by the
//! first waiter whose pause ends, not in the order they came. [`locked`](Lock::locked)
//! says whether anyone holds the lock, [`LockGuard::owned`] whether this guard still
//! does (both ask the server).
//!
//! # The guard
//!
//! A [`LockGuard`] carries the acquisition's fencing token ([`fence`](LockGuard::fence)),
//! its random token, and the end of its lease by this process's clock
//! ([`valid_until`](LockGuard::valid_until): the confirmed expiry counted from when its
//! request was *sent*, less 1 % and 2 ms for clock drift, so never later than the
//! server's). [`release`](LockGuard::release) gives it back and says whether it was
//! still ours.
//!
//! **Dropping a guard** without releasing it stops its watchdog and, if a Tokio
//! runtime is current, spawns the release (the same token check; its outcome goes
//! to a debug log only, and a runtime that is shutting down may never run it).
//! Dropped where there is no runtime (a plain thread), it sends nothing, and the lock
//! stays taken until its lease expires. An [`acquire`](Lock::acquire) given up while
//! its attempt is in flight (its timeout, or its future dropped) likewise releases
//! that attempt's token in the background, in case it took the lock.
//!
//! # The watchdog and lost leases
//!
//! With [`watchdog(true)`](Lock::watchdog), a task resets the lease to its full
//! length every third of it ([`reacquire`](LockGuard::reacquire)) for as long as the
//! guard lives, so the lease only bounds how long a *dead* holder blocks the others.
//! [`LockGuard::lost`] is a future that resolves when the lease is lost while held:
//!
//! - an extension is refused because the key no longer holds the token (it was
//!   deleted, or expired and was taken, or the server lost it in a failover): with
//!   the watchdog this is noticed at its next extension, **within a third of the
//!   lease** (plus one round trip) of the loss;
//! - or the lease ends by the holder's clock with no extension confirmed (the
//!   server cannot be reached, a frozen server, no watchdog): reported at
//!   [`valid_until`](LockGuard::valid_until), before the server's own expiry.
//!
//! A failed extension (a lost connection) is tried again a few times within what
//! is left of the lease. Race the work against `guard.lost()` (`tokio::select!`) to
//! stop when the lock is gone; [`is_lost`](LockGuard::is_lost) asks without waiting.
//! Once lost, the guard's `extend`, `reacquire` are refused without sending anything.
//!
//! # Fencing tokens
//!
//! A lease can end while its holder still works: a long pause (a stop-the-world
//! collection, a swapped-out process, a frozen VM, a network partition) longer than
//! what is left of the lease, after which the holder resumes and writes, believing
//! it still holds the lock, while the next holder writes too. No lock service can
//! prevent that by itself; the resource can. Every acquisition returns a
//! **fencing token** ([`LockGuard::fence`]), a number that grows with every
//! acquisition of the lock (by anyone: `INCR` of the lock's counter, in the same
//! script as the acquisition). Send it with each write to the protected resource,
//! and have the resource remember the largest it has seen and refuse a write with a
//! smaller one: the holder that woke up late is refused instead of corrupting what
//! its successor wrote. On Redis itself, a script can do that check
//! atomically with the write (the resource's keys sharing the lock's hash tag can
//! even read the counter directly).
//!
//! # The replicated lock
//!
//! Redis replication is asynchronous: a primary can acknowledge the acquisition and
//! fail before any replica got it; the replica promoted in its place has no lock key,
//! and a second holder can take the lock while the first still has it.
//! [`replicated(quorum, wait)`](Lock::replicated) (after coredis's `ClusterLock`)
//! narrows that window: after taking the lock on the key's primary, it runs
//! `WAIT numreplicas timeout` on the same connection and counts the acquisition only
//! when [`Quorum::Majority`] (more than half of the primary's replicas) or
//! [`Quorum::AtLeast`] `n` replicas acknowledged it within `wait`; otherwise it
//! releases the lock and fails with [`LockError::is_not_replicated`]. On a cluster,
//! the majority counts every replica the slot map lists for the key's shard, down or
//! not, so a shard whose replicas are down refuses the lock. On one server or behind
//! sentinels, `Majority` counts the replicas connected now; give the number with
//! `AtLeast` there. Release, extension and the watchdog are unchanged (an extension
//! that a failover loses is reported as a lost lease).
//!
//! # Caveats (the Redlock debate)
//!
//! Martin Kleppmann's critique of Redlock and Salvatore Sanfilippo's answer bound
//! what any Redis lock, this one included, can promise:
//!
//! - **Clocks.** Expiry is measured by the server's clock and the lease's end by the
//!   holder's monotonic clock. The holder's margin (1 % + 2 ms) covers ordinary
//!   drift, not a server clock that jumps forward (an operator, a bad NTP step):
//!   that ends leases early. Keep leases well above the pauses and round trips you
//!   expect.
//! - **Failover.** Even the replicated lock only makes the loss less likely: `WAIT`
//!   does not make the write durable on the replicas (they may not have fsynced it),
//!   and a failover may promote a replica that did not acknowledge it; persistence
//!   settings and restarts (a primary restarted without the key, before its lease
//!   ended) lose locks the same way. With the watchdog, such a loss is reported
//!   within a third of the lease, but work already under way continues until the
//!   holder checks.
//! - **Pauses.** A holder paused past its lease cannot notice before it resumes; a
//!   timer cannot fire in a frozen process. Hence fencing tokens: the lock gives
//!   efficiency (work is rarely done twice); **correctness needs the resource to
//!   check the fencing token**.
//! - **Redlock itself** (a majority of independent servers) is not provided: it
//!   assumes bounded clock drift and bounded pauses too, and still needs fencing for
//!   correctness.

mod acquire;
mod error;
mod guard;
mod lease;
mod options;
mod replicas;
mod scripts;
mod watchdog;

pub use error::LockError;
pub use guard::LockGuard;
pub use options::{Lock, DEFAULT_JITTER, DEFAULT_LEASE, DEFAULT_RETRY_INTERVAL, DEFAULT_TIMEOUT};
pub use replicas::Quorum;
