//! [`Connection`]: a cheap, cloneable handle to one driver task, and the future of
//! one reply.

use super::config::Config;
use super::driver::{self, Msg, Payload, Sink};
use super::handshake;
use crate::command::CommandBuf;
use crate::error::{Error, Result, ServerError};
use crate::pubsub::router::Router;
use crate::reply::FromReply;
use crate::resp::{Head, Reader};
use bytes::Bytes;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// One multiplexed connection to one server.
///
/// Clones share the connection: requests from every clone and task are written in
/// the order they are queued, coalesced into as few writes as possible, and their
/// replies are matched back in order. The connection reconnects by itself after a
/// failure.
#[derive(Clone)]
pub struct Connection {
    tx: mpsc::UnboundedSender<Msg>,
    config: Arc<Config>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.config.address)
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

impl Connection {
    /// Connects, runs the handshake and starts the driver task (on the current tokio
    /// runtime).
    pub async fn connect(config: Arc<Config>) -> Result<Self> {
        Self::start(config, true, Router::new(false)).await
    }

    /// Connects like [`connect`](Self::connect), but the connection does not come
    /// back after a failure: it closes, and every later request fails. For
    /// connections holding state (watched keys, subscriptions) that a silent
    /// reconnect would lose.
    pub async fn connect_dedicated(config: Arc<Config>) -> Result<Self> {
        Self::start(config, false, Router::new(false)).await
    }

    /// A subscriber's own connection: it reconnects and renews the subscriptions,
    /// on RESP2 it reads every array as a pub/sub frame (nothing else runs there),
    /// and after `health_check_interval` of silence it checks that the server still
    /// answers.
    pub(crate) async fn connect_subscriber(
        config: Arc<Config>,
        health_check_interval: Option<Duration>,
    ) -> Result<Self> {
        let router = Router::new(true).with_health_check(health_check_interval);
        Self::start(config, true, router).await
    }

    async fn start(config: Arc<Config>, reconnect: bool, router: Router) -> Result<Self> {
        let transport = handshake::connect(&config).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(driver::run(
            config.clone(),
            rx,
            transport,
            reconnect,
            router,
        ));
        Ok(Connection { tx, config })
    }

    /// The configuration this connection was made with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// True once the driver has stopped (closed, or every handle dropped).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Closes the connection now; requests in flight fail.
    pub fn close(&self) {
        let _ = self.tx.send(Msg::Close);
    }

    /// Hands a subscriber's operation to the driver; fails it when the connection
    /// is closed.
    pub(crate) fn pubsub(&self, op: crate::pubsub::router::Op) {
        if let Err(mpsc::error::SendError(Msg::PubSub(op))) = self.tx.send(Msg::PubSub(op)) {
            op.fail(Error::closed());
        }
    }

    /// Queues one command; the receiver gets its reply frame.
    pub(crate) fn send(&self, cmd: CommandBuf) -> oneshot::Receiver<Result<Bytes>> {
        let (tx, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError(Msg::Request(_, sink))) =
            self.tx.send(Msg::Request(Payload::One(cmd), Sink::One(tx)))
        {
            sink.fail(Error::closed());
        }
        rx
    }

    /// Queues `n` commands, encoded back to back in `cmds`; the receiver gets all
    /// their replies.
    pub(crate) fn send_many(
        &self,
        cmds: bytes::BytesMut,
        n: usize,
    ) -> oneshot::Receiver<Result<Vec<Bytes>>> {
        let (tx, rx) = oneshot::channel();
        let sink = Sink::Many {
            n,
            got: Vec::with_capacity(n),
            tx,
        };
        if let Err(mpsc::error::SendError(Msg::Request(_, sink))) =
            self.tx.send(Msg::Request(Payload::Encoded(cmds), sink))
        {
            sink.fail(Error::closed());
        }
        rx
    }
}

/// The server error in a reply frame, if the frame is an error.
pub(crate) fn frame_error(frame: &Bytes) -> Option<Error> {
    match frame.first() {
        Some(b'-') | Some(b'!') => match Reader::new(frame.clone()).next() {
            Ok(Head::Error(text)) => Some(Error::server(ServerError::new(text))),
            Ok(_) => None,
            Err(e) => Some(Error::protocol(e)),
        },
        _ => None,
    }
}

/// The server error of a reply frame, if it is one (the handshake's view).
pub(crate) fn frame_server_error(frame: &Bytes) -> Option<ServerError> {
    frame_error(frame)?.server_error().cloned()
}

/// Decodes a reply frame into `T`: an error frame becomes [`Error::server`].
pub(crate) fn decode<T: FromReply>(frame: Bytes) -> Result<T> {
    if let Some(e) = frame_error(&frame) {
        return Err(e);
    }
    T::from_frame(frame)
}

/// A future that resolves to the reply frame of one request.
pub(crate) type BoxedReply = Pin<Box<dyn Future<Output = Result<Bytes>> + Send>>;

enum State {
    Ready(Option<Error>),
    Waiting(oneshot::Receiver<Result<Bytes>>),
    Boxed(BoxedReply),
}

/// The reply of one command, decoded into `T` on the awaiting task.
///
/// Dropping it before it completes is safe: the command keeps its place on the
/// connection and its reply is read and discarded.
#[must_use = "futures do nothing unless awaited"]
pub struct ResponseFuture<T> {
    state: State,
    command: &'static str,
    timeout: Option<Pin<Box<tokio::time::Sleep>>>,
    _reply: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl<T> ResponseFuture<T> {
    /// Already failed (bad arguments, closed client).
    pub(crate) fn failed(command: &'static str, err: Error) -> Self {
        ResponseFuture {
            state: State::Ready(Some(err)),
            command,
            timeout: None,
            _reply: PhantomData,
        }
    }

    /// Waits for `rx`, at most `timeout`.
    pub(crate) fn waiting(
        command: &'static str,
        rx: oneshot::Receiver<Result<Bytes>>,
        timeout: Option<std::time::Duration>,
    ) -> Self {
        ResponseFuture {
            state: State::Waiting(rx),
            command,
            timeout: timeout.map(|d| Box::pin(tokio::time::sleep(d))),
            _reply: PhantomData,
        }
    }

    /// Runs a boxed future (a command on a pooled connection).
    pub(crate) fn boxed(command: &'static str, fut: BoxedReply) -> Self {
        ResponseFuture {
            state: State::Boxed(fut),
            command,
            timeout: None,
            _reply: PhantomData,
        }
    }
}

impl<T: FromReply> Future for ResponseFuture<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let frame = match &mut this.state {
            State::Ready(err) => {
                let e = err.take().unwrap_or_else(Error::closed);
                return Poll::Ready(Err(e.with_command(this.command)));
            }
            State::Waiting(rx) => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(r)) => r,
                Poll::Ready(Err(_)) => Err(Error::closed()),
                Poll::Pending => {
                    if let Some(t) = &mut this.timeout {
                        if t.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(Err(Error::timeout().with_command(this.command)));
                        }
                    }
                    return Poll::Pending;
                }
            },
            State::Boxed(fut) => match fut.as_mut().poll(cx) {
                Poll::Ready(r) => r,
                Poll::Pending => return Poll::Pending,
            },
        };
        Poll::Ready(
            frame
                .and_then(decode::<T>)
                .map_err(|e| e.with_command(this.command)),
        )
    }
}
