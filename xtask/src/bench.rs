//! `cargo xtask bench [--quick] [--criterion]`: respec against redis-rs and fred
//! (ratios in the same run), by the `respec-bench` crate, built in release.
//!
//! Makes sure a server binary exists (as `cargo xtask servers`), then runs the
//! `compare` binary (every workload, the clients interleaved, medians over rounds:
//! about 5 minutes) and the `allocs` binary (allocations per round trip). Both print
//! markdown tables; `target/bench/report.md` gets both. With `--criterion` it also runs
//! the criterion micro-benchmarks of RESP decoding and encoding
//! (`cargo bench -p respec-bench`). `--quick` is a smoke run of each (well under a
//! minute once built), not a measurement.
//!
//! For a subset, run the binary directly, for example
//! `cargo run --release -p respec-bench --bin compare -- --only pipeline --rounds 3`
//! (it finds the server binary that `cargo xtask servers` recorded).

use std::env;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context as _, Result};

use crate::servers::{self, SERVER_ENV};
use crate::workspace_root;

/// Runs the benchmarks; `quick` passes `--quick` to each, `criterion` adds the
/// criterion benchmarks.
pub fn run(quick: bool, criterion: bool) -> Result<()> {
    let server =
        servers::ensure_server().context("providing a server binary for the benchmarks")?;
    let quick_args: &[&str] = if quick { &["--quick"] } else { &[] };
    for bin in ["compare", "allocs"] {
        cargo(
            &server,
            &["run", "--release", "-p", "respec-bench", "--bin", bin, "--"],
            quick_args,
        )?;
    }
    if criterion {
        cargo(&server, &["bench", "-p", "respec-bench", "--"], quick_args)?;
    }
    eprintln!(
        "report: {}",
        workspace_root().join("target/bench/report.md").display()
    );
    Ok(())
}

/// Runs the cargo that runs xtask (so the same toolchain) from the workspace root with
/// `args` then `extra`, with `$RESPEC_SERVER` set to `server`; fails if it fails.
fn cargo(server: &Path, args: &[&str], extra: &[&str]) -> Result<()> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        .args(args)
        .args(extra)
        .env(SERVER_ENV, server)
        .status()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    ensure!(
        status.success(),
        "cargo {} failed ({status})",
        args.join(" ")
    );
    Ok(())
}
