//! [`StreamError`]: why a stream consumer could not start, read or acknowledge.

use crate::error::Error;
use std::fmt;

/// Why a stream consumer operation failed. `Display` names the consumer (its streams,
/// and its group and name) and what failed, in one sentence; the client error
/// underneath (a lost connection, a server error such as `NOGROUP`), when there is
/// one, is its [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct StreamError {
    consumer: String,
    kind: Kind,
    source: Option<Error>,
}

#[derive(Debug)]
enum Kind {
    /// An option the consumer cannot run with; nothing was sent.
    InvalidArgument { arg: &'static str, problem: String },
    /// The client failed (connection, server error): the source says how.
    Client { op: &'static str },
}

impl StreamError {
    pub(crate) fn invalid(consumer: &str, arg: &'static str, problem: impl Into<String>) -> Self {
        StreamError {
            consumer: consumer.to_owned(),
            kind: Kind::InvalidArgument {
                arg,
                problem: problem.into(),
            },
            source: None,
        }
    }

    pub(crate) fn client(consumer: &str, op: &'static str, source: Error) -> Self {
        StreamError {
            consumer: consumer.to_owned(),
            kind: Kind::Client { op },
            source: Some(source),
        }
    }

    /// The consumer, as `Display` names it (its streams; its group and name).
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// An option was invalid (no stream, a zero block time or count, ...): nothing
    /// was sent.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self.kind, Kind::InvalidArgument { .. })
    }

    /// The client error underneath (a lost connection, a server error), if that is
    /// what failed.
    pub fn client_error(&self) -> Option<&Error> {
        self.source.as_ref()
    }

    /// The failure may pass if the same request is made again later: a connection
    /// lost or not yet made, a timeout, a full pool, a server loading its data or
    /// between roles in a failover. Not a refused option, nor a server error such as
    /// `NOGROUP` or `WRONGTYPE`. [`GroupConsumer::run`](super::GroupConsumer::run)
    /// waits and reads again after such an error.
    pub fn is_transient(&self) -> bool {
        let Some(e) = &self.source else { return false };
        match e.server_error() {
            Some(s) => matches!(
                s.code(),
                "LOADING" | "READONLY" | "MASTERDOWN" | "TRYAGAIN" | "CLUSTERDOWN" | "UNBLOCKED"
            ),
            None => e.is_io() || e.is_timeout() || e.is_pool_exhausted() || e.is_queue_full(),
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = &self.consumer;
        match &self.kind {
            Kind::InvalidArgument { arg, problem } => {
                write!(f, "{who}: `{arg}` {problem}; nothing was sent")
            }
            Kind::Client { op } => write!(f, "{who}: {op} failed"),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
