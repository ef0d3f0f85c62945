//! The lowered model: what the emitter needs, with the spec's quirks resolved.

use crate::overrides::Route;
use crate::reply::ReplyTy;
use crate::spec;
use std::collections::BTreeMap;

/// One command or subcommand.
#[derive(Debug, Clone)]
pub struct Command {
    /// Full name in upper case: `SET`, `CLIENT KILL`.
    pub name: String,
    /// The container of a subcommand (`CLIENT`).
    pub container: Option<String>,
    /// The spec file it came from.
    pub file: String,
    /// One-sentence summary.
    pub summary: String,
    /// Complexity text.
    pub complexity: Option<String>,
    /// Documentation group (`string`, `sorted_set`).
    pub group: String,
    /// First version.
    pub since: String,
    /// Arity (negative: at least).
    pub arity: i64,
    /// `[version, change]` pairs.
    pub history: Vec<(String, String)>,
    /// Command flags, upper case, sorted.
    pub flags: Vec<String>,
    /// ACL categories, explicit and implicit, upper case, sorted.
    pub acl_categories: Vec<String>,
    /// Command tips (`REQUEST_POLICY:ALL_SHARDS`, `NONDETERMINISTIC_OUTPUT`).
    pub tips: Vec<String>,
    /// Key specifications.
    pub key_specs: Vec<spec::KeySpec>,
    /// Deprecated since.
    pub deprecated_since: Option<String>,
    /// Replacement of a deprecated command.
    pub replaced_by: Option<String>,
    /// The server locates the keys with command-specific code (`get_keys_function`).
    pub custom_keys: bool,
    /// A system command (`SYSCMD` doc flag).
    pub syscmd: bool,
    /// Top-level arguments in wire order.
    pub args: Vec<Arg>,
    /// The arguments as the spec (and the server's `COMMAND DOCS`) names them, before
    /// the overrides reshape them: what the compatibility metadata compares.
    pub spec_args: Vec<spec::ArgSpec>,
    /// The reply schema (RESP3), if the spec has one.
    pub reply_schema: Option<serde_json::Value>,
    /// A note for the docs from `spec/overrides.toml` (how the runtime treats it).
    pub doc_note: Option<String>,
    /// How the runtime routes it, from `spec/overrides.toml` (`None`: the shared
    /// connection, or what its flags say).
    pub route: Option<Route>,
    /// Tokens that make a `multi_shard` command unsplittable across slots when given
    /// (`MSETEX`'s `NX`, `XX`), from `spec/overrides.toml` (`[[no_split]]`).
    pub no_split_with: Vec<String>,
    /// The reply type once an option is given, by the option's argument path
    /// (`withscores`), from `spec/overrides.toml`.
    pub reply_options: BTreeMap<String, ReplyTy>,
}

impl Command {
    /// Words of the name (`["CLIENT", "KILL"]`).
    pub fn words(&self) -> Vec<&str> {
        self.name.split(' ').collect()
    }

    /// Why the command gets no generated API (the runtime owns it), if it does not.
    pub fn excluded(&self) -> Option<&str> {
        self.route.as_ref().and_then(Route::excludes)
    }

    /// Every argument's path (`count`, `count/withscores`), depth first.
    pub fn arg_paths(&self) -> Vec<String> {
        fn walk(path: &str, args: &[Arg], out: &mut Vec<String>) {
            for a in args {
                let p = child_path(path, a);
                walk(&p, a.children(), out);
                out.push(p);
            }
        }
        let mut out = Vec::new();
        walk("", &self.args, &mut out);
        out
    }

    /// Whether the command has a flag.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// Units the spec implies through argument names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntUnit {
    /// A plain integer.
    Plain,
    /// A count of seconds.
    Seconds,
    /// A count of milliseconds.
    Millis,
    /// A bit offset, or a positional one (`#N`: N times the encoding's width).
    BitOffset,
}

/// What a `double` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoubleUnit {
    /// A plain number (scores, coordinates).
    Plain,
    /// A blocking timeout in seconds (fraction allowed).
    TimeoutSeconds,
}

/// The kind of an argument.
#[derive(Debug, Clone)]
pub enum ArgKind {
    /// A key name.
    Key,
    /// A string.
    String,
    /// A glob pattern.
    Pattern,
    /// An integer.
    Integer(IntUnit),
    /// A double.
    Double(DoubleUnit),
    /// A Unix time; `millis` when in milliseconds.
    UnixTime {
        /// Milliseconds rather than seconds.
        millis: bool,
    },
    /// A fixed word (the `token`).
    PureToken,
    /// The count of the following sibling's items, computed (`numkeys`).
    NumItems,
    /// Exactly one of these.
    OneOf(Vec<Arg>),
    /// All of these, in order.
    Block(Vec<Arg>),
}

/// One argument.
#[derive(Debug, Clone)]
pub struct Arg {
    /// The spec name (`unix-time-seconds`).
    pub name: String,
    /// Kind.
    pub kind: ArgKind,
    /// A word written before the value (or the value itself for pure tokens).
    pub token: Option<String>,
    /// May be left out.
    pub optional: bool,
    /// May be repeated.
    pub multiple: bool,
    /// Each repetition is preceded by the token.
    pub multiple_token: bool,
    /// Version that added it.
    pub since: Option<String>,
    /// Deprecated since.
    pub deprecated_since: Option<String>,
    /// Free text from the spec (`summary`, `description` or `display`).
    pub summary: Option<String>,
    /// Display name (`ip:port`).
    pub display: Option<String>,
    /// The required choice this option came from, when the overrides flattened it:
    /// one option of the group must be given.
    pub group: Option<String>,
    /// A stream entry ID, and what it also takes besides an ID (`$`, `(`, `ms-*`),
    /// from `spec/overrides.toml` (`[[stream_id]]`): checked before sending.
    pub stream_id: Option<Vec<String>>,
    /// A block whose children are options of their own (`.maxlen(n)`, `.approx()`),
    /// with the method names the overrides give in place of the children's
    /// (`[[flatten]]`).
    pub flat: Option<BTreeMap<String, String>>,
}

/// The path of argument `a` under the path `path` of its parent (`""` at the top):
/// `count/withscores`. Overrides name arguments by it.
pub fn child_path(path: &str, a: &Arg) -> String {
    if path.is_empty() {
        a.name.clone()
    } else {
        format!("{path}/{}", a.name)
    }
}

impl Arg {
    /// The children of a block or oneof.
    pub fn children(&self) -> &[Arg] {
        match &self.kind {
            ArgKind::OneOf(c) | ArgKind::Block(c) => c,
            _ => &[],
        }
    }

    /// True for a oneof whose alternatives are all pure tokens.
    pub fn is_token_choice(&self) -> bool {
        matches!(&self.kind, ArgKind::OneOf(alts) if alts.iter().all(|a| matches!(a.kind, ArgKind::PureToken) && !a.multiple))
    }

    /// The tokens of a pure-token oneof, in spec order.
    pub fn choice_tokens(&self) -> Vec<String> {
        self.children()
            .iter()
            .map(|a| a.token.clone().unwrap_or_default())
            .collect()
    }

    /// The syntax of this argument as the docs show it (`[NX | XX]`).
    pub fn syntax(&self) -> String {
        let inner = match &self.kind {
            ArgKind::PureToken => self.token.clone().unwrap_or_default(),
            ArgKind::OneOf(alts) => {
                let parts: Vec<String> = alts.iter().map(Arg::syntax).collect();
                let body = parts.join(" | ");
                let body = match &self.token {
                    Some(t) => format!("{t} {body}"),
                    None => body,
                };
                if self.optional {
                    body
                } else {
                    format!("<{body}>")
                }
            }
            ArgKind::Block(children) => {
                let parts: Vec<String> = children.iter().map(Arg::syntax).collect();
                let body = parts.join(" ");
                match &self.token {
                    Some(t) => format!("{t} {body}"),
                    None => body,
                }
            }
            _ => {
                let v = self.display.clone().unwrap_or_else(|| self.name.clone());
                match &self.token {
                    Some(t) => format!("{t} {v}"),
                    None => v,
                }
            }
        };
        let inner = if self.multiple {
            if self.multiple_token {
                format!("{inner} [{inner} ...]")
            } else {
                let item = match (&self.token, &self.kind) {
                    (Some(t), ArgKind::PureToken) => t.clone(),
                    (Some(t), _) => inner.trim_start_matches(t.as_str()).trim().to_string(),
                    _ => inner.clone(),
                };
                format!("{inner} [{item} ...]")
            }
        } else {
            inner
        };
        if self.optional {
            format!("[{inner}]")
        } else {
            inner
        }
    }
}
