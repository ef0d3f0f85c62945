//! The SCAN family as streams: `SCAN`, `SSCAN`, `HSCAN`, `ZSCAN` pages fetched one
//! after the other, items yielded one by one.
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! use respec::cmd;
//! let mut keys = client.scan_stream(cmd::scan(0).match_("user:*").count(100));
//! while let Some(key) = keys.next().await {
//!     println!("{:?}", key?);
//! }
//! // Fields and values, from a given cursor:
//! let mut fields = client.scan_stream(cmd::hscan("h", 0));
//! # Ok(()) }
//! ```

use crate::client::Client;
use crate::command::{Command, CommandBuf};
use crate::connection::ResponseFuture;
use crate::error::Result;
use crate::reply::FromReply;
use bytes::Bytes;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Items of a SCAN-family command, fetched a page at a time.
///
/// Also a [`futures_core::Stream`]. [`cursor`](ScanStream::cursor) gives the cursor of
/// the next page, to restart from later with `cmd::scan(cursor)`.
///
/// On a cluster client, `SCAN` walks every primary in turn (each from cursor 0);
/// slots that move during the scan are scanned again where they went, so every key
/// that exists throughout is returned at least once (SCAN's guarantee), some
/// possibly twice. Its [`cursor`](ScanStream::cursor) then only says whether the
/// scan is complete (`0`) and cannot restart it.
pub struct ScanStream<'c, I> {
    client: &'c Client,
    /// The command with its options; the cursor is replaced for every page.
    template: CommandBuf,
    meta: Option<&'static crate::command::CommandMeta>,
    /// Spec position of the cursor argument.
    cursor_pos: u16,
    cursor: Bytes,
    items: VecDeque<I>,
    page: Option<ResponseFuture<(Bytes, Vec<I>)>>,
    done: bool,
    /// `SCAN` through a cluster client: every primary in turn.
    #[cfg(feature = "cluster")]
    walk: Option<std::sync::Arc<std::sync::Mutex<crate::cluster::Walk>>>,
}

impl<I> std::fmt::Debug for ScanStream<'_, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanStream")
            .field("command", &self.template)
            .field("cursor", &self.cursor)
            .field("buffered", &self.items.len())
            .field("done", &self.done)
            .finish()
    }
}

impl Client {
    /// Streams the items of a SCAN-family command (`cmd::scan`, `cmd::sscan`,
    /// `cmd::hscan`, `cmd::zscan`, with their MATCH / COUNT / TYPE / NOVALUES /
    /// NOSCORES options), starting from the cursor the command was built with.
    pub fn scan_stream<C, I>(&self, cmd: C) -> ScanStream<'_, I>
    where
        C: Command<Output = (Bytes, Vec<I>)>,
        I: FromReply + Send + 'static,
    {
        let meta = cmd.meta();
        // SCAN's cursor is its first argument; SSCAN, HSCAN and ZSCAN have the key first.
        let cursor_pos = if meta.is_some_and(|m| m.key_specs.is_empty()) {
            0
        } else {
            crate::command::ARG_POS_STRIDE
        };
        let template = cmd.into_buf();
        let cursor = template
            .iter()
            .nth(if cursor_pos == 0 { 1 } else { 2 })
            .map(Bytes::copy_from_slice)
            .unwrap_or_else(|| Bytes::from_static(b"0"));
        ScanStream {
            client: self,
            template,
            meta,
            cursor_pos,
            cursor,
            items: VecDeque::new(),
            page: None,
            done: false,
            #[cfg(feature = "cluster")]
            walk: (cursor_pos == 0 && self.is_cluster()).then(crate::cluster::Walk::new),
        }
    }
}

impl<I: FromReply + Send + 'static> ScanStream<'_, I> {
    /// The cursor of the next page (`0` once the scan is complete).
    pub fn cursor(&self) -> &Bytes {
        &self.cursor
    }

    /// Items of the current page not yielded yet: restarting from
    /// [`cursor`](Self::cursor) skips them.
    pub fn buffered(&self) -> usize {
        self.items.len()
    }

    /// Every remaining item (stops at the first error).
    pub async fn collect<B: Default + Extend<I>>(mut self) -> Result<B> {
        let mut out = B::default();
        while let Some(item) = self.next().await {
            out.extend(Some(item?));
        }
        Ok(out)
    }

    /// The next item, fetching pages as needed; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<I>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn request(&self) -> ResponseFuture<(Bytes, Vec<I>)> {
        #[cfg(feature = "cluster")]
        if let (Some(walk), Some(cluster)) = (&self.walk, self.client.cluster()) {
            let page =
                cluster
                    .clone()
                    .scan_page(walk.clone(), self.template.clone(), self.cursor_pos);
            return ResponseFuture::boxed("SCAN", Box::pin(page));
        }
        let mut buf = self.template.clone();
        buf.single(self.cursor_pos, "cursor");
        buf.push(&self.cursor);
        self.client.send_buf(buf, self.meta)
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<I>>> {
        loop {
            if let Some(item) = self.items.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let page = match &mut self.page {
                Some(page) => page,
                None => self.page.insert(self.request()),
            };
            match Pin::new(page).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    self.page = None;
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Ok((cursor, items))) => {
                    self.page = None;
                    self.done = &cursor[..] == b"0";
                    self.cursor = cursor;
                    self.items.extend(items);
                }
            }
        }
    }
}

// The stream is never pinned structurally: items live on the heap.
impl<I> Unpin for ScanStream<'_, I> {}

impl<I: FromReply + Send + 'static> futures_core::Stream for ScanStream<'_, I> {
    type Item = Result<I>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<I>>> {
        self.get_mut().poll_item(cx)
    }
}
