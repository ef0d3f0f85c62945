//! One service behind sentinels: the sentinels to ask (the one that answered last
//! first), what they last said, and the [`Locate`] the connections ask.

use super::discover::{self, Snapshot};
use super::{SentinelOptions, SentinelRole};
use crate::client::Client;
use crate::config::{Address, BoxFuture, Config, Locate};
use crate::error::{Error, Result};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// How long a replica the sentinels selected for promotion is taken as the primary
/// before they confirm it (see [`Service::selected`]).
pub(crate) const PROMOTION_WAIT: Duration = Duration::from_secs(10);

/// A service the sentinels watch, as this client follows it.
pub(crate) struct Service {
    /// The service name (`sentinel monitor <name> ...`).
    pub(crate) name: String,
    pub(crate) options: SentinelOptions,
    /// The connection options of a sentinel (its address aside).
    sentinel_config: Config,
    /// The sentinels, the one that answered last first; ones learned from
    /// `SENTINEL SENTINELS` are added at the end.
    sentinels: Mutex<Vec<Address>>,
    /// The client of the sentinel that answered last. Held while asking, so that
    /// many connections looking at once ask one after the other, not all at once.
    current: tokio::sync::Mutex<Option<Client>>,
    /// What the sentinels last said; connections watch it to leave an old primary.
    state: watch::Sender<Snapshot>,
    /// Wakes the watcher to ask now (a `READONLY` reply, a node with the wrong role).
    pub(crate) wake: Arc<Notify>,
    /// Turns through the replicas.
    turn: AtomicUsize,
    /// A failover the sentinels started (`+selected-slave`): the replica they chose,
    /// taken as the primary from then on, and until when its promotion is awaited.
    pending: Mutex<Option<(Address, Instant)>>,
    /// Dropped with the service: the watcher task ends.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Service {
    /// A service, and the receiver that ends its watcher when the service is gone.
    pub(crate) fn new(
        name: String,
        sentinels: Vec<Address>,
        sentinel_config: Config,
        options: SentinelOptions,
    ) -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let service = Service {
            name,
            options,
            sentinel_config,
            sentinels: Mutex::new(sentinels),
            current: tokio::sync::Mutex::new(None),
            state: watch::Sender::new(Snapshot::default()),
            wake: Arc::new(Notify::new()),
            turn: AtomicUsize::new(0),
            pending: Mutex::new(None),
            _stop: stop,
        };
        (service, stopped)
    }

    /// What the sentinels last said.
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.state.borrow().clone()
    }

    /// Records what the sentinels said; connections to a node left behind leave it.
    pub(crate) fn publish(&self, snapshot: Snapshot) {
        // (Logged after the watch's lock is released: a subscriber may take its time.)
        let changed = self.state.send_if_modified(|old| {
            let changed = *old != snapshot;
            if changed {
                *old = snapshot;
            }
            changed
        });
        if changed {
            let now = self.state.borrow().clone();
            tracing::info!(service = %self.name, primary = ?now.primary, replicas = ?now.replicas, "sentinels report");
        }
    }

    /// A `+switch-master` announcement: `to` is the primary now, at once (the next
    /// answer to a question fills in the rest); a promotion awaited is confirmed.
    pub(crate) fn switched(&self, to: Address) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.as_ref().is_some_and(|(replica, _)| *replica == to) {
            *pending = None;
        }
        drop(pending);
        self.take_as_primary(to, false);
    }

    /// A failover started (`+selected-slave`): `replica` is taken as the primary at
    /// once, so that nothing more is written to the old one (whatever it
    /// acknowledges from the moment the replica is promoted is lost when it is
    /// turned into a replica). Nor is anything written to the replica before the
    /// sentinels confirm its promotion (`+promoted-slave`, then naming it when
    /// asked): until then the failover can still be aborted, and the replica turned
    /// back, losing what it acknowledged. Connections to it are refused meanwhile
    /// (requests wait, see [`HoldUnsent`](crate::config::HoldUnsent)); answers
    /// naming the old primary are overruled until the sentinels name the replica,
    /// the failover is aborted, or [`PROMOTION_WAIT`] passes.
    pub(crate) fn selected(&self, replica: Address) {
        if self.options.role != SentinelRole::Primary {
            return;
        }
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((replica.clone(), Instant::now() + PROMOTION_WAIT));
        self.take_as_primary(replica, true);
    }

    /// Publishes `to` as the primary (`promoting`: not confirmed yet).
    fn take_as_primary(&self, to: Address, promoting: bool) {
        let mut snapshot = self.snapshot();
        snapshot.replicas.retain(|r| *r != to);
        snapshot.primary = Some(to);
        snapshot.promoting = promoting;
        self.publish(snapshot);
    }

    /// The failover was aborted (`-failover-abort-...`): the sentinels' answers
    /// count again.
    pub(crate) fn aborted(&self) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `snapshot` with the primary of a failover in progress, if one is.
    fn reconcile(&self, mut snapshot: Snapshot) -> Snapshot {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.as_ref() {
            Some((replica, until)) if Instant::now() < *until => {
                if snapshot.primary.as_ref() == Some(replica) {
                    // Promoted, and the sentinels say so.
                    *pending = None;
                } else {
                    snapshot.replicas.retain(|r| r != replica);
                    snapshot.primary = Some(replica.clone());
                    snapshot.promoting = true;
                }
            }
            Some(_) => *pending = None,
            None => {}
        }
        snapshot
    }

    /// Asks the sentinels: the one that answered last, then each in turn; the first
    /// to answer moves to the front and its list of sentinels is merged in.
    pub(crate) async fn discover(&self) -> Result<Snapshot> {
        let mut current = self.current.lock().await;
        let replicas = self.options.role == SentinelRole::Replica;
        let mut failures = Vec::new();
        if let Some(client) = current.as_ref() {
            match discover::ask(client, &self.name, replicas).await {
                Ok(snapshot) => {
                    let snapshot = self.reconcile(snapshot);
                    self.publish(snapshot.clone());
                    return Ok(snapshot);
                }
                Err(e) => {
                    failures.push(format!("{}: {e}", client.config().address));
                    *current = None;
                }
            }
        }
        for address in self.sentinel_addresses() {
            let asked = async {
                let client = self.connect_sentinel(&address).await?;
                let snapshot = discover::ask(&client, &self.name, replicas).await?;
                Ok::<_, Error>((client, snapshot))
            };
            match asked.await {
                Ok((client, snapshot)) => {
                    let others = discover::sentinels(&client, &self.name)
                        .await
                        .unwrap_or_default();
                    self.learned(&address, others);
                    *current = Some(client);
                    let snapshot = self.reconcile(snapshot);
                    self.publish(snapshot.clone());
                    return Ok(snapshot);
                }
                Err(e) => failures.push(format!("{address}: {e}")),
            }
        }
        Err(Error::io_while(
            format!(
                "no sentinel of the service `{}` answered ({})",
                self.name,
                failures.join("; ")
            ),
            io::ErrorKind::NotConnected.into(),
        ))
    }

    /// A client of the sentinel at `address`, with the sentinels' options.
    pub(crate) async fn connect_sentinel(&self, address: &Address) -> Result<Client> {
        let mut config = self.sentinel_config.clone();
        config.address = address.clone();
        Client::from_config(config).await
    }

    /// The sentinels known now: the ones given, and the ones they listed.
    pub(crate) fn sentinel_addresses(&self) -> Vec<Address> {
        self.sentinels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `answered` goes first; `others` the sentinel listed are added at the end.
    fn learned(&self, answered: &Address, others: Vec<Address>) {
        let mut sentinels = self.sentinels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = sentinels.iter().position(|a| a == answered) {
            let a = sentinels.remove(i);
            sentinels.insert(0, a);
        }
        for other in others {
            if !sentinels.contains(&other) {
                sentinels.push(other);
            }
        }
    }

    /// Who this client serves, for messages.
    fn describe(&self) -> String {
        match self.options.role {
            SentinelRole::Primary => format!("the primary of `{}`", self.name),
            SentinelRole::Replica => format!("a replica of `{}`", self.name),
        }
    }
}

impl Locate for Service {
    fn locate(&self) -> BoxFuture<'_, Result<Address>> {
        Box::pin(async move {
            let snapshot = self.discover().await?;
            let primary = snapshot.primary.clone();
            let found = match self.options.role {
                SentinelRole::Primary => primary,
                SentinelRole::Replica if !snapshot.replicas.is_empty() => {
                    let turn = self.turn.fetch_add(1, Ordering::Relaxed);
                    Some(snapshot.replicas[turn % snapshot.replicas.len()].clone())
                }
                SentinelRole::Replica if self.options.replica_fallback => primary,
                SentinelRole::Replica => None,
            };
            found.ok_or_else(|| {
                Error::io_while(
                    format!("the sentinels name no node to use as {}", self.describe()),
                    io::ErrorKind::NotFound.into(),
                )
            })
        })
    }

    fn check_role(&self, address: &Address, role: &[u8]) -> Result<()> {
        let snapshot = self.snapshot();
        if snapshot.promoting && snapshot.primary.as_ref() == Some(address) {
            self.wake.notify_one();
            return Err(Error::io_while(
                format!(
                    "{address} is being promoted to {}, which the sentinels have not confirmed yet: asking them again",
                    self.describe()
                ),
                io::ErrorKind::ConnectionRefused.into(),
            ));
        }
        let wanted: &[u8] = match self.options.role {
            SentinelRole::Primary => b"master",
            SentinelRole::Replica if self.snapshot().primary.as_ref() == Some(address) => b"master",
            SentinelRole::Replica => b"slave",
        };
        if role == wanted {
            return Ok(());
        }
        // The sentinels are behind (or the node changed since): look again.
        self.wake.notify_one();
        Err(Error::io_while(
            format!(
                "{address} is not {} (its ROLE is `{}`): asking the sentinels again",
                self.describe(),
                String::from_utf8_lossy(role)
            ),
            io::ErrorKind::ConnectionRefused.into(),
        ))
    }

    fn left(&self, address: &Address) -> BoxFuture<'static, ()> {
        let mut state = self.state.subscribe();
        let address = address.clone();
        let (role, fallback) = (self.options.role, self.options.replica_fallback);
        Box::pin(async move {
            loop {
                if leaves(role, fallback, &state.borrow_and_update(), &address) {
                    return;
                }
                if state.changed().await.is_err() {
                    // The service is gone: so is every connection using it.
                    std::future::pending::<()>().await;
                }
            }
        })
    }

    fn changed(&self) -> BoxFuture<'static, ()> {
        let mut state = self.state.subscribe();
        state.mark_unchanged();
        Box::pin(async move {
            if state.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }

    fn suspect(&self) {
        self.wake.notify_one();
    }

    fn name(&self) -> String {
        self.describe()
    }
}

/// Whether a connection to `address` should be left, by `snapshot`: a primary once
/// another node is; a replica once the sentinels no longer list it as a usable
/// replica; the primary a replica client fell back to once a replica is usable.
fn leaves(role: SentinelRole, fallback: bool, snapshot: &Snapshot, address: &Address) -> bool {
    if snapshot.primary.is_none() {
        // Nothing heard yet.
        return false;
    }
    let is_primary = snapshot.primary.as_ref() == Some(address);
    match role {
        SentinelRole::Primary => !is_primary,
        SentinelRole::Replica if snapshot.replicas.contains(address) => false,
        SentinelRole::Replica => !(is_primary && snapshot.replicas.is_empty() && fallback),
    }
}
