//! Trees other than the vendored one (a newer server's, a Redis 7.0 one without
//! reply schemas, one without a command the runtime names) generate without a hand
//! edit: unknown words are kept as their vocabulary's "other" value and reported as
//! warnings, never a hard stop.

use respec_codegen::{generate, Options, Output};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Generates, as for a tree the user points at, from the command files `files`
/// (name, JSON text) with the vendored overrides (`strict`: as for the vendored spec).
fn generate_tree(test: &str, files: &[(&str, String)], strict: bool) -> anyhow::Result<Output> {
    let dir = std::env::temp_dir().join(format!("respec-tree-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    for (name, text) in files {
        std::fs::write(dir.join(name), text)?;
    }
    let out = generate(&Options {
        spec_dir: dir.clone(),
        overrides: Some(root().join("spec/overrides.toml")),
        strict_overrides: strict,
    });
    std::fs::remove_dir_all(&dir)?;
    out
}

/// A vendored command file, as text.
fn vendored(file: &str) -> String {
    std::fs::read_to_string(root().join("spec/commands").join(file)).unwrap()
}

/// GET with one unknown word in every vocabulary.
const GET_WITH_UNKNOWN_WORDS: &str = r#"{"GET": {
    "summary": "Returns the string value of a key.", "group": "shiny_group",
    "since": "1.0.0", "arity": 2, "shiny_command_field": true,
    "command_flags": ["READONLY", "SHINY_COMMAND_FLAG", "SHINY_SECOND_FLAG"],
    "acl_categories": ["STRING", "SHINY_ACL_CATEGORY"],
    "doc_flags": ["SHINY_DOC_FLAG"],
    "command_tips": ["SHINY_TIP", "NONDETERMINISTIC_OUTPUT",
        "REQUEST_POLICY:SHINY_REQUEST", "RESPONSE_POLICY:SHINY_RESPONSE"],
    "key_specs": [{"flags": ["RO", "SHINY_KEY_SPEC_FLAG"], "shiny_key_spec_field": 1,
        "begin_search": {"index": {"pos": 1}},
        "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
    "reply_schema": {"oneOf": [{"type": "shiny-shape"}, {"shiny_keyword": {}}]},
    "arguments": [
        {"name": "key", "type": "key", "key_spec_index": 0, "shiny_argument_flag": true},
        {"name": "shiny", "type": "shiny-argument-type", "optional": true},
        {"name": "shiny-block", "type": "shiny-block-type", "optional": true,
         "arguments": [{"name": "count", "type": "integer"}]}
    ]
}}"#;

#[test]
fn unknown_words_are_kept_and_reported_in_every_vocabulary() {
    let files = [("get.json", GET_WITH_UNKNOWN_WORDS.to_owned())];
    let out = generate_tree("words", &files, false).expect("a newer tree generates");
    let warnings = out.warnings.join("\n");
    for word in [
        "command flag `SHINY_COMMAND_FLAG`",
        "command flag `SHINY_SECOND_FLAG`",
        "ACL category `SHINY_ACL_CATEGORY`",
        "key-spec flag `SHINY_KEY_SPEC_FLAG`",
        "key-spec field `shiny_key_spec_field`",
        "doc flag `SHINY_DOC_FLAG`",
        "command tip `SHINY_TIP`",
        "routing policy `REQUEST_POLICY:SHINY_REQUEST`",
        "routing policy `RESPONSE_POLICY:SHINY_RESPONSE`",
        "command field `shiny_command_field`",
        "(argument `key`) `shiny_argument_flag`",
        "(argument `shiny`) `shiny-argument-type`: kept as a string argument",
        "(argument `shiny-block`) `shiny-block-type`: kept as a block",
        "group `shiny_group`",
    ] {
        assert!(
            warnings.contains(word),
            "no warning names {word}:\n{warnings}"
        );
    }
    let meta = &out.files["meta.rs"];
    for kept in [
        // Two unknown flags, one OTHER bit.
        "CommandFlags::from_bits_retain(\n        CommandFlags::READONLY.bits() | CommandFlags::OTHER.bits(),\n    )",
        "AclCategories::OTHER.bits()",
        "KeySpecFlags::OTHER.bits()",
        "Tips::OTHER.bits()",
        "Tips::NONDETERMINISTIC_OUTPUT.bits()",
        "request_policy: Some(RequestPolicy::Special)",
        "response_policy: Some(ResponsePolicy::Special)",
        "group: Group::Other",
    ] {
        assert!(meta.contains(kept), "meta.rs lacks {kept}:\n{meta}");
    }
    // The command keeps its group's file; the unknown argument types are a value
    // and a block, and the unknown reply shape is `Value`.
    let code = out.command_code("GET").unwrap();
    assert!(
        out.files.contains_key("commands/shiny_group.rs"),
        "{:?}",
        out.files.keys()
    );
    assert!(
        code.contains("pub fn shiny(mut self, shiny: impl ToArg) -> Self"),
        "{code}"
    );
    assert!(
        code.contains("pub fn count(mut self, count: impl IntArg) -> Self"),
        "{code}"
    );
    assert!(
        code.contains("pub struct Get<X = Detached, R = Value>"),
        "{code}"
    );
}

#[test]
fn a_tree_without_reply_schemas_generates_what_the_runtime_names() {
    let strip = |file: &str| {
        let mut json: serde_json::Value = serde_json::from_str(&vendored(file)).unwrap();
        for c in json.as_object_mut().unwrap().values_mut() {
            c.as_object_mut().unwrap().remove("reply_schema");
        }
        json.to_string()
    };
    let files = [
        ("function-list.json", strip("function-list.json")),
        ("xinfo-stream.json", strip("xinfo-stream.json")),
    ];
    let out = generate_tree("schemas", &files, false).expect("a Redis 7.0 tree generates");
    // `Library::info` returns it: made from the schema spec/overrides.toml keeps.
    let replies = &out.files["replies.rs"];
    assert!(
        replies.contains("pub struct FunctionListReply {"),
        "{replies}"
    );
    assert!(
        replies.contains("pub library_name: Option<Bytes>,"),
        "{replies}"
    );
    assert_eq!(
        out.coverage.replies["FUNCTION LIST"],
        "Vec<FunctionListReply>"
    );
    // An option's type names a struct only XINFO STREAM's schema makes: `Value`.
    let warnings = out.warnings.join("\n");
    assert!(
        warnings.contains("XINFO STREAM: the reply type `XinfoStreamFullReply`"),
        "{warnings}"
    );
    assert!(out.command_code("XINFO STREAM").unwrap().contains("Value"));
}

#[test]
fn a_tree_without_a_command_the_runtime_names_still_gets_its_reply_type() {
    let out = generate_tree("absent", &[("get.json", vendored("get.json"))], false)
        .expect("a tree without FUNCTION LIST generates");
    assert!(out.files["replies.rs"].contains("pub struct FunctionListReply {"));
    assert!(out.command_code("FUNCTION LIST").is_err());
    let warnings = out.warnings.join("\n");
    assert!(
        warnings.contains("FUNCTION LIST: not in this tree; the reply type the runtime names (`Vec<FunctionListReply>`)"),
        "{warnings}"
    );
}

#[test]
fn the_kept_schema_must_be_the_vendored_spec_s() {
    let mut json: serde_json::Value =
        serde_json::from_str(&vendored("function-list.json")).unwrap();
    json["LIST"]["reply_schema"]["items"]["properties"]["engine"]["description"] =
        "Changed upstream.".into();
    let files = [("function-list.json", json.to_string())];
    // Strict (the vendored spec): an error; otherwise the kept schema wins.
    let err = generate_tree("pinned-strict", &files, true).unwrap_err();
    assert!(
        format!("{err:#}").contains("reply_schema FUNCTION LIST: differs from the spec's"),
        "{err:#}"
    );
    let out = generate_tree("pinned", &files, false).unwrap();
    assert!(out.files["replies.rs"].contains("The engine of the library."));
}

#[test]
fn a_dangling_reply_type_is_an_error_for_the_vendored_spec_only() {
    let mut json: serde_json::Value = serde_json::from_str(&vendored("xinfo-stream.json")).unwrap();
    json["STREAM"]
        .as_object_mut()
        .unwrap()
        .remove("reply_schema");
    let files = [("xinfo-stream.json", json.to_string())];
    let err = generate_tree("dangling", &files, true).unwrap_err();
    assert!(
        format!("{err:#}").contains("names `XinfoStreamFullReply`"),
        "{err:#}"
    );
}

#[test]
fn colliding_type_names_are_an_error_for_the_vendored_spec_only() {
    let command = |name: &str, arg: &str| {
        format!(
            r#"{{"{name}": {{"summary": "s.", "group": "string", "since": "1.0.0", "arity": -1,
                "arguments": [{arg}]}}}}"#
        )
    };
    let choice = |a: &str, b: &str| {
        format!(
            r#"{{"name": "bar", "type": "oneof", "arguments": [
                {{"name": "{a}", "type": "pure-token", "token": "{a}"}},
                {{"name": "{b}", "type": "pure-token", "token": "{b}"}}]}}"#
        )
    };
    // FOO's and QUX's choices are both `bar`: FOO's is named FooBar, which the
    // command FOO_BAR's struct already is.
    let files = [
        ("foo.json", command("FOO", &choice("X", "Y"))),
        ("qux.json", command("QUX", &choice("Z", "W"))),
        ("foo_bar.json", command("FOO_BAR", "")),
    ];
    let err = generate_tree("names-strict", &files, true).unwrap_err();
    assert!(
        format!("{err:#}").contains("two token choices are both named FooBar"),
        "{err:#}"
    );
    let out = generate_tree("names", &files, false).unwrap();
    assert!(out.files["types.rs"].contains("pub enum FooBar_ {"));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("both named FooBar: the one of \"X Y\" gets `_` appended")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn a_command_that_cannot_be_lowered_is_left_out_of_another_tree() {
    // A pure token without its token: a slip of the spec.
    let slip = r#"{"PING": {"summary": "s.", "group": "connection", "since": "1.0.0",
        "arity": -1, "arguments": [{"name": "loud", "type": "pure-token"}]}}"#;
    let files = [
        ("ping.json", slip.to_owned()),
        ("get.json", vendored("get.json")),
    ];
    let err = generate_tree("slip-strict", &files, true).unwrap_err();
    assert!(
        format!("{err:#}").contains("pure token `loud` has no token"),
        "{err:#}"
    );
    let out = generate_tree("slip", &files, false).unwrap();
    assert!(out.command_code("PING").is_err());
    assert!(out.command_code("GET").is_ok());
    assert!(
        out.warnings.iter().any(
            |w| w.starts_with("ping.json: not generated: lowering ping.json: PING: pure token")
        ),
        "{:?}",
        out.warnings
    );
}
