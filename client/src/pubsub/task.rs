//! The task that owns a subscriber's connection: writes subscription commands, reads
//! messages into the bounded queue (not reading while it is full, under
//! backpressure), tracks the confirmed subscriptions, and after a lost connection
//! reconnects, renews them all and reports [`Kind::Reconnected`].

use super::message::{Kind, Message};
use super::queue::Queue;
use crate::connection::{handshake, Config, Transport};
use crate::error::{Error, Result};
use crate::resp::Scanner;
use bytes::{Bytes, BytesMut};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// A subscription command for the task.
pub(crate) struct Request {
    /// The command, encoded.
    pub(crate) cmd: BytesMut,
    /// The confirmation kind it produces.
    pub(crate) kind: Kind,
    /// The channels or patterns to see confirmed; empty: every one of that family
    /// (an unsubscribe of all).
    pub(crate) channels: Vec<Bytes>,
    /// Told once they all are (or of the error).
    pub(crate) done: oneshot::Sender<Result<()>>,
}

struct Waiter {
    kind: Kind,
    /// What is still to be confirmed; `None`: until the family has no subscription.
    remaining: Option<HashSet<Bytes>>,
    done: oneshot::Sender<Result<()>>,
}

/// The subscriptions the server has confirmed, renewed after a reconnect.
#[derive(Default)]
struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shard_channels: HashSet<Bytes>,
}

impl Subscriptions {
    fn family(&mut self, kind: Kind) -> Option<&mut HashSet<Bytes>> {
        match kind {
            Kind::Subscribe | Kind::Unsubscribe => Some(&mut self.channels),
            Kind::PSubscribe | Kind::PUnsubscribe => Some(&mut self.patterns),
            Kind::SSubscribe | Kind::SUnsubscribe => Some(&mut self.shard_channels),
            _ => None,
        }
    }

    fn apply(&mut self, msg: &Message) {
        let adds = matches!(
            msg.kind,
            Kind::Subscribe | Kind::PSubscribe | Kind::SSubscribe
        );
        if let Some(set) = self.family(msg.kind) {
            if adds {
                set.insert(msg.channel.clone());
            } else {
                set.remove(&msg.channel);
            }
        }
    }

    /// The commands that renew every subscription.
    fn renew(&self) -> BytesMut {
        let mut out = BytesMut::new();
        for (name, set) in [
            (&b"SUBSCRIBE"[..], &self.channels),
            (b"PSUBSCRIBE", &self.patterns),
        ] {
            if !set.is_empty() {
                let mut cmd = crate::command::CommandBuf::raw(name);
                for c in set {
                    cmd.push(c);
                }
                cmd.encode(&mut out);
            }
        }
        // One per shard channel: in a cluster, each may live on another slot.
        for c in &self.shard_channels {
            let mut cmd = crate::command::CommandBuf::raw(b"SSUBSCRIBE");
            cmd.push(c);
            cmd.encode(&mut out);
        }
        out
    }
}

/// What the task shares with its subscriber.
pub(crate) struct Shared {
    pub(crate) queue: Queue<Message>,
    pub(crate) ignore_confirmations: bool,
}

struct Task {
    config: Arc<Config>,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Request>,
    waiters: VecDeque<Waiter>,
    subs: Subscriptions,
}

/// Runs until the subscriber is dropped.
pub(crate) async fn run(
    config: Arc<Config>,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Request>,
    first: Transport,
) {
    let mut task = Task {
        config,
        shared,
        rx,
        waiters: VecDeque::new(),
        subs: Subscriptions::default(),
    };
    let mut transport = Some(first);
    let mut attempt = 0u32;
    loop {
        let t = match transport.take() {
            Some(t) => t,
            None => match task.reconnect(&mut attempt).await {
                Some(t) => t,
                None => break,
            },
        };
        match task.serve(t).await {
            Ok(()) => break,
            Err(err) => {
                tracing::debug!(address = %task.config.address, error = %err, "subscriber connection lost");
                let text = format!(
                    "subscriber connection to {} lost: {err}; reconnecting",
                    task.config.address
                );
                for w in task.waiters.drain(..) {
                    let _ = w.done.send(Err(io_error(&text)));
                }
            }
        }
    }
    task.shared.queue.close();
}

fn io_error(text: &str) -> Error {
    Error::io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        text.to_owned(),
    ))
}

impl Task {
    /// Serves one connection; `Ok` when the subscriber is gone, `Err` when the
    /// connection failed.
    async fn serve(&mut self, mut t: Transport) -> Result<()> {
        let mut rbuf = BytesMut::with_capacity(16 * 1024);
        let mut scanner = Scanner::new(self.config.limits.clone());
        loop {
            // Every complete frame first: under backpressure this waits for room, and
            // nothing more is read meanwhile.
            while let Some(n) = scanner.scan(&rbuf)? {
                let frame = rbuf.split_to(n).freeze();
                self.handle(frame, &mut t).await?;
                if self.shared.queue.is_closed() {
                    return Ok(());
                }
            }
            if rbuf.capacity() - rbuf.len() < 4096 {
                rbuf.reserve(16 * 1024);
            }
            tokio::select! {
                req = self.rx.recv() => match req {
                    Some(req) => {
                        t.write_all(&req.cmd).await?;
                        t.flush().await?;
                        self.waiters.push_back(Waiter {
                            kind: req.kind,
                            remaining: (!req.channels.is_empty())
                                .then(|| req.channels.into_iter().collect()),
                            done: req.done,
                        });
                    }
                    None => return Ok(()),
                },
                read = t.read_buf(&mut rbuf) => {
                    if read? == 0 {
                        return Err(Error::io(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the server closed the connection",
                        )));
                    }
                }
            }
        }
    }

    /// Routes one frame: a message to the queue, a confirmation to the waiters and
    /// the queue, an error to the oldest waiter.
    async fn handle(&mut self, frame: Bytes, t: &mut Transport) -> Result<()> {
        let msg = match Message::parse(frame) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(()),
            Err(e) => {
                if let Some(w) = self.waiters.pop_front() {
                    let _ = w.done.send(Err(e));
                }
                return Ok(());
            }
        };
        if msg.kind.is_confirmation() {
            self.subs.apply(&msg);
            self.confirm(&msg);
            if self.shared.ignore_confirmations {
                return Ok(());
            }
        }
        self.deliver(msg, t).await
    }

    /// Queues a message. While the queue is full (backpressure), subscription
    /// commands are still sent, but their calls (and those already waiting) return
    /// at once, unconfirmed: the
    /// confirmation is behind messages the consumer has not read yet, and the
    /// consumer cannot read while it waits for the call.
    async fn deliver(&mut self, msg: Message, t: &mut Transport) -> Result<()> {
        let Err(msg) = self.shared.queue.try_push(msg) else {
            return Ok(());
        };
        // Calls already waiting for a confirmation return too: theirs may be behind
        // this message.
        for w in self.waiters.drain(..) {
            let _ = w.done.send(Ok(()));
        }
        let shared = self.shared.clone();
        let push = shared.queue.push(msg);
        tokio::pin!(push);
        loop {
            tokio::select! {
                biased;
                () = &mut push => return Ok(()),
                req = self.rx.recv() => match req {
                    Some(req) => {
                        t.write_all(&req.cmd).await?;
                        t.flush().await?;
                        let _ = req.done.send(Ok(()));
                    }
                    None => {
                        shared.queue.close();
                        return Ok(());
                    }
                },
            }
        }
    }

    fn confirm(&mut self, msg: &Message) {
        let Some(pos) = self.waiters.iter().position(|w| w.kind == msg.kind) else {
            return;
        };
        let empty_family = self.subs.family(msg.kind).is_some_and(|set| set.is_empty());
        let w = &mut self.waiters[pos];
        let done = match &mut w.remaining {
            Some(rest) => {
                rest.remove(&msg.channel);
                rest.is_empty()
            }
            None => empty_family,
        };
        if done {
            if let Some(w) = self.waiters.remove(pos) {
                let _ = w.done.send(Ok(()));
            }
        }
    }

    /// Reconnects with backoff, failing requests meanwhile; renews the subscriptions
    /// and reports [`Kind::Reconnected`]. `None` when the subscriber is gone.
    async fn reconnect(&mut self, attempt: &mut u32) -> Option<Transport> {
        loop {
            let delay = self.config.backoff.delay(*attempt);
            *attempt = attempt.saturating_add(1);
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    req = self.rx.recv() => match req {
                        Some(req) => {
                            let text = format!("subscriber not connected to {} (reconnecting)", self.config.address);
                            let _ = req.done.send(Err(io_error(&text)));
                        }
                        None => return None,
                    },
                }
            }
            if self.shared.queue.is_closed() {
                return None;
            }
            let Ok((mut t, _)) = handshake::connect(&self.config).await else {
                continue;
            };
            let renew = self.subs.renew();
            if !renew.is_empty() && (t.write_all(&renew).await.is_err() || t.flush().await.is_err())
            {
                continue;
            }
            *attempt = 0;
            tracing::debug!(address = %self.config.address, "subscriber reconnected");
            self.shared.queue.push(Message::reconnected()).await;
            return Some(t);
        }
    }
}
