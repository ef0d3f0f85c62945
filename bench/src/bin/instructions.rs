//! Instructions per operation of each client, and of `redis-benchmark`, under callgrind
//! (user space instructions of the whole process, every thread): `N tasks GET/SET`
//! (the sequential `SET`/`GET` row with one task, and 64 tasks by default) on one
//! connection. Prints a markdown table and appends it to the report file. Run it
//! through `cargo xtask bench --instructions`.
//!
//! ```text
//! instructions [--server PATH] [--ops N] [--tasks N]... [--client NAME]...
//!              [--valgrind PATH] [--redis-benchmark PATH | --no-baseline] [--report PATH]
//!   --server PATH           the server binary (default: as compare)
//!   --ops N                 operations of the longer count (default 12,000; the
//!                           shorter one does a sixth of them)
//!   --tasks N               tasks on the one connection (repeatable; default 1 and 64)
//!   --client NAME           only this client (respec, redis-rs, fred; repeatable)
//!   --valgrind PATH         default /usr/bin/valgrind
//!   --redis-benchmark PATH  default /usr/bin/redis-benchmark (left out when missing)
//!   --no-baseline           no redis-benchmark row
//!   --report PATH           the report file to append to (default target/bench/report.md)
//!   --current-thread        the clients on a current-thread runtime (default: the
//!                           multi-thread runtime of compare, 2 workers)
//!
//! instructions ops --url URL --client NAME --tasks N --ops N [--current-thread]
//!   what runs under callgrind: connect one client, do N operations of the workload
//!   (N / tasks per task), exit
//! ```
//!
//! The server is started and its keys written once, outside callgrind. Each program is
//! counted twice, with a sixth of the operations and with all of them; the difference
//! of instructions over the difference of operations is the marginal cost of one
//! operation (a `GET` or a `SET`), free of the startup, connection and shutdown costs
//! ([`respec_bench::callgrind`]). `redis-benchmark` runs the compare row's command:
//! `-c 1 -r 1000 -d 32 -t set,get`, with `-P TASKS` for more than one task.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use respec_bench::baseline::{self, Plan};
use respec_bench::callgrind::{self, Count};
use respec_bench::workload::{self, run_concurrent, Until};
use respec_bench::{report, Data, Fred, Peer, PeerId, RedisRs, Respec, Workload};
use respec_tests::ServerBuilder;

/// The runtime's workers, as in `compare`.
const WORKERS: usize = 2;

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

/// The client named `name`.
fn client(name: &str) -> Result<PeerId> {
    PeerId::ALL
        .into_iter()
        .find(|id| id.name() == name)
        .with_context(|| format!("no client named {name:?}"))
}

/// `instructions ops`: one client, a fixed number of operations.
fn run_ops(args: &[String]) -> Result<()> {
    let (mut url, mut id, mut tasks, mut ops) = (None, None, 1, 0);
    let mut current_thread = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value("--url")?.clone()),
            "--client" => id = Some(client(value("--client")?)?),
            "--tasks" => tasks = value("--tasks")?.parse()?,
            "--ops" => ops = value("--ops")?.parse()?,
            "--current-thread" => current_thread = true,
            other => bail!("unexpected argument {other:?} to instructions ops"),
        }
    }
    let (url, id) = (url.context("--url")?, id.context("--client")?);
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
    let per_task = ops / tasks.max(1);
    runtime.block_on(async {
        match id {
            PeerId::Respec => drive(Respec::connect(&url).await?, tasks, &data, per_task).await,
            PeerId::RedisRs => drive(RedisRs::connect(&url).await?, tasks, &data, per_task).await,
            PeerId::Fred => drive(Fred::connect(&url).await?, tasks, &data, per_task).await,
        }
    })
}

/// Runs the tasks on `peer` inside a task of the runtime.
async fn drive<P: Peer>(
    peer: P,
    tasks: usize,
    data: &std::sync::Arc<Data>,
    per_task: usize,
) -> Result<()> {
    let data = data.clone();
    let latencies =
        tokio::spawn(async move { run_concurrent(peer, tasks, &data, Until::Ops(per_task)).await })
            .await??;
    anyhow::ensure!(latencies.len() == tasks * per_task, "operations missing");
    Ok(())
}

/// The orchestration's command line.
struct Options {
    server: Option<PathBuf>,
    ops: u64,
    tasks: Vec<usize>,
    clients: Vec<PeerId>,
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
            tasks: Vec::new(),
            clients: Vec::new(),
            valgrind: callgrind::DEFAULT_VALGRIND.into(),
            redis_benchmark: Some(baseline::DEFAULT_PATH.into()),
            report: respec_bench::report_path(),
            current_thread: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().with_context(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--server" => options.server = Some(value("--server")?.into()),
                "--ops" => options.ops = value("--ops")?.parse()?,
                "--tasks" => options.tasks.push(value("--tasks")?.parse()?),
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
        if options.tasks.is_empty() {
            options.tasks = vec![1, 64];
        }
        if options.clients.is_empty() {
            options.clients = PeerId::ALL.to_vec();
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
    let few_ops = options.ops / 6;
    let rb = options
        .redis_benchmark
        .as_ref()
        .filter(|path| path.exists());

    let mut text = format!(
        "\n## Instructions per operation ({:?} {}, {})\n\n\
         User space instructions (callgrind `Ir`, every thread of the process) per \
         `GET` or `SET` of `N tasks GET/SET` on one connection: the difference between \
         a run of {} and one of {few_ops} operations, over the difference of \
         operations (startup, connection and shutdown cancel out). The server's \
         instructions and the kernel's are not counted. redis-benchmark runs \
         `-c 1 -r 1000 -d 32 -t set,get`, with `-P N` for N tasks (one connection, \
         N requests in flight as one batch).\n\n\
         | client |",
        server.flavor(),
        server.version(),
        if options.current_thread {
            "current-thread runtime"
        } else {
            "multi-thread runtime, 2 workers"
        },
        options.ops
    );
    for tasks in &options.tasks {
        text += &format!(" {} |", Workload::Concurrent(*tasks).name());
    }
    text += &format!("\n|---|{}\n", "---:|".repeat(options.tasks.len()));
    let mut contenders: Vec<Option<PeerId>> = options.clients.iter().copied().map(Some).collect();
    if rb.is_some() {
        contenders.push(None);
    }
    for contender in contenders {
        let name = contender.map_or(report::BASELINE, PeerId::name);
        text += &format!("| {name} |");
        for &tasks in &options.tasks {
            let count = |ops: u64| -> Result<Count> {
                let (program, args, ops) = match (contender, rb) {
                    (Some(id), _) => {
                        let mut args = [
                            "ops",
                            "--url",
                            &server.url(),
                            "--client",
                            id.name(),
                            "--tasks",
                            &tasks.to_string(),
                            "--ops",
                            &ops.to_string(),
                        ]
                        .map(str::to_owned)
                        .to_vec();
                        if options.current_thread {
                            args.push("--current-thread".to_owned());
                        }
                        (me.clone(), args, ops)
                    }
                    (None, Some(rb)) => {
                        let plan = Plan::of(Workload::Concurrent(tasks))
                            .context("no redis-benchmark plan")?;
                        let rb = baseline::RedisBenchmark::new(rb, server.port());
                        let requests = plan.requests(ops);
                        let command = rb.command(&plan, requests);
                        let args = command
                            .get_args()
                            .map(|a| a.to_string_lossy().into_owned())
                            .collect();
                        (rb.binary().to_owned(), args, requests * plan.tests())
                    }
                    (None, None) => unreachable!("no redis-benchmark contender without it"),
                };
                let instructions =
                    callgrind::count_instructions(&options.valgrind, &dir, &program, &args)
                        .with_context(|| format!("{name}, {tasks} tasks, {ops} ops"))?;
                Ok(Count { ops, instructions })
            };
            // The run's tasks all do the same number of operations.
            let round = |ops: u64| ops / tasks as u64 * tasks as u64;
            let (few, many) = (count(round(few_ops))?, count(round(options.ops))?);
            let per_op = callgrind::per_op(few, many)?;
            eprintln!(
                "{name} {tasks} tasks: {} Ir for {} ops, {} Ir for {} ops: {per_op:.0} Ir/op",
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
