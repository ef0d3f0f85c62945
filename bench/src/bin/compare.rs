//! respec against redis-rs and fred on one server: every workload of ARCHITECTURE.md §7, the
//! clients interleaved, medians over rounds. Prints the markdown table and writes it to
//! `target/bench/report.md`. Run it through `cargo xtask bench` (release build, server
//! binary provided).
//!
//! ```text
//! compare [--quick] [--rounds N] [--secs S] [--only TEXT] [--client NAME]...
//!   --quick        a smoke run: 2 rounds of 0.25 s cells
//!   --rounds N     rounds (default 5)
//!   --secs S       seconds per cell (default 1)
//!   --only TEXT    only the workloads whose label contains TEXT (case-insensitive)
//!   --client NAME  only this client (respec, redis-rs, fred; repeatable), for
//!                  profiling one of them (under perf or strace)
//! ```
//!
//! Each round runs every workload once per client, the order of the clients rotating
//! from one workload and round to the next so that none always goes first (after
//! another's writes) or last. Each cell is preceded by a short unmeasured warm-up of the
//! same workload. Before the transaction workload, each client's transaction is checked
//! to reach the server as one `MULTI`/`EXEC` (by the server's `INFO commandstats`). A
//! pub/sub cell connects its subscribers once, for its warm-up and its measurement.
//! Only a full run (no `--only`, no `--client`) writes the report file.
//! All clients share one tokio multi-thread runtime with 2 workers, and
//! each cell runs inside a task of it.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use respec_bench::pubsub;
use respec_bench::report::{self, Row, Summary};
use respec_bench::workload::{self, Cell};
use respec_bench::{Data, Peer, PeerId, Peers, Workload};
use respec_tests::ServerBuilder;

/// Runtime worker threads (the machine has 2 cores; the server shares them).
const WORKERS: usize = 2;

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    rounds: usize,
    cell: Duration,
    warmup: Duration,
    only: Option<String>,
    clients: Vec<PeerId>,
    quick: bool,
}

impl Options {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Options> {
        let mut options = Options {
            rounds: 5,
            cell: Duration::from_secs(1),
            warmup: Duration::from_millis(200),
            only: None,
            clients: Vec::new(),
            quick: false,
        };
        let (mut rounds, mut secs) = (None, None);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().with_context(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--rounds" => rounds = Some(value("--rounds")?.parse::<usize>()?),
                "--secs" => secs = Some(value("--secs")?.parse::<f64>()?),
                "--only" => options.only = Some(value("--only")?.to_lowercase()),
                "--client" => {
                    let name = value("--client")?;
                    let id = PeerId::ALL
                        .into_iter()
                        .find(|id| id.name() == name)
                        .with_context(|| format!("no client named {name:?}"))?;
                    options.clients.push(id);
                }
                other => bail!(
                    "unexpected argument {other:?}\n\
                     usage: compare [--quick] [--rounds N] [--secs S] [--only TEXT] \
                     [--client NAME]..."
                ),
            }
        }
        if options.quick {
            options.rounds = 2;
            options.cell = Duration::from_millis(250);
            options.warmup = Duration::from_millis(50);
        }
        if let Some(rounds) = rounds {
            options.rounds = rounds.max(1);
        }
        if let Some(secs) = secs {
            options.cell = Duration::try_from_secs_f64(secs).context("--secs")?;
        }
        Ok(options)
    }

    /// The workloads to run.
    fn workloads(&self) -> Vec<Workload> {
        Workload::ALL
            .into_iter()
            .filter(|w| {
                self.only
                    .as_ref()
                    .is_none_or(|only| w.name().to_lowercase().contains(only))
            })
            .collect()
    }
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
    let options = Options::parse(std::env::args().skip(1))?;
    let workloads = options.workloads();
    if workloads.is_empty() {
        bail!("no workload matches --only {:?}", options.only);
    }
    let server = ServerBuilder::new()
        .start()
        .context("starting the server")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()?;
    let data = Data::new();
    let peers = runtime.block_on(async {
        let peers = Peers::connect(&server.url()).await?;
        workload::setup(&peers.respec.0, &data).await?;
        if workloads
            .iter()
            .any(|w| matches!(w, Workload::Transaction(_)))
        {
            workload::check_transactions(&peers, &data)
                .await
                .context("checking the transactions")?;
        }
        anyhow::Ok(peers)
    })?;

    let started = Instant::now();
    eprintln!(
        "{} workloads x {} clients x {} rounds of {:.2} s cells",
        workloads.len(),
        if options.clients.is_empty() {
            PeerId::ALL.len()
        } else {
            options.clients.len()
        },
        options.rounds,
        options.cell.as_secs_f64()
    );
    let mut results: BTreeMap<(usize, PeerId), Vec<Summary>> = BTreeMap::new();
    for round in 0..options.rounds {
        for (index, &workload) in workloads.iter().enumerate() {
            let mut line = format!(
                "round {}/{} {:<18}",
                round + 1,
                options.rounds,
                workload.name()
            );
            let mut order = PeerId::ALL;
            order.rotate_left((round + index) % PeerId::ALL.len());
            for id in order {
                if !options.clients.is_empty() && !options.clients.contains(&id) {
                    continue;
                }
                let cell = runtime
                    .block_on(measure(&peers, id, workload, &data, &options))
                    .with_context(|| format!("{} on {}", id.name(), workload.name()))?;
                let summary = Summary::of(&cell);
                line += &format!(
                    "  {} {} ops/s",
                    id.name(),
                    report::format_ops(summary.ops_per_sec)
                );
                results.entry((index, id)).or_default().push(summary);
            }
            eprintln!("{line}");
        }
    }
    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());

    let rows: Vec<Row> = workloads
        .iter()
        .enumerate()
        .map(|(index, workload)| Row {
            workload: workload.name(),
            peers: PeerId::ALL
                .into_iter()
                .filter_map(|id| {
                    let summary = Summary::median(results.get(&(index, id))?)?;
                    Some((id, summary))
                })
                .collect(),
        })
        .collect();
    let text = format!(
        "{}\n{}\n{}",
        header(&server, &options),
        report::comparison_table(&rows),
        NOTES
    );
    print!("{text}");
    let path = respec_bench::report_path();
    if options.only.is_none() && options.clients.is_empty() {
        report::write(&path, &text)?;
        eprintln!("written to {}", path.display());
    } else {
        eprintln!(
            "a partial run (--only, --client): {} left as it was",
            path.display()
        );
    }
    drop(peers);
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// The report's title and the conditions of the run.
fn header(server: &respec_tests::Server, options: &Options) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "# respec benchmark\n\n\
         - server: {:?} {} on 127.0.0.1 ({} cores on this machine)\n\
         - clients: respec {} (RESP3), redis-rs 1.x `MultiplexedConnection` (RESP2), \
         fred 10.x `Client` (RESP2): each library's default protocol; one connection each \
         (and one per subscriber in the pubsub rows), TCP_NODELAY on, no request timeout\n\
         - runtime: tokio multi-thread, {WORKERS} workers, shared by all clients\n\
         - {} rounds of {:.2} s per cell (after a {:.2} s warm-up), clients interleaved; \
         medians over rounds{}\n",
        server.flavor(),
        server.version(),
        cores,
        env!("CARGO_PKG_VERSION"),
        options.rounds,
        options.cell.as_secs_f64(),
        options.warmup.as_secs_f64(),
        if options.quick {
            " (--quick: a smoke run, not a measurement)"
        } else {
            ""
        },
    )
}

/// What the table's columns mean.
const NOTES: &str = "\
ops/s counts commands (a pipeline of 100 is 100, and so is a transaction of 100: \
MULTI and EXEC are not counted); p50/p99 is the latency of one operation: one round \
trip, or one whole pipeline or transaction. ratio = respec ops/s / the best \
peer's ops/s (above 1: respec is faster). Small values are 32 bytes; \
`N tasks GET/SET` is N tasks on the client's one connection, each alternating GET \
and SET of its own key; `transaction 100 SET` is one MULTI/EXEC transaction of 100 \
SETs through each library's transaction API.

`pubsub 1 pub N subs, W in flight`: one publisher (the client's connection) and N \
subscribers of one channel, each on a connection of its own (respec \
`Client::subscriber`, RESP3 pushes; redis-rs `get_async_pubsub`, RESP2; fred a second \
`Client` with `message_rx`, RESP2). ops/s counts the messages each subscriber \
received per second (every subscriber receives every message: N times as many \
deliveries); p50/p99 is the time from publishing a message to one subscriber's \
receipt of it, over every delivery. W = 1: one PUBLISH, then wait until every \
subscriber has it; W = 32: explicit pipelines of 16 PUBLISH, at most 32 messages \
published and not yet received by every subscriber (fred's default subscriber \
buffer of 32 loses messages beyond that), so latency includes the wait behind the \
rest of the window. Every message is counted and checked in order: a lost message \
fails the run. `pubsub shared conn 1 sub, W in flight`: the same with one subscriber \
on the publishing connection itself, RESP3 for all three (respec \
`subscriber().on_shared_connection()`; redis-rs a `MultiplexedConnection` with a push \
sender; fred a RESP3 `Client` with `message_rx`): messages arrive as push frames \
among the PUBLISH replies.
";

/// Warms up and measures one cell, inside a task of the runtime.
async fn measure(
    peers: &Peers,
    id: PeerId,
    workload: Workload,
    data: &Arc<Data>,
    options: &Options,
) -> Result<Cell> {
    match id {
        PeerId::Respec => cell(peers.respec.clone(), workload, data, options).await,
        PeerId::RedisRs => cell(peers.redis.clone(), workload, data, options).await,
        PeerId::Fred => cell(peers.fred.clone(), workload, data, options).await,
    }
}

async fn cell<P: Peer>(
    peer: P,
    workload: Workload,
    data: &Arc<Data>,
    options: &Options,
) -> Result<Cell> {
    if let Workload::PubSub {
        subscribers,
        window,
        shared,
    } = workload
    {
        let shape = pubsub::Shape {
            subscribers,
            window,
            shared,
        };
        // The warm-up and the measurement on the same subscribers.
        return tokio::spawn(pubsub::run_cell(peer, shape, options.warmup, options.cell)).await?;
    }
    if !options.warmup.is_zero() {
        tokio::spawn(workload::run_cell(
            peer.clone(),
            workload,
            data.clone(),
            options.warmup,
        ))
        .await??;
    }
    tokio::spawn(workload::run_cell(
        peer,
        workload,
        data.clone(),
        options.cell,
    ))
    .await?
}
