//! `cargo xtask test`: the one command that proves the workspace (DESIGN §7); `.ci/run`
//! calls exactly this.

use std::env;
use std::ffi::OsString;
use std::process::Command;

use anyhow::{ensure, Context as _, Result};

use crate::{codegen, workspace_root};

/// Checks that the generated code is fresh, then runs `cargo test --workspace` with
/// `cargo_args` appended, from the workspace root, with inherited stdio; fails if the
/// tests fail.
///
/// The integration tests will need a server binary. The issue that brings the runtime
/// adds that step first, before anything else here: use `$RESPEC_SERVER`, else a
/// `valkey-server`/`redis-server` on PATH, else install one (`cargo xtask servers`).
/// Until then the tests do not start servers and nothing is ensured.
pub fn run(cargo_args: &[OsString]) -> Result<()> {
    codegen::check()?;

    // `CARGO` is the cargo that runs xtask (set by `cargo run`), so the tests use the
    // same toolchain.
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        .args(["test", "--workspace"])
        .args(cargo_args)
        .status()
        .with_context(|| format!("running {}", cargo.to_string_lossy()))?;
    ensure!(status.success(), "cargo test --workspace failed ({status})");
    Ok(())
}
