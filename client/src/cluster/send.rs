//! Sending one command to a cluster: to the node of its slot (following `MOVED`
//! and `ASK`, retrying what the reply proves did not run), to every primary or
//! node (merged by the response policy), or split by slot (one pipeline per node,
//! put back together in the caller's key order).
//!
//! At most once: a command is sent again only when its reply proves it did not run
//! (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`),
//! or it was never written (the node could not be reached). A command lost with its
//! connection fails as "may or may not have run".

use super::nodes::Node;
use super::Cluster;
use crate::command::meta::{lookup_args, CommandMeta, ResponsePolicy};
use crate::command::CommandBuf;
use crate::command::Encoded;
use crate::error::{Error, Result};
use crate::reply::frame_error;
use bytes::Bytes;
use respec_protocol::cluster::{aggregate, split, target, Target};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What a command's error reply asks the client to do.
enum Next {
    /// `MOVED`: the slot lives at this address now.
    Moved(u16, String),
    /// `ASK`: this once, at this address, after `ASKING`.
    Ask(String),
    /// Try again after a pause; `refresh`: the topology changed.
    Retry { refresh: bool },
}

/// What to do about an error reply, if it is one of the cluster's.
fn next(err: &Error) -> Option<Next> {
    let server = err.server_error()?;
    if let Some(r) = server.moved() {
        return Some(Next::Moved(r.slot, r.address));
    }
    if let Some(r) = server.ask() {
        return Some(Next::Ask(r.address));
    }
    match server.code() {
        "TRYAGAIN" | "LOADING" => Some(Next::Retry { refresh: false }),
        "CLUSTERDOWN" | "MASTERDOWN" | "READONLY" => Some(Next::Retry { refresh: true }),
        _ => None,
    }
}

/// Whether a reply frame is an error that proves the command did not run and that
/// following the cluster may fix (`MOVED`, `ASK`, `TRYAGAIN`, ...).
pub(super) fn needs_retry(frame: &Bytes) -> bool {
    frame_error(frame).is_some_and(|e| next(&e).is_some())
}

/// Whether only the server can say where a command's keys are: its keys are found
/// by command-specific code and its key specifications say they may miss some
/// (`MIGRATE`, whose key may be an empty string before `KEYS`).
fn keys_need_the_server(meta: &CommandMeta) -> bool {
    meta.custom_key_lookup
        && meta.key_specs.iter().any(|k| {
            k.flags
                .contains(crate::command::meta::KeySpecFlags::INCOMPLETE)
        })
}

/// The error reply of a command that was still redirected or asked to wait after
/// its last attempt, naming the slot and the attempts (the server's `TRYAGAIN` says
/// neither), with the server's code first (so `code()` is still `TRYAGAIN`,
/// `MOVED`, ...).
fn exhausted(err: &Error, slot: Option<u16>, attempts: u32, took: Duration) -> Bytes {
    let text = err.server_error().map_or("", |s| s.text());
    let slot = slot.map_or_else(|| "the node".to_owned(), |s| format!("slot {s}"));
    let why = if text.starts_with("TRYAGAIN") {
        ": its keys are on both sides of a slot migration, which has not ended"
    } else {
        ""
    };
    let line = format!(
        "-{text} ({slot} still answered so after {attempts} attempts over {took:.1?}, the cluster client's max_redirects{why})"
    )
    .replace(['\r', '\n'], " ");
    Bytes::from(line + "\r\n")
}

/// The pause before retry `attempt` (from 0): 10 ms doubling, at most 640 ms.
pub(super) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(10 << attempt.min(6))
}

impl Cluster {
    /// Runs one command (`dedicated`: on a pooled connection of its node, a blocking
    /// command; `waits`: it may rightly wait long) and returns its reply frame.
    pub(crate) async fn run(
        self: Arc<Self>,
        buf: CommandBuf,
        meta: Option<&'static CommandMeta>,
        waits: bool,
        dedicated: bool,
    ) -> Result<Bytes> {
        let args = buf.words();
        let meta = meta.or_else(|| lookup_args(&args));
        if meta.is_some_and(keys_need_the_server) {
            drop(args);
            let slot = self.slot_from_server(&buf).await?;
            return self.run_slot(slot, buf, waits, dedicated).await;
        }
        match target(meta, &args)? {
            Target::Slot { slot, read_only } => {
                drop(args);
                // A read may go to a replica (by the read policy), first try only.
                let reader = (read_only && !dedicated)
                    .then(|| self.reader_of(slot))
                    .flatten();
                let read = read_only && !dedicated;
                self.run_on(Some(slot), reader, buf, waits, dedicated, read)
                    .await
            }
            Target::Any => {
                drop(args);
                self.run_slot(None, buf, waits, dedicated).await
            }
            Target::AllPrimaries(policy) => {
                drop(args);
                self.fan_out(false, policy, buf).await
            }
            Target::AllNodes(policy) => {
                drop(args);
                self.fan_out(true, policy, buf).await
            }
            Target::Special(name) => {
                drop(args);
                self.run_special(name, buf).await
            }
            Target::Split(policy) => {
                let Some(meta) = meta else {
                    return Err(Error::cross_slot(
                        "a command the spec does not know cannot be split by slot".into(),
                    ));
                };
                let parts = split(meta, &args)?;
                let total = parts.iter().map(|p| p.keys.len()).sum();
                drop(args);
                self.run_split(policy, parts, total).await
            }
        }
    }

    /// The pool of the node serving the keys of `cmd` (`WATCH`), which must share
    /// one slot, and that slot (`None`: no keys).
    pub(crate) async fn pool_for(
        self: &Arc<Self>,
        cmd: &impl crate::command::Command,
    ) -> Result<(Arc<crate::pool::Pool>, Option<u16>)> {
        let args = cmd.buf().words();
        let slot = match target(cmd.meta(), &args)? {
            Target::Slot { slot, .. } => Some(slot),
            Target::Split(_) => {
                return Err(Error::cross_slot(format!(
                    "{}: the keys hash to different slots, and a transaction runs on one node; give them a common hash tag. Nothing was sent",
                    cmd.name()
                )))
            }
            _ => None,
        };
        let find = || match slot {
            Some(s) => self.view().primary_of(s),
            None => self.any_node().ok(),
        };
        let node = match find() {
            Some(n) => n,
            None => {
                self.refresh_now().await?;
                find().ok_or_else(|| Error::config("no node serves the keys' slot").unsent())?
            }
        };
        Ok((node.pool().await?, slot))
    }

    /// The one slot of a command's keys as the server finds them (`COMMAND
    /// GETKEYS`, asked of any node); `None` for no keys.
    async fn slot_from_server(self: &Arc<Self>, buf: &CommandBuf) -> Result<Option<u16>> {
        let words: Vec<&[u8]> = [&b"COMMAND"[..], b"GETKEYS"]
            .into_iter()
            .chain(buf.iter())
            .collect();
        let ask = CommandBuf::from_words(&words);
        let frame = self.run_slot(None, ask, false, false).await?;
        let keys: Vec<Bytes> =
            crate::reply::decode_frame(frame).map_err(|e| e.with_command("COMMAND GETKEYS"))?;
        let mut slots = keys.iter().map(|k| respec_protocol::cluster::slot(k));
        let Some(first) = slots.next() else {
            return Ok(None);
        };
        match slots.find(|&s| s != first) {
            None => Ok(Some(first)),
            Some(other) => Err(Error::cross_slot(format!(
                "its keys hash to different slots ({first} and {other}), and a cluster runs it only when they share one; give the keys a common hash tag. Nothing was sent"
            ))),
        }
    }

    /// The request timeout.
    fn timeout(&self) -> Option<Duration> {
        self.template.request_timeout
    }

    /// Runs a command on the node of `slot` (`None`: any node), following redirects.
    pub(crate) async fn run_slot(
        self: &Arc<Self>,
        slot: Option<u16>,
        buf: CommandBuf,
        waits: bool,
        dedicated: bool,
    ) -> Result<Bytes> {
        self.run_on(slot, None, buf, waits, dedicated, false).await
    }

    /// [`run_slot`](Self::run_slot), trying `first` (a replica for a read) first:
    /// any retry goes to the primary. A `read` (the spec's `READONLY` flag, on a
    /// shared connection) whose connection was lost after it was written is also
    /// sent again: it changes nothing, so running twice is harmless (a write is
    /// never resent once written).
    async fn run_on(
        self: &Arc<Self>,
        slot: Option<u16>,
        first: Option<Arc<Node>>,
        buf: CommandBuf,
        waits: bool,
        dedicated: bool,
        read: bool,
    ) -> Result<Bytes> {
        let mut attempt = 0;
        let started = tokio::time::Instant::now();
        // Where the next attempt goes when the slot map does not say (a redirect).
        let mut to: Option<String> = None;
        let mut asking = false;
        let mut first = first;
        loop {
            let node = match (first.take(), to.take(), slot) {
                (Some(node), _, _) => Some(node),
                (None, Some(address), _) => Some(self.node(&address)),
                (None, None, Some(slot)) => self.view().primary_of(slot),
                (None, None, None) => self.any_node().ok(),
            };
            let outcome = match &node {
                Some(node) => {
                    let r = self.send_to(node, &buf, asking, waits, dedicated).await;
                    if matches!(&r, Err(e) if e.is_unsent() && e.is_io()) {
                        node.mark_unreachable();
                    }
                    r
                }
                None => Err(Error::config(format!(
                    "no node serves slot {} in the cluster's slot map",
                    slot.unwrap_or_default()
                ))
                .unsent()),
            };
            asking = false;
            let retry_error = match outcome {
                Ok(frame) => {
                    let Some(err) = frame_error(&frame) else {
                        return Ok(frame);
                    };
                    match next(&err) {
                        None => return Ok(frame),
                        Some(_) if attempt >= self.options.max_redirects => {
                            return Ok(exhausted(&err, slot, attempt + 1, started.elapsed()))
                        }
                        Some(Next::Moved(moved_slot, address)) => {
                            self.counters.moved.fetch_add(1, Ordering::Relaxed);
                            self.hint_refresh(&address);
                            let node = self.node(&address);
                            self.view().moved(moved_slot, &node);
                            // This very slot's next attempt goes there in any case.
                            to = (slot != Some(moved_slot)).then_some(address);
                            self.schedule_refresh();
                            None
                        }
                        Some(Next::Ask(address)) => {
                            self.counters.asked.fetch_add(1, Ordering::Relaxed);
                            to = Some(address);
                            asking = true;
                            None
                        }
                        Some(Next::Retry { refresh }) => {
                            self.counters.retries.fetch_add(1, Ordering::Relaxed);
                            if refresh {
                                let _ = self.refresh_now().await;
                            }
                            tokio::time::sleep(backoff(attempt)).await;
                            None
                        }
                    }
                }
                // Never written (the node could not be reached, or its connection
                // was down): the topology may have changed; try again.
                Err(e) if e.is_unsent() && !e.is_timeout() && !e.is_queue_full() => Some(e),
                // A read whose connection was lost after it was written.
                Err(e) if read && e.is_io() && !e.is_timeout() => Some(e),
                Err(e) => {
                    if e.is_io() {
                        self.schedule_refresh();
                    }
                    return Err(e);
                }
            };
            if let Some(e) = retry_error {
                if attempt >= self.options.max_redirects {
                    return Err(e);
                }
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
                let _ = self.refresh_now().await;
                tokio::time::sleep(backoff(attempt)).await;
            }
            attempt += 1;
        }
    }

    /// Sends `buf` to `node` once (after `ASKING` when `asking`); its reply frame.
    async fn send_to(
        &self,
        node: &Node,
        buf: &CommandBuf,
        asking: bool,
        waits: bool,
        dedicated: bool,
    ) -> Result<Bytes> {
        let with_asking = |buf: &CommandBuf| {
            let mut both = Encoded::new();
            CommandBuf::from_words(&[b"ASKING"]).encode_into(&mut both);
            buf.encode_into(&mut both);
            both
        };
        let second = |frames: Vec<Bytes>| frames.into_iter().nth(1).unwrap_or_default();
        if dedicated {
            let pool = node.pool().await.map_err(Error::unsent)?;
            let conn = pool.get().await?;
            return if asking {
                conn.send_many(with_asking(buf), 2, None).await.map(second)
            } else {
                conn.send(buf.clone()).await
            };
        }
        // A node that cannot be reached was sent nothing.
        let client = node.client().await.map_err(Error::unsent)?;
        let conn = client.connection();
        let limit = if waits { None } else { self.timeout() };
        if asking {
            // ASKING and the command are written together, so no other task's
            // command comes between them.
            conn.send_many(with_asking(buf), 2, None)
                .within(limit)
                .await
                .map(second)
        } else if waits {
            conn.send_waiting(buf.clone()).within(limit).await
        } else {
            // Through the node's client-side cache, when it has one.
            client.send_shared(buf.clone(), limit).await
        }
    }

    /// Runs a command on every primary (or every node) and merges the replies by
    /// `policy`. When a node answers that it no longer serves what the view says
    /// (a failover), the view is refreshed and the command runs again on the new
    /// nodes (the commands sent everywhere are idempotent: `FLUSHALL`,
    /// `SCRIPT LOAD`, `CONFIG SET`).
    async fn fan_out(
        self: &Arc<Self>,
        all_nodes: bool,
        policy: Option<ResponsePolicy>,
        buf: CommandBuf,
    ) -> Result<Bytes> {
        aggregate::merge(policy, self.fan_out_frames(all_nodes, buf).await?)
    }

    /// Runs a command on every primary (or every node), as [`fan_out`](Self::fan_out)
    /// does; every node's reply frame, in node order.
    async fn fan_out_frames(
        self: &Arc<Self>,
        all_nodes: bool,
        buf: CommandBuf,
    ) -> Result<Vec<Bytes>> {
        let mut attempt = 0;
        loop {
            let view = self.view();
            let nodes: Vec<Arc<Node>> = if all_nodes {
                view.all_nodes().cloned().collect()
            } else {
                view.primaries().cloned().collect()
            };
            if nodes.is_empty() {
                return Err(Error::config("the cluster has no known node").unsent());
            }
            // Queued on every node before waiting for any: they run in parallel.
            let mut replies = Vec::with_capacity(nodes.len());
            for node in &nodes {
                let conn = node.connection().await?;
                replies.push(conn.send(buf.clone()));
            }
            let mut frames = Vec::with_capacity(nodes.len());
            for reply in replies {
                frames.push(reply.within(self.timeout()).await?);
            }
            let stale = frames
                .iter()
                .any(|f| frame_error(f).is_some_and(|e| next(&e).is_some()));
            if stale && attempt < 2 {
                attempt += 1;
                let _ = self.refresh_now().await;
                continue;
            }
            return Ok(frames);
        }
    }

    /// The commands the spec marks `special`, by name: `RANDOMKEY` asks every
    /// primary and returns the first key found; `CLUSTER SLOT-STATS` asks every
    /// primary and merges their slots as one server would answer
    /// ([`aggregate::slot_stats`]); `SCAN` (its cursor belongs to one node) is refused; `CLUSTERSCAN` goes to the node of its cursor's slot; the per-node diagnostics (`INFO`, `MEMORY STATS`,
    /// `LATENCY LATEST`, `FUNCTION STATS`, ...) run on one node, with the same reply
    /// type as on one server.
    async fn run_special(self: &Arc<Self>, name: &'static str, buf: CommandBuf) -> Result<Bytes> {
        match name {
            "RANDOMKEY" => {
                let view = self.view();
                let mut first = None;
                for node in view.primaries() {
                    let frame = node.connection().await?.send(buf.clone()).within(self.timeout()).await?;
                    let null = matches!(&frame[..], b"_\r\n" | b"$-1\r\n");
                    if !null {
                        return Ok(frame);
                    }
                    first.get_or_insert(frame);
                }
                Ok(first.unwrap_or_default())
            }
            // Its cursor names the slot where it goes on (`0-{06S}-0`: a hash tag),
            // and the spec routes it as a key (`not_key`): the node of that slot,
            // which answers with the cursor of its next slot, until `0`.
            "CLUSTERSCAN" => {
                let slot = buf.iter().nth(1).map(respec_protocol::cluster::slot);
                self.run_slot(slot, buf, false, false).await
            }
            // Every primary's slots, merged as one server holding them all answers:
            // ordered by the metric and cut to the limit, or in slot order.
            "CLUSTER SLOT-STATS" => {
                let frames = self.fan_out_frames(false, buf.clone()).await?;
                let args = buf.words();
                aggregate::slot_stats(&args, frames)
            }
            "SCAN" => Err(Error::refused(
                "a SCAN cursor belongs to one node: scanning through a cluster client is not supported yet",
            )),
            _ => self.run_slot(None, buf, false, false).await,
        }
    }

    /// Runs the parts of a split command as one pipeline segment (one pipeline per
    /// node; the parts a node redirects run again on their own) and puts the replies
    /// back together.
    async fn run_split(
        self: &Arc<Self>,
        policy: Option<ResponsePolicy>,
        parts: Vec<respec_protocol::cluster::Part>,
        total: usize,
    ) -> Result<Bytes> {
        let slots: Vec<Option<u16>> = parts.iter().map(|p| Some(p.slot)).collect();
        let (cmds, keys): (Vec<_>, Vec<_>) =
            parts.into_iter().map(|p| ((p.cmd, None), p.keys)).unzip();
        let frames = self.run_segment(&cmds, &slots).await?;
        aggregate::reassemble(policy, &keys, total, frames)
    }
}
