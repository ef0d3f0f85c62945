//! Per-channel handlers (redis-py's `subscribe(**{"chan": handler})`) and the
//! error handler of [`Subscriber::run`](super::Subscriber::run).

use super::{Kind, Message};
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// Any error a handler returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type Pending = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
type Handler = Box<dyn FnMut(Message) -> Pending + Send>;

/// What a message handler's future may end with: `()`, or a `Result` whose error
/// goes to the error handler of [`run`](super::Subscriber::run).
pub trait HandlerOutput: Send + 'static {
    /// The outcome as a `Result`.
    fn into_result(self) -> Result<(), BoxError>;
}

impl HandlerOutput for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> HandlerOutput for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// A message handler that failed, as the error handler of
/// [`run`](super::Subscriber::run) gets it: the error the handler returned, and
/// where the message came from.
#[derive(Debug)]
pub struct HandlerError {
    /// The kind of the message the handler failed on.
    pub kind: Kind,
    /// Its channel.
    pub channel: Bytes,
    /// The pattern that matched, for a [`Kind::PMessage`].
    pub pattern: Option<Bytes>,
    /// What the handler returned.
    pub error: BoxError,
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the handler of a {:?} on {:?}",
            self.kind,
            String::from_utf8_lossy(&self.channel)
        )?;
        if let Some(p) = &self.pattern {
            write!(f, " (pattern {:?})", String::from_utf8_lossy(p))?;
        }
        write!(f, " failed: {}", self.error)
    }
}

impl std::error::Error for HandlerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

impl HandlerError {
    /// The error `error` of a handler of `msg`.
    pub(super) fn new(msg: &Meta, error: BoxError) -> Self {
        HandlerError {
            kind: msg.kind,
            channel: msg.channel.clone(),
            pattern: msg.pattern.clone(),
            error,
        }
    }
}

/// Where a message came from, kept while its handler runs.
pub(super) struct Meta {
    kind: Kind,
    channel: Bytes,
    pattern: Option<Bytes>,
}

impl Meta {
    pub(super) fn of(msg: &Message) -> Self {
        Meta {
            kind: msg.kind,
            channel: msg.channel.clone(),
            pattern: msg.pattern.clone(),
        }
    }
}

/// Boxes a handler.
pub(super) fn boxed<F, Fut>(mut handler: F) -> Handler
where
    F: FnMut(Message) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    Box::new(move |msg| {
        let fut = handler(msg);
        Box::pin(async move { fut.await.into_result() })
    })
}

/// What [`Handlers::call`] did with a message.
pub(super) enum Call {
    /// Its handler's future.
    Handled(Pending),
    /// No handler: the message, for the handler of `run`.
    Unhandled(Message),
}

/// The family of names a subscription, unsubscription or message is about:
/// channels (0), patterns (1), shard channels (2); `None` for the other kinds.
pub(super) fn family(kind: Kind) -> Option<usize> {
    match kind {
        Kind::Message | Kind::Subscribe | Kind::Unsubscribe => Some(0),
        Kind::PMessage | Kind::PSubscribe | Kind::PUnsubscribe => Some(1),
        Kind::SMessage | Kind::SSubscribe | Kind::SUnsubscribe => Some(2),
        _ => None,
    }
}

/// The handlers of one subscriber, per [`family`].
#[derive(Default)]
pub(crate) struct Handlers {
    map: Mutex<[HashMap<Bytes, Handler>; 3]>,
}

impl Handlers {
    fn lock(&self) -> std::sync::MutexGuard<'_, [HashMap<Bytes, Handler>; 3]> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the handler of `name` in `family` (replacing one set before).
    pub(super) fn set(&self, family: usize, name: Bytes, handler: Handler) {
        self.lock()[family].insert(name, handler);
    }

    /// Forgets the handlers of `names` in `family`; of every name when empty.
    pub(super) fn remove(&self, family: usize, names: &[Bytes]) {
        let mut map = self.lock();
        if names.is_empty() {
            map[family].clear();
        }
        for n in names {
            map[family].remove(n);
        }
    }

    /// The future of the handler of `msg`'s channel (or pattern), or the message
    /// back when it has none. The lock is held only to call the handler, never
    /// while its future runs.
    pub(super) fn call(&self, msg: Message) -> Call {
        let name = match msg.kind {
            Kind::Message | Kind::SMessage => Some(&msg.channel),
            Kind::PMessage => msg.pattern.as_ref(),
            _ => None,
        };
        let (Some(family), Some(name)) = (family(msg.kind), name) else {
            return Call::Unhandled(msg);
        };
        let mut map = self.lock();
        match map[family].get_mut(name) {
            Some(handler) => Call::Handled(handler(msg)),
            None => Call::Unhandled(msg),
        }
    }
}
