//! The pub/sub state of one connection, kept by its demultiplexer
//! ([`demux`](super::demux)), which the connection's driver talks to: which subscriber wants
//! which channel, pattern and shard channel, which of those the server confirmed,
//! and where each pub/sub frame goes.
//!
//! Sans-IO: it is handed operations (it encodes the commands to write) and parsed
//! frames (it queues them for subscribers); it never touches the socket.
//!
//! Two modes:
//! - **shared** (the client's multiplexed RESP3 connection): any number of
//!   subscribers; a channel is subscribed on the server while at least one of them
//!   wants it; confirmation counts are each subscriber's own.
//! - **dedicated** (a subscriber's own connection, RESP2 or RESP3): one subscriber;
//!   requests go to the server as they are and its counts pass through; RESP2 arrays
//!   are pub/sub frames too, since nothing else runs there.
//!
//! Every subscription command is followed by a `PING`, the *fence*: confirmations
//! arrive as pub/sub frames before its reply, and a refused command's error reply
//! arrives before it too, so an error can never be taken for the reply of another
//! command. The confirmations of a request therefore arrive while its fence is the
//! oldest request waiting for a reply, which is how they are told apart from those
//! of other subscribers' requests.

use super::message::{Kind, Message};
use crate::command::CommandBuf;
use crate::error::{Error, Result};
use crate::queue::{Overflow, Queue};
use bytes::{Bytes, BytesMut};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::oneshot;

/// Identifies a subscriber on its connection.
pub(crate) type SubId = u64;

/// What a subscriber shares with the connection's driver.
pub(crate) struct Shared {
    /// Where its messages wait.
    pub(crate) queue: Queue<Message>,
    /// Whether confirmations are left out of the queue.
    pub(crate) ignore_confirmations: bool,
    /// Per family, what the server confirmed for it on the current connection: the
    /// driver decides what to deliver by it, the subscriber shows it.
    confirmed: std::sync::Mutex<[HashSet<Bytes>; 3]>,
}

impl Shared {
    pub(crate) fn new(queue: Queue<Message>, ignore_confirmations: bool) -> Self {
        Shared {
            queue,
            ignore_confirmations,
            confirmed: Default::default(),
        }
    }

    fn confirmed(&self) -> std::sync::MutexGuard<'_, [HashSet<Bytes>; 3]> {
        self.confirmed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether anything is confirmed.
    pub(crate) fn any_confirmed(&self) -> bool {
        self.confirmed().iter().any(|set| !set.is_empty())
    }

    /// The channels (0), patterns (1) or shard channels (2) confirmed, sorted.
    pub(crate) fn confirmed_list(&self, family: usize) -> Vec<Bytes> {
        let mut list: Vec<Bytes> = self.confirmed()[family].iter().cloned().collect();
        list.sort();
        list
    }
}

/// A pub/sub operation for a connection's driver.
pub(crate) enum Op {
    /// A subscriber starts using the connection; `done` gets whether it may (a
    /// shared connection must speak RESP3).
    Attach {
        id: SubId,
        shared: Arc<Shared>,
        done: oneshot::Sender<Result<bool>>,
    },
    /// A subscribe or unsubscribe call; `done` once the server answered.
    Request {
        id: SubId,
        kind: Kind,
        /// Empty for an unsubscribe: every one of that family.
        channels: Vec<Bytes>,
        done: oneshot::Sender<Result<()>>,
    },
    /// The subscriber is gone: what only it wanted is unsubscribed.
    Detach { id: SubId },
    /// A `PING` alone; `done` once the server answered it.
    Ping { done: oneshot::Sender<Result<()>> },
}

impl Op {
    /// Fails the operation without running it (the connection is down).
    pub(crate) fn fail(self, err: Error) -> Option<SubId> {
        match self {
            Op::Attach { done, .. } => {
                let _ = done.send(Err(err));
                None
            }
            Op::Request { done, .. } | Op::Ping { done } => {
                let _ = done.send(Err(err));
                None
            }
            Op::Detach { id } => Some(id),
        }
    }
}

/// The three families of subscriptions; each has its own commands and count.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Channel = 0,
    Pattern = 1,
    Shard = 2,
}

const FAMILIES: [Family; 3] = [Family::Channel, Family::Pattern, Family::Shard];

impl Family {
    /// The family of a confirmation kind, and whether it adds a subscription.
    fn of(kind: Kind) -> Option<(Family, bool)> {
        Some(match kind {
            Kind::Subscribe => (Family::Channel, true),
            Kind::Unsubscribe => (Family::Channel, false),
            Kind::PSubscribe => (Family::Pattern, true),
            Kind::PUnsubscribe => (Family::Pattern, false),
            Kind::SSubscribe => (Family::Shard, true),
            Kind::SUnsubscribe => (Family::Shard, false),
            _ => return None,
        })
    }

    fn subscribe(self) -> (&'static [u8], Kind) {
        match self {
            Family::Channel => (b"SUBSCRIBE", Kind::Subscribe),
            Family::Pattern => (b"PSUBSCRIBE", Kind::PSubscribe),
            Family::Shard => (b"SSUBSCRIBE", Kind::SSubscribe),
        }
    }

    fn unsubscribe(self) -> (&'static [u8], Kind) {
        match self {
            Family::Channel => (b"UNSUBSCRIBE", Kind::Unsubscribe),
            Family::Pattern => (b"PUNSUBSCRIBE", Kind::PUnsubscribe),
            Family::Shard => (b"SUNSUBSCRIBE", Kind::SUnsubscribe),
        }
    }

    /// Shard channels go one per command: in a cluster each may be another slot's.
    fn one_per_command(self) -> bool {
        self == Family::Shard
    }
}

/// One subscriber's state on the connection.
struct Sub {
    shared: Arc<Shared>,
    /// What it asked for, as of the last request the driver took (the server runs
    /// requests in that order): decides what is sent.
    wants: [HashSet<Bytes>; 3],
    // What the server confirmed is `shared.confirmed`: it decides what is delivered.
    // Unsubscribing ends a subscription when the server confirms it, so messages
    // published before the call still arrive.
}

impl Sub {
    /// The count a confirmation of `family` carries: channels and patterns together,
    /// shard channels apart (as the server counts them).
    fn count(&self, family: Family) -> i64 {
        let confirmed = self.shared.confirmed();
        let n = match family {
            Family::Shard => confirmed[2].len(),
            _ => confirmed[0].len() + confirmed[1].len(),
        };
        n as i64
    }
}

/// Whose confirmations arrive while a fence is the oldest request waiting.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Owner {
    /// A subscriber's call of this kind.
    Call(SubId, Kind),
    /// The renewal after a reconnect: they go to whoever wants the channel.
    Renewal,
    /// The clean-up after a subscriber left: they go to nobody.
    Cleanup,
    /// A subscriber's `PING`: it confirms nothing.
    Ping,
}

/// The request waiting for the `PING` behind its subscription commands.
pub(crate) struct Fence {
    owner: Owner,
    /// Told when the fence is answered (or released early under backpressure).
    done: Option<oneshot::Sender<Result<()>>>,
    /// Error replies still possible (one per command, then the `PING`'s own).
    errors_left: usize,
    /// The first error reply.
    error: Option<Error>,
    /// Unsubscriptions that other subscribers' wants keep on the server: confirmed
    /// here when the fence is answered, after every message that came before.
    local: Vec<Bytes>,
    /// What a subscribe call asked for: forgotten again if the server refused it.
    asked: Vec<Bytes>,
}

impl Fence {
    /// Takes one reply; true when the fence is done. Subscription commands reply
    /// (in band) only with errors, so the first other reply is the `PING`'s.
    pub(crate) fn on_reply(&mut self, frame: &Bytes) -> bool {
        if let Some(err) = crate::reply::frame_error(frame) {
            self.error.get_or_insert(err);
            self.errors_left = self.errors_left.saturating_sub(1);
            return self.errors_left == 0;
        }
        true
    }

    /// The connection failed before the fence was answered.
    pub(crate) fn fail(self, err: Error) {
        if let Some(done) = self.done {
            let _ = done.send(Err(err));
        }
    }

    /// Lets the call return now, unconfirmed: under backpressure its confirmation is
    /// behind messages nobody can read while the call is waiting.
    pub(crate) fn release(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(Ok(()));
        }
    }
}

/// A message that found a full queue under backpressure, with the subscribers it
/// has still to reach.
struct Stalled {
    msg: Message,
    targets: Vec<Arc<Shared>>,
    /// Confirmations queued meanwhile, which go after it.
    held: Vec<(Arc<Shared>, Message)>,
}

/// Per family, a channel (or pattern) and the subscribers it concerns.
type Index = [HashMap<Bytes, Vec<SubId>>; 3];

fn index_add(index: &mut Index, f: usize, c: &Bytes, id: SubId) {
    let ids = index[f].entry(c.clone()).or_default();
    if !ids.contains(&id) {
        ids.push(id);
    }
}

fn index_remove(index: &mut Index, f: usize, c: &Bytes, id: SubId) {
    if let Some(ids) = index[f].get_mut(c) {
        ids.retain(|x| *x != id);
        if ids.is_empty() {
            index[f].remove(c);
        }
    }
}

/// The pub/sub state of one connection.
pub(crate) struct Router {
    dedicated: bool,
    /// A subscriber's own connection: how long a silence lasts before the driver
    /// asks whether the server is still there.
    health_check_interval: Option<Duration>,
    subs: HashMap<SubId, Sub>,
    /// Who wants each channel: on a shared connection, subscribed on the server
    /// while not empty.
    holders: Index,
    /// Who has each channel confirmed: where its messages go.
    routes: Index,
    stalled: Option<Stalled>,
}

/// `PING`, the fence behind subscription commands.
const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

impl Router {
    /// The state of a shared connection (`dedicated == false`) or of a subscriber's
    /// own connection.
    pub(crate) fn new(dedicated: bool) -> Self {
        Router {
            dedicated,
            health_check_interval: None,
            subs: HashMap::new(),
            holders: Default::default(),
            routes: Default::default(),
            stalled: None,
        }
    }

    /// A subscriber's own connection: RESP2 arrays are pub/sub frames.
    pub(crate) fn is_dedicated(&self) -> bool {
        self.dedicated
    }

    /// Checks the connection after `every` of silence (a subscriber's own
    /// connection; see [`SubscriberBuilder::health_check_interval`]).
    ///
    /// [`SubscriberBuilder::health_check_interval`]: crate::pubsub::SubscriberBuilder::health_check_interval
    pub(crate) fn with_health_check(mut self, every: Option<Duration>) -> Self {
        self.health_check_interval = every;
        self
    }

    /// The silence after which the driver checks the connection.
    pub(crate) fn health_check_interval(&self) -> Option<Duration> {
        self.health_check_interval
    }

    /// The health check's `PING`, written to `out`; its fence confirms nothing.
    pub(crate) fn probe(&self, out: &mut BytesMut) -> Fence {
        fenced(Owner::Ping, Vec::new(), None, out)
    }

    /// Whether any subscriber is attached (messages may come).
    pub(crate) fn has_subscribers(&self) -> bool {
        self.dedicated || !self.subs.is_empty()
    }

    /// A message waits for room in a queue: stop reading.
    pub(crate) fn is_stalled(&self) -> bool {
        self.stalled.is_some()
    }

    /// Runs an operation: writes what it sends to `out` and returns the fence to
    /// wait for, if anything was sent.
    pub(crate) fn op(&mut self, op: Op, out: &mut BytesMut, resp3: bool) -> Option<Fence> {
        match op {
            Op::Attach { id, shared, done } => {
                // Sharing needs push frames: on RESP2 a subscribed connection can run
                // nothing else.
                let ok = self.dedicated || resp3;
                if ok {
                    self.subs.insert(
                        id,
                        Sub {
                            shared,
                            wants: Default::default(),
                        },
                    );
                }
                let _ = done.send(Ok(ok));
                None
            }
            Op::Request {
                id,
                kind,
                channels,
                done,
            } => self.request(id, kind, channels, done, out),
            Op::Detach { id } => self.detach(id, out),
            Op::Ping { done } => Some(fenced(Owner::Ping, Vec::new(), done, out)),
        }
    }

    fn request(
        &mut self,
        id: SubId,
        kind: Kind,
        channels: Vec<Bytes>,
        done: oneshot::Sender<Result<()>>,
        out: &mut BytesMut,
    ) -> Option<Fence> {
        let (Some((family, adds)), Some(sub)) = (Family::of(kind), self.subs.get_mut(&id)) else {
            let _ = done.send(Err(Error::closed()));
            return None;
        };
        let f = family as usize;
        let owner = Owner::Call(id, kind);
        if adds {
            // Each channel once: the server confirms every argument.
            let mut seen = HashSet::with_capacity(channels.len());
            let mut send: Vec<Bytes> = Vec::with_capacity(channels.len());
            for c in channels {
                if seen.insert(c.clone()) {
                    sub.wants[f].insert(c.clone());
                    send.push(c);
                }
            }
            for c in &send {
                index_add(&mut self.holders, f, c, id);
            }
            let asked = send.clone();
            let mut fence = fenced(owner, vec![(family, true, send)], done, out);
            fence.asked = asked;
            return Some(fence);
        }
        if channels.is_empty() && self.dedicated {
            // The server's own "all" (it also confirms when there is nothing).
            for c in std::mem::take(&mut sub.wants[f]) {
                index_remove(&mut self.holders, f, &c, id);
            }
            return Some(fenced(owner, vec![(family, false, Vec::new())], done, out));
        }
        let list: Vec<Bytes> = if channels.is_empty() {
            let mut all: Vec<Bytes> = sub.wants[f]
                .union(&sub.shared.confirmed()[f])
                .cloned()
                .collect();
            all.sort();
            all
        } else {
            channels
        };
        let mut send = Vec::new();
        let mut local = Vec::new();
        let mut seen = HashSet::with_capacity(list.len());
        if list.is_empty() {
            // Unsubscribing from all of nothing: confirmed as the server would, with
            // no channel.
            local.push(Bytes::new());
        }
        for c in list {
            if !seen.insert(c.clone()) {
                continue;
            }
            sub.wants[f].remove(&c);
            index_remove(&mut self.holders, f, &c, id);
            if self.holders[f].contains_key(&c) {
                // Another subscriber still wants it: the server keeps it.
                local.push(c);
            } else {
                send.push(c);
            }
        }
        let commands = if send.is_empty() {
            Vec::new()
        } else {
            vec![(family, false, send)]
        };
        let mut fence = fenced(owner, commands, done, out);
        fence.local = local;
        Some(fence)
    }

    /// The subscriber left: its subscriptions that nobody else wants are dropped on
    /// the server (on a dedicated connection the connection itself closes).
    pub(crate) fn detach(&mut self, id: SubId, out: &mut BytesMut) -> Option<Fence> {
        let sub = self.subs.remove(&id)?;
        let mut commands = Vec::new();
        for family in FAMILIES {
            let f = family as usize;
            let mut orphans = Vec::new();
            for c in sub.wants[f].union(&sub.shared.confirmed()[f]) {
                index_remove(&mut self.routes, f, c, id);
                index_remove(&mut self.holders, f, c, id);
                if !self.holders[f].contains_key(c) && !orphans.contains(c) {
                    orphans.push(c.clone());
                }
            }
            if !orphans.is_empty() {
                orphans.sort();
                commands.push((family, false, orphans));
            }
        }
        if commands.is_empty() || self.dedicated {
            return None;
        }
        Some(fenced(Owner::Cleanup, commands, None, out))
    }

    /// The subscriber left while the connection is down: nothing to send, and the
    /// renewal leaves out what only it wanted.
    pub(crate) fn detach_offline(&mut self, id: SubId) {
        let _ = self.detach(id, &mut BytesMut::new());
    }

    /// The connection was lost: what the server never confirmed is forgotten (its
    /// call failed), and nothing is confirmed on the next connection yet.
    pub(crate) fn connection_lost(&mut self) {
        for (id, sub) in &mut self.subs {
            for f in 0..3 {
                let unconfirmed: Vec<Bytes> = sub.wants[f]
                    .difference(&sub.shared.confirmed()[f])
                    .cloned()
                    .collect();
                for c in unconfirmed {
                    sub.wants[f].remove(&c);
                    index_remove(&mut self.holders, f, &c, *id);
                }
                sub.shared.confirmed()[f].clear();
            }
        }
        self.routes = Default::default();
    }

    /// A new connection: every subscriber hears of it (after a message that was
    /// waiting for room), then every subscription is renewed.
    pub(crate) fn renew(&mut self, out: &mut BytesMut) -> Option<Fence> {
        if let Some(stalled) = self.stalled.take() {
            for t in stalled.targets {
                t.queue.push_event(stalled.msg.clone());
            }
            for (t, m) in stalled.held {
                t.queue.push_event(m);
            }
        }
        let mut ids: Vec<&SubId> = self.subs.keys().collect();
        ids.sort();
        for id in ids {
            self.subs[id]
                .shared
                .queue
                .push_event(Message::reconnected());
        }
        let mut commands = Vec::new();
        for family in FAMILIES {
            let mut all: Vec<Bytes> = self.holders[family as usize].keys().cloned().collect();
            if !all.is_empty() {
                all.sort();
                commands.push((family, true, all));
            }
        }
        if commands.is_empty() {
            return None;
        }
        Some(fenced(Owner::Renewal, commands, None, out))
    }

    /// The fence of a request was answered: every confirmation and message before
    /// it has been routed. Confirms what was kept locally and ends the call.
    pub(crate) fn fence_done(&mut self, mut fence: Fence) {
        if let Owner::Call(id, kind) = fence.owner {
            for c in std::mem::take(&mut fence.local) {
                self.confirm_to(id, confirmation(kind, c, None));
            }
            if fence.error.is_some() {
                self.refused(id, kind, &fence.asked);
            }
        }
        let result = match fence.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        };
        if let Some(done) = fence.done.take() {
            let _ = done.send(result);
        }
    }

    /// The server refused a subscribe call: what it did not confirm is not wanted
    /// (it would be renewed, or unsubscribed by an unsubscribe-all, otherwise).
    fn refused(&mut self, id: SubId, kind: Kind, asked: &[Bytes]) {
        let (Some((family, true)), Some(sub)) = (Family::of(kind), self.subs.get_mut(&id)) else {
            return;
        };
        let f = family as usize;
        for c in asked {
            if !sub.shared.confirmed()[f].contains(c) && sub.wants[f].remove(c) {
                index_remove(&mut self.holders, f, c, id);
            }
        }
    }

    /// Routes a pub/sub frame. `front` is the fence of the oldest request waiting
    /// for a reply, if that request is one. Afterwards,
    /// [`is_stalled`](Self::is_stalled) tells whether reading must stop.
    pub(crate) fn on_message(&mut self, msg: Message, front: Option<&Fence>) {
        let Some((family, adds)) = Family::of(msg.kind) else {
            let f = match msg.kind {
                Kind::PMessage => Family::Pattern,
                Kind::SMessage => Family::Shard,
                _ => Family::Channel,
            } as usize;
            let key = match msg.kind {
                Kind::PMessage => msg.pattern.as_ref(),
                _ => Some(&msg.channel),
            };
            let Some(ids) = key.and_then(|k| self.routes[f].get(k)) else {
                return;
            };
            let subs = &self.subs;
            let targets = ids.iter().filter_map(|id| subs.get(id)).map(|s| &s.shared);
            deliver(&mut self.stalled, msg, targets);
            return;
        };
        let f = family as usize;
        match front.map(|fence| fence.owner) {
            Some(Owner::Call(id, kind)) if kind == msg.kind => self.confirm_to(id, msg),
            Some(Owner::Renewal) if adds => {
                for id in self.holders[f]
                    .get(&msg.channel)
                    .cloned()
                    .unwrap_or_default()
                {
                    self.confirm_to(id, msg.clone());
                }
            }
            // Clean-up confirmations go to nobody; a subscription nobody asked for
            // has nobody to go to.
            Some(Owner::Cleanup) => {}
            _ if adds => {}
            _ => {
                // An unsubscription not asked for: the server dropped a subscription
                // by itself (a shard channel whose slot moved). Whoever had it is
                // told, and it is not renewed.
                let mut ids = self.holders[f].remove(&msg.channel).unwrap_or_default();
                for id in self.routes[f]
                    .get(&msg.channel)
                    .cloned()
                    .unwrap_or_default()
                {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                for id in ids {
                    if let Some(sub) = self.subs.get_mut(&id) {
                        sub.wants[f].remove(&msg.channel);
                    }
                    self.confirm_to(id, msg.clone());
                }
            }
        }
    }

    /// Applies a confirmation to one subscriber and queues it (with its own count
    /// on a shared connection).
    fn confirm_to(&mut self, id: SubId, mut msg: Message) {
        let Some((family, adds)) = Family::of(msg.kind) else {
            return;
        };
        let Some(sub) = self.subs.get_mut(&id) else {
            return;
        };
        let f = family as usize;
        if adds {
            if sub.wants[f].contains(&msg.channel) {
                sub.shared.confirmed()[f].insert(msg.channel.clone());
                index_add(&mut self.routes, f, &msg.channel, id);
            }
        } else if sub.shared.confirmed()[f].remove(&msg.channel) {
            index_remove(&mut self.routes, f, &msg.channel, id);
        }
        if sub.shared.ignore_confirmations {
            return;
        }
        if !self.dedicated || msg.count.is_none() {
            msg.count = Some(sub.count(family));
        }
        let target = sub.shared.clone();
        deliver(&mut self.stalled, msg, std::iter::once(&target));
    }

    /// Tries again to queue a stalled message; ready once every queue took it.
    pub(crate) fn poll_unstall(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while let Some(stalled) = &mut self.stalled {
            let Some(t) = stalled.targets.first() else {
                break;
            };
            match t.queue.try_push(stalled.msg.clone()) {
                Ok(()) => {
                    stalled.targets.remove(0);
                }
                Err(_) => {
                    if t.queue.poll_room(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
        }
        if let Some(stalled) = self.stalled.take() {
            for (t, m) in stalled.held {
                t.queue.push_event(m);
            }
        }
        Poll::Ready(())
    }
}

impl Drop for Router {
    /// The connection's driver ended: the subscribers' streams end too.
    fn drop(&mut self) {
        for sub in self.subs.values() {
            sub.shared.queue.close();
        }
    }
}

fn confirmation(kind: Kind, channel: Bytes, count: Option<i64>) -> Message {
    Message {
        kind,
        channel,
        pattern: None,
        payload: Bytes::new(),
        count,
        elements: None,
    }
}

/// Encodes the commands (`(family, subscribe?, channels)`; no channels: the
/// command alone) and the `PING` behind them.
fn fenced(
    owner: Owner,
    commands: Vec<(Family, bool, Vec<Bytes>)>,
    done: impl Into<Option<oneshot::Sender<Result<()>>>>,
    out: &mut BytesMut,
) -> Fence {
    let mut n = 0;
    for (family, adds, channels) in commands {
        let (name, _) = if adds {
            family.subscribe()
        } else {
            family.unsubscribe()
        };
        let groups: Vec<&[Bytes]> = if family.one_per_command() && !channels.is_empty() {
            channels.chunks(1).collect()
        } else {
            vec![&channels[..]]
        };
        for group in groups {
            let mut cmd = CommandBuf::raw(name);
            for c in group {
                cmd.push(c);
            }
            cmd.encode(out);
            n += 1;
        }
    }
    out.extend_from_slice(PING);
    Fence {
        owner,
        done: done.into(),
        errors_left: n + 1,
        error: None,
        local: Vec::new(),
        asked: Vec::new(),
    }
}

/// Queues a message for `targets`, in order; under backpressure, stalls at the
/// first full queue.
fn deliver<'a>(
    stalled: &mut Option<Stalled>,
    msg: Message,
    targets: impl Iterator<Item = &'a Arc<Shared>>,
) {
    if let Some(stalled) = stalled {
        // Reading has stopped, so only a confirmation made here gets here: it goes
        // behind the stalled message.
        for t in targets {
            stalled.held.push((t.clone(), msg.clone()));
        }
        return;
    }
    let mut targets = targets.peekable();
    let mut msg = Some(msg);
    while let Some(t) = targets.next() {
        let m = match targets.peek() {
            Some(_) => msg.clone(),
            None => msg.take(),
        };
        let Some(m) = m else { return };
        if let Err(back) = t.queue.try_push(m) {
            let mut rest = vec![t.clone()];
            rest.extend(targets.cloned());
            *stalled = Some(Stalled {
                msg: back,
                targets: rest,
                held: Vec::new(),
            });
            return;
        }
    }
}

/// The default overflow policy of a subscriber: backpressure on a connection of its
/// own, dropping the oldest on a shared one (where not reading would stall every
/// command).
pub(crate) fn default_overflow(shared: bool) -> Overflow {
    if shared {
        Overflow::DropOldest
    } else {
        Overflow::Backpressure
    }
}

#[cfg(test)]
mod tests {
    //! The router alone, fed the frames a server sends in answer to what it writes.
    use super::*;
    use std::task::Waker;

    fn shared(capacity: usize, overflow: Overflow) -> Arc<Shared> {
        Arc::new(Shared::new(Queue::new(capacity, overflow), false))
    }

    /// Subscribers 1 and 2, each with a queue of 16 that drops the oldest.
    fn two_subscribers(r: &mut Router) -> (Arc<Shared>, Arc<Shared>) {
        let (a, b) = (
            shared(16, Overflow::DropOldest),
            shared(16, Overflow::DropOldest),
        );
        attach(r, 1, &a);
        attach(r, 2, &b);
        (a, b)
    }

    fn attach(r: &mut Router, id: SubId, s: &Arc<Shared>) {
        let (done, mut rx) = oneshot::channel();
        let fence = r.op(
            Op::Attach {
                id,
                shared: s.clone(),
                done,
            },
            &mut BytesMut::new(),
            true,
        );
        assert!(fence.is_none());
        assert!(matches!(rx.try_recv(), Ok(Ok(true))));
    }

    /// A call: what it wrote, its fence, and where its result goes.
    fn call(
        r: &mut Router,
        id: SubId,
        kind: Kind,
        channels: &[&str],
    ) -> (String, Fence, oneshot::Receiver<Result<()>>) {
        let (done, rx) = oneshot::channel();
        let mut out = BytesMut::new();
        let fence = r
            .op(
                Op::Request {
                    id,
                    kind,
                    channels: channels
                        .iter()
                        .map(|c| Bytes::from(c.to_string()))
                        .collect(),
                    done,
                },
                &mut out,
                true,
            )
            .expect("a fence");
        (String::from_utf8(out.to_vec()).unwrap(), fence, rx)
    }

    /// The `PING` answered: the fence is done.
    fn pong(r: &mut Router, mut fence: Fence) {
        assert!(fence.on_reply(&Bytes::from_static(b"+PONG\r\n")));
        r.fence_done(fence);
    }

    /// A subscribe call of one channel that the server confirms.
    fn confirmed_call(r: &mut Router, id: SubId, kind: Kind, channel: &str) {
        let (_, fence, _) = call(r, id, kind, &[channel]);
        r.on_message(conf(kind, channel), Some(&fence));
        pong(r, fence);
    }

    fn conf(kind: Kind, channel: &str) -> Message {
        confirmation(kind, Bytes::from(channel.to_string()), Some(99))
    }

    fn msg(channel: &str, payload: &str) -> Message {
        Message {
            kind: Kind::Message,
            channel: Bytes::from(channel.to_string()),
            pattern: None,
            payload: Bytes::from(payload.to_string()),
            count: None,
            elements: None,
        }
    }

    /// What waits in a queue: kind, channel, payload, count.
    fn drain(s: &Shared) -> Vec<(Kind, String, String, Option<i64>)> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(m)) = s.queue.poll_pop(&mut cx) {
            let text = |b: &Bytes| String::from_utf8(b.to_vec()).unwrap();
            out.push((m.kind, text(&m.channel), text(&m.payload), m.count));
        }
        out
    }

    fn c(kind: Kind, channel: &str, count: i64) -> (Kind, String, String, Option<i64>) {
        (kind, channel.into(), String::new(), Some(count))
    }

    fn m(channel: &str, payload: &str) -> (Kind, String, String, Option<i64>) {
        (Kind::Message, channel.into(), payload.into(), None)
    }

    const PING: &str = "*1\r\n$4\r\nPING\r\n";

    #[test]
    fn a_shared_channel_stays_subscribed_while_anyone_wants_it() {
        let mut r = Router::new(false);
        let (a, b) = two_subscribers(&mut r);
        let (out, fence, _rx) = call(&mut r, 1, Kind::Subscribe, &["x", "x"]);
        assert_eq!(out, format!("*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nx\r\n{PING}"));
        r.on_message(conf(Kind::Subscribe, "x"), Some(&fence));
        pong(&mut r, fence);
        // The second subscriber's SUBSCRIBE goes out too: its confirmation, and so its
        // call, waits for the server.
        let (out, fence, _rx) = call(&mut r, 2, Kind::Subscribe, &["x"]);
        assert!(out.starts_with("*2\r\n$9\r\nSUBSCRIBE"));
        r.on_message(conf(Kind::Subscribe, "x"), Some(&fence));
        pong(&mut r, fence);
        r.on_message(msg("x", "1"), None);
        // The first one leaves: only a PING goes out, and what arrives before its
        // answer is still its own.
        let (out, fence, mut rx) = call(&mut r, 1, Kind::Unsubscribe, &["x"]);
        assert_eq!(out, PING);
        r.on_message(msg("x", "2"), Some(&fence));
        assert!(rx.try_recv().is_err(), "answered before the PING");
        pong(&mut r, fence);
        assert!(matches!(rx.try_recv(), Ok(Ok(()))));
        r.on_message(msg("x", "3"), None);
        assert_eq!(
            drain(&a),
            [
                c(Kind::Subscribe, "x", 1),
                m("x", "1"),
                m("x", "2"),
                c(Kind::Unsubscribe, "x", 0)
            ]
        );
        assert_eq!(
            drain(&b),
            [
                c(Kind::Subscribe, "x", 1),
                m("x", "1"),
                m("x", "2"),
                m("x", "3")
            ]
        );
        // The last one leaves: now the server is told.
        let (out, _, _) = call(&mut r, 2, Kind::Unsubscribe, &[]);
        assert_eq!(
            out,
            format!("*2\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\nx\r\n{PING}")
        );
    }

    #[test]
    fn a_refused_subscribe_is_forgotten() {
        let mut r = Router::new(false);
        let a = shared(16, Overflow::DropOldest);
        attach(&mut r, 1, &a);
        let (_, mut fence, mut rx) = call(&mut r, 1, Kind::Subscribe, &["no"]);
        assert!(!fence.on_reply(&Bytes::from_static(b"-NOPERM no\r\n")));
        assert!(fence.on_reply(&Bytes::from_static(b"+PONG\r\n")));
        r.fence_done(fence);
        assert!(rx.try_recv().unwrap().unwrap_err().is_server());
        // Nothing is wanted: unsubscribing from all sends nothing and confirms with
        // no channel, as the server would.
        let (out, fence, _) = call(&mut r, 1, Kind::Unsubscribe, &[]);
        assert_eq!(out, PING);
        pong(&mut r, fence);
        assert_eq!(drain(&a), [c(Kind::Unsubscribe, "", 0)]);
        // And a reconnect renews nothing.
        r.connection_lost();
        let mut out = BytesMut::new();
        assert!(r.renew(&mut out).is_none());
        assert!(out.is_empty());
    }

    #[test]
    fn a_subscriber_that_leaves_unsubscribes_what_only_it_wanted() {
        let mut r = Router::new(false);
        let (_, b) = two_subscribers(&mut r);
        for (id, kind, ch) in [
            (1, Kind::Subscribe, "x"),
            (1, Kind::PSubscribe, "p*"),
            (1, Kind::SSubscribe, "s1"),
            (1, Kind::SSubscribe, "s2"),
            (2, Kind::Subscribe, "x"),
        ] {
            confirmed_call(&mut r, id, kind, ch);
        }
        let mut out = BytesMut::new();
        let fence = r.detach(1, &mut out).expect("a clean-up");
        // One SUNSUBSCRIBE per shard channel (a cluster may have them on other slots).
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            format!(
                "*2\r\n$12\r\nPUNSUBSCRIBE\r\n$2\r\np*\r\n\
                 *2\r\n$12\r\nSUNSUBSCRIBE\r\n$2\r\ns1\r\n\
                 *2\r\n$12\r\nSUNSUBSCRIBE\r\n$2\r\ns2\r\n{PING}"
            )
        );
        // Its confirmations go to nobody; the other subscriber still gets x.
        r.on_message(conf(Kind::PUnsubscribe, "p*"), Some(&fence));
        pong(&mut r, fence);
        r.on_message(msg("x", "still"), None);
        assert_eq!(drain(&b), [c(Kind::Subscribe, "x", 1), m("x", "still")]);
    }

    #[test]
    fn a_reconnect_renews_what_the_server_confirmed() {
        let mut r = Router::new(false);
        let a = shared(16, Overflow::DropOldest);
        attach(&mut r, 1, &a);
        confirmed_call(&mut r, 1, Kind::Subscribe, "kept");
        // Lost before its confirmation: the call fails, and it is not renewed.
        let (_, fence, mut rx) = call(&mut r, 1, Kind::Subscribe, &["lost"]);
        fence.fail(Error::closed());
        assert!(rx.try_recv().unwrap().is_err());
        r.connection_lost();
        // Nothing is confirmed on the new connection yet: no message is routed.
        r.on_message(msg("kept", "too early"), None);
        let mut out = BytesMut::new();
        let fence = r.renew(&mut out).expect("a renewal");
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            format!("*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nkept\r\n{PING}")
        );
        r.on_message(conf(Kind::Subscribe, "kept"), Some(&fence));
        pong(&mut r, fence);
        r.on_message(msg("kept", "back"), None);
        let got = drain(&a);
        assert_eq!(got[0], c(Kind::Subscribe, "kept", 1));
        assert_eq!(got[1].0, Kind::Reconnected);
        assert_eq!(got[2..], [c(Kind::Subscribe, "kept", 1), m("kept", "back")]);
    }

    #[test]
    fn backpressure_stalls_and_keeps_later_confirmations_behind() {
        let mut r = Router::new(false);
        let (a, b) = (
            shared(1, Overflow::Backpressure),
            shared(16, Overflow::DropOldest),
        );
        a.queue.push_event(msg("warm", "up")); // the queue starts full
        attach(&mut r, 1, &a);
        attach(&mut r, 2, &b);
        for id in [1, 2] {
            let (_, fence, _) = call(&mut r, id, Kind::Subscribe, &["x"]);
            r.on_message(conf(Kind::Subscribe, "x"), Some(&fence));
            assert!(r.is_stalled(), "the full queue stalls the confirmation");
            pong(&mut r, fence);
        }
        // The second subscriber leaves x meanwhile: its confirmation waits its turn.
        let (_, fence, _) = call(&mut r, 2, Kind::Unsubscribe, &["x"]);
        pong(&mut r, fence);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(r.poll_unstall(&mut cx).is_pending());
        assert_eq!(drain(&a), [m("warm", "up")]);
        assert!(r.poll_unstall(&mut cx).is_ready());
        assert!(!r.is_stalled());
        assert_eq!(drain(&a), [c(Kind::Subscribe, "x", 1)]);
        assert_eq!(
            drain(&b),
            [c(Kind::Subscribe, "x", 1), c(Kind::Unsubscribe, "x", 0)]
        );
    }
}
