//! `cargo xtask`: respec's maintenance tasks, run with the workspace's own toolchain
//! (the `xtask` alias is in `.cargo/config.toml`).
//!
//! - [`codegen`]: `regen`, `check` and `coverage`, driving `respec-codegen`.
//! - [`ext`]: `ext`, extension traits for module commands (FalkorDB's, checked in).
//! - [`live`]: reading a running server's command tree.
//! - [`regen_check`]: `regen-check`, regenerating and compiling derived spec trees.
//! - [`servers`]: `servers`, finding or installing the server binaries the tests run.
//! - [`sync`]: comparing a generated tree with a directory and making them match.
//! - [`test_all`]: `test`, the command CI runs.
//! - [`bench`]: `bench`, respec against its peers (the `respec-bench` crate).
//! - [`args`]: the command line and `cargo xtask help`.

mod args;
mod bench;
mod codegen;
mod demo;
mod exercised;
mod ext;
mod live;
mod regen_check;
mod servers;
mod sync;
mod test_all;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use args::Command;

/// Parses the command line and runs the command; exits with 2 on a usage error, 1 when
/// the command fails.
fn main() -> ExitCode {
    let command = match args::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            print!("{}", args::USAGE);
            Ok(())
        }
        Command::Regen {
            source,
            out,
            save_spec,
        } => codegen::regen(source, out, save_spec),
        Command::Ext(ext) => ext::run(&ext),
        Command::Check => codegen::check(),
        Command::RegenCheck => regen_check::run(),
        Command::Coverage { exercised } => codegen::coverage(exercised),
        Command::Servers { tls } => servers::run(tls),
        Command::Demo => demo::run(),
        Command::Compat { url } => demo::compat(&url),
        Command::Test {
            servers,
            cargo_args,
        } => test_all::run(&servers, &cargo_args),
        Command::Bench(options) => bench::run(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent directory")
        .to_path_buf()
}
