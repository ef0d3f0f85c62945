//! How well respec's generated commands fit one server: its `COMMAND DOCS` compared
//! with the generated metadata ([`meta::all`](crate::command::meta::all), each
//! command's [`ArgMeta`] tree). Sans-IO: the runtime's `Client::compatibility` sends
//! `COMMAND DOCS` and `HELLO` and hands their replies to [`Compatibility::compare`].

use crate::command::meta::{ArgMeta, CommandFlags, CommandMeta, Version};
use crate::error::{Error, Result};
use crate::reply::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// What respec and a server disagree on, from the server's `COMMAND DOCS`.
///
/// Each list is sorted by command name. Its [`Display`](fmt::Display) prints a
/// readable report, a section per list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compatibility {
    /// The server's name as `HELLO` gives it (`redis`, `valkey`), when it does.
    pub server: Option<String>,
    /// The server's version as `HELLO` gives it, when it does.
    pub version: Option<Version>,
    /// Commands respec has that the server does not document: sending them fails
    /// with an unknown-command error (the sentinel-only ones, flagged
    /// `ONLY_SENTINEL`, are here on any server that is not a sentinel).
    pub missing_commands: Vec<&'static CommandMeta>,
    /// The server's own commands (not a module's) that respec has no builder for
    /// (send them with `Client::cmd`): names in upper case, a subcommand with its
    /// container (`CLIENT KILL`).
    pub unknown_commands: Vec<String>,
    /// The commands of the server's modules (`COMMAND DOCS` gives their `module`).
    pub module_commands: Vec<ModuleCommand>,
    /// Arguments respec can send that the server's documentation of the command
    /// lacks (added in a newer version than the server's, or the other server's),
    /// for the commands both have and the server documents arguments of. An
    /// argument is looked for by name or token anywhere in the command's
    /// documentation (Redis and Valkey nest some differently); a block or choice is
    /// listed whole when none of its members is documented, otherwise its members
    /// that are not.
    pub missing_arguments: Vec<MissingArgument>,
}

/// A command of a server module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleCommand {
    /// The module's name (`graph`, `vectorset`).
    pub module: String,
    /// The command's name in upper case (`GRAPH.QUERY`).
    pub name: String,
}

/// An argument respec can send that a server does not document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingArgument {
    /// The command's metadata (its `name`: `SET`, `CLIENT KILL`).
    pub command: &'static CommandMeta,
    /// The argument's spec names from the top level down, `/`-separated
    /// (`condition/ifeq`, `filter/new-format/maxage`).
    pub path: String,
    /// The argument (its token, `since`, members).
    pub arg: &'static ArgMeta,
}

/// One command's documentation, as much of it as the comparison reads.
struct Doc {
    module: Option<String>,
    args: Vec<DocArg>,
    /// A container of subcommands (`CLIENT`): respec has its subcommands only.
    container: bool,
}

struct DocArg {
    name: String,
    token: Option<String>,
    /// A pure token: a word, not a value.
    pure_token: bool,
    args: Vec<DocArg>,
}

impl Compatibility {
    /// Compares a `COMMAND DOCS` reply (RESP2 or RESP3) with respec's metadata;
    /// `hello` is a `HELLO` reply (its `server` and `version`), if one is at hand.
    /// Fails only when `docs` is not a map (or a RESP2 array of pairs); fields it does
    /// not know are ignored.
    pub fn compare(docs: &Value, hello: Option<&Value>) -> Result<Compatibility> {
        let mut server_docs = BTreeMap::new();
        collect(docs, None, &mut server_docs)?;
        let field = |name: &str| {
            hello
                .and_then(pairs)
                .and_then(|p| {
                    p.into_iter()
                        .find(|(k, _)| text(k).as_deref() == Some(name))
                })
                .and_then(|(_, v)| text(v))
        };
        let mut report = Compatibility {
            server: field("server"),
            version: field("version").and_then(|v| Version::parse(&v)),
            missing_commands: Vec::new(),
            unknown_commands: Vec::new(),
            module_commands: Vec::new(),
            missing_arguments: Vec::new(),
        };
        for meta in crate::command::meta::all() {
            match server_docs.get(meta.name) {
                None => report.missing_commands.push(meta),
                // A server that documents no arguments (Redis 7.0's `COMMAND
                // GETKEYS`) says nothing about them.
                Some(doc) if doc.args.is_empty() => {}
                Some(doc) => {
                    let docs = Documented::new(&doc.args);
                    missing_args(meta, "", meta.args, &docs, &mut report)
                }
            }
        }
        for (name, doc) in server_docs {
            match doc.module {
                Some(module) => report.module_commands.push(ModuleCommand { module, name }),
                None if !doc.container && crate::command::meta::lookup(&name).is_none() => {
                    report.unknown_commands.push(name)
                }
                None => {}
            }
        }
        report.module_commands.sort();
        Ok(report)
    }

    /// True when the server documents every command and argument respec has, ignoring
    /// the sentinel-only commands (the server's extra commands are not counted).
    pub fn is_complete(&self) -> bool {
        self.missing_arguments.is_empty()
            && self
                .missing_commands
                .iter()
                .all(|m| m.flags.contains(CommandFlags::ONLY_SENTINEL))
    }
}

/// The names and tokens a server documents for one command, at any depth: Redis and
/// Valkey shape some arguments differently (Valkey's `XINFO STREAM [FULL [COUNT
/// count]]` is a block holding `FULL`, Redis's a block with the token `FULL`), so an
/// argument is looked for by name or token anywhere in the command's documentation.
#[derive(Default)]
struct Documented {
    names: HashSet<String>,
    tokens: HashSet<String>,
    /// The names of plain values (no members, not a pure token): where respec has a
    /// choice of words, such a server takes any word (Redis 7.0's `BITOP operation`,
    /// `CLIENT KILL SKIPME skipme`).
    values: HashSet<String>,
    /// The tokens of those values (Redis 7.0 names `SKIPME`'s value `yes/no`).
    value_tokens: HashSet<String>,
}

impl Documented {
    fn new(args: &[DocArg]) -> Self {
        fn walk(args: &[DocArg], out: &mut Documented) {
            for d in args {
                out.names.insert(normal_name(&d.name));
                if let Some(t) = &d.token {
                    out.tokens.insert(t.to_ascii_uppercase());
                }
                if d.args.is_empty() && !d.pure_token {
                    out.values.insert(normal_name(&d.name));
                    if let Some(t) = &d.token {
                        out.value_tokens.insert(t.to_ascii_uppercase());
                    }
                }
                walk(&d.args, out);
            }
        }
        let mut out = Documented::default();
        walk(args, &mut out);
        out
    }

    /// Whether `arg` itself is named (by name or token).
    fn has(&self, arg: &ArgMeta) -> bool {
        self.names.contains(&normal_name(arg.name))
            || arg
                .token
                .is_some_and(|t| self.tokens.contains(&t.to_ascii_uppercase()))
    }

    /// Whether a block or choice is documented: by its own name, by one of its
    /// members with a token, at any depth, or by one of its plain values (a member
    /// without token or members: Redis 7.0's `CLUSTER REPLICATE node_id` where
    /// Valkey has `node-id | NO ONE`).
    fn has_any(&self, arg: &ArgMeta) -> bool {
        fn tokened(docs: &Documented, args: &'static [ArgMeta]) -> bool {
            args.iter()
                .any(|a| (a.token.is_some() && docs.has(a)) || tokened(docs, a.args))
        }
        self.has(arg)
            || tokened(self, arg.args)
            || arg
                .args
                .iter()
                .any(|m| m.token.is_none() && m.args.is_empty() && self.has(m))
    }

    /// Whether the server takes any word where respec has `arg`'s members.
    fn is_value(&self, arg: &ArgMeta) -> bool {
        self.values.contains(&normal_name(arg.name))
            || arg
                .token
                .is_some_and(|t| self.value_tokens.contains(&t.to_ascii_uppercase()))
    }
}

/// A name with `_` read as `-` (Redis 7.0 writes `full_block`, Valkey `full-block`).
fn normal_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Records the arguments of `ours` the server does not document. An argument with a
/// token is documented when its name or token is; one without a token (a block or
/// a choice) when any of its members is, and its members are then looked at in
/// turn; a plain value without a token (`ACL CAT`'s `category`, which Redis names
/// `categoryname`) when its name is, or when it is not newer than the server (a
/// value the server takes under another name).
fn missing_args(
    meta: &'static CommandMeta,
    path: &str,
    ours: &'static [ArgMeta],
    docs: &Documented,
    report: &mut Compatibility,
) {
    for arg in ours {
        let documented = if arg.token.is_some() {
            docs.has(arg)
        } else if !arg.args.is_empty() {
            docs.has_any(arg)
        } else {
            docs.has(arg) || !matches!((arg.since, report.version), (Some(a), Some(v)) if a > v)
        };
        let path = if path.is_empty() {
            arg.name.to_owned()
        } else {
            format!("{path}/{}", arg.name)
        };
        if !documented {
            report.missing_arguments.push(MissingArgument {
                command: meta,
                path,
                arg,
            });
        } else if !docs.is_value(arg) {
            missing_args(meta, &path, arg.args, docs, report);
        }
    }
}

/// Reads the entries of a `COMMAND DOCS` map (a subcommand map when `container` is
/// given) into `out`, keyed by upper-case full name.
fn collect(docs: &Value, container: Option<&str>, out: &mut BTreeMap<String, Doc>) -> Result<()> {
    let entries = pairs(docs).ok_or_else(|| {
        Error::decode("a COMMAND DOCS map", format!("{:.60}", format!("{docs:?}")))
    })?;
    for (key, value) in entries {
        let Some(name) = text(key) else { continue };
        // Subcommands are keyed `client|kill`.
        let word = name.rsplit('|').next().unwrap_or(&name).to_uppercase();
        let full = match container {
            Some(c) => format!("{c} {word}"),
            None => word,
        };
        let mut doc = Doc {
            module: None,
            args: Vec::new(),
            container: false,
        };
        for (k, v) in pairs(value).unwrap_or_default() {
            match text(k).as_deref() {
                Some("module") => doc.module = text(v),
                Some("arguments") => doc.args = doc_args(v),
                Some("subcommands") => {
                    doc.container = true;
                    collect(v, Some(&full), out)?
                }
                _ => {}
            }
        }
        out.insert(full, doc);
    }
    Ok(())
}

fn doc_args(v: &Value) -> Vec<DocArg> {
    let (Value::Array(items) | Value::Set(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let mut arg = DocArg {
                name: String::new(),
                token: None,
                pure_token: false,
                args: Vec::new(),
            };
            for (k, v) in pairs(item)? {
                match text(k).as_deref() {
                    Some("name") => arg.name = text(v).unwrap_or_default(),
                    Some("token") => arg.token = text(v),
                    Some("type") => arg.pure_token = text(v).as_deref() == Some("pure-token"),
                    Some("arguments") => arg.args = doc_args(v),
                    _ => {}
                }
            }
            Some(arg)
        })
        .collect()
}

/// The pairs of a map, or of a RESP2 array of alternating keys and values.
fn pairs(v: &Value) -> Option<Vec<(&Value, &Value)>> {
    match v {
        Value::Map(m) => Some(m.iter().map(|(k, v)| (k, v)).collect()),
        Value::Array(a) if a.len() % 2 == 0 => {
            Some(a.chunks_exact(2).map(|p| (&p[0], &p[1])).collect())
        }
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = self.server.as_deref().unwrap_or("the server");
        match self.version {
            Some(v) => writeln!(f, "respec's commands against {server} {v}")?,
            None => writeln!(f, "respec's commands against {server}")?,
        }
        writeln!(
            f,
            "\nCommands respec has that the server lacks ({}):",
            self.missing_commands.len()
        )?;
        for m in &self.missing_commands {
            let sentinel = if m.flags.contains(CommandFlags::ONLY_SENTINEL) {
                ", sentinel only"
            } else {
                ""
            };
            writeln!(f, "  {} (since {}{sentinel})", m.name, m.since)?;
        }
        writeln!(
            f,
            "\nArguments respec can send that the server does not document ({}):",
            self.missing_arguments.len()
        )?;
        for a in &self.missing_arguments {
            write!(f, "  {} {}", a.command.name, a.path)?;
            if let Some(t) = a.arg.token {
                write!(f, " ({t})")?;
            }
            match a.arg.since {
                Some(v) => writeln!(f, " since {v}")?,
                None => writeln!(f)?,
            }
        }
        writeln!(
            f,
            "\nServer commands respec lacks ({}):",
            self.unknown_commands.len()
        )?;
        for name in &self.unknown_commands {
            writeln!(f, "  {name}")?;
        }
        write!(f, "\nModule commands ({}):", self.module_commands.len())?;
        let mut module = None;
        for c in &self.module_commands {
            if module != Some(&c.module) {
                write!(f, "\n  {}:", c.module)?;
                module = Some(&c.module);
            }
            write!(f, " {}", c.name)?;
        }
        writeln!(f)
    }
}
