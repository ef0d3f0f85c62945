//! Byte streams to a server: TCP (nodelay, keepalive), Unix sockets, TLS.

use super::frames::Source;
#[cfg(feature = "tls")]
use super::tls;
use crate::config::{Address, Config};
use crate::error::{Error, Result};
use bytes::BytesMut;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A connected stream.
pub enum Transport {
    /// Plain TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tcp(_) => "Transport::Tcp",
            #[cfg(unix)]
            Transport::Unix(_) => "Transport::Unix",
            #[cfg(feature = "tls")]
            Transport::Tls(_) => "Transport::Tls",
        })
    }
}

/// The connect timeout as one deadline shared by the phases of connecting (TCP, TLS,
/// the RESP handshake), so that a timeout names the phase that ran out of time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// When, and the limit it came from; `None` when there is no limit (none set, or
    /// one too far away for the clock to represent).
    at: Option<(Instant, Duration)>,
}

impl Deadline {
    /// The deadline `limit` from now.
    pub(crate) fn after(limit: Option<Duration>) -> Self {
        Deadline {
            at: limit.and_then(|l| Instant::now().checked_add(l).map(|at| (at, l))),
        }
    }

    /// Runs `work`, or fails at the deadline with a timeout saying that `what` (`the
    /// TLS handshake with 10.0.0.1:6379`) did not complete, the limit, and `hint`.
    pub(crate) async fn run<T>(
        &self,
        what: impl FnOnce() -> String,
        hint: Option<&str>,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let Some((at, limit)) = self.at else {
            return work.await;
        };
        match tokio::time::timeout_at(at, work).await {
            Ok(result) => result,
            Err(_) => {
                let mut text = format!(
                    "{} did not complete within the connect timeout ({limit:?})",
                    what()
                );
                if let Some(hint) = hint {
                    text.push_str("; ");
                    text.push_str(hint);
                }
                Err(Error::timed_out(text).with_command("connect"))
            }
        }
    }
}

/// An I/O error whose text says what was being done, and where.
fn io_context(e: io::Error, doing: std::fmt::Arguments<'_>) -> Error {
    Error::io_while(doing.to_string(), e)
}

/// Opens the stream `config` describes (without the RESP handshake), each phase
/// within `deadline`. Every error names the address.
pub(crate) async fn connect(config: &Config, deadline: Deadline) -> Result<Transport> {
    let address = &config.address;
    match address {
        Address::Tcp { host, port } => {
            let keepalive = match config.keepalive {
                Some(d) => Some(crate::config::keepalive_time(d, &format_args!("{d:?}"))?),
                None => None,
            };
            let tcp = deadline
                .run(|| format!("the TCP connection to {address}"), None, async {
                    TcpStream::connect((host.as_str(), *port))
                        .await
                        .map_err(|e| io_context(e, format_args!("cannot connect to {address}")))
                })
                .await?;
            tcp.set_nodelay(true).map_err(|e| {
                io_context(
                    e,
                    format_args!("cannot set TCP_NODELAY on the connection to {address}"),
                )
            })?;
            if let Some(time) = keepalive {
                let ka = socket2::TcpKeepalive::new()
                    .with_time(time)
                    .with_interval(time);
                socket2::SockRef::from(&tcp)
                    .set_tcp_keepalive(&ka)
                    .map_err(|e| {
                        io_context(
                            e,
                            format_args!(
                                "cannot set the TCP keepalive (`keepalive` {time:?}) on the connection to {address}"
                            ),
                        )
                    })?;
            }
            match &config.tls {
                None => Ok(Transport::Tcp(tcp)),
                #[cfg(feature = "tls")]
                Some(opts) => {
                    let stream = tls::connect(tcp, host, opts, address, deadline).await?;
                    Ok(Transport::Tls(Box::new(stream)))
                }
                #[cfg(not(feature = "tls"))]
                Some(_) => Err(crate::config::tls_unavailable()),
            }
        }
        #[cfg(unix)]
        Address::Unix(path) => {
            let s = deadline
                .run(|| format!("the connection to {address}"), None, async {
                    tokio::net::UnixStream::connect(path)
                        .await
                        .map_err(|e| io_context(e, format_args!("cannot connect to {address}")))
                })
                .await?;
            Ok(Transport::Unix(s))
        }
        #[cfg(not(unix))]
        Address::Unix(_) => Err(Error::config(
            "Unix sockets are not supported on this platform",
        )),
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Tcp(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Transport::Unix(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connected stream as the driver holds it: a TCP or Unix socket split in two,
/// its writing half shared with the callers ([`Writer`]: a caller writes its request
/// itself when the connection is idle, see `gate.rs`); a TLS stream whole (its
/// writes go through the session's state, so only the driver writes).
pub(crate) enum Stream {
    /// TCP: the shared reading and writing halves.
    Tcp(Reader, Writer),
    /// A Unix socket: the shared reading and writing halves.
    #[cfg(unix)]
    Unix(Reader, Writer),
    /// TLS, whole.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// The writing half of a TCP or Unix socket, shared by the driver and its
/// callers; writes never wait (`try_write`), or wait for readiness in the driver.
#[derive(Clone)]
pub(crate) enum Writer {
    /// TCP.
    Tcp(Arc<tokio::net::tcp::OwnedWriteHalf>),
    /// A Unix socket.
    #[cfg(unix)]
    Unix(Arc<tokio::net::unix::OwnedWriteHalf>),
}

/// The reading half of a TCP or Unix socket, shared by the driver and the caller
/// that reads its own reply while the driver is parked (see `gate.rs`); one of
/// them reads at a time, and the one that waits registers for readiness.
#[derive(Clone)]
pub(crate) enum Reader {
    /// TCP.
    Tcp(Arc<tokio::net::tcp::OwnedReadHalf>),
    /// A Unix socket.
    #[cfg(unix)]
    Unix(Arc<tokio::net::unix::OwnedReadHalf>),
}

impl Transport {
    /// The stream as the driver holds it, and the halves callers may share (none
    /// for TLS).
    pub(crate) fn split(self) -> (Stream, Option<(Reader, Writer)>) {
        match self {
            Transport::Tcp(s) => {
                let (r, w) = s.into_split();
                let (r, w) = (Reader::Tcp(Arc::new(r)), Writer::Tcp(Arc::new(w)));
                (Stream::Tcp(r.clone(), w.clone()), Some((r, w)))
            }
            #[cfg(unix)]
            Transport::Unix(s) => {
                let (r, w) = s.into_split();
                let (r, w) = (Reader::Unix(Arc::new(r)), Writer::Unix(Arc::new(w)));
                (Stream::Unix(r.clone(), w.clone()), Some((r, w)))
            }
            #[cfg(feature = "tls")]
            Transport::Tls(s) => (Stream::Tls(s), None),
        }
    }
}

impl Reader {
    /// Waits for something to read (registering `cx`: the last to register is
    /// the one woken).
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Reader::Tcp(r) => r.as_ref().as_ref().poll_read_ready(cx),
            #[cfg(unix)]
            Reader::Unix(r) => r.as_ref().as_ref().poll_read_ready(cx),
        }
    }

    /// Reads what the socket has now into `buf`'s spare room, without waiting
    /// (`WouldBlock` when it has nothing).
    ///
    /// A read that fills less than the room given found the socket empty, so the
    /// readiness it was made on is cleared with it: the next wait registers at
    /// once, saving the read whose only news would be `WouldBlock`. (The reactor
    /// clears only the readiness seen before the read: data that arrives after it
    /// is a new event, kept.)
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let room = buf.capacity() - buf.len();
        // What a short read got (its readiness cleared by the `WouldBlock` made up
        // for `try_io`, which is then not looked at).
        let mut got = 0;
        let mut read = |n: io::Result<usize>| {
            let n = n?;
            if n > 0 && n < room {
                got = n;
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(n)
            }
        };
        let r = match self {
            Reader::Tcp(r) => {
                let s = r.as_ref().as_ref();
                s.try_io(tokio::io::Interest::READABLE, || read(s.try_read_buf(buf)))
            }
            #[cfg(unix)]
            Reader::Unix(r) => {
                let s = r.as_ref().as_ref();
                s.try_io(tokio::io::Interest::READABLE, || read(s.try_read_buf(buf)))
            }
        };
        match r {
            Err(_) if got > 0 => Ok(got),
            r => r,
        }
    }
}

/// Reads into the frame reader's buffer directly (no `ReadBuf` adapter between).
impl Source for Reader {
    fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        loop {
            std::task::ready!(self.poll_read_ready(cx))?;
            match self.try_read_buf(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }
}

impl Writer {
    /// Writes what the socket takes now, without waiting (`WouldBlock` when it
    /// takes nothing).
    pub(crate) fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Writer::Tcp(w) => w.try_write_vectored(bufs),
            #[cfg(unix)]
            Writer::Unix(w) => w.try_write_vectored(bufs),
        }
    }

    /// [`try_write_vectored`](Self::try_write_vectored) of one buffer.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Writer::Tcp(w) => w.try_write(buf),
            #[cfg(unix)]
            Writer::Unix(w) => w.try_write(buf),
        }
    }

    /// Waits for the socket to take more (registering `cx`).
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Writer::Tcp(w) => w.as_ref().as_ref().poll_write_ready(cx),
            #[cfg(unix)]
            Writer::Unix(w) => w.as_ref().as_ref().poll_write_ready(cx),
        }
    }

    /// Writes with `write` once the socket is ready, until it takes something.
    fn poll_write_with(
        &self,
        cx: &mut Context<'_>,
        mut write: impl FnMut(&Writer) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            std::task::ready!(self.poll_write_ready(cx))?;
            match write(self) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl Source for Stream {
    fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Tcp(r, _) => r.poll_read_into(cx, buf),
            #[cfg(unix)]
            Stream::Unix(r, _) => r.poll_read_into(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.as_mut().poll_read_into(cx, buf),
        }
    }
}

/// Writing, for the driver (what `AsyncWrite` would give, on a shared half).
impl Stream {
    /// Writes `buf`, waiting for the socket to take some of it.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Tcp(_, w) => w.poll_write_with(cx, |w| w.try_write(buf)),
            #[cfg(unix)]
            Stream::Unix(_, w) => w.poll_write_with(cx, |w| w.try_write(buf)),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    /// Writes `bufs` in one vectored write, waiting for the socket to take some.
    pub(crate) fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Tcp(_, w) => w.poll_write_with(cx, |w| w.try_write_vectored(bufs)),
            #[cfg(unix)]
            Stream::Unix(_, w) => w.poll_write_with(cx, |w| w.try_write_vectored(bufs)),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    /// Whether its halves are shared with the gate (a TCP or Unix socket; not TLS).
    pub(crate) fn is_shared(&self) -> bool {
        match self {
            #[cfg(feature = "tls")]
            Stream::Tls(_) => false,
            _ => true,
        }
    }

    /// Whether vectored writes reach the socket as one (else chunk by chunk).
    pub(crate) fn is_write_vectored(&self) -> bool {
        match self {
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.is_write_vectored(),
            _ => true,
        }
    }

    /// Flushes what the stream keeps back (TLS records); sockets keep nothing.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            _ => {
                let _ = cx;
                Poll::Ready(Ok(()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connect_timeout_names_the_phase_the_address_and_the_limit() {
        let deadline = Deadline::after(Some(Duration::from_millis(1500)));
        let e = deadline
            .run(
                || "the TCP connection to 10.0.0.1:6379".to_owned(),
                None,
                std::future::pending::<Result<()>>(),
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert_eq!(
            e.to_string(),
            "connect: timed out: the TCP connection to 10.0.0.1:6379 did not complete within the connect timeout (1.5s)"
        );
        // The deadline is shared by the phases: a later one has what is left.
        let start = Instant::now();
        let e = deadline
            .run(
                || "the TLS handshake with h:1".to_owned(),
                Some("a hint"),
                std::future::pending::<Result<()>>(),
            )
            .await
            .unwrap_err();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(
            e.to_string(),
            "connect: timed out: the TLS handshake with h:1 did not complete within the connect timeout (1.5s); a hint"
        );
        // No limit, or one too far away for the clock: no deadline, no panic.
        for limit in [None, Some(Duration::MAX)] {
            Deadline::after(limit)
                .run(String::new, None, async { Ok(()) })
                .await
                .unwrap();
        }
    }
}
