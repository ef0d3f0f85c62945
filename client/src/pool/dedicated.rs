//! [`Dedicated`]: a connection of one's own from the pool, with the same typed API
//! as the client, for what the shared connection refuses or should not carry:
//! `SELECT`, `AUTH`, `WATCH` and transactions built on it, `CLIENT TRACKING` or
//! `CLIENT NO-EVICT` for one connection, a series of blocking commands.

use crate::client::Client;
use crate::command::route::{self, Decision, On};
use crate::command::{Executor, Request};
use crate::connection::{Connection, LongestArg, ResponseFuture};
use crate::error::{Error, Result};
use crate::pool::Pooled;
use crate::reply::FromReply;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A connection of one's own, taken from the client's [pool](crate::pool):
/// [`Client::dedicated`] gives one, and [`Client::watch`] one with keys watched (a
/// [`Watched`](crate::pipeline::watch::Watched)).
///
/// Every command ([`Commands`](crate::Commands)) runs on it at once, on this
/// connection only, with the client's request timeout (none for blocking commands,
/// which may wait here as long as they ask). It takes what the shared connection
/// refuses because it would change the connection under every task sharing it:
/// `SELECT`, `AUTH`, `CLIENT TRACKING`, `CLIENT NO-EVICT`, `WATCH` and `UNWATCH`
/// (then [`multi`](Dedicated::multi) for the transaction). What the runtime owns
/// stays refused here too, with the way to do it instead: `MULTI`/`EXEC` one by one
/// (use [`multi`](Dedicated::multi)), the subscriptions (a
/// [`Subscriber`](crate::pubsub::Subscriber)), `MONITOR`, `HELLO` with arguments,
/// `RESET`, `QUIT`, `CLIENT REPLY`.
///
/// Cheap to clone; the connection returns to the pool when the last clone is
/// dropped: with `UNWATCH` queued if keys are still watched, closed instead if a
/// command changed its state (`SELECT`, `AUTH`, `CLIENT TRACKING`, ...: the next
/// user expects a connection as the configuration made it), and unblocked first if
/// a command is still in flight (a cancelled task; see [the pool](crate::pool)).
/// If the connection is lost, it is not re-established: every later command fails,
/// so state set on it (a database, watched keys) is never silently lost.
#[derive(Clone)]
pub struct Dedicated {
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

impl std::fmt::Debug for Dedicated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedicated")
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

impl Dedicated {
    /// Wraps a connection taken from the pool (`slot`: on a cluster, the slot it is
    /// bound to).
    pub(crate) fn new(
        pooled: Pooled,
        slot: Option<u16>,
        request_timeout: Option<std::time::Duration>,
    ) -> Self {
        Dedicated {
            inner: Arc::new(Inner {
                conn: pooled.conn().clone(),
                pooled,
                slot,
                request_timeout,
                watching: AtomicBool::new(false),
                tainted: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
            }),
        }
    }

    /// A raw command for modules and commands newer than the spec, run on this
    /// connection: `conn.cmd("JSON.GET").arg("doc").arg("$").await`.
    pub fn cmd(&self, name: impl crate::command::ToArg) -> crate::command::Raw<&Dedicated> {
        crate::command::Raw::new_in(self, name)
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
    pub(crate) fn slot(&self) -> Option<u16> {
        self.inner.slot
    }

    /// Records that a command changed the connection's state: it is closed, not
    /// pooled, when released.
    pub(crate) fn taint(&self) {
        self.inner.tainted.store(true, Ordering::Release);
    }

    /// Records that `EXEC` was sent: the server unwatched everything.
    pub(crate) fn exec_done(&self) {
        self.inner.watching.store(false, Ordering::Release);
    }

    /// Sends `n` encoded commands in one write; returns their reply frames.
    pub(crate) async fn send_frames(
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

impl Executor for &Dedicated {
    type Future<T: FromReply + Send + 'static> = ResponseFuture<T>;

    fn execute<T: FromReply + Send + 'static>(self, request: Request<'_>) -> ResponseFuture<T> {
        let name = request.name();
        if let Some(p) = request.buf.problem() {
            return ResponseFuture::failed(name, Error::invalid_argument(p.arg, p.problem));
        }
        if let Err(e) =
            crate::pipeline::watch::refuse_other_slot(self.inner.slot, request.buf, request.meta)
        {
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
        let reply = self.inner.conn.send_from(request.buf, false);
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

impl crate::reply::ReplyMode for &Dedicated {
    type Out<T: crate::reply::TextReply> = T;
}

impl crate::Commands for Dedicated {
    type Out<T: crate::reply::TextReply> = T;
    type Exec<'a> = &'a Dedicated;

    fn executor(&self) -> &Dedicated {
        self
    }
}

impl Dedicated {
    pub(crate) fn send<C: crate::command::Command>(&self, cmd: C) -> ResponseFuture<C::Output>
    where
        C::Output: Send + 'static,
    {
        let meta = cmd.meta();
        self.execute(Request {
            buf: &mut cmd.into_buf(),
            meta,
        })
    }
}

impl Client {
    /// A connection of one's own from the [pool](crate::pool), with the same typed
    /// API: for what the shared connection refuses (`SELECT`, `AUTH`, `WATCH`,
    /// `CLIENT TRACKING` for one connection, ...) and for a series of blocking
    /// commands on one connection. It counts against the pool's size until its last
    /// clone is dropped; see [`Dedicated`].
    ///
    /// ```no_run
    /// # async fn demo(client: respec::Client) -> respec::Result<()> {
    /// use respec::prelude::*;
    /// let conn = client.dedicated().await?;
    /// conn.select(2).await?; // refused on the shared connection
    /// conn.set("k", "in db 2").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// A cluster client has a connection per node, not one: it refuses this with an
    /// error pointing to a node's client ([`node_clients`](Client::node_clients)),
    /// whose `dedicated()` gives a connection of that node, and to
    /// [`watch`](Client::watch), which takes one of the node serving its keys.
    pub async fn dedicated(&self) -> Result<Dedicated> {
        if self.is_cluster() {
            return Err(Error::refused(
                "a cluster client has a connection per node, not one: take a node's client from client.node_clients() (or client.node_client(address)) and call dedicated() on it, or use client.watch(keys) for a connection of the node serving those keys",
            )
            .with_command("dedicated"));
        }
        let pooled = self.pool().get().await?;
        Ok(Dedicated::new(pooled, None, self.config().request_timeout))
    }
}
