//! Golden snapshots of the generated code of the hard cases. A difference fails the
//! test; after an intended change, rerun with `UPDATE_GOLDEN=1` and review the diff.

use respec_codegen::{generate, Options};
use std::path::PathBuf;

const COMMANDS: &[&str] = &[
    "SET",
    "ZADD",
    "XADD",
    "CLIENT KILL",
    "GEOSEARCH",
    "SORT",
    "BITFIELD",
    "MIGRATE",
    "XREAD",
    "ACL SETUSER",
    "ZRANGE",
    "HRANDFIELD",
    "EVAL",
    "HEXPIRE",
];

#[test]
fn generated_code_matches_snapshots() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = generate(&Options {
        spec_dir: root.join("spec/commands"),
        overrides: Some(root.join("spec/overrides.toml")),
        strict_overrides: true,
    })
    .expect("generation succeeds");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for name in COMMANDS {
        let code = out.command_code(name).expect("command is generated");
        let path = root
            .join("codegen/tests/golden")
            .join(format!("{}.rs.txt", name.to_lowercase().replace(' ', "_")));
        if update {
            std::fs::write(&path, &code).expect("write snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != code {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated code differs from the snapshots (rerun with UPDATE_GOLDEN=1 and review): {stale:#?}"
    );
}
