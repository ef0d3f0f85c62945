//! The watcher task of a service: subscribed to the sentinel's announcements
//! (`+switch-master` first of all), asking again every `poll_interval` in case an
//! announcement was missed, and at once when a connection suspects a change.

use super::service::Service;
use super::SentinelRole;
use crate::config::Address;
use crate::pubsub::{Message, Subscriber};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};

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

/// Runs until the service is dropped (`stopped` resolves).
pub(crate) async fn watch(
    service: Weak<Service>,
    mut stopped: oneshot::Receiver<()>,
    wake: Arc<Notify>,
    every: Duration,
) {
    loop {
        let Some(svc) = service.upgrade() else { return };
        let (mut subscriber, subscribed_to) = match subscribe(&svc).await {
            Some((s, at)) => (Some(s), Some(at)),
            None => (None, None),
        };
        drop(svc);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                message = next(&mut subscriber) => match message {
                    Some(message) => {
                        let Some(svc) = service.upgrade() else { return };
                        on_event(&svc, &message);
                        let _ = svc.discover().await;
                    }
                    None => break,
                },
                () = tokio::time::sleep(every) => {
                    let Some(svc) = service.upgrade() else { return };
                    let asked = svc.discover().await;
                    // Subscribed to a sentinel that no longer answers (or not at
                    // all): subscribe on the one that does.
                    let answering = svc.sentinel().await.map(|c| c.config().address.clone());
                    if asked.is_err() || answering != subscribed_to {
                        break;
                    }
                }
                () = wake.notified() => {
                    let Some(svc) = service.upgrade() else { return };
                    let _ = svc.discover().await;
                }
            }
        }
    }
}

/// The next message of `subscriber`; never, without one.
async fn next(subscriber: &mut Option<Subscriber>) -> Option<Message> {
    match subscriber {
        Some(s) => s.next_message().await,
        None => std::future::pending().await,
    }
}

/// A subscription to the service's events on the sentinel that answers, and that
/// sentinel's address; `None` when none answers (polling goes on).
async fn subscribe(service: &Service) -> Option<(Subscriber, Address)> {
    if service.sentinel().await.is_none() {
        service.discover().await.ok()?;
    }
    let sentinel = service.sentinel().await?;
    let subscriber = sentinel.subscriber().connect().await.ok()?;
    let events = match service.options.role {
        SentinelRole::Primary => PRIMARY_EVENTS,
        SentinelRole::Replica => REPLICA_EVENTS,
    };
    subscriber.subscribe(events.iter().copied()).await.ok()?;
    Some((subscriber, sentinel.config().address.clone()))
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
