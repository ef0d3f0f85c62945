//! [`HarnessError`]: why a server could not be found or started.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Why the harness could not provide a server.
///
/// [`HarnessError::is_unavailable`] separates "this machine cannot run that kind of
/// server" (a test should skip, printing the reason) from real failures (a test should
/// fail). The variants that concern a started process carry its log, so the error's
/// `Display` alone explains what the server said.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// An optional kind of server cannot run here (no TLS-capable binary); the message
    /// says what was tried and how to provide one.
    #[error("{0}")]
    Unavailable(String),
    /// No server binary, or a variable names a file that is not one: the message says
    /// what was tried and how to provide one. Not [`HarnessError::is_unavailable`]:
    /// every machine that runs the tests must have a server.
    #[error("{0}")]
    NoBinary(String),
    /// An I/O operation of the harness itself failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Generating the test certificates failed.
    #[error("generating TLS certificates: {0}")]
    Cert(#[from] rcgen::Error),
    /// The server process exited before it was ready.
    #[error("{} exited during startup ({status})\n--- server log ---\n{log}--- end of log ---", binary.display())]
    Exited {
        /// The binary that was started.
        binary: PathBuf,
        /// How it exited.
        status: ExitStatus,
        /// Its log file and captured stdout/stderr.
        log: String,
    },
    /// A cluster ([`crate::Cluster`]) could not be formed or did not reach a state in
    /// time; the message says which condition was not met, and on which node.
    #[error("cluster: {0}")]
    Cluster(String),
    /// A sentinel group ([`crate::SentinelGroup`]) could not be set up or did not reach
    /// a state in time; the message says which condition was not met, and where.
    #[error("sentinel group: {0}")]
    Sentinel(String),
    /// The server process did not become ready in time (it has been killed).
    #[error("{} was not ready after {waited:?}\n--- server log ---\n{log}--- end of log ---", binary.display())]
    NotReady {
        /// The binary that was started.
        binary: PathBuf,
        /// How long the harness waited.
        waited: Duration,
        /// Its log file and captured stdout/stderr.
        log: String,
    },
}

impl HarnessError {
    /// True when the error means "not available on this machine": a test that needs
    /// the missing server should print the error and skip rather than fail.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, HarnessError::Unavailable(_))
    }

    /// True when the server exited because its port was taken (a race with another
    /// process between choosing a free port and the server binding it).
    pub(crate) fn is_addr_in_use(&self) -> bool {
        matches!(self, HarnessError::Exited { log, .. } if log.contains("Address already in use"))
    }

    /// Wraps an I/O error with what the harness was doing.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        HarnessError::Io {
            context: context.into(),
            source,
        }
    }
}
