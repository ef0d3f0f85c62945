//! respec against redis-rs and fred on one server: every workload of ARCHITECTURE.md §7, the
//! clients interleaved, `redis-benchmark` as the machine's limit where it has a comparable
//! run, paired ratios over reps. Prints markdown tables and writes them to a report file.
//! Run it through `cargo xtask bench` (release build, server binaries provided).
//!
//! ```text
//! compare [--quick] [--cluster | --sentinel] [--rounds N] [--concurrent-rounds N]
//!         [--secs S] [--only TEXT] [--client NAME]... [--server PATH]
//!         [--redis-benchmark PATH | --no-baseline] [--report PATH]
//!   --quick               a smoke run: 2 rounds of 0.25 s cells
//!   --cluster             the cluster section instead (see below): a 3-primary
//!                         cluster of --server, report target/bench/report-cluster.md
//!   --sentinel            the sentinel section instead (see below): sentinel groups
//!                         of --server, report target/bench/report-sentinel.md
//!   --rounds N            rounds (default 5; with --sentinel: runs per event and
//!                         client, default 3, --quick 1)
//!   --concurrent-rounds N rounds of the 64 and 512 tasks rows (default 9, at least
//!                         --rounds; --quick: 2)
//!   --secs S              seconds per cell (default 1)
//!   --only TEXT           only the workloads whose label contains TEXT (case-insensitive)
//!   --client NAME         only this client (respec, redis-rs, fred; repeatable), for
//!                         profiling one of them (under perf or strace); no redis-benchmark
//!   --server PATH         the server binary (default: $RESPEC_SERVER, else the one
//!                         `cargo xtask servers` recorded)
//!   --redis-benchmark PATH  the redis-benchmark binary (default /usr/bin/redis-benchmark;
//!                         its rows are left out when it does not exist)
//!   --no-baseline         no redis-benchmark rows
//!   --report PATH         the report file (default target/bench/report.md)
//! ```
//!
//! Each round runs every workload once per client, the order of the clients (and of
//! `redis-benchmark`) rotating from one workload and round to the next so that none
//! always goes first (after another's writes) or last. Each cell is preceded by a short
//! unmeasured warm-up of the same workload (`redis-benchmark` gets one calibration run
//! per workload, which sizes its `-n` to the cell's duration). Rep `i` of every client
//! comes from round `i`, so ratios are paired: respec's ops/s over a peer's in the same
//! round, reported as the median and range over rounds. Before the transaction
//! workload, each client's transaction is checked to reach the server as one
//! `MULTI`/`EXEC` (by the server's `INFO commandstats`). A pub/sub cell connects its
//! subscribers once, for its warm-up and its measurement. Only a full run (no `--only`,
//! no `--client`) writes the report file. All clients share one tokio multi-thread
//! runtime with 2 workers, and each cell runs inside a task of it.
//!
//! With `--cluster`, the rows are [`ClusterWorkload`]s on one 3-primary cluster of the
//! `respec-tests` harness, measured the same way (interleaved, rotated, paired ratios;
//! no `redis-benchmark`), followed by the disruption figures of [`cluster::Event`]:
//! per event and client, a fresh cluster (so that clients do not disturb each other).
//! `--only TEXT` selects rows and events by name (`tasks`, `pipeline`, `MGET`,
//! `failover`, `migration`). A workload a client refuses or fails is reported with its
//! error instead of figures.
//!
//! With `--sentinel`, the figures of [`sentinel::Event`]s (`SENTINEL FAILOVER`, `kill -9`
//! of the primary) under the load of [`sentinel`], per event and client on a fresh
//! group of 1 primary, 2 replicas and 3 sentinels, `--rounds` times (the clients in a
//! rotating order); `--only failover` or `--only kill` selects one event.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use respec_bench::baseline::{self, Plan, RedisBenchmark};
use respec_bench::cluster::{self, ClusterPeer, ClusterPeers, ClusterWorkload, Disruption};
use respec_bench::pubsub;
use respec_bench::report::{self, Row, Summary};
use respec_bench::sentinel;
use respec_bench::workload::{self, Cell};
use respec_bench::{Data, Peer, PeerId, Peers, Workload};
use respec_tests::{Cluster, ServerBuilder};

/// Runtime worker threads (the machine has 2 cores; the server shares them).
const WORKERS: usize = 2;

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    rounds: usize,
    concurrent_rounds: usize,
    cell: Duration,
    warmup: Duration,
    only: Option<String>,
    clients: Vec<PeerId>,
    quick: bool,
    cluster: bool,
    sentinel: bool,
    /// `--rounds` as given.
    rounds_given: Option<usize>,
    server: Option<PathBuf>,
    redis_benchmark: Option<PathBuf>,
    report: Option<PathBuf>,
}

impl Options {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Options> {
        let mut options = Options {
            rounds: 5,
            concurrent_rounds: 9,
            cell: Duration::from_secs(1),
            warmup: Duration::from_millis(200),
            only: None,
            clients: Vec::new(),
            quick: false,
            cluster: false,
            sentinel: false,
            rounds_given: None,
            server: None,
            redis_benchmark: Some(PathBuf::from(baseline::DEFAULT_PATH)),
            report: None,
        };
        let (mut rounds, mut concurrent_rounds, mut secs) = (None, None, None);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().with_context(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--cluster" => options.cluster = true,
                "--sentinel" => options.sentinel = true,
                "--rounds" => rounds = Some(value("--rounds")?.parse::<usize>()?),
                "--concurrent-rounds" => {
                    concurrent_rounds = Some(value("--concurrent-rounds")?.parse::<usize>()?)
                }
                "--server" => options.server = Some(value("--server")?.into()),
                "--redis-benchmark" => {
                    options.redis_benchmark = Some(value("--redis-benchmark")?.into())
                }
                "--no-baseline" => options.redis_benchmark = None,
                "--report" => options.report = Some(value("--report")?.into()),
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
                     usage: compare [--quick] [--cluster | --sentinel] [--rounds N] \
                     [--concurrent-rounds N] \
                     [--secs S] [--only TEXT] [--client NAME]... [--server PATH] \
                     [--redis-benchmark PATH | --no-baseline] [--report PATH]"
                ),
            }
        }
        if options.quick {
            options.rounds = 2;
            options.concurrent_rounds = 2;
            options.cell = Duration::from_millis(250);
            options.warmup = Duration::from_millis(50);
        }
        if let Some(rounds) = rounds {
            options.rounds = rounds.max(1);
        }
        options.rounds_given = rounds;
        if let Some(rounds) = concurrent_rounds {
            options.concurrent_rounds = rounds;
        }
        options.concurrent_rounds = options.concurrent_rounds.max(options.rounds);
        if let Some(secs) = secs {
            options.cell = Duration::try_from_secs_f64(secs).context("--secs")?;
        }
        Ok(options)
    }

    /// The workloads to run.
    fn workloads(&self) -> Vec<Workload> {
        Workload::ALL
            .into_iter()
            .filter(|w| self.selects(&w.name()))
            .collect()
    }

    /// The rounds `workload` is measured in.
    fn rounds_of(&self, workload: Workload) -> usize {
        self.rounds_for(workload.is_concurrent())
    }

    /// The rounds of a concurrent row, or of another.
    fn rounds_for(&self, concurrent: bool) -> usize {
        if concurrent {
            self.concurrent_rounds
        } else {
            self.rounds
        }
    }

    /// Whether the row or event named `name` is selected by `--only`.
    fn selects(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| name.to_lowercase().contains(only))
    }

    /// Whether `id` is selected by `--client` (all are without it).
    fn runs(&self, id: PeerId) -> bool {
        self.clients.is_empty() || self.clients.contains(&id)
    }
}

/// One contender of a round: a peer, or `redis-benchmark` (`None`).
type Contender = Option<PeerId>;

/// The contenders in a round's default order, rotated per workload and round.
const CONTENDERS: [Contender; 4] = [
    Some(PeerId::Respec),
    Some(PeerId::RedisRs),
    Some(PeerId::Fred),
    None,
];

/// The runtime every client shares.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()?)
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
    if options.cluster {
        return run_cluster(&options);
    }
    if options.sentinel {
        return run_sentinel(&options);
    }
    let workloads = options.workloads();
    if workloads.is_empty() {
        bail!("no workload matches --only {:?}", options.only);
    }
    let mut builder = ServerBuilder::new();
    if let Some(path) = &options.server {
        builder = builder.binary(path);
    }
    let server = builder.start().context("starting the server")?;
    let runtime = runtime()?;
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
    let redis_benchmark = options
        .redis_benchmark
        .as_ref()
        .filter(|path| options.clients.is_empty() && path.exists())
        .map(|path| RedisBenchmark::new(path, server.port()));

    let started = Instant::now();
    let rounds = workloads
        .iter()
        .map(|&w| options.rounds_of(w))
        .max()
        .unwrap_or(0);
    eprintln!(
        "{} workloads x {} clients x {} rounds ({} for the concurrent rows) of {:.2} s cells{}",
        workloads.len(),
        if options.clients.is_empty() {
            PeerId::ALL.len()
        } else {
            options.clients.len()
        },
        options.rounds,
        options.concurrent_rounds,
        options.cell.as_secs_f64(),
        if redis_benchmark.is_some() {
            ", and redis-benchmark"
        } else {
            ""
        }
    );
    let mut rows: Vec<Row> = workloads
        .iter()
        .map(|w| Row {
            workload: w.name(),
            ..Row::default()
        })
        .collect();
    // redis-benchmark's last rate per workload, which sizes its next run.
    let mut baseline_rate: BTreeMap<usize, f64> = BTreeMap::new();
    for round in 0..rounds {
        for (index, &workload) in workloads.iter().enumerate() {
            if round >= options.rounds_of(workload) {
                continue;
            }
            let mut line = format!("round {}/{} {:<22}", round + 1, rounds, workload.name());
            let mut order = CONTENDERS;
            order.rotate_left((round + index) % CONTENDERS.len());
            for contender in order {
                let Some(id) = contender else {
                    let (Some(rb), Some(plan)) = (&redis_benchmark, Plan::of(workload)) else {
                        continue;
                    };
                    let rate = match baseline_rate.get(&index) {
                        Some(&rate) => Ok(rate),
                        // The calibration run, unmeasured (as the peers' warm-ups).
                        None => rb.run(&plan, plan.probe).map(|s| s.ops_per_sec),
                    };
                    let run = rate.and_then(|rate| {
                        rb.run(&plan, baseline::requests_for(&plan, rate, options.cell))
                    });
                    match run {
                        Ok(summary) => {
                            baseline_rate.insert(index, summary.ops_per_sec);
                            line += &format!(
                                "  {} {} ops/s",
                                report::BASELINE,
                                report::format_ops(summary.ops_per_sec)
                            );
                            rows[index].baseline.push(summary);
                        }
                        // Its reps no longer pair with the clients': its ratio is left out.
                        Err(err) => eprintln!(
                            "warning: redis-benchmark on {}: {err:#}; its column of this row \
                             is left unpaired",
                            workload.name()
                        ),
                    }
                    continue;
                };
                if !options.runs(id) || !workload.runs_on(id) {
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
                rows[index].reps.entry(id).or_default().push(summary);
            }
            eprintln!("{line}");
        }
    }
    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());

    let text = format!(
        "{}\n## Throughput\n\n{}\n## Latency\n\n{}\n## Every rep\n\n\
         The concurrent rows, and every row with a flag.\n\n{}\n{}",
        header(&server, &options, redis_benchmark.as_ref()),
        report::comparison_table(&rows),
        report::latency_table(&rows),
        report::reps_table(&rows, |row| {
            row.workload.contains("tasks") || !row.flags().is_empty()
        }),
        NOTES
    );
    print!("{text}");
    let path = options
        .report
        .clone()
        .unwrap_or_else(respec_bench::report_path);
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
fn header(
    server: &respec_tests::Server,
    options: &Options,
    redis_benchmark: Option<&RedisBenchmark>,
) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let baseline = match redis_benchmark {
        Some(rb) => format!(
            "{} ({}), one connection per simulated client",
            rb.binary().display(),
            rb.version()
                .unwrap_or_else(|e| format!("version unknown: {e:#}"))
        ),
        None => "not run".to_owned(),
    };
    format!(
        "# respec benchmark: {:?} {}\n\n\
         - server: {:?} {} ({}) on 127.0.0.1 ({} cores on this machine)\n\
         - clients: respec {} (RESP3), redis-rs 1.x `MultiplexedConnection` (RESP2), \
         fred 10.x `Client` (RESP2): each library's default protocol; one connection each \
         (and one per subscriber in the pubsub rows), TCP_NODELAY on, no request timeout\n\
         - redis-benchmark: {baseline}\n\
         - runtime: tokio multi-thread, {WORKERS} workers, shared by all clients\n\
         - {} rounds ({} for the 64 and 512 tasks rows) of {:.2} s per cell (after a {:.2} s \
         warm-up), clients interleaved in a rotating order; medians (min–max) over \
         rounds{}\n",
        server.flavor(),
        server.version(),
        server.flavor(),
        server.version(),
        server.binary_path().display(),
        cores,
        env!("CARGO_PKG_VERSION"),
        options.rounds,
        options.concurrent_rounds,
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
trip, or one whole pipeline or transaction. Figures are `median (min–max)` over \
the rounds. `respec / X` is a paired ratio: respec's ops/s over X's in the same \
round, median and range over rounds (above 1: respec is faster); `best peer` is the \
faster of redis-rs and fred in that round. Flags: `wide` when a client's range \
exceeds 25% of its median, `bimodal` when its rounds split into two groups of at \
least two, the gap between them wider than 15% of the median and than half the range \
(the rounds cluster at two levels rather than spreading). Small values are 32 \
bytes; `N tasks GET/SET` is N tasks on the client's one connection, each picking \
random keys among 1,000 (`key:000000000000`..) and doing GET then SET of each; \
`sequential SET/GET` is the same with one task; `1 MiB SET+GET` alternates SET \
and GET of one 1 MiB value; `transaction 100 SET` is one MULTI/EXEC transaction of \
100 SETs through each library's transaction API. `sequential GET, client cache` \
is `sequential GET` through each client's client-side cache, RESP3 default tracking \
(respec `client_side_cache` with its defaults, a second client of its own; redis-rs \
`cache-aio` with its defaults, a RESP3 `MultiplexedConnection`; fred has none: not \
run): after the first read every GET is served locally, so it measures the cache's \
lookup, against the `sequential GET` row's round trip.

redis-benchmark (the machine's limit, a C client on an event loop; see \
`respec_bench::baseline`): `sequential GET` is `-c 1 GET bench:seq`; \
`sequential SET/GET` is `-c 1 -r 1000 -d 32 -t set,get` (the rate of doing both: \
2 / (1/SET + 1/GET); p50/p99 the mean of the two tests'); `N tasks GET/SET` is the \
same with `-P N`: N requests in flight on one connection as the peers' N tasks, but \
sent and answered as a batch (the limit of the shape, not a like-for-like client; \
`-c N` would open N connections, and p50/p99 are per batch); `pipeline N SET/GET` is `-c 1 -P N -r 1000 -d 32 -t set` (or `get`), \
its p50/p99 per pipeline; `LRANGE 10k` and `HGETALL 10k` are `-c 1 LRANGE \
bench:list 0 -1` and `-c 1 HGETALL bench:hash`; `SET 1 MiB` is `-c 1 -d 1048576 -t \
set`, `GET 1 MiB` `-c 1 GET bench:large:get`, `1 MiB SET+GET` `-c 1 -d 1048576 -t \
set,get`. redis-benchmark parses each reply (hiredis) and frees it at once: \
on the big replies it builds no map or list for a caller.

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
    let cached = workload == Workload::CachedGet;
    match id {
        PeerId::Respec if cached => {
            cell(peers.respec_cached.clone(), workload, data, options).await
        }
        PeerId::RedisRs if cached => {
            cell(peers.redis_cached.clone(), workload, data, options).await
        }
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

/// The cluster section (`--cluster`): the throughput rows on one cluster, then the
/// disruption figures, each on a fresh cluster.
fn run_cluster(options: &Options) -> Result<()> {
    let workloads: Vec<ClusterWorkload> = ClusterWorkload::ALL
        .into_iter()
        .filter(|w| options.selects(&w.name()))
        .collect();
    let events: Vec<cluster::Event> = cluster::Event::ALL
        .into_iter()
        .filter(|e| options.selects(e.name()))
        .collect();
    if workloads.is_empty() && events.is_empty() {
        bail!("no cluster row or event matches --only {:?}", options.only);
    }
    let clients: Vec<PeerId> = PeerId::ALL
        .into_iter()
        .filter(|&id| options.runs(id))
        .collect();
    let runtime = runtime()?;
    let started = Instant::now();
    let mut builder = Cluster::builder().primaries(cluster::PRIMARIES);
    if let Some(path) = &options.server {
        builder = builder.binary(path);
    }
    let cluster = builder.start().context("starting the cluster")?;
    let server = cluster.node(0).server();
    let server_line = format!(
        "{:?} {} ({})",
        server.flavor(),
        server.version(),
        server.binary_path().display()
    );
    eprintln!(
        "cluster of {} primaries ready in {:.1} s: {server_line}",
        cluster::PRIMARIES,
        cluster.ready_time().as_secs_f64()
    );

    let data = Data::new();
    let peers = runtime.block_on(async {
        let peers = ClusterPeers::connect(&cluster.seed_addrs()).await?;
        cluster::setup(&peers.respec.0, &data).await?;
        anyhow::Ok(peers)
    })?;
    let mut rows: Vec<Row> = workloads
        .iter()
        .map(|w| Row {
            workload: w.name(),
            ..Row::default()
        })
        .collect();
    // The workloads a client refused or failed, with the error: left out after it.
    let mut refused: BTreeMap<(usize, PeerId), String> = BTreeMap::new();
    let rounds = workloads
        .iter()
        .map(|w| options.rounds_for(w.is_concurrent()))
        .max()
        .unwrap_or(0);
    for round in 0..rounds {
        for (index, &workload) in workloads.iter().enumerate() {
            if round >= options.rounds_for(workload.is_concurrent()) {
                continue;
            }
            let mut line = format!("round {}/{} {:<26}", round + 1, rounds, workload.name());
            let mut order = clients.clone();
            let turn = (round + index) % order.len().max(1);
            order.rotate_left(turn);
            for id in order {
                if refused.contains_key(&(index, id)) {
                    continue;
                }
                match runtime.block_on(measure_cluster(&peers, id, workload, &data, options)) {
                    Ok(cell) => {
                        let summary = Summary::of(&cell);
                        line += &format!(
                            "  {} {} ops/s",
                            id.name(),
                            report::format_ops(summary.ops_per_sec)
                        );
                        rows[index].reps.entry(id).or_default().push(summary);
                    }
                    Err(err) => {
                        line += &format!("  {} error", id.name());
                        // Its earlier reps no longer pair with the other clients'.
                        rows[index].reps.remove(&id);
                        refused.insert((index, id), format!("round {}: {err:#}", round + 1));
                    }
                }
            }
            eprintln!("{line}");
        }
    }
    drop(peers);
    drop(cluster);

    let times = if options.quick {
        cluster::LoadTimes {
            before: Duration::from_millis(300),
            after: Duration::from_millis(300),
        }
    } else {
        cluster::LoadTimes {
            before: Duration::from_secs(1),
            after: Duration::from_secs(1),
        }
    };
    let mut disruptions: Vec<(cluster::Event, PeerId, Result<Disruption>)> = Vec::new();
    for &event in &events {
        for &id in &clients {
            let binary = options.server.as_deref();
            let result = match id {
                PeerId::Respec => {
                    cluster::run_disruption::<respec_bench::Respec>(&runtime, binary, event, times)
                }
                PeerId::RedisRs => cluster::run_disruption::<cluster::RedisRsCluster>(
                    &runtime, binary, event, times,
                ),
                PeerId::Fred => {
                    cluster::run_disruption::<respec_bench::Fred>(&runtime, binary, event, times)
                }
            };
            match &result {
                Ok(d) => eprintln!(
                    "{} {}: {} acks, {} errors, {} lost, {} doubled, pause {}",
                    event.name(),
                    id.name(),
                    d.acks,
                    d.errors,
                    d.lost,
                    d.doubled,
                    report::format_latency(d.longest_pause)
                ),
                Err(err) => eprintln!("{} {}: failed: {err:#}", event.name(), id.name()),
            }
            disruptions.push((event, id, result));
        }
    }
    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());

    let mut text = format!(
        "# respec benchmark: cluster\n\n\
         - cluster: {} primaries, no replica, on 127.0.0.1: {server_line} ({} cores on this \
         machine)\n\
         - clients: respec {} cluster `Client` (RESP3), redis-rs 1.x \
         `cluster_async::ClusterConnection` (RESP2), fred 10.x clustered `Client` (RESP2): \
         each library's defaults, TCP_NODELAY on, no response timeout set\n\
         - runtime: tokio multi-thread, {WORKERS} workers, shared by all clients\n\
         - {} rounds ({} for the tasks rows) of {:.2} s per cell (after a {:.2} s warm-up), \
         clients interleaved in a rotating order; medians (min–max) over rounds{}\n",
        cluster::PRIMARIES,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env!("CARGO_PKG_VERSION"),
        options.rounds,
        options.concurrent_rounds,
        options.cell.as_secs_f64(),
        options.warmup.as_secs_f64(),
        if options.quick {
            " (--quick: a smoke run, not a measurement)"
        } else {
            ""
        },
    );
    if !rows.is_empty() {
        text += &format!(
            "\n## Throughput\n\n{}\n## Latency\n\n{}\n## Every rep\n\n{}",
            report::comparison_table(&rows),
            report::latency_table(&rows),
            report::reps_table(&rows, |_| true),
        );
    }
    if !refused.is_empty() {
        text += "\n## Not measured\n\n";
        for ((index, id), err) in &refused {
            text += &format!(
                "- {} on {}: n/a, {err}\n",
                id.name(),
                workloads[*index].name()
            );
        }
    }
    if !disruptions.is_empty() {
        text += &format!(
            "\n## Disruption\n\n{}",
            disruption_table(&disruptions, times)
        );
    }
    text += CLUSTER_NOTES;
    publish(options, &text, "report-cluster.md")?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// The sentinel section (`--sentinel`): per run, event and client, a fresh group.
fn run_sentinel(options: &Options) -> Result<()> {
    let events: Vec<sentinel::Event> = sentinel::Event::ALL
        .into_iter()
        .filter(|e| options.selects(e.name()))
        .collect();
    if events.is_empty() {
        bail!("no sentinel event matches --only {:?}", options.only);
    }
    let clients: Vec<PeerId> = PeerId::ALL
        .into_iter()
        .filter(|&id| options.runs(id))
        .collect();
    let runs = options
        .rounds_given
        .unwrap_or(if options.quick { 1 } else { 3 })
        .max(1);
    let times = if options.quick {
        cluster::LoadTimes {
            before: Duration::from_millis(300),
            after: Duration::from_millis(300),
        }
    } else {
        cluster::LoadTimes {
            before: Duration::from_secs(1),
            after: Duration::from_secs(1),
        }
    };
    let runtime = runtime()?;
    let started = Instant::now();
    let server = ServerBuilder::new();
    let server = match &options.server {
        Some(path) => server.binary(path),
        None => server,
    }
    .start()
    .context("starting a server to name it")?;
    let server_line = format!(
        "{:?} {} ({})",
        server.flavor(),
        server.version(),
        server.binary_path().display()
    );
    drop(server);
    eprintln!("sentinel groups of {server_line}");
    let mut outcomes = Vec::new();
    for run in 0..runs {
        for (index, &event) in events.iter().enumerate() {
            let mut order = clients.clone();
            let turn = (run + index) % order.len().max(1);
            order.rotate_left(turn);
            for id in order {
                let result =
                    sentinel::run_for(id, &runtime, options.server.as_deref(), event, times);
                match &result {
                    Ok(o) => eprintln!(
                        "run {}/{runs} {} {}: {}",
                        run + 1,
                        event.name(),
                        id.name(),
                        sentinel::line(o)
                    ),
                    Err(err) => eprintln!(
                        "run {}/{runs} {} {}: failed: {err:#}",
                        run + 1,
                        event.name(),
                        id.name()
                    ),
                }
                outcomes.push((event, id, result));
            }
        }
    }
    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());
    // The table in the order of the events and of the clients' columns.
    outcomes.sort_by_key(|(event, id, _)| (events.iter().position(|e| e == event), *id));
    let mut text = format!(
        "# respec benchmark: sentinel\n\n\
         - groups: 1 primary, 2 replicas, 3 sentinels (quorum 2, down-after 1 s, failover-timeout \
         3 s, the harness's fast sentinel timers: INFO every 1 s) on 127.0.0.1, a fresh group \
         per run, event and client: {server_line} ({} cores on this machine)\n\
         - clients: respec {} `redis+sentinel://` URL (RESP3); redis-rs 1.x \
         `sentinel::SentinelClient` (master), its `MultiplexedConnection` replaced through the \
         `SentinelClient` after an unrecoverable error or a `READONLY` (RESP2); fred 10.x \
         `ServerConfig::Sentinel` with `ReconnectPolicy::new_exponential(0, 100, 30_000, 2)` \
         (RESP2): TCP_NODELAY on, no response timeout set\n\
         - load: {} tasks sharing the client, each `SET` of a unique value, `GET` of it, \
         `INCR` of its own counter, {:.1} s before the event and {:.1} s after the first \
         write acknowledged once the group settled (at most {:?})\n\
         - runtime: tokio multi-thread, {WORKERS} workers; {runs} runs per event and client, \
         clients in a rotating order; median (min–max) over runs{}\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env!("CARGO_PKG_VERSION"),
        sentinel::TASKS,
        times.before.as_secs_f64(),
        times.after.as_secs_f64(),
        sentinel::RECOVERY_LIMIT,
        if options.quick {
            " (--quick: a smoke run, not a measurement)"
        } else {
            ""
        },
    );
    text += &sentinel::tables(&outcomes);
    publish(options, &text, "report-sentinel.md")?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// The disruption figures: one line per event and client, then the first error each
/// client surfaced.
fn disruption_table(
    disruptions: &[(cluster::Event, PeerId, Result<Disruption>)],
    times: cluster::LoadTimes,
) -> String {
    let mut out = format!(
        "{} tasks, each `INCR`ing a counter of its own ({} on moving slots), for {:.1} s \
         before the event and {:.1} s after it.\n\n\
         | event | client | acked INCRs | errors surfaced | lost acked | doubled | ran unacked \
         (errored) | longest pause, moving slots | first success after it (from the command) \
         | event took | client's counters |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        cluster::COUNTERS,
        cluster::COUNTERS / 2,
        times.before.as_secs_f64(),
        times.after.as_secs_f64()
    );
    let mut errors = String::new();
    for (event, id, result) in disruptions {
        match result {
            Ok(d) => {
                out += &format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    event.name(),
                    id.name(),
                    d.acks,
                    d.errors,
                    d.lost,
                    d.doubled,
                    d.ran_unacked,
                    report::format_latency(d.longest_pause),
                    report::format_latency(d.recovered_after),
                    report::format_latency(d.event_time),
                    d.counters.as_deref().unwrap_or("-")
                );
                if let Some(err) = &d.first_error {
                    errors += &format!("- {} {}: first error: {err}\n", event.name(), id.name());
                }
            }
            Err(err) => {
                out += &format!(
                    "| {} | {} | failed: {err:#} | | | | | | | | |\n",
                    event.name(),
                    id.name()
                );
            }
        }
    }
    if !errors.is_empty() {
        out += "\n";
        out += &errors;
    }
    out
}

/// What the cluster section's columns mean.
const CLUSTER_NOTES: &str = "
ops/s counts keys read or written: a pipeline of 1,000 `GET`s counts 1,000, an `MGET` \
of 100 keys counts 100; p50/p99 is the latency of one operation (a round trip, a whole \
pipeline or `MGET`). `cluster N tasks GET/SET`: N tasks sharing the client, `GET` then \
`SET` of random keys among 1,000 (`key:000000000000`..), which hash to slots of every \
shard. `cluster pipeline 1000 GET`: one explicit pipeline of `GET bench:pipe:0..999` \
(keys of every shard) through the library's pipeline API. `cluster MGET 100`: one `MGET` \
of `key:000000000000..099` (keys of every shard) through the library's `mget`. \
`respec / X` is the paired ratio of the single-server tables.

Disruption: per event and client, a fresh cluster (3 primaries; with one replica each \
for the failover). `lost acked`: per counter, the highest value the client \
acknowledged above the server's final value. `doubled`: increments on the server \
beyond those acknowledged, on counters whose task saw no error (a command run twice \
for one call). `ran unacked`: the same on counters whose task saw errors (calls that \
failed but ran). `longest pause`: the longest time between two acknowledged \
`INCR`s of one counter on the moving slots that began between the last ack before \
the event's command and the event's end; `first success after it` is when that \
pause ended, from the command. \
`event took`: the harness's command and its wait until every node agrees. A task \
waits 1 ms after an error before its next `INCR`.
";

/// Warms up and measures one cluster cell, inside a task of the runtime.
async fn measure_cluster(
    peers: &ClusterPeers,
    id: PeerId,
    workload: ClusterWorkload,
    data: &Arc<Data>,
    options: &Options,
) -> Result<workload::Cell> {
    match id {
        PeerId::Respec => cluster_cell(peers.respec.clone(), workload, data, options).await,
        PeerId::RedisRs => cluster_cell(peers.redis.clone(), workload, data, options).await,
        PeerId::Fred => cluster_cell(peers.fred.clone(), workload, data, options).await,
    }
}

async fn cluster_cell<P: ClusterPeer>(
    peer: P,
    workload: ClusterWorkload,
    data: &Arc<Data>,
    options: &Options,
) -> Result<workload::Cell> {
    if !options.warmup.is_zero() {
        let warmup = cluster::run_cell(peer.clone(), workload, data.clone(), options.warmup);
        tokio::spawn(warmup).await??;
    }
    tokio::spawn(cluster::run_cell(
        peer,
        workload,
        data.clone(),
        options.cell,
    ))
    .await?
}

/// Prints a section's report and writes it to `--report` (else `default_name` in
/// the output directory), unless the run was partial (`--only`, `--client`).
fn publish(options: &Options, text: &str, default_name: &str) -> Result<()> {
    print!("{text}");
    let path = options
        .report
        .clone()
        .unwrap_or_else(|| respec_bench::output_dir().join(default_name));
    if options.only.is_none() && options.clients.is_empty() {
        report::write(&path, text)?;
        eprintln!("written to {}", path.display());
    } else {
        eprintln!(
            "a partial run (--only, --client): {} left as it was",
            path.display()
        );
    }
    Ok(())
}
