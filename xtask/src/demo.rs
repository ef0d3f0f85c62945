//! `cargo xtask demo`: the guided tour against `$REDIS_URL`, or against a throwaway
//! server started for it (on a free loopback port, in a temp dir, killed afterwards).

use crate::{servers, workspace_root};
use anyhow::{bail, Context, Result};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Runs the tour.
pub fn run() -> Result<()> {
    let (_server, url) = match std::env::var("REDIS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let (server, url) = start_server()?;
            eprintln!("demo: started a throwaway server at {url}");
            (Some(server), url)
        }
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["run", "--quiet", "-p", "respec", "--example", "tour"])
        .env("REDIS_URL", &url)
        .status()
        .context("running the tour example")?;
    if !status.success() {
        bail!("the tour failed ({status})");
    }
    Ok(())
}
