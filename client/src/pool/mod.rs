//! Dedicated connections for what must not share the multiplexed one: blocking
//! commands, `WATCH` transactions and (with later work) RESP2 pub/sub.
//!
//! The pool holds at most [`PoolOptions::max_size`] connections, idle and in use
//! together. A task that finds them all in use waits up to
//! [`PoolOptions::wait_timeout`] and then fails with an error for which
//! [`Error::is_pool_exhausted`] is true. Idle connections are reused most recent
//! first; one idle for longer than [`PoolOptions::idle_timeout`] is closed instead, and
//! one idle for longer than [`PoolOptions::health_check_interval`] must answer a `PING`
//! before it is handed out.
//!
//! A connection comes back to the pool when the value holding it is dropped, on every
//! path: the end of a blocking command, the end of a transaction, a cancelled task.
//! It comes back clean: keys it still watches are unwatched (`UNWATCH` is queued
//! before anything the next user sends), and a connection with a command still in
//! flight (a cancelled `BLPOP`) is closed, so its slot is free at once and no late
//! reply can reach the next user.

use crate::command::CommandBuf;
use crate::connection::{Config, Connection};
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Options of the pool of dedicated connections (see [`ClientBuilder`]'s `pool_*`
/// methods and the URL options `pool_size`, `pool_timeout`, `pool_idle_timeout`,
/// `health_check_interval`).
///
/// [`ClientBuilder`]: crate::ClientBuilder
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once, idle and in use (default 64; at least 1).
    pub max_size: usize,
    /// How long a task waits for a connection when all are in use; `None` waits
    /// forever (default 10 s).
    pub wait_timeout: Option<Duration>,
    /// An idle connection older than this is closed instead of reused; `None` keeps
    /// them (default 5 min).
    pub idle_timeout: Option<Duration>,
    /// An idle connection older than this answers a `PING` before it is handed out;
    /// zero checks every time (default 1 s).
    pub health_check_interval: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 64,
            wait_timeout: Some(Duration::from_secs(10)),
            idle_timeout: Some(Duration::from_secs(300)),
            health_check_interval: Duration::from_secs(1),
        }
    }
}

/// What the pool holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open, idle and in use.
    pub open: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// The most that may be open.
    pub max_size: usize,
}

struct Idle {
    conn: Connection,
    since: Instant,
}

/// The pool.
pub(crate) struct Pool {
    config: Arc<Config>,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Idle>>,
    open: AtomicUsize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("status", &self.status())
            .finish()
    }
}

impl Pool {
    /// An empty pool making connections with `config`.
    pub(crate) fn new(config: Arc<Config>) -> Arc<Self> {
        let size = config.pool.max_size.max(1);
        Arc::new(Pool {
            config,
            permits: Arc::new(Semaphore::new(size)),
            idle: Mutex::new(Vec::new()),
            open: AtomicUsize::new(0),
        })
    }

    fn options(&self) -> &PoolOptions {
        &self.config.pool
    }

    /// What the pool holds.
    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            open: self.open.load(Ordering::Relaxed),
            idle: self.lock().len(),
            max_size: self.options().max_size.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn discard(&self, conn: Connection) {
        conn.close();
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Pops the most recent idle connection, closing the expired ones on the way.
    fn pop_idle(&self) -> Option<Idle> {
        let idle_timeout = self.options().idle_timeout;
        let (found, expired) = {
            let mut idle = self.lock();
            // The oldest are at the front: drop every expired one, not just the top.
            let expired: Vec<Idle> = match idle_timeout {
                Some(t) => {
                    let n = idle.iter().take_while(|i| i.since.elapsed() >= t).count();
                    idle.drain(..n).collect()
                }
                None => Vec::new(),
            };
            (idle.pop(), expired)
        };
        for e in expired {
            self.discard(e.conn);
        }
        found
    }

    /// A connection: an idle one that passes the checks, or a new one. Waits for a
    /// free slot at most `wait_timeout`.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Pooled> {
        let acquire = self.permits.clone().acquire_owned();
        let permit = match self.options().wait_timeout {
            Some(t) => tokio::time::timeout(t, acquire)
                .await
                .map_err(|_| Error::pool_exhausted(self.options().max_size.max(1), t))?,
            None => acquire.await,
        }
        .map_err(|_| Error::closed())?;
        while let Some(Idle { conn, since }) = self.pop_idle() {
            if conn.is_closed() {
                self.discard(conn);
                continue;
            }
            if since.elapsed() >= self.options().health_check_interval && !self.healthy(&conn).await
            {
                self.discard(conn);
                continue;
            }
            return Ok(self.wrap(conn, permit));
        }
        let conn = Connection::connect_dedicated(self.config.clone()).await?;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(self.wrap(conn, permit))
    }

    /// The connection answers `PING` with `PONG` in time.
    async fn healthy(&self, conn: &Connection) -> bool {
        let ping = conn.send(CommandBuf::raw(b"PING"));
        let limit = self
            .config
            .connect_timeout
            .unwrap_or(Duration::from_secs(10));
        match tokio::time::timeout(limit, ping).await {
            Ok(Ok(Ok(frame))) => frame.as_ref() == b"+PONG\r\n",
            _ => false,
        }
    }

    fn wrap(self: &Arc<Self>, conn: Connection, permit: OwnedSemaphorePermit) -> Pooled {
        Pooled {
            conn: Some(conn),
            pool: self.clone(),
            _permit: permit,
            busy: false,
            watching: false,
        }
    }

    fn put_back(&self, conn: Connection) {
        self.lock().push(Idle {
            conn,
            since: Instant::now(),
        });
    }
}

/// A connection taken from the pool; given back (clean) when dropped.
#[derive(Debug)]
pub(crate) struct Pooled {
    conn: Option<Connection>,
    pool: Arc<Pool>,
    /// Released after the connection is back, so the next waiter finds it.
    _permit: OwnedSemaphorePermit,
    /// A command is in flight: if dropped now, the connection is closed.
    pub(crate) busy: bool,
    /// Keys are watched: if dropped now, `UNWATCH` is queued first.
    pub(crate) watching: bool,
}

impl Pooled {
    /// The connection.
    pub(crate) fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.busy || conn.is_closed() {
            self.pool.discard(conn);
            return;
        }
        if self.watching {
            // Replies come back in order: this one is read and dropped before any
            // reply of the next user's commands.
            drop(conn.send(CommandBuf::raw(b"UNWATCH")));
        }
        self.pool.put_back(conn);
    }
}
