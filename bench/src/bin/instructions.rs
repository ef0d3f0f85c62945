//! Instructions per operation of each client, and of `redis-benchmark`, under callgrind
//! (user space instructions of the whole process, every thread), for the workloads of
//! `compare` that one task or one connection runs: `N tasks GET/SET` (the sequential
//! `SET`/`GET` row with one task, and 64 tasks), explicit pipelines of 100 and 1,000
//! `SET`s and `GET`s, and `LRANGE`/`HGETALL` of 10k items. Prints a markdown table (a
//! row per workload, a column per client) and appends it to the report file. Run it
//! through `cargo xtask bench --instructions`.
//!
//! ```text
//! instructions [--server PATH] [--ops N] [--tasks N]... [--only TEXT]... [--client NAME]...
//!              [--valgrind PATH] [--redis-benchmark PATH | --no-baseline] [--report PATH]
//!   --server PATH           the server binary (default: as compare)
//!   --ops N                 commands of the longer count (default 12,000; the
//!                           shorter one does a sixth of them; at least 6
//!                           operations of each task); LRANGE and HGETALL make one
//!                           call per 200
//!   --tasks N               the `N tasks GET/SET` row (repeatable)
//!   --only TEXT             the default rows whose label contains TEXT (repeatable,
//!                           case-insensitive); without --tasks nor --only: all of
//!                           them (sequential SET/GET, 64 tasks, pipelines, LRANGE,
//!                           HGETALL)
//!   --client NAME           only this client (respec, redis-rs, fred; repeatable),
//!                           or `socket`: the sequential row on a bare tokio
//!                           socket ([`respec_bench::floor`]), the floor under
//!                           any tokio client's round trip (default: all of them)
//!   --valgrind PATH         default /usr/bin/valgrind
//!   --redis-benchmark PATH  default /usr/bin/redis-benchmark (left out when missing)
//!   --no-baseline           no redis-benchmark column
//!   --report PATH           the report file to append to (default target/bench/report.md)
//!   --current-thread        the clients on a current-thread runtime (default: the
//!                           multi-thread runtime of compare, 2 workers)
//!
//! instructions ops --url URL --client NAME (--workload LABEL | --tasks N) --ops UNITS
//!                  [--current-thread]
//!   what runs under callgrind: connect one client, do the workload (its label, as in
//!   the table) for UNITS of its units (see below), exit
//! ```
//!
//! The server is started and its keys written once, outside callgrind. Each program is
//! counted twice, with a sixth of the operations and with all of them; the difference
//! of instructions over the difference of units is the marginal cost of one unit, free
//! of the startup, connection and shutdown costs ([`respec_bench::callgrind`]). The
//! unit is a command (a `GET` or a `SET`, alone or pipelined) and, for `LRANGE` and
//! `HGETALL`, one call (reading its 10k items). The clients run the very code of
//! `compare`'s cells ([`workload::run`]), for a number of operations instead of a
//! time. `redis-benchmark` runs the compare row's command line ([`Plan`]): `-c 1 -r
//! 1000 -d 32 -t set,get` with `-P TASKS` for the task rows, `-P N -t set` (or `get`)
//! for the pipelines, `LRANGE bench:list 0 -1` and `HGETALL bench:hash`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use respec_bench::baseline::{self, Plan};
use respec_bench::callgrind::{self, Count};
use respec_bench::workload::{self, Until};
use respec_bench::{floor, report, Data, Fred, Peer, PeerId, RedisRs, Respec, Workload};
use respec_tests::ServerBuilder;

/// The runtime's workers, as in `compare`.
const WORKERS: usize = 2;

/// The default rows.
const ROWS: [Workload; 8] = [
    Workload::Concurrent(1),
    Workload::Concurrent(64),
    Workload::PipelineSet(100),
    Workload::PipelineGet(100),
    Workload::PipelineSet(1000),
    Workload::PipelineGet(1000),
    Workload::Lrange,
    Workload::Hgetall,
];

/// Commands per call of `LRANGE` or `HGETALL` in `--ops` (a call reads 10k items).
const COMMANDS_PER_BIG_CALL: u64 = 200;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ops") => run_ops(&args[1..]),
        _ => run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The name of the bare socket's column ([`floor`]).
const SOCKET: &str = "socket";

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    /// A client library.
    Client(PeerId),
    /// A bare tokio socket, for the sequential row only ([`floor`]).
    Socket,
    /// redis-benchmark.
    Baseline,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::Client(id) => id.name(),
            Contender::Socket => SOCKET,
            Contender::Baseline => report::BASELINE,
        }
    }

    /// Whether it runs `row`.
    fn runs(self, row: Workload) -> bool {
        self != Contender::Socket || row == Workload::Concurrent(1)
    }
}

/// The client named `name`, or the bare socket.
fn client(name: &str) -> Result<Contender> {
    if name == SOCKET {
        return Ok(Contender::Socket);
    }
    PeerId::ALL
        .into_iter()
        .find(|id| id.name() == name)
        .map(Contender::Client)
        .with_context(|| format!("no client named {name:?}"))
}

/// The workload labelled `label` (as in the table).
fn workload_named(label: &str) -> Result<Workload> {
    ROWS.into_iter()
        .chain(Workload::ALL)
        .find(|w| w.name() == label)
        .with_context(|| format!("no workload labelled {label:?}"))
}

/// The units (commands; calls of `LRANGE` and `HGETALL`) of one operation of a task
/// of `workload`: the pipeline's length, else 1.
fn units_per_op(workload: Workload) -> u64 {
    match workload {
        Workload::Lrange | Workload::Hgetall | Workload::Concurrent(_) => 1,
        other => other.commands_per_op() as u64,
    }
}

/// The units of the short and of the long count of `workload` for about `ops`
/// commands: whole operations of every task, the short count a sixth of the long one
/// (at least one operation per task).
fn counts(workload: Workload, ops: u64) -> (u64, u64) {
    let (tasks, per_task) = match workload {
        Workload::Lrange | Workload::Hgetall => (1, ops / COMMANDS_PER_BIG_CALL),
        Workload::Concurrent(tasks) => (tasks as u64, ops / tasks as u64),
        other => (1, ops / other.commands_per_op() as u64),
    };
    let many = per_task.max(6);
    let units = |per_task: u64| per_task * tasks * units_per_op(workload);
    (units(many / 6), units(many))
}

/// `instructions ops`: one client, a fixed number of units of one workload.
fn run_ops(args: &[String]) -> Result<()> {
    let (mut url, mut id, mut workload, mut ops) = (None, None, None, 0);
    let mut current_thread = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value("--url")?.clone()),
            "--client" => id = Some(client(value("--client")?)?),
            "--workload" => workload = Some(workload_named(value("--workload")?)?),
            "--tasks" => workload = Some(Workload::Concurrent(value("--tasks")?.parse()?)),
            "--ops" => ops = value("--ops")?.parse()?,
            "--current-thread" => current_thread = true,
            other => bail!("unexpected argument {other:?} to instructions ops"),
        }
    }
    let (url, id) = (url.context("--url")?, id.context("--client")?);
    let workload = workload.context("--workload or --tasks")?;
    let runtime = if current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()?
    };
    let data = Data::new();
    // Operations of each task: a task of `N tasks` does single commands, a pipeline
    // many at once, a big reply is one call.
    let tasks = match workload {
        Workload::Concurrent(tasks) => tasks.max(1),
        _ => 1,
    };
    let per_task = ops / tasks / units_per_op(workload) as usize;
    runtime.block_on(async {
        match id {
            Contender::Client(PeerId::Respec) => {
                drive(Respec::connect(&url).await?, workload, &data, per_task).await
            }
            Contender::Client(PeerId::RedisRs) => {
                drive(RedisRs::connect(&url).await?, workload, &data, per_task).await
            }
            Contender::Client(PeerId::Fred) => {
                drive(Fred::connect(&url).await?, workload, &data, per_task).await
            }
            Contender::Socket => {
                anyhow::ensure!(
                    workload == Workload::Concurrent(1),
                    "the bare socket runs only {}",
                    Workload::Concurrent(1).name()
                );
                let addr = url.trim_start_matches("redis://").to_owned();
                let latencies =
                    tokio::spawn(
                        async move { floor::run(&addr, &data, Until::Ops(per_task)).await },
                    )
                    .await??;
                anyhow::ensure!(latencies.len() == per_task, "operations missing");
                Ok(())
            }
            Contender::Baseline => bail!("redis-benchmark runs on its own"),
        }
    })
}

/// Runs `workload` on `peer` inside a task of the runtime, `per_task` operations per
/// task.
async fn drive<P: Peer>(
    peer: P,
    workload: Workload,
    data: &Arc<Data>,
    per_task: usize,
) -> Result<()> {
    let data = data.clone();
    let latencies =
        tokio::spawn(
            async move { workload::run(peer, workload, &data, Until::Ops(per_task)).await },
        )
        .await??;
    let tasks = match workload {
        Workload::Concurrent(tasks) => tasks,
        _ => 1,
    };
    anyhow::ensure!(latencies.len() == tasks * per_task, "operations missing");
    Ok(())
}

/// The orchestration's command line.
struct Options {
    server: Option<PathBuf>,
    ops: u64,
    rows: Vec<Workload>,
    clients: Vec<Contender>,
    valgrind: PathBuf,
    redis_benchmark: Option<PathBuf>,
    report: PathBuf,
    current_thread: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            server: None,
            ops: 12_000,
            rows: Vec::new(),
            clients: Vec::new(),
            valgrind: callgrind::DEFAULT_VALGRIND.into(),
            redis_benchmark: Some(baseline::DEFAULT_PATH.into()),
            report: respec_bench::report_path(),
            current_thread: false,
        };
        let mut only: Vec<String> = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().with_context(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--server" => options.server = Some(value("--server")?.into()),
                "--ops" => options.ops = value("--ops")?.parse()?,
                "--tasks" => options
                    .rows
                    .push(Workload::Concurrent(value("--tasks")?.parse()?)),
                "--only" => only.push(value("--only")?.to_lowercase()),
                "--client" => options.clients.push(client(value("--client")?)?),
                "--valgrind" => options.valgrind = value("--valgrind")?.into(),
                "--redis-benchmark" => {
                    options.redis_benchmark = Some(value("--redis-benchmark")?.into())
                }
                "--no-baseline" => options.redis_benchmark = None,
                "--report" => options.report = value("--report")?.into(),
                "--current-thread" => options.current_thread = true,
                other => bail!("unexpected argument {other:?} (see the binary's docs)"),
            }
        }
        let all = options.rows.is_empty() && only.is_empty();
        for row in ROWS {
            let label = row.name().to_lowercase();
            if (all || only.iter().any(|o| label.contains(o.as_str())))
                && !options.rows.contains(&row)
            {
                options.rows.push(row);
            }
        }
        anyhow::ensure!(!options.rows.is_empty(), "no row matches --only {only:?}");
        if options.clients.is_empty() {
            options.clients = PeerId::ALL.map(Contender::Client).to_vec();
            options.clients.push(Contender::Socket);
        }
        anyhow::ensure!(options.ops >= 600, "--ops must be at least 600");
        Ok(options)
    }
}

fn run(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let mut builder = ServerBuilder::new();
    if let Some(path) = &options.server {
        builder = builder.binary(path);
    }
    let server = builder.start().context("starting the server")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let respec = Respec::connect(&server.url()).await?;
        workload::setup(&respec.0, &Data::new()).await
    })?;
    let me = std::env::current_exe().context("finding this binary")?;
    let dir = respec_bench::output_dir().join("callgrind");
    let rb = options
        .redis_benchmark
        .as_ref()
        .filter(|path| path.exists());

    let mut contenders = options.clients.clone();
    if rb.is_some() {
        contenders.push(Contender::Baseline);
    }
    let mut text = format!(
        "\n## Instructions per operation ({:?} {}, {})\n\n\
         User space instructions (callgrind `Ir`, every thread of the process) per \
         command (`GET` or `SET`, alone or pipelined) or, for `LRANGE` and `HGETALL` \
         of 10k items, per call: the difference between a run of about {} commands \
         and one of a sixth of them, over the difference of commands or calls \
         (startup, connection and shutdown cancel out; LRANGE and HGETALL make one \
         call per {COMMANDS_PER_BIG_CALL}). The server's instructions and the \
         kernel's are not counted. redis-benchmark runs the rows' command lines of \
         `compare` (`-c 1 -r 1000 -d 32 -t set,get`, with `-P N` for N tasks; `-P N \
         -t set` or `get` for the pipelines; the command itself for LRANGE and \
         HGETALL). `{SOCKET}` is the sequential row on a bare tokio socket, in the \
         clients' loop: the floor under any tokio client's round trip.\n\n\
         | workload |",
        server.flavor(),
        server.version(),
        if options.current_thread {
            "current-thread runtime"
        } else {
            "multi-thread runtime, 2 workers"
        },
        report::format_ops(options.ops as f64)
    );
    for contender in &contenders {
        text += &format!(" {} |", contender.name());
    }
    text += &format!("\n|---|{}\n", "---:|".repeat(contenders.len()));
    for &row in &options.rows {
        let label = row.name();
        text += &format!("| {label} |");
        for &contender in &contenders {
            let name = contender.name();
            if !contender.runs(row) {
                text += " – |";
                continue;
            }
            let count = |units: u64| -> Result<Count> {
                let (program, args, units) = match (contender, rb) {
                    (Contender::Client(_) | Contender::Socket, _) => {
                        let mut args = [
                            "ops",
                            "--url",
                            &server.url(),
                            "--client",
                            name,
                            "--workload",
                            &label,
                            "--ops",
                            &units.to_string(),
                        ]
                        .map(str::to_owned)
                        .to_vec();
                        if options.current_thread {
                            args.push("--current-thread".to_owned());
                        }
                        (me.clone(), args, units)
                    }
                    (Contender::Baseline, Some(rb)) => {
                        let plan = Plan::of(row).context("no redis-benchmark plan")?;
                        let rb = baseline::RedisBenchmark::new(rb, server.port());
                        let requests = plan.requests(units);
                        let command = rb.command(&plan, requests);
                        let args = command
                            .get_args()
                            .map(|a| a.to_string_lossy().into_owned())
                            .collect();
                        (rb.binary().to_owned(), args, requests * plan.tests())
                    }
                    (Contender::Baseline, None) => {
                        unreachable!("no redis-benchmark contender without it")
                    }
                };
                let instructions =
                    callgrind::count_instructions(&options.valgrind, &dir, &program, &args)
                        .with_context(|| format!("{name}, {label}, {units} units"))?;
                Ok(Count {
                    ops: units,
                    instructions,
                })
            };
            let (few, many) = counts(row, options.ops);
            let (few, many) = (count(few)?, count(many)?);
            let per_op = callgrind::per_op(few, many)?;
            eprintln!(
                "{name} {label}: {} Ir for {} units, {} Ir for {}: {per_op:.0} Ir/unit",
                few.instructions, few.ops, many.instructions, many.ops
            );
            text += &format!(" {} |", report::format_ops(per_op));
        }
        text.push('\n');
    }
    print!("{text}");
    report::append(&options.report, &text)?;
    eprintln!("appended to {}", options.report.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole operations of every task, the short count a sixth of the long one, and
    /// at least one operation per task in the short one.
    #[test]
    fn counts_of_units() {
        assert_eq!(counts(Workload::Concurrent(1), 12_000), (2_000, 12_000));
        assert_eq!(counts(Workload::Concurrent(64), 12_000), (1_984, 11_968));
        assert_eq!(counts(Workload::PipelineGet(100), 12_000), (2_000, 12_000));
        assert_eq!(counts(Workload::PipelineSet(1000), 1_200), (1_000, 6_000));
        assert_eq!(counts(Workload::Hgetall, 12_000), (10, 60));
        assert_eq!(counts(Workload::Lrange, 600), (1, 6));
        assert_eq!(
            workload_named("pipeline 1000 GET").unwrap(),
            Workload::PipelineGet(1000)
        );
        assert!(workload_named("pipeline 7 GET").is_err());
    }
}
