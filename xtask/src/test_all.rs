//! `cargo xtask test`: the one command that proves the workspace (DESIGN §7); `.ci/run`
//! calls exactly this.

use std::env;
use std::ffi::OsString;
use std::process::Command;

use anyhow::{ensure, Context as _, Result};

use crate::servers::{self, SERVER_ENV, TLS_SERVER_ENV};
use crate::{codegen, workspace_root};

/// Ensures the server binaries (as `cargo xtask servers --tls`), checks that the
/// generated code is fresh, then runs `cargo test --workspace` with `cargo_args`
/// appended, from the workspace root, with inherited stdio and `RESPEC_SERVER` /
/// `RESPEC_TLS_SERVER` set to the binaries; fails if the tests fail.
///
/// A missing plain server is an error; a missing TLS-capable server is a warning, and
/// the TLS tests skip with a printed reason.
pub fn run(cargo_args: &[OsString]) -> Result<()> {
    let server =
        servers::ensure_server().context("providing a server binary for the integration tests")?;
    let tls_server = match servers::ensure_tls_server(&server) {
        Ok(path) => Some(path),
        Err(err) => {
            eprintln!("warning: no TLS-capable server, the TLS tests will skip: {err:#}");
            None
        }
    };

    codegen::check()?;
    // The servers the tests start record what they ran; start from nothing.
    crate::exercised::clear()?;

    // `CARGO` is the cargo that runs xtask (set by `cargo run`), so the tests use the
    // same toolchain.
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace_root())
        .args(["test", "--workspace"])
        .args(cargo_args)
        .env(SERVER_ENV, &server);
    match &tls_server {
        Some(path) => command.env(TLS_SERVER_ENV, path),
        None => command.env_remove(TLS_SERVER_ENV),
    };
    let status = command
        .status()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    ensure!(status.success(), "cargo test --workspace failed ({status})");
    // What the suite made the servers run (`cargo xtask coverage --exercised`).
    codegen::coverage(true)
}
