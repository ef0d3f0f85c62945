//! Comparing a generated tree held in memory with a directory on disk, and making the
//! directory match it: rust-analyzer's `ensure_file_contents`, for a whole directory.
//!
//! The directory is owned by the generator, so a `.rs` file in it that the generator no
//! longer produces is stale. Files of other kinds are left alone. As a guard against
//! `regen --out` pointing at the wrong directory, only files that carry the generated
//! header ([`GENERATED_MARKER`]) are ever overwritten or deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read as _};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// Text that the header of every generated file contains (ARCHITECTURE.md §5: it names
/// `cargo xtask regen` as the file's only author).
pub const GENERATED_MARKER: &str = "cargo xtask regen";

/// How many bytes from the start of a file are searched for [`GENERATED_MARKER`].
const HEADER_LEN: u64 = 1024;

/// How a directory differs from the files the generator produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Generated files whose content on disk differs (paths as the generator names them).
    pub changed: Vec<String>,
    /// Generated files that are not on disk.
    pub missing: Vec<String>,
    /// `.rs` files on disk that the generator did not produce (relative to the directory).
    pub extra: Vec<PathBuf>,
    /// How many generated files are on disk with the right content.
    pub unchanged: usize,
}

impl Diff {
    /// Whether the directory holds exactly the generated `.rs` files, byte for byte.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }

    /// One line per differing file (`changed`, `missing` or `extra`, then its path).
    pub fn report(&self) -> String {
        let mut report = String::new();
        for path in &self.changed {
            let _ = writeln!(report, "  changed  {path}");
        }
        for path in &self.missing {
            let _ = writeln!(report, "  missing  {path}");
        }
        for path in &self.extra {
            let _ = writeln!(report, "  extra    {}", path.display());
        }
        report
    }
}

/// Compares `dir` with `files` (paths relative to `dir`, `/`-separated, as
/// `respec_codegen::Output::files` names them). A `dir` that does not exist is empty.
///
/// Line endings are compared loosely (`\r\n` equals `\n`), so that a checkout that
/// converted them does not count as stale.
pub fn compare(dir: &Path, files: &BTreeMap<String, String>) -> Result<Diff> {
    let mut diff = Diff::default();
    let mut expected = BTreeSet::new();
    for (name, contents) in files {
        let relative = relative_path(name)?;
        let path = dir.join(&relative);
        expected.insert(relative);
        match fs::read_to_string(&path) {
            Ok(on_disk) if normalize_newlines(&on_disk) == normalize_newlines(contents) => {
                diff.unchanged += 1
            }
            Ok(_) => diff.changed.push(name.clone()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => diff.missing.push(name.clone()),
            // Not UTF-8: certainly not what the generator wrote.
            Err(err) if err.kind() == io::ErrorKind::InvalidData => diff.changed.push(name.clone()),
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }
    let mut on_disk = Vec::new();
    if dir.exists() {
        rs_files(dir, Path::new(""), &mut on_disk)?;
    }
    on_disk.sort();
    diff.extra = on_disk
        .into_iter()
        .filter(|path| !expected.contains(path))
        .collect();
    Ok(diff)
}

/// What [`sync`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Files created or overwritten.
    pub written: usize,
    /// Files already right.
    pub unchanged: usize,
    /// Stale files deleted.
    pub deleted: usize,
}

/// Makes `dir` match `files` (see [`compare`]): writes changed and missing files
/// (creating directories), deletes extra `.rs` files, then removes the directories under
/// `dir` left empty.
///
/// Nothing is touched unless every file to be overwritten or deleted carries
/// [`GENERATED_MARKER`] in its header.
pub fn sync(dir: &Path, files: &BTreeMap<String, String>) -> Result<Applied> {
    let diff = compare(dir, files)?;
    let mut foreign = Vec::new();
    let replaced = diff.changed.iter().map(PathBuf::from);
    for relative in replaced.chain(diff.extra.iter().cloned()) {
        if !is_generated(&dir.join(&relative))? {
            foreign.push(relative);
        }
    }
    if !foreign.is_empty() {
        let list: String = foreign
            .iter()
            .map(|path| format!("\n  {}", path.display()))
            .collect();
        bail!(
            "refusing to overwrite or delete files in {} that lack the generated header \
             (\"{GENERATED_MARKER}\"); move them away or delete them by hand:{list}",
            dir.display()
        );
    }

    let Diff {
        changed,
        missing,
        extra,
        unchanged,
    } = diff;
    for name in changed.iter().chain(&missing) {
        let path = dir.join(relative_path(name)?);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&path, &files[name]).with_context(|| format!("writing {}", path.display()))?;
    }
    for relative in &extra {
        let path = dir.join(relative);
        fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))?;
    }
    if dir.exists() {
        remove_empty_dirs(dir)?;
    }
    Ok(Applied {
        written: changed.len() + missing.len(),
        unchanged,
        deleted: extra.len(),
    })
}

/// Turns a generated file's name into a relative path, rejecting names that could
/// escape the output directory (absolute, `..`, empty).
fn relative_path(name: &str) -> Result<PathBuf> {
    let path = PathBuf::from(name);
    let plain = path
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    if !plain || path.as_os_str().is_empty() {
        bail!("the generator produced a file named {name:?}, which is not a plain relative path");
    }
    Ok(path)
}

/// Replaces `\r\n` with `\n`, without copying text that has no `\r`.
fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").into()
    } else {
        text.into()
    }
}

/// Collects the `.rs` files under `root.join(relative)`, as paths relative to `root`.
fn rs_files(root: &Path, relative: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(relative);
    let entries = fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            rs_files(root, &path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

/// Whether the file at `path` starts with a header containing [`GENERATED_MARKER`].
fn is_generated(path: &Path) -> Result<bool> {
    let mut head = Vec::new();
    fs::File::open(path)
        .and_then(|file| file.take(HEADER_LEN).read_to_end(&mut head))
        .with_context(|| format!("reading {}", path.display()))?;
    let marker = GENERATED_MARKER.as_bytes();
    Ok(head.windows(marker.len()).any(|window| window == marker))
}

/// Removes every directory under `dir` (not `dir` itself) that is empty, or becomes
/// empty once its empty subdirectories are gone; returns whether `dir` is now empty.
fn remove_empty_dirs(dir: &Path) -> Result<bool> {
    let mut empty = true;
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = entry.path();
        if entry.file_type()?.is_dir() && remove_empty_dirs(&path)? {
            fs::remove_dir(&path).with_context(|| format!("removing {}", path.display()))?;
        } else {
            empty = false;
        }
    }
    Ok(empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory under the system's temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        /// Creates an empty directory unique to this process and `name`.
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("xtask-sync-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        /// Removes the directory and everything in it.
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A generated file's text: the header, then `body`.
    fn generated(body: &str) -> String {
        format!("// @generated by `{GENERATED_MARKER}`; do not edit.\n{body}\n")
    }

    /// A generated tree from `(name, body)` pairs.
    fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(name, body)| (name.to_string(), generated(body)))
            .collect()
    }

    /// A fresh directory is filled in, then found clean; a later generation updates,
    /// adds and deletes files and removes the directory it emptied.
    #[test]
    fn writes_then_updates_a_tree() {
        let tmp = TempDir::new("update");
        let out = tmp.0.join("generated");
        let first = tree(&[
            ("mod.rs", "a"),
            ("commands/string.rs", "b"),
            ("old/x.rs", "c"),
        ]);

        assert_eq!(compare(&out, &first).unwrap().missing.len(), 3);
        let applied = sync(&out, &first).unwrap();
        assert_eq!(applied.written, 3);
        assert!(compare(&out, &first).unwrap().is_clean());

        fs::write(out.join("notes.txt"), "not ours").unwrap();
        let second = tree(&[
            ("mod.rs", "a2"),
            ("commands/string.rs", "b"),
            ("new.rs", "d"),
        ]);
        let diff = compare(&out, &second).unwrap();
        assert_eq!(diff.changed, ["mod.rs"]);
        assert_eq!(diff.missing, ["new.rs"]);
        assert_eq!(diff.extra, [Path::new("old").join("x.rs")]);
        assert_eq!(diff.unchanged, 1);
        assert!(diff.report().contains("  extra    old"));

        let applied = sync(&out, &second).unwrap();
        assert_eq!(
            applied,
            Applied {
                written: 2,
                unchanged: 1,
                deleted: 1
            }
        );
        assert!(compare(&out, &second).unwrap().is_clean());
        assert!(!out.join("old").exists());
        assert!(out.join("notes.txt").exists());
        assert_eq!(
            fs::read_to_string(out.join("mod.rs")).unwrap(),
            generated("a2")
        );
    }

    /// A checkout with `\r\n` line endings is not stale.
    #[test]
    fn ignores_crlf() {
        let tmp = TempDir::new("crlf");
        let files = tree(&[("mod.rs", "a\nb")]);
        fs::write(tmp.0.join("mod.rs"), files["mod.rs"].replace('\n', "\r\n")).unwrap();
        assert!(compare(&tmp.0, &files).unwrap().is_clean());
    }

    /// Files without the generated header are neither deleted nor overwritten, and the
    /// refusal happens before anything is written.
    #[test]
    fn keeps_hand_written_files() {
        let tmp = TempDir::new("foreign");
        fs::write(tmp.0.join("lib.rs"), "// hand-written\n").unwrap();
        let files = tree(&[("mod.rs", "a")]);
        assert_eq!(
            compare(&tmp.0, &files).unwrap().extra,
            [PathBuf::from("lib.rs")]
        );
        let err = sync(&tmp.0, &files).unwrap_err().to_string();
        assert!(err.contains("lib.rs"), "{err}");
        assert!(tmp.0.join("lib.rs").exists());
        assert!(!tmp.0.join("mod.rs").exists());

        fs::remove_file(tmp.0.join("lib.rs")).unwrap();
        fs::write(tmp.0.join("mod.rs"), "// hand-written\n").unwrap();
        assert_eq!(compare(&tmp.0, &files).unwrap().changed, ["mod.rs"]);
        assert!(sync(&tmp.0, &files).is_err());
    }

    /// Names that would escape the output directory are errors.
    #[test]
    fn rejects_escaping_names() {
        for bad in ["", "/etc/passwd", "../lib.rs", "a/../../b.rs", "./x.rs"] {
            assert!(relative_path(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(relative_path("commands/string.rs").is_ok());
    }
}
