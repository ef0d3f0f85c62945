//! The load the failover tests run and what they check afterwards: tasks writing
//! unique values and reading them back, counting with `INCR` (what was
//! acknowledged, what failed and how), a probe of single `SET`s, and the check of
//! all that against the settled new primary; when the sentinels announce what.

use respec::{Client, Commands};
use respec_tests::SentinelGroup;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Polls `check` every 10 ms for up to `limit`; whether it came true.
pub(crate) async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Resolves when `client` leaves the node it is on now (polled every 2 ms).
pub(crate) fn when_moved(client: &Client) -> tokio::task::JoinHandle<Instant> {
    let client = client.clone();
    let old = client.address();
    tokio::spawn(async move {
        while client.address() == old {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Instant::now()
    })
}

/// What the load tasks saw.
#[derive(Default, Debug)]
pub(crate) struct Tally {
    /// Acknowledged writes: key, value, when (seconds since the epoch).
    pub(crate) acked: Vec<(String, String, f64)>,
    /// INCRs acknowledged, and failed as may-have-run, per counter.
    pub(crate) incr_acked: Vec<u64>,
    pub(crate) incr_maybe: Vec<u64>,
    /// Reads that returned another value than the one just written.
    pub(crate) wrong: u64,
    pub(crate) errors: u64,
    /// Errors saying the command was never sent (of `errors`, and of the INCRs).
    pub(crate) unsent: u64,
    pub(crate) examples: Vec<String>,
}

impl Tally {
    fn failed(&mut self, e: &respec::Error) {
        self.errors += 1;
        self.unsent += u64::from(e.is_unsent());
        if self.examples.len() < 3 {
            self.examples.push(e.to_string());
        }
    }
}

/// `tasks` tasks writing unique values, reading them back, and counting with INCR
/// until `stop`.
pub(crate) fn load(
    client: &Client,
    prefix: &str,
    tasks: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Tally>> {
    (0..tasks)
        .map(|t| {
            let client = client.clone();
            let stop = stop.clone();
            let prefix = prefix.to_owned();
            tokio::spawn(async move {
                let mut tally = Tally {
                    incr_acked: vec![0],
                    incr_maybe: vec![0],
                    ..Tally::default()
                };
                let counter = format!("{prefix}:ctr:{t}");
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let key = format!("{prefix}:{t}:{i}");
                    let value = format!("v{i}");
                    match client.set(&key, value.as_str()).await {
                        Ok(_) => tally.acked.push((key.clone(), value.clone(), now_secs())),
                        Err(e) => {
                            tally.failed(&e);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            continue;
                        }
                    }
                    match client.get(&key).decode::<Option<String>>().await {
                        Ok(Some(v)) if v != value => tally.wrong += 1,
                        Ok(_) => {}
                        Err(e) => tally.failed(&e),
                    }
                    match client.incr(&counter).await {
                        Ok(_) => tally.incr_acked[0] += 1,
                        Err(e) if e.is_unsent() => tally.unsent += 1,
                        Err(_) => tally.incr_maybe[0] += 1,
                    }
                }
                tally
            })
        })
        .collect()
}

pub(crate) async fn collect(handles: Vec<tokio::task::JoinHandle<Tally>>) -> Tally {
    let mut total = Tally::default();
    for h in handles {
        // (Bounded: a writer stuck on a request fails the test, not the whole run.)
        let t = tokio::time::timeout(Duration::from_secs(120), h)
            .await
            .expect("a writer still running 120 s after the load ended")
            .unwrap();
        total.acked.extend(t.acked);
        total.incr_acked.extend(t.incr_acked);
        total.incr_maybe.extend(t.incr_maybe);
        total.wrong += t.wrong;
        total.errors += t.errors;
        total.unsent += t.unsent;
        total.examples.extend(t.examples);
    }
    total.examples.truncate(5);
    total
}

/// What the settled new primary (`node`) holds of what the load tasks (keys
/// starting with `prefix`) were told: the acknowledged writes it lacks (when each
/// was acknowledged, seconds since the epoch), and the counters above every INCR
/// sent (run twice).
pub(crate) async fn verify(
    group: &SentinelGroup,
    node: usize,
    prefix: &str,
    tally: &Tally,
) -> (Vec<f64>, usize) {
    let direct = Client::connect(&group.node_urls()[node]).await.unwrap();
    let mut lost = Vec::new();
    for (key, value, at) in &tally.acked {
        let v: Option<String> = direct.get(key).decode().await.unwrap();
        if v.as_deref() != Some(value.as_str()) {
            lost.push(*at);
        }
    }
    let mut doubled = 0;
    for (t, (acked, maybe)) in tally.incr_acked.iter().zip(&tally.incr_maybe).enumerate() {
        let n: Option<u64> = direct
            .get(format!("{prefix}:ctr:{t}"))
            .decode()
            .await
            .unwrap();
        // Lost INCRs (acknowledged by the old primary in the window) lower it;
        // nothing may raise it above what was sent.
        if n.unwrap_or(0) > acked + maybe {
            doubled += 1;
        }
    }
    (lost, doubled)
}

/// What [`probe`] saw: the keys of the SETs that failed as never sent, by how.
#[derive(Default, Debug)]
pub(crate) struct Probe {
    pub(crate) ok: u64,
    /// Timed out (the request timeout) before they were sent.
    pub(crate) timed_out: Vec<String>,
    /// Failed at once as unsent (held no longer).
    pub(crate) failed: Vec<String>,
    /// Other errors (may have run).
    pub(crate) other: Vec<String>,
}

/// One task SETting `prefix:N` keys one after the other until `stop`.
pub(crate) fn probe(
    client: &Client,
    prefix: &str,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Probe> {
    let (client, stop, prefix) = (client.clone(), stop.clone(), prefix.to_owned());
    tokio::spawn(async move {
        let mut seen = Probe::default();
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            i += 1;
            let key = format!("{prefix}:{i}");
            let err = match client.set(&key, i).await {
                Ok(_) => {
                    seen.ok += 1;
                    continue;
                }
                Err(e) => e,
            };
            match (err.is_unsent(), err.is_timeout()) {
                (true, true) => seen.timed_out.push(key),
                (true, false) => seen.failed.push(key),
                (false, _) => seen.other.push(err.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        seen
    })
}

/// How many bytes of the replication stream the slowest replica of the node at
/// `primary` has not acknowledged yet (`INFO replication`: `master_repl_offset`
/// against each `slaveN` offset): what a failover now would lose, as the sentinels
/// do not wait for the replica they promote to catch up.
pub(crate) fn replication_lag(group: &SentinelGroup, primary: usize) -> Option<i64> {
    let info = group
        .query(primary, &["INFO", "replication"])
        .ok()?
        .text()?;
    let field = |line: &str, name: &str| {
        line.split([':', ','])
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let head = info
        .lines()
        .find_map(|l| l.strip_prefix("master_repl_offset:"))?
        .trim()
        .parse::<i64>()
        .ok()?;
    info.lines()
        .filter(|l| l.starts_with("slave"))
        .filter_map(|l| field(l, "offset"))
        .map(|offset| head - offset)
        .max()
}

/// When each of `channels` (sentinel events: `+switch-master`, ...) is first
/// announced by the sentinel at `index`, as a subscriber of its own sees it; the
/// task ends once the last of them has been.
pub(crate) async fn first_events(
    group: &SentinelGroup,
    index: usize,
    channels: &[&'static str],
) -> tokio::task::JoinHandle<HashMap<&'static str, Instant>> {
    let sentinel = Client::connect(&group.sentinel_urls()[index])
        .await
        .unwrap();
    let mut events = sentinel.subscriber().connect().await.unwrap();
    events.subscribe(channels.iter().copied()).await.unwrap();
    let channels = channels.to_vec();
    tokio::spawn(async move {
        let _keep = sentinel;
        let mut seen = HashMap::new();
        while let Some(m) = events.next_message().await {
            let Some(&channel) = channels.iter().find(|c| c.as_bytes() == &m.channel[..]) else {
                continue;
            };
            if m.kind.is_message() {
                seen.entry(channel).or_insert_with(Instant::now);
                if Some(&channel) == channels.last() {
                    break;
                }
            }
        }
        seen
    })
}

/// `at` in seconds since the epoch, as [`now_secs`].
pub(crate) fn epoch_secs(at: Instant) -> f64 {
    now_secs() - at.elapsed().as_secs_f64()
}

/// Whether a client of the sentinel at `index` is subscribed to something there
/// (`CLIENT LIST`: a `sub=` count other than 0).
pub(crate) fn has_subscriber(group: &SentinelGroup, index: usize) -> bool {
    let list = tokio::task::block_in_place(|| group.sentinel_query(index, &["CLIENT", "LIST"]));
    list.ok()
        .and_then(|l| l.text())
        .unwrap_or_default()
        .split_whitespace()
        .any(|field| field.starts_with("sub=") && field != "sub=0")
}
