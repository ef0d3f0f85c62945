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
use crate::command::ToArg;
use crate::error::{Error, Result};
use crate::pool::Dedicated;
use bytes::Bytes;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

/// A [`Dedicated`] connection on which keys are watched, as [`Client::watch`] gives
/// it.
///
/// Read what the transaction depends on with its commands (they run at once, on
/// this connection only), then queue the writes with [`multi`](Dedicated::multi).
/// `WATCH` adds keys and `UNWATCH` forgets them. The connection returns to the pool
/// when the last clone is dropped, with `UNWATCH` queued if keys are still watched.
pub type Watched = Dedicated;

impl Dedicated {
    /// Starts a `MULTI`/`EXEC` transaction on this connection: queue commands with
    /// `.add(cmd)`, then `.execute().await`. When a watched key changed, nothing runs
    /// and the error's [`is_watch_conflict`](crate::Error::is_watch_conflict) is true. Either
    /// way the keys are unwatched afterwards.
    pub fn multi(&self) -> Pipeline<'_, ()> {
        Pipeline::new(Target::Dedicated(self)).transaction()
    }

    /// Like [`multi`](Self::multi), for any number of commands of any types (replies
    /// as [`Value`](crate::Value)s).
    pub fn multi_dyn(&self) -> DynPipeline<'_> {
        let mut p = DynPipeline::new(Target::Dedicated(self));
        p.transaction();
        p
    }

    /// A pipeline on this connection: queue commands with `.add(cmd)`, then
    /// `.execute().await`; sent as one write, replies in call order.
    pub fn pipeline(&self) -> Pipeline<'_, ()> {
        Pipeline::new(Target::Dedicated(self))
    }
}

/// Refuses, before anything is sent, a command with a key outside `bound` (the slot
/// a watched connection of a cluster is bound to: its node serves that slot, and a
/// transaction runs on one node), as `client.watch` refuses keys in several slots.
#[inline]
pub(crate) fn refuse_other_slot(
    bound: Option<u16>,
    buf: &crate::command::CommandBuf,
    meta: Option<&'static crate::command::CommandMeta>,
) -> Result<()> {
    match bound {
        // Not bound (every connection but a cluster's watched one).
        None => Ok(()),
        Some(bound) => refuse_outside(bound, buf, meta),
    }
}

/// [`refuse_other_slot`] on a connection bound to slot `bound`.
fn refuse_outside(
    bound: u16,
    buf: &crate::command::CommandBuf,
    meta: Option<&'static crate::command::CommandMeta>,
) -> Result<()> {
    let args = buf.words();
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
            #[cfg(feature = "cluster")]
            Some(cluster) => cluster.pool_for(&watch).await?,
            _ => (self.pool().clone(), None),
        };
        let pooled = pool.get().await?;
        let watched = Dedicated::new(pooled, slot, self.config().request_timeout);
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
