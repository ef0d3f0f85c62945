//! The command line of `cargo xtask`, parsed by hand: four subcommands and two options
//! do not need an argument-parsing crate.

use std::ffi::OsString;
use std::path::PathBuf;

/// What `cargo xtask help` prints.
pub const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  regen [--spec DIR] [--out DIR]
              Regenerate the typed command API from the command spec: write the files
              that changed and delete generated .rs files that are no longer generated.
                --spec DIR  the spec to read (default: spec/commands, the vendored spec).
                            Any Redis >= 7.0 or Valkey src/commands directory works;
                            overrides in spec/overrides.toml that match nothing in it
                            are skipped instead of failing.
                --out DIR   where to write (default: client/src/generated)
  check       Fail if client/src/generated differs from what `regen` would write
  coverage    Print how much of the vendored spec is generated and typed
  test [ARGS...]
              Run `check`, then `cargo test --workspace [ARGS...]` from the workspace root
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
        /// `--spec DIR`: a spec other than the vendored one.
        spec: Option<PathBuf>,
        /// `--out DIR`: an output directory other than `client/src/generated`.
        out: Option<PathBuf>,
    },
    /// Compare the generated code on disk with a fresh generation.
    Check,
    /// Print the coverage lines of the vendored spec.
    Coverage,
    /// Check, then run the workspace's tests.
    Test {
        /// Passed on to `cargo test --workspace` verbatim.
        cargo_args: Vec<OsString>,
    },
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
        Some("check") => Command::Check,
        Some("coverage") => Command::Coverage,
        Some("test") => {
            return Ok(Command::Test {
                cargo_args: args.collect(),
            })
        }
        _ => return Err(format!("unknown command {name:?}")),
    };
    match args.next() {
        Some(extra) => Err(format!("unexpected argument {extra:?}")),
        None => Ok(command),
    }
}

/// Parses the options of `regen`: `--spec DIR` and `--out DIR`, each at most once, also
/// accepted as `--spec=DIR` and `--out=DIR`.
fn parse_regen(mut args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let (mut spec, mut out) = (None, None);
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) => (flag, Some(OsString::from(value))),
            None => (text, None),
        };
        let slot: &mut Option<PathBuf> = match flag {
            "--spec" => &mut spec,
            "--out" => &mut out,
            _ => return Err(format!("unexpected argument {text:?}")),
        };
        if slot.is_some() {
            return Err(format!("{flag} given twice"));
        }
        match inline.or_else(|| args.next()) {
            Some(dir) if !dir.is_empty() => *slot = Some(PathBuf::from(dir)),
            _ => return Err(format!("{flag} needs a directory")),
        }
    }
    Ok(Command::Regen { spec, out })
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
        assert_eq!(parse_strs(&["coverage"]), Ok(Command::Coverage));
        assert_eq!(
            parse_strs(&["regen"]),
            Ok(Command::Regen {
                spec: None,
                out: None
            })
        );
        assert_eq!(
            parse_strs(&["regen", "--out", "o", "--spec=s"]),
            Ok(Command::Regen {
                spec: Some("s".into()),
                out: Some("o".into())
            })
        );
        assert_eq!(
            parse_strs(&["test", "-p", "respec", "--", "--nocapture"]),
            Ok(Command::Test {
                cargo_args: ["-p", "respec", "--", "--nocapture"]
                    .map(OsString::from)
                    .to_vec()
            })
        );
    }

    /// Mistakes are reported rather than ignored.
    #[test]
    fn rejects_bad_command_lines() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["check", "extra"],
            &["regen", "--spec"],
            &["regen", "--spec="],
            &["regen", "--spec", "a", "--spec", "b"],
            &["regen", "--bogus"],
            &["regen", "positional"],
        ] {
            assert!(parse_strs(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
