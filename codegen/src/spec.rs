//! Strict serde mirror of the command JSON files (`src/commands/*.json` in the Redis and
//! Valkey source trees, vendored verbatim in `spec/commands/`).
//!
//! A key this mirror does not know (a newer server's: a new argument flag, a new field
//! of a command or key spec) is kept in the struct's `unknown` map, never silently
//! dropped: the generator reports each as a warning (`vocab::unknown_words`), so a new
//! spec feature is noticed when the spec is refreshed, and a newer tree still
//! generates. So are the words of its closed lists ([`DocFlag::Other`],
//! [`ArgType::Other`]). The only other tolerance is for the spec's known slips, such as
//! booleans written as strings (`"multiple": "true"` in Valkey's `client-capa.json`).
//!
//! The mirror is checked against Valkey 9.1.2 (vendored), Valkey 8.1.1 and Redis 7.0.15.
//! It interprets nothing: `reply_schema` stays a raw [`serde_json::Value`], flags stay
//! strings, and lowering into the generator's model happens elsewhere.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Deserialize;

/// One command JSON file: an object with exactly one key, the command name in upper case
/// (`"SET"`; for a subcommand only the subcommand's own name, e.g. `"KILL"` in
/// `client-kill.json`, whose [`CommandSpec::container`] is `"CLIENT"`).
///
/// [`parse_command`] and [`load_dir`] check that there is exactly one key.
pub type SpecFile = BTreeMap<String, CommandSpec>;

/// The description of one command or subcommand.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommandSpec {
    /// One-sentence description of the command.
    pub summary: String,
    /// Time complexity in prose, e.g. `"O(1)"`. Absent for a few commands.
    pub complexity: Option<String>,
    /// Documentation group (`"string"`, `"sorted_set"`, `"server"`, ...).
    pub group: String,
    /// Server version that introduced the command, e.g. `"7.0.0"`.
    pub since: String,
    /// Number of words including the command name (and the subcommand name for a
    /// subcommand); negative means "at least `-arity`".
    pub arity: i64,
    /// For a subcommand: the name of its parent command (`"CLIENT"` for `CLIENT KILL`).
    pub container: Option<String>,
    /// Name of the server's C function implementing the command (internal).
    pub function: Option<String>,
    /// Name of the server's C function extracting keys when key specs cannot (internal).
    pub get_keys_function: Option<String>,
    /// Name of the server's C function extracting database-id arguments (internal; not in
    /// Valkey 8.1 or Redis 7.0).
    pub get_dbid_args: Option<String>,
    /// Behaviour changes as `(version, description)` pairs.
    #[serde(default)]
    pub history: Vec<(String, String)>,
    /// Documentation flags (`DEPRECATED`, `SYSCMD`).
    #[serde(default)]
    pub doc_flags: Vec<DocFlag>,
    /// Version in which the command was deprecated.
    pub deprecated_since: Option<String>,
    /// What replaces a deprecated command, in prose/markdown (e.g. "`GETEX` with ...").
    pub replaced_by: Option<String>,
    /// Command flags in upper case (`WRITE`, `READONLY`, `BLOCKING`, `FAST`, ...).
    #[serde(default)]
    pub command_flags: Vec<String>,
    /// Explicit ACL categories in upper case; the effective categories add implicit ones
    /// derived from the command flags (see `spec/commands/README.md`).
    #[serde(default)]
    pub acl_categories: Vec<String>,
    /// Command tips (`NONDETERMINISTIC_OUTPUT`, `REQUEST_POLICY:ALL_SHARDS`, ...).
    #[serde(default)]
    pub command_tips: Vec<String>,
    /// Key specifications; arguments refer to them by [`ArgSpec::key_spec_index`].
    #[serde(default)]
    pub key_specs: Vec<KeySpec>,
    /// JSON Schema of the RESP3 reply, uninterpreted. Absent in Redis 7.0 trees and for a
    /// few commands in newer trees.
    pub reply_schema: Option<serde_json::Value>,
    /// The arguments after the command (and subcommand) name. `None` when the file has no
    /// `"arguments"` key (e.g. a container such as `cluster.json`), `Some(vec![])` when the
    /// key is present but empty.
    pub arguments: Option<Vec<ArgSpec>>,
    /// Keys this mirror does not know, with their values.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// A documentation flag of a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum DocFlag {
    /// The command is deprecated (see [`CommandSpec::deprecated_since`]).
    #[serde(rename = "DEPRECATED")]
    Deprecated,
    /// A system command, not meant to be called by clients (e.g. `PSYNC`, `REPLCONF`).
    #[serde(rename = "SYSCMD")]
    Syscmd,
    /// A flag this mirror does not know (a newer server's): kept, reported as a
    /// warning (`vocab::unknown_words`), otherwise ignored.
    #[serde(untagged)]
    Other(String),
}

/// One argument, possibly a `block` or `oneof` holding further arguments.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArgSpec {
    /// Identifier of the argument, unique among its siblings in Valkey trees (Redis 7.0
    /// has a few duplicates, e.g. `SORT`'s two `pattern`s).
    pub name: String,
    /// The argument's type (JSON key `"type"`).
    #[serde(rename = "type")]
    pub kind: ArgType,
    /// Fixed word sent before the value; for a `pure-token`, the word itself.
    pub token: Option<String>,
    /// The argument may be omitted. Accepts `"true"`/`"false"` strings (spec slip).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub optional: bool,
    /// The argument may be repeated. Accepts `"true"`/`"false"` strings (spec slip).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub multiple: bool,
    /// With [`Self::multiple`]: the [`Self::token`] is repeated before every value
    /// (`GET p1 GET p2`) rather than sent once. Accepts `"true"`/`"false"` strings.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub multiple_token: bool,
    /// Server version that introduced the argument.
    pub since: Option<String>,
    /// Server version that deprecated the argument.
    pub deprecated_since: Option<String>,
    /// Index into [`CommandSpec::key_specs`]. Normally on `key` arguments, but also on
    /// `SORT`'s patterns and (a slip) on some `numfields` integers of hash-field commands.
    pub key_spec_index: Option<usize>,
    /// Display name for documentation (`"ip:port"`, `"key"`, `"pattern"`, ...).
    pub display: Option<String>,
    /// One-sentence description of the argument (rare; not in Redis 7.0).
    pub summary: Option<String>,
    /// Longer description of the argument (rare; not in Valkey 8.1 or Redis 7.0).
    pub description: Option<String>,
    /// Smallest allowed value of an `integer` argument (not in Valkey 8.1 or Redis 7.0).
    pub minimum: Option<i64>,
    /// Regular expression the value must match, e.g. a 40-hex-digit node id (not in
    /// Valkey 8.1 or Redis 7.0). Unrelated to [`ArgType::Pattern`].
    pub pattern: Option<String>,
    /// Members of a `block` (all, in order) or a `oneof` (exactly one); empty otherwise.
    #[serde(default)]
    pub arguments: Vec<ArgSpec>,
    /// Keys this mirror does not know (a newer server's argument flags), with their
    /// values.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// The type of an argument (JSON strings in kebab case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgType {
    /// A key name (`"key"`).
    Key,
    /// An arbitrary string (`"string"`).
    String,
    /// An integer (`"integer"`).
    Integer,
    /// A floating point number (`"double"`).
    Double,
    /// A Unix time in seconds or milliseconds (`"unix-time"`).
    UnixTime,
    /// A glob-style pattern (`"pattern"`).
    Pattern,
    /// A fixed word given by [`ArgSpec::token`] (`"pure-token"`).
    PureToken,
    /// Exactly one of [`ArgSpec::arguments`] (`"oneof"`).
    Oneof,
    /// All of [`ArgSpec::arguments`] in order (`"block"`).
    Block,
    /// A type this mirror does not know (a newer server's): lowered as a string, or
    /// as a block when it has arguments, and reported as a warning
    /// (`vocab::unknown_words`).
    #[serde(untagged)]
    Other(String),
}

/// How to find a group of keys in a command line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeySpec {
    /// Free-text remark about this key spec.
    pub notes: Option<String>,
    /// Access flags in upper case (`RO`, `RW`, `OW`, `RM`, `ACCESS`, `UPDATE`, `INSERT`,
    /// `DELETE`, `NOT_KEY`, `INCOMPLETE`, `VARIABLE_FLAGS`).
    pub flags: Vec<String>,
    /// Where the first key is.
    pub begin_search: BeginSearch,
    /// Where the remaining keys are, relative to the first.
    pub find_keys: FindKeys,
    /// Keys this mirror does not know, with their values.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// How to find the first key of a [`KeySpec`]. JSON: an object with exactly one key,
/// the form's name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Form")]
pub enum BeginSearch {
    /// `{"index": {"pos": N}}`: the first key is at position `pos` of the command line
    /// (0 is the command name).
    Index {
        /// Position of the first key.
        pos: usize,
    },
    /// `{"keyword": {"keyword": "STREAMS", "startfrom": N}}`: the first key follows the
    /// word `keyword`, searched from position `startfrom` (negative: from the end, backwards).
    Keyword {
        /// The word that precedes the first key.
        keyword: String,
        /// Where the search starts; negative counts from the end and searches backwards.
        startfrom: i64,
    },
    /// `{"unknown": null}`: too complex to describe.
    Unknown,
    /// A form this mirror does not know (a newer server's), or a known form with a
    /// field it does not know: named here for the generator's warning, and generated
    /// as `Unknown` (the runtime never guesses where such keys are).
    Other(String),
}

/// How to find the keys of a [`KeySpec`] after the first. JSON: an object with exactly one
/// key, the form's name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Form")]
pub enum FindKeys {
    /// `{"range": {"lastkey": L, "step": S, "limit": M}}`: keys every `step` arguments up to
    /// `lastkey` (relative to the first key; negative counts from the end of the line).
    Range {
        /// Last key relative to the first one; `-1` is the last argument, `-2` the one before.
        lastkey: i64,
        /// Distance between consecutive keys.
        step: usize,
        /// With `lastkey == -1`: only the first `1/limit` of the remaining arguments
        /// (0 and 1 mean no limit).
        limit: usize,
    },
    /// `{"keynum": {"keynumidx": I, "firstkey": F, "step": S}}`: the number of keys is at
    /// `keynumidx`, the first key at `firstkey` (both relative to the begin-search result).
    Keynum {
        /// Position of the key count.
        keynumidx: usize,
        /// Position of the first key.
        firstkey: usize,
        /// Distance between consecutive keys.
        step: usize,
    },
    /// `{"unknown": null}`: too complex to describe.
    Unknown,
    /// A form this mirror does not know, or a known form with a field it does not
    /// know (see [`BeginSearch::Other`]).
    Other(String),
}

/// A key-spec form as written: an object with exactly one key, the form's name.
#[derive(Deserialize)]
struct Form(BTreeMap<String, serde_json::Value>);

impl Form {
    /// The form's name and body, when it is known here with only known fields
    /// (`fields` lists each known form's); otherwise what to keep as `Other`, or an
    /// error for a value that is no form at all.
    fn known(self, fields: &[(&str, &[&str])]) -> Result<(String, serde_json::Value), String> {
        let mut entries = self.0.into_iter();
        let (Some((name, body)), None) = (entries.next(), entries.next()) else {
            return Err(String::new());
        };
        let Some((_, known)) = fields.iter().find(|(form, _)| *form == name) else {
            return Err(name);
        };
        if let Some(new) = body
            .as_object()
            .and_then(|o| o.keys().find(|k| !known.contains(&k.as_str())))
        {
            return Err(format!("{name} (with `{new}`)"));
        }
        Ok((name, body))
    }
}

/// Parses a known form's body strictly.
fn body<T: serde::de::DeserializeOwned>(name: &str, body: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(body).map_err(|e| format!("key-spec form `{name}`: {e}"))
}

impl TryFrom<Form> for BeginSearch {
    type Error = String;
    fn try_from(form: Form) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Index {
            pos: usize,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Keyword {
            keyword: String,
            startfrom: i64,
        }
        const FIELDS: &[(&str, &[&str])] = &[
            ("index", &["pos"]),
            ("keyword", &["keyword", "startfrom"]),
            ("unknown", &[]),
        ];
        let (name, value) = match form.known(FIELDS) {
            Ok(known) => known,
            Err(other) if other.is_empty() => return Err(NOT_ONE_FORM.into()),
            Err(other) => return Ok(BeginSearch::Other(other)),
        };
        Ok(match name.as_str() {
            "index" => {
                let Index { pos } = body(&name, value)?;
                BeginSearch::Index { pos }
            }
            "keyword" => {
                let Keyword { keyword, startfrom } = body(&name, value)?;
                BeginSearch::Keyword { keyword, startfrom }
            }
            _ => {
                body::<()>(&name, value)?;
                BeginSearch::Unknown
            }
        })
    }
}

impl TryFrom<Form> for FindKeys {
    type Error = String;
    fn try_from(form: Form) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Range {
            lastkey: i64,
            step: usize,
            limit: usize,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Keynum {
            keynumidx: usize,
            firstkey: usize,
            step: usize,
        }
        const FIELDS: &[(&str, &[&str])] = &[
            ("range", &["lastkey", "step", "limit"]),
            ("keynum", &["keynumidx", "firstkey", "step"]),
            ("unknown", &[]),
        ];
        let (name, value) = match form.known(FIELDS) {
            Ok(known) => known,
            Err(other) if other.is_empty() => return Err(NOT_ONE_FORM.into()),
            Err(other) => return Ok(FindKeys::Other(other)),
        };
        Ok(match name.as_str() {
            "range" => {
                let Range {
                    lastkey,
                    step,
                    limit,
                } = body(&name, value)?;
                FindKeys::Range {
                    lastkey,
                    step,
                    limit,
                }
            }
            "keynum" => {
                let Keynum {
                    keynumidx,
                    firstkey,
                    step,
                } = body(&name, value)?;
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    step,
                }
            }
            _ => {
                body::<()>(&name, value)?;
                FindKeys::Unknown
            }
        })
    }
}

/// The error for a key-spec form that is not an object with exactly one key.
const NOT_ONE_FORM: &str = "a key-spec form must be an object with exactly one key";

/// Accepts a JSON boolean or the strings `"true"`/`"false"` (the spec's known slip).
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct LenientBool;

    impl Visitor<'_> for LenientBool {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, or the string \"true\" or \"false\"")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
            }
        }
    }

    deserializer.deserialize_any(LenientBool)
}

/// Parses the text of one command JSON file into `(command name, spec)`.
///
/// Fails on malformed JSON, on any key the mirror does not know, and unless the file holds
/// exactly one command.
pub fn parse_command(json: &str) -> anyhow::Result<(String, CommandSpec)> {
    let file: SpecFile = serde_json::from_str(json)?;
    if file.len() != 1 {
        let names: Vec<_> = file.keys().map(String::as_str).collect();
        bail!(
            "expected exactly one command per file, found {}: {names:?}",
            names.len()
        );
    }
    Ok(file.into_iter().next().expect("one entry"))
}

/// Reads every `*.json` file of a command spec directory (such as `spec/commands/`, or
/// `src/commands/` of a Redis >= 7.0 or Valkey source tree), sorted by file name.
///
/// Returns `(file name, command name, spec)` triples; files of other types (`README.md`)
/// are skipped. Errors name the offending file; a directory without any `*.json` file is
/// an error too.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<(String, String, CommandSpec)>> {
    let entries = fs::read_dir(dir)
        .with_context(|| format!("reading command spec directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = entry.path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let file_name = entry
            .file_name()
            .into_string()
            .map_err(|name| anyhow!("non-UTF-8 file name {name:?} in {}", dir.display()))?;
        files.push((file_name, path));
    }
    if files.is_empty() {
        bail!("no *.json command files in {}", dir.display());
    }
    files.sort();

    files
        .into_iter()
        .map(|(file_name, path)| {
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let (name, spec) =
                parse_command(&text).with_context(|| format!("parsing {}", path.display()))?;
            Ok((file_name, name, spec))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VENDORED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/commands");

    /// A minimal valid command with `extra` spliced into the command object.
    fn command_with(extra: &str) -> String {
        format!(
            r#"{{"PING": {{"summary": "Ping.", "group": "connection", "since": "1.0.0",
                "arity": -1 {extra}}}}}"#
        )
    }

    fn args_of(extra: &str) -> Vec<ArgSpec> {
        let (_, spec) = parse_command(&command_with(extra)).unwrap();
        spec.arguments.unwrap()
    }

    #[test]
    fn vendored_spec_parses_fully() {
        let commands = load_dir(Path::new(VENDORED)).unwrap();
        assert_eq!(commands.len(), 425);
        let with_container = commands
            .iter()
            .filter(|(_, _, spec)| spec.container.is_some())
            .count();
        assert_eq!(with_container, 167);

        let files: Vec<_> = commands.iter().map(|(file, _, _)| file.as_str()).collect();
        assert!(files.windows(2).all(|w| w[0] < w[1]), "sorted by file name");
        assert!(files.iter().all(|f| f.ends_with(".json")));

        let (_, name, kill) = commands
            .iter()
            .find(|(file, _, _)| file == "client-kill.json")
            .unwrap();
        assert_eq!(name, "KILL");
        assert_eq!(kill.container.as_deref(), Some("CLIENT"));

        let (_, _, set) = commands.iter().find(|(f, _, _)| f == "set.json").unwrap();
        assert!(set.reply_schema.is_some());
        assert_eq!(set.key_specs.len(), 1);
        assert_eq!(set.key_specs[0].begin_search, BeginSearch::Index { pos: 1 });
    }

    #[test]
    fn vendored_slip_multiple_true_string_is_accepted() {
        let commands = load_dir(Path::new(VENDORED)).unwrap();
        let (_, _, capa) = commands
            .iter()
            .find(|(file, _, _)| file == "client-capa.json")
            .unwrap();
        let args = capa.arguments.as_ref().unwrap();
        assert_eq!(args[0].name, "capability");
        assert!(args[0].multiple);
    }

    #[test]
    fn vendored_key_spec_forms() {
        let commands = load_dir(Path::new(VENDORED)).unwrap();
        let spec = |file: &str| {
            commands
                .iter()
                .find(|(f, _, _)| f == file)
                .map(|(_, _, spec)| spec)
                .unwrap()
        };
        assert_eq!(
            spec("xread.json").key_specs[0].begin_search,
            BeginSearch::Keyword {
                keyword: "STREAMS".into(),
                startfrom: 1
            }
        );
        assert_eq!(
            spec("xread.json").key_specs[0].find_keys,
            FindKeys::Range {
                lastkey: -1,
                step: 1,
                limit: 2
            }
        );
        assert_eq!(
            spec("zunion.json").key_specs[0].find_keys,
            FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                step: 1
            }
        );
        assert!(spec("migrate.json")
            .key_specs
            .iter()
            .any(|ks| ks.begin_search
                == BeginSearch::Keyword {
                    keyword: "KEYS".into(),
                    startfrom: -2
                }));
        assert!(
            commands
                .iter()
                .flat_map(|(_, _, spec)| &spec.key_specs)
                .any(|ks| ks.begin_search == BeginSearch::Unknown
                    && ks.find_keys == FindKeys::Unknown)
        );
    }

    #[test]
    fn arguments_key_absent_differs_from_empty() {
        let (_, absent) = parse_command(&command_with("")).unwrap();
        assert_eq!(absent.arguments, None);
        let (_, empty) = parse_command(&command_with(r#", "arguments": []"#)).unwrap();
        assert_eq!(empty.arguments, Some(vec![]));
    }

    #[test]
    fn true_string_slips_are_accepted() {
        let args = args_of(
            r#", "arguments": [{"name": "a", "type": "string", "optional": "true",
                "multiple": "true", "multiple_token": "false"},
                {"name": "b", "type": "integer", "optional": true}]"#,
        );
        assert!(args[0].optional);
        assert!(args[0].multiple);
        assert!(!args[0].multiple_token);
        assert!(args[1].optional);
        assert!(!args[1].multiple);
    }

    #[test]
    fn other_strings_for_booleans_are_rejected() {
        let json =
            command_with(r#", "arguments": [{"name": "a", "type": "string", "optional": "yes"}]"#);
        let err = parse_command(&json).unwrap_err().to_string();
        assert!(err.contains("\"yes\""), "{err}");
        let json =
            command_with(r#", "arguments": [{"name": "a", "type": "string", "optional": 1}]"#);
        assert!(parse_command(&json).is_err());
    }

    #[test]
    fn unknown_keys_are_kept_everywhere() {
        let (_, spec) = parse_command(&command_with(
            r#", "frobnicate": true,
                "arguments": [{"name": "a", "type": "block", "hidden": true, "arguments": [
                    {"name": "b", "type": "string", "display_text": "b"}]}],
                "key_specs": [{"flags": [], "frobnicate": 1,
                    "begin_search": {"index": {"pos": 1}},
                    "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]"#,
        ))
        .unwrap();
        let keys = |m: &BTreeMap<String, serde_json::Value>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&spec.unknown), ["frobnicate"]);
        let args = spec.arguments.unwrap();
        assert_eq!(keys(&args[0].unknown), ["hidden"]);
        assert_eq!(keys(&args[0].arguments[0].unknown), ["display_text"]);
        assert_eq!(keys(&spec.key_specs[0].unknown), ["frobnicate"]);
        // Known keys are not in the map, and slips are still read.
        assert!(!args[0].arguments[0].unknown.contains_key("name"));
    }

    #[test]
    fn unknown_words_of_closed_lists_are_kept() {
        let (_, spec) = parse_command(&command_with(
            r#", "doc_flags": ["SHINY", "SYSCMD"],
                "arguments": [{"name": "a", "type": "float"}, {"name": "b", "type": "key"}]"#,
        ))
        .unwrap();
        assert_eq!(
            spec.doc_flags,
            [DocFlag::Other("SHINY".into()), DocFlag::Syscmd]
        );
        let args = spec.arguments.unwrap();
        assert_eq!(args[0].kind, ArgType::Other("float".into()));
        assert_eq!(args[1].kind, ArgType::Key);
    }

    #[test]
    fn malformed_key_spec_forms_are_rejected() {
        let cases = [
            // a known begin_search form with a field of the wrong type
            r#", "key_specs": [{"flags": [],
                "begin_search": {"index": {"pos": "one"}},
                "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]"#,
            // a known find_keys form missing a field
            r#", "key_specs": [{"flags": [],
                "begin_search": {"index": {"pos": 1}},
                "find_keys": {"keynum": {"keynumidx": 0, "firstkey": 1}}}]"#,
            // two forms in one
            r#", "key_specs": [{"flags": [],
                "begin_search": {"index": {"pos": 1}, "keyword": {"keyword": "K", "startfrom": 1}},
                "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]"#,
            // a known key of the wrong type
            r#", "arguments": [{"name": "a", "type": 3}]"#,
        ];
        for extra in cases {
            let json = command_with(extra);
            assert!(parse_command(&json).is_err(), "accepted: {json}");
        }
    }

    /// A newer server's key-spec forms never stop the generator: a form this mirror
    /// does not know, or a known one with a new field, is kept as `Other` (generated
    /// as `Unknown`, reported by `vocab::unknown_words`).
    #[test]
    fn unknown_key_spec_forms_are_kept_as_other() {
        let (_, spec) = parse_command(&command_with(
            r#", "key_specs": [
                {"flags": [],
                 "begin_search": {"spec": {"pos": 1}},
                 "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}},
                {"flags": [],
                 "begin_search": {"index": {"pos": 1, "frobnicate": 1}},
                 "find_keys": {"keynum": {"keynumidx": 0, "firstkey": 1, "step": 1, "x": 0}}}]"#,
        ))
        .unwrap();
        assert_eq!(
            spec.key_specs[0].begin_search,
            BeginSearch::Other("spec".into())
        );
        assert_eq!(
            spec.key_specs[0].find_keys,
            FindKeys::Range {
                lastkey: 0,
                step: 1,
                limit: 0
            }
        );
        assert_eq!(
            spec.key_specs[1].begin_search,
            BeginSearch::Other("index (with `frobnicate`)".into())
        );
        assert_eq!(
            spec.key_specs[1].find_keys,
            FindKeys::Other("keynum (with `x`)".into())
        );
    }

    #[test]
    fn key_spec_forms_parse() {
        let (_, spec) = parse_command(&command_with(
            r#", "key_specs": [
                {"notes": "n", "flags": ["RO", "ACCESS"],
                 "begin_search": {"keyword": {"keyword": "STREAMS", "startfrom": 1}},
                 "find_keys": {"range": {"lastkey": -1, "step": 1, "limit": 2}}},
                {"flags": ["RW"],
                 "begin_search": {"unknown": null},
                 "find_keys": {"unknown": null}}]"#,
        ))
        .unwrap();
        assert_eq!(spec.key_specs[0].notes.as_deref(), Some("n"));
        assert_eq!(spec.key_specs[0].flags, ["RO", "ACCESS"]);
        assert_eq!(spec.key_specs[1].begin_search, BeginSearch::Unknown);
        assert_eq!(spec.key_specs[1].find_keys, FindKeys::Unknown);
        // `unknown` carries null, nothing else, and is never a bare string.
        for begin_search in [r#"{"unknown": {}}"#, r#""unknown""#] {
            let json = command_with(&format!(
                r#", "key_specs": [{{"flags": [], "begin_search": {begin_search},
                    "find_keys": {{"unknown": null}}}}]"#
            ));
            assert!(parse_command(&json).is_err(), "accepted: {json}");
        }
    }

    #[test]
    fn exactly_one_command_per_file() {
        let err = parse_command("{}").unwrap_err().to_string();
        assert!(err.contains("found 0"), "{err}");
        let two = r#"{"A": {"summary": "", "group": "g", "since": "1", "arity": 1},
                      "B": {"summary": "", "group": "g", "since": "1", "arity": 1}}"#;
        let err = parse_command(two).unwrap_err().to_string();
        assert!(err.contains("found 2"), "{err}");
    }

    #[test]
    fn load_dir_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("respec-spec-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("README.md"), "not json").unwrap();
        fs::write(dir.join("ping.json"), command_with("")).unwrap();
        let loaded = load_dir(&dir).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(
            (loaded[0].0.as_str(), loaded[0].1.as_str()),
            ("ping.json", "PING")
        );

        fs::write(dir.join("bad.json"), command_with(r#", "complexity": 7"#)).unwrap();
        let err = format!("{:#}", load_dir(&dir).unwrap_err());
        fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("bad.json"), "{err}");
        assert!(err.contains("invalid type"), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn load_dir_rejects_a_directory_without_json() {
        let err = format!(
            "{:#}",
            load_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_err()
        );
        assert!(err.contains("no *.json"), "{err}");
    }
}
