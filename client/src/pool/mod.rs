//! Dedicated connections for what must not share the multiplexed one: blocking
//! commands, `WATCH` transactions, and a [`Dedicated`] connection of one's own
//! ([`Client::dedicated`](crate::Client::dedicated)) for what the shared one
//! refuses; subscribers and monitors with a connection of their own count against
//! its size.
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
//! before anything the next user sends).
//!
//! A connection dropped with a command still in flight (a cancelled `BLPOP`) is
//! unblocked: `CLIENT UNBLOCK` goes out on the client's shared connection at once,
//! before any command the client sends after the cancellation, so a `BLPOP` that was
//! blocked on the server when it was cancelled never takes an element that the same
//! client pushes afterwards. The unblock is repeated every few milliseconds until a
//! `PING` sent behind the cancelled command is answered, which proves no reply of it
//! is left to read; the connection then returns to the pool (its slot stays taken
//! until then). If that takes longer than the connect timeout, or the server refuses
//! `CLIENT ID`/`CLIENT UNBLOCK` to this user, the connection is closed instead.
//!
//! What cancellation cannot do, in any client: a command still on its way to the
//! server when it is cancelled may run (and a `BLPOP` pop an element) before the
//! unblock reaches it, and an element the server popped and sent before the
//! cancellation is lost with the discarded reply. Use `BLMOVE` into a processing list
//! where losing an element is not acceptable.
//!
//! A connection on which a command changed the state of the connection (`SELECT`,
//! `CLIENT SETNAME`, `CLIENT TRACKING`, ...) is closed rather than reused: the next
//! user gets a connection as the configuration made it.

use crate::command::CommandBuf;
use crate::connection::{Config, Connection, LongestArg, Reply};
use crate::error::{Error, Result};
use crate::reply::decode_frame;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

mod dedicated;

pub use crate::config::PoolOptions;
pub use dedicated::Dedicated;

/// What the pool holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open, idle and in use.
    pub open: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// Connections in use (`open - idle`).
    pub in_use: usize,
    /// The most that may be open.
    pub max_size: usize,
}

struct Idle {
    conn: Connection,
    /// `CLIENT ID`, for `CLIENT UNBLOCK` (`None` when the server refused it).
    id: Option<i64>,
    since: Instant,
}

/// The pool.
pub(crate) struct Pool {
    config: Arc<Config>,
    /// The client's shared connection, which sends `CLIENT UNBLOCK`.
    shared: Connection,
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
    /// An empty pool making connections with `config`; `shared` is the client's
    /// shared connection.
    pub(crate) fn new(config: Arc<Config>, shared: Connection) -> Arc<Self> {
        let size = config.pool.max_size.max(1);
        Arc::new(Pool {
            config,
            shared,
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
        let open = self.open.load(Ordering::Relaxed);
        let idle = self.lock().len();
        PoolStatus {
            open,
            idle,
            in_use: open.saturating_sub(idle),
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
        let mut permit = self.acquire().await?;
        // From here on the connection is held by a `Pooled`, so a cancellation at any
        // await gives it back (or closes it) and keeps the count right.
        while let Some(Idle { conn, id, since }) = self.pop_idle() {
            if conn.is_closed() {
                self.discard(conn);
                continue;
            }
            let pooled = self.wrap(conn, id, permit);
            if since.elapsed() >= self.options().health_check_interval
                && !self.healthy(pooled.conn()).await
            {
                permit = pooled.retire();
                continue;
            }
            return Ok(pooled);
        }
        let conn = Connection::connect_dedicated(self.config.clone()).await?;
        self.open.fetch_add(1, Ordering::Relaxed);
        let mut pooled = self.wrap(conn, None, permit);
        let mut id_cmd = CommandBuf::raw(b"CLIENT");
        id_cmd.push(b"ID");
        pooled.id = match pooled.conn().send(id_cmd).await {
            Ok(frame) => decode_frame::<i64>(frame).ok(),
            Err(_) => None,
        };
        Ok(pooled)
    }

    /// A free slot, waiting at most `wait_timeout`.
    async fn acquire(&self) -> Result<OwnedSemaphorePermit> {
        let acquire = self.permits.clone().acquire_owned();
        match self.options().wait_timeout {
            Some(t) => tokio::time::timeout(t, acquire)
                .await
                .map_err(|_| Error::pool_exhausted(self.options().max_size.max(1), t))?,
            None => acquire.await,
        }
        .map_err(|_| Error::closed())
    }

    /// A slot for a connection the caller makes and owns (a subscriber's), counted
    /// as open until the slot is dropped.
    pub(crate) async fn reserve(self: &Arc<Self>) -> Result<Slot> {
        let permit = self.acquire().await?;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            pool: self.clone(),
            _permit: permit,
        })
    }

    /// The connection answers `PING` with `PONG` in time.
    async fn healthy(&self, conn: &Connection) -> bool {
        pong(conn.send(CommandBuf::raw(b"PING")), &self.config).await
    }

    fn wrap(
        self: &Arc<Self>,
        conn: Connection,
        id: Option<i64>,
        permit: OwnedSemaphorePermit,
    ) -> Pooled {
        Pooled {
            conn: Some(conn),
            id,
            pool: self.clone(),
            permit: Some(permit),
            busy: false,
            watching: false,
            tainted: false,
        }
    }

    fn put_back(&self, conn: Connection, id: Option<i64>, watching: bool) {
        if watching {
            // Replies come back in order: this one is read and dropped before any
            // reply of the next user's commands. Not queued: the connection goes.
            if !conn.send_detached(CommandBuf::raw(b"UNWATCH")) {
                self.discard(conn);
                return;
            }
        }
        self.lock().push(Idle {
            conn,
            id,
            since: Instant::now(),
        });
    }
}

/// How long a reply to a health check or fence `PING` may take.
fn ping_limit(config: &Config) -> Duration {
    config.connect_timeout.unwrap_or(Duration::from_secs(10))
}

/// The reply `rx` will get is `PONG`, within the connect timeout.
async fn pong(rx: Reply<bytes::Bytes>, config: &Config) -> bool {
    tokio::time::timeout(ping_limit(config), rx)
        .await
        .is_ok_and(is_pong)
}

fn is_pong(r: Result<bytes::Bytes>) -> bool {
    matches!(r, Ok(frame) if frame.as_ref() == b"+PONG\r\n")
}

/// How often `CLIENT UNBLOCK` is sent again while the cancelled command has not
/// finished (it may reach the server after the first one).
const UNBLOCK_RETRY: Duration = Duration::from_millis(20);

fn client_unblock(id: i64) -> CommandBuf {
    let mut unblock = CommandBuf::raw(b"CLIENT");
    unblock.push(b"UNBLOCK");
    unblock.push(itoa::Buffer::new().format(id).as_bytes());
    unblock
}

/// Waits for the `PING` fence behind a cancelled command, sending `CLIENT UNBLOCK`
/// again every [`UNBLOCK_RETRY`] in case the command reached the server after the
/// previous one; true once the fence answered.
async fn unblocked(pool: &Pool, id: i64, mut fence: Reply<bytes::Bytes>) -> bool {
    // Checked: a connect timeout too far away for the clock means no deadline.
    let deadline = tokio::time::Instant::now().checked_add(ping_limit(&pool.config));
    loop {
        match tokio::time::timeout(UNBLOCK_RETRY, &mut fence).await {
            Ok(r) => return is_pong(r),
            Err(_) if deadline.is_none_or(|d| tokio::time::Instant::now() < d) => {
                pool.shared.send_detached(client_unblock(id));
            }
            Err(_) => return false,
        }
    }
}

/// A place in the pool's size taken by a connection the pool does not manage (a
/// subscriber's); given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.pool.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection taken from the pool; given back (clean) when dropped.
#[derive(Debug)]
pub(crate) struct Pooled {
    conn: Option<Connection>,
    /// `CLIENT ID` of the connection.
    id: Option<i64>,
    pool: Arc<Pool>,
    /// Released after the connection is back, so the next waiter finds it.
    permit: Option<OwnedSemaphorePermit>,
    /// A command is in flight: if dropped now, the connection is closed.
    pub(crate) busy: bool,
    /// Keys are watched: if dropped now, `UNWATCH` is queued first.
    pub(crate) watching: bool,
    /// A command changed the connection's state (`SELECT`, `CLIENT SETNAME`): it is
    /// closed rather than handed to someone expecting a fresh one.
    pub(crate) tainted: bool,
}

impl Pooled {
    /// The connection.
    pub(crate) fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("present until dropped")
    }

    /// Runs one command; cancelled while it is in flight, the connection is unblocked
    /// (see the module docs) rather than handed on with a reply pending.
    pub(crate) async fn send(mut self, cmd: CommandBuf) -> Result<bytes::Bytes> {
        self.busy = true;
        let reply = self.conn().send(cmd).await;
        self.busy = false;
        reply
    }

    /// Runs `n` commands encoded back to back, like [`send`](Self::send).
    pub(crate) async fn send_many(
        mut self,
        cmds: crate::command::Encoded,
        n: usize,
        longest: Option<LongestArg>,
    ) -> Result<Vec<bytes::Bytes>> {
        self.busy = true;
        let replies = self.conn().send_many(cmds, n, longest).await;
        self.busy = false;
        replies
    }

    /// Closes the connection and keeps its slot for another one.
    fn retire(mut self) -> OwnedSemaphorePermit {
        if let Some(conn) = self.conn.take() {
            self.pool.discard(conn);
        }
        self.permit.take().expect("present until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.tainted || conn.is_closed() {
            self.pool.discard(conn);
            return;
        }
        if !self.busy {
            self.pool.put_back(conn, self.id, self.watching);
            return;
        }
        // A command is in flight: unblock it now, from the shared connection (so it is
        // ordered before anything sent after this), then wait for a PING behind it.
        let (Some(id), Ok(runtime)) = (self.id, tokio::runtime::Handle::try_current()) else {
            self.pool.discard(conn);
            return;
        };
        self.pool.shared.send_detached(client_unblock(id));
        let fence = conn.send(CommandBuf::raw(b"PING"));
        let pool = self.pool.clone();
        let permit = self.permit.take();
        let watching = self.watching;
        runtime.spawn(async move {
            if unblocked(&pool, id, fence).await {
                pool.put_back(conn, Some(id), watching);
            } else {
                pool.discard(conn);
            }
            drop(permit);
        });
    }
}
