//! `cargo xtask bench [--quick] [--criterion] [--instructions]
//! [--cluster | --no-cluster | --sentinel]
//! [--server BIN]... [-- COMPARE_ARGS...]`: respec against redis-rs, fred and `redis-benchmark` (ratios
//! in the same run), by the `respec-bench` crate, built in release.
//!
//! For each server (by default Valkey 9.1.2, as `cargo xtask servers` provides it, and
//! Redis 7.0.15, Debian's `/usr/bin/redis-server`, installed with apt when missing, as
//! `cargo xtask test --matrix` does; or each `--server BIN`), runs the `compare` binary
//! (every workload, the clients interleaved, paired ratios over rounds) into
//! `target/bench/report-<server>-<version>.md`, for example `report-valkey-9.1.2.md`.
//! Then the `allocs` binary (allocations per round trip, against the first server),
//! appended to the first server's report; with `--instructions`, the `instructions`
//! binary (instructions per operation under callgrind) against each server, appended
//! to its report. With `--criterion` it also runs the criterion micro-benchmarks of
//! RESP decoding and encoding (`cargo bench -p respec-bench`). Last, unless
//! `--no-cluster`, the cluster section (`compare --cluster`: respec's cluster client
//! against redis-rs' and fred's on a 3-primary cluster of the first server, with the
//! failover and slot migration figures) into `target/bench/report-cluster.md`;
//! `--cluster` runs that section alone. `--sentinel` runs only the sentinel section
//! (`compare --sentinel`: `SENTINEL FAILOVER` and `kill -9` of the primary under load,
//! respec's sentinel client against redis-rs' and fred's, a fresh group per run) on
//! each server, into `target/bench/report-sentinel-<server>-<version>.md`; it is not part
//! of a default run. `--quick` is a smoke run
//! of each (about a minute per server once built), not a measurement. The arguments
//! after `--` go to `compare` (`--rounds N`, `--concurrent-rounds N`, `--secs S`,
//! `--only TEXT`, `--no-baseline`, ...: see `bench/src/bin/compare.rs`).
//!
//! For a subset, run a binary directly, for example
//! `cargo run --release -p respec-bench --bin compare -- --only pipeline --rounds 3`
//! (it finds the server binary that `cargo xtask servers` recorded).

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context as _, Result};

use crate::servers::{self, SERVER_ENV};
use crate::workspace_root;

/// What `cargo xtask bench` was asked to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--quick`: a smoke run of each binary.
    pub quick: bool,
    /// `--criterion`: also the criterion micro-benchmarks.
    pub criterion: bool,
    /// `--instructions`: also instructions per operation under callgrind.
    pub instructions: bool,
    /// `--cluster`: only the cluster section.
    pub cluster: bool,
    /// `--no-cluster`: no cluster section.
    pub no_cluster: bool,
    /// `--sentinel`: only the sentinel section, on each server.
    pub sentinel: bool,
    /// `--server BIN`, repeatable: these servers instead of the default two.
    pub servers: Vec<PathBuf>,
    /// After `--`: passed to `compare` as they are.
    pub compare_args: Vec<OsString>,
}

/// Runs the benchmarks as `options` say.
pub fn run(options: &Options) -> Result<()> {
    let servers = if options.servers.is_empty() {
        let mut servers =
            vec![servers::ensure_server().context("providing a server binary for the benchmarks")?];
        // The cluster section alone runs on the first server only.
        if !options.cluster {
            servers.push(servers::ensure_debian_redis().context("providing Redis 7.0.15")?);
        }
        servers
    } else {
        options.servers.clone()
    };
    let quick: &[&str] = if options.quick { &["--quick"] } else { &[] };
    if options.cluster {
        return run_cluster(options, &servers[0]);
    }
    if options.sentinel {
        for server in &servers {
            run_sentinel(options, server)?;
        }
        return Ok(());
    }
    let mut reports = Vec::new();
    for server in &servers {
        let label = server_label(server)?;
        let report = workspace_root()
            .join("target/bench")
            .join(format!("report-{label}.md"));
        eprintln!("\n==> {label} ({})", server.display());
        let mut args = release_run("compare");
        args.extend(quick.iter().map(OsString::from));
        args.extend(path_arg("--server", server));
        args.extend(path_arg("--report", &report));
        args.extend(options.compare_args.iter().cloned());
        cargo(server, &args)?;
        if options.instructions {
            let mut args = release_run("instructions");
            args.extend(path_arg("--server", server));
            args.extend(path_arg("--report", &report));
            if options.quick {
                args.extend(["--ops", "1200"].map(OsString::from));
            }
            cargo(server, &args)?;
        }
        reports.push(report);
    }
    let mut args = release_run("allocs");
    args.extend(quick.iter().map(OsString::from));
    args.extend(path_arg("--report", &reports[0]));
    cargo(&servers[0], &args)?;
    if options.criterion {
        let mut args: Vec<OsString> = ["bench", "-p", "respec-bench", "--"]
            .map(OsString::from)
            .to_vec();
        args.extend(quick.iter().map(OsString::from));
        cargo(&servers[0], &args)?;
    }
    for report in &reports {
        eprintln!("report: {}", report.display());
    }
    if !options.no_cluster {
        run_cluster(options, &servers[0])?;
    }
    Ok(())
}

/// The cluster section: `compare --cluster` on a cluster of `server`, into
/// `target/bench/report-cluster.md`.
fn run_cluster(options: &Options, server: &Path) -> Result<()> {
    let report = workspace_root().join("target/bench/report-cluster.md");
    eprintln!("\n==> cluster ({})", server.display());
    run_section(options, server, "--cluster", &report)
}

/// The sentinel section: `compare --sentinel` on groups of `server`, into
/// `target/bench/report-sentinel-<server>-<version>.md`.
fn run_sentinel(options: &Options, server: &Path) -> Result<()> {
    let label = server_label(server)?;
    let report = workspace_root()
        .join("target/bench")
        .join(format!("report-sentinel-{label}.md"));
    eprintln!("\n==> sentinel, {label} ({})", server.display());
    run_section(options, server, "--sentinel", &report)
}

/// `compare <section>` on `server`, its report into `report`.
fn run_section(options: &Options, server: &Path, section: &str, report: &Path) -> Result<()> {
    let mut args = release_run("compare");
    args.push(OsString::from(section));
    if options.quick {
        args.push(OsString::from("--quick"));
    }
    args.extend(path_arg("--server", server));
    args.extend(path_arg("--report", report));
    args.extend(options.compare_args.iter().cloned());
    cargo(server, &args)?;
    eprintln!("report: {}", report.display());
    Ok(())
}

/// `cargo run --release -p respec-bench --bin BIN --`.
fn release_run(bin: &str) -> Vec<OsString> {
    ["run", "--release", "-p", "respec-bench", "--bin", bin, "--"]
        .map(OsString::from)
        .to_vec()
}

/// `[flag, path]` as arguments.
fn path_arg(flag: &str, path: &Path) -> [OsString; 2] {
    [OsString::from(flag), path.as_os_str().to_owned()]
}

/// `valkey-9.1.2` for `Valkey server v=9.1.2 sha=...`: the name of a server's report.
fn server_label(server: &Path) -> Result<String> {
    let line = servers::version_line(server)?;
    Ok(label_of(&line).unwrap_or_else(|| "server".to_owned()))
}

/// The label in a `--version` line: the flavor's word, lowercased, and the version.
fn label_of(line: &str) -> Option<String> {
    let flavor = line.split_whitespace().next()?.to_lowercase();
    let version = line.split_whitespace().find_map(|w| w.strip_prefix("v="))?;
    Some(format!("{flavor}-{version}"))
}

/// Runs the cargo that runs xtask (so the same toolchain) from the workspace root with
/// `args`, with `$RESPEC_SERVER` set to `server`; fails if it fails.
fn cargo(server: &Path, args: &[OsString]) -> Result<()> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        .args(args)
        .env(SERVER_ENV, server)
        .status()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    ensure!(
        status.success(),
        "cargo {} failed ({status})",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            label_of("Valkey server v=9.1.2 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64")
                .as_deref(),
            Some("valkey-9.1.2")
        );
        assert_eq!(
            label_of("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0").as_deref(),
            Some("redis-7.0.15")
        );
        assert_eq!(label_of("nonsense"), None);
    }
}
