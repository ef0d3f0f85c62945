//! Connections: transports (TCP, Unix, TLS), the handshake, and the driver task
//! behind each [`Connection`] handle.
//!
//! One driver task owns each socket. Handles are cheap clones over a bounded queue;
//! the driver writes whatever is queued in one go (auto-pipelining); on an idle
//! connection a caller writes its request itself through the driver's gate
//! (`gate.rs`), one task hop less. The driver matches replies
//! to requests in order, hands the frames that are not replies to its demultiplexer
//! (`demux.rs`: pub/sub's, or none) and the rest of the push frames to a hook, watches
//! that the server still answers, and reconnects with backoff.

mod alarm;
pub(crate) mod demux;
mod driver;
mod frames;
pub(crate) use frames::FrameReader;
mod gate;
mod handle;
pub(crate) mod handshake;
mod health;
mod requests;
mod slot;
#[cfg(feature = "tls")]
mod tls;
mod transport;
pub(crate) use transport::Transport;

pub use crate::config::{
    Address, Backoff, Config, HoldUnsent, Protocol, PushHook, QueueFull, QueueOptions, TlsOptions,
    DEFAULT_HOLD_UNSENT, DEFAULT_LIVENESS_TIMEOUT,
};
pub use crate::reply::Push;
pub use handle::{Connection, ResponseFuture};
pub(crate) use handle::{Kind, LongestArg, Reply};
pub use handshake::{LIB_NAME, LIB_VER};
