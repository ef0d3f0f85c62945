//! Helpers of the tiny in-process fake servers, for what no real server can produce
//! (malformed frames, a reply cut off and then silence, a server that hangs up right
//! after the handshake; ARCHITECTURE.md §6).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Reads one RESP array command (enough for what the client sends) and returns its
/// words; `None` at EOF.
async fn read_command(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<Vec<u8>>> {
    loop {
        if let Some((words, used)) = parse(buf) {
            buf.drain(..used);
            return Some(words);
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn parse(buf: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    let line = |at: usize| -> Option<(usize, usize)> {
        let i = buf.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        let n: usize = std::str::from_utf8(&buf[at + 1..at + i])
            .ok()?
            .parse()
            .ok()?;
        Some((n, at + i + 2))
    };
    let (count, mut at) = line(0)?;
    let mut words = Vec::new();
    for _ in 0..count {
        let (len, start) = line(at)?;
        let end = start + len;
        if buf.len() < end + 2 {
            return None;
        }
        words.push(buf[start..end].to_vec());
        at = end + 2;
    }
    Some((words, at))
}

/// The fake's answer to the client's handshake commands, as a RESP2-only server
/// whose ACL refuses `CONFIG`: `HELLO` is unknown (the client falls back to RESP2),
/// `CLIENT SETINFO` is `+OK`, `CONFIG GET` is refused. `None` for other commands.
pub fn handshake_answer(words: &[Vec<u8>]) -> Option<&'static [u8]> {
    match &words.first()?.to_ascii_uppercase()[..] {
        b"HELLO" => Some(b"-ERR unknown command 'HELLO'\r\n"),
        b"CLIENT" => Some(b"+OK\r\n"),
        b"CONFIG" => {
            Some(b"-NOPERM this user has no permissions to run the 'config|get' command\r\n")
        }
        _ => None,
    }
}

/// True for the last command of the client's handshake (`CONFIG GET`, sent after
/// `CLIENT SETINFO`, when no database is selected).
pub fn ends_handshake(words: &[Vec<u8>]) -> bool {
    words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case(b"CONFIG"))
}

/// What a fake server does with one command.
pub enum Answer {
    /// Writes these bytes and reads the next command.
    Write(&'static [u8]),
    /// Writes these bytes and hangs up.
    WriteAndClose(&'static [u8]),
    /// Writes these bytes, made for this command, and reads the next command.
    WriteOwned(Vec<u8>),
    /// Waits until `gate` ends (a reply the test holds back: a slow server, without
    /// a timer), then writes these bytes and reads the next command.
    WriteWhen(Gate, Vec<u8>),
}

/// What an [`Answer::WriteWhen`] waits for.
pub type Gate = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Starts a fake server on a free loopback port. For every command of every
/// connection, `answer(n, words)` says what to do, `n` counting the connections
/// from 0. Returns its `redis://` URL and the number of connections accepted.
pub async fn serve<F>(answer: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(usize, &[Vec<u8>]) -> Answer + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(words) = read_command(&mut s, &mut buf).await {
                    let (bytes, close) = match answer(n, &words) {
                        Answer::Write(b) => (std::borrow::Cow::Borrowed(b), false),
                        Answer::WriteAndClose(b) => (std::borrow::Cow::Borrowed(b), true),
                        Answer::WriteOwned(b) => (std::borrow::Cow::Owned(b), false),
                        Answer::WriteWhen(gate, b) => {
                            gate.await;
                            (std::borrow::Cow::Owned(b), false)
                        }
                    };
                    if s.write_all(&bytes).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    (format!("redis://{addr}"), connections)
}

/// A `CLUSTER SHARDS` reply of `shards` shards splitting the slots evenly, each
/// served by one primary at `127.0.0.1:port_of(shard)` (a fake node's topology,
/// for the cluster client's simulations).
pub fn cluster_shards_reply(shards: usize, port_of: impl Fn(usize) -> u16) -> Vec<u8> {
    let mut out = format!("*{shards}\r\n").into_bytes();
    for i in 0..shards {
        let first = i * 16384 / shards;
        let last = (i + 1) * 16384 / shards - 1;
        let port = port_of(i);
        out.extend(
            format!(
                "*4\r\n$5\r\nslots\r\n*2\r\n:{first}\r\n:{last}\r\n$5\r\nnodes\r\n*1\r\n*8\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n:{port}\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
            )
            .into_bytes(),
        );
    }
    out
}
