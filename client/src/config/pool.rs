//! The options of the pool of dedicated connections.

use std::time::Duration;

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
