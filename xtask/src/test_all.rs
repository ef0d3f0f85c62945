//! `cargo xtask test`: the one command that proves the workspace (ARCHITECTURE.md §6); `.ci/run`
//! calls exactly this.

use std::env;
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{ensure, Context as _, Result};

use crate::servers::{self, FALKORDB_SERVER_ENV, SERVER_ENV, TLS_SERVER_ENV};
use crate::{codegen, workspace_root};

/// Ensures the server binaries (as `cargo xtask servers --tls`), checks that the
/// generated code is fresh and (except with `--matrix`) that derived spec trees
/// regenerate and compile (`cargo xtask regen-check`), then runs `cargo test --workspace` with `cargo_args`
/// appended, from the workspace root, with inherited stdio and `RESPEC_SERVER` /
/// `RESPEC_TLS_SERVER` set to the binaries; fails if the tests fail.
///
/// A missing plain server is an error; a missing TLS-capable server is a warning, and
/// the TLS tests skip with a printed reason.
pub fn run(servers_to_use: &Servers, cargo_args: &[OsString]) -> Result<()> {
    let tls = |plain: &std::path::Path| match servers::ensure_tls_server(plain) {
        Ok(path) => Some(path),
        Err(err) => {
            eprintln!("warning: no TLS-capable server, the TLS tests will skip: {err:#}");
            None
        }
    };
    let runs: Vec<(String, PathBuf)> = match servers_to_use {
        Servers::Default => vec![(
            "default".into(),
            servers::ensure_server()
                .context("providing a server binary for the integration tests")?,
        )],
        Servers::One(path) => vec![(path.display().to_string(), path.clone())],
        Servers::Matrix | Servers::Others => {
            let mut runs = vec![
                ("Redis 7.0.15".into(), servers::ensure_debian_redis()?),
                ("Redis 8.2.3".into(), servers::ensure_redis8()?),
            ];
            if *servers_to_use == Servers::Matrix {
                runs.insert(0, ("Valkey 9.1.2".into(), servers::ensure_server()?));
            }
            runs
        }
    };
    // The TLS tests' server comes from the first server of the run, and from the
    // reference server for `--other-servers`, as it does for the whole matrix.
    let tls_server = match servers_to_use {
        Servers::Others => tls(&servers::ensure_server()?),
        _ => tls(&runs[0].1),
    };
    // Redis 8.2.3 with FalkorDB's module, for the extension-trait test (it skips
    // without, outside CI).
    let falkordb = match servers::ensure_redis8() {
        Ok(path) => Some(path),
        Err(err) => {
            eprintln!(
                "warning: no Redis 8.2.3 with falkordb.so, the FalkorDB test will skip: {err:#}"
            );
            None
        }
    };

    codegen::check()?;
    if !matches!(servers_to_use, Servers::Matrix | Servers::Others) {
        // Derived trees regenerate and compile (once: not for every server).
        crate::regen_check::run()?;
        // The servers the tests start record what they ran; start from nothing.
        crate::exercised::clear()?;
        let outcome = cargo_test(
            &runs[0].1,
            tls_server.as_deref(),
            falkordb.as_deref(),
            cargo_args,
            false,
        )?;
        ensure!(outcome.success, "cargo test --workspace failed");
        // What the suite made the servers run (`cargo xtask coverage --exercised`).
        return codegen::coverage(true);
    }
    let mut table = vec![
        "| server | passed | skipped | failed |".to_owned(),
        "|---|---:|---:|---:|".to_owned(),
    ];
    let mut all_ok = true;
    for (name, path) in &runs {
        eprintln!("\n==> the suite against {name} ({})", path.display());
        let o = cargo_test(
            path,
            tls_server.as_deref(),
            falkordb.as_deref(),
            cargo_args,
            true,
        )?;
        all_ok &= o.success;
        table.push(format!(
            "| {name} | {} | {} | {} |",
            o.passed, o.skipped, o.failed
        ));
    }
    println!("\n{}", table.join("\n"));
    ensure!(all_ok, "the suite failed against at least one server");
    Ok(())
}

/// Which servers `cargo xtask test` runs the suite against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Servers {
    /// The reference server (Valkey 9.1.2), as `cargo xtask servers` provides it.
    Default,
    /// `--server BIN`.
    One(PathBuf),
    /// `--matrix`: Valkey 9.1.2, Redis 7.0.15, Redis 8.2.3.
    Matrix,
    /// `--other-servers`: the matrix without the reference server (Redis 7.0.15 and
    /// Redis 8.2.3), for CI, which has just run the plain `test` against Valkey 9.1.2.
    Others,
}

/// What one `cargo test --workspace` run counted.
struct Outcome {
    success: bool,
    passed: u64,
    failed: u64,
    skipped: u64,
}

/// Runs `cargo test --workspace` with `server` as the test server. With `capture`, the
/// output is printed as it comes and also parsed for the counts.
fn cargo_test(
    server: &std::path::Path,
    tls_server: Option<&std::path::Path>,
    falkordb: Option<&std::path::Path>,
    cargo_args: &[OsString],
    capture: bool,
) -> Result<Outcome> {
    let skipped_file = servers::servers_dir().join("skipped.txt");
    let _ = std::fs::remove_file(&skipped_file);
    // `CARGO` is the cargo that runs xtask (set by `cargo run`), so the tests use the
    // same toolchain.
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace_root())
        .args(["test", "--workspace"]);
    if capture {
        // A failing test binary must not hide the results of the others.
        command.arg("--no-fail-fast");
    }
    command.args(cargo_args).env(SERVER_ENV, server);
    match tls_server {
        Some(path) => command.env(TLS_SERVER_ENV, path),
        None => command.env_remove(TLS_SERVER_ENV),
    };
    match falkordb {
        Some(path) => command.env(FALKORDB_SERVER_ENV, path),
        None => command.env_remove(FALKORDB_SERVER_ENV),
    };
    let describe = || format!("running {}", cargo.to_string_lossy());
    let skipped = || std::fs::read_to_string(&skipped_file).map_or(0, |t| t.lines().count() as u64);
    if !capture {
        let status = command.status().with_context(describe)?;
        return Ok(Outcome {
            success: status.success(),
            passed: 0,
            failed: 0,
            skipped: skipped(),
        });
    }
    // Printed as it comes (a run that hangs shows where), and kept for the counts.
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(describe)?;
    let err_pipe = child.stderr.take().context("the tests' stderr")?;
    // Read to the end whatever the bytes (a line that is not UTF-8 must not stop
    // the reading, or the tests would block on a full pipe).
    let errors = std::thread::spawn(move || {
        for line in BufReader::new(err_pipe).split(b'\n').map_while(Result::ok) {
            eprintln!("{}", String::from_utf8_lossy(&line));
        }
    });
    let mut out = String::new();
    let out_pipe = child.stdout.take().context("the tests' stdout")?;
    for line in BufReader::new(out_pipe).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line);
        println!("{line}");
        out.push_str(&line);
        out.push('\n');
    }
    let _ = errors.join();
    let status = child.wait().with_context(describe)?;
    let (mut passed, mut failed) = (0, 0);
    for line in out.lines().filter(|l| l.starts_with("test result:")) {
        let num = |word: &str| {
            line.split(';')
                .find_map(|part| part.trim().strip_suffix(word))
                .and_then(|n| n.split_whitespace().last()?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        passed += num(" passed");
        failed += num(" failed");
    }
    Ok(Outcome {
        success: status.success(),
        passed,
        failed,
        skipped: skipped(),
    })
}
