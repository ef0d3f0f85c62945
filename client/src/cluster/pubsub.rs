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
//!   every primary, which the follower keeps in step with the slot map. A message
//!   published on any node reaches the subscribers of every node (replicas too), so
//!   a node that fails over to a replica keeps delivering; one that cannot be
//!   reached any more (killed) is left for another node: see below.
//! - A node's subscriber whose connection is down while it has subscriptions there
//!   (nothing confirmed), at two looks of the follower in a row, is dropped: its
//!   shard channels are placed again on their slots' primaries (after a refresh),
//!   and its channels and patterns, when it was the one node holding them, move to
//!   another node, whose forwarder puts a [`Kind::Reconnected`] (no channel) before
//!   the confirmation: what is published from then on arrives.

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
        home: Mutex::new(home),
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
    /// Nodes whose subscriber was seen down (connection lost, nothing confirmed
    /// while something is wanted there) at the follower's last look.
    suspects: BTreeSet<String>,
    /// The node the channels and patterns just moved to: its forwarder puts a
    /// notice before its next subscribe confirmation.
    classic_moved_to: Option<String>,
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
    home: Mutex<String>,
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
                let handle = self.node(&address).await;
                let outcome = match &handle {
                    Ok(h) => h.ssubscribe(group.iter()).await,
                    Err(e) => Err(e.duplicate()),
                };
                let Err(e) = outcome else { continue };
                if let Some(r) = e.server_error().and_then(|s| s.moved()) {
                    view.moved(r.slot, &self.cluster.node(&r.address));
                    self.cluster.hint_refresh(&r.address);
                } else if !is_transient(&e) {
                    return Err(e);
                }
                // What the node did not confirm (nothing, if it cannot be reached)
                // is placed again.
                let confirmed = handle.map(|h| h.shard_channels()).unwrap_or_default();
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
            // The slot may have moved, or its primary failed over.
            let _ = self.cluster.refresh_now().await;
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
                        .entry(at.unwrap_or_else(|| self.home()))
                        .or_default()
                        .push(c);
                }
            }
        }
        if groups.is_empty() {
            groups.insert(self.home(), Vec::new());
        }
        for (address, group) in groups {
            self.node(&address).await?.sunsubscribe(group).await?;
        }
        Ok(())
    }

    /// The node channels and patterns go to, unless on every primary.
    fn home(&self) -> String {
        lock(&self.home).clone()
    }

    /// Channels and patterns: on the home node, or on every primary.
    async fn classic(&self, kind: Kind, channels: Vec<Bytes>) -> Result<()> {
        let adds = matches!(kind, Kind::Subscribe | Kind::PSubscribe);
        if !self.options.every_primary {
            // Recorded once confirmed (a failed call is not renewed), to be moved
            // with the home node.
            call(&self.node(&self.home()).await?, kind, channels.clone()).await?;
            record(&mut lock(&self.core.state), kind, &channels);
            return Ok(());
        }
        let mut nodes: BTreeSet<String> = {
            let mut st = lock(&self.core.state);
            record(&mut st, kind, &channels);
            st.classic_on.clone()
        };
        if adds {
            let primaries = self.primaries();
            nodes.extend(primaries);
        }
        if nodes.is_empty() {
            nodes.insert(self.home());
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
        for address in self.down_nodes() {
            self.drop_node(&address);
        }
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
        } else {
            self.repair_home().await;
        }
    }

    /// The nodes whose subscriber has been down at this look and the last one:
    /// its forwarder ended, or its connection is lost (the server confirms nothing)
    /// while subscriptions are wanted there.
    fn down_nodes(&self) -> Vec<String> {
        let home = self.home();
        let nodes = lock(&self.nodes);
        let mut st = lock(&self.core.state);
        let mut down = Vec::new();
        for (address, n) in nodes.iter() {
            let wanted = st.shard.values().any(|at| at.as_ref() == Some(address))
                || st.classic_on.contains(address)
                || (*address == home && st.classic.iter().any(|c| !c.is_empty()));
            let lost = n.task.is_finished()
                || (wanted && (0..3).all(|f| n.handle.confirmed_list(f).is_empty()));
            if !lost {
                st.suspects.remove(address);
            } else if !st.suspects.insert(address.clone()) {
                down.push(address.clone());
            }
        }
        down
    }

    /// Drops the subscriber of the node at `address` (its connection closes): its
    /// shard channels are to be placed again, its channels and patterns to move.
    fn drop_node(&self, address: &str) {
        tracing::debug!(
            node = address,
            "a cluster subscriber's node is down: leaving it"
        );
        if let Some(n) = lock(&self.nodes).remove(address) {
            n.task.abort();
        }
        let mut st = lock(&self.core.state);
        st.suspects.remove(address);
        forget_node(&mut st, address);
    }

    /// Channels and patterns on one node: when the home node's subscriber was
    /// dropped (or never made), they move to another node, a primary first.
    async fn repair_home(&self) {
        let classic = lock(&self.core.state).classic.clone();
        let old = self.home();
        if classic.iter().all(BTreeSet::is_empty) || lock(&self.nodes).contains_key(&old) {
            return;
        }
        let view = self.cluster.view();
        let up = |n: &&Arc<super::Node>| n.address() != old && !n.recently_unreachable();
        let Some(next) = view
            .all_nodes()
            .find(up)
            .or_else(|| view.all_nodes().next())
        else {
            return;
        };
        let next = next.address().to_owned();
        *lock(&self.home) = next.clone();
        lock(&self.core.state).classic_moved_to = Some(next.clone());
        let Ok(h) = self.node(&next).await else {
            self.cluster.node(&next).mark_unreachable();
            return;
        };
        for (kind, list) in [
            (Kind::Subscribe, &classic[0]),
            (Kind::PSubscribe, &classic[1]),
        ] {
            if !list.is_empty() {
                if let Err(e) = call(&h, kind, list.iter().cloned().collect()).await {
                    tracing::debug!(error = %e, "channels could not move to {next} yet");
                }
            }
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

/// Records a confirmed (or, on every primary, an asked for) classic subscription
/// call in the channels and patterns wanted.
fn record(st: &mut State, kind: Kind, channels: &[Bytes]) {
    let (f, adds) = match kind {
        Kind::Subscribe => (0, true),
        Kind::PSubscribe => (1, true),
        Kind::Unsubscribe => (0, false),
        _ => (1, false),
    };
    if adds {
        st.classic[f].extend(channels.iter().cloned());
    } else if channels.is_empty() {
        st.classic[f].clear();
    } else {
        for c in channels {
            st.classic[f].remove(c);
        }
    }
}

/// The node at `address` holds nothing any more: its shard channels are to be
/// placed again (renewals: a notice before their confirmation), and it no longer
/// has the channels and patterns of every primary.
fn forget_node(st: &mut State, address: &str) {
    let State {
        shard, renewing, ..
    } = st;
    for (c, at) in shard.iter_mut() {
        if at.as_deref() == Some(address) {
            *at = None;
            renewing.insert(c.clone());
        }
    }
    st.classic_on.remove(address);
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
                Kind::Subscribe | Kind::PSubscribe
                    if st.classic_moved_to.as_deref() == Some(address.as_str()) =>
                {
                    st.classic_moved_to = None;
                    notice = Some(Message::reconnected());
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
    forget_node(&mut lock(&core.state), &address);
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
