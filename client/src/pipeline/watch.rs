//! Optimistic locking: `WATCH` on a dedicated connection, reads in immediate mode,
//! then a `MULTI`/`EXEC` transaction that runs only if no watched key changed.
//!
//! The helper retries on conflict, like redis-py's and coredis's `transaction`:
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::{cmd, Commands};
//! let n: i64 = client
//!     .transaction(["counter"], |tx| async move {
//!         // Immediate mode: the reply is here now.
//!         let n: Option<i64> = tx.get("counter").decode().await?;
//!         let n = n.unwrap_or(0) + 1;
//!         // Queued: runs only if `counter` did not change since WATCH.
//!         tx.multi().add(cmd::set("counter", n)).execute().await?;
//!         Ok(n)
//!     })
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Or step by step with [`Client::watch`]: the [`Watched`] connection goes back to the
//! pool, unwatched, when its last clone is dropped.

use super::{DynPipeline, Pipeline, Target};
use crate::client::Client;
use crate::command::route::{self, Decision, On};
use crate::command::{Executor, Request, ToArg};
use crate::connection::{Connection, LongestArg, ResponseFuture};
use crate::error::{Error, Result};
use crate::pool::Pooled;
use crate::reply::FromReply;
use bytes::Bytes;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A dedicated connection from the pool on which keys are watched.
///
/// Commands called on it ([`Commands`](crate::Commands)) run at once, on this
/// connection only: read what the transaction depends on, then queue the writes with
/// [`multi`](Watched::multi). `WATCH` adds keys and `UNWATCH` forgets them; `MULTI`,
/// `EXEC` and `DISCARD` are not sent one by one (the pipeline of `multi` sends them).
///
/// Cheap to clone; the connection returns to the pool when the last clone is
/// dropped, with `UNWATCH` queued if keys are still watched, or closed if a command
/// is still in flight (a cancelled task). If the connection is lost, it is not
/// re-established: every later command fails, so watched keys are never silently
/// forgotten.
#[derive(Clone)]
pub struct Watched {
    inner: Arc<Inner>,
}

struct Inner {
    pooled: Pooled,
    /// On a cluster: the slot of the keys first watched, whose node this connection
    /// is one of; commands with keys of another slot are refused.
    slot: Option<u16>,
    conn: Connection,
    request_timeout: Option<std::time::Duration>,
    watching: AtomicBool,
    /// A command changed the connection's state (see [`Pooled::tainted`]).
    tainted: AtomicBool,
    /// Requests sent whose replies have not arrived.
    in_flight: AtomicUsize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.pooled.busy = *self.in_flight.get_mut() > 0;
        self.pooled.watching = *self.watching.get_mut();
        self.pooled.tainted = *self.tainted.get_mut();
    }
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("watching", &self.inner.watching.load(Ordering::Relaxed))
            .field("connection", &self.inner.conn)
            .finish()
    }
}

/// Counts a request as in flight until its reply arrives (not when it is dropped).
struct InFlight(Arc<Inner>);

impl InFlight {
    fn new(inner: &Arc<Inner>) -> Self {
        inner.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(inner.clone())
    }

    fn done(self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Watched {
    /// Starts a `MULTI`/`EXEC` transaction on this connection: queue commands with
    /// `.add(cmd)`, then `.execute().await`. When a watched key changed, nothing runs
    /// and the error's [`is_watch_conflict`](Error::is_watch_conflict) is true. Either
    /// way the keys are unwatched afterwards.
    pub fn multi(&self) -> Pipeline<'_, ()> {
        Pipeline::new(Target::Watched(self)).transaction()
    }

    /// Like [`multi`](Self::multi), for any number of commands of any types (replies
    /// as [`Value`](crate::Value)s).
    pub fn multi_dyn(&self) -> DynPipeline<'_> {
        let mut p = DynPipeline::new(Target::Watched(self));
        p.transaction();
        p
    }

    /// Forgets every watched key (`UNWATCH`).
    pub async fn unwatch(&self) -> Result<()> {
        self.send(crate::raw_cmd("UNWATCH").decode::<()>()).await
    }

    /// True while keys are watched.
    pub fn is_watching(&self) -> bool {
        self.inner.watching.load(Ordering::Acquire)
    }

    /// On a cluster, the slot this connection is bound to: the one of the keys first
    /// watched.
    pub(super) fn slot(&self) -> Option<u16> {
        self.inner.slot
    }

    /// Records that a command changed the connection's state: it is closed, not
    /// pooled, when released.
    pub(super) fn taint(&self) {
        self.inner.tainted.store(true, Ordering::Release);
    }

    /// Records that `EXEC` was sent: the server unwatched everything.
    pub(super) fn exec_done(&self) {
        self.inner.watching.store(false, Ordering::Release);
    }

    /// Sends `n` encoded commands in one write; returns their reply frames.
    pub(super) async fn send_frames(
        &self,
        cmds: crate::command::Encoded,
        n: usize,
        longest: Option<LongestArg>,
    ) -> Result<Vec<Bytes>> {
        let guard = InFlight::new(&self.inner);
        let frames = self
            .inner
            .conn
            .send_many(cmds, n, longest)
            .within(self.inner.request_timeout)
            .await
            .map_err(|e| e.with_command("pipeline"));
        guard.done();
        frames
    }
}

impl Executor for &Watched {
    type Future<T: FromReply + Send + 'static> = ResponseFuture<T>;

    fn execute<T: FromReply + Send + 'static>(self, request: Request) -> ResponseFuture<T> {
        let name = request.name();
        if let Some(p) = request.buf.problem() {
            return ResponseFuture::failed(name, Error::invalid_argument(p.arg, p.problem));
        }
        if let Err(e) = refuse_other_slot(self.inner.slot, &request.buf, request.meta) {
            return ResponseFuture::failed(name, e);
        }
        let mut waits = false;
        match route::decide(request.meta, request.buf.len(), On::Own) {
            Decision::Send { waits: w } => waits = w,
            Decision::Taint => self.taint(),
            Decision::Watching { watch, .. } => self.inner.watching.store(watch, Ordering::Release),
            // Already a dedicated connection: it runs here.
            Decision::Dedicated => waits = true,
            Decision::Refuse(instead) => {
                return ResponseFuture::failed(name, Error::refused(instead))
            }
        }
        let guard = InFlight::new(&self.inner);
        let reply = self.inner.conn.send(request.buf);
        let timeout = self.inner.request_timeout.filter(|_| !waits);
        ResponseFuture::boxed(
            name,
            Box::pin(async move {
                let r = reply.within(timeout).await;
                guard.done();
                r
            }),
        )
    }
}

impl crate::reply::ReplyMode for &Watched {
    type Out<T: crate::reply::TextReply> = T;
}

impl crate::Commands for Watched {
    type Out<T: crate::reply::TextReply> = T;
    type Exec<'a> = &'a Watched;

    fn executor(&self) -> &Watched {
        self
    }
}

/// Refuses, before anything is sent, a command with a key outside `bound` (the slot
/// a watched connection of a cluster is bound to: its node serves that slot, and a
/// transaction runs on one node), as `client.watch` refuses keys in several slots.
pub(super) fn refuse_other_slot(
    bound: Option<u16>,
    buf: &crate::command::CommandBuf,
    meta: Option<&'static crate::command::CommandMeta>,
) -> Result<()> {
    let Some(bound) = bound else {
        return Ok(());
    };
    let args: Vec<&[u8]> = buf.iter().collect();
    let Some(meta) = meta.or_else(|| crate::command::meta::lookup_args(&args)) else {
        return Ok(());
    };
    let Some((key, slot)) = meta
        .key_indices(&args)
        .into_iter()
        .map(|i| (args[i], respec_protocol::cluster::slot(args[i])))
        .find(|&(_, s)| s != bound)
    else {
        return Ok(());
    };
    Err(Error::cross_slot(format!(
        "`{}` hashes to slot {slot}, but this watched connection is bound to slot {bound} (the keys first watched), and a transaction runs on one node; give the keys a common hash tag (`{{user1}}:a`, `{{user1}}:b`). Nothing was sent",
        String::from_utf8_lossy(key)
    )))
}

/// How many times [`Client::transaction`] runs its function by default before giving
/// up on conflicts.
pub const DEFAULT_MAX_ATTEMPTS: usize = 64;

/// The future of [`Client::transaction`]; set the retry limit with
/// [`max_attempts`](Transaction::max_attempts), then await it.
#[must_use = "a transaction does nothing until awaited"]
pub struct Transaction<'c, F> {
    client: &'c Client,
    keys: Vec<Bytes>,
    f: F,
    max_attempts: usize,
}

impl<F> std::fmt::Debug for Transaction<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("keys", &self.keys)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl<F> Transaction<'_, F> {
    /// Runs the function at most `n` times (at least once); after that the last
    /// conflict is returned. Default [`DEFAULT_MAX_ATTEMPTS`].
    pub fn max_attempts(mut self, n: usize) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

impl<'c, F, Fut, T> IntoFuture for Transaction<'c, F>
where
    F: FnMut(Watched) -> Fut + Send + 'c,
    Fut: Future<Output = Result<T>> + Send + 'c,
    T: Send + 'c,
{
    type Output = Result<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut attempt = 1;
            loop {
                let watched = self.client.watch(&self.keys).await?;
                match (self.f)(watched).await {
                    Err(e) if e.is_watch_conflict() && attempt < self.max_attempts => {
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        })
    }
}

impl Client {
    /// Takes a dedicated connection from the pool and `WATCH`es `keys` on it.
    ///
    /// On a cluster client the keys must share one slot (a hash tag): the connection
    /// is one of the node serving it, and the transaction runs there. It stays bound
    /// to that slot: a command on it (a later `WATCH` too, or one queued in
    /// [`multi`](Watched::multi)) with a key of another slot is refused before it is
    /// sent ([`Error::is_cross_slot`]).
    ///
    /// Read with the commands of the returned [`Watched`], then queue the writes with
    /// [`Watched::multi`]; they run only if no watched key changed in between.
    pub async fn watch<K: ToArg>(&self, keys: impl IntoIterator<Item = K>) -> Result<Watched> {
        // Built from its words (as the runtime's other own commands): the runtime
        // compiles against any command tree.
        let keys: Vec<Bytes> = keys.into_iter().map(crate::command::arg_bytes).collect();
        if keys.is_empty() {
            return Err(
                Error::invalid_argument("key", "needs at least one value").with_command("WATCH")
            );
        }
        let watch = crate::raw_cmd("WATCH").args(&keys).decode::<()>();
        let (pool, slot) = match self.cluster() {
            // On a cluster: a dedicated connection of the node serving the keys' one
            // slot (keys in several slots are refused before anything is sent), bound
            // to that slot.
            Some(cluster) => cluster.pool_for(&watch).await?,
            None => (self.pool().clone(), None),
        };
        let pooled = pool.get().await?;
        let watched = Watched {
            inner: Arc::new(Inner {
                conn: pooled.conn().clone(),
                pooled,
                slot,
                request_timeout: self.config().request_timeout,
                watching: AtomicBool::new(false),
                tainted: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
            }),
        };
        watched.send(watch).await?;
        Ok(watched)
    }

    /// Runs `f` with keys watched, as many times as it takes (up to
    /// [`max_attempts`](Transaction::max_attempts)) for its transaction to run without
    /// a watched key changing under it: the check-and-set loop of redis-py's and
    /// coredis's `transaction` helpers.
    ///
    /// `f` gets a fresh [`Watched`] connection each time: it reads in immediate mode,
    /// then runs the writes with `tx.multi()...execute()`. An error from `f` for which
    /// [`Error::is_watch_conflict`] is true runs it again; any other result is
    /// returned as it is. See [the module docs](crate::pipeline::watch).
    pub fn transaction<K, F, Fut, T>(
        &self,
        keys: impl IntoIterator<Item = K>,
        f: F,
    ) -> Transaction<'_, F>
    where
        K: ToArg,
        F: FnMut(Watched) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let keys = keys
            .into_iter()
            .map(|k| crate::command::arg_bytes(k))
            .collect();
        Transaction {
            client: self,
            keys,
            f,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl Watched {
    fn send<C: crate::command::Command>(&self, cmd: C) -> ResponseFuture<C::Output>
    where
        C::Output: Send + 'static,
    {
        let meta = cmd.meta();
        self.execute(Request {
            buf: cmd.into_buf(),
            meta,
        })
    }
}
