//! `regen`, `check` and `coverage`: running `respec-codegen` over a spec and comparing
//! or writing what it produces.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use respec_codegen::{Options, Output};

use crate::args::Source;
use crate::{live, sync, workspace_root};

/// The vendored spec, relative to the workspace root.
pub(crate) const SPEC_DIR: &str = "spec/commands";
/// respec's overrides of the spec, relative to the workspace root.
const OVERRIDES: &str = "spec/overrides.toml";
/// Where the generated code lives, relative to the workspace root; owned by `regen`.
pub(crate) const OUT_DIR: &str = "protocol/src/generated";

/// Runs the generator over `spec`, or over the vendored spec when `None`.
///
/// `spec/overrides.toml` applies to every tree. For the vendored spec an override that
/// matches nothing is an error (it was fixed upstream and must be deleted); for a tree
/// the user points at, such overrides are skipped.
pub(crate) fn generate(spec: Option<PathBuf>) -> Result<Output> {
    let root = workspace_root();
    let options = Options {
        strict_overrides: spec.is_none(),
        spec_dir: spec.unwrap_or_else(|| root.join(SPEC_DIR)),
        overrides: Some(root.join(OVERRIDES)),
    };
    respec_codegen::generate(&options)
        .with_context(|| format!("generating from {}", options.spec_dir.display()))
}

/// Where `regen --from-server` writes the server's tree unless told.
pub(crate) const FROM_SERVER_DIR: &str = "target/from-server/commands";

/// `cargo xtask regen`: generates from `source` (default: the vendored spec; a
/// server's tree is first written to `save_spec`, default [`FROM_SERVER_DIR`]) into
/// `out` (default: `protocol/src/generated`), writing only the files that changed and
/// deleting the generated files that are no longer produced; prints the generator's
/// warnings to stderr and a one-line summary to stdout.
pub fn regen(
    source: Option<Source>,
    out: Option<PathBuf>,
    save_spec: Option<PathBuf>,
) -> Result<()> {
    let start = Instant::now();
    let out = out.unwrap_or_else(|| workspace_root().join(OUT_DIR));
    let spec = match source {
        None => None,
        Some(Source::Spec(dir)) => Some(dir),
        Some(Source::Server(url)) => {
            let capture = live::Capture::read(&url)?;
            let dir = save_spec.unwrap_or_else(|| workspace_root().join(FROM_SERVER_DIR));
            capture.write(&dir)?;
            println!("regen: {} -> {}", capture.summary(), dir.display());
            Some(dir)
        }
    };
    let output = generate(spec)?;
    for warning in &output.warnings {
        eprintln!("warning: {warning}");
    }
    let applied = sync::sync(&out, &output.files)?;
    println!(
        "regen: {} written, {} unchanged, {} deleted in {} ({} ms)",
        applied.written,
        applied.unchanged,
        applied.deleted,
        out.display(),
        start.elapsed().as_millis()
    );
    Ok(())
}

/// Generates from the vendored spec in memory and fails, listing every differing,
/// missing and extra `.rs` file, unless `protocol/src/generated` holds exactly that;
/// returns the number of generated files.
///
/// `cargo xtask check`, `cargo xtask test` and the `generated_code_is_fresh` test all
/// run this.
pub fn ensure_fresh() -> Result<usize> {
    let output = generate(None)?;
    let diff = sync::compare(&workspace_root().join(OUT_DIR), &output.files)?;
    if !diff.is_clean() {
        bail!(
            "{OUT_DIR} is stale: it differs from what the generator produces from {SPEC_DIR}\n{}\
             run `cargo xtask regen` to update it",
            diff.report()
        );
    }
    Ok(output.files.len())
}

/// `cargo xtask check`: [`ensure_fresh`] and the checked-in extensions'
/// [`crate::ext::ensure_fresh`], reporting success on stdout.
pub fn check() -> Result<()> {
    let count = ensure_fresh()?;
    println!("check: {OUT_DIR} is up to date ({count} files)");
    let extensions = crate::ext::ensure_fresh()?;
    println!("check: the checked-in extensions are up to date ({extensions})");
    Ok(())
}

/// `cargo xtask coverage`: prints the generator's coverage lines for the vendored spec,
/// and nothing else, on stdout.
pub fn coverage(exercised: bool) -> Result<()> {
    let coverage = generate(None)?.coverage;
    for line in coverage.lines() {
        println!("{line}");
    }
    if exercised {
        for line in crate::exercised::lines(&coverage)? {
            println!("{line}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` fails when `protocol/src/generated` is stale, exactly as
    /// `cargo xtask check` does.
    #[test]
    fn generated_code_is_fresh() {
        if let Err(err) = super::ensure_fresh() {
            panic!("{err:#}");
        }
        if let Err(err) = crate::ext::ensure_fresh() {
            panic!("{err:#}");
        }
    }
}
