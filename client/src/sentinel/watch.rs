//! The watcher task of a service: subscribed to the announcements of every sentinel
//! it knows (`+switch-master` first of all; only the sentinel that runs a failover
//! announces its start, `+selected-slave`, and its end), asking again every
//! `poll_interval` in case an announcement was missed, and at once when a
//! connection suspects a change.

use super::service::Service;
use super::SentinelRole;
use crate::config::Address;
use crate::pubsub::{Kind, Message};
use crate::race::{race, First};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

/// The events a client of the primary listens to: the start of a failover
/// (`+selected-slave`: the replica to be promoted, taken as the primary at once) and
/// its aborts, the moment the sentinel sees the promoted replica answer as a primary
/// (`+promoted-slave`, then `+failover-state-reconf-slaves`, from which on it names
/// the new primary when asked), and the end (`+switch-master`).
const PRIMARY_EVENTS: &[&str] = &[
    "+switch-master",
    "+selected-slave",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
];
/// The events a client of a replica listens to as well: a replica down or back,
/// added, or reconfigured.
const REPLICA_EVENTS: &[&str] = &[
    "+switch-master",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+sdown",
    "-sdown",
    "+slave",
    "+convert-to-slave",
];

/// The listeners of a watcher, by sentinel; aborted with it.
#[derive(Default)]
struct Listeners(Vec<(Address, JoinHandle<()>)>);

impl Drop for Listeners {
    fn drop(&mut self) {
        for (_, task) in &self.0 {
            task.abort();
        }
    }
}

/// Runs until the service is dropped (`stopped` resolves).
pub(crate) async fn watch(
    service: Weak<Service>,
    mut stopped: oneshot::Receiver<()>,
    wake: Arc<Notify>,
    every: Duration,
) {
    let (tx, mut events) = mpsc::channel(64);
    let mut listeners = Listeners::default();
    listen_to_all(&service, &mut listeners, &tx);
    loop {
        // (`events` cannot end: its sender `tx` lives here.)
        let tick = tokio::time::sleep(every);
        let next = race(
            &mut stopped,
            race(events.recv(), race(tick, wake.notified())),
        );
        let next = match next.await {
            First::A(_) => return,
            First::B(next) => next,
        };
        let Some(svc) = service.upgrade() else { return };
        match next {
            First::A(message) => {
                if let Some(message) = message {
                    on_event(&svc, &message);
                }
                let _ = svc.discover().await;
            }
            First::B(First::A(())) => {
                let _ = svc.discover().await;
                drop(svc);
                // Sentinels learned since, and those whose listener ended.
                listen_to_all(&service, &mut listeners, &tx);
            }
            First::B(First::B(())) => {
                let _ = svc.discover().await;
            }
        }
    }
}

/// Starts a listener for every sentinel known that has none running.
fn listen_to_all(service: &Weak<Service>, listeners: &mut Listeners, tx: &mpsc::Sender<Message>) {
    let Some(svc) = service.upgrade() else { return };
    listeners.0.retain(|(_, task)| !task.is_finished());
    for address in svc.sentinel_addresses() {
        if !listeners.0.iter().any(|(a, _)| *a == address) {
            let task = tokio::spawn(listen(service.clone(), address.clone(), tx.clone()));
            listeners.0.push((address, task));
        }
    }
}

/// Subscribes to the service's events on the sentinel at `address` and hands them
/// (and word of a subscription renewed after a lost connection, when events may
/// have been missed) to the watcher, until it is gone. Ends at once when the
/// sentinel cannot be reached: the watcher tries again at its next poll.
async fn listen(service: Weak<Service>, address: Address, tx: mpsc::Sender<Message>) {
    let subscribed = async {
        let svc = service.upgrade()?;
        let events = match svc.options.role {
            SentinelRole::Primary => PRIMARY_EVENTS,
            SentinelRole::Replica => REPLICA_EVENTS,
        };
        let sentinel = svc.connect_sentinel(&address).await.ok()?;
        drop(svc);
        let subscriber = sentinel.subscriber().connect().await.ok()?;
        subscriber.subscribe(events.iter().copied()).await.ok()?;
        Some(subscriber)
    };
    let Some(mut subscriber) = subscribed.await else {
        return;
    };
    loop {
        match race(tx.closed(), subscriber.next_message()).await {
            First::A(()) => return,
            First::B(message) => match message {
                Some(m) if m.kind.is_message() || m.kind == Kind::Reconnected => {
                    if tx.send(m).await.is_err() {
                        return;
                    }
                }
                Some(_) => {}
                None => return,
            },
        }
    }
}

/// A `+switch-master <name> <old ip> <old port> <new ip> <new port>` or a
/// `+selected-slave slave <ip:port> <ip> <port> @ <name> <ip> <port>` for this
/// service switches at once; an abort lets the sentinels' answers count again;
/// other events just have the sentinels asked.
fn on_event(service: &Service, message: &Message) {
    if !message.kind.is_message() {
        return;
    }
    let Ok(payload) = std::str::from_utf8(&message.payload) else {
        return;
    };
    let words: Vec<&str> = payload.split_whitespace().collect();
    let address = |host: &str, port: &str| {
        Some(Address::Tcp {
            host: host.to_owned(),
            port: port.parse().ok()?,
        })
    };
    match (&message.channel[..], &words[..]) {
        (b"+switch-master", [name, _, _, host, port]) if *name == service.name => {
            if let Some(to) = address(host, port) {
                tracing::info!(service = %name, to = %to, "+switch-master");
                service.switched(to);
            }
        }
        (b"+selected-slave", ["slave", _, host, port, "@", name, ..]) if *name == service.name => {
            if let Some(to) = address(host, port) {
                tracing::info!(service = %name, to = %to, "+selected-slave");
                service.selected(to);
            }
        }
        (channel, ["master", name, ..])
            if channel.starts_with(b"-failover-abort") && *name == service.name =>
        {
            service.aborted();
        }
        _ => {}
    }
}
