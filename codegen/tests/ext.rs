//! Extension traits (`respec_codegen::ext`): the commands of a tree that respec
//! lacks, as one file for a user's crate. FalkorDB's checked-in tree is the input;
//! the tests crate compiles and runs its output (`tests/src/falkordb.rs`).

use respec_codegen::ext::{generate, ExtOptions};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn options(known: &[&str]) -> ExtOptions {
    ExtOptions {
        spec_dir: root().join("tests/ext/falkordb/commands"),
        overrides: Some(root().join("tests/ext/falkordb/overrides.toml")),
        trait_name: "GraphCommands".to_owned(),
        krate: "::respec".to_owned(),
        known: known
            .iter()
            .map(|k| (*k).to_owned())
            .collect::<BTreeSet<_>>(),
    }
}

/// Every command gets metadata, a builder, a detached constructor and a trait
/// method; the runtime is named by the given crate path; the overrides type
/// replies; the docs link the module's own structs.
#[test]
fn falkordb_tree_becomes_one_trait() {
    let out = generate(&options(&[])).unwrap();
    assert_eq!(out.commands.len(), 18);
    assert!(out.commands.contains(&"GRAPH.QUERY".to_owned()));
    let t = &out.text;
    for needle in [
        "pub trait GraphCommands: ::respec::Commands",
        "impl<T: ::respec::Commands + ?Sized> GraphCommands for T {}",
        "pub static GRAPH_QUERY: CommandMeta",
        "command_impls!(GraphQuery, meta::GRAPH_QUERY);",
        "pub fn graph_query(key: impl ToArg) -> GraphQuery",
        "pub fn args(mut self, args: impl ToArgs) -> Self",
        "GraphList<Self::Exec<'_>, Self::Out<Vec<Bytes>>>",
        "use bytes::Bytes;",
        "(struct@GraphQuery)",
    ] {
        assert!(t.contains(needle), "no {needle:?} in the generated file");
    }
    assert!(
        !t.contains("crate::cmd::"),
        "a link to respec's own cmd module"
    );
    // `include!`-able (from a build script's output): no inner attribute.
    assert!(!t.contains("#!["), "an inner attribute");
    syn::parse_file(t).expect("the file parses as Rust");
}

/// Commands respec already has are left out; a tree of nothing else is an error.
#[test]
fn respec_commands_are_left_out() {
    let out = generate(&options(&["GRAPH.QUERY", "GRAPH.LIST"])).unwrap();
    assert_eq!(out.commands.len(), 16);
    assert!(!out.text.contains("pub struct GraphQuery"));
    let all: Vec<String> = std::fs::read_dir(root().join("tests/ext/falkordb/commands"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.trim_end_matches(".json").to_uppercase()
        })
        .collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let err = generate(&options(&refs)).unwrap_err();
    assert!(
        err.to_string()
            .contains("every command is one of respec's own"),
        "{err}"
    );
}
