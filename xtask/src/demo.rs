//! `cargo xtask demo`: the guided tour (`client/examples/tour.rs`), then every other
//! example in `client/examples/` (found by listing the directory, in name order), each
//! with `cargo run -p respec --example NAME`, against `$REDIS_URL` or against a
//! throwaway server started for them (on a free loopback port, in a temp dir, killed
//! afterwards), the cluster example against `$REDIS_CLUSTER_URL` or a throwaway
//! 3-node cluster (the test harness's `throwaway_cluster` binary), and the sentinel
//! example against `$REDIS_SENTINEL_URL` or a throwaway sentinel group
//! (`throwaway_sentinel`).
//!
//! Each example asserts its results, so a broken one exits non-zero; the demo runs
//! them all, then fails naming every example that failed or ran longer than
//! [`EXAMPLE_TIMEOUT`]. CI runs it. The tour flushes the database it is given; the
//! other examples touch only keys under their own `example:<name>:` prefix (and
//! `scripts` flushes the server's script cache, `functions` loads the library
//! `example_counters`).

use crate::{servers, workspace_root};
use anyhow::{bail, Context, Result};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The example run first: the guided tour.
const TOUR: &str = "tour";

/// How long one example may run before it is killed and counted as failed.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(300);

/// A server process that is killed when dropped.
struct Throwaway {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the server binary on a free port and waits until it accepts connections.
fn start_server() -> Result<(Throwaway, String)> {
    let binary = servers::ensure_server()?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("respec-demo-{port}"));
    std::fs::create_dir_all(&dir)?;
    let child = Command::new(&binary)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let server = Throwaway { child, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    // Wait for the port to accept connections (a condition, polled with a short pause).
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the demo server did not start listening on port {port} within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((server, format!("redis://127.0.0.1:{port}")))
}

/// A throwaway topology (the test harness's `throwaway_cluster` or
/// `throwaway_sentinel` binary), killed when dropped (its standard input closes, and
/// it is killed as well).
struct Topology {
    child: Child,
}

impl Drop for Topology {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Starts the harness's `bin` (a 3-node cluster, a sentinel group); returns it and
/// the URL it prints, which must start with `scheme`.
fn start_throwaway(cargo: &std::ffi::OsStr, bin: &str, scheme: &str) -> Result<(Topology, String)> {
    let binary = servers::ensure_server()?;
    let mut child = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["run", "--quiet", "-p", "respec-tests", "--bin", bin])
        .env("RESPEC_SERVER", &binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {bin}"))?;
    let stdout = child.stdout.take().context("its stdout")?;
    let throwaway = Topology { child };
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with(scheme) {
        bail!("{bin} did not start (it printed {line:?})");
    }
    Ok((throwaway, url))
}

/// `$var`, or a throwaway topology started with [`start_throwaway`].
fn url_or_throwaway(
    cargo: &std::ffi::OsStr,
    var: &str,
    bin: &str,
    scheme: &str,
) -> Result<(Option<Topology>, String)> {
    match std::env::var(var) {
        Ok(url) => Ok((None, url)),
        Err(_) => {
            let (throwaway, url) = start_throwaway(cargo, bin, scheme)?;
            eprintln!("demo: started {bin} at {url}");
            Ok((Some(throwaway), url))
        }
    }
}

/// The examples in `dir` (its `*.rs` files), the tour first, then in name order.
fn examples(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_owned());
            }
        }
    }
    names.sort_by_key(|n| (n != TOUR, n.clone()));
    if names.first().map(String::as_str) != Some(TOUR) {
        bail!("{} has no {TOUR}.rs", dir.display());
    }
    Ok(names)
}

/// Runs one example with `cargo run`; `Ok(None)` when it ran past the timeout (it
/// is killed: `cargo run` execs the example on Unix, so the child is the example).
fn run_example(
    cargo: &std::ffi::OsStr,
    name: &str,
    url: &str,
    cluster_url: &str,
    sentinel_url: &str,
) -> Result<Option<ExitStatus>> {
    let mut child = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "respec",
            "--all-features",
            "--example",
            name,
        ])
        .env("REDIS_URL", url)
        .env("REDIS_CLUSTER_URL", cluster_url)
        .env("REDIS_SENTINEL_URL", sentinel_url)
        .spawn()
        .with_context(|| format!("running the {name} example"))?;
    let deadline = Instant::now() + EXAMPLE_TIMEOUT;
    // Wait for the process to exit (a condition, polled with a short pause).
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `cargo xtask compat --url URL`: runs the compatibility example against `url`,
/// which prints the report.
pub fn compat(url: &str) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "respec",
            "--example",
            "compatibility",
        ])
        .env("REDIS_URL", url)
        .status()
        .context("running the compatibility example")?;
    if !status.success() {
        bail!("the compatibility example failed ({status})");
    }
    Ok(())
}

/// Runs the tour and every other example; fails if any of them fails.
pub fn run() -> Result<()> {
    let (_server, url) = match std::env::var("REDIS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let (server, url) = start_server()?;
            eprintln!("demo: started a throwaway server at {url}");
            (Some(server), url)
        }
    };
    let names = examples(&workspace_root().join("client").join("examples"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Build them all at once (in parallel), so each run below only runs.
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        // Every feature: the examples of optional parts (the cache) run too.
        .args([
            "build",
            "--quiet",
            "-p",
            "respec",
            "--all-features",
            "--examples",
        ])
        .status()
        .context("building the examples")?;
    if !status.success() {
        bail!("building the examples failed ({status})");
    }
    let (_cluster, cluster_url) = url_or_throwaway(
        &cargo,
        "REDIS_CLUSTER_URL",
        "throwaway_cluster",
        "redis+cluster://",
    )?;
    let (_sentinels, sentinel_url) = url_or_throwaway(
        &cargo,
        "REDIS_SENTINEL_URL",
        "throwaway_sentinel",
        "redis+sentinel://",
    )?;
    let mut failed = Vec::new();
    for name in &names {
        eprintln!("\n==> example {name}");
        let started = Instant::now();
        match run_example(&cargo, name, &url, &cluster_url, &sentinel_url)? {
            Some(status) if status.success() => {
                eprintln!("--> {name}: ok ({:.1} s)", started.elapsed().as_secs_f64());
            }
            Some(status) => {
                eprintln!("--> {name}: FAILED ({status})");
                failed.push(format!("{name} ({status})"));
            }
            None => {
                eprintln!("--> {name}: FAILED (killed after {EXAMPLE_TIMEOUT:?})");
                failed.push(format!("{name} (timed out)"));
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} examples failed: {}",
            failed.len(),
            names.len(),
            failed.join(", ")
        );
    }
    eprintln!(
        "\ndemo: all {} examples passed ({})",
        names.len(),
        names.join(", ")
    );
    Ok(())
}
