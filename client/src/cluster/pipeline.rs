//! Pipelines and transactions on a cluster.
//!
//! A pipeline is cut into segments at each command that goes to several nodes
//! (a fan-out or a split command), which runs alone, in its place. Within a segment
//! the commands are grouped by node and each node gets its share as one pipeline,
//! all nodes at once, so each node runs its commands in the caller's order. A command
//! a node redirects (`MOVED`, `ASK`, `TRYAGAIN`: it did not run) runs again after
//! its segment, following its redirects as a command of its own: those of one slot
//! in call order, the slots all at once (one command's retry budget for the whole
//! segment); the replies come back in call order.
//!
//! A transaction runs on one node: every key of every command must hash to one slot
//! (a hash tag), or it is refused before anything is sent.

use super::nodes::Node;
use super::send::needs_retry;
use super::Cluster;
use crate::command::CommandBuf;
use crate::command::Encoded;
use crate::error::{Error, Result};
use bytes::Bytes;
use respec_protocol::cluster::{target, Target};
use std::sync::Arc;

use super::Queued;

impl Cluster {
    /// Runs the commands of a pipeline; one reply frame per command, in order.
    pub(crate) async fn run_pipeline(self: &Arc<Self>, cmds: Vec<Queued>) -> Result<Vec<Bytes>> {
        let mut targets = Vec::with_capacity(cmds.len());
        for (buf, meta) in &cmds {
            let args = buf.words();
            let meta = meta.or_else(|| crate::command::meta::lookup_args(&args));
            targets.push(target(meta, &args)?);
        }
        let mut frames: Vec<Bytes> = Vec::with_capacity(cmds.len());
        let mut start = 0;
        while start < cmds.len() {
            let end = (start..cmds.len())
                .find(|&i| !matches!(targets[i], Target::Slot { .. } | Target::Any))
                .unwrap_or(cmds.len());
            if end > start {
                let slots: Vec<Option<u16>> = targets[start..end]
                    .iter()
                    .map(|t| match t {
                        Target::Slot { slot, .. } => Some(*slot),
                        _ => None,
                    })
                    .collect();
                frames.extend(self.run_segment(&cmds[start..end], &slots).await?);
            }
            if end < cmds.len() {
                let (buf, meta) = &cmds[end];
                frames.push(self.clone().run(buf.clone(), *meta, false, false).await?);
            }
            start = end + 1;
        }
        Ok(frames)
    }

    /// Runs commands that each go to one node: one pipeline per node, in parallel;
    /// the redirected ones again, each following its redirects (one slot's in
    /// order, the slots at once).
    pub(super) async fn run_segment(
        self: &Arc<Self>,
        cmds: &[Queued],
        slots: &[Option<u16>],
    ) -> Result<Vec<Bytes>> {
        let view = self.view();
        let mut groups: Vec<(Arc<Node>, Vec<usize>)> = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            let node = match slot {
                Some(s) => view.primary_of(*s),
                None => self.any_node().ok(),
            };
            // No node known: run on its own below (which refreshes).
            if let Some(node) = node {
                match groups.iter_mut().find(|(n, _)| Arc::ptr_eq(n, &node)) {
                    Some((_, list)) => list.push(i),
                    None => groups.push((node, vec![i])),
                }
            }
        }
        let mut pending = Vec::with_capacity(groups.len());
        for (node, list) in &groups {
            let conn = node.connection().await?;
            let mut encoded = Encoded::new();
            for &i in list {
                cmds[i].0.encode_into(&mut encoded);
            }
            pending.push(conn.send_many(encoded, list.len(), None));
        }
        let mut frames: Vec<Option<Bytes>> = vec![None; cmds.len()];
        for ((_, list), reply) in groups.iter().zip(pending) {
            let got = reply.within(self.template.request_timeout).await?;
            for (&i, frame) in list.iter().zip(got) {
                frames[i] = Some(frame);
            }
        }
        // The redirected commands (and those of no known node) run again, each
        // following its redirects as a command of its own: those of one slot one
        // after another, in call order (they may share keys), the slots all at
        // once, so the call takes one command's retry budget, however many of its
        // slots redirect.
        let mut by_slot: Vec<(Option<u16>, Vec<usize>)> = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            if frame.as_ref().is_none_or(needs_retry) {
                match by_slot.iter_mut().find(|(s, _)| *s == slots[i]) {
                    Some((_, list)) => list.push(i),
                    None => by_slot.push((slots[i], vec![i])),
                }
            }
        }
        let mut again = tokio::task::JoinSet::new();
        for (slot, list) in by_slot {
            let this = self.clone();
            let bufs: Vec<(usize, CommandBuf)> =
                list.into_iter().map(|i| (i, cmds[i].0.clone())).collect();
            again.spawn(async move {
                let mut done = Vec::with_capacity(bufs.len());
                for (i, buf) in bufs {
                    done.push((i, this.run_slot(slot, buf, false, false).await?));
                }
                Ok::<_, Error>(done)
            });
        }
        while let Some(done) = again.join_next().await {
            let done = done.map_err(|e| match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Error::closed(),
            })??;
            for (i, frame) in done {
                frames[i] = Some(frame);
            }
        }
        Ok(frames.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Runs a transaction (`cmds`: `MULTI`, the `queued` commands, `EXEC`, encoded)
    /// on the node of its one slot.
    pub(crate) async fn run_transaction(
        self: &Arc<Self>,
        cmds: Encoded,
        queued: &[Queued],
    ) -> Result<Vec<Bytes>> {
        let mut slot: Option<(u16, &str)> = None;
        for (buf, meta) in queued {
            let args = buf.words();
            let meta = meta.or_else(|| crate::command::meta::lookup_args(&args));
            let name = meta.map_or("a command", |m| m.name);
            match target(meta, &args)? {
                Target::Slot { slot: s, .. } => match slot {
                    Some((first, first_name)) if first != s => {
                        return Err(Error::cross_slot(format!(
                            "a transaction runs on one node, but its keys hash to different slots ({first} for {first_name}, {s} for {name}); give the keys a common hash tag. Nothing was sent"
                        )))
                    }
                    _ => slot = Some((s, name)),
                },
                Target::Any => {}
                _ => {
                    return Err(Error::cross_slot(format!(
                        "{name} runs on several nodes of a cluster, so it cannot be part of a transaction. Nothing was sent"
                    )))
                }
            }
        }
        let node = match slot {
            Some((s, _)) => self.view().primary_of(s),
            None => self.any_node().ok(),
        }
        .ok_or_else(|| Error::config("no node serves the transaction's slot").unsent())?;
        let conn = node.connection().await?;
        conn.send_many(cmds, queued.len() + 2, None)
            .within(self.template.request_timeout)
            .await
    }
}
