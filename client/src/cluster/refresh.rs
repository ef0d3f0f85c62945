//! Refreshing the slot map: at most one refresh in flight, at most one per
//! `min_refresh_interval` however many prompts arrive (a storm of `MOVED` replies
//! causes one), asking the known primaries first and the seeds last (seeds are not
//! trusted forever), `CLUSTER SHARDS` with a fallback to `CLUSTER SLOTS`.

use super::nodes::View;
use super::Cluster;
use crate::command::CommandBuf;
use crate::error::{Error, Result};
use crate::reply::frame_error;
use respec_protocol::cluster::Topology;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The refresh in flight, if any, and when the last one ended.
#[derive(Default)]
pub(super) struct State {
    running: AtomicBool,
    done: Notify,
    last: Mutex<Option<Instant>>,
    /// The last refresh's error, for callers who waited for it.
    failed: Mutex<Option<Error>>,
    /// The last slot map installed was [`Topology::settling`]: the timer asks again
    /// soon.
    settling: AtomicBool,
    /// The node a `MOVED` last pointed to: it knows the newest owner of that slot
    /// (it claimed it), so the next refresh asks it first, rather than a node whose
    /// view may lag behind the change.
    hint: Mutex<Option<String>>,
}

impl Cluster {
    /// Notes that a `MOVED` pointed to `address`: the next refresh asks it first.
    pub(crate) fn hint_refresh(&self, address: &str) {
        *self.refresh.hint.lock().unwrap_or_else(|e| e.into_inner()) = Some(address.to_owned());
    }

    /// Starts a refresh unless one is in flight.
    pub(crate) fn schedule_refresh(self: &Arc<Self>) {
        if self.refresh.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move { this.run_refresh().await });
    }

    /// Refreshes now (or joins the refresh in flight) and waits for it to end.
    pub(crate) async fn refresh_now(self: &Arc<Self>) -> Result<()> {
        let done = self.refresh.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        self.schedule_refresh();
        done.await;
        match &*self
            .refresh
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            Some(e) if !self.view().is_complete() => Err(e.duplicate()),
            _ => Ok(()),
        }
    }

    async fn run_refresh(self: Arc<Self>) {
        // However the refresh ends (done, panicked, or dropped with its runtime), the
        // next one may start and the callers of `refresh_now` are released.
        struct Finish<'a>(&'a State);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.running.store(false, Ordering::Release);
                self.0.done.notify_waiters();
            }
        }
        let _finish = Finish(&self.refresh);
        let last = *self.refresh.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = last {
            tokio::time::sleep_until(last + self.options.min_refresh_interval).await;
        }
        let counters = &self.counters;
        let in_flight = counters.refreshes_in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        counters
            .peak_refreshes_in_flight
            .fetch_max(in_flight, Ordering::AcqRel);
        let outcome = self.refresh_once().await;
        counters.refreshes_in_flight.fetch_sub(1, Ordering::AcqRel);
        if let Err(e) = &outcome {
            tracing::debug!(error = %e, "cluster slot map refresh failed");
        }
        *self
            .refresh
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = outcome.err();
        *self.refresh.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Asks the known primaries, then the seeds, for the slot map; installs the first
    /// that covers every slot, or else the one that covers the most.
    async fn refresh_once(self: &Arc<Self>) -> Result<()> {
        let hint = self
            .refresh
            .hint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let mut candidates: Vec<String> = hint.into_iter().collect();
        for n in self.view().primaries() {
            if !candidates.iter().any(|c| c == n.address()) {
                candidates.push(n.address().to_owned());
            }
        }
        for seed in &self.seeds {
            if !candidates.contains(seed) {
                candidates.push(seed.clone());
            }
        }
        let mut best: Option<Topology> = None;
        let mut last_error = None;
        for address in candidates {
            match self.ask_topology(&address).await {
                Ok(t) if t.covered() == respec_protocol::cluster::SLOTS as usize => {
                    best = Some(t);
                    break;
                }
                Ok(t) => {
                    if best.as_ref().is_none_or(|b| b.covered() < t.covered()) {
                        best = Some(t);
                    }
                }
                Err(e) => last_error = Some(e.with_command("CLUSTER SHARDS")),
            }
        }
        let Some(topology) = best.filter(|t| !t.shards.is_empty()) else {
            return Err(last_error
                .unwrap_or_else(|| Error::config("no cluster node answered with a slot map")));
        };
        self.refresh
            .settling
            .store(topology.settling, Ordering::Relaxed);
        let view = View::new(&topology, |address| self.node(address));
        let keep: Vec<String> = view.all_nodes().map(|n| n.address().to_owned()).collect();
        *self.view.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(view);
        // Nodes that left the cluster are closed (the seeds stay known).
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        nodes.retain(|address, node| {
            let stay = keep.contains(address) || self.seeds.contains(address);
            if !stay {
                node.close();
            }
            stay
        });
        self.counters.refreshes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The topology as the node at `address` sees it.
    async fn ask_topology(&self, address: &str) -> Result<Topology> {
        let conn = self.node(address).connection().await?;
        let timeout = self
            .template
            .request_timeout
            .or(Some(std::time::Duration::from_secs(5)));
        let frame = conn
            .send(CommandBuf::from_words(&[b"CLUSTER", b"SHARDS"]))
            .within(timeout)
            .await?;
        match frame_error(&frame) {
            None => Topology::from_shards(frame, address),
            Some(e) if is_unknown_command(&e) => {
                let frame = conn
                    .send(CommandBuf::from_words(&[b"CLUSTER", b"SLOTS"]))
                    .within(timeout)
                    .await?;
                match frame_error(&frame) {
                    None => Topology::from_slots(frame, address),
                    Some(e) => Err(e),
                }
            }
            Some(e) => Err(e),
        }
    }
}

/// The server does not know the subcommand (`CLUSTER SHARDS` before Redis 7).
fn is_unknown_command(e: &Error) -> bool {
    e.server_error().is_some_and(|s| {
        let t = s.text().to_ascii_lowercase();
        t.contains("unknown subcommand") || t.contains("unknown command")
    })
}

/// How soon the timer asks again while the last slot map was settling (replicas
/// not counted yet).
const SETTLING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Refreshes every `refresh_interval` while the cluster client lives, and every
/// second while the last slot map was settling (replicas it could not use yet).
pub(super) fn start_timer(cluster: &Arc<Cluster>) {
    let Some(every) = cluster.options.refresh_interval.filter(|d| !d.is_zero()) else {
        return;
    };
    let weak: Weak<Cluster> = Arc::downgrade(cluster);
    tokio::spawn(async move {
        loop {
            let wait = match weak.upgrade() {
                Some(c) if c.refresh.settling.load(Ordering::Relaxed) => {
                    every.min(SETTLING_INTERVAL)
                }
                Some(_) => every,
                None => return,
            };
            tokio::time::sleep(wait).await;
            let Some(cluster) = weak.upgrade() else {
                return;
            };
            cluster.schedule_refresh();
        }
    });
}
