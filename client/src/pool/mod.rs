//! Dedicated connections for commands that must not share the multiplexed one
//! (blocking commands now; WATCH transactions and pub/sub with later work).
//!
//! This is the minimal internal pool: idle connections are reused, a new one is made
//! when none is idle, and a connection given back while a command is still running
//! on it (its future was dropped) is closed rather than reused.

use crate::connection::{Config, Connection};
use crate::error::Result;
use std::sync::{Arc, Mutex};

/// Idle dedicated connections.
#[derive(Debug)]
pub(crate) struct Pool {
    config: Arc<Config>,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// An empty pool making connections with `config`.
    pub(crate) fn new(config: Arc<Config>) -> Arc<Self> {
        Arc::new(Pool {
            config,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// An idle connection, or a new one.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Pooled> {
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let mut found = None;
            while let Some(c) = idle.pop() {
                if !c.is_closed() {
                    found = Some(c);
                    break;
                }
            }
            found
        };
        let conn = match reused {
            Some(c) => c,
            None => Connection::connect(self.config.clone()).await?,
        };
        Ok(Pooled {
            conn: Some(conn),
            pool: self.clone(),
            busy: false,
        })
    }
}

/// A connection taken from the pool; given back when dropped.
#[derive(Debug)]
pub(crate) struct Pooled {
    conn: Option<Connection>,
    pool: Arc<Pool>,
    /// A command is in flight: if dropped now, the connection is closed.
    pub(crate) busy: bool,
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
            conn.close();
            return;
        }
        self.pool
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
    }
}
