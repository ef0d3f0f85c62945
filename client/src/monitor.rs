//! `MONITOR`: every command the server runs, as a [`Stream`](futures_core::Stream)
//! of parsed [`MonitorEntry`]s.
//!
//! ```no_run
//! # async fn demo(client: respec::Client) -> respec::Result<()> {
//! let mut monitor = client.monitor().await?;
//! while let Some(entry) = monitor.next_entry().await {
//!     let entry = entry?;
//!     println!("{} db{} {} {:?}", entry.time, entry.db, entry.client, entry.args);
//!     # break;
//! }
//! # Ok(()) }
//! ```
//!
//! The monitor has a connection of its own, counted against the client's
//! [pool](crate::pool) size and closed when it is dropped. Its queue holds at most
//! 1024 entries; when the consumer falls behind, the connection is not read until it
//! catches up (the server buffers, up to its `client-output-buffer-limit`). If the
//! connection is lost the stream ends: what ran meanwhile cannot be replayed, so
//! reconnecting silently would hide a gap.
//!
//! `MONITOR` costs the server throughput; use it for debugging.

use crate::client::Client;
use crate::command::CommandBuf;
use crate::connection::{handshake, FrameReader, Transport};
use crate::error::{Error, Result};
use crate::pool::Slot;
use crate::queue::{Overflow, Queue};
use crate::reply::decode_frame;
use crate::resp::{Head, Reader};
use bytes::{Bytes, BytesMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWriteExt;

/// One command the server ran, from a `MONITOR` line such as
/// `1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"`.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorEntry {
    /// When it ran, in seconds since the Unix epoch (microsecond precision).
    pub time: f64,
    /// The database it ran in.
    pub db: i64,
    /// Who ran it: `host:port`, `unix:/path`, or `lua` for a script's call.
    pub client: String,
    /// The command's words, unescaped.
    pub args: Vec<Bytes>,
}

impl MonitorEntry {
    /// Parses one monitor line.
    pub fn parse(line: &[u8]) -> Result<MonitorEntry> {
        let bad = |what: &'static str| Error::decode("a MONITOR line", what);
        let space = line
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("no time"))?;
        let time: f64 = std::str::from_utf8(&line[..space])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| bad("a bad time"))?;
        let rest = &line[space + 1..];
        let rest = rest
            .strip_prefix(b"[")
            .ok_or_else(|| bad("no [db client]"))?;
        // The client may hold brackets itself (an IPv6 peer is `[::1]:50000`): the
        // bracket that closes is the one before the first quoted argument.
        let close = rest
            .windows(3)
            .position(|w| w == b"] \"")
            .or_else(|| rest.ends_with(b"]").then(|| rest.len() - 1))
            .ok_or_else(|| bad("no ]"))?;
        let inside = std::str::from_utf8(&rest[..close]).map_err(|_| bad("a bad client"))?;
        let (db, client) = inside.split_once(' ').ok_or_else(|| bad("no client"))?;
        let db: i64 = db.parse().map_err(|_| bad("a bad db"))?;
        let args = parse_args(&rest[close + 1..]).ok_or_else(|| bad("a bad argument"))?;
        Ok(MonitorEntry {
            time,
            db,
            client: client.to_owned(),
            args,
        })
    }
}

/// The quoted, escaped arguments of a monitor line (the server's `sdscatrepr`).
fn parse_args(mut s: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    loop {
        while let Some(rest) = s.strip_prefix(b" ") {
            s = rest;
        }
        if s.is_empty() {
            return Some(args);
        }
        s = s.strip_prefix(b"\"")?;
        let mut arg = Vec::new();
        loop {
            match *s.first()? {
                b'"' => {
                    s = &s[1..];
                    break;
                }
                b'\\' => {
                    let (byte, used) = match *s.get(1)? {
                        b'n' => (b'\n', 2),
                        b'r' => (b'\r', 2),
                        b't' => (b'\t', 2),
                        b'a' => (0x07, 2),
                        b'b' => (0x08, 2),
                        b'x' => {
                            let hex = std::str::from_utf8(s.get(2..4)?).ok()?;
                            (u8::from_str_radix(hex, 16).ok()?, 4)
                        }
                        other => (other, 2),
                    };
                    arg.push(byte);
                    s = &s[used..];
                }
                other => {
                    arg.push(other);
                    s = &s[1..];
                }
            }
        }
        args.push(Bytes::from(arg));
    }
}

/// The stream of a `MONITOR` connection; see [the module docs](self).
pub struct Monitor {
    queue: Arc<Queue<Result<MonitorEntry>>>,
    task: tokio::task::JoinHandle<()>,
    _slot: Slot,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("queued", &self.queue.len())
            .finish()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.queue.close();
        self.task.abort();
    }
}

impl Monitor {
    /// The next entry; `None` once the connection is gone. A line that does not
    /// parse is an error item, and the stream goes on.
    pub async fn next_entry(&mut self) -> Option<Result<MonitorEntry>> {
        std::future::poll_fn(|cx| self.queue.poll_pop(cx)).await
    }
}

impl futures_core::Stream for Monitor {
    type Item = Result<MonitorEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.queue.poll_pop(cx)
    }
}

impl Client {
    /// Starts `MONITOR` on a connection of its own; returns once the server
    /// confirmed it, so every command run after this is seen.
    pub async fn monitor(&self) -> Result<Monitor> {
        let slot = self.pool().reserve().await?;
        let config = self.config_arc();
        let mut t = handshake::connect(&config).await?.transport;
        let mut cmd = BytesMut::new();
        CommandBuf::raw(b"MONITOR").encode(&mut cmd);
        t.write_all(&cmd).await?;
        t.flush().await?;
        let mut frames = FrameReader::new(config.limits.clone());
        let ok = frames
            .next(&mut t)
            .await?
            .ok_or_else(|| Error::closed().with_command("MONITOR"))?;
        decode_frame::<()>(ok).map_err(|e| e.with_command("MONITOR"))?;
        let queue = Arc::new(Queue::new(1024, Overflow::Backpressure));
        let task = tokio::spawn(run(t, frames, queue.clone()));
        Ok(Monitor {
            queue,
            task,
            _slot: slot,
        })
    }
}

async fn run(mut t: Transport, mut frames: FrameReader, queue: Arc<Queue<Result<MonitorEntry>>>) {
    loop {
        let frame = match frames.next(&mut t).await {
            Ok(Some(frame)) => frame,
            // The connection ended.
            Ok(None) => {
                queue.close();
                return;
            }
            Err(e) if e.is_protocol() => {
                queue.push(Err(e)).await;
                queue.close();
                return;
            }
            Err(_) => {
                queue.close();
                return;
            }
        };
        let entry = match Reader::new(frame).next() {
            Ok(Head::Simple(line)) => MonitorEntry::parse(&line),
            Ok(other) => Err(crate::reply::unexpected("a MONITOR line", other)),
            Err(e) => Err(Error::protocol(e)),
        };
        queue
            .push(entry.map_err(|e| e.with_command("MONITOR")))
            .await;
        if queue.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse() {
        let e = MonitorEntry::parse(
            br#"1700000000.123456 [3 127.0.0.1:50000] "SET" "k" "a\"b\\c\x00\n""#,
        )
        .unwrap();
        assert_eq!(e.time, 1700000000.123456);
        assert_eq!(e.db, 3);
        assert_eq!(e.client, "127.0.0.1:50000");
        assert_eq!(
            e.args,
            [
                Bytes::from_static(b"SET"),
                Bytes::from_static(b"k"),
                Bytes::from_static(b"a\"b\\c\x00\n")
            ]
        );
        let lua = MonitorEntry::parse(br#"1.5 [0 lua] "GET" "x""#).unwrap();
        assert_eq!(lua.client, "lua");
        let unix = MonitorEntry::parse(br#"1.5 [0 unix:/tmp/s.sock] "PING""#).unwrap();
        assert_eq!(unix.client, "unix:/tmp/s.sock");
        let v6 = MonitorEntry::parse(br#"1.5 [2 [::1]:50000] "GET" "k]""#).unwrap();
        assert_eq!((v6.db, v6.client.as_str()), (2, "[::1]:50000"));
        assert_eq!(
            v6.args,
            [Bytes::from_static(b"GET"), Bytes::from_static(b"k]")]
        );
        for bad in [
            &b"x [0 a] \"p\""[..],
            b"1.0 0 a",
            b"1.0 [0 a] \"open",
            b"1.0 [0 a] \"\\x4\"",
        ] {
            assert!(MonitorEntry::parse(bad).unwrap_err().is_decode(), "{bad:?}");
        }
    }
}
