//! Instructions per operation, counted by callgrind (`valgrind --tool=callgrind`): user
//! space instructions (`Ir`) of every thread of one process, the kernel's work not
//! included. A count is made twice, with few and with many operations, and the
//! difference divided by the difference of operations, so that starting the process,
//! connecting and shutting down cancel out.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{ensure, Context as _, Result};

/// Where Debian's `valgrind` package puts it.
pub const DEFAULT_VALGRIND: &str = "/usr/bin/valgrind";

/// One program's instruction count for one number of operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// The operations the program did.
    pub ops: u64,
    /// The instructions it executed, in total (callgrind's `summary`).
    pub instructions: u64,
}

/// The marginal instructions per operation between two counts: the startup and
/// shutdown costs, the same in both, cancel out.
pub fn per_op(few: Count, many: Count) -> Result<f64> {
    ensure!(
        many.ops > few.ops,
        "the counts need different numbers of operations ({} and {})",
        few.ops,
        many.ops
    );
    Ok((many.instructions as f64 - few.instructions as f64) / (many.ops - few.ops) as f64)
}

/// Runs `program args` under callgrind, writing its output file into `dir`, and returns
/// the total instruction count. The program's own output is discarded unless it fails.
pub fn count_instructions(
    valgrind: &Path,
    dir: &Path,
    program: &Path,
    args: &[String],
) -> Result<u64> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let out_file: PathBuf = dir.join(format!(
        "callgrind.{}.{}.out",
        program
            .file_name()
            .map_or("program".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let output = Command::new(valgrind)
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", valgrind.display()))?;
    ensure!(
        output.status.success(),
        "{} {} {} failed ({}): {}",
        valgrind.display(),
        program.display(),
        args.join(" "),
        output.status,
        tail(&String::from_utf8_lossy(&output.stderr))
    );
    let text = std::fs::read_to_string(&out_file)
        .with_context(|| format!("reading {}", out_file.display()))?;
    let _ = std::fs::remove_file(&out_file);
    parse_total(&text).with_context(|| format!("in {}", out_file.display()))
}

/// The last lines of a program's error output.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// The total of the first event (`Ir` by default) in a callgrind output file: its
/// `summary:` line, else its `totals:` line.
pub fn parse_total(text: &str) -> Result<u64> {
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
    };
    let total = line("summary:")
        .or_else(|| line("totals:"))
        .context("no summary: or totals: line")?;
    total
        .parse()
        .with_context(|| format!("the total {total:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_differences() {
        let text = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\nsummary: 123456\n\ntotals: 123456\n";
        assert_eq!(parse_total(text).unwrap(), 123_456);
        assert_eq!(parse_total("totals: 7\n").unwrap(), 7);
        assert!(parse_total("events: Ir\n").is_err());
        let few = Count {
            ops: 1_000,
            instructions: 5_000_000,
        };
        let many = Count {
            ops: 6_000,
            instructions: 15_000_000,
        };
        assert_eq!(per_op(few, many).unwrap(), 2_000.0);
        assert!(per_op(many, few).is_err());
    }
}
