//! Heap allocations per sequential round trip (`GET` and `SET` of a 32-byte value) for
//! respec, redis-rs and fred, under a counting global allocator. Prints a markdown table
//! and appends it to `target/bench/report.md`. Run it through `cargo xtask bench`.
//!
//! ```text
//! allocs [--quick] [--report PATH] [--value-len N]
//!   --quick          1,000 calls per figure instead of 10,000
//!   --report PATH    the report file to append to (default target/bench/report.md)
//!   --value-len N    a value of N bytes instead of 32 (`--value-len 1048576`: the
//!                    bytes a 1 MiB SET allocates show the copies of its value)
//! ```
//!
//! The runtime is tokio's current-thread one, so each client's background tasks (its
//! connection driver) run on this thread between the calls, and every allocation they
//! make is counted too. After a warm-up, the counter is read before and after the
//! measured calls, and the difference divided by their number. A `realloc` counts as
//! an allocation (of its new size).

use std::hint::black_box;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use bytes::Bytes;
use respec_bench::report;
use respec_bench::workload::{SEQUENTIAL_KEY, SMALL_VALUE_LEN};
use respec_bench::{Peer, PeerId, Peers};
use respec_tests::{counting, ServerBuilder};

/// Every allocation of the process is counted (`respec_tests::counting`).
#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// Unmeasured calls before each measurement (connection buffers grow, caches fill).
const WARMUP: usize = 1_000;

/// The round trip measured.
#[derive(Debug, Clone, Copy)]
enum Op {
    Get,
    Set,
}

/// Allocations per call.
#[derive(Debug, Clone, Copy)]
struct PerCall {
    allocs: f64,
    bytes: f64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut calls = 10_000;
    let mut path = respec_bench::report_path();
    let mut value_len = SMALL_VALUE_LEN;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => calls = 1_000,
            "--report" => path = args.next().context("--report needs a path")?.into(),
            "--value-len" => {
                value_len = args
                    .next()
                    .context("--value-len needs a number")?
                    .parse()
                    .context("--value-len")?;
            }
            other => {
                bail!("unexpected argument {other:?}\nusage: allocs [--quick] [--report PATH] [--value-len N]")
            }
        }
    }
    let server = ServerBuilder::new()
        .start()
        .context("starting the server")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let value = Bytes::from(vec![b'v'; value_len]);
    let rows = runtime.block_on(async {
        let mut peers = Peers::connect(&server.url()).await?;
        let mut rows = Vec::new();
        for id in PeerId::ALL {
            let row = match id {
                PeerId::Respec => measure(&mut peers.respec, &value, calls).await?,
                PeerId::RedisRs => measure(&mut peers.redis, &value, calls).await?,
                PeerId::Fred => measure(&mut peers.fred, &value, calls).await?,
            };
            rows.push((id, row));
        }
        anyhow::Ok(rows)
    })?;

    let mut text = format!(
        "\n## Allocations per round trip\n\n\
         Sequential calls of a {value_len}-byte value on a current-thread runtime \
         (the clients' background tasks included), averaged over {calls} calls after \
         {WARMUP} unmeasured ones.\n\n\
         | client | allocs / GET | bytes / GET | allocs / SET | bytes / SET |\n\
         |---|---:|---:|---:|---:|\n"
    );
    for (id, [get, set]) in &rows {
        text += &format!(
            "| {} | {:.2} | {:.0} | {:.2} | {:.0} |\n",
            id.name(),
            get.allocs,
            get.bytes,
            set.allocs,
            set.bytes
        );
    }
    print!("{text}");
    // The report holds the standard figures only.
    if value_len == SMALL_VALUE_LEN {
        report::append(&path, &text)?;
        eprintln!("appended to {}", path.display());
    }
    Ok(())
}

/// Allocations per `GET` and per `SET` on `peer`.
async fn measure<P: Peer>(peer: &mut P, value: &Bytes, calls: usize) -> Result<[PerCall; 2]> {
    peer.set(SEQUENTIAL_KEY, value).await?;
    Ok([
        count(peer, Op::Get, value, calls).await?,
        count(peer, Op::Set, value, calls).await?,
    ])
}

/// Warms up, then counts the allocations of `calls` sequential `op`s.
async fn count<P: Peer>(peer: &mut P, op: Op, value: &Bytes, calls: usize) -> Result<PerCall> {
    for _ in 0..WARMUP {
        once(peer, op, value).await?;
    }
    let (calls_before, bytes_before) = counting::snapshot();
    for _ in 0..calls {
        once(peer, op, value).await?;
    }
    let (calls_after, bytes_after) = counting::snapshot();
    Ok(PerCall {
        allocs: (calls_after - calls_before) as f64 / calls as f64,
        bytes: (bytes_after - bytes_before) as f64 / calls as f64,
    })
}

async fn once<P: Peer>(peer: &mut P, op: Op, value: &Bytes) -> Result<()> {
    match op {
        Op::Get => {
            let len = black_box(peer.get(SEQUENTIAL_KEY).await?);
            anyhow::ensure!(len == value.len(), "GET returned {len} bytes");
        }
        Op::Set => peer.set(SEQUENTIAL_KEY, value).await?,
    }
    Ok(())
}
