//! Overrides that cannot be applied stop the generator with an error naming the
//! command and the type, rather than turning into an untyped `Value`.

use respec_codegen::{generate, Options};
use std::path::PathBuf;

/// Generates the vendored spec with `extra` appended to the vendored overrides.
fn generate_with(extra: &str) -> anyhow::Result<respec_codegen::Output> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("spec/overrides.toml"))? + extra;
    let dir = std::env::temp_dir().join(format!("respec-overrides-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.toml", extra.len()));
    std::fs::write(&path, text)?;
    generate(&Options {
        spec_dir: root.join("spec/commands"),
        overrides: Some(path),
        strict_overrides: true,
    })
}

#[test]
fn a_reply_type_that_is_not_rust_is_an_error_naming_the_command() {
    let err =
        generate_with("\n[[reply]]\ncommand = \"ECHO\"\ntype = \"Option<Bytes\"\nreason = \"r\"\n")
            .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("ECHO: the reply type"), "{text}");
    assert!(text.contains("not a Rust type"), "{text}");
}

#[test]
fn a_reply_type_naming_an_unknown_struct_is_an_error() {
    let err = generate_with(
        "\n[[reply]]\ncommand = \"ECHO\"\ntype = \"Vec<EchoThing>\"\nreason = \"r\"\n",
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("ECHO") && text.contains("`EchoThing`"),
        "{text}"
    );
}

#[test]
fn a_reply_option_type_respec_cannot_decode_is_an_error() {
    let err = generate_with(
        "\n[[reply_option]]\ncommand = \"ZRANGE\"\narg = \"withscores\"\ntype = \"Vec<u32>\"\nreason = \"r\"\n",
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("ZRANGE") && text.contains("`u32`"), "{text}");
}

#[test]
fn an_optional_fix_that_says_what_the_spec_says_is_an_error() {
    // ECHO's message is required already: `optional = false` changes nothing.
    let err = generate_with(
        "\n[[fix_arg]]\ncommand = \"ECHO\"\narg = \"message\"\noptional = false\nreason = \"r\"\n",
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("ECHO message") && text.contains("what the spec says"),
        "{text}"
    );
}

/// A tip that is not a routing policy may be added, and a tree that already has it
/// (a newer server's spec) keeps the command: the override changes nothing there.
/// A routing tip where the spec has one of its kind is an error.
#[test]
fn tips_added_by_overrides() {
    // TTL's spec has NONDETERMINISTIC_OUTPUT: the command is still generated.
    let out = generate_with(
        "\n[[tip]]\ncommand = \"TTL\"\ntip = \"NONDETERMINISTIC_OUTPUT\"\nreason = \"r\"\n",
    )
    .unwrap();
    let meta = &out.files["meta.rs"];
    assert!(meta.contains("name: \"TTL\""), "TTL left out");
    // DBSIZE has a REQUEST_POLICY in the spec.
    let err = generate_with(
        "\n[[tip]]\ncommand = \"DBSIZE\"\ntip = \"REQUEST_POLICY:ALL_NODES\"\nreason = \"r\"\n",
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("already gives it a REQUEST_POLICY"),
        "{err:#}"
    );
    // Not a tip the runtime knows.
    let err = generate_with("\n[[tip]]\ncommand = \"GET\"\ntip = \"SHINY\"\nreason = \"r\"\n")
        .unwrap_err();
    assert!(format!("{err:#}").contains("can be added"), "{err:#}");
}
