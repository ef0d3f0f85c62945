//! The floor under a client's cost per sequential round trip: the `sequential
//! SET/GET` row done with nothing but a tokio `TcpStream` on the same runtime, in
//! the same loop shape as [`crate::workload::run_concurrent`]'s task (a clock read
//! before and after each operation and its latency recorded; `GET` of a random key
//! of [`Data::keys`], then `SET` of it). Each command is formatted into one reused
//! buffer and written whole; its reply is read until the whole frame is in (`$32`
//! and its value, or `+OK`). No multiplexing, no timeouts, no typed replies: what
//! any tokio client pays at least for a round trip (the runtime's park and wake,
//! the reactor, the two syscalls' wrappers, the clock reads). The `instructions`
//! binary shows it beside the clients (`--client socket`).

use crate::stats::Latencies;
use crate::workload::{Data, Until, SMALL_VALUE_LEN};
use anyhow::{ensure, Context as _, Result};
use respec::resp::Header;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Runs `until` operations (one task, one connection) against `addr`
/// (`host:port`).
pub async fn run(addr: &str, data: &Data, until: Until) -> Result<Latencies> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let mut command = Vec::with_capacity(128);
    let mut reply = vec![0u8; 4096];
    let mut latencies = Latencies::new();
    let mut key = 0;
    for i in 0usize.. {
        let begin = Instant::now();
        if until.done(begin, i) {
            break;
        }
        command.clear();
        let want = if i % 2 == 0 {
            key = (key + 7919) % data.keys.len();
            let k = data.keys[key].as_bytes();
            command.extend_from_slice(b"*2\r\n$3\r\nGET\r\n");
            bulk(&mut command, k);
            // `$32\r\n`, the value, CRLF.
            5 + SMALL_VALUE_LEN + 2
        } else {
            let k = data.keys[key].as_bytes();
            command.extend_from_slice(b"*3\r\n$3\r\nSET\r\n");
            bulk(&mut command, k);
            bulk(&mut command, &data.small);
            b"+OK\r\n".len()
        };
        stream.write_all(&command).await?;
        let mut got = 0;
        while got < want {
            let n = stream.read(&mut reply[got..]).await?;
            ensure!(n > 0, "the server closed the connection");
            got += n;
        }
        ensure!(
            got == want && (reply[0] == b'$' || &reply[..got] == b"+OK\r\n"),
            "unexpected reply {:?}",
            String::from_utf8_lossy(&reply[..got])
        );
        latencies.record(begin.elapsed());
    }
    Ok(latencies)
}

/// Appends `$len\r\ndata\r\n` (the length formatted by the protocol crate's
/// [`Header`], on the stack).
fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(Header::new(b'$', data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}
