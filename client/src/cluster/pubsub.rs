//! Pub/sub on a cluster client: one [`Subscriber`] for the user, made of a
//! single-server subscriber per node it subscribes on (made on first use), whose
//! messages a task per node forwards into the one queue the user reads.
//!
//! - Shard channels (`SSUBSCRIBE`) go to the primary serving their slot. When the
//!   slot moves (a migration, a failover), the server ends the subscription with a
//!   `sunsubscribe` nobody asked for; the forwarder hides it and wakes the
//!   follower task, which refreshes the slot map and subscribes the channel on the
//!   slot's new primary (following `MOVED`). The forwarder of that node then puts a
//!   [`Kind::Reconnected`] naming the channel before its confirmation.
//! - Channels and patterns go to one node (the first primary), or with
//!   [`on_every_primary`](crate::pubsub::SubscriberBuilder::on_every_primary) to
//!   every primary, which the follower keeps in step with the slot map.

use super::Cluster;
use crate::error::{Error, Result};
use crate::pubsub::SubscriberHandle;
use crate::pubsub::{connect_node, Kind, Message, Options, Route, Shared, Subscriber};
use bytes::Bytes;
use respec_protocol::cluster::slot;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How often the follower looks at the slot map with nothing prompting it (new
/// primaries for subscriptions on every primary; channels still to place).
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// A subscriber on a cluster client: see the module docs.
pub(crate) fn connect(cluster: &Arc<Cluster>, options: Options) -> Result<Subscriber> {
    let home = cluster.any_node()?.address().to_owned();
    let shared = options.shared_state(options.on_shared);
    let core = Arc::new(Core {
        shared: shared.clone(),
        state: Mutex::new(State::default()),
        wake: Notify::new(),
    });
    let hub = Arc::new(Hub {
        cluster: cluster.clone(),
        options,
        home,
        core: core.clone(),
        nodes: Mutex::new(HashMap::new()),
        calls: tokio::sync::Mutex::new(()),
        follower: Mutex::new(None),
    });
    let weak = Arc::downgrade(&hub);
    *lock(&hub.follower) = Some(tokio::spawn(follow(weak, core)));
    let timeout = cluster.template.request_timeout;
    Ok(Subscriber::new(Route::Cluster(hub), timeout, shared, None))
}

/// A call's future, boxed.
pub(crate) type BoxFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the forwarders share with the subscriber.
struct Core {
    /// The user's queue.
    shared: Arc<Shared>,
    state: Mutex<State>,
    /// Wakes the follower.
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// Every shard channel wanted, and the node it is subscribed on (`None`: the
    /// server dropped it, to be placed again).
    shard: BTreeMap<Bytes, Option<String>>,
    /// Shard channels whose next confirmation is a renewal after their slot moved.
    renewing: BTreeSet<Bytes>,
    /// Channels (0) and patterns (1) wanted on every primary.
    classic: [BTreeSet<Bytes>; 2],
    /// The nodes that have them.
    classic_on: BTreeSet<String>,
    /// A node's connection was made again: refresh the slot map, then check where
    /// every shard channel is.
    stale: bool,
}

/// One node's subscriber: its handle; the forwarder task owns the subscriber.
struct NodeSub {
    handle: SubscriberHandle,
    shared_conn: bool,
    task: JoinHandle<()>,
}

/// The state of a cluster client's subscriber.
pub(crate) struct Hub {
    cluster: Arc<Cluster>,
    options: Options,
    /// Where channels and patterns go, unless on every primary.
    home: String,
    core: Arc<Core>,
    nodes: Mutex<HashMap<String, NodeSub>>,
    /// Subscription calls and the follower's repairs run one at a time.
    calls: tokio::sync::Mutex<()>,
    follower: Mutex<Option<JoinHandle<()>>>,
}

impl Hub {
    /// The subscriber was dropped: every node's subscriber goes too.
    pub(crate) fn close(&self) {
        if let Some(task) = lock(&self.follower).take() {
            task.abort();
        }
        for (_, node) in lock(&self.nodes).drain() {
            node.task.abort();
        }
        self.core.shared.queue.close();
    }

    /// Whether the node subscribers use their nodes' shared connections.
    pub(crate) fn is_shared(&self) -> bool {
        let nodes = lock(&self.nodes);
        match nodes.values().next() {
            Some(n) => n.shared_conn,
            None => self.options.on_shared,
        }
    }

    /// The union of what the nodes confirmed, sorted.
    pub(crate) fn confirmed_list(&self, family: usize) -> Vec<Bytes> {
        let nodes = lock(&self.nodes);
        let all: BTreeSet<Bytes> = nodes
            .values()
            .flat_map(|n| n.handle.confirmed_list(family))
            .collect();
        all.into_iter().collect()
    }

    /// `PING` on every node subscribed on (boxed, as [`request`](Self::request)).
    pub(crate) fn ping(&self) -> BoxFuture<'_> {
        let handles: Vec<SubscriberHandle> = lock(&self.nodes)
            .values()
            .map(|n| n.handle.clone())
            .collect();
        Box::pin(async move {
            for h in handles {
                h.ping().await?;
            }
            Ok(())
        })
    }

    /// The subscriber of the node at `address`, made on first use (and again when
    /// its connection's driver ended).
    async fn node(&self, address: &str) -> Result<SubscriberHandle> {
        if let Some(n) = lock(&self.nodes).get(address) {
            if !n.task.is_finished() {
                return Ok(n.handle.clone());
            }
        }
        if self.core.shared.queue.is_closed() {
            return Err(Error::closed());
        }
        let client = self.cluster.node(address).client().await?;
        let mut options = self.options.clone();
        options.ignore_confirmations = false;
        let sub = connect_node(&client, &options).await?;
        let handle = sub.handle();
        let shared_conn = sub.is_shared();
        let task = tokio::spawn(forward(self.core.clone(), address.to_owned(), sub));
        lock(&self.nodes).insert(
            address.to_owned(),
            NodeSub {
                handle: handle.clone(),
                shared_conn,
                task,
            },
        );
        Ok(handle)
    }

    /// A subscribe or unsubscribe call of the user (boxed: it calls the nodes'
    /// subscribers, whose handles call this for a cluster).
    pub(crate) fn request(&self, kind: Kind, channels: Vec<Bytes>) -> BoxFuture<'_> {
        Box::pin(self.run_request(kind, channels))
    }

    async fn run_request(&self, kind: Kind, channels: Vec<Bytes>) -> Result<()> {
        let _calls = self.calls.lock().await;
        match kind {
            Kind::SSubscribe => {
                let fresh: Vec<Bytes> = {
                    let mut st = lock(&self.core.state);
                    let fresh = channels
                        .iter()
                        .filter(|c| !st.shard.contains_key(*c))
                        .cloned()
                        .collect();
                    for c in &channels {
                        st.shard.entry(c.clone()).or_insert(None);
                    }
                    fresh
                };
                let placed = self.place(channels).await;
                if placed.is_err() {
                    // A failed call is not renewed: what it added is forgotten.
                    let mut st = lock(&self.core.state);
                    for c in fresh {
                        if st.shard.get(&c) == Some(&None) {
                            st.shard.remove(&c);
                        }
                    }
                }
                placed
            }
            Kind::SUnsubscribe => self.sunsubscribe(channels).await,
            Kind::Subscribe | Kind::PSubscribe | Kind::Unsubscribe | Kind::PUnsubscribe => {
                self.classic(kind, channels).await
            }
            _ => Err(Error::closed()),
        }
    }

    /// Subscribes shard channels on the primaries of their slots, following
    /// `MOVED` and retrying what the cluster asks to retry.
    async fn place(&self, channels: Vec<Bytes>) -> Result<()> {
        let mut left = channels;
        let mut attempt = 0;
        loop {
            let view = self.cluster.view();
            let mut groups: BTreeMap<String, Vec<Bytes>> = BTreeMap::new();
            let mut unserved = false;
            for c in &left {
                match view.primary_of(slot(c)) {
                    Some(node) => groups
                        .entry(node.address().to_owned())
                        .or_default()
                        .push(c.clone()),
                    None => unserved = true,
                }
            }
            let mut last_error = None;
            let mut retry = Vec::new();
            if unserved {
                retry.extend(
                    left.iter()
                        .filter(|c| view.primary_of(slot(c)).is_none())
                        .cloned(),
                );
                last_error = Some(Error::config("no node serves the channel's slot"));
            }
            for (address, group) in groups {
                {
                    let mut st = lock(&self.core.state);
                    for c in &group {
                        if let Some(at) = st.shard.get_mut(c) {
                            *at = Some(address.clone());
                        }
                    }
                }
                let outcome = match self.node(&address).await {
                    Ok(h) => h.ssubscribe(group.iter()).await,
                    Err(e) => Err(e),
                };
                let Err(e) = outcome else { continue };
                if let Some(r) = e.server_error().and_then(|s| s.moved()) {
                    view.moved(r.slot, &self.cluster.node(&r.address));
                    self.cluster.hint_refresh(&r.address);
                } else if !is_transient(&e) {
                    return Err(e);
                }
                // What the node did not confirm is placed again.
                let confirmed = self.node(&address).await?.shard_channels();
                let mut st = lock(&self.core.state);
                for c in group {
                    if !confirmed.contains(&c) {
                        if let Some(at) = st.shard.get_mut(&c) {
                            *at = None;
                        }
                        retry.push(c);
                    }
                }
                last_error = Some(e);
            }
            if retry.is_empty() {
                return Ok(());
            }
            attempt += 1;
            if attempt > self.cluster.options.max_redirects {
                return Err(last_error.unwrap_or_else(Error::closed));
            }
            tokio::time::sleep(super::send::backoff(attempt.min(4))).await;
            if unserved {
                let _ = self.cluster.refresh_now().await;
            }
            left = retry;
        }
    }

    /// Unsubscribes shard channels (every one when `channels` is empty) on the nodes
    /// that have them.
    async fn sunsubscribe(&self, channels: Vec<Bytes>) -> Result<()> {
        let mut groups: BTreeMap<String, Vec<Bytes>> = BTreeMap::new();
        {
            let mut st = lock(&self.core.state);
            if channels.is_empty() {
                let all = std::mem::take(&mut st.shard);
                st.renewing.clear();
                for at in all.into_values().flatten() {
                    groups.entry(at).or_default();
                }
            } else {
                for c in channels {
                    st.renewing.remove(&c);
                    // One not subscribed anywhere: confirmed by the first primary,
                    // as a server confirms any channel.
                    let at = st.shard.remove(&c).flatten();
                    groups
                        .entry(at.unwrap_or_else(|| self.home.clone()))
                        .or_default()
                        .push(c);
                }
            }
        }
        if groups.is_empty() {
            groups.insert(self.home.clone(), Vec::new());
        }
        for (address, group) in groups {
            self.node(&address).await?.sunsubscribe(group).await?;
        }
        Ok(())
    }

    /// Channels and patterns: on the first primary, or on every primary.
    async fn classic(&self, kind: Kind, channels: Vec<Bytes>) -> Result<()> {
        if !self.options.every_primary {
            return call(&self.node(&self.home).await?, kind, channels).await;
        }
        let (f, adds) = match kind {
            Kind::Subscribe => (0, true),
            Kind::PSubscribe => (1, true),
            Kind::Unsubscribe => (0, false),
            _ => (1, false),
        };
        let mut nodes: BTreeSet<String> = {
            let mut st = lock(&self.core.state);
            if adds {
                st.classic[f].extend(channels.iter().cloned());
            } else if channels.is_empty() {
                st.classic[f].clear();
            } else {
                for c in &channels {
                    st.classic[f].remove(c);
                }
            }
            st.classic_on.clone()
        };
        if adds {
            let primaries = self.primaries();
            nodes.extend(primaries);
        }
        if nodes.is_empty() {
            nodes.insert(self.home.clone());
        }
        for address in nodes {
            let h = self.node(&address).await?;
            call(&h, kind, channels.clone()).await?;
            if adds {
                lock(&self.core.state).classic_on.insert(address);
            }
        }
        Ok(())
    }

    fn primaries(&self) -> Vec<String> {
        self.cluster
            .view()
            .primaries()
            .map(|n| n.address().to_owned())
            .collect()
    }

    /// Follows the cluster: places again the shard channels the server dropped (and,
    /// after a node reconnected, those whose slot another primary serves now), and
    /// keeps the subscriptions on every primary on the primaries.
    async fn repair(&self) {
        let _calls = self.calls.lock().await;
        let (stale, dropped) = {
            let mut st = lock(&self.core.state);
            let dropped: Vec<Bytes> = st
                .shard
                .iter()
                .filter(|(_, at)| at.is_none())
                .map(|(c, _)| c.clone())
                .collect();
            (std::mem::take(&mut st.stale), dropped)
        };
        if stale || !dropped.is_empty() {
            let _ = self.cluster.refresh_now().await;
        }
        let mut todo = dropped;
        if stale {
            let view = self.cluster.view();
            let mut st = lock(&self.core.state);
            let State {
                shard, renewing, ..
            } = &mut *st;
            for (c, at) in shard.iter_mut() {
                let owner = view.primary_of(slot(c));
                if let (Some(a), Some(o)) = (at.as_ref(), owner) {
                    if a != o.address() {
                        // Left where it is: the old node's subscription ends by
                        // itself or delivers as a replica; what matters is the new.
                        *at = None;
                        renewing.insert(c.clone());
                        todo.push(c.clone());
                    }
                }
            }
        }
        if !todo.is_empty() {
            if let Err(e) = self.place(todo).await {
                tracing::debug!(error = %e, "a shard channel could not be subscribed again yet");
            }
        }
        if self.options.every_primary {
            self.repair_every_primary().await;
        }
    }

    async fn repair_every_primary(&self) {
        let primaries: BTreeSet<String> = self.primaries().into_iter().collect();
        let (classic, on) = {
            let st = lock(&self.core.state);
            (st.classic.clone(), st.classic_on.clone())
        };
        if classic.iter().all(BTreeSet::is_empty) {
            return;
        }
        for address in primaries.difference(&on) {
            let Ok(h) = self.node(address).await else {
                continue;
            };
            let mut ok = true;
            for (kind, list) in [
                (Kind::Subscribe, &classic[0]),
                (Kind::PSubscribe, &classic[1]),
            ] {
                if !list.is_empty() {
                    ok &= call(&h, kind, list.iter().cloned().collect()).await.is_ok();
                }
            }
            if ok {
                lock(&self.core.state).classic_on.insert(address.clone());
            }
        }
        for address in on.difference(&primaries) {
            lock(&self.core.state).classic_on.remove(address);
            let Ok(h) = self.node(address).await else {
                continue;
            };
            for kind in [Kind::Unsubscribe, Kind::PUnsubscribe] {
                let _ = call(&h, kind, Vec::new()).await;
            }
        }
    }
}

/// A classic subscription call on one node.
async fn call(h: &SubscriberHandle, kind: Kind, channels: Vec<Bytes>) -> Result<()> {
    match kind {
        Kind::Subscribe => h.subscribe(channels).await,
        Kind::PSubscribe => h.psubscribe(channels).await,
        Kind::Unsubscribe => h.unsubscribe(channels).await,
        _ => h.punsubscribe(channels).await,
    }
}

/// An error after which placing a channel again may succeed.
fn is_transient(e: &Error) -> bool {
    e.is_io()
        || e.is_closed()
        || e.is_timeout()
        || e.server_error().is_some_and(|s| {
            s.ask().is_some()
                || matches!(
                    s.code(),
                    "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN"
                )
        })
}

/// Forwards one node's messages to the user's queue, hiding the unsubscriptions
/// the server made by itself (the slot moved) and waking the follower for them.
async fn forward(core: Arc<Core>, address: String, mut sub: Subscriber) {
    while let Some(msg) = sub.next_message().await {
        let mut notice = None;
        {
            let mut st = lock(&core.state);
            match msg.kind {
                Kind::SUnsubscribe => {
                    if let Some(at) = st.shard.get_mut(&msg.channel) {
                        // Still wanted: the server dropped it.
                        if at.as_deref() == Some(address.as_str()) {
                            *at = None;
                            st.renewing.insert(msg.channel.clone());
                            core.wake.notify_one();
                        }
                        continue;
                    }
                }
                Kind::SSubscribe if st.renewing.remove(&msg.channel) => {
                    notice = Some(Message::moved(msg.channel.clone()));
                }
                Kind::Reconnected => {
                    st.stale = true;
                    core.wake.notify_one();
                }
                _ => {}
            }
        }
        for m in notice.into_iter().chain(Some(msg)) {
            if m.kind.is_confirmation() && core.shared.ignore_confirmations {
                continue;
            }
            push(&core.shared, m).await;
        }
    }
    // The node's connection ended for good: its shard channels are placed again.
    let mut st = lock(&core.state);
    let State {
        shard, renewing, ..
    } = &mut *st;
    for (c, at) in shard.iter_mut() {
        if at.as_deref() == Some(address.as_str()) {
            *at = None;
            renewing.insert(c.clone());
        }
    }
    st.classic_on.remove(&address);
    core.wake.notify_one();
}

/// Queues a message for the user, waiting for room under backpressure.
async fn push(shared: &Shared, mut msg: Message) {
    loop {
        match shared.queue.try_push(msg) {
            Ok(()) => return,
            Err(back) => msg = back,
        }
        std::future::poll_fn(|cx| shared.queue.poll_room(cx)).await;
    }
}

/// The follower task: repairs when a forwarder asks, and every [`FOLLOW_EVERY`].
async fn follow(hub: Weak<Hub>, core: Arc<Core>) {
    loop {
        let _ = tokio::time::timeout(FOLLOW_EVERY, core.wake.notified()).await;
        let Some(hub) = hub.upgrade() else { return };
        hub.repair().await;
    }
}
