//! The one public [`Error`] type, with `is_*()` predicates, and the structured
//! [`ServerError`].

use crate::resp::ProtocolError;
use bytes::Bytes;
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// Whether a timed-out request had been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Not a request (connecting, a pool wait), or not known.
    Unknown,
    /// Still in the queue: never written, so it did not run.
    No,
    /// Taken for writing: it may have run.
    Yes,
}

/// `Result<T, respec::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, behind one opaque type.
///
/// Ask what happened with the `is_*()` predicates and the accessors; the message
/// names the command when one was involved.
///
/// `Display` prints one level (hyper's rule): what failed, in respec's words. The
/// cause, when there is one (the operating system's I/O error, the failed connection
/// attempt behind "not connected", the invalid RESP), is the
/// [`source`](std::error::Error::source), so an error reporter (`anyhow`'s `{:#}`,
/// `tracing`) prints each level once. `{:?}` prints the message and every cause.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    /// The command this error belongs to (`SET`, `CLIENT KILL`, a module's
    /// `JSON.GET`).
    command: Option<Cow<'static, str>>,
    /// Known never to have been written (whatever the kind).
    unsent: bool,
}

#[derive(Debug)]
enum Kind {
    Server(ServerError),
    Protocol(ProtocolError),
    Decode {
        expected: &'static str,
        got: String,
    },
    InvalidArgument {
        arg: &'static str,
        problem: Cow<'static, str>,
    },
    /// An I/O error, and what was being done when it happened (`None`: the error's
    /// kind says enough).
    Io {
        doing: Option<Cow<'static, str>>,
        err: std::io::Error,
    },
    Refused {
        instead: &'static str,
    },
    /// A multi-key command whose keys a cluster cannot run together.
    CrossSlot(String),
    Timeout(Sent, Option<Duration>),
    QueueFull {
        capacity: usize,
    },
    /// A timeout that says what timed out, where, and the limit.
    TimedOut(String),
    Closed,
    Config(String),
    PoolExhausted {
        max: usize,
        waited: std::time::Duration,
    },
    WatchConflict,
}

impl Error {
    fn new(kind: Kind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                command: None,
                unsent: false,
            }),
        }
    }

    /// An error reply from the server.
    pub fn server(err: ServerError) -> Self {
        Error::new(Kind::Server(err))
    }

    /// Bytes from the network that are not valid RESP.
    pub fn protocol(err: ProtocolError) -> Self {
        Error::new(Kind::Protocol(err))
    }

    /// A reply whose shape does not fit the requested Rust type.
    pub fn decode(expected: &'static str, got: impl Into<String>) -> Self {
        Error::new(Kind::Decode {
            expected,
            got: got.into(),
        })
    }

    /// An argument rejected before anything was sent.
    pub fn invalid_argument(arg: &'static str, problem: &'static str) -> Self {
        Error::new(Kind::InvalidArgument {
            arg,
            problem: Cow::Borrowed(problem),
        })
    }

    /// A command the runtime refuses to send (where it would run, or at all), with
    /// why and what to use instead.
    #[doc(hidden)]
    pub fn refused(instead: &'static str) -> Self {
        Error::new(Kind::Refused { instead })
    }

    /// A command refused on a cluster because its keys hash to different slots
    /// (the message names them and the remedy).
    #[doc(hidden)]
    pub fn cross_slot(message: String) -> Self {
        Error::new(Kind::CrossSlot(message))
    }

    /// An argument rejected before anything was sent, with a message made at run
    /// time.
    #[doc(hidden)]
    pub fn invalid_argument_owned(arg: &'static str, problem: String) -> Self {
        Error::new(Kind::InvalidArgument {
            arg,
            problem: Cow::Owned(problem),
        })
    }

    /// An I/O error from the transport.
    pub fn io(err: std::io::Error) -> Self {
        Error::new(Kind::Io { doing: None, err })
    }

    /// An I/O error of `kind` with what was being done, or what it means, as the
    /// message: `"connecting to 127.0.0.1:6379"`, `"the server closed the
    /// connection"`. The operating system's error is the [`source`] (hyper's rule:
    /// the message is one level; `{:?}` prints the chain).
    ///
    /// [`source`]: std::error::Error::source
    #[doc(hidden)]
    pub fn io_while(doing: impl Into<Cow<'static, str>>, err: std::io::Error) -> Self {
        Error::new(Kind::Io {
            doing: Some(doing.into()),
            err,
        })
    }

    /// A connect or request timeout.
    pub fn timeout() -> Self {
        Error::new(Kind::Timeout(Sent::Unknown, None))
    }

    /// A request timeout of `limit` that passed.
    #[doc(hidden)]
    pub fn request_timeout(limit: Duration) -> Self {
        Error::new(Kind::Timeout(Sent::Unknown, Some(limit)))
    }

    /// A request timed out while still queued: it was never written, so it did not
    /// run.
    #[doc(hidden)]
    pub fn timeout_unsent(limit: Duration) -> Self {
        Error::new(Kind::Timeout(Sent::No, Some(limit)))
    }

    /// A request timed out after it was taken for writing: it may have run.
    #[doc(hidden)]
    pub fn timeout_sent(limit: Duration) -> Self {
        Error::new(Kind::Timeout(Sent::Yes, Some(limit)))
    }

    /// The connection's request queue was full and the client is set to fail rather
    /// than wait (`QueueFull::Fail`).
    #[doc(hidden)]
    pub fn queue_full(capacity: usize) -> Self {
        Error::new(Kind::QueueFull { capacity })
    }

    /// A timeout, with what timed out (`the TLS handshake with 10.0.0.1:6379 did not
    /// finish within the connect timeout (1s)`): [`is_timeout`](Error::is_timeout)
    /// holds, and the message says what.
    pub fn timed_out(what: impl Into<String>) -> Self {
        Error::new(Kind::TimedOut(what.into()))
    }

    /// The connection or client was closed.
    pub fn closed() -> Self {
        Error::new(Kind::Closed)
    }

    /// A bad URL or option.
    pub fn config(msg: impl Into<String>) -> Self {
        Error::new(Kind::Config(msg.into()))
    }

    /// Every pooled connection stayed in use for the whole wait timeout.
    pub fn pool_exhausted(max: usize, waited: std::time::Duration) -> Self {
        Error::new(Kind::PoolExhausted { max, waited })
    }

    /// A transaction was not run because a watched key changed after `WATCH`
    /// (`EXEC` answered null).
    pub fn watch_conflict() -> Self {
        Error::new(Kind::WatchConflict)
    }

    /// A copy for failing several requests with one cause (I/O errors are not
    /// `Clone`: the copy keeps their kind and text).
    #[doc(hidden)]
    pub fn duplicate(&self) -> Error {
        let kind = match &self.inner.kind {
            Kind::Server(e) => Kind::Server(e.clone()),
            Kind::Protocol(e) => Kind::Protocol(e.clone()),
            Kind::Decode { expected, got } => Kind::Decode {
                expected,
                got: got.clone(),
            },
            Kind::InvalidArgument { arg, problem } => Kind::InvalidArgument {
                arg,
                problem: problem.clone(),
            },
            Kind::Io { doing, err } => Kind::Io {
                doing: doing.clone(),
                // A cause that is itself one of ours keeps its own chain.
                err: match err.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
                    Some(ours) => std::io::Error::new(err.kind(), ours.duplicate()),
                    None => std::io::Error::new(err.kind(), err.to_string()),
                },
            },
            Kind::Refused { instead } => Kind::Refused { instead },
            Kind::CrossSlot(m) => Kind::CrossSlot(m.clone()),
            Kind::Timeout(sent, limit) => Kind::Timeout(*sent, *limit),
            Kind::QueueFull { capacity } => Kind::QueueFull {
                capacity: *capacity,
            },
            Kind::TimedOut(m) => Kind::TimedOut(m.clone()),
            Kind::Closed => Kind::Closed,
            Kind::Config(m) => Kind::Config(m.clone()),
            Kind::PoolExhausted { max, waited } => Kind::PoolExhausted {
                max: *max,
                waited: *waited,
            },
            Kind::WatchConflict => Kind::WatchConflict,
        };
        Error {
            inner: Box::new(Inner {
                kind,
                command: self.inner.command.clone(),
                unsent: self.inner.unsent,
            }),
        }
    }

    /// Marks the error as one of a request that was never written (it failed while
    /// still queued, for example while the connection was down).
    #[doc(hidden)]
    pub fn unsent(mut self) -> Self {
        self.inner.unsent = true;
        self
    }

    /// Names the command this error belongs to (keeps the first name given).
    pub fn with_command(mut self, command: impl Into<Cow<'static, str>>) -> Self {
        if self.inner.command.is_none() {
            self.inner.command = Some(command.into());
        }
        self
    }

    /// The command this error belongs to, if known (a raw or module command keeps
    /// the name it was sent with, in upper case).
    pub fn command(&self) -> Option<&str> {
        self.inner.command.as_deref()
    }

    /// The server answered with an error reply.
    pub fn is_server(&self) -> bool {
        matches!(self.inner.kind, Kind::Server(_))
    }

    /// The server's error reply, if this is one.
    pub fn server_error(&self) -> Option<&ServerError> {
        match &self.inner.kind {
            Kind::Server(e) => Some(e),
            _ => None,
        }
    }

    /// The peer sent bytes that are not valid RESP (or broke a configured limit).
    pub fn is_protocol(&self) -> bool {
        matches!(self.inner.kind, Kind::Protocol(_))
    }

    /// The reply was valid RESP but did not fit the requested Rust type.
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode { .. })
    }

    /// An argument was rejected before anything was sent.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self.inner.kind, Kind::InvalidArgument { .. })
    }

    /// The runtime refused to send the command, before anything was sent: it would
    /// change the client's shared connection under every task (`SELECT`), or the
    /// runtime owns it (`MULTI`, `SUBSCRIBE`, `MONITOR`, ...). The message says what
    /// to use instead.
    pub fn is_refused(&self) -> bool {
        matches!(self.inner.kind, Kind::Refused { .. })
    }

    /// A multi-key command refused by a cluster client before anything was sent:
    /// its keys hash to different slots and the spec does not let a client split it
    /// (`MSETNX`, `RENAME`, a script's keys). Give the keys a common hash tag.
    pub fn is_cross_slot(&self) -> bool {
        matches!(self.inner.kind, Kind::CrossSlot(_))
    }

    /// A transport error.
    pub fn is_io(&self) -> bool {
        matches!(self.inner.kind, Kind::Io { .. })
    }

    /// The transport error, if this is one.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match &self.inner.kind {
            Kind::Io { err, .. } => Some(err),
            _ => None,
        }
    }

    /// A connect or request timeout, or no pooled connection free in time.
    ///
    /// A request timeout says whether the request had been sent: see
    /// [`is_unsent`](Self::is_unsent).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::Timeout(..) | Kind::TimedOut(_) | Kind::PoolExhausted { .. }
        )
    }

    /// The command was certainly never written to the server, so it did not run
    /// and retrying it cannot run it twice: it timed out (or was dropped) while still
    /// waiting in the connection's queue, the queue was full, an argument was
    /// rejected, no pooled connection was free, or the connection was down (a
    /// reconnection in progress) while it waited. False when it may have run
    /// (a timeout after it was sent, a connection lost with the command in flight)
    /// and for errors the server answered (it ran, and failed).
    pub fn is_unsent(&self) -> bool {
        self.inner.unsent
            || matches!(
                self.inner.kind,
                Kind::Timeout(Sent::No, _)
                    | Kind::QueueFull { .. }
                    | Kind::InvalidArgument { .. }
                    | Kind::Refused { .. }
                    | Kind::CrossSlot(_)
                    | Kind::PoolExhausted { .. }
            )
    }

    /// The connection's request queue was full (with
    /// `QueueFull::Fail`); nothing was sent.
    pub fn is_queue_full(&self) -> bool {
        matches!(self.inner.kind, Kind::QueueFull { .. })
    }

    /// No pooled connection became free within the pool's wait timeout.
    pub fn is_pool_exhausted(&self) -> bool {
        matches!(self.inner.kind, Kind::PoolExhausted { .. })
    }

    /// A `WATCH` transaction was not run because a watched key changed; run it again
    /// (the `Client::transaction` helper does).
    pub fn is_watch_conflict(&self) -> bool {
        matches!(self.inner.kind, Kind::WatchConflict)
    }

    /// The connection or client is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.inner.kind, Kind::Closed)
    }

    /// A bad URL or configuration option.
    pub fn is_config(&self) -> bool {
        matches!(self.inner.kind, Kind::Config(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(cmd) = &self.inner.command {
            write!(f, "{cmd}: ")?;
        }
        match &self.inner.kind {
            Kind::Server(e) => write!(f, "server error: {e}"),
            Kind::Protocol(_) => f.write_str(
                "the server sent bytes that are not valid RESP (the connection is closed)",
            ),
            Kind::Decode { expected, got } => {
                write!(f, "cannot decode the reply: expected {expected}, got {got}")
            }
            Kind::InvalidArgument { arg, problem } => {
                write!(f, "invalid argument `{arg}`: {problem}")
            }
            Kind::Io {
                doing: Some(doing), ..
            } => f.write_str(doing),
            Kind::Io { doing: None, err } => write!(f, "I/O error: {}", err.kind()),
            Kind::Refused { instead } => write!(f, "refused before sending: {instead}"),
            Kind::CrossSlot(m) => write!(f, "refused by the cluster client: {m}"),
            Kind::Timeout(sent, limit) => {
                f.write_str("timed out")?;
                if let Some(limit) = limit {
                    write!(f, " after {limit:?} (the request timeout)")?;
                }
                f.write_str(match sent {
                    Sent::Unknown => "",
                    Sent::No => " before it was sent: it was never written and did not run",
                    Sent::Yes => " waiting for the reply: it was sent and may or may not have run",
                })
            }
            Kind::QueueFull { capacity } => write!(
                f,
                "not sent: the connection's request queue is full ({capacity} requests waiting to be written)"
            ),
            Kind::TimedOut(what) => write!(f, "timed out: {what}"),
            Kind::Closed => f.write_str("connection closed"),
            Kind::Config(m) => write!(f, "configuration error: {m}"),
            Kind::PoolExhausted { max, waited } => write!(
                f,
                "no pooled connection free: all {max} stayed in use for {waited:?} (raise the pool size or the wait timeout)"
            ),
            Kind::WatchConflict => f.write_str(
                "transaction not run: a watched key changed after WATCH (EXEC answered null)",
            ),
        }
    }
}

impl fmt::Debug for Error {
    /// The message and its causes, one per [`source`](std::error::Error::source), so
    /// that `main` returning `respec::Result` prints the whole story.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({self:?}", self = self.to_string())?;
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            write!(f, ", caused by: {e}")?;
            cause = e.source();
        }
        f.write_str(")")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            Kind::Protocol(e) => Some(e),
            Kind::Io { err, .. } => Some(err),
            _ => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::protocol(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(e)
    }
}

/// Where a cluster redirect (`MOVED` / `ASK`) points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The hash slot.
    pub slot: u16,
    /// `host:port` of the node that serves it.
    pub address: String,
}

/// An error reply: `-WRONGTYPE Operation against a key holding the wrong kind of value`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerError {
    text: Bytes,
}

impl ServerError {
    /// Wraps the text of an error reply (without the leading `-`).
    pub fn new(text: Bytes) -> Self {
        ServerError { text }
    }

    /// The whole error text.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or("<invalid UTF-8>")
    }

    /// The error code: the first word when it is upper case (`WRONGTYPE`, `ERR`,
    /// `MOVED`, `NOSCRIPT`), as the server conventionally sends it.
    pub fn code(&self) -> &str {
        let text = self.text();
        let word = text.split(' ').next().unwrap_or("");
        if !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            word
        } else {
            ""
        }
    }

    /// The text after the code.
    pub fn message(&self) -> &str {
        let code = self.code();
        self.text()[code.len()..].trim_start()
    }

    fn redirect(&self, code: &str) -> Option<Redirect> {
        if self.code() != code {
            return None;
        }
        let mut parts = self.message().split(' ');
        let slot = parts.next()?.parse().ok()?;
        let address = parts.next()?.to_owned();
        Some(Redirect { slot, address })
    }

    /// The target of a `MOVED` redirect.
    pub fn moved(&self) -> Option<Redirect> {
        self.redirect("MOVED")
    }

    /// The target of an `ASK` redirect.
    pub fn ask(&self) -> Option<Redirect> {
        self.redirect("ASK")
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerError({:?})", self.text())
    }
}

impl std::error::Error for ServerError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// Every kind of error, its `Display` (one level: the cause is not repeated) and
    /// its chain of causes. A change of any message shows here, in one list.
    #[test]
    fn every_error_displays_one_level_and_chains_its_cause() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
        let ms = Duration::from_millis(100);
        let cases: Vec<(Error, &str, Vec<String>)> = vec![
            (
                Error::server(ServerError::new(Bytes::from_static(b"ERR wrong"))).with_command("GET"),
                "GET: server error: ERR wrong",
                vec![],
            ),
            (
                Error::protocol(ProtocolError::UnknownType { byte: b'!' }),
                "the server sent bytes that are not valid RESP (the connection is closed)",
                vec!["invalid RESP: unknown type byte 0x21".into()],
            ),
            (
                Error::decode("an integer", "a bulk string").with_command("INCR"),
                "INCR: cannot decode the reply: expected an integer, got a bulk string",
                vec![],
            ),
            (
                Error::invalid_argument("seconds", "is negative").with_command("EXPIRE"),
                "EXPIRE: invalid argument `seconds`: is negative",
                vec![],
            ),
            (
                Error::refused("use Client::watch").with_command("WATCH"),
                "WATCH: refused before sending: use Client::watch",
                vec![],
            ),
            (
                Error::cross_slot("keys in slots 1 and 2".into()).with_command("RENAME"),
                "RENAME: refused by the cluster client: keys in slots 1 and 2",
                vec![],
            ),
            (
                Error::io(io()),
                "I/O error: connection reset",
                vec!["peer reset".into()],
            ),
            (
                Error::io_while("connection to 127.0.0.1:6379 lost", io()),
                "connection to 127.0.0.1:6379 lost",
                vec!["peer reset".into()],
            ),
            (
                // A cause that has a cause of its own: the whole chain is kept.
                Error::io_while(
                    "not connected to 127.0.0.1:6379 (reconnecting)",
                    std::io::Error::new(
                        std::io::ErrorKind::NotConnected,
                        Error::io_while("cannot connect to 127.0.0.1:6379", io()),
                    ),
                ),
                "not connected to 127.0.0.1:6379 (reconnecting)",
                vec!["cannot connect to 127.0.0.1:6379".into(), "peer reset".into()],
            ),
            (Error::timeout(), "timed out", vec![]),
            (
                Error::timeout_unsent(ms),
                "timed out after 100ms (the request timeout) before it was sent: it was never written and did not run",
                vec![],
            ),
            (
                Error::timeout_sent(ms),
                "timed out after 100ms (the request timeout) waiting for the reply: it was sent and may or may not have run",
                vec![],
            ),
            (
                Error::queue_full(4),
                "not sent: the connection's request queue is full (4 requests waiting to be written)",
                vec![],
            ),
            (
                Error::timed_out("the TLS handshake"),
                "timed out: the TLS handshake",
                vec![],
            ),
            (Error::closed(), "connection closed", vec![]),
            (
                Error::config("`db` must be a number"),
                "configuration error: `db` must be a number",
                vec![],
            ),
            (
                Error::pool_exhausted(8, Duration::from_secs(1)),
                "no pooled connection free: all 8 stayed in use for 1s (raise the pool size or the wait timeout)",
                vec![],
            ),
            (
                Error::watch_conflict(),
                "transaction not run: a watched key changed after WATCH (EXEC answered null)",
                vec![],
            ),
        ];
        for (err, display, causes) in cases {
            assert_eq!(err.to_string(), display);
            let mut chain = Vec::new();
            let mut cause = err.source();
            while let Some(c) = cause {
                chain.push(c.to_string());
                cause = c.source();
            }
            assert_eq!(chain, causes, "the causes of {display:?}");
            // One level: no cause is repeated in the message.
            for c in &chain {
                assert!(!display.contains(c.as_str()), "{display:?} repeats {c:?}");
            }
            // `{:?}` tells the whole story.
            let debug = format!("{err:?}");
            assert!(debug.contains(display), "{debug}");
            for c in &chain {
                assert!(debug.contains(c.as_str()), "{debug} lacks {c:?}");
            }
            // A duplicate says the same.
            assert_eq!(err.duplicate().to_string(), display);
        }
    }
}
