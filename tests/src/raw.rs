//! A tiny blocking RESP2 client for the harness itself: readiness checks, `INFO`,
//! and (later) wiring topologies together (`CLUSTER MEET`, `REPLICAOF`, ...).
//!
//! It exists so the harness does not depend on the client under test; tests of respec
//! use respec.

use std::io::{self, BufRead, BufReader, Read as _, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Status(String),
    /// `-ERR ...`: the whole line after `-`.
    Error(String),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nfoo`, or `$-1` (`None`).
    Bulk(Option<Vec<u8>>),
    /// `*2 ...`, or `*-1` (`None`).
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The text of a status, error or bulk reply (bulk decoded lossily).
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Status(text) | Reply::Error(text) => Some(text.clone()),
            Reply::Bulk(Some(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        }
    }
}

/// The two kinds of stream a [`RawConnection`] runs over.
#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A blocking RESP2 connection with read and write timeouts.
#[derive(Debug)]
pub struct RawConnection {
    reader: BufReader<Stream>,
}

impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => stream.read(buf),
            Stream::Unix(stream) => stream.read(buf),
        }
    }
}

impl RawConnection {
    /// Connects over TCP, waiting at most `timeout` for the connection and for each read
    /// or write after it.
    pub fn tcp(addr: SocketAddr, timeout: Duration) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(RawConnection {
            reader: BufReader::new(Stream::Tcp(stream)),
        })
    }

    /// Connects to a Unix socket, with `timeout` for each read or write.
    pub fn unix(path: &Path, timeout: Duration) -> io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(RawConnection {
            reader: BufReader::new(Stream::Unix(stream)),
        })
    }

    /// Sends one command and reads its reply. A server error is `Ok(Reply::Error)`.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Reply> {
        let mut frame = Vec::new();
        encode(&mut frame, args);
        self.write_all(&frame)?;
        self.read_reply()
    }

    /// Sends several commands in one write and reads their replies, in order (a
    /// server error is `Reply::Error` in its place).
    pub fn pipeline<C: AsRef<[A]>, A: AsRef<[u8]>>(
        &mut self,
        commands: &[C],
    ) -> io::Result<Vec<Reply>> {
        let mut frames = Vec::new();
        for args in commands {
            encode(&mut frames, args.as_ref());
        }
        self.write_all(&frames)?;
        commands.iter().map(|_| self.read_reply()).collect()
    }

    /// Writes bytes to the stream.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.reader.get_mut() {
            Stream::Tcp(stream) => stream.write_all(bytes),
            Stream::Unix(stream) => stream.write_all(bytes),
        }
    }

    /// Sends a command and returns the text of its reply, turning a server error into
    /// an `io::Error` (for setup steps that must succeed).
    pub fn command_text<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<String> {
        match self.command(args)? {
            Reply::Error(message) => Err(io::Error::other(message)),
            reply => reply
                .text()
                .ok_or_else(|| io::Error::other(format!("unexpected reply {reply:?}"))),
        }
    }

    /// Reads one reply.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let line = self.read_line()?;
        let (kind, rest) = line.split_at(1);
        Ok(match kind {
            "+" => Reply::Status(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Integer(parse_int(rest)?),
            "$" => {
                let len = parse_int(rest)?;
                if len < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut data = vec![0; len as usize + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(len as usize);
                    Reply::Bulk(Some(data))
                }
            }
            "*" => {
                let len = parse_int(rest)?;
                if len < 0 {
                    Reply::Array(None)
                } else {
                    let items = (0..len)
                        .map(|_| self.read_reply())
                        .collect::<io::Result<_>>()?;
                    Reply::Array(Some(items))
                }
            }
            _ => return Err(io::Error::other(format!("not a RESP2 reply: {line:?}"))),
        })
    }

    /// Reads a `\r\n`-terminated line, without the terminator.
    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Err(io::Error::other("empty RESP line"));
        }
        Ok(line.to_owned())
    }
}

/// Appends a command's RESP2 frame (an array of bulk strings) to `frame`.
fn encode<A: AsRef<[u8]>>(frame: &mut Vec<u8>, args: &[A]) {
    frame.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        let arg = arg.as_ref();
        frame.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        frame.extend_from_slice(arg);
        frame.extend_from_slice(b"\r\n");
    }
}

/// Parses the integer of a RESP header line.
fn parse_int(text: &str) -> io::Result<i64> {
    text.parse()
        .map_err(|_| io::Error::other(format!("bad RESP integer {text:?}")))
}
