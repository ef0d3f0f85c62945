//! [`LockError`]: why a lock could not be taken, kept or given back.

use crate::error::Error;
use std::fmt;
use std::time::Duration;

/// Why a lock operation failed. `Display` says what happened to which lock, in one
/// sentence; the client error underneath (a lost connection, a server error), when
/// there is one, is its [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct LockError {
    name: String,
    kind: Kind,
    source: Option<Error>,
}

/// How a held lease ended without being released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lost {
    /// The server no longer holds our token (the key expired, was deleted, or another
    /// holder has it): a refused extension said so.
    Taken,
    /// The holder's clock passed the end of the lease with no extension confirmed.
    Expired,
}

#[derive(Debug)]
enum Kind {
    /// An option the lock cannot run with; nothing was sent.
    InvalidArgument { arg: &'static str, problem: String },
    /// Release or extension of a lease that is not ours any more.
    NotHeld { op: &'static str },
    /// The lease was lost while the guard was held.
    Lost(Lost),
    /// A blocking acquisition waited its whole timeout.
    Timeout { waited: Duration },
    /// Taken on the primary, but fewer replicas than required acknowledged it in time
    /// (it was released again).
    NotReplicated { acked: i64, needed: i64 },
    /// The client failed (connection, server error): the source says how.
    Client { op: &'static str },
}

impl LockError {
    pub(crate) fn invalid(name: &str, arg: &'static str, problem: impl Into<String>) -> Self {
        LockError::new(
            name,
            Kind::InvalidArgument {
                arg,
                problem: problem.into(),
            },
        )
    }

    pub(crate) fn not_held(name: &str, op: &'static str) -> Self {
        LockError::new(name, Kind::NotHeld { op })
    }

    pub(crate) fn lost(name: &str, how: Lost) -> Self {
        LockError::new(name, Kind::Lost(how))
    }

    pub(crate) fn timeout(name: &str, waited: Duration) -> Self {
        LockError::new(name, Kind::Timeout { waited })
    }

    pub(crate) fn not_replicated(name: &str, acked: i64, needed: i64) -> Self {
        LockError::new(name, Kind::NotReplicated { acked, needed })
    }

    pub(crate) fn client(name: &str, op: &'static str, source: Error) -> Self {
        LockError {
            source: Some(source),
            ..LockError::new(name, Kind::Client { op })
        }
    }

    fn new(name: &str, kind: Kind) -> Self {
        LockError {
            name: name.to_owned(),
            kind,
            source: None,
        }
    }

    /// The name of the lock.
    pub fn lock_name(&self) -> &str {
        &self.name
    }

    /// A lock option was invalid (a zero lease, a jitter outside 0..=1, an empty
    /// name, ...): nothing was sent.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self.kind, Kind::InvalidArgument { .. })
    }

    /// A release or extension found the lock not ours: its lease had expired, or
    /// another holder has taken it since.
    pub fn is_not_held(&self) -> bool {
        matches!(self.kind, Kind::NotHeld { .. })
    }

    /// The lease was lost while the guard was held (reported by
    /// [`LockGuard::lost`](super::LockGuard::lost)).
    pub fn is_lost(&self) -> bool {
        matches!(self.kind, Kind::Lost(_))
    }

    /// A blocking [`acquire`](super::Lock::acquire) waited its whole timeout while
    /// another holder had the lock.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout { .. })
    }

    /// A replicated acquisition was taken on the primary but not acknowledged by
    /// enough replicas in time; it was released again.
    pub fn is_not_replicated(&self) -> bool {
        matches!(self.kind, Kind::NotReplicated { .. })
    }

    /// The client error underneath (a lost connection, a server error), if that is
    /// what failed.
    pub fn client_error(&self) -> Option<&Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            Kind::InvalidArgument { arg, problem } => {
                write!(f, "lock `{name}`: `{arg}` {problem}; nothing was sent")
            }
            Kind::NotHeld { op } => write!(
                f,
                "lock `{name}`: {op} refused: the lock is not held by this guard (its lease expired or another holder took it)"
            ),
            Kind::Lost(Lost::Taken) => write!(
                f,
                "lock `{name}`: the lease was lost: an extension found the lock no longer ours (expired, deleted or taken)"
            ),
            Kind::Lost(Lost::Expired) => write!(
                f,
                "lock `{name}`: the lease was lost: it ended with no extension confirmed"
            ),
            Kind::Timeout { waited } => {
                write!(f, "lock `{name}`: still held by another after waiting {waited:?}")
            }
            Kind::NotReplicated { acked, needed } => write!(
                f,
                "lock `{name}`: taken on the primary but acknowledged by {acked} of the {needed} replicas required; released again"
            ),
            Kind::Client { op } => write!(f, "lock `{name}`: {op} failed"),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
