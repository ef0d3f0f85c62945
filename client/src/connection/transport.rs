//! Byte streams to a server: TCP (nodelay, keepalive), Unix sockets, TLS.

use super::config::{Address, Config};
use super::tls;
use crate::error::{Error, Result};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A connected stream.
pub enum Transport {
    /// Plain TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tcp(_) => "Transport::Tcp",
            #[cfg(unix)]
            Transport::Unix(_) => "Transport::Unix",
            Transport::Tls(_) => "Transport::Tls",
        })
    }
}

/// Opens the stream `config` describes (without the RESP handshake).
pub async fn connect(config: &Config) -> Result<Transport> {
    match &config.address {
        Address::Tcp { host, port } => {
            let tcp = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| {
                    Error::io(io::Error::new(
                        e.kind(),
                        format!("cannot connect to {}: {e}", config.address),
                    ))
                })?;
            tcp.set_nodelay(true)?;
            if let Some(interval) = config.keepalive {
                let ka = socket2::TcpKeepalive::new()
                    .with_time(interval)
                    .with_interval(interval);
                socket2::SockRef::from(&tcp).set_tcp_keepalive(&ka)?;
            }
            match &config.tls {
                None => Ok(Transport::Tcp(tcp)),
                Some(opts) => {
                    let stream = tls::connect(tcp, host, opts).await?;
                    Ok(Transport::Tls(Box::new(stream)))
                }
            }
        }
        #[cfg(unix)]
        Address::Unix(path) => {
            let s = tokio::net::UnixStream::connect(path).await.map_err(|e| {
                Error::io(io::Error::new(
                    e.kind(),
                    format!("cannot connect to {}: {e}", config.address),
                ))
            })?;
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
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Tcp(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Transport::Unix(s) => s.is_write_vectored(),
            Transport::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Transport::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
