//! A command tree read from a running server: `COMMAND DOCS` and `COMMAND INFO`
//! (their RESP3 replies as JSON: maps as objects) turned into the spec's per-command
//! JSON files, so the generator reads a live server's commands, its modules' too,
//! exactly as it reads `spec/commands/` (`cargo xtask regen --from-server URL`).
//!
//! What each file holds, and from where:
//!
//! - `COMMAND DOCS`: summary, since, group, complexity, history, doc flags,
//!   deprecation (the group's dashes become underscores: `sorted-set` is
//!   `sorted_set` in the files), the arguments (`display_text` becomes `display`, the `flags` list
//!   becomes the `optional` / `multiple` / `multiple_token` booleans; every other key
//!   is kept as the server wrote it) and, from a server built to log them, reply
//!   schemas (a release build has none: every reply is then `Value`, or what
//!   `spec/overrides.toml` types).
//! - `COMMAND INFO`: arity, command flags, ACL categories (explicit and implicit,
//!   without the `@`), tips and key specs, in the spec's spelling (upper case;
//!   `{"type": "index", "spec": {"index": 1}}` becomes `{"index": {"pos": 1}}`,
//!   `keystep` becomes `step`). Two flags are the server's own deductions, not spec
//!   words: `module` is dropped, and `movablekeys` becomes a `get_keys_function`
//!   marker (with an `INCOMPLETE` key spec, the runtime then asks the server where
//!   the keys are, as it does for `MIGRATE`).
//! - A command whose docs give no `arguments` (most module commands: FalkorDB's
//!   `GRAPH.QUERY` documents nothing) gets arguments made from what `COMMAND INFO`
//!   says: the words its arity requires (a key where its key positions say, a
//!   string elsewhere), then, for a variadic arity, an optional repeatable `args`;
//!   keys to the end of the line become a repeatable key (with the words between
//!   two keys). A command without a summary or a version gets a placeholder
//!   (`since` 0.0.0).
//!
//! Subcommands become `container-sub.json` files with their `container`, and the
//! container its own file without arguments, as in the source trees.

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One command file of a tree read from a server.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCommand {
    /// The file name (`set.json`, `client-kill.json`, `graph.query.json`).
    pub file: String,
    /// The module that registered the command (`COMMAND DOCS`' `module`), if any.
    pub module: Option<String>,
    /// Whether its arguments were made from `COMMAND INFO` (the docs gave none, its
    /// arity or key positions imply some).
    pub synthesized: bool,
    /// The file's content: `{"NAME": {...}}`, as in `spec/commands/`.
    pub json: Value,
}

/// The command tree of a server from its `COMMAND DOCS` (an object: command name ->
/// docs) and `COMMAND INFO` (an array of entries of ten fields each) replies, sorted
/// by file name. A command `COMMAND INFO` lists but `COMMAND DOCS` lacks is kept
/// (its docs empty); an entry of an unexpected shape is an error naming it.
pub fn tree(docs: &Value, info: &Value) -> Result<Vec<LiveCommand>> {
    let docs = docs
        .as_object()
        .context("COMMAND DOCS is not a map of command names")?;
    let info = info
        .as_array()
        .context("COMMAND INFO is not an array of commands")?;
    let docs: BTreeMap<String, &Value> = docs
        .iter()
        .map(|(name, d)| (name.to_lowercase(), d))
        .collect();
    let mut out = Vec::new();
    for entry in info {
        let e = Info::parse(entry)?;
        let doc = docs.get(&e.name.to_lowercase()).copied();
        command(&e, doc, None, &mut out)?;
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// One `COMMAND INFO` entry.
struct Info<'a> {
    /// As the server writes it: `set`, `client|kill`, `graph.QUERY`.
    name: String,
    arity: i64,
    flags: Vec<String>,
    /// The legacy key positions: first, last, step.
    first_last_step: (i64, i64, i64),
    acl_categories: Vec<String>,
    tips: Vec<String>,
    key_specs: Vec<Value>,
    subcommands: Vec<&'a Value>,
}

impl<'a> Info<'a> {
    fn parse(entry: &'a Value) -> Result<Self> {
        let f = entry
            .as_array()
            .filter(|f| f.len() >= 10)
            .with_context(|| format!("a COMMAND INFO entry of an unknown shape: {entry}"))?;
        let name = f[0]
            .as_str()
            .with_context(|| format!("a COMMAND INFO entry without a name: {entry}"))?
            .to_owned();
        let int = |i: usize| {
            f[i].as_i64()
                .with_context(|| format!("COMMAND INFO {name}: field {i} is not an integer"))
        };
        let words = |i: usize| -> Vec<String> {
            f[i].as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Info {
            arity: int(1)?,
            flags: words(2),
            first_last_step: (int(3)?, int(4)?, int(5)?),
            acl_categories: words(6),
            tips: words(7),
            key_specs: f[8].as_array().cloned().unwrap_or_default(),
            subcommands: f[9]
                .as_array()
                .map(|l| l.iter().collect())
                .unwrap_or_default(),
            name,
        })
    }
}

/// Adds the file of the command `e` (and of its subcommands) to `out`.
fn command(
    e: &Info<'_>,
    doc: Option<&Value>,
    container: Option<&str>,
    out: &mut Vec<LiveCommand>,
) -> Result<()> {
    let empty = Map::new();
    let doc = doc.and_then(Value::as_object).unwrap_or(&empty);
    let (word, file) = match (container, e.name.split_once('|')) {
        (Some(c), Some((_, sub))) => (sub.to_uppercase(), format!("{c}-{sub}").to_lowercase()),
        (Some(_), None) => bail!("subcommand {} has no container in its name", e.name),
        (None, _) => (e.name.to_uppercase(), e.name.to_lowercase()),
    };
    let module = doc.get("module").and_then(Value::as_str).map(str::to_owned);
    let mut c = Map::new();
    let summary = match doc.get("summary") {
        Some(s) => s.clone(),
        None => json!(match &module {
            Some(m) => format!(
                "The `{}` command of the `{m}` module (its server documents no summary).",
                e.name
            ),
            None => format!(
                "The `{}` command (its server documents no summary).",
                e.name
            ),
        }),
    };
    c.insert("summary".into(), summary);
    for key in ["complexity", "since"] {
        if let Some(v) = doc.get(key) {
            c.insert(key.into(), v.clone());
        }
    }
    // `COMMAND DOCS` spells the groups with dashes (`sorted-set`), the files with
    // underscores (`sorted_set`).
    let group = doc.get("group").and_then(Value::as_str).unwrap_or("module");
    c.insert("group".into(), json!(group.replace('-', "_")));
    c.entry("since").or_insert_with(|| json!("0.0.0"));
    c.insert("arity".into(), json!(e.arity));
    if let Some(container) = container {
        c.insert("container".into(), json!(container.to_uppercase()));
    }
    for key in ["history", "deprecated_since", "replaced_by", "reply_schema"] {
        if let Some(v) = doc.get(key) {
            c.insert(key.into(), v.clone());
        }
    }
    if let Some(flags) = doc.get("doc_flags").and_then(Value::as_array) {
        c.insert(
            "doc_flags".into(),
            upper(flags.iter().filter_map(Value::as_str)),
        );
    }
    let flags = e
        .flags
        .iter()
        .filter(|f| !matches!(f.as_str(), "module" | "movablekeys"));
    c.insert("command_flags".into(), upper(flags));
    if e.flags.iter().any(|f| f == "movablekeys") {
        c.insert(
            "get_keys_function".into(),
            json!("(COMMAND INFO: movablekeys)"),
        );
    }
    let acl = e.acl_categories.iter().map(|a| a.trim_start_matches('@'));
    c.insert("acl_categories".into(), upper(acl));
    c.insert("command_tips".into(), upper(&e.tips));
    let specs = e
        .key_specs
        .iter()
        .map(|k| key_spec(k).with_context(|| format!("COMMAND INFO {}: a key spec", e.name)))
        .collect::<Result<Vec<_>>>()?;
    let synthesized;
    if e.subcommands.is_empty() {
        let args = match doc.get("arguments").and_then(Value::as_array) {
            Some(args) => {
                synthesized = false;
                args.iter().map(argument).collect::<Result<Vec<_>>>()?
            }
            None => {
                let made = synthesize(e, &specs, if container.is_some() { 2 } else { 1 });
                synthesized = !made.is_empty();
                made
            }
        };
        c.insert("arguments".into(), Value::Array(args));
    } else {
        synthesized = false;
    }
    c.insert("key_specs".into(), Value::Array(specs));
    out.push(LiveCommand {
        file: format!("{file}.json"),
        module,
        synthesized,
        json: json!({ word: c }),
    });
    let sub_docs = doc.get("subcommands").and_then(Value::as_object);
    for sub in &e.subcommands {
        let s = Info::parse(sub)?;
        let sdoc = sub_docs.and_then(|d| {
            d.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&s.name))
                .map(|(_, v)| v)
        });
        command(&s, sdoc, Some(&e.name), out)?;
    }
    Ok(())
}

/// The words in upper case, as a JSON array.
fn upper<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Value {
    Value::Array(
        words
            .into_iter()
            .map(|w| json!(w.as_ref().to_uppercase()))
            .collect(),
    )
}

/// A key spec of `COMMAND INFO` in the spec's form.
fn key_spec(k: &Value) -> Result<Value> {
    let mut out = Map::new();
    if let Some(notes) = k.get("notes") {
        out.insert("notes".into(), notes.clone());
    }
    let flags = k.get("flags").and_then(Value::as_array);
    let flags = flags.map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>());
    out.insert("flags".into(), upper(flags.unwrap_or_default()));
    let part = |key: &str| -> Result<(String, Value)> {
        let p = k.get(key).with_context(|| format!("no {key}"))?;
        let ty = p.get("type").and_then(Value::as_str).unwrap_or("unknown");
        Ok((ty.to_owned(), p.get("spec").cloned().unwrap_or(Value::Null)))
    };
    let int = |spec: &Value, key: &str| -> Result<i64> {
        spec.get(key)
            .and_then(Value::as_i64)
            .with_context(|| format!("no integer {key} in {spec}"))
    };
    let begin = match part("begin_search")? {
        (t, s) if t == "index" => json!({"index": {"pos": int(&s, "index")?}}),
        (t, s) if t == "keyword" => json!({"keyword": {
            "keyword": s.get("keyword").cloned().unwrap_or(Value::Null),
            "startfrom": int(&s, "startfrom")?,
        }}),
        _ => json!({"unknown": null}),
    };
    let find = match part("find_keys")? {
        (t, s) if t == "range" => json!({"range": {
            "lastkey": int(&s, "lastkey")?,
            "step": int(&s, "keystep")?,
            "limit": int(&s, "limit")?,
        }}),
        (t, s) if t == "keynum" => json!({"keynum": {
            "keynumidx": int(&s, "keynumidx")?,
            "firstkey": int(&s, "firstkey")?,
            "step": int(&s, "keystep")?,
        }}),
        _ => json!({"unknown": null}),
    };
    out.insert("begin_search".into(), begin);
    out.insert("find_keys".into(), find);
    Ok(Value::Object(out))
}

/// An argument of `COMMAND DOCS` in the spec's form.
fn argument(a: &Value) -> Result<Value> {
    let obj = a
        .as_object()
        .with_context(|| format!("an argument that is not a map: {a}"))?;
    let mut out = Map::new();
    for (key, v) in obj {
        match key.as_str() {
            "display_text" => {
                out.insert("display".into(), v.clone());
            }
            "flags" => {
                for f in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    out.insert(f.to_owned(), json!(true));
                }
            }
            "arguments" => {
                let list = v.as_array().context("`arguments` is not an array")?;
                let children = list.iter().map(argument).collect::<Result<Vec<_>>>()?;
                out.insert(key.clone(), Value::Array(children));
            }
            _ => {
                out.insert(key.clone(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

/// Arguments made from `COMMAND INFO` for a command whose docs give none; `words` is
/// the number of words of its name (2 for a subcommand).
fn synthesize(e: &Info<'_>, specs: &[Value], words: i64) -> Vec<Value> {
    let at_least = e.arity.abs() - words;
    // The first key spec's index/range form, else the legacy positions.
    let (first, last, step) = specs
        .first()
        .and_then(|k| {
            let pos = k.pointer("/begin_search/index/pos")?.as_i64()?;
            let range = k.pointer("/find_keys/range")?;
            let last = range.get("lastkey")?.as_i64()?;
            let step = range.get("step")?.as_i64()?.max(1);
            Some((pos, if last < 0 { last } else { pos + last }, step))
        })
        .unwrap_or(e.first_last_step);
    let has_keys = first >= words;
    let to_the_end = has_keys && last < 0;
    let fixed_last = if has_keys && !to_the_end { last } else { 0 };
    let is_key = |p: i64| has_keys && p >= first && (p - first) % step.max(1) == 0;
    let key_count = (words..=fixed_last).filter(|&p| is_key(p)).count();
    let required_end = (words - 1 + at_least).max(fixed_last);
    let stop = if to_the_end { first - 1 } else { required_end };
    let key = |n: usize| {
        let name = if key_count == 1 {
            "key".to_owned()
        } else {
            format!("key{n}")
        };
        json!({"name": name, "type": "key", "key_spec_index": 0})
    };
    let mut args = Vec::new();
    let mut keys = 0;
    for p in words..=stop {
        if is_key(p) {
            keys += 1;
            args.push(key(keys));
        } else {
            args.push(json!({"name": format!("arg{}", p - words + 1), "type": "string"}));
        }
    }
    if to_the_end {
        let mut block = vec![json!({"name": "key", "type": "key", "key_spec_index": 0})];
        block.extend((1..step).map(|i| json!({"name": format!("arg{i}"), "type": "string"})));
        args.push(if block.len() == 1 {
            json!({"name": "key", "type": "key", "key_spec_index": 0, "multiple": true})
        } else {
            json!({"name": "keys", "type": "block", "multiple": true, "arguments": block})
        });
    } else if e.arity < 0 {
        args.push(json!({"name": "args", "type": "string", "optional": true, "multiple": true}));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `COMMAND INFO GRAPH.QUERY` as FalkorDB 4.16 (in Redis 8.2.3) answers it.
    fn graph_query_info() -> Value {
        json!(["graph.QUERY", -1, ["write", "denyoom", "module", "noscript", "blocking"], 1, 1, 1, [], [],
            [{"flags": ["RW", "access", "update"],
              "begin_search": {"type": "index", "spec": {"index": 1}},
              "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}}}],
            []])
    }

    fn only(docs: Value, info: Value) -> Value {
        let t = tree(&docs, &json!([info])).unwrap();
        assert_eq!(t.len(), 1);
        t[0].json
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone()
    }

    /// A module command without documented arguments: one key (its key spec), then
    /// the rest of a variadic arity as an optional list; flags and key-spec flags in
    /// the spec's spelling; the module's own flag dropped.
    #[test]
    fn an_undocumented_module_command_gets_arguments_from_its_info() {
        let docs = json!({"graph.QUERY": {"group": "module", "module": "graph"}});
        let t = tree(&docs, &json!([graph_query_info()])).unwrap();
        assert_eq!(t[0].file, "graph.query.json");
        assert_eq!(t[0].module.as_deref(), Some("graph"));
        assert!(t[0].synthesized);
        let c = &t[0].json["GRAPH.QUERY"];
        assert_eq!(c["arity"], json!(-1));
        assert_eq!(c["since"], json!("0.0.0"));
        assert_eq!(
            c["command_flags"],
            json!(["WRITE", "DENYOOM", "NOSCRIPT", "BLOCKING"])
        );
        assert_eq!(
            c["key_specs"],
            json!([{"flags": ["RW", "ACCESS", "UPDATE"],
                "begin_search": {"index": {"pos": 1}},
                "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}])
        );
        assert_eq!(
            c["arguments"],
            json!([
                {"name": "key", "type": "key", "key_spec_index": 0},
                {"name": "args", "type": "string", "optional": true, "multiple": true},
            ])
        );
        // The converted file parses as a spec file.
        let (name, spec) = crate::spec::parse_command(&t[0].json.to_string()).unwrap();
        assert_eq!(name, "GRAPH.QUERY");
        assert_eq!(spec.arguments.unwrap().len(), 2);
    }

    /// Fixed arity with keys at every other position; keys to the end of the line.
    #[test]
    fn key_positions_shape_the_made_arguments() {
        let info = json!(["m.pairs", 5, ["write"], 1, 3, 2, ["@write"], [], [], []]);
        let c = only(json!({}), info);
        let names: Vec<&str> = c["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["key1", "arg2", "key2", "arg4"]);
        assert_eq!(c["acl_categories"], json!(["WRITE"]));
        assert!(c["summary"].as_str().unwrap().contains("m.pairs"));

        let info = json!(["m.mset", -3, ["write"], 2, -1, 2, [], [], [], []]);
        let c = only(json!({}), info);
        assert_eq!(
            c["arguments"],
            json!([
                {"name": "arg1", "type": "string"},
                {"name": "keys", "type": "block", "multiple": true, "arguments": [
                    {"name": "key", "type": "key", "key_spec_index": 0},
                    {"name": "arg1", "type": "string"},
                ]},
            ])
        );
    }

    /// Documented arguments are kept, with the spec's key names; subcommands become
    /// files of their own beside their container's; movablekeys marks a key lookup.
    #[test]
    fn documented_commands_and_subcommands_convert() {
        let docs = json!({"object": {"summary": "A container.", "since": "2.2.3",
            "group": "generic", "subcommands": {"object|encoding": {
                "summary": "Encoding.", "since": "2.2.3", "group": "generic",
                "doc_flags": ["deprecated"],
                "arguments": [{"name": "key", "type": "key", "display_text": "key",
                    "key_spec_index": 0, "flags": ["optional", "multiple"]}]}}}});
        let info = json!(["object", -2, [], 0, 0, 0, ["@slow"], [], [], [
            ["object|encoding", 3, ["readonly", "movablekeys"], 2, 2, 1, ["@keyspace", "@read", "@slow"],
             ["nondeterministic_output"],
             [{"flags": ["RO"], "begin_search": {"type": "unknown", "spec": {}},
               "find_keys": {"type": "unknown", "spec": {}}}], []]]]);
        let t = tree(&docs, &json!([info])).unwrap();
        let files: Vec<&str> = t.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(files, ["object-encoding.json", "object.json"]);
        assert!(t[1].json["OBJECT"].get("arguments").is_none());
        let e = &t[0].json["ENCODING"];
        assert_eq!(e["container"], json!("OBJECT"));
        assert_eq!(e["doc_flags"], json!(["DEPRECATED"]));
        assert_eq!(e["command_tips"], json!(["NONDETERMINISTIC_OUTPUT"]));
        assert!(e.get("get_keys_function").is_some());
        assert_eq!(
            e["arguments"],
            json!([{"name": "key", "type": "key", "display": "key", "key_spec_index": 0,
                "optional": true, "multiple": true}])
        );
        assert_eq!(e["key_specs"][0]["begin_search"], json!({"unknown": null}));
        for c in &t {
            crate::spec::parse_command(&c.json.to_string()).unwrap();
        }
    }
}
