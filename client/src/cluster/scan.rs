//! `SCAN` over a whole cluster: every primary in turn, each from cursor 0 to 0. A
//! slot counts as scanned only when the node scanned owned it both before and after
//! its scan; slots that moved meanwhile are scanned again on their new node, so a
//! key that exists throughout is returned at least once (SCAN's own guarantee),
//! through migrations and failovers. Keys may come twice.

use super::nodes::Node;
use super::send::needs_retry;
use super::Cluster;
use crate::command::CommandBuf;
use crate::error::{Error, Result};
use crate::reply::frame_error;
use crate::resp::{write_bulk, Reader};
use bytes::{Bytes, BytesMut};
use respec_protocol::cluster::SLOTS;
use std::sync::{Arc, Mutex};

/// Where a cluster-wide scan stands.
pub(crate) struct Walk {
    /// Slots whose keys have all been returned.
    done: Vec<bool>,
    /// The node being scanned: its slots when its scan started, and its cursor.
    current: Option<(Arc<Node>, Vec<u16>, Bytes)>,
}

impl Walk {
    /// A scan that has not started.
    pub(crate) fn new() -> Arc<Mutex<Walk>> {
        Arc::new(Mutex::new(Walk {
            done: vec![false; SLOTS as usize],
            current: None,
        }))
    }
}

fn lock(walk: &Mutex<Walk>) -> std::sync::MutexGuard<'_, Walk> {
    walk.lock().unwrap_or_else(|e| e.into_inner())
}

/// A SCAN reply frame with `cursor` and the items of `items` (an array frame).
fn page(cursor: &[u8], items: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(items.len() + 16);
    out.extend_from_slice(b"*2\r\n");
    write_bulk(&mut out, cursor);
    out.extend_from_slice(items);
    out.freeze()
}

impl Cluster {
    /// The next page of a cluster-wide scan: the command `template` (SCAN with its
    /// options) sent with the current node's cursor, its reply's cursor replaced by
    /// `1` (more to come) or `0` (every slot scanned).
    pub(crate) async fn scan_page(
        self: Arc<Self>,
        walk: Arc<Mutex<Walk>>,
        template: CommandBuf,
        cursor_pos: u16,
    ) -> Result<Bytes> {
        let mut failures = 0;
        loop {
            let current = lock(&walk).current.clone();
            let (node, owned, cursor) = match current {
                Some(c) => c,
                None => {
                    let view = self.view();
                    let next = {
                        let w = lock(&walk);
                        view.primaries()
                            .map(|n| (n, view.slots_of(n)))
                            .find(|(_, slots)| slots.iter().any(|&s| !w.done[s as usize]))
                            .map(|(n, slots)| (n.clone(), slots))
                    };
                    let Some((node, slots)) = next else {
                        return Ok(page(b"0", b"*0\r\n"));
                    };
                    let c = (node, slots, Bytes::from_static(b"0"));
                    lock(&walk).current = Some(c.clone());
                    c
                }
            };
            let mut buf = template.clone();
            buf.single(cursor_pos, "cursor");
            buf.push(&cursor);
            let sent = match node.connection().await {
                Ok(conn) => conn.send(buf).within(self.template.request_timeout).await,
                Err(e) => Err(e.unsent()),
            };
            // The node failed or left (or no longer serves): its slots are scanned
            // again on their new node, from the start. Other errors end the scan.
            let lost = match &sent {
                Ok(frame) => needs_retry(frame),
                Err(e) => e.is_io() || e.is_unsent(),
            };
            if lost && failures < self.options.max_redirects {
                failures += 1;
                lock(&walk).current = None;
                let _ = self.refresh_now().await;
                continue;
            }
            let frame = sent?;
            if let Some(e) = frame_error(&frame) {
                return Err(e);
            }
            let mut r = Reader::new(frame);
            r.next()?;
            let next_cursor = r.next_frame()?;
            let items = r.next_frame()?;
            let mut cr = Reader::new(next_cursor);
            let next_cursor = match cr.next()? {
                crate::resp::Head::Bulk(b) | crate::resp::Head::Simple(b) => b,
                other => return Err(Error::decode("a SCAN cursor", other.kind())),
            };
            if &next_cursor[..] == b"0" {
                // The node's scan is complete: its slots are done if it still owns
                // them (a fresh slot map says).
                let _ = self.refresh_now().await;
                let now = self.view().slots_of(&node);
                let mut w = lock(&walk);
                for s in owned.iter().filter(|s| now.contains(s)) {
                    w.done[*s as usize] = true;
                }
                w.current = None;
            } else {
                lock(&walk).current = Some((node, owned, next_cursor));
            }
            return Ok(page(b"1", &items));
        }
    }
}
