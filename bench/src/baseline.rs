//! `redis-benchmark` (the server project's own load generator, written in C on an event
//! loop) as the machine's limit: the workloads it can express, run against the same
//! server in the same rounds, its `--csv` output parsed into a [`Summary`].
//!
//! What is comparable, and what is not:
//!
//! - `-c N` opens N connections, one per simulated client, where the peers multiplex N
//!   tasks over one connection, so every run here is `-c 1`. The N tasks rows are
//!   `-c 1 -P N`: N requests in flight on one connection, sent as one batch and answered
//!   in one, then the next batch; the peers' tasks keep N in flight continuously and
//!   each awaits its own reply, so this is the limit of the shape, not a like-for-like
//!   client. (`-c 64` on this machine is slower than one pipelined connection: the
//!   server makes a read and a write per request of each connection.)
//! - `-t set,get` runs all the `SET`s, then all the `GET`s. The rows that alternate
//!   `GET` and `SET` ([`Workload::Concurrent`], [`Workload::SetGetLarge`]) get the rate
//!   of doing both halves ([`Combine::Both`]): `2 / (1/set + 1/get)`.
//! - `-r 1000` picks random keys `key:000000000000` to `key:000000000999`, the
//!   workloads' [`KEYSPACE`] keys (written by
//!   [`setup`](crate::workload::setup)).
//! - A command line of its own (`redis-benchmark ... LRANGE bench:list 0 -1`) sends
//!   exactly the workload's command; a 1 MiB value cannot be an argument (the kernel
//!   limits one to 128 KiB), so `SET 1 MiB` uses `-t set -d 1048576`.
//! - Transactions and pub/sub have no counterpart.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};

use crate::report::Summary;
use crate::workload::{self, Workload, KEYSPACE, LARGE_VALUE_LEN, SMALL_VALUE_LEN};

/// Where Debian's `redis-tools` package puts it.
pub const DEFAULT_PATH: &str = "/usr/bin/redis-benchmark";

/// How the CSV lines of one run make one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The only test of the run.
    One,
    /// A `SET` test and a `GET` test, combined as alternating them: the harmonic mean
    /// of their rates, the mean of their percentiles.
    Both,
}

/// The `redis-benchmark` arguments for one workload (besides host, port, `-n` and
/// `--csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The arguments.
    pub args: Vec<String>,
    /// How its CSV lines combine.
    pub combine: Combine,
    /// Requests per test for the first, unmeasured calibration run.
    pub probe: u64,
    /// Requests per pipeline (`-P`), 1 without: `-n` must be a multiple of it (else
    /// the last batch overshoots, `redis-benchmark` sees its one client gone before
    /// `-n` replies and may abort with "All clients disconnected").
    pub pipeline: u64,
}

impl Plan {
    /// The comparable `redis-benchmark` run of `workload`, if there is one.
    pub fn of(workload: Workload) -> Option<Plan> {
        let keyspace = KEYSPACE.to_string();
        let small = SMALL_VALUE_LEN.to_string();
        let large = LARGE_VALUE_LEN.to_string();
        let (words, combine, probe): (Vec<&str>, _, u64) = match workload {
            Workload::Sequential => (vec!["GET", workload::SEQUENTIAL_KEY], Combine::One, 2_000),
            // n requests in flight on one connection, as the peers' n tasks on theirs
            // (`-c n` would open n connections); `-P 1` is no pipeline.
            Workload::Concurrent(n) => (
                vec!["-r", &keyspace, "-d", &small, "-t", "set,get", "-P"],
                Combine::Both,
                2_000 * n as u64,
            ),
            Workload::PipelineSet(n) => (
                vec!["-r", &keyspace, "-d", &small, "-t", "set", "-P"],
                Combine::One,
                20 * n as u64,
            ),
            Workload::PipelineGet(n) => (
                vec!["-r", &keyspace, "-d", &small, "-t", "get", "-P"],
                Combine::One,
                20 * n as u64,
            ),
            Workload::Lrange => (
                vec!["LRANGE", workload::LIST_KEY, "0", "-1"],
                Combine::One,
                100,
            ),
            Workload::Hgetall => (vec!["HGETALL", workload::HASH_KEY], Combine::One, 100),
            Workload::SetLarge => (vec!["-d", &large, "-t", "set"], Combine::One, 50),
            Workload::GetLarge => (vec!["GET", workload::LARGE_GET_KEY], Combine::One, 50),
            Workload::SetGetLarge => (vec!["-d", &large, "-t", "set,get"], Combine::Both, 50),
            // (A cached GET never reaches the server: no comparable run.)
            Workload::Transaction(_) | Workload::PubSub { .. } | Workload::CachedGet => {
                return None
            }
        };
        let mut args: Vec<String> = vec!["-c".into(), "1".into()];
        args.extend(words.iter().map(|w| w.to_string()));
        let mut pipeline = 1;
        if let Workload::Concurrent(n) | Workload::PipelineSet(n) | Workload::PipelineGet(n) =
            workload
        {
            // Options before a command of its own; these runs have none.
            args.push(n.to_string());
            pipeline = n as u64;
        }
        Some(Plan {
            args,
            combine,
            probe,
            pipeline,
        })
    }

    /// Tests per run: each gets `-n` requests.
    pub fn tests(&self) -> u64 {
        match self.combine {
            Combine::One => 1,
            Combine::Both => 2,
        }
    }

    /// `-n` for about `ops` commands in all (every test together): a multiple of the
    /// pipeline, at least one pipeline.
    pub fn requests(&self, ops: u64) -> u64 {
        (ops / self.tests()).div_ceil(self.pipeline).max(1) * self.pipeline
    }
}

/// One `redis-benchmark` binary aimed at one server.
#[derive(Debug, Clone)]
pub struct RedisBenchmark {
    binary: PathBuf,
    port: u16,
}

impl RedisBenchmark {
    /// `binary` against the server on 127.0.0.1:`port`.
    pub fn new(binary: impl Into<PathBuf>, port: u16) -> RedisBenchmark {
        RedisBenchmark {
            binary: binary.into(),
            port,
        }
    }

    /// The binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Its `--version` line.
    pub fn version(&self) -> Result<String> {
        let out = Command::new(&self.binary)
            .arg("--version")
            .output()
            .with_context(|| format!("running {} --version", self.binary.display()))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// The command that runs `plan` with `requests` requests per test, printing CSV.
    pub fn command(&self, plan: &Plan, requests: u64) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-n", &requests.to_string(), "--csv"])
            .args(&plan.args);
        command
    }

    /// Runs `plan` with `requests` requests per test: its figures.
    pub fn run(&self, plan: &Plan, requests: u64) -> Result<Summary> {
        let out = self
            .command(plan, requests)
            .output()
            .with_context(|| format!("running {}", self.binary.display()))?;
        ensure!(
            out.status.success(),
            "{} {:?} failed ({}): {}",
            self.binary.display(),
            plan.args,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let tests = parse_csv(&String::from_utf8_lossy(&out.stdout))?;
        combine(plan.combine, &tests)
    }
}

/// The requests per test that make a run of `plan` last about `duration` at `ops_per_sec`
/// (commands per second, all tests together), at least its probe.
pub fn requests_for(plan: &Plan, ops_per_sec: f64, duration: Duration) -> u64 {
    let wanted = (ops_per_sec * duration.as_secs_f64()) as u64;
    plan.requests(wanted).max(plan.probe)
}

/// One line of `redis-benchmark --csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTest {
    /// The test's name (`SET`, `GET`, or the command line given).
    pub test: String,
    /// Requests per second.
    pub rps: f64,
    /// Median latency, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
}

/// Parses `redis-benchmark --csv` output: a header line naming the columns (`test`,
/// `rps`, `p50_latency_ms`, `p99_latency_ms` among them), then one quoted line per test.
pub fn parse_csv(text: &str) -> Result<Vec<CsvTest>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv(lines.next().context("redis-benchmark printed nothing")?);
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no {name:?} column in {header:?}"))
    };
    let (test, rps, p50, p99) = (
        column("test")?,
        column("rps")?,
        column("p50_latency_ms")?,
        column("p99_latency_ms")?,
    );
    lines
        .map(|line| {
            let fields = split_csv(line);
            let number = |i: usize| -> Result<f64> {
                let field = fields
                    .get(i)
                    .with_context(|| format!("short line {line:?}"))?;
                field
                    .parse()
                    .with_context(|| format!("{field:?} in {line:?}"))
            };
            Ok(CsvTest {
                test: fields.get(test).cloned().unwrap_or_default(),
                rps: number(rps)?,
                p50_ms: number(p50)?,
                p99_ms: number(p99)?,
            })
        })
        .collect()
}

/// The fields of one CSV line whose fields are all quoted (no quotes inside).
fn split_csv(line: &str) -> Vec<String> {
    line.trim()
        .split("\",\"")
        .map(|f| f.trim_matches('"').to_owned())
        .collect()
}

/// One figure out of a run's tests.
fn combine(how: Combine, tests: &[CsvTest]) -> Result<Summary> {
    let ms = |ms: f64| Duration::from_secs_f64(ms / 1e3);
    match (how, tests) {
        (Combine::One, [t]) => Ok(Summary {
            ops_per_sec: t.rps,
            p50: ms(t.p50_ms),
            p99: ms(t.p99_ms),
        }),
        (Combine::Both, [a, b]) => Ok(Summary {
            ops_per_sec: 2.0 / (1.0 / a.rps + 1.0 / b.rps),
            p50: ms((a.p50_ms + b.p50_ms) / 2.0),
            p99: ms((a.p99_ms + b.p99_ms) / 2.0),
        }),
        _ => bail!("expected {how:?} from redis-benchmark, got {tests:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The output of `redis-benchmark --csv -t set,get` (7.0.15).
    const SET_GET: &str = "\
\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"
\"SET\",\"20000.00\",\"0.035\",\"0.016\",\"0.023\",\"0.055\",\"0.087\",\"1.327\"
\"GET\",\"30000.00\",\"0.027\",\"0.016\",\"0.025\",\"0.047\",\"0.079\",\"1.263\"
";

    #[test]
    fn parses_and_combines() {
        let tests = parse_csv(SET_GET).unwrap();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[1].test, "GET");
        assert_eq!((tests[0].rps, tests[0].p99_ms), (20_000.0, 0.087));
        let both = combine(Combine::Both, &tests).unwrap();
        assert!((both.ops_per_sec - 24_000.0).abs() < 1e-6);
        assert_eq!(both.p50, Duration::from_micros(24));
        assert!(combine(Combine::One, &tests).is_err());
        assert!(parse_csv("").is_err());
    }

    #[test]
    fn plans() {
        let plan = Plan::of(Workload::Concurrent(64)).unwrap();
        assert_eq!(plan.args.join(" "), "-c 1 -r 1000 -d 32 -t set,get -P 64");
        assert_eq!(plan.combine, Combine::Both);
        let plan = Plan::of(Workload::Lrange).unwrap();
        assert_eq!(plan.args.join(" "), "-c 1 LRANGE bench:list 0 -1");
        assert!(Plan::of(Workload::Transaction(100)).is_none());
        assert_eq!(requests_for(&plan, 1000.0, Duration::from_secs(1)), 1000);
        assert_eq!(requests_for(&plan, 10.0, Duration::from_secs(1)), 100);
        let both = Plan::of(Workload::Concurrent(1)).unwrap();
        assert_eq!(
            requests_for(&both, 100_000.0, Duration::from_secs(1)),
            50_000
        );
        // Whole pipelines only.
        let pipe = Plan::of(Workload::PipelineGet(100)).unwrap();
        assert_eq!(
            requests_for(&pipe, 666_666.7, Duration::from_millis(500)),
            333_400
        );
    }
}
